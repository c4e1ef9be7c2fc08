/*
 * cloud.c - vmtp-provision's cloud mode (see cloud.h; SPEC §1, §6): find
 * or create what the VMTP topology needs, boot all VMs at once, wait for
 * them (one list call per poll) and for SSH, then describe the topology
 * as run, host and flow records.
 *
 * The run waits for the cloud about as long as the cloud takes to boot a
 * VM: steps that do not depend on each other run side by side, each on a
 * connection of its own (run_tasks), and the VMs are booted as soon as
 * their key pair, security group and networks exist; the rules, the
 * router and the floating IPs are made while they boot, and each floating
 * IP goes to its VM's port as soon as that port exists.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/cli.h"
#include "libvmtp/err.h"
#include "libvmtp/http.h"
#include "libvmtp/journal.h"
#include "libvmtp/log.h"
#include "libvmtp/os.h"
#include "libvmtp/ports.h"
#include "libvmtp/proc.h"
#include "libvmtp/rec.h"
#include "libvmtp/res.h"
#include "libvmtp/ssh.h"

#include "cloud.h"

#define MAX_VMS 5
/* Requests in flight at once: the steps of one stage (rules, VMs, floating
 * IPs) fit, and an API server is not flooded. */
#define MAX_WORKERS 8
/* The period of the wait for ACTIVE and SSH: short, so that the run waits
 * for the cloud about as long as the cloud takes.  The configured retry
 * counts keep the original tool's total patience (2 s per API poll, 5 s
 * per SSH try). */
#define POLL_MS 500

/* One test VM: what we ask for, then what the cloud made of it. */
struct vm {
	char name[128];   /* <tag>-server, -client1, ... (vm_name_*) */
	const char *role; /* server or client */
	int net;          /* 0: first network, 1: second */
	int intra;        /* wanted on the server's host */
	char id[64];
	char ip[64];        /* fixed IP */
	char fip[64];       /* floating IP, or "" */
	char az[256];       /* zone:host, or the zone */
	char host_key[256]; /* host name (admin) or hostId: same host, same key
	                     */
	char fingerprint[128];
	char port[64];
	char fip_id[64];
	int fip_on; /* the floating IP is on the VM's port */
};

struct cloud;

/*
 * A step that may run beside others (run_tasks): FN(c, I, err) for VM,
 * network or rule I (steps of the whole run ignore I).
 */
struct task {
	int (*fn)(struct cloud *c, int i, struct vmtp_err *err);
	int i;
	int rc;
	struct vmtp_err err;
};

/* A thread running tasks, with a session (connection) of its own. */
struct worker {
	pthread_t thread;
	struct os_session *s; /* made once, kept for later stages */
	struct cloud *c;
};

/* What one provisioning run knows and has made. */
struct cloud {
	struct os_session *s;
	const struct cloud_opts *o;
	FILE *out;
	FILE *journal;
	json_t *made; /* resource records of what this run created */
	const char *tag;
	char ext_net[64];
	char image[64];
	char flavor[64];
	char keypair[128];
	char server_name[128]; /* the server VM's name */
	char client_name[117]; /* the client VMs' names, before 1, 2, ... */
	char key_path[4096];
	char known_hosts[4096];
	char sg_id[64];
	char sg_name[128];
	char net_id[2][64];
	char net_name[2][128];
	char subnet_id[2][64];
	char router[64];
	char encap[32]; /* the first network's provider:network_type (admin) */
	json_t *hosts;  /* ["zone:host", ...] of the compute hosts, maybe [] */
	struct vm vms[MAX_VMS];
	int nvm;
	int nets;         /* 1 or 2 */
	int sg_created;   /* the security group is this run's: add rules */
	json_t *defaults; /* the built-in configuration */
	/* guards the output, the journal, `made` and the stage below */
	pthread_mutex_t lock;
	struct worker workers[MAX_WORKERS];
	int running; /* workers started for the stage */
	struct task *stage;
	int stage_n, stage_next, stage_failed;
};

static int
cancelled(const struct cloud *c, struct vmtp_err *err)
{
	if (c->o->cancel != NULL && *c->o->cancel)
		return err_set(err, VMTP_EXIT_FAIL, "interrupted");
	return 0;
}

/*
 * The session of the calling thread: a worker's own, else the main one.
 * Workers read `running` and their thread ids only after taking the lock
 * that run_tasks() held while it started them.
 */
static struct os_session *
session(struct cloud *c)
{
	pthread_t self = pthread_self();
	int k;

	for (k = 0; k < c->running; k++)
		if (pthread_equal(c->workers[k].thread, self))
			return c->workers[k].s;
	return c->s;
}

/* The worker's loop: takes the stage's next task until none is left or
 * one has failed. */
static void *
work(void *arg)
{
	struct cloud *c = ((struct worker *)arg)->c;

	for (;;) {
		struct task *t = NULL;

		pthread_mutex_lock(&c->lock);
		if (!c->stage_failed && c->stage_next < c->stage_n)
			t = &c->stage[c->stage_next++];
		pthread_mutex_unlock(&c->lock);
		if (t == NULL)
			return NULL;
		t->rc = t->fn(c, t->i, &t->err);
		if (t->rc != 0) {
			pthread_mutex_lock(&c->lock);
			c->stage_failed = 1;
			pthread_mutex_unlock(&c->lock);
		}
	}
}

/*
 * Runs the N tasks of T side by side (at most MAX_WORKERS at once) and
 * waits for them all.  Once one fails no other starts; those already
 * running finish (what they made is remembered, for the rollback).
 * Returns 0, or -1 with ERR set to the first failed task's error.
 */
static int
run_tasks(struct cloud *c, struct task *t, int n, struct vmtp_err *err)
{
	int want = n < MAX_WORKERS ? n : MAX_WORKERS;
	int k, i;

	for (k = 0; k < want; k++)
		if (c->workers[k].s == NULL &&
		    (c->workers[k].s = os_session_clone(c->s, err)) == NULL)
			return -1;
	for (i = 0; i < n; i++) {
		t[i].rc = 0;
		err_clear(&t[i].err);
	}
	pthread_mutex_lock(&c->lock);
	c->stage = t;
	c->stage_n = n;
	c->stage_next = 0;
	c->stage_failed = 0;
	for (k = 0; k < want; k++) {
		c->workers[k].c = c;
		if (pthread_create(
		        &c->workers[k].thread, NULL, work, &c->workers[k]) != 0)
			break;
	}
	c->running = k;
	pthread_mutex_unlock(&c->lock);
	if (c->running == 0) {
		/* no thread to be had: the main thread does it all */
		c->workers[0].c = c;
		work(&c->workers[0]);
	}
	for (k = 0; k < c->running; k++)
		pthread_join(c->workers[k].thread, NULL);
	c->running = 0;
	c->stage = NULL;
	for (i = 0; i < n; i++)
		if (t[i].rc != 0)
			return err_set(err,
			    t[i].err.exit != VMTP_EXIT_OK ? t[i].err.exit
			                                  : VMTP_EXIT_FAIL,
			    "%s",
			    t[i].err.msg[0] != '\0' ? t[i].err.msg
			                            : "a step failed");
	return 0;
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

/*
 * Sends a request expecting a 2xx answer.  Returns its JSON (a new
 * reference) or NULL with ERR set to "cannot WHAT: STATUS: message".
 * BODY is stolen.
 */
static json_t *
call(struct cloud *c, const char *svc, const char *method, const char *path,
    json_t *body, const char *what, struct vmtp_err *err)
{
	struct vmtp_err e = VMTP_ERR_INIT;
	const char *const *hdrs =
	    strcmp(svc, "compute") == 0 ? res_nova_headers : NULL;
	json_t *reply = NULL;
	long st;

	st = os_request(session(c), svc, method, path, body, hdrs, &reply, &e);
	json_decref(body);
	if (st < 200 || st >= 300) {
		json_decref(reply);
		err_set(err, e.exit != VMTP_EXIT_OK ? e.exit : VMTP_EXIT_FAIL,
		    "cannot %s: %s", what, e.msg);
		return NULL;
	}
	return reply != NULL ? reply : json_null();
}

/*
 * Records a resource: a `resource` record to the output and, when this
 * run created it, to the journal (flushed) and the rollback list; logs
 * "VERB KIND NAME" unless VERB is NULL.
 */
static int
announce(struct cloud *c, const char *kind, const char *id, const char *name,
    int created, const char *parent, const char *verb, struct vmtp_err *err)
{
	json_t *rec = rec_new("resource", c->tag);
	int rc = -1;

	if (rec == NULL ||
	    json_object_set_new(rec, "kind", json_string(kind)) != 0 ||
	    json_object_set_new(rec, "id", json_string(id)) != 0 ||
	    json_object_set_new(rec, "name", json_string(name)) != 0 ||
	    json_object_set_new(rec, "created", json_boolean(created)) != 0 ||
	    (parent != NULL &&
	        json_object_set_new(rec, "parent", json_string(parent)) != 0)) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
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
out:
	json_decref(rec);
	return rc;
}

/* announce() with the usual words: "created" or "reusing". */
static int
remember(struct cloud *c, const char *kind, const char *id, const char *name,
    int created, const char *parent, struct vmtp_err *err)
{
	return announce(c, kind, id, name, created, parent,
	    created ? "created" : "reusing", err);
}

/*
 * Puts resource KIND ID on the rollback list alone, or (ON 0) takes it
 * off: for what the run must delete should it fail now, but not once a
 * step is done (an image being uploaded).  Nothing is written.  Returns 0,
 * or -1 with ERR set.
 */
static int
hold(struct cloud *c, const char *kind, const char *id, const char *name,
    int on, struct vmtp_err *err)
{
	json_t *rec = NULL;
	json_t *r;
	size_t i;
	int rc = 0;

	if (on) {
		rec = rec_new("resource", c->tag);
		if (rec == NULL ||
		    json_object_set_new(rec, "kind", json_string(kind)) != 0 ||
		    json_object_set_new(rec, "id", json_string(id)) != 0 ||
		    json_object_set_new(rec, "name", json_string(name)) != 0 ||
		    json_object_set_new(rec, "created", json_true()) != 0) {
			json_decref(rec);
			return err_set(err, VMTP_EXIT_FAIL, "out of memory");
		}
	}
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

/* Tags Neutron resource ID of COLLECTION with the run tag. */
static int
tag_neutron(
    struct cloud *c, const char *coll, const char *id, struct vmtp_err *err)
{
	char path[512];
	json_t *r;

	snprintf(path, sizeof(path), "/v2.0/%s/%s/tags/%s", coll, id, c->tag);
	r = call(c, "network", "PUT", path, NULL, "tag a resource", err);
	json_decref(r);
	return r != NULL ? 0 : -1;
}

/*
 * Creates a Neutron resource: POST /v2.0/COLL {KEY: ATTRS} with the name
 * and the run tag as description (so a crash before the tag still leaves
 * it findable), journals it, tags it.  ATTRS is stolen.  Writes the new id
 * into ID (64 bytes).  Returns the answer's object (new reference) or
 * NULL with ERR set.
 */
static json_t *
neutron_create(struct cloud *c, const char *coll, const char *key,
    const char *kind, const char *name, json_t *attrs, char *id,
    struct vmtp_err *err)
{
	char path[256];
	char what[256];
	json_t *reply;
	json_t *obj;

	if (attrs == NULL ||
	    json_object_set_new(attrs, "name", json_string(name)) != 0 ||
	    json_object_set_new(attrs, "description", json_string(c->tag))) {
		json_decref(attrs);
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	snprintf(path, sizeof(path), "/v2.0/%s", coll);
	snprintf(what, sizeof(what), "create %s %s", kind, name);
	reply = call(c, "network", "POST", path, json_pack("{s:o}", key, attrs),
	    what, err);
	obj = json_object_get(reply, key);
	if (reply == NULL || str(obj, "id") == NULL) {
		if (reply != NULL)
			err_set(err, VMTP_EXIT_FAIL, "cannot %s: no id", what);
		json_decref(reply);
		return NULL;
	}
	copy(id, 64, str(obj, "id"));
	json_incref(obj);
	json_decref(reply);
	if (remember(c, kind, id, name, 1, NULL, err) != 0 ||
	    tag_neutron(c, coll, id, err) != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/*
 * Finds the first item of Neutron COLL named NAME into *ITEM (a new
 * reference).  Returns 1 when found, 0 when not, -1 with ERR set.
 */
static int
neutron_find(struct cloud *c, const char *coll, const char *name, json_t **item,
    struct vmtp_err *err)
{
	char path[512];
	char key[64];
	char *q = http_escape(name);
	json_t *reply;
	size_t i;

	*item = NULL;
	if (q == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	snprintf(path, sizeof(path), "/v2.0/%s?name=%s", coll, q);
	free(q);
	/* the answer's key is the path's with '_' for '-' (security_groups) */
	copy(key, sizeof(key), coll);
	for (i = 0; key[i] != '\0'; i++)
		if (key[i] == '-')
			key[i] = '_';
	reply = call(c, "network", "GET", path, NULL, "list resources", err);
	if (reply == NULL)
		return -1;
	*item = json_incref(json_array_get(json_object_get(reply, key), 0));
	json_decref(reply);
	return *item != NULL;
}

/*
 * The name to use for a configured name KEY (index I of a list when I >=
 * 0): the user's own when it differs from the built-in default (then an
 * existing resource of that name is reused), else "<tag>-SUFFIX".
 * Returns 1 for a user's name, 0 for a run name.
 */
static int
pick_name(struct cloud *c, const char *key, int i, const char *suffix,
    char *out, size_t size)
{
	const json_t *v = cfg_get(c->o->cfg, key);
	const json_t *d = cfg_get(c->defaults, key);

	if (i >= 0) {
		v = json_array_get(v, (size_t)i);
		d = json_array_get(d, (size_t)i);
	}
	if (json_is_string(v) && json_string_length(v) > 0 &&
	    !json_equal(v, d)) {
		copy(out, size, json_string_value(v));
		return 1;
	}
	snprintf(out, size, "%s-%s", c->tag, suffix);
	return 0;
}

/*
 * The name of something made for the run alone (a VM, the key pair):
 * "<tag>-NAME" when the user set config KEY to NAME (it differs from the
 * built-in default), else "<tag>-SUFFIX".  The run tag keeps parallel
 * runs apart and lets vmtp-cleanup find by name what has no tags.
 * Returns 0, or -1 with ERR set when the name does not fit in SIZE.
 */
static int
run_name(struct cloud *c, const char *key, const char *suffix, char *out,
    size_t size, struct vmtp_err *err)
{
	const json_t *v = cfg_get(c->o->cfg, key);
	const char *name = suffix;

	if (json_is_string(v) && json_string_length(v) > 0 &&
	    !json_equal(v, cfg_get(c->defaults, key)))
		name = json_string_value(v);
	if ((size_t)snprintf(out, size, "%s-%s", c->tag, name) >= size)
		return err_set(err, VMTP_EXIT_DATA,
		    "%s: '%s' is longer than %zu characters", key, name,
		    size - strlen(c->tag) - 2);
	return 0;
}

/* The external network: the one named by ext_net_name, else the first. */
static int
find_external(struct cloud *c, int unused, struct vmtp_err *err)
{
	const char *want = cfg_str(c->o->cfg, "ext_net_name");
	json_t *reply;
	json_t *n;
	size_t i;

	(void)unused;
	reply = call(c, "network", "GET", "/v2.0/networks?router:external=true",
	    NULL, "list external networks", err);
	if (reply == NULL)
		return -1;
	json_array_foreach (json_object_get(reply, "networks"), i, n) {
		if (want == NULL || strcmp(want, str(n, "name")) == 0 ||
		    strcmp(want, str(n, "id")) == 0) {
			copy(c->ext_net, sizeof(c->ext_net), str(n, "id"));
			break;
		}
	}
	json_decref(reply);
	if (c->ext_net[0] == '\0')
		return err_set(err, VMTP_EXIT_FAIL,
		    want != NULL
		        ? "external network '%s' not found"
		        : "no external network (router:external) found%s",
		    want != NULL ? want : "");
	return 0;
}

/*
 * Waits until image ID, whose data was just sent, is active (Glance may
 * still be saving it): at most the configured API polls, 1 s apart.
 */
static int
wait_image(struct cloud *c, const char *id, struct vmtp_err *err)
{
	int tries = c->o->poll_attempts > 0 ? c->o->poll_attempts : 50;
	char path[128];

	snprintf(path, sizeof(path), "/v2/images/%s", id);
	for (;;) {
		json_t *img = call(c, "image", "GET", path, NULL,
		    "read the uploaded image", err);
		const char *st;
		int busy;

		if (img == NULL)
			return -1;
		st = str(img, "status");
		busy = st != NULL && (strcmp(st, "queued") == 0 ||
		                         strcmp(st, "saving") == 0 ||
		                         strcmp(st, "importing") == 0);
		if (st != NULL && strcmp(st, "active") == 0) {
			json_decref(img);
			return 0;
		}
		if (!busy || --tries <= 0) {
			err_set(err, VMTP_EXIT_FAIL,
			    "uploaded image %s is %s, not active", id,
			    st != NULL ? st : "of no status");
			json_decref(img);
			return -1;
		}
		json_decref(img);
		if (cancelled(c, err) != 0)
			return -1;
		sleep(1);
	}
}

/*
 * Uploads vm_image_url as image NAME, which Glance lacks.  The image is
 * made first, with the run tag, then its data downloaded and sent: until
 * it is active, a failure rolls it back and a killed run leaves it to
 * vmtp-cleanup --tag.  Then, as the original tool did, it is kept for the
 * next runs (found again by name): untagged and announced with "created"
 * false, so that no cleanup deletes it.  With --delete-image-after-run it
 * is the run's, journalled from the start, and goes with the run.
 */
static int
upload_image(
    struct cloud *c, const char *name, const char *url, struct vmtp_err *err)
{
	const char *fmt = strstr(url, ".raw") != NULL ? "raw" : "qcow2";
	int keep = !c->o->delete_image;
	char path[256];
	json_t *reply;
	FILE *tmp = NULL;
	long long size;
	long st;
	int rc = -1;

	tmp = tmpfile();
	if (tmp == NULL)
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot make a temporary file: %s", strerror(errno));
	log_info("image %s not found: uploading %s", name, url);
	reply = call(c, "image", "POST", "/v2/images",
	    json_pack("{s:s, s:s, s:s, s:[s], s:s}", "name", name,
	        "disk_format", fmt, "container_format", "bare", "tags", c->tag,
	        "visibility", "private"),
	    "create image", err);
	if (reply == NULL)
		goto out;
	copy(c->image, sizeof(c->image), str(reply, "id"));
	json_decref(reply);
	if (keep ? hold(c, "image", c->image, name, 1, err)
	         : remember(c, "image", c->image, name, 1, NULL, err))
		goto out;
	if (http_download(os_http(session(c)), url, tmp, err) != 0)
		goto out;
	size = ftell(tmp);
	rewind(tmp);
	snprintf(path, sizeof(path), "/v2/images/%s/file", c->image);
	st = os_upload(session(c), "image", "PUT", path, tmp, size, err);
	if (st < 200 || st >= 300 || wait_image(c, c->image, err) != 0)
		goto out;
	if (keep) {
		snprintf(path, sizeof(path), "/v2/images/%s/tags/%s", c->image,
		    c->tag);
		reply = call(c, "image", "DELETE", path, NULL,
		    "untag the uploaded image", err);
		if (reply == NULL)
			goto out;
		json_decref(reply);
		if (hold(c, "image", c->image, name, 0, err) != 0 ||
		    announce(c, "image", c->image, name, 0, NULL, NULL, err) !=
		        0)
			goto out;
		log_info("uploaded image %s, kept for later runs "
		         "(--delete-image-after-run deletes it)",
		    name);
	}
	rc = 0;
out:
	fclose(tmp);
	return rc;
}

/* The image image_name, active; uploaded from vm_image_url if missing. */
static int
find_image(struct cloud *c, int unused, struct vmtp_err *err)
{
	const char *name = cfg_str(c->o->cfg, "image_name");
	const char *url = cfg_str(c->o->cfg, "vm_image_url");
	char path[512];
	char *q;
	json_t *reply;

	(void)unused;
	if (name == NULL)
		return err_set(err, VMTP_EXIT_USAGE, "image_name is not set");
	q = http_escape(name);
	if (q == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	/* active only: an upload of another run may be under way */
	snprintf(path, sizeof(path), "/v2/images?name=%s&status=active", q);
	free(q);
	reply = call(c, "image", "GET", path, NULL, "list images", err);
	if (reply == NULL)
		return -1;
	copy(c->image, sizeof(c->image),
	    str(json_array_get(json_object_get(reply, "images"), 0), "id"));
	json_decref(reply);
	if (c->image[0] != '\0')
		return 0;
	if (url == NULL)
		return err_set(err, VMTP_EXIT_FAIL,
		    "image '%s' not found, and vm_image_url is not set", name);
	return upload_image(c, name, url, err);
}

/* The flavor flavor_type, else a temporary one sized by `flavor`. */
static int
find_flavor(struct cloud *c, int unused, struct vmtp_err *err)
{
	const char *want = cfg_str(c->o->cfg, "flavor_type");
	const json_t *spec = cfg_get(c->o->cfg, "flavor");
	json_t *reply;
	json_t *f;
	char name[128];
	char what[192];
	size_t i;

	(void)unused;
	reply = call(c, "compute", "GET", "/flavors/detail?limit=1000", NULL,
	    "list flavors", err);
	if (reply == NULL)
		return -1;
	json_array_foreach (json_object_get(reply, "flavors"), i, f)
		if (want != NULL && strcmp(want, str(f, "name")) == 0)
			copy(c->flavor, sizeof(c->flavor), str(f, "id"));
	json_decref(reply);
	if (c->flavor[0] != '\0')
		return 0;
	snprintf(name, sizeof(name), "%s-flavor", c->tag);
	snprintf(what, sizeof(what), "create flavor %s (flavor '%s' not found)",
	    name, want != NULL ? want : "");
	reply = call(c, "compute", "POST", "/flavors",
	    json_pack("{s:{s:s, s:I, s:I, s:I}}", "flavor", "name", name, "ram",
	        json_integer_value(json_object_get(spec, "ram")), "vcpus",
	        json_integer_value(json_object_get(spec, "vcpus")), "disk",
	        json_integer_value(json_object_get(spec, "disk"))),
	    what, err);
	if (reply == NULL)
		return -1;
	copy(c->flavor, sizeof(c->flavor),
	    str(json_object_get(reply, "flavor"), "id"));
	json_decref(reply);
	if (remember(c, "flavor", c->flavor, name, 1, NULL, err) != 0)
		return -1;
	if (json_object_size(json_object_get(spec, "extra_specs")) > 0) {
		char path[256];

		snprintf(path, sizeof(path), "/flavors/%s/os-extra_specs",
		    c->flavor);
		reply = call(c, "compute", "POST", path,
		    json_pack("{s:O}", "extra_specs",
		        json_object_get(spec, "extra_specs")),
		    "set the flavor's extra specs", err);
		if (reply == NULL)
			return -1;
		json_decref(reply);
	}
	return 0;
}

/*
 * The compute hosts as "zone:host", from the admin-only zone detail; an
 * empty list when the user may not see hosts (then only the zone is used
 * and VMs are placed by the scheduler).
 */
static int
find_hosts(struct cloud *c, int unused, struct vmtp_err *err)
{
	const char *zone = c->o->az != NULL
	                       ? c->o->az
	                       : cfg_str(c->o->cfg, "availability_zone");
	struct vmtp_err e = VMTP_ERR_INIT;
	json_t *reply = NULL;
	json_t *z;
	size_t i;
	long st;

	(void)unused;
	c->hosts = json_array();
	if (c->hosts == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	st = os_request(session(c), "compute", "GET",
	    "/os-availability-zone/detail", NULL, res_nova_headers, &reply, &e);
	if (st == 403) {
		log_info("not an admin: compute hosts unknown, placement left "
		         "to the scheduler");
		json_decref(reply);
		return 0;
	}
	if (st < 200 || st >= 300) {
		json_decref(reply);
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot list availability zones: %s", e.msg);
	}
	json_array_foreach (
	    json_object_get(reply, "availabilityZoneInfo"), i, z) {
		const char *zn = str(z, "zoneName");
		const char *host;
		json_t *svcs;

		if (zn == NULL || (zone != NULL && strcmp(zone, zn) != 0))
			continue;
		json_object_foreach (json_object_get(z, "hosts"), host, svcs) {
			char zh[512];

			if (json_object_get(svcs, "nova-compute") == NULL)
				continue;
			snprintf(zh, sizeof(zh), "%s:%s", zn, host);
			if (json_array_append_new(c->hosts, json_string(zh)))
				return err_set(
				    err, VMTP_EXIT_FAIL, "out of memory");
		}
	}
	json_decref(reply);
	if (json_array_size(c->hosts) == 0)
		return err_set(err, VMTP_EXIT_FAIL, "no compute host found%s%s",
		    zone != NULL ? " in zone " : "", zone != NULL ? zone : "");
	return 0;
}

/* Runs ssh-keygen for a fresh ed25519 key pair at PATH (no passphrase). */
static int
keygen(const char *path, const char *comment, struct vmtp_err *err)
{
	char *argv[] = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
	    (char *)comment, "-f", (char *)path, NULL};
	struct proc_cmd cmd = {argv, "openssh-client", NULL, 0, 60};
	struct proc_out out;
	int rc = proc_run(&cmd, &out, err);

	proc_out_clear(&out);
	return rc;
}

/* Reads the first line of PATH into a new string; NULL with ERR set. */
static char *
read_line(const char *path, struct vmtp_err *err)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (fp == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "cannot open %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	n = getline(&line, &cap, fp);
	fclose(fp);
	if (n <= 0) {
		free(line);
		err_set(err, VMTP_EXIT_FAIL, "%s is empty", path);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/*
 * The key pair: the configured public/private key files, else a fresh
 * ed25519 pair in the state folder (private key mode 0600).
 */
static int
make_keypair(struct cloud *c, int unused, struct vmtp_err *err)
{
	const char *pub_file = cfg_str(c->o->cfg, "public_key_file");
	const char *priv_file = cfg_str(c->o->cfg, "private_key_file");
	char *dir = NULL;
	char pub_path[4200];
	char *pub = NULL;
	json_t *reply;
	int rc = -1;

	(void)unused;
	if (pub_file != NULL && priv_file != NULL) {
		copy(c->key_path, sizeof(c->key_path), priv_file);
		copy(pub_path, sizeof(pub_path), pub_file);
	} else {
		dir = journal_dir(err);
		if (dir == NULL)
			goto out;
		snprintf(
		    c->key_path, sizeof(c->key_path), "%s/%s.key", dir, c->tag);
		snprintf(pub_path, sizeof(pub_path), "%s.pub", c->key_path);
		/* a tag given again (--tag) starts with a fresh key */
		unlink(c->key_path);
		unlink(pub_path);
		if (keygen(c->key_path, c->tag, err) != 0)
			goto out;
	}
	pub = read_line(pub_path, err);
	if (pub == NULL)
		goto out;
	reply = call(c, "compute", "POST", "/os-keypairs",
	    json_pack("{s:{s:s, s:s, s:s}}", "keypair", "name", c->keypair,
	        "public_key", pub, "type", "ssh"),
	    "create key pair", err);
	if (reply == NULL)
		goto out;
	json_decref(reply);
	rc = remember(c, "keypair", c->keypair, c->keypair, 1, NULL, err);
out:
	free(pub);
	free(dir);
	return rc;
}

/* The security group's rules: SSH, the tools' servers of libvmtp/ports.h,
 * ICMP. */
static const struct {
	const char *proto;
	int min, max;
} sg_rules[] = {{"tcp", 22, 22},
    {"tcp", VMTP_NUTTCP_PORT, VMTP_NUTTCP_DATA_PORT},
    {"udp", VMTP_NUTTCP_DATA_PORT, VMTP_NUTTCP_DATA_PORT},
    {"tcp", VMTP_IPERF3_PORT, VMTP_IPERF3_PORT},
    {"udp", VMTP_IPERF3_PORT, VMTP_IPERF3_PORT}, {"icmp", 0, 0}};

#define N_SG_RULES ((int)(sizeof(sg_rules) / sizeof(sg_rules[0])))

/* The security group: the configured one reused, else created (its rules
 * come from make_rule(), while the VMs boot). */
static int
make_secgroup(struct cloud *c, int unused, struct vmtp_err *err)
{
	json_t *sg = NULL;
	int own = pick_name(
	    c, "security_group_name", -1, "sg", c->sg_name, sizeof(c->sg_name));

	(void)unused;
	if (own) {
		int found =
		    neutron_find(c, "security-groups", c->sg_name, &sg, err);

		if (found < 0)
			return -1;
		if (found) {
			copy(c->sg_id, sizeof(c->sg_id), str(sg, "id"));
			json_decref(sg);
			return remember(c, "security_group", c->sg_id,
			    c->sg_name, 0, NULL, err);
		}
	}
	sg = neutron_create(c, "security-groups", "security_group",
	    "security_group", c->sg_name, json_object(), c->sg_id, err);
	if (sg == NULL)
		return -1;
	json_decref(sg);
	c->sg_created = 1;
	return 0;
}

/* Rule I of sg_rules in this run's security group. */
static int
make_rule(struct cloud *c, int i, struct vmtp_err *err)
{
	json_t *r = json_pack("{s:s, s:s, s:s, s:s}", "security_group_id",
	    c->sg_id, "direction", "ingress", "ethertype", "IPv4", "protocol",
	    sg_rules[i].proto);
	json_t *reply;
	char what[128];
	int rc;

	if (r != NULL && sg_rules[i].min > 0 &&
	    (json_object_set_new(
	         r, "port_range_min", json_integer(sg_rules[i].min)) != 0 ||
	        json_object_set_new(
	            r, "port_range_max", json_integer(sg_rules[i].max)) != 0)) {
		json_decref(r);
		r = NULL;
	}
	if (r == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	if (sg_rules[i].min == 0)
		snprintf(what, sizeof(what), "allow %s", sg_rules[i].proto);
	else
		snprintf(what, sizeof(what), "allow %s %d-%d",
		    sg_rules[i].proto, sg_rules[i].min, sg_rules[i].max);
	reply = call(c, "network", "POST", "/v2.0/security-group-rules",
	    json_pack("{s:o}", "security_group_rule", r), what, err);
	if (reply == NULL)
		return -1;
	rc = remember(c, "security_group_rule",
	    str(json_object_get(reply, "security_group_rule"), "id"), what, 1,
	    c->sg_id, err);
	json_decref(reply);
	return rc;
}

/* Network I and its subnet: the configured ones reused, else created. */
static int
make_network(struct cloud *c, int i, struct vmtp_err *err)
{
	char suffix[32];
	char sub_name[128];
	json_t *dns = cfg_get(c->o->cfg, "dns_nameservers");
	const json_t *cidr =
	    json_array_get(cfg_get(c->o->cfg, "internal_cidr"), (size_t)i);
	json_t *item = NULL;
	json_t *attrs;
	int found = 0;

	snprintf(suffix, sizeof(suffix), "net%d", i + 1);
	if (pick_name(c, "internal_network_name", i, suffix, c->net_name[i],
	        sizeof(c->net_name[i])) &&
	    (found = neutron_find(c, "networks", c->net_name[i], &item, err)) <
	        0)
		return -1;
	if (found) {
		copy(c->net_id[i], sizeof(c->net_id[i]), str(item, "id"));
		if (i == 0)
			copy(c->encap, sizeof(c->encap),
			    str(item, "provider:network_type"));
		copy(c->subnet_id[i], sizeof(c->subnet_id[i]),
		    json_string_value(
		        json_array_get(json_object_get(item, "subnets"), 0)));
		json_decref(item);
		if (c->subnet_id[i][0] == '\0')
			return err_set(err, VMTP_EXIT_FAIL,
			    "network %s has no subnet", c->net_name[i]);
		return remember(
		    c, "network", c->net_id[i], c->net_name[i], 0, NULL, err);
	}
	item =
	    neutron_create(c, "networks", "network", "network", c->net_name[i],
	        json_pack("{s:b}", "admin_state_up", 1), c->net_id[i], err);
	if (item == NULL)
		return -1;
	if (i == 0)
		copy(c->encap, sizeof(c->encap),
		    str(item, "provider:network_type"));
	json_decref(item);
	if (!json_is_string(cidr))
		return err_set(err, VMTP_EXIT_USAGE,
		    "internal_cidr has no entry %d", i + 1);
	snprintf(suffix, sizeof(suffix), "subnet%d", i + 1);
	pick_name(
	    c, "internal_subnet_name", i, suffix, sub_name, sizeof(sub_name));
	/* copies: steps on other threads read the configuration too, and a
	 * reference count is not to be shared between them; "o" steals the
	 * list, also when json_pack fails */
	dns = dns != NULL ? json_deep_copy(dns) : json_array();
	attrs = json_pack("{s:s, s:i, s:s, s:o}", "network_id", c->net_id[i],
	    "ip_version", 4, "cidr", json_string_value(cidr), "dns_nameservers",
	    dns);
	item = neutron_create(c, "subnets", "subnet", "subnet", sub_name, attrs,
	    c->subnet_id[i], err);
	json_decref(item);
	return item != NULL ? 0 : -1;
}

/* The router: gateway on the external network, a leg on each subnet. */
static int
make_router(struct cloud *c, int unused, struct vmtp_err *err)
{
	char name[128];
	json_t *item = NULL;
	int created = 1;
	int i;

	(void)unused;
	if (pick_name(c, "router_name", -1, "router", name, sizeof(name))) {
		int found = neutron_find(c, "routers", name, &item, err);

		if (found < 0)
			return -1;
		if (found) {
			created = 0;
			copy(c->router, sizeof(c->router), str(item, "id"));
			json_decref(item);
			if (remember(c, "router", c->router, name, 0, NULL,
			        err) != 0)
				return -1;
		}
	}
	if (created) {
		item = neutron_create(c, "routers", "router", "router", name,
		    json_pack("{s:{s:s}}", "external_gateway_info",
		        "network_id", c->ext_net),
		    c->router, err);
		if (item == NULL)
			return -1;
		json_decref(item);
	}
	for (i = 0; i < c->nets; i++) {
		char path[256];
		char what[256];
		json_t *reply;

		snprintf(path, sizeof(path),
		    "/v2.0/routers/%s/add_router_interface", c->router);
		snprintf(what, sizeof(what), "attach %s to router %s",
		    c->net_name[i], name);
		reply = call(c, "network", "PUT", path,
		    json_pack("{s:s}", "subnet_id", c->subnet_id[i]), what,
		    err);
		if (reply == NULL) {
			/* a reused router may have the leg already */
			if (!created && strstr(err->msg, "409") != NULL) {
				err_clear(err);
				continue;
			}
			return -1;
		}
		if (remember(c, "router_interface", str(reply, "port_id"),
		        c->net_name[i], 1, c->router, err) != 0) {
			json_decref(reply);
			return -1;
		}
		json_decref(reply);
	}
	return 0;
}

/*
 * The VMs of the topology: the server on the first network, and clients
 * on each network on the server's host (intra) and on another (inter).
 */
static void
plan_vms(struct cloud *c)
{
	int net, intra, n = 0;

	copy(c->vms[0].name, sizeof(c->vms[0].name), c->server_name);
	c->vms[0].role = "server";
	c->vms[0].intra = 1;
	n = 1;
	for (intra = 1; intra >= 0; intra--) {
		if (intra && c->o->inter_node_only)
			continue;
		/* without a second host there is no inter-node placement,
		 * unless the scheduler decides (hosts unknown) */
		if (!intra && json_array_size(c->hosts) == 1)
			continue;
		for (net = 0; net < c->nets; net++) {
			struct vm *v = &c->vms[n];

			snprintf(v->name, sizeof(v->name), "%s%d",
			    c->client_name, n);
			v->role = "client";
			v->net = net;
			v->intra = intra;
			n++;
		}
	}
	c->nvm = n;
}

/* "zone:host" for V: --hypervisor, else the hosts found, else the zone. */
static json_t *
placement(struct cloud *c, const struct vm *v)
{
	const char *zone = c->o->az != NULL
	                       ? c->o->az
	                       : cfg_str(c->o->cfg, "availability_zone");
	const char *want = c->o->hyper[v->intra ? 0 : 1];
	size_t nh = json_array_size(c->hosts);
	char buf[512];

	if (want == NULL && v->intra)
		want = c->o->hyper[0];
	if (want != NULL) {
		if (strchr(want, ':') != NULL || zone == NULL)
			snprintf(buf, sizeof(buf), "%s%s",
			    strchr(want, ':') ? "" : "nova:", want);
		else
			snprintf(buf, sizeof(buf), "%s:%s", zone, want);
		return json_string(buf);
	}
	if (nh > 0)
		/* a copy: VMs boot on several threads (see make_network) */
		return json_deep_copy(
		    json_array_get(c->hosts, v->intra ? 0 : 1));
	return zone != NULL ? json_string(zone) : NULL;
}

/* Boots VM I (all are booted side by side); it is journalled as soon as
 * it exists. */
static int
boot_vm(struct cloud *c, int i, struct vmtp_err *err)
{
	const char *vnic = c->o->vnic_type;
	struct vm *v = &c->vms[i];
	json_t *server;
	json_t *where;
	json_t *net;
	json_t *reply;
	char what[192];

	if (cancelled(c, err) != 0)
		return -1;
	if (vnic != NULL && strcmp(vnic, "normal") != 0) {
		char port_name[sizeof(v->name) + 8];
		json_t *p;

		snprintf(port_name, sizeof(port_name), "%s-port", v->name);
		p = neutron_create(c, "ports", "port", "port", port_name,
		    json_pack("{s:s, s:s, s:[s]}", "network_id",
		        c->net_id[v->net], "binding:vnic_type", vnic,
		        "security_groups", c->sg_id),
		    v->port, err);
		if (p == NULL)
			return -1;
		json_decref(p);
		net = json_pack("[{s:s}]", "port", v->port);
	} else {
		net = json_pack("[{s:s}]", "uuid", c->net_id[v->net]);
	}
	server = json_pack("{s:s, s:s, s:s, s:s, s:o, s:[{s:s}], s:[s], "
	                   "s:{s:s}}",
	    "name", v->name, "imageRef", c->image, "flavorRef", c->flavor,
	    "key_name", c->keypair, "networks", net, "security_groups", "name",
	    c->sg_name, "tags", c->tag, "metadata", "vmtp_run", c->tag);
	where = placement(c, v);
	/* json_object_set_new steals WHERE, also on failure */
	if (where != NULL &&
	    (server == NULL ||
	        json_object_set_new(server, "availability_zone", where) != 0)) {
		if (server == NULL)
			json_decref(where);
		json_decref(server);
		server = NULL;
	}
	snprintf(what, sizeof(what), "create server %s", v->name);
	reply = call(c, "compute", "POST", "/servers",
	    json_pack("{s:o}", "server", server), what, err);
	if (reply == NULL)
		return -1;
	copy(v->id, sizeof(v->id), str(json_object_get(reply, "server"), "id"));
	json_decref(reply);
	if (v->id[0] == '\0')
		return err_set(err, VMTP_EXIT_FAIL, "cannot %s: no id", what);
	return remember(c, "server", v->id, v->name, 1, NULL, err);
}

/*
 * A floating IP for VM I, tagged: on the VM's port when the port is known
 * (and the router made), else without one, for fip_attach() to place
 * once the port exists.
 */
static int
make_fip(struct cloud *c, int i, struct vmtp_err *err)
{
	struct vm *v = &c->vms[i];
	json_t *fip = json_pack("{s:s, s:s}", "floating_network_id", c->ext_net,
	    "description", c->tag);
	json_t *reply;

	if (cancelled(c, err) != 0) {
		json_decref(fip);
		return -1;
	}
	if (fip != NULL && v->port[0] != '\0' &&
	    json_object_set_new(fip, "port_id", json_string(v->port)) != 0)
		fip = NULL;
	reply = call(c, "network", "POST", "/v2.0/floatingips",
	    json_pack("{s:o}", "floatingip", fip), "create a floating IP", err);
	if (reply == NULL)
		return -1;
	fip = json_object_get(reply, "floatingip");
	copy(v->fip_id, sizeof(v->fip_id), str(fip, "id"));
	copy(v->fip, sizeof(v->fip), str(fip, "floating_ip_address"));
	json_decref(reply);
	if (v->fip_id[0] == '\0' || v->fip[0] == '\0')
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot create a floating IP: no id or address");
	if (remember(c, "floatingip", v->fip_id, v->fip, 1, NULL, err) != 0)
		return -1;
	v->fip_on = v->port[0] != '\0';
	return tag_neutron(c, "floatingips", v->fip_id, err);
}

/* Puts VM I's floating IP on its port. */
static int
fip_attach(struct cloud *c, int i, struct vmtp_err *err)
{
	struct vm *v = &c->vms[i];
	char path[256];
	char what[192];
	json_t *reply;

	snprintf(path, sizeof(path), "/v2.0/floatingips/%s", v->fip_id);
	snprintf(what, sizeof(what), "give %s floating IP %s", v->name, v->fip);
	reply = call(c, "network", "PUT", path,
	    json_pack("{s:{s:s}}", "floatingip", "port_id", v->port), what,
	    err);
	if (reply == NULL)
		return -1;
	json_decref(reply);
	v->fip_on = 1;
	log_info("%s has floating IP %s", v->name, v->fip);
	return 0;
}

/*
 * Learns the ports of the VMs that have none known yet, in one list call
 * (Nova makes a VM's port while it builds it).
 */
static int
find_ports(struct cloud *c, int unused, struct vmtp_err *err)
{
	char path[1024];
	size_t len;
	json_t *reply;
	json_t *p;
	size_t k;
	int i, n = 0;

	(void)unused;
	len = (size_t)snprintf(path, sizeof(path),
	    "/v2.0/ports?fields=id"
	    "&fields=device_id");
	for (i = 0; i < c->nvm; i++) {
		if (c->vms[i].port[0] != '\0')
			continue;
		len += (size_t)snprintf(path + len, sizeof(path) - len,
		    "&device_id=%s", c->vms[i].id);
		n++;
	}
	if (n == 0)
		return 0;
	if (len >= sizeof(path))
		return err_set(err, VMTP_EXIT_FAIL, "server ids too long");
	reply = call(c, "network", "GET", path, NULL,
	    "list the test servers' ports", err);
	if (reply == NULL)
		return -1;
	json_array_foreach (json_object_get(reply, "ports"), k, p) {
		const char *dev = str(p, "device_id");

		for (i = 0; i < c->nvm; i++)
			if (dev != NULL && c->vms[i].port[0] == '\0' &&
			    strcmp(dev, c->vms[i].id) == 0)
				copy(c->vms[i].port, sizeof(c->vms[i].port),
				    str(p, "id"));
	}
	json_decref(reply);
	return 0;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Fills V from its server detail S (addresses, zone, host). */
static void
vm_read(struct cloud *c, struct vm *v, const json_t *s)
{
	const char *zone = str(s, "OS-EXT-AZ:availability_zone");
	const char *host = str(s, "OS-EXT-SRV-ATTR:host");
	const char *hostid = str(s, "hostId");
	json_t *addrs = json_object_get(
	    json_object_get(s, "addresses"), c->net_name[v->net]);
	json_t *a;
	size_t i;

	json_array_foreach (addrs, i, a) {
		const char *type = str(a, "OS-EXT-IPS:type");

		if (json_integer_value(json_object_get(a, "version")) == 4 &&
		    (type == NULL || strcmp(type, "fixed") == 0)) {
			copy(v->ip, sizeof(v->ip), str(a, "addr"));
			break;
		}
	}
	if (host != NULL)
		snprintf(v->az, sizeof(v->az), "%.120s:%.120s",
		    zone != NULL ? zone : "", host);
	else
		copy(v->az, sizeof(v->az), zone);
	/* hostId is the same for two servers of a project on one host: it
	 * tells intra from inter when host names are admin-only */
	copy(v->host_key, sizeof(v->host_key), host != NULL ? host : hostid);
}

/*
 * Probes TCP port 22 of every VM in PENDING at once (non-blocking
 * connects, one poll() of at most WAIT_MS): READY[i] is set for those that
 * accept.  A failed socket call leaves a VM not ready.
 */
static void
probe_ssh_ports(struct cloud *c, const int *pending, int *ready, int wait_ms)
{
	struct pollfd fds[MAX_VMS];
	int idx[MAX_VMS];
	int n = 0, i;

	for (i = 0; i < c->nvm; i++) {
		const struct vm *v = &c->vms[i];
		struct sockaddr_in sa;
		int fd;

		ready[i] = 0;
		if (!pending[i])
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons(22);
		if (inet_pton(AF_INET, v->fip[0] != '\0' ? v->fip : v->ip,
		        &sa.sin_addr) != 1)
			continue;
		fd = socket(
		    AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			ready[i] = 1;
			close(fd);
			continue;
		}
		if (errno != EINPROGRESS) {
			close(fd);
			continue;
		}
		fds[n].fd = fd;
		fds[n].events = POLLOUT;
		idx[n++] = i;
	}
	if (n > 0) {
		struct timespec t0, t1;
		int left = wait_ms;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (left > 0 && poll(fds, (nfds_t)n, left) < 0 &&
		       errno == EINTR) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			left = wait_ms -
			       (int)((t1.tv_sec - t0.tv_sec) * 1000 +
			             (t1.tv_nsec - t0.tv_nsec) / 1000000);
		}
	}
	for (i = 0; i < n; i++) {
		int so_err = 1;
		socklen_t len = sizeof(so_err);

		if ((fds[i].revents & POLLOUT) != 0 &&
		    getsockopt(
		        fds[i].fd, SOL_SOCKET, SO_ERROR, &so_err, &len) == 0 &&
		    so_err == 0)
			ready[idx[i]] = 1;
		close(fds[i].fd);
	}
}

/* Milliseconds since T0. */
static long
since_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * One poll of the VMs' state (one filtered list call): fills what became
 * ACTIVE (ACTIVE_AT[i], ms since T0) and decrements *LEFT for each.
 * Returns 0, or -1 with ERR set when the call fails or a VM is in ERROR.
 */
static int
poll_servers(struct cloud *c, const struct timespec *t0, long *active_at,
    int *left, struct vmtp_err *err)
{
	char path[256];
	json_t *reply;
	json_t *s;
	size_t k;
	int i;

	snprintf(path, sizeof(path), "/servers/detail?tags=%s", c->tag);
	reply =
	    call(c, "compute", "GET", path, NULL, "list the test servers", err);
	if (reply == NULL)
		return -1;
	for (i = 0; i < c->nvm; i++) {
		const char *st = NULL;
		json_t *fault = NULL;

		if (active_at[i] >= 0)
			continue;
		json_array_foreach (json_object_get(reply, "servers"), k, s)
			if (strcmp(str(s, "id"), c->vms[i].id) == 0) {
				st = str(s, "status");
				fault = json_object_get(s, "fault");
				break;
			}
		if (st != NULL && strcmp(st, "ERROR") == 0) {
			err_set(err, VMTP_EXIT_FAIL,
			    "server %s went into ERROR: %s", c->vms[i].name,
			    str(fault, "message") != NULL
			        ? str(fault, "message")
			        : "no fault given");
			json_decref(reply);
			return -1;
		}
		if (st != NULL && strcmp(st, "ACTIVE") == 0) {
			vm_read(c, &c->vms[i], s);
			active_at[i] = since_ms(t0);
			(*left)--;
		}
	}
	json_decref(reply);
	return 0;
}

/*
 * Logs in to VM V at its floating (else fixed) IP, recording the host key
 * seen first (trust on first use; vmtp-run checks it later).  Returns 0,
 * or -1 with ERR set.
 */
static int
ssh_login(struct cloud *c, struct vm *v, struct vmtp_err *err)
{
	struct ssh_opts so = {0};
	struct ssh_conn *conn;

	so.host = v->fip[0] != '\0' ? v->fip : v->ip;
	so.user = cfg_str(c->o->cfg, "ssh_vm_username");
	so.key = c->key_path;
	so.known_hosts = c->known_hosts;
	so.policy = SSH_HOSTKEY_ACCEPT_NEW;
	so.timeout_ms = 10000;
	so.attempts = 1;
	so.cancel = c->o->cancel;
	conn = ssh_open(&so, err);
	if (conn == NULL)
		return -1;
	copy(v->fingerprint, sizeof(v->fingerprint), ssh_fingerprint(conn));
	ssh_close(conn);
	log_info("%s answers SSH at %s (%s)", v->name, so.host, v->fingerprint);
	return 0;
}

/*
 * Waits until every VM is ACTIVE, has its floating IP and answers SSH, in
 * rounds of POLL_MS: one filtered list call while some VM builds; one port
 * list call while ports are unknown, each floating IP placed as soon as
 * its port exists (side by side); then port 22 of every VM that is ready
 * for it probed at once, and a login to those that accept.  A VM is
 * logged in to as soon as it is ACTIVE, not when all are.  Patience, as
 * the original tool's: generic_retry_count x 2 s for all to be ACTIVE,
 * then ssh_retry_count x 5 s for each to answer SSH.
 */
static int
wait_ready(struct cloud *c, struct vmtp_err *err)
{
	long boot_ms =
	    (c->o->poll_attempts > 0 ? c->o->poll_attempts : 50) * 2000L;
	long ssh_ms =
	    (c->o->ssh_attempts > 0 ? c->o->ssh_attempts : 50) * 5000L;
	struct vmtp_err last = VMTP_ERR_INIT;
	struct timespec t0;
	long active_at[MAX_VMS];
	int answered[MAX_VMS];
	int pending[MAX_VMS];
	int ready[MAX_VMS];
	int i, left = c->nvm, bare = 0, waiting = c->nvm;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < c->nvm; i++) {
		active_at[i] = -1;
		answered[i] = 0;
		bare += c->vms[i].fip_id[0] != '\0' && !c->vms[i].fip_on;
	}
	while (waiting > 0) {
		long round = since_ms(&t0);
		struct task tasks[MAX_VMS];
		int n = 0;

		if (cancelled(c, err) != 0)
			return -1;
		if (left > 0 &&
		    poll_servers(c, &t0, active_at, &left, err) != 0)
			return -1;
		if (left > 0 && since_ms(&t0) > boot_ms)
			return err_set(err, VMTP_EXIT_FAIL,
			    "%d server(s) not ACTIVE after %ld s", left,
			    boot_ms / 1000);
		if (bare > 0) {
			if (find_ports(c, 0, err) != 0)
				return -1;
			for (i = 0; i < c->nvm; i++)
				if (c->vms[i].port[0] != '\0' &&
				    c->vms[i].fip_id[0] != '\0' &&
				    !c->vms[i].fip_on)
					tasks[n++] = (struct task){
					    fip_attach, i, 0, {0}};
			if (n > 0 && run_tasks(c, tasks, n, err) != 0)
				return -1;
			bare -= n;
			if (bare > 0 && since_ms(&t0) > boot_ms)
				return err_set(err, VMTP_EXIT_FAIL,
				    "%d server(s) have no port after %ld s",
				    bare, boot_ms / 1000);
		}
		/* SSH to the VMs that are ACTIVE, with their floating IP */
		n = 0;
		for (i = 0; i < c->nvm; i++) {
			pending[i] =
			    active_at[i] >= 0 && !answered[i] &&
			    (c->vms[i].fip_id[0] == '\0' || c->vms[i].fip_on);
			n += pending[i];
		}
		if (n > 0)
			probe_ssh_ports(c, pending, ready, POLL_MS * 4 / 5);
		for (i = 0; n > 0 && i < c->nvm; i++) {
			struct vm *v = &c->vms[i];

			if (!pending[i])
				continue;
			err_clear(&last);
			if (!ready[i])
				err_set(&last, VMTP_EXIT_FAIL,
				    "%s: port 22 does not answer",
				    v->fip[0] != '\0' ? v->fip : v->ip);
			else if (ssh_login(c, v, &last) == 0) {
				answered[i] = 1;
				waiting--;
				continue;
			}
			if (since_ms(&t0) - active_at[i] > ssh_ms)
				return err_set(err, VMTP_EXIT_FAIL,
				    "%s does not answer SSH after %ld s: %s",
				    v->name, ssh_ms / 1000, last.msg);
		}
		log_progress("%d of %d VMs active, %d answer SSH",
		    c->nvm - left, c->nvm, c->nvm - waiting);
		round = POLL_MS - (since_ms(&t0) - round);
		if (waiting > 0 && round > 0)
			sleep_ms(round);
	}
	log_progress_end();
	return 0;
}

/* Writes REC (stolen) to the output. */
static int
emit(struct cloud *c, json_t *rec, struct vmtp_err *err)
{
	int rc;

	if (rec == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	rc = rec_write(c->out, rec, err);
	json_decref(rec);
	return rc;
}

static json_t *
host_record(struct cloud *c, const struct vm *v)
{
	struct rec_ssh ssh = {v->fip[0] != '\0' ? v->fip : v->ip, 22,
	    cfg_str(c->o->cfg, "ssh_vm_username"), c->key_path, v->fingerprint};
	json_t *rec = rec_host_new(c->tag, v->name, v->role, &ssh, v->ip);

	if (rec == NULL ||
	    (v->fip[0] != '\0' &&
	        json_object_set_new(rec, "floating_ip", json_string(v->fip))) ||
	    json_object_set_new(rec, "az", json_string(v->az)) != 0 ||
	    json_object_set_new(
	        rec, "network", json_string(c->net_name[v->net])) != 0 ||
	    json_object_set_new(rec, "server_id", json_string(v->id)) != 0) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/*
 * The flows of SPEC §1 in the original's order: for each placement (intra
 * first), same network by fixed IP, different network by fixed IP, and by
 * floating IP; then the external host both ways.  Labels come from the
 * placement read back from the API, not from what was asked.
 */
static int
write_flows(struct cloud *c, struct vmtp_err *err)
{
	static const enum flow_kind what[] = {
	    FLOW_KIND_L2, FLOW_KIND_L3_FIXED, FLOW_KIND_L3_FLOATING};
	const struct vm *srv = &c->vms[0];
	const char *ext;
	int id = 0;
	int pass, i;

	for (pass = 1; pass >= 0; pass--) {
		for (i = 1; i < c->nvm; i++) {
			const struct vm *v = &c->vms[i];
			int intra = strcmp(v->host_key, srv->host_key) == 0;
			int k;

			if (intra != pass)
				continue;
			for (k = v->net == 0 ? 0 : 1;
			     k <= (v->net == 0 ? 0 : 2); k++) {
				const char *target =
				    k == 2 ? srv->fip : srv->ip;

				if (target[0] == '\0')
					continue;
				if (emit(c,
				        rec_flow_new(c->tag, ++id, what[k],
				            intra ? FLOW_NODE_INTRA
				                  : FLOW_NODE_INTER,
				            v->name, srv->name, target, 0),
				        err) != 0)
					return -1;
			}
		}
	}
	/* the external host reaches the server by its floating IP, or, on a
	 * provider network, at its own address */
	ext = srv->fip[0] != '\0'           ? srv->fip
	      : c->o->reuse_network != NULL ? srv->ip
	                                    : NULL;
	if (c->o->external != NULL && ext != NULL &&
	    emit(c,
	        rec_flow_new(c->tag, ++id, FLOW_KIND_EXTERNAL, FLOW_NODE_ANY,
	            str(c->o->external, "name"), srv->name, ext, 1),
	        err) != 0)
		return -1;
	return 0;
}

/* Adds what only an admin may see to the run record: encapsulation and
 * the L2 agent's type.  Never fails: what cannot be read stays out. */
static int
describe_network(struct cloud *c, int unused, struct vmtp_err *err)
{
	json_t *run = c->o->run;
	struct vmtp_err e = VMTP_ERR_INIT;
	json_t *reply = NULL;
	json_t *a;
	size_t i;

	(void)unused;
	(void)err;
	/* from the network's own record, read when it was made or found */
	if (c->encap[0] != '\0')
		json_object_set_new(
		    run, "encapsulation", json_string(c->encap));
	if (os_request(session(c), "network", "GET", "/v2.0/agents", NULL, NULL,
	        &reply, &e) == 200) {
		json_array_foreach (json_object_get(reply, "agents"), i, a) {
			const char *t = str(a, "agent_type");

			if (t != NULL &&
			    (strstr(t, "Open vSwitch") != NULL ||
			        strstr(t, "Linux bridge") != NULL ||
			        strstr(t, "OVN") != NULL ||
			        strstr(t, "NIC Switch") != NULL)) {
				json_object_set_new(
				    run, "l2agent_type", json_string(t));
				break;
			}
		}
	}
	json_decref(reply);
	return 0;
}

/* Adds task FN for I to T[*N]. */
static void
add_task(struct task *t, int *n,
    int (*fn)(struct cloud *, int, struct vmtp_err *), int i)
{
	t[*n] = (struct task){fn, i, 0, {0}};
	(*n)++;
}

/*
 * Makes the topology in stages, each stage's steps side by side: what the
 * VMs need (key pair, security group, networks); the VMs; while they
 * boot, the rules, the router, the run record's details and the VMs'
 * ports; the floating IPs, on those ports; then the wait for ACTIVE
 * (floating IPs whose port came late are placed on the way) and SSH.
 * The VMs go alone so that an API server serving one request at a time
 * starts them first.
 */
static int
build(struct cloud *c, struct vmtp_err *err)
{
	const struct cloud_opts *o = c->o;
	struct task t[MAX_VMS + N_SG_RULES + 4];
	int own = o->reuse_network == NULL; /* networks, router, floating IPs */
	int n = 0, i;

	add_task(t, &n, make_keypair, 0);
	add_task(t, &n, make_secgroup, 0);
	for (i = 0; own && i < c->nets; i++)
		add_task(t, &n, make_network, i);
	if (run_tasks(c, t, n, err) != 0 || cancelled(c, err) != 0)
		return -1;
	n = 0;
	for (i = 0; i < c->nvm; i++)
		add_task(t, &n, boot_vm, i);
	if (run_tasks(c, t, n, err) != 0 || cancelled(c, err) != 0)
		return -1;
	n = 0;
	if (own) {
		add_task(t, &n, make_router, 0);
		add_task(t, &n, find_ports, 0);
	}
	for (i = 0; c->sg_created && i < N_SG_RULES; i++)
		add_task(t, &n, make_rule, i);
	add_task(t, &n, describe_network, 0);
	if (run_tasks(c, t, n, err) != 0 || cancelled(c, err) != 0)
		return -1;
	n = 0;
	for (i = 0; own && i < c->nvm; i++)
		add_task(t, &n, make_fip, i);
	if (run_tasks(c, t, n, err) != 0 || cancelled(c, err) != 0 ||
	    rec_write(c->out, o->run, err) != 0)
		return -1;
	return wait_ready(c, err);
}

/* Finds the external network, image, flavor and compute hosts, side by
 * side. */
static int
discover(struct cloud *c, struct vmtp_err *err)
{
	struct task t[] = {{find_external, 0, 0, {0}}, {find_image, 0, 0, {0}},
	    {find_flavor, 0, 0, {0}}, {find_hosts, 0, 0, {0}}};

	return run_tasks(c, t, (int)(sizeof(t) / sizeof(t[0])), err);
}

int
cloud_provision(struct os_session *s, const struct cloud_opts *o, FILE *out,
    struct vmtp_err *err)
{
	struct cloud c;
	char *dir = NULL;
	int rc = -1;
	int i;

	memset(&c, 0, sizeof(c));
	c.s = s;
	c.o = o;
	c.out = out;
	c.tag = o->tag;
	c.nets = o->same_network_only || o->reuse_network != NULL ? 1 : 2;
	c.made = json_array();
	pthread_mutex_init(&c.lock, NULL);
	c.defaults = cfg_load_defaults(err);
	dir = journal_dir(err);
	if (c.made == NULL || c.defaults == NULL || dir == NULL)
		goto out;
	snprintf(c.known_hosts, sizeof(c.known_hosts), "%s/%s.known_hosts", dir,
	    c.tag);
	/* the names first: a name too long costs no cloud resource */
	if (run_name(&c, "vm_name_server", "server", c.server_name,
	        sizeof(c.server_name), err) != 0 ||
	    run_name(&c, "vm_name_client", "client", c.client_name,
	        sizeof(c.client_name), err) != 0 ||
	    run_name(&c, "public_key_name", "key", c.keypair, sizeof(c.keypair),
	        err) != 0)
		goto out;
	c.journal = journal_open(c.tag, err);
	if (c.journal == NULL)
		goto out;
	if (discover(&c, err) != 0 || cancelled(&c, err) != 0)
		goto fail;
	plan_vms(&c);
	if (o->reuse_network != NULL) {
		json_t *net = NULL;
		int found =
		    neutron_find(&c, "networks", o->reuse_network, &net, err);

		if (found <= 0) {
			if (found == 0)
				err_set(err, VMTP_EXIT_FAIL,
				    "network '%s' not found", o->reuse_network);
			goto fail;
		}
		copy(c.net_id[0], sizeof(c.net_id[0]), str(net, "id"));
		copy(c.net_name[0], sizeof(c.net_name[0]), o->reuse_network);
		copy(c.encap, sizeof(c.encap),
		    str(net, "provider:network_type"));
		json_decref(net);
		if (remember(&c, "network", c.net_id[0], c.net_name[0], 0, NULL,
		        err) != 0)
			goto fail;
	}
	if (build(&c, err) != 0)
		goto fail;
	for (i = 0; i < c.nvm; i++)
		if (emit(&c, host_record(&c, &c.vms[i]), err) != 0)
			goto fail;
	if (o->external != NULL && rec_write(out, o->external, err) != 0)
		goto fail;
	if (write_flows(&c, err) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	if (json_array_size(c.made) == 0) {
		journal_remove(c.tag, err);
		goto out;
	}
	if (o->keep_on_error) {
		log_warn("--keep-on-error: what this run made stays; "
		         "vmtp-cleanup --tag %s removes it",
		    c.tag);
		goto out;
	}
	{
		struct vmtp_err e = VMTP_ERR_INIT;
		int left;

		log_info("rolling back what this run created");
		left = res_delete_all(s, c.made, out, cli_note_deleted, &e);
		if (left == 0) {
			journal_remove(c.tag, &e);
		} else {
			log_error("rollback incomplete: vmtp-cleanup --tag %s "
			          "finishes it",
			    c.tag);
		}
	}
out:
	for (i = 0; i < MAX_WORKERS; i++)
		os_session_free(c.workers[i].s);
	pthread_mutex_destroy(&c.lock);
	if (c.journal != NULL)
		fclose(c.journal);
	json_decref(c.hosts);
	json_decref(c.made);
	json_decref(c.defaults);
	free(dir);
	return rc;
}
