/*
 * main.c - vmtp-chart: result documents and record streams become one
 * self-contained HTML report with gnuplot charts, or a terminal table
 * (SPEC §6).  See man/vmtp-chart.1.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/cli.h"
#include "libvmtp/doc.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"
#include "libvmtp/opt.h"
#include "libvmtp/tmp.h"

#include "chart.h"

#define PROG "vmtp-chart"

enum { OPT_DETAIL = 256, OPT_VERSION, OPT_MESH_LOW };

static const char synopsis[] =
    "usage: vmtp-chart [-hqv] [--detail] [-f html|text] [--mesh-low percent]\n"
    "                  [-o file] [-p all|tcp|udp|multicast] [-t title]\n"
    "                  [--version] [file ...]\n";

static const struct opt options[] = {
    OPT_GROUP("Reads result documents and record streams (files, or stdin "
              "when none\n"
              "or \"-\" is given) and writes one report; from 9 results "
              "on, a trend.\n"),
    {OPT_DETAIL, "detail", NULL, "in a trend, also every result's own section"},
    {'f', "format", "html|text",
        "a self-contained HTML file with charts\n"
        "(default) or aligned terminal tables"},
    {'h', "help", NULL, "show this help and exit"},
    {OPT_MESH_LOW, "mesh-low", "percent",
        "in a mesh, mark the pairs below this share\n"
        "of the median throughput (default 80)"},
    {'o', "output", "file", "write the report to FILE, not stdout"},
    {'p', "protocol", "all|tcp|udp|multicast",
        "which series and tables to show"},
    {'q', "quiet", NULL, "print errors only"},
    {'t', "title", "title", "the report's title"},
    {'v', "verbose", NULL, "print debug messages (gnuplot's script)"},
    {OPT_VERSION, "version", NULL, "show the version and exit"}, OPT_END};

static const char *const formats[] = {"html", "text", NULL};
static const char *const protocols[] = {"all", "tcp", "udp", "multicast", NULL};

/* The command line. */
struct args {
	const char *output; /* NULL: stdout */
	const char *title;
	int format;        /* index in formats */
	int proto;         /* CHART_PROTO_* */
	double mesh_share; /* --mesh-low / 100; 0: the default */
	int level;
	int detail;
};

/*
 * Parses the command line into A.  Returns 0, 1 when --help or --version
 * has been answered, or -1 with ERR set.
 */
static int
parse_args(int argc, char **argv, struct args *a, struct vmtp_err *err)
{
	int ch;

	while ((ch = opt_next(argc, argv, options, err)) > 0) {
		switch (ch) {
		case 'f':
			a->format =
			    cli_parse_word("--format", optarg, formats, err);
			break;
		case 'h':
			opt_print_help(stdout, synopsis, options);
			return 1;
		case 'o':
			a->output = optarg;
			break;
		case 'p':
			a->proto = cli_parse_word(
			    "--protocol", optarg, protocols, err);
			break;
		case 'q':
			a->level = LOG_QUIET;
			break;
		case 't':
			a->title = optarg;
			break;
		case 'v':
			a->level = LOG_DEBUG;
			break;
		case OPT_DETAIL:
			a->detail = 1;
			break;
		case OPT_VERSION:
			cli_print_version(PROG);
			return 1;
		case OPT_MESH_LOW:
			if (cli_parse_double("--mesh-low", optarg, 1, 100,
			        &a->mesh_share, err) == 0)
				a->mesh_share /= 100;
			break;
		}
		if (err->exit != VMTP_EXIT_OK)
			return -1;
	}
	return ch;
}

/* Returns the documents of input NAME ("-": stdin): a new array, a large
 * document's flows packed into SPILL (doc_load_lean()). */
static json_t *
read_input(const char *name, struct rec_spill *spill, struct vmtp_err *err)
{
	int is_stdin = strcmp(name, "-") == 0;
	FILE *fp = is_stdin ? stdin : fopen(name, "r");
	json_t *docs;

	if (fp == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "cannot open %s: %s", name,
		    strerror(errno));
		return NULL;
	}
	docs = doc_load_lean(fp, is_stdin ? "<stdin>" : name, spill, err);
	if (!is_stdin)
		fclose(fp);
	return docs;
}

/*
 * Builds the report of the N inputs NAMES for A.  The documents of a
 * file are dropped once its results are built, so that memory does not
 * grow with the documents: with several inputs, a first pass counts the
 * TCP sizes of all (every result names its TCP series alike), and the
 * files are read again; what stdin gave is kept from the first pass.
 * Returns a new report, or NULL with ERR set.
 */
static struct chart_report *
build_report(char **names, int n, const struct args *a, struct rec_spill *spill,
    struct vmtp_err *err)
{
	struct chart_report *rep = NULL;
	json_t **kept = calloc((size_t)n, sizeof(*kept));
	json_t *docs;
	double first = NAN;
	int i, tcp_sizes = 0, sizes;
	size_t ndocs = 0;

	if (kept == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		docs = read_input(names[i], spill, err);
		if (docs == NULL)
			goto out;
		ndocs += json_array_size(docs);
		sizes = chart_tcp_sizes(docs, &first);
		if (sizes < 0) {
			json_decref(docs);
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
			goto out;
		}
		tcp_sizes = sizes > tcp_sizes ? sizes : tcp_sizes;
		if (n == 1 || strcmp(names[i], "-") == 0)
			kept[i] = docs;
		else
			json_decref(docs);
	}
	if (ndocs == 0) {
		err_set(err, VMTP_EXIT_DATA,
		    "no result document or records in the input");
		goto out;
	}
	rep = chart_report_new(a->proto, a->detail, tcp_sizes, ndocs, err);
	if (rep != NULL)
		rep->mesh_share = a->mesh_share;
	for (i = 0; rep != NULL && i < n; i++) {
		docs = kept[i] != NULL ? kept[i]
		                       : read_input(names[i], spill, err);
		kept[i] = NULL;
		if (docs == NULL || chart_report_add(rep, docs, err) != 0) {
			json_decref(docs);
			goto out;
		}
		json_decref(docs);
	}
	if (rep != NULL && chart_report_finish(rep, a->title, err) != 0)
		goto out;
	for (i = 0; kept != NULL && i < n; i++)
		json_decref(kept[i]);
	free(kept);
	return rep;
out:
	for (i = 0; kept != NULL && i < n; i++)
		json_decref(kept[i]);
	free(kept);
	chart_report_free(rep);
	return NULL;
}

/*
 * Whether the text report is coloured: only on a terminal (OUTPUT NULL is
 * stdout), and never when NO_COLOR is set and not empty.
 */
static int
colour(const char *output)
{
	const char *no = getenv("NO_COLOR");

	return output == NULL && isatty(STDOUT_FILENO) &&
	       (no == NULL || no[0] == '\0');
}

/* Copies the report rendered into REPORT (from its start) to PATH (NULL:
 * stdout). */
static int
write_out(const char *path, FILE *report, struct vmtp_err *err)
{
	FILE *fp = path != NULL ? fopen(path, "w") : stdout;
	char buf[65536];
	size_t n = 0;
	int bad = 0;

	if (fp == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "cannot create %s: %s",
		    path, strerror(errno));
	while (!bad && (n = fread(buf, 1, sizeof(buf), report)) > 0)
		bad = fwrite(buf, 1, n, fp) != n;
	if (ferror(report)) {
		if (path != NULL)
			fclose(fp);
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot read the rendered report back: %s",
		    strerror(errno));
	}
	if (bad || fflush(fp) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot write %s: %s",
		    path != NULL ? path : "output", strerror(errno));
		if (path != NULL)
			fclose(fp);
		return -1;
	}
	if (path != NULL && fclose(fp) != 0)
		return err_set(err, VMTP_EXIT_FAIL, "cannot write %s: %s", path,
		    strerror(errno));
	return 0;
}

int
main(int argc, char **argv)
{
	struct vmtp_err err = VMTP_ERR_INIT;
	struct args a = {NULL, NULL, 0, CHART_PROTO_ALL, 0, LOG_INFO, 0};
	char *stdin_only[] = {"-", NULL};
	struct chart_report *report = NULL;
	struct rec_spill *spill = NULL;
	struct proc *gp = NULL;
	FILE *out = NULL;
	int fd;
	int rc;

	log_init(PROG, LOG_INFO);
	if (parse_args(argc, argv, &a, &err) != 0)
		goto out;
	log_init(PROG, a.level);
	/* temporary files: a large document's flows wait in one, and the
	 * report is rendered into another (a mesh's is megabytes), so that a
	 * failure leaves no half-written report */
	spill = rec_spill_new(&err);
	if (spill == NULL)
		goto out;
	fd = tmp_open(&err);
	if (fd < 0)
		goto out;
	out = fdopen(fd, "w+");
	if (out == NULL) {
		close(fd);
		err_set(&err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	/* gnuplot starts up (most of its time) while the report is built */
	if (a.format == 0)
		gp = plot_start();

	/* inputs: every file in turn, stdin when none is named */
	if (optind == argc)
		report = build_report(stdin_only, 1, &a, spill, &err);
	else
		report =
		    build_report(&argv[optind], argc - optind, &a, spill, &err);
	if (report == NULL)
		goto out;

	if (a.format == 1)
		rc = text_write(out, report, colour(a.output), &err);
	else
		rc = html_write(out, report, &gp, &err);
	if (rc != 0)
		goto out;
	/* the report was made while gnuplot exited: was it well? */
	rc = plot_end(gp, &err);
	gp = NULL;
	if (rc != 0)
		goto out;
	if (fflush(out) != 0 || ferror(out) || fseek(out, 0, SEEK_SET) != 0) {
		err_set(&err, VMTP_EXIT_FAIL, "cannot write the report: %s",
		    strerror(errno));
		goto out;
	}

	/* finish */
	write_out(a.output, out, &err);
out:
	proc_abort(gp);
	if (out != NULL)
		fclose(out);
	chart_report_free(report);
	rec_spill_free(spill);
	cli_flush_stdout(&err);
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	if (err.exit == VMTP_EXIT_USAGE)
		fputs(synopsis, stderr);
	return err.exit;
}
