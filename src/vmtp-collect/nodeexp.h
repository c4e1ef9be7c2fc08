/*
 * nodeexp.h - host CPU from Prometheus node_exporter (beyond the original
 * tool; SPEC §4 cpu record): node_cpu_seconds_total read from /metrics,
 * turned into the gmond figures by the difference between two polls.
 */
#ifndef VMTP_COLLECT_NODEEXP_H
#define VMTP_COLLECT_NODEEXP_H

#include <stdatomic.h>
#include <stddef.h>

#include "libvmtp/err.h"
#include "libvmtp/http.h"

#include "cpu.h"

/* CPU seconds summed over every CPU, from one /metrics page. */
struct nodeexp_totals {
	double user;   /* mode="user" */
	double system; /* mode="system" */
	double all;    /* every mode */
	long num;      /* number of distinct cpu labels */
};

/*
 * Parses the Prometheus text exposition format in BUF (LEN bytes) and sums
 * node_cpu_seconds_total into *TOT.  Returns 0, or -1 with ERR set
 * (VMTP_EXIT_DATA) when a line is not in the format or the page has no
 * node_cpu_seconds_total samples.
 */
int nodeexp_parse(const char *buf, size_t len, struct nodeexp_totals *tot,
    struct vmtp_err *err);

/*
 * Makes the reading of HOST at T from two successive totals: the share of
 * CPU time spent in user and system mode between PREV and CUR, as gmond's
 * percentages.  Returns 0, or -1 when no CPU time passed or a counter went
 * backwards (the exporter restarted: no reading this time).
 */
int nodeexp_reading(const struct nodeexp_totals *prev,
    const struct nodeexp_totals *cur, const char *host, double t,
    struct cpu_reading *r);

/*
 * GETs URL with H (http_get()), giving up after TIMEOUT seconds, or soon
 * after *CANCEL becomes non-zero (CANCEL may be NULL).  Returns the body
 * of a 200 answer in *BUF (NUL-terminated, caller frees) and its length
 * in *LEN, or -1 with ERR set (VMTP_EXIT_FAIL) naming what failed (HTTP
 * status, curl's message, an empty or oversized answer).
 */
int nodeexp_fetch(struct http *h, const char *url, double timeout,
    const atomic_int *cancel, char **buf, size_t *len, struct vmtp_err *err);

/*
 * Copies the host part of URL into HOST (SIZE bytes), as the cpu record's
 * "host", and returns in *SHOWN (caller frees with curl_free()) the URL
 * without user name and password, as the record's "source" and the name
 * in messages.  Returns 0, or -1 with ERR set (VMTP_EXIT_USAGE) when URL
 * is not an http or https URL with a host; ERR never holds URL itself.
 */
int nodeexp_url_parse(const char *url, char *host, size_t size, char **shown,
    struct vmtp_err *err);

#endif
