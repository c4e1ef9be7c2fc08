#!/usr/bin/env bats
# shellcheck disable=SC2154 # bats sets output, lines and stderr
# minicloud.bats - the test cloud itself (SPEC §9): real Keystone, Neutron and Glance, our compute API and
# fault proxy, driven by the official openstack client as the member user. One cloud for the suite.

load helpers/common
load helpers/minicloud

setup_file() {
	minicloud_up --computes 2 --boot-delay 1
}

teardown_file() {
	minicloud_down
}

setup() {
	minicloud_require
}

teardown() {
	if [ -e "$MINICLOUD_DIR/ledger" ]; then
		"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear
	fi
}

# leftovers DIR PID...: processes still alive in the sessions of PIDs (our services' sessions) or with
# DIR's marker in their environment.
leftovers() {
	local d=$1 f sid
	shift
	for f in /proc/[0-9]*/stat; do
		sid=$(awk '{ sub(/.*\) /, ""); print $4 }' "$f" 2>/dev/null) || continue
		for p in "$@"; do
			[ "$sid" = "$p" ] && echo "${f%/stat}"
		done
	done
	grep -lsa "MINICLOUD_OWNER=$d" /proc/[0-9]*/environ || true
}

# api_status SERVICE PATH [curl args]: the HTTP status of a GET through the proxy.
api_status() {
	local port
	port=$(minicloud_port "$1")
	curl -s -o "$BATS_TEST_TMPDIR/body" -D "$BATS_TEST_TMPDIR/headers" -w '%{http_code}' \
		"${@:3}" "http://127.0.0.1:$port$2"
}

@test "up writes openrc, admin-openrc, clouds.yaml and vmtp.yaml, secrets readable by root only" {
	for f in openrc admin-openrc clouds.yaml; do
		[ "$(stat -c %a "$MINICLOUD_DIR/$f")" = 600 ]
	done
	pw=$(sed -n 's/^export OS_PASSWORD=//p' "$MINICLOUD_DIR/openrc")
	[ "${#pw}" -ge 16 ]
	grep -q "^export OS_USERNAME=demo$" "$MINICLOUD_DIR/openrc"
	grep -q "^export OS_USERNAME=admin$" "$MINICLOUD_DIR/admin-openrc"
	grep -q "^  minicloud:$" "$MINICLOUD_DIR/clouds.yaml"
	grep -q "^image_name: 'minicloud-vm'$" "$MINICLOUD_DIR/vmtp.yaml"
	grep -q "^ssh_vm_username: 'root'$" "$MINICLOUD_DIR/vmtp.yaml"
	grep -q "^internal_cidr: \['" "$MINICLOUD_DIR/vmtp.yaml"
}

@test "every catalog endpoint is the proxy on loopback, and every API answers through it" {
	run -0 os catalog list -f json
	[ "$(jq -r '[.[].Type] | sort | join(",")' <<<"$output")" = "compute,identity,image,network" ]
	for svc in IDENTITY COMPUTE NETWORK IMAGE; do
		grep -q "^PROXY_${svc}_PORT=" "$MINICLOUD_DIR/ports.env"
	done
	run -0 env OS_CLIENT_CONFIG_FILE="$MINICLOUD_DIR/clouds.yaml" OS_CLOUD=minicloud \
		/usr/bin/python3 -c '
import openstack
c = openstack.connect()
for svc in ("identity", "compute", "network", "image"):
    for iface in ("public", "internal", "admin"):
        url = c.session.get_endpoint(service_type=svc, interface=iface, region_name="RegionOne")
        assert url.startswith("http://127.0.0.1:"), url
print(len(list(c.compute.flavors())), len(list(c.network.networks())), len(list(c.image.images())))
'
	[ "$output" = "2 1 1" ]
}

@test "api.log has one line per request and never a secret" {
	run -0 os flavor list -f value -c Name
	[ "$(sort <<<"$output" | paste -sd,)" = "m1.small,m1.tiny" ]
	grep -Eq '^compute GET /v2.1/flavors(/detail)? 200 [0-9.]+$' "$MINICLOUD_DIR/api.log"
	# shellcheck disable=SC1091
	. "$MINICLOUD_DIR/secrets.env"
	for pw in "$ADMIN_PASSWORD" "$MEMBER_PASSWORD" "$NOVA_PASSWORD" "$NEUTRON_PASSWORD"; do
		run ! grep -qF -- "$pw" "$MINICLOUD_DIR/api.log"
	done
	run ! grep -q gAAAAA "$MINICLOUD_DIR/api.log"
}

@test "Neutron serves requests sent side by side, none failing on its database" {
	run -0 os token issue -f value -c id
	printf 'X-Auth-Token: %s\nContent-Type: application/json\n' "$output" > "$BATS_TEST_TMPDIR/h"
	run -0 os security group create mc-par -f value -c id
	sg=$output
	port=$(minicloud_port NETWORK)
	pids=()
	for p in 5001 5002 5003 5004 5005 5006 5007 5008; do
		curl -s -o "$BATS_TEST_TMPDIR/r$p" -w '%{http_code}\n' -H @"$BATS_TEST_TMPDIR/h" \
			-d '{"security_group_rule": {"security_group_id": "'"$sg"'", "direction": "ingress",
			"protocol": "tcp", "port_range_min": '$p', "port_range_max": '$p'}}' \
			"http://127.0.0.1:$port/v2.0/security-group-rules" > "$BATS_TEST_TMPDIR/s$p" &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$BATS_TEST_TMPDIR"/s5* >&2
	[ "$(cat "$BATS_TEST_TMPDIR"/s5* | sort -u)" = 201 ]
	run -0 os security group delete mc-par
}

@test "the member user builds a tenant on two computes with the official client and deletes it all" {
	ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/key"
	run -0 os token issue -f value -c id
	run -0 os keypair create --public-key "$BATS_TEST_TMPDIR/key.pub" mc-key
	run -0 os security group create mc-sg -f value -c id
	run -0 os security group rule create --protocol tcp --dst-port 22 mc-sg
	run -0 os network create mc-net -f value -c id
	run -0 os subnet create --network mc-net --subnet-range 10.251.1.0/24 mc-subnet
	run -0 os router create mc-router
	run -0 os router set --external-gateway public mc-router
	run -0 os router add subnet mc-router mc-subnet
	vms=() ports=()
	for n in 1 2; do
		run -0 os server create --flavor m1.tiny --image minicloud-vm --network mc-net --key-name mc-key \
			--security-group mc-sg --availability-zone "nova:compute-$n" "mc-vm$n" -f value -c id
		vms+=("$output")
	done
	vm1=${vms[0]} vm2=${vms[1]}
	minicloud_wait_server "$vm1" ACTIVE
	minicloud_wait_server "$vm2" ACTIVE
	# without --tenant-routes the root namespace gets no route to the router's subnet (the agent routed it,
	# were it to, before the servers went ACTIVE)
	[ -z "$(ip -4 route show exact 10.251.1.0/24)" ]
	for n in 1 2; do
		run os_admin server show "${vms[n - 1]}" -f json
		echo "$output"
		[ "$status" -eq 0 ]
		[ "$(jq -r '."OS-EXT-SRV-ATTR:host"' <<<"$output")" = "compute-$n" ]
		[ "$(jq -r '.security_groups[0].name' <<<"$output")" = mc-sg ]
		run -0 os port list --server "${vms[n - 1]}" -f json
		[ "$(jq length <<<"$output")" = 1 ]
		[[ "$(jq -r '.[0]."Fixed IP Addresses"' <<<"$output")" == *10.251.1.* ]]
		ports+=("$(jq -r '.[0].ID' <<<"$output")")
	done
	port1=${ports[0]}
	run -0 os port show "$port1" -f json
	[ "$(jq -r .device_owner <<<"$output")" = compute:nova ]
	[ "$(jq -r .device_id <<<"$output")" = "$vm1" ]
	run -0 os floating ip create public --port "$port1" -f value -c floating_ip_address
	fip=$output
	run -0 os server show "$vm1" -f json -c addresses
	[[ "$output" == *"$fip"* ]]

	run -0 os floating ip delete "$fip"
	run -0 os server delete --wait "$vm1" "$vm2"
	run -0 os router remove subnet mc-router mc-subnet
	run -0 os router unset --external-gateway mc-router
	run -0 os router delete mc-router
	run -0 os subnet delete mc-subnet
	run -0 os network delete mc-net
	run -0 os security group delete mc-sg
	run -0 os keypair delete mc-key
	run -0 os port list -f value -c ID
	[ "$output" = "" ]
	project=$(os token issue -f value -c project_id)
	run -0 "$MINICLOUD" resources --dir "$MINICLOUD_DIR"
	left=$(jq -c --arg p "$project" '[to_entries[] | .key as $k | .value[] | select(.project == $p)
		| select($k != "security_groups" or .name != "default") | {($k): .name}]' <<<"$output")
	[ "$left" = "[]" ]
}

@test "a server on an unknown host goes ERROR with a fault and keeps no port once deleted" {
	run -0 os network create mc-err-net
	run -0 os subnet create --network mc-err-net --subnet-range 10.251.2.0/24 mc-err-subnet
	run -0 os server create --flavor m1.tiny --image minicloud-vm --network mc-err-net \
		--availability-zone nova:no-such-host mc-err -f value -c id
	id=$output
	minicloud_wait_server "$id" ERROR
	run -0 os server show "$id" -f json
	[ "$(jq -r .fault.code <<<"$output")" = 500 ]
	[[ "$(jq -r .fault.message <<<"$output")" == "No valid host was found."* ]]
	run -0 os server delete --wait "$id"
	run -0 os port list --network mc-err-net -f value -c ID
	[ "$output" = "" ]
	run -0 os network delete mc-err-net
}

@test "a server deleted while it builds goes at once: its build is aborted, not waited for" {
	run -0 os network create mc-del-net
	run -0 os subnet create --network mc-del-net --subnet-range 10.251.7.0/24 mc-del-subnet
	# a user-data script that keeps the VM from being ready for 100 s
	printf '#!/bin/sh\nsleep 100\n' >"$BATS_TEST_TMPDIR/slow"
	run -0 os server create --flavor m1.tiny --image minicloud-vm --network mc-del-net \
		--user-data "$BATS_TEST_TMPDIR/slow" mc-del -f value -c id
	id=$output
	[ "$(os server show "$id" -f value -c status)" = BUILD ]
	# gone well before the script or the compute's 60 s wait for the data path would end
	run -0 timeout 40 env -u OS_AUTH_URL -u OS_PASSWORD OS_CLIENT_CONFIG_FILE="$MINICLOUD_DIR/clouds.yaml" \
		OS_CLOUD=minicloud "$OPENSTACK" server delete --wait "$id"
	run -0 os port list --network mc-del-net -f value -c ID
	[ "$output" = "" ]
	run -0 os network delete mc-del-net
}

@test "an anti-affinity server group spreads its members over the hosts, and refuses one host too many" {
	run -0 os server group create --policy anti-affinity mc-group -f json
	group=$(jq -r .id <<<"$output")
	[ "$(jq -r .policy <<<"$output")" = anti-affinity ]
	run -0 os network create mc-grp-net
	run -0 os subnet create --network mc-grp-net --subnet-range 10.251.8.0/24 mc-grp-subnet
	vms=()
	for n in 1 2 3; do
		run -0 os server create --flavor m1.tiny --image minicloud-vm --network mc-grp-net \
			--hint "group=$group" "mc-grp$n" -f value -c id
		vms+=("$output")
	done
	# two computes: the third member has no host left, as Nova's filter says
	hosts=()
	for id in "${vms[@]}"; do
		for _ in $(seq 60); do
			st=$(os server show "$id" -f value -c status)
			[ "$st" != BUILD ] && break
			sleep 0.5
		done
		if [ "$st" = ACTIVE ]; then
			hosts+=("$(os_admin server show "$id" -f value -c OS-EXT-SRV-ATTR:host)")
		else
			[ "$st" = ERROR ]
			[[ "$(os server show "$id" -f json -c fault | jq -r .fault.message)" == "No valid host was found."* ]]
		fi
	done
	[ "${#hosts[@]}" -eq 2 ]
	[ "$(printf '%s\n' "${hosts[@]}" | sort -u | wc -l)" -eq 2 ]
	run -0 os server group show mc-group -f json
	[ "$(jq -c '.members | sort' <<<"$output")" = "$(printf '%s\n' "${vms[@]}" | jq -Rsc 'split("\n")[:-1] | sort')" ]
	# a hint naming no group is Nova's 400, before anything is made
	run -1 --separate-stderr os server create --flavor m1.tiny --image minicloud-vm --network mc-grp-net \
		--hint group=00000000-0000-4000-8000-000000000000 mc-grp4
	[[ "$stderr" == *"Instance group 00000000-0000-4000-8000-000000000000 could not be found."*"(HTTP 400)"* ]]
	run -0 os server delete --wait "${vms[@]}"
	run -0 os server group show mc-group -f json
	[ "$(jq -c .members <<<"$output")" = "[]" ]
	run -0 os server group delete mc-group
	run -0 "$MINICLOUD" resources --dir "$MINICLOUD_DIR"
	[ "$(jq -c '.server_groups' <<<"$output")" = "[]" ]
	[ "$(jq -c '[.servers[] | select(.name | startswith("mc-grp"))]' <<<"$output")" = "[]" ]
	run -0 os network delete mc-grp-net
}

@test "a server over the instance quota is refused with 403" {
	project=$(os token issue -f value -c project_id)
	used=$(os limits show --absolute -f json | jq '.[] | select(.Name == "totalInstancesUsed") | .Value')
	run -0 os_admin quota set --instances $((used + 1)) "$project"
	run -0 os network create mc-q-net
	run -0 os subnet create --network mc-q-net --subnet-range 10.251.3.0/24 mc-q-subnet
	run -0 os server create --flavor m1.tiny --image minicloud-vm --network mc-q-net mc-q1 -f value -c id
	id=$output
	run -1 --separate-stderr os server create --flavor m1.tiny --image minicloud-vm --network mc-q-net mc-q2
	[[ "$stderr" == *"Quota exceeded for instances"*"(HTTP 403)"* ]]
	run -0 os_admin quota set --instances 10 "$project"
	run -0 os server delete --wait "$id"
	run -0 os network delete mc-q-net
}

@test "servers keep tags, metadata, user data and config drive, and list filters by name, tags and status" {
	run -0 os network create mc-f-net
	run -0 os subnet create --network mc-f-net --subnet-range 10.251.4.0/24 mc-f-subnet
	echo '#!/bin/sh' >"$BATS_TEST_TMPDIR/user-data"
	run -0 os --os-compute-api-version 2.52 server create --flavor m1.tiny --image minicloud-vm \
		--network mc-f-net --tag red --tag big --property role=server --user-data "$BATS_TEST_TMPDIR/user-data" \
		--config-drive True mc-f-one -f value -c id
	one=$output
	run -0 os --os-compute-api-version 2.52 server create --flavor m1.tiny --image minicloud-vm \
		--network mc-f-net --tag red mc-f-two -f value -c id
	two=$output
	minicloud_wait_server "$one" ACTIVE
	minicloud_wait_server "$two" ACTIVE
	run -0 os --os-compute-api-version 2.79 server show "$one" -f json
	[ "$(jq -c '[.tags, .properties, .config_drive]' <<<"$output")" = '[["red","big"],{"role":"server"},"True"]' ]
	run -0 os_admin --os-compute-api-version 2.79 server show "$one" -f json
	[ "$(jq -r '."OS-EXT-SRV-ATTR:user_data"' <<<"$output" | base64 -d)" = '#!/bin/sh' ]
	# the user data is the admin's to see, from 2.3 on; a server without a config drive shows ""
	run -0 os_admin --os-compute-api-version 2.3 server show "$one" -f json
	[ "$(jq -r '."OS-EXT-SRV-ATTR:user_data"' <<<"$output" | base64 -d)" = '#!/bin/sh' ]
	run -0 os_admin --os-compute-api-version 2.2 server show "$one" -f json
	[ "$(jq 'has("OS-EXT-SRV-ATTR:user_data")' <<<"$output")" = false ]
	run -0 os --os-compute-api-version 2.79 server show "$one" -f json
	[ "$(jq 'has("OS-EXT-SRV-ATTR:user_data")' <<<"$output")" = false ]
	run -0 os server show "$two" -f json
	[ "$(jq -c .config_drive <<<"$output")" = '""' ]
	run -0 os --os-compute-api-version 2.79 server list --tags red -f value -c Name
	[ "$(sort <<<"$output" | paste -sd,)" = "mc-f-one,mc-f-two" ]
	run -0 os --os-compute-api-version 2.79 server list --tags red,big -f value -c Name
	[ "$output" = mc-f-one ]
	run -0 os server list --name 'f-tw' -f value -c Name
	[ "$output" = mc-f-two ]
	run -0 os server list --status ACTIVE --name '^mc-f-' -f value -c Name
	[ "$(wc -l <<<"$output")" = 2 ]
	run -0 os server list --status ERROR --name '^mc-f-' -f value -c Name
	[ "$output" = "" ]
	run -0 os server delete --wait "$one" "$two"
	run -0 os network delete mc-f-net
}

# vm_status ID FIELD: FIELD of server ID in the data-path agent's status.json ("null" when absent).
vm_status() {
	jq -r --arg id "$1" ".vms[\$id].$2" "$MINICLOUD_DIR/dataplane/status.json"
}

@test "bad user data or config drive is refused with Nova's 400 before anything is made" {
	head -c 49200 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big" # 65600 characters of base64
	run -1 --separate-stderr os server create --flavor m1.tiny --image minicloud-vm --network public \
		--user-data "$BATS_TEST_TMPDIR/big" mc-bad
	[[ "$stderr" == *"Invalid input for field/attribute user_data. Value: YWFh"*"' is too long (HTTP 400)"* ]]
	# what the client always encodes, sent as it is
	tok=$(os token issue -f value -c id)
	image=$(os image show minicloud-vm -f value -c id)
	msgs=()
	for field in '"user_data": "YWJ"' '"config_drive": "maybe"' '"config_drive": 1'; do
		run -0 api_status COMPUTE /v2.1/servers -H "X-Auth-Token: $tok" -H 'Content-Type: application/json' \
			-d '{"server": {"name": "mc-bad", "flavorRef": "1", "imageRef": "'"$image"'", '"$field"'}}'
		[ "$output" = 400 ]
		msgs+=("$(jq -r .badRequest.message "$BATS_TEST_TMPDIR/body")")
	done
	[ "${msgs[0]}" = "Invalid input for field/attribute user_data. Value: YWJ. 'YWJ' is not a 'base64'" ]
	[[ "${msgs[1]}" == "Invalid input for field/attribute config_drive. Value: maybe. 'maybe' is not one of [True, 'True', "* ]]
	[ "${msgs[2]}" = "Invalid input for field/attribute config_drive. Value: 1. 1 is not of type 'boolean', 'string'" ]
	run -0 os server list --name mc-bad -f value -c ID
	[ "$output" = "" ]
}

@test "a #! user-data script runs once in the VM's /root before ACTIVE, and its failure does not stop the boot" {
	run -0 os network create mc-ud-net
	run -0 os subnet create --network mc-ud-net --subnet-range 10.251.6.0/24 mc-ud-subnet
	cat >"$BATS_TEST_TMPDIR/ud" <<-'EOF'
		#!/bin/sh
		sleep 2 # longer than the boot delay: ACTIVE must wait for it
		echo "$(pwd) $(ip -4 -o addr show eth0 | wc -l)" >>ud-ran
		date -u +%Y-%m-%dT%H:%M:%S.%6N >ud-end
		exit 3
	EOF
	run -0 os server create --flavor m1.tiny --image minicloud-vm --network mc-ud-net \
		--user-data "$BATS_TEST_TMPDIR/ud" mc-ud -f value -c id
	id=$output
	minicloud_wait_server "$id" ACTIVE
	log=$MINICLOUD_DIR/dataplane/vm-$id/user-data.log
	cat "$log" >&2
	# it ran with the VM's network up, in the VM's own /root (its sshd's), not the machine's, and had ended
	# when the server went ACTIVE
	pid=$(vm_status "$id" sshd_pid)
	[ "$(nsenter -t "$pid" -m cat /root/ud-ran)" = "/root 1" ]
	ended=$(nsenter -t "$pid" -m cat /root/ud-end)
	launched=$(os server show "$id" -f value -c OS-SRV-USG:launched_at)
	echo "script ended $ended, server launched $launched" >&2
	[[ "$ended" < "$launched" ]]
	[ ! -e /root/ud-ran ]
	grep -q 'user-data: failed (exit status 3); the boot goes on$' "$log"
	# once: stopped and started (a new namespace and sshd), it does not run again
	run -0 os server stop "$id"
	minicloud_wait_server "$id" SHUTOFF
	for _ in $(seq 100); do [ "$(vm_status "$id" state)" = null ] && break; sleep 0.2; done
	[ "$(vm_status "$id" state)" = null ]
	run -0 os server start "$id"
	for _ in $(seq 100); do [ "$(vm_status "$id" state)" = ready ] && break; sleep 0.2; done
	[ "$(vm_status "$id" state)" = ready ]
	pid2=$(vm_status "$id" sshd_pid)
	[ "$pid2" != "$pid" ]
	[ "$(nsenter -t "$pid2" -m cat /root/ud-ran)" = "/root 1" ]
	[ "$(grep -c 'user-data: running' "$log")" = 1 ]
	run -0 os server delete --wait "$id"
	run -0 os network delete mc-ud-net
}

@test "no DHCP: a server gets its address only with a config drive; without one it is ACTIVE with none" {
	run -0 os network create mc-nd-net
	run -0 os subnet create --network mc-nd-net --subnet-range 10.251.7.0/24 --no-dhcp mc-nd-subnet
	printf '#!/bin/sh\ntouch ran\n' >"$BATS_TEST_TMPDIR/script"
	printf '#cloud-config\nruncmd: [touch, ran]\n' >"$BATS_TEST_TMPDIR/cloud-config"
	run -0 os server create --flavor m1.tiny --image minicloud-vm --network mc-nd-net \
		--user-data "$BATS_TEST_TMPDIR/script" mc-nd-none -f value -c id
	none=$output
	run -0 os server create --flavor m1.tiny --image minicloud-vm --network mc-nd-net --config-drive True \
		--user-data "$BATS_TEST_TMPDIR/cloud-config" mc-nd-cd1 -f value -c id
	cd1=$output
	run -0 os server create --flavor m1.tiny --image minicloud-vm --network mc-nd-net --config-drive True \
		mc-nd-cd2 -f value -c id
	cd2=$output
	for id in "$none" "$cd1" "$cd2"; do minicloud_wait_server "$id" ACTIVE; done
	# without a config drive: no IPv4 address (no sshd), and status.json says why; its user data never read
	[ "$(ip -n "$(vm_status "$none" ns)" -4 -o addr show dev eth0)" = "" ]
	[ "$(vm_status "$none" no_address.eth0)" = "no address: subnet mc-nd-subnet without DHCP and no config drive" ]
	[ "$(vm_status "$none" sshd_pid)" = null ]
	grep -q 'user-data: not run: no datasource' "$MINICLOUD_DIR/dataplane/vm-$none/user-data.log"
	# with one: its address (from network_data.json), reached from a VM on the same network
	run -0 os port list --server "$cd1" -f json
	ip1=$(jq -r '.[0]."Fixed IP Addresses"[0].ip_address' <<<"$output")
	ip -n "$(vm_status "$cd1" ns)" -4 -o addr show dev eth0 | grep -q "inet $ip1/24 "
	[ "$(vm_status "$cd1" no_address)" = null ]
	run -0 ip netns exec "$(vm_status "$cd2" ns)" ping -c 1 -W 5 "$ip1"
	grep -q 'user-data: not executed: not a script' "$MINICLOUD_DIR/dataplane/vm-$cd1/user-data.log"
	run -0 os server delete --wait "$none" "$cd1" "$cd2"
	run -0 os network delete mc-nd-net
}

@test "compute negotiates microversions up to 2.79 and answers others with 406" {
	tok=$(os token issue -f value -c id)
	run -0 api_status COMPUTE / -H "X-Auth-Token: $tok"
	[ "$output" = 200 ]
	[ "$(jq -r '.versions[] | select(.id == "v2.1") | .version' "$BATS_TEST_TMPDIR/body")" = 2.79 ]
	run -0 api_status COMPUTE /v2.1/servers -H "X-Auth-Token: $tok" -H "OpenStack-API-Version: compute 2.79"
	[ "$output" = 200 ]
	grep -qi '^OpenStack-API-Version: compute 2.79' "$BATS_TEST_TMPDIR/headers"
	run -0 api_status COMPUTE /v2.1/servers -H "X-Auth-Token: $tok" -H "X-OpenStack-Nova-API-Version: 2.99"
	[ "$output" = 406 ]
	[ "$(jq -r .computeFault.code "$BATS_TEST_TMPDIR/body")" = 406 ]
	run -0 api_status COMPUTE /v2.1/servers/nope -H "X-Auth-Token: $tok"
	[ "$output" = 404 ]
	[ "$(jq -r .itemNotFound.code "$BATS_TEST_TMPDIR/body")" = 404 ]
	run -0 api_status COMPUTE /v2.1/servers -H "X-Auth-Token: not-a-token"
	[ "$output" = 401 ]
}

@test "an injected 503 with Retry-After on network: the client retries, or fails with that status" {
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --rate 1 --status 503 --service network --retry-after 1
	tok=$(os token issue -f value -c id)
	run -0 api_status NETWORK /v2.0/networks -H "X-Auth-Token: $tok"
	[ "$output" = 503 ]
	grep -qi '^Retry-After: 1' "$BATS_TEST_TMPDIR/headers"
	[ "$(jq -r .NeutronError.type "$BATS_TEST_TMPDIR/body")" = ServiceUnavailable ]
	run -0 api_status IMAGE /v2/images -H "X-Auth-Token: $tok"
	[ "$output" = 200 ]

	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --rate 0.3 --status 503 --service network --retry-after 1
	sed 's/^  minicloud:$/&\n    network_status_code_retries: 5/' "$MINICLOUD_DIR/clouds.yaml" >"$BATS_TEST_TMPDIR/clouds.yaml"
	before=$(grep -c '^network .* 503 ' "$MINICLOUD_DIR/api.log" || true)
	for _ in 1 2 3 4 5 6; do
		run --separate-stderr env OS_CLIENT_CONFIG_FILE="$BATS_TEST_TMPDIR/clouds.yaml" OS_CLOUD=minicloud \
			"$OPENSTACK" network list -f value -c Name
		if [ "$status" -eq 0 ]; then
			[[ "$output" == *public* ]]
		else
			[[ "$stderr" == *503* ]]
		fi
	done
	after=$(grep -c '^network .* 503 ' "$MINICLOUD_DIR/api.log")
	[ "$after" -gt "$before" ]
}

@test "expired tokens get 401 and the client re-authenticates" {
	tok=$(os token issue -f value -c id)
	run -0 api_status NETWORK /v2.0/networks -H "X-Auth-Token: $tok"
	[ "$output" = 200 ]
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --expire-tokens
	run -0 api_status NETWORK /v2.0/networks -H "X-Auth-Token: $tok"
	[ "$output" = 401 ]
	run -0 api_status COMPUTE /v2.1/servers -H "X-Auth-Token: $tok"
	[ "$output" = 401 ]
	# One SDK session across the expiry: its old token is refused, it gets a new one and goes on.
	run -0 env OS_CLIENT_CONFIG_FILE="$MINICLOUD_DIR/clouds.yaml" OS_CLOUD=minicloud MC="$MINICLOUD" \
		MINICLOUD_DIR="$MINICLOUD_DIR" /usr/bin/python3 -c '
import os, subprocess, openstack
c = openstack.connect()
first = c.session.get_token()
print(len(list(c.network.networks())))
subprocess.run([os.environ["MC"], "fault", "--dir", os.environ["MINICLOUD_DIR"], "--expire-tokens"], check=True)
print(len(list(c.network.networks())))
print(c.session.get_token() != first)
'
	[ "${lines[0]}" -ge 1 ] && [ "${lines[0]}" = "${lines[1]}" ] && [ "${lines[2]}" = True ]
	tail -n 20 "$MINICLOUD_DIR/api.log" | grep -q '^network GET /v2.0/networks 401 '
	run -0 os network list -f value -c Name
	[[ "$output" == *public* ]]
}

@test "dropped connections fail the client cleanly, and clearing the fault restores service" {
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --drop 1
	run ! --separate-stderr os network list
	[[ "$stderr" == *"onnection"* ]]
	grep -q '^identity .* 0 [0-9.]*$' "$MINICLOUD_DIR/api.log"
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear
	run -0 os network list -f value -c Name
	[[ "$output" == *public* ]]
}

@test "faults combine: 503 and 429 take turns on every service with Retry-After, with a delay at once" {
	tok=$(os token issue -f value -c id)
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --rate 1 --status 503,429 --retry-after 2 --delay 200
	jq -e '.rate.status == [503, 429] and .rate.service == null and .delay_ms == 200' "$MINICLOUD_DIR/faults.json"
	start=$(date +%s%N)
	run -0 api_status NETWORK /v2.0/networks -H "X-Auth-Token: $tok"
	first=$output
	[ $(($(date +%s%N) - start)) -ge 200000000 ]
	grep -qi '^Retry-After: 2' "$BATS_TEST_TMPDIR/headers"
	[ "$(jq -r .NeutronError.message "$BATS_TEST_TMPDIR/body")" = "minicloud: injected fault" ]
	run -0 api_status COMPUTE /v2.1/servers -H "X-Auth-Token: $tok"
	second=$output
	grep -qi '^Retry-After: 2' "$BATS_TEST_TMPDIR/headers"
	[ "$(jq -r '.[].code' "$BATS_TEST_TMPDIR/body")" = "$second" ]
	[ "$(printf '%s\n' "$first" "$second" | sort | tr '\n' ' ')" = "429 503 " ]
	run -0 api_status IMAGE /v2/images -H "X-Auth-Token: $tok"
	[ "$output" = "$first" ]
	run ! "$MINICLOUD" fault --dir "$MINICLOUD_DIR" --rate 1 --status 503,x
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear
	[ "$(cat "$MINICLOUD_DIR/faults.json")" = '{}' ]
}

@test "--drop-after: the service acts on the request, the answer is lost" {
	tok=$(os token issue -f value -c id)
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --drop-after 1 --service network
	run ! curl -sS -X POST -H "X-Auth-Token: $tok" -H 'Content-Type: application/json' \
		-d '{"network": {"name": "mc-dropped-answer"}}' "http://127.0.0.1:$(minicloud_port NETWORK)/v2.0/networks"
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear
	tail -n 5 "$MINICLOUD_DIR/api.log" | grep -q '^network POST /v2.0/networks 0 '
	run -0 os network show mc-dropped-answer -f value -c id
	os network delete "$output"
}

@test "an injected delay slows every call" {
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --delay 300
	tok=$(os token issue -f value -c id)
	start=$(date +%s%N)
	run -0 api_status IMAGE /v2/images -H "X-Auth-Token: $tok"
	[ "$output" = 200 ]
	[ $(($(date +%s%N) - start)) -ge 300000000 ]
}

@test "resources lists every collection with id, name, tags and project" {
	run -0 "$MINICLOUD" resources --dir "$MINICLOUD_DIR"
	[ "$(jq -r 'keys | join(",")' <<<"$output")" = \
		"flavors,floatingips,images,keypairs,networks,ports,routers,security_groups,server_groups,servers,subnets" ]
	[ "$(jq '[.[][] | select(has("id") and has("name") and has("tags") and has("project") | not)] | length' \
		<<<"$output")" = 0 ]
	[ "$(jq -r '.images[0].name' <<<"$output")" = minicloud-vm ]
	[ "$(jq -r '.networks[] | select(.name == "public") | .name' <<<"$output")" = public ]
}

@test "up and down on a machine where no sshd ever ran, beside a cloud coming up at the same instant" {
	d=$BATS_TEST_TMPDIR/fresh twin=$BATS_TEST_TMPDIR/twin
	# a second cloud started at the same instant: clouds come up one at a time, on distinct service ports
	# below the ephemeral range, so neither takes the other's (nor a connection's); both route their tenant
	# networks from the root namespace, so neither may take the other's internal CIDRs either
	"$MINICLOUD" up --dir "$twin" --computes 1 --boot-delay 0 --tenant-routes 2>"$twin.err" &
	twin_pid=$!
	# a mount namespace whose /run is empty, as on a fresh boot without an sshd service (no /run/sshd)
	run unshare -m --propagation private sh -c '
		mount -t tmpfs -o mode=0755 fresh-run /run || exit 9
		"$1" up --dir "$2" --computes 1 --boot-delay 0 --tenant-routes 2>"$2.err" || { cat "$2.err"; exit 1; }
		cp "$2/ports.env" "$2.ports"
		cp "$2/vmtp.yaml" "$2.yaml"
		login=$(sed -n "s/^login=//p" "$2/external-host")
		key=$(sed -n "s/^key=//p" "$2/external-host")
		ssh -n -i "$key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
			-o LogLevel=ERROR "$login" echo external-host-answers
		rc=$?
		"$1" down --dir "$2" 2>>"$2.err" || rc=1
		exit $rc' sh "$MINICLOUD" "$d"
	echo "$output"
	twin_status=0
	wait "$twin_pid" || twin_status=$?
	cat "$twin.err"
	[ -e "$twin/ports.env" ] && cp "$twin/ports.env" "$twin.ports" && cp "$twin/vmtp.yaml" "$twin.yaml"
	"$MINICLOUD" down --dir "$twin"
	[ "$status" -eq 0 ]
	[ "$output" = external-host-answers ]
	[ ! -e "$d" ]
	[ "$twin_status" -eq 0 ]
	[ ! -e "$twin" ]
	ports() { sed -n 's/^[A-Z_]*_PORT=//p' "$1" | sort -n; }
	[ "$(ports "$d.ports" | wc -l)" -eq 8 ]
	[ "$(sort -u <(ports "$d.ports") <(ports "$twin.ports") | wc -l)" -eq 16 ]
	[ "$(sort -n <(ports "$d.ports") <(ports "$twin.ports") | tail -n 1)" -lt 32768 ]
	cidrs() { grep '^internal_cidr:' "$1" | grep -Eo "[0-9.]+/24"; }
	[ "$(sort -u <(cidrs "$d.yaml") <(cidrs "$twin.yaml") | wc -l)" -eq 4 ]
}

@test "down after an up killed halfway leaves no process and no state" {
	d=$BATS_TEST_TMPDIR/halfway
	"$MINICLOUD" up --dir "$d" 2>/dev/null &
	up=$!
	for _ in $(seq 100); do
		grep -q ' keystone-init ' "$d/ledger" 2>/dev/null && break
		sleep 0.1
	done
	sleep 1
	kill -9 "$up"
	wait "$up" || true
	pids=$(awk '$1 == "proc" { print $3 }' "$d/ledger")
	[ -n "$pids" ]
	run -0 "$MINICLOUD" down --dir "$d"
	[ ! -e "$d" ]
	# shellcheck disable=SC2086
	run -0 leftovers "$d" $pids
	[ "$output" = "" ]
}

@test "down after kill -9 of every service leaves no process of ours and no state" {
	pids=$(awk '$1 == "proc" { print $3 }' "$MINICLOUD_DIR/ledger")
	for pid in $pids; do
		kill -9 "$pid" 2>/dev/null || true
	done
	run -0 "$MINICLOUD" down --dir "$MINICLOUD_DIR"
	[ ! -e "$MINICLOUD_DIR" ]
	# shellcheck disable=SC2086
	run -0 leftovers "$MINICLOUD_DIR" $pids
	[ "$output" = "" ]
}
