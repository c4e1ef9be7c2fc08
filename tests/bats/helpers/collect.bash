# collect.bash - helpers for vmtp-collect.bats (after helpers/common): free
# loopback ports, a real gmond and node_exporter started and stopped by pid,
# the MongoDB wire-protocol peer, a stand-in for a broken gmond, and
# fixtures with times around now.

COLLECT_FIXTURES="$FIXTURES/collect"
PY=/usr/bin/python3

# Prints a TCP (or, with "udp", UDP) port free on 127.0.0.1 right now.
free_port() {
	$PY -c 'import socket, sys
s = socket.socket(socket.AF_INET,
    socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "${1:-tcp}"
}

# Waits up to $2 tenths of a second for command $1 to succeed.
wait_for() {
	local i
	for ((i = 0; i < $2; i++)); do
		eval "$1" && return 0
		sleep 0.1
	done
	return 1
}

# Starts a real gmond on loopback; sets GMOND_PORT and GMOND_PIDFILE.
# Returns once it reports cpu_user, cpu_system and cpu_num.
gmond_start() {
	local udp dir="$BATS_TEST_TMPDIR/gmond"
	mkdir -p "$dir"
	udp=$(free_port udp)
	GMOND_PORT=$(free_port)
	GMOND_PIDFILE="$dir/gmond.pid"
	"$VMTP_ROOT/tests/tools/gmond-conf" "$GMOND_PORT" "$udp" yes > "$dir/gmond.conf"
	/usr/sbin/gmond -c "$dir/gmond.conf" -p "$GMOND_PIDFILE"
	wait_for "gmond_has_cpu" 100
}

gmond_has_cpu() {
	local xml
	xml=$($PY -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)
b = b""
while True:
    c = s.recv(65536)
    if not c: break
    b += c
sys.stdout.write(b.decode("latin-1"))' "$GMOND_PORT" 2>/dev/null) || return 1
	[[ $xml == *'NAME="cpu_user"'* && $xml == *'NAME="cpu_num"'* ]]
}

gmond_stop() {
	if [ -n "${GMOND_PIDFILE:-}" ] && [ -s "$GMOND_PIDFILE" ]; then
		kill "$(cat "$GMOND_PIDFILE")" 2>/dev/null || true
		wait_for "! kill -0 $(cat "$GMOND_PIDFILE") 2>/dev/null" 50 || true
		rm -f "$GMOND_PIDFILE"
	fi
}

# Starts prometheus-node-exporter with the cpu collector on loopback; sets
# EXPORTER_URL and EXPORTER_PID.
exporter_start() {
	local port
	port=$(free_port)
	/usr/bin/prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
		--collector.disable-defaults --collector.cpu \
		>"$BATS_TEST_TMPDIR/exporter.log" 2>&1 &
	EXPORTER_PID=$!
	EXPORTER_URL="http://127.0.0.1:$port/metrics"
	wait_for "curl -fs '$EXPORTER_URL' | grep -q '^node_cpu_seconds_total'" 100
}

exporter_stop() {
	if [ -n "${EXPORTER_PID:-}" ]; then
		kill "$EXPORTER_PID" 2>/dev/null || true
		wait "$EXPORTER_PID" 2>/dev/null || true
		EXPORTER_PID=
	fi
}

# Starts tests/mongo-peer.py in mode $1; sets MONGO_PORT, MONGO_OUT, MONGO_PID.
mongo_peer_start() {
	MONGO_OUT="$BATS_TEST_TMPDIR/mongo.out"
	rm -f "$BATS_TEST_TMPDIR/mongo.port"
	$PY "$VMTP_ROOT/tests/mongo-peer.py" --mode "$1" \
		--port-file "$BATS_TEST_TMPDIR/mongo.port" --out "$MONGO_OUT" &
	MONGO_PID=$!
	wait_for "[ -s '$BATS_TEST_TMPDIR/mongo.port' ]" 100
	MONGO_PORT=$(cat "$BATS_TEST_TMPDIR/mongo.port")
}

mongo_peer_stop() {
	if [ -n "${MONGO_PID:-}" ]; then
		kill "$MONGO_PID" 2>/dev/null || true
		wait "$MONGO_PID" 2>/dev/null || true
		MONGO_PID=
	fi
}

# Starts a TCP server on loopback that answers every connection with the
# bytes of file $1 ("" : accepts and never answers); sets FAKE_PORT, FAKE_PID.
fake_start() {
	rm -f "$BATS_TEST_TMPDIR/fake.port" "$BATS_TEST_TMPDIR/fake.port.log"
	$PY "$BATS_TEST_DIRNAME/helpers/serve-file.py" "$1" \
		"$BATS_TEST_TMPDIR/fake.port" &
	FAKE_PID=$!
	wait_for "[ -s '$BATS_TEST_TMPDIR/fake.port' ]" 100
	FAKE_PORT=$(cat "$BATS_TEST_TMPDIR/fake.port")
}

# fake_count WHAT N: true once the stand-in has WHAT (accepted or answered)
# N connections.
fake_count() {
	[ "$(grep -cx "$1" "$BATS_TEST_TMPDIR/fake.port.log" 2>/dev/null)" -ge "$2" ]
}

fake_stop() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
		FAKE_PID=
	fi
}

# Writes the fixture run.ndjson with its times @T0@..@T6@ set to $1 + 0,
# 2, 4, 6, 8, 9, 10 seconds (default: fixed times in 2026).
fixture() {
	local b=${1:-1795600000}
	sed -e "s/@T0@/$b/g; s/@T1@/$((b + 2))/g; s/@T2@/$((b + 4))/g" \
		-e "s/@T3@/$((b + 6))/g; s/@T4@/$((b + 8))/g" \
		-e "s/@T5@/$((b + 9))/g; s/@T6@/$((b + 10))/g" \
		"$COLLECT_FIXTURES/run.ndjson"
}

# collect_until CONDITION ARGS...: vmtp-collect ARGS on the fixture (or on
# $COLLECT_INPUT's lines, none when it is set empty), its input held open until CONDITION holds (at
# most 30 s), so that the polls a test asserts about have been made before
# the end of input.  CONDITION may read vmtp-collect's stderr so far in
# $BATS_TEST_TMPDIR/cu.err.  Sets status, output and stderr as
# `run --separate-stderr` does.
collect_until() {
	local cond=$1 d=$BATS_TEST_TMPDIR pid
	shift
	rm -f "$d/cu.in" && mkfifo "$d/cu.in"
	vmtp-collect "$@" <"$d/cu.in" >"$d/cu.out" 2>"$d/cu.err" &
	pid=$!
	{
		if [ -z "${COLLECT_INPUT+set}" ]; then
			fixture
		elif [ -n "$COLLECT_INPUT" ]; then
			printf '%s\n' "$COLLECT_INPUT"
		fi
		wait_for "$cond" 300 || echo "# collect_until: '$cond' never held" >&2
	} >"$d/cu.in"
	status=0
	wait "$pid" || status=$?
	output=$(cat "$d/cu.out")
	stderr=$(cat "$d/cu.err")
}
