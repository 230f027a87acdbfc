/* ship: the shipping loop shared by every backend (see ship.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "age.h"
#include "log.h"
#include "lz4f.h"
#include "ready.h"
#include "replica.h"
#include "ship.h"
#include "stats.h"
#include "validate.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct stats st;

/* Merged segments stop growing past this many uncompressed bytes: a
 * restore holds one segment in memory. */
#define MERGE_MAX	(32u << 20)

/* A temp file being made from spool objects: merged and compressed
 * again, or encrypted, or both. */
struct stage {
	struct lz4f_enc	enc;		/* when merging */
	struct age_enc	age;		/* when encrypting */
	int		merge, seal;
	uint64_t	seg;		/* bytes of the segment being read */
	int		failed;		/* the output failed (errno) */
	int		bad;		/* a segment did not decode */
};

static int
age_out(void *ctx, const void *p, size_t n)
{
	return age_enc_write(ctx, p, n);
}

/* Plaintext of a segment (merging) goes to the new frame. */
static int
stage_sink(void *ctx, const void *p, size_t n)
{
	struct stage *sg = ctx;

	sg->seg += n;
	if (lz4f_enc_write(&sg->enc, p, n) < 0) {
		sg->failed = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

/* Reads spool file fd into the stage: decompressed into the new frame
 * when merging, else as it is into the encryptor. 0, or -1 with b->err. */
static int
stage_add(struct stage *sg, struct backend *b, int fd, const char *rel)
{
	struct lz4f_dec d;
	unsigned char buf[65536];
	ssize_t r;
	int rc = 0;

	sg->seg = 0;
	if (sg->merge && lz4f_dec_init(&d, stage_sink, sg) < 0) {
		snprintf(b->err, sizeof b->err, "out of memory");
		return -1;
	}
	while (rc == 0 && (r = read(fd, buf, sizeof buf)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(b->err, sizeof b->err, "unable to read spool "
			    "%s: %s", rel, strerror(errno));
			rc = -1;
		} else if (!sg->merge) {
			if (age_enc_write(&sg->age, buf, (size_t)r) < 0) {
				sg->failed = errno;
				rc = -1;
			}
		} else if (lz4f_dec_push(&d, buf, (size_t)r) < 0) {
			sg->bad = !sg->failed;
			rc = -1;
		}
	}
	if (rc == 0 && sg->merge && lz4f_dec_finish(&d) < 0) {
		sg->bad = 1;
		rc = -1;
	}
	if (rc < 0 && b->err[0] == '\0')
		snprintf(b->err, sizeof b->err, sg->failed ?
		    "unable to write a temp file: %s" : "spool %s: %s",
		    sg->failed ? strerror(sg->failed) : rel,
		    sg->merge ? d.err : "");
	if (sg->merge)
		lz4f_dec_free(&d);
	return rc;
}

/* Starts the stage's output to fd. 0, or -1 with b->err. */
static int
stage_begin(struct stage *sg, struct backend *b, int fd)
{
	if (sg->seal && age_enc_begin(&sg->age, &b->age->rcpt, fd) < 0) {
		snprintf(b->err, sizeof b->err, "unable to encrypt: %s",
		    strerror(errno));
		return -1;
	}
	if (sg->merge && lz4f_enc_begin_fn(&sg->enc, sg->seal ? age_out :
	    NULL, &sg->age, fd) < 0) {
		snprintf(b->err, sizeof b->err, "unable to start a frame: %s",
		    strerror(errno));
		if (sg->seal)
			age_enc_free(&sg->age);
		return -1;
	}
	return 0;
}

/* Ends the frame, then the age file. 0, or -1 with b->err; frees. */
static int
stage_end(struct stage *sg, struct backend *b)
{
	int rc = 0;

	if (sg->merge && lz4f_enc_end(&sg->enc) < 0)
		rc = -1;
	if (sg->seal && rc < 0)
		age_enc_free(&sg->age);
	else if (sg->seal && age_enc_end(&sg->age) < 0)
		rc = -1;
	if (rc < 0)
		snprintf(b->err, sizeof b->err, "unable to write a temp file: "
		    "%s", strerror(errno));
	return rc;
}

static void
stage_free(struct stage *sg)
{
	if (sg->merge)
		lz4f_enc_free(&sg->enc);
	if (sg->seal)
		age_enc_free(&sg->age);
}

/*
 * Makes one object in an unlinked temp file. Merging, from v[0..n)
 * (consecutive WAL segments of one index): their contents decompressed,
 * concatenated and compressed as one frame; it stops early at a gap, at
 * MERGE_MAX, or at a segment collected meanwhile. Else from v[0] alone.
 * With the replica's age recipients, the result is encrypted to them.
 * Returns the fd with *used and *size set, -2 if the first object is gone
 * from the spool, -3 if segment *used does not decode (so cannot be
 * merged), or -1 with b->err.
 */
static int
stage_make(struct spool *sp, struct backend *b, const struct spool_obj *v,
    size_t n, int merge, size_t *used, uint64_t *size)
{
	char path[PATH_MAX], rel[NAME_LEN];
	struct stage sg;
	struct stat sb;
	uint64_t total = 0;
	size_t k;
	int fd, in;

	*used = 0;
	memset(&sg, 0, sizeof sg);
	sg.merge = merge;
	sg.seal = b->age != NULL && b->age->rcpt.n > 0;
	if (!merge)
		n = 1;
	if ((fd = spool_tmpfile(sp, path)) < 0) {
		snprintf(b->err, sizeof b->err, "unable to create a temp "
		    "file in %s/tmp: %s", sp->dir, strerror(errno));
		return -1;
	}
	unlink(path);	/* nothing to clean up after a crash */
	if (stage_begin(&sg, b, fd) < 0) {
		close(fd);
		return -1;
	}
	for (k = 0; k < n; k++) {
		if (k > 0 && (v[k].n.off != v[0].n.off + total ||
		    total >= MERGE_MAX))
			break;
		spool_path(sp, &v[k].n, path);
		name_format(&v[k].n, rel);
		if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			int e = errno;

			if (e == ENOENT && k > 0)
				break;
			snprintf(b->err, sizeof b->err, "unable to open spool "
			    "%s: %s", rel, strerror(e));
			stage_free(&sg);
			close(fd);
			return e == ENOENT ? -2 : -1;
		}
		if (stage_add(&sg, b, in, rel) < 0) {
			close(in);
			stage_free(&sg);
			close(fd);
			*used = k;
			return sg.bad ? -3 : -1;
		}
		close(in);
		total += sg.seg;
	}
	if (stage_end(&sg, b) < 0 || fstat(fd, &sb) < 0) {
		if (b->err[0] == '\0')
			snprintf(b->err, sizeof b->err, "unable to write a "
			    "temp file: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*used = k;
	*size = (uint64_t)sb.st_size;
	return fd;
}

/* Opens spool object o to ship it as it is: the fd, -2 if it is gone
 * (collected after every replica had it), or -1 with b->err. */
static int
open_spool(struct spool *sp, struct backend *b, const struct spool_obj *o,
    const char *rel)
{
	char path[PATH_MAX];
	int fd, e;

	spool_path(sp, &o->n, path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		e = errno;
		snprintf(b->err, sizeof b->err, "unable to open spool %s: %s",
		    rel, strerror(e));
		return e == ENOENT ? -2 : -1;
	}
	return fd;
}

/*
 * Uploads v[0], or with merging the run of WAL segments of its index
 * that follows it, as one object named after v[0]. *used says how many
 * objects it holds. Returns a BE_* code.
 */
static int
put_run(struct spool *sp, struct backend *b, const struct spool_obj *v,
    size_t n, int merge, size_t *used)
{
	char rel[NAME_LEN];
	uint64_t size = v[0].size;
	int fd = -3, rc;

	name_format(&v[0].n, rel);
	b->err[0] = '\0';
	if (merge && n > 1) {
		fd = stage_make(sp, b, v, n, 1, used, &size);
		/* A damaged segment: merge those before it, or ship it as
		 * it is, as without merging (restores will say what is
		 * wrong with it), rather than try again for ever. */
		if (fd == -3 && *used > 1)
			fd = stage_make(sp, b, v, *used, 1, used, &size);
		else if (fd == -3)
			log_warn("%s: shipped as it is, unmerged", b->err);
	}
	if (fd == -3) {
		*used = 1;
		size = v[0].size;
		fd = b->age != NULL && b->age->rcpt.n > 0 ?
		    stage_make(sp, b, v, 1, 0, used, &size) :
		    open_spool(sp, b, &v[0], rel);
	}
	if (fd < 0)
		return fd == -2 ? BE_NOENT : BE_TEMP;
	/* A merged object is as new as its last segment. */
	rc = b->ops->put(b, rel, fd, size, v[*used - 1].mtime_ns);
	close(fd);
	stats_add(&st, rc == BE_OK ? "put_total" : "put_errors_total", 1);
	if (rc == BE_OK) {
		stats_add(&st, "put_bytes_total", size);
		if (*used > 1)
			log_info("shipped %s (%llu bytes, %zu segments)", rel,
			    (unsigned long long)size, *used);
		else
			log_info("shipped %s (%llu bytes)", rel,
			    (unsigned long long)size);
	}
	return rc;
}

/*
 * One pass: ships every object not yet confirmed, generation by
 * generation. Returns BE_OK when nothing is pending, else the first error
 * (b->err says why). *shipped counts the objects uploaded.
 */
static int
ship_pass(struct spool *sp, struct backend *b, const char *replica,
    int merge, int *shipped)
{
	char (*gens)[NAME_GEN_LEN + 1];
	struct spool_ack a;
	struct spool_list l;
	size_t ngen, g, i, run, used;
	int rank = -1, rc = BE_OK, r;

	if ((r = spool_ack_read(sp, replica, &a)) < 0) {
		snprintf(b->err, sizeof b->err, "unable to read acks/%s: %s",
		    replica, strerror(errno));
		return BE_PERM;
	}
	if (spool_generations(sp, &gens, &ngen) < 0) {
		snprintf(b->err, sizeof b->err, "unable to list spool: %s",
		    strerror(errno));
		return BE_TEMP;
	}
	for (g = 0; g < ngen; g++)
		if (strcmp(gens[g], a.gen) == 0)
			rank = (int)g;
	for (g = rank < 0 ? 0 : (size_t)rank; g < ngen && rc == BE_OK; g++) {
		if (strcmp(gens[g], a.gen) != 0) {
			memset(&a, 0, sizeof a);
			memcpy(a.gen, gens[g], NAME_GEN_LEN + 1);
		}
		if (spool_list_pending(sp, gens[g], &a, &l) < 0) {
			snprintf(b->err, sizeof b->err,
			    "unable to list spool generation %s: %s", gens[g],
			    strerror(errno));
			rc = BE_TEMP;
			break;
		}
		/* WAL first, then snapshots: a snapshot is only of use with
		 * its index's WAL, which the listing guarantees is here. */
		for (int pass = 0; pass < 2 && rc == BE_OK; pass++) {
			for (i = 0; i < l.n && rc == BE_OK; i++) {
				struct spool_obj *o = &l.v[i];

				if ((o->n.kind == NAME_WAL) != (pass == 0))
					continue;
				if (spool_ack_covers(&a, 0, 0, o))
					continue;
				/* A run: this and the segments of its index
				 * that follow it. */
				for (run = 1; pass == 0 && i + run < l.n &&
				    l.v[i + run].n.kind == NAME_WAL &&
				    l.v[i + run].n.idx == o->n.idx; run++)
					;
				rc = put_run(sp, b, o, run, merge, &used);
				if (rc == BE_NOENT) {
					/* Collected meanwhile: rescan. */
					rc = BE_TEMP;
					break;
				}
				if (rc != BE_OK)
					break;
				i += used - 1;
				o = &l.v[i];
				if (o->n.kind == NAME_WAL) {
					a.has_wal = 1;
					a.widx = o->n.idx;
					a.woff = o->n.off;
				} else {
					a.has_snap = 1;
					a.snap = o->n.idx;
				}
				if (spool_ack_write(sp, replica, &a) < 0) {
					snprintf(b->err, sizeof b->err,
					    "unable to write acks/%s: %s",
					    replica, strerror(errno));
					rc = BE_TEMP;
				}
				(*shipped)++;
			}
		}
		spool_list_free(&l);
		if (rc == BE_OK && g + 1 < ngen) {
			/* Generation done: move the ack on. */
			memset(&a, 0, sizeof a);
			memcpy(a.gen, gens[g + 1], NAME_GEN_LEN + 1);
			if (spool_ack_write(sp, replica, &a) < 0) {
				snprintf(b->err, sizeof b->err,
				    "unable to write acks/%s: %s", replica,
				    strerror(errno));
				rc = BE_TEMP;
			}
		}
	}
	free(gens);
	return rc;
}

struct rgen {
	char		id[NAME_GEN_LEN + 1];
	int		keep;		/* has a retained snapshot */
	uint32_t	min_idx;	/* lowest retained snapshot index */
};

static struct rgen *
find_gen(struct rgen **gv, size_t *ng, const char *id)
{
	struct rgen *v;
	size_t i;

	for (i = 0; i < *ng; i++)
		if (strcmp((*gv)[i].id, id) == 0)
			return &(*gv)[i];
	if ((v = realloc(*gv, (*ng + 1) * sizeof *v)) == NULL)
		return NULL;
	*gv = v;
	memset(&v[*ng], 0, sizeof v[*ng]);
	memcpy(v[*ng].id, id, NAME_GEN_LEN + 1);
	v[*ng].min_idx = UINT32_MAX;
	return &v[(*ng)++];
}

/* Between two snapshots of one time, whether n beats the one named
 * other. */
static int
tie_wins(const struct name *n, const char *other, const char *keep_gen)
{
	struct name o;

	if (name_parse(other, &o) < 0)
		return 1;
	if (strcmp(n->gen, o.gen) != 0)
		return keep_gen != NULL && strcmp(n->gen, keep_gen) == 0;
	return n->idx > o.idx;
}

int
ship_retention(struct backend *b, int64_t retention_ms, int64_t now_ns,
    const char *keep_gen, int *removed)
{
	struct backend_obj *objs = NULL;
	struct rgen *gv = NULL, *gp;
	const char **del = NULL;
	int64_t cutoff = now_ns - retention_ms * 1000000, best = INT64_MIN;
	size_t ng = 0, nd = 0, i, older = SIZE_MAX, total, nobj = 0;
	struct name n;
	int rc;

	*removed = 0;
	rc = replica_list(b, "generations/", &objs, &total);
	stats_add(&st, rc == BE_OK ? "list_total" : "list_errors_total", 1);
	if (rc != BE_OK)
		return rc;
	/* Only object names count: keep those, in place. */
	for (i = 0; i < total; i++)
		if (name_parse(objs[i].name, &n) == 0)
			objs[nobj++] = objs[i];
	/* The newest snapshot older than the window keeps every moment of
	 * the window restorable. */
	for (i = 0; i < nobj; i++) {
		name_parse(objs[i].name, &n);
		if (n.kind != NAME_SNAPSHOT || objs[i].mtime_ns >= cutoff ||
		    objs[i].mtime_ns < best)
			continue;
		/* Stores that keep whole seconds (S3) give ties: the
		 * generation being shipped, then the higher index, wins. */
		if (objs[i].mtime_ns == best && older != SIZE_MAX &&
		    !tie_wins(&n, objs[older].name, keep_gen))
			continue;
		best = objs[i].mtime_ns;
		older = i;
	}
	for (i = 0; i < nobj; i++) {
		name_parse(objs[i].name, &n);
		if ((gp = find_gen(&gv, &ng, n.gen)) == NULL) {
			rc = BE_TEMP;
			goto out;
		}
		if (n.kind != NAME_SNAPSHOT ||
		    (objs[i].mtime_ns < cutoff && i != older))
			continue;
		gp->keep = 1;
		if (n.idx < gp->min_idx)
			gp->min_idx = n.idx;
	}
	if ((del = calloc(nobj + 1, sizeof *del)) == NULL) {
		rc = BE_TEMP;
		goto out;
	}
	for (i = 0; i < nobj; i++) {
		name_parse(objs[i].name, &n);
		gp = find_gen(&gv, &ng, n.gen);
		if (keep_gen != NULL && strcmp(n.gen, keep_gen) == 0 &&
		    !gp->keep)
			continue;	/* being shipped: no snapshot yet */
		if (gp->keep && n.idx >= gp->min_idx)
			continue;
		del[nd++] = objs[i].name;
	}
	rc = BE_OK;
	if (nd > 0) {
		rc = b->ops->remove(b, del, nd);
		stats_add(&st, rc == BE_OK ? "delete_total" :
		    "delete_errors_total", 1);
		if (rc == BE_OK) {
			stats_add(&st, "retention_removed_total", nd);
			*removed = (int)nd;
			log_info("retention removed %zu objects", nd);
		}
	}
out:
	free(del);
	free(gv);
	free(objs);
	return rc;
}

static int
name_cmp_str(const void *a, const void *b)
{
	return strcmp(((const struct backend_obj *)a)->name,
	    ((const struct backend_obj *)b)->name);
}

/*
 * 1 if objs (sorted by name) hold spool object n: under its name, or for
 * a WAL segment merged into an object named after an earlier segment of
 * its index (the nearest name before it is such a segment).
 */
static int
replica_has(const struct backend_obj *objs, size_t nobj, const struct name *n)
{
	struct backend_obj key;
	struct name m;
	size_t lo = 0, hi = nobj, mid;
	int c;

	name_format(n, key.name);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(objs[mid].name, key.name)) == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* objs[lo - 1] is the last name before n's. */
	return n->kind == NAME_WAL && lo > 0 &&
	    name_parse(objs[lo - 1].name, &m) == 0 && m.kind == NAME_WAL &&
	    strcmp(m.gen, n->gen) == 0 && m.idx == n->idx;
}

/*
 * Checks the ack against the replica: every spool object the ack
 * confirms must be there. A replica that was wiped, or a name reused for
 * another destination, would otherwise never get them. If one is
 * missing, the ack is reset and everything in the spool ships again.
 * Returns a BE_* code.
 */
static int
ship_verify(struct spool *sp, struct backend *b, const char *replica)
{
	char (*gens)[NAME_GEN_LEN + 1];
	struct backend_obj *objs = NULL, key;
	struct spool_ack a;
	struct spool_list l;
	size_t nobj, ngen, g, i;
	int rank = -1, rc, missing = 0;

	if (spool_ack_read(sp, replica, &a) <= 0 || a.gen[0] == '\0')
		return BE_OK;
	rc = replica_list(b, "generations/", &objs, &nobj);
	stats_add(&st, rc == BE_OK ? "list_total" : "list_errors_total", 1);
	if (rc != BE_OK)
		return rc;
	if (nobj > 1)
		qsort(objs, nobj, sizeof *objs, name_cmp_str);
	if (spool_generations(sp, &gens, &ngen) < 0) {
		free(objs);
		return BE_TEMP;
	}
	for (g = 0; g < ngen; g++)
		if (strcmp(gens[g], a.gen) == 0)
			rank = (int)g;
	for (g = 0; g < ngen && (int)g <= rank && !missing; g++) {
		if (spool_list_gen(sp, gens[g], &l) < 0)
			continue;
		for (i = 0; i < l.n && !missing; i++) {
			if (!spool_ack_covers(&a, rank, (int)g, &l.v[i]))
				continue;
			name_format(&l.v[i].n, key.name);
			if (!replica_has(objs, nobj, &l.v[i].n)) {
				log_warn("%s lacks %s, which acks/%s confirms: "
				    "shipping everything in the spool again",
				    b->where, key.name, replica);
				missing = 1;
			}
		}
		spool_list_free(&l);
	}
	free(gens);
	free(objs);
	if (missing) {
		memset(&a, 0, sizeof a);
		if (spool_ack_write(sp, replica, &a) < 0) {
			snprintf(b->err, sizeof b->err, "unable to write "
			    "acks/%s: %s", replica, strerror(errno));
			return BE_TEMP;
		}
	}
	return BE_OK;
}

/*
 * Validates the replica (validate.h) and counts it. A replica that does
 * not restore to the spool's database gets everything in the spool again,
 * as after ship_verify. Returns a VALIDATE_* code.
 */
static int
ship_validate(struct spool *sp, struct backend *b, const struct ship_opts *o)
{
	struct backend *be[2] = { b, o->vbe != NULL ? o->vbe : b };
	struct validate_stats vs = { 0 };
	struct spool_ack a;
	char err[1024];
	int rc;

	rc = validate_replica(sp, be, o->replica, &vs, err, sizeof err);
	stats_add(&st, "get_total", vs.gets);
	stats_add(&st, "get_bytes_total", vs.get_bytes);
	stats_add(&st, "get_errors_total", vs.get_errors);
	stats_add(&st, "list_total", vs.lists);
	stats_add(&st, "list_errors_total", vs.list_errors);
	switch (rc) {
	case VALIDATE_OK:
		stats_add(&st, "validation_ok_total", 1);
		log_info("validated %s: it restores to the spool's database",
		    b->where);
		break;
	case VALIDATE_SKIP:
		log_info("validation skipped: %s", err);
		break;
	case VALIDATE_MISMATCH:
		stats_add(&st, "validation_errors_total", 1);
		log_warn("validation of %s failed: %s: shipping everything in "
		    "the spool again", b->where, err);
		memset(&a, 0, sizeof a);
		if (spool_ack_write(sp, o->replica, &a) < 0)
			log_warn("unable to write acks/%s: %s", o->replica,
			    strerror(errno));
		break;
	default:
		log_warn("validation of %s not done: %s", b->where, err);
	}
	return rc;
}

/* The shorter of wait (-1: none) and the time from now to at (0 if
 * past). */
static int64_t
until(int64_t wait, int64_t at, int64_t now)
{
	int64_t d = at > now ? at - now : 0;

	return wait < 0 || d < wait ? d : wait;
}

static volatile sig_atomic_t stopping;

/* Reads once from fd, which poll found readable (no O_NONBLOCK: the
 * descriptor may be shared, a terminal say). 0 on end of input. */
static int
drain(int fd)
{
	char buf[4096];
	ssize_t r;

	do
		r = read(fd, buf, sizeof buf);
	while (r < 0 && errno == EINTR);
	return r != 0;
}

int
ship_main(struct spool *sp, struct backend *b, const struct ship_opts *o)
{
	struct spool_ack a;
	struct pollfd pfd[2];
	struct signalfd_siginfo si;
	sigset_t mask;
	int64_t next_ret = 0, backoff = 0, retry_at = 0, last_pass = 0, t, wait;
	int64_t next_val = INT64_MAX;
	int sfd, rc = BE_OK, shipped, removed, in_open = 1, due = 1, r;
	char statsname[96];
	int ready = o->ready_fd;
	char cur[NAME_GEN_LEN + 1];

	snprintf(statsname, sizeof statsname, "replica.%s", o->replica);
	/* Register: from now on ls-watch keeps what this replica lacks. */
	if ((r = spool_ack_read(sp, o->replica, &a)) < 0)
		log_fatal(100, "unable to read %s/acks/%s: %s", sp->dir,
		    o->replica, strerror(errno));
	if (r == 0 && spool_ack_write(sp, o->replica, &a) < 0)
		log_fatal(111, "unable to write %s/acks/%s: %s", sp->dir,
		    o->replica, strerror(errno));
	if ((r = ship_verify(sp, b, o->replica)) == BE_PERM)
		log_fatal(100, "%s", b->err);
	else if (r != BE_OK)
		log_fatal(111, "%s", b->err);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		log_fatal(111, "unable to create signalfd: %s", strerror(errno));

	if (o->validation_ms > 0)
		next_val = now_ms() + o->validation_ms;
	for (;;) {
		t = now_ms();
		if (due && t >= retry_at) {
			last_pass = t;
			shipped = 0;
			rc = ship_pass(sp, b, o->replica, o->sync_ms > 0,
			    &shipped);
			if (rc == BE_PERM)
				log_fatal(100, "%s", b->err);
			if (rc != BE_OK) {
				backoff = backoff ? backoff * 2 : 1000;
				if (backoff > 60000)
					backoff = 60000;
				/* Jitter: between half and all of it. */
				wait = backoff / 2 + random() % (backoff / 2 + 1);
				log_warn("%s, retry in %llds", b->err,
				    (long long)(wait + 999) / 1000);
				retry_at = t + wait;
				/* Asked to finish: give up after a few tries
				 * rather than hang the caller's shutdown. */
				if ((o->once || stopping || !in_open) &&
				    backoff >= 8000)
					log_fatal(111, "giving up: %s", b->err);
			} else {
				backoff = 0;
				retry_at = 0;
				due = 0;
			}
			if (rc == BE_OK)
				ready_notify(&ready);
			if (rc == BE_OK && o->once && o->validation_ms > 0) {
				/* Once: validate what was just shipped. */
				r = ship_validate(sp, b, o);
				stats_flush(&st, sp, statsname, 1);
				if (r == VALIDATE_MISMATCH)
					log_fatal(100, "%s does not restore to the "
					    "spool's database", b->where);
				if (r == VALIDATE_FAILED)
					log_fatal(111, "unable to validate %s",
					    b->where);
			}
			if (rc == BE_OK && (o->once || stopping || !in_open)) {
				if (o->retention_ms > 0)
					next_ret = t;	/* once more, last */
				else {
					stats_flush(&st, sp, statsname, 1);
					close(sfd);
					return 0;
				}
			}
		}
		if (o->retention_ms > 0 && t >= next_ret && rc == BE_OK) {
			if (spool_generation(sp, cur, NULL, 0) <= 0)
				cur[0] = '\0';
			rc = ship_retention(b, o->retention_ms, wall_ns(),
			    cur[0] ? cur : NULL, &removed);
			if (rc == BE_PERM)
				log_fatal(100, "retention: %s", b->err);
			if (rc != BE_OK)
				log_warn("retention: %s", b->err);
			next_ret = t + o->retention_check_ms;
			if (o->once || stopping || !in_open) {
				stats_flush(&st, sp, statsname, 1);
				close(sfd);
				return 0;
			}
		}
		if (!due && t >= next_val) {
			if (ship_validate(sp, b, o) == VALIDATE_MISMATCH) {
				due = 1;
				retry_at = 0;
			}
			t = now_ms();
			next_val = t + o->validation_ms;
		}
		stats_flush(&st, sp, statsname, 0);
		/* Sleep until the first timer that can fire: the next pass,
		 * the stats, retention (only after a good pass), validation
		 * (only when nothing is pending). -1: until woken. */
		wait = -1;
		if (due)
			wait = until(wait, retry_at, t);
		if (st.dirty)
			wait = until(wait, st.next_ms, t);
		if (o->retention_ms > 0 && rc == BE_OK)
			wait = until(wait, next_ret, t);
		if (!due && next_val != INT64_MAX)
			wait = until(wait, next_val, t);
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = in_open ? o->in_fd : -1;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, wait > INT32_MAX ? INT32_MAX : (int)wait) < 0 &&
		    errno != EINTR) {
			close(sfd);
			log_fatal(111, "poll: %s", strerror(errno));
		}
		if (pfd[0].revents & POLLIN) {
			while (read(sfd, &si, sizeof si) == sizeof si)
				;
			stopping = 1;
			retry_at = 0;
			due = 1;
		}
		if (in_open && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (!drain(o->in_fd))
				in_open = 0;
			/* Woken: ship now, or with a sync interval at
			 * its next tick. */
			if (backoff == 0)
				retry_at = o->sync_ms > 0 && !stopping &&
				    in_open ? last_pass + o->sync_ms : 0;
			due = 1;
		}
		if (!in_open && backoff == 0) {
			retry_at = 0;
			due = 1;
		}
	}
}
