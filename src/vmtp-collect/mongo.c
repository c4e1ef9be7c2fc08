/*
 * mongo.c - insert result documents with libmongoc (see mongo.h).
 *
 * The document goes to BSON through libbson's JSON reader, so numbers keep
 * their kind (integer or double) and the stored document is field for
 * field the JSON file.
 *
 * libmongoc is loaded when a MongoDB URI is given, not linked: with what
 * it pulls in (libsasl2 and its plugins, libicu, ...) it is about 4 MiB
 * of every vmtp-collect's resident memory, and most runs never use it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <mongoc/mongoc.h>

#include "libvmtp/cli.h"
#include "libvmtp/dynlib.h"
#include "libvmtp/err.h"

#include "mongo.h"

/* the library Debian's libmongoc-1.0-0 installs (libmongoc-dev's
 * libmongoc-1.0.so links to it) */
#define MONGOC_SONAME "libmongoc-1.0.so.0"

/* libmongoc's and libbson's functions that we call, once loaded */
static struct {
	void *lib;
	__typeof__(mongoc_init) *init;
	__typeof__(mongoc_cleanup) *cleanup;
	__typeof__(mongoc_log_set_handler) *log_set_handler;
	__typeof__(mongoc_uri_new_with_error) *uri_new_with_error;
	__typeof__(mongoc_uri_destroy) *uri_destroy;
	__typeof__(mongoc_uri_get_hosts) *uri_get_hosts;
	__typeof__(mongoc_uri_get_database) *uri_get_database;
	__typeof__(mongoc_client_new_from_uri) *client_new_from_uri;
	__typeof__(mongoc_client_set_appname) *client_set_appname;
	__typeof__(mongoc_client_get_collection) *client_get_collection;
	__typeof__(mongoc_client_destroy) *client_destroy;
	__typeof__(mongoc_collection_insert_one) *collection_insert_one;
	__typeof__(mongoc_collection_destroy) *collection_destroy;
	__typeof__(bson_new_from_json) *bson_new_from_json;
	__typeof__(bson_destroy) *bson_destroy;
} m;

/* Loads libmongoc once.  Returns 0, or -1 with ERR set. */
static int
load(struct vmtp_err *err)
{
	static const struct dynlib_sym syms[] = {
	    DYNLIB_SYM(m, init, mongoc_init),
	    DYNLIB_SYM(m, cleanup, mongoc_cleanup),
	    DYNLIB_SYM(m, log_set_handler, mongoc_log_set_handler),
	    DYNLIB_SYM(m, uri_new_with_error, mongoc_uri_new_with_error),
	    DYNLIB_SYM(m, uri_destroy, mongoc_uri_destroy),
	    DYNLIB_SYM(m, uri_get_hosts, mongoc_uri_get_hosts),
	    DYNLIB_SYM(m, uri_get_database, mongoc_uri_get_database),
	    DYNLIB_SYM(m, client_new_from_uri, mongoc_client_new_from_uri),
	    DYNLIB_SYM(m, client_set_appname, mongoc_client_set_appname),
	    DYNLIB_SYM(m, client_get_collection, mongoc_client_get_collection),
	    DYNLIB_SYM(m, client_destroy, mongoc_client_destroy),
	    DYNLIB_SYM(m, collection_insert_one, mongoc_collection_insert_one),
	    DYNLIB_SYM(m, collection_destroy, mongoc_collection_destroy),
	    /* libbson's functions come through libmongoc, which needs it */
	    DYNLIB_SYM(m, bson_new_from_json, bson_new_from_json),
	    DYNLIB_SYM(m, bson_destroy, bson_destroy),
	};

	return dynlib_load(&m.lib, MONGOC_SONAME, "libmongoc-1.0-0", syms,
	    sizeof(syms) / sizeof(syms[0]), &m, err);
}

void
mongo_init(void)
{
	/* no performance counters in /dev/shm: a segment named by the pid
	 * outlives a vmtp-collect that is killed, and a later one given the
	 * same pid warns about it on stderr */
	setenv("MONGOC_DISABLE_SHM", "1", 0);
	m.init();
}

void
mongo_cleanup(void)
{
	m.cleanup();
}

char *
mongo_uri_from_server(const char *server, long long default_port,
    long timeout_ms, struct vmtp_err *err)
{
	const char *colon = strrchr(server, ':');
	const char *bracket = strrchr(server, ']');
	char *uri = NULL;
	long long port;
	size_t i;

	/* a host, an IPv4 address, or [IPv6], then an optional :port */
	for (i = 0; server[i] != '\0'; i++)
		if (strchr("/?@,#% \t", server[i]) != NULL)
			break;
	if (server[0] == '\0' || server[i] != '\0') {
		err_set(err, VMTP_EXIT_USAGE,
		    "--mongod-server: '%.200s' is not HOST[:PORT]", server);
		return NULL;
	}
	if (default_port <= 0 || default_port > 65535)
		default_port = 27017;
	/* a port is checked here, so that the message names this option */
	if (colon != NULL && (bracket == NULL || colon > bracket) &&
	    cli_parse_long("--mongod-server", colon + 1, 1, 65535, &port, err) <
	        0)
		return NULL;
	/* a port of its own, or the default one */
	if (colon != NULL && (bracket == NULL || colon > bracket))
		i = (size_t)asprintf(&uri,
		    "mongodb://%s/?connectTimeoutMS=%ld&"
		    "serverSelectionTimeoutMS=%ld",
		    server, timeout_ms, timeout_ms);
	else
		i = (size_t)asprintf(&uri,
		    "mongodb://%s:%lld/?connectTimeoutMS=%ld&"
		    "serverSelectionTimeoutMS=%ld",
		    server, default_port, timeout_ms, timeout_ms);
	if ((int)i < 0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	return uri;
}

int
mongo_uri_check(const char *uri_str, struct vmtp_err *err)
{
	bson_error_t berr;
	mongoc_uri_t *uri;

	if (load(err) != 0)
		return -1;
	/* libmongoc would log its own line about a bad URI to stderr: the
	 * error is said once, ours (STYLE: Logging) */
	m.log_set_handler(NULL, NULL);
	uri = m.uri_new_with_error(uri_str, &berr);
	if (uri == NULL)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--mongo-uri: not a MongoDB URI: %s", berr.message);
	m.uri_destroy(uri);
	return 0;
}

/* Writes the URI's "host:port,..." list into BUF for messages. */
static void
server_names(const mongoc_uri_t *uri, char *buf, size_t size)
{
	const mongoc_host_list_t *h = m.uri_get_hosts(uri);
	size_t n = 0;

	buf[0] = '\0';
	for (; h != NULL && n < size; h = h->next)
		n += (size_t)snprintf(buf + n, size - n, "%s%s",
		    n > 0 ? "," : "", h->host_and_port);
	if (buf[0] == '\0')
		snprintf(buf, size, "the MongoDB servers of the URI");
}

int
mongo_insert(const char *uri_str, const char *db, const char *collection,
    const json_t *docs, struct vmtp_err *err)
{
	mongoc_uri_t *uri = NULL;
	mongoc_client_t *client = NULL;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	char names[256];
	char *json = NULL;
	bson_t *b = NULL;
	json_t *doc;
	size_t i;
	int rc = -1;

	uri = m.uri_new_with_error(uri_str, &berr);
	if (uri == NULL) {
		/* libmongoc's message may quote the URI and its password */
		err_set(err, VMTP_EXIT_USAGE, "--mongo-uri: not a MongoDB URI");
		goto out;
	}
	server_names(uri, names, sizeof(names));
	if (m.uri_get_database(uri) != NULL)
		db = m.uri_get_database(uri);
	if (db == NULL)
		db = MONGO_DEFAULT_DB;
	if (collection == NULL)
		collection = MONGO_DEFAULT_COLLECTION;
	client = m.client_new_from_uri(uri);
	if (client == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "cannot connect to MongoDB at %s",
		    names);
		goto out;
	}
	m.client_set_appname(client, "vmtp-collect");
	coll = m.client_get_collection(client, db, collection);
	json_array_foreach ((json_t *)docs, i, doc) {
		json = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
		if (json == NULL) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
		b = m.bson_new_from_json((const uint8_t *)json, -1, &berr);
		if (b == NULL) {
			err_set(err, VMTP_EXIT_FAIL,
			    "cannot convert the result document to BSON: %s",
			    berr.message);
			goto out;
		}
		if (!m.collection_insert_one(coll, b, NULL, NULL, &berr)) {
			err_set(err, VMTP_EXIT_FAIL,
			    "cannot insert into MongoDB at %s (%s.%s): %s",
			    names, db, collection, berr.message);
			goto out;
		}
		m.bson_destroy(b);
		b = NULL;
		free(json);
		json = NULL;
	}
	rc = 0;
out:
	m.bson_destroy(b);
	free(json);
	m.collection_destroy(coll);
	m.client_destroy(client);
	m.uri_destroy(uri);
	return rc;
}
