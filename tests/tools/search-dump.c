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
 * A pilot probe (datagrams of SEARCH_PILOT_SIZE) is read off the curve of
 * file PILOT (-p), measured with that size on the same path.  With -f
 * FINAL, a search that met the bracket is followed by a run of another
 * tool at the rate found, read off FINAL (that tool's curve of the same
 * path), and when its loss is out of the bracket and a probe is left, one
 * more at search_retarget()'s rate: each printed with "final": true
 * before the outcome.
 * Usage: search-dump [-s] [-p PILOT] [-f FINAL] MIN MAX SIZE
 * [CEILING_KBPS]; exit
 * status 2 on bad use or a pilot without -p, 65 on an empty or unreadable
 * curve.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/search.h"

#include "curve.h"

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
	static struct curve own, pilot, final;
	const struct search_probe *r;
	struct search s;
	double ceiling = 10e6;
	double x;
	int steps = 0;
	int opt;

	while ((opt = getopt(argc, argv, "sp:f:")) != -1) {
		FILE *fp;

		switch (opt) {
		case 's':
			steps = 1;
			break;
		case 'p':
		case 'f':
			fp = fopen(optarg, "r");
			if (fp == NULL ||
			    curve_read(fp, opt == 'p' ? &pilot : &final) == 0) {
				fprintf(stderr, "search-dump: %s: no curve\n",
				    optarg);
				return 65;
			}
			fclose(fp);
			break;
		default:
			return 2;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 4 && argc != 5) {
		fputs("usage: search-dump [-s] [-p PILOT] [-f FINAL] MIN MAX "
		      "SIZE [CEILING_KBPS]\n",
		    stderr);
		return 2;
	}
	if (argc == 5)
		ceiling = atof(argv[4]);
	if (curve_read(stdin, &own) == 0) {
		fputs("search-dump: empty curve\n", stderr);
		return 65;
	}
	search_init(&s, ceiling, atof(argv[1]), atof(argv[2]), atoi(argv[3]));
	while ((x = search_next(&s)) > 0) {
		struct search_probe p;
		int size = search_size(&s);
		int is_pilot = size != s.size;
		double rx, loss;

		if (is_pilot && pilot.n == 0) {
			fputs("search-dump: a pilot probe, and no -p curve\n",
			    stderr);
			return 2;
		}
		curve_at(is_pilot ? &pilot : &own, steps, x, &rx, &loss);
		p.offered_kbps = x;
		p.rx_kbps = rx * 1000;
		p.loss = loss;
		p.index = s.probes;
		search_feed(&s, &p);
		if (print_obj(json_pack("{s:f, s:f, s:f, s:i}", "offered_kbps",
		        x, "rx_kbps", p.rx_kbps, "loss", loss, "size", size)) <
		    0)
			return 1;
	}
	r = search_result(&s);
	if (final.n > 0 && s.have_hit) {
		struct search_probe p = s.hit;
		int k;

		/* the run at the rate found, then at most one more */
		for (k = 0; k < 2 && p.offered_kbps > 0; k++) {
			double rx, loss;

			curve_at(&final, steps, p.offered_kbps, &rx, &loss);
			p.rx_kbps = rx * 1000;
			p.loss = loss;
			if (print_obj(json_pack("{s:f, s:f, s:f, s:b}",
			        "offered_kbps", p.offered_kbps, "rx_kbps",
			        p.rx_kbps, "loss", loss, "final", 1)) < 0)
				return 1;
			p.offered_kbps = k == 0 && s.probes < SEARCH_MAX_PROBES
			                     ? search_retarget(&s, &p)
			                     : 0;
		}
	}
	if (print_obj(json_pack("{s:i, s:b, s:b, s:i, s:f, s:f, s:f}", "probes",
	        s.probes, "sender_limited", s.sender_limited, "loss_unstable",
	        s.unstable, "index", r == NULL ? -1 : r->index, "offered_kbps",
	        r == NULL ? 0.0 : r->offered_kbps, "rx_kbps",
	        r == NULL ? 0.0 : r->rx_kbps, "loss",
	        r == NULL ? 0.0 : r->loss)) < 0)
		return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}
