/*
 * abs: blobs in an Azure Storage container under a root prefix, over the
 * Blob REST API. A put is one Put Blob, or above part-size Put Block for
 * each block (in parallel, straight from the spool file) and one Put Block
 * List: a blob appears only when its list is committed, so a name only
 * ever holds a whole object (blocks never committed are dropped by the
 * service). Every body carries its Content-MD5, which the service checks.
 * Listing is List Blobs, flat, with a marker. Requests are signed with the
 * account key (Shared Key), carry a SAS token, or an Azure AD bearer token
 * (common/azauth.c).
 *
 * Requests that fail in a way worth another try (a transport failure,
 * 5xx, ServerBusy, 408, 429) are retried here a few times with jittered
 * back-off; the caller's loop does the rest.
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
#include <bearssl.h>

#include "abs.h"
#include "azauth.h"
#include "backend.h"
#include "bopt.h"
#include "cloud.h"
#include "enc.h"
#include "http.h"
#include "log.h"
#include "xml.h"

#define ATTEMPTS	CLOUD_ATTEMPTS
#define API_VERSION	"2023-11-03"
#define NHDR		12
#define LIST_PAGE	1000	/* blobs a listing page, as S3's */

enum auth { AUTH_KEY, AUTH_SAS, AUTH_BEARER };

struct abs {
	struct backend		b;
	struct abs_loc		l;
	struct http		*http;
	enum auth		auth;
	char			*key;		/* base64 account key */
	char			*sas;		/* query string, no '?' */
	struct aztoken_chain	*tok;
	int			said_source;
	pthread_mutex_t		mu;
	uint64_t		block;
	int			concurrency;
};

static int set_err(struct abs *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
set_err(struct abs *a, int code, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&a->mu);
	va_start(ap, fmt);
	vsnprintf(a->b.err, sizeof a->b.err, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&a->mu);
	return code;
}

/* ---- requests ---- */

struct call {
	const char		*method;
	const char		*blob;		/* full name, NULL: container */
	const char		*query;		/* encoded, without the SAS */
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
};

struct az_err {
	char	code[256];
	char	msg[256];
};

static void
err_cb(void *ctx, const char *path, const char *text)
{
	struct az_err *e = ctx;
	size_t n;

	if (strcmp(path, "Error/Code") == 0)
		snprintf(e->code, sizeof e->code, "%s", text);
	else if (strcmp(path, "Error/Message") == 0) {
		/* The first line: the rest is a request id and a time. */
		n = strcspn(text, "\r\n");
		snprintf(e->msg, sizeof e->msg, "%.*s", (int)n, text);
	}
}

static const char *
where(const struct abs *a)
{
	return a->b.where;
}

/*
 * Sends one call, signed afresh each try, retrying what may pass later.
 * Returns BE_OK with rs holding the 2xx response (free it), or a BE_*
 * code with b.err set and rs freed.
 */
static int
do_call(struct abs *a, const struct call *c, struct http_resp *rs)
{
	char url[8192], path[2048], query[4096], date[64], dateh[80];
	char auth[8192], lenh[48], tsrc[256], terr[512];
	const char *all[NHDR + 8], *sig[NHDR + 8];
	char *eb = NULL, *tok = NULL;
	struct http_req rq;
	struct az_err e;
	size_t i, na, ns;
	int attempt, rc, code, token_retry = 0;

	if (c->blob != NULL && (eb = http_escape(c->blob, 1)) == NULL)
		return set_err(a, BE_TEMP, "out of memory");
	snprintf(path, sizeof path, "%s/%s%s%s", a->l.base, a->l.container,
	    eb != NULL ? "/" : "", eb != NULL ? eb : "");
	free(eb);
	snprintf(query, sizeof query, "%s%s%s", c->query ? c->query : "",
	    c->query && *c->query && a->auth == AUTH_SAS ? "&" : "",
	    a->auth == AUTH_SAS ? a->sas : "");
	snprintf(url, sizeof url, "%s://%s%s%s%s", a->l.scheme, a->l.host,
	    path, query[0] ? "?" : "", query);
	if (a->auth == AUTH_BEARER && (tok = malloc(16384)) == NULL)
		return set_err(a, BE_TEMP, "out of memory");
	for (attempt = 1;; attempt++) {
		azauth_date(time(NULL), date);
		snprintf(dateh, sizeof dateh, "x-ms-date: %s", date);
		na = ns = 0;
		all[na++] = sig[ns++] = "x-ms-version: " API_VERSION;
		all[na++] = sig[ns++] = dateh;
		for (i = 0; i < c->nxh; i++)
			all[na++] = sig[ns++] = c->xh[i];
		if (a->auth == AUTH_KEY) {
			snprintf(lenh, sizeof lenh, "Content-Length: %llu",
			    (unsigned long long)c->body_len);
			sig[ns++] = lenh;
			if (azauth_sharedkey(c->method, path, c->query, sig, ns,
			    a->l.account, a->key, auth, sizeof auth) < 0) {
				rc = set_err(a, BE_PERM, "%s: unable to sign "
				    "the request (a bad account key?)", c->what);
				free(tok);
				return rc;
			}
			all[na++] = auth;
		} else if (a->auth == AUTH_BEARER) {
			code = aztoken_get(a->tok, tok, 16384, tsrc, sizeof tsrc,
			    terr, sizeof terr);
			if (code != 0) {
				free(tok);
				return set_err(a, code == 100 ? BE_PERM : BE_TEMP,
				    "%s: no token: %s", where(a), terr);
			}
			if (!a->said_source) {
				pthread_mutex_lock(&a->mu);
				if (!a->said_source)
					log_info("credentials from %s", tsrc);
				a->said_source = 1;
				pthread_mutex_unlock(&a->mu);
			}
			snprintf(auth, sizeof auth, "Authorization: Bearer %s",
			    tok);
			all[na++] = auth;
		}
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
		rc = http_do(a->http, &rq, rs);
		explicit_bzero(auth, sizeof auth);
		if (tok != NULL)
			explicit_bzero(tok, 16384);
		if (rc == 0 && rs->status >= 200 && rs->status < 300) {
			free(tok);
			return BE_OK;
		}
		memset(&e, 0, sizeof e);
		if (rc == 0) {
			if (rs->body != NULL && rs->body_len > 0)
				(void)xml_walk(rs->body, rs->body_len, err_cb, &e);
			if (e.code[0] == '\0')
				snprintf(e.code, sizeof e.code, "HTTP %ld",
				    rs->status);
		} else
			snprintf(e.code, sizeof e.code, "%s", rs->err);
		if (rc == 0 && rs->status == 401 && a->auth == AUTH_BEARER &&
		    !token_retry) {
			aztoken_expire(a->tok);
			token_retry = 1;
			http_resp_free(rs);
			attempt--;
			continue;
		}
		if (rs->sink_stopped) {
			http_resp_free(rs);
			free(tok);
			return set_err(a, BE_TEMP, "%s: the receiver stopped",
			    c->what);
		}
		if (http_temporary(rc, rs) && attempt < ATTEMPTS &&
		    c->sink == NULL) {
			log_warn("%s: %s%s%s, trying again", c->what, e.code,
			    e.msg[0] ? ": " : "", e.msg);
			http_resp_free(rs);
			http_backoff(attempt, 250, 8000);
			continue;
		}
		break;
	}
	free(tok);
	if (rc < 0 && rs->tls_refused) {
		set_err(a, BE_PERM, "%s: TLS: %s (see ca-file and skip-verify)",
		    c->what, rs->err);
		http_resp_free(rs);
		return BE_PERM;
	}
	/* A body damaged on the way: sending it again may do. */
	if (http_temporary(rc, rs) || strcmp(e.code, "Md5Mismatch") == 0 ||
	    strcmp(e.code, "InvalidMd5") == 0)
		code = BE_TEMP;
	else if (rs->status == 404 && strcmp(e.code, "ContainerNotFound") != 0)
		code = BE_NOENT;
	else
		code = BE_PERM;
	if (code == BE_PERM && strcmp(e.code, "ContainerNotFound") == 0)
		set_err(a, code, "%s: no such container (ContainerNotFound)",
		    where(a));
	else if (code == BE_PERM)
		set_err(a, code, "%s: %s refused: %s%s%s", where(a), c->what,
		    e.code, e.msg[0] ? ": " : "", e.msg);
	else
		set_err(a, code, "%s: %s%s%s", c->what, e.code,
		    e.msg[0] ? ": " : "", e.msg);
	http_resp_free(rs);
	return code;
}

static int
full_name(const struct abs *a, const char *name, char *buf, size_t len)
{
	int n = a->l.prefix[0] != '\0' ?
	    snprintf(buf, len, "%s/%s", a->l.prefix, name) :
	    snprintf(buf, len, "%s", name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* "Content-MD5: BASE64" of size bytes of fd from off. */
static int
md5_header(int fd, uint64_t off, uint64_t size, char out[48])
{
	unsigned char d[16];
	char b[32];

	if (enc_digest_fd(ENC_MD5, fd, off, size, d) < 0)
		return -1;
	enc_base64(d, sizeof d, b);
	snprintf(out, 48, "Content-MD5: %s", b);
	return 0;
}

/* ---- blocks ---- */

struct blocks {
	struct abs	*a;
	const char	*blob;
	int		fd;
	uint64_t	size, block;
	unsigned	n;
};

/* Block ids are base64 of a fixed-width string, as the service wants
 * every id of one blob to have one length. */
static void
block_id(unsigned k, char out[40])
{
	char raw[24];

	/* k < 50000: always five digits. */
	snprintf(raw, sizeof raw, "ls-block-%05u", k % 100000);
	enc_base64(raw, strlen(raw), out);
}

static int
put_block(void *arg, unsigned k)
{
	struct blocks *bl = arg;
	struct http_resp rs;
	struct call c;
	char id[40], *eid, q[128], what[1300], md5[48];
	int rc;

	block_id(k, id);
	if ((eid = http_escape(id, 0)) == NULL)
		return set_err(bl->a, BE_TEMP, "out of memory");
	snprintf(q, sizeof q, "blockid=%s&comp=block", eid);
	free(eid);
	snprintf(what, sizeof what, "PUT %s block %u", bl->blob, k + 1);
	memset(&c, 0, sizeof c);
	c.method = "PUT";
	c.blob = bl->blob;
	c.query = q;
	c.what = what;
	c.body_fd = bl->fd;
	c.body_off = (uint64_t)k * bl->block;
	c.body_len = bl->size - c.body_off < bl->block ?
	    bl->size - c.body_off : bl->block;
	if (md5_header(bl->fd, c.body_off, c.body_len, md5) < 0)
		return set_err(bl->a, BE_TEMP, "%s: reading: %s", what,
		    strerror(errno));
	c.xh[c.nxh++] = md5;
	if ((rc = do_call(bl->a, &c, &rs)) != BE_OK)
		return rc == BE_NOENT ? BE_TEMP : rc;
	http_resp_free(&rs);
	return BE_OK;
}

static int
put_blocks(struct abs *a, const char *blob, int fd, uint64_t size)
{
	struct blocks bl;
	struct http_resp rs;
	struct call c;
	br_md5_context mc;
	unsigned char d[16];
	char what[1300], md5h[48], b[32], id[40];
	char *body, *p;
	unsigned k;
	int rc;

	memset(&bl, 0, sizeof bl);
	bl.a = a;
	bl.blob = blob;
	bl.fd = fd;
	bl.size = size;
	bl.block = a->block;
	bl.n = (unsigned)((size + bl.block - 1) / bl.block);
	if (bl.n > 50000) {
		/* A blob has at most 50000 blocks. */
		bl.block = (size + 49999) / 50000;
		bl.n = (unsigned)((size + bl.block - 1) / bl.block);
	}
	if ((rc = http_parallel(bl.n, a->concurrency, put_block, &bl)) != 0)
		return rc;
	if ((body = malloc(128 + (size_t)bl.n * 48)) == NULL)
		return set_err(a, BE_TEMP, "out of memory");
	p = body;
	p += sprintf(p, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<BlockList>");
	for (k = 0; k < bl.n; k++) {
		block_id(k, id);
		p += sprintf(p, "<Latest>%s</Latest>", id);
	}
	p += sprintf(p, "</BlockList>");
	br_md5_init(&mc);
	br_md5_update(&mc, body, (size_t)(p - body));
	br_md5_out(&mc, d);
	enc_base64(d, sizeof d, b);
	snprintf(md5h, sizeof md5h, "Content-MD5: %s", b);
	snprintf(what, sizeof what, "PUT %s block list", blob);
	memset(&c, 0, sizeof c);
	c.method = "PUT";
	c.blob = blob;
	c.query = "comp=blocklist";
	c.what = what;
	c.body = body;
	c.body_fd = -1;
	c.body_len = (uint64_t)(p - body);
	c.xh[c.nxh++] = md5h;
	c.xh[c.nxh++] = "Content-Type: application/xml";
	c.xh[c.nxh++] = "x-ms-blob-content-type: application/octet-stream";
	rc = do_call(a, &c, &rs);
	free(body);
	if (rc == BE_OK)
		http_resp_free(&rs);
	return rc == BE_NOENT ? BE_TEMP : rc;
}

/* ---- operations ---- */

static int
abs_put(struct backend *b, const char *name, int fd, uint64_t size,
    int64_t mtime_ns)
{
	struct abs *a = (struct abs *)b;
	struct http_resp rs;
	struct call c;
	char blob[1200], what[1300], md5[48];
	int rc;

	(void)mtime_ns;		/* the service sets Creation-Time */
	if (full_name(a, name, blob, sizeof blob) < 0)
		return set_err(a, BE_PERM, "%s: name too long", name);
	if (size > a->block)
		return put_blocks(a, blob, fd, size);
	snprintf(what, sizeof what, "PUT %s", blob);
	if (md5_header(fd, 0, size, md5) < 0)
		return set_err(a, BE_TEMP, "%s: reading: %s", what,
		    strerror(errno));
	memset(&c, 0, sizeof c);
	c.method = "PUT";
	c.blob = blob;
	c.what = what;
	c.body_fd = fd;
	c.body_len = size;
	c.xh[c.nxh++] = "x-ms-blob-type: BlockBlob";
	c.xh[c.nxh++] = "Content-Type: application/octet-stream";
	c.xh[c.nxh++] = md5;
	if ((rc = do_call(a, &c, &rs)) == BE_OK)
		http_resp_free(&rs);
	return rc == BE_NOENT ? BE_PERM : rc;
}

/* One try of a GET, for cloud_get. */
struct get_try {
	struct abs	*a;
	const char	*blob, *what;
};

static int
get_send(void *arg, struct http_resume *r, struct http_resp *rs)
{
	struct get_try *t = arg;
	struct call c;
	char range[64];

	memset(&c, 0, sizeof c);
	c.method = "GET";
	c.blob = t->blob;
	c.what = t->what;
	c.body_fd = -1;
	c.sink = http_resume_sink;
	c.sink_ctx = r;
	c.want[0] = "Content-Range";
	if (r->delivered > 0) {
		snprintf(range, sizeof range, "x-ms-range: bytes=%llu-",
		    (unsigned long long)r->delivered);
		c.xh[c.nxh++] = range;
	}
	return do_call(t->a, &c, rs);
}

static int
abs_get(struct backend *b, const char *name, backend_sink sink, void *ctx)
{
	struct abs *a = (struct abs *)b;
	struct get_try t = { a, NULL, NULL };
	char blob[1200], what[1300];

	if (full_name(a, name, blob, sizeof blob) < 0)
		return set_err(a, BE_PERM, "%s: name too long", name);
	snprintf(what, sizeof what, "GET %s", blob);
	t.blob = blob;
	t.what = what;
	return cloud_get(b, what, sink, ctx, get_send, &t);
}

struct list_ctx {
	size_t			strip;
	backend_list_cb		cb;
	void			*ctx;
	struct backend_obj	o;
	int			keep, stop;
	char			*next;
};

/* "Tue, 24 Nov 2026 01:03:28 GMT" */
static int64_t
http_time(const char *s)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof tm);
	if ((e = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm)) == NULL ||
	    *e != '\0')
		return 0;
	return (int64_t)timegm(&tm) * 1000000000LL;
}

static void
list_cb(void *arg, const char *path, const char *text)
{
	struct list_ctx *l = arg;

	if (l->stop)
		return;
	if (strcmp(path, "EnumerationResults/Blobs/Blob/Name") == 0) {
		l->keep = strlen(text) > l->strip &&
		    strlen(text) - l->strip < NAME_LEN;
		if (l->keep)
			snprintf(l->o.name, sizeof l->o.name, "%s",
			    text + l->strip);
	} else if (strcmp(path,
	    "EnumerationResults/Blobs/Blob/Properties/Content-Length") == 0)
		l->o.size = strtoull(text, NULL, 10);
	else if (strcmp(path,
	    "EnumerationResults/Blobs/Blob/Properties/Creation-Time") == 0)
		l->o.mtime_ns = http_time(text);
	else if (strcmp(path, "EnumerationResults/Blobs/Blob") == 0) {
		if (l->keep && (l->stop = l->cb(l->ctx, &l->o)) != 0)
			return;
		memset(&l->o, 0, sizeof l->o);
		l->keep = 0;
	} else if (strcmp(path, "EnumerationResults/NextMarker") == 0) {
		free(l->next);
		l->next = strdup(text);
	}
}

static int
abs_list(struct backend *b, const char *prefix, backend_list_cb cb, void *ctx)
{
	struct abs *a = (struct abs *)b;
	struct list_ctx l;
	struct http_resp rs;
	struct call c;
	char full[1200], what[1300], *ep = NULL, *em = NULL, *q = NULL;
	int rc = BE_OK, pages;

	if (full_name(a, prefix, full, sizeof full) < 0)
		return set_err(a, BE_PERM, "%s: prefix too long", prefix);
	memset(&l, 0, sizeof l);
	l.strip = a->l.prefix[0] != '\0' ? strlen(a->l.prefix) + 1 : 0;
	l.cb = cb;
	l.ctx = ctx;
	if ((ep = http_escape(full, 0)) == NULL)
		return set_err(a, BE_TEMP, "out of memory");
	snprintf(what, sizeof what, "LIST %s", full);
	for (pages = 0; pages < 1000000; pages++) {
		free(q);
		q = NULL;
		if (l.next != NULL && *l.next != '\0') {
			free(em);
			if ((em = http_escape(l.next, 0)) == NULL ||
			    asprintf(&q, "comp=list&marker=%s&maxresults=%d&"
			    "prefix=%s&restype=container", em, LIST_PAGE,
			    ep) < 0) {
				q = NULL;
				rc = set_err(a, BE_TEMP, "out of memory");
				break;
			}
		} else if (asprintf(&q, "comp=list&maxresults=%d&prefix=%s&"
		    "restype=container", LIST_PAGE, ep) < 0) {
			q = NULL;
			rc = set_err(a, BE_TEMP, "out of memory");
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
		if ((rc = do_call(a, &c, &rs)) != BE_OK) {
			if (rc == BE_NOENT)
				rc = set_err(a, BE_PERM, "%s: no such container",
				    where(a));
			break;
		}
		if (rs.truncated || rs.body == NULL ||
		    xml_walk(rs.body, rs.body_len, list_cb, &l) < 0) {
			http_resp_free(&rs);
			rc = set_err(a, BE_TEMP, "%s: unreadable answer", what);
			break;
		}
		http_resp_free(&rs);
		if (l.stop) {
			rc = l.stop;
			break;
		}
		if (l.next == NULL || *l.next == '\0')
			break;
	}
	free(l.next);
	free(q);
	free(ep);
	free(em);
	return rc;
}

struct del {
	struct abs		*a;
	const char *const	*names;
};

static int
delete_one(void *arg, unsigned k)
{
	struct del *d = arg;
	struct http_resp rs;
	struct call c;
	char blob[1200], what[1300];
	int rc;

	if (full_name(d->a, d->names[k], blob, sizeof blob) < 0)
		return set_err(d->a, BE_PERM, "%s: name too long",
		    d->names[k]);
	snprintf(what, sizeof what, "DELETE %s", blob);
	memset(&c, 0, sizeof c);
	c.method = "DELETE";
	c.blob = blob;
	c.what = what;
	c.body_fd = -1;
	rc = do_call(d->a, &c, &rs);
	if (rc == BE_OK)
		http_resp_free(&rs);
	return rc == BE_NOENT ? BE_OK : rc;
}

static int
abs_remove(struct backend *b, const char *const *names, size_t n)
{
	struct abs *a = (struct abs *)b;
	struct del d = { a, names };

	/* One request a blob: a few at a time. */
	return http_parallel((unsigned)n, a->concurrency, delete_one, &d);
}

static void
abs_close(struct backend *b)
{
	struct abs *a = (struct abs *)b;

	aztoken_free(a->tok);
	http_free(a->http);
	pthread_mutex_destroy(&a->mu);
	if (a->key != NULL)
		explicit_bzero(a->key, strlen(a->key));
	if (a->sas != NULL)
		explicit_bzero(a->sas, strlen(a->sas));
	free(a->key);
	free(a->sas);
	free(a->b.where);
	free(a);
}

static const struct backend_ops abs_ops = {
	.scheme = "abs",
	.shared = 1,
	.put = abs_put,
	.get = abs_get,
	.list = abs_list,
	.remove = abs_remove,
	.close = abs_close,
};

struct backend *
abs_open(const char *url, const struct bopts *o, char *err, size_t errlen,
    int *code)
{
	struct http_opts ho;
	struct abs *a;
	const char *v;
	char serr[256] = "";

	*code = 100;
	if ((a = calloc(1, sizeof *a)) == NULL) {
		snprintf(err, errlen, "out of memory");
		*code = 111;
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	a->b.ops = &abs_ops;
	if (abs_parse(url, o, &a->l, err, errlen) < 0)
		goto fail;
	if (asprintf(&a->b.where, "abs://%s@%s", a->l.account,
	    a->l.container) < 0) {
		a->b.where = NULL;
		snprintf(err, errlen, "out of memory");
		*code = 111;
		goto fail;
	}
	if (abs_check(url, o, err, errlen) < 0)
		goto fail;
	a->block = bopt_size(o, "part-size", ABS_BLOCK_DEFAULT);
	v = bopt_get(o, "concurrency");
	a->concurrency = v != NULL ? atoi(v) : 5;
	if (a->concurrency < 1)
		a->concurrency = 1;
	/* The account key, else a SAS token, else Azure AD. */
	a->key = bopt_secret(o, "account-key", serr, sizeof serr);
	if (a->key == NULL && serr[0] == '\0' &&
	    (v = bopt_env(o, "LITESTREAM_AZURE_ACCOUNT_KEY")) != NULL &&
	    *v != '\0')
		a->key = strdup(v);
	if (a->key == NULL && serr[0] == '\0')
		a->sas = bopt_secret(o, "sas-token", serr, sizeof serr);
	if (serr[0] != '\0') {
		snprintf(err, errlen, "%s", serr);
		goto fail;
	}
	if (a->key != NULL) {
		unsigned char raw[128];

		a->auth = AUTH_KEY;
		if (enc_unbase64(a->key, raw, sizeof raw) <= 0) {
			snprintf(err, errlen, "%s: the account key is not "
			    "base64", a->b.where);
			goto fail;
		}
		explicit_bzero(raw, sizeof raw);
		log_info("credentials from the account key");
	} else if (a->sas != NULL) {
		char *q = a->sas;

		a->auth = AUTH_SAS;
		if (*q == '?')
			memmove(q, q + 1, strlen(q));
		log_info("credentials from the SAS token");
	} else
		a->auth = AUTH_BEARER;
	memset(&ho, 0, sizeof ho);
	ho.skip_verify = bopt_bool(o, "skip-verify", 0);
	ho.ca_file = bopt_get(o, "ca-file");
	ho.stall_s = (int)(bopt_dur(o, "timeout", 30000) / 1000);
	if (ho.stall_s < 1)
		ho.stall_s = 1;
	if (ho.skip_verify)
		log_warn("skip-verify: TLS certificates of %s are not checked",
		    url);
	if ((a->http = http_new(&ho)) == NULL || (a->auth == AUTH_BEARER &&
	    (a->tok = aztoken_new(a->http, o->env)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		*code = 111;
		goto fail;
	}
	if (a->auth == AUTH_BEARER && strcmp(a->l.scheme, "https") != 0) {
		snprintf(err, errlen, "%s: Azure AD tokens go only over https "
		    "(an http endpoint needs account-key or sas-token)",
		    a->b.where);
		goto fail;
	}
	return &a->b;
fail:
	abs_close(&a->b);
	return NULL;
}
