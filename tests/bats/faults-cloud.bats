#!/usr/bin/env bats
# faults-cloud.bats - bin/vmtp on a minicloud whose APIs misbehave (issue 15,
# SPEC §6, §9): 5xx and 429 with Retry-After on every service, dropped
# connections, slow answers, tokens expiring while provisioning waits for the
# servers, creates whose answer is lost.  Each run completes, or fails with
# one message and status 1; either way nothing of it is left in the cloud,
# cleaned up while the faults are still on.  And the secrets test: the
# password, the tokens and an application credential's secret never reach
# the outputs, the log, the journal, the run folder, the documents or a
# child's argv or environment.  Runs are short: two VMs, one flow, pings.

load helpers/common
load helpers/minicloud
load helpers/collect

VMTP=$VMTP_ROOT/bin/vmtp

setup_file() {
	minicloud_up --computes 2 --boot-delay 1 --tenant-routes
	minicloud_require
	os security group list >/dev/null
	snapshot >"$BATS_FILE_TMPDIR/base"
}

teardown_file() {
	minicloud_down
}

setup() {
	minicloud_require
	minicloud_user_env
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	CFG=$BATS_TEST_TMPDIR/vmtp.yaml
	cp "$MINICLOUD_DIR/vmtp.yaml" "$CFG"
	printf 'ping_count: 2\nicmp_pkt_sizes: [64]\n' >>"$CFG"
	BASE=$(cat "$BATS_FILE_TMPDIR/base")
	LOG0=$(wc -l <"$MINICLOUD_DIR/api.log")
}

teardown() {
	[ -z "${VMTP_PID:-}" ] || kill -9 -- "-$VMTP_PID" 2>/dev/null || true
	[ -z "${SAMPLER_PID:-}" ] || kill "$SAMPLER_PID" 2>/dev/null || true
	mongo_peer_stop
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear || true
}

snapshot() {
	"$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -S 'map_values([.[].name] | sort)'
}

rundir() {
	ls -d "$XDG_STATE_HOME"/vmtp/runs/vmtp-* 2>/dev/null || true
}

# the cloud as before, and no journal left
as_before() {
	local now
	now=$(snapshot)
	if [ "$now" != "$BASE" ]; then
		diff <(echo "$BASE") <(echo "$now") >&2
		return 1
	fi
	[ -z "$(ls "$XDG_STATE_HOME"/vmtp/*.ndjson 2>/dev/null)" ]
}

# api.log since the test began, the clients' requests only
api_since() {
	tail -n +$((LOG0 + 1)) "$MINICLOUD_DIR/api.log" | grep -v '^internal '
}

# the short run every fault test makes: two VMs on one network, pings
ARGS=(-t 1 --protocols I --inter-node-only --same-network-only)

# finished: status 0 with every flow PASSED; or status 1 with one "vmtp"
# error line naming what failed.  Either way the cloud as before.
finished() {
	echo "status $status" >&2
	cat "$BATS_TEST_TMPDIR/err" >&2
	if [ "$status" -eq 0 ]; then
		grep -q ' PASSED$' "$BATS_TEST_TMPDIR/out"
		! grep -q FAILED "$BATS_TEST_TMPDIR/out"
	else
		[ "$status" -eq 1 ]
		[ "$(grep -c 'error' "$BATS_TEST_TMPDIR/err")" -eq 1 ]
	fi
	as_before
}

@test "5xx and 429 at 30 % on every service with Retry-After, and 5 % dropped connections: the run completes; cleanup under the same faults leaves nothing" {
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --rate 0.3 --status 503,429,502 --retry-after 1 --drop 0.05
	status=0
	"$VMTP" -r "$MINICLOUD_DIR/openrc" -c "$CFG" "${ARGS[@]}" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || status=$?
	cat "$BATS_TEST_TMPDIR/out" >&2
	finished
	[ "$status" -eq 0 ]
	# every kind of fault was met, on more than one service
	api_since >"$BATS_TEST_TMPDIR/api"
	for st in 503 429 502 0; do
		grep -q " $st [0-9.]*$" "$BATS_TEST_TMPDIR/api"
	done
	for svc in compute network; do
		grep -Eq "^$svc .* (503|429|502) [0-9.]*$" "$BATS_TEST_TMPDIR/api"
	done
	# a second cleanup, --all, under the faults: nothing to do, status 0
	run -0 --separate-stderr vmtp-cleanup --all -r "$MINICLOUD_DIR/openrc"
	[ -z "$output" ]
	as_before
}

@test "compute answers 2 s slow, and the tokens expire while provisioning waits for the servers: the run completes; the cloud as before" {
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --delay 2000 --service compute
	set -m
	"$VMTP" -r "$MINICLOUD_DIR/openrc" -c "$CFG" "${ARGS[@]}" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	VMTP_PID=$!
	set +m
	# provisioning has booted the servers and polls them: expire every token issued so far
	for _ in $(seq 1200); do
		api_since | grep -q '^compute POST /v2.1/servers ' && break
		kill -0 "$VMTP_PID" 2>/dev/null || break
		sleep 0.1
	done
	api_since | grep -q '^compute POST /v2.1/servers '
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --expire-tokens
	mark=$(wc -l <"$MINICLOUD_DIR/api.log")
	status=0
	wait "$VMTP_PID" || status=$?
	VMTP_PID=
	finished
	[ "$status" -eq 0 ]
	# provisioning's token was refused while it waited for the servers; it took a new one
	tail -n +$((mark + 1)) "$MINICLOUD_DIR/api.log" | grep -v '^internal ' >"$BATS_TEST_TMPDIR/api"
	grep -q '^compute GET /v2.1/servers/detail 401 ' "$BATS_TEST_TMPDIR/api"
	grep -q '^identity POST /v3/auth/tokens 201 ' "$BATS_TEST_TMPDIR/api"
	# every compute answer was slow, the others not
	! api_since | awk '$1 == "compute" && $5 < 2000' | grep -q .
	api_since | awk '$1 == "network" && $5 < 2000' | grep -q .
}

# counts: how many of each kind the cloud holds
counts() {
	"$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -c 'map_values(length)'
}

@test "creates whose answer is lost: looked for before they are sent again, never made twice; all journalled; cleanup leaves nothing" {
	T=vmtp-7a1e0fa1
	before=$(counts)
	# every create reaches the cloud and its answer is lost
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --drop-after 1 --service compute,network
	run --separate-stderr vmtp-provision -r "$MINICLOUD_DIR/openrc" -c "$CFG" --tag $T \
		--inter-node-only --same-network-only
	echo "$stderr"
	[ "$status" -eq 0 ]
	api_since >"$BATS_TEST_TMPDIR/api"
	# lost answers to creates of both services, the servers' among them
	grep -q '^compute POST /v2.1/servers 0 ' "$BATS_TEST_TMPDIR/api"
	grep -q '^network POST /v2.0/networks 0 ' "$BATS_TEST_TMPDIR/api"
	[[ "$stderr" == *'the answer to "create server'*'was lost: looking whether it was done'* ]]
	# what the cloud holds more is what the run journalled, one of each
	now=$(counts)
	j=$XDG_STATE_HOME/vmtp/$T.ndjson
	for kind in server:servers network:networks subnet:subnets router:routers \
		security_group:security_groups floatingip:floatingips keypair:keypairs; do
		made=$(jq -s --arg k "${kind%%:*}" '[.[] | select(.type == "resource" and .kind == $k and .created)] | length' "$j")
		more=$(jq -n --argjson a "$before" --argjson b "$now" --arg c "${kind#*:}" '$b[$c] - $a[$c]')
		echo "${kind%%:*}: journalled $made, made $more" >&2
		[ "$made" -eq "$more" ]
	done
	[ "$(jq -s '[.[] | select(.kind == "server")] | length' "$j")" -eq 2 ]
	run -0 --separate-stderr vmtp-cleanup --tag $T -r "$MINICLOUD_DIR/openrc"
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear
	as_before
}

# spy_on PROG...: wrappers ahead in PATH that append their argv and
# environment to $SPY (NUL-separated), then run the real program.
spy_on() {
	local p real
	mkdir -p "$BATS_TEST_TMPDIR/spy"
	SPY=$BATS_TEST_TMPDIR/spy.log
	for p in "$@"; do
		[ ! -e "$BATS_TEST_TMPDIR/spy/$p" ] || continue
		real=$(command -v "$p")
		printf '#!/bin/sh\n{ printf "%%s\\0" "== %s" "$@"; cat /proc/$$/environ; } >>"%s"\nexec %s "$@"\n' \
			"$p" "$SPY" "$real" >"$BATS_TEST_TMPDIR/spy/$p"
		chmod +x "$BATS_TEST_TMPDIR/spy/$p"
	done
	case :$PATH: in *":$BATS_TEST_TMPDIR/spy:"*) ;; *) PATH=$BATS_TEST_TMPDIR/spy:$PATH ;; esac
}

# sample_start PATTERNS: until sample_stop, every 50 ms, the command line
# and the environment of every process in bin/vmtp's process group: lines
# "PID COMM cmdline" and "PID COMM environ" for those holding a line of
# the file PATTERNS.
sample_start() {
	SAMPLES=$BATS_TEST_TMPDIR/samples
	: >"$SAMPLES"
	(
		while kill -0 "$VMTP_PID" 2>/dev/null; do
			for pid in $(ps -e -o pid=,pgid= | awk -v g="$VMTP_PID" '$2 == g { print $1 }'); do
				comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
				for what in cmdline environ; do
					if grep -qaF -f "$1" "/proc/$pid/$what" 2>/dev/null; then
						echo "$pid $comm $what" >>"$SAMPLES"
					fi
				done
				echo "$pid $comm seen" >>"$SAMPLES"
			done
			sleep 0.05
		done
	) &
	SAMPLER_PID=$!
}

# no_secret PATTERNS FILE...: none of the files holds a line of PATTERNS,
# nor a Fernet token (every Keystone token vmtp got starts with gAAAAA).
no_secret() {
	local pat=$1
	shift
	if grep -raF -f "$pat" -e gAAAAA "$@"; then
		echo "a secret in the files above" >&2
		return 1
	fi
}

# secrets_run PATTERNS ARGS...: bin/vmtp -d --log-file --keep with ARGS
# under the spies and the sampler, the result also to MongoDB; then checks
# that no secret of PATTERNS is in any output, file or document, that only
# vmtp's own stages had one in their environment, and key files' modes;
# then vmtp --cleanup leaves the cloud as before.
secrets_run() {
	local pat=$1 d tag
	shift
	rm -f "$BATS_TEST_TMPDIR/mongo.out"
	mongo_peer_start accept
	spy_on ssh-keygen gnuplot jq
	set -m
	"$VMTP" -d --log-file "$BATS_TEST_TMPDIR/vmtp.log" --keep -c "$CFG" "${ARGS[@]}" \
		--mongod-server "127.0.0.1:$MONGO_PORT" --json "$BATS_TEST_TMPDIR/copy.json" "$@" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	VMTP_PID=$!
	set +m
	# from its run folder on, bin/vmtp has put -p's password away
	for _ in $(seq 300); do
		[ -z "$(rundir)" ] || break
		sleep 0.05
	done
	sample_start "$pat"
	status=0
	wait "$VMTP_PID" || status=$?
	VMTP_PID=
	wait "$SAMPLER_PID" || true
	SAMPLER_PID=
	cat "$BATS_TEST_TMPDIR/err" >&2
	[ "$status" -eq 0 ]
	d=$(rundir)
	tag=${d##*/}
	# the stages were seen
	for p in vmtp-provision vmtp-run vmtp-collect; do
		grep -q " $p seen$" "$SAMPLES"
	done
	grep -q ssh-keygen "$SPY"
	# the -d messages went to the log file, the journal is still there (--keep)
	grep -q 'vmtp-provision: .*GET' "$BATS_TEST_TMPDIR/vmtp.log"
	[ -s "$XDG_STATE_HOME/vmtp/$tag.ndjson" ]
	[ "$(wc -l <"$MONGO_OUT")" -eq 1 ]
	no_secret "$pat" "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" "$BATS_TEST_TMPDIR/vmtp.log" \
		"$XDG_STATE_HOME" "$BATS_TEST_TMPDIR/copy.json" "$MONGO_OUT" "$SPY"
	# no child's argv ever; the environment of vmtp's own stages only
	! grep ' cmdline$' "$SAMPLES"
	# (bin/vmtp is "vmtp", or "sh" once it started again without -p)
	! grep ' environ$' "$SAMPLES" | grep -Ev ' (vmtp|sh|vmtp-provision|vmtp-run|vmtp-collect|vmtp-chart|vmtp-cleanup) environ$'
	# key files 0600 in a 0700 folder
	find "$XDG_STATE_HOME" -name '*key*' -type f >"$BATS_TEST_TMPDIR/keys"
	grep -q . "$BATS_TEST_TMPDIR/keys"
	while read -r k; do
		case $k in *.pub) continue ;; esac
		[ "$(stat -c %a "$k")" = 600 ]
		[ "$(stat -c %a "${k%/*}")" = 700 ]
	done <"$BATS_TEST_TMPDIR/keys"
	# the document's args mask the hosts' values, as the original does
	jq -r .args "$d/result.json" >&2
	jq -e '.args | test("--external-host <MASKED>")' "$d/result.json"
	! jq -r .args "$d/result.json" | grep -F "$EXT_LOGIN"
	jq -e '.doc.args | test("--external-host <MASKED>")' "$MONGO_OUT"
	run -0 --separate-stderr "$VMTP" --cleanup "$tag" "${CLEANUP_CREDS[@]}"
	as_before
	mongo_peer_stop
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear
}

@test "secrets: the password (-p), the tokens and an application credential's secret are in no output, log, journal, run folder, document or child's argv, and in the environment of vmtp's stages only" {
	EXT_LOGIN=$(sed -n 's/^login=//p' "$MINICLOUD_DIR/external-host")
	key=$(sed -n 's/^key=//p' "$MINICLOUD_DIR/external-host")
	pw=$(sed -n 's/^export OS_PASSWORD=//p' "$MINICLOUD_DIR/openrc" | tr -d "'\"")
	[ -n "$pw" ]
	token=$(os token issue -f value -c id)
	[[ "$token" == gAAAAA* ]]
	ac_secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	run -0 os application credential create "faults-$BATS_SUITE_TEST_NUMBER" --secret "$ac_secret" -f value -c id
	ac_id=$output
	printf '%s\n' "$pw" "$token" "$ac_secret" >"$BATS_TEST_TMPDIR/secrets"
	host=(--external-host "$EXT_LOGIN" --ssh-key "$key" --hostkey-policy accept-new
		--known-hosts "$BATS_TEST_TMPDIR/known_hosts")

	# the password: -p over an openrc without one
	grep -v '^export OS_PASSWORD=' "$MINICLOUD_DIR/openrc" >"$BATS_TEST_TMPDIR/openrc"
	CLEANUP_CREDS=(-r "$BATS_TEST_TMPDIR/openrc" -p "$pw")
	secrets_run "$BATS_TEST_TMPDIR/secrets" -r "$BATS_TEST_TMPDIR/openrc" -p "$pw" "${host[@]}"
	grep -q 'warning: a password given on the command line' "$BATS_TEST_TMPDIR/err"

	# the application credential, from a clouds.yaml
	auth_url=$(sed -n 's/^export OS_AUTH_URL=//p' "$MINICLOUD_DIR/openrc" | tr -d "'\"")
	cat >"$BATS_TEST_TMPDIR/clouds.yaml" <<-YAML
		clouds:
		  ac:
		    auth_type: v3applicationcredential
		    auth:
		      auth_url: $auth_url
		      application_credential_id: $ac_id
		      application_credential_secret: $ac_secret
		    region_name: RegionOne
	YAML
	rm -rf "$XDG_STATE_HOME"
	export OS_CLIENT_CONFIG_FILE=$BATS_TEST_TMPDIR/clouds.yaml OS_CLOUD=ac
	CLEANUP_CREDS=()
	secrets_run "$BATS_TEST_TMPDIR/secrets" "${host[@]}"
	grep -q '^identity POST /v3/auth/tokens 201 ' "$MINICLOUD_DIR/api.log"
}
