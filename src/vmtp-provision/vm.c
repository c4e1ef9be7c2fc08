/*
 * vm.c - the test VMs of vmtp-provision's cloud mode (SPEC §1, §6):
 * planned (server, intra- and inter-node clients), placed, booted side by
 * side, then waited for: ACTIVE (one list call per poll), floating IP on
 * the port, and SSH (the host key seen first is recorded).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"
#include "libvmtp/ssh.h"

#include "cloud-int.h"

const char *
vm_addr(const struct vm *v)
{
	return v->fip != NULL ? v->fip : or_empty(v->ip);
}

/*
 * Plans a mesh: O->mesh VMs (one per compute host for CLOUD_MESH_ALL),
 * named as clients, all on the first network, or with --mesh-path l3 VM i
 * on network i (whose CIDRs are checked now, before anything is made); VM
 * i on compute host i when the hosts are known.  Returns 0, or -1 with ERR
 * set.
 */
static int
plan_mesh(struct cloud *c, struct vmtp_err *err)
{
	size_t nh = json_array_size(c->hosts);
	size_t listed = json_array_size(cfg_get(c->o->cfg, "internal_cidr"));
	char *last;
	int n = c->o->mesh;
	int i;

	if (c->o->ipv6_mode != NULL)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--mesh measures over IPv4 only: ipv6_mode does not go "
		    "with it");
	if (n == CLOUD_MESH_ALL && nh == 0)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--mesh all: only an admin may list the compute hosts; "
		    "give their number (--mesh N)");
	if (n == CLOUD_MESH_ALL)
		n = (int)nh;
	if (nh > 0 && (size_t)n > nh)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--mesh %d: the cloud has %zu compute host%s", n, nh,
		    nh == 1 ? "" : "s");
	if (n < 2 || n > MAX_VMS)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--mesh %d: a mesh has 2 to %d VMs", n, MAX_VMS);
	for (i = 0; i < n; i++) {
		struct vm *v = &c->vms[i];

		v->name = str_fmt(err, "%s%d", c->client_name, i + 1);
		if (v->name == NULL)
			return -1;
		v->role = "mesh";
		v->host = nh > 0 ? i : -1;
		v->net = c->o->mesh_l3 ? i : 0;
	}
	c->nvm = n;
	if (!c->o->mesh_l3)
		return 0;
	c->nets = n;
	/* the last network's CIDR is the furthest from the list (main.c
	 * refuses a reused network with l3) */
	last = subnet_cidr(c, n - 1, err);
	if (last == NULL)
		return -1;
	if ((size_t)n > listed)
		log_info("--mesh-path l3: %d networks; internal_cidr names "
		         "%zu, the others take the blocks after it, up to %s",
		    n, listed, last);
	free(last);
	return 0;
}

int
plan_vms(struct cloud *c, struct vmtp_err *err)
{
	int net, intra, n = 0;

	if (c->o->mesh != 0)
		return plan_mesh(c, err);

	if (str_set(&c->vms[0].name, c->server_name, err) != 0)
		return -1;
	c->vms[0].role = "server";
	c->vms[0].intra = 1;
	n = 1;
	for (intra = 1; intra >= 0; intra--) {
		if (intra && c->o->inter_node_only)
			continue;
		/* without a second host there is no inter-node placement,
		 * unless the scheduler decides (hosts unknown) */
		if (!intra && json_array_size(c->hosts) == 1)
			continue;
		for (net = 0; net < c->nets; net++) {
			struct vm *v = &c->vms[n];

			v->name = str_fmt(err, "%s%d", c->client_name, n);
			if (v->name == NULL)
				return -1;
			v->role = "client";
			v->net = net;
			v->intra = intra;
			n++;
		}
	}
	c->nvm = n;
	return 0;
}

/* "zone:host" for V: --hypervisor, else the hosts found, else the zone;
 * a mesh VM its own host, else the zone; or NULL.  Returns a new
 * reference. */
static json_t *
placement(struct cloud *c, const struct vm *v)
{
	const char *zone = c->o->az != NULL
	                       ? c->o->az
	                       : cfg_str(c->o->cfg, "availability_zone");
	const char *want = c->o->hyper[v->intra ? 0 : 1];
	size_t nh = json_array_size(c->hosts);

	if (c->o->mesh != 0 && v->host >= 0)
		return json_deep_copy(
		    json_array_get(c->hosts, (size_t)v->host));
	if (c->o->mesh != 0)
		return zone != NULL ? json_string(zone) : NULL;

	if (want == NULL && v->intra)
		want = c->o->hyper[0];
	if (want != NULL) {
		if (strchr(want, ':') != NULL || zone == NULL)
			return json_sprintf(
			    "%s%s", strchr(want, ':') ? "" : "nova:", want);
		return json_sprintf("%s:%s", zone, want);
	}
	if (nh > 0)
		/* a copy: VMs boot on several threads (see make_subnet) */
		return json_deep_copy(
		    json_array_get(c->hosts, v->intra ? 0 : 1));
	return zone != NULL ? json_string(zone) : NULL;
}

/* The "networks" of VM V's server request (a new reference): a port of
 * its own for a --vnic-type other than normal, else its network.  NULL
 * when out of memory, or with ERR set when the port cannot be made. */
static json_t *
vm_networks(struct cloud *c, struct vm *v, struct vmtp_err *err)
{
	const char *vnic = c->o->vnic_type;
	char *port_name;
	json_t *p;

	if (vnic == NULL || strcmp(vnic, "normal") == 0)
		return json_pack("[{s:s}]", "uuid", c->net_id[v->net]);
	port_name = str_fmt(err, "%s-port", v->name);
	if (port_name == NULL)
		return NULL;
	p = neutron_create(c, "ports", "port", "port", port_name,
	    json_pack("{s:s, s:s, s:[s]}", "network_id", c->net_id[v->net],
	        "binding:vnic_type", vnic, "security_groups", c->sg_id),
	    &v->port, err);
	free(port_name);
	if (p == NULL)
		return NULL;
	json_decref(p);
	return json_pack("[{s:s}]", "port", v->port);
}

/* The create_find of VM ARG's server: the run's server of its name. */
static json_t *
server_found(struct cloud *c, const void *arg, struct vmtp_err *err)
{
	const struct vm *v = arg;
	char *nq = http_escape(v->name);
	char *path =
	    nq != NULL
	        ? str_fmt(err, "/servers/detail?name=%s&tags=%s", nq, c->tag)
	        : NULL;
	json_t *reply = NULL;
	json_t *s;
	json_t *out = NULL;
	size_t i;

	if (nq == NULL)
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
	if (path != NULL)
		reply = call(c, "compute", "GET", path, NULL,
		    "look for the server", NULL, err);
	if (reply != NULL) {
		/* Nova's name filter is a pattern: the exact name */
		out = json_null();
		json_array_foreach (json_object_get(reply, "servers"), i, s) {
			if (strcmp(or_empty(str(s, "name")), v->name) == 0) {
				out = json_pack("{s:O}", "server", s);
				if (out == NULL)
					err_set(err, VMTP_EXIT_FAIL,
					    "out of memory");
				break;
			}
		}
	}
	json_decref(reply);
	free(nq);
	free(path);
	return out;
}

int
boot_vm(struct cloud *c, int i, struct vmtp_err *err)
{
	struct vm *v = &c->vms[i];
	json_t *server;
	json_t *where;
	json_t *net;
	json_t *reply;
	char *what;
	int rc = -1;

	if (cancelled(c, err) != 0)
		return -1;
	net = vm_networks(c, v, err);
	if (net == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	server = json_pack("{s:s, s:s, s:s, s:s, s:o, s:[{s:s}], s:[s], "
	                   "s:{s:s}}",
	    "name", v->name, "imageRef", c->image, "flavorRef", c->flavor,
	    "key_name", c->keypair, "networks", net, "security_groups", "name",
	    c->sg_name, "tags", c->tag, "metadata", "vmtp_run", c->tag);
	if (server != NULL &&
	    ((c->o->config_drive && json_object_set_new(server, "config_drive",
	                                json_true()) != 0) ||
	        (c->o->user_data != NULL &&
	            json_object_set_new(server, "user_data",
	                json_string(c->o->user_data)) != 0))) {
		json_decref(server);
		server = NULL;
	}
	where = placement(c, v);
	/* json_object_set_new steals WHERE, also on failure */
	if (where != NULL &&
	    (server == NULL ||
	        json_object_set_new(server, "availability_zone", where) != 0)) {
		if (server == NULL)
			json_decref(where);
		json_decref(server);
		server = NULL;
	}
	what = str_fmt(err, "create server %s", v->name);
	if (what == NULL) {
		json_decref(server);
		return -1;
	}
	/* a mesh VM of a server group: its anti-affinity spreads them */
	reply = create(c, "compute", "/servers",
	    c->group_id != NULL
	        ? json_pack("{s:o, s:{s:s}}", "server", server,
	              "os:scheduler_hints", "group", c->group_id)
	        : json_pack("{s:o}", "server", server),
	    what, server_found, v, err);
	if (reply == NULL)
		goto out;
	rc = str_set(&v->id, str(json_object_get(reply, "server"), "id"), err);
	json_decref(reply);
	if (rc == 0 && v->id == NULL)
		rc = err_set(err, VMTP_EXIT_FAIL, "cannot %s: no id", what);
	if (rc == 0)
		rc = remember(c, "server", v->id, v->name, 1, NULL, err);
out:
	free(what);
	return rc;
}

/* The create_find of the mesh's server group: the group of its name. */
static json_t *
group_found(struct cloud *c, const void *arg, struct vmtp_err *err)
{
	const char *name = arg;
	json_t *reply = call(c, "compute", "GET", "/os-server-groups", NULL,
	    "look for the server group", NULL, err);
	json_t *g;
	json_t *out;
	size_t i;

	if (reply == NULL)
		return NULL;
	out = json_null();
	json_array_foreach (json_object_get(reply, "server_groups"), i, g)
		if (strcmp(or_empty(str(g, "name")), name) == 0) {
			json_decref(out);
			out = json_pack("{s:O}", "server_group", g);
			if (out == NULL)
				err_set(err, VMTP_EXIT_FAIL, "out of memory");
			break;
		}
	json_decref(reply);
	return out;
}

int
make_group(struct cloud *c, int unused, struct vmtp_err *err)
{
	char *name = str_fmt(err, "%s-mesh", c->tag);
	json_t *reply;
	int rc = -1;

	(void)unused;
	if (name == NULL)
		return -1;
	/* microversion 2.64 and later: "policy", one word */
	reply = create(c, "compute", "/os-server-groups",
	    json_pack("{s:{s:s, s:s}}", "server_group", "name", name, "policy",
	        "anti-affinity"),
	    "create the mesh's server group", group_found, name, err);
	if (reply != NULL) {
		rc = str_set(&c->group_id,
		    str(json_object_get(reply, "server_group"), "id"), err);
		if (rc == 0 && c->group_id == NULL)
			rc = err_set(err, VMTP_EXIT_FAIL,
			    "cannot create the mesh's server group: no id");
		if (rc == 0)
			rc = remember(
			    c, "server_group", c->group_id, name, 1, NULL, err);
	}
	json_decref(reply);
	free(name);
	return rc;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Fills V from its server detail S (addresses, zone, host). */
static int
vm_read(struct cloud *c, struct vm *v, const json_t *s, struct vmtp_err *err)
{
	const char *zone = str(s, "OS-EXT-AZ:availability_zone");
	const char *host = str(s, "OS-EXT-SRV-ATTR:host");
	const char *hostid = str(s, "hostId");
	json_t *addrs = json_object_get(
	    json_object_get(s, "addresses"), c->net_name[v->net]);
	json_t *a;
	size_t i;

	/* the first fixed address of each family; the IPv6 one only when
	 * the run asked for IPv6 (a provider network may have it anyway) */
	json_array_foreach (addrs, i, a) {
		const char *type = str(a, "OS-EXT-IPS:type");
		json_int_t version =
		    json_integer_value(json_object_get(a, "version"));

		if (type != NULL && strcmp(type, "fixed") != 0)
			continue;
		if (version == 4 && v->ip == NULL &&
		    str_set(&v->ip, str(a, "addr"), err) != 0)
			return -1;
		if (version == 6 && v->ipv6 == NULL &&
		    c->o->ipv6_mode != NULL &&
		    str_set(&v->ipv6, str(a, "addr"), err) != 0)
			return -1;
	}
	free(v->az);
	v->az = host != NULL ? str_fmt(err, "%s:%s", or_empty(zone), host)
	                     : str_fmt(err, "%s", or_empty(zone));
	/* hostId is the same for two servers of a project on one host: it
	 * tells intra from inter when host names are admin-only */
	if (v->az == NULL ||
	    str_set(&v->host_key, host != NULL ? host : hostid, err) != 0)
		return -1;
	return 0;
}

/*
 * Probes TCP port 22 of every VM in PENDING at once (non-blocking
 * connects, one poll() of at most WAIT_MS): READY[i] is set for those that
 * accept.  A failed socket call leaves a VM not ready.
 */
static void
probe_ssh_ports(struct cloud *c, const int *pending, int *ready, int wait_ms)
{
	struct pollfd fds[MAX_VMS];
	int idx[MAX_VMS];
	int n = 0, i;

	for (i = 0; i < c->nvm; i++) {
		struct sockaddr_in sa;
		int fd;

		ready[i] = 0;
		if (!pending[i])
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons(22);
		if (inet_pton(AF_INET, vm_addr(&c->vms[i]), &sa.sin_addr) != 1)
			continue;
		fd = socket(
		    AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			ready[i] = 1;
			close(fd);
			continue;
		}
		if (errno != EINPROGRESS) {
			close(fd);
			continue;
		}
		fds[n].fd = fd;
		fds[n].events = POLLOUT;
		idx[n++] = i;
	}
	if (n > 0) {
		struct timespec t0, t1;
		int left = wait_ms;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (left > 0 && poll(fds, (nfds_t)n, left) < 0 &&
		       errno == EINTR) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			left = wait_ms -
			       (int)((t1.tv_sec - t0.tv_sec) * 1000 +
			             (t1.tv_nsec - t0.tv_nsec) / 1000000);
		}
	}
	for (i = 0; i < n; i++) {
		int so_err = 1;
		socklen_t len = sizeof(so_err);

		if ((fds[i].revents & POLLOUT) != 0 &&
		    getsockopt(
		        fds[i].fd, SOL_SOCKET, SO_ERROR, &so_err, &len) == 0 &&
		    so_err == 0)
			ready[idx[i]] = 1;
		close(fds[i].fd);
	}
}

/* Milliseconds since T0. */
static long
since_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The run's servers (one filtered list call): a new reference, or NULL
 * with ERR set. */
static json_t *
list_servers(struct cloud *c, struct vmtp_err *err)
{
	char *path = str_fmt(err, "/servers/detail?tags=%s", c->tag);
	json_t *reply = NULL;

	if (path != NULL)
		reply = call(c, "compute", "GET", path, NULL,
		    "list the test servers", NULL, err);
	free(path);
	return reply;
}

/* VM I's server in REPLY (list_servers()), or NULL. */
static json_t *
server_of(const struct cloud *c, int i, json_t *reply)
{
	json_t *s;
	size_t k;

	json_array_foreach (json_object_get(reply, "servers"), k, s)
		if (strcmp(or_empty(str(s, "id")), c->vms[i].id) == 0)
			return s;
	return NULL;
}

/* When server S of VM I is in ERROR: sets ERR to its fault and returns -1;
 * else 0. */
static int
server_failed(const struct cloud *c, int i, json_t *s, struct vmtp_err *err)
{
	json_t *fault = json_object_get(s, "fault");

	if (strcmp(or_empty(str(s, "status")), "ERROR") != 0)
		return 0;
	err_clear(err);
	return err_set(err, VMTP_EXIT_FAIL, "server %s went into ERROR: %s",
	    c->vms[i].name,
	    str(fault, "message") != NULL ? str(fault, "message")
	                                  : "no fault given");
}

void
vm_error_first(struct cloud *c, struct vmtp_err *err)
{
	struct vmtp_err le = VMTP_ERR_INIT;
	json_t *reply;
	json_t *s;
	int i;

	/* an interruption is what is told, whatever the VMs do */
	if (c->nvm == 0 || c->vms[0].id == NULL ||
	    (c->o->cancel != NULL && *c->o->cancel))
		return;
	reply = list_servers(c, &le);
	if (reply == NULL)
		return; /* the step's own error is told */
	for (i = 0; i < c->nvm; i++) {
		s = c->vms[i].id != NULL ? server_of(c, i, reply) : NULL;
		if (s != NULL && server_failed(c, i, s, &le) != 0) {
			/* a consequence: said, not as the error */
			log_info("after that: %s", err->msg);
			*err = le;
			break;
		}
	}
	json_decref(reply);
}

/*
 * One poll of the VMs' state (one filtered list call): fills what became
 * ACTIVE (ACTIVE_AT[i], ms since T0) and decrements *LEFT for each.
 * Returns 0, or -1 with ERR set when the call fails or a VM is in ERROR.
 */
static int
poll_servers(struct cloud *c, const struct timespec *t0, long *active_at,
    int *left, struct vmtp_err *err)
{
	json_t *reply = list_servers(c, err);
	json_t *s;
	int i, rc = -1;

	if (reply == NULL)
		return -1;
	for (i = 0; i < c->nvm; i++) {
		const char *st;

		if (active_at[i] >= 0)
			continue;
		s = server_of(c, i, reply);
		st = s != NULL ? str(s, "status") : NULL;
		if (s != NULL && server_failed(c, i, s, err) != 0)
			goto out;
		if (st != NULL && strcmp(st, "ACTIVE") == 0) {
			if (vm_read(c, &c->vms[i], s, err) != 0)
				goto out;
			active_at[i] = since_ms(t0);
			(*left)--;
		}
	}
	rc = 0;
out:
	json_decref(reply);
	return rc;
}

/*
 * Logs in to VM V at its floating (else fixed) IP, recording the host key
 * seen first (trust on first use; vmtp-run checks it later).  Returns 0,
 * or -1 with ERR set.
 */
static int
ssh_login(struct cloud *c, struct vm *v, struct vmtp_err *err)
{
	struct ssh_opts so = {0};
	struct ssh_conn *conn;
	int rc;

	so.host = vm_addr(v);
	so.user = cfg_str(c->o->cfg, "ssh_vm_username");
	so.key = c->key_path;
	so.known_hosts = c->known_hosts;
	so.policy = SSH_HOSTKEY_ACCEPT_NEW;
	so.timeout_ms = 10000;
	so.attempts = 1;
	so.cancel = c->o->cancel;
	conn = ssh_open(&so, err);
	if (conn == NULL)
		return -1;
	rc = str_set(&v->fingerprint, ssh_fingerprint(conn), err);
	ssh_close(conn);
	if (rc == 0)
		log_info("%s answers SSH at %s (%s)", v->name, so.host,
		    or_empty(v->fingerprint));
	return rc;
}

/* What wait_ready() knows of each VM. */
struct wait {
	struct timespec t0;
	long boot_ms, ssh_ms;    /* patience: all ACTIVE; each answers SSH */
	long active_at[MAX_VMS]; /* ms since t0, or -1 */
	int answered[MAX_VMS];
	int left;      /* VMs not ACTIVE yet */
	int bare;      /* floating IPs not on their port yet */
	int waiting;   /* VMs not answering SSH yet */
	int logged_in; /* a login was tried: libssh2 is set up */
};

/* Places the floating IPs whose VM's port is now known, side by side. */
static int
place_fips(struct cloud *c, struct wait *w, struct vmtp_err *err)
{
	struct task tasks[MAX_VMS];
	int i, n = 0;

	if (find_ports(c, 0, err) != 0)
		return -1;
	for (i = 0; i < c->nvm; i++)
		if (c->vms[i].port != NULL && c->vms[i].fip_id != NULL &&
		    !c->vms[i].fip_on)
			add_task(tasks, &n, fip_attach, i);
	if (n > 0 && run_tasks(c, tasks, n, err) != 0)
		return -1;
	w->bare -= n;
	if (w->bare > 0 && since_ms(&w->t0) > w->boot_ms)
		return err_set(err, VMTP_EXIT_FAIL,
		    "%d server(s) have no port after %ld s", w->bare,
		    w->boot_ms / 1000);
	return 0;
}

/*
 * Sets ERR once a VM has run out of patience: every VM that does not
 * answer SSH yet, LAST (the latest VM's reason), and, when those VMs sit
 * on a subnet without DHCP and have no config drive, that this is likely
 * why (they have no address).  Returns -1.
 */
static int
ssh_failed(struct cloud *c, const struct wait *w, const struct vmtp_err *last,
    struct vmtp_err *err)
{
	char names[MAX_VMS * (VM_NAME_MAX + 2) + 1] = "";
	int n = 0, bare = 0, i;

	for (i = 0; i < c->nvm; i++) {
		if (w->answered[i])
			continue;
		if (n++ > 0)
			strcat(names, ", ");
		strcat(names, c->vms[i].name);
		bare += c->nodhcp[c->vms[i].net] && !c->o->config_drive;
	}
	return err_set(err, VMTP_EXIT_FAIL,
	    "%s %s not answer SSH after %ld s: %s%s", names,
	    n == 1 ? "does" : "do", w->ssh_ms / 1000, last->msg,
	    bare == 0 ? ""
	    : n == 1
	        ? "; likely because its subnet has DHCP disabled and it has "
	          "no config drive (--config-drive), so it has no address"
	    : bare == n
	        ? "; likely because their subnet has DHCP disabled and they "
	          "have no config drive (--config-drive), so they have no "
	          "address"
	        : "; those on a subnet with DHCP disabled have no config "
	          "drive (--config-drive), so likely no address");
}

/* A login as a step beside others: its outcome goes to the VM, so that
 * one VM's failure stops no other's login. */
static int
login_step(struct cloud *c, int i, struct vmtp_err *unused)
{
	struct vm *v = &c->vms[i];

	(void)unused;
	err_clear(&v->login_err);
	v->login_rc = ssh_login(c, v, &v->login_err);
	return 0;
}

/*
 * SSH to the VMs that are ACTIVE, with their floating IP: port 22 of all
 * probed at once, then a login to each that accepts, side by side (each
 * adds its own line to the run's known_hosts: one append each).  The
 * process's first login goes alone, so that libssh2 is set up once.
 */
static int
try_ssh(struct cloud *c, struct wait *w, struct vmtp_err *err)
{
	struct task tasks[MAX_VMS];
	int pending[MAX_VMS];
	int ready[MAX_VMS];
	int i, n = 0, k = 0;

	for (i = 0; i < c->nvm; i++) {
		pending[i] = w->active_at[i] >= 0 && !w->answered[i] &&
		             (c->vms[i].fip_id == NULL || c->vms[i].fip_on);
		n += pending[i];
	}
	if (n == 0)
		return 0;
	probe_ssh_ports(c, pending, ready, POLL_MS * 4 / 5);
	for (i = 0; i < c->nvm; i++) {
		struct vm *v = &c->vms[i];

		if (!pending[i])
			continue;
		if (!ready[i]) {
			v->login_rc = -1;
			err_clear(&v->login_err);
			err_set(&v->login_err, VMTP_EXIT_FAIL,
			    "%s: port 22 does not answer", vm_addr(v));
		} else if (!w->logged_in) {
			login_step(c, i, NULL);
			w->logged_in = 1;
		} else {
			add_task(tasks, &k, login_step, i);
		}
	}
	if (k > 0 && run_tasks(c, tasks, k, err) != 0)
		return -1;
	for (i = 0; i < c->nvm; i++) {
		struct vm *v = &c->vms[i];

		if (!pending[i])
			continue;
		if (v->login_rc == 0) {
			w->answered[i] = 1;
			w->waiting--;
			continue;
		}
		if (since_ms(&w->t0) - w->active_at[i] > w->ssh_ms)
			return ssh_failed(c, w, &v->login_err, err);
	}
	return 0;
}

/*
 * In rounds of POLL_MS: one filtered list call while some VM builds; one
 * port list call while ports are unknown, each floating IP placed as soon
 * as its port exists (side by side); then port 22 of every VM that is
 * ready for it probed at once, and a login to those that accept.  A VM is
 * logged in to as soon as it is ACTIVE, not when all are.  Patience, as
 * the original tool's: generic_retry_count x 2 s for all to be ACTIVE,
 * then ssh_retry_count x 5 s for each to answer SSH.
 */
int
wait_ready(struct cloud *c, struct vmtp_err *err)
{
	struct wait w;
	int i;

	memset(&w, 0, sizeof(w));
	w.boot_ms =
	    (c->o->poll_attempts > 0 ? c->o->poll_attempts : 50) * 2000L;
	w.ssh_ms = (c->o->ssh_attempts > 0 ? c->o->ssh_attempts : 50) * 5000L;
	w.left = w.waiting = c->nvm;
	clock_gettime(CLOCK_MONOTONIC, &w.t0);
	for (i = 0; i < c->nvm; i++) {
		w.active_at[i] = -1;
		w.bare += c->vms[i].fip_id != NULL && !c->vms[i].fip_on;
	}
	while (w.waiting > 0) {
		long round = since_ms(&w.t0);

		if (cancelled(c, err) != 0)
			return -1;
		if (w.left > 0 &&
		    poll_servers(c, &w.t0, w.active_at, &w.left, err) != 0)
			return -1;
		if (w.left > 0 && since_ms(&w.t0) > w.boot_ms)
			return err_set(err, VMTP_EXIT_FAIL,
			    "%d server(s) not ACTIVE after %ld s", w.left,
			    w.boot_ms / 1000);
		if (w.bare > 0 && place_fips(c, &w, err) != 0)
			return -1;
		if (try_ssh(c, &w, err) != 0)
			return -1;
		log_progress("%d of %d VMs active, %d answer SSH",
		    c->nvm - w.left, c->nvm, c->nvm - w.waiting);
		round = POLL_MS - (since_ms(&w.t0) - round);
		if (w.waiting > 0 && round > 0)
			sleep_ms(round);
	}
	log_progress_end();
	return 0;
}
