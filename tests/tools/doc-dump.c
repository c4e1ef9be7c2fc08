/*
 * doc-dump.c - test driver for the result document module (SPEC §5):
 * loads each input (document, list of documents or record stream, "-" for
 * stdin) with doc_load() and prints the normalized documents as one JSON
 * array, so tests can compare assembly and reading with jq.
 *
 * doc-dump --lean FILE...: the same, read with doc_load_lean() (flows
 * packed into a spill file, unpacked to be printed): the same output.
 * doc-dump --packed FILE...: how many flows doc_load_lean() kept packed
 * (read one at a time) in the spill file, instead of the documents.
 *
 * doc-dump --whole FILE: assembles the records of FILE with doc_assemble()
 * and prints the documents as one whole dump (one run's an object, else a
 * list; 4 spaces a level, 15 digits a real), the bytes vmtp-collect --json
 * writes of them one flow at a time.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/doc.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"
#include "libvmtp/rec.h"

/* Unpacks the flows of each of DOCS (doc_load_lean()), adding those that
 * were packed into the spill file to *PACKED.  0 or -1. */
static int
unpack(json_t *docs, size_t *packed)
{
	json_t *doc;
	size_t i, j;

	json_array_foreach (docs, i, doc) {
		json_t *flows = json_object_get(doc, "flows");

		for (j = 0; j < doc_flow_count(doc); j++) {
			*packed += json_is_integer(json_array_get(flows, j));
			if (json_array_set_new(flows, j, doc_flow_at(doc, j)) !=
			    0)
				return -1;
		}
	}
	return 0;
}

/* doc-dump --whole PATH.  Returns the exit status. */
static int
whole(const char *path, struct vmtp_err *err)
{
	struct rec_reader *rd = rec_reader_open(path, err);
	json_t *records = json_array();
	json_t *docs = NULL;
	json_t *r;
	int rc;

	while (rd != NULL && (rc = rec_next(rd, &r, err)) > 0)
		json_array_append_new(records, r);
	if (rd != NULL && rc == 0 &&
	    (docs = doc_assemble(records, 0, err)) != NULL &&
	    (json_dumpf(
	         json_array_size(docs) == 1 ? json_array_get(docs, 0) : docs,
	         stdout, JSON_INDENT(4) | JSON_REAL_PRECISION(15)) != 0 ||
	        putchar('\n') == EOF))
		err_set(err, VMTP_EXIT_FAIL, "cannot write output");
	json_decref(docs);
	json_decref(records);
	rec_reader_free(rd);
	return err->exit;
}

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct rec_spill *spill = NULL;
	json_t *all = json_array();
	json_t *docs;
	FILE *fp;
	int lean = 0; /* 1: --lean, 2: --packed */
	size_t packed = 0;
	int i;

	log_init("doc-dump", LOG_INFO);
	if (argc == 3 && strcmp(argv[1], "--whole") == 0) {
		json_decref(all);
		if (whole(argv[2], &err) != VMTP_EXIT_OK)
			log_error("%s", err.msg);
		return err.exit;
	}
	if (argc > 1 && (strcmp(argv[1], "--lean") == 0 ||
	                    strcmp(argv[1], "--packed") == 0)) {
		lean = 1 + (strcmp(argv[1], "--packed") == 0);
		argv++;
		argc--;
		if ((spill = rec_spill_new(&err)) == NULL) {
			json_decref(all);
			log_error("%s", err.msg);
			return err.exit;
		}
	}
	if (argc == 1)
		argv[argc++] = "-";
	for (i = 1; i < argc && all != NULL; i++) {
		fp = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
		if (fp == NULL) {
			err_set(
			    &err, VMTP_EXIT_FAIL, "cannot open %s", argv[i]);
			break;
		}
		if (lean)
			docs = doc_load_lean(
			    fp, fp == stdin ? "<stdin>" : argv[i], spill, &err);
		else
			docs = doc_load(
			    fp, fp == stdin ? "<stdin>" : argv[i], &err);
		if (fp != stdin)
			fclose(fp);
		if (docs != NULL && unpack(docs, &packed) != 0)
			err_set(&err, VMTP_EXIT_FAIL, "out of memory");
		if (docs == NULL || err.exit != VMTP_EXIT_OK ||
		    json_array_extend(all, docs) != 0) {
			json_decref(docs);
			break;
		}
		json_decref(docs);
	}
	if (err.exit == VMTP_EXIT_OK && lean == 2)
		printf("%zu\n", packed);
	else if (err.exit == VMTP_EXIT_OK &&
	         json_dumpf(all, stdout,
	             JSON_INDENT(1) | JSON_REAL_PRECISION(15)) != 0)
		err_set(&err, VMTP_EXIT_FAIL, "cannot write output");
	json_decref(all);
	rec_spill_free(spill);
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	return err.exit;
}
