/*
 * fuzz_gmond.c - libFuzzer harness for vmtp-collect's gmond XML reader
 * (SPEC §10): gmond_parse() on any bytes must return readings or an
 * error, never crash, leak or read out of bounds.
 *
 * The parser is vmtp-collect's own, not libvmtp's: its source file is
 * compiled in below, so tests/fuzz/run builds this harness like the others,
 * with libvmtp.a and the libraries.
 * Seed corpus: tests/fuzz/corpus/gmond/ (a real gmond's dump, a GRID of
 * CLUSTERs as gmetad nests them, truncated and odd documents).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <libxml/parser.h>

#include "libvmtp/err.h"
#include "vmtp-collect/cpu.h"
#include "vmtp-collect/gmond.h"

#include "vmtp-collect/gmond.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct cpu_reading *r = NULL;
	long n;
	long i;

	n = gmond_parse((const char *)data, size, 1.0, &r, &err);
	if (n < 0 && err.exit == VMTP_EXIT_OK)
		abort(); /* an error must say what it is */
	for (i = 0; i < n; i++)
		if (r[i].host[0] == '\0' || r[i].num < 1)
			abort(); /* a reading is a host with CPUs */
	free(r);
	return 0;
}
