/*
 * ls-watch: follows one SQLite database's WAL into a spool.
 *
 * It holds a read transaction on the database at all times (two
 * connections take turns, so there is never a moment without one): while
 * it does, SQLite cannot restart the WAL, so no frame is overwritten before
 * it has been copied. Committed frames become WAL segments, snapshots are
 * raw copies of the database file labelled with the current WAL index, and
 * checkpoints are run with the write lock held so the WAL restarts only
 * once everything in it has been copied. See ls-watch(1) and ls-spool(5).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dur.h"
#include "fsx.h"
#include "log.h"
#include "lz4f.h"
#include "name.h"
#include "ready.h"
#include "spool.h"
#include "stats.h"
#include "wal.h"

#define USAGE "ls-watch [-v] [-d FD] [-i INTERVAL] [-s INTERVAL] " \
	"[-k INTERVAL] [-c PAGES] [-C PAGES] [-T PAGES] DB SPOOL"

#define BUFSZ		(1 << 20)
#define BUSY_MS		1000

enum ckpt_mode { CK_NONE, CK_PASSIVE, CK_RESTART, CK_TRUNCATE };
static const char *const ckpt_names[] = { "none", "PASSIVE", "RESTART",
	"TRUNCATE" };

struct opts {
	int64_t		interval_ms;	/* -i */
	int64_t		snapshot_ms;	/* -s */
	int64_t		idle_ms;	/* -k */
	uint64_t	min_pages;	/* -c */
	uint64_t	max_pages;	/* -C */
	uint64_t	trunc_pages;	/* -T */
	int		ready_fd;	/* -d */
};

struct watch {
	struct opts	o;
	const char	*db;
	char		wal[PATH_MAX];
	char		dbdir[PATH_MAX];
	const char	*dbbase;
	char		walbase[NAME_MAX + 1];
	struct spool	sp;

	int		dbfd;		/* locked; read for snapshots */
	dev_t		db_dev;
	ino_t		db_ino;
	sqlite3		*rd[2];		/* read transactions, in turn */
	int		rcur;		/* which of rd holds one now */
	sqlite3		*wr;		/* write lock, checkpoints, seq */
	int		walfd;
	int		ino;		/* inotify; -1 before it exists */
	int		wal_wd;		/* its watch on the WAL, or -1 */
	dev_t		wal_dev;
	ino_t		wal_ino;

	char		gen[NAME_GEN_LEN + 1];
	uint32_t	idx;
	unsigned char	hdr[WAL_HDR_SIZE];
	struct wal_cursor cur;		/* validated frames of this index */
	uint64_t	pub;		/* [0, pub) of this index published */
	unsigned char	pend_hdr[WAL_FRAME_HDR]; /* first frame after commit */
	int64_t		pend_since_ms;	/* frames uncommitted since, or 0 */
	uint64_t	*commits;	/* commit ends found by the last scan */
	size_t		ncommits, capcommits;
	unsigned char	*buf;

	int64_t		last_pub_ms;
	int64_t		last_change_ms;
	int64_t		next_snap_ms;
	int64_t		next_ckpt_ms;	/* no checkpoint try before this */
	struct stats	st;		/* counters for the metrics */
	int		reset;		/* continuity lost: new generation */
	int		settle;		/* files moved: wait before reopening */
	char		reason[256];
};

static volatile sig_atomic_t got_term;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
lose(struct watch *w, const char *fmt, const char *arg)
{
	if (w->reset)
		return;
	w->reset = 1;
	snprintf(w->reason, sizeof w->reason, fmt, arg);
}

static int
exec_sql(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc;

	rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		log_info("%s: %s", sql, err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
	}
	return rc;
}

static void
announce(const char *rel)
{
	static int warned;

	if (printf("%s\n", rel) < 0 || fflush(stdout) != 0) {
		if (!warned)
			log_warn("unable to write to standard output: %s",
			    strerror(errno));
		warned = 1;
		clearerr(stdout);
	}
}

/* Opens (or re-opens after a replacement) the WAL file. 0, or -1 if it
 * does not exist. */
static int
open_wal(struct watch *w)
{
	struct stat st;

	if (w->walfd >= 0)
		close(w->walfd);
	w->walfd = open(w->wal, O_RDONLY | O_CLOEXEC);
	if (w->walfd < 0) {
		if (errno != ENOENT)
			log_fatal(111, "unable to open %s: %s", w->wal,
			    strerror(errno));
		return -1;
	}
	fstat(w->walfd, &st);
	w->wal_dev = st.st_dev;
	w->wal_ino = st.st_ino;
	/* Writes to the WAL wake us; the directory watch sees only files
	 * coming and going, so other files there cost nothing. */
	if (w->ino >= 0) {
		if (w->wal_wd >= 0)
			inotify_rm_watch(w->ino, w->wal_wd);
		w->wal_wd = inotify_add_watch(w->ino, w->wal, IN_MODIFY);
		if (w->wal_wd < 0)
			log_fatal(111, "unable to watch %s: %s", w->wal,
			    strerror(errno));
	}
	return 0;
}

/* Forces a frame into the WAL (and, if the WAL was wholly checkpointed,
 * a WAL restart): the same row Litestream keeps. */
static int
touch_seq(struct watch *w)
{
	return exec_sql(w->wr, "INSERT INTO _litestream_seq (id, seq) "
	    "VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET seq = seq + 1");
}

/* Starts a read transaction on the idle connection, then ends the other
 * one: there is always one open. */
static void
begin_read(struct watch *w)
{
	int next = !w->rcur;
	int tries;

	for (tries = 0;; tries++) {
		if (sqlite3_get_autocommit(w->rd[next]) == 0)
			exec_sql(w->rd[next], "ROLLBACK");
		if (exec_sql(w->rd[next], "BEGIN; SELECT COUNT(1) FROM "
		    "_litestream_seq;") == SQLITE_OK)
			break;
		if (tries > 30)
			log_fatal(111, "unable to start a read transaction on "
			    "%s: %s", w->db, sqlite3_errmsg(w->rd[next]));
		usleep(100000);
	}
	if (sqlite3_get_autocommit(w->rd[w->rcur]) == 0)
		exec_sql(w->rd[w->rcur], "COMMIT");
	w->rcur = next;
}

static void
end_reads(struct watch *w)
{
	int i;

	for (i = 0; i < 2; i++)
		if (sqlite3_get_autocommit(w->rd[i]) == 0)
			exec_sql(w->rd[i], "COMMIT");
}

/* Writes bytes [from, to) of the current WAL index as one segment. */
static void
publish_wal(struct watch *w, uint64_t from, uint64_t to)
{
	char tmp[PATH_MAX], rel[NAME_LEN];
	struct lz4f_enc e;
	struct name n;
	uint64_t off;
	ssize_t r;
	size_t k;
	int fd;

	if (to > UINT32_MAX) {
		lose(w, "%s", "WAL index larger than 4 GiB");
		return;
	}
	if ((fd = spool_tmpfile(&w->sp, tmp)) < 0)
		log_fatal(111, "unable to create a file in %s/tmp: %s",
		    w->sp.dir, strerror(errno));
	if (lz4f_enc_begin(&e, fd) < 0)
		goto bad;
	for (off = from; off < to; off += (uint64_t)r) {
		k = to - off < BUFSZ ? (size_t)(to - off) : BUFSZ;
		r = fsx_pread_all(w->walfd, w->buf, k, (off_t)off);
		if (r < 0)
			goto bad;
		if ((size_t)r != k) {
			errno = EIO;
			goto bad;
		}
		if (lz4f_enc_write(&e, w->buf, k) < 0)
			goto bad;
	}
	if (lz4f_enc_end(&e) < 0)
		goto bad;
	memset(&n, 0, sizeof n);
	n.kind = NAME_WAL;
	memcpy(n.gen, w->gen, sizeof n.gen);
	n.idx = w->idx;
	n.off = (uint32_t)from;
	if (spool_publish(&w->sp, fd, tmp, &n) < 0)
		log_fatal(111, "unable to publish a WAL segment in %s: %s",
		    w->sp.dir, strerror(errno));
	name_format(&n, rel);
	announce(rel);
	log_info("wrote %s (%llu WAL bytes)", rel,
	    (unsigned long long)(to - from));
	w->pub = to;
	w->last_pub_ms = now_ms();
	stats_add(&w->st, "segments_total", 1);
	stats_add(&w->st, "segment_wal_bytes_total", to - from);
	return;
bad:
	log_fatal(111, "unable to write a WAL segment to %s: %s", tmp,
	    strerror(errno));
}

static void
add_commit(struct watch *w, uint64_t end)
{
	if (w->ncommits == w->capcommits) {
		w->capcommits = w->capcommits ? w->capcommits * 2 : 64;
		w->commits = realloc(w->commits,
		    w->capcommits * sizeof *w->commits);
		if (w->commits == NULL)
			log_fatal(111, "out of memory");
	}
	w->commits[w->ncommits++] = end;
}

/*
 * Validates the frames written since the last look; returns 1 if the
 * commit end moved. Frames after the last commit may still be rewritten
 * (a transaction that spilled to the WAL and rolled back), so the walk
 * starts again from the last commit when asked (rewind), when the first
 * frame after it has changed, or when frames have sat uncommitted for a
 * second; otherwise it goes on where it stopped, so a transaction being
 * written is read once, not once per wake-up.
 */
static int
read_frames(struct watch *w, int rewind)
{
	uint64_t before = w->cur.commit_off, off;
	size_t fs = w->cur.frame_size, nf, i, want;
	unsigned char h[WAL_FRAME_HDR];
	ssize_t r;

	w->ncommits = 0;
	if (w->cur.off > w->cur.commit_off && !rewind &&
	    now_ms() - w->pend_since_ms < 1000) {
		r = fsx_pread_all(w->walfd, h, sizeof h,
		    (off_t)w->cur.commit_off);
		if (r != (ssize_t)sizeof h || memcmp(h, w->pend_hdr, sizeof h))
			rewind = 1;
	} else
		rewind = 1;
	if (rewind)
		wal_cursor_to_commit(&w->cur);
	/* Start small and grow: past the end of what is valid the file may
	 * hold a long stale tail from before a restart. */
	want = 8;
	for (;;) {
		off = w->cur.off;
		nf = BUFSZ / fs;
		if (nf == 0)
			nf = 1;
		if (want < nf)
			nf = want;
		want *= 4;
		r = fsx_pread_all(w->walfd, w->buf, nf * fs, (off_t)off);
		if (r < 0)
			log_fatal(111, "unable to read %s: %s", w->wal,
			    strerror(errno));
		nf = (size_t)r / fs;
		for (i = 0; i < nf; i++) {
			uint64_t c = w->cur.commit_off;
			unsigned char *f = w->buf + i * fs;

			if (!wal_cursor_frame(&w->cur, f))
				goto done;
			if (w->cur.commit_off != c)
				add_commit(w, w->cur.commit_off);
			else if (w->cur.off == c + fs)
				memcpy(w->pend_hdr, f, WAL_FRAME_HDR);
		}
		if ((size_t)r < nf * fs || nf == 0)
			break;
	}
done:
	if (w->cur.off == w->cur.commit_off)
		w->pend_since_ms = 0;
	else if (w->pend_since_ms == 0 || rewind)
		w->pend_since_ms = now_ms();
	return w->cur.commit_off != before;
}

/* Publishes what is committed and not yet published: all of it as one
 * segment, or with -i 0 one segment per commit. */
static void
publish_pending(struct watch *w)
{
	size_t i;

	if (w->cur.commit_off <= w->pub && w->pub != 0)
		return;
	if (w->o.interval_ms == 0 && w->pub > 0) {
		for (i = 0; i < w->ncommits && !w->reset; i++)
			if (w->commits[i] > w->pub)
				publish_wal(w, w->pub, w->commits[i]);
		if (w->cur.commit_off > w->pub && !w->reset)
			publish_wal(w, w->pub, w->cur.commit_off);
		return;
	}
	publish_wal(w, w->pub, w->cur.commit_off);
}

static int
read_hdr(struct watch *w, unsigned char *h)
{
	ssize_t r = fsx_pread_all(w->walfd, h, WAL_HDR_SIZE, 0);

	if (r < 0)
		log_fatal(111, "unable to read %s: %s", w->wal, strerror(errno));
	return r == WAL_HDR_SIZE ? 0 : -1;
}

/* Starts index w->idx at the WAL header h. */
static void
start_index(struct watch *w, const unsigned char *h)
{
	memcpy(w->hdr, h, WAL_HDR_SIZE);
	wal_cursor_init(&w->cur, h);
	w->pub = 0;
	w->pend_since_ms = 0;
}

/*
 * Copies what is new in the WAL. With force, publishes at once; else only
 * if the interval since the last segment has passed (the caller then
 * comes back when it has).
 */
static void
scan(struct watch *w, int force)
{
	unsigned char h[WAL_HDR_SIZE];
	struct wal_hdr nh;
	struct stat st;
	int moved;

	if (w->reset)
		return;
	if (stat(w->wal, &st) < 0 || st.st_ino != w->wal_ino ||
	    st.st_dev != w->wal_dev) {
		/* Copy what the old file still holds, then give up on it. */
		if (read_frames(w, 1) || w->pub < w->cur.commit_off)
			publish_pending(w);
		lose(w, "%s", "the WAL file was removed or replaced by "
		    "another process");
		w->settle = 1;
		return;
	}
	if (read_hdr(w, h) < 0) {
		if (w->pub < w->cur.commit_off)
			publish_pending(w);
		lose(w, "%s", "the WAL was truncated by another process");
		return;
	}
	if (memcmp(h, w->hdr, WAL_HDR_SIZE) != 0) {
		/* Restarted: the old index may still have a tail. */
		read_frames(w, 1);
		if (w->cur.commit_off > w->pub)
			publish_wal(w, w->pub, w->cur.commit_off);
		if (wal_hdr_parse(h, &nh) < 0)
			return;	/* being written; come back */
		if (nh.salt1 != w->cur.hdr.salt1 + 1) {
			char why[96];

			snprintf(why, sizeof why, "salt-1 went from %08x to "
			    "%08x", (unsigned)w->cur.hdr.salt1,
			    (unsigned)nh.salt1);
			lose(w, "the WAL was restarted more than once between "
			    "two reads (%s)", why);
			return;
		}
		if (w->idx >= 0x7fffffff) {
			lose(w, "%s", "WAL index limit reached");
			return;
		}
		w->idx++;
		start_index(w, h);
		begin_read(w);
		force = 1;
	}
	moved = read_frames(w, force);
	if (moved)
		w->last_change_ms = now_ms();
	if (w->pub == 0 || (w->cur.commit_off > w->pub && (force ||
	    now_ms() - w->last_pub_ms >= w->o.interval_ms))) {
		publish_pending(w);
		/* Re-take the read mark past what was just copied. */
		begin_read(w);
	}
}

static void checkpoint(struct watch *w, enum ckpt_mode mode);

/* Copies the database file into a snapshot of the current index. Objects
 * are immutable: if the index already has a snapshot, the WAL is first
 * restarted so the new one gets an index of its own. */
static void
snapshot(struct watch *w, const char *why)
{
	char tmp[PATH_MAX], rel[NAME_LEN];
	struct lz4f_enc e;
	struct name n;
	struct stat st;
	uint32_t idx;
	uint64_t off, size;
	ssize_t r;
	int fd;

	memset(&n, 0, sizeof n);
	n.kind = NAME_SNAPSHOT;
	memcpy(n.gen, w->gen, sizeof n.gen);
	n.idx = w->idx;
	spool_path(&w->sp, &n, tmp);
	if (access(tmp, F_OK) == 0) {
		checkpoint(w, CK_RESTART);
		if (w->reset)
			return;
		if (w->idx == n.idx) {
			log_warn("snapshot postponed: WAL index %08x already has "
			    "one and readers kept the WAL from restarting",
			    (unsigned)w->idx);
			w->next_snap_ms = now_ms() + 60000;
			return;
		}
	}
	idx = w->idx;
	if ((fd = spool_tmpfile(&w->sp, tmp)) < 0)
		log_fatal(111, "unable to create a file in %s/tmp: %s",
		    w->sp.dir, strerror(errno));
	if (fstat(w->dbfd, &st) < 0 || lz4f_enc_begin(&e, fd) < 0)
		goto bad;
	size = (uint64_t)st.st_size;
	for (off = 0; off < size; off += (uint64_t)r) {
		size_t k = size - off < BUFSZ ? (size_t)(size - off) : BUFSZ;

		r = fsx_pread_all(w->dbfd, w->buf, k, (off_t)off);
		if (r < 0)
			goto bad;
		if (r == 0)
			break;
		if (off == 0 && r >= 20) {
			/* The copy is applied with its WAL: WAL mode. */
			w->buf[18] = 2;
			w->buf[19] = 2;
		}
		if (lz4f_enc_write(&e, w->buf, (size_t)r) < 0)
			goto bad;
	}
	if (lz4f_enc_end(&e) < 0)
		goto bad;
	/* The WAL a restore needs with this copy goes out first. */
	scan(w, 1);
	if (w->reset || w->idx != idx) {
		close(fd);
		unlink(tmp);
		return;
	}
	n.idx = idx;
	if (spool_publish(&w->sp, fd, tmp, &n) < 0)
		log_fatal(111, "unable to publish a snapshot in %s: %s",
		    w->sp.dir, strerror(errno));
	name_format(&n, rel);
	announce(rel);
	stats_add(&w->st, "snapshots_total", 1);
	log_info("wrote %s (%s, %llu database bytes)", rel, why,
	    (unsigned long long)size);
	w->next_snap_ms = w->o.snapshot_ms > 0 ?
	    now_ms() + w->o.snapshot_ms : INT64_MAX;
	return;
bad:
	log_fatal(111, "unable to write a snapshot to %s: %s", tmp,
	    strerror(errno));
}

/*
 * Runs a checkpoint so that the WAL restarts only after every frame in it
 * has been copied: the write lock is held from the last copy until the
 * checkpoint is done, and the restart is made by this program's own write.
 */
static void
checkpoint(struct watch *w, enum ckpt_mode mode)
{
	int log_n = -1, ck_n = -1, rc;
	int64_t deadline = now_ms() + BUSY_MS;

	w->next_ckpt_ms = now_ms() + 1000;
	if (exec_sql(w->wr, "BEGIN IMMEDIATE") != SQLITE_OK) {
		log_info("checkpoint %s skipped: database is busy",
		    ckpt_names[mode]);
		return;
	}
	scan(w, 1);
	if (w->reset) {
		exec_sql(w->wr, "ROLLBACK");
		return;
	}
	end_reads(w);
	for (;;) {
		rc = sqlite3_wal_checkpoint_v2(w->rd[w->rcur], NULL,
		    SQLITE_CHECKPOINT_PASSIVE, &log_n, &ck_n);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warn("checkpoint %s: %s", ckpt_names[mode],
			    sqlite3_errstr(rc));
		if (ck_n >= log_n || mode == CK_PASSIVE || now_ms() >= deadline)
			break;
		usleep(10000);	/* readers of older frames: wait a little */
	}
	exec_sql(w->wr, "ROLLBACK");
	if (ck_n >= 0 && ck_n >= log_n) {
		if (mode == CK_TRUNCATE)
			exec_sql(w->wr, "PRAGMA journal_size_limit = 0");
		touch_seq(w);
		if (mode == CK_TRUNCATE)
			exec_sql(w->wr, "PRAGMA journal_size_limit = -1");
	}
	begin_read(w);
	stats_add(&w->st, mode == CK_PASSIVE ? "checkpoints_passive_total" :
	    mode == CK_RESTART ? "checkpoints_restart_total" :
	    "checkpoints_truncate_total", 1);
	log_info("checkpoint %s: %d of %d frames", ckpt_names[mode], ck_n,
	    log_n);
	scan(w, 1);
}

static void
maybe_checkpoint(struct watch *w)
{
	uint64_t frames, fs = w->cur.frame_size;
	enum ckpt_mode m = CK_NONE;
	int64_t t = now_ms();

	if (w->reset || t < w->next_ckpt_ms)
		return;
	frames = (w->cur.commit_off - WAL_HDR_SIZE) / fs;
	if (w->o.trunc_pages > 0 && frames >= w->o.trunc_pages)
		m = CK_TRUNCATE;
	else if (w->o.max_pages > 0 && frames >= w->o.max_pages)
		m = CK_RESTART;
	else if (w->o.min_pages > 0 && frames >= w->o.min_pages)
		m = CK_PASSIVE;
	else if (w->o.idle_ms > 0 && frames > 1 &&
	    t - w->last_change_ms >= w->o.idle_ms)
		m = CK_PASSIVE;
	if (m != CK_NONE)
		checkpoint(w, m);
}

/* Streams spool segments through a cursor to rebuild the position. */
struct rebuild {
	struct wal_cursor	c;
	unsigned char		hdr[WAL_HDR_SIZE];
	unsigned char		*frame;	/* partial frame, then the last */
	size_t			have;
	int			started, bad;
	uint64_t		bytes;
};

static int
rebuild_sink(void *ctx, const void *p, size_t n)
{
	struct rebuild *rb = ctx;
	const unsigned char *s = p;
	size_t need, k;

	while (n > 0 && !rb->bad) {
		need = rb->started ? rb->c.frame_size : WAL_HDR_SIZE;
		k = need - rb->have < n ? need - rb->have : n;
		memcpy(rb->frame + rb->have, s, k);
		rb->have += k;
		rb->bytes += k;
		s += k;
		n -= k;
		if (rb->have < need)
			break;
		if (!rb->started) {
			if (wal_cursor_init(&rb->c, rb->frame) < 0)
				rb->bad = 1;
			memcpy(rb->hdr, rb->frame, WAL_HDR_SIZE);
			rb->started = 1;
		} else if (!wal_cursor_frame(&rb->c, rb->frame))
			rb->bad = 1;
		rb->have = 0;
	}
	return 0;
}

/* Tries to continue the spool's current generation. 0 if it can, else -1
 * with w->reason saying why not. */
static int
resume(struct watch *w)
{
	char ident[64], want[64], path[PATH_MAX];
	unsigned char h[WAL_HDR_SIZE], *real = NULL;
	struct spool_list l;
	struct rebuild rb;
	struct lz4f_dec d;
	uint32_t idx = 0;
	size_t i;
	int found = 0, r, fd;
	int64_t snap_ns = 0;
	struct timespec ts;

	r = spool_generation(&w->sp, w->gen, ident, sizeof ident);
	if (r < 0)
		log_fatal(100, "unable to read %s/generation: %s", w->sp.dir,
		    strerror(errno));
	if (r == 0) {
		snprintf(w->reason, sizeof w->reason, "no generation yet");
		return -1;
	}
	snprintf(want, sizeof want, "%llu:%llu", (unsigned long long)w->db_dev,
	    (unsigned long long)w->db_ino);
	if (strcmp(ident, want) != 0) {
		snprintf(w->reason, sizeof w->reason, "the database file was "
		    "replaced (was %s, now %s)", ident, want);
		return -1;
	}
	if (spool_list_gen(&w->sp, w->gen, &l) < 0)
		log_fatal(111, "unable to list %s: %s", w->sp.dir,
		    strerror(errno));
	for (i = 0; i < l.n; i++) {
		if (l.v[i].n.kind == NAME_WAL && (!found || l.v[i].n.idx > idx))
			idx = l.v[i].n.idx;
		if (l.v[i].n.kind == NAME_WAL)
			found = 1;
		if (l.v[i].n.kind == NAME_SNAPSHOT && l.v[i].mtime_ns > snap_ns)
			snap_ns = l.v[i].mtime_ns;
	}
	if (!found || snap_ns == 0) {
		spool_list_free(&l);
		snprintf(w->reason, sizeof w->reason, "the spool has no %s for "
		    "generation %s", found ? "snapshot" : "WAL", w->gen);
		return -1;
	}
	memset(&rb, 0, sizeof rb);
	rb.frame = malloc(WAL_FRAME_HDR + 65536);
	if (rb.frame == NULL)
		log_fatal(111, "out of memory");
	for (i = 0; i < l.n && !rb.bad; i++) {
		struct spool_obj *o = &l.v[i];
		char rel[NAME_LEN];

		if (o->n.kind != NAME_WAL || o->n.idx != idx)
			continue;
		name_format(&o->n, rel);
		if (o->n.off != rb.bytes || rb.have != 0) {
			rb.bad = 1;
			break;
		}
		spool_path(&w->sp, &o->n, path);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
		    lz4f_dec_init(&d, rebuild_sink, &rb) < 0)
			log_fatal(111, "unable to read %s: %s", path,
			    strerror(errno));
		for (;;) {
			ssize_t n = read(fd, w->buf, BUFSZ);

			if (n < 0)
				log_fatal(111, "unable to read %s: %s", path,
				    strerror(errno));
			if (n == 0) {
				if (lz4f_dec_finish(&d) < 0)
					rb.bad = 1;
				break;
			}
			if (lz4f_dec_push(&d, w->buf, (size_t)n) < 0) {
				rb.bad = 1;
				break;
			}
		}
		lz4f_dec_free(&d);
		close(fd);
		if (!rb.bad && rb.c.off != rb.c.commit_off)
			rb.bad = 1;	/* a segment must end on a commit */
	}
	spool_list_free(&l);
	if (rb.bad || !rb.started) {
		free(rb.frame);
		snprintf(w->reason, sizeof w->reason, "the spool's WAL index "
		    "%08x is damaged", (unsigned)idx);
		return -1;
	}
	if (w->walfd < 0 || read_hdr(w, h) < 0) {
		free(rb.frame);
		snprintf(w->reason, sizeof w->reason, "the WAL was removed or "
		    "truncated while ls-watch was not running");
		return -1;
	}
	if (memcmp(h, rb.hdr, WAL_HDR_SIZE) != 0) {
		free(rb.frame);
		snprintf(w->reason, sizeof w->reason, "the WAL was restarted "
		    "by another process while ls-watch was not running");
		return -1;
	}
	if (rb.c.off > WAL_HDR_SIZE) {
		/* The last frame copied must still be there, unchanged. */
		real = malloc(rb.c.frame_size);
		if (real == NULL)
			log_fatal(111, "out of memory");
		r = (int)fsx_pread_all(w->walfd, real, rb.c.frame_size,
		    (off_t)(rb.c.off - rb.c.frame_size));
		if (r != (int)rb.c.frame_size ||
		    memcmp(real, rb.frame, rb.c.frame_size) != 0) {
			free(real);
			free(rb.frame);
			snprintf(w->reason, sizeof w->reason, "the WAL was "
			    "overwritten by another process while ls-watch was "
			    "not running");
			return -1;
		}
		free(real);
	}
	free(rb.frame);
	w->idx = idx;
	memcpy(w->hdr, h, WAL_HDR_SIZE);
	w->cur = rb.c;
	w->pub = rb.c.off;
	w->pend_since_ms = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	{
		int64_t age = ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec -
		    snap_ns) / 1000000;

		w->next_snap_ms = w->o.snapshot_ms > 0 ?
		    now_ms() + (w->o.snapshot_ms - age > 0 ?
		    w->o.snapshot_ms - age : 0) : INT64_MAX;
	}
	log_info("resuming generation %s at WAL index %08x offset %08llx",
	    w->gen, (unsigned)w->idx, (unsigned long long)w->pub);
	return 0;
}

/* Makes sure the WAL exists with a header (a write makes one). */
static void
ensure_wal(struct watch *w)
{
	unsigned char h[WAL_HDR_SIZE];

	if (w->walfd >= 0 && read_hdr(w, h) == 0)
		return;
	if (touch_seq(w) != SQLITE_OK)
		log_fatal(111, "unable to write to %s: %s", w->db,
		    sqlite3_errmsg(w->wr));
	if (open_wal(w) < 0 || read_hdr(w, h) < 0)
		log_fatal(111, "%s: no WAL after a write", w->db);
}

static void
new_generation(struct watch *w)
{
	unsigned char h[WAL_HDR_SIZE];
	char ident[64], path[PATH_MAX];

	if (name_new_generation(w->gen) < 0)
		log_fatal(111, "unable to get random bytes: %s",
		    strerror(errno));
	snprintf(ident, sizeof ident, "%llu:%llu",
	    (unsigned long long)w->db_dev, (unsigned long long)w->db_ino);
	snprintf(path, sizeof path, "%s/generations/%s", w->sp.dir, w->gen);
	if (fsx_mkdirs(path, 0755) < 0 ||
	    spool_set_generation(&w->sp, w->gen, ident) < 0)
		log_fatal(111, "unable to start generation in %s: %s",
		    w->sp.dir, strerror(errno));
	ensure_wal(w);
	begin_read(w);
	if (read_hdr(w, h) < 0 || wal_hdr_parse(h, &(struct wal_hdr){ 0 }) < 0)
		log_fatal(111, "%s: the WAL header is not valid", w->wal);
	w->idx = 0;
	w->reset = 0;
	stats_add(&w->st, "generations_total", 1);
	start_index(w, h);
	scan(w, 1);
	snapshot(w, "new generation");
}

static void
open_db(struct watch *w)
{
	static const char *const setup =
	    "PRAGMA wal_autocheckpoint = 0;"
	    "CREATE TABLE IF NOT EXISTS _litestream_seq "
	    "(id INTEGER PRIMARY KEY, seq INTEGER);"
	    "CREATE TABLE IF NOT EXISTS _litestream_lock (id INTEGER);";
	unsigned char magic[16];
	sqlite3_stmt *st;
	struct stat sb;
	const char *mode;
	int i, rc, on = 1;
	ssize_t r;

	/* A database that does not exist yet is temporary: the application
	 * creates it on its first start, and a supervisor tries again. */
	if ((w->dbfd = open(w->db, O_RDONLY | O_CLOEXEC)) < 0)
		log_fatal(errno == EACCES ? 100 : 111, "unable to open %s: %s",
		    w->db, strerror(errno));
	if (fstat(w->dbfd, &sb) < 0 || !S_ISREG(sb.st_mode))
		log_fatal(100, "%s: not a regular file", w->db);
	if (flock(w->dbfd, LOCK_EX | LOCK_NB) < 0)
		log_fatal(100, "%s: another ls-watch is already watching this "
		    "database", w->db);
	w->db_dev = sb.st_dev;
	w->db_ino = sb.st_ino;
	r = fsx_pread_all(w->dbfd, magic, sizeof magic, 0);
	if (r != 0 && (r != (ssize_t)sizeof magic ||
	    memcmp(magic, "SQLite format 3", 16) != 0))
		log_fatal(100, "%s: not a SQLite database", w->db);
	for (i = 0; i < 3; i++) {
		sqlite3 **dbp = i < 2 ? &w->rd[i] : &w->wr;

		rc = sqlite3_open_v2(w->db, dbp, SQLITE_OPEN_READWRITE, NULL);
		if (rc != SQLITE_OK)
			log_fatal(100, "unable to open %s: %s", w->db,
			    *dbp ? sqlite3_errmsg(*dbp) : sqlite3_errstr(rc));
		sqlite3_busy_timeout(*dbp, BUSY_MS);
		/* Keep the WAL, unchanged, when this is the last connection
		 * to close: no checkpoint, no restart behind our back. */
		sqlite3_file_control(*dbp, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
		sqlite3_db_config(*dbp, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
		    NULL);
	}
	rc = sqlite3_prepare_v2(w->wr, "PRAGMA journal_mode = wal", -1, &st,
	    NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			log_fatal(111, "unable to switch %s to WAL mode: "
			    "the database is locked by another process", w->db);
		if (rc == SQLITE_NOTADB)
			log_fatal(100, "%s: not a SQLite database", w->db);
		log_fatal(100, "unable to switch %s to WAL mode: %s", w->db,
		    mode ? mode : sqlite3_errmsg(w->wr));
	}
	sqlite3_finalize(st);
	for (i = 0; i < 3; i++) {
		sqlite3 *db = i < 2 ? w->rd[i] : w->wr;
		char *err = NULL;

		if (sqlite3_exec(db, i == 2 ? setup :
		    "PRAGMA wal_autocheckpoint = 0", NULL, NULL, &err) != 0) {
			log_fatal(111, "unable to prepare %s: %s", w->db,
			    err ? err : "error");
		}
	}
	w->walfd = -1;
	open_wal(w);
	w->rcur = 0;
}

static void
close_db(struct watch *w)
{
	int i;

	end_reads(w);
	for (i = 0; i < 2; i++)
		sqlite3_close(w->rd[i]);
	sqlite3_close(w->wr);
	if (w->walfd >= 0)
		close(w->walfd);
	close(w->dbfd);	/* only now: closing drops SQLite's POSIX locks */
	w->walfd = w->dbfd = -1;
}

static int
db_replaced(struct watch *w)
{
	struct stat st;

	if (stat(w->db, &st) < 0)
		return errno == ENOENT;
	return st.st_ino != w->db_ino || st.st_dev != w->db_dev;
}

static void
parse_args(struct watch *w, int argc, char **argv)
{
	int c;
	uint64_t v;

	w->o.interval_ms = 1000;
	w->o.snapshot_ms = 24 * 3600 * 1000LL;
	w->o.idle_ms = 60 * 1000;
	w->o.min_pages = 1000;
	w->o.max_pages = 10000;
	w->o.trunc_pages = 500000;
	w->o.ready_fd = -1;
	while ((c = getopt(argc, argv, "vd:i:s:k:c:C:T:")) != -1) {
		switch (c) {
		case 'v':
			log_verbose = 1;
			break;
		case 'd':
			if ((w->o.ready_fd = ready_parse(optarg)) < 0)
				log_fatal(100, "-d %s: not an open descriptor "
				    ">= 3", optarg);
			break;
		case 'i':
		case 's':
		case 'k':
			if (dur_parse(optarg, c == 'i' ? &w->o.interval_ms :
			    c == 's' ? &w->o.snapshot_ms : &w->o.idle_ms) < 0)
				log_fatal(100, "-%c %s: not a duration", c,
				    optarg);
			break;
		case 'c':
		case 'C':
		case 'T':
			if (dur_parse_uint(optarg, UINT32_MAX, &v) < 0)
				log_fatal(100, "-%c %s: not a page count", c,
				    optarg);
			*(c == 'c' ? &w->o.min_pages : c == 'C' ?
			    &w->o.max_pages : &w->o.trunc_pages) = v;
			break;
		default:
			log_usage(USAGE);
		}
	}
	if (argc - optind != 2)
		log_usage(USAGE);
	w->db = argv[optind];
	if (snprintf(w->wal, sizeof w->wal, "%s-wal", w->db) >=
	    (int)sizeof w->wal)
		log_fatal(100, "%s: path too long", w->db);
	snprintf(w->dbdir, sizeof w->dbdir, "%s", w->db);
	{
		char *slash = strrchr(w->dbdir, '/');

		if (slash == NULL) {
			strcpy(w->dbdir, ".");
			w->dbbase = w->db;
		} else {
			w->dbbase = w->db + (slash - w->dbdir) + 1;
			if (slash == w->dbdir)
				slash[1] = '\0';
			else
				*slash = '\0';
		}
	}
	snprintf(w->walbase, sizeof w->walbase, "%s-wal", w->dbbase);
	if (spool_open(&w->sp, argv[optind + 1], 1) < 0)
		log_fatal(100, "unable to use spool %s: %s", argv[optind + 1],
		    strerror(errno));
}

static void
start(struct watch *w)
{
	open_db(w);
	w->reset = 0;
	if (resume(w) < 0) {
		if (strcmp(w->reason, "no generation yet") == 0)
			log_info("starting a generation: %s", w->reason);
		else
			log_warn("starting a new generation: %s", w->reason);
		new_generation(w);
	} else {
		begin_read(w);
		scan(w, 1);
	}
	w->last_change_ms = now_ms();
}

int
main(int argc, char **argv)
{
	struct watch w;
	struct pollfd pfd[2];
	struct signalfd_siginfo si;
	sigset_t mask;
	char evbuf[4096] __attribute__((aligned(8)));
	int ino, sfd, acks_wd, dir_wd, want_snap = 0, acks_changed = 1, quiet;
	int n_ev, changed;
	int64_t next_gc = 0;
	int64_t t, wait;

	PROG = "ls-watch";
	memset(&w, 0, sizeof w);
	w.walfd = w.dbfd = w.ino = w.wal_wd = -1;
	parse_args(&w, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if ((w.buf = malloc(BUFSZ)) == NULL)
		log_fatal(111, "out of memory");
	if (spool_lock(&w.sp) < 0)
		log_fatal(100, "%s: %s", w.sp.dir, errno == EWOULDBLOCK ?
		    "spool in use by another ls-watch" : strerror(errno));
	spool_clean_tmp(&w.sp);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    (ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0)
		log_fatal(111, "unable to set up events: %s", strerror(errno));
	w.ino = ino;
	if ((dir_wd = inotify_add_watch(ino, w.dbdir, IN_CREATE |
	    IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) < 0)
		log_fatal(111, "unable to watch %s: %s", w.dbdir,
		    strerror(errno));
	{
		char acks[PATH_MAX];

		snprintf(acks, sizeof acks, "%s/acks", w.sp.dir);
		if ((acks_wd = inotify_add_watch(ino, acks, IN_MOVED_TO |
		    IN_MODIFY | IN_DELETE)) < 0)
			log_fatal(111, "unable to watch %s: %s", acks,
			    strerror(errno));
	}

	start(&w);
	ready_notify(&w.o.ready_fd);

	for (;;) {
		if (w.reset || db_replaced(&w)) {
			if (!w.reset) {
				lose(&w, "%s", "the database file was replaced");
				w.settle = 1;
			}
			log_warn("starting a new generation: %s", w.reason);
			close_db(&w);
			/* Files are being moved about: let whoever does it
			 * finish before opening what is there now. */
			if (w.settle)
				usleep(1000000);
			w.settle = 0;
			open_db(&w);
			w.reset = 0;
			new_generation(&w);
			continue;
		}
		/* Collection lists the whole spool: at most every 10 s. */
		t = now_ms();
		if (acks_changed && t >= next_gc) {
			if (spool_gc(&w.sp) < 0)
				log_warn("unable to clean %s: %s", w.sp.dir,
				    strerror(errno));
			acks_changed = 0;
			next_gc = t + 10000;
		}
		wait = w.next_snap_ms - t;
		if (acks_changed && next_gc - t < wait)
			wait = next_gc - t;
		/* Within an interval of the last segment nothing can be
		 * published, so events are left to queue up until it ends:
		 * one wake-up per interval while writes go on. */
		quiet = w.o.interval_ms > 0 &&
		    t < w.last_pub_ms + w.o.interval_ms;
		if (quiet || w.cur.commit_off > w.pub) {
			int64_t d = w.last_pub_ms + w.o.interval_ms - t;

			if (d < wait)
				wait = d;
		}
		if (w.st.dirty && w.st.next_ms - t < wait)
			wait = w.st.next_ms - t;	/* counters to write */
		if (w.pend_since_ms > 0 && w.pend_since_ms + 1000 - t < wait)
			wait = w.pend_since_ms + 1000 - t;
		if (w.o.idle_ms > 0 &&
		    (w.cur.commit_off - WAL_HDR_SIZE) / w.cur.frame_size > 1) {
			int64_t d = w.last_change_ms + w.o.idle_ms - t;

			if (d < w.next_ckpt_ms - t)
				d = w.next_ckpt_ms - t;
			if (d < wait)
				wait = d;
		}
		if (wait < 0)
			wait = 0;
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = quiet ? -1 : ino;
		pfd[1].events = POLLIN;
		n_ev = poll(pfd, 2, wait > INT32_MAX ? INT32_MAX : (int)wait);
		if (n_ev < 0 && errno != EINTR)
			log_fatal(111, "poll: %s", strerror(errno));
		changed = n_ev == 0;	/* a timer: look at everything */
		while (read(sfd, &si, sizeof si) == sizeof si) {
			if (si.ssi_signo == SIGUSR1)
				want_snap = 1;
			else
				got_term = 1;
			changed = 1;
		}
		/* Bounded: a busy directory must not keep us here. */
		for (int reads = 0; reads < 64; reads++) {
			ssize_t n = read(ino, evbuf, sizeof evbuf);
			char *p;

			if (n <= 0)
				break;
			for (p = evbuf; p < evbuf + n;) {
				struct inotify_event *ev = (void *)p;

				if (ev->wd == acks_wd)
					acks_changed = 1;
				else if (ev->wd != dir_wd || (ev->len > 0 &&
				    (strcmp(ev->name, w.dbbase) == 0 ||
				    strcmp(ev->name, w.walbase) == 0)))
					changed = 1;
				p += sizeof *ev + ev->len;
			}
		}
		if (got_term) {
			scan(&w, 1);
			log_info("stopping: everything committed is in %s",
			    w.sp.dir);
			stats_flush(&w.st, &w.sp, "watch", 1);
			close_db(&w);
			spool_close(&w.sp);
			free(w.commits);
			free(w.buf);
			return 0;
		}
		if (!changed)
			continue;	/* an ack, or a file of no interest */
		/* A replaced database explains a vanished WAL too. */
		if (db_replaced(&w))
			continue;
		scan(&w, 0);
		maybe_checkpoint(&w);
		stats_flush(&w.st, &w.sp, "watch", 0);
		if (!w.reset && (want_snap || now_ms() >= w.next_snap_ms)) {
			snapshot(&w, want_snap ? "requested" : "interval");
			want_snap = 0;
			acks_changed = 1;	/* older objects may go now */
			next_gc = 0;
		}
	}
}
