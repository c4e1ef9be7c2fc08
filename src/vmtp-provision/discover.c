/*
 * discover.c - what vmtp-provision's cloud mode finds before it makes
 * anything (SPEC §6): the external network, the image (uploaded from
 * vm_image_url when missing), the flavor (made when missing) and the
 * compute hosts, found side by side.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/err.h"
#include "libvmtp/http.h"
#include "libvmtp/log.h"
#include "libvmtp/os.h"

#include "cloud-int.h"

/* The external network: the one named by ext_net_name, else the first. */
static int
find_external(struct cloud *c, int unused, struct vmtp_err *err)
{
	const char *want = cfg_str(c->o->cfg, "ext_net_name");
	json_t *reply;
	json_t *n;
	size_t i;
	int rc = 0;

	(void)unused;
	reply = call(c, "network", "GET", "/v2.0/networks?router:external=true",
	    NULL, "list external networks", NULL, err);
	if (reply == NULL)
		return -1;
	json_array_foreach (json_object_get(reply, "networks"), i, n) {
		if (want == NULL ||
		    strcmp(want, or_empty(str(n, "name"))) == 0 ||
		    strcmp(want, or_empty(str(n, "id"))) == 0) {
			rc = str_set(&c->ext_net, str(n, "id"), err);
			break;
		}
	}
	json_decref(reply);
	if (rc == 0 && c->ext_net == NULL)
		return err_set(err, VMTP_EXIT_FAIL,
		    want != NULL
		        ? "external network '%s' not found"
		        : "no external network (router:external) found%s",
		    want != NULL ? want : "");
	return rc;
}

/*
 * Waits until image ID, whose data was just sent, is active (Glance may
 * still be saving it): at most the configured API polls, 1 s apart.
 */
static int
wait_image(struct cloud *c, const char *id, struct vmtp_err *err)
{
	int tries = c->o->poll_attempts > 0 ? c->o->poll_attempts : 50;
	char *path = str_fmt(err, "/v2/images/%s", id);
	int rc = -1;

	while (path != NULL) {
		json_t *img = call(c, "image", "GET", path, NULL,
		    "read the uploaded image", NULL, err);
		const char *st;
		int busy;

		if (img == NULL)
			break;
		st = str(img, "status");
		busy = st != NULL && (strcmp(st, "queued") == 0 ||
		                         strcmp(st, "saving") == 0 ||
		                         strcmp(st, "importing") == 0);
		if (st != NULL && strcmp(st, "active") == 0) {
			json_decref(img);
			rc = 0;
			break;
		}
		if (!busy || --tries <= 0) {
			err_set(err, VMTP_EXIT_FAIL,
			    "uploaded image %s is %s, not active", id,
			    st != NULL ? st : "of no status");
			json_decref(img);
			break;
		}
		json_decref(img);
		if (cancelled(c, err) != 0)
			break;
		sleep(1);
	}
	free(path);
	return rc;
}

/*
 * Sends the data of vm_image_url URL, downloaded into TMP, to the image
 * just made (c->image) and waits until it is active.  Returns 0, or -1
 * with ERR set.
 */
static int
send_image(struct cloud *c, const char *url, FILE *tmp, struct vmtp_err *err)
{
	char *path = NULL;
	long long size;
	long st;
	int rc = -1;

	if (http_download(os_http(session(c)), url, tmp, err) != 0)
		return -1;
	size = ftell(tmp);
	rewind(tmp);
	path = str_fmt(err, "/v2/images/%s/file", or_empty(c->image));
	if (path == NULL)
		return -1;
	st = os_upload(session(c), "image", "PUT", path, tmp, size, err);
	if (st >= 200 && st < 300 &&
	    wait_image(c, or_empty(c->image), err) == 0)
		rc = 0;
	free(path);
	return rc;
}

/*
 * Takes the run tag off uploaded image NAME (c->image) and announces it
 * as not the run's, so that no cleanup deletes it.
 */
static int
keep_image(struct cloud *c, const char *name, struct vmtp_err *err)
{
	char *path =
	    str_fmt(err, "/v2/images/%s/tags/%s", or_empty(c->image), c->tag);
	json_t *reply = NULL;

	if (path != NULL)
		reply = call(c, "image", "DELETE", path, NULL,
		    "untag the uploaded image", NULL, err);
	free(path);
	if (reply == NULL)
		return -1;
	json_decref(reply);
	if (hold(c, "image", c->image, name, 0, err) != 0 ||
	    announce(c, "image", c->image, name, 0, NULL, NULL, err) != 0)
		return -1;
	log_info("uploaded image %s, kept for later runs "
	         "(--delete-image-after-run deletes it)",
	    name);
	return 0;
}

/* What an image create that may have been carried out made: the image
 * named ARG (a string) with the run's tag, in the shape of Glance's
 * answer (the image itself), or json null. */
static json_t *
image_found(struct cloud *c, const void *arg, struct vmtp_err *err)
{
	char *nq = http_escape(arg);
	char *tq = http_escape(c->tag);
	char *path = NULL;
	json_t *reply = NULL;
	json_t *image;
	json_t *out = NULL;

	if (nq == NULL || tq == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	path = str_fmt(err, "/v2/images?name=%s&tag=%s", nq, tq);
	if (path == NULL)
		goto out;
	reply = call(c, "image", "GET", path, NULL, "list images", NULL, err);
	if (reply == NULL)
		goto out;
	image = json_array_get(json_object_get(reply, "images"), 0);
	out = image != NULL ? json_incref(image) : json_null();
out:
	json_decref(reply);
	free(path);
	free(nq);
	free(tq);
	return out;
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
	const char *id;
	int keep = !c->o->delete_image;
	json_t *reply = NULL;
	FILE *tmp = NULL;
	int rc = -1;

	tmp = tmpfile();
	if (tmp == NULL)
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot make a temporary file: %s", strerror(errno));
	log_info("image %s not found: uploading %s", name, url);
	reply = create(c, "image", "/v2/images",
	    json_pack("{s:s, s:s, s:s, s:[s], s:s}", "name", name,
	        "disk_format", fmt, "container_format", "bare", "tags", c->tag,
	        "visibility", "private"),
	    "create image", image_found, name, err);
	if (reply == NULL || str_set(&c->image, str(reply, "id"), err) != 0)
		goto out;
	id = or_empty(c->image);
	if ((keep ? hold(c, "image", id, name, 1, err)
	          : remember(c, "image", id, name, 1, NULL, err)) != 0 ||
	    send_image(c, url, tmp, err) != 0 ||
	    (keep && keep_image(c, name, err) != 0))
		goto out;
	rc = 0;
out:
	json_decref(reply);
	fclose(tmp);
	return rc;
}

/* The image image_name, active; uploaded from vm_image_url if missing. */
static int
find_image(struct cloud *c, int unused, struct vmtp_err *err)
{
	const char *name = cfg_str(c->o->cfg, "image_name");
	const char *url = cfg_str(c->o->cfg, "vm_image_url");
	char *path;
	char *q;
	json_t *reply;
	int rc;

	(void)unused;
	if (name == NULL)
		return err_set(err, VMTP_EXIT_USAGE, "image_name is not set");
	q = http_escape(name);
	if (q == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	/* active only: an upload of another run may be under way */
	path = str_fmt(err, "/v2/images?name=%s&status=active", q);
	free(q);
	if (path == NULL)
		return -1;
	reply = call(c, "image", "GET", path, NULL, "list images", NULL, err);
	free(path);
	if (reply == NULL)
		return -1;
	rc = str_set(&c->image,
	    str(json_array_get(json_object_get(reply, "images"), 0), "id"),
	    err);
	json_decref(reply);
	if (rc != 0 || c->image != NULL)
		return rc;
	if (url == NULL)
		return err_set(err, VMTP_EXIT_FAIL,
		    "image '%s' not found, and vm_image_url is not set", name);
	return upload_image(c, name, url, err);
}

/* The flavor named NAME (NULL: none) among Nova's, a new reference; json
 * null when there is none, or NULL with ERR set. */
static json_t *
flavor_named(struct cloud *c, const char *name, struct vmtp_err *err)
{
	json_t *reply = call(c, "compute", "GET", "/flavors/detail?limit=1000",
	    NULL, "list flavors", NULL, err);
	json_t *f;
	json_t *found = NULL;
	size_t i;

	if (reply == NULL)
		return NULL;
	json_array_foreach (json_object_get(reply, "flavors"), i, f)
		if (found == NULL && name != NULL &&
		    strcmp(name, or_empty(str(f, "name"))) == 0)
			found = json_incref(f);
	json_decref(reply);
	return found != NULL ? found : json_null();
}

/* What a flavor create that may have been carried out made: the flavor
 * named ARG (a string), in the shape of Nova's answer, or json null. */
static json_t *
flavor_found(struct cloud *c, const void *arg, struct vmtp_err *err)
{
	json_t *f = flavor_named(c, arg, err);
	json_t *out;

	if (f == NULL || json_is_null(f))
		return f;
	out = json_pack("{s:o}", "flavor", f);
	if (out == NULL)
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return out;
}

/* What setting extra specs that may have been done did: the flavor ARG's
 * (a struct found_specs) extra specs when they hold those wanted, else
 * json null. */
struct found_specs {
	const char *path;
	const json_t *want;
};

static json_t *
specs_found(struct cloud *c, const void *arg, struct vmtp_err *err)
{
	const struct found_specs *f = arg;
	json_t *reply = call(c, "compute", "GET", f->path, NULL,
	    "list the flavor's extra specs", NULL, err);
	const json_t *have = json_object_get(reply, "extra_specs");
	const char *k;
	json_t *v;

	if (reply == NULL)
		return NULL;
	json_object_foreach ((json_t *)f->want, k, v) {
		if (!json_equal(json_object_get(have, k), v)) {
			json_decref(reply);
			return json_null();
		}
	}
	return reply;
}

/* A temporary flavor sized by config `flavor` (WANT was not found). */
static int
make_flavor(struct cloud *c, const char *want, struct vmtp_err *err)
{
	const json_t *spec = cfg_get(c->o->cfg, "flavor");
	char *name = str_fmt(err, "%s-flavor", c->tag);
	char *what = NULL;
	char *path = NULL;
	json_t *reply = NULL;
	int rc = -1;

	if (name == NULL ||
	    (what = str_fmt(err, "create flavor %s (flavor '%s' not found)",
	         name, or_empty(want))) == NULL)
		goto out;
	reply = create(c, "compute", "/flavors",
	    json_pack("{s:{s:s, s:I, s:I, s:I}}", "flavor", "name", name, "ram",
	        json_integer_value(json_object_get(spec, "ram")), "vcpus",
	        json_integer_value(json_object_get(spec, "vcpus")), "disk",
	        json_integer_value(json_object_get(spec, "disk"))),
	    what, flavor_found, name, err);
	if (reply == NULL ||
	    str_set(&c->flavor, str(json_object_get(reply, "flavor"), "id"),
	        err) != 0 ||
	    remember(c, "flavor", or_empty(c->flavor), name, 1, NULL, err) != 0)
		goto out;
	json_decref(reply);
	reply = NULL;
	if (json_object_size(json_object_get(spec, "extra_specs")) > 0) {
		path = str_fmt(
		    err, "/flavors/%s/os-extra_specs", or_empty(c->flavor));
		if (path == NULL)
			goto out;
		reply = create(c, "compute", path,
		    json_pack("{s:O}", "extra_specs",
		        json_object_get(spec, "extra_specs")),
		    "set the flavor's extra specs", specs_found,
		    &(struct found_specs){
		        path, json_object_get(spec, "extra_specs")},
		    err);
		if (reply == NULL)
			goto out;
	}
	rc = 0;
out:
	json_decref(reply);
	free(name);
	free(what);
	free(path);
	return rc;
}

/* The flavor flavor_type, else a temporary one sized by `flavor`. */
static int
find_flavor(struct cloud *c, int unused, struct vmtp_err *err)
{
	const char *want = cfg_str(c->o->cfg, "flavor_type");
	json_t *f;
	int rc = 0;

	(void)unused;
	if ((f = flavor_named(c, want, err)) == NULL)
		return -1;
	if (json_is_object(f))
		rc = str_set(&c->flavor, str(f, "id"), err);
	json_decref(f);
	if (rc != 0 || c->flavor != NULL)
		return rc;
	return make_flavor(c, want, err);
}

/* Adds "ZONE:HOST" for each nova-compute host of availability zone Z to
 * c->hosts. */
static int
add_hosts(
    struct cloud *c, const char *zone, const json_t *z, struct vmtp_err *err)
{
	const char *host;
	json_t *svcs;

	json_object_foreach (json_object_get(z, "hosts"), host, svcs) {
		char *zh;
		int rc;

		if (json_object_get(svcs, "nova-compute") == NULL)
			continue;
		zh = str_fmt(err, "%s:%s", zone, host);
		if (zh == NULL)
			return -1;
		rc = json_array_append_new(c->hosts, json_string(zh));
		free(zh);
		if (rc != 0)
			return err_set(err, VMTP_EXIT_FAIL, "out of memory");
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
	json_t *reply;
	json_t *z;
	size_t i;
	long st;

	(void)unused;
	c->hosts = json_array();
	if (c->hosts == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	reply = call(c, "compute", "GET", "/os-availability-zone/detail", NULL,
	    "list availability zones", &st, err);
	if (st == 403) {
		err_clear(err);
		log_info("not an admin: compute hosts unknown, placement left "
		         "to the scheduler");
		return 0;
	}
	if (reply == NULL)
		return -1;
	json_array_foreach (
	    json_object_get(reply, "availabilityZoneInfo"), i, z) {
		const char *zn = str(z, "zoneName");

		if (zn == NULL || (zone != NULL && strcmp(zone, zn) != 0))
			continue;
		if (add_hosts(c, zn, z, err) != 0) {
			json_decref(reply);
			return -1;
		}
	}
	json_decref(reply);
	if (json_array_size(c->hosts) == 0)
		return err_set(err, VMTP_EXIT_FAIL, "no compute host found%s%s",
		    zone != NULL ? " in zone " : "", zone != NULL ? zone : "");
	return 0;
}

int
discover(struct cloud *c, struct vmtp_err *err)
{
	struct task t[] = {{find_external, 0, 0, {0}}, {find_image, 0, 0, {0}},
	    {find_flavor, 0, 0, {0}}, {find_hosts, 0, 0, {0}}};

	return run_tasks(c, t, (int)(sizeof(t) / sizeof(t[0])), err);
}
