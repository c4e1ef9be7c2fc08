#!/usr/bin/env bats
# mesh.bats - mesh mode (issue 17): the rounds of a mesh of N hosts
# (libvmtp/mesh.h, through tests/tools/mesh-dump), and vmtp-provision
# --mesh on native namespace hosts (helpers/nshosts), measured by vmtp-run.

bats_require_minimum_version 1.5.0

load helpers/common
load helpers/nshosts

setup_file() {
	nshosts_up 5
}

teardown_file() {
	nshosts_down
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
	run -2 --separate-stderr vmtp-provision --mesh all
	[[ $stderr == *"--mesh with a cloud"*"not supported yet"* ]]
	[ -z "$output" ]
}
