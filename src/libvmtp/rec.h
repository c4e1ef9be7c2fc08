/*
 * rec.h - the record stream: newline-delimited JSON objects (SPEC §4).
 *
 * A reader yields one object per line with its file name and line number;
 * a line that is not a JSON object (or has no string "type") is bad input
 * (VMTP_EXIT_DATA, "FILE:LINE: reason").  Blank lines carry no record and
 * are ignored.  Lines may be of any length; invalid UTF-8 is bad input.
 * The reader keeps the line as read so records a program does not consume
 * can be passed on byte for byte (rec_pass()).
 */
#ifndef VMTP_REC_H
#define VMTP_REC_H

#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/flow.h"

struct rec_reader;
struct rec_spill;

/*
 * Opens PATH for reading records ("-" is stdin).  Returns NULL with ERR
 * set (VMTP_EXIT_FAIL) when the file cannot be opened.
 */
struct rec_reader *rec_reader_open(const char *path, struct vmtp_err *err);

/*
 * Reads records from FP, which stays the caller's (not closed by
 * rec_reader_free()).  NAME is copied and used in messages.
 * Returns NULL with ERR set when out of memory.
 */
struct rec_reader *rec_reader_new(
    FILE *fp, const char *name, struct vmtp_err *err);

/* Closes what rec_reader_open() opened and frees RD; NULL is allowed. */
void rec_reader_free(struct rec_reader *rd);

/*
 * Reads the next record into *REC (a new reference).  Returns 1 with a
 * record, 0 at end of input, -1 with ERR set (VMTP_EXIT_DATA for bad input,
 * VMTP_EXIT_FAIL for a read error); *REC is NULL unless 1 is returned.
 */
int rec_next(struct rec_reader *rd, json_t **rec, struct vmtp_err *err);

/* The name and line number of the last line read, for messages. */
const char *rec_reader_name(const struct rec_reader *rd);
long rec_reader_line(const struct rec_reader *rd);

/*
 * Writes the last line read, unchanged, to FP and flushes it: how a
 * program passes on a record it does not consume.  Returns 0, or -1 with
 * ERR set when writing fails.
 */
int rec_pass(const struct rec_reader *rd, FILE *fp, struct vmtp_err *err);

/*
 * Returns a new record {"type": TYPE, "run": RUN} (a new reference) so
 * that "type" comes first, or NULL when out of memory.  RUN may be NULL.
 */
json_t *rec_new(const char *type, const char *run);

/* How a program logs in to a host: the "ssh" object of a host record. */
struct rec_ssh {
	const char *host; /* address to connect to */
	int port;
	const char *user;
	const char *key;     /* private key file, or NULL */
	const char *hostkey; /* the host key's fingerprint */
};

/*
 * Returns a new host record of RUN (SPEC §4): NAME, ROLE ("server",
 * "client", "external", "native"), SSH and the address IP the host
 * measures from, in that order, or NULL when out of memory.  Cloud
 * placement fields are the caller's to add.
 */
json_t *rec_host_new(const char *run, const char *name, const char *role,
    const struct rec_ssh *ssh, const char *ip);

/*
 * Returns a new flow record of RUN (SPEC §4) number ID: a flow of KIND
 * between hosts CLIENT and SERVER at NODE (flow_desc_new() writes its
 * "desc"), to TARGET, measured both ways when BIDIRECTIONAL, or NULL when
 * out of memory or KIND is FLOW_KIND_OTHER.
 */
json_t *rec_flow_new(const char *run, int id, enum flow_kind kind,
    enum flow_node node, const char *client, const char *server,
    const char *target, int bidirectional);

/*
 * rec_flow_new() of one way of a mesh pair (one direction, never
 * bidirectional) with the pair's ROUND (SPEC §4 "round"), or NULL.
 */
json_t *rec_mesh_flow_new(const char *run, int id, enum flow_kind kind,
    enum flow_node node, const char *client, const char *server,
    const char *target, int round);

/*
 * Writes REC as one compact line to FP and flushes it.  Returns 0, or -1
 * with ERR set when writing fails.  REC is borrowed.
 */
int rec_write(FILE *fp, const json_t *rec, struct vmtp_err *err);

/* The record's "type" (borrowed from REC), or NULL when it has none. */
const char *rec_type(const json_t *rec);

/*
 * Records kept for later (vmtp-collect's run, until its documents are
 * written; vmtp-chart's flows) are held packed: REC (stolen) becomes its
 * compact text.  With SPILL (rec_spill_new()) the text is written to the
 * spill file and the packed record is a JSON integer naming where it is
 * (a few bytes of memory whatever its size); without it, or when the
 * write fails (a full disk), a JSON string holding the text (about a
 * sixth of the tree's memory).  rec_pack() returns the new reference, or
 * NULL when out of memory.  rec_at() returns element I of RECORDS, an
 * array of records packed or not, as a record (a new reference; null when
 * I is past the end or the element is null), or NULL when out of memory
 * or its text cannot be read back.  A record packed into a spill file can
 * be read while that file is open.
 */
json_t *rec_pack(struct rec_spill *spill, json_t *rec);
json_t *rec_at(const json_t *records, size_t i);

/*
 * A string of the records (a run tag, a protocol, a tool) held once for
 * all who keep it: S's copy in SET, a JSON object of such strings, added
 * when new.  Returns it, borrowed from SET (valid while SET lives), or
 * NULL when out of memory.
 */
const char *rec_str_hold(json_t *set, const char *s);

/*
 * A spill file: an unlinked temporary file (tmp_open()).  rec_spill_new()
 * returns it, or NULL with ERR set when it cannot be made.
 * rec_spill_free() closes it (NULL-safe).
 */
struct rec_spill *rec_spill_new(struct vmtp_err *err);
void rec_spill_free(struct rec_spill *spill);

#endif
