/*
 * parse.h - read the measurement tools' output into numbers (SPEC §4, §6):
 * nuttcp -fparse (6.x, and 8.x which adds cwnd=), iperf3 -J, and ping
 * (iputils and BusyBox).
 *
 * The parsers take the tool's whole stdout as bytes (not necessarily NUL
 * terminated, possibly binary garbage) and never read past LEN.  Output that
 * does not carry a result is an error whose message quotes its first line
 * (or the first line that says "Error"), so that it can become an `error`
 * sample as it is.  The nuttcp 8.x layout follows its published -fparse
 * form (interval and final lines gain cwnd=); the fixture is written from
 * it, as no 8.x build is at hand.
 */
#ifndef VMTP_PARSE_H
#define VMTP_PARSE_H

#include <stddef.h>

#include "libvmtp/err.h"

/* A throughput result; absent values are NAN (numbers) or -1 (counts). */
struct parse_tp {
	double mbps;       /* goodput at the receiver, Mbit/s */
	double loss_pct;   /* UDP loss, percent */
	double jitter_ms;  /* UDP jitter: iperf3's, nuttcp -j's msmaxjitter */
	long long retrans; /* TCP retransmissions */
	double rtt_ms;     /* TCP round-trip time seen by the sender */
	double *intervals; /* per-interval Mbit/s, malloc'd, N_INTERVALS long */
	size_t n_intervals;
};

/* A ping result; RTTs are NAN when no reply came back. */
struct parse_ping {
	long long tx;
	long long rx;
	double min_ms, avg_ms, max_ms, stddev_ms;
	double p50_ms, p99_ms; /* nearest-rank, over the per-reply times */
};

/*
 * Parses nuttcp -fparse output: interval lines (real_sec=) and the final
 * line (real_seconds=), TCP (retrans=, rtt_ms=, cwnd= in 8.x) or UDP and
 * multicast (data_loss=, and msmaxjitter= from nuttcp 7 and later's -j).
 * Fills *OUT and returns 0, or returns -1 with ERR set (VMTP_EXIT_FAIL,
 * "cannot parse nuttcp output: FIRST LINE"); *OUT then holds nothing to
 * free.
 */
int parse_nuttcp(
    const char *buf, size_t len, struct parse_tp *out, struct vmtp_err *err);

/*
 * Parses iperf3 -J output of a TCP or UDP client run (its "error" member
 * becomes the error message).  Same contract as parse_nuttcp().
 */
int parse_iperf3(
    const char *buf, size_t len, struct parse_tp *out, struct vmtp_err *err);

/*
 * Parses ping output, iputils or BusyBox; 100% loss is a result (rx 0,
 * RTTs NAN), not an error.  Returns 0 or -1 with ERR set as above.
 */
int parse_ping(
    const char *buf, size_t len, struct parse_ping *out, struct vmtp_err *err);

/* Frees what a parser allocated in TP; TP itself is the caller's. */
void parse_tp_free(struct parse_tp *tp);

#endif
