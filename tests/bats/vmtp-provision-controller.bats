#!/usr/bin/env bats
# vmtp-provision-controller.bats - --controller-node (SPEC §4 run record,
# §5 document): the controller is a namespace host with a real sshd
# (helpers/nshosts) whose sessions see the test's /etc/os-release,
# /proc/cpuinfo and /usr/lib/python3/dist-packages, mounted over the
# machine's in a private mount namespace; vmtp-provision reads them over
# SSH with the controller's own /usr/bin/python3.

load helpers/common
load helpers/nshosts

setup_file() {
	# one controller address, one sshd per test
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	nshosts_up 1
}

teardown_file() {
	nshosts_down
}

setup() {
	C=$BATS_TEST_TMPDIR/ctl
	mkdir -p "$C/dist-packages"
	cat > "$C/os-release" <<-'EOF'
		PRETTY_NAME="CentOS Linux 7 (Core)"
		NAME="CentOS Linux"
		VERSION="7 (Core)"
		ID="centos"
		VERSION_ID="7"
	EOF
	# four processors, as the kernel lists them on x86
	for p in 0 1 2 3; do
		printf 'processor\t: %d\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU E5-2660 v2 @ 2.20GHz\nflags\t\t: fpu\n\n' "$p"
	done > "$C/cpuinfo"
}

teardown() {
	nsh_ctl_down 1
	nsh_pw_down 1
}

# An installed Python distribution NAME at VERSION, laid out as Debian's
# packages install it (python3-neutron: neutron-21.0.0.egg-info/PKG-INFO).
pkg() {
	mkdir -p "$C/dist-packages/$1-$2.egg-info"
	printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: OpenStack %s\n' \
	    "$1" "$2" "$1" > "$C/dist-packages/$1-$2.egg-info/PKG-INFO"
}

ctl_up() {
	nsh_ctl_up 1 "$C/os-release=/etc/os-release" "$C/cpuinfo=/proc/cpuinfo" \
	    "$C/dist-packages=/usr/lib/python3/dist-packages"
}

provision() {
	vmtp-provision --host "root@$(nsh_ip 1)" --ssh-key "$NSH_DIR/id_ed25519" \
	    --known-hosts "$NSH_DIR/known_hosts" \
	    --controller-node "root@$(nsh_ctl_ip 1)" "$@"
}

run_rec() {
	jq -c 'select(.type == "run") | {distro, openstack_version, cpu_info}' <<< "$1"
}

@test "native mode: the run record holds the controller's distribution, release and CPU" {
	pkg neutron 21.1.2
	ctl_up
	run -0 --separate-stderr provision
	[ "$(run_rec "$output")" = '{"distro":"CentOS Linux 7","openstack_version":"Zed (neutron 21.1.2)","cpu_info":"4 * Intel(R) Xeon(R) CPU E5-2660 v2 @ 2.20GHz"}' ]
	# the topology is the same as without it
	[ "$(jq -r .type <<< "$output" | paste -sd,)" = run,host,flow ]
	[[ "$stderr" == *"fetching the deployment's details from root@$(nsh_ctl_ip 1)"* ]]
}

@test "the major version names the release: nova first, then neutron, then keystone; Liberty to 2025.2 Flamingo" {
	ctl_up
	want=(
		"nova 12.0.0|Liberty (nova 12.0.0)"
		"nova 32.0.0|2025.2 Flamingo (nova 32.0.0)"
		"neutron 22.0.1|2023.1 Antelope (neutron 22.0.1)"
		"neutron 26.0.0.0rc1|2025.1 Epoxy (neutron 26.0.0.0rc1)"
		"keystone 22.0.2|Zed (keystone 22.0.2)"
		"keystone 25.0.0|2024.1 Caracal (keystone 25.0.0)"
	)
	for w in "${want[@]}"; do
		rm -rf "$C/dist-packages"/*
		pkg ${w%%|*}
		run -0 --separate-stderr provision -q
		[ "$(jq -r 'select(.type == "run") | .openstack_version' <<< "$output")" = "${w#*|}" ]
	done
	# nova is asked first, then neutron
	rm -rf "$C/dist-packages"/*
	pkg keystone 23.0.0
	pkg neutron 23.0.0
	pkg nova 28.2.0
	run -0 --separate-stderr provision -q
	[ "$(jq -r 'select(.type == "run") | .openstack_version' <<< "$output")" = "2023.2 Bobcat (nova 28.2.0)" ]
	rm -rf "$C/dist-packages/nova-28.2.0.egg-info"
	run -0 --separate-stderr provision -q
	[ "$(jq -r 'select(.type == "run") | .openstack_version' <<< "$output")" = "2023.2 Bobcat (neutron 23.0.0)" ]
}

@test "a release the table does not know gives the version alone, never a guess" {
	ctl_up
	for v in "neutron 99.0.0" "nova 11.1.0" "nova 32.1.0.dev14"; do
		rm -rf "$C/dist-packages"/*
		pkg $v
		run -0 --separate-stderr provision -q
		[ "$(jq -r 'select(.type == "run") | .openstack_version' <<< "$output")" = "$v" ]
	done
}

@test "what the controller cannot tell stays out of the run record; -v says why" {
	# no OpenStack service installed; an ARM kernel's cpuinfo has no model name
	printf 'processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n\n' > "$C/cpuinfo"
	printf 'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n' > "$C/os-release"
	ctl_up
	run -0 --separate-stderr provision -v
	[ "$(jq -c 'select(.type == "run") | [has("distro"), has("openstack_version"), has("cpu_info")]' <<< "$output")" = '[true,false,false]' ]
	# no NAME: PRETTY_NAME as it stands
	[ "$(jq -r 'select(.type == "run") | .distro' <<< "$output")" = "Alpine Linux v3.19" ]
	[[ "$stderr" == *"vmtp-provision: debug: root@$(nsh_ctl_ip 1): cannot read the version of nova, neutron or keystone: no python3 knows any of them"* ]]
	[[ "$stderr" == *"vmtp-provision: debug: root@$(nsh_ctl_ip 1): /proc/cpuinfo has no model name line"* ]]
	[[ "$stderr" != *warning* ]]
}

@test "an unreachable controller is a warning: the topology is written without its details" {
	# the address answers, no sshd listens on it
	ip -n "$(nsh_ns 1)" addr add "$(nsh_ctl_ip 1)/24" dev eth0
	printf 'ssh_retry_count: 2\n' > "$BATS_TEST_TMPDIR/vmtp.yaml"
	run -0 --separate-stderr provision -c "$BATS_TEST_TMPDIR/vmtp.yaml"
	[ "$(jq -r .type <<< "$output" | paste -sd,)" = run,host,flow ]
	[ "$(jq -c 'select(.type == "run") | [has("distro"), has("openstack_version"), has("cpu_info")]' <<< "$output")" = '[false,false,false]' ]
	[[ "$stderr" == *"vmtp-provision: warning: --controller-node: cannot connect to root@$(nsh_ctl_ip 1): Connection refused; the run record goes without the controller's details"* ]]
}

@test "a controller whose host key is unknown is not talked to: a warning naming the known-hosts file" {
	pkg neutron 21.1.2
	ctl_up
	grep -v "^$(nsh_ctl_ip 1) " "$NSH_DIR/known_hosts" > "$BATS_TEST_TMPDIR/kh"
	run -0 --separate-stderr vmtp-provision --host "root@$(nsh_ip 1)" \
	    --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$BATS_TEST_TMPDIR/kh" \
	    --controller-node "root@$(nsh_ctl_ip 1)"
	[ "$(jq -c 'select(.type == "run") | has("distro")' <<< "$output")" = false ]
	[[ "$stderr" == *"vmtp-provision: warning: --controller-node: host root@$(nsh_ctl_ip 1) (SHA256:"*") is not in $BATS_TEST_TMPDIR/kh; --hostkey-policy accept-new adds it; the run record goes without the controller's details"* ]]
}

@test "the controller's password comes from the environment and appears nowhere" {
	# the machine's own files this time: its os-release names the distro
	nsh_pw_up 1 vmtpctl 'S3cret-ctl!'
	cat "$NSH_DIR/known_hosts" "$NSH_DIR/h1/pw/known_hosts" > "$BATS_TEST_TMPDIR/kh"
	want=$(. /etc/os-release && echo "$NAME${VERSION_ID:+ $VERSION_ID}")
	VMTP_SSH_PASSWORD='S3cret-ctl!' run -0 --separate-stderr vmtp-provision \
	    --host "root@$(nsh_ip 1)" --ssh-key "$NSH_DIR/id_ed25519" \
	    --known-hosts "$BATS_TEST_TMPDIR/kh" \
	    --controller-node "vmtpctl@$(nsh_pw_ip 1)"
	[ "$(jq -r 'select(.type == "run") | .distro' <<< "$output")" = "$want" ]
	[[ "$output$stderr" != *S3cret* ]]
}

@test "--controller-node takes user@ip, once, and no password" {
	run -2 --separate-stderr vmtp-provision --host "root@$(nsh_ip 1)" --controller-node "$(nsh_ctl_ip 1)"
	[ "${stderr%%$'\n'*}" = "vmtp-provision: --controller-node: '$(nsh_ctl_ip 1)' is not user@ip" ]
	run -2 --separate-stderr vmtp-provision --host "root@$(nsh_ip 1)" --controller-node "root@$(nsh_ctl_ip 1):secret"
	[ "${stderr%%$'\n'*}" = "vmtp-provision: --controller-node: 'root@$(nsh_ctl_ip 1):secret' is not user@ip" ]
	run -2 --separate-stderr vmtp-provision --host "root@$(nsh_ip 1)" --controller-node root@a --controller-node root@b
	[ "${stderr%%$'\n'*}" = "vmtp-provision: --controller-node: given twice" ]
}

@test "the controller's details reach the result document and both chart formats" {
	pkg neutron 21.1.2
	ctl_up
	provision -q > "$BATS_TEST_TMPDIR/topo.ndjson"
	vmtp-run -q --ssh-key "$NSH_DIR/id_ed25519" --protocols I --ping-count 1 \
	    < "$BATS_TEST_TMPDIR/topo.ndjson" |
	    vmtp-collect -q --json "$BATS_TEST_TMPDIR/r.json" > "$BATS_TEST_TMPDIR/out.ndjson"
	[ "$(jq -c '{distro, openstack_version, cpu_info}' "$BATS_TEST_TMPDIR/r.json")" = '{"distro":"CentOS Linux 7","openstack_version":"Zed (neutron 21.1.2)","cpu_info":"4 * Intel(R) Xeon(R) CPU E5-2660 v2 @ 2.20GHz"}' ]
	run -0 vmtp-chart --format text "$BATS_TEST_TMPDIR/r.json"
	[[ "$output" =~ $'\n'"  OpenStack release  Zed (neutron 21.1.2)"$'\n' ]]
	[[ "$output" =~ $'\n'"  Distribution       CentOS Linux 7"$'\n' ]]
	[[ "$output" =~ $'\n'"  CPU                4 * Intel(R) Xeon(R) CPU E5-2660 v2 @ 2.20GHz"$'\n' ]]
	vmtp-chart -o "$BATS_TEST_TMPDIR/r.html" "$BATS_TEST_TMPDIR/out.ndjson"
	grep -qF '<th scope="row">OpenStack release</th><td>Zed (neutron 21.1.2)</td>' "$BATS_TEST_TMPDIR/r.html"
	grep -qF '<th scope="row">Distribution</th><td>CentOS Linux 7</td>' "$BATS_TEST_TMPDIR/r.html"
	grep -qF '<th scope="row">CPU</th><td>4 * Intel(R) Xeon(R) CPU E5-2660 v2 @ 2.20GHz</td>' "$BATS_TEST_TMPDIR/r.html"
}

@test "SIGTERM while the controller does not answer: interrupted, status 1, no record" {
	# an address on the hosts' link that nobody holds: the connection hangs
	vmtp-provision --host "root@$(nsh_ip 1)" --ssh-key "$NSH_DIR/id_ed25519" \
	    --known-hosts "$NSH_DIR/known_hosts" --controller-node "root@$NSH_NET.250" \
	    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	# once it is connecting to the controller (the hosts come first)
	for k in $(seq 1 600); do
		[ -n "$(ss -Htn state syn-sent dst "$NSH_NET.250")" ] && break
		sleep 0.05
	done
	[ -n "$(ss -Htn state syn-sent dst "$NSH_NET.250")" ]
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 1 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/err")" = "vmtp-provision: interrupted" ]
}
