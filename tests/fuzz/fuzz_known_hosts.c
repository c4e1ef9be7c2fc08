/*
 * fuzz_known_hosts.c - libFuzzer harness for the known_hosts files vmtp
 * reads and extends (ssh.c; SPEC §10): any file must give a verdict for a
 * host key (match, mismatch, not found) or one clean error, never a crash,
 * leak or out-of-bounds read.  A key accept-new adds is appended: the
 * file keeps what it had, and read back, it finds the key.
 *
 * The input is the file.  ssh.c is compiled in below to reach kh_check()
 * and kh_add(), the known_hosts half of check_hostkey() (the other half
 * needs a connected session); the file lives in a memfd.
 * Seed corpus: tests/fuzz/corpus/known_hosts/ (files ssh and vmtp write:
 * plain, [host]:port, hashed, markers, comments, several key types).
 */
#include <sys/mman.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>

#include "libvmtp/ssh.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The ed25519 and ECDSA P-256 keys of the seeds, as the wire has them. */
static const unsigned char fz_ed25519[] = {0x00, 0x00, 0x00, 0x0b, 0x73, 0x73,
    0x68, 0x2d, 0x65, 0x64, 0x32, 0x35, 0x35, 0x31, 0x39, 0x00, 0x00, 0x00,
    0x20, 0x63, 0xa0, 0x62, 0x6a, 0x84, 0x81, 0x61, 0xe5, 0x80, 0x3d, 0xb8,
    0x87, 0x3f, 0xb9, 0x1e, 0x5e, 0xfb, 0x3a, 0x4d, 0x35, 0xe4, 0x03, 0x12,
    0x54, 0x99, 0xb1, 0x40, 0x20, 0x2d, 0x81, 0xc3, 0x85};
static const unsigned char fz_ecdsa[] = {0x00, 0x00, 0x00, 0x13, 0x65, 0x63,
    0x64, 0x73, 0x61, 0x2d, 0x73, 0x68, 0x61, 0x32, 0x2d, 0x6e, 0x69, 0x73,
    0x74, 0x70, 0x32, 0x35, 0x36, 0x00, 0x00, 0x00, 0x08, 0x6e, 0x69, 0x73,
    0x74, 0x70, 0x32, 0x35, 0x36, 0x00, 0x00, 0x00, 0x41, 0x04, 0x0d, 0x9c,
    0xc5, 0xd9, 0x6f, 0x4c, 0xe7, 0xd7, 0x22, 0x7f, 0x12, 0x95, 0x29, 0x6b,
    0xc6, 0xba, 0x5f, 0x14, 0x34, 0x29, 0x0f, 0x6d, 0x8b, 0x98, 0x28, 0xcb,
    0x48, 0xc1, 0x26, 0x9a, 0xec, 0xf2, 0x66, 0x04, 0x68, 0x55, 0x38, 0xbe,
    0x08, 0x09, 0xef, 0x68, 0xe8, 0xc4, 0x8b, 0x6d, 0x23, 0x68, 0xfa, 0xb2,
    0x6e, 0x2a, 0x3c, 0x59, 0xeb, 0xf3, 0xa2, 0x98, 0x36, 0x21, 0x20, 0xa8,
    0x7c, 0x06};

/* What the harness looks up: the seeds' hosts, and one they lack. */
static const struct {
	const char *host;
	int port;
	const unsigned char *key;
	size_t len;
	int type;
} fz_looks[] = {
    {"127.0.0.1", 22, fz_ed25519, sizeof(fz_ed25519),
        LIBSSH2_HOSTKEY_TYPE_ED25519},
    {"10.0.0.5", 2222, fz_ecdsa, sizeof(fz_ecdsa),
        LIBSSH2_HOSTKEY_TYPE_ECDSA_256},
    {"192.0.2.77", 22, fz_ed25519, sizeof(fz_ed25519),
        LIBSSH2_HOSTKEY_TYPE_ED25519},
};

/* A file of memfd FD refilled with DATA (SIZE bytes); 0 or -1. */
static int
fz_fill(int fd, const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		return -1;
	return size == 0 || write(fd, data, size) == (ssize_t)size ? 0 : -1;
}

/* Whether the file of memfd FD starts with DATA (SIZE bytes). */
static int
fz_kept(int fd, const uint8_t *data, size_t size)
{
	static char buf[1 << 16];

	if (size > sizeof(buf))
		return 1; /* not checked */
	return pread(fd, buf, size, 0) == (ssize_t)size &&
	       memcmp(buf, data, size) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static LIBSSH2_SESSION *s;
	static char path[64];
	static int fd = -1;
	size_t i;

	if (s == NULL) {
		s = libssh2_session_init();
		fd = memfd_create("known_hosts", 0);
		if (s == NULL || fd < 0)
			__builtin_trap();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (fz_fill(fd, data, size) != 0)
		return 0;
	for (i = 0; i < sizeof(fz_looks) / sizeof(fz_looks[0]); i++) {
		struct vmtp_err err = VMTP_ERR_INIT;
		LIBSSH2_KNOWNHOSTS *kh = NULL;
		int r;

		r = kh_check(s, path, fz_looks[i].host, fz_looks[i].port,
		    (const char *)fz_looks[i].key, fz_looks[i].len,
		    fz_looks[i].type, &kh, &err);
		if (r == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND &&
		    kh_add(s, path, "fuzz", fz_looks[i].host, fz_looks[i].port,
		        (const char *)fz_looks[i].key, fz_looks[i].len,
		        fz_looks[i].type, &err) == 0) {
			/* accept-new wrote it after the file as it was, and
			 * the next run finds it */
			if (!fz_kept(fd, data, size))
				__builtin_trap(); /* the file has changed */
			libssh2_knownhost_free(kh);
			kh = NULL;
			r = kh_check(s, path, fz_looks[i].host,
			    fz_looks[i].port, (const char *)fz_looks[i].key,
			    fz_looks[i].len, fz_looks[i].type, &kh, &err);
			if (r != LIBSSH2_KNOWNHOST_CHECK_MATCH)
				__builtin_trap(); /* the added key is lost */
			if (fz_fill(fd, data, size) != 0)
				__builtin_trap();
		}
		if (kh != NULL)
			libssh2_knownhost_free(kh);
	}
	return 0;
}
