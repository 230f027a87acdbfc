/*
 * name: the replica's object names, shared with Litestream v0.3.
 *
 *   generations/GEN/snapshots/IDX.snapshot.lz4
 *   generations/GEN/wal/IDX_OFF.wal.lz4
 *
 * GEN is exactly 16 lowercase hex digits; IDX and OFF exactly 8 ("%08x").
 * Anything else is not an object name and is ignored by every reader, so a
 * name can never reach outside the replica root.
 */
#ifndef NAME_H
#define NAME_H

#include <stddef.h>
#include <stdint.h>

#define NAME_GEN_LEN	16
#define NAME_LEN	64	/* longest relative name plus NUL, rounded */

enum name_kind { NAME_SNAPSHOT, NAME_WAL };

struct name {
	enum name_kind	kind;
	char		gen[NAME_GEN_LEN + 1];
	uint32_t	idx;
	uint32_t	off;	/* 0 for snapshots */
};

/* 1 if s[0..n) is a generation id, else 0. */
int name_is_generation(const char *s, size_t n);
/* Parses a path relative to the replica root. 0 on success, -1 if it is
 * not exactly one of the two forms above. */
int name_parse(const char *rel, struct name *out);
/* Writes the relative path of n into buf (NAME_LEN bytes). */
void name_format(const struct name *n, char *buf);
/* Order within one generation: by index; in one index, WAL segments by
 * offset before the snapshot (a snapshot needs its index's WAL). */
int name_cmp(const struct name *a, const struct name *b);
/* Fills gen with a new random generation id (getrandom). 0 or -1. */
int name_new_generation(char *gen);

#endif
