/*
 * res.c - find and delete the cloud resources of vmtp runs (see res.h;
 * SPEC §6 vmtp-cleanup): a run's resources are those whose tags,
 * description or name prefix carry its run tag, or that its journal lists;
 * they go in dependency order: floating IPs and servers, router interfaces,
 * routers (Neutron deletes a router's gateway with it) while the servers
 * go, then (the servers gone) server groups, ports, subnets, networks,
 * security groups (their rules with them), key pairs, flavors, images.
 * What does not depend on each other goes side by side (the kinds of a
 * level, and every victim of them), each request on a connection of its
 * own (a pool of cloned sessions); servers are waited for with one list of
 * the project's servers per poll; the collections are listed and the
 * leftovers (what no DELETE took) looked up side by side too.
 */
#include <errno.h>
#include <pthread.h>
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
	const char *what; /* for the user */
} colls[] = {
    {"floatingip", "network", "/v2.0/floatingips", "floatingips",
        "floating IPs"},
    {"server", "compute", "/servers/detail", "servers", "servers"},
    {"server_group", "compute", "/os-server-groups", "server_groups",
        "server groups"},
    {"router", "network", "/v2.0/routers", "routers", "routers"},
    {"port", "network", "/v2.0/ports", "ports", "ports"},
    {"subnet", "network", "/v2.0/subnets", "subnets", "subnets"},
    {"network", "network", "/v2.0/networks", "networks", "networks"},
    {"security_group", "network", "/v2.0/security-groups", "security_groups",
        "security groups"},
    {"keypair", "compute", "/os-keypairs", "keypairs", "key pairs"},
    {"flavor", "compute", "/flavors/detail", "flavors", "flavors"},
    {"image", "image", "/v2/images", "images", "images"},
};
#define NCOLLS (sizeof(colls) / sizeof(colls[0]))

/* The services vmtp makes resources in; their index is their bit. */
static const char *const services[] = {"compute", "network", "image"};
#define NSVC (sizeof(services) / sizeof(services[0]))
#define COMPUTE 0

/* What a service is to a cleanup (struct res_health). */
enum { SVC_UP, SVC_MISSING, SVC_DOWN };

static int
svc_index(const char *service)
{
	size_t i;

	for (i = 0; i < NSVC; i++)
		if (strcmp(services[i], service) == 0)
			return (int)i;
	return 0;
}

/* Marks service I down in H because of WHY. */
static void
svc_down(struct res_health *h, int i, const char *why)
{
	h->down |= 1u << i;
	snprintf(h->why[i], sizeof(h->why[i]), "%s: %s", services[i], why);
}

/*
 * The state of service I in H; the first time, S's catalog says whether
 * it is there (an authentication failure counts as the service down).
 */
static int
svc_state(struct os_session *s, struct res_health *h, int i)
{
	struct vmtp_err e = VMTP_ERR_INIT;
	unsigned bit = 1u << i;

	if (h->down & bit)
		return SVC_DOWN;
	if (h->missing & bit)
		return SVC_MISSING;
	switch (os_has_endpoint(s, services[i], &e)) {
	case 1:
		return SVC_UP;
	case 0:
		h->missing |= bit;
		snprintf(h->why[i], sizeof(h->why[i]), "%s", e.msg);
		return SVC_MISSING;
	default:
		svc_down(h, i, e.msg);
		return SVC_DOWN;
	}
}

/* Whether status ST says the service is down: 5xx or no answer. */
static int
failing(long st)
{
	return st < 0 || st >= 500;
}

/*
 * Writes to BUF the names of the collections of service SVC whose bit
 * (their index in colls) is set in MASK: "a, b CONJ c".
 */
static void
join_whats(char *buf, size_t size, int svc, unsigned mask, const char *conj)
{
	size_t n = 0, i, k = 0, len = 0;

	buf[0] = '\0';
	for (i = 0; i < NCOLLS; i++)
		n += (mask & (1u << i)) && svc_index(colls[i].service) == svc;
	for (i = 0; i < NCOLLS && len < size; i++) {
		if (!(mask & (1u << i)) || svc_index(colls[i].service) != svc)
			continue;
		k++;
		len += (size_t)snprintf(buf + len, size - len, "%s%s%s",
		    k == 1   ? ""
		    : k == n ? " "
		             : ", ",
		    k > 1 && k == n ? conj : "", k > 1 && k == n ? " " : "");
		if (len < size)
			len += (size_t)snprintf(
			    buf + len, size - len, "%s", colls[i].what);
	}
}

#define PAGE 500

int
res_has(const json_t *victims, const json_t *rec)
{
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	const char *id = json_string_value(json_object_get(rec, "id"));
	json_t *v;
	size_t i;

	json_array_foreach ((json_t *)victims, i, v) {
		const char *k = json_string_value(json_object_get(v, "kind"));
		const char *d = json_string_value(json_object_get(v, "id"));

		if (k != NULL && d != NULL && kind != NULL && id != NULL &&
		    strcmp(k, kind) == 0 && strcmp(d, id) == 0)
			return 1;
	}
	return 0;
}

int
res_add(json_t *victims, const json_t *rec)
{
	if (res_has(victims, rec))
		return 0;
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

/*
 * Adds the items of collection C that F accepts to VICTIMS.  Returns 0, 1
 * when C could not be listed (named in a message; the service marked down
 * in H when it answered 5xx or nothing), or -1 with ERR set when out of
 * memory.
 */
static int
scan_one(struct os_session *s, const struct coll *c, const struct res_filter *f,
    struct res_health *h, json_t *victims, struct vmtp_err *err)
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
			log_error("cannot list %s: %s: %s", c->what, c->service,
			    e.msg);
			if (failing(st))
				svc_down(h, svc_index(c->service), e.msg);
			rc = 1;
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

/*
 * Each kind in deletion order, with its service, its path and its level:
 * the kinds of one level go side by side (a floating IP need not wait for
 * its server, a router for the ports), a level after the one before it is
 * done.  Routers need only their floating IPs gone, so they go while the
 * servers do; the servers are waited for before SERVERS_GONE_LEVEL, whose
 * ports, subnets, networks and groups their ports hold.  Neutron deletes a
 * security group's rules with it: a rule comes last, and goes without a
 * request when its group did.
 */
static const struct kind {
	const char *kind;
	const char *service;
	const char *path; /* %s: the id */
	int level;
} kinds[] = {
    {"floatingip", "network", "/v2.0/floatingips/%s", 0},
    {"server", "compute", "/servers/%s", 0},
    {"router_interface", "network", NULL, 1},
    {"router", "network", "/v2.0/routers/%s", 2},
    {"server_group", "compute", "/os-server-groups/%s", 3},
    {"port", "network", "/v2.0/ports/%s", 3},
    {"subnet", "network", "/v2.0/subnets/%s", 4},
    {"network", "network", "/v2.0/networks/%s", 5},
    {"security_group", "network", "/v2.0/security-groups/%s", 6},
    {"keypair", "compute", "/os-keypairs/%s", 6},
    {"flavor", "compute", "/flavors/%s", 6},
    {"image", "image", "/v2/images/%s", 6},
    {"security_group_rule", "network", "/v2.0/security-group-rules/%s", 7},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
#define SERVERS_GONE_LEVEL 3

/* How long servers may take to go, and resources to free (409). */
#define SERVER_GONE_S 300
#define BUSY_TRIES 30
/* The most requests of a cleanup at once, and servers listed per call. */
#define RES_WORKERS 8
#define SERVER_QUICK_POLLS 12
#define LIST_PAGE 1000

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

/*
 * Marks victim V as deleted (its DELETE answered 2xx or 404, or the server
 * left the list), so that res_still_there() does not look it up again.
 * 0, or -1 with ERR set.
 */
static int
mark_gone(json_t *v, struct vmtp_err *err)
{
	if (json_object_set_new(v, RES_GONE, json_true()) != 0)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return 0;
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
 * Sends METHOD to PATH of SERVICE, up to TRIES times while it answers 409
 * (a resource still in use, as ports are for a moment after their server
 * is gone).  Returns the status (404 counts as done for the caller), -1 with
 * E set on a transport failure.
 */
static long
call_busy(struct os_session *s, const char *service, const char *method,
    const char *path, const json_t *body, int tries, struct vmtp_err *e)
{
	const char *const *hdrs =
	    strcmp(service, "compute") == 0 ? res_nova_headers : NULL;
	long st = -1;
	int i;

	for (i = 0; i < tries; i++) {
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

/*
 * Detaches every interface of ROUTER, trying TRIES times while busy; its
 * gateway goes with the router's DELETE (Neutron deletes a router's gateway
 * port with it, so no update of the router before).  0, or -1 with E set
 * and *ST the last status.
 */
static int
router_detach(struct os_session *s, const char *router, int tries, long *st,
    struct vmtp_err *e)
{
	json_t *ports = NULL;
	json_t *p;
	char path[512];
	size_t i;
	int rc = -1;

	snprintf(path, sizeof(path), "/v2.0/ports?device_id=%s", router);
	*st = os_request(s, "network", "GET", path, NULL, NULL, &ports, e);
	if (*st < 0 || *st >= 400)
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
		*st = call_busy(s, "network", "PUT", path, body, tries, e);
		json_decref(body);
		if (!done(*st))
			goto out;
		log_debug("detached interface %s from router %s",
		    field(p, "id"), router);
	}
	err_clear(e);
	rc = 0;
out:
	json_decref(ports);
	return rc;
}

/*
 * Deletes ROUTER at PATH: at once, as its interfaces went the level before;
 * when Neutron answers 409 (some are left: not in the journal, or attached
 * by hand), they are detached and the DELETE is sent again, TRIES times
 * while busy.  Returns the last status (404 once the router is gone), -1
 * with E set on a transport failure.
 */
static long
delete_router(struct os_session *s, const char *router, const char *path,
    int tries, struct vmtp_err *e)
{
	long st = os_request(s, "network", "DELETE", path, NULL, NULL, NULL, e);

	if (st != 409)
		return st;
	if (router_detach(s, router, tries, &st, e) != 0)
		return st;
	return call_busy(s, "network", "DELETE", path, NULL, tries, e);
}

/*
 * Adds to E's message the servers whose ports hold victim V, a subnet,
 * network or security group that Neutron would not delete (409), so that
 * the user sees the cause: a server that could not be deleted.
 */
static void
name_holders(struct os_session *s, const json_t *v, struct vmtp_err *e)
{
	const char *kind = field(v, "kind");
	struct vmtp_err le = VMTP_ERR_INIT;
	json_t *ports = NULL;
	json_t *p;
	char path[512];
	char held[256] = "";
	size_t i, n = 0, len = 0;
	long st;

	if (strcmp(kind, "network") == 0)
		snprintf(path, sizeof(path), "/v2.0/ports?network_id=%s",
		    field(v, "id"));
	else if (strcmp(kind, "subnet") == 0)
		snprintf(path, sizeof(path),
		    "/v2.0/ports?fixed_ips=subnet_id%%3D%s", field(v, "id"));
	else if (strcmp(kind, "security_group") == 0)
		snprintf(path, sizeof(path), "/v2.0/ports?security_groups=%s",
		    field(v, "id"));
	else
		return;
	st = os_request(s, "network", "GET", path, NULL, NULL, &ports, &le);
	if (st < 200 || st >= 300)
		goto out;
	json_array_foreach (json_object_get(ports, "ports"), i, p) {
		const char *owner = field(p, "device_owner");
		const char *dev = field(p, "device_id");

		if (owner == NULL || strncmp(owner, "compute:", 8) != 0 ||
		    dev == NULL || dev[0] == '\0' ||
		    strstr(held, dev) != NULL || len >= sizeof(held))
			continue;
		len += (size_t)snprintf(held + len, sizeof(held) - len, "%s%s",
		    n++ > 0 ? ", " : "", dev);
	}
	if (n > 0) {
		char was[sizeof(e->msg)];

		memcpy(was, e->msg, sizeof(was));
		err_clear(e);
		err_set(e, VMTP_EXIT_FAIL,
		    "%s; held by the port%s of server%s %s", was,
		    n > 1 ? "s" : "", n > 1 ? "s" : "", held);
	}
out:
	json_decref(ports);
}

/*
 * Deletes one victim V, trying TRIES times while busy (409); a router's
 * interfaces left (none when its router_interface victims went the level
 * before) are detached when its DELETE says it still has some.  Returns 0, or
 * -1 with E set to why it could not be and *ST the last status.
 */
static int
delete_one(struct os_session *s, const json_t *v, int tries, long *st,
    struct vmtp_err *e)
{
	const struct kind *k = kind_find(field(v, "kind"));
	const char *id = field(v, "id");
	char path[512];

	*st = 0;
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
		*st = call_busy(s, "network", "PUT", path, body, tries, e);
		json_decref(body);
		if (done(*st)) {
			err_clear(e);
			return 0;
		}
		return -1;
	}
	snprintf(path, sizeof(path), k->path, id);
	if (strcmp(k->kind, "router") == 0)
		*st = delete_router(s, id, path, tries, e);
	else
		*st = call_busy(s, k->service, "DELETE", path, NULL, tries, e);
	if (done(*st)) {
		err_clear(e);
		return 0;
	}
	if (*st == 409)
		name_holders(s, v, e);
	return -1;
}

/*
 * Adds to IDS (an object) the id of each server of S's project (one list
 * call per page, however many servers there are).  Returns the status of
 * the last call: 2xx, or another with E set (-1: no answer).
 */
static long
list_servers(struct os_session *s, json_t *ids, struct vmtp_err *e)
{
	char *marker = NULL;
	char path[512];
	json_t *reply = NULL;
	long st;

	for (;;) {
		json_t *items;
		json_t *item;
		const char *last;
		size_t i;

		snprintf(path, sizeof(path), "/servers?limit=%d%s%s", LIST_PAGE,
		    marker != NULL ? "&marker=" : "",
		    marker != NULL ? marker : "");
		json_decref(reply);
		reply = NULL;
		err_clear(e);
		st = os_request(s, "compute", "GET", path, NULL,
		    res_nova_headers, &reply, e);
		if (st < 200 || st >= 300)
			break;
		items = json_object_get(reply, "servers");
		json_array_foreach (items, i, item) {
			const char *id = field(item, "id");

			if (id != NULL &&
			    json_object_set_new(ids, id, json_true()) != 0) {
				st = -1;
				err_set(e, VMTP_EXIT_FAIL, "out of memory");
				goto out;
			}
		}
		last = last_id(items, "server");
		if (json_array_size(items) < LIST_PAGE || last == NULL ||
		    (marker != NULL && strcmp(marker, last) == 0))
			break;
		free(marker);
		marker = strdup(last);
		if (marker == NULL) {
			st = -1;
			err_set(e, VMTP_EXIT_FAIL, "out of memory");
			break;
		}
	}
out:
	free(marker);
	json_decref(reply);
	return st;
}

/*
 * Waits until no server in IDS (borrowed, emptied) is in the project's
 * list of servers, polling with one list each 0.25 s for the first 3 s,
 * then each second.  Returns 0, or -1 with E set and *ST the last
 * status (compute down, or time out).
 */
static int
wait_servers_gone(
    struct os_session *s, json_t *ids, long *st, struct vmtp_err *e)
{
	time_t deadline = time(NULL) + SERVER_GONE_S;
	json_t *there = NULL;
	size_t i;
	int polls = 0;

	*st = 0;
	while (json_array_size(ids) > 0) {
		/* a server goes in a second or a few: looked for closely at
		 * first, then once a second */
		sleep_s(polls++ < SERVER_QUICK_POLLS ? 0.25 : 1);
		json_decref(there);
		there = json_object();
		if (there == NULL) {
			err_clear(e);
			return err_set(e, VMTP_EXIT_FAIL, "out of memory");
		}
		*st = list_servers(s, there, e);
		/* the retries are spent; a 500 may pass */
		if (*st < 0 || (*st >= 502 && *st <= 504)) {
			json_decref(there);
			return -1;
		}
		if (*st >= 200 && *st < 300)
			for (i = json_array_size(ids); i-- > 0;)
				if (json_object_get(there,
				        json_string_value(
				            json_array_get(ids, i))) == NULL)
					json_array_remove(ids, i);
		if (json_array_size(ids) > 0 && time(NULL) > deadline) {
			json_decref(there);
			err_clear(e);
			return err_set(e, VMTP_EXIT_FAIL,
			    "%zu server(s) still there after %d s",
			    json_array_size(ids), SERVER_GONE_S);
		}
	}
	json_decref(there);
	err_clear(e);
	return 0;
}

/* Whether the array IDS holds the id of victim V. */
static int
has_id(const json_t *ids, const json_t *v)
{
	json_t *id;
	size_t i;

	json_array_foreach ((json_t *)ids, i, id) {
		if (json_equal(id, json_object_get(v, "id")))
			return 1;
	}
	return 0;
}

/* Reports the servers deleted (SERVERS) once they are gone.  0 or -1. */
static int
servers_gone(struct os_session *s, struct res_health *h, json_t *victims,
    json_t *servers, const struct report_to *to, int *failed,
    struct vmtp_err *err)
{
	struct vmtp_err e = VMTP_ERR_INIT;
	json_t *pending = json_copy(servers);
	json_t *v;
	size_t i;
	long st;
	int gone;

	if (pending == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	gone = wait_servers_gone(s, pending, &st, &e) == 0;
	if (!gone && failing(st))
		svc_down(h, COMPUTE, e.msg);
	json_array_foreach (victims, i, v) {
		const char *kind = field(v, "kind");

		if (kind == NULL || strcmp(kind, "server") != 0 ||
		    !has_id(servers, v))
			continue;
		if (!gone)
			(*failed)++;
		if ((gone && mark_gone(v, err) != 0) ||
		    report(to, v, gone ? NULL : e.msg, err) != 0) {
			json_decref(pending);
			return -1;
		}
	}
	json_decref(pending);
	return 0;
}

/*
 * What a job does: delete its victim, look whether its victim is still
 * there (GET), or list a collection.
 */
enum { JOB_DELETE, JOB_LOOK, JOB_SCAN };

/* One piece of work done beside others, by whichever worker takes it. */
struct job {
	int what;
	const json_t *v; /* borrowed from the victims */
	int tries;
	long st;
	int rc;
	struct vmtp_err e;
	/* JOB_SCAN: */
	const struct coll *c;
	const struct res_filter *f;
	struct res_health h; /* what the scan learnt of the services */
	json_t *found;       /* victims found */
};

/*
 * The connections a cleanup works on side by side: the caller's session
 * and clones of it, made when a batch of jobs first has more than one.
 * Workers take the batch's next job under the lock.
 */
struct pool {
	struct os_session *main;
	struct os_session *s[RES_WORKERS];
	int n; /* clones made */
	pthread_mutex_t lock;
	struct job *jobs;
	size_t njobs, next;
};

struct worker_arg {
	struct pool *p;
	struct os_session *s;
};

/* Does job J on S: 0, or -1 with J->e set (J->st the last status). */
static int
do_job(struct os_session *s, struct job *j)
{
	const struct kind *k = kind_find(field(j->v, "kind"));
	char path[512];

	switch (j->what) {
	case JOB_SCAN:
		/* not listed: one bit is enough, scan_round() knows which */
		switch (scan_one(s, j->c, j->f, &j->h, j->found, &j->e)) {
		case 0:
			return 0;
		case 1:
			j->h.unseen = 1;
			return 0;
		}
		return -1;
	case JOB_LOOK:
		snprintf(path, sizeof(path), k->path, field(j->v, "id"));
		j->st = os_request(s, k->service, "GET", path, NULL,
		    strcmp(k->service, "compute") == 0 ? res_nova_headers
		                                       : NULL,
		    NULL, &j->e);
		return 0;
	}
	return delete_one(s, j->v, j->tries, &j->st, &j->e);
}

static void *
work(void *arg)
{
	struct worker_arg *w = arg;
	struct pool *p = w->p;

	for (;;) {
		struct job *j = NULL;

		pthread_mutex_lock(&p->lock);
		if (p->next < p->njobs)
			j = &p->jobs[p->next++];
		pthread_mutex_unlock(&p->lock);
		if (j == NULL)
			return NULL;
		j->rc = do_job(w->s, j);
	}
}

/*
 * Does the N jobs of JOBS side by side on P's connections (cloning the
 * caller's session as needed; without clones or threads, one after
 * another on it).
 */
static void
run_jobs(struct pool *p, struct job *jobs, size_t n)
{
	struct worker_arg args[RES_WORKERS];
	pthread_t threads[RES_WORKERS];
	int want = n < RES_WORKERS ? (int)n : RES_WORKERS;
	int k, started = 0;

	while (want > 1 && p->n < want) {
		struct vmtp_err e = VMTP_ERR_INIT;

		p->s[p->n] = os_session_clone(p->main, &e);
		if (p->s[p->n] == NULL) {
			log_debug("one connection fewer: %s", e.msg);
			break;
		}
		p->n++;
	}
	if (want > p->n)
		want = p->n;
	p->jobs = jobs;
	p->njobs = n;
	p->next = 0;
	for (k = 0; want > 1 && k < want; k++) {
		args[k] = (struct worker_arg){p, p->s[k]};
		if (pthread_create(&threads[k], NULL, work, &args[k]) != 0)
			break;
		started++;
	}
	if (started == 0) {
		struct worker_arg self = {p, p->main};

		work(&self);
	}
	for (k = 0; k < started; k++)
		pthread_join(threads[k], NULL);
	p->jobs = NULL;
}

/*
 * Whether victim V is a security group rule whose group, a victim too, is
 * deleted (Neutron deletes a group's rules with it).
 */
static int
group_took(const json_t *victims, const json_t *v)
{
	const char *parent = field(v, "parent");
	json_t *g;
	size_t i;

	if (parent == NULL ||
	    strcmp(field(v, "kind"), "security_group_rule") != 0)
		return 0;
	json_array_foreach ((json_t *)victims, i, g) {
		const char *kind = field(g, "kind");

		if (kind != NULL && strcmp(kind, "security_group") == 0 &&
		    field(g, "id") != NULL &&
		    strcmp(field(g, "id"), parent) == 0 &&
		    json_is_true(json_object_get(g, RES_GONE)))
			return 1;
	}
	return 0;
}

/*
 * Deletes the victims of the kinds of LEVEL side by side; reports each in
 * the kinds' order, then the victims' (servers once gone: their ids go to
 * SERVERS).  Returns 0, or -1 with ERR set.
 */
static int
delete_level(struct pool *p, struct res_health *h, json_t *victims, int level,
    json_t *servers, const struct report_to *to, int *failed,
    struct vmtp_err *err)
{
	struct job *jobs = NULL;
	size_t i, k, n = 0;
	json_t *v;
	int rc = -1;

	/* each victim once */
	jobs = calloc(json_array_size(victims) + 1, sizeof(*jobs));
	if (jobs == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	for (k = 0; k < NKINDS; k++) {
		int sv = svc_index(kinds[k].service);

		if (kinds[k].level != level)
			continue;
		json_array_foreach (victims, i, v) {
			const char *kind = field(v, "kind");
			char why[sizeof(h->why[0]) + 16];

			if (kind == NULL || strcmp(kind, kinds[k].kind) != 0)
				continue;
			if (group_took(victims, v)) {
				/* no request: the group's DELETE took it */
				if (mark_gone(v, err) != 0 ||
				    report(to, v, NULL, err) != 0)
					goto out;
				continue;
			}
			switch (svc_state(p->main, h, sv)) {
			case SVC_MISSING:
				h->skipped++;
				log_warn("skipped %s %s (%s): %s", kind,
				    field(v, "name") != NULL ? field(v, "name")
				                             : "",
				    field(v, "id"), h->why[sv]);
				continue;
			case SVC_DOWN:
				(*failed)++;
				snprintf(why, sizeof(why), "not tried: %s",
				    h->why[sv]);
				if (report(to, v, why, err) != 0)
					goto out;
				continue;
			}
			jobs[n].what = JOB_DELETE;
			jobs[n].v = v;
			/* servers that stay hold their ports: 409 for good */
			jobs[n].tries = svc_state(p->main, h, COMPUTE) == SVC_UP
			                    ? BUSY_TRIES
			                    : 1;
			err_clear(&jobs[n].e);
			n++;
		}
	}
	run_jobs(p, jobs, n);
	for (i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		const struct kind *kd = kind_find(field(j->v, "kind"));

		if (j->rc != 0) {
			if (failing(j->st))
				svc_down(h, svc_index(kd->service), j->e.msg);
			(*failed)++;
			if (report(to, j->v, j->e.msg, err) != 0)
				goto out;
			continue;
		}
		if (strcmp(kd->kind, "server") == 0) {
			if (json_array_append(
			        servers, json_object_get(j->v, "id")) != 0) {
				err_set(err, VMTP_EXIT_FAIL, "out of memory");
				goto out;
			}
			continue; /* reported once gone */
		}
		if (mark_gone((json_t *)j->v, err) != 0 ||
		    report(to, j->v, NULL, err) != 0)
			goto out;
	}
	rc = 0;
out:
	free(jobs);
	return rc;
}

int
res_delete_all(struct os_session *s, struct res_health *hp, json_t *victims,
    FILE *out, void (*note)(const json_t *deleted), struct vmtp_err *err)
{
	const struct report_to to = {out, note};
	struct res_health fresh;
	struct res_health *h = hp;
	struct pool p;
	json_t *servers = json_array();
	int failed = 0;
	int rc = -1;
	int level;

	memset(&p, 0, sizeof(p));
	p.main = s;
	pthread_mutex_init(&p.lock, NULL);
	if (h == NULL) {
		memset(&fresh, 0, sizeof(fresh));
		h = &fresh;
	}
	if (servers == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	for (level = 0; level <= kinds[NKINDS - 1].level; level++) {
		/* the servers are waited for once, before the first level
		 * that needs them gone (SERVERS_GONE_LEVEL <= the last) */
		if (level >= SERVERS_GONE_LEVEL &&
		    json_array_size(servers) > 0) {
			if (servers_gone(
			        s, h, victims, servers, &to, &failed, err) != 0)
				goto out;
			json_array_clear(servers);
		}
		if (delete_level(
		        &p, h, victims, level, servers, &to, &failed, err) != 0)
			goto out;
	}
	rc = failed;
out:
	while (p.n > 0)
		os_session_free(p.s[--p.n]);
	pthread_mutex_destroy(&p.lock);
	json_decref(servers);
	return rc;
}

int
res_unseen(const struct res_health *h)
{
	unsigned m = h->unseen;
	int n = 0;

	for (; m != 0; m &= m - 1)
		n++;
	return n;
}

const char *
res_down_why(const struct res_health *h, const char *kind)
{
	const struct kind *k = kind_find(kind);
	int sv;

	if (k == NULL)
		return NULL;
	sv = svc_index(k->service);
	return h->down & (1u << sv) ? h->why[sv] : NULL;
}

json_t *
res_still_there(struct os_session *s, struct res_health *h,
    const json_t *victims, struct vmtp_err *err)
{
	json_t *left = json_array();
	json_t *servers = NULL; /* the project's, listed once: id -> true */
	long servers_st = 0;
	struct job *jobs = NULL;
	struct pool p;
	size_t i, n = 0, k = 0;
	json_t *v;

	memset(&p, 0, sizeof(p));
	p.main = s;
	pthread_mutex_init(&p.lock, NULL);
	jobs = calloc(json_array_size(victims) + 1, sizeof(*jobs));
	if (left == NULL || jobs == NULL)
		goto oom;
	/* what to look at, and how: servers in one list, the rest each
	 * with a GET of its own, side by side */
	json_array_foreach ((json_t *)victims, i, v) {
		const struct kind *kd = kind_find(field(v, "kind"));
		struct vmtp_err e = VMTP_ERR_INIT;

		if (kd == NULL || kd->path == NULL || field(v, "id") == NULL ||
		    json_is_true(json_object_get(v, RES_GONE)) ||
		    svc_state(s, h, svc_index(kd->service)) != SVC_UP)
			continue;
		if (strcmp(kd->kind, "server") != 0) {
			jobs[n] = (struct job){
			    .what = JOB_LOOK, .v = v, .e = VMTP_ERR_INIT};
			n++;
		} else if (servers == NULL) {
			servers = json_object();
			if (servers == NULL)
				goto oom;
			servers_st = list_servers(s, servers, &e);
			if (failing(servers_st))
				svc_down(h, COMPUTE, e.msg);
		}
	}
	run_jobs(&p, jobs, n);
	for (i = 0; i < n; i++)
		if (failing(jobs[i].st))
			svc_down(h,
			    svc_index(
			        kind_find(field(jobs[i].v, "kind"))->service),
			    jobs[i].e.msg);
	/* in the victims' order: those not known to be gone */
	json_array_foreach ((json_t *)victims, i, v) {
		const struct kind *kd = kind_find(field(v, "kind"));
		long st = 200;

		if (kd == NULL || kd->path == NULL || field(v, "id") == NULL ||
		    json_is_true(json_object_get(v, RES_GONE)))
			continue;
		switch (svc_state(s, h, svc_index(kd->service))) {
		case SVC_MISSING:
			continue; /* named when skipped */
		case SVC_UP:
			if (strcmp(kd->kind, "server") == 0) {
				st = servers_st;
				if (st >= 200 && st < 300 &&
				    json_object_get(servers, field(v, "id")) ==
				        NULL)
					st = 404;
			} else if (k < n && jobs[k].v == v) {
				st = jobs[k++].st;
			}
			break;
		case SVC_DOWN:
			/* looked at before the service went down? */
			if (k < n && jobs[k].v == v && jobs[k].st == 404)
				st = 404;
			if (k < n && jobs[k].v == v)
				k++;
			break;
		}
		if (st == 404)
			continue;
		if (json_array_append(left, v) != 0)
			goto oom;
	}
	goto out;
oom:
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
	json_decref(left);
	left = NULL;
out:
	while (p.n > 0)
		os_session_free(p.s[--p.n]);
	pthread_mutex_destroy(&p.lock);
	free(jobs);
	json_decref(servers);
	return left;
}

/*
 * Lists collections side by side, one job each: those of the services in
 * MASK (bits of services) from FIRST (1: the first collection of each
 * service only, 0: the others), adding what they find to VICTIMS in the
 * collections' order and what they learn of the services to H.  The first
 * collection of each service goes first and alone for it, so that a
 * service down is asked once, not once per collection.  Returns 0, or -1
 * with ERR set when out of memory.
 */
static int
scan_round(struct pool *p, const struct res_filter *f, struct res_health *h,
    unsigned mask, int first, json_t *victims, struct vmtp_err *err)
{
	struct job *jobs = calloc(NCOLLS, sizeof(*jobs));
	unsigned seen = 0; /* services whose first collection is passed */
	size_t i, k, n = 0;
	json_t *r;
	int rc = -1;

	if (jobs == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	for (i = 0; i < NCOLLS; i++) {
		unsigned bit = 1u << svc_index(colls[i].service);
		int is_first = !(seen & bit);

		seen |= bit;
		if (!(mask & bit) || is_first != first)
			continue;
		jobs[n] = (struct job){.what = JOB_SCAN,
		    .e = VMTP_ERR_INIT,
		    .c = &colls[i],
		    .f = f,
		    .found = json_array()};
		if (jobs[n].found == NULL) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
		n++;
	}
	run_jobs(p, jobs, n);
	for (i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		unsigned gone = j->h.down & ~h->down;
		int sv;

		if (j->rc != 0) {
			err_set(err, j->e.exit, "%s", j->e.msg);
			goto out;
		}
		for (sv = 0; sv < (int)NSVC; sv++)
			if (gone & (1u << sv)) {
				h->down |= 1u << sv;
				memcpy(h->why[sv], j->h.why[sv],
				    sizeof(h->why[sv]));
			}
		if (j->h.unseen != 0)
			h->unseen |= 1u << (size_t)(j->c - colls);
		json_array_foreach (j->found, k, r)
			if (res_add(victims, r) != 0) {
				err_set(err, VMTP_EXIT_FAIL, "out of memory");
				goto out;
			}
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		json_decref(jobs[i].found);
	free(jobs);
	return rc;
}

int
res_scan(struct os_session *s, const struct res_filter *f, struct res_health *h,
    json_t *victims, struct vmtp_err *err)
{
	unsigned down_before = h->down;
	unsigned unlisted = 0; /* collections skipped: went down in this scan */
	unsigned up = 0;       /* services to list in */
	char whats[200];
	struct pool p;
	size_t i;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.main = s;
	pthread_mutex_init(&p.lock, NULL);
	for (i = 0; i < NCOLLS; i++) {
		int sv = svc_index(colls[i].service);
		unsigned bit = 1u << sv;

		switch (svc_state(s, h, sv)) {
		case SVC_MISSING:
			if (!(h->noted & bit)) {
				h->noted |= bit;
				join_whats(whats, sizeof(whats), sv, ~0u, "or");
				log_warn(
				    "%s: no %s to look for", h->why[sv], whats);
			}
			continue;
		case SVC_DOWN:
			h->unseen |= 1u << i;
			continue;
		}
		up |= bit;
	}
	if (scan_round(&p, f, h, up, 1, victims, err) != 0)
		goto out;
	/* a service down on its first collection is asked nothing more */
	for (i = 0; i < NCOLLS; i++) {
		unsigned bit = 1u << svc_index(colls[i].service);

		if ((up & bit) && (h->down & bit) && !(h->unseen & (1u << i))) {
			h->unseen |= 1u << i;
			unlisted |= 1u << i;
		}
	}
	if (scan_round(&p, f, h, up & ~h->down, 0, victims, err) != 0)
		goto out;
	for (i = 0; i < NSVC; i++) {
		if (!(h->down & ~down_before & (1u << i)))
			continue;
		join_whats(whats, sizeof(whats), (int)i, unlisted, "and");
		if (whats[0] != '\0')
			log_error("%s is down: %s not looked at either",
			    services[i], whats);
	}
	rc = 0;
out:
	while (p.n > 0)
		os_session_free(p.s[--p.n]);
	pthread_mutex_destroy(&p.lock);
	return rc;
}
