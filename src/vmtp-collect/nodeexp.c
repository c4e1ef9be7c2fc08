/*
 * nodeexp.c - node_exporter's /metrics to CPU readings (see nodeexp.h).
 *
 * The text exposition format: "# HELP"/"# TYPE" comments, then samples
 * "name{label="value",...} value [timestamp]".  Only node_cpu_seconds_total
 * is read; other lines are checked for the sample shape and skipped.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "libvmtp/err.h"
#include "libvmtp/http.h"

#include "cpu.h"
#include "nodeexp.h"

#define NODEEXP_MAX_BODY (32L * 1024 * 1024)
#define NODEEXP_MAX_CPUS 4096

/* Distinct cpu labels seen on the page, to count CPUs. */
struct cpu_set {
	char (*label)[32];
	size_t n;
};

static int
is_name_char(int c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == ':' || (!first && c >= '0' && c <= '9');
}

/*
 * Reads one label value (after the opening quote) at *P up to END into
 * VAL (SIZE bytes, truncated), undoing \\, \" and \n.  Returns 0 with *P
 * after the closing quote, or -1.
 */
static int
label_value(const char **p, const char *end, char *val, size_t size)
{
	const char *s = *p;
	size_t n = 0;

	while (s < end && *s != '"') {
		char c = *s++;

		if (c == '\\') {
			if (s == end)
				return -1;
			c = *s++;
			if (c == 'n')
				c = '\n';
		}
		if (n + 1 < size)
			val[n++] = c;
	}
	if (s == end)
		return -1;
	val[n] = '\0';
	*p = s + 1;
	return 0;
}

/* Adds CPU to SET unless it is there.  0, or -1 when there are too many. */
static int
count_cpu(struct cpu_set *set, const char *cpu)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->label[i], cpu) == 0)
			return 0;
	if (set->n == NODEEXP_MAX_CPUS)
		return -1;
	snprintf(set->label[set->n++], sizeof(set->label[0]), "%s", cpu);
	return 0;
}

/*
 * Parses one sample line [S, END).  Returns 0 (adding to TOT when it is
 * node_cpu_seconds_total), or -1 when the line is not a sample.
 */
static int
parse_line(const char *s, const char *end, struct nodeexp_totals *tot,
    struct cpu_set *set)
{
	const char *name = s;
	size_t name_len;
	char mode[32] = "";
	char cpu[32] = "";
	char num[64];
	char *stop = NULL;
	double v;
	size_t n;

	if (s == end || !is_name_char((unsigned char)*s, 1))
		return -1;
	while (s < end && is_name_char((unsigned char)*s, 0))
		s++;
	name_len = (size_t)(s - name);
	if (s < end && *s == '{') {
		s++;
		for (;;) {
			const char *key = s;
			size_t key_len;
			char val[256];

			while (s < end && (*s == ' ' || *s == ','))
				s++;
			if (s < end && *s == '}')
				break;
			key = s;
			while (s < end && is_name_char((unsigned char)*s, 0))
				s++;
			key_len = (size_t)(s - key);
			if (key_len == 0 || s + 1 >= end || s[0] != '=' ||
			    s[1] != '"')
				return -1;
			s += 2;
			if (label_value(&s, end, val, sizeof(val)) != 0)
				return -1;
			if (key_len == 4 && memcmp(key, "mode", 4) == 0)
				snprintf(mode, sizeof(mode), "%.31s", val);
			else if (key_len == 3 && memcmp(key, "cpu", 3) == 0)
				snprintf(cpu, sizeof(cpu), "%.31s", val);
		}
		s++;
	}
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	n = 0;
	while (s < end && *s != ' ' && *s != '\t' && n + 1 < sizeof(num))
		num[n++] = *s++;
	num[n] = '\0';
	errno = 0;
	v = strtod(num, &stop);
	if (n == 0 || *stop != '\0' || errno == ERANGE)
		return -1;
	if (name_len != strlen("node_cpu_seconds_total") ||
	    memcmp(name, "node_cpu_seconds_total", name_len) != 0)
		return 0;
	if (!isfinite(v) || v < 0 || cpu[0] == '\0' || mode[0] == '\0')
		return -1;
	if (count_cpu(set, cpu) != 0)
		return -1;
	tot->all += v;
	if (strcmp(mode, "user") == 0)
		tot->user += v;
	else if (strcmp(mode, "system") == 0)
		tot->system += v;
	return 0;
}

int
nodeexp_parse(const char *buf, size_t len, struct nodeexp_totals *tot,
    struct vmtp_err *err)
{
	struct cpu_set set = {NULL, 0};
	const char *end = buf + len;
	const char *line = buf;
	long lineno = 0;
	int rc = -1;

	memset(tot, 0, sizeof(*tot));
	set.label = malloc(NODEEXP_MAX_CPUS * sizeof(*set.label));
	if (set.label == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *stop = nl != NULL ? nl : end;

		lineno++;
		while (stop > line && (stop[-1] == '\r' || stop[-1] == ' '))
			stop--;
		if (stop > line && line[0] != '#' &&
		    parse_line(line, stop, tot, &set) != 0) {
			err_set(err, VMTP_EXIT_DATA,
			    "line %ld is not a Prometheus sample", lineno);
			goto out;
		}
		line = nl != NULL ? nl + 1 : end;
	}
	if (set.n == 0) {
		err_set(err, VMTP_EXIT_DATA, "no node_cpu_seconds_total");
		goto out;
	}
	if (!isfinite(tot->all)) {
		err_set(
		    err, VMTP_EXIT_DATA, "node_cpu_seconds_total overflows");
		goto out;
	}
	tot->num = (long)set.n;
	rc = 0;
out:
	free(set.label);
	return rc;
}

int
nodeexp_reading(const struct nodeexp_totals *prev,
    const struct nodeexp_totals *cur, const char *host, double t,
    struct cpu_reading *r)
{
	double all = cur->all - prev->all;
	double user = cur->user - prev->user;
	double system = cur->system - prev->system;

	if (!(all > 0) || user < 0 || system < 0)
		return -1;
	memset(r, 0, sizeof(*r));
	snprintf(r->host, sizeof(r->host), "%s", host);
	r->t = t;
	/* to hundredths of a percent: gmond gives tenths */
	r->user = round(10000.0 * user / all) / 100.0;
	r->system = round(10000.0 * system / all) / 100.0;
	r->num = cur->num;
	cpu_reading_set_load(r);
	return 0;
}

int
nodeexp_fetch(struct http *h, const char *url, double timeout,
    const atomic_int *cancel, char **buf, size_t *len, struct vmtp_err *err)
{
	struct http_resp resp;
	int rc = -1;

	*buf = NULL;
	*len = 0;
	if (http_get(h, url, (long)(timeout * 1000), NODEEXP_MAX_BODY, cancel,
	        &resp, err) != 0)
		return -1;
	if (resp.status != 200)
		err_set(err, VMTP_EXIT_FAIL, "HTTP status %ld", resp.status);
	else if (resp.len == 0)
		err_set(err, VMTP_EXIT_FAIL, "empty answer");
	else {
		*buf = resp.body;
		*len = resp.len;
		resp.body = NULL;
		rc = 0;
	}
	http_resp_clear(&resp);
	return rc;
}

int
nodeexp_url_parse(const char *url, char *host, size_t size, char **shown,
    struct vmtp_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	char *h = NULL;
	int rc = -1;

	*shown = NULL;
	if (u == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    h[0] == '\0' || strlen(h) >= size) {
		err_set(err, VMTP_EXIT_USAGE,
		    "--node-exporter: not an http(s) URL with a host");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, shown, 0) != CURLUE_OK) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	/* an IPv6 host comes bracketed; the record wants the address */
	if (h[0] == '[' && h[strlen(h) - 1] == ']')
		snprintf(host, size, "%.*s", (int)strlen(h) - 2, h + 1);
	else
		snprintf(host, size, "%s", h);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(h);
	curl_url_cleanup(u);
	return rc;
}
