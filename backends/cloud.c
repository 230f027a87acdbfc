/* cloud: shared by the object-store clients (see cloud.h). */
#include <stdio.h>
#include <string.h>

#include "cloud.h"
#include "log.h"

int
cloud_get(struct backend *b, const char *what, backend_sink sink,
    void *ctx, int (*send)(void *arg, struct http_resume *r,
    struct http_resp *rs), void *arg)
{
	struct http_resume r;
	struct http_resp rs;
	int rc, attempt;

	memset(&r, 0, sizeof r);
	r.sink = sink;
	r.ctx = ctx;
	for (attempt = 1;; attempt++) {
		r.started = 0;
		r.rs = &rs;
		if ((rc = send(arg, &r, &rs)) == BE_OK) {
			http_resp_free(&rs);
			return BE_OK;
		}
		if (r.stopped) {
			snprintf(b->err, sizeof b->err, "%s: the receiver "
			    "stopped", what);
			return BE_TEMP;
		}
		if (rc != BE_TEMP || attempt >= CLOUD_ATTEMPTS)
			return rc;
		log_warn("%s", b->err);
		http_backoff(attempt, 250, 8000);
	}
}
