/*
 * fuzz_clouds.c - libFuzzer harness for clouds.yaml (creds.h; SPEC §10):
 * the input is the clouds.yaml file; cloud "c" is looked up in it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libvmtp/creds.h"
#include "libvmtp/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct os_creds *c = os_creds_new(&err);
	char path[64];
	int fd;

	fd = memfd_create("fuzz-clouds", 0);
	if (fd >= 0 && c != NULL && write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		setenv("OS_CLIENT_CONFIG_FILE", path, 1);
		setenv("OS_CLIENT_SECURE_FILE", "/nonexistent", 1);
		if (os_creds_load_clouds(c, "c", &err) != 0 &&
		    err.exit == VMTP_EXIT_OK)
			__builtin_trap(); /* a failure always says why */
	}
	if (fd >= 0)
		close(fd);
	os_creds_free(c);
	return 0;
}
