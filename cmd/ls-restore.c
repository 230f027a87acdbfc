/*
 * ls-restore: rebuilds a database from a replica, as of its newest state,
 * a point in time or a WAL index. Flags follow litestream restore's,
 * written Go's way: "-flag value", "-flag=value", one or two dashes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "dur.h"
#include "log.h"
#include "name.h"
#include "replica.h"
#include "restore.h"

static const char USAGE[] = "ls-restore [-v] -o OUT [-generation GEN] "
    "[-index IDX] [-timestamp TIME] [-parallelism N] [-if-db-not-exists] "
    "[-if-replica-exists] [-O KEY=VALUE]... REPLICA";

#define PARALLELISM_MAX	256

struct args {
	const char	*out, *gen, *index, *time, *parallelism, *replica;
	int		verbose, if_db_not_exists, if_replica_exists;
	int		flags;		/* restore_apply flags */
	struct bopts	bo;		/* the backend's settings */
	const char	*opt[BOPT_MAX];	/* -O, until the type is known */
	size_t		nopt;
};

static void
on_signal(int sig)
{
	(void)sig;
	restore_interrupted = 1;
}

static void
bad_arg(const char *flag, const char *val, const char *why)
{
	log_fatal(100, "unable to parse arguments: %s %s: %s", flag, val, why);
}

/*
 * Go's flag syntax: a flag is "-name" or "--name", its value the next
 * argument or after "="; flags end at "--" or at the first argument that
 * is not a flag.
 */
static void
parse_args(int argc, char **argv, struct args *a)
{
	const struct {
		const char	*name;
		int		*on;	/* a switch */
		const char	**val;	/* or a flag with a value */
	} flags[] = {
		{ "v", &a->verbose, NULL },
		{ "if-db-not-exists", &a->if_db_not_exists, NULL },
		{ "if-replica-exists", &a->if_replica_exists, NULL },
		{ "o", NULL, &a->out },
		{ "generation", NULL, &a->gen },
		{ "index", NULL, &a->index },
		{ "timestamp", NULL, &a->time },
		{ "parallelism", NULL, &a->parallelism },
	};
	const char *arg, *eq, *val;
	size_t i, len;
	int k;

	memset(a, 0, sizeof *a);
	for (k = 1; k < argc; k++) {
		arg = argv[k];
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		arg++;
		if (*arg == '-') {
			arg++;
			if (*arg == '\0') {
				k++;
				break;
			}
		}
		eq = strchr(arg, '=');
		len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		for (i = 0; i < sizeof flags / sizeof flags[0]; i++)
			if (strlen(flags[i].name) == len &&
			    strncmp(flags[i].name, arg, len) == 0)
				break;
		if (len == 1 && arg[0] == 'O') {
			if (eq != NULL)
				val = eq + 1;
			else if (k + 1 < argc)
				val = argv[++k];
			else
				log_usage(USAGE);
			if (a->nopt == BOPT_MAX)
				log_fatal(100, "unable to parse arguments: too "
				    "many -O");
			a->opt[a->nopt++] = val;
			continue;
		}
		if (i == sizeof flags / sizeof flags[0])
			log_usage(USAGE);
		if (flags[i].on != NULL) {
			if (eq != NULL)
				log_usage(USAGE);
			*flags[i].on = 1;
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (k + 1 < argc)
			val = argv[++k];
		else
			log_usage(USAGE);
		*flags[i].val = val;
	}
	if (k != argc - 1 || a->out == NULL || *a->out == '\0')
		log_usage(USAGE);
	a->replica = argv[k];
	if ((a->bo.type = replica_type(a->replica)) == NULL)
		a->bo.type = "file";
	a->bo.env = environ;
	for (i = 0; i < a->nopt; i++) {
		char why[256];

		if (bopt_add(&a->bo, a->opt[i], why, sizeof why) < 0)
			log_fatal(100, "unable to parse arguments: -O %s", why);
	}
}

static uint32_t
parse_index(const char *s)
{
	unsigned long long v = 0;
	size_t i, n = strlen(s);
	int c;

	if (n == 0 || n > 8)
		bad_arg("-index", s, "not a hex number of at most 8 digits");
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			bad_arg("-index", s, "not a hex number of at most 8 "
			    "digits");
		v = v << 4 | (unsigned)c;
	}
	return (uint32_t)v;
}

/* 1 if the replica is a local directory that does not exist. */
static int
replica_missing(const char *url)
{
	const char *path = url;
	struct stat st;

	if (strncmp(url, "file://", 7) == 0) {
		path = url + 7;
		if (*path != '/')
			return 0;
	} else if (strstr(url, "://") != NULL)
		return 0;
	return *path != '\0' && stat(path, &st) < 0 && errno == ENOENT;
}

/*
 * Lists the replica, plans and restores. Returns the exit status, with
 * the message in err when it is not 0. Everything opened is closed.
 */
static int
run(const struct args *a, const struct restore_opts *o, uint64_t par,
    char *err, size_t errlen)
{
	struct backend *b, **be = NULL;
	struct backend_obj *objs;
	struct restore_plan plan;
	char prefix[NAME_LEN], why[512], t0[RESTORE_TIME_LEN];
	char t1[RESTORE_TIME_LEN];
	size_t nobjs, nbe = 0, i;
	int code, rc;

	if ((b = replica_open(a->replica, &a->bo, 0, err, errlen, &code)) == NULL)
		return code;
	if (o->gen != NULL)
		snprintf(prefix, sizeof prefix, "generations/%s/", o->gen);
	else
		snprintf(prefix, sizeof prefix, "generations/");
	if ((rc = replica_list(b, prefix, &objs, &nobjs)) != BE_OK) {
		snprintf(err, errlen, "%s", b->err);
		replica_close(b);
		return rc == BE_PERM ? 100 : 111;
	}
	rc = restore_plan(objs, nobjs, o, &plan, why, sizeof why);
	free(objs);
	if (rc != 0) {
		code = 100;
		if (rc == RESTORE_NONE && a->if_replica_exists) {
			log_info("%s: %s", b->where, why);
			code = 0;
		} else
			snprintf(err, errlen, "unable to restore from %s: %s",
			    b->where, why);
		replica_close(b);
		return code;
	}
	if (plan.warn[0] != '\0')
		log_warn("%s", plan.warn);
	restore_format_time(plan.created_ns, t0);
	restore_format_time(plan.updated_ns, t1);
	log_info("generation %s: %s to %s", plan.gen, t0, t1);
	log_info("snapshot %s: %llu bytes", plan.snap.name,
	    (unsigned long long)plan.snap.size);
	log_info("WAL: %zu segment%s in %u index%s, %llu bytes", plan.nwal,
	    plan.nwal == 1 ? "" : "s", (unsigned)plan.nidx,
	    plan.nidx == 1 ? "" : "es", (unsigned long long)plan.wal_bytes);

	/* One backend per download thread, or one for all where it can
	 * serve several threads (the clouds': one pool of connections, one
	 * token). */
	nbe = 1 + (plan.nwal < par ? (plan.nwal ? plan.nwal : 1) : par);
	if ((be = calloc(nbe, sizeof *be)) == NULL) {
		snprintf(err, errlen, "unable to restore %s: %s", a->out,
		    strerror(ENOMEM));
		code = 111;
		goto out;
	}
	be[0] = b;
	b = NULL;
	for (i = 1; i < nbe; i++) {
		if (be[0]->ops->shared) {
			be[i] = be[0];
			continue;
		}
		be[i] = replica_open(a->replica, &a->bo, 0, err, errlen, &code);
		if (be[i] == NULL)
			goto out;
	}
	code = restore_apply(be, nbe, &plan, a->out, a->flags, err, errlen);
	if (code == 0)
		log_info("restored %s", a->out);
out:
	if (b != NULL)
		replica_close(b);
	for (i = 0; be != NULL && i < nbe && be[i] != NULL; i++)
		if (i == 0 || be[i] != be[0])
			replica_close(be[i]);
	free(be);
	restore_plan_free(&plan);
	return code;
}

int
main(int argc, char **argv)
{
	struct restore_opts o;
	struct sigaction sa;
	struct args a;
	struct stat st;
	char err[1024];
	uint64_t par = 8;
	int code;

	PROG = "ls-restore";
	parse_args(argc, argv, &a);
	log_verbose = a.verbose;
	/* The only variable read: LS_RESTORE_APPLY=sqlite applies each WAL
	 * index through SQLite, the slower oracle of the direct way. */
	{
		const char *apply = getenv("LS_RESTORE_APPLY");

		if (apply != NULL && strcmp(apply, "sqlite") == 0)
			a.flags |= RESTORE_SQLITE;
		else if (apply != NULL && *apply != '\0' &&
		    strcmp(apply, "direct") != 0)
			log_fatal(100, "LS_RESTORE_APPLY=%s: not sqlite or "
			    "direct", apply);
	}
	memset(&o, 0, sizeof o);
	if (a.gen != NULL) {
		if (!name_is_generation(a.gen, strlen(a.gen)))
			bad_arg("-generation", a.gen, "not 16 lowercase hex "
			    "digits");
		o.gen = a.gen;
	}
	if (a.index != NULL) {
		o.has_index = 1;
		o.index = parse_index(a.index);
		if (a.gen == NULL)
			log_fatal(100, "unable to parse arguments: -index "
			    "needs -generation");
	}
	if (a.time != NULL) {
		if (restore_parse_time(a.time, &o.time_ns) < 0)
			bad_arg("-timestamp", a.time, "not an RFC 3339 time");
		o.has_time = 1;
		if (a.index != NULL)
			log_fatal(100, "unable to parse arguments: -index and "
			    "-timestamp cannot be used together");
	}
	if (a.parallelism != NULL &&
	    (dur_parse_uint(a.parallelism, PARALLELISM_MAX, &par) < 0 ||
	    par == 0))
		bad_arg("-parallelism", a.parallelism, "not a number from 1 "
		    "to 256");

	if (lstat(a.out, &st) == 0) {
		if (a.if_db_not_exists) {
			log_info("%s exists, nothing to do", a.out);
			return 0;
		}
		log_fatal(100, "unable to restore to %s: %s", a.out,
		    strerror(EEXIST));
	}
	if (a.if_replica_exists && replica_missing(a.replica)) {
		log_info("%s: no matching backups found", a.replica);
		return 0;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if ((code = run(&a, &o, par, err, sizeof err)) != 0)
		log_fatal(code, "%s", err);
	return 0;
}
