/*
 * rec.c - read, pass on and write records, one JSON object a line (SPEC §4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/rec.h"
#include "libvmtp/tmp.h"

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

const char *
rec_str_hold(json_t *set, const char *s)
{
	json_t *v = json_object_get(set, s);

	if (v == NULL && ((v = json_string(s)) == NULL ||
	                     json_object_set_new(set, s, v) != 0))
		return NULL;
	return json_string_value(v);
}

/*
 * Where a packed record's text is in a spill file, in one JSON integer:
 * the file's descriptor, the text's offset and its length, in SPILL_FD,
 * SPILL_OFF and SPILL_LEN bits.  A text that does not fit (a descriptor
 * past 1023, a file past 2 GiB, a record past 4 MiB) is kept in memory.
 */
#define SPILL_FD 10
#define SPILL_OFF 31
#define SPILL_LEN 22
#define SPILL_MASK(bits) ((1LL << (bits)) - 1)

struct rec_spill {
	int fd;
	long long end; /* bytes written */
};

struct rec_spill *
rec_spill_new(struct vmtp_err *err)
{
	struct rec_spill *spill = calloc(1, sizeof(*spill));

	if (spill == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	spill->fd = tmp_open(err);
	if (spill->fd < 0) {
		free(spill);
		return NULL;
	}
	return spill;
}

void
rec_spill_free(struct rec_spill *spill)
{
	if (spill == NULL)
		return;
	close(spill->fd);
	free(spill);
}

/* Writes the text S (LEN bytes) to SPILL: its place, or -1 when it is not
 * written (and can be kept in memory instead). */
static json_int_t
spill_put(struct rec_spill *spill, const char *s, size_t len)
{
	long long off = spill->end;
	size_t done = 0;
	ssize_t n;

	if (spill->fd > SPILL_MASK(SPILL_FD) ||
	    len > (size_t)SPILL_MASK(SPILL_LEN) ||
	    off + (long long)len > SPILL_MASK(SPILL_OFF))
		return -1;
	while (done < len) {
		n = pwrite(spill->fd, s + done, len - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	spill->end += len;
	return (json_int_t)spill->fd << (SPILL_OFF + SPILL_LEN) |
	       off << SPILL_LEN | (json_int_t)len;
}

/* The record whose text is at PLACE (spill_put()) as a new reference, or
 * NULL when it cannot be read back. */
static json_t *
spill_get(json_int_t place)
{
	int fd = place >> (SPILL_OFF + SPILL_LEN);
	off_t off = place >> SPILL_LEN & SPILL_MASK(SPILL_OFF);
	size_t len = place & SPILL_MASK(SPILL_LEN);
	char *s = malloc(len > 0 ? len : 1);
	json_t *rec = NULL;
	size_t done = 0;
	ssize_t n;

	while (s != NULL && done < len) {
		n = pread(fd, s + done, len - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += n;
	}
	if (s != NULL && done == len)
		rec = json_loadb(s, len, 0, NULL);
	free(s);
	return rec;
}

json_t *
rec_pack(struct rec_spill *spill, json_t *rec)
{
	/* the default precision: a real reads back as the same double */
	char *s = json_dumps(rec, JSON_COMPACT);
	json_int_t place = -1;
	json_t *packed = NULL;

	if (s != NULL && spill != NULL)
		place = spill_put(spill, s, strlen(s));
	if (place >= 0)
		packed = json_integer(place);
	else if (s != NULL)
		packed = json_string_nocheck(s);
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
	if (json_is_integer(r))
		return spill_get(json_integer_value(r));
	return json_incref(r);
}
