/*
 * fuzz_records.c - libFuzzer harness for the record reader (SPEC §4, §10):
 * any bytes, read as a record stream, must give records or one clean
 * error, never a crash, leak or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct rec_reader *rd;
	json_t *rec;
	FILE *fp;

	if (size == 0)
		return 0;
	fp = fmemopen((void *)data, size, "r");
	if (fp == NULL)
		return 0;
	rd = rec_reader_new(fp, "fuzz", &err);
	while (rd != NULL && rec_next(rd, &rec, &err) == 1) {
		if (rec_type(rec) == NULL)
			__builtin_trap(); /* the reader promised a type */
		json_decref(rec);
	}
	rec_reader_free(rd);
	fclose(fp);
	return 0;
}
