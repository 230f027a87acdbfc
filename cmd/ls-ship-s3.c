/* ls-ship-s3: ships a spool to an S3 (or S3-compatible) replica. */
#include <unistd.h>

#include "log.h"
#include "shipcli.h"

int
main(int argc, char **argv)
{
	PROG = "ls-ship-s3";
	return ship_cli(argc, argv, environ, "s3");
}
