#!/bin/bash
# bench/udp-probe-tools.sh - do iperf3's UDP probes tell what nuttcp
# measures?  vmtp-run's search probes with iperf3 (1 s of wall time a
# probe, nuttcp's 3.3 s) and reports one nuttcp run at the rate found
# (SPEC §8), so the two must see the same loss at the same rate.  On the
# paths of bench/udp-search.sh (two namespace hosts, a knee made by a tbf
# rate limit on the server's bridge port), for each packet size, both
# tools by hand at the same rates around the knee, one second each: at
# each rate nuttcp, iperf3, then nuttcp again, and after it:
#   path size rate_kbps | nuttcp | iperf3 | nuttcp again (loss %) | sides
# where the sides say whether a probe falls under, inside or over the loss
# bracket.  The summary gives how often iperf3 falls on the side nuttcp
# does, against how often nuttcp falls on the side it fell on a moment
# before (what the path's own noise allows), and the mean difference in
# loss where none lost (nearly) everything.  Not a test, no goal:
# evidence for the search's design.
#   bench/udp-probe-tools.sh [MIN MAX]        (root; after make)
set -eu
. "$(dirname "$0")/lib.sh"
LMIN=${1:-2}
LMAX=${2:-5}
PATHS="tbf-100:100000:tbf rate 100mbit burst 32kb latency 20ms
tbf-250:250000:tbf rate 250mbit burst 32kb latency 10ms
tbf-400:400000:tbf rate 400mbit burst 64kb latency 20ms
tbf-700:700000:tbf rate 700mbit burst 128kb latency 5ms"
SIZES=${SIZES:-1024 8192}
# the rates, as shares of the payload rate the token bucket lets through
SHARES=${SHARES:-0.94 0.97 0.99 1.00 1.01 1.02 1.04 1.07 1.10}
nshosts_up 2
target=$(nsh_ip 1)
port=${NSH_P}h1
# as bench/udp-search.sh: a probe over the knee must not poison the next
# with incomplete datagrams of several fragments
nth 1 sysctl -qw net.ipv4.ipfrag_time=1
nth 1 nuttcp -S --nofork -P 5300 -p 5301 &
nut_srv=$!
nth 1 iperf3 -s -p 5302 >/dev/null 2>&1 &
ip3_srv=$!
trap 'kill $nut_srv $ip3_srv 2>/dev/null; bench_cleanup' EXIT
until nth 1 ss -Hltn 'sport = :5300' | grep -q . &&
	nth 1 ss -Hltn 'sport = :5302' | grep -q .; do
	sleep 0.05
done
# nut(rate_kbps, size) / ip3(rate_kbps, size): the loss in percent of one
# 1-second probe, or "-" when the tool gave none; iperf3's as vmtp-run
# reads it (libvmtp/parse.c): what was sent less what arrived, since its
# own lost_percent misses what was lost after the last datagram received
nut() {
	nth 2 nuttcp -fparse -T 1 -u -R "$1" -l "$2" -P 5300 -p 5301 "$target" 2>/dev/null |
		sed -n 's/.*data_loss=\([0-9.]*\).*/\1/p' | grep . || echo -
}
ip3() {
	nth 2 iperf3 -J -c "$target" -p 5302 -u -b "${1}K" -l "$2" -t 1 2>/dev/null |
		jq -r '.end.sum_sent.packets as $s | .end.sum_received as $r |
			if $s != null and $s > 0 and $r != null
			then 100 * ($s - ($r.packets - $r.lost_packets)) / $s
			else .end.sum.lost_percent end |
			if . == null then "-" else . * 100 | round / 100 end' 2>/dev/null || echo -
}
# side(loss): under, in or over the bracket
side() {
	awk -v l="$1" -v a="$LMIN" -v b="$LMAX" 'BEGIN {
		if (l == "-") print "-"; else if (l < a) print "under"; else if (l > b) print "over"; else print "in" }'
}
: >"$B/pairs"
printf '%-8s %5s %9s | %8s | %8s | %8s | %s\n' path size rate_kbps nuttcp iperf3 nuttcp sides
while IFS=: read -r name kbps qdisc; do
	# shellcheck disable=SC2086
	tc qdisc replace dev "$port" root $qdisc
	for size in $SIZES; do
		# what the bucket lets through of the payload: IPv4 and UDP
		# headers, Ethernet's on each fragment
		knee=$(awk -v r="$kbps" -v s="$size" 'BEGIN {
			f = (s > 1472) ? int((s + 8 + 1479) / 1480) : 1
			printf "%d", r * s / (s + 8 + f * 34) }')
		for f in $SHARES; do
			rate=$(awk -v k="$knee" -v f="$f" 'BEGIN { printf "%d", k * f }')
			ln=$(nut "$rate" "$size")
			sleep 0.5
			li=$(ip3 "$rate" "$size")
			sleep 0.5
			l2=$(nut "$rate" "$size")
			sleep 0.5
			printf '%-8s %5s %9s | %8s | %8s | %8s | %s %s %s\n' "$name" "$size" "$rate" \
				"$ln" "$li" "$l2" "$(side "$ln")" "$(side "$li")" "$(side "$l2")"
			echo "$ln $li $l2" >>"$B/pairs"
		done
	done
	tc qdisc del dev "$port" root
done <<<"$PATHS"
echo
awk -v a="$LMIN" -v b="$LMAX" '
	function side(l) { return l < a ? 0 : (l > b ? 2 : 1) }
	$1 != "-" && $2 != "-" && $3 != "-" { n++
		if (side($2) == side($1)) si1++
		if (side($2) == side($3)) si2++
		if (side($3) == side($1)) nn++
		if ($1 < 50 && $2 < 50 && $3 < 50) { m++; d += $2 - ($1 + $3) / 2
			dn += ($3 > $1) ? $3 - $1 : $1 - $3
			di += ($2 > $1) ? $2 - $1 : $1 - $2 } }
	END {
		printf "loss bracket [%s, %s] %%, %d rates: on the side of the nuttcp probe before it, iperf3 %d, nuttcp again %d; iperf3 on the side of the nuttcp probe after it %d\n", a, b, n, si1, nn, si2
		if (m > 0)
			printf "where none lost 50 %% or more (%d rates): iperf3 - mean of the two nuttcp, %+.2f points; |iperf3 - nuttcp| %.2f, |nuttcp again - nuttcp| %.2f points on average\n",
				m, d / m, di / m, dn / m
	}' "$B/pairs"
