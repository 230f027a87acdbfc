/*
 * sigv4: AWS Signature Version 4 in the Authorization header, for S3 and
 * every S3-compatible endpoint (and STS and other services). Pure
 * functions: the caller supplies the time, the credentials and the request
 * exactly as it will go on the wire; nothing here reads a clock, the
 * environment or the network, and nothing here logs.
 *
 * The canonical request, lines separated by LF, no final LF:
 *
 *   METHOD                 as given ("GET")
 *   PATH                   as sent, already URI-encoded, never normalized
 *                          or encoded again (S3 semantics); "/" if empty
 *   QUERY                  the query split on '&' (empty pieces dropped),
 *                          each piece cut at its first '=' into name and
 *                          value (no '=': empty value), sorted bytewise by
 *                          name then value, "name=value" joined by '&'
 *   name:value             one line per signed header name: names in
 *   ...                    lowercase, sorted; values trimmed of SP and HTAB
 *                          with inner runs of them made one SP; values of
 *                          repeated names joined by ',' in request order
 *   (empty line)
 *   SIGNED                 the header names joined by ';'
 *   PAYLOAD                payload_hash
 *
 * The string to sign is four LF-separated lines, no final LF:
 *
 *   AWS4-HMAC-SHA256
 *   YYYYMMDDTHHMMSSZ       when, in UTC: also the x-amz-date header
 *   YYYYMMDD/REGION/SERVICE/aws4_request      the credential scope
 *   hex SHA-256 of the canonical request
 *
 * The signing key is HMAC-SHA256 chained over "AWS4" SECRET as the first
 * key and YYYYMMDD, REGION, SERVICE, "aws4_request" as the messages; the
 * signature is the lowercase hex HMAC-SHA256 of the string to sign.
 *
 * Signed headers are always host, x-amz-date, x-amz-content-sha256 (unless
 * no_content_sha256) and x-amz-security-token (when session_token is set),
 * with the extra headers. An extra header repeating one of those, or
 * authorization, is bad input.
 */
#ifndef SIGV4_H
#define SIGV4_H

#include <stddef.h>
#include <time.h>

#define SIGV4_NHDR	4	/* most headers sigv4_sign writes */
#define SIGV4_HDR_MAX	4096	/* room for one, NUL included: fits a
				   session token of some 4000 bytes */

#define SIGV4_UNSIGNED_PAYLOAD	"UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_SHA256	\
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/*
 * A request to sign. path and query are as they go on the wire, each name
 * and value already URI-encoded by the caller (sigv4_uri_encode);
 * payload_hash is the hex SHA-256 of the body (sigv4_sha256_hex) or
 * SIGV4_UNSIGNED_PAYLOAD. no_content_sha256 is for services other than S3
 * (STS, ...), which neither want nor sign x-amz-content-sha256; the
 * payload hash still ends the canonical request.
 */
struct sigv4_req {
	const char	*method;	/* "GET", "PUT", ... */
	const char	*host;		/* host[:port], as sent */
	const char	*path;		/* as sent; NULL: "/" */
	const char	*query;		/* without '?'; NULL: none */
	const char *const *headers;	/* extra "Name: value" to sign */
	size_t		nheaders;
	const char	*payload_hash;	/* see above */
	const char	*region;	/* "us-east-1" */
	const char	*service;	/* "s3", "sts", ... */
	const char	*access_key;
	const char	*secret_key;
	const char	*session_token;	/* NULL or "": none */
	time_t		when;		/* signing time */
	int		no_content_sha256; /* no x-amz-content-sha256 */
};

/* Writes the lowercase hex SHA-256 of p[0..n) and a NUL into out. */
void sigv4_sha256_hex(const void *p, size_t n, char out[65]);

/* AWS URI encoding: A-Z a-z 0-9 - _ . ~ kept, and '/' when keep_slash;
 * every other byte as %XX, uppercase hex. Returns a malloc'd string, or
 * NULL (errno set) when s is NULL or memory runs out. */
char *sigv4_uri_encode(const char *s, int keep_slash);

/* The signing key for one day (date8 is YYYYMMDD), region and service. */
void sigv4_signing_key(const char *secret_key, const char *date8,
    const char *region, const char *service, unsigned char key[32]);

/* Computes the signature of r into sig (64 hex digits and a NUL). If
 * canonical or sts is not NULL, stores there the canonical request or the
 * string to sign, malloc'd, for the caller to free. Returns 0, or -1 with
 * errno EINVAL (bad input) or ENOMEM, storing nothing. */
int sigv4_signature(const struct sigv4_req *r, char sig[65],
    char **canonical, char **sts);

/* Fills out with the headers to add to the request, each a complete
 * "Name: value" string, in this order: x-amz-date, x-amz-content-sha256
 * (unless no_content_sha256), x-amz-security-token (when session_token is
 * set), Authorization. Returns how many it wrote, or -1 with errno EINVAL
 * (bad input, or a header longer than SIGV4_HDR_MAX - 1) or ENOMEM. */
int sigv4_sign(const struct sigv4_req *r,
    char out[SIGV4_NHDR][SIGV4_HDR_MAX]);

#endif
