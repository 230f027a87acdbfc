/* enc: base64, base64url, hex, and digests of file ranges. See enc.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bearssl.h>

#include "enc.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Base64 of in[0..n) in alphabet a, '='-padded when pad, and a NUL. */
static void
encode(const char *a, int pad, const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*out++ = a[p[i] >> 2];
		*out++ = a[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*out++ = a[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*out++ = a[p[i + 2] & 63];
	}
	if (i < n) {
		*out++ = a[p[i] >> 2];
		if (i + 1 < n) {
			*out++ = a[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			*out++ = a[(p[i + 1] & 15) << 2];
		} else {
			*out++ = a[(p[i] & 3) << 4];
			if (pad)
				*out++ = '=';
		}
		if (pad)
			*out++ = '=';
	}
	*out = '\0';
}

void
enc_base64(const void *in, size_t n, char *out)
{
	encode(b64, 1, in, n, out);
}

void
enc_base64url(const void *in, size_t n, char *out)
{
	encode(b64url, 0, in, n, out);
}

long
enc_unbase64(const char *s, unsigned char *out, size_t cap)
{
	unsigned acc = 0;
	size_t n = 0, len = strlen(s);
	int bits = 0;
	const char *c;

	while (len > 0 && s[len - 1] == '=')
		len--;
	for (; len > 0; s++, len--) {
		if (*s == '\0' || (c = strchr(b64, *s)) == NULL)
			return -1;
		acc = (acc << 6) | (unsigned)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)n;
}

void
enc_hex(const void *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = in;
	size_t i;

	for (i = 0; i < n; i++) {
		*out++ = hex[p[i] >> 4];
		*out++ = hex[p[i] & 15];
	}
	*out = '\0';
}

int
enc_digest_fd(enum enc_digest d, int fd, uint64_t off, uint64_t size,
    unsigned char *out)
{
	unsigned char buf[65536];
	br_sha256_context sc;
	br_md5_context mc;
	uint64_t done = 0;
	ssize_t n;

	if (d == ENC_MD5)
		br_md5_init(&mc);
	else
		br_sha256_init(&sc);
	while (done < size) {
		size_t want = size - done < sizeof buf ? (size_t)(size - done) :
		    sizeof buf;

		n = pread(fd, buf, want, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		if (d == ENC_MD5)
			br_md5_update(&mc, buf, (size_t)n);
		else
			br_sha256_update(&sc, buf, (size_t)n);
		done += (uint64_t)n;
	}
	if (d == ENC_MD5)
		br_md5_out(&mc, out);
	else
		br_sha256_out(&sc, out);
	return 0;
}
