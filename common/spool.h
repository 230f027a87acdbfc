/*
 * spool: the directory ls-watch writes and every shipper reads. It is laid
 * out as a directory replica, so it can itself be restored from:
 *
 *   SPOOL/generations/GEN/snapshots/IDX.snapshot.lz4   objects, immutable
 *   SPOOL/generations/GEN/wal/IDX_OFF.wal.lz4
 *   SPOOL/generation        "GEN DEV:INO\n": the generation ls-watch writes,
 *                           and the identity of the database it belongs to
 *   SPOOL/acks/REPLICA      "GEN SNAP WAL", padded with spaces to 63 bytes,
 *                           then "\n": what REPLICA has confirmed
 *                           in generation GEN: SNAP the highest snapshot
 *                           index or "-", WAL the last segment "IDX_OFF"
 *                           or "-"; every generation before GEN is done
 *   SPOOL/tmp/              objects being written, renamed into place
 *   SPOOL/lock              flock(2)ed by the one ls-watch using the spool
 *
 * Generations are ordered by their oldest object's mtime, the one named in
 * SPOOL/generation last. In a generation, objects ship in name_cmp order.
 * Every file is replaced whole (temp file, fsync, rename, fsync of the
 * directory). The life of an object is documented in ls-spool(5).
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "name.h"

struct spool {
	char	*dir;
	int	lockfd;
	int	ackfd;		/* the ack file this process writes, or -1 */
	char	ackname[72];
	int	pubfd;		/* directory of the last publish, or -1 */
	char	pubdir[PATH_MAX];
};

struct spool_obj {
	struct name	n;
	uint64_t	size;
	int64_t		mtime_ns;
};

struct spool_list {
	struct spool_obj	*v;
	size_t			n, cap;
};

struct spool_ack {
	char		gen[NAME_GEN_LEN + 1];	/* "" if nothing yet */
	int		has_snap, has_wal;
	uint32_t	snap;
	uint32_t	widx, woff;
};

/* Each returns 0 on success, -1 with errno set, unless noted. */
int spool_open(struct spool *s, const char *dir, int create);
void spool_close(struct spool *s);
/* Takes SPOOL/lock; -1 with errno EWOULDBLOCK if another process has it. */
int spool_lock(struct spool *s);

/* 1 and fills gen and ident (may be NULL) if SPOOL/generation exists,
 * 0 if it does not, -1 on error. */
int spool_generation(struct spool *s, char *gen, char *ident, size_t identlen);
int spool_set_generation(struct spool *s, const char *gen, const char *ident);

/* Opens a new temp file in SPOOL/tmp; its path goes to path. fd or -1. */
int spool_tmpfile(struct spool *s, char *path);
/* fsyncs and closes fd, renames path into place as n, fsyncs the dir. */
int spool_publish(struct spool *s, int fd, const char *path,
    const struct name *n);
/* Removes SPOOL/tmp/ leftovers of a previous run. */
void spool_clean_tmp(struct spool *s);
/* Absolute-or-relative file name of an object, into buf (PATH_MAX). */
void spool_path(struct spool *s, const struct name *n, char *buf);

/* Every object of gen, sorted by name_cmp. The snapshots directory is read
 * before the WAL directory, and ls-watch publishes a snapshot only after
 * its WAL, so a snapshot seen here has its WAL in the list too. */
int spool_list_gen(struct spool *s, const char *gen, struct spool_list *l);
/* The same, leaving out what ack a (of gen) covers, without a stat. */
int spool_list_pending(struct spool *s, const char *gen,
    const struct spool_ack *a, struct spool_list *l);
void spool_list_free(struct spool_list *l);
/* Generations in shipping order (see above); *gens is malloc'd, n ids of
 * NAME_GEN_LEN + 1 bytes each. */
int spool_generations(struct spool *s, char (**gens)[NAME_GEN_LEN + 1],
    size_t *n);

/* 1 if the ack exists (filled), 0 if not, -1 on a read error. A damaged
 * file (a crash may leave one: acks are not fsynced) reads as an empty
 * ack, with a warning: it confirms nothing. */
int spool_ack_read(struct spool *s, const char *replica, struct spool_ack *a);
int spool_ack_write(struct spool *s, const char *replica,
    const struct spool_ack *a);
/* 1 if the ack covers object o of gen (rank: position of gen in the
 * order, ack_rank: that of a->gen, -1 if absent). */
int spool_ack_covers(const struct spool_ack *a, int ack_rank, int rank,
    const struct spool_obj *o);
/* 1 if replica is a valid replica name ([A-Za-z0-9._-], 1..64, not "."). */
int spool_replica_name_ok(const char *replica);

/* Removes what every replica has confirmed, keeping the newest snapshot
 * of the current generation and the WAL from its index on. Returns the
 * number of objects removed, or -1. */
int spool_gc(struct spool *s);

#endif
