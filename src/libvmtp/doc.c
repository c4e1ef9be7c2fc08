/*
 * doc.c - assemble records into the original tool's result document and
 * read archived documents back into the same form (see doc.h; SPEC §5).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/array.h"
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

/*
 * What is wrong with the type of a sample's field, or NULL: its numbers
 * (the fields that documents may hold as strings, the stream's times and
 * loop), its per-second intervals and its error.  *KEY is set to the field.
 */
static const char *
sample_type_error(const json_t *rec, const char **key)
{
	static const char *const stream_numbers[] = {
	    "t_start", "t_end", "loop", NULL};
	const char *k;
	const json_t *v;
	size_t i;
	json_t *x;

	json_object_foreach ((json_t *)rec, k, v) {
		*key = k;
		if ((in_list(k, numeric) || in_list(k, stream_numbers)) &&
		    !json_is_number(v))
			return "is not a number";
		if (strcmp(k, "error") == 0 && !json_is_string(v))
			return "is not a string";
		if (strcmp(k, "intervals") != 0)
			continue;
		if (!json_is_array(v))
			return "is not a list of numbers";
		json_array_foreach (v, i, x)
			if (!json_is_number(x))
				return "is not a list of numbers";
	}
	return NULL;
}

int
doc_check_record(const json_t *rec, json_t *seen, const char *name, long line,
    struct vmtp_err *err)
{
	const char *type = rec_type(rec);
	const char *missing = NULL;
	const char *wrong;
	const char *key;

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
		else if ((wrong = sample_type_error(rec, &key)) != NULL)
			return err_set(err, VMTP_EXIT_DATA,
			    "%s:%ld: sample record: \"%s\" %s", name, line, key,
			    wrong);
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

#define NONE ((size_t)-1)

/* Where one flow of a document finds its records (indexes in RECORDS). */
struct doc_slot {
	json_int_t id;
	size_t frec;  /* its flow record, or NONE */
	size_t mcast; /* its first Multicast sample with an address, or NONE */
	size_t *samples; /* its samples, in record order */
	size_t nsamples;
	int listed; /* a flow record of the run names it */
	int sampled;
};

/*
 * One document: what it takes from the records of its run tag, found in
 * one pass over them (a mesh of 64 hosts has 4032 flows: a scan of the
 * records per flow took seconds).  The records themselves stay where they
 * are, packed or not (rec_at()), until a flow is built.
 */
struct doc_run {
	char *run;       /* NULL: the records without a run tag */
	size_t runrec;   /* its run record, or NONE */
	json_t *hosts;   /* name -> host record */
	json_t *infos;   /* host -> host_info record */
	json_t *slot_of; /* flow id (decimal) -> index in slots */
	struct doc_slot *slots;
	size_t nslots;
	size_t *listed; /* slots in the order of their flow records */
	size_t nlisted;
	size_t *sampled; /* slots in the order of their first sample */
	size_t nsampled;
	size_t *slas; /* its sla records */
	size_t nslas;
};

struct doc_set {
	json_t *records; /* borrowed */
	struct doc_run *runs;
	size_t nruns;
};

/* Appends V to the array *A of *N.  Returns 0, or -1. */
static int
push(size_t **a, size_t *n, size_t v)
{
	size_t *bigger = array_grow(*a, *n, sizeof(**a));

	if (bigger == NULL)
		return -1;
	*a = bigger;
	(*a)[(*n)++] = v;
	return 0;
}

/* The slot of flow ID in X, made when it has none.  NULL when out of
 * memory. */
static struct doc_slot *
slot(struct doc_run *x, json_int_t id)
{
	struct doc_slot *bigger;
	char key[32];
	json_t *at;

	snprintf(key, sizeof(key), "%lld", (long long)id);
	at = json_object_get(x->slot_of, key);
	if (at != NULL)
		return &x->slots[json_integer_value(at)];
	bigger = array_grow(x->slots, x->nslots, sizeof(*bigger));
	if (bigger == NULL)
		return NULL;
	x->slots = bigger;
	if (json_object_set_new(
	        x->slot_of, key, json_integer((json_int_t)x->nslots)) != 0)
		return NULL;
	x->slots[x->nslots] =
	    (struct doc_slot){.id = id, .frec = NONE, .mcast = NONE};
	return &x->slots[x->nslots++];
}

/* Maps KEY to R in MAP unless it is there.  Returns 0, or -1. */
static int
index_add(json_t *map, const char *key, json_t *r)
{
	if (key == NULL || json_object_get(map, key) != NULL)
		return 0;
	return json_object_set(map, key, r);
}

static void
run_clear(struct doc_run *x)
{
	size_t i;

	for (i = 0; i < x->nslots; i++)
		free(x->slots[i].samples);
	free(x->slots);
	free(x->listed);
	free(x->sampled);
	free(x->slas);
	json_decref(x->hosts);
	json_decref(x->infos);
	json_decref(x->slot_of);
	free(x->run);
}

/*
 * Indexes record I (R, borrowed) for X.  A run's document takes its hosts,
 * and its flows' records, from the records without a tag too; its flows,
 * samples and verdicts only from its own.  The document of the records
 * without a tag takes nothing from a tagged run.  Returns 0, or -1 when
 * out of memory.
 */
static int
run_index(struct doc_run *x, size_t i, json_t *r)
{
	const char *t = rec_type(r);
	const char *rr = json_string_value(json_object_get(r, "run"));
	const char *run = x->run;
	int own = (rr != NULL) == (run != NULL) &&
	          (rr == NULL || strcmp(rr, run) == 0);
	struct doc_slot *s;

	if (t == NULL)
		return 0;
	if (strcmp(t, "run") == 0 && x->runrec == NONE && run != NULL &&
	    rr != NULL && strcmp(rr, run) == 0)
		x->runrec = i;
	/* a tagged record is its own run's only */
	if (rr != NULL && (run == NULL || strcmp(run, rr) != 0))
		return 0;
	if (strcmp(t, "host") == 0)
		return index_add(
		    x->hosts, json_string_value(json_object_get(r, "name")), r);
	if (strcmp(t, "host_info") == 0)
		return index_add(
		    x->infos, json_string_value(json_object_get(r, "host")), r);
	if (strcmp(t, "sla") == 0)
		return own ? push(&x->slas, &x->nslas, i) : 0;
	if (strcmp(t, "flow") == 0) {
		s = slot(x, json_integer_value(json_object_get(r, "id")));
		if (s == NULL)
			return -1;
		if (s->frec == NONE)
			s->frec = i;
		if (own && !s->listed) {
			s->listed = 1;
			return push(
			    &x->listed, &x->nlisted, (size_t)(s - x->slots));
		}
	} else if (strcmp(t, "sample") == 0) {
		const char *p =
		    json_string_value(json_object_get(r, "protocol"));

		s = slot(x, json_integer_value(json_object_get(r, "flow")));
		if (s == NULL)
			return -1;
		if (p != NULL && strcmp(p, "Multicast") == 0 &&
		    json_is_string(json_object_get(r, "multicast_address")) &&
		    s->mcast == NONE)
			s->mcast = i;
		if (own && push(&s->samples, &s->nsamples, i) != 0)
			return -1;
		if (own && !s->sampled) {
			s->sampled = 1;
			return push(
			    &x->sampled, &x->nsampled, (size_t)(s - x->slots));
		}
	}
	return 0;
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

/* The record KEY maps to in MAP (borrowed), or NULL; KEY may be NULL. */
static json_t *
index_get(const json_t *map, const char *key)
{
	return key != NULL ? json_object_get(map, key) : NULL;
}

/* The header of the document flow of slot S: its fields but the results,
 * from its flow record and its hosts' records. */
static int
flow_head(json_t *flow, const struct doc_run *x, const struct doc_slot *s,
    const json_t *frec, const json_t *mcast)
{
	const char *from = json_string_value(json_object_get(frec, "client"));
	const char *to = json_string_value(json_object_get(frec, "server"));
	json_t *client = index_get(x->hosts, from);
	json_t *server = index_get(x->hosts, to);
	json_t *info = index_get(x->infos, from);
	char desc[32];

	if (info == NULL)
		info = index_get(x->infos, to);
	snprintf(desc, sizeof(desc), "flow %lld", (long long)s->id);
	if (json_object_set_new(flow, "desc",
	        frec != NULL ? json_incref(json_object_get(frec, "desc"))
	                     : json_string(desc)) != 0)
		return -1;
	/* the flow-level "multicast_address", as the original writes it,
	 * is the first Multicast sample's that has one */
	return set_ip_from(flow, client,
	           json_string_value(json_object_get(frec, "target"))) != 0 ||
	               set_from(flow, "ip_to", frec, "target") != 0 ||
	               set_from(flow, "az_from", client, "az") != 0 ||
	               set_from(flow, "az_to", server, "az") != 0 ||
	               set_from(flow, "distro_id", info, "distro_id") != 0 ||
	               set_from(flow, "distro_version", info,
	                   "distro_version") != 0 ||
	               set_from(flow, "round", frec, "round") != 0 ||
	               set_from(flow, "multicast_address", mcast,
	                   "multicast_address") != 0
	           ? -1
	           : 0;
}

/*
 * The document flow of slot S of X, with its results; with CONSUME its
 * sample records are released from RECORDS once copied.  Returns a new
 * reference, or NULL when out of memory.
 */
static json_t *
build_flow(json_t *records, const struct doc_run *x, const struct doc_slot *s,
    int consume)
{
	json_t *flow = json_object();
	json_t *results = json_array();
	json_t *frec = s->frec != NONE ? rec_at(records, s->frec) : NULL;
	json_t *mcast = s->mcast != NONE ? rec_at(records, s->mcast) : NULL;
	json_t *r;
	size_t i;
	int rc;

	if (flow == NULL || results == NULL ||
	    (s->frec != NONE && frec == NULL) ||
	    (s->mcast != NONE && mcast == NULL) ||
	    flow_head(flow, x, s, frec, mcast) != 0 ||
	    json_object_set(flow, "results", results) != 0)
		goto fail;
	for (i = 0; i < s->nsamples; i++) {
		r = rec_at(records, s->samples[i]);
		rc = r != NULL ? add_result(results, r, stream_only) : -1;
		json_decref(r);
		/* copied: what the result shares with it stays */
		if (rc != 0 ||
		    (consume && json_array_set_new(
		                    records, s->samples[i], json_null()) != 0))
			goto fail;
	}
	json_decref(frec);
	json_decref(mcast);
	json_decref(results);
	return flow;
fail:
	json_decref(frec);
	json_decref(mcast);
	json_decref(results);
	json_decref(flow);
	return NULL;
}

/* The slot of X's Nth document flow: flows with a flow record of the run
 * first, in its order, then the others with samples. */
static const struct doc_slot *
nth_flow(const struct doc_run *x, size_t *n)
{
	while (*n < x->nlisted + x->nsampled) {
		size_t k = (*n)++;

		if (k < x->nlisted)
			return &x->slots[x->listed[k]];
		if (!x->slots[x->sampled[k - x->nlisted]].listed)
			return &x->slots[x->sampled[k - x->nlisted]];
	}
	return NULL;
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

/*
 * The Ith SLA verdict of X as the document lists it (without its record's
 * type and run).  Returns a new reference, or NULL when out of memory.
 */
static json_t *
doc_verdict(json_t *records, const struct doc_run *x, size_t i)
{
	json_t *r = rec_at(records, x->slas[i]);
	json_t *one = r != NULL ? json_object() : NULL;

	if (one != NULL &&
	    copy_fields(
	        one, r, (const char *const[]){"type", "run", NULL}, 0) != 0) {
		json_decref(one);
		one = NULL;
	}
	json_decref(r);
	return one;
}

/*
 * The document of X but its flows' entries: FLOWS (stolen) is its
 * "flows".  Its SLA verdicts are its "sla" list, or none in it when
 * !VERDICTS.  Returns a new reference in the original's key order, or
 * NULL when out of memory.
 */
static json_t *
doc_top(json_t *records, const struct doc_run *x, json_t *flows, int verdicts)
{
	json_t *doc = json_object();
	json_t *runrec = x->runrec != NONE ? rec_at(records, x->runrec) : NULL;
	json_t *list = NULL;
	json_t *out = NULL;
	size_t i;

	if (doc == NULL || flows == NULL || (x->runrec != NONE && !runrec))
		goto out;
	if (runrec != NULL) {
		json_t *date = json_object_get(runrec, "date");

		/* a run record without a date gives a document without one */
		if ((date != NULL && json_object_set_new(
		                         doc, "date", doc_date(date)) != 0) ||
		    copy_fields(doc, runrec, run_skip, 0) != 0)
			goto out;
	}
	if ((x->run != NULL &&
	        json_object_set_new(doc, "run_id", json_string(x->run)) != 0) ||
	    json_object_set(doc, "flows", flows) != 0)
		goto out;
	/* SLA verdicts (vmtp-collect --sla): a list after the flows */
	if (x->nslas > 0 && ((list = json_array()) == NULL ||
	                        json_object_set(doc, "sla", list) != 0))
		goto out;
	for (i = 0; verdicts && i < x->nslas; i++)
		if (json_array_append_new(list, doc_verdict(records, x, i)) !=
		    0)
			goto out;
	out = ordered(doc);
out:
	json_decref(list);
	json_decref(runrec);
	json_decref(flows);
	json_decref(doc);
	return out;
}

struct doc_set *
doc_set_open(json_t *records, struct vmtp_err *err)
{
	struct doc_set *set = calloc(1, sizeof(*set));
	json_t *tags = json_object(); /* run tag -> its index in runs */
	json_t *r = NULL;
	const char *run;
	json_t *at;
	size_t i, k, n;
	int untagged = 0;

	if (set == NULL || tags == NULL)
		goto oom;
	set->records = records;
	/* one document per run tag in order of first appearance, then one
	 * of the records without a tag */
	n = json_array_size(records);
	for (i = 0; i < n; i++) {
		r = rec_at(records, i);
		if (r == NULL)
			goto oom;
		run = json_string_value(json_object_get(r, "run"));
		if (run == NULL)
			untagged |= rec_type(r) != NULL;
		else if (json_object_get(tags, run) == NULL &&
		         json_object_set_new(tags, run,
		             json_integer((json_int_t)set->nruns++)) != 0)
			goto oom;
		json_decref(r);
		r = NULL;
	}
	set->runs = calloc(set->nruns + 1, sizeof(*set->runs));
	if (set->runs == NULL)
		goto oom;
	json_object_foreach (tags, run, at) {
		set->runs[json_integer_value(at)].run = strdup(run);
		if (set->runs[json_integer_value(at)].run == NULL)
			goto oom;
	}
	set->nruns += untagged;
	for (i = 0; i < set->nruns; i++) {
		struct doc_run *x = &set->runs[i];

		x->runrec = NONE;
		x->hosts = json_object();
		x->infos = json_object();
		x->slot_of = json_object();
		if (x->hosts == NULL || x->infos == NULL || x->slot_of == NULL)
			goto oom;
	}
	/* indexed for every document at once: each record parsed again once */
	for (i = 0; i < n; i++) {
		r = rec_at(records, i);
		if (r == NULL)
			goto oom;
		for (k = 0; k < set->nruns; k++)
			if (run_index(&set->runs[k], i, r) != 0)
				goto oom;
		json_decref(r);
		r = NULL;
	}
	/* the records without a tag only make a document of their own if
	 * they carry flows or samples */
	if (untagged && set->runs[set->nruns - 1].nlisted +
	                        set->runs[set->nruns - 1].nsampled ==
	                    0)
		run_clear(&set->runs[--set->nruns]);
	json_decref(tags);
	return set;
oom:
	json_decref(r);
	json_decref(tags);
	doc_set_free(set);
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return NULL;
}

size_t
doc_set_count(const struct doc_set *set)
{
	return set->nruns;
}

void
doc_set_free(struct doc_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; set->runs != NULL && i < set->nruns; i++)
		run_clear(&set->runs[i]);
	free(set->runs);
	free(set);
}

json_t *
doc_set_assemble(struct doc_set *set, int consume, struct vmtp_err *err)
{
	json_t *docs = json_array();
	size_t i;

	if (docs == NULL)
		goto oom;
	for (i = 0; i < set->nruns; i++) {
		const struct doc_run *x = &set->runs[i];
		const struct doc_slot *s;
		json_t *flows = json_array();
		size_t n = 0;

		while (flows != NULL && (s = nth_flow(x, &n)) != NULL)
			if (json_array_append_new(flows,
			        build_flow(set->records, x, s, consume)) != 0) {
				json_decref(flows);
				flows = NULL;
			}
		if (json_array_append_new(
		        docs, doc_top(set->records, x, flows, 1)) != 0)
			goto oom;
	}
	return docs;
oom:
	json_decref(docs);
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return NULL;
}

#define DOC_DUMP (JSON_INDENT(4) | JSON_REAL_PRECISION(15))

/* Writes LEN bytes of TEXT to FP, INDENT spaces after each newline. */
static int
put_indented(FILE *fp, const char *text, size_t len, int indent)
{
	const char *nl;

	while ((nl = memchr(text, '\n', len)) != NULL) {
		size_t k = (size_t)(nl - text) + 1;

		if (fwrite(text, 1, k, fp) != k ||
		    fprintf(fp, "%*s", indent, "") < 0)
			return -1;
		text += k;
		len -= k;
	}
	return len > 0 && fwrite(text, 1, len, fp) != len ? -1 : 0;
}

/* Writes V as json_dumpf(DOC_DUMP) would at depth INDENT / 4. */
static int
put_json(FILE *fp, const json_t *v, int indent)
{
	char *s = json_dumps(v, DOC_DUMP);
	int rc = s != NULL ? put_indented(fp, s, strlen(s), indent) : -1;

	free(s);
	return rc;
}

/*
 * The next item, after *N, of list LIST (0: the flows, 1: the SLA verdicts)
 * of X's document, into *ITEM (a new reference).  Returns 1, 0 when there
 * is no more, -1 when out of memory.
 */
static int
next_item(json_t *records, const struct doc_run *x, int list, size_t *n,
    int consume, json_t **item)
{
	const struct doc_slot *sl = NULL;

	if (list == 0 ? (sl = nth_flow(x, n)) == NULL : *n >= x->nslas)
		return 0;
	*item = list == 0 ? build_flow(records, x, sl, consume)
	                  : doc_verdict(records, x, (*n)++);
	return *item != NULL ? 1 : -1;
}

/*
 * Writes the document of X to FP as put_json() would write it whole at
 * INDENT, building one flow (and one SLA verdict) at a time: their lists'
 * places in the dump of the rest are its top-level lines "flows": [] and
 * "sla": [].
 */
static int
put_doc(FILE *fp, json_t *records, const struct doc_run *x,
    int (*tidy)(json_t *doc), int consume, int indent)
{
	static const char *const marks[] = {
	    "\n    \"flows\": []", "\n    \"sla\": []"};
	json_t *top = doc_top(records, x, json_array(), 0);
	char *s = top != NULL && (tidy == NULL || tidy(top) == 0)
	              ? json_dumps(top, DOC_DUMP)
	              : NULL;
	const char *from = s;
	const char *at;
	int list, rc = -1;

	json_decref(top);
	for (list = 0; list < 2 && from != NULL; list++) {
		size_t n = 0, done = 0;
		json_t *item;
		int more;

		at = strstr(from, marks[list]);
		if (at == NULL) {
			if (list == 0)
				goto out; /* "sla" is there when it has any */
			break;
		}
		at += strlen(marks[list]) - 2; /* at the list's "[]" */
		if (put_indented(fp, from, (size_t)(at - from), indent) != 0 ||
		    fputc('[', fp) == EOF)
			goto out;
		while ((more = next_item(
		            records, x, list, &n, consume, &item)) > 0) {
			int bad = fprintf(fp, "%s\n%*s", done++ > 0 ? "," : "",
			              indent + 8, "") < 0 ||
			          put_json(fp, item, indent + 8) != 0;

			json_decref(item);
			if (bad)
				goto out;
		}
		if (more < 0 ||
		    (done > 0 && fprintf(fp, "\n%*s", indent + 4, "") < 0) ||
		    fputc(']', fp) == EOF)
			goto out;
		from = at + 2;
	}
	rc = from != NULL ? put_indented(fp, from, strlen(from), indent) : -1;
out:
	free(s);
	return rc;
}

int
doc_set_write(
    struct doc_set *set, FILE *fp, int (*tidy)(json_t *doc), int consume)
{
	int indent = set->nruns > 1 ? 4 : 0;
	size_t i;

	if (set->nruns != 1 && fputc('[', fp) == EOF)
		return -1;
	for (i = 0; i < set->nruns; i++)
		if ((set->nruns > 1 &&
		        fprintf(fp, "%s\n    ", i > 0 ? "," : "") < 0) ||
		    put_doc(fp, set->records, &set->runs[i], tidy, consume,
		        indent) != 0)
			return -1;
	return fputs(set->nruns > 1 ? "\n]\n"
	             : set->nruns   ? "\n"
	                            : "]\n",
	           fp) == EOF
	           ? -1
	           : 0;
}

json_t *
doc_assemble(json_t *records, int consume, struct vmtp_err *err)
{
	struct doc_set *set = doc_set_open(records, err);
	json_t *docs = set != NULL ? doc_set_assemble(set, consume, err) : NULL;

	doc_set_free(set);
	return docs;
}

/*
 * The normalized copy of FLOW, flows[I] of document NAME: a new reference,
 * or NULL with ERR set (VMTP_EXIT_DATA naming what is wrong; untouched
 * when out of memory).
 */
static json_t *
normalize_flow(
    const json_t *flow, const char *name, size_t i, struct vmtp_err *err)
{
	json_t *results = json_object_get(flow, "results");
	json_t *copy;
	json_t *list;
	json_t *r;
	size_t j;

	if (!json_is_object(flow) ||
	    !json_is_string(json_object_get(flow, "desc"))) {
		err_set(err, VMTP_EXIT_DATA, "%s: flows[%zu] has no \"desc\"",
		    name, i);
		return NULL;
	}
	if (results != NULL && !json_is_array(results)) {
		err_set(err, VMTP_EXIT_DATA,
		    "%s: flows[%zu].results is not a list", name, i);
		return NULL;
	}
	copy = json_object();
	list = json_array();
	if (copy == NULL || list == NULL ||
	    copy_fields(
	        copy, flow, (const char *const[]){"results", NULL}, 0) != 0 ||
	    json_object_set_new(copy, "results", list) != 0) {
		json_decref(copy);
		return NULL;
	}
	json_array_foreach (results, j, r) {
		if (!json_is_object(r) && !json_is_string(r)) {
			err_set(err, VMTP_EXIT_DATA,
			    "%s: flows[%zu].results[%zu] is neither a "
			    "result nor an error text",
			    name, i, j);
			json_decref(copy);
			return NULL;
		}
		if (add_result(list, r, NULL) != 0) {
			json_decref(copy);
			return NULL;
		}
	}
	return copy;
}

/*
 * Returns a normalized copy of DOC (a new reference), or NULL with ERR set:
 * VMTP_EXIT_DATA naming NAME and the part that is not a result document
 * (no "flows" array, a flow without "desc", ...).  Each flow of DOC (the
 * caller's, and thrown away after) is released once copied, so that a
 * large document is not held twice at once.
 */
static json_t *
normalize(json_t *doc, const char *name, struct vmtp_err *err)
{
	json_t *out = NULL;
	json_t *flows_out = NULL;
	json_t *flows = json_object_get(doc, "flows");
	json_t *flow;
	size_t i;

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
		if (json_array_append_new(
		        flows_out, normalize_flow(flow, name, i, err)) != 0) {
			if (err->exit == VMTP_EXIT_OK)
				goto oom;
			goto fail;
		}
		if (json_array_set_new(flows, i, json_null()) != 0)
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

/* The size of FP when it is a regular file read from its start, else -1. */
static off_t
file_size(FILE *fp)
{
	struct stat st;
	int fd = fileno(fp);

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    ftell(fp) != 0)
		return -1;
	return st.st_size;
}

/*
 * A regular file FP that holds one JSON value (a document, a list of
 * them) is parsed straight from the file: its text is never held whole
 * beside its tree (a 64-host mesh's document is 5 MB of text).  Returns
 * the value; or NULL, FP back at its start, when FP is no regular file or
 * holds something else (records, bad JSON: doc_load() reads it again, and
 * says what is wrong with it); or NULL with ERR set when FP cannot be
 * read again.
 */
static json_t *
load_file(FILE *fp, const char *name, struct vmtp_err *err)
{
	json_t *whole;

	if (file_size(fp) < 0)
		return NULL;
	whole = json_loadf(fp, 0, NULL);
	if (whole != NULL && (json_is_array(whole) ||
	                         (json_is_object(whole) &&
	                             json_object_get(whole, "type") == NULL)))
		return whole;
	json_decref(whole);
	if (fseek(fp, 0, SEEK_SET) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot read %s: %s", name,
		    strerror(errno));
		return NULL;
	}
	clearerr(fp);
	return NULL;
}

/* The next character of FP that is no JSON white space, or EOF. */
static int
next_char(FILE *fp)
{
	int c;

	while ((c = getc_unlocked(fp)) == ' ' || c == '\t' || c == '\n' ||
	       c == '\r')
		;
	return c;
}

/*
 * Copies one JSON value of FP, whose first character C was read, to OUT:
 * a string, an object or a list (to its closing bracket, the strings in it
 * skipped over), or a scalar (up to the character after it, put back).
 * Only its extent is found, not whether it is valid: json_loadb() says
 * that.  Returns 0, or -1 when the input ends first.
 */
static int
copy_value(FILE *fp, int c, FILE *out)
{
	int depth = 0;
	int quoted = 0;

	if (c != '"' && c != '{' && c != '[') {
		/* a number, true, false or null */
		for (;
		     c != EOF && c != '\0' && strchr(",:]} \t\n\r", c) == NULL;
		     c = getc_unlocked(fp))
			putc_unlocked(c, out);
		if (c != EOF)
			ungetc(c, fp);
		return 0;
	}
	for (; c != EOF; c = getc_unlocked(fp)) {
		putc_unlocked(c, out);
		if (quoted && c == '\\') {
			if ((c = getc_unlocked(fp)) == EOF)
				return -1;
			putc_unlocked(c, out);
		} else if (c == '"') {
			quoted = !quoted;
			if (!quoted && depth == 0)
				return 0;
		} else if (!quoted && (c == '{' || c == '['))
			depth++;
		else if (!quoted && (c == '}' || c == ']') && --depth == 0)
			return 0;
	}
	return -1;
}

/*
 * Reads the flows of document NAME from FP, after the "[" of its list up
 * to its "]", each parsed and normalized (and when PACK, packed:
 * rec_pack() into SPILL) into FLOWS before the next is read.  Returns 0; 1 when
 * they are not a list of flows (bad JSON, a flow without "desc", ...); -1 when
 * out of memory.
 */
static int
read_flows(FILE *fp, const char *name, int pack, struct rec_spill *spill,
    json_t *flows)
{
	int c = next_char(fp);
	size_t i;

	if (c == ']')
		return 0;
	for (i = 0;; i++) {
		struct vmtp_err e = VMTP_ERR_INIT;
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);
		json_t *flow = NULL;
		json_t *norm;
		int end;

		if (mem == NULL)
			return -1;
		end = copy_value(fp, c, mem);
		if (fclose(mem) != 0) {
			free(text);
			return -1;
		}
		if (end == 0)
			flow = json_loadb(text, len, 0, NULL);
		free(text);
		if (flow == NULL)
			return 1;
		norm = normalize_flow(flow, name, i, &e);
		json_decref(flow);
		if (norm == NULL)
			return e.exit != VMTP_EXIT_OK ? 1 : -1;
		if (json_array_append_new(
		        flows, pack ? rec_pack(spill, norm) : norm) != 0)
			return -1;
		c = next_char(fp);
		if (c == ']')
			return 0;
		if (c != ',')
			return 1;
		c = next_char(fp);
	}
}

/*
 * Reads from FP the members of a document, after its "{", into TOP (the
 * text of the document but its flows: "[]" stands for their list) and its
 * flows, one at a time, into FLOWS (read_flows(), with PACK and SPILL). Returns
 * 0; 1 when FP holds no such document (nor anything after it); -1 when out of
 * memory.
 */
static int
read_members(FILE *fp, const char *name, int pack, struct rec_spill *spill,
    FILE *top, json_t *flows)
{
	int c = next_char(fp);
	int seen = 0; /* the flows' list */
	int rc;

	fputc('{', top);
	for (;;) {
		char *key = NULL;
		size_t len = 0;
		FILE *mem;
		int is_flows;

		if (c != '"')
			return 1;
		if ((mem = open_memstream(&key, &len)) == NULL)
			return -1;
		rc = copy_value(fp, c, mem);
		if (fclose(mem) != 0) {
			free(key);
			return -1;
		}
		is_flows = rc == 0 && strcmp(key, "\"flows\"") == 0;
		fprintf(top, "%s:", key);
		free(key);
		if (rc != 0 || next_char(fp) != ':' || (is_flows && seen))
			return 1;
		c = next_char(fp);
		if (is_flows && c == '[') {
			seen = 1;
			fputs("[]", top);
			if ((rc = read_flows(fp, name, pack, spill, flows)) !=
			    0)
				return rc;
		} else if (copy_value(fp, c, top) != 0)
			return 1;
		c = next_char(fp);
		if (c == '}')
			break;
		if (c != ',')
			return 1;
		fputc(',', top);
		c = next_char(fp);
	}
	fputc('}', top);
	return seen && next_char(fp) == EOF ? 0 : 1;
}

/* A document file larger than this keeps its flows packed (load_stream()):
 * unpacking them costs a parse each time a flow is read. */
#define PACK_BYTES (1024 * 1024)

/*
 * A regular file FP that holds one result document is read one flow at a
 * time, each flow normalized (and in a file larger than PACK_BYTES,
 * packed: rec_pack() into SPILL) before the next is read: neither the file's
 * text nor its tree is held whole (a 64-host mesh's document is 5 MB of text,
 * 18 MB as a tree, 4 MB packed).  Returns the document (in a list of
 * one); or NULL, FP back at its start, when FP
 * is no regular file or holds anything else (a list of documents, records,
 * bad JSON, a flow that is none: doc_load() reads it its own way, and says
 * what is wrong with it); or NULL with ERR set when out of memory or FP
 * cannot be read again.
 */
static json_t *
load_stream(
    FILE *fp, const char *name, struct rec_spill *spill, struct vmtp_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *top;
	json_t *flows;
	json_t *doc = NULL;
	json_t *out = NULL;
	json_t *docs = NULL;
	off_t size = file_size(fp);
	int rc = -1;

	if (size < 0)
		return NULL;
	top = open_memstream(&text, &len);
	flows = json_array();
	if (top != NULL && flows != NULL)
		rc = next_char(fp) == '{'
		         ? read_members(
		               fp, name, size > PACK_BYTES, spill, top, flows)
		         : 1;
	if (top != NULL && fclose(top) != 0)
		rc = -1;
	if (rc == 0)
		doc = json_loadb(text, len, 0, NULL);
	free(text);
	/* a record ("type") is read as records */
	if (doc != NULL && json_object_get(doc, "type") == NULL) {
		out = json_object();
		docs = json_array();
		if (out == NULL || docs == NULL ||
		    copy_fields(out, doc, (const char *const[]){"flows", NULL},
		        0) != 0 ||
		    json_object_set(out, "flows", flows) != 0 ||
		    json_array_append(docs, out) != 0) {
			json_decref(docs);
			docs = NULL;
			rc = -1;
		}
	} else if (rc == 0)
		rc = 1;
	json_decref(out);
	json_decref(doc);
	json_decref(flows);
	if (rc < 0)
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
	else if (rc > 0 && fseek(fp, 0, SEEK_SET) != 0)
		err_set(err, VMTP_EXIT_FAIL, "cannot read %s: %s", name,
		    strerror(errno));
	clearerr(fp);
	return docs;
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

/* doc_load(), and doc_load_lean() (with SPILL) when LEAN. */
static json_t *
load(FILE *fp, const char *name, int lean, struct rec_spill *spill,
    struct vmtp_err *err)
{
	json_error_t jerr;
	json_t *whole = NULL;
	json_t *docs = NULL;
	json_t *v;
	size_t len = 0;
	size_t i;
	char *buf = NULL;

	if (lean && ((docs = load_stream(fp, name, spill, err)) != NULL ||
	                err->exit != VMTP_EXIT_OK))
		return docs;
	whole = load_file(fp, name, err);
	if (whole == NULL && err->exit != VMTP_EXIT_OK)
		return NULL;
	if (whole != NULL)
		goto loaded;
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
loaded:
	if (json_is_object(whole) && json_object_get(whole, "flows") != NULL) {
		docs = json_array();
		v = normalize(whole, name, err);
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
			one = normalize(v, where, err);
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

json_t *
doc_load(FILE *fp, const char *name, struct vmtp_err *err)
{
	return load(fp, name, 0, NULL, err);
}

json_t *
doc_load_lean(
    FILE *fp, const char *name, struct rec_spill *spill, struct vmtp_err *err)
{
	return load(fp, name, 1, spill, err);
}

size_t
doc_flow_count(const json_t *doc)
{
	return json_array_size(json_object_get(doc, "flows"));
}

json_t *
doc_flow_at(const json_t *doc, size_t i)
{
	return rec_at(json_object_get(doc, "flows"), i);
}
