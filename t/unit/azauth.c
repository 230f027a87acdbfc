/*
 * Unit tests of common/azauth.c, and a driver for t/t3001-abs-auth.sh.
 *
 *   azauth              known answers, as TAP
 *   azauth -s           signer for t/bin/az-sharedkey-check: reads one
 *                       request a line on stdin, a JSON object {"method",
 *                       "path", "query", "headers": ["Name: value", ...],
 *                       "account", "key"} (path and query may be null), and
 *                       writes one JSON object a line: {"auth": HEADER,
 *                       "sts_hex": HEX OF THE STRING TO SIGN}, or {"error":
 *                       STRERROR}
 *   azauth -S [-m method] [-p path] [-q query] [-a account] -k keyfile
 *       [-H header]... [-b bodyfile] [-u origin]
 *                       signs one request: prints the Authorization header
 *                       and the string to sign, each followed by LF. With
 *                       -u, sends it to ORIGIN (http://host:port) through
 *                       common/http.c instead, signing the Content-Length
 *                       libcurl sends, and prints "HTTP STATUS" and the
 *                       response body.
 *   azauth -D epoch     prints azauth_date
 *   azauth -R f:e       prints aztoken_refresh_at(f, e)
 *   azauth -T [-n count] [-w ms] [-x n]... [-t threads] [-c seconds]
 *       [-l toklen]     builds a token chain from the environment, gets a
 *                       token COUNT times (from each of THREADS threads):
 *                         token=HEX8 expires=YYYY-MM-DDTHH:MM:SSZ
 *                             source=SOURCE
 *                       HEX8 is the start of the SHA-256 of the token,
 *                       never the token. -x N: aztoken_expire before get N;
 *                       -c: az's time limit; -l: the token buffer's size.
 *                       A failed get prints "azauth: fatal: unable to get
 *                       an Azure AD token: REASON" on stderr and exits
 *                       with aztoken_get's code.
 *
 * The expected values of the known answers come from:
 *   NODE  Microsoft's Node.js SDKs, test/services/blob/sharedkey-tests.js
 *         of azure-sdk-for-node (x-ms-version 2011-08-18) and of
 *         azure-storage-node (2017-04-17): Get Container Properties against
 *         the development storage account. Their path is "container",
 *         without a leading '/', so the resource reads
 *         /devstoreaccount1container; the signatures are theirs.
 *   DOC   "Authorize with Shared Key" (Azure Storage REST API): the string
 *         to sign of Get Container Metadata (2015-02-21) and the
 *         canonicalized resource of a List Blobs with three include values.
 *   HAND  built here from the rules in azauth.h; signatures computed with
 *         Python's hmac, hashlib and base64.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>
#include <jansson.h>

#include "azauth.h"
#include "http.h"
#include "tap.h"

#define USAGE	"azauth [-s | -S [-m method] [-p path] [-q query] " \
		"[-a account] -k keyfile [-H header]... [-b bodyfile] " \
		"[-u origin] | -D epoch | -R fetched:expires | -T [-n count] " \
		"[-w ms] [-x n]... [-t threads] [-c seconds] [-l toklen]]"
#define MAX_THREADS	32
#define MAX_HDRS	32

#define DEV_ACCOUNT	"devstoreaccount1"
#define DEV_KEY		"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6" \
			"IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define DOC_DATE	"x-ms-date: Fri, 26 Jun 2015 23:39:12 GMT"
#define HAND_DATE	"x-ms-date: Sun, 30 Aug 2015 12:36:00 GMT"

extern char **environ;

static struct aztoken_chain *chain;
static long count = 1, wait_ms;
static size_t toklen = 16384;
static uint64_t expire_at;		/* bit n-1: expire before get n */
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void
usage(void)
{
	fprintf(stderr, "azauth: usage: %s\n", USAGE);
	exit(100);
}

static long
number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

/* Known answers. */

struct vector {
	const char	*name;
	const char	*method, *path, *query;
	const char	*headers[14];	/* NULL-terminated */
	const char	*account;
	const char	*sts;		/* NULL: not published */
	const char	*auth;		/* NULL: not published */
};

static const struct vector vectors[] = {
	{ "NODE azure-sdk-for-node, 2011-08-18", "GET", "container",
	  "restype=container",
	  { "Content-Type: ", "x-ms-version: 2011-08-18",
	    "x-ms-date: Fri, 23 Sep 2011 01:37:34 GMT" }, DEV_ACCOUNT,
	  "GET\n\n\n\n\n\n\n\n\n\n\n\n"
	  "x-ms-date:Fri, 23 Sep 2011 01:37:34 GMT\nx-ms-version:2011-08-18\n"
	  "/devstoreaccount1container\nrestype:container",
	  "Authorization: SharedKey devstoreaccount1:"
	  "Y5R86+6XE5MH602SIyjeTwlJuQjbawv20PT4kb/F/04=" },
	{ "NODE azure-storage-node, 2017-04-17", "GET", "container",
	  "restype=container",
	  { "Content-Type: ", "x-ms-version: 2017-04-17",
	    "x-ms-date: Fri, 23 Sep 2011 01:37:34 GMT" }, DEV_ACCOUNT, NULL,
	  "Authorization: SharedKey devstoreaccount1:"
	  "phWLwBDQmLRuhOCKblR0+k6+6N/EpF236K5KID6VXx8=" },
	{ "DOC Get Container Metadata", "GET", "/mycontainer",
	  "restype=container&comp=metadata&timeout=20",
	  { DOC_DATE, "x-ms-version: 2015-02-21" }, "myaccount",
	  "GET\n\n\n\n\n\n\n\n\n\n\n\n"
	  "x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n"
	  "/myaccount/mycontainer\ncomp:metadata\nrestype:container\n"
	  "timeout:20", NULL },
	{ "DOC List Blobs, three include values", "GET", "/mycontainer",
	  "restype=container&comp=list&include=snapshots&include=metadata"
	  "&include=uncommittedblobs",
	  { DOC_DATE, "x-ms-version: 2015-02-21" }, "myaccount",
	  "GET\n\n\n\n\n\n\n\n\n\n\n\n"
	  "x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n"
	  "/myaccount/mycontainer\ncomp:list\n"
	  "include:metadata,snapshots,uncommittedblobs\nrestype:container",
	  NULL },
	{ "HAND Put Blob, path-style, every kind of header", "PUT",
	  "/devstoreaccount1/ls-test/db/generations/0123456789abcdef/wal/"
	  "00000000_00000000.wal.lz4", NULL,
	  { "Content-Length: 11", "Content-MD5: XrY7u+Ae7tCTyyK7j1rNww==",
	    "Content-Type: \t text/plain; charset=utf-8 ", "If-None-Match: *",
	    "x-ms-version: 2023-11-03", "X-MS-Date: Sun, 30 Aug 2015 "
	    "12:36:00 GMT", "x-ms-blob-type:BlockBlob", "x-ms-meta-a0: 3",
	    "x-ms-meta-A-b: 2", "x-ms-meta-a_b:1", "User-Agent: ls/1",
	    "Host: 127.0.0.1:10000", "Expect:" }, DEV_ACCOUNT,
	  "PUT\n\n\n11\nXrY7u+Ae7tCTyyK7j1rNww==\ntext/plain; charset=utf-8\n"
	  "\n\n\n*\n\n\n"
	  "x-ms-blob-type:BlockBlob\nx-ms-date:Sun, 30 Aug 2015 12:36:00 GMT\n"
	  "x-ms-meta-a_b:1\nx-ms-meta-a-b:2\nx-ms-meta-a0:3\n"
	  "x-ms-version:2023-11-03\n"
	  "/devstoreaccount1/devstoreaccount1/ls-test/db/generations/"
	  "0123456789abcdef/wal/00000000_00000000.wal.lz4",
	  "Authorization: SharedKey devstoreaccount1:"
	  "3qzJCNkhyxj8G7a+GWXYhcUrjvksiJtPMCY8nh8lSBw=" },
	{ "HAND List Blobs: decoding, case, repeats, bare and empty pieces",
	  "GET", "/devstoreaccount1/ls-test",
	  "restype=container&comp=list&Include=snapshots&include=metadata"
	  "&marker=2%21mk%3D4%2Fp&prefix=db%2Fa+b%2Bc&x&&",
	  { HAND_DATE, "x-ms-version: 2023-11-03", "Range: bytes=0-9",
	    "Content-Length: 0" }, DEV_ACCOUNT,
	  "GET\n\n\n\n\n\n\n\n\n\n\nbytes=0-9\n"
	  "x-ms-date:Sun, 30 Aug 2015 12:36:00 GMT\nx-ms-version:2023-11-03\n"
	  "/devstoreaccount1/devstoreaccount1/ls-test\ncomp:list\n"
	  "include:metadata,snapshots\nmarker:2!mk=4/p\nprefix:db/a b+c\n"
	  "restype:container\nx:",
	  "Authorization: SharedKey devstoreaccount1:"
	  "/5wOKgKdD91tcp2/Z0mbvJA+bqt9kgj69yzmgLcV/nI=" },
	{ "HAND no path, no query, no header", "GET", NULL, NULL, { NULL },
	  "acct", "GET\n\n\n\n\n\n\n\n\n\n\n\n/acct/", NULL },
};

/* Requests azauth refuses (EINVAL). */
struct bad {
	const char	*name;
	const char	*method, *query, *account;
	const char	*headers[4];
};

static const struct bad bads[] = {
	{ "Date and x-ms-date", "GET", NULL, DEV_ACCOUNT,
	  { HAND_DATE, "Date: Sun, 30 Aug 2015 12:36:00 GMT" } },
	{ "a standard header twice", "GET", NULL, DEV_ACCOUNT,
	  { "Range: bytes=0-1", "range: bytes=0-1" } },
	{ "an x-ms-* header twice", "GET", NULL, DEV_ACCOUNT,
	  { "x-ms-meta-a: 1", "X-MS-META-A: 1" } },
	{ "an x-ms-* name with a dot", "GET", NULL, DEV_ACCOUNT,
	  { "x-ms-meta.a: 1" } },
	{ "two spaces in a row in an x-ms-* value", "GET", NULL, DEV_ACCOUNT,
	  { "x-ms-meta-a: a  b" } },
	{ "a tab inside a value", "GET", NULL, DEV_ACCOUNT,
	  { "Content-Type: a\tb" } },
	{ "a newline inside a value", "GET", NULL, DEV_ACCOUNT,
	  { "x-ms-meta-a: a\nb" } },
	{ "an Authorization header", "GET", NULL, DEV_ACCOUNT,
	  { "Authorization: SharedKey a:b" } },
	{ "a header without a colon", "GET", NULL, DEV_ACCOUNT,
	  { "x-ms-date" } },
	{ "a blank in a header name", "GET", NULL, DEV_ACCOUNT,
	  { "x-ms-date : x" } },
	{ "a short escape", "GET", "prefix=a%4", DEV_ACCOUNT, { NULL } },
	{ "a bad escape", "GET", "prefix=%zz", DEV_ACCOUNT, { NULL } },
	{ "an escaped NUL", "GET", "prefix=a%00", DEV_ACCOUNT, { NULL } },
	{ "a parameter without a name", "GET", "=x", DEV_ACCOUNT, { NULL } },
	{ "no account", "GET", NULL, "", { NULL } },
	{ "an account with a slash", "GET", NULL, "a/b", { NULL } },
	{ "no method", "", NULL, DEV_ACCOUNT, { NULL } },
	{ "a blank in the query", "GET", "prefix=a b", DEV_ACCOUNT, { NULL } },
	{ "a fragment in the query", "GET", "a=b#c", DEV_ACCOUNT, { NULL } },
};

static size_t
count_hdrs(const char *const *h, size_t max)
{
	size_t n = 0;

	while (n < max && h[n] != NULL)
		n++;
	return n;
}

static void
known_answers(void)
{
	char out[512], *sts;
	size_t i, n;
	int rc, e;

	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		const struct vector *v = &vectors[i];

		n = count_hdrs(v->headers, 14);
		sts = azauth_string_to_sign(v->method, v->path, v->query,
		    v->headers, n, v->account);
		ok(sts != NULL, "%s: string to sign made", v->name);
		if (v->sts != NULL)
			is_str(sts, v->sts, "%s: string to sign", v->name);
		free(sts);
		rc = azauth_sharedkey(v->method, v->path, v->query, v->headers,
		    n, v->account, DEV_KEY, out, sizeof out);
		is_int(rc, 0, "%s: signed", v->name);
		if (v->auth != NULL)
			is_str(out, v->auth, "%s: Authorization", v->name);
	}
	for (i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		const struct bad *b = &bads[i];

		n = count_hdrs(b->headers, 4);
		errno = 0;
		sts = azauth_string_to_sign(b->method, "/c", b->query,
		    b->headers, n, b->account);
		e = errno;
		ok(sts == NULL && e == EINVAL, "refused: %s", b->name);
		free(sts);
		strcpy(out, "x");
		errno = 0;
		rc = azauth_sharedkey(b->method, "/c", b->query, b->headers,
		    n, b->account, DEV_KEY, out, sizeof out);
		e = errno;
		ok(rc == -1 && e == EINVAL && out[0] == '\0',
		    "not signed: %s", b->name);
	}
	{
		const char *h[] = { HAND_DATE };

		errno = 0;
		rc = azauth_sharedkey("GET", "/c", NULL, h, 1, DEV_ACCOUNT,
		    "not base64!", out, sizeof out);
		e = errno;
		ok(rc == -1 && e == EINVAL, "not signed: a key that is not "
		    "base64");
		rc = azauth_sharedkey("GET", "/c", NULL, h, 1, DEV_ACCOUNT,
		    "", out, sizeof out);
		ok(rc == -1 && errno == EINVAL, "not signed: an empty key");
		errno = 0;
		rc = azauth_sharedkey("GET", "/c", NULL, h, 1, DEV_ACCOUNT,
		    DEV_KEY, out, 86);
		e = errno;
		ok(rc == -1 && e == ERANGE && out[0] == '\0',
		    "not signed: no room for the header");
		rc = azauth_sharedkey("GET", "/c", NULL, h, 1, DEV_ACCOUNT,
		    DEV_KEY, out, 87);
		ok(rc == 0 && strlen(out) == 86, "signed: room for the header "
		    "and its NUL exactly");
		rc = azauth_sharedkey("GET", "/c", NULL, h, 1, DEV_ACCOUNT,
		    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4"
		    "I6tq/K1SZFPTOtr/KBHBeksoGMGw", out, sizeof out);
		is_int(rc, 0, "signed: a key without its padding");
	}

	{
		static const struct {
			time_t		t;
			const char	*want;
		} dates[] = {
			{ 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
			{ 784111777, "Sun, 06 Nov 1994 08:49:37 GMT" },
			{ 1440938160, "Sun, 30 Aug 2015 12:36:00 GMT" },
			{ 951782400, "Tue, 29 Feb 2000 00:00:00 GMT" },
			{ 1735689599, "Tue, 31 Dec 2024 23:59:59 GMT" },
		};
		char d[AZAUTH_DATE_MAX];

		for (i = 0; i < sizeof dates / sizeof dates[0]; i++) {
			azauth_date(dates[i].t, d);
			is_str(d, dates[i].want, "azauth_date(%lld)",
			    (long long)dates[i].t);
		}
	}
	is_int(aztoken_refresh_at(100, 104), 102, "refresh: half of 4 s");
	is_int(aztoken_refresh_at(0, 600), 300, "refresh: 5 min of 10");
	is_int(aztoken_refresh_at(0, 3600), 3300, "refresh: 5 min of 1 h");
	is_int(aztoken_refresh_at(50, 40), 50, "refresh: expired: now");
}

/* -s: the batch signer. */

static void
hex_out(const char *s, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (; *s != '\0'; s++) {
		*out++ = hx[(unsigned char)*s >> 4];
		*out++ = hx[(unsigned char)*s & 15];
	}
	*out = '\0';
}

static int
batch(void)
{
	char *line = NULL, auth[1024], *sts, *hx, *dump;
	const char *hdr[256];
	size_t cap = 0, n, i;
	json_t *j, *a, *o;
	json_error_t je;
	ssize_t len;
	int rc;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		if ((j = json_loadb(line, (size_t)len, 0, &je)) == NULL) {
			fprintf(stderr, "azauth: fatal: bad request line: "
			    "%s\n", je.text);
			return 100;
		}
		a = json_object_get(j, "headers");
		n = json_array_size(a);
		if (n > 256) {
			fprintf(stderr, "azauth: fatal: too many headers\n");
			return 100;
		}
		for (i = 0; i < n; i++)
			hdr[i] = json_string_value(json_array_get(a, i));
#define S(k)	json_string_value(json_object_get(j, k))
		sts = azauth_string_to_sign(S("method"), S("path"), S("query"),
		    hdr, n, S("account"));
		rc = azauth_sharedkey(S("method"), S("path"), S("query"), hdr,
		    n, S("account"), S("key"), auth, sizeof auth);
#undef S
		if (rc < 0 || sts == NULL)
			o = json_pack("{s:s}", "error", strerror(errno));
		else {
			if ((hx = malloc(2 * strlen(sts) + 1)) == NULL)
				return 111;
			hex_out(sts, hx);
			o = json_pack("{s:s, s:s}", "auth", auth, "sts_hex",
			    hx);
			free(hx);
		}
		free(sts);
		if (o == NULL || (dump = json_dumps(o, JSON_COMPACT)) == NULL)
			return 111;
		printf("%s\n", dump);
		fflush(stdout);
		free(dump);
		json_decref(o);
		json_decref(j);
	}
	free(line);
	return 0;
}

/* -S: one request. */

/* Reads a whole file into a malloc'd buffer; exits on failure. */
static char *
read_file(const char *path, size_t *len, int strip)
{
	struct stat st;
	char *buf;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "azauth: fatal: unable to open %s: %s\n",
		    path, strerror(errno));
		exit(111);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "azauth: fatal: unable to read %s\n", path);
		exit(111);
	}
	fclose(f);
	*len = (size_t)st.st_size;
	buf[*len] = '\0';
	while (strip && *len > 0 && (buf[*len - 1] == '\n' ||
	    buf[*len - 1] == '\r'))
		buf[--*len] = '\0';
	return buf;
}

static int
one(const char *method, const char *path, const char *query,
    const char *account, const char *keyfile, const char **hdr, size_t nh,
    const char *bodyfile, const char *origin)
{
	char auth[1024], lenh[48], *key, *body = NULL, *sts, *url;
	const char *sig[MAX_HDRS + 2], *all[MAX_HDRS + 2];
	size_t klen, blen = 0, i, k;
	struct http_resp rs;
	struct http_req rq;
	struct http *h;
	int rc;

	key = read_file(keyfile, &klen, 1);
	if (bodyfile != NULL)
		body = read_file(bodyfile, &blen, 0);
	for (i = 0; i < nh; i++)
		sig[i] = all[i] = hdr[i];
	if (origin != NULL) {
		snprintf(lenh, sizeof lenh, "Content-Length: %zu", blen);
		sig[nh] = lenh;
	}
	rc = azauth_sharedkey(method, path, query, sig, nh + (origin != NULL),
	    account, key, auth, sizeof auth);
	explicit_bzero(key, klen);
	free(key);
	if (rc < 0 || (sts = azauth_string_to_sign(method, path, query, sig,
	    nh + (origin != NULL), account)) == NULL) {
		fprintf(stderr, "azauth: fatal: unable to sign: %s\n",
		    strerror(errno));
		free(body);
		return 100;
	}
	if (origin == NULL) {
		printf("%s\n%s\n", auth, sts);
		free(sts);
		free(body);
		return 0;
	}
	free(sts);
	all[nh] = auth;
	k = strlen(origin) + strlen(path) + (query ? strlen(query) : 0) + 2;
	if ((url = malloc(k)) == NULL || (h = http_new(NULL)) == NULL)
		return 111;
	snprintf(url, k, "%s%s%s%s", origin, path, query && *query ? "?" : "",
	    query && *query ? query : "");
	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.url = url;
	rq.headers = all;
	rq.nheaders = nh + 1;
	rq.body = body;
	rq.body_len = blen;
	rq.body_fd = -1;
	rq.max_body = 1 << 20;
	rc = http_do(h, &rq, &rs);
	if (rc < 0) {
		fprintf(stderr, "azauth: fatal: unable to send %s: %s\n", url,
		    rs.err);
		rc = 111;
	} else {
		printf("HTTP %ld\n", rs.status);
		if (rs.body != NULL)
			fwrite(rs.body, 1, rs.body_len, stdout);
		rc = 0;
	}
	http_resp_free(&rs);
	http_free(h);
	free(url);
	free(body);
	return rc;
}

/* -T: the token chain. */

static void
show(const char *tok, time_t expires, const char *source)
{
	unsigned char sum[32];
	char exp[32];
	br_sha256_context sc;
	struct tm tm;

	br_sha256_init(&sc);
	br_sha256_update(&sc, tok, strlen(tok));
	br_sha256_out(&sc, sum);
	gmtime_r(&expires, &tm);
	strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	pthread_mutex_lock(&out_mu);
	printf("token=%02x%02x%02x%02x expires=%s source=%s\n", sum[0],
	    sum[1], sum[2], sum[3], exp, source);
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Gets count times; returns 0 or aztoken_get's code. */
static void *
run(void *arg)
{
	char *tok, src[128], err[1024];
	time_t exp;
	long i;
	int rc;

	if ((tok = malloc(toklen)) == NULL)
		return (void *)(intptr_t)111;
	for (i = 1; i <= count; i++) {
		if (i <= 64 && (expire_at >> (i - 1) & 1))
			aztoken_expire(chain);
		if ((rc = aztoken_get_expiry(chain, tok, toklen, &exp, src,
		    sizeof src, err, sizeof err)) != 0) {
			pthread_mutex_lock(&out_mu);
			fprintf(stderr, "azauth: fatal: unable to get an Azure "
			    "AD token: %s\n", err);
			pthread_mutex_unlock(&out_mu);
			free(tok);
			return (void *)(intptr_t)rc;
		}
		show(tok, exp, src);
		explicit_bzero(tok, toklen);
		if (i < count && wait_ms > 0)
			sleep_ms(wait_ms);
	}
	free(tok);
	return NULL;
}

static int
tokens(long threads, int cli_timeout)
{
	pthread_t tid[MAX_THREADS];
	struct http *h;
	void *ret;
	long i;
	int rc = 0;

	if ((h = http_new(NULL)) == NULL ||
	    (chain = aztoken_new(h, environ)) == NULL) {
		fprintf(stderr, "azauth: fatal: out of memory\n");
		return 111;
	}
	if (cli_timeout > 0)
		aztoken_cli_timeout(chain, cli_timeout);
	if (threads == 1)
		rc = (int)(intptr_t)run(NULL);
	else {
		for (i = 0; i < threads; i++)
			if (pthread_create(&tid[i], NULL, run, NULL) != 0) {
				fprintf(stderr, "azauth: fatal: unable to "
				    "start a thread\n");
				return 111;
			}
		for (i = 0; i < threads; i++) {
			pthread_join(tid[i], &ret);
			if ((int)(intptr_t)ret > rc)
				rc = (int)(intptr_t)ret;
		}
	}
	aztoken_free(chain);
	http_free(h);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *method = "GET", *path = "/", *query = NULL;
	const char *account = DEV_ACCOUNT, *keyfile = NULL, *bodyfile = NULL;
	const char *origin = NULL, *hdr[MAX_HDRS];
	char d[AZAUTH_DATE_MAX], *colon;
	long threads = 1, n;
	size_t nh = 0;
	int opt, mode = 0, cli_timeout = 0;

	while ((opt = getopt(argc, argv,
	    "sSD:R:Tm:p:q:a:k:H:b:u:n:w:x:t:c:l:")) != -1) {
		switch (opt) {
		case 's':
		case 'S':
		case 'T':
			if (mode != 0)
				usage();
			mode = opt;
			break;
		case 'D':
			azauth_date((time_t)number(optarg, 0, LONG_MAX), d);
			printf("%s\n", d);
			return 0;
		case 'R':
			if ((colon = strchr(optarg, ':')) == NULL)
				usage();
			*colon = '\0';
			printf("%lld\n", (long long)aztoken_refresh_at(
			    (time_t)number(optarg, 0, LONG_MAX),
			    (time_t)number(colon + 1, 0, LONG_MAX)));
			return 0;
		case 'm':
			method = optarg;
			break;
		case 'p':
			path = optarg;
			break;
		case 'q':
			query = optarg;
			break;
		case 'a':
			account = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'H':
			if (nh == MAX_HDRS)
				usage();
			hdr[nh++] = optarg;
			break;
		case 'b':
			bodyfile = optarg;
			break;
		case 'u':
			origin = optarg;
			break;
		case 'n':
			count = number(optarg, 1, 1000);
			break;
		case 'w':
			wait_ms = number(optarg, 0, 60000);
			break;
		case 'x':
			n = number(optarg, 1, 64);
			expire_at |= (uint64_t)1 << (n - 1);
			break;
		case 't':
			threads = number(optarg, 1, MAX_THREADS);
			break;
		case 'c':
			cli_timeout = (int)number(optarg, 1, 3600);
			break;
		case 'l':
			toklen = (size_t)number(optarg, 1, 1 << 20);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	switch (mode) {
	case 's':
		return batch();
	case 'S':
		if (keyfile == NULL)
			usage();
		return one(method, path, query, account, keyfile, hdr, nh,
		    bodyfile, origin);
	case 'T':
		return tokens(threads, cli_timeout);
	}
	known_answers();
	return tap_done();
}
