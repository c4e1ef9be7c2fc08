/*
 * fuzz_sla.c - libFuzzer harness for vmtp-collect's SLA expressions
 * (sla.h; SPEC §10): any --sla text must parse or fail with a usage
 * error, and a parsed expression judged on any records must give verdicts
 * or fail cleanly, never crash, leak or read out of bounds.
 *
 * Input: the expression up to the first newline, then records, one JSON
 * object a line (what vmtp-collect reads); lines that are not objects are
 * skipped, as the record reader would have refused them.  Records and
 * verdicts are packed into a spill file (rec_pack()), as vmtp-collect
 * keeps them.
 * The grammar is vmtp-collect's own: sla.c is compiled in below.
 * Seed corpus: tests/fuzz/corpus/sla/ (the expressions of the bats tests
 * over the fixtures' runs).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "vmtp-collect/sla.h"

#include "vmtp-collect/sla.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The records of TEXT (LEN bytes), one object a line, as a new array,
 * packed into SPILL. */
static json_t *
records(const char *text, size_t len, struct rec_spill *spill)
{
	json_t *a = json_array();
	size_t at = 0;

	while (a != NULL && at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl != NULL ? (size_t)(nl - (text + at)) : len - at;
		json_t *r = json_loadb(text + at, n, 0, NULL);

		if (json_is_object(r))
			json_array_append_new(a, rec_pack(spill, r));
		else
			json_decref(r);
		at += n + 1;
	}
	return a;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	const char *nl = memchr(data, '\n', size);
	size_t n = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	char *expr = strndup((const char *)data, n);
	struct rec_spill *spill = NULL;
	json_t *recs = NULL;
	json_t *out = NULL;
	struct sla *s;
	size_t i;

	if (expr == NULL)
		return 0;
	s = sla_parse(expr, &err);
	if (s == NULL) {
		if (err.exit != VMTP_EXIT_USAGE)
			__builtin_trap(); /* only bad input is refused */
		goto out;
	}
	if (nl == NULL)
		goto out;
	spill = rec_spill_new(&err);
	if (spill == NULL)
		goto out;
	recs = records((const char *)data + n + 1, size - n - 1, spill);
	out = json_array();
	if (recs == NULL || out == NULL)
		goto out;
	if (sla_judge(s, recs, spill, out, &err) >= 0)
		for (i = 0; i < json_array_size(out); i++) {
			json_t *v = rec_at(out, i); /* packed */

			if (v != NULL &&
			    !json_is_boolean(json_object_get(v, "pass")))
				__builtin_trap(); /* a verdict says pass */
			json_decref(v);
		}
out:
	json_decref(out);
	json_decref(recs);
	rec_spill_free(spill);
	sla_free(s);
	free(expr);
	return 0;
}
