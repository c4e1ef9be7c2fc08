/*
 * opt.c - a program's options declared once: getopt_long's tables and the
 * option lines of --help from one table (see opt.h; SPEC §6, STYLE:
 * Command line).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "libvmtp/err.h"
#include "libvmtp/opt.h"

/* Names longer than this put their help on the next line. */
#define NAMES_MAX 30

static int
is_end(const struct opt *o)
{
	return o->id == 0 && o->help == NULL;
}

/*
 * Fills SHORTS (":" first, so that a missing value is told apart) and
 * LONGS from OPTS.  Returns 0, or -1 with ERR set when OPTS holds more
 * than OPT_MAX options.
 */
static int
tables(const struct opt *opts, char *shorts, struct option *longs,
    struct vmtp_err *err)
{
	size_t ns = 0, nl = 0;
	int n = 0;

	shorts[ns++] = ':';
	for (; !is_end(opts); opts++) {
		if (opts->id == 0)
			continue;
		if (++n > OPT_MAX)
			return err_set(err, VMTP_EXIT_FAIL,
			    "more than %d options in the table", OPT_MAX);
		if (opts->id < 256) {
			shorts[ns++] = (char)opts->id;
			if (opts->arg != NULL)
				shorts[ns++] = ':';
		}
		if (opts->name != NULL)
			longs[nl++] = (struct option){opts->name,
			    opts->arg != NULL ? required_argument : no_argument,
			    NULL, opts->id};
	}
	shorts[ns] = '\0';
	longs[nl] = (struct option){NULL, 0, NULL, 0};
	return 0;
}

/* How many long names of OPTS start with the LEN bytes of WORD. */
static int
matches(const struct opt *opts, const char *word, size_t len)
{
	int n = 0;

	for (; !is_end(opts); opts++)
		if (opts->name != NULL && strncmp(opts->name, word, len) == 0)
			n++;
	return n;
}

/*
 * Whether getopt's error for option value VAL (optopt) is about the long
 * option WORD (the word before optind): optopt is 0 for a long name
 * getopt does not know, an id of 256 and up has no short letter, and a
 * short letter is a long option's only when WORD names that option.
 * A short letter's error is never in a word before "--name": a value
 * missing is at the end of its word, after which optind moves on.
 */
static int
long_error(const struct opt *opts, const char *word, int val)
{
	size_t len;

	if (val == 0 || val >= 256)
		return 1;
	if (strncmp(word, "--", 2) != 0)
		return 0;
	len = strcspn(word + 2, "=");
	for (; !is_end(opts); opts++)
		if (opts->id == val && opts->name != NULL &&
		    strncmp(opts->name, word + 2, len) == 0)
			return 1;
	return 0;
}

int
opt_next(int argc, char **argv, const struct opt *opts, struct vmtp_err *err)
{
	char shorts[2 * OPT_MAX + 2];
	struct option longs[OPT_MAX + 1];
	const char *word;
	int len;
	int ch;

	if (tables(opts, shorts, longs, err) != 0)
		return -1;
	opterr = 0;
	ch = getopt_long(argc, argv, shorts, longs, NULL);
	if (ch == -1)
		return 0;
	if (ch != ':' && ch != '?')
		return ch;
	word = argv[optind - 1];
	if (!long_error(opts, word, optopt))
		return err_set(err, VMTP_EXIT_USAGE,
		    ch == ':' ? "option '-%c' needs a value"
		              : "unknown option '-%c'",
		    optopt);
	len = (int)strcspn(word, "=");
	if (ch == ':')
		return err_set(err, VMTP_EXIT_USAGE,
		    "option '%.*s' needs a value", len, word);
	if (optopt != 0)
		return err_set(err, VMTP_EXIT_USAGE,
		    "option '%.*s' takes no value", len, word);
	if (matches(opts, word + 2, (size_t)len - 2) > 1)
		return err_set(err, VMTP_EXIT_USAGE,
		    "option '%.*s' is ambiguous", len, word);
	return err_set(
	    err, VMTP_EXIT_USAGE, "unknown option '%.*s'", len, word);
}

/* fprintf to FP, or only the length when FP is NULL. */
static int
out(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fp != NULL ? vfprintf(fp, fmt, ap) : vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	return n;
}

/* Prints O's names and argument to FP ("  -f, --format html|text"). */
static int
names(FILE *fp, const struct opt *o)
{
	char letter[3] = {'-', (char)o->id, '\0'};

	return out(fp, "  %s%s%s%s%s%s", o->id < 256 ? letter : "  ",
	    o->id < 256 && o->name != NULL ? ", "
	    : o->name != NULL              ? "  "
	                                   : "",
	    o->name != NULL ? "--" : "", o->name != NULL ? o->name : "",
	    o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
}

void
opt_print_help(FILE *fp, const char *synopsis, const struct opt *opts)
{
	const struct opt *o;
	const char *line;
	int col = 0;
	int n;

	for (o = opts; !is_end(o); o++) {
		n = o->id != 0 ? names(NULL, o) : 0;
		if (n <= NAMES_MAX && n > col)
			col = n;
	}
	col += 2;
	fprintf(fp, "%s\n", synopsis);
	for (o = opts; !is_end(o); o++) {
		if (o->id == 0) {
			fprintf(fp, "%s\n", o->help);
			continue;
		}
		n = names(fp, o);
		if (n > NAMES_MAX) {
			fputc('\n', fp);
			n = 0;
		}
		for (line = o->help;; line += strcspn(line, "\n") + 1) {
			fprintf(fp, "%*s%.*s\n", col - n, "",
			    (int)strcspn(line, "\n"), line);
			n = 0;
			if (strchr(line, '\n') == NULL)
				break;
		}
	}
}
