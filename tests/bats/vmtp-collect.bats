#!/usr/bin/env bats
# vmtp-collect.bats - vmtp-collect (SPEC §4, §5, §6): records
# pass through, host CPU from a real gmond and a real node_exporter, the
# result document in a file and in MongoDB (through a wire-protocol peer),
# SLA verdicts, and the faults: sources down or broken, MongoDB refusing,
# a disk that is full.

bats_require_minimum_version 1.5.0

load helpers/common
load helpers/collect

teardown() {
	gmond_stop
	exporter_stop
	mongo_peer_stop
	fake_stop
	# a vmtp-collect a test left waiting for input
	if [ -n "${COLLECT_PID:-}" ]; then
		kill -9 "$COLLECT_PID" 2>/dev/null || true
	fi
}

# Feeds the fixture (times around now) through a FIFO: the topology at
# once, then each sample when its window has passed, so the polls fall
# inside the windows.  Extra arguments go to vmtp-collect.
run_live() {
	local base=$(($(date +%s) + 1))
	fixture "$base" > "$BATS_TEST_TMPDIR/live.ndjson"
	mkfifo "$BATS_TEST_TMPDIR/in"
	(
		exec > "$BATS_TEST_TMPDIR/in"
		head -n 8 "$BATS_TEST_TMPDIR/live.ndjson"
		while IFS= read -r line; do
			end=$(jq -r '.t_end // empty' <<<"$line")
			while [ -n "$end" ] && [ "$(date +%s)" -le "$end" ]; do
				sleep 0.2
			done
			printf '%s\n' "$line"
		done < <(tail -n +9 "$BATS_TEST_TMPDIR/live.ndjson")
	) &
	run --separate-stderr vmtp-collect --cpu-interval 1 "$@" \
		< "$BATS_TEST_TMPDIR/in"
}

@test "--help prints the synopsis on stdout and exits 0" {
	run --separate-stderr vmtp-collect --help
	[ "$status" -eq 0 ]
	[[ $output == *"usage: vmtp-collect"* ]]
	[[ $output == *"--sla expr"* ]]
	[ -z "$stderr" ]
}

@test "--version prints the version" {
	run vmtp-collect --version
	[ "$status" -eq 0 ]
	[ "$output" = "vmtp-collect 0.1.0" ]
}

@test "an unknown option is a usage error with the synopsis" {
	run -2 --separate-stderr vmtp-collect --no-such-option
	[[ $stderr == *"usage: vmtp-collect"* ]]
}

@test "with no source and no output every record passes unchanged" {
	fixture > "$BATS_TEST_TMPDIR/in.ndjson"
	run --separate-stderr vmtp-collect "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	diff <(printf '%s\n' "$output") "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r 'select(.type == "vendor_note") | .text' <<<"$output")" = \
		"an unknown record type passes" ]
}

@test "a line that is not JSON stops with FILE:LINE and 65, after what came before" {
	{ fixture | head -n 3; echo '{not json'; fixture | tail -n 2; } \
		> "$BATS_TEST_TMPDIR/bad.ndjson"
	run -65 --separate-stderr vmtp-collect "$BATS_TEST_TMPDIR/bad.ndjson"
	[[ $stderr == *"vmtp-collect: $BATS_TEST_TMPDIR/bad.ndjson:4: not JSON"* ]]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 3 ]
}

@test "--json writes the document of the original tool, field for field" {
	fixture > "$BATS_TEST_TMPDIR/in.ndjson"
	run --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
		< "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	diff <(printf '%s\n' "$output") "$BATS_TEST_TMPDIR/in.ndjson"
	# the same document as the golden file, checked by hand against the
	# original's example
	jq -e --slurpfile want "$COLLECT_FIXTURES/expected-doc.json" \
		'. == $want[0]' "$BATS_TEST_TMPDIR/r.json"
	# and the original's shape: its flow fields, its top-level fields
	# (plus what this run knows beyond them), ICMP grouped
	ref="$VMTP_SHARED/reference/vmtp-example.json"
	if [ -f "$ref" ]; then
		jq -e --slurpfile ref "$ref" '
		    ($ref[0].flows[0] | keys) as $fk
		    | all(.flows[]; keys == $fk)
		    and ((keys - ($ref[0] | keys)) - ["run_id", "region", "project"] == [])' \
			"$BATS_TEST_TMPDIR/r.json"
	fi
	jq -e '.flows[0].results[3] | .protocol == "ICMP" and .results[0].rtt_stddev == 0.212' \
		"$BATS_TEST_TMPDIR/r.json"
}

@test "the document masks passwords in args even when the producer did not" {
	run --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
		< "$COLLECT_FIXTURES/secrets.ndjson"
	[ "$status" -eq 0 ]
	! grep -q hunter "$BATS_TEST_TMPDIR/r.json"
	jq -e '.args == ["vmtp", "-p", "<MASKED>", "--os-password", "<MASKED>",
	    "OS_PASSWORD=<MASKED>", "--password=<MASKED>", "--json", "r.json"]' \
		"$BATS_TEST_TMPDIR/r.json"
}

@test "the document masks the values of --host, --external-host and --controller-node as the original does" {
	fixture | jq -c 'if .type == "run" then .args = "vmtp-provision --host root@10.0.0.5:hunter2:eth5 --external-host u@10.0.0.6:hunter3 --controller-node=c@10.0.0.7:hunter4 -t 1" else . end' \
		>"$BATS_TEST_TMPDIR/in.ndjson"
	run -0 --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" <"$BATS_TEST_TMPDIR/in.ndjson"
	! grep -q 'hunter\|10\.0\.0\.[567]' "$BATS_TEST_TMPDIR/r.json"
	[ "$(jq -r .args "$BATS_TEST_TMPDIR/r.json")" = "vmtp-provision --host <MASKED> --external-host <MASKED> --controller-node=<MASKED> -t 1" ]
}

@test "--json replaces an existing file whole and leaves no temporary file" {
	echo old > "$BATS_TEST_TMPDIR/r.json"
	fixture | vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" > /dev/null
	jq -e '.run_id == "vmtp-0a1b2c3d"' "$BATS_TEST_TMPDIR/r.json"
	[ "$(ls "$BATS_TEST_TMPDIR" | grep -c 'r\.json')" -eq 1 ]
}

@test "--json /dev/full fails with exit 1 naming the path, records already passed" {
	fixture > "$BATS_TEST_TMPDIR/in.ndjson"
	run -1 --separate-stderr vmtp-collect --json /dev/full \
		< "$BATS_TEST_TMPDIR/in.ndjson"
	[[ $stderr == *"vmtp-collect: error: cannot write /dev/full: No space left on device"* ||
		$stderr == *"vmtp-collect: cannot write /dev/full: No space left on device"* ]]
	diff <(printf '%s\n' "$output") "$BATS_TEST_TMPDIR/in.ndjson"
}

@test "--json into a directory that does not exist fails naming the path, before any record" {
	run -1 --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/no/r.json" \
		< <(fixture)
	[ "$stderr" = "vmtp-collect: --json: cannot write $BATS_TEST_TMPDIR/no/r.json: No such file or directory" ]
	[ -z "$output" ]
}

@test "input without a run gives no document and exit 65" {
	run -65 --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
		< /dev/null
	[[ $stderr == *"no run in the input"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/r.json" ]
}

@test "a real gmond: cpu records, and samples get a baseline and in-window readings" {
	gmond_start
	run_live -m "127.0.0.1:$GMOND_PORT" --json "$BATS_TEST_TMPDIR/r.json"
	[ "$status" -eq 0 ]
	cpu=$(jq -c 'select(.type == "cpu")' <<<"$output")
	[ "$(wc -l <<<"$cpu")" -ge 8 ]
	# gmond reports this machine: the figure is the original's formula
	jq -s -e --arg src "127.0.0.1:$GMOND_PORT" 'all(.[];
	    .run == "vmtp-0a1b2c3d" and .source == $src and .host == "127.0.0.1"
	    and .cpu_num >= 1 and (.load - (.cpu_user + .cpu_system) * .cpu_num / 100
	    | fabs) < 1e-9)' <<<"$cpu"
	# every sample without an error has the last reading before its
	# window, then the readings inside it, all from the cpu records
	jq -s -e '
	    [.[] | select(.type == "cpu")] as $cpu
	    | [.[] | select(.type == "sample" and .error == null)] as $s
	    | ($s | length) == 5 and all($s[];
	        . as $x
	        | ([$cpu[] | select(.t < $x.t_start)] | last | .load) as $base
	        | [$cpu[] | select(.t >= $x.t_start and .t <= $x.t_end) | .load] as $in
	        | ($in | length) >= 1 and .cpu_load["127.0.0.1"] == [$base] + $in)' \
		<<<"$output"
	jq -e '.flows[0].results[0].cpu_load["127.0.0.1"] | length >= 2' \
		"$BATS_TEST_TMPDIR/r.json"
	# an error sample and an unknown record pass as they came
	jq -s -e '[.[] | select(.type == "sample" and .error != null)]
	    | length == 1 and (.[0] | has("cpu_load") | not)' <<<"$output"
	jq -s -e 'any(.[]; .type == "vendor_note")' <<<"$output"
}

@test "a real node_exporter: cpu records from node_cpu_seconds_total deltas" {
	exporter_start
	run_live --node-exporter "$EXPORTER_URL"
	[ "$status" -eq 0 ]
	cpu=$(jq -c 'select(.type == "cpu")' <<<"$output")
	[ "$(wc -l <<<"$cpu")" -ge 8 ]
	jq -s -e --arg src "$EXPORTER_URL" --argjson n "$(nproc)" 'all(.[];
	    .source == $src and .host == "127.0.0.1" and .cpu_num == $n
	    and .cpu_user >= 0 and .cpu_system >= 0 and .cpu_user + .cpu_system <= 100
	    and (.load - (.cpu_user + .cpu_system) * .cpu_num / 100 | fabs) < 1e-9)' \
		<<<"$cpu"
	jq -s -e '[.[] | select(.type == "sample" and .error == null)]
	    | all(.cpu_load["127.0.0.1"] | length >= 2)' <<<"$output"
}

@test "gmond stopped mid-run: one warning, every sample still passes" {
	gmond_start
	base=$(($(date +%s) + 1))
	fixture "$base" > "$BATS_TEST_TMPDIR/live.ndjson"
	mkfifo "$BATS_TEST_TMPDIR/in"
	(
		exec > "$BATS_TEST_TMPDIR/in"
		head -n 10 "$BATS_TEST_TMPDIR/live.ndjson"
		sleep 4 # readings from the live gmond, 8 polls' worth
		gmond_stop
		wait_for "grep -q 'warning: gmond' '$BATS_TEST_TMPDIR/err'" 300
		tail -n +11 "$BATS_TEST_TMPDIR/live.ndjson"
	) &
	status=0
	vmtp-collect -m "127.0.0.1:$GMOND_PORT" --cpu-interval 0.5 \
		< "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/out")
	stderr=$(cat "$BATS_TEST_TMPDIR/err")
	[ "$status" -eq 0 ]
	# one warning for the spell; its reason is what the poll met: mostly a
	# refused connection, a cut answer when gmond died in the middle of one
	[ "$(grep -c "warning: gmond 127.0.0.1:$GMOND_PORT: " <<<"$stderr")" -eq 1 ]
	grep -q "warning: gmond 127.0.0.1:$GMOND_PORT: .*; samples go on without its readings$" <<<"$stderr"
	[ "$(jq -c 'select(.type == "sample")' <<<"$output" | wc -l)" -eq 6 ]
	[ "$(jq -c 'select(.type == "cpu")' <<<"$output" | wc -l)" -ge 2 ]
}

@test "gmond sending truncated XML: one warning naming it, samples pass" {
	gmond_start
	gmond_has_cpu
	$PY -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
b = b""
while True:
    c = s.recv(65536)
    if not c: break
    b += c
sys.stdout.buffer.write(b[: len(b) * 2 // 3])' "$GMOND_PORT" > "$BATS_TEST_TMPDIR/cut.xml"
	gmond_stop
	fake_start "$BATS_TEST_TMPDIR/cut.xml"
	collect_until "grep -q 'malformed XML' '$BATS_TEST_TMPDIR/cu.err'" \
		-m "127.0.0.1:$FAKE_PORT" --cpu-interval 0.5
	[ "$status" -eq 0 ]
	[ "$(grep -c "warning: gmond 127.0.0.1:$FAKE_PORT: malformed XML: line " <<<"$stderr")" -eq 1 ]
	diff <(printf '%s\n' "$output") <(fixture)
}

@test "a gmond that is down: samples pass without cpu_load, said once each" {
	port=$(free_port)
	collect_until "grep -q 'cannot connect' '$BATS_TEST_TMPDIR/cu.err'" -m "127.0.0.1:$port"
	[ "$status" -eq 0 ]
	[ "$(grep -c "gmond 127.0.0.1:$port: cannot connect" <<<"$stderr")" -eq 1 ]
	[ "$(grep -c "before any CPU reading" <<<"$stderr")" -eq 1 ]
	diff <(printf '%s\n' "$output") <(fixture)
}

@test "libxml2 is loaded for a gmond to poll only, not by every run (the dynamic loader's own account)" {
	fixture > "$BATS_TEST_TMPDIR/in.ndjson"
	LD_DEBUG=files vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
		< "$BATS_TEST_TMPDIR/in.ndjson" > /dev/null 2> "$BATS_TEST_TMPDIR/plain.err"
	grep -q 'file=libjansson' "$BATS_TEST_TMPDIR/plain.err"
	run ! grep -q 'file=libxml2' "$BATS_TEST_TMPDIR/plain.err"
	# a gmond that is down: the parser is started all the same
	LD_DEBUG=files vmtp-collect -m "127.0.0.1:$(free_port)" --json "$BATS_TEST_TMPDIR/r.json" \
		< "$BATS_TEST_TMPDIR/in.ndjson" > /dev/null 2> "$BATS_TEST_TMPDIR/gmond.err"
	grep -q 'file=libxml2.so.2 .*dynamically loaded by' "$BATS_TEST_TMPDIR/gmond.err"
}

@test "a gmond that hangs never holds up the stream, nor its end" {
	fake_start ""
	coproc COLLECT { exec vmtp-collect -m "127.0.0.1:$FAKE_PORT" --cpu-interval 5 2>/dev/null; }
	wait_for "fake_count accepted 1" 300 # the first poll waits for the hung gmond
	first=$(fixture | head -n 1)
	echo "$first" >&"${COLLECT[1]}"
	read -r -t 10 line <&"${COLLECT[0]}"
	[ "$(jq -r .type <<<"$line")" = run ]
	# and at end of input the hung poll is cut short, not waited for (5 s)
	start=$(date +%s%N)
	eval "exec ${COLLECT[1]}>&-"
	wait "$COLLECT_PID"
	[ $(($(date +%s%N) - start)) -lt 4500000000 ]
}

@test "a sample without t_start is bad input when CPU is polled" {
	port=$(free_port)
	run -65 --separate-stderr vmtp-collect -m "127.0.0.1:$port" < <(
		echo '{"type":"sample","run":"vmtp-0a1b2c3d","flow":1,"protocol":"TCP","t_end":3}')
	[[ $stderr == *"<stdin>:1: sample record has no \"t_start\""* ]]
}

@test "-m and --node-exporter reject addresses that are not ones" {
	run -2 --separate-stderr vmtp-collect -m 127.0.0.1:99999 < /dev/null
	[[ $stderr == *"-m: 99999 is out of range"* ]]
	run -2 --separate-stderr vmtp-collect --node-exporter ftp://127.0.0.1/ < /dev/null
	[[ $stderr == *"--node-exporter: not an http(s) URL"* ]]
}

@test "MongoDB: libmongoc's insert reaches the peer intact" {
	mongo_peer_start accept
	fixture > "$BATS_TEST_TMPDIR/in.ndjson"
	run --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
		--mongo-uri "mongodb://127.0.0.1:$MONGO_PORT/?serverSelectionTimeoutMS=3000" \
		< "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$(wc -l < "$MONGO_OUT")" -eq 1 ]
	jq -e --slurpfile doc "$BATS_TEST_TMPDIR/r.json" '
	    .db == "client_db" and .collection == "pns_web_entry"
	    and (.doc | del(._id)) == $doc[0] and (.doc._id | has("$oid"))' \
		"$MONGO_OUT"
	# integers stay integers and doubles doubles (BSON int64 / double)
	grep -q '"throughput_kbps": 10485760,' "$MONGO_OUT"
	grep -q '"rtt_ms": 0.28,' "$MONGO_OUT"
}

@test "MongoDB: libmongoc is loaded for a MongoDB URI only, not by every run (the dynamic loader's own account)" {
	mongo_peer_start accept
	fixture > "$BATS_TEST_TMPDIR/in.ndjson"
	LD_DEBUG=files vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
		< "$BATS_TEST_TMPDIR/in.ndjson" > /dev/null 2> "$BATS_TEST_TMPDIR/plain.err"
	grep -q 'file=libjansson' "$BATS_TEST_TMPDIR/plain.err"
	run ! grep -q 'file=libmongoc' "$BATS_TEST_TMPDIR/plain.err"
	LD_DEBUG=files vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
		--mongo-uri "mongodb://127.0.0.1:$MONGO_PORT/?serverSelectionTimeoutMS=3000" \
		< "$BATS_TEST_TMPDIR/in.ndjson" > /dev/null 2> "$BATS_TEST_TMPDIR/mongo.err"
	grep -q 'file=libmongoc-1.0.so.0 .*dynamically loaded by' "$BATS_TEST_TMPDIR/mongo.err"
	[ "$(wc -l < "$MONGO_OUT")" -eq 1 ]
}

@test "MongoDB: --mongod-server HOST:PORT, the original form, and the URI's database" {
	mongo_peer_start accept
	fixture | vmtp-collect --mongod-server "127.0.0.1:$MONGO_PORT" > /dev/null
	jq -e '.db == "client_db" and .doc.run_id == "vmtp-0a1b2c3d"' "$MONGO_OUT"
	fixture | vmtp-collect > /dev/null \
		--mongo-uri "mongodb://127.0.0.1:$MONGO_PORT/results?serverSelectionTimeoutMS=3000"
	[ "$(jq -r .db "$MONGO_OUT" | tail -n 1)" = results ]
}

@test "MongoDB refusing: exit 1 naming the server, the JSON file written first" {
	mongo_peer_start refuse
	fixture > "$BATS_TEST_TMPDIR/in.ndjson"
	run -1 --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
		--mongo-uri "mongodb://127.0.0.1:$MONGO_PORT/?serverSelectionTimeoutMS=3000" \
		< "$BATS_TEST_TMPDIR/in.ndjson"
	[[ $stderr == *"cannot insert into MongoDB at 127.0.0.1:$MONGO_PORT (client_db.pns_web_entry): not authorized"* ]]
	jq -e '.run_id == "vmtp-0a1b2c3d"' "$BATS_TEST_TMPDIR/r.json"
	diff <(printf '%s\n' "$output") "$BATS_TEST_TMPDIR/in.ndjson"
	[ ! -s "$MONGO_OUT" ]
}

@test "MongoDB down: exit 1 naming the server, nothing lost" {
	mongo_peer_start close
	run -1 --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
		--mongo-uri "mongodb://127.0.0.1:$MONGO_PORT/?serverSelectionTimeoutMS=2000" \
		< <(fixture)
	[[ $stderr == *"cannot insert into MongoDB at 127.0.0.1:$MONGO_PORT"* ]]
	jq -e '.flows | length == 2' "$BATS_TEST_TMPDIR/r.json"
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 15 ]
}

@test "a MongoDB URI with a password never shows it" {
	port=$(free_port)
	run -1 --separate-stderr vmtp-collect \
		--mongo-uri "mongodb://vmtp:s3cr3t@127.0.0.1:$port/?serverSelectionTimeoutMS=500" \
		< <(fixture)
	[[ $stderr == *"127.0.0.1:$port"* ]]
	[[ $stderr != *s3cr3t* ]]
	run -2 --separate-stderr vmtp-collect --mongo-uri "mongodb://vmtp:s3cr3t@" < /dev/null
	[[ $stderr != *s3cr3t* ]]
}

@test "SLA met: one sla record per flow, verdicts in the document, exit 0" {
	run --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
		--sla 'tcp_gbps>=4' --sla 'flow=L2:icmp_avg_ms<=0.5' --sla 'retrans<=100' \
		< <(fixture)
	[ "$status" -eq 0 ]
	sla=$(jq -c 'select(.type == "sla") | del(.type, .run)' <<<"$output")
	[ "$sla" = '{"expr":"tcp_gbps>=4","flow":1,"label":"L2 intra","value":9,"pass":true}
{"expr":"tcp_gbps>=4","flow":2,"label":"L3 fixed inter","value":4,"pass":true}
{"expr":"flow=L2:icmp_avg_ms<=0.5","flow":1,"label":"L2 intra","value":0.321,"pass":true}
{"expr":"retrans<=100","flow":1,"label":"L2 intra","value":42,"pass":true}
{"expr":"retrans<=100","flow":2,"label":"L3 fixed inter","value":3,"pass":true}' ]
	jq -e '[.sla[].pass] == [true, true, true, true, true]' "$BATS_TEST_TMPDIR/r.json"
}

@test "SLA failed: exit 4 after the document is written" {
	run -4 --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" \
		--sla 'flow=2:tcp_gbps>=9' --sla 'udp_loss<0.1' < <(fixture)
	jq -e -s '[.[] | select(.type == "sla") | [.flow, .value, .pass]]
	    == [[2, 4, false], [1, 0.12, false]]' <<<"$output"
	jq -e '.sla | length == 2' "$BATS_TEST_TMPDIR/r.json"
	[[ $stderr == *"2 SLA verdicts failed"* ]]
}

@test "SLA on a metric nothing measured: a null verdict that fails" {
	run -4 --separate-stderr vmtp-collect --sla 'flow=L3 floating:tcp_gbps>=1' \
		< <(fixture)
	jq -s -e '[.[] | select(.type == "sla")] | length == 1 and all(.[];
	    .flow == null and .value == null and .pass == false
	    and .label == "L3 floating")' <<<"$output"
}

@test "a malformed SLA is a usage error naming it" {
	for expr in 'tcp_gbps=>9' 'speed>=9' 'tcp_gbps>=fast' 'flow=L9:tcp_gbps>=1' 'flow=:udp_loss<1'; do
		run -2 --separate-stderr vmtp-collect --sla "$expr" < /dev/null
		[[ $stderr == *"--sla: '$expr': "* ]]
		[ -z "$output" ]
	done
}

@test "gmond XML nested as gmetad does it: every HOST of every GRID and CLUSTER" {
	fake_start "$BATS_TEST_DIRNAME/../fuzz/corpus/gmond/grid-nested.xml"
	COLLECT_INPUT= collect_until "fake_count answered 2" -m "127.0.0.1:$FAKE_PORT" \
		--cpu-interval 0.5
	[ "$status" -eq 0 ]
	cpu=$(jq -c 'select(.type == "cpu") | [.host, .load, .cpu_user, .cpu_system, .cpu_num]' <<<"$output")
	# cmp2 has no numeric cpu_user and no cpu_num: it gives no reading
	[ "$(sort -u <<<"$cpu")" = '["10.0.0.5",8,12.5,7.5,40]' ]
}

@test "a metric given twice, the second unreadable or out of range: the readable one counts" {
	# found by tests/fuzz/fuzz_gmond (corpus/gmond/bad-cpu-num-after-good.xml)
	fake_start "$BATS_TEST_DIRNAME/../fuzz/corpus/gmond/metric-twice.xml"
	COLLECT_INPUT= collect_until "fake_count answered 2" -m "127.0.0.1:$FAKE_PORT" \
		--cpu-interval 0.5
	[ "$status" -eq 0 ]
	cpu=$(jq -c 'select(.type == "cpu") | [.host, .cpu_user, .cpu_system, .cpu_num]' <<<"$output")
	[ "$(sort -u <<<"$cpu")" = '["10.0.0.7",44.4,11.1,2]' ]
}

@test "MongoDB: database and collection from the configuration, and its port" {
	mongo_peer_start accept
	cat > "$BATS_TEST_TMPDIR/vmtp.yaml" <<-CONF
	vmtp_db: 'lab_db'
	vmtp_collection: 'results'
	vmtp_mongod_port: $MONGO_PORT
	CONF
	fixture | vmtp-collect -c "$BATS_TEST_TMPDIR/vmtp.yaml" \
		--mongod-server 127.0.0.1 > /dev/null
	jq -e '.db == "lab_db" and .collection == "results"' "$MONGO_OUT"
}

@test "a configuration with an unknown key is bad input naming it" {
	echo 'vmtp_dbb: x' > "$BATS_TEST_TMPDIR/vmtp.yaml"
	run -65 --separate-stderr vmtp-collect -c "$BATS_TEST_TMPDIR/vmtp.yaml" < /dev/null
	[[ $stderr == *"vmtp.yaml:1"*"vmtp_dbb"* ]]
}

@test "a sample whose window began before the first reading has a null baseline" {
	fake_start "$BATS_TEST_DIRNAME/../fuzz/corpus/gmond/grid-nested.xml"
	now=$(date +%s)
	# the sample comes once two readings are in (a third poll has begun)
	mkfifo "$BATS_TEST_TMPDIR/in"
	{
		wait_for "fake_count answered 3" 300
		echo '{"type":"sample","run":"vmtp-0a1b2c3d","flow":1,"protocol":"TCP","t_start":'$((now - 100))',"t_end":'$((now + 100))',"throughput_kbps":1}'
	} > "$BATS_TEST_TMPDIR/in" &
	run --separate-stderr vmtp-collect -m "127.0.0.1:$FAKE_PORT" --cpu-interval 0.5 \
		< "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	# and no list for the host gmond has no CPU metrics of
	jq -s -e '.[] | select(.type == "sample") | .cpu_load
	    | keys == ["10.0.0.5"] and .["10.0.0.5"][0] == null
	    and (.["10.0.0.5"] | length >= 3 and (.[1:] | all(. == 8)))' <<<"$output"
}

@test "the document's sla list is assembled by libvmtp from sla records" {
	{ fixture; vmtp-collect --sla 'tcp_gbps>=9' < <(fixture) | grep '"type":"sla"'; } |
		doc-dump > "$BATS_TEST_TMPDIR/docs.json"
	jq -e '.[0].sla == [
	    {"expr": "tcp_gbps>=9", "flow": 1, "label": "L2 intra", "value": 9, "pass": true},
	    {"expr": "tcp_gbps>=9", "flow": 2, "label": "L3 fixed inter", "value": 4, "pass": false}]
	    and (.[0] | keys_unsorted | last) == "sla"' "$BATS_TEST_TMPDIR/docs.json"
}

@test "SLA labels are the charts' labels, for every flow and both ways, IPv6 flows too" {
	f="$COLLECT_FIXTURES/every-flow.ndjson"
	run -0 vmtp-chart --format text "$f"
	# the Flow column of the Throughput table, columns being 2+ spaces apart
	chart=$(sed -n '/^Throughput/,/^$/p' <<<"$output" | sed '1,2d;/^$/d' |
		sed -E 's/^  //; s/  +TCP .*//' | sort)
	run -0 --separate-stderr vmtp-collect --sla 'tcp_gbps>=0' < "$f"
	sla=$(jq -r 'select(.type == "sla") | .label' <<<"$output" | sort)
	[ "$(wc -l <<<"$chart")" -eq 22 ]
	[ "$sla" = "$chart" ]
	# the IPv6 twins (an IPv6 target) of flows 1 and 3, both ways
	jq -s -e '[.[] | select(.type == "sla" and .flow >= 10) | .label]
	    == ["L2 intra IPv6", "L2 intra IPv6 rev", "L3 fixed inter IPv6",
	        "L3 fixed inter IPv6 rev"]' <<<"$output"
}

@test "an SLA scope judges IPv4 flows, or with IPv6 the IPv6 flows only" {
	f="$COLLECT_FIXTURES/every-flow.ndjson"
	run -0 --separate-stderr vmtp-collect --sla 'flow=L2 intra:tcp_gbps>=0' \
		--sla 'flow=l2-intra-ipv6:tcp_gbps>=0' --sla 'flow=L3 fixed IPv6:tcp_gbps>=0' \
		--sla 'flow=L3 fixed:tcp_gbps>=0' < "$f"
	jq -s -e '[.[] | select(.type == "sla") | [.expr, .flow, .label]] == [
	    ["flow=L2 intra:tcp_gbps>=0", 1, "L2 intra"],
	    ["flow=L2 intra:tcp_gbps>=0", 1, "L2 intra rev"],
	    ["flow=l2-intra-ipv6:tcp_gbps>=0", 10, "L2 intra IPv6"],
	    ["flow=l2-intra-ipv6:tcp_gbps>=0", 10, "L2 intra IPv6 rev"],
	    ["flow=L3 fixed IPv6:tcp_gbps>=0", 11, "L3 fixed inter IPv6"],
	    ["flow=L3 fixed IPv6:tcp_gbps>=0", 11, "L3 fixed inter IPv6 rev"],
	    ["flow=L3 fixed:tcp_gbps>=0", 3, "L3 fixed inter"],
	    ["flow=L3 fixed:tcp_gbps>=0", 3, "L3 fixed inter rev"]]' <<<"$output"
}

@test "an SLA scope of IPv6 alone is a usage error" {
	run -2 --separate-stderr vmtp-collect --sla 'flow=IPv6:tcp_gbps>=0' < /dev/null
	[[ "${stderr_lines[0]}" == "vmtp-collect: --sla: 'flow=IPv6:tcp_gbps>=0': unknown flow ("*"then IPv6 for IPv6 flows)" ]]
}

@test "the document gives an IPv6 flow its client's IPv6 address and keeps the limit" {
	run -0 --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/doc.json" < "$FIXTURES/doc/dual-stack.ndjson"
	jq -e '[.flows[] | [.ip_from, .ip_to]] == [["10.1.0.6", "10.1.0.5"],
	    ["10.2.0.7", "10.1.0.5"], ["fd00:1::6", "fd00:1::5"], ["fd00:2::7", "fd00:1::5"]]
	    and ([.flows[].results[] | select(.protocol != "ICMP") | .bandwidth_limit_kbps] | unique) == [2000000]
	    and .flows[0].multicast_address == "231.1.1.1"
	    and ([.flows[0].results[] | select(.protocol == "Multicast") | .pkt_size] == [1024, 128])' \
		"$BATS_TEST_TMPDIR/doc.json"
}

@test "SLA judges the two ways of a flow apart: Upload and Download" {
	run -4 --separate-stderr vmtp-collect --sla 'tcp_gbps>=8' \
		--sla 'flow=download:retrans<=10' < "$COLLECT_FIXTURES/external.ndjson"
	jq -s -e '[.[] | select(.type == "sla") | [.label, .direction, .value, .pass]]
	    == [["Upload", null, 9, true], ["Download", "reverse", 3, false],
	        ["Download", "reverse", 50, false]]' <<<"$output"
}

@test "a node_exporter answer over 32 MiB is cut off with one warning, samples pass" {
	{
		printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n'
		head -c 34000000 /dev/zero | tr '\0' '#'
	} > "$BATS_TEST_TMPDIR/big.http"
	fake_start "$BATS_TEST_TMPDIR/big.http"
	mkfifo "$BATS_TEST_TMPDIR/in"
	vmtp-collect --cpu-interval 0.5 --node-exporter "http://127.0.0.1:$FAKE_PORT/metrics" \
		< "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	exec {w}> "$BATS_TEST_TMPDIR/in"
	fixture >&"$w"
	# the input stays open until the poller has fetched once
	wait_for "grep -q 'is over' '$BATS_TEST_TMPDIR/err'" 600
	exec {w}>&-
	wait "$pid"
	[ "$(grep -c "warning: node_exporter http://127.0.0.1:$FAKE_PORT/metrics: the answer is over 33554432 bytes" "$BATS_TEST_TMPDIR/err")" -eq 1 ]
	[ "$(grep -c '"type":"sample"' "$BATS_TEST_TMPDIR/out")" -eq 6 ]
}

@test "a node_exporter that is down or sends garbage: one warning each, samples pass" {
	printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nnode_cpu_seconds_total{cpu="0" 12\n' \
		> "$BATS_TEST_TMPDIR/garbage.http"
	fake_start "$BATS_TEST_TMPDIR/garbage.http"
	down=$(free_port)
	collect_until "grep -q 'not a Prometheus sample' '$BATS_TEST_TMPDIR/cu.err' && grep -q 'Failed to connect' '$BATS_TEST_TMPDIR/cu.err'" \
		--cpu-interval 0.5 \
		--node-exporter "http://127.0.0.1:$FAKE_PORT/metrics" \
		--node-exporter "http://user:pw@127.0.0.1:$down/metrics"
	[ "$status" -eq 0 ]
	[ "$(grep -c "warning: node_exporter http://127.0.0.1:$FAKE_PORT/metrics: line 1 is not a Prometheus sample" <<<"$stderr")" -eq 1 ]
	[ "$(grep -c "warning: node_exporter http://127.0.0.1:$down/metrics: Failed to connect" <<<"$stderr")" -eq 1 ]
	[[ $stderr != *pw@* ]]
	diff <(printf '%s\n' "$output") <(fixture)
}

@test "-m takes [IPv6]:port and refuses a bare IPv6 address" {
	run -2 --separate-stderr vmtp-collect -m ::1 < /dev/null
	[[ $stderr == *"-m: '::1' is not HOST[:PORT]"* ]]
	port=$(free_port)
	COLLECT_INPUT= collect_until "grep -q 'cannot connect' '$BATS_TEST_TMPDIR/cu.err'" -m "[::1]:$port"
	[ "$status" -eq 0 ]
	[[ $stderr == *"gmond [::1]:$port: cannot connect"* ]]
}

@test "two runs in the input give a list of two documents" {
	{ fixture; cat "$COLLECT_FIXTURES/external.ndjson"; } |
		vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" > /dev/null
	jq -e 'map(.run_id) == ["vmtp-0a1b2c3d", "vmtp-5e6f7a8b"]
	    and (.[1].flows[0].results | map(.direction) == [null, "reverse"])' \
		"$BATS_TEST_TMPDIR/r.json"
}

@test "-q keeps warnings about sources off stderr" {
	port=$(free_port)
	# a gmond that is down and one whose XML is cut: both polled, neither said
	printf '<GANGLIA_XML><CLUSTER' > "$BATS_TEST_TMPDIR/cut.xml"
	fake_start "$BATS_TEST_TMPDIR/cut.xml"
	collect_until "fake_count answered 2" -q --cpu-interval 0.5 \
		-m "127.0.0.1:$port" -m "127.0.0.1:$FAKE_PORT"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "a run record without a date gives a document without one, not a failure" {
	run -0 --separate-stderr vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" <<< '{"type":"run","run":"vmtp-0a1b2c3d","v":1}'
	[ -z "$stderr" ]
	jq -e 'has("date") | not' "$BATS_TEST_TMPDIR/r.json"
	jq -e '.run_id == "vmtp-0a1b2c3d"' "$BATS_TEST_TMPDIR/r.json"
}

# The expected figure of the metrics fixture's samples selected by jq
# filter $1: the mean of field $2 times $3.
om_mean() {
	jq -s "[.[] | select(.type == \"sample\") | select($1) | .$2] | add / length * $3" \
		"$COLLECT_FIXTURES/metrics.ndjson"
}

# True when numbers $1 and $2 are equal to 1e-9 (both printed, not
# computed the same way).
num_eq() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		d = a - b; m = b < 0 ? -b : b
		exit !(a != "" && b != "" && (d < 0 ? -d : d) <= 1e-9 * m + 1e-15)
	}'
}

# The value of the series of family $1 whose labels include all of $2...
# (name="value" each) in the OpenMetrics file $OM.
om_value() {
	local fam=$1 l
	shift
	grep "^$fam{" "$OM" | while IFS= read -r line; do
		for l in "$@"; do
			[[ $line == *"{$l,"* || $line == *",$l,"* || $line == *",$l}"* || $line == *"{$l}"* ]] || continue 2
		done
		echo "${line##* }"
	done
}

@test "--openmetrics writes every figure in base units, labelled, and promtool accepts it" {
	OM="$BATS_TEST_TMPDIR/vmtp.prom"
	run -0 --separate-stderr vmtp-collect --openmetrics "$OM" \
		< "$COLLECT_FIXTURES/metrics.ndjson"
	diff <(printf '%s\n' "$output") "$COLLECT_FIXTURES/metrics.ndjson"
	run -0 promtool check metrics < "$OM"
	[ -z "$output" ]
	# each family: HELP, TYPE gauge, UNIT where it has one; then # EOF
	for f in throughput_bytes_per_second:bytes_per_second loss_ratio:ratio \
		rtt_seconds:seconds jitter_seconds:seconds run_timestamp_seconds:seconds; do
		grep -qx "# TYPE vmtp_${f%:*} gauge" "$OM"
		grep -q "^# HELP vmtp_${f%:*} " "$OM"
		grep -qx "# UNIT vmtp_${f%:*} ${f#*:}" "$OM"
	done
	grep -qx "# TYPE vmtp_errors gauge" "$OM"
	[ "$(tail -n 1 "$OM")" = "# EOF" ]
	# TCP: the mean of the loops, Mbit/s x 1024 in bytes per second
	tcp='run="vmtp-5e1f00a2",flow="L2 inter",flow_id="1",client="vm2",client_az="nova:compute-2",server="vm1",server_az="nova:compute-1",protocol="TCP",pkt_size="65536",direction="forward"'
	want=$(om_mean '.protocol == "TCP" and .direction == null' throughput_kbps '1000000 / 1024 / 8')
	num_eq "$(om_value vmtp_throughput_bytes_per_second "$tcp")" "$want"
	num_eq "$(om_value vmtp_tcp_retransmits "$tcp")" "$(om_mean '.protocol == "TCP" and .direction == null' retrans 2)"
	# the reverse way has the charts' label and its own series
	num_eq "$(om_value vmtp_throughput_bytes_per_second 'flow="L2 inter rev"' 'direction="reverse"')" \
		"$(om_mean '.direction == "reverse"' throughput_kbps '1000000 / 1024 / 8')"
	# UDP: loss and jitter as ratio and seconds
	num_eq "$(om_value vmtp_loss_ratio 'protocol="UDP"' 'pkt_size="1024"')" "$(om_mean '.protocol == "UDP" and .error == null' loss_rate 0.01)"
	num_eq "$(om_value vmtp_jitter_seconds 'protocol="UDP"')" "$(om_mean '.protocol == "UDP" and .error == null' jitter_ms 0.001)"
	# ICMP: every statistic, and the share of pings unanswered
	for st in avg min max p50 p99; do
		num_eq "$(om_value vmtp_rtt_seconds 'protocol="ICMP"' "stat=\"$st\"")" \
			"$(om_mean '.protocol == "ICMP"' "rtt_${st}_ms" 0.001)"
	done
	num_eq "$(om_value vmtp_loss_ratio 'protocol="ICMP"')" "$(jq -s '.[] | select(.protocol == "ICMP") | 1 - .rx_packets / .tx_packets' "$COLLECT_FIXTURES/metrics.ndjson")"
	# the failed UDP size counts in vmtp_errors, and has no figure
	[ "$(om_value vmtp_errors 'protocol="UDP"' 'pkt_size="8192"')" = 1 ]
	[ "$(om_value vmtp_errors "$tcp")" = 0 ]
	[ -z "$(om_value vmtp_throughput_bytes_per_second 'pkt_size="8192"')" ]
	# the run's time, from its date
	num_eq "$(om_value vmtp_run_timestamp_seconds 'run="vmtp-5e1f00a2"')" \
		"$(date -d "$(jq -r 'select(.type == "run") | .date' "$COLLECT_FIXTURES/metrics.ndjson")" +%s)"
	# no series carries a timestamp: the value is the last field after the labels
	! grep -v '^#' "$OM" | grep -q '} [^ ]* [^ ]*$'
}

@test "--openmetrics: a real node_exporter serves the file from its textfile directory" {
	mkdir "$BATS_TEST_TMPDIR/textfile"
	OM="$BATS_TEST_TMPDIR/textfile/vmtp.prom"
	vmtp-collect --openmetrics "$OM" < "$COLLECT_FIXTURES/metrics.ndjson" > /dev/null
	port=$(free_port)
	/usr/bin/prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
		--collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$BATS_TEST_TMPDIR/textfile" \
		>"$BATS_TEST_TMPDIR/exporter.log" 2>&1 &
	EXPORTER_PID=$!
	wait_for "curl -fs 'http://127.0.0.1:$port/metrics' > '$BATS_TEST_TMPDIR/scrape'" 100
	grep -qx 'node_textfile_scrape_error 0' "$BATS_TEST_TMPDIR/scrape"
	# every series of the file, with its value, is in the scrape
	grep -v '^#' "$OM" | sort > "$BATS_TEST_TMPDIR/want"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/want")" -ge 20 ]
	grep '^vmtp_' "$BATS_TEST_TMPDIR/scrape" | sort > "$BATS_TEST_TMPDIR/got"
	# node_exporter sorts labels and prints numbers its own way: compare
	# name, label set and value as numbers
	norm() {
		awk '{
			v = $NF; sub(/ [^ ]*$/, "")
			n = index($0, "{"); name = substr($0, 1, n - 1)
			body = substr($0, n + 1, length($0) - n - 1)
			k = split(body, kv, /",/)
			for (i = 1; i <= k; i++) { sub(/"$/, "", kv[i]); kv[i] = kv[i] "\"" }
			asort(kv)
			s = name; for (i = 1; i <= k; i++) s = s " " kv[i]
			printf "%s %.12g\n", s, v
		}' "$1" | sort
	}
	diff <(norm "$BATS_TEST_TMPDIR/want") <(norm "$BATS_TEST_TMPDIR/got")
}

@test "--openmetrics escapes label values, and replaces the file whole" {
	OM="$BATS_TEST_TMPDIR/vmtp.prom"
	echo old > "$OM"
	jq -c 'if .type == "flow" then .desc = "a \"quoted\\ flow" else . end' \
		"$COLLECT_FIXTURES/metrics.ndjson" |
		vmtp-collect --openmetrics "$OM" > /dev/null
	grep -qF 'flow="a \"quoted\\ flow"' "$OM"
	run -0 promtool check metrics < "$OM"
	[ "$(ls "$BATS_TEST_TMPDIR" | grep -c 'vmtp\.prom')" -eq 1 ]
	! grep -qx old "$OM"
}

@test "--openmetrics into a missing folder fails before any record; no run is exit 65" {
	run -1 --separate-stderr vmtp-collect --openmetrics "$BATS_TEST_TMPDIR/no/vmtp.prom" \
		< "$COLLECT_FIXTURES/metrics.ndjson"
	[ "$stderr" = "vmtp-collect: --openmetrics: cannot write $BATS_TEST_TMPDIR/no/vmtp.prom: No such file or directory" ]
	[ -z "$output" ]
	run -65 --separate-stderr vmtp-collect --openmetrics "$BATS_TEST_TMPDIR/vmtp.prom" < /dev/null
	[[ $stderr == *"no run in the input"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/vmtp.prom" ]
	run -1 --separate-stderr vmtp-collect --openmetrics /dev/full \
		< "$COLLECT_FIXTURES/metrics.ndjson"
	[[ $stderr == *"cannot write /dev/full: No space left on device"* ]]
	diff <(printf '%s\n' "$output") "$COLLECT_FIXTURES/metrics.ndjson"
}

# Records of two runs and of none, their flows' samples interleaved as a
# mesh's rounds write them, for the document written one flow at a time.
interleaved() {
	local run
	for run in vmtp-00000001 vmtp-00000002; do
		printf '{"type":"run","run":"%s","v":1,"date":"2026-11-01T10:00:00Z","version":"0.1.0"}\n' "$run"
		printf '{"type":"host","run":"%s","name":"h%d","role":"native","ip":"198.18.0.%d","az":"z%d"}\n' \
			"$run" 1 1 1 "$run" 2 2 2
		printf '{"type":"flow","run":"%s","id":%d,"desc":"Native inter-host","client":"h%d","server":"h%d","target":"198.18.0.%d","round":%d}\n' \
			"$run" 1 1 2 2 1 "$run" 2 2 1 1 1 "$run" 3 1 2 2 2
	done
	# a flow of the first run without its flow record, then every flow's
	# samples round by round, runs interleaved
	printf '{"type":"sample","run":"vmtp-00000001","flow":9,"protocol":"TCP","tool":"nuttcp-6.1.2","throughput_kbps":1.5}\n'
	for loop in 1 2; do
		for id in 3 1 2; do
			for run in vmtp-00000002 vmtp-00000001; do
				printf '{"type":"sample","run":"%s","flow":%d,"protocol":"TCP","tool":"nuttcp-6.1.2","throughput_kbps":%d.25,"loop":%d}\n' \
					"$run" "$id" "$((id * 1000 + loop))" "$loop"
				printf '{"type":"sample","run":"%s","flow":%d,"protocol":"ICMP","tool":"ping","pkt_size":%d,"rtt_avg_ms":0.5}\n' \
					"$run" "$id" "$((loop * 1000))"
			done
		done
	done
	# records without a run tag: a document of their own
	printf '{"type":"flow","id":5,"desc":"Native intra-host","client":"h1","server":"h1","target":"198.18.0.1"}\n'
	printf '{"type":"sample","flow":5,"protocol":"UDP","tool":"nuttcp-6.1.2","throughput_kbps":7,"loss_rate":0.5}\n'
}

# as_whole FILE: FILE is what JSON's dump of its value, 4 spaces a level,
# writes byte for byte (Python's, jansson's whole-document dump alike)
as_whole() {
	python3 -c 'import json, sys
sys.stdout.write(json.dumps(json.load(open(sys.argv[1])), indent=4) + "\n")' "$1" \
		> "$BATS_TEST_TMPDIR/whole.json"
	cmp "$BATS_TEST_TMPDIR/whole.json" "$1"
}

@test "a document written one flow at a time is the assembled document, indented as a whole one" {
	local status=0
	interleaved > "$BATS_TEST_TMPDIR/in.ndjson"
	# the records without a tag have no TCP: their verdict fails (4)
	vmtp-collect -q --sla 'tcp_gbps > 0.000001' --json "$BATS_TEST_TMPDIR/r.json" \
		< "$BATS_TEST_TMPDIR/in.ndjson" > "$BATS_TEST_TMPDIR/out.ndjson" || status=$?
	[ "$status" -eq 4 ]
	# what libvmtp assembles from the same records, verdicts included
	doc-dump "$BATS_TEST_TMPDIR/out.ndjson" | jq -S . > "$BATS_TEST_TMPDIR/want"
	doc-dump "$BATS_TEST_TMPDIR/r.json" | jq -S . > "$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	jq -e 'length == 3 and map(.run_id) == ["vmtp-00000001", "vmtp-00000002", null]
	    and (.[0].flows | map(.desc) == ["Native inter-host", "Native inter-host",
	        "Native inter-host", "flow 9"])
	    and (.[0].flows[0].results | map(.throughput_kbps) == [1001.25, null, 1002.25])
	    and (.[0].flows[0].results[1].results | map(.packet_size) == [1000, 2000])
	    and (.[1].flows | map(.az_from) == ["z1", "z2", "z1"])
	    and (.[0].sla | length == 4) and (.[2].flows[0].desc == "Native intra-host")
	    and (.[2].flows[0].results[0].loss_rate == 0.5)' \
		"$BATS_TEST_TMPDIR/r.json"
	# byte for byte what jansson dumps of the whole list, verdicts included
	doc-dump --whole "$BATS_TEST_TMPDIR/out.ndjson" > "$BATS_TEST_TMPDIR/whole.json"
	cmp "$BATS_TEST_TMPDIR/whole.json" "$BATS_TEST_TMPDIR/r.json"
	# and what Python's does, 4 spaces a level (without the verdicts, whose
	# tiny values Python writes another way: 1e-06)
	vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" < "$BATS_TEST_TMPDIR/in.ndjson" > /dev/null
	as_whole "$BATS_TEST_TMPDIR/r.json"
}

@test "one run's document written one flow at a time is one object, indented as a whole one" {
	interleaved | jq -c 'select(.run == "vmtp-00000002")' |
		vmtp-collect --json "$BATS_TEST_TMPDIR/r.json" > /dev/null
	jq -e 'type == "object" and (.flows | length == 3)' "$BATS_TEST_TMPDIR/r.json"
	as_whole "$BATS_TEST_TMPDIR/r.json"
	# with its verdicts, a list after the flows, as jansson dumps it whole
	interleaved | jq -c 'select(.run == "vmtp-00000002")' |
		vmtp-collect --sla 'tcp_gbps > 0.000001' --sla 'icmp_avg_ms < 1' \
			--json "$BATS_TEST_TMPDIR/r.json" > "$BATS_TEST_TMPDIR/out.ndjson"
	jq -e '(.sla | length == 6) and (keys_unsorted | last == "sla")' "$BATS_TEST_TMPDIR/r.json"
	doc-dump --whole "$BATS_TEST_TMPDIR/out.ndjson" > "$BATS_TEST_TMPDIR/whole.json"
	cmp "$BATS_TEST_TMPDIR/whole.json" "$BATS_TEST_TMPDIR/r.json"
}

# The store of CPU readings (cpu-dump drives vmtp-collect's own): what a
# sample's cpu_load takes, whatever the number of readings.
@test "cpu_load: per host the last reading before the window, then those inside; a host with none by its end is left out" {
	run -0 cpu-dump <<-'EOF'
		add g 10.0.0.1 10 0.5
		add g 10.0.0.2 10 1
		add g 10.0.0.1 12 0.7
		add g 10.0.0.2 12 1.25
		add g 10.0.0.1 14 0.75
		add g 10.0.0.3 30 2
		load 11 13
		load 9 9.5
		load 13 20
		load 12 14
		load 5 10
	EOF
	[ "${lines[0]}" = '{"10.0.0.1":[0.5,0.7],"10.0.0.2":[1.0,1.25]}' ]
	[ "${lines[1]}" = '{}' ]
	[ "${lines[2]}" = '{"10.0.0.1":[0.7,0.75],"10.0.0.2":[1.25]}' ]
	[ "${lines[3]}" = '{"10.0.0.1":[0.5,0.7,0.75],"10.0.0.2":[1.0,1.25]}' ]
	[ "${lines[4]}" = '{"10.0.0.1":[null,0.5],"10.0.0.2":[null,1.0]}' ]
}

@test "cpu_load: a host two sources report is read from the one that reported it first, even once its clock went back" {
	run -0 cpu-dump <<-'EOF'
		add gmond h1 20 0.5
		add node h1 10 3
		add node h1 12 3.5
		add gmond h1 11 0.25
		add gmond h1 13 0.75
		load 10.5 12.5
		load 21 22
		run vmtp-1
	EOF
	# the first source's readings as they came, from its first by the
	# window's end: never the other source's
	[ "${lines[0]}" = '{"h1":[null,0.25]}' ]
	[ "${lines[1]}" = '{"h1":[0.75]}' ]
	# the cpu records of readings taken before the run tag, then written
	[ "$(printf '%s\n' "${lines[@]:2}" | jq -s 'map(.source + "/" + (.t | tostring)) | join(" ")')" = '"gmond/20 node/10 node/12 gmond/11 gmond/13"' ]
}

# How many descriptors of process PID name a removed vmtp file in DIR.
spill_fds() {
	find "/proc/$1/fd" -lname "$2/vmtp-* (deleted)" 2>/dev/null | wc -l
}

@test "records wait for the end of input in a file nothing names: killed halfway, nothing is left behind" {
	local d=$BATS_TEST_TMPDIR/tmp in=$COLLECT_FIXTURES/every-flow.ndjson pid i fd w
	mkdir "$d"
	mkfifo "$BATS_TEST_TMPDIR/in"
	TMPDIR=$d vmtp-collect -q --json "$BATS_TEST_TMPDIR/r.json" \
		< "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	COLLECT_PID=$pid
	exec {w}> "$BATS_TEST_TMPDIR/in"
	cat "$in" >&"$w"
	# every record passed on is kept by then
	for i in $(seq 200); do
		[ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq "$(wc -l < "$in")" ] && break
		sleep 0.1
	done
	[ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq "$(wc -l < "$in")" ]
	[ "$(spill_fds "$pid" "$d")" -eq 1 ]
	fd=$(find "/proc/$pid/fd" -lname "$d/vmtp-* (deleted)")
	# the records' compact text, a little shorter than the input's
	[ "$(stat -L -c %s "$fd")" -gt "$(($(wc -c < "$in") / 2))" ]
	[ -z "$(ls -A "$d")" ]
	kill -9 "$pid"
	wait "$pid" || true
	COLLECT_PID=
	exec {w}>&-
	[ -z "$(ls -A "$d")" ]
	[ ! -e "$BATS_TEST_TMPDIR/r.json" ]
}

@test "no temporary file can be made: one warning, the records kept in memory, the same document" {
	local in=$COLLECT_FIXTURES/every-flow.ndjson
	vmtp-collect -q --sla 'tcp_gbps > 0' --json "$BATS_TEST_TMPDIR/want.json" < "$in" > "$BATS_TEST_TMPDIR/want.ndjson"
	run --separate-stderr env TMPDIR="$BATS_TEST_TMPDIR/none" \
		vmtp-collect --sla 'tcp_gbps > 0' --json "$BATS_TEST_TMPDIR/got.json" < "$in"
	[ "$status" -eq 0 ]
	[ "$stderr" = "vmtp-collect: warning: cannot create a file in $BATS_TEST_TMPDIR/none: No such file or directory: records are kept in memory" ]
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/want.ndjson")" ]
	cmp "$BATS_TEST_TMPDIR/want.json" "$BATS_TEST_TMPDIR/got.json"
}

@test "a temporary file that cannot grow: the records past its limit are kept in memory, nothing lost" {
	local in=$COLLECT_FIXTURES/every-flow.ndjson
	vmtp-collect -q --sla 'tcp_gbps > 0' --json "$BATS_TEST_TMPDIR/want.json" < "$in" > /dev/null
	# the document goes to a pipe, which the file size limit does not cover
	{
		(
			trap '' XFSZ
			ulimit -f 2
			exec vmtp-collect -q --sla 'tcp_gbps > 0' --json /dev/fd/5 < "$in" > /dev/null
		)
	} 5> >(exec cat > "$BATS_TEST_TMPDIR/got.json")
	wait $!
	[ "$(wc -c < "$in")" -gt 4096 ]
	cmp "$BATS_TEST_TMPDIR/want.json" "$BATS_TEST_TMPDIR/got.json"
}
