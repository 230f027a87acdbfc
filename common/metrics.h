/*
 * metrics: Prometheus text exposition of what the files say: database and
 * WAL sizes, the spool's position and size, and per replica its confirmed
 * position, what it lacks and the replication lag (the age of the oldest
 * spool object its ack does not cover).
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct metrics_child {
	const char	*db;		/* path */
	const char	*program;	/* ls-watch, ls-ship-file, ... */
	const char	*replica;	/* NULL for ls-watch */
	int		up;
	uint64_t	restarts;
};

/* Renders every metric into a malloc'd buffer. 0, or -1 (no memory). */
int metrics_render(const struct conf *cf, const struct metrics_child *ch,
    size_t nch, int64_t now_ns, char **out, size_t *len);

#endif
