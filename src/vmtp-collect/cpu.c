/*
 * cpu.c - the store of host CPU readings shared by the poller and the
 * stream (see cpu.h; SPEC §4 cpu record and cpu_load).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/array.h"
#include "libvmtp/err.h"
#include "libvmtp/rec.h"

#include "cpu.h"

/* One reading of a series: what a sample's cpu_load takes of it. */
struct cpu_point {
	double t;
	double load;
};

/*
 * One host's readings from one source, in the order they were taken: 16
 * bytes a reading (a poll of 64 hosts every 2 s for a night is a million
 * readings).
 */
struct cpu_series {
	char *source;
	char host[sizeof(((struct cpu_reading *)0)->host)];
	struct cpu_point *v;
	size_t n;
	int unsorted; /* a reading was older than the one before */
};

/* A reading whose cpu record waits for the run tag. */
struct cpu_wait {
	struct cpu_reading r;
	size_t series;
};

struct cpu_store {
	pthread_mutex_t lock;
	struct cpu_series *series; /* in the order of their first reading */
	size_t nseries;
	struct cpu_wait *wait; /* in the order they were taken */
	size_t nwait;
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
	for (i = 0; i < s->nseries; i++) {
		free(s->series[i].source);
		free(s->series[i].v);
	}
	free(s->series);
	free(s->wait);
	free(s->run);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

pthread_mutex_t *
cpu_store_lock(struct cpu_store *s)
{
	return &s->lock;
}

/* Writes the cpu record of reading R from SOURCE to stdout.  Returns 0,
 * or -1 with ERR set. */
static int
write_reading(const struct cpu_store *s, const char *source,
    const struct cpu_reading *r, struct vmtp_err *err)
{
	json_t *rec = rec_new("cpu", s->run);
	int rc = -1;

	if (rec == NULL ||
	    json_object_set_new(rec, "source", json_string(source)) != 0 ||
	    json_object_set_new(rec, "host", json_string(r->host)) != 0 ||
	    json_object_set_new(rec, "t", json_real(r->t)) != 0 ||
	    json_object_set_new(rec, "load", json_real(r->load)) != 0 ||
	    json_object_set_new(rec, "cpu_user", json_real(r->user)) != 0 ||
	    json_object_set_new(rec, "cpu_system", json_real(r->system)) != 0 ||
	    json_object_set_new(rec, "cpu_num", json_integer(r->num)) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	rc = rec_write(stdout, rec, err);
out:
	json_decref(rec);
	return rc;
}

/* The series of HOST from SOURCE in S, made when it has none.  Returns
 * its index, or -1 when out of memory. */
static long
series_of(struct cpu_store *s, const char *source, const char *host)
{
	struct cpu_series *x;
	size_t i;

	for (i = s->nseries; i > 0; i--)
		if (strcmp(s->series[i - 1].host, host) == 0 &&
		    strcmp(s->series[i - 1].source, source) == 0)
			return (long)(i - 1);
	x = array_grow(s->series, s->nseries, sizeof(*x));
	if (x == NULL)
		return -1;
	s->series = x;
	x = &s->series[s->nseries];
	memset(x, 0, sizeof(*x));
	snprintf(x->host, sizeof(x->host), "%s", host);
	x->source = strdup(source);
	if (x->source == NULL)
		return -1;
	return (long)s->nseries++;
}

int
cpu_store_add(struct cpu_store *s, const char *source,
    const struct cpu_reading *r, size_t n, struct vmtp_err *err)
{
	size_t i;
	int rc = -1;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n; i++) {
		long k = series_of(s, source, r[i].host);
		struct cpu_series *x;
		struct cpu_point *v;
		struct cpu_wait *w;

		if (k < 0)
			goto oom;
		x = &s->series[k];
		if ((v = array_grow(x->v, x->n, sizeof(*v))) == NULL)
			goto oom;
		x->v = v;
		x->unsorted |= x->n > 0 && r[i].t < x->v[x->n - 1].t;
		x->v[x->n++] = (struct cpu_point){r[i].t, r[i].load};
		if (s->run_known) {
			if (write_reading(s, x->source, &r[i], err) != 0)
				goto out;
			continue;
		}
		if ((w = array_grow(s->wait, s->nwait, sizeof(*w))) == NULL)
			goto oom;
		s->wait = w;
		s->wait[s->nwait++] = (struct cpu_wait){r[i], (size_t)k};
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
	for (i = 0; i < s->nwait; i++)
		if (write_reading(s, s->series[s->wait[i].series].source,
		        &s->wait[i].r, err) != 0)
			return -1;
	free(s->wait);
	s->wait = NULL;
	s->nwait = 0;
	return 0;
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

/*
 * Where the readings of X that a window [T_START, T_END] takes are: none
 * when X has no reading by T_END (returns X->n); else the last before
 * T_START at *BASE (X->n: none), and those inside from the one returned
 * on.  A series in time order is searched; one whose clock went back is
 * read as it came, from its first reading by T_END.
 */
static size_t
window(const struct cpu_series *x, double t_start, double t_end, size_t *base)
{
	size_t lo = 0, hi = x->n, i;

	*base = x->n;
	if (x->unsorted) {
		for (lo = 0; lo < x->n && x->v[lo].t > t_end; lo++)
			;
		for (i = lo; i < x->n; i++)
			if (x->v[i].t < t_start)
				*base = i;
		return lo;
	}
	if (x->n == 0 || x->v[0].t > t_end)
		return x->n;
	/* the first reading at or after T_START */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->v[mid].t < t_start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0)
		*base = lo - 1;
	return lo;
}

json_t *
cpu_store_load(struct cpu_store *s, double t_start, double t_end)
{
	json_t *out = json_object();
	size_t i, j, from, base;

	if (out == NULL)
		return NULL;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nseries; i++) {
		const struct cpu_series *x = &s->series[i];

		/* each host once, from the first of its series with a reading
		 * by T_END: a host that several sources report is read from
		 * the one that reported it first */
		if (json_object_get(out, x->host) != NULL)
			continue;
		from = window(x, t_start, t_end, &base);
		if (from == x->n && base == x->n)
			continue;
		if (append_load(out, x->host, base < x->n,
		        base < x->n ? x->v[base].load : 0) != 0)
			goto oom;
		for (j = from; j < x->n; j++) {
			if (!x->unsorted && x->v[j].t > t_end)
				break;
			if (x->v[j].t >= t_start && x->v[j].t <= t_end &&
			    append_load(out, x->host, 1, x->v[j].load) != 0)
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
