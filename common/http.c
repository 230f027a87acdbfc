/* http: libcurl requests from a shared pool of handles. See http.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "http.h"

#define POOL_MAX	16

struct http {
	struct http_opts	o;
	char			*ca_file;
	pthread_mutex_t		mu;
	CURL			*free[POOL_MAX];
	int			nfree;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_ok;

static void
global_init(void)
{
	global_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

struct http *
http_new(const struct http_opts *o)
{
	struct http *h;

	pthread_once(&global_once, global_init);
	if (!global_ok || (h = calloc(1, sizeof *h)) == NULL)
		return NULL;
	if (o != NULL)
		h->o = *o;
	if (h->o.connect_s <= 0)
		h->o.connect_s = 10;
	if (h->o.stall_s <= 0)
		h->o.stall_s = 30;
	if (h->o.ca_file != NULL &&
	    (h->ca_file = strdup(h->o.ca_file)) == NULL) {
		free(h);
		return NULL;
	}
	h->o.ca_file = h->ca_file;
	pthread_mutex_init(&h->mu, NULL);
	return h;
}

void
http_free(struct http *h)
{
	int i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nfree; i++)
		curl_easy_cleanup(h->free[i]);
	pthread_mutex_destroy(&h->mu);
	free(h->ca_file);
	free(h);
}

static CURL *
take(struct http *h)
{
	CURL *c = NULL;

	pthread_mutex_lock(&h->mu);
	if (h->nfree > 0)
		c = h->free[--h->nfree];
	pthread_mutex_unlock(&h->mu);
	if (c == NULL)
		c = curl_easy_init();
	return c;
}

static void
give(struct http *h, CURL *c, int keep)
{
	if (keep) {
		pthread_mutex_lock(&h->mu);
		if (h->nfree < POOL_MAX) {
			h->free[h->nfree++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&h->mu);
	}
	if (c != NULL)
		curl_easy_cleanup(c);
}

struct xfer {
	const struct http_req	*rq;
	struct http_resp	*rs;
	CURL			*c;
	uint64_t		sent;
	size_t			cap;
	int			status_known, to_sink;
	int			read_err;
	int			stall_s, stalled;
	curl_off_t		moved;		/* bytes both ways, last seen */
	struct timespec		moved_at;
};

/*
 * libcurl's low-speed limit does not watch the wait for an answer once a
 * request body is sent, so a server that takes a PUT and says nothing
 * would hold the transfer forever: this watches both.
 */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = arg;
	struct timespec now;

	(void)dltotal;
	(void)ultotal;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (dlnow + ulnow != x->moved || x->moved_at.tv_sec == 0) {
		x->moved = dlnow + ulnow;
		x->moved_at = now;
		return 0;
	}
	if (now.tv_sec - x->moved_at.tv_sec >= x->stall_s) {
		x->stalled = 1;
		return 1;
	}
	return 0;
}

static size_t
on_read(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	const struct http_req *rq = x->rq;
	size_t want = size * nmemb;
	uint64_t left = rq->body_len - x->sent;
	ssize_t n;

	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (rq->body_fd >= 0) {
		do
			n = pread(rq->body_fd, buf, want,
			    (off_t)(rq->body_off + x->sent));
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			x->read_err = n < 0 ? errno : EIO;
			return CURL_READFUNC_ABORT;
		}
		want = (size_t)n;
	} else
		memcpy(buf, (const char *)rq->body + x->sent, want);
	x->sent += want;
	return want;
}

/* Rewinds the body when libcurl must send it again (a redirect or an
 * authentication round). */
static int
on_seek(void *arg, curl_off_t off, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->rq->body_len)
		return CURL_SEEKFUNC_FAIL;
	x->sent = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static int
keep_body(struct xfer *x, const char *p, size_t n)
{
	struct http_resp *rs = x->rs;
	size_t max = x->rq->max_body ? x->rq->max_body : 1 << 20;
	char *nb;

	if (rs->body_len + n > max) {
		rs->truncated = 1;
		n = max - rs->body_len;
	}
	if (rs->body_len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 4096;

		while (cap < rs->body_len + n + 1)
			cap *= 2;
		if ((nb = realloc(rs->body, cap)) == NULL)
			return -1;
		rs->body = nb;
		x->cap = cap;
	}
	memcpy(rs->body + rs->body_len, p, n);
	rs->body_len += n;
	rs->body[rs->body_len] = '\0';
	return 0;
}

static size_t
on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (!x->status_known) {
		curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &x->rs->status);
		x->to_sink = x->rq->sink != NULL && x->rs->status >= 200 &&
		    x->rs->status < 300;
		x->status_known = 1;
	}
	if (x->to_sink) {
		if (x->rq->sink(x->rq->sink_ctx, p, n) != 0) {
			x->rs->sink_stopped = 1;
			return 0;
		}
		return n;
	}
	return keep_body(x, p, n) < 0 ? 0 : n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb, k, nl;
	const char *name, *v, *e;
	int i;

	/* A new status line (after 100 Continue or a redirect) resets. */
	if (n > 5 && strncmp(p, "HTTP/", 5) == 0) {
		x->status_known = 0;
		return n;
	}
	for (i = 0; i < HTTP_MAX_WANT && (name = x->rq->want[i]) != NULL;
	    i++) {
		nl = strlen(name);
		if (n <= nl || p[nl] != ':' || strncasecmp(p, name, nl) != 0)
			continue;
		for (v = p + nl + 1; v < p + n && (*v == ' ' || *v == '\t');
		    v++)
			;
		for (e = p + n; e > v && (e[-1] == '\r' || e[-1] == '\n' ||
		    e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		k = (size_t)(e - v);
		free(x->rs->hdr[i]);
		if ((x->rs->hdr[i] = malloc(k + 1)) != NULL) {
			memcpy(x->rs->hdr[i], v, k);
			x->rs->hdr[i][k] = '\0';
		}
	}
	return n;
}

int
http_do(struct http *h, const struct http_req *rq, struct http_resp *rs)
{
	struct curl_slist *hl = NULL, *t;
	struct xfer x;
	CURLcode cc;
	CURL *c;
	size_t i;
	int ok = 1;

	memset(rs, 0, sizeof *rs);
	if ((c = take(h)) == NULL) {
		snprintf(rs->err, sizeof rs->err, "out of memory");
		return -1;
	}
	curl_easy_reset(c);
	memset(&x, 0, sizeof x);
	x.rq = rq;
	x.rs = rs;
	x.c = c;
	for (i = 0; i < rq->nheaders && ok; i++)
		if ((t = curl_slist_append(hl, rq->headers[i])) == NULL)
			ok = 0;
		else
			hl = t;
	/* libcurl's own additions would change what was signed. */
	if (ok && (t = curl_slist_append(hl, "Expect:")) != NULL)
		hl = t;
	if (ok && strcmp(rq->method, "POST") == 0) {
		for (i = 0; i < rq->nheaders; i++)
			if (strncasecmp(rq->headers[i], "Content-Type:", 13) ==
			    0)
				break;
		if (i == rq->nheaders &&
		    (t = curl_slist_append(hl, "Content-Type:")) != NULL)
			hl = t;
	}
	if (!ok) {
		curl_slist_free_all(hl);
		give(h, c, 1);
		snprintf(rs->err, sizeof rs->err, "out of memory");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)h->o.connect_s);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)h->o.stall_s);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	x.stall_s = h->o.stall_s;
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	if (h->o.skip_verify) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->o.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o.ca_file);
	if (strcmp(rq->method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (strcmp(rq->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(rq->method, "PUT") == 0 ||
	    strcmp(rq->method, "POST") == 0) {
		if (strcmp(rq->method, "PUT") == 0)
			curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		else
			curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
		if (strcmp(rq->method, "PUT") == 0)
			curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
			    (curl_off_t)rq->body_len);
		else
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)rq->body_len);
	} else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	cc = curl_easy_perform(c);
	curl_slist_free_all(hl);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
		give(h, c, 1);
		return 0;
	}
	if (x.stalled)
		snprintf(rs->err, sizeof rs->err, "nothing received for %d s "
		    "(timed out)", x.stall_s);
	else if (rs->sink_stopped)
		snprintf(rs->err, sizeof rs->err, "transfer stopped");
	else if (x.read_err)
		snprintf(rs->err, sizeof rs->err, "reading the body: %s",
		    strerror(x.read_err));
	else
		snprintf(rs->err, sizeof rs->err, "%s", curl_easy_strerror(cc));
	rs->tls_refused = cc == CURLE_PEER_FAILED_VERIFICATION ||
	    cc == CURLE_SSL_CACERT_BADFILE;
	rs->status = 0;
	/* A handle that failed mid-transfer may hold a broken connection. */
	give(h, c, 0);
	return -1;
}

void
http_resp_free(struct http_resp *rs)
{
	int i;

	free(rs->body);
	rs->body = NULL;
	for (i = 0; i < HTTP_MAX_WANT; i++) {
		free(rs->hdr[i]);
		rs->hdr[i] = NULL;
	}
}

int
http_temporary(int rc, const struct http_resp *rs)
{
	if (rc < 0)
		return !rs->tls_refused;
	return rs->status == 408 || rs->status == 429 ||
	    (rs->status >= 500 && rs->status != 501 && rs->status != 505);
}

void
http_backoff(int attempt, int base_ms, int max_ms)
{
	static __thread unsigned seed;
	struct timespec ts;
	long ceil_ms = base_ms, ms;

	if (seed == 0)
		seed = (unsigned)time(NULL) ^ (unsigned)getpid() ^
		    (unsigned)(uintptr_t)&ts;
	while (--attempt > 0 && ceil_ms < max_ms)
		ceil_ms *= 2;
	if (ceil_ms > max_ms)
		ceil_ms = max_ms;
	ms = ceil_ms / 2 + (long)(rand_r(&seed) % (unsigned)(ceil_ms / 2 + 1));
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
http_resume_sink(void *arg, const void *p, size_t n)
{
	struct http_resume *g = arg;
	const char *q = p, *cr;

	if (!g->started) {
		/* A 206's body starts where its Content-Range says. */
		g->started = 1;
		g->pos = 0;
		cr = g->rs != NULL ? g->rs->hdr[0] : NULL;
		if (cr != NULL && strncmp(cr, "bytes ", 6) == 0)
			g->pos = strtoull(cr + 6, NULL, 10);
		if (g->pos > g->delivered) {
			g->stopped = 1;
			return -1;
		}
	}
	if (g->pos < g->delivered) {
		uint64_t skip = g->delivered - g->pos;

		if (skip >= n) {
			g->pos += n;
			return 0;
		}
		q += skip;
		n -= (size_t)skip;
		g->pos += skip;
	}
	if (g->sink(g->ctx, q, n) != 0) {
		g->stopped = 1;
		return -1;
	}
	g->pos += n;
	g->delivered = g->pos;
	return 0;
}

struct par {
	int		(*one)(void *, unsigned);
	void		*ctx;
	unsigned	n, next;
	int		rc;
	pthread_mutex_t	mu;
};

static void *
par_worker(void *arg)
{
	struct par *p = arg;
	unsigned k;
	int rc;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		k = p->rc != 0 ? p->n : p->next++;
		pthread_mutex_unlock(&p->mu);
		if (k >= p->n)
			return NULL;
		if ((rc = p->one(p->ctx, k)) != 0) {
			pthread_mutex_lock(&p->mu);
			if (p->rc == 0 || rc == 100)
				p->rc = rc;
			pthread_mutex_unlock(&p->mu);
		}
	}
}

int
http_parallel(unsigned n, int threads, int (*one)(void *ctx, unsigned k),
    void *ctx)
{
	struct par p;
	pthread_t t[64];
	int i, started = 0;

	memset(&p, 0, sizeof p);
	p.one = one;
	p.ctx = ctx;
	p.n = n;
	pthread_mutex_init(&p.mu, NULL);
	if (threads > 64)
		threads = 64;
	if ((unsigned)threads > n)
		threads = (int)n;
	for (i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, par_worker, &p) == 0)
			started++;
		else
			break;
	if (started == 0)
		par_worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&p.mu);
	return p.rc;
}

char *
http_escape(const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char *out, *o;

	if ((out = malloc(3 * strlen(s) + 1)) == NULL)
		return NULL;
	for (o = out, p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p == '~' || (keep_slash && *p == '/'))
			*o++ = (char)*p;
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}
