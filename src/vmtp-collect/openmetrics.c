/*
 * openmetrics.c - a run's results in the OpenMetrics text format (see
 * openmetrics.h; SPEC §4 sample fields).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "libvmtp/array.h"
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

/*
 * A figure's slot in a series: one a family, and one for each of the round
 * trip time's other statistics.
 */
#define NSLOT (F_COUNT + S_COUNT - 1)

static int
slot(enum om_fam f, enum om_stat st)
{
	return st == S_AVG ? (int)f : F_COUNT + (int)st - 1;
}

/* What a series measures, by its protocol: which figures it can have. */
enum om_kind { K_OTHER, K_TCP, K_UDP, K_ICMP, K_COUNT };

#define BIT(f, st) (1U << slot(f, st))

/* The figures (their slots' bits: a family's first statistic is its own
 * number, the round-trip time's others follow F_COUNT) a series of each
 * kind can have. */
static const unsigned kind_slots[K_COUNT] = {
    [K_OTHER] = (1U << F_THROUGHPUT) | (1U << F_ERRORS),
    [K_TCP] = (1U << F_THROUGHPUT) | (1U << F_RTT) | (1U << F_RETRANS) |
              (1U << F_ERRORS),
    [K_UDP] = (1U << F_THROUGHPUT) | (1U << F_LOSS) | (1U << F_JITTER) |
              (1U << F_ERRORS),
    [K_ICMP] = (1U << F_THROUGHPUT) | (1U << F_LOSS) | (1U << F_RTT) |
               (1U << F_ERRORS) | ((1U << NSLOT) - (1U << F_COUNT)),
};

/*
 * One series: a flow of a run, protocol, packet size and direction; its
 * labels are made when it is written, from its flow's record.  Its
 * figures, a sum and a count each, are those its kind can have, in slot
 * order from fig in the set's sums and counts (a mesh has tens of
 * thousands of series, most with 4 figures of the 11).
 */
struct om_series {
	const char *run;   /* held in the set's strings (rec_str_hold()) */
	const char *proto; /* held there too; NULL: none */
	json_int_t flow;
	json_int_t size; /* -1: none */
	int reverse;
	enum om_kind kind;
	size_t fig;
};

struct om_set {
	const json_t *records; /* borrowed */
	struct om_series *v;
	size_t n;
	double *sum;   /* the series' figures (fig) */
	unsigned *cnt; /* how many samples each sums */
	size_t nfig;
	size_t capfig;
	size_t *table;   /* series positions + 1 by hash (0: none), or NULL */
	size_t nslots;   /* the table's size: a power of two, over 2 n */
	json_t *strings; /* run tags and protocols, each held once */
	json_t *flows;   /* "run/id" -> position of its (last) flow record */
	json_t *hosts;   /* "run/name" -> its (last) host record's az */
	/* the flow record last read for labels, at position at */
	json_t *flow;
	size_t at;
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

/* The placement (az) of host NAME in RUN, or NULL. */
static const char *
az_of(const struct om_set *set, const char *run, const char *name)
{
	char key[512];

	if (name == NULL)
		return NULL;
	snprintf(key, sizeof(key), "%s/%s", run, name);
	return json_string_value(json_object_get(set->hosts, key));
}

/*
 * The flow record of flow ID of RUN, the last of that id read (borrowed:
 * valid until the next call), or NULL when the input never described it;
 * SET->flow when that is the one.  Returns 0, or -1 when out of memory.
 */
static int
flow_of(struct om_set *set, const char *run, json_int_t id, const json_t **flow)
{
	const json_t *at;
	char key[512];

	snprintf(key, sizeof(key), "%s/%lld", run, (long long)id);
	at = json_object_get(set->flows, key);
	*flow = NULL;
	if (at == NULL)
		return 0;
	if (set->flow == NULL || set->at != (size_t)json_integer_value(at)) {
		json_decref(set->flow);
		set->at = (size_t)json_integer_value(at);
		if ((set->flow = rec_at(set->records, set->at)) == NULL)
			return -1;
	}
	*flow = set->flow;
	return 0;
}

/*
 * Writes the labels of series S to FP.  A series of a flow the input never
 * described is labelled with its id alone.  Returns 0, or -1 when out of
 * memory.
 */
static int
put_labels(FILE *fp, struct om_set *set, const struct om_series *s)
{
	const json_t *flow;
	char idtext[32], size[32];
	char *label = NULL;

	if (flow_of(set, s->run, s->flow, &flow) != 0)
		return -1;
	if (flow != NULL) {
		label = flow_label(str_of(flow, "desc"),
		    flow_family_of(str_of(flow, "target")), s->reverse);
		if (label == NULL)
			return -1;
	}
	snprintf(idtext, sizeof(idtext), "%lld", (long long)s->flow);
	size[0] = '\0';
	if (s->size >= 0)
		snprintf(size, sizeof(size), "%lld", (long long)s->size);
	put_label(fp, "run", s->run, 1);
	put_label(fp, "flow", label, 0);
	put_label(fp, "flow_id", idtext, 0);
	put_label(fp, "client", str_of(flow, "client"), 0);
	put_label(
	    fp, "client_az", az_of(set, s->run, str_of(flow, "client")), 0);
	put_label(fp, "server", str_of(flow, "server"), 0);
	put_label(
	    fp, "server_az", az_of(set, s->run, str_of(flow, "server")), 0);
	put_label(fp, "protocol", s->proto, 0);
	put_label(fp, "pkt_size", size, 0);
	put_label(fp, "direction", s->reverse ? "reverse" : "forward", 0);
	free(label);
	return 0;
}

/* The hash of series S's key (held strings stand for themselves). */
static size_t
series_hash(const struct om_series *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a over the fields */
	uint64_t f[] = {(uintptr_t)s->run, (uintptr_t)s->proto,
	    (uint64_t)s->flow, (uint64_t)s->size, (uint64_t)s->reverse};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		h = (h ^ f[i]) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

static int
same_series(const struct om_series *a, const struct om_series *b)
{
	return a->run == b->run && a->proto == b->proto && a->flow == b->flow &&
	       a->size == b->size && a->reverse == b->reverse;
}

/* The table slot of KEY in SET: its series', or the empty one it goes in. */
static size_t *
slot_of(const struct om_set *set, const struct om_series *key)
{
	size_t i = series_hash(key) & (set->nslots - 1);

	while (
	    set->table[i] != 0 && !same_series(&set->v[set->table[i] - 1], key))
		i = (i + 1) & (set->nslots - 1);
	return &set->table[i];
}

/* Makes SET's table twice as large (16 slots at first).  0 or -1. */
static int
table_grow(struct om_set *set)
{
	size_t n = set->nslots != 0 ? 2 * set->nslots : 16;
	size_t *old = set->table;
	size_t i;

	set->table = calloc(n, sizeof(*set->table));
	if (set->table == NULL) {
		set->table = old;
		return -1;
	}
	set->nslots = n;
	free(old);
	for (i = 0; i < set->n; i++)
		*slot_of(set, &set->v[i]) = i + 1;
	return 0;
}

/* Adds N figures, none summed yet, to SET's.  0, or -1 when out of
 * memory. */
static int
figs_add(struct om_set *set, size_t n)
{
	size_t cap = set->capfig != 0 ? set->capfig : 64;
	double *sum;
	unsigned *cnt;

	while (set->nfig + n > cap)
		cap *= 2;
	if (cap != set->capfig) {
		if ((sum = realloc(set->sum, cap * sizeof(*sum))) == NULL)
			return -1;
		set->sum = sum;
		if ((cnt = realloc(set->cnt, cap * sizeof(*cnt))) == NULL)
			return -1;
		set->cnt = cnt;
		set->capfig = cap;
	}
	memset(set->sum + set->nfig, 0, n * sizeof(*set->sum));
	memset(set->cnt + set->nfig, 0, n * sizeof(*set->cnt));
	set->nfig += n;
	return 0;
}

/*
 * The series of SAMPLE of RUN in SET, added when new, or NULL when out of
 * memory.
 */
static struct om_series *
series_of(struct om_set *set, const char *run, const json_t *sample)
{
	const char *dir = str_of(sample, "direction");
	const json_t *size = json_object_get(sample, "pkt_size");
	const char *proto = str_of(sample, "protocol");
	struct om_series key = {
	    .run = rec_str_hold(set->strings, run),
	    .proto = proto != NULL ? rec_str_hold(set->strings, proto) : NULL,
	    .flow = json_integer_value(json_object_get(sample, "flow")),
	    .size = json_is_integer(size) ? json_integer_value(size) : -1,
	    .reverse = dir != NULL && strcmp(dir, "reverse") == 0,
	};
	struct om_series *v;
	size_t *at;

	if (key.run == NULL || (proto != NULL && key.proto == NULL))
		return NULL;
	if (2 * (set->n + 1) > set->nslots && table_grow(set) != 0)
		return NULL;
	at = slot_of(set, &key);
	if (*at != 0)
		return &set->v[*at - 1];
	key.kind = proto == NULL                ? K_OTHER
	           : strcmp(proto, "TCP") == 0  ? K_TCP
	           : strcmp(proto, "UDP") == 0  ? K_UDP
	           : strcmp(proto, "ICMP") == 0 ? K_ICMP
	                                        : K_OTHER;
	key.fig = set->nfig;
	if (figs_add(set, __builtin_popcount(kind_slots[key.kind])) != 0 ||
	    (v = array_grow(set->v, set->n, sizeof(*v))) == NULL)
		return NULL;
	set->v = v;
	v[set->n] = key;
	*at = ++set->n;
	return &v[set->n - 1];
}

/* Where figure F, ST of S is in its set's sums and counts, or -1 when a
 * series of its kind has none. */
static long
fig_at(const struct om_series *s, enum om_fam f, enum om_stat st)
{
	unsigned has = kind_slots[s->kind];

	if ((has & BIT(f, st)) == 0)
		return -1;
	return (long)s->fig + __builtin_popcount(has & (BIT(f, st) - 1));
}

/* Adds X to figure F, ST of S in SET (one of its kind's). */
static void
add_value(struct om_set *set, const struct om_series *s, enum om_fam f,
    enum om_stat st, double x)
{
	long at = fig_at(s, f, st);

	set->sum[at] += x;
	set->cnt[at]++;
}

/* Adds V (when a number in SAMPLE's KEY, times SCALE) to S's figure F. */
static void
add(struct om_set *set, const struct om_series *s, enum om_fam f,
    enum om_stat st, const json_t *sample, const char *key, double scale)
{
	const json_t *v = json_object_get(sample, key);

	if (json_is_number(v))
		add_value(set, s, f, st, json_number_value(v) * scale);
}

/* Adds the figures of SAMPLE to S, a series of SET. */
static void
add_sample(struct om_set *set, const struct om_series *s, const json_t *sample)
{
	/* throughput_kbps is Mbit/s x 1024 (SPEC §4) */
	const double kbps = 1e6 / 1024 / 8;
	const json_t *tx = json_object_get(sample, "tx_packets");
	const json_t *rx = json_object_get(sample, "rx_packets");
	long errors = fig_at(s, F_ERRORS, S_AVG);

	set->cnt[errors] = 1; /* every series says how many failed */
	if (json_object_get(sample, "error") != NULL) {
		set->sum[errors] += 1;
		return;
	}
	if (s->proto == NULL)
		return;
	add(set, s, F_THROUGHPUT, S_AVG, sample, "throughput_kbps", kbps);
	if (s->kind == K_UDP) {
		add(set, s, F_LOSS, S_AVG, sample, "loss_rate", 0.01);
		add(set, s, F_JITTER, S_AVG, sample, "jitter_ms", 0.001);
	} else if (s->kind == K_TCP) {
		add(set, s, F_RTT, S_AVG, sample, "rtt_ms", 0.001);
		add(set, s, F_RETRANS, S_AVG, sample, "retrans", 1);
	} else if (s->kind == K_ICMP) {
		add(set, s, F_RTT, S_AVG, sample, "rtt_avg_ms", 0.001);
		add(set, s, F_RTT, S_MIN, sample, "rtt_min_ms", 0.001);
		add(set, s, F_RTT, S_MAX, sample, "rtt_max_ms", 0.001);
		add(set, s, F_RTT, S_P50, sample, "rtt_p50_ms", 0.001);
		add(set, s, F_RTT, S_P99, sample, "rtt_p99_ms", 0.001);
		add(set, s, F_RTT, S_STDDEV, sample, "rtt_stddev_ms", 0.001);
		if (json_is_number(tx) && json_is_number(rx) &&
		    json_number_value(tx) > 0)
			add_value(set, s, F_LOSS, S_AVG,
			    1 - json_number_value(rx) / json_number_value(tx));
	}
}

/*
 * Indexes REC, record I of SET's records, when a flow (its position) or a
 * host (its az) of RUN, under "RUN/id" or "RUN/name".  Returns 0, or -1
 * when out of memory.
 */
static int
index_rec(struct om_set *set, const char *run, const json_t *rec, size_t i)
{
	int flow = is_type(rec, "flow");
	const json_t *k = json_object_get(rec, flow ? "id" : "name");
	const json_t *az = json_object_get(rec, "az");
	char name[512];

	if (!flow && !is_type(rec, "host"))
		return 0;
	if (json_is_integer(k))
		snprintf(name, sizeof(name), "%s/%lld", run,
		    (long long)json_integer_value(k));
	else if (json_is_string(k))
		snprintf(
		    name, sizeof(name), "%s/%s", run, json_string_value(k));
	else
		return 0;
	if (flow)
		return json_object_set_new(
		    set->flows, name, json_integer((json_int_t)i));
	return json_object_set_new(set->hosts, name,
	    json_is_string(az) ? json_incref((json_t *)az) : json_null());
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
 * when none has it.  Returns 0, or -1 when out of memory. */
static int
write_family(FILE *fp, struct om_set *set, enum om_fam f)
{
	const struct om_family *fam = &families[f];
	size_t i;
	int st;
	int any = 0;

	for (i = 0; i < set->n && !any; i++)
		for (st = 0; st < (f == F_RTT ? S_COUNT : 1); st++)
			any |= fig_at(&set->v[i], f, st) >= 0 &&
			       set->cnt[fig_at(&set->v[i], f, st)] != 0;
	if (!any)
		return 0;
	fprintf(fp, "# HELP %s ", fam->name);
	put_escaped(fp, fam->help, 1);
	fprintf(fp, "\n# TYPE %s gauge\n", fam->name);
	if (fam->unit != NULL)
		fprintf(fp, "# UNIT %s %s\n", fam->name, fam->unit);
	for (i = 0; i < set->n; i++) {
		const struct om_series *s = &set->v[i];

		for (st = 0; st < (f == F_RTT ? S_COUNT : 1); st++) {
			long k = fig_at(s, f, st);

			if (k < 0 || set->cnt[k] == 0)
				continue;
			fprintf(fp, "%s{", fam->name);
			if (put_labels(fp, set, s) != 0)
				return -1;
			if (f == F_RTT)
				put_label(fp, "stat", stat_names[st], 0);
			fprintf(fp, "} %.15g\n",
			    fam->sum ? set->sum[k]
			             : set->sum[k] / (double)set->cnt[k]);
		}
	}
	return 0;
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
	free(set->v);
	free(set->sum);
	free(set->cnt);
	free(set->table);
	json_decref(set->strings);
	json_decref(set->flows);
	json_decref(set->hosts);
	json_decref(set->flow);
}

int
openmetrics_write(FILE *fp, const json_t *records, struct vmtp_err *err)
{
	struct om_set set = {.records = records};
	json_t *rec = NULL;
	size_t i;
	int f;
	int rc = -1;

	set.strings = json_object();
	set.flows = json_object();
	set.hosts = json_object();
	if (set.strings == NULL || set.flows == NULL || set.hosts == NULL)
		goto oom;
	/* records packed or not (rec_at()): each read once a pass */
	for (i = 0; i < json_array_size(records); i++) {
		const char *run;

		json_decref(rec);
		if ((rec = rec_at(records, i)) == NULL)
			goto oom;
		run = str_of(rec, "run");
		if (run != NULL && index_rec(&set, run, rec, i) != 0)
			goto oom;
	}
	for (i = 0; i < json_array_size(records); i++) {
		const char *run;
		struct om_series *s;

		json_decref(rec);
		if ((rec = rec_at(records, i)) == NULL)
			goto oom;
		run = str_of(rec, "run");
		if (run == NULL || !is_type(rec, "sample"))
			continue;
		if ((s = series_of(&set, run, rec)) == NULL)
			goto oom;
		add_sample(&set, s, rec);
	}
	for (f = 0; f < F_COUNT; f++)
		if (write_family(fp, &set, (enum om_fam)f) != 0)
			goto oom;
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
