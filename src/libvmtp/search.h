/*
 * search.h - the UDP rate search of SPEC §8: the highest offered rate
 * whose loss lies within [min, max] percent, in few short probes.
 *
 * The caller probes and feeds each result back; the search only decides.
 * It starts at the ceiling; a probe that lost packets tells the path's
 * capacity C (what got through of what was sent, per IP fragment), and the
 * next rate aims at the middle of the bracket (C / (1 - mid)); a probe
 * where nothing got through sends the next a decade lower; otherwise it
 * bisects between the highest rate under the bracket and the lowest over
 * it, until the bracket is met, the interval is within 5 %, or
 * SEARCH_MAX_PROBES were spent.  A first probe
 * under the bracket ends the search: nothing faster can be offered (when
 * the sender fell short of the offered rate, the sender was the limit).
 */
#ifndef VMTP_SEARCH_H
#define VMTP_SEARCH_H

#define SEARCH_MAX_PROBES 5

struct search_probe {
	double offered_kbps;
	double rx_kbps; /* received rate */
	double loss;    /* percent */
	int index;      /* caller's tag, e.g. where its sample is kept */
};

struct search {
	double ceiling_kbps;
	double min, max;    /* loss bracket, percent */
	int frags;          /* IP fragments per datagram */
	int probes;         /* fed so far */
	int done;           /* search_next() returns 0 */
	int sender_limited; /* the first probe could not be sent */
	int have_under, have_over;
	int n_over;                /* probes over the bracket */
	struct search_probe under; /* highest rate with loss < min */
	struct search_probe over;  /* lowest rate with loss > max */
	struct search_probe hit;   /* a probe inside the bracket */
	int have_hit;
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

/* Feeds the result of a probe at search_next()'s rate. */
void search_feed(struct search *s, const struct search_probe *p);

/*
 * The probe to report once the search is over: the one inside the
 * bracket, else the highest under it, else the lowest over it.
 */
const struct search_probe *search_result(const struct search *s);

#endif
