/*
 * controller.c - the controller node's distribution, OpenStack release and
 * CPU, read over SSH into the run record (see controller.h; SPEC §4, §5).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/hostinfo.h"
#include "libvmtp/log.h"
#include "libvmtp/ssh.h"

#include "controller.h"

/* How long one remote command may take. */
#define CMD_MS 30000

/*
 * Which service is installed, and at which version, as its Python
 * distribution says (importlib.metadata; pkg_resources before Python
 * 3.8): "neutron 21.1.2".  The system interpreter is asked first, as
 * distribution packages install into it, then the first python3 on PATH.
 */
static const char version_cmd[] =
    "for py in /usr/bin/python3 python3; do\n"
    "command -v \"$py\" >/dev/null 2>&1 && \"$py\" -c '\n"
    "import sys\n"
    "try:\n"
    "    from importlib.metadata import version\n"
    "except ImportError:\n"
    "    from pkg_resources import get_distribution\n"
    "    def version(name):\n"
    "        return get_distribution(name).version\n"
    "for name in sys.argv[1:]:\n"
    "    try:\n"
    "        print(name, version(name))\n"
    "        sys.exit(0)\n"
    "    except Exception:\n"
    "        pass\n"
    "sys.exit(1)\n"
    "' nova neutron keystone && exit 0\n"
    "done\n"
    "exit 1\n";

/*
 * Runs CMD on C.  Returns 1 with its output in *RES when it succeeded, 0
 * when it failed or timed out (a debug line says so, naming WHAT and
 * giving the first line of its stderr, else SILENT), -1 with ERR set when
 * the session is lost.
 */
static int
remote(struct ssh_conn *c, const char *cmd, const char *what,
    const char *silent, struct ssh_result *res, struct vmtp_err *err)
{
	char *nl;

	if (ssh_run(c, cmd, CMD_MS, res, err) < 0)
		return -1;
	if (res->status == 0)
		return 1;
	nl = strchr(res->err, '\n');
	if (nl != NULL)
		*nl = '\0';
	log_debug("%s: cannot read %s: %s", ssh_name(c), what,
	    res->timed_out        ? "timed out"
	    : res->cancelled      ? "interrupted"
	    : res->err[0] != '\0' ? res->err
	                          : silent);
	ssh_result_free(res);
	return 0;
}

/* Sets KEY of RUN to VALUE.  Returns 0, or -1 with ERR set. */
static int
set(json_t *run, const char *key, const char *value, struct vmtp_err *err)
{
	if (json_object_set_new(run, key, json_string(value)) != 0)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return 0;
}

/* Adds `distro`.  Returns 0, or -1 with ERR set. */
static int
read_distro(struct ssh_conn *c, json_t *run, struct vmtp_err *err)
{
	struct ssh_result res = {0};
	char distro[512];
	int rc;

	rc = remote(c,
	    "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release",
	    "os-release", "no such file", &res, err);
	if (rc <= 0)
		return rc;
	if (hostinfo_distro(res.out, distro, sizeof(distro)))
		rc = set(run, "distro", distro, err);
	else
		log_debug(
		    "%s: os-release names no NAME or PRETTY_NAME", ssh_name(c));
	ssh_result_free(&res);
	return rc < 0 ? -1 : 0;
}

/* Adds `cpu_info`.  Returns 0, or -1 with ERR set. */
static int
read_cpu(struct ssh_conn *c, json_t *run, struct vmtp_err *err)
{
	struct ssh_result res = {0};
	char cpu[512];
	int rc;

	rc = remote(
	    c, "cat /proc/cpuinfo", "/proc/cpuinfo", "no such file", &res, err);
	if (rc <= 0)
		return rc;
	if (hostinfo_cpu(res.out, cpu, sizeof(cpu)))
		rc = set(run, "cpu_info", cpu, err);
	else
		log_debug(
		    "%s: /proc/cpuinfo has no model name line", ssh_name(c));
	ssh_result_free(&res);
	return rc < 0 ? -1 : 0;
}

/* Adds `openstack_version`.  Returns 0, or -1 with ERR set. */
static int
read_openstack(struct ssh_conn *c, json_t *run, struct vmtp_err *err)
{
	struct ssh_result res = {0};
	char service[64];
	char version[128];
	char text[256];
	int rc;

	rc = remote(c, version_cmd, "the version of nova, neutron or keystone",
	    "no python3 knows any of them", &res, err);
	if (rc <= 0)
		return rc;
	rc = 0;
	if (sscanf(res.out, "%63s %127s", service, version) != 2 ||
	    hostinfo_openstack_release(service, version, text, sizeof(text)) <
	        0)
		log_debug(
		    "%s: no service version in '%.60s'", ssh_name(c), res.out);
	else
		rc = set(run, "openstack_version", text, err);
	ssh_result_free(&res);
	return rc;
}

int
controller_describe(
    const struct ssh_opts *so, json_t *run, struct vmtp_err *err)
{
	struct ssh_conn *c;
	int rc = -1;

	c = ssh_open(so, err);
	if (c == NULL)
		return 1;
	log_info("fetching the deployment's details from %s", ssh_name(c));
	if (read_distro(c, run, err) < 0 || read_openstack(c, run, err) < 0 ||
	    read_cpu(c, run, err) < 0)
		goto out;
	rc = 0;
out:
	/* a lost session is the controller's failure, not ours */
	if (rc < 0 && !ssh_alive(c))
		rc = 1;
	ssh_close(c);
	return rc;
}
