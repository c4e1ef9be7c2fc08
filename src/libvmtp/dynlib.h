/*
 * dynlib.h - a library loaded when a feature needs it, not linked: for
 * libraries that would add megabytes to every run's resident memory (with
 * what they pull in) for a feature few runs use.
 */
#ifndef VMTP_DYNLIB_H
#define VMTP_DYNLIB_H

#include <stddef.h>

#include "libvmtp/err.h"

/* A function (or variable) of the library, and where its address goes:
 * the offset of a pointer in the caller's table. */
struct dynlib_sym {
	size_t at;
	const char *name;
};

/*
 * Loads SONAME and stores the address of each of its N SYMS in TABLE.
 * Returns the library's handle, or NULL with ERR set (VMTP_EXIT_FAIL)
 * saying that the Debian package PACKAGE is needed, or which symbol the
 * library lacks.
 */
void *dynlib_open(const char *soname, const char *package,
    const struct dynlib_sym *syms, size_t n, void *table, struct vmtp_err *err);

#endif
