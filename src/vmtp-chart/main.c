/*
 * main.c - vmtp-chart: result documents and record streams become one
 * self-contained HTML report with gnuplot charts, or a terminal table
 * (SPEC §6).  See man/vmtp-chart.1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/cli.h"
#include "libvmtp/doc.h"
#include "libvmtp/err.h"
#include "libvmtp/log.h"

#include "chart.h"

#define PROG "vmtp-chart"

enum { OPT_VERSION = 256 };

static const char synopsis[] =
    "usage: vmtp-chart [-hqv] [-f html|text] [-o file] [-p all|tcp|udp]\n"
    "                  [-t title] [--version] [file ...]\n";

static const char options_help[] =
    "\n"
    "Reads result documents and record streams (files, or stdin when none\n"
    "or \"-\" is given) and writes one report.\n"
    "\n"
    "  -f, --format html|text     a self-contained HTML file with charts\n"
    "                             (default) or aligned terminal tables\n"
    "  -h, --help                 show this help and exit\n"
    "  -o, --output file          write the report to FILE, not stdout\n"
    "  -p, --protocol all|tcp|udp which series and tables to show\n"
    "  -q, --quiet                print errors only\n"
    "  -t, --title title          the report's title\n"
    "  -v, --verbose              print debug messages (gnuplot's script)\n"
    "      --version              show the version and exit\n";

static const struct option longopts[] = {
    {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
    {"output", required_argument, NULL, 'o'},
    {"protocol", required_argument, NULL, 'p'},
    {"quiet", no_argument, NULL, 'q'}, {"title", required_argument, NULL, 't'},
    {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0}};

static const char *const formats[] = {"html", "text", NULL};
static const char *const protocols[] = {"all", "tcp", "udp", NULL};

static int
usage(const char *fmt, const char *what)
{
	fprintf(stderr, "%s: ", PROG);
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n%s", synopsis);
	return VMTP_EXIT_USAGE;
}

/* Appends the documents of input NAME ("-": stdin) to DOCS. */
static int
read_input(json_t *docs, const char *name, struct vmtp_err *err)
{
	int is_stdin = strcmp(name, "-") == 0;
	FILE *fp = is_stdin ? stdin : fopen(name, "r");
	json_t *more;
	int rc;

	if (fp == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "cannot open %s: %s", name,
		    strerror(errno));
	more = doc_load(fp, is_stdin ? "<stdin>" : name, err);
	if (!is_stdin)
		fclose(fp);
	if (more == NULL)
		return -1;
	rc = json_array_extend(docs, more);
	json_decref(more);
	if (rc != 0)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return 0;
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

/* Writes the LEN bytes of BUF to PATH (NULL: stdout). */
static int
write_out(const char *path, const char *buf, size_t len, struct vmtp_err *err)
{
	FILE *fp = path != NULL ? fopen(path, "w") : stdout;

	if (fp == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "cannot create %s: %s",
		    path, strerror(errno));
	if (fwrite(buf, 1, len, fp) != len || fflush(fp) != 0) {
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
	struct chart_report *report = NULL;
	const char *output = NULL;
	const char *title = NULL;
	json_t *docs = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = NULL;
	int format = 0, proto = CHART_PROTO_ALL, level = LOG_INFO;
	int ch, i;

	/* options */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:ho:p:qt:v", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'f':
			format =
			    cli_parse_word("--format", optarg, formats, &err);
			break;
		case 'h':
			fputs(synopsis, stdout);
			fputs(options_help, stdout);
			return fflush(stdout) == 0 ? VMTP_EXIT_OK
			                           : VMTP_EXIT_FAIL;
		case 'o':
			output = optarg;
			break;
		case 'p':
			proto = cli_parse_word(
			    "--protocol", optarg, protocols, &err);
			break;
		case 'q':
			level = LOG_QUIET;
			break;
		case 't':
			title = optarg;
			break;
		case 'v':
			level = LOG_DEBUG;
			break;
		case OPT_VERSION:
			cli_print_version(PROG);
			return fflush(stdout) == 0 ? VMTP_EXIT_OK
			                           : VMTP_EXIT_FAIL;
		case ':':
			return usage(
			    "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage("unknown option '%s'", argv[optind - 1]);
		}
		if (err.exit != VMTP_EXIT_OK)
			return usage("%s", err.msg);
	}
	log_init(PROG, level);

	/* inputs: every file in turn, stdin when none is named */
	docs = json_array();
	if (docs == NULL) {
		err_set(&err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	if (optind == argc && read_input(docs, "-", &err) != 0)
		goto out;
	for (i = optind; i < argc; i++)
		if (read_input(docs, argv[i], &err) != 0)
			goto out;
	if (json_array_size(docs) == 0) {
		err_set(&err, VMTP_EXIT_DATA,
		    "no result document or records in the input");
		goto out;
	}

	/* render into memory, so a failure leaves no half-written report */
	report = chart_report_new(docs, proto, title, &err);
	if (report == NULL)
		goto out;
	mem = open_memstream(&buf, &len);
	if (mem == NULL) {
		err_set(&err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	if (format == 1 ? text_write(mem, report, colour(output), &err) != 0
	                : html_write(mem, report, &err) != 0)
		goto out;
	if (fclose(mem) != 0) {
		mem = NULL;
		err_set(&err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	mem = NULL;

	/* finish */
	write_out(output, buf, len, &err);
out:
	if (mem != NULL)
		fclose(mem);
	free(buf);
	chart_report_free(report);
	json_decref(docs);
	if (err.exit != VMTP_EXIT_OK)
		log_error("%s", err.msg);
	return err.exit;
}
