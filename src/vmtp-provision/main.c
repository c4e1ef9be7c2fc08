/*
 * main.c - vmtp-provision: a topology of hosts and flows as records
 * (SPEC §4, §6).  Cloud mode (no --host): the VMTP topology built through
 * the OpenStack APIs (cloud.c).  Native mode: --host and --external-host
 * name Linux hosts reached over SSH, no cloud involved.  Each host is
 * contacted once (host key checked, fingerprint recorded, the data address
 * read from IFNAME); then run, host and flow records go to stdout.  The
 * first --host is the server, every host is a client of it.  In both
 * modes --controller-node adds what the controller says about the
 * deployment to the run record (controller.c).
 */
#include <sys/random.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/base64.h"
#include "libvmtp/cfg.h"
#include "libvmtp/cli.h"
#include "libvmtp/err.h"
#include "libvmtp/journal.h"
#include "libvmtp/log.h"
#include "libvmtp/mesh.h"
#include "libvmtp/opt.h"
#include "libvmtp/os.h"
#include "libvmtp/rec.h"
#include "libvmtp/ssh.h"

#include "cloud.h"
#include "controller.h"

#define PROG "vmtp-provision"
#define MAX_HOSTS 64

static const char synopsis[] =
    "usage: vmtp-provision [-hqv] [-c config] [-r openrc] [--os-cloud name]\n"
    "                      [--insecure] [--availability-zone zone]\n"
    "                      [--hypervisor [zone:]host] [--inter-node-only]\n"
    "                      [--mesh N|all] [--mesh-path l2|l3]\n"
    "                      [--same-network-only] [--reuse-network name]\n"
    "                      [--vnic-type normal|direct|macvtap] "
    "[--keep-on-error]\n"
    "                      [--delete-image-after-run]\n"
    "                      [--ipv6-mode "
    "slaac|dhcpv6-stateful|dhcpv6-stateless]\n"
    "                      [--no-floatingip] [--no-dhcp] [--config-drive]\n"
    "                      [--user-data file]\n"
    "                      [--external-host user@ip] [--controller-node "
    "user@ip]\n"
    "                      [--ssh-key file] [--ssh-password-file file]\n"
    "                      [--known-hosts file] [--hostkey-policy "
    "strict|accept-new]\n"
    "                      [--tag tag] [--test-description text]\n"
    "                      [--version] [--vm-image-url url]\n"
    "       vmtp-provision [-hqv] [-c config] --host user@ip[:ifname] ...\n"
    "                      [--external-host user@ip] [--controller-node "
    "user@ip]\n"
    "                      [--hostkey-policy strict|accept-new]\n"
    "                      [--inter-node-only] [--known-hosts file] "
    "[--mesh N|all]\n"
    "                      [--ssh-key file] [--ssh-password-file file] "
    "[--tag tag]\n"
    "                      [--test-description text]\n"
    "       vmtp-provision --show-config\n";

enum {
	OPT_EXTERNAL = 256,
	OPT_CONTROLLER,
	OPT_HOST,
	OPT_POLICY,
	OPT_INTER,
	OPT_KNOWN,
	OPT_KEY,
	OPT_PWFILE,
	OPT_TAG,
	OPT_VERSION,
	OPT_OS_CLOUD,
	OPT_INSECURE,
	OPT_AZ,
	OPT_HYPER,
	OPT_SAME,
	OPT_KEEP,
	OPT_REUSE,
	OPT_VNIC,
	OPT_DESC,
	OPT_DELETE_IMAGE,
	OPT_SHOW_CONFIG,
	OPT_IMAGE_URL,
	OPT_IPV6,
	OPT_NO_FIP,
	OPT_NO_DHCP,
	OPT_CONFIG_DRIVE,
	OPT_USER_DATA,
	OPT_MESH,
	OPT_MESH_PATH
};

/* Nova's limit for user data, base64-encoded (bytes). */
#define USER_DATA_MAX 65535

static const char *const ipv6_modes[] = {
    "slaac", "dhcpv6-stateful", "dhcpv6-stateless", NULL};

static const struct opt options[] = {
    OPT_GROUP("Cloud mode (no --host): builds the VMTP topology in OpenStack."),
    {'r', "openrc", "file", "credentials (read, never run); else OS_*"},
    {OPT_OS_CLOUD, "os-cloud", "name",
        "credentials from clouds.yaml ($OS_CLOUD)"},
    {OPT_INSECURE, "insecure", NULL,
        "do not verify the APIs' TLS certificates"},
    {OPT_AZ, "availability-zone", "zone", "zone of the test VMs"},
    {OPT_HYPER, "hypervisor", "[zone:]host",
        "server's host; given twice: then the clients'"},
    {OPT_SAME, "same-network-only", NULL, "only same-network flows"},
    {OPT_REUSE, "reuse-network", "name",
        "VMs on this provider network: L2 flows only"},
    {OPT_VNIC, "vnic-type", "normal|direct|macvtap",
        "the VMs' vNIC type (default normal)"},
    {OPT_KEEP, "keep-on-error", NULL, "leave what was made when it fails"},
    {OPT_DELETE_IMAGE, "delete-image-after-run", NULL,
        "an image uploaded for the run goes with it"},
    {OPT_IPV6, "ipv6-mode", "slaac|dhcpv6-stateful|dhcpv6-stateless",
        "an IPv6 subnet on each network too"},
    {OPT_NO_FIP, "no-floatingip", NULL, "VMs reached at their fixed IPs"},
    {OPT_NO_DHCP, "no-dhcp", NULL, "subnets without DHCP (--config-drive)"},
    {OPT_CONFIG_DRIVE, "config-drive", NULL, "VMs booted with a config drive"},
    {OPT_USER_DATA, "user-data", "file", "Nova user data for the VMs"},
    {OPT_MESH_PATH, "mesh-path", "l2|l3",
        "--mesh VMs on one network (l2, default), or\n"
        "each on its own, through the router (l3)"},
    {OPT_DESC, "test-description", "text", "kept in the run record"},
    {OPT_IMAGE_URL, "vm-image-url", "url",
        "image to upload when image_name is missing"},
    OPT_GROUP("\nNative mode: a topology of Linux hosts reached over SSH."),
    {OPT_HOST, "host", "user@ip[:ifname]",
        "a host; the first is the server (repeatable)"},
    {OPT_EXTERNAL, "external-host", "user@ip",
        "an external host measured against the server"},
    {OPT_INTER, "inter-node-only", NULL, "no intra-host flow"},
    OPT_GROUP("\nBoth modes:"),
    {OPT_MESH, "mesh", "N|all",
        "every pair of N hosts (or all), both ways, in\n"
        "rounds: the first N --host, or N VMs, one per\n"
        "compute host"},
    {OPT_CONTROLLER, "controller-node", "user@ip",
        "the controller's distribution, OpenStack\n"
        "release and CPU, read over SSH, in the run record"},
    {OPT_KEY, "ssh-key", "file", "private key (default: agent, ~/.ssh)"},
    {OPT_PWFILE, "ssh-password-file", "file",
        "password (or $VMTP_SSH_PASSWORD)"},
    {OPT_KNOWN, "known-hosts", "file", "default ~/.ssh/known_hosts"},
    {OPT_POLICY, "hostkey-policy", "strict|accept-new",
        "strict (default) or accept-new"},
    {OPT_TAG, "tag", "tag", "run tag (default vmtp-XXXXXXXX)"},
    {'c', NULL, "config", "YAML configuration (SPEC §7 keys)"},
    {OPT_SHOW_CONFIG, "show-config", NULL,
        "print the default configuration and exit"},
    {'q', "quiet", NULL, "errors only"},
    {'v', "verbose", NULL, "debug messages"},
    {'h', "help", NULL, "show this help and exit"},
    {OPT_VERSION, "version", NULL, "show the version and exit"}, OPT_END};

/* Set by SIGINT and SIGTERM: provisioning stops and rolls back. */
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* One --host or --external-host, as given and as found. */
struct host {
	char *user;
	char *addr;   /* SSH address */
	char *ifname; /* NULL: the data address is the SSH address */
	int external;
	char ip[64];           /* data address */
	char fingerprint[128]; /* host key seen */
};

/* The command line. */
struct opts {
	const char *config;
	const char *openrc;
	const char *os_cloud;
	const char *az;
	const char *hyper[2];
	int n_hyper;
	int insecure;
	int same_network_only;
	int keep_on_error;
	int delete_image;
	const char *reuse_network;
	const char *vnic_type;
	const char *ipv6_mode;
	int no_floatingip;
	int no_dhcp;
	int config_drive;
	const char *user_data;
	const char *description;
	const char *image_url;
	const char *ssh_key;
	const char *known_hosts;
	const char *password_file;
	const char *tag;
	int policy;
	int inter_node_only;
	int mesh; /* --mesh: hosts in the mesh, CLOUD_MESH_ALL; 0: no mesh */
	const char *mesh_path; /* --mesh-path: l2 or l3; NULL: not given */
	int verbosity;
	struct host hosts[MAX_HOSTS];
	int n_hosts;
	struct host controller; /* addr NULL: no --controller-node */
};

/* Splits "user@ip[:ifname]" into H.  Returns 0, or -1 with ERR set. */
static int
host_parse(struct host *h, const char *opt, const char *s, int allow_if,
    struct vmtp_err *err)
{
	const char *at = strchr(s, '@');
	const char *colon;

	if (at == NULL || at == s || at[1] == '\0')
		return err_set(err, VMTP_EXIT_USAGE,
		    "%s: '%s' is not user@ip%s", opt, s,
		    allow_if ? "[:ifname]" : "");
	colon = strchr(at + 1, ':');
	if (colon != NULL && (!allow_if || colon[1] == '\0' ||
	                         colon == at + 1 || strchr(colon + 1, ':')))
		return err_set(err, VMTP_EXIT_USAGE,
		    "%s: '%s' is not user@ip%s", opt, s,
		    allow_if ? "[:ifname]" : "");
	h->user = strndup(s, (size_t)(at - s));
	h->addr = colon != NULL ? strndup(at + 1, (size_t)(colon - at - 1))
	                        : strdup(at + 1);
	h->ifname = colon != NULL ? strdup(colon + 1) : NULL;
	if (h->user == NULL || h->addr == NULL ||
	    (colon != NULL && h->ifname == NULL))
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return 0;
}

/*
 * --host, --external-host (EXTERNAL: the given one so far) or
 * --controller-node CH into O.  Returns 0, or -1 with ERR set.
 */
static int
parse_host(int ch, struct opts *o, int *external, struct vmtp_err *err)
{
	struct host *h;

	if (ch == OPT_CONTROLLER) {
		if (o->controller.addr != NULL)
			return err_set(err, VMTP_EXIT_USAGE,
			    "--controller-node: given twice");
		return host_parse(
		    &o->controller, "--controller-node", optarg, 0, err);
	}
	if (o->n_hosts == MAX_HOSTS)
		return err_set(
		    err, VMTP_EXIT_USAGE, "more than %d hosts", MAX_HOSTS);
	if (ch == OPT_EXTERNAL && *external)
		return err_set(
		    err, VMTP_EXIT_USAGE, "--external-host: given twice");
	h = &o->hosts[o->n_hosts++];
	h->external = ch == OPT_EXTERNAL;
	*external |= h->external;
	return host_parse(h, h->external ? "--external-host" : "--host", optarg,
	    !h->external, err);
}

/*
 * One option CH (with optarg) of the cloud or of the logins into O.
 * Returns 0, or -1 with ERR set.
 */
static int
parse_opt(int ch, struct opts *o, struct vmtp_err *err)
{
	static const char *const policies[] = {"strict", "accept-new", NULL};
	static const char *const vnics[] = {
	    "normal", "direct", "macvtap", NULL};
	static const char *const paths[] = {"l2", "l3", NULL};

	switch (ch) {
	case 'c':
		o->config = optarg;
		break;
	case 'r':
		o->openrc = optarg;
		break;
	case OPT_OS_CLOUD:
		o->os_cloud = optarg;
		break;
	case OPT_INSECURE:
		o->insecure = 1;
		break;
	case OPT_AZ:
		o->az = optarg;
		break;
	case OPT_HYPER:
		if (o->n_hyper == 2)
			return err_set(err, VMTP_EXIT_USAGE,
			    "--hypervisor: at most twice (server, clients)");
		o->hyper[o->n_hyper++] = optarg;
		break;
	case OPT_SAME:
		o->same_network_only = 1;
		break;
	case OPT_KEEP:
		o->keep_on_error = 1;
		break;
	case OPT_DELETE_IMAGE:
		o->delete_image = 1;
		break;
	case OPT_REUSE:
		o->reuse_network = optarg;
		break;
	case OPT_VNIC:
		o->vnic_type = optarg;
		return cli_parse_word("--vnic-type", optarg, vnics, err) < 0
		           ? -1
		           : 0;
	case OPT_IPV6:
		o->ipv6_mode = optarg;
		return cli_parse_word("--ipv6-mode", optarg, ipv6_modes, err) <
		               0
		           ? -1
		           : 0;
	case OPT_NO_FIP:
		o->no_floatingip = 1;
		break;
	case OPT_NO_DHCP:
		o->no_dhcp = 1;
		break;
	case OPT_CONFIG_DRIVE:
		o->config_drive = 1;
		break;
	case OPT_USER_DATA:
		o->user_data = optarg;
		break;
	case OPT_DESC:
		o->description = optarg;
		break;
	case OPT_IMAGE_URL:
		o->image_url = optarg;
		break;
	case OPT_POLICY:
		o->policy =
		    cli_parse_word("--hostkey-policy", optarg, policies, err);
		return o->policy < 0 ? -1 : 0;
	case OPT_INTER:
		o->inter_node_only = 1;
		break;
	case OPT_MESH: {
		long long n;

		if (strcmp(optarg, "all") == 0) {
			o->mesh = CLOUD_MESH_ALL;
			return 0;
		}
		if (cli_parse_long("--mesh", optarg, 2, MAX_HOSTS, &n, err) !=
		    0)
			return -1;
		o->mesh = (int)n;
		break;
	}
	case OPT_MESH_PATH:
		o->mesh_path = optarg;
		return cli_parse_word("--mesh-path", optarg, paths, err) < 0
		           ? -1
		           : 0;
	case OPT_KNOWN:
		o->known_hosts = optarg;
		break;
	case OPT_KEY:
		o->ssh_key = optarg;
		break;
	case OPT_PWFILE:
		o->password_file = optarg;
		break;
	case OPT_TAG:
		if (!journal_tag_ok(optarg))
			return err_set(err, VMTP_EXIT_USAGE,
			    "--tag: '%s' is not vmtp- and 8 hex digits",
			    optarg);
		o->tag = optarg;
		break;
	}
	return 0;
}

/* --mesh-path l3: each mesh VM on a network of its own. */
static int
mesh_l3(const struct opts *o)
{
	return o->mesh_path != NULL && strcmp(o->mesh_path, "l3") == 0;
}

/*
 * Checks --mesh and --mesh-path against the other options of O.  Returns
 * 0, or -1 with ERR set (a usage error).
 */
static int
check_mesh(struct opts *o, struct vmtp_err *err)
{
	int hosts = 0;
	int i;

	if (o->mesh == 0) {
		if (o->mesh_path != NULL)
			return err_set(err, VMTP_EXIT_USAGE,
			    "--mesh-path: the path of a mesh's flows: it "
			    "needs --mesh");
		return 0;
	}
	for (i = 0; i < o->n_hosts; i++) {
		if (o->hosts[i].external)
			return err_set(err, VMTP_EXIT_USAGE,
			    "--mesh measures between --host hosts: "
			    "--external-host does not go with it");
		hosts++;
	}
	if (hosts == 0) {
		/* a cloud mesh: one VM per compute host */
		if (o->n_hyper > 0)
			return err_set(err, VMTP_EXIT_USAGE,
			    "--mesh places one VM on each compute host: "
			    "--hypervisor does not go with it");
		if (mesh_l3(o) && o->same_network_only)
			return err_set(err, VMTP_EXIT_USAGE,
			    "--mesh-path l3 puts each VM on a network of its "
			    "own: --same-network-only does not go with it");
		return 0;
	}
	if (mesh_l3(o))
		return err_set(err, VMTP_EXIT_USAGE,
		    "--mesh-path l3 crosses the run's Neutron router: native "
		    "hosts have none (it is for a cloud mesh)");
	if (o->mesh == CLOUD_MESH_ALL)
		o->mesh = hosts;
	if (o->mesh > hosts || o->mesh < 2)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--mesh %d: %d --host given; a mesh needs two or more",
		    o->mesh, hosts);
	return 0;
}

/*
 * Parses the command line into O.  Returns 0, 1 when --help, --version or
 * --show-config has been answered, or -1 with ERR set.
 */
static int
parse_args(int argc, char **argv, struct opts *o, struct vmtp_err *err)
{
	int external = 0;
	int ch;
	int rc = 0;

	while (rc == 0 && (ch = opt_next(argc, argv, options, err)) > 0) {
		switch (ch) {
		case 'h':
			opt_print_help(stdout, synopsis, options);
			return 1;
		case 'q':
			o->verbosity = LOG_QUIET;
			break;
		case 'v':
			o->verbosity = LOG_DEBUG;
			break;
		case OPT_SHOW_CONFIG:
			/* the built-in configuration, a start for one's own */
			fputs(cfg_defaults_text(), stdout);
			return 1;
		case OPT_VERSION:
			cli_print_version(PROG);
			return 1;
		case OPT_HOST:
		case OPT_EXTERNAL:
		case OPT_CONTROLLER:
			rc = parse_host(ch, o, &external, err);
			break;
		default:
			rc = parse_opt(ch, o, err);
		}
	}
	if (rc != 0 || ch < 0)
		return -1;
	if (optind < argc)
		return err_set(err, VMTP_EXIT_USAGE, "unexpected argument '%s'",
		    argv[optind]);
	if (o->n_hosts > 1 && o->hosts[0].external)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--external-host must follow the --host options");
	if (o->os_cloud == NULL && getenv("OS_CLOUD") != NULL &&
	    getenv("OS_CLOUD")[0] != '\0')
		o->os_cloud = getenv("OS_CLOUD");
	return check_mesh(o, err);
}

/*
 * The login rules for H, the same for every host given on the command
 * line: --ssh-key, agent, ~/.ssh or PASSWORD; the host key checked
 * against --known-hosts per --hostkey-policy.
 */
static void
host_ssh_opts(struct ssh_opts *so, const struct host *h, const struct opts *o,
    const char *password, int attempts)
{
	memset(so, 0, sizeof(*so));
	so->host = h->addr;
	so->user = h->user;
	so->key = o->ssh_key;
	so->password = password;
	so->known_hosts = o->known_hosts;
	so->policy = o->policy;
	so->attempts = attempts;
}

/*
 * Contacts H once: checks its host key (recording the fingerprint) and,
 * when an interface is named, reads its IPv4 address.  Returns 0 or -1.
 */
static int
host_contact(struct host *h, const struct opts *o, const char *password,
    int attempts, struct vmtp_err *err)
{
	struct ssh_opts so;
	struct ssh_result res = {0};
	struct ssh_conn *c = NULL;
	char *qif = NULL;
	char cmd[512];
	char *p;
	int rc = -1;

	host_ssh_opts(&so, h, o, password, attempts);
	c = ssh_open(&so, err);
	if (c == NULL)
		goto out;
	snprintf(
	    h->fingerprint, sizeof(h->fingerprint), "%s", ssh_fingerprint(c));
	snprintf(h->ip, sizeof(h->ip), "%s", h->addr);
	if (h->ifname != NULL) {
		qif = ssh_quote(h->ifname);
		if (qif == NULL) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
		snprintf(cmd, sizeof(cmd), "ip -4 -o addr show dev %s", qif);
		if (ssh_run(c, cmd, 15000, &res, err) < 0)
			goto out;
		/* "2: eth0    inet 10.0.0.5/24 brd ..." */
		p = strstr(res.out, " inet ");
		if (res.status != 0 || p == NULL ||
		    sscanf(p, " inet %63[0-9.]", h->ip) != 1) {
			err_set(err, VMTP_EXIT_FAIL,
			    "cannot read the address of %s on %s", h->ifname,
			    ssh_name(c));
			goto out;
		}
	}
	log_info("%s: %s, data address %s", ssh_name(c), h->fingerprint, h->ip);
	rc = 0;
out:
	ssh_result_free(&res);
	free(qif);
	ssh_close(c);
	return rc;
}

static json_t *
host_record(const char *run, const struct host *h, int i, const struct opts *o)
{
	struct rec_ssh ssh = {h->addr, 22, h->user, o->ssh_key, h->fingerprint};
	char *name = NULL;
	json_t *rec;

	if (h->external)
		name = strdup("external");
	else if (asprintf(&name, "host%d", i + 1) < 0)
		name = NULL;
	if (name == NULL)
		return NULL;
	rec = rec_host_new(
	    run, name, h->external ? "external" : "native", &ssh, h->ip);
	free(name);
	return rec;
}

/*
 * The command line as one string, as the original tool's documents keep
 * it.  No secret can be on it: passwords come from files or the
 * environment.  Returns a new string, or NULL when out of memory.
 */
static char *
args_string(int argc, char **argv)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	for (i = 0; s != NULL && i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static json_t *
run_record(const char *run, int argc, char **argv, const struct opts *o,
    const char *mode)
{
	json_t *rec = rec_new("run", run);
	char *args = args_string(argc, argv);
	char date[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (rec == NULL || args == NULL ||
	    json_object_set_new(rec, "v", json_integer(1)) != 0 ||
	    json_object_set_new(rec, "date", json_string(date)) != 0 ||
	    json_object_set_new(rec, "version", json_string(VMTP_VERSION)) !=
	        0 ||
	    json_object_set_new(rec, "args", json_string(args)) != 0 ||
	    json_object_set_new(rec, "mode", json_string(mode)) != 0 ||
	    (o->description != NULL &&
	        json_object_set_new(rec, "test_description",
	            json_string(o->description)) != 0)) {
		free(args);
		json_decref(rec);
		return NULL;
	}
	free(args);
	return rec;
}

/*
 * With --controller-node, adds the controller's details to RUN.  A
 * controller that cannot be reached or logged in to is a warning, and the
 * run goes on without them: the original tool, too, meant to report that
 * it could not connect and carry on (get_controller_info).  Returns 0, or
 * -1 with ERR set when out of memory or interrupted.
 */
static int
controller(json_t *run, const struct opts *o, const char *password,
    int attempts, struct vmtp_err *err)
{
	struct vmtp_err e = VMTP_ERR_INIT;
	struct ssh_opts so;
	int rc;

	if (run == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	if (o->controller.addr == NULL)
		return 0;
	host_ssh_opts(&so, &o->controller, o, password, attempts);
	so.cancel = &stop;
	rc = controller_describe(&so, run, &e);
	if (rc < 0)
		return err_set(err, e.exit, "%s", e.msg);
	if (stop)
		return err_set(err, VMTP_EXIT_FAIL, "interrupted");
	if (rc == 0)
		return 0;
	log_warn("--controller-node: %s; the run record goes without the "
	         "controller's details",
	    e.msg);
	return 0;
}

static int
emit(json_t *rec, struct vmtp_err *err)
{
	int rc;

	if (rec == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	rc = rec_write(stdout, rec, err);
	json_decref(rec);
	return rc;
}

/*
 * Writes the flows of a mesh of the first O->mesh hosts of RUN: every pair
 * of hosts (mesh.h) both ways, each flow with its pair's round.  Returns
 * 0, or -1 with ERR set.
 */
static int
mesh_flows(const char *run, const struct opts *o, struct vmtp_err *err)
{
	struct mesh_pair *pairs =
	    calloc((size_t)o->mesh * (size_t)(o->mesh - 1) / 2, sizeof(*pairs));
	int n = pairs != NULL ? mesh_pairs(o->mesh, pairs) : 0;
	int flow = 0;
	int rc = -1;
	int i, way;

	if (pairs == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	for (i = 0; i < n; i++) {
		for (way = 0; way < 2; way++) {
			int c = way == 0 ? pairs[i].a : pairs[i].b;
			int sv = way == 0 ? pairs[i].b : pairs[i].a;
			char client[32], server[32];

			snprintf(client, sizeof(client), "host%d", c + 1);
			snprintf(server, sizeof(server), "host%d", sv + 1);
			if (emit(rec_mesh_flow_new(run, ++flow,
			             FLOW_KIND_NATIVE_INTER, FLOW_NODE_ANY,
			             client, server, o->hosts[sv].ip,
			             pairs[i].round),
			        err) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	free(pairs);
	return rc;
}

/*
 * Native mode: contacts every --host and --external-host, then writes the
 * topology.  Returns 0, or -1 with ERR set.
 */
static int
native(int argc, char **argv, struct opts *o, const char *tag, int attempts,
    const char *password, struct vmtp_err *err)
{
	/* a mesh of N hosts leaves the others out */
	int hosts = o->mesh > 0 ? o->mesh : o->n_hosts;
	char name[32];
	json_t *run;
	int flow = 0;
	int i;

	for (i = 0; i < hosts; i++)
		if (host_contact(&o->hosts[i], o, password, attempts, err) < 0)
			return -1;
	run = run_record(tag, argc, argv, o, "native");
	if (controller(run, o, password, attempts, err) < 0) {
		json_decref(run);
		return -1;
	}
	if (emit(run, err) < 0)
		return -1;
	for (i = 0; i < hosts; i++)
		if (emit(host_record(tag, &o->hosts[i], i, o), err) < 0)
			return -1;
	if (o->mesh > 0)
		return mesh_flows(tag, o, err);
	/* flows in the original's order: the server host against itself,
	 * then every other host, then the external host (both ways) */
	if (!o->inter_node_only &&
	    emit(rec_flow_new(tag, ++flow, FLOW_KIND_NATIVE_INTRA,
	             FLOW_NODE_ANY, "host1", "host1", o->hosts[0].ip, 0),
	        err) < 0)
		return -1;
	for (i = 1; i < o->n_hosts; i++) {
		if (o->hosts[i].external)
			continue;
		snprintf(name, sizeof(name), "host%d", i + 1);
		if (emit(rec_flow_new(tag, ++flow, FLOW_KIND_NATIVE_INTER,
		             FLOW_NODE_ANY, name, "host1", o->hosts[0].ip, 0),
		        err) < 0)
			return -1;
	}
	for (i = 1; i < o->n_hosts; i++)
		if (o->hosts[i].external &&
		    emit(rec_flow_new(tag, ++flow, FLOW_KIND_EXTERNAL,
		             FLOW_NODE_ANY, "external", "host1", o->hosts[0].ip,
		             1),
		        err) < 0)
			return -1;
	if (flow == 0)
		log_warn("no flow: --inter-node-only needs a second --host");
	return 0;
}

/*
 * Where the configuration sets KEY, into BUF: "FILE:LINE" of the first
 * line starting "KEY:" in the -c file CONFIG, else in ~/.vmtp.yaml (the
 * later file wins, so it is looked at first); the key's name alone when
 * neither has such a line.
 */
static void
config_where(const char *config, const char *key, char *buf, size_t len)
{
	char home[4096] = "";
	const char *files[] = {config, home};
	size_t klen = strlen(key);
	char *line = NULL;
	size_t cap = 0;
	size_t f;

	snprintf(buf, len, "%s", key);
	if (getenv("HOME") != NULL)
		snprintf(home, sizeof(home), "%s/.vmtp.yaml", getenv("HOME"));
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		FILE *fp = files[f] != NULL && files[f][0] != '\0'
		               ? fopen(files[f], "r")
		               : NULL;
		long n = 0;

		while (fp != NULL && getline(&line, &cap, fp) > 0) {
			n++;
			if (strncmp(line, key, klen) == 0 &&
			    line[klen + strspn(line + klen, " \t")] == ':') {
				snprintf(
				    buf, len, "%s:%ld: %s", files[f], n, key);
				fclose(fp);
				free(line);
				return;
			}
		}
		if (fp != NULL)
			fclose(fp);
	}
	free(line);
}

/*
 * The user data file PATH (named WHAT: the option or the key) as Nova
 * takes it, base64, into *OUT (a new string).  A file that cannot be read,
 * or whose encoding is over Nova's limit, is a usage error: the user
 * fixes the command.  Returns 0, or -1 with ERR set.
 */
static int
user_data_load(
    const char *what, const char *path, char **out, struct vmtp_err *err)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, b64;
	int rc = -1;

	*out = NULL;
	/* one byte more than the limit allows tells "too big" */
	if (fp != NULL)
		buf = malloc(USER_DATA_MAX);
	if (fp != NULL && buf != NULL) {
		len = fread(buf, 1, USER_DATA_MAX, fp);
		if (ferror(fp)) {
			err_set(err, VMTP_EXIT_USAGE, "%s: cannot read %s: %s",
			    what, path, strerror(errno));
			goto out;
		}
		while (!feof(fp) && fgetc(fp) != EOF)
			len++;
	}
	if (fp == NULL) {
		err_set(err, VMTP_EXIT_USAGE, "%s: cannot open %s: %s", what,
		    path, strerror(errno));
		goto out;
	}
	if (buf == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	b64 = (len + 2) / 3 * 4;
	if (b64 > USER_DATA_MAX) {
		err_set(err, VMTP_EXIT_USAGE,
		    "%s: %s is %zu bytes, %zu in base64: over Nova's limit of "
		    "%d",
		    what, path, len, b64, USER_DATA_MAX);
		goto out;
	}
	*out = malloc(BASE64_SIZE(len));
	if (*out != NULL)
		base64_encode(buf, len, 1, *out);
	if (*out == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (fp != NULL)
		fclose(fp);
	free(buf);
	return rc;
}

/*
 * Cloud mode's settings of the command line and the configuration into
 * CO, checked before any request: the IPv6 mode (a configured one named by
 * file and line when wrong), floating IPs, DHCP, config drive and user
 * data (*USER_DATA, a new string, NULL for none).  Returns 0, or -1 with
 * ERR set (VMTP_EXIT_USAGE for what the user must change).
 */
static int
cloud_settings(const struct opts *o, const json_t *cfg, struct cloud_opts *co,
    char **user_data, struct vmtp_err *err)
{
	const char *file = o->user_data;
	/* "FILE:LINE: ipv6_mode" fits with any path of the system */
	char where[4200];

	*user_data = NULL;
	co->ipv6_mode = o->ipv6_mode;
	if (co->ipv6_mode == NULL &&
	    (co->ipv6_mode = cfg_str(cfg, "ipv6_mode")) != NULL) {
		config_where(o->config, "ipv6_mode", where, sizeof(where));
		if (cli_parse_word(where, co->ipv6_mode, ipv6_modes, err) < 0)
			return -1;
	}
	/* floating_ip: false, not null (unset) */
	co->no_floatingip = o->no_floatingip ||
	                    json_is_false(json_object_get(cfg, "floating_ip"));
	co->no_dhcp = o->no_dhcp;
	co->config_drive = o->config_drive || cfg_bool(cfg, "config_drive");
	if (co->no_dhcp && !co->config_drive)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--no-dhcp: the VMs get no address without --config-drive");
	if (co->no_dhcp && co->ipv6_mode != NULL)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--no-dhcp: Neutron takes no IPv6 mode (%s) on a subnet "
		    "without DHCP",
		    o->ipv6_mode != NULL ? "--ipv6-mode" : "ipv6_mode");
	/* a provider network is the one network of the run */
	if (mesh_l3(o) && (o->reuse_network != NULL ||
	                      cfg_str(cfg, "reuse_network_name") != NULL)) {
		if (o->reuse_network != NULL)
			snprintf(where, sizeof(where), "--reuse-network");
		else
			config_where(o->config, "reuse_network_name", where,
			    sizeof(where));
		return err_set(err, VMTP_EXIT_USAGE,
		    "--mesh-path l3 makes a network per VM: %s does not go "
		    "with it",
		    where);
	}
	if (file == NULL)
		file = cfg_str(cfg, "user_data_file");
	if (file != NULL &&
	    user_data_load(
	        o->user_data != NULL ? "--user-data" : "user_data_file", file,
	        user_data, err) != 0)
		return -1;
	co->user_data = *user_data;
	return 0;
}

/*
 * Cloud mode: the external host (if any) is contacted first, so a typo
 * costs no cloud resource; then cloud_provision() builds the rest.
 */
static int
cloud(int argc, char **argv, struct opts *o, struct cloud_opts *co,
    const json_t *cfg, const char *tag, int attempts, const char *password,
    struct vmtp_err *err)
{
	struct os_session *s = NULL;
	json_t *run = NULL;
	json_t *ext = NULL;
	const char *url;
	int rc = -1;

	if (o->n_hosts == 1) {
		if (host_contact(&o->hosts[0], o, password, attempts, err) < 0)
			goto out;
		ext = host_record(tag, &o->hosts[0], 0, o);
		if (ext == NULL) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
	}
	s = os_session_open(o->openrc, o->os_cloud, o->insecure, err);
	if (s == NULL)
		goto out;
	run = run_record(tag, argc, argv, o, "cloud");
	url = os_endpoint(s, "identity", err);
	if (run == NULL || url == NULL ||
	    json_object_set_new(run, "auth_url", json_string(url)) != 0 ||
	    json_object_set_new(
	        run, "project", json_string(os_project_id(s))) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	if (getenv("OS_REGION_NAME") != NULL)
		json_object_set_new(
		    run, "region", json_string(getenv("OS_REGION_NAME")));
	if (controller(run, o, password, attempts, err) < 0)
		goto out;
	co->cfg = cfg;
	co->tag = tag;
	co->az = o->az;
	co->hyper[0] = o->hyper[0];
	co->hyper[1] = o->hyper[1];
	co->inter_node_only = o->inter_node_only;
	co->mesh = o->mesh;
	co->mesh_l3 = mesh_l3(o);
	co->same_network_only = o->same_network_only;
	co->reuse_network = o->reuse_network != NULL
	                        ? o->reuse_network
	                        : cfg_str(cfg, "reuse_network_name");
	co->delete_image = o->delete_image;
	co->vnic_type = o->vnic_type;
	co->keep_on_error = o->keep_on_error;
	co->run = run;
	co->external = ext;
	co->ssh_attempts = attempts;
	co->poll_attempts = (int)cfg_int(cfg, "generic_retry_count");
	co->cancel = &stop;
	rc = cloud_provision(s, co, stdout, err);
out:
	json_decref(run);
	json_decref(ext);
	os_session_free(s);
	return rc;
}

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	int usage = 0; /* the command line is wrong: show the synopsis */
	struct opts o = {0};
	struct cloud_opts co = {0};
	json_t *cfg = NULL;
	char *password = NULL;
	char *user_data = NULL;
	char tag[80];
	int attempts;
	int native_mode = 0;
	int i;

	log_init(PROG, LOG_INFO);
	if (parse_args(argc, argv, &o, &err) != 0) {
		usage = err.exit == VMTP_EXIT_USAGE;
		goto out;
	}
	log_init(PROG, o.verbosity);
	for (i = 0; i < o.n_hosts; i++)
		native_mode |= !o.hosts[i].external;
	cli_catch_stop_signals(on_signal);
	cfg = cfg_load(o.config, &err);
	if (cfg == NULL ||
	    cli_warn_ignored(cfg, CFG_STAGE_PROVISION, &err) != 0)
		goto out;
	/* the command line overrides the configuration */
	if (o.image_url != NULL && json_object_set_new(cfg, "vm_image_url",
	                               json_string(o.image_url)) != 0) {
		err_set(&err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	attempts = (int)cfg_int(cfg, "ssh_retry_count");
	if (attempts < 1)
		attempts = 1;
	if (o.tag != NULL) {
		snprintf(tag, sizeof(tag), "%s", o.tag);
	} else {
		unsigned int r;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r)) {
			err_set(&err, VMTP_EXIT_FAIL,
			    "cannot draw a random run tag");
			goto out;
		}
		snprintf(tag, sizeof(tag), "vmtp-%08x", r);
	}
	if (!native_mode && cloud_settings(&o, cfg, &co, &user_data, &err) != 0)
		goto out;
	password = ssh_password_load(o.password_file, &err);
	if (err.exit != VMTP_EXIT_OK)
		goto out;
	/* a key or known_hosts that cannot be read fails now, not at the
	 * first host after minutes of provisioning */
	if ((o.ssh_key != NULL &&
	        cli_check_file("--ssh-key", o.ssh_key, 0, &err) != 0) ||
	    (o.known_hosts != NULL &&
	        cli_check_file("--known-hosts", o.known_hosts, 1, &err) != 0))
		goto out;
	if (native_mode)
		native(argc, argv, &o, tag, attempts, password, &err);
	else
		cloud(argc, argv, &o, &co, cfg, tag, attempts, password, &err);
out:
	for (i = 0; i < o.n_hosts; i++) {
		free(o.hosts[i].user);
		free(o.hosts[i].addr);
		free(o.hosts[i].ifname);
	}
	free(o.controller.user);
	free(o.controller.addr);
	ssh_password_free(password);
	free(user_data);
	json_decref(cfg);
	cli_flush_stdout(&err);
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	if (usage)
		fputs(synopsis, stderr);
	return err.exit;
}
