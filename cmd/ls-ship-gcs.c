/* ls-ship-gcs: ships a spool to a Google Cloud Storage replica. */
#include <unistd.h>

#include "log.h"
#include "shipcli.h"

int
main(int argc, char **argv)
{
	PROG = "ls-ship-gcs";
	return ship_cli(argc, argv, environ, "gcs");
}
