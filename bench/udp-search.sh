#!/bin/bash
# bench/udp-search.sh - the UDP rate search (SPEC §8) on real paths: two
# namespace hosts joined by veth, with a knee made by tc (a tbf rate limit
# on the server's bridge port).  For each path and packet size:
#   1. its loss curve, measured with nuttcp by hand at rates from 20 Mbit/s
#      to 10 Gbit/s (1 s each), and in 1-3 % steps around the knee;
#   2. vmtp's search and the original tool's bisection replayed on that
#      curve (bench/udp-replay.c): probes, and whether the final loss lies
#      in the bracket;
#   3. vmtp-run's live search on the same path: probes and final loss.
# Goal: median probes <= 3, never more than 5, final loss in the
# bracket at least as often as the original (which needs 4-9, median ~6.5).
#   bench/udp-search.sh [MIN MAX]        (root; after make)
# BENCH_KEEP=DIR keeps the measured curves (curve-PATH-SIZE, lines
# "offered_kbps received_Mbps loss%") for bench/udp-replay.c.
. "$(dirname "$0")/lib.sh"
LMIN=${1:-2}
LMAX=${2:-5}
cc -std=c11 -D_GNU_SOURCE -O2 -I"$ROOT/src" -o "$B/udp-replay" \
    "$ROOT/bench/udp-replay.c" "$ROOT/build/libvmtp.a" -lm
nshosts_up 2
nsh_provision -q > "$B/topo.ndjson"
target=$(nsh_ip 1)
port=${NSH_P}h1
# 8192-byte datagrams are IP fragments: after an overloaded probe the
# server's reassembly queue stays full of incomplete datagrams for
# ipfrag_time (30 s), and every probe in that time loses everything; a
# 1-second timeout keeps one probe from poisoning the next
nth 1 sysctl -qw net.ipv4.ipfrag_time=1
nth 1 nuttcp -S --nofork -P 5300 -p 5301 & hand_srv=$!
trap 'kill $hand_srv 2>/dev/null; bench_cleanup' EXIT
sleep 0.3
RATES="20000 40000 70000 100000 150000 200000 250000 300000 400000 500000
    700000 1000000 1500000 2500000 5000000 10000000"
# (this kernel has no sch_netem: token buckets make the knees)
PATHS="tbf-100:tbf rate 100mbit burst 32kb latency 20ms
tbf-250:tbf rate 250mbit burst 32kb latency 10ms
tbf-400:tbf rate 400mbit burst 64kb latency 20ms
tbf-700:tbf rate 700mbit burst 128kb latency 5ms"
SIZES=${SIZES:-1024 8192}
# point(rate_kbps, size): one 1-second nuttcp probe by hand, appended to the
# curve as "offered_kbps received_Mbps loss%"
point() {
	nth 2 nuttcp -fparse -T 1 -u -R "$1" -l "$2" -P 5300 -p 5301 \
	    "$target" 2>/dev/null |
	    sed -n "s/.*real_seconds=.* rate_Mbps=\([0-9.]*\) .*data_loss=\([0-9.]*\).*/$1 \1 \2/p" \
	    >> "$B/curve"
}
printf '%-20s %5s | %-22s | %-22s | %-22s\n' path size \
    "replay vmtp: probes loss in" "replay orig: probes loss in" "live vmtp-run: probes loss in"
: > "$B/summary"
while IFS=: read -r name qdisc; do
	# shellcheck disable=SC2086
	tc qdisc replace dev "$port" root $qdisc
	for size in $SIZES; do
		: > "$B/curve"
		for r in $RATES; do
			point "$r" "$size"
		done
		# the coarse rates are 20-50 % apart, and a loss bracket of a
		# few percent is a few percent of rate wide just over the knee:
		# measure there in 1 % steps, or the replay reads the knee off a
		# straight line between two distant points.  The knee is the
		# highest rate received where loss is not total.
		knee=$(awk '$3 < 50 && $2 > k {k = $2} END {printf "%d", k * 1000}' "$B/curve")
		sleep 1 # let reassembly forget the overloaded probes
		for f in 0.96 0.98 0.99 1.00 1.01 1.02 1.03 1.04 1.05 1.06 1.08 1.10 1.13; do
			point "$(awk -v k="$knee" -v f="$f" 'BEGIN {printf "%d", k * f}')" "$size"
		done
		sort -n -o "$B/curve" "$B/curve"
		if [ -n "${BENCH_KEEP:-}" ]; then
			mkdir -p "$BENCH_KEEP"
			cp "$B/curve" "$BENCH_KEEP/curve-$name-$size"
		fi
		read -r _ vp vl vin <<< "$("$B/udp-replay" "$LMIN" "$LMAX" "$size" < "$B/curve" | grep ^vmtp)"
		read -r _ op ol oin <<< "$("$B/udp-replay" "$LMIN" "$LMAX" "$size" < "$B/curve" | grep ^orig)"
		vr --protocols U --udpbuf "$size" --udp-loss-range "$LMIN,$LMAX" \
		    --flows 2 "$B/topo.ndjson" > "$B/live.ndjson" || true
		read -r lp ll <<< "$(jq -r 'select(.type == "sample") | "\(.probes) \(.loss_rate)"' "$B/live.ndjson")"
		lin=$(awk -v l="$ll" -v a="$LMIN" -v b="$LMAX" 'BEGIN {print (l >= a && l <= b) ? 1 : 0}')
		printf '%-20s %5s | %6s %8.2f %6s | %6s %8.2f %6s | %6s %8.2f %6s\n' \
		    "$name" "$size" "$vp" "$vl" "$vin" "$op" "$ol" "$oin" "$lp" "$ll" "$lin"
		echo "$vp $vin $op $oin $lp $lin" >> "$B/summary"
	done
	tc qdisc del dev "$port" root
done <<< "$PATHS"
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
echo
echo "loss bracket [$LMIN, $LMAX] %, $(wc -l < "$B/summary") curves"
echo "replay vmtp: median probes $(cut -d' ' -f1 "$B/summary" | median), max $(cut -d' ' -f1 "$B/summary" | sort -n | tail -1), in bracket $(awk '{s += $2} END {print s}' "$B/summary")"
echo "replay orig: median probes $(cut -d' ' -f3 "$B/summary" | median), max $(cut -d' ' -f3 "$B/summary" | sort -n | tail -1), in bracket $(awk '{s += $4} END {print s}' "$B/summary")"
echo "live vmtp-run: median probes $(cut -d' ' -f5 "$B/summary" | median), max $(cut -d' ' -f5 "$B/summary" | sort -n | tail -1), in bracket $(awk '{s += $6} END {print s}' "$B/summary")"
