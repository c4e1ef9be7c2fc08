/*
 * plot.c - column charts, line charts of throughput over time, trend
 * panels and mesh heat maps, drawn by gnuplot as inline SVG (SPEC §6,
 * issue 17).
 *
 * All charts of a report are drawn by one gnuplot process: the script
 * goes to its stdin with the data inline, the SVG documents come back one
 * after the other on its stdout and are cut at each "</svg>".  Strings from
 * the data only reach gnuplot inside single-quoted strings (where nothing
 * but '' is special) with the terminal in noenhanced mode.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvmtp/cli.h"
#include "libvmtp/err.h"
#include "libvmtp/flow.h"
#include "libvmtp/log.h"
#include "libvmtp/proc.h"

#include "chart.h"
#include "mesh.h"

/* Seconds gnuplot may take for all the charts of a report. */
#define PLOT_TIMEOUT 120

/* Okabe-Ito: told apart by people with any common colour blindness. */
const char *const plot_colours[PLOT_NCOLOURS] = {"#0072B2", "#E69F00",
    "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"};

/* Writes S as a gnuplot single-quoted string, control characters blanked. */
static void
gp_quote(FILE *fp, const char *s)
{
	fputc('\'', fp);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("''", fp);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fputc(' ', fp);
		else
			fputc(*s, fp);
	}
	fputc('\'', fp);
}

/* With one or two series a wider gap keeps the columns slim. */
static int
gp_gap(const struct plot *p)
{
	return p->nser < 3 ? 4 - (int)p->nser : 1;
}

/* Series N is colour N, as in the page's own legends. */
static void
gp_colours(FILE *fp)
{
	size_t j;

	for (j = 0; j < PLOT_NCOLOURS; j++)
		fprintf(fp, "set linetype %zu lc rgb '%s'\n", j + 1,
		    plot_colours[j]);
	fprintf(fp, "set linetype cycle %d\n", PLOT_NCOLOURS);
}

/* Starts a chart of WIDTH x HEIGHT pixels in FONT points: gnuplot reset,
 * the SVG terminal on stdout, UTF-8. */
static void
gp_begin(FILE *fp, int width, int height, int font)
{
	fprintf(fp,
	    "reset session\n"
	    "set terminal svg size %d,%d dynamic noenhanced font 'sans,%d' "
	    "background '#ffffff'\n"
	    "set output '/dev/stdout'\n"
	    "set encoding utf8\n",
	    width, height, font);
}

/* Terminal, axes, legend and colours of chart P. */
static void
gp_style(FILE *fp, const struct plot *p)
{
	size_t i, j, longest = 0, key = 0, cols;
	int groups = 0;

	gp_begin(fp, p->width, p->height, 11);
	fprintf(fp,
	    "set style data histograms\n"
	    "set style histogram clustered gap %d title font ',11' "
	    "textcolor rgb '#333333' offset 0,-1\n"
	    "set style fill solid 1.0 border lc rgb '#404040'\n"
	    "set boxwidth 0.9\n"
	    "set ylabel ",
	    gp_gap(p));
	gp_quote(fp, p->ylabel);
	fputs(" textcolor rgb '#222222'\n"
	      "set yrange [0:*]\n"
	      "set grid ytics lc rgb '#d9d9d9' lw 1 dt solid\n"
	      "set border 3 lc rgb '#555555'\n"
	      "set ytics nomirror textcolor rgb '#222222'\n"
	      "set datafile missing '?'\n"
	      "set offsets 0, 0, graph 0.08, 0\n",
	    fp);
	/* the legend above the plot: one row when it fits, else columns, at
	 * about 7 px a character */
	for (j = 0; j < p->nser; j++)
		if (strlen(p->series[j]) > key)
			key = strlen(p->series[j]);
	cols = ((size_t)p->width - 60) / (key * 7 + 40);
	if (!p->key)
		fputs("unset key\n", fp);
	else if (key * p->nser * 7 + p->nser * 40 < (size_t)p->width - 60)
		fputs("set key tmargin center horizontal reverse Left "
		      "samplen 1.5 textcolor rgb '#222222'\n",
		    fp);
	else
		fprintf(fp,
		    "set key tmargin left horizontal maxcols %zu reverse Left "
		    "samplen 1.5 textcolor rgb '#222222'\n",
		    cols > 0 ? cols : 1);
	/* labels wider than their cluster (about 6.6 px a character at
	 * 11 pt) would run into each other: slant them */
	for (i = 0; i < p->ncat; i++) {
		if (strlen(p->cats[i].tic) > longest)
			longest = strlen(p->cats[i].tic);
		if (i == 0 || p->cats[i].group != p->cats[i - 1].group)
			groups++;
	}
	if ((double)longest * 6.6 >
	    0.92 * (p->width - 110) / (p->ncat + 0.4 * (groups - 1) + 0.2))
		fputs("set xtics nomirror scale 0 rotate by 30 right "
		      "textcolor rgb '#222222'\nset bmargin 6.5\n",
		    fp);
	else
		fputs("set xtics nomirror scale 0 textcolor rgb '#222222'\n"
		      "set bmargin 5\n",
		    fp);
	gp_colours(fp);
}

/*
 * Writes a data row of gnuplot: X, then N values STRIDE apart from
 * VALUES, "?" for a value not measured (NAN).
 */
static void
gp_row(FILE *fp, size_t x, const double *values, size_t stride, size_t n)
{
	size_t j;

	fprintf(fp, "%zu", x);
	for (j = 0; j < n; j++) {
		double v = values[j * stride];

		if (isnan(v))
			fputs(" ?", fp);
		else
			fprintf(fp, " %.6f", v);
	}
	fputc('\n', fp);
}

/*
 * The data of chart IDX: the x labels in array T<idx>, and one data block
 * $d<idx>_<group> per group of flows, a line per flow: its number, then
 * one value per series ("?" for none).
 */
static void
gp_data(FILE *fp, const struct plot *p, size_t idx)
{
	size_t i;
	int g;

	fprintf(fp, "array T%zu[%zu]\n", idx, p->ncat);
	for (i = 0; i < p->ncat; i++) {
		fprintf(fp, "T%zu[%zu] = ", idx, i + 1);
		gp_quote(fp, p->cats[i].tic);
		fputc('\n', fp);
	}
	for (g = 0; g < FLOW_GROUP_COUNT; g++) {
		int any = 0;

		for (i = 0; i < p->ncat; i++) {
			if (p->cats[i].group != g)
				continue;
			if (!any)
				fprintf(fp, "$d%zu_%d << EOD\n", idx, g);
			any = 1;
			gp_row(fp, i + 1, p->values + i * p->nser, 1, p->nser);
		}
		if (any)
			fputs("EOD\n", fp);
	}
}

/*
 * Where each group of flows starts on the x axis (AT, -1 for a group with
 * no flow): a cluster's centre is at its number, groups 0.4 apart.
 * Returns the centre of the last cluster.
 */
static double
gp_layout(const struct plot *p, double *at)
{
	double last = 0;
	size_t i, first;
	int g, n = 0;

	for (g = 0; g < FLOW_GROUP_COUNT; g++) {
		at[g] = -1;
		for (first = 0; first < p->ncat; first++)
			if (p->cats[first].group == g)
				break;
		if (first == p->ncat)
			continue;
		at[g] = (double)first + 0.4 * n++;
		for (i = first; i < p->ncat && p->cats[i].group == g; i++)
			last = at[g] + (double)(i - first);
	}
	return last;
}

/*
 * A red cross where a column would be if its measurement had not failed.
 * Returns the number of crosses.
 */
static int
gp_failures(FILE *fp, const struct plot *p, const double *at)
{
	size_t i, j, first;
	int n = 0;

	for (i = 0; p->failed != NULL && i < p->ncat; i++) {
		for (first = 0; p->cats[first].group != p->cats[i].group;
		     first++)
			;
		for (j = 0; j < p->nser; j++) {
			/* column j of a cluster: its share of the width */
			double x = at[p->cats[i].group] + (double)(i - first) +
			           ((double)j - (double)(p->nser - 1) / 2) /
			               (double)(p->nser + (size_t)gp_gap(p));

			if (!p->failed[i * p->nser + j])
				continue;
			fprintf(fp,
			    "set label '\xc3\x97' at %.4f, graph 0 center "
			    "offset 0,0.8 textcolor rgb '#b3261e' "
			    "font ',16' front\n",
			    x);
			n++;
		}
	}
	return n;
}

/* Writes the script of chart IDX (with at least one value) to FP. */
static void
gp_chart(FILE *fp, const struct plot *p, size_t idx)
{
	double at[FLOW_GROUP_COUNT];
	double last, pad;
	int g, failures, any_group = 0;
	size_t j;

	gp_style(fp, p);
	gp_data(fp, p, idx);
	last = gp_layout(p, at);
	failures = gp_failures(fp, p, at);
	/* one or two clusters alone would be drawn as very wide columns */
	pad = last < 2 ? 0.6 + (2 - last) / 2 : 0.6;
	fprintf(fp, "set xrange [%.2f:%.2f]\nplot", -pad, last + pad);
	for (g = 0; g < FLOW_GROUP_COUNT; g++) {
		if (at[g] < 0)
			continue;
		fprintf(fp, "%s newhistogram ", any_group ? "," : "");
		gp_quote(fp, flow_group_names[g]);
		fprintf(fp, " lt 1 at %.2f", at[g]);
		for (j = 0; j < p->nser; j++) {
			fprintf(fp, ", $d%zu_%d using %zu", idx, g, j + 2);
			if (j == 0)
				fprintf(fp, ":xtic(T%zu[int($1)])", idx);
			fprintf(fp, " lt %zu notitle", j + 1);
		}
		any_group = 1;
	}
	/* each column's figure on top of it, while they have room */
	for (g = 0; g < FLOW_GROUP_COUNT && p->ncat * p->nser <= 40; g++) {
		size_t first;

		if (at[g] < 0)
			continue;
		for (first = 0; p->cats[first].group != g; first++)
			;
		for (j = 0; j < p->nser; j++)
			fprintf(fp,
			    ", $d%zu_%d using (%.4f + $1 - %zu):%zu:"
			    "(sprintf(column(%zu) < 0.1 ? '%%.3f' : '%%.2f', "
			    "column(%zu))) with labels "
			    "rotate by 90 left offset 0,0.3 font ',9' "
			    "textcolor rgb '#333333' notitle",
			    idx, g,
			    at[g] + ((double)j - (double)(p->nser - 1) / 2) /
			                (double)(p->nser + (size_t)gp_gap(p)),
			    first + 1, j + 2, j + 2, j + 2);
	}
	/* the legend does not depend on which groups have data */
	for (j = 0; j < p->nser && p->key; j++) {
		fprintf(fp, ", keyentry with boxes lt %zu title ", j + 1);
		gp_quote(fp, p->series[j]);
	}
	if (failures > 0 && p->key)
		fputs(", keyentry with points pt 2 ps 1.2 lw 2 "
		      "lc rgb '#b3261e' title 'failed'",
		    fp);
	fputc('\n', fp);
}

/*
 * Writes the script of line chart IDX to FP: data block $t<idx>, a line
 * per second (the second, then one value per line, "?" for none), and one
 * line per series (a dot on each second up to 20), seconds on x from 1.
 */
static void
gp_lines(FILE *fp, const struct plot *p, size_t idx)
{
	size_t i, j;

	gp_begin(fp, p->width, p->height, 11);
	fputs("set xlabel 'Seconds' textcolor rgb '#222222'\n"
	      "set ylabel ",
	    fp);
	gp_quote(fp, p->ylabel);
	fputs(" textcolor rgb '#222222'\n"
	      "set yrange [0:*]\n"
	      "set offsets 0, 0, graph 0.08, 0\n"
	      "set grid xtics ytics lc rgb '#e3e3e3' lw 1 dt solid\n"
	      "set border 3 lc rgb '#555555'\n"
	      "set ytics nomirror textcolor rgb '#222222'\n"
	      "set datafile missing '?'\n"
	      "set key tmargin center horizontal reverse Left samplen 2 "
	      "textcolor rgb '#222222'\n",
	    fp);
	/* whole seconds on x: every one while they have room */
	if (p->npoints <= 1)
		fputs("set xrange [0.5:1.5]\n", fp);
	else
		fprintf(fp, "set xrange [1:%zu]\n", p->npoints);
	fprintf(fp, "set xtics %s nomirror textcolor rgb '#222222'\n",
	    p->npoints <= 15   ? "1"
	    : p->npoints <= 40 ? "5"
	    : p->npoints <= 80 ? "10"
	                       : "");
	fputs("set format x '%.0f'\n", fp);
	gp_colours(fp);
	fprintf(fp, "$t%zu << EOD\n", idx);
	for (i = 0; i < p->npoints; i++)
		gp_row(fp, i + 1, p->values + i, p->npoints, p->nser);
	fputs("EOD\nplot", fp);
	for (j = 0; j < p->nser; j++) {
		/* a dot per second while they stay apart */
		fprintf(fp, "%s $t%zu using 1:%zu with %s lt %zu lw 2 title ",
		    j > 0 ? "," : "", idx, j + 2,
		    p->npoints <= 20 ? "linespoints pt 7 ps 0.5" : "lines",
		    j + 1);
		gp_quote(fp, p->series[j]);
	}
	fputc('\n', fp);
}

/*
 * Writes the script of trend panel IDX to FP: data block $v<idx>, a line
 * per result (its place, then its figure or "?"), drawn as a line over a
 * band from the minimum to the maximum with the median dashed, the last
 * result (the newest) as a large dot with its figure.
 */
static void
gp_trend(FILE *fp, const struct plot *p, size_t idx)
{
	const double last = p->values[p->npoints - 1];
	size_t i;
	int any = 0;

	gp_begin(fp, p->width, p->height, 10);
	fputs("set ylabel ", fp);
	gp_quote(fp, p->ylabel);
	fprintf(fp,
	    " textcolor rgb '#222222'\n"
	    "set yrange [0:*]\n"
	    "set offsets 0, 0, graph 0.15, 0\n"
	    "set grid ytics lc rgb '#e3e3e3' lw 1 dt solid\n"
	    "set border 3 lc rgb '#555555'\n"
	    "set ytics nomirror textcolor rgb '#222222'\n"
	    "set datafile missing '?'\n"
	    "unset key\n"
	    "set xrange [0.5:%zu.5]\n"
	    "set object 1 rect from graph 0, first %.6f to graph 1, first %.6f "
	    "fc rgb '%s' fs transparent solid 0.15 noborder behind\n",
	    p->npoints, p->band[0], p->band[2], plot_colours[0]);
	/* the dates of a few results under the axis */
	fputs("set xtics nomirror scale 0.5 textcolor rgb '#222222' (", fp);
	for (i = 0; i < p->npoints; i++) {
		if (p->xtics[i] == NULL)
			continue;
		fputs(any++ ? ", " : "", fp);
		gp_quote(fp, p->xtics[i]);
		fprintf(fp, " %zu", i + 1);
	}
	fputs(")\n", fp);
	if (!isnan(last))
		fprintf(fp,
		    "set label 1 '%.3f' at %zu, %.6f right offset -0.8,0.9 "
		    "textcolor rgb '%s' font ',10' front\n",
		    last, p->npoints, last, plot_colours[5]);
	fprintf(fp, "$v%zu << EOD\n", idx);
	for (i = 0; i < p->npoints; i++)
		gp_row(fp, i + 1, p->values + i, 1, 1);
	fprintf(fp,
	    "EOD\n"
	    "plot %.6f with lines dt 2 lw 1 lc rgb '#555555' notitle, "
	    "$v%zu using 1:2 with lines lw 1.5 lc rgb '%s' notitle",
	    p->band[1], idx, plot_colours[0]);
	if (!isnan(last))
		fprintf(fp,
		    ", $v%zu using 1:($1 == %zu ? $2 : NaN) with points pt 7 "
		    "ps 1.3 lc rgb '%s' notitle",
		    idx, p->npoints, plot_colours[5]);
	fputc('\n', fp);
}

/* Viridis, dark to light: even, and read alike with colour blindness. */
static const char *const heat_palette =
    "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', "
    "3 '#5ec962', 4 '#fde725')\n";

/* The outline of a low pair (Okabe-Ito vermillion, as the newest dot). */
#define HEAT_LOW_COLOUR "#D55E00"

/* Where the parts of a heat map go, in pixels. */
struct heat_layout {
	int cell;          /* a pair's square */
	int font;          /* of the host names */
	int rotate;        /* of the receivers' names: 45 or 90 degrees */
	int values;        /* 1: each pair's figure in its cell */
	int left, bottom;  /* margins */
	int top, right;    /* margins: the legend, the colour box */
	int width, height; /* the whole map */
};

/*
 * Lays out heat map P into L; stores its largest figure in *MAX (1 when
 * none is above 0) and its number of low pairs in *NLOW.
 */
static void
heat_layout(
    const struct plot *p, struct heat_layout *l, double *max, size_t *nlow)
{
	const struct chart_mesh *m = p->mesh;
	const double *v = p->rtt ? m->rtt_ms : m->gbps;
	size_t n = m->n, longest = 0, i;
	double cw;

	*max = 0;
	*nlow = 0;
	for (i = 0; i < n; i++)
		if (strlen(m->hosts[i]) > longest)
			longest = strlen(m->hosts[i]);
	for (i = 0; i < n * n; i++) {
		if (!isnan(v[i]) && v[i] > *max)
			*max = v[i];
		*nlow += !p->rtt && m->low[i];
	}
	if (!(*max > 0))
		*max = 1;
	/* small meshes get readable cells, large ones about 480 px */
	l->cell = n <= 10 ? 48 : 480 / (int)n < 12 ? 12 : 480 / (int)n;
	l->font = l->cell >= 20 ? 11 : 9;
	l->values = l->cell >= 36;
	l->rotate = l->cell >= 30 ? 45 : 90;
	/* a name of more than 48 bytes may run off the map: no matter */
	cw = l->font * 0.62 * (double)(longest < 48 ? longest : 48);
	l->left = 38 + (int)cw;
	l->bottom = 40 + (int)(l->rotate == 45 ? cw * 0.71 + l->font : cw);
	l->top = *nlow > 0 ? 36 : 14;
	l->right = 96;
	l->width = l->left + (int)n * l->cell + l->right;
	if (l->width < 320)
		l->width = 320;
	l->height = l->top + (int)n * l->cell + l->bottom;
}

int
plot_heat_width(const struct plot *p)
{
	struct heat_layout l;
	size_t nlow;
	double max;

	heat_layout(p, &l, &max, &nlow);
	return l.width;
}

/*
 * Writes the script of heat map IDX to FP: data block $h<idx>, a line
 * per measured pair (receiver, sender, figure, low, the colour of its
 * label, its label), drawn as squares on one palette from 0 to the
 * largest figure, darker for a worse pair (a lower throughput, a longer
 * RTT); an outline on each low pair; the figures in the cells while they
 * have room.
 */
static void
gp_heat(FILE *fp, const struct plot *p, size_t idx)
{
	const struct chart_mesh *m = p->mesh;
	const double *v = p->rtt ? m->rtt_ms : m->gbps;
	const int decimals = p->rtt ? MESH_RTT_DECIMALS : MESH_GBPS_DECIMALS;
	struct heat_layout l;
	size_t nlow, i, s, r;
	double max;
	int mw;

	heat_layout(p, &l, &max, &nlow);
	mw = (int)m->n * l.cell;
	gp_begin(fp, l.width, l.height, 11);
	fprintf(fp,
	    "set lmargin at screen %.5f\nset rmargin at screen %.5f\n"
	    "set bmargin at screen %.5f\nset tmargin at screen %.5f\n"
	    "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\n"
	    "set border lc rgb '#555555'\n"
	    "set xlabel 'Receiver' textcolor rgb '#222222'\n"
	    "set ylabel 'Sender' textcolor rgb '#222222'\n"
	    "set cbrange [0:%.6f]\n"
	    "set cblabel %s textcolor rgb '#222222'\n"
	    "set cbtics nomirror textcolor rgb '#222222'\n"
	    "set colorbox user origin screen %.5f, screen %.5f "
	    "size screen %.5f, screen %.5f border\n"
	    "set datafile separator '\\t'\n",
	    (double)l.left / l.width, (double)(l.left + mw) / l.width,
	    (double)l.bottom / l.height, (double)(l.bottom + mw) / l.height,
	    m->n - 1, m->n - 1, max, p->rtt ? "'RTT (ms)'" : "'Gbps'",
	    (double)(l.left + mw + 14) / l.width, (double)l.bottom / l.height,
	    16.0 / l.width, (double)mw / l.height);
	fputs(heat_palette, fp);
	if (p->rtt)
		fputs("set palette negative\n", fp);
	/* the hosts' names are data: quoted, never enhanced text */
	for (i = 0; i < 2; i++) {
		fputs(i == 0 ? "set xtics (" : "set ytics (", fp);
		for (s = 0; s < m->n; s++) {
			fputs(s > 0 ? ", " : "", fp);
			gp_quote(fp, m->hosts[s]);
			fprintf(fp, " %zu", s);
		}
		if (i == 0)
			fprintf(fp,
			    ") scale 0 nomirror rotate by %d right font ',%d' "
			    "textcolor rgb '#222222'\n",
			    l.rotate, l.font);
		else
			fprintf(fp,
			    ") scale 0 nomirror font ',%d' "
			    "textcolor rgb '#222222'\n",
			    l.font);
	}
	if (nlow > 0)
		fputs("set key at screen 0.01, screen 0.995 left top "
		      "horizontal reverse Left samplen 1.5 textcolor rgb "
		      "'#222222'\n",
		    fp);
	else
		fputs("unset key\n", fp);
	fprintf(fp, "$h%zu << EOD\n", idx);
	for (s = 0; s < m->n; s++)
		for (r = 0; r < m->n; r++) {
			double x = v[s * m->n + r];
			/* where the cell is on the palette: white on dark */
			double at = p->rtt ? 1 - x / max : x / max;

			if (isnan(x))
				continue;
			fprintf(fp, "%zu\t%zu\t%.6f\t%d\t%d\t%.*f\n", r, s, x,
			    !p->rtt && m->low[s * m->n + r],
			    at < 0.5 ? 0xffffff : 0x1f2328, decimals, x);
		}
	fprintf(fp,
	    "EOD\n"
	    "plot $h%zu using 1:2:(%s):(%s):3 with boxxyerror fs solid 1.0 "
	    "noborder fc palette notitle",
	    idx, l.cell >= 20 ? "0.47" : "0.5", l.cell >= 20 ? "0.47" : "0.5");
	if (nlow > 0)
		fprintf(fp,
		    ", $h%zu using 1:2:($4 > 0 ? 0.36 : 1/0):(0.36) with "
		    "boxxyerror fs empty lw %s lc rgb '" HEAT_LOW_COLOUR
		    "' title 'low: below %.0f%% of the median (%.*f Gbps)'",
		    idx, l.cell >= 20 ? "2.5" : "1.5", m->share * 100,
		    MESH_GBPS_DECIMALS, m->low_at);
	if (l.values)
		fprintf(fp,
		    ", $h%zu using 1:2:6:5 with labels tc rgb variable "
		    "font ',10' notitle",
		    idx);
	fputc('\n', fp);
}

/* Whether the name at S (before END) starts with one of IDS. */
static int
svg_id(const char *s, const char *end, const char *const *ids)
{
	int k;

	for (k = 0; ids[k] != NULL; k++)
		if ((size_t)(end - s) >= strlen(ids[k]) &&
		    memcmp(s, ids[k], strlen(ids[k])) == 0)
			return 1;
	return 0;
}

/* Whether the LEFT bytes at S start with the string literal LIT. */
#define STARTS(s, left, lit)                                                   \
	((left) >= sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

/*
 * Makes SVG (one document of gnuplot's output, LEN bytes) fit inline in
 * HTML as chart IDX.  Returns a new string, or NULL when out of memory or
 * when SVG is not an SVG document.
 */
static char *
svg_inline(const char *svg, size_t len, size_t idx)
{
	static const char *const ids[] = {
	    "gp", "gnuplot_", "textbox", "greybox", NULL};
	const char *end = svg + len;
	const char *s = memmem(svg, len, "<svg", 4);
	const char *run, *close;
	char *out = NULL;
	size_t outlen = 0, left;
	FILE *mem;

	if (s == NULL)
		return NULL;
	mem = open_memstream(&out, &outlen);
	if (mem == NULL)
		return NULL;
	fputs("<svg role=\"img\"", mem);
	/* the text from RUN on is written as it is up to the next change */
	run = s += 4;
	while (s < end) {
		/* what to change starts at a blank, a tag or a reference */
		while (s < end && *s != ' ' && *s != '<' && *s != '#')
			s++;
		if (s == end)
			break;
		left = (size_t)(end - s);
		close = NULL;
		if (STARTS(s, left, " xmlns=\"http://www.w3.org/2000/svg\""))
			close =
			    s + strlen(" xmlns=\"http://www.w3.org/2000/svg\"");
		else if (STARTS(s, left,
		             " xmlns:xlink=\"http://www.w3.org/1999/xlink\""))
			close = s + strlen(" xmlns:xlink=\"http://www.w3.org/"
			                   "1999/xlink\"");
		else if (STARTS(s, left, "<title>Gnuplot</title>"))
			close = s + strlen("<title>Gnuplot</title>");
		/* tooltips naming gnuplot's own plot numbers say nothing */
		else if (STARTS(s, left, "<title>gnuplot_plot_") &&
		         (close = memmem(s, left, "</title>", 8)) != NULL)
			close += 8;
		if (close != NULL) {
			fwrite(run, 1, (size_t)(s - run), mem);
			run = s = close;
			continue;
		}
		/* ids and references to them get the chart's prefix */
		if (*s == '#')
			s++;
		else if (left > 5 && STARTS(s, left, " id=") &&
		         (s[4] == '\'' || s[4] == '"'))
			s += 5;
		else {
			s++;
			continue;
		}
		if (svg_id(s, end, ids)) {
			fwrite(run, 1, (size_t)(s - run), mem);
			fprintf(mem, "c%zu-", idx);
			run = s;
		}
	}
	fwrite(run, 1, (size_t)(end - run), mem);
	if (mem_close(mem, &out) != 0)
		return NULL;
	return out;
}

/* Fills CMD: gnuplot as we run it.  Returns -1 when VMTP_GNUPLOT_TIMEOUT is
 * bad. */
static int
gp_cmd(struct proc_cmd *cmd, struct vmtp_err *err)
{
	/* the script as a file: gnuplot reads its stdin a byte at a time,
	 * a file through stdio */
	static char *argv[] = {"gnuplot", "/dev/stdin", NULL};
	const char *limit = getenv("VMTP_GNUPLOT_TIMEOUT");

	*cmd = (struct proc_cmd){argv, "gnuplot-nox", NULL, 0, PLOT_TIMEOUT};
	if (limit != NULL && limit[0] != '\0' &&
	    cli_parse_double("VMTP_GNUPLOT_TIMEOUT", limit, 0.1, 86400,
	        &cmd->timeout, err) != 0)
		return -1;
	return 0;
}

struct proc *
plot_start(void)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct proc_cmd cmd;

	/* what fails here fails again, and is told, in plot_svg() */
	if (gp_cmd(&cmd, &err) != 0)
		return NULL;
	return proc_start(&cmd, &err);
}

/* Counts the SVG documents of gnuplot's output, one read at a time. */
struct svg_count {
	size_t want; /* the charts asked for */
	size_t seen; /* the "</svg>" found so far */
	size_t at;   /* where the search goes on: past the last one found */
};

/* Whether OUT (LEN bytes so far) holds ARG's charts, all of them. */
static int
svgs_done(const char *out, size_t len, void *arg)
{
	struct svg_count *c = arg;
	const char *end;

	while (c->seen < c->want &&
	       (end = strstr(out + c->at, "</svg>")) != NULL) {
		c->seen++;
		c->at = (size_t)(end - out) + strlen("</svg>");
	}
	(void)len;
	return c->seen == c->want;
}

/*
 * Feeds SCRIPT (LEN bytes) to gnuplot (*GP when started ahead, else a new
 * one) and reads its stdout until the N charts are there, for at most
 * $VMTP_GNUPLOT_TIMEOUT seconds (PLOT_TIMEOUT when unset): *OUT borrows
 * it from *GP, left running (maybe exiting) for plot_end(); or, when
 * gnuplot ended before drawing them all, *GP is NULL and *OUT is *OWNED,
 * the caller's.  Returns 0, or -1 with ERR set and *GP ended and NULL.
 */
static int
gp_run(struct proc **gp, const char *script, size_t len, size_t n,
    const char **out, char **owned, struct vmtp_err *err)
{
	struct svg_count count = {n, 0, 0};
	struct proc_out res = {0};
	struct proc_cmd cmd;
	size_t outlen;
	int r;

	if (*gp == NULL) {
		if (gp_cmd(&cmd, err) != 0)
			return -1;
		*gp = proc_start(&cmd, err);
		if (*gp == NULL)
			return -1;
	}
	r = proc_read_until(
	    *gp, script, len, svgs_done, &count, out, &outlen, err);
	if (r == 1)
		return 0;
	if (r < 0) {
		proc_abort(*gp);
		*gp = NULL;
		return -1;
	}
	/* it ended short: its status and stderr say why */
	r = proc_finish(*gp, NULL, 0, &res, err);
	*gp = NULL;
	if (res.err != NULL)
		log_debug("gnuplot said: %s", res.err);
	if (r == 0 && res.out == NULL)
		r = err_set(err, VMTP_EXIT_FAIL, "gnuplot failed: no output");
	if (r == 0) {
		*out = *owned = res.out;
		res.out = NULL;
	}
	proc_out_clear(&res);
	return r;
}

int
plot_end(struct proc *gp, struct vmtp_err *err)
{
	struct proc_out res = {0};
	int rc;

	if (gp == NULL)
		return 0;
	rc = proc_finish(gp, NULL, 0, &res, err);
	if (res.err != NULL)
		log_debug("gnuplot said: %s", res.err);
	proc_out_clear(&res);
	return rc;
}

int
plot_svg(struct proc **gp, const struct plot *plots, size_t n, char **svgs,
    struct vmtp_err *err)
{
	char *script = NULL, *owned = NULL;
	const char *out = NULL;
	size_t len = 0, i;
	const char *at, *end;
	FILE *mem;
	int rc = -1;

	for (i = 0; i < n; i++)
		svgs[i] = NULL;
	if (n == 0) {
		proc_abort(*gp);
		*gp = NULL;
		return 0;
	}
	mem = open_memstream(&script, &len);
	if (mem == NULL) {
		proc_abort(*gp);
		*gp = NULL;
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	for (i = 0; i < n; i++) {
		if (plots[i].mesh != NULL)
			gp_heat(mem, &plots[i], i);
		else if (plots[i].trend)
			gp_trend(mem, &plots[i], i);
		else if (plots[i].npoints > 0)
			gp_lines(mem, &plots[i], i);
		else
			gp_chart(mem, &plots[i], i);
	}
	if (mem_close(mem, &script) != 0) {
		proc_abort(*gp);
		*gp = NULL;
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	log_debug("gnuplot script:\n%s", script);
	/* the charts are cut out while gnuplot exits */
	if (gp_run(gp, script, len, n, &out, &owned, err) != 0)
		goto out;
	at = out;
	for (i = 0; i < n; i++) {
		end = strstr(at, "</svg>");
		if (end != NULL) {
			end += strlen("</svg>");
			svgs[i] = svg_inline(at, (size_t)(end - at), i);
		}
		if (end == NULL || svgs[i] == NULL) {
			/* a gnuplot that failed says why first */
			rc = plot_end(*gp, err);
			*gp = NULL;
			if (rc == 0 && end == NULL)
				err_set(err, VMTP_EXIT_FAIL,
				    "gnuplot drew %zu of %zu charts", i, n);
			else if (rc == 0)
				err_set(err, VMTP_EXIT_FAIL,
				    "gnuplot wrote no SVG for chart %zu",
				    i + 1);
			rc = -1;
			goto out;
		}
		at = end;
	}
	rc = 0;
out:
	if (rc != 0) {
		for (i = 0; i < n; i++) {
			free(svgs[i]);
			svgs[i] = NULL;
		}
		proc_abort(*gp);
		*gp = NULL;
	}
	free(script);
	free(owned);
	return rc;
}
