/*
 * chart.h - the internal API of vmtp-chart (SPEC §6): result documents
 * become a report model (model.c and the files model.h lists), charts are
 * drawn by gnuplot (plot.c), and the report is written as HTML (html.c) or
 * as a terminal table (text.c).
 *
 * Numbers are formatted once, in the model's tables, so that the HTML and
 * the text format always show the same figures.
 */
#ifndef VMTP_CHART_H
#define VMTP_CHART_H

#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/proc.h"

/* --protocol: which series and tables the report shows. */
enum chart_proto {
	CHART_PROTO_ALL,
	CHART_PROTO_TCP,
	CHART_PROTO_UDP,
	CHART_PROTO_MULTICAST
};

/* The protocol of a series, in the order series are shown. */
enum chart_kind { CHART_KIND_TCP, CHART_KIND_UDP, CHART_KIND_MULTICAST };

/* A category on the x axis: one flow of a result in one direction. */
struct chart_cat {
	char *label; /* "L3 fixed intra", "Download", or the desc itself */
	char *tic;   /* the label under its group title: "L3 fixed" */
	char *desc;  /* the flow's desc, as in the document */
	int group;   /* enum flow_group */
	int rank;    /* order inside the group */
};

/*
 * A series: TCP (per buffer size when there are several), UDP or
 * Multicast per packet size.
 */
struct chart_series {
	char *name; /* "TCP", "TCP 65536", "UDP 1024", "Multicast 128" */
	int kind;   /* enum chart_kind */
	long long pkt_size; /* -1 when the results give none */
};

/* A row of a table; an error row holds flow, protocol and the message. */
struct chart_row {
	int error;
	char **cells; /* ncols strings ("-" for none); 3 for an error row */
};

/* A table of formatted figures, shared by the HTML and text writers. */
struct chart_table {
	char *title;
	int ncols;
	char **head;
	int *numeric; /* per column: 1 aligns right */
	int verdict;  /* 1 + the column of PASSED/FAILED, 0 when none */
	size_t nrows;
	struct chart_row *rows;
};

/*
 * A line of a throughput-over-time chart: the per-second "intervals" of one
 * TCP result (a loop, one direction, one buffer size).
 */
struct chart_line {
	char *name;         /* legend: "loop 1", "reverse", "TCP 8192 loop 2" */
	long long pkt_size; /* -1 when the result gives none */
	int reverse;        /* 1 for direction "reverse" */
	int loop;           /* 1, 2, ... in the order of the results */
	size_t n;           /* seconds */
	double *gbps;       /* n figures, NAN where the tool gave none */
};

/* The throughput over time of one flow: a panel of lines. */
struct chart_timeline {
	char *label; /* the flow's name: "L2 inter", "External host" */
	char *desc;  /* the flow's desc, as in the document */
	size_t cat;  /* the category it sorts by */
	size_t nline;
	struct chart_line *lines; /* by size, forward before reverse, loop */
};

/* The ICMP round-trip times of one flow and packet size of a result. */
struct chart_rtt {
	size_t cat;     /* the result's category */
	long long size; /* packet_size, -1 when the entry gives none */
	double sum;     /* of rtt_avg_ms */
	int n;
};

/* One result document in report form. */
struct chart_mesh;

struct chart_result {
	char *name;  /* legend: test_description, date or run_id */
	char *date;  /* the document's date, or NULL */
	char *meta;  /* date, run, cloud: the line under the heading */
	char *limit; /* the bandwidth limits (rows_scan_limit()), or NULL */
	size_t ncat;
	struct chart_cat *cats; /* sorted by group, then rank */
	size_t nser;
	struct chart_series *series; /* TCP first, then UDP by size */
	double *gbps; /* ncat * nser mean Gbps, NAN where none was measured */
	unsigned char *failed;      /* ncat * nser: 1 where only errors came */
	struct chart_table props;   /* property / value */
	struct chart_table flows;   /* where each flow ran */
	struct chart_table numbers; /* TCP and UDP figures and errors */
	struct chart_table icmp;    /* ping RTTs per packet size */
	struct chart_table persec;  /* min/mean/max of per-second figures */
	size_t ntime;
	struct chart_timeline *times; /* flows with intervals, report order */
	size_t nrtt;
	struct chart_rtt *rtts; /* ICMP entries with an rtt_avg_ms */
	int nerrors;            /* results and ICMP entries that are errors */
	struct chart_mesh
	    *mesh; /* a mesh result's matrices (mesh.h), or NULL */
};

/* Several results side by side (only built for two or more). */
struct chart_compare {
	size_t ncat;
	struct chart_cat *cats; /* union of the results' categories */
	size_t nser;
	struct chart_series *series; /* union of the results' series */
	double *gbps; /* (series * ncat + cat) * nresults + result */
	struct chart_table table;
};

/*
 * From this many results on, the comparison is a trend (trend.c): each
 * flow and series over the results in date order, not side by side.
 */
#define CHART_TREND_MIN 9

/* One flow and series of a trend: its figure in each result. */
struct chart_panel {
	size_t cat;     /* in the comparison's categories */
	size_t series;  /* in the trend's series */
	double *values; /* per result, oldest first; NAN where none */
	size_t n;       /* results with a figure (at least 1) */
	double min, median, max;
	double newest; /* the newest result's figure, NAN when it has none */
};

/*
 * The results in date order: oldest first by the digits of their dates;
 * equal dates keep the input order, and a result without a date sorts
 * as the result before it in the input (first when none is before it).
 */
struct chart_trend {
	size_t *order; /* result indexes, oldest first */
	size_t nser;
	char **series; /* the compared series, then "ICMP RTT" per size */
	int *rtt;      /* per series: 1 for RTT in ms, 0 for Gbps */
	size_t npanel;
	struct chart_panel *panels; /* by series, then flow in report order */
	struct chart_table table;   /* per panel: min, median, max, newest */
	struct chart_table runs;    /* a row per result, newest first */
};

struct chart_report {
	char *title;
	int proto;         /* enum chart_proto */
	double mesh_share; /* a mesh pair below this share of the median is
	                      low (mesh.h); 0: MESH_LOW_DEFAULT */
	int detail;    /* --detail: every result's section, also in a trend */
	int tcp_sizes; /* what chart_tcp_sizes() counted */
	int lean;      /* a trend without sections: results keep figures */
	size_t nresults;
	struct chart_result *results;
	struct chart_compare compare;
	struct chart_trend trend; /* built from CHART_TREND_MIN results on */
};

/* Whether REPORT shows its results as a trend. */
#define CHART_IS_TREND(report) ((report)->nresults >= CHART_TREND_MIN)

/*
 * Counts the distinct TCP buffer sizes of DOCS (an array of normalized
 * documents), up to 2, going on from *FIRST (NAN before the first call:
 * the first size met, kept there): the report's TCP_SIZES is the largest
 * count over all of its documents.  -1 when out of memory.
 */
int chart_tcp_sizes(const json_t *docs, double *first);

/*
 * Makes an empty report for PROTO of NDOCS documents; DETAIL keeps every
 * result's section in a trend (without it, a trend's results keep only
 * their figures); TCP_SIZES (chart_tcp_sizes()) says whether "TCP" needs
 * its size.  Returns a new report, or NULL with ERR set (out of memory).
 */
struct chart_report *chart_report_new(
    int proto, int detail, int tcp_sizes, size_t ndocs, struct vmtp_err *err);

/*
 * Adds a result to REPORT per document of DOCS (borrowed, not kept).
 * Returns 0, or -1 with ERR set (VMTP_EXIT_FAIL when out of memory); then
 * REPORT is only good for chart_report_free().
 */
int chart_report_add(
    struct chart_report *report, json_t *docs, struct vmtp_err *err);

/*
 * Names REPORT's results, compares them (and makes their trend from
 * CHART_TREND_MIN results on) under TITLE (NULL: one made from the
 * results).  Returns 0, or -1 with ERR set as chart_report_add().
 */
int chart_report_finish(
    struct chart_report *report, const char *title, struct vmtp_err *err);

/* Frees REPORT; NULL is allowed. */
void chart_report_free(struct chart_report *report);

/*
 * Closes MEM, an open_memstream() writing *BUF (model.c).  Returns 0, or
 * -1 with *BUF freed and NULL when a write or the close failed: out of
 * memory (glibc's fclose() then may also return 0 and leave *BUF NULL).
 */
int mem_close(FILE *mem, char **buf);

/*
 * A column chart: categories grouped on x, one column per series; or,
 * when NPOINTS is not 0, a line chart: seconds 1..NPOINTS on x, one line
 * per series (CATS and FAILED unused, VALUES nser * npoints, line-major);
 * or a trend panel; or a mesh heat map.
 */
struct plot {
	size_t ncat;
	const struct chart_cat *cats; /* sorted by group */
	size_t nser;
	const char *const *series;
	const double *values;        /* ncat * nser; NAN for none */
	const unsigned char *failed; /* ncat * nser, or NULL: mark failures */
	int width, height;           /* SVG view box */
	const char *ylabel;
	int key;        /* draw the legend (0: the page shows one for all) */
	size_t npoints; /* 0: columns; else a line chart of NPOINTS seconds */
	/* a trend panel (npoints results, one series): its min, median and
	 * max as a band and a line, the last point highlighted, x labelled
	 * with XTICS (npoints labels, NULL for none) */
	int trend;
	double band[3];
	const char *const *xtics;
	/* a mesh heat map (MESH not NULL): its TCP Gbps, or its RTT when
	 * RTT; the size is the map's own (WIDTH and HEIGHT unused) */
	const struct chart_mesh *mesh;
	int rtt;
};

/* The width in pixels of heat map P (its MESH set). */
int plot_heat_width(const struct plot *p);

/* The colours of series 1, 2, ... (they repeat after PLOT_NCOLOURS). */
#define PLOT_NCOLOURS 8
extern const char *const plot_colours[PLOT_NCOLOURS];

/*
 * Starts the gnuplot process of a report ahead, so that it starts up
 * while the report is built.  Returns it, or NULL when it cannot start
 * (plot_svg() then tries again and says why).
 */
struct proc *plot_start(void);

/*
 * Draws the N charts of PLOTS (each with at least one value: gnuplot
 * refuses an empty plot) with one gnuplot process (*GP, from plot_start(),
 * or NULL: a new one) and stores each chart's SVG (a new string, ready to
 * be inlined in HTML: no XML declaration, no namespace URLs, ids made
 * unique with "c<i>-") in SVGS[i].  gnuplot may still be exiting then: *GP
 * is it, or NULL, for plot_end() before the charts are trusted.  Returns
 * 0, or -1 with ERR set (VMTP_EXIT_FAIL naming gnuplot: missing, failed,
 * or with unexpected output), SVGS all NULL and *GP ended and NULL.
 */
int plot_svg(struct proc **gp, const struct plot *plots, size_t n, char **svgs,
    struct vmtp_err *err);

/*
 * Waits for GP (from plot_svg(); NULL is allowed) to end and frees it.
 * Returns 0 when it exited with status 0, else -1 with ERR set as
 * plot_svg() does ("gnuplot failed: ...", the timeout).
 */
int plot_end(struct proc *gp, struct vmtp_err *err);

/*
 * Writes REPORT as one self-contained HTML file to FP: the template and
 * stylesheet of share/html, compiled in, with the charts drawn by
 * plot_svg() with *GP, left as plot_svg() leaves it: for plot_end() before
 * FP's text is used.  Returns 0, or -1 with ERR set (a gnuplot failure, or
 * VMTP_EXIT_FAIL when writing fails) and *GP ended and NULL.
 */
int html_write(FILE *fp, const struct chart_report *report, struct proc **gp,
    struct vmtp_err *err);

/*
 * Writes REPORT as aligned terminal tables to FP: the same tables as the
 * HTML, without charts; with COLOUR, PASSED is green and FAILED red.
 * Returns 0, or -1 with ERR set when writing fails.
 */
int text_write(FILE *fp, const struct chart_report *report, int colour,
    struct vmtp_err *err);

#endif
