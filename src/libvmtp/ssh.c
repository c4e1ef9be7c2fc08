/*
 * ssh.c - SSH sessions, remote commands and SCP on libssh2 (see ssh.h;
 * SPEC §6 vmtp-run).
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>

#include "libvmtp/base64.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"
#include "libvmtp/ssh.h"

/* Output kept per stream; more is read and dropped (iperf3 -J of a long
 * run is a few hundred kB). */
#define OUT_MAX (8u << 20)
/* How long closing a channel may take after a timeout or a cancel. */
#define CLOSE_MS 3000

struct ssh_conn {
	int fd;
	LIBSSH2_SESSION *session;
	char *name; /* user@host[:port] */
	char *host;
	char *user;
	int port;
	char fingerprint[64];
	int keepalive_s;
	const volatile sig_atomic_t *cancel;
	struct ssh_job *jobs; /* commands running side by side */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
cancelled(const struct ssh_conn *c)
{
	return c->cancel != NULL && *c->cancel;
}

/* libssh2's last error text for the session, for messages. */
static const char *
last_error(LIBSSH2_SESSION *s)
{
	char *msg = NULL;

	if (s == NULL)
		return "no session";
	libssh2_session_last_error(s, &msg, NULL, 0);
	return msg != NULL && msg[0] != '\0' ? msg : "unknown error";
}

char *
ssh_password_load(const char *file, struct vmtp_err *err)
{
	const char *env = getenv("VMTP_SSH_PASSWORD");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;

	if (file == NULL) {
		if (env == NULL || env[0] == '\0')
			return NULL;
		line = strdup(env);
		if (line == NULL)
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return line;
	}
	fp = fopen(file, "r");
	if (fp == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "cannot open %s: %s", file,
		    strerror(errno));
		return NULL;
	}
	errno = 0;
	n = getline(&line, &cap, fp);
	if (n < 0 && ferror(fp)) {
		/* a folder opens, then its read fails (EISDIR); the buffer
		 * getline() made holds no string: wipe all of it */
		err_set(err, VMTP_EXIT_FAIL, "cannot read %s: %s", file,
		    strerror(errno != 0 ? errno : EIO));
		fclose(fp);
		if (line != NULL)
			explicit_bzero(line, cap);
		free(line);
		return NULL;
	}
	fclose(fp);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	/* an empty first line would be sent as an empty password */
	if (n <= 0) {
		if (line != NULL)
			explicit_bzero(line, cap);
		free(line);
		err_set(err, VMTP_EXIT_FAIL, "%s holds no password", file);
		return NULL;
	}
	return line;
}

void
ssh_password_free(char *pw)
{
	if (pw == NULL)
		return;
	explicit_bzero(pw, strlen(pw));
	free(pw);
}

char *
ssh_quote(const char *s)
{
	size_t n = 3;
	const char *p;
	char *q;
	char *w;

	for (p = s; *p != '\0'; p++)
		n += *p == '\'' ? 4 : 1;
	q = malloc(n);
	if (q == NULL)
		return NULL;
	w = q;
	*w++ = '\'';
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(w, "'\\''", 4);
			w += 4;
		} else {
			*w++ = *p;
		}
	}
	*w++ = '\'';
	*w = '\0';
	return q;
}

/*
 * Opens a TCP connection to HOST:PORT within TIMEOUT_MS.  Returns the
 * socket (blocking again), or -1 with ERR set.
 */
static int
tcp_connect(struct ssh_conn *c, int timeout_ms, struct vmtp_err *err)
{
	struct addrinfo hints = {0};
	struct addrinfo *res = NULL;
	struct addrinfo *ai;
	char port[16];
	long long deadline = now_ms() + timeout_ms;
	int saved = ETIMEDOUT;
	int fd = -1;
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", c->port);
	rc = getaddrinfo(c->host, port, &hints, &res);
	if (rc != 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot resolve %s: %s", c->host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int soerr = 0;
		socklen_t slen = sizeof(soerr);

		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd pfd = {fd, POLLOUT, 0};
			long long left;

			/* short slices, so that a signal's flag is seen */
			while (
			    (left = deadline - now_ms()) > 0 && !cancelled(c)) {
				rc =
				    poll(&pfd, 1, left > 200 ? 200 : (int)left);
				if (rc != 0)
					break;
			}
			if (pfd.revents != 0 &&
			    getsockopt(
			        fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == 0 &&
			    soerr == 0)
				break;
			saved = pfd.revents != 0 ? soerr : ETIMEDOUT;
		} else {
			saved = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot connect to %s: %s",
		    c->name, cancelled(c) ? "interrupted" : strerror(saved));
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static int
knownhost_keybit(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:
		return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS:
		return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519:
		return LIBSSH2_KNOWNHOST_KEY_ED25519;
	}
	return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
}

/*
 * Reads the known_hosts file KH_PATH (absent: no host is known) into a new
 * list of session S and looks up the host key KEY (KEYLEN bytes, of
 * libssh2 type TYPE) of HOST:PORT in it.  Returns a
 * LIBSSH2_KNOWNHOST_CHECK_* value with *KH set (free it with
 * libssh2_knownhost_free()), or -1 with ERR set (*KH set or NULL).
 */
static int
kh_check(LIBSSH2_SESSION *s, const char *kh_path, const char *host, int port,
    const char *key, size_t keylen, int type, LIBSSH2_KNOWNHOSTS **kh,
    struct vmtp_err *err)
{
	struct libssh2_knownhost *found = NULL;
	int mask;

	*kh = libssh2_knownhost_init(s);
	if (*kh == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	if (access(kh_path, F_OK) == 0 &&
	    libssh2_knownhost_readfile(
	        *kh, kh_path, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0)
		return err_set(err, VMTP_EXIT_FAIL, "cannot read %s: %s",
		    kh_path, last_error(s));
	mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
	       knownhost_keybit(type);
	return libssh2_knownhost_checkp(
	    *kh, host, port, key, keylen, mask, &found);
}

/*
 * Adds the host key KEY (KEYLEN bytes, of libssh2 type TYPE) of HOST:PORT
 * (NAME in messages) to the known_hosts file KH_PATH of session S, as one
 * line appended after a newline when its last line has none: what is
 * there stays as it is (OpenSSH's way; libssh2 writing the whole list
 * back drops comments and can write lines it cannot read again).  The
 * file is locked (flock) from the time it is read again until the line is
 * written, so that logins side by side (this run's, another program's)
 * never lose a line nor add a host twice.  Returns 0 when the line was
 * added, 1 when the host was there already with KEY (added meanwhile),
 * or -1 with ERR set (also when it was added meanwhile with another key).
 */
static int
kh_add(LIBSSH2_SESSION *s, const char *kh_path, const char *name,
    const char *host, int port, const char *key, size_t keylen, int type,
    struct vmtp_err *err)
{
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	struct libssh2_knownhost *entry = NULL;
	struct stat st;
	char hostport[512];
	char line[16384]; /* "\n", host, type, base64 of any host key */
	size_t len = 0;
	int mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
	           knownhost_keybit(type);
	int rc = -1;
	int r;
	int fd;

	fd = open(kh_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot add %s to %s: %s", name,
		    kh_path, strerror(errno));
		goto out;
	}
	r = kh_check(s, kh_path, host, port, key, keylen, type, &kh, err);
	if (r < 0)
		goto out;
	if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		rc = 1;
		goto out;
	}
	if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		err_set(err, VMTP_EXIT_FAIL,
		    "host key of %s has changed, refused; %s has another", name,
		    kh_path);
		goto out;
	}
	if (port == 22)
		snprintf(hostport, sizeof(hostport), "%s", host);
	else
		snprintf(hostport, sizeof(hostport), "[%s]:%d", host, port);
	if (libssh2_knownhost_addc(
	        kh, hostport, NULL, key, keylen, NULL, 0, mask, &entry) != 0 ||
	    libssh2_knownhost_writeline(kh, entry, line + 1, sizeof(line) - 1,
	        &len, LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot add %s to %s: %s", name,
		    kh_path, last_error(s));
		goto out;
	}
	line[0] = '\n';
	if (fstat(fd, &st) != 0 ||
	    (st.st_size > 0 && pread(fd, line, 1, st.st_size - 1) != 1)) {
		err_set(err, VMTP_EXIT_FAIL, "cannot add %s to %s: %s", name,
		    kh_path, strerror(errno));
		goto out;
	}
	/* line[0] is now the file's last byte, or still "\n" */
	errno = 0;
	if (line[0] == '\n') {
		if (write(fd, line + 1, len) != (ssize_t)len)
			goto write_fail;
	} else {
		line[0] = '\n';
		if (write(fd, line, len + 1) != (ssize_t)len + 1)
			goto write_fail;
	}
	r = close(fd); /* the lock goes with it */
	fd = -1;
	if (r != 0)
		goto write_fail;
	rc = 0;
	goto out;
write_fail:
	err_set(err, VMTP_EXIT_FAIL, "cannot add %s to %s: %s", name, kh_path,
	    errno != 0 ? strerror(errno) : "short write");
out:
	if (kh != NULL)
		libssh2_knownhost_free(kh);
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * Checks the session's host key: against EXPECT when given, then against
 * the known_hosts file KH_PATH with POLICY.  Returns 0 or -1 with ERR set.
 */
static int
check_hostkey(struct ssh_conn *c, const char *kh_path, int policy,
    const char *expect, struct vmtp_err *err)
{
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	const unsigned char *hash;
	const char *key;
	char defpath[4096];
	size_t keylen = 0;
	int type = 0;
	int rc = -1;
	int r;

	key = libssh2_session_hostkey(c->session, &keylen, &type);
	hash = (const unsigned char *)libssh2_hostkey_hash(
	    c->session, LIBSSH2_HOSTKEY_HASH_SHA256);
	if (key == NULL || hash == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "cannot get the host key of %s",
		    c->name);
		goto out;
	}
	memcpy(c->fingerprint, "SHA256:", 7);
	base64_encode(hash, 32, 0, c->fingerprint + 7);
	if (expect != NULL) {
		if (strcmp(expect, c->fingerprint) == 0) {
			rc = 0;
			goto out;
		}
		err_set(err, VMTP_EXIT_FAIL,
		    "host key of %s has changed (%s, expected %s), refused",
		    c->name, c->fingerprint, expect);
		goto out;
	}
	if (kh_path == NULL) {
		const char *home = getenv("HOME");

		snprintf(defpath, sizeof(defpath), "%s/.ssh/known_hosts",
		    home != NULL ? home : "");
		kh_path = defpath;
	}
	r = kh_check(
	    c->session, kh_path, c->host, c->port, key, keylen, type, &kh, err);
	if (r < 0)
		goto out;
	if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		rc = 0;
		goto out;
	}
	if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		err_set(err, VMTP_EXIT_FAIL,
		    "host key of %s has changed (%s), refused; %s has another",
		    c->name, c->fingerprint, kh_path);
		goto out;
	}
	if (policy != SSH_HOSTKEY_ACCEPT_NEW) {
		err_set(err, VMTP_EXIT_FAIL,
		    "host %s (%s) is not in %s; --hostkey-policy accept-new "
		    "adds it",
		    c->name, c->fingerprint, kh_path);
		goto out;
	}
	r = kh_add(c->session, kh_path, c->name, c->host, c->port, key, keylen,
	    type, err);
	if (r < 0)
		goto out;
	if (r == 0)
		log_debug(
		    "added %s (%s) to %s", c->name, c->fingerprint, kh_path);
	rc = 0;
out:
	if (kh != NULL)
		libssh2_knownhost_free(kh);
	return rc;
}

static int
auth_agent(struct ssh_conn *c)
{
	LIBSSH2_AGENT *agent = NULL;
	struct libssh2_agent_publickey *id = NULL;
	struct libssh2_agent_publickey *prev = NULL;
	int ok = 0;

	if (getenv("SSH_AUTH_SOCK") == NULL)
		return 0;
	agent = libssh2_agent_init(c->session);
	if (agent == NULL)
		return 0;
	if (libssh2_agent_connect(agent) == 0 &&
	    libssh2_agent_list_identities(agent) == 0) {
		while (
		    !ok && libssh2_agent_get_identity(agent, &id, prev) == 0) {
			if (libssh2_agent_userauth(agent, c->user, id) == 0)
				ok = 1;
			prev = id;
		}
		libssh2_agent_disconnect(agent);
	}
	libssh2_agent_free(agent);
	return ok;
}

static int
auth_keyfile(struct ssh_conn *c, const char *path)
{
	return libssh2_userauth_publickey_fromfile_ex(c->session, c->user,
	           (unsigned int)strlen(c->user), NULL, path, NULL) == 0;
}

/* Whether the comma-separated METHODS (may be NULL) name METHOD. */
static int
has_method(const char *methods, const char *method)
{
	size_t len = strlen(method);
	const char *p = methods;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, method, len) == 0 &&
		    (p[len] == ',' || p[len] == '\0'))
			return 1;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return 0;
}

/* Authenticates as ssh.h says.  Returns 0 or -1 with ERR set. */
static int
authenticate(struct ssh_conn *c, const struct ssh_opts *o, struct vmtp_err *err)
{
	static const char *const defaults[] = {
	    "id_ed25519", "id_ecdsa", "id_rsa", NULL};
	const char *home = getenv("HOME");
	const char *methods;
	char path[4096];
	int i;

	/* what the server takes, so that a refusal can say why */
	methods = libssh2_userauth_list(
	    c->session, c->user, (unsigned int)strlen(c->user));
	if (methods == NULL) {
		if (libssh2_userauth_authenticated(c->session))
			return 0;
		return err_set(err, VMTP_EXIT_FAIL, "cannot log in to %s: %s",
		    c->name, last_error(c->session));
	}
	if (o->key != NULL) {
		if (auth_keyfile(c, o->key))
			return 0;
		if (o->password == NULL)
			return err_set(err, VMTP_EXIT_FAIL,
			    "cannot log in to %s with key %s: %s", c->name,
			    o->key, last_error(c->session));
	} else {
		if (auth_agent(c))
			return 0;
		for (i = 0; home != NULL && defaults[i] != NULL; i++) {
			snprintf(path, sizeof(path), "%s/.ssh/%s", home,
			    defaults[i]);
			if (access(path, R_OK) == 0 && auth_keyfile(c, path))
				return 0;
		}
	}
	if (o->password == NULL)
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot log in to %s: no key or password was accepted",
		    c->name);
	if (!has_method(methods, "password"))
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot log in to %s: no key was accepted and the server "
		    "takes no password (it offers %s)",
		    c->name, methods);
	if (libssh2_userauth_password(c->session, c->user, o->password) == 0)
		return 0;
	if (libssh2_session_last_errno(c->session) ==
	    LIBSSH2_ERROR_PASSWORD_EXPIRED)
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot log in to %s: the password has expired", c->name);
	return err_set(err, VMTP_EXIT_FAIL,
	    "cannot log in to %s: password refused", c->name);
}

/* Tears down the session and socket of C, keeping C itself. */
static void
conn_drop(struct ssh_conn *c)
{
	if (c->session != NULL) {
		libssh2_session_set_blocking(c->session, 1);
		libssh2_session_set_timeout(c->session, CLOSE_MS);
		libssh2_session_disconnect(c->session, "bye");
		libssh2_session_free(c->session);
		c->session = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/*
 * One connection attempt.  Returns 0, -1 with ERR set for a failure worth
 * retrying, -2 with ERR set for one that is not (host key, credentials).
 */
static int
conn_try(struct ssh_conn *c, const struct ssh_opts *o, struct vmtp_err *err)
{
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : 10000;

	c->fd = tcp_connect(c, timeout, err);
	if (c->fd < 0)
		return -1;
	c->session = libssh2_session_init();
	if (c->session == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	libssh2_session_set_blocking(c->session, 1);
	libssh2_session_set_timeout(c->session, timeout);
	if (libssh2_session_handshake(c->session, c->fd) != 0)
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot start SSH with %s: %s", c->name,
		    last_error(c->session));
	if (check_hostkey(c, o->known_hosts, o->policy, o->fingerprint, err) <
	    0)
		return -2;
	if (authenticate(c, o, err) < 0)
		return -2;
	libssh2_keepalive_config(c->session, 1, (unsigned)c->keepalive_s);
	return 0;
}

/* libssh2_init() once per process, before sessions are opened side by
 * side (it is not thread-safe). */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void
init_libssh2(void)
{
	init_rc = libssh2_init(0);
}

struct ssh_conn *
ssh_open(const struct ssh_opts *o, struct vmtp_err *err)
{
	struct ssh_conn *c = NULL;
	const char *user = o->user != NULL ? o->user : getenv("USER");
	int attempts = o->attempts > 0 ? o->attempts : 1;
	int i;
	int rc = -1;
	size_t n;

	if (user == NULL)
		user = "root";
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto oom;
	c->fd = -1;
	c->port = o->port > 0 ? o->port : 22;
	c->keepalive_s = o->keepalive_s > 0 ? o->keepalive_s : 15;
	c->cancel = o->cancel;
	c->host = strdup(o->host);
	c->user = strdup(user);
	n = strlen(user) + strlen(o->host) + 16;
	c->name = malloc(n);
	if (c->host == NULL || c->user == NULL || c->name == NULL)
		goto oom;
	if (c->port == 22)
		snprintf(c->name, n, "%s@%s", user, o->host);
	else
		snprintf(c->name, n, "%s@%s:%d", user, o->host, c->port);
	pthread_once(&init_once, init_libssh2);
	if (init_rc != 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot initialize libssh2");
		goto out;
	}
	for (i = 0; i < attempts; i++) {
		struct vmtp_err e = VMTP_ERR_INIT;

		rc = conn_try(c, o, &e);
		if (rc == 0)
			break;
		conn_drop(c);
		if (rc == -2 || i + 1 == attempts || cancelled(c)) {
			err_set(err, e.exit, "%s", e.msg);
			break;
		}
		log_debug("%s (attempt %d of %d)", e.msg, i + 1, attempts);
		usleep((useconds_t)(o->retry_delay_ms > 0 ? o->retry_delay_ms
		                                          : 1000) *
		       1000);
	}
	goto out;
oom:
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
out:
	if (rc != 0) {
		ssh_close(c);
		return NULL;
	}
	return c;
}

void
ssh_close(struct ssh_conn *c)
{
	if (c == NULL)
		return;
	conn_drop(c);
	free(c->name);
	free(c->host);
	free(c->user);
	free(c);
}

int
ssh_alive(const struct ssh_conn *c)
{
	return c->session != NULL;
}

void
ssh_set_cancel(struct ssh_conn *c, const volatile sig_atomic_t *cancel)
{
	c->cancel = cancel;
}

const char *
ssh_fingerprint(const struct ssh_conn *c)
{
	return c->fingerprint;
}

const char *
ssh_name(const struct ssh_conn *c)
{
	return c->name;
}

void
ssh_result_free(struct ssh_result *res)
{
	if (res == NULL)
		return;
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
	res->out_len = res->err_len = 0;
}

/*
 * Waits until the session's socket is ready in the direction libssh2
 * needs, at most until DEADLINE (and 200 ms at a time), sending keepalives.
 * Returns 0 to go on, 1 when the deadline passed, 2 when cancelled.
 */
static int
wait_socket(struct ssh_conn *c, long long deadline, int check_cancel)
{
	struct pollfd pfd = {c->fd, 0, 0};
	int dir = libssh2_session_block_directions(c->session);
	long long left = deadline - now_ms();
	int next = 0;

	if (check_cancel && cancelled(c))
		return 2;
	if (left <= 0)
		return 1;
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		pfd.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd.events |= POLLOUT;
	if (pfd.events == 0)
		pfd.events = POLLIN;
	poll(&pfd, 1, left > 200 ? 200 : (int)left);
	libssh2_keepalive_send(c->session, &next);
	return 0;
}

/* Appends N bytes of BUF to *DST (length *LEN), keeping at most OUT_MAX. */
static int
append(char **dst, size_t *len, const char *buf, size_t n)
{
	char *d;

	if (*len + n > OUT_MAX)
		n = OUT_MAX - *len;
	d = realloc(*dst, *len + n + 1);
	if (d == NULL)
		return -1;
	memcpy(d + *len, buf, n);
	*len += n;
	d[*len] = '\0';
	*dst = d;
	return 0;
}

/*
 * Reads what STREAM (0: stdout, SSH_EXTENDED_DATA_STDERR) of CH has now and
 * appends it to *DST.  Returns 0 when data came or the stream ended (*EOF
 * set), 1 when nothing is there yet, -1 on a channel error, -2 when out of
 * memory.
 */
static int
drain(LIBSSH2_CHANNEL *ch, int stream, char *buf, size_t size, char **dst,
    size_t *len, int *eof)
{
	ssize_t n = libssh2_channel_read_ex(ch, stream, buf, size);

	if (n > 0)
		return append(dst, len, buf, (size_t)n) < 0 ? -2 : 0;
	if (n == LIBSSH2_ERROR_EAGAIN)
		return 1;
	if (n < 0)
		return -1;
	*eof = libssh2_channel_eof(ch);
	return !*eof;
}

/* A command on a channel of its own (ssh.h). */
struct ssh_job {
	struct ssh_conn *c;
	struct ssh_job *next; /* c's jobs */
	LIBSSH2_CHANNEL *ch;
	char *cmd;
	long long deadline;
	int state; /* enum job_state */
	int eof_out, eof_err;
	int lost; /* the session failed (err set) or was dropped */
	struct vmtp_err err;
	struct ssh_result res;
};

enum job_state {
	JOB_OPEN,
	JOB_EXEC,
	JOB_READ,
	JOB_CLOSE,
	JOB_CLOSED,
	JOB_DONE
};

/* Tears down C's session, telling its jobs that their channels went with
 * it. */
static void
conn_lose(struct ssh_conn *c, struct vmtp_err *err)
{
	struct ssh_job *j;

	for (j = c->jobs; j != NULL; j = j->next) {
		if (!j->lost)
			err_set(&j->err, err->exit, "%s", err->msg);
		j->lost = 1;
		j->ch = NULL; /* freed with the session */
	}
	conn_drop(c);
}

struct ssh_job *
ssh_job_start(
    struct ssh_conn *c, const char *cmd, int timeout_ms, struct vmtp_err *err)
{
	struct ssh_job *j;

	if (c->session == NULL) {
		err_set(
		    err, VMTP_EXIT_FAIL, "connection to %s is closed", c->name);
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL || (j->cmd = strdup(cmd)) == NULL ||
	    append(&j->res.out, &j->res.out_len, "", 0) < 0 ||
	    append(&j->res.err, &j->res.err_len, "", 0) < 0) {
		if (j != NULL) {
			free(j->cmd);
			ssh_result_free(&j->res);
		}
		free(j);
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	j->c = c;
	j->deadline = now_ms() + timeout_ms;
	j->res.status = -1;
	j->err = (struct vmtp_err)VMTP_ERR_INIT;
	j->next = c->jobs;
	c->jobs = j;
	return j;
}

/* Gives J up (W: 1 timed out, 2 cancelled): closes its channel, keeping
 * the session. */
static void
job_give_up(struct ssh_job *j, int w)
{
	long long close_by = now_ms() + CLOSE_MS;

	j->res.timed_out = w == 1;
	j->res.cancelled = w == 2;
	if (j->ch != NULL && j->state < JOB_CLOSE)
		while (libssh2_channel_close(j->ch) == LIBSSH2_ERROR_EAGAIN &&
		       wait_socket(j->c, close_by, 0) == 0)
			;
	j->state = JOB_DONE;
}

/* One move of J's state machine: 1 when it moved, 0 when it waits for the
 * socket, -1 when the session failed (J->err set). */
static int
job_move(struct ssh_job *j)
{
	LIBSSH2_SESSION *s = j->c->session;
	char buf[16384];
	ssize_t n;

	switch (j->state) {
	case JOB_OPEN:
		j->ch = libssh2_channel_open_session(s);
		if (j->ch == NULL)
			return libssh2_session_last_errno(s) ==
			               LIBSSH2_ERROR_EAGAIN
			           ? 0
			           : -1;
		j->state = JOB_EXEC;
		return 1;
	case JOB_EXEC:
		n = libssh2_channel_exec(j->ch, j->cmd);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (n != 0)
			return -1;
		j->state = JOB_READ;
		return 1;
	case JOB_READ: {
		/* 0: data came or the stream ended now; 1: nothing */
		int o = j->eof_out
		            ? 1
		            : drain(j->ch, 0, buf, sizeof(buf), &j->res.out,
		                  &j->res.out_len, &j->eof_out);
		int e = o < 0 || j->eof_err
		            ? (o < 0 ? o : 1)
		            : drain(j->ch, SSH_EXTENDED_DATA_STDERR, buf,
		                  sizeof(buf), &j->res.err, &j->res.err_len,
		                  &j->eof_err);

		if (o == -2 || e == -2) {
			err_set(&j->err, VMTP_EXIT_FAIL, "out of memory");
			return -1;
		}
		if (o < 0 || e < 0)
			return -1;
		if (j->eof_out && j->eof_err)
			j->state = JOB_CLOSE;
		return o + e < 2;
	}
	case JOB_CLOSE:
		n = libssh2_channel_close(j->ch);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return 0;
		j->state = JOB_CLOSED;
		return 1;
	case JOB_CLOSED: {
		char *sig = NULL;

		n = libssh2_channel_wait_closed(j->ch);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return 0;
		libssh2_channel_get_exit_signal(
		    j->ch, &sig, NULL, NULL, NULL, NULL, NULL);
		j->res.status =
		    sig != NULL ? -1 : libssh2_channel_get_exit_status(j->ch);
		free(sig);
		j->state = JOB_DONE;
		return 1;
	}
	}
	return 0;
}

int
ssh_job_step(struct ssh_job *j)
{
	struct ssh_conn *c = j->c;
	int m = 1;

	if (!j->lost && c->session == NULL) {
		err_set(&j->err, VMTP_EXIT_FAIL, "connection to %s is closed",
		    c->name);
		j->lost = 1;
		j->ch = NULL;
	}
	if (j->lost)
		return -1;
	if (j->state == JOB_DONE)
		return 1;
	libssh2_session_set_blocking(c->session, 0);
	while (j->state != JOB_DONE && (m = job_move(j)) == 1)
		;
	if (m < 0) {
		struct vmtp_err e = VMTP_ERR_INIT;

		if (j->err.msg[0] == '\0')
			err_set(&j->err, VMTP_EXIT_FAIL,
			    "connection to %s lost: %s", c->name,
			    last_error(c->session));
		err_set(&e, j->err.exit, "%s", j->err.msg);
		conn_lose(c, &e);
		return -1;
	}
	if (j->state != JOB_DONE) {
		if (cancelled(c))
			job_give_up(j, 2);
		else if (now_ms() >= j->deadline)
			job_give_up(j, 1);
	}
	libssh2_session_set_blocking(c->session, 1);
	return j->state == JOB_DONE;
}

const char *
ssh_job_out(const struct ssh_job *j, size_t *len)
{
	*len = j->res.out_len;
	return j->res.out;
}

void
ssh_wait(struct ssh_conn *c, int max_ms)
{
	if (c->session == NULL)
		return;
	wait_socket(c, now_ms() + (max_ms > 0 ? max_ms : 0), 0);
}

int
ssh_job_end(struct ssh_job *j, struct ssh_result *res, struct vmtp_err *err)
{
	struct ssh_conn *c = j->c;
	struct ssh_job **p;
	int rc = 0;

	if (!j->lost && j->state != JOB_DONE) {
		libssh2_session_set_blocking(c->session, 0);
		job_give_up(j, 2);
	}
	if (j->ch != NULL && !j->lost) {
		long long free_by = now_ms() + CLOSE_MS;

		libssh2_session_set_blocking(c->session, 0);
		while (libssh2_channel_free(j->ch) == LIBSSH2_ERROR_EAGAIN &&
		       wait_socket(c, free_by, 0) == 0)
			;
	}
	if (c->session != NULL)
		libssh2_session_set_blocking(c->session, 1);
	for (p = &c->jobs; *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	if (j->lost) {
		err_set(err, j->err.exit, "%s", j->err.msg);
		ssh_result_free(&j->res);
		memset(res, 0, sizeof(*res));
		res->status = -1;
		rc = -1;
	} else {
		*res = j->res;
	}
	free(j->cmd);
	free(j);
	return rc;
}

int
ssh_run(struct ssh_conn *c, const char *cmd, int timeout_ms,
    struct ssh_result *res, struct vmtp_err *err)
{
	struct ssh_job *j = ssh_job_start(c, cmd, timeout_ms, err);
	int w;

	if (j == NULL) {
		memset(res, 0, sizeof(*res));
		res->status = -1;
		return -1;
	}
	while ((w = ssh_job_step(j)) == 0)
		wait_socket(c, j->deadline, 0);
	return ssh_job_end(j, res, err);
}

int
ssh_upload(struct ssh_conn *c, const char *local, const char *remote, int mode,
    struct vmtp_err *err)
{
	LIBSSH2_CHANNEL *ch = NULL;
	struct stat st;
	char buf[32768];
	FILE *fp = NULL;
	size_t n;
	int rc = -1;

	if (c->session == NULL)
		return err_set(
		    err, VMTP_EXIT_FAIL, "connection to %s is closed", c->name);
	fp = fopen(local, "rb");
	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot read %s: %s", local,
		    strerror(errno));
		goto out;
	}
	libssh2_session_set_blocking(c->session, 1);
	libssh2_session_set_timeout(c->session, 60000);
	ch = libssh2_scp_send64(
	    c->session, remote, mode & 0777, (libssh2_int64_t)st.st_size, 0, 0);
	if (ch == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "cannot copy %s to %s:%s: %s",
		    local, c->name, remote, last_error(c->session));
		goto out;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		size_t off = 0;

		while (off < n) {
			ssize_t w =
			    libssh2_channel_write(ch, buf + off, n - off);

			if (w < 0) {
				err_set(err, VMTP_EXIT_FAIL,
				    "cannot copy %s to %s:%s: %s", local,
				    c->name, remote, last_error(c->session));
				goto out;
			}
			off += (size_t)w;
		}
	}
	if (ferror(fp)) {
		err_set(err, VMTP_EXIT_FAIL, "cannot read %s", local);
		goto out;
	}
	if (libssh2_channel_send_eof(ch) != 0 ||
	    libssh2_channel_wait_eof(ch) != 0 ||
	    libssh2_channel_wait_closed(ch) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot copy %s to %s:%s: %s",
		    local, c->name, remote, last_error(c->session));
		goto out;
	}
	rc = 0;
out:
	if (ch != NULL)
		libssh2_channel_free(ch);
	if (fp != NULL)
		fclose(fp);
	if (c->session != NULL)
		libssh2_session_set_timeout(c->session, 0);
	return rc;
}
