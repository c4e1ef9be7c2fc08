/*
 * html.c - the report as one self-contained HTML file (SPEC §6): the
 * template and stylesheet of share/html (compiled in by mk/embed.sh), the
 * charts inline as SVG, every string from the data escaped.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvmtp/cli.h"
#include "libvmtp/err.h"

#include "chart.h"
#include "mesh.h"
#include "model.h"

/* build/vmtp-chart/assets.c, made from share/html by mk/embed.sh */
extern const char asset_report_html[];
extern const char asset_report_css[];

static void
esc(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&#39;", fp);
			break;
		default:
			fputc(*s, fp);
		}
	}
}

/*
 * Ends a <tr> tag with the row's first two cells as data attributes, so
 * that scripts (and the tests) find a figure by flow and series.
 */
static void
row_keys(FILE *fp, const struct chart_row *row)
{
	fputs(" data-flow=\"", fp);
	esc(fp, row->cells[0]);
	fputs("\" data-series=\"", fp);
	esc(fp, row->cells[1]);
	fputs("\">", fp);
}

/* Whether row R of T is shown when ONLY_BAD: an error, or a FAILED flow. */
static int
row_bad(const struct chart_table *t, size_t r)
{
	const struct chart_row *row = &t->rows[r];

	return row->error ||
	       (t->verdict > 0 &&
	           strcmp(row->cells[t->verdict - 1], "FAILED") == 0);
}

/* Writes table T with CLASS; with ONLY_BAD, only its errors and FAILED
 * flows. */
static void
table_rows(
    FILE *fp, const struct chart_table *t, const char *class, int only_bad)
{
	const char *prev = NULL;
	size_t r;
	int c, same;

	fprintf(fp, "<table class=\"%s\">\n<thead><tr>", class);
	for (c = 0; c < t->ncols; c++) {
		fputs(t->numeric[c] ? "<th class=\"num\">" : "<th>", fp);
		esc(fp, t->head[c]);
		fputs("</th>", fp);
	}
	fputs("</tr></thead>\n<tbody>\n", fp);
	for (r = 0; r < t->nrows; r++) {
		const struct chart_row *row = &t->rows[r];

		if (only_bad && !row_bad(t, r))
			continue;
		if (row->error) {
			same = prev != NULL && strcmp(prev, row->cells[0]) == 0;
			fputs(same || r == 0 ? "<tr class=\"error\""
			                     : "<tr class=\"error first\"",
			    fp);
			row_keys(fp, row);
			fputs("<td>", fp);
			if (!same)
				esc(fp, row->cells[0]);
			prev = row->cells[0];
			fputs("</td><td>", fp);
			esc(fp, row->cells[1]);
			fprintf(fp,
			    "</td><td class=\"msg\" colspan=\"%d\">"
			    "<span class=\"badge\">error</span>",
			    t->ncols > 2 ? t->ncols - 2 : 1);
			esc(fp, row->cells[2]);
			fputs("</td></tr>\n", fp);
			continue;
		}
		/* rows of one flow form a block: its name once, on top */
		same = prev != NULL && strcmp(prev, row->cells[0]) == 0;
		fputs(same || r == 0 ? "<tr" : "<tr class=\"first\"", fp);
		row_keys(fp, row);
		for (c = 0; c < t->ncols; c++) {
			fputs(
			    t->numeric[c] ? "<td class=\"num\">" : "<td>", fp);
			if (c > 0 || !same)
				esc(fp, row->cells[c]);
			fputs("</td>", fp);
		}
		prev = row->cells[0];
		fputs("</tr>\n", fp);
	}
	fputs("</tbody>\n</table>\n", fp);
}

static void
table_write(FILE *fp, const struct chart_table *t, const char *class)
{
	table_rows(fp, t, class, 0);
}

/* The number of rows of T that table_rows() shows with ONLY_BAD. */
static size_t
table_bad(const struct chart_table *t)
{
	size_t r, n = 0;

	for (r = 0; r < t->nrows; r++)
		n += (size_t)row_bad(t, r);
	return n;
}

/* The property table: the first column is a header of its row. */
static void
props_write(FILE *fp, const struct chart_table *t)
{
	size_t r;

	fputs("<table class=\"props\">\n<tbody>\n", fp);
	for (r = 0; r < t->nrows; r++) {
		fputs("<tr><th scope=\"row\">", fp);
		esc(fp, t->rows[r].cells[0]);
		fputs("</th><td>", fp);
		esc(fp, t->rows[r].cells[1]);
		fputs("</td></tr>\n", fp);
	}
	fputs("</tbody>\n</table>\n", fp);
}

static int
any_value(const double *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isnan(v[i]))
			return 1;
	return 0;
}

/* Writes SVG as a figure, its caption NAME (when not NULL) then CAPTION. */
static void
figure_write(FILE *fp, const char *svg, const char *name, const char *caption)
{
	fputs("<figure class=\"chart\">\n", fp);
	fputs(svg, fp);
	fputs("\n<figcaption>", fp);
	if (name != NULL)
		esc(fp, name);
	esc(fp, caption);
	fputs("</figcaption>\n</figure>\n", fp);
}

/* What the charts need besides the report: names and flat arrays. */
struct charts {
	size_t n;
	struct plot *plots;
	char **svgs;
	const char **names;      /* series names of all plots, back to back */
	long *result_chart;      /* per result: its chart, or -1 */
	long *heat_chart;        /* per result: its TCP heat map, or -1 */
	long *rtt_chart;         /* per result: its RTT heat map, or -1 */
	long *compare_chart;     /* per compared series: its chart, or -1 */
	struct chart_cat **cats; /* per compared series: flows it has */
	double **values;         /* per compared series: their values */
	size_t ncompare;
	long *time_chart; /* per result: its first timeline's chart */
	double **lines;   /* per timeline of all results: its values */
	size_t nlines;
	long trend_chart;   /* the first trend panel's chart, -1: none */
	char **xtics;       /* a trend's x labels, per result in date order */
	size_t nxtics;      /* its length: labels, and NULL where none */
	const char *xnames; /* names of the trend lines: none */
};

static void
charts_free(struct charts *ch)
{
	size_t i;

	for (i = 0; i < ch->n; i++)
		free(ch->svgs[i]);
	for (i = 0; i < ch->ncompare; i++) {
		free(ch->cats[i]);
		free(ch->values[i]);
	}
	for (i = 0; i < ch->nlines; i++)
		free(ch->lines[i]);
	free(ch->lines);
	for (i = 0; i < ch->nxtics; i++)
		free(ch->xtics[i]);
	free(ch->xtics);
	free(ch->time_chart);
	free(ch->cats);
	free(ch->values);
	free(ch->svgs);
	free(ch->plots);
	free(ch->names);
	free(ch->result_chart);
	free(ch->heat_chart);
	free(ch->rtt_chart);
	free(ch->compare_chart);
}

/* Makes room in CH for the charts of REP and the names they show. */
static int
charts_alloc(struct charts *ch, const struct chart_report *rep)
{
	const struct chart_compare *c = &rep->compare;
	size_t nnames = c->nser > 0 ? rep->nresults : 0;
	size_t ntime = 0, nplots;
	size_t i, j;

	for (i = 0; i < rep->nresults; i++) {
		nnames += rep->results[i].nser;
		ntime += rep->results[i].ntime;
		for (j = 0; j < rep->results[i].ntime; j++)
			nnames += rep->results[i].times[j].nline;
	}
	nplots = 3 * rep->nresults + c->nser + ntime + rep->trend.npanel;
	ch->plots = calloc(nplots + 1, sizeof(*ch->plots));
	ch->svgs = calloc(nplots + 1, sizeof(*ch->svgs));
	ch->names = calloc(nnames + 1, sizeof(*ch->names));
	ch->time_chart = calloc(rep->nresults + 1, sizeof(long));
	ch->lines = calloc(ntime + 1, sizeof(*ch->lines));
	ch->result_chart = calloc(rep->nresults + 1, sizeof(long));
	ch->heat_chart = calloc(rep->nresults + 1, sizeof(long));
	ch->rtt_chart = calloc(rep->nresults + 1, sizeof(long));
	ch->compare_chart = calloc(c->nser + 1, sizeof(long));
	ch->cats = calloc(c->nser + 1, sizeof(*ch->cats));
	ch->values = calloc(c->nser + 1, sizeof(*ch->values));
	if (ch->plots == NULL || ch->svgs == NULL || ch->names == NULL ||
	    ch->result_chart == NULL || ch->compare_chart == NULL ||
	    ch->heat_chart == NULL || ch->rtt_chart == NULL ||
	    ch->cats == NULL || ch->values == NULL || ch->time_chart == NULL ||
	    ch->lines == NULL)
		return -1;
	ch->ncompare = c->nser;
	return 0;
}

/*
 * Adds the column chart of each result of REP that has a value, its
 * series names from CH's name *K on.
 */
static void
charts_results(struct charts *ch, const struct chart_report *rep, size_t *k)
{
	size_t i, j;

	for (i = 0; i < rep->nresults; i++) {
		const struct chart_result *res = &rep->results[i];
		int wide = (int)(res->ncat * res->nser);

		ch->result_chart[i] = -1;
		if (!any_value(res->gbps, res->ncat * res->nser))
			continue;
		for (j = 0; j < res->nser; j++)
			ch->names[*k + j] = res->series[j].name;
		ch->plots[ch->n] = (struct plot){res->ncat, res->cats,
		    res->nser, &ch->names[*k], res->gbps, res->failed,
		    wide > 40 ? 1000 + (wide - 40) * 14 : 1000, 430,
		    "Throughput (Gbps)", 1, 0, 0, {0, 0, 0}, NULL, NULL, 0};
		*k += res->nser;
		ch->result_chart[i] = (long)ch->n++;
	}
}

/* Whether the heat maps of REP show TCP, and RTT (as its tables do). */
static int
heat_tcp(const struct chart_report *rep)
{
	return result_shown(rep->proto, "TCP");
}

static int
heat_rtt(const struct chart_report *rep)
{
	return result_shown(rep->proto, "ICMP");
}

/* Adds the heat maps of each mesh result of REP that has figures. */
static void
charts_heat(struct charts *ch, const struct chart_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nresults; i++) {
		const struct chart_mesh *m = rep->results[i].mesh;

		ch->heat_chart[i] = ch->rtt_chart[i] = -1;
		if (m == NULL)
			continue;
		if (heat_tcp(rep) && any_value(m->gbps, m->n * m->n)) {
			ch->plots[ch->n] = (struct plot){0};
			ch->plots[ch->n].mesh = m;
			ch->heat_chart[i] = (long)ch->n++;
		}
		if (heat_rtt(rep) && chart_mesh_has_rtt(m)) {
			ch->plots[ch->n] = (struct plot){0};
			ch->plots[ch->n].mesh = m;
			ch->plots[ch->n].rtt = 1;
			ch->rtt_chart[i] = (long)ch->n++;
		}
	}
}

/*
 * Adds a chart per compared series of REP: its flows on x, a column per
 * result, named from CH's name *K on.  Returns 0, or -1.
 */
static int
charts_compare(struct charts *ch, const struct chart_report *rep, size_t *k)
{
	const struct chart_compare *c = &rep->compare;
	const size_t nr = rep->nresults;
	size_t i, j;

	if (c->nser == 0)
		return 0;
	for (j = 0; j < nr; j++)
		ch->names[*k + j] = rep->results[j].name;
	for (i = 0; i < c->nser; i++) {
		const double *v = &c->gbps[i * c->ncat * nr];
		size_t ncat = 0;

		/* only the flows that have this series in some result */
		ch->compare_chart[i] = -1;
		ch->cats[i] = calloc(c->ncat + 1, sizeof(**ch->cats));
		ch->values[i] = calloc(c->ncat * nr + 1, sizeof(**ch->values));
		if (ch->cats[i] == NULL || ch->values[i] == NULL)
			return -1;
		for (j = 0; j < c->ncat; j++) {
			if (!any_value(&v[j * nr], nr))
				continue;
			ch->cats[i][ncat] = c->cats[j];
			memcpy(&ch->values[i][ncat * nr], &v[j * nr],
			    nr * sizeof(*v));
			ncat++;
		}
		if (ncat == 0)
			continue;
		ch->plots[ch->n] = (struct plot){ncat, ch->cats[i], nr,
		    &ch->names[*k], ch->values[i], NULL, 560, 340,
		    "Throughput (Gbps)", 0, 0, 0, {0, 0, 0}, NULL, NULL, 0};
		ch->compare_chart[i] = (long)ch->n++;
	}
	*k += nr;
	return 0;
}

/* Adds the line chart of timeline T, its lines named from CH's *K on. */
static int
charts_timeline(struct charts *ch, const struct chart_timeline *t, size_t *k)
{
	size_t l, s, n = 0;
	double *v;

	for (l = 0; l < t->nline; l++)
		if (t->lines[l].n > n)
			n = t->lines[l].n;
	v = calloc(t->nline * n + 1, sizeof(*v));
	if (v == NULL)
		return -1;
	ch->lines[ch->nlines++] = v;
	for (l = 0; l < t->nline; l++) {
		ch->names[*k + l] = t->lines[l].name;
		for (s = 0; s < n; s++)
			v[l * n + s] =
			    s < t->lines[l].n ? t->lines[l].gbps[s] : NAN;
	}
	ch->plots[ch->n++] = (struct plot){0, NULL, t->nline, &ch->names[*k], v,
	    NULL, 560, 300, "Gbps", 1, n, 0, {0, 0, 0}, NULL, NULL, 0};
	*k += t->nline;
	return 0;
}

/*
 * Labels the x axis of REP's trend panels: the date (its day) or the
 * number of the first, the last and two results between them.
 */
static int
charts_xtics(struct charts *ch, const struct chart_report *rep)
{
	const size_t n = rep->nresults;
	size_t at[4] = {0, n / 3, 2 * n / 3, n - 1};
	size_t k;

	ch->xtics = calloc(n + 1, sizeof(*ch->xtics));
	if (ch->xtics == NULL)
		return -1;
	ch->nxtics = n;
	for (k = 0; k < 4; k++) {
		const struct chart_result *res =
		    &rep->results[rep->trend.order[at[k]]];

		if (ch->xtics[at[k]] != NULL)
			continue;
		if (res->date != NULL && res->date[0] != '\0'
		        ? asprintf(&ch->xtics[at[k]], "%.10s", res->date) < 0
		        : asprintf(&ch->xtics[at[k]], "#%zu", at[k] + 1) < 0) {
			ch->xtics[at[k]] = NULL;
			return -1;
		}
	}
	return 0;
}

/* Adds a chart per panel of REP's trend. */
static int
charts_trend(struct charts *ch, const struct chart_report *rep)
{
	const struct chart_trend *t = &rep->trend;
	size_t i;

	ch->trend_chart = t->npanel > 0 ? (long)ch->n : -1;
	if (t->npanel == 0)
		return 0;
	if (charts_xtics(ch, rep) != 0)
		return -1;
	for (i = 0; i < t->npanel; i++) {
		const struct chart_panel *p = &t->panels[i];

		ch->plots[ch->n++] =
		    (struct plot){0, NULL, 1, &ch->xnames, p->values, NULL, 400,
		        220, t->rtt[p->series] ? "RTT (ms)" : "Gbps", 0,
		        rep->nresults, 1, {p->min, p->median, p->max},
		        (const char *const *)ch->xtics, NULL, 0};
	}
	return 0;
}

/* Whether REP shows each result's own section. */
static int
sections_shown(const struct chart_report *rep)
{
	return !CHART_IS_TREND(rep) || rep->detail;
}

/* Draws every chart of REP with one gnuplot run. */
static int
charts_draw(struct charts *ch, const struct chart_report *rep, struct proc **gp,
    struct vmtp_err *err)
{
	size_t i, j, k = 0;

	ch->trend_chart = -1;
	ch->xnames = "";
	if (charts_alloc(ch, rep) != 0)
		goto oom;
	for (i = 0; i < rep->nresults; i++)
		ch->result_chart[i] = ch->time_chart[i] = ch->heat_chart[i] =
		    ch->rtt_chart[i] = -1;
	if (sections_shown(rep)) {
		charts_heat(ch, rep);
		charts_results(ch, rep, &k);
	}
	if (!CHART_IS_TREND(rep) && charts_compare(ch, rep, &k) != 0)
		goto oom;
	for (i = 0; sections_shown(rep) && i < rep->nresults; i++) {
		const struct chart_result *res = &rep->results[i];

		/* a mesh's flows are its pairs: the heat map shows them */
		if (res->mesh != NULL)
			continue;
		ch->time_chart[i] = res->ntime > 0 ? (long)ch->n : -1;
		for (j = 0; j < res->ntime; j++)
			if (charts_timeline(ch, &res->times[j], &k) != 0)
				goto oom;
	}
	if (CHART_IS_TREND(rep) && charts_trend(ch, rep) != 0)
		goto oom;
	return plot_svg(gp, ch->plots, ch->n, ch->svgs, err);
oom:
	return err_set(err, VMTP_EXIT_FAIL, "out of memory");
}

/*
 * The throughput over time of result I: a grid with one panel per flow,
 * each a figure with the id result-I-time-J and the flow's name in
 * data-flow, SVGS in the order of RES's timelines.
 */
static void
timelines_write(
    FILE *fp, const struct chart_result *res, size_t i, char *const *svgs)
{
	size_t j;

	fputs("<h3>Throughput over time</h3>\n<p class=\"meta\">TCP "
	      "throughput per second as the tool reported it, in Gbps: one "
	      "line per run and direction.</p>\n"
	      "<div class=\"grid timelines\">\n",
	    fp);
	for (j = 0; j < res->ntime; j++) {
		const struct chart_timeline *t = &res->times[j];

		fprintf(fp,
		    "<figure class=\"chart timeline\" "
		    "id=\"result-%zu-time-%zu\" "
		    "data-flow=\"",
		    i + 1, j + 1);
		esc(fp, t->label);
		fputs("\">\n<figcaption class=\"panel\"><b>", fp);
		esc(fp, t->label);
		fputs("</b> ", fp);
		esc(fp, t->desc);
		fputs("</figcaption>\n", fp);
		fputs(svgs[j], fp);
		fputs("\n</figure>\n", fp);
	}
	fputs("</div>\n", fp);
}

/* Whether RES has a Multicast series. */
static int
has_multicast(const struct chart_result *res)
{
	size_t j;

	for (j = 0; j < res->nser; j++)
		if (res->series[j].kind == CHART_KIND_MULTICAST)
			return 1;
	return 0;
}

/*
 * Writes heat map P (drawn as SVG) of result I as a figure no wider than
 * the map itself, with its caption.
 */
static void
heat_write(FILE *fp, const struct plot *p, size_t i, const char *svg)
{
	const struct chart_mesh *m = p->mesh;

	fprintf(fp,
	    "<figure class=\"chart heat\" id=\"result-%zu-heat-%s\" "
	    "style=\"max-width:%dpx\">\n",
	    i + 1, p->rtt ? "rtt" : "tcp", plot_heat_width(p) + 26);
	fputs(svg, fp);
	if (p->rtt)
		fputs(
		    "\n<figcaption>ICMP average round-trip time in ms, sender "
		    "(row) to receiver (column): the darker the cell, the "
		    "longer the round trip.</figcaption>\n</figure>\n",
		    fp);
	else
		fprintf(fp,
		    "\n<figcaption>TCP throughput in Gbps, sender (row) to "
		    "receiver (column): the darker the cell, the slower the "
		    "pair; an orange outline marks a low pair, below %.0f%% of "
		    "the median (%.*f Gbps).</figcaption>\n</figure>\n",
		    m->share * 100, MESH_GBPS_DECIMALS, m->low_at);
}

/*
 * Writes VALUES of mesh M (with DECIMALS; LOW marks cells, or NULL) as
 * table ID under CAPTION: a row per sender, a column per receiver.
 */
static void
matrix_write(FILE *fp, const struct chart_mesh *m, const char *id,
    const char *caption, const double *values, int decimals,
    const unsigned char *low)
{
	size_t s, r;

	fprintf(fp,
	    "<div class=\"matrix\">\n<table class=\"numbers mesh\" "
	    "id=\"%s\">\n<caption>%s</caption>\n<thead><tr><th "
	    "scope=\"col\">Sender \\ receiver</th>",
	    id, caption);
	for (r = 0; r < m->n; r++) {
		fputs("<th scope=\"col\" class=\"num\">", fp);
		esc(fp, m->hosts[r]);
		fputs("</th>", fp);
	}
	fputs("</tr></thead>\n<tbody>\n", fp);
	for (s = 0; s < m->n; s++) {
		fputs("<tr><th scope=\"row\">", fp);
		esc(fp, m->hosts[s]);
		fputs("</th>", fp);
		for (r = 0; r < m->n; r++) {
			double v = values[s * m->n + r];

			if (isnan(v))
				fputs("<td class=\"num none\">-</td>", fp);
			else
				fprintf(fp, "<td class=\"num%s\">%.*f</td>",
				    low != NULL && low[s * m->n + r] ? " low"
				                                     : "",
				    decimals, v);
		}
		fputs("</tr>\n", fp);
	}
	fputs("</tbody>\n</table>\n</div>\n", fp);
}

/*
 * The mesh part of result I (mesh.h): the heat maps, the worst hosts and
 * the low pairs as the text format says them, and the matrices as
 * tables.  Returns 0, or -1 with ERR set (out of memory).
 */
static int
mesh_write(FILE *fp, const struct chart_report *rep, size_t i,
    const struct charts *ch, struct vmtp_err *err)
{
	const struct chart_mesh *m = rep->results[i].mesh;
	char *worst, *pairs;
	char id[64];

	if (chart_mesh_summary(m, &worst, &pairs, err) != 0)
		return -1;
	fprintf(fp,
	    "<h3>Mesh of %zu hosts</h3>\n<p class=\"meta\">Every ordered "
	    "pair of hosts: the row is the sender, the column the receiver; "
	    "a pair's figure is the mean of its measurements.</p>\n",
	    m->n);
	if (ch->heat_chart[i] >= 0 || ch->rtt_chart[i] >= 0)
		fputs("<div class=\"heats\">\n", fp);
	if (ch->heat_chart[i] >= 0)
		heat_write(fp, &ch->plots[ch->heat_chart[i]], i,
		    ch->svgs[ch->heat_chart[i]]);
	if (ch->rtt_chart[i] >= 0)
		heat_write(fp, &ch->plots[ch->rtt_chart[i]], i,
		    ch->svgs[ch->rtt_chart[i]]);
	if (ch->heat_chart[i] >= 0 || ch->rtt_chart[i] >= 0)
		fputs("</div>\n", fp);
	if (heat_tcp(rep)) {
		fputs("<p class=\"worst\"><b>Worst hosts:</b> ", fp);
		esc(fp, worst);
		fputs("</p>\n", fp);
		if (pairs != NULL) {
			fputs("<p class=\"pairs\"><b>Low pairs:</b> ", fp);
			esc(fp, pairs);
			fputs("</p>\n", fp);
		}
		snprintf(id, sizeof(id), "result-%zu-mesh-tcp", i + 1);
		matrix_write(fp, m, id,
		    "TCP Gbps, sender (row) to receiver (column); a low pair "
		    "is outlined",
		    m->gbps, MESH_GBPS_DECIMALS, m->low);
	}
	if (heat_rtt(rep) && chart_mesh_has_rtt(m)) {
		snprintf(id, sizeof(id), "result-%zu-mesh-rtt", i + 1);
		matrix_write(fp, m, id,
		    "ICMP RTT ms (average), sender (row) to receiver (column)",
		    m->rtt_ms, MESH_RTT_DECIMALS, NULL);
	}
	free(worst);
	free(pairs);
	return 0;
}

/*
 * The per-flow table T of a mesh result, under TITLE: a flow is a pair
 * the matrices show, so only the errors and FAILED flows are listed.
 */
static void
mesh_table_write(
    FILE *fp, const struct chart_table *t, const char *title, const char *class)
{
	if (table_bad(t) == 0)
		return;
	fprintf(fp, "<h3>%s</h3>\n", title);
	table_rows(fp, t, class, 1);
}

static int
result_write(FILE *fp, const struct chart_report *rep, size_t i,
    const struct charts *ch, struct vmtp_err *err)
{
	const struct chart_result *res = &rep->results[i];
	fprintf(
	    fp, "<section class=\"result\" id=\"result-%zu\">\n<h2>", i + 1);
	esc(fp, res->name);
	fputs("</h2>\n<p class=\"meta\">", fp);
	esc(fp, res->meta);
	fputs("</p>\n", fp);
	if (res->mesh != NULL && (heat_tcp(rep) || heat_rtt(rep)) &&
	    mesh_write(fp, rep, i, ch, err) != 0)
		return -1;
	if (ch->result_chart[i] >= 0)
		figure_write(fp, ch->svgs[ch->result_chart[i]], NULL,
		    rep->proto != CHART_PROTO_ALL
		        ? "Throughput per flow, mean over runs, in Gbps."
		    : has_multicast(res)
		        ? "Throughput per flow: TCP, and UDP and Multicast per "
		          "packet size, mean over runs, in Gbps."
		        : "Throughput per flow: TCP and UDP per packet size, "
		          "mean over runs, in Gbps.");
	else
		fputs("<p class=\"empty\">No throughput was measured for this "
		      "selection.</p>\n",
		    fp);
	if (ch->time_chart[i] >= 0)
		timelines_write(fp, res, i, &ch->svgs[ch->time_chart[i]]);
	if (res->props.nrows > 0) {
		fputs("<h3>Properties</h3>\n", fp);
		props_write(fp, &res->props);
	}
	if (res->mesh != NULL)
		mesh_table_write(fp, &res->flows, "Failed flows", "flows");
	else if (res->flows.nrows > 0) {
		fputs("<h3>Flows</h3>\n", fp);
		table_write(fp, &res->flows, "flows");
	}
	if (res->numbers.nrows > 0) {
		fputs("<h3>Throughput</h3>\n", fp);
		table_write(fp, &res->numbers, "numbers");
	}
	if (res->persec.nrows > 0) {
		fputs("<h3>Throughput per second</h3>\n", fp);
		table_write(fp, &res->persec, "numbers persec");
	}
	if (res->mesh != NULL)
		mesh_table_write(
		    fp, &res->icmp, "Latency (ICMP) errors", "numbers icmp");
	else if (res->icmp.nrows > 0) {
		fputs("<h3>Latency (ICMP)</h3>\n", fp);
		table_write(fp, &res->icmp, "numbers icmp");
	}
	fputs("</section>\n", fp);
	return 0;
}

static void
compare_write(FILE *fp, const struct chart_report *rep, const struct charts *ch)
{
	const struct chart_compare *c = &rep->compare;
	size_t i;

	fputs("<section class=\"compare\" id=\"comparison\">\n"
	      "<h2>Comparison</h2>\n<p class=\"meta\">",
	    fp);
	fprintf(fp, "%zu results side by side, one chart per series.</p>\n",
	    rep->nresults);
	/* one legend for all the charts: result r is colour r */
	fputs("<ul class=\"legend\">\n", fp);
	for (i = 0; i < rep->nresults; i++) {
		fprintf(fp,
		    "<li><span class=\"swatch\" style=\"background:%s\">"
		    "</span>",
		    plot_colours[i % PLOT_NCOLOURS]);
		esc(fp, rep->results[i].name);
		fputs("</li>\n", fp);
	}
	fputs("</ul>\n<div class=\"grid\">\n", fp);
	for (i = 0; i < c->nser; i++) {
		if (ch->compare_chart[i] < 0)
			continue;
		figure_write(fp, ch->svgs[ch->compare_chart[i]],
		    c->series[i].name,
		    " throughput per flow and result, in Gbps.");
	}
	fputs("</div>\n", fp);
	if (c->table.nrows > 0) {
		fputs("<h3>Comparison (Gbps)</h3>\n", fp);
		table_write(fp, &c->table, "numbers compare");
	}
	fputs("</section>\n", fp);
}

/* A figure of a trend panel: FIGURES formatted as in the trend table. */
static void
panel_write(
    FILE *fp, const struct chart_report *rep, size_t i, const struct charts *ch)
{
	const struct chart_trend *t = &rep->trend;
	const struct chart_panel *p = &t->panels[i];
	const struct chart_row *row = &t->table.rows[i];
	const char *newest = rep->results[t->order[rep->nresults - 1]].name;

	fprintf(fp,
	    "<figure class=\"chart trend\" id=\"trend-%zu\" data-flow=\"",
	    i + 1);
	esc(fp, rep->compare.cats[p->cat].label);
	fputs("\" data-series=\"", fp);
	esc(fp, t->series[p->series]);
	fputs("\" data-newest=\"", fp);
	esc(fp, newest);
	fputs("\">\n<figcaption class=\"panel\"><b>", fp);
	esc(fp, rep->compare.cats[p->cat].label);
	fputs("</b> newest <span class=\"newest\">", fp);
	esc(fp, row->cells[6]);
	fputs("</span> &middot; median ", fp);
	esc(fp, row->cells[4]);
	fputs(" &middot; ", fp);
	esc(fp, row->cells[3]);
	fputs("&ndash;", fp);
	esc(fp, row->cells[5]);
	fputs("</figcaption>\n", fp);
	fputs(ch->svgs[ch->trend_chart + (long)i], fp);
	fputs("\n</figure>\n", fp);
}

/* The trend of REP: a grid of panels per series, then its table. */
static void
trend_write(FILE *fp, const struct chart_report *rep, const struct charts *ch)
{
	const struct chart_trend *t = &rep->trend;
	const struct chart_result *first = &rep->results[t->order[0]];
	const struct chart_result *last =
	    &rep->results[t->order[rep->nresults - 1]];
	size_t s, i;

	fprintf(fp,
	    "<section class=\"trend\" id=\"trend\">\n<h2>Trend</h2>\n"
	    "<p class=\"meta\">%zu results in date order, oldest on the "
	    "left",
	    rep->nresults);
	if (first->date != NULL && last->date != NULL) {
		fputs(", from ", fp);
		esc(fp, first->date);
		fputs(" to ", fp);
		esc(fp, last->date);
	}
	fputs(". Each panel follows one flow and series: the band spans its "
	      "minimum to its maximum, the dashed line is its median and the "
	      "orange dot is the newest result, <b class=\"newest\">",
	    fp);
	esc(fp, last->name);
	fputs("</b>.</p>\n", fp);
	for (s = 0; s < t->nser && ch->trend_chart >= 0; s++) {
		int any = 0;

		for (i = 0; i < t->npanel; i++) {
			if (t->panels[i].series != s)
				continue;
			if (!any++) {
				fputs("<h3>", fp);
				esc(fp, t->series[s]);
				fputs(t->rtt[s] ? " (ms)" : " (Gbps)", fp);
				fputs(
				    "</h3>\n<div class=\"grid trends\">\n", fp);
			}
			panel_write(fp, rep, i, ch);
		}
		if (any)
			fputs("</div>\n", fp);
	}
	if (t->table.nrows > 0) {
		fputs("<h3>Trend (Gbps; ICMP RTT in ms)</h3>\n", fp);
		table_write(fp, &t->table, "numbers trend");
	}
	fputs("</section>\n<section class=\"runs\" id=\"results\">\n"
	      "<h2>Results</h2>\n<p class=\"meta\">Newest first; each figure "
	      "is the mean over the result's flows.</p>\n",
	    fp);
	table_write(fp, &t->runs, "numbers runs");
	fputs("</section>\n", fp);
}

static int
body_write(FILE *fp, const struct chart_report *rep, const struct charts *ch,
    struct vmtp_err *err)
{
	size_t i;

	fputs("<header class=\"report\">\n<h1>", fp);
	esc(fp, rep->title);
	fprintf(fp, "</h1>\n<p class=\"lead\">%zu result%s", rep->nresults,
	    rep->nresults == 1 ? "" : "s");
	if (rep->proto != CHART_PROTO_ALL)
		fputs(rep->proto == CHART_PROTO_TCP ? " &middot; TCP only"
		      : rep->proto == CHART_PROTO_UDP
		          ? " &middot; UDP only"
		          : " &middot; Multicast only",
		    fp);
	fputs("</p>\n", fp);
	if (CHART_IS_TREND(rep))
		fputs(
		    "<nav class=\"toc\"><ol>\n<li><a href=\"#trend\">Trend</a>"
		    "</li>\n<li><a href=\"#results\">Results</a></li>\n"
		    "</ol></nav>\n",
		    fp);
	else if (rep->nresults > 1) {
		fputs("<nav class=\"toc\"><ol>\n<li><a "
		      "href=\"#comparison\">Comparison</a></li>\n",
		    fp);
		for (i = 0; i < rep->nresults; i++) {
			fprintf(fp, "<li><a href=\"#result-%zu\">", i + 1);
			esc(fp, rep->results[i].name);
			fputs("</a></li>\n", fp);
		}
		fputs("</ol></nav>\n", fp);
	}
	fputs("</header>\n", fp);
	if (rep->nresults == 0)
		fputs("<p class=\"empty\">The input held no result.</p>\n", fp);
	if (CHART_IS_TREND(rep))
		trend_write(fp, rep, ch);
	else if (rep->nresults > 1)
		compare_write(fp, rep, ch);
	for (i = 0; sections_shown(rep) && i < rep->nresults; i++)
		if (result_write(fp, rep, i, ch, err) != 0)
			return -1;
	return 0;
}

int
html_write(FILE *fp, const struct chart_report *rep, struct proc **gp,
    struct vmtp_err *err)
{
	struct charts ch = {0};
	const char *t = asset_report_html;
	const char *at;
	int rc = -1;

	if (charts_draw(&ch, rep, gp, err) != 0)
		goto out;
	/* the template: text up to each @@NAME@@, then what NAME stands for */
	while ((at = strstr(t, "@@")) != NULL) {
		const char *end = strstr(at + 2, "@@");
		size_t n;

		if (end == NULL)
			break;
		fwrite(t, 1, (size_t)(at - t), fp);
		n = (size_t)(end - at - 2);
		if (n == 5 && memcmp(at + 2, "TITLE", 5) == 0)
			esc(fp, rep->title);
		else if (n == 5 && memcmp(at + 2, "STYLE", 5) == 0)
			fputs(asset_report_css, fp);
		else if (n == 4 && memcmp(at + 2, "BODY", 4) == 0) {
			if (body_write(fp, rep, &ch, err) != 0)
				goto out;
		} else if (n == 9 && memcmp(at + 2, "GENERATOR", 9) == 0)
			fputs("vmtp-chart " VMTP_VERSION, fp);
		else
			fwrite(at, 1, (size_t)(end + 2 - at), fp);
		t = end + 2;
	}
	fputs(t, fp);
	if (ferror(fp)) {
		err_set(err, VMTP_EXIT_FAIL, "cannot write the report: %s",
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		proc_abort(*gp);
		*gp = NULL;
	}
	charts_free(&ch);
	return rc;
}
