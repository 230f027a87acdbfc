/* s3url URL [KEY=VALUE...]: prints where s3_parse puts the replica, or
 * its error, for t2004. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bopt.h"
#include "s3.h"

int
main(int argc, char **argv)
{
	struct bopts o = { .type = "s3", .env = environ };
	struct s3_loc l;
	char err[512];
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: s3url URL [KEY=VALUE...]\n");
		return 2;
	}
	for (i = 2; i < argc; i++)
		if (bopt_add(&o, argv[i], err, sizeof err) < 0) {
			printf("error: %s\n", err);
			return 1;
		}
	if (s3_parse(argv[1], &o, &l, err, sizeof err) < 0) {
		printf("error: %s\n", err);
		return 1;
	}
	printf("bucket=%s prefix=%s scheme=%s host=%s region=%s "
	    "path-style=%d access-point=%d\n", l.bucket, l.prefix, l.scheme,
	    l.host[0] ? l.host : "-", l.region[0] ? l.region : "-",
	    l.path_style, l.access_point);
	return 0;
}
