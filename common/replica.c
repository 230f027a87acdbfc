/* replica: what every program that reaches a replica shares (see
 * replica.h); the dispatch to every backend is in replica_any.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica.h"

const char *
replica_type(const char *url)
{
	const char *colon = strstr(url, "://");

	if (colon == NULL || strncmp(url, "file://", 7) == 0)
		return "file";
	if (strncmp(url, "s3://", 5) == 0)
		return "s3";
	if (strncmp(url, "abs://", 6) == 0)
		return "abs";
	if (strncmp(url, "gcs://", 6) == 0 || strncmp(url, "gs://", 5) == 0)
		return "gcs";
	if (strncmp(url, "sftp://", 7) == 0)
		return "sftp";
	return NULL;
}

struct backend *
replica_open_file(const char *url, const struct bopts *o, int create,
    char *err, size_t errlen, int *code)
{
	const char *path = url;
	struct backend *b;

	(void)o;
	*code = 100;
	if (strstr(url, "://") != NULL) {
		if (strncmp(url, "file://", 7) != 0) {
			snprintf(err, errlen, "%s: unsupported replica URL scheme "
			    "(file, s3, abs, gcs, sftp)", url);
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

int
replica_age(const struct bopts *o, struct replica_age **out, char *err,
    size_t errlen)
{
	struct replica_age *a;
	const char *r;
	char *ids, why[256];
	int rc = 0;

	*out = NULL;
	r = bopt_get(o, "age-recipients");
	if ((ids = bopt_secret(o, "age-identities", why, sizeof why)) ==
	    NULL && why[0] != '\0') {
		snprintf(err, errlen, "age-identities: %s", why);
		return -1;
	}
	if (r == NULL && ids == NULL)
		return 0;
	if ((a = calloc(1, sizeof *a)) == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	} else if (r != NULL &&
	    age_parse_recipients(r, &a->rcpt, why, sizeof why) < 0) {
		snprintf(err, errlen, "age-recipients: %s", why);
		rc = -1;
	} else if (ids != NULL &&
	    age_parse_identities(ids, &a->ids, why, sizeof why) < 0) {
		snprintf(err, errlen, "age-identities: %s", why);
		rc = -1;
	}
	if (ids != NULL) {
		explicit_bzero(ids, strlen(ids));
		free(ids);
	}
	if (rc < 0 && a != NULL) {
		explicit_bzero(a, sizeof *a);
		free(a);
	} else
		*out = a;
	return rc;
}

struct backend *
replica_open_with(replica_opener fn, const char *url, const struct bopts *o,
    int create, char *err, size_t errlen, int *code)
{
	static const struct bopts none;
	struct replica_age *a = NULL;
	struct backend *b;

	if (o == NULL)
		o = &none;
	else if (replica_age(o, &a, err, errlen) < 0) {
		*code = 100;
		return NULL;
	}
	*code = 100;
	if ((b = fn(url, o, create, err, errlen, code)) == NULL) {
		if (a != NULL) {
			explicit_bzero(a, sizeof *a);
			free(a);
		}
		return NULL;
	}
	b->age = a;
	return b;
}

void
replica_close(struct backend *b)
{
	if (b->age != NULL) {
		explicit_bzero(b->age, sizeof *b->age);
		free(b->age);
	}
	b->ops->close(b);
}

struct listing {
	struct backend_obj	*v;
	size_t			n, cap;
};

static int
list_cb(void *ctx, const struct backend_obj *o)
{
	struct listing *l = ctx;
	struct backend_obj *v;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? 2 * l->cap : 256;
		if ((v = realloc(l->v, cap * sizeof *v)) == NULL)
			return BE_TEMP;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *o;
	return 0;
}

int
replica_list(struct backend *b, const char *prefix, struct backend_obj **objs,
    size_t *n)
{
	struct listing l = { NULL, 0, 0 };
	int rc;

	b->err[0] = '\0';
	rc = b->ops->list(b, prefix, list_cb, &l);
	if (rc != BE_OK) {
		if (b->err[0] == '\0')
			snprintf(b->err, sizeof b->err, "unable to list %s: %s",
			    b->where, strerror(ENOMEM));
		free(l.v);
		return rc == BE_NOENT ? BE_TEMP : rc;
	}
	*objs = l.v;
	*n = l.n;
	return BE_OK;
}
