/*
 * tmp.h - unlinked temporary files: what is too large to keep in memory
 * until the end (a mesh's records, a report being rendered) and must not
 * outlive the program.
 */
#ifndef VMTP_TMP_H
#define VMTP_TMP_H

#include "libvmtp/err.h"

/*
 * Creates a file in $TMPDIR (else /tmp), open for reading and writing, not
 * inherited by child processes, and removes its name at once: nothing
 * names it, and the system deletes it when it is closed, also when the
 * program is killed.  Returns its descriptor, or -1 with ERR set.
 */
int tmp_open(struct vmtp_err *err);

#endif
