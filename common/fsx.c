/* fsx: whole writes and reads, durable renames, mkdir -p. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsx.h"

static int write_replace(const char *path, const void *p, size_t n,
    mode_t mode, int sync);

int
fsx_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
fsx_pread_all(int fd, void *p, size_t n, off_t off)
{
	char *s = p;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = pread(fd, s + got, n - got, off + (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
fsx_fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
fsx_fsync_parent(const char *path)
{
	char buf[PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	slash = strrchr(buf, '/');
	if (slash == NULL)
		return fsx_fsync_dir(".");
	if (slash == buf)
		slash[1] = '\0';
	else
		*slash = '\0';
	return fsx_fsync_dir(buf);
}

int
fsx_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;
	struct stat st;

	if (strlen(path) >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (stat(buf, &st) < 0) {
			if (errno != ENOENT)
				return -1;
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return -1;
			if (fsx_fsync_parent(buf) < 0)
				return -1;
		} else if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

int
fsx_rename(const char *from, const char *to)
{
	if (rename(from, to) < 0)
		return -1;
	return fsx_fsync_parent(to);
}

int
fsx_read_file(const char *path, char **buf, size_t *n)
{
	int fd;
	struct stat st;
	char *b;
	ssize_t r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || (b = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	r = fsx_pread_all(fd, b, (size_t)st.st_size, 0);
	close(fd);
	if (r < 0) {
		free(b);
		return -1;
	}
	b[r] = '\0';
	*buf = b;
	*n = (size_t)r;
	return 0;
}

int
fsx_write_atomic(const char *path, const void *p, size_t n, mode_t mode)
{
	return write_replace(path, p, n, mode, 1);
}

int
fsx_write_replace(const char *path, const void *p, size_t n, mode_t mode)
{
	return write_replace(path, p, n, mode, 0);
}

static int
write_replace(const char *path, const void *p, size_t n, mode_t mode,
    int sync)
{
	char tmp[PATH_MAX];
	int fd, e;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0)
		return -1;
	if (fsx_write_all(fd, p, n) < 0 || (sync && fsync(fd) < 0)) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (close(fd) < 0 ||
	    (sync ? fsx_rename(tmp, path) : rename(tmp, path)) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}
