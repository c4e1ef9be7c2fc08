/*
 * mongo.h - store result documents in MongoDB with libmongoc, as the
 * original tool's --mongod_server did (SPEC §5, §6 vmtp-collect).
 */
#ifndef VMTP_COLLECT_MONGO_H
#define VMTP_COLLECT_MONGO_H

#include <jansson.h>

#include "libvmtp/err.h"

#define MONGO_DEFAULT_DB "client_db"
#define MONGO_DEFAULT_COLLECTION "pns_web_entry"

/*
 * Builds the connection string for the original form HOST[:PORT] (PORT
 * defaults to DEFAULT_PORT, or 27017 when that is 0) with connect and
 * server selection timeouts of TIMEOUT_MS.  Returns a new string (caller
 * frees), or NULL with ERR set (VMTP_EXIT_USAGE) when SERVER is not a host
 * name or address.
 */
char *mongo_uri_from_server(const char *server, long long default_port,
    long timeout_ms, struct vmtp_err *err);

/*
 * Checks that URI is a MongoDB connection string, before any I/O, loading
 * libmongoc first (it is loaded, not linked).  Returns 0, or -1 with ERR
 * set (VMTP_EXIT_USAGE; the message never quotes URI, which may hold a
 * password; VMTP_EXIT_FAIL when libmongoc cannot be loaded).
 */
int mongo_uri_check(const char *uri, struct vmtp_err *err);

/* libmongoc's global start and end (mongoc_init, mongoc_cleanup), once
 * mongo_uri_check() has loaded it. */
void mongo_init(void);
void mongo_cleanup(void);

/*
 * Inserts each document of DOCS (borrowed) into DB.COLLECTION of the
 * deployment at URI: the database the URI names, else DB, else client_db;
 * COLLECTION NULL is pns_web_entry.  Messages name the servers of the URI,
 * never its user name or password.  Returns 0, or -1 with ERR set
 * (VMTP_EXIT_USAGE for a bad URI, VMTP_EXIT_FAIL when the server is down or
 * refuses).
 */
int mongo_insert(const char *uri, const char *db, const char *collection,
    const json_t *docs, struct vmtp_err *err);

#endif
