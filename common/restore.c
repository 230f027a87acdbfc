/*
 * restore: choosing what to restore from a replica's listing, and
 * rebuilding the database from it (see restore.h).
 *
 * Files written, all in the output's directory:
 *
 *   OUT.tmp      the database being rebuilt; created 0600, locked with
 *                flock(2) for the whole restore so that two restores to
 *                one OUT cannot mix, and renamed to OUT (never over an
 *                existing OUT) once complete and fsynced
 *   OUT.tmp-wal  one WAL index at a time: its segments, checked and
 *                concatenated, for SQLite to checkpoint into OUT.tmp
 *   OUT.tmp-shm  SQLite's WAL index while it checkpoints
 *
 * All three are removed on failure; a stale OUT.tmp-wal or -shm from a
 * restore that was killed is removed before anything is written, since
 * SQLite would otherwise replay it. For the same reason an OUT-wal or
 * OUT-journal without its OUT stops the restore.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "age.h"
#include "fsx.h"
#include "log.h"
#include "lz4f.h"
#include "replica.h"
#include "restore.h"
#include "wal.h"

/* A decompressed WAL segment larger than this cannot be followed by
 * another (offsets are 32-bit), so it is taken for a bad object. */
#define SEG_MAX		((size_t)UINT32_MAX)

volatile sig_atomic_t restore_interrupted;

/*
 * Planning.
 */

static int
obj_cmp(const void *a, const void *b)
{
	const struct restore_obj *x = a, *y = b;
	int c;

	if ((c = strcmp(x->n.gen, y->n.gen)) != 0)
		return c;
	return name_cmp(&x->n, &y->n);
}

static void
wal_name(const char *gen, uint32_t idx, uint32_t off, char *buf)
{
	struct name n;

	memset(&n, 0, sizeof n);
	n.kind = NAME_WAL;
	memcpy(n.gen, gen, NAME_GEN_LEN);
	n.idx = idx;
	n.off = off;
	name_format(&n, buf);
}

int
restore_plan(const struct backend_obj *objs, size_t n,
    const struct restore_opts *o, struct restore_plan *p, char *err,
    size_t errlen)
{
	struct restore_obj *v, *w, *snap = NULL, *s;
	size_t nv = 0, i, j, end, start = 0, stop = 0;
	int64_t created, updated;
	uint32_t cur = 0, expect, top;
	char buf[NAME_LEN];
	int have = 0;

	memset(p, 0, sizeof *p);
	if ((v = calloc(n ? n : 1, sizeof *v)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (name_parse(objs[i].name, &v[nv].n) < 0)
			continue;
		if (o->gen != NULL && strcmp(v[nv].n.gen, o->gen) != 0)
			continue;
		memcpy(v[nv].name, objs[i].name, sizeof v[nv].name);
		v[nv].name[NAME_LEN - 1] = '\0';
		v[nv].size = objs[i].size;
		v[nv].mtime_ns = objs[i].mtime_ns;
		nv++;
	}
	qsort(v, nv, sizeof *v, obj_cmp);

	/* The generation: usable snapshot, newest last object. */
	for (i = 0; i < nv; i = end) {
		created = updated = v[i].mtime_ns;
		s = NULL;
		for (end = i; end < nv && strcmp(v[end].n.gen, v[i].n.gen) == 0;
		    end++) {
			w = &v[end];
			if (w->mtime_ns < created)
				created = w->mtime_ns;
			if (w->mtime_ns > updated)
				updated = w->mtime_ns;
			if (w->n.kind != NAME_SNAPSHOT)
				continue;
			if (o->has_time && w->mtime_ns > o->time_ns)
				continue;
			if (o->has_index && w->n.idx > o->index)
				continue;
			s = w;	/* sorted: the last is the highest */
		}
		if (s == NULL)
			continue;
		if (snap == NULL || updated >= p->updated_ns) {
			snap = s;
			start = i;
			stop = end;
			p->created_ns = created;
			p->updated_ns = updated;
		}
	}
	if (snap == NULL) {
		snprintf(err, errlen, "no matching backups found");
		free(v);
		return RESTORE_NONE;
	}
	memcpy(p->gen, snap->n.gen, sizeof p->gen);
	p->snap = *snap;
	if ((p->wal = calloc(stop - start, sizeof *p->wal)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(v);
		return -1;
	}

	/* The WAL: from the snapshot's index on, without a hole. */
	expect = snap->n.idx;
	for (j = start; j < stop; j++) {
		w = &v[j];
		if (w->n.kind != NAME_WAL || w->n.idx < snap->n.idx)
			continue;
		if (o->has_index && w->n.idx > o->index)
			break;
		if (o->has_time && w->mtime_ns > o->time_ns)
			break;
		if (!have || w->n.idx != cur) {
			if (w->n.idx != expect) {
				wal_name(p->gen, expect, 0, buf);
				snprintf(err, errlen, "%s: missing: WAL index "
				    "%x has no segment, but index %x has", buf,
				    (unsigned)expect, (unsigned)w->n.idx);
				goto bad;
			}
			if (w->n.off != 0) {
				snprintf(err, errlen, "%s: gap: bytes "
				    "0x0..0x%x of WAL index %x are missing",
				    w->name, (unsigned)w->n.off,
				    (unsigned)w->n.idx);
				goto bad;
			}
			have = 1;
			cur = w->n.idx;
			expect = cur + 1;
			p->nidx++;
		}
		p->wal[p->nwal++] = *w;
		p->wal_bytes += w->size;
	}
	top = have ? cur : snap->n.idx;
	if (o->has_index && top < o->index) {
		snprintf(err, errlen, "generation %s has no WAL index %x "
		    "(the last is %x)", p->gen, (unsigned)o->index,
		    (unsigned)top);
		goto bad;
	}
	if (p->nwal == 0)
		snprintf(p->warn, sizeof p->warn, "%s: no WAL for index %x; "
		    "restoring the snapshot alone", snap->name,
		    (unsigned)snap->n.idx);
	free(v);
	return 0;
bad:
	free(v);
	restore_plan_free(p);
	return -1;
}

void
restore_plan_free(struct restore_plan *p)
{
	free(p->wal);
	p->wal = NULL;
	p->nwal = 0;
}


/*
 * Times.
 */

static int
digits(const char *s, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

int
restore_parse_time(const char *s, int64_t *ns)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	struct tm tm;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, k, leap, sign = 0;
	int64_t frac = 0, scale = 100000000, t;
	time_t tt;

	if (strlen(s) < 20 || digits(s, 4, &y) < 0 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) < 0 || s[7] != '-' ||
	    digits(s + 8, 2, &d) < 0 || s[10] != 'T' ||
	    digits(s + 11, 2, &h) < 0 || s[13] != ':' ||
	    digits(s + 14, 2, &mi) < 0 || s[16] != ':' ||
	    digits(s + 17, 2, &sec) < 0)
		return -1;
	s += 19;
	if (*s == '.') {
		for (s++, k = 0; *s >= '0' && *s <= '9'; s++, k++) {
			frac += (*s - '0') * scale;
			scale /= 10;
		}
		if (k == 0)
			return -1;
	}
	if (*s == 'Z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		if (digits(s + 1, 2, &oh) < 0 || s[3] != ':' ||
		    digits(s + 4, 2, &om) < 0 || oh > 23 || om > 59)
			return -1;
		s += 6;
	} else
		return -1;
	if (*s != '\0')
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
	    sec > 59)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tt = timegm(&tm);
	t = (int64_t)tt - sign * (int64_t)(oh * 3600 + om * 60);
	/* Beyond what nanoseconds in 64 bits hold: before or after every
	 * object, which is all a restore asks of a time. */
	if (t >= INT64_MAX / 1000000000)
		*ns = INT64_MAX;
	else if (t < INT64_MIN / 1000000000 + 1)
		*ns = INT64_MIN;
	else
		*ns = t * 1000000000 + frac;
	return 0;
}

void
restore_format_time(int64_t ns, char *buf)
{
	int64_t sec = ns / 1000000000, rem = ns % 1000000000;
	struct tm tm;
	time_t tt;
	size_t k;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	tt = (time_t)sec;
	if (gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, RESTORE_TIME_LEN, "-");
		return;
	}
	k = strftime(buf, RESTORE_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, RESTORE_TIME_LEN - k, ".%03dZ",
	    (int)(rem / 1000000));
}

/*
 * Applying.
 */

/* One download: backend bytes (through age if the object is encrypted)
 * through the LZ4 decoder to a sink. Whoever stops it (the sink, a
 * decoder, a stop request) sets code and err. */
struct xfer {
	struct lz4f_dec	dec;
	struct age_dec	adec;
	const struct age_keys *ids;	/* the replica's identities, or NULL */
	const char	*where, *name;
	atomic_int	*stop;
	int		code;
	char		err[512];
	int		mode;		/* 0 undecided, 1 LZ4, 2 age */
	/* The first bytes, until they tell an LZ4 frame from an age file
	 * (Litestream's optional client-side encryption). */
	unsigned char	head[AGE_MAGIC_LEN];
	size_t		nhead;
};

/* LZ4 bytes in. */
static int
xfer_lz4(void *ctx, const void *p, size_t n)
{
	struct xfer *x = ctx;
	int r;

	r = lz4f_dec_push(&x->dec, p, n);
	if (r == -1) {
		x->code = 100;
		snprintf(x->err, sizeof x->err, "unable to restore from %s: "
		    "%s: %s", x->where, x->name, x->dec.err);
	}
	return r < 0 ? -1 : 0;
}

/* Object bytes in, once the kind is known. */
static int
xfer_feed(struct xfer *x, const void *p, size_t n)
{
	int r;

	if (x->mode == 1)
		return xfer_lz4(x, p, n);
	if ((r = age_dec_push(&x->adec, p, n)) == -1) {
		x->code = 100;
		snprintf(x->err, sizeof x->err, "unable to restore from %s: "
		    "%s: %s", x->where, x->name, x->adec.err);
	}
	return r < 0 ? -1 : 0;
}

/* Decides from the first bytes whether the object is an age file, and
 * feeds them. */
static int
xfer_decide(struct xfer *x)
{
	x->mode = 1;
	if (age_is_age(x->head, x->nhead)) {
		if (x->ids == NULL) {
			x->code = 100;
			snprintf(x->err, sizeof x->err, "unable to restore "
			    "from %s: %s: encrypted with age: give the "
			    "replica's age-identities", x->where, x->name);
			return -1;
		}
		if (age_dec_init(&x->adec, x->ids, xfer_lz4, x) < 0) {
			x->code = 111;
			snprintf(x->err, sizeof x->err, "unable to download "
			    "%s: %s", x->name, strerror(errno));
			return -1;
		}
		x->mode = 2;
	}
	return xfer_feed(x, x->head, x->nhead);
}

static int
xfer_sink(void *ctx, const void *p, size_t n)
{
	struct xfer *x = ctx;
	const unsigned char *q = p;
	size_t k;

	if (restore_interrupted || (x->stop != NULL && atomic_load(x->stop))) {
		x->code = 111;
		snprintf(x->err, sizeof x->err, "unable to download %s: "
		    "interrupted", x->name);
		return -1;
	}
	if (x->mode == 0) {
		k = AGE_MAGIC_LEN - x->nhead;
		if (k > n)
			k = n;
		memcpy(x->head + x->nhead, q, k);
		x->nhead += k;
		if (x->nhead < AGE_MAGIC_LEN)
			return 0;
		if (xfer_decide(x) < 0)
			return -1;
		q += k;
		n -= k;
	}
	return n > 0 ? xfer_feed(x, q, n) : 0;
}

/* Returns 0, or 100/111 with x->err. */
static int
download(struct backend *b, const struct restore_obj *o, struct xfer *x,
    lz4f_sink sink, void *sctx)
{
	int rc;

	x->where = b->where;
	x->name = o->name;
	x->code = 0;
	x->err[0] = '\0';
	x->nhead = 0;
	x->mode = 0;
	x->ids = b->age != NULL && b->age->ids.n > 0 ? &b->age->ids : NULL;
	if (lz4f_dec_init(&x->dec, sink, sctx) < 0) {
		snprintf(x->err, sizeof x->err, "unable to download %s: %s",
		    o->name, strerror(errno));
		return 111;
	}
	b->err[0] = '\0';
	rc = b->ops->get(b, o->name, xfer_sink, x);
	if (x->code == 0 && rc != BE_OK) {
		x->code = rc == BE_PERM ? 100 : 111;
		snprintf(x->err, sizeof x->err, "%s", b->err[0] ? b->err :
		    "unable to download object");
	}
	/* An object shorter than the age magic. */
	if (x->code == 0 && x->mode == 0)
		xfer_decide(x);
	if (x->code == 0 && x->mode == 2 && age_dec_finish(&x->adec) == -1) {
		x->code = 100;
		snprintf(x->err, sizeof x->err, "unable to restore from %s: "
		    "%s: %s", x->where, o->name, x->adec.err);
	}
	if (x->code == 0 && lz4f_dec_finish(&x->dec) == -1) {
		x->code = 100;
		snprintf(x->err, sizeof x->err, "unable to restore from %s: "
		    "%s: %s", x->where, o->name, x->dec.err);
	}
	if (x->mode == 2)
		age_dec_free(&x->adec);
	lz4f_dec_free(&x->dec);
	return x->code;
}

/* Sink: a whole segment in memory. */
struct memout {
	struct xfer	*x;
	unsigned char	*p;
	size_t		len, cap;
};

static int
mem_out(void *ctx, const void *p, size_t n)
{
	struct memout *m = ctx;
	unsigned char *q;
	size_t cap;

	if (n > SEG_MAX - m->len) {
		m->x->code = 100;
		snprintf(m->x->err, sizeof m->x->err, "unable to restore from "
		    "%s: %s: segment larger than 4 GiB", m->x->where,
		    m->x->name);
		return -1;
	}
	if (m->len + n > m->cap) {
		cap = m->cap ? m->cap : 65536;
		while (cap < m->len + n)
			cap *= 2;
		if ((q = realloc(m->p, cap)) == NULL) {
			m->x->code = 111;
			snprintf(m->x->err, sizeof m->x->err, "unable to "
			    "download %s: %s", m->x->name, strerror(ENOMEM));
			return -1;
		}
		m->p = q;
		m->cap = cap;
	}
	memcpy(m->p + m->len, p, n);
	m->len += n;
	return 0;
}

/* Sink: the snapshot into OUT.tmp, keeping the database header. */
struct fileout {
	struct xfer	*x;
	int		fd;
	const char	*path;
	uint64_t	len;
	unsigned char	head[100];
};

static int
file_out(void *ctx, const void *p, size_t n)
{
	struct fileout *f = ctx;
	size_t k;

	if (f->len < sizeof f->head) {
		k = sizeof f->head - (size_t)f->len;
		memcpy(f->head + f->len, p, n < k ? n : k);
	}
	if (fsx_write_all(f->fd, p, n) < 0) {
		f->x->code = 111;
		snprintf(f->x->err, sizeof f->x->err, "unable to write %s: %s",
		    f->path, strerror(errno));
		return -1;
	}
	f->len += n;
	return 0;
}

/*
 * WAL downloads: a pool of threads, each with its own backend, fetching
 * segments in plan order. The main thread consumes them in the same order;
 * at most window segments are fetched ahead of it, which bounds memory.
 */
enum { JOB_WAIT, JOB_DONE, JOB_FAIL };

struct job {
	const struct restore_obj *o;
	unsigned char	*data;
	size_t		len;
	int		state, code;
	char		*err;
};

struct pool {
	pthread_mutex_t	mu;
	pthread_cond_t	cv;
	struct job	*jobs;
	size_t		njobs, next, consumed, window;
	atomic_int	stop;
};

struct worker {
	struct pool	*pool;
	struct backend	*b;
	pthread_t	t;
	int		started;
};

static void
fetch(struct worker *w, struct job *j)
{
	struct xfer x;
	struct memout m = { &x, NULL, 0, 0 };

	x.stop = &w->pool->stop;
	if (download(w->b, j->o, &x, mem_out, &m) != 0) {
		free(m.p);
		j->code = x.code;
		j->err = strdup(x.err);
		return;
	}
	j->data = m.p;
	j->len = m.len;
	j->code = 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *pl = w->pool;
	struct job *j;

	pthread_mutex_lock(&pl->mu);
	while (!atomic_load(&pl->stop) && pl->next < pl->njobs) {
		if (pl->next >= pl->consumed + pl->window) {
			pthread_cond_wait(&pl->cv, &pl->mu);
			continue;
		}
		j = &pl->jobs[pl->next++];
		pthread_mutex_unlock(&pl->mu);
		fetch(w, j);
		pthread_mutex_lock(&pl->mu);
		j->state = j->code == 0 ? JOB_DONE : JOB_FAIL;
		pthread_cond_broadcast(&pl->cv);
	}
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

/* Waits for job k. Returns it, or NULL if interrupted first. */
static struct job *
pool_wait(struct pool *pl, size_t k)
{
	struct job *j = &pl->jobs[k];
	struct timespec ts;
	int st;

	pthread_mutex_lock(&pl->mu);
	while ((st = j->state) == JOB_WAIT && !restore_interrupted) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&pl->cv, &pl->mu, &ts);
	}
	pthread_mutex_unlock(&pl->mu);
	return st == JOB_WAIT ? NULL : j;
}

static void
pool_done(struct pool *pl, size_t k)
{
	free(pl->jobs[k].data);
	pl->jobs[k].data = NULL;
	pthread_mutex_lock(&pl->mu);
	pl->consumed = k + 1;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
}

/* State of one restore, for cleanup. */
struct rs {
	const struct restore_plan *p;
	const char	*where, *out;
	char		tmp[PATH_MAX], wal[PATH_MAX], shm[PATH_MAX];
	char		journal[PATH_MAX];
	int		fd;		/* OUT.tmp, locked */
	uint32_t	page_size;	/* of the snapshot */
	int		flags;
	struct pool	pool;
	struct worker	*workers;
	size_t		nworkers;
	char		*err;
	size_t		errlen;
};

static int
io_code(int e)
{
	switch (e) {
	case EACCES: case EPERM: case EROFS: case ELOOP: case ENOTDIR:
	case EISDIR: case ENAMETOOLONG: case ENOENT: case EEXIST:
		return 100;
	}
	return 111;
}

static int
fail_io(struct rs *s, const char *verb, const char *path)
{
	int e = errno;

	snprintf(s->err, s->errlen, "unable to %s %s: %s", verb, path,
	    strerror(e));
	return io_code(e);
}

static int
unlink_quiet(const char *path)
{
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int
pool_start(struct rs *s, struct backend *const *be, size_t nbe)
{
	const struct restore_plan *p = s->p;
	sigset_t all, old;
	size_t i, n;
	int e;

	if (p->nwal == 0)
		return 0;
	if ((s->pool.jobs = calloc(p->nwal, sizeof *s->pool.jobs)) == NULL)
		return fail_io(s, "start", "downloads");
	for (i = 0; i < p->nwal; i++)
		s->pool.jobs[i].o = &p->wal[i];
	s->pool.njobs = p->nwal;
	n = nbe - 1 < p->nwal ? nbe - 1 : p->nwal;
	s->pool.window = n;
	if ((s->workers = calloc(n, sizeof *s->workers)) == NULL)
		return fail_io(s, "start", "downloads");
	s->nworkers = n;
	/* Signals go to the main thread, which cleans up. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < n; i++) {
		s->workers[i].pool = &s->pool;
		s->workers[i].b = be[1 + i];
		e = pthread_create(&s->workers[i].t, NULL, worker_main,
		    &s->workers[i]);
		if (e != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			errno = e;
			return fail_io(s, "start", "download threads");
		}
		s->workers[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

static void
pool_stop(struct rs *s)
{
	size_t i;

	if (s->pool.jobs == NULL)
		return;
	pthread_mutex_lock(&s->pool.mu);
	atomic_store(&s->pool.stop, 1);
	pthread_cond_broadcast(&s->pool.cv);
	pthread_mutex_unlock(&s->pool.mu);
	for (i = 0; i < s->nworkers; i++)
		if (s->workers[i].started)
			pthread_join(s->workers[i].t, NULL);
	for (i = 0; i < s->pool.njobs; i++) {
		free(s->pool.jobs[i].data);
		free(s->pool.jobs[i].err);
	}
	free(s->pool.jobs);
	free(s->workers);
	s->pool.jobs = NULL;
	s->workers = NULL;
}

static int
interrupted(struct rs *s)
{
	snprintf(s->err, s->errlen, "unable to restore %s: interrupted",
	    s->out);
	return 111;
}

/* Streams the snapshot into OUT.tmp and checks it is a database. */
static int
put_snapshot(struct rs *s, struct backend *b)
{
	const struct restore_plan *p = s->p;
	static const unsigned char two[2] = { 2, 2 };
	struct xfer x;
	struct fileout f;
	uint32_t ps;

	memset(&f, 0, sizeof f);
	f.x = &x;
	f.fd = s->fd;
	f.path = s->tmp;
	x.stop = NULL;
	if (download(b, &p->snap, &x, file_out, &f) != 0) {
		snprintf(s->err, s->errlen, "%s", x.err);
		return x.code;
	}
	if (f.len == 0 && p->nwal == 0)
		return 0;
	if (f.len == 0) {
		snprintf(s->err, s->errlen, "unable to restore from %s: %s: "
		    "empty snapshot, but WAL index %x follows", s->where,
		    p->snap.name, (unsigned)p->wal[0].n.idx);
		return 100;
	}
	ps = (uint32_t)f.head[16] << 8 | f.head[17];
	if (ps == 1)
		ps = 65536;
	if (f.len < sizeof f.head ||
	    memcmp(f.head, "SQLite format 3", 16) != 0 ||
	    ps < 512 || (ps & (ps - 1)) != 0) {
		snprintf(s->err, s->errlen, "unable to restore from %s: %s: "
		    "not an SQLite database", s->where, p->snap.name);
		return 100;
	}
	s->page_size = ps;
	/* WAL mode, for SQLite to read OUT.tmp-wal and like the source. */
	if ((f.head[18] != 2 || f.head[19] != 2) &&
	    pwrite(s->fd, two, 2, 18) != 2)
		return fail_io(s, "write", s->tmp);
	log_info("restored snapshot %s: %llu bytes", p->snap.name,
	    (unsigned long long)f.len);
	return 0;
}

/* Describes what is wrong with object o; returns 100. */
static int
bad_obj(struct rs *s, const struct restore_obj *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	k = snprintf(s->err, s->errlen, "unable to restore from %s: %s: ",
	    s->where, o->name);
	if (k >= 0 && (size_t)k < s->errlen) {
		va_start(ap, fmt);
		vsnprintf(s->err + k, s->errlen - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return 100;
}

/* Checks one segment against the cursor of its index. 0 or 100. */
static int
check_segment(struct rs *s, struct wal_cursor *c, const struct job *j)
{
	const struct restore_obj *o = j->o;
	const unsigned char *d = j->data, *fr;
	unsigned idx = (unsigned)o->n.idx;
	unsigned long long at;
	size_t pos = 0;

	if (o->n.off == 0) {
		if (j->len < WAL_HDR_SIZE)
			return bad_obj(s, o, "truncated WAL header (%zu bytes)",
			    j->len);
		if (wal_cursor_init(c, d) < 0)
			return bad_obj(s, o, "invalid WAL header");
		if (c->hdr.page_size != s->page_size)
			return bad_obj(s, o, "WAL page size %u is not the "
			    "database's %u", (unsigned)c->hdr.page_size,
			    (unsigned)s->page_size);
		pos = WAL_HDR_SIZE;
	} else if (o->n.off > c->off)
		return bad_obj(s, o, "gap: bytes 0x%llx..0x%x of WAL index %x "
		    "are missing", (unsigned long long)c->off,
		    (unsigned)o->n.off, idx);
	else if (o->n.off < c->off)
		return bad_obj(s, o, "overlap: bytes 0x%x..0x%llx of WAL index "
		    "%x are in two segments", (unsigned)o->n.off,
		    (unsigned long long)c->off, idx);
	while (pos < j->len) {
		at = c->off;
		fr = d + pos;
		if (j->len - pos < c->frame_size)
			return bad_obj(s, o, "truncated frame at byte 0x%llx "
			    "of WAL index %x", at, idx);
		if (wal_get32(fr + 8) != c->hdr.salt1 ||
		    wal_get32(fr + 12) != c->hdr.salt2)
			return bad_obj(s, o, "frame at byte 0x%llx of WAL "
			    "index %x has the salts of another WAL", at, idx);
		if (wal_get32(fr) == 0)
			return bad_obj(s, o, "bad frame at byte 0x%llx of WAL "
			    "index %x: page number 0", at, idx);
		if (!wal_cursor_frame(c, fr))
			return bad_obj(s, o, "bad frame at byte 0x%llx of WAL "
			    "index %x: checksum mismatch", at, idx);
		pos += c->frame_size;
	}
	if (c->off != c->commit_off)
		return bad_obj(s, o, "does not end on a commit frame (WAL "
		    "index %x: last commit ends at byte 0x%llx, the segment "
		    "at 0x%llx)", idx, (unsigned long long)c->commit_off,
		    (unsigned long long)c->off);
	return 0;
}

static int
sql_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_CANTOPEN:
	case SQLITE_PERM: case SQLITE_READONLY: case SQLITE_AUTH:
		return 100;
	}
	return 111;
}

static int
fail_sql(struct rs *s, sqlite3 *db, int rc, const char *verb)
{
	snprintf(s->err, s->errlen, "unable to %s %s: %s", verb, s->tmp,
	    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return sql_code(rc);
}

/* Runs a pragma that returns one row of integers into v[0..n). */
static int
pragma_ints(sqlite3 *db, const char *sql, sqlite3_int64 *v, int n)
{
	sqlite3_stmt *st;
	int rc, i;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < n; i++)
			v[i] = sqlite3_column_int64(st, i);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE)
		rc = SQLITE_ERROR;
	sqlite3_finalize(st);
	return rc;
}

/*
 * Lets SQLite checkpoint OUT.tmp-wal, which holds nframes valid frames
 * ending on a commit. SQLite must take all of them: it recovers the WAL
 * itself, and a disagreement with the checks above is an error.
 */
static int
checkpoint(struct rs *s, uint32_t idx, uint64_t nframes)
{
	sqlite3 *db = NULL;
	sqlite3_int64 v[3];
	sqlite3_stmt *st;
	const char *mode;
	int rc, code = 0;

	rc = sqlite3_open_v2(s->tmp, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		code = fail_sql(s, db, rc, "open");
		goto out;
	}
	if ((rc = pragma_ints(db, "PRAGMA wal_checkpoint(PASSIVE)", v, 3)) !=
	    SQLITE_OK) {
		code = fail_sql(s, db, rc, "checkpoint");
		goto out;
	}
	if (v[0] != 0 || (uint64_t)v[1] != nframes ||
	    (uint64_t)v[2] != nframes) {
		snprintf(s->err, s->errlen, "unable to checkpoint %s: SQLite "
		    "took %lld of the %llu frames of WAL index %x%s", s->tmp,
		    (long long)v[2], (unsigned long long)nframes,
		    (unsigned)idx, v[0] ? " (busy)" : "");
		code = v[0] ? 111 : 100;
		goto out;
	}
	if ((rc = pragma_ints(db, "PRAGMA wal_checkpoint(TRUNCATE)", v, 3)) !=
	    SQLITE_OK) {
		code = fail_sql(s, db, rc, "checkpoint");
		goto out;
	}
	if (v[0] != 0) {
		snprintf(s->err, s->errlen, "unable to checkpoint %s: busy",
		    s->tmp);
		code = 111;
		goto out;
	}
	/* Leave the database in WAL mode, as the source was. */
	rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		mode = (const char *)sqlite3_column_text(st, 0);
		rc = mode != NULL && strcmp(mode, "wal") == 0 ? SQLITE_DONE :
		    SQLITE_ROW;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL,
		    NULL);
	else if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK) {
		code = fail_sql(s, db, rc, "set the journal mode of");
		goto out;
	}
out:
	if (db != NULL && (rc = sqlite3_close(db)) != SQLITE_OK && code == 0)
		code = fail_sql(s, NULL, rc, "close");
	if (code == 0 && unlink_quiet(s->wal) < 0)
		code = fail_io(s, "remove", s->wal);
	if (code == 0 && unlink_quiet(s->shm) < 0)
		code = fail_io(s, "remove", s->shm);
	return code;
}

static int put_index_sqlite(struct rs *s, size_t k, size_t e);

/*
 * Writes the pages of one checked segment into OUT.tmp. Every frame in it
 * is committed (a checked segment ends on a commit frame), and frames come
 * in WAL order, so the last write of a page is its last committed version.
 */
static int
put_frames(struct rs *s, const struct job *j, uint32_t page_size)
{
	size_t fs = WAL_FRAME_HDR + page_size, off, n = 0, k;
	struct iovec iov[64];
	uint32_t pgno, first = 0;
	ssize_t w;

	/* Runs of consecutive pages go out in one pwritev. */
	off = j->o->n.off == 0 ? WAL_HDR_SIZE : 0;
	for (;; off += fs) {
		int end = off + fs > j->len;

		pgno = end ? 0 : wal_get32(j->data + off);
		if (n > 0 && (end || n == 64 || pgno != first + n)) {
			w = pwritev(s->fd, iov, (int)n,
			    (off_t)(first - 1) * page_size);
			if (w != (ssize_t)(n * page_size)) {
				if (w >= 0)
					errno = EIO;
				return fail_io(s, "write", s->tmp);
			}
			n = 0;
		}
		if (end)
			return 0;
		if (n == 0)
			first = pgno;
		k = n++;
		iov[k].iov_base = (void *)(j->data + off + WAL_FRAME_HDR);
		iov[k].iov_len = page_size;
	}
}

/* Applies the segments [k, e) of one index. */
static int
put_index(struct rs *s, size_t k, size_t e)
{
	if (!(s->flags & RESTORE_SQLITE)) {
		const struct restore_plan *p = s->p;
		struct wal_cursor c;
		struct job *j;
		uint64_t bytes = 0, nframes;
		size_t i;
		int code;

		memset(&c, 0, sizeof c);
		for (i = k; i < e; i++) {
			if ((j = pool_wait(&s->pool, i)) == NULL)
				return interrupted(s);
			if (j->state == JOB_FAIL) {
				snprintf(s->err, s->errlen, "%s", j->err != NULL ?
				    j->err : "unable to download: out of memory");
				return j->code;
			}
			if ((code = check_segment(s, &c, j)) != 0 ||
			    (code = put_frames(s, j, c.hdr.page_size)) != 0)
				return code;
			bytes += j->len;
			pool_done(&s->pool, i);
		}
		nframes = (c.off - WAL_HDR_SIZE) / c.frame_size;
		if (nframes > 0 && ftruncate(s->fd,
		    (off_t)c.commit_pages * c.hdr.page_size) < 0)
			return fail_io(s, "truncate", s->tmp);
		log_info("applied WAL index %x: %zu segment%s, %llu frame%s, "
		    "%llu bytes", (unsigned)p->wal[k].n.idx, e - k,
		    e - k == 1 ? "" : "s", (unsigned long long)nframes,
		    nframes == 1 ? "" : "s", (unsigned long long)bytes);
		return 0;
	}
	return put_index_sqlite(s, k, e);
}

/* The simple way: OUT.tmp-wal, then a SQLite checkpoint. */
static int
put_index_sqlite(struct rs *s, size_t k, size_t e)
{
	const struct restore_plan *p = s->p;
	struct wal_cursor c;
	struct job *j;
	uint64_t bytes = 0, nframes;
	uint32_t idx = p->wal[k].n.idx;
	size_t i;
	int fd, code;

	memset(&c, 0, sizeof c);
	fd = open(s->wal, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0)
		return fail_io(s, "create", s->wal);
	for (i = k; i < e; i++) {
		if ((j = pool_wait(&s->pool, i)) == NULL) {
			close(fd);
			return interrupted(s);
		}
		if (j->state == JOB_FAIL) {
			snprintf(s->err, s->errlen, "%s", j->err != NULL ?
			    j->err : "unable to download: out of memory");
			close(fd);
			return j->code;
		}
		if ((code = check_segment(s, &c, j)) != 0) {
			close(fd);
			return code;
		}
		if (fsx_write_all(fd, j->data, j->len) < 0) {
			code = fail_io(s, "write", s->wal);
			close(fd);
			return code;
		}
		bytes += j->len;
		pool_done(&s->pool, i);
	}
	if (close(fd) < 0)
		return fail_io(s, "write", s->wal);
	nframes = (c.off - WAL_HDR_SIZE) / c.frame_size;
	if (nframes == 0) {
		if (unlink_quiet(s->wal) < 0)
			return fail_io(s, "remove", s->wal);
	} else if ((code = checkpoint(s, idx, nframes)) != 0)
		return code;
	log_info("applied WAL index %x: %zu segment%s, %llu frame%s, "
	    "%llu bytes", (unsigned)idx, e - k, e - k == 1 ? "" : "s",
	    (unsigned long long)nframes, nframes == 1 ? "" : "s",
	    (unsigned long long)bytes);
	return 0;
}

static int
pathcat(char *buf, const char *a, const char *b)
{
	if (snprintf(buf, PATH_MAX, "%s%s", a, b) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Creates and locks OUT.tmp and clears what a killed restore left. */
static int
open_tmp(struct rs *s, const char *out)
{
	static const char *const journals[2] = { "-wal", "-journal" };
	char dir[PATH_MAX], *slash;
	struct stat st;
	int i;

	if (lstat(out, &st) == 0) {
		snprintf(s->err, s->errlen, "unable to restore to %s: %s", out,
		    strerror(EEXIST));
		return 100;
	}
	if (errno != ENOENT)
		return fail_io(s, "restore to", out);
	/* SQLite would replay a journal left by another database into the
	 * new one as soon as it opens it. */
	for (i = 0; i < 2; i++) {
		if (pathcat(dir, out, journals[i]) < 0)
			return fail_io(s, "restore to", out);
		if (lstat(dir, &st) == 0) {
			snprintf(s->err, s->errlen, "unable to restore to %s: "
			    "%s exists without its database", out, dir);
			return 100;
		}
	}
	if (pathcat(s->tmp, out, ".tmp") < 0 ||
	    pathcat(s->wal, out, ".tmp-wal") < 0 ||
	    pathcat(s->shm, out, ".tmp-shm") < 0 ||
	    pathcat(s->journal, out, ".tmp-journal") < 0)
		return fail_io(s, "restore to", out);
	snprintf(dir, sizeof dir, "%s", out);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (fsx_mkdirs(dir, 0700) < 0)
			return fail_io(s, "create directory", dir);
	}
	s->fd = open(s->tmp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s->fd < 0)
		return fail_io(s, "create", s->tmp);
	if (flock(s->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			snprintf(s->err, s->errlen, "unable to lock %s: "
			    "another restore is writing it", s->tmp);
		else
			fail_io(s, "lock", s->tmp);
		close(s->fd);
		s->fd = -1;
		return 111;
	}
	if (ftruncate(s->fd, 0) < 0 || unlink_quiet(s->wal) < 0 ||
	    unlink_quiet(s->shm) < 0 || unlink_quiet(s->journal) < 0) {
		int code = fail_io(s, "clear", s->tmp);

		close(s->fd);
		s->fd = -1;
		return code;
	}
	return 0;
}

/* Renames OUT.tmp to OUT, never over an existing OUT. */
static int
publish(struct rs *s, const char *out)
{
	if (renameat2(AT_FDCWD, s->tmp, AT_FDCWD, out, RENAME_NOREPLACE) < 0) {
		if (errno != EINVAL && errno != ENOSYS)
			return fail_io(s, "rename into", out);
		/* No RENAME_NOREPLACE here: link(2) refuses to replace. */
		if (link(s->tmp, out) < 0)
			return fail_io(s, "rename into", out);
		if (unlink(s->tmp) < 0) {
			int e = errno;

			unlink(out);
			errno = e;
			return fail_io(s, "rename into", out);
		}
	}
	if (fsx_fsync_parent(out) < 0)
		return fail_io(s, "fsync the directory of", out);
	return 0;
}

int
restore_apply(struct backend *const *be, size_t nbe,
    const struct restore_plan *p, const char *out, int flags, char *err,
    size_t errlen)
{
	struct rs s;
	size_t k, e;
	int code;

	memset(&s, 0, sizeof s);
	s.p = p;
	s.where = be[0]->where;
	s.out = out;
	s.err = err;
	s.errlen = errlen;
	s.flags = flags;
	s.fd = -1;
	pthread_mutex_init(&s.pool.mu, NULL);
	pthread_cond_init(&s.pool.cv, NULL);
	atomic_init(&s.pool.stop, 0);
	if (nbe < 2) {
		snprintf(err, errlen, "unable to restore %s: no backend for "
		    "the downloads", out);
		code = 100;
		goto done;
	}
	if ((code = open_tmp(&s, out)) != 0)
		goto done;
	if ((code = pool_start(&s, be, nbe)) != 0)
		goto fail;
	if ((code = put_snapshot(&s, be[0])) != 0)
		goto fail;
	for (k = 0; k < p->nwal; k = e) {
		if (restore_interrupted) {
			code = interrupted(&s);
			goto fail;
		}
		for (e = k; e < p->nwal && p->wal[e].n.idx == p->wal[k].n.idx;
		    e++)
			;
		if ((code = put_index(&s, k, e)) != 0)
			goto fail;
	}
	pool_stop(&s);
	if (fsync(s.fd) < 0) {
		code = fail_io(&s, "fsync", s.tmp);
		goto fail;
	}
	if ((code = publish(&s, out)) != 0)
		goto fail;
	close(s.fd);
	s.fd = -1;
	goto done;
fail:
	pool_stop(&s);
	unlink(s.wal);
	unlink(s.shm);
	unlink(s.journal);
	unlink(s.tmp);
	if (s.fd >= 0)
		close(s.fd);
done:
	pool_stop(&s);
	pthread_cond_destroy(&s.pool.cv);
	pthread_mutex_destroy(&s.pool.mu);
	return code;
}
