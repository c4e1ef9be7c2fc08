/*
 * res.c - find and delete the cloud resources of vmtp runs (see res.h;
 * SPEC §6 vmtp-cleanup): a run's resources are those whose tags,
 * description or name prefix carry its run tag, or that its journal lists;
 * they go in dependency order: floating IPs, servers (waiting until they
 * are gone), router interfaces, router gateways, routers, ports, subnets,
 * networks, security groups, key pairs, flavors, images.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/journal.h"
#include "libvmtp/log.h"
#include "libvmtp/os.h"
#include "libvmtp/rec.h"
#include "libvmtp/res.h"

const char *const res_nova_headers[] = {"OpenStack-API-Version: compute 2.79",
    "X-OpenStack-Nova-API-Version: 2.79", NULL};

/* Where each kind is listed, and under which key the answer holds it. */
static const struct coll {
	const char *kind;
	const char *service;
	const char *path;
	const char *key;
} colls[] = {
    {"floatingip", "network", "/v2.0/floatingips", "floatingips"},
    {"server", "compute", "/servers/detail", "servers"},
    {"router", "network", "/v2.0/routers", "routers"},
    {"port", "network", "/v2.0/ports", "ports"},
    {"subnet", "network", "/v2.0/subnets", "subnets"},
    {"network", "network", "/v2.0/networks", "networks"},
    {"security_group", "network", "/v2.0/security-groups", "security_groups"},
    {"keypair", "compute", "/os-keypairs", "keypairs"},
    {"flavor", "compute", "/flavors/detail", "flavors"},
    {"image", "image", "/v2/images", "images"},
};

#define PAGE 500

int
res_add(json_t *victims, const json_t *rec)
{
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	const char *id = json_string_value(json_object_get(rec, "id"));
	json_t *v;
	size_t i;

	json_array_foreach (victims, i, v) {
		const char *k = json_string_value(json_object_get(v, "kind"));
		const char *d = json_string_value(json_object_get(v, "id"));

		if (k != NULL && d != NULL && kind != NULL && id != NULL &&
		    strcmp(k, kind) == 0 && strcmp(d, id) == 0)
			return 0;
	}
	return json_array_append(victims, (json_t *)rec);
}

/*
 * The run tag S starts with ("vmtp-0a1b2c3d" of "vmtp-0a1b2c3d-net1") when
 * F accepts it, copied into TAG (14 bytes).  Returns 1 or 0.
 */
static int
tag_prefix(const char *s, const struct res_filter *f, char *tag)
{
	if (s == NULL || strlen(s) < 13)
		return 0;
	memcpy(tag, s, 13);
	tag[13] = '\0';
	if (!journal_tag_ok(tag) || (s[13] != '\0' && s[13] != '-'))
		return 0;
	return f->tag == NULL || strcmp(f->tag, tag) == 0;
}

/* The run tag ITEM carries that F accepts, into TAG; 1 or 0. */
static int
item_tag(const json_t *item, const struct res_filter *f, char *tag)
{
	json_t *tags = json_object_get(item, "tags");
	json_t *t;
	size_t i;

	json_array_foreach (tags, i, t) {
		const char *s = json_string_value(t);

		if (s != NULL && strlen(s) == 13 && tag_prefix(s, f, tag))
			return 1;
	}
	if (tag_prefix(json_string_value(json_object_get(item, "description")),
	        f, tag))
		return 1;
	/* key pairs and flavors have no tags: their names carry the run */
	return tag_prefix(
	    json_string_value(json_object_get(item, "name")), f, tag);
}

/* Makes the resource record of ITEM of collection C for run TAG. */
static json_t *
victim_of(const struct coll *c, const json_t *item, const char *tag)
{
	const json_t *it = item;
	json_t *rec;
	json_t *id;
	json_t *name;

	if (strcmp(c->kind, "keypair") == 0)
		it = json_object_get(item, "keypair"); /* {"keypair": {...}} */
	name = json_object_get(it, "name");
	if (strcmp(c->kind, "floatingip") == 0)
		name = json_object_get(it, "floating_ip_address");
	/* key pairs are addressed by name */
	id = strcmp(c->kind, "keypair") == 0 ? name : json_object_get(it, "id");
	if (!json_is_string(id))
		return NULL;
	rec = rec_new("resource", tag);
	if (rec == NULL ||
	    json_object_set_new(rec, "kind", json_string(c->kind)) != 0 ||
	    json_object_set(rec, "id", id) != 0 ||
	    json_object_set_new(rec, "name",
	        json_is_string(name) ? json_incref(name) : json_string("")) !=
	        0 ||
	    json_object_set_new(rec, "created", json_true()) != 0) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/* The id a page ends with, for the next page's marker (borrowed). */
static const char *
last_id(json_t *items, const char *kind)
{
	json_t *last = json_array_get(items, json_array_size(items) - 1);

	if (strcmp(kind, "keypair") == 0)
		last = json_object_get(last, "keypair");
	return json_string_value(json_object_get(
	    last, strcmp(kind, "keypair") == 0 ? "name" : "id"));
}

static int
scan_one(struct os_session *s, const struct coll *c, const struct res_filter *f,
    json_t *victims, struct vmtp_err *err)
{
	const char *const *hdrs =
	    strcmp(c->service, "compute") == 0 ? res_nova_headers : NULL;
	char *marker = NULL;
	char path[512];
	json_t *reply = NULL;
	int rc = -1;

	for (;;) {
		struct vmtp_err e = VMTP_ERR_INIT;
		json_t *items;
		json_t *item;
		const char *last;
		size_t i;
		long st;

		snprintf(path, sizeof(path), "%s?limit=%d%s%s", c->path, PAGE,
		    marker != NULL ? "&marker=" : "",
		    marker != NULL ? marker : "");
		json_decref(reply);
		reply = NULL;
		st = os_request(
		    s, c->service, "GET", path, NULL, hdrs, &reply, &e);
		if (st == 403 || (st == 404 && strcmp(c->kind, "image") == 0)) {
			log_debug("cannot list %s: %s; skipped", c->key, e.msg);
			break;
		}
		if (st < 0 || st >= 400) {
			err_set(
			    err, e.exit, "cannot list %s: %s", c->key, e.msg);
			goto out;
		}
		items = json_object_get(reply, c->key);
		json_array_foreach (items, i, item) {
			char tag[14];
			json_t *rec;
			const json_t *it =
			    strcmp(c->kind, "keypair") == 0
			        ? json_object_get(item, "keypair")
			        : item;

			if (!item_tag(it, f, tag))
				continue;
			rec = victim_of(c, item, tag);
			if (rec == NULL || res_add(victims, rec) != 0) {
				json_decref(rec);
				err_set(err, VMTP_EXIT_FAIL, "out of memory");
				goto out;
			}
			json_decref(rec);
		}
		last = last_id(items, c->kind);
		/* a service that ignores limit returns everything at once */
		if (json_array_size(items) < PAGE || last == NULL ||
		    (marker != NULL && strcmp(marker, last) == 0))
			break;
		free(marker);
		marker = strdup(last);
		if (marker == NULL) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	free(marker);
	json_decref(reply);
	return rc;
}

int
res_scan(struct os_session *s, const struct res_filter *f, json_t *victims,
    struct vmtp_err *err)
{
	size_t i;

	for (i = 0; i < sizeof(colls) / sizeof(colls[0]); i++)
		if (scan_one(s, &colls[i], f, victims, err) != 0)
			return -1;
	return 0;
}

/* Each kind in deletion order, with its service and path. */
static const struct kind {
	const char *kind;
	const char *service;
	const char *path; /* %s: the id */
} kinds[] = {
    {"floatingip", "network", "/v2.0/floatingips/%s"},
    {"server", "compute", "/servers/%s"},
    {"router_interface", "network", NULL},
    {"router", "network", "/v2.0/routers/%s"},
    {"port", "network", "/v2.0/ports/%s"},
    {"subnet", "network", "/v2.0/subnets/%s"},
    {"network", "network", "/v2.0/networks/%s"},
    {"security_group_rule", "network", "/v2.0/security-group-rules/%s"},
    {"security_group", "network", "/v2.0/security-groups/%s"},
    {"keypair", "compute", "/os-keypairs/%s"},
    {"flavor", "compute", "/flavors/%s"},
    {"image", "image", "/v2/images/%s"},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* How long servers may take to go, and resources to free (409). */
#define SERVER_GONE_S 300
#define BUSY_TRIES 30

static const struct kind *
kind_find(const char *kind)
{
	size_t i;

	for (i = 0; kind != NULL && i < NKINDS; i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

static const char *
field(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

static void
sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Where res_delete_all() reports to. */
struct report_to {
	FILE *out;
	void (*note)(const json_t *deleted);
};

/* Writes the `deleted` record of V: ERRMSG NULL when it is gone. */
static int
report(const struct report_to *to, const json_t *v, const char *errmsg,
    struct vmtp_err *err)
{
	json_t *rec = rec_new("deleted", field(v, "run"));
	int rc;

	if (rec == NULL ||
	    json_object_set_new(rec, "kind", json_string(field(v, "kind"))) ||
	    json_object_set_new(rec, "id", json_string(field(v, "id"))) ||
	    json_object_set_new(rec, "name",
	        json_string(
	            field(v, "name") != NULL ? field(v, "name") : "")) ||
	    (errmsg != NULL &&
	        json_object_set_new(rec, "error", json_string(errmsg)))) {
		json_decref(rec);
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	rc = rec_write(to->out, rec, err);
	if (to->note != NULL)
		to->note(rec);
	json_decref(rec);
	return rc;
}

/*
 * Sends METHOD to PATH of SERVICE, retrying while it answers 409 (a
 * resource still in use, as ports are for a moment after their server is
 * gone).  Returns the status (404 counts as done for the caller), -1 with
 * E set on a transport failure.
 */
static long
call_busy(struct os_session *s, const char *service, const char *method,
    const char *path, const json_t *body, struct vmtp_err *e)
{
	const char *const *hdrs =
	    strcmp(service, "compute") == 0 ? res_nova_headers : NULL;
	long st = -1;
	int i;

	for (i = 0; i < BUSY_TRIES; i++) {
		err_clear(e);
		st = os_request(s, service, method, path, body, hdrs, NULL, e);
		if (st != 409)
			break;
		log_debug(
		    "%s %s: busy (%s), trying again", method, path, e->msg);
		sleep_s(1);
	}
	return st;
}

static int
done(long st)
{
	return (st >= 200 && st < 300) || st == 404;
}

/* Detaches every interface of ROUTER and its gateway.  0 or -1 with E. */
static int
router_detach(struct os_session *s, const char *router, struct vmtp_err *e)
{
	json_t *ports = NULL;
	json_t *p;
	char path[512];
	size_t i;
	long st;
	int rc = -1;

	snprintf(path, sizeof(path), "/v2.0/ports?device_id=%s", router);
	st = os_request(s, "network", "GET", path, NULL, NULL, &ports, e);
	if (st < 0 || st >= 400)
		goto out;
	json_array_foreach (json_object_get(ports, "ports"), i, p) {
		const char *owner = field(p, "device_owner");
		json_t *body;

		if (owner == NULL ||
		    strncmp(owner, "network:router_interface", 24) != 0)
			continue;
		body = json_pack("{s:s}", "port_id", field(p, "id"));
		snprintf(path, sizeof(path),
		    "/v2.0/routers/%s/remove_router_interface", router);
		st = call_busy(s, "network", "PUT", path, body, e);
		json_decref(body);
		if (!done(st))
			goto out;
		log_debug("detached interface %s from router %s",
		    field(p, "id"), router);
	}
	snprintf(path, sizeof(path), "/v2.0/routers/%s", router);
	{
		json_t *body =
		    json_pack("{s:{s:{}}}", "router", "external_gateway_info");

		st = call_busy(s, "network", "PUT", path, body, e);
		json_decref(body);
	}
	if (!done(st))
		goto out;
	err_clear(e);
	rc = 0;
out:
	json_decref(ports);
	return rc;
}

/* Deletes one victim V; E holds why it could not be.  Returns 0 or -1. */
static int
delete_one(struct os_session *s, const json_t *v, struct vmtp_err *e)
{
	const struct kind *k = kind_find(field(v, "kind"));
	const char *id = field(v, "id");
	char path[512];
	long st;

	if (k == NULL || id == NULL)
		return err_set(e, VMTP_EXIT_FAIL, "unknown kind '%s'",
		    field(v, "kind") != NULL ? field(v, "kind") : "");
	if (strcmp(k->kind, "router_interface") == 0) {
		json_t *body = json_pack("{s:s}", "port_id", id);

		if (field(v, "parent") == NULL) {
			json_decref(body);
			return err_set(e, VMTP_EXIT_FAIL,
			    "router interface without its router");
		}
		snprintf(path, sizeof(path),
		    "/v2.0/routers/%s/remove_router_interface",
		    field(v, "parent"));
		st = call_busy(s, "network", "PUT", path, body, e);
		json_decref(body);
		if (done(st)) {
			err_clear(e);
			return 0;
		}
		return -1;
	}
	if (strcmp(k->kind, "router") == 0 && router_detach(s, id, e) != 0) {
		if (e->exit != VMTP_EXIT_OK && strncmp(e->msg, "404", 3) == 0) {
			err_clear(e);
			return 0; /* the router itself is gone */
		}
		return -1;
	}
	snprintf(path, sizeof(path), k->path, id);
	st = call_busy(s, k->service, "DELETE", path, NULL, e);
	if (done(st)) {
		err_clear(e);
		return 0;
	}
	return -1;
}

/* Waits until every server in IDS (borrowed) answers 404. */
static int
wait_servers_gone(struct os_session *s, json_t *ids, struct vmtp_err *e)
{
	time_t deadline = time(NULL) + SERVER_GONE_S;
	json_t *id;
	size_t i;

	while (json_array_size(ids) > 0) {
		json_array_foreach (ids, i, id) {
			char path[512];
			long st;

			snprintf(path, sizeof(path), "/servers/%s",
			    json_string_value(id));
			err_clear(e);
			st = os_request(s, "compute", "GET", path, NULL,
			    res_nova_headers, NULL, e);
			if (st == 404) {
				json_array_remove(ids, i);
				break;
			}
			if (st < 0)
				return -1;
		}
		if (json_array_size(ids) == 0)
			break;
		if (time(NULL) > deadline) {
			err_clear(e);
			return err_set(e, VMTP_EXIT_FAIL,
			    "%zu server(s) still there after %d s",
			    json_array_size(ids), SERVER_GONE_S);
		}
		sleep_s(1);
	}
	err_clear(e);
	return 0;
}

int
res_delete_all(struct os_session *s, json_t *victims, FILE *out,
    void (*note)(const json_t *deleted), struct vmtp_err *err)
{
	const struct report_to to = {out, note};
	json_t *servers = json_array();
	int failed = 0;
	size_t k, i;
	json_t *v;

	if (servers == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	for (k = 0; k < NKINDS; k++) {
		json_array_foreach (victims, i, v) {
			struct vmtp_err e = VMTP_ERR_INIT;
			const char *kind = field(v, "kind");

			if (kind == NULL || strcmp(kind, kinds[k].kind) != 0)
				continue;
			if (delete_one(s, v, &e) != 0) {
				failed++;
				if (report(&to, v, e.msg, err) != 0)
					goto fail;
				continue;
			}
			if (strcmp(kind, "server") == 0) {
				if (json_array_append(
				        servers, json_object_get(v, "id")) != 0)
					goto oom;
				continue; /* reported once gone */
			}
			if (report(&to, v, NULL, err) != 0)
				goto fail;
		}
		if (strcmp(kinds[k].kind, "server") == 0 &&
		    json_array_size(servers) > 0) {
			struct vmtp_err e = VMTP_ERR_INIT;
			int gone;

			json_t *pending = json_copy(servers);

			if (pending == NULL)
				goto oom;
			gone = wait_servers_gone(s, pending, &e) == 0;
			json_array_foreach (victims, i, v) {
				const char *kind = field(v, "kind");

				if (kind == NULL || strcmp(kind, "server") != 0)
					continue;
				if (!gone)
					failed++;
				if (report(&to, v, gone ? NULL : e.msg, err) !=
				    0) {
					json_decref(pending);
					goto fail;
				}
			}
			json_decref(pending);
		}
	}
	json_decref(servers);
	return failed;
oom:
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
fail:
	json_decref(servers);
	return -1;
}

json_t *
res_still_there(
    struct os_session *s, const json_t *victims, struct vmtp_err *err)
{
	json_t *left = json_array();
	json_t *v;
	size_t i;

	if (left == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	json_array_foreach ((json_t *)victims, i, v) {
		const struct kind *k = kind_find(field(v, "kind"));
		struct vmtp_err e = VMTP_ERR_INIT;
		char path[512];
		long st;

		if (k == NULL || k->path == NULL || field(v, "id") == NULL)
			continue;
		snprintf(path, sizeof(path), k->path, field(v, "id"));
		st = os_request(s, k->service, "GET", path, NULL,
		    strcmp(k->service, "compute") == 0 ? res_nova_headers
		                                       : NULL,
		    NULL, &e);
		if (st == 404)
			continue;
		if (st < 0) {
			err_set(err, e.exit, "%s", e.msg);
			json_decref(left);
			return NULL;
		}
		if (json_array_append(left, v) != 0) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			json_decref(left);
			return NULL;
		}
	}
	return left;
}
