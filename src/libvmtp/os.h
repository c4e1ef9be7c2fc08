/*
 * os.h - an authenticated session with an OpenStack cloud (SPEC §6
 * vmtp-provision): Keystone v3 password, application-credential and token
 * auth, the service catalog by type, interface and region, JSON requests
 * with the API's own error message, and one re-authentication on 401.
 *
 * The token lives only in the session (zeroed when freed); it is sent as
 * X-Auth-Token and never logged or put in an error message.
 */
#ifndef VMTP_OS_H
#define VMTP_OS_H

#include <stdio.h>

#include <jansson.h>

#include "libvmtp/creds.h"
#include "libvmtp/err.h"
#include "libvmtp/http.h"

struct os_session;

/*
 * Returns a session for credentials C (copied as needed; C may be freed
 * afterwards) over HTTP settings O, not yet authenticated.  NULL with ERR
 * set when out of memory or C does not pass os_creds_check().
 */
struct os_session *os_session_new(
    const struct os_creds *c, const struct http_opts *o, struct vmtp_err *err);

/*
 * Takes credentials as the official client does (the OS_* environment,
 * then entry OS_CLOUD of clouds.yaml when not NULL, then the openrc file
 * OPENRC when not NULL), and returns an authenticated session, or NULL
 * with ERR set naming what is missing or what Keystone said.
 */
struct os_session *os_session_open(const char *openrc, const char *os_cloud,
    int insecure, struct vmtp_err *err);

/*
 * Returns a copy of authenticated session S with a connection of its own,
 * so that another thread can send requests beside S's (a session serves
 * one thread at a time; each re-authenticates on its own when its token
 * expires).  NULL with ERR set when out of memory or libcurl fails.
 */
struct os_session *os_session_clone(
    const struct os_session *s, struct vmtp_err *err);

/* Zeroes the token and secrets, frees S; NULL is allowed. */
void os_session_free(struct os_session *s);

/*
 * Gets a token and the catalog from Keystone.  Returns 0, or -1 with ERR
 * set: "cannot authenticate at URL: Keystone said 401: MESSAGE" and the
 * like (VMTP_EXIT_FAIL).
 */
int os_authenticate(struct os_session *s, struct vmtp_err *err);

/*
 * The endpoint URL of service TYPE (identity, compute, network, image)
 * for the session's interface (default public) and region, borrowed from
 * S.  Returns NULL with ERR set naming the type, interface and region
 * when the catalog has none.
 */
const char *os_endpoint(
    struct os_session *s, const char *type, struct vmtp_err *err);

/*
 * Whether the catalog of S (authenticated first when it is not) has an
 * endpoint of service TYPE for the session's interface and region: 1, or 0
 * with ERR set as os_endpoint() sets it ("the catalog has no compute
 * endpoint for interface public in region R"), or -1 with ERR set when
 * authentication fails.
 */
int os_has_endpoint(
    struct os_session *s, const char *type, struct vmtp_err *err);

/* The project id and user id the token is scoped to (borrowed). */
const char *os_project_id(const struct os_session *s);
const char *os_user_id(const struct os_session *s);

/*
 * Sends METHOD PATH to service TYPE with BODY (borrowed, may be NULL) and
 * extra HEADERS (NULL-terminated, may be NULL), authenticating first when
 * needed and once more after a 401.  Returns the HTTP status (2xx-5xx)
 * and stores the decoded JSON response in *OUT (a new reference; json null
 * for an empty body; OUT may be NULL).  A status >= 400 also sets ERR
 * (VMTP_EXIT_FAIL) to "STATUS: MESSAGE" with the API's own message, so
 * callers can return it or clear it (404 on delete).  Returns -1 with ERR
 * set when no response came or the body is not JSON.  A POST is not sent
 * again once it may have reached the service (its answer lost, or a
 * gateway's 502 or 504: http_post_once()): then os_unsure() is 1, and the
 * caller looks whether it was carried out.
 */
long os_request(struct os_session *s, const char *type, const char *method,
    const char *path, const json_t *body, const char *const *headers,
    json_t **out, struct vmtp_err *err);

/* Whether the last os_request() of S lost the answer to a POST that may
 * have been carried out. */
int os_unsure(const struct os_session *s);

/*
 * Sends the SIZE bytes of FP as the binary body of METHOD PATH to service
 * TYPE (an image's data to Glance).  Returns the HTTP status, with ERR set
 * as os_request() does for a status >= 400; -1 with ERR set when no
 * response came.  Not retried: FP is used up.
 */
long os_upload(struct os_session *s, const char *type, const char *method,
    const char *path, FILE *fp, long long size, struct vmtp_err *err);

/* The HTTP client of S (borrowed), for downloads that need no token. */
struct http *os_http(struct os_session *s);

/*
 * The message of an OpenStack error body BODY (Keystone {"error":
 * {"message"}}, Neutron {"NeutronError": {"message"}}, Nova {"itemNotFound":
 * {"message"}}, ...), or NULL; borrowed from BODY.
 */
const char *os_error_message(const json_t *body);

#endif
