#!/usr/bin/env bats
# mesh.bats - mesh mode (issue 17): the rounds of a mesh of N hosts
# (libvmtp/mesh.h, through tests/tools/mesh-dump), and vmtp-provision
# --mesh on native namespace hosts (helpers/nshosts), measured by vmtp-run.

bats_require_minimum_version 1.5.0

load helpers/common
load helpers/nshosts
load helpers/mesh

setup_file() {
	nshosts_up 6
}

teardown_file() {
	nshosts_down
}

teardown() {
	# a test's slowed link: both ways of host 3
	tc -n "$(nsh_ns 3)" qdisc del dev eth0 root 2>/dev/null || true
	tc qdisc del dev "${NSH_P}h3" root 2>/dev/null || true
}

# check_rounds FILE N: FILE has "round a b" lines after a "rounds R" line;
# every pair of N hosts once, no host twice in a round, R rounds.
check_rounds() {
	awk -v n="$2" '
		NR == 1 { rounds = $2; next }
		{
			if ($1 < 1 || $1 > rounds || $2 < 0 || $3 >= n || $2 >= $3) bad = "bad line " $0
			if (seen[$2, $3]++) bad = "pair twice: " $2 " " $3
			if (busy[$1, $2]++ || busy[$1, $3]++) bad = "host twice in round " $1
			pairs++; used[$1]++
		}
		END {
			want = n % 2 == 0 ? n - 1 : n
			if (rounds != want) bad = "rounds " rounds " not " want
			if (pairs != n * (n - 1) / 2) bad = "pairs " pairs
			for (r = 1; r <= rounds; r++)
				if (used[r] != int(n / 2)) bad = "round " r " has " used[r] " pairs"
			if (bad != "") { print "N=" n ": " bad; exit 1 }
		}' "$1"
}

@test "mesh rounds: every pair once, no host twice in a round, N-1 rounds (N for odd N)" {
	for n in 2 3 4 5 6 7 8 9 16 17 63 64; do
		"$VMTP_TOOLS/mesh-dump" "$n" > "$BATS_TEST_TMPDIR/rounds"
		check_rounds "$BATS_TEST_TMPDIR/rounds" "$n"
	done
}

@test "mesh rounds: fewer than two hosts have none" {
	run -0 "$VMTP_TOOLS/mesh-dump" 1
	[ "$output" = "rounds 0" ]
	run -0 "$VMTP_TOOLS/mesh-dump" 0
	[ "$output" = "rounds 0" ]
}

# The flows of topology $1 as check_rounds reads them: "rounds R" (the
# highest round), then "round a b" per pair (a < b, hosts from 0); fails
# unless the two ways of each pair are there, in one round.
pairs_of() {
	jq -s -e '[.[] | select(.type == "flow")] | group_by([.client, .server] | sort)
	    | all(length == 2 and .[0].round == .[1].round)' "$1" > /dev/null || return 1
	jq -r -s '[.[] | select(.type == "flow")] | "rounds \(map(.round) | max)",
	    (.[] | select(.client < .server)
	     | "\(.round) \(.client | ltrimstr("host") | tonumber - 1) \(.server | ltrimstr("host") | tonumber - 1)")' "$1"
}

@test "vmtp-provision --mesh all: every ordered pair of the hosts once, in rounds, targets the servers' addresses" {
	run -0 --separate-stderr nsh_provision --mesh all
	[ "$(jq -s '[.[] | select(.type == "flow")] | length' <<< "$output")" = 30 ]
	run -0 --separate-stderr nsh_provision --mesh 5
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/topo.ndjson"
	[ "$(jq -s '[.[] | select(.type == "host")] | length' "$BATS_TEST_TMPDIR/topo.ndjson")" = 5 ]
	[ "$(jq -s '[.[] | select(.type == "flow")] | length' "$BATS_TEST_TMPDIR/topo.ndjson")" = 20 ]
	# every ordered pair once, native inter-node, to the server's data address
	jq -s -e '([.[] | select(.type == "host") | {(.name): .ip}] | add) as $ip
	    | [.[] | select(.type == "flow")]
	    | (map("\(.client)>\(.server)") | unique | length) == 20
	    and all(.[]; .client != .server and .target == $ip[.server]
	        and .desc == "Native inter-host" and (.round | type) == "number")' \
		"$BATS_TEST_TMPDIR/topo.ndjson"
	pairs_of "$BATS_TEST_TMPDIR/topo.ndjson" > "$BATS_TEST_TMPDIR/rounds"
	check_rounds "$BATS_TEST_TMPDIR/rounds" 5
	# ids 1..20 in round order
	[ "$(jq -s -c '[.[] | select(.type == "flow") | .id]' "$BATS_TEST_TMPDIR/topo.ndjson")" = "$(seq 1 20 | jq -s -c .)" ]
	jq -s -e '[.[] | select(.type == "flow") | .round] | . == sort' "$BATS_TEST_TMPDIR/topo.ndjson"
}

@test "vmtp-provision --mesh 4 takes the first 4 hosts; vmtp-run measures every flow" {
	run -0 --separate-stderr nsh_provision --mesh 4
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/topo.ndjson"
	[ "$(jq -s -c '[.[] | select(.type == "host") | .name]' "$BATS_TEST_TMPDIR/topo.ndjson")" = \
		'["host1","host2","host3","host4"]' ]
	pairs_of "$BATS_TEST_TMPDIR/topo.ndjson" > "$BATS_TEST_TMPDIR/rounds"
	check_rounds "$BATS_TEST_TMPDIR/rounds" 4
	run -0 --separate-stderr vmtp-run -q --ssh-key "$NSH_DIR/id_ed25519" --protocols I \
		--icmp-sizes 64 --ping-count 1 "$BATS_TEST_TMPDIR/topo.ndjson"
	jq -s -e '[.[] | select(.type == "sample")] | length == 12
	    and all(.[]; .protocol == "ICMP" and .rx_packets == 1)
	    and (map(.flow) | unique | length) == 12' <<<"$output"
}

@test "vmtp-provision --mesh: bad counts and an external host are usage errors" {
	run -2 --separate-stderr vmtp-provision --host root@192.0.2.1 --host root@192.0.2.2 --mesh 3
	[[ $stderr == *"--mesh 3: 2 --host given; a mesh needs two or more"* ]]
	run -2 --separate-stderr vmtp-provision --host root@192.0.2.1 --mesh all
	[[ $stderr == *"--mesh 1: 1 --host given"* ]]
	run -2 --separate-stderr vmtp-provision --host root@192.0.2.1 --host root@192.0.2.2 --mesh 1
	[[ $stderr == *"--mesh"* ]]
	run -2 --separate-stderr vmtp-provision --host root@192.0.2.1 --host root@192.0.2.2 \
		--external-host root@192.0.2.3 --mesh all
	[[ $stderr == *"--external-host does not go with it"* ]]
	run -2 --separate-stderr vmtp-provision --mesh all --hypervisor compute-1
	[[ $stderr == *"--mesh places one VM on each compute host: --hypervisor does not go with it"* ]]
	[ -z "$output" ]
}

@test "vmtp-chart --format text: the mesh matrix marks the slow host's pairs and names it worst" {
	mesh_stream 5 3 > "$BATS_TEST_TMPDIR/mesh.ndjson"
	run -0 --separate-stderr vmtp-chart --format text "$BATS_TEST_TMPDIR/mesh.ndjson"
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/report.txt"
	# the median of the 20 pairs: 12 at 9.0x and 8 at 2.0x Gbps
	median=$(jq -s '[.[] | select(.type == "sample" and .protocol == "TCP") | .throughput_kbps / 1048576]
	    | sort | (.[9] + .[10]) / 2' "$BATS_TEST_TMPDIR/mesh.ndjson")
	grep -q "^Mesh of 5 hosts: TCP Gbps, sender (row) to receiver (column); \* below 80% of the median ($(printf '%.2f' "$median") Gbps)$" \
		"$BATS_TEST_TMPDIR/report.txt"
	# every cell of compute-3's row and column is marked, no other one
	awk '/^Mesh of 5 hosts/ { on = 1; getline; next } on && NF == 0 { exit }
	    on { for (i = 2; i <= NF; i++) { low = ($i ~ /^\*/); want = ($1 == "compute-3" || i == 4) && $i != "-"
	            if (low != want) { print "cell " $1 " " i ": " $i; bad = 1 } } }
	    END { exit bad }' "$BATS_TEST_TMPDIR/report.txt"
	# the diagonal has no figure; a row's figure is its sender's
	grep -q '^compute-1 *- *9\.02 *\*2\.03 *9\.04 *9\.05$' "$BATS_TEST_TMPDIR/report.txt"
	grep -q '^Mesh: ICMP RTT ms (average)$' "$BATS_TEST_TMPDIR/report.txt"
	grep -q '^compute-3 *1\.500 *1\.500 *- *1\.500 *1\.500$' "$BATS_TEST_TMPDIR/report.txt"
	grep -q '^Worst hosts: compute-3 (low as sender 4 of 4, as receiver 4 of 4)$' "$BATS_TEST_TMPDIR/report.txt"
	! grep -q '^Low pairs' "$BATS_TEST_TMPDIR/report.txt"
}

@test "vmtp-chart --format text: a low pair no bad host explains is named as a pair" {
	mesh_stream 5 3 | jq -c 'if .type == "sample" and .flow == 1 and .protocol == "TCP"
	    then .throughput_kbps = 1048576 else . end' > "$BATS_TEST_TMPDIR/mesh.ndjson"
	pair=$(jq -r 'select(.type == "flow" and .id == 1) | "\(.client) \(.server)"' "$BATS_TEST_TMPDIR/mesh.ndjson" |
		sed 's/vm/compute-/g; s/ / -> /')
	run -0 --separate-stderr vmtp-chart --format text "$BATS_TEST_TMPDIR/mesh.ndjson"
	[[ $output == *$'\nWorst hosts: compute-3 (low as sender 4 of 4, as receiver 4 of 4)\nLow pairs: '"$pair"* ]]
}

@test "vmtp-chart --mesh-low: a lower threshold marks nothing; a result that is no mesh has no matrix" {
	mesh_stream 5 3 > "$BATS_TEST_TMPDIR/mesh.ndjson"
	run -0 --separate-stderr vmtp-chart --format text --mesh-low 10 "$BATS_TEST_TMPDIR/mesh.ndjson"
	[[ $output == *"below 10% of the median"* ]]
	[[ $output == *"Worst hosts: none below 10% of the median"* ]]
	run -2 --separate-stderr vmtp-chart --format text --mesh-low 0 "$BATS_TEST_TMPDIR/mesh.ndjson"
	[[ $stderr == *"--mesh-low"* ]]
	jq -c 'del(.round)' "$BATS_TEST_TMPDIR/mesh.ndjson" > "$BATS_TEST_TMPDIR/plain.ndjson"
	run -0 --separate-stderr vmtp-chart --format text "$BATS_TEST_TMPDIR/plain.ndjson"
	[[ $output != *"Mesh of"* ]]
}

@test "vmtp-chart --format text --protocol: the mesh shows the matrices of the protocol asked for, as HTML does" {
	mesh_stream 5 3 > "$BATS_TEST_TMPDIR/mesh.ndjson"
	run -0 --separate-stderr vmtp-chart --format text --protocol tcp "$BATS_TEST_TMPDIR/mesh.ndjson"
	[[ $output == *"Mesh of 5 hosts: TCP Gbps"* ]]
	[[ $output == *"Worst hosts: compute-3"* ]]
	[[ $output != *"ICMP RTT"* ]]
	run -0 --separate-stderr vmtp-chart --format text --protocol udp "$BATS_TEST_TMPDIR/mesh.ndjson"
	[[ $output != *"Mesh"* ]]
	[[ $output != *"Worst hosts"* ]]
	vmtp-chart --protocol udp -o "$BATS_TEST_TMPDIR/udp.html" "$BATS_TEST_TMPDIR/mesh.ndjson"
	! grep -q "Worst hosts\|mesh-tcp\|mesh-rtt" "$BATS_TEST_TMPDIR/udp.html"
}

@test "a native mesh with one host's link slowed both ways: the chart names that host worst" {
	# host 3 sends and receives at 100 Mbit/s at most; the others at veth speed
	tc -n "$(nsh_ns 3)" qdisc add dev eth0 root tbf rate 100mbit burst 64kb latency 50ms
	tc qdisc add dev "${NSH_P}h3" root tbf rate 100mbit burst 64kb latency 50ms
	nsh_provision -q --mesh 5 > "$BATS_TEST_TMPDIR/topo.ndjson"
	run -0 --separate-stderr vmtp-run -q --ssh-key "$NSH_DIR/id_ed25519" -t 1 --protocols T \
		--tcp-loops 1 "$BATS_TEST_TMPDIR/topo.ndjson"
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/run.ndjson"
	[ "$(jq -s '[.[] | select(.type == "sample" and .error == null)] | length' "$BATS_TEST_TMPDIR/run.ndjson")" = 20 ]
	run -0 --separate-stderr vmtp-chart --format text "$BATS_TEST_TMPDIR/run.ndjson"
	[[ $output == *"Mesh of 5 hosts"* ]]
	[[ $output == *$'\nWorst hosts: '"$(nsh_ip 3)"' (low as sender 4 of 4, as receiver 4 of 4)'* ]]
	# the report's heat map: that host's 8 pairs outlined low (a pair of
	# the others may be low too on a busy machine: not asserted)
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/run.ndjson"
	grep -qF "<b>Worst hosts:</b> $(nsh_ip 3) (low as sender 4 of 4, as receiver 4 of 4)" "$BATS_TEST_TMPDIR/r.html"
	/usr/bin/python3 "$BATS_TEST_DIRNAME/helpers/heat-map" "$BATS_TEST_TMPDIR/r.html" result-1-heat-tcp \
		> "$BATS_TEST_TMPDIR/cells"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/cells")" = 20 ]
	[ "$(awk -F'\t' -v slow="$(nsh_ip 3)" '($1 == slow || $2 == slow) && $4 == "low"' "$BATS_TEST_TMPDIR/cells" |
		wc -l)" = 8 ]
}

# overlaps FILE: the most TCP samples of FILE measuring at one instant.
overlaps() {
	jq -r 'select(.type == "sample" and .protocol == "TCP") | "\(.t_start) 1\n\(.t_end) -1"' "$1" |
		sort -k1,1g -k2,2n | awk '{ n += $2; if (n > m) m = n } END { print m + 0 }'
}

@test "vmtp-run: a round's flows measure at once, each round after the last; --concurrency 1 one at a time" {
	nsh_provision -q --mesh 5 > "$BATS_TEST_TMPDIR/topo.ndjson"
	run -0 --separate-stderr vmtp-run -q --ssh-key "$NSH_DIR/id_ed25519" -t 3 --protocols T \
		--tcp-loops 1 "$BATS_TEST_TMPDIR/topo.ndjson"
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/run.ndjson"
	[ "$(jq -s '[.[] | select(.type == "sample" and .error == null)] | length' "$BATS_TEST_TMPDIR/run.ndjson")" = 20 ]
	# every round's 4 flows (2 pairs of 5 hosts) share an instant; no
	# sample of a round starts before the last round's ended
	jq -s -e '([.[] | select(.type == "flow") | {(.id | tostring): .round}] | add) as $r
	    | [.[] | select(.type == "sample") | . + {round: $r[.flow | tostring]}] | group_by(.round)
	    | all(.[]; length == 4 and (map(.t_start) | max) < (map(.t_end) | min))
	    and ([range(1; length) as $i | (.[$i] | map(.t_start) | min) >= (.[$i - 1] | map(.t_end) | max)] | all)' \
		"$BATS_TEST_TMPDIR/run.ndjson"
	# the first two rounds, one flow at a time
	run -0 --separate-stderr vmtp-run -q --ssh-key "$NSH_DIR/id_ed25519" -t 1 --protocols T \
		--tcp-loops 1 --concurrency 1 --flows 1,2,3,4,5,6,7,8 "$BATS_TEST_TMPDIR/topo.ndjson"
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/one.ndjson"
	[ "$(jq -s '[.[] | select(.type == "sample" and .error == null)] | length' "$BATS_TEST_TMPDIR/one.ndjson")" = 8 ]
	[ "$(overlaps "$BATS_TEST_TMPDIR/one.ndjson")" = 1 ]
}

@test "vmtp-run --concurrency 2: at most 2 pairs at once; flows without a round run one at a time" {
	nsh_provision -q --mesh 6 > "$BATS_TEST_TMPDIR/topo.ndjson"
	run -0 --separate-stderr vmtp-run -q --ssh-key "$NSH_DIR/id_ed25519" -t 1 --protocols T \
		--tcp-loops 1 --concurrency 2 "$BATS_TEST_TMPDIR/topo.ndjson"
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/run.ndjson"
	[ "$(jq -s '[.[] | select(.type == "sample" and .error == null)] | length' "$BATS_TEST_TMPDIR/run.ndjson")" = 30 ]
	[ "$(overlaps "$BATS_TEST_TMPDIR/run.ndjson")" -le 4 ]
	jq -c 'del(.round)' "$BATS_TEST_TMPDIR/topo.ndjson" > "$BATS_TEST_TMPDIR/plain.ndjson"
	run -0 --separate-stderr vmtp-run -q --ssh-key "$NSH_DIR/id_ed25519" -t 1 --protocols T \
		--tcp-loops 1 --flows 1,2,3,4 "$BATS_TEST_TMPDIR/plain.ndjson"
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/plain-run.ndjson"
	[ "$(jq -s '[.[] | select(.type == "sample")] | length' "$BATS_TEST_TMPDIR/plain-run.ndjson")" = 4 ]
	[ "$(overlaps "$BATS_TEST_TMPDIR/plain-run.ndjson")" = 1 ]
	run -2 --separate-stderr vmtp-run --concurrency 0 "$BATS_TEST_TMPDIR/topo.ndjson"
	[[ $stderr == *"--concurrency"* ]]
}

@test "bin/vmtp --mesh all --concurrency 1 --openmetrics: the original's command line measures a mesh" {
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	unset OS_AUTH_URL OS_CLOUD
	run -0 --separate-stderr "$VMTP_ROOT/bin/vmtp" --host "root@$(nsh_ip 1)" \
		--host "root@$(nsh_ip 2)" --host "root@$(nsh_ip 3)" \
		--ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$NSH_DIR/known_hosts" \
		--mesh all --concurrency 1 --openmetrics "$BATS_TEST_TMPDIR/vmtp.prom" \
		-t 1 --protocols TI --tcpbuf 65536 --icmp_pkt_sizes 64 --ping-interval 0.2
	# the summary is the mesh's matrices, then where the files are
	[[ $output == *"Mesh of 3 hosts: TCP Gbps"* ]]
	[[ $output == *"Mesh: ICMP RTT ms"* ]]
	d=$(sed -n 's/^Result: \(.*\)\/result.json$/\1/p' <<< "$output")
	[ "$(jq -s '[.[] | select(.type == "flow")] | length' "$d/topology.ndjson")" = 6 ]
	jq -s -e '[.[] | select(.type == "flow")] | all(.round >= 1 and .round <= 3)' "$d/topology.ndjson"
	jq -s -e '[.[] | select(.type == "sample" and .protocol == "TCP")]
	    | (map(.flow) | unique | length) == 6 and all(.error == null)' \
		"$d/samples.ndjson"
	# one pair at a time
	[ "$(overlaps "$d/samples.ndjson")" = 1 ]
	# every flow's throughput in the metrics, one series each
	[ "$(grep -c '^vmtp_throughput_bytes_per_second{' "$BATS_TEST_TMPDIR/vmtp.prom")" = 6 ]
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/vmtp.prom")" = "# EOF" ]
}

@test "vmtp-run keeps the 9900 flows of a mesh of 100 hosts in little memory: peak RSS under 16 MiB" {
	# hosts nobody answers for (port 1 of 127.0.0.1): every flow is an
	# error sample at once, and what the run holds is mostly its flows
	awk -v n=100 'BEGIN {
		for (i = 0; i < n; i++)
			printf "{\"type\":\"host\",\"run\":\"vmtp-0a1b2c3d\",\"name\":\"h%d\",\"ssh\":{\"host\":\"127.0.0.1\",\"port\":1,\"user\":\"root\"}}\n", i
		for (r = 1; r < n; r++)
			for (c = 0; c < n; c++)
				printf "{\"type\":\"flow\",\"run\":\"vmtp-0a1b2c3d\",\"id\":%d,\"desc\":\"Native inter-host\",\"client\":\"h%d\",\"server\":\"h%d\",\"target\":\"127.0.0.1\",\"bidirectional\":false,\"round\":%d}\n", ++id, c, (c + r) % n, r
	}' > "$BATS_TEST_TMPDIR/topo.ndjson"
	printf 'ssh_retry_count: 1\n' > "$BATS_TEST_TMPDIR/vmtp.yaml"
	run -3 --separate-stderr /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" \
		vmtp-run -q -c "$BATS_TEST_TMPDIR/vmtp.yaml" --protocols I "$BATS_TEST_TMPDIR/topo.ndjson"
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/run.ndjson"
	# every record passed on, every flow its one error sample
	[ "$(jq -s '[.[] | select(.type != "sample")] | length' "$BATS_TEST_TMPDIR/run.ndjson")" = 10000 ]
	jq -s -e '[.[] | select(.type == "sample")] | length == 9900 and all(.[]; .error != null)
	    and (map(.flow) | sort) == [range(1; 9901)]' "$BATS_TEST_TMPDIR/run.ndjson"
	# AddressSanitizer's shadow memory is no measure of the program's
	if ! ldd "$(command -v vmtp-run)" | grep -q libasan; then
		[ "$(tail -n 1 "$BATS_TEST_TMPDIR/rss")" -lt 16384 ]
	fi
	# among so many ids, one given twice is still found
	sed -n 5000p "$BATS_TEST_TMPDIR/topo.ndjson" >> "$BATS_TEST_TMPDIR/topo.ndjson"
	run -65 --separate-stderr vmtp-run -q -c "$BATS_TEST_TMPDIR/vmtp.yaml" --protocols I \
		"$BATS_TEST_TMPDIR/topo.ndjson"
	[[ $stderr == *"topo.ndjson:10001: flow 4900 given twice"* ]]
}
