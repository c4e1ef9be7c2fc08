/*
 * cfg.h - vmtp's YAML configuration with the original tool's key names
 * (SPEC §7), loaded with libyaml.
 *
 * A configuration is a jansson object, key → value.  cfg_load() starts from
 * the built-in defaults (share/vmtp/vmtp.yaml, compiled in), then applies
 * ~/.vmtp.yaml when it exists, then the file given with -c; the command
 * line overrides the result in each program.  Every key of a file must be
 * one the defaults name, and its value of that key's type (null always
 * allowed: "unset"); otherwise loading fails with VMTP_EXIT_DATA and
 * "FILE:LINE: ..." naming the key.  After a successful load the getters
 * below cannot meet a value of the wrong type.
 *
 * Every key of the original tool's default configuration is known, also
 * those whose behaviour vmtp does not have; each key belongs to the
 * programs that read it (CFG_STAGE_*), and cfg_list_ignored() tells a
 * program which of its keys the user set in vain, so that it can warn
 * once per key (and a pipeline once, not once per program).
 */
#ifndef VMTP_CFG_H
#define VMTP_CFG_H

#include <jansson.h>

#include "libvmtp/err.h"

/* The programs a key belongs to. */
enum cfg_stage {
	CFG_STAGE_PROVISION = 1,
	CFG_STAGE_RUN = 2,
	CFG_STAGE_COLLECT = 4
};

/*
 * Loads the defaults, ~/.vmtp.yaml (when $HOME/.vmtp.yaml exists) and PATH
 * (NULL: none).  Returns a new reference, or NULL with ERR set:
 * VMTP_EXIT_FAIL when a file cannot be read, VMTP_EXIT_DATA for a file that
 * is not YAML, has an unknown key or a value of the wrong type.
 */
json_t *cfg_load(const char *path, struct vmtp_err *err);

/*
 * Loads the built-in defaults alone, to tell a value the user set from the
 * default one.  Returns a new reference, or NULL with ERR set.
 */
json_t *cfg_load_defaults(struct vmtp_err *err);

/*
 * The built-in defaults as YAML text, every key with its comment
 * (share/vmtp/vmtp.yaml as compiled in); a static string.
 */
const char *cfg_defaults_text(void);

/*
 * The keys of STAGE (a CFG_STAGE_*) that CFG sets in vain: the value
 * asks for something that vmtp does not do (it is not null, "", the
 * built-in default, nor false where the default is not true).  Returns
 * a new reference to an array of {"key": NAME, "why": REASON}, in key
 * order (empty when none), or NULL with ERR set.
 */
json_t *cfg_list_ignored(
    const json_t *cfg, unsigned stage, struct vmtp_err *err);

/*
 * Applies the YAML file PATH on top of CFG (borrowed, changed in place).
 * Returns 0, or -1 with ERR set as cfg_load(); CFG may then hold some of
 * the file's keys.
 */
int cfg_merge_file(json_t *cfg, const char *path, struct vmtp_err *err);

/*
 * Reads the first document of the YAML file PATH, whatever its keys, as
 * JSON (YAML 1.1 scalars: null, booleans, numbers, strings); for files of
 * other tools such as clouds.yaml.  Returns a new reference (json null for
 * an empty file), or NULL with ERR set: VMTP_EXIT_FAIL when the file cannot
 * be read, VMTP_EXIT_DATA with "PATH:LINE: ..." when it is not YAML.
 */
json_t *cfg_yaml_read(const char *path, struct vmtp_err *err);

/* Integer KEY (0 when unset). */
long long cfg_int(const json_t *cfg, const char *key);

/* Number KEY, integer or real (0 when unset). */
double cfg_num(const json_t *cfg, const char *key);

/* String KEY, borrowed from CFG, or NULL when unset or empty. */
const char *cfg_str(const json_t *cfg, const char *key);

/* Boolean KEY (0 when unset). */
int cfg_bool(const json_t *cfg, const char *key);

/* List or mapping KEY, borrowed from CFG, or NULL when unset. */
json_t *cfg_get(const json_t *cfg, const char *key);

#endif
