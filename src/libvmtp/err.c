/*
 * err.c - the caller-owned error report (see err.h; SPEC §6 exit statuses).
 */
#include <stdarg.h>
#include <stdio.h>

#include "libvmtp/err.h"

int
err_set(struct vmtp_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->exit != VMTP_EXIT_OK)
		return -1;
	err->exit = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
err_clear(struct vmtp_err *err)
{
	err->exit = VMTP_EXIT_OK;
	err->msg[0] = '\0';
}
