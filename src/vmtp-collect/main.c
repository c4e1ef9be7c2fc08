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
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/cli.h"
#include "libvmtp/doc.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"
#include "libvmtp/opt.h"
#include "libvmtp/rec.h"

#include "cpu.h"
#include "gmond.h"
#include "mongo.h"
#include "openmetrics.h"
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
    "                    [--openmetrics file] [--sla expr] [--version] "
    "[file]\n";

enum {
	OPT_CPU_INTERVAL = 256,
	OPT_JSON,
	OPT_MONGO_URI,
	OPT_MONGOD_SERVER,
	OPT_NODE_EXPORTER,
	OPT_OPENMETRICS,
	OPT_SLA,
	OPT_VERSION
};

static const struct opt options[] = {
    OPT_GROUP("Passes records on, adds host CPU load to samples, writes the "
              "result document.\n"),
    {'c', "config", "file", "configuration (vmtp_db, vmtp_collection)"},
    {'m', "monitor", "host[:port]", "poll this gmond (port 8649); repeatable"},
    {OPT_NODE_EXPORTER, "node-exporter", "url",
        "poll this node_exporter's /metrics; repeatable"},
    {OPT_CPU_INTERVAL, "cpu-interval", "seconds", "time between polls (2)"},
    {OPT_JSON, "json", "file", "write the result document to file"},
    {OPT_MONGOD_SERVER, "mongod-server", "host[:port]",
        "insert it into MongoDB (port vmtp_mongod_port)"},
    {OPT_MONGO_URI, "mongo-uri", "uri", "insert it into MongoDB at uri"},
    {OPT_OPENMETRICS, "openmetrics", "file",
        "write the results as OpenMetrics text to file"},
    {OPT_SLA, "sla", "expr",
        "judge every flow, e.g. 'tcp_gbps>=9'; repeatable"},
    {'q', "quiet", NULL, "errors only"},
    {'v', "verbose", NULL, "debug messages"}, {'h', "help", NULL, "this help"},
    {OPT_VERSION, "version", NULL, "print the version"}, OPT_END};

/* The command line. */
struct args {
	const char *cfg_path;
	const char *json_path;
	const char *om_path; /* --openmetrics */
	const char *mongod_server;
	const char *mongo_uri; /* --mongo-uri, or made from --mongod-server */
	const char *input;     /* "-": stdin */
	const char *gmonds[MAX_LIST];
	const char *exporters[MAX_LIST];
	struct sla *slas[MAX_LIST];
	size_t ngmond, nexporter, nsla;
	double interval;
	int level;
};

/* Appends VALUE to LIST of *N; more than MAX_LIST is a usage error. */
static int
add_to(const char **list, size_t *n, const char *value, struct vmtp_err *err)
{
	if (*n == MAX_LIST)
		return err_set(err, VMTP_EXIT_USAGE,
		    "more than %d of an option", MAX_LIST);
	list[(*n)++] = value;
	return 0;
}

/* One option CH of the command line into A.  Returns 0 or -1 with ERR. */
static int
parse_opt(int ch, struct args *a, struct vmtp_err *err)
{
	switch (ch) {
	case 'c':
		a->cfg_path = optarg;
		break;
	case 'm':
		return add_to(a->gmonds, &a->ngmond, optarg, err);
	case 'q':
		a->level = LOG_QUIET;
		break;
	case 'v':
		a->level = LOG_DEBUG;
		break;
	case OPT_CPU_INTERVAL:
		return cli_parse_double(
		    "--cpu-interval", optarg, 0.1, 3600, &a->interval, err);
	case OPT_JSON:
		a->json_path = optarg;
		break;
	case OPT_MONGO_URI:
		a->mongo_uri = optarg;
		break;
	case OPT_MONGOD_SERVER:
		a->mongod_server = optarg;
		break;
	case OPT_NODE_EXPORTER:
		return add_to(a->exporters, &a->nexporter, optarg, err);
	case OPT_OPENMETRICS:
		a->om_path = optarg;
		break;
	case OPT_SLA:
		if (a->nsla == MAX_LIST)
			return err_set(err, VMTP_EXIT_USAGE,
			    "more than %d of an option", MAX_LIST);
		a->slas[a->nsla] = sla_parse(optarg, err);
		if (a->slas[a->nsla] == NULL)
			return -1;
		a->nsla++;
		break;
	}
	return 0;
}

/*
 * Parses the command line into A.  Returns 0, 1 when --help or --version
 * has been answered, or -1 with ERR set.
 */
static int
parse_args(int argc, char **argv, struct args *a, struct vmtp_err *err)
{
	int ch;

	while ((ch = opt_next(argc, argv, options, err)) > 0) {
		if (ch == 'h') {
			opt_print_help(stdout, synopsis, options);
			return 1;
		}
		if (ch == OPT_VERSION) {
			cli_print_version(PROG);
			return 1;
		}
		if (parse_opt(ch, a, err) != 0)
			return -1;
	}
	if (ch < 0)
		return -1;
	if (argc - optind > 1)
		return err_set(err, VMTP_EXIT_USAGE, "too many arguments");
	a->input = optind < argc ? argv[optind] : "-";
	if (a->mongo_uri != NULL && a->mongod_server != NULL)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--mongo-uri and --mongod-server both name the database: "
		    "give one");
	return 0;
}

/* Options whose value the document never shows: passwords, and the hosts,
 * whose value may hold an SSH password (user@ip[:password]), as the
 * original masks them. */
static const char *const secret_opts[] = {"-p", "--password", "--os-password",
    "--os_password", "--host", "--external-host", "--external_host",
    "--controller-node", "--controller_node", NULL};

/*
 * Returns word W as the document shows it, a new string: "<MASKED>" when
 * it follows a secret option (NEXT), "KEY=<MASKED>" for a secret given as
 * KEY=value, else a copy.  NULL when out of memory.
 */
static char *
mask_word(const char *w, int next)
{
	static const char *const keys[] = {"--password=", "--os-password=",
	    "OS_PASSWORD=", "--host=", "--external-host=", "--external_host=",
	    "--controller-node=", "--controller_node=", NULL};
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
 * Checks that option OPT's file PATH can be written at the end of the
 * input, before any record is read: its folder exists and PATH is not a
 * folder, so that a typo does not cost a run.  Returns 0, or -1 with ERR
 * set (VMTP_EXIT_FAIL) naming OPT and PATH.
 */
static int
check_out_path(const char *opt, const char *path, struct vmtp_err *err)
{
	char *copy = strdup(path);
	struct stat st;
	int rc = 0;
	int e;

	if (copy == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		rc = err_set(err, VMTP_EXIT_FAIL, "%s: cannot write %s: %s",
		    opt, path, strerror(EISDIR));
	else if ((e = stat(dirname(copy), &st) != 0 ? errno
	              : !S_ISDIR(st.st_mode)        ? ENOTDIR
	                                            : 0) != 0)
		rc = err_set(err, VMTP_EXIT_FAIL, "%s: cannot write %s: %s",
		    opt, path, strerror(e));
	free(copy);
	return rc;
}

/* Writes a whole file to FP from ARG.  Returns 0, or -1 with ERR set or
 * errno telling why FP could not be written. */
typedef int (*file_writer)(FILE *fp, void *arg, struct vmtp_err *err);

/*
 * Writes PATH with WRITE(ARG): into a temporary file next to it, then
 * renamed over it, so a reader sees the old file or the whole new one.  A
 * PATH that exists and is not a regular file (/dev/stdout, a FIFO) is
 * written in place.  Returns 0, or -1 with ERR set naming PATH.
 */
static int
write_file(const char *path, file_writer write, void *arg, struct vmtp_err *err)
{
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
	errno = 0;
	if (write(fp, arg, err) != 0) {
		if (err->exit == VMTP_EXIT_OK)
			err_set(err, VMTP_EXIT_FAIL, "cannot write %s: %s",
			    path, strerror(errno != 0 ? errno : EIO));
		goto out;
	}
	if (fflush(fp) != 0 || (!in_place && fsync(fileno(fp)) != 0)) {
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

/* The documents to write: their records, and whether they may go. */
struct docs_out {
	struct doc_set *set;
	int consume;
};

/* The documents of a struct docs_out (one as an object, several as a
 * list) as JSON, their "args" masked (a file_writer). */
static int
put_docs(FILE *fp, void *out, struct vmtp_err *err)
{
	struct docs_out *o = out;

	(void)err;
	return doc_set_write(o->set, fp, mask_args, o->consume);
}

/* The metrics of records (a file_writer). */
static int
put_metrics(FILE *fp, void *records, struct vmtp_err *err)
{
	return openmetrics_write(fp, records, err);
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

/*
 * Checks where the result document goes: the configuration (read only
 * with -c or MongoDB: it says where in MongoDB results go) into *CFG, a
 * URI made from --mongod-server into *URI (A's mongo_uri then borrows
 * it), the URI checked.  Returns 0, or -1 with ERR set.
 */
static int
check_outputs(struct args *a, json_t **cfg, char **uri, struct vmtp_err *err)
{
	if ((a->json_path != NULL &&
	        check_out_path("--json", a->json_path, err) != 0) ||
	    (a->om_path != NULL &&
	        check_out_path("--openmetrics", a->om_path, err) != 0))
		return -1;
	if (a->cfg_path != NULL || a->mongo_uri != NULL ||
	    a->mongod_server != NULL) {
		*cfg = cfg_load(a->cfg_path, err);
		if (*cfg == NULL ||
		    cli_warn_ignored(*cfg, CFG_STAGE_COLLECT, err) != 0)
			return -1;
	}
	if (a->mongod_server != NULL) {
		*uri = mongo_uri_from_server(a->mongod_server,
		    cfg_int(*cfg, "vmtp_mongod_port"), MONGO_TIMEOUT_MS, err);
		if (*uri == NULL)
			return -1;
		a->mongo_uri = *uri;
	}
	if (a->mongo_uri != NULL && mongo_uri_check(a->mongo_uri, err) != 0)
		return -1;
	return 0;
}

/*
 * A poller into STORE of every --monitor and --node-exporter of A, not
 * started.  Returns it, or NULL with ERR set.
 */
static struct poller *
pollers_new(const struct args *a, struct cpu_store *store, struct vmtp_err *err)
{
	/* a poll gives up after the interval, and never waits over 5 s */
	double timeout = a->interval > 5   ? 5
	                 : a->interval < 1 ? 1
	                                   : a->interval;
	struct poller *p = poller_new(store, a->interval, timeout, err);
	size_t i;

	for (i = 0; p != NULL && i < a->ngmond; i++)
		if (poller_add(p, POLLER_GMOND, a->gmonds[i], err) != 0)
			goto fail;
	for (i = 0; p != NULL && i < a->nexporter; i++)
		if (poller_add(p, POLLER_NODEEXP, a->exporters[i], err) != 0)
			goto fail;
	return p;
fail:
	poller_free(p);
	return NULL;
}

/*
 * Streams the records of RD to stdout, each checked (a sample given
 * cpu_load) and kept in RECORDS, packed (rec_pack(): in SPILL, or in
 * memory without it, where a 64-host mesh's records would take 17 MB as
 * trees, 4 MB packed); at their end the pollers stop and cpu records
 * still waiting for a run tag go out without one.  Returns 0, or -1 with
 * ERR set.
 */
static int
stream(struct rec_reader *rd, struct cpu_store *store, struct poller *poller,
    struct rec_spill *spill, json_t *records, struct vmtp_err *err)
{
	json_t *seen = json_object(); /* for doc_check_record() */
	json_t *rec = NULL;
	int warned = 0;
	int rc;

	if (seen == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	while ((rc = rec_next(rd, &rec, err)) == 1) {
		if (doc_check_record(rec, seen, rec_reader_name(rd),
		        rec_reader_line(rd), err) != 0 ||
		    handle(rd, rec, store, poller_count(poller) > 0, &warned,
		        err) != 0) {
			json_decref(rec);
			rc = -1;
			break;
		}
		if (json_array_append_new(records, rec_pack(spill, rec)) != 0) {
			rc = err_set(err, VMTP_EXIT_FAIL, "out of memory");
			break;
		}
	}
	json_decref(seen);
	if (rc < 0 || poller_stop(poller, err) != 0)
		return -1;
	return cpu_store_set_run(store, NULL, err);
}

/*
 * Judges RECORDS by every --sla of A: the verdicts go to stdout and join
 * RECORDS, packed as they were made (in SPILL, or in memory without it: a
 * mesh has thousands).  Returns the number of failed verdicts, or -1 with
 * ERR set.
 */
static int
judge(const struct args *a, struct rec_spill *spill, json_t *records,
    struct vmtp_err *err)
{
	json_t *verdicts = json_array();
	json_t *v = NULL;
	size_t i;
	int failed = 0;
	int rc;

	if (verdicts == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	for (i = 0; i < a->nsla; i++) {
		rc = sla_judge(a->slas[i], records, spill, verdicts, err);
		if (rc < 0)
			goto fail;
		failed += rc;
	}
	for (i = 0; i < json_array_size(verdicts); i++) {
		if ((v = rec_at(verdicts, i)) == NULL ||
		    json_array_append(records, json_array_get(verdicts, i)) !=
		        0) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto fail;
		}
		if (rec_write(stdout, v, err) != 0)
			goto fail;
		json_decref(v);
	}
	json_decref(verdicts);
	return failed;
fail:
	json_decref(v);
	json_decref(verdicts);
	return -1;
}

/*
 * Writes the result documents of RECORDS (read from INPUT; their samples
 * are taken, see doc_assemble()) to --json and to MongoDB, and the results
 * to --openmetrics, when A asks for them.  Returns 0, or -1 with ERR set.
 */
static int
write_results(const struct args *a, const json_t *cfg, json_t *records,
    const char *input, struct vmtp_err *err)
{
	/* the samples go into the file's documents, unless the metrics or
	 * MongoDB's documents, made after it, still need them */
	struct docs_out out = {
	    .consume = a->om_path == NULL && a->mongo_uri == NULL};
	json_t *docs = NULL;
	size_t i;
	int rc = -1;

	if (a->json_path == NULL && a->mongo_uri == NULL && a->om_path == NULL)
		return 0;
	out.set = doc_set_open(records, err);
	if (out.set == NULL)
		return -1;
	if (doc_set_count(out.set) == 0) {
		err_set(err, VMTP_EXIT_DATA,
		    "%s: no run in the input: no result document written",
		    input);
		goto out;
	}
	/* the file first: a MongoDB that is down must not lose the result;
	 * written one flow at a time, a large run's document is never held
	 * whole */
	if (a->json_path != NULL &&
	    write_file(a->json_path, put_docs, &out, err) != 0)
		goto out;
	/* the metrics read the records on their own: the documents' index
	 * goes first, unless MongoDB's documents still need it */
	if (a->mongo_uri == NULL) {
		doc_set_free(out.set);
		out.set = NULL;
	}
	if (a->om_path != NULL &&
	    write_file(a->om_path, put_metrics, records, err) != 0)
		goto out;
	if (a->mongo_uri == NULL) {
		rc = 0;
		goto out;
	}
	docs = doc_set_assemble(out.set, 1, err);
	if (docs == NULL)
		goto out;
	for (i = 0; i < json_array_size(docs); i++)
		if (mask_args(json_array_get(docs, i)) != 0) {
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
	if (mongo_insert(a->mongo_uri, cfg_str(cfg, "vmtp_db"),
	        cfg_str(cfg, "vmtp_collection"), docs, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(docs);
	doc_set_free(out.set);
	return rc;
}

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct vmtp_err spill_err = VMTP_ERR_INIT;
	struct args a = {0};
	struct rec_reader *rd = NULL;
	struct cpu_store *store = NULL;
	struct poller *poller = NULL;
	struct rec_spill *spill = NULL;
	json_t *cfg = NULL;
	json_t *records = NULL;
	char *uri = NULL;
	int mongo_ready = 0;
	int failed = 0;
	size_t i;

	log_init(PROG, LOG_INFO);
	a.interval = 2;
	if (parse_args(argc, argv, &a, &err) != 0)
		goto out;
	log_init(PROG, a.level);
	if (check_outputs(&a, &cfg, &uri, &err) != 0)
		goto out;
	store = cpu_store_new(&err);
	poller = store != NULL ? pollers_new(&a, store, &err) : NULL;
	if (poller == NULL)
		goto out;

	/* libraries with global state start before the poller thread, and
	 * only for the pollers that use them: libcurl's start (its TLS
	 * libraries) alone is 2 MiB of resident memory; libxml2 is loaded
	 * only then (gmond.c) */
	if (a.ngmond > 0 && gmond_init(&err) != 0)
		goto out;
	if (a.nexporter > 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		err_set(&err, VMTP_EXIT_FAIL, "cannot initialize libcurl");
		goto out;
	}
	if (a.mongo_uri != NULL) {
		mongo_init();
		mongo_ready = 1;
	}
	records = json_array();
	if (records == NULL) {
		err_set(&err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	/* the records wait for the end of input in a temporary file (a
	 * default mesh's are 11 MB), or in memory when none can be made */
	spill = rec_spill_new(&spill_err);
	if (spill == NULL)
		log_warn("%s: records are kept in memory", spill_err.msg);
	rd = rec_reader_open(a.input, &err);
	if (rd == NULL || poller_start(poller, &err) != 0 ||
	    stream(rd, store, poller, spill, records, &err) != 0)
		goto out;
	failed = judge(&a, spill, records, &err);
	if (failed >= 0)
		write_results(&a, cfg, records, rec_reader_name(rd), &err);
out:
	poller_free(poller);
	cli_flush_stdout(&err);
	if (err.exit != VMTP_EXIT_OK) {
		log_error("%s", err.msg);
		if (err.exit == VMTP_EXIT_USAGE)
			fputs(synopsis, stderr);
	} else if (failed > 0) {
		log_warn(
		    "%d SLA verdict%s failed", failed, failed == 1 ? "" : "s");
		err.exit = VMTP_EXIT_SLA;
	}
	json_decref(cfg);
	json_decref(records);
	rec_spill_free(spill);
	rec_reader_free(rd);
	cpu_store_free(store);
	for (i = 0; i < a.nsla; i++)
		sla_free(a.slas[i]);
	free(uri);
	if (mongo_ready)
		mongo_cleanup();
	if (a.nexporter > 0)
		curl_global_cleanup();
	if (a.ngmond > 0)
		gmond_cleanup();
	return err.exit;
}
