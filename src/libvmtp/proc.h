/*
 * proc.h - running a local child process: one way for every program to
 * run a tool (gnuplot, ssh-keygen, sha256sum), with its input, its output
 * captured, a time limit and every error reported (STYLE: errors).
 *
 * The child is found in PATH, gets the caller's environment without its
 * secrets (OS_PASSWORD, OS_TOKEN, OS_AUTH_TOKEN,
 * OS_APPLICATION_CREDENTIAL_SECRET, VMTP_SSH_PASSWORD: SPEC §6), stdin from
 * the given bytes (or /dev/null) and pipes for stdout and stderr; no other
 * descriptor of ours reaches it.  Waiting survives signals (EINTR).
 */
#ifndef VMTP_PROC_H
#define VMTP_PROC_H

#include <stddef.h>

#include "libvmtp/err.h"

/* What to run. */
struct proc_cmd {
	char *const *argv;   /* argv[0] is looked up in PATH */
	const char *package; /* the Debian package of argv[0], or NULL */
	const char *in;      /* stdin's bytes, or NULL for /dev/null */
	size_t in_len;
	double timeout; /* seconds before the child is killed; 0: none */
};

/* What it did; the strings are the caller's (proc_out_clear()). */
struct proc_out {
	int status; /* as waitpid() gives it */
	char *out;  /* stdout, NUL-terminated; NULL when it wrote none */
	size_t out_len;
	char *err; /* stderr, NUL-terminated; NULL when it wrote none */
	size_t err_len;
};

/*
 * Runs CMD and waits for it.  Returns 0 when it exited with status 0, or
 * -1 with ERR set (VMTP_EXIT_FAIL): it cannot start ("gnuplot not found in
 * PATH: install the Debian package gnuplot-nox"), it outlived CMD's
 * timeout (then it is killed and reaped: "gnuplot did not finish in 60
 * s"), it failed ("ssh-keygen failed: LAST LINE OF STDERR", or its exit
 * status or signal), or out of memory.  *OUT is filled with what was
 * captured, on failure too, and is the caller's to clear.  A child that
 * stops reading stdin early is not an error of ours (no SIGPIPE).
 */
int proc_run(
    const struct proc_cmd *cmd, struct proc_out *out, struct vmtp_err *err);

/* A child started by proc_start(), waiting for its input. */
struct proc;

/*
 * Starts CMD as proc_run() does (CMD's in and in_len unused), its stdin a
 * pipe that proc_finish() feeds: the child starts up while the caller
 * makes its input.  CMD's timeout counts from here.  Returns a new handle,
 * or NULL with ERR set as proc_run() does when the child cannot start.
 */
struct proc *proc_start(const struct proc_cmd *cmd, struct vmtp_err *err);

/*
 * Feeds the LEN bytes of IN to P's child (unless proc_read_until() did),
 * closes its stdin and waits for it, as proc_run() does.  Frees P.
 * Returns 0, or -1 with ERR set; *OUT as proc_run() fills it, with all the
 * child wrote (what proc_read_until() lent too).
 */
int proc_finish(struct proc *p, const char *in, size_t len,
    struct proc_out *out, struct vmtp_err *err);

/*
 * Feeds the LEN bytes of IN to P's child and closes its stdin, as
 * proc_finish() does, then reads its stdout and stderr until DONE(what
 * stdout gave so far, its length, ARG) returns non-zero, or stdout and
 * stderr both end, by CMD's timeout.  The child may still run: the caller
 * works on the output while it exits, then calls proc_finish() (IN unused)
 * for its status and the rest of its output, or proc_abort().  *OUT
 * borrows what stdout gave (NUL-terminated, *OUT_LEN bytes; NULL when
 * none), valid until then.  Returns 1 when DONE said so, 0 when the output
 * ended first, or -1 with ERR set as proc_run() does (out of memory, the
 * timeout).
 */
int proc_read_until(struct proc *p, const char *in, size_t len,
    int (*done)(const char *out, size_t len, void *arg), void *arg,
    const char **out, size_t *out_len, struct vmtp_err *err);

/* Kills P's child, reaps it and frees P; NULL is allowed. */
void proc_abort(struct proc *p);

/* Frees the strings of OUT and zeroes it; NULL-safe. */
void proc_out_clear(struct proc_out *out);

#endif
