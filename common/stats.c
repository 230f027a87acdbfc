/* stats: counters in SPOOL/stats/FILE (see stats.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fsx.h"
#include "stats.h"

void
stats_add(struct stats *st, const char *key, uint64_t d)
{
	int i;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->key[i], key) == 0)
			break;
	if (i == st->n) {
		if (st->n == STATS_MAX)
			return;
		st->key[st->n] = key;
		st->val[st->n++] = 0;
	}
	st->val[i] += d;
	st->dirty = 1;
}

void
stats_flush(struct stats *st, struct spool *sp, const char *file, int force)
{
	char path[PATH_MAX], buf[STATS_MAX * 80];
	struct timespec ts;
	int64_t now;
	size_t len = 0;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (!st->dirty || (!force && now < st->next_ms))
		return;
	for (i = 0; i < st->n; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len,
		    "%s %llu\n", st->key[i], (unsigned long long)st->val[i]);
	snprintf(path, sizeof path, "%s/stats", sp->dir);
	fsx_mkdirs(path, 0755);
	snprintf(path, sizeof path, "%s/stats/%s", sp->dir, file);
	if (fsx_write_replace(path, buf, len, 0644) == 0)
		st->dirty = 0;
	st->next_ms = now + 1000;
}
