/*
 * base64.h - standard base64 (RFC 4648 §4), the one encoder of vmtp: SSH
 * host key fingerprints (without padding, as OpenSSH prints them) and
 * Nova's user data (with it).
 */
#ifndef VMTP_BASE64_H
#define VMTP_BASE64_H

#include <stddef.h>

/* The room base64_encode() needs for LEN bytes, the final NUL included. */
#define BASE64_SIZE(len) (((len) + 2) / 3 * 4 + 1)

/*
 * Writes LEN bytes of IN in base64 to OUT (BASE64_SIZE(LEN) bytes), NUL
 * terminated, with the '=' padding when PAD is non-zero.  Returns the
 * length written, NUL excluded.
 */
size_t base64_encode(const unsigned char *in, size_t len, int pad, char *out);

#endif
