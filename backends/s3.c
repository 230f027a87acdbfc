/*
 * s3: objects in an S3 bucket under a root prefix, over the REST API with
 * SigV4. A put is one PUT, or above part-size a multipart upload whose
 * parts go up in parallel straight from the spool file (no buffering)
 * and which is aborted when it fails: S3 shows an object only once its
 * upload completes, so a name only ever holds a whole object. Every body
 * is signed with its SHA-256, so the server refuses one that arrives
 * damaged. Listing is ListObjectsV2, flat (no delimiter). Deletes go in
 * DeleteObjects batches of 1000.
 *
 * Requests that fail in a way worth another try (a transport failure,
 * 5xx, SlowDown, 408, 429) are retried here a few times with jittered
 * back-off; the caller's loop does the rest.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>

#include "awscred.h"
#include "backend.h"
#include "bopt.h"
#include "cloud.h"
#include "enc.h"
#include "http.h"
#include "log.h"
#include "restore.h"
#include "s3.h"
#include "sigv4.h"
#include "xml.h"

#define ATTEMPTS	CLOUD_ATTEMPTS
#define DELETE_BATCH	1000
#define NHDR		12

struct s3 {
	struct backend		b;
	struct s3_loc		l;
	struct http		*http;
	struct awscred_chain	*cred;
	int			said_source;
	pthread_mutex_t		mu;		/* err, said_source */
	uint64_t		part_size;
	int			concurrency;
	const char		*storage_class;	/* in opts' strings */
	const char		*sse, *sse_kms;
	char			*opt_copy[4];
};

static int
set_err(struct s3 *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
set_err(struct s3 *s, int code, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->mu);
	va_start(ap, fmt);
	vsnprintf(s->b.err, sizeof s->b.err, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&s->mu);
	return code;
}

/* ---- requests ---- */

/* The host a request goes to, and the path of key (encoded) on it. */
static int
target(const struct s3 *s, const char *key, char *host, size_t hlen,
    char **path)
{
	const struct s3_loc *l = &s->l;
	char *ek = sigv4_uri_encode(key != NULL ? key : "", 1);
	char *bk = NULL;
	int rc = 0;

	if (ek == NULL)
		return -1;
	if (hlen > 0)
		host[0] = '\0';
	if (l->host[0] != '\0')
		snprintf(host, hlen, "%s", l->host);
	else
		snprintf(host, hlen, "s3.%s.amazonaws.com", l->region);
	if (l->access_point) {
		rc = asprintf(path, "/%s", ek);
	} else if (l->path_style) {
		if ((bk = sigv4_uri_encode(l->bucket, 0)) == NULL)
			rc = -1;
		else if (key == NULL)
			rc = asprintf(path, "/%s", bk);
		else
			rc = asprintf(path, "/%s/%s", bk, ek);
	} else {
		size_t bl = strlen(l->bucket), hl = strlen(host);

		if (bl + 1 + hl + 1 > hlen) {
			free(ek);
			return -1;
		}
		memmove(host + bl + 1, host, hl + 1);
		memcpy(host, l->bucket, bl);
		host[bl] = '.';
		rc = asprintf(path, "/%s", ek);
	}
	free(ek);
	free(bk);
	return rc < 0 ? -1 : 0;
}

struct call {
	const char		*method;
	const char		*key;		/* full key, NULL: the bucket */
	const char		*query;		/* encoded, or NULL */
	const char		*what;		/* for messages */
	const char		*xh[NHDR];	/* extra signed headers */
	size_t			nxh;
	const void		*body;
	int			body_fd;
	uint64_t		body_off, body_len;
	const char		*payload_hash;
	http_sink		sink;
	void			*sink_ctx;
	size_t			max_body;
	const char		*want[HTTP_MAX_WANT];
	int			region_probe;	/* no retries, no error text */
};

struct s3_err {
	char	code[256];
	char	msg[256];
	char	region[64];
};

static void
err_cb(void *ctx, const char *path, const char *text)
{
	struct s3_err *e = ctx;

	if (strcmp(path, "Error/Code") == 0)
		snprintf(e->code, sizeof e->code, "%s", text);
	else if (strcmp(path, "Error/Message") == 0)
		snprintf(e->msg, sizeof e->msg, "%s", text);
	else if (strcmp(path, "Error/Region") == 0)
		snprintf(e->region, sizeof e->region, "%s", text);
}

static void
parse_error(const struct http_resp *rs, struct s3_err *e)
{
	memset(e, 0, sizeof *e);
	if (rs->body != NULL && rs->body_len > 0)
		(void)xml_walk(rs->body, rs->body_len, err_cb, e);
	if (e->code[0] == '\0')
		snprintf(e->code, sizeof e->code, "HTTP %ld", rs->status);
}

static const char *
where_bucket(const struct s3 *s)
{
	return s->l.access_point ? s->l.host : s->l.bucket;
}

/*
 * Sends one call, signed afresh each try, retrying what may pass later.
 * Returns BE_OK with rs holding the 2xx response (free it), or a BE_*
 * code with b.err set and rs freed.
 */
static int
do_call(struct s3 *s, const struct call *c, struct http_resp *rs)
{
	char host[768], url[4096], hdrs[SIGV4_NHDR][SIGV4_HDR_MAX];
	char cerr[512], hosth[800];
	const char *all[NHDR + SIGV4_NHDR + 1];
	struct sigv4_req sr;
	struct http_req rq;
	struct awscred cr;
	struct s3_err e;
	char *path = NULL;
	int attempt, rc, nh, code, expired_retry = 0;
	size_t i, na;

	if (target(s, c->key, host, sizeof host, &path) < 0)
		return set_err(s, BE_TEMP, "out of memory");
	snprintf(url, sizeof url, "%s://%s%s%s%s", s->l.scheme, host, path,
	    c->query != NULL && *c->query != '\0' ? "?" : "",
	    c->query != NULL ? c->query : "");
	snprintf(hosth, sizeof hosth, "Host: %s", host);
	for (attempt = 1;; attempt++) {
		if ((code = awscred_get(s->cred, &cr, cerr, sizeof cerr)) != 0) {
			free(path);
			return set_err(s, code == 100 ? BE_PERM : BE_TEMP,
			    "s3://%s: no credentials: %s", where_bucket(s),
			    cerr);
		}
		if (!s->said_source) {
			pthread_mutex_lock(&s->mu);
			if (!s->said_source)
				log_info("credentials from %s", cr.source);
			s->said_source = 1;
			pthread_mutex_unlock(&s->mu);
		}
		memset(&sr, 0, sizeof sr);
		sr.method = c->method;
		sr.host = host;
		sr.path = path;
		sr.query = c->query;
		sr.headers = c->xh;
		sr.nheaders = c->nxh;
		sr.payload_hash = c->payload_hash != NULL ? c->payload_hash :
		    SIGV4_EMPTY_SHA256;
		sr.region = s->l.region;
		sr.service = "s3";
		sr.access_key = cr.access_key;
		sr.secret_key = cr.secret_key;
		sr.session_token = cr.token[0] != '\0' ? cr.token : NULL;
		sr.when = time(NULL);
		nh = sigv4_sign(&sr, hdrs);
		explicit_bzero(&cr, sizeof cr);
		if (nh < 0) {
			free(path);
			return set_err(s, BE_PERM, "%s: unable to sign the "
			    "request: %s", c->what, strerror(errno));
		}
		na = 0;
		all[na++] = hosth;
		for (i = 0; i < c->nxh; i++)
			all[na++] = c->xh[i];
		for (i = 0; i < (size_t)nh; i++)
			all[na++] = hdrs[i];
		memset(&rq, 0, sizeof rq);
		rq.method = c->method;
		rq.url = url;
		rq.headers = all;
		rq.nheaders = na;
		rq.body = c->body;
		rq.body_fd = c->body_fd;
		rq.body_off = c->body_off;
		rq.body_len = c->body_len;
		rq.sink = c->sink;
		rq.sink_ctx = c->sink_ctx;
		rq.max_body = c->max_body;
		memcpy(rq.want, c->want, sizeof rq.want);
		rc = http_do(s->http, &rq, rs);
		explicit_bzero(hdrs, sizeof hdrs);
		if (rc == 0 && rs->status >= 200 && rs->status < 300) {
			free(path);
			return BE_OK;
		}
		if (c->region_probe) {
			free(path);
			return BE_TEMP;
		}
		if (rc == 0)
			parse_error(rs, &e);
		else {
			memset(&e, 0, sizeof e);
			snprintf(e.code, sizeof e.code, "%s", rs->err);
		}
		if (rc == 0 && (strcmp(e.code, "ExpiredToken") == 0 ||
		    strcmp(e.code, "TokenRefreshRequired") == 0) &&
		    !expired_retry) {
			awscred_expire(s->cred);
			expired_retry = 1;
			http_resp_free(rs);
			attempt--;
			continue;
		}
		if (rs->sink_stopped) {
			http_resp_free(rs);
			free(path);
			return set_err(s, BE_TEMP, "%s: the receiver stopped",
			    c->what);
		}
		if ((http_temporary(rc, rs) || strcmp(e.code,
		    "RequestTimeout") == 0) && attempt < ATTEMPTS &&
		    c->sink == NULL) {
			log_warn("%s: %s%s%s, trying again", c->what, e.code,
			    e.msg[0] ? ": " : "", e.msg);
			http_resp_free(rs);
			http_backoff(attempt, 250, 8000);
			continue;
		}
		break;
	}
	free(path);
	if (rc < 0 && rs->tls_refused) {
		set_err(s, BE_PERM, "%s: TLS: %s (see ca-file and skip-verify)",
		    c->what, rs->err);
		http_resp_free(rs);
		return BE_PERM;
	}
	if (rc < 0 || http_temporary(rc, rs) ||
	    strcmp(e.code, "RequestTimeout") == 0 ||
	    strcmp(e.code, "BadDigest") == 0 ||
	    strcmp(e.code, "XAmzContentSHA256Mismatch") == 0)
		code = BE_TEMP;
	else if (rs->status == 404 && (strcmp(e.code, "NoSuchKey") == 0 ||
	    strcmp(e.code, "HTTP 404") == 0))
		code = BE_NOENT;
	else
		code = BE_PERM;
	if (code == BE_PERM && strcmp(e.code, "NoSuchBucket") == 0)
		set_err(s, code, "s3://%s: no such bucket (NoSuchBucket)",
		    where_bucket(s));
	else if (code == BE_PERM && (rs->status == 301 ||
	    strcmp(e.code, "AuthorizationHeaderMalformed") == 0) &&
	    e.region[0] != '\0')
		set_err(s, code, "s3://%s: the bucket is in region %s, not %s "
		    "(%s)", where_bucket(s), e.region, s->l.region, e.code);
	else if (code == BE_PERM)
		set_err(s, code, "s3://%s: %s refused: %s%s%s", where_bucket(s),
		    c->what, e.code, e.msg[0] ? ": " : "", e.msg);
	else
		set_err(s, code, "%s: %s%s%s", c->what, e.code,
		    e.msg[0] ? ": " : "", e.msg);
	http_resp_free(rs);
	return code;
}

static int
full_key(const struct s3 *s, const char *name, char *buf, size_t len)
{
	int n = s->l.prefix[0] != '\0' ?
	    snprintf(buf, len, "%s/%s", s->l.prefix, name) :
	    snprintf(buf, len, "%s", name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Hex SHA-256 of size bytes of fd from off. */
static int
hash_fd(int fd, uint64_t off, uint64_t size, char out[65])
{
	unsigned char d[32];

	if (enc_digest_fd(ENC_SHA256, fd, off, size, d) < 0)
		return -1;
	enc_hex(d, sizeof d, out);
	return 0;
}

/* The headers a new object carries: storage class, encryption. */
static size_t
object_headers(const struct s3 *s, const char **xh, char buf[3][320])
{
	size_t n = 0;

	if (s->storage_class != NULL) {
		snprintf(buf[n], sizeof buf[n], "x-amz-storage-class: %s",
		    s->storage_class);
		xh[n] = buf[n];
		n++;
	}
	if (s->sse != NULL) {
		snprintf(buf[n], sizeof buf[n],
		    "x-amz-server-side-encryption: %s", s->sse);
		xh[n] = buf[n];
		n++;
		if (s->sse_kms != NULL) {
			snprintf(buf[n], sizeof buf[n], "x-amz-server-side-"
			    "encryption-aws-kms-key-id: %s", s->sse_kms);
			xh[n] = buf[n];
			n++;
		}
	}
	return n;
}

/* ---- multipart ---- */

struct upload_id {
	char	id[1024];
};

static void
upload_cb(void *ctx, const char *path, const char *text)
{
	struct upload_id *u = ctx;

	if (strcmp(path, "InitiateMultipartUploadResult/UploadId") == 0)
		snprintf(u->id, sizeof u->id, "%s", text);
}

struct mpu {
	struct s3	*s;
	const char	*key;
	char		*eid;		/* encoded upload id */
	int		fd;
	uint64_t	size, part;
	unsigned	nparts;
	char		(*etag)[128];
};

static int
put_part(void *arg, unsigned k)
{
	struct mpu *m = arg;
	struct http_resp rs;
	struct call c;
	char q[1200], hash[65], what[1300];
	int rc;

	memset(&c, 0, sizeof c);
	c.method = "PUT";
	c.key = m->key;
	snprintf(q, sizeof q, "partNumber=%u&uploadId=%s", k + 1, m->eid);
	c.query = q;
	snprintf(what, sizeof what, "PUT %s part %u", m->key, k + 1);
	c.what = what;
	c.body_fd = m->fd;
	c.body_off = (uint64_t)k * m->part;
	c.body_len = m->size - c.body_off < m->part ?
	    m->size - c.body_off : m->part;
	if (hash_fd(m->fd, c.body_off, c.body_len, hash) < 0)
		return set_err(m->s, BE_TEMP, "%s: reading: %s", what,
		    strerror(errno));
	c.payload_hash = hash;
	c.want[0] = "ETag";
	if ((rc = do_call(m->s, &c, &rs)) != BE_OK)
		return rc == BE_NOENT ? BE_TEMP : rc;
	if (rs.hdr[0] == NULL || strlen(rs.hdr[0]) >= 128) {
		http_resp_free(&rs);
		return set_err(m->s, BE_TEMP, "%s: no ETag in the answer", what);
	}
	snprintf(m->etag[k], 128, "%s", rs.hdr[0]);
	http_resp_free(&rs);
	return BE_OK;
}

static void
complete_cb(void *ctx, const char *path, const char *text)
{
	struct s3_err *e = ctx;

	(void)text;
	if (strcmp(path, "CompleteMultipartUploadResult") == 0)
		e->region[0] = 'y';	/* the success element was seen */
	err_cb(ctx, path, text);
}

static int
put_multipart(struct s3 *s, const char *key, int fd, uint64_t size)
{
	struct mpu m;
	struct upload_id u;
	struct http_resp rs;
	struct call c;
	struct s3_err e;
	char what[1300], q[1200], ob[3][320], hash[65];
	char *body = NULL, *p;
	size_t cap, len;
	unsigned i;
	int rc;

	memset(&m, 0, sizeof m);
	m.s = s;
	m.key = key;
	m.fd = fd;
	m.size = size;
	m.part = s->part_size;
	m.nparts = (unsigned)((size + m.part - 1) / m.part);
	if (m.nparts > 10000) {
		/* S3 allows 10000 parts: grow them for a huge object. */
		m.part = (size + 9999) / 10000;
		m.nparts = (unsigned)((size + m.part - 1) / m.part);
	}
	snprintf(what, sizeof what, "POST %s?uploads", key);
	memset(&c, 0, sizeof c);
	c.method = "POST";
	c.key = key;
	c.query = "uploads=";
	c.what = what;
	c.body_fd = -1;
	c.nxh = object_headers(s, c.xh, ob);
	if ((rc = do_call(s, &c, &rs)) != BE_OK)
		return rc;
	memset(&u, 0, sizeof u);
	if (rs.body == NULL || xml_walk(rs.body, rs.body_len, upload_cb, &u) <
	    0 || u.id[0] == '\0') {
		http_resp_free(&rs);
		return set_err(s, BE_TEMP, "%s: no UploadId in the answer", what);
	}
	http_resp_free(&rs);
	if ((m.eid = sigv4_uri_encode(u.id, 0)) == NULL ||
	    (m.etag = calloc(m.nparts, sizeof *m.etag)) == NULL) {
		rc = set_err(s, BE_TEMP, "out of memory");
		goto abort;
	}
	if ((rc = http_parallel(m.nparts, s->concurrency, put_part, &m)) != 0)
		goto abort;
	/* CompleteMultipartUpload */
	cap = 128 + (size_t)m.nparts * 200;
	if ((body = malloc(cap)) == NULL) {
		rc = set_err(s, BE_TEMP, "out of memory");
		goto abort;
	}
	p = body;
	p += sprintf(p, "<CompleteMultipartUpload>");
	for (i = 0; i < m.nparts; i++) {
		char *et = xml_escape(m.etag[i]);

		if (et == NULL) {
			rc = set_err(s, BE_TEMP, "out of memory");
			goto abort;
		}
		p += sprintf(p, "<Part><PartNumber>%u</PartNumber><ETag>%s"
		    "</ETag></Part>", i + 1, et);
		free(et);
	}
	p += sprintf(p, "</CompleteMultipartUpload>");
	len = (size_t)(p - body);
	sigv4_sha256_hex(body, len, hash);
	snprintf(q, sizeof q, "uploadId=%s", m.eid);
	snprintf(what, sizeof what, "POST %s?uploadId (complete)", key);
	memset(&c, 0, sizeof c);
	c.method = "POST";
	c.key = key;
	c.query = q;
	c.what = what;
	c.body = body;
	c.body_fd = -1;
	c.body_len = len;
	c.payload_hash = hash;
	c.xh[c.nxh++] = "Content-Type: application/xml";
	if ((rc = do_call(s, &c, &rs)) != BE_OK)
		goto abort;
	/* A 200 may still carry an error, sent once the work was done. */
	memset(&e, 0, sizeof e);
	if (rs.body == NULL || xml_walk(rs.body, rs.body_len, complete_cb,
	    &e) < 0 || e.code[0] != '\0' || e.region[0] != 'y') {
		rc = set_err(s, BE_TEMP, "%s: %s", what, e.code[0] ? e.code :
		    "no CompleteMultipartUploadResult in the answer");
		http_resp_free(&rs);
		goto abort;
	}
	http_resp_free(&rs);
	free(body);
	free(m.etag);
	free(m.eid);
	return BE_OK;
abort:
	free(body);
	free(m.etag);
	if (m.eid != NULL) {
		char keep[sizeof s->b.err];

		/* Abandoned parts cost storage until aborted. */
		memcpy(keep, s->b.err, sizeof keep);
		snprintf(q, sizeof q, "uploadId=%s", m.eid);
		snprintf(what, sizeof what, "DELETE %s?uploadId (abort)", key);
		memset(&c, 0, sizeof c);
		c.method = "DELETE";
		c.key = key;
		c.query = q;
		c.what = what;
		c.body_fd = -1;
		if (do_call(s, &c, &rs) == BE_OK)
			http_resp_free(&rs);
		else
			log_warn("%s", s->b.err);
		memcpy(s->b.err, keep, sizeof keep);
		free(m.eid);
	}
	return rc;
}

/* ---- operations ---- */

static int
s3_put(struct backend *b, const char *name, int fd, uint64_t size,
    int64_t mtime_ns)
{
	struct s3 *s = (struct s3 *)b;
	struct http_resp rs;
	struct call c;
	char key[1200], what[1300], hash[65], ob[3][320];
	int rc;

	(void)mtime_ns;		/* S3 sets LastModified itself */
	if (full_key(s, name, key, sizeof key) < 0)
		return set_err(s, BE_PERM, "%s: name too long", name);
	if (size > s->part_size)
		return put_multipart(s, key, fd, size);
	snprintf(what, sizeof what, "PUT %s", key);
	if (hash_fd(fd, 0, size, hash) < 0)
		return set_err(s, BE_TEMP, "%s: reading: %s", what,
		    strerror(errno));
	memset(&c, 0, sizeof c);
	c.method = "PUT";
	c.key = key;
	c.what = what;
	c.body_fd = fd;
	c.body_len = size;
	c.payload_hash = hash;
	c.nxh = object_headers(s, c.xh, ob);
	if ((rc = do_call(s, &c, &rs)) == BE_OK)
		http_resp_free(&rs);
	return rc == BE_NOENT ? BE_PERM : rc;
}

/* One try of a GET, for cloud_get. */
struct get_try {
	struct s3	*s;
	const char	*key, *what;
};

static int
get_send(void *arg, struct http_resume *r, struct http_resp *rs)
{
	struct get_try *t = arg;
	struct call c;
	char range[64];

	memset(&c, 0, sizeof c);
	c.method = "GET";
	c.key = t->key;
	c.what = t->what;
	c.body_fd = -1;
	c.sink = http_resume_sink;
	c.sink_ctx = r;
	c.want[0] = "Content-Range";
	if (r->delivered > 0) {
		snprintf(range, sizeof range, "Range: bytes=%llu-",
		    (unsigned long long)r->delivered);
		c.xh[c.nxh++] = range;
	}
	return do_call(t->s, &c, rs);
}

static int
s3_get(struct backend *b, const char *name, backend_sink sink, void *ctx)
{
	struct s3 *s = (struct s3 *)b;
	struct get_try t = { s, NULL, NULL };
	char key[1200], what[1300];

	if (full_key(s, name, key, sizeof key) < 0)
		return set_err(s, BE_PERM, "%s: name too long", name);
	snprintf(what, sizeof what, "GET %s", key);
	t.key = key;
	t.what = what;
	/* A transfer cut short goes on from where it stopped. */
	return cloud_get(b, what, sink, ctx, get_send, &t);
}

struct list_ctx {
	struct s3		*s;
	size_t			strip;		/* root prefix and '/' */
	backend_list_cb		cb;
	void			*ctx;
	struct backend_obj	o;
	char			key[1200];
	int			keep, truncated, stop;
	char			*next;
};

static void
list_cb(void *arg, const char *path, const char *text)
{
	struct list_ctx *l = arg;

	if (l->stop)
		return;
	if (strcmp(path, "ListBucketResult/Contents/Key") == 0) {
		snprintf(l->key, sizeof l->key, "%s", text);
		l->keep = strlen(text) > l->strip &&
		    strlen(text) - l->strip < NAME_LEN;
		if (l->keep)
			snprintf(l->o.name, sizeof l->o.name, "%s",
			    text + l->strip);
	} else if (strcmp(path, "ListBucketResult/Contents/Size") == 0)
		l->o.size = strtoull(text, NULL, 10);
	else if (strcmp(path, "ListBucketResult/Contents/LastModified") == 0) {
		if (restore_parse_time(text, &l->o.mtime_ns) < 0)
			l->o.mtime_ns = 0;
	} else if (strcmp(path, "ListBucketResult/Contents") == 0) {
		if (l->keep && (l->stop = l->cb(l->ctx, &l->o)) != 0)
			return;
		memset(&l->o, 0, sizeof l->o);
		l->keep = 0;
	} else if (strcmp(path, "ListBucketResult/IsTruncated") == 0)
		l->truncated = strcmp(text, "true") == 0;
	else if (strcmp(path, "ListBucketResult/NextContinuationToken") == 0) {
		free(l->next);
		l->next = strdup(text);
	}
}

static int
s3_list(struct backend *b, const char *prefix, backend_list_cb cb, void *ctx)
{
	struct s3 *s = (struct s3 *)b;
	struct list_ctx l;
	struct http_resp rs;
	struct call c;
	char full[1200], what[1300], *ep = NULL, *et = NULL, *q = NULL;
	int rc = BE_OK, pages;

	if (full_key(s, prefix, full, sizeof full) < 0)
		return set_err(s, BE_PERM, "%s: prefix too long", prefix);
	memset(&l, 0, sizeof l);
	l.s = s;
	l.strip = s->l.prefix[0] != '\0' ? strlen(s->l.prefix) + 1 : 0;
	l.cb = cb;
	l.ctx = ctx;
	if ((ep = sigv4_uri_encode(full, 0)) == NULL)
		return set_err(s, BE_TEMP, "out of memory");
	snprintf(what, sizeof what, "LIST %s", full);
	for (pages = 0; pages < 1000000; pages++) {
		free(q);
		q = NULL;
		if (l.next != NULL) {
			free(et);
			if ((et = sigv4_uri_encode(l.next, 0)) == NULL ||
			    asprintf(&q, "continuation-token=%s&list-type=2&"
			    "prefix=%s", et, ep) < 0) {
				q = NULL;
				rc = set_err(s, BE_TEMP, "out of memory");
				break;
			}
		} else if (asprintf(&q, "list-type=2&prefix=%s", ep) < 0) {
			q = NULL;
			rc = set_err(s, BE_TEMP, "out of memory");
			break;
		}
		free(l.next);
		l.next = NULL;
		memset(&c, 0, sizeof c);
		c.method = "GET";
		c.query = q;
		c.what = what;
		c.body_fd = -1;
		c.max_body = 64 << 20;
		if ((rc = do_call(s, &c, &rs)) != BE_OK) {
			if (rc == BE_NOENT)
				rc = set_err(s, BE_PERM, "s3://%s: no such "
				    "bucket", where_bucket(s));
			break;
		}
		l.truncated = 0;
		if (rs.truncated || rs.body == NULL ||
		    xml_walk(rs.body, rs.body_len, list_cb, &l) < 0) {
			http_resp_free(&rs);
			rc = set_err(s, BE_TEMP, "%s: unreadable answer", what);
			break;
		}
		http_resp_free(&rs);
		if (l.stop) {
			rc = l.stop;
			break;
		}
		if (!l.truncated)
			break;
		if (l.next == NULL || *l.next == '\0') {
			rc = set_err(s, BE_TEMP, "%s: truncated listing without "
			    "a continuation token", what);
			break;
		}
	}
	free(l.next);
	free(q);
	free(ep);
	free(et);
	return rc;
}

struct del_ctx {
	char	key[1024], code[64];
	int	errors;
};

static void
del_cb(void *arg, const char *path, const char *text)
{
	struct del_ctx *d = arg;

	if (strcmp(path, "DeleteResult/Error/Key") == 0 && d->errors == 0)
		snprintf(d->key, sizeof d->key, "%s", text);
	else if (strcmp(path, "DeleteResult/Error/Code") == 0 &&
	    d->errors == 0)
		snprintf(d->code, sizeof d->code, "%s", text);
	else if (strcmp(path, "DeleteResult/Error") == 0)
		d->errors++;
}

static int
delete_batch(struct s3 *s, const char *const *names, size_t n)
{
	struct http_resp rs;
	struct del_ctx d;
	struct call c;
	char key[1200], hash[65], md5h[64], b64[32];
	unsigned char md5[16];
	br_md5_context mc;
	char *body, *p, *ek;
	size_t i, cap = 128;
	int rc;

	for (i = 0; i < n; i++)
		cap += 64 + 6 * (strlen(s->l.prefix) + strlen(names[i]) + 1);
	if ((body = malloc(cap)) == NULL)
		return set_err(s, BE_TEMP, "out of memory");
	p = body;
	p += sprintf(p, "<Delete><Quiet>true</Quiet>");
	for (i = 0; i < n; i++) {
		if (full_key(s, names[i], key, sizeof key) < 0 ||
		    (ek = xml_escape(key)) == NULL) {
			free(body);
			return set_err(s, BE_TEMP, "out of memory");
		}
		p += sprintf(p, "<Object><Key>%s</Key></Object>", ek);
		free(ek);
	}
	p += sprintf(p, "</Delete>");
	sigv4_sha256_hex(body, (size_t)(p - body), hash);
	br_md5_init(&mc);
	br_md5_update(&mc, body, (size_t)(p - body));
	br_md5_out(&mc, md5);
	enc_base64(md5, sizeof md5, b64);
	snprintf(md5h, sizeof md5h, "Content-MD5: %s", b64);
	memset(&c, 0, sizeof c);
	c.method = "POST";
	c.query = "delete=";
	c.what = "POST ?delete";
	c.body = body;
	c.body_fd = -1;
	c.body_len = (uint64_t)(p - body);
	c.payload_hash = hash;
	c.xh[c.nxh++] = md5h;
	c.xh[c.nxh++] = "Content-Type: application/xml";
	rc = do_call(s, &c, &rs);
	free(body);
	if (rc != BE_OK)
		return rc == BE_NOENT ? BE_TEMP : rc;
	memset(&d, 0, sizeof d);
	if (rs.body != NULL && rs.body_len > 0 &&
	    xml_walk(rs.body, rs.body_len, del_cb, &d) < 0)
		d.errors = -1;
	http_resp_free(&rs);
	if (d.errors < 0)
		return set_err(s, BE_TEMP, "POST ?delete: unreadable answer");
	if (d.errors > 0)
		return set_err(s, BE_TEMP, "POST ?delete: %d objects not "
		    "deleted, first %s: %s", d.errors, d.key, d.code);
	return BE_OK;
}

static int
s3_remove(struct backend *b, const char *const *names, size_t n)
{
	struct s3 *s = (struct s3 *)b;
	size_t i, k;
	int rc;

	for (i = 0; i < n; i += k) {
		k = n - i < DELETE_BATCH ? n - i : DELETE_BATCH;
		if ((rc = delete_batch(s, names + i, k)) != BE_OK)
			return rc;
	}
	return BE_OK;
}

static void
s3_close(struct backend *b)
{
	struct s3 *s = (struct s3 *)b;

	awscred_free(s->cred);
	http_free(s->http);
	pthread_mutex_destroy(&s->mu);
	free(s->b.where);
	free(s->opt_copy[0]);
	free(s->opt_copy[1]);
	free(s->opt_copy[2]);
	free(s);
}

static const struct backend_ops s3_ops = {
	.scheme = "s3",
	.shared = 1,
	.put = s3_put,
	.get = s3_get,
	.list = s3_list,
	.remove = s3_remove,
	.close = s3_close,
};

struct loc_ctx {
	char	region[64];
	int	seen;
};

static void
loc_cb(void *arg, const char *path, const char *text)
{
	struct loc_ctx *l = arg;

	if (strcmp(path, "LocationConstraint") == 0) {
		l->seen = 1;
		snprintf(l->region, sizeof l->region, "%s", text);
	}
}

/*
 * The bucket's region, when neither the settings nor the URL said:
 * GetBucketLocation (signed for us-east-1, which any region accepts for
 * it); else the x-amz-bucket-region header S3 sends even with a refusal;
 * else us-east-1. A lookup that fails for want of an answer (network,
 * 5xx) fails the open with 111: guessing would turn into a refusal.
 */
static int
find_region(struct s3 *s)
{
	struct http_resp rs;
	struct loc_ctx lc;
	struct call c;
	char saved_host[sizeof s->l.host];
	int path_style = s->l.path_style, rc, code = BE_OK;

	snprintf(s->l.region, sizeof s->l.region, "us-east-1");
	memcpy(saved_host, s->l.host, sizeof saved_host);
	if (s->l.host[0] == '\0') {
		snprintf(s->l.host, sizeof s->l.host, "s3.amazonaws.com");
		s->l.path_style = 1;
	}
	memset(&c, 0, sizeof c);
	c.method = "GET";
	c.query = "location=";
	c.what = "GET ?location";
	c.body_fd = -1;
	c.region_probe = 1;
	c.want[0] = "x-amz-bucket-region";
	memset(&lc, 0, sizeof lc);
	memset(&rs, 0, sizeof rs);
	s->b.err[0] = '\0';
	rc = do_call(s, &c, &rs);
	if (rc == BE_OK) {
		if (rs.body != NULL && xml_walk(rs.body, rs.body_len, loc_cb,
		    &lc) == 0 && lc.seen)
			snprintf(s->l.region, sizeof s->l.region, "%s",
			    lc.region[0] == '\0' ? "us-east-1" :
			    strcmp(lc.region, "EU") == 0 ? "eu-west-1" :
			    lc.region);
	} else if (rs.hdr[0] != NULL && rs.hdr[0][0] != '\0')
		snprintf(s->l.region, sizeof s->l.region, "%s", rs.hdr[0]);
	else if (s->b.err[0] != '\0')
		code = rc;	/* no credentials: said in b.err */
	else if (rs.status == 0 || rs.status >= 500)
		code = set_err(s, rs.tls_refused ? BE_PERM : BE_TEMP,
		    "s3://%s: unable to look up the bucket's region (%s%s); "
		    "set region to go on without", s->l.bucket,
		    rs.tls_refused ? "TLS: " : "",
		    rs.status == 0 ? rs.err : "server error");
	http_resp_free(&rs);
	memcpy(s->l.host, saved_host, sizeof saved_host);
	s->l.path_style = path_style;
	if (code == BE_OK)
		log_info("s3://%s: region %s", s->l.bucket, s->l.region);
	return code;
}

struct backend *
s3_open(const char *url, const struct bopts *o, char *err, size_t errlen,
    int *code)
{
	struct http_opts ho;
	struct s3 *s;
	const char *akid, *v;
	char *secret = NULL, serr[256] = "";

	*code = 100;
	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		*code = 111;
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->b.ops = &s3_ops;
	if (s3_check(url, o, err, errlen) < 0 ||
	    s3_parse(url, o, &s->l, err, errlen) < 0)
		goto fail;
	s->part_size = bopt_size(o, "part-size", S3_PART_DEFAULT);
	v = bopt_get(o, "concurrency");
	s->concurrency = v != NULL ? atoi(v) : 5;
	if (s->concurrency < 1)
		s->concurrency = 1;
	if ((v = bopt_get(o, "storage-class")) != NULL)
		s->storage_class = s->opt_copy[0] = strdup(v);
	if ((v = bopt_get(o, "sse")) != NULL)
		s->sse = s->opt_copy[1] = strdup(v);
	if ((v = bopt_get(o, "sse-kms-key-id")) != NULL)
		s->sse_kms = s->opt_copy[2] = strdup(v);
	memset(&ho, 0, sizeof ho);
	ho.skip_verify = bopt_bool(o, "skip-verify", 0);
	ho.ca_file = bopt_get(o, "ca-file");
	ho.stall_s = (int)(bopt_dur(o, "timeout", 30000) / 1000);
	if (ho.stall_s < 1)
		ho.stall_s = 1;
	if (ho.skip_verify)
		log_warn("skip-verify: TLS certificates of %s are not checked",
		    url);
	/* LS_SECRET_ACCESS_KEY alone, left in an environment, is not a
	 * half-given key pair: only with access-key-id does it count. */
	akid = bopt_get(o, "access-key-id");
	secret = akid != NULL || bopt_get(o, "secret-access-key-file") != NULL ?
	    bopt_secret(o, "secret-access-key", serr, sizeof serr) : NULL;
	if (secret == NULL && serr[0] != '\0') {
		snprintf(err, errlen, "%s", serr);
		goto fail;
	}
	if ((akid == NULL) != (secret == NULL)) {
		snprintf(err, errlen, "%s: access-key-id and secret-access-key "
		    "go together", url);
		goto fail;
	}
	if ((s->http = http_new(&ho)) == NULL ||
	    (s->cred = awscred_new(s->http, akid, secret,
	    s->l.region[0] ? s->l.region : NULL, o->env)) == NULL ||
	    (s->b.where = strdup(url)) == NULL) {
		snprintf(err, errlen, "out of memory");
		*code = 111;
		goto fail;
	}
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
		secret = NULL;
	}
	if (s->l.region[0] == '\0' && (*code = find_region(s)) != BE_OK) {
		snprintf(err, errlen, "%s", s->b.err);
		s3_close(&s->b);
		return NULL;
	}
	return &s->b;
fail:
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	s3_close(&s->b);
	return NULL;
}
