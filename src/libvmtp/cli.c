/*
 * cli.c - checked command-line values and configuration warnings (see
 * cli.h; SPEC §6, §7, STYLE: Command line).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/cli.h"
#include "libvmtp/log.h"

int
cli_parse_long(const char *opt, const char *s, long long min, long long max,
    long long *out, struct vmtp_err *err)
{
	char *end = NULL;
	long long v;

	/* strtoll skips white space: " 5" is not a number here */
	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || isspace((unsigned char)s[0]) || *end != '\0' ||
	    errno == ERANGE)
		return err_set(err, VMTP_EXIT_USAGE,
		    "%s: '%s' is not a whole number", opt, s);
	if (v < min || v > max)
		return err_set(err, VMTP_EXIT_USAGE,
		    "%s: %lld is out of range (%lld to %lld)", opt, v, min,
		    max);
	*out = v;
	return 0;
}

int
cli_parse_double(const char *opt, const char *s, double min, double max,
    double *out, struct vmtp_err *err)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (s[0] == '\0' || isspace((unsigned char)s[0]) || *end != '\0' ||
	    errno == ERANGE || !isfinite(v))
		return err_set(
		    err, VMTP_EXIT_USAGE, "%s: '%s' is not a number", opt, s);
	if (v < min || v > max)
		return err_set(err, VMTP_EXIT_USAGE,
		    "%s: %g is out of range (%g to %g)", opt, v, min, max);
	*out = v;
	return 0;
}

int
cli_parse_word(const char *opt, const char *s, const char *const *words,
    struct vmtp_err *err)
{
	char list[256] = "";
	size_t len = 0;
	int i;

	for (i = 0; words[i] != NULL; i++) {
		if (strcmp(s, words[i]) == 0)
			return i;
		len += snprintf(list + len,
		    len < sizeof(list) ? sizeof(list) - len : 0, "%s%s",
		    i > 0 ? ", " : "", words[i]);
		if (len >= sizeof(list))
			len = sizeof(list) - 1;
	}
	return err_set(
	    err, VMTP_EXIT_USAGE, "%s: '%s' is not one of %s", opt, s, list);
}

int
cli_parse_duration(
    const char *opt, const char *s, long long *out, struct vmtp_err *err)
{
	static const char units[] = "smhd";
	static const long long mult[] = {1, 60, 3600, 86400};
	struct vmtp_err tmp = VMTP_ERR_INIT;
	char num[32];
	size_t len = strlen(s);
	const char *u;
	long long v;

	if (len == 0 || len >= sizeof(num))
		return err_set(err, VMTP_EXIT_USAGE,
		    "%s: '%s' is not a duration (90, 30m, 2h, 7d)", opt, s);
	memcpy(num, s, len + 1);
	u = strchr(units, num[len - 1]);
	if (u != NULL)
		num[len - 1] = '\0';
	if (cli_parse_long(opt, num, 0, 100LL * 365 * 86400, &v, &tmp) != 0)
		/* say what a duration looks like, not "whole number" */
		return err_set(err, VMTP_EXIT_USAGE,
		    "%s: '%s' is not a duration (90, 30m, 2h, 7d)", opt, s);
	*out = v * (u != NULL ? mult[u - units] : 1);
	return 0;
}

int
cli_check_file(
    const char *opt, const char *path, int may_be_missing, struct vmtp_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int is_dir;

	if (fd < 0 && may_be_missing && errno == ENOENT)
		return 0;
	if (fd < 0)
		return err_set(err, VMTP_EXIT_FAIL, "%s: cannot open %s: %s",
		    opt, path, strerror(errno));
	is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
	close(fd);
	if (is_dir)
		return err_set(err, VMTP_EXIT_FAIL, "%s: cannot read %s: %s",
		    opt, path, strerror(EISDIR));
	return 0;
}

int
cli_flush_stdout(struct vmtp_err *err)
{
	/* after a write that failed earlier, errno is still its reason */
	if (fflush(stdout) != 0 || ferror(stdout))
		return err_set(err, VMTP_EXIT_FAIL, "cannot write output: %s",
		    strerror(errno != 0 ? errno : EIO));
	return 0;
}

void
cli_print_version(const char *prog)
{
	printf("%s %s\n", prog, VMTP_VERSION);
}

int
cli_warn_ignored(const json_t *cfg, unsigned stage, struct vmtp_err *err)
{
	json_t *keys = cfg_list_ignored(cfg, stage, err);
	json_t *k;
	size_t i;

	if (keys == NULL)
		return -1;
	json_array_foreach (keys, i, k)
		log_warn("config key %s ignored: %s",
		    json_string_value(json_object_get(k, "key")),
		    json_string_value(json_object_get(k, "why")));
	json_decref(keys);
	return 0;
}

/* The string at KEY of REC, or "" when it has none. */
static const char *
field(const json_t *rec, const char *key)
{
	const char *v = json_string_value(json_object_get(rec, key));

	return v != NULL ? v : "";
}

void
cli_note_deleted(const json_t *deleted)
{
	const char *why = json_string_value(json_object_get(deleted, "error"));

	if (why == NULL)
		log_info("deleted %s %s (%s)", field(deleted, "kind"),
		    field(deleted, "name"), field(deleted, "id"));
	else
		log_warn("cannot delete %s %s (%s): %s", field(deleted, "kind"),
		    field(deleted, "name"), field(deleted, "id"), why);
}

void
cli_catch_stop_signals(void (*handler)(int))
{
	static const int sigs[] = {SIGINT, SIGTERM};
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
}
