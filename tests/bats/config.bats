#!/usr/bin/env bats
# config.bats - the configuration loader of SPEC §7 through cfg-dump, the
# test driver that prints what cfg_load() gives.

load helpers/common

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
}

@test "the built-in defaults hold every documented key" {
	run cfg-dump
	[ "$status" -eq 0 ]
	[ "$(jq -r '.ssh_vm_username, .tcp_tp_loop_count, (.udp_loss_rate_range|join(",")), .vmtp_db' <<< "$output" | paste -sd' ')" = "ubuntu 3 2,5 client_db" ]
	# the defaults file and the loader agree key for key
	[ "$(jq -r 'keys[]' <<< "$output" | sort)" = "$(sed -n 's/^\([a-z_0-9]*\):.*/\1/p' "$VMTP_ROOT/share/vmtp/vmtp.yaml" | sort)" ]
}

@test "a config file of the original tool loads as is" {
	run cfg-dump "$FIXTURES/config/original-vmtp.yaml"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.floating_ip, .internal_cidr, .ping_count]' <<< "$output")" = '[true,["192.168.1.0/24","192.168.2.0/24"],2]' ]
}

@test "precedence: -c FILE over ~/.vmtp.yaml over the defaults" {
	printf 'ping_count: 7\ntcp_tp_loop_count: 9\n' > "$HOME/.vmtp.yaml"
	printf 'ping_count: 4\n' > "$BATS_TEST_TMPDIR/c.yaml"
	run cfg-dump "$BATS_TEST_TMPDIR/c.yaml"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.ping_count, .tcp_tp_loop_count, .generic_retry_count]' <<< "$output")" = '[4,9,50]' ]
}

@test "an unknown key names the file, line and key" {
	printf 'ping_count: 4\n\nping_cuont: 5\n' > "$BATS_TEST_TMPDIR/c.yaml"
	run -65 --separate-stderr cfg-dump "$BATS_TEST_TMPDIR/c.yaml"
	[ "$stderr" = "cfg-dump: $BATS_TEST_TMPDIR/c.yaml:3: unknown key 'ping_cuont'" ]
}

@test "a value of the wrong type names the file, line and key" {
	printf 'udp_pkt_sizes:\n  - 128\n  - big\n' > "$BATS_TEST_TMPDIR/c.yaml"
	run -65 --separate-stderr cfg-dump "$BATS_TEST_TMPDIR/c.yaml"
	[ "$stderr" = "cfg-dump: $BATS_TEST_TMPDIR/c.yaml:2: 'udp_pkt_sizes' must be a list of whole numbers" ]
}

@test "a quoted number is a string, not a count" {
	printf "ping_count: '5'\n" > "$BATS_TEST_TMPDIR/c.yaml"
	run -65 --separate-stderr cfg-dump "$BATS_TEST_TMPDIR/c.yaml"
	[ "$stderr" = "cfg-dump: $BATS_TEST_TMPDIR/c.yaml:1: 'ping_count' must be a whole number" ]
}

@test "a bad ~/.vmtp.yaml is named too" {
	printf 'bogus: 1\n' > "$HOME/.vmtp.yaml"
	run -65 --separate-stderr cfg-dump
	[ "$stderr" = "cfg-dump: $HOME/.vmtp.yaml:1: unknown key 'bogus'" ]
}

@test "text that is not YAML names the line" {
	printf 'ping_count: 4\nflavor: {vcpus: 1\n' > "$BATS_TEST_TMPDIR/c.yaml"
	run -65 --separate-stderr cfg-dump "$BATS_TEST_TMPDIR/c.yaml"
	[[ "$stderr" == "cfg-dump: $BATS_TEST_TMPDIR/c.yaml:"[23]": not YAML: "* ]]
}

@test "a list at the top level is refused" {
	printf -- '- ping_count\n' > "$BATS_TEST_TMPDIR/c.yaml"
	run -65 --separate-stderr cfg-dump "$BATS_TEST_TMPDIR/c.yaml"
	[ "$stderr" = "cfg-dump: $BATS_TEST_TMPDIR/c.yaml:1: expected 'key: value' lines" ]
}

@test "an empty file and null values change nothing but unset keys" {
	: > "$BATS_TEST_TMPDIR/empty.yaml"
	run cfg-dump "$BATS_TEST_TMPDIR/empty.yaml"
	[ "$status" -eq 0 ]
	printf 'image_name:\n' > "$BATS_TEST_TMPDIR/c.yaml"
	run cfg-dump "$BATS_TEST_TMPDIR/c.yaml"
	[ "$(jq -c .image_name <<< "$output")" = null ]
}

@test "a missing config file is a runtime failure naming it" {
	run -1 --separate-stderr cfg-dump "$BATS_TEST_TMPDIR/none.yaml"
	[ "$stderr" = "cfg-dump: cannot open $BATS_TEST_TMPDIR/none.yaml: No such file or directory" ]
}

@test "every key of the original's default configuration loads, in its own types" {
	run --separate-stderr cfg-dump "$FIXTURES/config/original-all-keys.yaml"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# True, '' and empty values, quoted strings, lists and nested mappings
	[ "$(jq -c '[.floating_ip, .vm_image_url, .config_drive, .vmtp_db, .internal_subnet_name_v6, .fluentd, .flavor]' <<< "$output")" = \
		'[true,"",null,"client_db",["pns-internal-v6-subnet","pns-internal-v6-subnet2"],{"logging_tag":null,"ip":"127.0.0.1","port":24224},{"vcpus":1,"ram":2048,"disk":0}]' ]
}

@test "the older internal_subnet_name_ipv6 is accepted beside internal_subnet_name_v6" {
	printf "internal_subnet_name_ipv6: ['a', 'b']\n" > "$BATS_TEST_TMPDIR/c.yaml"
	run -0 cfg-dump "$BATS_TEST_TMPDIR/c.yaml"
	[ "$(jq -c .internal_subnet_name_ipv6 <<< "$output")" = '["a","b"]' ]
}

@test "fluentd must be a mapping" {
	printf 'fluentd: yes\n' > "$BATS_TEST_TMPDIR/c.yaml"
	run -65 --separate-stderr cfg-dump "$BATS_TEST_TMPDIR/c.yaml"
	[ "$stderr" = "cfg-dump: $BATS_TEST_TMPDIR/c.yaml:1: 'fluentd' must be a mapping" ]
}

@test "vmtp-provision --show-config prints the built-in defaults, comments and all" {
	run -0 --separate-stderr vmtp-provision --show-config
	[ -z "$stderr" ]
	[ "$output" = "$(cat "$VMTP_ROOT/share/vmtp/vmtp.yaml")" ]
	[[ "$output" == *"# Image booted for the test VMs"* ]]
}

@test "--show-config round-trips: its output given with -c is the default configuration" {
	vmtp-provision --show-config > "$BATS_TEST_TMPDIR/mine.yaml"
	run -0 cfg-dump
	defaults=$output
	run -0 --separate-stderr cfg-dump "$BATS_TEST_TMPDIR/mine.yaml"
	[ "$output" = "$defaults" ]
	jq -e 'has("image_name") and has("fluentd")' <<< "$output"
	# and vmtp-provision takes it as it is, with no warning (it stops here
	# for want of credentials)
	run -2 --separate-stderr env -u OS_CLOUD -u OS_AUTH_URL vmtp-provision -c "$BATS_TEST_TMPDIR/mine.yaml"
	[ "$stderr" = "vmtp-provision: OS_AUTH_URL is not set" ]
}
