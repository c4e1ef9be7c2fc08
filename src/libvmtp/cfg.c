/*
 * cfg.c - load vmtp's YAML configuration with libyaml (see cfg.h; SPEC §7).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <yaml.h>

#include "libvmtp/cfg.h"
#include "libvmtp/err.h"

enum cfg_type {
	CFG_STR,
	CFG_INT,
	CFG_NUM,
	CFG_BOOL,
	CFG_STR_LIST,
	CFG_INT_LIST,
	CFG_NUM_LIST,
	CFG_MAP
};

/*
 * Every key vmtp knows: its type, the programs that read it, and, for a
 * key of the original tool whose behaviour vmtp does not have, why (the
 * program named owns the warning).  share/vmtp/vmtp.yaml sets defaults.
 */
static const struct cfg_key {
	const char *name;
	enum cfg_type type;
	unsigned stages; /* CFG_STAGE_* */
	const char *why; /* NULL: honoured */
} cfg_keys[] = {
    {"availability_zone", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"config_drive", CFG_BOOL, CFG_STAGE_PROVISION, NULL},
    {"dns_nameservers", CFG_STR_LIST, CFG_STAGE_PROVISION, NULL},
    {"ext_net_name", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"flavor", CFG_MAP, CFG_STAGE_PROVISION, NULL},
    {"flavor_type", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"floating_ip", CFG_BOOL, CFG_STAGE_PROVISION, NULL},
    {"fluentd", CFG_MAP, CFG_STAGE_PROVISION,
        "vmtp does not send its logs to fluentd"},
    {"generic_retry_count", CFG_INT, CFG_STAGE_PROVISION, NULL},
    {"icmp_pkt_sizes", CFG_INT_LIST, CFG_STAGE_RUN, NULL},
    {"image_name", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"internal_cidr", CFG_STR_LIST, CFG_STAGE_PROVISION, NULL},
    {"internal_cidr_v6", CFG_STR_LIST, CFG_STAGE_PROVISION, NULL},
    {"internal_network_name", CFG_STR_LIST, CFG_STAGE_PROVISION, NULL},
    {"internal_subnet_name", CFG_STR_LIST, CFG_STAGE_PROVISION, NULL},
    {"internal_subnet_name_ipv6", CFG_STR_LIST, CFG_STAGE_PROVISION, NULL},
    {"internal_subnet_name_v6", CFG_STR_LIST, CFG_STAGE_PROVISION, NULL},
    {"ipv6_mode", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"os_dataplane_network", CFG_STR, CFG_STAGE_PROVISION,
        "vmtp does not look for the compute nodes' data-plane interfaces"},
    {"ping_count", CFG_INT, CFG_STAGE_RUN, NULL},
    {"ping_interval", CFG_NUM, CFG_STAGE_RUN, NULL},
    {"ping_pass_threshold", CFG_NUM, CFG_STAGE_RUN,
        "vmtp has no ping pass threshold (the original never used it)"},
    {"private_key_file", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"public_key_file", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"public_key_name", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"reuse_existing_vm", CFG_STR, CFG_STAGE_PROVISION,
        "vmtp-provision always boots its own VMs"},
    {"reuse_network_name", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"router_name", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"security_group_name", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"ssh_retry_count", CFG_INT, CFG_STAGE_PROVISION | CFG_STAGE_RUN, NULL},
    {"ssh_vm_username", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"tcp_pkt_sizes", CFG_INT_LIST, CFG_STAGE_RUN, NULL},
    {"tcp_tp_loop_count", CFG_INT, CFG_STAGE_RUN, NULL},
    {"udp_final", CFG_BOOL, CFG_STAGE_RUN, NULL},
    {"udp_loss_rate_range", CFG_NUM_LIST, CFG_STAGE_RUN, NULL},
    {"udp_pkt_sizes", CFG_INT_LIST, CFG_STAGE_RUN, NULL},
    {"udp_probe_tool", CFG_STR, CFG_STAGE_RUN, NULL},
    {"user_data_file", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"vm_bandwidth", CFG_NUM, CFG_STAGE_RUN, NULL},
    {"vm_image_url", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"vm_name_client", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"vm_name_server", CFG_STR, CFG_STAGE_PROVISION, NULL},
    {"vmtp_collection", CFG_STR, CFG_STAGE_COLLECT, NULL},
    {"vmtp_db", CFG_STR, CFG_STAGE_COLLECT, NULL},
    {"vmtp_mongod_port", CFG_INT, CFG_STAGE_COLLECT, NULL},
};

static const char *const type_names[] = {"a string", "a whole number",
    "a number", "true or false", "a list of strings", "a list of whole numbers",
    "a list of numbers", "a mapping"};

/* The built-in defaults: share/vmtp/vmtp.yaml, compiled in by the Makefile. */
extern const char asset_vmtp_yaml[];
#define DEFAULTS_NAME "share/vmtp/vmtp.yaml (built in)"

static const struct cfg_key *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++)
		if (strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	return NULL;
}

/* What one file's parse needs: the parser, its name, the error. */
struct yfile {
	yaml_parser_t parser;
	const char *name;
	struct vmtp_err *err;
};

static int
next_event(struct yfile *yf, yaml_event_t *ev)
{
	if (yaml_parser_parse(&yf->parser, ev))
		return 0;
	return err_set(yf->err, VMTP_EXIT_DATA, "%s:%zu: not YAML: %s",
	    yf->name, yf->parser.problem_mark.line + 1,
	    yf->parser.problem != NULL ? yf->parser.problem : "syntax error");
}

static int
word_in(const char *s, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

/*
 * Resolves a scalar as YAML 1.1 (what the original tool's loader did):
 * quoted is a string; plain may be null, a boolean, an integer or a real.
 * AS_STRING keeps a plain non-null scalar a string (string-typed keys).
 * Returns a new reference, or NULL when out of memory.
 */
static json_t *
scalar(const yaml_event_t *ev, int as_string)
{
	static const char *const nulls[] = {
	    "", "~", "null", "Null", "NULL", NULL};
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
	    "YES", "on", "On", "ON", NULL};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No",
	    "NO", "off", "Off", "OFF", NULL};
	const char *s = (const char *)ev->data.scalar.value;
	char *end = NULL;
	long long i;
	double d;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, ev->data.scalar.length);
	if (word_in(s, nulls))
		return json_null();
	if (as_string)
		return json_stringn(s, ev->data.scalar.length);
	if (word_in(s, yes))
		return json_true();
	if (word_in(s, no))
		return json_false();
	errno = 0;
	i = strtoll(s, &end, 0);
	if (*end == '\0' && errno == 0)
		return json_integer(i);
	errno = 0;
	d = strtod(s, &end);
	if (*end == '\0' && errno == 0 && strpbrk(s, "iInN") == NULL)
		return json_real(d);
	return json_stringn(s, ev->data.scalar.length);
}

/*
 * Parses the node whose first event is EV into *OUT (a new reference).
 * Returns 0, or -1 with ERR set.  EV is consumed by the caller.
 */
static int
node(struct yfile *yf, const yaml_event_t *ev, int as_string, json_t **out)
{
	yaml_event_t sub;
	json_t *v = NULL;
	json_t *item = NULL;
	int rc = -1;

	*out = NULL;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		v = scalar(ev, as_string);
		if (v == NULL)
			return err_set(
			    yf->err, VMTP_EXIT_FAIL, "out of memory");
		*out = v;
		return 0;
	case YAML_ALIAS_EVENT:
		return err_set(yf->err, VMTP_EXIT_DATA,
		    "%s:%zu: YAML aliases are not supported", yf->name,
		    ev->start_mark.line + 1);
	case YAML_SEQUENCE_START_EVENT:
		v = json_array();
		break;
	case YAML_MAPPING_START_EVENT:
		v = json_object();
		break;
	default:
		return err_set(yf->err, VMTP_EXIT_DATA,
		    "%s:%zu: unexpected YAML content", yf->name,
		    ev->start_mark.line + 1);
	}
	if (v == NULL)
		return err_set(yf->err, VMTP_EXIT_FAIL, "out of memory");
	for (;;) {
		char *key = NULL;

		if (next_event(yf, &sub) < 0)
			goto out;
		if (sub.type == YAML_SEQUENCE_END_EVENT ||
		    sub.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&sub);
			break;
		}
		if (json_is_object(v)) {
			if (sub.type != YAML_SCALAR_EVENT) {
				err_set(yf->err, VMTP_EXIT_DATA,
				    "%s:%zu: a mapping key must be a scalar",
				    yf->name, sub.start_mark.line + 1);
				yaml_event_delete(&sub);
				goto out;
			}
			key = strdup((const char *)sub.data.scalar.value);
			yaml_event_delete(&sub);
			if (key == NULL) {
				err_set(
				    yf->err, VMTP_EXIT_FAIL, "out of memory");
				goto out;
			}
			if (next_event(yf, &sub) < 0) {
				free(key);
				goto out;
			}
		}
		rc = node(yf, &sub, 0, &item);
		yaml_event_delete(&sub);
		if (rc == 0 &&
		    (key != NULL ? json_object_set_new(v, key, item)
		                 : json_array_append_new(v, item)) != 0)
			rc = err_set(yf->err, VMTP_EXIT_FAIL, "out of memory");
		free(key);
		if (rc != 0)
			goto out;
		rc = -1;
	}
	*out = v;
	v = NULL;
	rc = 0;
out:
	json_decref(v);
	return rc;
}

static int
list_of(const json_t *v, int (*is)(const json_t *))
{
	json_t *x;
	size_t i;

	if (!json_is_array(v))
		return 0;
	json_array_foreach ((json_t *)v, i, x)
		if (!is(x))
			return 0;
	return 1;
}

static int
is_str(const json_t *v)
{
	return json_is_string(v);
}

static int
is_int(const json_t *v)
{
	return json_is_integer(v);
}

static int
is_num(const json_t *v)
{
	return json_is_number(v);
}

static int
type_ok(const json_t *v, enum cfg_type type)
{
	if (json_is_null(v))
		return 1;
	switch (type) {
	case CFG_STR:
		return json_is_string(v);
	case CFG_INT:
		return json_is_integer(v);
	case CFG_NUM:
		return json_is_number(v);
	case CFG_BOOL:
		return json_is_boolean(v);
	case CFG_STR_LIST:
		return list_of(v, is_str);
	case CFG_INT_LIST:
		return list_of(v, is_int);
	case CFG_NUM_LIST:
		return list_of(v, is_num);
	case CFG_MAP:
		return json_is_object(v);
	}
	return 0;
}

/*
 * Parses the keys of a top-level mapping (after its MAPPING_START) into
 * CFG, checking each key and its value's type.
 */
static int
merge_mapping(struct yfile *yf, json_t *cfg)
{
	const struct cfg_key *k;
	yaml_event_t ev;
	json_t *v = NULL;
	size_t line;
	int rc;

	for (;;) {
		if (next_event(yf, &ev) < 0)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		line = ev.start_mark.line + 1;
		k = ev.type == YAML_SCALAR_EVENT
		        ? key_find((const char *)ev.data.scalar.value)
		        : NULL;
		if (k == NULL) {
			err_set(yf->err, VMTP_EXIT_DATA,
			    "%s:%zu: unknown key '%s'", yf->name, line,
			    ev.type == YAML_SCALAR_EVENT
			        ? (const char *)ev.data.scalar.value
			        : "(not a scalar)");
			yaml_event_delete(&ev);
			return -1;
		}
		yaml_event_delete(&ev);
		if (next_event(yf, &ev) < 0)
			return -1;
		line = ev.start_mark.line + 1;
		rc = node(yf, &ev, k->type == CFG_STR, &v);
		yaml_event_delete(&ev);
		if (rc < 0)
			return -1;
		if (!type_ok(v, k->type)) {
			json_decref(v);
			return err_set(yf->err, VMTP_EXIT_DATA,
			    "%s:%zu: '%s' must be %s", yf->name, line, k->name,
			    type_names[k->type]);
		}
		if (json_object_set_new(cfg, k->name, v) != 0)
			return err_set(
			    yf->err, VMTP_EXIT_FAIL, "out of memory");
	}
}

/* Parses every document of YF: each must be a mapping, or empty. */
static int
merge_events(struct yfile *yf, json_t *cfg)
{
	yaml_event_t ev;
	int rc = 0;

	while (rc == 0) {
		if (next_event(yf, &ev) < 0)
			return -1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			return 0;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_MAPPING_START_EVENT:
			rc = merge_mapping(yf, cfg);
			break;
		case YAML_SCALAR_EVENT:
			if (ev.data.scalar.length == 0 &&
			    ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				break; /* an empty document */
			               /* fall through */
		default:
			rc = err_set(yf->err, VMTP_EXIT_DATA,
			    "%s:%zu: expected 'key: value' lines", yf->name,
			    ev.start_mark.line + 1);
		}
		yaml_event_delete(&ev);
	}
	return rc;
}

/* Applies the YAML text BUF (LEN bytes, named NAME) on top of CFG. */
static int
merge_text(json_t *cfg, const char *buf, size_t len, const char *name,
    struct vmtp_err *err)
{
	struct yfile yf;
	int rc;

	if (!yaml_parser_initialize(&yf.parser))
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	yf.name = name;
	yf.err = err;
	yaml_parser_set_input_string(
	    &yf.parser, (const unsigned char *)buf, len);
	rc = merge_events(&yf, cfg);
	yaml_parser_delete(&yf.parser);
	return rc;
}

/*
 * Opens PATH for reading: a folder is refused here ("Is a directory"),
 * not later by the YAML reader as "input error".  Returns the stream, or
 * NULL with ERR set (VMTP_EXIT_FAIL).
 */
static FILE *
open_file(const char *path, struct vmtp_err *err)
{
	struct stat st;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "cannot open %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(fp);
		err_set(err, VMTP_EXIT_FAIL, "cannot read %s: %s", path,
		    strerror(EISDIR));
		return NULL;
	}
	return fp;
}

int
cfg_merge_file(json_t *cfg, const char *path, struct vmtp_err *err)
{
	struct yfile yf;
	FILE *fp;
	int rc;

	fp = open_file(path, err);
	if (fp == NULL)
		return -1;
	if (!yaml_parser_initialize(&yf.parser)) {
		fclose(fp);
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	yf.name = path;
	yf.err = err;
	yaml_parser_set_input_file(&yf.parser, fp);
	rc = merge_events(&yf, cfg);
	if (rc == 0 && ferror(fp))
		rc = err_set(err, VMTP_EXIT_FAIL, "cannot read %s", path);
	yaml_parser_delete(&yf.parser);
	fclose(fp);
	return rc;
}

json_t *
cfg_yaml_read(const char *path, struct vmtp_err *err)
{
	struct yfile yf;
	yaml_event_t ev;
	json_t *v = NULL;
	FILE *fp;
	int started = 0;

	fp = open_file(path, err);
	if (fp == NULL)
		return NULL;
	if (!yaml_parser_initialize(&yf.parser)) {
		fclose(fp);
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	yf.name = path;
	yf.err = err;
	yaml_parser_set_input_file(&yf.parser, fp);
	/* the root node of the first document; an empty file is null */
	while (v == NULL && next_event(&yf, &ev) == 0) {
		if (ev.type == YAML_STREAM_END_EVENT)
			v = json_null();
		else if (ev.type == YAML_DOCUMENT_START_EVENT)
			started = 1;
		else if (started && node(&yf, &ev, 0, &v) < 0) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yf.parser);
	fclose(fp);
	return v;
}

json_t *
cfg_load_defaults(struct vmtp_err *err)
{
	json_t *cfg = json_object();

	if (cfg == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	if (merge_text(cfg, asset_vmtp_yaml, strlen(asset_vmtp_yaml),
	        DEFAULTS_NAME, err) != 0) {
		json_decref(cfg);
		return NULL;
	}
	return cfg;
}

json_t *
cfg_load(const char *path, struct vmtp_err *err)
{
	json_t *cfg = json_object();
	const char *home = getenv("HOME");
	char user[4096];

	if (cfg == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	if (merge_text(cfg, asset_vmtp_yaml, strlen(asset_vmtp_yaml),
	        DEFAULTS_NAME, err) != 0)
		goto fail;
	if (home != NULL && home[0] != '\0' &&
	    (size_t)snprintf(user, sizeof(user), "%s/.vmtp.yaml", home) <
	        sizeof(user) &&
	    access(user, F_OK) == 0 && cfg_merge_file(cfg, user, err) != 0)
		goto fail;
	if (path != NULL && cfg_merge_file(cfg, path, err) != 0)
		goto fail;
	return cfg;
fail:
	json_decref(cfg);
	return NULL;
}

long long
cfg_int(const json_t *cfg, const char *key)
{
	return json_integer_value(json_object_get(cfg, key));
}

double
cfg_num(const json_t *cfg, const char *key)
{
	return json_number_value(json_object_get(cfg, key));
}

const char *
cfg_str(const json_t *cfg, const char *key)
{
	const char *s = json_string_value(json_object_get(cfg, key));

	return s != NULL && s[0] != '\0' ? s : NULL;
}

int
cfg_bool(const json_t *cfg, const char *key)
{
	return json_is_true(json_object_get(cfg, key));
}

json_t *
cfg_get(const json_t *cfg, const char *key)
{
	json_t *v = json_object_get(cfg, key);

	return json_is_null(v) ? NULL : v;
}

const char *
cfg_defaults_text(void)
{
	return asset_vmtp_yaml;
}

/*
 * Whether V, a key's value, asks for something that DEF, its default,
 * does not: an empty value (null, "", or false where the default is not
 * true) asks for nothing, as the original tool read it.
 */
static int
value_set(const json_t *v, const json_t *def)
{
	if (v == NULL || json_is_null(v) || json_equal(v, def))
		return 0;
	if (json_is_string(v) && json_string_length(v) == 0)
		return 0;
	return !(json_is_false(v) && !json_is_true(def));
}

json_t *
cfg_list_ignored(const json_t *cfg, unsigned stage, struct vmtp_err *err)
{
	json_t *defaults = cfg_load_defaults(err);
	json_t *list = NULL;
	size_t i;

	if (defaults == NULL)
		return NULL;
	list = json_array();
	if (list == NULL)
		goto oom;
	for (i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++) {
		const struct cfg_key *k = &cfg_keys[i];

		if (k->why == NULL || (k->stages & stage) == 0 ||
		    !value_set(json_object_get(cfg, k->name),
		        json_object_get(defaults, k->name)))
			continue;
		if (json_array_append_new(list, json_pack("{s:s, s:s}", "key",
		                                    k->name, "why", k->why)) !=
		    0)
			goto oom;
	}
	json_decref(defaults);
	return list;
oom:
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
	json_decref(defaults);
	json_decref(list);
	return NULL;
}
