/* replica_any: opening a replica of any type, by its URL's scheme. It is
 * kept apart from replica.c so that a program for one type (ls-ship-file,
 * say) links only that backend and loads none of the others' libraries. */
#include <string.h>

#include "abs.h"
#include "gcs.h"
#include "replica.h"
#include "s3.h"
#include "sftp.h"

static struct backend *
any_open(const char *url, const struct bopts *o, int create, char *err,
    size_t errlen, int *code)
{
	if (strncmp(url, "s3://", 5) == 0)
		return s3_open(url, o, err, errlen, code);
	if (strncmp(url, "abs://", 6) == 0)
		return abs_open(url, o, err, errlen, code);
	if (strncmp(url, "gcs://", 6) == 0 || strncmp(url, "gs://", 5) == 0)
		return gcs_open(url, o, err, errlen, code);
	if (strncmp(url, "sftp://", 7) == 0)
		return sftp_open(url, o, err, errlen, code);
	return replica_open_file(url, o, create, err, errlen, code);
}

struct backend *
replica_open(const char *url, const struct bopts *o, int create, char *err,
    size_t errlen, int *code)
{
	return replica_open_with(any_open, url, o, create, err, errlen, code);
}
