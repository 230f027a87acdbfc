/*
 * ls-exec: runs an application under replication, like Litestream's
 * -exec. It restores missing databases first if asked, starts
 * ls-replicate, waits until it is ready, runs PROG (or the configuration's
 * exec command), passes it SIGTERM, SIGINT and SIGHUP, and when it exits
 * stops replication (which ships everything committed) and exits with
 * its status. ls-replicate -exec, and ls-replicate with exec in its
 * configuration, come here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "exe.h"
#include "log.h"

#define USAGE "ls-exec [-v] [-config FILE] [-restore-if-db-not-exists] " \
	"[PROG [ARGS...]]"

extern char **environ;

struct cmd {
	char	*argv[96];
	int	nargv;
	char	*env[16];
	int	nenv;
};

static void
cmd_arg(void *ctx, const char *s)
{
	struct cmd *c = ctx;

	if (c->nargv >= 94 || (c->argv[c->nargv++] = strdup(s)) == NULL)
		log_fatal(111, "too many arguments or out of memory");
	c->argv[c->nargv] = NULL;
}

static void
cmd_env(void *ctx, const char *s)
{
	struct cmd *c = ctx;

	if (c->nenv >= 16 || (c->env[c->nenv++] = strdup(s)) == NULL)
		log_fatal(111, "too many secrets or out of memory");
}

static void
cmd_free(struct cmd *c)
{
	int i;

	for (i = 0; i < c->nargv; i++)
		free(c->argv[i]);
	for (i = 0; i < c->nenv; i++) {
		explicit_bzero(c->env[i], strlen(c->env[i]));
		free(c->env[i]);
	}
	memset(c, 0, sizeof *c);
}

/* Runs argv (with env added) and waits; returns its exit status (128+n
 * if killed). */
static int
run(char *const *argv, char *const *env, int nenv)
{
	pid_t pid;
	int st, i;

	if ((pid = fork()) < 0)
		log_fatal(111, "unable to fork: %s", strerror(errno));
	if (pid == 0) {
		for (i = 0; i < nenv; i++)
			putenv(env[i]);
		execvp(argv[0], argv);
		fprintf(stderr, "ls-exec: fatal: unable to run %s: %s\n",
		    argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 111;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* For each database that does not exist, restores it from the first of
 * its replicas that has a backup. */
static void
restore_missing(const struct conf *cf, int verbose)
{
	char *restore = exe_sibling("ls-restore");
	struct stat st;
	size_t i, j;
	int rc, failed = 0;

	if (restore == NULL)
		log_fatal(111, "out of memory");
	for (i = 0; i < cf->ndb; i++) {
		const struct conf_db *d = &cf->db[i];

		if (stat(d->path, &st) == 0)
			continue;
		failed = 0;
		for (j = 0; j < d->nrep; j++) {
			struct cmd c;

			memset(&c, 0, sizeof c);
			cmd_arg(&c, restore);
			if (verbose)
				cmd_arg(&c, "-v");
			cmd_arg(&c, "-if-replica-exists");
			cmd_arg(&c, "-o");
			cmd_arg(&c, d->path);
			conf_replica_child(&d->rep[j], cmd_arg, cmd_env, &c);
			cmd_arg(&c, d->rep[j].url);
			rc = run(c.argv, c.env, c.nenv);
			cmd_free(&c);
			if (rc != 0) {
				/* The next replica may do; but one that could
				 * not be read may hold the backup, so starting
				 * empty is not an option any more. */
				log_warn("unable to restore %s from %s "
				    "(ls-restore exited %d)", d->path,
				    d->rep[j].url, rc);
				failed = rc == 100 ? 100 : 111;
				continue;
			}
			if (stat(d->path, &st) == 0) {
				log_info("restored %s from %s", d->path,
				    d->rep[j].url);
				break;
			}
		}
		if (j == d->nrep && failed)
			log_fatal(failed, "%s: not restored, and a replica "
			    "could not be read", d->path);
		if (j == d->nrep)
			log_info("%s: no replica has a backup; starting empty",
			    d->path);
	}
	free(restore);
}

int
main(int argc, char **argv)
{
	struct conf cf;
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	char err[1024], *rep, *cfile = NULL, pidstr[16], **pargv;
	int i, verbose = 0, restore = 0, rd[2], sfd, st, code = 0;
	pid_t rpid, ppid, pid;
	sigset_t mask;
	char c;

	PROG = "ls-exec";
	/* Go-style flags, up to PROG. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *f = argv[i] + (argv[i][1] == '-' ? 2 : 1);

		if (strcmp(f, "v") == 0)
			verbose = log_verbose = 1;
		else if (strcmp(f, "restore-if-db-not-exists") == 0)
			restore = 1;
		else if (strcmp(f, "config") == 0 && i + 1 < argc)
			cfile = argv[++i];
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			log_usage(USAGE);
	}
	if (cfile == NULL)
		cfile = (char *)conf_default_file(environ);
	if (conf_load(cfile, environ, &cf, err, sizeof err) < 0) {
		fprintf(stderr, "%s: fatal: %s\n", PROG, err);
		conf_free(&cf);
		return 100;
	}
	/* PROG on the command line, else the configuration's exec. */
	if ((pargv = i < argc ? argv + i : cf.exec) == NULL)
		log_usage(USAGE);
	if (cf.verbose)
		verbose = log_verbose = 1;
	if (restore)
		restore_missing(&cf, verbose);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    pipe2(rd, O_CLOEXEC) < 0)
		log_fatal(111, "unable to set up: %s", strerror(errno));

	/* Replication first, and ready, before the application starts. */
	if ((rep = exe_sibling("ls-replicate")) == NULL)
		log_fatal(111, "out of memory");
	if ((rpid = fork()) < 0)
		log_fatal(111, "unable to fork: %s", strerror(errno));
	if (rpid == 0) {
		sigset_t none;
		/* -x: that ls-replicate must not run exec itself. */
		char *rargv[] = { rep, "-x", "-d", "3", "-config", cfile,
		    verbose ? "-v" : NULL, NULL };

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(rd[1], 3);
		execv(rep, rargv);
		fprintf(stderr, "ls-exec: fatal: unable to run %s: %s\n", rep,
		    strerror(errno));
		_exit(127);
	}
	close(rd[1]);
	pfd[0].fd = rd[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			log_fatal(111, "poll: %s", strerror(errno));
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			if (read(rd[0], &c, 1) == 1)
				break;
			waitpid(rpid, &st, 0);
			log_fatal(WIFEXITED(st) && WEXITSTATUS(st) == 100 ? 100 :
			    111, "replication did not start (ls-replicate "
			    "exited %d)", WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st));
		}
		if (pfd[1].revents & POLLIN) {
			while (read(sfd, &si, sizeof si) == sizeof si)
				if (si.ssi_signo != SIGCHLD) {
					kill(rpid, SIGTERM);
					waitpid(rpid, &st, 0);
					return 128 + (int)si.ssi_signo;
				}
		}
	}
	close(rd[0]);
	snprintf(pidstr, sizeof pidstr, "%d", (int)rpid);
	log_info("replication ready (ls-replicate pid %s); starting %s",
	    pidstr, pargv[0]);

	if ((ppid = fork()) < 0)
		log_fatal(111, "unable to fork: %s", strerror(errno));
	if (ppid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(pargv[0], pargv);
		fprintf(stderr, "ls-exec: fatal: unable to run %s: %s\n",
		    pargv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	/* Forward signals to the application; wait for it. */
	for (;;) {
		struct pollfd p1 = { sfd, POLLIN, 0 };

		if (poll(&p1, 1, -1) < 0 && errno != EINTR)
			log_fatal(111, "poll: %s", strerror(errno));
		while (read(sfd, &si, sizeof si) == sizeof si)
			if (si.ssi_signo != SIGCHLD)
				kill(ppid, (int)si.ssi_signo);
		pid = waitpid(ppid, &st, WNOHANG);
		if (pid == ppid) {
			code = WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st);
			break;
		}
		if (waitpid(rpid, &st, WNOHANG) == rpid) {
			log_warn("ls-replicate exited %d while %s runs",
			    WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
			    WTERMSIG(st), pargv[0]);
			rpid = 0;
		}
	}
	/* The application is done: ship everything it committed. */
	if (rpid > 0) {
		kill(rpid, SIGTERM);
		while (waitpid(rpid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			log_warn("replication stopped with status %d",
			    WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st));
	}
	conf_free(&cf);
	free(rep);
	return code;
}
