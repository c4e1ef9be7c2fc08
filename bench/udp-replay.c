/*
 * udp-replay.c - replays UDP rate searches on a measured loss curve
 * (bench/udp-search.sh; SPEC §8): vmtp's search (libvmtp search.h) and the
 * original tool's published bisection (vmtp perf_tool.py find_udp_bdw:
 * start at 5 Gbit/s, retarget when the measured rate is under 80% of the
 * requested one, stop when min/max are within 5%; its "measured" figure is
 * Mbit/s x 1024 against a requested rate in kbit/s, kept as it was).
 *
 * Input (stdin): lines "offered_kbps received_Mbps loss_percent", as
 * measured on a path, sorted by offered rate.  A probe at a rate between
 * two points is read off the curve by linear interpolation in log(rate);
 * outside it the nearest point holds.
 * A pilot probe of vmtp's search (datagrams of SEARCH_PILOT_SIZE) is read
 * off the curve in file PILOT, measured with that size on the same path.
 * Usage: udp-replay MIN MAX SIZE [PILOT]; prints "vmtp PROBES LOSS INBRACKET
 * SAID" (SAID 1 when the search said why its loss is out of the bracket:
 * no rate stays in it, or the sender was the limit) and "orig PROBES LOSS
 * INBRACKET 0"; exits 2 on bad use or a pilot probe without PILOT.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "libvmtp/search.h"

#include "curve.h"

#define ORIG_MAX_PROBES 50

static struct curve own, pilot;

/* The path's own curve at offered rate X (kbps). */
static void
curve(double x, double *rx_mbps, double *loss)
{
	curve_at(&own, 0, x, rx_mbps, loss);
}

static void
replay_vmtp(double lmin, double lmax, int size)
{
	struct search s;
	const struct search_probe *r;
	double x;

	search_init(&s, 10e6, lmin, lmax, size);
	while ((x = search_next(&s)) > 0) {
		struct search_probe p;
		double rx, loss;

		if (search_size(&s) != size) {
			if (pilot.n == 0) {
				fputs("udp-replay: a pilot probe, and no PILOT "
				      "curve\n",
				    stderr);
				exit(2);
			}
			curve_at(&pilot, 0, x, &rx, &loss);
		} else {
			curve(x, &rx, &loss);
		}
		p.offered_kbps = x;
		p.rx_kbps = rx * 1000;
		p.loss = loss;
		p.index = s.probes;
		search_feed(&s, &p);
	}
	r = search_result(&s);
	printf("vmtp %d %.3f %d %d\n", s.probes, r->loss,
	    r->loss >= lmin && r->loss <= lmax, s.unstable || s.sender_limited);
}

static void
replay_orig(double lmin, double lmax)
{
	double min_kbps = 1, max_kbps = 10000000, kbps = 5000000;
	double loss = 0, rx;
	int probes = 0;

	while (min_kbps * 100 / max_kbps < 95 && probes < ORIG_MAX_PROBES) {
		double measured;

		curve(kbps, &rx, &loss);
		probes++;
		measured = floor(rx * 1024);
		if (measured * 100 / kbps < 80) {
			kbps = measured + (kbps - measured) / 2;
			if (measured > 0 && measured * 3 < kbps)
				kbps = measured * 3;
			max_kbps = kbps;
			continue;
		}
		if (loss < lmin) {
			if (measured > min_kbps)
				min_kbps = measured;
			else
				min_kbps = floor((max_kbps + min_kbps) / 2);
			kbps = floor((max_kbps + min_kbps) / 2);
		} else if (loss > lmax) {
			max_kbps = kbps;
			if (measured < kbps)
				kbps = measured;
			else
				kbps = floor((max_kbps + min_kbps) / 2);
		} else {
			break;
		}
	}
	printf(
	    "orig %d %.3f %d 0\n", probes, loss, loss >= lmin && loss <= lmax);
}

int
main(int argc, char **argv)
{
	double lmin, lmax;

	if (argc != 4 && argc != 5)
		return 2;
	lmin = atof(argv[1]);
	lmax = atof(argv[2]);
	if (argc == 5) {
		FILE *fp = fopen(argv[4], "r");

		if (fp == NULL || curve_read(fp, &pilot) == 0)
			return 1;
		fclose(fp);
	}
	if (curve_read(stdin, &own) == 0)
		return 1;
	replay_vmtp(lmin, lmax, atoi(argv[3]));
	replay_orig(lmin, lmax);
	return 0;
}
