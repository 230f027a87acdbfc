/*
 * wal: SQLite's write-ahead log format, as far as replication needs it.
 *
 * WAL header, 32 bytes, every field a big-endian u32:
 *    0  magic: 0x377f0682 (checksums over little-endian words)
 *              or 0x377f0683 (big-endian words)
 *    4  format version, 3007000
 *    8  page size (512..65536, a power of two, 65536 itself; only the
 *       database header writes 65536 as 1)
 *   12  checkpoint sequence number
 *   16  salt-1: incremented by one each time the WAL restarts
 *   20  salt-2: random, new on each restart
 *   24  checksum-1 \ over bytes 0..24 of the header
 *   28  checksum-2 /
 *
 * Frame: a 24-byte header then one page. Header fields, big-endian u32:
 *    0  page number
 *    4  for a commit frame, the database size in pages after the commit;
 *       zero for every other frame
 *    8  salt-1 \ copied from the WAL header; a frame with other salts
 *   12  salt-2 / belongs to an earlier WAL and ends this one
 *   16  checksum-1 \ cumulative: starts from the header's checksum and runs
 *   20  checksum-2 / over frame bytes 0..8 and then the page
 *
 * A frame is valid when its salts match and its checksum is right; a
 * transaction is committed when its commit frame and every frame before it
 * are valid. Offsets below count the 32-byte header.
 */
#ifndef WAL_H
#define WAL_H

#include <stddef.h>
#include <stdint.h>

#define WAL_HDR_SIZE	32
#define WAL_FRAME_HDR	24
#define WAL_MAGIC_LE	0x377f0682u
#define WAL_MAGIC_BE	0x377f0683u

struct wal_hdr {
	uint32_t	magic, version, page_size, ckpt_seq;
	uint32_t	salt1, salt2, cksum1, cksum2;
};

uint32_t wal_get32(const unsigned char *p);
void wal_put32(unsigned char *p, uint32_t v);

/* Updates the running checksum (s[0], s[1]) over n bytes (n % 8 == 0). */
void wal_checksum(int bigend, const unsigned char *p, size_t n, uint32_t *s);

/* Parses and validates a header (magic, version, page size, checksum).
 * 0 if valid, -1 if not. */
int wal_hdr_parse(const unsigned char *p, struct wal_hdr *h);

/*
 * A cursor walks the frames of one WAL from its header, checking salts and
 * the cumulative checksum. off is where the next frame starts; commit_off
 * is the end of the last commit frame seen (32 before any commit) and
 * commit_pages that commit's database size in pages.
 */
struct wal_cursor {
	struct wal_hdr	hdr;
	uint32_t	frame_size;	/* WAL_FRAME_HDR + page size */
	uint32_t	sum[2];		/* checksum after the last good frame */
	uint64_t	off;
	uint64_t	commit_off;
	uint32_t	commit_sum[2];	/* checksum at commit_off */
	uint32_t	commit_pages;
};

/* Starts a cursor at a header. 0, or -1 if the header is not valid. */
int wal_cursor_init(struct wal_cursor *c, const unsigned char *hdr);
/* Checks the frame (frame_size bytes) that starts at c->off. Returns 1 and
 * advances if it is valid, 0 if it ends the WAL (wrong salt or checksum). */
int wal_cursor_frame(struct wal_cursor *c, const unsigned char *frame);
/* Rewinds the cursor to its last commit. */
void wal_cursor_to_commit(struct wal_cursor *c);
/* The aligned size of a WAL file of size n: header plus whole frames. */
uint64_t wal_align(uint64_t n, uint32_t frame_size);

#endif
