#!/usr/bin/env bats
# vmtp-provision-cloud.bats - vmtp-provision's cloud mode against the
# minicloud's real Keystone, Neutron and Glance (SPEC §6): failures are
# reported with the API's own words and roll back; a provision killed at any
# point is cleaned up by vmtp-cleanup --tag; and on one compute host the
# topology is three VMs and three intra-node flows.  The member's project
# may run two servers, so a full run as the member fails at the third.
# --reuse-network public puts the VMs on the provider network (L2 flows
# only).  An image uploaded from vm_image_url is kept for the next runs
# unless --delete-image-after-run; the configured names of the VMs and the
# key pair are used, after the run tag.  The hosts have no SR-IOV NIC:
# --vnic-type direct/macvtap VMs never build.  A --controller-node is a
# namespace host (helpers/nshosts) whose sshd sees the test's os-release,
# cpuinfo and Python packages.  Issue 14: --ipv6-mode (IPv6 subnets, router
# legs, rules, host addresses, IPv6 flows), --no-floatingip, --no-dhcp with
# --config-drive, --user-data, and the combinations refused before anything
# is made.

load helpers/common
load helpers/minicloud
load helpers/nshosts

T=vmtp-0c0ffee0

setup_file() {
	minicloud_up --computes 1 --boot-delay 1
	minicloud_require
	os_admin quota set --instances 2 demo
	# the project's default security group exists before the baseline
	os security group list > /dev/null
	snapshot > "$BATS_FILE_TMPDIR/base"
}

teardown_file() {
	minicloud_down
}

teardown() {
	nsh_ctl_down 1
	nshosts_down
	# a test that failed holding requests lets them go
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear 2>/dev/null || true
}

setup() {
	minicloud_require
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	export OS_CLOUD=minicloud
	CFG=$BATS_TEST_TMPDIR/vmtp.yaml
	cp "$MINICLOUD_DIR/vmtp.yaml" "$CFG"
	BASE=$(cat "$BATS_FILE_TMPDIR/base")
}

snapshot() {
	"$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -S 'map_values([.[].name] | sort)'
}

@test "over quota: the API's message, status 1, everything created rolled back" {
	run -1 --separate-stderr vmtp-provision -c "$CFG" --tag $T
	# the VMs boot side by side: which two the quota lets through varies
	[[ "$stderr" =~ "vmtp-provision: cannot create server $T-"(server|client[1-4])": 403: ".*uota ]]
	# what was created was announced, and deleted again, in order; the
	# router and the rules come while the VMs boot, so never got made
	[ "$(jq -r 'select(.type=="resource") | .kind' <<< "$output" | sort -u | paste -sd,)" = \
		"keypair,network,security_group,server,subnet" ]
	[ "$(jq -s '[.[] | select(.type=="resource")] | length' <<< "$output")" -eq \
		"$(jq -s '[.[] | select(.type=="deleted" and (has("error") | not))] | length' <<< "$output")" ]
	[ "$(snapshot)" = "$BASE" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.key" ]
}

@test "--keep-on-error leaves what was made, journalled, for vmtp-cleanup" {
	run -1 --separate-stderr vmtp-provision -c "$CFG" --tag $T --keep-on-error
	[[ "$stderr" == *"vmtp-cleanup --tag $T removes it"* ]]
	[ "$(snapshot)" != "$BASE" ]
	# key pair, group, 2 networks and subnets, the 2 servers the quota allows
	[ "$(jq -c 'select(.type=="resource") | .id' "$XDG_STATE_HOME/vmtp/$T.ndjson" | wc -l)" -eq 8 ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
}

@test "every created resource is tagged, named with the run and journalled before the next step" {
	# two VMs fit the member's quota: the whole topology gets made
	run -0 --separate-stderr vmtp-provision -c "$CFG" --tag $T --same-network-only --inter-node-only
	journal=$XDG_STATE_HOME/vmtp/$T.ndjson
	# the journal holds exactly the created resources announced on stdout
	[ "$(jq -c 'select(.type=="resource" and .created)' <<< "$output")" = "$(jq -c . "$journal")" ]
	# Neutron resources and servers carry the tag, all but floating IPs the name
	made=$(jq -s '[.[] | select(.type=="resource" and .created and
		(.kind | IN("network", "subnet", "router", "security_group", "floatingip", "server"))) | .id]' <<< "$output")
	[ "$(jq length <<< "$made")" -eq 8 ]
	res=$("$MINICLOUD" resources --dir "$MINICLOUD_DIR")
	[ "$(jq --argjson m "$made" --arg t $T '[.[][] | select(.id as $i | $m | index($i)) |
		select(.tags | index($t))] | length' <<< "$res")" -eq 8 ]
	[ "$(jq --argjson m "$made" --arg t $T '[.[][] | select(.id as $i | $m | index($i)) |
		select(.name | startswith($t))] | length' <<< "$res")" -eq 6 ]
	[ "$(jq --arg t $T '[.keypairs[] | select(.name | startswith($t))] | length' <<< "$res")" -eq 1 ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
}

@test "a VM that never answers SSH is named after the configured patience; the rollback keeps a reused group" {
	# a group of the user's own, with no rule for port 22: reused as it is
	os security group create no-ssh > /dev/null
	printf 'security_group_name: no-ssh\nssh_retry_count: 1\n' >> "$CFG"
	run -1 --separate-stderr vmtp-provision -c "$CFG" --tag $T --same-network-only --inter-node-only
	# every VM that does not answer is named
	[[ "$stderr" == *"vmtp-provision: $T-server, $T-client1 do not answer SSH after 5 s: "*"port 22 does not answer" ]]
	[ "$(jq -c 'select(.type=="resource" and .kind=="security_group") | [.name, .created]' <<< "$output")" = '["no-ssh",false]' ]
	os security group show no-ssh > /dev/null
	os security group delete no-ssh
	[ "$(snapshot)" = "$BASE" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

@test "an image that does not exist is named; nothing is created" {
	printf "image_name: 'no-such-image'\n" >> "$CFG"
	# -q: the member's "not an admin" note, from the search for hosts made
	# beside the image's, is no part of it
	run -1 --separate-stderr vmtp-provision -q -c "$CFG" --tag $T
	[ -z "$output" ]
	[ "$stderr" = "vmtp-provision: image 'no-such-image' not found, and vm_image_url is not set" ]
	[ "$(snapshot)" = "$BASE" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

# upload_cfg: a 64 KiB image file, and image_name/vm_image_url naming it.
upload_cfg() {
	head -c 65536 /dev/urandom > "$BATS_TEST_TMPDIR/disk.raw"
	printf "image_name: 'vmtp-upload'\nvm_image_url: 'file://%s'\n" "$BATS_TEST_TMPDIR/disk.raw" >> "$CFG"
}

@test "an image uploaded from vm_image_url is kept, untagged, and found again by the next run" {
	upload_cfg
	# the whole topology is over the member's quota: the run fails, and
	# its rollback leaves the image
	run -1 --separate-stderr vmtp-provision -c "$CFG" --tag $T
	id=$(jq -r 'select(.type=="resource" and .kind=="image") | .id' <<< "$output")
	[ "$(jq -c 'select(.type=="resource" and .kind=="image") | [.name, .created]' <<< "$output")" = '["vmtp-upload",false]' ]
	[[ "$stderr" == *"uploaded image vmtp-upload, kept for later runs"* ]]
	[ "$(os image show "$id" -f json | jq -c '[.name, .status, .size, .tags]')" = '["vmtp-upload","active",65536,[]]' ]
	[ "$(jq -s '[.[] | select(.type=="deleted" and .kind=="image")] | length' <<< "$output")" -eq 0 ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(os image show "$id" -f value -c status)" = active ]
	# the next run boots it, uploading nothing
	run -0 --separate-stderr vmtp-provision -c "$CFG" --tag vmtp-0c0ffee1 --same-network-only --inter-node-only
	[[ "$stderr" != *uploading* ]]
	[ "$(jq -s '[.[] | select(.type=="resource" and .kind=="image")] | length' <<< "$output")" -eq 0 ]
	[[ "$(os server show vmtp-0c0ffee1-server -f value -c image)" == *"$id"* ]]
	run -0 --separate-stderr vmtp-cleanup --tag vmtp-0c0ffee1
	[ "$(os image show "$id" -f value -c status)" = active ]
	os image delete "$id"
	[ "$(snapshot)" = "$BASE" ]
}

@test "--delete-image-after-run: the uploaded image is the run's, tagged and journalled; cleanup deletes it" {
	upload_cfg
	run -1 --separate-stderr vmtp-provision -c "$CFG" --tag $T --delete-image-after-run --keep-on-error
	[ "$(jq -c 'select(.type=="resource" and .kind=="image") | [.name, .created]' <<< "$output")" = '["vmtp-upload",true]' ]
	[ "$(jq -c 'select(.kind=="image") | .name' "$XDG_STATE_HOME/vmtp/$T.ndjson")" = '"vmtp-upload"' ]
	[ "$(os image show vmtp-upload -f json | jq -c '[.status, .size, .tags]')" = "[\"active\",65536,[\"$T\"]]" ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(jq -c 'select(.type=="deleted" and .kind=="image") | [.name, has("error")]' <<< "$output")" = '["vmtp-upload",false]' ]
	[ "$(snapshot)" = "$BASE" ]
}

@test "an upload that fails is rolled back: no image is left" {
	printf "image_name: 'vmtp-upload'\nvm_image_url: 'file://%s/none.img'\n" "$BATS_TEST_TMPDIR" >> "$CFG"
	run -1 --separate-stderr vmtp-provision -q -c "$CFG" --tag $T
	[[ "$stderr" == "vmtp-provision: cannot download file://$BATS_TEST_TMPDIR/none.img: "* ]]
	[ "$(jq -c 'select(.type=="deleted") | [.kind, .name, has("error")]' <<< "$output")" = '["image","vmtp-upload",false]' ]
	[ "$(snapshot)" = "$BASE" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

@test "killed while the image uploads: the image, tagged and not active, goes with vmtp-cleanup --tag" {
	# a FIFO that nobody writes: the download of the image's data blocks
	# once the image exists, until the kill
	mkfifo "$BATS_TEST_TMPDIR/disk.fifo"
	printf "image_name: 'vmtp-upload'\nvm_image_url: 'file://%s'\n" "$BATS_TEST_TMPDIR/disk.fifo" >> "$CFG"
	vmtp-provision -c "$CFG" --tag $T > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	for _ in $(seq 300); do
		[ -n "$(os image list --tag $T -f value -c ID)" ] && break
		sleep 0.1
	done
	kill -9 $pid
	wait $pid || true
	[ "$(os image show vmtp-upload -f json | jq -c '[.status, .tags]')" = "[\"queued\",[\"$T\"]]" ]
	# nothing said it was kept
	[ "$(jq -s '[.[] | select(.kind=="image")] | length' "$BATS_TEST_TMPDIR/out")" -eq 0 ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(jq -c 'select(.type=="deleted" and .kind=="image") | [.name, has("error")]' <<< "$output")" = '["vmtp-upload",false]' ]
	[ "$(snapshot)" = "$BASE" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

@test "vm_name_server, vm_name_client and public_key_name name the VMs and the key pair, after the run tag" {
	printf "vm_name_server: 'perf-srv'\nvm_name_client: 'perf-cli'\npublic_key_name: 'perf-key'\n" >> "$CFG"
	run -0 --separate-stderr vmtp-provision -c "$CFG" --tag $T --same-network-only --inter-node-only
	[ "$(os server list -f value -c Name | sort | paste -sd' ')" = "$T-perf-cli1 $T-perf-srv" ]
	[ "$(os keypair list -f value -c Name | grep -c "^$T-perf-key\$")" -eq 1 ]
	[ "$(jq -r 'select(.type=="host") | .name' <<< "$output" | paste -sd' ')" = "$T-perf-srv $T-perf-cli1" ]
	[ "$(jq -r 'select(.type=="flow") | "\(.client) \(.server)"' <<< "$output")" = "$T-perf-cli1 $T-perf-srv" ]
	# found by their names too, as every key pair of a run is
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
}

@test "a name too long for the cloud is refused before anything is made" {
	printf "vm_name_client: '%s'\n" "$(printf 'c%.0s' $(seq 120))" >> "$CFG"
	run -65 --separate-stderr vmtp-provision -q -c "$CFG" --tag $T
	[[ "$stderr" == "vmtp-provision: vm_name_client: 'ccc"*"' is longer than 102 characters" ]]
	[ "$(snapshot)" = "$BASE" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

@test "reuse_network_name in the configuration is --reuse-network: a network that does not exist is named" {
	printf "reuse_network_name: 'no-such-net'\n" >> "$CFG"
	run -1 --separate-stderr vmtp-provision -q -c "$CFG" --tag $T
	[ "$stderr" = "vmtp-provision: network 'no-such-net' not found" ]
	[ -z "$output" ]
	[ "$(snapshot)" = "$BASE" ]
}

@test "--vm-image-url overrides the configuration's vm_image_url" {
	head -c 65536 /dev/urandom > "$BATS_TEST_TMPDIR/disk.raw"
	printf "image_name: 'vmtp-upload'\nvm_image_url: 'file://%s/nothing-here'\n" "$BATS_TEST_TMPDIR" >> "$CFG"
	# (the image goes with the run: an uploaded image is otherwise kept)
	run -1 --separate-stderr vmtp-provision -c "$CFG" --tag $T --keep-on-error \
		--delete-image-after-run --vm-image-url "file://$BATS_TEST_TMPDIR/disk.raw"
	[ "$(jq -r 'select(.type=="resource" and .kind=="image") | .name' <<< "$output")" = vmtp-upload ]
	[ "$(os image show vmtp-upload -f value -c size)" -eq 65536 ]
	vmtp-cleanup --tag $T > /dev/null
	[ "$(snapshot)" = "$BASE" ]
}

@test "a wrong password is one clear line, status 1" {
	sed 's/^export OS_PASSWORD=.*/export OS_PASSWORD=not-the-password/' "$MINICLOUD_DIR/openrc" > "$BATS_TEST_TMPDIR/bad"
	run -1 --separate-stderr env -u OS_CLOUD vmtp-provision -c "$CFG" -r "$BATS_TEST_TMPDIR/bad"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "vmtp-provision: cannot authenticate at http://127.0.0.1:"*"/v3: Keystone said 401: "* ]]
}

@test "no credentials at all names OS_AUTH_URL" {
	run -2 --separate-stderr env -u OS_CLOUD -u OS_AUTH_URL vmtp-provision -c "$CFG"
	[ "$stderr" = "vmtp-provision: OS_AUTH_URL is not set" ]
}

# provision_kill WHEN: starts a provision, kills it with -9 once a record
# matching the jq filter WHEN is out, then checks cleanup leaves nothing.
provision_kill() {
	vmtp-provision -c "$CFG" --tag $T > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	for _ in $(seq 300); do
		if has_record "$BATS_TEST_TMPDIR/out" "$1"; then
			break
		fi
		sleep 0.1
	done
	kill -9 $pid
	wait $pid || true
	has_record "$BATS_TEST_TMPDIR/out" "$1"
	run --separate-stderr vmtp-cleanup --tag $T
	[ "$status" -eq 0 ] || { echo "vmtp-cleanup: status $status: $stderr"; false; }
	[ "$(snapshot)" = "$BASE" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

@test "killed right after authenticating: cleanup leaves nothing" {
	provision_kill 'select(.kind=="keypair")'
}

@test "killed while creating networks: cleanup leaves nothing" {
	provision_kill 'select(.kind=="subnet")'
}

@test "killed while booting: cleanup leaves nothing, servers included" {
	provision_kill 'select(.kind=="server")'
}

@test "killed while making floating IPs: cleanup leaves nothing" {
	# two VMs fit the member's quota, so the run gets as far as floating IPs
	printf 'generic_retry_count: 60\n' >> "$CFG"
	vmtp-provision -c "$CFG" --tag $T --same-network-only --inter-node-only \
		> "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	for _ in $(seq 600); do
		has_record "$BATS_TEST_TMPDIR/out" 'select(.kind=="floatingip")' && break
		sleep 0.1
	done
	kill -9 $pid
	wait $pid || true
	has_record "$BATS_TEST_TMPDIR/out" 'select(.kind=="floatingip")'
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

@test "killed with servers' creates in flight that land while vmtp-cleanup runs: another round deletes them and what they hold" {
	n=$(wc -l < "$MINICLOUD_DIR/api.log")
	rm -f "$MINICLOUD_DIR/held"
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --hold 'POST /v2.1/servers'
	vmtp-provision -c "$CFG" --tag $T > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_held 'POST /v2.1/servers'
	kill -9 $pid
	wait $pid || true
	# vmtp-cleanup finds what there is, then its first network delete
	# waits while the creates land
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --hold 'DELETE /v2.0/'
	vmtp-cleanup --tag $T > "$BATS_TEST_TMPDIR/cl.out" 2> "$BATS_TEST_TMPDIR/cl.err" &
	cpid=$!
	wait_held 'DELETE /v2.0/'
	held=$(grep -c '^POST /v2.1/servers' "$MINICLOUD_DIR/held")
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --release 'POST /v2.1/servers'
	for _ in $(seq 600); do
		[ "$(tail -n +$((n + 1)) "$MINICLOUD_DIR/api.log" | grep -c '^compute POST /v2.1/servers ')" -ge "$held" ] && break
		sleep 0.1
	done
	os server list -f value -c Name | grep -q "^$T-"
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --release 'DELETE /v2.0/'
	st=0
	wait $cpid || st=$?
	cat "$BATS_TEST_TMPDIR/cl.err"
	[ "$st" -eq 0 ]
	grep -q "of the run made meanwhile: deleting what is left again" "$BATS_TEST_TMPDIR/cl.err"
	grep -q "deleted server $T-" "$BATS_TEST_TMPDIR/cl.err"
	[ "$(snapshot)" = "$BASE" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

@test "SIGTERM rolls back what was made" {
	vmtp-provision -c "$CFG" --tag $T > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	for _ in $(seq 300); do
		jq -e 'select(.kind=="router")' "$BATS_TEST_TMPDIR/out" > /dev/null 2>&1 && break
		sleep 0.1
	done
	kill -TERM $pid
	st=0
	wait $pid || st=$?
	[ "$st" -eq 1 ]
	grep -q 'interrupted' "$BATS_TEST_TMPDIR/err"
	[ "$(snapshot)" = "$BASE" ]
}

@test "usage errors name the option" {
	run -2 --separate-stderr vmtp-provision --vnic-type fast
	[[ "${stderr_lines[0]}" == "vmtp-provision: --vnic-type: 'fast' is not one of normal, direct, macvtap" ]]
	run -2 --separate-stderr vmtp-provision --tag vmtp-xyz
	[[ "${stderr_lines[0]}" == "vmtp-provision: --tag: 'vmtp-xyz' is not vmtp- and 8 hex digits" ]]
	run -2 --separate-stderr vmtp-provision --hypervisor a --hypervisor b --hypervisor c
	[[ "${stderr_lines[0]}" == "vmtp-provision: --hypervisor: at most twice (server, clients)" ]]
}

@test "one compute host: three VMs, three intra-node flows, all reachable; cleanup leaves nothing" {
	# the admin sees the compute hosts, so the topology fits the one host
	export OS_CLOUD=minicloud-admin
	run -0 --separate-stderr vmtp-provision -c "$CFG" --tag $T
	[ "$(jq -s '[.[] | select(.type=="host")] | length' <<< "$output")" -eq 3 ]
	[ "$(jq -r 'select(.type=="flow") | .desc' <<< "$output" | paste -sd'|')" = \
		"VM to VM same network fixed IP (intra-node)|VM to VM different network fixed IP (intra-node)|VM to VM different network floating IP (intra-node)" ]
	[ "$(jq -s '[.[] | select(.type=="host") | select((.floating_ip|length)>0 and (.ssh.hostkey|startswith("SHA256:")))] | length' <<< "$output")" -eq 3 ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
}

@test "--reuse-network public: VMs on the provider network at their fixed IPs, no router or floating IP; cleanup keeps the network" {
	export OS_CLOUD=minicloud-admin
	public=$(jq -r .public_network "$MINICLOUD_DIR/cloud.json")
	cidr=$(jq -r .public_cidr "$MINICLOUD_DIR/cloud.json")
	login=$(sed -n 's/^login=//p' "$MINICLOUD_DIR/external-host")
	key=$(sed -n 's/^key=//p' "$MINICLOUD_DIR/external-host")
	run -0 --separate-stderr vmtp-provision -c "$CFG" --tag $T --reuse-network public \
		--external-host "$login" --ssh-key "$key" --hostkey-policy accept-new \
		--known-hosts "$BATS_TEST_TMPDIR/known_hosts"
	# nothing of the L3 topology is made; the network is announced as reused
	[ "$(jq -s '[.[] | select(.type=="resource" and .created and
		(.kind | IN("network", "subnet", "router", "floatingip")))] | length' <<< "$output")" -eq 0 ]
	[ "$(jq -c 'select(.type=="resource" and .kind=="network") | [.id, .name, .created]' <<< "$output")" = \
		"[\"$public\",\"public\",false]" ]
	# the VMs are reached at their fixed IPs on public: no floating IP
	[ "$(jq -s '[.[] | select(.type=="host" and .role!="external")] | length' <<< "$output")" -eq 2 ]
	[ "$(jq -s '[.[] | select(.type=="host" and (has("floating_ip") | not) and .network=="public" and
		.ssh.host==.ip and (.ssh.hostkey | startswith("SHA256:")))] | length' <<< "$output")" -eq 2 ]
	prefix=${cidr%.0/24}.
	[ "$(jq -r 'select(.type=="host" and .role!="external") | .ip' <<< "$output" | grep -c "^${prefix//./\\.}")" -eq 2 ]
	# L2 flows only: same network, fixed IP; the external host, on the
	# provider network too, reaches the server at its own address
	server_ip=$(jq -r 'select(.type=="host" and .role=="server") | .ip' <<< "$output")
	[ "$(jq -r 'select(.type=="flow") | "\(.desc) \(.target)"' <<< "$output" | paste -sd'|')" = \
		"VM to VM same network fixed IP (intra-node) $server_ip|External-VM $server_ip" ]
	# packets flow on the provider network
	topo=$output
	run -0 --separate-stderr vmtp-run -t 1 --protocols TI --ping-count 2 <<< "$topo"
	[ "$(jq -s '[.[] | select(.type=="sample" and .protocol=="TCP" and .throughput_kbps > 0)] | length' <<< "$output")" -gt 0 ]
	[ "$(jq -s '[.[] | select(.type=="sample" and .protocol=="ICMP" and .rtt_avg_ms > 0)] | length' <<< "$output")" -gt 0 ]
	[ "$(jq -s '[.[] | select(.type=="sample" and has("error"))] | length' <<< "$output")" -eq 0 ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
	[ "$(os_admin network show public -f value -c id)" = "$public" ]
}

@test "--reuse-network public as a member, who cannot see its subnets: not taken for a network without any; Neutron's answer named; with --ipv6-mode, status 2 naming why" {
	export OS_CLOUD=minicloud
	run -2 --separate-stderr vmtp-provision -q -c "$CFG" --tag $T --reuse-network public --ipv6-mode slaac
	[ "$stderr" = "vmtp-provision: --ipv6-mode: the subnets of network 'public' are not visible to this user: its IPv6 subnet cannot be checked" ]
	[ "$(snapshot)" = "$BASE" ]
	# the minicloud's public network is not shared: a member may not put ports on it, and is told so.
	# The suite's quota of 2 instances would race with it: a third VM refused for the quota
	# before the first one's port is refused
	os_admin quota set --instances 10 demo
	run -1 --separate-stderr vmtp-provision -q -c "$CFG" --tag $T --reuse-network public
	os_admin quota set --instances 2 demo
	# the VMs are created side by side: whichever is refused first is named
	[[ "$stderr" =~ "cannot create server $T-"(server|client[1-4])": 403: ".*"not allowed to create port on this network" ]]
	[[ "$stderr" != *"has no IPv4 subnet"* ]]
	[ "$(snapshot)" = "$BASE" ]
}

@test "--vnic-type direct: vmtp makes each VM's port, tagged, vnic_type direct; no SR-IOV host takes it; cleanup deletes the ports" {
	# the admin's VMs are placed on compute-1 by name: Nova skips the filters
	# for a forced host, the host's PCI claim fails and no host is left
	export OS_CLOUD=minicloud-admin
	run -1 --separate-stderr vmtp-provision -c "$CFG" --tag $T --vnic-type direct --keep-on-error
	[[ "$stderr" == *"vmtp-provision: server $T-"*" went into ERROR: Exceeded maximum number of retries. Exhausted all hosts available"* ]]
	ports=$(jq -sc '[.[] | select(.type=="resource" and .kind=="port" and .created) | .name] | sort' <<< "$output")
	[ "$ports" = "[\"$T-client1-port\",\"$T-client2-port\",\"$T-server-port\"]" ]
	run -0 os_admin port list --tags $T -f value -c ID
	[ "${#lines[@]}" -eq 3 ]
	for id in "${lines[@]}"; do
		[ "$(os_admin port show "$id" -f json | jq -c '[.binding_vnic_type, .device_id, .tags]')" = \
			"[\"direct\",\"\",[\"$T\"]]" ]
	done
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(jq -s '[.[] | select(.type=="deleted" and .kind=="port")] | length' <<< "$output")" -eq 3 ]
	[ "$(snapshot)" = "$BASE" ]
}

@test "--vnic-type macvtap as the member: the scheduler finds no host; the ports are rolled back" {
	run -1 --separate-stderr vmtp-provision -c "$CFG" --tag $T --vnic-type macvtap --same-network-only --inter-node-only
	[[ "$stderr" == *"vmtp-provision: server $T-"*" went into ERROR: No valid host was found. There are not enough hosts available."* ]]
	[ "$(jq -s '[.[] | select(.type=="resource" and .kind=="port")] | length' <<< "$output")" -eq 2 ]
	[ "$(jq -s '[.[] | select(.type=="deleted" and .kind=="port" and (has("error") | not))] | length' <<< "$output")" -eq 2 ]
	[ "$(snapshot)" = "$BASE" ]
}

@test "--controller-node in cloud mode: the run record holds the controller's distribution, release and CPU" {
	export OS_CLOUD=minicloud-admin
	nshosts_up 1
	C=$BATS_TEST_TMPDIR/ctl
	mkdir -p "$C/dp/neutron-21.0.0.egg-info"
	printf 'Metadata-Version: 2.1\nName: neutron\nVersion: 21.0.0\n' > "$C/dp/neutron-21.0.0.egg-info/PKG-INFO"
	printf 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\n' > "$C/os-release"
	printf 'processor\t: 0\nmodel name\t: AMD EPYC 7543 32-Core Processor\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7543 32-Core Processor\n' > "$C/cpuinfo"
	nsh_ctl_up 1 "$C/os-release=/etc/os-release" "$C/cpuinfo=/proc/cpuinfo" \
	    "$C/dp=/usr/lib/python3/dist-packages"
	# the fewest resources: VMs on the provider network, no L3 topology
	run -0 --separate-stderr vmtp-provision -c "$CFG" --tag $T --reuse-network public \
		--controller-node "root@$(nsh_ctl_ip 1)" --ssh-key "$NSH_DIR/id_ed25519" \
		--known-hosts "$NSH_DIR/known_hosts"
	[ "$(jq -c 'select(.type == "run") | [.mode, .distro, .openstack_version, .cpu_info, (.auth_url | length > 0)]' <<< "$output")" = \
		'["cloud","Debian GNU/Linux 12","Zed (neutron 21.0.0)","2 * AMD EPYC 7543 32-Core Processor",true]' ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
}

@test "--ipv6-mode slaac: IPv6 subnets, router legs and rules; hosts with ipv6; IPv6 flows after the IPv4 ones; cleanup leaves nothing" {
	export OS_CLOUD=minicloud-admin
	run -0 --separate-stderr vmtp-provision -c "$CFG" --tag $T --ipv6-mode slaac
	# an IPv6 subnet per network, in the configured CIDRs, slaac both ways
	v6=$(jq -r 'select(.type=="resource" and .kind=="subnet" and (.name | endswith("-v6"))) | .id' <<< "$output")
	[ "$(wc -l <<< "$v6")" -eq 2 ]
	for id in $v6; do
		[[ "$(os_admin subnet show "$id" -f json | jq -r '[.ip_version, .ipv6_ra_mode, .ipv6_address_mode, .cidr] | join(" ")')" =~ ^"6 slaac slaac 2001:4"[56]"::/64"$ ]]
	done
	# a router leg on each of the four subnets
	[ "$(jq -s '[.[] | select(.type=="resource" and .kind=="router_interface")] | length' <<< "$output")" -eq 4 ]
	# the IPv4 rules and their IPv6 twins
	sg=$(jq -r 'select(.type=="resource" and .kind=="security_group") | .id' <<< "$output")
	rules=$(os_admin security group rule list "$sg" -f json)
	[ "$(jq -r 'map(select(.Direction=="ingress" and .Ethertype=="IPv6") | "\(.["IP Protocol"]) \(.["Port Range"])") |
		sort | join(",")' <<< "$rules")" = "ipv6-icmp ,tcp 22:22,tcp 5100:5105,tcp 5201:5201,udp 5101:5105,udp 5201:5201" ]
	[ "$(jq 'map(select(.Direction=="ingress" and .Ethertype=="IPv4")) | length' <<< "$rules")" -eq 6 ]
	# every VM has its IPv6 address in its network's CIDR, as Nova reports it
	[ "$(jq -s '[.[] | select(.type=="host" and (.ipv6 | test("^2001:4[56]:")))] | length' <<< "$output")" -eq 3 ]
	srv6=$(jq -r 'select(.type=="host" and .role=="server") | .ipv6' <<< "$output")
	srv4=$(jq -r 'select(.type=="host" and .role=="server") | .ip' <<< "$output")
	fip=$(jq -r 'select(.type=="host" and .role=="server") | .floating_ip' <<< "$output")
	[[ "$(os_admin server show $T-server -f json | jq -r '.addresses | tostring')" == *"$srv6"* ]]
	# the IPv4 flows keep their ids; the IPv6 twins of the fixed-IP ones follow
	[ "$(jq -r 'select(.type=="flow") | "\(.id) \(.desc) \(.target)"' <<< "$output")" = "\
1 VM to VM same network fixed IP (intra-node) $srv4
2 VM to VM different network fixed IP (intra-node) $srv4
3 VM to VM different network floating IP (intra-node) $fip
4 VM to VM same network fixed IP (intra-node) $srv6
5 VM to VM different network fixed IP (intra-node) $srv6" ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
}

@test "--ipv6-mode with a reused network that has no IPv6 subnet: one message, status 2, nothing made" {
	export OS_CLOUD=minicloud-admin
	run -2 --separate-stderr vmtp-provision -q -c "$CFG" --tag $T --ipv6-mode slaac --reuse-network public
	[ "$stderr" = "vmtp-provision: --ipv6-mode: network 'public' has no IPv6 subnet" ]
	[ -z "$output" ]
	[ "$(snapshot)" = "$BASE" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

@test "bad values and combinations are refused with status 2 before anything is made" {
	head -c 49150 /dev/zero > "$BATS_TEST_TMPDIR/big"
	printf "ipv6_mode: 'slac'\n" > "$BATS_TEST_TMPDIR/bad.yaml"
	run -2 --separate-stderr vmtp-provision -q -c "$BATS_TEST_TMPDIR/bad.yaml" --tag $T
	[ "$stderr" = "vmtp-provision: $BATS_TEST_TMPDIR/bad.yaml:1: ipv6_mode: 'slac' is not one of slaac, dhcpv6-stateful, dhcpv6-stateless" ]
	run -2 --separate-stderr vmtp-provision -q -c "$CFG" --tag $T --no-dhcp
	[ "$stderr" = "vmtp-provision: --no-dhcp: the VMs get no address without --config-drive" ]
	run -2 --separate-stderr vmtp-provision -q -c "$CFG" --tag $T --user-data "$BATS_TEST_TMPDIR/big"
	[[ "$stderr" == "vmtp-provision: --user-data: $BATS_TEST_TMPDIR/big is 49150 bytes"* ]]
	run -2 --separate-stderr vmtp-provision -q -c "$CFG" --tag $T --user-data "$BATS_TEST_TMPDIR/none"
	[[ "$stderr" == "vmtp-provision: --user-data: cannot open $BATS_TEST_TMPDIR/none: "* ]]
	[ "$(snapshot)" = "$BASE" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

@test "--no-floatingip on a provider network: no floating IP, reached at the fixed IP" {
	export OS_CLOUD=minicloud-admin
	run -0 --separate-stderr vmtp-provision -c "$CFG" --tag $T --reuse-network public --no-floatingip
	[ "$(jq -s '[.[] | select(.type=="resource" and .kind=="floatingip")] | length' <<< "$output")" -eq 0 ]
	[ "$(jq -s '[.[] | select(.type=="host" and (has("floating_ip") | not) and .ssh.host==.ip and
		(.ssh.hostkey | startswith("SHA256:")))] | length' <<< "$output")" -eq 2 ]
	[ "$(os_admin floating ip list -f value | wc -l)" -eq 0 ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
}

@test "--no-dhcp --config-drive: subnets without DHCP, servers with a config drive" {
	run -0 --separate-stderr vmtp-provision -c "$CFG" --tag $T --same-network-only --inter-node-only \
		--no-dhcp --config-drive
	subnet=$(jq -r 'select(.type=="resource" and .kind=="subnet") | .id' <<< "$output")
	[ "$(os subnet show "$subnet" -f value -c enable_dhcp)" = False ]
	[ "$(os server show $T-server -f value -c config_drive)" = True ]
	[ "$(os server show $T-client1 -f value -c config_drive)" = True ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
}

@test "VMs that never answer SSH are named, and a subnet without DHCP is said to be the likely reason" {
	os network create nodhcp > /dev/null
	os subnet create --network nodhcp --subnet-range 10.99.0.0/24 --no-dhcp nodhcp-subnet > /dev/null
	printf 'ssh_retry_count: 1\n' >> "$CFG"
	run -1 --separate-stderr vmtp-provision -c "$CFG" --tag $T --reuse-network nodhcp --inter-node-only
	# the rolled-back servers' ports go as Nova deletes them
	for _ in $(seq 50); do
		os network delete nodhcp 2> /dev/null && break
		sleep 0.2
	done
	[[ "$stderr" == *"vmtp-provision: $T-server, $T-client1 do not answer SSH after 5 s: "*"; likely because their subnet has DHCP disabled and they have no config drive (--config-drive), so they have no address" ]]
	[ "$(snapshot)" = "$BASE" ]
}

@test "user_data_file: the servers' Nova user data is the file; reuse_network_name puts them on the network" {
	export OS_CLOUD=minicloud-admin
	printf '#!/bin/sh\necho user data ran > /root/vmtp-user-data\n' > "$BATS_TEST_TMPDIR/init.sh"
	printf "reuse_network_name: 'public'\nuser_data_file: '%s'\n" "$BATS_TEST_TMPDIR/init.sh" >> "$CFG"
	run -0 --separate-stderr vmtp-provision -c "$CFG" --tag $T
	[ "$(jq -r 'select(.type=="host") | .network' <<< "$output" | sort -u)" = public ]
	for vm in $T-server $T-client1; do
		os_admin --os-compute-api-version 2.3 server show $vm -f json |
			jq -r '.["OS-EXT-SRV-ATTR:user_data"]' | base64 -d > "$BATS_TEST_TMPDIR/got"
		cmp "$BATS_TEST_TMPDIR/init.sh" "$BATS_TEST_TMPDIR/got"
	done
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$BASE" ]
}
