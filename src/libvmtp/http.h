/*
 * http.h - HTTP requests for the OpenStack APIs over libcurl (SPEC §6
 * vmtp-provision): one reused handle (keep-alive), timeouts, TLS verified
 * unless insecure, and retries with backoff on 429, 502, 503, 504 and
 * dropped connections, honouring Retry-After.
 *
 * With -v each request is logged as "METHOD URL -> STATUS (MS ms)": never a
 * header or a body, so tokens and passwords stay out of logs.
 */
#ifndef VMTP_HTTP_H
#define VMTP_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#include "libvmtp/err.h"

struct http_opts {
	int insecure;       /* do not verify TLS peers */
	const char *cacert; /* CA bundle file, or NULL for the system's */
	long timeout_ms;    /* whole request, 0: 60 s */
	int retries;        /* extra attempts on a retryable failure */
	long backoff_ms;    /* first wait; doubles each retry (max 30 s) */
};

#define HTTP_OPTS_INIT                                                         \
	{                                                                      \
		0, NULL, 60000, 5, 500                                         \
	}

struct http_resp {
	long status;         /* HTTP status, 0 when no response */
	char *body;          /* NUL-terminated, owned, may be empty */
	size_t len;          /* body length */
	char *subject_token; /* X-Subject-Token header (Keystone), secret */
	char *location;      /* Location header, or NULL */
};

struct http;

/*
 * Returns a client with O's settings (copied), or NULL with ERR set when
 * libcurl cannot be set up.
 */
struct http *http_new(const struct http_opts *o, struct vmtp_err *err);

/*
 * Returns a new handle with H's settings and a connection of its own (a
 * handle serves one thread at a time), or NULL with ERR set.
 */
struct http *http_dup(const struct http *h, struct vmtp_err *err);

/* Frees H and its connection; NULL is allowed. */
void http_free(struct http *h);

/*
 * Sends METHOD to URL with HEADERS (NULL-terminated "Name: value" lines,
 * may be NULL) and BODY (JSON text, or NULL), retrying as described
 * above.  On any HTTP response, returns 0 and fills RESP (free it with
 * http_resp_clear()), whatever the status; the status decides.  Returns
 * -1 with ERR set (VMTP_EXIT_FAIL, naming the URL and the cause) when no
 * response came after the retries.
 */
int http_request(struct http *h, const char *method, const char *url,
    const char *const *headers, const char *body, struct http_resp *resp,
    struct vmtp_err *err);

/*
 * With ON, http_request() does not send a POST again once it may have
 * reached the server (the connection lost before the whole answer, or a
 * gateway's 502 or 504): it fails (or returns that answer), and
 * http_unsure() says so, so that the caller looks whether it was carried
 * out (a create made twice) before it sends it again.
 */
void http_post_once(struct http *h, int on);

/* Whether the last http_request() failed that way. */
int http_unsure(const struct http *h);

/*
 * GETs URL (http or https) once, without retries and with no credentials
 * but those in URL, giving up after TIMEOUT_MS, or soon after *CANCEL
 * becomes non-zero (libcurl looks at least once a second; CANCEL may be
 * NULL).  A body over MAX bytes ends the transfer.  Fills RESP as
 * http_request() does, whatever the status.  Returns 0, or -1 with ERR
 * set (VMTP_EXIT_FAIL) to libcurl's message or "the answer is over MAX
 * bytes"; ERR never holds URL, which may hold a password.
 */
int http_get(struct http *h, const char *url, long timeout_ms, size_t max,
    const atomic_int *cancel, struct http_resp *resp, struct vmtp_err *err);

/*
 * Downloads URL (http, https or file) into FP, with no credentials sent.
 * Returns 0, or -1 with ERR set naming the URL and the cause (an HTTP
 * status >= 400 included).
 */
int http_download(
    struct http *h, const char *url, FILE *fp, struct vmtp_err *err);

/*
 * Sends the whole of FP (SIZE bytes) as the body of METHOD to URL with
 * HEADERS, as application/octet-stream, without retries (the stream is
 * used up).  Fills RESP as http_request() does.  Returns 0, or -1 with ERR.
 */
int http_upload(struct http *h, const char *method, const char *url,
    const char *const *headers, FILE *fp, long long size,
    struct http_resp *resp, struct vmtp_err *err);

/* Frees what RESP holds (zeroing the token) and resets it. */
void http_resp_clear(struct http_resp *resp);

/*
 * Joins BASE and PATH with exactly one slash between them, into a new
 * string (NULL when out of memory): "http://k/v3/" + "/auth/tokens" is
 * "http://k/v3/auth/tokens".
 */
char *http_url_join(const char *base, const char *path);

/* S percent-encoded for a URL query, a new string (NULL: out of memory). */
char *http_escape(const char *s);

#endif
