/* metrics: Prometheus text format from the database files and spools. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "metrics.h"
#include "fsx.h"
#include "spool.h"

struct buf {
	char	*p;
	size_t	len, cap;
	int	bad;
};

static void
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->bad = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *q = realloc(b->p, b->cap * 2 + (size_t)n);

		if (q == NULL) {
			b->bad = 1;
			return;
		}
		b->p = q;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

/* Label values: backslash, double quote and newline escaped. */
static const char *
esc(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"')
			buf[o++] = '\\';
		if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
			continue;
		}
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static void
help(struct buf *b, const char *name, const char *type, const char *text)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* Counters from SPOOL/stats/ files, gathered to be printed by family. */
struct ctr {
	char		fam[96];
	char		labels[1400];
	uint64_t	v;
	size_t		seq;
};

struct ctrs {
	struct ctr	*v;
	size_t		n, cap;
};

static int
ctr_cmp(const void *a, const void *b)
{
	const struct ctr *x = a, *y = b;
	int c = strcmp(x->fam, y->fam);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Reads "key value" lines of file into counters PREFIX_key{labels}. */
static void
read_stats(struct ctrs *c, const char *file, const char *prefix,
    const char *labels)
{
	char *buf, *line, *save = NULL, key[64];
	unsigned long long v;
	size_t n;

	if (fsx_read_file(file, &buf, &n) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		struct ctr *x;

		if (sscanf(line, "%63[a-z_] %llu", key, &v) != 2)
			continue;
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 32;

			if ((x = realloc(c->v, cap * sizeof *x)) == NULL)
				break;
			c->v = x;
			c->cap = cap;
		}
		x = &c->v[c->n];
		snprintf(x->fam, sizeof x->fam, "%s_%s", prefix, key);
		snprintf(x->labels, sizeof x->labels, "%s", labels);
		x->v = v;
		x->seq = c->n++;
	}
	free(buf);
}

static int64_t
fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

int
metrics_render(const struct conf *cf, const struct metrics_child *ch,
    size_t nch, int64_t now_ns, char **out, size_t *len)
{
	struct buf b = { malloc(8192), 0, 8192, 0 };
	char e1[1024], e2[256], wal[4200];
	size_t i, j, k;

	if (b.p == NULL)
		return -1;
	help(&b, "ls_db_size_bytes", "gauge", "Size of the database file.");
	for (i = 0; i < cf->ndb; i++)
		put(&b, "ls_db_size_bytes{db=\"%s\"} %lld\n",
		    esc(cf->db[i].path, e1, sizeof e1),
		    (long long)fsize(cf->db[i].path));
	help(&b, "ls_wal_size_bytes", "gauge", "Size of the WAL file.");
	for (i = 0; i < cf->ndb; i++) {
		snprintf(wal, sizeof wal, "%s-wal", cf->db[i].path);
		put(&b, "ls_wal_size_bytes{db=\"%s\"} %lld\n",
		    esc(cf->db[i].path, e1, sizeof e1), (long long)fsize(wal));
	}
	struct dbm {
		int		have, has_wal;
		char		gen[NAME_GEN_LEN + 1];
		uint32_t	idx, off;
		size_t		nobj;
		uint64_t	bytes;
	} *dm = calloc(cf->ndb + 1, sizeof *dm);
	struct ctrs cs = { NULL, 0, 0 };
	struct repm {
		struct spool_ack a;
		size_t		pending;
		double		lag;
	} **rm = calloc(cf->ndb + 1, sizeof *rm);

	if (dm == NULL || rm == NULL) {
		free(dm);
		free(rm);
		free(b.p);
		return -1;
	}
	/* Gather first: each metric family must come out as one group. */
	for (i = 0; i < cf->ndb; i++) {
		const struct conf_db *d = &cf->db[i];
		char *dir = strdup(d->spool);
		struct spool sp;
		struct spool_list l = { NULL, 0, 0 };

		rm[i] = calloc(d->nrep + 1, sizeof **rm);
		if (rm[i] == NULL || dir == NULL || spool_open(&sp, dir, 0) < 0) {
			free(dir);
			continue;
		}
		if (spool_generation(&sp, dm[i].gen, NULL, 0) == 1 &&
		    spool_list_gen(&sp, dm[i].gen, &l) == 0)
			dm[i].have = 1;
		for (k = 0; k < l.n; k++) {
			dm[i].bytes += l.v[k].size;
			if (l.v[k].n.kind == NAME_WAL) {
				dm[i].has_wal = 1;
				dm[i].idx = l.v[k].n.idx;
				dm[i].off = l.v[k].n.off;
			}
		}
		dm[i].nobj = l.n;
		for (j = 0; j < d->nrep; j++) {
			struct repm *r = &rm[i][j];
			int64_t oldest = 0;

			if (spool_ack_read(&sp, d->rep[j].name, &r->a) != 1)
				memset(&r->a, 0, sizeof r->a);
			for (k = 0; k < l.n; k++) {
				if (strcmp(r->a.gen, dm[i].gen) == 0 &&
				    spool_ack_covers(&r->a, 0, 0, &l.v[k]))
					continue;
				r->pending++;
				if (oldest == 0 || l.v[k].mtime_ns < oldest)
					oldest = l.v[k].mtime_ns;
			}
			r->lag = oldest == 0 ? 0.0 :
			    (double)(now_ns - oldest) / 1e9;
		}
		{
			char f[4200], lab[1400];

			snprintf(f, sizeof f, "%s/stats/watch", dir);
			snprintf(lab, sizeof lab, "db=\"%s\"",
			    esc(d->path, e1, sizeof e1));
			read_stats(&cs, f, "ls_watch", lab);
			for (j = 0; j < d->nrep; j++) {
				snprintf(f, sizeof f, "%s/stats/replica.%s", dir,
				    d->rep[j].name);
				snprintf(lab, sizeof lab, "db=\"%s\",replica="
				    "\"%s\"", e1, esc(d->rep[j].name, e2,
				    sizeof e2));
				read_stats(&cs, f, "ls_replica", lab);
			}
		}
		spool_list_free(&l);
		spool_close(&sp);
		free(dir);
	}
	if (cs.n > 1)
		qsort(cs.v, cs.n, sizeof *cs.v, ctr_cmp);
	for (k = 0; k < cs.n; k++) {
		if (k == 0 || strcmp(cs.v[k].fam, cs.v[k - 1].fam) != 0)
			put(&b, "# TYPE %s counter\n", cs.v[k].fam);
		put(&b, "%s{%s} %llu\n", cs.v[k].fam, cs.v[k].labels,
		    (unsigned long long)cs.v[k].v);
	}
	free(cs.v);
	help(&b, "ls_generation_info", "gauge", "The generation being written.");
	for (i = 0; i < cf->ndb; i++)
		if (dm[i].have)
			put(&b, "ls_generation_info{db=\"%s\",generation=\"%s\"} "
			    "1\n", esc(cf->db[i].path, e1, sizeof e1), dm[i].gen);
	help(&b, "ls_wal_index", "gauge", "WAL index of the newest segment.");
	for (i = 0; i < cf->ndb; i++)
		if (dm[i].has_wal)
			put(&b, "ls_wal_index{db=\"%s\"} %u\n",
			    esc(cf->db[i].path, e1, sizeof e1),
			    (unsigned)dm[i].idx);
	help(&b, "ls_wal_segment_offset", "gauge",
	    "WAL offset at which the newest segment starts.");
	for (i = 0; i < cf->ndb; i++)
		if (dm[i].has_wal)
			put(&b, "ls_wal_segment_offset{db=\"%s\"} %u\n",
			    esc(cf->db[i].path, e1, sizeof e1),
			    (unsigned)dm[i].off);
	help(&b, "ls_spool_objects", "gauge",
	    "Objects of the current generation in the spool.");
	for (i = 0; i < cf->ndb; i++)
		put(&b, "ls_spool_objects{db=\"%s\"} %zu\n",
		    esc(cf->db[i].path, e1, sizeof e1), dm[i].nobj);
	help(&b, "ls_spool_bytes", "gauge",
	    "Bytes of those objects (compressed).");
	for (i = 0; i < cf->ndb; i++)
		put(&b, "ls_spool_bytes{db=\"%s\"} %llu\n",
		    esc(cf->db[i].path, e1, sizeof e1),
		    (unsigned long long)dm[i].bytes);
	help(&b, "ls_replica_wal_index", "gauge",
	    "WAL index of the last segment the replica confirmed.");
	for (i = 0; i < cf->ndb; i++)
		for (j = 0; rm[i] && j < cf->db[i].nrep; j++)
			if (rm[i][j].a.has_wal)
				put(&b, "ls_replica_wal_index{db=\"%s\",replica="
				    "\"%s\"} %u\n", esc(cf->db[i].path, e1,
				    sizeof e1), esc(cf->db[i].rep[j].name, e2,
				    sizeof e2), (unsigned)rm[i][j].a.widx);
	help(&b, "ls_replica_pending_objects", "gauge",
	    "Spool objects the replica has not confirmed.");
	for (i = 0; i < cf->ndb; i++)
		for (j = 0; rm[i] && j < cf->db[i].nrep; j++)
			put(&b, "ls_replica_pending_objects{db=\"%s\",replica="
			    "\"%s\"} %zu\n", esc(cf->db[i].path, e1, sizeof e1),
			    esc(cf->db[i].rep[j].name, e2, sizeof e2),
			    rm[i][j].pending);
	help(&b, "ls_replication_lag_seconds", "gauge",
	    "Age of the oldest spool object the replica has not confirmed.");
	for (i = 0; i < cf->ndb; i++)
		for (j = 0; rm[i] && j < cf->db[i].nrep; j++)
			put(&b, "ls_replication_lag_seconds{db=\"%s\",replica="
			    "\"%s\"} %.3f\n", esc(cf->db[i].path, e1,
			    sizeof e1), esc(cf->db[i].rep[j].name, e2,
			    sizeof e2), rm[i][j].lag);
	for (i = 0; i < cf->ndb; i++)
		free(rm[i]);
	free(rm);
	free(dm);
	help(&b, "ls_child_up", "gauge", "1 if the program is running.");
	for (i = 0; i < nch; i++)
		put(&b, "ls_child_up{db=\"%s\",program=\"%s\",replica=\"%s\"} "
		    "%d\n", esc(ch[i].db, e1, sizeof e1), ch[i].program,
		    ch[i].replica ? esc(ch[i].replica, e2, sizeof e2) : "",
		    ch[i].up);
	help(&b, "ls_child_restarts_total", "counter",
	    "Restarts of the program after a failure.");
	for (i = 0; i < nch; i++)
		put(&b, "ls_child_restarts_total{db=\"%s\",program=\"%s\","
		    "replica=\"%s\"} %llu\n", esc(ch[i].db, e1, sizeof e1),
		    ch[i].program, ch[i].replica ? esc(ch[i].replica, e2,
		    sizeof e2) : "", (unsigned long long)ch[i].restarts);
	if (b.bad) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
