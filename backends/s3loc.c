/*
 * s3loc: where an S3 replica is, from its URL and settings: the bucket and
 * root, the providers recognized from the URL host, access point ARNs, and
 * the settings checked before a shipper starts. Kept out of backends/s3.c so
 * that the programs that only check a configuration (ls-replicate, ls-exec)
 * do not link the HTTP client.
 */
#include <stdio.h>
#include <string.h>

#include "bopt.h"
#include "s3.h"

#define PART_MIN	(5ULL << 20)
#define PART_MAX	(5ULL << 30)

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Splits host "A.REST" at the first dot. */
static int
first_label(const char *h, char *label, size_t len, const char **rest)
{
	const char *dot = strchr(h, '.');

	if (dot == NULL || dot == h || (size_t)(dot - h) >= len)
		return -1;
	memcpy(label, h, (size_t)(dot - h));
	label[dot - h] = '\0';
	*rest = dot + 1;
	return 0;
}

/*
 * Providers recognized from the URL host (as Litestream does): the first
 * label is the bucket, the rest names the endpoint, served path-style.
 */
static int
parse_host(const char *hostport, struct s3_loc *l)
{
	char host[512], label[256], region[64];
	const char *port, *rest;
	size_t n;

	port = strrchr(hostport, ':');
	n = port != NULL ? (size_t)(port - hostport) : strlen(hostport);
	if (n >= sizeof host)
		return -1;
	memcpy(host, hostport, n);
	host[n] = '\0';
	if (port == NULL)
		port = "";
	if (ends_with(host, ".localhost") &&
	    first_label(host, label, sizeof label, &rest) == 0 &&
	    strcmp(rest, "localhost") == 0) {
		snprintf(l->bucket, sizeof l->bucket, "%s", label);
		snprintf(l->scheme, sizeof l->scheme, "http");
		snprintf(l->host, sizeof l->host, "localhost%s", port);
		snprintf(l->region, sizeof l->region, "us-east-1");
		l->path_style = 1;
		return 0;
	}
	if (first_label(host, label, sizeof label, &rest) < 0)
		goto plain;
	region[0] = '\0';
	if (strncmp(rest, "s3.", 3) == 0 && ends_with(rest, ".backblazeb2.com"))
		snprintf(region, sizeof region, "%.*s",
		    (int)(strlen(rest) - 3 - strlen(".backblazeb2.com")),
		    rest + 3);
	else if (strcmp(rest, "s3.filebase.com") == 0)
		snprintf(region, sizeof region, "us-east-1");
	else if (ends_with(rest, ".digitaloceanspaces.com") &&
	    strchr(rest, '.') == rest + strlen(rest) -
	    strlen(".digitaloceanspaces.com"))
		snprintf(region, sizeof region, "%.*s",
		    (int)(strlen(rest) - strlen(".digitaloceanspaces.com")),
		    rest);
	else if (strncmp(rest, "s3.", 3) == 0 && ends_with(rest, ".scw.cloud"))
		snprintf(region, sizeof region, "%.*s",
		    (int)(strlen(rest) - 3 - strlen(".scw.cloud")), rest + 3);
	else if (ends_with(rest, ".linodeobjects.com") &&
	    strchr(rest, '.') == rest + strlen(rest) -
	    strlen(".linodeobjects.com"))
		snprintf(region, sizeof region, "%.*s",
		    (int)(strlen(rest) - strlen(".linodeobjects.com")), rest);
	else
		goto plain;
	if (region[0] == '\0' || strchr(region, '.') != NULL)
		goto plain;
	snprintf(l->bucket, sizeof l->bucket, "%s", label);
	snprintf(l->scheme, sizeof l->scheme, "https");
	snprintf(l->host, sizeof l->host, "%s%s", rest, port);
	snprintf(l->region, sizeof l->region, "%s", region);
	l->path_style = 1;
	return 0;
plain:
	/* Anything else is an AWS bucket name, dots and all. */
	if (*port != '\0' || strlen(host) >= sizeof l->bucket)
		return -1;
	snprintf(l->bucket, sizeof l->bucket, "%s", host);
	return 0;
}

/* arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME[/PATH] */
static int
parse_arn(const char *arn, struct s3_loc *l, const char **path, char *err,
    size_t errlen)
{
	char part[32], region[64], account[32], name[64];
	const char *p = arn + 4, *f[5];
	size_t i, n;

	for (i = 0; i < 4; i++) {
		if ((f[i] = strchr(p, ':')) == NULL)
			goto bad;
		p = f[i] + 1;
	}
	/* fields: partition, service, region, account, then the resource */
	if ((n = (size_t)(f[0] - (arn + 4))) == 0 || n >= sizeof part)
		goto bad;
	snprintf(part, sizeof part, "%.*s", (int)n, arn + 4);
	if ((size_t)(f[1] - f[0] - 1) != 2 || strncmp(f[0] + 1, "s3", 2) != 0)
		goto bad;
	if ((n = (size_t)(f[2] - f[1] - 1)) == 0 || n >= sizeof region)
		goto bad;
	snprintf(region, sizeof region, "%.*s", (int)n, f[1] + 1);
	if ((n = (size_t)(f[3] - f[2] - 1)) == 0 || n >= sizeof account)
		goto bad;
	snprintf(account, sizeof account, "%.*s", (int)n, f[2] + 1);
	if (strncmp(p, "accesspoint/", 12) != 0)
		goto bad;
	p += 12;
	n = strcspn(p, "/");
	if (n == 0 || n >= sizeof name)
		goto bad;
	snprintf(name, sizeof name, "%.*s", (int)n, p);
	*path = p + n;
	snprintf(l->scheme, sizeof l->scheme, "https");
	snprintf(l->host, sizeof l->host, "%s-%s.s3-accesspoint.%s.%s", name,
	    account, region, strcmp(part, "aws-cn") == 0 ?
	    "amazonaws.com.cn" : "amazonaws.com");
	snprintf(l->region, sizeof l->region, "%s", region);
	l->access_point = 1;
	return 0;
bad:
	snprintf(err, errlen, "s3://%s: not an access point ARN "
	    "(arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME)", arn);
	return -1;
}

static int
set_prefix(struct s3_loc *l, const char *path)
{
	size_t n;

	while (*path == '/')
		path++;
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n >= sizeof l->prefix)
		return -1;
	memcpy(l->prefix, path, n);
	l->prefix[n] = '\0';
	return 0;
}

int
s3_parse(const char *url, const struct bopts *o, struct s3_loc *l,
    char *err, size_t errlen)
{
	const char *p, *path, *v;
	char hostport[512];
	size_t n;

	memset(l, 0, sizeof *l);
	snprintf(l->scheme, sizeof l->scheme, "https");
	if (strncmp(url, "s3://", 5) != 0) {
		snprintf(err, errlen, "%s: not an s3:// URL", url);
		return -1;
	}
	p = url + 5;
	if (strncmp(p, "arn:", 4) == 0) {
		if (parse_arn(p, l, &path, err, errlen) < 0)
			return -1;
	} else {
		n = strcspn(p, "/?#");
		if (p[n] == '?' || p[n] == '#' ||
		    strchr(p + n, '?') != NULL || strchr(p + n, '#') != NULL) {
			snprintf(err, errlen, "%s: an S3 URL has no query or "
			    "fragment", url);
			return -1;
		}
		if (n == 0 || n >= sizeof hostport) {
			snprintf(err, errlen, "%s: no bucket in the URL", url);
			return -1;
		}
		memcpy(hostport, p, n);
		hostport[n] = '\0';
		path = p + n;
		if (parse_host(hostport, l) < 0) {
			snprintf(err, errlen, "%s: a port needs a known "
			    "provider host or an endpoint setting", url);
			return -1;
		}
	}
	if (set_prefix(l, path) < 0) {
		snprintf(err, errlen, "%s: path too long", url);
		return -1;
	}
	/* Settings win over what the URL implied. */
	if ((v = bopt_get(o, "region")) != NULL)
		snprintf(l->region, sizeof l->region, "%s", v);
	if ((v = bopt_get(o, "endpoint")) != NULL) {
		const char *h = v;

		if (strncmp(v, "http://", 7) == 0) {
			snprintf(l->scheme, sizeof l->scheme, "http");
			h = v + 7;
		} else if (strncmp(v, "https://", 8) == 0) {
			snprintf(l->scheme, sizeof l->scheme, "https");
			h = v + 8;
		} else if (strstr(v, "://") != NULL) {
			snprintf(err, errlen, "endpoint %s: not http:// or "
			    "https://", v);
			return -1;
		}
		n = strcspn(h, "/");
		if (n == 0 || n >= sizeof l->host || (h[n] == '/' &&
		    h[n + 1] != '\0')) {
			snprintf(err, errlen, "endpoint %s: not "
			    "[http[s]://]HOST[:PORT]", v);
			return -1;
		}
		snprintf(l->host, sizeof l->host, "%.*s", (int)n, h);
		/* Custom endpoints are path-style unless told otherwise. */
		if (!l->access_point)
			l->path_style = 1;
	}
	if (bopt_get(o, "force-path-style") != NULL && !l->access_point)
		l->path_style = bopt_bool(o, "force-path-style", 0);
	/* A dotted bucket does not fit AWS's TLS wildcard certificate. */
	if (l->host[0] == '\0' && strchr(l->bucket, '.') != NULL)
		l->path_style = 1;
	if (!l->access_point && l->bucket[0] == '\0') {
		snprintf(err, errlen, "%s: no bucket in the URL", url);
		return -1;
	}
	return 0;
}

int
s3_check(const char *url, const struct bopts *o, char *err, size_t errlen)
{
	struct s3_loc l;
	uint64_t part = bopt_size(o, "part-size", S3_PART_DEFAULT);
	const char *sse = bopt_get(o, "sse");

	if (s3_parse(url, o, &l, err, errlen) < 0)
		return -1;
	if (part < PART_MIN || part > PART_MAX) {
		snprintf(err, errlen, "part-size: from 5MiB to 5GiB (S3's "
		    "smallest and largest part)");
		return -1;
	}
	if (bopt_get(o, "sse-kms-key-id") != NULL &&
	    (sse == NULL || strcmp(sse, "aws:kms") != 0)) {
		snprintf(err, errlen, "sse-kms-key-id needs sse = aws:kms");
		return -1;
	}
	return 0;
}
