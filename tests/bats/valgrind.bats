#!/usr/bin/env bats
# valgrind.bats - valgrind memcheck clean for every program on its test
# inputs (issue 15): no invalid read or write, no use of uninitialised
# memory, no definite leak, on the paths that work and on the paths that
# fail (bad input, a cloud that cannot be reached).  vmtp-run, vmtp-provision
# and bin/vmtp run on native namespace hosts.  Skipped where valgrind is
# absent (deps/test.txt lists it).

bats_require_minimum_version 1.5.0

load helpers/common
load helpers/nshosts
load helpers/collect
load helpers/mesh

CHART_FIX=$FIXTURES/chart

setup_file() {
	command -v valgrind > /dev/null || return 0
	! ldd "$VMTP_BIN/vmtp-run" 2>/dev/null | grep -q libasan || return 0
	nshosts_up 2
	export T=$BATS_FILE_TMPDIR
	printf 'ssh_retry_count: 1\ntcp_tp_loop_count: 1\n' > "$T/vmtp.yaml"
}

teardown_file() {
	nshosts_down
}

teardown() {
	gmond_stop 2>/dev/null || true
	mongo_peer_stop
}

setup() {
	command -v valgrind > /dev/null || skip "valgrind is not installed"
	# programs built with AddressSanitizer (make asan) do not run under
	# valgrind: the sanitizer checks them there
	! ldd "$VMTP_BIN/vmtp-run" 2>/dev/null | grep -q libasan ||
	    skip "the programs are built with AddressSanitizer"
	VG_LOG=$BATS_TEST_TMPDIR/vg
	mkdir -p "$VG_LOG"
}

# vg PROGRAM ARG...: PROGRAM under memcheck, its report in $VG_LOG (one
# file per process); memcheck's own finding is status 99.
vg() {
	local prog
	prog=$(command -v "$1")
	shift
	valgrind -q --leak-check=full --show-leak-kinds=definite \
	    --errors-for-leak-kinds=definite --error-exitcode=99 \
	    --log-file="$VG_LOG/%p.log" "$prog" "$@"
}

# Every report is empty (-q: memcheck writes only what it found).
vg_clean() {
	local f bad=0
	for f in "$VG_LOG"/*.log; do
		[ -e "$f" ] || continue
		if [ -s "$f" ]; then
			cat "$f"
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

@test "vmtp-chart: HTML and text reports, several files, a mesh, and bad input" {
	run -0 vg vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$CHART_FIX/records.ndjson" \
	    "$CHART_FIX/errors.json" "$CHART_FIX/intervals.json" "$CHART_FIX/second.json"
	grep -q '<svg' "$BATS_TEST_TMPDIR/r.html"
	run -0 vg vmtp-chart -f text -p tcp "$CHART_FIX/icmp-grouped.json" "$CHART_FIX/external-native.json" \
	    "$CHART_FIX/ipv6-mode.json" "$CHART_FIX/intervals.ndjson"
	# a mesh: its heat maps and matrices, and its text
	mesh_stream 5 3 > "$BATS_TEST_TMPDIR/m.ndjson"
	run -0 vg vmtp-chart -o "$BATS_TEST_TMPDIR/m.html" "$BATS_TEST_TMPDIR/m.ndjson"
	grep -q 'class="chart heat"' "$BATS_TEST_TMPDIR/m.html"
	run -0 vg vmtp-chart -f text "$BATS_TEST_TMPDIR/m.ndjson"
	run -65 vg vmtp-chart -o "$BATS_TEST_TMPDIR/b.html" "$CHART_FIX/bad-record.ndjson"
	run -65 vg vmtp-chart -o "$BATS_TEST_TMPDIR/b.html" "$CHART_FIX/garbage.txt"
	run -65 vg vmtp-chart -o "$BATS_TEST_TMPDIR/b.html" "$CHART_FIX/not-a-document.json"
	run -2 vg vmtp-chart -p nope "$CHART_FIX/errors.json"
	vg_clean
}

@test "vmtp-collect: the document, OpenMetrics, SLA verdicts, a gmond that is down, and bad input" {
	fixture > "$BATS_TEST_TMPDIR/in.ndjson"
	run -0 --separate-stderr vg vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
	    --sla 'tcp_gbps>=0.001' --sla 'icmp_avg_ms<1000' "$BATS_TEST_TMPDIR/in.ndjson"
	jq -e '.flows | length >= 1' "$BATS_TEST_TMPDIR/r.json"
	run -0 --separate-stderr vg vmtp-collect --json "$BATS_TEST_TMPDIR/r2.json" \
	    "$COLLECT_FIXTURES/every-flow.ndjson"
	run -0 --separate-stderr vg vmtp-collect --openmetrics "$BATS_TEST_TMPDIR/r.prom" \
	    "$COLLECT_FIXTURES/metrics.ndjson"
	grep -q '^vmtp_throughput_bytes_per_second{' "$BATS_TEST_TMPDIR/r.prom"
	# a real gmond, polled 5 times (its input held open until then)
	gmond_start
	jq -c 'select(.type != "sample")' "$BATS_TEST_TMPDIR/in.ndjson" > "$BATS_TEST_TMPDIR/topo.ndjson"
	run -0 --separate-stderr "$VMTP_ROOT/tests/tools/proc-watch" --stdin "$BATS_TEST_TMPDIR/topo.ndjson" \
	    cpu 5 -- valgrind -q --leak-check=full --show-leak-kinds=definite \
	    --errors-for-leak-kinds=definite --error-exitcode=99 --log-file="$VG_LOG/%p.log" \
	    "$VMTP_BIN/vmtp-collect" -m "127.0.0.1:$GMOND_PORT" --cpu-interval 0.1
	gmond_stop
	# MongoDB (the wire-protocol peer) taking the document
	mongo_peer_start accept
	run -0 --separate-stderr vg vmtp-collect \
	    --mongo-uri "mongodb://127.0.0.1:$MONGO_PORT/?serverSelectionTimeoutMS=3000" \
	    "$BATS_TEST_TMPDIR/in.ndjson"
	mongo_peer_stop
	[ "$(wc -l < "$MONGO_OUT")" -eq 1 ]
	# a gmond nobody listens for: polled, refused, warned
	run -0 --separate-stderr vg vmtp-collect -m 127.0.0.1:1 --cpu-interval 0.1 \
	    "$BATS_TEST_TMPDIR/in.ndjson"
	printf '{"type":"run","run":"vmtp-0a1b2c3d"}\nnot json\n' > "$BATS_TEST_TMPDIR/bad.ndjson"
	run -65 --separate-stderr vg vmtp-collect --json "$BATS_TEST_TMPDIR/b.json" "$BATS_TEST_TMPDIR/bad.ndjson"
	run -1 --separate-stderr vg vmtp-collect --json /dev/full "$BATS_TEST_TMPDIR/in.ndjson"
	run -2 --separate-stderr vg vmtp-collect --sla 'nonsense>>' "$BATS_TEST_TMPDIR/in.ndjson"
	vg_clean
}

@test "vmtp-provision --host and vmtp-run on native hosts: a short run of every protocol" {
	run -0 --separate-stderr vg vmtp-provision -q --host "root@$(nsh_ip 1)" --host "root@$(nsh_ip 2)" \
	    --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$NSH_DIR/known_hosts"
	printf '%s\n' "$output" > "$T/topo.ndjson"
	[ "$(jq -s 'map(select(.type == "flow")) | length' "$T/topo.ndjson")" -eq 2 ]
	run -0 --separate-stderr vg vmtp-run -q -c "$T/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" \
	    -t 1 --protocols TUI --udpbuf 1024 --bandwidth 20M --icmp-sizes 64 --ping-count 1 \
	    --flows 2 "$T/topo.ndjson"
	jq -se 'map(select(.type == "sample")) | length == 3 and all(.[]; has("error") | not)' <<<"$output"
	# iperf3's JSON
	run -0 --separate-stderr vg vmtp-run -q -c "$T/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" \
	    -t 1 --tp-tool iperf3 --protocols T --flows 2 "$T/topo.ndjson"
	jq -se 'map(select(.type == "sample")) | length == 1 and .[0].throughput_kbps > 0' <<<"$output"
	# a host that refuses: an error sample, status 3
	jq -c --arg a "$(nsh_ip 1)" 'if .type == "host" and .name == "host2" then .ssh.port = 1 else . end' \
	    "$T/topo.ndjson" > "$T/down.ndjson"
	run -3 --separate-stderr vg vmtp-run -q -c "$T/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" \
	    -t 1 --protocols I --icmp-sizes 64 --ping-count 1 "$T/down.ndjson"
	run -65 --separate-stderr vg vmtp-run -q <<<'not json'
	vg_clean
}

@test "vmtp-run on a mesh: a round's flows measured at once on threads of their own" {
	run -0 --separate-stderr vmtp-provision -q --host "root@$(nsh_ip 1)" --host "root@$(nsh_ip 2)" \
	    --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$NSH_DIR/known_hosts" --mesh all
	printf '%s\n' "$output" > "$T/mesh.ndjson"
	run -0 --separate-stderr vg vmtp-run -q -c "$T/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" \
	    -t 1 --protocols TI --icmp-sizes 64 --ping-count 1 "$T/mesh.ndjson"
	# both ways of the pair, in one round, measured
	jq -se 'map(select(.type == "flow" and .round == 1)) | length == 2' "$T/mesh.ndjson"
	jq -se 'map(select(.type == "sample")) | length == 4 and all(.[]; has("error") | not)' <<<"$output"
	vg_clean
}

@test "vmtp-cleanup: a cloud that cannot be reached, bad records, a usage error" {
	unset OS_CLOUD
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$XDG_STATE_HOME/vmtp"
	export OS_AUTH_URL=http://127.0.0.1:1/v3 OS_USERNAME=demo OS_PASSWORD=pw \
	    OS_PROJECT_NAME=demo OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
	printf '{"type":"network","run":"vmtp-0a1b2c3d","id":"x"}\n' > "$XDG_STATE_HOME/vmtp/vmtp-0a1b2c3d.ndjson"
	# the run's journal, every run, resource records on stdin: each
	# spends its retries (15 s) on the login, so the three run at once
	vg vmtp-cleanup --tag vmtp-0a1b2c3d 2> "$BATS_TEST_TMPDIR/tag.err" &
	p1=$!
	vg vmtp-cleanup --all 2> "$BATS_TEST_TMPDIR/all.err" &
	p2=$!
	vg vmtp-cleanup < "$XDG_STATE_HOME/vmtp/vmtp-0a1b2c3d.ndjson" 2> "$BATS_TEST_TMPDIR/in.err" &
	p3=$!
	for p in $p1 $p2 $p3; do
		st=0
		wait "$p" || st=$?
		[ "$st" -eq 1 ]
	done
	for f in tag all in; do
		grep -q "127.0.0.1:1/v3/auth/tokens: Couldn't connect to server" "$BATS_TEST_TMPDIR/$f.err"
	done
	printf '{"type":"run","run":"vmtp-0a1b2c3d"}\nnot json\n' > "$BATS_TEST_TMPDIR/bad.ndjson"
	run -65 --separate-stderr vg vmtp-cleanup "$BATS_TEST_TMPDIR/bad.ndjson"
	run -2 --separate-stderr vg vmtp-cleanup --tag nope
	vg_clean
}

@test "bin/vmtp --host: every program it starts, under memcheck" {
	# the programs bin/vmtp calls, each a wrapper that runs the real one
	# under memcheck (VMTP_LIBEXEC: where bin/vmtp finds them)
	mkdir -p "$BATS_TEST_TMPDIR/libexec"
	for p in vmtp-provision vmtp-run vmtp-collect vmtp-chart vmtp-cleanup; do
		cat > "$BATS_TEST_TMPDIR/libexec/$p" <<-EOF
			#!/bin/sh
			exec valgrind -q --leak-check=full --show-leak-kinds=definite \\
			    --errors-for-leak-kinds=definite --error-exitcode=99 \\
			    --log-file="$VG_LOG/%p.$p.log" "$VMTP_BIN/$p" "\$@"
		EOF
		chmod +x "$BATS_TEST_TMPDIR/libexec/$p"
	done
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$HOME/.ssh"
	cp "$NSH_DIR/id_ed25519" "$NSH_DIR/known_hosts" "$HOME/.ssh/"
	unset SSH_AUTH_SOCK OS_AUTH_URL OS_PASSWORD OS_CLOUD
	run -0 --separate-stderr env VMTP_LIBEXEC="$BATS_TEST_TMPDIR/libexec" \
	    "$VMTP_ROOT/bin/vmtp" -c "$T/vmtp.yaml" --host "root@$(nsh_ip 1)" \
	    --host "root@$(nsh_ip 2)" -t 1 --protocols TI --icmp_pkt_sizes 64
	# every program ran (one report each), and said nothing
	for p in vmtp-provision vmtp-run vmtp-collect vmtp-chart; do
		ls "$VG_LOG"/*."$p".log
	done
	vg_clean
}
