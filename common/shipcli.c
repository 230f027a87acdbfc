/* shipcli: the shared main of the ls-ship-* programs. See shipcli.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bopt.h"
#include "dur.h"
#include "log.h"
#include "ready.h"
#include "replica.h"
#include "ship.h"
#include "shipcli.h"
#include "spool.h"

int
ship_cli(int argc, char **argv, char *const *env, const char *type,
    replica_opener open)
{
	struct ship_opts o = {
		.retention_ms = 24 * 3600 * 1000LL,
		.retention_check_ms = 3600 * 1000LL,
		.in_fd = 0,
		.ready_fd = -1,
	};
	struct bopts bo = { 0 };
	struct spool sp;
	struct backend *b;
	const char *t;
	char err[512], usage[256];
	int c, code, check_set = 0;

	snprintf(usage, sizeof usage, "%s [-1v] [-d FD] [-n NAME] "
	    "[-r RETENTION] [-R INTERVAL] [-i SYNC] [-V INTERVAL] [-O KEY=VALUE]... "
	    "SPOOL %s", PROG,
	    strcmp(type, "file") == 0 ? "DIR" : "URL");
	o.replica = type;
	bo.type = type;
	bo.env = env;
	while ((c = getopt(argc, argv, "1vd:n:r:R:i:V:O:")) != -1) {
		switch (c) {
		case '1':
			o.once = 1;
			break;
		case 'v':
			log_verbose = 1;
			break;
		case 'd':
			if ((o.ready_fd = ready_parse(optarg)) < 0)
				log_fatal(100, "-d %s: not an open descriptor "
				    ">= 3", optarg);
			break;
		case 'n':
			if (!spool_replica_name_ok(optarg))
				log_fatal(100, "-n %s: a replica name is 1 to 64 "
				    "of [A-Za-z0-9._-], not starting with '.'",
				    optarg);
			o.replica = optarg;
			break;
		case 'r':
			if (dur_parse(optarg, &o.retention_ms) < 0)
				log_fatal(100, "-r %s: not a duration", optarg);
			break;
		case 'R':
			if (dur_parse(optarg, &o.retention_check_ms) < 0 ||
			    o.retention_check_ms == 0)
				log_fatal(100, "-R %s: not a positive duration",
				    optarg);
			check_set = 1;
			break;
		case 'i':
			if (dur_parse(optarg, &o.sync_ms) < 0)
				log_fatal(100, "-i %s: not a duration", optarg);
			break;
		case 'V':
			if (dur_parse(optarg, &o.validation_ms) < 0)
				log_fatal(100, "-V %s: not a duration", optarg);
			break;
		case 'O':
			if (bopt_add(&bo, optarg, err, sizeof err) < 0)
				log_fatal(100, "-O %s", err);
			break;
		default:
			log_usage(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		log_usage(usage);
	if ((t = replica_type(argv[1])) == NULL || strcmp(t, type) != 0)
		log_fatal(100, "%s: not a replica of type %s%s%s%s", argv[1],
		    type, t != NULL ? " (use ls-ship-" : "", t != NULL ? t : "",
		    t != NULL ? ")" : "");
	if (!check_set && o.retention_ms > 0 &&
	    o.retention_check_ms > o.retention_ms)
		o.retention_check_ms = o.retention_ms;
	if (spool_open(&sp, argv[0], 1) < 0)
		log_fatal(100, "unable to open spool %s: %s", argv[0],
		    strerror(errno));
	if ((b = replica_open_with(open, argv[1], &bo, 1, err, sizeof err, &code)) ==
	    NULL)
		log_fatal(code, "%s", err);
	if (o.validation_ms > 0 && b->age != NULL && b->age->rcpt.n > 0 &&
	    b->age->ids.n == 0)
		log_fatal(100, "-V: validating a replica encrypted with age "
		    "needs its age-identities");
	/* Validation restores with two threads: a backend that cannot serve
	 * both gets a second connection. */
	if (o.validation_ms > 0 && !b->ops->shared && (o.vbe =
	    replica_open_with(open, argv[1], &bo, 0, err, sizeof err, &code)) == NULL)
		log_fatal(code, "%s", err);
	code = ship_main(&sp, b, &o);
	if (o.vbe != NULL)
		replica_close(o.vbe);
	replica_close(b);
	spool_close(&sp);
	return code;
}
