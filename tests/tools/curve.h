/*
 * curve.h - loss curves for the UDP rate search's drivers
 * (tests/tools/search-dump.c, bench/udp-replay.c): lines "offered_kbps
 * received_Mbps loss_percent" sorted by offered rate, as
 * bench/udp-search.sh measures and keeps them, and the curve at any rate.
 */
#ifndef VMTP_TESTS_CURVE_H
#define VMTP_TESTS_CURVE_H

#include <math.h>
#include <stdio.h>

#define CURVE_MAX_POINTS 1024

struct curve_point {
	double offered, rx_mbps, loss;
};

struct curve {
	struct curve_point pts[CURVE_MAX_POINTS];
	int n;
};

/* Reads a curve from FP into C.  Returns its number of points. */
static inline int
curve_read(FILE *fp, struct curve *c)
{
	c->n = 0;
	while (c->n < CURVE_MAX_POINTS &&
	       fscanf(fp, "%lf %lf %lf", &c->pts[c->n].offered,
	           &c->pts[c->n].rx_mbps, &c->pts[c->n].loss) == 3)
		c->n++;
	return c->n;
}

/*
 * Curve C (of at least one point) at offered rate X (kbps): received
 * Mbit/s and loss.  Between two points by linear interpolation in
 * log(rate), or with STEPS the point at or under X; under the first
 * point the received rate scales with the offered one at the first loss;
 * over the last, the last point holds.
 */
static inline void
curve_at(
    const struct curve *c, int steps, double x, double *rx_mbps, double *loss)
{
	const struct curve_point *pts = c->pts;
	int i;
	double t;

	if (x <= pts[0].offered) {
		*rx_mbps = pts[0].rx_mbps * x / pts[0].offered;
		*loss = pts[0].loss;
		return;
	}
	for (i = 1; i < c->n; i++)
		if (x <= pts[i].offered)
			break;
	if (i == c->n || (steps && x < pts[i].offered)) {
		*rx_mbps = pts[i - 1].rx_mbps;
		*loss = pts[i - 1].loss;
		return;
	}
	if (steps) {
		*rx_mbps = pts[i].rx_mbps;
		*loss = pts[i].loss;
		return;
	}
	t = (log(x) - log(pts[i - 1].offered)) /
	    (log(pts[i].offered) - log(pts[i - 1].offered));
	*rx_mbps =
	    pts[i - 1].rx_mbps + t * (pts[i].rx_mbps - pts[i - 1].rx_mbps);
	*loss = pts[i - 1].loss + t * (pts[i].loss - pts[i - 1].loss);
}

#endif
