#!/usr/bin/env bats
# bad-input.bats - every program against bad input, as a table (SPEC §4,
# §6, STYLE: Command line): a wrong option or value is status 2, bad
# records or a bad configuration 65, a file that cannot be read 1; always
# one line naming the culprit (the option, FILE:LINE, the field), the
# records before it passed on, no output file written half.  No cloud and
# no host is ever reached: every row fails before any network access.
#
# A row of a table (one heredoc per class, one @test per class):
#
#   program | args | stdin | status | message | records out
#
# args are shell words (eval'd: "$D" is the test's folder, "$FX" the
# fixtures'); stdin names a fixture of $FX ("-" for /dev/null); message is
# an extended regex the first line of stderr matches whole; records out is
# how many lines stdout holds ("-": not checked, "=" the fixture's lines
# before its last).  A status-2 message is followed by the synopsis only;
# any other is the only line.

load helpers/common

H="--host root@127.0.0.1"

setup_file() {
	FX=$BATS_FILE_TMPDIR/fx
	mkdir -p "$FX"
	local A=vmtp-0000aaaa B=vmtp-0000bbbb
	run_rec() { printf '{"type":"run","run":"%s","v":1}\n' "$1"; }
	host_rec() {
		printf '{"type":"host","run":"%s","name":"%s","role":"native","ssh":{"host":"127.0.0.1","port":1,"user":"root"},"ip":"%s"}\n' "$1" "$2" "$3"
	}
	flow_rec() {
		printf '{"type":"flow","run":"%s","id":%s,"desc":"Native intra-node","client":"%s","server":"%s","target":"%s"}\n' "$1" "$2" "$3" "$4" "$5"
	}
	sample_rec() {
		printf '{"type":"sample","run":"%s","flow":%s,"protocol":"TCP","tool":"nuttcp-8.2.2","pkt_size":65536,"throughput_kbps":%s,"t_start":1,"t_end":2}\n' "$1" "$2" "$3"
	}
	{
		run_rec $A
		host_rec $A a 127.0.0.1
		host_rec $A b 127.0.0.2
		flow_rec $A 1 a b 127.0.0.2
	} >"$FX/topo"
	{
		cat "$FX/topo"
		sample_rec $A 1 1000
	} >"$FX/samples"
	# the bad lines, each after a good topology (records) or samples
	for base in topo samples; do
		{ cat "$FX/$base"; echo '[1,2]'; } >"$FX/$base-array"
		{ cat "$FX/$base"; echo '42'; } >"$FX/$base-scalar"
		{ cat "$FX/$base"; echo '"type"'; } >"$FX/$base-string"
		{ cat "$FX/$base"; printf '{"type":"sample","run":"%s","fl' $A; } >"$FX/$base-cut"
		{ cat "$FX/$base"; printf '{"type":"note","run":"%s","s":"\xc3\x28"}\n' $A; } >"$FX/$base-utf8"
		{
			cat "$FX/$base"
			printf '{"type":"blob","run":"%s","d":"' $A
			head -c 10485760 /dev/zero | tr '\0' x
		} >"$FX/$base-bigcut"
		{ cat "$FX/$base"; printf '{"type":"x"}\n{"type":"note"'; } >"$FX/$base-nonl"
	done
	{
		cat "$FX/topo"
		printf '{"type":"blob","run":"%s","d":"' $A
		head -c 10485760 /dev/zero | tr '\0' x
		printf '"}\n'
		run_rec $A
	} >"$FX/big"
	: >"$FX/empty"
	printf '\n\n  \n' >"$FX/blank"
	# flows and samples that are wrong
	{ cat "$FX/topo"; flow_rec $A 2 zz b 127.0.0.2; } >"$FX/flow-unknown-host"
	{ cat "$FX/topo"; flow_rec $A 1 b a 127.0.0.1; } >"$FX/flow-dup"
	{ cat "$FX/topo"; printf '{"type":"flow","run":"%s","id":"2","client":"a","server":"b","target":"127.0.0.2"}\n' $A; } >"$FX/flow-id-string"
	{ cat "$FX/topo"; printf '{"type":"flow","run":"%s","id":2,"client":"a","server":"b"}\n' $A; } >"$FX/flow-no-target"
	{ cat "$FX/topo"; printf '{"type":"host","run":"%s","role":"native","ssh":{"host":"127.0.0.3"}}\n' $A; } >"$FX/host-no-name"
	{ cat "$FX/samples"; printf '{"type":"sample","run":"%s","flow":"1","protocol":"TCP"}\n' $A; } >"$FX/sample-flow-string"
	{ cat "$FX/samples"; printf '{"type":"sample","run":"%s","flow":1,"protocol":7}\n' $A; } >"$FX/sample-protocol-number"
	{ cat "$FX/samples"; printf '{"type":"sample","run":"%s","protocol":"TCP"}\n' $A; } >"$FX/sample-no-flow"
	{ cat "$FX/samples"; printf '{"type":"sample","run":"%s","flow":1,"protocol":"TCP","throughput_kbps":"fast"}\n' $A; } >"$FX/sample-kbps-word"
	{ cat "$FX/samples"; printf '{"type":"sample","run":"%s","flow":1,"protocol":"UDP","loss_rate":null}\n' $A; } >"$FX/sample-loss-null"
	{ cat "$FX/samples"; printf '{"type":"sample","run":"%s","flow":1,"protocol":"TCP","t_start":"1","t_end":2}\n' $A; } >"$FX/sample-start-string"
	{ cat "$FX/samples"; printf '{"type":"sample","run":"%s","flow":1,"protocol":"TCP","intervals":[1,"x"]}\n' $A; } >"$FX/sample-intervals-word"
	{ cat "$FX/samples"; printf '{"type":"sample","run":"%s","flow":1,"protocol":"ICMP","error":404}\n' $A; } >"$FX/sample-error-number"
	{ cat "$FX/samples"; printf '{"run":"%s","flow":1}\n' $A; } >"$FX/no-type"
	{ cat "$FX/samples"; printf '{"type":"resource","run":"%s","kind":"server"}\n' $A; } >"$FX/resource-no-id"
	{ cat "$FX/samples"; printf '{"type":"resource","run":"%s","kind":7,"id":"x"}\n' $A; } >"$FX/resource-kind-number"
	# two runs interleaved: the topology of B inside that of A
	{
		run_rec $A
		host_rec $A a 10.0.0.1
		run_rec $B
		host_rec $B a 10.1.0.1
		host_rec $A b 10.0.0.2
		host_rec $B b 10.1.0.2
		flow_rec $A 1 a b 10.0.0.2
		flow_rec $B 1 a b 10.1.0.2
	} >"$FX/two-topo"
	{
		cat "$FX/two-topo"
		sample_rec $B 1 222
		sample_rec $A 1 111
	} >"$FX/two-samples"
	# files that are not what they should be
	printf 'ping_count: [1,\n' >"$FX/bad.yaml"
	printf 'ping_count: "x"\n' >"$FX/typed.yaml"
	printf 'no_such_key: 1\n' >"$FX/unknown.yaml"
	printf 'ping_count: 2\n\xff: 1\n' >"$FX/utf8.yaml"
	: >"$FX/empty.yaml"
	printf '[1, 2]\n' >"$FX/array.yaml"
	printf 'x\n' >"$FX/file"
	printf '[{"flows":[]}]x' >"$FX/doc-cut"
	printf '[1,2]\n' >"$FX/doc-array"
	printf '"doc"\n' >"$FX/doc-scalar"
	printf '{"flows":3}\n' >"$FX/doc-flows-number"
	mkdir -p "$FX/dir"
	export FX
}

setup() {
	D=$BATS_TEST_TMPDIR
	export XDG_STATE_HOME=$D/state VMTP_LIBEXEC=$VMTP_BIN
	# a cloud no row may reach: a row that gets that far fails at once
	export OS_AUTH_URL=http://127.0.0.1:9/v3 OS_USERNAME=u OS_PASSWORD=p \
		OS_PROJECT_NAME=p OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
}

# check_rows: runs each row of the table on stdin, prints what is wrong
# with any of them (naming the row) and fails if one is.
check_rows() {
	local prog args input status regex want bad="" row n
	local -a words
	while IFS='|' read -r prog args input status regex want; do
		prog=$(xargs <<<"$prog")
		[ -n "$prog" ] && [ "${prog:0:1}" != "#" ] || continue
		input=$(xargs <<<"$input")
		status=$(xargs <<<"$status")
		regex=$(sed -E 's/^ +//; s/ +$//' <<<"$regex")
		regex=${regex//\$FX/$FX}
		regex=${regex//\$D/$D}
		want=$(xargs <<<"${want:--}")
		row="$prog |$args| $input"
		eval "words=($args)"
		# bin/vmtp of the tree, over the programs under test (an ASan
		# build's folder has no vmtp)
		[ "$prog" = vmtp ] && prog=$VMTP_ROOT/bin/vmtp
		rm -rf "$D/out.json" "$D/out.html" "$XDG_STATE_HOME"
		n=0
		if [ "$input" = - ]; then
			timeout 10 "$prog" "${words[@]}" </dev/null >"$D/stdout" 2>"$D/stderr" || n=$?
		else
			timeout 10 "$prog" "${words[@]}" <"$FX/$input" >"$D/stdout" 2>"$D/stderr" || n=$?
		fi
		if [ "$n" != "$status" ]; then
			bad+="$row: status $n, not $status: $(head -c 300 "$D/stderr")"$'\n'
			continue
		fi
		if [ "$status" = 0 ]; then
			[ ! -s "$D/stderr" ] || bad+="$row: stderr: $(head -c 300 "$D/stderr")"$'\n'
		elif ! head -n 1 "$D/stderr" | grep -qxE -- "$regex"; then
			bad+="$row: message '$(head -n 1 "$D/stderr")' !~ /$regex/"$'\n'
		elif [ "$status" = 2 ]; then
			tail -n +2 "$D/stderr" | grep -qvE '^(usage: | )' &&
				bad+="$row: more than one message: $(tail -n +2 "$D/stderr" | grep -vE '^(usage: | )' | head -n 1)"$'\n'
		elif [ "$(wc -l <"$D/stderr")" -ne 1 ]; then
			bad+="$row: more than one line: $(head -c 300 "$D/stderr")"$'\n'
		fi
		# records before the bad one are passed on, as they were
		if [ "$want" = "=" ]; then
			head -n -1 "$FX/$input" | cmp -s - "$D/stdout" ||
				bad+="$row: stdout is not the input's lines before the bad one"$'\n'
		elif [ "$want" != - ] && [ "$(wc -l <"$D/stdout")" -ne "$want" ]; then
			bad+="$row: $(wc -l <"$D/stdout") lines on stdout, not $want"$'\n'
		fi
		# nothing written half: the document is whole or absent, a
		# report absent, a journal whole lines, no run folder left
		if [ -e "$D/out.json" ] && ! jq -e . "$D/out.json" >/dev/null 2>&1; then
			bad+="$row: out.json written half"$'\n'
		fi
		if [ "$status" != 0 ] && [ -e "$D/out.html" ]; then
			bad+="$row: out.html written"$'\n'
		fi
		if [ "$status" != 0 ] && [ -e "$XDG_STATE_HOME/vmtp/runs" ]; then
			bad+="$row: a run folder was made"$'\n'
		fi
		for j in "$XDG_STATE_HOME"/vmtp/*.ndjson; do
			[ -e "$j" ] || continue
			[ -z "$(tail -c 1 "$j")" ] && jq -e . "$j" >/dev/null 2>&1 ||
				bad+="$row: journal $j written half"$'\n'
		done
	done
	printf '%s' "$bad" >&2
	[ -z "$bad" ]
}

@test "unknown option: named, status 2" {
	check_rows <<'EOF'
vmtp-provision | --no-such-option          | - | 2 | vmtp-provision: unknown option '--no-such-option'
vmtp-provision | -Z                        | - | 2 | vmtp-provision: unknown option '-Z'
vmtp-run       | --udpbuff 128             | - | 2 | vmtp-run: unknown option '--udpbuff'
vmtp-run       | -x                        | - | 2 | vmtp-run: unknown option '-x'
vmtp-collect   | --jsn f                   | - | 2 | vmtp-collect: unknown option '--jsn'
vmtp-chart     | --outptu f                | - | 2 | vmtp-chart: unknown option '--outptu'
vmtp-cleanup   | --all --bogus             | - | 2 | vmtp-cleanup: unknown option '--bogus'
vmtp           | $H --bogus                | - | 2 | vmtp: unknown option '--bogus'
vmtp           | $H -x                     | - | 2 | vmtp: unknown option '-x'
vmtp           | $H extra                  | - | 2 | vmtp: unexpected argument 'extra'
EOF
}

@test "missing argument: the option named, status 2" {
	check_rows <<'EOF'
vmtp-provision | $H --tag                  | - | 2 | vmtp-provision: option '--tag' needs a value
vmtp-provision | -c                        | - | 2 | vmtp-provision: option '-c' needs a value
vmtp-run       | -t                        | - | 2 | vmtp-run: option '-t' needs a value
vmtp-run       | --udpbuf                  | - | 2 | vmtp-run: option '--udpbuf' needs a value
vmtp-collect   | --json                    | - | 2 | vmtp-collect: option '--json' needs a value
vmtp-collect   | -m                        | - | 2 | vmtp-collect: option '-m' needs a value
vmtp-chart     | -o                        | - | 2 | vmtp-chart: option '-o' needs a value
vmtp-cleanup   | --tag                     | - | 2 | vmtp-cleanup: option '--tag' needs a value
vmtp-cleanup   | --all --older-than        | - | 2 | vmtp-cleanup: option '--older-than' needs a value
vmtp           | $H -t                     | - | 2 | vmtp: option '-t' needs a value
vmtp           | $H --json                 | - | 2 | vmtp: option '--json' needs a value
vmtp-run       | --stop-on-error=yes       | - | 2 | vmtp-run: option '--stop-on-error' takes no value
vmtp           | $H --keep=yes             | - | 2 | vmtp: option '--keep' takes no value
EOF
}

@test "numbers: negative, zero, huge, 1e400 and not numbers are refused naming the option" {
	check_rows <<'EOF'
vmtp-run       | -t -1                     | - | 2 | vmtp-run: -t: -1 is out of range \(1 to 86400\)
vmtp-run       | -t 0                      | - | 2 | vmtp-run: -t: 0 is out of range \(1 to 86400\)
vmtp-run       | -t 18446744073709551616   | - | 2 | vmtp-run: -t: '18446744073709551616' is not a whole number
vmtp-run       | -t 1e400                  | - | 2 | vmtp-run: -t: '1e400' is not a whole number
vmtp-run       | -t ten                    | - | 2 | vmtp-run: -t: 'ten' is not a whole number
vmtp-run       | -t ''                     | - | 2 | vmtp-run: -t: '' is not a whole number
vmtp-run       | -t ' 5'                   | - | 2 | vmtp-run: -t: ' 5' is not a whole number
vmtp-run       | -t 5.5                    | - | 2 | vmtp-run: -t: '5.5' is not a whole number
vmtp-run       | --tcp-loops 0             | - | 2 | vmtp-run: --tcp-loops: 0 is out of range \(1 to 1000\)
vmtp-run       | --tcp-loops -3            | - | 2 | vmtp-run: --tcp-loops: -3 is out of range \(1 to 1000\)
vmtp-run       | --ping-count 0            | - | 2 | vmtp-run: --ping-count: 0 is out of range \(1 to 10000\)
vmtp-run       | --ping-count 18446744073709551616 | - | 2 | vmtp-run: --ping-count: '18446744073709551616' is not a whole number
vmtp-run       | --udp-loss-range -1,2     | - | 2 | vmtp-run: --udp-loss-range: -1 is out of range \(0 to 100\)
vmtp-run       | --udp-loss-range 1,1e400  | - | 2 | vmtp-run: --udp-loss-range: '1e400' is not a number
vmtp-run       | --udp-loss-range 5,2      | - | 2 | vmtp-run: --udp-loss-range: .*
vmtp-run       | --udp-loss-range 1        | - | 2 | vmtp-run: --udp-loss-range: '1' is not min,max
vmtp-collect   | --cpu-interval 0          | - | 2 | vmtp-collect: --cpu-interval: 0 is out of range \(0.1 to 3600\)
vmtp-collect   | --cpu-interval -1         | - | 2 | vmtp-collect: --cpu-interval: -1 is out of range \(0.1 to 3600\)
vmtp-collect   | --cpu-interval 1e400      | - | 2 | vmtp-collect: --cpu-interval: '1e400' is not a number
vmtp-collect   | --cpu-interval nan        | - | 2 | vmtp-collect: --cpu-interval: 'nan' is not a number
vmtp-collect   | --cpu-interval 18446744073709551616 | - | 2 | vmtp-collect: --cpu-interval: 1.84467e\+19 is out of range \(0.1 to 3600\)
vmtp-collect   | -m host:0                 | - | 2 | vmtp-collect: -m: 0 is out of range \(1 to 65535\)
vmtp-collect   | -m host:99999             | - | 2 | vmtp-collect: -m: 99999 is out of range \(1 to 65535\)
vmtp-collect   | -m host:-1                | - | 2 | vmtp-collect: -m: -1 is out of range \(1 to 65535\)
vmtp-collect   | -m host:x                 | - | 2 | vmtp-collect: -m: 'x' is not a whole number
vmtp-collect   | --mongod-server host:99999 | - | 2 | vmtp-collect: --mongod-server: 99999 is out of range \(1 to 65535\)
vmtp-collect   | --mongod-server host:x    | - | 2 | vmtp-collect: --mongod-server: 'x' is not a whole number
vmtp-collect   | --sla 'tcp_gbps>=x'       | - | 2 | vmtp-collect: --sla: 'tcp_gbps>=x': the limit is not a number
vmtp-collect   | --sla 'tcp_gbps>=1e400'   | - | 2 | vmtp-collect: --sla: 'tcp_gbps>=1e400': the limit is not a number
vmtp-cleanup   | --all --older-than -1     | - | 2 | vmtp-cleanup: --older-than: '-1' is not a duration \(90, 30m, 2h, 7d\)
vmtp-cleanup   | --all --older-than 99999999999999999999d | - | 2 | vmtp-cleanup: --older-than: '99999999999999999999d' is not a duration \(90, 30m, 2h, 7d\)
vmtp-cleanup   | --all --older-than 1e400  | - | 2 | vmtp-cleanup: --older-than: '1e400' is not a duration \(90, 30m, 2h, 7d\)
vmtp           | $H -t 0                   | - | 2 | vmtp-run: -t: 0 is out of range \(1 to 86400\)
vmtp           | $H -t 1e400               | - | 2 | vmtp-run: -t: '1e400' is not a whole number
vmtp           | $H -m host:99999          | - | 2 | vmtp-collect: -m: 99999 is out of range \(1 to 65535\)
vmtp           | $H --mongod-server h:0    | - | 2 | vmtp-collect: --mongod-server: 0 is out of range \(1 to 65535\)
EOF
}

@test "bad suffixes: the rate and the duration name their option" {
	check_rows <<'EOF'
vmtp-run       | --bandwidth 5X            | - | 2 | vmtp-run: --bandwidth: '5X' is not a number
vmtp-run       | --bandwidth 5MM           | - | 2 | vmtp-run: --bandwidth: '5MM' is not a number
vmtp-run       | --bandwidth M             | - | 2 | vmtp-run: --bandwidth: .*
vmtp-run       | --bandwidth -5M           | - | 2 | vmtp-run: --bandwidth: .*
vmtp-run       | --bandwidth 0             | - | 2 | vmtp-run: --bandwidth: .*
vmtp-run       | --bandwidth 1e400M        | - | 2 | vmtp-run: --bandwidth: '1e400M' is not a number
vmtp-run       | --bandwidth 0.5K          | - | 2 | vmtp-run: --bandwidth: '0.5K' is below 1K
vmtp-cleanup   | --all --older-than 5X     | - | 2 | vmtp-cleanup: --older-than: '5X' is not a duration \(90, 30m, 2h, 7d\)
vmtp-cleanup   | --all --older-than 5mm    | - | 2 | vmtp-cleanup: --older-than: '5mm' is not a duration \(90, 30m, 2h, 7d\)
vmtp-cleanup   | --all --older-than ''     | - | 2 | vmtp-cleanup: --older-than: '' is not a duration \(90, 30m, 2h, 7d\)
vmtp           | $H --bandwidth 5X         | - | 2 | vmtp-run: --bandwidth: '5X' is not a number
EOF
}

@test "bad lists: empty items, a trailing comma, an empty list" {
	check_rows <<'EOF'
vmtp-run       | --udpbuf 128,,256         | - | 2 | vmtp-run: --udpbuf: empty item in '128,,256'
vmtp-run       | --udpbuf 128,256,         | - | 2 | vmtp-run: --udpbuf: empty item in '128,256,'
vmtp-run       | --udpbuf ,128             | - | 2 | vmtp-run: --udpbuf: empty item in ',128'
vmtp-run       | --udpbuf ''               | - | 2 | vmtp-run: --udpbuf: empty list
vmtp-run       | --udpbuf 128,x            | - | 2 | vmtp-run: --udpbuf: 'x' is not a whole number
vmtp-run       | --udpbuf 8                | - | 2 | vmtp-run: --udpbuf: 8 is out of range \(16 to 65507\)
vmtp-run       | --tcpbuf 65536,,8192      | - | 2 | vmtp-run: --tcpbuf: empty item in '65536,,8192'
vmtp-run       | --tcpbuf 65536,           | - | 2 | vmtp-run: --tcpbuf: empty item in '65536,'
vmtp-run       | --tcpbuf ,                | - | 2 | vmtp-run: --tcpbuf: empty item in ','
vmtp-run       | --icmp-sizes 64,,1500     | - | 2 | vmtp-run: --icmp-sizes: empty item in '64,,1500'
vmtp-run       | --icmp-sizes 64,          | - | 2 | vmtp-run: --icmp-sizes: empty item in '64,'
vmtp-run       | --icmp-sizes -1           | - | 2 | vmtp-run: --icmp-sizes: -1 is out of range \(0 to 65507\)
vmtp-run       | --flows 1,,2              | - | 2 | vmtp-run: --flows: empty item in '1,,2'
vmtp-run       | --flows 0                 | - | 2 | vmtp-run: --flows: 0 is out of range \(1 to 1000000\)
vmtp-run       | --flows ''                | - | 2 | vmtp-run: --flows: empty list
vmtp-run       | --udp-loss-range ,        | - | 2 | vmtp-run: --udp-loss-range: '' is not a number
vmtp           | $H --udpbuf 128,,256      | - | 2 | vmtp-run: --udpbuf: empty item in '128,,256'
vmtp           | $H --icmp_pkt_sizes 64,   | - | 2 | vmtp-run: --icmp-sizes: empty item in '64,'
vmtp           | $H --tcpbuf ''            | - | 2 | vmtp-run: --tcpbuf: empty list
EOF
}

@test "bad protocol letters and words: the accepted ones named" {
	check_rows <<'EOF'
vmtp-run       | --protocols TX            | - | 2 | vmtp-run: --protocols: 'TX' is not made of T, U, I and M
vmtp-run       | --protocols ''            | - | 2 | vmtp-run: --protocols: empty
vmtp-run       | --protocols 'T U'         | - | 2 | vmtp-run: --protocols: 'T U' is not made of T, U, I and M
vmtp-run       | --tp-tool iperf           | - | 2 | vmtp-run: --tp-tool: 'iperf' is not one of nuttcp, iperf3
vmtp-run       | --hostkey-policy yes      | - | 2 | vmtp-run: --hostkey-policy: 'yes' is not one of strict, accept-new
vmtp-run       | --multicast-addr 10.1.1.1 | - | 2 | vmtp-run: --multicast-addr: '10.1.1.1' is not an IPv4 multicast address
vmtp-run       | --multicast-addr 239.1.1  | - | 2 | vmtp-run: --multicast-addr: '239.1.1' is not an IPv4 multicast address
vmtp-provision | --vnic-type x             | - | 2 | vmtp-provision: --vnic-type: 'x' is not one of normal, direct, macvtap
vmtp-provision | --ipv6-mode x             | - | 2 | vmtp-provision: --ipv6-mode: 'x' is not one of slaac, dhcpv6-stateful, dhcpv6-stateless
vmtp-provision | --tag vmtp-0000ABCG      | - | 2 | vmtp-provision: --tag: 'vmtp-0000ABCG' is not vmtp- and 8 hex digits
vmtp-provision | --host root@             | - | 2 | vmtp-provision: --host: 'root@' is not user@ip\[:ifname\]
vmtp-provision | --host root@127.0.0.1:    | - | 2 | vmtp-provision: --host: 'root@127.0.0.1:' is not user@ip\[:ifname\]
vmtp-provision | --external-host x         | - | 2 | vmtp-provision: --external-host: 'x' is not user@ip
vmtp-collect   | -m ''                     | - | 2 | vmtp-collect: -m: '' is not HOST\[:PORT\]
vmtp-collect   | --sla ''                  | - | 2 | vmtp-collect: --sla: '': unknown metric .*
vmtp-collect   | --node-exporter ftp://x   | - | 2 | vmtp-collect: --node-exporter: not an http\(s\) URL with a host
vmtp-collect   | --mongo-uri bogus         | - | 2 | vmtp-collect: --mongo-uri: not a MongoDB URI: .*
vmtp-collect   | --mongo-uri mongodb://h:99999 | - | 2 | vmtp-collect: --mongo-uri: not a MongoDB URI: .*
vmtp-chart     | -f pdf                    | - | 2 | vmtp-chart: --format: 'pdf' is not one of html, text
vmtp-chart     | -p icmp                   | - | 2 | vmtp-chart: --protocol: 'icmp' is not one of all, tcp, udp, multicast
vmtp-cleanup   | --tag nope                | - | 2 | vmtp-cleanup: --tag: not a run tag \(vmtp- and 8 hex digits\)
vmtp           | $H --protocols X          | - | 2 | vmtp-run: --protocols: 'X' is not made of T, U, I and M
vmtp           | $H --tp-tool netperf      | - | 2 | vmtp: --tp-tool: 'netperf' is not nuttcp or iperf
vmtp           | --rerun nope              | - | 2 | vmtp: --rerun: 'nope' is not a run tag \(vmtp- and 8 hex digits\)
vmtp           | --cleanup nope            | - | 2 | vmtp: --cleanup: 'nope' is neither a run tag \(vmtp- and 8 hex digits\) nor --all
EOF
}

@test "paths that do not exist, cannot be read, or are folders: named" {
	check_rows <<'EOF'
vmtp-provision | -c $D/none.yaml           | - | 1 | vmtp-provision: cannot open $D/none.yaml: No such file or directory
vmtp-provision | -c $FX/file/x             | - | 1 | vmtp-provision: cannot open $FX/file/x: Not a directory
vmtp-provision | -c $FX/dir                | - | 1 | vmtp-provision: cannot read $FX/dir: Is a directory
vmtp-provision | -r $D/none                | - | 1 | vmtp-provision: cannot open $D/none: No such file or directory
vmtp-provision | -r $FX/file/x             | - | 1 | vmtp-provision: cannot open $FX/file/x: Not a directory
vmtp-provision | -r $FX/dir                | - | 1 | vmtp-provision: cannot read $FX/dir: Is a directory
vmtp-provision | --user-data $D/none       | - | 2 | vmtp-provision: --user-data: cannot open $D/none: No such file or directory
vmtp-provision | --user-data $FX/dir       | - | 2 | vmtp-provision: --user-data: cannot read $FX/dir: Is a directory
vmtp-provision | $H --ssh-password-file $D/none | - | 1 | vmtp-provision: cannot open $D/none: No such file or directory
vmtp-provision | $H --ssh-password-file $FX/dir | - | 1 | vmtp-provision: cannot read $FX/dir: Is a directory
vmtp-provision | $H --ssh-password-file $FX/empty | - | 1 | vmtp-provision: $FX/empty holds no password
vmtp-provision | $H --ssh-key $D/none      | - | 1 | vmtp-provision: --ssh-key: cannot open $D/none: No such file or directory
vmtp-provision | $H --ssh-key $FX/file/x   | - | 1 | vmtp-provision: --ssh-key: cannot open $FX/file/x: Not a directory
vmtp-provision | $H --ssh-key $FX/dir      | - | 1 | vmtp-provision: --ssh-key: cannot read $FX/dir: Is a directory
vmtp-provision | $H --known-hosts $FX/dir  | - | 1 | vmtp-provision: --known-hosts: cannot read $FX/dir: Is a directory
vmtp-provision | $H --known-hosts $FX/file/x | - | 1 | vmtp-provision: --known-hosts: cannot open $FX/file/x: Not a directory
vmtp-run       | -c $D/none.yaml           | topo | 1 | vmtp-run: cannot open $D/none.yaml: No such file or directory | 0
vmtp-run       | -c $FX/dir                | topo | 1 | vmtp-run: cannot read $FX/dir: Is a directory | 0
vmtp-run       | $D/none                   | - | 1 | vmtp-run: cannot open $D/none: No such file or directory
vmtp-run       | $FX/dir                   | - | 1 | vmtp-run: cannot read $FX/dir: Is a directory
vmtp-run       | $FX/file/x                | - | 1 | vmtp-run: cannot open $FX/file/x: Not a directory
vmtp-run       | --ssh-key $D/none         | topo | 1 | vmtp-run: --ssh-key: cannot open $D/none: No such file or directory | 0
vmtp-run       | --ssh-key $FX/dir         | topo | 1 | vmtp-run: --ssh-key: cannot read $FX/dir: Is a directory | 0
vmtp-run       | --known-hosts $FX/dir     | topo | 1 | vmtp-run: --known-hosts: cannot read $FX/dir: Is a directory | 0
vmtp-run       | --ssh-password-file $D/none | topo | 1 | vmtp-run: cannot open $D/none: No such file or directory | 0
vmtp-run       | --ssh-password-file $FX/dir | topo | 1 | vmtp-run: cannot read $FX/dir: Is a directory | 0
vmtp-collect   | -c $FX/dir                | samples | 1 | vmtp-collect: cannot read $FX/dir: Is a directory | 0
vmtp-collect   | -c $FX/file/x             | samples | 1 | vmtp-collect: cannot open $FX/file/x: Not a directory | 0
vmtp-collect   | --json $D/none/out.json   | samples | 1 | vmtp-collect: --json: cannot write $D/none/out.json: No such file or directory | 0
vmtp-collect   | --json $FX/dir            | samples | 1 | vmtp-collect: --json: cannot write $FX/dir: Is a directory | 0
vmtp-collect   | --json $FX/file/x.json    | samples | 1 | vmtp-collect: --json: cannot write $FX/file/x.json: Not a directory | 0
vmtp-collect   | $D/none                   | - | 1 | vmtp-collect: cannot open $D/none: No such file or directory
vmtp-chart     | $D/none                   | - | 1 | vmtp-chart: cannot open $D/none: No such file or directory
vmtp-chart     | $FX/dir                   | - | 1 | vmtp-chart: cannot read $FX/dir: Is a directory
vmtp-chart     | -o $D/none/out.html $FX/samples | - | 1 | vmtp-chart: .*$D/none/out.html.*: No such file or directory
vmtp-chart     | -o $FX/dir -f text $FX/samples | - | 1 | vmtp-chart: .*$FX/dir.*
vmtp-cleanup   | -r $D/none --all          | - | 1 | vmtp-cleanup: cannot open $D/none: No such file or directory
vmtp-cleanup   | -r $FX/dir --all          | - | 1 | vmtp-cleanup: cannot read $FX/dir: Is a directory
vmtp-cleanup   | $D/none                   | - | 1 | vmtp-cleanup: cannot open $D/none: No such file or directory
vmtp-cleanup   | $FX/dir                   | - | 1 | vmtp-cleanup: cannot read $FX/dir: Is a directory
vmtp           | $H -c $FX/dir             | - | 1 | vmtp-run: cannot read $FX/dir: Is a directory
vmtp           | $H -c $D/none.yaml        | - | 1 | vmtp-run: cannot open $D/none.yaml: No such file or directory
vmtp           | -r $D/none                | - | 1 | vmtp: cannot read $D/none
vmtp           | $H --json $D/none/out.json | - | 1 | vmtp: --json: cannot use $D/none/out.json: No such file or directory
vmtp           | $H --json $FX/dir         | - | 1 | vmtp: --json: cannot use $FX/dir: Is a directory
vmtp           | $H --log-file $D/none/log | - | 1 | vmtp: --log-file: cannot use $D/none/log: No such file or directory
vmtp           | $H --ssh-key $D/none      | - | 1 | vmtp: --ssh-key: cannot use $D/none: No such file or directory
vmtp           | $H --ssh-key $FX/dir      | - | 1 | vmtp: --ssh-key: cannot use $FX/dir: Is a directory
EOF
}

@test "configuration files that are not right: FILE:LINE and the key, 65" {
	check_rows <<'EOF'
vmtp-provision | -c $FX/bad.yaml           | - | 65 | vmtp-provision: $FX/bad.yaml:[0-9]+: not YAML: .*
vmtp-provision | -c $FX/typed.yaml         | - | 65 | vmtp-provision: $FX/typed.yaml:1: .*ping_count.*
vmtp-provision | -c $FX/unknown.yaml       | - | 65 | vmtp-provision: $FX/unknown.yaml:1: .*no_such_key.*
vmtp-provision | -c $FX/utf8.yaml          | - | 65 | vmtp-provision: $FX/utf8.yaml:[0-9]+: .*
vmtp-provision | -c $FX/array.yaml         | - | 65 | vmtp-provision: $FX/array.yaml:1: .*
vmtp-run       | -c $FX/typed.yaml         | topo | 65 | vmtp-run: $FX/typed.yaml:1: .*ping_count.* | 0
vmtp-collect   | -c $FX/unknown.yaml       | samples | 65 | vmtp-collect: $FX/unknown.yaml:1: .*no_such_key.* | 0
vmtp           | $H -c $FX/typed.yaml      | - | 65 | vmtp-run: $FX/typed.yaml:1: .*ping_count.*
EOF
}

@test "empty input: nothing to do, said once; records of blank lines none" {
	check_rows <<'EOF'
vmtp-collect   |                           | empty | 0 | | 0
vmtp-collect   |                           | blank | 0 | | 0
vmtp-collect   | --json $D/out.json        | empty | 65 | vmtp-collect: <stdin>: no run in the input: no result document written | 0
vmtp-chart     |                           | empty | 65 | vmtp-chart: no result document or records in the input | 0
vmtp-chart     | -o $D/out.html            | blank | 65 | vmtp-chart: no result document or records in the input | 0
vmtp-chart     | -o $D/out.html $FX/empty  | - | 65 | vmtp-chart: no result document or records in the input | 0
EOF
	run -0 --separate-stderr vmtp-run <"$FX/empty"
	[ "$stderr" = "vmtp-run: warning: no flow to measure" ]
	[ -z "$output" ]
}

@test "a truncated last line: FILE:LINE, 65, every record before it passed on" {
	check_rows <<'EOF'
vmtp-run       |                           | topo-cut    | 65 | vmtp-run: <stdin>:5: not JSON: .* | =
vmtp-run       |                           | topo-nonl   | 65 | vmtp-run: <stdin>:6: not JSON: .* | =
vmtp-collect   | --json $D/out.json        | samples-cut | 65 | vmtp-collect: <stdin>:6: not JSON: .* | =
vmtp-collect   | --json $D/out.json        | samples-nonl | 65 | vmtp-collect: <stdin>:7: not JSON: .* | =
vmtp-chart     | -o $D/out.html            | samples-cut | 65 | vmtp-chart: <stdin>:6: not JSON: .* | 0
vmtp-chart     | -o $D/out.html $FX/samples-cut | - | 65 | vmtp-chart: $FX/samples-cut:6: not JSON: .* | 0
vmtp-chart     | -o $D/out.html            | doc-cut     | 65 | vmtp-chart: <stdin>.*: .* | 0
vmtp-cleanup   | -n                        | samples-cut | 65 | vmtp-cleanup: <stdin>:6: not JSON: .* | =
EOF
}

@test "a line of 10 MiB passes whole; cut short, it is refused with its line" {
	check_rows <<'EOF'
vmtp-collect   | --json $D/out.json        | big         | 0 | | 6
vmtp-collect   | --json $D/out.json        | samples-bigcut | 65 | vmtp-collect: <stdin>:6: not JSON: .* | =
vmtp-run       |                           | topo-bigcut | 65 | vmtp-run: <stdin>:5: not JSON: .* | =
vmtp-chart     | -f text                   | samples-bigcut | 65 | vmtp-chart: <stdin>:6: not JSON: .* | 0
vmtp-cleanup   | -n                        | samples-bigcut | 65 | vmtp-cleanup: <stdin>:6: not JSON: .* | =
EOF
	vmtp-collect <"$FX/big" | cmp - "$FX/big"
	vmtp-run --flows 2 <"$FX/big" 2>/dev/null | cmp - "$FX/big"
}

@test "invalid UTF-8: FILE:LINE, 65, every record before it passed on" {
	check_rows <<'EOF'
vmtp-run       |                           | topo-utf8    | 65 | vmtp-run: <stdin>:5: not JSON: .* | =
vmtp-collect   | --json $D/out.json        | samples-utf8 | 65 | vmtp-collect: <stdin>:6: not JSON: .* | =
vmtp-chart     | -o $D/out.html            | samples-utf8 | 65 | vmtp-chart: <stdin>:6: not JSON: .* | 0
vmtp-cleanup   | -n                        | samples-utf8 | 65 | vmtp-cleanup: <stdin>:6: not JSON: .* | =
EOF
}

@test "a JSON array, number or string instead of an object: FILE:LINE, 65" {
	check_rows <<'EOF'
vmtp-run       |                           | topo-array     | 65 | vmtp-run: <stdin>:5: not a JSON object | =
vmtp-run       |                           | topo-scalar    | 65 | vmtp-run: <stdin>:5: not .* | =
vmtp-run       |                           | topo-string    | 65 | vmtp-run: <stdin>:5: not .* | =
vmtp-collect   | --json $D/out.json        | samples-array  | 65 | vmtp-collect: <stdin>:6: not a JSON object | =
vmtp-collect   | --json $D/out.json        | samples-scalar | 65 | vmtp-collect: <stdin>:6: not .* | =
vmtp-chart     | -o $D/out.html            | samples-array  | 65 | vmtp-chart: <stdin>:6: not a JSON object | 0
vmtp-chart     | -o $D/out.html            | doc-array      | 65 | vmtp-chart: <stdin>.*: .* | 0
vmtp-chart     | -o $D/out.html            | doc-scalar     | 65 | vmtp-chart: <stdin>.*: .* | 0
vmtp-chart     | -o $D/out.html            | doc-flows-number | 65 | vmtp-chart: <stdin>.*flows.* | 0
vmtp-cleanup   | -n                        | samples-array  | 65 | vmtp-cleanup: <stdin>:6: not a JSON object | =
vmtp-cleanup   | -n                        | samples-string | 65 | vmtp-cleanup: <stdin>:6: not .* | =
EOF
}

@test "records with a field missing or of the wrong type: FILE:LINE and the field, 65" {
	check_rows <<'EOF'
vmtp-run       |                           | flow-id-string | 65 | vmtp-run: <stdin>:5: .*"id".* | =
vmtp-run       |                           | flow-no-target | 65 | vmtp-run: <stdin>:5: .*"target".* | =
vmtp-run       |                           | host-no-name   | 65 | vmtp-run: <stdin>:5: .*"name".* | =
vmtp-run       |                           | no-type        | 65 | vmtp-run: <stdin>:6: record has no "type" | =
vmtp-collect   | --json $D/out.json        | sample-flow-string | 65 | vmtp-collect: <stdin>:6: sample record has no "flow" | =
vmtp-collect   | --json $D/out.json        | sample-no-flow | 65 | vmtp-collect: <stdin>:6: sample record has no "flow" | =
vmtp-collect   | --json $D/out.json        | sample-protocol-number | 65 | vmtp-collect: <stdin>:6: sample record has no "protocol" | =
vmtp-collect   | --json $D/out.json        | flow-id-string | 65 | vmtp-collect: <stdin>:5: flow record has no "id" | =
vmtp-collect   | --json $D/out.json        | no-type        | 65 | vmtp-collect: <stdin>:6: record has no "type" | =
vmtp-chart     | -o $D/out.html            | sample-protocol-number | 65 | vmtp-chart: <stdin>:6: sample record has no "protocol" | 0
vmtp-collect   | --json $D/out.json        | sample-kbps-word | 65 | vmtp-collect: <stdin>:6: sample record: "throughput_kbps" is not a number | =
vmtp-collect   | --json $D/out.json        | sample-loss-null | 65 | vmtp-collect: <stdin>:6: sample record: "loss_rate" is not a number | =
vmtp-collect   | --json $D/out.json        | sample-start-string | 65 | vmtp-collect: <stdin>:6: sample record: "t_start" is not a number | =
vmtp-collect   | --json $D/out.json        | sample-intervals-word | 65 | vmtp-collect: <stdin>:6: sample record: "intervals" is not a list of numbers | =
vmtp-collect   | --json $D/out.json        | sample-error-number | 65 | vmtp-collect: <stdin>:6: sample record: "error" is not a string | =
vmtp-chart     | -f text                   | sample-kbps-word | 65 | vmtp-chart: <stdin>:6: sample record: "throughput_kbps" is not a number | 0
vmtp-chart     | -o $D/out.html            | sample-intervals-word | 65 | vmtp-chart: <stdin>:6: sample record: "intervals" is not a list of numbers | 0
vmtp-cleanup   | -n                        | resource-no-id | 65 | vmtp-cleanup: <stdin>:6: resource record without kind or id | =
vmtp-cleanup   | -n                        | resource-kind-number | 65 | vmtp-cleanup: <stdin>:6: .*kind.* | =
vmtp-cleanup   | -n                        | no-type        | 65 | vmtp-cleanup: <stdin>:6: record has no "type" | =
EOF
}

@test "a flow naming an unknown host: vmtp-run refuses it; a document goes without ip_from" {
	check_rows <<'EOF'
vmtp-run       |                           | flow-unknown-host | 65 | vmtp-run: <stdin>:5: flow names a host not given before it | =
vmtp-collect   | --json $D/out.json        | flow-unknown-host | 0  | | 5
EOF
	# archived streams cut to flows and samples are charted as they are
	vmtp-collect --json "$BATS_TEST_TMPDIR/d.json" <"$FX/flow-unknown-host" >/dev/null
	[ "$(jq -c '[.flows[] | .ip_from]' "$BATS_TEST_TMPDIR/d.json")" = '["127.0.0.1",null]' ]
	vmtp-chart -f text "$FX/flow-unknown-host" >/dev/null
}

@test "duplicate flow ids: FILE:LINE, 65" {
	check_rows <<'EOF'
vmtp-run       |                           | flow-dup | 65 | vmtp-run: <stdin>:5: flow 1 given twice | =
vmtp-collect   | --json $D/out.json        | flow-dup | 65 | vmtp-collect: <stdin>:5: flow 1 given twice | =
vmtp-chart     | -o $D/out.html            | flow-dup | 65 | vmtp-chart: <stdin>:5: flow 1 given twice | 0
EOF
}

@test "two runs interleaved: vmtp-run refuses the second, collect keeps them apart" {
	check_rows <<'EOF'
vmtp-run       |                           | two-topo    | 65 | vmtp-run: <stdin>:4: a second run \(vmtp-0000bbbb\) in the topology of vmtp-0000aaaa | 3
vmtp-collect   | --json $D/out.json        | two-samples | 0  | | 10
EOF
	vmtp-collect --json "$BATS_TEST_TMPDIR/two.json" <"$FX/two-samples" >/dev/null
	[ "$(jq -c '[.[] | [.run_id, .flows[0].ip_from, .flows[0].results[0].throughput_kbps]]' "$BATS_TEST_TMPDIR/two.json")" = \
		'[["vmtp-0000aaaa","10.0.0.1",111],["vmtp-0000bbbb","10.1.0.1",222]]' ]
}
