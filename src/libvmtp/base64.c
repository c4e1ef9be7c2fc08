/*
 * base64.c - standard base64 (see base64.h).
 */
#include "libvmtp/base64.h"

size_t
base64_encode(const unsigned char *in, size_t len, int pad, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char *w = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*w++ = tab[in[i] >> 2];
		*w++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*w++ = tab[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*w++ = tab[in[i + 2] & 63];
	}
	if (len - i == 1) {
		*w++ = tab[in[i] >> 2];
		*w++ = tab[(in[i] & 3) << 4];
		if (pad) {
			*w++ = '=';
			*w++ = '=';
		}
	} else if (len - i == 2) {
		*w++ = tab[in[i] >> 2];
		*w++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*w++ = tab[(in[i + 1] & 15) << 2];
		if (pad)
			*w++ = '=';
	}
	*w = '\0';
	return (size_t)(w - out);
}
