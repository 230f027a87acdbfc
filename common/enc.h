/*
 * enc: the small encodings and digests the cloud clients share: base64,
 * base64url, lowercase hex, and digests (MD5, SHA-256) of a byte range of
 * a file.
 */
#ifndef ENC_H
#define ENC_H

#include <stddef.h>
#include <stdint.h>

/* Writes the base64 of p[0..n) and a NUL into out (4 * ((n + 2) / 3) + 1
 * bytes). */
void enc_base64(const void *p, size_t n, char *out);
/* Writes the base64url (RFC 4648, section 5) of p[0..n), without padding,
 * and a NUL into out ((4 * n + 2) / 3 + 1 bytes). */
void enc_base64url(const void *p, size_t n, char *out);
/* Decodes base64 s (padding optional, no blanks) into out (at most cap
 * bytes). Returns the length, or -1 if s is not base64 or too long. */
long enc_unbase64(const char *s, unsigned char *out, size_t cap);
/* Writes the lowercase hex of p[0..n) and a NUL into out (2n + 1). */
void enc_hex(const void *p, size_t n, char *out);

enum enc_digest { ENC_MD5, ENC_SHA256 };

/* The digest of size bytes of fd from off (read with pread), into out (16
 * or 32 bytes). 0, or -1 with errno (EIO for a short file). */
int enc_digest_fd(enum enc_digest d, int fd, uint64_t off, uint64_t size,
    unsigned char *out);

#endif
