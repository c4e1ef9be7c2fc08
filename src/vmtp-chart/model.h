/*
 * model.h - what the files building vmtp-chart's report model share
 * (SPEC §6).  Each file does one job:
 *
 *   model.c     the report: its results, their names, its title
 *   result.c    one result from one document: categories, series, figures
 *   timeline.c  the throughput over time of a result's flows
 *   category.c  categories (a flow in one direction) and series, and their
 *               order
 *   rows.c      the rows of a result's tables: figures, errors, properties,
 *               flows
 *   table.c     a table of formatted cells, and the number format
 *   compare.c   several results side by side
 *   trend.c     many results over time
 *
 * html.c, text.c and plot.c read the finished model through chart.h only.
 * Every function here that can fail returns -1 (or NULL) only when out of
 * memory; the caller says so.
 */
#ifndef VMTP_CHART_MODEL_H
#define VMTP_CHART_MODEL_H

#include <float.h>
#include <stddef.h>

#include <jansson.h>

#include "libvmtp/array.h"

#include "chart.h"
#include "mesh.h"

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
	int kind; /* enum chart_kind */
	long long size;
	int n;
	double sum, min, max; /* throughput_kbps */
	double retrans;
	int retrans_n;
	double rtt, loss, jitter;
	int rtt_n, loss_n, jitter_n;
	int unstable, unstable_n; /* samples with loss_unstable true, any */
	int sender_limited;       /* samples with sender_limited true */
	size_t ncpu;
	struct cpu_acc *cpu;
	int iv_loops, iv_n;            /* results with intervals, seconds */
	double iv_sum, iv_min, iv_max; /* per-second throughput_kbps */
};

/* The figures of a note, as its rows show them (model_num(): NAN when
 * the entry has none): its packet size ("packet_size" of an ICMP entry,
 * else "pkt_size"), and an ICMP entry's pings and round-trip times. */
enum note_fig {
	NOTE_SIZE,
	NOTE_TX,
	NOTE_RX,
	NOTE_RTT_MIN,
	NOTE_RTT_AVG,
	NOTE_RTT_MAX,
	NOTE_RTT_STDDEV,
	NOTE_FIGS
};

/*
 * An error result, or an ICMP entry, waiting for its category's rows:
 * what they show of it, copied (its flow goes before the rows are made,
 * and a mesh has tens of thousands of entries).
 */
struct note {
	size_t cat;
	const char *proto; /* held by the build, or NULL */
	char *msg;         /* error text, or NULL */
	const char *tool;  /* held by the build, or NULL */
	double fig[NOTE_FIGS];
};

/* model.c */

/* Returns the number V holds, or NAN (also for NULL). */
double model_num(const json_t *v);

/* Returns the string at KEY of OBJ, borrowed from OBJ, or NULL. */
const char *model_str(const json_t *obj, const char *key);

/* category.c */

/*
 * Names the category of flow DESC to TARGET (its "ip_to", NULL when it
 * has none; an IPv6 address makes an IPv6 category) in the REVERSE or
 * forward direction as libvmtp's flow.h does, and keeps DESC.  Fills CAT
 * with new strings; returns 0, or -1 when out of memory (CAT then holds
 * what to free with cat_clear()).
 */
int cat_init(
    struct chart_cat *cat, const char *desc, const char *target, int reverse);

/* Copies FROM into TO with strings of its own; returns 0 or -1 as above. */
int cat_copy(struct chart_cat *to, const struct chart_cat *from);

/* Frees the strings of CAT. */
void cat_clear(struct chart_cat *cat);

/* Frees the N categories CATS and their strings; NULL is allowed. */
void cats_free(struct chart_cat *cats, size_t n);

/* Returns the index of the category labelled LABEL in CATS, or N. */
size_t cat_find(const struct chart_cat *cats, size_t n, const char *label);

/*
 * Sorts the N categories CATS into report order (group, then rank, then
 * SEEN, the order of first appearance, which moves with them) and stores,
 * per old index, the new one in MAP (N entries).
 */
void cats_sort(struct chart_cat *cats, size_t *seen, size_t n, size_t *map);

/* Sorts the N series of SERIES: TCP, UDP, then Multicast, each by size. */
void series_sort(struct chart_series *series, size_t n);

/* Frees the N series SERIES and their names; NULL is allowed. */
void series_free(struct chart_series *series, size_t n);

/* Returns the index of the series named NAME in SERIES, or N. */
size_t series_find(
    const struct chart_series *series, size_t n, const char *name);

/*
 * Names series S: "UDP 1024", "Multicast 1024", "TCP" alone unless
 * TCP_SIZES says several TCP sizes were measured ("TCP 65536").  Returns
 * 0, or -1.
 */
int series_name(struct chart_series *s, int tcp_sizes);

/* table.c */

/*
 * The longest number table_num() writes, with its NUL: "%.*f" of a finite
 * double is a sign, at most DBL_MAX_10_EXP + 1 digits, a point and the
 * decimals; infinities are shorter.
 */
#define TABLE_NUM_DECIMALS_MAX 3
#define TABLE_NUM_LEN (1 + DBL_MAX_10_EXP + 1 + 1 + TABLE_NUM_DECIMALS_MAX + 1)

/*
 * Formats X with DECIMALS (at most TABLE_NUM_DECIMALS_MAX) decimals into
 * BUF and returns BUF, or returns NULL when X is NAN (a cell "-").
 */
const char *table_num(char buf[TABLE_NUM_LEN], int decimals, double x);

/*
 * Makes T an empty table with TITLE and NCOLS columns named HEAD, aligned
 * right where NUMERIC (NULL: none) says so.  Returns 0, or -1 (T then holds
 * what to free with table_clear()).
 */
int table_init(struct chart_table *t, const char *title, int ncols,
    const char *const *head, const int *numeric);

/* Frees what T holds and zeroes it. */
void table_clear(struct chart_table *t);

/*
 * Adds a row of N cells to T, copied (NULL becomes "-"); ERROR marks an
 * error row (N is 3).  Returns 0, or -1 (T keeps what it had, perhaps the
 * row in part).
 */
int table_add(
    struct chart_table *t, int error, int n, const char *const *cells);

/* Drops the columns from FIRST on in which no row has a figure. */
void table_prune(struct chart_table *t, int first);

/* rows.c */

/* Makes the figures tables of RES empty: numbers, icmp, persec. */
int rows_init(struct chart_result *res);

/*
 * Adds the rows of accumulator A (series S in category CAT) to RES: its
 * figures, and its per-second figures when it has intervals.
 */
int rows_add_acc(struct chart_result *res, const struct chart_cat *cat,
    const struct chart_series *s, const struct acc *a);

/* Adds the row of note N in category CAT: an error, or an ICMP entry. */
int rows_add_note(struct chart_result *res, const struct chart_cat *cat,
    const struct note *n);

/* Drops the columns of the figures tables that no row uses. */
void rows_prune(struct chart_result *res);

/* The tools and bandwidth limits of a document's results, gathered one
 * flow at a time (rows_scan_flow()); zeroed to begin. */
struct rows_scan {
	char **tools; /* distinct, in the order they first appear */
	size_t ntool;
	long long *limits; /* distinct, in the order they first appear */
	size_t nlimit;
	int unlimited; /* a TCP, UDP or Multicast result had no limit */
};

/* Adds the results of FLOW (borrowed) to S.  Returns 0, or -1. */
int rows_scan_flow(struct rows_scan *s, const json_t *flow);

/*
 * Stores in *OUT the bandwidth limits S's TCP, UDP and Multicast results
 * were measured under ("1000000 kbps", distinct values in order, "(some
 * results unlimited)" after them when others had none) as a new string, or
 * NULL when none was limited.  Returns 0, or -1.
 */
int rows_scan_limit(const struct rows_scan *s, char **out);

/* Frees what S holds, and zeroes it. */
void rows_scan_clear(struct rows_scan *s);

/*
 * Fills T with the properties of DOC (the run, the cloud) and of SCAN,
 * its results (the tools, the bandwidth limit).
 */
int rows_build_props(
    struct chart_table *t, const json_t *doc, const struct rows_scan *scan);

/*
 * The flows table T of a document: made empty by rows_flows_init(), a row
 * added per flow (borrowed; where it ran, and its verdict) by
 * rows_flows_add(), its empty columns dropped by rows_flows_done().  The
 * first two return 0, or -1.
 */
int rows_flows_init(struct chart_table *t);
int rows_flows_add(struct chart_table *t, const json_t *flow);
void rows_flows_done(struct chart_table *t);

/* timeline.c */

/*
 * Returns the run number of TCP result I of RESULTS: 1 + the measured TCP
 * results before it with its size and direction.
 */
int timeline_loop(const json_t *results, size_t i);

/*
 * Adds the intervals of TCP result R (category CAT, REVERSE, run LOOP) of
 * FLOW (a document's flow, borrowed) to the timelines *TIMES (*NTIME of
 * them): to the last
 * one when NEW is 0, else to a new one.  A result without a number among
 * its intervals adds nothing.  Returns 0, or -1.
 */
int timeline_add(struct chart_timeline **times, size_t *ntime, int new,
    const json_t *flow, size_t cat, const json_t *r, int reverse, int loop);

/*
 * Moves the N timelines TIMES to their categories' new indexes (MAP, as
 * cats_sort() gives it), sorts them by category (flows in input order
 * within one) and names their lines: "loop N", "reverse", "reverse N",
 * after "TCP <size> " when TCP_SIZES says several sizes were measured.
 * Returns 0, or -1.
 */
int timelines_finish(
    struct chart_timeline *times, size_t n, const size_t *map, int tcp_sizes);

/* Frees what T holds. */
void timeline_clear(struct chart_timeline *t);

/* result.c */

/*
 * Counts the distinct TCP buffer sizes of all DOCS, up to 2, from *FIRST
 * on (chart_tcp_sizes()): enough to know whether "TCP" needs its size, in
 * every result alike so that a comparison matches series by name.  -1
 * when out of memory.
 */
int result_tcp_sizes(const json_t *docs, double *first);

/*
 * Whether --protocol PROTO (enum chart_proto) shows results of protocol
 * P ("TCP", "UDP", "ICMP", ...): ICMP, which has tables of its own, only
 * with every protocol.
 */
int result_shown(int proto, const char *p);

/*
 * Fills RES (zeroed) from document DOC (borrowed, not kept) for PROTO
 * (enum chart_proto) and TCP_SIZES; LEAN leaves out what only the
 * result's own section shows: its tables and throughput over time.  Scans
 * DOC's flows into MESH (zeroed) on the way.  Returns 0, or -1 with ERR
 * set (RES then holds what to free with result_clear()).
 */
int result_build(struct chart_result *res, json_t *doc, int proto,
    int tcp_sizes, int lean, struct chart_mesh_scan *mesh,
    struct vmtp_err *err);

/* Frees what RES holds. */
void result_clear(struct chart_result *res);

/* compare.c */

/*
 * Fills REP's comparison (zeroed) from its named results: the union of
 * their categories and series, each result's Gbps, and the table.
 * Returns 0, or -1 (the comparison then holds what compare_clear() frees).
 */
int compare_build(struct chart_report *rep);

/* Frees what C holds. */
void compare_clear(struct chart_compare *c);

/* trend.c */

/*
 * Fills REP's trend (zeroed) from its results and their comparison (built
 * before).  Returns 0, or -1 (the trend then holds what trend_clear()
 * frees).
 */
int trend_build(struct chart_report *rep);

/* Frees what T holds. */
void trend_clear(struct chart_trend *t);

#endif
