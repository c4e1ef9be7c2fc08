#!/usr/bin/env bats
# vmtp.bats - bin/vmtp, the original VMTP's command line over the pipeline
# (SPEC §6 bin/vmtp).  Most tests put recording stand-ins of the
# five programs on VMTP_LIBEXEC (helpers/standins) to see which option
# reaches which program, the run folder, exit statuses, signals and the
# clean-up; the native-mode tests run the real programs against namespace
# hosts.  The cloud is vmtp-cloud.bats's.

load helpers/common
load helpers/standins
load helpers/nshosts

VMTP=$VMTP_ROOT/bin/vmtp

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$HOME"
	unset SSH_AUTH_SOCK VMTP_SSH_PASSWORD NO_COLOR OS_CLOUD
	for v in $(env | sed -n 's/^\(OS_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
	# a cloud for the stand-ins: they never call it
	export OS_AUTH_URL=http://127.0.0.1:9/v3 OS_USERNAME=demo OS_PASSWORD=from-env
	# vmtp's working files: none may be left
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	standins_up
}

teardown() {
	[ -z "${VMTP_PID:-}" ] || kill -9 -- "-$VMTP_PID" 2>/dev/null || true
	[ -z "${SAMPLER_PID:-}" ] || kill "$SAMPLER_PID" 2>/dev/null || true
	nshosts_down
}

# the run folder of the only run so far
rundir() {
	local d
	for d in "$XDG_STATE_HOME"/vmtp/runs/vmtp-*; do
		echo "$d"
	done
}

# has ARGS WORDS: the recorded ARGS hold WORDS ("[-c][f]") in a row
has() {
	if [[ "$1" != *"$2"* ]]; then
		echo "expected $2 in $1" >&2
		return 1
	fi
}

@test "every option of the original, in both spellings, reaches the program that owns it" {
	printf 'export OS_AUTH_URL=http://127.0.0.1:9/v3\n' >"$BATS_TEST_TMPDIR/openrc"
	: >"$BATS_TEST_TMPDIR/cfg.yaml"
	: >"$BATS_TEST_TMPDIR/k"
	rc=$BATS_TEST_TMPDIR/openrc cfg=$BATS_TEST_TMPDIR/cfg.yaml
	# what is typed | the program | what it gets
	rows=(
		"-c $cfg|provision run collect|[-c][$cfg]"
		"--config $cfg|provision run collect|[-c][$cfg]"
		"--config=$cfg|provision run collect|[-c][$cfg]"
		"-c$cfg|provision|[-c][$cfg]"
		"-r $rc|provision cleanup|[-r][$rc]"
		"--rc $rc|provision cleanup|[-r][$rc]"
		"--rc=$rc|provision|[-r][$rc]"
		"-m 127.0.0.1:8649|collect|[-m][127.0.0.1:8649]"
		"--monitor 127.0.0.1|collect|[-m][127.0.0.1]"
		"-m 127.0.0.1:8649|run|[--udp-final]"
		"-m 10.0.0.1 -m 10.0.0.2:8650|collect|[-m][10.0.0.1][-m][10.0.0.2:8650]"
		"-t 7|run|[-t][7]"
		"--time 7|run|[-t][7]"
		"-t7|run|[-t][7]"
		"--availability_zone nova|provision|[--availability-zone][nova]"
		"--availability-zone=nova|provision|[--availability-zone][nova]"
		"--hypervisor nova:c1 --hypervisor nova:c2|provision|[--hypervisor][nova:c1][--hypervisor][nova:c2]"
		"--inter-node-only|provision|[--inter-node-only]"
		"--inter_node_only|provision|[--inter-node-only]"
		"--same-network-only|provision|[--same-network-only]"
		"--same_network_only|provision|[--same-network-only]"
		"--protocols IT|run|[--protocols][IT]"
		"--bandwidth 20M|run|[--bandwidth][20M]"
		"--bandwidth 20M -m 127.0.0.1|run|[--bandwidth][20M][--udp-final]"
		"--protocols TUIM|run|[--protocols][TUIM]"
		"--multicast_addr 231.1.1.7|run|[--multicast-addr][231.1.1.7]"
		"--multicast-addr=231.1.1.7|run|[--multicast-addr][231.1.1.7]"
		"--no-floatingip|provision|[--no-floatingip]"
		"--no_floatingip|provision|[--no-floatingip]"
		"--no-dhcp --use-config-drive|provision|[--no-dhcp][--config-drive]"
		"--no_dhcp --use_config_drive|provision|[--no-dhcp][--config-drive]"
		"--tcpbuf 8192,65536|run|[--tcpbuf][8192,65536]"
		"--udpbuf 128,2048|run|[--udpbuf][128,2048]"
		"--icmp_pkt_sizes 64,1500|run|[--icmp-sizes][64,1500]"
		"--icmp-pkt-sizes=64|run|[--icmp-sizes][64]"
		"--ping-interval 0.2|run|[--ping-interval][0.2]"
		"--ping_interval=0.5|run|[--ping-interval][0.5]"
		"--udp-probe-tool nuttcp|run|[--udp-probe-tool][nuttcp]"
		"--udp_probe_tool=iperf3|run|[--udp-probe-tool][iperf3]"
		"--reuse_network_name prov|provision|[--reuse-network][prov]"
		"--reuse-network-name prov|provision|[--reuse-network][prov]"
		"--vnic-type direct|provision|[--vnic-type][direct]"
		"--vnic_type macvtap|provision|[--vnic-type][macvtap]"
		"--vm-image-url file:///i.qcow2|provision|[--vm-image-url][file:///i.qcow2]"
		"--vm_image_url file:///i.qcow2|provision|[--vm-image-url][file:///i.qcow2]"
		"--test-description D|provision|[--test-description][D]"
		"--test_description=D|provision|[--test-description][D]"
		"--delete-image-after-run|provision|[--delete-image-after-run]"
		"--delete_image_after_run|provision|[--delete-image-after-run]"
		"--tp-tool iperf|run|[--tp-tool][iperf3]"
		"--tp_tool nuttcp|run|[--tp-tool][nuttcp]"
		"--mongod-server 127.0.0.1:27017|collect|[--mongod-server][127.0.0.1:27017]"
		"--mongod_server 127.0.0.1|collect|[--mongod-server][127.0.0.1]"
		"--stop-on-error|run|[--stop-on-error]"
		"--stop_on_error|provision|[--keep-on-error]"
		"--keep-first-flow-and-exit|run|[--flows][1]"
		"--keep_first_flow_and_exit|run|[--flows][1]"
		"--external-host u@192.0.2.9|provision|[--external-host][u@192.0.2.9]"
		"--external_host=u@192.0.2.9|provision|[--external-host][u@192.0.2.9]"
		"--controller-node u@192.0.2.8|provision|[--controller-node][u@192.0.2.8]"
		"--controller_node u@192.0.2.8|provision|[--controller-node][u@192.0.2.8]"
		"-d|provision run collect cleanup|[-v]"
		"--debug|provision run collect|[-v]"
		"--sla tcp_gbps>=1|collect|[--sla][tcp_gbps>=1]"
		"--ssh-key $BATS_TEST_TMPDIR/k|provision|[--ssh-key][$BATS_TEST_TMPDIR/k]"
		"--known-hosts /kh|provision run|[--known-hosts][/kh]"
		"--hostkey-policy accept-new|provision run|[--hostkey-policy][accept-new]"
		"--host u@192.0.2.1|provision|[--host][u@192.0.2.1]"
		"--host u@192.0.2.1::eth5|provision|[--host][u@192.0.2.1:eth5]"
		"--mesh all|provision|[--mesh][all]"
		"--mesh=3|provision|[--mesh][3]"
		"--mesh all --mesh_path l3|provision|[--mesh][all][--mesh-path][l3]"
		"--concurrency 2|run|[--concurrency][2]"
		"--openmetrics $BATS_TEST_TMPDIR/m.prom|collect|[--openmetrics][$BATS_TEST_TMPDIR/m.prom]"
	)
	for row in "${rows[@]}"; do
		IFS='|' read -r typed progs want <<<"$row"
		rm -f "$STANDIN_REC"/*
		# shellcheck disable=SC2086
		run --separate-stderr "$VMTP" $typed
		if [ "$status" -ne 0 ]; then
			echo "vmtp $typed: status $status: $stderr" >&2
			return 1
		fi
		for p in $progs; do
			[ -e "$STANDIN_REC/vmtp-$p.args" ] || { echo "vmtp $typed: vmtp-$p did not run" >&2; return 1; }
			has "$(standin_args "vmtp-$p")" "$want" || { echo "  (vmtp $typed)" >&2; return 1; }
		done
	done
	# what is not given is not passed: the programs' own defaults hold
	rm -f "$STANDIN_REC"/*
	run -0 --separate-stderr "$VMTP"
	[ "$(standin_args vmtp-run)" = "" ]
	[[ "$(standin_args vmtp-provision)" == "[--tag][vmtp-"????????"]" ]]
}

@test "--json copies the result document; its run folder holds every file" {
	run -0 --separate-stderr "$VMTP" --json "$BATS_TEST_TMPDIR/res.json" --test-description D
	d=$(rundir)
	for f in topology.ndjson samples.ndjson result.json report.html log; do
		[ -s "$d/$f" ] || { echo "no $f in $d" >&2; false; }
	done
	cmp "$d/result.json" "$BATS_TEST_TMPDIR/res.json"
	# the tag is one the programs take, in the folder's name and in every record
	tag=${d##*/}
	[[ "$tag" =~ ^vmtp-[0-9a-f]{8}$ ]]
	[ "$(jq -r .run "$d/topology.ndjson" | sort -u)" = "$tag" ]
	[ "$(jq -r .run "$d/samples.ndjson" | sort -u)" = "$tag" ]
	# the summary, then where the files are
	[[ "$output" == *"Native inter  Native inter-host"*"PASSED"* ]]
	[ "${lines[-2]}" = "Result: $d/result.json (copy: $BATS_TEST_TMPDIR/res.json)" ]
	[ "${lines[-1]}" = "Report: $d/report.html" ]
	grep -q '<svg' "$d/report.html"
	# --json=FILE too
	run -0 --separate-stderr "$VMTP" --json="$BATS_TEST_TMPDIR/two.json"
	[ "$(jq -r .run_id "$BATS_TEST_TMPDIR/two.json")" != "$tag" ]
}

@test "an unknown option is named, with the usage, status 2; nothing runs" {
	for bad in --bogus -x --jsn=f --protocol; do
		run -2 --separate-stderr "$VMTP" -t 1 "$bad"
		[ "${stderr_lines[0]}" = "vmtp: unknown option '${bad%%=*}'" ]
		[[ "${stderr_lines[1]}" == "usage: vmtp "* ]]
	done
	run -2 --separate-stderr "$VMTP" extra
	[ "${stderr_lines[0]}" = "vmtp: unexpected argument 'extra'" ]
	run -2 --separate-stderr "$VMTP" -t
	[ "${stderr_lines[0]}" = "vmtp: option '-t' needs a value" ]
	run -2 --separate-stderr "$VMTP" --keep=yes
	[ "${stderr_lines[0]}" = "vmtp: option '--keep' takes no value" ]
	run -2 --separate-stderr "$VMTP" --tp-tool netperf
	[ "${stderr_lines[0]}" = "vmtp: --tp-tool: 'netperf' is not nuttcp or iperf" ]
	run -2 --separate-stderr "$VMTP" --udp-probe-tool iperf
	[ "${stderr_lines[0]}" = "vmtp: --udp-probe-tool: 'iperf' is not nuttcp or iperf3" ]
	[ -z "$(ls "$STANDIN_REC")" ]
	[ ! -e "$XDG_STATE_HOME/vmtp" ]
}

@test "options vmtp does not have yet are refused with a message, status 2, never ignored" {
	for opt in "--os-dataplane-network net" "--os_dataplane_network net"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr "$VMTP" $opt
		o=${opt%% *}
		[ "$stderr" = "vmtp: ${o//_/-} is not supported yet" ]
	done
	[ -z "$(ls "$STANDIN_REC")" ]
}

@test "a usage error of vmtp-run or vmtp-collect stops vmtp before vmtp-provision makes anything" {
	STANDIN_RUN_STATUS=2 run -2 --separate-stderr "$VMTP" -t 1
	[ ! -e "$STANDIN_REC/vmtp-provision.args" ]
	[ ! -e "$XDG_STATE_HOME/vmtp" ]
	rm -f "$STANDIN_REC"/*
	run -2 --separate-stderr "$VMTP" --sla 'bogus>=1'
	[ "${stderr_lines[0]}" = "vmtp-collect: --sla: 'bogus>=1': unknown metric (tcp_gbps, udp_gbps, udp_loss, icmp_avg_ms, icmp_max_ms or retrans)" ]
	[ ! -e "$STANDIN_REC/vmtp-provision.args" ]
	[ ! -e "$XDG_STATE_HOME/vmtp" ]
}

@test "topology options are for a new topology: not with --rerun or --cleanup" {
	for opt in --no-floatingip --no-dhcp --use-config-drive; do
		run -2 --separate-stderr "$VMTP" --rerun vmtp-0123abcd "$opt"
		[ "${stderr_lines[0]}" = "vmtp: $opt: only for a new topology, not with --rerun" ]
	done
	[ -z "$(ls "$STANDIN_REC")" ]
}

@test "--help names every option of the original, and each is in the manual page" {
	run -0 --separate-stderr "$VMTP" --help
	help=$output
	[[ "${lines[0]}" == "usage: vmtp "* ]]
	# the original's options (vmtp.py), as it spells them
	for o in -c --config -sc --show-config -r --rc -m --monitor -p --password -t --time \
		--host --external-host --controller-node --mongod-server --json --tp-tool \
		--availability_zone --hypervisor --inter-node-only --same-network-only \
		--protocols --multicast_addr --bandwidth --tcpbuf --udpbuf --icmp_pkt_sizes \
		--reuse_network_name --os-dataplane-network --delete-image-after-run --no-env \
		--vnic-type --no-dhcp --no-floatingip --use-config-drive -d --debug -v \
		--version --stop-on-error --keep-first-flow-and-exit --vm-image-url \
		--test-description --log-file --logfile; do
		grep -qE -- "(^|[ ,])$o([ ,=]|$)" <<<"$help" || { echo "--help lacks $o" >&2; false; }
	done
	# every option of --help is in vmtp.1, in the same spelling
	for o in $(grep -oE -- '(^|[ ,(])--?[a-z][a-z_-]*' <<<"$help" | tr -d ' ,(' | sort -u); do
		grep -qF -- "${o#-}" "$VMTP_ROOT/man/vmtp.1" || { echo "vmtp.1 lacks $o" >&2; false; }
	done
	run -0 "$VMTP" -h
	[ "$output" = "$help" ]
}

@test "-v prints vmtp-provision's version number; -sc prints vmtp-provision --show-config" {
	run -0 --separate-stderr "$VMTP" -v
	[ "$output" = "vmtp $(vmtp-provision --version | cut -d' ' -f2)" ]
	run -0 --separate-stderr "$VMTP" --version
	[ "$output" = "vmtp $(vmtp-provision --version | cut -d' ' -f2)" ]
	for o in -sc --show-config --show_config; do
		rm -f "$STANDIN_REC"/*
		run -0 --separate-stderr "$VMTP" "$o"
		[ "$output" = "# the defaults" ]
		[ "$(standin_args vmtp-provision)" = "[--show-config]" ]
		[ ! -e "$STANDIN_REC/vmtp-run.args" ]
	done
}

@test "-sc's configuration is one every program takes: vmtp -sc > f; vmtp -c f" {
	unset VMTP_LIBEXEC
	"$VMTP" -sc >"$BATS_TEST_TMPDIR/f.yaml"
	grep -q '^ssh_retry_count:' "$BATS_TEST_TMPDIR/f.yaml"
	run -0 --separate-stderr vmtp-run -c "$BATS_TEST_TMPDIR/f.yaml" </dev/null
	run -0 --separate-stderr vmtp-collect -c "$BATS_TEST_TMPDIR/f.yaml" </dev/null
	# and the whole of vmtp with it, the stand-ins measuring
	standins_up
	run -0 --separate-stderr "$VMTP" -c "$BATS_TEST_TMPDIR/f.yaml"
	has "$(standin_args vmtp-provision)" "[-c][$BATS_TEST_TMPDIR/f.yaml]"
}

@test "-p reaches the programs as OS_PASSWORD, never in an argv; a warning says why" {
	run -0 --separate-stderr "$VMTP" -p 's3cr3t p'"'"'w' --json "$BATS_TEST_TMPDIR/r.json"
	[[ "$stderr" == *"vmtp: warning: a password given on the command line can be seen by other users (ps)"* ]]
	grep -qx "OS_PASSWORD=s3cr3t p'w" "$STANDIN_REC/vmtp-provision.env"
	grep -qx "OS_PASSWORD=s3cr3t p'w" "$STANDIN_REC/vmtp-cleanup.env"
	! grep -rq s3cr3t "$STANDIN_REC"/*.args
	! grep -rq s3cr3t "$(rundir)" "$BATS_TEST_TMPDIR/r.json"
	# --password=, and the original's precedence: over the openrc's own
	printf 'export OS_AUTH_URL=http://127.0.0.1:9/v3\nexport OS_PASSWORD=in-the-file\n' >"$BATS_TEST_TMPDIR/openrc"
	run -0 --separate-stderr "$VMTP" -r "$BATS_TEST_TMPDIR/openrc" --password=typed
	grep -qx "OS_PASSWORD=typed" "$STANDIN_REC/vmtp-provision.env"
	copy=$(standin_args vmtp-provision | sed -n 's/.*\[-r\]\[\([^]]*\)\].*/\1/p')
	[ "$copy" != "$BATS_TEST_TMPDIR/openrc" ]
	[ ! -e "$copy" ] # a copy without the password, gone with the run
	# without -p, the openrc's password is the programs' own business
	run -0 --separate-stderr "$VMTP" -r "$BATS_TEST_TMPDIR/openrc"
	has "$(standin_args vmtp-provision)" "[-r][$BATS_TEST_TMPDIR/openrc]"
	has "$(standin_args vmtp-cleanup)" "[-r][$BATS_TEST_TMPDIR/openrc]"
	[[ "$stderr" != *warning* ]]
}

@test "-p's password reaches the stages only: never the tools vmtp runs itself (jq, tee, sed)" {
	# spies: each tool started by vmtp itself (its parent is vmtp or, after
	# vmtp started again without -p, sh; not a stand-in) records its environment
	mkdir "$BATS_TEST_TMPDIR/spy"
	for p in jq tee sed; do
		printf '#!/bin/sh\ncase $(cat /proc/$PPID/comm) in vmtp | sh | dash) { echo "== %s"; tr "\\0" "\\n" </proc/$$/environ; } >>"%s" ;; esac\nexec %s "$@"\n' \
			"$p" "$BATS_TEST_TMPDIR/spy.env" "$(command -v $p)" >"$BATS_TEST_TMPDIR/spy/$p"
		chmod +x "$BATS_TEST_TMPDIR/spy/$p"
	done
	PATH=$BATS_TEST_TMPDIR/spy:$PATH run -0 --separate-stderr "$VMTP" -p s3cr3t --log-file "$BATS_TEST_TMPDIR/log"
	grep -qx "OS_PASSWORD=s3cr3t" "$STANDIN_REC/vmtp-provision.env"
	grep -qx "OS_PASSWORD=s3cr3t" "$STANDIN_REC/vmtp-cleanup.env"
	grep -qx '== jq' "$BATS_TEST_TMPDIR/spy.env"
	grep -qx '== tee' "$BATS_TEST_TMPDIR/spy.env"
	! grep s3cr3t "$BATS_TEST_TMPDIR/spy.env"
	# the same for a password in the environment from the start
	: >"$BATS_TEST_TMPDIR/spy.env"
	OS_PASSWORD=s3cr3t PATH=$BATS_TEST_TMPDIR/spy:$PATH run -0 --separate-stderr "$VMTP" --log-file "$BATS_TEST_TMPDIR/log"
	grep -qx "OS_PASSWORD=s3cr3t" "$STANDIN_REC/vmtp-provision.env"
	grep -qx '== jq' "$BATS_TEST_TMPDIR/spy.env"
	! grep s3cr3t "$BATS_TEST_TMPDIR/spy.env"
}

@test "--no-env: no OS_* variable reaches a program, -p's password alone" {
	export OS_PROJECT_NAME=p OS_REGION_NAME=r
	printf 'export OS_AUTH_URL=http://127.0.0.1:9/v3\n' >"$BATS_TEST_TMPDIR/openrc"
	for o in --no-env --no_env; do
		run -0 --separate-stderr "$VMTP" "$o" -r "$BATS_TEST_TMPDIR/openrc"
		[ ! -s "$STANDIN_REC/vmtp-provision.env" ]
		[ ! -s "$STANDIN_REC/vmtp-cleanup.env" ]
	done
	run -0 --separate-stderr "$VMTP" --no-env -r "$BATS_TEST_TMPDIR/openrc" -p pw
	[ "$(cat "$STANDIN_REC/vmtp-provision.env")" = OS_PASSWORD=pw ]
	# with no openrc either, there is no cloud to measure
	run -2 --separate-stderr "$VMTP" --no-env
	[[ "$stderr" == "vmtp: no cloud credentials: give -r openrc, or set OS_AUTH_URL"* ]]
}

@test "no password anywhere and a terminal: vmtp asks for it and does not echo it" {
	command -v script >/dev/null || skip "needs script(1) for a terminal"
	unset OS_PASSWORD
	printf 'export OS_AUTH_URL=http://127.0.0.1:9/v3\nexport OS_PASSWORD=$OS_PASSWORD_INPUT\n' >"$BATS_TEST_TMPDIR/openrc"
	# script(1) gives vmtp a terminal; the password is typed once asked
	mkfifo "$BATS_TEST_TMPDIR/keys"
	script -qfec "$VMTP -r $BATS_TEST_TMPDIR/openrc" /dev/null <"$BATS_TEST_TMPDIR/keys" >"$BATS_TEST_TMPDIR/tty" &
	pid=$!
	exec 4>"$BATS_TEST_TMPDIR/keys"
	for _ in $(seq 100); do
		grep -q 'OpenStack password: ' "$BATS_TEST_TMPDIR/tty" && break
		sleep 0.1
	done
	printf 'typed-secret\n' >&4
	exec 4>&-
	wait $pid
	grep -qx OS_PASSWORD=typed-secret "$STANDIN_REC/vmtp-provision.env"
	grep -q 'OpenStack password: ' "$BATS_TEST_TMPDIR/tty"
	! grep -q typed-secret "$BATS_TEST_TMPDIR/tty"
	! grep -q typed-secret "$STANDIN_REC/vmtp-provision.args"
	# not on a terminal, or with a password at hand: no question
	run -0 --separate-stderr "$VMTP" -r "$BATS_TEST_TMPDIR/openrc" </dev/null
	[[ "$stderr" != *"password:"* ]]
	OS_PASSWORD=x script -qec "$VMTP -r $BATS_TEST_TMPDIR/openrc" /dev/null </dev/null >"$BATS_TEST_TMPDIR/tty2"
	! grep -q 'password:' "$BATS_TEST_TMPDIR/tty2"
}

@test "a password inside --host or --external-host goes to the programs as VMTP_SSH_PASSWORD only" {
	for h in "u@192.0.2.1:pw:eth5|[--host][u@192.0.2.1:eth5]" "u@192.0.2.1:pw|[--host][u@192.0.2.1]" \
		"u@192.0.2.1:pw:|[--host][u@192.0.2.1]"; do
		run -0 --separate-stderr "$VMTP" --host "${h%%|*}"
		[ "$(standin_args vmtp-provision)" = "${h#*|}[--tag][$(basename "$(ls -td "$XDG_STATE_HOME"/vmtp/runs/* | head -n 1)")]" ]
		grep -qx VMTP_SSH_PASSWORD=pw "$STANDIN_REC/vmtp-provision.env"
		grep -qx VMTP_SSH_PASSWORD=pw "$STANDIN_REC/vmtp-run.env"
		[[ "$stderr" == *"vmtp: warning: a password given on the command line"* ]]
	done
	# a password with colons: everything between the address and the last colon
	run -0 --separate-stderr "$VMTP" --host u@192.0.2.1:a:b:eth0
	has "$(standin_args vmtp-provision)" "[--host][u@192.0.2.1:eth0]"
	grep -qx VMTP_SSH_PASSWORD=a:b "$STANDIN_REC/vmtp-provision.env"
	run -0 --separate-stderr "$VMTP" --external-host u@192.0.2.9:xpw
	has "$(standin_args vmtp-provision)" "[--external-host][u@192.0.2.9]"
	grep -qx VMTP_SSH_PASSWORD=xpw "$STANDIN_REC/vmtp-run.env"
	! grep -q pw "$STANDIN_REC"/*.args
	# the same password twice is one password
	run -0 --separate-stderr "$VMTP" --host u@192.0.2.1:pw --host u@192.0.2.2:pw
	# two different ones: the programs take one, so vmtp refuses
	rm -f "$STANDIN_REC"/*
	run -2 --separate-stderr "$VMTP" --host u@192.0.2.1:one --host u@192.0.2.2:two
	[ "${stderr_lines[0]}" = "vmtp: --host: a second, different SSH password; the programs take one" ]
	run -2 --separate-stderr "$VMTP" --external-host u@192.0.2.9:one --controller-node u@192.0.2.8:two
	[ "${stderr_lines[0]}" = "vmtp: --controller-node: a second, different SSH password; the programs take one" ]
	[ -z "$(ls "$STANDIN_REC")" ]
}

@test "--host measures hosts, not a cloud: no credentials needed, nothing to clean up, not with -r" {
	unset OS_AUTH_URL OS_PASSWORD
	run -0 --separate-stderr "$VMTP" --host u@192.0.2.1 --host u@192.0.2.2
	[ ! -e "$STANDIN_REC/vmtp-cleanup.args" ]
	tag=$(basename "$(rundir)")
	run -0 --separate-stderr "$VMTP" --cleanup "$tag"
	[ "$stderr" = "vmtp: run $tag measured hosts, not a cloud: nothing to clean up" ]
	[ ! -e "$STANDIN_REC/vmtp-cleanup.args" ]
	: >"$BATS_TEST_TMPDIR/openrc"
	run -2 --separate-stderr "$VMTP" --host u@192.0.2.1 -r "$BATS_TEST_TMPDIR/openrc"
	[ "${stderr_lines[0]}" = "vmtp: --host measures hosts, not a cloud: not with -r (run vmtp once for each)" ]
}

@test "clean-up: after a run that passed, and after one that failed" {
	run -0 --separate-stderr "$VMTP"
	tag=$(basename "$(rundir)")
	[ "$(standin_args vmtp-cleanup)" = "[--tag][$tag]" ]
	[[ "$stderr" == *"vmtp: deleting what run $tag made in the cloud"* ]]
	rm -rf "$XDG_STATE_HOME" "$STANDIN_REC"/*
	STANDIN_PROVISION_STATUS=1 run -1 --separate-stderr "$VMTP"
	tag=$(basename "$(rundir)")
	[ "$(standin_args vmtp-cleanup)" = "[--tag][$tag]" ]
	[[ "$stderr" == *"vmtp: vmtp-provision failed (status 1)"* ]]
	# a clean-up that did not finish is named, with its command
	rm -rf "$XDG_STATE_HOME" "$STANDIN_REC"/*
	printf 'export OS_AUTH_URL=http://127.0.0.1:9/v3\n' >"$BATS_TEST_TMPDIR/openrc"
	STANDIN_CLEANUP_STATUS=1 run -1 --separate-stderr "$VMTP" -r "$BATS_TEST_TMPDIR/openrc"
	tag=$(basename "$(rundir)")
	[[ "$stderr" == *"vmtp: the clean-up did not finish; finish it with: vmtp --cleanup $tag -r $BATS_TEST_TMPDIR/openrc"* ]]
}

@test "exit status: 3 when a flow failed (FAILED in the summary), 4 on an SLA failure, the first failing program's otherwise" {
	STANDIN_RUN_ERROR="nuttcp timed out" run -3 --separate-stderr "$VMTP"
	[[ "$output" == *"Native inter  Native inter-host  192.0.2.2  192.0.2.1  FAILED"* ]]
	[[ "$output" == *"error: nuttcp timed out"* ]]
	STANDIN_COLLECT_STATUS=4 run -4 --separate-stderr "$VMTP"
	STANDIN_RUN_ERROR=x STANDIN_COLLECT_STATUS=4 run -4 --separate-stderr "$VMTP"
	STANDIN_PROVISION_STATUS=65 run -65 --separate-stderr "$VMTP"
	STANDIN_PROVISION_STATUS=2 run -2 --separate-stderr "$VMTP"
	STANDIN_RUN_STATUS=1 STANDIN_COLLECT_STATUS=4 run -1 --separate-stderr "$VMTP"
	[[ "$stderr" == *"vmtp: vmtp-run failed (status 1)"* ]]
	# a program killed by a signal is a runtime failure, named with its signal
	STANDIN_RUN_KILLED=KILL run -1 --separate-stderr "$VMTP"
	[[ "$stderr" == *"vmtp: vmtp-run was killed (SIGKILL)"* ]]
	STANDIN_RUN_KILLED=PIPE run -1 --separate-stderr "$VMTP"
	[[ "$stderr" == *"vmtp: vmtp-run was killed (SIGPIPE)"* ]]
	# SIGPIPE is the consequence: the program after it that failed is named
	STANDIN_RUN_KILLED=PIPE STANDIN_COLLECT_STATUS=65 run -65 --separate-stderr "$VMTP"
	[[ "$stderr" == *"vmtp: vmtp-collect failed (status 65)"* ]]
	[[ "$stderr" != *SIGPIPE* ]]
}

@test "--stop-on-error keeps everything when something failed, and says how to clean it" {
	printf 'export OS_AUTH_URL=http://127.0.0.1:9/v3\n' >"$BATS_TEST_TMPDIR/openrc"
	STANDIN_RUN_ERROR=x run -3 --separate-stderr "$VMTP" --stop-on-error -r "$BATS_TEST_TMPDIR/openrc"
	tag=$(basename "$(rundir)")
	[ ! -e "$STANDIN_REC/vmtp-cleanup.args" ]
	[[ "$stderr" == *"vmtp: --stop-on-error: everything is kept for inspection"* ]]
	[[ "$stderr" == *"vmtp:   delete it:        vmtp --cleanup $tag -r $BATS_TEST_TMPDIR/openrc"* ]]
	# nothing failed: cleaned up as always
	run -0 --separate-stderr "$VMTP" --stop-on-error
	[ -e "$STANDIN_REC/vmtp-cleanup.args" ]
}

@test "--keep and --keep-first-flow-and-exit leave the topology; --rerun measures it again; --cleanup deletes it" {
	run -0 --separate-stderr "$VMTP" --keep
	tag=$(basename "$(rundir)")
	[ ! -e "$STANDIN_REC/vmtp-cleanup.args" ]
	[[ "$stderr" == *"vmtp:   measure it again: vmtp --rerun $tag"* ]]
	[[ "$stderr" == *"vmtp:   delete it:        vmtp --cleanup $tag"* ]]
	first=$(jq -c . "$(rundir)/result.json")
	# --rerun: no provisioning, vmtp-run on the kept topology, new results
	rm -f "$STANDIN_REC"/*
	run -0 --separate-stderr "$VMTP" --rerun "$tag" -t 3 --json "$BATS_TEST_TMPDIR/again.json"
	[ ! -e "$STANDIN_REC/vmtp-provision.args" ]
	[ ! -e "$STANDIN_REC/vmtp-cleanup.args" ]
	[ "$(standin_args vmtp-run)" = "[-t][3]" ]
	[ "$(jq -r .run_id "$BATS_TEST_TMPDIR/again.json")" = "$tag" ]
	[ "$(jq -c . "$(rundir)/result.json")" = "$(jq -c . "$BATS_TEST_TMPDIR/again.json")" ]
	[[ "$output" == *PASSED* ]]
	[ "$(grep -c '^vmtp: run ' "$(rundir)/log")" -eq 2 ]
	# a topology option makes no sense there
	run -2 --separate-stderr "$VMTP" --rerun "$tag" --hypervisor c1
	[ "${stderr_lines[0]}" = "vmtp: --hypervisor: only for a new topology, not with --rerun" ]
	run -1 --separate-stderr "$VMTP" --rerun vmtp-0000abcd
	[ "$stderr" = "vmtp: --rerun: no topology in $XDG_STATE_HOME/vmtp/runs/vmtp-0000abcd" ]
	run -2 --separate-stderr "$VMTP" --rerun nope
	# --cleanup TAG, --cleanup --all
	rm -f "$STANDIN_REC"/*
	run -0 --separate-stderr "$VMTP" --cleanup "$tag"
	[ "$(standin_args vmtp-cleanup)" = "[--tag][$tag]" ]
	[ "$stderr" = "vmtp: 1 resource(s) deleted" ]
	run -0 --separate-stderr "$VMTP" --cleanup --all -d
	[ "$(standin_args vmtp-cleanup)" = "[-v][--all]" ]
	run -2 --separate-stderr "$VMTP" --cleanup vmtp-xyz
	[ "${stderr_lines[0]}" = "vmtp: --cleanup: 'vmtp-xyz' is neither a run tag (vmtp- and 8 hex digits) nor --all" ]
	# --keep-first-flow-and-exit: flow 1 only, and the topology stays
	rm -f "$STANDIN_REC"/*
	run -0 --separate-stderr "$VMTP" --keep-first-flow-and-exit
	has "$(standin_args vmtp-run)" "[--flows][1]"
	[ ! -e "$STANDIN_REC/vmtp-cleanup.args" ]
	[[ "$stderr" == *"vmtp:   measure it again: vmtp --rerun "* ]]
}

@test "--log-file (and --logfile): every program's messages appended, as in the run's log" {
	echo "before" >"$BATS_TEST_TMPDIR/my.log"
	run -0 --separate-stderr "$VMTP" --log-file "$BATS_TEST_TMPDIR/my.log"
	[ "$(head -n 1 "$BATS_TEST_TMPDIR/my.log")" = before ]
	grep -q '^vmtp-provision: made the stand-in topology$' "$BATS_TEST_TMPDIR/my.log"
	grep -q '^vmtp-provision: made the stand-in topology$' "$(rundir)/log"
	grep -q '^vmtp: deleting what run' "$BATS_TEST_TMPDIR/my.log"
	run -0 --separate-stderr "$VMTP" --logfile="$BATS_TEST_TMPDIR/my.log"
	[ "$(grep -c 'stand-in topology' "$BATS_TEST_TMPDIR/my.log")" -eq 2 ]
	# the terminal gets them too
	[[ "$stderr" == *"vmtp-provision: made the stand-in topology"* ]]
}

# start_vmtp ARGS: bin/vmtp in the background in a process group of its own
# (as a terminal's job: INT not ignored, however this suite was started),
# its pid in VMTP_PID; output in $BATS_TEST_TMPDIR/out, err.
start_vmtp() {
	set -m
	env --default-signal=INT "$VMTP" "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	VMTP_PID=$!
	set +m
}

# wait_file FILE: until FILE exists (10 s at most).
wait_file() {
	for _ in $(seq 100); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "no $1" >&2
	return 1
}

@test "INT while provisioning: the programs are stopped, then vmtp-cleanup --tag, status 130" {
	STANDIN_PROVISION_WAIT=1 start_vmtp
	wait_file "$STANDIN_REC/provision.waiting"
	kill -INT "$VMTP_PID"
	st=0
	wait "$VMTP_PID" || st=$?
	VMTP_PID=
	[ "$st" -eq 130 ]
	[ "$(cat "$STANDIN_REC/provision.signal")" = TERM ]
	tag=$(basename "$(rundir)")
	[ "$(standin_args vmtp-cleanup)" = "[--tag][$tag]" ]
	grep -q '^vmtp: INT: stopping; then cleaning up' "$BATS_TEST_TMPDIR/err"
	grep -q '^vmtp-provision: interrupted$' "$(rundir)/log"
	# no summary for a run cut short
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	# TERM alike, 143
	rm -rf "$STANDIN_REC"/* "$XDG_STATE_HOME"
	STANDIN_PROVISION_WAIT=1 start_vmtp
	wait_file "$STANDIN_REC/provision.waiting"
	kill -TERM "$VMTP_PID"
	st=0
	wait "$VMTP_PID" || st=$?
	VMTP_PID=
	[ "$st" -eq 143 ]
	[ -e "$STANDIN_REC/vmtp-cleanup.args" ]
	[ -z "$(ls "$TMPDIR")" ]
}

@test "a second INT stops the clean-up and prints the command that finishes it" {
	printf 'export OS_AUTH_URL=http://127.0.0.1:9/v3\n' >"$BATS_TEST_TMPDIR/openrc"
	STANDIN_PROVISION_WAIT=1 STANDIN_CLEANUP_WAIT=1 start_vmtp -r "$BATS_TEST_TMPDIR/openrc"
	wait_file "$STANDIN_REC/provision.waiting"
	# as a terminal does: the whole job
	kill -INT -- "-$VMTP_PID"
	wait_file "$STANDIN_REC/cleanup.waiting"
	kill -INT -- "-$VMTP_PID"
	st=0
	wait "$VMTP_PID" || st=$?
	VMTP_PID=
	[ "$st" -eq 130 ]
	tag=$(basename "$(rundir)")
	grep -qx "vmtp: INT: clean-up stopped; finish it with: vmtp --cleanup $tag -r $BATS_TEST_TMPDIR/openrc" "$BATS_TEST_TMPDIR/err"
	# the stopped clean-up is gone
	for _ in $(seq 50); do
		pgrep -f "$STANDIN_DIR/vmtp-cleanup" >/dev/null || break
		sleep 0.1
	done
	! pgrep -f "$STANDIN_DIR/vmtp-cleanup"
	[ -z "$(ls "$TMPDIR")" ]
}

@test "a second INT during vmtp-provision's roll-back stops it, and prints the command that finishes it" {
	STANDIN_PROVISION_WAIT=rollback start_vmtp
	wait_file "$STANDIN_REC/provision.waiting"
	kill -INT "$VMTP_PID"
	wait_file "$STANDIN_REC/provision.signal"
	kill -INT "$VMTP_PID"
	st=0
	wait "$VMTP_PID" || st=$?
	VMTP_PID=
	[ "$st" -eq 130 ]
	tag=$(basename "$(rundir)")
	grep -qx "vmtp: INT: clean-up stopped; finish it with: vmtp --cleanup $tag" "$BATS_TEST_TMPDIR/err"
	! pgrep -f "$STANDIN_DIR/vmtp-provision"
	[ ! -e "$STANDIN_REC/vmtp-cleanup.args" ]
	[ -z "$(ls "$TMPDIR")" ]
}

@test "an INT during the clean-up of a finished run lets it finish" {
	STANDIN_CLEANUP_WAIT=1 start_vmtp
	wait_file "$STANDIN_REC/cleanup.waiting"
	kill -INT "$VMTP_PID"
	for _ in $(seq 100); do
		grep -q 'cleaning up first' "$BATS_TEST_TMPDIR/err" && break
		sleep 0.1
	done
	grep -q '^vmtp: INT: cleaning up first (again to leave that to you)$' "$BATS_TEST_TMPDIR/err"
	pgrep -f "$STANDIN_DIR/vmtp-cleanup" >/dev/null
	kill -INT "$VMTP_PID"
	st=0
	wait "$VMTP_PID" || st=$?
	VMTP_PID=
	[ "$st" -eq 130 ]
}

# Native mode, the real programs: namespace hosts with a real sshd.

@test "native --host with the original's user@ip::ifname: real records, result and report in the run folder, PASSED" {
	[ "$(id -u)" -eq 0 ] || skip "namespace hosts need root"
	unset VMTP_LIBEXEC OS_AUTH_URL OS_PASSWORD
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR nshosts_up 2
	# the key and known hosts where ssh keeps them
	mkdir -p "$HOME/.ssh"
	cp "$NSH_DIR/id_ed25519" "$NSH_DIR/known_hosts" "$HOME/.ssh/"
	printf 'ssh_retry_count: 1\ntcp_tp_loop_count: 1\n' >"$BATS_TEST_TMPDIR/cfg.yaml"
	run -0 --separate-stderr "$VMTP" -c "$BATS_TEST_TMPDIR/cfg.yaml" \
		--host "root@$(nsh_ip 1)::eth0" --host "root@$(nsh_ip 2)::eth0" \
		-t 1 --protocols TI --icmp_pkt_sizes 64 --test-description "two hosts"
	d=$(rundir)
	[ "$(jq -r 'select(.type == "host") | .ip' "$d/topology.ndjson" | paste -sd' ')" = "$(nsh_ip 1) $(nsh_ip 2)" ]
	[ "$(jq -s '[.[] | select(.type == "sample" and .protocol == "TCP" and .throughput_kbps > 0)] | length' "$d/samples.ndjson")" -eq 2 ]
	[ "$(jq -s '[.[] | select(.type == "sample" and has("error"))] | length' "$d/samples.ndjson")" -eq 0 ]
	[ "$(jq -r '.test_description' "$d/result.json")" = "two hosts" ]
	[ "$(jq -r '[.flows[].desc] | join("|")' "$d/result.json")" = "Native intra-host|Native inter-host" ]
	grep -q '<svg' "$d/report.html"
	grep -qE '^  Native intra +Native intra-host .* PASSED$' <<<"$output"
	grep -qE '^  Native inter +Native inter-host .* PASSED$' <<<"$output"
	[ "${lines[-1]}" = "Report: $d/report.html" ]
	grep -q "^vmtp-provision: root@$(nsh_ip 2): SHA256:" "$d/log"
}

@test "native: -p and a password inside --host never appear in any process's argv" {
	[ "$(id -u)" -eq 0 ] || skip "namespace hosts need root"
	unset VMTP_LIBEXEC OS_AUTH_URL OS_PASSWORD
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR nshosts_up 1
	pw="pw-$RANDOM-$RANDOM" ospw="os-$RANDOM-$RANDOM"
	nsh_pw_up 1 vmtptest "$pw"
	touch "$BATS_TEST_TMPDIR/sampling"
	# every 0.1 s, every process's argv (read with builtins: no process of
	# the sampler's own carries the secrets)
	(
		while [ -e "$BATS_TEST_TMPDIR/sampling" ]; do
			for f in /proc/[0-9]*/cmdline; do
				mapfile -d '' argv <"$f" 2>/dev/null || continue
				line="${argv[*]}"
				if [[ "$line" == *"$pw"* || "$line" == *"$ospw"* ]]; then
					p=${f#/proc/}
					# vmtp's own command line, before it starts again without them
					if [ -n "$(ls "$XDG_STATE_HOME/vmtp/runs" 2>/dev/null)" ]; then
						echo "${p%/cmdline}: $line" >>"$BATS_TEST_TMPDIR/seen"
					else
						echo "${p%/cmdline}: $line" >>"$BATS_TEST_TMPDIR/early"
					fi
				fi
			done
			sleep 0.1
		done
	) &
	SAMPLER_PID=$!
	printf 'ssh_retry_count: 1\ntcp_tp_loop_count: 1\n' >"$BATS_TEST_TMPDIR/cfg.yaml"
	run --separate-stderr "$VMTP" -c "$BATS_TEST_TMPDIR/cfg.yaml" -p "$ospw" \
		--host "vmtptest@$(nsh_pw_ip 1):$pw" --known-hosts "$NSH_DIR/h1/pw/known_hosts" \
		-t 2 --protocols TI --icmp_pkt_sizes 64
	rm "$BATS_TEST_TMPDIR/sampling"
	wait "$SAMPLER_PID"
	SAMPLER_PID=
	echo "$stderr"
	[ "$status" -eq 0 ]
	# the password logged in: a real measurement over it
	[ "$(jq -s '[.[] | select(.type == "sample" and .protocol == "TCP" and .throughput_kbps > 0)] | length' "$(rundir)/samples.ndjson")" -eq 1 ]
	[[ "$output" == *PASSED* ]]
	if [ -e "$BATS_TEST_TMPDIR/seen" ]; then
		cat "$BATS_TEST_TMPDIR/seen" >&2
		false
	fi
	! grep -rqF -e "$pw" -e "$ospw" "$XDG_STATE_HOME"
}

@test "make install DESTDIR=... PREFIX=/usr: vmtp, the programs, pages and completions" {
	command -v groff >/dev/null || skip "needs groff"
	root=$BATS_TEST_TMPDIR/root
	run -0 make -C "$VMTP_ROOT" install DESTDIR="$root" PREFIX=/usr BINDIR="$VMTP_BIN"
	for p in vmtp vmtp-provision vmtp-run vmtp-collect vmtp-chart vmtp-cleanup; do
		[ -x "$root/usr/bin/$p" ]
		[ -s "$root/usr/share/man/man1/$p.1" ]
		[ -s "$root/usr/share/bash-completion/completions/$p" ]
	done
	[ -s "$root/usr/share/man/man5/vmtp-records.5" ]
	unset VMTP_LIBEXEC
	run -0 env PATH=/usr/bin:/bin "$root/usr/bin/vmtp" --help
	[[ "${lines[0]}" == "usage: vmtp "* ]]
	# the installed vmtp finds the programs installed beside it
	run -0 env PATH=/usr/bin:/bin "$root/usr/bin/vmtp" --version
	[ "$output" = "vmtp $(vmtp-provision --version | cut -d' ' -f2)" ]
	for page in "$root"/usr/share/man/man1/*.1 "$root"/usr/share/man/man5/*.5; do
		run -0 --separate-stderr groff -mandoc -Tutf8 -ww "$page"
		[ -z "$stderr" ]
		[ "${#lines[@]}" -gt 20 ]
	done
	# as man shows it, without the overstrikes of bold and underline
	run -0 bash -c "groff -mandoc -Tutf8 '$root/usr/share/man/man1/vmtp.1' | sed 's/.\x08//g'"
	[[ "$output" == *"EXIT STATUS"* ]]
	[[ "$output" == *"vmtp -r admin-openrc.sh -p PASSWORD --json res.json"* ]]
}

@test "bash completion: each program completes the options of its --help" {
	unset VMTP_LIBEXEC
	PATH=$VMTP_ROOT/bin:$PATH
	for p in vmtp vmtp-provision vmtp-run vmtp-collect vmtp-chart vmtp-cleanup; do
		# shellcheck disable=SC1090
		source "$VMTP_ROOT/share/bash-completion/completions/$p"
		fn=$(complete -p "$p" | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
		[ -n "$fn" ]
		COMP_WORDS=("$p" -)
		COMP_CWORD=1
		COMPREPLY=()
		"$fn" "$p" - "$p"
		offered=$(printf '%s\n' "${COMPREPLY[@]}" | sort -u)
		# the options on the lines of --help that start with one
		want=$("$p" --help | grep -E '^ *-' | grep -oE -- '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9_-]*' |
			tr -d ' ,' | sort -u)
		[ "$(wc -l <<<"$want")" -gt 5 ]
		[ "$offered" = "$want" ] || { diff <(echo "$want") <(echo "$offered") >&2; false; }
	done
	# a word after an option with a fixed set of values
	source "$VMTP_ROOT/share/bash-completion/completions/vmtp"
	COMP_WORDS=(vmtp --tp-tool "")
	COMP_CWORD=2
	_vmtp vmtp "" --tp-tool
	[ "${COMPREPLY[*]}" = "nuttcp iperf" ]
	source "$VMTP_ROOT/share/bash-completion/completions/vmtp-run"
	COMP_WORDS=(vmtp-run --tp-tool i)
	_vmtp_run vmtp-run i --tp-tool
	[ "${COMPREPLY[*]}" = "iperf3" ]
}

@test "bin/vmtp and the completions are what they claim: POSIX sh and bash, clean for shellcheck" {
	run -0 dash -n "$VMTP"
	command -v shellcheck >/dev/null || skip "shellcheck is not installed (make deps-test)"
	run -0 shellcheck -s sh "$VMTP"
	run -0 shellcheck -s bash "$VMTP_ROOT"/share/bash-completion/completions/*
	# the script itself runs under dash: no bash in between
	[ "$(head -n 1 "$VMTP")" = "#!/bin/sh" ]
}

@test "bin/vmtp is source, not a build output: git keeps it, make clean leaves it" {
	run -0 make -n -C "$VMTP_ROOT" clean
	[[ " $output " != *" bin/vmtp "* ]]
	[[ "$output" == *"bin/vmtp-run"* ]]
	git -C "$VMTP_ROOT" rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
	run -1 git -C "$VMTP_ROOT" check-ignore -q bin/vmtp
	run -0 git -C "$VMTP_ROOT" check-ignore -q bin/vmtp-run
}
