/* spool: the spool directory's layout, acks and garbage collection
 * (layout in spool.h, life of an object in ls-spool(5)). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsx.h"
#include "log.h"
#include "spool.h"

static int
sub(struct spool *s, char *buf, const char *fmt, const char *a)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof rel, fmt, a);
	if (snprintf(buf, PATH_MAX, "%s/%s", s->dir, rel) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
spool_open(struct spool *s, const char *dir, int create)
{
	char p[PATH_MAX];
	struct stat st;

	s->lockfd = -1;
	s->ackfd = -1;
	s->pubfd = -1;
	if ((s->dir = strdup(dir)) == NULL)
		return -1;
	if (create) {
		if (fsx_mkdirs(dir, 0755) < 0)
			goto bad;
		sub(s, p, "%s", "tmp");
		if (fsx_mkdirs(p, 0755) < 0)
			goto bad;
		sub(s, p, "%s", "acks");
		if (fsx_mkdirs(p, 0755) < 0)
			goto bad;
		sub(s, p, "%s", "generations");
		if (fsx_mkdirs(p, 0755) < 0)
			goto bad;
		/* Prove the spool can be written before promising anything. */
		if (access(dir, W_OK) < 0)
			goto bad;
	}
	if (stat(dir, &st) < 0)
		goto bad;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto bad;
	}
	return 0;
bad:
	free(s->dir);
	s->dir = NULL;
	return -1;
}

void
spool_close(struct spool *s)
{
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->ackfd >= 0)
		close(s->ackfd);
	if (s->pubfd >= 0)
		close(s->pubfd);
	s->ackfd = s->pubfd = -1;
	free(s->dir);
	s->dir = NULL;
	s->lockfd = -1;
}

int
spool_lock(struct spool *s)
{
	char p[PATH_MAX];

	sub(s, p, "%s", "lock");
	if ((s->lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return -1;
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(s->lockfd);
		s->lockfd = -1;
		errno = e == EWOULDBLOCK ? EWOULDBLOCK : e;
		return -1;
	}
	return 0;
}

int
spool_generation(struct spool *s, char *gen, char *ident, size_t identlen)
{
	char p[PATH_MAX], *buf, *sp, *nl;
	size_t n;

	sub(s, p, "%s", "generation");
	if (fsx_read_file(p, &buf, &n) < 0)
		return errno == ENOENT ? 0 : -1;
	if (n < NAME_GEN_LEN || !name_is_generation(buf, NAME_GEN_LEN) ||
	    (buf[NAME_GEN_LEN] != ' ' && buf[NAME_GEN_LEN] != '\n')) {
		free(buf);
		errno = EINVAL;
		return -1;
	}
	memcpy(gen, buf, NAME_GEN_LEN);
	gen[NAME_GEN_LEN] = '\0';
	if (ident != NULL) {
		*ident = '\0';
		sp = buf + NAME_GEN_LEN;
		if (*sp == ' ') {
			sp++;
			if ((nl = strchr(sp, '\n')) != NULL)
				*nl = '\0';
			snprintf(ident, identlen, "%s", sp);
		}
	}
	free(buf);
	return 1;
}

int
spool_set_generation(struct spool *s, const char *gen, const char *ident)
{
	char p[PATH_MAX], line[256];
	int n;

	sub(s, p, "%s", "generation");
	n = snprintf(line, sizeof line, "%s %s\n", gen, ident);
	return fsx_write_atomic(p, line, (size_t)n, 0644);
}

int
spool_tmpfile(struct spool *s, char *path)
{
	int fd;

	if (sub(s, path, "%s", "tmp/obj.XXXXXX") < 0)
		return -1;
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		return -1;
	fchmod(fd, 0644);
	return fd;
}

void
spool_path(struct spool *s, const struct name *n, char *buf)
{
	char rel[NAME_LEN];

	name_format(n, rel);
	snprintf(buf, PATH_MAX, "%s/%s", s->dir, rel);
}

int
spool_publish(struct spool *s, int fd, const char *path, const struct name *n)
{
	char dst[PATH_MAX], *slash;
	struct stat st;
	int e;

	spool_path(s, n, dst);
	if (fsync(fd) < 0 || close(fd) < 0)
		goto bad;
	slash = strrchr(dst, '/');
	*slash = '\0';
	/* The target directory stays open between objects (reopened if it
	 * was removed): no path walk, no open, for each one. */
	if (s->pubfd < 0 || strcmp(s->pubdir, dst) != 0 ||
	    fstat(s->pubfd, &st) < 0 || st.st_nlink == 0) {
		if (s->pubfd >= 0)
			close(s->pubfd);
		s->pubfd = -1;
		if (strlen(dst) >= sizeof s->pubdir) {
			errno = ENAMETOOLONG;
			goto bad;
		}
		if (fsx_mkdirs(dst, 0755) < 0 || (s->pubfd = open(dst,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			goto bad;
		strcpy(s->pubdir, dst);
	}
	if (renameat(AT_FDCWD, path, s->pubfd, slash + 1) < 0 ||
	    fsync(s->pubfd) < 0)
		goto bad;
	return 0;
bad:
	e = errno;
	unlink(path);
	errno = e;
	return -1;
}

void
spool_clean_tmp(struct spool *s)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d;

	sub(s, p, "%s", "tmp");
	if ((d = opendir(p)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

static int
list_add(struct spool_list *l, const struct spool_obj *o)
{
	struct spool_obj *v;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 64;
		if ((v = realloc(l->v, cap * sizeof *v)) == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *o;
	return 0;
}

static int
obj_cmp(const void *a, const void *b)
{
	return name_cmp(&((const struct spool_obj *)a)->n,
	    &((const struct spool_obj *)b)->n);
}

static int
list_dir(struct spool *s, const char *gen, const char *kind,
    const struct spool_ack *skip, struct spool_list *l)
{
	char p[PATH_MAX], rel[PATH_MAX];
	struct spool_obj o;
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(rel, sizeof rel, "generations/%s/%s", gen, kind);
	sub(s, p, "%s", rel);
	if ((d = opendir(p)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		char full[PATH_MAX];

		if (snprintf(full, sizeof full, "%s/%s", rel, de->d_name) >=
		    NAME_LEN || name_parse(full, &o.n) < 0)
			continue;
		/* Confirmed already: not even a stat. */
		if (skip != NULL && spool_ack_covers(skip, 0, 0, &o))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		o.size = (uint64_t)st.st_size;
		o.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
		    st.st_mtim.tv_nsec;
		if (list_add(l, &o) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

int
spool_list_gen(struct spool *s, const char *gen, struct spool_list *l)
{
	return spool_list_pending(s, gen, NULL, l);
}

int
spool_list_pending(struct spool *s, const char *gen,
    const struct spool_ack *a, struct spool_list *l)
{
	memset(l, 0, sizeof *l);
	if (list_dir(s, gen, "snapshots", a, l) < 0 ||
	    list_dir(s, gen, "wal", a, l) < 0) {
		spool_list_free(l);
		return -1;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, obj_cmp);
	return 0;
}

void
spool_list_free(struct spool_list *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

struct genent {
	char	id[NAME_GEN_LEN + 1];
	int64_t	first;
	int	current;
};

static int
gen_cmp(const void *a, const void *b)
{
	const struct genent *x = a, *y = b;

	if (x->current != y->current)
		return x->current - y->current;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return strcmp(x->id, y->id);
}

int
spool_generations(struct spool *s, char (**gens)[NAME_GEN_LEN + 1], size_t *n)
{
	char p[PATH_MAX], cur[NAME_GEN_LEN + 1] = "";
	struct genent *v = NULL, *nv;
	struct spool_list l;
	struct dirent *de;
	size_t cnt = 0, cap = 0, i;
	DIR *d;

	if (spool_generation(s, cur, NULL, 0) < 0)
		cur[0] = '\0';
	sub(s, p, "%s", "generations");
	if ((d = opendir(p)) == NULL) {
		if (errno != ENOENT)
			return -1;
	} else {
		while ((de = readdir(d)) != NULL) {
			if (!name_is_generation(de->d_name, strlen(de->d_name)))
				continue;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 8;
				if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
					free(v);
					closedir(d);
					return -1;
				}
				v = nv;
			}
			memcpy(v[cnt].id, de->d_name, NAME_GEN_LEN + 1);
			v[cnt].current = strcmp(de->d_name, cur) == 0;
			v[cnt].first = INT64_MAX;
			cnt++;
		}
		closedir(d);
	}
	for (i = 0; i < cnt; i++) {
		if (v[i].current || spool_list_gen(s, v[i].id, &l) < 0)
			continue;
		for (size_t j = 0; j < l.n; j++)
			if (l.v[j].mtime_ns < v[i].first)
				v[i].first = l.v[j].mtime_ns;
		spool_list_free(&l);
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof *v, gen_cmp);
	*gens = calloc(cnt ? cnt : 1, sizeof **gens);
	if (*gens == NULL) {
		free(v);
		return -1;
	}
	for (i = 0; i < cnt; i++)
		memcpy((*gens)[i], v[i].id, NAME_GEN_LEN + 1);
	*n = cnt;
	free(v);
	return 0;
}

int
spool_replica_name_ok(const char *r)
{
	size_t i, n = strlen(r);

	if (n == 0 || n > 64 || strcmp(r, ".") == 0 || strcmp(r, "..") == 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = r[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return r[0] != '.';
}

static int
hex8(const char *s, uint32_t *v)
{
	struct name n;
	char buf[NAME_LEN];

	/* Reuse the strict name parser for the 8-digit fields. */
	snprintf(buf, sizeof buf, "generations/0000000000000000/snapshots/"
	    "%.8s.snapshot.lz4", s);
	if (strlen(s) < 8 || name_parse(buf, &n) < 0)
		return -1;
	*v = n.idx;
	return 0;
}

int
spool_ack_read(struct spool *s, const char *replica, struct spool_ack *a)
{
	char p[PATH_MAX], rel[PATH_MAX], *buf, gen[32], snap[32], wal[32];
	size_t n;

	memset(a, 0, sizeof *a);
	snprintf(rel, sizeof rel, "acks/%s", replica);
	sub(s, p, "%s", rel);
	if (fsx_read_file(p, &buf, &n) < 0)
		return errno == ENOENT ? 0 : -1;
	if (sscanf(buf, "%31s %31s %31s", gen, snap, wal) != 3) {
		free(buf);
		goto bad;
	}
	free(buf);
	if (strcmp(gen, "-") == 0)
		return 1;
	if (!name_is_generation(gen, strlen(gen)))
		goto bad;
	memcpy(a->gen, gen, NAME_GEN_LEN + 1);
	if (strcmp(snap, "-") != 0) {
		if (strlen(snap) != 8 || hex8(snap, &a->snap) < 0)
			goto bad;
		a->has_snap = 1;
	}
	if (strcmp(wal, "-") != 0) {
		if (strlen(wal) != 17 || wal[8] != '_' ||
		    hex8(wal, &a->widx) < 0 || hex8(wal + 9, &a->woff) < 0)
			goto bad;
		a->has_wal = 1;
	}
	return 1;
bad:
	/* Damaged (a crash can leave it empty): it confirms nothing. */
	log_warn("%s/acks/%s is damaged: it confirms nothing", s->dir,
	    replica);
	memset(a, 0, sizeof *a);
	return 1;
}

int
spool_ack_write(struct spool *s, const char *replica, const struct spool_ack *a)
{
	char p[PATH_MAX], rel[PATH_MAX], line[128], snap[16], wal[24];
	struct stat st;
	int n;

	if (strlen(replica) >= sizeof s->ackname) {
		errno = ENAMETOOLONG;
		return -1;
	}

	snprintf(rel, sizeof rel, "acks/%s", replica);
	sub(s, p, "%s", rel);
	if (a->has_snap)
		snprintf(snap, sizeof snap, "%08x", (unsigned)a->snap);
	else
		strcpy(snap, "-");
	if (a->has_wal)
		snprintf(wal, sizeof wal, "%08x_%08x", (unsigned)a->widx,
		    (unsigned)a->woff);
	else
		strcpy(wal, "-");
	n = snprintf(line, sizeof line, "%-63s\n", "");
	snprintf(line, sizeof line, "%s %s %s", a->gen[0] ? a->gen : "-",
	    snap, wal);
	line[strlen(line)] = ' ';
	/*
	 * No fsync: an ack lost in a crash only means shipping again, and the
	 * object it names was made durable in the replica first. The first
	 * write creates the file whole; later ones overwrite its 64 bytes in
	 * place, and a reader that ever saw them torn would take the file
	 * for damaged, which confirms nothing: safe either way.
	 */
	if (s->ackfd >= 0 && strcmp(s->ackname, replica) == 0 &&
	    fstat(s->ackfd, &st) == 0 && st.st_nlink > 0) {
		if (pwrite(s->ackfd, line, (size_t)n, 0) == n)
			return 0;
		return -1;
	}
	if (fsx_write_replace(p, line, (size_t)n, 0644) < 0)
		return -1;
	if (s->ackfd >= 0)
		close(s->ackfd);
	s->ackfd = open(p, O_WRONLY | O_CLOEXEC);
	snprintf(s->ackname, sizeof s->ackname, "%s", replica);
	return 0;
}

int
spool_ack_covers(const struct spool_ack *a, int ack_rank, int rank,
    const struct spool_obj *o)
{
	if (ack_rank < 0)
		return 0;
	if (ack_rank > rank)
		return 1;
	if (ack_rank < rank)
		return 0;
	if (o->n.kind == NAME_SNAPSHOT)
		return a->has_snap && a->snap >= o->n.idx;
	if (!a->has_wal)
		return 0;
	return a->widx > o->n.idx ||
	    (a->widx == o->n.idx && a->woff >= o->n.off);
}

struct acks {
	struct spool_ack	*v;
	int			*rank;
	size_t			n;
};

static int
read_acks(struct spool *s, char (*gens)[NAME_GEN_LEN + 1], size_t ngen,
    struct acks *out)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d;
	size_t cap = 0, i;

	memset(out, 0, sizeof *out);
	sub(s, p, "%s", "acks");
	if ((d = opendir(p)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		struct spool_ack a;

		if (!spool_replica_name_ok(de->d_name) ||
		    strstr(de->d_name, ".tmp") != NULL)
			continue;
		if (spool_ack_read(s, de->d_name, &a) < 0) {
			/* Unreadable: it confirms nothing, so keeps all. */
			log_warn("unable to read %s/acks/%s: %s", s->dir,
			    de->d_name, strerror(errno));
			memset(&a, 0, sizeof a);
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 4;
			out->v = realloc(out->v, cap * sizeof *out->v);
			out->rank = realloc(out->rank, cap * sizeof *out->rank);
			if (out->v == NULL || out->rank == NULL) {
				closedir(d);
				return -1;
			}
		}
		out->v[out->n] = a;
		out->rank[out->n] = -1;
		for (i = 0; i < ngen; i++)
			if (strcmp(gens[i], a.gen) == 0)
				out->rank[out->n] = (int)i;
		out->n++;
	}
	closedir(d);
	return 0;
}

int
spool_gc(struct spool *s)
{
	char (*gens)[NAME_GEN_LEN + 1];
	char path[PATH_MAX], cur[NAME_GEN_LEN + 1];
	struct spool_list l;
	struct acks ak;
	size_t ngen, g, i, k;
	uint32_t keep_from;
	int removed = 0, have_cur;

	if ((have_cur = spool_generation(s, cur, NULL, 0)) < 0)
		return -1;
	if (spool_generations(s, &gens, &ngen) < 0)
		return -1;
	if (read_acks(s, gens, ngen, &ak) < 0) {
		free(gens);
		return -1;
	}
	for (g = 0; g < ngen; g++) {
		int is_cur = have_cur && strcmp(gens[g], cur) == 0;

		if (spool_list_gen(s, gens[g], &l) < 0)
			continue;
		/* Keep the newest snapshot of the current generation and the
		 * WAL a restore from it needs. */
		keep_from = UINT32_MAX;
		if (is_cur) {
			keep_from = 0;
			for (i = 0; i < l.n; i++)
				if (l.v[i].n.kind == NAME_SNAPSHOT)
					keep_from = l.v[i].n.idx;
		}
		for (i = 0; i < l.n; i++) {
			struct spool_obj *o = &l.v[i];

			if (is_cur && o->n.idx >= keep_from)
				continue;
			for (k = 0; k < ak.n; k++)
				if (!spool_ack_covers(&ak.v[k], ak.rank[k],
				    (int)g, o))
					break;
			if (k < ak.n)
				continue;
			spool_path(s, &l.v[i].n, path);
			if (unlink(path) == 0)
				removed++;
		}
		spool_list_free(&l);
		if (!is_cur) {
			/* Drop the directories of a generation now empty. */
			char rel[PATH_MAX];

			snprintf(rel, sizeof rel, "generations/%s/wal", gens[g]);
			sub(s, path, "%s", rel);
			rmdir(path);
			snprintf(rel, sizeof rel, "generations/%s/snapshots",
			    gens[g]);
			sub(s, path, "%s", rel);
			rmdir(path);
			snprintf(rel, sizeof rel, "generations/%s", gens[g]);
			sub(s, path, "%s", rel);
			rmdir(path);
		}
	}
	if (removed > 0) {
		sub(s, path, "%s", "generations");
		fsx_fsync_dir(path);
	}
	free(ak.v);
	free(ak.rank);
	free(gens);
	return removed;
}
