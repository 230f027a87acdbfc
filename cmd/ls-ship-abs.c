/* ls-ship-abs: ships a spool to an Azure Blob Storage replica. */
#include <unistd.h>

#include "log.h"
#include "shipcli.h"

int
main(int argc, char **argv)
{
	PROG = "ls-ship-abs";
	return ship_cli(argc, argv, environ, "abs");
}
