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
	char *msg = NULL;
	char *line = NULL;
	int n = vasprintf(&msg, fmt, ap);

	if (n < 0)
		msg = NULL; /* undefined after a failure */

	/* the line in one write: stderr is unbuffered, and another program
	 * may write to the same terminal or log (bin/vmtp's stages) */
	if (n >= 0)
		n = tag == NULL ? asprintf(&line, "%s: %s\n", log_name, msg)
		    : log_colour
		        ? asprintf(&line, "%s: %s%s\033[0m: %s\n", log_name,
		              colour, tag, msg)
		        : asprintf(&line, "%s: %s: %s\n", log_name, tag, msg);
	/* one line at a time when threads log (the lock is recursive) */
	flockfile(stderr);
	if (log_progress_shown)
		log_progress_end();
	if (n >= 0)
		fwrite(line, 1, (size_t)n, stderr);
	else
		fprintf(
		    stderr, "%s: (out of memory for a message)\n", log_name);
	funlockfile(stderr);
	if (n >= 0)
		free(line); /* else undefined, as MSG's above */
	free(msg);
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
