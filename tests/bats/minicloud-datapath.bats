#!/usr/bin/env bats
# minicloud-datapath.bats - minicloud's data path (SPEC §9): the official client builds vmtp's topology (two
# networks, a router with a gateway, a server on compute 1, clients on computes 1 and 2, floating IPs) and
# packets really flow: SSH by floating IP from the root namespace, ping and nuttcp by fixed IP on a network,
# through the router, and through NAT; a server on the provider network at its fixed IP; security groups;
# the inter-node delay; IPv6 (SLAAC subnets on both networks, DHCPv6 ones, ip6tables security groups);
# multicast between computes; tenant routes (--tenant-routes) from the root namespace; cleanup. One cloud
# per suite.

load helpers/common
load helpers/minicloud

DELAY_MS=5
V6_1=fd00:5a:1::/64 # the networks' IPv6 (SLAAC) subnets: in the cloud's namespaces only
V6_2=fd00:5a:2::/64

setup_file() {
	minicloud_up --computes 2 --boot-delay 0 --inter-node-delay "$DELAY_MS" --tenant-routes
	if [ -e "$BATS_FILE_TMPDIR/minicloud.skip" ] || [ -e "$BATS_FILE_TMPDIR/minicloud.fail" ]; then
		return 0 # each test skips or fails with the reason (minicloud_require)
	fi
	minicloud_require
	local d=$BATS_FILE_TMPDIR
	ssh-keygen -q -t ed25519 -N '' -C datapath-test -f "$d/key"
	# vmtp's topology, with the official client (one process for all commands: its start-up is the cost)
	os >"$d/build.log" 2>&1 <<-EOF
		keypair create --public-key $d/key.pub k1
		network create n1
		subnet create --network n1 --subnet-range $(cidr 0) s1
		subnet create --network n1 --ip-version 6 --ipv6-ra-mode slaac --ipv6-address-mode slaac --subnet-range $V6_1 s1v6
		network create n2
		subnet create --network n2 --subnet-range $(cidr 1) s2
		subnet create --network n2 --ip-version 6 --ipv6-ra-mode slaac --ipv6-address-mode slaac --subnet-range $V6_2 s2v6
		router create r1
		router set --external-gateway public r1
		router add subnet r1 s1
		router add subnet r1 s2
		router add subnet r1 s1v6
		router add subnet r1 s2v6
		security group create perf
		security group rule create --protocol tcp --dst-port 22 perf
		security group rule create --protocol icmp perf
		security group rule create --protocol tcp --dst-port 5001:5002 perf
		security group rule create --ethertype IPv6 --protocol ipv6-icmp perf
		security group rule create --ethertype IPv6 --protocol tcp --dst-port 5001:5002 perf
		security group create locked
		security group rule create --protocol icmp locked
		security group rule create --protocol tcp --dst-port 6001:6002 --remote-group perf locked
		server create --flavor m1.tiny --image minicloud-vm --network n1 --key-name k1 --security-group perf --availability-zone nova:compute-1 --wait vs
		server create --flavor m1.tiny --image minicloud-vm --network n1 --key-name k1 --security-group perf --availability-zone nova:compute-1 --wait vc1
		server create --flavor m1.tiny --image minicloud-vm --network n2 --key-name k1 --security-group perf --availability-zone nova:compute-2 --wait vc2
		server create --flavor m1.tiny --image minicloud-vm --network n1 --key-name k1 --security-group locked --availability-zone nova:compute-1 --wait vl
		server create --flavor m1.tiny --image minicloud-vm --network n1 --key-name k1 --security-group perf --availability-zone nova:compute-2 --wait vr
		floating ip create public --description vs
		floating ip create public --description vc1
		floating ip create public --description vc2
		floating ip create public --description vl
		floating ip create public --description vr
	EOF
	local v
	for v in vs vc1 vc2 vl vr; do
		fip=$(os floating ip list --long -f value -c "Floating IP Address" -c Description | awk -v v=$v '$2 == v { print $1 }')
		echo "$fip" >"$d/fip-$v"
	done
	os >>"$d/build.log" 2>&1 <<-EOF
		server add floating ip vs $(cat "$d/fip-vs")
		server add floating ip vc1 $(cat "$d/fip-vc1")
		server add floating ip vc2 $(cat "$d/fip-vc2")
		server add floating ip vl $(cat "$d/fip-vl")
		server add floating ip vr $(cat "$d/fip-vr")
	EOF
	# each server's id, fixed IPv4 and IPv6, port and MAC, in files named after it (two client calls for all)
	os server list -f json >"$d/servers.json"
	os port list -f json >"$d/ports.json"
	/usr/bin/python3 - "$d" <<-'EOF'
		import json, sys
		d = sys.argv[1]
		ports = json.load(open(d + "/ports.json"))
		for s in json.load(open(d + "/servers.json")):
		    fixed = [a for a in list(s["Networks"].values())[0] if ":" not in a][0]
		    port = next(p for p in ports if any(f["ip_address"] == fixed for f in p["Fixed IP Addresses"]))
		    fixed6 = [f["ip_address"] for f in port["Fixed IP Addresses"] if ":" in f["ip_address"]][0]
		    for key, val in (("id", s["ID"]), ("ip", fixed), ("ip6", fixed6), ("port", port["ID"]),
		                     ("mac", port["MAC Address"])):
		        open("%s/%s-%s" % (d, key, s["Name"]), "w").write(val + "\n")
	EOF
}

teardown_file() {
	minicloud_down
}

setup() {
	minicloud_require
	P=$(sed -n 's/.*"prefix": "\(mc[0-9a-f]*\)".*/\1/p' "$MINICLOUD_DIR/dataplane/status.json" 2>/dev/null)
}

# cidr N: the Nth internal CIDR minicloud picked for this machine (vmtp.yaml's internal_cidr).
cidr() {
	sed -n "s/^internal_cidr: \['\([^']*\)', '\([^']*\)'\]$/\\$(($1 + 1))/p" "$MINICLOUD_DIR/vmtp.yaml"
}

fip() { cat "$BATS_FILE_TMPDIR/fip-$1"; }
fixed() { cat "$BATS_FILE_TMPDIR/ip-$1"; }
fixed6() { cat "$BATS_FILE_TMPDIR/ip6-$1"; }
vmns() { echo "$P-vm-$(cut -c1-8 "$BATS_FILE_TMPDIR/id-$1")"; }

# free_cidr: an IPv4 /24 the root namespace routes nowhere yet (for a subnet whose tenant route comes and goes).
free_cidr() {
	local n
	for n in $(seq 1 250); do
		if [ -z "$(ip -4 route show exact "10.203.$n.0/24" table all)" ]; then
			echo "10.203.$n.0/24"
			return 0
		fi
	done
	return 1
}

# router_gw ROUTER: the router's gateway IP on the external network.
router_gw() {
	os router show "$1" -f json | jq -r '.external_gateway_info.external_fixed_ips[0].ip_address'
}

# vm_ssh HOST CMD...: SSH as root with the key pair's key, as vmtp does.
vm_ssh() {
	local host=$1
	shift
	ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes \
		-o ConnectTimeout=3 -i "$BATS_FILE_TMPDIR/key" "root@$host" "$@"
}

# nuttcp_mbps OUTPUT: the rate nuttcp reports, as an integer.
nuttcp_mbps() {
	sed -n 's/.* = *\([0-9]*\)\.[0-9]* Mbps.*/\1/p' <<<"$1" | tail -n 1
}

# eventually SECONDS CMD...: retries CMD until it succeeds (the agent converges in well under a second;
# SECONDS is a bound generous enough for a busy machine, and costs nothing when it is quick).
eventually() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}

@test "the official client built the topology: every server ACTIVE, in its own namespace on its host" {
	run os server list -f value -c Name -c Status
	[ "$(grep -c ' ACTIVE$' <<<"$output")" -eq 5 ]
	for v in vs vc1 vc2 vl; do
		id=$(cat "$BATS_FILE_TMPDIR/id-$v")
		ns="$P-vm-${id:0:8}"
		ip netns list | grep -q "^$ns\b"
		# the port's MAC and fixed IP, default route via the subnet's gateway
		ip -n "$ns" -o link show eth0 | grep -q "link/ether $(cat "$BATS_FILE_TMPDIR/mac-$v")"
		ip -n "$ns" -4 -o addr show eth0 | grep -q "inet $(fixed "$v")/24"
		ip -n "$ns" route show default | grep -q "via $(fixed "$v" | cut -d. -f1-3).1 "
	done
	# compute-1's servers hang off host 1's bridge, compute-2's off host 2's
	port=$(cat "$BATS_FILE_TMPDIR/port-vc2")
	ip -n "$P-h2" -o link show "${P}t${port:0:8}" | grep -q "master ${P}b"
}

@test "SSH reaches every VM by its floating IP from the root namespace; each VM has a /tmp of its own" {
	for v in vs vc1 vc2; do
		run vm_ssh "$(fip "$v")" ip -4 -o addr show eth0
		[ "$status" -eq 0 ]
		[[ $output == *"inet $(fixed "$v")/"* ]]
	done
	# what one session leaves in /tmp the VM's next session finds, and no other VM (nor the machine) sees
	vm_ssh "$(fip vs)" sh -c "'echo vs > /tmp/mc-own-tmp'"
	[ "$(vm_ssh "$(fip vs)" cat /tmp/mc-own-tmp)" = vs ]
	run vm_ssh "$(fip vc1)" cat /tmp/mc-own-tmp
	[ "$status" -ne 0 ]
	[ ! -e /tmp/mc-own-tmp ]
}

@test "same network: ping and nuttcp by fixed IP between VMs on compute 1" {
	vm_ssh "$(fip vs)" nuttcp -S -P 5001 -p 5002
	run vm_ssh "$(fip vc1)" ping -c 3 -i 0.2 -W 2 "$(fixed vs)"
	[ "$status" -eq 0 ]
	[[ $output == *"ttl=64"* ]] # no router on the way
	run vm_ssh "$(fip vc1)" nuttcp -T 2 -P 5001 -p 5002 "$(fixed vs)"
	[ "$status" -eq 0 ]
	[ "$(nuttcp_mbps "$output")" -gt 100 ]
}

@test "different networks: ping and nuttcp by fixed IP through the router, from compute 2" {
	vm_ssh "$(fip vs)" nuttcp -S -P 5001 -p 5002 || true # already running is fine
	run vm_ssh "$(fip vc2)" ping -c 3 -i 0.2 -W 2 "$(fixed vs)"
	[ "$status" -eq 0 ]
	[[ $output == *"ttl=63"* ]] # one router hop
	run vm_ssh "$(fip vc2)" nuttcp -T 2 -P 5001 -p 5002 "$(fixed vs)"
	[ "$status" -eq 0 ]
	[ "$(nuttcp_mbps "$output")" -gt 10 ]
}

@test "by floating IP through the router's NAT: DNAT to the fixed IP, SNAT to the sender's floating IP" {
	r=$(os router show r1 -f value -c id)
	rns="$P-r-${r:0:8}"
	before=$(ip netns exec "$rns" iptables -t nat -S PREROUTING -v | grep -c "$(fip vs)/32" || true)
	[ "$before" -eq 1 ]
	vm_ssh "$(fip vs)" nuttcp -S -P 5001 -p 5002 || true
	run vm_ssh "$(fip vc1)" nuttcp -T 2 -P 5001 -p 5002 "$(fip vs)"
	[ "$status" -eq 0 ]
	[ "$(nuttcp_mbps "$output")" -gt 10 ]
	# the router translated the stream: its DNAT rule for vs's floating IP counted packets
	pkts=$(ip netns exec "$rns" iptables -t nat -L PREROUTING -v -n -x | awk -v f="$(fip vs)" '$9 == f { print $1 }')
	[ "$pkts" -gt 0 ]
	# and vs sees vc1's floating IP as the source, not its fixed IP (the VMs run the machine's ssh client,
	# with the key copied to vc1: the test's folder is not on the VM)
	vm_ssh "$(fip vc1)" "umask 077 && cat > /root/vs-key" < "$BATS_FILE_TMPDIR/key"
	run vm_ssh "$(fip vc1)" ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o BatchMode=yes -i /root/vs-key "root@$(fip vs)" "'echo \$SSH_CLIENT'"
	[ "$status" -eq 0 ]
	[ "${output%% *}" = "$(fip vc1)" ]
}

@test "security groups: no SSH without a port 22 rule; adding it works on the running VM" {
	run vm_ssh "$(fip vl)" true
	[ "$status" -ne 0 ]
	# ping is allowed by the group, so the VM is up: only the port is filtered
	ping -c 1 -W 2 "$(fip vl)"
	os security group rule create --protocol tcp --dst-port 22 locked
	eventually 30 vm_ssh "$(fip vl)" true
}

@test "security groups: nuttcp's port blocked until allowed; remote_group_id lets only members in" {
	vm_ssh "$(fip vl)" nuttcp -S -P 5001 -p 5002
	probe="timeout 2 bash -c '</dev/tcp/$(fixed vl)/5001'"
	run vm_ssh "$(fip vc1)" "$probe"
	[ "$status" -ne 0 ]
	os security group rule create --protocol tcp --dst-port 5001:5002 --remote-group perf locked
	eventually 30 vm_ssh "$(fip vc1)" "$probe"
	run vm_ssh "$(fip vc1)" nuttcp -T 1 -P 5001 -p 5002 "$(fixed vl)"
	[ "$status" -eq 0 ]
	# members of perf get in by fixed IP; the root namespace (not a member) does not, via the floating IP
	run timeout 3 bash -c "</dev/tcp/$(fip vl)/5001"
	[ "$status" -ne 0 ]
	# vc2 (a member, on another network and compute) does too: its fixed IP is kept through the router
	run vm_ssh "$(fip vc2)" "$probe"
	[ "$status" -eq 0 ]
}

@test "--inter-node-delay 5 puts a 10 ms floor under the RTT between computes, none within one" {
	run vm_ssh "$(fip vc1)" ping -c 5 -i 0.2 -W 2 "$(fixed vs)"
	[ "$status" -eq 0 ]
	intra=$(sed -n 's|^rtt .* = \([0-9.]*\)/.*|\1|p' <<<"$output")
	run vm_ssh "$(fip vc2)" ping -c 5 -i 0.2 -W 2 "$(fixed vs)"
	[ "$status" -eq 0 ]
	inter=$(sed -n 's|^rtt .* = \([0-9.]*\)/.*|\1|p' <<<"$output")
	echo "minimum RTT: intra $intra ms, inter $inter ms" >&3
	# the link's delay is a floor under every inter-node round trip (2 x 5 ms), and under none within a
	# node; the minimum of 5 pings, not the mean, so that a busy machine cannot make it look otherwise
	awk -v a="$intra" -v b="$inter" 'BEGIN { exit !(b >= 10 && a < 10) }'
}

@test "the external host reaches floating IPs: north-south nuttcp both ways" {
	login=$(sed -n 's/^login=//p' "$MINICLOUD_DIR/external-host")
	key=$(sed -n 's/^key=//p' "$MINICLOUD_DIR/external-host")
	ext="ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes -i $key $login"
	run $ext ip -4 -o addr show eth0
	[ "$status" -eq 0 ]
	[[ $output == *"inet ${login#root@}/"* ]]
	vm_ssh "$(fip vs)" nuttcp -S -P 5001 -p 5002 || true
	run $ext nuttcp -T 2 -P 5001 -p 5002 "$(fip vs)"
	[ "$status" -eq 0 ]
	[ "$(nuttcp_mbps "$output")" -gt 10 ]
	run $ext nuttcp -r -T 2 -P 5001 -p 5002 "$(fip vs)"
	[ "$status" -eq 0 ]
	[ "$(nuttcp_mbps "$output")" -gt 10 ]
}

@test "fault --kill-sshd stops one VM's sshd: SSH fails, the VM still answers ping" {
	vm_ssh "$(fip vc2)" true
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --kill-sshd vc2
	run vm_ssh "$(fip vc2)" true
	[ "$status" -eq 255 ]
	ping -c 1 -W 2 "$(fip vc2)"
	run "$MINICLOUD" fault --dir "$MINICLOUD_DIR" --kill-sshd no-such-server
	[ "$status" -eq 1 ]
}

@test "a stopped server leaves its network; started again it answers ping and SSH" {
	vm_ssh "$(fip vs)" ping -c 1 -W 2 "$(fixed vc1)"
	os server stop vc1
	minicloud_wait_server vc1 SHUTOFF 10
	eventually 30 bash -c "! ip netns list | grep -q '^$P-vm-$(cut -c1-8 "$BATS_FILE_TMPDIR/id-vc1")'"
	run vm_ssh "$(fip vs)" ping -c 1 -W 1 "$(fixed vc1)"
	[ "$status" -ne 0 ]
	os server start vc1
	minicloud_wait_server vc1 ACTIVE 10
	eventually 30 vm_ssh "$(fip vs)" ping -c 1 -W 1 "$(fixed vc1)"
	eventually 30 vm_ssh "$(fip vc1)" true
}

@test "a server on the provider network (public) is on the external segment of its host, reached at its fixed IP" {
	# as on a cloud with a flat provider network: no router, no floating IP; the admin may boot on it
	ssh-keygen -q -t ed25519 -N '' -C datapath-ext -f "$BATS_TEST_TMPDIR/key"
	os_admin >"$BATS_TEST_TMPDIR/build.log" 2>&1 <<-EOF
		keypair create --public-key $BATS_TEST_TMPDIR/key.pub kext
		security group create onlyping
		security group rule create --protocol icmp onlyping
		server create --flavor m1.tiny --image minicloud-vm --network public --key-name kext --security-group onlyping --availability-zone nova:compute-2 --wait vext
	EOF
	run -0 os_admin server show vext -f json
	[ "$(jq -r .status <<<"$output")" = ACTIVE ]
	id=$(jq -r .id <<<"$output")
	ip=$(jq -r '.addresses.public[0]' <<<"$output")
	cidr=$(jq -r .public_cidr "$MINICLOUD_DIR/cloud.json")
	ns="$P-vm-${id:0:8}"
	ip -n "$ns" -4 -o addr show eth0 | grep -q "inet $ip/24"
	ip -n "$ns" route show default | grep -q "via ${cidr%.0/24}.1 "
	# its leg is on compute-2's external bridge, joined to compute-1's (where the root namespace's leg is)
	port=$(os_admin port list --server "$id" -f value -c ID)
	ip -n "$P-h2" -o link show "${P}t${port:0:8}" | grep -q "master ${P}bext"
	# from the root namespace at its fixed IP, across the delayed link; its group has no SSH rule yet
	run -0 ping -c 3 -i 0.2 -W 2 "$ip"
	# across the link: its 2 x 5 ms are a floor under every round trip (a busy machine only adds)
	rtt=$(sed -n 's|^rtt .* = \([0-9.]*\)/.*|\1|p' <<<"$output")
	awk -v r="$rtt" 'BEGIN { exit !(r >= 10) }'
	ext="ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=3 -i $BATS_TEST_TMPDIR/key root@$ip"
	run $ext true
	[ "$status" -eq 255 ]
	os_admin security group rule create --protocol tcp --dst-port 22 onlyping
	eventually 30 $ext true
	run -0 $ext ip -4 -o addr show eth0
	[[ $output == *"inet $ip/24"* ]]
	# deleted, it leaves neither its namespace nor compute-2's part of the external segment
	os_admin server delete --wait vext
	os_admin security group delete onlyping
	os_admin keypair delete kext
	eventually 30 bash -c "! ip netns list | grep -q '^$ns' && ! ip -n $P-h2 -o link | grep -q '${P}bext'"
	public=$(jq -r .public_network "$MINICLOUD_DIR/cloud.json")
	[ -z "$(pgrep -f "delaylink.py $P-h1 ${P}w2${public:0:7}")" ]
}

@test "IPv6 SLAAC: each VM has its port's IPv6 fixed IP; ping -6 and nuttcp -6 across computes and the router" {
	# vr (compute 2) and vs (compute 1) on n1, vc2 (compute 2) on n2
	for v in vs vr vc2; do
		ip -n "$(vmns "$v")" -6 -o addr show eth0 | grep -q "inet6 $(fixed6 "$v")/64 "
	done
	# the default route via the subnet's gateway_ip (Neutron's default: the prefix's first address, "::")
	ip -n "$(vmns vs)" -6 route show default | grep -q "via $(os subnet show s1v6 -f value -c gateway_ip) dev eth0"
	ip -n "$(vmns vc2)" -6 route show default | grep -q "via $(os subnet show s2v6 -f value -c gateway_ip) dev eth0"
	vm_ssh "$(fip vs)" nuttcp -6 -S -P 5001 -p 5002 || true # already running is fine
	# same network, compute 2 to compute 1 (no router on the way), then from the other network
	run -0 vm_ssh "$(fip vr)" ping -6 -c 3 -i 0.2 -W 2 "$(fixed6 vs)"
	[[ $output == *"ttl=64"* ]]
	run -0 vm_ssh "$(fip vr)" nuttcp -6 -T 2 -P 5001 -p 5002 "$(fixed6 vs)"
	[ "$(nuttcp_mbps "$output")" -gt 10 ]
	# vc2's sshd was stopped (fault --kill-sshd): its server is started in its namespace
	ip netns exec "$(vmns vc2)" nuttcp -6 -S -P 5001 -p 5002 </dev/null >/dev/null 2>&1 || true
	run -0 vm_ssh "$(fip vs)" ping -6 -c 3 -i 0.2 -W 2 "$(fixed6 vc2)"
	[[ $output == *"ttl=63"* ]] # one router hop
	run -0 vm_ssh "$(fip vs)" nuttcp -6 -T 2 -P 5001 -p 5002 "$(fixed6 vc2)"
	[ "$(nuttcp_mbps "$output")" -gt 10 ]
}

@test "IPv6 security groups: IPv4 rules do not open IPv6; nuttcp -6 is blocked until an IPv6 rule allows it" {
	# vl's group (locked) lets ICMP and the tool's port in for IPv4 only
	os security group rule create --protocol tcp --dst-port 5001:5002 locked
	ip netns exec "$(vmns vl)" nuttcp -S -P 5001 -p 5002 </dev/null >/dev/null 2>&1 || true
	ip netns exec "$(vmns vl)" nuttcp -6 -S -P 5001 -p 5002 </dev/null >/dev/null 2>&1 || true
	eventually 30 vm_ssh "$(fip vc1)" "timeout 2 bash -c '</dev/tcp/$(fixed vl)/5001'"
	run vm_ssh "$(fip vc1)" "timeout 2 bash -c '</dev/tcp/$(fixed6 vl)/5001'"
	[ "$status" -ne 0 ]
	run vm_ssh "$(fip vc1)" ping -6 -c 1 -W 1 "$(fixed6 vl)"
	[ "$status" -ne 0 ]
	os security group rule create --ethertype IPv6 --protocol tcp --dst-port 5001:5002 --remote-group perf locked
	eventually 30 vm_ssh "$(fip vc1)" "timeout 2 bash -c '</dev/tcp/$(fixed6 vl)/5001'"
	run -0 vm_ssh "$(fip vc1)" nuttcp -6 -T 1 -P 5001 -p 5002 "$(fixed6 vl)"
	[ "$(nuttcp_mbps "$output")" -gt 10 ]
}

@test "DHCPv6 stateful and stateless subnets: the VM has both addresses; the router's one port holds both gateways" {
	os >"$BATS_TEST_TMPDIR/build.log" 2>&1 <<-EOF
		network create n6
		subnet create --network n6 --subnet-range $(free_cidr) s6
		subnet create --network n6 --ip-version 6 --ipv6-ra-mode dhcpv6-stateful --ipv6-address-mode dhcpv6-stateful --subnet-range fd00:5a:6::/64 s6full
		subnet create --network n6 --ip-version 6 --ipv6-ra-mode dhcpv6-stateless --ipv6-address-mode dhcpv6-stateless --subnet-range fd00:5a:7::/64 s6less
		router add subnet r1 s6full
		router add subnet r1 s6less
		server create --flavor m1.tiny --image minicloud-vm --network n6 --key-name k1 --security-group perf --availability-zone nova:compute-2 vd
	EOF
	minicloud_wait_server vd ACTIVE 30
	run -0 os port list --server vd -f json
	addrs=$(jq -r '.[0]."Fixed IP Addresses"[].ip_address' <<<"$output")
	full=$(grep '^fd00:5a:6:' <<<"$addrs")
	less=$(grep '^fd00:5a:7:' <<<"$addrs")
	ns="$P-vm-$(os server show vd -f value -c id | cut -c1-8)"
	ip -n "$ns" -6 -o addr show eth0 | grep -q "inet6 $full/64 "
	ip -n "$ns" -6 -o addr show eth0 | grep -q "inet6 $less/64 "
	ip -n "$ns" -6 route show default | grep -qE "via fd00:5a:[67]:: dev eth0"
	# Neutron put the second IPv6 gateway on the router's existing IPv6 port of n6: one leg, both addresses
	run -0 vm_ssh "$(fip vs)" ping -6 -c 2 -i 0.2 -W 2 "$full"
	[[ $output == *"ttl=63"* ]]
	run -0 vm_ssh "$(fip vs)" ping -6 -c 2 -i 0.2 -W 2 "$less"
	os >>"$BATS_TEST_TMPDIR/build.log" 2>&1 <<-EOF
		server delete --wait vd
		router remove subnet r1 s6full
		router remove subnet r1 s6less
		network delete n6
	EOF
}

@test "multicast crosses the computes' bridges (and the delayed link) and obeys the group's UDP rule" {
	# nuttcp 6.1 sends to the group 231.x.y.z of the sender's address (no -g); each VM routes 224.0.0.0/4 on eth0
	for v in vc1 vr; do
		vm_ssh "$(fip "$v")" ip route replace 224.0.0.0/4 dev eth0
	done
	# the bridges flood multicast (no IGMP snooping, as Neutron's default igmp_snooping_enable = False)
	ip -n "$P-h2" -d link show type bridge | grep -q "mcast_snooping 0"
	[ -z "$(ip -n "$P-h2" -d link show type bridge | grep "mcast_snooping 1")" ]
	vm_ssh "$(fip vr)" nuttcp -S -P 5001 -p 5002 || true
	rule=$(os security group rule create --protocol udp --dst-port 5001:5002 perf -f value -c id)
	# received: whether vr got most of what vc1 sent to the group (the receiver's summary: drops / packets)
	received() {
		out=$(vm_ssh "$(fip vc1)" nuttcp -u -m32 -R1M -T1 -P 5001 -p 5002 "$(fixed vr)") &&
			[[ $out =~ \ ([0-9]+)\ /\ +([0-9]+)\ drop/pkt ]] &&
			[ $((BASH_REMATCH[2] - BASH_REMATCH[1])) -gt 50 ]
	}
	# blocked: the control connection (TCP) worked, but no datagram came in
	blocked() { ! received && [[ $out == *" drop/pkt 100.00 %loss"* || $out == *"nuttcp-r: "*"Error"* ]]; }
	eventually 30 received
	os security group rule delete "$rule"
	eventually 30 blocked
}

@test "--tenant-routes: the root namespace reaches fixed IPs through the router, untranslated; routes follow interfaces" {
	gw=$(router_gw r1)
	ip -4 route show exact "$(cidr 0)" | grep -q "via $gw dev ${P}ext"
	ip -4 route show exact "$(cidr 1)" | grep -q "via $gw dev ${P}ext"
	run -0 ping -c 2 -i 0.2 -W 2 "$(fixed vc2)"
	[[ $output == *"ttl=63"* ]]
	# vs sees the root namespace's own address (the external subnet's gateway): no NAT either way
	cidr=$(jq -r .public_cidr "$MINICLOUD_DIR/cloud.json")
	run -0 vm_ssh "$(fixed vs)" 'echo $SSH_CLIENT'
	[ "${output%% *}" = "${cidr%.0/24}.1" ]
	# a subnet added to the router is routed; removed, its route goes
	c=$(free_cidr)
	os >"$BATS_TEST_TMPDIR/build.log" 2>&1 <<-EOF
		network create n7
		subnet create --network n7 --subnet-range $c s7
		router add subnet r1 s7
	EOF
	eventually 30 bash -c "ip -4 route show exact $c | grep -q 'via $gw dev ${P}ext'"
	os router remove subnet r1 s7
	eventually 30 bash -c "[ -z \"\$(ip -4 route show exact $c)\" ]"
	os network delete n7
}

@test "deleting servers, floating IPs, router and networks leaves none of their namespaces, links or rules" {
	base_ns=$(ip netns list | grep -c "^$P-")
	os >"$BATS_TEST_TMPDIR/delete.log" 2>&1 <<-EOF
		server delete --wait vs vc1 vc2 vl vr
		floating ip delete $(fip vs) $(fip vc1) $(fip vc2) $(fip vl) $(fip vr)
		router remove subnet r1 s1
		router remove subnet r1 s2
		router remove subnet r1 s1v6
		router remove subnet r1 s2v6
		router unset --external-gateway r1
		router delete r1
		network delete n1 n2
	EOF
	[ "$(os server list -f value | wc -l)" -eq 0 ]
	[ "$(os network list -f value -c Name)" = public ]
	gone() {
		[ "$(ip netns list | grep -c "^$P-")" -eq 3 ] || return 1 # compute hosts 1, 2 and the external host
		! ip -n "$P-h1" -o link | grep -qE "${P}[blwt][0-9a-f]{7}" &&
			! ip -n "$P-h2" -o link | grep -qE "${P}[blwt][0-9a-f]{7}"
	}
	eventually 30 gone
	[ "$base_ns" -eq 9 ] # h1, h2, xh, five servers, the router: what is left is the fixed plumbing
	[ -z "$(ip -o link | grep "$P" | grep -v "${P}ext")" ]
	[ -z "$(ip -4 route show exact "$(cidr 0)")$(ip -4 route show exact "$(cidr 1)")" ] # no tenant route
	[ -z "$(pgrep -f "delaylink.py $P")" ] # no delaying wire left for a deleted network
}

@test "down after kill -9 of the agent leaves no namespace, link, process, rule or route of the cloud" {
	c=$(free_cidr)
	os >"$BATS_TEST_TMPDIR/build.log" 2>&1 <<-EOF
		network create n9
		subnet create --network n9 --subnet-range $c s9
		router create r9
		router set --external-gateway public r9
		router add subnet r9 s9
	EOF
	eventually 30 bash -c "ip -4 route show exact $c | grep -q 'dev ${P}ext'"
	pid=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$MINICLOUD_DIR/dataplane/status.json")
	[ -n "$(pgrep -f "sshd -D -e -f $MINICLOUD_DIR/")" ] # the external host's
	kill -9 "$pid"
	run "$MINICLOUD" down --dir "$MINICLOUD_DIR"
	[ "$status" -eq 0 ]
	[ -z "$(ip netns list | grep "^$P-")" ]
	[ -z "$(ip -o link | grep "$P")" ]
	[ -z "$(ls /run/netns | grep "^$P-")" ]
	[ -z "$(pgrep -f "$MINICLOUD_DIR/")" ]
	[ -z "$(iptables-save | grep "$P")" ]
	[ -z "$(ip -4 route | grep "$P")" ]
	[ -z "$(ip -4 route show exact "$c")" ]
}
