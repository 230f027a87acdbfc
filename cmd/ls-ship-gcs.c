/* ls-ship-gcs: ships a spool to a Google Cloud Storage replica. */
#include <unistd.h>

#include "gcs.h"
#include "log.h"
#include "shipcli.h"

static struct backend *
open_gcs(const char *url, const struct bopts *o, int create, char *err,
    size_t errlen, int *code)
{
	(void)create;
	return gcs_open(url, o, err, errlen, code);
}

int
main(int argc, char **argv)
{
	PROG = "ls-ship-gcs";
	return ship_cli(argc, argv, environ, "gcs", open_gcs);
}
