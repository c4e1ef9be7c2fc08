/*
 * proc.c - running a local child process with input, captured output and
 * a time limit; the contract is in proc.h.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libvmtp/proc.h"

extern char **environ;

/* One captured stream. */
struct sink {
	int fd;
	char *buf;
	size_t len, cap;
};

/* Appends what S's descriptor has to read.  Returns 1 at EOF, 0, -1. */
static int
sink_read(struct sink *s)
{
	ssize_t n;

	if (s->cap - s->len < 65536) {
		char *p = realloc(s->buf, s->cap * 2 + 65536);

		if (p == NULL)
			return -1;
		s->buf = p;
		s->cap = s->cap * 2 + 65536;
	}
	n = read(s->fd, s->buf + s->len, s->cap - s->len - 1);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return 1;
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	return 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds left until DEADLINE (0: none) for poll(): -1 for none. */
static int
left_ms(double deadline)
{
	double left;

	if (deadline == 0)
		return -1;
	left = deadline - now();
	return left <= 0 ? 0 : left > 1e6 ? 1000000000 : (int)(left * 1000) + 1;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The last non-empty line of BUF (LEN bytes), at most 300 bytes of it. */
static void
last_line(const char *buf, size_t len, char *line, size_t size)
{
	const char *end = buf + len;
	const char *start;

	while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > buf && start[-1] != '\n')
		start--;
	snprintf(line, size, "%.*s", (int)(end - start), start);
}

/* The variables that hold secrets: ours to read, never a tool's. */
static const char *const secret_vars[] = {
    "OS_PASSWORD=", "OS_TOKEN=", "OS_AUTH_TOKEN=",
    "OS_APPLICATION_CREDENTIAL_SECRET=", "VMTP_SSH_PASSWORD=", NULL};

/* Whether the environment entry E ("NAME=value") is a secret's. */
static int
secret_var(const char *e)
{
	int i;

	for (i = 0; secret_vars[i] != NULL; i++)
		if (strncmp(e, secret_vars[i], strlen(secret_vars[i])) == 0)
			return 1;
	return 0;
}

/* Our environment without its secrets: a new array of borrowed strings,
 * or NULL when out of memory. */
static char **
child_env(void)
{
	size_t n = 0;
	size_t k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = calloc(n + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (n = 0; environ[n] != NULL; n++)
		if (!secret_var(environ[n]))
			env[k++] = environ[n];
	return env;
}

/* Starts CMD with its stdin, stdout and stderr on the pipes given, and our
 * environment without its secrets. */
static int
spawn(const struct proc_cmd *cmd, int in, int out, int errfd, pid_t *pid,
    struct vmtp_err *err)
{
	const char *name = cmd->argv[0];
	posix_spawn_file_actions_t fa;
	char **env = child_env();
	int rc;

	if (env == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	if (posix_spawn_file_actions_init(&fa) != 0) {
		free(env);
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	rc = in >= 0 ? posix_spawn_file_actions_adddup2(&fa, in, 0)
	             : posix_spawn_file_actions_addopen(
	                   &fa, 0, "/dev/null", O_RDONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, out, 1);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	if (rc == 0)
		rc = posix_spawnp(pid, name, &fa, NULL, cmd->argv, env);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	if (rc == ENOENT && cmd->package != NULL)
		return err_set(err, VMTP_EXIT_FAIL,
		    "%s not found in PATH: install the Debian package %s", name,
		    cmd->package);
	if (rc != 0)
		return err_set(err, VMTP_EXIT_FAIL, "cannot run %s: %s", name,
		    strerror(rc));
	return 0;
}

/*
 * Feeds CMD's input to IN and reads OUT and ERR until both end, DONE (when
 * not NULL) says OUT's bytes are complete, or DEADLINE passes.  Returns 0,
 * 1 on timeout, 2 when DONE said so, -1 with ERR set.
 */
static int
pump(const struct proc_cmd *cmd, int *in, struct sink *o, struct sink *e,
    double deadline, int (*done)(const char *, size_t, void *), void *arg,
    struct vmtp_err *err)
{
	size_t sent = 0;

	if (*in >= 0 && cmd->in_len == 0)
		close_fd(in);
	while (o->fd >= 0 || e->fd >= 0) {
		struct pollfd fds[3] = {
		    {o->fd, POLLIN, 0}, {e->fd, POLLIN, 0}, {*in, POLLOUT, 0}};
		struct sink *sinks[2] = {o, e};
		int n = poll(fds, 3, left_ms(deadline));
		int k;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, VMTP_EXIT_FAIL, "cannot run %s: %s",
			    cmd->argv[0], strerror(errno));
		if (n == 0)
			return 1;
		if (fds[2].revents != 0) {
			ssize_t w =
			    write(*in, cmd->in + sent, cmd->in_len - sent);

			if (w > 0)
				sent += (size_t)w;
			/* a child that stops reading has what it wanted */
			if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
			    sent == cmd->in_len)
				close_fd(in);
		}
		for (k = 0; k < 2; k++) {
			int r;

			if (fds[k].revents == 0)
				continue;
			r = sink_read(sinks[k]);
			if (r < 0)
				return err_set(
				    err, VMTP_EXIT_FAIL, "out of memory");
			if (r == 1)
				close_fd(&sinks[k]->fd);
		}
		/* the output is complete only once the input is all given */
		if (done != NULL && *in < 0 && o->buf != NULL &&
		    done(o->buf, o->len, arg))
			return 2;
	}
	return 0;
}

/* Reaps PID by DEADLINE (0: whenever it ends).  Returns 0, 1 on timeout. */
static int
reap(pid_t pid, int *status, double deadline)
{
	/* a child whose output just ended is gone within microseconds:
	 * ask again at once a few times (a nap lasts 50 µs or more), then
	 * every 50 µs at first, then every 10 ms */
	int quick = 100;
	long nap = 50 * 1000;

	for (;;) {
		pid_t r = waitpid(pid, status, deadline == 0 ? 0 : WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return 0; /* not ours to wait for any more */
		if (r == 0 && quick > 0) {
			quick--;
			sched_yield();
		} else if (r == 0) {
			struct timespec ts = {0, nap};

			if (now() >= deadline)
				return 1;
			nanosleep(&ts, NULL);
			if (nap < 10 * 1000 * 1000)
				nap *= 2;
		}
	}
}

/* Fills ERR for a child that ended with STATUS other than exit 0. */
static int
failed(const struct proc_cmd *cmd, const struct proc_out *out,
    struct vmtp_err *err)
{
	const char *name = cmd->argv[0];
	char line[300] = "";

	if (out->err != NULL)
		last_line(out->err, out->err_len, line, sizeof(line));
	if (line[0] != '\0')
		return err_set(
		    err, VMTP_EXIT_FAIL, "%s failed: %s", name, line);
	if (WIFSIGNALED(out->status))
		return err_set(err, VMTP_EXIT_FAIL,
		    "%s failed: killed by signal %d", name,
		    WTERMSIG(out->status));
	return err_set(err, VMTP_EXIT_FAIL, "%s failed: exit status %d", name,
	    WEXITSTATUS(out->status));
}

/* A child started, its input not yet given (proc.h). */
struct proc {
	struct proc_cmd cmd; /* in, in_len: what proc_finish() feeds */
	pid_t pid;
	int in;               /* our end of its stdin, or -1 */
	struct sink out, err; /* its stdout and stderr, as read so far */
	double deadline;
	int ignoring; /* SIGPIPE ignored until the end, OLD restored then */
	struct sigaction old;
};

/* Kills (when KILL) and reaps P's child, closes P's pipes and frees P. */
static void
proc_free(struct proc *p, int kill_it)
{
	int status;

	if (p == NULL)
		return;
	if (p->pid > 0) {
		if (kill_it)
			kill(p->pid, SIGKILL);
		reap(p->pid, &status, 0);
	}
	close_fd(&p->in);
	close_fd(&p->out.fd);
	close_fd(&p->err.fd);
	free(p->out.buf);
	free(p->err.buf);
	if (p->ignoring)
		sigaction(SIGPIPE, &p->old, NULL);
	free(p);
}

/* Starts CMD, with a pipe for its stdin when PIPE_IN, else /dev/null. */
static struct proc *
start(const struct proc_cmd *cmd, int pipe_in, struct vmtp_err *err)
{
	int in[2] = {-1, -1}, o[2] = {-1, -1}, e[2] = {-1, -1};
	struct proc *p = calloc(1, sizeof(*p));
	struct sigaction ign;
	int r;

	if (p == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	p->cmd = *cmd;
	p->pid = -1;
	p->in = p->out.fd = p->err.fd = -1;
	p->deadline = cmd->timeout > 0 ? now() + cmd->timeout : 0;
	if ((pipe_in && pipe2(in, O_CLOEXEC) != 0) ||
	    pipe2(o, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot run %s: %s", cmd->argv[0],
		    strerror(errno));
		goto fail;
	}
	if (pipe_in) {
		/* a child that dies before reading all: EPIPE, not a
		 * fatal signal */
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		p->ignoring = sigaction(SIGPIPE, &ign, &p->old) == 0;
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	if (spawn(cmd, in[0], o[1], e[1], &p->pid, err) != 0) {
		p->pid = -1;
		goto fail;
	}
	close_fd(&in[0]);
	close_fd(&o[1]);
	close_fd(&e[1]);
	p->in = in[1];
	p->out.fd = o[0];
	p->err.fd = e[0];
	return p;
fail:
	for (r = 0; r < 2; r++) {
		close_fd(&in[r]);
		close_fd(&o[r]);
		close_fd(&e[r]);
	}
	proc_free(p, 1);
	return NULL;
}

struct proc *
proc_start(const struct proc_cmd *cmd, struct vmtp_err *err)
{
	return start(cmd, 1, err);
}

/* Fills ERR for P's child that outlived its deadline. */
static int
late(const struct proc *p, struct vmtp_err *err)
{
	return err_set(err, VMTP_EXIT_FAIL, "%s did not finish in %g s",
	    p->cmd.argv[0], p->cmd.timeout);
}

int
proc_read_until(struct proc *p, const char *in, size_t in_len,
    int (*done)(const char *out, size_t len, void *arg), void *arg,
    const char **out, size_t *out_len, struct vmtp_err *err)
{
	int r;

	p->cmd.in = in;
	p->cmd.in_len = in_len;
	r = pump(
	    &p->cmd, &p->in, &p->out, &p->err, p->deadline, done, arg, err);
	*out = p->out.buf;
	*out_len = p->out.len;
	if (r == 1)
		return late(p, err);
	return r < 0 ? -1 : r == 2;
}

int
proc_finish(struct proc *p, const char *in, size_t in_len, struct proc_out *out,
    struct vmtp_err *err)
{
	int rc = -1;
	int r;

	memset(out, 0, sizeof(*out));
	if (p->in >= 0) {
		p->cmd.in = in;
		p->cmd.in_len = in_len;
	}
	r = pump(
	    &p->cmd, &p->in, &p->out, &p->err, p->deadline, NULL, NULL, err);
	if (r == 0)
		r = reap(p->pid, &out->status, p->deadline);
	if (r < 0)
		goto out;
	if (r == 1) {
		late(p, err);
		goto out;
	}
	p->pid = -1;
	rc = 0;
out:
	close_fd(&p->out.fd);
	close_fd(&p->err.fd);
	out->out = p->out.buf;
	out->out_len = p->out.len;
	out->err = p->err.buf;
	out->err_len = p->err.len;
	p->out.buf = p->err.buf = NULL;
	if (rc == 0 &&
	    (!WIFEXITED(out->status) || WEXITSTATUS(out->status) != 0))
		rc = failed(&p->cmd, out, err);
	proc_free(p, 1);
	return rc;
}

void
proc_abort(struct proc *p)
{
	proc_free(p, 1);
}

int
proc_run(const struct proc_cmd *cmd, struct proc_out *out, struct vmtp_err *err)
{
	struct proc *p = start(cmd, cmd->in != NULL, err);

	if (p == NULL) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return proc_finish(p, cmd->in, cmd->in_len, out, err);
}

void
proc_out_clear(struct proc_out *out)
{
	if (out == NULL)
		return;
	free(out->out);
	free(out->err);
	memset(out, 0, sizeof(*out));
}
