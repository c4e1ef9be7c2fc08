/*
 * timeline.c - the throughput over time in vmtp-chart's report (SPEC §6):
 * per flow a panel, per TCP result with "intervals" a line of its
 * per-second Gbps, named by its run ("loop 2"), direction and size.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/flow.h"

#include "chart.h"
#include "model.h"

/* Whether R, a result, ran in the reverse direction. */
static int
is_reverse(const json_t *r)
{
	const char *dir = model_str(r, "direction");

	return dir != NULL && strcmp(dir, "reverse") == 0;
}

int
timeline_loop(const json_t *results, size_t i)
{
	const json_t *r = json_array_get(results, i);
	int rev = is_reverse(r);
	double size = model_num(json_object_get(r, "pkt_size"));
	int loop = 1;
	size_t k;

	/* every measured run counts, with intervals or not: "loop 2" is
	 * the second run even when the first gave none */
	for (k = 0; k < i; k++) {
		const json_t *o = json_array_get(results, k);
		const char *p = model_str(o, "protocol");
		double s = model_num(json_object_get(o, "pkt_size"));

		if (p == NULL || strcmp(p, "TCP") != 0 ||
		    json_object_get(o, "error") != NULL)
			continue;
		if (is_reverse(o) != rev)
			continue;
		if (s == size || (isnan(s) && isnan(size)))
			loop++;
	}
	return loop;
}

/*
 * Adds a timeline for FLOW (a document's flow, borrowed), at category CAT,
 * to *TIMES.
 * Returns 0, or -1.
 */
static int
timeline_new(struct chart_timeline **times, size_t *ntime, const json_t *flow,
    size_t cat)
{
	const char *desc = model_str(flow, "desc");
	struct chart_timeline *t;
	struct chart_cat c;
	int rc;

	t = array_grow(*times, *ntime, sizeof(**times));
	if (t == NULL)
		return -1;
	*times = t;
	t = &t[(*ntime)++];
	memset(t, 0, sizeof(*t));
	t->cat = cat;
	rc = cat_init(&c, desc, model_str(flow, "ip_to"), 0);
	if (rc == 0) {
		/* an external flow holds Upload and Download */
		t->label = strdup(
		    c.group == FLOW_GROUP_EXTERNAL ? "External host" : c.label);
		t->desc = strdup(desc);
		if (t->label == NULL || t->desc == NULL)
			rc = -1;
	}
	cat_clear(&c);
	return rc;
}

int
timeline_add(struct chart_timeline **times, size_t *ntime, int new,
    const json_t *flow, size_t cat, const json_t *r, int reverse, int loop)
{
	json_t *iv = json_object_get(r, "intervals");
	json_t *size = json_object_get(r, "pkt_size");
	struct chart_timeline *t;
	struct chart_line *l;
	json_t *v;
	size_t i;
	int any = 0;

	json_array_foreach (iv, i, v) {
		any |= !isnan(model_num(v));
	}
	if (!any)
		return 0;
	if (new &&timeline_new(times, ntime, flow, cat) != 0)
		return -1;
	t = &(*times)[*ntime - 1];
	if (cat < t->cat)
		t->cat = cat;
	l = array_grow(t->lines, t->nline, sizeof(*t->lines));
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
		l->gbps[i] = model_num(json_array_get(iv, i)) / KBPS_PER_GBPS;
	return 0;
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
		char prefix[32] = ""; /* "TCP %lld ": 4 + 20 + 1 characters */
		int nrev = 0;
		int rc;

		for (j = 0; j < t->nline; j++)
			nrev += t->lines[j].reverse &&
			        t->lines[j].pkt_size == l->pkt_size;
		if (tcp_sizes > 1 && l->pkt_size >= 0)
			snprintf(
			    prefix, sizeof(prefix), "TCP %lld ", l->pkt_size);
		if (!l->reverse)
			rc = asprintf(&l->name, "%sloop %d", prefix, l->loop);
		else if (nrev == 1)
			rc = asprintf(&l->name, "%sreverse", prefix);
		else
			rc =
			    asprintf(&l->name, "%sreverse %d", prefix, l->loop);
		if (rc < 0) {
			l->name = NULL;
			return -1;
		}
	}
	return 0;
}

int
timelines_finish(
    struct chart_timeline *times, size_t n, const size_t *map, int tcp_sizes)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		struct chart_timeline t;

		/* insertion sort by category, stable: flows in input order */
		times[i].cat = map[times[i].cat];
		t = times[i];
		for (j = i; j > 0 && times[j - 1].cat > t.cat; j--)
			times[j] = times[j - 1];
		times[j] = t;
	}
	for (i = 0; i < n; i++)
		if (timeline_finish(&times[i], tcp_sizes) != 0)
			return -1;
	return 0;
}

void
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
