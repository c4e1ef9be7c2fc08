/*
 * search.h - the UDP rate search of SPEC §8: the highest offered rate
 * whose loss lies within [min, max] percent, in few short probes.
 *
 * The caller probes and feeds each result back; the search only decides.
 *
 * The model: a path of capacity C drops what is offered beyond it, so a
 * probe at rate x > C loses f = 1 - C/x of its packets, counted per IP
 * fragment (a datagram of k fragments is lost when one is: its loss is
 * 1 - (1 - f)^k).  One probe over the knee therefore tells C: what got
 * through of what was really sent.  The next rate is then C / (1 - f)
 * for f in the bracket: its middle from a probe just over the knee, its
 * upper quarter from an estimate that can only err low (one from far over
 * the knee misses what the queues deliver after a short probe; one from a
 * probe under the bracket counts losses that are not the knee's).
 *
 * Where the model does not hold: far over the knee, datagrams of several
 * fragments stop being reassembled at all, and such a probe tells only
 * that the knee is lower.  The first time, the next probe is a pilot:
 * datagrams of SEARCH_PILOT_SIZE, one fragment each, at the rate the
 * collapsed probe sent.  What got through of them tells C in bytes on the
 * wire (a UDP header per datagram, an IPv4 and an Ethernet header per
 * fragment), so in this size's payload too.  A pilot is never the result.
 * The bracket of a datagram of many fragments is a fraction of a percent
 * of rate wide, narrower than the pilot's error, so the probe after it
 * aims 3 % per fragment over the C it told, where the loss tells C again,
 * at this size and near the knee; a pilot that lost (next to) nothing
 * tells a floor under C, aimed over the same way.  A collapse after the
 * pilot, or a pilot that got nothing through, sends the next probe a
 * decade under what the sender offered.
 *
 * Two probes that disagree on C show a loss rising gradually, followed
 * along the line through them in log(rate sent), at most a decade under
 * the lower C; a model that put the bracket under a probe that lost (next
 * to) nothing aims just over that probe, once; an over whose C points
 * inside the interval is aimed at; an under just over the pilot's C (which
 * errs low), or one that lost a little just over its floor, is stepped
 * over once by as much again; else it bisects between the highest rate
 * under the bracket (or the pilot's floor) and the lowest over it (in
 * log(rate) over more than 2x, else by the loss per fragment).  It stops
 * when the bracket is met, the interval is within 5 % divided by the
 * fragments of a datagram, or SEARCH_MAX_PROBES were spent.  A first probe
 * under the bracket ends the search: nothing faster can be offered (when
 * the sender fell short of the offered rate, the sender was the limit).
 *
 * A knee going from the under's loss per fragment fu to the over's fo
 * takes a rate ratio of at least (1 - fu) / (1 - fo).  Once the under and
 * the over are much closer than that (within 2/3 of the ratio's excess),
 * the loss there varies from probe to probe more than with the rate: one
 * more probe between them, where a knee would meet the bracket, confirms
 * it; if the two closest out of the bracket are still that close after
 * it, the search ends with unstable set (no rate can be relied on to stay
 * in the bracket; the result is then the highest probe under it, as
 * measured).  An over whose reassembly collapsed is no evidence of it.
 * Nor does a loss follow the rate when twice an over at a lower rate lost
 * as much per fragment as the lowest over before it: the search ends with
 * unstable set too (the result is then the lowest over).
 */
#ifndef VMTP_SEARCH_H
#define VMTP_SEARCH_H

#define SEARCH_MAX_PROBES 5
/* The datagram size of a pilot probe: one IP fragment on any path (IPv6
 * guarantees an MTU of 1280). */
#define SEARCH_PILOT_SIZE 1024

struct search_probe {
	double offered_kbps;
	double rx_kbps; /* received rate */
	double loss;    /* percent */
	int index;      /* caller's tag, e.g. where its sample is kept */
};

struct search {
	double ceiling_kbps;
	double min, max;    /* loss bracket, percent */
	int size;           /* datagram size, bytes */
	int frags;          /* IP fragments per datagram */
	int probes;         /* fed so far */
	int done;           /* search_next() returns 0 */
	int sender_limited; /* the first probe could not be sent */
	int unstable;       /* no rate stays in the bracket: see search.h */
	int have_under, have_over;
	struct search_probe under; /* highest rate with loss < min */
	struct search_probe over;  /* lowest rate with loss > max */
	struct search_probe hit;   /* a probe inside the bracket */
	struct search_probe prev;  /* the last probe fed */
	int have_hit, have_prev;
	int confirmed; /* the probe confirming a steep loss was made */
	int crept;     /* the step just over the under was taken */
	int flat;      /* overs that lost as much at a lower rate */
	int pilot;     /* the next probe is the pilot */
	int piloted;   /* the pilot was fed */
	/* what the pilot told, in kbps of this size's payload: the capacity,
	 * or with pilot_floor a rate the capacity is above; 0: nothing */
	double pilot_kbps;
	int pilot_floor;
	double next_kbps;
};

/*
 * Starts a search at CEILING_KBPS for loss in [MIN, MAX] percent with
 * datagrams of PKT_SIZE bytes (more than 1472 are IP fragments on a
 * 1500-byte MTU, and one lost fragment loses the datagram).
 */
void search_init(struct search *s, double ceiling_kbps, double min, double max,
    int pkt_size);

/* The rate to probe next in kbps, or 0 when the search is over. */
double search_next(const struct search *s);

/*
 * The datagram size of the next probe: the search's own, or for a pilot
 * SEARCH_PILOT_SIZE (see the model above).
 */
int search_size(const struct search *s);

/* Feeds the result of a probe at search_next()'s rate and
 * search_size()'s size. */
void search_feed(struct search *s, const struct search_probe *p);

/*
 * The probe to report once the search is over: the one inside the
 * bracket, else the highest under it, else the lowest over it.  It only
 * ever changes to the probe just fed, so a caller may keep that probe's
 * details when it does.
 */
const struct search_probe *search_result(const struct search *s);

/*
 * Once the search met the bracket: the rate where the model puts the
 * bracket's middle from P, a run at the rate found by a tool other than
 * the probes' (tools count loss differently near a knee), whose loss is
 * out of the bracket; 0 when the search did not meet it, when P is in it,
 * or when P tells nothing (nothing through, a collapse).
 */
double search_retarget(const struct search *s, const struct search_probe *p);

#endif
