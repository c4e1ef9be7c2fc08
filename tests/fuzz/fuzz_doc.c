/*
 * fuzz_doc.c - libFuzzer harness for result documents and their assembly
 * from records (SPEC §5, §10): doc_load() on any bytes returns documents
 * or one clean error; doc_load_lean() on the same bytes in a file (read a
 * flow at a time) returns the same documents, or the same error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/doc.h"
#include "libvmtp/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* DOCS (doc_load_lean()) with their flows unpacked; 0, or -1. */
static int
unpack(json_t *docs)
{
	json_t *doc;
	size_t i, j;

	json_array_foreach (docs, i, doc) {
		for (j = 0; j < doc_flow_count(doc); j++)
			if (json_array_set_new(json_object_get(doc, "flows"), j,
			        doc_flow_at(doc, j)) != 0)
				return -1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct vmtp_err lerr = VMTP_ERR_INIT;
	json_t *docs;
	json_t *lean = NULL;
	FILE *fp;

	if (size == 0)
		return 0;
	fp = fmemopen((void *)data, size, "r");
	if (fp == NULL)
		return 0;
	docs = doc_load(fp, "fuzz", &err);
	if ((docs == NULL) == (err.exit == VMTP_EXIT_OK))
		__builtin_trap(); /* a result or an error, never both */
	fclose(fp);
	/* a regular file, read a flow at a time */
	fp = tmpfile();
	if (fp != NULL && fwrite(data, 1, size, fp) == size &&
	    fseek(fp, 0, SEEK_SET) == 0) {
		lean = doc_load_lean(fp, "fuzz", NULL, &lerr);
		if (lean != NULL && unpack(lean) != 0)
			goto out; /* out of memory */
		if (err.exit != lerr.exit || strcmp(err.msg, lerr.msg) != 0 ||
		    (docs != NULL && !json_equal(docs, lean)))
			__builtin_trap(); /* read two ways, told apart */
	}
out:
	if (fp != NULL)
		fclose(fp);
	json_decref(lean);
	json_decref(docs);
	return 0;
}
