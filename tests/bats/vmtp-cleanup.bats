#!/usr/bin/env bats
# vmtp-cleanup.bats - deleting what vmtp runs left in a cloud (SPEC §6
# vmtp-cleanup), against the minicloud's real Keystone, Neutron and Glance.

load helpers/common
load helpers/minicloud

T=vmtp-0a1b2c3d
U=vmtp-00c0ffee

setup_file() {
	minicloud_up --computes 1 --boot-delay 0
}

teardown_file() {
	minicloud_down
}

setup() {
	minicloud_require
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	export OS_CLOUD=minicloud
	mkdir -p "$XDG_STATE_HOME/vmtp"
}

# Whatever a test did to the cloud's services is undone, even when it failed.
teardown() {
	[ ! -e "$MINICLOUD_DIR/faults.json" ] || "$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear
	restore_compute
	[ ! -e "$BATS_TEST_TMPDIR/made" ] || vmtp-cleanup -q --tag $T || true
}

# hide_compute: deletes the compute service's endpoints from the catalog, as
# the admin with the official client, remembering them for restore_compute.
hide_compute() {
	local saved=$BATS_TEST_TMPDIR/compute-endpoints.json
	os_admin endpoint list --service compute -f json > "$saved"
	[ "$(jq length "$saved")" -eq 3 ]
	os_admin endpoint delete $(jq -r '.[].ID' "$saved")
	[ "$(os_admin endpoint list --service compute -f value | wc -l)" -eq 0 ]
}

# restore_compute: re-creates the endpoints hide_compute deleted, identically.
restore_compute() {
	local saved=$BATS_TEST_TMPDIR/compute-endpoints.json e
	[ -e "$saved" ] || return 0
	while read -r e; do
		os_admin endpoint create --region "$(jq -r .Region <<< "$e")" compute \
			"$(jq -r .Interface <<< "$e")" "$(jq -r .URL <<< "$e")" > /dev/null
	done < <(jq -c '.[]' "$saved")
	rm "$saved"
}

# topology [--no-port]: a tagged run's network, subnet, router (gateway and
# interface), security group, key pair, a free port (unless --no-port), a
# server and a floating IP, made with the official client; prints the
# server's id.
topology() {
	local srv
	touch "$BATS_TEST_TMPDIR/made"
	os network create --tag $T $T-net1 > /dev/null
	os subnet create --tag $T --network $T-net1 --subnet-range 172.25.9.0/24 $T-subnet1 > /dev/null
	os router create --tag $T $T-router > /dev/null
	os router set --external-gateway public $T-router
	os router add subnet $T-router $T-subnet1
	os security group create --tag $T $T-sg > /dev/null
	[ "${1:-}" = --no-port ] || os port create --tag $T --network $T-net1 --no-security-group $T-port > /dev/null
	os keypair create $T-key > /dev/null
	srv=$(os --os-compute-api-version 2.52 server create --tag $T --flavor m1.small --image minicloud-vm \
		--network $T-net1 --key-name $T-key --security-group $T-sg $T-server -f value -c id)
	minicloud_wait_server "$srv" ACTIVE
	os floating ip create --tag $T public > /dev/null
	echo "$srv"
}

# snapshot: the names of everything in the cloud, by collection.
snapshot() {
	"$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -S 'map_values([.[].name] | sort)'
}

# api METHOD TYPE PATH [BODY]: one request as the member; prints the answer.
api() {
	run -0 --separate-stderr os-call --cloud minicloud "$@"
	sed -n 2p <<< "$output"
}

# mknet NAME [TAG]: a network (tagged when TAG is given); prints its id.
mknet() {
	local id
	id=$(api POST network /v2.0/networks "{\"network\":{\"name\":\"$1\"}}" | jq -r .network.id)
	[ -z "${2:-}" ] || api PUT network "/v2.0/networks/$id/tags/$2" > /dev/null
	echo "$id"
}

names() {
	"$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -c --arg c "$1" '[.[$c][].name] | sort'
}

# journal TAG RECORD...: writes the run's journal as vmtp-provision does.
journal() {
	local tag=$1
	shift
	printf '%s\n' "$@" > "$XDG_STATE_HOME/vmtp/$tag.ndjson"
}

@test "--tag deletes a whole tagged topology in order, and nothing else, asking for each resource once" {
	# Neutron makes the project's default security group on first use
	os security group list > /dev/null
	before=$("$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -S 'map_values([.[].name] | sort)')
	keep=$(mknet keep-me)
	srv=$(topology --no-port)
	router=$(os router show $T-router -f value -c id)
	n=$(wc -l < "$MINICLOUD_DIR/api.log")

	run -0 --separate-stderr vmtp-cleanup --tag $T
	tail -n +$((n + 1)) "$MINICLOUD_DIR/api.log" > "$BATS_TEST_TMPDIR/calls"
	# Neutron deletes a router's gateway with the router: no update of it before
	[ "$(grep -c "^network PUT /v2.0/routers/$router " "$BATS_TEST_TMPDIR/calls" || true)" -eq 0 ]
	[ "$(grep -c "^network DELETE /v2.0/routers/$router 204 " "$BATS_TEST_TMPDIR/calls")" -eq 1 ]
	# its interface (not in a journal) is detached once Neutron says it is in use
	[ "$(grep -c "^network DELETE /v2.0/routers/$router 409 " "$BATS_TEST_TMPDIR/calls")" -eq 1 ]
	[ "$(grep -c "^network PUT /v2.0/routers/$router/remove_router_interface 200 " "$BATS_TEST_TMPDIR/calls")" -eq 1 ]
	# what a DELETE took (204 or 404) is not looked up again
	[ "$(grep -cE '^network GET /v2.0/[a-z-]+/[0-9a-f-]{36} ' "$BATS_TEST_TMPDIR/calls" || true)" -eq 0 ]
	# the router goes while the server does: no look at the servers before
	[ "$(sed -n "/^network DELETE \/v2.0\/routers\/$router /=" "$BATS_TEST_TMPDIR/calls" | tail -n 1)" -lt \
		"$(sed -n '/^compute GET \/v2.1\/servers /=' "$BATS_TEST_TMPDIR/calls" | head -n 1)" ]
	[ "$(jq -r .kind <<< "$output" | paste -sd,)" = "floatingip,router,server,subnet,network,security_group,keypair" ]
	[ "$(jq -s 'map(select(has("error"))) | length' <<< "$output")" -eq 0 ]
	[ "$(jq -r .run <<< "$output" | sort -u)" = $T ]
	# one line for the user per resource deleted
	[[ "$stderr" == *"vmtp-cleanup: deleted server $T-server ($srv)"* ]]
	[ "$(grep -c '^vmtp-cleanup: deleted ' <<< "$stderr")" -eq 7 ]
	api DELETE network "/v2.0/networks/$keep" > /dev/null
	after=$("$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -S 'map_values([.[].name] | sort)')
	[ "$after" = "$before" ]
	# Nova deleted the server's port with it: no orphan
	[ "$(os port list -f value -c ID | wc -l)" -eq 0 ]
}

@test "a router whose interfaces the journal lists goes with one DELETE, its ports not looked up" {
	topology --no-port > /dev/null
	router=$(os router show $T-router -f value -c id)
	iface=$(os port list --router $T-router --device-owner network:router_interface -f value -c ID)
	journal $T "{\"type\":\"resource\",\"run\":\"$T\",\"kind\":\"router_interface\",\"id\":\"$iface\",\"name\":\"$T-net1\",\"parent\":\"$router\",\"created\":true}"
	n=$(wc -l < "$MINICLOUD_DIR/api.log")

	run -0 --separate-stderr vmtp-cleanup -v --tag $T
	tail -n +$((n + 1)) "$MINICLOUD_DIR/api.log" > "$BATS_TEST_TMPDIR/calls"
	[ "$(grep -c "^network PUT /v2.0/routers/$router/remove_router_interface 200 " "$BATS_TEST_TMPDIR/calls")" -eq 1 ]
	[ "$(grep -c "^network DELETE /v2.0/routers/$router " "$BATS_TEST_TMPDIR/calls")" -eq 1 ]
	# -v names each call with its query: no list of the router's ports
	[[ "$stderr" == *"DELETE http"*"/v2.0/routers/$router -> 204"* ]]
	[[ "$stderr" != *"ports?device_id=$router"* ]]
	[ "$(jq -r .kind <<< "$output" | paste -sd,)" = "floatingip,router_interface,router,server,subnet,network,security_group,keypair" ]
	[ "$(os router list -f value | wc -l)" -eq 0 ]
}

@test "several servers go side by side: the project's servers listed once per poll, never a GET of each server" {
	os security group list > /dev/null
	before=$(snapshot)
	touch "$BATS_TEST_TMPDIR/made"
	net=$(mknet $T-net1 $T)
	api POST network /v2.0/subnets "{\"subnet\":{\"name\":\"$T-subnet1\",\"network_id\":\"$net\",\"ip_version\":4,\"cidr\":\"172.25.9.0/24\"}}" > /dev/null
	img=$(api GET image '/v2/images?name=minicloud-vm' | jq -r '.images[0].id')
	ids=()
	for i in 1 2 3; do
		ids+=("$(api POST compute /servers "{\"server\":{\"name\":\"$T-server$i\",\"imageRef\":\"$img\",\"flavorRef\":\"2\",\"networks\":[{\"uuid\":\"$net\"}]}}" | jq -r .server.id)")
	done
	for i in 0 1 2; do
		minicloud_wait_server "${ids[i]}" ACTIVE
	done
	n=$(wc -l < "$MINICLOUD_DIR/api.log")
	t0=$(date +%s)
	run -0 --separate-stderr vmtp-cleanup --tag $T
	t1=$(date +%s)
	[ "$(jq -r 'select(.kind == "server" and (has("error") | not)) | .id' <<< "$output" | sort)" = \
		"$(printf '%s\n' "${ids[@]}" | sort)" ]
	tail -n +$((n + 1)) "$MINICLOUD_DIR/api.log" > "$BATS_TEST_TMPDIR/calls"
	# no server was asked for by its id: each poll is one list
	[ "$(grep -cE '^compute GET /v2.1/servers/[0-9a-f-]{36} ' "$BATS_TEST_TMPDIR/calls" || true)" -eq 0 ]
	[ "$(grep -c '^compute DELETE /v2.1/servers/' "$BATS_TEST_TMPDIR/calls")" -eq 3 ]
	# polls each 0.25 s for 3 s, then each second: at most 12 + one a
	# second, plus the look at what is left
	lists=$(grep -c '^compute GET /v2.1/servers ' "$BATS_TEST_TMPDIR/calls" || true)
	[ "$lists" -ge 2 ]
	[ "$lists" -le $((14 + t1 - t0)) ]
	[ "$(snapshot)" = "$before" ]
}

@test "a second cleanup of the same tag deletes nothing and succeeds" {
	mknet $T-net1 $T > /dev/null
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(jq -s length <<< "$output")" -eq 1 ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ -z "$output" ]
}

@test "resources found by journal or by name prefix go too, untagged; the journal goes last" {
	named=$(mknet $T-net2)
	other=$(mknet journalled-only)
	journal $T "{\"type\":\"resource\",\"run\":\"$T\",\"kind\":\"network\",\"id\":\"$other\",\"name\":\"journalled-only\",\"created\":true}"
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(jq -r .id <<< "$output" | sort | paste -sd,)" = "$(printf '%s\n' "$named" "$other" | sort | paste -sd,)" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

@test "records on stdin: created ones deleted, reused ones kept, other records passed on" {
	mine=$(mknet mine)
	reused=$(mknet shared-net)
	run -0 --separate-stderr vmtp-cleanup <<- EOF
	{"type":"run","run":"$T","v":1}
	{"type":"resource","run":"$T","kind":"network","id":"$reused","name":"shared-net","created":false}
	{"type":"resource","run":"$T","kind":"network","id":"$mine","name":"mine","created":true}
	{"type":"flow","run":"$T","id":1,"desc":"x"}
	EOF
	[ "$(jq -c '[.type, .id // .v]' <<< "$output" | paste -sd' ')" = "[\"run\",1] [\"flow\",1] [\"deleted\",\"$mine\"]" ]
	[ "$(names networks)" = '["public","shared-net"]' ]
	api DELETE network "/v2.0/networks/$reused" > /dev/null
}

# rule SG: a TCP rule in security group SG, made as the member; prints its id.
rule() {
	api POST network /v2.0/security-group-rules "{\"security_group_rule\":{\"security_group_id\":\"$1\",\"direction\":\"ingress\",\"protocol\":\"tcp\",\"port_range_min\":5001,\"port_range_max\":5001}}" |
		jq -r .security_group_rule.id
}

@test "the rules of a group it deletes go with the group, without a request each; those of a reused group one by one" {
	mine=$(api POST network /v2.0/security-groups '{"security_group":{"name":"mine-sg"}}' | jq -r .security_group.id)
	shared=$(api POST network /v2.0/security-groups '{"security_group":{"name":"shared-sg"}}' | jq -r .security_group.id)
	r1=$(rule "$mine")
	r2=$(rule "$shared")
	n=$(wc -l < "$MINICLOUD_DIR/api.log")
	run -0 --separate-stderr vmtp-cleanup <<- EOF
	{"type":"resource","run":"$T","kind":"security_group","id":"$mine","name":"mine-sg","created":true}
	{"type":"resource","run":"$T","kind":"security_group_rule","id":"$r1","name":"allow tcp 5001-5001","created":true,"parent":"$mine"}
	{"type":"resource","run":"$T","kind":"security_group","id":"$shared","name":"shared-sg","created":false}
	{"type":"resource","run":"$T","kind":"security_group_rule","id":"$r2","name":"allow tcp 5001-5001","created":true,"parent":"$shared"}
	EOF
	[ "$(jq -r '[.kind, .id, has("error")] | join(" ")' <<< "$output" | paste -sd,)" = \
		"security_group $mine false,security_group_rule $r1 false,security_group_rule $r2 false" ]
	tail -n +$((n + 1)) "$MINICLOUD_DIR/api.log" > "$BATS_TEST_TMPDIR/calls"
	[ "$(grep -c "^network DELETE /v2.0/security-group-rules/$r1 " "$BATS_TEST_TMPDIR/calls" || true)" -eq 0 ]
	[ "$(grep -c "^network DELETE /v2.0/security-group-rules/$r2 204 " "$BATS_TEST_TMPDIR/calls")" -eq 1 ]
	[ "$(api GET network "/v2.0/security-group-rules?security_group_id=$shared&protocol=tcp" | jq '.security_group_rules | length')" -eq 0 ]
	api GET network /v2.0/security-groups | jq -e --arg m "$mine" '[.security_groups[].id] | index($m) == null' > /dev/null
	api DELETE network "/v2.0/security-groups/$shared" > /dev/null
}

@test "--all deletes every vmtp run, honours --older-than, never an untagged resource" {
	old=$(mknet $T-old $T)
	new=$(mknet $U-new $U)
	plain=$(mknet plain-net)
	journal $T "{\"type\":\"resource\",\"run\":\"$T\",\"kind\":\"network\",\"id\":\"$old\",\"name\":\"$T-old\",\"created\":true}"
	journal $U "{\"type\":\"resource\",\"run\":\"$U\",\"kind\":\"network\",\"id\":\"$new\",\"name\":\"$U-new\",\"created\":true}"
	touch -d '3 hours ago' "$XDG_STATE_HOME/vmtp/$T.ndjson"
	run -0 --separate-stderr vmtp-cleanup --all --older-than 2h
	[ "$(jq -r .id <<< "$output")" = "$old" ]
	[ -e "$XDG_STATE_HOME/vmtp/$U.ndjson" ]
	run -0 --separate-stderr vmtp-cleanup --all
	[ "$(jq -r .id <<< "$output")" = "$new" ]
	[ "$(names networks)" = '["plain-net","public"]' ]
	api DELETE network "/v2.0/networks/$plain" > /dev/null
}

@test "--dry-run lists what would go as resource records and deletes nothing" {
	id=$(mknet $T-net1 $T)
	run -0 --separate-stderr vmtp-cleanup --dry-run --tag $T
	[ "$(jq -c '[.type, .kind, .id, .created]' <<< "$output")" = "[\"resource\",\"network\",\"$id\",true]" ]
	[ "$(names networks)" = "[\"public\",\"$T-net1\"]" ]
	# and that list is valid input for a real cleanup
	run -0 --separate-stderr vmtp-cleanup <<< "$output"
	[ "$(names networks)" = '["public"]' ]
}

@test "what cannot be deleted is named and the status is 1" {
	os_admin flavor create --ram 64 --disk 0 --vcpus 1 $T-flavor > /dev/null
	run -1 --separate-stderr vmtp-cleanup --tag $T
	[ "$(jq -c '[.kind, .name, (.error | startswith("403"))]' <<< "$output")" = "[\"flavor\",\"$T-flavor\",true]" ]
	[[ "$stderr" == *"vmtp-cleanup: warning: cannot delete flavor $T-flavor ("*"): 403"* ]]
	[[ "$stderr" == *"still there: flavor $T-flavor"* ]]
	[[ "$stderr" == *"vmtp-cleanup: 1 resource(s) could not be deleted" ]]
	os_admin flavor delete $T-flavor
}

@test "an openrc file works as well as clouds.yaml" {
	id=$(mknet $T-net1 $T)
	run -0 --separate-stderr env -u OS_CLOUD vmtp-cleanup -r "$MINICLOUD_DIR/openrc" --tag $T
	[ "$(jq -r .id <<< "$output")" = "$id" ]
}

@test "an application credential and a token authenticate too" {
	id=$(mknet $T-net1 $T)
	cred=$(os application credential create -f json vmtp-test-cred)
	run -0 --separate-stderr env -u OS_CLOUD OS_AUTH_TYPE=v3applicationcredential \
		OS_AUTH_URL="$(sed -n 's/^export OS_AUTH_URL=//p' "$MINICLOUD_DIR/openrc")" \
		OS_APPLICATION_CREDENTIAL_ID="$(jq -r .id <<< "$cred")" \
		OS_APPLICATION_CREDENTIAL_SECRET="$(jq -r .secret <<< "$cred")" \
		vmtp-cleanup --tag $T
	[ "$(jq -r .id <<< "$output")" = "$id" ]
	os application credential delete vmtp-test-cred
	id=$(mknet $T-net1 $T)
	token=$(os token issue -f value -c id)
	run -0 --separate-stderr env -u OS_CLOUD OS_AUTH_TYPE=v3token OS_TOKEN="$token" \
		OS_AUTH_URL="$(sed -n 's/^export OS_AUTH_URL=//p' "$MINICLOUD_DIR/openrc")" \
		OS_PROJECT_NAME=demo OS_PROJECT_DOMAIN_NAME=Default \
		vmtp-cleanup --tag $T
	[ "$(jq -r .id <<< "$output")" = "$id" ]
	[[ "$stderr" != *"$token"* ]]
}

@test "a wrong password is one clear line and status 1" {
	sed 's/^export OS_PASSWORD=.*/export OS_PASSWORD=wrong-password/' "$MINICLOUD_DIR/openrc" > "$BATS_TEST_TMPDIR/bad"
	run -1 --separate-stderr env -u OS_CLOUD vmtp-cleanup -r "$BATS_TEST_TMPDIR/bad" --tag $T
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "vmtp-cleanup: cannot authenticate at http://127.0.0.1:"*"/v3: Keystone said 401: "* ]]
}

@test "-v logs every API call but never the password or a token" {
	pw=$(sed -n "s/^export OS_PASSWORD=//p" "$MINICLOUD_DIR/openrc" | tr -d "'\"")
	[ ${#pw} -ge 16 ]
	run -0 --separate-stderr vmtp-cleanup -v --tag $T
	[[ "$stderr" == *"POST http://127.0.0.1:"*"/v3/auth/tokens -> 201"* ]]
	[[ "$stderr" != *"$pw"* ]]
	[[ "$stderr" != *X-Auth-Token* ]]
	[[ "$stderr" != *gAAAAA* ]] # Fernet tokens start so
}

@test "injected 503s with Retry-After are retried through" {
	id=$(mknet $T-net1 $T)
	n=$(wc -l < "$MINICLOUD_DIR/api.log")
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --rate 0.3 --status 503 --service network --retry-after 1
	run --separate-stderr vmtp-cleanup --tag $T
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear
	[ "$status" -eq 0 ]
	[ "$(jq -r .id <<< "$output")" = "$id" ]
	# the faults did happen, and each was retried
	[ "$(tail -n +$((n + 1)) "$MINICLOUD_DIR/api.log" | grep -c '^network .* 503 ')" -ge 3 ]
}

@test "compute missing from the catalog: the rest of the run goes, compute is named, a later run ends it" {
	os security group list > /dev/null
	before=$(snapshot)
	srv=$(topology)
	journal $T "{\"type\":\"resource\",\"run\":\"$T\",\"kind\":\"server\",\"id\":\"$srv\",\"name\":\"$T-server\",\"created\":true}"
	hide_compute
	run -1 --separate-stderr vmtp-cleanup --tag $T
	# what does not hang on the server went; what its port holds is named with it
	[ "$(jq -r 'select(has("error") | not) | .kind' <<< "$output" | paste -sd,)" = "floatingip,router,port" ]
	[ "$(jq -r 'select(has("error")) | .kind' <<< "$output" | paste -sd,)" = "subnet,network,security_group" ]
	[ "$(jq -r 'select(has("error")) | .error' <<< "$output" | grep -c "^409: .*; held by the port of server $srv$")" -eq 3 ]
	[[ "$stderr" == *"warning: the catalog has no compute endpoint for interface public in region RegionOne: no servers, server groups, key pairs or flavors to look for"* ]]
	[[ "$stderr" == *"warning: skipped server $T-server ($srv): the catalog has no compute endpoint"* ]]
	[[ "$stderr" != *"cannot list"* ]]
	[[ "$stderr" == *"vmtp-cleanup: 3 resource(s) could not be deleted" ]]
	[ "$("$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -c '[.routers, .floatingips] | map(length)')" = "[0,0]" ]
	[ "$("$MINICLOUD" resources --dir "$MINICLOUD_DIR" | jq -r '.ports[].name' | grep -c "^$T-port$")" -eq 0 ]
	[ -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
	restore_compute
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(jq -r .kind <<< "$output" | paste -sd,)" = "server,subnet,network,security_group,keypair" ]
	[ "$(snapshot)" = "$before" ]
	[ ! -e "$XDG_STATE_HOME/vmtp/$T.ndjson" ]
}

@test "compute answering 503 past the retries: the rest goes, compute is named, status 1; a later run ends it" {
	os security group list > /dev/null
	before=$(snapshot)
	srv=$(topology)
	n=$(wc -l < "$MINICLOUD_DIR/api.log")
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --rate 1 --status 503 --service compute --retry-after 0
	run -1 --separate-stderr vmtp-cleanup --tag $T
	"$MINICLOUD" fault --dir "$MINICLOUD_DIR" --clear
	[ "$(jq -r 'select(has("error") | not) | .kind' <<< "$output" | paste -sd,)" = "floatingip,router,port" ]
	[ "$(jq -r 'select(has("error")) | .error' <<< "$output" | grep -c "^409: .*; held by the port of server $srv$")" -eq 3 ]
	[[ "$stderr" == *"vmtp-cleanup: cannot list servers: compute: 503: minicloud: injected fault"* ]]
	[[ "$stderr" == *"vmtp-cleanup: compute is down: server groups, key pairs and flavors not looked at either"* ]]
	[[ "$stderr" == *"vmtp-cleanup: 3 resource(s) could not be deleted and 4 collection(s) could not be listed: something of the run may remain" ]]
	# compute was asked once (and retried), not once per collection
	[ "$(tail -n +$((n + 1)) "$MINICLOUD_DIR/api.log" | grep -c '^compute GET /v2.1/servers/detail 503 ')" -eq 6 ]
	[ "$(tail -n +$((n + 1)) "$MINICLOUD_DIR/api.log" | grep -c '^compute GET /v2.1/os-keypairs')" -eq 0 ]
	run -0 --separate-stderr vmtp-cleanup --tag $T
	[ "$(jq -r .kind <<< "$output" | paste -sd,)" = "server,subnet,network,security_group,keypair" ]
	[ "$(snapshot)" = "$before" ]
}

@test "records on stdin of a service missing from the catalog are skipped and named, not failed" {
	touch "$BATS_TEST_TMPDIR/made"
	net=$(mknet $T-mine)
	os keypair create $T-key > /dev/null
	records="{\"type\":\"resource\",\"run\":\"$T\",\"kind\":\"keypair\",\"id\":\"$T-key\",\"name\":\"$T-key\",\"created\":true}
{\"type\":\"resource\",\"run\":\"$T\",\"kind\":\"network\",\"id\":\"$net\",\"name\":\"$T-mine\",\"created\":true}"
	hide_compute
	run -0 --separate-stderr vmtp-cleanup <<< "$records"
	[ "$(jq -c '[.kind, .id, has("error")]' <<< "$output")" = "[\"network\",\"$net\",false]" ]
	[[ "$stderr" == *"vmtp-cleanup: warning: skipped keypair $T-key ($T-key): the catalog has no compute endpoint for interface public in region RegionOne"* ]]
	[[ "$stderr" != *"cannot delete"* ]]
	[ "$(names networks)" = '["public"]' ]
	restore_compute
	[ "$(os keypair list -f value -c Name)" = "$T-key" ]
	# the network is gone already (404: deleted), the key pair goes now
	run -0 --separate-stderr vmtp-cleanup <<< "$records"
	[ "$(jq -r '[.kind, .id, has("error")] | join(" ")' <<< "$output" | paste -sd,)" = "network $net false,keypair $T-key false" ]
	[ -z "$(os keypair list -f value -c Name)" ]
}

@test "bad input stops at its line with status 65, after passing on what came before" {
	printf '{"type":"run","run":"%s"}\nnot json\n' $T > "$BATS_TEST_TMPDIR/in"
	run -65 --separate-stderr vmtp-cleanup < "$BATS_TEST_TMPDIR/in"
	[ "$output" = "{\"type\":\"run\",\"run\":\"$T\"}" ]
	[[ "$stderr" == "vmtp-cleanup: <stdin>:2: not JSON: "* ]]
}

@test "usage errors name the option" {
	run -2 --separate-stderr vmtp-cleanup --tag nope
	[[ "${stderr_lines[0]}" == "vmtp-cleanup: --tag: not a run tag (vmtp- and 8 hex digits)" ]]
	run -2 --separate-stderr vmtp-cleanup --tag $T --all
	[[ "${stderr_lines[0]}" == "vmtp-cleanup: --tag and --all exclude each other" ]]
	run -2 --separate-stderr vmtp-cleanup --older-than 1h
	[[ "${stderr_lines[0]}" == "vmtp-cleanup: --older-than needs --all" ]]
	run -2 --separate-stderr vmtp-cleanup --all --older-than 1y
	[[ "${stderr_lines[0]}" == "vmtp-cleanup: --older-than: '1y' is not a duration (90, 30m, 2h, 7d)" ]]
}

@test "--help and --version" {
	run -0 vmtp-cleanup --help
	[[ "${lines[0]}" == "usage: vmtp-cleanup "* ]]
	run -0 vmtp-cleanup --version
	[ "$output" = "vmtp-cleanup 0.1.0" ]
}
