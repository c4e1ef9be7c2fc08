/*
 * mesh.c - the rounds of a mesh: a round-robin tournament (see mesh.h).
 */
#include "mesh.h"

int
mesh_round_count(int n)
{
	if (n < 2)
		return 0;
	return n % 2 == 0 ? n - 1 : n;
}

/*
 * The circle method: seats 0..m-1 (m even; for an odd N the last seat is
 * empty, a bye).  Seat 0 stays; the others turn one place each round.  In
 * a round, seat i meets seat m-1-i.
 */
int
mesh_pairs(int n, struct mesh_pair *out)
{
	int m = n % 2 == 0 ? n : n + 1;
	int rounds = mesh_round_count(n);
	int count = 0;
	int r, i;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < m / 2; i++) {
			/* the host in seat s this round: 0 stays, the others
			 * turn through 1..m-1 */
			int s1 = i;
			int s2 = m - 1 - i;
			int h1 = s1 == 0 ? 0 : 1 + (s1 - 1 + r) % (m - 1);
			int h2 = 1 + (s2 - 1 + r) % (m - 1);

			if (h1 >= n || h2 >= n)
				continue; /* the bye */
			out[count].round = r + 1;
			out[count].a = h1 < h2 ? h1 : h2;
			out[count].b = h1 < h2 ? h2 : h1;
			count++;
		}
	}
	return count;
}
