/*
 * gcsloc: where a Google Cloud Storage replica is, from its URL, settings and
 * STORAGE_EMULATOR_HOST: the bucket (its name checked as Google would), the
 * root and the endpoint, and the settings checked before a shipper starts.
 * Kept out of backends/gcs.c so that the programs that only check a
 * configuration (ls-replicate, ls-exec) do not link the HTTP client.
 */
#include <stdio.h>
#include <string.h>

#include "bopt.h"
#include "gcs.h"

#define PART_MIN	(1ULL << 20)
#define PART_MAX	(1ULL << 30)

static const char *
env_get(char *const *env, const char *k)
{
	size_t n = strlen(k);

	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, k, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static int
bucket_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 3 || n > 222)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	/* It starts and ends with a letter or a digit. */
	return s[0] != '-' && s[0] != '.' && s[0] != '_' &&
	    s[n - 1] != '-' && s[n - 1] != '.' && s[n - 1] != '_';
}

int
gcs_parse(const char *url, const struct bopts *o, char *const *env,
    struct gcs_loc *l, char *err, size_t errlen)
{
	const char *p, *v;
	size_t n;

	memset(l, 0, sizeof *l);
	if (strncmp(url, "gcs://", 6) == 0)
		p = url + 6;
	else if (strncmp(url, "gs://", 5) == 0)
		p = url + 5;
	else {
		snprintf(err, errlen, "%s: not a gcs:// or gs:// URL", url);
		return -1;
	}
	if (strpbrk(p, "?#") != NULL) {
		snprintf(err, errlen, "%s: a GCS URL has no query or fragment",
		    url);
		return -1;
	}
	n = strcspn(p, "/");
	if (n >= sizeof l->bucket)
		n = sizeof l->bucket - 1;
	memcpy(l->bucket, p, n);
	if (!bucket_ok(l->bucket)) {
		snprintf(err, errlen, "%s: '%s' is not a bucket name (3 to 222 "
		    "of a-z, 0-9, '-', '_' and '.')", url, l->bucket);
		return -1;
	}
	for (p += strcspn(p, "/"); *p == '/'; p++)
		;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n >= sizeof l->prefix) {
		snprintf(err, errlen, "%s: path too long", url);
		return -1;
	}
	memcpy(l->prefix, p, n);
	snprintf(l->endpoint, sizeof l->endpoint,
	    "https://storage.googleapis.com");
	if ((v = bopt_get(o, "endpoint")) != NULL) {
		if (strncmp(v, "http://", 7) != 0 &&
		    strncmp(v, "https://", 8) != 0) {
			snprintf(err, errlen, "endpoint %s: not http:// or "
			    "https://", v);
			return -1;
		}
		snprintf(l->endpoint, sizeof l->endpoint, "%s", v);
	}
	if ((v = env_get(env, "STORAGE_EMULATOR_HOST")) != NULL && *v != '\0') {
		if (strstr(v, "://") != NULL)
			snprintf(l->endpoint, sizeof l->endpoint, "%s", v);
		else
			snprintf(l->endpoint, sizeof l->endpoint, "http://%s",
			    v);
		l->emulator = 1;
	}
	n = strlen(l->endpoint);
	while (n > 0 && l->endpoint[n - 1] == '/')
		l->endpoint[--n] = '\0';
	return 0;
}

int
gcs_check(const char *url, const struct bopts *o, char *err, size_t errlen)
{
	struct gcs_loc l;
	uint64_t part = bopt_size(o, "part-size", GCS_PART_DEFAULT);

	if (gcs_parse(url, o, o->env, &l, err, errlen) < 0)
		return -1;
	if (part < PART_MIN || part > PART_MAX) {
		snprintf(err, errlen, "part-size: from 1MiB to 1GiB");
		return -1;
	}
	return 0;
}
