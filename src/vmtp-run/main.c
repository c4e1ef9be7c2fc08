/*
 * main.c - vmtp-run: topology records in, the same records plus raw
 * samples out (SPEC §4, §6 vmtp-run, §8).  Every record is passed on as
 * read; then each flow is measured in order over one SSH session per host
 * with nuttcp (or iperf3) and ping, one sample per measurement written the
 * moment it ends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/cli.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"
#include "libvmtp/opt.h"
#include "libvmtp/rec.h"
#include "libvmtp/ssh.h"

#include "run.h"

#define PROG "vmtp-run"

static const char synopsis[] =
    "usage: vmtp-run [-hqv] [-c config] [-t seconds] [--bandwidth rate]\n"
    "                [--concurrency pairs] [--flows list]\n"
    "                [--hostkey-policy strict|accept-new]\n"
    "                [--icmp-sizes list] [--known-hosts file]\n"
    "                [--multicast-addr address] [--ping-count n]\n"
    "                [--ping-interval seconds]\n"
    "                [--protocols TUIM] [--ssh-key file] "
    "[--ssh-password-file file]\n"
    "                [--stop-on-error] [--tcp-loops n] [--tcpbuf list]\n"
    "                [--tp-tool nuttcp|iperf3] [--udp-final]\n"
    "                [--udp-loss-range min,max] "
    "[--udp-probe-tool nuttcp|iperf3]\n"
    "                [--udpbuf list] [--version] [file]\n";

enum {
	OPT_BANDWIDTH = 256,
	OPT_CONCURRENCY,
	OPT_FLOWS,
	OPT_POLICY,
	OPT_ICMP,
	OPT_KNOWN,
	OPT_MCAST,
	OPT_PING,
	OPT_PING_INTERVAL,
	OPT_PROTOCOLS,
	OPT_KEY,
	OPT_PWFILE,
	OPT_STOP,
	OPT_LOOPS,
	OPT_TCPBUF,
	OPT_TOOL,
	OPT_FINAL,
	OPT_LOSS,
	OPT_PROBE_TOOL,
	OPT_UDPBUF,
	OPT_VERSION
};

static const struct opt options[] = {
    OPT_GROUP("Measures every flow of a topology (stdin or FILE) over SSH.\n"),
    {'t', NULL, "seconds", "TCP measurement length (default 10)"},
    {OPT_PROTOCOLS, "protocols", "TUIM",
        "any of T (TCP), U (UDP), I (ICMP), M (Multicast)"},
    {OPT_MCAST, "multicast-addr", "address",
        "multicast group (default 231.1.1.1); adds M"},
    {OPT_TOOL, "tp-tool", "nuttcp|iperf3", "throughput tool (default nuttcp)"},
    {OPT_TCPBUF, "tcpbuf", "list", "TCP buffer sizes, bytes"},
    {OPT_UDPBUF, "udpbuf", "list", "UDP packet sizes, bytes"},
    {OPT_ICMP, "icmp-sizes", "list", "ping payload sizes, bytes"},
    {OPT_LOOPS, "tcp-loops", "n", "TCP runs per buffer size"},
    {OPT_PING, "ping-count", "n", "pings per size"},
    {OPT_PING_INTERVAL, "ping-interval", "seconds",
        "between two pings (default 1; below 0.2: root)"},
    {OPT_BANDWIDTH, "bandwidth", "rate",
        "limit (K/M/G): TCP's rate, the UDP search's ceiling"},
    {OPT_FINAL, "udp-final", NULL, "after the search, one -t run at its rate"},
    {OPT_LOSS, "udp-loss-range", "min,max", "UDP search loss bracket, percent"},
    {OPT_PROBE_TOOL, "udp-probe-tool", "nuttcp|iperf3",
        "the UDP search's probes after nuttcp's first: iperf3\n"
        "(default) where the hosts have it, then one nuttcp run"},
    {OPT_FLOWS, "flows", "list", "flow ids to run (default all)"},
    {OPT_CONCURRENCY, "concurrency", "pairs",
        "a mesh round's pairs measured at once\n"
        "(default: the whole round; 1: one flow at a time)"},
    {OPT_STOP, "stop-on-error", NULL, "stop at the first failed measurement"},
    {OPT_KEY, "ssh-key", "file",
        "private key (default: topology, agent, ~/.ssh)"},
    {OPT_PWFILE, "ssh-password-file", "file",
        "password (or $VMTP_SSH_PASSWORD)"},
    {OPT_KNOWN, "known-hosts", "file", "for hosts without a recorded key"},
    {OPT_POLICY, "hostkey-policy", "strict|accept-new",
        "strict (default) or accept-new"},
    {'c', NULL, "config", "YAML configuration (SPEC §7 keys)"},
    {'q', "quiet", NULL, "errors only"},
    {'v', "verbose", NULL, "debug messages (each remote command)"},
    {'h', "help", NULL, "show this help and exit"},
    {OPT_VERSION, "version", NULL, "show the version and exit"}, OPT_END};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

/*
 * Parses "a,b,c" of whole numbers in [MIN, MAX] into OUT: an empty item
 * ("1,,2", "1,") is refused, not skipped, so a typo is never a shorter
 * list.
 */
static int
parse_list(const char *opt, const char *s, long long min, long long max,
    long long *out, int cap, int *n, struct vmtp_err *err)
{
	char item[32];
	const char *p = s;
	const char *comma;
	size_t len;

	*n = 0;
	if (*s == '\0')
		return err_set(err, VMTP_EXIT_USAGE, "%s: empty list", opt);
	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0)
			return err_set(err, VMTP_EXIT_USAGE,
			    "%s: empty item in '%s'", opt, s);
		if (*n == cap)
			return err_set(err, VMTP_EXIT_USAGE,
			    "%s: more than %d values", opt, cap);
		if (len >= sizeof(item))
			return err_set(err, VMTP_EXIT_USAGE,
			    "%s: '%.*s' is not a whole number", opt, (int)len,
			    p);
		memcpy(item, p, len);
		item[len] = '\0';
		if (cli_parse_long(opt, item, min, max, &out[*n], err) < 0)
			return -1;
		(*n)++;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* Whether S is a finite number, whole (strtod's reading of it). */
static int
rate_number(const char *s)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(s, &end);
	return s[0] != '\0' && *end == '\0' && errno != ERANGE && isfinite(v);
}

/* A rate with an optional K, M or G suffix (bits/s) into kbit/s. */
static int
parse_rate(const char *s, double *kbps, struct vmtp_err *err)
{
	char num[64];
	size_t len = strlen(s);
	double mult = 1e-3;
	double v;

	if (len == 0 || len >= sizeof(num))
		return err_set(
		    err, VMTP_EXIT_USAGE, "--bandwidth: '%s' is not a rate", s);
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k':
	case 'K':
		mult = 1;
		num[--len] = '\0';
		break;
	case 'm':
	case 'M':
		mult = 1e3;
		num[--len] = '\0';
		break;
	case 'g':
	case 'G':
		mult = 1e6;
		num[--len] = '\0';
		break;
	}
	if (!rate_number(num))
		/* name the value as given, suffix and all ("5MM") */
		return err_set(err, VMTP_EXIT_USAGE,
		    "--bandwidth: '%s' is not a number", s);
	if (cli_parse_double("--bandwidth", num, 1e-9, 1e12, &v, err) < 0)
		return -1;
	*kbps = v * mult;
	if (*kbps < 1)
		return err_set(
		    err, VMTP_EXIT_USAGE, "--bandwidth: '%s' is below 1K", s);
	return 0;
}

static int
parse_range(const char *s, double *min, double *max, struct vmtp_err *err)
{
	char a[64];
	const char *comma = strchr(s, ',');

	if (comma == NULL || (size_t)(comma - s) >= sizeof(a))
		return err_set(err, VMTP_EXIT_USAGE,
		    "--udp-loss-range: '%s' is not min,max", s);
	memcpy(a, s, (size_t)(comma - s));
	a[comma - s] = '\0';
	if (cli_parse_double("--udp-loss-range", a, 0, 100, min, err) < 0 ||
	    cli_parse_double("--udp-loss-range", comma + 1, 0, 100, max, err) <
	        0)
		return -1;
	if (*min > *max)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--udp-loss-range: %s: min is above max", s);
	return 0;
}

/*
 * Copies the list of integers L (a configuration value) into OUT, when it
 * is set.  Returns 0, or -1 with ERR set naming KEY.
 */
static int
cfg_list(const json_t *l, const char *key, long long *out, int *n,
    struct vmtp_err *err)
{
	json_t *v;
	size_t i;

	if (l == NULL)
		return 0;
	if (!json_is_array(l) || json_array_size(l) > RUN_MAX_LIST)
		return err_set(err, VMTP_EXIT_DATA,
		    "configuration: %s: not a list of up to %d sizes", key,
		    RUN_MAX_LIST);
	*n = 0;
	json_array_foreach (l, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return err_set(err, VMTP_EXIT_DATA,
			    "configuration: %s: not a list of sizes", key);
		out[(*n)++] = json_integer_value(v);
	}
	return 0;
}

/* KEY of CFG, or of the built-in DEFS when CFG leaves it unset. */
static json_t *
cfg_pick(const json_t *cfg, const json_t *defs, const char *key)
{
	json_t *v = cfg_get(cfg, key);

	return v != NULL ? v : cfg_get(defs, key);
}

/* Count KEY of CFG, or of the built-in DEFS when CFG's is not positive. */
static int
cfg_count(const json_t *cfg, const json_t *defs, const char *key)
{
	long long v = cfg_int(cfg, key);

	return (int)(v > 0 ? v : cfg_int(defs, key));
}

/* Sets O's loss bracket from R when it is a pair of numbers. */
static int
loss_range(struct run_opts *o, const json_t *r)
{
	if (!json_is_array(r) || json_array_size(r) != 2 ||
	    !json_is_number(json_array_get(r, 0)) ||
	    !json_is_number(json_array_get(r, 1)))
		return -1;
	o->loss_min = json_number_value(json_array_get(r, 0));
	o->loss_max = json_number_value(json_array_get(r, 1));
	return 0;
}

/*
 * The options as the configuration CFG gives them, before the command
 * line.  A key CFG leaves unset (or not positive, or not a pair for the
 * loss range) has the built-in configuration's value: that is the one
 * place vmtp-run's defaults are written.  Returns 0 or -1 with ERR set.
 */
static int
opts_from_cfg(struct run_opts *o, const json_t *cfg, struct vmtp_err *err)
{
	json_t *defs = cfg_load_defaults(err);
	const char *tool;
	int rc = -1;

	if (defs == NULL)
		return -1;
	o->tcp_loops = cfg_count(cfg, defs, "tcp_tp_loop_count");
	o->ping_count = cfg_count(cfg, defs, "ping_count");
	o->ping_interval = cfg_num(cfg, "ping_interval") > 0
	                       ? cfg_num(cfg, "ping_interval")
	                       : cfg_num(defs, "ping_interval");
	o->attempts = cfg_count(cfg, defs, "ssh_retry_count");
	o->udp_final = cfg_bool(cfg, "udp_final");
	tool = cfg_str(cfg, "udp_probe_tool");
	if (tool == NULL)
		tool = cfg_str(defs, "udp_probe_tool");
	if (tool != NULL && strcmp(tool, "nuttcp") == 0)
		o->probe_tool = TOOL_NUTTCP;
	else if (tool != NULL && strcmp(tool, "iperf3") == 0)
		o->probe_tool = TOOL_IPERF3;
	else {
		err_set(err, VMTP_EXIT_DATA,
		    "configuration: udp_probe_tool: '%s' is not nuttcp or "
		    "iperf3",
		    tool != NULL ? tool : "");
		goto out;
	}
	/* the original's limit in kbps (its K is 1000 bit/s) */
	if (cfg_num(cfg, "vm_bandwidth") > 0)
		o->bandwidth_kbps = cfg_num(cfg, "vm_bandwidth");
	if (loss_range(o, cfg_get(cfg, "udp_loss_rate_range")) != 0)
		loss_range(o, cfg_get(defs, "udp_loss_rate_range"));
	if (cfg_list(cfg_pick(cfg, defs, "tcp_pkt_sizes"), "tcp_pkt_sizes",
	        o->tcpbuf, &o->n_tcpbuf, err) < 0 ||
	    cfg_list(cfg_pick(cfg, defs, "udp_pkt_sizes"), "udp_pkt_sizes",
	        o->udpbuf, &o->n_udpbuf, err) < 0 ||
	    cfg_list(cfg_pick(cfg, defs, "icmp_pkt_sizes"), "icmp_pkt_sizes",
	        o->icmp_sizes, &o->n_icmp, err) < 0)
		goto out;
	rc = 0;
out:
	json_decref(defs);
	return rc;
}

/*
 * The -c FILE option, found before the others so that they override it;
 * a usage error is left for parse_args() to report.
 */
static const char *
find_config(int argc, char **argv)
{
	struct vmtp_err ignored = VMTP_ERR_INIT;
	const char *cfg = NULL;
	int ch;

	while ((ch = opt_next(argc, argv, options, &ignored)) >= 0)
		if (ch == 'c')
			cfg = optarg;
		else if (ch == 0)
			break;
	optind = 0;
	return cfg;
}

/* --protocols: any of T, U, I and M, either case, into *OUT. */
static int
parse_protocols(const char *s, int *out, struct vmtp_err *err)
{
	const char *p;

	*out = 0;
	for (p = s; *p != '\0'; p++) {
		if (*p == 'T' || *p == 't')
			*out |= PROTO_TCP;
		else if (*p == 'U' || *p == 'u')
			*out |= PROTO_UDP;
		else if (*p == 'I' || *p == 'i')
			*out |= PROTO_ICMP;
		else if (*p == 'M' || *p == 'm')
			*out |= PROTO_MCAST;
		else
			return err_set(err, VMTP_EXIT_USAGE,
			    "--protocols: '%s' is not made of T, U, I and M",
			    s);
	}
	if (*out == 0)
		return err_set(err, VMTP_EXIT_USAGE, "--protocols: empty");
	return 0;
}

/* --multicast-addr: an IPv4 group, 224.0.0.0/4, into O. */
static int
parse_mcast(const char *s, struct run_opts *o, struct vmtp_err *err)
{
	struct in_addr a;

	if (strlen(s) >= sizeof(o->mcast_addr) ||
	    inet_pton(AF_INET, s, &a) != 1 || (ntohl(a.s_addr) >> 28) != 0xe)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--multicast-addr: '%s' is not an IPv4 multicast address",
		    s);
	snprintf(o->mcast_addr, sizeof(o->mcast_addr), "%s", s);
	o->mcast_given = 1;
	return 0;
}

/*
 * One option CH with a number or a list as its value (optarg) into O.
 * Returns 0, or -1 with ERR set.
 */
static int
parse_value(int ch, struct run_opts *o, struct vmtp_err *err)
{
	long long v = 0;
	int rc = 0;

	switch (ch) {
	case 't':
		rc = cli_parse_long("-t", optarg, 1, 86400, &v, err);
		o->seconds = (int)v;
		break;
	case OPT_BANDWIDTH:
		return parse_rate(optarg, &o->bandwidth_kbps, err);
	case OPT_CONCURRENCY:
		rc = cli_parse_long("--concurrency", optarg, 1, 1024, &v, err);
		o->concurrency = (int)v;
		break;
	case OPT_FLOWS:
		return parse_list("--flows", optarg, 1, 1000000, o->flows, 64,
		    &o->n_flows, err);
	case OPT_MCAST:
		return parse_mcast(optarg, o, err);
	case OPT_ICMP:
		return parse_list("--icmp-sizes", optarg, 0, 65507,
		    o->icmp_sizes, RUN_MAX_LIST, &o->n_icmp, err);
	case OPT_PING:
		rc = cli_parse_long("--ping-count", optarg, 1, 10000, &v, err);
		o->ping_count = (int)v;
		break;
	case OPT_PING_INTERVAL:
		return cli_parse_double("--ping-interval", optarg, 0.001, 3600,
		    &o->ping_interval, err);
	case OPT_LOOPS:
		rc = cli_parse_long("--tcp-loops", optarg, 1, 1000, &v, err);
		o->tcp_loops = (int)v;
		break;
	case OPT_TCPBUF:
		return parse_list("--tcpbuf", optarg, 1, 1 << 26, o->tcpbuf,
		    RUN_MAX_LIST, &o->n_tcpbuf, err);
	case OPT_LOSS:
		return parse_range(optarg, &o->loss_min, &o->loss_max, err);
	case OPT_UDPBUF:
		return parse_list("--udpbuf", optarg, 16, 65507, o->udpbuf,
		    RUN_MAX_LIST, &o->n_udpbuf, err);
	}
	return rc;
}

/*
 * Parses the command line into O, *PWFILE and *VERBOSITY.  Returns 0, 1
 * when --help or --version has been answered, or -1 with ERR set.
 */
static int
parse_args(int argc, char **argv, struct run_opts *o, const char **pwfile,
    int *verbosity, struct vmtp_err *err)
{
	static const char *const tools[] = {"nuttcp", "iperf3", NULL};
	static const char *const policies[] = {"strict", "accept-new", NULL};
	int ch;

	while ((ch = opt_next(argc, argv, options, err)) > 0) {
		switch (ch) {
		case 'c':
			break;
		case 'h':
			opt_print_help(stdout, synopsis, options);
			return 1;
		case 'q':
			*verbosity = LOG_QUIET;
			break;
		case 'v':
			*verbosity = LOG_DEBUG;
			break;
		case OPT_POLICY:
			o->policy = cli_parse_word(
			    "--hostkey-policy", optarg, policies, err);
			break;
		case OPT_KNOWN:
			o->known_hosts = optarg;
			break;
		case OPT_PROTOCOLS:
			parse_protocols(optarg, &o->protocols, err);
			break;
		case OPT_KEY:
			o->ssh_key = optarg;
			break;
		case OPT_PWFILE:
			*pwfile = optarg;
			break;
		case OPT_STOP:
			o->stop_on_error = 1;
			break;
		case OPT_TOOL:
			o->tool =
			    cli_parse_word("--tp-tool", optarg, tools, err);
			break;
		case OPT_FINAL:
			o->udp_final = 1;
			break;
		case OPT_PROBE_TOOL:
			o->probe_tool = cli_parse_word(
			    "--udp-probe-tool", optarg, tools, err);
			o->probe_tool_given = 1;
			break;
		case OPT_VERSION:
			cli_print_version(PROG);
			return 1;
		default:
			parse_value(ch, o, err);
		}
		if (err->exit != VMTP_EXIT_OK)
			return -1;
	}
	if (ch < 0)
		return -1;
	if (argc - optind > 1)
		return err_set(err, VMTP_EXIT_USAGE, "unexpected argument '%s'",
		    argv[optind + 1]);
	/* as the original: a group asks for multicast */
	if (o->mcast_given)
		o->protocols |= PROTO_MCAST;
	if (o->tool == TOOL_IPERF3 && o->probe_tool_given &&
	    o->probe_tool == TOOL_NUTTCP)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--udp-probe-tool nuttcp: conflicts with --tp-tool iperf3: "
		    "iperf3 probes its own search");
	/* the probes are the tool's own with iperf3 */
	if (o->tool == TOOL_IPERF3)
		o->probe_tool = TOOL_IPERF3;
	if ((o->protocols & PROTO_MCAST) && o->tool == TOOL_IPERF3)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--tp-tool iperf3: conflicts with %s: multicast needs "
		    "nuttcp",
		    o->mcast_given ? "--multicast-addr" : "--protocols M");
	return 0;
}

/* The slot of ID in SET: its own, or the free one it would take. */
static size_t
ids_slot(const struct run_ids *set, json_int_t id)
{
	size_t mask = set->cap - 1;
	/* Fibonacci hashing: ids that follow each other spread out */
	size_t i =
	    (size_t)(((unsigned long long)id * 0x9e3779b97f4a7c15ull) >> 32) &
	    mask;

	while (set->used[i] && set->id[i] != id)
		i = (i + 1) & mask;
	return i;
}

/*
 * Adds ID to SET.  Returns 1 when added, 0 when it was there already, -1
 * when out of memory (SET unchanged).
 */
static int
ids_add(struct run_ids *set, json_int_t id)
{
	size_t i, j;

	/* at most half full, so that a probe ends soon */
	if (2 * (set->n + 1) > set->cap) {
		struct run_ids grown = {0};

		grown.cap = set->cap > 0 ? 2 * set->cap : 256;
		grown.id = malloc(grown.cap * sizeof(*grown.id));
		grown.used = calloc(grown.cap, 1);
		if (grown.id == NULL || grown.used == NULL) {
			free(grown.id);
			free(grown.used);
			return -1;
		}
		for (i = 0; i < set->cap; i++)
			if (set->used[i]) {
				j = ids_slot(&grown, set->id[i]);
				grown.id[j] = set->id[i];
				grown.used[j] = 1;
			}
		grown.n = set->n;
		free(set->id);
		free(set->used);
		*set = grown;
	}
	i = ids_slot(set, id);
	if (set->used[i])
		return 0;
	set->id[i] = id;
	set->used[i] = 1;
	set->n++;
	return 1;
}

/*
 * Checks a record vmtp-run consumes; bad ones are bad input (65), named by
 * FILE:LINE and the field: a host needs a name and ssh.host, a flow an
 * integer id of its own, hosts given before it and a target, and both
 * belong to the run of the topology's first record.
 */
static int
check_record(struct run_ctx *ctx, const json_t *rec,
    const struct rec_reader *rd, struct vmtp_err *err)
{
	static const char *const flow_fields[] = {"client", "server", "target"};
	const char *type = rec_type(rec);
	const char *name = rec_reader_name(rd);
	const char *run = json_string_value(json_object_get(rec, "run"));
	long line = rec_reader_line(rd);
	json_int_t id;
	json_t *ssh;
	size_t f;
	int i;

	if (strcmp(type, "host") != 0 && strcmp(type, "flow") != 0)
		return 0;
	if (ctx->run_tag != NULL && run != NULL &&
	    strcmp(run, ctx->run_tag) != 0)
		return err_set(err, VMTP_EXIT_DATA,
		    "%s:%ld: a second run (%s) in the topology of %s", name,
		    line, run, ctx->run_tag);
	if (strcmp(type, "host") == 0) {
		ssh = json_object_get(rec, "ssh");
		if (!json_is_string(json_object_get(rec, "name")))
			return err_set(err, VMTP_EXIT_DATA,
			    "%s:%ld: host record has no \"name\"", name, line);
		if (!json_is_string(json_object_get(ssh, "host")))
			return err_set(err, VMTP_EXIT_DATA,
			    "%s:%ld: host record has no \"ssh\".\"host\"", name,
			    line);
		return 0;
	}
	if (!json_is_integer(json_object_get(rec, "id")))
		return err_set(err, VMTP_EXIT_DATA,
		    "%s:%ld: flow record has no \"id\"", name, line);
	for (f = 0; f < sizeof(flow_fields) / sizeof(flow_fields[0]); f++)
		if (!json_is_string(json_object_get(rec, flow_fields[f])))
			return err_set(err, VMTP_EXIT_DATA,
			    "%s:%ld: flow record has no \"%s\"", name, line,
			    flow_fields[f]);
	for (f = 0; f < 2; f++) {
		const char *h =
		    json_string_value(json_object_get(rec, flow_fields[f]));

		for (i = 0; i < ctx->n_hosts; i++)
			if (strcmp(ctx->hosts[i].name, h) == 0)
				break;
		if (i == ctx->n_hosts)
			return err_set(err, VMTP_EXIT_DATA,
			    "%s:%ld: flow names a host not given before it",
			    name, line);
	}
	id = json_integer_value(json_object_get(rec, "id"));
	switch (ids_add(&ctx->flow_ids, id)) {
	case 0:
		return err_set(err, VMTP_EXIT_DATA,
		    "%s:%ld: flow %" JSON_INTEGER_FORMAT " given twice", name,
		    line, id);
	case -1:
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	return 0;
}

static int
add_host(struct run_ctx *ctx, json_t *rec, struct vmtp_err *err)
{
	struct run_host *n = realloc(
	    ctx->hosts, (size_t)(ctx->n_hosts + 1) * sizeof(*ctx->hosts));

	if (n == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	ctx->hosts = n;
	memset(&n[ctx->n_hosts], 0, sizeof(*n));
	n[ctx->n_hosts].name =
	    strdup(json_string_value(json_object_get(rec, "name")));
	if (n[ctx->n_hosts].name == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	n[ctx->n_hosts].rec = json_incref(rec);
	ctx->n_hosts++;
	return 0;
}

static int
flow_selected(const struct run_opts *o, const json_t *flow)
{
	json_int_t id = json_integer_value(json_object_get(flow, "id"));
	int i;

	if (o->n_flows == 0)
		return 1;
	for (i = 0; i < o->n_flows; i++)
		if (o->flows[i] == id)
			return 1;
	return 0;
}

/*
 * A flow to measure, kept until it is: its record as compact JSON text,
 * parsed again when it runs (flow_parse), with what the order of the run
 * needs.  A mesh of N hosts has N x (N - 1) flows: kept as parsed records
 * they took most of vmtp-run's memory (about 1.3 KiB each: 5 MiB of the
 * 20 at 64 hosts), as text they take about 200 bytes each.
 */
struct run_flow {
	char *text;
	json_int_t round;   /* mesh round; 0: none */
	int client, server; /* indexes in run_ctx.hosts */
	double plan;        /* flow_plan_seconds() */
};

/* The flows to measure, in the order of the topology. */
struct run_flows {
	struct run_flow *v;
	size_t n, cap;
};

static void
flows_free(struct run_flows *fl)
{
	size_t i;

	for (i = 0; i < fl->n; i++)
		free(fl->v[i].text);
	free(fl->v);
	memset(fl, 0, sizeof(*fl));
}

/* The index of the host of CTX named NAME, or -1. */
static int
host_index(struct run_ctx *ctx, const char *name)
{
	struct run_host *h = name != NULL ? host_find(ctx, name) : NULL;

	return h != NULL ? (int)(h - ctx->hosts) : -1;
}

/*
 * Appends the flow record REC (a checked one: check_record) to FL.
 * Returns 0 or -1 with ERR set.
 */
static int
flows_add(struct run_ctx *ctx, struct run_flows *fl, const json_t *rec,
    struct vmtp_err *err)
{
	struct run_flow *f;

	if (fl->n == fl->cap) {
		size_t cap = fl->cap > 0 ? fl->cap * 2 : 64;
		struct run_flow *v = realloc(fl->v, cap * sizeof(*v));

		if (v == NULL)
			return err_set(err, VMTP_EXIT_FAIL, "out of memory");
		fl->v = v;
		fl->cap = cap;
	}
	f = &fl->v[fl->n];
	f->text = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(17));
	if (f->text == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	f->round = json_integer_value(json_object_get(rec, "round"));
	f->client =
	    host_index(ctx, json_string_value(json_object_get(rec, "client")));
	f->server =
	    host_index(ctx, json_string_value(json_object_get(rec, "server")));
	f->plan = flow_plan_seconds(ctx->o, rec);
	fl->n++;
	return 0;
}

/*
 * The record of flow F, parsed again.  Returns a new reference, or NULL
 * with ERR set.
 */
static json_t *
flow_parse(const struct run_flow *f, struct vmtp_err *err)
{
	json_t *rec = json_loads(f->text, 0, NULL);

	if (rec == NULL)
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return rec;
}

/*
 * Keeps what vmtp-run needs of REC: the first run tag and the hosts in
 * CTX, a selected flow in FLOWS, its planned seconds added to *PLANNED.
 * Returns 0 or -1 with ERR set.
 */
static int
take_record(struct run_ctx *ctx, json_t *rec, struct run_flows *flows,
    double *planned, struct vmtp_err *err)
{
	const char *type = rec_type(rec);
	const char *run = json_string_value(json_object_get(rec, "run"));

	if (ctx->run_tag == NULL && run != NULL) {
		ctx->run_tag = strdup(run);
		if (ctx->run_tag == NULL)
			return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	if (strcmp(type, "host") == 0)
		return add_host(ctx, rec, err);
	if (strcmp(type, "flow") != 0 || !flow_selected(ctx->o, rec))
		return 0;
	if (flows_add(ctx, flows, rec, err) < 0)
		return -1;
	*planned += flows->v[flows->n - 1].plan;
	return 0;
}

/*
 * Passes every record of RD on, taking what vmtp-run needs of it
 * (take_record).  Flows are measured after the input ends, so that the
 * progress line knows how many there are.  Returns 0 or -1 with ERR set.
 */
static int
read_topology(struct rec_reader *rd, struct run_ctx *ctx,
    struct run_flows *flows, double *planned, struct vmtp_err *err)
{
	json_t *rec = NULL;
	int rc;

	while ((rc = rec_next(rd, &rec, err)) == 1) {
		if (check_record(ctx, rec, rd, err) < 0 ||
		    rec_pass(rd, stdout, err) < 0 ||
		    take_record(ctx, rec, flows, planned, err) < 0)
			rc = -1;
		json_decref(rec);
		if (rc < 0 || got_signal)
			break;
	}
	/* a signal that came while reading stops the read (EINTR) or the
	 * input's end: either way the run was interrupted */
	if (got_signal) {
		err_clear(err);
		return err_set(err, VMTP_EXIT_FAIL, "interrupted");
	}
	return rc < 0 ? -1 : 0;
}

/* One flow of a batch, measured on a thread of its own. */
struct batch_item {
	struct run_ctx *ctx;
	struct flow_job *job;
	pthread_t thread;
	int started;
	int rc;
	struct vmtp_err err;
};

static void *
measure_main(void *arg)
{
	struct batch_item *it = arg;

	it->rc = flow_measure(it->ctx, it->job, &it->err);
	return NULL;
}

/*
 * Measures the N flows of F at once: each prepared on this thread (its
 * hosts' sessions, tool and server), then measured on a thread of its own
 * (the caller sees that no two share a client).  Returns 0, or -1 with
 * ERR set to the first error that stops the run.
 */
static int
run_batch(struct run_ctx *ctx, json_t *const *f, size_t n, struct vmtp_err *err)
{
	struct batch_item *it = calloc(n + 1, sizeof(*it));
	size_t i, ready = 0;
	int rc = 0;

	if (it == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	for (i = 0; i < n && rc == 0; i++) {
		it[i].ctx = ctx;
		it[i].job = flow_prepare(ctx, f[i], err);
		if (it[i].job == NULL)
			rc = -1;
		else
			ready++;
	}
	for (i = 0; i < ready; i++)
		if (pthread_create(&it[i].thread, NULL, measure_main, &it[i]) ==
		    0)
			it[i].started = 1;
		else
			measure_main(&it[i]); /* no thread: measured here */
	for (i = 0; i < ready; i++) {
		if (it[i].started)
			pthread_join(it[i].thread, NULL);
		if (it[i].rc < 0 && rc == 0) {
			err_set(err, it[i].err.exit, "%s", it[i].err.msg);
			rc = -1;
		}
		flow_job_free(it[i].job);
	}
	free(it);
	return rc;
}

/* Whether flows A and B are the two ways of one pair of hosts, or one. */
static int
same_pair(const json_t *a, const json_t *b)
{
	const char *ac = json_string_value(json_object_get(a, "client"));
	const char *as = json_string_value(json_object_get(a, "server"));
	const char *bc = json_string_value(json_object_get(b, "client"));
	const char *bs = json_string_value(json_object_get(b, "server"));

	if (ac == NULL || as == NULL || bc == NULL || bs == NULL)
		return 0;
	return (strcmp(ac, bc) == 0 && strcmp(as, bs) == 0) ||
	       (strcmp(ac, bs) == 0 && strcmp(as, bc) == 0);
}

/* Whether one of the N flows of F has FLOW's client as its client. */
static int
client_busy(json_t *const *f, size_t n, const json_t *flow)
{
	const char *c = json_string_value(json_object_get(flow, "client"));
	size_t i;

	for (i = 0; c != NULL && i < n; i++)
		if (strcmp(c, json_string_value(
		                  json_object_get(f[i], "client"))) == 0)
			return 1;
	return 0;
}

/*
 * Measures the N flows of one mesh round, F: at most K pairs at once
 * (--concurrency; 0: the whole round), both ways of a pair together.  A
 * flow whose client is already measuring in the batch (a round that is
 * not a tournament's) waits for the next batch.  Returns 0, or -1 with
 * ERR set.
 */
static int
run_round(struct run_ctx *ctx, json_t *const *f, size_t n, struct vmtp_err *err)
{
	int k = ctx->o->concurrency;
	size_t start = 0, i, j;
	int pairs = 0;

	for (i = 0; i < n; i++) {
		int new_pair = 1;

		for (j = start; j < i; j++)
			if (same_pair(f[j], f[i]))
				new_pair = 0;
		if (i > start && ((new_pair && k > 0 && pairs == k) ||
		                     client_busy(f + start, i - start, f[i]))) {
			if (run_batch(ctx, f + start, i - start, err) < 0)
				return -1;
			start = i;
			pairs = 0;
			new_pair = 1;
		}
		pairs += new_pair;
	}
	return run_batch(ctx, f + start, n - start, err);
}

/*
 * run_round() of the N flows of FLOWS from index I, their records parsed
 * for the round only.  Returns as it does.
 */
static int
round_run(struct run_ctx *ctx, const struct run_flows *flows, size_t i,
    size_t n, struct vmtp_err *err)
{
	json_t **f = calloc(n + 1, sizeof(*f));
	size_t k;
	int rc = -1;

	if (f == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	for (k = 0; k < n; k++)
		if ((f[k] = flow_parse(&flows->v[i + k], err)) == NULL)
			goto out;
	rc = run_round(ctx, f, n, err);
out:
	for (k = 0; k < n; k++)
		json_decref(f[k]);
	free(f);
	return rc;
}

/* flow_run() of flow I of FLOWS alone, logging its progress: the Ith
 * of them, ETA seconds left.  Returns as flow_run() does. */
static int
single_run(struct run_ctx *ctx, const struct run_flows *flows, size_t i,
    long eta, struct vmtp_err *err)
{
	json_t *f = flow_parse(&flows->v[i], err);
	int rc;

	if (f == NULL)
		return -1;
	log_progress("flow %zu/%zu (%s), ETA %ld:%02ld", i + 1, flows->n,
	    json_string_value(json_object_get(f, "desc")), eta / 60, eta % 60);
	rc = flow_run(ctx, f, err);
	json_decref(f);
	return rc;
}

/*
 * Measures FLOWS, the progress line telling the time left of PLANNED
 * seconds: one at a time, except the flows of a mesh round, which run at
 * once (run_round) unless --concurrency 1 or Multicast (its routes are set
 * on both hosts of a flow) asks for one at a time.  Returns 0 or -1 with
 * ERR set (a failed measurement is an error sample, counted in CTX, not
 * an error here).
 */
static int
measure(struct run_ctx *ctx, const struct run_flows *flows, double planned,
    struct vmtp_err *err)
{
	int together = ctx->o->concurrency != 1;
	size_t nflows = flows->n;
	time_t started = time(NULL);
	double done = 0;
	size_t i, n;

	/* every host a flow uses logged in at once, side by side */
	for (i = 0; i < nflows; i++) {
		if (flows->v[i].client >= 0)
			ctx->hosts[flows->v[i].client].wanted = 1;
		if (flows->v[i].server >= 0)
			ctx->hosts[flows->v[i].server].wanted = 1;
	}
	host_login_all(ctx);
	if (got_signal)
		return err_set(err, VMTP_EXIT_FAIL, "interrupted");
	if (together && (ctx->o->protocols & PROTO_MCAST) && nflows > 0 &&
	    flows->v[0].round != 0) {
		log_info("Multicast: a mesh round's flows run one at a time "
		         "(its routes are set on both hosts of a flow)");
		together = 0;
	}
	for (i = 0; i < nflows; i += n) {
		json_int_t r;
		long eta = (long)(planned - done);
		size_t k;

		r = flows->v[i].round;
		/* the flows of this round, or this flow alone */
		for (n = 1; together && r != 0 && i + n < nflows &&
		            flows->v[i + n].round == r;
		     n++)
			;
		if (done > 0)
			eta = (long)((double)(time(NULL) - started) / done *
			             (planned - done));
		if (n > 1)
			log_progress(
			    "round %lld: flows %zu-%zu/%zu, ETA %ld:%02ld",
			    (long long)r, i + 1, i + n, nflows, eta / 60,
			    eta % 60);
		if ((n > 1 ? round_run(ctx, flows, i, n, err)
		           : single_run(ctx, flows, i, eta, err)) < 0)
			return -1;
		/* the ETA's ratio of time to plan takes in the concurrency */
		for (k = 0; k < n; k++)
			done += flows->v[i + k].plan;
	}
	log_progress_end();
	if (nflows == 0)
		log_warn("no flow to measure");
	return 0;
}

/* Stops the server tool and frees what CTX holds; CTX itself is not. */
static void
ctx_clear(struct run_ctx *ctx)
{
	int k;

	host_stop_servers(ctx);
	for (k = 0; k < ctx->n_hosts; k++) {
		host_mroute_del(ctx, &ctx->hosts[k]);
		ssh_close(ctx->hosts[k].conn);
		free(ctx->hosts[k].name);
		json_decref(ctx->hosts[k].rec);
		free(ctx->hosts[k].tool_path[0]);
		free(ctx->hosts[k].tool_path[1]);
		free(ctx->hosts[k].tool_version[0]);
		free(ctx->hosts[k].tool_version[1]);
	}
	free(ctx->hosts);
	free((char *)ctx->run_tag);
	free(ctx->flow_ids.id);
	free(ctx->flow_ids.used);
}

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct run_opts o = {0};
	struct run_ctx ctx = {0};
	struct rec_reader *rd = NULL;
	const char *pwfile = NULL;
	json_t *cfg = NULL;
	struct run_flows flows = {0};
	double planned = 0;
	int verbosity = LOG_INFO;

	log_init(PROG, LOG_INFO);
	/* one malloc arena for all threads: a mesh round's threads allocate
	 * little, and glibc's arena a thread (up to 8 a core) held 5 % more
	 * memory at 32 hosts */
	mallopt(M_ARENA_MAX, 1);
	/* what the configuration does not give (opts_from_cfg) */
	o.seconds = 10;
	o.protocols = PROTO_TCP | PROTO_UDP | PROTO_ICMP;
	o.ceiling_kbps = 10e6; /* the search's start when unlimited */
	snprintf(o.mcast_addr, sizeof(o.mcast_addr), "%s", "231.1.1.1");
	o.connect_timeout_ms = 10000;
	o.stop = &got_signal;
	cfg = cfg_load(find_config(argc, argv), &err);
	if (cfg == NULL || opts_from_cfg(&o, cfg, &err) < 0 ||
	    parse_args(argc, argv, &o, &pwfile, &verbosity, &err) != 0)
		goto out;
	log_init(PROG, verbosity);
	if (cli_warn_ignored(cfg, CFG_STAGE_RUN, &err) != 0)
		goto out;
	o.password = ssh_password_load(pwfile, &err);
	if (err.exit != VMTP_EXIT_OK)
		goto out;
	/* before any record is read or passed on, as the password file */
	if ((o.ssh_key != NULL &&
	        cli_check_file("--ssh-key", o.ssh_key, 0, &err) != 0) ||
	    (o.known_hosts != NULL &&
	        cli_check_file("--known-hosts", o.known_hosts, 1, &err) != 0))
		goto out;
	cli_catch_stop_signals(on_signal);
	signal(SIGPIPE, SIG_IGN);

	rd = rec_reader_open(optind < argc ? argv[optind] : "-", &err);
	if (rd == NULL)
		goto out;
	ctx.o = &o;
	ctx.out = stdout;
	pthread_mutex_init(&ctx.lock, NULL);
	if (read_topology(rd, &ctx, &flows, &planned, &err) == 0)
		measure(&ctx, &flows, planned, &err);
out:
	log_progress_end();
	ctx_clear(&ctx);
	flows_free(&flows);
	json_decref(cfg);
	rec_reader_free(rd);
	ssh_password_free(o.password);
	cli_flush_stdout(&err);
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	if (err.exit == VMTP_EXIT_USAGE)
		fputs(synopsis, stderr);
	else if (err.exit == VMTP_EXIT_OK && ctx.errors > 0)
		err.exit = VMTP_EXIT_FLOWS;
	return err.exit;
}
