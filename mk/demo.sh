#!/bin/sh
# mk/demo.sh - `make demo`: vmtp's main job on the test cloud, from a fresh
# Debian 12 machine (SPEC §10): installs what is missing, builds, starts the
# minicloud (two compute hosts, an external host, a gmond on loopback), runs
# bin/vmtp on it as the admin (who may place VMs on hosts) with short
# measurements (every flow, the external host both ways, TCP, UDP and ICMP,
# CPU load), then stops the cloud and says where the report is.  The run folder is kept; the cloud and its folder
# are not.  Needs root: the cloud's hosts are network namespaces.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "make demo: the test cloud needs root (network namespaces): run it as root" >&2
	exit 1
fi
t0=$(date +%s)
step() {
	printf '\n==> [%3d s] %s\n' $(($(date +%s) - t0)) "$*" >&2
}

step "installing the Debian packages that are missing (make deps-test)"
make -s deps-test
step "building (make)"
make -s all >/dev/null

dir=$(mktemp -d /tmp/vmtp-demo.XXXXXX)
cloud=$dir/cloud
down() {
	if [ -e "$cloud/ledger" ]; then
		step "stopping the test cloud"
		tests/minicloud/minicloud down --dir "$cloud" || true
	fi
	rm -rf "$dir"
}
trap down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "starting the test cloud: Keystone, Neutron, Glance, compute, 2 hosts, an external host, gmond"
tests/minicloud/minicloud up --dir "$cloud" --computes 2 --boot-delay 1 --gmond

# The cloud's own configuration, and short measurements: one TCP run of
# -t seconds per flow and direction, a UDP search at one packet size, two
# ping sizes of 5 pings 0.2 s apart (ping_interval; ping's own 1 s is the
# default).
{
	cat "$cloud/vmtp.yaml"
	printf '%s\n' 'tcp_tp_loop_count: 1' 'udp_pkt_sizes: [1024]' \
		'icmp_pkt_sizes: [64, 1400]' 'ping_count: 5' 'ping_interval: 0.2'
} >"$dir/demo.yaml"
login=$(sed -n 's/^login=//p' "$cloud/external-host")
key=$(sed -n 's/^key=//p' "$cloud/external-host")

step "vmtp -r admin-openrc -c demo.yaml -t 2 -m gmond --external-host $login"
status=0
PATH=$PWD/bin:$PATH vmtp -r "$cloud/admin-openrc" -c "$dir/demo.yaml" -t 2 \
	-m "$(cat "$cloud/gmond")" --external-host "$login" --ssh-key "$key" \
	--known-hosts "$dir/known_hosts" --hostkey-policy accept-new \
	--test-description "vmtp demo on the minicloud" || status=$?
down
trap - EXIT
step "done in $(($(date +%s) - t0)) s (vmtp exit status $status); open the report.html named above in a browser"
exit "$status"
