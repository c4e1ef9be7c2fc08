/*
 * cloud-int.h - what the files of vmtp-provision's cloud mode share (SPEC
 * §1, §6): the run's state (struct cloud) and each file's entry points.
 * cloud.h is the mode's contract to main.c; this header is internal.
 *
 *   cloud.c     cloud_provision(): the stages in order, the rollback
 *   tasks.c     steps run side by side, each on a connection of its own
 *   api.c       API calls, journalling, tagging, Neutron create/find, names
 *   discover.c  external network, image (uploaded if missing), flavor, hosts
 *   network.c   key pair, security group and rules, networks, router,
 *               floating IPs, ports
 *   vm.c        the VMs planned, placed, booted, and waited for (SSH)
 *   records.c   host and flow records, the run record's network details
 *
 * Strings of the run are allocated (NULL: not known yet) and freed by
 * cloud_provision(); a step fills only its own fields, so steps running
 * side by side need no lock for them.
 */
#ifndef VMTP_PROVISION_CLOUD_INT_H
#define VMTP_PROVISION_CLOUD_INT_H

#include <pthread.h>
#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/os.h"

#include "cloud.h"

/* The VMTP topology's 5 VMs, or a mesh of up to 64 (--mesh). */
#define MAX_VMS 64
/* The networks of a run: two, or one per VM of a mesh (--mesh-path l3). */
#define MAX_NETS MAX_VMS
/* Networks and subnets a run makes: a network and an IPv4 subnet each,
 * and the VMTP topology's two IPv6 subnets. */
#define MAX_UNTAGGED (2 * MAX_NETS + 2)
/* Requests in flight at once: the steps of one stage (rules, VMs, floating
 * IPs) fit, and an API server is not flooded. */
#define MAX_WORKERS 8
/* The period of the wait for ACTIVE and SSH: short, so that the run waits
 * for the cloud about as long as the cloud takes.  The configured retry
 * counts keep the original tool's total patience (2 s per API poll, 5 s
 * per SSH try). */
#define POLL_MS 250
/* The longest names vmtp has always accepted, run tag included: a longer
 * one is refused before anything is made (run_name), never cut.  Client
 * names leave room for their number. */
#define VM_NAME_MAX 127
#define CLIENT_NAME_MAX 116
#define KEYPAIR_NAME_MAX 127

/* One test VM: what we ask for, then what the cloud made of it. */
struct vm {
	char *name;       /* <tag>-server, -client1, ... (vm_name_*) */
	const char *role; /* server or client */
	int net;   /* 0: first network, 1: second; a mesh VM's own (l3) */
	int intra; /* wanted on the server's host */
	char *id;
	char *ip;       /* fixed IP */
	char *ipv6;     /* fixed IPv6 address (ipv6_mode), or NULL */
	char *fip;      /* floating IP, or NULL */
	char *az;       /* zone:host, or the zone */
	char *host_key; /* host name (admin) or hostId: same host, same key */
	char *fingerprint;
	char *port;
	char *fip_id;
	int fip_on;                /* the floating IP is on the VM's port */
	int login_rc;              /* the last SSH login: 0 or -1 ... */
	struct vmtp_err login_err; /* ... and why */
	int host; /* mesh: its compute host in cloud.hosts; -1: where the
	             server group's anti-affinity puts it */
};

struct cloud;

/*
 * A step that may run beside others (run_tasks): FN(c, I, err) for VM,
 * network or rule I (steps of the whole run ignore I).
 */
struct task {
	int (*fn)(struct cloud *c, int i, struct vmtp_err *err);
	int i;
	int rc;
	struct vmtp_err err;
};

/* A thread running tasks, with a session (connection) of its own. */
struct worker {
	pthread_t thread;
	struct os_session *s; /* made once, kept for later stages */
	struct cloud *c;
};

/* What one provisioning run knows and has made. */
struct cloud {
	struct os_session *s;
	const struct cloud_opts *o;
	FILE *out;
	FILE *journal;
	json_t *made; /* resource records of what this run created */
	const char *tag;
	char *ext_net;
	char *image;
	char *flavor;
	char *keypair;
	char *server_name; /* the server VM's name */
	char *client_name; /* the client VMs' names, before 1, 2, ... */
	char *key_path;
	char *known_hosts;
	char *sg_id;
	char *sg_name;
	char *net_id[MAX_NETS];
	char *net_name[MAX_NETS];
	char *subnet_id[MAX_NETS];
	char *subnet6_id[MAX_NETS]; /* the IPv6 subnets (ipv6_mode) */
	int nodhcp[MAX_NETS]; /* the (reused) IPv4 subnet has DHCP disabled */
	char *router;
	char *group_id; /* the mesh's anti-affinity server group, or NULL */
	char *encap;    /* the first network's provider:network_type (admin) */
	json_t *hosts;  /* ["zone:host", ...] of the compute hosts, maybe [] */
	struct vm vms[MAX_VMS];
	int nvm;
	int nets;       /* 1 or 2; a mesh's VMs with --mesh-path l3 */
	int sg_created; /* the security group is this run's: add rules */
	/* networks and subnets made before the boot are tagged while the VMs
	 * boot (their description carries the run tag meanwhile): coll and
	 * id (borrowed from net_id and the like) */
	int defer_tags;
	struct {
		const char *coll;
		const char *id;
	} untagged[MAX_UNTAGGED];
	int nuntagged;
	json_t *defaults; /* the built-in configuration */
	/* guards the output, the journal, `made` and the stage below */
	pthread_mutex_t lock;
	struct worker workers[MAX_WORKERS];
	int running; /* workers started for the stage */
	struct task *stage;
	int stage_n, stage_next, stage_failed;
};

/* tasks.c */

/* Returns -1 with ERR set to "interrupted" once the run is cancelled,
 * else 0. */
int cancelled(const struct cloud *c, struct vmtp_err *err);

/* The session of the calling thread: a worker's own, else the main one. */
struct os_session *session(struct cloud *c);

/* Adds step FN for I to T[*N] and counts it. */
void add_task(struct task *t, int *n,
    int (*fn)(struct cloud *c, int i, struct vmtp_err *err), int i);

/*
 * Runs the N tasks of T side by side (at most MAX_WORKERS at once) and
 * waits for them all.  Once one fails no other starts; those already
 * running finish (what they made is remembered, for the rollback).
 * Returns 0, or -1 with ERR set to the first failed task's error.
 */
int run_tasks(struct cloud *c, struct task *t, int n, struct vmtp_err *err);

/* api.c */

/* The string member KEY of O, or NULL; borrowed from O. */
const char *str(const json_t *o, const char *key);

/* S, or "" for NULL: for a string of the run not known (yet). */
const char *or_empty(const char *s);

/*
 * Replaces *DST (freed) with a copy of SRC; NULL or "" leaves NULL (not
 * known).  Returns 0, or -1 with ERR set (out of memory; *DST unchanged).
 */
int str_set(char **dst, const char *src, struct vmtp_err *err);

/* A new string formatted from FMT; NULL with ERR set (out of memory). */
char *str_fmt(struct vmtp_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Sends METHOD PATH to service SVC expecting a 2xx answer, on the calling
 * thread's session.  Stores the HTTP status in *STATUS (may be NULL; -1
 * when no answer came), for callers that accept a 403, 404 or 409.
 * Returns the answer's JSON (a new reference) or NULL with ERR set to
 * "cannot WHAT: STATUS: message".  Steals BODY (may be NULL).
 */
json_t *call(struct cloud *c, const char *svc, const char *method,
    const char *path, json_t *body, const char *what, long *status,
    struct vmtp_err *err);

/*
 * What create() calls when the answer to a create was lost: looks for what
 * the create may have made (ARG says what) and returns it in the shape of
 * the create's answer (a new reference), json null when it is not there,
 * or NULL with ERR set.
 */
typedef json_t *create_find(
    struct cloud *c, const void *arg, struct vmtp_err *err);

/*
 * POSTs BODY (stolen) to service SVC's PATH as call() does.  When the
 * answer is lost after the request may have reached the service, or a
 * gateway answered 502 or 504 (os_unsure()), FIND looks for what it made
 * before the request is sent again (at most six times in all), so that
 * nothing is ever made twice: a twin would be neither journalled nor
 * rolled back.  Returns the create's answer, or what FIND found, or NULL
 * with ERR set.
 */
json_t *create(struct cloud *c, const char *svc, const char *path, json_t *body,
    const char *what, create_find *find, const void *arg, struct vmtp_err *err);

/* The create_find of a Neutron resource: ARG is a struct neutron_item. */
struct neutron_item {
	const char *coll;  /* the collection's path: "security-groups" */
	const char *key;   /* the item's key in answers: "security_group" */
	const char *query; /* what finds it: "name=N&description=D", escaped */
};
json_t *neutron_found(struct cloud *c, const void *arg, struct vmtp_err *err);

/*
 * Records a resource: a `resource` record to the output and, when this
 * run created it, to the journal (flushed) and the rollback list; logs
 * "VERB KIND NAME" unless VERB is NULL.  Returns 0, or -1 with ERR set.
 */
int announce(struct cloud *c, const char *kind, const char *id,
    const char *name, int created, const char *parent, const char *verb,
    struct vmtp_err *err);

/* announce() with the usual words: "created" or "reusing". */
int remember(struct cloud *c, const char *kind, const char *id,
    const char *name, int created, const char *parent, struct vmtp_err *err);

/*
 * Puts resource KIND ID on the rollback list alone, or (ON 0) takes it
 * off: for what the run must delete should it fail now, but not once a
 * step is done (an image being uploaded).  Nothing is written.  Returns 0,
 * or -1 with ERR set.
 */
int hold(struct cloud *c, const char *kind, const char *id, const char *name,
    int on, struct vmtp_err *err);

/* Tags Neutron resource ID of COLL with the run tag.  Returns 0, or -1
 * with ERR set. */
int tag_neutron(
    struct cloud *c, const char *coll, const char *id, struct vmtp_err *err);

/* The step that tags network or subnet I of those made untagged. */
int tag_later(struct cloud *c, int i, struct vmtp_err *err);

/*
 * Creates a Neutron resource: POST /v2.0/COLL {KEY: ATTRS} with the name
 * and the run tag as description (so a crash before the tag still leaves
 * it findable), journals it, tags it (a network or subnet while
 * C->defer_tags is set: later, by tag_later()); its id goes to *ID
 * (str_set).
 * Steals ATTRS, also on failure.  Returns the answer's object (a new
 * reference) or NULL with ERR set.
 */
json_t *neutron_create(struct cloud *c, const char *coll, const char *key,
    const char *kind, const char *name, json_t *attrs, char **id,
    struct vmtp_err *err);

/*
 * Finds the first item of Neutron COLL named NAME into *ITEM (a new
 * reference).  Returns 1 when found, 0 when not, -1 with ERR set.
 */
int neutron_find(struct cloud *c, const char *coll, const char *name,
    json_t **item, struct vmtp_err *err);

/*
 * The name to use for a configured name KEY (index I of a list when I >=
 * 0) into *OUT (a new string): the user's own when it differs from the
 * built-in default (then an existing resource of that name is reused),
 * else "<tag>-SUFFIX".  Returns 1 for a user's name, 0 for a run name, -1
 * with ERR set (out of memory).
 */
int pick_name(struct cloud *c, const char *key, int i, const char *suffix,
    char **out, struct vmtp_err *err);

/*
 * The name of something made for the run alone (a VM, the key pair) into
 * *OUT (a new string): "<tag>-NAME" when the user set config KEY to NAME
 * (it differs from the built-in default), else "<tag>-SUFFIX".  The run
 * tag keeps parallel runs apart and lets vmtp-cleanup find by name what
 * has no tags.  Returns 0, or -1 with ERR set when the name is longer
 * than MAX characters (VMTP_EXIT_DATA) or memory runs out.
 */
int run_name(struct cloud *c, const char *key, const char *suffix, size_t max,
    char **out, struct vmtp_err *err);

/* discover.c */

/* Finds the external network, image (uploaded when missing), flavor (made
 * when missing) and compute hosts, side by side.  Returns 0, or -1 with
 * ERR set. */
int discover(struct cloud *c, struct vmtp_err *err);

/* network.c: steps for run_tasks(); each returns 0, or -1 with ERR set. */

/* The key pair: the configured key files, else a fresh ed25519 pair in
 * the state folder (private key mode 0600). */
int make_keypair(struct cloud *c, int unused, struct vmtp_err *err);

/* The security group: the configured one reused, else created (its rules
 * then come from make_rule(), while the VMs boot). */
int make_secgroup(struct cloud *c, int unused, struct vmtp_err *err);

/* The number of rules make_rule() knows for one address family (checked
 * where they are listed); with ipv6_mode each has an IPv6 twin. */
#define N_SG_RULES 6

/* Rule I in this run's security group: the IPv4 rules below N_SG_RULES,
 * their IPv6 twins (ethertype IPv6, ICMPv6 for ICMP) from N_SG_RULES to
 * 2 * N_SG_RULES. */
int make_rule(struct cloud *c, int i, struct vmtp_err *err);

/*
 * The IPv4 CIDR of network I (a new string): internal_cidr's entry I, or,
 * for a mesh with --mesh-path l3 past the list's end, the blocks that
 * follow its last entry, of that size, skipping any that overlaps an entry
 * (192.168.2.0/24, then 192.168.3.0/24, ...).  Returns NULL with ERR set
 * (VMTP_EXIT_USAGE: no such entry, an entry that is not an IPv4 network to
 * continue from, or no room left; or out of memory).
 */
char *subnet_cidr(struct cloud *c, int i, struct vmtp_err *err);

/* Network I and its subnet (and IPv6 subnet with ipv6_mode): the
 * configured ones reused, else created. */
int make_network(struct cloud *c, int i, struct vmtp_err *err);

/* The provider network NAME (--reuse-network) as the run's only network;
 * not found is an error, and so (VMTP_EXIT_USAGE) is one without an IPv6
 * subnet when ipv6_mode is set. */
int use_network(struct cloud *c, const char *name, struct vmtp_err *err);

/* The router: gateway on the external network, a leg on each subnet (IPv4
 * and IPv6). */
int make_router(struct cloud *c, int unused, struct vmtp_err *err);

/* A floating IP for VM I, tagged: on the VM's port when the port is known,
 * else without one, for fip_attach() to place once the port exists. */
int make_fip(struct cloud *c, int i, struct vmtp_err *err);

/* Puts VM I's floating IP on its port. */
int fip_attach(struct cloud *c, int i, struct vmtp_err *err);

/* Learns the ports of the VMs that have none known yet, in one list call
 * (Nova makes a VM's port while it builds it). */
int find_ports(struct cloud *c, int unused, struct vmtp_err *err);

/* vm.c */

/*
 * Plans the VMs of the topology: the server on the first network, and
 * clients on each network on the server's host (intra) and on another
 * (inter); or, for a mesh, one VM per compute host on the first network,
 * each on its host when the hosts are known (an admin), else spread by an
 * anti-affinity server group.  Returns 0, or -1 with ERR set (out of
 * memory, or a mesh the cloud has not the hosts for).
 */
int plan_vms(struct cloud *c, struct vmtp_err *err);

/* Boots VM I (a step; all are booted side by side); it is journalled as
 * soon as it exists.  Returns 0, or -1 with ERR set. */
int boot_vm(struct cloud *c, int i, struct vmtp_err *err);

/*
 * Makes the mesh's server group (a step), with the anti-affinity policy:
 * where the compute hosts are not known (not an admin), the scheduler puts
 * each mesh VM on a host of its own.  Returns 0, or -1 with ERR set.
 */
int make_group(struct cloud *c, int unused, struct vmtp_err *err);

/*
 * Waits until every VM is ACTIVE, has its floating IP and answers SSH
 * (recording its host key).  Returns 0, or -1 with ERR set when a VM goes
 * into ERROR, the configured patience runs out (ERR then names every VM
 * not answering SSH, and a subnet without DHCP as the likely reason when
 * they have no config drive) or the run is cancelled.
 */
int wait_ready(struct cloud *c, struct vmtp_err *err);

/*
 * After a step that failed while the VMs boot: when one of them is in
 * ERROR, that is the cause to tell (a VM that finds no host loses its
 * port, and a floating IP made for that port fails after it), and ERR, the
 * step's error (then logged as what followed), becomes the VM's.  One list
 * call; ERR stays when it fails, no VM is in ERROR or the run was
 * interrupted.
 */
void vm_error_first(struct cloud *c, struct vmtp_err *err);

/* The address V is reached at: its floating IP, else its fixed IP, else
 * "" (not known). */
const char *vm_addr(const struct vm *v);

/* records.c */

/* Adds what only an admin may see to the run record (a step): never
 * fails, what cannot be read stays out. */
int describe_network(struct cloud *c, int unused, struct vmtp_err *err);

/*
 * Writes the host record of each VM, the external host's record (when
 * there is one) and the flow records to the output.  Returns 0, or -1
 * with ERR set.
 */
int write_hosts_flows(struct cloud *c, struct vmtp_err *err);

#endif
