/*
 * os.c - Keystone v3 authentication, the service catalog and JSON requests
 * to OpenStack services (see os.h; SPEC §6 vmtp-provision).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/creds.h"
#include "libvmtp/err.h"
#include "libvmtp/http.h"
#include "libvmtp/log.h"
#include "libvmtp/os.h"

struct os_session {
	struct os_creds *creds;
	struct http *http;
	char *identity;    /* Keystone v3 base URL */
	char *token;       /* secret */
	json_t *catalog;   /* from the token; owned */
	char *project_id;  /* the token's scope */
	char *user_id;     /* the token's user */
	char *endpoint;    /* last os_endpoint() result */
	const char *iface; /* public, internal or admin */
};

static char *
token_free(char *t)
{
	if (t != NULL)
		explicit_bzero(t, strlen(t));
	free(t);
	return NULL;
}

/*
 * The Keystone v3 URL for OS_AUTH_URL U: ".../v3" as given, ".../v2.0"
 * moved to v3, anything else with "/v3" added.  New string or NULL.
 */
static char *
identity_url(const char *u)
{
	size_t len = strlen(u);
	char *out;

	while (len > 0 && u[len - 1] == '/')
		len--;
	if (len >= 3 && strncmp(u + len - 3, "/v3", 3) == 0)
		return strndup(u, len);
	if (len >= 5 && strncmp(u + len - 5, "/v2.0", 5) == 0)
		len -= 5;
	if (asprintf(&out, "%.*s/v3", (int)len, u) < 0)
		return NULL;
	return out;
}

struct os_session *
os_session_new(
    const struct os_creds *c, const struct http_opts *o, struct vmtp_err *err)
{
	struct os_session *s = NULL;
	struct http_opts ho = *o;

	if (os_creds_check(c, err) != 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto oom;
	s->creds = os_creds_dup(c, err);
	if (s->creds == NULL)
		goto fail;
	if (s->creds->insecure != NULL &&
	    (strcmp(s->creds->insecure, "true") == 0 ||
	        strcmp(s->creds->insecure, "1") == 0))
		ho.insecure = 1;
	if (ho.cacert == NULL)
		ho.cacert = s->creds->cacert;
	s->http = http_new(&ho, err);
	if (s->http == NULL)
		goto fail;
	s->identity = identity_url(c->auth_url);
	if (s->identity == NULL)
		goto oom;
	s->iface = "public";
	if (c->interface != NULL) {
		if (strncmp(c->interface, "internal", 8) == 0)
			s->iface = "internal";
		else if (strncmp(c->interface, "admin", 5) == 0)
			s->iface = "admin";
	}
	return s;
oom:
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
fail:
	os_session_free(s);
	return NULL;
}

struct os_session *
os_session_open(const char *openrc, const char *os_cloud, int insecure,
    struct vmtp_err *err)
{
	struct http_opts ho = HTTP_OPTS_INIT;
	struct os_session *s = NULL;
	struct os_creds *c = os_creds_new(err);

	ho.insecure = insecure;
	if (c == NULL || os_creds_from_env(c, err) != 0 ||
	    (os_cloud != NULL && os_creds_load_clouds(c, os_cloud, err) != 0) ||
	    (openrc != NULL && os_creds_load_openrc(c, openrc, err) != 0))
		goto out;
	s = os_session_new(c, &ho, err);
	if (s != NULL && os_authenticate(s, err) != 0) {
		os_session_free(s);
		s = NULL;
	}
out:
	os_creds_free(c);
	return s;
}

static int dup_into(char **slot, const char *v);

struct os_session *
os_session_clone(const struct os_session *s, struct vmtp_err *err)
{
	struct os_session *n = calloc(1, sizeof(*n));

	if (n == NULL)
		goto oom;
	n->iface = s->iface;
	n->creds = os_creds_dup(s->creds, err);
	if (n->creds == NULL)
		goto fail;
	n->http = http_dup(s->http, err);
	if (n->http == NULL)
		goto fail;
	/* a copy of its own: the two threads share nothing */
	if (s->catalog != NULL &&
	    (n->catalog = json_deep_copy(s->catalog)) == NULL)
		goto oom;
	if (dup_into(&n->identity, s->identity) != 0 ||
	    dup_into(&n->token, s->token) != 0 ||
	    dup_into(&n->project_id, s->project_id) != 0 ||
	    dup_into(&n->user_id, s->user_id) != 0)
		goto oom;
	return n;
oom:
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
fail:
	os_session_free(n);
	return NULL;
}

void
os_session_free(struct os_session *s)
{
	if (s == NULL)
		return;
	os_creds_free(s->creds);
	http_free(s->http);
	free(s->identity);
	token_free(s->token);
	json_decref(s->catalog);
	free(s->project_id);
	free(s->user_id);
	free(s->endpoint);
	free(s);
}

const char *
os_error_message(const json_t *body)
{
	const char *key;
	json_t *v;

	if (json_is_string(json_object_get(body, "message")))
		return json_string_value(json_object_get(body, "message"));
	/* Keystone "error", Neutron "NeutronError", Nova "itemNotFound" ... */
	json_object_foreach ((json_t *)body, key, v) {
		if (json_is_string(json_object_get(v, "message")))
			return json_string_value(json_object_get(v, "message"));
		if (strcmp(key, "NeutronError") == 0 && json_is_string(v))
			return json_string_value(v);
	}
	return NULL;
}

/* "name" or "id" of a domain, user or project: {"name": N} or {"id": I}. */
static json_t *
name_or_id(const char *name, const char *id)
{
	if (id != NULL)
		return json_pack("{s:s}", "id", id);
	return json_pack("{s:s}", "name", name != NULL ? name : "");
}

static json_t *
domain_of(const char *name, const char *id)
{
	if (name == NULL && id == NULL)
		return json_pack("{s:s}", "id", "default");
	return name_or_id(name, id);
}

/* The auth request body for the session's credentials (a new reference). */
static json_t *
auth_body(const struct os_creds *c)
{
	const char *type = c->auth_type;
	json_t *identity = NULL;
	json_t *user;
	json_t *scope = NULL;

	if (type == NULL)
		type = c->app_cred_secret != NULL ? "v3applicationcredential"
		       : c->token != NULL && c->password == NULL ? "v3token"
		                                                 : "password";
	if (strcmp(type, "v3applicationcredential") == 0) {
		json_t *ac =
		    c->app_cred_id != NULL
		        ? json_pack("{s:s, s:s}", "id", c->app_cred_id,
		              "secret", c->app_cred_secret)
		        : json_pack("{s:s, s:s, s:{s:o, s:o}}", "name",
		              c->app_cred_name, "secret", c->app_cred_secret,
		              "user", c->user_id != NULL ? "id" : "name",
		              json_string(c->user_id != NULL ? c->user_id
		                                             : c->username),
		              "domain",
		              domain_of(
		                  c->user_domain_name, c->user_domain_id));

		return json_pack("{s:{s:{s:[s], s:o}}}", "auth", "identity",
		    "methods", "application_credential",
		    "application_credential", ac);
	}
	if (strcmp(type, "v3token") == 0 || strcmp(type, "token") == 0) {
		identity = json_pack("{s:[s], s:{s:s}}", "methods", "token",
		    "token", "id", c->token);
	} else {
		user =
		    c->user_id != NULL
		        ? json_pack("{s:s, s:s}", "id", c->user_id, "password",
		              c->password)
		        : json_pack("{s:s, s:o, s:s}", "name", c->username,
		              "domain",
		              domain_of(c->user_domain_name, c->user_domain_id),
		              "password", c->password);
		identity = json_pack("{s:[s], s:{s:o}}", "methods", "password",
		    "password", "user", user);
	}
	if (c->project_id != NULL)
		scope = json_pack("{s:{s:s}}", "project", "id", c->project_id);
	else
		scope = json_pack("{s:{s:s, s:o}}", "project", "name",
		    c->project_name, "domain",
		    domain_of(c->project_domain_name != NULL
		                  ? c->project_domain_name
		                  : c->user_domain_name,
		        c->project_domain_id != NULL ? c->project_domain_id
		                                     : c->user_domain_id));
	return json_pack(
	    "{s:{s:o, s:o}}", "auth", "identity", identity, "scope", scope);
}

static int
dup_into(char **slot, const char *v)
{
	free(*slot);
	*slot = v != NULL ? strdup(v) : NULL;
	return v != NULL && *slot == NULL ? -1 : 0;
}

int
os_authenticate(struct os_session *s, struct vmtp_err *err)
{
	struct http_resp resp = {0};
	json_t *body = auth_body(s->creds);
	json_t *reply = NULL;
	json_t *token;
	char *text = NULL;
	char *url = NULL;
	const char *msg;
	int rc = -1;

	if (body == NULL || (text = json_dumps(body, JSON_COMPACT)) == NULL ||
	    (url = http_url_join(s->identity, "auth/tokens")) == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	if (http_request(s->http, "POST", url, NULL, text, &resp, err) != 0)
		goto out;
	reply = json_loadb(resp.body, resp.len, 0, NULL);
	if (resp.status != 201 && resp.status != 200) {
		msg = os_error_message(reply);
		err_set(err, VMTP_EXIT_FAIL,
		    "cannot authenticate at %s: Keystone said %ld: %s",
		    s->identity, resp.status,
		    msg != NULL ? msg : "no error message");
		goto out;
	}
	token = json_object_get(reply, "token");
	if (resp.subject_token == NULL || !json_is_object(token)) {
		err_set(err, VMTP_EXIT_FAIL,
		    "cannot authenticate at %s: no token in Keystone's answer",
		    s->identity);
		goto out;
	}
	s->token = token_free(s->token);
	s->token = resp.subject_token;
	resp.subject_token = NULL;
	json_decref(s->catalog);
	s->catalog = json_incref(json_object_get(token, "catalog"));
	if (dup_into(&s->project_id,
	        json_string_value(json_object_get(
	            json_object_get(token, "project"), "id"))) != 0 ||
	    dup_into(&s->user_id, json_string_value(json_object_get(
	                              json_object_get(token, "user"), "id"))) !=
	        0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	log_debug("authenticated at %s as user %s in project %s", s->identity,
	    s->user_id != NULL ? s->user_id : "?",
	    s->project_id != NULL ? s->project_id : "(unscoped)");
	rc = 0;
out:
	os_json_scrub(body);
	json_decref(body);
	if (text != NULL)
		explicit_bzero(text, strlen(text));
	free(text);
	free(url);
	json_decref(reply);
	http_resp_clear(&resp);
	return rc;
}

/* The URL of TYPE's endpoint in S's catalog (borrowed), or NULL. */
static const char *
catalog_url(const struct os_session *s, const char *type)
{
	const char *region = s->creds->region_name;
	json_t *svc;
	json_t *ep;
	size_t i, j;

	json_array_foreach (s->catalog, i, svc) {
		const char *t = json_string_value(json_object_get(svc, "type"));

		if (t == NULL || strcmp(t, type) != 0)
			continue;
		json_array_foreach (json_object_get(svc, "endpoints"), j, ep) {
			const char *in =
			    json_string_value(json_object_get(ep, "interface"));
			const char *r =
			    json_string_value(json_object_get(ep, "region"));
			const char *rid =
			    json_string_value(json_object_get(ep, "region_id"));
			const char *url =
			    json_string_value(json_object_get(ep, "url"));

			if (in == NULL || url == NULL ||
			    strcmp(in, s->iface) != 0)
				continue;
			if (region != NULL &&
			    !(r != NULL && strcmp(r, region) == 0) &&
			    !(rid != NULL && strcmp(rid, region) == 0))
				continue;
			return url;
		}
	}
	return NULL;
}

/* Sets ERR to say that S's catalog has no TYPE endpoint; returns -1. */
static int
no_endpoint(const struct os_session *s, const char *type, struct vmtp_err *err)
{
	const char *region = s->creds->region_name;

	return err_set(err, VMTP_EXIT_FAIL,
	    "the catalog has no %s endpoint for interface %s%s%s", type,
	    s->iface, region != NULL ? " in region " : "",
	    region != NULL ? region : "");
}

const char *
os_endpoint(struct os_session *s, const char *type, struct vmtp_err *err)
{
	const char *url = catalog_url(s, type);

	if (url == NULL) {
		no_endpoint(s, type, err);
		return NULL;
	}
	if (dup_into(&s->endpoint, url) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	return s->endpoint;
}

int
os_has_endpoint(struct os_session *s, const char *type, struct vmtp_err *err)
{
	if (s->token == NULL && os_authenticate(s, err) != 0)
		return -1;
	if (catalog_url(s, type) != NULL)
		return 1;
	no_endpoint(s, type, err);
	return 0;
}

const char *
os_project_id(const struct os_session *s)
{
	return s->project_id;
}

const char *
os_user_id(const struct os_session *s)
{
	return s->user_id;
}

/* One authenticated request; fills RESP.  Returns 0 or -1 with ERR. */
static int
send_once(struct os_session *s, const char *method, const char *url,
    const char *text, const char *const *headers, struct http_resp *resp,
    struct vmtp_err *err)
{
	const char *all[16];
	char *auth = NULL;
	size_t n = 0;
	int rc;

	if (asprintf(&auth, "X-Auth-Token: %s", s->token) < 0)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	all[n++] = auth;
	for (; headers != NULL && *headers != NULL && n < 15; headers++)
		all[n++] = *headers;
	all[n] = NULL;
	/* a create whose answer is lost is the caller's to look for */
	http_post_once(s->http, 1);
	rc = http_request(s->http, method, url, all, text, resp, err);
	http_post_once(s->http, 0);
	explicit_bzero(auth, strlen(auth));
	free(auth);
	return rc;
}

long
os_request(struct os_session *s, const char *type, const char *method,
    const char *path, const json_t *body, const char *const *headers,
    json_t **out, struct vmtp_err *err)
{
	struct http_resp resp = {0};
	json_error_t jerr;
	const char *base;
	json_t *reply = NULL;
	char *text = NULL;
	char *url = NULL;
	long status = -1;
	int retried = 0;

	if (out != NULL)
		*out = NULL;
	if (s->token == NULL && os_authenticate(s, err) != 0)
		return -1;
	base = os_endpoint(s, type, err);
	if (base == NULL)
		return -1;
	url = http_url_join(base, path);
	if (url == NULL ||
	    (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL)) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	for (;;) {
		if (send_once(s, method, url, text, headers, &resp, err) != 0)
			goto out;
		if (resp.status != 401 || retried)
			break;
		/* the token expired or was revoked: one fresh one */
		retried = 1;
		http_resp_clear(&resp);
		log_debug("%s %s: 401, authenticating again", method, url);
		if (os_authenticate(s, err) != 0)
			goto out;
	}
	if (resp.len > 0) {
		reply = json_loadb(resp.body, resp.len, JSON_DECODE_ANY, &jerr);
		if (reply == NULL && resp.status < 400) {
			err_set(err, VMTP_EXIT_FAIL,
			    "%s %s: %ld: the answer is not JSON: %s", method,
			    url, resp.status, jerr.text);
			goto out;
		}
	} else {
		reply = json_null();
	}
	status = resp.status;
	if (status >= 400) {
		const char *msg = os_error_message(reply);
		char snippet[160];

		if (msg == NULL) {
			/* a proxy's or Glance's plain answer: its first line */
			snprintf(snippet, sizeof(snippet), "%.*s",
			    (int)strcspn(resp.body, "\r\n"), resp.body);
			msg = snippet[0] != '\0' ? snippet : "no error message";
		}
		err_set(err, VMTP_EXIT_FAIL, "%ld: %s", status, msg);
	}
	if (out != NULL) {
		*out = reply;
		reply = NULL;
	}
out:
	json_decref(reply);
	free(text);
	free(url);
	http_resp_clear(&resp);
	return status;
}

long
os_upload(struct os_session *s, const char *type, const char *method,
    const char *path, FILE *fp, long long size, struct vmtp_err *err)
{
	struct http_resp resp = {0};
	const char *hdrs[2] = {NULL, NULL};
	const char *base;
	char *auth = NULL;
	char *url = NULL;
	long status = -1;

	if (s->token == NULL && os_authenticate(s, err) != 0)
		return -1;
	base = os_endpoint(s, type, err);
	if (base == NULL)
		return -1;
	url = http_url_join(base, path);
	if (url == NULL || asprintf(&auth, "X-Auth-Token: %s", s->token) < 0) {
		auth = NULL;
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	hdrs[0] = auth;
	if (http_upload(s->http, method, url, hdrs, fp, size, &resp, err) != 0)
		goto out;
	status = resp.status;
	if (status >= 400) {
		json_t *reply = json_loadb(resp.body, resp.len, 0, NULL);
		const char *msg = os_error_message(reply);

		err_set(err, VMTP_EXIT_FAIL, "%ld: %s", status,
		    msg != NULL ? msg : "no error message");
		json_decref(reply);
	}
out:
	if (auth != NULL)
		explicit_bzero(auth, strlen(auth));
	free(auth);
	free(url);
	http_resp_clear(&resp);
	return status;
}

struct http *
os_http(struct os_session *s)
{
	return s->http;
}

int
os_unsure(const struct os_session *s)
{
	return http_unsure(s->http);
}
