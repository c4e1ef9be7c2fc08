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

/*
 * What a cleanup learns of the cloud's services on the way, shared by its
 * calls (zero it before the first): the services the catalog has no
 * endpoint for (nothing of a run can be there: not a failure) and those
 * that failed beyond the retries (a 5xx, no answer: something of a run may
 * remain there), which are asked nothing more.
 */
struct res_health {
	unsigned missing; /* bit per service: compute, network, image */
	unsigned down;    /* the same */
	unsigned noted;   /* missing services already told about */
	unsigned unseen;  /* bit per collection that could not be listed */
	int skipped;      /* victims in a missing service, left alone */
	char why[3][560]; /* per service: why it is missing or down */
};

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
 * against VICTIMS.  A collection that cannot be listed is named in an
 * error message and marked in H->unseen; a service absent from the
 * catalog is named once (what cannot be there) and skipped; a service that
 * answered 5xx or nothing is marked down in H and asked nothing more; 403
 * on admin-only listings is skipped with a debug line.  Returns 0, or -1
 * with ERR set when out of memory.
 */
int res_scan(struct os_session *s, const struct res_filter *f,
    struct res_health *h, json_t *victims, struct vmtp_err *err);

/*
 * Appends REC (borrowed) to VICTIMS unless an entry of the same kind and
 * id is there.  Returns 0, or -1 when out of memory.
 */
int res_add(json_t *victims, const json_t *rec);

/* Whether VICTIMS holds an entry of REC's kind and id. */
int res_has(const json_t *victims, const json_t *rec);

/* The key res_delete_all() sets true in each victim it deleted. */
#define RES_GONE "gone"

/*
 * Deletes VICTIMS in dependency order, what does not depend on each other
 * side by side (floating IPs with servers, each kind's victims together;
 * on clones of S, at most 8 requests at once), waiting for servers to be
 * gone (one list of the project's servers per poll), and writes a
 * `deleted` record to OUT for each (with "error" when it could
 * not be deleted; a 404 counts as deleted), then shows it to NOTE (may be
 * NULL; the record is borrowed for the call), which is how the program
 * tells its user (cli_note_deleted()).  A victim of a service H has down
 * is not asked for ("error" says why); one of a service the catalog lacks
 * is named in a warning, counted in H->skipped and has no record.  H may
 * be NULL (a fresh one is used).  Each victim deleted gets RES_GONE true.
 * Returns the number of victims that could not be deleted, or -1 with ERR
 * set when writing OUT fails.
 */
int res_delete_all(struct os_session *s, struct res_health *h, json_t *victims,
    FILE *out, void (*note)(const json_t *deleted), struct vmtp_err *err);

/*
 * Looks each victim up again (servers in one list of the project's), except
 * those res_delete_all() deleted (RES_GONE: a DELETE answered 2xx or 404,
 * or the server left the list) and those of services H has missing (not
 * there) or down (counted as there).
 * Returns a new reference to the array of those still there, or NULL with ERR
 * set when out of memory.
 */
json_t *res_still_there(struct os_session *s, struct res_health *h,
    const json_t *victims, struct vmtp_err *err);

/* How many collections H marks as not listed. */
int res_unseen(const struct res_health *h);

/*
 * Why the service of resource kind KIND is down in H ("compute: 503:
 * ..."), or NULL when it is not (borrowed from H).
 */
const char *res_down_why(const struct res_health *h, const char *kind);

/* Headers for Nova requests: the microversion vmtp speaks (2.79). */
extern const char *const res_nova_headers[];

#endif
