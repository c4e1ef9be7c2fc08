# helpers/common.bash - what every suite needs: the programs under test on
# PATH (VMTP_BIN from the Makefile, else the tree's bin/), the test drivers
# (VMTP_TOOLS, else build/tests), and the shared reference files.
bats_require_minimum_version 1.5.0

VMTP_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
VMTP_BIN=${VMTP_BIN:-$VMTP_ROOT/bin}
VMTP_TOOLS=${VMTP_TOOLS:-$VMTP_ROOT/build/tests}
VMTP_SHARED=${VMTP_SHARED:-$VMTP_ROOT/../shared}
FIXTURES=$BATS_TEST_DIRNAME/fixtures
PATH=$VMTP_BIN:$VMTP_TOOLS:$PATH
export PATH VMTP_ROOT VMTP_SHARED FIXTURES
