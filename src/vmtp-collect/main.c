/*
 * main.c - vmtp-collect: samples and host CPU into the result document
 * (SPEC §4, §5, §6; man/vmtp-collect.1).
 *
 * Passes every record on, adding cpu_load to samples from the readings of
 * gmond servers and node_exporters polled since start; writes cpu records
 * as readings arrive, sla records at end of input, then the result
 * document to --json FILE and/or MongoDB.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <mongoc/mongoc.h>

#include "libvmtp/cfg.h"
#include "libvmtp/cli.h"
#include "libvmtp/doc.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"
#include "libvmtp/rec.h"

#include "cpu.h"
#include "mongo.h"
#include "poller.h"
#include "sla.h"

#define PROG "vmtp-collect"
#define MAX_LIST 64 /* of a repeatable option */
#define MONGO_TIMEOUT_MS 10000

static const char synopsis[] =
    "usage: vmtp-collect [-hqv] [-c file] [-m host[:port]]\n"
    "                    [--cpu-interval seconds] [--json file] "
    "[--mongo-uri uri]\n"
    "                    [--mongod-server host[:port]] "
    "[--node-exporter url]\n"
    "                    [--sla expr] [--version] [file]\n";

/* Names what is wrong (unless getopt did), then the synopsis. */
static void
usage(const char *why)
{
	if (why != NULL && why[0] != '\0')
		fprintf(stderr, "%s: %s\n", PROG, why);
	fputs(synopsis, stderr);
}

static void
help(void)
{
	fputs(synopsis, stdout);
	fputs("\n"
	      "Passes records on, adds host CPU load to samples, writes the "
	      "result document.\n\n"
	      "  -c, --config file           configuration (vmtp_db, "
	      "vmtp_collection)\n"
	      "  -m, --monitor host[:port]   poll this gmond (port 8649); "
	      "repeatable\n"
	      "      --node-exporter url     poll this node_exporter's "
	      "/metrics; repeatable\n"
	      "      --cpu-interval seconds  time between polls (2)\n"
	      "      --json file             write the result document to "
	      "file\n"
	      "      --mongod-server host[:port]\n"
	      "                              insert it into MongoDB "
	      "(port vmtp_mongod_port)\n"
	      "      --mongo-uri uri         insert it into MongoDB at uri\n"
	      "      --sla expr              judge every flow, e.g. "
	      "'tcp_gbps>=9'; repeatable\n"
	      "  -q, --quiet                 errors only\n"
	      "  -v, --verbose               debug messages\n"
	      "  -h, --help                  this help\n"
	      "      --version               print the version\n",
	    stdout);
}

enum {
	OPT_CPU_INTERVAL = 256,
	OPT_JSON,
	OPT_MONGO_URI,
	OPT_MONGOD_SERVER,
	OPT_NODE_EXPORTER,
	OPT_SLA,
	OPT_VERSION
};

static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"cpu-interval", required_argument, NULL, OPT_CPU_INTERVAL},
    {"help", no_argument, NULL, 'h'},
    {"json", required_argument, NULL, OPT_JSON},
    {"monitor", required_argument, NULL, 'm'},
    {"mongo-uri", required_argument, NULL, OPT_MONGO_URI},
    {"mongod-server", required_argument, NULL, OPT_MONGOD_SERVER},
    {"node-exporter", required_argument, NULL, OPT_NODE_EXPORTER},
    {"quiet", no_argument, NULL, 'q'},
    {"sla", required_argument, NULL, OPT_SLA},
    {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Options whose value is a secret in the original tool's command line. */
static const char *const secret_opts[] = {
    "-p", "--password", "--os-password", "--os_password", NULL};

/*
 * Returns word W as the document shows it, a new string: "<MASKED>" when
 * it follows a secret option (NEXT), "KEY=<MASKED>" for a secret given as
 * KEY=value, else a copy.  NULL when out of memory.
 */
static char *
mask_word(const char *w, int next)
{
	static const char *const keys[] = {
	    "--password=", "--os-password=", "OS_PASSWORD=", NULL};
	char *out = NULL;
	int i;

	if (next)
		return strdup("<MASKED>");
	for (i = 0; keys[i] != NULL; i++)
		if (strncmp(w, keys[i], strlen(keys[i])) == 0)
			return asprintf(&out, "%s<MASKED>", keys[i]) < 0 ? NULL
			                                                 : out;
	return strdup(w);
}

static int
is_secret_opt(const char *w)
{
	int i;

	for (i = 0; secret_opts[i] != NULL; i++)
		if (strcmp(w, secret_opts[i]) == 0)
			return 1;
	return 0;
}

/*
 * Masks passwords in DOC's "args" (a string of words or a list), again:
 * the producer masked them already, but a document is kept for years.
 * Returns 0, or -1 when out of memory.
 */
static int
mask_args(json_t *doc)
{
	json_t *args = json_object_get(doc, "args"); /* borrowed from doc */
	const char *s = json_string_value(args);
	FILE *fp = NULL;
	char *out = NULL;
	size_t size = 0;
	size_t i;
	int next = 0;
	int rc = -1;

	if (json_is_array(args)) {
		for (i = 0; i < json_array_size(args); i++) {
			const char *w =
			    json_string_value(json_array_get(args, i));
			char *m;

			if (w == NULL)
				continue;
			m = mask_word(w, next);
			next = is_secret_opt(w);
			if (m == NULL ||
			    json_array_set_new(args, i, json_string(m)) != 0) {
				free(m);
				return -1;
			}
			free(m);
		}
		return 0;
	}
	if (s == NULL)
		return 0;
	fp = open_memstream(&out, &size);
	if (fp == NULL)
		return -1;
	while (*s != '\0') {
		size_t w = strcspn(s, " ");
		char *word = strndup(s, w);
		char *m = word != NULL ? mask_word(word, next) : NULL;

		if (m == NULL || fputs(m, fp) == EOF) {
			free(word);
			free(m);
			goto out;
		}
		next = is_secret_opt(word);
		free(word);
		free(m);
		for (s += w; *s == ' '; s++)
			if (putc(' ', fp) == EOF)
				goto out;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		goto out;
	}
	fp = NULL;
	if (json_object_set_new(doc, "args", json_string(out)) != 0)
		goto out;
	rc = 0;
out:
	if (fp != NULL)
		fclose(fp);
	free(out);
	return rc;
}

/*
 * Writes DOCS (one document as an object, several as a list) to PATH:
 * into a temporary file next to it, then renamed over it, so a reader sees
 * the old file or the whole new one.  A PATH that exists and is not a
 * regular file (/dev/stdout, a FIFO) is written in place.  Returns 0, or
 * -1 with ERR set naming PATH.
 */
static int
write_json(const char *path, const json_t *docs, struct vmtp_err *err)
{
	const json_t *what =
	    json_array_size(docs) == 1 ? json_array_get(docs, 0) : docs;
	char *tmp = NULL;
	struct stat st;
	FILE *fp = NULL;
	int in_place;
	int fd = -1;
	int rc = -1;

	in_place = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
	if (!in_place &&
	    asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	}
	fd = in_place
	         ? open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
	         : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot create %s: %s",
		    in_place ? path : tmp, strerror(errno));
		goto out;
	}
	fp = fdopen(fd, "w");
	if (fp == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "cannot write %s: %s", path,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (json_dumpf(what, fp, JSON_INDENT(4) | JSON_REAL_PRECISION(15)) !=
	        0 ||
	    fputc('\n', fp) == EOF || fflush(fp) != 0 ||
	    (!in_place && fsync(fileno(fp)) != 0)) {
		err_set(err, VMTP_EXIT_FAIL, "cannot write %s: %s", path,
		    strerror(errno != 0 ? errno : EIO));
		goto out;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		err_set(err, VMTP_EXIT_FAIL, "cannot write %s: %s", path,
		    strerror(errno));
		goto out;
	}
	fp = NULL;
	if (!in_place && rename(tmp, path) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot rename %s to %s: %s", tmp,
		    path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fp != NULL)
		fclose(fp);
	if (fd >= 0)
		close(fd);
	if (rc != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	return rc;
}

/*
 * Handles one record REC read from RD: a sample gets cpu_load when CPU is
 * polled; the record goes on under the store's lock (the poller writes
 * too) and its run tag releases cpu records waiting for one.  Returns 0,
 * or -1 with ERR set.
 */
static int
handle(struct rec_reader *rd, json_t *rec, struct cpu_store *store, int polling,
    int *warned, struct vmtp_err *err)
{
	const char *type = rec_type(rec);
	const char *run = json_string_value(json_object_get(rec, "run"));
	json_t *load = NULL;
	int rc;

	if (polling && strcmp(type, "sample") == 0 &&
	    json_object_get(rec, "error") == NULL) {
		json_t *t0 = json_object_get(rec, "t_start");
		json_t *t1 = json_object_get(rec, "t_end");

		if (!json_is_number(t0) || !json_is_number(t1))
			return err_set(err, VMTP_EXIT_DATA,
			    "%s:%ld: sample record has no \"%s\"",
			    rec_reader_name(rd), rec_reader_line(rd),
			    json_is_number(t0) ? "t_end" : "t_start");
		load = cpu_store_load(
		    store, json_number_value(t0), json_number_value(t1));
		if (load == NULL)
			return err_set(err, VMTP_EXIT_FAIL, "out of memory");
		if (json_object_size(load) == 0) {
			if (!*warned)
				log_warn("%s:%ld: sample ended before any CPU "
				         "reading; samples without one get no "
				         "cpu_load",
				    rec_reader_name(rd), rec_reader_line(rd));
			*warned = 1;
			json_decref(load);
			load = NULL;
		} else if (json_object_set_new(rec, "cpu_load", load) != 0) {
			return err_set(err, VMTP_EXIT_FAIL, "out of memory");
		}
	}
	pthread_mutex_lock(cpu_store_lock(store));
	rc = load != NULL ? rec_write(stdout, rec, err)
	                  : rec_pass(rd, stdout, err);
	if (rc == 0 && run != NULL)
		rc = cpu_store_set_run(store, run, err);
	pthread_mutex_unlock(cpu_store_lock(store));
	return rc;
}

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct sla *slas[MAX_LIST];
	const char *gmonds[MAX_LIST];
	const char *exporters[MAX_LIST];
	struct rec_reader *rd = NULL;
	struct cpu_store *store = NULL;
	struct poller *poller = NULL;
	json_t *cfg = NULL;
	json_t *records = NULL;
	json_t *verdicts = NULL;
	json_t *docs = NULL;
	json_t *rec = NULL;
	const char *cfg_path = NULL;
	const char *json_path = NULL;
	const char *mongod_server = NULL;
	const char *mongo_uri = NULL;
	char *uri = NULL;
	double interval = 2;
	size_t nsla = 0, ngmond = 0, nexporter = 0;
	size_t i;
	int level = LOG_INFO;
	int mongo_ready = 0;
	int warned = 0;
	int failed = 0;
	int ch;
	int rc;

	log_init(PROG, LOG_INFO);
	while (
	    (ch = getopt_long(argc, argv, "c:hm:qv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfg_path = optarg;
			break;
		case 'h':
			help();
			goto out;
		case 'm':
			if (ngmond == MAX_LIST)
				goto too_many;
			gmonds[ngmond++] = optarg;
			break;
		case 'q':
			level = LOG_QUIET;
			break;
		case 'v':
			level = LOG_DEBUG;
			break;
		case OPT_CPU_INTERVAL:
			if (cli_parse_double("--cpu-interval", optarg, 0.1,
			        3600, &interval, &err) != 0)
				goto out;
			break;
		case OPT_JSON:
			json_path = optarg;
			break;
		case OPT_MONGO_URI:
			mongo_uri = optarg;
			break;
		case OPT_MONGOD_SERVER:
			mongod_server = optarg;
			break;
		case OPT_NODE_EXPORTER:
			if (nexporter == MAX_LIST)
				goto too_many;
			exporters[nexporter++] = optarg;
			break;
		case OPT_SLA:
			if (nsla == MAX_LIST)
				goto too_many;
			slas[nsla] = sla_parse(optarg, &err);
			if (slas[nsla] == NULL)
				goto out;
			nsla++;
			break;
		case OPT_VERSION:
			cli_print_version(PROG);
			goto out;
		default:
			/* getopt_long has named the bad option */
			err_set(&err, VMTP_EXIT_USAGE, "%s", "");
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1) {
		err_set(&err, VMTP_EXIT_USAGE, "too many arguments");
		goto out;
	}
	if (mongo_uri != NULL && mongod_server != NULL) {
		err_set(&err, VMTP_EXIT_USAGE,
		    "--mongo-uri and --mongod-server both name the database: "
		    "give one");
		goto out;
	}
	/* the configuration only says where in MongoDB results go */
	if (cfg_path != NULL || mongo_uri != NULL || mongod_server != NULL) {
		cfg = cfg_load(cfg_path, &err);
		if (cfg == NULL)
			goto out;
	}
	if (mongod_server != NULL) {
		uri = mongo_uri_from_server(mongod_server,
		    cfg_int(cfg, "vmtp_mongod_port"), MONGO_TIMEOUT_MS, &err);
		if (uri == NULL)
			goto out;
		mongo_uri = uri;
	}
	if (mongo_uri != NULL && mongo_uri_check(mongo_uri, &err) != 0)
		goto out;
	store = cpu_store_new(&err);
	if (store == NULL)
		goto out;
	/* a poll gives up after the interval, and never waits over 5 s */
	poller = poller_new(store, interval,
	    interval > 5   ? 5
	    : interval < 1 ? 1
	                   : interval,
	    &err);
	if (poller == NULL)
		goto out;
	for (i = 0; i < ngmond; i++)
		if (poller_add(poller, POLLER_GMOND, gmonds[i], &err) != 0)
			goto out;
	for (i = 0; i < nexporter; i++)
		if (poller_add(poller, POLLER_NODEEXP, exporters[i], &err) != 0)
			goto out;
	log_init(PROG, level);
	if (cfg != NULL && cli_warn_ignored(cfg, CFG_STAGE_COLLECT, &err) != 0)
		goto out;

	/* libraries with global state start before the poller thread */
	xmlInitParser();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		err_set(&err, VMTP_EXIT_FAIL, "cannot initialize libcurl");
		goto out;
	}
	if (mongo_uri != NULL) {
		mongoc_init();
		mongo_ready = 1;
	}
	records = json_array();
	verdicts = json_array();
	if (records == NULL || verdicts == NULL) {
		err_set(&err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	rd = rec_reader_open(argc == 1 ? argv[0] : "-", &err);
	if (rd == NULL || poller_start(poller, &err) != 0)
		goto out;

	while ((rc = rec_next(rd, &rec, &err)) == 1) {
		if (doc_check_record(rec, rec_reader_name(rd),
		        rec_reader_line(rd), &err) != 0 ||
		    handle(rd, rec, store, poller_count(poller) > 0, &warned,
		        &err) != 0)
			goto out;
		if (json_array_append_new(records, rec) != 0) {
			rec = NULL;
			err_set(&err, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
		rec = NULL;
	}
	if (rc < 0 || poller_stop(poller, &err) != 0)
		goto out;
	/* cpu records still waiting for a run tag go out without one */
	if (cpu_store_set_run(store, NULL, &err) != 0)
		goto out;

	for (i = 0; i < nsla; i++) {
		rc = sla_judge(slas[i], records, verdicts, &err);
		if (rc < 0)
			goto out;
		failed += rc;
	}
	for (i = 0; i < json_array_size(verdicts); i++) {
		json_t *v = json_array_get(verdicts, i); /* borrowed */

		if (rec_write(stdout, v, &err) != 0)
			goto out;
		if (json_array_append(records, v) != 0) {
			err_set(&err, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
	}

	if (json_path == NULL && mongo_uri == NULL)
		goto out;
	docs = doc_assemble(records, &err);
	if (docs == NULL)
		goto out;
	for (i = 0; i < json_array_size(docs); i++)
		if (mask_args(json_array_get(docs, i)) != 0) {
			err_set(&err, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
	if (json_array_size(docs) == 0) {
		err_set(&err, VMTP_EXIT_DATA,
		    "%s: no run in the input: no result document written",
		    rec_reader_name(rd));
		goto out;
	}
	/* the file first: a MongoDB that is down must not lose the result */
	if (json_path != NULL && write_json(json_path, docs, &err) != 0)
		goto out;
	if (mongo_uri != NULL &&
	    mongo_insert(mongo_uri, cfg_str(cfg, "vmtp_db"),
	        cfg_str(cfg, "vmtp_collection"), docs, &err) != 0)
		goto out;
	goto out;
too_many:
	err_set(&err, VMTP_EXIT_USAGE, "more than %d of an option", MAX_LIST);
out:
	poller_free(poller);
	if (err.exit == VMTP_EXIT_OK && fflush(stdout) != 0)
		err_set(&err, VMTP_EXIT_FAIL, "cannot write output: %s",
		    strerror(errno));
	if (err.exit == VMTP_EXIT_USAGE)
		usage(err.msg);
	else if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	else if (failed > 0) {
		log_warn(
		    "%d SLA verdict%s failed", failed, failed == 1 ? "" : "s");
		err.exit = VMTP_EXIT_SLA;
	}
	json_decref(rec);
	json_decref(cfg);
	json_decref(docs);
	json_decref(verdicts);
	json_decref(records);
	rec_reader_free(rd);
	cpu_store_free(store);
	for (i = 0; i < nsla; i++)
		sla_free(slas[i]);
	free(uri);
	if (mongo_ready)
		mongoc_cleanup();
	curl_global_cleanup();
	xmlCleanupParser();
	return err.exit;
}
