/*
 * res.h - the cloud resources of vmtp runs (SPEC §6 vmtp-cleanup,
 * vmtp-provision): finding what a run left in the cloud, and deleting it in
 * dependency order; vmtp-cleanup's work and vmtp-provision's rollback.
 *
 * A victim is a `resource` record (kind, id, name, run, parent): from the
 * journal, from standard input, or made from what the cloud lists with a
 * vmtp run tag in its tags, name or description.
 */
#ifndef VMTP_RES_H
#define VMTP_RES_H

#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/os.h"

/* Which run tags a scan keeps: one tag, or any vmtp run tag. */
struct res_filter {
	const char *tag; /* NULL: every run tag */
};

/*
 * Lists every collection vmtp creates resources in (floating IPs,
 * servers, routers, ports, subnets, networks, security groups, key pairs,
 * flavors, images) and appends to VICTIMS (borrowed, changed) a resource
 * record for each item that carries a run tag F accepts in its tags, its
 * description or as its name prefix ("<tag>-...").  Items are deduplicated
 * against VICTIMS.  Returns 0, or -1 with ERR set (an API failure, except
 * 403 on admin-only listings, which are skipped with a debug line).
 */
int res_scan(struct os_session *s, const struct res_filter *f, json_t *victims,
    struct vmtp_err *err);

/*
 * Appends REC (borrowed) to VICTIMS unless an entry of the same kind and
 * id is there.  Returns 0, or -1 when out of memory.
 */
int res_add(json_t *victims, const json_t *rec);

/*
 * Deletes VICTIMS in dependency order, waiting for servers to be gone, and
 * writes a `deleted` record to OUT for each (with "error" when it could
 * not be deleted; a 404 counts as deleted), then shows it to NOTE (may be
 * NULL; the record is borrowed for the call), which is how the program
 * tells its user (cli_note_deleted()).  Returns the number of victims
 * that could not be deleted, or -1 with ERR set when writing OUT fails.
 */
int res_delete_all(struct os_session *s, json_t *victims, FILE *out,
    void (*note)(const json_t *deleted), struct vmtp_err *err);

/*
 * Looks each victim up again.  Returns a new reference to the array of
 * those still there, or NULL with ERR set.
 */
json_t *res_still_there(
    struct os_session *s, const json_t *victims, struct vmtp_err *err);

/* Headers for Nova requests: the microversion vmtp speaks (2.79). */
extern const char *const res_nova_headers[];

#endif
