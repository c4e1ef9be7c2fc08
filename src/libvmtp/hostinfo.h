/*
 * hostinfo.h - what a Linux host's own files say about it (SPEC §4 run and
 * host_info records, §5 document): os-release values, the distribution as
 * the original tool named it, the CPU line of /proc/cpuinfo, and the
 * OpenStack release an installed service's version belongs to.
 *
 * Pure text functions: the callers read the files (over SSH) and hand over
 * their contents.  What the text does not say is reported as absent, never
 * guessed.
 */
#ifndef VMTP_HOSTINFO_H
#define VMTP_HOSTINFO_H

#include <stddef.h>

/*
 * Copies the value of KEY in os-release text OS (os-release(5): KEY=value,
 * value unquoted, or in "..." with \-escapes, or in '...') into OUT of SIZE
 * bytes, truncated.  Returns 1 when KEY is there, else 0 with OUT "".
 */
int hostinfo_os_release_get(
    const char *os, const char *key, char *out, size_t size);

/*
 * The distribution as the original tool wrote it: NAME and VERSION_ID
 * ("CentOS Linux 7", "Debian GNU/Linux 12"); NAME alone without a
 * VERSION_ID; PRETTY_NAME when there is no NAME.  Returns 1 with OUT set,
 * or 0 (OUT "") when OS names none of them.
 */
int hostinfo_distro(const char *os, char *out, size_t size);

/*
 * "N * MODEL" from /proc/cpuinfo text CPUINFO: N the processors that have a
 * "model name" line, MODEL the first one's ("40 * Intel(R) Xeon(R) CPU
 * E5-2660 v2 @ 2.20GHz").  Returns 1 with OUT set, or 0 (OUT "") when no
 * "model name" line is there (as on most ARM kernels).
 */
int hostinfo_cpu(const char *cpuinfo, char *out, size_t size);

/*
 * Names the OpenStack release of SERVICE (nova, neutron or keystone) at
 * VERSION (its Python distribution's version, "21.1.2"): each release
 * since Liberty raised every service's major version by one, so the major
 * version picks the release: "Zed (neutron 21.1.2)", "2025.2 Flamingo
 * (nova 32.0.0)".  A major version outside the table, a development
 * version ("32.1.0.dev4": it may already belong to the next release) or
 * an unknown service gives the version alone, "neutron 99.0.0".  Returns
 * 1 when the release is named, 0 for the version alone, -1 (OUT "") when
 * SERVICE or VERSION is not a plain name and a version number.
 */
int hostinfo_openstack_release(
    const char *service, const char *version, char *out, size_t size);

#endif
