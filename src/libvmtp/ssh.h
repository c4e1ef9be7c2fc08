/*
 * ssh.h - one SSH session per host, on libssh2 (SPEC §6 vmtp-run).
 *
 * A session is opened once (with a timeout and retries) and reused for
 * every command: run a command with a timeout capturing stdout, stderr and
 * the exit status, or upload a file with SCP.  The server's host key is
 * checked against a known_hosts file (strict, or accept-new which adds an
 * unknown host) and, when the caller knows it, against an expected SHA256
 * fingerprint; a changed key is always refused.
 *
 * Secrets: a password is only ever handed to libssh2; it is never copied
 * into an error message, a log line or a command line.
 */
#ifndef VMTP_SSH_H
#define VMTP_SSH_H

#include <signal.h>
#include <stddef.h>

#include "libvmtp/err.h"

enum ssh_hostkey_policy {
	SSH_HOSTKEY_STRICT = 0,    /* the host must be in known_hosts */
	SSH_HOSTKEY_ACCEPT_NEW = 1 /* an unknown host is added */
};

struct ssh_opts {
	const char *host;        /* name or IP address */
	int port;                /* 0: 22 */
	const char *user;        /* NULL: $USER */
	const char *key;         /* private key file, or NULL */
	const char *password;    /* secret, or NULL */
	const char *known_hosts; /* NULL: ~/.ssh/known_hosts */
	int policy;              /* enum ssh_hostkey_policy */
	/* expected "SHA256:..." (as a topology records it), or NULL; when
	 * given it is the trust anchor and known_hosts is not consulted */
	const char *fingerprint;
	int timeout_ms;     /* per connection attempt; 0: 10000 */
	int attempts;       /* connection attempts; 0: 1 */
	int retry_delay_ms; /* between attempts; 0: 1000 */
	int keepalive_s;    /* 0: 15 */
	/* when non-NULL and set (by a signal handler), waits give up */
	const volatile sig_atomic_t *cancel;
};

/* What a remote command left: its output and how it ended. */
struct ssh_result {
	char *out;      /* stdout, NUL-terminated, malloc'd */
	size_t out_len; /* bytes of out, NUL excluded */
	char *err;      /* stderr, NUL-terminated, malloc'd */
	size_t err_len;
	int status;    /* exit status; -1 when killed by a signal */
	int timed_out; /* the timeout struck; status is -1 */
	int cancelled; /* opts.cancel was set; status is -1 */
};

struct ssh_conn;

/*
 * Connects to O->host, checks its host key and authenticates: with O->key,
 * else ssh-agent ($SSH_AUTH_SOCK), else ~/.ssh/id_ed25519, id_ecdsa and
 * id_rsa, then with O->password when given and the server takes the
 * "password" method.  O's strings are copied (the password is not kept
 * after authentication).  Returns the session, or NULL with ERR set
 * (VMTP_EXIT_FAIL) naming the host and the cause ("cannot log in to
 * user@host: password refused", "... the server takes no password (it
 * offers publickey)", ...).
 */
struct ssh_conn *ssh_open(const struct ssh_opts *o, struct vmtp_err *err);

/* Closes the session and frees C; NULL is allowed. */
void ssh_close(struct ssh_conn *c);

/* Whether the session still works (a failed ssh_run() closes it). */
int ssh_alive(const struct ssh_conn *c);

/* Replaces the cancel flag of ssh_opts (NULL: waits are never cancelled),
 * so that cleanup commands can run after a signal. */
void ssh_set_cancel(struct ssh_conn *c, const volatile sig_atomic_t *cancel);

/* The host key's fingerprint, "SHA256:<base64 without padding>". */
const char *ssh_fingerprint(const struct ssh_conn *c);

/* "user@host[:port]" as given, for messages. */
const char *ssh_name(const struct ssh_conn *c);

/*
 * Runs CMD (a command line for the remote shell) and waits at most
 * TIMEOUT_MS for it to end.  Fills *RES (free it with ssh_result_free()) and
 * returns 0 when the command ran, whatever its status, also when it timed
 * out or was cancelled (res->timed_out, res->cancelled); returns -1 with ERR
 * set when the session failed (the connection is then unusable).
 */
int ssh_run(struct ssh_conn *c, const char *cmd, int timeout_ms,
    struct ssh_result *res, struct vmtp_err *err);

void ssh_result_free(struct ssh_result *res);

/*
 * Commands side by side on one session, each on a channel of its own:
 * ssh_job_start() sends CMD; ssh_job_step() moves a job on without
 * waiting; ssh_wait() waits for the session's socket; ssh_job_end() ends
 * it.  ssh_run() is one job, waited for.  Every job of a session is ended
 * before the session is closed.
 */
struct ssh_job;

/* Starts CMD with TIMEOUT_MS to end.  Returns the job, or NULL with ERR
 * set (the session is closed, or out of memory). */
struct ssh_job *ssh_job_start(
    struct ssh_conn *c, const char *cmd, int timeout_ms, struct vmtp_err *err);

/* Reads what J's channel has and moves it on, without waiting.  Returns 1
 * when J has ended (it ran, timed out or was cancelled), 0 when it runs,
 * -1 when the session failed (every job of it then fails; the connection
 * is unusable). */
int ssh_job_step(struct ssh_job *j);

/* J's standard output so far (NUL-terminated; *LEN bytes). */
const char *ssh_job_out(const struct ssh_job *j, size_t *len);

/* Waits at most MAX_MS (and 200 ms) for C's socket, sending keepalives;
 * step every job again after it. */
void ssh_wait(struct ssh_conn *c, int max_ms);

/* Ends J and frees it: fills *RES as ssh_run() does and returns 0, or -1
 * with ERR set when the session failed.  A job that has not ended is
 * given up first (res->cancelled; its channel is closed). */
int ssh_job_end(
    struct ssh_job *j, struct ssh_result *res, struct vmtp_err *err);

/*
 * Copies the local file LOCAL to REMOTE (a path) with SCP and mode MODE.
 * Returns 0, or -1 with ERR set.
 */
int ssh_upload(struct ssh_conn *c, const char *local, const char *remote,
    int mode, struct vmtp_err *err);

/*
 * Reads the SSH password from $VMTP_SSH_PASSWORD or, when FILE is not NULL,
 * from the first line of FILE (which wins).  Returns a malloc'd secret the
 * caller frees with ssh_password_free(), NULL with ERR clear when there is
 * none, or NULL with ERR set when FILE cannot be read or its first line is
 * empty.
 */
char *ssh_password_load(const char *file, struct vmtp_err *err);

/* Wipes and frees a password from ssh_password_load(); NULL is allowed. */
void ssh_password_free(char *pw);

/*
 * Returns S quoted for a POSIX shell ('...' with ' written as '\''), a new
 * malloc'd string, or NULL when out of memory.
 */
char *ssh_quote(const char *s);

#endif
