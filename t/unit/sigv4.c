/*
 * Unit tests of common/sigv4.c: AWS's published known answers with a fixed
 * clock. With -s, a signer for t/t0002-sigv4.sh instead: it reads request
 * descriptions on stdin and writes what sigv4 made of them on stdout.
 *
 * The expected values come from:
 *   S3   Amazon S3 API Reference, "Signature Calculations for the
 *        Authorization Header: Transferring Payload in a Single Chunk",
 *        examples GET Object, PUT Object, GET Bucket Lifecycle and Get
 *        Bucket (List Objects); that page separates the Authorization
 *        fields by "," where sigv4 writes ", " (S3 takes both).
 *   SUITE AWS's aws-sig-v4-test-suite (AWS General Reference), files
 *        NAME.creq, NAME.sts and NAME.authz of the tests named below.
 *   CRT  The same suite as revised in awslabs/aws-c-auth,
 *        tests/aws-signing-test-suite/v4/NAME (sign_body: true adds
 *        x-amz-content-sha256).
 *   IAM  AWS General Reference, "Create a signed AWS API request": the
 *        IAM ListUsers example and its derived signing key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sigv4.h"
#include "tap.h"

#define EMPTY		SIGV4_EMPTY_SHA256

#define S3_AK		"AKIAIOSFODNN7EXAMPLE"
#define S3_SK		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S3_HOST		"examplebucket.s3.amazonaws.com"
#define S3_WHEN		1369353600	/* 20130524T000000Z */

#define SUITE_AK	"AKIDEXAMPLE"
#define SUITE_SK	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_HOST	"example.amazonaws.com"
#define SUITE_WHEN	1440938160	/* 20150830T123600Z */

#define STS_TOKEN	\
	"AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4" \
	"HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/" \
	"qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0" \
	"wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPP" \
	"kUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQw" \
	"j2ICCR/oLxBA=="

#define PUT_BODY	"Welcome to Amazon S3."
#define PUT_SHA		\
	"44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
#define FORM_SHA	\
	"9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"

enum creds { S3, SUITE };

struct vector {
	const char	*name;
	enum creds	creds;
	const char	*method, *host, *path, *query;
	const char	*headers[6];	/* NULL-terminated */
	const char	*payload;
	const char	*service;
	const char	*token;
	int		no_sha;
	const char	*signed_headers, *signature;
	const char	*cr_hash;	/* last line of the string to sign */
	const char	*canonical;	/* NULL: not published in full */
};

static const struct vector vectors[] = {
	{ "S3 GET Object", S3, "GET", S3_HOST, "/test.txt", NULL,
	  { "Range: bytes=0-9" }, EMPTY, "s3", NULL, 0,
	  "host;range;x-amz-content-sha256;x-amz-date",
	  "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
	  "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
	  "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n"
	  "range:bytes=0-9\nx-amz-content-sha256:" EMPTY "\n"
	  "x-amz-date:20130524T000000Z\n\n"
	  "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY },
	{ "S3 PUT Object", S3, "PUT", S3_HOST, "/test%24file.text", NULL,
	  { "Date: Fri, 24 May 2013 00:00:00 GMT",
	    "x-amz-storage-class: REDUCED_REDUNDANCY" }, PUT_SHA, "s3",
	  NULL, 0,
	  "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
	  "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
	  "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
	  "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
	  "host:examplebucket.s3.amazonaws.com\n"
	  "x-amz-content-sha256:" PUT_SHA "\nx-amz-date:20130524T000000Z\n"
	  "x-amz-storage-class:REDUCED_REDUNDANCY\n\n"
	  "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
	  PUT_SHA },
	{ "S3 GET Bucket Lifecycle", S3, "GET", S3_HOST, "/", "lifecycle",
	  { NULL }, EMPTY, "s3", NULL, 0,
	  "host;x-amz-content-sha256;x-amz-date",
	  "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
	  "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
	  "GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\n"
	  "x-amz-content-sha256:" EMPTY "\nx-amz-date:20130524T000000Z\n\n"
	  "host;x-amz-content-sha256;x-amz-date\n" EMPTY },
	{ "S3 Get Bucket (List Objects)", S3, "GET", S3_HOST, "/",
	  "max-keys=2&prefix=J", { NULL }, EMPTY, "s3", NULL, 0,
	  "host;x-amz-content-sha256;x-amz-date",
	  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
	  "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
	  NULL },
	{ "S3 List Objects, query in the other order", S3, "GET", S3_HOST,
	  "/", "prefix=J&max-keys=2", { NULL }, EMPTY, "s3", NULL, 0,
	  "host;x-amz-content-sha256;x-amz-date",
	  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
	  NULL, NULL },
	{ "SUITE get-vanilla", SUITE, "GET", SUITE_HOST, "/", NULL,
	  { NULL }, EMPTY, "service", NULL, 1, "host;x-amz-date",
	  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	  "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
	  "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
	  "\nhost;x-amz-date\n" EMPTY },
	{ "SUITE get-vanilla-query-order-key-case", SUITE, "GET", SUITE_HOST,
	  "/", "Param2=value2&Param1=value1", { NULL }, EMPTY, "service",
	  NULL, 1, "host;x-amz-date",
	  "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
	  "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
	  "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
	  "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY },
	{ "SUITE get-vanilla-query-unreserved", SUITE, "GET", SUITE_HOST, "/",
	  "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	  "=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	  { NULL }, EMPTY, "service", NULL, 1, "host;x-amz-date",
	  "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
	  "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
	  NULL },
	{ "SUITE get-vanilla-empty-query-key", SUITE, "GET", SUITE_HOST, "/",
	  "Param1=value1", { NULL }, EMPTY, "service", NULL, 1,
	  "host;x-amz-date",
	  "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
	  "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
	  NULL },
	{ "SUITE get-utf8", SUITE, "GET", SUITE_HOST, "/%E1%88%B4", NULL,
	  { NULL }, EMPTY, "service", NULL, 1, "host;x-amz-date",
	  "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
	  "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
	  "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\n"
	  "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY },
	{ "SUITE post-vanilla", SUITE, "POST", SUITE_HOST, "/", NULL,
	  { NULL }, EMPTY, "service", NULL, 1, "host;x-amz-date",
	  "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
	  "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
	  NULL },
	{ "SUITE post-vanilla-query", SUITE, "POST", SUITE_HOST, "/",
	  "Param1=value1", { NULL }, EMPTY, "service", NULL, 1,
	  "host;x-amz-date",
	  "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
	  "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
	  NULL },
	/* The suite's .creq lists content-length, its .sts and .authz do
	 * not: these are the latter. */
	{ "SUITE post-x-www-form-urlencoded", SUITE, "POST", SUITE_HOST, "/",
	  NULL, { "Content-Type:application/x-www-form-urlencoded" },
	  FORM_SHA, "service", NULL, 1, "content-type;host;x-amz-date",
	  "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
	  "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
	  NULL },
	{ "CRT post-x-www-form-urlencoded (x-amz-content-sha256 signed)",
	  SUITE, "POST", SUITE_HOST, "/", NULL,
	  { "Content-Type:application/x-www-form-urlencoded",
	    "Content-Length:13" }, FORM_SHA, "service", NULL, 0,
	  "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
	  "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
	  "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb",
	  "POST\n/\n\ncontent-length:13\n"
	  "content-type:application/x-www-form-urlencoded\n"
	  "host:example.amazonaws.com\nx-amz-content-sha256:" FORM_SHA "\n"
	  "x-amz-date:20150830T123600Z\n\n"
	  "content-length;content-type;host;x-amz-content-sha256;x-amz-date\n"
	  FORM_SHA },
	{ "SUITE get-header-value-trim", SUITE, "GET", SUITE_HOST, "/", NULL,
	  { "My-Header1: value1", "My-Header2: \"a   b   c\"" }, EMPTY,
	  "service", NULL, 1, "host;my-header1;my-header2;x-amz-date",
	  "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
	  "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
	  "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\n"
	  "my-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\n"
	  "host;my-header1;my-header2;x-amz-date\n" EMPTY },
	{ "SUITE get-header-key-duplicate", SUITE, "GET", SUITE_HOST, "/",
	  NULL, { "My-Header1:value2", "My-Header1:value2",
	  "My-Header1:value1" }, EMPTY, "service", NULL, 1,
	  "host;my-header1;x-amz-date",
	  "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
	  "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
	  "GET\n/\n\nhost:example.amazonaws.com\n"
	  "my-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\n"
	  "host;my-header1;x-amz-date\n" EMPTY },
	{ "SUITE get-header-value-order", SUITE, "GET", SUITE_HOST, "/", NULL,
	  { "My-Header1:value4", "My-Header1:value1", "My-Header1:value3",
	    "My-Header1:value2" }, EMPTY, "service", NULL, 1,
	  "host;my-header1;x-amz-date",
	  "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
	  "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
	  NULL },
	{ "SUITE post-header-key-sort", SUITE, "POST", SUITE_HOST, "/", NULL,
	  { "My-Header1:value1" }, EMPTY, "service", NULL, 1,
	  "host;my-header1;x-amz-date",
	  "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
	  "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
	  NULL },
	{ "SUITE post-sts-token/post-sts-header-before", SUITE, "POST",
	  SUITE_HOST, "/", NULL, { NULL }, EMPTY, "service", STS_TOKEN, 1,
	  "host;x-amz-date;x-amz-security-token",
	  "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
	  "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
	  "POST\n/\n\nhost:example.amazonaws.com\n"
	  "x-amz-date:20150830T123600Z\nx-amz-security-token:" STS_TOKEN "\n"
	  "\nhost;x-amz-date;x-amz-security-token\n" EMPTY },
	{ "IAM ListUsers", SUITE, "GET", "iam.amazonaws.com", "/",
	  "Action=ListUsers&Version=2010-05-08",
	  { "Content-Type: application/x-www-form-urlencoded; charset=utf-8" },
	  EMPTY, "iam", NULL, 1, "content-type;host;x-amz-date",
	  "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
	  "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
	  "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
	  "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
	  "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	  "content-type;host;x-amz-date\n" EMPTY },
};

static void
fill(struct sigv4_req *r, const struct vector *v)
{
	memset(r, 0, sizeof *r);
	r->method = v->method;
	r->host = v->host;
	r->path = v->path;
	r->query = v->query;
	r->headers = v->headers;
	while (r->nheaders < 6 && v->headers[r->nheaders] != NULL)
		r->nheaders++;
	r->payload_hash = v->payload;
	r->region = "us-east-1";
	r->service = v->service;
	r->access_key = v->creds == S3 ? S3_AK : SUITE_AK;
	r->secret_key = v->creds == S3 ? S3_SK : SUITE_SK;
	r->session_token = v->token;
	r->when = v->creds == S3 ? S3_WHEN : SUITE_WHEN;
	r->no_content_sha256 = v->no_sha;
}

static void
test_vector(const struct vector *v)
{
	struct sigv4_req r;
	char out[SIGV4_NHDR][SIGV4_HDR_MAX], sig[65], want[1024], *cr, *sts;
	const char *date = v->creds == S3 ? "20130524" : "20150830";
	int n, want_n;

	fill(&r, v);
	want_n = 2 + !v->no_sha + (v->token != NULL);
	n = sigv4_sign(&r, out);
	is_int(n, want_n, "%s: header count", v->name);
	if (n != want_n)
		return;
	snprintf(want, sizeof want, "x-amz-date: %sT%s", date,
	    v->creds == S3 ? "000000Z" : "123600Z");
	is_str(out[0], want, "%s: x-amz-date", v->name);
	if (!v->no_sha) {
		snprintf(want, sizeof want, "x-amz-content-sha256: %s",
		    v->payload);
		is_str(out[1], want, "%s: x-amz-content-sha256", v->name);
	}
	if (v->token != NULL) {
		snprintf(want, sizeof want, "x-amz-security-token: %s",
		    v->token);
		is_str(out[n - 2], want, "%s: x-amz-security-token", v->name);
	}
	snprintf(want, sizeof want, "Authorization: AWS4-HMAC-SHA256 "
	    "Credential=%s/%s/us-east-1/%s/aws4_request, SignedHeaders=%s, "
	    "Signature=%s", r.access_key, date, v->service, v->signed_headers,
	    v->signature);
	is_str(out[n - 1], want, "%s: Authorization", v->name);

	if (sigv4_signature(&r, sig, &cr, &sts) < 0) {
		ok(0, "%s: sigv4_signature", v->name);
		return;
	}
	is_str(sig, v->signature, "%s: signature", v->name);
	if (v->canonical != NULL)
		is_str(cr, v->canonical, "%s: canonical request", v->name);
	if (v->cr_hash != NULL) {
		snprintf(want, sizeof want, "AWS4-HMAC-SHA256\n%sT%s\n"
		    "%s/us-east-1/%s/aws4_request\n%s", date,
		    v->creds == S3 ? "000000Z" : "123600Z", date, v->service,
		    v->cr_hash);
		is_str(sts, want, "%s: string to sign", v->name);
	}
	ok(strstr(cr, r.secret_key) == NULL &&
	    strstr(sts, r.secret_key) == NULL &&
	    strstr(out[n - 1], r.secret_key) == NULL,
	    "%s: the secret is in no output", v->name);
	free(cr);
	free(sts);
}

static void
test_sha256(void)
{
	char h[65];

	sigv4_sha256_hex("", 0, h);
	is_str(h, EMPTY, "sha256 of nothing");
	sigv4_sha256_hex(PUT_BODY, strlen(PUT_BODY), h);
	is_str(h, PUT_SHA, "sha256 of the S3 PUT Object body");
	sigv4_sha256_hex("Param1=value1", 13, h);
	is_str(h, FORM_SHA, "sha256 of the suite's form body");
}

static void
check_enc(const char *in, int keep_slash, const char *want, const char *what)
{
	char *got = sigv4_uri_encode(in, keep_slash);

	is_str(got, want, "uri_encode %s", what);
	free(got);
}

static void
test_uri_encode(void)
{
	check_enc("test$file.text", 1, "test%24file.text", "S3 PUT key");
	check_enc("a b", 1, "a%20b", "space is %20, never +");
	check_enc("-._~AZaz09", 0, "-._~AZaz09", "unreserved kept");
	check_enc("a/b/", 1, "a/b/", "slash kept");
	check_enc("a/b/", 0, "a%2Fb%2F", "slash encoded");
	check_enc("\xe1\x88\xb4", 1, "%E1%88%B4", "3-byte UTF-8");
	check_enc("caf\xc3\xa9/\xf0\x9f\x98\x80", 1, "caf%C3%A9/%F0%9F%98%80",
	    "2- and 4-byte UTF-8");
	check_enc("\xff\x80", 0, "%FF%80", "bytes that are not UTF-8");
	check_enc("+=&?#%:@!$'()*,;", 0,
	    "%2B%3D%26%3F%23%25%3A%40%21%24%27%28%29%2A%2C%3B",
	    "reserved characters");
	check_enc("\t\x7f", 0, "%09%7F", "controls");
	check_enc("", 1, "", "empty key");
	check_enc("", 0, "", "empty value");
	ok(sigv4_uri_encode(NULL, 1) == NULL, "uri_encode NULL");
}

static void
test_signing_key(void)
{
	unsigned char k[32];
	char hex[65];
	int i;

	sigv4_signing_key(SUITE_SK, "20150830", "us-east-1", "iam", k);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
	is_str(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3"
	    "c154a4b9", "IAM derived signing key");
}

static struct sigv4_req
base(void)
{
	struct sigv4_req r;

	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.host = SUITE_HOST;
	r.path = "/";
	r.payload_hash = EMPTY;
	r.region = "us-east-1";
	r.service = "service";
	r.access_key = SUITE_AK;
	r.secret_key = SUITE_SK;
	r.when = SUITE_WHEN;
	r.no_content_sha256 = 1;
	return r;
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The canonical request of r, or "" (and a failed test) when refused. */
static char *
canon(const struct sigv4_req *r)
{
	static char keep[4096];
	char sig[65], *cr;

	keep[0] = '\0';
	if (sigv4_signature(r, sig, &cr, NULL) < 0) {
		ok(0, "sigv4_signature refused a good request");
		return keep;
	}
	snprintf(keep, sizeof keep, "%s", cr);
	free(cr);
	return keep;
}

static void
test_canonical(void)
{
	struct sigv4_req r = base();
	const char *h1[] = { "X-A: \t a \t\t b \t", "X-Dup: 1", "x-dup: 2",
	    "X-Empty:", "X-Spaces:    " };
	const char *h2[] = { "Z: 1", "a: 2" };
	char *c;

	r.query = "b=2&a=1&a=0&&c&a-b=1&a=";
	c = canon(&r);
	ok(starts(c, "GET\n/\na=&a=0&a=1&a-b=1&b=2&c=\n"),
	    "query: sorted by name then value, empty pieces dropped, bare "
	    "names get '='");
	r.query = "k=a%20b&k=a%2Bb&K=x";
	c = canon(&r);
	ok(starts(c, "GET\n/\nK=x&k=a%20b&k=a%2Bb\n"),
	    "query: bytewise order, encoding left alone");
	r.query = "x=1=2";
	c = canon(&r);
	ok(starts(c, "GET\n/\nx=1=2\n"),
	    "query: cut at the first '='");
	r.query = NULL;

	r.headers = h1;
	r.nheaders = 5;
	c = canon(&r);
	is_str(c, "GET\n/\n\nhost:example.amazonaws.com\nx-a:a b\n"
	    "x-amz-date:20150830T123600Z\nx-dup:1,2\nx-empty:\nx-spaces:\n\n"
	    "host;x-a;x-amz-date;x-dup;x-empty;x-spaces\n" EMPTY,
	    "headers: trimmed, runs made one space, names lowercased and "
	    "merged");
	r.headers = h2;
	r.nheaders = 2;
	c = canon(&r);
	ok(strstr(c, "\na:2\nhost:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\nz:1\n\na;host;x-amz-date;z\n") !=
	    NULL, "headers: sorted after lowercasing");
	r.headers = NULL;
	r.nheaders = 0;

	r.path = NULL;
	c = canon(&r);
	ok(starts(c, "GET\n/\n\n"), "no path signs \"/\"");
	r.path = "/a//b/../c/./%2F";
	c = canon(&r);
	ok(starts(c, "GET\n/a//b/../c/./%2F\n"),
	    "path neither normalized nor encoded again");
	r.path = "/";

	r.session_token = "";
	c = canon(&r);
	ok(strstr(c, "security-token") == NULL, "an empty token is no token");
	r.session_token = NULL;

	r.when = 0;
	c = canon(&r);
	ok(strstr(c, "x-amz-date:19700101T000000Z\n") != NULL, "epoch");
	r.when = 253402300799;	/* 9999-12-31 23:59:59 */
	c = canon(&r);
	ok(strstr(c, "x-amz-date:99991231T235959Z\n") != NULL,
	    "last second of 9999");
}

static void
test_counts(void)
{
	static const char auth[] = "Authorization: AWS4-HMAC-SHA256 "
	    "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	    "SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
	    "x-amz-security-token, Signature=";
	struct sigv4_req r = base();
	char out[SIGV4_NHDR][SIGV4_HDR_MAX];

	is_int(sigv4_sign(&r, out), 2, "no x-amz-content-sha256, no token");
	r.no_content_sha256 = 0;
	is_int(sigv4_sign(&r, out), 3, "x-amz-content-sha256");
	ok(strcmp(out[1], "x-amz-content-sha256: " EMPTY) == 0 &&
	    strstr(out[2], "SignedHeaders=host;x-amz-content-sha256;"
	    "x-amz-date, ") != NULL, "x-amz-content-sha256 sent and signed");
	r.session_token = "tok";
	is_int(sigv4_sign(&r, out), 4, "x-amz-content-sha256 and token");
	is_str(out[2], "x-amz-security-token: tok", "token header");
	ok(starts(out[3], auth) && strlen(out[3]) == strlen(auth) + 64,
	    "Authorization last, in full");
}

static void
test_bad(void)
{
	static char big[SIGV4_HDR_MAX];
	struct sigv4_req r;
	char out[SIGV4_NHDR][SIGV4_HDR_MAX], sig[65];
	static const char *const badhdr[] = {
		"NoColon", ": empty name", "Sp ace: x", "X-A: a\r\nX-B: b",
		"X-A: a\nb", "X-Nul\x01: x", "X-A: \x7f", "Host: evil",
		"host:x", "Authorization: x", "X-Amz-Date: 20010101T000000Z",
		"x-amz-content-sha256: " EMPTY,
	};
	const char *h[1];
	size_t i;

	ok(sigv4_sign(NULL, out) < 0 && errno == EINVAL, "NULL request");
#define BAD(field, val, what) do {					\
	r = base();							\
	r.field = val;							\
	errno = 0;							\
	ok(sigv4_sign(&r, out) < 0 && errno == EINVAL, "refused: %s", what); \
} while (0)
	BAD(method, NULL, "no method");
	BAD(method, "", "empty method");
	BAD(method, "GE T", "method with a space");
	BAD(host, NULL, "no host");
	BAD(host, "a b", "host with a space");
	BAD(host, "h\r\nX: y", "host with CRLF");
	BAD(path, "no-slash", "path not starting with /");
	BAD(path, "/a b", "path with a space");
	BAD(path, "/a?b", "path with ?");
	BAD(path, "/\xc3\xa9", "path not encoded");
	BAD(query, "a=b c", "query with a space");
	BAD(query, "a=b#c", "query with #");
	BAD(payload_hash, NULL, "no payload hash");
	BAD(payload_hash, "", "empty payload hash");
	BAD(region, NULL, "no region");
	BAD(region, "us/east", "region with /");
	BAD(service, "", "empty service");
	BAD(access_key, "AK/ID", "access key with /");
	BAD(access_key, "AK,ID", "access key with ,");
	BAD(secret_key, NULL, "no secret");
	BAD(session_token, "tok\nX-Evil: 1", "token with LF");
	BAD(when, (time_t)253402300800, "year 10000");
	BAD(nheaders, 1, "headers counted but missing");
#undef BAD
	for (i = 0; i < sizeof badhdr / sizeof *badhdr; i++) {
		r = base();
		r.no_content_sha256 = 0;
		h[0] = badhdr[i];
		r.headers = h;
		r.nheaders = 1;
		errno = 0;
		ok(sigv4_sign(&r, out) < 0 && errno == EINVAL,
		    "refused header %zu", i);
	}
	r = base();
	r.session_token = "tok";
	h[0] = "X-Amz-Security-Token: other";
	r.headers = h;
	r.nheaders = 1;
	ok(sigv4_sign(&r, out) < 0 && errno == EINVAL,
	    "refused: a second security token");
	r.session_token = NULL;
	ok(sigv4_sign(&r, out) == 2, "a security token header of the "
	    "caller's own is signed when there is no session_token");

	memset(big, 'A', sizeof big - 1);
	r = base();
	r.session_token = big;
	errno = 0;
	ok(sigv4_sign(&r, out) < 0 && errno == EINVAL,
	    "a token too long for its header is refused");
	ok(sigv4_signature(&r, sig, NULL, NULL) == 0,
	    "but sigv4_signature signs it");
	big[SIGV4_HDR_MAX - 1 - 22] = '\0';
	ok(sigv4_sign(&r, out) == 3 &&
	    strlen(out[1]) == SIGV4_HDR_MAX - 1, "the longest token that fits");
}

/*
 * -s: one request per block of lines "KEY [HEX...]" ending in "end"; HEX is
 * the bytes of a field in hex, empty for an empty field.
 *   method host path query payload region service access secret token HEX
 *   key HEX         appended to the path URI-encoded, '/' kept
 *   param HEX [vHEX] appended to the query: encoded name, and '=' and the
 *                   encoded value if there is a vHEX (v alone: empty value)
 *   header HEX      one extra header
 *   body HEX        payload_hash is its SHA-256
 *   time N          seconds since the epoch
 *   nosha           no_content_sha256
 * Each block is answered by "result N" (sigv4_sign's return), then for
 * N > 0 "header HEX" lines, "canonical HEX" and "sts HEX", then "end".
 */

struct desc {
	char	*method, *host, *path, *query, *payload, *region, *service;
	char	*access, *secret, *token;
	char	**headers;
	size_t	nheaders;
	long long when;
	int	nosha;
};

static void
die(const char *what)
{
	fprintf(stderr, "sigv4: fatal: %s\n", what);
	exit(111);
}

static char *
unhex(const char *s)
{
	size_t n = strlen(s), i;
	char *p;
	unsigned v;

	if (n % 2 != 0 || (p = malloc(n / 2 + 1)) == NULL)
		die("bad hex or out of memory");
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			die("bad hex");
		p[i] = (char)v;
	}
	p[n / 2] = '\0';
	return p;
}

static void
puthex(const char *key, const char *s)
{
	printf("%s ", key);
	for (; *s; s++)
		printf("%02x", (unsigned char)*s);
	printf("\n");
}

static void
append(char **dst, const char *a, const char *b, const char *c)
{
	size_t n = (*dst ? strlen(*dst) : 0) + strlen(a) + strlen(b) +
	    strlen(c) + 1;
	char *p;

	if ((p = malloc(n)) == NULL)
		die("out of memory");
	snprintf(p, n, "%s%s%s%s", *dst ? *dst : "", a, b, c);
	free(*dst);
	*dst = p;
}

static void
desc_free(struct desc *d)
{
	size_t i;

	free(d->method);
	free(d->host);
	free(d->path);
	free(d->query);
	free(d->payload);
	free(d->region);
	free(d->service);
	free(d->access);
	free(d->secret);
	free(d->token);
	for (i = 0; i < d->nheaders; i++)
		free(d->headers[i]);
	free(d->headers);
	memset(d, 0, sizeof *d);
}

static void
sign_one(struct desc *d)
{
	struct sigv4_req r;
	char out[SIGV4_NHDR][SIGV4_HDR_MAX], sig[65], *cr, *sts;
	int n, i;

	memset(&r, 0, sizeof r);
	r.method = d->method;
	r.host = d->host;
	r.path = d->path;
	r.query = d->query;
	r.headers = (const char *const *)d->headers;
	r.nheaders = d->nheaders;
	r.payload_hash = d->payload;
	r.region = d->region;
	r.service = d->service;
	r.access_key = d->access;
	r.secret_key = d->secret;
	r.session_token = d->token;
	r.when = (time_t)d->when;
	r.no_content_sha256 = d->nosha;
	n = sigv4_sign(&r, out);
	printf("result %d\n", n);
	if (n > 0 && sigv4_signature(&r, sig, &cr, &sts) == 0) {
		for (i = 0; i < n; i++)
			puthex("header", out[i]);
		puthex("canonical", cr);
		puthex("sts", sts);
		free(cr);
		free(sts);
	}
	printf("end\n");
	fflush(stdout);
}

static int
sign_mode(void)
{
	struct desc d;
	char *line = NULL, *key, *a, *b, **slot, *v, *w, h[65];
	size_t cap = 0, len;
	ssize_t got;

	memset(&d, 0, sizeof d);
	while ((got = getline(&line, &cap, stdin)) > 0) {
		len = (size_t)got;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		key = strtok(line, " ");
		a = strtok(NULL, " ");
		b = strtok(NULL, " ");
		if (key == NULL)
			continue;
		slot = strcmp(key, "method") == 0 ? &d.method :
		    strcmp(key, "host") == 0 ? &d.host :
		    strcmp(key, "path") == 0 ? &d.path :
		    strcmp(key, "query") == 0 ? &d.query :
		    strcmp(key, "payload") == 0 ? &d.payload :
		    strcmp(key, "region") == 0 ? &d.region :
		    strcmp(key, "service") == 0 ? &d.service :
		    strcmp(key, "access") == 0 ? &d.access :
		    strcmp(key, "secret") == 0 ? &d.secret :
		    strcmp(key, "token") == 0 ? &d.token : NULL;
		if (slot != NULL) {
			free(*slot);
			*slot = unhex(a ? a : "");
		} else if (strcmp(key, "key") == 0) {
			v = unhex(a ? a : "");
			if ((w = sigv4_uri_encode(v, 1)) == NULL)
				die("out of memory");
			append(&d.path, w, "", "");
			free(v);
			free(w);
		} else if (strcmp(key, "param") == 0) {
			v = unhex(a ? a : "");
			if ((w = sigv4_uri_encode(v, 0)) == NULL)
				die("out of memory");
			append(&d.query, d.query ? "&" : "", w, "");
			free(v);
			free(w);
			if (b != NULL) {
				if (*b != 'v')
					die("bad param line");
				v = unhex(b + 1);
				if ((w = sigv4_uri_encode(v, 0)) == NULL)
					die("out of memory");
				append(&d.query, "=", w, "");
				free(v);
				free(w);
			}
		} else if (strcmp(key, "header") == 0) {
			d.headers = realloc(d.headers,
			    (d.nheaders + 1) * sizeof *d.headers);
			if (d.headers == NULL)
				die("out of memory");
			d.headers[d.nheaders++] = unhex(a ? a : "");
		} else if (strcmp(key, "body") == 0) {
			v = unhex(a ? a : "");
			sigv4_sha256_hex(v, strlen(a ? a : "") / 2, h);
			free(v);
			free(d.payload);
			if ((d.payload = strdup(h)) == NULL)
				die("out of memory");
		} else if (strcmp(key, "time") == 0 && a != NULL)
			d.when = strtoll(a, NULL, 10);
		else if (strcmp(key, "nosha") == 0)
			d.nosha = 1;
		else if (strcmp(key, "end") == 0) {
			sign_one(&d);
			desc_free(&d);
		} else
			die("unknown line");
	}
	free(line);
	desc_free(&d);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc == 2 && strcmp(argv[1], "-s") == 0)
		return sign_mode();
	if (argc != 1) {
		fprintf(stderr, "usage: sigv4 [-s]\n");
		return 100;
	}
	test_sha256();
	test_uri_encode();
	test_signing_key();
	for (i = 0; i < sizeof vectors / sizeof *vectors; i++)
		test_vector(&vectors[i]);
	test_canonical();
	test_counts();
	test_bad();
	return tap_done();
}
