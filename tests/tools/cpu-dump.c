/*
 * cpu-dump.c - test driver for vmtp-collect's store of CPU readings
 * (src/vmtp-collect/cpu.c; SPEC §4 cpu_load): reads commands from stdin,
 * one a line, and prints what the store answers, so tests can check which
 * readings a sample's cpu_load takes.
 *
 *   add SOURCE HOST T LOAD    one reading of HOST from SOURCE at T (epoch
 *                             seconds): cpu_num 1, cpu_user LOAD x 100
 *   run TAG                   the run tag ("-": none); the store then
 *                             writes the cpu records, as vmtp-collect does
 *   load T_START T_END        prints the cpu_load of a sample of that
 *                             window, one compact JSON line
 *
 * The store is vmtp-collect's own, not libvmtp's: its source file is
 * compiled in below, as the fuzz harnesses do with the parsers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/log.h"
#include "vmtp-collect/cpu.h"

#include "vmtp-collect/cpu.c"

int
main(void)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct cpu_store *s;
	char line[512], source[128], host[64];
	double a, b;
	long n = 0;

	log_init("cpu-dump", LOG_INFO);
	s = cpu_store_new(&err);
	while (s != NULL && fgets(line, sizeof(line), stdin) != NULL) {
		struct cpu_reading r = {0};
		json_t *load;
		char *text;

		n++;
		if (sscanf(line, "add %127s %63s %lf %lf", source, host, &a,
		        &b) == 4) {
			snprintf(r.host, sizeof(r.host), "%s", host);
			r.t = a;
			r.user = b * 100;
			r.num = 1;
			cpu_reading_set_load(&r);
			if (cpu_store_add(s, source, &r, 1, &err) != 0)
				break;
		} else if (sscanf(line, "run %63s", host) == 1) {
			if (cpu_store_set_run(s,
			        strcmp(host, "-") == 0 ? NULL : host,
			        &err) != 0)
				break;
		} else if (sscanf(line, "load %lf %lf", &a, &b) == 2) {
			load = cpu_store_load(s, a, b);
			text = load != NULL
			           ? json_dumps(load,
			                 JSON_COMPACT | JSON_REAL_PRECISION(6))
			           : NULL;
			json_decref(load);
			if (text == NULL) {
				err_set(&err, VMTP_EXIT_FAIL, "out of memory");
				break;
			}
			printf("%s\n", text);
			free(text);
		} else {
			err_set(&err, VMTP_EXIT_USAGE, "line %ld: what is %s",
			    n, line);
			break;
		}
	}
	cpu_store_free(s);
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	return err.exit;
}
