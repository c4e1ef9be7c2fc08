/*
 * fuzz_host.c - libFuzzer harness for vmtp-provision's --host
 * user@ip[:ifname], --external-host user@ip and --controller-node user@ip
 * values (SPEC §6, §10): any value must be split into its parts or
 * refused with a usage error, never crash, leak or read out of bounds.
 *
 * Input: the first byte picks the option, the rest is its value (up to
 * the first NUL, as in argv).  vmtp-provision's main.c is compiled in
 * below (its main renamed) to reach parse_host(); its other objects are
 * linked:
 * fuzz-objects: vmtp-provision/api vmtp-provision/cloud
 * fuzz-objects: vmtp-provision/controller vmtp-provision/discover
 * fuzz-objects: vmtp-provision/network vmtp-provision/records
 * fuzz-objects: vmtp-provision/tasks vmtp-provision/vm
 * Seed corpus: tests/fuzz/corpus/host/ (values of the bats tests).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libvmtp/err.h"

#define main vmtp_provision_main
#include "vmtp-provision/main.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether H, as taken from VALUE, is VALUE's parts. */
static int
fz_whole(const struct host *h, const char *value)
{
	char again[4096];

	if (h->user == NULL || h->addr == NULL || h->user[0] == '\0' ||
	    h->addr[0] == '\0')
		return 0;
	snprintf(again, sizeof(again), "%s@%s%s%s", h->user, h->addr,
	    h->ifname != NULL ? ":" : "", h->ifname != NULL ? h->ifname : "");
	return strlen(value) >= sizeof(again) || strcmp(again, value) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int chs[] = {OPT_HOST, OPT_EXTERNAL, OPT_CONTROLLER};
	struct vmtp_err err = VMTP_ERR_INIT;
	struct opts o;
	struct host *h;
	char *value;
	int external = 0;
	int rc;

	if (size == 0)
		return 0;
	value = strndup((const char *)data + 1, size - 1);
	if (value == NULL)
		return 0;
	memset(&o, 0, sizeof(o));
	optarg = value;
	rc = parse_host(chs[data[0] % 3], &o, &external, &err);
	optarg = NULL;
	h = o.n_hosts > 0 ? &o.hosts[0] : &o.controller;
	if (rc == 0 && !fz_whole(h, value))
		__builtin_trap(); /* the parts are not the value */
	if (rc != 0 && err.exit != VMTP_EXIT_USAGE)
		__builtin_trap(); /* bad values are usage errors */
	free(h->user);
	free(h->addr);
	free(h->ifname);
	free(value);
	return 0;
}
