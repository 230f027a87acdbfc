/* fsx: file operations done completely and durably. Each returns 0 (or a
 * count), or -1 with errno set. */
#ifndef FSX_H
#define FSX_H

#include <stddef.h>
#include <sys/types.h>

int fsx_write_all(int fd, const void *p, size_t n);
/* Reads up to n bytes at off; returns the count (short only at EOF). */
ssize_t fsx_pread_all(int fd, void *p, size_t n, off_t off);
/* mkdir -p, each new directory fsynced into its parent. */
int fsx_mkdirs(const char *path, mode_t mode);
int fsx_fsync_dir(const char *dir);
/* fsync(dir of path). */
int fsx_fsync_parent(const char *path);
/* rename(from, to), then fsync of to's directory. */
int fsx_rename(const char *from, const char *to);
/* Whole file into a malloc'd, NUL-terminated buffer. */
int fsx_read_file(const char *path, char **buf, size_t *n);
/* path.tmp, write, fsync, rename, fsync dir. */
int fsx_write_atomic(const char *path, const void *p, size_t n, mode_t mode);
/* The same without the fsyncs: whole or old content, but it may be lost
 * (or, on some file systems, empty) after a crash. */
int fsx_write_replace(const char *path, const void *p, size_t n, mode_t mode);

#endif
