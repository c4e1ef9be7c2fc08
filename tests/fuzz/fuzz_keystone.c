/*
 * fuzz_keystone.c - libFuzzer harness for what vmtp reads from Keystone
 * and from every API through a session (os.h; SPEC §6, §10): the token
 * answer (status, body, X-Subject-Token; project and user ids), the
 * catalog (an endpoint by service type, interface and region) and the
 * answers to requests (JSON or not, error messages, 401 and one fresh
 * token).  Any answers must give a session or one clean error, never a
 * crash, leak or out-of-bounds read; no error message carries the token
 * or the password.
 *
 * The input is a list of HTTP answers (answers.h); libvmtp's
 * http_request() is replaced at link time by one that gives them, so
 * os_authenticate(), os_endpoint() and os_request() run as they are:
 * fuzz-ldflags: -Wl,--wrap=http_request
 * Each input is tried with three credentials: no region and the public
 * interface, RegionOne and internal, RegionTwo and admin.
 * Seed corpus: tests/fuzz/corpus/keystone/ (Keystone v3 token answers of
 * the API reference's and the minicloud's shape, Nova and Neutron
 * answers and errors after them).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/creds.h"
#include "libvmtp/err.h"
#include "libvmtp/http.h"
#include "libvmtp/os.h"

#include "answers.h"

#define FZ_TOKEN "gAAAAABfuzzSubjectToken"
#define FZ_PASSWORD "fuzzSecretPassword"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __wrap_http_request(struct http *h, const char *method, const char *url,
    const char *const *headers, const char *body, struct http_resp *resp,
    struct vmtp_err *err);

/* http_request() as the answers of the input have it. */
int
__wrap_http_request(struct http *h, const char *method, const char *url,
    const char *const *headers, const char *body, struct http_resp *resp,
    struct vmtp_err *err)
{
	struct fz_answer a;

	(void)h;
	(void)headers;
	(void)body;
	memset(resp, 0, sizeof(*resp));
	if (fz_answer_next(&a) != 0)
		return err_set(
		    err, VMTP_EXIT_FAIL, "%s %s: no response", method, url);
	resp->status = a.status;
	resp->body = malloc(a.len + 1);
	if (resp->body == NULL)
		__builtin_trap();
	memcpy(resp->body, a.body, a.len);
	resp->body[a.len] = '\0';
	resp->len = a.len;
	if (a.token && (resp->subject_token = strdup(FZ_TOKEN)) == NULL)
		__builtin_trap();
	return 0;
}

/* Credentials: a user with a password, in REGION, on interface IFACE. */
static struct os_creds *
fz_creds(const char *region, const char *iface)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct os_creds *c = os_creds_new(&err);

	if (c == NULL ||
	    (c->auth_url = strdup("http://127.0.0.1:5000/v3")) == NULL ||
	    (c->username = strdup("demo")) == NULL ||
	    (c->password = strdup(FZ_PASSWORD)) == NULL ||
	    (c->project_name = strdup("demo")) == NULL ||
	    (c->user_domain_name = strdup("Default")) == NULL ||
	    (c->project_domain_name = strdup("Default")) == NULL ||
	    (region != NULL && (c->region_name = strdup(region)) == NULL) ||
	    (iface != NULL && (c->interface = strdup(iface)) == NULL))
		__builtin_trap();
	return c;
}

/* Whether the answers themselves hold a secret (then a message may). */
static int fz_echoed;

/* Traps when ERR tells a secret that no answer told. */
static void
fz_no_secret(const struct vmtp_err *err)
{
	if (!fz_echoed && (strstr(err->msg, FZ_TOKEN) != NULL ||
	                      strstr(err->msg, FZ_PASSWORD) != NULL))
		__builtin_trap();
}

/* One session on credentials C through the answers. */
static void
fz_session(const struct os_creds *c)
{
	static const char *const types[] = {
	    "identity", "compute", "network", "image", "volumev3"};
	struct http_opts ho = HTTP_OPTS_INIT;
	struct vmtp_err err = VMTP_ERR_INIT;
	struct os_session *s = os_session_new(c, &ho, &err);
	json_t *reply = NULL;
	json_t *body;
	size_t i;

	if (s == NULL)
		__builtin_trap();
	if (os_authenticate(s, &err) != 0) {
		fz_no_secret(&err);
		goto out;
	}
	(void)os_project_id(s);
	(void)os_user_id(s);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct vmtp_err e = VMTP_ERR_INIT;
		const char *url = os_endpoint(s, types[i], &e);

		if (url == NULL && e.exit == VMTP_EXIT_OK)
			__builtin_trap(); /* no endpoint, no reason */
		fz_no_secret(&e);
	}
	(void)os_request(
	    s, "compute", "GET", "/servers/detail", NULL, NULL, &reply, &err);
	fz_no_secret(&err);
	json_decref(reply);
	reply = NULL;
	err_clear(&err);
	body = json_pack("{s:{s:s}}", "port", "name", "vmtp-fuzz");
	(void)os_request(
	    s, "network", "POST", "/v2.0/ports", body, NULL, &reply, &err);
	json_decref(body);
	fz_no_secret(&err);
	json_decref(reply);
out:
	os_session_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct os_creds *creds[3];
	size_t i;

	if (creds[0] == NULL) {
		creds[0] = fz_creds(NULL, NULL);
		creds[1] = fz_creds("RegionOne", "internalURL");
		creds[2] = fz_creds("RegionTwo", "admin");
	}
	fz_echoed =
	    memmem(data, size, FZ_TOKEN, strlen(FZ_TOKEN)) != NULL ||
	    memmem(data, size, FZ_PASSWORD, strlen(FZ_PASSWORD)) != NULL;
	for (i = 0; i < 3; i++) {
		fz_answers_set(data, size);
		fz_session(creds[i]);
	}
	return 0;
}
