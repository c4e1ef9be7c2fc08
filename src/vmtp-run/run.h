/*
 * run.h - what vmtp-run's files share (SPEC §6 vmtp-run): the options, the
 * hosts of the topology with their one SSH session each, and the flow
 * runner.
 */
#ifndef VMTP_RUN_H
#define VMTP_RUN_H

#include <signal.h>
#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/ssh.h"

#define RUN_MAX_LIST 16

enum run_tool { TOOL_NUTTCP = 0, TOOL_IPERF3 = 1 };

enum run_proto { PROTO_TCP = 1, PROTO_UDP = 2, PROTO_ICMP = 4 };

struct run_opts {
	int seconds;
	int protocols; /* enum run_proto bits */
	int tool;      /* enum run_tool */
	long long tcpbuf[RUN_MAX_LIST];
	int n_tcpbuf;
	long long udpbuf[RUN_MAX_LIST];
	int n_udpbuf;
	long long icmp_sizes[RUN_MAX_LIST];
	int n_icmp;
	int tcp_loops;
	int ping_count;
	double bandwidth_kbps; /* fixed UDP rate; 0: search */
	double ceiling_kbps;   /* UDP search start */
	double loss_min, loss_max;
	int udp_final;       /* one -t run at the rate the search chose */
	long long flows[64]; /* subset of flow ids; none: all */
	int n_flows;
	int stop_on_error;
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
	char conn_error[512];  /* why the last connection failed */
};

struct run_ctx {
	const struct run_opts *o;
	const char *run_tag;
	struct run_host *hosts;
	int n_hosts;
	FILE *out;
	int errors; /* error samples written */
	/* servers started on hosts, to stop on every path */
	struct run_host *server_host;
	long server_pid;
};

/*
 * Runs every measurement of FLOW (a flow record, borrowed), writing one
 * sample per measurement to CTX->out.  Returns 0 when the flow ran (its
 * failed measurements are error samples, counted in CTX->errors), -1 with
 * ERR set when the run cannot go on (output failed, interrupted).
 */
int flow_run(struct run_ctx *ctx, const json_t *flow, struct vmtp_err *err);

/* Stops the server a flow started, if any; used on every exit path. */
void flow_stop_server(struct run_ctx *ctx);

/* Planned duration of one flow in seconds, for the ETA. */
double flow_plan_seconds(const struct run_opts *o, const json_t *flow);

#endif
