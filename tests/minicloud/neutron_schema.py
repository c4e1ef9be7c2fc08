# neutron_schema.py: creates Neutron's tables from its models (Debian python3), since its migrations fail on sqlite.
#
# Usage: neutron_schema.py DATABASE_URL   (then `neutron-db-manage ... stamp heads`, as services.sh does)
import importlib
import sys

import sqlalchemy
from neutron_lib.db import model_base


def main():
    importlib.import_module("neutron.db.migration.models.head")  # registers every model on BASEV2
    engine = sqlalchemy.create_engine(sys.argv[1])
    model_base.BASEV2.metadata.create_all(engine)


if __name__ == "__main__":
    main()
