#!/usr/bin/env bats
# documents.bats - the result document of SPEC §5, assembled from records and
# read back from archived files, through doc-dump (a test driver printing
# what libvmtp's doc_load() gives: a list of normalized documents).

load helpers/common

@test "the original tool's example document reads with numbers, ICMP grouped" {
	run doc-dump "$VMTP_SHARED/reference/vmtp-example.json"
	[ "$status" -eq 0 ]
	[ "$(jq length <<< "$output")" -eq 1 ]
	[ "$(jq '.[0].flows | length' <<< "$output")" -eq 6 ]
	# ICMP: strings became numbers, one grouped entry per flow
	[ "$(jq -c '.[0].flows[0].results | map(select(.protocol=="ICMP")) | length' <<< "$output")" -eq 1 ]
	[ "$(jq -c '.[0].flows[0].results[] | select(.protocol=="ICMP") | .results[0] | [.rtt_avg_ms, .rx_packets, .rtt_stddev]' <<< "$output")" = '[0.321,5,0.212]' ]
	# everything else is as the file says
	[ "$(jq -c '.[0].flows[3].results[1]' <<< "$output")" = "$(jq -c '.flows[3].results[1]' "$VMTP_SHARED/reference/vmtp-example.json")" ]
	[ "$(jq -r '.[0].l2agent_version' <<< "$output")" = "OVS 2.3.1" ]
}

@test "records assemble into the original's document shape" {
	run doc-dump "$FIXTURES/doc/run.ndjson"
	[ "$status" -eq 0 ]
	doc=$(jq '.[0]' <<< "$output")
	[ "$(jq -c 'keys_unsorted' <<< "$doc")" = '["args","date","version","run_id","auth_url","encapsulation","l2agent_type","distro","test_description","region","project","flows"]' ]
	[ "$(jq -r .date <<< "$doc")" = "2026-11-25 17:00:00" ]
	[ "$(jq -r .run_id <<< "$doc")" = "vmtp-0000abcd" ]
	[ "$(jq -c '.flows[0] | del(.results)' <<< "$doc")" = '{"desc":"VM to VM same network fixed IP (inter-node)","ip_from":"10.1.0.6","ip_to":"10.1.0.5","az_from":"nova:c2","az_to":"nova:c1","distro_id":"debian","distro_version":"12"}' ]
}

@test "results drop the stream-only fields and keep the rest" {
	run doc-dump "$FIXTURES/doc/run.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.[0].flows[0].results[0]' <<< "$output")" = '{"protocol":"TCP","tool":"nuttcp-6.1.2","pkt_size":65536,"throughput_kbps":9437184,"retrans":3,"rtt_ms":0.2,"intervals":[9000000,9874368]}' ]
	[ "$(jq '[.[0].flows[].results[] | has("t_start") or has("loop") or has("run") or has("type") or has("flow")] | any' <<< "$output")" = false ]
}

@test "ICMP samples of a flow become one entry with packet_size and rtt_stddev" {
	run doc-dump "$FIXTURES/doc/run.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.[0].flows[0].results[2]' <<< "$output")" = '{"protocol":"ICMP","tool":"ping","results":[{"packet_size":64,"tx_packets":5,"rx_packets":5,"rtt_min_ms":0.1,"rtt_avg_ms":0.2,"rtt_max_ms":0.3,"rtt_stddev":0.05,"rtt_p50_ms":0.2,"rtt_p99_ms":0.3},{"packet_size":1500,"error":"ping: 100% packet loss"}]}' ]
}

@test "reverse and error samples keep their direction and error" {
	run doc-dump "$FIXTURES/doc/run.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.[0].flows[1].results | map([.direction, .error])' <<< "$output")" = '[[null,null],["reverse",null],[null,"nuttcp: connection refused"]]' ]
}

@test "cpu and resource records are not results" {
	run doc-dump "$FIXTURES/doc/run.ndjson"
	[ "$(jq '[.[0].flows[].results[]] | length' <<< "$output")" -eq 6 ]
}

@test "a stream with two runs gives two documents in order" {
	run doc-dump "$FIXTURES/doc/two-runs.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c 'map([.run_id, .flows[0].desc, .flows[0].results[0].throughput_kbps])' <<< "$output")" = '[["vmtp-00000001","Native intra-host",1024],["vmtp-00000002","Native inter-host",2048]]' ]
}

@test "grouped ICMP and error strings of later documents are read" {
	run doc-dump "$FIXTURES/doc/icmp-grouped.json"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.[0].flows[0].results[1]' <<< "$output")" = '{"error":"VM to VM different network floating IP (intra-node): ssh connection timed out"}' ]
	[ "$(jq -c '.[0].flows[0].results[2].results | map([.packet_size, .rx_packets, .rtt_avg_ms])' <<< "$output")" = '[[64,5,0.3],[1500,4,0.6]]' ]
}

@test "a list of documents is read as several results" {
	jq -s . "$VMTP_SHARED/reference/vmtp-example.json" "$FIXTURES/doc/icmp-grouped.json" > "$BATS_TEST_TMPDIR/list.json"
	run doc-dump "$BATS_TEST_TMPDIR/list.json"
	[ "$status" -eq 0 ]
	[ "$(jq length <<< "$output")" -eq 2 ]
}

@test "a JSON object that is neither document nor record is bad input naming the file" {
	echo '{"hello": "world"}' > "$BATS_TEST_TMPDIR/x.json"
	run -65 --separate-stderr doc-dump "$BATS_TEST_TMPDIR/x.json"
	[ "$stderr" = "doc-dump: $BATS_TEST_TMPDIR/x.json: neither a result document nor records" ]
}

@test "a document whose flow has no desc is bad input naming the flow" {
	echo '{"flows": [{"desc": "a", "results": []}, {"results": []}]}' > "$BATS_TEST_TMPDIR/d.json"
	run -65 --separate-stderr doc-dump "$BATS_TEST_TMPDIR/d.json"
	[ "$stderr" = "doc-dump: $BATS_TEST_TMPDIR/d.json: flows[1] has no \"desc\"" ]
}

@test "a sample without its flow is bad input naming the line" {
	printf '%s\n' '{"type":"run","run":"vmtp-00000001"}' '{"type":"sample","run":"vmtp-00000001","protocol":"TCP"}' > "$BATS_TEST_TMPDIR/s.ndjson"
	run -65 --separate-stderr doc-dump "$BATS_TEST_TMPDIR/s.ndjson"
	[ "$stderr" = "doc-dump: $BATS_TEST_TMPDIR/s.ndjson:2: sample record has no \"flow\"" ]
}

@test "plain text is bad input naming the line" {
	printf 'hello\n' > "$BATS_TEST_TMPDIR/t.txt"
	run -65 --separate-stderr doc-dump "$BATS_TEST_TMPDIR/t.txt"
	[[ "$stderr" == "doc-dump: $BATS_TEST_TMPDIR/t.txt:1: not JSON: "* ]]
}

@test "a file of one record, or of a document and more, reads as a stream does" {
	# a document is parsed straight from its file; what is not one goes
	# the stream's way, from the start of the file
	printf '%s\n' '{"type":"sample","flow":1,"protocol":"TCP","throughput_kbps":5}' > "$BATS_TEST_TMPDIR/one.ndjson"
	run -0 doc-dump "$BATS_TEST_TMPDIR/one.ndjson"
	jq -e 'length == 1 and .[0].flows[0].desc == "flow 1"
	    and .[0].flows[0].results[0].throughput_kbps == 5' <<< "$output"
	diff <(doc-dump "$BATS_TEST_TMPDIR/one.ndjson") <(doc-dump < "$BATS_TEST_TMPDIR/one.ndjson")
	{ jq -c . "$VMTP_SHARED/reference/vmtp-example.json"; echo '{"type":"run"}'; } > "$BATS_TEST_TMPDIR/more.json"
	run -65 --separate-stderr doc-dump "$BATS_TEST_TMPDIR/more.json"
	[ "$stderr" = "doc-dump: $BATS_TEST_TMPDIR/more.json:1: record has no \"type\"" ]
	diff <(doc-dump "$VMTP_SHARED/reference/vmtp-example.json") \
		<(doc-dump < "$VMTP_SHARED/reference/vmtp-example.json")
}

# same_both FILE: doc-dump reads FILE whole and a flow at a time (--lean)
# alike: the same documents, or the same message and status.
same_both() {
	local whole lean
	whole=$(doc-dump "$1" 2>&1; echo "status $?")
	lean=$(doc-dump --lean "$1" 2>&1; echo "status $?")
	diff <(echo "$whole") <(echo "$lean")
}

@test "a document read one flow at a time is the document read whole; what is not one reads the same, with the same messages" {
	local ex="$VMTP_SHARED/reference/vmtp-example.json" d="$BATS_TEST_TMPDIR"
	same_both "$ex"
	# past 1 MiB, its flows are kept packed
	[ "$(doc-dump --packed "$ex")" -eq 0 ]
	jq '.flows = [range(300) as $i | .flows[]]' "$ex" > "$d/big.json"
	jq -c . "$d/big.json" > "$d/compact.json"
	[ "$(stat -c %s "$d/compact.json")" -gt 1048576 ]
	n=$(jq '.flows | length' "$d/big.json")
	# compact, flows first, brackets and quotes inside strings
	jq '{flows: .flows} + del(.flows)' "$d/big.json" > "$d/first.json"
	jq '.flows[0].desc = "a \"]}\\\" [{ b" | .test_description = "x\"}{"' "$d/big.json" > "$d/quoted.json"
	for f in big compact first quoted; do
		same_both "$d/$f.json"
		[ "$(doc-dump --packed "$d/$f.json")" -eq "$n" ]
	done
	[ "$(doc-dump --lean "$d/quoted.json" | jq -r '.[0].flows[0].desc')" = 'a "]}\" [{ b' ]
	# what is no document read a flow at a time: read whole, or as records
	{ cat "$d/compact.json"; echo '{"type":"run"}'; } > "$d/more.json"
	same_both "$d/more.json"
	jq -s . "$d/big.json" "$ex" > "$d/list.json"
	same_both "$d/list.json"
	[ "$(doc-dump --packed "$d/list.json")" -eq 0 ]
	same_both "$FIXTURES/doc/run.ndjson"
	[ "$(doc-dump --packed "$FIXTURES/doc/run.ndjson")" -eq 0 ]
	# nor bad input, which says what is wrong as when read whole
	jq '.flows[1] |= del(.desc)' "$d/big.json" > "$d/nodesc.json"
	run -65 --separate-stderr doc-dump --lean "$d/nodesc.json"
	[ "$stderr" = "doc-dump: $d/nodesc.json: flows[1] has no \"desc\"" ]
	same_both "$d/nodesc.json"
	jq '.flows = 5' "$d/big.json" > "$d/five.json"
	same_both "$d/five.json"
	head -c 1100000 "$d/big.json" > "$d/cut.json"
	same_both "$d/cut.json"
	jq -c '. + {flows: []}' "$d/big.json" | sed 's/^{/{"flows":[{"desc":"x"}],/' > "$d/twice.json"
	same_both "$d/twice.json"
}

@test "empty input gives no documents" {
	run doc-dump < /dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "[]" ]
}

@test "an IPv6 flow's ip_from is its client's ipv6, an IPv4 flow's its ip" {
	run doc-dump "$FIXTURES/doc/dual-stack.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.[0].flows[] | [.ip_from, .ip_to]]' <<< "$output")" = '[["10.1.0.6","10.1.0.5"],["10.2.0.7","10.1.0.5"],["fd00:1::6","fd00:1::5"],["fd00:2::7","fd00:1::5"]]' ]
}

@test "an IPv6 flow whose client has no IPv6 address has no ip_from" {
	printf '%s\n' '{"type":"host","run":"vmtp-00000006","name":"c","ip":"10.0.0.2"}' \
		'{"type":"flow","run":"vmtp-00000006","id":1,"desc":"VM to VM same network fixed IP","client":"c","server":"s","target":"fd00::1"}' \
		'{"type":"flow","run":"vmtp-00000006","id":2,"desc":"Native inter-host","client":"n","server":"s","target":"fd00::1"}' \
		'{"type":"host","run":"vmtp-00000006","name":"n","ip":"fd00::2"}' > "$BATS_TEST_TMPDIR/r.ndjson"
	run doc-dump "$BATS_TEST_TMPDIR/r.ndjson"
	[ "$status" -eq 0 ]
	# a native host given by an IPv6 address has it as its ip
	[ "$(jq -c '[.[0].flows[] | [.ip_from, .ip_to]]' <<< "$output")" = '[[null,"fd00::1"],["fd00::2","fd00::1"]]' ]
}

@test "a flow with Multicast samples has the flow-level multicast_address, others none" {
	run doc-dump "$FIXTURES/doc/dual-stack.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.[0].flows[] | .multicast_address]' <<< "$output")" = '["231.1.1.1",null,null,null]' ]
	# where the original writes it: with the flow's fields, before its results
	[ "$(jq -c '.[0].flows[0] | keys_unsorted' <<< "$output")" = '["desc","ip_from","ip_to","az_from","az_to","multicast_address","results"]' ]
	[ "$(jq -c '.[0].flows[0].results[3]' <<< "$output")" = '{"protocol":"Multicast","tool":"nuttcp-8.2.2","pkt_size":1024,"throughput_kbps":786432,"loss_rate":0.5,"jitter_ms":0.125,"probes":4,"multicast_address":"231.1.1.1","bandwidth_limit_kbps":2000000}' ]
}

@test "a UDP sample whose search found no rate stable in the bracket, or whose sender was the limit, says so in the document" {
	sed '11s/"probes":3,/"probes":4,"loss_unstable":true,/; 17s/"probes":3,/"probes":1,"sender_limited":true,/' \
	    "$FIXTURES/doc/dual-stack.ndjson" > "$BATS_TEST_TMPDIR/s.ndjson"
	run doc-dump "$BATS_TEST_TMPDIR/s.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.[0].flows[].results[] | select(.protocol == "UDP") | [.probes, .loss_unstable, .sender_limited]]' <<< "$output")" = '[[4,true,null],[1,null,true],[3,null,null],[3,null,null]]' ]
}

@test "bandwidth_limit_kbps stays on each TCP, UDP and Multicast result, never ICMP" {
	run doc-dump "$FIXTURES/doc/dual-stack.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.[0].flows[].results[] | [.protocol, .bandwidth_limit_kbps]] | unique' <<< "$output")" = '[["ICMP",null],["Multicast",2000000],["TCP",2000000],["UDP",2000000]]' ]
	[ "$(jq '[.[0].flows[].results[] | select(.protocol == "ICMP") | .results[] | has("bandwidth_limit_kbps")] | any' <<< "$output")" = false ]
}

@test "the original's document written in ipv6_mode reads with IPv6 addresses and Multicast" {
	run doc-dump "$FIXTURES/chart/ipv6-mode.json"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.[0].flows[] | [.ip_from, .ip_to, .multicast_address]]' <<< "$output")" = '[["2001:db8:1::4","2001:db8:1::2","231.1.1.1"],["2001:db8:1::5","2001:db8:1::2","231.1.1.1"]]' ]
	[ "$(jq -c '[.[0].flows[0].results[] | select(.protocol == "Multicast") | [.pkt_size, .throughput_kbps, .loss_rate, .jitter, .bandwidth_limit_kbps]]' <<< "$output")" = '[[1024,524288,0.35,0.041,5000000],[8192,2097152,0.2,0.032,5000000]]' ]
}

@test "a mesh flow's round is in its document flow; other flows have none" {
	jq -c 'if .type == "flow" then .round = 2 else . end' "$FIXTURES/doc/run.ndjson" \
		> "$BATS_TEST_TMPDIR/mesh.ndjson"
	run -0 doc-dump "$BATS_TEST_TMPDIR/mesh.ndjson"
	jq -e '.[0].flows | length > 0 and all(.[]; .round == 2)' <<< "$output"
	run -0 doc-dump "$FIXTURES/doc/run.ndjson"
	jq -e '.[0].flows | all(.[]; has("round") | not)' <<< "$output"
}

@test "samples without a tag make their own document: a tagged run's flow or host is not theirs" {
	cat > "$BATS_TEST_TMPDIR/s.ndjson" <<-EOF
	{"type":"run","run":"vmtp-0000000a","v":1,"date":"2026-11-01T10:00:00Z"}
	{"type":"host","run":"vmtp-0000000a","name":"h1","role":"client","ip":"10.0.0.1"}
	{"type":"flow","run":"vmtp-0000000a","id":1,"desc":"tagged flow","client":"h1","server":"h2","target":"10.0.0.2"}
	{"type":"sample","run":"vmtp-0000000a","flow":1,"protocol":"TCP","tool":"nuttcp-8.2.2","throughput_kbps":5}
	{"type":"sample","flow":1,"protocol":"TCP","tool":"nuttcp-8.2.2","throughput_kbps":7}
	EOF
	run -0 --separate-stderr doc-dump "$BATS_TEST_TMPDIR/s.ndjson"
	[ "$(jq -c '[.[] | [.run_id, (.flows[] | .desc, .ip_from, [.results[].throughput_kbps])]]' <<< "$output")" = \
		'[["vmtp-0000000a","tagged flow","10.0.0.1",[5]],[null,"flow 1",null,[7]]]' ]
}

@test "each run's flows take that run's hosts and Multicast address; an untagged host serves every run" {
	for r in a b; do
		ip=$([ $r = a ] && echo 10.0.0.1 || echo 10.0.0.9)
		group=$([ $r = a ] && echo 239.1.1.1 || echo 239.2.2.2)
		cat <<-EOF
		{"type":"run","run":"vmtp-0000000$r","v":1,"date":"2026-11-0${r/a/1}T10:00:00Z"}
		{"type":"sample","run":"vmtp-0000000$r","flow":1,"protocol":"Multicast","tool":"nuttcp-8.2.2","pkt_size":128,"throughput_kbps":1024,"loop":1,"multicast_address":"$group"}
		{"type":"flow","run":"vmtp-0000000$r","id":1,"desc":"VM to VM same network fixed IP (inter-node)","client":"h1","server":"h2","target":"10.0.0.2"}
		{"type":"host","run":"vmtp-0000000$r","name":"h1","role":"client","ip":"$ip","az":"nova:$r"}
		EOF
	done | sed 's/2026-11-0bT/2026-11-02T/' > "$BATS_TEST_TMPDIR/s.ndjson"
	echo '{"type":"host","name":"h2","role":"server","ip":"10.0.0.2","az":"nova:shared"}' >> "$BATS_TEST_TMPDIR/s.ndjson"
	run doc-dump "$BATS_TEST_TMPDIR/s.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.[] | .flows[] | [.ip_from, .az_from, .az_to, .multicast_address]]' <<< "$output")" = \
		'[["10.0.0.1","nova:a","nova:shared","239.1.1.1"],["10.0.0.9","nova:b","nova:shared","239.2.2.2"]]' ]
}
