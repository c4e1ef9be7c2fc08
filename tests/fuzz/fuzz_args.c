/*
 * fuzz_args.c - libFuzzer harness for the number, rate and list option
 * values (SPEC §6, §10): vmtp-run's -t, --bandwidth, --flows,
 * --icmp-sizes, --tcpbuf, --udpbuf, --udp-loss-range, --ping-count,
 * --tcp-loops, --multicast-addr and --protocols, and libvmtp's durations
 * (vmtp-cleanup --older-than) and words.  Any value must be taken within
 * its range or refused with a usage error, never crash or overflow.
 *
 * Input: the first byte picks the option, the rest is its value (up to
 * the first NUL, as in argv).  vmtp-run's main.c is compiled in below
 * (its main renamed) to reach its static parsers; its other objects are
 * linked:
 * fuzz-objects: vmtp-run/flow vmtp-run/host
 * Seed corpus: tests/fuzz/corpus/args/ (values of the bats tests).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libvmtp/cli.h"
#include "libvmtp/err.h"

#define main vmtp_run_main
#include "vmtp-run/main.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The options of parse_value(), then the others this harness tries. */
static const int fz_opts[] = {'t', OPT_BANDWIDTH, OPT_FLOWS, OPT_MCAST,
    OPT_ICMP, OPT_PING, OPT_LOOPS, OPT_TCPBUF, OPT_LOSS, OPT_UDPBUF};
#define FZ_NOPTS ((int)(sizeof(fz_opts) / sizeof(fz_opts[0])))

/* Whether the options O took are within their documented ranges. */
static int
fz_in_range(const struct run_opts *o)
{
	int i;

	for (i = 0; i < o->n_udpbuf; i++)
		if (o->udpbuf[i] < 16 || o->udpbuf[i] > 65507)
			return 0;
	for (i = 0; i < o->n_tcpbuf; i++)
		if (o->tcpbuf[i] < 1 || o->tcpbuf[i] > 1 << 26)
			return 0;
	return o->n_udpbuf <= RUN_MAX_LIST && o->n_tcpbuf <= RUN_MAX_LIST &&
	       o->n_icmp <= RUN_MAX_LIST && o->n_flows <= 64 &&
	       o->loss_min <= o->loss_max &&
	       (o->bandwidth_kbps == 0 || o->bandwidth_kbps >= 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const words[] = {"strict", "accept-new", NULL};
	struct vmtp_err err = VMTP_ERR_INIT;
	struct run_opts o;
	long long secs = -1;
	char *value;
	int pick;
	int rc;

	if (size == 0)
		return 0;
	pick = data[0] % (FZ_NOPTS + 3);
	value = strndup((const char *)data + 1, size - 1);
	if (value == NULL)
		return 0;
	memset(&o, 0, sizeof(o));
	if (pick < FZ_NOPTS) {
		optarg = value;
		rc = parse_value(fz_opts[pick], &o, &err);
		optarg = NULL;
		if (rc == 0 && err.exit == VMTP_EXIT_OK && !fz_in_range(&o))
			__builtin_trap(); /* a value out of range taken */
	} else if (pick == FZ_NOPTS) {
		rc = parse_protocols(value, &o.protocols, &err);
	} else if (pick == FZ_NOPTS + 1) {
		rc = cli_parse_duration("--older-than", value, &secs, &err);
		if (rc == 0 && secs < 0)
			__builtin_trap(); /* a negative age taken */
	} else {
		rc = cli_parse_word("--hostkey-policy", value, words, &err) < 0
		         ? -1
		         : 0;
	}
	if (rc != 0 && err.exit != VMTP_EXIT_USAGE)
		__builtin_trap(); /* bad values are usage errors */
	free(value);
	return 0;
}
