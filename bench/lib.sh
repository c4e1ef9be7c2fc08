# bench/lib.sh - what the benchmarks share: the test suite's namespace hosts
# (tests/bats/helpers/nshosts.bash) and the programs of this tree.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=table.sh
. "$ROOT/bench/table.sh"
PATH=$ROOT/bin:$PATH
BATS_FILE_TMPDIR=$(mktemp -d /tmp/vmtp-bench.XXXXXX)
# shellcheck source=../tests/bats/helpers/nshosts.bash
. "$ROOT/tests/bats/helpers/nshosts.bash"
bench_cleanup() {
	nshosts_down
	rm -rf "$BATS_FILE_TMPDIR"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
B=$BATS_FILE_TMPDIR
printf 'ssh_retry_count: 1\n' > "$B/vmtp.yaml"
vr() {
	vmtp-run -q -c "$B/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" "$@"
}
# nth(host, command...): run a command inside host N's namespace
nth() {
	local i=$1
	shift
	ip netns exec "$(nsh_ns "$i")" "$@"
}
