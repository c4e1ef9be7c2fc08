#!/bin/bash
# mk/bench.sh - `make bench`: every benchmark under bench/, one after
# another (each measures its reference in the same run), then one table of
# every figure that has a goal: figure, value, ratio, goal, met.  A
# benchmark's own output goes to $BENCH_LOG (default build/bench.log).
# Root (namespace hosts, the minicloud); after `make`.
#   mk/bench.sh [BENCH...]       (default: all of them, in the order below)
set -u
cd "$(dirname "$0")/.." || exit 1
benches=("$@")
if [ ${#benches[@]} -eq 0 ]; then
	benches=(e2e provision run-overhead accuracy.sh udp-search.sh chart-200 mesh-scale)
fi
log=${BENCH_LOG:-build/bench.log}
mkdir -p "$(dirname "$log")"
: >"$log"
table=$(mktemp)
trap 'rm -f "$table"' EXIT
export BENCH_TABLE=$table
failed=0
for b in "${benches[@]}"; do
	if [ ! -x "bench/$b" ]; then
		echo "make bench: no benchmark bench/$b" >&2
		exit 2
	fi
	t0=$(date +%s)
	echo "==> bench/$b" | tee -a "$log" >&2
	if ! "bench/$b" >>"$log" 2>&1; then
		echo "make bench: bench/$b failed (its output: $log)" >&2
		failed=1
	fi
	echo "    $(($(date +%s) - t0)) s" >&2
done
echo
awk -F'\t' '
	{ r[NR] = $0; if (length($1) > w) w = length($1); if (length($2) > v) v = length($2) }
	END {
		printf "%-*s  %-*s  %7s  %-12s  %s\n", w, "figure", v, "value", "ratio", "goal", "met"
		for (i = 1; i <= NR; i++) {
			split(r[i], f, "\t")
			printf "%-*s  %-*s  %7s  %-12s  %s\n", w, f[1], v, f[2], f[3], f[4], f[5]
		}
	}' "$table"
exit $failed
