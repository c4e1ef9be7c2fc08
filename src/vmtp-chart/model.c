/*
 * model.c - result documents become the report of vmtp-chart (SPEC §6):
 * flows become categories (L2, L3 fixed, L3 floating, Upload, Download,
 * Native; intra- and inter-node apart), results become series (TCP, UDP
 * per packet size) with the mean Gbps over loops, and every number is
 * formatted once into the tables both writers show.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/flow.h"

#include "chart.h"

/* SPEC §4: throughput_kbps is Mbit/s x 1024, so Gbps = kbps / 2^20. */
#define KBPS_PER_GBPS 1048576.0

/* CPU load of one host while a series ran (SPEC §4 cpu_load). */
struct cpu_acc {
	char *host;
	double base_sum, sum; /* baselines, readings */
	int base_n, n;
};

/* The figures of one series at one category, summed over loops. */
struct acc {
	size_t cat;
	int udp;
	long long size;
	int n;
	double sum, min, max; /* throughput_kbps */
	double retrans;
	int retrans_n;
	double rtt, loss, jitter;
	int rtt_n, loss_n, jitter_n;
	size_t ncpu;
	struct cpu_acc *cpu;
	int iv_loops, iv_n;            /* results with intervals, seconds */
	double iv_sum, iv_min, iv_max; /* per-second throughput_kbps */
};

/* An error result, or an ICMP entry, waiting for its category's rows. */
struct note {
	size_t cat;
	const char *proto;   /* borrowed from the document */
	const char *msg;     /* error text, or NULL */
	const json_t *entry; /* the result or ICMP entry, borrowed */
	const char *tool;    /* borrowed */
};

/* What one result collects before it is sorted and formatted. */
struct build {
	size_t ncat;
	struct chart_cat *cats;
	size_t *seen; /* order of first appearance, per category */
	size_t nacc;
	struct acc *accs;
	size_t nnote;
	struct note *notes;
	size_t ntime;
	struct chart_timeline *times; /* categories not yet sorted */
};

static void *
grow(void *p, size_t n, size_t size)
{
	/* room for element n (0-based), doubling at powers of two */
	if (n > 0 && (n & (n - 1)) != 0)
		return p;
	return realloc(p, (n == 0 ? 1 : n * 2) * size);
}

static int
oom(struct vmtp_err *err)
{
	return err_set(err, VMTP_EXIT_FAIL, "out of memory");
}

/* Returns the number VALUE holds, or NAN. */
static double
num(const json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *
str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/*
 * Names the category of flow DESC (reverse when REVERSE): the flows of
 * SPEC §1 get short names, any other desc stands for itself.  Fills CAT
 * with new strings; returns 0, or -1 when out of memory.
 */
static int
classify(struct chart_cat *cat, const char *desc, int reverse)
{
	struct flow_name name;

	memset(cat, 0, sizeof(*cat));
	if (flow_name_init(&name, desc, reverse) != 0)
		return -1;
	cat->group = name.group;
	cat->rank = name.rank;
	cat->label = name.label;
	cat->tic = name.tic;
	cat->desc = strdup(desc);
	return cat->desc == NULL ? -1 : 0;
}

static void
cat_clear(struct chart_cat *cat)
{
	free(cat->label);
	free(cat->tic);
	free(cat->desc);
}

static void
timeline_clear(struct chart_timeline *t)
{
	size_t i;

	for (i = 0; i < t->nline; i++) {
		free(t->lines[i].name);
		free(t->lines[i].gbps);
	}
	free(t->lines);
	free(t->label);
	free(t->desc);
}

static int
line_cmp(const void *pa, const void *pb)
{
	const struct chart_line *a = pa;
	const struct chart_line *b = pb;

	if (a->pkt_size != b->pkt_size)
		return a->pkt_size < b->pkt_size ? -1 : 1;
	if (a->reverse != b->reverse)
		return a->reverse - b->reverse;
	return a->loop - b->loop;
}

/*
 * Sorts and names the lines of T: "loop N" forward, "reverse" (or
 * "reverse N" when there are several), after the series name when
 * TCP_SIZES says several buffer sizes were measured.
 */
static int
timeline_finish(struct chart_timeline *t, int tcp_sizes)
{
	size_t i, j;

	qsort(t->lines, t->nline, sizeof(*t->lines), line_cmp);
	for (i = 0; i < t->nline; i++) {
		struct chart_line *l = &t->lines[i];
		char prefix[64] = "";
		char buf[128];
		int nrev = 0;

		for (j = 0; j < t->nline; j++)
			nrev += t->lines[j].reverse &&
			        t->lines[j].pkt_size == l->pkt_size;
		if (tcp_sizes > 1 && l->pkt_size >= 0)
			snprintf(
			    prefix, sizeof(prefix), "TCP %lld ", l->pkt_size);
		if (!l->reverse)
			snprintf(
			    buf, sizeof(buf), "%sloop %d", prefix, l->loop);
		else if (nrev == 1)
			snprintf(buf, sizeof(buf), "%sreverse", prefix);
		else
			snprintf(
			    buf, sizeof(buf), "%sreverse %d", prefix, l->loop);
		l->name = strdup(buf);
		if (l->name == NULL)
			return -1;
	}
	return 0;
}

/* Returns the index of the category of DESC/REVERSE in B, adding it. */
static long
build_cat(struct build *b, const char *desc, int reverse)
{
	struct chart_cat cat;
	size_t i;
	void *p;

	if (classify(&cat, desc, reverse) != 0)
		goto fail;
	for (i = 0; i < b->ncat; i++) {
		if (strcmp(b->cats[i].label, cat.label) == 0) {
			cat_clear(&cat);
			return (long)i;
		}
	}
	p = grow(b->cats, b->ncat, sizeof(*b->cats));
	if (p == NULL)
		goto fail;
	b->cats = p;
	p = grow(b->seen, b->ncat, sizeof(*b->seen));
	if (p == NULL)
		goto fail;
	b->seen = p;
	b->cats[b->ncat] = cat;
	b->seen[b->ncat] = b->ncat;
	return (long)b->ncat++;
fail:
	cat_clear(&cat);
	return -1;
}

/* Returns the accumulator of CAT/UDP/SIZE in B, adding it, or NULL. */
static struct acc *
build_acc(struct build *b, size_t cat, int udp, long long size)
{
	struct acc *a;
	size_t i;

	for (i = 0; i < b->nacc; i++) {
		a = &b->accs[i];
		if (a->cat == cat && a->udp == udp && a->size == size)
			return a;
	}
	a = grow(b->accs, b->nacc, sizeof(*b->accs));
	if (a == NULL)
		return NULL;
	b->accs = a;
	a = &b->accs[b->nacc++];
	memset(a, 0, sizeof(*a));
	a->cat = cat;
	a->udp = udp;
	a->size = size;
	return a;
}

static int
build_note(struct build *b, size_t cat, const char *proto, const char *msg,
    const json_t *entry, const char *tool)
{
	struct note *n = grow(b->notes, b->nnote, sizeof(*b->notes));

	if (n == NULL)
		return -1;
	b->notes = n;
	b->notes[b->nnote++] = (struct note){cat, proto, msg, entry, tool};
	return 0;
}

/* Adds the cpu_load of a sample ({host: [baseline, reading...]}) to A. */
static int
acc_cpu(struct acc *a, const json_t *load)
{
	const char *host;
	json_t *list;

	json_object_foreach ((json_t *)load, host, list) {
		struct cpu_acc *c = NULL;
		json_t *v;
		size_t i;

		if (!json_is_array(list) || json_array_size(list) == 0)
			continue;
		for (i = 0; i < a->ncpu; i++)
			if (strcmp(a->cpu[i].host, host) == 0)
				c = &a->cpu[i];
		if (c == NULL) {
			c = grow(a->cpu, a->ncpu, sizeof(*a->cpu));
			if (c == NULL)
				return -1;
			a->cpu = c;
			c = &a->cpu[a->ncpu];
			memset(c, 0, sizeof(*c));
			c->host = strdup(host);
			if (c->host == NULL)
				return -1;
			a->ncpu++;
		}
		json_array_foreach (list, i, v) {
			double x = num(v);

			if (isnan(x))
				continue;
			if (i == 0) {
				c->base_sum += x;
				c->base_n++;
				continue;
			}
			c->sum += x;
			c->n++;
		}
	}
	return 0;
}

/* Adds the per-second figures of INTERVALS (a list, or NULL) to A. */
static void
acc_intervals(struct acc *a, const json_t *intervals)
{
	json_t *v;
	size_t i;
	int any = 0;

	json_array_foreach ((json_t *)intervals, i, v) {
		double x = num(v);

		if (isnan(x))
			continue;
		if (a->iv_n == 0 || x < a->iv_min)
			a->iv_min = x;
		if (a->iv_n == 0 || x > a->iv_max)
			a->iv_max = x;
		a->iv_sum += x;
		a->iv_n++;
		any = 1;
	}
	a->iv_loops += any;
}

/*
 * Returns the run number of TCP result I of RESULTS: 1 + the measured TCP
 * results before it with its size and direction, so that "loop 2" is the
 * second run even when the first one gave no intervals.
 */
static int
loop_of(const json_t *results, size_t i)
{
	const json_t *r = json_array_get(results, i);
	const char *dir = str(r, "direction");
	int rev = dir != NULL && strcmp(dir, "reverse") == 0;
	double size = num(json_object_get(r, "pkt_size"));
	int loop = 1;
	size_t k;

	for (k = 0; k < i; k++) {
		const json_t *o = json_array_get(results, k);
		const char *p = str(o, "protocol");
		const char *d = str(o, "direction");
		double s = num(json_object_get(o, "pkt_size"));

		if (p == NULL || strcmp(p, "TCP") != 0 ||
		    json_object_get(o, "error") != NULL)
			continue;
		if ((d != NULL && strcmp(d, "reverse") == 0) != rev)
			continue;
		if (s == size || (isnan(s) && isnan(size)))
			loop++;
	}
	return loop;
}

/*
 * Adds the intervals of TCP result R (category CAT, REVERSE, run LOOP) of
 * the flow with DESC to its timeline in B: the last one when NEW is 0,
 * else a new one.  Results without a number among their intervals add
 * nothing.  Returns 0, or -1 when out of memory.
 */
static int
build_line(struct build *b, int new, const char *desc, size_t cat,
    const json_t *r, int reverse, int loop)
{
	json_t *iv = json_object_get(r, "intervals");
	json_t *size = json_object_get(r, "pkt_size");
	struct chart_timeline *t;
	struct chart_line *l;
	json_t *v;
	size_t i;
	int any = 0;

	json_array_foreach (iv, i, v) {
		any |= !isnan(num(v));
	}
	if (!any)
		return 0;
	if (new) {
		struct chart_cat c;

		t = grow(b->times, b->ntime, sizeof(*b->times));
		if (t == NULL)
			return -1;
		b->times = t;
		t = &b->times[b->ntime++];
		memset(t, 0, sizeof(*t));
		t->cat = cat;
		if (classify(&c, desc, 0) != 0) {
			cat_clear(&c);
			return -1;
		}
		/* an external flow holds Upload and Download */
		t->label = strdup(
		    c.group == FLOW_GROUP_EXTERNAL ? "External host" : c.label);
		t->desc = strdup(desc);
		cat_clear(&c);
		if (t->label == NULL || t->desc == NULL)
			return -1;
	}
	t = &b->times[b->ntime - 1];
	if (cat < t->cat)
		t->cat = cat;
	l = grow(t->lines, t->nline, sizeof(*t->lines));
	if (l == NULL)
		return -1;
	t->lines = l;
	l = &t->lines[t->nline];
	memset(l, 0, sizeof(*l));
	l->pkt_size =
	    json_is_number(size) ? (long long)json_number_value(size) : -1;
	l->reverse = reverse;
	l->loop = loop;
	l->n = json_array_size(iv);
	l->gbps = calloc(l->n + 1, sizeof(*l->gbps));
	if (l->gbps == NULL)
		return -1;
	t->nline++;
	for (i = 0; i < l->n; i++)
		l->gbps[i] = num(json_array_get(iv, i)) / KBPS_PER_GBPS;
	return 0;
}

/* Adds one TCP or UDP result R of a flow in category CAT to B. */
static int
build_sample(struct build *b, size_t cat, const json_t *r, int udp)
{
	json_t *size = json_object_get(r, "pkt_size");
	double kbps = num(json_object_get(r, "throughput_kbps"));
	double x;
	struct acc *a;

	a = build_acc(b, cat, udp,
	    json_is_number(size) ? (long long)json_number_value(size) : -1);
	if (a == NULL)
		return -1;
	if (!isnan(kbps)) {
		if (a->n == 0 || kbps < a->min)
			a->min = kbps;
		if (a->n == 0 || kbps > a->max)
			a->max = kbps;
		a->sum += kbps;
		a->n++;
	}
	if (!isnan(x = num(json_object_get(r, "retrans")))) {
		a->retrans += x;
		a->retrans_n++;
	}
	if (!isnan(x = num(json_object_get(r, "rtt_ms")))) {
		a->rtt += x;
		a->rtt_n++;
	}
	if (!isnan(x = num(json_object_get(r, "loss_rate")))) {
		a->loss += x;
		a->loss_n++;
	}
	if (!isnan(x = num(json_object_get(r, "jitter_ms")))) {
		a->jitter += x;
		a->jitter_n++;
	}
	if (!udp)
		acc_intervals(a, json_object_get(r, "intervals"));
	if (json_is_object(json_object_get(r, "cpu_load")))
		return acc_cpu(a, json_object_get(r, "cpu_load"));
	return 0;
}

/* Collects the results of flow FLOW (borrowed) of a document into B. */
static int
build_flow(struct build *b, const json_t *flow, int proto)
{
	const char *desc = str(flow, "desc");
	json_t *results = json_object_get(flow, "results");
	json_t *r;
	size_t i, j;
	long fwd = -1;
	size_t ntime = b->ntime;

	json_array_foreach (results, i, r) {
		const char *p = str(r, "protocol");
		const char *msg = str(r, "error");
		const char *dir = str(r, "direction");
		int tcp = p != NULL && strcmp(p, "TCP") == 0;
		int udp = p != NULL && strcmp(p, "UDP") == 0;
		int icmp = p != NULL && strcmp(p, "ICMP") == 0;
		long cat;
		json_t *one;

		if ((tcp && proto == CHART_PROTO_UDP) ||
		    (udp && proto == CHART_PROTO_TCP) ||
		    (icmp && proto != CHART_PROTO_ALL))
			continue;
		/* a flow is a category once it has something to show */
		if (dir != NULL && strcmp(dir, "reverse") == 0)
			cat = build_cat(b, desc, 1);
		else
			cat = fwd = fwd >= 0 ? fwd : build_cat(b, desc, 0);
		if (cat < 0)
			return -1;
		if (icmp) {
			json_array_foreach (
			    json_object_get(r, "results"), j, one) {
				if (build_note(b, (size_t)cat, p,
				        str(one, "error"), one,
				        str(r, "tool")) != 0)
					return -1;
			}
			if (msg != NULL &&
			    build_note(b, (size_t)cat, p, msg, NULL, NULL) != 0)
				return -1;
			continue;
		}
		if (msg != NULL) {
			json_t *size = json_object_get(r, "pkt_size");

			if (build_note(b, (size_t)cat, p, msg, r, NULL) != 0)
				return -1;
			/* the series failed here: it still has its column */
			if ((tcp || udp) && json_is_number(size) &&
			    build_acc(b, (size_t)cat, udp,
			        (long long)json_number_value(size)) == NULL)
				return -1;
			continue;
		}
		if ((tcp || udp) && build_sample(b, (size_t)cat, r, udp) != 0)
			return -1;
		if (tcp && build_line(b, b->ntime == ntime, desc, (size_t)cat,
		               r, dir != NULL && strcmp(dir, "reverse") == 0,
		               loop_of(results, i)) != 0)
			return -1;
	}
	return 0;
}

static int
cat_cmp(
    const struct chart_cat *a, size_t sa, const struct chart_cat *b, size_t sb)
{
	if (a->group != b->group)
		return a->group - b->group;
	if (a->group != FLOW_GROUP_OTHER && a->rank != b->rank)
		return a->rank - b->rank;
	return sa < sb ? -1 : sa > sb;
}

static int
series_cmp(const void *pa, const void *pb)
{
	const struct chart_series *a = pa;
	const struct chart_series *b = pb;

	if (a->udp != b->udp)
		return a->udp - b->udp;
	return a->pkt_size < b->pkt_size ? -1 : a->pkt_size > b->pkt_size;
}

/*
 * Sorts CATS (with their first-seen order SEEN) and returns, per old
 * index, the new one in MAP (N entries).
 */
static void
sort_cats(struct chart_cat *cats, size_t *seen, size_t n, size_t *map)
{
	size_t i, j;

	/* insertion sort: a result has a handful of categories */
	for (i = 1; i < n; i++) {
		struct chart_cat c = cats[i];
		size_t s = seen[i];

		for (j = i;
		     j > 0 && cat_cmp(&c, s, &cats[j - 1], seen[j - 1]) < 0;
		     j--) {
			cats[j] = cats[j - 1];
			seen[j] = seen[j - 1];
		}
		cats[j] = c;
		seen[j] = s;
	}
	for (i = 0; i < n; i++)
		map[seen[i]] = i;
}

/* Names the series of a result: "TCP" alone unless several TCP sizes. */
static int
series_name(struct chart_series *s, int tcp_sizes)
{
	char buf[64];

	if (s->udp)
		snprintf(buf, sizeof(buf), "UDP %lld", s->pkt_size);
	else if (tcp_sizes > 1 && s->pkt_size >= 0)
		snprintf(buf, sizeof(buf), "TCP %lld", s->pkt_size);
	else
		snprintf(buf, sizeof(buf), "TCP");
	if (s->udp && s->pkt_size < 0)
		snprintf(buf, sizeof(buf), "UDP");
	s->name = strdup(buf);
	return s->name == NULL ? -1 : 0;
}

static int
table_init(struct chart_table *t, const char *title, int ncols,
    const char *const *head, const int *numeric)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->title = strdup(title);
	t->head = calloc((size_t)ncols, sizeof(*t->head));
	t->numeric = calloc((size_t)ncols, sizeof(*t->numeric));
	if (t->title == NULL || t->head == NULL || t->numeric == NULL)
		return -1;
	t->ncols = ncols;
	for (i = 0; i < ncols; i++) {
		t->head[i] = strdup(head[i]);
		if (t->head[i] == NULL)
			return -1;
		t->numeric[i] = numeric != NULL && numeric[i];
	}
	return 0;
}

static void
table_clear(struct chart_table *t)
{
	size_t i;
	int j;

	for (i = 0; i < t->nrows; i++) {
		int n = t->rows[i].error ? 3 : t->ncols;

		for (j = 0; j < n; j++)
			free(t->rows[i].cells[j]);
		free(t->rows[i].cells);
	}
	free(t->rows);
	for (j = 0; t->head != NULL && j < t->ncols; j++)
		free(t->head[j]);
	free(t->head);
	free(t->numeric);
	free(t->title);
	memset(t, 0, sizeof(*t));
}

/* Adds a row of N copied cells (NULL becomes "-"). */
static int
table_add(struct chart_table *t, int error, int n, const char *const *cells)
{
	struct chart_row *rows = grow(t->rows, t->nrows, sizeof(*t->rows));
	struct chart_row *row;
	int i;

	if (rows == NULL)
		return -1;
	t->rows = rows;
	row = &t->rows[t->nrows];
	row->error = error;
	row->cells = calloc((size_t)n, sizeof(*row->cells));
	if (row->cells == NULL)
		return -1;
	t->nrows++;
	for (i = 0; i < n; i++) {
		row->cells[i] = strdup(cells[i] != NULL ? cells[i] : "-");
		if (row->cells[i] == NULL)
			return -1;
	}
	return 0;
}

/* Drops the columns from FIRST on in which no row has a figure. */
static void
table_prune(struct chart_table *t, int first)
{
	size_t r;
	int c, to, i;

	for (c = t->ncols - 1; c >= first; c--) {
		int used = 0;

		for (r = 0; r < t->nrows && !used; r++)
			used = !t->rows[r].error &&
			       strcmp(t->rows[r].cells[c], "-") != 0;
		if (used)
			continue;
		for (r = 0; r < t->nrows; r++) {
			if (t->rows[r].error)
				continue;
			free(t->rows[r].cells[c]);
			for (i = c; i + 1 < t->ncols; i++)
				t->rows[r].cells[i] = t->rows[r].cells[i + 1];
		}
		free(t->head[c]);
		if (t->verdict == c + 1)
			t->verdict = 0;
		else if (t->verdict > c + 1)
			t->verdict--;
		for (to = c; to + 1 < t->ncols; to++) {
			t->head[to] = t->head[to + 1];
			t->numeric[to] = t->numeric[to + 1];
		}
		t->ncols--;
	}
}

/* printf into BUF, or "-" when X is NAN. */
static const char *
fmt(char *buf, size_t len, const char *format, double x)
{
	if (isnan(x))
		return NULL;
	snprintf(buf, len, format, x);
	return buf;
}

/* Formats the CPU load of A: "10.0.0.5 3.20 (idle 0.40)" per host. */
static const char *
fmt_cpu(char *buf, size_t len, const struct acc *a)
{
	size_t i, used = 0;

	if (a->ncpu == 0)
		return NULL;
	buf[0] = '\0';
	for (i = 0; i < a->ncpu && used < len; i++) {
		const struct cpu_acc *c = &a->cpu[i];
		int w;

		if (c->n > 0 && c->base_n > 0)
			w = snprintf(buf + used, len - used,
			    "%s%s %.2f (idle %.2f)", i > 0 ? ", " : "", c->host,
			    c->sum / c->n, c->base_sum / c->base_n);
		else if (c->base_n > 0)
			w = snprintf(buf + used, len - used, "%s%s idle %.2f",
			    i > 0 ? ", " : "", c->host,
			    c->base_sum / c->base_n);
		else
			w = 0;
		used += w > 0 ? (size_t)w : 0;
	}
	return buf[0] != '\0' ? buf : NULL;
}

enum {
	NUM_FLOW,
	NUM_SERIES,
	NUM_LOOPS,
	NUM_GBPS,
	NUM_MIN,
	NUM_MAX,
	NUM_RETRANS,
	NUM_RTT,
	NUM_LOSS,
	NUM_JITTER,
	NUM_CPU,
	NUM_COLS
};

static const char *const num_head[NUM_COLS] = {"Flow", "Series", "Runs", "Gbps",
    "Min Gbps", "Max Gbps", "Retrans", "RTT ms", "Loss %", "Jitter ms",
    "CPU load (host: busy CPUs)"};
static const int num_numeric[NUM_COLS] = {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0};

/* Whether A has no figure at all (its measurements all failed). */
static int
acc_empty(const struct acc *a)
{
	return a->n == 0 && a->retrans_n == 0 && a->rtt_n == 0 &&
	       a->loss_n == 0 && a->jitter_n == 0 && a->ncpu == 0 &&
	       a->iv_n == 0;
}

/* Adds the row of accumulator A, series S, in category CAT. */
static int
numbers_row(struct chart_table *t, const struct chart_cat *cat,
    const struct chart_series *s, const struct acc *a)
{
	char b[NUM_COLS][64];
	char cpu[1024];
	const char *cells[NUM_COLS] = {NULL};

	cells[NUM_FLOW] = cat->label;
	cells[NUM_SERIES] = s->name;
	snprintf(b[NUM_LOOPS], sizeof(b[0]), "%d", a->n);
	cells[NUM_LOOPS] = b[NUM_LOOPS];
	if (a->n > 0) {
		cells[NUM_GBPS] = fmt(b[NUM_GBPS], sizeof(b[0]), "%.3f",
		    a->sum / a->n / KBPS_PER_GBPS);
		if (a->n > 1) {
			cells[NUM_MIN] = fmt(b[NUM_MIN], sizeof(b[0]), "%.3f",
			    a->min / KBPS_PER_GBPS);
			cells[NUM_MAX] = fmt(b[NUM_MAX], sizeof(b[0]), "%.3f",
			    a->max / KBPS_PER_GBPS);
		}
	}
	if (a->retrans_n > 0)
		cells[NUM_RETRANS] =
		    fmt(b[NUM_RETRANS], sizeof(b[0]), "%.0f", a->retrans);
	if (a->rtt_n > 0)
		cells[NUM_RTT] =
		    fmt(b[NUM_RTT], sizeof(b[0]), "%.2f", a->rtt / a->rtt_n);
	if (a->loss_n > 0)
		cells[NUM_LOSS] =
		    fmt(b[NUM_LOSS], sizeof(b[0]), "%.2f", a->loss / a->loss_n);
	if (a->jitter_n > 0)
		cells[NUM_JITTER] = fmt(b[NUM_JITTER], sizeof(b[0]), "%.3f",
		    a->jitter / a->jitter_n);
	cells[NUM_CPU] = fmt_cpu(cpu, sizeof(cpu), a);
	return table_add(t, 0, NUM_COLS, cells);
}

enum {
	SEC_FLOW,
	SEC_SERIES,
	SEC_LOOPS,
	SEC_SECONDS,
	SEC_MIN,
	SEC_MEAN,
	SEC_MAX,
	SEC_COLS
};

static const char *const sec_head[SEC_COLS] = {
    "Flow", "Series", "Runs", "Seconds", "Min Gbps", "Mean Gbps", "Max Gbps"};
static const int sec_numeric[SEC_COLS] = {0, 0, 1, 1, 1, 1, 1};

/* Adds the per-second row of accumulator A (with intervals). */
static int
persec_row(struct chart_table *t, const struct chart_cat *cat,
    const struct chart_series *s, const struct acc *a)
{
	char b[SEC_COLS][64];
	const char *cells[SEC_COLS] = {NULL};

	cells[SEC_FLOW] = cat->label;
	cells[SEC_SERIES] = s->name;
	snprintf(b[SEC_LOOPS], sizeof(b[0]), "%d", a->iv_loops);
	cells[SEC_LOOPS] = b[SEC_LOOPS];
	snprintf(b[SEC_SECONDS], sizeof(b[0]), "%d", a->iv_n);
	cells[SEC_SECONDS] = b[SEC_SECONDS];
	cells[SEC_MIN] =
	    fmt(b[SEC_MIN], sizeof(b[0]), "%.3f", a->iv_min / KBPS_PER_GBPS);
	cells[SEC_MEAN] = fmt(b[SEC_MEAN], sizeof(b[0]), "%.3f",
	    a->iv_sum / a->iv_n / KBPS_PER_GBPS);
	cells[SEC_MAX] =
	    fmt(b[SEC_MAX], sizeof(b[0]), "%.3f", a->iv_max / KBPS_PER_GBPS);
	return table_add(t, 0, SEC_COLS, cells);
}

enum {
	ICMP_FLOW,
	ICMP_SIZE,
	ICMP_TX,
	ICMP_RX,
	ICMP_MIN,
	ICMP_AVG,
	ICMP_MAX,
	ICMP_STDDEV,
	ICMP_TOOL,
	ICMP_COLS
};

static const char *const icmp_head[ICMP_COLS] = {"Flow", "Size (bytes)", "Sent",
    "Received", "Min ms", "Avg ms", "Max ms", "Stddev ms", "Tool"};
static const int icmp_numeric[ICMP_COLS] = {0, 1, 1, 1, 1, 1, 1, 1, 0};

static int
icmp_row(struct chart_table *t, const struct chart_cat *cat, const json_t *e,
    const char *tool)
{
	static const char *const keys[ICMP_COLS] = {NULL, "packet_size",
	    "tx_packets", "rx_packets", "rtt_min_ms", "rtt_avg_ms",
	    "rtt_max_ms", "rtt_stddev", NULL};
	char b[ICMP_COLS][64];
	const char *cells[ICMP_COLS] = {NULL};
	int i;

	cells[ICMP_FLOW] = cat->label;
	for (i = ICMP_SIZE; i <= ICMP_STDDEV; i++)
		cells[i] =
		    fmt(b[i], sizeof(b[0]), i <= ICMP_RX ? "%.0f" : "%.3f",
		        num(json_object_get(e, keys[i])));
	if (cells[ICMP_SIZE] == NULL)
		cells[ICMP_SIZE] = "default";
	cells[ICMP_TOOL] = tool;
	return table_add(t, 0, ICMP_COLS, cells);
}

/*
 * Adds the error row of note N: flow, what failed ("UDP 128", or the ICMP
 * packet size) and the message without a leading "Error: ".
 */
static int
error_row(
    struct chart_table *t, const struct chart_cat *cat, const struct note *n)
{
	int icmp = n->proto != NULL && strcmp(n->proto, "ICMP") == 0;
	json_t *size =
	    json_object_get(n->entry, icmp ? "packet_size" : "pkt_size");
	const char *msg = n->msg;
	const char *cells[3];
	char what[96];

	if (icmp && json_is_number(size))
		snprintf(what, sizeof(what), "%.0f", json_number_value(size));
	else if (icmp)
		snprintf(what, sizeof(what), "-");
	else if (json_is_number(size))
		snprintf(what, sizeof(what), "%s %.0f",
		    n->proto != NULL ? n->proto : "-", json_number_value(size));
	else
		snprintf(what, sizeof(what), "%s",
		    n->proto != NULL ? n->proto : "-");
	if (strncasecmp(msg, "error: ", 7) == 0)
		msg += 7;
	cells[0] = cat->label;
	cells[1] = what;
	cells[2] = msg;
	return table_add(t, 1, 3, cells);
}

/* Formats a top-level value (string or number) of DOC, or NULL. */
static const char *
doc_value(char *buf, size_t len, const json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	if (json_is_string(v) && json_string_length(v) > 0)
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, len, "%g", json_real_value(v));
		return buf;
	}
	return NULL;
}

/* Joins the distinct "tool" values of DOC's results into BUF. */
static const char *
doc_tools(char *buf, size_t len, const json_t *doc)
{
	json_t *flow, *r;
	size_t i, j, used = 0;

	buf[0] = '\0';
	json_array_foreach (json_object_get(doc, "flows"), i, flow) {
		json_array_foreach (json_object_get(flow, "results"), j, r) {
			const char *tool = str(r, "tool");
			const char *at;
			size_t tl;
			int w;

			if (tool == NULL || tool[0] == '\0')
				continue;
			tl = strlen(tool);
			for (at = strstr(buf, tool); at != NULL;
			     at = strstr(at + 1, tool))
				if ((at == buf || at[-1] == ' ') &&
				    (at[tl] == '\0' || at[tl] == ','))
					break;
			if (at != NULL || used >= len)
				continue;
			w = snprintf(buf + used, len - used, "%s%s",
			    used > 0 ? ", " : "", tool);
			used += w > 0 ? (size_t)w : 0;
			if (used >= len)
				used = len - 1;
		}
	}
	return buf[0] != '\0' ? buf : NULL;
}

static int
build_props(struct chart_table *t, const json_t *doc)
{
	static const char *const rows[][2] = {
	    {"Description", "test_description"}, {"Date", "date"},
	    {"Run", "run_id"}, {"OpenStack release", "openstack_version"},
	    {"Distribution", "distro"}, {"Encapsulation", "encapsulation"},
	    {"L2 agent", NULL}, {"CPU", "cpu_info"}, {"NIC", "nic_name"},
	    {"Tools", NULL}, {"Region", "region"}, {"Auth URL", "auth_url"},
	    {"vmtp version", "version"}};
	static const char *const head[] = {"Property", "Value"};
	char buf[1024];
	size_t i;

	if (table_init(t, "Properties", 2, head, NULL) != 0)
		return -1;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *cells[2] = {rows[i][0], NULL};

		if (rows[i][1] != NULL) {
			cells[1] = doc_value(buf, sizeof(buf), doc, rows[i][1]);
		} else if (strcmp(rows[i][0], "Tools") == 0) {
			cells[1] = doc_tools(buf, sizeof(buf), doc);
		} else {
			const char *type = str(doc, "l2agent_type");
			const char *ver = str(doc, "l2agent_version");

			if (type != NULL || ver != NULL) {
				snprintf(buf, sizeof(buf), "%s%s%s",
				    type != NULL ? type : "",
				    type != NULL && ver != NULL ? " " : "",
				    ver != NULL ? ver : "");
				cells[1] = buf;
			}
		}
		if (cells[1] != NULL && table_add(t, 0, 2, cells) != 0)
			return -1;
	}
	return 0;
}

/*
 * The verdict on FLOW (borrowed): "FAILED" when one of its results, or of
 * the packet sizes of its ICMP result, is an error; "PASSED" when it has
 * results and none is; NULL when it has none.
 */
static const char *
flow_verdict(const json_t *flow)
{
	json_t *results = json_object_get(flow, "results");
	json_t *r, *one;
	size_t i, j;

	json_array_foreach (results, i, r) {
		if (json_object_get(r, "error") != NULL)
			return "FAILED";
		json_array_foreach (json_object_get(r, "results"), j, one) {
			if (json_object_get(one, "error") != NULL)
				return "FAILED";
		}
	}
	return json_array_size(results) > 0 ? "PASSED" : NULL;
}

static int
build_flows(struct chart_table *t, const json_t *doc)
{
	static const char *const head[] = {"Flow", "Description", "From", "To",
	    "Placement", "Guest OS", "Result"};
	json_t *flow;
	size_t i;

	if (table_init(t, "Flows", 7, head, NULL) != 0)
		return -1;
	t->verdict = 7;
	json_array_foreach (json_object_get(doc, "flows"), i, flow) {
		struct chart_cat cat;
		const char *cells[7] = {NULL};
		const char *az_from = str(flow, "az_from");
		const char *az_to = str(flow, "az_to");
		const char *os = str(flow, "distro_id");
		const char *osv = str(flow, "distro_version");
		char place[512], guest[256];
		int rc;

		if (classify(&cat, str(flow, "desc"), 0) != 0) {
			cat_clear(&cat);
			return -1;
		}
		cells[0] = cat.label;
		cells[1] = cat.desc;
		cells[2] = str(flow, "ip_from");
		cells[3] = str(flow, "ip_to");
		if (az_from != NULL || az_to != NULL) {
			snprintf(place, sizeof(place), "%s \u2192 %s",
			    az_from != NULL ? az_from : "?",
			    az_to != NULL ? az_to : "?");
			cells[4] = place;
		}
		if (os != NULL) {
			snprintf(guest, sizeof(guest), "%s%s%s", os,
			    osv != NULL ? " " : "", osv != NULL ? osv : "");
			cells[5] = guest;
		}
		cells[6] = flow_verdict(flow);
		rc = table_add(t, 0, 7, cells);
		cat_clear(&cat);
		if (rc != 0)
			return -1;
	}
	table_prune(t, 2);
	return 0;
}

static void
build_free(struct build *b)
{
	size_t i, j;

	for (i = 0; i < b->ncat; i++)
		cat_clear(&b->cats[i]);
	free(b->cats);
	free(b->seen);
	for (i = 0; i < b->nacc; i++) {
		for (j = 0; j < b->accs[i].ncpu; j++)
			free(b->accs[i].cpu[j].host);
		free(b->accs[i].cpu);
	}
	free(b->accs);
	free(b->notes);
	for (i = 0; i < b->ntime; i++)
		timeline_clear(&b->times[i]);
	free(b->times);
}

/*
 * Counts the distinct TCP buffer sizes of all DOCS (up to 2: enough to
 * know whether "TCP" needs its size to be told apart, in every result
 * alike so that comparisons match series by name).
 */
static int
count_tcp_sizes(const json_t *docs)
{
	json_t *doc, *flow, *r;
	size_t i, j, k;
	double first = NAN;

	json_array_foreach ((json_t *)docs, i, doc) {
		json_array_foreach (json_object_get(doc, "flows"), j, flow) {
			json_array_foreach (
			    json_object_get(flow, "results"), k, r) {
				const char *p = str(r, "protocol");
				double size =
				    num(json_object_get(r, "pkt_size"));

				/* the results build_flow() makes series of */
				if (p == NULL || strcmp(p, "TCP") != 0 ||
				    (json_object_get(r, "error") != NULL &&
				        !json_is_number(
				            json_object_get(r, "pkt_size"))))
					continue;
				if (isnan(size))
					size = -1;
				if (isnan(first))
					first = size;
				else if (size != first)
					return 2;
			}
		}
	}
	return isnan(first) ? 0 : 1;
}

/*
 * Marks the columns of RES that have no value because their measurement
 * failed: an error result of that protocol and size (any size when it
 * names none) in that flow.  Returns 0, or -1 when out of memory.
 */
static int
mark_failed(struct chart_result *res, const struct build *b)
{
	size_t k, j;

	res->failed = calloc(res->ncat * res->nser + 1, 1);
	if (res->failed == NULL)
		return -1;
	for (k = 0; k < b->nnote; k++) {
		const struct note *n = &b->notes[k];
		json_t *size = json_object_get(n->entry, "pkt_size");
		int udp;

		if (n->msg == NULL || n->proto == NULL)
			continue;
		if (strcmp(n->proto, "TCP") != 0 &&
		    strcmp(n->proto, "UDP") != 0)
			continue;
		udp = strcmp(n->proto, "UDP") == 0;
		for (j = 0; j < res->nser; j++) {
			const struct chart_series *s = &res->series[j];
			size_t at = n->cat * res->nser + j;

			if (s->udp == udp && isnan(res->gbps[at]) &&
			    (!json_is_number(size) ||
			        (long long)json_number_value(size) ==
			            s->pkt_size))
				res->failed[at] = 1;
		}
	}
	return 0;
}

/* Fills RES from document DOC (borrowed; RES keeps a reference). */
static int
result_build(struct chart_result *res, json_t *doc, int proto, int tcp_sizes,
    struct vmtp_err *err)
{
	struct build b = {0};
	size_t *map = NULL;
	size_t i, j, k;
	int rc = -1;
	json_t *flow;

	res->doc = json_incref(doc);
	json_array_foreach (json_object_get(doc, "flows"), i, flow) {
		if (build_flow(&b, flow, proto) != 0)
			goto out;
	}
	/* categories in report order, accumulators follow them */
	map = calloc(b.ncat + 1, sizeof(*map));
	if (map == NULL)
		goto out;
	sort_cats(b.cats, b.seen, b.ncat, map);
	for (i = 0; i < b.nacc; i++)
		b.accs[i].cat = map[b.accs[i].cat];
	for (i = 0; i < b.nnote; i++)
		b.notes[i].cat = map[b.notes[i].cat];
	for (i = 0; i < b.ntime; i++) {
		struct chart_timeline t;

		/* insertion sort by category, stable: flows in input order */
		b.times[i].cat = map[b.times[i].cat];
		t = b.times[i];
		for (j = i; j > 0 && b.times[j - 1].cat > t.cat; j--)
			b.times[j] = b.times[j - 1];
		b.times[j] = t;
	}
	for (i = 0; i < b.ntime; i++)
		if (timeline_finish(&b.times[i], tcp_sizes) != 0)
			goto out;
	res->ntime = b.ntime;
	res->times = b.times;
	b.times = NULL;
	b.ntime = 0;
	/* series: the distinct (protocol, size) pairs */
	for (i = 0; i < b.nacc; i++) {
		struct chart_series *s;

		for (j = 0; j < res->nser; j++)
			if (res->series[j].udp == b.accs[i].udp &&
			    res->series[j].pkt_size == b.accs[i].size)
				break;
		if (j < res->nser)
			continue;
		s = grow(res->series, res->nser, sizeof(*s));
		if (s == NULL)
			goto out;
		res->series = s;
		res->series[res->nser++] =
		    (struct chart_series){NULL, b.accs[i].udp, b.accs[i].size};
	}
	if (res->nser > 0)
		qsort(res->series, res->nser, sizeof(*res->series), series_cmp);
	for (j = 0; j < res->nser; j++)
		if (series_name(&res->series[j], tcp_sizes) != 0)
			goto out;
	/* the categories move from the build to the result */
	res->ncat = b.ncat;
	res->cats = b.cats;
	b.cats = NULL;
	b.ncat = 0;
	res->gbps = calloc(res->ncat * res->nser + 1, sizeof(*res->gbps));
	if (res->gbps == NULL)
		goto out;
	for (i = 0; i < res->ncat * res->nser; i++)
		res->gbps[i] = NAN;
	if (table_init(&res->numbers, "Throughput", NUM_COLS, num_head,
	        num_numeric) != 0 ||
	    table_init(&res->icmp, "Latency (ICMP)", ICMP_COLS, icmp_head,
	        icmp_numeric) != 0 ||
	    table_init(&res->persec, "Throughput per second", SEC_COLS,
	        sec_head, sec_numeric) != 0)
		goto out;
	for (i = 0; i < res->ncat; i++) {
		const struct chart_cat *cat = &res->cats[i];

		for (j = 0; j < res->nser; j++) {
			const struct chart_series *s = &res->series[j];

			for (k = 0; k < b.nacc; k++) {
				const struct acc *a = &b.accs[k];

				if (a->cat != i || a->udp != s->udp ||
				    a->size != s->pkt_size)
					continue;
				if (a->n > 0)
					res->gbps[i * res->nser + j] =
					    a->sum / a->n / KBPS_PER_GBPS;
				if (acc_empty(a))
					continue; /* only errors: rows below */
				if (numbers_row(&res->numbers, cat, s, a) != 0)
					goto out;
				if (a->iv_n > 0 &&
				    persec_row(&res->persec, cat, s, a) != 0)
					goto out;
			}
		}
		for (k = 0; k < b.nnote; k++) {
			const struct note *n = &b.notes[k];
			int is_icmp =
			    n->proto != NULL && strcmp(n->proto, "ICMP") == 0;
			if (n->cat != i)
				continue;
			if (n->msg != NULL)
				rc = error_row(
				    is_icmp ? &res->icmp : &res->numbers, cat,
				    n);
			else
				rc = icmp_row(
				    &res->icmp, cat, n->entry, n->tool);
			if (rc != 0)
				goto out;
			rc = -1;
		}
	}
	if (mark_failed(res, &b) != 0)
		goto out;
	table_prune(&res->numbers, NUM_LOOPS);
	table_prune(&res->icmp, ICMP_TX);
	if (build_props(&res->props, doc) != 0 ||
	    build_flows(&res->flows, doc) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		oom(err);
	free(map);
	build_free(&b);
	return rc;
}

static void
result_clear(struct chart_result *res)
{
	free(res->failed);
	size_t i;

	free(res->name);
	json_decref(res->doc);
	for (i = 0; i < res->ncat; i++)
		cat_clear(&res->cats[i]);
	free(res->cats);
	for (i = 0; i < res->nser; i++)
		free(res->series[i].name);
	free(res->series);
	free(res->gbps);
	table_clear(&res->props);
	table_clear(&res->flows);
	table_clear(&res->numbers);
	table_clear(&res->icmp);
	table_clear(&res->persec);
	for (i = 0; i < res->ntime; i++)
		timeline_clear(&res->times[i]);
	free(res->times);
}

/* Names the results for legends: description, else date, else run. */
static int
name_results(struct chart_report *rep)
{
	size_t i, j;
	char buf[512];

	for (i = 0; i < rep->nresults; i++) {
		const json_t *doc = rep->results[i].doc;
		const char *name = str(doc, "test_description");

		if (name == NULL || name[0] == '\0')
			name = str(doc, "date");
		if (name == NULL || name[0] == '\0')
			name = str(doc, "run_id");
		if (name == NULL || name[0] == '\0') {
			snprintf(buf, sizeof(buf), "result %zu", i + 1);
			name = buf;
		}
		rep->results[i].name = strdup(name);
		if (rep->results[i].name == NULL)
			return -1;
	}
	/* two results with one name: number them so legends differ */
	for (i = 0; i < rep->nresults; i++) {
		for (j = 0; j < rep->nresults; j++) {
			if (i != j && strcmp(rep->results[i].name,
			                  rep->results[j].name) == 0)
				break;
		}
		if (j == rep->nresults)
			continue;
		snprintf(
		    buf, sizeof(buf), "%s #%zu", rep->results[i].name, i + 1);
		free(rep->results[i].name);
		rep->results[i].name = strdup(buf);
		if (rep->results[i].name == NULL)
			return -1;
	}
	return 0;
}

/* Builds the comparison of every result: categories x series x results. */
static int
compare_build(struct chart_report *rep)
{
	struct chart_compare *c = &rep->compare;
	size_t *seen = NULL;
	size_t *map = NULL;
	const char **head = NULL;
	int *numeric = NULL;
	size_t i, j, k, r;
	int rc = -1;

	/* the union of categories and series, in report order */
	for (r = 0; r < rep->nresults; r++) {
		const struct chart_result *res = &rep->results[r];

		for (i = 0; i < res->ncat; i++) {
			void *p;

			for (j = 0; j < c->ncat; j++)
				if (strcmp(c->cats[j].label,
				        res->cats[i].label) == 0)
					break;
			if (j < c->ncat)
				continue;
			if ((p = grow(c->cats, c->ncat, sizeof(*c->cats))) ==
			    NULL)
				goto out;
			c->cats = p;
			if ((p = grow(seen, c->ncat, sizeof(*seen))) == NULL)
				goto out;
			seen = p;
			c->cats[c->ncat] = (struct chart_cat){
			    strdup(res->cats[i].label),
			    strdup(res->cats[i].tic), strdup(res->cats[i].desc),
			    res->cats[i].group, res->cats[i].rank};
			seen[c->ncat] = c->ncat;
			c->ncat++;
			if (c->cats[c->ncat - 1].label == NULL ||
			    c->cats[c->ncat - 1].tic == NULL ||
			    c->cats[c->ncat - 1].desc == NULL)
				goto out;
		}
		for (i = 0; i < res->nser; i++) {
			void *p;

			for (j = 0; j < c->nser; j++)
				if (strcmp(c->series[j].name,
				        res->series[i].name) == 0)
					break;
			if (j < c->nser)
				continue;
			if ((p = grow(c->series, c->nser,
			         sizeof(*c->series))) == NULL)
				goto out;
			c->series = p;
			c->series[c->nser] = res->series[i];
			c->series[c->nser].name = strdup(res->series[i].name);
			if (c->series[c->nser++].name == NULL)
				goto out;
		}
	}
	map = calloc(c->ncat + 1, sizeof(*map));
	if (map == NULL)
		goto out;
	sort_cats(c->cats, seen, c->ncat, map);
	if (c->nser > 0)
		qsort(c->series, c->nser, sizeof(*c->series), series_cmp);
	c->gbps =
	    calloc(c->nser * c->ncat * rep->nresults + 1, sizeof(*c->gbps));
	head = calloc(rep->nresults + 2, sizeof(*head));
	numeric = calloc(rep->nresults + 2, sizeof(*numeric));
	if (c->gbps == NULL || head == NULL || numeric == NULL)
		goto out;
	head[0] = "Flow";
	head[1] = "Series";
	for (r = 0; r < rep->nresults; r++) {
		head[r + 2] = rep->results[r].name;
		numeric[r + 2] = 1;
	}
	if (table_init(&c->table, "Comparison (Gbps)", (int)rep->nresults + 2,
	        head, numeric) != 0)
		goto out;
	for (i = 0; i < c->nser * c->ncat * rep->nresults; i++)
		c->gbps[i] = NAN;
	for (j = 0; j < c->ncat; j++) {
		for (i = 0; i < c->nser; i++) {
			const char **cells = head; /* reused as the row */
			char(*b)[32] = NULL;
			int any = 0;

			b = calloc(rep->nresults + 1, sizeof(*b));
			if (b == NULL)
				goto out;
			cells[0] = c->cats[j].label;
			cells[1] = c->series[i].name;
			for (r = 0; r < rep->nresults; r++) {
				const struct chart_result *res =
				    &rep->results[r];
				double *at =
				    &c->gbps[(i * c->ncat + j) * rep->nresults +
				             r];
				size_t rc_, rs;

				cells[r + 2] = NULL;
				for (rc_ = 0; rc_ < res->ncat; rc_++)
					if (strcmp(res->cats[rc_].label,
					        c->cats[j].label) == 0)
						break;
				for (rs = 0; rs < res->nser; rs++)
					if (strcmp(res->series[rs].name,
					        c->series[i].name) == 0)
						break;
				if (rc_ == res->ncat || rs == res->nser)
					continue;
				*at = res->gbps[rc_ * res->nser + rs];
				cells[r + 2] =
				    fmt(b[r], sizeof(b[r]), "%.3f", *at);
				any |= cells[r + 2] != NULL;
			}
			k = any && table_add(&c->table, 0,
			               (int)rep->nresults + 2, cells) != 0;
			free(b);
			if (k)
				goto out;
		}
	}
	rc = 0;
out:
	free(seen);
	free(map);
	free(head);
	free(numeric);
	return rc;
}

static void
compare_clear(struct chart_compare *c)
{
	size_t i;

	for (i = 0; i < c->ncat; i++)
		cat_clear(&c->cats[i]);
	free(c->cats);
	for (i = 0; i < c->nser; i++)
		free(c->series[i].name);
	free(c->series);
	free(c->gbps);
	table_clear(&c->table);
}

struct chart_report *
chart_report_new(
    json_t *docs, int proto, const char *title, struct vmtp_err *err)
{
	struct chart_report *rep = calloc(1, sizeof(*rep));
	int tcp_sizes;
	char buf[600];
	json_t *doc;
	size_t i;

	if (rep == NULL)
		goto oom;
	rep->proto = proto;
	rep->results = calloc(json_array_size(docs) + 1, sizeof(*rep->results));
	if (rep->results == NULL)
		goto oom;
	tcp_sizes = count_tcp_sizes(docs);
	json_array_foreach (docs, i, doc) {
		rep->nresults++;
		if (result_build(
		        &rep->results[i], doc, proto, tcp_sizes, err) != 0)
			goto fail;
	}
	if (name_results(rep) != 0)
		goto oom;
	if (rep->nresults > 1 && compare_build(rep) != 0)
		goto oom;
	if (title == NULL && rep->nresults == 1) {
		snprintf(
		    buf, sizeof(buf), "vmtp results: %s", rep->results[0].name);
		title = buf;
	} else if (title == NULL) {
		snprintf(buf, sizeof(buf), "vmtp results: %zu runs compared",
		    rep->nresults);
		title = buf;
	}
	rep->title = strdup(title);
	if (rep->title == NULL)
		goto oom;
	return rep;
oom:
	oom(err);
fail:
	chart_report_free(rep);
	return NULL;
}

void
chart_report_free(struct chart_report *rep)
{
	size_t i;

	if (rep == NULL)
		return;
	for (i = 0; i < rep->nresults; i++)
		result_clear(&rep->results[i]);
	free(rep->results);
	compare_clear(&rep->compare);
	free(rep->title);
	free(rep);
}
