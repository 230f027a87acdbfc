/*
 * Unit tests of common/lz4f.c: the encoder's frame header, round trips,
 * and the decoder's strictness (one whole frame, no dictID) and its
 * acceptance of what Litestream's Go writer produces.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lz4f.h"
#include "tap.h"

/* xxh32, from the xxHash specification, to build frames by hand. */
#define P1	2654435761U
#define P2	2246822519U
#define P3	3266489917U
#define P4	668265263U
#define P5	374761393U

static uint32_t
rotl(uint32_t x, int r)
{
	return x << r | x >> (32 - r);
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint32_t
xxh32(const unsigned char *p, size_t n)
{
	uint32_t v[4] = { P1 + P2, P2, 0, -P1 }, h;
	size_t i = 0;
	int k;

	if (n >= 16) {
		for (; i + 16 <= n; i += 16)
			for (k = 0; k < 4; k++)
				v[k] = rotl(v[k] + le32(p + i + 4 * k) * P2,
				    13) * P1;
		h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) +
		    rotl(v[3], 18);
	} else
		h = P5;
	h += (uint32_t)n;
	for (; i + 4 <= n; i += 4)
		h = rotl(h + le32(p + i) * P3, 17) * P4;
	for (; i < n; i++)
		h = rotl(h + p[i] * P5, 11) * P1;
	h ^= h >> 15;
	h *= P2;
	h ^= h >> 13;
	h *= P3;
	h ^= h >> 16;
	return h;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* Encodes n bytes with the encoder into a malloc'd buffer. */
static unsigned char *
encode(const unsigned char *src, size_t n, size_t *outlen)
{
	struct lz4f_enc e;
	FILE *f = tmpfile();
	unsigned char *out;
	long len;
	size_t k;

	if (f == NULL || lz4f_enc_begin(&e, fileno(f)) < 0)
		return NULL;
	/* In uneven pieces, as a stream would come. */
	for (k = 0; k < n; k += 70001)
		if (lz4f_enc_write(&e, src + k, n - k < 70001 ? n - k :
		    70001) < 0)
			return NULL;
	if (lz4f_enc_end(&e) < 0)
		return NULL;
	len = lseek(fileno(f), 0, SEEK_END);
	out = malloc(len > 0 ? (size_t)len : 1);
	if (pread(fileno(f), out, (size_t)len, 0) != len)
		return NULL;
	fclose(f);
	*outlen = (size_t)len;
	return out;
}

static int
decode(const unsigned char *p, size_t n, unsigned char **out, size_t *outlen,
    char *err)
{
	return lz4f_decode(p, n, out, outlen, err, 128);
}

static void
test_roundtrip(void)
{
	static const size_t sizes[] = { 0, 1, 4152, 100000,
	    4 * 1024 * 1024, 5 * 1024 * 1024 + 17 };
	unsigned char *src, *z, *back;
	size_t i, k, zn, bn;
	uint32_t x = 1;
	char err[128];

	src = malloc(sizes[5]);
	for (k = 0; k < sizes[5]; k++) {
		/* Half compressible text, half noise. */
		x = x * 1103515245 + 12345;
		src[k] = (k / 4096) % 2 ? (unsigned char)(x >> 16) :
		    (unsigned char)("sqlite page "[k % 12]);
	}
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		z = encode(src, sizes[i], &zn);
		ok(z != NULL, "encode %zu bytes", sizes[i]);
		if (z == NULL)
			continue;
		ok(zn >= 7 && z[0] == 0x04 && z[1] == 0x22 && z[2] == 0x4d &&
		    z[3] == 0x18, "%zu: LZ4 frame magic", sizes[i]);
		is_int(z[4] >> 6, 1, "%zu: FLG version 01", sizes[i]);
		ok(z[4] & 0x20, "%zu: FLG block independence set", sizes[i]);
		ok(!(z[4] & 0x10), "%zu: FLG block checksum clear", sizes[i]);
		ok(z[4] & 0x04, "%zu: FLG content checksum set", sizes[i]);
		ok(!(z[4] & 0x01), "%zu: FLG dictID clear", sizes[i]);
		is_int(z[5], 0x70, "%zu: BD = 0x70 (4 MiB blocks)", sizes[i]);
		is_int(z[6], (xxh32(z + 4, 2) >> 8) & 0xff,
		    "%zu: header checksum", sizes[i]);
		is_int(le32(z + zn - 4), xxh32(src, sizes[i]),
		    "%zu: content checksum is xxh32 of the input", sizes[i]);
		back = NULL;
		is_int(decode(z, zn, &back, &bn, err), 0, "%zu: decodes",
		    sizes[i]);
		ok(bn == sizes[i] && (bn == 0 ||
		    memcmp(back, src, sizes[i]) == 0), "%zu: round trip",
		    sizes[i]);
		free(back);
		free(z);
	}
	free(src);
}

/*
 * What pierrec/lz4 v4 (Litestream's writer) emits: header 64 70 b9, and
 * for input that ends on a 4 MiB boundary (or is empty) a zero-length
 * uncompressed block 00 00 00 80 before the end mark.
 */
static size_t
go_frame(unsigned char *f, const char *data)
{
	size_t n = strlen(data), k = 0;

	memcpy(f, "\x04\x22\x4d\x18\x64\x70\xb9", 7);
	k = 7;
	if (n > 0) {
		put_le32(f + k, (uint32_t)n | 0x80000000u);
		memcpy(f + k + 4, data, n);
		k += 4 + n;
	}
	put_le32(f + k, 0x80000000u);	/* zero-length block */
	put_le32(f + k + 4, 0);		/* end mark */
	put_le32(f + k + 8, xxh32((const unsigned char *)data, n));
	return k + 12;
}

static void
test_go_frames(void)
{
	unsigned char f[128], *out;
	size_t n, on;
	char err[128];

	is_int(xxh32((const unsigned char *)"", 0), 0x02cc5d05,
	    "xxh32 of nothing (self-check)");
	is_int((xxh32((const unsigned char *)"\x64\x70", 2) >> 8) & 0xff, 0xb9,
	    "Go's header checksum byte b9 (self-check)");
	n = go_frame(f, "hello, sqlite");
	out = NULL;
	is_int(decode(f, n, &out, &on, err), 0,
	    "Go-style frame with a zero-length block decodes");
	ok(out != NULL && on == 13 && memcmp(out, "hello, sqlite", 13) == 0,
	    "Go-style frame content");
	free(out);
	n = go_frame(f, "");
	out = NULL;
	is_int(decode(f, n, &out, &on, err), 0,
	    "Go-style empty frame (only a zero-length block) decodes");
	is_int(on, 0, "empty content");
	free(out);
}

struct smallbuf {
	unsigned char	buf[64];
	size_t		len;
};

static int
sink_fn(void *ctx, const void *p, size_t n)
{
	struct smallbuf *s = ctx;

	if (s->len + n > sizeof s->buf)
		return -1;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

static void
test_strict(void)
{
	unsigned char *z, *zz, *out, f[128];
	size_t zn, on, k, n, bad;
	char err[128];
	const unsigned char src[] = "one frame per object, no more";
	struct smallbuf s = { { 0 }, 0 };
	struct lz4f_dec d;
	int r;

	z = encode(src, sizeof src, &zn);
	zz = malloc(2 * zn);
	memcpy(zz, z, zn);
	memcpy(zz + zn, z, zn);
	out = NULL;
	is_int(decode(zz, 2 * zn, &out, &on, err), -1,
	    "two concatenated frames rejected");
	ok(strstr(err, "after the end") != NULL, "error: %s", err);
	free(out);
	is_int(decode(zz, zn + 1, &out, &on, err), -1,
	    "one trailing byte rejected");
	free(zz);

	for (k = 0, bad = 0; k < zn; k++)
		if (decode(z, k, &out, &on, err) != -1)
			bad++;
	is_int(bad, 0, "every truncation (0..%zu bytes) rejected", zn - 1);
	decode(z, zn - 1, &out, &on, err);
	ok(strstr(err, "truncated") != NULL, "error: %s", err);

	z[zn - 1] ^= 0x55;
	is_int(decode(z, zn, &out, &on, err), -1,
	    "wrong content checksum rejected");
	z[zn - 1] ^= 0x55;
	z[0] = 0x05;
	is_int(decode(z, zn, &out, &on, err), -1, "bad magic rejected");
	ok(strstr(err, "magic") != NULL, "error: %s", err);
	z[0] = 0x04;

	/* A frame with a dictID: FLG bit 0 and four more header bytes. */
	memcpy(f, "\x04\x22\x4d\x18\x65\x70\x01\x00\x00\x00", 10);
	f[10] = (unsigned char)(xxh32(f + 4, 6) >> 8);
	put_le32(f + 11, 5 | 0x80000000u);
	memcpy(f + 15, "hello", 5);
	put_le32(f + 20, 0);
	put_le32(f + 24, xxh32((const unsigned char *)"hello", 5));
	is_int(decode(f, 28, &out, &on, err), -1, "dictID frame rejected");
	ok(strstr(err, "dictionary") != NULL, "error: %s", err);

	/* Byte by byte through the streaming decoder. (ok() evaluates its
	 * condition twice: no side effects in it.) */
	r = lz4f_dec_init(&d, sink_fn, &s);
	is_int(r, 0, "decoder init");
	for (k = 0, n = 0; k < zn; k++)
		if (lz4f_dec_push(&d, z + k, 1) != 0)
			n++;
	is_int(n, 0, "one byte at a time: every push accepted");
	is_int(lz4f_dec_finish(&d), 0, "one byte at a time: whole frame");
	ok(s.len == sizeof src && memcmp(s.buf, src, sizeof src) == 0,
	    "one byte at a time: content");
	lz4f_dec_free(&d);

	/* dictID seen even when FLG comes alone. */
	r = lz4f_dec_init(&d, sink_fn, &s);
	is_int(r, 0, "decoder init");
	r = lz4f_dec_push(&d, f, 4);
	is_int(r, 0, "magic alone accepted");
	r = lz4f_dec_push(&d, f + 4, 1);
	is_int(r, -1, "dictID flag in a separate push rejected");
	lz4f_dec_free(&d);
	free(z);
}

int
main(void)
{
	test_roundtrip();
	test_go_frames();
	test_strict();
	return tap_done();
}
