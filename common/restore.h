/*
 * restore: rebuilding a database from a replica.
 *
 * Planning is pure: from a listing of the replica it picks one generation,
 * one snapshot and the WAL segments to replay, and checks that they make
 * an unbroken chain, without reading any object.
 *
 *   generation  among those with a usable snapshot (index <= -index,
 *               created at or before -timestamp), the one whose newest
 *               object is newest;
 *   snapshot    the highest-index usable snapshot of that generation;
 *   WAL         every segment of the snapshot's index and of each later
 *               index (up to -index), by index then offset, stopping at
 *               the first segment created after -timestamp.
 *
 * Each index must start at offset 0 and no index may be missing between
 * the snapshot's and the last one replayed. Segments of indexes below the
 * snapshot's are not needed and are ignored, whatever they hold.
 *
 * Applying: stream the snapshot into OUT.tmp; per index, download the
 * segments in parallel and check every frame (salts, cumulative checksum,
 * contiguity, commit boundaries). Every frame of a checked segment belongs
 * to a committed transaction, so each page is written straight into
 * OUT.tmp in WAL order and the file is cut to the last commit's size: what
 * a SQLite checkpoint does, without writing and re-reading the WAL. With
 * RESTORE_SQLITE, the simple way instead: the index is written to
 * OUT.tmp-wal and SQLite checkpoints it (kept as the oracle the tests
 * compare with, byte for byte). Then OUT.tmp is renamed to OUT.
 */
#ifndef RESTORE_H
#define RESTORE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "name.h"

/* restore_plan() found no backup matching the options. */
#define RESTORE_NONE	1

struct restore_opts {
	const char	*gen;		/* one generation, or NULL */
	int		has_index;	/* up to index (needs gen) */
	uint32_t	index;
	int		has_time;	/* state as of time_ns */
	int64_t		time_ns;
};

struct restore_obj {
	struct name	n;
	char		name[NAME_LEN];	/* relative to the root */
	uint64_t	size;		/* stored size */
	int64_t		mtime_ns;	/* creation time */
};

/* created_ns and updated_ns: the oldest and newest object of gen; wal:
 * by index, then offset; warn: for the caller to print, or "". */
struct restore_plan {
	char			gen[NAME_GEN_LEN + 1];
	int64_t			created_ns, updated_ns;
	struct restore_obj	snap;
	struct restore_obj	*wal;
	size_t			nwal;
	uint32_t		nidx;		/* indexes in wal[] */
	uint64_t		wal_bytes;	/* stored size of wal[] */
	char			warn[256];
};

/*
 * Chooses what to restore from the n listed objects; names that are not
 * object names are ignored. Returns 0 with p filled (free it with
 * restore_plan_free), RESTORE_NONE if no backup matches, or -1 if the
 * replica cannot be restored as asked; err then holds one line, naming the
 * object at fault.
 */
int restore_plan(const struct backend_obj *objs, size_t n,
    const struct restore_opts *o, struct restore_plan *p, char *err,
    size_t errlen);
void restore_plan_free(struct restore_plan *p);


/*
 * Rebuilds the database of plan p at the path out, which must not exist.
 * be[0] downloads the snapshot from the calling thread; be[1..nbe) each
 * serve one WAL download thread (nbe >= 2), so a backend is never used by
 * two threads. With log_verbose, prints an info line per WAL index.
 * Returns 0, 100 (permanent: out exists, a bad object, a refusal) or 111
 * (temporary: I/O, interrupted), with the whole message in err ("unable
 * to ..."). Nothing of out.tmp, out.tmp-wal or out.tmp-shm is left.
 */
#define RESTORE_SQLITE	1	/* flags: apply each index with SQLite */

int restore_apply(struct backend *const *be, size_t nbe,
    const struct restore_plan *p, const char *out, int flags, char *err,
    size_t errlen);

/* Set by a signal handler: restore_apply stops, cleans up and returns 111. */
extern volatile sig_atomic_t restore_interrupted;

/*
 * RFC 3339 times: "2006-01-02T15:04:05Z", optional fraction of a second
 * (up to 9 digits), "Z" or a "+hh:mm"/"-hh:mm" offset. restore_parse_time
 * returns 0 with nanoseconds since the epoch, or -1. restore_format_time
 * writes UTC with milliseconds ("2006-01-02T15:04:05.000Z") into buf of
 * RESTORE_TIME_LEN bytes.
 */
#define RESTORE_TIME_LEN	32
int restore_parse_time(const char *s, int64_t *ns);
void restore_format_time(int64_t ns, char *buf);

#endif
