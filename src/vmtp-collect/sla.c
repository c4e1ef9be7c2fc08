/*
 * sla.c - parse SLA expressions and judge a run's flows (see sla.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/array.h"
#include "libvmtp/err.h"
#include "libvmtp/flow.h"
#include "libvmtp/rec.h"

#include "sla.h"

enum sla_op { SLA_GE, SLA_LE, SLA_GT, SLA_LT, SLA_EQ };

enum sla_agg { SLA_MEAN, SLA_MAX, SLA_SUM };

/* The metrics: name, sample protocol, sample field, aggregation, scale. */
static const struct metric {
	const char *name;
	const char *protocol;
	const char *field;
	enum sla_agg agg;
	double scale;
} metrics[] = {
    {"tcp_gbps", "TCP", "throughput_kbps", SLA_MEAN, 1.0 / 1048576},
    {"udp_gbps", "UDP", "throughput_kbps", SLA_MAX, 1.0 / 1048576},
    {"udp_loss", "UDP", "loss_rate", SLA_MAX, 1.0},
    {"icmp_avg_ms", "ICMP", "rtt_avg_ms", SLA_MEAN, 1.0},
    {"icmp_max_ms", "ICMP", "rtt_max_ms", SLA_MAX, 1.0},
    {"retrans", "TCP", "retrans", SLA_SUM, 1.0},
    {NULL, NULL, NULL, SLA_MEAN, 0},
};

struct sla {
	char *expr;
	const struct metric *metric;
	enum sla_op op;
	double limit;
	long flow_id;   /* scope by id, or 0 */
	char scope[32]; /* scope by label (normalized, no "ipv6"), or "" */
	int ipv6;       /* the scope names IPv6 flows */
	char shown[32]; /* the scope as given, for "label" */
};

void
sla_free(struct sla *s)
{
	if (s == NULL)
		return;
	free(s->expr);
	free(s);
}

/*
 * Lower-cases SRC into DST (SIZE bytes) with '-' and '_' as spaces and
 * runs of spaces squeezed, so "L3-floating" and "l3 floating" are one.
 */
static void
normalize(const char *src, size_t n, char *dst, size_t size)
{
	size_t j = 0;
	size_t i;

	for (i = 0; i < n && j + 1 < size; i++) {
		char c = (char)tolower((unsigned char)src[i]);

		if (c == '-' || c == '_')
			c = ' ';
		if (c == ' ' && (j == 0 || dst[j - 1] == ' '))
			continue;
		dst[j++] = c;
	}
	while (j > 0 && dst[j - 1] == ' ')
		j--;
	dst[j] = '\0';
}

/*
 * Removes the word "ipv6" from the normalized label or scope S (a label
 * has it after its placement).  Returns 1 when S had it, else 0.
 */
static int
drop_ipv6(char *s)
{
	char word[16];
	char *r = s;
	char *w = s;
	size_t len;
	int found = 0;

	normalize(FLOW_LABEL_IPV6, strlen(FLOW_LABEL_IPV6), word, sizeof(word));
	len = strlen(word);
	/* words are one space apart in a normalized string; W follows R */
	while (*r != '\0') {
		size_t n = strcspn(r, " ");

		if (n == len && strncmp(r, word, n) == 0) {
			found = 1;
		} else {
			if (w != s)
				*w++ = ' ';
			memmove(w, r, n);
			w += n;
		}
		r += n;
		while (*r == ' ')
			r++;
	}
	*w = '\0';
	return found;
}

/*
 * Checks a normalized label scope without its "ipv6": a label's first
 * words as the charts name them (flow_label_bases), then intra or inter.
 */
static int
scope_ok(const char *scope)
{
	char base[32];
	size_t i;

	for (i = 0; flow_label_bases[i] != NULL; i++) {
		size_t n;

		normalize(flow_label_bases[i], strlen(flow_label_bases[i]),
		    base, sizeof(base));
		n = strlen(base);
		if (strncmp(scope, base, n) != 0)
			continue;
		if (scope[n] == '\0' || strcmp(scope + n, " intra") == 0 ||
		    strcmp(scope + n, " inter") == 0)
			return 1;
	}
	return 0;
}

struct sla *
sla_parse(const char *expr, struct vmtp_err *err)
{
	struct sla *s = calloc(1, sizeof(*s));
	const char *p = expr;
	const char *why = NULL;
	char *end = NULL;
	size_t n;
	int i;

	if (s == NULL || (s->expr = strdup(expr)) == NULL) {
		free(s);
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	if (strncmp(p, "flow=", 5) == 0) {
		const char *colon = strchr(p + 5, ':');
		long long id;

		if (colon == NULL || colon == p + 5) {
			why = "flow= needs a flow and a ':'";
			goto bad;
		}
		n = (size_t)(colon - (p + 5));
		errno = 0;
		id = strtoll(p + 5, &end, 10);
		if (end == colon && errno == 0 && id > 0 && id < 1000000) {
			s->flow_id = (long)id;
		} else {
			normalize(p + 5, n, s->scope, sizeof(s->scope));
			snprintf(
			    s->shown, sizeof(s->shown), "%.*s", (int)n, p + 5);
			s->ipv6 = drop_ipv6(s->scope);
			if (n >= sizeof(s->scope) || !scope_ok(s->scope)) {
				why = "unknown flow (a flow id, or L2, L3 "
				      "fixed, L3 floating, Upload, Download, "
				      "Native, with intra or inter, then IPv6 "
				      "for IPv6 flows)";
				goto bad;
			}
		}
		p = colon + 1;
	}
	while (*p == ' ')
		p++;
	n = 0;
	while (p[n] == '_' || (p[n] >= 'a' && p[n] <= 'z'))
		n++;
	for (i = 0; metrics[i].name != NULL; i++)
		if (strlen(metrics[i].name) == n &&
		    strncmp(p, metrics[i].name, n) == 0)
			s->metric = &metrics[i];
	if (s->metric == NULL) {
		why = "unknown metric (tcp_gbps, udp_gbps, udp_loss, "
		      "icmp_avg_ms, icmp_max_ms or retrans)";
		goto bad;
	}
	p += n;
	while (*p == ' ')
		p++;
	if (strncmp(p, ">=", 2) == 0)
		s->op = SLA_GE, p += 2;
	else if (strncmp(p, "<=", 2) == 0)
		s->op = SLA_LE, p += 2;
	else if (strncmp(p, "==", 2) == 0)
		s->op = SLA_EQ, p += 2;
	else if (*p == '>')
		s->op = SLA_GT, p++;
	else if (*p == '<')
		s->op = SLA_LT, p++;
	else {
		why = "no comparison (>=, <=, >, < or ==)";
		goto bad;
	}
	while (*p == ' ')
		p++;
	errno = 0;
	s->limit = strtod(p, &end);
	if (*p == '\0' || *end != '\0' || errno == ERANGE ||
	    !isfinite(s->limit)) {
		why = "the limit is not a number";
		goto bad;
	}
	return s;
bad:
	err_set(err, VMTP_EXIT_USAGE, "--sla: '%.200s': %s", expr, why);
	sla_free(s);
	return NULL;
}

/* A flow direction being judged. */
struct unit {
	json_int_t flow;
	int reverse;
	char *label; /* as the charts name it: "L3 floating intra rev" */
	double acc;  /* running sum or maximum */
	long n;      /* values seen */
};

/*
 * Whether S judges U: its flow, or a label that starts with S's scope as
 * whole words once "IPv6" is left out of both, and that is an IPv6 label
 * exactly when the scope names IPv6 ("L2 intra" judges "L2 intra" and "L2
 * intra rev", never "L2 intra IPv6").  Returns 1 or 0, or -1 when out of
 * memory.
 */
static int
in_scope(const struct sla *s, const struct unit *u)
{
	size_t len = strlen(u->label);
	char *label;
	size_t n;
	int in;

	if (s->flow_id != 0)
		return u->flow == s->flow_id;
	if (s->scope[0] == '\0')
		return 1;
	label = malloc(len + 1);
	if (label == NULL)
		return -1;
	normalize(u->label, len, label, len + 1);
	in = drop_ipv6(label) == s->ipv6;
	n = strlen(s->scope);
	in = in && strncmp(label, s->scope, n) == 0 &&
	     (label[n] == '\0' || label[n] == ' ');
	free(label);
	return in;
}

static void
units_free(struct unit *units, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(units[i].label);
	free(units);
}

static int
holds(const struct sla *s, double v)
{
	switch (s->op) {
	case SLA_GE:
		return v >= s->limit;
	case SLA_LE:
		return v <= s->limit;
	case SLA_GT:
		return v > s->limit;
	case SLA_LT:
		return v < s->limit;
	case SLA_EQ:
		return v == s->limit;
	}
	return 0;
}

static int
same_run(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * Builds the verdict record of S for RUN and unit U (NULL: nothing in
 * scope had data).  Returns a new reference, or NULL when out of memory.
 */
static json_t *
verdict(const struct sla *s, const char *run, const struct unit *u,
    double value, int pass)
{
	json_t *rec = rec_new("sla", run);
	char label[32] = "";

	if (u == NULL && s->scope[0] != '\0')
		snprintf(label, sizeof(label), "%s", s->shown);
	if (rec == NULL ||
	    json_object_set_new(rec, "expr", json_string(s->expr)) != 0 ||
	    json_object_set_new(rec, "flow",
	        u != NULL    ? json_integer(u->flow)
	        : s->flow_id ? json_integer(s->flow_id)
	                     : json_null()) != 0 ||
	    json_object_set_new(rec, "label",
	        u != NULL          ? json_string(u->label)
	        : label[0] != '\0' ? json_string(label)
	                           : json_null()) != 0 ||
	    (u != NULL && u->reverse &&
	        json_object_set_new(rec, "direction", json_string("reverse")) !=
	            0) ||
	    json_object_set_new(rec, "value",
	        u != NULL ? json_real(value) : json_null()) != 0 ||
	    json_object_set_new(rec, "pass", json_boolean(pass)) != 0) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/*
 * Adds sample R (borrowed) of run RUN to its unit in *UNITS (N of them)
 * when S's metric has a value in it.  Returns 0, or -1 when out of memory.
 */
static int
tally(const struct sla *s, const json_t *r, const char *run,
    struct unit **units, size_t *n)
{
	const struct metric *m = s->metric;
	const char *t = rec_type(r);
	const char *proto = json_string_value(json_object_get(r, "protocol"));
	const char *dir = json_string_value(json_object_get(r, "direction"));
	json_t *v = json_object_get(r, m->field);
	json_int_t flow = json_integer_value(json_object_get(r, "flow"));
	int reverse = dir != NULL && strcmp(dir, "reverse") == 0;
	struct unit *u = NULL;
	size_t j;
	double x;

	if (t == NULL || strcmp(t, "sample") != 0 ||
	    !same_run(run, json_string_value(json_object_get(r, "run"))) ||
	    proto == NULL || strcmp(proto, m->protocol) != 0 ||
	    !json_is_number(v) || json_object_get(r, "error") != NULL)
		return 0;
	for (j = 0; j < *n; j++)
		if ((*units)[j].flow == flow && (*units)[j].reverse == reverse)
			u = &(*units)[j];
	if (u == NULL) {
		struct unit *bigger = array_grow(*units, *n, sizeof(**units));

		if (bigger == NULL)
			return -1;
		*units = bigger;
		u = &(*units)[(*n)++];
		memset(u, 0, sizeof(*u));
		u->flow = flow;
		u->reverse = reverse;
	}
	x = json_number_value(v) * m->scale;
	if (m->agg == SLA_MAX)
		u->acc = u->n == 0 || x > u->acc ? x : u->acc;
	else
		u->acc += x;
	u->n++;
	return 0;
}

/*
 * Names the UNITS (N of them) of run RUN as the charts do, from the first
 * flow record of their flow in RECORDS (packed or not): each of them read
 * once, not once a unit.  Returns 0, or -1 when out of memory.
 */
static int
label_units(
    const json_t *records, const char *run, struct unit *units, size_t n)
{
	json_t *r;
	size_t i, j;

	for (i = 0; i < json_array_size(records); i++) {
		const char *t;

		if ((r = rec_at(records, i)) == NULL)
			return -1;
		t = rec_type(r);
		if (t != NULL && strcmp(t, "flow") == 0 &&
		    same_run(run, json_string_value(json_object_get(r, "run"))))
			for (j = 0; j < n; j++) {
				if (units[j].label != NULL ||
				    units[j].flow !=
				        json_integer_value(
				            json_object_get(r, "id")))
					continue;
				units[j].label =
				    flow_label(json_string_value(
				                   json_object_get(r, "desc")),
				        flow_family_of(json_string_value(
				            json_object_get(r, "target"))),
				        units[j].reverse);
				if (units[j].label == NULL)
					goto oom;
			}
		json_decref(r);
	}
	/* a flow without its record still has a label */
	for (j = 0; j < n; j++)
		if (units[j].label == NULL &&
		    (units[j].label = flow_label(
		         NULL, flow_family_of(NULL), units[j].reverse)) == NULL)
			return -1;
	return 0;
oom:
	json_decref(r);
	return -1;
}

/* Judges S on the samples of run RUN.  As sla_judge(). */
static int
judge_run(const struct sla *s, const json_t *records, const char *run,
    struct rec_spill *spill, json_t *out, struct vmtp_err *err)
{
	const struct metric *m = s->metric;
	struct unit *units = NULL;
	size_t nunits = 0;
	int failed = 0;
	int judged = 0;
	json_t *r;
	size_t i, j;

	for (i = 0; i < json_array_size(records); i++) {
		int rc;

		r = rec_at(records, i);
		rc = r != NULL ? tally(s, r, run, &units, &nunits) : -1;
		json_decref(r);
		if (rc != 0)
			goto oom;
	}
	if (label_units(records, run, units, nunits) != 0)
		goto oom;
	for (j = 0; j < nunits; j++) {
		struct unit *u = &units[j];
		double value =
		    m->agg == SLA_MEAN ? u->acc / (double)u->n : u->acc;
		int pass = holds(s, value);
		int in = in_scope(s, u);

		if (in < 0)
			goto oom;
		if (in == 0)
			continue;
		if (json_array_append_new(out,
		        rec_pack(spill, verdict(s, run, u, value, pass))) != 0)
			goto oom;
		judged++;
		failed += !pass;
	}
	if (judged == 0) {
		if (json_array_append_new(
		        out, rec_pack(spill, verdict(s, run, NULL, 0, 0))) != 0)
			goto oom;
		failed++;
	}
	units_free(units, nunits);
	return failed;
oom:
	units_free(units, nunits);
	return err_set(err, VMTP_EXIT_FAIL, "out of memory");
}

int
sla_judge(const struct sla *s, const json_t *records, struct rec_spill *spill,
    json_t *out, struct vmtp_err *err)
{
	json_t *runs = json_array();
	json_t *first = NULL; /* the first run tag of any record */
	json_t *r = NULL;
	size_t i, j;
	int failed = 0;
	int untagged = 0;
	int rc;

	if (runs == NULL)
		goto oom;
	/* the runs are those of the samples, in order */
	for (i = 0; i < json_array_size(records); i++) {
		json_t *run;
		const char *t;
		json_t *known;
		int seen = 0;

		if ((r = rec_at(records, i)) == NULL)
			goto oom;
		run = json_object_get(r, "run");
		t = rec_type(r);
		if (first == NULL && json_is_string(run))
			first = json_incref(run);
		if (t != NULL && strcmp(t, "sample") == 0 &&
		    !json_is_string(run))
			untagged = 1;
		if (t == NULL || strcmp(t, "sample") != 0 ||
		    !json_is_string(run)) {
			json_decref(r);
			continue;
		}
		json_array_foreach (runs, j, known)
			if (json_equal(known, run))
				seen = 1;
		if (!seen && json_array_append(runs, run) != 0)
			goto oom;
		json_decref(r);
	}
	/* untagged samples are judged as one run; no samples at all as the
	 * first run named, so that the verdict still says "not met" */
	if (untagged || json_array_size(runs) == 0) {
		rc = judge_run(s, records,
		    untagged ? NULL : json_string_value(first), spill, out,
		    err);
		if (rc < 0)
			goto out;
		failed += rc;
	}
	json_array_foreach (runs, i, r) {
		rc = judge_run(
		    s, records, json_string_value(r), spill, out, err);
		if (rc < 0)
			goto out;
		failed += rc;
	}
	rc = failed;
out:
	json_decref(first);
	json_decref(runs);
	return rc;
oom:
	json_decref(r);
	rc = err_set(err, VMTP_EXIT_FAIL, "out of memory");
	goto out;
}
