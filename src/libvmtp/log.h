/*
 * log.h - human messages on stderr, prefixed with the program name (SPEC §6).
 *
 * Records go to stdout; everything for people goes here.  -q drops info and
 * warnings but never errors; -v adds debug.  Colour and the progress line
 * only appear when stderr is a terminal (colour also needs NO_COLOR unset).
 * Settings are process-wide and set once by log_init() in main().  Threads
 * may log: each message is written whole, never interleaved with another.
 */
#ifndef VMTP_LOG_H
#define VMTP_LOG_H

enum log_level {
	LOG_QUIET = -1, /* -q: errors only */
	LOG_INFO = 0,   /* default */
	LOG_DEBUG = 1   /* -v */
};

/* PROG is kept by pointer: pass a string literal or argv[0]'s basename. */
void log_init(const char *prog, int level);

/* The program name given to log_init(), for "PROG: FILE:LINE: ..." texts. */
const char *log_prog(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Rewrites the single progress line (carriage return, no newline) when
 * stderr is a terminal and not -q; does nothing otherwise.  log_progress_end()
 * clears it before normal output resumes.
 */
void log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_progress_end(void);

#endif
