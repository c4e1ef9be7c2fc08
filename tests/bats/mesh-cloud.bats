#!/usr/bin/env bats
# mesh-cloud.bats - vmtp-provision --mesh on the minicloud (issue 17): one VM
# per compute host, placed on its host by the admin, or spread by an
# anti-affinity server group for a member; every pair of VMs both ways in
# rounds, labelled from where the VMs landed; measured by vmtp-run; and
# nothing left after vmtp-cleanup, the server group included.

bats_require_minimum_version 1.5.0

load helpers/common
load helpers/minicloud

T=vmtp-0e5a0001

setup_file() {
	minicloud_up --computes 3 --boot-delay 1
	minicloud_require
	os security group list > /dev/null
	snapshot > "$BATS_FILE_TMPDIR/base"
}

teardown_file() {
	minicloud_down
}

setup() {
	minicloud_require
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	BASE=$(cat "$BATS_FILE_TMPDIR/base")
}

snapshot() {
	"$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -S 'map_values([.[].name] | sort)'
}

# check_mesh TOPOLOGY N: N mesh VMs on N distinct compute hosts (as the
# admin sees them), every ordered pair once, the two ways of a pair in one
# round, no VM twice in a round, to the server VM's fixed IP.
check_mesh() {
	local topo=$1 n=$2
	[ "$(jq -s '[.[] | select(.type == "host" and .role == "mesh")] | length' "$topo")" -eq "$n" ]
	[ "$(jq -s '[.[] | select(.type == "flow")] | length' "$topo")" -eq $((n * (n - 1))) ]
	jq -s -e '([.[] | select(.type == "host") | {(.name): .}] | add) as $h
	    | [.[] | select(.type == "flow")]
	    | (map("\(.client)>\(.server)") | unique | length) == length
	    and all(.[]; .client != .server and .target == $h[.server].ip
	        and .desc == "VM to VM same network fixed IP (inter-node)")
	    and all(group_by([.client, .server] | sort)[]; length == 2 and .[0].round == .[1].round)
	    and all(group_by(.round)[]; (map(.client, .server) | length) == (map(.client, .server) | unique | length) * 2)' \
		"$topo"
	# where the admin sees the servers: one per host
	hosts=$(jq -r 'select(.type == "host" and .role == "mesh") | .server_id' "$topo" | while read -r id; do
		os_admin server show "$id" -f value -c OS-EXT-SRV-ATTR:host
	done | sort -u | wc -l)
	[ "$hosts" -eq "$n" ]
}

@test "admin --mesh all: a VM on each of the 3 computes, 6 flows in 3 rounds, measured, cleaned up" {
	export OS_CLOUD=minicloud-admin
	run -0 --separate-stderr vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T --mesh all
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/topo.ndjson"
	check_mesh "$BATS_TEST_TMPDIR/topo.ndjson" 3
	[ "$(jq -s -c '[.[] | select(.type == "host") | .az] | sort' "$BATS_TEST_TMPDIR/topo.ndjson")" = \
		'["nova:compute-1","nova:compute-2","nova:compute-3"]' ]
	# placed by the admin: no server group
	[ "$(jq -s '[.[] | select(.type == "resource" and .kind == "server_group")] | length' "$BATS_TEST_TMPDIR/topo.ndjson")" -eq 0 ]
	run -0 --separate-stderr vmtp-run -q --protocols I --icmp-sizes 64 --ping-count 1 "$BATS_TEST_TMPDIR/topo.ndjson"
	jq -s -e '[.[] | select(.type == "sample")] | length == 6 and all(.[]; .rx_packets == 1)' <<< "$output"
	run -0 --separate-stderr vmtp-chart --format text <(printf '%s\n' "$output")
	[[ $output == *"Mesh of 3 hosts"*"compute-1"*"compute-2"*"compute-3"* ]]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
}

@test "member --mesh 3: an anti-affinity server group spreads the VMs; cleanup deletes the group" {
	export OS_CLOUD=minicloud
	run -0 --separate-stderr vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T --mesh 3
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/topo.ndjson"
	group=$(jq -r 'select(.type == "resource" and .kind == "server_group") | .id' "$BATS_TEST_TMPDIR/topo.ndjson")
	[ -n "$group" ]
	run -0 os server group show "$group" -f json
	[ "$(jq -r .policy <<< "$output")" = anti-affinity ]
	[ "$(jq '.members | length' <<< "$output")" -eq 3 ]
	check_mesh "$BATS_TEST_TMPDIR/topo.ndjson" 3
	# a member sees the zone, not the host: the chart names the VMs by address
	run -0 --separate-stderr vmtp-run -q --protocols I --icmp-sizes 64 --ping-count 1 "$BATS_TEST_TMPDIR/topo.ndjson"
	run -0 --separate-stderr vmtp-chart --format text <(printf '%s\n' "$output")
	for ip in $(jq -r 'select(.type == "host" and .role == "mesh") | .ip' "$BATS_TEST_TMPDIR/topo.ndjson"); do
		[[ $output == *$'\n'"$ip "* ]]
	done
	run -0 --separate-stderr vmtp-cleanup --tag $T
	jq -s -e --arg g "$group" 'any(.[]; .type == "deleted" and .kind == "server_group" and .id == $g)' <<< "$output"
	[ "$(snapshot)" = "$BASE" ]
}

@test "member --mesh 4 on 3 computes: the fourth VM finds no host; everything rolled back, group included" {
	export OS_CLOUD=minicloud
	run -1 --separate-stderr vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T --mesh 4
	[[ $stderr == *"No valid host was found"* ]]
	jq -s -e 'any(.[]; .type == "deleted" and .kind == "server_group")' <<< "$output"
	[ "$(snapshot)" = "$BASE" ]
}

@test "--mesh all as a member, and more VMs than computes as the admin: refused before anything is made" {
	export OS_CLOUD=minicloud
	run -2 --separate-stderr vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T --mesh all
	[[ $stderr == *"--mesh all: only an admin may list the compute hosts; give their number (--mesh N)"* ]]
	export OS_CLOUD=minicloud-admin
	run -2 --separate-stderr vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T --mesh 4
	[[ $stderr == *"--mesh 4: the cloud has 3 compute hosts"* ]]
	[ "$(jq -s '[.[] | select(.type == "resource")] | length' <<< "$output")" -eq 0 ]
	[ "$(snapshot)" = "$BASE" ]
}
