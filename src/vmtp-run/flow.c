/*
 * flow.c - one flow's measurements over SSH (SPEC §6 vmtp-run, §8): TCP,
 * UDP, Multicast and ICMP measured from the client against the server
 * host.c started, over the family of the flow's target, under the
 * bandwidth limit when there is one; one sample record per measurement.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/flow.h"
#include "libvmtp/hostinfo.h"
#include "libvmtp/log.h"
#include "libvmtp/parse.h"
#include "libvmtp/ports.h"
#include "libvmtp/proc.h"
#include "libvmtp/rec.h"
#include "libvmtp/search.h"
#include "libvmtp/ssh.h"

#include "run.h"

/* UDP probe length in seconds (SPEC §8: about 1-2 s). */
#define PROBE_SECONDS 1

/* Multicast TTL, as the original's nuttcp -m32. */
#define MCAST_TTL 32

/* Whether a flow to TARGET is over IPv6 (libvmtp/flow.h decides). */
static int
is_v6(const char *target)
{
	return flow_family_of(target) == FLOW_FAMILY_IPV6;
}

/* A new sample record with the fields every sample has. */
static json_t *
sample_new(struct run_ctx *ctx, json_int_t flow, const char *proto,
    const char *tool, long long pkt_size, double t0, int reverse)
{
	json_t *rec = rec_new("sample", ctx->run_tag);

	if (rec == NULL ||
	    json_object_set_new(rec, "flow", json_integer(flow)) != 0 ||
	    json_object_set_new(rec, "protocol", json_string(proto)) != 0 ||
	    json_object_set_new(rec, "tool", json_string(tool)) != 0 ||
	    (pkt_size > 0 && json_object_set_new(rec, "pkt_size",
	                         json_integer(pkt_size)) != 0) ||
	    json_object_set_new(rec, "t_start", json_real(t0)) != 0 ||
	    json_object_set_new(rec, "t_end", json_real(run_now())) != 0 ||
	    (reverse && json_object_set_new(
	                    rec, "direction", json_string("reverse")) != 0)) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/*
 * Writes the sample REC (NULL: out of memory), or when HOLD is not NULL
 * keeps it there to be written later, in the order of the flow's
 * measurements (flow_overlap).  Returns 0 or -1 with ERR set.
 */
static int
sample_put(struct run_ctx *ctx, json_t *hold, json_t *rec, struct vmtp_err *err)
{
	if (hold == NULL || rec == NULL)
		return run_write(ctx, rec, err);
	if (json_array_append_new(hold, rec) != 0)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return 0;
}

/* Writes (or holds, see sample_put()) an error sample saying MSG; counts
 * it.  Returns 0 or -1 (fatal, or --stop-on-error). */
static int
sample_error_put(struct run_ctx *ctx, json_t *hold, json_int_t flow,
    const char *proto, const char *tool, long long pkt_size, double t0,
    int reverse, const char *msg, struct vmtp_err *err)
{
	json_t *rec = sample_new(ctx, flow, proto, tool, pkt_size, t0, reverse);

	if (rec != NULL &&
	    json_object_set_new(rec, "error", json_string(msg)) != 0) {
		json_decref(rec);
		rec = NULL;
	}
	log_warn("flow %d %s: %s", (int)flow, proto, msg);
	pthread_mutex_lock(&ctx->lock);
	ctx->errors++;
	pthread_mutex_unlock(&ctx->lock);
	if (sample_put(ctx, hold, rec, err) < 0)
		return -1;
	if (ctx->o->stop_on_error)
		return err_set(err, VMTP_EXIT_FLOWS,
		    "stopped at the first error (--stop-on-error)");
	return 0;
}

static int
sample_error(struct run_ctx *ctx, json_int_t flow, const char *proto,
    const char *tool, long long pkt_size, double t0, int reverse,
    const char *msg, struct vmtp_err *err)
{
	return sample_error_put(
	    ctx, NULL, flow, proto, tool, pkt_size, t0, reverse, msg, err);
}

/* Mbit/s to the original tool's throughput_kbps (Mbit/s x 1024). */
static json_int_t
kbps(double mbps)
{
	return (json_int_t)llround(mbps * 1024.0);
}

static int
set_num(json_t *rec, const char *key, double v)
{
	if (isnan(v))
		return 0;
	return json_object_set_new(rec, key, json_real(v));
}

/* Marks REC as measured under the bandwidth limit of O, if any. */
static int
set_limit(const struct run_opts *o, json_t *rec)
{
	if (o->bandwidth_kbps <= 0)
		return 0;
	return json_object_set_new(rec, "bandwidth_limit_kbps",
	    json_integer((json_int_t)llround(o->bandwidth_kbps)));
}

/* Checks the interrupt flag between measurements. */
static int
interrupted(struct run_ctx *ctx, struct vmtp_err *err)
{
	if (ctx->o->stop != NULL && *ctx->o->stop)
		return err_set(err, VMTP_EXIT_FAIL, "interrupted");
	return 0;
}

/* What one throughput measurement needs. */
struct tp_job {
	json_int_t flow;
	struct run_host *client;
	struct run_host *server;
	const char *target;
	int v6;
	int udp;
	int mcast;              /* UDP to a group (nuttcp -m) */
	const char *group;      /* -g for a nuttcp that has it; NULL: its own */
	const char *group_used; /* the sample's multicast_address */
	int probe_tool;         /* enum run_tool of the UDP search's probes */
	int reverse;
	long long len;    /* buffer or packet size */
	double rate_kbps; /* UDP's rate; TCP's limit, 0 for none */
	int seconds;
	int slot;     /* the nuttcp server's (VMTP_NUTTCP_SLOTS) */
	json_t *hold; /* samples kept for later (sample_put()), or NULL */
};

/*
 * nuttcp's report interval on UDP runs, in seconds: the first report
 * tells when the datagrams started (flow_overlap).  Over 0.5 s: a nuttcp
 * that receives (-r) gives up when an interval passes without data, and
 * the sender's end-of-data marker comes 0.5 s after its last datagram.
 */
#define UDP_INTERVAL_S 0.75

/*
 * Starts the measurement CMD (malloc'd, freed here; NULL: out of memory)
 * on H for SECONDS.  Returns 1 with *JOB set, 0 with MSG set (it could
 * not start: a failed measurement), -1 with ERR set.
 */
static int
measure_start(struct run_ctx *ctx, struct run_host *h, char *cmd, int seconds,
    struct ssh_job **job, char *msg, size_t msglen, struct vmtp_err *err)
{
	struct vmtp_err e = VMTP_ERR_INIT;

	*job = NULL;
	if (cmd == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	if (ssh_alive(h->conn))
		*job = host_measure_start(ctx, h, cmd, seconds, &e);
	free(cmd);
	if (*job == NULL) {
		snprintf(
		    msg, msglen, "%s", e.msg[0] ? e.msg : "connection lost");
		return 0;
	}
	return 1;
}

/*
 * Starts one client of TOOL (enum run_tool: nuttcp or iperf3) for J on its
 * client host.  Returns 1 with *JOB set, 0 with MSG set (a failed
 * measurement), -1 with ERR set (fatal).
 */
static int
tp_start(struct run_ctx *ctx, const struct tp_job *j, int tool,
    struct ssh_job **job, char *msg, size_t msglen, struct vmtp_err *err)
{
	const char *path = j->client->tool_path[tool];
	char *qt = ssh_quote(j->target);
	char *cmd = NULL;
	/* " -u -m32 -g " a dotted quad " -j -R " and a rate below 1e15 */
	char rate[80] = "";

	*job = NULL;
	if (qt == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	if (tool == TOOL_NUTTCP) {
		if (j->mcast && j->group != NULL)
			snprintf(rate, sizeof(rate),
			    " -u -m%d -g %s -j -R %.0f", MCAST_TTL, j->group,
			    j->rate_kbps);
		else if (j->mcast)
			snprintf(rate, sizeof(rate), " -u -m%d -R %.0f",
			    MCAST_TTL, j->rate_kbps);
		else if (j->udp || j->rate_kbps > 0)
			snprintf(rate, sizeof(rate), "%s -R %.0f",
			    j->udp ? " -u" : "", j->rate_kbps);
		cmd = run_cmd_new(
		    "%s -fparse -T %d -i %g -l %lld -P %d -p %d%s%s%s %s", path,
		    j->seconds, j->udp && !j->mcast ? UDP_INTERVAL_S : 1.0,
		    j->len, VMTP_NUTTCP_SLOT_PORT(j->slot),
		    VMTP_NUTTCP_SLOT_DATA_PORT(j->slot), rate,
		    j->reverse ? " -r" : "", j->v6 ? " -6" : "", qt);
	} else {
		if (j->udp || j->rate_kbps > 0)
			snprintf(rate, sizeof(rate), "%s -b %.0fK",
			    j->udp ? " -u" : "", j->rate_kbps);
		cmd = run_cmd_new("%s -J -c %s -p %d -t %d -l %lld%s%s%s", path,
		    qt, VMTP_IPERF3_PORT, j->seconds, j->len, rate,
		    j->reverse ? " -R" : "", j->v6 ? " -6" : "");
	}
	free(qt);
	return measure_start(
	    ctx, j->client, cmd, j->seconds, job, msg, msglen, err);
}

/*
 * Ends JOB (tp_start() of TOOL for J, which ssh_job_step() said ended, or
 * to give up) and reads its output.  Returns 1 with *TP filled, 0 with MSG
 * set (a failed measurement).
 */
static int
tp_end(struct run_ctx *ctx, const struct tp_job *j, int tool,
    struct ssh_job *job, struct parse_tp *tp, char *msg, size_t msglen)
{
	struct vmtp_err e = VMTP_ERR_INIT;
	struct ssh_result res = {0};
	int rc = 0;

	if (host_measure_end(ctx, j->client, job, &res, &e) < 0) {
		snprintf(
		    msg, msglen, "%s", e.msg[0] ? e.msg : "connection lost");
		return 0;
	}
	if (res.cancelled) {
		snprintf(msg, msglen, "interrupted");
	} else if (res.timed_out) {
		snprintf(msg, msglen, "%s did not end within %d s",
		    run_tool_names[tool], j->seconds + RUN_MARGIN_MS / 1000);
	} else if ((tool == TOOL_NUTTCP
	                   ? parse_nuttcp(res.out, res.out_len, tp, &e)
	                   : parse_iperf3(res.out, res.out_len, tp, &e)) < 0) {
		/* with nothing on stdout, nuttcp says why on stderr */
		struct vmtp_err e2 = VMTP_ERR_INIT;
		struct parse_tp junk;

		if (tool == TOOL_NUTTCP && res.out_len == 0 &&
		    res.err_len > 0 &&
		    parse_nuttcp(res.err, res.err_len, &junk, &e2) == 0)
			parse_tp_free(&junk);
		snprintf(msg, msglen, "%s", e2.msg[0] ? e2.msg : e.msg);
	} else {
		rc = 1;
	}
	ssh_result_free(&res);
	return rc;
}

/* Waits for JOB (of host H) to end. */
static void
job_wait(struct run_host *h, struct ssh_job *job)
{
	while (ssh_job_step(job) == 0)
		ssh_wait(h->conn, 200);
}

/*
 * Runs one client of TOOL for J and waits for it.  Returns 1 with *TP
 * filled, 0 with MSG set (a failed measurement), -1 with ERR set (fatal).
 */
static int
tp_once(struct run_ctx *ctx, const struct tp_job *j, int tool,
    struct parse_tp *tp, char *msg, size_t msglen, struct vmtp_err *err)
{
	struct ssh_job *job;
	int rc = tp_start(ctx, j, tool, &job, msg, msglen, err);

	if (rc <= 0)
		return rc;
	job_wait(j->client, job);
	return tp_end(ctx, j, tool, job, tp, msg, msglen);
}

static int
tcp_run(struct run_ctx *ctx, struct tp_job *j, const char *tool, int loop,
    struct vmtp_err *err)
{
	struct parse_tp tp = {0};
	double t0 = run_now();
	char msg[512];
	json_t *rec;
	json_t *iv;
	size_t i;
	int rc;

	rc = tp_once(ctx, j, ctx->o->tool, &tp, msg, sizeof(msg), err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return sample_error(ctx, j->flow, "TCP", tool, j->len, t0,
		    j->reverse, msg, err);
	rec = sample_new(ctx, j->flow, "TCP", tool, j->len, t0, j->reverse);
	iv = json_array();
	for (i = 0; iv != NULL && i < tp.n_intervals; i++)
		if (json_array_append_new(
		        iv, json_integer(kbps(tp.intervals[i]))))
			break;
	if (rec == NULL || iv == NULL ||
	    json_object_set_new(
	        rec, "throughput_kbps", json_integer(kbps(tp.mbps))) != 0 ||
	    (tp.retrans >= 0 && json_object_set_new(rec, "retrans",
	                            json_integer(tp.retrans)) != 0) ||
	    set_num(rec, "rtt_ms", tp.rtt_ms) != 0 ||
	    set_limit(ctx->o, rec) != 0 ||
	    json_object_set_new(rec, "loop", json_integer(loop)) != 0 ||
	    json_object_set_new(rec, "intervals", iv) != 0) {
		iv = NULL;
		json_decref(rec);
		rec = NULL;
	}
	parse_tp_free(&tp);
	return run_write(ctx, rec, err);
}

/* The sample's protocol for J: "UDP" or "Multicast". */
static const char *
udp_proto(const struct tp_job *j)
{
	return j->mcast ? "Multicast" : "UDP";
}

/*
 * Writes the UDP or Multicast sample of TP, measured from T0 until now;
 * PROBES (the search's), PROBE_TOOL (the version of the tool that ran
 * them when it is not TOOL, else NULL), FINAL (a -t run after the search)
 * and what the search S ended with (no rate whose loss stays in the
 * bracket; the sender was the limit) as they apply.  Returns 0 or -1 with
 * ERR set.
 */
static int
udp_sample(struct run_ctx *ctx, const struct tp_job *j, const char *tool,
    const char *probe_tool, double t0, const struct parse_tp *tp, int probes,
    int final, const struct search *s, struct vmtp_err *err)
{
	json_t *rec = sample_new(
	    ctx, j->flow, udp_proto(j), tool, j->len, t0, j->reverse);

	if (rec == NULL || set_limit(ctx->o, rec) != 0 ||
	    (j->mcast && j->group_used != NULL &&
	        json_object_set_new(rec, "multicast_address",
	            json_string(j->group_used)) != 0) ||
	    json_object_set_new(
	        rec, "throughput_kbps", json_integer(kbps(tp->mbps))) != 0 ||
	    set_num(rec, "loss_rate", tp->loss_pct) != 0 ||
	    set_num(rec, "jitter_ms", tp->jitter_ms) != 0 ||
	    (probes >= 0 && json_object_set_new(
	                        rec, "probes", json_integer(probes)) != 0) ||
	    (probe_tool != NULL && json_object_set_new(rec, "probe_tool",
	                               json_string(probe_tool)) != 0) ||
	    (final && json_object_set_new(rec, "final", json_true()) != 0) ||
	    (s->unstable &&
	        json_object_set_new(rec, "loss_unstable", json_true()) != 0) ||
	    (s->sender_limited &&
	        json_object_set_new(rec, "sender_limited", json_true()) != 0)) {
		json_decref(rec);
		rec = NULL;
	}
	return sample_put(ctx, j->hold, rec, err);
}

/* Seconds on the monotonic clock. */
static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Whether host H has room to reassemble datagrams of several fragments
 * (over IPv6 when V6).  The kernel keeps a datagram's fragments until it
 * is whole, or until ipfrag_time (30 s by default) expires them; while
 * they hold more than ipfrag_high_thresh (4 MiB) it drops every fragment
 * that comes, so after a run far over a knee every datagram of the runs
 * that follow is lost, whatever their rate.  Room: under a quarter of the
 * threshold held.  Returns 1 when there is room, or when the host does not
 * tell (not Linux); 0 with *HELD (bytes) and *EXPIRE_S set.
 */
static int
frag_room(struct run_host *h, int v6, long *held, int *expire_s)
{
	const char *cmd =
	    v6 ? "cat /proc/net/sockstat6 "
	         "/proc/sys/net/ipv6/ip6frag_high_thresh "
	         "/proc/sys/net/ipv6/ip6frag_time"
	       : "cat /proc/net/sockstat /proc/sys/net/ipv4/ipfrag_high_thresh "
	         "/proc/sys/net/ipv4/ipfrag_time";
	struct vmtp_err e = VMTP_ERR_INIT;
	struct ssh_result res = {0};
	const char *p;
	long high = 0;
	int room = 1;

	if (h == NULL || h->conn == NULL)
		return 1;
	if (ssh_run(h->conn, cmd, RUN_MARGIN_MS, &res, &e) < 0) {
		log_debug("%s", e.msg);
		return 1;
	}
	/* FRAG is the last line of sockstat, FRAG6 of sockstat6 */
	p = strstr(res.out, v6 ? "FRAG6: " : "FRAG: ");
	if (res.status == 0 && p != NULL &&
	    sscanf(p, "%*s inuse %*d memory %ld %ld %d", held, &high,
	        expire_s) == 3 &&
	    high > 0 && *held > high / 4)
		room = 0;
	ssh_result_free(&res);
	return room;
}

/* A run's wait for room to reassemble (frag_ready()). */
struct frag_wait {
	double until; /* when to run anyway (mono_s()); 0: not waiting */
	double next;  /* when to look again */
};

/*
 * Whether a run of datagrams of several fragments, WHAT (for messages:
 * "flow 1 UDP 8192"), can start as far as host H's reassembly is
 * concerned (frag_room()): when there is room, or once the datagrams held
 * have had the time to expire (said, and run anyway).  Returns 1 when it
 * can start, 0 when it waits: ask again from W->next.
 */
static int
frag_ready(struct run_host *h, int v6, const char *what, struct frag_wait *w)
{
	double now = mono_s();
	long held = 0;
	int expire_s = 0;

	if (now < w->next)
		return 0;
	if (frag_room(h, v6, &held, &expire_s)) {
		w->until = 0;
		return 1;
	}
	if (w->until == 0) {
		w->until = now + expire_s + 1;
		log_info("%s: %s holds %ld KiB of incomplete datagrams, and "
		         "drops every fragment once they fill its reassembly "
		         "memory: waiting for them to expire (at most %d s)",
		    what, h->name, held / 1024, expire_s + 1);
	} else if (now >= w->until) {
		log_warn("%s: %s still holds %ld KiB of incomplete datagrams: "
		         "measuring anyway",
		    what, h->name, held / 1024);
		w->until = 0;
		return 1;
	}
	w->next = now + 1;
	return 0;
}

/* Sleeps until W->next.  Returns 0, or -1 with ERR set when interrupted. */
static int
frag_sleep(struct run_ctx *ctx, const struct frag_wait *w, struct vmtp_err *err)
{
	double s = w->next - mono_s();
	struct timespec ts = {0, 0};

	if (s > 0) {
		ts.tv_sec = (time_t)s;
		ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	return interrupted(ctx, err);
}

/*
 * Whether a ping series of SIZE on flow J can start: its echo requests,
 * IP fragments on a 1500-byte MTU, are reassembled by the server, its
 * replies by the client (frag_ready(), with W[0] and W[1]).  Returns 1 or
 * 0 as frag_ready().
 */
static int
icmp_frag_ready(const struct tp_job *j, long long size, struct frag_wait w[2])
{
	char what[64];

	if (size + 8 + (j->v6 ? 40 : 20) <= 1500)
		return 1;
	snprintf(what, sizeof(what), "flow %d ICMP %lld", (int)j->flow, size);
	return frag_ready(j->server, j->v6, what, &w[0]) &&
	       (j->client == j->server ||
	           frag_ready(j->client, j->v6, what, &w[1]));
}

/*
 * One UDP or Multicast measurement of J: the rate search of SPEC §8 from
 * the bandwidth limit down, or from the ceiling without one, its first
 * probe run with the tool of the run and the others with J's probe tool
 * (Multicast's with nuttcp; after a failed probe of another tool, the
 * search starts again with the tool of the run).
 * The sample is the result probe when the tool of the run made it, else
 * one run of that tool at the rate found, as long as a probe, so that the
 * sample's tool measured its numbers; with --udp-final, one -t run at
 * that rate.
 * A state machine, so that the searches of a flow can run side by side
 * (flow_overlap): udp_next() says which run the search needs next,
 * udp_feed() takes that run's outcome.
 */
struct udp_search {
	struct tp_job j;  /* its own: packet size, direction, rate, length */
	const char *tool; /* the sample's tool, as the sample names it */
	struct search s;
	struct parse_tp best; /* the numbers of the result probe so far */
	int best_tool;        /* the tool of the result probe */
	int probe;            /* the tool of the later probes */
	int spent;            /* probes of a search started again */
	int final;            /* the run at the rate found is under way */
	int run_tool;         /* the tool of the run udp_next() asked for */
	double t0; /* when the sample's first run started; 0: not yet */
	struct frag_wait fw; /* for the receiver's room (udp_frag_ready()) */
	int again;           /* the run at the rate found was retargeted */
	double again_kbps;   /* the rate of the run after it, until asked */
	int done;
};

/*
 * Whether U's next run can start as far as its receiver's reassembly is
 * concerned: at once for datagrams of one fragment, else as frag_ready().
 * (Multicast's runs, one after another in udp_run(), do not ask: their
 * receivers are the group's.)
 */
static int
udp_frag_ready(struct udp_search *u)
{
	char what[64];

	if (u->s.frags <= 1 || u->j.len != u->s.size)
		return 1;
	snprintf(what, sizeof(what), "flow %d %s %lld", (int)u->j.flow,
	    udp_proto(&u->j), u->j.len);
	return frag_ready(
	    u->j.reverse ? u->j.client : u->j.server, u->j.v6, what, &u->fw);
}

static void
udp_again(struct run_ctx *ctx, struct udp_search *u)
{
	const struct run_opts *o = ctx->o;

	u->best = (struct parse_tp){0};
	u->best.jitter_ms = NAN;
	u->best_tool = o->tool;
	search_init(&u->s,
	    o->bandwidth_kbps > 0 ? o->bandwidth_kbps : o->ceiling_kbps,
	    o->loss_min, o->loss_max, (int)u->j.len);
}

static void
udp_begin(struct run_ctx *ctx, struct udp_search *u, const struct tp_job *j,
    const char *tool)
{
	*u = (struct udp_search){0};
	u->j = *j;
	u->tool = tool;
	u->probe = j->mcast ? ctx->o->tool : j->probe_tool;
	udp_again(ctx, u);
}

/* The failed search's error sample, saying MSG.  Returns 0 or -1. */
static int
udp_fail(struct run_ctx *ctx, struct udp_search *u, const char *msg,
    struct vmtp_err *err)
{
	u->done = 1;
	return sample_error_put(ctx, u->j.hold, u->j.flow, udp_proto(&u->j),
	    u->tool, u->j.len, u->t0, u->j.reverse, msg, err);
}

/*
 * What U needs next: 1 when a run, with U->j's rate and length and
 * U->run_tool set; 0 when the search is over and its sample written (or
 * held); -1 with ERR set.
 */
static int
udp_next(struct run_ctx *ctx, struct udp_search *u, struct vmtp_err *err)
{
	const struct run_opts *o = ctx->o;
	const char *proto = udp_proto(&u->j);
	const struct search_probe *r;
	double rate;

	if (u->done)
		return 0;
	if (u->again_kbps > 0) {
		u->run_tool = o->tool;
		u->j.rate_kbps = u->again_kbps;
		u->j.seconds = PROBE_SECONDS;
		u->again_kbps = 0;
		u->t0 = 0; /* the sample is this run's */
		return 1;
	}
	if ((rate = search_next(&u->s)) > 0) {
		/* the first probe, at the start rate, is the run's tool's:
		 * where the sender is the limit the search ends with it and
		 * it is the sample (another tool's sender reaches another
		 * rate); the others are the probe tool's */
		u->run_tool = u->s.probes == 0 ? o->tool : u->probe;
		u->j.len = search_size(&u->s); /* a pilot's is not J's */
		u->j.rate_kbps = rate;
		u->j.seconds = PROBE_SECONDS;
		return 1;
	}
	if (u->s.sender_limited)
		log_info("flow %d %s %lld: the sender is the limit "
		         "(%.0f Mbit/s offered)",
		    (int)u->j.flow, proto, u->j.len, u->s.ceiling_kbps / 1000);
	if (u->s.unstable)
		log_info("flow %d %s %lld: the loss does not follow the rate: "
		         "no rate stays in the bracket",
		    (int)u->j.flow, proto, u->j.len);
	r = search_result(&u->s);
	if (r == NULL || (!o->udp_final && u->best_tool == o->tool)) {
		u->done = 1;
		return udp_sample(ctx, &u->j, u->tool, NULL, u->t0, &u->best,
		    u->spent + u->s.probes, 0, &u->s, err);
	}
	/* with --udp-final as long as a TCP run, so that its numbers (and
	 * the CPU load collected meanwhile) are comparable; else a probe's
	 * length, measured by the tool the sample names */
	u->final = 1;
	u->run_tool = o->tool;
	u->j.rate_kbps = r->offered_kbps;
	u->j.seconds = o->udp_final ? o->seconds : PROBE_SECONDS;
	u->t0 = 0; /* the sample is this run's */
	log_debug("flow %d %s %lld: %d s at %.0f kbps with %s, the rate found",
	    (int)u->j.flow, proto, u->j.len, u->j.seconds, u->j.rate_kbps,
	    run_tool_names[o->tool]);
	return 1;
}

/*
 * Takes the outcome of U's run: RC 1 with TP (freed here), 0 with MSG (a
 * failed run).  Returns 0 (the search goes on, or it ended with its
 * sample) or -1 with ERR set.
 */
static int
udp_feed(struct run_ctx *ctx, struct udp_search *u, int rc, struct parse_tp *tp,
    const char *msg, struct vmtp_err *err)
{
	const struct run_opts *o = ctx->o;
	const char *proto = udp_proto(&u->j);
	const struct search_probe *r;
	struct search_probe p;
	char why[512];
	char pilot[64] = "";
	int t = u->run_tool;

	if (u->j.len != u->s.size)
		snprintf(pilot, sizeof(pilot),
		    ", a pilot of %lld-byte datagrams", u->j.len);
	u->j.len = u->s.size;
	if (rc == 1 && isnan(tp->loss_pct)) {
		parse_tp_free(tp);
		snprintf(why, sizeof(why), "%s reported no UDP loss",
		    u->final ? u->tool : u->j.client->tool_version[t]);
		return udp_fail(ctx, u, why, err);
	}
	if (u->final) {
		if (rc != 1)
			return udp_fail(ctx, u, msg, err);
		/* the probes' tool met the bracket at this rate and the
		 * sample's does not: once, when a probe is left, a run of the
		 * sample's tool where this one puts the bracket's middle */
		if (!o->udp_final && !u->again &&
		    u->spent + u->s.probes < SEARCH_MAX_PROBES) {
			p.offered_kbps = u->j.rate_kbps;
			p.rx_kbps = tp->mbps * 1000.0;
			p.loss = tp->loss_pct;
			p.index = -1;
			u->again_kbps = search_retarget(&u->s, &p);
		}
		if (u->again_kbps > 0) {
			log_debug("flow %d %s %lld: %s lost %.2f%% at the rate "
			          "found, %s %.2f%%: once more at %.0f kbps",
			    (int)u->j.flow, proto, u->j.len,
			    run_tool_names[o->tool], tp->loss_pct,
			    run_tool_names[u->best_tool], u->s.hit.loss,
			    u->again_kbps);
			u->again = 1;
			parse_tp_free(tp);
			return 0;
		}
		u->done = 1;
		rc = udp_sample(ctx, &u->j, u->tool,
		    u->s.probes > 1 && u->probe != o->tool
		        ? u->j.client->tool_version[u->probe]
		        : NULL,
		    u->t0, tp, u->spent + u->s.probes + u->again, o->udp_final,
		    &u->s, err);
		parse_tp_free(tp);
		return rc;
	}
	if (rc != 1 && t != o->tool && !(o->stop != NULL && *o->stop)) {
		/* the tool of the run is there, and works */
		log_debug("flow %d %s %lld: the %s probe failed (%s): "
		          "probing with %s",
		    (int)u->j.flow, proto, u->j.len, run_tool_names[u->probe],
		    msg, run_tool_names[o->tool]);
		u->probe = u->j.probe_tool = o->tool;
		u->spent += u->s.probes;
		udp_again(ctx, u);
		return 0;
	}
	if (rc != 1)
		return udp_fail(ctx, u, msg, err);
	p.offered_kbps = u->j.rate_kbps;
	p.rx_kbps = tp->mbps * 1000.0;
	p.loss = tp->loss_pct;
	p.index = u->s.probes;
	log_debug("flow %d %s %lld: offered %.0f kbps, received %.0f, "
	          "loss %.2f%% (%s%s)",
	    (int)u->j.flow, proto, u->j.len, p.offered_kbps, p.rx_kbps, p.loss,
	    run_tool_names[t], pilot);
	search_feed(&u->s, &p);
	r = search_result(&u->s);
	/* keep the numbers of the probe that is the result so far */
	if (r != NULL && r->index == p.index) {
		u->best.mbps = tp->mbps;
		u->best.loss_pct = tp->loss_pct;
		u->best.jitter_ms = tp->jitter_ms;
		u->best_tool = t;
	}
	parse_tp_free(tp);
	return 0;
}

/* J's UDP or Multicast measurement, one run after another.  Returns 0 (a
 * failure is an error sample) or -1 with ERR set. */
static int
udp_run(struct run_ctx *ctx, struct tp_job *j, const char *tool,
    struct vmtp_err *err)
{
	struct udp_search u;
	int rc;

	udp_begin(ctx, &u, j, tool);
	while ((rc = udp_next(ctx, &u, err)) == 1) {
		struct parse_tp tp = {0};
		char msg[512];

		if (u.t0 == 0) /* the sample starts with its first run */
			u.t0 = run_now();
		rc = tp_once(ctx, &u.j, u.run_tool, &tp, msg, sizeof(msg), err);
		if (rc < 0 || udp_feed(ctx, &u, rc, &tp, msg, err) < 0 ||
		    interrupted(ctx, err) < 0)
			return -1;
	}
	j->probe_tool = u.j.probe_tool;
	return rc;
}

/*
 * Starts the ping series of SIZE from H to TARGET.  Returns 1 with *JOB
 * set, 0 with MSG set (it could not start), -1 with ERR set.
 */
static int
icmp_start(struct run_ctx *ctx, struct run_host *h, const char *target,
    long long size, struct ssh_job **job, char *msg, size_t msglen,
    struct vmtp_err *err)
{
	char *qt = ssh_quote(target);
	char *cmd;
	int count = ctx->o->ping_count;

	*job = NULL;
	if (qt == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	cmd = run_cmd_new("ping%s -c %d -i %g -s %lld %s",
	    is_v6(target) ? " -6" : "", count, ctx->o->ping_interval, size, qt);
	free(qt);
	return measure_start(ctx, h, cmd,
	    (int)ceil(count * ctx->o->ping_interval), job, msg, msglen, err);
}

/*
 * Ends the ping series JOB of SIZE on H (icmp_start(); NULL when it did
 * not start, MSG saying why), started at T0, and writes its sample (or
 * holds it, see sample_put()).  Returns 0 or -1 with ERR set.
 */
static int
icmp_end(struct run_ctx *ctx, json_t *hold, json_int_t flow, struct run_host *h,
    long long size, double t0, struct ssh_job *job, const char *msg,
    struct vmtp_err *err)
{
	struct vmtp_err e = VMTP_ERR_INIT;
	struct ssh_result res = {0};
	struct parse_ping pg;
	json_t *rec;

	if (job == NULL || host_measure_end(ctx, h, job, &res, &e) < 0)
		return sample_error_put(ctx, hold, flow, "ICMP", "ping", size,
		    t0, 0,
		    job == NULL ? msg
		    : e.msg[0]  ? e.msg
		                : "connection lost",
		    err);
	if (res.cancelled || res.timed_out) {
		ssh_result_free(&res);
		return sample_error_put(ctx, hold, flow, "ICMP", "ping", size,
		    t0, 0, res.cancelled ? "interrupted" : "ping did not end",
		    err);
	}
	if (parse_ping(res.out, res.out_len, &pg, &e) < 0) {
		/* ping explains itself on stderr ("unknown host", an
		 * interval it refuses the user), after its first line */
		if (res.err_len > 0) {
			err_clear(&e);
			parse_ping(res.err, res.err_len, &pg, &e);
		}
		ssh_result_free(&res);
		return sample_error_put(
		    ctx, hold, flow, "ICMP", "ping", size, t0, 0, e.msg, err);
	}
	ssh_result_free(&res);
	rec = sample_new(ctx, flow, "ICMP", "ping", size, t0, 0);
	if (rec == NULL ||
	    json_object_set_new(rec, "tx_packets", json_integer(pg.tx)) != 0 ||
	    json_object_set_new(rec, "rx_packets", json_integer(pg.rx)) != 0 ||
	    set_num(rec, "rtt_min_ms", pg.min_ms) != 0 ||
	    set_num(rec, "rtt_avg_ms", pg.avg_ms) != 0 ||
	    set_num(rec, "rtt_max_ms", pg.max_ms) != 0 ||
	    set_num(rec, "rtt_stddev_ms", pg.stddev_ms) != 0 ||
	    set_num(rec, "rtt_p50_ms", pg.p50_ms) != 0 ||
	    set_num(rec, "rtt_p99_ms", pg.p99_ms) != 0) {
		json_decref(rec);
		rec = NULL;
	}
	return sample_put(ctx, hold, rec, err);
}

/* The ping series of SIZE on flow J, from its client to its target, once
 * both ends have room to reassemble (icmp_frag_ready()), waited for.
 * Returns 0 (a failure is an error sample) or -1 with ERR set. */
static int
icmp_run(struct run_ctx *ctx, const struct tp_job *j, long long size,
    struct vmtp_err *err)
{
	struct frag_wait fw[2] = {{0, 0}, {0, 0}};
	struct ssh_job *job;
	char msg[512];
	double t0;
	int rc;

	while (!icmp_frag_ready(j, size, fw))
		if (frag_sleep(ctx, &fw[fw[1].next > fw[0].next], err) < 0)
			return -1;
	t0 = run_now();
	rc = icmp_start(
	    ctx, j->client, j->target, size, &job, msg, sizeof(msg), err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		job_wait(j->client, job);
	return icmp_end(ctx, NULL, j->flow, j->client, size, t0, job, msg, err);
}

/* Error samples for every protocol of the flow in MASK. */
static int
flow_fail(struct run_ctx *ctx, json_int_t id, int mask, const char *tool,
    const char *msg, struct vmtp_err *err)
{
	double t0 = run_now();

	if ((mask & PROTO_TCP) &&
	    sample_error(ctx, id, "TCP", tool, 0, t0, 0, msg, err) < 0)
		return -1;
	if ((mask & PROTO_UDP) &&
	    sample_error(ctx, id, "UDP", tool, 0, t0, 0, msg, err) < 0)
		return -1;
	if ((mask & PROTO_MCAST) &&
	    sample_error(ctx, id, "Multicast", tool, 0, t0, 0, msg, err) < 0)
		return -1;
	if ((mask & PROTO_ICMP) &&
	    sample_error(ctx, id, "ICMP", "ping", 0, t0, 0, msg, err) < 0)
		return -1;
	return 0;
}

/*
 * The protocols of O that FLOW gets: Multicast only over IPv4 and within
 * one L2 network (the same network's fixed IP, native flows), as the
 * original; *WHY is then the RUN_SAID_* reason it was dropped, else 0.
 * Returns the enum run_proto bits, or -1 when out of memory.
 */
static int
flow_protocols(const struct run_opts *o, const json_t *flow, int *why)
{
	const char *target = json_string_value(json_object_get(flow, "target"));
	struct flow_name n;
	int mask = o->protocols;
	int kind;

	*why = 0;
	if (!(mask & PROTO_MCAST))
		return mask;
	if (is_v6(target)) {
		*why = RUN_SAID_MCAST_V6;
		return mask & ~PROTO_MCAST;
	}
	if (flow_name_init(&n, json_string_value(json_object_get(flow, "desc")),
	        FLOW_FAMILY_IPV4, 0) < 0)
		return -1;
	kind = n.kind;
	flow_name_clear(&n);
	if (kind != FLOW_KIND_L2 && kind != FLOW_KIND_NATIVE_INTRA &&
	    kind != FLOW_KIND_NATIVE_INTER) {
		*why = RUN_SAID_MCAST_L3;
		return mask & ~PROTO_MCAST;
	}
	return mask;
}

double
flow_plan_seconds(const struct run_opts *o, const json_t *flow)
{
	int dirs = json_is_true(json_object_get(flow, "bidirectional")) ? 2 : 1;
	/* a run at the rate found when the probes are another tool's */
	double search =
	    3 * PROBE_SECONDS + (o->udp_final                  ? o->seconds
	                            : o->probe_tool != o->tool ? PROBE_SECONDS
	                                                       : 0);
	double s = 0;
	int why;
	int mask = flow_protocols(o, flow, &why);

	if (mask < 0)
		mask = o->protocols;
	if (mask & PROTO_TCP)
		s += (double)o->n_tcpbuf * o->tcp_loops * dirs * o->seconds;
	if (mask & PROTO_UDP)
		s += (double)o->n_udpbuf * dirs * search;
	if (mask & PROTO_MCAST)
		s += (double)o->n_udpbuf * search;
	if (mask & PROTO_ICMP)
		s += (double)o->n_icmp * o->ping_count * o->ping_interval;
	return s;
}

/* Whether H's nuttcp takes a group (-g) and reports jitter (-j): 7.x
 * and later; 6.x sends to a group of its own choosing. */
static int
nuttcp_has_group(const struct run_host *h)
{
	const char *v = h->tool_version[TOOL_NUTTCP];

	return v != NULL && strncmp(v, "nuttcp-", 7) == 0 &&
	       strtol(v + 7, NULL, 10) >= 7;
}

/*
 * The group a nuttcp without -g sends to: 231 and the low three bytes of
 * the client's address SRC, into OUT (OUTLEN >= 16).  Returns 0, or -1
 * when SRC is not an IPv4 address.
 */
static int
nuttcp_own_group(const char *src, char *out, size_t outlen)
{
	struct in_addr a;
	unsigned long x;

	if (inet_pton(AF_INET, src, &a) != 1)
		return -1;
	x = ntohl(a.s_addr);
	snprintf(out, outlen, "231.%lu.%lu.%lu", (x >> 16) & 0xff,
	    (x >> 8) & 0xff, x & 0xff);
	return 0;
}

/*
 * The Multicast measurements of J's flow, one per UDP packet size: the
 * client's nuttcp sends to the group, the server's receives, with
 * 224.0.0.0/4 routed on both hosts (SRV the server) for their duration
 * only.  Returns 0 (failures are error samples) or -1 with ERR set.
 */
static int
mcast_run(struct run_ctx *ctx, struct tp_job *j, struct run_host *srv,
    const char *tool, struct vmtp_err *err)
{
	const struct run_opts *o = ctx->o;
	struct vmtp_err e = VMTP_ERR_INIT;
	char src[64] = "";
	char own[16] = "";
	char note[256]; /* a tool version of 40 and two dotted quads */
	int rc = 0;
	int i;

	/* as the original: measured without the route where it cannot be
	 * added (a default route may carry the group) */
	if (host_mroute_add(ctx, j->client, j->target, src, sizeof(src), &e) <
	    0)
		log_warn("flow %d Multicast: %s", (int)j->flow, e.msg);
	err_clear(&e);
	if (srv != j->client &&
	    host_mroute_add(ctx, srv, j->target, NULL, 0, &e) < 0)
		log_warn("flow %d Multicast: %s", (int)j->flow, e.msg);
	j->group = NULL;
	j->group_used = NULL;
	if (nuttcp_has_group(j->client)) {
		j->group = j->group_used = o->mcast_addr;
	} else if (nuttcp_own_group(src, own, sizeof(own)) == 0) {
		j->group_used = own;
	}
	if (j->group == NULL && !(ctx->said & RUN_SAID_MCAST_ROUTE)) {
		ctx->said |= RUN_SAID_MCAST_ROUTE;
		snprintf(note, sizeof(note),
		    "%s has no -g: multicast goes to the group it derives "
		    "from the client's address (%s), not to %s",
		    j->client->tool_version[TOOL_NUTTCP],
		    own[0] != '\0' ? own : "unknown", o->mcast_addr);
		/* a warning when the user chose the group */
		if (o->mcast_given)
			log_warn("%s", note);
		else
			log_info("%s", note);
	}
	for (i = 0; rc == 0 && i < o->n_udpbuf; i++) {
		j->udp = 1;
		j->mcast = 1;
		j->reverse = 0;
		j->len = o->udpbuf[i];
		if (udp_run(ctx, j, tool, err) < 0 || interrupted(ctx, err) < 0)
			rc = -1;
	}
	j->mcast = 0;
	j->group = j->group_used = NULL;
	host_mroute_del(ctx, j->client);
	host_mroute_del(ctx, srv);
	return rc;
}

/* A flow ready to measure: its hosts logged in, described, with the tool
 * and its server (flow_prepare), then its measurements (flow_measure). */
struct flow_job {
	const json_t *flow;
	json_int_t id;
	struct run_host *cli, *srv;
	const char *tool;
	struct tp_job j;
	int mask;    /* protocols left to measure */
	int tp_mask; /* of them, those of the tool */
	int dirs;
	int slots; /* bit K: nuttcp's server slot K listens on the server */
};

/*
 * The tool of the UDP search's probes for JOB: the probe tool of the
 * options when both hosts have it on their PATH (it is not uploaded:
 * iperf3 needs its library) and its server runs on the server host (kept
 * there for the run), else the tool of the run, which is said at -v.
 */
static int
probe_prepare(struct run_ctx *ctx, struct flow_job *job)
{
	const struct run_opts *o = ctx->o;
	struct vmtp_err e = VMTP_ERR_INIT;
	int t = o->probe_tool;

	if (host_tool_ensure(job->cli, t, 0, &e) == 0 &&
	    (job->srv == job->cli ||
	        host_tool_ensure(job->srv, t, 0, &e) == 0) &&
	    host_server_start(ctx, job->srv, t, job->j.v6, &e) == 0)
		return t;
	host_stop_server(ctx, job->srv, t);
	/* once per host: the same reason would come back on every flow */
	if (!job->cli->probe_said || !job->srv->probe_said)
		log_debug("flow %d: UDP probes with %s: %s", (int)job->id,
		    run_tool_names[o->tool], e.msg);
	job->cli->probe_said = job->srv->probe_said = 1;
	return o->tool;
}

/*
 * nuttcp's further server slots on JOB's server host, for UDP runs side by
 * side (flow_overlap): JOB->slots says which listen (slot 0, the tool's own
 * server, does).  A slot that cannot start (its port taken) is left out,
 * said once per host at -v.
 */
static void
slots_prepare(struct run_ctx *ctx, struct flow_job *job)
{
	int k;

	job->slots = 1;
	if (ctx->o->tool != TOOL_NUTTCP)
		return;
	for (k = 1; k < VMTP_NUTTCP_SLOTS; k++) {
		struct vmtp_err e = VMTP_ERR_INIT;
		int srv = run_server(TOOL_NUTTCP, k);

		if (host_server_start(ctx, job->srv, srv, job->j.v6, &e) == 0) {
			job->slots |= 1 << k;
			continue;
		}
		host_stop_server(ctx, job->srv, srv);
		if (!job->srv->slot_said)
			log_debug("flow %d: UDP runs side by side on fewer "
			          "nuttcp servers: %s",
			    (int)job->id, e.msg);
		job->srv->slot_said = 1;
	}
}

void
flow_job_free(struct flow_job *job)
{
	free(job);
}

struct flow_job *
flow_prepare(struct run_ctx *ctx, const json_t *flow, struct vmtp_err *err)
{
	const struct run_opts *o = ctx->o;
	struct vmtp_err e = VMTP_ERR_INIT;
	struct flow_job *job = calloc(1, sizeof(*job));
	const char *target = json_string_value(json_object_get(flow, "target"));
	int why = 0;

	if (job == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	job->flow = flow;
	job->id = json_integer_value(json_object_get(flow, "id"));
	job->cli =
	    host_find(ctx, json_string_value(json_object_get(flow, "client")));
	job->srv =
	    host_find(ctx, json_string_value(json_object_get(flow, "server")));
	job->dirs =
	    json_is_true(json_object_get(flow, "bidirectional")) ? 2 : 1;
	job->tool = run_tool_names[o->tool];
	job->mask = flow_protocols(o, flow, &why);
	if (job->mask < 0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto fail;
	}
	if (why != 0 && !(ctx->said & why)) {
		ctx->said |= why;
		log_debug("flow %d: no Multicast %s", (int)job->id,
		    why == RUN_SAID_MCAST_V6
		        ? "over IPv6 (the group is IPv4), here or on any "
		          "IPv6 flow"
		        : "across a router: only flows within one L2 "
		          "network get it");
	}
	job->tp_mask = job->mask & (PROTO_TCP | PROTO_UDP | PROTO_MCAST);
	if (host_conn(ctx, job->cli, &e) < 0 ||
	    (job->srv != job->cli && host_conn(ctx, job->srv, &e) < 0)) {
		if (flow_fail(ctx, job->id, job->mask, job->tool, e.msg, err) <
		    0)
			goto fail;
		job->mask = job->tp_mask = 0; /* nothing left to measure */
		return job;
	}
	if (host_info(ctx, job->cli, err) < 0 ||
	    host_info(ctx, job->srv, err) < 0)
		goto fail;
	job->j.flow = job->id;
	job->j.client = job->cli;
	job->j.server = job->srv;
	job->j.target = target;
	job->j.v6 = is_v6(target);
	job->j.probe_tool = o->tool;
	if (job->tp_mask != 0) {
		if (host_tool_ensure(job->cli, o->tool, 1, &e) < 0 ||
		    (job->srv != job->cli &&
		        host_tool_ensure(job->srv, o->tool, 1, &e) < 0) ||
		    host_server_start(ctx, job->srv, o->tool, job->j.v6, &e) <
		        0) {
			host_stop_server(ctx, job->srv, o->tool);
			if (flow_fail(ctx, job->id, job->tp_mask, job->tool,
			        e.msg, err) < 0)
				goto fail;
			job->tp_mask = 0;
		} else {
			job->tool = job->cli->tool_version[o->tool];
		}
	}
	if ((job->tp_mask & PROTO_UDP) && o->probe_tool != o->tool)
		job->j.probe_tool = probe_prepare(ctx, job);
	if (job->tp_mask & PROTO_UDP)
		slots_prepare(ctx, job);
	return job;
fail:
	free(job);
	return NULL;
}

/* A measurement of flow_overlap(): a UDP search, or a ping series. */
struct unit {
	struct udp_search u;    /* UDP */
	long long icmp_size;    /* > 0: a ping series of that size */
	json_t *hold;           /* its samples, written in the units' order */
	struct ssh_job *job;    /* its run under way, or NULL */
	int pending;            /* UDP: udp_next() asked for a run */
	double t0;              /* ping: when it started */
	struct frag_wait fw[2]; /* ping: for its hosts' room to reassemble */
	double data_end;        /* when the run's traffic ends (mono_s()), once
	                           known; INFINITY until then */
	int done;
};

/* Between one run's last datagram and the next one's start. */
#define OVERLAP_GUARD_S 0.05

/* Ends X's run (ssh_job_step() said it ended or failed) and takes its
 * outcome.  Returns 0 or -1 with ERR set. */
static int
unit_end(struct run_ctx *ctx, struct flow_job *fj, struct unit *x,
    struct vmtp_err *err)
{
	struct ssh_job *job = x->job;

	x->job = NULL;
	if (x->icmp_size > 0) {
		x->done = 1;
		return icmp_end(ctx, x->hold, fj->id, fj->cli, x->icmp_size,
		    x->t0, job, NULL, err);
	} else {
		struct parse_tp tp = {0};
		char msg[512];
		int rc = tp_end(
		    ctx, &x->u.j, x->u.run_tool, job, &tp, msg, sizeof(msg));

		rc = udp_feed(ctx, &x->u, rc, &tp, msg, err);
		x->done = x->u.done;
		fj->j.probe_tool = x->u.j.probe_tool;
		return rc;
	}
}

/*
 * The probe tool failed in a search: the flow's other searches that have
 * not probed with it yet probe with the tool of the run too, as later
 * searches would.
 */
static void
probe_fallback(struct run_ctx *ctx, struct unit *units, int n_udp)
{
	int t = ctx->o->tool;
	int i;

	for (i = 0; i < n_udp; i++) {
		struct udp_search *u = &units[i].u;

		if (u->probe == t || u->s.probes > 1 ||
		    (units[i].job != NULL && u->run_tool != t))
			continue;
		u->probe = u->j.probe_tool = t;
		if (units[i].pending && !u->final)
			u->run_tool = t;
	}
}

/*
 * Starts X's run when what it needs is free: a nuttcp server slot not in
 * BUSY (bits), iperf3's one server when IPERF3_BUSY is clear.  Returns 1
 * when started (or it failed at once, its outcome taken), 0 when it
 * waits, -1 with ERR set.
 */
static int
unit_start(struct run_ctx *ctx, struct flow_job *fj, struct unit *x, int busy,
    int iperf3_busy, struct vmtp_err *err)
{
	char msg[512];
	int rc;
	int k;

	x->data_end = INFINITY;
	if (x->icmp_size > 0) {
		if (!icmp_frag_ready(&fj->j, x->icmp_size, x->fw))
			return 0;
		x->t0 = run_now();
		rc = icmp_start(ctx, fj->cli, fj->j.target, x->icmp_size,
		    &x->job, msg, sizeof(msg), err);
		if (rc == 0) {
			x->done = 1;
			return icmp_end(ctx, x->hold, fj->id, fj->cli,
			           x->icmp_size, x->t0, NULL, msg, err) < 0
			           ? -1
			           : 1;
		}
		return rc;
	}
	if (x->u.run_tool == TOOL_IPERF3) {
		if (iperf3_busy)
			return 0;
	} else {
		for (k = 0; k < VMTP_NUTTCP_SLOTS; k++)
			if ((fj->slots & (1 << k)) && !(busy & (1 << k)))
				break;
		if (k == VMTP_NUTTCP_SLOTS)
			return 0;
		x->u.j.slot = k;
	}
	if (!udp_frag_ready(&x->u))
		return 0;
	x->pending = 0;
	if (x->u.t0 == 0) /* the sample starts with its first run */
		x->u.t0 = run_now();
	rc = tp_start(
	    ctx, &x->u.j, x->u.run_tool, &x->job, msg, sizeof(msg), err);
	if (rc == 0) {
		rc = udp_feed(ctx, &x->u, 0, NULL, msg, err) < 0 ? -1 : 1;
		x->done = x->u.done;
	}
	return rc;
}

/*
 * The UDP searches of FJ's flow and, when ICMP, its ping series, side by
 * side where their traffic does not meet.  nuttcp reports a UDP run 2 s
 * after its last datagram (it sends its end-of-data markers 0.5 s apart);
 * meanwhile the next measurement runs, its UDP runs on another nuttcp
 * server (slot).  One run's traffic at a time: the next starts once the
 * traffic before it has ended, for nuttcp known from its first report
 * (UDP_INTERVAL_S after its first datagram came) and the run's length,
 * for iperf3 and ping when they end.  A search that needs another probe
 * takes its turn again; the ping series start when no search waits.
 * Samples are written in the order of the measurements, as one after
 * another would.  Returns 0 or -1 with ERR set.
 */
static int
flow_overlap(
    struct run_ctx *ctx, struct flow_job *fj, int icmp, struct vmtp_err *err)
{
	const struct run_opts *o = ctx->o;
	int n_udp = (fj->tp_mask & PROTO_UDP) ? o->n_udpbuf * fj->dirs : 0;
	int n = n_udp + (icmp ? o->n_icmp : 0);
	struct unit *units = calloc((size_t)n + 1, sizeof(*units));
	int written = 0;
	int rc = -1;
	int i;

	if (units == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	for (i = 0; i < n; i++) {
		struct unit *x = &units[i];

		if ((x->hold = json_array()) == NULL) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
		if (i < n_udp) {
			struct tp_job j = fj->j;

			j.udp = 1;
			j.reverse = i % fj->dirs;
			j.len = o->udpbuf[i / fj->dirs];
			j.hold = x->hold;
			udp_begin(ctx, &x->u, &j, fj->tool);
		} else {
			x->icmp_size = o->icmp_sizes[i - n_udp];
		}
	}
	for (;;) {
		double now, wait_s = 0.2;
		int busy = 0, iperf3_busy = 0, running = 0, free_path = 1;
		int waiting = 0;   /* a search waits to start a run */
		int frag_wait = 0; /* one waits for its receiver's room */

		/* the runs that ended, and what the others tell */
		for (i = 0; i < n; i++) {
			struct unit *x = &units[i];
			size_t len;
			const char *out;
			int st;

			if (x->job == NULL)
				continue;
			st = ssh_job_step(x->job);
			if (st != 0) {
				if (unit_end(ctx, fj, x, err) < 0)
					goto out;
				if (fj->j.probe_tool == o->tool)
					probe_fallback(ctx, units, n_udp);
				continue;
			}
			out = ssh_job_out(x->job, &len);
			if (x->icmp_size == 0 && x->u.run_tool == TOOL_NUTTCP &&
			    isinf(x->data_end) &&
			    strstr(out, "real_sec=") != NULL)
				x->data_end = mono_s() - UDP_INTERVAL_S +
				              x->u.j.seconds + OVERLAP_GUARD_S;
		}
		if (interrupted(ctx, err) < 0)
			goto out;
		/* what each idle search needs */
		for (i = 0; i < n_udp; i++) {
			struct unit *x = &units[i];
			int r;

			if (x->done || x->job != NULL || x->pending)
				continue;
			r = udp_next(ctx, &x->u, err);
			if (r < 0)
				goto out;
			x->pending = r;
			x->done = x->u.done;
		}
		/* the samples of the measurements that ended, in order */
		for (; written < n && units[written].done; written++) {
			json_t *hold = units[written].hold;
			size_t k;

			for (k = 0; k < json_array_size(hold); k++)
				if (run_write(ctx,
				        json_incref(json_array_get(hold, k)),
				        err) < 0)
					goto out;
			json_array_clear(hold);
		}
		if (written == n)
			break;
		now = mono_s();
		for (i = 0; i < n; i++) {
			struct unit *x = &units[i];

			waiting |= x->pending;
			if (x->job == NULL)
				continue;
			running++;
			if (x->icmp_size == 0 && x->u.run_tool == TOOL_NUTTCP)
				busy |= 1 << x->u.j.slot;
			else if (x->icmp_size == 0)
				iperf3_busy = 1;
			if (x->data_end > now) {
				free_path = 0;
				if (x->data_end - now < wait_s)
					wait_s = x->data_end - now;
			}
		}
		/* one run starts when the path is free */
		for (i = 0; free_path && i < n; i++) {
			struct unit *x = &units[i];
			int r;

			if (x->done || x->job != NULL ||
			    (x->icmp_size == 0 && !x->pending) ||
			    (x->icmp_size > 0 && waiting))
				continue;
			r = unit_start(ctx, fj, x, busy, iperf3_busy, err);
			if (r < 0)
				goto out;
			if (r == 1)
				break;
			if (x->icmp_size > 0
			        ? fmax(x->fw[0].next, x->fw[1].next) > now
			        : x->u.fw.next > now)
				frag_wait = 1;
		}
		if (free_path && i < n)
			continue; /* one started: look again at once */
		if (running == 0 && written < n && !frag_wait) {
			/* nothing runs and nothing could start */
			err_set(err, VMTP_EXIT_FAIL,
			    "flow %d: no measurement can start", (int)fj->id);
			goto out;
		}
		ssh_wait(fj->cli->conn, (int)ceil(wait_s * 1000));
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		struct unit *x = &units[i];
		struct vmtp_err e = VMTP_ERR_INIT;
		size_t k;

		if (x->job != NULL) {
			struct ssh_result res;

			/* given up: stopped on its host */
			if (host_measure_end(ctx, fj->cli, x->job, &res, &e) ==
			    0)
				ssh_result_free(&res);
		}
		/* interrupted or stopped: what was measured is kept */
		for (k = 0; i >= written && k < json_array_size(x->hold); k++)
			run_write(
			    ctx, json_incref(json_array_get(x->hold, k)), &e);
		if (x->icmp_size == 0)
			parse_tp_free(&x->u.best);
		json_decref(x->hold);
	}
	free(units);
	return rc;
}

int
flow_measure(struct run_ctx *ctx, struct flow_job *job, struct vmtp_err *err)
{
	const struct run_opts *o = ctx->o;
	struct tp_job *j = &job->j;
	int i, loop, d, icmp;

	for (i = 0; (job->tp_mask & PROTO_TCP) && i < o->n_tcpbuf; i++)
		for (loop = 1; loop <= o->tcp_loops; loop++)
			for (d = 0; d < job->dirs; d++) {
				j->udp = 0;
				j->reverse = d;
				j->len = o->tcpbuf[i];
				j->rate_kbps = o->bandwidth_kbps;
				j->seconds = o->seconds;
				if (tcp_run(ctx, j, job->tool, loop, err) < 0 ||
				    interrupted(ctx, err) < 0)
					goto fail;
			}
	/* the ping series overlap the UDP runs' ends, unless Multicast
	 * comes between them */
	icmp = (job->mask & PROTO_ICMP) && !(job->tp_mask & PROTO_MCAST);
	if (((job->tp_mask & PROTO_UDP) || icmp) &&
	    flow_overlap(ctx, job, icmp, err) < 0)
		goto fail;
	if ((job->tp_mask & PROTO_MCAST) &&
	    mcast_run(ctx, j, job->srv, job->tool, err) < 0)
		goto fail;
	for (i = 0; !icmp && (job->mask & PROTO_ICMP) && i < o->n_icmp; i++)
		if (icmp_run(ctx, j, o->icmp_sizes[i], err) < 0 ||
		    interrupted(ctx, err) < 0)
			return -1;
	return 0;
fail:
	host_mroute_del(ctx, job->cli);
	host_mroute_del(ctx, job->srv);
	return -1;
}

int
flow_run(struct run_ctx *ctx, const json_t *flow, struct vmtp_err *err)
{
	struct flow_job *job = flow_prepare(ctx, flow, err);
	int rc;

	if (job == NULL)
		return -1;
	rc = flow_measure(ctx, job, err);
	flow_job_free(job);
	return rc;
}
