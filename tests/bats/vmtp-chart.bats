#!/usr/bin/env bats
# vmtp-chart.bats - result documents and record streams become an HTML
# report with gnuplot charts, or a text table (SPEC §6).  Expected
# figures are computed here with jq, independently of the program.

bats_require_minimum_version 1.5.0

load helpers/common
load helpers/chromium
load helpers/mesh

FIX="$BATS_TEST_DIRNAME/fixtures/chart"
REF="${VMTP_REFERENCE:-$VMTP_SHARED/reference/vmtp-example.json}"

# The flows of the reference document and their names in the report.
declare -gA LABEL=(
	["VM to VM same network fixed IP (intra-node)"]="L2 intra"
	["VM to VM different network fixed IP (intra-node)"]="L3 fixed intra"
	["VM to VM different network floating IP (intra-node)"]="L3 floating intra"
	["VM to VM same network fixed IP (inter-node)"]="L2 inter"
	["VM to VM different network fixed IP (inter-node)"]="L3 fixed inter"
	["VM to VM different network floating IP (inter-node)"]="L3 floating inter"
)

# gbps DOC DESC PROTOCOL PKT_SIZE [forward|reverse]: the mean of the
# results' throughput_kbps / 1048576, as the report must print it.
gbps() {
	jq -r --arg d "$2" --arg p "$3" --argjson s "$4" \
		--arg dir "${5:-forward}" '
		[.flows[] | select(.desc == $d) | .results[] | objects
		 | select(.protocol == $p and .pkt_size == $s
		          and has("throughput_kbps")
		          and (.direction // "forward") == $dir)
		 | .throughput_kbps] | add / length / 1048576' "$1" |
		xargs printf '%.3f'
}

# rec_gbps RECORDS FLOW PROTOCOL PKT_SIZE [forward|reverse]: the same for
# the samples of a record stream.
rec_gbps() {
	jq -rs --argjson f "$2" --arg p "$3" --argjson s "$4" \
		--arg dir "${5:-forward}" '
		[.[] | select(.type == "sample" and .flow == $f
		              and .protocol == $p and .pkt_size == $s
		              and has("throughput_kbps")
		              and (.direction // "forward") == $dir)
		 | .throughput_kbps] | add / length / 1048576' "$1" |
		xargs printf '%.3f'
}

# html_row HTML FLOW SERIES: the table row of FLOW and SERIES.
html_row() {
	grep -F "data-flow=\"$2\" data-series=\"$3\"" "$1"
}

# has_gbps HTML FLOW SERIES VALUE: the row shows VALUE as its mean.
has_gbps() {
	local row
	row="$(html_row "$1" "$2" "$3")"
	if [[ "$row" != *"<td class=\"num\">$4</td>"* ]]; then
		echo "row '$2' '$3' lacks $4: $row" >&2
		return 1
	fi
}

# urls FILE: every URL written in FILE, sorted.
urls() {
	grep -oiE '[a-z][a-z0-9+.-]*://[^"<> ]+' "$1" | sort -u || true
}

@test "the reference document gives a report with inline SVG and every flow" {
	run --separate-stderr vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	html="$BATS_TEST_TMPDIR/r.html"
	grep -q '^<!DOCTYPE html>' "$html"
	[ "$(grep -c '<svg role="img"' "$html")" -eq 1 ]
	grep -q '</svg>' "$html"
	! grep -q '<?xml' "$html"
	[ "${#LABEL[@]}" -eq 6 ]
	for desc in "${!LABEL[@]}"; do
		grep -qF "data-flow=\"${LABEL[$desc]}\"" "$html"
		grep -qF "<td>$desc</td>" "$html"
	done
	# the chart's groups and series
	grep -q '>intra-node<' "$html"
	grep -q '>inter-node<' "$html"
	svg="$(sed -n '/<svg/,/<\/svg>/p' "$html")"
	for s in TCP "UDP 128" "UDP 1024" "UDP 8192"; do
		grep -q "<text>$s</text>" <<<"$svg"
	done
}

@test "the report references no external URL" {
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	html="$BATS_TEST_TMPDIR/r.html"
	! grep -Eiq '<(script|link|img|iframe|object|embed)[ >]' "$html"
	! grep -Eiq ' src=|@import|url\( *["'\'']?[a-z]+:' "$html"
	! grep -Eiq "href=[\"'][a-z]+:" "$html"
	# the only URLs are the data's own (auth_url), none from the page
	[ -n "$(urls "$REF")" ]
	[ -z "$(comm -23 <(urls "$html") <(urls "$REF"))" ]
}

@test "Gbps figures of the reference are throughput_kbps / 1048576" {
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	html="$BATS_TEST_TMPDIR/r.html"
	[ "${#LABEL[@]}" -eq 6 ]
	for desc in "${!LABEL[@]}"; do
		has_gbps "$html" "${LABEL[$desc]}" TCP \
			"$(gbps "$REF" "$desc" TCP 65536)"
		for size in 128 1024 8192; do
			has_gbps "$html" "${LABEL[$desc]}" "UDP $size" \
				"$(gbps "$REF" "$desc" UDP "$size")"
		done
	done
	# one figure checked by hand: (14318464+14426352+14247563)/3/2^20
	has_gbps "$html" "L2 intra" TCP 13.667
}

@test "each column of the chart carries its figure" {
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	svg="$(sed -n '/<svg/,/<\/svg>/p' "$BATS_TEST_TMPDIR/r.html")"
	labels=0
	[ "${#LABEL[@]}" -eq 6 ]
	for desc in "${!LABEL[@]}"; do
		for s in "TCP 65536" "UDP 128" "UDP 1024" "UDP 8192"; do
			v="$(gbps "$REF" "$desc" $s | awk '{ printf($1 < 0.1 ? "%.3f" : "%.2f", $1) }')"
			grep -qF "<text>$v</text>" <<<"$svg"
			labels=$((labels + 1))
		done
	done
	[ "$labels" -eq 24 ]
}

@test "TCP shows min and max over loops, total retransmissions and mean RTT" {
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	desc="VM to VM different network fixed IP (intra-node)"
	sel='.flows[] | select(.desc == $d) | .results[]
		| select(.protocol == "TCP")'
	min="$(jq -r --arg d "$desc" "[$sel | .throughput_kbps] | min / 1048576" "$REF" | xargs printf '%.3f')"
	max="$(jq -r --arg d "$desc" "[$sel | .throughput_kbps] | max / 1048576" "$REF" | xargs printf '%.3f')"
	retrans="$(jq -r --arg d "$desc" "[$sel | .retrans] | add" "$REF")"
	rtt="$(jq -r --arg d "$desc" "[$sel | .rtt_ms] | add / length" "$REF" | xargs printf '%.2f')"
	row="$(html_row "$BATS_TEST_TMPDIR/r.html" "L3 fixed intra" TCP)"
	[[ "$row" == *"<td class=\"num\">3</td>"* ]]
	[[ "$row" == *"<td class=\"num\">$min</td><td class=\"num\">$max</td><td class=\"num\">$retrans</td><td class=\"num\">$rtt</td>"* ]]
	# UDP shows its loss
	loss="$(jq -r --arg d "$desc" '.flows[] | select(.desc == $d) | .results[] | select(.protocol == "UDP" and .pkt_size == 8192) | .loss_rate' "$REF" | xargs printf '%.2f')"
	[[ "$(html_row "$BATS_TEST_TMPDIR/r.html" "L3 fixed intra" "UDP 8192")" == *"<td class=\"num\">$loss</td>"* ]]
}

@test "the property table shows what the document knows" {
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	html="$BATS_TEST_TMPDIR/r.html"
	for key in test_description date openstack_version distro \
		encapsulation cpu_info nic_name auth_url version; do
		value="$(jq -r --arg k "$key" '.[$k]' "$REF" | sed "s/'/\&#39;/g")"
		grep -qF "<td>$value</td>" "$html"
	done
	grep -qF "<td>$(jq -r '.l2agent_type + " " + .l2agent_version' "$REF")</td>" "$html"
	grep -qF '<td>nuttcp-7.3.2, ping</td>' "$html"
}

@test "flat ICMP results with numbers as strings give the RTT table" {
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	desc="VM to VM same network fixed IP (inter-node)"
	icmp="$(jq -c --arg d "$desc" '.flows[] | select(.desc == $d) | .results[] | select(.protocol == "ICMP")' "$REF")"
	want=""
	for k in rtt_min_ms rtt_avg_ms rtt_max_ms rtt_stddev; do
		v="$(jq -r ".$k | tonumber" <<<"$icmp" | xargs printf '%.3f')"
		want+="<td class=\"num\">$v</td>"
	done
	row="$(html_row "$BATS_TEST_TMPDIR/r.html" "L2 inter" default)"
	[[ "$row" == *"$want"* ]]
}

@test "ICMP results grouped per packet size give one row per size" {
	doc="$FIX/icmp-grouped.json"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$doc"
	for size in $(jq -r '.flows[0].results[] | select(.protocol == "ICMP") | .results[].packet_size' "$doc"); do
		avg="$(jq -r --argjson s "$size" '.flows[0].results[] | select(.protocol == "ICMP") | .results[] | select(.packet_size == $s) | .rtt_avg_ms' "$doc" | xargs printf '%.3f')"
		[[ "$(html_row "$BATS_TEST_TMPDIR/r.html" "L2 inter" "$size")" == *"<td class=\"num\">$avg</td>"* ]]
	done
	[ "$(grep -c 'data-flow="L2 inter" data-series="[0-9]*"' "$BATS_TEST_TMPDIR/r.html")" -eq 2 ]
	has_gbps "$BATS_TEST_TMPDIR/r.html" "L2 inter" TCP \
		"$(gbps "$doc" "VM to VM same network fixed IP (inter-node)" TCP 65536)"
}

@test "results that are errors are shown as errors in their flow" {
	run --separate-stderr vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$FIX/errors.json"
	[ "$status" -eq 0 ]
	html="$BATS_TEST_TMPDIR/r.html"
	grep -F 'class="error' "$html" | grep -qF 'cannot connect to the nuttcp server on 10.1.0.3'
	grep -F 'class="error' "$html" | grep -F 'data-series="TCP"' | grep -qF 'nuttcp timed out after 30 s'
	grep -F 'class="error' "$html" | grep -qF '100% packet loss'
	# the numbers next to them are still there
	has_gbps "$html" "L2 intra" "UDP 1024" \
		"$(gbps "$FIX/errors.json" "VM to VM same network fixed IP (intra-node)" UDP 1024)"
	run vmtp-chart -f text "$FIX/errors.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"error: nuttcp timed out after 30 s"* ]]
}

@test "a column whose measurement failed is marked in the chart" {
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$FIX/errors.json"
	svg="$(sed -n '/<svg/,/<\/svg>/p' "$BATS_TEST_TMPDIR/r.html")"
	# the failed TCP of L2 intra: one cross, and the legend says so
	[ "$(grep -c '<text>×</text>' <<<"$svg")" -eq 1 ]
	grep -q '<text>failed</text>' <<<"$svg"
	# the failed UDP 128 of the record stream has its column and cross
	vmtp-chart -o "$BATS_TEST_TMPDIR/s.html" "$FIX/records.ndjson"
	svg="$(sed -n '/<svg/,/<\/svg>/p' "$BATS_TEST_TMPDIR/s.html")"
	grep -q '<text>UDP 128</text>' <<<"$svg"
	[ "$(grep -c '<text>×</text>' <<<"$svg")" -eq 1 ]
	# no failure, no mark
	vmtp-chart -o "$BATS_TEST_TMPDIR/t.html" "$REF"
	! grep -q '<text>×</text>' "$BATS_TEST_TMPDIR/t.html"
	! grep -q '<text>failed</text>' "$BATS_TEST_TMPDIR/t.html"
}

@test "strings from the data are escaped for HTML" {
	vmtp-chart -t 'A <b>&"title"' -o "$BATS_TEST_TMPDIR/r.html" "$FIX/errors.json"
	html="$BATS_TEST_TMPDIR/r.html"
	grep -qF '<title>A &lt;b&gt;&amp;&quot;title&quot;</title>' "$html"
	grep -qF '<h1>A &lt;b&gt;&amp;&quot;title&quot;</h1>' "$html"
	grep -qF 'Custom &lt;flow&gt; &amp; &quot;co&quot;' "$html"
	! grep -qF '<flow>' "$html"
	! grep -qF '<b>' "$html"
	# an unknown flow is named by its desc, in the chart too
	has_gbps "$html" 'Custom &lt;flow&gt; &amp; &quot;co&quot;' TCP 3.000
}

@test "External-VM is Upload and Download, other reverse samples get rev" {
	doc="$FIX/external-native.json"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$doc"
	html="$BATS_TEST_TMPDIR/r.html"
	has_gbps "$html" Upload TCP "$(gbps "$doc" External-VM TCP 131072)"
	has_gbps "$html" Download TCP "$(gbps "$doc" External-VM TCP 131072 reverse)"
	desc="VM to VM same network fixed IP (inter-node)"
	has_gbps "$html" "L2 inter" TCP "$(gbps "$doc" "$desc" TCP 131072)"
	has_gbps "$html" "L2 inter rev" TCP "$(gbps "$doc" "$desc" TCP 131072 reverse)"
	grep -q '>external host<' "$html"
}

@test "Native flows are Native intra and Native inter" {
	doc="$FIX/external-native.json"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$doc"
	html="$BATS_TEST_TMPDIR/r.html"
	has_gbps "$html" "Native intra" TCP "$(gbps "$doc" "Native intra-host" TCP 131072)"
	has_gbps "$html" "Native inter" "UDP 8192" "$(gbps "$doc" "Native inter-host" UDP 8192)"
	grep -q '>native hosts<' "$html"
}

@test "iperf results without rtt_ms have no RTT figures and no NaN" {
	doc="$FIX/external-native.json"
	[ "$(jq '[.. | objects | select(has("rtt_ms"))] | length' "$doc")" -eq 0 ]
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$doc"
	! grep -q 'RTT ms' "$BATS_TEST_TMPDIR/r.html"
	! grep -qiw 'nan' "$BATS_TEST_TMPDIR/r.html"
	run vmtp-chart -f text "$doc"
	[ "$status" -eq 0 ]
	[[ "$output" != *"RTT"* ]]
	[[ "$output" != *nan* ]]
}

@test "a record stream is charted like a result document" {
	recs="$FIX/records.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$recs"
	html="$BATS_TEST_TMPDIR/r.html"
	grep -qF "<h2>$(jq -r 'select(.type == "run") | .test_description' "$recs")</h2>" "$html"
	grep -qF "<td>$(jq -r 'select(.type == "run") | .run' "$recs")</td>" "$html"
	# two TCP buffer sizes: each is a series of its own
	has_gbps "$html" "L2 intra" "TCP 65536" "$(rec_gbps "$recs" 1 TCP 65536)"
	has_gbps "$html" "L2 intra" "TCP 8192" "$(rec_gbps "$recs" 1 TCP 8192)"
	has_gbps "$html" "L2 intra" "UDP 1024" "$(rec_gbps "$recs" 1 UDP 1024)"
	has_gbps "$html" "L2 inter rev" "TCP 65536" "$(rec_gbps "$recs" 2 TCP 65536 reverse)"
	# flat ICMP samples, rtt_stddev_ms included
	sd="$(jq -r 'select(.type == "sample" and .protocol == "ICMP" and .pkt_size == 1400) | .rtt_stddev_ms' "$recs" | xargs printf '%.3f')"
	[[ "$(html_row "$html" "L2 intra" 1400)" == *"<td class=\"num\">$sd</td>"* ]]
	# an error sample is an error row
	html_row "$html" "L2 intra" "UDP 128" | grep -q 'no reply from the server'
}

@test "CPU load is shown per host when samples carry cpu_load" {
	recs="$FIX/records.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$recs"
	sel='select(.type == "sample" and .flow == 1 and .protocol == "TCP" and .pkt_size == 65536) | .cpu_load["10.0.0.11"]'
	busy="$(jq -s "[.[] | $sel | .[1:][]] | add / length" "$recs" | xargs printf '%.2f')"
	idle="$(jq -s "[.[] | $sel | .[0]] | add / length" "$recs" | xargs printf '%.2f')"
	grep -q 'CPU load' "$BATS_TEST_TMPDIR/r.html"
	[[ "$(html_row "$BATS_TEST_TMPDIR/r.html" "L2 intra" "TCP 65536")" == *"<td>10.0.0.11 $busy (idle $idle)</td>"* ]]
	run vmtp-chart -f text "$recs"
	[[ "$output" == *"10.0.0.11 $busy (idle $idle)"* ]]
}

@test "several results give a comparison chart per series" {
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF" "$FIX/second.json"
	html="$BATS_TEST_TMPDIR/r.html"
	series="$(jq -s '[.[].flows[].results[] | objects | select(.protocol == "TCP" or .protocol == "UDP") | [.protocol, .pkt_size]] | unique | length' "$REF" "$FIX/second.json")"
	# one chart per result, one per series
	[ "$(grep -c '<svg role="img"' "$html")" -eq $((2 + series)) ]
	grep -q 'id="comparison"' "$html"
	grep -qF "Yichen&#39;s testbed</li>" "$html"
	grep -qF "Liberty OVS VLAN</li>" "$html"
	# the comparison table has both results' figures side by side
	desc="VM to VM same network fixed IP (intra-node)"
	a="$(gbps "$REF" "$desc" UDP 1024)"
	b="$(gbps "$FIX/second.json" "$desc" UDP 1024)"
	grep -F 'data-flow="L2 intra" data-series="UDP 1024"' "$html" |
		grep -qF "<td class=\"num\">$a</td><td class=\"num\">$b</td>"
}

@test "a JSON list of documents is several results" {
	jq -s . "$REF" "$FIX/second.json" >"$BATS_TEST_TMPDIR/list.json"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/list.json"
	grep -q 'id="comparison"' "$BATS_TEST_TMPDIR/r.html"
	grep -q 'id="result-2"' "$BATS_TEST_TMPDIR/r.html"
}

@test "the report renders in headless Chromium to a page that is not blank" {
	html="$BATS_TEST_TMPDIR/r.html"
	vmtp-chart -o "$html" "$REF" "$FIX/second.json"
	render_png "$html" "$BATS_TEST_TMPDIR/r.png" 1280,1400
	run png_colours "$BATS_TEST_TMPDIR/r.png" '#0072B2' '#E69F00'
	[ "$status" -eq 0 ]
	echo "$output"
	read -r w h colours <<<"${lines[0]}"
	[ "$w" -eq 1280 ] && [ "$h" -eq 1400 ]
	# text, rules and the charts' colours: far more than a blank page
	[ "$colours" -gt 100 ]
	for i in 1 2; do
		[ "$(cut -d' ' -f2 <<<"${lines[$i]}")" -gt 500 ]
	done
}

@test "--protocol tcp and udp keep only their series" {
	vmtp-chart -p tcp -o "$BATS_TEST_TMPDIR/tcp.html" "$REF"
	grep -q 'data-series="TCP"' "$BATS_TEST_TMPDIR/tcp.html"
	! grep -q 'data-series="UDP' "$BATS_TEST_TMPDIR/tcp.html"
	! grep -q 'Latency (ICMP)' "$BATS_TEST_TMPDIR/tcp.html"
	! grep -q '<text>UDP' "$BATS_TEST_TMPDIR/tcp.html"
	vmtp-chart --protocol=udp -o "$BATS_TEST_TMPDIR/udp.html" "$REF"
	grep -q 'data-series="UDP 8192"' "$BATS_TEST_TMPDIR/udp.html"
	! grep -q 'data-series="TCP' "$BATS_TEST_TMPDIR/udp.html"
	run vmtp-chart -f text -p udp "$REF"
	[[ "$output" != *" TCP "* ]]
}

@test "IPv6 flows are categories of their own, each right after its IPv4 twin" {
	recs="$FIXTURES/doc/dual-stack.ndjson"
	run -0 --separate-stderr vmtp-chart -f text "$recs"
	flows="$(sed -n '/^Throughput$/,/^$/p' <<<"$output" | sed '1,2d;/^$/d' |
		sed -E 's/^  //; s/  +(TCP|UDP|Multicast).*//' | uniq | tr '\n' ,)"
	[ "$flows" = "L2 intra,L2 intra IPv6,L2 intra rev,L2 intra IPv6 rev,L3 fixed inter,L3 fixed inter IPv6,L3 fixed inter rev,L3 fixed inter IPv6 rev," ]
	# the figures are each family's own
	grep -qE "^  L2 intra IPv6 +TCP +1 +$(rec_gbps "$recs" 3 TCP 65536) " <<<"$output"
	grep -qE "^  L2 intra +TCP +1 +$(rec_gbps "$recs" 1 TCP 65536) " <<<"$output"
	grep -qE "^  L3 fixed inter IPv6 rev +TCP +1 +$(rec_gbps "$recs" 4 TCP 65536 reverse) " <<<"$output"
	# the flows table: each family's addresses
	grep -qE '^  L2 intra IPv6 +VM to VM same network fixed IP \(intra-node\) +fd00:1::6 +fd00:1::5 ' <<<"$output"
	grep -qE '^  L2 intra +VM to VM same network fixed IP \(intra-node\) +10\.1\.0\.6 +10\.1\.0\.5 ' <<<"$output"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$recs"
	svg="$(sed -n '/<svg/,/<\/svg>/p' "$BATS_TEST_TMPDIR/r.html")"
	[ "$(grep -oE '<text>L[23][^<]*</text>' <<<"$svg" | tr '\n' ,)" = "<text>L2</text>,<text>L2 IPv6</text>,<text>L2 rev</text>,<text>L2 IPv6 rev</text>,<text>L3 fixed</text>,<text>L3 fixed IPv6</text>,<text>L3 fixed rev</text>,<text>L3 fixed IPv6 rev</text>," ]
	has_gbps "$BATS_TEST_TMPDIR/r.html" "L3 fixed inter IPv6" "UDP 1024" "$(rec_gbps "$recs" 4 UDP 1024)"
}

@test "Multicast is a series per packet size in the chart, with loss and jitter in the tables" {
	recs="$FIXTURES/doc/dual-stack.ndjson"
	html="$BATS_TEST_TMPDIR/r.html"
	vmtp-chart -o "$html" "$recs"
	svg="$(sed -n '/<svg/,/<\/svg>/p' "$html")"
	# the legend: TCP, UDP, then Multicast, each by size
	[ "$(grep -oE '<text>(TCP|UDP|Multicast)[^<]*</text>' <<<"$svg" | tr '\n' ,)" = "<text>TCP</text>,<text>UDP 1024</text>,<text>Multicast 128</text>,<text>Multicast 1024</text>," ]
	for size in 128 1024; do
		has_gbps "$html" "L2 intra" "Multicast $size" "$(rec_gbps "$recs" 1 Multicast "$size")"
	done
	[[ "$(html_row "$html" "L2 intra" "Multicast 128")" == *'<td class="num">1.25</td><td class="num">0.250</td>'* ]]
	# only the L2 flow measured multicast
	[ "$(grep -c 'data-series="Multicast' "$html")" -eq 2 ]
	run -0 vmtp-chart -f text "$recs"
	grep -qE "^  L2 intra +Multicast 1024 +1 +$(rec_gbps "$recs" 1 Multicast 1024) +- +- +0\.50 +0\.125$" <<<"$output"
	grep -qE "^  L2 intra +Multicast 128 +1 +$(rec_gbps "$recs" 1 Multicast 128) +- +- +1\.25 +0\.250$" <<<"$output"
}

@test "--protocol multicast keeps only the Multicast series" {
	recs="$FIXTURES/doc/dual-stack.ndjson"
	vmtp-chart -p multicast -o "$BATS_TEST_TMPDIR/m.html" "$recs"
	grep -q 'data-series="Multicast 128"' "$BATS_TEST_TMPDIR/m.html"
	! grep -qE 'data-series="(TCP|UDP)' "$BATS_TEST_TMPDIR/m.html"
	! grep -q 'Latency (ICMP)' "$BATS_TEST_TMPDIR/m.html"
	grep -qF '&middot; Multicast only' "$BATS_TEST_TMPDIR/m.html"
	run -0 vmtp-chart -f text --protocol=udp "$recs"
	[[ "$output" != *"Multicast"* ]]
	run -0 vmtp-chart -f text --protocol=multicast "$recs"
	[[ "$output" != *" TCP "* && "$output" != *"UDP 1024"* ]]
}

@test "a result measured under a bandwidth limit shows it, and so does a comparison" {
	recs="$FIXTURES/doc/dual-stack.ndjson"
	run -0 vmtp-chart -f text "$recs"
	grep -qE '^  Bandwidth limit +2000000 kbps$' <<<"$output"
	run -0 vmtp-chart -f text "$REF"
	[[ "$output" != *"Bandwidth limit"* ]]
	# side by side with a result without a limit: the comparison's first row
	html="$BATS_TEST_TMPDIR/r.html"
	vmtp-chart -o "$html" "$recs" "$REF"
	grep -qF '<tr><th scope="row">Bandwidth limit</th><td>2000000 kbps</td></tr>' "$html"
	run -0 vmtp-chart -f text "$recs" "$REF"
	sed -n '/^Comparison/,/^$/p' <<<"$output" | sed -n 3p |
		grep -qE '^  Bandwidth limit +- +2000000 kbps +none$'
}

@test "the original's document written in ipv6_mode is charted as IPv6 flows with Multicast" {
	doc="$FIX/ipv6-mode.json"
	run -0 --separate-stderr vmtp-chart -f text "$doc"
	grep -qE "^  L2 intra IPv6 +TCP +1 +$(gbps "$doc" "VM to VM same network fixed IP (intra-node)" TCP 65536) " <<<"$output"
	grep -qE "^  L2 inter IPv6 rev +TCP +1 +$(gbps "$doc" "VM to VM same network fixed IP (inter-node)" TCP 65536 reverse) " <<<"$output"
	# its Multicast jitter is "jitter", as the original wrote it
	grep -qE "^  L2 inter IPv6 +Multicast 8192 +1 +$(gbps "$doc" "VM to VM same network fixed IP (inter-node)" Multicast 8192) +- +0\.25 +0\.047$" <<<"$output"
	grep -qE '^  Bandwidth limit +5000000 kbps$' <<<"$output"
	! grep -qE '^  L2 (intra|inter) ' <<<"$output"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$doc"
	grep -qF '<text>Multicast 8192</text>' "$BATS_TEST_TMPDIR/r.html"
	grep -qF 'data-flow="L2 intra IPv6" data-series="Multicast 1024"' "$BATS_TEST_TMPDIR/r.html"
}

@test "--format text prints the same numbers as aligned columns" {
	run --separate-stderr vmtp-chart --format text "$REF"
	[ "$status" -eq 0 ]
	[ "${#LABEL[@]}" -eq 6 ]
	for desc in "${!LABEL[@]}"; do
		v="$(gbps "$REF" "$desc" TCP 65536)"
		grep -qE "^  ${LABEL[$desc]} +TCP +3 +$v " <<<"$output"
		for size in 128 1024 8192; do
			v="$(gbps "$REF" "$desc" UDP "$size")"
			grep -qE "^  ${LABEL[$desc]} +UDP $size +1 +$v " <<<"$output"
		done
	done
	# the throughput table is aligned: all its lines end in one column
	widths="$(sed -n '/^Throughput$/,/^$/p' <<<"$output" | sed '1d;$d' | awk '{ print length($0) }' | sort -u | wc -l)"
	[ "$widths" -eq 1 ]
	! grep -q '<' <<<"$output"
}

@test "-o writes a file and nothing to stdout; stdin is read without files" {
	run --separate-stderr vmtp-chart -o "$BATS_TEST_TMPDIR/out.html" <"$REF"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	grep -q '<svg' "$BATS_TEST_TMPDIR/out.html"
	vmtp-chart <"$REF" >"$BATS_TEST_TMPDIR/stdout.html"
	cmp "$BATS_TEST_TMPDIR/out.html" "$BATS_TEST_TMPDIR/stdout.html"
}

@test "- reads stdin among other inputs" {
	run --separate-stderr vmtp-chart -f text "$FIX/second.json" - <"$FIX/records.ndjson"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Liberty OVS VLAN"* ]]
	[[ "$output" == *"minicloud record stream"* ]]
	[[ "$output" == *$'\nComparison (Gbps)\n'* ]]
}

@test "input that is neither a document nor records exits 65 naming the file" {
	run --separate-stderr -65 vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$FIX/garbage.txt"
	[[ "$stderr" == "vmtp-chart: "*"fixtures/chart/garbage.txt"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/r.html" ]
	run --separate-stderr -65 vmtp-chart "$FIX/not-a-document.json"
	[[ "$stderr" == *"not-a-document.json: neither a result document nor records"* ]]
	run --separate-stderr -65 vmtp-chart - <"$FIX/garbage.txt"
	[[ "$stderr" == *"<stdin>"* ]]
}

@test "a bad record line exits 65 naming FILE:LINE" {
	run --separate-stderr -65 vmtp-chart "$FIX/bad-record.ndjson"
	[[ "$stderr" == *"bad-record.ndjson:3: "* ]]
}

@test "input without any result exits 65" {
	run --separate-stderr -65 vmtp-chart </dev/null
	[[ "$stderr" == "vmtp-chart: no result document or records in the input" ]]
}

@test "a missing input file exits 1 naming it" {
	run --separate-stderr -1 vmtp-chart "$BATS_TEST_TMPDIR/nope.json"
	[[ "$stderr" == *"cannot open $BATS_TEST_TMPDIR/nope.json: No such file or directory" ]]
}

@test "a bad option exits 2 naming it, with the usage" {
	run --separate-stderr -2 vmtp-chart --frobnicate "$REF"
	[[ "${stderr_lines[0]}" == *"--frobnicate"* ]]
	[[ "${stderr_lines[1]}" == "usage: vmtp-chart "* ]]
	[ -z "$output" ]
	run --separate-stderr -2 vmtp-chart -p icmp "$REF"
	[[ "${stderr_lines[0]}" == *"--protocol"*"icmp"* ]]
	run --separate-stderr -2 vmtp-chart -f pdf "$REF"
	[[ "${stderr_lines[0]}" == *"--format"*"pdf"* ]]
	run --separate-stderr -2 vmtp-chart "$REF" -o
	[[ "${stderr_lines[0]}" == *"-o"*"needs a value"* ]]
}

@test "without gnuplot: exit 1 naming the Debian package, no file written" {
	bin="$(command -v vmtp-chart)"
	mkdir "$BATS_TEST_TMPDIR/empty"
	run --separate-stderr -1 env PATH="$BATS_TEST_TMPDIR/empty" "$bin" -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	[[ "$stderr" == *gnuplot*"gnuplot-nox"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/r.html" ]
	# the text format needs no gnuplot
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/empty" "$bin" -f text "$REF"
	[ "$status" -eq 0 ]
}

@test "a gnuplot failure is an error naming gnuplot" {
	mkdir "$BATS_TEST_TMPDIR/fake"
	printf '#!/bin/sh\ncat >/dev/null\necho "line 3: unknown terminal" >&2\nexit 1\n' \
		>"$BATS_TEST_TMPDIR/fake/gnuplot"
	chmod +x "$BATS_TEST_TMPDIR/fake/gnuplot"
	PATH="$BATS_TEST_TMPDIR/fake:$PATH" run --separate-stderr -1 vmtp-chart "$REF"
	[ "$stderr" = "vmtp-chart: gnuplot failed: line 3: unknown terminal" ]
	[ -z "$output" ]
}

@test "gnuplot gets the environment without its secrets (OS_PASSWORD, OS_TOKEN, ...)" {
	mkdir "$BATS_TEST_TMPDIR/fake"
	printf '#!/bin/sh\ncat >/dev/null\ntr "\\0" "\\n" </proc/$$/environ >"%s"\nexit 1\n' "$BATS_TEST_TMPDIR/env" \
		>"$BATS_TEST_TMPDIR/fake/gnuplot"
	chmod +x "$BATS_TEST_TMPDIR/fake/gnuplot"
	PATH="$BATS_TEST_TMPDIR/fake:$PATH" OS_PASSWORD=hunter1 OS_TOKEN=hunter2 OS_AUTH_TOKEN=hunter3 \
		OS_APPLICATION_CREDENTIAL_SECRET=hunter4 VMTP_SSH_PASSWORD=hunter5 OS_USERNAME=kept \
		run --separate-stderr -1 vmtp-chart "$REF"
	grep -qx OS_USERNAME=kept "$BATS_TEST_TMPDIR/env"
	! grep hunter "$BATS_TEST_TMPDIR/env"
}

# gnuplot_hangs TIMEOUT [DRAW]: with a gnuplot that hangs (after drawing
# every chart with the real one when DRAW is given), vmtp-chart is stopped
# by VMTP_GNUPLOT_TIMEOUT: exit 1, its message, no report, and that gnuplot
# killed and reaped before vmtp-chart returned.
gnuplot_hangs() {
	local draw=
	[ -n "${2:-}" ] && draw="\"$(command -v gnuplot)\" \"\$@\""
	mkdir "$BATS_TEST_TMPDIR/fake"
	printf '#!/bin/sh\necho $$ > "%s"\n%s\nexec sleep 1000\n' "$BATS_TEST_TMPDIR/pid" "$draw" \
		>"$BATS_TEST_TMPDIR/fake/gnuplot"
	chmod +x "$BATS_TEST_TMPDIR/fake/gnuplot"
	PATH="$BATS_TEST_TMPDIR/fake:$PATH" VMTP_GNUPLOT_TIMEOUT=$1 \
		run --separate-stderr -1 vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	[ "$stderr" = "vmtp-chart: gnuplot did not finish in $1 s" ]
	[ ! -e "$BATS_TEST_TMPDIR/r.html" ]
	run ! kill -0 "$(cat "$BATS_TEST_TMPDIR/pid")"
}

@test "a gnuplot that hangs is killed after VMTP_GNUPLOT_TIMEOUT: exit 1, no report" {
	gnuplot_hangs 1
}

# gnuplot_shim DIR: a gnuplot in DIR that writes its pid to DIR/pid, then
# is the real one (exec: the pid stays)
gnuplot_shim() {
	mkdir -p "$1"
	printf '#!/bin/sh\necho "$$" >"%s/pid.tmp" && mv "%s/pid.tmp" "%s/pid"\nexec "%s" "$@"\n' \
		"$1" "$1" "$1" "$(command -v gnuplot)" >"$1/gnuplot"
	chmod +x "$1/gnuplot"
}

# after_gnuplot DIR FILE: FILE's bytes once the gnuplot of DIR has started
# (at most 10 s), so that vmtp-chart reads them while it runs
after_gnuplot() {
	local i
	for ((i = 0; i < 1000; i++)); do
		[ -e "$1/pid" ] && break
		sleep 0.01
	done
	cat "$2"
}

# gone_gnuplot DIR: the gnuplot of DIR started and is no longer a process
gone_gnuplot() {
	local pid
	pid="$(cat "$1/pid")"
	[ -n "$pid" ]
	rm "$1/pid"
	! kill -0 "$pid" 2>/dev/null
}

@test "bad input read while gnuplot starts: its message and status, no report, no gnuplot left" {
	shim="$BATS_TEST_TMPDIR/shim"
	out="$BATS_TEST_TMPDIR/r.html"
	gnuplot_shim "$shim"
	PATH="$shim:$PATH" run --separate-stderr -65 vmtp-chart -o "$out" - \
		< <(after_gnuplot "$shim" "$FIX/garbage.txt")
	[ "$stderr" = "vmtp-chart: <stdin>:1: not JSON: '[' or '{' expected near 'this'" ]
	gone_gnuplot "$shim"
	PATH="$shim:$PATH" run --separate-stderr -65 vmtp-chart -o "$out" - \
		< <(after_gnuplot "$shim" "$FIX/bad-record.ndjson")
	[[ "$stderr" == "vmtp-chart: <stdin>:3: "* ]]
	gone_gnuplot "$shim"
	PATH="$shim:$PATH" run --separate-stderr -65 vmtp-chart -o "$out" - \
		< <(after_gnuplot "$shim" /dev/null)
	[ "$stderr" = "vmtp-chart: no result document or records in the input" ]
	gone_gnuplot "$shim"
	# a good document first, then a file that is not there
	PATH="$shim:$PATH" run --separate-stderr -1 vmtp-chart -o "$out" - "$BATS_TEST_TMPDIR/nope.json" \
		< <(after_gnuplot "$shim" "$REF")
	[ "$stderr" = "vmtp-chart: cannot open $BATS_TEST_TMPDIR/nope.json: No such file or directory" ]
	gone_gnuplot "$shim"
	[ ! -e "$out" ]
	[ -z "$output" ]
}

@test "a gnuplot that fails after drawing every chart: exit 1 with its message, no report" {
	mkdir "$BATS_TEST_TMPDIR/fake"
	printf '#!/bin/sh\n"%s" "$@"\necho "late trouble" >&2\nexit 3\n' "$(command -v gnuplot)" \
		>"$BATS_TEST_TMPDIR/fake/gnuplot"
	chmod +x "$BATS_TEST_TMPDIR/fake/gnuplot"
	PATH="$BATS_TEST_TMPDIR/fake:$PATH" run --separate-stderr -1 vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	[ "$stderr" = "vmtp-chart: gnuplot failed: late trouble" ]
	[ ! -e "$BATS_TEST_TMPDIR/r.html" ]
}

@test "a gnuplot that hangs after drawing every chart is killed after VMTP_GNUPLOT_TIMEOUT: exit 1, no report" {
	gnuplot_hangs 0.5 draw
}

@test "a VMTP_GNUPLOT_TIMEOUT that is not a number is a usage error" {
	VMTP_GNUPLOT_TIMEOUT=soon run --separate-stderr -2 vmtp-chart "$REF"
	[[ "$stderr" == "vmtp-chart: VMTP_GNUPLOT_TIMEOUT"*"soon"* ]]
	[ -z "$output" ]
}

@test "--help prints the man page's synopsis, --version the version" {
	run --separate-stderr vmtp-chart --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: vmtp-chart "* ]]
	for opt in --format --help --output --protocol --quiet --title --verbose --version; do
		[[ "$output" == *"$opt"* ]]
	done
	help="$(sed -n '/^usage/,/^$/p' <<<"$output" | sed 's/^usage: //' | tr -s ' \n' ' ' | sed 's/ $//')"
	man="$(groff -mdoc -Tascii -P-cbou "$VMTP_ROOT/man/vmtp-chart.1" 2>/dev/null |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//')"
	[ "$help" = "$man" ]
	run vmtp-chart --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^vmtp-chart\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "-v shows the gnuplot script, -q still shows errors" {
	run --separate-stderr vmtp-chart -v -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"vmtp-chart: debug: gnuplot script:"*"set terminal svg"* ]]
	run --separate-stderr vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	[ -z "$stderr" ]
	run --separate-stderr -65 vmtp-chart -q "$FIX/garbage.txt"
	[[ "$stderr" == *garbage.txt* ]]
}

@test "a result without throughput has no chart, but its tables" {
	run --separate-stderr vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$FIX/icmp-only.json"
	[ "$status" -eq 0 ]
	html="$BATS_TEST_TMPDIR/r.html"
	! grep -q '<svg' "$html"
	grep -q 'No throughput was measured' "$html"
	[[ "$(html_row "$html" "L2 intra" 64)" == *'<td class="num">0.200</td>'* ]]
	# a flow without results is listed, and has no row of figures
	grep -qF '<td>VM to VM same network fixed IP (inter-node)</td>' "$html"
	! grep -qF 'data-flow="L2 inter" data-series="' <(grep -v 'VM to VM' "$html")
	! grep -q '<h3>Throughput</h3>' "$html"
}

# The fixtures with per-second intervals: a record stream (flow 1
# two loops, flow 2 two loops and a reverse one, flow 3 none) and a
# document (External-VM with two loops each way, two TCP sizes elsewhere).
IVREC="$FIX/intervals.ndjson"
IVDOC="$FIX/intervals.json"

# iv_want JQ-SELECTION FILE [jq args]: per TCP result with intervals that
# the selection yields, in legend order (size, forward before reverse,
# input order), its per-second Gbps on one line.
iv_want() {
	local sel="$1" file="$2"
	shift 2
	jq -rs "$@" "[.[] | $sel | select(.protocol == \"TCP\"
		and (.intervals // [] | length) > 0)]
		| sort_by(.pkt_size, (.direction == \"reverse\")) | .[]
		| [.intervals[] / 1048576 | tostring] | join(\" \")" "$file"
}

# plotted HTML ID: the lines of chart ID as read back from the SVG.
plotted() {
	/usr/bin/python3 "$BATS_TEST_DIRNAME/helpers/svg-lines" "$1" "$2"
}

# same_points WANT GOT: the same number of points, each within 0.005 Gbps
# (a hundredth of a pixel is about 0.0005 Gbps at these scales).
same_points() {
	awk -v want="$1" -v got="$2" 'BEGIN {
		n = split(want, w, " "); m = split(got, g, " ")
		if (n != m || n == 0) { print "points: want " n ", got " m; exit 1 }
		for (i = 1; i <= n; i++)
			if (w[i] - g[i] > 0.005 || g[i] - w[i] > 0.005) {
				print "second " i ": want " w[i] ", got " g[i]; exit 1
			}
	}' >&2
}

# iv_stats JQ-SELECTION FILE [jq args]: "runs seconds min mean max" of the
# per-second figures of the TCP results the selection yields, as printed.
iv_stats() {
	local sel="$1" file="$2"
	shift 2
	jq -rs "$@" "[.[] | $sel | select(.protocol == \"TCP\"
		and (.intervals // [] | length) > 0)]
		| [length, ([.[].intervals[]] | length, min / 1048576,
		   add / length / 1048576, max / 1048576)] | @tsv" "$file" |
		xargs printf '%d %d %.3f %.3f %.3f\n'
}

@test "per-second intervals give a throughput-over-time panel per flow" {
	html="$BATS_TEST_TMPDIR/r.html"
	run --separate-stderr vmtp-chart -o "$html" "$IVREC"
	[ "$status" -eq 0 ]
	# flows 1 and 2 carry intervals, flow 3 does not
	[ "$(jq -s '[.[] | select(.type == "sample" and .intervals) | .flow] | unique' -c "$IVREC")" = "[1,2]" ]
	grep -q '<h3>Throughput over time</h3>' "$html"
	[ "$(grep -c '<figure class="chart timeline"' "$html")" -eq 2 ]
	grep -qF '<figure class="chart timeline" id="result-1-time-1" data-flow="L2 intra">' "$html"
	grep -qF '<figure class="chart timeline" id="result-1-time-2" data-flow="L3 fixed inter">' "$html"
	! grep -qF 'class="chart timeline" id="result-1-time-3"' "$html"
	! grep -q 'class="chart timeline"[^>]*data-flow="L2 inter"' "$html"
	# the column chart and the two panels, all inline SVG of one gnuplot
	[ "$(grep -c '<svg role="img"' "$html")" -eq 3 ]
	# one line per loop and direction, named in the legend
	[ "$(plotted "$html" result-1-time-1 | cut -f1 | paste -sd,)" = "loop 1,loop 2" ]
	[ "$(plotted "$html" result-1-time-2 | cut -f1 | paste -sd,)" = "loop 1,loop 2,reverse" ]
}

@test "each panel plots the per-second throughput_kbps / 1048576 of each loop" {
	html="$BATS_TEST_TMPDIR/r.html"
	vmtp-chart -o "$html" "$IVREC"
	for f in 1 2; do
		mapfile -t want < <(iv_want 'select(.type == "sample" and .flow == $f)' "$IVREC" --argjson f "$f")
		mapfile -t got < <(plotted "$html" "result-1-time-$f" | cut -f2)
		[ "${#want[@]}" -eq "${#got[@]}" ]
		[ "${#want[@]}" -ge 2 ]
		for i in "${!want[@]}"; do
			same_points "${want[$i]}" "${got[$i]}"
		done
	done
	# the reverse run of flow 2 is shorter: 8 seconds, not 10
	[ "$(plotted "$html" result-1-time-2 | awk -F'\t' '$1 == "reverse" { print split($2, a, " ") }')" -eq 8 ]
	# one point checked by hand: second 1 of flow 1 loop 1 is 6.1 Gbps
	[[ "$(plotted "$html" result-1-time-1 | head -1)" == $'loop 1\t6.1000 '* ]]
}

@test "a document's intervals are charted too, per size and direction" {
	html="$BATS_TEST_TMPDIR/r.html"
	vmtp-chart -o "$html" "$IVDOC"
	[ "$(grep -c '<figure class="chart timeline"' "$html")" -eq 2 ]
	grep -qF 'id="result-1-time-1" data-flow="L3 floating inter"' "$html"
	grep -qF 'id="result-1-time-2" data-flow="External host"' "$html"
	[ "$(plotted "$html" result-1-time-1 | cut -f1 | paste -sd,)" = "TCP 65536 loop 1,TCP 131072 loop 1" ]
	[ "$(plotted "$html" result-1-time-2 | cut -f1 | paste -sd,)" = "TCP 131072 loop 1,TCP 131072 loop 2,TCP 131072 reverse 1,TCP 131072 reverse 2" ]
	i=0
	for desc in "VM to VM different network floating IP (inter-node)" External-VM; do
		i=$((i + 1))
		mapfile -t want < <(iv_want '.flows[] | select(.desc == $d) | .results[]' "$IVDOC" --arg d "$desc")
		mapfile -t got < <(plotted "$html" "result-1-time-$i" | cut -f2)
		[ "${#want[@]}" -eq "${#got[@]}" ]
		for k in "${!want[@]}"; do
			same_points "${want[$k]}" "${got[$k]}"
		done
	done
	# the intra-node flow has no intervals and no panel
	! grep -q 'class="chart timeline"[^>]*data-flow="L2 intra"' "$html"
}

@test "a result without intervals has no throughput-over-time chart" {
	html="$BATS_TEST_TMPDIR/r.html"
	[ "$(jq '[.. | objects | select(has("intervals"))] | length' "$REF")" -eq 0 ]
	vmtp-chart -o "$html" "$REF" "$IVREC"
	# the reference is result 1, the record stream result 2
	! grep -q 'id="result-1-time-' "$html"
	grep -q 'id="result-2-time-1"' "$html"
	[ "$(sed -n '/id="result-1"/,/<\/section>/p' "$html" | grep -c 'Throughput over time\|Throughput per second')" -eq 0 ]
	[ "$(sed -n '/id="result-2"/,/<\/section>/p' "$html" | grep -c '<h3>Throughput over time</h3>\|<h3>Throughput per second</h3>')" -eq 2 ]
	vmtp-chart -o "$BATS_TEST_TMPDIR/ref.html" "$REF"
	! grep -q 'timeline\|Throughput over time' "$BATS_TEST_TMPDIR/ref.html"
	run vmtp-chart -f text "$REF"
	[[ "$output" != *"per second"* ]]
}

@test "--format text shows min, mean and max of the per-second figures" {
	run --separate-stderr vmtp-chart -f text "$IVREC"
	[ "$status" -eq 0 ]
	grep -q '^Throughput per second$' <<<"$output"
	sel='select(.type == "sample" and .flow == $f and (.direction // "forward") == $dir)'
	for want in "L2 intra:1:forward" "L3 fixed inter:2:forward" "L3 fixed inter rev:2:reverse"; do
		IFS=: read -r label f dir <<<"$want"
		read -r runs secs min mean max < <(iv_stats "$sel" "$IVREC" --argjson f "$f" --arg dir "$dir")
		grep -qE "^  $label +TCP +$runs +$secs +$min +$mean +$max\$" <<<"$output"
	done
	# by hand: flow 2 reverse, 8 seconds from 1.9 to 3.7 Gbps
	grep -qE '^  L3 fixed inter rev +TCP +1 +8 +1\.900 +3\.312 +3\.700$' <<<"$output"
	# a flow without intervals has no row; the table is aligned
	! sed -n '/^Throughput per second$/,/^$/p' <<<"$output" | grep -q '^  L2 inter '
	widths="$(sed -n '/^Throughput per second$/,/^$/p' <<<"$output" | sed '1d;$d' | awk '{ print length($0) }' | sort -u | wc -l)"
	[ "$widths" -eq 1 ]
	# the document: Upload and Download, a zero second included
	run vmtp-chart -f text "$IVDOC"
	sel='.flows[] | select(.desc == "External-VM") | .results[] | select((.direction // "forward") == $dir)'
	read -r runs secs min mean max < <(iv_stats "$sel" "$IVDOC" --arg dir reverse)
	[ "$min" = "0.000" ]
	grep -qE "^  Download +TCP 131072 +$runs +$secs +$min +$mean +$max\$" <<<"$output"
	read -r runs secs min mean max < <(iv_stats "$sel" "$IVDOC" --arg dir forward)
	grep -qE "^  Upload +TCP 131072 +$runs +$secs +$min +$mean +$max\$" <<<"$output"
}

@test "the HTML per-second table has the same figures as the text" {
	html="$BATS_TEST_TMPDIR/r.html"
	vmtp-chart -o "$html" "$IVREC"
	read -r runs secs min mean max < <(iv_stats 'select(.type == "sample" and .flow == 1)' "$IVREC")
	sed -n '/<table class="numbers persec">/,/<\/table>/p' "$html" |
		grep -F 'data-flow="L2 intra" data-series="TCP"' |
		grep -qF "<td class=\"num\">$runs</td><td class=\"num\">$secs</td><td class=\"num\">$min</td><td class=\"num\">$mean</td><td class=\"num\">$max</td>"
}

@test "--protocol udp omits the throughput over time, tcp keeps it" {
	vmtp-chart -p udp -o "$BATS_TEST_TMPDIR/udp.html" "$IVREC"
	! grep -q 'timeline\|Throughput over time\|Throughput per second' "$BATS_TEST_TMPDIR/udp.html"
	run vmtp-chart -f text -p udp "$IVREC"
	[[ "$output" != *"per second"* ]]
	vmtp-chart -p tcp -o "$BATS_TEST_TMPDIR/tcp.html" "$IVREC"
	[ "$(grep -c '<figure class="chart timeline"' "$BATS_TEST_TMPDIR/tcp.html")" -eq 2 ]
}

@test "the panels render in headless Chromium in the report's colours" {
	html="$BATS_TEST_TMPDIR/r.html"
	vmtp-chart -o "$html" "$IVREC"
	render_png "$html" "$BATS_TEST_TMPDIR/r.png" 1280,1300
	# green is the third line (flow 2's reverse run): the columns of this
	# report are blue (TCP) and orange (UDP 1024)
	run png_colours "$BATS_TEST_TMPDIR/r.png" '#009E73' '#0072B2'
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(cut -d' ' -f2 <<<"${lines[1]}")" -gt 300 ]
	blue="$(cut -d' ' -f2 <<<"${lines[2]}")"
	# the same records without intervals: no panel, no green, less blue
	jq -c 'del(.intervals)' "$IVREC" >"$BATS_TEST_TMPDIR/none.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/none.html" "$BATS_TEST_TMPDIR/none.ndjson"
	render_png "$BATS_TEST_TMPDIR/none.html" "$BATS_TEST_TMPDIR/none.png" 1280,1300
	run png_colours "$BATS_TEST_TMPDIR/none.png" '#009E73' '#0072B2'
	echo "$output"
	[ "$(cut -d' ' -f2 <<<"${lines[1]}")" -eq 0 ]
	[ "$(cut -d' ' -f2 <<<"${lines[2]}")" -lt "$blue" ]
}

@test "a run without intervals keeps its number: the next line is loop 2" {
	# flow 1's first TCP sample loses its intervals
	jq -c 'if .type == "sample" and .flow == 1 and .loop == 1 then del(.intervals) else . end' \
		"$IVREC" >"$BATS_TEST_TMPDIR/some.ndjson"
	[ "$(jq -s '[.[] | select(has("intervals"))] | length' "$BATS_TEST_TMPDIR/some.ndjson")" -eq 4 ]
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/some.ndjson"
	[ "$(plotted "$BATS_TEST_TMPDIR/r.html" result-1-time-1 | cut -f1)" = "loop 2" ]
	# the per-second figures count only the run that has them
	run vmtp-chart -f text "$BATS_TEST_TMPDIR/some.ndjson"
	grep -qE '^  L2 intra +TCP +1 +10 ' <<<"$output"
}

@test "--format text: a flow is PASSED, or FAILED when one of its results is an error" {
	run -0 --separate-stderr vmtp-chart -f text "$FIX/errors.json"
	grep -qE '^  L2 intra +VM to VM same network fixed IP \(intra-node\) +FAILED$' <<<"$output"
	grep -qE '^  Custom <flow> & "co" +Custom <flow> & "co" +PASSED$' <<<"$output"
	# the reference: six flows, every one passed
	run -0 --separate-stderr vmtp-chart -f text "$REF"
	[ "$(sed -n '/^Flows$/,/^$/p' <<<"$output" | grep -c ' PASSED$')" -eq 6 ]
	! grep -q FAILED <<<"$output"
	# one ICMP packet size that failed is enough; a flow with no result
	# has no verdict
	jq '.flows[0].results = [{"protocol": "ICMP", "tool": "ping", "results": [
	      {"packet_size": 64, "tx_packets": 5, "rx_packets": 5, "rtt_avg_ms": 0.3},
	      {"packet_size": 1500, "error": "100% packet loss"}]}]
	    | .flows[1].results = []' "$REF" >"$BATS_TEST_TMPDIR/icmp.json"
	run -0 --separate-stderr vmtp-chart -f text "$BATS_TEST_TMPDIR/icmp.json"
	grep -qE '^  L2 intra +.* FAILED$' <<<"$output"
	grep -qE '^  L3 fixed intra +.* -$' <<<"$output"
	[ "$(sed -n '/^Flows$/,/^$/p' <<<"$output" | grep -c ' PASSED$')" -eq 4 ]
	# the HTML report has the same column
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$FIX/errors.json"
	grep -q '<th>Result</th>' "$BATS_TEST_TMPDIR/r.html"
	grep -q '<td>FAILED</td>' "$BATS_TEST_TMPDIR/r.html"
}

@test "--format text colours the verdicts on a terminal only, never with NO_COLOR" {
	command -v script >/dev/null || skip "needs script(1) for a terminal"
	# on a terminal (script gives one): FAILED red, PASSED green
	run -0 env -u NO_COLOR script -qec "vmtp-chart -f text '$FIX/errors.json'" /dev/null
	[[ "$output" == *$'\e[1;31mFAILED\e[0m'* ]]
	[[ "$output" == *$'\e[32mPASSED\e[0m'* ]]
	run -0 env NO_COLOR=1 script -qec "vmtp-chart -f text '$FIX/errors.json'" /dev/null
	[[ "$output" == *FAILED* ]]
	[[ "$output" != *$'\e['* ]]
	# into a pipe or a file: plain
	run -0 --separate-stderr env -u NO_COLOR vmtp-chart -f text "$FIX/errors.json"
	[[ "$output" != *$'\e['* ]]
	env -u NO_COLOR script -qec "vmtp-chart -f text -o '$BATS_TEST_TMPDIR/t.txt' '$FIX/errors.json'" /dev/null
	grep -q FAILED "$BATS_TEST_TMPDIR/t.txt"
	! grep -q $'\e\\[' "$BATS_TEST_TMPDIR/t.txt"
}

# trend_docs DIR N: N results made from the reference in DIR/list.json (a
# JSON list) and as DIR/doc1.json ... (one each): "run I" with every
# throughput scaled by 0.5 + I/10 and the ICMP RTTs raised by I/100, dated
# day (4 * I) % N so that date order is not input order (with N = 9 the
# newest is run 3).
trend_docs() {
	mkdir -p "$1"
	jq --argjson n "$2" '[range(0; $n) as $i | .
		| .test_description = "run \($i + 1)"
		| .date = ((1425500000 + (($i * 4) % $n) * 86400)
		           | strftime("%Y-%m-%d %H:%M:%S"))
		| (.flows[].results[] | objects | select(has("throughput_kbps"))
		   | .throughput_kbps) |= (. * (0.5 + $i / 10) | floor)
		| (.flows[].results[] | objects | select(.protocol == "ICMP")
		   | .rtt_avg_ms) |= (tonumber + $i / 100 | tostring)]' \
		"$REF" >"$1/list.json"
	jq -c '.[]' "$1/list.json" | split -l 1 -d -a 2 --additional-suffix=.json - "$1/doc"
}

# trend_expect LIST DESC PROTOCOL PKT_SIZE: "MIN MEDIAN MAX NEWEST" over
# the documents of LIST of the flow's mean Gbps of that series (PROTOCOL
# ICMP: its mean rtt_avg_ms), the newest by date, as the report prints them.
trend_expect() {
	jq -r --arg d "$2" --arg p "$3" --argjson s "$4" '
		[.[] | {date, v: ([.flows[] | select(.desc == $d) | .results[]
		   | objects | select(.protocol == $p)
		   | if $p == "ICMP" then .rtt_avg_ms | tonumber
		     else select(.pkt_size == $s and has("throughput_kbps")
		                 and (.direction // "forward") == "forward")
		          | .throughput_kbps / 1048576 end]
		   | if length > 0 then add / length else null end)}]
		| (sort_by(.date) | last.v) as $newest
		| [.[].v | select(. != null)] | sort
		| [first, (if length % 2 == 1 then .[length / 2 | floor]
		           else (.[length / 2 - 1] + .[length / 2]) / 2 end),
		   last, $newest] | @tsv' "$1" |
		xargs printf '%.3f %.3f %.3f %.3f'
}

@test "nine results or more give a trend instead of the comparison, eight do not" {
	trend_docs "$BATS_TEST_TMPDIR/d" 9
	jq '.[:8]' "$BATS_TEST_TMPDIR/d/list.json" >"$BATS_TEST_TMPDIR/eight.json"
	vmtp-chart -o "$BATS_TEST_TMPDIR/8.html" "$BATS_TEST_TMPDIR/eight.json"
	grep -q 'id="comparison"' "$BATS_TEST_TMPDIR/8.html"
	! grep -q 'id="trend"' "$BATS_TEST_TMPDIR/8.html"
	[ "$(grep -c '<section class="result"' "$BATS_TEST_TMPDIR/8.html")" -eq 8 ]
	vmtp-chart -o "$BATS_TEST_TMPDIR/9.html" "$BATS_TEST_TMPDIR/d"/doc*.json
	html="$BATS_TEST_TMPDIR/9.html"
	grep -q 'id="trend"' "$html"
	! grep -q 'id="comparison"' "$html"
	! grep -q '<section class="result"' "$html"
	# a panel per flow and series: 6 flows x (TCP, 3 UDP sizes, ICMP RTT)
	[ "$(grep -c '<figure class="chart trend"' "$html")" -eq 30 ]
	[ "$(grep -c '<svg role="img"' "$html")" -eq 30 ]
	# the results table: a row per result
	[ "$(sed -n '/<table class="numbers runs">/,/<\/table>/p' "$html" | grep -c '<tr')" -eq 10 ]
}

@test "--detail keeps every result's section in a trend" {
	trend_docs "$BATS_TEST_TMPDIR/d" 9
	vmtp-chart --detail -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/d/list.json"
	html="$BATS_TEST_TMPDIR/r.html"
	grep -q 'id="trend"' "$html"
	[ "$(grep -c '<section class="result"' "$html")" -eq 9 ]
	for i in $(seq 1 9); do
		grep -q "id=\"result-$i\"" "$html"
	done
	# the trend's panels and each result's column chart
	[ "$(grep -c '<svg role="img"' "$html")" -eq 39 ]
	vmtp-chart --detail -f text "$BATS_TEST_TMPDIR/d/list.json" >"$BATS_TEST_TMPDIR/r.txt"
	[ "$(grep -c '^Throughput$' "$BATS_TEST_TMPDIR/r.txt")" -eq 9 ]
}

@test "one gnuplot process draws every chart of a report" {
	trend_docs "$BATS_TEST_TMPDIR/d" 9
	real="$(command -v gnuplot)"
	mkdir "$BATS_TEST_TMPDIR/shim"
	printf '#!/bin/sh\necho "$$" >>"%s"\nexec "%s" "$@"\n' \
		"$BATS_TEST_TMPDIR/runs" "$real" >"$BATS_TEST_TMPDIR/shim/gnuplot"
	chmod +x "$BATS_TEST_TMPDIR/shim/gnuplot"
	PATH="$BATS_TEST_TMPDIR/shim:$PATH" vmtp-chart --detail \
		-o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/d"/doc*.json
	[ "$(grep -c '<svg role="img"' "$BATS_TEST_TMPDIR/r.html")" -eq 39 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/runs")" -eq 1 ]
}

@test "a trend references no external URL" {
	trend_docs "$BATS_TEST_TMPDIR/d" 9
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/d/list.json"
	html="$BATS_TEST_TMPDIR/r.html"
	! grep -Eiq '<(script|link|img|iframe|object|embed)[ >]' "$html"
	! grep -Eiq ' src=|@import|url\( *["'\'']?[a-z]+:' "$html"
	! grep -Eiq "href=[\"'][a-z]+:" "$html"
	# without the sections, not even the data's own auth_url is shown
	[ -z "$(urls "$html")" ]
}

@test "the newest result by date is the one highlighted, with its figures" {
	trend_docs "$BATS_TEST_TMPDIR/d" 9
	list="$BATS_TEST_TMPDIR/d/list.json"
	run --separate-stderr vmtp-chart -v -o "$BATS_TEST_TMPDIR/r.html" "$list"
	[ "$status" -eq 0 ]
	html="$BATS_TEST_TMPDIR/r.html"
	# run 3 has the last date, though it is third in the input
	grep -qF '<b class="newest">run 3</b>' "$html"
	[ "$(grep -c 'data-newest="run 3"' "$html")" -eq 30 ]
	! grep 'data-newest=' "$html" | grep -qv 'data-newest="run 3"'
	read -r min med max new <<<"$(trend_expect "$list" "VM to VM same network fixed IP (intra-node)" TCP 65536)"
	grep -F 'data-flow="L2 intra" data-series="TCP" data-newest="run 3"' "$html"
	grep -A1 -F 'data-flow="L2 intra" data-series="TCP" data-newest' "$html" |
		grep -qF "newest <span class=\"newest\">$new</span> &middot; median $med &middot; $min&ndash;$max"
	# the first panel's data: the newest is the last point, and the one
	# drawn large
	data="$(sed -n '/^\$v0 << EOD$/,/^EOD$/p' <<<"$stderr")"
	[ "$(sed -n '$p' <<<"$(sed '$d' <<<"$data")" | awk '{ printf "%.3f", $2 }')" = "$new" ]
	grep -qF '$v0 using 1:($1 == 9 ? $2 : NaN) with points' <<<"$stderr"
}

@test "the trend's min, median, max and newest are the documents' figures, in HTML and text alike" {
	trend_docs "$BATS_TEST_TMPDIR/d" 9
	list="$BATS_TEST_TMPDIR/d/list.json"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$list"
	vmtp-chart -f text -o "$BATS_TEST_TMPDIR/r.txt" "$list"
	l2="VM to VM same network fixed IP (intra-node)"
	l3="VM to VM different network floating IP (inter-node)"
	for c in "L2 intra|$l2|TCP|TCP|65536" "L2 intra|$l2|UDP|UDP 1024|1024" \
		"L3 floating inter|$l3|UDP|UDP 128|128" \
		"L3 floating inter|$l3|ICMP|ICMP RTT|null"; do
		IFS='|' read -r flow desc proto series size <<<"$c"
		read -r min med max new <<<"$(trend_expect "$list" "$desc" "$proto" "$size")"
		echo "$flow $series: $min $med $max $new"
		html_row "$BATS_TEST_TMPDIR/r.html" "$flow" "$series" |
			grep -qF "<td class=\"num\">9</td><td class=\"num\">$min</td><td class=\"num\">$med</td><td class=\"num\">$max</td><td class=\"num\">$new</td>"
		grep -Eq "^  $flow +$series +9 +$min +$med +$max +$new\$" "$BATS_TEST_TMPDIR/r.txt"
	done
	# the results, newest first, with their mean TCP Gbps over flows
	tcp="$(jq -r '[.[] | select(.test_description == "run 3") | .flows[]
		| [.results[] | objects | select(.protocol == "TCP" and has("throughput_kbps"))
		   | .throughput_kbps] | add / length / 1048576] | add / length' "$list" |
		xargs printf '%.3f')"
	sed -n '/^Results, newest first/,$p' "$BATS_TEST_TMPDIR/r.txt" | sed -n 3p |
		grep -Eq "^  2015-[0-9-]+ [0-9:]+ +run 3 +$tcp "
}

@test "equal dates keep the input order; a result without a date follows the one before it" {
	trend_docs "$BATS_TEST_TMPDIR/d" 9
	list="$BATS_TEST_TMPDIR/d/list.json"
	order() {
		sed -n '/^Results, newest first/,$p' "$1" | grep -o 'run [0-9]*' | tr '\n' ,
	}
	jq 'map(.date = "2015-03-05 00:00:00")' "$list" >"$BATS_TEST_TMPDIR/same.json"
	vmtp-chart -f text -o "$BATS_TEST_TMPDIR/same.txt" "$BATS_TEST_TMPDIR/same.json"
	[ "$(order "$BATS_TEST_TMPDIR/same.txt")" = "run 9,run 8,run 7,run 6,run 5,run 4,run 3,run 2,run 1," ]
	# by date: run 1, 8, 6, 4, 2, 9, 7, 5, 3; run 3 without one comes
	# after run 2
	jq 'map(if .test_description == "run 3" then del(.date) else . end)' \
		"$list" >"$BATS_TEST_TMPDIR/undated.json"
	vmtp-chart -f text -o "$BATS_TEST_TMPDIR/undated.txt" "$BATS_TEST_TMPDIR/undated.json"
	[ "$(order "$BATS_TEST_TMPDIR/undated.txt")" = "run 5,run 7,run 9,run 3,run 2,run 4,run 6,run 8,run 1," ]
	vmtp-chart -o "$BATS_TEST_TMPDIR/undated.html" "$BATS_TEST_TMPDIR/undated.json"
	grep -qF '<b class="newest">run 5</b>' "$BATS_TEST_TMPDIR/undated.html"
}

@test "a trend renders in headless Chromium with its bands and the newest in orange" {
	trend_docs "$BATS_TEST_TMPDIR/d" 9
	html="$BATS_TEST_TMPDIR/r.html"
	vmtp-chart -o "$html" "$BATS_TEST_TMPDIR/d/list.json"
	render_png "$html" "$BATS_TEST_TMPDIR/r.png" 1280,1400
	run png_colours "$BATS_TEST_TMPDIR/r.png" '#0072B2' '#D55E00'
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(cut -d' ' -f3 <<<"${lines[0]}")" -gt 100 ]
	# the lines in blue, the newest dots and figures in orange
	[ "$(cut -d' ' -f2 <<<"${lines[1]}")" -gt 300 ]
	[ "$(cut -d' ' -f2 <<<"${lines[2]}")" -gt 100 ]
}

@test "a UDP sample whose loss was unstable says so in the number table; others have no such column" {
	jq -c 'if .type == "sample" and .protocol == "UDP" then . + {loss_unstable: true} else . end' \
		"$FIX/records.ndjson" >"$BATS_TEST_TMPDIR/u.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/u.html" "$BATS_TEST_TMPDIR/u.ndjson"
	vmtp-chart -f text -o "$BATS_TEST_TMPDIR/u.txt" "$BATS_TEST_TMPDIR/u.ndjson"
	grep -qF '<th>Loss unstable</th>' "$BATS_TEST_TMPDIR/u.html"
	html_row "$BATS_TEST_TMPDIR/u.html" "L2 intra" "UDP 1024" | grep -qF '<td>yes</td>'
	grep -Eq '^  L2 intra +UDP 1024 .* yes ' "$BATS_TEST_TMPDIR/u.txt"
	vmtp-chart -f text -o "$BATS_TEST_TMPDIR/plain.txt" "$FIX/records.ndjson"
	! grep -q 'Loss unstable' "$BATS_TEST_TMPDIR/plain.txt"
	! grep -q 'Sender limited' "$BATS_TEST_TMPDIR/plain.txt"
}

@test "a UDP sample whose sender was the limit says so in the number table, apart from the others" {
	jq -c 'if .type == "sample" and .protocol == "UDP" and .flow == 1 then . + {sender_limited: true} else . end' \
		"$FIX/records.ndjson" >"$BATS_TEST_TMPDIR/s.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/s.html" "$BATS_TEST_TMPDIR/s.ndjson"
	vmtp-chart -f text -o "$BATS_TEST_TMPDIR/s.txt" "$BATS_TEST_TMPDIR/s.ndjson"
	grep -qF '<th>Sender limited</th>' "$BATS_TEST_TMPDIR/s.html"
	! grep -qF '<th>Loss unstable</th>' "$BATS_TEST_TMPDIR/s.html"
	html_row "$BATS_TEST_TMPDIR/s.html" "L2 intra" "UDP 1024" | grep -qF '<td>yes</td>'
	! html_row "$BATS_TEST_TMPDIR/s.html" "L2 inter" "UDP 1024" | grep -qF '<td>yes</td>'
	grep -Eq '^  L2 intra +UDP 1024 .* yes ' "$BATS_TEST_TMPDIR/s.txt"
	! grep -Eq '^  L2 inter +UDP 1024 .* yes ' "$BATS_TEST_TMPDIR/s.txt"
}

# pairs RECORDS PROTOCOL: each pair of a mesh stream (helpers/mesh), in
# natural order, as a reader of its heat map sees it: sender, receiver,
# its figure (TCP Gbps to 2 decimals, ICMP RTT ms to 3), then "low" when
# the pair is the slow host's (compute-3 of mesh_stream N 3), "-" else.
pairs() {
	jq -rs --arg p "$2" '
		(map(select(.type == "host")) | map({key: .name, value: (.az | sub("^[^:]*:"; ""))}) | from_entries) as $h
		| (map(select(.type == "flow")) | map({key: (.id | tostring), value: .}) | from_entries) as $f
		| .[] | select(.type == "sample" and .protocol == $p) | $f[.flow | tostring] as $fl
		| [$h[$fl.client], $h[$fl.server], (if $p == "TCP" then .throughput_kbps / 1048576 else .rtt_avg_ms end)]
		| @tsv' "$1" |
		awk -F'\t' -v p="$2" -v OFS='\t' '{ print $1, $2, sprintf(p == "TCP" ? "%.2f" : "%.3f", $3),
		    p == "TCP" && ($1 == "compute-3" || $2 == "compute-3") ? "low" : "-" }' |
		sort -t"$(printf '\t')" -k1,1V -k2,2V
}

# heat_map HTML ID: the cells of heat map or mesh table ID (helpers/heat-map).
heat_map() {
	/usr/bin/python3 "$BATS_TEST_DIRNAME/helpers/heat-map" "$@"
}

@test "a mesh result's report: a heat map per matrix, the slow host's pairs outlined and darker, before the flow chart" {
	mesh_stream 5 3 > "$BATS_TEST_TMPDIR/m.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/m.ndjson"
	html=$BATS_TEST_TMPDIR/r.html
	# TCP: every pair once, its figure in its cell, compute-3's 8 outlined
	pairs "$BATS_TEST_TMPDIR/m.ndjson" TCP > "$BATS_TEST_TMPDIR/want"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/want")" -eq 20 ]
	heat_map "$html" result-1-heat-tcp > "$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" <(cut -f1-4 "$BATS_TEST_TMPDIR/got")
	# one palette: each low cell darker than any other
	awk -F'\t' '$4 == "low" { if ($5 > dark) dark = $5 } $4 != "low" { if (light == "" || $5 < light) light = $5 }
	    END { exit !(dark < light) }' "$BATS_TEST_TMPDIR/got"
	median=$(jq -s '[.[] | select(.type == "sample" and .protocol == "TCP") | .throughput_kbps / 1048576]
	    | sort | (.[9] + .[10]) / 2' "$BATS_TEST_TMPDIR/m.ndjson")
	grep -qF "<text>low: below 80% of the median ($(awk -v m="$median" 'BEGIN { printf "%.2f", m * 0.8 }') Gbps)</text>" "$html"
	grep -qF '<text>Gbps</text>' "$html"
	# RTT: the slow host's pairs darker (longer), none outlined
	pairs "$BATS_TEST_TMPDIR/m.ndjson" ICMP > "$BATS_TEST_TMPDIR/want"
	heat_map "$html" result-1-heat-rtt > "$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" <(cut -f1-4 "$BATS_TEST_TMPDIR/got")
	awk -F'\t' '$1 == "compute-3" || $2 == "compute-3" { if ($5 > dark) dark = $5; next } { if (light == "" || $5 < light) light = $5 }
	    END { exit !(dark < light) }' "$BATS_TEST_TMPDIR/got"
	grep -qF '<text>RTT (ms)</text>' "$html"
	# the worst host as the text names it; the heat map first in the section
	text=$(vmtp-chart -f text "$BATS_TEST_TMPDIR/m.ndjson" | grep '^Worst hosts: ')
	[ "$text" = 'Worst hosts: compute-3 (low as sender 4 of 4, as receiver 4 of 4)' ]
	grep -qF "<p class=\"worst\"><b>Worst hosts:</b> ${text#Worst hosts: }</p>" "$html"
	! grep -q 'Low pairs' "$html"
	[ "$(grep -c '<svg role="img"' "$html")" -eq 3 ]
	heat=$(grep -n 'id="result-1-heat-tcp"' "$html" | cut -d: -f1)
	flow=$(grep -n '<figure class="chart">' "$html" | cut -d: -f1)
	[ "$heat" -lt "$flow" ]
}

@test "a mesh result's tables hold each pair's Gbps and RTT, the low pairs marked" {
	mesh_stream 5 3 > "$BATS_TEST_TMPDIR/m.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/m.ndjson"
	pairs "$BATS_TEST_TMPDIR/m.ndjson" TCP > "$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" <(heat_map "$BATS_TEST_TMPDIR/r.html" result-1-mesh-tcp | cut -f1-4)
	pairs "$BATS_TEST_TMPDIR/m.ndjson" ICMP > "$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" <(heat_map "$BATS_TEST_TMPDIR/r.html" result-1-mesh-rtt | cut -f1-4)
	# the diagonal is empty
	[ "$(grep -o '<td class="num none">-</td>' "$BATS_TEST_TMPDIR/r.html" | wc -l)" -eq 10 ]
}

@test "a low pair no bad host explains is named under Low pairs, as in the text" {
	mesh_stream 5 3 | jq -c 'if .type == "sample" and .flow == 1 and .protocol == "TCP"
	    then .throughput_kbps = 1048576 else . end' > "$BATS_TEST_TMPDIR/m.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/m.ndjson"
	text=$(vmtp-chart -f text "$BATS_TEST_TMPDIR/m.ndjson" | grep '^Low pairs: ')
	[[ $text == 'Low pairs: compute-'[1245]' -> compute-'[1245] ]]
	grep -qF "<p class=\"pairs\"><b>Low pairs:</b> $(sed 's/>/\&gt;/' <<<"${text#Low pairs: }")</p>" "$BATS_TEST_TMPDIR/r.html"
	pair=$(sed 's/^Low pairs: //; s/ -> /\t/' <<<"$text")
	heat_map "$BATS_TEST_TMPDIR/r.html" result-1-heat-tcp | grep -qP "^$pair\t1\.00\tlow\t"
}

@test "a result that is no mesh has no heat map; a mesh lists only its failed flows, without per-flow panels" {
	mesh_stream 5 3 > "$BATS_TEST_TMPDIR/m.ndjson"
	jq -c 'del(.round)' "$BATS_TEST_TMPDIR/m.ndjson" > "$BATS_TEST_TMPDIR/plain.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/plain.html" "$BATS_TEST_TMPDIR/plain.ndjson"
	! grep -q 'class="chart heat"\|class="numbers mesh"\|Worst hosts' "$BATS_TEST_TMPDIR/plain.html"
	grep -qF '<h3>Flows</h3>' "$BATS_TEST_TMPDIR/plain.html"
	# per-second intervals everywhere, flow 2's TCP and flow 3's ping failed
	jq -c 'if .type == "sample" and .protocol == "TCP" then .intervals = [.throughput_kbps, .throughput_kbps] else . end
	    | if .type == "sample" and .flow == 2 and .protocol == "TCP" then {type, run, flow, protocol, tool, error: "nuttcp: timed out"} else . end
	    | if .type == "sample" and .flow == 3 and .protocol == "ICMP" then {type, run, flow, protocol, tool, pkt_size, error: "ping: no reply"} else . end' \
		"$BATS_TEST_TMPDIR/m.ndjson" > "$BATS_TEST_TMPDIR/e.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/e.html" "$BATS_TEST_TMPDIR/e.ndjson"
	html=$BATS_TEST_TMPDIR/e.html
	grep -qF 'id="result-1-heat-tcp"' "$html"
	! grep -q 'Throughput over time\|<h3>Flows</h3>\|<h3>Latency (ICMP)</h3>' "$html"
	grep -qF '<h3>Failed flows</h3>' "$html"
	[ "$(sed -n '/<table class="flows">/,/<\/table>/p' "$html" | grep -c 'FAILED')" -eq 2 ]
	! sed -n '/<table class="flows">/,/<\/table>/p' "$html" | grep -q PASSED
	grep -qF '<h3>Latency (ICMP) errors</h3>' "$html"
	sed -n '/<table class="numbers icmp">/,/<\/table>/p' "$html" | grep -qF 'ping: no reply'
	# the failed pair is empty in the map and "-" in the table
	pair=$(jq -r 'select(.type == "flow" and .id == 2) | "\(.client)\t\(.server)"' "$BATS_TEST_TMPDIR/m.ndjson" | sed 's/vm/compute-/g')
	! heat_map "$html" result-1-heat-tcp | grep -qP "^$pair\t"
	[ "$(heat_map "$html" result-1-heat-tcp | wc -l)" -eq 19 ]
	# --protocol: TCP alone has no RTT map, UDP no map at all
	vmtp-chart -p tcp -o "$BATS_TEST_TMPDIR/t.html" "$BATS_TEST_TMPDIR/m.ndjson"
	grep -qF 'id="result-1-heat-tcp"' "$BATS_TEST_TMPDIR/t.html"
	! grep -q 'result-1-heat-rtt\|result-1-mesh-rtt' "$BATS_TEST_TMPDIR/t.html"
	vmtp-chart -p udp -o "$BATS_TEST_TMPDIR/u.html" "$BATS_TEST_TMPDIR/m.ndjson"
	! grep -q 'class="chart heat"\|class="numbers mesh"' "$BATS_TEST_TMPDIR/u.html"
}

@test "a host name from the data reaches gnuplot quoted and the page escaped" {
	mesh_stream 5 3 | jq -c 'if .type == "host" and .name == "vm3" then .az = "nova:it'\''s <b>&\"x\\y" else . end' \
		> "$BATS_TEST_TMPDIR/m.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/m.ndjson"
	html=$BATS_TEST_TMPDIR/r.html
	! grep -qF '<b>&' "$html"
	grep -qF '<th scope="row">it&#39;s &lt;b&gt;&amp;&quot;x\y</th>' "$html"
	grep -qF '<b>Worst hosts:</b> it&#39;s &lt;b&gt;&amp;&quot;x\y (low as sender 4 of 4' "$html"
	# the map names it on both axes, its pairs outlined
	[ "$(heat_map "$html" result-1-heat-tcp | grep -cP "^it's <b>&\"x\\\\y\t[^\t]*\t[^\t]*\tlow\t")" -eq 4 ]
	[ "$(heat_map "$html" result-1-heat-tcp | grep -cP "^[^\t]*\tit's <b>&\"x\\\\y\t[^\t]*\tlow\t")" -eq 4 ]
}

@test "a mesh report references no external URL" {
	mesh_stream 5 3 > "$BATS_TEST_TMPDIR/m.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/m.ndjson"
	html=$BATS_TEST_TMPDIR/r.html
	! grep -Eiq '<(script|link|img|iframe|object|embed|image)[ >]' "$html"
	! grep -Eiq ' src=|@import|url\( *["'\'']?[a-z]+:' "$html"
	! grep -Eiq "href=[\"'][a-z]+:" "$html"
	[ -z "$(urls "$html")" ]
}

@test "a trend of mesh results: a heat map per result with --detail, none without" {
	mkdir "$BATS_TEST_TMPDIR/d"
	mesh_stream 4 3 > "$BATS_TEST_TMPDIR/m.ndjson"
	for i in 1 2 3 4 5 6 7 8 9; do
		sed "s/vmtp-7e570001/vmtp-7e57000$i/; s/2026-11-29T04/2026-11-2${i}T04/" "$BATS_TEST_TMPDIR/m.ndjson" \
			> "$BATS_TEST_TMPDIR/d/$i.ndjson"
	done
	vmtp-chart --detail -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/d"/*.ndjson
	[ "$(grep -c '<figure class="chart heat" id="result-[1-9]-heat-tcp"' "$BATS_TEST_TMPDIR/r.html")" -eq 9 ]
	[ "$(grep -c '<figure class="chart heat" id="result-[1-9]-heat-rtt"' "$BATS_TEST_TMPDIR/r.html")" -eq 9 ]
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/d"/*.ndjson
	! grep -q 'class="chart heat"' "$BATS_TEST_TMPDIR/r.html"
}

@test "a mesh of 16 hosts: one map of 240 cells, too small for their figures, which the table holds" {
	mesh_stream 16 3 > "$BATS_TEST_TMPDIR/m.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/m.ndjson"
	heat_map "$BATS_TEST_TMPDIR/r.html" result-1-heat-tcp > "$BATS_TEST_TMPDIR/got"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/got")" -eq 240 ]
	[ "$(cut -f3 "$BATS_TEST_TMPDIR/got" | sort -u)" = "" ]
	[ "$(awk -F'\t' '$4 == "low"' "$BATS_TEST_TMPDIR/got" | wc -l)" -eq 30 ]
	pairs "$BATS_TEST_TMPDIR/m.ndjson" TCP > "$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" <(heat_map "$BATS_TEST_TMPDIR/r.html" result-1-mesh-tcp | cut -f1-4)
	[ "$(grep -c '<svg role="img"' "$BATS_TEST_TMPDIR/r.html")" -eq 3 ]
}

@test "the heat map renders in headless Chromium: orange outlines, the fastest pairs yellow" {
	mesh_stream 5 3 > "$BATS_TEST_TMPDIR/m.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/m.ndjson"
	render_png "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/r.png" 1280,1300
	run png_colours "$BATS_TEST_TMPDIR/r.png" '#D55E00' '#FDE725'
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(cut -d' ' -f2 <<<"${lines[1]}")" -gt 300 ]
	[ "$(cut -d' ' -f2 <<<"${lines[2]}")" -gt 1000 ]
	# without rounds: no map, no orange
	jq -c 'del(.round)' "$BATS_TEST_TMPDIR/m.ndjson" > "$BATS_TEST_TMPDIR/plain.ndjson"
	vmtp-chart -o "$BATS_TEST_TMPDIR/plain.html" "$BATS_TEST_TMPDIR/plain.ndjson"
	render_png "$BATS_TEST_TMPDIR/plain.html" "$BATS_TEST_TMPDIR/plain.png" 1280,1300
	run png_colours "$BATS_TEST_TMPDIR/plain.png" '#D55E00' '#FDE725'
	echo "$output"
	[ "$(cut -d' ' -f2 <<<"${lines[1]}")" -eq 0 ]
	[ "$(cut -d' ' -f2 <<<"${lines[2]}")" -eq 0 ]
}

@test "no temporary file can be made: exit 1 naming the folder, before anything is drawn" {
	run --separate-stderr env TMPDIR="$BATS_TEST_TMPDIR/none" \
		vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$REF"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vmtp-chart: cannot create a file in $BATS_TEST_TMPDIR/none: No such file or directory" ]
	[ ! -e "$BATS_TEST_TMPDIR/r.html" ]
}
