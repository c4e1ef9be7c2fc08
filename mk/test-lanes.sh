#!/usr/bin/env bash
# mk/test-lanes.sh - the bats suite in lanes side by side (make test).
# The suites that start a minicloud spend most of their time waiting for
# boots, API calls and measurements: CLOUD_LANES lanes (default 2) take
# them one file at a time from one queue, the longest first, each file
# with a minicloud of its own (clouds come up one at a time and never
# share a port or a network; see tests/minicloud).  Every other suite runs
# in one more lane at the same time, in name order.  The first cloud
# lane's TAP output streams live; the others' is printed when every lane
# has ended.  Exits 0 only when every lane passed.
#   usage: mk/test-lanes.sh [BATS_OPTION...]      (BATS names the bats to run)
# TEST_LANES=1 runs every suite in one lane, one file after another.
# LANE2_THEN, a command, runs in the lane of the other suites after them
# (make check puts the sanitizer pipeline there), whatever they gave.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bats=${BATS:-bats}
lanes=${CLOUD_LANES:-2}

# The cloud suites that take longest, first: a lane that takes one last
# would finish long after the others.
longest="vmtp-provision-cloud vmtp-cloud faults-cloud chaos minicloud-datapath"
cloud=() plain=()
for name in $longest; do
	[ -e "tests/bats/$name.bats" ] && cloud+=("tests/bats/$name.bats")
done
for f in tests/bats/*.bats; do
	case " $longest " in *" $(basename "$f" .bats) "*) continue ;; esac
	if grep -q '^load helpers/minicloud' "$f"; then
		cloud+=("$f")
	else
		plain+=("$f")
	fi
done

then_cmd() {
	[ -z "${LANE2_THEN:-}" ] || sh -c "$LANE2_THEN"
}

if [ "${TEST_LANES:-}" = 1 ]; then
	"$bats" "$@" tests/bats
	st=$?
	then_cmd || st=1
	exit $st
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 0 >"$tmp/next"

# cloud_lane: runs the next file of the queue until none is left; exits 1
# when one failed.
cloud_lane() {
	local i st=0
	while :; do
		# shellcheck disable=SC2016 # the inner shell expands them
		i=$(flock "$tmp/next" sh -c 'i=$(cat "$1"); echo $((i + 1)) >"$1"; echo "$i"' sh "$tmp/next")
		[ "$i" -lt "${#cloud[@]}" ] || break
		"$bats" "$@" "${cloud[$i]}" || st=1
	done
	return $st
}

pids=()
{
	"$bats" "$@" "${plain[@]}"
	st=$?
	then_cmd || st=1
	exit $st
} >"$tmp/plain" 2>&1 &
pids+=($!)
for ((l = 2; l <= lanes; l++)); do
	cloud_lane "$@" >"$tmp/cloud$l" 2>&1 &
	pids+=($!)
done
st=0
cloud_lane "$@" || st=1
for p in "${pids[@]}"; do
	wait "$p" || st=1
done
for ((l = 2; l <= lanes; l++)); do
	echo "# cloud suites, lane $l:"
	cat "$tmp/cloud$l"
done
echo "# the suites without a cloud:"
cat "$tmp/plain"
exit $st
