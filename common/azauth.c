/*
 * azauth: Shared Key signing and the Azure AD token chain (see azauth.h).
 * The environment is read once, in aztoken_new; the federated token file
 * is read again at each fetch, since it is rotated. The chain is walked
 * from the top at each fetch, under the chain's mutex.
 *
 * Answers of the token sources, each a JSON object:
 *
 *   The Azure AD token endpoint: POST AUTHORITY/TENANT/oauth2/v2.0/token,
 *   form-encoded grant_type=client_credentials, client_id, client_secret
 *   (or client_assertion_type=urn:ietf:params:oauth:client-assertion-
 *   type:jwt-bearer and client_assertion) and scope=RESOURCE.default:
 *     {"token_type": "Bearer", "expires_in": 3599, "access_token": "..."}
 *   and on failure, with a 4xx or 5xx status:
 *     {"error": "invalid_client", "error_description": "AADSTS7000215: ...",
 *      "error_codes": [7000215], ...}
 *
 *   App Service and Container Apps: GET IDENTITY_ENDPOINT?api-version=
 *   2019-08-01&resource=RESOURCE[&client_id=ID] with X-IDENTITY-HEADER:
 *     {"access_token": "...", "expires_on": "1586984735", ...}
 *
 *   IMDS: GET HOST/metadata/identity/oauth2/token?api-version=2018-02-01
 *   &resource=RESOURCE[&client_id=ID] with Metadata: true:
 *     {"access_token": "...", "expires_in": "86399",
 *      "expires_on": "1506484173", ...}
 *   and 400 {"error": "invalid_request", ...} on a machine without such an
 *   identity.
 *
 *   az account get-access-token --resource RESOURCE -o json, on stdout:
 *     {"accessToken": "...", "expiresOn": "2023-10-31 21:59:10.000000",
 *      "expires_on": 1698789550, ...}
 *   expiresOn is local time; expires_on (newer CLIs) is in seconds since
 *   the epoch.
 *
 * Numbers come as JSON numbers or as strings of digits. expires_on (an
 * instant) wins over expires_in (seconds from the answer's arrival).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>
#include <jansson.h>

#include "azauth.h"
#include "enc.h"
#include "cred.h"
#include "http.h"

#define KEY_MAX		256	/* bytes of a decoded account key */
#define TRIES		3	/* attempts of a network request */
#define ANSWER_MAX	(256 * 1024)
#define TOKEN_MAX	(64 * 1024)
#define FILE_MAX	(64 * 1024)
#define CLI_OUT_MAX	(1024 * 1024)
#define CLI_ERR_MAX	(16 * 1024)
#define CLI_TIMEOUT_S	30

#define AUTHORITY	"https://login.microsoftonline.com/"
#define IMDS_HOST	"http://169.254.169.254"
#define RES_ESC		"https%3A%2F%2Fstorage.azure.com%2F"
#define ASSERTION_TYPE	\
	"urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"

/* What a source did: yielded, did not apply, or failed (100 or 111). */
#define SKIP		1

/* Shared Key. */

/* The standard headers of the string to sign, in its order. */
static const char *const std_names[] = {
	"Content-Encoding", "Content-Language", "Content-Length",
	"Content-MD5", "Content-Type", "Date", "If-Modified-Since",
	"If-Match", "If-None-Match", "If-Unmodified-Since", "Range",
};
#define NSTD		(sizeof std_names / sizeof std_names[0])
#define STD_LENGTH	2
#define STD_DATE	5

struct buf {
	char	*p;
	size_t	len, cap;
	int	oom;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	size_t cap;
	char *np;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 512;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* One header as given: its name and its value trimmed of SP and HTAB. */
struct field {
	const char	*name, *val;
	size_t		nlen, vlen;
};

/* 1 if c may be in a header name (an RFC 9110 token). */
static int
tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) !=
	    NULL);
}

/* Splits "Name: value". Returns 0, or -1 when it is not a header or the
 * value holds a control character. */
static int
split(const char *h, struct field *f)
{
	const char *colon, *v, *e, *p;

	if ((colon = strchr(h, ':')) == NULL || colon == h)
		return -1;
	for (p = h; p < colon; p++)
		if (!tchar((unsigned char)*p))
			return -1;
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (p = v; p < e; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	f->name = h;
	f->nlen = (size_t)(colon - h);
	f->val = v;
	f->vlen = (size_t)(e - v);
	return 0;
}

static int
name_is(const struct field *f, const char *name)
{
	return f->nlen == strlen(name) && strncasecmp(f->name, name,
	    f->nlen) == 0;
}

/* The rank of a character of an x-ms-* name: '_' < '-' < 0-9 < a-z. */
static int
xms_rank(int c)
{
	c = tolower(c);
	if (c == '_')
		return 0;
	if (c == '-')
		return 1;
	if (c >= '0' && c <= '9')
		return 2 + c - '0';
	return 12 + c - 'a';
}

static int
xms_cmp(const void *a, const void *b)
{
	const struct field *x = a, *y = b;
	size_t i;
	int d;

	for (i = 0; i < x->nlen && i < y->nlen; i++)
		if ((d = xms_rank((unsigned char)x->name[i]) -
		    xms_rank((unsigned char)y->name[i])) != 0)
			return d;
	return x->nlen < y->nlen ? -1 : x->nlen > y->nlen;
}

/* 1 if the x-ms-* header f is one every server canonicalizes alike. */
static int
xms_ok(const struct field *f)
{
	size_t i;
	int c;

	for (i = 0; i < f->nlen; i++) {
		c = tolower((unsigned char)f->name[i]);
		if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') &&
		    c != '-' && c != '_')
			return 0;
	}
	for (i = 0; i + 1 < f->vlen; i++)
		if (f->val[i] == ' ' && f->val[i + 1] == ' ')
			return 0;
	return 1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* URL-decodes s[0..n) ('+' is a space) into a malloc'd string. NULL with
 * errno EINVAL (a bad escape, or a NUL) or ENOMEM. */
static char *
url_decode(const char *s, size_t n, int lower)
{
	char *out, *o;
	size_t i;
	int hi, lo;

	if ((out = o = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			*o = ' ';
		else if (s[i] != '%')
			*o = s[i];
		else {
			if (i + 2 >= n)
				goto bad;
			if ((hi = hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)s[i + 2])) < 0 ||
			    (hi == 0 && lo == 0))
				goto bad;
			*o = (char)(hi << 4 | lo);
			i += 2;
		}
		if (lower)
			*o = (char)tolower((unsigned char)*o);
		o++;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	errno = EINVAL;
	return NULL;
}

struct qparam {
	char	*name, *val;
};

static int
qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int d;

	if ((d = strcmp(x->name, y->name)) != 0)
		return d;
	return strcmp(x->val, y->val);
}

/* Appends the query's part of the canonicalized resource. 0, or -1 with
 * errno. */
static int
canon_query(struct buf *b, const char *q)
{
	struct qparam *qp = NULL;
	const char *p, *amp, *eq;
	size_t n = 0, cap = 0, i;
	int rc = -1;

	for (p = q; p != NULL && *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = p + strcspn(p, "&");
		if (amp == p)
			continue;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		if (eq == p) {
			errno = EINVAL;
			goto out;
		}
		if (n == cap) {
			struct qparam *np;

			cap = cap ? cap * 2 : 16;
			if ((np = realloc(qp, cap * sizeof *qp)) == NULL)
				goto out;
			qp = np;
		}
		qp[n].val = NULL;
		if ((qp[n].name = url_decode(p, (size_t)(eq - p), 1)) ==
		    NULL)
			goto out;
		if ((qp[n].val = url_decode(eq + (eq < amp),
		    (size_t)(amp - eq) - (eq < amp), 0)) == NULL) {
			free(qp[n].name);
			goto out;
		}
		n++;
	}
	if (n > 1)
		qsort(qp, n, sizeof *qp, qparam_cmp);
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(qp[i].name, qp[i - 1].name) != 0) {
			buf_str(b, "\n");
			buf_str(b, qp[i].name);
			buf_str(b, ":");
		} else
			buf_str(b, ",");
		buf_str(b, qp[i].val);
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(qp[i].name);
		free(qp[i].val);
	}
	free(qp);
	return rc;
}

/* 1 if s is a non-empty run of printable ASCII without blanks and
 * without the characters in not. */
static int
plain(const char *s, const char *not)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || strchr(not, *s) != NULL)
			return 0;
	return 1;
}

char *
azauth_string_to_sign(const char *method, const char *path,
    const char *query, const char *const *headers, size_t nheaders,
    const char *account)
{
	struct field std[NSTD], f, *xms = NULL;
	struct buf b;
	size_t i, j, nx = 0;
	int have[NSTD] = { 0 }, have_xdate = 0;

	memset(&b, 0, sizeof b);
	if (!plain(method, "") || !plain(account, "/:") ||
	    strlen(account) > 255 || (nheaders > 0 && headers == NULL) ||
	    (path != NULL && *path != '\0' && !plain(path, "?#")) ||
	    (query != NULL && *query != '\0' && !plain(query, "#")))
		goto bad;
	if (nheaders > 0 && (xms = calloc(nheaders, sizeof *xms)) == NULL)
		return NULL;
	for (i = 0; i < nheaders; i++) {
		if (headers[i] == NULL || split(headers[i], &f) < 0 ||
		    name_is(&f, "Authorization"))
			goto bad;
		if (f.nlen > 5 && strncasecmp(f.name, "x-ms-", 5) == 0) {
			if (!xms_ok(&f))
				goto bad;
			have_xdate |= name_is(&f, "x-ms-date");
			xms[nx++] = f;
			continue;
		}
		for (j = 0; j < NSTD; j++)
			if (name_is(&f, std_names[j]))
				break;
		if (j == NSTD)
			continue;
		if (have[j])
			goto bad;
		have[j] = 1;
		std[j] = f;
	}
	if (have_xdate && have[STD_DATE])
		goto bad;
	if (nx > 1)
		qsort(xms, nx, sizeof *xms, xms_cmp);
	for (i = 1; i < nx; i++)
		if (xms_cmp(&xms[i - 1], &xms[i]) == 0)
			goto bad;

	buf_str(&b, method);
	buf_str(&b, "\n");
	for (j = 0; j < NSTD; j++) {
		if (have[j] && !(j == STD_LENGTH && std[j].vlen == 1 &&
		    std[j].val[0] == '0'))
			buf_add(&b, std[j].val, std[j].vlen);
		buf_str(&b, "\n");
	}
	for (i = 0; i < nx; i++) {
		for (j = 0; j < xms[i].nlen; j++) {
			char c = (char)tolower((unsigned char)xms[i].name[j]);

			buf_add(&b, &c, 1);
		}
		buf_str(&b, ":");
		buf_add(&b, xms[i].val, xms[i].vlen);
		buf_str(&b, "\n");
	}
	buf_str(&b, "/");
	buf_str(&b, account);
	buf_str(&b, path != NULL && *path != '\0' ? path : "/");
	if (canon_query(&b, query) < 0) {
		if (errno == EINVAL)
			goto bad;
		b.oom = 1;
	}
	free(xms);
	if (b.oom) {
		free(b.p);
		errno = ENOMEM;
		return NULL;
	}
	return b.p;
bad:
	free(xms);
	free(b.p);
	errno = EINVAL;
	return NULL;
}

int
azauth_sharedkey(const char *method, const char *path, const char *query,
    const char *const *headers, size_t nheaders, const char *account,
    const char *key, char *out, size_t outlen)
{
	unsigned char raw[KEY_MAX], mac[32];
	br_hmac_key_context kc;
	br_hmac_context hc;
	char sig[48], *sts;
	long klen;
	int n, e = 0;

	if (outlen > 0)
		out[0] = '\0';
	if (key == NULL || (klen = enc_unbase64(key, raw, sizeof raw)) <= 0) {
		explicit_bzero(raw, sizeof raw);
		errno = EINVAL;
		return -1;
	}
	if ((sts = azauth_string_to_sign(method, path, query, headers,
	    nheaders, account)) == NULL) {
		e = errno;
		goto out;
	}
	br_hmac_key_init(&kc, &br_sha256_vtable, raw, (size_t)klen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, sts, strlen(sts));
	br_hmac_out(&hc, mac);
	enc_base64(mac, sizeof mac, sig);
	free(sts);
	n = snprintf(out, outlen, "Authorization: SharedKey %s:%s", account,
	    sig);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		e = ERANGE;
	}
out:
	explicit_bzero(raw, sizeof raw);
	explicit_bzero(&kc, sizeof kc);
	explicit_bzero(&hc, sizeof hc);
	explicit_bzero(mac, sizeof mac);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

void
azauth_date(time_t t, char *out)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec"
	};
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0)
		memset(&tm, 0, sizeof tm);
	snprintf(out, AZAUTH_DATE_MAX, "%.3s, %02u %.3s %04d %02u:%02u:%02u "
	    "GMT", days[(unsigned)tm.tm_wday % 7], (unsigned)tm.tm_mday % 100,
	    months[(unsigned)tm.tm_mon % 12], tm.tm_year + 1900,
	    (unsigned)tm.tm_hour % 100, (unsigned)tm.tm_min % 100,
	    (unsigned)tm.tm_sec % 100);
}

/* The token chain. */

enum {
	E_CLIENT_ID, E_TENANT, E_SECRET, E_FED, E_AUTHORITY, E_ID_EP,
	E_ID_HDR, E_POD, E_PATH, E_N
};

static const char *const env_names[E_N] = {
	"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
	"AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
	"IDENTITY_ENDPOINT", "IDENTITY_HEADER",
	"AZURE_POD_IDENTITY_AUTHORITY_HOST", "PATH",
};

struct aztoken_chain {
	pthread_mutex_t	mu;
	struct http	*h;		/* the caller's: Azure AD */
	struct http	*hown;		/* ours, when h was NULL */
	struct http	*hshort;	/* ours, short timeouts: managed
					 * identity */
	char		*env[E_N];	/* NULL when unset or empty */
	char		**envp;		/* all of the environment: az's */
	int		cli_timeout;
	struct cred_token held;	/* the current token */
};

time_t
aztoken_refresh_at(time_t fetched, time_t expires)
{
	return cred_refresh_at(fetched, expires);
}

/*
 * The host of an http(s) URL is one that cannot be elsewhere: loopback
 * (127.0.0.0/8, ::1, localhost), or with link_local also 169.254.0.0/16.
 * Host names other than localhost are not resolved, so not accepted.
 */
static int
local_host(const char *url, int link_local)
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
		return a[0] == 127 || (link_local && a[0] == 169 &&
		    a[1] == 254);
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char lo[16] = { [15] = 1 };

		return memcmp(a, lo, 16) == 0;
	}
	return 0;
}

/* 1 if url is https, or http to a host local_host accepts. */
static int
url_safe(const char *url, int link_local)
{
	if (!plain(url, ""))
		return 0;
	return strncasecmp(url, "https://", 8) == 0 ||
	    (strncasecmp(url, "http://", 7) == 0 && local_host(url,
	    link_local));
}

/* The CLI's expiresOn: local "YYYY-MM-DD HH:MM:SS[.ffffff]". */
static int
local_time(const char *s, time_t *t)
{
	static const char pat[] = "dddd-dd-dd dd:dd:dd";
	int v[6] = { 0 }, i, f = 0;
	struct tm tm;
	time_t r;

	for (i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == 'd') {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			v[f] = v[f] * 10 + (s[i] - '0');
		} else if (s[i] != pat[i])
			return -1;
		else
			f++;
	}
	s += i;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (*s != '\0' || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 ||
	    v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	tm.tm_isdst = -1;
	if ((r = mktime(&tm)) == (time_t)-1)
		return -1;
	*t = r;
	return 0;
}

/*
 * Reads a token answer (see the head of the file) from body[0..len),
 * which arrived at now, into g. cli: the names az writes. Returns 0, or
 * 111 for an answer that is not a token.
 */
static int
token_answer(const char *body, size_t len, int cli, time_t now,
    const char *what, struct cred_got *g, char *err, size_t errlen)
{
	const char *tname = cli ? "accessToken" : "access_token";
	const char *tok, *s;
	json_error_t je;
	long long v;
	json_t *j;
	size_t k;
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
	tok = json_string_value(json_object_get(j, tname));
	if (tok == NULL || *tok == '\0') {
		cred_fail(111, err, errlen, "%s: answer lacks %s", what, tname);
		goto out;
	}
	k = strlen(tok);
	if (k > TOKEN_MAX || !plain(tok, "")) {
		cred_fail(111, err, errlen, "%s: %s is not a token", what,
		    tname);
		goto out;
	}
	if (cred_json_num(json_object_get(j, "expires_on"), &v) == 0)
		g->expires = (time_t)v;
	else if (cred_json_num(json_object_get(j, "expires_in"), &v) == 0)
		g->expires = now + (time_t)v;
	else if (cli && (s = json_string_value(json_object_get(j,
	    "expiresOn"))) != NULL) {
		if (local_time(s, &g->expires) < 0) {
			cred_fail(111, err, errlen, "%s: bad expiresOn", what);
			goto out;
		}
	} else {
		cred_fail(111, err, errlen, "%s: answer lacks %s", what, cli ?
		    "expires_on and expiresOn" : "expires_on and expires_in");
		goto out;
	}
	if (g->expires <= now) {
		cred_fail(111, err, errlen, "%s: the token has expired already",
		    what);
		goto out;
	}
	if ((g->tok = strdup(tok)) == NULL) {
		cred_fail(111, err, errlen, "out of memory");
		goto out;
	}
	snprintf(g->source, sizeof g->source, "%s", what);
	rc = 0;
out:
	cred_json_wipe(j, tname);
	json_decref(j);
	return rc;
}

/*
 * Writes into code, from an error answer, " ERROR" and " (AADSTSnnn)" when
 * there: the error code of Azure AD and the managed identity endpoints.
 * Only names and numbers are kept: the rest may echo the request.
 */
static void
error_code(const struct http_resp *rs, char *code, size_t n)
{
	const char *e;
	json_t *j, *c;
	long long num;
	size_t k;

	code[0] = '\0';
	if (rs->body == NULL || rs->truncated ||
	    (j = json_loadb(rs->body, rs->body_len, 0, NULL)) == NULL)
		return;
	e = json_string_value(json_object_get(j, "error"));
	if (e != NULL && (k = strlen(e)) > 0 && k < 64 && strspn(e,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_") == k)
		snprintf(code, n, " %s", e);
	c = json_array_get(json_object_get(j, "error_codes"), 0);
	if (c != NULL && json_is_integer(c) && (num = json_integer_value(c)) >
	    0) {
		k = strlen(code);
		snprintf(code + k, n - k, " (AADSTS%lld)", num);
	}
	json_decref(j);
}

/* The outcome of a token request that cred_fetch() finished. */
static int
token_response(int rc, struct http_resp *rs, const char *what,
    struct cred_got *g, char *err, size_t errlen)
{
	char code[96];

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
	return token_answer(rs->body, rs->body_len, 0, time(NULL), what, g,
	    err, errlen);
}

/*
 * "A and B are set but C is not": which of the n variables a service
 * principal needs are missing.
 */
static int
half_set(const struct aztoken_chain *c, const int *need, int n, char *err,
    size_t errlen)
{
	char set[160] = "", unset[160] = "";
	int i, ns = 0, nu = 0;
	char *d;

	for (i = 0; i < n; i++) {
		d = c->env[need[i]] != NULL ? set : unset;
		if (*d != '\0')
			strcat(d, " and ");
		strcat(d, env_names[need[i]]);
		if (c->env[need[i]] != NULL)
			ns++;
		else
			nu++;
	}
	return cred_fail(100, err, errlen, "%s %s set but %s %s not", set,
	    ns > 1 ? "are" : "is", unset, nu > 1 ? "are" : "is");
}

/* Source a: a service principal, with a secret or a federated token. */
static int
src_principal(struct aztoken_chain *c, struct cred_got *g, struct cred_notes *n,
    char *err, size_t errlen)
{
	const char *secret = c->env[E_SECRET], *fed = c->env[E_FED];
	const char *auth = c->env[E_AUTHORITY] ? c->env[E_AUTHORITY] :
	    AUTHORITY;
	const char *hdr[1] = {
		"Content-Type: application/x-www-form-urlencoded"
	};
	const char *what = secret != NULL ?
	    "service principal (AZURE_CLIENT_SECRET)" :
	    "workload identity (AZURE_FEDERATED_TOKEN_FILE)";
	int need[3] = { E_TENANT, E_CLIENT_ID, secret || !fed ? E_SECRET :
	    E_FED };
	char *url = NULL, *body = NULL, *e_id = NULL, *e_cred = NULL;
	char *assertion = NULL;
	struct http_req rq;
	struct http_resp rs;
	size_t k;
	int rc, e;

	if (secret == NULL && fed == NULL && c->env[E_TENANT] == NULL) {
		cred_note(n, "service principal (AZURE_TENANT_ID unset)");
		return SKIP;
	}
	if (c->env[E_TENANT] == NULL || c->env[E_CLIENT_ID] == NULL ||
	    c->env[need[2]] == NULL)
		return half_set(c, need, 3, err, errlen);
	if (!plain(c->env[E_TENANT], "/?#%&\\"))
		return cred_fail(100, err, errlen, "AZURE_TENANT_ID is not a "
		    "tenant id or domain");
	if (!url_safe(auth, 0))
		return cred_fail(100, err, errlen,
		    "AZURE_AUTHORITY_HOST must be https, or http to a loopback "
		    "address");
	if (secret == NULL) {
		if ((e = cred_slurp_trimmed(fed, FILE_MAX, &assertion)) != 0)
			return cred_fail(100, err, errlen, "unable to read "
			    "AZURE_FEDERATED_TOKEN_FILE %s: %s", fed,
			    strerror(e));
		if (*assertion == '\0') {
			rc = cred_fail(100, err, errlen,
			    "AZURE_FEDERATED_TOKEN_FILE %s is empty", fed);
			goto out;
		}
	}
	k = strlen(auth);
	if ((url = malloc(k + strlen(c->env[E_TENANT]) + 32)) == NULL ||
	    (e_id = http_escape(c->env[E_CLIENT_ID], 0)) == NULL ||
	    (e_cred = http_escape(secret ? secret : assertion, 0)) == NULL ||
	    (body = malloc(strlen(e_id) + strlen(e_cred) + 256)) == NULL) {
		rc = cred_fail(111, err, errlen, "out of memory");
		goto out;
	}
	sprintf(url, "%s%s%s/oauth2/v2.0/token", auth,
	    k > 0 && auth[k - 1] == '/' ? "" : "/", c->env[E_TENANT]);
	if (secret != NULL)
		sprintf(body, "grant_type=client_credentials&client_id=%s"
		    "&client_secret=%s&scope=%s.default", e_id, e_cred,
		    RES_ESC);
	else
		sprintf(body, "grant_type=client_credentials&client_id=%s"
		    "&client_assertion_type=%s&client_assertion=%s"
		    "&scope=%s.default", e_id, ASSERTION_TYPE, e_cred,
		    RES_ESC);
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
out:
	free(url);
	free(e_id);
	cred_wipe_free(e_cred);
	cred_wipe_free(body);
	cred_wipe_free(assertion);
	return rc;
}

/* The query of a managed identity request: api-version, resource and
 * the user-assigned identity, if any. NULL if out of memory. */
static char *
mi_url(const struct aztoken_chain *c, const char *base, const char *path,
    const char *version)
{
	char *id = NULL, *url;
	size_t k;

	if (c->env[E_CLIENT_ID] != NULL &&
	    (id = http_escape(c->env[E_CLIENT_ID], 0)) == NULL)
		return NULL;
	k = strlen(base) + strlen(path) + (id ? strlen(id) : 0) + 128;
	if ((url = malloc(k)) != NULL)
		snprintf(url, k, "%s%s%capi-version=%s&resource=%s%s%s",
		    base, path, strchr(base, '?') ? '&' : '?', version,
		    RES_ESC, id ? "&client_id=" : "", id ? id : "");
	free(id);
	return url;
}

/* Source b: managed identity, App Service's endpoint or IMDS. */
static int
src_managed(struct aztoken_chain *c, struct cred_got *g, struct cred_notes *n,
    char *err, size_t errlen)
{
	const char *ep = c->env[E_ID_EP], *idh = c->env[E_ID_HDR];
	const char *pod = c->env[E_POD];
	const char *what, *hdr[1];
	char *url = NULL, *hbuf = NULL, base[512], code[96];
	struct http_req rq;
	struct http_resp rs;
	int rc, attempt;
	size_t k;

	memset(&rq, 0, sizeof rq);
	rq.method = "GET";
	rq.headers = hdr;
	rq.nheaders = 1;
	rq.body_fd = -1;
	rq.max_body = ANSWER_MAX;
	if (ep != NULL && idh != NULL) {
		what = "managed identity (App Service)";
		if (!url_safe(ep, 1))
			return cred_fail(100, err, errlen,
			    "IDENTITY_ENDPOINT must be https, or http to a "
			    "loopback or link-local address");
		for (k = 0; idh[k] != '\0'; k++)
			if ((unsigned char)idh[k] < ' ' || idh[k] == 0x7f)
				return cred_fail(100, err, errlen,
				    "IDENTITY_HEADER holds a control "
				    "character");
		k += sizeof "X-IDENTITY-HEADER: ";
		if ((url = mi_url(c, ep, "", "2019-08-01")) == NULL ||
		    (hbuf = malloc(k)) == NULL) {
			free(url);
			return cred_fail(111, err, errlen, "out of memory");
		}
		snprintf(hbuf, k, "X-IDENTITY-HEADER: %s", idh);
		hdr[0] = hbuf;
		rq.url = url;
		rc = cred_fetch(c->hshort, &rq, &rs, TRIES);
		rc = token_response(rc, &rs, what, g, err, errlen);
		cred_resp_wipe_free(&rs);
		free(url);
		cred_wipe_free(hbuf);
		return rc;
	}
	cred_note(n, "App Service (%s unset)",
	    ep == NULL ? "IDENTITY_ENDPOINT" : "IDENTITY_HEADER");

	what = "managed identity (IMDS)";
	if (pod == NULL)
		pod = IMDS_HOST;
	if (!plain(pod, "?#") || (strncasecmp(pod, "http://", 7) != 0 &&
	    strncasecmp(pod, "https://", 8) != 0) || strlen(pod) >=
	    sizeof base)
		return cred_fail(100, err, errlen, "bad "
		    "AZURE_POD_IDENTITY_AUTHORITY_HOST");
	snprintf(base, sizeof base, "%s", pod);
	for (k = strlen(base); k > 0 && base[k - 1] == '/'; k--)
		base[k - 1] = '\0';
	if ((url = mi_url(c, base, "/metadata/identity/oauth2/token",
	    "2018-02-01")) == NULL)
		return cred_fail(111, err, errlen, "out of memory");
	hdr[0] = "Metadata: true";
	rq.url = url;
	/*
	 * One try when nothing answers, as on a machine outside Azure; after
	 * an answer, 404 (IMDS updating), 410, 429 and 5xx are tried again.
	 * 400 (no such identity) and 403 (no route to IMDS, from a proxy)
	 * mean managed identity does not apply.
	 */
	for (attempt = 1;; attempt++) {
		rc = http_do(c->hshort, &rq, &rs);
		if (rc < 0 && attempt == 1) {
			cred_note(n, "IMDS (unreachable: %s)", rs.err);
			rc = SKIP;
			break;
		}
		if (rc == 0 && (rs.status == 400 || rs.status == 403)) {
			error_code(&rs, code, sizeof code);
			cred_note(n, "IMDS (%ld%s)", rs.status, code);
			rc = SKIP;
			break;
		}
		if (rc == 0 && rs.status == 200) {
			rc = token_answer(rs.body, rs.body_len, 0, time(NULL),
			    what, g, err, errlen);
			break;
		}
		if (attempt >= TRIES || !(rc < 0 || rs.status == 404 ||
		    rs.status == 410 || http_temporary(rc, &rs))) {
			rc = token_response(rc, &rs, what, g, err, errlen);
			break;
		}
		cred_resp_wipe_free(&rs);
		http_backoff(attempt, CRED_BACKOFF_MS, CRED_BACKOFF_MAX_MS);
	}
	cred_resp_wipe_free(&rs);
	free(url);
	return rc;
}

/* The path of az in the directories of PATH (absolute ones only), or
 * NULL; malloc'd. */
static char *
find_az(const char *path)
{
	const char *p, *e;
	struct stat st;
	char *f;
	size_t k;

	for (p = path; p != NULL && *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ":");
		k = (size_t)(e - p);
		if (k == 0 || *p != '/')
			continue;
		if ((f = malloc(k + 4)) == NULL)
			return NULL;
		memcpy(f, p, k);
		memcpy(f + k, "/az", 4);
		if (stat(f, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(f, X_OK) == 0)
			return f;
		free(f);
	}
	return NULL;
}

static long
ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* The line of az's stderr worth showing: the first one starting with
 * "ERROR", else the last one not blank; printable ASCII, shortened. */
static void
cli_reason(const char *s, char *out, size_t n)
{
	const char *line = NULL, *p, *e;
	size_t k, i, j = 0;

	for (p = s; *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		for (i = 0; p + i < e && isspace((unsigned char)p[i]); i++)
			;
		if (p + i == e)
			continue;
		if (strncmp(p + i, "ERROR", 5) == 0) {
			line = p + i;
			break;
		}
		line = p + i;
	}
	out[0] = '\0';
	if (line == NULL || n < 8)
		return;
	k = strcspn(line, "\n");
	while (k > 0 && isspace((unsigned char)line[k - 1]))
		k--;
	for (i = 0; i < k && j + 4 < n && j < 200; i++)
		out[j++] = line[i] >= ' ' && line[i] < 0x7f ? line[i] : '?';
	if (i < k)
		out[j++] = '.', out[j++] = '.', out[j++] = '.';
	out[j] = '\0';
}

/* Appends what is ready on fd to b (up to max bytes, then marks it
 * full). Returns 0 at end of file, 1 to go on. */
static int
drain(int fd, struct buf *b, size_t max, int *full)
{
	char chunk[4096];
	ssize_t r;

	r = read(fd, chunk, sizeof chunk);
	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (r == 0)
		return 0;
	if (b->len + (size_t)r > max)
		*full = 1;
	else
		buf_add(b, chunk, (size_t)r);
	explicit_bzero(chunk, (size_t)r);
	return 1;
}

/* Source c: the Azure CLI. */
static int
src_cli(struct aztoken_chain *c, struct cred_got *g, struct cred_notes *n,
    char *err, size_t errlen)
{
	static const char what[] = "Azure CLI";
	char *argv[] = {
		"az", "account", "get-access-token", "--resource",
		AZAUTH_RESOURCE, "-o", "json", NULL
	};
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, nul = -1, st = 0, rc;
	int open_o, open_e, full = 0, timed_out = 0, e;
	struct sigaction dfl;
	struct timespec deadline;
	struct pollfd pf[2];
	struct buf out, errs;
	char reason[256], *az;
	sigset_t none;
	long left;
	pid_t pid, w;

	if ((az = find_az(c->env[E_PATH])) == NULL) {
		cred_note(n, "Azure CLI (az not on PATH)");
		return SKIP;
	}
	memset(&out, 0, sizeof out);
	memset(&errs, 0, sizeof errs);
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&none);
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    (nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
	    (pid = fork()) < 0) {
		rc = cred_fail(111, err, errlen, "%s: unable to run %s: %s",
		    what, az, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &none, NULL);
		sigaction(SIGPIPE, &dfl, NULL);
		setpgid(0, 0);
		if (dup2(nul, 0) < 0 || dup2(po[1], 1) < 0 ||
		    dup2(pe[1], 2) < 0)
			_exit(126);
		execve(az, argv, c->envp);
		_exit(errno == ENOENT ? 127 : 126);
	}
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += c->cli_timeout;
	open_o = open_e = 1;
	while ((open_o || open_e) && !full) {
		if ((left = ms_left(&deadline)) <= 0) {
			timed_out = 1;
			break;
		}
		pf[0].fd = open_o ? po[0] : -1;
		pf[1].fd = open_e ? pe[0] : -1;
		pf[0].events = pf[1].events = POLLIN;
		pf[0].revents = pf[1].revents = 0;
		if (poll(pf, 2, (int)(left > 1000 ? 1000 : left)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (open_o && pf[0].revents != 0)
			open_o = drain(po[0], &out, CLI_OUT_MAX, &full);
		if (open_e && pf[1].revents != 0)
			open_e = drain(pe[0], &errs, CLI_ERR_MAX, &full);
	}
	/* az may close its output and go on: it too has until the
	 * deadline. */
	w = 0;
	while (!timed_out && !full && !open_o && !open_e) {
		if ((w = waitpid(pid, &st, WNOHANG)) != 0 &&
		    !(w < 0 && errno == EINTR))
			break;
		if (ms_left(&deadline) <= 0)
			timed_out = 1;
		else
			poll(NULL, 0, 20);
	}
	if (w != pid) {
		if (timed_out || full || open_o || open_e) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
		while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
			;
	}
	if (w != pid)
		rc = cred_fail(111, err, errlen,
		    "%s: unable to wait for az: %s", what, strerror(errno));
	else if (timed_out)
		rc = cred_fail(111, err, errlen,
		    "%s: az did not finish in %d s", what, c->cli_timeout);
	else if (full)
		rc = cred_fail(111, err, errlen, "%s: az wrote too much", what);
	else if (out.oom || errs.oom)
		rc = cred_fail(111, err, errlen, "out of memory");
	else if (WIFSIGNALED(st))
		rc = cred_fail(111, err, errlen,
		    "%s: az was killed by signal %d", what, WTERMSIG(st));
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		e = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		cli_reason(errs.p != NULL ? errs.p : "", reason,
		    sizeof reason);
		rc = cred_fail(100, err, errlen, "%s: az exited %d%s%s", what,
		    e, *reason ? ": " : "", reason);
	} else
		rc = token_answer(out.p, out.len, 1, time(NULL), what, g, err,
		    errlen);
out:
	if (po[0] >= 0)
		close(po[0]);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (pe[1] >= 0)
		close(pe[1]);
	if (nul >= 0)
		close(nul);
	if (out.p != NULL)
		explicit_bzero(out.p, out.cap);
	free(out.p);
	free(errs.p);
	free(az);
	return rc;
}

typedef int (*source_fn)(struct aztoken_chain *, struct cred_got *,
    struct cred_notes *, char *, size_t);

static const source_fn sources[] = {
	src_principal, src_managed, src_cli,
};

/* The chain, as a cred_token_fetch. */
static int
run_chain(void *ctx, struct cred_got *g, char *err, size_t errlen)
{
	struct aztoken_chain *c = ctx;
	struct cred_notes n;
	size_t i;
	int rc;

	n.len = 0;
	n.buf[0] = '\0';
	for (i = 0; i < sizeof sources / sizeof sources[0]; i++) {
		memset(g, 0, sizeof *g);
		if ((rc = sources[i](c, g, &n, err, errlen)) != SKIP)
			return rc;
	}
	return cred_fail(100, err, errlen, "no Azure AD token source applies; "
	    "tried %s", n.buf);
}

int
aztoken_get_expiry(struct aztoken_chain *c, char *tok, size_t toklen,
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
aztoken_get(struct aztoken_chain *c, char *tok, size_t toklen, char *source,
    size_t srclen, char *err, size_t errlen)
{
	return aztoken_get_expiry(c, tok, toklen, NULL, source, srclen, err,
	    errlen);
}

void
aztoken_expire(struct aztoken_chain *c)
{
	pthread_mutex_lock(&c->mu);
	cred_token_drop(&c->held);
	pthread_mutex_unlock(&c->mu);
}

void
aztoken_cli_timeout(struct aztoken_chain *c, int seconds)
{
	pthread_mutex_lock(&c->mu);
	c->cli_timeout = seconds > 0 ? seconds : CLI_TIMEOUT_S;
	pthread_mutex_unlock(&c->mu);
}

struct aztoken_chain *
aztoken_new(struct http *h, char *const *env)
{
	struct aztoken_chain *c;
	struct http_opts so;
	const char *eq;
	size_t i, k, n = 0;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	c->cli_timeout = CLI_TIMEOUT_S;
	while (env != NULL && env[n] != NULL)
		n++;
	if ((c->envp = calloc(n + 1, sizeof *c->envp)) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if ((c->envp[i] = strdup(env[i])) == NULL)
			goto fail;
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
	aztoken_free(c);
	return NULL;
}

void
aztoken_free(struct aztoken_chain *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < E_N; i++)
		cred_wipe_free(c->env[i]);
	for (i = 0; c->envp != NULL && c->envp[i] != NULL; i++)
		cred_wipe_free(c->envp[i]);
	free(c->envp);
	cred_token_drop(&c->held);
	http_free(c->hown);
	http_free(c->hshort);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
