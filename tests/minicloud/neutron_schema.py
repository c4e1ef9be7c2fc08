# neutron_schema.py: creates Neutron's tables from its models (Debian python3), since its migrations fail on sqlite.
import sys

import sqlalchemy
from neutron.db.migration.models import head  # noqa: F401  (imports every model)
from neutron_lib.db import model_base


def main():
    engine = sqlalchemy.create_engine(sys.argv[1])
    model_base.BASEV2.metadata.create_all(engine)


if __name__ == "__main__":
    main()
