/*
 * mesh-dump.c - test driver for the rounds of a mesh (libvmtp/mesh.h):
 * prints, for N hosts, the number of rounds, then one line "round a b"
 * per pair.
 */
#include <stdio.h>
#include <stdlib.h>

#include "libvmtp/mesh.h"

int
main(int argc, char **argv)
{
	struct mesh_pair *v;
	int n, count, i;

	if (argc != 2 || (n = atoi(argv[1])) < 0 || n > 4096) {
		fputs("usage: mesh-dump N (0..4096)\n", stderr);
		return 2;
	}
	v = calloc((size_t)n * (size_t)(n > 0 ? n - 1 : 0) / 2 + 1, sizeof(*v));
	if (v == NULL)
		return 1;
	count = mesh_pairs(n, v);
	printf("rounds %d\n", mesh_round_count(n));
	for (i = 0; i < count; i++)
		printf("%d %d %d\n", v[i].round, v[i].a, v[i].b);
	free(v);
	return 0;
}
