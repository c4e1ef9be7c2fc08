#!/usr/bin/env bats
# config-programs.bats - a configuration file of the original VMTP in every
# program that reads one (SPEC §7): it loads unchanged, and each key it sets
# in vain is named once, by the program the key belongs to, so that a
# pipeline warns once per key.  The pipeline runs on one namespace host
# with a real sshd (helpers/nshosts): native mode, one ICMP flow.

load helpers/common
load helpers/nshosts

setup_file() {
	nshosts_up 1
}

teardown_file() {
	nshosts_down
}

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	E=$BATS_TEST_TMPDIR
}

# pipeline CONFIG [OPTION]: vmtp-provision | vmtp-run | vmtp-collect, each
# with -c CONFIG (and OPTION), their messages in $E/provision.err, run.err
# and collect.err, the records in $E/out; fails unless all three exit 0.
pipeline() {
	local cfg=$1
	shift
	vmtp-provision -c "$cfg" "$@" --host "root@$(nsh_ip 1)" \
		--ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$NSH_DIR/known_hosts" \
		2> "$E/provision.err" |
		vmtp-run -c "$cfg" "$@" --protocols I --ping-count 1 --icmp-sizes 64 \
			--ssh-key "$NSH_DIR/id_ed25519" --known-hosts "$NSH_DIR/known_hosts" \
			2> "$E/run.err" |
		vmtp-collect -c "$cfg" "$@" > "$E/out" 2> "$E/collect.err"
	local st=("${PIPESTATUS[@]}")
	[ "${st[*]}" = "0 0 0" ]
	# the flow was measured with the file's settings
	[ "$(jq -s '[.[] | select(.type=="sample" and .protocol=="ICMP" and .rx_packets==1)] | length' "$E/out")" -eq 1 ]
}

# warnings PROG: the warnings PROG wrote, one a line.
warnings() {
	grep 'warning: ' "$E/$1.err" || true
}

@test "a file with every key of the original's defaults loads in every program, with no warning" {
	pipeline "$FIXTURES/config/original-all-keys.yaml"
	[ -z "$(warnings provision)$(warnings run)$(warnings collect)" ]
}

@test "each key set in vain is named once in a pipeline, by the program it belongs to" {
	pipeline "$FIXTURES/config/original-unsupported-set.yaml"
	p=vmtp-provision
	[ "$(warnings provision)" = "\
$p: warning: config key fluentd ignored: vmtp does not send its logs to fluentd
$p: warning: config key os_dataplane_network ignored: vmtp does not look for the compute nodes' data-plane interfaces
$p: warning: config key reuse_existing_vm ignored: vmtp-provision always boots its own VMs" ]
	[ "$(warnings run)" = "vmtp-run: warning: config key ping_pass_threshold ignored: vmtp has no ping pass threshold (the original never used it)" ]
	[ -z "$(warnings collect)" ]
}

@test "reuse_existing_vm set gives one warning, from vmtp-provision alone" {
	printf "reuse_existing_vm: 'TestServer'\n" > "$E/c.yaml"
	pipeline "$E/c.yaml"
	[ "$(warnings provision)" = "vmtp-provision: warning: config key reuse_existing_vm ignored: vmtp-provision always boots its own VMs" ]
	[ -z "$(warnings run)$(warnings collect)" ]
}

@test "values that ask for nothing warn of nothing: empty, false, null and the defaults" {
	printf 'config_drive: false\nuser_data_file: ""\nipv6_mode:\nfloating_ip: true\nping_pass_threshold: 80\n' > "$E/c.yaml"
	pipeline "$E/c.yaml"
	[ -z "$(warnings provision)$(warnings run)$(warnings collect)" ]
}

@test "the same keys in ~/.vmtp.yaml are named too; -q silences them" {
	cp "$FIXTURES/config/original-unsupported-set.yaml" "$HOME/.vmtp.yaml"
	: > "$E/c.yaml"
	pipeline "$E/c.yaml"
	[ "$(warnings provision | wc -l)" -eq 3 ]
	[ "$(warnings run | wc -l)" -eq 1 ]
	pipeline "$E/c.yaml" -q
	[ -z "$(cat "$E/provision.err" "$E/run.err" "$E/collect.err")" ]
}
