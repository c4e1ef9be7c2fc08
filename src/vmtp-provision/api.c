/*
 * api.c - the API side of vmtp-provision's cloud mode (SPEC §6): calls
 * that keep the HTTP status, every resource journalled and written as a
 * `resource` record before the next step, Neutron resources created with
 * the run tag and found by name, and the names a run gives what it makes.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/err.h"
#include "libvmtp/http.h"
#include "libvmtp/log.h"
#include "libvmtp/os.h"
#include "libvmtp/rec.h"
#include "libvmtp/res.h"

#include "cloud-int.h"

const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

int
str_set(char **dst, const char *src, struct vmtp_err *err)
{
	char *s = NULL;

	if (src != NULL && src[0] != '\0' && (s = strdup(src)) == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

char *
str_fmt(struct vmtp_err *err, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	return s;
}

json_t *
call(struct cloud *c, const char *svc, const char *method, const char *path,
    json_t *body, const char *what, long *status, struct vmtp_err *err)
{
	struct vmtp_err e = VMTP_ERR_INIT;
	const char *const *hdrs =
	    strcmp(svc, "compute") == 0 ? res_nova_headers : NULL;
	json_t *reply = NULL;
	long st;

	st = os_request(session(c), svc, method, path, body, hdrs, &reply, &e);
	json_decref(body);
	if (status != NULL)
		*status = st;
	if (st < 200 || st >= 300) {
		json_decref(reply);
		err_set(err, e.exit != VMTP_EXIT_OK ? e.exit : VMTP_EXIT_FAIL,
		    "cannot %s: %s", what, e.msg);
		return NULL;
	}
	return reply != NULL ? reply : json_null();
}

/* How often a create found not done is sent: as often as a request is
 * (HTTP_OPTS_INIT's retries), since a gateway's 502 or 504 may answer it
 * as often as a 503. */
#define CREATE_TRIES 6

json_t *
create(struct cloud *c, const char *svc, const char *path, json_t *body,
    const char *what, create_find *find, const void *arg, struct vmtp_err *err)
{
	json_t *reply = NULL;
	int tries;

	for (tries = 0; tries < CREATE_TRIES; tries++) {
		reply = call(
		    c, svc, "POST", path, json_incref(body), what, NULL, err);
		if (reply != NULL || !os_unsure(session(c)))
			break;
		log_info("the answer to \"%s\" was lost: looking whether it "
		         "was done",
		    what);
		err_clear(err);
		reply = find(c, arg, err);
		if (reply == NULL || !json_is_null(reply))
			break;
		json_decref(reply);
		reply = NULL;
		err_set(err, VMTP_EXIT_FAIL,
		    "cannot %s: the answers were lost %d times", what,
		    CREATE_TRIES);
	}
	json_decref(body);
	return reply;
}

/*
 * The first item of Neutron's collection COLL (its path: "security-groups")
 * that QUERY selects, into *ITEM (a new reference; NULL when none).
 * Returns 1, 0 when there is none, or -1 with ERR set.
 */
static int
neutron_first(struct cloud *c, const char *coll, const char *query,
    json_t **item, struct vmtp_err *err)
{
	char *path = str_fmt(err, "/v2.0/%s?%s", coll, query);
	char *key = str_fmt(err, "%s", coll);
	json_t *reply;
	size_t i;
	int rc = -1;

	*item = NULL;
	if (path == NULL || key == NULL)
		goto out;
	/* the answer's key is the path's with '_' for '-' (security_groups) */
	for (i = 0; key[i] != '\0'; i++)
		if (key[i] == '-')
			key[i] = '_';
	reply =
	    call(c, "network", "GET", path, NULL, "list resources", NULL, err);
	if (reply == NULL)
		goto out;
	*item = json_incref(json_array_get(json_object_get(reply, key), 0));
	json_decref(reply);
	rc = *item != NULL;
out:
	free(path);
	free(key);
	return rc;
}

json_t *
neutron_found(struct cloud *c, const void *arg, struct vmtp_err *err)
{
	const struct neutron_item *n = arg;
	json_t *item;
	json_t *out;
	int rc = neutron_first(c, n->coll, n->query, &item, err);

	if (rc < 0)
		return NULL;
	out = rc > 0 ? json_pack("{s:o}", n->key, item) : json_null();
	if (out == NULL)
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return out;
}

/* A new `resource` record of the run: KIND ID NAME, CREATED, PARENT (may
 * be NULL); NULL when out of memory. */
static json_t *
resource_new(struct cloud *c, const char *kind, const char *id,
    const char *name, int created, const char *parent)
{
	json_t *rec = rec_new("resource", c->tag);

	if (rec == NULL ||
	    json_object_set_new(rec, "kind", json_string(kind)) != 0 ||
	    json_object_set_new(rec, "id", json_string(id)) != 0 ||
	    json_object_set_new(rec, "name", json_string(name)) != 0 ||
	    json_object_set_new(rec, "created", json_boolean(created)) != 0 ||
	    (parent != NULL &&
	        json_object_set_new(rec, "parent", json_string(parent)) != 0)) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

int
announce(struct cloud *c, const char *kind, const char *id, const char *name,
    int created, const char *parent, const char *verb, struct vmtp_err *err)
{
	json_t *rec = resource_new(c, kind, id, name, created, parent);
	int rc = -1;

	if (rec == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	pthread_mutex_lock(&c->lock);
	/* the journal first: it is what a crash leaves to vmtp-cleanup */
	if (created && rec_write(c->journal, rec, err) != 0)
		goto unlock;
	if (rec_write(c->out, rec, err) != 0)
		goto unlock;
	if (created && json_array_append(c->made, rec) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto unlock;
	}
	if (verb != NULL)
		log_info("%s %s %s", verb, kind, name);
	rc = 0;
unlock:
	pthread_mutex_unlock(&c->lock);
	json_decref(rec);
	return rc;
}

int
remember(struct cloud *c, const char *kind, const char *id, const char *name,
    int created, const char *parent, struct vmtp_err *err)
{
	return announce(c, kind, id, name, created, parent,
	    created ? "created" : "reusing", err);
}

int
hold(struct cloud *c, const char *kind, const char *id, const char *name,
    int on, struct vmtp_err *err)
{
	json_t *rec = NULL;
	json_t *r;
	size_t i;
	int rc = 0;

	if (on && (rec = resource_new(c, kind, id, name, 1, NULL)) == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	pthread_mutex_lock(&c->lock);
	if (on) {
		if (json_array_append_new(c->made, rec) != 0)
			rc = err_set(err, VMTP_EXIT_FAIL, "out of memory");
	} else {
		json_array_foreach (c->made, i, r) {
			if (strcmp(str(r, "kind"), kind) == 0 &&
			    strcmp(str(r, "id"), id) == 0) {
				json_array_remove(c->made, i);
				break;
			}
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
tag_neutron(
    struct cloud *c, const char *coll, const char *id, struct vmtp_err *err)
{
	char *path = str_fmt(err, "/v2.0/%s/%s/tags/%s", coll, id, c->tag);
	json_t *r;

	if (path == NULL)
		return -1;
	r = call(c, "network", "PUT", path, NULL, "tag a resource", NULL, err);
	free(path);
	json_decref(r);
	return r != NULL ? 0 : -1;
}

/* Whether the tag of ID of COLL waits for tag_later(): the networks and
 * subnets made before the boot, so that the VMs boot sooner. */
static int
defer_tag(struct cloud *c, const char *coll, const char *id)
{
	int later = 0;

	if (strcmp(coll, "networks") != 0 && strcmp(coll, "subnets") != 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	if (c->defer_tags && c->nuntagged < MAX_UNTAGGED) {
		c->untagged[c->nuntagged].coll = coll;
		c->untagged[c->nuntagged].id = id;
		c->nuntagged++;
		later = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return later;
}

int
tag_later(struct cloud *c, int i, struct vmtp_err *err)
{
	return tag_neutron(c, c->untagged[i].coll, c->untagged[i].id, err);
}

json_t *
neutron_create(struct cloud *c, const char *coll, const char *key,
    const char *kind, const char *name, json_t *attrs, char **id,
    struct vmtp_err *err)
{
	struct neutron_item find = {NULL, NULL, NULL};
	char *path = NULL;
	char *what = NULL;
	char *nq = NULL;
	char *dq = NULL;
	json_t *reply = NULL;
	json_t *obj = NULL;

	if (attrs == NULL ||
	    json_object_set_new(attrs, "name", json_string(name)) != 0 ||
	    json_object_set_new(attrs, "description", json_string(c->tag))) {
		json_decref(attrs);
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	path = str_fmt(err, "/v2.0/%s", coll);
	what = str_fmt(err, "create %s %s", kind, name);
	if (path == NULL || what == NULL) {
		json_decref(attrs);
		goto out;
	}
	nq = http_escape(name);
	dq = http_escape(c->tag);
	if (nq == NULL || dq == NULL ||
	    (find.query = str_fmt(err, "name=%s&description=%s", nq, dq)) ==
	        NULL) {
		json_decref(attrs);
		if (nq == NULL || dq == NULL)
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	find.coll = coll;
	find.key = key;
	reply = create(c, "network", path, json_pack("{s:o}", key, attrs), what,
	    neutron_found, &find, err);
	obj = json_object_get(reply, key);
	if (reply != NULL && str(obj, "id") == NULL)
		err_set(err, VMTP_EXIT_FAIL, "cannot %s: no id", what);
	if (reply == NULL || str(obj, "id") == NULL ||
	    str_set(id, str(obj, "id"), err) != 0) {
		obj = NULL;
		goto out;
	}
	json_incref(obj);
	if (remember(c, kind, *id, name, 1, NULL, err) != 0 ||
	    (!defer_tag(c, coll, *id) && tag_neutron(c, coll, *id, err) != 0)) {
		json_decref(obj);
		obj = NULL;
	}
out:
	json_decref(reply);
	free(path);
	free(what);
	free(nq);
	free(dq);
	free((char *)find.query);
	return obj;
}

int
neutron_find(struct cloud *c, const char *coll, const char *name, json_t **item,
    struct vmtp_err *err)
{
	char *q = http_escape(name);
	char *query = NULL;
	int rc = -1;

	*item = NULL;
	if (q == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	query = str_fmt(err, "name=%s", q);
	if (query != NULL)
		rc = neutron_first(c, coll, query, item, err);
out:
	free(q);
	free(query);
	return rc;
}

/* The user's value of config KEY (item I of a list when I >= 0) when it
 * is a name that differs from the built-in default, else NULL; borrowed
 * from the configuration. */
static const char *
user_name(struct cloud *c, const char *key, int i)
{
	const json_t *v = cfg_get(c->o->cfg, key);
	const json_t *d = cfg_get(c->defaults, key);

	if (i >= 0) {
		v = json_array_get(v, (size_t)i);
		d = json_array_get(d, (size_t)i);
	}
	if (json_is_string(v) && json_string_length(v) > 0 && !json_equal(v, d))
		return json_string_value(v);
	return NULL;
}

int
pick_name(struct cloud *c, const char *key, int i, const char *suffix,
    char **out, struct vmtp_err *err)
{
	const char *own = user_name(c, key, i);

	*out = own != NULL ? str_fmt(err, "%s", own)
	                   : str_fmt(err, "%s-%s", c->tag, suffix);
	if (*out == NULL)
		return -1;
	return own != NULL;
}

int
run_name(struct cloud *c, const char *key, const char *suffix, size_t max,
    char **out, struct vmtp_err *err)
{
	const char *name = user_name(c, key, -1);

	if (name == NULL)
		name = suffix;
	if (strlen(c->tag) + 1 + strlen(name) > max)
		return err_set(err, VMTP_EXIT_DATA,
		    "%s: '%s' is longer than %zu characters", key, name,
		    max - strlen(c->tag) - 1);
	*out = str_fmt(err, "%s-%s", c->tag, name);
	return *out != NULL ? 0 : -1;
}
