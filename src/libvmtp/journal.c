/*
 * journal.c - per-run journals of created resources (see journal.h; SPEC
 * §6 vmtp-provision, vmtp-cleanup).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/journal.h"
#include "libvmtp/rec.h"

int
journal_tag_ok(const char *tag)
{
	size_t i;

	if (tag == NULL || strncmp(tag, "vmtp-", 5) != 0 || strlen(tag) != 13)
		return 0;
	for (i = 5; i < 13; i++)
		if (!((tag[i] >= '0' && tag[i] <= '9') ||
		        (tag[i] >= 'a' && tag[i] <= 'f')))
			return 0;
	return 1;
}

char *
journal_dir(struct vmtp_err *err)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char *dir = NULL;
	int n;

	if (state != NULL && state[0] == '/')
		n = asprintf(&dir, "%s/vmtp", state);
	else if (home != NULL && home[0] != '\0')
		n = asprintf(&dir, "%s/.local/state/vmtp", home);
	else {
		err_set(err, VMTP_EXIT_FAIL,
		    "cannot place the journal: neither XDG_STATE_HOME nor HOME "
		    "is set");
		return NULL;
	}
	if (n < 0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	return dir;
}

/* The journal path of TAG, a new string; NULL with ERR set. */
static char *
journal_path(const char *tag, struct vmtp_err *err)
{
	char *dir = journal_dir(err);
	char *path = NULL;

	if (dir == NULL)
		return NULL;
	if (asprintf(&path, "%s/%s.ndjson", dir, tag) < 0) {
		path = NULL;
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	free(dir);
	return path;
}

/* mkdir -p DIR with mode 0700 for what it creates. */
static int
make_dirs(char *dir, struct vmtp_err *err)
{
	char *p;

	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			err_set(err, VMTP_EXIT_FAIL, "cannot create %s: %s",
			    dir, strerror(errno));
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_set(err, VMTP_EXIT_FAIL, "cannot create %s: %s", dir,
		    strerror(errno));
	return 0;
}

FILE *
journal_open(const char *tag, struct vmtp_err *err)
{
	char *dir = journal_dir(err);
	char *path = NULL;
	FILE *fp = NULL;
	int fd;

	if (dir == NULL || make_dirs(dir, err) != 0)
		goto out;
	path = journal_path(tag, err);
	if (path == NULL)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || (fp = fdopen(fd, "a")) == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "cannot open journal %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
	}
out:
	free(dir);
	free(path);
	return fp;
}

json_t *
journal_read(const char *tag, struct vmtp_err *err)
{
	struct rec_reader *rd = NULL;
	json_t *recs = json_array();
	json_t *rec;
	char *path = journal_path(tag, err);
	int rc;

	if (recs == NULL || path == NULL)
		goto fail;
	if (access(path, F_OK) != 0) {
		free(path);
		return recs;
	}
	rd = rec_reader_open(path, err);
	if (rd == NULL)
		goto fail;
	while ((rc = rec_next(rd, &rec, err)) == 1)
		if (json_array_append_new(recs, rec) != 0) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto fail;
		}
	if (rc < 0)
		goto fail;
	rec_reader_free(rd);
	free(path);
	return recs;
fail:
	if (recs == NULL)
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
	rec_reader_free(rd);
	free(path);
	json_decref(recs);
	return NULL;
}

static int
by_tag(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t **)a, "tag")),
	    json_string_value(json_object_get(*(json_t **)b, "tag")));
}

json_t *
journal_list(struct vmtp_err *err)
{
	char *dir = journal_dir(err);
	json_t *list = json_array();
	json_t **items = NULL;
	struct dirent *de;
	DIR *d = NULL;
	size_t i, n;

	if (dir == NULL || list == NULL)
		goto fail;
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT) {
			free(dir);
			return list;
		}
		err_set(err, VMTP_EXIT_FAIL, "cannot read %s: %s", dir,
		    strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		char tag[64];
		struct stat st;
		size_t len = strlen(de->d_name);

		if (len <= 7 || len - 7 >= sizeof(tag) ||
		    strcmp(de->d_name + len - 7, ".ndjson") != 0)
			continue;
		snprintf(tag, sizeof(tag), "%.*s", (int)(len - 7), de->d_name);
		if (!journal_tag_ok(tag) ||
		    fstatat(dirfd(d), de->d_name, &st, 0) != 0)
			continue;
		if (json_array_append_new(
		        list, json_pack("{s:s, s:I}", "tag", tag, "mtime",
		                  (json_int_t)st.st_mtime)) != 0) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto fail;
		}
	}
	n = json_array_size(list);
	items = calloc(n + 1, sizeof(*items));
	if (items == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(list, i));
	qsort(items, n, sizeof(*items), by_tag);
	json_array_clear(list);
	for (i = 0; i < n; i++)
		json_array_append_new(list, items[i]);
	free(items);
	closedir(d);
	free(dir);
	return list;
fail:
	if (d != NULL)
		closedir(d);
	free(dir);
	json_decref(list);
	return NULL;
}

int
journal_remove(const char *tag, struct vmtp_err *err)
{
	/* the journal last: while it exists, the run can be found again */
	static const char *const ext[] = {
	    ".key", ".key.pub", ".known_hosts", ".ndjson"};
	char *dir = journal_dir(err);
	char path[4200];
	size_t i;
	int rc = 0;

	if (dir == NULL)
		return -1;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]) && rc == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, tag, ext[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			rc = err_set(err, VMTP_EXIT_FAIL,
			    "cannot remove %s: %s", path, strerror(errno));
	}
	free(dir);
	return rc;
}
