/*
 * gcs: Google Cloud Storage over its JSON API, and its emulators. See
 * ls-ship-gcs(1).
 */
#ifndef GCS_H
#define GCS_H

#include <stddef.h>

#include "backend.h"
#include "bopt.h"

/* part-size when not set: above it a put is a resumable upload. */
#define GCS_PART_DEFAULT	(8ULL << 20)

struct gcs_loc {
	char	bucket[224];
	char	prefix[1024];	/* root in the bucket, no '/' at the ends */
	char	endpoint[512];	/* scheme://host[:port], no '/' at the end */
	int	emulator;	/* STORAGE_EMULATOR_HOST: plain HTTP, no auth */
};

/*
 * Parses gcs://BUCKET[/PATH] (or gs://) with the endpoint setting; env's
 * STORAGE_EMULATOR_HOST, when set, wins over both, as in Google's
 * clients. 0, or -1 with one line in err.
 */
int gcs_parse(const char *url, const struct bopts *o, char *const *env,
    struct gcs_loc *l, char *err, size_t errlen);

/* Checks url and the settings as gcs_open would, without opening. */
int gcs_check(const char *url, const struct bopts *o, char *err,
    size_t errlen);

/* Opens the replica. NULL with why in err and *code 100 or 111. */
struct backend *gcs_open(const char *url, const struct bopts *o, char *err,
    size_t errlen, int *code);

#endif
