/*
 * search.c - the UDP rate search (see search.h; SPEC §8).
 */
#include <math.h>

#include "libvmtp/search.h"

/* A probe whose sender reached less than this share of the offered rate
 * was limited by the sender, not by the path. */
#define SENDER_SHORT 0.8
/* Stop bisecting when under and over are this close (relative). */
#define CLOSE_ENOUGH 0.05

void
search_init(
    struct search *s, double ceiling_kbps, double min, double max, int pkt_size)
{
	*s = (struct search){0};
	/* fragments of a datagram on a 1500-byte MTU path (IPv4, UDP) */
	s->frags = pkt_size > 1472 ? (pkt_size + 8 + 1479) / 1480 : 1;
	s->ceiling_kbps = ceiling_kbps;
	s->min = min;
	s->max = max;
	s->next_kbps = ceiling_kbps;
}

double
search_next(const struct search *s)
{
	return s->done ? 0 : s->next_kbps;
}

/*
 * The capacity a probe with loss tells: what got through of what was
 * really sent.  A sender that fell short of the offered rate sent about
 * rx / (1 - loss); otherwise the offered rate is a better base than the
 * receiver's own rate figure (pacing and counting differ between the ends,
 * the loss ratio does not).  A datagram of k IP fragments is lost when any
 * fragment is, so the path lost 1 - (1 - loss)^(1/k) of the packets it
 * carried.  Returns 0 when nothing got through.
 */
static double
capacity(const struct search *s, const struct search_probe *p)
{
	double kept = 1 - p->loss / 100;
	double sent;
	double base;

	if (kept <= 0 || p->rx_kbps <= 0)
		return 0;
	sent = p->rx_kbps / kept;
	base = sent < SENDER_SHORT * p->offered_kbps ? sent : p->offered_kbps;
	return base * pow(kept, 1.0 / s->frags);
}

/* The next rate from what is known, or 0 when nothing is left to try. */
static double
choose(const struct search *s, const struct search_probe *last)
{
	/* the middle of the bracket; once a probe aimed there overshot too,
	 * the loss curve is steeper than 1 - C/x near the knee: aim low */
	double aim = s->n_over >= 2 ? s->min + (s->max - s->min) / 4
	                            : (s->min + s->max) / 2;
	/* as a loss per IP fragment */
	double mid = 1 - pow(1 - aim / 100.0, 1.0 / s->frags);
	double lo = s->have_under ? s->under.offered_kbps : 0;
	double hi = s->over.offered_kbps;
	double c = last->loss > 0 ? capacity(s, last) : 0;
	double x;

	if (s->have_under && hi - lo <= CLOSE_ENOUGH * hi)
		return 0;
	/* a probe that lost packets measured the path's capacity: offer
	 * what loses the middle of the bracket at that capacity */
	if (c > 0) {
		x = c / (1.0 - mid);
		if (x > lo * 1.005 && x < hi * 0.995)
			return x;
	}
	if (!s->have_under) {
		/* nothing under yet: below the capacity seen, or a decade
		 * down when nothing got through */
		x = c > 0 ? c * (1 - mid) : hi / 10;
		return x < hi * (1 - CLOSE_ENOUGH) ? x : hi / 2;
	}
	/* bisect, geometrically while the interval spans more than 2x */
	return hi > 2 * lo ? sqrt(lo * hi) : (lo + hi) / 2;
}

void
search_feed(struct search *s, const struct search_probe *p)
{
	double sent = p->loss < 100 ? p->rx_kbps / (1 - p->loss / 100) : 0;

	s->probes++;
	if (p->loss >= s->min && p->loss <= s->max) {
		s->hit = *p;
		s->have_hit = 1;
		s->done = 1;
		return;
	}
	if (p->loss < s->min) {
		if (!s->have_under || p->offered_kbps > s->under.offered_kbps)
			s->under = *p;
		s->have_under = 1;
		if (!s->have_over) {
			/* the ceiling itself is under the bracket */
			s->sender_limited =
			    sent < SENDER_SHORT * p->offered_kbps;
			s->done = 1;
			return;
		}
	} else {
		struct search_probe q = *p;

		/* what a short sender really offered bounds the search */
		if (sent > 0 && sent < q.offered_kbps)
			q.offered_kbps = sent;
		if (!s->have_over || q.offered_kbps < s->over.offered_kbps)
			s->over = q;
		s->have_over = 1;
		s->n_over++;
	}
	if (s->probes >= SEARCH_MAX_PROBES) {
		s->done = 1;
		return;
	}
	s->next_kbps = choose(s, p);
	if (s->next_kbps <= 0)
		s->done = 1;
}

const struct search_probe *
search_result(const struct search *s)
{
	if (s->have_hit)
		return &s->hit;
	if (s->have_under)
		return &s->under;
	if (s->have_over)
		return &s->over;
	return 0;
}
