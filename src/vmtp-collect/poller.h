/*
 * poller.h - the thread that polls every CPU source at a fixed interval
 * while the record stream flows (SPEC §6 vmtp-collect).
 *
 * One thread polls gmond servers and node_exporters in turn, each poll
 * bounded by a timeout, and adds readings to the cpu store.  The stream
 * never waits for a source: a slow or dead one only delays the next poll.
 */
#ifndef VMTP_COLLECT_POLLER_H
#define VMTP_COLLECT_POLLER_H

#include "libvmtp/err.h"

#include "cpu.h"

enum poller_kind { POLLER_GMOND, POLLER_NODEEXP };

struct poller;

/*
 * Returns a poller with no sources that adds readings to STORE (borrowed,
 * must outlive it), polling every INTERVAL seconds with each poll given up
 * after TIMEOUT seconds; NULL with ERR set when out of memory.
 */
struct poller *poller_new(struct cpu_store *store, double interval,
    double timeout, struct vmtp_err *err);

/*
 * Adds a source: for POLLER_GMOND, ADDR is HOST[:PORT] (default 8649,
 * [IPv6]:PORT); for POLLER_NODEEXP, an http(s) URL.  Returns 0, or -1 with
 * ERR set (VMTP_EXIT_USAGE naming the option and a bad ADDR).
 */
int poller_add(struct poller *p, enum poller_kind kind, const char *addr,
    struct vmtp_err *err);

/* The number of sources added. */
size_t poller_count(const struct poller *p);

/* Starts polling.  Returns 0, or -1 with ERR set. */
int poller_start(struct poller *p, struct vmtp_err *err);

/*
 * Stops polling (a poll in progress is cut short within a second) and
 * reports in ERR an error that stopped the thread (writing a cpu record
 * failed).  Returns 0, or -1 with ERR set.
 */
int poller_stop(struct poller *p, struct vmtp_err *err);

/* Stops P if it runs and frees it; NULL is allowed. */
void poller_free(struct poller *p);

#endif
