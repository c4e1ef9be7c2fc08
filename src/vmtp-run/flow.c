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

/* Writes an error sample saying MSG; counts it.  Returns 0 or -1 (fatal,
 * or --stop-on-error). */
static int
sample_error(struct run_ctx *ctx, json_int_t flow, const char *proto,
    const char *tool, long long pkt_size, double t0, int reverse,
    const char *msg, struct vmtp_err *err)
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
	if (run_write(ctx, rec, err) < 0)
		return -1;
	if (ctx->o->stop_on_error)
		return err_set(err, VMTP_EXIT_FLOWS,
		    "stopped at the first error (--stop-on-error)");
	return 0;
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
};

/*
 * Runs one client of TOOL (enum run_tool: nuttcp or iperf3).  Returns 1
 * with *TP filled, 0 with MSG set (a failed measurement), -1 with ERR set
 * (fatal).
 */
static int
tp_once(struct run_ctx *ctx, const struct tp_job *j, int tool,
    struct parse_tp *tp, char *msg, size_t msglen, struct vmtp_err *err)
{
	struct vmtp_err e = VMTP_ERR_INIT;
	struct ssh_result res = {0};
	const char *path = j->client->tool_path[tool];
	char *qt = ssh_quote(j->target);
	char *cmd = NULL;
	/* " -u -m32 -g " a dotted quad " -j -R " and a rate below 1e15 */
	char rate[80] = "";
	int rc = 0;

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
		    "%s -fparse -T %d -i 1 -l %lld -P %d -p %d%s%s%s %s", path,
		    j->seconds, j->len, VMTP_NUTTCP_PORT, VMTP_NUTTCP_DATA_PORT,
		    rate, j->reverse ? " -r" : "", j->v6 ? " -6" : "", qt);
	} else {
		if (j->udp || j->rate_kbps > 0)
			snprintf(rate, sizeof(rate), "%s -b %.0fK",
			    j->udp ? " -u" : "", j->rate_kbps);
		cmd = run_cmd_new("%s -J -c %s -p %d -t %d -l %lld%s%s%s", path,
		    qt, VMTP_IPERF3_PORT, j->seconds, j->len, rate,
		    j->reverse ? " -R" : "", j->v6 ? " -6" : "");
	}
	free(qt);
	if (cmd == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	if (!ssh_alive(j->client->conn) ||
	    host_measure(ctx, j->client, cmd, j->seconds, &res, &e) < 0) {
		free(cmd);
		snprintf(
		    msg, msglen, "%s", e.msg[0] ? e.msg : "connection lost");
		return 0;
	}
	free(cmd);
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
 * and UNSTABLE (the search found no rate whose loss stays in the bracket)
 * as they apply.  Returns 0 or -1 with ERR set.
 */
static int
udp_sample(struct run_ctx *ctx, const struct tp_job *j, const char *tool,
    const char *probe_tool, double t0, const struct parse_tp *tp, int probes,
    int final, int unstable, struct vmtp_err *err)
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
	    (unstable &&
	        json_object_set_new(rec, "loss_unstable", json_true()) != 0)) {
		json_decref(rec);
		rec = NULL;
	}
	return run_write(ctx, rec, err);
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
 * that rate.  Returns 0 (a failure is an error sample) or -1 with ERR set.
 */
static int
udp_run(struct run_ctx *ctx, struct tp_job *j, const char *tool,
    struct vmtp_err *err)
{
	const struct run_opts *o = ctx->o;
	const char *proto = udp_proto(j);
	struct parse_tp tp = {0};
	struct parse_tp best = {0};
	struct search s;
	const struct search_probe *r;
	double ceiling =
	    o->bandwidth_kbps > 0 ? o->bandwidth_kbps : o->ceiling_kbps;
	double t0 = run_now();
	double rate;
	char msg[512];
	int probe = j->mcast ? o->tool : j->probe_tool;
	int best_tool; /* the tool of the result probe */
	int spent = 0; /* probes of a search started again */
	int final;
	int rc;
	int t;

again:
	best = (struct parse_tp){0};
	best.jitter_ms = NAN;
	best_tool = o->tool;
	search_init(&s, ceiling, o->loss_min, o->loss_max, (int)j->len);
	while ((rate = search_next(&s)) > 0) {
		struct search_probe p;

		/* the first probe, at the start rate, is the run's tool's:
		 * where the sender is the limit the search ends with it and
		 * it is the sample (another tool's sender reaches another
		 * rate); the others are the probe tool's */
		t = s.probes == 0 ? o->tool : probe;
		j->rate_kbps = rate;
		j->seconds = PROBE_SECONDS;
		rc = tp_once(ctx, j, t, &tp, msg, sizeof(msg), err);
		if (rc == 0 && t != o->tool && !(o->stop != NULL && *o->stop)) {
			/* the tool of the run is there, and works */
			log_debug("flow %d %s %lld: the %s probe failed (%s): "
			          "probing with %s",
			    (int)j->flow, proto, j->len, run_tool_names[probe],
			    msg, run_tool_names[o->tool]);
			probe = j->probe_tool = o->tool;
			spent += s.probes;
			goto again;
		}
		if (rc <= 0)
			goto fail;
		if (isnan(tp.loss_pct)) {
			parse_tp_free(&tp);
			snprintf(msg, sizeof(msg), "%s reported no UDP loss",
			    j->client->tool_version[t]);
			goto fail;
		}
		p.offered_kbps = rate;
		p.rx_kbps = tp.mbps * 1000.0;
		p.loss = tp.loss_pct;
		p.index = s.probes;
		log_debug("flow %d %s %lld: offered %.0f kbps, received %.0f, "
		          "loss %.2f%% (%s)",
		    (int)j->flow, proto, j->len, rate, p.rx_kbps, p.loss,
		    run_tool_names[t]);
		search_feed(&s, &p);
		r = search_result(&s);
		/* keep the numbers of the probe that is the result so far */
		if (r != NULL && r->index == p.index) {
			best.mbps = tp.mbps;
			best.loss_pct = tp.loss_pct;
			best.jitter_ms = tp.jitter_ms;
			best_tool = t;
		}
		parse_tp_free(&tp);
		if (interrupted(ctx, err) < 0)
			return -1;
	}
	if (s.sender_limited)
		log_info("flow %d %s %lld: the sender is the limit "
		         "(%.0f Mbit/s offered)",
		    (int)j->flow, proto, j->len, ceiling / 1000);
	if (s.unstable)
		log_info("flow %d %s %lld: the loss does not follow the rate: "
		         "no rate stays in the bracket",
		    (int)j->flow, proto, j->len);
	r = search_result(&s);
	if (r == NULL || (!o->udp_final && best_tool == o->tool))
		return udp_sample(ctx, j, tool, NULL, t0, &best,
		    spent + s.probes, 0, s.unstable, err);
	/* with --udp-final as long as a TCP run, so that its numbers (and
	 * the CPU load collected meanwhile) are comparable; else a probe's
	 * length, measured by the tool the sample names */
	final = o->udp_final;
	j->rate_kbps = r->offered_kbps;
	j->seconds = final ? o->seconds : PROBE_SECONDS;
	t0 = run_now();
	log_debug("flow %d %s %lld: %d s at %.0f kbps with %s, the rate found",
	    (int)j->flow, proto, j->len, j->seconds, j->rate_kbps,
	    run_tool_names[o->tool]);
	rc = tp_once(ctx, j, o->tool, &tp, msg, sizeof(msg), err);
	if (rc <= 0)
		goto fail;
	if (isnan(tp.loss_pct)) {
		parse_tp_free(&tp);
		snprintf(msg, sizeof(msg), "%s reported no UDP loss", tool);
		goto fail;
	}
	rc = udp_sample(ctx, j, tool,
	    s.probes > 1 && probe != o->tool ? j->client->tool_version[probe]
	                                     : NULL,
	    t0, &tp, spent + s.probes, final, s.unstable, err);
	parse_tp_free(&tp);
	return rc;
fail:
	if (rc < 0)
		return -1;
	return sample_error(
	    ctx, j->flow, proto, tool, j->len, t0, j->reverse, msg, err);
}

static int
icmp_run(struct run_ctx *ctx, json_int_t flow, struct run_host *h,
    const char *target, long long size, struct vmtp_err *err)
{
	struct vmtp_err e = VMTP_ERR_INIT;
	struct ssh_result res = {0};
	struct parse_ping pg;
	double t0 = run_now();
	char *qt = ssh_quote(target);
	char *cmd;
	json_t *rec;
	int count = ctx->o->ping_count;
	int rc;

	if (qt == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	cmd = run_cmd_new("ping%s -c %d -i %g -s %lld %s",
	    is_v6(target) ? " -6" : "", count, ctx->o->ping_interval, size, qt);
	free(qt);
	if (cmd == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	rc = ssh_alive(h->conn)
	         ? host_measure(ctx, h, cmd,
	               (int)ceil(count * ctx->o->ping_interval), &res, &e)
	         : -1;
	free(cmd);
	if (rc < 0)
		return sample_error(ctx, flow, "ICMP", "ping", size, t0, 0,
		    e.msg[0] ? e.msg : "connection lost", err);
	if (res.cancelled || res.timed_out) {
		ssh_result_free(&res);
		return sample_error(ctx, flow, "ICMP", "ping", size, t0, 0,
		    res.cancelled ? "interrupted" : "ping did not end", err);
	}
	if (parse_ping(res.out, res.out_len, &pg, &e) < 0) {
		/* ping explains itself on stderr ("unknown host", an
		 * interval it refuses the user), after its first line */
		if (res.err_len > 0) {
			err_clear(&e);
			parse_ping(res.err, res.err_len, &pg, &e);
		}
		ssh_result_free(&res);
		return sample_error(
		    ctx, flow, "ICMP", "ping", size, t0, 0, e.msg, err);
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
	return run_write(ctx, rec, err);
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
	return job;
fail:
	free(job);
	return NULL;
}

int
flow_measure(struct run_ctx *ctx, struct flow_job *job, struct vmtp_err *err)
{
	const struct run_opts *o = ctx->o;
	struct tp_job *j = &job->j;
	int i, loop, d;

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
	for (i = 0; (job->tp_mask & PROTO_UDP) && i < o->n_udpbuf; i++)
		for (d = 0; d < job->dirs; d++) {
			j->udp = 1;
			j->reverse = d;
			j->len = o->udpbuf[i];
			if (udp_run(ctx, j, job->tool, err) < 0 ||
			    interrupted(ctx, err) < 0)
				goto fail;
		}
	if ((job->tp_mask & PROTO_MCAST) &&
	    mcast_run(ctx, j, job->srv, job->tool, err) < 0)
		goto fail;
	for (i = 0; (job->mask & PROTO_ICMP) && i < o->n_icmp; i++)
		if (icmp_run(ctx, job->id, job->cli, j->target,
		        o->icmp_sizes[i], err) < 0 ||
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
