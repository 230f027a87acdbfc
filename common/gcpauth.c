/*
 * gcpauth: the service account JWT and the Application Default
 * Credentials chain (see gcpauth.h). The environment is read once, in
 * gcptoken_new; the credentials files are read again at each fetch. The
 * chain is walked from the top at each fetch, under the chain's mutex.
 *
 * A credentials file is one JSON object; "type" says which kind:
 *
 *   {"type": "service_account", "project_id": "...",
 *    "private_key_id": "40 hex digits",
 *    "private_key": "-----BEGIN PRIVATE KEY-----\n...",
 *    "client_email": "NAME@PROJECT.iam.gserviceaccount.com",
 *    "client_id": "...", "token_uri": "https://oauth2.googleapis.com/token",
 *    ...}
 *   {"type": "authorized_user", "client_id": "...",
 *    "client_secret": "...", "refresh_token": "...", ...}
 *
 * client_email and private_key are required, private_key_id becomes the
 * JWT's kid when not empty; client_id, client_secret and refresh_token
 * are required. token_uri, in both, defaults to GCPAUTH_TOKEN_URI and must
 * be https, or http to a loopback address: the key's assertion or the
 * refresh token goes there. Other members are ignored; other types are
 * refused.
 *
 * The token endpoint: POST TOKEN_URI, form-encoded, either
 *   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT
 * or
 *   grant_type=refresh_token&client_id=ID&client_secret=S&refresh_token=R
 * answers
 *   {"access_token": "ya29...", "expires_in": 3599, "token_type": "Bearer"}
 * and on failure, with a 4xx or 5xx status,
 *   {"error": "invalid_grant", "error_description": "Invalid JWT
 *    Signature."}
 *
 * The metadata server: GET http://HOST/computeMetadata/v1/instance/
 * service-accounts/default/token with Metadata-Flavor: Google answers the
 * same JSON as the token endpoint, and Metadata-Flavor: Google among its
 * headers. An answer without that header is from something else (a proxy,
 * a captive portal) and the source does not apply; so does 404, an
 * instance without a service account.
 *
 * expires_in is a JSON number or a string of digits.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>
#include <jansson.h>

#include "enc.h"
#include "gcpauth.h"
#include "cred.h"
#include "http.h"

#define TRIES		3	/* attempts of a network request */
#define FILE_MAX	(64 * 1024)
#define ANSWER_MAX	(256 * 1024)
#define TOKEN_MAX	(64 * 1024)
#define EMAIL_MAX	254
#define SIG_MAX		512	/* bytes of an RSA-4096 signature */

#define META_HOST	"metadata.google.internal"
#define META_PATH	"/computeMetadata/v1/instance/service-accounts/" \
			"default/token"
#define ADC_NAME	"application_default_credentials.json"
#define JWT_GRANT	"urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"

/* What a source did: yielded, did not apply, or failed (100 or 111). */
#define SKIP		1

/* The JWT. */

/* A growing buffer of secret bytes: wiped when it moves or is freed. */
struct sbuf {
	unsigned char	*p;
	size_t		len, cap;
	int		oom;
};

static void
sbuf_add(void *arg, const void *src, size_t n)
{
	struct sbuf *b = arg;
	unsigned char *np;
	size_t cap;

	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 2048;
		while (cap < b->len + n)
			cap *= 2;
		if ((np = malloc(cap)) == NULL) {
			b->oom = 1;
			return;
		}
		if (b->p != NULL) {
			memcpy(np, b->p, b->len);
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void
sbuf_free(struct sbuf *b)
{
	if (b->p != NULL) {
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof *b);
}

/*
 * Decodes the first "PRIVATE KEY" or "RSA PRIVATE KEY" object of pem into
 * sk. Returns 0 when it is an RSA key, else -1 with errno EBADMSG or
 * ENOMEM.
 */
static int
rsa_key(const char *pem, br_skey_decoder_context *sk)
{
	const char *chunk[2] = { pem, "\n" };	/* the last line may lack
						 * its LF */
	br_pem_decoder_context pc;
	struct sbuf der;
	const char *p, *name;
	size_t left, k, i;
	int in = 0, found = 0, bad = 0;

	memset(&der, 0, sizeof der);
	br_pem_decoder_init(&pc);
	for (i = 0; i < 2 && !found && !bad; i++) {
		p = chunk[i];
		left = strlen(p);
		while (left > 0 && !found && !bad) {
			k = br_pem_decoder_push(&pc, p, left);
			p += k;
			left -= k;
			switch (br_pem_decoder_event(&pc)) {
			case BR_PEM_BEGIN_OBJ:
				name = br_pem_decoder_name(&pc);
				in = strcmp(name, "PRIVATE KEY") == 0 ||
				    strcmp(name, "RSA PRIVATE KEY") == 0;
				der.len = 0;
				br_pem_decoder_setdest(&pc, in ? sbuf_add :
				    NULL, &der);
				break;
			case BR_PEM_END_OBJ:
				found = in;
				in = 0;
				break;
			case BR_PEM_ERROR:
				bad = 1;
				break;
			}
		}
	}
	explicit_bzero(&pc, sizeof pc);
	if (der.oom) {
		sbuf_free(&der);
		errno = ENOMEM;
		return -1;
	}
	if (!found || bad) {
		sbuf_free(&der);
		errno = EBADMSG;
		return -1;
	}
	br_skey_decoder_init(sk);
	br_skey_decoder_push(sk, der.p, der.len);
	sbuf_free(&der);
	if (br_skey_decoder_last_error(sk) != 0 ||
	    br_skey_decoder_get_rsa(sk) == NULL) {
		explicit_bzero(sk, sizeof *sk);
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* The compact JSON of o, members in the order they were set; malloc'd,
 * or NULL. */
static char *
compact(json_t *o)
{
	return o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;
}

/* The header and claims of the JWT (see gcpauth.h) as JSON text. 0, or
 * -1 when a string is not UTF-8 or memory ran out. */
static int
jwt_json(const char *email, const char *key_id, const char *aud,
    const char *scope, time_t now, char **hs, char **cs)
{
	json_t *h, *c;

	h = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
	if (h != NULL && key_id != NULL && *key_id != '\0' &&
	    json_object_set_new(h, "kid", json_string(key_id)) < 0) {
		json_decref(h);
		h = NULL;
	}
	c = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", email, "scope",
	    scope, "aud", aud, "iat", (json_int_t)now, "exp",
	    (json_int_t)now + GCPAUTH_JWT_LIFE);
	*hs = compact(h);
	*cs = compact(c);
	json_decref(h);
	json_decref(c);
	if (*hs == NULL || *cs == NULL) {
		free(*hs);
		free(*cs);
		return -1;
	}
	return 0;
}

int
gcpauth_jwt(const char *email, const char *key_id, const char *pem,
    const char *aud, const char *scope, time_t now, char **out)
{
	br_skey_decoder_context *sk = NULL;
	const br_rsa_private_key *rk;
	unsigned char hash[32], sig[SIG_MAX];
	br_sha256_context hc;
	char *hs, *cs, *jwt = NULL;
	size_t hl, cl, len, slen;
	int e;

	*out = NULL;
	if (email == NULL || *email == '\0' || aud == NULL || *aud == '\0' ||
	    scope == NULL || *scope == '\0' || pem == NULL ||
	    jwt_json(email, key_id, aud, scope, now, &hs, &cs) < 0) {
		errno = EINVAL;
		return -1;
	}
	hl = strlen(hs);
	cl = strlen(cs);
	e = ENOMEM;
	if ((jwt = malloc((4 * hl + 2) / 3 + (4 * cl + 2) / 3 +
	    (4 * SIG_MAX + 2) / 3 + 3)) == NULL ||
	    (sk = malloc(sizeof *sk)) == NULL)
		goto out;
	enc_base64url(hs, hl, jwt);
	len = strlen(jwt);
	jwt[len++] = '.';
	enc_base64url(cs, cl, jwt + len);
	len += strlen(jwt + len);
	if (rsa_key(pem, sk) < 0) {
		e = errno;
		goto out;
	}
	rk = br_skey_decoder_get_rsa(sk);
	slen = (rk->n_bitlen + 7) / 8;
	br_sha256_init(&hc);
	br_sha256_update(&hc, jwt, len);
	br_sha256_out(&hc, hash);
	e = EBADMSG;
	if (slen > SIG_MAX || !br_rsa_pkcs1_sign_get_default()(
	    BR_HASH_OID_SHA256, hash, sizeof hash, rk, sig))
		goto out;
	jwt[len++] = '.';
	enc_base64url(sig, slen, jwt + len);
	e = 0;
out:
	if (sk != NULL) {
		explicit_bzero(sk, sizeof *sk);
		free(sk);
	}
	explicit_bzero(sig, sizeof sig);
	free(hs);
	free(cs);
	if (e != 0) {
		free(jwt);
		errno = e;
		return -1;
	}
	*out = jwt;
	return 0;
}

/* The token chain. */

enum { E_GAC, E_CLOUDSDK, E_HOME, E_META_HOST, E_N };

static const char *const env_names[E_N] = {
	"GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "HOME",
	"GCE_METADATA_HOST",
};

struct gcptoken_chain {
	pthread_mutex_t	mu;
	struct http	*h;		/* the caller's: token endpoint */
	struct http	*hown;		/* ours, when h was NULL */
	struct http	*hshort;	/* ours, short timeouts: the
					 * metadata server */
	char		*env[E_N];	/* NULL when unset or empty */
	char		*adc_file;	/* gcloud's, or NULL (no home) */
	struct cred_token held;	/* the current token */
};

time_t
gcptoken_refresh_at(time_t fetched, time_t expires)
{
	return cred_refresh_at(fetched, expires);
}

/* 1 if s is a non-empty run of printable ASCII without blanks and
 * without the characters in not. */
static int
plain(const char *s, const char *not)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || strchr(not, *s) != NULL)
			return 0;
	return 1;
}

/*
 * 1 if the host of the http URL url is loopback (127.0.0.0/8, ::1,
 * localhost). Other host names are not resolved, so not accepted.
 */
static int
loopback(const char *url)
{
	const char *h = strstr(url, "://"), *e;
	unsigned char a[16];
	char host[64];
	size_t k;

	if (h == NULL)
		return 0;
	h += 3;
	e = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(e - h)) != NULL)
		return 0;
	if (*h == '[') {
		if ((e = memchr(h, ']', (size_t)(e - h))) == NULL)
			return 0;
		h++;
	} else
		e = h + strcspn(h, ":/?#");
	if ((k = (size_t)(e - h)) == 0 || k >= sizeof host)
		return 0;
	memcpy(host, h, k);
	host[k] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char lo[16] = { [15] = 1 };

		return memcmp(a, lo, 16) == 0;
	}
	return 0;
}

/* 1 if url may receive a secret: https, or http to loopback. */
static int
url_safe(const char *url)
{
	if (!plain(url, ""))
		return 0;
	return strncasecmp(url, "https://", 8) == 0 ||
	    (strncasecmp(url, "http://", 7) == 0 && loopback(url));
}

/* 1 if h is host[:port]: a DNS name or IPv4 address, or [IPv6]. */
static int
host_ok(const char *h)
{
	const char *e;
	size_t k;

	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL || e == h + 1 ||
		    strspn(h + 1, "0123456789abcdefABCDEF:.") !=
		    (size_t)(e - h - 1))
			return 0;
		e++;
	} else {
		k = strspn(h, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
		if (k == 0)
			return 0;
		e = h + k;
	}
	if (*e == '\0')
		return 1;
	if (*e != ':' || e[1] == '\0' || strlen(e + 1) > 5)
		return 0;
	return strspn(e + 1, "0123456789") == strlen(e + 1);
}

/*
 * Reads a token answer (see the head of the file) from body[0..len),
 * which arrived at now, into g. Returns 0, or 111 for an answer that is
 * not a token.
 */
static int
token_answer(const char *body, size_t len, time_t now, const char *what,
    struct cred_got *g, char *err, size_t errlen)
{
	const char *tok;
	json_error_t je;
	long long v;
	json_t *j;
	int rc = 111;

	if (body == NULL || len == 0)
		return cred_fail(111, err, errlen, "%s: empty answer", what);
	if ((j = json_loadb(body, len, 0, &je)) == NULL)
		return cred_fail(111, err, errlen,
		    "%s: answer is not JSON (line %d)", what, je.line);
	if (!json_is_object(j)) {
		cred_fail(111, err, errlen, "%s: answer is not a JSON object",
		    what);
		goto out;
	}
	tok = json_string_value(json_object_get(j, "access_token"));
	if (tok == NULL || *tok == '\0') {
		cred_fail(111, err, errlen, "%s: answer lacks access_token",
		    what);
		goto out;
	}
	if (strlen(tok) > TOKEN_MAX || !plain(tok, "")) {
		cred_fail(111, err, errlen, "%s: access_token is not a token",
		    what);
		goto out;
	}
	if (cred_json_num(json_object_get(j, "expires_in"), &v) < 0) {
		cred_fail(111, err, errlen, "%s: answer lacks expires_in",
		    what);
		goto out;
	}
	if (v <= 0 || v > 10 * 365 * 86400LL) {
		cred_fail(111, err, errlen, "%s: expires_in is out of range",
		    what);
		goto out;
	}
	if ((g->tok = strdup(tok)) == NULL) {
		cred_fail(111, err, errlen, "out of memory");
		goto out;
	}
	g->expires = now + (time_t)v;
	rc = 0;
out:
	cred_json_wipe(j, "access_token");
	cred_json_wipe(j, "id_token");
	cred_json_wipe(j, "refresh_token");
	json_decref(j);
	return rc;
}

/* 1 if s may appear in a message: no run of 16 or more characters that
 * could be a token, a key or a secret the server echoed. */
static int
tame(const char *s)
{
	size_t run = 0;

	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || strchr("-_./+=~", *s))
			run++;
		else
			run = 0;
		if (run >= 16)
			return 0;
	}
	return 1;
}

/*
 * Writes into code, from an OAuth2 error answer, " ERROR" when error is a
 * plain name, then ": DESCRIPTION" when error_description is short,
 * printable, and holds nothing that looks like a token.
 */
static void
error_code(const struct http_resp *rs, char *code, size_t n)
{
	const char *e, *d;
	json_t *j;
	size_t k, i;

	code[0] = '\0';
	if (rs->body == NULL || rs->truncated ||
	    (j = json_loadb(rs->body, rs->body_len, 0, NULL)) == NULL)
		return;
	e = json_string_value(json_object_get(j, "error"));
	if (e != NULL && (k = strlen(e)) > 0 && k < 64 && strspn(e,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_") == k) {
		snprintf(code, n, " %s", e);
		d = json_string_value(json_object_get(j,
		    "error_description"));
		if (d != NULL && (k = strlen(d)) > 0 && k <= 120) {
			for (i = 0; i < k; i++)
				if (d[i] < ' ' || d[i] >= 0x7f)
					break;
			if (i == k && tame(d)) {
				k = strlen(code);
				snprintf(code + k, n - k, ": %s", d);
			}
		}
	}
	json_decref(j);
}

/* The outcome of a token request that cred_fetch() finished. */
static int
token_response(int rc, struct http_resp *rs, const char *what,
    struct cred_got *g, char *err, size_t errlen)
{
	char code[256];

	if (rc < 0)
		return cred_fail(111, err, errlen, "%s: %s", what, rs->err);
	if (rs->status != 200) {
		error_code(rs, code, sizeof code);
		return cred_fail(http_temporary(rc, rs) ? 111 : 100, err,
		    errlen, "%s: %ld%s", what, rs->status, code);
	}
	if (rs->truncated)
		return cred_fail(111, err, errlen, "%s: oversized answer",
		    what);
	return token_answer(rs->body, rs->body_len, time(NULL), what, g,
	    err, errlen);
}

/* POSTs the form body to url and reads the token answer into g. */
static int
post_form(struct gcptoken_chain *c, const char *url, const char *body,
    const char *what, struct cred_got *g, char *err, size_t errlen)
{
	const char *hdr[1] = {
		"Content-Type: application/x-www-form-urlencoded"
	};
	struct http_req rq;
	struct http_resp rs;
	int rc;

	memset(&rq, 0, sizeof rq);
	rq.method = "POST";
	rq.url = url;
	rq.headers = hdr;
	rq.nheaders = 1;
	rq.body = body;
	rq.body_len = strlen(body);
	rq.body_fd = -1;
	rq.max_body = ANSWER_MAX;
	rc = cred_fetch(c->h, &rq, &rs, TRIES);
	rc = token_response(rc, &rs, what, g, err, errlen);
	cred_resp_wipe_free(&rs);
	return rc;
}

/*
 * Writes "LEAD PATH TAIL" into dst (n bytes), PATH shortened from the left
 * to "...END" when the whole does not fit.
 */
static void
path_name(char *dst, size_t n, const char *lead, const char *path,
    const char *tail)
{
	size_t fixed, plen = strlen(path);
	int k;

	k = snprintf(dst, n, "%s %s%s", lead, path, tail);
	if (k >= 0 && (size_t)k < n)
		return;
	fixed = strlen(lead) + strlen(" ...") + strlen(tail) + 1;
	if (fixed + 8 > n) {
		snprintf(dst, n, "%s", lead);
		return;
	}
	snprintf(dst, n, "%s ...%s%s", lead, path + plen - (n - fixed),
	    tail);
}

/* A string member of a credentials file: NULL when absent or empty. */
static const char *
member(json_t *j, const char *name)
{
	const char *s = json_string_value(json_object_get(j, name));

	return s != NULL && *s != '\0' ? s : NULL;
}

/* The token_uri of a credentials file, checked. NULL with err set. */
static const char *
token_uri(json_t *j, const char *file, char *err, size_t errlen)
{
	json_t *v = json_object_get(j, "token_uri");
	const char *u;

	if (v == NULL || json_is_null(v))
		return GCPAUTH_TOKEN_URI;
	if ((u = json_string_value(v)) == NULL || !url_safe(u)) {
		cred_fail(100, err, errlen,
		    "%s: token_uri must be https, or http to a loopback "
		    "address", file);
		return NULL;
	}
	return u;
}

/* A service account key: the JWT bearer grant. */
static int
service_account(struct gcptoken_chain *c, json_t *j, const char *lead,
    const char *path, const char *file, struct cred_got *g, char *err,
    size_t errlen)
{
	const char *email = member(j, "client_email");
	const char *pem = member(j, "private_key");
	const char *kid = member(j, "private_key_id");
	const char *uri;
	char tail[EMAIL_MAX + 32], *jwt = NULL, *body = NULL;
	json_t *v;
	size_t k;
	int rc;

	if (email == NULL || pem == NULL)
		return cred_fail(100, err, errlen,
		    "%s: service account key lacks %s", file,
		    email == NULL ? "client_email" : "private_key");
	if (strlen(email) > EMAIL_MAX || !plain(email, "\"'\\"))
		return cred_fail(100, err, errlen, "%s: client_email is not an "
		    "email address", file);
	v = json_object_get(j, "private_key_id");
	if ((v != NULL && !json_is_string(v) && !json_is_null(v)) ||
	    (kid != NULL && (strlen(kid) > 256 || !plain(kid, ""))))
		return cred_fail(100, err, errlen,
		    "%s: private_key_id is not a key id", file);
	if ((uri = token_uri(j, file, err, errlen)) == NULL)
		return 100;
	snprintf(tail, sizeof tail, " (service account %s)", email);
	path_name(g->source, sizeof g->source, lead, path, tail);
	if (gcpauth_jwt(email, kid, pem, uri, GCPAUTH_SCOPE, time(NULL),
	    &jwt) < 0) {
		if (errno == ENOMEM)
			return cred_fail(111, err, errlen, "out of memory");
		return cred_fail(100, err, errlen,
		    "%s: private_key is not an RSA private key in PEM", file);
	}
	k = strlen(jwt) + sizeof "grant_type=" JWT_GRANT "&assertion=";
	if ((body = malloc(k)) == NULL) {
		cred_wipe_free(jwt);
		return cred_fail(111, err, errlen, "out of memory");
	}
	/* The JWT is base64url and dots: nothing to escape. */
	snprintf(body, k, "grant_type=%s&assertion=%s", JWT_GRANT, jwt);
	rc = post_form(c, uri, body, g->source, g, err, errlen);
	cred_wipe_free(jwt);
	cred_wipe_free(body);
	return rc;
}

/* A user's refresh token, as gcloud auth application-default login
 * leaves it. */
static int
authorized_user(struct gcptoken_chain *c, json_t *j, const char *lead,
    const char *path, const char *file, struct cred_got *g, char *err,
    size_t errlen)
{
	static const char *const need[3] = {
		"client_id", "client_secret", "refresh_token"
	};
	char *e[3] = { NULL, NULL, NULL }, *body = NULL;
	const char *uri;
	size_t i, k;
	int rc;

	for (i = 0; i < 3; i++)
		if (member(j, need[i]) == NULL)
			return cred_fail(100, err, errlen,
			    "%s: authorized user lacks %s", file, need[i]);
	if ((uri = token_uri(j, file, err, errlen)) == NULL)
		return 100;
	path_name(g->source, sizeof g->source, lead, path,
	    " (authorized user)");
	k = 128;
	for (i = 0; i < 3; i++) {
		if ((e[i] = http_escape(member(j, need[i]), 0)) == NULL) {
			rc = cred_fail(111, err, errlen, "out of memory");
			goto out;
		}
		k += strlen(e[i]);
	}
	if ((body = malloc(k)) == NULL) {
		rc = cred_fail(111, err, errlen, "out of memory");
		goto out;
	}
	snprintf(body, k, "grant_type=refresh_token&client_id=%s"
	    "&client_secret=%s&refresh_token=%s", e[0], e[1], e[2]);
	rc = post_form(c, uri, body, g->source, g, err, errlen);
out:
	for (i = 0; i < 3; i++)
		cred_wipe_free(e[i]);
	cred_wipe_free(body);
	return rc;
}

/*
 * Sources 1 and 2: a credentials file. must: the file was named, so its
 * absence is an error too. lead names the source ("gcloud ADC file").
 */
static int
from_file(struct gcptoken_chain *c, const char *lead, const char *path,
    int must, struct cred_got *g, struct cred_notes *n, char *err,
    size_t errlen)
{
	char file[1024], *text = NULL;
	const char *type;
	json_error_t je;
	json_t *j;
	size_t len = 0;
	int e, rc;

	if ((e = cred_slurp(path, FILE_MAX, &text, &len)) != 0) {
		if (!must && (e == ENOENT || e == ENOTDIR)) {
			cred_note(n, "%s %s (absent)", lead, path);
			return SKIP;
		}
		return cred_fail(e == ENOMEM ? 111 : 100, err, errlen,
		    "unable to read %s %s: %s", lead, path,
		    e == EFBIG ? "longer than 64 KiB" : strerror(e));
	}
	snprintf(file, sizeof file, "%s %s", lead, path);
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	explicit_bzero(text, len);
	free(text);
	if (j == NULL)
		return cred_fail(100, err, errlen, "%s: not JSON (line %d)",
		    file, je.line);
	if (!json_is_object(j)) {
		rc = cred_fail(100, err, errlen, "%s: not a JSON object", file);
		goto out;
	}
	if ((type = member(j, "type")) == NULL)
		rc = cred_fail(100, err, errlen, "%s: no \"type\"", file);
	else if (strcmp(type, "service_account") == 0)
		rc = service_account(c, j, lead, path, file, g, err, errlen);
	else if (strcmp(type, "authorized_user") == 0)
		rc = authorized_user(c, j, lead, path, file, g, err, errlen);
	else
		rc = cred_fail(100, err, errlen,
		    "%s: credentials of type \"%s\" are not supported", file,
		    strlen(type) <= 64 && strspn(type,
		    "abcdefghijklmnopqrstuvwxyz_") == strlen(type) ? type
		    : "?");
out:
	cred_json_wipe(j, "private_key");
	cred_json_wipe(j, "client_secret");
	cred_json_wipe(j, "refresh_token");
	json_decref(j);
	return rc;
}

static int
src_env(struct gcptoken_chain *c, struct cred_got *g, struct cred_notes *n,
    char *err, size_t errlen)
{
	if (c->env[E_GAC] == NULL) {
		cred_note(n, "GOOGLE_APPLICATION_CREDENTIALS (unset)");
		return SKIP;
	}
	return from_file(c, "GOOGLE_APPLICATION_CREDENTIALS file",
	    c->env[E_GAC], 1, g, n, err, errlen);
}

static int
src_gcloud(struct gcptoken_chain *c, struct cred_got *g, struct cred_notes *n,
    char *err, size_t errlen)
{
	if (c->adc_file == NULL) {
		cred_note(n, "gcloud ADC file (no HOME)");
		return SKIP;
	}
	return from_file(c, "gcloud ADC file", c->adc_file, 0, g, n, err,
	    errlen);
}

/* Source 3: the metadata server. */
static int
src_metadata(struct gcptoken_chain *c, struct cred_got *g, struct cred_notes *n,
    char *err, size_t errlen)
{
	const char *host = c->env[E_META_HOST] ? c->env[E_META_HOST] :
	    META_HOST;
	const char *hdr[1] = { "Metadata-Flavor: Google" };
	const char *flavor;
	char url[512], what[256];
	struct http_req rq;
	struct http_resp rs;
	int rc, attempt;

	if (strlen(host) > 200 || !host_ok(host))
		return cred_fail(100, err, errlen, "GCE_METADATA_HOST is not "
		    "host[:port]");
	snprintf(url, sizeof url, "http://%s" META_PATH, host);
	snprintf(what, sizeof what, "GCE metadata server %s", host);
	memset(&rq, 0, sizeof rq);
	rq.method = "GET";
	rq.url = url;
	rq.headers = hdr;
	rq.nheaders = 1;
	rq.body_fd = -1;
	rq.max_body = ANSWER_MAX;
	rq.want[0] = "Metadata-Flavor";
	/*
	 * One try when nothing answers, as off Google Cloud; after an answer
	 * from a metadata server, 429 and 5xx are tried again.
	 */
	for (attempt = 1;; attempt++) {
		rc = http_do(c->hshort, &rq, &rs);
		if (rc < 0 && attempt == 1) {
			cred_note(n, "%s (unreachable: %s)", what, rs.err);
			rc = SKIP;
			break;
		}
		flavor = rc == 0 ? rs.hdr[0] : NULL;
		if (rc == 0 && (flavor == NULL || strcmp(flavor, "Google") !=
		    0)) {
			cred_note(n, "%s (%ld without Metadata-Flavor: Google)",
			    what, rs.status);
			rc = SKIP;
			break;
		}
		if (rc == 0 && rs.status == 404) {
			cred_note(n, "%s (no service account: 404)", what);
			rc = SKIP;
			break;
		}
		if (rc == 0 && rs.status == 200) {
			if (rs.truncated)
				rc = cred_fail(111, err, errlen,
				    "%s: oversized answer", what);
			else
				rc = token_answer(rs.body, rs.body_len,
				    time(NULL), what, g, err, errlen);
			break;
		}
		if (attempt >= TRIES || !http_temporary(rc, &rs)) {
			rc = token_response(rc, &rs, what, g, err, errlen);
			break;
		}
		cred_resp_wipe_free(&rs);
		http_backoff(attempt, CRED_BACKOFF_MS, CRED_BACKOFF_MAX_MS);
	}
	cred_resp_wipe_free(&rs);
	if (rc == 0)
		snprintf(g->source, sizeof g->source, "%s", what);
	return rc;
}

typedef int (*source_fn)(struct gcptoken_chain *, struct cred_got *,
    struct cred_notes *, char *, size_t);

static const source_fn sources[] = {
	src_env, src_gcloud, src_metadata,
};

/* The chain, as a cred_token_fetch. */
static int
run_chain(void *ctx, struct cred_got *g, char *err, size_t errlen)
{
	struct gcptoken_chain *c = ctx;
	struct cred_notes n;
	size_t i;
	int rc;

	n.len = 0;
	n.buf[0] = '\0';
	for (i = 0; i < sizeof sources / sizeof sources[0]; i++) {
		memset(g, 0, sizeof *g);
		if ((rc = sources[i](c, g, &n, err, errlen)) != SKIP) {
			if (rc != 0) {
				cred_wipe_free(g->tok);
				g->tok = NULL;
			}
			return rc;
		}
	}
	return cred_fail(100, err, errlen, "no credentials found; tried %s",
	    n.buf);
}

int
gcptoken_get_expiry(struct gcptoken_chain *c, char *tok, size_t toklen,
    time_t *expires, char *source, size_t srclen, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&c->mu);
	rc = cred_token_get(&c->held, run_chain, c, tok, toklen, expires,
	    source, srclen, err, errlen);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int
gcptoken_get(struct gcptoken_chain *c, char *tok, size_t toklen,
    char *source, size_t srclen, char *err, size_t errlen)
{
	return gcptoken_get_expiry(c, tok, toklen, NULL, source, srclen, err,
	    errlen);
}

void
gcptoken_expire(struct gcptoken_chain *c)
{
	pthread_mutex_lock(&c->mu);
	cred_token_drop(&c->held);
	pthread_mutex_unlock(&c->mu);
}

/* gcloud's ADC file: in CLOUDSDK_CONFIG, else in ~/.config/gcloud (the
 * home from HOME, else the password database). 0, or -1 out of memory;
 * adc_file stays NULL when there is no home. */
static int
resolve_adc(struct gcptoken_chain *c)
{
	struct passwd pw, *r;
	char buf[4096];
	const char *dir = c->env[E_CLOUDSDK], *sub = "";
	size_t k;

	if (dir == NULL) {
		sub = "/.config/gcloud";
		if ((dir = c->env[E_HOME]) == NULL) {
			if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &r) !=
			    0 || r == NULL || pw.pw_dir == NULL ||
			    *pw.pw_dir == '\0')
				return 0;
			dir = pw.pw_dir;
		}
	}
	k = strlen(dir) + strlen(sub) + sizeof ADC_NAME + 1;
	if ((c->adc_file = malloc(k)) == NULL)
		return -1;
	snprintf(c->adc_file, k, "%s%s/%s", dir, sub, ADC_NAME);
	return 0;
}

struct gcptoken_chain *
gcptoken_new(struct http *h, char *const *env)
{
	struct gcptoken_chain *c;
	struct http_opts so;
	const char *eq;
	size_t i, k;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	for (; env != NULL && *env != NULL; env++) {
		if ((eq = strchr(*env, '=')) == NULL || eq[1] == '\0')
			continue;
		k = (size_t)(eq - *env);
		for (i = 0; i < E_N; i++)
			if (strlen(env_names[i]) == k &&
			    strncmp(*env, env_names[i], k) == 0)
				break;
		if (i == E_N || c->env[i] != NULL)
			continue;
		if ((c->env[i] = strdup(eq + 1)) == NULL)
			goto fail;
	}
	if (resolve_adc(c) < 0)
		goto fail;
	if (h == NULL && (h = c->hown = http_new(NULL)) == NULL)
		goto fail;
	c->h = h;
	memset(&so, 0, sizeof so);
	so.connect_s = 1;
	so.stall_s = 5;
	if ((c->hshort = http_new(&so)) == NULL)
		goto fail;
	return c;
fail:
	gcptoken_free(c);
	return NULL;
}

void
gcptoken_free(struct gcptoken_chain *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < E_N; i++)
		free(c->env[i]);
	free(c->adc_file);
	cred_token_drop(&c->held);
	http_free(c->hown);
	http_free(c->hshort);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
