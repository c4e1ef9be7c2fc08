/*
 * creds-dump.c - test driver for OpenStack credentials (creds.h): applies
 * the sources given in order (--env, -r OPENRC, --cloud NAME), then
 * prints the fields as one JSON object with every secret shown as
 * "<set:LENGTH>", and with --check runs os_creds_check().
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/creds.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"

/* Adds V under KEY; a secret shows only as "<set:LENGTH>". */
static int
add(json_t *o, const char *key, const char *v, int secret)
{
	char shown[32];

	if (v == NULL)
		return 0;
	snprintf(shown, sizeof(shown), "<set:%zu>", strlen(v));
	return json_object_set_new(o, key, json_string(secret ? shown : v));
}

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct os_creds *c;
	json_t *o = json_object();
	int check = 0;
	int i;

	log_init("creds-dump", LOG_INFO);
	c = os_creds_new(&err);
	for (i = 1; c != NULL && i < argc && err.exit == VMTP_EXIT_OK; i++) {
		if (strcmp(argv[i], "--env") == 0)
			os_creds_from_env(c, &err);
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			os_creds_load_openrc(c, argv[++i], &err);
		else if (strcmp(argv[i], "--cloud") == 0 && i + 1 < argc)
			os_creds_load_clouds(c, argv[++i], &err);
		else if (strcmp(argv[i], "--check") == 0)
			check = 1;
		else
			err_set(
			    &err, VMTP_EXIT_USAGE, "bad argument %s", argv[i]);
	}
	if (err.exit == VMTP_EXIT_OK && c != NULL && o != NULL) {
		add(o, "auth_url", c->auth_url, 0);
		add(o, "auth_type", c->auth_type, 0);
		add(o, "username", c->username, 0);
		add(o, "user_id", c->user_id, 0);
		add(o, "password", c->password, 1);
		add(o, "project_name", c->project_name, 0);
		add(o, "project_id", c->project_id, 0);
		add(o, "user_domain_name", c->user_domain_name, 0);
		add(o, "user_domain_id", c->user_domain_id, 0);
		add(o, "project_domain_name", c->project_domain_name, 0);
		add(o, "project_domain_id", c->project_domain_id, 0);
		add(o, "app_cred_id", c->app_cred_id, 0);
		add(o, "app_cred_name", c->app_cred_name, 0);
		add(o, "app_cred_secret", c->app_cred_secret, 1);
		add(o, "token", c->token, 1);
		add(o, "region_name", c->region_name, 0);
		add(o, "interface", c->interface, 0);
		add(o, "cacert", c->cacert, 0);
		add(o, "insecure", c->insecure, 0);
		if (check)
			os_creds_check(c, &err);
		if (err.exit == VMTP_EXIT_OK) {
			json_dumpf(o, stdout, JSON_COMPACT | JSON_SORT_KEYS);
			putchar('\n');
		}
	}
	json_decref(o);
	os_creds_free(c);
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	return err.exit;
}
