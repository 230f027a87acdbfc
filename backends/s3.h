/*
 * s3: Amazon S3 and S3-compatible stores (MinIO, Backblaze B2, Linode,
 * DigitalOcean Spaces, Scaleway, Filebase, ...). See ls-ship-s3(1).
 */
#ifndef S3_H
#define S3_H

#include <stddef.h>

#include "backend.h"
#include "bopt.h"

/* part-size when not set: S3's smallest part. */
#define S3_PART_DEFAULT	(5ULL << 20)

/* Where a replica is, from its URL and settings. */
struct s3_loc {
	char	bucket[256];	/* "" for an access point */
	char	prefix[1024];	/* root in the bucket: no '/' at either end */
	char	scheme[8];	/* "https" or "http" */
	char	host[512];	/* endpoint host[:port]; "" = AWS's, by region */
	char	region[64];	/* "" = look it up */
	int	path_style;	/* bucket in the path, not in the host */
	int	access_point;	/* host is an access point's */
};

/*
 * Parses s3://BUCKET[/PATH], s3://BUCKET.PROVIDER-HOST[:PORT][/PATH] and
 * s3://arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME[/PATH], then lets
 * the settings (region, endpoint, force-path-style) override what the URL
 * implied. 0, or -1 with one line in err.
 */
int s3_parse(const char *url, const struct bopts *o, struct s3_loc *l,
    char *err, size_t errlen);

/* Checks url and the settings as s3_open would, without opening: 0, or
 * -1 with one line in err. */
int s3_check(const char *url, const struct bopts *o, char *err,
    size_t errlen);

/* Opens the replica. NULL with why in err and *code 100 or 111. */
struct backend *s3_open(const char *url, const struct bopts *o, char *err,
    size_t errlen, int *code);

#endif
