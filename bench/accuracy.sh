#!/bin/bash
# bench/accuracy.sh - vmtp-run's TCP result against nuttcp run by hand on
# the same path (two namespace hosts joined by veth), alternated N+N in one
# run; vmtp-run's wall time against the tool's own measuring time; vmtp-run's
# peak RSS.  Goals: ratio 0.97-1.03, overhead <= 1.10, RSS <= 16 MiB.
#   bench/accuracy.sh [N [SECONDS]]     (root; after make)
. "$(dirname "$0")/lib.sh"
N=${1:-5}
S=${2:-5}
nshosts_up 2
nsh_provision -q > "$B/topo.ndjson"
target=$(nsh_ip 1)
# the hand-run server on other ports than vmtp-run's (5100/5101)
nth 1 nuttcp -S --nofork -P 5300 -p 5301 & hand_srv=$!
trap 'kill $hand_srv 2>/dev/null; bench_cleanup' EXIT
sleep 0.3
: > "$B/vmtp.txt"
: > "$B/hand.txt"
: > "$B/wall.txt"
for k in $(seq 1 "$N"); do
	t0=$(date +%s.%N)
	vr -t "$S" --protocols T --tcp-loops 1 --tcpbuf 65536 --flows 2 \
	    "$B/topo.ndjson" > "$B/out.ndjson"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l >> "$B/wall.txt"
	jq -r 'select(.type == "sample") | .throughput_kbps / 1024' \
	    "$B/out.ndjson" >> "$B/vmtp.txt"
	nth 2 nuttcp -fparse -T "$S" -i 1 -l 65536 -P 5300 -p 5301 "$target" |
	    sed -n 's/.*real_seconds=.* rate_Mbps=\([0-9.]*\).*/\1/p' >> "$B/hand.txt"
done
mean() { awk '{s += $1; n++} END {printf "%.1f", s / n}' "$1"; }
echo "TCP Mbit/s, vmtp-run: $(paste -sd' ' "$B/vmtp.txt")"
echo "TCP Mbit/s, by hand:  $(paste -sd' ' "$B/hand.txt")"
echo "accuracy (mean vmtp-run / mean by hand): $(echo "$(mean "$B/vmtp.txt") / $(mean "$B/hand.txt")" | bc -l | cut -c1-5)"
echo "overhead (vmtp-run wall / $S s measuring), per run: $(awk -v s="$S" '{printf "%.3f ", $1 / s}' "$B/wall.txt")"
echo "overhead mean: $(awk -v s="$S" '{t += $1; n++} END {printf "%.3f", t / n / s}' "$B/wall.txt")"
# one run of N measurements: the session and server costs paid once
t0=$(date +%s.%N)
/usr/bin/time -f %M -o "$B/rss.txt" vmtp-run -q -c "$B/vmtp.yaml" \
    --ssh-key "$NSH_DIR/id_ed25519" -t "$S" --protocols T --tcp-loops "$N" \
    --tcpbuf 65536 --flows 2 "$B/topo.ndjson" > /dev/null
t1=$(date +%s.%N)
echo "overhead, one run of $N x $S s: $(echo "($t1 - $t0) / ($N * $S)" | bc -l | cut -c1-5)"
echo "peak RSS of that run: $(cat "$B/rss.txt") KiB"
/usr/bin/time -f %M -o "$B/rss2.txt" vmtp-run -q -c "$B/vmtp.yaml" \
    --ssh-key "$NSH_DIR/id_ed25519" -t 2 --bandwidth 100M --udpbuf 1024 \
    --icmp-sizes 64,1400 "$B/topo.ndjson" > /dev/null
echo "peak RSS, every flow with TCP, UDP and ICMP: $(cat "$B/rss2.txt") KiB"
