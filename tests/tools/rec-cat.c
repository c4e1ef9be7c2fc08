/*
 * rec-cat.c - test driver for the record stream library (SPEC §4): reads
 * record files (or stdin) and passes every record on, exactly as a program
 * passes on the records it does not consume.  --rewrite re-serializes each
 * record with rec_write() instead, to test the writer.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/log.h"
#include "libvmtp/rec.h"

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct rec_reader *rd = NULL;
	json_t *rec = NULL;
	int rewrite = 0;
	int i = 1;
	int rc;

	log_init("rec-cat", LOG_INFO);
	if (argc > 1 && strcmp(argv[1], "--rewrite") == 0) {
		rewrite = 1;
		i++;
	}
	if (i == argc)
		argv[--i] = "-";
	for (; i < argc && err.exit == VMTP_EXIT_OK; i++) {
		rd = rec_reader_open(argv[i], &err);
		if (rd == NULL)
			break;
		while ((rc = rec_next(rd, &rec, &err)) == 1) {
			rc = rewrite ? rec_write(stdout, rec, &err)
			             : rec_pass(rd, stdout, &err);
			json_decref(rec);
			if (rc < 0)
				break;
		}
		rec_reader_free(rd);
	}
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	return err.exit;
}
