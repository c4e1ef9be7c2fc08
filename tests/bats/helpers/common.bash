# common.bash - shared setup of the bats suites: the programs under test on
# PATH ($VMTP_BIN, set by the Makefile, else the repository's bin/), the
# test drivers in $VMTP_TOOLS, and where the repository is.
#
#   load helpers/common

REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
VMTP_BIN="${VMTP_BIN:-$REPO_ROOT/bin}"
VMTP_TOOLS="${VMTP_TOOLS:-$REPO_ROOT/build/tests}"
PATH="$VMTP_BIN:$PATH"
export REPO_ROOT VMTP_BIN VMTP_TOOLS PATH
