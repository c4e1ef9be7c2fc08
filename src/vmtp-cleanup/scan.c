/*
 * scan.c - find what vmtp runs left in the cloud by their run tag (see
 * cleanup.h; SPEC §6 vmtp-cleanup).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/journal.h"
#include "libvmtp/log.h"
#include "libvmtp/os.h"
#include "libvmtp/rec.h"

#include "cleanup.h"

const char *const nova_headers[] = {"OpenStack-API-Version: compute 2.79",
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
victims_add(json_t *victims, const json_t *rec)
{
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	const char *id = json_string_value(json_object_get(rec, "id"));
	json_t *v;
	size_t i;

	json_array_foreach(victims, i, v)
	{
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
tag_prefix(const char *s, const struct scan_filter *f, char *tag)
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
item_tag(const json_t *item, const struct scan_filter *f, char *tag)
{
	json_t *tags = json_object_get(item, "tags");
	json_t *t;
	size_t i;

	json_array_foreach(tags, i, t)
	{
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
scan_one(struct os_session *s, const struct coll *c,
    const struct scan_filter *f, json_t *victims, struct vmtp_err *err)
{
	const char *const *hdrs =
	    strcmp(c->service, "compute") == 0 ? nova_headers : NULL;
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
		json_array_foreach(items, i, item)
		{
			char tag[14];
			json_t *rec;
			const json_t *it =
			    strcmp(c->kind, "keypair") == 0
			        ? json_object_get(item, "keypair")
			        : item;

			if (!item_tag(it, f, tag))
				continue;
			rec = victim_of(c, item, tag);
			if (rec == NULL || victims_add(victims, rec) != 0) {
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
scan_cloud(struct os_session *s, const struct scan_filter *f, json_t *victims,
    struct vmtp_err *err)
{
	size_t i;

	for (i = 0; i < sizeof(colls) / sizeof(colls[0]); i++)
		if (scan_one(s, &colls[i], f, victims, err) != 0)
			return -1;
	return 0;
}
