/*
 * mesh.h - a mesh result (vmtp-provision --mesh: flows that have a
 * "round") as a sender x receiver matrix: TCP throughput and ICMP RTT per
 * pair of hosts, the pairs below a threshold marked, and the hosts ranked
 * worst first (issue 17; vmtp-chart(1)).
 *
 * A host is named by the host part of its placement ("compute-2" of
 * "nova:compute-2"), or by its address when the document has no host in
 * its placement (native hosts; a zone alone, as a member sees it).  The
 * worst hosts are found in turn: the one with the most low pairs not yet
 * explained (low both as sender and as receiver first), while it explains
 * two or more; a low pair left over is named as a pair.  A pair's TCP
 * figure is the mean throughput of its forward TCP results; its RTT the
 * mean average RTT of its ICMP results at the smallest packet size
 * measured.
 */
#ifndef VMTP_CHART_MESH_H
#define VMTP_CHART_MESH_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"

/* The default threshold: a pair below this share of the median is low. */
#define MESH_LOW_DEFAULT 0.8

/* Decimals of a pair's figure, in the text and HTML alike. */
#define MESH_GBPS_DECIMALS 2
#define MESH_RTT_DECIMALS 3

struct chart_mesh {
	size_t n;
	char **hosts;       /* n names, in natural order */
	double *gbps;       /* n * n: [sender * n + receiver], NAN: none */
	double *rtt_ms;     /* n * n, as gbps */
	double median;      /* of the pairs' Gbps */
	double low_at;      /* the threshold, Gbps: median x the share */
	double share;       /* the share of the median (0.8) */
	unsigned char *low; /* n * n: measured and below low_at */
	int *low_out;       /* per host: low pairs as sender */
	int *low_in;        /* per host: low pairs as receiver */
	size_t nworst;
	size_t *worst; /* the hosts that explain the low pairs, worst first */
	size_t npairs;
	size_t *pairs; /* low pairs no worst host explains: sender * n +
	                  receiver */
};

/* The hosts of a document's mesh flows (those with a round) and their
 * smallest ICMP packet size, gathered one flow at a time
 * (chart_mesh_scan_flow()) in a pass over the flows that is made anyway;
 * zeroed to begin. */
struct chart_mesh_scan {
	json_t *hosts; /* name -> null, or NULL before the first */
	long long icmp_size;
	int has_icmp_size;
};

/* Adds FLOW (borrowed) to S.  Returns 0, or -1 when out of memory. */
int chart_mesh_scan_flow(struct chart_mesh_scan *s, const json_t *flow);

/* Frees what S holds, and zeroes it. */
void chart_mesh_scan_clear(struct chart_mesh_scan *s);

/*
 * Builds the mesh of DOC (a normalized result document) from SCAN, every
 * flow of DOC scanned, with the threshold SHARE of the median (0 < SHARE
 * <= 1).  Returns it, NULL with ERR untouched when DOC is not a mesh (no
 * flow has a round, or fewer than two hosts), or NULL with ERR set when
 * out of memory.
 */
struct chart_mesh *chart_mesh_new(const json_t *doc,
    const struct chart_mesh_scan *scan, double share, struct vmtp_err *err);

/* Frees M; NULL is allowed. */
void chart_mesh_free(struct chart_mesh *m);

/* Whether M has an RTT figure for some pair. */
int chart_mesh_has_rtt(const struct chart_mesh *m);

/*
 * Says M's worst hosts and leftover low pairs as the text format prints
 * them after "Worst hosts:" and "Low pairs:": stores in *WORST a new
 * string ("compute-3 (low as sender 4 of 4, as receiver 4 of 4); ..." or
 * "none ...") and in *PAIRS a new string ("a -> b, c -> d"), or NULL when
 * no pair is left over.  Returns 0, or -1 with ERR set (out of memory),
 * both then NULL.
 */
int chart_mesh_summary(const struct chart_mesh *m, char **worst, char **pairs,
    struct vmtp_err *err);

/*
 * Writes M as terminal text to FP: with TCP the TCP matrix (a low pair
 * marked '*'), with RTT the RTT matrix when there is one, then with TCP
 * the worst hosts and the low pairs they do not explain.  Returns 0, or
 * -1 with ERR set when writing fails.
 */
int chart_mesh_text(FILE *fp, const struct chart_mesh *m, int tcp, int rtt,
    struct vmtp_err *err);

#endif
