/*
 * stats: a program's counters, written for the supervisor's metrics to
 * SPOOL/stats/FILE as "key value" lines, at most once a second (and at
 * exit). Written whole without fsync: a counter lost in a crash restarts
 * from zero, which Prometheus counters allow.
 */
#ifndef STATS_H
#define STATS_H

#include <stdint.h>

#include "spool.h"

#define STATS_MAX	16

struct stats {
	const char	*key[STATS_MAX];
	uint64_t	val[STATS_MAX];
	int		n;
	int		dirty;
	int64_t		next_ms;
};

void stats_add(struct stats *st, const char *key, uint64_t d);
/* Writes the file if something changed and a second has passed (or
 * force). Failures are ignored: counters are not worth stopping for. */
void stats_flush(struct stats *st, struct spool *sp, const char *file,
    int force);

#endif
