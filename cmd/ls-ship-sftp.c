/* ls-ship-sftp: ships a spool to an SFTP server. */
#include <unistd.h>

#include "log.h"
#include "sftp.h"
#include "shipcli.h"

static struct backend *
open_sftp(const char *url, const struct bopts *o, int create, char *err,
    size_t errlen, int *code)
{
	(void)create;
	return sftp_open(url, o, err, errlen, code);
}

int
main(int argc, char **argv)
{
	PROG = "ls-ship-sftp";
	return ship_cli(argc, argv, environ, "sftp", open_sftp);
}
