/*
 * file: a replica in a local directory. Objects are files at their
 * relative names under the root; a write goes to a temporary file in the
 * object's directory ("." + base + ".tmp", which no reader takes for an
 * object), is fsynced, renamed into place and the directory fsynced, so a
 * name only ever holds a whole object. The creation time is the mtime,
 * set to the spool object's own when the shipper gives it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "fsx.h"

struct file_backend {
	struct backend	b;
	char		*root;
	int		dirfd;		/* directory of the last put, or -1 */
	char		dirname[PATH_MAX];
};

static int
path_of(struct file_backend *f, const char *name, char *buf)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", f->root, name) >= PATH_MAX) {
		snprintf(f->b.err, sizeof f->b.err, "%s: name too long", name);
		return -1;
	}
	return 0;
}

static int
fail(struct file_backend *f, const char *verb, const char *what)
{
	int e = errno;

	snprintf(f->b.err, sizeof f->b.err, "unable to %s %s: %s", verb, what,
	    strerror(e));
	if (e == ENOENT)
		return BE_NOENT;
	if (e == EACCES || e == EPERM || e == EROFS || e == ENOTDIR)
		return BE_PERM;
	return BE_TEMP;
}

/*
 * The directory of the last put stays open: objects mostly go to the same
 * wal/ directory, and creating, renaming and fsyncing relative to an open
 * descriptor saves a path walk and an open per object.
 */
static int
dir_fd(struct file_backend *f, const char *dir)
{
	struct stat st;

	/* A directory removed meanwhile (retention, a person) has no links
	 * left: open it again, under its name. */
	if (f->dirfd >= 0 && strcmp(f->dirname, dir) == 0 &&
	    fstat(f->dirfd, &st) == 0 && st.st_nlink > 0)
		return f->dirfd;
	if (f->dirfd >= 0)
		close(f->dirfd);
	f->dirfd = -1;
	if (strlen(dir) >= sizeof f->dirname) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (fsx_mkdirs(dir, 0755) < 0)
		return -1;
	if ((f->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	strcpy(f->dirname, dir);
	return f->dirfd;
}

static int
file_put(struct backend *b, const char *name, int fd, uint64_t size,
    int64_t mtime_ns)
{
	struct file_backend *f = (struct file_backend *)b;
	char path[PATH_MAX], tmp[NAME_MAX + 1], *slash;
	char buf[65536];
	const char *base;
	uint64_t done = 0;
	ssize_t r;
	int out, rc, dfd;

	if (path_of(f, name, path) < 0)
		return BE_PERM;
	slash = strrchr(path, '/');
	*slash = '\0';
	base = slash + 1;
	if ((dfd = dir_fd(f, path)) < 0)
		return fail(f, "create directory", path);
	if (snprintf(tmp, sizeof tmp, ".%s.tmp", base) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return fail(f, "create", base);
	}
	out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return fail(f, "create a temporary file in", path);
	/* In-kernel copy where the file systems allow it. */
	while (done < size) {
		loff_t in = (loff_t)done;

		r = copy_file_range(fd, &in, out, NULL, size - done, 0);
		if (r <= 0)
			break;
		done += (uint64_t)r;
	}
	while (done < size) {
		r = pread(fd, buf, sizeof buf, (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			rc = fail(f, "read source of", name);
			goto bad;
		}
		if (fsx_write_all(out, buf, (size_t)r) < 0) {
			rc = fail(f, "write into", path);
			goto bad;
		}
		done += (uint64_t)r;
	}
	if (mtime_ns != 0) {
		struct timespec ts[2];

		ts[0].tv_sec = ts[1].tv_sec = mtime_ns / 1000000000;
		ts[0].tv_nsec = ts[1].tv_nsec = mtime_ns % 1000000000;
		if (futimens(out, ts) < 0) {
			rc = fail(f, "set the time of a file in", path);
			goto bad;
		}
	}
	if (fsync(out) < 0) {
		rc = fail(f, "fsync a file in", path);
		goto bad;
	}
	if (close(out) < 0) {
		out = -1;
		rc = fail(f, "close a file in", path);
		goto bad;
	}
	out = -1;
	if (renameat(dfd, tmp, dfd, base) < 0 || fsync(dfd) < 0) {
		*slash = '/';
		rc = fail(f, "rename into", path);
		goto bad;
	}
	return BE_OK;
bad:
	if (out >= 0)
		close(out);
	unlinkat(dfd, tmp, 0);
	return rc;
}

static int
file_get(struct backend *b, const char *name, backend_sink sink, void *ctx)
{
	struct file_backend *f = (struct file_backend *)b;
	char path[PATH_MAX];
	char *buf;
	ssize_t r;
	int fd, rc = BE_OK;

	if (path_of(f, name, path) < 0)
		return BE_PERM;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(f, "open", path);
	if ((buf = malloc(1 << 20)) == NULL) {
		close(fd);
		return fail(f, "read", path);
	}
	for (;;) {
		r = read(fd, buf, 1 << 20);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fail(f, "read", path);
			break;
		}
		if (r == 0)
			break;
		if (sink(ctx, buf, (size_t)r) < 0) {
			snprintf(b->err, sizeof b->err, "%s: consumer stopped",
			    name);
			rc = BE_PERM;
			break;
		}
	}
	free(buf);
	close(fd);
	return rc;
}

/* Walks dir (relative rel) calling cb for regular files under prefix. */
static int
walk(struct file_backend *f, const char *rel, const char *prefix,
    backend_list_cb cb, void *ctx)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct backend_obj o;
	struct dirent *de;
	struct stat st;
	size_t plen = strlen(prefix), rlen;
	DIR *d;
	int rc = BE_OK;

	if (snprintf(path, sizeof path, "%s%s%s", f->root, *rel ? "/" : "",
	    rel) >= (int)sizeof path)
		return BE_OK;
	if ((d = opendir(path)) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return BE_OK;
		return fail(f, "list", path);
	}
	while (rc == BE_OK && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "",
		    de->d_name) >= (int)sizeof sub)
			continue;
		rlen = strlen(sub);
		/* Descend only where the prefix can still match. */
		if (strncmp(sub, prefix, rlen < plen ? rlen : plen) != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			rc = walk(f, sub, prefix, cb, ctx);
			continue;
		}
		if (!S_ISREG(st.st_mode) || rlen < plen || rlen >= NAME_LEN)
			continue;
		memcpy(o.name, sub, rlen + 1);
		o.size = (uint64_t)st.st_size;
		o.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
		    st.st_mtim.tv_nsec;
		rc = cb(ctx, &o);
	}
	closedir(d);
	return rc;
}

static int
file_list(struct backend *b, const char *prefix, backend_list_cb cb, void *ctx)
{
	return walk((struct file_backend *)b, "", prefix, cb, ctx);
}

/* Removes dir and its parents up to the root while they are empty. */
static void
prune(struct file_backend *f, char *path)
{
	char *slash;
	size_t rl = strlen(f->root);

	while ((slash = strrchr(path, '/')) != NULL && (size_t)(slash - path) > rl) {
		*slash = '\0';
		if (rmdir(path) < 0)
			break;
	}
}

static int
file_remove(struct backend *b, const char *const *names, size_t n)
{
	struct file_backend *f = (struct file_backend *)b;
	char path[PATH_MAX];
	size_t i;

	if (f->dirfd >= 0) {
		close(f->dirfd);
		f->dirfd = -1;
	}
	for (i = 0; i < n; i++) {
		if (path_of(f, names[i], path) < 0)
			return BE_PERM;
		if (unlink(path) < 0 && errno != ENOENT)
			return fail(f, "remove", path);
		if (fsx_fsync_parent(path) < 0 && errno != ENOENT)
			return fail(f, "fsync directory of", path);
		prune(f, path);
	}
	return BE_OK;
}

static void
file_close(struct backend *b)
{
	struct file_backend *f = (struct file_backend *)b;

	if (f->dirfd >= 0)
		close(f->dirfd);
	free(f->root);
	free(f);
}

static const struct backend_ops file_ops = {
	.scheme = "file",
	.put = file_put,
	.get = file_get,
	.list = file_list,
	.remove = file_remove,
	.close = file_close,
};

struct backend *
file_open(const char *dir, int create)
{
	struct file_backend *f;
	struct stat st;
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (create && fsx_mkdirs(dir, 0755) < 0)
		return NULL;
	if (stat(dir, &st) < 0)
		return NULL;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return NULL;
	}
	if ((f = calloc(1, sizeof *f)) == NULL)
		return NULL;
	if ((f->root = strndup(dir, n)) == NULL) {
		free(f);
		return NULL;
	}
	f->b.ops = &file_ops;
	f->b.where = f->root;
	f->dirfd = -1;
	return &f->b;
}
