/*
 * search.c - the UDP rate search (see search.h for the model; SPEC §8).
 */
#include <math.h>

#include "libvmtp/search.h"

/* A probe whose sender reached less than this share of the offered rate
 * was limited by the sender, not by the path. */
#define SENDER_SHORT 0.8
/* Stop when under and over are this close (relative), divided by the
 * fragments of a datagram: the bracket's width in rate shrinks with them
 * (a fraction of a percent for 6), and an interval of 5 % would stop the
 * search where its next probe could still aim into it. */
#define CLOSE_ENOUGH 0.05
/* Beyond this loss per IP fragment, datagrams of several fragments stop
 * being reassembled at all (the receiver's reassembly memory fills with
 * incomplete ones) and what got through no longer tells the capacity. */
#define FRAG_COLLAPSE 0.35
/* A probe that lost more than this many times the bracket's top was far
 * over the knee. */
#define FAR_OVER 3
/* Two capacities further apart than this (relative) disagree. */
#define DISAGREE 0.1
/* A capacity that falls this much (relative) with the rate disagrees. */
#define SLOPE 0.03
/* Keep the next rate this far (relative) inside the open interval,
 * divided by the fragments of a datagram (as CLOSE_ENOUGH). */
#define INSIDE 0.005
/* Under and over closer than this share of the rates a knee needs to go
 * from the one's loss to the other's show a loss that varies from probe
 * to probe more than with the rate. */
#define STEEP_SHARE (2.0 / 3)
/* The probe after a pilot aims this loss per fragment over what it told. */
#define PILOT_OVER 0.03

/* IP fragments of a datagram of SIZE on a 1500-byte MTU path (IPv4,
 * UDP). */
static int
fragments(int size)
{
	return size > 1472 ? (size + 8 + 1479) / 1480 : 1;
}

/* Bytes on the wire of a datagram of SIZE: its UDP header, and an IPv4
 * and an Ethernet header per fragment. */
static double
wire_bytes(int size)
{
	return size + 8 + fragments(size) * (20 + 14);
}

void
search_init(
    struct search *s, double ceiling_kbps, double min, double max, int pkt_size)
{
	*s = (struct search){0};
	s->size = pkt_size;
	s->frags = fragments(pkt_size);
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

int
search_size(const struct search *s)
{
	return s->pilot ? SEARCH_PILOT_SIZE : s->size;
}

/* A datagram loss in percent as a loss per IP fragment, 0 to 1. */
static double
frag_loss(const struct search *s, double loss)
{
	if (loss >= 100)
		return 1;
	if (loss <= 0)
		return 0;
	return 1 - pow(1 - loss / 100, 1.0 / s->frags);
}

/*
 * What the sender really offered in a probe: the offered rate, unless it
 * fell short of it, then what was received plus what was lost (pacing and
 * counting differ between the ends, the loss ratio does not, so the
 * offered rate is the better base when the sender kept up).
 */
static double
sent(const struct search_probe *p)
{
	double x;

	if (p->loss >= 100)
		return p->offered_kbps;
	x = p->rx_kbps / (1 - p->loss / 100);
	return x < SENDER_SHORT * p->offered_kbps ? x : p->offered_kbps;
}

/*
 * The capacity a probe that lost packets tells (the model of search.h):
 * what got through of what was sent, per IP fragment.  Returns 0 when it
 * tells nothing: nothing through, a reassembly collapse, or a loss well
 * under the bracket (as likely the receiver missing a beat as the knee).
 */
static double
capacity(const struct search *s, const struct search_probe *p)
{
	double f = frag_loss(s, p->loss);

	if (p->loss < s->min / 2 || f <= 0 || f >= 1 || p->rx_kbps <= 0)
		return 0;
	if (s->frags > 1 && f > FRAG_COLLAPSE)
		return 0;
	return sent(p) * (1 - f);
}

/* The rate the knee is known to be over: the under's, or a pilot's
 * floor over it; 0 when none is known. */
static double
lower(const struct search *s)
{
	double lo = s->have_under ? s->under.offered_kbps : 0;

	return s->pilot_floor && s->pilot_kbps > lo ? s->pilot_kbps : lo;
}

/* Whether rate X lies inside the open interval the probes left. */
static int
inside(const struct search *s, double x)
{
	double lo = lower(s);
	double in = INSIDE / s->frags;

	return x > lo * (1 + in) && x < s->over.offered_kbps * (1 - in);
}

/*
 * The rate where the loss per fragment would be F, on the line through
 * probes A and B in (log rate sent, loss per fragment), or 0 when that line
 * does not rise with the rate or one of them had its reassembly collapse.
 */
static double
secant(const struct search *s, const struct search_probe *a,
    const struct search_probe *b, double f)
{
	double fa = frag_loss(s, a->loss);
	double fb = frag_loss(s, b->loss);
	double la = log(sent(a));
	double lb = log(sent(b));

	if (s->frags > 1 && (fa > FRAG_COLLAPSE || fb > FRAG_COLLAPSE))
		return 0;
	if ((fb - fa) * (lb - la) <= 0)
		return 0;
	return exp(lb + (f - fb) * (lb - la) / (fb - fa));
}

/* The next rate from what is known, or 0 when nothing is left to try;
 * notes in S the one step it takes once. */
static double
choose(struct search *s, const struct search_probe *last)
{
	double lo = lower(s);
	double hi = s->over.offered_kbps;
	double c = capacity(s, last);
	double c_prev = s->have_prev ? capacity(s, &s->prev) : 0;
	double aim, f, fu, r, x;
	struct search_probe u;
	int near;

	if (s->have_under && hi - lo <= CLOSE_ENOUGH / s->frags * hi)
		return 0;
	/* a capacity measured far over the knee misses what the path's
	 * queues deliver after the sender stops, up to a few percent of a
	 * short probe, and one measured under it (or from the under's rate
	 * below) counts losses that are not the knee's: such estimates err
	 * low, so aim high in the bracket, where an error of that size still
	 * lands inside; from a probe just over the knee, aim at the middle */
	if (last->loss > s->max && last->loss <= FAR_OVER * s->max)
		aim = (s->min + s->max) / 2;
	else
		aim = s->max - (s->max - s->min) / 4;
	f = frag_loss(s, aim);
	/* two probes that disagree on the capacity show a loss rising
	 * gradually, not a knee: follow the slope through them.  Nearer a
	 * knee a probe tells the same capacity or more (the queues' share
	 * grows), so of two probes near each other, one that tells less
	 * nearer the knee disagrees even by a little */
	r = c_prev > 0 ? (c - c_prev) / c_prev : 0;
	if (last->offered_kbps < s->prev.offered_kbps)
		r = -r;
	near = last->offered_kbps < 2 * s->prev.offered_kbps &&
	       s->prev.offered_kbps < 2 * last->offered_kbps;
	if (c > 0 && c_prev > 0 &&
	    (fabs(r) > DISAGREE || (near && r > SLOPE))) {
		x = secant(s, &s->prev, last, f);
		/* a line through two noisy probes far over a knee can fall
		 * steeply enough to point at nothing: no more than a decade
		 * under the lower capacity at once */
		if (x > 0 && x < fmin(c, c_prev) / 10)
			x = fmin(c, c_prev) / 10;
		if (inside(s, x))
			return x;
	}
	if (c > 0 && inside(s, c / (1 - f)))
		return c / (1 - f);
	/* nothing got through, or too little to tell: a decade down from
	 * what the sender offered */
	if (lo <= 0)
		return sent(&s->over) / 10;
	/* the under, or a pilot's floor over it: there nothing was lost */
	u = s->under;
	if (!s->have_under || u.offered_kbps < lo)
		u = (struct search_probe){lo, lo, 0, -1};
	/* the over's capacity put the bracket under the under, which lost
	 * (next to) nothing: the capacity is at least the under's rate, and
	 * the estimate was low, as one from far over the knee is; aim just
	 * over the under, where the knee would be the nearest; unless that
	 * step is under the resolution the search stops at (the bracket of
	 * a datagram of many fragments is a fraction of a percent wide).
	 * Once only: an estimate that erred low twice erred by more than
	 * such steps make up for, and the interval is halved instead */
	fu = u.loss < s->min / 2 ? 0 : frag_loss(s, u.loss);
	c = capacity(s, &s->over);
	x = lo * (1 - fu) / (1 - f);
	if (!s->crept && c > 0 && c / (1 - f) <= lo &&
	    x >= lo * (1 + CLOSE_ENOUGH / 2) && inside(s, x)) {
		s->crept = 1;
		return x;
	}
	/* the over's capacity points inside the interval, where no probe
	 * went yet (the under came from another rule) */
	if (c > 0 && inside(s, c / (1 - f)))
		return c / (1 - f);
	/* an under just over a pilot's capacity, which errs low as one from
	 * far over the knee does, or one that lost a little just over its
	 * floor (the knee's onset): the knee is a little further; once */
	x = lo / (1 - PILOT_OVER);
	if (!s->crept && s->pilot_kbps > 0 && (!s->pilot_floor || u.loss > 0) &&
	    lo >= s->pilot_kbps && x <= s->pilot_kbps / (1 - 2 * PILOT_OVER) &&
	    inside(s, x)) {
		s->crept = 1;
		return x;
	}
	/* over a wide interval, halve it in log(rate) */
	if (hi > 2 * lo)
		return sqrt(lo * hi);
	/* interpolate the loss per fragment between under and over; an
	 * under with a loss well under the bracket only tells that the knee
	 * is above it, not how far: then stay off the interval's ends */
	if (u.loss < s->min / 2) {
		u.loss = 0;
		x = secant(s, &u, &s->over, f);
		if (x > 0 && x < lo + (hi - lo) / 4)
			x = lo + (hi - lo) / 4;
		if (x > hi - (hi - lo) / 4)
			x = hi - (hi - lo) / 4;
	} else {
		x = secant(s, &u, &s->over, f);
	}
	if (inside(s, x))
		return x;
	return (lo + hi) / 2;
}

/*
 * Whether the under and over are closer than a knee allows: on the model
 * of search.h, a knee at C loses 1 - C/x per fragment at x > C, so going
 * from the under's loss per fragment fu to the over's fo takes a rate
 * ratio of at least (1 - fu) / (1 - fo) (a queue only widens it).  Under
 * and over much closer than that lost what no knee loses: the loss is too
 * random there for any rate to stay in the bracket.  An over whose
 * reassembly collapsed tells nothing of the kind.
 */
static int
too_steep(const struct search *s)
{
	double fu = frag_loss(s, s->under.loss);
	double fo = frag_loss(s, s->over.loss);
	double need;

	if (fo >= 1 || (s->frags > 1 && fo > FRAG_COLLAPSE))
		return 0;
	need = (1 - fu) / (1 - fo) - 1;
	return s->over.offered_kbps <
	       s->under.offered_kbps * (1 + STEEP_SHARE * need);
}

/*
 * The rate of the one probe that confirms a loss too steep for a knee:
 * between under and over where the loss per fragment would be the
 * bracket's middle, or halfway when that is not inside.
 */
static double
confirm(const struct search *s)
{
	double x =
	    secant(s, &s->under, &s->over, frag_loss(s, (s->min + s->max) / 2));

	if (inside(s, x))
		return x;
	return (s->under.offered_kbps + s->over.offered_kbps) / 2;
}

/*
 * Whether the over Q, at a lower rate than the lowest over so far, lost
 * as much per fragment: a knee loses less the less is offered (a collapse
 * of reassembly tells nothing of the kind).
 */
static int
lost_as_much(const struct search *s, const struct search_probe *q)
{
	double fq = frag_loss(s, q->loss);
	double fo = frag_loss(s, s->over.loss);

	if (s->frags > 1 && (fq > FRAG_COLLAPSE || fo > FRAG_COLLAPSE))
		return 0;
	return q->offered_kbps < s->over.offered_kbps * (1 - INSIDE) &&
	       fq >= fo && fq < 1;
}

/*
 * Ends the search without a probe in the bracket: unstable when a probe
 * confirmed under and over too close for a knee and they still are.
 */
static void
search_end(struct search *s)
{
	s->done = 1;
	if (s->confirmed && s->have_under && s->have_over && too_steep(s))
		s->unstable = 1;
}

/*
 * Takes the pilot P (datagrams of SEARCH_PILOT_SIZE, one fragment each):
 * what it tells of the capacity, converted to this size's payload by the
 * bytes each takes on the wire.  Returns the next rate, or 0.
 */
static double
pilot_feed(struct search *s, const struct search_probe *p)
{
	double k = wire_bytes(SEARCH_PILOT_SIZE) / SEARCH_PILOT_SIZE * s->size /
	           wire_bytes(s->size);
	double x;

	s->pilot = 0;
	s->piloted = 1;
	if (p->loss < s->min / 2) {
		s->pilot_kbps = sent(p) * k;
		s->pilot_floor = 1;
	} else if (p->loss < 100 && p->rx_kbps > 0) {
		s->pilot_kbps = sent(p) * (1 - p->loss / 100) * k;
	}
	x = s->pilot_kbps / (1 - PILOT_OVER);
	if (s->pilot_kbps > 0 && inside(s, x))
		return x;
	/* nothing through: as from the collapse, without a pilot */
	return choose(s, &s->prev);
}

void
search_feed(struct search *s, const struct search_probe *p)
{
	s->probes++;
	if (s->pilot) {
		s->next_kbps = pilot_feed(s, p);
		if (s->probes >= SEARCH_MAX_PROBES || s->next_kbps <= 0)
			search_end(s);
		return;
	}
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
			    sent(p) < SENDER_SHORT * p->offered_kbps;
			s->done = 1;
			return;
		}
	} else {
		struct search_probe q = *p;

		/* what a short sender really offered bounds the search */
		q.offered_kbps = sent(p);
		if (s->have_over && lost_as_much(s, &q))
			s->flat++;
		if (!s->have_over || q.offered_kbps < s->over.offered_kbps)
			s->over = q;
		s->have_over = 1;
		/* twice a lower rate lost as much: what the path loses does
		 * not follow the rate there */
		if (s->flat >= 2) {
			s->unstable = 1;
			s->done = 1;
			return;
		}
	}
	if (s->probes >= SEARCH_MAX_PROBES) {
		search_end(s);
		return;
	}
	/* under and over with losses no knee has so close together: one
	 * more probe between them, where a knee would meet the bracket,
	 * before the search says no rate stays in it */
	if (s->have_under && s->have_over && too_steep(s)) {
		if (s->confirmed) {
			search_end(s);
			return;
		}
		s->confirmed = 1;
		s->next_kbps = confirm(s);
	} else if (s->frags > 1 && !s->piloted && p->loss > s->max &&
	           frag_loss(s, p->loss) > FRAG_COLLAPSE) {
		/* a collapse tells only that the knee is lower: the pilot,
		 * at the rate the collapsed probe sent */
		s->pilot = 1;
		s->next_kbps = s->over.offered_kbps;
	} else {
		s->next_kbps = choose(s, p);
	}
	s->prev = *p;
	s->have_prev = 1;
	if (s->next_kbps <= 0)
		search_end(s);
}

double
search_retarget(const struct search *s, const struct search_probe *p)
{
	double fp = frag_loss(s, p->loss);
	double f = frag_loss(s, (s->min + s->max) / 2);

	if (!s->have_hit || (p->loss >= s->min && p->loss <= s->max) ||
	    p->loss >= 100 || p->rx_kbps <= 0 ||
	    (s->frags > 1 && fp > FRAG_COLLAPSE))
		return 0;
	/* over the bracket, the capacity P tells; under it, a knee right
	 * at P's rate */
	return sent(p) * (1 - fp) / (1 - f);
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
