/*
 * opt.h - a program's options declared once (SPEC §6, STYLE: Command
 * line), as git's parse-options does: one table of struct opt gives the
 * getopt_long short string, its long-option table and the option lines
 * of --help, so that they cannot disagree.
 *
 * A table is an array of entries ended by OPT_END.  An option entry has
 * an id (what opt_next() returns for it: its short letter, or a value of
 * 256 and up for an option with a long name only), a long name or NULL,
 * the name of its argument as --help shows it or NULL when it takes none,
 * and its help (lines separated by '\n').  OPT_GROUP(text) is a line of
 * text in --help between the options: a heading or a paragraph.
 *
 * The program keeps its SYNOPSIS, a hand-written string (the man page's
 * SYNOPSIS); --help is the SYNOPSIS, then the lines made from the table.
 */
#ifndef VMTP_OPT_H
#define VMTP_OPT_H

#include <stdio.h>

#include "libvmtp/err.h"

/* The options a table may hold; opt_next() refuses a longer table. */
#define OPT_MAX 64

/* One entry of a program's option table; see the file comment. */
struct opt {
	int id;           /* short letter, or >= 256: long name only */
	const char *name; /* long name without "--", or NULL */
	const char *arg;  /* argument as --help names it, or NULL: none */
	const char *help; /* lines separated by '\n' */
};

#define OPT_GROUP(text)                                                        \
	{                                                                      \
		0, NULL, NULL, (text)                                          \
	}
#define OPT_END                                                                \
	{                                                                      \
		0, NULL, NULL, NULL                                            \
	}

/*
 * Parses the next option of ARGV against the table OPTS, as getopt_long
 * does (permuting ARGV, optind and optarg as getopt leaves them; getopt
 * itself prints nothing).  Returns the option's id, 0 when no option is
 * left (optind is then the first operand), or -1 with ERR set:
 * VMTP_EXIT_USAGE naming an unknown or ambiguous option, or an option
 * lacking or refusing a value; VMTP_EXIT_FAIL for a table of more than
 * OPT_MAX options.
 */
int opt_next(
    int argc, char **argv, const struct opt *opts, struct vmtp_err *err);

/*
 * Prints --help to FP: SYNOPSIS as it is, a blank line, then one line per
 * entry of OPTS ("  -f, --format html|text   help"), an option's help
 * lines aligned in one column.  Write errors are left in FP for the
 * caller's fflush().
 */
void opt_print_help(FILE *fp, const char *synopsis, const struct opt *opts);

#endif
