/*
 * run.h - what vmtp-run's files share (SPEC §6 vmtp-run): the options, the
 * hosts of the topology with their one SSH session each, and the flow
 * runner.
 */
#ifndef VMTP_RUN_H
#define VMTP_RUN_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/ports.h"
#include "libvmtp/ssh.h"

#define RUN_MAX_LIST 16

/* Time a remote command gets beyond its own duration. */
#define RUN_MARGIN_MS 15000

enum run_tool { TOOL_NUTTCP = 0, TOOL_IPERF3 = 1 };

/*
 * The tools' servers on a host: per enum run_tool (nuttcp's first slot),
 * then nuttcp's further slots (VMTP_NUTTCP_SLOTS).  run_server() numbers
 * them; server TOOL is the tool's own.
 */
#define RUN_SERVERS (1 + VMTP_NUTTCP_SLOTS)
int run_server(int tool, int slot);

enum run_proto {
	PROTO_TCP = 1,
	PROTO_UDP = 2,
	PROTO_ICMP = 4,
	PROTO_MCAST = 8
};

struct run_opts {
	int seconds;
	int protocols; /* enum run_proto bits */
	int tool;      /* enum run_tool */
	/* enum run_tool of the UDP search's probes when the tool is nuttcp
	 * (iperf3's take the probe length, nuttcp's 2.3 s more); the sample
	 * is then one nuttcp run at the rate found */
	int probe_tool;
	int probe_tool_given; /* --udp-probe-tool was given */
	long long tcpbuf[RUN_MAX_LIST];
	int n_tcpbuf;
	long long udpbuf[RUN_MAX_LIST];
	int n_udpbuf;
	long long icmp_sizes[RUN_MAX_LIST];
	int n_icmp;
	int tcp_loops;
	int ping_count;
	double ping_interval;  /* seconds between two pings */
	double bandwidth_kbps; /* the limit (1000 bit/s); 0: none */
	double ceiling_kbps;   /* UDP search start without a limit */
	char mcast_addr[16];   /* multicast group, dotted quad */
	int mcast_given;       /* --multicast-addr was given */
	double loss_min, loss_max;
	int udp_final;       /* one -t run at the rate the search chose */
	long long flows[64]; /* subset of flow ids; none: all */
	int n_flows;
	int stop_on_error;
	/* --concurrency: the pairs of a mesh round measured at once; 0: the
	 * whole round.  Flows without a round run one at a time. */
	int concurrency;
	/* SSH */
	const char *ssh_key;
	const char *known_hosts;
	int policy;
	char *password; /* secret */
	int attempts;
	int connect_timeout_ms;
	const volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
};

/* A host of the topology and what was learnt about it this run. */
struct run_host {
	char *name;
	json_t *rec;           /* the host record, own reference */
	struct ssh_conn *conn; /* NULL until first used */
	int info_done;         /* host_info written */
	char *tool_path[2];    /* per enum run_tool, once known */
	char *tool_version[2]; /* "nuttcp-6.1.2", "iperf3-3.12" */
	int tool_absent[2];    /* not on the PATH, and not to be uploaded */
	int probe_said;        /* why UDP probes are not probe_tool's, said */
	int slot_said;         /* why nuttcp's further slots are not, said */
	char conn_error[512];  /* why the last connection failed */
	int conn_gen;          /* sessions opened so far */
	int wanted;            /* a flow of the run uses it */
	int login_failed;      /* the login at the start failed: conn_error */
	char *mroute_dev;      /* device of the 224.0.0.0/4 route added */
	/* per server (run_server()), the one this run started on the host,
	 * kept for every flow to it until the run ends: its pid (0: none),
	 * whether it takes IPv6 clients, and the session (conn_gen) that
	 * started it */
	long server_pid[RUN_SERVERS];
	int server_v6[RUN_SERVERS];
	int server_gen[RUN_SERVERS];
};

/* Notes given once per run (run_ctx.said). */
enum run_said {
	RUN_SAID_MCAST_L3 = 1,   /* no Multicast on flows across a router */
	RUN_SAID_MCAST_V6 = 2,   /* no Multicast on IPv6 flows */
	RUN_SAID_MCAST_ROUTE = 4 /* nuttcp chose the group itself */
};

/*
 * A set of ids by open addressing: CAP slots (a power of two, or 0), ID[i]
 * one of the N ids when USED[i].  9 bytes a slot, where a json object of
 * them took about 100 an id.
 */
struct run_ids {
	json_int_t *id;
	unsigned char *used;
	size_t cap, n;
};

struct run_ctx {
	const struct run_opts *o;
	const char *run_tag;
	struct run_host *hosts;
	int n_hosts;
	struct run_ids flow_ids; /* of the flows read, each once */
	FILE *out;
	int errors; /* error samples written */
	int said;   /* RUN_SAID_* bits: notes given once per run */
	/* the output and the error count, which the flows of a mesh round
	 * measured at once share */
	pthread_mutex_t lock;
};

/*
 * Runs every measurement of FLOW (a flow record, borrowed), writing one
 * sample per measurement to CTX->out.  Returns 0 when the flow ran (its
 * failed measurements are error samples, counted in CTX->errors), -1 with
 * ERR set when the run cannot go on (output failed, interrupted).
 */
int flow_run(struct run_ctx *ctx, const json_t *flow, struct vmtp_err *err);

/*
 * flow_run() in two steps, so that the flows of a mesh round can be
 * measured at once: flow_prepare() logs in to FLOW's hosts, writes their
 * host_info, puts the tool on them and makes sure its server runs (error
 * samples for what cannot be measured), on the calling thread; then
 * flow_measure() runs the measurements, using only the client's session,
 * so that flows with distinct clients may run on threads of their own.
 * flow_prepare() returns the job (free it with flow_job_free()), or NULL
 * with ERR set when the run cannot go on; flow_measure() returns as
 * flow_run() does.
 */
struct flow_job;
struct flow_job *flow_prepare(
    struct run_ctx *ctx, const json_t *flow, struct vmtp_err *err);
int flow_measure(
    struct run_ctx *ctx, struct flow_job *job, struct vmtp_err *err);
void flow_job_free(struct flow_job *job);

/* Planned duration of one flow in seconds, for the ETA. */
double flow_plan_seconds(const struct run_opts *o, const json_t *flow);

/* The tools' names, per enum run_tool: "nuttcp", "iperf3". */
extern const char *const run_tool_names[];

/* The time now, in seconds since the epoch. */
double run_now(void);

/*
 * Writes REC (borrowed) to CTX->out.  Returns 0, or -1 with ERR set when
 * writing fails.
 */
int run_write(struct run_ctx *ctx, json_t *rec, struct vmtp_err *err);

/*
 * A command line from FORMAT, as a new string, or NULL when out of
 * memory: targets and tool paths come from outside and have no bound.
 */
char *run_cmd_new(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* The host of CTX named NAME (borrowed), or NULL. */
struct run_host *host_find(struct run_ctx *ctx, const char *name);

/*
 * Opens H's SSH session if it has none yet.  Returns 0, or -1 with E set
 * (also kept in H->conn_error).  After a failed login at the start
 * (host_login_all) the first call says why without trying again.
 */
int host_conn(struct run_ctx *ctx, struct run_host *h, struct vmtp_err *e);

/*
 * Logs in to every host of CTX that a flow uses (H->wanted) side by side,
 * one thread each; a host whose login fails is marked so and its first
 * flow reports it.
 */
void host_login_all(struct run_ctx *ctx);

/*
 * Writes H's host_info record once per run.  Returns 0, or -1 with ERR
 * set when the record cannot be written.
 */
int host_info(struct run_ctx *ctx, struct run_host *h, struct vmtp_err *err);

/*
 * Starts CMD on H, to run for at most SECONDS plus RUN_MARGIN_MS, side by
 * side with others on H's session: NULL with ERR set when it cannot.
 * Once ssh_job_step() said the job ended (or to give it up),
 * host_measure_end() ends it, stopping it on the host when it timed out
 * or CTX was interrupted; RES then holds what it did (the tool's output,
 * without the pid the command says first).  Returns 0, or -1 with ERR set
 * when the session failed.
 */
struct ssh_job *host_measure_start(struct run_ctx *ctx, struct run_host *h,
    const char *cmd, int seconds, struct vmtp_err *err);
int host_measure_end(struct run_ctx *ctx, struct run_host *h,
    struct ssh_job *job, struct ssh_result *res, struct vmtp_err *err);

/*
 * Makes sure TOOL (enum run_tool) is on H: on its PATH, else, when
 * UPLOAD, uploaded from the local binary to /tmp/vmtp-<checksum>/ (kept
 * for later runs), and learns its version.  Without UPLOAD a tool not on
 * the PATH is remembered as absent (H->tool_absent) and not looked for
 * again.  Returns 0, or -1 with E set.
 */
int host_tool_ensure(
    struct run_host *h, int tool, int upload, struct vmtp_err *e);

/*
 * Makes sure server SRV (run_server()) runs on H for IPv6 clients when V6,
 * else IPv4 ones: the one this run started there already when it takes
 * them (nuttcp's takes one family, iperf3's both) and its session is the
 * one open, else a new one (the other stopped first), waiting until it
 * listens.  Returns 0, or -1 with E set.
 */
int host_server_start(struct run_ctx *ctx, struct run_host *h, int srv, int v6,
    struct vmtp_err *e);

/*
 * Routes 224.0.0.0/4 on H through the device of its route to the IPv4
 * address PEER (the device holding PEER when it is H's own), as root or
 * with sudo -n.  A route that is there already is left as it is, and is
 * not removed later.  SRC, when not NULL, receives H's source address
 * towards PEER ("" when unknown).  Returns 0, or -1 with E set (the route
 * is then absent; the caller decides whether to go on).
 */
int host_mroute_add(struct run_ctx *ctx, struct run_host *h, const char *peer,
    char *src, size_t srclen, struct vmtp_err *e);

/* Removes the route host_mroute_add() added on H, if any; never
 * cancelled, so that an interrupted run leaves nothing. */
void host_mroute_del(struct run_ctx *ctx, struct run_host *h);

/* Stops server SRV (run_server()) this run started on H, if any. */
void host_stop_server(struct run_ctx *ctx, struct run_host *h, int srv);

/* Stops the servers this run started on each host; on every exit path. */
void host_stop_servers(struct run_ctx *ctx);

#endif
