/*
 * poller.c - poll gmond and node_exporter sources on a thread (see
 * poller.h; SPEC §6 vmtp-collect).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "libvmtp/cli.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"

#include "cpu.h"
#include "gmond.h"
#include "nodeexp.h"
#include "poller.h"

struct source {
	enum poller_kind kind;
	char *name; /* "host:port" or the URL without credentials */
	char *addr; /* gmond: host; node_exporter: the URL as given */
	char port[8];
	char host[64];     /* node_exporter: the host of the URL */
	struct http *http; /* node_exporter: the connection, kept alive */
	struct nodeexp_totals prev;
	int have_prev;
	int failing; /* warned about, not answering since */
};

struct poller {
	struct cpu_store *store; /* borrowed */
	double interval, timeout;
	struct source *src;
	size_t n;
	pthread_t thread;
	int running;
	pthread_mutex_t mu; /* for cv */
	pthread_cond_t cv;
	atomic_int stop;     /* also cancels a poll in progress */
	struct vmtp_err err; /* why the thread stopped on its own */
};

struct poller *
poller_new(struct cpu_store *store, double interval, double timeout,
    struct vmtp_err *err)
{
	struct poller *p = calloc(1, sizeof(*p));
	pthread_condattr_t attr;

	if (p == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	atomic_init(&p->stop, 0);
	p->store = store;
	p->interval = interval;
	p->timeout = timeout;
	p->err = (struct vmtp_err)VMTP_ERR_INIT;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&p->mu, NULL) != 0 ||
	    pthread_cond_init(&p->cv, &attr) != 0) {
		pthread_condattr_destroy(&attr);
		free(p);
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	pthread_condattr_destroy(&attr);
	return p;
}

size_t
poller_count(const struct poller *p)
{
	return p->n;
}

/* Splits gmond's HOST[:PORT] or [V6]:PORT into S.  0, or -1 with ERR. */
static int
gmond_addr(struct source *s, const char *addr, struct vmtp_err *err)
{
	const char *port = NULL;
	const char *end;
	long long n = GMOND_PORT;
	size_t len;

	if (addr[0] == '[') {
		end = strchr(addr, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			goto bad;
		if (end[1] == ':')
			port = end + 2;
		addr++;
		len = (size_t)(end - addr);
	} else {
		end = strchr(addr, ':');
		if (end != NULL && strchr(end + 1, ':') != NULL)
			goto bad; /* a bare IPv6 address needs brackets */
		if (end != NULL)
			port = end + 1;
		len = end != NULL ? (size_t)(end - addr) : strlen(addr);
	}
	if (len == 0 || len >= 256)
		goto bad;
	if (port != NULL && cli_parse_long("-m", port, 1, 65535, &n, err) != 0)
		return -1;
	s->addr = strndup(addr, len);
	if (s->addr == NULL ||
	    asprintf(&s->name, "%s%s%s:%lld", strchr(s->addr, ':') ? "[" : "",
	        s->addr, strchr(s->addr, ':') ? "]" : "", n) < 0) {
		s->name = NULL;
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	snprintf(s->port, sizeof(s->port), "%lld", n);
	return 0;
bad:
	return err_set(
	    err, VMTP_EXIT_USAGE, "-m: '%.200s' is not HOST[:PORT]", addr);
}

int
poller_add(struct poller *p, enum poller_kind kind, const char *addr,
    struct vmtp_err *err)
{
	struct source *bigger = realloc(p->src, (p->n + 1) * sizeof(*p->src));
	struct http_opts ho = HTTP_OPTS_INIT;
	struct source *s;
	char *shown = NULL;

	if (bigger == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	p->src = bigger;
	s = &p->src[p->n];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	if (kind == POLLER_GMOND) {
		if (gmond_addr(s, addr, err) != 0)
			goto fail;
	} else {
		if (nodeexp_url_parse(
		        addr, s->host, sizeof(s->host), &shown, err) != 0)
			goto fail;
		s->name = strdup(shown);
		s->addr = strdup(addr);
		curl_free(shown);
		if (s->name == NULL || s->addr == NULL) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto fail;
		}
		s->http = http_new(&ho, err);
		if (s->http == NULL)
			goto fail;
	}
	p->n++;
	return 0;
fail:
	free(s->name);
	free(s->addr);
	return -1;
}

static double
now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Says once per failing spell that S does not answer, and why. */
static void
source_failed(struct source *s, const struct vmtp_err *why)
{
	if (s->failing)
		return;
	s->failing = 1;
	log_warn("%s %s: %s; samples go on without its readings",
	    s->kind == POLLER_GMOND ? "gmond" : "node_exporter", s->name,
	    why->msg);
}

static void
source_answered(struct source *s)
{
	if (!s->failing)
		return;
	s->failing = 0;
	log_info("%s %s: answering again",
	    s->kind == POLLER_GMOND ? "gmond" : "node_exporter", s->name);
}

/*
 * Polls S once and adds what it read to the store.  A source that fails
 * is reported and skipped; returns -1 (with P->err set) only when a cpu
 * record cannot be written.
 */
static int
poll_one(struct poller *p, struct source *s)
{
	struct vmtp_err why = VMTP_ERR_INIT;
	struct cpu_reading *r = NULL;
	struct nodeexp_totals tot;
	struct cpu_reading one;
	char *buf = NULL;
	size_t len = 0;
	long n = 0;
	double t;
	int rc = 0;

	if (s->kind == POLLER_GMOND) {
		if (gmond_fetch(s->addr, s->port, p->timeout, &p->stop, &buf,
		        &len, &why) != 0)
			goto failed;
		t = now_real();
		n = gmond_parse(buf, len, t, &r, &why);
		if (n < 0)
			goto failed;
		if (n == 0)
			log_debug("gmond %s: no host with cpu_user, cpu_system "
			          "and cpu_num yet",
			    s->name);
	} else {
		if (nodeexp_fetch(s->http, s->addr, p->timeout, &p->stop, &buf,
		        &len, &why) != 0)
			goto failed;
		t = now_real();
		if (nodeexp_parse(buf, len, &tot, &why) != 0)
			goto failed;
		if (s->have_prev &&
		    nodeexp_reading(&s->prev, &tot, s->host, t, &one) == 0) {
			r = malloc(sizeof(*r));
			if (r == NULL) {
				rc = err_set(
				    &p->err, VMTP_EXIT_FAIL, "out of memory");
				goto out;
			}
			*r = one;
			n = 1;
		}
		s->prev = tot;
		s->have_prev = 1;
	}
	source_answered(s);
	if (n > 0)
		rc = cpu_store_add(p->store, s->name, r, (size_t)n, &p->err);
	goto out;
failed:
	/* a poll cut short at end of input is no fault of the source */
	if (!atomic_load(&p->stop))
		source_failed(s, &why);
out:
	free(r);
	free(buf);
	return rc;
}

static void *
poll_loop(void *arg)
{
	struct poller *p = arg;
	struct timespec next;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&p->mu);
	while (!atomic_load(&p->stop)) {
		struct timespec now;

		pthread_mutex_unlock(&p->mu);
		for (i = 0; i < p->n; i++)
			if (poll_one(p, &p->src[i]) != 0)
				return NULL;
		next.tv_sec += (time_t)p->interval;
		next.tv_nsec +=
		    (long)((p->interval - (double)(time_t)p->interval) * 1e9);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		/* polls slower than the interval: start again from now */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec ||
		    (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
			next = now;
		pthread_mutex_lock(&p->mu);
		while (
		    !atomic_load(&p->stop) &&
		    pthread_cond_timedwait(&p->cv, &p->mu, &next) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
poller_start(struct poller *p, struct vmtp_err *err)
{
	int rc;

	if (p->n == 0 || p->running)
		return 0;
	rc = pthread_create(&p->thread, NULL, poll_loop, p);
	if (rc != 0)
		return err_set(err, VMTP_EXIT_FAIL, "cannot start polling: %s",
		    strerror(rc));
	p->running = 1;
	return 0;
}

int
poller_stop(struct poller *p, struct vmtp_err *err)
{
	if (!p->running)
		return 0;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, 1);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	p->running = 0;
	if (p->err.exit != VMTP_EXIT_OK)
		return err_set(err, p->err.exit, "%s", p->err.msg);
	return 0;
}

void
poller_free(struct poller *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->running) {
		struct vmtp_err ignored = VMTP_ERR_INIT;

		poller_stop(p, &ignored);
	}
	for (i = 0; i < p->n; i++) {
		free(p->src[i].name);
		free(p->src[i].addr);
		http_free(p->src[i].http);
	}
	free(p->src);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
