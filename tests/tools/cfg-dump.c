/*
 * cfg-dump.c - test driver for the configuration loader (SPEC §7): loads
 * the defaults, ~/.vmtp.yaml and the file given (if any) with cfg_load()
 * and prints the result as one JSON object.
 */
#include <stdio.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	json_t *cfg;

	log_init("cfg-dump", LOG_INFO);
	cfg = cfg_load(argc > 1 ? argv[1] : NULL, &err);
	if (cfg != NULL) {
		if (json_dumpf(cfg, stdout, JSON_COMPACT) != 0 ||
		    putchar('\n') == EOF)
			err_set(&err, VMTP_EXIT_FAIL, "cannot write output");
		json_decref(cfg);
	}
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	return err.exit;
}
