/*
 * trend.c - many results as a trend in vmtp-chart's report (SPEC §6):
 * from CHART_TREND_MIN results on, each flow and series (TCP, UDP and
 * Multicast per packet size, ICMP RTT) is followed over the results in
 * date order, with its min, median, max and the newest result's figure,
 * and the results become one table: a row per result with its mean
 * figures over flows.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "model.h"

/* The digits of a date that order it: "2015-03-04 22:33:40" and
 * "2015-03-04T22:33:40Z" alike, up to the second. */
#define DATE_KEY_LEN 15

/* A result's place in date order. */
struct when {
	char key[DATE_KEY_LEN]; /* the digits of its date, "" for none */
	size_t i;               /* its index in the input */
};

static void
date_key(char key[DATE_KEY_LEN], const char *date)
{
	size_t n = 0;

	for (; date != NULL && *date != '\0' && n + 1 < DATE_KEY_LEN; date++)
		if (isdigit((unsigned char)*date))
			key[n++] = *date;
	key[n] = '\0';
}

static int
when_cmp(const void *a, const void *b)
{
	const struct when *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Fills T's order: oldest first (struct chart_trend says how). */
static int
trend_order(struct chart_trend *t, const struct chart_report *rep)
{
	struct when *w = calloc(rep->nresults + 1, sizeof(*w));
	size_t i;

	t->order = calloc(rep->nresults + 1, sizeof(*t->order));
	if (w == NULL || t->order == NULL) {
		free(w);
		return -1;
	}
	for (i = 0; i < rep->nresults; i++) {
		w[i].i = i;
		date_key(w[i].key, rep->results[i].date);
		/* no date: where it came in the input */
		if (w[i].key[0] == '\0' && i > 0)
			memcpy(w[i].key, w[i - 1].key, DATE_KEY_LEN);
	}
	qsort(w, rep->nresults, sizeof(*w), when_cmp);
	for (i = 0; i < rep->nresults; i++)
		t->order[i] = w[i].i;
	free(w);
	return 0;
}

/* Names the RTT series of packet SIZE (-1: none given) into T. */
static int
trend_rtt_series(struct chart_trend *t, long long size)
{
	char *name;
	void *p;
	size_t j;

	if (size < 0)
		name = strdup("ICMP RTT");
	else if (asprintf(&name, "ICMP RTT %lld", size) < 0)
		name = NULL;
	if (name == NULL)
		return -1;
	for (j = 0; j < t->nser; j++) {
		if (strcmp(t->series[j], name) == 0) {
			free(name);
			return 0;
		}
	}
	if ((p = array_grow(t->series, t->nser, sizeof(*t->series))) == NULL)
		goto fail;
	t->series = p;
	if ((p = array_grow(t->rtt, t->nser, sizeof(*t->rtt))) == NULL)
		goto fail;
	t->rtt = p;
	t->rtt[t->nser] = 1;
	t->series[t->nser++] = name;
	return 0;
fail:
	free(name);
	return -1;
}

/* The series of T: the comparison's, then ICMP RTT per packet size. */
static int
trend_series(struct chart_trend *t, const struct chart_report *rep)
{
	const struct chart_compare *c = &rep->compare;
	size_t i, j;
	void *p;

	for (j = 0; j < c->nser; j++) {
		if ((p = array_grow(t->series, t->nser, sizeof(*t->series))) ==
		    NULL)
			return -1;
		t->series = p;
		if ((p = array_grow(t->rtt, t->nser, sizeof(*t->rtt))) == NULL)
			return -1;
		t->rtt = p;
		t->rtt[t->nser] = 0;
		t->series[t->nser] = strdup(c->series[j].name);
		if (t->series[t->nser++] == NULL)
			return -1;
	}
	for (i = 0; i < rep->nresults; i++)
		for (j = 0; j < rep->results[i].nrtt; j++)
			if (trend_rtt_series(t, rep->results[i].rtts[j].size) !=
			    0)
				return -1;
	return 0;
}

/*
 * Returns result RES's figure for trend series S (the RTT series of
 * SIZE when RTT) in the comparison's category CAT, or NAN.
 */
static double
trend_value(const struct chart_report *rep, const struct chart_trend *t,
    size_t r, size_t s, size_t cat)
{
	const struct chart_compare *c = &rep->compare;
	const struct chart_result *res = &rep->results[r];
	size_t j;

	if (!t->rtt[s])
		return c->gbps[(s * c->ncat + cat) * rep->nresults + r];
	for (j = 0; j < res->nrtt; j++) {
		const struct chart_rtt *x = &res->rtts[j];
		char name[64];

		if (strcmp(res->cats[x->cat].label, c->cats[cat].label) != 0)
			continue;
		if (x->size < 0)
			snprintf(name, sizeof(name), "ICMP RTT");
		else
			snprintf(name, sizeof(name), "ICMP RTT %lld", x->size);
		if (strcmp(name, t->series[s]) == 0)
			return x->sum / x->n;
	}
	return NAN;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Fills the figures of panel P (its values set) over N results: min,
 * median (the mean of the middle two of an even count), max, newest.
 * SCRATCH has room for N figures.
 */
static void
panel_stats(struct chart_panel *p, size_t n, double *scratch)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (!isnan(p->values[i]))
			scratch[k++] = p->values[i];
	qsort(scratch, k, sizeof(*scratch), dbl_cmp);
	p->n = k;
	p->min = scratch[0];
	p->max = scratch[k - 1];
	p->median = k % 2 == 1 ? scratch[k / 2]
	                       : (scratch[k / 2 - 1] + scratch[k / 2]) / 2;
	p->newest = p->values[n - 1];
}

/* Adds the panels of series S to T: one per flow that has a figure. */
static int
trend_panels(struct chart_trend *t, const struct chart_report *rep, size_t s,
    double *scratch)
{
	const size_t nr = rep->nresults;
	size_t cat, k;

	for (cat = 0; cat < rep->compare.ncat; cat++) {
		struct chart_panel *p;
		int any = 0;

		p = array_grow(t->panels, t->npanel, sizeof(*t->panels));
		if (p == NULL)
			return -1;
		t->panels = p;
		p = &t->panels[t->npanel];
		memset(p, 0, sizeof(*p));
		p->values = calloc(nr, sizeof(*p->values));
		if (p->values == NULL)
			return -1;
		p->cat = cat;
		p->series = s;
		for (k = 0; k < nr; k++) {
			p->values[k] = trend_value(rep, t, t->order[k], s, cat);
			any |= !isnan(p->values[k]);
		}
		if (!any) {
			free(p->values);
			continue;
		}
		panel_stats(p, nr, scratch);
		t->npanel++;
	}
	return 0;
}

/* The trend table: a row per panel. */
static int
trend_table(struct chart_trend *t, const struct chart_report *rep)
{
	static const char *const head[] = {
	    "Flow", "Series", "Results", "Min", "Median", "Max", "Newest"};
	static const int numeric[] = {0, 0, 1, 1, 1, 1, 1};
	char b[5][TABLE_NUM_LEN];
	size_t i;

	if (table_init(&t->table, "Trend (Gbps; ICMP RTT in ms)", 7, head,
	        numeric) != 0)
		return -1;
	for (i = 0; i < t->npanel; i++) {
		const struct chart_panel *p = &t->panels[i];
		const char *cells[7];

		cells[0] = rep->compare.cats[p->cat].label;
		cells[1] = t->series[p->series];
		cells[2] = table_num(b[0], 0, (double)p->n);
		cells[3] = table_num(b[1], 3, p->min);
		cells[4] = table_num(b[2], 3, p->median);
		cells[5] = table_num(b[3], 3, p->max);
		cells[6] = table_num(b[4], 3, p->newest);
		if (table_add(&t->table, 0, 7, cells) != 0)
			return -1;
	}
	return 0;
}

/*
 * The results table: date, name, the mean over flows of each series,
 * errors; newest first.
 */
static int
trend_runs(struct chart_trend *t, const struct chart_report *rep)
{
	const int ncols = (int)t->nser + 3;
	const char **head = calloc((size_t)ncols, sizeof(*head));
	const char **cells = calloc((size_t)ncols, sizeof(*cells));
	int *numeric = calloc((size_t)ncols, sizeof(*numeric));
	char(*b)[TABLE_NUM_LEN] = calloc(t->nser + 1, sizeof(*b));
	char **names = calloc(t->nser + 1, sizeof(*names));
	size_t s, k, i;
	int rc = -1;

	if (head == NULL || cells == NULL || numeric == NULL || b == NULL ||
	    names == NULL)
		goto out;
	head[0] = "Date";
	head[1] = "Result";
	for (s = 0; s < t->nser; s++) {
		if (asprintf(&names[s], "%s %s", t->series[s],
		        t->rtt[s] ? "ms" : "Gbps") < 0) {
			names[s] = NULL;
			goto out;
		}
		head[s + 2] = names[s];
		numeric[s + 2] = 1;
	}
	head[ncols - 1] = "Errors";
	numeric[ncols - 1] = 1;
	if (table_init(&t->runs, "Results, newest first (mean over flows)",
	        ncols, head, numeric) != 0)
		goto out;
	for (k = rep->nresults; k-- > 0;) {
		const struct chart_result *res = &rep->results[t->order[k]];
		char errs[TABLE_NUM_LEN];

		cells[0] = res->date;
		cells[1] = res->name;
		for (s = 0; s < t->nser; s++) {
			double sum = 0;
			int n = 0;

			for (i = 0; i < t->npanel; i++) {
				double v = t->panels[i].values[k];

				if (t->panels[i].series == s && !isnan(v)) {
					sum += v;
					n++;
				}
			}
			cells[s + 2] =
			    table_num(b[s], 3, n > 0 ? sum / n : NAN);
		}
		cells[ncols - 1] = table_num(errs, 0, res->nerrors);
		if (table_add(&t->runs, 0, ncols, cells) != 0)
			goto out;
	}
	rc = 0;
out:
	for (s = 0; names != NULL && s < t->nser; s++)
		free(names[s]);
	free(names);
	free(head);
	free(cells);
	free(numeric);
	free(b);
	return rc;
}

int
trend_build(struct chart_report *rep)
{
	struct chart_trend *t = &rep->trend;
	double *scratch = calloc(rep->nresults + 1, sizeof(*scratch));
	size_t s;
	int rc = -1;

	if (scratch == NULL || trend_order(t, rep) != 0 ||
	    trend_series(t, rep) != 0)
		goto out;
	for (s = 0; s < t->nser; s++)
		if (trend_panels(t, rep, s, scratch) != 0)
			goto out;
	if (trend_table(t, rep) != 0 || trend_runs(t, rep) != 0)
		goto out;
	rc = 0;
out:
	free(scratch);
	return rc;
}

void
trend_clear(struct chart_trend *t)
{
	size_t i;

	free(t->order);
	for (i = 0; i < t->nser; i++)
		free(t->series[i]);
	free(t->series);
	free(t->rtt);
	for (i = 0; i < t->npanel; i++)
		free(t->panels[i].values);
	free(t->panels);
	table_clear(&t->table);
	table_clear(&t->runs);
}
