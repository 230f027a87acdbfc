/* ls-ship-file: ships a spool to a directory replica. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dur.h"
#include "log.h"
#include "ready.h"
#include "replica.h"
#include "ship.h"
#include "spool.h"

#define USAGE "ls-ship-file [-1v] [-d FD] [-n NAME] [-r RETENTION] " \
	"[-R INTERVAL] SPOOL DIR"

int
main(int argc, char **argv)
{
	struct ship_opts o = {
		.replica = "file",
		.retention_ms = 24 * 3600 * 1000LL,
		.retention_check_ms = 3600 * 1000LL,
		.in_fd = 0,
		.ready_fd = -1,
	};
	struct spool sp;
	struct backend *b;
	char err[512];
	int c, code, check_set = 0;

	PROG = "ls-ship-file";
	while ((c = getopt(argc, argv, "1vd:n:r:R:")) != -1) {
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
		default:
			log_usage(USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		log_usage(USAGE);
	if (!check_set && o.retention_ms > 0 &&
	    o.retention_check_ms > o.retention_ms)
		o.retention_check_ms = o.retention_ms;
	if (spool_open(&sp, argv[0], 1) < 0)
		log_fatal(100, "unable to open spool %s: %s", argv[0],
		    strerror(errno));
	if ((b = replica_open(argv[1], 1, err, sizeof err, &code)) == NULL)
		log_fatal(code, "%s", err);
	code = ship_main(&sp, b, &o);
	b->ops->close(b);
	spool_close(&sp);
	return code;
}
