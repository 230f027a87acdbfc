/* replica: URL scheme dispatch to the backends. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "replica.h"

struct backend *
replica_open(const char *url, int create, char *err, size_t errlen, int *code)
{
	const char *path = url;
	const char *colon = strstr(url, "://");
	struct backend *b;

	*code = 100;
	if (colon != NULL) {
		if (strncmp(url, "file://", 7) != 0) {
			snprintf(err, errlen, "%s: unsupported replica URL scheme",
			    url);
			return NULL;
		}
		path = url + 7;
		if (*path != '/') {
			snprintf(err, errlen, "%s: a file URL needs an absolute "
			    "path (file:///DIR)", url);
			return NULL;
		}
	}
	if (*path == '\0') {
		snprintf(err, errlen, "empty replica path");
		return NULL;
	}
	if ((b = file_open(path, create)) == NULL) {
		int e = errno;

		snprintf(err, errlen, "unable to open replica %s: %s", path,
		    strerror(e));
		if (e != ENOENT && e != ENOTDIR && e != EACCES && e != EPERM &&
		    e != EROFS)
			*code = 111;
		return NULL;
	}
	return b;
}
