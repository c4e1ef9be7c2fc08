#!/usr/bin/env bash
# mk/test-lanes.sh - the bats suite in two lanes side by side (make test).
# The suites that start a minicloud spend most of their time waiting for
# boots, API calls and measurements: they run one after another in the
# first lane, whose TAP output streams live.  Every other suite runs in
# the second lane at the same time; its output is printed when both lanes
# have ended.  Each lane runs its files one at a time, in name order, as
# one bats run would.  Exits 0 only when both lanes passed.
#   usage: mk/test-lanes.sh [BATS_OPTION...]      (BATS names the bats to run)
# TEST_LANES=1 runs every suite in one lane, one file after another.
# LANE2_THEN, a command, runs in the second lane after its suites (make
# check puts the sanitizer pipeline there), whatever they gave.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bats=${BATS:-bats}
cloud=() plain=()
for f in tests/bats/*.bats; do
	if grep -q '^load helpers/minicloud' "$f"; then
		cloud+=("$f")
	else
		plain+=("$f")
	fi
done
if [ "${TEST_LANES:-2}" = 1 ]; then
	"$bats" "$@" tests/bats
	st=$?
	if [ -n "${LANE2_THEN:-}" ]; then
		sh -c "$LANE2_THEN" || st=1
	fi
	exit $st
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
	"$bats" "$@" "${plain[@]}"
	st=$?
	if [ -n "${LANE2_THEN:-}" ]; then
		sh -c "$LANE2_THEN" || st=1
	fi
	exit $st
} >"$out" 2>&1 &
pid=$!
"$bats" "$@" "${cloud[@]}"
cloud_status=$?
wait "$pid"
plain_status=$?
echo "# the suites without a cloud (second lane):"
cat "$out"
[ "$cloud_status" -eq 0 ] && [ "$plain_status" -eq 0 ]
