/*
 * doc.h - the result document of the original tool (SPEC §5): built from
 * records, read back from archived files, in one in-memory form.
 *
 * The in-memory form is the document itself (a jansson object),
 * normalized as it is read: numbers are numbers, every result is an
 * object (an error string becomes {"error": "..."}), and a flow's ICMP
 * results are one
 * {"protocol": "ICMP", "tool": ..., "results": [{"packet_size", ...}]}
 * entry, whatever form the file used.  Every program that writes or reads
 * documents goes through here, so there is one assembly and one reading.
 */
#ifndef VMTP_DOC_H
#define VMTP_DOC_H

#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/rec.h"

/*
 * Checks that REC (read at NAME:LINE) has the fields the assembly needs:
 * a flow its "id" and "desc", a sample its "flow" and "protocol", a host
 * its "name"; that a sample's numbers are numbers, its "intervals" a
 * list of numbers and its "error" a string; and, against the records
 * checked before it in SEEN (an object the caller makes empty and owns,
 * updated here), that a flow's id is not given twice in its run.  Returns
 * 0, or -1 with ERR set (VMTP_EXIT_DATA, "NAME:LINE: ..."; VMTP_EXIT_FAIL
 * when out of memory).  Other record types always pass.
 */
int doc_check_record(const json_t *rec, json_t *seen, const char *name,
    long line, struct vmtp_err *err);

/*
 * Assembles RECORDS (an array of checked records, packed or not (see
 * rec_pack()), borrowed) into result documents, one per run tag in order
 * of first appearance.  With CONSUME,
 * each sample record is released from RECORDS (replaced by null) once
 * copied into its document, so that a large run is not held twice:
 * RECORDS holds no sample after.  A flow's
 * "ip_to" is its target and its "ip_from" the client host's address of
 * the target's family ("ipv6" for an IPv6 target, else "ip"); a flow with
 * Multicast samples has their "multicast_address" at the flow level too,
 * as the original wrote it.  The run's
 * sla records (vmtp-collect's verdicts) become a top-level "sla" list of
 * {"expr", "flow", "label", "value", "pass", ...}.  Records of types the
 * document has no place for (cpu, resource, ...) are ignored.
 * Returns a new reference to an array of normalized documents, or NULL
 * with ERR set when out of memory.
 */
json_t *doc_assemble(json_t *records, int consume, struct vmtp_err *err);

/*
 * doc_assemble() in steps, for a run too large to hold as a document
 * besides its records.  doc_set_open() finds the documents of RECORDS
 * (kept by the caller until doc_set_free()) in one pass: NULL with ERR
 * set when out of memory.  doc_set_count() tells how many there are.
 * doc_set_assemble() returns them as doc_assemble() does.
 * doc_set_write() writes them to FP as json_dumpf() with JSON_INDENT(4)
 * and JSON_REAL_PRECISION(15) would write doc_assemble()'s documents (one
 * as an object, several as a list; a newline after), building them one
 * flow at a time: TIDY, unless NULL, is given each document but its
 * flows' entries before it is written and returns 0, or -1 to stop.  It
 * returns 0, or -1 with errno telling why.  With CONSUME, both release
 * the sample records from RECORDS as doc_assemble() does.
 */
struct doc_set;
struct doc_set *doc_set_open(json_t *records, struct vmtp_err *err);
size_t doc_set_count(const struct doc_set *set);
json_t *doc_set_assemble(
    struct doc_set *set, int consume, struct vmtp_err *err);
int doc_set_write(
    struct doc_set *set, FILE *fp, int (*tidy)(json_t *doc), int consume);
void doc_set_free(struct doc_set *set);

/*
 * Reads all of FP (named NAME in messages) and returns a new reference to
 * an array of normalized documents: FP may hold one result document, a
 * JSON array of them, or a record stream (empty input gives an empty
 * array).  Returns NULL with ERR set: VMTP_EXIT_DATA for input that is
 * none of these (with FILE:LINE for a bad record line), VMTP_EXIT_FAIL for
 * a read error.
 */
json_t *doc_load(FILE *fp, const char *name, struct vmtp_err *err);

/*
 * doc_load(), but a regular file holding one document is read one flow at
 * a time, and when it is large (over 1 MiB) each flow is kept packed
 * (rec_pack(), into SPILL; in memory when it is NULL): for a reader that
 * takes one flow at a time (doc_flow_at()), so that a large document is
 * never held whole, as text or as a tree.
 */
json_t *doc_load_lean(
    FILE *fp, const char *name, struct rec_spill *spill, struct vmtp_err *err);

/*
 * The number of flows of DOC, and its flow I (I below the count) as a new
 * reference, packed or not (doc_load_lean()); NULL when out of memory.
 */
size_t doc_flow_count(const json_t *doc);
json_t *doc_flow_at(const json_t *doc, size_t i);

#endif
