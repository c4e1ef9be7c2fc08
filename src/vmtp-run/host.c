/*
 * host.c - vmtp-run's hosts (SPEC §6 vmtp-run, §8): one SSH session each,
 * what the host is (host_info records), the measurement tool found on it
 * or uploaded to it, its server started and stopped, and commands run on
 * it within a time limit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/hostinfo.h"
#include "libvmtp/log.h"
#include "libvmtp/ports.h"
#include "libvmtp/proc.h"
#include "libvmtp/rec.h"
#include "libvmtp/ssh.h"

#include "run.h"

const char *const run_tool_names[] = {"nuttcp", "iperf3"};

double
run_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct run_host *
host_find(struct run_ctx *ctx, const char *name)
{
	int i;

	for (i = 0; i < ctx->n_hosts; i++)
		if (strcmp(ctx->hosts[i].name, name) == 0)
			return &ctx->hosts[i];
	return NULL;
}

int
run_write(struct run_ctx *ctx, json_t *rec, struct vmtp_err *err)
{
	int rc;

	if (rec == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	pthread_mutex_lock(&ctx->lock);
	log_progress_end();
	rc = rec_write(ctx->out, rec, err);
	pthread_mutex_unlock(&ctx->lock);
	json_decref(rec);
	return rc;
}

/* Writes H's host_info record from its /etc/os-release, once. */
int
host_info(struct run_ctx *ctx, struct run_host *h, struct vmtp_err *err)
{
	struct ssh_result res = {0};
	char id[64];
	char version[64];
	json_t *rec;
	int rc;

	if (h->info_done)
		return 0;
	h->info_done = 1;
	if (ssh_run(h->conn, "cat /etc/os-release", RUN_MARGIN_MS, &res, err) <
	    0)
		return 0; /* the next command reports the lost session */
	hostinfo_os_release_get(res.out, "ID", id, sizeof(id));
	hostinfo_os_release_get(
	    res.out, "VERSION_ID", version, sizeof(version));
	ssh_result_free(&res);
	rec = rec_new("host_info", ctx->run_tag);
	if (rec == NULL ||
	    json_object_set_new(rec, "host", json_string(h->name)) != 0 ||
	    json_object_set_new(rec, "distro_id", json_string(id)) != 0 ||
	    json_object_set_new(rec, "distro_version", json_string(version)) !=
	        0) {
		json_decref(rec);
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	rc = run_write(ctx, rec, err);
	return rc;
}

/*
 * Makes sure H has a working session (one for the whole run; a lost one
 * is opened again once per flow).  Returns 0, or -1 with E set to why
 * (a measurement error, not fatal).
 */
int
host_conn(struct run_ctx *ctx, struct run_host *h, struct vmtp_err *e)
{
	const struct run_opts *o = ctx->o;
	json_t *ssh = json_object_get(h->rec, "ssh");
	struct ssh_opts so = {0};
	json_int_t port = json_integer_value(json_object_get(ssh, "port"));
	const char *key = json_string_value(json_object_get(ssh, "key"));

	if (h->conn != NULL && ssh_alive(h->conn))
		return 0;
	if (h->login_failed) {
		h->login_failed = 0;
		return err_set(e, VMTP_EXIT_FAIL, "%s", h->conn_error);
	}
	ssh_close(h->conn);
	h->conn = NULL;
	so.host = json_string_value(json_object_get(ssh, "host"));
	so.port = port > 0 && port < 65536 ? (int)port : 22;
	so.user = json_string_value(json_object_get(ssh, "user"));
	so.key = o->ssh_key != NULL ? o->ssh_key : key;
	so.password = o->password;
	so.known_hosts = o->known_hosts;
	so.policy = o->policy;
	so.fingerprint = json_string_value(json_object_get(ssh, "hostkey"));
	so.attempts = o->attempts;
	so.timeout_ms = o->connect_timeout_ms;
	so.cancel = o->stop;
	h->conn = ssh_open(&so, e);
	if (h->conn == NULL) {
		snprintf(h->conn_error, sizeof(h->conn_error), "%s", e->msg);
		return -1;
	}
	h->conn_gen++;
	log_debug("connected to %s (%s)", ssh_name(h->conn),
	    ssh_fingerprint(h->conn));
	return 0;
}

/* One login of host_login_all(). */
struct login {
	struct run_ctx *ctx;
	struct run_host *h;
	pthread_t thread;
	int started;
};

static void *
login_main(void *arg)
{
	struct login *l = arg;
	struct vmtp_err e = VMTP_ERR_INIT;

	if (host_conn(l->ctx, l->h, &e) < 0)
		l->h->login_failed = 1;
	return NULL;
}

void
host_login_all(struct run_ctx *ctx)
{
	struct login *l = calloc((size_t)ctx->n_hosts + 1, sizeof(*l));
	int i;

	if (l == NULL)
		return; /* each flow logs in to its hosts */
	for (i = 0; i < ctx->n_hosts; i++) {
		l[i].ctx = ctx;
		l[i].h = &ctx->hosts[i];
		if (ctx->hosts[i].wanted &&
		    pthread_create(&l[i].thread, NULL, login_main, &l[i]) == 0)
			l[i].started = 1;
	}
	for (i = 0; i < ctx->n_hosts; i++)
		if (l[i].started)
			pthread_join(l[i].thread, NULL);
	free(l);
}

/* Runs CMD on H without being cancelled (cleanup after a signal). */
static void
host_run_quietly(struct run_host *h, const char *cmd)
{
	struct vmtp_err e = VMTP_ERR_INIT;
	struct ssh_result res = {0};

	if (h->conn == NULL || !ssh_alive(h->conn))
		return;
	ssh_set_cancel(h->conn, NULL);
	if (ssh_run(h->conn, cmd, 5000, &res, &e) == 0)
		ssh_result_free(&res);
	else
		log_warn("%s", e.msg);
}

/*
 * Starts the measurement CMD on H for about SECONDS: its pid comes first
 * on stdout so that it can be killed when it overruns or the run is
 * interrupted (host_measure_end).
 */
struct ssh_job *
host_measure_start(struct run_ctx *ctx, struct run_host *h, const char *cmd,
    int seconds, struct vmtp_err *err)
{
	struct ssh_job *job;
	char *full = NULL;

	(void)ctx;
	if (asprintf(&full, "echo $$; exec %s", cmd) < 0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	log_debug("%s: %s", ssh_name(h->conn), cmd);
	job = ssh_job_start(h->conn, full, seconds * 1000 + RUN_MARGIN_MS, err);
	free(full);
	return job;
}

int
host_measure_end(struct run_ctx *ctx, struct run_host *h, struct ssh_job *job,
    struct ssh_result *res, struct vmtp_err *err)
{
	char *nl;
	long pid = 0;

	if (ssh_job_end(job, res, err) < 0)
		return -1;
	nl = strchr(res->out, '\n');
	if (nl != NULL) {
		pid = strtol(res->out, NULL, 10);
		memmove(res->out, nl + 1, strlen(nl + 1) + 1);
		res->out_len = strlen(res->out);
	}
	if ((res->timed_out || res->cancelled) && pid > 1) {
		char kill_cmd[64];

		snprintf(
		    kill_cmd, sizeof(kill_cmd), "kill %ld 2>/dev/null", pid);
		host_run_quietly(h, kill_cmd);
		ssh_set_cancel(h->conn, ctx->o->stop);
	}
	return 0;
}

/* The sha256 of the local file PATH as 64 hex digits, from sha256sum;
 * once per run and file (every host that lacks the tool gets the same). */
static int
local_sha256(const char *path, char out[65], struct vmtp_err *err)
{
	static char done_path[4096];
	static char done_sum[65];
	char *argv[] = {"sha256sum", "--", (char *)path, NULL};
	struct proc_cmd cmd = {argv, "coreutils", NULL, 0, 300};
	struct proc_out res;
	int rc;

	if (done_sum[0] != '\0' && strcmp(done_path, path) == 0) {
		memcpy(out, done_sum, 65);
		return 0;
	}
	rc = proc_run(&cmd, &res, err);

	if (rc == 0 &&
	    (res.out_len < 64 || strspn(res.out, "0123456789abcdef") != 64))
		rc = err_set(err, VMTP_EXIT_FAIL,
		    "cannot checksum %s: sha256sum said no checksum", path);
	if (rc == 0) {
		snprintf(out, 65, "%.64s", res.out);
		if (strlen(path) < sizeof(done_path)) {
			memcpy(done_path, path, strlen(path) + 1);
			memcpy(done_sum, out, 65);
		}
	}
	proc_out_clear(&res);
	return rc;
}

/* A command line from FORMAT, as a new string, or NULL when out of memory:
 * targets and tool paths come from outside and have no bound. */
char *__attribute__((format(printf, 1, 2))) run_cmd_new(const char *format, ...)
{
	char *cmd = NULL;
	va_list ap;
	int n;

	va_start(ap, format);
	n = vasprintf(&cmd, format, ap);
	va_end(ap);
	return n < 0 ? NULL : cmd;
}

/* The local PATH entry for NAME, malloc'd, or NULL. */
static char *
local_which(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	while (path != NULL && *path != '\0') {
		const char *end = strchr(path, ':');
		size_t len = end != NULL ? (size_t)(end - path) : strlen(path);

		if (len > 0 && len + strlen(name) + 2 < sizeof(buf)) {
			memcpy(buf, path, len);
			snprintf(buf + len, sizeof(buf) - len, "/%s", name);
			if (access(buf, X_OK) == 0)
				return strdup(buf);
		}
		path = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

/*
 * Puts the local tool NAME on H at /tmp/vmtp-<checksum>/NAME unless it is
 * there already (from an earlier run).  Returns that path (a new string),
 * or NULL with E set.
 */
static char *
tool_upload(struct run_host *h, const char *name, struct vmtp_err *e)
{
	struct ssh_result res = {0};
	char *local = local_which(name);
	char *path = NULL;
	char cmd[1024]; /* /tmp/vmtp-<16 hex>/<tool name> paths of ours */
	char tmp[512];
	char sum[65];
	int ok = 0;

	if (local == NULL) {
		err_set(e, VMTP_EXIT_FAIL,
		    "%s is not on %s and not here to upload", name,
		    ssh_name(h->conn));
		goto out;
	}
	if (local_sha256(local, sum, e) < 0)
		goto out;
	if (asprintf(&path, "/tmp/vmtp-%.16s/%s", sum, name) < 0) {
		path = NULL;
		err_set(e, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	snprintf(cmd, sizeof(cmd),
	    "test -x %s || { mkdir -p /tmp/vmtp-%.16s && echo upload; }", path,
	    sum);
	if (ssh_run(h->conn, cmd, RUN_MARGIN_MS, &res, e) < 0)
		goto out;
	if (strncmp(res.out, "upload", 6) != 0) {
		ok = 1;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	if (ssh_upload(h->conn, local, tmp, 0755, e) < 0)
		goto out;
	snprintf(cmd, sizeof(cmd), "mv -f %s %s", tmp, path);
	ssh_result_free(&res);
	if (ssh_run(h->conn, cmd, RUN_MARGIN_MS, &res, e) < 0)
		goto out;
	if (res.status != 0) {
		err_set(e, VMTP_EXIT_FAIL, "cannot install %s on %s", path,
		    ssh_name(h->conn));
		goto out;
	}
	log_info("uploaded %s to %s:%s", local, ssh_name(h->conn), path);
	ok = 1;
out:
	ssh_result_free(&res);
	free(local);
	if (!ok) {
		free(path);
		path = NULL;
	}
	return path;
}

int
host_tool_ensure(struct run_host *h, int tool, int upload, struct vmtp_err *e)
{
	int t = tool;
	const char *name = run_tool_names[t];
	struct ssh_result res = {0};
	char *path = NULL;
	char *qpath = NULL;
	char *version_cmd = NULL;
	char cmd[64];      /* a tool's name and its version */
	char ver[41] = ""; /* sscanf %40 below */
	int rc = -1;

	if (h->tool_path[t] != NULL)
		return 0;
	if (h->tool_absent[t])
		return err_set(
		    e, VMTP_EXIT_FAIL, "%s is not on %s", name, h->name);
	snprintf(cmd, sizeof(cmd), "command -v %s", name);
	if (ssh_run(h->conn, cmd, RUN_MARGIN_MS, &res, e) < 0)
		goto out;
	if (res.status == 0 && res.out[0] == '/') {
		res.out[strcspn(res.out, "\r\n")] = '\0';
		path = strdup(res.out);
	} else if (!upload) {
		h->tool_absent[t] = 1;
		err_set(e, VMTP_EXIT_FAIL, "%s is not on %s", name, h->name);
		goto out;
	} else {
		path = tool_upload(h, name, e);
		if (path == NULL)
			goto out;
	}
	qpath = ssh_quote(path);
	if (qpath == NULL) {
		err_set(e, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	/* the path is the host's answer: no bound, so not in CMD */
	version_cmd =
	    run_cmd_new("%s %s 2>&1", qpath, t == TOOL_NUTTCP ? "-V" : "-v");
	if (version_cmd == NULL) {
		err_set(e, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	ssh_result_free(&res);
	if (ssh_run(h->conn, version_cmd, RUN_MARGIN_MS, &res, e) < 0)
		goto out;
	/* "nuttcp-6.1.2" or "iperf 3.12 (cJSON 1.7.15)" */
	if (t == TOOL_NUTTCP && sscanf(res.out, "nuttcp-%40[0-9.]", ver) == 1)
		snprintf(cmd, sizeof(cmd), "nuttcp-%s", ver);
	else if (t == TOOL_IPERF3 &&
	         sscanf(res.out, "iperf %40[0-9.]", ver) == 1)
		snprintf(cmd, sizeof(cmd), "iperf3-%s", ver);
	else {
		err_set(e, VMTP_EXIT_FAIL, "%s on %s does not run", path,
		    ssh_name(h->conn));
		goto out;
	}
	h->tool_version[t] = strdup(cmd);
	h->tool_path[t] = qpath;
	qpath = NULL;
	if (h->tool_version[t] == NULL) {
		err_set(e, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	ssh_result_free(&res);
	free(path);
	free(qpath);
	free(version_cmd);
	return rc;
}

/*
 * Where a server's pid file lives on a host: a folder of the login user's
 * own in /tmp (made 0700; refused when it is a link or someone else's),
 * one file per port.  The file holds "PID START SESSION SESSION_START":
 * the server's pid and start time (field 22 of /proc/PID/stat) and those
 * of the sshd session process that started it (the shell's parent), so
 * that a pid the kernel gave to another process since is never taken for
 * the server, and a server whose session is gone is known to be a dead
 * run's.  st_ PID prints that start time, or nothing when PID has ended
 * (a zombie has too).
 */
#define SERVER_SH                                                              \
	"d=/tmp/vmtp-run-$(id -u); f=$d/%d.pid; "                              \
	"st_() { set -- $(cat \"/proc/$1/stat\" 2>/dev/null) x x; "            \
	"[ \"$3\" != Z ] && echo \"${22}\"; }; "                               \
	"ours_() { [ -d \"$d\" ] && [ ! -L \"$d\" ] && [ -O \"$d\" ]; }; "

/*
 * Stops, on H, the server that an earlier vmtp-run left on PORT: the pid
 * file's process when it still runs (same pid, same start time, the
 * tool's name) and the session that started it has ended (vmtp-run was
 * killed, or lost its connection).  A server whose session is alive is
 * another run's at work: refused with E set (this run's own session is not
 * another's).  No other process is ever signalled.  Returns 0 or -1 with
 * E set.
 */
static int
host_server_reclaim(struct run_host *h, int t, int port, struct vmtp_err *e)
{
	const char *tool = run_tool_names[t];
	struct ssh_result res = {0};
	char *cmd;
	long pid;
	int rc = -1;

	/* the session of a run killed a moment ago may take a little to
	 * notice its connection is gone: up to 2 s; a server asked to stop
	 * gets 5 s, then SIGKILL and 5 s more */
	cmd = run_cmd_new(SERVER_SH
	    "ours_ && [ -f \"$f\" ] || exit 0; "
	    "read sp ss op os < \"$f\"; "
	    "[ -n \"$sp\" ] && [ -n \"$ss\" ] && [ \"$(st_ \"$sp\")\" = "
	    "\"$ss\" ] && [ \"$(cat \"/proc/$sp/comm\" 2>/dev/null)\" = %s ] "
	    "|| { rm -f \"$f\"; exit 0; }; "
	    "i=0; while [ -n \"$os\" ] && [ \"$op\" != \"$PPID\" ] && "
	    "[ \"$(st_ \"$op\")\" = \"$os\" ]; do "
	    "[ $i -ge 40 ] && { echo busy $sp; exit 0; }; "
	    "sleep 0.05; i=$((i+1)); done; "
	    "kill \"$sp\"; i=0; while [ \"$(st_ \"$sp\")\" = \"$ss\" ]; do "
	    "[ $i -eq 100 ] && kill -9 \"$sp\"; [ $i -eq 200 ] && break; "
	    "sleep 0.05; i=$((i+1)); done; rm -f \"$f\"; echo stopped $sp",
	    port, tool);
	if (cmd == NULL)
		return err_set(e, VMTP_EXIT_FAIL, "out of memory");
	if (ssh_run(h->conn, cmd, RUN_MARGIN_MS + 8000, &res, e) < 0)
		goto out;
	if (sscanf(res.out, "stopped %ld", &pid) == 1)
		log_warn("stopped a %s server that an earlier vmtp-run left on "
		         "%s (pid %ld, port %d)",
		    tool, h->name, pid, port);
	else if (sscanf(res.out, "busy %ld", &pid) == 1) {
		err_set(e, VMTP_EXIT_FAIL,
		    "port %d on %s is taken by the %s server of another "
		    "vmtp-run, still connected (pid %ld)",
		    port, h->name, tool, pid);
		goto out;
	}
	rc = 0;
out:
	free(cmd);
	ssh_result_free(&res);
	return rc;
}

/*
 * Whether the server PID on H listens: a LISTEN (0A) socket on PORT in
 * /proc/net/tcp* whose inode is one of PID's descriptors (another
 * program on the port is not ours), checked up to TRIES times 50 ms
 * apart.  Returns 0 with res->status 0 (listens), 1 (not yet), 2 (PID
 * has ended) or 3 (another program has the port), or -1 with E set when
 * the session failed.
 */
static int
server_listens(struct run_host *h, int port, long pid, int tries,
    struct ssh_result *res, struct vmtp_err *e)
{
	char *cmd = run_cmd_new("i=0; while [ $i -lt %d ]; do "
	                        "l=$(awk '$2 ~ /:%04X$/ && $4 == \"0A\" "
	                        "{ print $10 }' /proc/net/tcp /proc/net/tcp6 "
	                        "2>/dev/null); for n in $l; do "
	                        "ls -l /proc/%ld/fd 2>/dev/null | "
	                        "grep -qF \"socket:[$n]\" && exit 0; done; "
	                        "kill -0 %ld 2>/dev/null || "
	                        "{ [ -n \"$l\" ] && exit 3; exit 2; }; "
	                        "i=$((i+1)); [ $i -lt %d ] && sleep 0.05; "
	                        "done; exit 1",
	    tries, port, pid, pid, tries);
	int rc;

	if (cmd == NULL)
		return err_set(e, VMTP_EXIT_FAIL, "out of memory");
	rc = ssh_run(h->conn, cmd, RUN_MARGIN_MS, res, e);
	free(cmd);
	return rc;
}

int
run_server(int tool, int slot)
{
	return slot == 0 ? tool : TOOL_IPERF3 + slot;
}

/* Server SRV's tool, and the port it listens on. */
static int
server_tool(int srv)
{
	return srv == TOOL_IPERF3 ? TOOL_IPERF3 : TOOL_NUTTCP;
}

static int
server_port(int srv)
{
	if (srv == TOOL_IPERF3)
		return VMTP_IPERF3_PORT;
	/* run_server()'s slot */
	return VMTP_NUTTCP_SLOT_PORT(
	    srv == TOOL_NUTTCP ? 0 : srv - TOOL_IPERF3);
}

/*
 * Starts the tool's server on H, recording it in its pid file, and waits
 * until it listens: a LISTEN socket on the port that is the server's own.
 * One that this run started there before is kept when it takes V6's
 * family and the session that started it is the one open (a lost
 * session's server is stopped by pid and started again: the host may
 * have lost it too).
 */
int
host_server_start(struct run_ctx *ctx, struct run_host *h, int srv, int v6,
    struct vmtp_err *e)
{
	int t = server_tool(srv);
	struct ssh_result res = {0};
	char *cmd = NULL;
	char *start = NULL;
	int port = server_port(srv);
	long pid;
	int rc = -1;

	if (h->server_pid[srv] > 0 && h->server_gen[srv] == h->conn_gen &&
	    (t == TOOL_IPERF3 || h->server_v6[srv] == v6)) {
		/* a client lost half-way can take nuttcp's server down */
		if (server_listens(h, port, h->server_pid[srv], 1, &res, e) < 0)
			goto out;
		if (res.status == 0) {
			rc = 0;
			goto out;
		}
		log_debug("%s: the %s server (pid %ld) no longer listens",
		    ssh_name(h->conn), run_tool_names[t], h->server_pid[srv]);
		ssh_result_free(&res);
	}
	host_stop_server(ctx, h, srv);
	if (host_server_reclaim(h, t, port, e) < 0)
		goto out;
	/* nuttcp's server takes one family: -4 unless told -6; iperf3's
	 * listens on both */
	if (t == TOOL_NUTTCP)
		start = run_cmd_new("%s -S%s --nofork -P %d -p %d",
		    h->tool_path[t], v6 ? " -6" : "", port, port + 1);
	else
		start = run_cmd_new("%s -s -p %d", h->tool_path[t], port);
	if (start != NULL)
		cmd = run_cmd_new(SERVER_SH
		    "mkdir -m 0700 \"$d\" 2>/dev/null; ours_ || "
		    "{ echo \"$d is not this user's folder\" >&2; exit 1; }; "
		    "nohup %s </dev/null >/dev/null 2>&1 & p=$!; "
		    "echo \"$p $(st_ $p) $PPID $(st_ $PPID)\" > \"$f\"; echo "
		    "$p",
		    port, start);
	if (cmd == NULL) {
		err_set(e, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	if (ssh_run(h->conn, cmd, RUN_MARGIN_MS, &res, e) < 0)
		goto out;
	pid = strtol(res.out, NULL, 10);
	if (pid <= 1) {
		/* the first line the host said, if any */
		res.err[strcspn(res.err, "\r\n")] = '\0';
		err_set(e, VMTP_EXIT_FAIL,
		    "cannot start the %s server on %s%s%.200s",
		    run_tool_names[t], ssh_name(h->conn),
		    res.err[0] ? ": " : "", res.err);
		goto out;
	}
	h->server_pid[srv] = pid;
	h->server_v6[srv] = v6;
	h->server_gen[srv] = h->conn_gen;
	log_debug("%s: %s server started (pid %ld)", ssh_name(h->conn),
	    run_tool_names[t], pid);
	ssh_result_free(&res);
	if (server_listens(h, port, pid, 100, &res, e) < 0)
		goto out;
	if (res.status == 3) {
		err_set(e, VMTP_EXIT_FAIL,
		    "port %d on %s is taken by another program: the %s server "
		    "cannot listen there",
		    port, h->name, run_tool_names[t]);
		goto out;
	}
	if (res.status != 0) {
		err_set(e, VMTP_EXIT_FAIL,
		    "the %s server on %s does not listen on port %d",
		    run_tool_names[t], ssh_name(h->conn), port);
		goto out;
	}
	rc = 0;
out:
	free(start);
	free(cmd);
	ssh_result_free(&res);
	return rc;
}

/* Stops TOOL's server this run started on H, and removes its pid file
 * when it is still that server's. */
void
host_stop_server(struct run_ctx *ctx, struct run_host *h, int srv)
{
	char cmd[512];

	if (h->server_pid[srv] <= 0)
		return;
	snprintf(cmd, sizeof(cmd),
	    SERVER_SH "kill %ld 2>/dev/null; ours_ && read sp x < \"$f\" && "
	              "[ \"$sp\" = %ld ] && rm -f \"$f\"",
	    server_port(srv), h->server_pid[srv], h->server_pid[srv]);
	host_run_quietly(h, cmd);
	if (h->conn != NULL)
		ssh_set_cancel(h->conn, ctx->o->stop);
	h->server_pid[srv] = 0;
}

void
host_stop_servers(struct run_ctx *ctx)
{
	int i, srv;

	for (i = 0; i < ctx->n_hosts; i++)
		for (srv = 0; srv < RUN_SERVERS; srv++)
			host_stop_server(ctx, &ctx->hosts[i], srv);
}

/* Runs "ip ARGS" as root: directly, or through sudo -n. */
#define MROUTE_IP                                                              \
	"ip_() { if [ \"$(id -u)\" = 0 ]; then ip \"$@\"; "                    \
	"else sudo -n ip \"$@\"; fi; }; "

int
host_mroute_add(struct run_ctx *ctx, struct run_host *h, const char *peer,
    char *src, size_t srclen, struct vmtp_err *e)
{
	struct ssh_result res = {0};
	char *qpeer = ssh_quote(peer);
	char *cmd = NULL;
	char dev[64] = "";
	char from[64] = "";
	char state[16] = "";
	const char *why;
	int rc = -1;

	if (src != NULL && srclen > 0)
		src[0] = '\0';
	if (qpeer == NULL) {
		err_set(e, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	/* the device holding PEER when it is this host's (the server, or
	 * both ends of a flow within one host), else the one routing to it;
	 * the first line says which device and which source address */
	cmd = run_cmd_new(MROUTE_IP
	    "p=%s; d=$(ip -o -4 addr show to \"$p/32\" 2>/dev/null | "
	    "awk '{print $2; exit}'); "
	    "r=$(ip -4 route get \"$p\" 2>/dev/null | head -n 1); "
	    "[ -n \"$d\" ] || d=$(echo \"$r\" | "
	    "sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'); "
	    "s=$(echo \"$r\" | sed -n 's/.* src \\([^ ]*\\).*/\\1/p'); "
	    "[ -n \"$d\" ] || { echo \"no route to $p\" >&2; exit 3; }; "
	    "echo \"$d ${s:--}\"; "
	    "o=$(ip_ route add 224.0.0.0/4 dev \"$d\" 2>&1) && echo added && "
	    "exit 0; "
	    "case $o in *'File exists'*) echo exists ;; "
	    "*) echo \"$o\" >&2; exit 4 ;; esac",
	    qpeer);
	if (cmd == NULL) {
		err_set(e, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	log_debug("%s: route 224.0.0.0/4 towards %s", ssh_name(h->conn), peer);
	/* not cancelled half-way: a route added is always known, so that
	 * it is removed */
	ssh_set_cancel(h->conn, NULL);
	rc = ssh_run(h->conn, cmd, RUN_MARGIN_MS, &res, e);
	ssh_set_cancel(h->conn, ctx->o->stop);
	if (rc < 0)
		goto out;
	rc = -1;
	if (res.err != NULL)
		res.err[strcspn(res.err, "\r\n")] = '\0';
	why = res.err != NULL && res.err[0] != '\0' ? res.err : "no answer";
	if (sscanf(res.out, "%63s %63s %15s", dev, from, state) < 2) {
		err_set(e, VMTP_EXIT_FAIL,
		    "cannot route 224.0.0.0/4 on %s: %.200s", ssh_name(h->conn),
		    why);
		goto out;
	}
	if (src != NULL && strcmp(from, "-") != 0)
		snprintf(src, srclen, "%s", from);
	if (strcmp(state, "added") == 0) {
		free(h->mroute_dev);
		h->mroute_dev = strdup(dev);
		if (h->mroute_dev == NULL) {
			err_set(e, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
	} else if (strcmp(state, "exists") != 0) {
		err_set(e, VMTP_EXIT_FAIL,
		    "cannot route 224.0.0.0/4 via %s on %s: %.200s", dev,
		    ssh_name(h->conn), why);
		goto out;
	}
	rc = 0;
out:
	ssh_result_free(&res);
	free(cmd);
	free(qpeer);
	return rc;
}

void
host_mroute_del(struct run_ctx *ctx, struct run_host *h)
{
	char *qdev;
	char *cmd = NULL;

	if (h->mroute_dev == NULL)
		return;
	if (h->conn == NULL || !ssh_alive(h->conn)) {
		log_warn("route 224.0.0.0/4 left on %s: the connection is lost",
		    h->name);
		goto out;
	}
	/* the device name is the host's answer */
	qdev = ssh_quote(h->mroute_dev);
	if (qdev != NULL)
		cmd = run_cmd_new(
		    MROUTE_IP "ip_ route del 224.0.0.0/4 dev %s", qdev);
	free(qdev);
	if (cmd == NULL) {
		log_warn("%s: cannot remove the route 224.0.0.0/4: out of "
		         "memory",
		    ssh_name(h->conn));
	} else {
		log_debug("%s: route 224.0.0.0/4 removed", ssh_name(h->conn));
		host_run_quietly(h, cmd);
		ssh_set_cancel(h->conn, ctx->o->stop);
	}
out:
	free(cmd);
	free(h->mroute_dev);
	h->mroute_dev = NULL;
}
