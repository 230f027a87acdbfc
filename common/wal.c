/* wal: SQLite WAL header and frame checks (format described in wal.h). */
#include <string.h>

#include "wal.h"

uint32_t
wal_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
wal_put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void
wal_checksum(int bigend, const unsigned char *p, size_t n, uint32_t *s)
{
	uint32_t s1 = s[0], s2 = s[1], x[2];
	size_t i;
	/* Words in the byte order the magic names; loaded whole, then
	 * swapped if that order is not the machine's. */
	int swap = bigend != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(x, p + i, 8);
		if (swap) {
			x[0] = __builtin_bswap32(x[0]);
			x[1] = __builtin_bswap32(x[1]);
		}
		s1 += x[0] + s2;
		s2 += x[1] + s1;
	}
	s[0] = s1;
	s[1] = s2;
}

int
wal_hdr_parse(const unsigned char *p, struct wal_hdr *h)
{
	uint32_t sum[2] = { 0, 0 };

	h->magic = wal_get32(p);
	h->version = wal_get32(p + 4);
	h->page_size = wal_get32(p + 8);
	h->ckpt_seq = wal_get32(p + 12);
	h->salt1 = wal_get32(p + 16);
	h->salt2 = wal_get32(p + 20);
	h->cksum1 = wal_get32(p + 24);
	h->cksum2 = wal_get32(p + 28);
	if (h->magic != WAL_MAGIC_LE && h->magic != WAL_MAGIC_BE)
		return -1;
	if (h->version != 3007000)
		return -1;
	/* Unlike the database header, the WAL header holds 65536 as is:
	 * SQLite's recovery rejects any other value outside 512..65536. */
	if (h->page_size < 512 || h->page_size > 65536 ||
	    (h->page_size & (h->page_size - 1)) != 0)
		return -1;
	wal_checksum(h->magic == WAL_MAGIC_BE, p, 24, sum);
	if (sum[0] != h->cksum1 || sum[1] != h->cksum2)
		return -1;
	return 0;
}

int
wal_cursor_init(struct wal_cursor *c, const unsigned char *hdr)
{
	memset(c, 0, sizeof *c);
	if (wal_hdr_parse(hdr, &c->hdr) < 0)
		return -1;
	c->frame_size = WAL_FRAME_HDR + c->hdr.page_size;
	c->sum[0] = c->commit_sum[0] = c->hdr.cksum1;
	c->sum[1] = c->commit_sum[1] = c->hdr.cksum2;
	c->off = c->commit_off = WAL_HDR_SIZE;
	return 0;
}

int
wal_cursor_frame(struct wal_cursor *c, const unsigned char *f)
{
	int be = c->hdr.magic == WAL_MAGIC_BE;
	uint32_t sum[2] = { c->sum[0], c->sum[1] };
	uint32_t commit;

	if (wal_get32(f + 8) != c->hdr.salt1 ||
	    wal_get32(f + 12) != c->hdr.salt2)
		return 0;
	wal_checksum(be, f, 8, sum);
	wal_checksum(be, f + WAL_FRAME_HDR, c->hdr.page_size, sum);
	if (sum[0] != wal_get32(f + 16) || sum[1] != wal_get32(f + 20))
		return 0;
	c->sum[0] = sum[0];
	c->sum[1] = sum[1];
	c->off += c->frame_size;
	commit = wal_get32(f + 4);
	if (commit != 0) {
		c->commit_off = c->off;
		c->commit_sum[0] = sum[0];
		c->commit_sum[1] = sum[1];
		c->commit_pages = commit;
	}
	return 1;
}

void
wal_cursor_to_commit(struct wal_cursor *c)
{
	c->off = c->commit_off;
	c->sum[0] = c->commit_sum[0];
	c->sum[1] = c->commit_sum[1];
}

uint64_t
wal_align(uint64_t n, uint32_t frame_size)
{
	if (n < WAL_HDR_SIZE)
		return 0;
	return WAL_HDR_SIZE + (n - WAL_HDR_SIZE) / frame_size * frame_size;
}
