/*
 * ls-replicate: the supervisor. One ls-watch per database, one shipper
 * per replica; it holds every pipe itself (so either end can restart
 * without losing it), fans ls-watch's lines out to the shippers, restarts
 * children that fail for a temporary reason, and stops in order: ls-watch
 * first, then each shipper once it has shipped everything. With a command
 * to run (-exec, or exec in the configuration) it becomes ls-exec, which
 * runs this program again with -x around the command.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "exe.h"
#include "fsx.h"
#include "metrics.h"
#include "ready.h"
#include "dur.h"
#include "log.h"

#define USAGE "ls-replicate [-nvx] [-d FD] [-config FILE] [-exec CMD] " \
	"[DB URL...]"

extern char **environ;

enum role { WATCH, SHIP };

struct child {
	enum role	role;
	size_t		db;		/* index into conf.db */
	char		*dbpath;
	char		*argv[96];
	int		nargv;
	char		*env[16];	/* "LS_KEY=SECRET" to add */
	int		nenv;
	pid_t		pid;		/* 0: not running */
	int		done;		/* exited for good */
	int		in[2];		/* stdin pipe (shippers) */
	int		out[2];		/* stdout pipe (ls-watch) */
	int		ready[2];	/* readiness pipe */
	int		is_ready;
	int64_t		started_ms, restart_at_ms, backoff_ms;
	uint64_t	restarts;
	char		linebuf[4096];	/* ls-watch output not yet a line */
	size_t		linelen;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
arg(struct child *c, const char *s)
{
	if (c->nargv >= 94)
		log_fatal(100, "too many arguments for %s", c->argv[0]);
	if ((c->argv[c->nargv++] = strdup(s)) == NULL)
		log_fatal(111, "out of memory");
	c->argv[c->nargv] = NULL;
}

static void
arg_cb(void *ctx, const char *s)
{
	arg(ctx, s);
}

/* A secret for the child's environment: never in argv, never logged. */
static void
env_cb(void *ctx, const char *s)
{
	struct child *c = ctx;

	if (c->nenv == 16)
		log_fatal(100, "too many secrets for %s", c->argv[0]);
	if ((c->env[c->nenv++] = strdup(s)) == NULL)
		log_fatal(111, "out of memory");
}

static void
arg_dur(struct child *c, const char *flag, int64_t ms)
{
	char buf[32];

	if (ms == CONF_UNSET)
		return;
	snprintf(buf, sizeof buf, "%lldms", (long long)ms);
	arg(c, flag);
	arg(c, buf);
}

static void
arg_count(struct child *c, const char *flag, int64_t n)
{
	char buf[32];

	if (n == CONF_UNSET)
		return;
	snprintf(buf, sizeof buf, "%lld", (long long)n);
	arg(c, flag);
	arg(c, buf);
}

static void
mkpipe(int *p, int nonblock_w)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		log_fatal(111, "unable to create a pipe: %s", strerror(errno));
	if (nonblock_w)
		fcntl(p[1], F_SETFL, O_NONBLOCK);
}

static size_t
plan(const struct conf *cf, struct child **out)
{
	struct child *v;
	size_t n = 0, cap = 0, i, j;

	for (i = 0; i < cf->ndb; i++)
		cap += 1 + cf->db[i].nrep;
	if ((v = calloc(cap, sizeof *v)) == NULL)
		log_fatal(111, "out of memory");
	for (i = 0; i < cf->ndb; i++) {
		const struct conf_db *d = &cf->db[i];
		char *spool = strdup(d->spool), *p;
		struct child *w = &v[n++];
		int64_t snap = d->snapshot_ms;

		w->role = WATCH;
		w->db = i;
		w->dbpath = strdup(d->path);
		w->in[0] = w->in[1] = w->out[0] = w->out[1] = -1;
		w->ready[0] = w->ready[1] = -1;
		if ((p = exe_sibling("ls-watch")) == NULL)
			log_fatal(111, "out of memory");
		arg(w, p);
		free(p);
		if (log_verbose)
			arg(w, "-v");
		arg(w, "-d");
		arg(w, "3");
		arg_dur(w, "-i", d->monitor_ms);
		arg_dur(w, "-k", d->checkpoint_ms);
		arg_count(w, "-c", d->min_pages);
		arg_count(w, "-C", d->max_pages);
		arg_count(w, "-T", d->trunc_pages);
		/* Snapshots serve every replica: the most frequent asked. */
		for (j = 0; j < d->nrep; j++)
			if (d->rep[j].snapshot_ms > 0 && (snap == CONF_UNSET ||
			    d->rep[j].snapshot_ms < snap))
				snap = d->rep[j].snapshot_ms;
		arg_dur(w, "-s", snap);
		arg(w, d->path);
		arg(w, spool);
		for (j = 0; j < d->nrep; j++) {
			const struct conf_replica *r = &d->rep[j];
			struct child *s = &v[n++];
			char name[64];

			s->role = SHIP;
			s->db = i;
			s->dbpath = strdup(d->path);
			s->in[0] = s->in[1] = s->out[0] = s->out[1] = -1;
			s->ready[0] = s->ready[1] = -1;
			snprintf(name, sizeof name, "ls-ship-%s", r->type);
			if ((p = exe_sibling(name)) == NULL)
				log_fatal(111, "out of memory");
			arg(s, p);
			free(p);
			if (log_verbose)
				arg(s, "-v");
			arg(s, "-d");
			arg(s, "3");
			arg(s, "-n");
			arg(s, r->name);
			arg_dur(s, "-r", r->retention_ms);
			arg_dur(s, "-R", r->retention_check_ms);
			arg_dur(s, "-i", r->sync_ms);
			arg_dur(s, "-V", r->validation_ms);
			conf_replica_child(r, arg_cb, env_cb, s);
			arg(s, spool);
			arg(s, r->url);
		}
		free(spool);
	}
	*out = v;
	return n;
}

/* The pipes a child keeps across its restarts, made once. */
static void
open_pipes(struct child *c)
{
	if (c->role == WATCH && c->out[0] < 0)
		mkpipe(c->out, 0);
	/* Lines are wake-ups: when a shipper is down and its pipe is
	 * full, dropping one loses nothing. */
	if (c->role == SHIP && c->in[0] < 0)
		mkpipe(c->in, 1);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
free_child(struct child *c)
{
	int i;

	close_fd(&c->in[0]);
	close_fd(&c->in[1]);
	close_fd(&c->out[0]);
	close_fd(&c->out[1]);
	close_fd(&c->ready[0]);
	for (i = 0; i < c->nargv; i++)
		free(c->argv[i]);
	for (i = 0; i < c->nenv; i++) {
		explicit_bzero(c->env[i], strlen(c->env[i]));
		free(c->env[i]);
	}
	c->nenv = 0;
	free(c->dbpath);
	c->nargv = 0;
	c->dbpath = NULL;
}

static int
same_argv(const struct child *a, const struct child *b)
{
	int i;

	if (a->role != b->role || a->nargv != b->nargv || a->nenv != b->nenv)
		return 0;
	for (i = 0; i < a->nargv; i++)
		if (strcmp(a->argv[i], b->argv[i]) != 0)
			return 0;
	for (i = 0; i < a->nenv; i++)
		if (strcmp(a->env[i], b->env[i]) != 0)
			return 0;
	return 1;
}

/* Children on their way out after a reload. */
static struct child *retiring;
static size_t nretiring;

static void
retire(struct child *c)
{
	struct child *v;

	if (c->pid == 0) {
		free_child(c);
		return;
	}
	if (c->role == WATCH) {
		kill(c->pid, SIGTERM);
		/* Its last lines go nowhere: the shippers rescan anyway. */
		close_fd(&c->out[0]);
		close_fd(&c->out[1]);
	} else
		close_fd(&c->in[1]);	/* end of input: ship, then exit */
	if ((v = realloc(retiring, (nretiring + 1) * sizeof *v)) == NULL)
		log_fatal(111, "out of memory");
	retiring = v;
	retiring[nretiring++] = *c;
}

/* 1 if an ls-watch of path is still on its way out. */
static int
watch_retiring(const char *path)
{
	size_t i;

	for (i = 0; i < nretiring; i++)
		if (retiring[i].role == WATCH &&
		    strcmp(retiring[i].dbpath, path) == 0)
			return 1;
	return 0;
}

/*
 * Re-reads the configuration and applies the difference: a child whose
 * command line is unchanged goes on untouched (and one that had failed
 * for good is given another try); the others are stopped as at the end
 * (ls-watch by SIGTERM, a shipper by the end of its input) and the new
 * ones started, a new ls-watch only once the old one of its database is
 * gone. A configuration that does not load changes nothing.
 */
static void
reload(const char *cfile, struct conf *cf, struct child **chp, size_t *np)
{
	struct conf ncf;
	struct child *nch, *och = *chp;
	char err[1024];
	size_t nn, i, j;
	int *taken;

	if (conf_load(cfile, environ, &ncf, err, sizeof err) < 0) {
		log_warn("configuration not reloaded: %s", err);
		conf_free(&ncf);
		return;
	}
	nn = plan(&ncf, &nch);
	if ((taken = calloc(*np + 1, sizeof *taken)) == NULL)
		log_fatal(111, "out of memory");
	for (i = 0; i < nn; i++) {
		for (j = 0; j < *np; j++)
			if (!taken[j] && same_argv(&nch[i], &och[j]))
				break;
		if (j == *np) {
			open_pipes(&nch[i]);
			continue;
		}
		taken[j] = 1;
		free_child(&nch[i]);
		{
			size_t db = nch[i].db;

			nch[i] = och[j];
			nch[i].db = db;
		}
		if (nch[i].done && nch[i].pid == 0) {
			nch[i].done = 0;
			nch[i].backoff_ms = 0;
			nch[i].restart_at_ms = 0;
		}
	}
	for (j = 0; j < *np; j++)
		if (!taken[j])
			retire(&och[j]);
	free(taken);
	free(och);
	conf_free(cf);
	*cf = ncf;
	*chp = nch;
	*np = nn;
	log_info("configuration reloaded: %zu children", nn);
}

static void
start(struct child *c)
{
	pid_t pid;

	mkpipe(c->ready, 0);
	c->is_ready = 0;
	if ((pid = fork()) < 0) {
		log_warn("unable to start %s: %s", c->argv[0], strerror(errno));
		close(c->ready[0]);
		close(c->ready[1]);
		c->restart_at_ms = now_ms() + 1000;
		return;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR), i;
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (c->role == WATCH) {
			dup2(nul, 0);
			dup2(c->out[1], 1);
		} else {
			dup2(c->in[0], 0);
			dup2(nul, 1);
		}
		dup2(c->ready[1], 3);
		for (i = 0; i < c->nenv; i++)
			putenv(c->env[i]);
		execv(c->argv[0], c->argv);
		if (strchr(c->argv[0], '/') == NULL)
			execvp(c->argv[0], c->argv);
		fprintf(stderr, "ls-replicate: fatal: unable to run %s: %s\n",
		    c->argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(c->ready[1]);
	c->ready[1] = -1;
	c->pid = pid;
	c->started_ms = now_ms();
	log_info("started %s (pid %d)", c->argv[0], (int)pid);
}

/* Listens on HOST:PORT; -1 with a message if it cannot. */
static int
listen_on(const char *addr)
{
	struct addrinfo hints, *ai = NULL;
	char host[256], *colon;
	int fd = -1, on = 1, rc;

	snprintf(host, sizeof host, "%s", addr);
	colon = strrchr(host, ':');
	*colon = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (host[0] == '[') {	/* [::1]:9090 */
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if ((rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai))
	    != 0) {
		log_warn("unable to serve metrics on %s: %s", addr,
		    gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof on) < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, 16) < 0) {
		log_warn("unable to serve metrics on %s: %s", addr,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static char *
render(const struct conf *cf, struct child *ch, size_t n, size_t *len)
{
	struct metrics_child *mc = calloc(n + 1, sizeof *mc);
	struct timespec ts;
	char *out = NULL;
	size_t i;
	int k;

	if (mc == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *slash = strrchr(ch[i].argv[0], '/');

		mc[i].db = ch[i].dbpath;
		mc[i].program = slash ? slash + 1 : ch[i].argv[0];
		mc[i].up = ch[i].pid != 0;
		mc[i].restarts = ch[i].restarts;
		for (k = 0; ch[i].role == SHIP && k + 1 < ch[i].nargv; k++)
			if (strcmp(ch[i].argv[k], "-n") == 0)
				mc[i].replica = ch[i].argv[k + 1];
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (metrics_render(cf, mc, n, (int64_t)ts.tv_sec * 1000000000 +
	    ts.tv_nsec, &out, len) < 0)
		out = NULL;
	free(mc);
	return out;
}

/* One request on a fresh connection: GET /metrics, nothing else. */
static void
serve(int lfd, const struct conf *cf, struct child *ch, size_t n)
{
	struct timeval tv = { 1, 0 };
	char req[2048], head[256], *body;
	size_t blen = 0;
	ssize_t r;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	r = read(fd, req, sizeof req - 1);
	req[r > 0 ? r : 0] = '\0';
	if (strncmp(req, "GET /metrics ", 13) == 0 &&
	    (body = render(cf, ch, n, &blen)) != NULL) {
		snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\nContent-Type: "
		    "text/plain; version=0.0.4\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n", blen);
		if (fsx_write_all(fd, head, strlen(head)) == 0)
			(void)fsx_write_all(fd, body, blen);
		free(body);
	} else {
		const char *nf = strncmp(req, "GET ", 4) == 0 ?
		    "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n" :
		    "HTTP/1.0 405 Method Not Allowed\r\nContent-Length: 0\r\n"
		    "\r\n";

		(void)fsx_write_all(fd, nf, strlen(nf));
	}
	close(fd);
}

static void
write_textfile(const struct conf *cf, struct child *ch, size_t n)
{
	char *body;
	size_t blen;

	if ((body = render(cf, ch, n, &blen)) == NULL)
		return;
	if (fsx_write_atomic(cf->metrics_file, body, blen, 0644) < 0)
		log_warn("unable to write %s: %s", cf->metrics_file,
		    strerror(errno));
	free(body);
}

/*
 * Becomes ls-exec, which replicates with cfile (starting this program
 * with -x) around the command words. Does not return.
 */
static void
hand_over(const char *cfile, char *const *words)
{
	char **av, *ls_exec;
	size_t n, k = 0;

	for (n = 0; words[n] != NULL; n++)
		;
	if ((av = calloc(n + 6, sizeof *av)) == NULL ||
	    (ls_exec = exe_sibling("ls-exec")) == NULL)
		log_fatal(111, "out of memory");
	av[k++] = ls_exec;
	if (log_verbose)
		av[k++] = "-v";
	av[k++] = "-config";
	av[k++] = (char *)cfile;
	av[k++] = "--";
	memcpy(av + k, words, (n + 1) * sizeof *av);
	execv(ls_exec, av);
	if (errno == ENOENT && strchr(ls_exec, '/') == NULL)
		execvp(ls_exec, av);
	log_fatal(errno == ENOENT ? 127 : 126, "unable to run %s: %s",
	    ls_exec, strerror(errno));
}

static volatile int stopping;

int
main(int argc, char **argv)
{
	struct conf cf;
	struct child *ch;
	struct signalfd_siginfo si;
	struct pollfd *pfd = NULL;
	char err[1024], *cfile = NULL, *exec_cmd = NULL, **words = NULL;
	size_t n, i, j, np;
	sigset_t mask;
	int c, sfd, check = 0, ready_fd = -1, no_exec = 0;
	int64_t t, wait, deadline = 0;
	int code = 0, reloaded = 0, lfd = -1;
	int64_t next_textfile = 0;

	PROG = "ls-replicate";
	/* Go-style long flags for the config and the command, as
	 * litestream has them; getopt would read -exec as -e -x -e -c. */
	for (i = 1; i < (size_t)argc && strcmp(argv[i], "--") != 0; ) {
		const char *f = argv[i] + (strncmp(argv[i], "--", 2) == 0);
		char **dst = strcmp(f, "-config") == 0 ? &cfile :
		    strcmp(f, "-exec") == 0 ? &exec_cmd : NULL;

		if (dst == NULL) {
			i++;
			continue;
		}
		if (i + 1 == (size_t)argc)
			log_usage(USAGE);
		*dst = argv[i + 1];
		memmove(&argv[i], &argv[i + 2],
		    (size_t)(argc - (int)i - 1) * sizeof *argv);
		argc -= 2;
	}
	while ((c = getopt(argc, argv, "nvxd:")) != -1) {
		switch (c) {
		case 'n':
			check = 1;
			break;
		case 'v':
			log_verbose = 1;
			break;
		case 'x':
			no_exec = 1;
			break;
		case 'd':
			if ((ready_fd = ready_parse(optarg)) < 0)
				log_fatal(100, "-d %s: not an open descriptor "
				    ">= 3", optarg);
			break;
		default:
			log_usage(USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (exec_cmd != NULL) {
		if (no_exec)
			log_fatal(100, "-exec and -x are mutually exclusive");
		if (argc > 0)
			log_fatal(100, "-exec and a command-line database are "
			    "mutually exclusive (use -config)");
		if ((words = conf_words(exec_cmd, err, sizeof err)) == NULL)
			log_fatal(100, "-exec: %s", err);
	}
	if (argc > 0) {
		if (cfile != NULL)
			log_fatal(100, "a config file and a command-line "
			    "database are mutually exclusive");
		if (argc < 2)
			log_usage(USAGE);
		if (conf_args(argv[0], argv + 1, (size_t)argc - 1, &cf, err,
		    sizeof err) < 0)
			log_fatal(100, "%s", err);
	} else {
		if (cfile == NULL)
			cfile = (char *)conf_default_file(environ);
		if (conf_load(cfile, environ, &cf, err, sizeof err) < 0) {
			fprintf(stderr, "%s: fatal: %s\n", PROG, err);
			conf_free(&cf);
			return 100;
		}
	}
	if (cf.verbose)
		log_verbose = 1;
	if (check) {
		printf("configuration OK\n");
		conf_free(&cf);
		free(words);
		return 0;
	}
	/* -exec wins over the configuration's exec. */
	if (words == NULL && !no_exec)
		words = cf.exec;
	if (words != NULL) {
		if (ready_fd >= 0)
			log_fatal(100, "-d and a command to run (exec) are "
			    "mutually exclusive");
		hand_over(cfile, words);
	}
	n = plan(&cf, &ch);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		log_fatal(111, "unable to create a signalfd: %s",
		    strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++) {
		open_pipes(&ch[i]);
		start(&ch[i]);
	}
	if (cf.addr != NULL)
		lfd = listen_on(cf.addr);

	for (;;) {
		free(pfd);
		if ((pfd = calloc(2 * n + 2, sizeof *pfd)) == NULL)
			log_fatal(111, "out of memory");
		t = now_ms();
		wait = -1;
		for (i = 0; i < n; i++) {
			struct child *k = &ch[i];

			/* Two ls-watch on one database: never. */
			if (k->role == WATCH && k->pid == 0 &&
			    watch_retiring(k->dbpath)) {
				if (wait < 0 || wait > 100)
					wait = 100;
				continue;
			}

			/* Stopping, a shipper that is down gets one last
			 * run: its input has ended, so it ships and exits. */
			if (k->pid == 0 && !k->done && stopping &&
			    k->role == SHIP) {
				start(k);
				k->done = 1;
			} else if (k->pid == 0 && !k->done && !stopping) {
				if (t >= k->restart_at_ms)
					start(k);
				else if (wait < 0 || k->restart_at_ms - t < wait)
					wait = k->restart_at_ms - t;
			}
		}
		if (stopping && (wait < 0 || deadline - t < wait))
			wait = deadline - t > 0 ? deadline - t : 0;
		if (cf.metrics_file != NULL) {
			if (t >= next_textfile) {
				write_textfile(&cf, ch, n);
				next_textfile = t + 10000;
			}
			if (wait < 0 || next_textfile - t < wait)
				wait = next_textfile - t;
		}
		np = 0;
		pfd[np].fd = sfd;
		pfd[np++].events = POLLIN;
		for (i = 0; i < n; i++) {
			pfd[np].fd = ch[i].role == WATCH ? ch[i].out[0] : -1;
			pfd[np++].events = POLLIN;
			pfd[np].fd = ch[i].pid != 0 && !ch[i].is_ready ?
			    ch[i].ready[0] : -1;
			pfd[np++].events = POLLIN;
		}
		pfd[np].fd = lfd;
		pfd[np++].events = POLLIN;
		if (poll(pfd, np, (int)(wait > INT32_MAX ? INT32_MAX : wait)) <
		    0 && errno != EINTR)
			log_fatal(111, "poll: %s", strerror(errno));
		if (lfd >= 0 && (pfd[np - 1].revents & POLLIN))
			serve(lfd, &cf, ch, n);
		while (read(sfd, &si, sizeof si) == sizeof si) {
			if (si.ssi_signo == SIGCHLD)
				continue;
			if (si.ssi_signo == SIGHUP) {
				if (cfile == NULL)
					log_warn("SIGHUP: no configuration file "
					    "to re-read");
				else if (!stopping) {
					reload(cfile, &cf, &ch, &n);
					reloaded = 1;
				}
				continue;
			}
			if (stopping) {
				log_warn("second signal: stopping at once");
				deadline = 0;
				continue;
			}
			stopping = 1;
			deadline = now_ms() + cf.shutdown_ms;
			log_info("stopping: ls-watch first, then the shippers");
			for (i = 0; i < n; i++) {
				if (ch[i].role != WATCH)
					continue;
				if (ch[i].pid != 0) {
					kill(ch[i].pid, SIGTERM);
					continue;
				}
				ch[i].done = 1;
				if (ch[i].out[1] >= 0)
					close(ch[i].out[1]);
				ch[i].out[1] = -1;
			}
		}
		if (reloaded) {
			/* pfd describes the children before the reload. */
			reloaded = 0;
			continue;
		}
		/* Children that ended. */
		for (;;) {
			int st;
			pid_t pid = waitpid(-1, &st, WNOHANG);

			if (pid <= 0)
				break;
			for (i = 0; i < nretiring && retiring[i].pid != pid; i++)
				;
			if (i < nretiring) {
				log_info("%s stopped (no longer configured)",
				    retiring[i].argv[0]);
				free_child(&retiring[i]);
				retiring[i] = retiring[--nretiring];
				continue;
			}
			for (i = 0; i < n && ch[i].pid != pid; i++)
				;
			if (i == n)
				continue;
			struct child *k = &ch[i];
			int ec = WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
			    WTERMSIG(st);

			k->pid = 0;
			if (k->ready[0] >= 0)
				close(k->ready[0]);
			k->ready[0] = -1;
			if (stopping) {
				k->done = 1;
				if (ec != 0)
					code = 111;
				if (k->role == WATCH && k->out[1] >= 0) {
					/* Its last lines are in the pipe:
					 * they are forwarded, then the
					 * shippers' input ends. */
					close(k->out[1]);
					k->out[1] = -1;
				}
				continue;
			}
			if (ec == 100 || ec == 126 || ec == 127) {
				log_warn("%s exited %d: not restarting it "
				    "(fix the cause, then restart)", k->argv[0],
				    ec);
				k->done = 1;
				code = 100;
				continue;
			}
			if (t - k->started_ms > 60000)
				k->backoff_ms = 0;
			k->backoff_ms = k->backoff_ms ? 2 * k->backoff_ms : 1000;
			if (k->backoff_ms > 60000)
				k->backoff_ms = 60000;
			k->restart_at_ms = now_ms() + k->backoff_ms;
			k->restarts++;
			log_warn("%s %s %d, restart in %llds", k->argv[0],
			    WIFEXITED(st) ? "exited" : "was killed by signal",
			    WIFEXITED(st) ? ec : WTERMSIG(st),
			    (long long)k->backoff_ms / 1000);
		}
		/* Lines from each ls-watch, to its database's shippers. */
		for (i = 0; i < n; i++) {
			struct child *k = &ch[i];
			ssize_t r;
			char *nl;

			if (k->role != WATCH || k->out[0] < 0)
				continue;
			if (!(pfd[1 + 2 * i].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(k->out[0], k->linebuf + k->linelen,
			    sizeof k->linebuf - k->linelen);
			if (r == 0) {	/* every writer gone: stopped */
				close(k->out[0]);
				k->out[0] = -1;
				for (j = 0; j < n; j++)
					if (ch[j].role == SHIP &&
					    ch[j].db == k->db && ch[j].in[1] >= 0) {
						close(ch[j].in[1]);
						ch[j].in[1] = -1;
					}
				continue;
			}
			if (r < 0)
				continue;
			k->linelen += (size_t)r;
			while ((nl = memchr(k->linebuf, '\n', k->linelen)) !=
			    NULL) {
				size_t len = (size_t)(nl - k->linebuf) + 1;

				for (j = 0; j < n; j++)
					if (ch[j].role == SHIP && ch[j].db == k->db &&
					    ch[j].in[1] >= 0 &&
					    write(ch[j].in[1], k->linebuf, len) < 0 &&
					    errno != EAGAIN)
						log_warn("unable to wake %s: %s",
						    ch[j].argv[0], strerror(errno));
				memmove(k->linebuf, nl + 1, k->linelen - len);
				k->linelen -= len;
			}
			if (k->linelen == sizeof k->linebuf)
				k->linelen = 0;	/* not lines: drop */
		}
		/* Readiness of each child; ours once all are. */
		for (i = 0; i < n; i++) {
			char b;

			if (pfd[2 + 2 * i].fd >= 0 &&
			    (pfd[2 + 2 * i].revents & POLLIN) &&
			    read(ch[i].ready[0], &b, 1) == 1)
				ch[i].is_ready = 1;
		}
		if (ready_fd >= 0) {
			for (i = 0; i < n && ch[i].is_ready; i++)
				;
			if (i == n)
				ready_notify(&ready_fd);
		}
		if (stopping) {
			for (i = 0; i < n && (ch[i].pid == 0); i++)
				;
			if (i == n && nretiring == 0) {
				log_info("stopped");
				if (cf.metrics_file != NULL)
					write_textfile(&cf, ch, n);
				for (i = 0; i < n; i++)
					free_child(&ch[i]);
				free(ch);
				free(retiring);
				free(pfd);
				conf_free(&cf);
				close(sfd);
				if (lfd >= 0)
					close(lfd);
				return code;
			}
			if (now_ms() >= deadline) {
				log_warn("stop timed out: killing what is left");
				for (i = 0; i < n; i++)
					if (ch[i].pid != 0)
						kill(ch[i].pid, SIGKILL);
				for (i = 0; i < nretiring; i++)
					kill(retiring[i].pid, SIGKILL);
				deadline = INT64_MAX;
				code = 111;
			}
		}
	}
}
