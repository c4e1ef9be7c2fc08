/*
 * creds.h - OpenStack credentials as the official client finds them
 * (SPEC §6 vmtp-provision): OS_* environment variables, an openrc file read
 * as text (never executed), or clouds.yaml + secure.yaml with OS_CLOUD.
 *
 * Secrets (password, application credential secret, token) are zeroed
 * before their memory is freed and never appear in an error message.
 */
#ifndef VMTP_CREDS_H
#define VMTP_CREDS_H

#include <jansson.h>

#include "libvmtp/err.h"

/* One field per OS_* variable; NULL when unset.  Strings are owned. */
struct os_creds {
	char *auth_url;
	char *auth_type; /* password, v3applicationcredential, v3token */
	char *username;
	char *user_id;
	char *password; /* secret */
	char *project_name;
	char *project_id;
	char *user_domain_name;
	char *user_domain_id;
	char *project_domain_name;
	char *project_domain_id;
	char *app_cred_id;
	char *app_cred_name;
	char *app_cred_secret; /* secret */
	char *token;           /* secret */
	char *region_name;
	char *interface;
	char *cacert;
	char *insecure; /* "true"/"false" as given */
	char *cloud;    /* the clouds.yaml entry these came from */
};

/* Returns zeroed credentials, or NULL with ERR set (out of memory). */
struct os_creds *os_creds_new(struct vmtp_err *err);

/* Zeroes the secrets and frees C; NULL is allowed. */
void os_creds_free(struct os_creds *c);

/* Returns a deep copy of C, or NULL with ERR set (out of memory). */
struct os_creds *os_creds_dup(const struct os_creds *c, struct vmtp_err *err);

/*
 * Zeroes every string inside V in place, for JSON that held a secret (a
 * parsed clouds.yaml, an auth request body) before it is freed.
 */
void os_json_scrub(json_t *v);

/*
 * Sets every field from the process environment (OS_* and the legacy
 * OS_TENANT_NAME, OS_TENANT_ID, OS_ENDPOINT_TYPE).  Variables that are set
 * override fields; others leave them unchanged.  Returns 0, or -1 with
 * ERR set when out of memory.
 */
int os_creds_from_env(struct os_creds *c, struct vmtp_err *err);

/*
 * Reads the openrc file PATH as text: `export NAME=VALUE` and `NAME=VALUE`
 * with single, double or no quotes, $NAME and ${NAME} references to
 * variables set before (in the file, else in the environment), `unset
 * NAME...`, comments; any other command (echo, read, if ...) is skipped,
 * so a value that refers to a variable nobody set (the Horizon file's
 * $OS_PASSWORD_INPUT) leaves the field unchanged.  Returns 0, or -1 with
 * ERR set: VMTP_EXIT_FAIL when the file cannot be read, VMTP_EXIT_DATA
 * with "PATH:LINE: ..." for an unterminated quote.
 */
int os_creds_load_openrc(
    struct os_creds *c, const char *path, struct vmtp_err *err);

/*
 * Sets the fields from the entry CLOUD of clouds.yaml, merged with the
 * same entry of secure.yaml when there is one.  The files are
 * $OS_CLIENT_CONFIG_FILE, else the first of ./clouds.yaml,
 * ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml (the same
 * places for secure.yaml, with $OS_CLIENT_SECURE_FILE).  Returns 0, or -1
 * with ERR set: VMTP_EXIT_FAIL when no clouds.yaml exists or it has no
 * entry CLOUD (naming the file), VMTP_EXIT_DATA for a file that is not
 * YAML or not shaped as clouds.yaml.
 */
int os_creds_load_clouds(
    struct os_creds *c, const char *cloud, struct vmtp_err *err);

/*
 * Checks that the fields needed by the auth type are there.  Returns 0,
 * or -1 with ERR set (VMTP_EXIT_USAGE) naming the first missing variable
 * ("OS_AUTH_URL is not set") or an unknown OS_AUTH_TYPE.
 */
int os_creds_check(const struct os_creds *c, struct vmtp_err *err);

#endif
