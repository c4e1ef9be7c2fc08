#!/usr/bin/env bats
# vmtp-cloud.bats - bin/vmtp on the minicloud (SPEC §6 bin/vmtp, §9):
# the original's command line end to end with the real programs, the
# cloud as it was after every run, INT while provisioning and while
# measuring, --keep, --rerun and --cleanup.  Runs are short: -t 1, two
# pings, one UDP and one ICMP size.

load helpers/common
load helpers/minicloud

VMTP=$VMTP_ROOT/bin/vmtp

setup_file() {
	minicloud_up --computes 2 --boot-delay 1 --tenant-routes
	minicloud_require
	os security group list >/dev/null
	snapshot >"$BATS_FILE_TMPDIR/base"
}

teardown_file() {
	minicloud_down
}

setup() {
	minicloud_require
	minicloud_user_env
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	CFG=$BATS_TEST_TMPDIR/vmtp.yaml
	cp "$MINICLOUD_DIR/vmtp.yaml" "$CFG"
	printf 'ping_count: 2\nudp_pkt_sizes: [1024]\nicmp_pkt_sizes: [64]\ntcp_tp_loop_count: 1\n' >>"$CFG"
	BASE=$(cat "$BATS_FILE_TMPDIR/base")
}

teardown() {
	[ -z "${VMTP_PID:-}" ] || kill -9 -- "-$VMTP_PID" 2>/dev/null || true
}

snapshot() {
	"$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -S 'map_values([.[].name] | sort)'
}

# the run folder of the only run so far
rundir() {
	ls -d "$XDG_STATE_HOME"/vmtp/runs/vmtp-* 2>/dev/null || true
}

# the cloud as before, and no journal left
as_before() {
	local now
	now=$(snapshot)
	if [ "$now" != "$BASE" ]; then
		diff <(echo "$BASE") <(echo "$now") >&2
		return 1
	fi
	[ -z "$(ls "$XDG_STATE_HOME"/vmtp/*.ndjson 2>/dev/null)" ]
}

@test "vmtp -r openrc -c cfg -t 1 --json F --test-description D: every flow, TCP, UDP and ICMP, no error; the cloud as before" {
	run --separate-stderr "$VMTP" -r "$MINICLOUD_DIR/openrc" -c "$CFG" -t 1 \
		--json "$BATS_TEST_TMPDIR/F.json" --test-description D
	echo "$stderr"
	[ "$status" -eq 0 ]
	d=$(rundir)
	doc=$d/result.json
	cmp "$doc" "$BATS_TEST_TMPDIR/F.json"
	[ "$(jq -r .test_description "$doc")" = D ]
	[ "$(jq '.flows | length' "$doc")" -ge 3 ]
	# every flow: TCP, UDP and ICMP, and no error anywhere
	jq -e '[.flows[] | [.results[].protocol] | (index("TCP") and index("UDP") and index("ICMP")) != null] | all' "$doc"
	[ "$(jq '[.. | objects | select(has("error"))] | length' "$doc")" -eq 0 ]
	grep -q '<svg' "$d/report.html"
	# the summary: a verdict per flow, then the files
	[ "$(grep -cE ' PASSED$' <<<"$output")" -eq "$(jq '.flows | length' "$doc")" ]
	! grep -q FAILED <<<"$output"
	[ "${lines[-2]}" = "Result: $doc (copy: $BATS_TEST_TMPDIR/F.json)" ]
	[ "${lines[-1]}" = "Report: $d/report.html" ]
	# what was made is gone
	[ -s "$d/cleanup.ndjson" ]
	as_before
	! grep -qF "$(sed -n 's/^export OS_PASSWORD=//p' "$MINICLOUD_DIR/openrc" | tr -d "'\"")" "$d"/*
}

@test "--protocols IT --inter-node-only --external-host, --keep; --rerun measures again; --cleanup leaves the cloud as before" {
	login=$(sed -n 's/^login=//p' "$MINICLOUD_DIR/external-host")
	key=$(sed -n 's/^key=//p' "$MINICLOUD_DIR/external-host")
	run --separate-stderr "$VMTP" -r "$MINICLOUD_DIR/openrc" -c "$CFG" -t 1 \
		--protocols IT --inter-node-only --external-host "$login" --ssh-key "$key" \
		--hostkey-policy accept-new --known-hosts "$BATS_TEST_TMPDIR/known_hosts" --keep
	echo "$stderr"
	[ "$status" -eq 0 ]
	d=$(rundir)
	tag=${d##*/}
	doc=$d/result.json
	# inter-node flows and the external host only; no UDP
	jq -r '.flows[].desc' "$doc" >"$BATS_TEST_TMPDIR/descs"
	! grep -q 'intra-node' "$BATS_TEST_TMPDIR/descs"
	grep -q 'inter-node' "$BATS_TEST_TMPDIR/descs"
	grep -qx 'External-VM' "$BATS_TEST_TMPDIR/descs"
	[ "$(jq '[.flows[].results[] | select(.protocol == "UDP")] | length' "$doc")" -eq 0 ]
	[ "$(jq '[.flows[].results[] | select(.protocol == "TCP" and .throughput_kbps > 0)] | length' "$doc")" -ge 3 ]
	# the external host both ways
	[ "$(jq '[.flows[] | select(.desc == "External-VM") | .results[] | select(.protocol == "TCP") | .direction // "forward"] | unique | length' "$doc")" -eq 2 ]
	[ "$(jq '[.. | objects | select(has("error"))] | length' "$doc")" -eq 0 ]
	# kept: the VMs are still there, and vmtp says how to go on
	[ "$(snapshot)" != "$BASE" ]
	[[ "$stderr" == *"vmtp:   measure it again: vmtp --rerun $tag"* ]]
	[[ "$stderr" == *"vmtp:   delete it:        vmtp --cleanup $tag -r $MINICLOUD_DIR/openrc"* ]]
	# --rerun: new samples on the same VMs, ICMP only this time
	cp "$d/topology.ndjson" "$BATS_TEST_TMPDIR/topology.before"
	run --separate-stderr "$VMTP" --rerun "$tag" -c "$CFG" --protocols I
	echo "$stderr"
	[ "$status" -eq 0 ]
	cmp "$d/topology.ndjson" "$BATS_TEST_TMPDIR/topology.before"
	[ "$(jq -r '[.flows[].results[].protocol] | unique | join(",")' "$doc")" = ICMP ]
	[ "$(jq -r .run_id "$doc")" = "$tag" ]
	[[ "$output" == *PASSED* ]]
	[ "$(snapshot)" != "$BASE" ]
	# --cleanup TAG: the cloud as before
	run --separate-stderr "$VMTP" --cleanup "$tag" -r "$MINICLOUD_DIR/openrc"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "${stderr_lines[-1]}" =~ ^vmtp:\ [1-9][0-9]*\ resource\(s\)\ deleted$ ]]
	as_before
}

@test "ipv6_mode slaac, --protocols TUIM, --bandwidth 200M: IPv6 twins of the fixed-IP flows, multicast on one network, the limit on every result; the cloud as before" {
	printf 'ipv6_mode: slaac\n' >>"$CFG"
	run --separate-stderr "$VMTP" -r "$MINICLOUD_DIR/openrc" -c "$CFG" -t 1 --inter-node-only \
		--protocols TUIM --bandwidth 200M
	echo "$stderr"
	[ "$status" -eq 0 ]
	d=$(rundir)
	doc=$d/result.json
	[ "$(jq '[.. | objects | select(has("error"))] | length' "$doc")" -eq 0 ]
	# the fixed-IP flows again over IPv6, from and to IPv6 addresses; floating IPs stay IPv4 (as a
	# member vmtp cannot choose the hosts: each flow is named from where the scheduler put its VMs)
	v6=$(jq -r '[.flows[] | select(.ip_to | contains(":")) | .desc] | join("|")' "$doc")
	[ "$v6" = "$(jq -r '[.flows[] | select((.ip_to | contains(":") | not) and (.desc | test("fixed IP"))) | .desc] | join("|")' "$doc")" ]
	[[ "$v6" == *"same network fixed IP"* && "$v6" == *"different network fixed IP"* ]]
	jq -e '[.flows[] | select(.ip_to | contains(":")) | .ip_from | contains(":")] | all' "$doc"
	jq -e '[.flows[] | select(.ip_to | contains(":")) | [.results[].protocol] | (index("TCP") and index("UDP") and index("ICMP")) != null] | all' "$doc"
	jq -e '[.flows[] | select(.ip_to | contains(":")) | .results[] | select(.protocol == "TCP") | .throughput_kbps > 0] | all' "$doc"
	# multicast on the same-network IPv4 flow only, with its group
	mcast=$(jq -r '[.flows[] | select(any(.results[]; .protocol == "Multicast")) | .desc + " " + .ip_to] | join("|")' "$doc")
	[ "$mcast" = "$(jq -r '[.flows[] | select((.ip_to | contains(":") | not) and (.desc | test("same network"))) | .desc + " " + .ip_to] | join("|")' "$doc")" ]
	[ -n "$mcast" ]
	# Debian's nuttcp 6 has no -g: the group is the one it derives from the client's address, said
	group=$(jq -r '.flows[] | select(any(.results[]; .protocol == "Multicast")) | .multicast_address' "$doc")
	[[ "$group" =~ ^231\.[0-9]+\.[0-9]+\.[0-9]+$ ]]
	[[ "$stderr" == *"multicast goes to the group it derives from the client's address ($group), not to 231.1.1.1"* ]]
	jq -e '[.flows[].results[] | select(.protocol == "Multicast") | .throughput_kbps > 0 and .loss_rate >= 0] | all' "$doc"
	# the limit: on every TCP, UDP and multicast result, none on ICMP; TCP kept under it
	jq -e '[.flows[].results[] | select(.protocol != "ICMP") | .bandwidth_limit_kbps == 200000] | all' "$doc"
	jq -e '[.flows[].results[] | select(.protocol == "ICMP") | has("bandwidth_limit_kbps") | not] | all' "$doc"
	jq -e '[.flows[].results[] | select(.protocol == "TCP") | .throughput_kbps <= 1.2 * 200000 * 1024 / 1000] | all' "$doc"
	# the IPv6 flows and multicast apart in the report and the summary
	grep -Eq 'L2 (intra|inter) IPv6' "$d/report.html"
	grep -Eq 'L3 fixed (intra|inter) IPv6' "$d/report.html"
	grep -q 'Multicast' "$d/report.html"
	[[ "$output" =~ L2\ (intra|inter)\ IPv6 ]]
	as_before
}

@test "--no-floatingip --no-dhcp --use-config-drive, user_data_file: VMs at their fixed IPs, subnets without DHCP, config drives, the user data run once per VM; the cloud as before" {
	printf '#!/bin/sh\necho booted-by-user-data\n' >"$BATS_TEST_TMPDIR/user-data.sh"
	printf 'user_data_file: %s\n' "$BATS_TEST_TMPDIR/user-data.sh" >>"$CFG"
	run --separate-stderr "$VMTP" -r "$MINICLOUD_DIR/openrc" -c "$CFG" -t 1 --inter-node-only \
		--protocols TI --no-floatingip --no-dhcp --use-config-drive --keep
	echo "$stderr"
	[ "$status" -eq 0 ]
	d=$(rundir)
	tag=${d##*/}
	topo=$d/topology.ndjson
	doc=$d/result.json
	[ "$(jq '[.. | objects | select(has("error"))] | length' "$doc")" -eq 0 ]
	# no floating IP: each VM reached at its fixed IP; the floating-IP flow goes to the server's fixed IP
	! jq -e 'select(.type == "resource" and .kind == "floatingip")' "$topo" >/dev/null
	jq -se '[.[] | select(.type == "host") | (.ssh.host == .ip) and (has("floating_ip") | not)] | all' "$topo"
	server_ip=$(jq -r 'select(.type == "host" and .role == "server") | .ip' "$topo")
	[ "$(jq -r 'select(.type == "flow" and (.desc | test("floating IP"))) | .target' "$topo" | sort -u)" = "$server_ip" ]
	jq -e '[.flows[].results[] | select(.protocol == "TCP") | .throughput_kbps > 0] | all' "$doc"
	# the subnets without DHCP, the servers with a config drive
	for id in $(jq -r 'select(.type == "resource" and .kind == "subnet") | .id' "$topo"); do
		[ "$(os subnet show -f value -c enable_dhcp "$id")" = False ]
	done
	servers=$(jq -r 'select(.type == "resource" and .kind == "server") | .id' "$topo")
	for id in $servers; do
		[ "$(os server show -f value -c config_drive "$id")" = True ]
	done
	# the user data ran once in each VM (its output is in the VM's user-data log, as on a console)
	for id in $servers; do
		[ "$(grep -c booted-by-user-data "$MINICLOUD_DIR/dataplane/vm-$id/user-data.log")" -eq 1 ]
	done
	run --separate-stderr "$VMTP" --cleanup "$tag" -r "$MINICLOUD_DIR/openrc"
	[ "$status" -eq 0 ]
	as_before
}

@test "bad combinations stop vmtp with status 2 before anything is made: multicast with iperf, --no-dhcp without a config drive, ipv6_mode on a network without IPv6" {
	run -2 --separate-stderr "$VMTP" -r "$MINICLOUD_DIR/openrc" -c "$CFG" --protocols TM --tp-tool iperf
	echo "$stderr"
	[[ "$stderr" == *"multicast needs nuttcp"* ]]
	[ -z "$(rundir)" ]
	run -2 --separate-stderr "$VMTP" -r "$MINICLOUD_DIR/openrc" -c "$CFG" --no-dhcp
	echo "$stderr"
	[[ "$stderr" == *"--no-dhcp: the VMs get no address without --config-drive"* ]]
	printf 'ipv6_mode: slaac\n' >>"$CFG"
	run -2 --separate-stderr "$VMTP" -r "$MINICLOUD_DIR/openrc" -c "$CFG" --reuse_network_name public
	echo "$stderr"
	[[ "$stderr" == *"vmtp-provision: --ipv6-mode: the subnets of network 'public' are not visible to this user: its IPv6 subnet cannot be checked"* ]]
	as_before
}

# start_vmtp ARGS: bin/vmtp in the background as a terminal's job (a process
# group of its own, INT not ignored however this suite was started), its
# pid in VMTP_PID; output in out, err.
start_vmtp() {
	set -m
	env --default-signal=INT "$VMTP" "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	VMTP_PID=$!
	set +m
}

# wait_record FILE FILTER: until a record of the run folder's FILE matches
# the jq FILTER (120 s at most).
wait_record() {
	local d
	for _ in $(seq 1200); do
		d=$(rundir)
		if [ -n "$d" ] && has_record "$d/$1" "$2"; then
			return 0
		fi
		kill -0 "$VMTP_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "no record $2 in $1" >&2
	cat "$BATS_TEST_TMPDIR/err" >&2
	return 1
}

# ctrl_c: INT to the whole job, as a terminal does; then vmtp's status.
ctrl_c() {
	kill -INT -- "-$VMTP_PID"
	st=0
	wait "$VMTP_PID" || st=$?
	VMTP_PID=
}

@test "INT while provisioning: status 130, nothing left in the cloud" {
	start_vmtp -r "$MINICLOUD_DIR/openrc" -c "$CFG" -t 1
	# the VMs are being made: a server is in the journal
	wait_record topology.ndjson 'select(.type == "resource" and .kind == "server")'
	! jq -e 'select(.type == "flow")' "$(rundir)/topology.ndjson" >/dev/null
	ctrl_c
	cat "$BATS_TEST_TMPDIR/err"
	[ "$st" -eq 130 ]
	grep -q '^vmtp: INT: stopping; then cleaning up' "$BATS_TEST_TMPDIR/err"
	as_before
}

@test "INT while measuring: status 130, nothing left in the cloud" {
	start_vmtp -r "$MINICLOUD_DIR/openrc" -c "$CFG" -t 1 --inter-node-only --same-network-only
	wait_record samples.ndjson 'select(.type == "sample")'
	ctrl_c
	cat "$BATS_TEST_TMPDIR/err"
	[ "$st" -eq 130 ]
	grep -q '^vmtp-run: ' "$(rundir)/log"
	as_before
}
