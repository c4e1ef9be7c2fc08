/*
 * log.c - stderr messages with the program's prefix (see log.h; SPEC §6).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "libvmtp/log.h"

/* Set once by log_init(); the only globals of libvmtp (STYLE: Memory). */
static const char *log_name = "vmtp";
static int log_level_now = LOG_INFO;
static int log_tty;
static int log_colour;
static int log_progress_shown;

void
log_init(const char *prog, int level)
{
	const char *nc = getenv("NO_COLOR");

	log_name = prog;
	log_level_now = level;
	log_tty = isatty(STDERR_FILENO);
	log_colour = log_tty && (nc == NULL || nc[0] == '\0');
}

const char *
log_prog(void)
{
	return log_name;
}

static void
log_emit(const char *tag, const char *colour, const char *fmt, va_list ap)
{
	/* one line at a time when threads log (the lock is recursive) */
	flockfile(stderr);
	if (log_progress_shown)
		log_progress_end();
	fprintf(stderr, "%s: ", log_name);
	if (tag != NULL) {
		if (log_colour)
			fprintf(stderr, "%s%s\033[0m: ", colour, tag);
		else
			fprintf(stderr, "%s: ", tag);
	}
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(log_colour ? "error" : NULL, "\033[1;31m", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	if (log_level_now < LOG_INFO)
		return;
	va_start(ap, fmt);
	log_emit("warning", "\033[1;33m", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level_now < LOG_INFO)
		return;
	va_start(ap, fmt);
	log_emit(NULL, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level_now < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	log_emit("debug", "\033[2m", fmt, ap);
	va_end(ap);
}

void
log_progress(const char *fmt, ...)
{
	va_list ap;

	if (!log_tty || log_level_now < LOG_INFO)
		return;
	flockfile(stderr);
	fprintf(stderr, "\r\033[K%s: ", log_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	log_progress_shown = 1;
	funlockfile(stderr);
}

void
log_progress_end(void)
{
	flockfile(stderr);
	if (log_progress_shown) {
		fputs("\r\033[K", stderr);
		log_progress_shown = 0;
	}
	funlockfile(stderr);
}
