/*
 * tmp.c - unlinked temporary files (see tmp.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvmtp/err.h"
#include "libvmtp/tmp.h"

int
tmp_open(struct vmtp_err *err)
{
	const char *dir = getenv("TMPDIR");
	char *path = NULL;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if (asprintf(&path, "%s/vmtp-XXXXXX", dir) < 0)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		err_set(err, VMTP_EXIT_FAIL, "cannot create a file in %s: %s",
		    dir, strerror(errno));
	else
		unlink(path);
	free(path);
	return fd;
}
