#!/usr/bin/env bats
# long-runs.bats - long runs stay flat (issue 15): one vmtp-run of 200
# measurements on native namespace hosts and vmtp-collect polling a real
# gmond many times keep their open descriptors and RSS; vmtp-run killed
# mid-measurement leaves tool servers that the rerun finds and stops.
#
# The readings are taken by tests/tools/proc-watch as the records flow:
# at the 20th and the 200th record of a type, with the program alive (it
# still has more than the reader's one-page pipe to write, or its input is
# held open).  bench/long-run is the longer version, outside make check.
#
# RSS tolerance: 256 KiB over 180 measurements.  A leak of what one
# measurement allocates (its command line, the tool's output buffer, a
# sample record: each 1-4 KiB) grows RSS by 180 KiB to 720 KiB and more,
# so anything per measurement of 1.5 KiB or more fails here; glibc's heap
# settles within the first measurements (the 20 before the first reading),
# after which a flat program stays within a few pages (measured here: 0
# KiB for vmtp-run, 16 KiB for vmtp-collect).  vmtp-collect's 100 polls
# between its readings catch 2.6 KiB a poll.  Smaller leaks are
# valgrind.bats's to find.

bats_require_minimum_version 1.5.0

load helpers/common
load helpers/nshosts
load helpers/collect

WATCH=$VMTP_ROOT/tests/tools/proc-watch
RSS_SLACK_KIB=256

setup_file() {
	nshosts_up 2
	export T=$BATS_FILE_TMPDIR
	printf 'ssh_retry_count: 1\n' > "$T/vmtp.yaml"
}

teardown_file() {
	nshosts_down
}

teardown() {
	gmond_stop 2>/dev/null || true
	local p
	for p in ${USER_PID:-} ${BG_PID:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# Checks the readings of proc-watch in FILE ("N FDS RSS" lines) of the
# program PATH: the same descriptors within 2, RSS grown by less than
# RSS_SLACK_KIB.
assert_flat() {
	local n1 f1 r1 n2 f2 r2
	read -r n1 f1 r1 < <(sed -n 1p "$1")
	read -r n2 f2 r2 < <(sed -n 2p "$1")
	echo "record $n1: $f1 fds, $r1 KiB; record $n2: $f2 fds, $r2 KiB"
	[ -n "$r2" ]
	[ "$f1" -gt 0 ] && [ "$r1" -gt 0 ]
	[ $((f2 - f1)) -le 2 ] && [ $((f1 - f2)) -le 2 ]
	# under AddressSanitizer (make asan) freed memory waits in its
	# quarantine instead of being reused: RSS grows by design there
	ldd "$2" 2>/dev/null | grep -q libasan && return 0
	[ $((r2 - r1)) -lt "$RSS_SLACK_KIB" ]
}

@test "vmtp-run, 200 measurements: open descriptors and RSS at the 20th and the 200th stay flat" {
	# 14 flows (the topology's two, then twins of them) x 16 ping sizes
	# = 224 ICMP samples, each ping -c 1: the 24 after the 200th are more
	# than a page, so vmtp-run is alive at the reading
	nsh_provision -q > "$T/topo0.ndjson"
	jq -c 'select(.type != "flow")' "$T/topo0.ndjson" > "$T/topo.ndjson"
	for k in 0 1 2 3 4 5 6; do
		jq -c --argjson k "$k" 'select(.type == "flow") | .id += 100 * $k' \
		    "$T/topo0.ndjson" >> "$T/topo.ndjson"
	done
	[ "$(jq -s 'map(select(.type == "flow")) | length' "$T/topo.ndjson")" -eq 14 ]
	run --separate-stderr "$WATCH" sample 20,200 -- \
	    vmtp-run -q -c "$T/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" \
	    --protocols I --ping-count 1 \
	    --icmp-sizes 16,32,48,64,80,96,112,128,144,160,176,192,208,224,240,256 \
	    "$T/topo.ndjson"
	echo "$stderr" > "$T/run-readings"
	[ "$status" -eq 0 ]
	samples=$(jq -c 'select(.type == "sample")' <<<"$output")
	[ "$(wc -l <<<"$samples")" -eq 224 ]
	# every one a measurement, none an error
	jq -se 'all(.[]; .protocol == "ICMP" and .rx_packets == 1 and (has("error") | not))' <<<"$samples"
	# what came after the 200th was more than proc-watch's pipe of a page
	# holds: vmtp-run was alive at the reading
	after=$(awk 'n >= 200 { b += length($0) + 1 } /"type":"sample"/ { n++ }
	    END { print b + 0 }' <<<"$output")
	echo "after the 200th sample: $after bytes"
	[ "$after" -gt 4096 ]
	assert_flat "$T/run-readings" "$(command -v vmtp-run)"
}

@test "vmtp-collect polling a real gmond 120 times: open descriptors and RSS stay flat" {
	gmond_start
	# the topology and nothing else: vmtp-collect polls until its input
	# ends, which proc-watch holds open until the last reading
	fixture "$(date +%s)" | jq -c 'select(.type != "sample")' > "$BATS_TEST_TMPDIR/in.ndjson"
	run --separate-stderr "$WATCH" --stdin "$BATS_TEST_TMPDIR/in.ndjson" cpu 20,120 -- \
	    vmtp-collect -q -m "127.0.0.1:$GMOND_PORT" --cpu-interval 0.1
	echo "$stderr" > "$BATS_TEST_TMPDIR/readings"
	[ "$status" -eq 0 ]
	# every poll a reading from gmond
	[ "$(jq -s 'map(select(.type == "cpu" and .cpu_num >= 1)) | length' <<<"$output")" -ge 120 ]
	assert_flat "$BATS_TEST_TMPDIR/readings" "$(command -v vmtp-collect)"
}

# Pids of the live processes named TOOL in host I's namespace, one a line
# (not a zombie: it has ended, its parent has yet to reap it).
tool_pids() {
	local p st
	for p in $(nsh_pids "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] || continue
		st=$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null) || continue
		[ -n "$st" ] && [ "$st" != Z ] && echo "$p"
	done
	return 0
}

# Whether host I runs TOOL with ADDRESS among its arguments.
measuring() {
	local p
	for p in $(tool_pids "$1" "$2"); do
		tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF " $3" && return 0
	done
	return 1
}

@test "vmtp-run killed mid-measurement: the rerun stops the servers it left and measures" {
	nsh_provision -q > "$T/topo.ndjson"
	for tool in nuttcp iperf3; do
		vmtp-run -q -c "$T/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" -t 30 \
		    --tp-tool "$tool" --protocols T --flows 2 "$T/topo.ndjson" \
		    > "$T/killed.out" 2> "$T/killed.err" &
		pid=$!
		# a measurement is running: the client's tool process, the one
		# naming host1 (not the version check), is on host2
		for k in $(seq 1 200); do
			measuring 2 "$tool" "$(nsh_ip 1)" && break
			sleep 0.05
		done
		measuring 2 "$tool" "$(nsh_ip 1)"
		kill -KILL "$pid"
		wait "$pid" || true
		# the first run's server is still there on host1
		old=$(tool_pids 1 "$tool")
		echo "$tool: left $old"
		[ -n "$old" ]
		run --separate-stderr vmtp-run -c "$T/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" \
		    -t 1 --tcp-loops 1 --tp-tool "$tool" --protocols T --flows 2 "$T/topo.ndjson"
		echo "$stderr"; echo "$output" | jq -c "select(.type == \"sample\")"
		[ "$status" -eq 0 ]
		jq -se 'map(select(.type == "sample")) | length == 1 and
		    all(.[]; .protocol == "TCP" and .throughput_kbps > 0 and (has("error") | not))' <<<"$output"
		# what it did is said once: the host, the pid
		[ "$(grep -c "stopped a $tool server that an earlier vmtp-run left on host1" <<<"$stderr")" -eq 1 ]
		# none of the first run's servers is left, and none of the rerun's
		for p in $old; do
			! tool_pids 1 "$tool" | grep -qx "$p"
		done
		# the rerun's own, sent SIGTERM as it ended, is gone soon after
		for k in $(seq 1 100); do
			[ -z "$(tool_pids 1 "$tool")" ] && break
			sleep 0.05
		done
		[ -z "$(tool_pids 1 "$tool")" ]
	done
}

@test "vmtp-run never stops a server that is not a dead run's: a user's on the port, another run's at work, a linked folder" {
	nsh_provision -q > "$T/topo.ndjson"
	# a user's own nuttcp server on vmtp's port: left alone, the flow
	# fails naming the port
	# (nsenter execs it: its pid is $!)
	nsenter -t "$(cat "$NSH_DIR/h1/sshd.pid")" -m -n nuttcp -S --nofork -P 5100 -p 5101 \
	    > /dev/null 2>&1 &
	USER_PID=$!
	for k in $(seq 1 100); do
		nsh_exec 1 grep -qE ':13EC [0-9A-F]+:0000 0A' /proc/net/tcp && break
		sleep 0.05
	done
	run --separate-stderr vmtp-run -q -c "$T/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" \
	    -t 1 --tcp-loops 1 --protocols T --flows 2 "$T/topo.ndjson"
	[ "$status" -eq 3 ]
	jq -se 'map(select(.type == "sample")) | length == 1 and
	    (.[0].error | contains("port 5100 on host1 is taken by another program"))' <<<"$output"
	tool_pids 1 nuttcp | grep -qx "$USER_PID"
	kill "$USER_PID"
	wait "$USER_PID" || true
	USER_PID=
	# another vmtp-run measuring: its server is left to it
	vmtp-run -q -c "$T/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" -t 20 \
	    --protocols T --flows 2 "$T/topo.ndjson" > "$T/a.out" 2> "$T/a.err" &
	BG_PID=$!
	for k in $(seq 1 200); do
		measuring 2 nuttcp "$(nsh_ip 1)" && break
		sleep 0.05
	done
	measuring 2 nuttcp "$(nsh_ip 1)"
	srv=$(tool_pids 1 nuttcp)
	[ -n "$srv" ]
	run --separate-stderr vmtp-run -q -c "$T/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" \
	    -t 1 --tcp-loops 1 --protocols T --flows 2 "$T/topo.ndjson"
	[ "$status" -eq 3 ]
	jq -se 'map(select(.type == "sample")) | length == 1 and
	    (.[0].error | test("port 5100 on host1 is taken by the nuttcp server of another vmtp-run, still connected \\(pid [0-9]+\\)"))' <<<"$output"
	[ "$(tool_pids 1 nuttcp)" = "$srv" ]
	kill -TERM "$BG_PID"
	wait "$BG_PID" || true
	BG_PID=
	# a pid file folder that is a link: refused, nothing started
	nsh_exec 1 sh -c 'rm -rf /tmp/vmtp-run-0 && mkdir -p /tmp/elsewhere && ln -s /tmp/elsewhere /tmp/vmtp-run-0'
	run --separate-stderr vmtp-run -q -c "$T/vmtp.yaml" --ssh-key "$NSH_DIR/id_ed25519" \
	    -t 1 --tcp-loops 1 --protocols T --flows 2 "$T/topo.ndjson"
	nsh_exec 1 rm -f /tmp/vmtp-run-0
	[ "$status" -eq 3 ]
	jq -se 'map(select(.type == "sample")) | length == 1 and
	    (.[0].error | endswith(": /tmp/vmtp-run-0 is not this user'"'"'s folder"))' <<<"$output"
	[ -z "$(tool_pids 1 nuttcp)" ]
	[ -z "$(nsh_exec 1 ls -A /tmp/elsewhere)" ]
}
