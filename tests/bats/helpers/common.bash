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

# Nothing of the machine's user reaches a test, nor of an earlier run: each
# file gets an empty HOME of its own (no ~/.vmtp.yaml, ~/.ssh/known_hosts,
# clouds.yaml or journals), and no OS_* credentials, XDG folders or
# ssh-agent of the caller's.  Once per file, so that what setup_file
# exports (XDG_STATE_HOME, ...) reaches its tests.
if [ "${VMTP_TEST_FILE_ENV:-}" != "$BATS_FILE_TMPDIR" ]; then
	unset XDG_STATE_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME SSH_AUTH_SOCK NO_COLOR
	for _v in $(compgen -v OS_); do
		unset "$_v"
	done
	unset _v
	export VMTP_TEST_FILE_ENV=$BATS_FILE_TMPDIR
fi
export HOME=$BATS_FILE_TMPDIR/home
mkdir -p "$HOME"

# has_record FILE FILTER: FILE (NDJSON) holds a record that the jq FILTER,
# a select(), lets through.  jq -e alone tells nothing of the kind: jq 1.6
# exits 0 on an empty file, and a file being written may end in half a
# record.
has_record() {
	[ -n "$(jq -c "$2" "$1" 2>/dev/null | head -n 1)" ]
}
