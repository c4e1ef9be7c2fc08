/*
 * vmtp-cleanup - delete the cloud resources of vmtp runs: by run tag, by
 * the resource records on standard input, or every stale run (SPEC §6).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/cli.h"
#include "libvmtp/err.h"
#include "libvmtp/journal.h"
#include "libvmtp/log.h"
#include "libvmtp/opt.h"
#include "libvmtp/os.h"
#include "libvmtp/rec.h"
#include "libvmtp/res.h"

#define PROG "vmtp-cleanup"

static const char synopsis[] =
    "usage: vmtp-cleanup [-hnqv] [--version] [--insecure] [-r openrc]\n"
    "                    [--os-cloud name] --tag tag\n"
    "       vmtp-cleanup [-hnqv] [--insecure] [-r openrc] [--os-cloud name]\n"
    "                    --all [--older-than duration]\n"
    "       vmtp-cleanup [-hnqv] [--insecure] [-r openrc] [--os-cloud name]\n"
    "                    [file ...]\n";

enum { OPT_VERSION = 256, OPT_INSECURE, OPT_OS_CLOUD, OPT_OLDER };

static const struct opt options[] = {
    OPT_GROUP("Delete what vmtp runs created in the cloud, in dependency "
              "order: what\n"
              "the run of --tag or every run (--all) created, or else what "
              "the resource\n"
              "records in FILEs or on stdin name.\n"),
    {'t', "tag", "TAG",
        "the run TAG: its journal and everything in the\n"
        "cloud tagged or named with it"},
    {'a', "all", NULL,
        "every run with a journal or a vmtp tag in the\n"
        "cloud"},
    {OPT_OLDER, "older-than", "DUR",
        "with --all: only runs at least DUR old\n"
        "(90, 30m, 2h, 7d)"},
    {'n', "dry-run", NULL,
        "write the resource records of what would be\n"
        "deleted, delete nothing"},
    {'r', "openrc", "FILE",
        "credentials from an openrc file (read, never run)"},
    {OPT_OS_CLOUD, "os-cloud", "NAME",
        "credentials from clouds.yaml (default $OS_CLOUD)"},
    {OPT_INSECURE, "insecure", NULL,
        "do not verify the API's TLS certificates"},
    {'q', "quiet", NULL, "errors only"},
    {'v', "verbose", NULL, "debug messages (API calls, never secrets)"},
    {'h', "help", NULL, "this help"},
    {OPT_VERSION, "version", NULL, "the version"},
    OPT_GROUP("\n"
              "Writes a `deleted` record per resource.  Exit status: 0 nothing "
              "of the\n"
              "runs remains, 1 something may remain (named: not deleted, or "
              "its\n"
              "service down), 2 usage, 65 bad input."),
    OPT_END};

struct options {
	int all;
	int dry_run;
	int insecure;
	int level;
	long long older_than; /* seconds; -1: any age */
	const char *openrc;
	const char *os_cloud;
	const char *tag;
};

/*
 * Parses the command line into O.  Returns 0, 1 when --help or --version
 * has been answered, or -1 with ERR set.
 */
static int
parse_args(int argc, char **argv, struct options *o, struct vmtp_err *err)
{
	int ch;

	o->older_than = -1;
	while ((ch = opt_next(argc, argv, options, err)) > 0) {
		switch (ch) {
		case 'a':
			o->all = 1;
			break;
		case 'h':
			opt_print_help(stdout, synopsis, options);
			return 1;
		case 'n':
			o->dry_run = 1;
			break;
		case 'q':
			o->level = LOG_QUIET;
			break;
		case 'r':
			o->openrc = optarg;
			break;
		case 't':
			o->tag = optarg;
			break;
		case 'v':
			o->level = LOG_DEBUG;
			break;
		case OPT_INSECURE:
			o->insecure = 1;
			break;
		case OPT_OLDER:
			if (cli_parse_duration("--older-than", optarg,
			        &o->older_than, err) != 0)
				return -1;
			break;
		case OPT_OS_CLOUD:
			o->os_cloud = optarg;
			break;
		case OPT_VERSION:
			cli_print_version(PROG);
			return 1;
		}
	}
	if (ch < 0)
		return -1;
	if (o->tag != NULL && o->all)
		return err_set(
		    err, VMTP_EXIT_USAGE, "--tag and --all exclude each other");
	if (o->tag != NULL && !journal_tag_ok(o->tag))
		return err_set(err, VMTP_EXIT_USAGE,
		    "--tag: not a run tag (vmtp- and 8 hex digits)");
	if (o->older_than >= 0 && !o->all)
		return err_set(
		    err, VMTP_EXIT_USAGE, "--older-than needs --all");
	if ((o->tag != NULL || o->all) && optind < argc)
		return err_set(err, VMTP_EXIT_USAGE,
		    "input files go without --tag and --all");
	if (o->os_cloud == NULL)
		o->os_cloud = getenv("OS_CLOUD");
	if (o->os_cloud != NULL && o->os_cloud[0] == '\0')
		o->os_cloud = NULL;
	return 0;
}

/*
 * Reads resource records from the inputs: the ones vmtp created become
 * victims, reused ones (created false) are kept, every other record is
 * passed on.  Returns 0 or -1 with ERR set.
 */
static int
read_inputs(char **files, int n, json_t *victims, struct vmtp_err *err)
{
	char *dash[] = {"-"};
	int i;

	if (n == 0) {
		files = dash;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		struct rec_reader *rd = rec_reader_open(files[i], err);
		json_t *rec;
		int rc;

		if (rd == NULL)
			return -1;
		while ((rc = rec_next(rd, &rec, err)) == 1) {
			const char *type = rec_type(rec);

			if (strcmp(type, "resource") != 0) {
				rc = rec_pass(rd, stdout, err);
			} else if (!json_is_string(
			               json_object_get(rec, "kind")) ||
			           !json_is_string(
			               json_object_get(rec, "id"))) {
				rc = err_set(err, VMTP_EXIT_DATA,
				    "%s:%ld: resource record without kind or "
				    "id",
				    rec_reader_name(rd), rec_reader_line(rd));
			} else if (json_is_false(
			               json_object_get(rec, "created"))) {
				log_debug("%s %s was reused, not created: kept",
				    json_string_value(
				        json_object_get(rec, "kind")),
				    json_string_value(
				        json_object_get(rec, "id")));
			} else if (res_add(victims, rec) != 0) {
				rc = err_set(
				    err, VMTP_EXIT_FAIL, "out of memory");
			}
			json_decref(rec);
			if (rc < 0)
				break;
		}
		rec_reader_free(rd);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Adds the created resources of TAG's journal to VICTIMS. */
static int
add_journal(const char *tag, json_t *victims, struct vmtp_err *err)
{
	json_t *recs = journal_read(tag, err);
	json_t *r;
	size_t i;

	if (recs == NULL)
		return -1;
	json_array_foreach (recs, i, r) {
		const char *type = rec_type(r);

		if (type == NULL || strcmp(type, "resource") != 0 ||
		    json_is_false(json_object_get(r, "created")) ||
		    !json_is_string(json_object_get(r, "kind")) ||
		    !json_is_string(json_object_get(r, "id")))
			continue;
		if (res_add(victims, r) != 0) {
			json_decref(recs);
			return err_set(err, VMTP_EXIT_FAIL, "out of memory");
		}
	}
	json_decref(recs);
	return 0;
}

/* The run tags among VICTIMS, in order of first appearance. */
static json_t *
runs_of(const json_t *victims)
{
	json_t *runs = json_array();
	json_t *v;
	size_t i, j;

	json_array_foreach ((json_t *)victims, i, v) {
		json_t *run = json_object_get(v, "run");
		json_t *known;
		int seen = 0;

		if (!json_is_string(run))
			continue;
		json_array_foreach (runs, j, known)
			seen |= json_equal(known, run);
		if (!seen && json_array_append(runs, run) != 0) {
			json_decref(runs);
			return NULL;
		}
	}
	return runs;
}

/*
 * With --older-than: drops from VICTIMS the runs whose journal is younger
 * than the limit.  A run without a journal (found only in the cloud) is
 * judged by the age of its tag's resources in the cloud, which scan records
 * do not carry, so it is kept only when old enough per its journal; a run
 * with no journal at all counts as old.
 */
static int
drop_young(json_t *victims, long long older_than, struct vmtp_err *err)
{
	json_t *journals = journal_list(err);
	time_t now = time(NULL);
	json_t *j;
	size_t i, k;

	if (journals == NULL)
		return -1;
	json_array_foreach (journals, i, j) {
		const char *tag = json_string_value(json_object_get(j, "tag"));
		long long age = (long long)now -
		                json_integer_value(json_object_get(j, "mtime"));

		if (age >= older_than)
			continue;
		log_info("run %s is %llds old: kept", tag, age);
		for (k = json_array_size(victims); k-- > 0;) {
			const char *run = json_string_value(
			    json_object_get(json_array_get(victims, k), "run"));

			if (run != NULL && strcmp(run, tag) == 0)
				json_array_remove(victims, k);
		}
	}
	json_decref(journals);
	return 0;
}

/*
 * Adds to VICTIMS what --tag or --all names: the created resources of the
 * run's (or every run's) journal and what carries a run tag in the cloud.
 * With --older-than, young runs are dropped.  What could not be looked at
 * is counted in H.  Returns 0 or -1 with ERR.
 */
static int
find_victims(struct os_session *s, const struct options *o,
    struct res_health *h, json_t *victims, struct vmtp_err *err)
{
	struct res_filter f = {NULL};
	json_t *journals;
	json_t *v;
	size_t i;

	if (o->tag != NULL) {
		f.tag = o->tag;
		if (add_journal(o->tag, victims, err) != 0)
			return -1;
		return res_scan(s, &f, h, victims, err);
	}
	journals = journal_list(err);
	if (journals == NULL)
		return -1;
	json_array_foreach (journals, i, v) {
		if (add_journal(json_string_value(json_object_get(v, "tag")),
		        victims, err) != 0) {
			json_decref(journals);
			return -1;
		}
	}
	json_decref(journals);
	if (res_scan(s, &f, h, victims, err) != 0)
		return -1;
	if (o->older_than >= 0)
		return drop_young(victims, o->older_than, err);
	return 0;
}

/* --dry-run: writes the VICTIMS' records, deletes nothing. */
static int
dry_run(const json_t *victims, struct vmtp_err *err)
{
	json_t *v;
	size_t i;

	json_array_foreach ((json_t *)victims, i, v) {
		if (rec_write(stdout, v, err) != 0)
			return -1;
	}
	log_info("%zu resource(s) would be deleted", json_array_size(victims));
	return 0;
}

/*
 * What is left of VICTIMS after the deletion, and what the tag scan of
 * each of RUNS still finds (created meanwhile).  Returns a new reference,
 * or NULL with ERR set.
 */
static json_t *
remaining(struct os_session *s, struct res_health *h, const json_t *victims,
    const json_t *runs, struct vmtp_err *err)
{
	struct res_filter f = {NULL};
	json_t *left = res_still_there(s, h, victims, err);
	json_t *again = NULL;
	json_t *v, *r;
	size_t i, k;

	if (left == NULL)
		return NULL;
	json_array_foreach ((json_t *)runs, i, v) {
		f.tag = json_string_value(v);
		again = json_array();
		if (again == NULL || res_scan(s, &f, h, again, err) != 0)
			goto fail;
		json_array_foreach (again, k, r)
			if (res_add(left, r) != 0) {
				err_set(err, VMTP_EXIT_FAIL, "out of memory");
				goto fail;
			}
		json_decref(again);
	}
	return left;
fail:
	json_decref(again);
	json_decref(left);
	return NULL;
}

/*
 * Removes the journal of each of RUNS with nothing LEFT, and that of TAG
 * (NULL: none) when nothing at all is left; none when H says that part of
 * the cloud could not be looked at or was skipped (a later cleanup needs
 * them).  Returns 0 or -1 with ERR.
 */
static int
forget_runs(const json_t *runs, const json_t *left, const char *tag,
    const struct res_health *h, struct vmtp_err *err)
{
	json_t *v, *r;
	size_t i, k;

	if (h->unseen != 0 || h->skipped > 0) {
		log_debug("journals kept: part of the cloud was not looked at");
		return 0;
	}
	json_array_foreach ((json_t *)runs, i, v) {
		int remains = 0;

		json_array_foreach ((json_t *)left, k, r)
			remains |= json_equal(json_object_get(r, "run"), v);
		if (!remains && journal_remove(json_string_value(v), err) != 0)
			return -1;
	}
	if (tag != NULL && json_array_size(left) == 0)
		return journal_remove(tag, err);
	return 0;
}

/*
 * Sets ERR to say that something of the runs may remain: FAILED victims
 * could not be deleted and H counts the collections not looked at.
 * Returns 0 when neither happened, else -1.
 */
static int
may_remain(size_t failed, const struct res_health *h, struct vmtp_err *err)
{
	if (failed > 0 && h->unseen != 0)
		return err_set(err, VMTP_EXIT_FAIL,
		    "%zu resource(s) could not be deleted and %d collection(s) "
		    "could not be listed: something of the run may remain",
		    failed, res_unseen(h));
	if (failed > 0)
		return err_set(err, VMTP_EXIT_FAIL,
		    "%zu resource(s) could not be deleted", failed);
	if (h->unseen != 0)
		return err_set(err, VMTP_EXIT_FAIL,
		    "%d collection(s) could not be listed: something of the "
		    "run may remain",
		    res_unseen(h));
	return 0;
}

/* Rounds of deletion at most (delete_victims()). */
#define ROUNDS 3

/* How many of LEFT are not among TRIED: made after they were found. */
static size_t
count_new(const json_t *left, const json_t *tried)
{
	json_t *v;
	size_t i, n = 0;

	json_array_foreach ((json_t *)left, i, v)
		n += !res_has(tried, v);
	return n;
}

/*
 * Deletes VICTIMS, then names each resource still there (or not known to
 * be gone: its service is down) and forgets the journals of runs that are
 * gone.  What the runs' tags find after the deletion that was not there
 * before (a create still in flight when its vmtp-provision was killed
 * lands meanwhile, and may hold what could not be deleted) makes another
 * round of what is left, up to ROUNDS.  Returns 0, or -1 with ERR set
 * (VMTP_EXIT_FAIL when something could not be deleted or looked at).
 */
static int
delete_victims(struct os_session *s, const struct options *o,
    struct res_health *h, json_t *victims, struct vmtp_err *err)
{
	json_t *left = NULL;
	json_t *runs = runs_of(victims);
	json_t *round = json_incref(victims);
	json_t *v;
	size_t i, n;
	int failed;
	int rc = -1;
	int k;

	if (runs == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	for (k = 1;; k++) {
		failed =
		    res_delete_all(s, h, round, stdout, cli_note_deleted, err);
		if (failed < 0)
			goto out;
		left = remaining(s, h, round, runs, err);
		if (left == NULL)
			goto out;
		n = count_new(left, round);
		if (n == 0 || k == ROUNDS)
			break;
		log_info("%zu resource(s) of the run made meanwhile: deleting "
		         "what is left again",
		    n);
		json_decref(round);
		round = left;
		left = NULL;
	}
	json_array_foreach (left, i, v) {
		const char *kind =
		    json_string_value(json_object_get(v, "kind"));
		const char *down = res_down_why(h, kind);
		char why[sizeof(h->why[0]) + 32] = "still there";

		if (down != NULL)
			snprintf(
			    why, sizeof(why), "may still be there (%s)", down);
		log_error("%s: %s %s (%s) of run %s", why, kind,
		    json_string_value(json_object_get(v, "name")),
		    json_string_value(json_object_get(v, "id")),
		    json_string_value(json_object_get(v, "run")));
	}
	if (forget_runs(runs, left, o->tag, h, err) != 0)
		goto out;
	if (may_remain(json_array_size(left) > 0 ? json_array_size(left)
	                                         : (size_t)failed,
	        h, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(left);
	json_decref(round);
	json_decref(runs);
	return rc;
}

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	int usage = 0; /* the command line is wrong: show the synopsis */
	struct options o = {0};
	struct os_session *s = NULL;
	struct res_health h;
	json_t *victims = NULL;

	memset(&h, 0, sizeof(h));
	log_init(PROG, LOG_INFO);
	if (parse_args(argc, argv, &o, &err) != 0) {
		usage = err.exit == VMTP_EXIT_USAGE;
		goto out;
	}
	log_init(PROG, o.level);
	victims = json_array();
	if (victims == NULL) {
		err_set(&err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	if (o.tag == NULL && !o.all &&
	    read_inputs(argv + optind, argc - optind, victims, &err) != 0)
		goto out;
	s = os_session_open(o.openrc, o.os_cloud, o.insecure, &err);
	if (s == NULL)
		goto out;
	if ((o.tag != NULL || o.all) &&
	    find_victims(s, &o, &h, victims, &err) != 0)
		goto out;
	if (o.dry_run) {
		if (dry_run(victims, &err) == 0)
			may_remain(0, &h, &err);
	} else {
		delete_victims(s, &o, &h, victims, &err);
	}
out:
	cli_flush_stdout(&err);
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	if (usage)
		fputs(synopsis, stderr);
	json_decref(victims);
	os_session_free(s);
	return err.exit;
}
