/*
 * creds.c - OpenStack credentials from the environment, openrc files and
 * clouds.yaml (see creds.h; SPEC §6 vmtp-provision).
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/creds.h"
#include "libvmtp/err.h"

/* How each field is named in the environment and in clouds.yaml. */
static const struct field {
	const char *env;    /* OS_* name */
	const char *legacy; /* older OS_* name, or NULL */
	const char *key;    /* clouds.yaml key */
	int in_auth;        /* the key lives under "auth:" */
	size_t off;         /* offset in struct os_creds */
	int secret;
} fields[] = {
#define F(env, legacy, key, auth, member, secret)                              \
	{                                                                      \
		env, legacy, key, auth, offsetof(struct os_creds, member),     \
		    secret                                                     \
	}
    F("OS_AUTH_URL", NULL, "auth_url", 1, auth_url, 0),
    F("OS_AUTH_TYPE", NULL, "auth_type", 0, auth_type, 0),
    F("OS_USERNAME", NULL, "username", 1, username, 0),
    F("OS_USER_ID", NULL, "user_id", 1, user_id, 0),
    F("OS_PASSWORD", NULL, "password", 1, password, 1),
    F("OS_PROJECT_NAME", "OS_TENANT_NAME", "project_name", 1, project_name, 0),
    F("OS_PROJECT_ID", "OS_TENANT_ID", "project_id", 1, project_id, 0),
    F("OS_USER_DOMAIN_NAME", NULL, "user_domain_name", 1, user_domain_name, 0),
    F("OS_USER_DOMAIN_ID", NULL, "user_domain_id", 1, user_domain_id, 0),
    F("OS_PROJECT_DOMAIN_NAME", NULL, "project_domain_name", 1,
        project_domain_name, 0),
    F("OS_PROJECT_DOMAIN_ID", NULL, "project_domain_id", 1, project_domain_id,
        0),
    F("OS_APPLICATION_CREDENTIAL_ID", NULL, "application_credential_id", 1,
        app_cred_id, 0),
    F("OS_APPLICATION_CREDENTIAL_NAME", NULL, "application_credential_name", 1,
        app_cred_name, 0),
    F("OS_APPLICATION_CREDENTIAL_SECRET", NULL, "application_credential_secret",
        1, app_cred_secret, 1),
    F("OS_TOKEN", NULL, "token", 1, token, 1),
    F("OS_REGION_NAME", NULL, "region_name", 0, region_name, 0),
    F("OS_INTERFACE", "OS_ENDPOINT_TYPE", "interface", 0, interface, 0),
    F("OS_CACERT", NULL, "cacert", 0, cacert, 0),
    F("OS_INSECURE", NULL, "insecure", 0, insecure, 0),
#undef F
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static char **
slot(struct os_creds *c, const struct field *f)
{
	return (char **)((char *)c + f->off);
}

static void
scrub_free(char *s, int secret)
{
	if (s != NULL && secret)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* Replaces field F of C with a copy of VALUE.  Returns 0 or -1 (memory). */
static int
set_field(struct os_creds *c, const struct field *f, const char *value,
    struct vmtp_err *err)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	scrub_free(*slot(c, f), f->secret);
	*slot(c, f) = copy;
	return 0;
}

static int
name_is(const char *want, const char *name, size_t len)
{
	return want != NULL && strlen(want) == len &&
	       strncmp(want, name, len) == 0;
}

/* The field whose OS_* name (or legacy name) is NAME[0..LEN), or NULL. */
static const struct field *
field_by_env(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (name_is(fields[i].env, name, len) ||
		    name_is(fields[i].legacy, name, len))
			return &fields[i];
	return NULL;
}

struct os_creds *
os_creds_new(struct vmtp_err *err)
{
	struct os_creds *c = calloc(1, sizeof(*c));

	if (c == NULL)
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return c;
}

void
os_creds_free(struct os_creds *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NFIELDS; i++)
		scrub_free(*slot(c, &fields[i]), fields[i].secret);
	free(c->cloud);
	free(c);
}

struct os_creds *
os_creds_dup(const struct os_creds *c, struct vmtp_err *err)
{
	struct os_creds *d = os_creds_new(err);
	size_t i;

	if (d == NULL)
		return NULL;
	for (i = 0; i < NFIELDS; i++) {
		const char *v = *slot((struct os_creds *)c, &fields[i]);

		if (v != NULL && set_field(d, &fields[i], v, err) != 0)
			goto fail;
	}
	if (c->cloud != NULL && (d->cloud = strdup(c->cloud)) == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto fail;
	}
	return d;
fail:
	os_creds_free(d);
	return NULL;
}

int
os_creds_from_env(struct os_creds *c, struct vmtp_err *err)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		const char *v = getenv(fields[i].env);

		if ((v == NULL || v[0] == '\0') && fields[i].legacy != NULL)
			v = getenv(fields[i].legacy);
		if (v != NULL && v[0] != '\0' &&
		    set_field(c, &fields[i], v, err) != 0)
			return -1;
	}
	return 0;
}

/* The openrc variables seen so far: a small list of name=value pairs. */
struct vars {
	char **name;
	char **value; /* NULL: unset */
	size_t n;
};

static void
vars_free(struct vars *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		free(v->name[i]);
		scrub_free(v->value[i], 1); /* any of them may be a secret */
	}
	free(v->name);
	free(v->value);
}

/* Value of NAME: set in the file before, else the environment; or NULL. */
static const char *
vars_get(const struct vars *v, const char *name, size_t len)
{
	char key[256];
	size_t i;

	for (i = v->n; i-- > 0;)
		if (strlen(v->name[i]) == len &&
		    strncmp(v->name[i], name, len) == 0)
			return v->value[i];
	if (len >= sizeof(key))
		return NULL;
	memcpy(key, name, len);
	key[len] = '\0';
	return getenv(key);
}

static int
vars_set(struct vars *v, const char *name, size_t len, char *value)
{
	char **names = realloc(v->name, (v->n + 1) * sizeof(*names));
	char **values;

	if (names == NULL)
		return -1;
	v->name = names;
	values = realloc(v->value, (v->n + 1) * sizeof(*values));
	if (values == NULL)
		return -1;
	v->value = values;
	v->name[v->n] = strndup(name, len);
	if (v->name[v->n] == NULL)
		return -1;
	v->value[v->n] = value;
	v->n++;
	return 0;
}

/* A growing string for one value; zeroed when it may hold a secret. */
struct buf {
	char *s;
	size_t len, cap;
};

static int
buf_add(struct buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *bigger = malloc(cap);

		if (bigger == NULL)
			return -1;
		if (b->s != NULL) {
			memcpy(bigger, b->s, b->len);
			explicit_bzero(b->s, b->cap);
			free(b->s);
		}
		b->s = bigger;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
	return 0;
}

static int
is_name_char(int ch)
{
	return isalnum(ch) || ch == '_';
}

/*
 * Expands one shell word starting at *P (quotes, $NAME, ${NAME},
 * ${NAME:-default}) into B and moves *P past it.  Sets *UNKNOWN when a
 * referenced variable is unset.  Returns 0, -1 for memory, -2 for an
 * unterminated quote.
 */
static int
word(const char **p, const struct vars *v, struct buf *b, int *unknown)
{
	const char *s = *p;
	char quote = 0;

	if (buf_add(b, "", 0) != 0)
		return -1;
	while (*s != '\0' && *s != '\n' &&
	       (quote != 0 ||
	           (!isspace((unsigned char)*s) && *s != ';' && *s != '#'))) {
		if (quote == 0 && (*s == '\'' || *s == '"')) {
			quote = *s++;
			continue;
		}
		if (quote != 0 && *s == quote) {
			quote = 0;
			s++;
			continue;
		}
		if (quote != '\'' && *s == '\\' && s[1] != '\0') {
			if (buf_add(b, s + 1, 1) != 0)
				return -1;
			s += 2;
			continue;
		}
		if (quote != '\'' && *s == '$' &&
		    (is_name_char((unsigned char)s[1]) || s[1] == '{')) {
			const char *name = s[1] == '{' ? s + 2 : s + 1;
			const char *end = name;
			const char *val;
			const char *dflt = NULL;
			size_t dlen = 0;

			while (is_name_char((unsigned char)*end))
				end++;
			val = vars_get(v, name, (size_t)(end - name));
			if (s[1] == '{') {
				const char *close = strchr(end, '}');

				if (close == NULL)
					return -2;
				if (strncmp(end, ":-", 2) == 0) {
					dflt = end + 2;
					dlen = (size_t)(close - dflt);
				}
				end = close + 1;
			}
			if ((val == NULL || val[0] == '\0') && dflt != NULL) {
				if (buf_add(b, dflt, dlen) != 0)
					return -1;
			} else if (val == NULL) {
				*unknown = 1;
			} else if (buf_add(b, val, strlen(val)) != 0) {
				return -1;
			}
			s = end;
			continue;
		}
		if (buf_add(b, s, 1) != 0)
			return -1;
		s++;
	}
	*p = s;
	return quote != 0 ? -2 : 0;
}

/* Handles one openrc line; LINE is its number for messages. */
static int
openrc_line(struct os_creds *c, struct vars *v, const char *p, const char *path,
    long line, struct vmtp_err *err)
{
	const char *name;
	const struct field *f;
	struct buf b = {NULL, 0, 0};
	size_t len;
	int unknown = 0;
	int rc;

	while (isspace((unsigned char)*p))
		p++;
	if (strncmp(p, "export", 6) == 0 && isspace((unsigned char)p[6]))
		p += 7;
	else if (strncmp(p, "unset", 5) == 0 && isspace((unsigned char)p[5])) {
		p += 6;
		for (;;) {
			while (*p == ' ' || *p == '\t')
				p++;
			name = p;
			while (is_name_char((unsigned char)*p))
				p++;
			if (p == name)
				return 0;
			if (vars_set(v, name, (size_t)(p - name), NULL) != 0)
				return err_set(
				    err, VMTP_EXIT_FAIL, "out of memory");
			/* unsetting OS_TENANT_NAME, as Horizon's file does
			 * after setting OS_PROJECT_NAME, keeps the project */
			f = field_by_env(name, (size_t)(p - name));
			if (f != NULL &&
			    name_is(f->env, name, (size_t)(p - name))) {
				scrub_free(*slot(c, f), f->secret);
				*slot(c, f) = NULL;
			}
		}
	}
	while (isspace((unsigned char)*p))
		p++;
	name = p;
	while (is_name_char((unsigned char)*p))
		p++;
	len = (size_t)(p - name);
	if (len == 0 || *p != '=' || isdigit((unsigned char)name[0]))
		return 0; /* a command, a comment or a blank line: skipped */
	p++;
	rc = word(&p, v, &b, &unknown);
	if (rc == -2) {
		scrub_free(b.s, 1);
		return err_set(err, VMTP_EXIT_DATA,
		    "%s:%ld: unterminated quote or ${", path, line);
	}
	if (rc != 0 || vars_set(v, name, len, unknown ? NULL : b.s) != 0) {
		scrub_free(b.s, 1);
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	if (unknown) {
		scrub_free(b.s, 1);
		return 0;
	}
	f = field_by_env(name, len);
	if (f != NULL && b.s[0] != '\0')
		return set_field(c, f, b.s, err);
	return 0;
}

int
os_creds_load_openrc(struct os_creds *c, const char *path, struct vmtp_err *err)
{
	struct vars v = {NULL, NULL, 0};
	char *line = NULL;
	size_t cap = 0;
	long n = 0;
	FILE *fp;
	int rc = 0;

	fp = fopen(path, "r");
	if (fp == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "cannot open %s: %s", path,
		    strerror(errno));
	errno = 0;
	while (rc == 0 && getline(&line, &cap, fp) >= 0)
		rc = openrc_line(c, &v, line, path, ++n, err);
	/* a folder opens, and then its read fails: EISDIR */
	if (rc == 0 && ferror(fp))
		rc = err_set(err, VMTP_EXIT_FAIL, "cannot read %s: %s", path,
		    strerror(errno != 0 ? errno : EIO));
	if (line != NULL)
		explicit_bzero(line, cap);
	free(line);
	fclose(fp);
	vars_free(&v);
	return rc;
}

void
os_json_scrub(json_t *v)
{
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_string(v))
		explicit_bzero(
		    (char *)json_string_value(v), json_string_length(v));
	else if (json_is_object(v))
		json_object_foreach (v, key, x)
			os_json_scrub(x);
	else if (json_is_array(v))
		json_array_foreach (v, i, x)
			os_json_scrub(x);
}

/* The first existing file named NAME in the search path, or NULL. */
static const char *
find_file(const char *env, const char *name, char *buf, size_t size)
{
	const char *home = getenv("HOME");
	const char *over = getenv(env);

	if (over != NULL && over[0] != '\0' && access(over, F_OK) == 0)
		return over;
	snprintf(buf, size, "./%s", name);
	if (access(buf, F_OK) == 0)
		return buf;
	if (home != NULL) {
		snprintf(buf, size, "%s/.config/openstack/%s", home, name);
		if (access(buf, F_OK) == 0)
			return buf;
	}
	snprintf(buf, size, "/etc/openstack/%s", name);
	return access(buf, F_OK) == 0 ? buf : NULL;
}

/* Sets from ENTRY (one cloud of a clouds.yaml or secure.yaml). */
static int
from_entry(struct os_creds *c, const json_t *entry, const char *path,
    struct vmtp_err *err)
{
	json_t *auth = json_object_get(entry, "auth");
	json_t *verify = json_object_get(entry, "verify");
	char num[64];
	size_t i;

	if (!json_is_object(entry) || (auth != NULL && !json_is_object(auth)))
		return err_set(err, VMTP_EXIT_DATA,
		    "%s: cloud '%s' is not a mapping with an auth mapping",
		    path, c->cloud);
	for (i = 0; i < NFIELDS; i++) {
		const json_t *from = fields[i].in_auth ? auth : entry;
		json_t *v = json_object_get(from, fields[i].key);
		const char *s = json_string_value(v);

		if (v == NULL && strcmp(fields[i].key, "project_name") == 0)
			s = json_string_value(
			    json_object_get(auth, "tenant_name"));
		if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%lld",
			    (long long)json_integer_value(v));
			s = num;
		}
		if (s != NULL && s[0] != '\0' &&
		    set_field(c, &fields[i], s, err) != 0)
			return -1;
	}
	if (json_is_boolean(verify) &&
	    set_field(c, field_by_env("OS_INSECURE", 11),
	        json_is_true(verify) ? "false" : "true", err) != 0)
		return -1;
	if (json_is_string(verify) && set_field(c, field_by_env("OS_CACERT", 9),
	                                  json_string_value(verify), err) != 0)
		return -1;
	return 0;
}

int
os_creds_load_clouds(
    struct os_creds *c, const char *cloud, struct vmtp_err *err)
{
	char pbuf[4096], sbuf[4096];
	const char *path;
	const char *secure;
	json_t *doc = NULL;
	json_t *sec = NULL;
	json_t *entry;
	int rc = -1;

	free(c->cloud);
	c->cloud = strdup(cloud);
	if (c->cloud == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	path = find_file(
	    "OS_CLIENT_CONFIG_FILE", "clouds.yaml", pbuf, sizeof(pbuf));
	if (path == NULL)
		return err_set(err, VMTP_EXIT_FAIL,
		    "cloud '%s' asked for, but no clouds.yaml found (./, "
		    "~/.config/openstack/, /etc/openstack/)",
		    cloud);
	doc = cfg_yaml_read(path, err);
	if (doc == NULL)
		goto out;
	entry = json_object_get(json_object_get(doc, "clouds"), cloud);
	if (entry == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "%s: no cloud named '%s'", path,
		    cloud);
		goto out;
	}
	if (from_entry(c, entry, path, err) != 0)
		goto out;
	secure = find_file(
	    "OS_CLIENT_SECURE_FILE", "secure.yaml", sbuf, sizeof(sbuf));
	if (secure != NULL) {
		sec = cfg_yaml_read(secure, err);
		if (sec == NULL)
			goto out;
		entry = json_object_get(json_object_get(sec, "clouds"), cloud);
		if (entry != NULL && from_entry(c, entry, secure, err) != 0)
			goto out;
	}
	rc = 0;
out:
	os_json_scrub(doc);
	os_json_scrub(sec);
	json_decref(doc);
	json_decref(sec);
	return rc;
}

int
os_creds_check(const struct os_creds *c, struct vmtp_err *err)
{
	const char *type = c->auth_type;

	if (c->auth_url == NULL)
		return err_set(err, VMTP_EXIT_USAGE, "OS_AUTH_URL is not set");
	if (type == NULL)
		type = c->app_cred_secret != NULL ? "v3applicationcredential"
		       : c->token != NULL && c->password == NULL ? "v3token"
		                                                 : "password";
	if (strcmp(type, "password") == 0 || strcmp(type, "v3password") == 0) {
		if (c->username == NULL && c->user_id == NULL)
			return err_set(
			    err, VMTP_EXIT_USAGE, "OS_USERNAME is not set");
		if (c->password == NULL)
			return err_set(
			    err, VMTP_EXIT_USAGE, "OS_PASSWORD is not set");
	} else if (strcmp(type, "v3applicationcredential") == 0) {
		if (c->app_cred_id == NULL && c->app_cred_name == NULL)
			return err_set(err, VMTP_EXIT_USAGE,
			    "OS_APPLICATION_CREDENTIAL_ID is not set");
		if (c->app_cred_id == NULL && c->username == NULL &&
		    c->user_id == NULL)
			return err_set(err, VMTP_EXIT_USAGE,
			    "OS_USERNAME is not set (needed with "
			    "OS_APPLICATION_CREDENTIAL_NAME)");
		if (c->app_cred_secret == NULL)
			return err_set(err, VMTP_EXIT_USAGE,
			    "OS_APPLICATION_CREDENTIAL_SECRET is not set");
		return 0;
	} else if (strcmp(type, "v3token") == 0 || strcmp(type, "token") == 0) {
		if (c->token == NULL)
			return err_set(
			    err, VMTP_EXIT_USAGE, "OS_TOKEN is not set");
	} else {
		return err_set(err, VMTP_EXIT_USAGE,
		    "OS_AUTH_TYPE '%s' is not one of password, "
		    "v3applicationcredential, v3token",
		    type);
	}
	if (c->project_name == NULL && c->project_id == NULL)
		return err_set(err, VMTP_EXIT_USAGE,
		    "OS_PROJECT_NAME or OS_PROJECT_ID is not set");
	return 0;
}
