/*
 * fuzz_iperf3.c - libFuzzer harness for parse_iperf3() (parse.h; SPEC §10): any
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
	struct parse_tp tp;

	if (parse_iperf3((const char *)data, size, &tp, &err) == 0)
		parse_tp_free(&tp);
	return 0;
}
