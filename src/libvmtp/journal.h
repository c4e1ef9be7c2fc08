/*
 * journal.h - the per-run journal of created cloud resources (SPEC §6):
 * $XDG_STATE_HOME/vmtp/<tag>.ndjson (default ~/.local/state/vmtp), one
 * `resource` record a line, flushed before provisioning goes on, so that
 * vmtp-cleanup finds everything even after a crash.
 */
#ifndef VMTP_JOURNAL_H
#define VMTP_JOURNAL_H

#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"

/* Whether TAG is a run tag: "vmtp-" and 8 lower-case hex digits. */
int journal_tag_ok(const char *tag);

/*
 * The journal directory, a new string, or NULL with ERR set when neither
 * XDG_STATE_HOME nor HOME is set (or out of memory).
 */
char *journal_dir(struct vmtp_err *err);

/*
 * Opens the journal of TAG for appending, creating the directory (0700)
 * and file (0600) when needed.  Returns NULL with ERR set naming the path.
 */
FILE *journal_open(const char *tag, struct vmtp_err *err);

/*
 * Reads the journal of TAG: a new reference to an array of its records
 * (empty when there is no journal).  NULL with ERR set when it cannot be
 * read or holds a bad line ("PATH:LINE: ...", VMTP_EXIT_DATA).
 */
json_t *journal_read(const char *tag, struct vmtp_err *err);

/*
 * The run tags that have a journal, sorted, with each journal's
 * modification time: a new reference to [{"tag": T, "mtime": SECONDS}].
 * NULL with ERR set when the directory exists but cannot be read.
 */
json_t *journal_list(struct vmtp_err *err);

/*
 * Removes the journal of TAG and the run's other files beside it (the key
 * pair vmtp-provision made, its known_hosts); missing ones are fine.
 * Returns 0, or -1 with ERR set.
 */
int journal_remove(const char *tag, struct vmtp_err *err);

#endif
