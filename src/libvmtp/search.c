/*
 * search.c - the UDP rate search (see search.h; SPEC §8).
 */
#include "libvmtp/search.h"

/* A probe whose sender reached less than this share of the offered rate
 * was limited by the sender, not by the path. */
#define SENDER_SHORT 0.8
/* Stop bisecting when under and over are this close (relative). */
#define CLOSE_ENOUGH 0.05

void
search_init(struct search *s, double ceiling_kbps, double min, double max)
{
	*s = (struct search){0};
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

/* The next rate from what is known, or 0 when nothing is left to try. */
static double
choose(const struct search *s, const struct search_probe *last)
{
	double mid = (s->min + s->max) / 200.0;
	double lo = s->have_under ? s->under.offered_kbps : 0;
	double hi = s->over.offered_kbps;
	double x;

	if (s->have_under && hi - lo <= CLOSE_ENOUGH * hi)
		return 0;
	/* an overshooting probe received about the path's capacity: offer
	 * what loses the middle of the bracket at that capacity */
	if (last->loss > s->max && last->rx_kbps > 0) {
		x = last->rx_kbps / (1.0 - mid);
		if (x > lo * (1 + CLOSE_ENOUGH / 2) &&
		    x < hi * (1 - CLOSE_ENOUGH / 2))
			return x;
	}
	if (!s->have_under) {
		/* nothing under yet: aim well below the last overshoot */
		x = last->rx_kbps > 0 ? last->rx_kbps * (1 - mid) : hi / 2;
		return x < hi * (1 - CLOSE_ENOUGH) ? x : hi / 2;
	}
	return (lo + hi) / 2;
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
		if (!s->have_over || p->offered_kbps < s->over.offered_kbps)
			s->over = *p;
		s->have_over = 1;
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
