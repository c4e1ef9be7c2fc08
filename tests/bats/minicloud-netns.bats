#!/usr/bin/env bats
# minicloud-netns.bats - the test cloud's namespace helpers (tests/minicloud/netns.py) without a cloud: a
# deleted VM's namespace takes every process in it along, as a deleted VM does, even one that keeps forking.

load helpers/common

setup() {
	[ "$(id -u)" -eq 0 ] || skip "namespaces need root"
	NS=vmtpt$$x$BATS_TEST_NUMBER
	ip netns add "$NS"
}

teardown() {
	[ -z "${NS:-}" ] || ! ip netns list | grep -qw "$NS" || {
		for p in $(ip netns pids "$NS"); do kill -9 "$p"; done
		ip netns del "$NS"
	}
	[ -z "${LEFT:-}" ] || for p in $LEFT; do kill -9 "$p" 2>/dev/null || true; done
}

@test "ns_del: a process that ignores TERM and keeps forking children is stopped with all its children; nothing lives on outside" {
	# inside: a shell that ignores TERM and starts children as fast as it can (1500), each ignoring TERM
	# too: some are born while the namespace's processes are being killed
	ip netns exec "$NS" sh -c 'trap "" TERM; i=0; while [ $i -lt 1500 ]; do sleep 60 & i=$((i + 1)); done; wait' \
		</dev/null >/dev/null 2>&1 &
	until [ "$(ip netns pids "$NS" | wc -l)" -ge 20 ]; do sleep 0.01; done
	ino=$(stat -L -c %i "/run/netns/$NS")
	cd "$VMTP_ROOT/tests/minicloud"
	/usr/bin/python3 -c 'import sys, netns; netns.ns_del(sys.argv[1], grace=0.05)' "$NS"
	! ip netns list | grep -qw "$NS"
	# no process anywhere is still in the deleted namespace
	LEFT=$(for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/net" 2>/dev/null)" != "net:[$ino]" ] || echo "${p#/proc/}"
	done)
	echo "left: $LEFT"
	[ -z "$LEFT" ]
}
