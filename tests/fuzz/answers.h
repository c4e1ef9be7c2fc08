/*
 * answers.h - canned answers for the harnesses that stand in for a cloud
 * (fuzz_keystone, fuzz_cloud_answers).  The fuzz input is a list of
 * answers separated by lines "%%"; each answer is a first line "STATUS"
 * or "STATUS token" (Keystone's X-Subject-Token header present), then the
 * body.  A status that is not a number is 200.  When the answers run out,
 * the server is gone (no response).
 */
#ifndef VMTP_FUZZ_ANSWERS_H
#define VMTP_FUZZ_ANSWERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz_answer {
	long status;
	const char *body; /* not NUL-terminated */
	size_t len;
	int token; /* the answer has an X-Subject-Token */
};

static const char *fz_at; /* the answers not given yet */
static size_t fz_left;    /* their length */
static int fz_exhausted;  /* the last one has been given */

/* Answers DATA (SIZE bytes, borrowed until the next call). */
static void
fz_answers_set(const uint8_t *data, size_t size)
{
	fz_at = (const char *)data;
	fz_left = size;
	fz_exhausted = 0;
}

/* The next answer into A.  Returns 0, or -1 when there is none left. */
static int
fz_answer_next(struct fz_answer *a)
{
	const char *end = fz_at + fz_left;
	const char *stop;
	const char *next;
	const char *nl;
	char line[32];
	size_t n;

	if (fz_exhausted)
		return -1;
	stop = memmem(fz_at, fz_left, "\n%%\n", 4);
	if (stop == NULL) {
		stop = next = end;
		fz_exhausted = 1;
	} else {
		next = stop + 4;
	}
	nl = memchr(fz_at, '\n', (size_t)(stop - fz_at));
	n = (size_t)((nl != NULL ? nl : stop) - fz_at);
	snprintf(line, sizeof(line), "%.*s", (int)(n < 31 ? n : 31), fz_at);
	a->status = strtol(line, NULL, 10);
	if (a->status < 100 || a->status > 599)
		a->status = 200;
	a->token = strstr(line, " token") != NULL;
	a->body = nl != NULL ? nl + 1 : stop;
	a->len = (size_t)(stop - a->body);
	fz_left = (size_t)(end - next);
	fz_at = next;
	return 0;
}

#endif
