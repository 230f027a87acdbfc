/* ls-ship-s3: ships a spool to an S3 (or S3-compatible) replica. */
#include <unistd.h>

#include "log.h"
#include "s3.h"
#include "shipcli.h"

static struct backend *
open_s3(const char *url, const struct bopts *o, int create, char *err,
    size_t errlen, int *code)
{
	(void)create;
	return s3_open(url, o, err, errlen, code);
}

int
main(int argc, char **argv)
{
	PROG = "ls-ship-s3";
	return ship_cli(argc, argv, environ, "s3", open_s3);
}
