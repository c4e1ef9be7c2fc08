# shellcheck shell=bash
# bench/table.sh - one row of `make bench`'s table (mk/bench.sh).  A
# benchmark prints its figures as it likes; for each figure that has a goal
# it also calls
#   bench_row FIGURE VALUE RATIO GOAL
# FIGURE names what was measured and on what ("vmtp-run / by hand, 2 flows
# TCP+ICMP"), VALUE is the measured figure with its unit ("27.7 s"), RATIO a
# number, GOAL "<= N", ">= N" or "N..M" (inclusive).  The row goes to stdout
# and, when BENCH_TABLE names a file, is appended to it, tab separated, with
# "met" or "MISSED".
# bench_ratio A B [DECIMALS]: A / B rounded to DECIMALS (default 3), with
# its leading zero ("0.875", where bc wrote ".875"); a peak RSS against
# 16 MiB takes 4, so that 1 KiB over it reads 1.0001, not 1.000 (met)
bench_ratio() {
	awk -v a="$1" -v b="$2" -v d="${3:-3}" 'BEGIN { printf("%." d "f\n", a / b) }'
}

bench_row() {
	local met
	met=$(awk -v r="$3" -v g="$4" 'BEGIN {
		n = split(g, a, " ")
		if (n == 2 && a[1] == "<=") ok = (r + 0 <= a[2] + 0)
		else if (n == 2 && a[1] == ">=") ok = (r + 0 >= a[2] + 0)
		else if (split(g, b, /\.\./) == 2) ok = (r + 0 >= b[1] + 0 && r + 0 <= b[2] + 0)
		else { print "bad-goal"; exit }
		print ok ? "met" : "MISSED"
	}')
	printf 'bench: %s: %s, ratio %s (goal %s): %s\n' "$1" "$2" "$3" "$4" "$met"
	if [ -n "${BENCH_TABLE:-}" ]; then
		printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$met" >>"$BENCH_TABLE"
	fi
}

# gnuplot_detached DIR: makes DIR/gnuplot, which runs the real gnuplot in a
# session of its own (setsid -f), not waited for: with DIR first in PATH,
# /usr/bin/time's peak RSS of vmtp-chart is its own, not its gnuplot's
# (the kernel folds a waited-for child's peak into its parent's)
gnuplot_detached() {
	mkdir -p "$1"
	printf '#!/bin/sh\nexec setsid -f %s "$@"\n' "$(command -v gnuplot)" >"$1/gnuplot"
	chmod +x "$1/gnuplot"
}

# neutron_busy LOG FROM TO: the test cloud's Neutron time, from its log LOG
# (neutron.log: each request's "time:"), for the requests it finished
# between the epoch seconds FROM and TO: "BUSY DELETES", DELETES being that
# of the DELETE and remove_router_interface requests alone.  Its API worker
# takes one request at a time (tests/minicloud/services.sh): with BUSY near
# TO - FROM the cloud, not its client, set the pace, and no client that has
# to make those deletes ends sooner than DELETES.
neutron_busy() {
	awk -v from="$2" -v to="$3" '
	/ neutron\.wsgi .* "[A-Z]+ \/v2\.0/ && / time: / {
		split($1, d, "-")
		split($2, t, ":")
		s = mktime(d[1] " " d[2] " " d[3] " " t[1] " " t[2] " 0") + t[3]
		if (s < from || s > to)
			next
		x = $0
		sub(/.* time: /, "", x)
		busy += x
		if ($0 ~ /"DELETE / || $0 ~ /\/remove_router_interface /)
			del += x
	}
	END { printf "%.2f %.2f\n", busy, del }' "$1"
}

# gnuplot_least_rss: the peak RSS in KiB (the median of 5) of gnuplot
# drawing the least SVG chart there is (plot x), the script on its stdin:
# the floor of any stage that draws with it, whatever it draws (gnuplot-nox
# maps some 80 libraries)
gnuplot_least_rss() {
	local i
	for i in 1 2 3 4 5; do
		printf 'set terminal svg\nplot x\n' |
			/usr/bin/time -f %M gnuplot 2>&1 >/dev/null | tail -n 1
	done | sort -n | sed -n 3p
}
