/*
 * err.h - exit statuses and the caller-owned error report of libvmtp.
 *
 * SPEC §6: every program exits with one of these codes.  Library functions
 * never print or exit; they fill a struct vmtp_err owned by the caller and
 * return -1 (or NULL).  The first error set wins, so the root cause is what
 * main() finally prints.
 */
#ifndef VMTP_ERR_H
#define VMTP_ERR_H

/* Append-only: scripts test these numbers, never renumber them. */
enum vmtp_exit {
	VMTP_EXIT_OK = 0,
	VMTP_EXIT_FAIL = 1,  /* runtime failure */
	VMTP_EXIT_USAGE = 2, /* bad command line */
	VMTP_EXIT_FLOWS = 3, /* the run finished but some flows failed */
	VMTP_EXIT_SLA = 4,   /* an SLA verdict failed (vmtp-collect) */
	VMTP_EXIT_DATA = 65  /* bad input data (sysexits EX_DATAERR) */
};

struct vmtp_err {
	int exit;      /* enum vmtp_exit; VMTP_EXIT_OK while no error */
	char msg[512]; /* lower case, no final period, never a secret */
};

#define VMTP_ERR_INIT                                                          \
	{                                                                      \
		VMTP_EXIT_OK, ""                                               \
	}

/*
 * Records an error with exit status CODE unless one is recorded already.
 * Always returns -1 so callers can write `return err_set(...)`.
 */
int err_set(struct vmtp_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resets ERR to "no error", for callers that handle an error and go on. */
void err_clear(struct vmtp_err *err);

#endif
