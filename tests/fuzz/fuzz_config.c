/*
 * fuzz_config.c - libFuzzer harness for the YAML configuration loader
 * (SPEC §7, §10): any file content gives a configuration or one clean
 * error naming a line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	json_t *cfg = json_object();
	char path[64];
	int fd;

	fd = memfd_create("fuzz-config", 0);
	if (fd < 0 || cfg == NULL || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		json_decref(cfg);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (cfg_merge_file(cfg, path, &err) != 0 && err.exit == VMTP_EXIT_OK)
		__builtin_trap(); /* a failure always says why */
	json_decref(cfg);
	close(fd);
	return 0;
}
