#!/usr/bin/env bats
# mesh-cloud.bats - vmtp-provision --mesh on the minicloud (issue 17): one VM
# per compute host, placed on its host by the admin, or spread by an
# anti-affinity server group for a member; every pair of VMs both ways in
# rounds, labelled from where the VMs landed, on one network or (--mesh-path
# l3) each on its own, through the router; measured by vmtp-run; and nothing
# left after vmtp-cleanup or a rollback, the server group included.

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

teardown() {
	# a failed test leaves nothing for the next one to trip on, no boot
	# or request held
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear 2>/dev/null || true
	[ -n "${BATS_TEST_COMPLETED:-}" ] || vmtp-cleanup --tag $T > /dev/null 2>&1 || true
}

snapshot() {
	"$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -S 'map_values([.[].name] | sort)'
}

# check_mesh TOPOLOGY N [DESC]: N mesh VMs on N distinct compute hosts (as
# the admin sees them), every ordered pair once, the two ways of a pair in
# one round, no VM twice in a round, to the server VM's fixed IP, each flow
# described as DESC (default: the same-network one).
check_mesh() {
	local topo=$1 n=$2 desc=${3:-VM to VM same network fixed IP (inter-node)}
	[ "$(jq -s '[.[] | select(.type == "host" and .role == "mesh")] | length' "$topo")" -eq "$n" ]
	[ "$(jq -s '[.[] | select(.type == "flow")] | length' "$topo")" -eq $((n * (n - 1))) ]
	jq -s -e --arg desc "$desc" '([.[] | select(.type == "host") | {(.name): .}] | add) as $h
	    | [.[] | select(.type == "flow")]
	    | (map("\(.client)>\(.server)") | unique | length) == length
	    and all(.[]; .client != .server and .target == $h[.server].ip
	        and .desc == $desc)
	    and all(group_by([.client, .server] | sort)[]; length == 2 and .[0].round == .[1].round)
	    and all(group_by(.round)[]; (map(.client, .server) | length) == (map(.client, .server) | unique | length) * 2)' \
		"$topo"
	# where the admin sees the servers: one per host
	hosts=$(jq -r 'select(.type == "host" and .role == "mesh") | .server_id' "$topo" | while read -r id; do
		os-call --cloud minicloud-admin GET compute "/servers/$id" | sed -n 2p | jq -r '.server["OS-EXT-SRV-ATTR:host"]'
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

@test "admin --mesh all --mesh-path l3: each VM on its own network, 6 flows through the router, measured, cleaned up" {
	export OS_CLOUD=minicloud-admin
	run -0 --separate-stderr vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T --mesh all --mesh-path l3
	topo=$BATS_TEST_TMPDIR/topo.ndjson
	printf '%s\n' "$output" > "$topo"
	check_mesh "$topo" 3 "VM to VM different network fixed IP (inter-node)"
	# three networks and subnets of the run, each on the run's router
	jq -s -e '[.[] | select(.type == "resource" and .created)] as $r
	    | ($r | map(select(.kind == "network")) | length) == 3
	    and ($r | map(select(.kind == "subnet")) | length) == 3
	    and ($r | map(select(.kind == "router_interface")) | length) == 3' "$topo"
	# each VM on its own network: the two ends of every flow on different ones
	jq -s -e '([.[] | select(.type == "host") | {(.name): .network}] | add) as $net
	    | ($net | [.[]] | unique | length) == 3
	    and all(.[] | select(.type == "flow"); $net[.client] != $net[.server])' "$topo"
	# the subnets: internal_cidr's two entries, then the /24 after the last
	# that overlaps neither; each VM's fixed IP in its network's subnet
	read -r want < <(/usr/bin/python3 -c 'import ipaddress, json, sys
c = [ipaddress.ip_network(x) for x in json.load(open(sys.argv[1]))["internal_cidrs"]]
n = c[-1]
while True:
    n = ipaddress.ip_network((int(n.network_address) + n.num_addresses, n.prefixlen))
    if not any(n.overlaps(x) for x in c):
        break
print(json.dumps([str(x) for x in c + [n]], separators=(",", ":")))' "$MINICLOUD_DIR/cloud.json")
	run -0 --separate-stderr os-call --cloud minicloud-admin GET network \
		'/v2.0/subnets?fields=name&fields=cidr&fields=network_id'
	subnets=$(sed -n 2p <<< "$output" | jq -c --arg t "$T-" '[.subnets[] | select(.name | startswith($t))] | sort_by(.name)')
	[ "$(jq -c 'map(.cidr)' <<< "$subnets")" = "$want" ]
	# (the minicloud's CIDRs are /24s: the first three numbers tell)
	jq -s -e --argjson s "$subnets" '
	    ([.[] | select(.type == "resource" and .kind == "network") | {(.name): .id}] | add) as $id
	    | all(.[] | select(.type == "host"); .network as $n | .ip as $ip
	        | [$s[] | select(.network_id == $id[$n])] as $mine
	        | ($mine | length) == 1
	        and ($mine[0].cidr | split(".")[:3]) == ($ip | split(".")[:3]))' "$topo"
	# measured across the router: TCP and ICMP on every flow
	run -0 --separate-stderr vmtp-run -q -t 1 --tcp-loops 1 --protocols TI --icmp-sizes 64 --ping-count 1 "$topo"
	jq -s -e '[.[] | select(.type == "sample")]
	    | ([.[] | select(.protocol == "TCP" and .throughput_kbps > 0) | .flow] | unique | length) == 6
	    and ([.[] | select(.protocol == "ICMP" and .rx_packets == 1) | .flow] | unique | length) == 6' <<< "$output"
	# every run's journal and tag: the same as --tag here, the only run
	run -0 --separate-stderr vmtp-cleanup --all
	jq -s -e '[.[] | select(.type == "deleted" and .kind == "router_interface")] | length == 3' <<< "$output"
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
	printf '%s\n' "$stderr"
	[[ $stderr == *"No valid host was found"* ]]
	jq -s -e 'any(.[]; .type == "deleted" and .kind == "server_group")' <<< "$output"
	[ "$(snapshot)" = "$BASE" ]
}

@test "member --mesh 4 on 3 computes, the fourth VM failing while its floating IP is made: the VM's fault is the error told" {
	export OS_CLOUD=minicloud
	# the boots wait until vmtp-provision has listed the VMs' ports and
	# sent its floating IPs' creates; the fourth then finds no host and
	# its port goes, before the creates reach Neutron
	rm -f "$MINICLOUD_DIR/held"
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --hold-boots --hold 'POST /v2.0/floatingips'
	vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T --mesh 4 \
		> "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_held 'POST /v2.0/floatingips'
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --release-boots
	# (an openstack call takes about a second: a minute or two at most)
	for _ in $(seq 60); do
		os server list --name "^$T-" -f value -c Status | grep -q ERROR && break
		sleep 1
	done
	os server list --name "^$T-" -f value -c Status | grep -q ERROR
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --release 'POST /v2.0/floatingips'
	st=0
	wait $pid || st=$?
	cat "$BATS_TEST_TMPDIR/err"
	[ "$st" -eq 1 ]
	grep -q "went into ERROR: No valid host was found" "$BATS_TEST_TMPDIR/err"
	jq -s -e 'any(.[]; .type == "deleted" and .kind == "server_group")' "$BATS_TEST_TMPDIR/out"
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

@test "member --mesh 4 --mesh-path l3 on 3 computes: no valid host; the networks, subnets and router legs rolled back too" {
	export OS_CLOUD=minicloud
	run -1 --separate-stderr vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T --mesh 4 --mesh-path l3
	[[ $stderr == *"No valid host was found"* ]]
	# four networks, each with a subnet and a router leg, made then deleted
	for kind in network subnet router_interface; do
		made=$(jq -s --arg k "$kind" '[.[] | select(.type == "resource" and .kind == $k and .created)] | length' <<< "$output")
		gone=$(jq -s --arg k "$kind" '[.[] | select(.type == "deleted" and .kind == $k)] | length' <<< "$output")
		[ "$made" -eq 4 ] && [ "$gone" -eq 4 ]
	done
	jq -s -e 'any(.[]; .type == "deleted" and .kind == "router")
	    and any(.[]; .type == "deleted" and .kind == "server_group")' <<< "$output"
	[ "$(snapshot)" = "$BASE" ]
}

@test "--mesh-path: without --mesh, an unknown path, l3 with native hosts, one network or a CIDR list it cannot continue: refused" {
	export OS_CLOUD=minicloud-admin
	run -2 --separate-stderr vmtp-provision --tag $T --mesh-path l3
	[[ $stderr == *"--mesh-path: the path of a mesh's flows: it needs --mesh"* ]]
	[[ $stderr == *"usage: vmtp-provision"* ]]
	run -2 --separate-stderr vmtp-provision --tag $T --mesh 3 --mesh-path l4
	[[ $stderr == *"--mesh-path: 'l4' is not one of l2, l3"* ]]
	run -2 --separate-stderr vmtp-provision --tag $T --mesh 2 --mesh-path l3 --host root@127.0.0.1 --host root@127.0.0.2
	[[ $stderr == *"--mesh-path l3 crosses the run's Neutron router: native hosts have none"* ]]
	run -2 --separate-stderr vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T --mesh 3 --mesh-path l3 --same-network-only
	[[ $stderr == *"--same-network-only does not go with it"* ]]
	run -2 --separate-stderr vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T --mesh 3 --mesh-path l3 --reuse-network public
	[[ $stderr == *"--mesh-path l3 makes a network per VM: --reuse-network does not go with it"* ]]
	cfg=$BATS_TEST_TMPDIR/vmtp.yaml
	{ cat "$MINICLOUD_DIR/vmtp.yaml"; echo "reuse_network_name: public"; } > "$cfg"
	run -2 --separate-stderr vmtp-provision -c "$cfg" --tag $T --mesh 3 --mesh-path l3
	[[ $stderr == *"--mesh-path l3 makes a network per VM: $cfg:"*": reuse_network_name does not go with it"* ]]
	# a list the third network cannot continue from: nothing made
	{ grep -v '^internal_cidr:' "$MINICLOUD_DIR/vmtp.yaml"; echo "internal_cidr: ['10.0.0.0/24', 'nowhere']"; } > "$cfg"
	run -2 --separate-stderr vmtp-provision -c "$cfg" --tag $T --mesh 3 --mesh-path l3
	[[ $stderr == *"internal_cidr: 'nowhere' is not an IPv4 network (a.b.c.d/1 to /30) to continue from"* ]]
	[ "$(jq -s '[.[] | select(.type == "resource" and .created)] | length' <<< "$output")" -eq 0 ]
	{ grep -v '^internal_cidr:' "$MINICLOUD_DIR/vmtp.yaml"; echo "internal_cidr: ['10.0.0.0/24', '255.255.255.0/24']"; } > "$cfg"
	run -2 --separate-stderr vmtp-provision -c "$cfg" --tag $T --mesh 3 --mesh-path l3
	[[ $stderr == *"internal_cidr: no room for 3 networks after 255.255.255.0/24"* ]]
	[ "$(jq -s '[.[] | select(.type == "resource" and .created)] | length' <<< "$output")" -eq 0 ]
	[ "$(snapshot)" = "$BASE" ]
}
