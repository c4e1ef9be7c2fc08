/*
 * cli.h - checked command-line values shared by every program (SPEC §6),
 * and what every program says to its user about its configuration (SPEC
 * §7) and the resources it deleted: the library itself never logs but
 * debug traces, so these are the programs' words, kept in one place.
 *
 * Numbers are parsed whole and range-checked ("-t 1O" is an error, not 1).
 * Errors are VMTP_EXIT_USAGE and name the option and the bad value.
 */
#ifndef VMTP_CLI_H
#define VMTP_CLI_H

#include <jansson.h>

#include "libvmtp/err.h"

#define VMTP_VERSION "0.1.0"

/*
 * Parses S as a decimal integer in [MIN, MAX] into *OUT for option OPT.
 * Returns 0, or -1 with ERR set; *OUT is unchanged on error.
 */
int cli_parse_long(const char *opt, const char *s, long long min, long long max,
    long long *out, struct vmtp_err *err);

/*
 * Parses S as a finite decimal number in [MIN, MAX] into *OUT for OPT.
 * Returns 0, or -1 with ERR set; *OUT is unchanged on error.
 */
int cli_parse_double(const char *opt, const char *s, double min, double max,
    double *out, struct vmtp_err *err);

/*
 * Matches S against the NULL-terminated WORDS for option OPT and returns
 * its index, or -1 with ERR set naming the accepted words.
 */
int cli_parse_word(const char *opt, const char *s, const char *const *words,
    struct vmtp_err *err);

/*
 * Parses a duration for option OPT: a whole number with an optional unit
 * s, m, h or d ("90", "30m", "2h", "7d") into seconds in *OUT.  Returns 0,
 * or -1 with ERR set; *OUT is unchanged on error.
 */
int cli_parse_duration(
    const char *opt, const char *s, long long *out, struct vmtp_err *err);

/*
 * Checks, before any network access, that the file PATH given with option
 * OPT can be read: it opens and is not a folder.  A file that does not
 * exist passes when MAY_BE_MISSING (a known_hosts file yet to be made).
 * Returns 0, or -1 with ERR set: VMTP_EXIT_FAIL, "OPT: cannot open PATH:
 * WHY" or "OPT: cannot read PATH: Is a directory".
 */
int cli_check_file(const char *opt, const char *path, int may_be_missing,
    struct vmtp_err *err);

/*
 * Flushes stdout.  A write to it that failed, now or earlier (a full
 * buffer written halfway), sets ERR (VMTP_EXIT_FAIL, "cannot write output:
 * WHY") and returns -1; else returns 0.  Each program's main calls it on
 * its way out, so that a full disk is a failure too.
 */
int cli_flush_stdout(struct vmtp_err *err);

/*
 * Catches INT and TERM with HANDLER (without SA_RESTART, so that a wait
 * sees the signal), each unless it was ignored when the program started:
 * a shell starts its background commands with INT ignored, so that a
 * Ctrl-C stops only the job in the foreground, and a shell cannot trap a
 * signal ignored on entry either (bin/vmtp's stages then stop only when
 * it passes them TERM).
 */
void cli_catch_stop_signals(void (*handler)(int));

/* Prints "PROG VERSION" to stdout, as --version does everywhere. */
void cli_print_version(const char *prog);

/*
 * Warns once about each configuration key of STAGE (a CFG_STAGE_*) that
 * CFG sets in vain (cfg_list_ignored): "config key KEY ignored: WHY".
 * Each program passes its own stage, so that a pipeline warns once per
 * key.  Returns 0, or -1 with ERR set (out of memory).
 */
int cli_warn_ignored(const json_t *cfg, unsigned stage, struct vmtp_err *err);

/*
 * Tells the user of a `deleted` record DELETED (res_delete_all()'s note):
 * "deleted KIND NAME (ID)" as information, or "cannot delete KIND NAME
 * (ID): ERROR" as a warning.
 */
void cli_note_deleted(const json_t *deleted);

#endif
