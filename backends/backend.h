/*
 * backend: the one small interface every storage client fills. A backend
 * moves bytes to and from names relative to the replica root; it knows
 * nothing of generations, ordering or retention (common/ does that).
 *
 * Every call returns BE_OK, or BE_NOENT (no such object), BE_TEMP (try
 * again: network, 5xx, a system call) or BE_PERM (do not retry: refused,
 * bad configuration), with a one-line reason in b->err. Reasons never hold
 * secrets.
 */
#ifndef BACKEND_H
#define BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "name.h"

enum { BE_OK = 0, BE_NOENT = 1, BE_PERM = 100, BE_TEMP = 111 };

struct backend_obj {
	char		name[NAME_LEN];	/* relative to the root */
	uint64_t	size;		/* stored (compressed) size */
	int64_t		mtime_ns;	/* creation time from the storage */
};

/* List callback: 0 to go on, anything else stops the listing and is
 * returned by list(). */
typedef int (*backend_list_cb)(void *ctx, const struct backend_obj *o);
/* Get callback: receives the object's bytes in order; 0 or -1 to stop. */
typedef int (*backend_sink)(void *ctx, const void *p, size_t n);

struct backend;

struct backend_ops {
	const char *scheme;
	/* 1 if several threads may call get at once on one backend: then
	 * they share its connections and credentials. */
	int shared;
	/* Stores the size bytes readable from fd (from offset 0) under name,
	 * whole or not at all. mtime_ns, if not 0, is the creation time to
	 * record where the storage lets the client choose it. */
	int (*put)(struct backend *b, const char *name, int fd, uint64_t size,
	    int64_t mtime_ns);
	/* Streams the object to sink. */
	int (*get)(struct backend *b, const char *name, backend_sink sink,
	    void *ctx);
	/* Calls cb for every object whose name starts with prefix, in no
	 * particular order. Only names that fit NAME_LEN are listed. */
	int (*list)(struct backend *b, const char *prefix, backend_list_cb cb,
	    void *ctx);
	/* Removes the named objects; a missing one is not an error. */
	int (*remove)(struct backend *b, const char *const *names, size_t n);
	void (*close)(struct backend *b);
};

struct age_keys;

struct backend {
	const struct backend_ops	*ops;	/* first field */
	char				err[512];
	char				*where;	/* printable root, no secret */
	/* Set by replica_open: Litestream's client-side encryption. Objects
	 * put are encrypted to rcpt (if any); age objects read are opened
	 * with ids. NULL when the replica has neither. */
	struct replica_age		*age;
};

/* backends/file.c: a directory replica (and the spool). NULL with errno. */
struct backend *file_open(const char *dir, int create);

#endif
