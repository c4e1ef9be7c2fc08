/*
 * array.h - arrays that grow one element at a time, their capacity
 * derived from their length: a power of two, doubled when full.
 */
#ifndef VMTP_ARRAY_H
#define VMTP_ARRAY_H

#include <stdlib.h>

/*
 * Returns P, an array of N elements of SIZE, with room for element N:
 * reallocated (doubling) when N is 0 or a power of two, else P itself.
 * Returns NULL when out of memory, P unchanged.
 */
static inline void *
array_grow(void *p, size_t n, size_t size)
{
	if (n > 0 && (n & (n - 1)) != 0)
		return p;
	return realloc(p, (n == 0 ? 1 : n * 2) * size);
}

#endif
