/*
 * gcs: objects in a Google Cloud Storage bucket under a root prefix, over
 * the JSON API. A put is one multipart upload whose metadata carries the
 * body's MD5, which the service checks, or above part-size a resumable
 * upload: the bytes go straight from the spool file, a cut connection asks
 * the session how far it got and goes on from there, and the object
 * appears only when its last byte is in. The service's answer must give
 * the MD5 and size sent, or the put failed. Listing pages with pageToken.
 *
 * Tokens come from common/gcpauth.c (Application Default Credentials);
 * with STORAGE_EMULATOR_HOST, as Google's clients do, requests go in plain
 * HTTP to the emulator without any.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "backend.h"
#include "bopt.h"
#include "cloud.h"
#include "enc.h"
#include "gcpauth.h"
#include "gcs.h"
#include "http.h"
#include "log.h"
#include "restore.h"

#define ATTEMPTS	CLOUD_ATTEMPTS
#define NHDR		8
#define BOUNDARY	"ls-gcs-6f1c0b7e2d"

struct gcs {
	struct backend		b;
	struct gcs_loc		l;
	struct http		*http;
	struct gcptoken_chain	*tok;
	int			said_source;
	pthread_mutex_t		mu;
	uint64_t		part;
};

static int set_err(struct gcs *g, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
set_err(struct gcs *g, int code, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g->mu);
	va_start(ap, fmt);
	vsnprintf(g->b.err, sizeof g->b.err, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&g->mu);
	return code;
}

/* ---- requests ---- */

struct call {
	const char		*method;
	const char		*url;
	const char		*what;
	const char		*xh[NHDR];
	size_t			nxh;
	const void		*body;
	int			body_fd;
	uint64_t		body_off, body_len;
	http_sink		sink;
	void			*sink_ctx;
	size_t			max_body;
	const char		*want[HTTP_MAX_WANT];
	int			no_retry;	/* the caller handles it */
};

/* The message of a JSON error answer, or of a plain-text one. */
static void
error_text(const struct http_resp *rs, char *out, size_t len)
{
	json_t *j, *m;
	size_t n;

	out[0] = '\0';
	if (rs->body == NULL || rs->body_len == 0)
		return;
	if ((j = json_loadb(rs->body, rs->body_len, 0, NULL)) != NULL) {
		m = json_object_get(json_object_get(j, "error"), "message");
		if (json_is_string(m))
			snprintf(out, len, "%s", json_string_value(m));
		json_decref(j);
		return;
	}
	n = strcspn(rs->body, "\r\n");
	snprintf(out, len, "%.*s", (int)(n < 200 ? n : 200), rs->body);
}

/* One try: adds the token, sends. As http_do. */
static int
send_once(struct gcs *g, const struct call *c, struct http_resp *rs,
    int *code)
{
	char *auth = NULL, src[256], terr[512];
	const char *all[NHDR + 2];
	struct http_req rq;
	size_t i, na = 0;
	int rc;

	*code = 0;
	if (!g->l.emulator) {
		if ((auth = malloc(8192)) == NULL) {
			*code = set_err(g, BE_TEMP, "out of memory");
			return -1;
		}
		memcpy(auth, "Authorization: Bearer ", 22);
		rc = gcptoken_get(g->tok, auth + 22, 8192 - 22, src, sizeof src,
		    terr, sizeof terr);
		if (rc != 0) {
			free(auth);
			*code = set_err(g, rc == 100 ? BE_PERM : BE_TEMP,
			    "gs://%s: no token: %s", g->l.bucket, terr);
			return -1;
		}
		if (!g->said_source) {
			pthread_mutex_lock(&g->mu);
			if (!g->said_source)
				log_info("credentials from %s", src);
			g->said_source = 1;
			pthread_mutex_unlock(&g->mu);
		}
		all[na++] = auth;
	}
	for (i = 0; i < c->nxh; i++)
		all[na++] = c->xh[i];
	memset(&rq, 0, sizeof rq);
	rq.method = c->method;
	rq.url = c->url;
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
	rc = http_do(g->http, &rq, rs);
	if (auth != NULL) {
		explicit_bzero(auth, 8192);
		free(auth);
	}
	return rc;
}

/*
 * Sends one call, retrying what may pass later. Returns BE_OK with rs
 * holding the 2xx (or, with no_retry, any) response (free it), or a BE_*
 * code with b.err set and rs freed.
 */
static int
do_call(struct gcs *g, const struct call *c, struct http_resp *rs)
{
	char msg[256];
	int attempt, rc, code, token_retry = 0;

	for (attempt = 1;; attempt++) {
		rc = send_once(g, c, rs, &code);
		if (code != 0)
			return code;
		if (rc == 0 && ((rs->status >= 200 && rs->status < 300) ||
		    c->no_retry))
			return BE_OK;
		if (rc == 0 && rs->status == 401 && !g->l.emulator &&
		    !token_retry) {
			gcptoken_expire(g->tok);
			token_retry = 1;
			http_resp_free(rs);
			attempt--;
			continue;
		}
		if (rc == 0)
			error_text(rs, msg, sizeof msg);
		else
			snprintf(msg, sizeof msg, "%s", rs->err);
		if (rs->sink_stopped) {
			http_resp_free(rs);
			return set_err(g, BE_TEMP, "%s: the receiver stopped",
			    c->what);
		}
		if (http_temporary(rc, rs) && attempt < ATTEMPTS &&
		    c->sink == NULL) {
			if (rc == 0)
				log_warn("%s: %ld %s, trying again", c->what,
				    rs->status, msg);
			else
				log_warn("%s: %s, trying again", c->what, msg);
			http_resp_free(rs);
			http_backoff(attempt, 250, 8000);
			continue;
		}
		break;
	}
	if (rc < 0 && rs->tls_refused)
		code = set_err(g, BE_PERM, "%s: TLS: %s (see ca-file and "
		    "skip-verify)", c->what, rs->err);
	else if (http_temporary(rc, rs))
		code = rc < 0 ? set_err(g, BE_TEMP, "%s: %s", c->what, msg) :
		    set_err(g, BE_TEMP, "%s: %ld %s", c->what, rs->status, msg);
	else if (rs->status == 404)
		code = set_err(g, BE_NOENT, "%s: 404 %s", c->what, msg);
	else
		code = set_err(g, BE_PERM, "gs://%s: %s refused: %ld %s",
		    g->l.bucket, c->what, rs->status, msg);
	http_resp_free(rs);
	return code;
}

static int
full_name(const struct gcs *g, const char *name, char *buf, size_t len)
{
	int n = g->l.prefix[0] != '\0' ?
	    snprintf(buf, len, "%s/%s", g->l.prefix, name) :
	    snprintf(buf, len, "%s", name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* {"name": NAME, "md5Hash": MD5, "contentType": ...} */
static char *
metadata(const char *name, const char *md5)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "name", name, "md5Hash", md5,
	    "contentType", "application/octet-stream");
	char *s;

	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* The md5Hash of an upload's answer equals want (and size the size). */
static int
answer_ok(const struct http_resp *rs, const char *want, uint64_t size)
{
	json_t *j, *m, *z;
	int ok = 0;

	if (rs->body == NULL ||
	    (j = json_loadb(rs->body, rs->body_len, 0, NULL)) == NULL)
		return 0;
	m = json_object_get(j, "md5Hash");
	z = json_object_get(j, "size");
	if (json_is_string(m) && strcmp(json_string_value(m), want) == 0 &&
	    ((json_is_string(z) && strtoull(json_string_value(z), NULL, 10) ==
	    size) || (json_is_integer(z) &&
	    (uint64_t)json_integer_value(z) == size)))
		ok = 1;
	json_decref(j);
	return ok;
}

static int
put_small(struct gcs *g, const char *name, int fd, uint64_t size,
    const char *md5)
{
	struct http_resp rs;
	struct call c;
	char *meta = NULL, *ename = NULL, *url = NULL, *body = NULL, *p;
	char what[1300];
	size_t len, head;
	ssize_t n;
	uint64_t done;
	int rc;

	snprintf(what, sizeof what, "upload %s", name);
	if ((meta = metadata(name, md5)) == NULL ||
	    (ename = http_escape(name, 0)) == NULL ||
	    asprintf(&url, "%s/upload/storage/v1/b/%s/o?uploadType=multipart"
	    "&name=%s", g->l.endpoint, g->l.bucket, ename) < 0) {
		url = NULL;
		rc = set_err(g, BE_TEMP, "out of memory");
		goto out;
	}
	head = strlen(meta) + 200;
	if ((body = malloc(head + size + 64)) == NULL) {
		rc = set_err(g, BE_TEMP, "out of memory");
		goto out;
	}
	p = body;
	p += sprintf(p, "--" BOUNDARY "\r\nContent-Type: application/json; "
	    "charset=UTF-8\r\n\r\n%s\r\n--" BOUNDARY "\r\nContent-Type: "
	    "application/octet-stream\r\n\r\n", meta);
	for (done = 0; done < size; done += (uint64_t)n) {
		n = pread(fd, p + done, (size_t)(size - done), (off_t)done);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			rc = set_err(g, BE_TEMP, "%s: reading: %s", what,
			    n == 0 ? "short file" : strerror(errno));
			goto out;
		}
	}
	p += size;
	p += sprintf(p, "\r\n--" BOUNDARY "--\r\n");
	len = (size_t)(p - body);
	memset(&c, 0, sizeof c);
	c.method = "POST";
	c.url = url;
	c.what = what;
	c.body = body;
	c.body_fd = -1;
	c.body_len = len;
	c.xh[c.nxh++] = "Content-Type: multipart/related; boundary=" BOUNDARY;
	if ((rc = do_call(g, &c, &rs)) != BE_OK)
		goto out;
	if (!answer_ok(&rs, md5, size))
		rc = set_err(g, BE_TEMP, "%s: the stored object's MD5 or size "
		    "is not the one sent", what);
	http_resp_free(&rs);
out:
	free(meta);
	free(ename);
	free(url);
	free(body);
	return rc == BE_NOENT ? set_err(g, BE_PERM, "gs://%s: no such bucket",
	    g->l.bucket) : rc;
}

/* The end of the persisted range, from a 308's "Range: bytes=0-N". */
static uint64_t
persisted(const struct http_resp *rs)
{
	const char *r = rs->hdr[0], *dash;

	if (r == NULL || (dash = strchr(r, '-')) == NULL)
		return 0;
	return strtoull(dash + 1, NULL, 10) + 1;
}

static int
put_resumable(struct gcs *g, const char *name, int fd, uint64_t size,
    const char *md5)
{
	struct http_resp rs;
	struct call c;
	char *meta = NULL, *ename = NULL, *url = NULL, *session = NULL;
	char what[1300], lenh[64], range[96];
	uint64_t off = 0;
	int rc, tries = 0, hrc, code;

	snprintf(what, sizeof what, "upload %s", name);
	if ((meta = metadata(name, md5)) == NULL ||
	    (ename = http_escape(name, 0)) == NULL ||
	    asprintf(&url, "%s/upload/storage/v1/b/%s/o?uploadType=resumable"
	    "&name=%s", g->l.endpoint, g->l.bucket, ename) < 0) {
		url = NULL;
		rc = set_err(g, BE_TEMP, "out of memory");
		goto out;
	}
	snprintf(lenh, sizeof lenh, "X-Upload-Content-Length: %llu",
	    (unsigned long long)size);
	memset(&c, 0, sizeof c);
	c.method = "POST";
	c.url = url;
	c.what = what;
	c.body = meta;
	c.body_fd = -1;
	c.body_len = strlen(meta);
	c.xh[c.nxh++] = "Content-Type: application/json; charset=UTF-8";
	c.xh[c.nxh++] = "X-Upload-Content-Type: application/octet-stream";
	c.xh[c.nxh++] = lenh;
	c.want[0] = "Location";
	if ((rc = do_call(g, &c, &rs)) != BE_OK)
		goto out;
	if (rs.hdr[0] == NULL || (session = strdup(rs.hdr[0])) == NULL) {
		http_resp_free(&rs);
		rc = set_err(g, BE_TEMP, "%s: no session in the answer", what);
		goto out;
	}
	http_resp_free(&rs);
	snprintf(what, sizeof what, "upload %s (resumable)", name);
	/* The rest goes in one PUT, streamed from the file: the service
	 * keeps what arrived (in 256 KiB steps), so a cut costs only what
	 * the session had not kept yet. */
	for (;;) {
		uint64_t n = size - off;

		memset(&c, 0, sizeof c);
		c.method = "PUT";
		c.url = session;
		c.what = what;
		c.body_fd = fd;
		c.body_off = off;
		c.body_len = n;
		c.want[0] = "Range";
		c.no_retry = 1;
		if (n > 0)
			snprintf(range, sizeof range, "Content-Range: bytes "
			    "%llu-%llu/%llu", (unsigned long long)off,
			    (unsigned long long)(off + n - 1),
			    (unsigned long long)size);
		else
			snprintf(range, sizeof range, "Content-Range: bytes "
			    "*/%llu", (unsigned long long)size);
		c.xh[c.nxh++] = range;
		hrc = send_once(g, &c, &rs, &code);
		if (code != 0) {
			rc = code;
			goto out;
		}
		if (hrc == 0 && (rs.status == 200 || rs.status == 201)) {
			rc = answer_ok(&rs, md5, size) ? BE_OK : set_err(g,
			    BE_TEMP, "%s: the stored object's MD5 or size is "
			    "not the one sent", what);
			http_resp_free(&rs);
			goto out;
		}
		if (hrc == 0 && rs.status == 308) {
			off = persisted(&rs);
			http_resp_free(&rs);
			if (off > size) {
				rc = set_err(g, BE_TEMP, "%s: the session says "
				    "it has more than was sent", what);
				goto out;
			}
			tries = 0;
			continue;
		}
		if (hrc == 0 && (rs.status == 404 || rs.status == 410)) {
			http_resp_free(&rs);
			rc = set_err(g, BE_TEMP, "%s: the upload session "
			    "expired", what);
			goto out;
		}
		if (!http_temporary(hrc, &rs) || ++tries >= ATTEMPTS * 2) {
			char msg[256];

			if (hrc == 0)
				error_text(&rs, msg, sizeof msg);
			rc = set_err(g, http_temporary(hrc, &rs) ? BE_TEMP :
			    BE_PERM, "%s: %s", what, hrc == 0 ? msg : rs.err);
			http_resp_free(&rs);
			goto out;
		}
		/* Cut short: ask the session how far it got, then go on. */
		log_warn("%s: %s, asking how far it got", what,
		    hrc < 0 ? rs.err : "server error");
		http_resp_free(&rs);
		http_backoff(tries, 250, 8000);
		memset(&c, 0, sizeof c);
		c.method = "PUT";
		c.url = session;
		c.what = what;
		c.body_fd = -1;
		c.want[0] = "Range";
		c.no_retry = 1;
		snprintf(range, sizeof range, "Content-Range: bytes */%llu",
		    (unsigned long long)size);
		c.xh[c.nxh++] = range;
		hrc = send_once(g, &c, &rs, &code);
		if (code != 0) {
			rc = code;
			goto out;
		}
		if (hrc == 0 && rs.status == 308)
			off = persisted(&rs);
		else if (hrc == 0 && (rs.status == 200 || rs.status == 201)) {
			rc = answer_ok(&rs, md5, size) ? BE_OK : set_err(g,
			    BE_TEMP, "%s: the stored object's MD5 or size is "
			    "not the one sent", what);
			http_resp_free(&rs);
			goto out;
		}
		http_resp_free(&rs);
	}
out:
	free(meta);
	free(ename);
	free(url);
	free(session);
	return rc == BE_NOENT ? set_err(g, BE_PERM, "gs://%s: no such bucket",
	    g->l.bucket) : rc;
}

/* ---- operations ---- */

static int
gcs_put(struct backend *b, const char *name, int fd, uint64_t size,
    int64_t mtime_ns)
{
	struct gcs *g = (struct gcs *)b;
	unsigned char d[16];
	char full[1200], md5[32];

	(void)mtime_ns;		/* the service sets timeCreated */
	if (full_name(g, name, full, sizeof full) < 0)
		return set_err(g, BE_PERM, "%s: name too long", name);
	if (enc_digest_fd(ENC_MD5, fd, 0, size, d) < 0)
		return set_err(g, BE_TEMP, "upload %s: reading: %s", full,
		    strerror(errno));
	enc_base64(d, sizeof d, md5);
	if (size > g->part)
		return put_resumable(g, full, fd, size, md5);
	return put_small(g, full, fd, size, md5);
}

static char *
object_url(const struct gcs *g, const char *full, const char *suffix)
{
	char *e = http_escape(full, 0), *u = NULL;

	if (e != NULL && asprintf(&u, "%s/storage/v1/b/%s/o/%s%s",
	    g->l.endpoint, g->l.bucket, e, suffix) < 0)
		u = NULL;
	free(e);
	return u;
}

/* One try of a GET, for cloud_get. */
struct get_try {
	struct gcs	*g;
	const char	*url, *what;
};

static int
get_send(void *arg, struct http_resume *r, struct http_resp *rs)
{
	struct get_try *t = arg;
	struct call c;
	char range[64];

	memset(&c, 0, sizeof c);
	c.method = "GET";
	c.url = t->url;
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
	return do_call(t->g, &c, rs);
}

static int
gcs_get(struct backend *b, const char *name, backend_sink sink, void *ctx)
{
	struct gcs *g = (struct gcs *)b;
	struct get_try t = { g, NULL, NULL };
	char full[1200], what[1300], *url;
	int rc;

	if (full_name(g, name, full, sizeof full) < 0)
		return set_err(g, BE_PERM, "%s: name too long", name);
	if ((url = object_url(g, full, "?alt=media")) == NULL)
		return set_err(g, BE_TEMP, "out of memory");
	snprintf(what, sizeof what, "GET %s", full);
	t.url = url;
	t.what = what;
	rc = cloud_get(b, what, sink, ctx, get_send, &t);
	free(url);
	return rc;
}

static int
gcs_list(struct backend *b, const char *prefix, backend_list_cb cb, void *ctx)
{
	struct gcs *g = (struct gcs *)b;
	struct backend_obj o;
	struct http_resp rs;
	struct call c;
	char full[1200], what[1300], *ep = NULL, *et = NULL, *url = NULL;
	char *token = NULL;
	size_t strip = g->l.prefix[0] != '\0' ? strlen(g->l.prefix) + 1 : 0;
	size_t i;
	json_t *j, *items, *it, *v;
	int rc = BE_OK, pages, stop = 0;

	if (full_name(g, prefix, full, sizeof full) < 0)
		return set_err(g, BE_PERM, "%s: prefix too long", prefix);
	if ((ep = http_escape(full, 0)) == NULL)
		return set_err(g, BE_TEMP, "out of memory");
	snprintf(what, sizeof what, "LIST %s", full);
	for (pages = 0; pages < 1000000 && !stop; pages++) {
		free(url);
		url = NULL;
		free(et);
		et = NULL;
		if (token != NULL && (et = http_escape(token, 0)) == NULL) {
			rc = set_err(g, BE_TEMP, "out of memory");
			break;
		}
		if (asprintf(&url, "%s/storage/v1/b/%s/o?prefix=%s%s%s",
		    g->l.endpoint, g->l.bucket, ep, et ? "&pageToken=" : "",
		    et ? et : "") < 0) {
			url = NULL;
			rc = set_err(g, BE_TEMP, "out of memory");
			break;
		}
		memset(&c, 0, sizeof c);
		c.method = "GET";
		c.url = url;
		c.what = what;
		c.body_fd = -1;
		c.max_body = 64 << 20;
		if ((rc = do_call(g, &c, &rs)) != BE_OK) {
			if (rc == BE_NOENT)
				rc = set_err(g, BE_PERM, "gs://%s: no such "
				    "bucket", g->l.bucket);
			break;
		}
		j = rs.truncated || rs.body == NULL ? NULL :
		    json_loadb(rs.body, rs.body_len, 0, NULL);
		http_resp_free(&rs);
		if (j == NULL) {
			rc = set_err(g, BE_TEMP, "%s: unreadable answer", what);
			break;
		}
		items = json_object_get(j, "items");
		for (i = 0; json_is_array(items) && i < json_array_size(items);
		    i++) {
			const char *nm;

			it = json_array_get(items, i);
			v = json_object_get(it, "name");
			if (!json_is_string(v))
				continue;
			nm = json_string_value(v);
			if (strlen(nm) <= strip || strlen(nm) - strip >= NAME_LEN)
				continue;
			memset(&o, 0, sizeof o);
			snprintf(o.name, sizeof o.name, "%s", nm + strip);
			v = json_object_get(it, "size");
			o.size = json_is_string(v) ?
			    strtoull(json_string_value(v), NULL, 10) :
			    json_is_integer(v) ?
			    (uint64_t)json_integer_value(v) : 0;
			v = json_object_get(it, "timeCreated");
			if (!json_is_string(v) ||
			    restore_parse_time(json_string_value(v),
			    &o.mtime_ns) < 0)
				o.mtime_ns = 0;
			if ((rc = cb(ctx, &o)) != 0) {
				stop = 1;
				break;
			}
		}
		free(token);
		token = NULL;
		v = json_object_get(j, "nextPageToken");
		if (json_is_string(v) && *json_string_value(v) != '\0')
			token = strdup(json_string_value(v));
		json_decref(j);
		if (token == NULL)
			break;
	}
	free(token);
	free(url);
	free(ep);
	free(et);
	return rc;
}

struct del {
	struct gcs		*g;
	const char *const	*names;
};

static int
delete_one(void *arg, unsigned k)
{
	struct del *d = arg;
	struct http_resp rs;
	struct call c;
	char full[1200], what[1300], *url;
	int rc;

	if (full_name(d->g, d->names[k], full, sizeof full) < 0)
		return set_err(d->g, BE_PERM, "%s: name too long",
		    d->names[k]);
	if ((url = object_url(d->g, full, "")) == NULL)
		return set_err(d->g, BE_TEMP, "out of memory");
	snprintf(what, sizeof what, "DELETE %s", full);
	memset(&c, 0, sizeof c);
	c.method = "DELETE";
	c.url = url;
	c.what = what;
	c.body_fd = -1;
	rc = do_call(d->g, &c, &rs);
	free(url);
	if (rc == BE_OK)
		http_resp_free(&rs);
	return rc == BE_NOENT ? BE_OK : rc;
}

static int
gcs_remove(struct backend *b, const char *const *names, size_t n)
{
	struct gcs *g = (struct gcs *)b;
	struct del d = { g, names };

	return http_parallel((unsigned)n, 4, delete_one, &d);
}

static void
gcs_close(struct backend *b)
{
	struct gcs *g = (struct gcs *)b;

	gcptoken_free(g->tok);
	http_free(g->http);
	pthread_mutex_destroy(&g->mu);
	free(g->b.where);
	free(g);
}

static const struct backend_ops gcs_ops = {
	.scheme = "gcs",
	.shared = 1,
	.put = gcs_put,
	.get = gcs_get,
	.list = gcs_list,
	.remove = gcs_remove,
	.close = gcs_close,
};

struct backend *
gcs_open(const char *url, const struct bopts *o, char *err, size_t errlen,
    int *code)
{
	struct http_opts ho;
	struct gcs *g;

	*code = 100;
	if ((g = calloc(1, sizeof *g)) == NULL) {
		snprintf(err, errlen, "out of memory");
		*code = 111;
		return NULL;
	}
	pthread_mutex_init(&g->mu, NULL);
	g->b.ops = &gcs_ops;
	if (gcs_check(url, o, err, errlen) < 0 ||
	    gcs_parse(url, o, o->env, &g->l, err, errlen) < 0)
		goto fail;
	g->part = bopt_size(o, "part-size", GCS_PART_DEFAULT);
	memset(&ho, 0, sizeof ho);
	ho.skip_verify = bopt_bool(o, "skip-verify", 0);
	ho.ca_file = bopt_get(o, "ca-file");
	ho.stall_s = (int)(bopt_dur(o, "timeout", 30000) / 1000);
	if (ho.stall_s < 1)
		ho.stall_s = 1;
	if (ho.skip_verify)
		log_warn("skip-verify: TLS certificates of %s are not checked",
		    url);
	if (g->l.emulator)
		log_info("STORAGE_EMULATOR_HOST: %s, without credentials",
		    g->l.endpoint);
	else if (strncmp(g->l.endpoint, "http://", 7) == 0 &&
	    strncmp(g->l.endpoint + 7, "127.", 4) != 0 &&
	    strncmp(g->l.endpoint + 7, "localhost", 9) != 0 &&
	    strncmp(g->l.endpoint + 7, "[::1]", 5) != 0) {
		/* A token is as good as the account for an hour. */
		snprintf(err, errlen, "endpoint %s: tokens go only over https "
		    "(or to this machine)", g->l.endpoint);
		goto fail;
	}
	if ((g->http = http_new(&ho)) == NULL || (!g->l.emulator &&
	    (g->tok = gcptoken_new(g->http, o->env)) == NULL) ||
	    asprintf(&g->b.where, "gs://%s", g->l.bucket) < 0) {
		g->b.where = NULL;
		snprintf(err, errlen, "out of memory");
		*code = 111;
		goto fail;
	}
	return &g->b;
fail:
	gcs_close(&g->b);
	return NULL;
}
