/*
 * Unit tests of common/gcpauth.c and base64url, and a driver for
 * t/t4001-gcs-auth.sh.
 *
 *   gcpauth             known answers and refusals, as TAP
 *   gcpauth -J keyfile -i iat [-a aud] [-s scope]
 *                       prints, followed by LF, the JWT gcpauth_jwt makes
 *                       at time IAT from the service account key file
 *                       KEYFILE (client_email, private_key_id, private_key
 *                       and, unless -a, token_uri as the audience); scope
 *                       GCPAUTH_SCOPE unless -s. A refusal prints
 *                       "gcpauth: fatal: unable to sign: STRERROR" and
 *                       exits 100.
 *   gcpauth -R f:e      prints gcptoken_refresh_at(f, e)
 *   gcpauth -T [-n count] [-w ms] [-x n]... [-t threads] [-l toklen]
 *                       builds a token chain from the environment, gets a
 *                       token COUNT times (from each of THREADS threads):
 *                         token=HEX8 expires=YYYY-MM-DDTHH:MM:SSZ
 *                             source=SOURCE
 *                       HEX8 is the start of the SHA-256 of the token,
 *                       never the token. -x N: gcptoken_expire before get
 *                       N; -l: the token buffer's size. A failed get
 *                       prints "gcpauth: fatal: unable to get a Google
 *                       access token: REASON" on stderr and exits with
 *                       gcptoken_get's code.
 *
 * The base64 vectors are those of RFC 4648, section 10.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>
#include <jansson.h>

#include "enc.h"
#include "gcpauth.h"
#include "http.h"
#include "tap.h"

#define USAGE	"gcpauth [-J keyfile -i iat [-a aud] [-s scope] | " \
		"-R fetched:expires | -T [-n count] [-w ms] [-x n]... " \
		"[-t threads] [-l toklen]]"
#define MAX_THREADS	32

extern char **environ;

static struct gcptoken_chain *chain;
static long count = 1, wait_ms;
static size_t toklen = 16384;
static uint64_t expire_at;		/* bit n-1: expire before get n */
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void
usage(void)
{
	fprintf(stderr, "gcpauth: usage: %s\n", USAGE);
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

/* A P-256 key in PKCS#8, made for this test: a key, but not RSA. */
static const char ec_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgvsqsmK9JIeDesXpE\n"
    "rdwY3lgy2sufQ4huXWzFmto8YfWhRANCAAS2uPYcNh++B9l+llc+e0VkUgHp/jOt\n"
    "lfkghy1ntCiMFZ3q+e6PCI3KK6KizyDleD510R3/dS+CHSdNA3Z+JIQh\n"
    "-----END PRIVATE KEY-----\n";

static void
refused(const char *name, const char *email, const char *kid,
    const char *pem, int want)
{
	char *jwt = (char *)"x";
	int rc, e;

	errno = 0;
	rc = gcpauth_jwt(email, kid, pem, "https://oauth2.googleapis.com/token",
	    GCPAUTH_SCOPE, 1700000000, &jwt);
	e = errno;
	ok(rc == -1 && e == want && jwt == NULL, "refused: %s", name);
	if (rc == 0)
		free(jwt);
}

static void
known_answers(void)
{
	static const struct {
		const char	*in, *b64, *url;
	} v[] = {
		{ "", "", "" },
		{ "f", "Zg==", "Zg" },
		{ "fo", "Zm8=", "Zm8" },
		{ "foo", "Zm9v", "Zm9v" },
		{ "foob", "Zm9vYg==", "Zm9vYg" },
		{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
		{ "\xfb\xff\xbf", "+/+/", "-_-_" },
		{ "\xff\xfe", "//4=", "__4" },
		{ "\x3e\x3f", "Pj8=", "Pj8" },
	};
	static const char sa[] = "sa@p.iam.gserviceaccount.com";
	char out[64];
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		enc_base64(v[i].in, strlen(v[i].in), out);
		is_str(out, v[i].b64, "base64, vector %zu", i + 1);
		memset(out, '*', sizeof out);
		enc_base64url(v[i].in, strlen(v[i].in), out);
		is_str(out, v[i].url, "base64url, vector %zu", i + 1);
		is_int(strlen(out) + 1, (4 * strlen(v[i].in) + 2) / 3 + 1,
		    "base64url, vector %zu: the size enc.h gives", i + 1);
	}

	is_int(gcptoken_refresh_at(100, 104), 102, "refresh: half of 4 s");
	is_int(gcptoken_refresh_at(0, 600), 300, "refresh: 5 min of 10");
	is_int(gcptoken_refresh_at(0, 3600), 3300, "refresh: 5 min of 1 h");
	is_int(gcptoken_refresh_at(50, 40), 50, "refresh: expired: now");

	refused("no email", "", NULL, ec_key, EINVAL);
	refused("a kid that is not UTF-8", sa, "\xff\xfe", ec_key, EINVAL);
	refused("an email that is not UTF-8", "\xc3(@x", NULL, ec_key,
	    EINVAL);
	refused("an EC key", sa, NULL, ec_key, EBADMSG);
	refused("no PEM at all", sa, NULL, "not a key", EBADMSG);
	refused("an empty key", sa, NULL, "", EBADMSG);
	refused("a certificate, not a key", sa, NULL,
	    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
	    EBADMSG);
	refused("a key that is not DER", sa, NULL,
	    "-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n"
	    "-----END PRIVATE KEY-----\n", EBADMSG);
	refused("a key that is not base64", sa, NULL,
	    "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
	    EBADMSG);
	refused("a key without its end line", sa, NULL,
	    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n",
	    EBADMSG);
}

/* -J: one JWT. */

static int
jwt_of(const char *keyfile, time_t iat, const char *aud, const char *scope)
{
	const char *email, *kid, *pem;
	json_error_t je;
	char *jwt;
	json_t *j;
	int rc = 0;

	if ((j = json_load_file(keyfile, 0, &je)) == NULL) {
		fprintf(stderr, "gcpauth: fatal: unable to read %s: line "
		    "%d\n", keyfile, je.line);
		return 100;
	}
	email = json_string_value(json_object_get(j, "client_email"));
	kid = json_string_value(json_object_get(j, "private_key_id"));
	pem = json_string_value(json_object_get(j, "private_key"));
	if (aud == NULL)
		aud = json_string_value(json_object_get(j, "token_uri"));
	if (gcpauth_jwt(email, kid, pem, aud, scope, iat, &jwt) < 0) {
		fprintf(stderr, "gcpauth: fatal: unable to sign: %s\n",
		    strerror(errno));
		rc = 100;
	} else {
		printf("%s\n", jwt);
		free(jwt);
	}
	json_decref(j);
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

/* Gets count times; returns 0 or gcptoken_get's code. */
static void *
run(void *arg)
{
	char *tok, src[256], err[1024];
	time_t exp;
	long i;
	int rc;

	if ((tok = malloc(toklen)) == NULL)
		return (void *)(intptr_t)111;
	for (i = 1; i <= count; i++) {
		if (i <= 64 && (expire_at >> (i - 1) & 1))
			gcptoken_expire(chain);
		if ((rc = gcptoken_get_expiry(chain, tok, toklen, &exp, src,
		    sizeof src, err, sizeof err)) != 0) {
			pthread_mutex_lock(&out_mu);
			fprintf(stderr, "gcpauth: fatal: unable to get a "
			    "Google access token: %s\n", err);
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
tokens(long threads)
{
	pthread_t tid[MAX_THREADS];
	struct http *h;
	void *ret;
	long i;
	int rc = 0;

	if ((h = http_new(NULL)) == NULL ||
	    (chain = gcptoken_new(h, environ)) == NULL) {
		fprintf(stderr, "gcpauth: fatal: out of memory\n");
		return 111;
	}
	if (threads == 1)
		rc = (int)(intptr_t)run(NULL);
	else {
		for (i = 0; i < threads; i++)
			if (pthread_create(&tid[i], NULL, run, NULL) != 0) {
				fprintf(stderr, "gcpauth: fatal: unable to "
				    "start a thread\n");
				return 111;
			}
		for (i = 0; i < threads; i++) {
			pthread_join(tid[i], &ret);
			if ((int)(intptr_t)ret > rc)
				rc = (int)(intptr_t)ret;
		}
	}
	gcptoken_free(chain);
	http_free(h);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *keyfile = NULL, *aud = NULL, *scope = GCPAUTH_SCOPE;
	char *colon;
	long threads = 1, n, iat = -1;
	int opt, mode = 0;

	while ((opt = getopt(argc, argv, "J:i:a:s:R:Tn:w:x:t:l:")) != -1) {
		switch (opt) {
		case 'J':
			if (mode != 0)
				usage();
			mode = opt;
			keyfile = optarg;
			break;
		case 'T':
			if (mode != 0)
				usage();
			mode = opt;
			break;
		case 'i':
			iat = number(optarg, 0, LONG_MAX - GCPAUTH_JWT_LIFE);
			break;
		case 'a':
			aud = optarg;
			break;
		case 's':
			scope = optarg;
			break;
		case 'R':
			if ((colon = strchr(optarg, ':')) == NULL)
				usage();
			*colon = '\0';
			printf("%lld\n", (long long)gcptoken_refresh_at(
			    (time_t)number(optarg, 0, LONG_MAX),
			    (time_t)number(colon + 1, 0, LONG_MAX)));
			return 0;
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
	case 'J':
		if (iat < 0)
			usage();
		return jwt_of(keyfile, (time_t)iat, aud, scope);
	case 'T':
		return tokens(threads);
	}
	known_answers();
	return tap_done();
}
