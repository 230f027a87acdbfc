/* ls-ship-abs: ships a spool to an Azure Blob Storage replica. */
#include <unistd.h>

#include "abs.h"
#include "log.h"
#include "shipcli.h"

static struct backend *
open_abs(const char *url, const struct bopts *o, int create, char *err,
    size_t errlen, int *code)
{
	(void)create;
	return abs_open(url, o, err, errlen, code);
}

int
main(int argc, char **argv)
{
	PROG = "ls-ship-abs";
	return ship_cli(argc, argv, environ, "abs", open_abs);
}
