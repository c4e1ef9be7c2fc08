# mesh.bash - a synthetic mesh result (issue 17) for the tests of
# vmtp-chart: the records of a mesh run, one host slow, as vmtp-run and
# vmtp-provision would write them (the rounds from tests/tools/mesh-dump).
#
#   load helpers/mesh
#   mesh_stream N SLOW > FILE

# mesh_stream N SLOW: the records of a mesh run of N VMs on compute-1..N
# where every pair with compute-SLOW gets 2 Gbps and the others 9 (plus
# 0.01 per receiver, so that no two figures are equal), and ICMP RTT
# 0.2 ms (1.5 ms to or from the slow one).
mesh_stream() {
	"$VMTP_TOOLS/mesh-dump" "$1" | awk -v n="$1" -v slow="$2" '
		BEGIN { run = "vmtp-7e570001"
			printf "{\"type\":\"run\",\"run\":\"%s\",\"v\":1,\"date\":\"2026-11-29T04:00:00Z\"}\n", run
			for (h = 1; h <= n; h++)
				printf "{\"type\":\"host\",\"run\":\"%s\",\"name\":\"vm%d\",\"role\":\"mesh\",\"ip\":\"10.9.0.%d\",\"az\":\"nova:compute-%d\"}\n", run, h, h, h }
		NR > 1 {
			for (way = 0; way < 2; way++) {
				c = (way ? $3 : $2) + 1; s = (way ? $2 : $3) + 1; id++
				printf "{\"type\":\"flow\",\"run\":\"%s\",\"id\":%d,\"desc\":\"VM to VM same network fixed IP (inter-node)\",\"client\":\"vm%d\",\"server\":\"vm%d\",\"target\":\"10.9.0.%d\",\"bidirectional\":false,\"round\":%d}\n", run, id, c, s, s, $1
				g = (c == slow || s == slow ? 2 : 9) + s / 100
				printf "{\"type\":\"sample\",\"run\":\"%s\",\"flow\":%d,\"protocol\":\"TCP\",\"tool\":\"nuttcp-8.2.2\",\"pkt_size\":65536,\"t_start\":1,\"t_end\":2,\"loop\":1,\"throughput_kbps\":%d}\n", run, id, g * 1048576
				r = c == slow || s == slow ? 1.5 : 0.2
				printf "{\"type\":\"sample\",\"run\":\"%s\",\"flow\":%d,\"protocol\":\"ICMP\",\"tool\":\"ping\",\"pkt_size\":64,\"t_start\":2,\"t_end\":3,\"tx_packets\":2,\"rx_packets\":2,\"rtt_min_ms\":%s,\"rtt_avg_ms\":%s,\"rtt_max_ms\":%s}\n", run, id, r, r, r
			}
		}'
}
