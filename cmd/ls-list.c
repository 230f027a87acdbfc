/*
 * ls-list: what a replica holds. One tab-separated line per generation,
 * or with -g, per object of one generation; a header line only for a
 * terminal. Times are RFC 3339 in UTC, to the millisecond.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "name.h"
#include "replica.h"
#include "restore.h"

static const char USAGE[] = "ls-list [-v] [-g GEN] [-O KEY=VALUE]... REPLICA";

struct gen {
	char		id[NAME_GEN_LEN + 1];
	int64_t		start, end;
	uint64_t	snapshots, wals, bytes;
};

struct obj {
	struct name	n;
	const struct backend_obj *o;
};

static int
gen_cmp(const void *a, const void *b)
{
	const struct gen *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* By index; in one index the snapshot first, then segments by offset. */
static int
obj_cmp(const void *a, const void *b)
{
	const struct obj *x = a, *y = b;

	if (x->n.idx != y->n.idx)
		return x->n.idx < y->n.idx ? -1 : 1;
	if (x->n.kind != y->n.kind)
		return x->n.kind == NAME_SNAPSHOT ? -1 : 1;
	if (x->n.off != y->n.off)
		return x->n.off < y->n.off ? -1 : 1;
	return 0;
}

static int
name_order(const void *a, const void *b)
{
	const struct backend_obj *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static size_t
list_generations(const struct backend_obj *objs, size_t n)
{
	struct gen *g;
	struct name nm;
	size_t ng = 0, i, k;
	char t0[RESTORE_TIME_LEN], t1[RESTORE_TIME_LEN];

	if ((g = calloc(n ? n : 1, sizeof *g)) == NULL)
		log_fatal(111, "unable to list generations: %s",
		    strerror(ENOMEM));
	for (i = 0; i < n; i++) {
		if (name_parse(objs[i].name, &nm) < 0)
			continue;
		/* Sorted by name: one generation's objects are together. */
		if (ng == 0 || strcmp(g[ng - 1].id, nm.gen) != 0) {
			memcpy(g[ng].id, nm.gen, sizeof g[ng].id);
			g[ng].start = g[ng].end = objs[i].mtime_ns;
			ng++;
		}
		k = ng - 1;
		if (objs[i].mtime_ns < g[k].start)
			g[k].start = objs[i].mtime_ns;
		if (objs[i].mtime_ns > g[k].end)
			g[k].end = objs[i].mtime_ns;
		if (nm.kind == NAME_SNAPSHOT)
			g[k].snapshots++;
		else
			g[k].wals++;
		g[k].bytes += objs[i].size;
	}
	qsort(g, ng, sizeof *g, gen_cmp);
	if (ng > 0 && isatty(STDOUT_FILENO))
		printf("generation\tstart\tend\tsnapshots\twals\tbytes\n");
	for (k = 0; k < ng; k++) {
		restore_format_time(g[k].start, t0);
		restore_format_time(g[k].end, t1);
		printf("%s\t%s\t%s\t%llu\t%llu\t%llu\n", g[k].id, t0, t1,
		    (unsigned long long)g[k].snapshots,
		    (unsigned long long)g[k].wals,
		    (unsigned long long)g[k].bytes);
	}
	free(g);
	return ng;
}

static size_t
list_objects(const struct backend_obj *objs, size_t n, const char *gen)
{
	struct obj *v;
	size_t nv = 0, i;
	char t[RESTORE_TIME_LEN], off[9];

	if ((v = calloc(n ? n : 1, sizeof *v)) == NULL)
		log_fatal(111, "unable to list generation %s: %s", gen,
		    strerror(ENOMEM));
	for (i = 0; i < n; i++) {
		if (name_parse(objs[i].name, &v[nv].n) < 0 ||
		    strcmp(v[nv].n.gen, gen) != 0)
			continue;
		v[nv++].o = &objs[i];
	}
	qsort(v, nv, sizeof *v, obj_cmp);
	if (nv > 0 && isatty(STDOUT_FILENO))
		printf("type\tindex\toffset\tsize\tcreated\tname\n");
	for (i = 0; i < nv; i++) {
		restore_format_time(v[i].o->mtime_ns, t);
		if (v[i].n.kind == NAME_SNAPSHOT)
			snprintf(off, sizeof off, "-");
		else
			snprintf(off, sizeof off, "%08x", (unsigned)v[i].n.off);
		printf("%s\t%08x\t%s\t%llu\t%s\t%s\n",
		    v[i].n.kind == NAME_SNAPSHOT ? "snapshot" : "wal",
		    (unsigned)v[i].n.idx, off,
		    (unsigned long long)v[i].o->size, t, v[i].o->name);
	}
	free(v);
	return nv;
}

int
main(int argc, char **argv)
{
	struct backend *b;
	struct backend_obj *objs;
	const char *gen = NULL;
	char err[1024], prefix[NAME_LEN];
	struct bopts bo = { 0 };
	const char *opt[BOPT_MAX];
	size_t n, found, nopt = 0, k;
	int c, code;

	PROG = "ls-list";
	opterr = 0;
	while ((c = getopt(argc, argv, "vg:O:")) != -1) {
		switch (c) {
		case 'g':
			gen = optarg;
			break;
		case 'v':
			log_verbose = 1;
			break;
		case 'O':
			if (nopt == BOPT_MAX)
				log_fatal(100, "too many -O");
			opt[nopt++] = optarg;
			break;
		default:
			log_usage(USAGE);
		}
	}
	if (optind != argc - 1)
		log_usage(USAGE);
	if (gen != NULL && !name_is_generation(gen, strlen(gen)))
		log_fatal(100, "unable to parse arguments: -g %s: not 16 "
		    "lowercase hex digits", gen);
	if ((bo.type = replica_type(argv[optind])) == NULL)
		bo.type = "file";
	bo.env = environ;
	for (k = 0; k < nopt; k++)
		if (bopt_add(&bo, opt[k], err, sizeof err) < 0)
			log_fatal(100, "unable to parse arguments: -O %s", err);
	if ((b = replica_open(argv[optind], &bo, 0, err, sizeof err, &code)) ==
	    NULL)
		log_fatal(code, "%s", err);
	if (gen != NULL)
		snprintf(prefix, sizeof prefix, "generations/%s/", gen);
	else
		snprintf(prefix, sizeof prefix, "generations/");
	if ((code = replica_list(b, prefix, &objs, &n)) != BE_OK) {
		snprintf(err, sizeof err, "%s", b->err);
		replica_close(b);
		log_fatal(code == BE_PERM ? 100 : 111, "%s", err);
	}
	if (n > 0)
		qsort(objs, n, sizeof *objs, name_order);
	found = gen != NULL ? list_objects(objs, n, gen) :
	    list_generations(objs, n);
	free(objs);
	replica_close(b);
	if (fflush(stdout) == EOF || ferror(stdout))
		log_fatal(111, "unable to write standard output: %s",
		    strerror(errno));
	return found == 0 ? 1 : 0;
}
