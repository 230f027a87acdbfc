/* sigv4: AWS Signature Version 4 signing; the formats are in sigv4.h. */
#include <bearssl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enc.h"
#include "http.h"
#include "sigv4.h"

/* A growing string; after a failed allocation every append is a no-op and
 * fail stays set. */
struct buf {
	char	*p;
	size_t	len, cap;
	int	fail;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	char *np;
	size_t ncap;

	if (b->fail)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (b->len + n + 1 > ncap)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->fail = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

/* Hands over the string (never NULL unless fail), leaving b empty. */
static char *
buf_take(struct buf *b)
{
	char *p;

	buf_add(b, "", 0);
	p = b->fail ? NULL : b->p;
	if (p == NULL)
		free(b->p);
	memset(b, 0, sizeof *b);
	return p;
}


void
sigv4_sha256_hex(const void *p, size_t n, char out[65])
{
	br_sha256_context c;
	unsigned char h[32];

	br_sha256_init(&c);
	br_sha256_update(&c, p, n);
	br_sha256_out(&c, h);
	enc_hex(h, sizeof h, out);
}

char *
sigv4_uri_encode(const char *s, int keep_slash)
{
	if (s == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return http_escape(s, keep_slash);
}

static void
hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
    unsigned char out[32])
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, klen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, msg, mlen);
	br_hmac_out(&hc, out);
	explicit_bzero(&kc, sizeof kc);
	explicit_bzero(&hc, sizeof hc);
}

void
sigv4_signing_key(const char *secret_key, const char *date8,
    const char *region, const char *service, unsigned char key[32])
{
	/* HMAC uses a key longer than the hash's 64-byte block through its
	 * SHA-256, so "AWS4" SECRET never needs to be in one piece. */
	unsigned char k0[64], k[32];
	size_t n = strlen(secret_key), k0len;
	br_sha256_context c;

	if (4 + n <= sizeof k0) {
		memcpy(k0, "AWS4", 4);
		memcpy(k0 + 4, secret_key, n);
		k0len = 4 + n;
	} else {
		br_sha256_init(&c);
		br_sha256_update(&c, "AWS4", 4);
		br_sha256_update(&c, secret_key, n);
		br_sha256_out(&c, k0);
		explicit_bzero(&c, sizeof c);
		k0len = 32;
	}
	hmac_sha256(k0, k0len, date8, strlen(date8), k);
	hmac_sha256(k, sizeof k, region, strlen(region), k);
	hmac_sha256(k, sizeof k, service, strlen(service), k);
	hmac_sha256(k, sizeof k, "aws4_request", 12, key);
	explicit_bzero(k0, sizeof k0);
	explicit_bzero(k, sizeof k);
}

/* Input checks. A header value may hold any byte but the controls (HTAB
 * aside); everything that goes on the request line or into the credential
 * scope is visible ASCII. */

static int
tchar(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

static int
token_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
value_ok(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

/* Visible ASCII, none of the bytes in bad; empty is fine only if empty_ok. */
static int
visible_ok(const char *s, const char *bad, int empty_ok)
{
	const unsigned char *p;

	if (s == NULL || (*s == '\0' && !empty_ok))
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr(bad, *p) != NULL)
			return 0;
	return 1;
}

static int
has_token(const struct sigv4_req *r)
{
	return r->session_token != NULL && *r->session_token != '\0';
}

static int
req_ok(const struct sigv4_req *r)
{
	return r != NULL && r->method != NULL &&
	    token_ok(r->method, strlen(r->method)) &&
	    visible_ok(r->host, "/", 0) &&
	    (r->path == NULL || *r->path == '\0' ||
	    (*r->path == '/' && visible_ok(r->path, "?#", 0))) &&
	    (r->query == NULL || visible_ok(r->query, "#", 1)) &&
	    (r->headers != NULL || r->nheaders == 0) &&
	    visible_ok(r->payload_hash, "", 0) &&
	    visible_ok(r->region, "/", 0) &&
	    visible_ok(r->service, "/", 0) &&
	    visible_ok(r->access_key, "/,", 0) &&
	    r->secret_key != NULL &&
	    (!has_token(r) || value_ok(r->session_token));
}

/* One header line of the canonical request. */
struct hdr {
	char	*name;	/* lowercase */
	char	*value;	/* trimmed; runs of SP and HTAB one SP */
	size_t	order;	/* keeps repeated names in request order */
};

static char *
lower(const char *s, size_t n)
{
	char *p;
	size_t i;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		p[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' :
		    s[i]);
	p[n] = '\0';
	return p;
}

static char *
trimall(const char *s)
{
	char *out, *q;
	int space = 0;

	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	for (q = out; *s; s++) {
		if (*s == ' ' || *s == '\t')
			space = 1;
		else {
			if (space)
				*q++ = ' ';
			space = 0;
			*q++ = *s;
		}
	}
	*q = '\0';
	return out;
}

static int
hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Appends to h[*n] the header name[0..nlen): value; -1 out of memory. */
static int
hdr_add(struct hdr *h, size_t *n, const char *name, size_t nlen,
    const char *value)
{
	h[*n].name = lower(name, nlen);
	h[*n].value = trimall(value);
	h[*n].order = *n;
	(*n)++;
	return h[*n - 1].name != NULL && h[*n - 1].value != NULL ? 0 : -1;
}

/* The extra headers may not repeat these: the signer writes them. */
static int
reserved(const char *lname, const struct sigv4_req *r)
{
	return strcmp(lname, "host") == 0 ||
	    strcmp(lname, "authorization") == 0 ||
	    strcmp(lname, "x-amz-date") == 0 ||
	    (strcmp(lname, "x-amz-content-sha256") == 0 &&
	    !r->no_content_sha256) ||
	    (strcmp(lname, "x-amz-security-token") == 0 && has_token(r));
}

/* Appends the canonical header lines to c and the signed header names to
 * sh. Returns 0, or -1 with errno set. */
static int
canon_headers(const struct sigv4_req *r, const char *date, struct buf *c,
    struct buf *sh)
{
	struct hdr *h;
	const char *s, *colon;
	size_t n = 0, i;
	int rc = -1, err = ENOMEM;

	if ((h = calloc(r->nheaders + 4, sizeof *h)) == NULL)
		return -1;
	for (i = 0; i < r->nheaders; i++) {
		s = r->headers[i];
		if (s == NULL || (colon = strchr(s, ':')) == NULL ||
		    !token_ok(s, (size_t)(colon - s)) || !value_ok(colon + 1)) {
			err = EINVAL;
			goto out;
		}
		if (hdr_add(h, &n, s, (size_t)(colon - s), colon + 1) < 0)
			goto out;
		if (reserved(h[n - 1].name, r)) {
			err = EINVAL;
			goto out;
		}
	}
	if (hdr_add(h, &n, "host", 4, r->host) < 0 ||
	    hdr_add(h, &n, "x-amz-date", 10, date) < 0 ||
	    (!r->no_content_sha256 && hdr_add(h, &n, "x-amz-content-sha256",
	    20, r->payload_hash) < 0) ||
	    (has_token(r) && hdr_add(h, &n,
	    "x-amz-security-token", 20, r->session_token) < 0))
		goto out;
	qsort(h, n, sizeof *h, hdr_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0) {
			buf_addc(c, ',');
			buf_adds(c, h[i].value);
			continue;
		}
		if (i > 0) {
			buf_addc(c, '\n');
			buf_addc(sh, ';');
		}
		buf_adds(c, h[i].name);
		buf_addc(c, ':');
		buf_adds(c, h[i].value);
		buf_adds(sh, h[i].name);
	}
	buf_addc(c, '\n');
	rc = c->fail || sh->fail ? -1 : 0;
out:
	for (i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	if (rc < 0)
		errno = err;
	return rc;
}

/* One query parameter: pointers into the query string. */
struct param {
	const char	*name, *value;
	size_t		nlen, vlen;
};

static int
bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
param_cmp(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = bytes_cmp(x->name, x->nlen, y->name, y->nlen);

	return c != 0 ? c : bytes_cmp(x->value, x->vlen, y->value, y->vlen);
}

/* Appends the canonical query string to c. 0, or -1 out of memory. */
static int
canon_query(const char *q, struct buf *c)
{
	struct param *pv;
	const char *p, *end, *eq;
	size_t n = 1, np = 0, i;

	if (q == NULL || *q == '\0')
		return 0;
	for (p = q; *p; p++)
		n += *p == '&';
	if ((pv = calloc(n, sizeof *pv)) == NULL)
		return -1;
	for (p = q; *p; p = *end ? end + 1 : end) {
		end = strchr(p, '&');
		if (end == NULL)
			end = p + strlen(p);
		if (end == p)
			continue;
		eq = memchr(p, '=', (size_t)(end - p));
		pv[np].name = p;
		pv[np].nlen = (size_t)((eq ? eq : end) - p);
		pv[np].value = eq ? eq + 1 : end;
		pv[np].vlen = eq ? (size_t)(end - eq - 1) : 0;
		np++;
	}
	qsort(pv, np, sizeof *pv, param_cmp);
	for (i = 0; i < np; i++) {
		if (i > 0)
			buf_addc(c, '&');
		buf_add(c, pv[i].name, pv[i].nlen);
		buf_addc(c, '=');
		buf_add(c, pv[i].value, pv[i].vlen);
	}
	free(pv);
	return c->fail ? -1 : 0;
}

/* Everything sigv4_signature and sigv4_sign compute. */
struct parts {
	char	date[32];	/* YYYYMMDDTHHMMSSZ */
	char	sig[65];
	char	*canonical, *sts, *signed_headers;
};

static void
parts_free(struct parts *p)
{
	free(p->canonical);
	free(p->sts);
	free(p->signed_headers);
	memset(p, 0, sizeof *p);
}

static int
amz_date(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return -1;
	snprintf(out, size, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

static int
build(const struct sigv4_req *r, struct parts *p)
{
	struct buf c = { 0 }, sh = { 0 }, s = { 0 };
	char h[65], date8[9];
	unsigned char key[32], mac[32];

	memset(p, 0, sizeof *p);
	if (!req_ok(r) || amz_date(r->when, p->date, sizeof p->date) < 0) {
		errno = EINVAL;
		return -1;
	}
	memcpy(date8, p->date, 8);
	date8[8] = '\0';

	buf_adds(&c, r->method);
	buf_addc(&c, '\n');
	buf_adds(&c, r->path && *r->path ? r->path : "/");
	buf_addc(&c, '\n');
	if (canon_query(r->query, &c) < 0)
		goto nomem;
	buf_addc(&c, '\n');
	if (canon_headers(r, p->date, &c, &sh) < 0)
		goto fail;
	buf_addc(&c, '\n');
	buf_add(&c, sh.p, sh.len);
	buf_addc(&c, '\n');
	buf_adds(&c, r->payload_hash);
	if (c.fail)
		goto nomem;

	sigv4_sha256_hex(c.p, c.len, h);
	buf_adds(&s, "AWS4-HMAC-SHA256\n");
	buf_adds(&s, p->date);
	buf_addc(&s, '\n');
	buf_adds(&s, date8);
	buf_addc(&s, '/');
	buf_adds(&s, r->region);
	buf_addc(&s, '/');
	buf_adds(&s, r->service);
	buf_adds(&s, "/aws4_request\n");
	buf_adds(&s, h);
	if (s.fail)
		goto nomem;

	sigv4_signing_key(r->secret_key, date8, r->region, r->service, key);
	hmac_sha256(key, sizeof key, s.p, s.len, mac);
	explicit_bzero(key, sizeof key);
	enc_hex(mac, sizeof mac, p->sig);

	p->canonical = buf_take(&c);
	p->sts = buf_take(&s);
	p->signed_headers = buf_take(&sh);
	return 0;
nomem:
	errno = ENOMEM;
fail:
	free(c.p);
	free(sh.p);
	free(s.p);
	return -1;
}

int
sigv4_signature(const struct sigv4_req *r, char sig[65], char **canonical,
    char **sts)
{
	struct parts p;

	if (build(r, &p) < 0)
		return -1;
	memcpy(sig, p.sig, sizeof p.sig);
	if (canonical != NULL) {
		*canonical = p.canonical;
		p.canonical = NULL;
	}
	if (sts != NULL) {
		*sts = p.sts;
		p.sts = NULL;
	}
	parts_free(&p);
	return 0;
}

int
sigv4_sign(const struct sigv4_req *r, char out[SIGV4_NHDR][SIGV4_HDR_MAX])
{
	struct parts p;
	int n = 0, len[SIGV4_NHDR], i;

	if (build(r, &p) < 0)
		return -1;
	len[n] = snprintf(out[n], SIGV4_HDR_MAX, "x-amz-date: %s", p.date);
	n++;
	if (!r->no_content_sha256) {
		len[n] = snprintf(out[n], SIGV4_HDR_MAX,
		    "x-amz-content-sha256: %s", r->payload_hash);
		n++;
	}
	if (has_token(r)) {
		len[n] = snprintf(out[n], SIGV4_HDR_MAX,
		    "x-amz-security-token: %s", r->session_token);
		n++;
	}
	len[n] = snprintf(out[n], SIGV4_HDR_MAX, "Authorization: "
	    "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, "
	    "SignedHeaders=%s, Signature=%s", r->access_key, p.date,
	    r->region, r->service, p.signed_headers, p.sig);
	n++;
	parts_free(&p);
	for (i = 0; i < n; i++)
		if (len[i] < 0 || len[i] >= SIGV4_HDR_MAX) {
			errno = EINVAL;
			return -1;
		}
	return n;
}
