# helpers/standins.bash - recording stand-ins for the five programs, so that
# bin/vmtp's own work (which option reaches which program, the run folder,
# exit statuses, signals, clean-up) is tested without a cloud.  The
# programs themselves are tested in their own suites.
#
#   standins_up          writes them to $STANDIN_DIR (on VMTP_LIBEXEC); each
#                        records its argv, one [word] after another, in
#                        $STANDIN_REC/PROG.args and its OS_* and
#                        VMTP_SSH_PASSWORD variables in $STANDIN_REC/PROG.env
#   standin_args PROG    what PROG got: "[-c][f][--tag][vmtp-...]"
#
# What they do:
#   vmtp-provision  a run record (mode native with --host, else cloud), a
#                   resource record in cloud mode, two hosts and one flow;
#                   --show-config prints "# the defaults"; exits
#                   $STANDIN_PROVISION_STATUS; with STANDIN_PROVISION_WAIT
#                   it writes the run record, touches provision.waiting and
#                   waits for TERM (recorded in provision.signal, status 1);
#                   with STANDIN_PROVISION_WAIT=rollback it goes on after
#                   TERM (a slow roll-back) until killed
#   vmtp-run        passes its input on and adds a TCP sample per flow (an
#                   error sample with STANDIN_RUN_ERROR); exits
#                   $STANDIN_RUN_STATUS, or 3 with the error; given no
#                   input (vmtp's preflight) exits 0, or 2 when that is
#                   $STANDIN_RUN_STATUS; with STANDIN_RUN_KILLED=SIG it
#                   ends by signal SIG instead
#   vmtp-collect    the real vmtp-collect with its --json and --sla only (no
#                   gmond or MongoDB is asked); exits $STANDIN_COLLECT_STATUS
#                   when set
#   vmtp-chart      the real one
#   vmtp-cleanup    a deleted record per --tag; exits
#                   $STANDIN_CLEANUP_STATUS; with STANDIN_CLEANUP_WAIT it
#                   touches cleanup.waiting and waits to be killed
#   vmtp-provision --version: the real one's answer.

standins_up() {
	STANDIN_DIR=$BATS_TEST_TMPDIR/standins
	STANDIN_REC=$BATS_TEST_TMPDIR/rec
	export STANDIN_DIR STANDIN_REC VMTP_LIBEXEC=$STANDIN_DIR STANDIN_REAL=$VMTP_BIN
	mkdir -p "$STANDIN_DIR" "$STANDIN_REC"
	local p
	for p in vmtp-provision vmtp-run vmtp-collect vmtp-chart vmtp-cleanup; do
		{
			echo '#!/bin/bash'
			echo "prog=$p"
			# shellcheck disable=SC2016
			echo 'for a; do printf "[%s]" "$a"; done > "$STANDIN_REC/$prog.args"
env | grep -E "^(OS_[A-Z_]*|VMTP_SSH_PASSWORD)=" | sort > "$STANDIN_REC/$prog.env"'
			declare -f "standin_${p//-/_}" | sed '1,2d;$d'
		} > "$STANDIN_DIR/$p"
		chmod +x "$STANDIN_DIR/$p"
	done
}

standin_args() {
	cat "$STANDIN_REC/$1.args"
}

# shellcheck disable=SC2317,SC2016
standin_vmtp_provision() {
	{
	case " $* " in *" --version "*) exec "$STANDIN_REAL/vmtp-provision" --version ;; esac
	case " $* " in *" --show-config "*) echo "# the defaults"; exit 0 ;; esac
	tag=vmtp-00000000 mode=cloud
	while [ $# -gt 0 ]; do
		case $1 in
		--tag) tag=$2; shift ;;
		--host) mode=native ;;
		esac
		shift
	done
	echo "{\"type\":\"run\",\"run\":\"$tag\",\"v\":1,\"date\":\"2026-01-02T03:04:05Z\",\"version\":\"0.1.0\",\"args\":\"stand-in\",\"mode\":\"$mode\"}"
	if [ "${STANDIN_PROVISION_WAIT:-}" = rollback ]; then
		# a roll-back that takes its time
		trap 'echo TERM > "$STANDIN_REC/provision.signal"; echo "vmtp-provision: rolling back" >&2' TERM
		touch "$STANDIN_REC/provision.waiting"
		while :; do sleep 0.1; done
	elif [ -n "${STANDIN_PROVISION_WAIT:-}" ]; then
		trap 'echo TERM > "$STANDIN_REC/provision.signal"; echo "vmtp-provision: interrupted" >&2; exit 1' TERM
		touch "$STANDIN_REC/provision.waiting"
		while :; do sleep 0.1; done
	fi
	[ "$mode" = native ] ||
		echo "{\"type\":\"resource\",\"run\":\"$tag\",\"kind\":\"network\",\"id\":\"n1\",\"name\":\"net\",\"created\":true}"
	echo "{\"type\":\"host\",\"run\":\"$tag\",\"name\":\"host1\",\"role\":\"native\",\"ssh\":{\"host\":\"192.0.2.1\",\"user\":\"u\"},\"ip\":\"192.0.2.1\"}"
	echo "{\"type\":\"host\",\"run\":\"$tag\",\"name\":\"host2\",\"role\":\"native\",\"ssh\":{\"host\":\"192.0.2.2\",\"user\":\"u\"},\"ip\":\"192.0.2.2\"}"
	echo "{\"type\":\"flow\",\"run\":\"$tag\",\"id\":1,\"desc\":\"Native inter-host\",\"client\":\"host2\",\"server\":\"host1\",\"target\":\"192.0.2.1\",\"bidirectional\":false}"
	echo "vmtp-provision: made the stand-in topology" >&2
	exit "${STANDIN_PROVISION_STATUS:-0}"
	}
}

# shellcheck disable=SC2317,SC2016
standin_vmtp_run() {
	{
	input=$(cat)
	# given no records (vmtp's preflight), the real one fails only on its
	# options: a usage error
	if [ -z "$input" ] && [ "${STANDIN_RUN_STATUS:-0}" != 2 ]; then
		exit 0
	fi
	printf '%s\n' "$input" | jq -c --arg err "${STANDIN_RUN_ERROR:-}" '., (select(.type == "flow") |
		{type: "sample", run, flow: .id, protocol: "TCP", tool: "nuttcp-8.2.2",
		 pkt_size: 65536, t_start: 1700000000.0, t_end: 1700000001.0}
		+ (if $err == "" then {throughput_kbps: 1048576, retrans: 0} else {error: $err} end))'
	[ -z "${STANDIN_RUN_ERROR:-}" ] || exit 3
	[ -z "${STANDIN_RUN_KILLED:-}" ] || kill -s "$STANDIN_RUN_KILLED" $$
	exit "${STANDIN_RUN_STATUS:-0}"
	}
}

# shellcheck disable=SC2317,SC2016
standin_vmtp_collect() {
	{
	args=()
	while [ $# -gt 0 ]; do
		case $1 in --json | --sla) args+=("$1" "$2") ;; esac
		shift
	done
	"$STANDIN_REAL/vmtp-collect" "${args[@]}" || exit
	exit "${STANDIN_COLLECT_STATUS:-0}"
	}
}

# shellcheck disable=SC2317,SC2016
standin_vmtp_chart() {
	{
	exec "$STANDIN_REAL/vmtp-chart" "$@"
	}
}

# shellcheck disable=SC2317,SC2016
standin_vmtp_cleanup() {
	{
	if [ -n "${STANDIN_CLEANUP_WAIT:-}" ]; then
		touch "$STANDIN_REC/cleanup.waiting"
		while :; do sleep 0.1; done
	fi
	while [ $# -gt 0 ]; do
		[ "$1" != --tag ] || echo "{\"type\":\"deleted\",\"run\":\"$2\",\"kind\":\"network\",\"id\":\"n1\",\"name\":\"net\"}"
		shift
	done
	exit "${STANDIN_CLEANUP_STATUS:-0}"
	}
}
