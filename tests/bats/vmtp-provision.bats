#!/usr/bin/env bats
# vmtp-provision.bats - native mode (SPEC §4 host/flow records, §6): two
# namespace hosts with a real sshd each (helpers/nshosts).

load helpers/common
load helpers/nshosts

setup_file() {
	nshosts_up 2
	export T=$BATS_FILE_TMPDIR
}

teardown_file() {
	nshosts_down
}

teardown() {
	if [ -n "${AGENT_PID:-}" ]; then
		kill "$AGENT_PID" 2>/dev/null || true
	fi
}

fp() {
	ssh-keygen -lf "$NSH_DIR/h$1/hostkey.pub" -E sha256 | cut -d' ' -f2
}

@test "native hosts become run, host and flow records with the host keys seen" {
	run --separate-stderr nsh_provision
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<< "$output" | paste -sd,)" = run,host,host,flow,flow ]
	head -n 1 <<< "$output" | jq -e '.v == 1 and (.run|test("^vmtp-[0-9a-f]{8}$")) and (.date|test("Z$"))'
	[ "$(jq -r 'select(.type == "host") | .ssh.hostkey' <<< "$output" | paste -sd,)" = "$(fp 1),$(fp 2)" ]
	[ "$(jq -c 'select(.type == "host") | [.name, .role, .ip, .ssh.user]' <<< "$output" | paste -sd,)" = \
	    "[\"host1\",\"native\",\"$(nsh_ip 1)\",\"root\"],[\"host2\",\"native\",\"$(nsh_ip 2)\",\"root\"]" ]
	[ "$(jq -c 'select(.type == "flow") | [.id, .desc, .client, .server, .target]' <<< "$output" | paste -sd,)" = \
	    "[1,\"Native intra-host\",\"host1\",\"host1\",\"$(nsh_ip 1)\"],[2,\"Native inter-host\",\"host2\",\"host1\",\"$(nsh_ip 1)\"]" ]
	# every record carries the same run tag
	[ "$(jq -r .run <<< "$output" | sort -u | wc -l)" -eq 1 ]
}

@test "an external host is measured against the server both ways" {
	run --separate-stderr vmtp-provision --host "root@$(nsh_ip 1)" \
	    --external-host "root@$(nsh_ip 2)" --ssh-key "$NSH_DIR/id_ed25519" \
	    --known-hosts "$NSH_DIR/known_hosts"
	[ "$status" -eq 0 ]
	[ "$(jq -c 'select(.type == "host") | [.name, .role]' <<< "$output" | paste -sd,)" = '["host1","native"],["external","external"]' ]
	[ "$(jq -c 'select(.type == "flow") | [.id, .desc, .client, .bidirectional]' <<< "$output" | paste -sd,)" = \
	    '[1,"Native intra-host","host1",false],[2,"External-VM","external",true]' ]
}

@test "IFNAME picks the server address the clients connect to" {
	run --separate-stderr vmtp-provision --host "root@$(nsh_ip 1):lo" \
	    --host "root@$(nsh_ip 2)" --ssh-key "$NSH_DIR/id_ed25519" \
	    --known-hosts "$NSH_DIR/known_hosts" --inter-node-only --tag vmtp-0000beef
	[ "$status" -eq 0 ]
	# read on the host: its lo carries 127.0.0.1
	[ "$(jq -c 'select(.type == "flow") | [.id, .desc, .target]' <<< "$output")" = '[1,"Native inter-host","127.0.0.1"]' ]
	[ "$(jq -r .run <<< "$output" | sort -u)" = vmtp-0000beef ]
}

@test "an interface that does not exist is an error naming it" {
	run -1 --separate-stderr vmtp-provision --host "root@$(nsh_ip 1):nosuch0" \
	    --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$NSH_DIR/known_hosts"
	[ "$stderr" = "vmtp-provision: cannot read the address of nosuch0 on root@$(nsh_ip 1)" ]
	[ -z "$output" ]
}

@test "an unknown host is refused by default and added with accept-new" {
	: > "$T/kh"
	run -1 --separate-stderr vmtp-provision --host "root@$(nsh_ip 2)" \
	    --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$T/kh"
	[[ "$stderr" == *"host root@$(nsh_ip 2) ($(fp 2)) is not in $T/kh"* ]]
	run -0 --separate-stderr vmtp-provision --host "root@$(nsh_ip 2)" \
	    --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$T/kh" --hostkey-policy accept-new
	grep -q "^$(nsh_ip 2) ssh-ed25519 " "$T/kh"
	# and it is known from then on, strictly
	run -0 --separate-stderr vmtp-provision --host "root@$(nsh_ip 2)" \
	    --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$T/kh"
}

@test "accept-new appends the new host to known_hosts and leaves every line there as it was" {
	# a comment, another host, and last (no newline after it) a line that
	# libssh2 reads but, written back, cannot read again (found by
	# tests/fuzz/fuzz_known_hosts; corpus/known_hosts/unwritable-line.txt)
	printf '# hosts of the lab\n203.0.113.9 %s\n127.0.0.1,lot ssh-ed,lot  2VmtgcOO' \
	    "$(cut -d' ' -f1,2 "$NSH_DIR/h1/hostkey.pub")" > "$T/kh3"
	cp "$T/kh3" "$T/kh3.before"
	run -0 --separate-stderr vmtp-provision --host "root@$(nsh_ip 2)" \
	    --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$T/kh3" --hostkey-policy accept-new
	[ "$(head -n 3 "$T/kh3")" = "$(cat "$T/kh3.before")" ]
	[ "$(wc -l < "$T/kh3")" -eq 4 ]
	[ "$(tail -n 1 "$T/kh3")" = "$(nsh_ip 2) $(cut -d' ' -f1,2 "$NSH_DIR/h2/hostkey.pub")" ]
	# the file still reads: the host is known from then on, strictly
	run -0 --separate-stderr vmtp-provision --host "root@$(nsh_ip 2)" \
	    --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$T/kh3"
}

@test "a changed host key is refused, even with accept-new" {
	ssh-keygen -q -t ed25519 -N '' -f "$T/other"
	printf '%s %s\n' "$(nsh_ip 1)" "$(cut -d' ' -f1,2 "$T/other.pub")" > "$T/kh2"
	run -1 --separate-stderr vmtp-provision --host "root@$(nsh_ip 1)" \
	    --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$T/kh2" --hostkey-policy accept-new
	[[ "$stderr" == *"host key of root@$(nsh_ip 1) has changed ($(fp 1)), refused"* ]]
	[ -z "$output" ]
}

@test "without --ssh-key the key comes from ssh-agent" {
	eval "$(ssh-agent -s -a "$T/agent.sock")" > /dev/null
	AGENT_PID=$SSH_AGENT_PID
	ssh-add -q "$NSH_DIR/id_ed25519"
	mkdir -p "$T/home"
	HOME=$T/home run --separate-stderr vmtp-provision --host "root@$(nsh_ip 2)" \
	    --known-hosts "$NSH_DIR/known_hosts"
	[ "$status" -eq 0 ]
	jq -se 'map(select(.type == "host")) | length == 1 and (.[0].ssh | has("host") and (has("key") | not))' <<< "$output"
	kill "$AGENT_PID"
	AGENT_PID=
	HOME=$T/home run -1 --separate-stderr vmtp-provision --host "root@$(nsh_ip 2)" \
	    --known-hosts "$NSH_DIR/known_hosts"
	[[ "$stderr" == *"cannot log in to root@$(nsh_ip 2): no key or password was accepted"* ]]
}

@test "a key that is not authorized cannot log in" {
	ssh-keygen -q -t ed25519 -N '' -f "$T/stranger"
	run -1 --separate-stderr vmtp-provision --host "root@$(nsh_ip 1)" \
	    --ssh-key "$T/stranger" --known-hosts "$NSH_DIR/known_hosts"
	[[ "$stderr" == "vmtp-provision: cannot log in to root@$(nsh_ip 1) with key $T/stranger"* ]]
}

@test "the SSH password is read from a file and never shows in records or messages" {
	printf 's3cr3t-pw\n' > "$T/pw"
	run --separate-stderr vmtp-provision --host "root@$(nsh_ip 1)" \
	    --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$NSH_DIR/known_hosts" \
	    --ssh-password-file "$T/pw"
	[ "$status" -eq 0 ]
	[[ "$output$stderr" != *s3cr3t* ]]
	run -1 --separate-stderr vmtp-provision --host "root@$(nsh_ip 1)" \
	    --known-hosts "$NSH_DIR/known_hosts" --ssh-password-file "$T/nope"
	[[ "$stderr" == "vmtp-provision: cannot open $T/nope: "* ]]
	# an empty first line is no password, not an empty one
	printf '\nsecond-line\n' > "$T/blank"
	run -1 --separate-stderr vmtp-provision --host "root@$(nsh_ip 1)" \
	    --known-hosts "$NSH_DIR/known_hosts" --ssh-password-file "$T/blank"
	[ "$stderr" = "vmtp-provision: $T/blank holds no password" ]
	[ -z "$output" ]
}

@test "a password for a server that takes none says what the server offers" {
	printf 'whatever-pw\n' > "$T/pw"
	HOME=$T/home run -1 --separate-stderr env -u SSH_AUTH_SOCK vmtp-provision \
	    --host "root@$(nsh_ip 1)" --known-hosts "$NSH_DIR/known_hosts" --ssh-password-file "$T/pw"
	[ "$stderr" = "vmtp-provision: cannot log in to root@$(nsh_ip 1): no key was accepted and the server takes no password (it offers publickey)" ]
	[ -z "$output" ]
}

@test "usage errors name the option and exit 2" {
	# without --host it is cloud mode, which needs credentials
	run -2 --separate-stderr env -u OS_AUTH_URL -u OS_CLOUD vmtp-provision
	[ "$stderr" = "vmtp-provision: OS_AUTH_URL is not set" ]
	run -2 --separate-stderr vmtp-provision --host 10.0.0.1
	[[ "$stderr" == "vmtp-provision: --host: '10.0.0.1' is not user@ip[:ifname]"* ]]
	run -2 --separate-stderr vmtp-provision --host a@b --hostkey-policy yes
	run -2 --separate-stderr vmtp-provision --host a@b --tag x
	run -0 vmtp-provision --help
	[[ "$output" == "usage: vmtp-provision "* ]]
	run -0 vmtp-provision --version
	[ "$output" = "vmtp-provision 0.1.0" ]
}

# cloud_refused ARGS: vmtp-provision in cloud mode without credentials and
# with an empty ~/.vmtp.yaml world; a setting refused before credentials
# are looked at says so, alone, with status 2.
cloud_refused() {
	run -2 --separate-stderr env -u OS_AUTH_URL -u OS_CLOUD HOME="$BATS_TEST_TMPDIR" \
		vmtp-provision "$@"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "--ipv6-mode takes slaac, dhcpv6-stateful or dhcpv6-stateless; a configured one is named by file and line" {
	# a bad option's value: its line, then the synopsis
	run -2 --separate-stderr vmtp-provision --ipv6-mode slac
	[ "${stderr_lines[1]}" = "usage: vmtp-provision [-hqv] [-c config] [-r openrc] [--os-cloud name]" ]
	[ "${stderr_lines[0]}" = "vmtp-provision: --ipv6-mode: 'slac' is not one of slaac, dhcpv6-stateful, dhcpv6-stateless" ]
	printf "ping_count: 2\nipv6_mode: 'SLAAC'\n" > "$BATS_TEST_TMPDIR/c.yaml"
	cloud_refused -c "$BATS_TEST_TMPDIR/c.yaml"
	[ "$stderr" = "vmtp-provision: $BATS_TEST_TMPDIR/c.yaml:2: ipv6_mode: 'SLAAC' is not one of slaac, dhcpv6-stateful, dhcpv6-stateless" ]
	# the same in ~/.vmtp.yaml, when the -c file does not set it
	cp "$BATS_TEST_TMPDIR/c.yaml" "$BATS_TEST_TMPDIR/.vmtp.yaml"
	printf "ping_count: 2\n" > "$BATS_TEST_TMPDIR/c.yaml"
	cloud_refused -c "$BATS_TEST_TMPDIR/c.yaml"
	[ "$stderr" = "vmtp-provision: $BATS_TEST_TMPDIR/.vmtp.yaml:2: ipv6_mode: 'SLAAC' is not one of slaac, dhcpv6-stateful, dhcpv6-stateless" ]
	# every mode passes on, to the credentials
	for m in slaac dhcpv6-stateful dhcpv6-stateless; do
		cloud_refused --ipv6-mode $m
		[ "$stderr" = "vmtp-provision: OS_AUTH_URL is not set" ]
	done
}

@test "--no-dhcp needs a config drive, and goes without an IPv6 mode" {
	cloud_refused --no-dhcp
	[ "$stderr" = "vmtp-provision: --no-dhcp: the VMs get no address without --config-drive" ]
	cloud_refused --no-dhcp --config-drive --ipv6-mode slaac
	[ "$stderr" = "vmtp-provision: --no-dhcp: Neutron takes no IPv6 mode (--ipv6-mode) on a subnet without DHCP" ]
	cloud_refused --no-dhcp --config-drive
	[ "$stderr" = "vmtp-provision: OS_AUTH_URL is not set" ]
	# config_drive: true is --config-drive
	printf 'config_drive: true\n' > "$BATS_TEST_TMPDIR/c.yaml"
	cloud_refused --no-dhcp -c "$BATS_TEST_TMPDIR/c.yaml"
	[ "$stderr" = "vmtp-provision: OS_AUTH_URL is not set" ]
}

@test "user data over Nova's limit once base64-encoded, or unreadable, is named with status 2" {
	# 49149 bytes are 65532 in base64, within Nova's 65535; one more is over
	head -c 49149 /dev/zero > "$BATS_TEST_TMPDIR/fits"
	cloud_refused --user-data "$BATS_TEST_TMPDIR/fits"
	[ "$stderr" = "vmtp-provision: OS_AUTH_URL is not set" ]
	head -c 49150 /dev/zero > "$BATS_TEST_TMPDIR/big"
	cloud_refused --user-data "$BATS_TEST_TMPDIR/big"
	[ "$stderr" = "vmtp-provision: --user-data: $BATS_TEST_TMPDIR/big is 49150 bytes, 65536 in base64: over Nova's limit of 65535" ]
	cloud_refused --user-data "$BATS_TEST_TMPDIR/none"
	[ "$stderr" = "vmtp-provision: --user-data: cannot open $BATS_TEST_TMPDIR/none: No such file or directory" ]
	cloud_refused --user-data "$BATS_TEST_TMPDIR"
	[ "$stderr" = "vmtp-provision: --user-data: cannot read $BATS_TEST_TMPDIR: Is a directory" ]
	printf "user_data_file: '%s'\n" "$BATS_TEST_TMPDIR/big" > "$BATS_TEST_TMPDIR/c.yaml"
	cloud_refused -c "$BATS_TEST_TMPDIR/c.yaml"
	[[ "$stderr" == "vmtp-provision: user_data_file: $BATS_TEST_TMPDIR/big is 49150 bytes"* ]]
}

@test "native mode does not check cloud mode's settings" {
	printf "user_data_file: '/nonexistent'\nipv6_mode: 'bad'\n" > "$BATS_TEST_TMPDIR/c.yaml"
	run -0 --separate-stderr vmtp-provision -c "$BATS_TEST_TMPDIR/c.yaml" --no-dhcp \
		--host "root@$(nsh_ip 1)" --ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$NSH_DIR/known_hosts"
	[ "$(jq -r .type <<< "$output" | paste -sd,)" = run,host,flow ]
}

@test "--help's synopsis is the man page's" {
	run -0 vmtp-provision --help
	help="$(sed -n '/^usage/,/^$/p' <<< "$output" | sed 's/^usage: //' | tr -s ' \n' ' ' | sed 's/ $//')"
	man="$(groff -mdoc -Tascii -P-cbou "$VMTP_ROOT/man/vmtp-provision.1" 2>/dev/null |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//; s/ | /|/g')"
	[ "$help" = "$man" ]
	[[ "$help" == *"[--controller-node user@ip]"*"[--controller-node user@ip]"* ]]
}
