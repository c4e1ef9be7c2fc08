/*
 * rows.c - the rows of a result's tables in vmtp-chart's report (SPEC §6):
 * throughput, UDP and Multicast figures, per-second figures, ICMP
 * latencies and the
 * errors among them, then the properties of the run and where each flow
 * ran.  The columns of each table are declared here, once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "libvmtp/doc.h"

#include "chart.h"
#include "model.h"

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
	NUM_UNSTABLE,
	NUM_SENDER,
	NUM_CPU,
	NUM_COLS
};

static const char *const num_head[NUM_COLS] = {"Flow", "Series", "Runs", "Gbps",
    "Min Gbps", "Max Gbps", "Retrans", "RTT ms", "Loss %", "Jitter ms",
    "Loss unstable", "Sender limited", "CPU load (host: busy CPUs)"};
static const int num_numeric[NUM_COLS] = {
    0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};

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

int
rows_init(struct chart_result *res)
{
	if (table_init(&res->numbers, "Throughput", NUM_COLS, num_head,
	        num_numeric) != 0 ||
	    table_init(&res->icmp, "Latency (ICMP)", ICMP_COLS, icmp_head,
	        icmp_numeric) != 0 ||
	    table_init(&res->persec, "Throughput per second", SEC_COLS,
	        sec_head, sec_numeric) != 0)
		return -1;
	return 0;
}

void
rows_prune(struct chart_result *res)
{
	table_prune(&res->numbers, NUM_LOOPS);
	table_prune(&res->icmp, ICMP_TX);
}

/*
 * Stores in *OUT the CPU load of A as a new string, "10.0.0.5 3.20 (idle
 * 0.40)" per host, or NULL when it has none.  Returns 0, or -1.
 */
static int
cpu_text(char **out, const struct acc *a)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *mem;

	*out = NULL;
	if (a->ncpu == 0)
		return 0;
	mem = open_memstream(&buf, &len);
	if (mem == NULL)
		return -1;
	for (i = 0; i < a->ncpu; i++) {
		const struct cpu_acc *c = &a->cpu[i];

		if (c->n > 0 && c->base_n > 0)
			fprintf(mem, "%s%s %.2f (idle %.2f)", i > 0 ? ", " : "",
			    c->host, c->sum / c->n, c->base_sum / c->base_n);
		else if (c->base_n > 0)
			fprintf(mem, "%s%s idle %.2f", i > 0 ? ", " : "",
			    c->host, c->base_sum / c->base_n);
	}
	if (mem_close(mem, &buf) != 0)
		return -1;
	if (buf[0] == '\0') {
		free(buf);
		buf = NULL;
	}
	*out = buf;
	return 0;
}

/* K of a series' N samples said so: "yes" when all did, else "K of N";
 * NULL when none did.  BUF holds the text. */
static const char *
count_cell(char *buf, int k, int n)
{
	if (k <= 0)
		return NULL;
	if (k >= n)
		return "yes";
	snprintf(buf, TABLE_NUM_LEN, "%d of %d", k, n);
	return buf;
}

/* Adds the row of accumulator A, series S, in category CAT. */
static int
numbers_row(struct chart_table *t, const struct chart_cat *cat,
    const struct chart_series *s, const struct acc *a)
{
	char b[NUM_COLS][TABLE_NUM_LEN];
	const char *cells[NUM_COLS] = {NULL};
	char *cpu = NULL;
	int rc;

	cells[NUM_FLOW] = cat->label;
	cells[NUM_SERIES] = s->name;
	cells[NUM_LOOPS] = table_num(b[NUM_LOOPS], 0, a->n);
	if (a->n > 0) {
		cells[NUM_GBPS] =
		    table_num(b[NUM_GBPS], 3, a->sum / a->n / KBPS_PER_GBPS);
		if (a->n > 1) {
			cells[NUM_MIN] =
			    table_num(b[NUM_MIN], 3, a->min / KBPS_PER_GBPS);
			cells[NUM_MAX] =
			    table_num(b[NUM_MAX], 3, a->max / KBPS_PER_GBPS);
		}
	}
	if (a->retrans_n > 0)
		cells[NUM_RETRANS] = table_num(b[NUM_RETRANS], 0, a->retrans);
	if (a->rtt_n > 0)
		cells[NUM_RTT] = table_num(b[NUM_RTT], 2, a->rtt / a->rtt_n);
	if (a->loss_n > 0)
		cells[NUM_LOSS] =
		    table_num(b[NUM_LOSS], 2, a->loss / a->loss_n);
	if (a->jitter_n > 0)
		cells[NUM_JITTER] =
		    table_num(b[NUM_JITTER], 3, a->jitter / a->jitter_n);
	cells[NUM_UNSTABLE] =
	    count_cell(b[NUM_UNSTABLE], a->unstable, a->unstable_n);
	cells[NUM_SENDER] = count_cell(b[NUM_SENDER], a->sender_limited, a->n);
	if (cpu_text(&cpu, a) != 0)
		return -1;
	cells[NUM_CPU] = cpu;
	rc = table_add(t, 0, NUM_COLS, cells);
	free(cpu);
	return rc;
}

/* Adds the per-second row of accumulator A (with intervals). */
static int
persec_row(struct chart_table *t, const struct chart_cat *cat,
    const struct chart_series *s, const struct acc *a)
{
	char b[SEC_COLS][TABLE_NUM_LEN];
	const char *cells[SEC_COLS] = {NULL};

	cells[SEC_FLOW] = cat->label;
	cells[SEC_SERIES] = s->name;
	cells[SEC_LOOPS] = table_num(b[SEC_LOOPS], 0, a->iv_loops);
	cells[SEC_SECONDS] = table_num(b[SEC_SECONDS], 0, a->iv_n);
	cells[SEC_MIN] = table_num(b[SEC_MIN], 3, a->iv_min / KBPS_PER_GBPS);
	cells[SEC_MEAN] =
	    table_num(b[SEC_MEAN], 3, a->iv_sum / a->iv_n / KBPS_PER_GBPS);
	cells[SEC_MAX] = table_num(b[SEC_MAX], 3, a->iv_max / KBPS_PER_GBPS);
	return table_add(t, 0, SEC_COLS, cells);
}

int
rows_add_acc(struct chart_result *res, const struct chart_cat *cat,
    const struct chart_series *s, const struct acc *a)
{
	if (numbers_row(&res->numbers, cat, s, a) != 0)
		return -1;
	if (a->iv_n > 0 && persec_row(&res->persec, cat, s, a) != 0)
		return -1;
	return 0;
}

/* Adds the row of note N, an ICMP entry (one packet size). */
static int
icmp_row(
    struct chart_table *t, const struct chart_cat *cat, const struct note *n)
{
	char b[ICMP_COLS][TABLE_NUM_LEN];
	const char *cells[ICMP_COLS] = {NULL};
	int i;

	cells[ICMP_FLOW] = cat->label;
	/* the columns from the size on are the note's figures */
	for (i = ICMP_SIZE; i <= ICMP_STDDEV; i++)
		cells[i] = table_num(
		    b[i], i <= ICMP_RX ? 0 : 3, n->fig[i - ICMP_SIZE]);
	if (cells[ICMP_SIZE] == NULL)
		cells[ICMP_SIZE] = "default";
	cells[ICMP_TOOL] = n->tool;
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
	double size = n->fig[NOTE_SIZE];
	const char *proto = n->proto != NULL ? n->proto : "-";
	const char *msg = n->msg;
	const char *cells[3];
	char *what = NULL;
	int rc;

	if (icmp && !isnan(size))
		rc = asprintf(&what, "%.0f", size);
	else if (icmp)
		rc = asprintf(&what, "-");
	else if (!isnan(size))
		rc = asprintf(&what, "%s %.0f", proto, size);
	else
		rc = asprintf(&what, "%s", proto);
	if (rc < 0)
		return -1;
	if (strncasecmp(msg, "error: ", 7) == 0)
		msg += 7;
	cells[0] = cat->label;
	cells[1] = what;
	cells[2] = msg;
	rc = table_add(t, 1, 3, cells);
	free(what);
	return rc;
}

int
rows_add_note(
    struct chart_result *res, const struct chart_cat *cat, const struct note *n)
{
	int icmp = n->proto != NULL && strcmp(n->proto, "ICMP") == 0;

	if (n->msg != NULL)
		return error_row(icmp ? &res->icmp : &res->numbers, cat, n);
	return icmp_row(&res->icmp, cat, n);
}

/*
 * The longest number doc_value() writes, with its NUL: "%lld" is at most
 * 20 characters, "%g" at most 13 ("-1.79769e+308").
 */
#define DOC_NUM_LEN 24

/*
 * Returns the top-level value KEY of DOC: a string borrowed from DOC, a
 * number formatted into BUF, or NULL when it has none.
 */
static const char *
doc_value(char buf[DOC_NUM_LEN], const json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	if (json_is_string(v) && json_string_length(v) > 0)
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(
		    buf, DOC_NUM_LEN, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, DOC_NUM_LEN, "%g", json_real_value(v));
		return buf;
	}
	return NULL;
}

int
rows_scan_flow(struct rows_scan *s, const json_t *flow)
{
	json_t *r;
	size_t j, k;

	json_array_foreach (json_object_get(flow, "results"), j, r) {
		const char *tool = model_str(r, "tool");
		const char *p = model_str(r, "protocol");
		double x =
		    model_num(json_object_get(r, "bandwidth_limit_kbps"));
		void *grown;

		for (k = 0; tool != NULL && k < s->ntool; k++)
			if (strcmp(s->tools[k], tool) == 0)
				break;
		if (tool != NULL && tool[0] != '\0' && k == s->ntool) {
			grown =
			    array_grow(s->tools, s->ntool, sizeof(*s->tools));
			if (grown == NULL)
				return -1;
			s->tools = grown;
			if ((s->tools[s->ntool] = strdup(tool)) == NULL)
				return -1;
			s->ntool++;
		}
		/* ICMP is never limited, errors measured nothing */
		if (p == NULL || strcmp(p, "ICMP") == 0 ||
		    json_object_get(r, "error") != NULL)
			continue;
		if (isnan(x)) {
			s->unlimited = 1;
			continue;
		}
		for (k = 0; k < s->nlimit; k++)
			if (s->limits[k] == (long long)x)
				break;
		if (k < s->nlimit)
			continue;
		grown = array_grow(s->limits, s->nlimit, sizeof(*s->limits));
		if (grown == NULL)
			return -1;
		s->limits = grown;
		s->limits[s->nlimit++] = (long long)x;
	}
	return 0;
}

/*
 * Stores in *OUT the tools of S, joined by ", " in the order they first
 * appear, as a new string, or NULL when there is none.  Returns 0, or -1.
 */
static int
scan_tools(const struct rows_scan *s, char **out)
{
	size_t k, len = 0;
	FILE *mem;

	*out = NULL;
	if (s->ntool == 0)
		return 0;
	mem = open_memstream(out, &len);
	if (mem == NULL)
		return -1;
	for (k = 0; k < s->ntool; k++)
		fprintf(mem, "%s%s", k > 0 ? ", " : "", s->tools[k]);
	return mem_close(mem, out);
}

int
rows_scan_limit(const struct rows_scan *s, char **out)
{
	size_t k, len = 0;
	FILE *mem;

	*out = NULL;
	if (s->nlimit == 0)
		return 0;
	mem = open_memstream(out, &len);
	if (mem == NULL)
		return -1;
	for (k = 0; k < s->nlimit; k++)
		fprintf(mem, "%s%lld kbps", k > 0 ? ", " : "", s->limits[k]);
	if (s->unlimited)
		fputs(" (some results unlimited)", mem);
	return mem_close(mem, out);
}

void
rows_scan_clear(struct rows_scan *s)
{
	size_t k;

	for (k = 0; k < s->ntool; k++)
		free(s->tools[k]);
	free(s->tools);
	free(s->limits);
	*s = (struct rows_scan){0};
}

/* Stores in *OUT DOC's L2 agent, "type version", or NULL; 0 or -1. */
static int
doc_l2agent(char **out, const json_t *doc)
{
	const char *type = model_str(doc, "l2agent_type");
	const char *ver = model_str(doc, "l2agent_version");

	*out = NULL;
	if (type == NULL && ver == NULL)
		return 0;
	if (asprintf(out, "%s%s%s", type != NULL ? type : "",
	        type != NULL && ver != NULL ? " " : "",
	        ver != NULL ? ver : "") < 0) {
		*out = NULL;
		return -1;
	}
	return 0;
}

int
rows_build_props(
    struct chart_table *t, const json_t *doc, const struct rows_scan *scan)
{
	static const char *const rows[][2] = {
	    {"Description", "test_description"}, {"Date", "date"},
	    {"Run", "run_id"}, {"OpenStack release", "openstack_version"},
	    {"Distribution", "distro"}, {"Encapsulation", "encapsulation"},
	    {"L2 agent", NULL}, {"CPU", "cpu_info"}, {"NIC", "nic_name"},
	    {"Tools", NULL}, {"Bandwidth limit", NULL}, {"Region", "region"},
	    {"Auth URL", "auth_url"}, {"vmtp version", "version"}};
	static const char *const head[] = {"Property", "Value"};
	char num[DOC_NUM_LEN];
	size_t i;

	if (table_init(t, "Properties", 2, head, NULL) != 0)
		return -1;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *cells[2] = {rows[i][0], NULL};
		char *made = NULL;
		int rc = 0;

		if (rows[i][1] != NULL)
			cells[1] = doc_value(num, doc, rows[i][1]);
		else if (strcmp(rows[i][0], "Tools") == 0)
			rc = scan_tools(scan, &made);
		else if (strcmp(rows[i][0], "Bandwidth limit") == 0)
			rc = rows_scan_limit(scan, &made);
		else
			rc = doc_l2agent(&made, doc);
		if (made != NULL)
			cells[1] = made;
		if (rc == 0 && cells[1] != NULL)
			rc = table_add(t, 0, 2, cells);
		free(made);
		if (rc != 0)
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

/*
 * Stores in *PLACE the availability zones of FLOW, "from → to", and in
 * *GUEST its guest OS, "id version", each a new string or NULL when the
 * flow names none.  Returns 0, or -1 (the caller frees both).
 */
static int
flow_where(char **place, char **guest, const json_t *flow)
{
	const char *az_from = model_str(flow, "az_from");
	const char *az_to = model_str(flow, "az_to");
	const char *os = model_str(flow, "distro_id");
	const char *osv = model_str(flow, "distro_version");

	*place = NULL;
	*guest = NULL;
	if ((az_from != NULL || az_to != NULL) &&
	    asprintf(place, "%s \u2192 %s", az_from != NULL ? az_from : "?",
	        az_to != NULL ? az_to : "?") < 0) {
		*place = NULL;
		return -1;
	}
	if (os != NULL && asprintf(guest, "%s%s%s", os, osv != NULL ? " " : "",
	                      osv != NULL ? osv : "") < 0) {
		*guest = NULL;
		return -1;
	}
	return 0;
}

int
rows_flows_init(struct chart_table *t)
{
	static const char *const head[] = {"Flow", "Description", "From", "To",
	    "Placement", "Guest OS", "Result"};

	if (table_init(t, "Flows", 7, head, NULL) != 0)
		return -1;
	t->verdict = 7;
	return 0;
}

int
rows_flows_add(struct chart_table *t, const json_t *flow)
{
	struct chart_cat cat;
	const char *cells[7] = {NULL};
	char *place = NULL, *guest = NULL;
	int rc;

	rc = cat_init(
	    &cat, model_str(flow, "desc"), model_str(flow, "ip_to"), 0);
	if (rc == 0)
		rc = flow_where(&place, &guest, flow);
	if (rc == 0) {
		cells[0] = cat.label;
		cells[1] = cat.desc;
		cells[2] = model_str(flow, "ip_from");
		cells[3] = model_str(flow, "ip_to");
		cells[4] = place;
		cells[5] = guest;
		cells[6] = flow_verdict(flow);
		rc = table_add(t, 0, 7, cells);
	}
	cat_clear(&cat);
	free(place);
	free(guest);
	return rc != 0 ? -1 : 0;
}

void
rows_flows_done(struct chart_table *t)
{
	table_prune(t, 2);
}
