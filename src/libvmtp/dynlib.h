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

/* The entry of symbol NAME, whose address goes to FIELD of TABLE. */
#define DYNLIB_SYM(table, field, name)                                         \
	{                                                                      \
		offsetof(__typeof__(table), field), #name                      \
	}

/*
 * Loads SONAME once: when *LIB is NULL, opens it into *LIB and stores the
 * address of each of its N SYMS in TABLE.  Returns 0, or -1 with ERR set
 * (VMTP_EXIT_FAIL) saying that the Debian package PACKAGE is needed, or
 * which symbol the library lacks (*LIB stays NULL).
 */
int dynlib_load(void **lib, const char *soname, const char *package,
    const struct dynlib_sym *syms, size_t n, void *table, struct vmtp_err *err);

#endif
