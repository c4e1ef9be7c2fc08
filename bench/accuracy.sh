#!/bin/bash
# bench/accuracy.sh - vmtp-run's TCP result against nuttcp run by hand on
# the same path (two namespace hosts joined by veth, host 2 the client of
# host 1, as vmtp-run's flow 2), N+N runs alternated in one run, each side
# first in every other round (so that neither always follows the other's
# set-up); the spread of each side (min, max, stddev); vmtp-run's wall time
# against the tool's own measuring time; vmtp-run's peak RSS.
# The path has a bottleneck of RATE (tc tbf on the server's bridge port,
# default 2gbit, under what the machine's CPUs move over veth): without
# one, TCP over veth measures how much CPU each run got on a shared
# machine (6-13 Gbit/s from one run to the next), not the tool.
# RATE=none measures the bare veth.
# Goals: ratio of the means 0.97-1.03, RSS <= 16 MiB.
#   bench/accuracy.sh [N [SECONDS]]     (root; after make)
. "$(dirname "$0")/lib.sh"
N=${1:-10}
S=${2:-5}
RATE=${RATE:-2gbit}
nshosts_up 2
nsh_provision -q > "$B/topo.ndjson"
target=$(nsh_ip 1)
if [ "$RATE" != none ]; then
	tc qdisc replace dev "${NSH_P}h1" root tbf rate "$RATE" burst 512kb \
	    latency 10ms
fi
# the hand-run server on other ports than vmtp-run's (5100/5101), started
# as vmtp-run starts its own: a nuttcp -S per measurement, in the
# foreground, stopped after it
hand() {
	local srv i=0
	# (ip netns exec becomes nuttcp: $! is the server's pid)
	ip netns exec "$(nsh_ns 1)" nuttcp -S --nofork -P 5300 -p 5301 & srv=$!
	# listening: as vmtp-run waits for its server
	until nth 1 ss -Hltn 'sport = :5300' | grep -q .; do
		i=$((i + 1))
		if [ "$i" -gt 100 ]; then
			echo "accuracy.sh: the hand-run nuttcp server does not listen" >&2
			exit 1
		fi
		sleep 0.05
	done
	nth 2 nuttcp -fparse -T "$S" -i 1 -l 65536 -P 5300 -p 5301 "$target" |
	    sed -n 's/.*real_seconds=.* rate_Mbps=\([0-9.]*\).*/\1/p' >> "$B/hand.txt"
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null || true
}
vmtp() {
	local t0 t1
	t0=$(date +%s.%N)
	vr -t "$S" --protocols T --tcp-loops 1 --tcpbuf 65536 --flows 2 \
	    "$B/topo.ndjson" > "$B/out.ndjson"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l >> "$B/wall.txt"
	jq -r 'select(.type == "sample") | .throughput_kbps / 1024' \
	    "$B/out.ndjson" >> "$B/vmtp.txt"
}
: > "$B/vmtp.txt"
: > "$B/hand.txt"
: > "$B/wall.txt"
for k in $(seq 1 "$N"); do
	if [ $((k % 2)) -eq 1 ]; then
		vmtp
		hand
	else
		hand
		vmtp
	fi
done
# stats(file): "mean min max stddev" of its numbers
stats() {
	awk '{s += $1; q += $1 * $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1}
	    END {m = s / NR; v = q / NR - m * m; printf "%.1f %.1f %.1f %.1f", m, lo, hi, sqrt(v > 0 ? v : 0)}' "$1"
}
read -r vm vlo vhi vsd <<< "$(stats "$B/vmtp.txt")"
read -r hm hlo hhi hsd <<< "$(stats "$B/hand.txt")"
echo "TCP Mbit/s, vmtp-run: $(paste -sd' ' "$B/vmtp.txt")"
echo "TCP Mbit/s, by hand:  $(paste -sd' ' "$B/hand.txt")"
echo "vmtp-run: mean $vm, min $vlo, max $vhi, stddev $vsd ($N runs of $S s)"
echo "by hand:  mean $hm, min $hlo, max $hhi, stddev $hsd ($N runs of $S s)"
ratio=$(bench_ratio "$vm" "$hm")
echo "accuracy (mean vmtp-run / mean by hand): $ratio"
bench_row "TCP vmtp-run / nuttcp by hand, $N+$N runs of $S s, path $RATE" \
    "$vm / $hm Mbit/s (sd $vsd / $hsd)" "$ratio" "0.97..1.03"
echo "overhead (vmtp-run wall / $S s measuring), per run: $(awk -v s="$S" '{printf "%.3f ", $1 / s}' "$B/wall.txt")"
echo "overhead mean: $(awk -v s="$S" '{t += $1; n++} END {printf "%.3f", t / n / s}' "$B/wall.txt")"
# one run of N measurements: the session and server costs paid once
t0=$(date +%s.%N)
/usr/bin/time -f %M -o "$B/rss.txt" vmtp-run -q -c "$B/vmtp.yaml" \
    --ssh-key "$NSH_DIR/id_ed25519" -t "$S" --protocols T --tcp-loops "$N" \
    --tcpbuf 65536 --flows 2 "$B/topo.ndjson" > /dev/null
t1=$(date +%s.%N)
echo "overhead, one run of $N x $S s: $(bench_ratio "$(echo "$t1 - $t0" | bc -l)" "$((N * S))")"
rss=$(cat "$B/rss.txt")
echo "peak RSS of that run: $rss KiB"
bench_row "peak RSS, vmtp-run $N TCP runs" "$rss KiB" \
    "$(bench_ratio "$rss" 16384 4)" "<= 1"
/usr/bin/time -f %M -o "$B/rss2.txt" vmtp-run -q -c "$B/vmtp.yaml" \
    --ssh-key "$NSH_DIR/id_ed25519" -t 2 --bandwidth 100M --udpbuf 1024 \
    --icmp-sizes 64,1400 "$B/topo.ndjson" > /dev/null
rss=$(cat "$B/rss2.txt")
echo "peak RSS, every flow with TCP, UDP and ICMP: $rss KiB"
bench_row "peak RSS, vmtp-run every flow TCP+UDP+ICMP" "$rss KiB" \
    "$(bench_ratio "$rss" 16384 4)" "<= 1"
