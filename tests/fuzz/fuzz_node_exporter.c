/*
 * fuzz_node_exporter.c - libFuzzer harness for vmtp-collect's reader of
 * node_exporter's /metrics text (SPEC §10): nodeexp_parse() on any bytes
 * must return totals or an error, never crash or read out of bounds.
 *
 * The parser is vmtp-collect's own, not libvmtp's: its source file is
 * compiled in below, so tests/fuzz/run builds this harness like the others,
 * with libvmtp.a and the libraries.
 * Seed corpus: tests/fuzz/corpus/node_exporter/ (a real exporter's page).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "libvmtp/err.h"
#include "vmtp-collect/nodeexp.h"

#include "vmtp-collect/nodeexp.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct nodeexp_totals tot;
	struct nodeexp_totals zero = {0, 0, 0, 1};
	struct cpu_reading r;

	if (nodeexp_parse((const char *)data, size, &tot, &err) != 0) {
		if (err.exit == VMTP_EXIT_OK)
			abort(); /* an error must say what it is */
		return 0;
	}
	if (tot.num < 1 || !isfinite(tot.all) ||
	    tot.user > tot.all + 1e-6 * tot.all)
		abort();
	if (nodeexp_reading(&zero, &tot, "127.0.0.1", 1.0, &r) == 0 &&
	    !(r.load >= 0))
		abort();
	return 0;
}
