/*
 * parse.c - nuttcp, iperf3 and ping output into numbers (see parse.h;
 * SPEC §4 sample fields, §6 vmtp-run).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/parse.h"

/* Longest piece of the tool's first line quoted in an error message. */
#define QUOTE_MAX 160

/* A NUL-terminated copy of BUF with NUL bytes turned into spaces. */
static char *
copy_text(const char *buf, size_t len)
{
	char *s = malloc(len + 1);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		s[i] = buf[i] == '\0' ? ' ' : buf[i];
	s[len] = '\0';
	return s;
}

/*
 * Sets ERR to "cannot parse TOOL output: LINE" quoting the first line of
 * BUF that says "Error", else its first non-blank line, printable ASCII
 * only, or "(empty)".  Returns -1.
 */
static int
parse_fail(const char *tool, const char *buf, size_t len, struct vmtp_err *err)
{
	char q[QUOTE_MAX + 1];
	size_t i = 0;
	size_t n = 0;

	const char *e = memmem(buf, len, "Error", 5);

	/* the line saying what went wrong beats the first line */
	if (e != NULL) {
		i = (size_t)(e - buf);
		while (i > 0 && buf[i - 1] != '\n')
			i--;
	}
	while (i < len && (buf[i] == '\n' || buf[i] == '\r' || buf[i] == ' ' ||
	                      buf[i] == '\t'))
		i++;
	for (; i < len && buf[i] != '\n' && buf[i] != '\r' && n < QUOTE_MAX;
	     i++)
		q[n++] = buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '?';
	q[n] = '\0';
	return err_set(err, VMTP_EXIT_FAIL, "cannot parse %s output: %s", tool,
	    n > 0 ? q : "(empty)");
}

static void
tp_init(struct parse_tp *tp)
{
	tp->mbps = NAN;
	tp->loss_pct = NAN;
	tp->jitter_ms = NAN;
	tp->retrans = -1;
	tp->rtt_ms = NAN;
	tp->intervals = NULL;
	tp->n_intervals = 0;
}

void
parse_tp_free(struct parse_tp *tp)
{
	if (tp == NULL)
		return;
	free(tp->intervals);
	tp->intervals = NULL;
	tp->n_intervals = 0;
}

/* Appends an interval of MBPS to TP.  Returns 0, or -1 with ERR set. */
static int
tp_add_interval(struct parse_tp *tp, double mbps, struct vmtp_err *err)
{
	double *n = realloc(
	    tp->intervals, (tp->n_intervals + 1) * sizeof(*tp->intervals));

	if (n == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	tp->intervals = n;
	tp->intervals[tp->n_intervals++] = mbps;
	return 0;
}

/*
 * Finds the whitespace-separated token KEY=VALUE in LINE and parses VALUE
 * as a whole, finite, non-negative number.  Returns 1 and sets *V when
 * found and valid, 0 otherwise.
 */
static int
kv_number(const char *line, const char *key, double *v)
{
	size_t klen = strlen(key);
	const char *p = line;

	while (*p != '\0') {
		const char *end;
		char *num_end = NULL;
		char tmp[64];
		size_t tlen;
		double d;

		while (*p == ' ' || *p == '\t')
			p++;
		end = p;
		while (*end != '\0' && *end != ' ' && *end != '\t')
			end++;
		tlen = (size_t)(end - p);
		if (tlen > klen + 1 && tlen - klen - 1 < sizeof(tmp) &&
		    strncmp(p, key, klen) == 0 && p[klen] == '=') {
			memcpy(tmp, p + klen + 1, tlen - klen - 1);
			tmp[tlen - klen - 1] = '\0';
			d = strtod(tmp, &num_end);
			if (num_end != tmp && *num_end == '\0' && isfinite(d) &&
			    d >= 0) {
				*v = d;
				return 1;
			}
			return 0;
		}
		p = end;
	}
	return 0;
}

int
parse_nuttcp(
    const char *buf, size_t len, struct parse_tp *out, struct vmtp_err *err)
{
	struct parse_tp *tp = out;
	char *text = NULL;
	char *line;
	char *save = NULL;
	int found = 0;
	int rc = -1;

	tp_init(tp);
	text = copy_text(buf, len);
	if (text == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	for (line = strtok_r(text, "\r\n", &save); line != NULL;
	     line = strtok_r(NULL, "\r\n", &save)) {
		double rate;
		double v;

		if (!kv_number(line, "rate_Mbps", &rate))
			continue;
		if (kv_number(line, "real_sec", &v)) {
			/* an interval line (-i); intervals follow in order */
			if (tp_add_interval(tp, rate, err) < 0)
				goto out;
			continue;
		}
		if (!kv_number(line, "real_seconds", &v) ||
		    !kv_number(line, "megabytes", &v))
			continue;
		found = 1;
		tp->mbps = rate;
		if (kv_number(line, "retrans", &v))
			tp->retrans = (long long)v;
		if (kv_number(line, "rtt_ms", &v))
			tp->rtt_ms = v;
		if (kv_number(line, "data_loss", &v))
			tp->loss_pct = v;
		/* nuttcp 7 and later with -j: the largest jitter seen */
		if (kv_number(line, "msmaxjitter", &v))
			tp->jitter_ms = v;
	}
	/* a run that ended prints its final line */
	rc = found ? 0 : parse_fail("nuttcp", buf, len, err);
out:
	if (rc != 0)
		parse_tp_free(tp);
	free(text);
	return rc;
}

/* The number at OBJ.KEY, or NAN when absent or not a number. */
static double
jnum(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

int
parse_iperf3(
    const char *buf, size_t len, struct parse_tp *out, struct vmtp_err *err)
{
	struct parse_tp *tp = out;
	json_t *doc = NULL;
	json_t *end;
	json_t *sum;
	json_t *msg;
	json_t *ivs;
	json_t *iv;
	const char *proto;
	size_t i;
	double v;
	int rc = -1;

	tp_init(tp);
	doc = json_loadb(buf, len, 0, NULL);
	if (!json_is_object(doc)) {
		parse_fail("iperf3", buf, len, err);
		goto out;
	}
	msg = json_object_get(doc, "error");
	if (json_is_string(msg)) {
		err_set(err, VMTP_EXIT_FAIL, "iperf3: %.400s",
		    json_string_value(msg));
		goto out;
	}
	proto = json_string_value(json_object_get(
	    json_object_get(json_object_get(doc, "start"), "test_start"),
	    "protocol"));
	end = json_object_get(doc, "end");
	sum = json_object_get(end, "sum_received");
	if (proto != NULL && strcmp(proto, "UDP") == 0) {
		double sent = jnum(json_object_get(end, "sum_sent"), "packets");
		double seen = jnum(sum, "packets");
		double gaps = jnum(sum, "lost_packets");

		if (sum == NULL)
			sum = json_object_get(end, "sum");
		tp->loss_pct = jnum(sum, "lost_percent");
		tp->jitter_ms = jnum(sum, "jitter_ms");
		if (!isfinite(tp->loss_pct) || tp->loss_pct < 0) {
			parse_fail("iperf3", buf, len, err);
			goto out;
		}
		/* the receiver's "packets" is the highest sequence number it
		 * saw and its "lost_packets" the gaps below it: what was lost
		 * after the last datagram that arrived (a tail dropped, or a
		 * reassembly that collapsed) is in neither.  The loss is then
		 * what the sender sent less what arrived. */
		if (isfinite(sent) && sent > 0 && isfinite(seen) &&
		    isfinite(gaps) && seen >= gaps && seen - gaps <= sent)
			tp->loss_pct = 100 * (sent - (seen - gaps)) / sent;
	} else {
		json_t *st = json_object_get(end, "streams");

		v = jnum(json_object_get(end, "sum_sent"), "retransmits");
		if (isfinite(v) && v >= 0)
			tp->retrans = (long long)v;
		/* iperf3 reports the sender's smoothed RTT in microseconds */
		v = jnum(json_object_get(json_array_get(st, 0), "sender"),
		    "mean_rtt");
		if (isfinite(v) && v >= 0)
			tp->rtt_ms = v / 1000.0;
	}
	tp->mbps = jnum(sum, "bits_per_second") / 1e6;
	if (!isfinite(tp->mbps) || tp->mbps < 0) {
		parse_fail("iperf3", buf, len, err);
		goto out;
	}
	ivs = json_object_get(doc, "intervals");
	json_array_foreach (ivs, i, iv) {
		v = jnum(json_object_get(iv, "sum"), "bits_per_second");
		if (!isfinite(v) || v < 0)
			continue;
		if (tp_add_interval(tp, v / 1e6, err) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		parse_tp_free(tp);
	json_decref(doc);
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile P (0-100] of the N sorted values V. */
static double
percentile(const double *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);

	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

/*
 * Reads "N packets transmitted, M [packets ]received" from LINE.
 * Returns 1 when LINE is the summary line.
 */
static int
ping_counts(const char *line, long long *tx, long long *rx)
{
	const char *p = strstr(line, " packets transmitted, ");
	char *end;

	if (p == NULL)
		return 0;
	*tx = strtoll(line, &end, 10);
	if (end != p || *tx < 0)
		return 0;
	p += strlen(" packets transmitted, ");
	*rx = strtoll(p, &end, 10);
	if (end == p || *rx < 0 ||
	    (strncmp(end, " received", 9) != 0 &&
	        strncmp(end, " packets received", 17) != 0))
		return 0;
	return 1;
}

/* Reads "... = a/b/c[/d] ms" (rtt or round-trip line) into V; count. */
static int
ping_rtts(const char *line, double v[4])
{
	const char *p;
	char *end;
	int n = 0;

	if (strncmp(line, "rtt ", 4) != 0 && strncmp(line, "round-trip ", 11))
		return 0;
	p = strstr(line, " = ");
	if (p == NULL)
		return 0;
	p += 3;
	while (n < 4) {
		v[n] = strtod(p, &end);
		if (end == p || !isfinite(v[n]) || v[n] < 0)
			return 0;
		n++;
		if (*end != '/')
			break;
		p = end + 1;
	}
	return n >= 3 ? n : 0;
}

int
parse_ping(
    const char *buf, size_t len, struct parse_ping *out, struct vmtp_err *err)
{
	struct parse_ping pg = {-1, -1, NAN, NAN, NAN, NAN, NAN, NAN};
	double *times = NULL;
	size_t n_times = 0;
	char *text = NULL;
	char *line;
	char *save = NULL;
	double rtt[4];
	int n_rtt = 0;
	int rc = -1;

	text = copy_text(buf, len);
	if (text == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	for (line = strtok_r(text, "\r\n", &save); line != NULL;
	     line = strtok_r(NULL, "\r\n", &save)) {
		const char *t = strstr(line, " time=");
		int n;

		if (t != NULL && strstr(line, " bytes from ") != NULL) {
			char *end;
			double ms = strtod(t + 6, &end);
			double *nt;

			if (end == t + 6 || !isfinite(ms) || ms < 0)
				continue;
			nt = realloc(times, (n_times + 1) * sizeof(*times));
			if (nt == NULL) {
				err_set(err, VMTP_EXIT_FAIL, "out of memory");
				goto out;
			}
			times = nt;
			times[n_times++] = ms;
		} else if (ping_counts(line, &pg.tx, &pg.rx)) {
			continue;
		} else if ((n = ping_rtts(line, rtt)) > 0) {
			n_rtt = n;
		}
	}
	if (pg.tx < 0) {
		parse_fail("ping", buf, len, err);
		goto out;
	}
	if (n_rtt > 0) {
		pg.min_ms = rtt[0];
		pg.avg_ms = rtt[1];
		pg.max_ms = rtt[2];
		if (n_rtt == 4)
			pg.stddev_ms = rtt[3];
	}
	if (n_times > 0) {
		qsort(times, n_times, sizeof(*times), cmp_double);
		pg.p50_ms = percentile(times, n_times, 50);
		pg.p99_ms = percentile(times, n_times, 99);
		if (isnan(pg.stddev_ms) && !isnan(pg.avg_ms)) {
			/* BusyBox prints no deviation: the population one,
			 * as iputils' mdev is, from the replies seen */
			double s = 0;
			size_t i;

			for (i = 0; i < n_times; i++)
				s += (times[i] - pg.avg_ms) *
				     (times[i] - pg.avg_ms);
			pg.stddev_ms = sqrt(s / (double)n_times);
		}
	}
	*out = pg;
	rc = 0;
out:
	free(times);
	free(text);
	return rc;
}
