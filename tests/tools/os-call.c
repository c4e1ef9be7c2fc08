/*
 * os-call.c - test driver for OpenStack sessions (os.h): takes
 * credentials from the OS_* environment, then -r OPENRC or --cloud NAME,
 * authenticates and sends one request, printing the HTTP status on the
 * first line and the JSON answer on the second.
 *   os-call [-v] [--insecure] [-r OPENRC | --cloud NAME] [--auth-only |
 *           --endpoint TYPE | METHOD TYPE PATH [BODY]]
 * Exit 0 for a 2xx answer, else 1 with the error on stderr.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/creds.h"
#include "libvmtp/err.h"
#include "libvmtp/http.h"
#include "libvmtp/log.h"
#include "libvmtp/os.h"

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct http_opts ho = HTTP_OPTS_INIT;
	struct os_creds *c = NULL;
	struct os_session *s = NULL;
	json_t *body = NULL;
	json_t *out = NULL;
	const char *endpoint = NULL;
	int auth_only = 0;
	int level = LOG_INFO;
	int i = 1;
	long status;

	for (; i < argc && argv[i][0] == '-'; i++)
		if (strcmp(argv[i], "-v") == 0)
			level = LOG_DEBUG;
	log_init("os-call", level);
	c = os_creds_new(&err);
	if (c == NULL || os_creds_from_env(c, &err) != 0)
		goto out;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--insecure") == 0)
			ho.insecure = 1;
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			os_creds_load_openrc(c, argv[++i], &err);
		else if (strcmp(argv[i], "--cloud") == 0 && i + 1 < argc)
			os_creds_load_clouds(c, argv[++i], &err);
		else if (strcmp(argv[i], "--auth-only") == 0)
			auth_only = 1;
		else if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc)
			endpoint = argv[++i];
		else if (strcmp(argv[i], "-v") != 0)
			err_set(
			    &err, VMTP_EXIT_USAGE, "bad option %s", argv[i]);
	}
	if (err.exit != VMTP_EXIT_OK)
		goto out;
	s = os_session_new(c, &ho, &err);
	if (s == NULL || os_authenticate(s, &err) != 0)
		goto out;
	if (auth_only) {
		printf("project %s\n", os_project_id(s));
		goto out;
	}
	if (endpoint != NULL) {
		const char *url = os_endpoint(s, endpoint, &err);

		if (url != NULL)
			printf("%s\n", url);
		goto out;
	}
	if (argc - i < 3) {
		err_set(&err, VMTP_EXIT_USAGE, "METHOD TYPE PATH expected");
		goto out;
	}
	if (argc - i > 3 && (body = json_loads(argv[i + 3], 0, NULL)) == NULL) {
		err_set(&err, VMTP_EXIT_USAGE, "BODY is not JSON");
		goto out;
	}
	status = os_request(
	    s, argv[i + 1], argv[i], argv[i + 2], body, NULL, &out, &err);
	if (status > 0) {
		printf("%ld\n", status);
		json_dumpf(out, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
		putchar('\n');
	}
out:
	json_decref(body);
	json_decref(out);
	os_session_free(s);
	os_creds_free(c);
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	return err.exit;
}
