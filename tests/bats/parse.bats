#!/usr/bin/env bats
# parse.bats - the tool output parsers of libvmtp (parse.h; SPEC §4, §6)
# through parse-dump, on captured output: nuttcp 6.1.2 and iperf3 3.12 from
# Debian 12 (real runs), ping from iputils (real runs) and BusyBox, and
# nuttcp 8.x in its published -fparse layout (interval and final lines
# carry cwnd=).

load helpers/common

P=$FIXTURES/parse

@test "nuttcp 6.1.2 TCP: rate, retransmissions, RTT and intervals" {
	run parse-dump nuttcp "$P/nuttcp-6.1.2-tcp.txt"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.mbps, .retrans, .rtt, .loss]' <<< "$output")" = '[31817.1095,0,0.1,null]' ]
	[ "$(jq -c '.intervals' <<< "$output")" = '[28366.3567,33791.5628]' ]
}

@test "nuttcp 6.1.2 UDP: the received rate and the loss" {
	run parse-dump nuttcp "$P/nuttcp-6.1.2-udp.txt"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.mbps, .loss, .retrans]' <<< "$output")" = '[785.4704,1.9082,null]' ]
}

@test "nuttcp 8.x TCP with cwnd= parses as 6.x does" {
	run parse-dump nuttcp "$P/nuttcp-8.x-tcp.txt"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.mbps, .retrans, .rtt, (.intervals|length)]' <<< "$output")" = '[31934.2035,2,0.1,3]' ]
}

@test "nuttcp 8.x multicast (-j): rate, loss and msmaxjitter as the jitter" {
	run parse-dump nuttcp "$P/nuttcp-8.x-multicast.txt"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.mbps, .loss, .jitter, (.intervals|length)]' <<< "$output")" = '[9.9858,0.20467,0.0913,1]' ]
	# 6.x UDP has no jitter to report
	run parse-dump nuttcp "$P/nuttcp-6.1.2-udp.txt"
	[ "$(jq -c .jitter <<< "$output")" = null ]
}

@test "nuttcp output without a result is an error quoting its Error line" {
	run -1 --separate-stderr parse-dump nuttcp "$P/nuttcp-6.1.2-refused.txt"
	[ "$stderr" = "parse-dump: cannot parse nuttcp output: nuttcp-t: v6.1.2: Error: connect: Connection refused" ]
}

@test "empty or binary tool output is an error, not a crash" {
	run -1 --separate-stderr parse-dump nuttcp /dev/null
	[ "$stderr" = "parse-dump: cannot parse nuttcp output: (empty)" ]
	printf 'rate_Mbps=\0\377 real_seconds=1 megabytes=x\n' > "$BATS_TEST_TMPDIR/bin"
	run -1 --separate-stderr parse-dump nuttcp "$BATS_TEST_TMPDIR/bin"
	run -1 --separate-stderr parse-dump ping "$BATS_TEST_TMPDIR/bin"
	run -1 --separate-stderr parse-dump iperf3 "$BATS_TEST_TMPDIR/bin"
}

@test "iperf3 TCP: received rate, sender retransmits and mean RTT, intervals" {
	run parse-dump iperf3 "$P/iperf3-3.12-tcp.json"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[(.mbps|floor), .retrans, .rtt, (.intervals|length)]' <<< "$output")" = '[24568,8,0.055,2]' ]
}

@test "iperf3 UDP: received rate, loss and jitter" {
	run parse-dump iperf3 "$P/iperf3-3.12-udp.json"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[(.mbps|floor), (.loss*1e6|floor), (.jitter*1e6|floor)]' <<< "$output")" = '[199,47609,3523]' ]
}

@test "iperf3 UDP whose tail was lost: the loss is what was sent less what arrived" {
	# a real 1-second run of 8192-byte datagrams at 10 Gbit/s through a
	# 250 Mbit/s token bucket: reassembly collapsed and 56 of 28419
	# datagrams arrived; iperf3 counts only the gaps before the last one
	# it received (1339, "lost_percent" 4.7)
	run parse-dump iperf3 "$P/iperf3-3.12-udp-tail.json"
	[ "$status" -eq 0 ]
	jq -e '.loss > 99.8 and .loss < 99.81 and (.mbps | floor) == 3' <<< "$output"
}

@test "iperf3 error member becomes the message" {
	run -1 --separate-stderr parse-dump iperf3 "$P/iperf3-3.12-refused.json"
	[ "$stderr" = "parse-dump: iperf3: unable to connect to server: Connection refused" ]
}

@test "iputils ping: counts, min/avg/max/mdev and per-reply percentiles" {
	run parse-dump ping "$P/ping-iputils.txt"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.tx,.rx,.min,.avg,.max,.stddev,.p50,.p99]' <<< "$output")" = '[5,5,0.033,0.036,0.041,0.002,0.036,0.041]' ]
}

@test "BusyBox ping: no mdev printed, the deviation comes from the replies" {
	run parse-dump ping "$P/ping-busybox.txt"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.tx,.rx,.min,.avg,.max,.p50,.p99]' <<< "$output")" = '[4,4,0.08,0.097,0.112,0.095,0.112]' ]
	[ "$(jq '.stddev*1e4|round' <<< "$output")" = 116 ]
}

@test "ping with every packet lost is a result with no RTTs, both flavours" {
	for f in ping-iputils-all-lost.txt ping-busybox-all-lost.txt; do
		run parse-dump ping "$P/$f"
		[ "$status" -eq 0 ]
		[ "$(jq -c '[.tx,.rx,.min,.avg,.p50]' <<< "$output")" = '[3,0,null,null,null]' ]
	done
}
