#!/usr/bin/env bats
# vmtp-pipeline-cloud.bats - the whole cloud pipeline on the minicloud with
# its data path (SPEC §1, §6, §9): vmtp-provision builds the VMTP topology
# on two compute hosts, vmtp-run measures it over the VMs' floating IPs,
# vmtp-chart draws it, vmtp-cleanup leaves the cloud as it was.

load helpers/common
load helpers/minicloud

T=vmtp-0e2e0e2e

setup_file() {
	minicloud_up --computes 2 --boot-delay 1 --inter-node-delay 5 --gmond
	minicloud_require
	os security group list > /dev/null
	"$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -S 'map_values([.[].name] | sort)' > "$BATS_FILE_TMPDIR/base"
}

teardown_file() {
	minicloud_down
}

setup() {
	minicloud_require
	export XDG_STATE_HOME=$BATS_FILE_TMPDIR/state
	export OS_CLOUD=minicloud-admin
	TOPO=$BATS_FILE_TMPDIR/topology.ndjson
}

snapshot() {
	"$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -S 'map_values([.[].name] | sort)'
}

@test "two computes: five VMs, six flows labelled from where the VMs landed" {
	n=$(wc -l < "$MINICLOUD_DIR/api.log")
	login=$(sed -n 's/^login=//p' "$MINICLOUD_DIR/external-host")
	key=$(sed -n 's/^key=//p' "$MINICLOUD_DIR/external-host")
	run --separate-stderr vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T \
		--external-host "$login" --ssh-key "$key" --hostkey-policy accept-new \
		--known-hosts "$BATS_FILE_TMPDIR/known_hosts"
	# what went wrong, when something did
	[ "$status" -eq 0 ] || { echo "status $status: $stderr"; false; }
	echo "$output" > "$TOPO"
	[ "$(jq -s '[.[] | select(.type=="host" and .role!="external")] | length' "$TOPO")" -eq 5 ]
	[ "$(jq -r 'select(.type=="flow") | .desc' "$TOPO" | paste -sd'|')" = \
		"VM to VM same network fixed IP (intra-node)|VM to VM different network fixed IP (intra-node)|VM to VM different network floating IP (intra-node)|VM to VM same network fixed IP (inter-node)|VM to VM different network fixed IP (inter-node)|VM to VM different network floating IP (inter-node)|External-VM" ]
	# every VM: its floating IP, the host key seen, its zone:host
	[ "$(jq -s '[.[] | select(.type=="host" and .role!="external") | select((.floating_ip|length)>0 and (.ssh.hostkey|startswith("SHA256:")) and (.az|test("^nova:compute-[12]$")))] | length' "$TOPO")" -eq 5 ]
	# the run record knows the cloud
	[ "$(jq -r 'select(.type=="run") | .auth_url' "$TOPO")" != null ]
	[ "$(jq -r 'select(.type=="run") | .encapsulation' "$TOPO")" = vxlan ]
	# API economy: one list call per poll, never a GET per server.  The
	# bound: 45 requests measured (token 1, discovery 4, key pair 1, group
	# 2, rules 6, networks and subnets 8, router 4, servers 5, ports 1,
	# agents 1, floating IPs 10, polls 1-3), plus 35 for the half-second
	# polls of a boot slowed down by a busy machine
	calls=$(tail -n +$((n + 1)) "$MINICLOUD_DIR/api.log" | grep -v '^internal')
	[ "$(grep -c 'GET /v2.1/servers/[0-9a-f-]* ' <<< "$calls")" -eq 0 ]
	[ "$(grep -c . <<< "$calls")" -le 80 ]
}

@test "the topology measures: TCP and ICMP on every flow, charted" {
	[ -s "$TOPO" ] || skip "no topology"
	run --separate-stderr vmtp-run -t 1 --tcp-loops 1 --protocols TI --ping-count 3 < "$TOPO"
	echo "$output" > "$BATS_FILE_TMPDIR/samples.ndjson"
	[ "$status" -eq 0 ] || { jq -c 'select(has("error"))' <<< "$output" >&2; false; }
	[ "$(jq -s '[.[] | select(.type=="sample" and has("error"))] | length' <<< "$output")" -eq 0 ]
	for f in 1 2 3 4 5 6 7; do
		[ "$(jq -s --argjson f $f '[.[] | select(.type=="sample" and .flow==$f and .protocol=="TCP" and .throughput_kbps > 0)] | length' <<< "$output")" -ge 1 ]
	done
	# inter-node RTT carries the 2 x 5 ms of the link between the computes: a floor under every
	# inter-node round trip, under none within a node (minima: a busy machine only adds)
	intra=$(jq -s '[.[] | select(.type=="sample" and .flow==1 and .protocol=="ICMP")][0].rtt_min_ms' <<< "$output")
	inter=$(jq -s '[.[] | select(.type=="sample" and .flow==4 and .protocol=="ICMP")][0].rtt_min_ms' <<< "$output")
	jq -n --argjson a "$intra" --argjson b "$inter" '$b >= 10 and $a < 10' | grep -q true
	run -0 vmtp-chart -o "$BATS_FILE_TMPDIR/r.html" "$BATS_FILE_TMPDIR/samples.ndjson"
	grep -q '<svg' "$BATS_FILE_TMPDIR/r.html"
}

@test "vmtp-run | vmtp-collect -m the cloud's gmond: CPU readings on the samples and in the document" {
	[ -s "$TOPO" ] || skip "no topology"
	gmond=$(cat "$MINICLOUD_DIR/gmond")
	run -0 --separate-stderr bash -c 'set -o pipefail
		vmtp-run -t 2 --tcp-loops 1 --protocols T --flows 1 < "$1" | vmtp-collect -m "$2" --json "$3"' \
		_ "$TOPO" "$gmond" "$BATS_FILE_TMPDIR/cpu.json"
	[ "$(jq -s '[.[] | select(.type=="cpu" and .source==$g)] | length' --arg g "$gmond" <<< "$output")" -gt 0 ]
	jq -e '[.flows[].results[] | select(.protocol=="TCP") | .cpu_load | length > 0] | all and length == 1' \
		"$BATS_FILE_TMPDIR/cpu.json"
}

@test "vmtp-cleanup --tag leaves the cloud as it was, and a second one does nothing" {
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(snapshot)" = "$(cat "$BATS_FILE_TMPDIR/base")" ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ -z "$output" ]
}

@test "faults: 10% 503s with Retry-After, dropped connections and token expiry; provisioning succeeds" {
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --rate 0.1 --status 503 --retry-after 1
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --drop 0.05
	vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --tag $T --same-network-only --inter-node-only \
		> "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	for _ in $(seq 200); do
		jq -e 'select(.kind=="network")' "$BATS_TEST_TMPDIR/out" > /dev/null 2>&1 && break
		sleep 0.1
	done
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --expire-tokens
	st=0
	wait $pid || st=$?
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear
	[ "$st" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/err" >&2; false; }
	[ "$(jq -s '[.[] | select(.type=="flow")] | length' "$BATS_TEST_TMPDIR/out")" -eq 1 ]
	vmtp-cleanup --tag $T > /dev/null
	[ "$(snapshot)" = "$(cat "$BATS_FILE_TMPDIR/base")" ]
}

@test "vmtp-cleanup --all after two runs leaves the cloud as it was" {
	vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --same-network-only --inter-node-only > /dev/null
	vmtp-provision -c "$MINICLOUD_DIR/vmtp.yaml" --same-network-only --inter-node-only > /dev/null
	run -0 --separate-stderr vmtp-cleanup --all
	[ "$(snapshot)" = "$(cat "$BATS_FILE_TMPDIR/base")" ]
	[ -z "$(ls "$XDG_STATE_HOME/vmtp"/*.ndjson 2>/dev/null)" ]
}
