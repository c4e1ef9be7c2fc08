/*
 * http.c - OpenStack API requests over libcurl with retries (see http.h;
 * SPEC §6 vmtp-provision).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "libvmtp/err.h"
#include "libvmtp/http.h"
#include "libvmtp/log.h"

struct http {
	CURL *curl;
	struct http_opts o;
	char *cacert;
	int post_once; /* http_post_once() */
	int unsure;    /* http_unsure() */
};

/* What the callbacks collect of one attempt. */
struct attempt {
	struct http_resp *resp;
	size_t cap;
	long retry_after_ms; /* -1: no Retry-After */
	size_t max;          /* the body's limit, 0: none */
	int oom;
	int too_big;
};

struct http *
http_new(const struct http_opts *o, struct vmtp_err *err)
{
	struct http *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	h->o = *o;
	if (o->cacert != NULL && (h->cacert = strdup(o->cacert)) == NULL) {
		free(h);
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	h->o.cacert = h->cacert;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h->curl = curl_easy_init()) == NULL) {
		free(h->cacert);
		free(h);
		err_set(err, VMTP_EXIT_FAIL, "cannot initialize libcurl");
		return NULL;
	}
	return h;
}

struct http *
http_dup(const struct http *h, struct vmtp_err *err)
{
	return http_new(&h->o, err);
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h->cacert);
	free(h);
}

void
http_resp_clear(struct http_resp *resp)
{
	if (resp->body != NULL)
		explicit_bzero(resp->body, resp->len);
	free(resp->body);
	if (resp->subject_token != NULL)
		explicit_bzero(
		    resp->subject_token, strlen(resp->subject_token));
	free(resp->subject_token);
	free(resp->location);
	memset(resp, 0, sizeof(*resp));
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct attempt *a = arg;
	struct http_resp *r = a->resp;
	size_t len = size * n;

	if (a->max > 0 && r->len + len > a->max) {
		a->too_big = 1;
		return 0;
	}
	if (r->len + len + 1 > a->cap) {
		size_t cap = (r->len + len + 1) * 2;
		char *bigger = realloc(r->body, cap);

		if (bigger == NULL) {
			a->oom = 1;
			return 0;
		}
		r->body = bigger;
		a->cap = cap;
	}
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* A copy of header line VALUE (LEN bytes) without surrounding space. */
static char *
header_value(const char *value, size_t len)
{
	while (len > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		len--;
	}
	while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n' ||
	                      value[len - 1] == ' '))
		len--;
	return strndup(value, len);
}

static int
header_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct attempt *a = arg;
	size_t len = size * n;
	char **slot = NULL;
	const char *name = NULL;

	if (header_is(line, len, "X-Subject-Token")) {
		slot = &a->resp->subject_token;
		name = "X-Subject-Token";
	} else if (header_is(line, len, "Location")) {
		slot = &a->resp->location;
		name = "Location";
	} else if (header_is(line, len, "Retry-After")) {
		char *v = header_value(line + 12, len - 12);
		char *end = NULL;
		long secs;

		if (v == NULL) {
			a->oom = 1;
			return 0;
		}
		secs = strtol(v, &end, 10);
		if (end != v && *end == '\0' && secs >= 0)
			a->retry_after_ms = secs * 1000;
		else if (curl_getdate(v, NULL) > 0)
			a->retry_after_ms =
			    (long)(curl_getdate(v, NULL) - time(NULL)) * 1000;
		free(v);
		return len;
	}
	if (slot != NULL) {
		if (*slot != NULL) {
			explicit_bzero(*slot, strlen(*slot));
			free(*slot);
		}
		*slot = header_value(
		    line + strlen(name) + 1, len - strlen(name) - 1);
		if (*slot == NULL) {
			a->oom = 1;
			return 0;
		}
	}
	return len;
}

static int
retryable_status(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

/* Whether RC may come after the server got the request: no answer, or
 * part of one (a POST may have been carried out). */
static int
lost_answer(CURLcode rc)
{
	return rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_PARTIAL_FILE;
}

static int
retryable_curl(CURLcode rc)
{
	return rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
	       rc == CURLE_GOT_NOTHING || rc == CURLE_COULDNT_CONNECT ||
	       rc == CURLE_PARTIAL_FILE;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* TLS as the options say: verified against the system's or CACERT's CAs,
 * unless insecure. */
static void
set_tls(const struct http *h, CURL *c)
{
	if (h->o.insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->o.cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o.cacert);
}

/* One try: fills RESP (cleared first) and returns curl's result. */
static CURLcode
attempt_once(struct http *h, const char *method, const char *url,
    struct curl_slist *hdrs, const char *body, struct http_resp *resp,
    struct attempt *a)
{
	CURL *c = h->curl;
	CURLcode rc;

	http_resp_clear(resp);
	memset(a, 0, sizeof(*a));
	a->resp = resp;
	a->retry_after_ms = -1;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
	    h->o.timeout_ms > 0 ? h->o.timeout_ms : 60000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	set_tls(h, c);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	/* libcurl sends a request again by itself when a kept-alive
	 * connection dies before any answer: a POST sent once goes on a fresh
	 * connection, so that it is never sent twice behind our back */
	if (h->post_once && strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (rc == CURLE_OK && resp->body == NULL) {
		resp->body = strdup("");
		if (resp->body == NULL)
			a->oom = 1;
	}
	return rc;
}

/*
 * Builds the curl header list: HEADERS (NULL-terminated, may be NULL), then
 * EXTRA when not NULL.  Returns 0, or -1 when out of memory (*OUT then
 * holds what was built, for the caller to free).
 */
static int
header_list(
    const char *const *headers, const char *extra, struct curl_slist **out)
{
	struct curl_slist *more;

	for (; headers != NULL && *headers != NULL; headers++) {
		more = curl_slist_append(*out, *headers);
		if (more == NULL)
			return -1;
		*out = more;
	}
	if (extra != NULL) {
		more = curl_slist_append(*out, extra);
		if (more == NULL)
			return -1;
		*out = more;
	}
	return 0;
}

int
http_request(struct http *h, const char *method, const char *url,
    const char *const *headers, const char *body, struct http_resp *resp,
    struct vmtp_err *err)
{
	struct curl_slist *hdrs = NULL;
	struct attempt a;
	CURLcode rc = CURLE_OK;
	long wait = h->o.backoff_ms > 0 ? h->o.backoff_ms : 500;
	int tries;
	int rv = -1;

	memset(resp, 0, sizeof(*resp));
	h->unsure = 0;
	if (header_list(headers,
	        body != NULL ? "Content-Type: application/json" : NULL,
	        &hdrs) != 0 ||
	    header_list(NULL, "Accept: application/json", &hdrs) != 0)
		goto oom;
	for (tries = 0;; tries++) {
		double t0 = now_ms();
		long delay;

		rc = attempt_once(h, method, url, hdrs, body, resp, &a);
		if (a.oom)
			goto oom;
		if (rc == CURLE_OK)
			log_debug("%s %s -> %ld (%.0f ms)", method, url,
			    resp->status, now_ms() - t0);
		else
			log_debug("%s %s -> %s (%.0f ms)", method, url,
			    curl_easy_strerror(rc), now_ms() - t0);
		if (rc == CURLE_OK ? !retryable_status(resp->status)
		                   : !retryable_curl(rc))
			break;
		/* an answer lost on the way, or a gateway that gave up
		 * waiting for it (502, 504): the service may have carried
		 * the POST out (503 and 429 say it did not) */
		if (h->post_once && strcmp(method, "POST") == 0 &&
		    (rc == CURLE_OK ? resp->status == 502 || resp->status == 504
		                    : lost_answer(rc))) {
			h->unsure = 1;
			break;
		}
		if (tries >= h->o.retries)
			break;
		delay = a.retry_after_ms >= 0 ? a.retry_after_ms : wait;
		if (delay > 60000)
			delay = 60000;
		log_debug("retrying %s %s in %ld ms", method, url, delay);
		sleep_ms(delay);
		wait = wait * 2 > 30000 ? 30000 : wait * 2;
	}
	if (rc != CURLE_OK) {
		err_set(err, VMTP_EXIT_FAIL, "%s %s: %s%s", method, url,
		    curl_easy_strerror(rc),
		    h->unsure ? " (it may have been carried out)" : "");
		http_resp_clear(resp);
		goto out;
	}
	rv = 0;
	goto out;
oom:
	http_resp_clear(resp);
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
out:
	curl_slist_free_all(hdrs);
	return rv;
}

/* libcurl's progress callback: a non-zero return aborts the transfer. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load((const atomic_int *)arg) != 0;
}

int
http_get(struct http *h, const char *url, long timeout_ms, size_t max,
    const atomic_int *cancel, struct http_resp *resp, struct vmtp_err *err)
{
	char msg[CURL_ERROR_SIZE] = "";
	struct attempt a;
	CURL *c = h->curl;
	CURLcode rc;

	memset(resp, 0, sizeof(*resp));
	memset(&a, 0, sizeof(a));
	a.resp = resp;
	a.retry_after_ms = -1;
	a.max = max;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, msg);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vmtp");
	if (cancel != NULL) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)cancel);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	set_tls(h, c);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	/* the handle must not point at MSG, which goes out of scope */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	if (a.oom || a.too_big || rc != CURLE_OK) {
		http_resp_clear(resp);
		if (a.oom)
			return err_set(err, VMTP_EXIT_FAIL, "out of memory");
		if (a.too_big)
			return err_set(err, VMTP_EXIT_FAIL,
			    "the answer is over %zu bytes", max);
		return err_set(err, VMTP_EXIT_FAIL, "%s",
		    msg[0] != '\0' ? msg : curl_easy_strerror(rc));
	}
	if (resp->body == NULL && (resp->body = strdup("")) == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return 0;
}

int
http_download(struct http *h, const char *url, FILE *fp, struct vmtp_err *err)
{
	CURL *c = h->curl;
	CURLcode rc;
	long status = 0;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, fp);
	set_tls(h, c);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK)
		return err_set(err, VMTP_EXIT_FAIL, "cannot download %s: %s",
		    url, curl_easy_strerror(rc));
	if (status >= 400)
		return err_set(err, VMTP_EXIT_FAIL, "cannot download %s: %ld",
		    url, status);
	if (fflush(fp) != 0)
		return err_set(err, VMTP_EXIT_FAIL, "cannot download %s: %s",
		    url, strerror(errno));
	log_debug("GET %s -> %ld", url, status);
	return 0;
}

int
http_upload(struct http *h, const char *method, const char *url,
    const char *const *headers, FILE *fp, long long size,
    struct http_resp *resp, struct vmtp_err *err)
{
	struct curl_slist *hdrs = NULL;
	struct attempt a;
	CURL *c = h->curl;
	CURLcode rc;
	int rv = -1;

	memset(resp, 0, sizeof(*resp));
	if (header_list(
	        headers, "Content-Type: application/octet-stream", &hdrs) != 0)
		goto oom;
	memset(&a, 0, sizeof(a));
	a.resp = resp;
	a.retry_after_ms = -1;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_READDATA, fp);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	set_tls(h, c);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (a.oom)
		goto oom;
	if (rc != CURLE_OK) {
		err_set(err, VMTP_EXIT_FAIL, "%s %s: %s%s", method, url,
		    curl_easy_strerror(rc),
		    h->unsure ? " (it may have been carried out)" : "");
		http_resp_clear(resp);
		goto out;
	}
	if (resp->body == NULL && (resp->body = strdup("")) == NULL)
		goto oom;
	log_debug("%s %s -> %ld (%lld bytes)", method, url, resp->status, size);
	rv = 0;
	goto out;
oom:
	http_resp_clear(resp);
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
out:
	curl_slist_free_all(hdrs);
	return rv;
}

char *
http_url_join(const char *base, const char *path)
{
	size_t blen = strlen(base);
	char *out;

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	while (*path == '/')
		path++;
	if (asprintf(&out, "%.*s/%s", (int)blen, base, path) < 0)
		return NULL;
	return out;
}

char *
http_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *out;

	if (e == NULL)
		return NULL;
	out = strdup(e);
	curl_free(e);
	return out;
}

void
http_post_once(struct http *h, int on)
{
	h->post_once = on;
}

int
http_unsure(const struct http *h)
{
	return h->unsure;
}
