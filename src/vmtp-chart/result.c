/*
 * result.c - one result document becomes one result of vmtp-chart's
 * report (SPEC §6): its flows become categories (IPv6 flows apart from
 * IPv4 ones), its TCP, UDP and Multicast results series with the mean
 * Gbps over loops (accumulated here), its errors and
 * ICMP entries notes, and all of them the rows of its tables.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/doc.h"
#include "libvmtp/err.h"
#include "libvmtp/rec.h"

#include "chart.h"
#include "mesh.h"
#include "model.h"

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
	int lean;                     /* no tables, no timelines */
	json_t *strings;              /* the notes' protocols and tools */
};

/*
 * Returns the index of the category of DESC to TARGET in the REVERSE or
 * forward direction in B, adding it.
 */
static long
build_cat(struct build *b, const char *desc, const char *target, int reverse)
{
	struct chart_cat cat;
	size_t i;
	void *p;

	if (cat_init(&cat, desc, target, reverse) != 0)
		goto fail;
	i = cat_find(b->cats, b->ncat, cat.label);
	if (i < b->ncat) {
		cat_clear(&cat);
		return (long)i;
	}
	p = array_grow(b->cats, b->ncat, sizeof(*b->cats));
	if (p == NULL)
		goto fail;
	b->cats = p;
	p = array_grow(b->seen, b->ncat, sizeof(*b->seen));
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

/* Returns the accumulator of CAT/KIND/SIZE in B, adding it, or NULL. */
static struct acc *
build_acc(struct build *b, size_t cat, int kind, long long size)
{
	struct acc *a;
	size_t i;

	for (i = 0; i < b->nacc; i++) {
		a = &b->accs[i];
		if (a->cat == cat && a->kind == kind && a->size == size)
			return a;
	}
	a = array_grow(b->accs, b->nacc, sizeof(*b->accs));
	if (a == NULL)
		return NULL;
	b->accs = a;
	a = &b->accs[b->nacc++];
	memset(a, 0, sizeof(*a));
	a->cat = cat;
	a->kind = kind;
	a->size = size;
	return a;
}

/* Whether protocol P (NULL: none given) is NAME. */
static int
is_proto(const char *p, const char *name)
{
	return p != NULL && strcmp(p, name) == 0;
}

/* Adds a note to B of protocol PROTO, error MSG and ENTRY (the result, or
 * the ICMP entry measured with TOOL): what its rows show, copied. */
static int
build_note(struct build *b, size_t cat, const char *proto, const char *msg,
    const json_t *entry, const char *tool)
{
	static const char *const icmp_keys[NOTE_FIGS] = {"packet_size",
	    "tx_packets", "rx_packets", "rtt_min_ms", "rtt_avg_ms",
	    "rtt_max_ms", "rtt_stddev"};
	int icmp = is_proto(proto, "ICMP");
	struct note n = {.cat = cat};
	struct note *v;
	int i;

	if ((proto != NULL &&
	        (n.proto = rec_str_hold(b->strings, proto)) == NULL) ||
	    (tool != NULL &&
	        (n.tool = rec_str_hold(b->strings, tool)) == NULL) ||
	    (msg != NULL && (n.msg = strdup(msg)) == NULL))
		return -1;
	for (i = 0; i < NOTE_FIGS; i++)
		n.fig[i] = icmp || i == NOTE_SIZE
		               ? model_num(json_object_get(
		                     entry, icmp ? icmp_keys[i] : "pkt_size"))
		               : NAN;
	v = array_grow(b->notes, b->nnote, sizeof(*b->notes));
	if (v == NULL) {
		free(n.msg);
		return -1;
	}
	b->notes = v;
	b->notes[b->nnote++] = n;
	return 0;
}

/* The series kind (enum chart_kind) of protocol P, or -1: none has one. */
static int
kind_of(const char *p)
{
	if (is_proto(p, "TCP"))
		return CHART_KIND_TCP;
	if (is_proto(p, "UDP"))
		return CHART_KIND_UDP;
	if (is_proto(p, "Multicast"))
		return CHART_KIND_MULTICAST;
	return -1;
}

int
result_shown(int proto, const char *p)
{
	switch (kind_of(p)) {
	case CHART_KIND_TCP:
		return proto == CHART_PROTO_ALL || proto == CHART_PROTO_TCP;
	case CHART_KIND_UDP:
		return proto == CHART_PROTO_ALL || proto == CHART_PROTO_UDP;
	case CHART_KIND_MULTICAST:
		return proto == CHART_PROTO_ALL ||
		       proto == CHART_PROTO_MULTICAST;
	}
	/* ICMP has a table of its own, shown with all protocols */
	return !is_proto(p, "ICMP") || proto == CHART_PROTO_ALL;
}

/* Returns the CPU of HOST in A, adding it, or NULL. */
static struct cpu_acc *
acc_cpu_host(struct acc *a, const char *host)
{
	struct cpu_acc *c;
	size_t i;

	for (i = 0; i < a->ncpu; i++)
		if (strcmp(a->cpu[i].host, host) == 0)
			return &a->cpu[i];
	c = array_grow(a->cpu, a->ncpu, sizeof(*a->cpu));
	if (c == NULL)
		return NULL;
	a->cpu = c;
	c = &a->cpu[a->ncpu];
	memset(c, 0, sizeof(*c));
	c->host = strdup(host);
	if (c->host == NULL)
		return NULL;
	a->ncpu++;
	return c;
}

/* Adds the cpu_load of a sample ({host: [baseline, reading...]}) to A. */
static int
acc_cpu(struct acc *a, const json_t *load)
{
	const char *host;
	json_t *list;

	json_object_foreach ((json_t *)load, host, list) {
		struct cpu_acc *c;
		json_t *v;
		size_t i;

		if (!json_is_array(list) || json_array_size(list) == 0)
			continue;
		c = acc_cpu_host(a, host);
		if (c == NULL)
			return -1;
		json_array_foreach (list, i, v) {
			double x = model_num(v);

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

/* Adds X to the sum, minimum and maximum of the *N figures so far. */
static void
acc_range(double x, double *sum, double *min, double *max, int *n)
{
	if (*n == 0 || x < *min)
		*min = x;
	if (*n == 0 || x > *max)
		*max = x;
	*sum += x;
	(*n)++;
}

/* Adds the per-second figures of INTERVALS (a list, or NULL) to A. */
static void
acc_intervals(struct acc *a, const json_t *intervals)
{
	json_t *v;
	size_t i;
	int any = 0;

	json_array_foreach ((json_t *)intervals, i, v) {
		double x = model_num(v);

		if (isnan(x))
			continue;
		acc_range(x, &a->iv_sum, &a->iv_min, &a->iv_max, &a->iv_n);
		any = 1;
	}
	a->iv_loops += any;
}

/* Adds the number at KEY of R, if any, to *SUM and counts it in *N. */
static void
acc_add(double *sum, int *n, const json_t *r, const char *key)
{
	double x = model_num(json_object_get(r, key));

	if (!isnan(x)) {
		*sum += x;
		(*n)++;
	}
}

/* Returns the pkt_size of R, or -1 when it gives none. */
static long long
pkt_size(const json_t *r)
{
	json_t *size = json_object_get(r, "pkt_size");

	return json_is_number(size) ? (long long)json_number_value(size) : -1;
}

/* Adds one TCP, UDP or Multicast (KIND) result R in category CAT to B. */
static int
build_sample(struct build *b, size_t cat, const json_t *r, int kind)
{
	double kbps = model_num(json_object_get(r, "throughput_kbps"));
	struct acc *a;

	a = build_acc(b, cat, kind, pkt_size(r));
	if (a == NULL)
		return -1;
	if (!isnan(kbps))
		acc_range(kbps, &a->sum, &a->min, &a->max, &a->n);
	acc_add(&a->retrans, &a->retrans_n, r, "retrans");
	acc_add(&a->rtt, &a->rtt_n, r, "rtt_ms");
	acc_add(&a->loss, &a->loss_n, r, "loss_rate");
	/* no rate kept the loss in the bracket: the figure is not one */
	if (json_is_boolean(json_object_get(r, "loss_unstable"))) {
		a->unstable +=
		    json_is_true(json_object_get(r, "loss_unstable"));
		a->unstable_n++;
	}
	/* the sender, not the path, was the limit: the loss is not one of
	 * the bracket */
	a->sender_limited += json_is_true(json_object_get(r, "sender_limited"));
	/* the original wrote a Multicast result's jitter as "jitter" */
	acc_add(&a->jitter, &a->jitter_n, r,
	    json_object_get(r, "jitter_ms") != NULL ? "jitter_ms" : "jitter");
	if (kind == CHART_KIND_TCP)
		acc_intervals(a, json_object_get(r, "intervals"));
	if (json_is_object(json_object_get(r, "cpu_load")))
		return acc_cpu(a, json_object_get(r, "cpu_load"));
	return 0;
}

/*
 * Adds the notes of result R (protocol P or NULL, error MSG or NULL) in
 * category CAT to B: an ICMP result's entries and error, or the error of
 * another, whose series (TCP, UDP or Multicast) keeps its column.
 */
static int
build_notes(struct build *b, size_t cat, const json_t *r, const char *p,
    const char *msg)
{
	int kind = kind_of(p);
	json_t *one;
	size_t j;

	if (is_proto(p, "ICMP")) {
		json_array_foreach (json_object_get(r, "results"), j, one) {
			if (build_note(b, cat, p, model_str(one, "error"), one,
			        model_str(r, "tool")) != 0)
				return -1;
		}
		if (msg != NULL && build_note(b, cat, p, msg, NULL, NULL) != 0)
			return -1;
		return 0;
	}
	if (build_note(b, cat, p, msg, r, NULL) != 0)
		return -1;
	/* the series failed here: it still has its column */
	if (kind >= 0 && json_is_number(json_object_get(r, "pkt_size")) &&
	    build_acc(b, cat, kind, pkt_size(r)) == NULL)
		return -1;
	return 0;
}

/* Collects the results of flow FLOW (borrowed) of a document into B. */
static int
build_flow(struct build *b, const json_t *flow, int proto)
{
	const char *desc = model_str(flow, "desc");
	const char *target = model_str(flow, "ip_to");
	json_t *results = json_object_get(flow, "results");
	json_t *r;
	size_t i;
	long fwd = -1;
	size_t ntime = b->ntime;

	json_array_foreach (results, i, r) {
		const char *p = model_str(r, "protocol");
		const char *msg = model_str(r, "error");
		const char *dir = model_str(r, "direction");
		int rev = dir != NULL && strcmp(dir, "reverse") == 0;
		int kind = kind_of(p);
		int icmp = is_proto(p, "ICMP");
		long cat;

		if (!result_shown(proto, p))
			continue;
		/* a flow is a category once it has something to show */
		if (rev)
			cat = build_cat(b, desc, target, 1);
		else
			cat = fwd =
			    fwd >= 0 ? fwd : build_cat(b, desc, target, 0);
		if (cat < 0)
			return -1;
		if (icmp || msg != NULL) {
			if (build_notes(b, (size_t)cat, r, p, msg) != 0)
				return -1;
			continue;
		}
		if (kind >= 0 && build_sample(b, (size_t)cat, r, kind) != 0)
			return -1;
		if (kind == CHART_KIND_TCP && !b->lean &&
		    timeline_add(&b->times, &b->ntime, b->ntime == ntime, flow,
		        (size_t)cat, r, rev, timeline_loop(results, i)) != 0)
			return -1;
	}
	return 0;
}

/*
 * Collects every flow of DOC into B for PROTO, into SCAN and MESH, and into
 * the flows table FLOWS (initialized) unless it is NULL, then sorts B's
 * categories into report order; its accumulators, notes and timelines
 * follow them.  One pass: a large document's flows are read back one at a
 * time (doc_load_lean()), each read costing a parse.
 */
static int
build_collect(struct build *b, const json_t *doc, int proto, int tcp_sizes,
    struct rows_scan *scan, struct chart_mesh_scan *mesh,
    struct chart_table *flows)
{
	size_t *map = NULL;
	json_t *flow = NULL;
	size_t i;
	int rc = -1;

	for (i = 0; i < doc_flow_count(doc); i++) {
		json_decref(flow);
		flow = doc_flow_at(doc, i);
		if (flow == NULL || build_flow(b, flow, proto) != 0 ||
		    rows_scan_flow(scan, flow) != 0 ||
		    chart_mesh_scan_flow(mesh, flow) != 0 ||
		    (flows != NULL && rows_flows_add(flows, flow) != 0))
			goto out;
	}
	map = calloc(b->ncat + 1, sizeof(*map));
	if (map == NULL)
		goto out;
	cats_sort(b->cats, b->seen, b->ncat, map);
	for (i = 0; i < b->nacc; i++)
		b->accs[i].cat = map[b->accs[i].cat];
	for (i = 0; i < b->nnote; i++)
		b->notes[i].cat = map[b->notes[i].cat];
	rc = timelines_finish(b->times, b->ntime, map, tcp_sizes);
out:
	json_decref(flow);
	free(map);
	return rc;
}

static void
build_free(struct build *b)
{
	size_t i, j;

	cats_free(b->cats, b->ncat);
	free(b->seen);
	for (i = 0; i < b->nacc; i++) {
		for (j = 0; j < b->accs[i].ncpu; j++)
			free(b->accs[i].cpu[j].host);
		free(b->accs[i].cpu);
	}
	free(b->accs);
	for (i = 0; i < b->nnote; i++)
		free(b->notes[i].msg);
	free(b->notes);
	json_decref(b->strings);
	for (i = 0; i < b->ntime; i++)
		timeline_clear(&b->times[i]);
	free(b->times);
}

int
result_tcp_sizes(const json_t *docs, double *first)
{
	json_t *doc, *r;
	json_t *flow = NULL;
	size_t i, j, k;

	json_array_foreach ((json_t *)docs, i, doc) {
		for (j = 0; j < doc_flow_count(doc); j++) {
			json_decref(flow);
			if ((flow = doc_flow_at(doc, j)) == NULL)
				return -1;
			json_array_foreach (
			    json_object_get(flow, "results"), k, r) {
				const char *p = model_str(r, "protocol");
				json_t *size = json_object_get(r, "pkt_size");
				double s = json_is_number(size)
				               ? json_number_value(size)
				               : -1;

				/* the results build_flow() makes series of */
				if (!is_proto(p, "TCP") ||
				    (json_object_get(r, "error") != NULL &&
				        !json_is_number(size)))
					continue;
				if (isnan(*first))
					*first = s;
				else if (s != *first) {
					json_decref(flow);
					return 2;
				}
			}
		}
	}
	json_decref(flow);
	return isnan(*first) ? 0 : 1;
}

/*
 * Makes the series of RES: the distinct (protocol, size) pairs of B's
 * accumulators, sorted and named for TCP_SIZES.
 */
static int
result_series(struct chart_result *res, const struct build *b, int tcp_sizes)
{
	size_t i, j;

	for (i = 0; i < b->nacc; i++) {
		struct chart_series *s;

		for (j = 0; j < res->nser; j++)
			if (res->series[j].kind == b->accs[i].kind &&
			    res->series[j].pkt_size == b->accs[i].size)
				break;
		if (j < res->nser)
			continue;
		s = array_grow(res->series, res->nser, sizeof(*s));
		if (s == NULL)
			return -1;
		res->series = s;
		res->series[res->nser++] = (struct chart_series){
		    NULL, b->accs[i].kind, b->accs[i].size};
	}
	series_sort(res->series, res->nser);
	for (j = 0; j < res->nser; j++)
		if (series_name(&res->series[j], tcp_sizes) != 0)
			return -1;
	return 0;
}

/* Whether A has no figure at all (its measurements all failed). */
static int
acc_empty(const struct acc *a)
{
	return a->n == 0 && a->retrans_n == 0 && a->rtt_n == 0 &&
	       a->loss_n == 0 && a->jitter_n == 0 && a->ncpu == 0 &&
	       a->iv_n == 0;
}

/* Adds the rtt_avg_ms of note N, an ICMP entry, to the RTTs of RES. */
static int
result_rtt(struct chart_result *res, const struct note *n)
{
	double ms = n->fig[NOTE_RTT_AVG];
	long long sz =
	    isnan(n->fig[NOTE_SIZE]) ? -1 : (long long)n->fig[NOTE_SIZE];
	struct chart_rtt *r;
	size_t i;

	if (n->msg != NULL || !is_proto(n->proto, "ICMP") || isnan(ms))
		return 0;
	for (i = 0; i < res->nrtt; i++)
		if (res->rtts[i].cat == n->cat && res->rtts[i].size == sz)
			break;
	if (i == res->nrtt) {
		r = array_grow(res->rtts, res->nrtt, sizeof(*r));
		if (r == NULL)
			return -1;
		res->rtts = r;
		res->rtts[res->nrtt++] = (struct chart_rtt){n->cat, sz, 0, 0};
	}
	res->rtts[i].sum += ms;
	res->rtts[i].n++;
	return 0;
}

/*
 * Fills the Gbps of category I of RES and adds its rows: per series the
 * figures of its accumulator in B, then its notes.
 */
static int
result_cat_rows(struct chart_result *res, const struct build *b, size_t i)
{
	const struct chart_cat *cat = &res->cats[i];
	size_t j, k;

	for (j = 0; j < res->nser; j++) {
		const struct chart_series *s = &res->series[j];

		for (k = 0; k < b->nacc; k++) {
			const struct acc *a = &b->accs[k];

			if (a->cat != i || a->kind != s->kind ||
			    a->size != s->pkt_size)
				continue;
			if (a->n > 0)
				res->gbps[i * res->nser + j] =
				    a->sum / a->n / KBPS_PER_GBPS;
			/* only errors: their rows come with the notes */
			if (!b->lean && !acc_empty(a) &&
			    rows_add_acc(res, cat, s, a) != 0)
				return -1;
		}
	}
	for (k = 0; k < b->nnote; k++) {
		if (b->notes[k].cat != i)
			continue;
		if ((!b->lean && rows_add_note(res, cat, &b->notes[k]) != 0) ||
		    result_rtt(res, &b->notes[k]) != 0)
			return -1;
		res->nerrors += b->notes[k].msg != NULL;
	}
	return 0;
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
		double size = n->fig[NOTE_SIZE];
		int kind = kind_of(n->proto);

		if (n->msg == NULL || kind < 0)
			continue;
		for (j = 0; j < res->nser; j++) {
			const struct chart_series *s = &res->series[j];
			size_t at = n->cat * res->nser + j;

			if (s->kind == kind && isnan(res->gbps[at]) &&
			    (isnan(size) || (long long)size == s->pkt_size))
				res->failed[at] = 1;
		}
	}
	return 0;
}

/* Fills the Gbps, the figures tables and the failures of RES from B. */
static int
result_figures(struct chart_result *res, const struct build *b)
{
	size_t i;

	res->gbps = calloc(res->ncat * res->nser + 1, sizeof(*res->gbps));
	if (res->gbps == NULL)
		return -1;
	for (i = 0; i < res->ncat * res->nser; i++)
		res->gbps[i] = NAN;
	if (rows_init(res) != 0)
		return -1;
	for (i = 0; i < res->ncat; i++)
		if (result_cat_rows(res, b, i) != 0)
			return -1;
	if (mark_failed(res, b) != 0)
		return -1;
	rows_prune(res);
	return 0;
}

/*
 * Keeps what RES shows of DOC besides its flows: its name (NULL when it
 * has none: the report numbers it), date and meta line.
 */
static int
result_doc(struct chart_result *res, const json_t *doc)
{
	/* the line under the heading: when, which run, which cloud */
	static const char *const meta[] = {"date", "run_id",
	    "openstack_version", "encapsulation", "l2agent_type", NULL};
	static const char *const names[] = {
	    "test_description", "date", "run_id", NULL};
	const char *v;
	size_t len = 0;
	FILE *mem;
	int k, any = 0;

	for (k = 0; names[k] != NULL && res->name == NULL; k++) {
		v = model_str(doc, names[k]);
		if (v != NULL && v[0] != '\0' &&
		    (res->name = strdup(v)) == NULL)
			return -1;
	}
	v = model_str(doc, "date");
	if (v != NULL && (res->date = strdup(v)) == NULL)
		return -1;
	mem = open_memstream(&res->meta, &len);
	if (mem == NULL)
		return -1;
	for (k = 0; meta[k] != NULL; k++) {
		v = model_str(doc, meta[k]);
		if (v == NULL || v[0] == '\0')
			continue;
		/* U+00B7 MIDDLE DOT between the parts */
		fprintf(mem, "%s%s%s", any++ > 0 ? " \xc2\xb7 " : "",
		    strcmp(meta[k], "run_id") == 0 ? "run " : "", v);
	}
	return mem_close(mem, &res->meta);
}

int
result_build(struct chart_result *res, json_t *doc, int proto, int tcp_sizes,
    int lean, struct chart_mesh_scan *mesh, struct vmtp_err *err)
{
	struct build b = {0};
	struct rows_scan scan = {0};
	int rc = -1;

	b.lean = lean;
	if ((b.strings = json_object()) == NULL)
		goto out;
	if (result_doc(res, doc) != 0)
		goto out;
	if ((!lean && rows_flows_init(&res->flows) != 0) ||
	    build_collect(&b, doc, proto, tcp_sizes, &scan, mesh,
	        lean ? NULL : &res->flows) != 0 ||
	    rows_scan_limit(&scan, &res->limit) != 0)
		goto out;
	if (!lean)
		rows_flows_done(&res->flows);
	/* the timelines and categories move from the build to the result */
	res->ntime = b.ntime;
	res->times = b.times;
	b.times = NULL;
	b.ntime = 0;
	if (result_series(res, &b, tcp_sizes) != 0)
		goto out;
	res->ncat = b.ncat;
	res->cats = b.cats;
	b.cats = NULL;
	b.ncat = 0;
	if (result_figures(res, &b) != 0 ||
	    (!lean && rows_build_props(&res->props, doc, &scan) != 0))
		goto out;
	rc = 0;
out:
	if (rc != 0)
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
	build_free(&b);
	rows_scan_clear(&scan);
	return rc;
}

void
result_clear(struct chart_result *res)
{
	size_t i;

	free(res->name);
	free(res->date);
	free(res->meta);
	free(res->limit);
	free(res->rtts);
	cats_free(res->cats, res->ncat);
	series_free(res->series, res->nser);
	free(res->gbps);
	free(res->failed);
	table_clear(&res->props);
	table_clear(&res->flows);
	table_clear(&res->numbers);
	table_clear(&res->icmp);
	table_clear(&res->persec);
	for (i = 0; i < res->ntime; i++)
		timeline_clear(&res->times[i]);
	free(res->times);
	chart_mesh_free(res->mesh);
}
