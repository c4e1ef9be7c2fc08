/*
 * gmond.h - host CPU from Ganglia's gmond: fetch its XML dump over TCP and
 * read cpu_user, cpu_system and cpu_num of every host in it (SPEC §4 cpu
 * record, §6 vmtp-collect).
 */
#ifndef VMTP_COLLECT_GMOND_H
#define VMTP_COLLECT_GMOND_H

#include <stdatomic.h>
#include <stddef.h>

#include "libvmtp/err.h"

#include "cpu.h"

#define GMOND_PORT 8649

/*
 * Loads libxml2 and starts it (xmlInitParser): before any thread parses.
 * Returns 0, or -1 with ERR set (VMTP_EXIT_FAIL) naming the library when it
 * cannot be loaded.
 */
int gmond_init(struct vmtp_err *err);

/* Ends what gmond_init() started (xmlCleanupParser); nothing if it did not
 * run. */
void gmond_cleanup(void);

/*
 * Parses gmond's XML in BUF (LEN bytes): the GANGLIA_XML tree with its
 * GRIDs, CLUSTERs, HOSTs and METRICs.  Every HOST with an IP and numeric
 * cpu_user, cpu_system and cpu_num metrics gives one reading taken at T;
 * other hosts are left out.  Returns the number of readings, stored in
 * *OUT (a new array the caller frees; NULL when there are none), or -1
 * with ERR set (VMTP_EXIT_DATA) when BUF is not well-formed GANGLIA_XML
 * (VMTP_EXIT_FAIL when libxml2 cannot be loaded).
 */
long gmond_parse(const char *buf, size_t len, double t,
    struct cpu_reading **out, struct vmtp_err *err);

/*
 * Connects to HOST:PORT, reads the XML gmond sends until it closes the
 * connection, and returns it in *BUF (NUL-terminated, caller frees) with
 * its length in *LEN.  Gives up after TIMEOUT seconds in all, or within
 * 100 ms of *CANCEL becoming non-zero (CANCEL may be NULL).  Returns 0, or
 * -1 with ERR set (VMTP_EXIT_FAIL) naming what failed.
 */
int gmond_fetch(const char *host, const char *port, double timeout,
    const atomic_int *cancel, char **buf, size_t *len, struct vmtp_err *err);

#endif
