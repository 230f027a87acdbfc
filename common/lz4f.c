/* lz4f: one-frame LZ4 objects with liblz4's frame API (see lz4f.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lz4frame.h>

#include "fsx.h"
#include "lz4f.h"

#define CHUNK	(256 * 1024)

static const LZ4F_preferences_t prefs = {
	.frameInfo = {
		.blockSizeID = LZ4F_max4MB,
		.blockMode = LZ4F_blockIndependent,
		.contentChecksumFlag = LZ4F_contentChecksumEnabled,
		.frameType = LZ4F_frame,
		.contentSize = 0,
		.dictID = 0,
		.blockChecksumFlag = LZ4F_noBlockChecksum,
	},
	.compressionLevel = 0,
	/* Compress each write straight into blocks: no 4 MiB staging
	 * buffer in the library (blocks may be shorter than the maximum). */
	.autoFlush = 1,
};

static int
flush_out(struct lz4f_enc *e, size_t n)
{
	if (e->outfn != NULL ? e->outfn(e->outctx, e->buf, n) :
	    fsx_write_all(e->fd, e->buf, n))
		return -1;
	e->out += n;
	return 0;
}

int
lz4f_enc_begin(struct lz4f_enc *e, int fd)
{
	return lz4f_enc_begin_fn(e, NULL, NULL, fd);
}

int
lz4f_enc_begin_fn(struct lz4f_enc *e, lz4f_out outfn, void *outctx, int fd)
{
	LZ4F_cctx *c;
	size_t r;

	memset(e, 0, sizeof *e);
	e->fd = fd;
	e->outfn = outfn;
	e->outctx = outctx;
	if (LZ4F_isError(LZ4F_createCompressionContext(&c, LZ4F_VERSION))) {
		errno = ENOMEM;
		return -1;
	}
	e->cctx = c;
	e->cap = LZ4F_compressBound(CHUNK, &prefs) + LZ4F_HEADER_SIZE_MAX;
	if ((e->buf = malloc(e->cap)) == NULL) {
		lz4f_enc_free(e);
		return -1;
	}
	r = LZ4F_compressBegin(c, e->buf, e->cap, &prefs);
	if (LZ4F_isError(r)) {
		lz4f_enc_free(e);
		errno = EIO;
		return -1;
	}
	if (flush_out(e, r) < 0) {
		lz4f_enc_free(e);
		return -1;
	}
	return 0;
}

int
lz4f_enc_write(struct lz4f_enc *e, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t k, r;

	while (n > 0) {
		k = n < CHUNK ? n : CHUNK;
		r = LZ4F_compressUpdate(e->cctx, e->buf, e->cap, s, k, NULL);
		if (LZ4F_isError(r)) {
			errno = EIO;
			return -1;
		}
		if (r > 0 && flush_out(e, r) < 0)
			return -1;
		e->in += k;
		s += k;
		n -= k;
	}
	return 0;
}

int
lz4f_enc_end(struct lz4f_enc *e)
{
	size_t r;
	int rc = 0;

	r = LZ4F_compressEnd(e->cctx, e->buf, e->cap, NULL);
	if (LZ4F_isError(r)) {
		errno = EIO;
		rc = -1;
	} else if (flush_out(e, r) < 0)
		rc = -1;
	lz4f_enc_free(e);
	return rc;
}

void
lz4f_enc_free(struct lz4f_enc *e)
{
	if (e->cctx != NULL)
		LZ4F_freeCompressionContext(e->cctx);
	free(e->buf);
	e->cctx = NULL;
	e->buf = NULL;
}

int
lz4f_dec_init(struct lz4f_dec *d, lz4f_sink sink, void *ctx)
{
	LZ4F_dctx *c;

	memset(d, 0, sizeof *d);
	if (LZ4F_isError(LZ4F_createDecompressionContext(&c, LZ4F_VERSION))) {
		errno = ENOMEM;
		return -1;
	}
	d->dctx = c;
	d->sink = sink;
	d->ctx = ctx;
	d->cap = 4 << 20;
	if ((d->buf = malloc(d->cap)) == NULL) {
		lz4f_dec_free(d);
		return -1;
	}
	return 0;
}

int
lz4f_dec_push(struct lz4f_dec *d, const void *p, size_t n)
{
	static const unsigned char magic[4] = { 0x04, 0x22, 0x4d, 0x18 };
	const unsigned char *s = p;
	size_t in, out, r, i;

	while (n > 0) {
		if (d->done) {
			snprintf(d->err, sizeof d->err,
			    "data after the end of the LZ4 frame at byte %llu",
			    (unsigned long long)d->in);
			return -1;
		}
		/* Magic, then FLG: bit 0 is the dictID flag. The first
		 * bytes may come in pieces: check those that are here. */
		for (i = 0; d->in + i < 5 && i < n; i++) {
			if (d->in + i < 4 && s[i] != magic[d->in + i]) {
				snprintf(d->err, sizeof d->err,
				    "not an LZ4 frame (bad magic)");
				return -1;
			}
			if (d->in + i == 4 && (s[i] & 0x01)) {
				snprintf(d->err, sizeof d->err,
				    "LZ4 frame has a dictionary id");
				return -1;
			}
		}
		in = n;
		out = d->cap;
		r = LZ4F_decompress(d->dctx, d->buf, &out, s, &in, NULL);
		if (LZ4F_isError(r)) {
			snprintf(d->err, sizeof d->err, "bad LZ4 frame: %s",
			    LZ4F_getErrorName(r));
			return -1;
		}
		d->in += in;
		s += in;
		n -= in;
		if (out > 0) {
			d->out += out;
			if (d->sink(d->ctx, d->buf, out) < 0)
				return -2;
		}
		if (r == 0)
			d->done = 1;
	}
	return 0;
}

int
lz4f_dec_finish(struct lz4f_dec *d)
{
	size_t in = 0, out, r;

	/* Drain what the context still holds. */
	while (!d->done) {
		out = d->cap;
		r = LZ4F_decompress(d->dctx, d->buf, &out, NULL, &in, NULL);
		if (LZ4F_isError(r) || out == 0) {
			snprintf(d->err, sizeof d->err,
			    "truncated LZ4 frame (%llu bytes)",
			    (unsigned long long)d->in);
			return -1;
		}
		d->out += out;
		if (d->sink(d->ctx, d->buf, out) < 0)
			return -2;
		if (r == 0)
			d->done = 1;
	}
	return 0;
}

void
lz4f_dec_free(struct lz4f_dec *d)
{
	if (d->dctx != NULL)
		LZ4F_freeDecompressionContext(d->dctx);
	free(d->buf);
	d->dctx = NULL;
	d->buf = NULL;
}

struct membuf {
	unsigned char	*p;
	size_t		len, cap;
};

static int
mem_sink(void *ctx, const void *p, size_t n)
{
	struct membuf *m = ctx;
	unsigned char *q;
	size_t cap;

	if (m->len + n > m->cap) {
		cap = m->cap ? m->cap : 65536;
		while (cap < m->len + n)
			cap *= 2;
		if ((q = realloc(m->p, cap)) == NULL)
			return -1;
		m->p = q;
		m->cap = cap;
	}
	memcpy(m->p + m->len, p, n);
	m->len += n;
	return 0;
}

int
lz4f_decode(const void *src, size_t n, unsigned char **out, size_t *outlen,
    char *err, size_t errlen)
{
	struct lz4f_dec d;
	struct membuf m = { NULL, 0, 0 };
	int rc;

	if (lz4f_dec_init(&d, mem_sink, &m) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = lz4f_dec_push(&d, src, n);
	if (rc == 0)
		rc = lz4f_dec_finish(&d);
	if (rc == -2)
		snprintf(err, errlen, "out of memory");
	else if (rc < 0)
		snprintf(err, errlen, "%s", d.err);
	lz4f_dec_free(&d);
	if (rc < 0) {
		free(m.p);
		return -1;
	}
	*out = m.p;
	*outlen = m.len;
	return 0;
}
