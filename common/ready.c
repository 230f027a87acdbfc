/* ready: readiness notification (see ready.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "dur.h"
#include "log.h"
#include "ready.h"

int
ready_parse(const char *s)
{
	uint64_t v;

	if (dur_parse_uint(s, 1 << 20, &v) < 0 || v < 3 ||
	    fcntl((int)v, F_GETFD) < 0)
		return -1;
	return (int)v;
}

void
ready_notify(int *fd)
{
	if (*fd < 0)
		return;
	if (write(*fd, "\n", 1) < 0)
		log_warn("unable to notify readiness: %s", strerror(errno));
	close(*fd);
	*fd = -1;
}
