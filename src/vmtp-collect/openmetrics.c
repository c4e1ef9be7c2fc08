/*
 * openmetrics.c - a run's results in the OpenMetrics text format (see
 * openmetrics.h; SPEC §4 sample fields).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/flow.h"
#include "libvmtp/rec.h"

#include "openmetrics.h"

/* The figures, one gauge family each. */
enum om_fam {
	F_THROUGHPUT,
	F_LOSS,
	F_RTT,
	F_JITTER,
	F_RETRANS,
	F_ERRORS,
	F_COUNT
};

/* The statistics of a round-trip time; other families have only the first. */
enum om_stat { S_AVG, S_MIN, S_MAX, S_P50, S_P99, S_STDDEV, S_COUNT };

static const char *const stat_names[S_COUNT] = {
    "avg", "min", "max", "p50", "p99", "stddev"};

struct om_family {
	const char *name; /* with its unit */
	const char *unit; /* NULL: a count */
	const char *help;
	int sum; /* the series is the sum of its samples, not their mean */
};

static const struct om_family families[F_COUNT] = {
    [F_THROUGHPUT] = {"vmtp_throughput_bytes_per_second", "bytes_per_second",
        "Throughput received, the mean of the flow's measurements (TCP: of "
        "its loops)",
        0},
    [F_LOSS] = {"vmtp_loss_ratio", "ratio",
        "Packets lost: UDP at the rate found, ICMP of the pings sent", 0},
    [F_RTT] = {"vmtp_rtt_seconds", "seconds",
        "Round-trip time: ICMP by statistic, TCP the mean of the sender's "
        "estimates",
        0},
    [F_JITTER] = {"vmtp_jitter_seconds", "seconds",
        "UDP jitter at the rate found", 0},
    [F_RETRANS] = {"vmtp_tcp_retransmits", NULL,
        "TCP segments retransmitted, over all loops", 1},
    [F_ERRORS] = {"vmtp_errors", NULL,
        "Measurements that failed (an error sample)", 1},
};

/* One series: a flow, protocol, packet size and direction. */
struct om_series {
	char *labels; /* run="...",flow="...",... */
	double sum[F_COUNT][S_COUNT];
	long n[F_COUNT][S_COUNT];
};

struct om_set {
	struct om_series *v;
	size_t n, cap;
	json_t *index; /* labels -> position in v */
	json_t *flows; /* "run/id" -> flow record (the last of that id) */
	json_t *hosts; /* "run/name" -> host record (the last of that name) */
};

/* Appends S to FP escaped as an OpenMetrics label value (or, with HELP,
 * as help text, where '"' stays). */
static void
put_escaped(FILE *fp, const char *s, int help)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else if (*s == '"' && !help)
			fputs("\\\"", fp);
		else
			putc(*s, fp);
	}
}

/* Appends the label NAME="VALUE" (VALUE NULL reads as "") to FP, after a
 * comma unless FIRST. */
static void
put_label(FILE *fp, const char *name, const char *value, int first)
{
	fprintf(fp, "%s%s=\"", first ? "" : ",", name);
	put_escaped(fp, value != NULL ? value : "", 0);
	putc('"', fp);
}

/* Returns the string of KEY in OBJ, or NULL. */
static const char *
str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Whether REC is a record of TYPE (a released one, null, is none). */
static int
is_type(const json_t *rec, const char *type)
{
	const char *t = rec_type(rec);

	return t != NULL && strcmp(t, type) == 0;
}

/* The host record of NAME in RUN, or NULL. */
static const json_t *
host_of(const struct om_set *set, const char *run, const char *name)
{
	char key[512];

	if (name == NULL)
		return NULL;
	snprintf(key, sizeof(key), "%s/%s", run, name);
	return json_object_get(set->hosts, key);
}

/*
 * Returns the label text of sample S of RUN, a new string, or NULL when out
 * of memory.  A sample of a flow the input never described is labelled
 * with its id alone.
 */
static char *
labels_new(const struct om_set *set, const char *run, const json_t *s)
{
	json_int_t id = json_integer_value(json_object_get(s, "flow"));
	const char *dir = str_of(s, "direction");
	int reverse = dir != NULL && strcmp(dir, "reverse") == 0;
	const json_t *flow, *client, *server;
	char key[512], idtext[32], size[32];
	char *label = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	snprintf(key, sizeof(key), "%s/%lld", run, (long long)id);
	flow = json_object_get(set->flows, key);
	client = host_of(set, run, str_of(flow, "client"));
	server = host_of(set, run, str_of(flow, "server"));
	if (flow != NULL) {
		label = flow_label(str_of(flow, "desc"),
		    flow_family_of(str_of(flow, "target")), reverse);
		if (label == NULL)
			return NULL;
	}
	snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
	size[0] = '\0';
	if (json_is_integer(json_object_get(s, "pkt_size")))
		snprintf(size, sizeof(size), "%lld",
		    (long long)json_integer_value(
		        json_object_get(s, "pkt_size")));
	fp = open_memstream(&out, &len);
	if (fp == NULL) {
		free(label);
		return NULL;
	}
	put_label(fp, "run", run, 1);
	put_label(fp, "flow", label, 0);
	put_label(fp, "flow_id", idtext, 0);
	put_label(fp, "client", str_of(flow, "client"), 0);
	put_label(fp, "client_az", str_of(client, "az"), 0);
	put_label(fp, "server", str_of(flow, "server"), 0);
	put_label(fp, "server_az", str_of(server, "az"), 0);
	put_label(fp, "protocol", str_of(s, "protocol"), 0);
	put_label(fp, "pkt_size", size, 0);
	put_label(fp, "direction", reverse ? "reverse" : "forward", 0);
	free(label);
	if (fclose(fp) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Returns the series of LABELS in SET, added when new (taking LABELS), or
 * NULL when out of memory (LABELS freed). */
static struct om_series *
series_get(struct om_set *set, char *labels)
{
	json_t *at = json_object_get(set->index, labels);
	struct om_series *s;

	if (at != NULL) {
		free(labels);
		return &set->v[json_integer_value(at)];
	}
	if (set->n == set->cap) {
		size_t cap = set->cap != 0 ? 2 * set->cap : 64;
		struct om_series *v = realloc(set->v, cap * sizeof(*v));

		if (v == NULL) {
			free(labels);
			return NULL;
		}
		set->v = v;
		set->cap = cap;
	}
	if (json_object_set_new(
	        set->index, labels, json_integer((json_int_t)set->n)) != 0) {
		free(labels);
		return NULL;
	}
	s = &set->v[set->n++];
	memset(s, 0, sizeof(*s));
	s->labels = labels;
	return s;
}

/* Adds V (when a number in SAMPLE's KEY, times SCALE) to S's figure F. */
static void
add(struct om_series *s, enum om_fam f, enum om_stat st, const json_t *sample,
    const char *key, double scale)
{
	const json_t *v = json_object_get(sample, key);

	if (!json_is_number(v))
		return;
	s->sum[f][st] += json_number_value(v) * scale;
	s->n[f][st]++;
}

/* Adds the figures of SAMPLE to S. */
static void
add_sample(struct om_series *s, const json_t *sample)
{
	const char *proto = str_of(sample, "protocol");
	/* throughput_kbps is Mbit/s x 1024 (SPEC §4) */
	const double kbps = 1e6 / 1024 / 8;
	const json_t *tx = json_object_get(sample, "tx_packets");
	const json_t *rx = json_object_get(sample, "rx_packets");

	s->n[F_ERRORS][S_AVG] = 1; /* every series says how many failed */
	if (json_object_get(sample, "error") != NULL) {
		s->sum[F_ERRORS][S_AVG] += 1;
		return;
	}
	if (proto == NULL)
		return;
	add(s, F_THROUGHPUT, S_AVG, sample, "throughput_kbps", kbps);
	if (strcmp(proto, "UDP") == 0) {
		add(s, F_LOSS, S_AVG, sample, "loss_rate", 0.01);
		add(s, F_JITTER, S_AVG, sample, "jitter_ms", 0.001);
	} else if (strcmp(proto, "TCP") == 0) {
		add(s, F_RTT, S_AVG, sample, "rtt_ms", 0.001);
		add(s, F_RETRANS, S_AVG, sample, "retrans", 1);
	} else if (strcmp(proto, "ICMP") == 0) {
		add(s, F_RTT, S_AVG, sample, "rtt_avg_ms", 0.001);
		add(s, F_RTT, S_MIN, sample, "rtt_min_ms", 0.001);
		add(s, F_RTT, S_MAX, sample, "rtt_max_ms", 0.001);
		add(s, F_RTT, S_P50, sample, "rtt_p50_ms", 0.001);
		add(s, F_RTT, S_P99, sample, "rtt_p99_ms", 0.001);
		add(s, F_RTT, S_STDDEV, sample, "rtt_stddev_ms", 0.001);
		if (json_is_number(tx) && json_is_number(rx) &&
		    json_number_value(tx) > 0) {
			s->sum[F_LOSS][S_AVG] +=
			    1 - json_number_value(rx) / json_number_value(tx);
			s->n[F_LOSS][S_AVG]++;
		}
	}
}

/* Indexes REC (a flow or host record of RUN) in MAP under "run/KEY". */
static int
index_rec(json_t *map, const char *run, json_t *rec, const char *key)
{
	const json_t *k = json_object_get(rec, key);
	char name[512];

	if (json_is_integer(k))
		snprintf(name, sizeof(name), "%s/%lld", run,
		    (long long)json_integer_value(k));
	else if (json_is_string(k))
		snprintf(
		    name, sizeof(name), "%s/%s", run, json_string_value(k));
	else
		return 0;
	return json_object_set(map, name, rec);
}

/* Returns the time of DATE ("2026-11-28T10:00:00Z", or with a space, as
 * the original wrote it) in seconds since the epoch, or -1. */
static double
run_time(const char *date)
{
	struct tm tm = {0};
	const char *end;

	if (date == NULL)
		return -1;
	end = strptime(date, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		end = strptime(date, "%Y-%m-%d %H:%M:%S", &tm);
	if (end == NULL)
		return -1;
	return (double)timegm(&tm);
}

/* Writes family F's metadata and every series of SET that has F; nothing
 * when none has it. */
static void
write_family(FILE *fp, const struct om_set *set, enum om_fam f)
{
	const struct om_family *fam = &families[f];
	size_t i;
	int st;
	int any = 0;

	for (i = 0; i < set->n && !any; i++)
		for (st = 0; st < S_COUNT; st++)
			any |= set->v[i].n[f][st] != 0;
	if (!any)
		return;
	fprintf(fp, "# HELP %s ", fam->name);
	put_escaped(fp, fam->help, 1);
	fprintf(fp, "\n# TYPE %s gauge\n", fam->name);
	if (fam->unit != NULL)
		fprintf(fp, "# UNIT %s %s\n", fam->name, fam->unit);
	for (i = 0; i < set->n; i++) {
		const struct om_series *s = &set->v[i];

		for (st = 0; st < S_COUNT; st++) {
			double v;

			if (s->n[f][st] == 0)
				continue;
			v = fam->sum ? s->sum[f][st]
			             : s->sum[f][st] / (double)s->n[f][st];
			fprintf(fp, "%s{%s", fam->name, s->labels);
			if (f == F_RTT)
				put_label(fp, "stat", stat_names[st], 0);
			fprintf(fp, "} %.15g\n", v);
		}
	}
}

/* Writes the time of every run in RECORDS that has a date.  Returns 0,
 * or -1 when out of memory. */
static int
write_runs(FILE *fp, const json_t *records)
{
	const char *name = "vmtp_run_timestamp_seconds";
	json_t *rec = NULL;
	size_t i;
	int head = 0;

	for (i = 0; i < json_array_size(records); i++) {
		double t;

		json_decref(rec);
		if ((rec = rec_at(records, i)) == NULL)
			return -1;
		if (!is_type(rec, "run") ||
		    (t = run_time(str_of(rec, "date"))) < 0)
			continue;
		if (!head) {
			fprintf(fp,
			    "# HELP %s When the run started\n"
			    "# TYPE %s gauge\n# UNIT %s seconds\n",
			    name, name, name);
			head = 1;
		}
		fprintf(fp, "%s{", name);
		put_label(fp, "run", str_of(rec, "run"), 1);
		fprintf(fp, "} %.15g\n", t);
	}
	json_decref(rec);
	return 0;
}

static void
set_clear(struct om_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		free(set->v[i].labels);
	free(set->v);
	json_decref(set->index);
	json_decref(set->flows);
	json_decref(set->hosts);
}

int
openmetrics_write(FILE *fp, const json_t *records, struct vmtp_err *err)
{
	struct om_set set = {0};
	json_t *rec = NULL;
	size_t i;
	int f;
	int rc = -1;

	set.index = json_object();
	set.flows = json_object();
	set.hosts = json_object();
	if (set.index == NULL || set.flows == NULL || set.hosts == NULL)
		goto oom;
	/* records packed or not (rec_at()): each read once a pass */
	for (i = 0; i < json_array_size(records); i++) {
		const char *run;

		json_decref(rec);
		if ((rec = rec_at(records, i)) == NULL)
			goto oom;
		run = str_of(rec, "run");
		if (run == NULL)
			continue;
		if ((is_type(rec, "flow") &&
		        index_rec(set.flows, run, rec, "id") != 0) ||
		    (is_type(rec, "host") &&
		        index_rec(set.hosts, run, rec, "name") != 0))
			goto oom;
	}
	for (i = 0; i < json_array_size(records); i++) {
		const char *run;
		struct om_series *s;
		char *labels;

		json_decref(rec);
		if ((rec = rec_at(records, i)) == NULL)
			goto oom;
		run = str_of(rec, "run");
		if (run == NULL || !is_type(rec, "sample"))
			continue;
		labels = labels_new(&set, run, rec);
		if (labels == NULL || (s = series_get(&set, labels)) == NULL)
			goto oom;
		add_sample(s, rec);
	}
	for (f = 0; f < F_COUNT; f++)
		write_family(fp, &set, (enum om_fam)f);
	if (write_runs(fp, records) != 0)
		goto oom;
	fputs("# EOF\n", fp);
	if (fflush(fp) != 0 || ferror(fp)) {
		if (errno == 0)
			errno = EIO;
		goto out;
	}
	rc = 0;
	goto out;
oom:
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
out:
	json_decref(rec);
	set_clear(&set);
	return rc;
}
