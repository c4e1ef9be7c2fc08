/*
 * dynlib.c - a library loaded when a feature needs it (see dynlib.h).
 */
#include <dlfcn.h>
#include <string.h>

#include "libvmtp/dynlib.h"

int
dynlib_load(void **lib, const char *soname, const char *package,
    const struct dynlib_sym *syms, size_t n, void *table, struct vmtp_err *err)
{
	void *h;
	size_t i;

	if (*lib != NULL)
		return 0;
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot load %s (%s): install the Debian package %s",
		    soname, dlerror(), package);
	for (i = 0; i < n; i++) {
		void *f = dlsym(h, syms[i].name);

		if (f == NULL) {
			dlclose(h);
			return err_set(err, VMTP_EXIT_FAIL,
			    "cannot load %s: it has no %s", soname,
			    syms[i].name);
		}
		memcpy((char *)table + syms[i].at, &f, sizeof(f));
	}
	*lib = h;
	return 0;
}
