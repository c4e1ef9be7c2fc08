/*
 * mesh.h - the rounds of a mesh of N hosts (vmtp-provision --mesh; SPEC §4
 * flow "round"): every pair of hosts is measured once in each direction,
 * and the flows of one round may run at once, so no host may be in two
 * pairs of a round.  A round-robin tournament (the circle method) gives
 * that in N - 1 rounds for an even N, N for an odd one (a host sits each
 * round out); both directions of a pair share its round.
 */
#ifndef VMTP_MESH_H
#define VMTP_MESH_H

/* One pair of hosts (numbered 0..N-1) and its round (1..). */
struct mesh_pair {
	int round;
	int a, b;
};

/*
 * Returns the number of rounds for N hosts: N - 1 for an even N, N for an
 * odd one, 0 for N < 2.
 */
int mesh_round_count(int n);

/*
 * Fills OUT, which has room for N * (N - 1) / 2 pairs, with every pair of N
 * hosts, round by round (rounds 1 to mesh_round_count(N)); no host is in
 * two pairs of a round.  Returns the number of pairs written.
 */
int mesh_pairs(int n, struct mesh_pair *out);

#endif
