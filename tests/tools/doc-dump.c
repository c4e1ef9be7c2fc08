/*
 * doc-dump.c - test driver for the result document module (SPEC §5):
 * loads each input (document, list of documents or record stream, "-" for
 * stdin) with doc_load() and prints the normalized documents as one JSON
 * array, so tests can compare assembly and reading with jq.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/doc.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	json_t *all = json_array();
	json_t *docs;
	FILE *fp;
	int i;

	log_init("doc-dump", LOG_INFO);
	if (argc == 1)
		argv[argc++] = "-";
	for (i = 1; i < argc && all != NULL; i++) {
		fp = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
		if (fp == NULL) {
			err_set(
			    &err, VMTP_EXIT_FAIL, "cannot open %s", argv[i]);
			break;
		}
		docs = doc_load(fp, fp == stdin ? "<stdin>" : argv[i], &err);
		if (fp != stdin)
			fclose(fp);
		if (docs == NULL || json_array_extend(all, docs) != 0) {
			json_decref(docs);
			break;
		}
		json_decref(docs);
	}
	if (err.exit == VMTP_EXIT_OK &&
	    json_dumpf(all, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15)) !=
	        0)
		err_set(&err, VMTP_EXIT_FAIL, "cannot write output");
	json_decref(all);
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	return err.exit;
}
