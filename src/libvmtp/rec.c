/*
 * rec.c - read, pass on and write records, one JSON object a line (SPEC §4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/rec.h"

struct rec_reader {
	FILE *fp;
	int owned;   /* fp was opened by rec_reader_open() */
	char *name;  /* file name for messages */
	long line;   /* number of the last line read */
	char *buf;   /* the last line read, as read */
	size_t cap;  /* getline's buffer size */
	ssize_t len; /* bytes of buf in use, newline included */
};

struct rec_reader *
rec_reader_new(FILE *fp, const char *name, struct vmtp_err *err)
{
	struct rec_reader *rd = calloc(1, sizeof(*rd));

	if (rd == NULL || (rd->name = strdup(name)) == NULL) {
		free(rd);
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	rd->fp = fp;
	return rd;
}

struct rec_reader *
rec_reader_open(const char *path, struct vmtp_err *err)
{
	struct rec_reader *rd;
	FILE *fp;

	if (strcmp(path, "-") == 0)
		return rec_reader_new(stdin, "<stdin>", err);
	fp = fopen(path, "r");
	if (fp == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "cannot open %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	rd = rec_reader_new(fp, path, err);
	if (rd == NULL) {
		fclose(fp);
		return NULL;
	}
	rd->owned = 1;
	return rd;
}

void
rec_reader_free(struct rec_reader *rd)
{
	if (rd == NULL)
		return;
	if (rd->owned)
		fclose(rd->fp);
	free(rd->name);
	free(rd->buf);
	free(rd);
}

const char *
rec_reader_name(const struct rec_reader *rd)
{
	return rd->name;
}

long
rec_reader_line(const struct rec_reader *rd)
{
	return rd->line;
}

static int
is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

int
rec_next(struct rec_reader *rd, json_t **rec, struct vmtp_err *err)
{
	json_error_t jerr;
	json_t *obj;
	json_t *type;

	*rec = NULL;
	for (;;) {
		errno = 0;
		rd->len = getline(&rd->buf, &rd->cap, rd->fp);
		if (rd->len < 0) {
			rd->len = 0;
			if (ferror(rd->fp))
				return err_set(err, VMTP_EXIT_FAIL,
				    "cannot read %s: %s", rd->name,
				    strerror(errno ? errno : EIO));
			return 0;
		}
		rd->line++;
		if (!is_blank(rd->buf, (size_t)rd->len))
			break;
	}
	obj = json_loadb(rd->buf, (size_t)rd->len, 0, &jerr);
	if (obj == NULL)
		return err_set(err, VMTP_EXIT_DATA, "%s:%ld: not JSON: %s",
		    rd->name, rd->line, jerr.text);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return err_set(err, VMTP_EXIT_DATA, "%s:%ld: not a JSON object",
		    rd->name, rd->line);
	}
	type = json_object_get(obj, "type");
	if (!json_is_string(type)) {
		json_decref(obj);
		return err_set(err, VMTP_EXIT_DATA,
		    "%s:%ld: record has no \"type\"", rd->name, rd->line);
	}
	*rec = obj;
	return 1;
}

/* Writes LEN bytes of BUF and, when NL, a newline; then flushes FP. */
static int
write_line(FILE *fp, const char *buf, size_t len, int nl, struct vmtp_err *err)
{
	if (fwrite(buf, 1, len, fp) != len || (nl && putc('\n', fp) == EOF) ||
	    fflush(fp) != 0)
		return err_set(err, VMTP_EXIT_FAIL, "cannot write output: %s",
		    strerror(errno));
	return 0;
}

int
rec_pass(const struct rec_reader *rd, FILE *fp, struct vmtp_err *err)
{
	/* the last line of a file may lack its newline; ours never do */
	int nl = rd->len == 0 || rd->buf[rd->len - 1] != '\n';

	return write_line(fp, rd->buf, (size_t)rd->len, nl, err);
}

json_t *
rec_new(const char *type, const char *run)
{
	json_t *rec = json_object();

	if (rec == NULL)
		return NULL;
	if (json_object_set_new(rec, "type", json_string(type)) != 0 ||
	    (run != NULL &&
	        json_object_set_new(rec, "run", json_string(run)) != 0)) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

json_t *
rec_host_new(const char *run, const char *name, const char *role,
    const struct rec_ssh *ssh, const char *ip)
{
	json_t *rec = rec_new("host", run);
	json_t *login = json_pack("{s:s, s:i, s:s}", "host", ssh->host, "port",
	    ssh->port, "user", ssh->user);

	if (rec == NULL || login == NULL ||
	    (ssh->key != NULL && json_object_set_new(login, "key",
	                             json_string(ssh->key)) != 0) ||
	    json_object_set_new(login, "hostkey", json_string(ssh->hostkey)) !=
	        0 ||
	    json_object_set_new(rec, "name", json_string(name)) != 0 ||
	    json_object_set_new(rec, "role", json_string(role)) != 0) {
		json_decref(login);
		json_decref(rec);
		return NULL;
	}
	if (json_object_set_new(rec, "ssh", login) != 0 ||
	    json_object_set_new(rec, "ip", json_string(ip)) != 0) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

json_t *
rec_flow_new(const char *run, int id, enum flow_kind kind, enum flow_node node,
    const char *client, const char *server, const char *target,
    int bidirectional)
{
	char *desc = flow_desc_new(kind, node);
	json_t *rec = desc != NULL ? rec_new("flow", run) : NULL;

	if (rec == NULL ||
	    json_object_set_new(rec, "id", json_integer(id)) != 0 ||
	    json_object_set_new(rec, "desc", json_string(desc)) != 0 ||
	    json_object_set_new(rec, "client", json_string(client)) != 0 ||
	    json_object_set_new(rec, "server", json_string(server)) != 0 ||
	    json_object_set_new(rec, "target", json_string(target)) != 0 ||
	    json_object_set_new(
	        rec, "bidirectional", json_boolean(bidirectional)) != 0) {
		json_decref(rec);
		rec = NULL;
	}
	free(desc);
	return rec;
}

json_t *
rec_mesh_flow_new(const char *run, int id, enum flow_kind kind,
    enum flow_node node, const char *client, const char *server,
    const char *target, int round)
{
	json_t *rec =
	    rec_flow_new(run, id, kind, node, client, server, target, 0);

	if (rec != NULL &&
	    json_object_set_new(rec, "round", json_integer(round)) != 0) {
		json_decref(rec);
		rec = NULL;
	}
	return rec;
}

int
rec_write(FILE *fp, const json_t *rec, struct vmtp_err *err)
{
	void *first = json_object_iter((json_t *)rec);
	json_t *copy = NULL;
	const char *key;
	json_t *v;
	char *s;
	int rc;

	if (first != NULL && strcmp(json_object_iter_key(first), "type") != 0 &&
	    json_object_get(rec, "type") != NULL) {
		/* a record built in another order still goes out type first */
		copy = json_object();
		if (copy == NULL ||
		    json_object_set(copy, "type", json_object_get(rec, "type")))
			goto oom;
		json_object_foreach ((json_t *)rec, key, v)
			if (json_object_set(copy, key, v) != 0)
				goto oom;
		rec = copy;
	}
	s = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(copy);
	if (s == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	rc = write_line(fp, s, strlen(s), 1, err);
	free(s);
	return rc;
oom:
	json_decref(copy);
	return err_set(err, VMTP_EXIT_FAIL, "out of memory");
}

const char *
rec_type(const json_t *rec)
{
	return json_string_value(json_object_get(rec, "type"));
}

json_t *
rec_pack(json_t *rec)
{
	/* the default precision: a real reads back as the same double */
	char *s = json_dumps(rec, JSON_COMPACT);
	json_t *packed = s != NULL ? json_string_nocheck(s) : NULL;

	free(s);
	json_decref(rec);
	return packed;
}

json_t *
rec_at(const json_t *records, size_t i)
{
	json_t *r = json_array_get(records, i);

	if (r == NULL)
		return json_null();
	if (json_is_string(r))
		return json_loadb(
		    json_string_value(r), json_string_length(r), 0, NULL);
	return json_incref(r);
}
