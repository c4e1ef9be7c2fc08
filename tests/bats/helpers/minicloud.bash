# helpers/minicloud.bash - one minicloud (SPEC §9) per suite: `minicloud_up` in setup_file, `minicloud_down`
# in teardown_file, and the official client as the member user (`os`) or the admin (`os_admin`).
#
#   setup_file()    { minicloud_up --computes 2; }
#   teardown_file() { minicloud_down; }
#   setup()         { minicloud_require; }      # skips without root; fails when the cloud could not be made
#
# The cloud's folder is $BATS_FILE_TMPDIR/minicloud (MINICLOUD_DIR); it holds openrc, admin-openrc,
# clouds.yaml (clouds minicloud and minicloud-admin), vmtp.yaml and api.log.
bats_require_minimum_version 1.5.0

MINICLOUD=${MINICLOUD:-$(cd "$BATS_TEST_DIRNAME/../minicloud" && pwd)/minicloud}
OPENSTACK=${OPENSTACK:-/usr/bin/openstack}

# minicloud_up [up options]: starts the suite's cloud.  Without root the
# suite's tests skip (a developer's plain `bats`); as root (make check, CI)
# missing packages or a failed `up` make every test fail with the reason,
# never a silent skip.
minicloud_up() {
	export MINICLOUD_DIR="$BATS_FILE_TMPDIR/minicloud"
	export XDG_CACHE_HOME="$BATS_FILE_TMPDIR/cache"
	rm -f "$BATS_FILE_TMPDIR/minicloud.skip" "$BATS_FILE_TMPDIR/minicloud.fail"
	local why=
	if [ "$(id -u)" -ne 0 ]; then
		echo "minicloud needs root" >"$BATS_FILE_TMPDIR/minicloud.skip"
		return 0
	fi
	if ! command -v keystone-manage neutron-server glance-api uwsgi >/dev/null ||
		[ ! -x "$OPENSTACK" ]; then
		why="minicloud needs keystone, neutron-server, glance-api, uwsgi-plugin-python3 and python3-openstackclient (make deps-test)"
	elif ! "$MINICLOUD" up --dir "$MINICLOUD_DIR" "$@" 2>"$BATS_FILE_TMPDIR/minicloud-up.err"; then
		why="minicloud up failed: $(tail -n 3 "$BATS_FILE_TMPDIR/minicloud-up.err" | tr '\n' ' ')"
	fi
	if [ -n "$why" ]; then
		echo "$why" >"$BATS_FILE_TMPDIR/minicloud.fail"
	fi
	return 0
}

# minicloud_require: in setup(), skips the test without root, fails it when
# the suite's cloud could not be made.
minicloud_require() {
	export MINICLOUD_DIR="$BATS_FILE_TMPDIR/minicloud"
	export XDG_CACHE_HOME="$BATS_FILE_TMPDIR/cache"
	export OS_CLIENT_CONFIG_FILE="$MINICLOUD_DIR/clouds.yaml"
	if [ -e "$BATS_FILE_TMPDIR/minicloud.skip" ]; then
		skip "$(cat "$BATS_FILE_TMPDIR/minicloud.skip")"
	fi
	if [ -e "$BATS_FILE_TMPDIR/minicloud.fail" ]; then
		echo "$(cat "$BATS_FILE_TMPDIR/minicloud.fail")" >&2
		return 1
	fi
}

minicloud_down() {
	"$MINICLOUD" down --dir "$BATS_FILE_TMPDIR/minicloud"
}

# minicloud_user_env: in setup(), the environment of a user who names this cloud to vmtp only on its
# command line or through clouds.yaml: no OS_* variable (OS_CLOUD included) and no VMTP_LIBEXEC;
# OS_CLIENT_CONFIG_FILE is the cloud's clouds.yaml.
minicloud_user_env() {
	local v
	unset OS_CLOUD VMTP_LIBEXEC
	for v in $(env | sed -n 's/^\(OS_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
	export OS_CLIENT_CONFIG_FILE="$MINICLOUD_DIR/clouds.yaml"
}

# os ARGS: the official client as the member user; os_admin ARGS: as the admin.
os() {
	env -u OS_AUTH_URL -u OS_PASSWORD OS_CLIENT_CONFIG_FILE="$MINICLOUD_DIR/clouds.yaml" OS_CLOUD=minicloud \
		"$OPENSTACK" "$@"
}

os_admin() {
	env -u OS_AUTH_URL -u OS_PASSWORD OS_CLIENT_CONFIG_FILE="$MINICLOUD_DIR/clouds.yaml" OS_CLOUD=minicloud-admin \
		"$OPENSTACK" "$@"
}

# minicloud_wait_server ID STATUS [SECONDS]: waits until the server has STATUS (fails on another final one).
minicloud_wait_server() {
	local id=$1 want=$2 left=${3:-30} st
	while [ "$left" -gt 0 ]; do
		st=$(os server show "$id" -f value -c status) || return 1
		[ "$st" = "$want" ] && return 0
		case $st in ACTIVE | ERROR) echo "server $id is $st, not $want" >&2; return 1 ;; esac
		sleep 1
		left=$((left - 1))
	done
	echo "server $id still not $want" >&2
	return 1
}

# wait_held 'METHOD PATH': until the proxy holds such a request (60 s at most).
wait_held() {
	for _ in $(seq 600); do
		grep -qF "$1" "$MINICLOUD_DIR/held" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no request held: $1" >&2
	return 1
}

# minicloud_port NAME: the proxy port of a service (IDENTITY, COMPUTE, NETWORK, IMAGE).
minicloud_port() {
	sed -n "s/^PROXY_$1_PORT=//p" "$MINICLOUD_DIR/ports.env"
}
