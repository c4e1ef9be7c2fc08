/*
 * fuzz_cloud_answers.c - libFuzzer harness for the Nova and Neutron
 * answers vmtp-provision reads (SPEC §6, §10): the external network,
 * images, flavors, availability zones and hosts, security groups and
 * rules, networks and subnets (made or found), routers, servers (booted,
 * then listed: status, addresses, fault, host, hostId), ports, floating
 * IPs and agents; then the scan of tagged resources and the deletions of
 * vmtp-cleanup and of a rollback (res.c).  Any answers must give a
 * topology or one clean error, never a crash, leak or out-of-bounds read.
 *
 * The input is a list of answers (answers.h), one per request, in the
 * order a run makes them (VMTP_FUZZ_TRACE=1 prints the requests to
 * stderr).  os_request() is replaced at link time by one that gives them
 * as the real one would (JSON, or the error message of a status >= 400);
 * image downloads and uploads fail:
 * fuzz-ldflags: -Wl,--wrap=os_request -Wl,--wrap=os_upload
 * fuzz-ldflags: -Wl,--wrap=http_download
 * and the catalog has every service (the cleanup asks first), and a
 * request that failed was never carried out:
 * fuzz-ldflags: -Wl,--wrap=os_has_endpoint -Wl,--wrap=os_unsure
 * and a session is never cloned, so that the cleanup, which deletes side
 * by side on clones when it can, runs on the fuzzing thread, in order:
 * fuzz-ldflags: -Wl,--wrap=os_session_clone
 * and the waits between polls and retries take no time on the fuzzing
 * thread (each poll takes an answer, so the answers bound them):
 * fuzz-ldflags: -Wl,--wrap=nanosleep -Wl,--wrap=sleep
 * The steps run as build() orders them, on one thread, up to the first
 * error, without a key pair (ssh-keygen) or SSH; what was made is then
 * rolled back.  cloud.c, discover.c and vm.c are compiled in below to
 * reach their static steps; vmtp-provision's other objects are linked:
 * fuzz-objects: vmtp-provision/api vmtp-provision/controller
 * fuzz-objects: vmtp-provision/network
 * fuzz-objects: vmtp-provision/records vmtp-provision/tasks
 * Seed corpus: tests/fuzz/corpus/cloud_answers/ (a run's answers in the
 * shapes of the Nova and Neutron API references and of the minicloud).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/err.h"
#include "libvmtp/http.h"
#include "libvmtp/log.h"
#include "libvmtp/os.h"
#include "libvmtp/res.h"

#include "vmtp-provision/cloud.c"
#include "vmtp-provision/discover.c"
#include "vmtp-provision/vm.c"

#include "answers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
long __wrap_os_request(struct os_session *s, const char *type,
    const char *method, const char *path, const json_t *body,
    const char *const *headers, json_t **out, struct vmtp_err *err);
long __wrap_os_upload(struct os_session *s, const char *type,
    const char *method, const char *path, FILE *fp, long long size,
    struct vmtp_err *err);
int __wrap_http_download(
    struct http *h, const char *url, FILE *fp, struct vmtp_err *err);
int __wrap_os_has_endpoint(
    struct os_session *s, const char *type, struct vmtp_err *err);
int __wrap_os_unsure(const struct os_session *s);
struct os_session *__wrap_os_session_clone(
    const struct os_session *s, struct vmtp_err *err);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);
int __real_nanosleep(const struct timespec *req, struct timespec *rem);
unsigned int __wrap_sleep(unsigned int s);
unsigned int __real_sleep(unsigned int s);

static pthread_t fz_thread; /* the one running the inputs */

static int fz_trace;

/* Every service is in the catalog. */
int
__wrap_os_has_endpoint(
    struct os_session *s, const char *type, struct vmtp_err *err)
{
	(void)s;
	(void)type;
	(void)err;
	return 1;
}

/* No second connection: the caller goes on with the one it has. */
struct os_session *
__wrap_os_session_clone(const struct os_session *s, struct vmtp_err *err)
{
	(void)s;
	err_set(err, VMTP_EXIT_FAIL, "one connection in the fuzzer");
	return NULL;
}

/* A failed request was not carried out. */
int
__wrap_os_unsure(const struct os_session *s)
{
	(void)s;
	return 0;
}

/* os_request() as the answers of the input have it. */
long
__wrap_os_request(struct os_session *s, const char *type, const char *method,
    const char *path, const json_t *body, const char *const *headers,
    json_t **out, struct vmtp_err *err)
{
	struct fz_answer a;
	json_error_t jerr;
	json_t *reply;

	(void)s;
	(void)body;
	(void)headers;
	if (out != NULL)
		*out = NULL;
	if (fz_trace)
		fprintf(stderr, "fuzz: %s %s %s\n", type, method, path);
	if (fz_answer_next(&a) != 0) {
		err_set(
		    err, VMTP_EXIT_FAIL, "%s %s: no response", method, path);
		return -1;
	}
	reply = a.len > 0 ? json_loadb(a.body, a.len, JSON_DECODE_ANY, &jerr)
	                  : json_null();
	if (reply == NULL && a.status < 400) {
		err_set(err, VMTP_EXIT_FAIL,
		    "%s %s: %ld: the answer is not JSON", method, path,
		    a.status);
		return -1;
	}
	if (a.status >= 400) {
		const char *msg = os_error_message(reply);

		err_set(err, VMTP_EXIT_FAIL, "%ld: %s", a.status,
		    msg != NULL ? msg : "no error message");
	}
	if (out != NULL)
		*out = reply;
	else
		json_decref(reply);
	return a.status;
}

long
__wrap_os_upload(struct os_session *s, const char *type, const char *method,
    const char *path, FILE *fp, long long size, struct vmtp_err *err)
{
	(void)s;
	(void)type;
	(void)fp;
	(void)size;
	err_set(err, VMTP_EXIT_FAIL, "%s %s: no network here", method, path);
	return -1;
}

int
__wrap_http_download(
    struct http *h, const char *url, FILE *fp, struct vmtp_err *err)
{
	(void)h;
	(void)fp;
	return err_set(err, VMTP_EXIT_FAIL, "%s: no network here", url);
}

int
__wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (pthread_equal(pthread_self(), fz_thread))
		return 0;
	return __real_nanosleep(req, rem);
}

unsigned int
__wrap_sleep(unsigned int s)
{
	if (pthread_equal(pthread_self(), fz_thread))
		return 0;
	return __real_sleep(s);
}

/* The steps of a run that reach the cloud, in build()'s order. */
static int
fz_build(struct cloud *c, struct vmtp_err *err)
{
	struct timespec t0;
	long active_at[MAX_VMS];
	int left;
	int i;

	if (find_external(c, 0, err) != 0 || find_image(c, 0, err) != 0 ||
	    find_flavor(c, 0, err) != 0 || find_hosts(c, 0, err) != 0 ||
	    plan_vms(c, err) != 0 || make_secgroup(c, 0, err) != 0)
		return -1;
	for (i = 0; i < c->nets; i++)
		if (make_network(c, i, err) != 0)
			return -1;
	for (i = 0; i < c->nvm; i++)
		if (boot_vm(c, i, err) != 0)
			return -1;
	if (make_router(c, 0, err) != 0 || find_ports(c, 0, err) != 0)
		return -1;
	for (i = 0; c->sg_created && i < N_SG_RULES; i++)
		if (make_rule(c, i, err) != 0)
			return -1;
	if (describe_network(c, 0, err) != 0)
		return -1;
	for (i = 0; i < c->nvm; i++)
		if (make_fip(c, i, err) != 0)
			return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	left = c->nvm;
	for (i = 0; i < c->nvm; i++)
		active_at[i] = -1;
	if (poll_servers(c, &t0, active_at, &left, err) != 0)
		return -1;
	for (i = 0; i < c->nvm; i++)
		if (c->vms[i].fip_id != NULL && !c->vms[i].fip_on &&
		    fip_attach(c, i, err) != 0)
			return -1;
	return 0;
}

/* vmtp-cleanup --tag: the scan, the deletions, what is still there. */
static void
fz_cleanup(const char *tag)
{
	struct res_filter f = {tag};
	struct res_health h = {0};
	struct vmtp_err err = VMTP_ERR_INIT;
	json_t *victims = json_array();
	json_t *left;
	FILE *out = fopen("/dev/null", "w");

	if (victims == NULL || out == NULL)
		__builtin_trap();
	if (res_scan(NULL, &f, &h, victims, &err) == 0 &&
	    res_delete_all(NULL, &h, victims, out, NULL, &err) == 0) {
		left = res_still_there(NULL, &h, victims, &err);
		json_decref(left);
	}
	json_decref(victims);
	fclose(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *cfg;
	struct cloud_opts o;
	struct vmtp_err err = VMTP_ERR_INIT;
	struct cloud c;
	FILE *out;

	if (cfg == NULL) {
		log_init("vmtp-provision", LOG_QUIET);
		fz_trace = getenv("VMTP_FUZZ_TRACE") != NULL;
		fz_thread = pthread_self();
		cfg = cfg_load_defaults(&err);
		if (cfg == NULL)
			__builtin_trap();
	}
	fz_answers_set(data, size);
	memset(&o, 0, sizeof(o));
	o.cfg = cfg;
	o.tag = "vmtp-0000f022";
	o.run = json_object();
	o.ssh_attempts = 1;
	o.poll_attempts = 1;
	memset(&c, 0, sizeof(c));
	c.o = &o;
	c.tag = o.tag;
	c.nets = 2;
	c.made = json_array();
	pthread_mutex_init(&c.lock, NULL);
	c.defaults = json_incref(cfg);
	c.out = out = fopen("/dev/null", "w");
	c.journal = fopen("/dev/null", "w");
	if (o.run == NULL || c.made == NULL || out == NULL ||
	    c.journal == NULL ||
	    run_name(&c, "vm_name_server", "server", VM_NAME_MAX,
	        &c.server_name, &err) != 0 ||
	    run_name(&c, "vm_name_client", "client", CLIENT_NAME_MAX,
	        &c.client_name, &err) != 0)
		__builtin_trap();
	if (fz_build(&c, &err) != 0 && err.exit == VMTP_EXIT_OK)
		__builtin_trap(); /* a failure without a reason */
	if (fz_trace)
		fprintf(stderr, "fuzz: built: %s\n",
		    err.exit == VMTP_EXIT_OK ? "ok" : err.msg);
	/* the rollback: what was made goes */
	err_clear(&err);
	(void)res_delete_all(NULL, NULL, c.made, out, NULL, &err);
	cloud_clear(&c);
	fclose(out);
	json_decref(o.run);
	fz_cleanup(o.tag);
	return 0;
}
