/*
 * Unit tests of common/wal.c: header parsing, the checksum against a WAL
 * written by SQLite 3.40 (known answer) and against an independent
 * implementation, and the frame cursor.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wal.h"

/*
 * A WAL written by SQLite (page size 512): "PRAGMA journal_mode=wal;
 * CREATE TABLE t(x); INSERT INTO t VALUES('hello')". 1640 bytes: the
 * header, then three frames: page 1 (not a commit), page 2 (commit, 2
 * pages), page 2 again (commit, 2 pages). Stored as its runs of non-zero
 * bytes: offset, hex.
 */
#define KA_LEN	1640
static const struct {
	int		off;
	const char	*hex;
} ka_runs[] = {
	{ 0, "377f0682002de218000002" },
	{ 16, "64fc613d4dc1f03e122cff7708f79869" },
	{ 35, "01" },
	{ 40, "64fc613d4dc1f03e5d7f92d0046d42a753514c69746520666f726d61"
	    "742033000200020200402020" },
	{ 83, "02" },
	{ 87, "02" },
	{ 99, "01" },
	{ 103, "04" },
	{ 115, "01" },
	{ 151, "02002e63010d" },
	{ 160, "0101df0001df" },
	{ 535, "1f0106170f0f012f7461626c65747402435245415445205441424c45"
	    "2074287829" },
	{ 571, "02" },
	{ 575, "0264fc613d4dc1f03e92f77b0ad21f27100d" },
	{ 597, "02" },
	{ 1107, "02" },
	{ 1111, "0264fc613d4dc1f03e42319cdbc708b7420d" },
	{ 1132, "0101f70001f7" },
	{ 1631, "0701021768656c6c6f" },
};

static int
hexval(int c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

static void
ka_build(unsigned char *w)
{
	size_t i, k;
	const char *h;

	memset(w, 0, KA_LEN);
	for (i = 0; i < sizeof ka_runs / sizeof ka_runs[0]; i++)
		for (h = ka_runs[i].hex, k = 0; h[2 * k]; k++)
			w[ka_runs[i].off + k] = (unsigned char)
			    (hexval(h[2 * k]) << 4 | hexval(h[2 * k + 1]));
}

/* The checksum again, written another way: 64-bit sums reduced mod 2^32,
 * words assembled byte by byte in the chosen order. */
static void
ref_sum(int be, const unsigned char *p, size_t n, uint32_t *s)
{
	uint64_t a = s[0], b = s[1], x, y;
	size_t i;
	int k;

	for (i = 0; i < n; i += 8) {
		x = y = 0;
		for (k = 0; k < 4; k++) {
			int sh = be ? 8 * (3 - k) : 8 * k;

			x += (uint64_t)p[i + k] << sh;
			y += (uint64_t)p[i + 4 + k] << sh;
		}
		a = (a + x + b) % 4294967296ULL;
		b = (b + y + a) % 4294967296ULL;
	}
	s[0] = (uint32_t)a;
	s[1] = (uint32_t)b;
}

static void
be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A header with a correct checksum, built with ref_sum. */
static void
make_hdr(unsigned char *h, uint32_t magic, uint32_t page_size)
{
	uint32_t s[2] = { 0, 0 };

	memset(h, 0, WAL_HDR_SIZE);
	be32(h, magic);
	be32(h + 4, 3007000);
	be32(h + 8, page_size);
	be32(h + 12, 7);
	be32(h + 16, 0x11223344);
	be32(h + 20, 0x55667788);
	ref_sum(magic == WAL_MAGIC_BE, h, 24, s);
	be32(h + 24, s[0]);
	be32(h + 28, s[1]);
}

/* Appends a frame after the running checksum s, built with ref_sum. */
static void
make_frame(unsigned char *f, int be, uint32_t page_size, uint32_t pgno,
    uint32_t commit, const unsigned char *hdr, uint32_t *s, int fill)
{
	memset(f, 0, WAL_FRAME_HDR);
	be32(f, pgno);
	be32(f + 4, commit);
	memcpy(f + 8, hdr + 16, 8);
	memset(f + WAL_FRAME_HDR, fill, page_size);
	f[WAL_FRAME_HDR + 3] = (unsigned char)pgno;
	ref_sum(be, f, 8, s);
	ref_sum(be, f + WAL_FRAME_HDR, page_size, s);
	be32(f + 16, s[0]);
	be32(f + 20, s[1]);
}

static void
test_known_answer(void)
{
	unsigned char w[KA_LEN];
	struct wal_hdr h;
	struct wal_cursor c;
	uint32_t s[2] = { 0, 0 }, r[2] = { 0, 0 };
	int i;

	ka_build(w);
	is_int(wal_hdr_parse(w, &h), 0, "SQLite's WAL header parses");
	is_int(h.magic, WAL_MAGIC_LE, "magic: little-endian checksums");
	is_int(h.version, 3007000, "version");
	is_int(h.page_size, 512, "page size");
	is_int(h.ckpt_seq, 0, "checkpoint sequence");
	is_int(h.salt1, 0x64fc613d, "salt-1");
	is_int(h.salt2, 0x4dc1f03e, "salt-2");
	wal_checksum(0, w, 24, s);
	is_int(s[0], 0x122cff77, "header checksum-1 (known answer)");
	is_int(s[1], 0x08f79869, "header checksum-2 (known answer)");
	ref_sum(0, w, 24, r);
	ok(r[0] == s[0] && r[1] == s[1], "independent sum agrees on header");

	/* Each frame's stored checksum is the running sum so far. */
	for (i = 0; i < 3; i++) {
		const unsigned char *f = w + WAL_HDR_SIZE + i * 536;

		wal_checksum(0, f, 8, s);
		wal_checksum(0, f + WAL_FRAME_HDR, 512, s);
		ref_sum(0, f, 8, r);
		ref_sum(0, f + WAL_FRAME_HDR, 512, r);
		ok(s[0] == rd32(f + 16) && s[1] == rd32(f + 20),
		    "frame %d checksum (known answer)", i);
		ok(r[0] == s[0] && r[1] == s[1],
		    "independent sum agrees on frame %d", i);
	}

	is_int(wal_cursor_init(&c, w), 0, "cursor starts");
	is_int(c.frame_size, 536, "frame size");
	is_int(c.off, 32, "first frame at 32");
	is_int(c.commit_off, 32, "no commit yet");
	is_int(wal_cursor_frame(&c, w + 32), 1, "frame 0 valid");
	is_int(c.commit_off, 32, "frame 0 is not a commit");
	is_int(wal_cursor_frame(&c, w + 32 + 536), 1, "frame 1 valid");
	is_int(c.commit_off, 32 + 2 * 536, "frame 1 commits");
	is_int(c.commit_pages, 2, "database is 2 pages");
	is_int(wal_cursor_frame(&c, w + 32 + 2 * 536), 1, "frame 2 valid");
	is_int(c.off, KA_LEN, "cursor at the end");
	is_int(c.commit_off, KA_LEN, "frame 2 commits");

	/* A changed page byte ends the WAL at that frame. */
	w[32 + 536 + 24 + 100] ^= 1;
	wal_cursor_init(&c, w);
	is_int(wal_cursor_frame(&c, w + 32), 1, "frame 0 still valid");
	is_int(wal_cursor_frame(&c, w + 32 + 536), 0,
	    "frame 1 with a flipped page bit is rejected");
	is_int(c.off, 32 + 536, "cursor stays before the bad frame");
	wal_cursor_to_commit(&c);
	is_int(c.off, 32, "rewind to the last commit");
	w[32 + 536 + 24 + 100] ^= 1;

	/* A frame of another WAL (salt) ends it too. */
	w[32 + 8] ^= 0x80;
	wal_cursor_init(&c, w);
	is_int(wal_cursor_frame(&c, w + 32), 0, "wrong salt-1 rejected");
	w[32 + 8] ^= 0x80;
	w[32 + 15] ^= 0x01;
	wal_cursor_init(&c, w);
	is_int(wal_cursor_frame(&c, w + 32), 0, "wrong salt-2 rejected");
	w[32 + 15] ^= 0x01;

	/* Frames do not chain across a skipped frame. */
	wal_cursor_init(&c, w);
	is_int(wal_cursor_frame(&c, w + 32 + 536), 0,
	    "frame 1 does not follow the header directly");
}

static void
test_header(void)
{
	unsigned char h[WAL_HDR_SIZE];
	struct wal_hdr w;
	struct wal_cursor c;
	static const uint32_t bad_sizes[] = { 0, 1, 256, 1000, 131072, 4095 };
	size_t i;

	make_hdr(h, WAL_MAGIC_LE, 4096);
	is_int(wal_hdr_parse(h, &w), 0, "built header parses");
	is_int(w.page_size, 4096, "page size 4096");
	is_int(w.ckpt_seq, 7, "checkpoint sequence 7");

	make_hdr(h, WAL_MAGIC_LE, 65536);
	is_int(wal_hdr_parse(h, &w), 0, "page size 65536 parses");
	is_int(w.page_size, 65536, "page size is 65536");
	make_hdr(h, WAL_MAGIC_LE, 512);
	is_int(wal_hdr_parse(h, &w), 0, "page size 512 parses");
	for (i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
		make_hdr(h, WAL_MAGIC_LE, bad_sizes[i]);
		is_int(wal_hdr_parse(h, &w), -1, "page size %u rejected",
		    (unsigned)bad_sizes[i]);
	}

	make_hdr(h, 0x377f0684, 4096);
	is_int(wal_hdr_parse(h, &w), -1, "bad magic rejected");
	make_hdr(h, WAL_MAGIC_LE, 4096);
	be32(h + 4, 3007001);
	is_int(wal_hdr_parse(h, &w), -1, "other version rejected");
	make_hdr(h, WAL_MAGIC_LE, 4096);
	h[31] ^= 1;
	is_int(wal_hdr_parse(h, &w), -1, "bad checksum-2 rejected");
	make_hdr(h, WAL_MAGIC_LE, 4096);
	h[24] ^= 1;
	is_int(wal_hdr_parse(h, &w), -1, "bad checksum-1 rejected");
	make_hdr(h, WAL_MAGIC_LE, 4096);
	h[13] ^= 1;
	is_int(wal_hdr_parse(h, &w), -1, "changed field breaks the checksum");
	is_int(wal_cursor_init(&c, h), -1, "cursor refuses a bad header");

	/* The magic's low bit makes the checksum big-endian: the same
	 * header checked little-endian must fail. */
	make_hdr(h, WAL_MAGIC_BE, 4096);
	is_int(wal_hdr_parse(h, &w), 0, "big-endian header parses");
	be32(h, WAL_MAGIC_LE);
	is_int(wal_hdr_parse(h, &w), -1,
	    "big-endian checksum under the little-endian magic rejected");
}

static void
test_frames(int be)
{
	uint32_t ps = 1024, s[2];
	size_t fs = WAL_FRAME_HDR + ps;
	unsigned char *w = calloc(1, WAL_HDR_SIZE + 3 * fs);
	struct wal_cursor c;
	int r;

	make_hdr(w, be ? WAL_MAGIC_BE : WAL_MAGIC_LE, ps);
	s[0] = rd32(w + 24);
	s[1] = rd32(w + 28);
	make_frame(w + 32, be, ps, 1, 0, w, s, 0xa5);
	make_frame(w + 32 + fs, be, ps, 2, 0, w, s, 0x5a);
	make_frame(w + 32 + 2 * fs, be, ps, 3, 3, w, s, 0x33);
	is_int(wal_cursor_init(&c, w), 0, "%s: header", be ? "BE" : "LE");
	r = wal_cursor_frame(&c, w + 32) + wal_cursor_frame(&c, w + 32 + fs) +
	    wal_cursor_frame(&c, w + 32 + 2 * fs);
	is_int(r, 3, "%s: built frames all valid", be ? "BE" : "LE");
	is_int(c.commit_off, 32 + 3 * fs, "%s: last frame commits",
	    be ? "BE" : "LE");
	is_int(c.commit_pages, 3, "%s: 3 pages", be ? "BE" : "LE");

	/* Checked with the other byte order, the first frame fails. */
	be32(w, be ? WAL_MAGIC_LE : WAL_MAGIC_BE);
	s[0] = s[1] = 0;
	ref_sum(!be, w, 24, s);
	be32(w + 24, s[0]);
	be32(w + 28, s[1]);
	wal_cursor_init(&c, w);
	is_int(wal_cursor_frame(&c, w + 32), 0,
	    "%s: frame summed in the other order rejected", be ? "BE" : "LE");
	free(w);
}

static void
test_align(void)
{
	is_int(wal_align(0, 4120), 0, "align: empty");
	is_int(wal_align(31, 4120), 0, "align: short header");
	is_int(wal_align(32, 4120), 32, "align: header only");
	is_int(wal_align(32 + 4119, 4120), 32, "align: partial frame");
	is_int(wal_align(32 + 4120, 4120), 32 + 4120, "align: one frame");
	is_int(wal_align(32 + 2 * 4120 + 7, 4120), 32 + 2 * 4120,
	    "align: two frames and a tail");
}

int
main(void)
{
	test_known_answer();
	test_header();
	test_frames(0);
	test_frames(1);
	test_align();
	return tap_done();
}
