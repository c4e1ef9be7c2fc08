/*
 * parse-dump.c - test driver for the tool output parsers (parse.h): reads
 * one tool's output from FILE (or stdin) and prints what was understood as
 * one JSON object, absent values as null; a parse error is printed on
 * stderr with exit status 1.  Usage: parse-dump nuttcp|iperf3|ping [FILE]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/log.h"
#include "libvmtp/parse.h"

static json_t *
num(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static char *
slurp(FILE *fp, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0;
	size_t n;

	*len = 0;
	for (;;) {
		char *nb;

		if (*len == cap) {
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + *len, 1, cap - *len, fp);
		if (n == 0)
			break;
		*len += n;
	}
	return buf;
}

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct parse_tp tp = {0};
	struct parse_ping pg;
	json_t *o = json_object();
	json_t *iv;
	FILE *fp = stdin;
	char *buf = NULL;
	size_t len;
	size_t i;
	int rc;

	log_init("parse-dump", LOG_INFO);
	if (argc < 2 || argc > 3 || o == NULL) {
		fprintf(
		    stderr, "usage: parse-dump nuttcp|iperf3|ping [FILE]\n");
		return 2;
	}
	if (argc == 3 && (fp = fopen(argv[2], "rb")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	buf = slurp(fp, &len);
	if (buf == NULL)
		return 1;
	if (strcmp(argv[1], "ping") == 0) {
		rc = parse_ping(buf, len, &pg, &err);
		if (rc == 0) {
			json_object_set_new(o, "tx", json_integer(pg.tx));
			json_object_set_new(o, "rx", json_integer(pg.rx));
			json_object_set_new(o, "min", num(pg.min_ms));
			json_object_set_new(o, "avg", num(pg.avg_ms));
			json_object_set_new(o, "max", num(pg.max_ms));
			json_object_set_new(o, "stddev", num(pg.stddev_ms));
			json_object_set_new(o, "p50", num(pg.p50_ms));
			json_object_set_new(o, "p99", num(pg.p99_ms));
		}
	} else {
		rc = strcmp(argv[1], "iperf3") == 0
		         ? parse_iperf3(buf, len, &tp, &err)
		         : parse_nuttcp(buf, len, &tp, &err);
		if (rc == 0) {
			json_object_set_new(o, "mbps", num(tp.mbps));
			json_object_set_new(o, "loss", num(tp.loss_pct));
			json_object_set_new(o, "jitter", num(tp.jitter_ms));
			json_object_set_new(o, "retrans",
			    tp.retrans < 0 ? json_null()
			                   : json_integer(tp.retrans));
			json_object_set_new(o, "rtt", num(tp.rtt_ms));
			iv = json_array();
			for (i = 0; i < tp.n_intervals; i++)
				json_array_append_new(
				    iv, json_real(tp.intervals[i]));
			json_object_set_new(o, "intervals", iv);
		}
		parse_tp_free(&tp);
	}
	if (rc == 0) {
		json_dumpf(o, stdout, JSON_COMPACT | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		log_error("%s", err.msg);
	}
	json_decref(o);
	free(buf);
	if (fp != stdin)
		fclose(fp);
	return rc == 0 ? 0 : 1;
}
