#!/usr/bin/env bats
# cloud-answers.bats - vmtp-provision on odd answers of Nova and Neutron, as
# tests/fuzz/fuzz_cloud_answers found them, against a stand-in OpenStack
# (helpers/fake-openstack.py: Keystone, then scripted or generic answers),
# no cloud.

load helpers/common

PY=/usr/bin/python3

# fake_cloud RULES: starts the stand-in with RULES (JSON, see
# fake-openstack.py) and points the OS_* variables at it.
fake_cloud() {
	printf '%s\n' "$1" > "$BATS_TEST_TMPDIR/rules.json"
	$PY "$BATS_TEST_DIRNAME/helpers/fake-openstack.py" "$BATS_TEST_TMPDIR/rules.json" \
	    "$BATS_TEST_TMPDIR/os.port" 3>&- &
	FAKE_PID=$!
	local i
	for i in $(seq 100); do
		[ -s "$BATS_TEST_TMPDIR/os.port" ] && break
		sleep 0.1
	done
	export OS_AUTH_URL="http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/os.port")/identity/v3"
	export OS_USERNAME=demo OS_PASSWORD=secret OS_PROJECT_NAME=demo
	export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
}

teardown() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
}

# The answers of a cloud where the run finds what it needs (a member: the
# hosts are the admin's).
EXT='["GET", "network", "router:external", 200, {"networks": [{"id": "e0", "name": "public"}]}]'
IMG='["GET", "image", "^/v2/images\\?name=", 200, {"images": [{"id": "i1", "status": "active"}]}]'
FLV='["GET", "compute", "^/flavors/detail", 200, {"flavors": [{"id": "2", "name": "m1.small"}]}]'
AZ='["GET", "compute", "^/os-availability-zone/detail", 403, {"forbidden": {"code": 403, "message": "Policy does not allow it"}}]'

@test "a network or a flavor without a name in the lists is passed over, not a crash" {
	printf 'ext_net_name: public\n' > "$BATS_TEST_TMPDIR/vmtp.yaml"
	fake_cloud '[
	 ["GET", "network", "router:external", 200, {"networks": [{"id": "e9"}, {"id": "e0", "name": "public"}]}],
	 ["GET", "compute", "^/flavors/detail", 200, {"flavors": [{"id": "9"}]}],
	 ["POST", "compute", "^/flavors$", 403, {"forbidden": {"code": 403, "message": "Policy does not allow flavors"}}],
	 '"$IMG, $AZ"']'
	run -1 --separate-stderr vmtp-provision -q -c "$BATS_TEST_TMPDIR/vmtp.yaml" --tag vmtp-0000fa01
	[ "$stderr" = "vmtp-provision: cannot create flavor vmtp-0000fa01-flavor (flavor 'm1.small' not found): 403: Policy does not allow flavors" ]
}

@test "a server without an id in the list of the run's servers is passed over, not a crash" {
	fake_cloud '['"$EXT, $IMG, $FLV, $AZ"',
	 ["GET", "compute", "^/servers/detail\\?tags=", 200, {"servers": [{"name": "x", "status": "ACTIVE"}]}, "once"],
	 ["GET", "compute", "^/servers/detail\\?tags=", 500, {"computeFault": {"code": 500, "message": "the second look fails"}}]]'
	run -1 --separate-stderr vmtp-provision -q --tag vmtp-0000fa02 --same-network-only --inter-node-only
	[ "$stderr" = "vmtp-provision: cannot list the test servers: 500: the second look fails" ]
	# and what the run made is gone
	[ "$(jq -r 'select(.type == "deleted") | select(.error != null) | .kind' <<< "$output")" = "" ]
	[ "$(jq -r 'select(.type == "deleted") | .kind' <<< "$output" | sort -u | paste -sd,)" = \
	    floatingip,keypair,network,router,router_interface,security_group,security_group_rule,server,subnet ]
}

@test "a create answered 502 or 504 (a gateway that gave up, the service may have made it) is looked for, not sent again" {
	fake_cloud '['"$EXT, $IMG, $FLV, $AZ"',
	 ["POST", "network", "^/v2.0/networks$", 504, {"message": "Gateway Timeout"}, "once"],
	 ["GET", "network", "^/v2.0/networks\\?name=", 200, {"networks": [{"id": "n504"}]}, "once"],
	 ["POST", "network", "^/v2.0/subnets$", 502, {"message": "Bad Gateway"}, "once"],
	 ["GET", "network", "^/v2.0/subnets\\?name=", 200, {"subnets": [{"id": "s502"}]}, "once"],
	 ["GET", "compute", "^/servers/detail\\?tags=", 500, {"computeFault": {"code": 500, "message": "stop here"}}]]'
	run -1 --separate-stderr vmtp-provision -v --tag vmtp-0000fa03 --same-network-only --inter-node-only
	# each sent once, then found
	[ "$(grep -c '^POST network /v2.0/networks$' "$BATS_TEST_TMPDIR/rules.json.log")" -eq 1 ]
	[ "$(grep -c '^POST network /v2.0/subnets$' "$BATS_TEST_TMPDIR/rules.json.log")" -eq 1 ]
	[ "$(grep -c 'was lost: looking whether it was done' <<< "$stderr")" -eq 2 ]
	[ "$(jq -r 'select(.type == "resource" and .kind == "network") | .id' <<< "$output")" = n504 ]
	[ "$(jq -r 'select(.type == "resource" and .kind == "subnet") | .id' <<< "$output")" = s502 ]
}

@test "a flavor, its extra specs and an image whose creates were answered 504 are looked for, not made twice" {
	head -c 65536 /dev/zero > "$BATS_TEST_TMPDIR/disk.raw"
	cat > "$BATS_TEST_TMPDIR/vmtp.yaml" <<-CFG
	ext_net_name: public
	image_name: vmtp-up
	vm_image_url: file://$BATS_TEST_TMPDIR/disk.raw
	flavor:
	  vcpus: 1
	  ram: 512
	  disk: 0
	  extra_specs: {"hw:cpu_policy": "dedicated"}
	CFG
	fake_cloud '['"$EXT, $AZ"',
	 ["GET", "image", "^/v2/images\\?name=vmtp-up&status=active", 200, {"images": []}],
	 ["POST", "image", "^/v2/images$", 504, {"message": "Gateway Timeout"}, "once"],
	 ["GET", "image", "^/v2/images\\?name=vmtp-up&tag=vmtp-0000fa04$", 200, {"images": [{"id": "i504", "status": "queued"}]}],
	 ["GET", "image", "^/v2/images/i504$", 200, {"id": "i504", "status": "active"}],
	 ["GET", "compute", "^/flavors/detail", 200, {"flavors": []}, "once"],
	 ["POST", "compute", "^/flavors$", 504, {"message": "Gateway Timeout"}, "once"],
	 ["GET", "compute", "^/flavors/detail", 200, {"flavors": [{"id": "9", "name": "other"}, {"id": "f504", "name": "vmtp-0000fa04-flavor"}]}],
	 ["POST", "compute", "^/flavors/f504/os-extra_specs$", 504, {"message": "Gateway Timeout"}, "once"],
	 ["GET", "compute", "^/flavors/f504/os-extra_specs$", 200, {"extra_specs": {"hw:cpu_policy": "dedicated"}}],
	 ["GET", "compute", "^/servers/detail\\?tags=", 500, {"computeFault": {"code": 500, "message": "stop here"}}]]'
	run -1 --separate-stderr vmtp-provision -v -c "$BATS_TEST_TMPDIR/vmtp.yaml" --tag vmtp-0000fa04 \
		--same-network-only --inter-node-only
	log=$BATS_TEST_TMPDIR/rules.json.log
	[ "$(grep -c '^POST image /v2/images$' "$log")" -eq 1 ]
	[ "$(grep -c '^POST compute /flavors$' "$log")" -eq 1 ]
	[ "$(grep -c '^POST compute /flavors/f504/os-extra_specs$' "$log")" -eq 1 ]
	[ "$(grep -c 'was lost: looking whether it was done' <<< "$stderr")" -eq 3 ]
	# the image found got the data; the servers were to boot it, on the flavor found
	grep -q '^PUT image /v2/images/i504/file$' "$log"
	[ "$(jq -r 'select(.type == "resource" and .kind == "flavor") | .id' <<< "$output")" = f504 ]
	[ "$(grep -c '^POST compute /servers$' "$log")" -ge 1 ]
}
