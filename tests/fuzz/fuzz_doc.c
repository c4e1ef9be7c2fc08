/*
 * fuzz_doc.c - libFuzzer harness for result documents and their assembly
 * from records (SPEC §5, §10): doc_load() on any bytes returns documents
 * or one clean error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "libvmtp/doc.h"
#include "libvmtp/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	json_t *docs;
	FILE *fp;

	if (size == 0)
		return 0;
	fp = fmemopen((void *)data, size, "r");
	if (fp == NULL)
		return 0;
	docs = doc_load(fp, "fuzz", &err);
	if ((docs == NULL) == (err.exit == VMTP_EXIT_OK))
		__builtin_trap(); /* a result or an error, never both */
	json_decref(docs);
	fclose(fp);
	return 0;
}
