/*
 * fuzz_ping.c - libFuzzer harness for parse_ping() (parse.h; SPEC §10): any
 * bytes must parse or fail cleanly, never crash, leak or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include "libvmtp/err.h"
#include "libvmtp/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct parse_ping pg;

	(void)parse_ping((const char *)data, size, &pg, &err);
	return 0;
}
