/* ls-ship-sftp: ships a spool to an SFTP server. */
#include <unistd.h>

#include "log.h"
#include "shipcli.h"

int
main(int argc, char **argv)
{
	PROG = "ls-ship-sftp";
	return ship_cli(argc, argv, environ, "sftp");
}
