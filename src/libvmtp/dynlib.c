/*
 * dynlib.c - a library loaded when a feature needs it (see dynlib.h).
 */
#include <dlfcn.h>
#include <string.h>

#include "libvmtp/dynlib.h"

void *
dynlib_open(const char *soname, const char *package,
    const struct dynlib_sym *syms, size_t n, void *table, struct vmtp_err *err)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (lib == NULL) {
		err_set(err, VMTP_EXIT_FAIL,
		    "cannot load %s (%s): install the Debian package %s",
		    soname, dlerror(), package);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		void *f = dlsym(lib, syms[i].name);

		if (f == NULL) {
			dlclose(lib);
			err_set(err, VMTP_EXIT_FAIL,
			    "cannot load %s: it has no %s", soname,
			    syms[i].name);
			return NULL;
		}
		memcpy((char *)table + syms[i].at, &f, sizeof(f));
	}
	return lib;
}
