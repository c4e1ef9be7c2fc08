/*
 * cpu.c - the store of host CPU readings shared by the poller and the
 * stream (see cpu.h; SPEC §4 cpu record and cpu_load).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/rec.h"

#include "cpu.h"

/* One reading kept with the source it came from, for its cpu record. */
struct cpu_entry {
	struct cpu_reading r;
	char *source;
	int written; /* its cpu record has been written */
};

struct cpu_store {
	pthread_mutex_t lock;
	struct cpu_entry *v; /* in the order they were taken */
	size_t n, cap;
	char *run;     /* run tag for cpu records, once known */
	int run_known; /* set_run has been called */
};

struct cpu_store *
cpu_store_new(struct vmtp_err *err)
{
	struct cpu_store *s = calloc(1, sizeof(*s));

	if (s == NULL || pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	return s;
}

void
cpu_store_free(struct cpu_store *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i].source);
	free(s->v);
	free(s->run);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

pthread_mutex_t *
cpu_store_lock(struct cpu_store *s)
{
	return &s->lock;
}

/* Writes the cpu record of E to stdout.  Returns 0, or -1 with ERR set. */
static int
write_entry(
    const struct cpu_store *s, const struct cpu_entry *e, struct vmtp_err *err)
{
	json_t *rec = rec_new("cpu", s->run);
	int rc = -1;

	if (rec == NULL ||
	    json_object_set_new(rec, "source", json_string(e->source)) != 0 ||
	    json_object_set_new(rec, "host", json_string(e->r.host)) != 0 ||
	    json_object_set_new(rec, "t", json_real(e->r.t)) != 0 ||
	    json_object_set_new(rec, "load", json_real(e->r.load)) != 0 ||
	    json_object_set_new(rec, "cpu_user", json_real(e->r.user)) != 0 ||
	    json_object_set_new(rec, "cpu_system", json_real(e->r.system)) !=
	        0 ||
	    json_object_set_new(rec, "cpu_num", json_integer(e->r.num)) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	rc = rec_write(stdout, rec, err);
out:
	json_decref(rec);
	return rc;
}

int
cpu_store_add(struct cpu_store *s, const char *source,
    const struct cpu_reading *r, size_t n, struct vmtp_err *err)
{
	struct cpu_entry *bigger;
	size_t i;
	int rc = -1;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n; i++) {
		struct cpu_entry *e;

		if (s->n == s->cap) {
			size_t cap = s->cap != 0 ? s->cap * 2 : 64;

			bigger = realloc(s->v, cap * sizeof(*s->v));
			if (bigger == NULL)
				goto oom;
			s->v = bigger;
			s->cap = cap;
		}
		e = &s->v[s->n];
		e->r = r[i];
		e->written = 0;
		e->source = strdup(source);
		if (e->source == NULL)
			goto oom;
		s->n++;
		if (s->run_known) {
			if (write_entry(s, e, err) != 0)
				goto out;
			e->written = 1;
		}
	}
	rc = 0;
	goto out;
oom:
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
cpu_store_set_run(struct cpu_store *s, const char *run, struct vmtp_err *err)
{
	size_t i;

	if (s->run_known)
		return 0;
	if (run != NULL) {
		s->run = strdup(run);
		if (s->run == NULL)
			return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	s->run_known = 1;
	for (i = 0; i < s->n; i++) {
		if (s->v[i].written)
			continue;
		if (write_entry(s, &s->v[i], err) != 0)
			return -1;
		s->v[i].written = 1;
	}
	return 0;
}

/* Whether A and B are readings of one host from one source. */
static int
same_series(const struct cpu_entry *a, const struct cpu_entry *b)
{
	return strcmp(a->r.host, b->r.host) == 0 &&
	       strcmp(a->source, b->source) == 0;
}

/* Appends LOAD (or null when HAVE is 0) to KEY's list in OBJ. */
static int
append_load(json_t *obj, const char *key, int have, double load)
{
	json_t *list = json_object_get(obj, key);

	if (list == NULL) {
		list = json_array();
		if (json_object_set_new(obj, key, list) != 0)
			return -1;
	}
	return json_array_append_new(
	    list, have ? json_real(load) : json_null());
}

json_t *
cpu_store_load(struct cpu_store *s, double t_start, double t_end)
{
	json_t *out = json_object();
	size_t i, j;

	if (out == NULL)
		return NULL;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n; i++) {
		const struct cpu_reading *r = &s->v[i].r;
		const struct cpu_reading *base = NULL;

		/* each host once, at its first reading in the store; a host
		 * that several sources report is read from the first one */
		if (r->t > t_end || json_object_get(out, r->host) != NULL)
			continue;
		for (j = i; j < s->n; j++) {
			const struct cpu_reading *q = &s->v[j].r;

			if (same_series(&s->v[i], &s->v[j]) && q->t < t_start)
				base = q;
		}
		if (append_load(out, r->host, base != NULL,
		        base != NULL ? base->load : 0) != 0)
			goto oom;
		for (j = i; j < s->n; j++) {
			const struct cpu_reading *q = &s->v[j].r;

			if (same_series(&s->v[i], &s->v[j]) &&
			    q->t >= t_start && q->t <= t_end &&
			    append_load(out, q->host, 1, q->load) != 0)
				goto oom;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return out;
oom:
	pthread_mutex_unlock(&s->lock);
	json_decref(out);
	return NULL;
}
