/*
 * search-dump.c - test driver for the UDP rate search (search.h; SPEC §8):
 * runs a search against a loss curve read from stdin and prints each probe
 * as one JSON object, then the outcome as one more.
 *
 * Input: lines "offered_kbps received_Mbps loss_percent" sorted by offered
 * rate, as bench/udp-search.sh keeps them.  A probe between two points is
 * read off the curve by linear interpolation in log(rate), or with -s as
 * a step (the point at or under its rate: a curve whose loss jumps between
 * neighbouring points without passing what lies between, as a loss that
 * varies from probe to probe does); under the first point the received
 * rate scales with the offered one at the first loss; over the last, the
 * last point holds (a sender that reached no further).
 * Usage: search-dump [-s] MIN MAX SIZE [CEILING_KBPS]; exit status 2 on
 * bad use, 65 on an empty curve.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/search.h"

#define MAX_POINTS 1024

struct point {
	double offered, rx_mbps, loss;
};

static void
curve(const struct point *pts, int n, int steps, double x, double *rx_mbps,
    double *loss)
{
	int i;
	double t;

	if (x <= pts[0].offered) {
		*rx_mbps = pts[0].rx_mbps * x / pts[0].offered;
		*loss = pts[0].loss;
		return;
	}
	for (i = 1; i < n; i++)
		if (x <= pts[i].offered)
			break;
	if (i == n || (steps && x < pts[i].offered)) {
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

static int
print_obj(json_t *obj)
{
	int rc = -1;

	if (obj != NULL && json_dumpf(obj, stdout, JSON_COMPACT) == 0 &&
	    putchar('\n') != EOF)
		rc = 0;
	json_decref(obj);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct point pts[MAX_POINTS];
	const struct search_probe *r;
	struct search s;
	double ceiling = 10e6;
	double x;
	int n = 0;
	int steps = 0;

	if (argc > 1 && strcmp(argv[1], "-s") == 0) {
		steps = 1;
		argc--;
		argv++;
	}
	if (argc != 4 && argc != 5) {
		fputs("usage: search-dump [-s] MIN MAX SIZE [CEILING_KBPS]\n",
		    stderr);
		return 2;
	}
	if (argc == 5)
		ceiling = atof(argv[4]);
	while (n < MAX_POINTS && scanf("%lf %lf %lf", &pts[n].offered,
	                             &pts[n].rx_mbps, &pts[n].loss) == 3)
		n++;
	if (n == 0) {
		fputs("search-dump: empty curve\n", stderr);
		return 65;
	}
	search_init(&s, ceiling, atof(argv[1]), atof(argv[2]), atoi(argv[3]));
	while ((x = search_next(&s)) > 0) {
		struct search_probe p;
		double rx, loss;

		curve(pts, n, steps, x, &rx, &loss);
		p.offered_kbps = x;
		p.rx_kbps = rx * 1000;
		p.loss = loss;
		p.index = s.probes;
		search_feed(&s, &p);
		if (print_obj(json_pack("{s:f, s:f, s:f}", "offered_kbps", x,
		        "rx_kbps", p.rx_kbps, "loss", loss)) < 0)
			return 1;
	}
	r = search_result(&s);
	if (print_obj(json_pack("{s:i, s:b, s:b, s:i, s:f, s:f, s:f}", "probes",
	        s.probes, "sender_limited", s.sender_limited, "loss_unstable",
	        s.unstable, "index", r == NULL ? -1 : r->index, "offered_kbps",
	        r == NULL ? 0.0 : r->offered_kbps, "rx_kbps",
	        r == NULL ? 0.0 : r->rx_kbps, "loss",
	        r == NULL ? 0.0 : r->loss)) < 0)
		return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}
