/*
 * lz4f: every replica object is exactly one LZ4 frame (lz4 frame format,
 * magic 04 22 4d 18) written with: independent blocks of at most 4 MiB,
 * a content checksum (xxh32 of all uncompressed bytes), no block checksum
 * and no dictID. Litestream v0.3's reader (pierrec/lz4) rejects block
 * checksums and dictIDs and reads only the first frame of an object.
 *
 * The reader is strict the other way too: one frame, nothing after it, and
 * the content checksum (when present) must match.
 */
#ifndef LZ4F_H
#define LZ4F_H

#include <stddef.h>
#include <stdint.h>

/* Where an encoder's output goes instead of a descriptor: 0 or -1. */
typedef int (*lz4f_out)(void *ctx, const void *p, size_t n);

/* Encoder: compresses a stream into one frame written to fd. */
struct lz4f_enc {
	void		*cctx;
	int		fd;
	lz4f_out	outfn;		/* if set, output goes here */
	void		*outctx;
	unsigned char	*buf;
	size_t		cap, len;	/* pending uncompressed input */
	uint64_t	in, out;	/* bytes consumed and written */
};

/* Each returns 0, or -1 with errno set (EIO for a library failure). */
int lz4f_enc_begin(struct lz4f_enc *e, int fd);
/* The same, writing through outfn (fd unused) when outfn is not NULL. */
int lz4f_enc_begin_fn(struct lz4f_enc *e, lz4f_out outfn, void *outctx,
    int fd);
int lz4f_enc_write(struct lz4f_enc *e, const void *p, size_t n);
int lz4f_enc_end(struct lz4f_enc *e);	/* end mark, checksum; frees */
void lz4f_enc_free(struct lz4f_enc *e);	/* abandons the frame */

/* Decoder: push compressed bytes in, uncompressed bytes come out through
 * sink, which returns 0 or -1 to stop. */
typedef int (*lz4f_sink)(void *ctx, const void *p, size_t n);

struct lz4f_dec {
	void		*dctx;
	lz4f_sink	sink;
	void		*ctx;
	unsigned char	*buf;
	size_t		cap;
	int		done;		/* the frame has ended */
	uint64_t	in, out;
	char		err[128];	/* what was wrong, for the caller */
};

int lz4f_dec_init(struct lz4f_dec *d, lz4f_sink sink, void *ctx);
/* 0, -1 for bad data (d->err says why), -2 if the sink stopped. */
int lz4f_dec_push(struct lz4f_dec *d, const void *p, size_t n);
/* 0 if exactly one whole frame was pushed, else -1 (d->err). */
int lz4f_dec_finish(struct lz4f_dec *d);
void lz4f_dec_free(struct lz4f_dec *d);

/* Whole-buffer helpers. lz4f_decode: *out is malloc'd; 0, or -1 with err. */
int lz4f_decode(const void *src, size_t n, unsigned char **out, size_t *outlen,
    char *err, size_t errlen);

#endif
