/*
 * doc.c - assemble records into the original tool's result document and
 * read archived documents back into the same form (see doc.h; SPEC §5).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/doc.h"
#include "libvmtp/err.h"
#include "libvmtp/rec.h"

/* Stream-only sample fields that a document's results leave out (SPEC §5). */
static const char *const stream_only[] = {
    "type", "run", "flow", "t_start", "t_end", "loop", NULL};

/* Run record fields that are not copied to the document's top level. */
static const char *const run_skip[] = {"type", "run", "v", "date", NULL};

/* Top-level fields in the order the original tool writes them. */
static const char *const top_order[] = {"args", "date", "version", "run_id",
    "auth_url", "encapsulation", "l2agent_type", "l2agent_version", "distro",
    "cpu_info", "nic_name", "openstack_version", "test_description", NULL};

/* Fields that old documents may hold as strings ("0.321") but are numbers. */
static const char *const numeric[] = {"throughput_kbps", "loss_rate",
    "jitter_ms", "jitter", "rtt_ms", "retrans", "pkt_size", "packet_size",
    "tx_packets", "rx_packets", "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms",
    "rtt_stddev", "rtt_stddev_ms", "rtt_p50_ms", "rtt_p99_ms", "probes",
    "bandwidth_limit_kbps", NULL};

static int
in_list(const char *key, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(key, *list) == 0)
			return 1;
	return 0;
}

/*
 * Records in SEEN the key "RUN KIND NAME" of REC; returns 1 when it was
 * there already, 0 when not, -1 with ERR set when out of memory.
 */
static int
seen_add(json_t *seen, const json_t *rec, const char *kind, const char *name,
    struct vmtp_err *err)
{
	const char *run = json_string_value(json_object_get(rec, "run"));
	char *key = NULL;
	int rc;

	if (asprintf(&key, "%s %s %s", run != NULL ? run : "", kind, name) < 0)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	rc = json_object_get(seen, key) != NULL;
	if (!rc && json_object_set_new(seen, key, json_true()) != 0)
		rc = err_set(err, VMTP_EXIT_FAIL, "out of memory");
	free(key);
	return rc;
}

/*
 * The cross-record check of doc_check_record() for a checked REC: a flow
 * id given twice in a run.  (A flow may name hosts the stream does not
 * hold: the document then lacks its "ip_from", as archived streams cut to
 * their flows and samples do.)
 */
static int
check_refs(const json_t *rec, const char *type, json_t *seen, const char *name,
    long line, struct vmtp_err *err)
{
	char id[32];
	int rc;

	if (strcmp(type, "flow") != 0)
		return 0;
	snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(rec, "id")));
	rc = seen_add(seen, rec, "flow", id, err);
	if (rc > 0)
		return err_set(err, VMTP_EXIT_DATA,
		    "%s:%ld: flow %s given twice", name, line, id);
	return rc;
}

int
doc_check_record(const json_t *rec, json_t *seen, const char *name, long line,
    struct vmtp_err *err)
{
	const char *type = rec_type(rec);
	const char *missing = NULL;

	if (type == NULL)
		missing = "type";
	else if (strcmp(type, "flow") == 0) {
		if (!json_is_integer(json_object_get(rec, "id")))
			missing = "id";
		else if (!json_is_string(json_object_get(rec, "desc")))
			missing = "desc";
	} else if (strcmp(type, "sample") == 0) {
		if (!json_is_integer(json_object_get(rec, "flow")))
			missing = "flow";
		else if (!json_is_string(json_object_get(rec, "protocol")))
			missing = "protocol";
	} else if (strcmp(type, "host") == 0 ||
	           strcmp(type, "host_info") == 0) {
		const char *key = strcmp(type, "host") == 0 ? "name" : "host";

		if (!json_is_string(json_object_get(rec, key)))
			missing = key;
	}
	if (missing != NULL)
		return err_set(err, VMTP_EXIT_DATA,
		    "%s:%ld: %s record has no \"%s\"", name, line,
		    type != NULL ? type : "a", missing);
	return check_refs(rec, type, seen, name, line, err);
}

/*
 * Turns a numeric string into a number.  Returns a new reference to the
 * converted value, or to V itself when it is not a numeric string.
 */
static json_t *
number_from(json_t *v)
{
	const char *s = json_string_value(v);
	char *end = NULL;
	long long i;
	double d;

	if (s == NULL || s[0] == '\0')
		return json_incref(v);
	errno = 0;
	i = strtoll(s, &end, 10);
	if (*end == '\0' && errno == 0)
		return json_integer(i);
	d = strtod(s, &end);
	if (*end == '\0' && errno == 0)
		return json_real(d);
	return json_incref(v);
}

/*
 * Copies SRC's fields into DST, leaving out SKIP and renaming the ICMP
 * per-size fields when ICMP is set; numeric strings become numbers.
 * Returns 0, or -1 when out of memory.
 */
static int
copy_fields(json_t *dst, const json_t *src, const char *const *skip, int icmp)
{
	const char *key;
	const char *to;
	json_t *v;

	/* json_object_foreach steps on with KEY, so renames go to TO */
	json_object_foreach ((json_t *)src, key, v) {
		if (skip != NULL && in_list(key, skip))
			continue;
		to = key;
		if (icmp && strcmp(key, "pkt_size") == 0)
			to = "packet_size";
		else if (icmp && strcmp(key, "rtt_stddev_ms") == 0)
			to = "rtt_stddev";
		if (json_object_set_new(dst, to,
		        in_list(to, numeric) ? number_from(v)
		                             : json_incref(v)) != 0)
			return -1;
	}
	return 0;
}

/*
 * Adds the ICMP result R (one packet size, flat form) to the flow's single
 * ICMP entry in RESULTS, creating the entry where the first one stands.
 * Returns 0, or -1 when out of memory.
 */
static int
add_icmp(json_t *results, const json_t *r)
{
	static const char *const skip[] = {"type", "run", "flow", "t_start",
	    "t_end", "loop", "protocol", "tool", NULL};
	json_t *group = NULL;
	json_t *one = NULL;
	json_t *v;
	size_t i;

	json_array_foreach (results, i, v) {
		if (json_is_array(json_object_get(v, "results")) &&
		    json_is_string(json_object_get(v, "protocol")) &&
		    strcmp(json_string_value(json_object_get(v, "protocol")),
		        "ICMP") == 0) {
			group = v;
			break;
		}
	}
	if (group == NULL) {
		v = json_object_get(r, "tool");
		v = json_is_string(v) ? json_incref(v) : json_string("ping");
		/* "o" steals v, also when json_pack fails */
		group = json_pack("{s:s, s:o, s:[]}", "protocol", "ICMP",
		    "tool", v, "results");
		if (group == NULL || json_array_append_new(results, group) != 0)
			return -1;
	}
	one = json_object();
	if (one == NULL || copy_fields(one, r, skip, 1) != 0 ||
	    json_array_append_new(json_object_get(group, "results"), one) !=
	        0) {
		json_decref(one);
		return -1;
	}
	return 0;
}

static int
is_icmp(const json_t *r)
{
	const char *p = json_string_value(json_object_get(r, "protocol"));

	return p != NULL && strcmp(p, "ICMP") == 0;
}

/*
 * Appends result R (borrowed) to RESULTS in normalized form: an error
 * string becomes an object, ICMP is grouped.  Returns 0, -1 when out of
 * memory.
 */
static int
add_result(json_t *results, const json_t *r, const char *const *skip)
{
	json_t *copy;
	json_t *inner;
	json_t *v;
	size_t i;

	if (json_is_string(r))
		return json_array_append_new(
		    results, json_pack("{s:O}", "error", r));
	if (is_icmp(r) && !json_is_array(json_object_get(r, "results")))
		return add_icmp(results, r);
	copy = json_object();
	if (copy == NULL || copy_fields(copy, r, skip, 0) != 0)
		goto fail;
	inner = json_object_get(copy, "results");
	if (is_icmp(copy) && json_is_array(inner)) {
		/* grouped form: normalize each per-size entry */
		json_t *list = json_array();

		if (list == NULL ||
		    json_object_set_new(copy, "results", list) != 0)
			goto fail;
		json_array_foreach (inner, i, v) {
			json_t *one = json_object();

			if (one == NULL || !json_is_object(v) ||
			    copy_fields(one, v, NULL, 1) != 0 ||
			    json_array_append_new(list, one) != 0) {
				json_decref(one);
				goto fail;
			}
		}
	}
	return json_array_append_new(results, copy);
fail:
	json_decref(copy);
	return -1;
}

/* Returns the record in RECORDS of TYPE whose KEY is VALUE (borrowed). */
static json_t *
find_rec(const json_t *records, const char *run, const char *type,
    const char *key, const char *value)
{
	json_t *r;
	size_t i;

	if (value == NULL)
		return NULL;
	json_array_foreach ((json_t *)records, i, r) {
		const char *t = rec_type(r);
		const char *rr = json_string_value(json_object_get(r, "run"));
		const char *v = json_string_value(json_object_get(r, key));

		if (t != NULL && strcmp(t, type) == 0 && v != NULL &&
		    strcmp(v, value) == 0 &&
		    (run == NULL || rr == NULL || strcmp(run, rr) == 0))
			return r;
	}
	return NULL;
}

/*
 * What assembling one run looks up per flow, found in one pass over the
 * records (a mesh of 64 hosts has 4032 flows: a scan of the records per
 * flow took seconds).  Each maps a key to the first record, in record
 * order, that find_rec() would find; values are borrowed from the records.
 */
struct doc_index {
	json_t *flow_recs; /* flow id (decimal) -> its flow record */
	json_t *hosts;     /* name -> host record */
	json_t *infos;     /* host -> host_info record */
	json_t *mcast;     /* flow id -> its first Multicast sample with an
	                      address */
	json_t *flows;     /* flow id -> the document's flow */
};

static void
index_clear(struct doc_index *x)
{
	json_decref(x->flow_recs);
	json_decref(x->hosts);
	json_decref(x->infos);
	json_decref(x->mcast);
	json_decref(x->flows);
}

/* Maps KEY to R in MAP unless it is there.  Returns 0, or -1. */
static int
index_add(json_t *map, const char *key, json_t *r)
{
	if (key == NULL || json_object_get(map, key) != NULL)
		return 0;
	return json_object_set(map, key, r);
}

/* Fills X from the RECORDS of run RUN.  Returns 0, or -1 when out of
 * memory. */
static int
index_build(struct doc_index *x, const json_t *records, const char *run)
{
	json_t *r;
	size_t i;

	x->flow_recs = json_object();
	x->hosts = json_object();
	x->infos = json_object();
	x->mcast = json_object();
	x->flows = json_object();
	if (x->flow_recs == NULL || x->hosts == NULL || x->infos == NULL ||
	    x->mcast == NULL || x->flows == NULL)
		return -1;
	json_array_foreach ((json_t *)records, i, r) {
		const char *t = rec_type(r);
		const char *rr = json_string_value(json_object_get(r, "run"));
		const char *p =
		    json_string_value(json_object_get(r, "protocol"));
		char id[32];
		int rc = 0;

		if (t == NULL ||
		    (run != NULL && rr != NULL && strcmp(run, rr) != 0))
			continue;
		if (strcmp(t, "flow") == 0) {
			snprintf(id, sizeof(id), "%lld",
			    (long long)json_integer_value(
			        json_object_get(r, "id")));
			rc = index_add(x->flow_recs, id, r);
		} else if (strcmp(t, "host") == 0)
			rc = index_add(x->hosts,
			    json_string_value(json_object_get(r, "name")), r);
		else if (strcmp(t, "host_info") == 0)
			rc = index_add(x->infos,
			    json_string_value(json_object_get(r, "host")), r);
		else if (strcmp(t, "sample") == 0 && p != NULL &&
		         strcmp(p, "Multicast") == 0 &&
		         json_is_string(
		             json_object_get(r, "multicast_address"))) {
			snprintf(id, sizeof(id), "%lld",
			    (long long)json_integer_value(
			        json_object_get(r, "flow")));
			rc = index_add(x->mcast, id, r);
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* The record KEY maps to in MAP (borrowed), or NULL; KEY may be NULL. */
static json_t *
index_get(const json_t *map, const char *key)
{
	return key != NULL ? json_object_get(map, key) : NULL;
}

/* Sets KEY of DST to SRC's field SKEY (borrowed) when SRC has it. */
static int
set_from(json_t *dst, const char *key, const json_t *src, const char *skey)
{
	json_t *v = src != NULL ? json_object_get(src, skey) : NULL;

	if (v == NULL || json_is_null(v))
		return 0;
	return json_object_set(dst, key, v);
}

/*
 * "2026-11-25T17:19:35Z" (the run record) becomes "2026-11-25 17:19:35"
 * (the original's document form).  Returns a new reference.
 */
static json_t *
doc_date(const json_t *v)
{
	const char *s = json_string_value(v);
	char buf[32];

	if (s == NULL || strlen(s) < 19 || s[10] != 'T')
		return json_incref((json_t *)v);
	snprintf(buf, sizeof(buf), "%.10s %.8s", s, s + 11);
	return json_string(buf);
}

/*
 * Sets "ip_from" of FLOW to TARGET's family address of CLIENT (a host
 * record, or NULL): its "ipv6" for an IPv6 target (or its "ip" when that
 * is IPv6 itself, as a native host given by an IPv6 address), else its
 * "ip".  Sets nothing when the client has no address of that family.
 */
static int
set_ip_from(json_t *flow, const json_t *client, const char *target)
{
	const char *ip = json_string_value(json_object_get(client, "ip"));

	if (target == NULL || strchr(target, ':') == NULL)
		return set_from(flow, "ip_from", client, "ip");
	if (json_is_string(json_object_get(client, "ipv6")))
		return set_from(flow, "ip_from", client, "ipv6");
	if (ip != NULL && strchr(ip, ':') != NULL)
		return set_from(flow, "ip_from", client, "ip");
	return 0;
}

/*
 * Sets the flow-level "multicast_address" of FLOW, as the original writes
 * it, from the first Multicast sample of flow ID (a decimal) that has one.
 */
static int
set_multicast(json_t *flow, const struct doc_index *x, const char *id)
{
	return set_from(flow, "multicast_address", index_get(x->mcast, id),
	    "multicast_address");
}

/* Finds or creates the document flow for flow id ID, its records found
 * with X.  Borrowed, or NULL. */
static json_t *
doc_flow(json_t *flows, struct doc_index *x, json_int_t id)
{
	json_t *flow = NULL;
	json_t *frec;
	json_t *client;
	json_t *server;
	json_t *info;
	char key[32];
	char desc[32];

	snprintf(key, sizeof(key), "%lld", (long long)id);
	flow = json_object_get(x->flows, key);
	if (flow != NULL)
		return flow;
	frec = json_object_get(x->flow_recs, key);
	snprintf(desc, sizeof(desc), "flow %lld", (long long)id);
	flow = json_object();
	if (flow == NULL ||
	    json_object_set_new(flow, "desc",
	        frec != NULL ? json_incref(json_object_get(frec, "desc"))
	                     : json_string(desc)) != 0)
		goto fail;
	client = index_get(
	    x->hosts, json_string_value(json_object_get(frec, "client")));
	server = index_get(
	    x->hosts, json_string_value(json_object_get(frec, "server")));
	info = index_get(
	    x->infos, json_string_value(json_object_get(frec, "client")));
	if (info == NULL)
		info = index_get(x->infos,
		    json_string_value(json_object_get(frec, "server")));
	if (set_ip_from(flow, client,
	        json_string_value(json_object_get(frec, "target"))) != 0 ||
	    set_from(flow, "ip_to", frec, "target") != 0 ||
	    set_from(flow, "az_from", client, "az") != 0 ||
	    set_from(flow, "az_to", server, "az") != 0 ||
	    set_from(flow, "distro_id", info, "distro_id") != 0 ||
	    set_from(flow, "distro_version", info, "distro_version") != 0 ||
	    set_from(flow, "round", frec, "round") != 0 ||
	    set_multicast(flow, x, key) != 0 ||
	    json_object_set_new(flow, "results", json_array()) != 0 ||
	    json_object_set(x->flows, key, flow) != 0)
		goto fail;
	if (json_array_append_new(flows, flow) != 0)
		return NULL;
	return flow;
fail:
	json_decref(flow);
	return NULL;
}

/* Assembles the document of run tag RUN (NULL: records without a tag). */
static json_t *
assemble_one(json_t *records, const char *run, int consume)
{
	json_t *doc = json_object();
	json_t *flows = json_array();
	struct doc_index x = {0};
	json_t *out = NULL;
	json_t *runrec;
	json_t *r;
	size_t i;

	if (doc == NULL || flows == NULL || index_build(&x, records, run) != 0)
		goto out;
	runrec = find_rec(records, NULL, "run", "run", run);
	if (runrec != NULL) {
		json_t *date = json_object_get(runrec, "date");

		/* a run record without a date gives a document without one */
		if ((date != NULL && json_object_set_new(
		                         doc, "date", doc_date(date)) != 0) ||
		    copy_fields(doc, runrec, run_skip, 0) != 0)
			goto out;
	}
	if (run != NULL &&
	    json_object_set_new(doc, "run_id", json_string(run)) != 0)
		goto out;
	/* flows first in the order of their records, then their samples */
	json_array_foreach ((json_t *)records, i, r) {
		const char *t = rec_type(r);
		const char *rr = json_string_value(json_object_get(r, "run"));

		if (t == NULL || strcmp(t, "flow") != 0 ||
		    (rr != NULL) != (run != NULL) ||
		    (rr != NULL && strcmp(rr, run) != 0))
			continue;
		if (doc_flow(flows, &x,
		        json_integer_value(json_object_get(r, "id"))) == NULL)
			goto out;
	}
	json_array_foreach ((json_t *)records, i, r) {
		const char *t = rec_type(r);
		const char *rr = json_string_value(json_object_get(r, "run"));
		json_t *flow;

		if (t == NULL || strcmp(t, "sample") != 0 ||
		    (rr != NULL) != (run != NULL) ||
		    (rr != NULL && strcmp(rr, run) != 0))
			continue;
		flow = doc_flow(
		    flows, &x, json_integer_value(json_object_get(r, "flow")));
		if (flow == NULL || add_result(json_object_get(flow, "results"),
		                        r, stream_only) != 0)
			goto out;
		/* copied: what the result shares with it stays */
		if (consume && json_array_set_new(records, i, json_null()) != 0)
			goto out;
	}
	if (json_object_set(doc, "flows", flows) != 0)
		goto out;
	/* SLA verdicts (vmtp-collect --sla): a list after the flows */
	json_array_foreach ((json_t *)records, i, r) {
		const char *t = rec_type(r);
		const char *rr = json_string_value(json_object_get(r, "run"));
		json_t *list = json_object_get(doc, "sla");
		json_t *one;

		if (t == NULL || strcmp(t, "sla") != 0 ||
		    (rr != NULL) != (run != NULL) ||
		    (rr != NULL && strcmp(rr, run) != 0))
			continue;
		if (list == NULL) {
			list = json_array();
			if (json_object_set_new(doc, "sla", list) != 0)
				goto out;
		}
		one = json_object();
		if (one == NULL ||
		    copy_fields(one, r,
		        (const char *const[]){"type", "run", NULL}, 0) != 0 ||
		    json_array_append_new(list, one) != 0) {
			json_decref(one);
			goto out;
		}
	}
	out = doc;
	doc = NULL;
out:
	json_decref(doc);
	json_decref(flows);
	index_clear(&x);
	return out;
}

/* Returns a copy of DOC with its top-level keys in the original's order. */
static json_t *
ordered(const json_t *doc)
{
	json_t *out = json_object();
	const char *key;
	json_t *v;
	int i;

	if (out == NULL)
		return NULL;
	for (i = 0; top_order[i] != NULL; i++) {
		v = json_object_get(doc, top_order[i]);
		if (v != NULL && json_object_set(out, top_order[i], v) != 0)
			goto fail;
	}
	json_object_foreach ((json_t *)doc, key, v) {
		if (json_object_get(out, key) == NULL &&
		    strcmp(key, "sla") != 0 &&
		    json_object_set(out, key, v) != 0)
			goto fail;
	}
	/* the verdicts, beyond the original, come last */
	v = json_object_get(doc, "sla");
	if (v != NULL && json_object_set(out, "sla", v) != 0)
		goto fail;
	return out;
fail:
	json_decref(out);
	return NULL;
}

json_t *
doc_assemble(json_t *records, int consume, struct vmtp_err *err)
{
	json_t *runs = json_array();
	json_t *docs = json_array();
	json_t *r;
	size_t i, j;
	int seen_untagged = 0;

	if (runs == NULL || docs == NULL)
		goto oom;
	json_array_foreach ((json_t *)records, i, r) {
		json_t *run = json_object_get(r, "run");
		json_t *known;
		int seen = 0;

		if (!json_is_string(run)) {
			seen_untagged = 1;
			continue;
		}
		json_array_foreach (runs, j, known)
			if (json_equal(known, run))
				seen = 1;
		if (!seen && json_array_append(runs, run) != 0)
			goto oom;
	}
	json_array_foreach (runs, i, r) {
		json_t *doc =
		    assemble_one(records, json_string_value(r), consume);
		json_t *tidy = doc != NULL ? ordered(doc) : NULL;

		json_decref(doc);
		if (tidy == NULL || json_array_append_new(docs, tidy) != 0)
			goto oom;
	}
	/* records without a run tag only make a document of their own if
	 * they carry flows or samples */
	if (seen_untagged) {
		json_t *doc = assemble_one(records, NULL, consume);

		if (doc == NULL)
			goto oom;
		if (json_array_size(json_object_get(doc, "flows")) > 0) {
			if (json_array_append_new(docs, doc) != 0)
				goto oom;
		} else {
			json_decref(doc);
		}
	}
	json_decref(runs);
	return docs;
oom:
	json_decref(runs);
	json_decref(docs);
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return NULL;
}

/*
 * doc_normalize(), and when CONSUME, each flow of DOC (the caller's, and
 * thrown away after) is released once copied, so that a large document is
 * not held twice at once.
 */
static json_t *
normalize(json_t *doc, const char *name, int consume, struct vmtp_err *err)
{
	json_t *out = NULL;
	json_t *flows_out = NULL;
	json_t *flows = json_object_get(doc, "flows");
	json_t *flow;
	size_t i, j;

	if (!json_is_object(doc) || !json_is_array(flows)) {
		err_set(err, VMTP_EXIT_DATA,
		    "%s: not a result document (no \"flows\" list)", name);
		return NULL;
	}
	out = json_object();
	flows_out = json_array();
	if (out == NULL || flows_out == NULL)
		goto oom;
	if (copy_fields(out, doc, (const char *const[]){"flows", NULL}, 0) !=
	        0 ||
	    json_object_set(out, "flows", flows_out) != 0)
		goto oom;
	json_array_foreach (flows, i, flow) {
		json_t *results = json_object_get(flow, "results");
		json_t *copy;
		json_t *list;
		json_t *r;

		if (!json_is_object(flow) ||
		    !json_is_string(json_object_get(flow, "desc"))) {
			err_set(err, VMTP_EXIT_DATA,
			    "%s: flows[%zu] has no \"desc\"", name, i);
			goto fail;
		}
		if (results != NULL && !json_is_array(results)) {
			err_set(err, VMTP_EXIT_DATA,
			    "%s: flows[%zu].results is not a list", name, i);
			goto fail;
		}
		copy = json_object();
		list = json_array();
		if (copy == NULL || list == NULL ||
		    copy_fields(copy, flow,
		        (const char *const[]){"results", NULL}, 0) != 0 ||
		    json_object_set_new(copy, "results", list) != 0 ||
		    json_array_append_new(flows_out, copy) != 0) {
			json_decref(copy);
			goto oom;
		}
		json_array_foreach (results, j, r) {
			if (!json_is_object(r) && !json_is_string(r)) {
				err_set(err, VMTP_EXIT_DATA,
				    "%s: flows[%zu].results[%zu] is neither a "
				    "result nor an error text",
				    name, i, j);
				goto fail;
			}
			if (add_result(list, r, NULL) != 0)
				goto oom;
		}
		if (consume && json_array_set_new(flows, i, json_null()) != 0)
			goto oom;
	}
	json_decref(flows_out);
	return out;
oom:
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
fail:
	json_decref(flows_out);
	json_decref(out);
	return NULL;
}

json_t *
doc_normalize(const json_t *doc, const char *name, struct vmtp_err *err)
{
	/* not consumed: DOC is only read */
	return normalize((json_t *)doc, name, 0, err);
}

/* Reads all of FP into a new buffer.  Returns NULL with ERR set. */
static char *
slurp(FILE *fp, const char *name, size_t *len, struct vmtp_err *err)
{
	size_t cap = 65536;
	size_t n = 0;
	char *buf = malloc(cap);
	char *bigger;

	if (buf == NULL)
		goto oom;
	for (;;) {
		n += fread(buf + n, 1, cap - n, fp);
		if (n < cap)
			break;
		bigger = realloc(buf, cap * 2);
		if (bigger == NULL)
			goto oom;
		buf = bigger;
		cap *= 2;
	}
	if (ferror(fp)) {
		err_set(err, VMTP_EXIT_FAIL, "cannot read %s: %s", name,
		    strerror(errno ? errno : EIO));
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
oom:
	free(buf);
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return NULL;
}

/* Reads BUF as a record stream and assembles it (doc_load's second way). */
static json_t *
load_records(char *buf, size_t len, const char *name, struct vmtp_err *err)
{
	struct rec_reader *rd = NULL;
	json_t *records = json_array();
	json_t *seen = json_object();
	json_t *docs = NULL;
	json_t *rec = NULL;
	FILE *mem = NULL;
	int rc;

	if (records == NULL || seen == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	if (len > 0) {
		mem = fmemopen(buf, len, "r");
		if (mem == NULL) {
			err_set(err, VMTP_EXIT_FAIL, "cannot read %s: %s", name,
			    strerror(errno));
			goto out;
		}
		rd = rec_reader_new(mem, name, err);
		if (rd == NULL)
			goto out;
		while ((rc = rec_next(rd, &rec, err)) == 1) {
			if (doc_check_record(
			        rec, seen, name, rec_reader_line(rd), err) != 0)
				goto out;
			if (json_array_append_new(records, rec) != 0) {
				rec = NULL;
				err_set(err, VMTP_EXIT_FAIL, "out of memory");
				goto out;
			}
			rec = NULL;
		}
		if (rc < 0)
			goto out;
	}
	docs = doc_assemble(records, 1, err);
out:
	json_decref(rec);
	rec_reader_free(rd);
	if (mem != NULL)
		fclose(mem);
	json_decref(records);
	json_decref(seen);
	return docs;
}

json_t *
doc_load(FILE *fp, const char *name, struct vmtp_err *err)
{
	json_error_t jerr;
	json_t *whole = NULL;
	json_t *docs = NULL;
	json_t *v;
	size_t len = 0;
	size_t i;
	char *buf;

	buf = slurp(fp, name, &len, err);
	if (buf == NULL)
		return NULL;
	whole = json_loadb(buf, len, 0, &jerr);
	/* the text is not needed again unless it is records */
	if ((json_is_object(whole) || json_is_array(whole)) &&
	    json_object_get(whole, "type") == NULL) {
		free(buf);
		buf = NULL;
	}
	if (json_is_object(whole) && json_object_get(whole, "flows") != NULL) {
		docs = json_array();
		v = normalize(whole, name, 1, err);
		if (v == NULL || docs == NULL ||
		    json_array_append_new(docs, v) != 0) {
			if (v != NULL || docs == NULL)
				err_set(err, VMTP_EXIT_FAIL, "out of memory");
			json_decref(docs);
			docs = NULL;
		}
	} else if (json_is_array(whole)) {
		/* a list of documents, as exported from the database */
		docs = json_array();
		if (docs == NULL)
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
		json_array_foreach (whole, i, v) {
			char where[300];
			json_t *one;

			if (docs == NULL)
				break;
			snprintf(where, sizeof(where), "%s: [%zu]", name, i);
			one = normalize(v, where, 1, err);
			if (one == NULL ||
			    json_array_append_new(docs, one) != 0) {
				json_decref(docs);
				docs = NULL;
				continue;
			}
			/* each document is released once copied */
			json_array_set_new(whole, i, json_null());
		}
	} else if (json_is_object(whole) &&
	           json_object_get(whole, "type") == NULL) {
		err_set(err, VMTP_EXIT_DATA,
		    "%s: neither a result document nor records", name);
	} else {
		docs = load_records(buf, len, name, err);
	}
	json_decref(whole);
	free(buf);
	return docs;
}
