/* ls-ship-file: ships a spool to a directory replica. */
#include <unistd.h>

#include "log.h"
#include "shipcli.h"

int
main(int argc, char **argv)
{
	PROG = "ls-ship-file";
	return ship_cli(argc, argv, environ, "file", replica_open_file);
}
