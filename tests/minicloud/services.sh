#!/bin/bash
# services.sh: configures, initialises and starts Debian's Keystone, Neutron and Glance for minicloud (SPEC §9).
#
# Usage: services.sh COMMAND DIR
#   config           write every service's configuration under DIR (reads DIR/ports.env, DIR/secrets.env)
#   keystone-init    create Keystone's database, key repositories and the bootstrap admin
#   neutron-init     create Neutron's schema from its models (its migrations fail on sqlite), stamp heads
#   glance-init      create Glance's database
#   keystone-run | neutron-run | glance-run   exec the service in the foreground (the caller records the pid)
# Everything binds to 127.0.0.1; nothing outside DIR is written.
set -euo pipefail

cmd=${1:?usage: services.sh COMMAND DIR}
D=$(cd "${2:?usage: services.sh COMMAND DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091
. "$D/ports.env"
# shellcheck disable=SC1091
. "$D/secrets.env"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset PYTHONPATH PYTHONHOME

# sqlite keeps WAL mode in the file: two workers otherwise get "database is locked".
wal() {
	/usr/bin/python3 -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("pragma journal_mode=wal")' "$1"
}

authtoken() { # authtoken USER PASSWORD
	cat <<-CONF
	[keystone_authtoken]
	www_authenticate_uri = http://127.0.0.1:$PROXY_IDENTITY_PORT/v3
	auth_url = http://127.0.0.1:$KEYSTONE_PORT/v3
	auth_type = password
	project_domain_name = Default
	user_domain_name = Default
	project_name = service
	username = $1
	password = $2
	CONF
}

config() {
	mkdir -p "$D/log" "$D/keystone/fernet-keys" "$D/keystone/credential-keys" \
		"$D/neutron/lock" "$D/glance/images" "$D/glance/lock" "$D/glance/staging"
	chmod 700 "$D/keystone"
	umask 077
	cat >"$D/keystone/keystone.conf" <<-CONF
	[DEFAULT]
	log_file = $D/log/keystone.log
	[database]
	connection = sqlite:///$D/keystone/keystone.db
	[token]
	provider = fernet
	expiration = $TOKEN_TTL
	[fernet_tokens]
	key_repository = $D/keystone/fernet-keys
	[credential]
	key_repository = $D/keystone/credential-keys
	[identity]
	password_hash_rounds = 4
	[cache]
	# In-process cache: without it a token validation costs ~500 SQL queries (0.5 s). Per worker, so a change
	# made through one worker may be seen late (up to expiration_time) by the other.
	enabled = true
	backend = dogpile.cache.memory
	expiration_time = 30
	[catalog]
	# A token issued during the bootstrap would otherwise keep serving the catalog of that moment
	# (identity only) from the worker that did not create the other endpoints.
	caching = false
	[oslo_messaging_notifications]
	driver = noop
	CONF
	cat >"$D/keystone/uwsgi.ini" <<-CONF
	[uwsgi]
	plugins = python3
	http-socket = 127.0.0.1:$KEYSTONE_PORT
	wsgi-file = /usr/bin/keystone-wsgi-public
	master = true
	processes = 2
	threads = 1
	lazy-apps = true
	skip-atexit-teardown = true
	die-on-term = true
	no-orphans = true
	buffer-size = 65535
	# http-socket closes every connection; without saying so, a client reusing it gets RemoteDisconnected.
	add-header = Connection: close
	env = OS_KEYSTONE_CONFIG_FILES=$D/keystone/keystone.conf
	logto = $D/log/keystone-uwsgi.log
	CONF

	cat >"$D/neutron/neutron.conf" <<-CONF
	[DEFAULT]
	bind_host = 127.0.0.1
	bind_port = $NEUTRON_PORT
	core_plugin = ml2
	service_plugins = router
	auth_strategy = keystone
	api_paste_config = /etc/neutron/api-paste.ini
	transport_url = fake:/
	dhcp_agent_notification = false
	notify_nova_on_port_status_changes = false
	notify_nova_on_port_data_changes = false
	# sqlite, not MySQL: one request at a time (two sharing the file fail each other with
	# "database is locked", where MySQL would make one wait). Tried (issue 16): two API workers
	# with each writing transaction begun IMMEDIATE, waiting for the lock as MySQL would: no
	# faster (a write's CPU time is spent inside its transactions, which sqlite serializes), and
	# a transaction waiting for one of its own worker's timed out after 5 s (500s).
	api_workers = 1
	wsgi_default_pool_size = 1
	wsgi_keep_alive = false
	rpc_workers = 1
	rpc_state_report_workers = 0
	state_path = $D/neutron
	log_file = $D/log/neutron.log
	[database]
	connection = sqlite:///$D/neutron/neutron.db
	# no fsync per commit: the database dies with the cloud anyway
	sqlite_synchronous = false
	$(authtoken neutron "$NEUTRON_PASSWORD")
	[oslo_concurrency]
	lock_path = $D/neutron/lock
	[oslo_messaging_notifications]
	driver = noop
	[nova]
	auth_type = password
	auth_url = http://127.0.0.1:$KEYSTONE_PORT/v3
	CONF
	cat >"$D/neutron/ml2_conf.ini" <<-CONF
	[ml2]
	type_drivers = flat,vlan,vxlan
	tenant_network_types = vxlan
	mechanism_drivers =
	extension_drivers = port_security
	[ml2_type_flat]
	flat_networks = *
	[ml2_type_vlan]
	network_vlan_ranges = physnet1
	[ml2_type_vxlan]
	vni_ranges = 1:10000
	CONF

	cat >"$D/glance/glance-api.conf" <<-CONF
	[DEFAULT]
	bind_host = 127.0.0.1
	bind_port = $GLANCE_PORT
	workers = 1
	log_file = $D/log/glance.log
	image_cache_dir = $D/glance/cache
	[database]
	connection = sqlite:///$D/glance/glance.db
	$(authtoken glance "$GLANCE_PASSWORD")
	[paste_deploy]
	flavor = keystone
	config_file = /etc/glance/glance-api-paste.ini
	[glance_store]
	stores = file
	default_store = file
	filesystem_store_datadir = $D/glance/images
	[os_glance_staging_store]
	filesystem_store_datadir = $D/glance/staging
	[os_glance_tasks_store]
	filesystem_store_datadir = $D/glance/tasks
	[oslo_concurrency]
	lock_path = $D/glance/lock
	[oslo_messaging_notifications]
	driver = noop
	[taskflow_executor]
	conversion_format = raw
	CONF
}

keystone_conf=(--config-file "$D/keystone/keystone.conf")
neutron_conf=(--config-file "$D/neutron/neutron.conf" --config-file "$D/neutron/ml2_conf.ini")
glance_conf=(--config-file "$D/glance/glance-api.conf")

case $cmd in
config) config ;;
keystone-init)
	keystone-manage "${keystone_conf[@]}" db_sync
	wal "$D/keystone/keystone.db"
	keystone-manage "${keystone_conf[@]}" fernet_setup --keystone-user root --keystone-group root
	keystone-manage "${keystone_conf[@]}" credential_setup --keystone-user root --keystone-group root
	chmod 700 "$D/keystone/fernet-keys" "$D/keystone/credential-keys"
	OS_BOOTSTRAP_PASSWORD=$ADMIN_PASSWORD keystone-manage "${keystone_conf[@]}" bootstrap \
		--bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
		--bootstrap-region-id RegionOne \
		--bootstrap-admin-url "http://127.0.0.1:$PROXY_IDENTITY_PORT/v3" \
		--bootstrap-internal-url "http://127.0.0.1:$PROXY_IDENTITY_PORT/v3" \
		--bootstrap-public-url "http://127.0.0.1:$PROXY_IDENTITY_PORT/v3"
	;;
neutron-init)
	/usr/bin/python3 "$here/neutron_schema.py" "sqlite:///$D/neutron/neutron.db"
	wal "$D/neutron/neutron.db"
	neutron-db-manage "${neutron_conf[@]}" stamp heads
	;;
glance-init)
	glance-manage "${glance_conf[@]}" db_sync
	wal "$D/glance/glance.db"
	;;
keystone-run) exec uwsgi --ini "$D/keystone/uwsgi.ini" ;;
neutron-run) exec neutron-server "${neutron_conf[@]}" ;;
glance-run) exec glance-api "${glance_conf[@]}" ;;
*)
	echo "services.sh: unknown command: $cmd" >&2
	exit 2
	;;
esac
