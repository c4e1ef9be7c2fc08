#!/usr/bin/env bats
# vmtp-pipeline-native.bats - the pipeline on native hosts (SPEC §6):
# vmtp-provision --host | vmtp-run | vmtp-collect with a real gmond | the
# result document | vmtp-chart, on two namespace hosts with real sshd.

load helpers/common
load helpers/nshosts
load helpers/collect

setup_file() {
	nshosts_up 2
}

teardown_file() {
	nshosts_down
}

teardown() {
	gmond_stop 2>/dev/null || true
}

@test "provision | run | collect -m gmond --json: a document with CPU load that vmtp-chart shows" {
	gmond_start
	printf 'ssh_retry_count: 1\n' > "$BATS_TEST_TMPDIR/vmtp.yaml"
	nsh_provision -q > "$BATS_TEST_TMPDIR/topo.ndjson"
	vmtp-run -q -c "$BATS_TEST_TMPDIR/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" \
		-t 3 --tcp-loops 1 --protocols TI --ping-count 2 < "$BATS_TEST_TMPDIR/topo.ndjson" |
		vmtp-collect -q -m "127.0.0.1:$GMOND_PORT" --cpu-interval 1 \
			--json "$BATS_TEST_TMPDIR/r.json" > "$BATS_TEST_TMPDIR/out.ndjson"
	doc=$BATS_TEST_TMPDIR/r.json
	# the original's document shape, with our run
	[ "$(jq -r '.flows | map(.desc) | join("|")' "$doc")" = "Native intra-host|Native inter-host" ]
	[ "$(jq '[.flows[].results[] | select(.protocol=="TCP" and .throughput_kbps > 0)] | length' "$doc")" -eq 2 ]
	# every TCP result carries gmond's readings: a baseline, then some inside its 3 s
	[ "$(jq '[.flows[].results[] | select(.protocol=="TCP") | .cpu_load | to_entries[0].value | length >= 3] | all' "$doc")" = true ]
	# cpu records went by on the stream
	[ "$(jq -s '[.[] | select(.type=="cpu")] | length' "$BATS_TEST_TMPDIR/out.ndjson")" -ge 3 ]
	run -0 vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$doc"
	grep -q 'CPU load' "$BATS_TEST_TMPDIR/r.html"
	grep -q 'Native inter' "$BATS_TEST_TMPDIR/r.html"
}

@test "udp_final with collect -m gmond: the UDP result holds CPU readings of its -t run" {
	gmond_start
	# the configuration's key, as --udp-final
	printf 'ssh_retry_count: 1\nudp_final: true\n' > "$BATS_TEST_TMPDIR/vmtp.yaml"
	nsh_provision -q > "$BATS_TEST_TMPDIR/topo.ndjson"
	vmtp-run -q -c "$BATS_TEST_TMPDIR/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" \
		-t 3 --protocols U --udpbuf 1024 --flows 2 < "$BATS_TEST_TMPDIR/topo.ndjson" |
		vmtp-collect -q -m "127.0.0.1:$GMOND_PORT" --cpu-interval 1 \
			--json "$BATS_TEST_TMPDIR/r.json" > "$BATS_TEST_TMPDIR/out.ndjson"
	doc=$BATS_TEST_TMPDIR/r.json
	# the stream: the sample spans the full-length run
	jq -se 'map(select(.type == "sample")) | length == 1 and
	    (.[0] | .final == true and .probes >= 1 and .t_end - .t_start >= 3)' "$BATS_TEST_TMPDIR/out.ndjson"
	# the document keeps the mark and the probe count, and the readings
	# inside those 3 s: a baseline, then at least two
	jq -e '[.flows[].results[] | select(.protocol == "UDP")] | length == 1 and
	    (.[0] | .final == true and .probes >= 1 and .throughput_kbps > 0 and
	     (.cpu_load | to_entries[0].value | length >= 3))' "$doc"
	run -0 vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$doc"
	grep -q 'UDP 1024' "$BATS_TEST_TMPDIR/r.html"
	run -0 vmtp-chart -f text "$BATS_TEST_TMPDIR/out.ndjson"
	[[ "$output" == *"UDP 1024"* ]]
}
