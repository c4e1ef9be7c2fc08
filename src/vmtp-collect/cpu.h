/*
 * cpu.h - host CPU readings and the store that attaches them to samples
 * (SPEC §4: cpu record, cpu_load; §6 vmtp-collect).
 *
 * A reading is one host's CPU at one moment, as gmond or node_exporter
 * gave it; load = (cpu_user + cpu_system) x cpu_num / 100, the original
 * tool's figure (busy CPUs, not percent).  The store is shared by the
 * poller thread (which adds readings) and the stream (which reads them),
 * so every function takes the store's lock itself.
 */
#ifndef VMTP_COLLECT_CPU_H
#define VMTP_COLLECT_CPU_H

#include <pthread.h>
#include <stddef.h>

#include <jansson.h>

#include "libvmtp/err.h"

struct cpu_reading {
	char host[64]; /* host IP as the source reports it */
	double t;      /* epoch seconds when the reading was taken */
	double user;   /* cpu_user, percent of all CPUs */
	double system; /* cpu_system, percent of all CPUs */
	long num;      /* cpu_num */
	double load;   /* (user + system) * num / 100 */
};

/* Fills R's load from its user, system and num (inline: the parsers
 * need nothing else of the store, so fuzz harnesses take them alone). */
static inline void
cpu_reading_set_load(struct cpu_reading *r)
{
	r->load = (r->user + r->system) * (double)r->num / 100.0;
}

struct cpu_store;

/* Returns an empty store, or NULL with ERR set when out of memory. */
struct cpu_store *cpu_store_new(struct vmtp_err *err);

/* Frees S and its readings; NULL is allowed. */
void cpu_store_free(struct cpu_store *s);

/*
 * The lock that serializes stdout between the stream and the poller:
 * every record written while polling runs is written under it.
 */
pthread_mutex_t *cpu_store_lock(struct cpu_store *s);

/*
 * Adds the N readings of R from SOURCE (copied) and writes a cpu record
 * for each to stdout when the run tag is known; before that they wait for
 * cpu_store_set_run().  Takes the lock.  Returns 0, or -1 with ERR set
 * (out of memory, or writing failed).
 */
int cpu_store_add(struct cpu_store *s, const char *source,
    const struct cpu_reading *r, size_t n, struct vmtp_err *err);

/*
 * Sets the run tag for cpu records (the first one wins) and writes the
 * records that waited for it; RUN NULL writes them without a tag (end of
 * input with no tag seen).  Call with the lock held.  Returns 0, or -1
 * with ERR set when writing fails.
 */
int cpu_store_set_run(
    struct cpu_store *s, const char *run, struct vmtp_err *err);

/*
 * Builds a sample's cpu_load for the window [T_START, T_END]: {host: [the
 * last load before T_START (null when there is none), loads inside the
 * window ...]} for every host with a reading at or before T_END; a host
 * that several sources report is read from the source that reported it
 * first, so each list is one series.  Takes
 * the lock.  Returns a new reference, a new empty object when no host has
 * such a reading, or NULL when out of memory.
 */
json_t *cpu_store_load(struct cpu_store *s, double t_start, double t_end);

#endif
