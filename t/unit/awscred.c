/*
 * awscred: a driver for t/t2002-s3-credentials.sh. Builds a credential
 * chain from the options and the environment, gets credentials COUNT
 * times (from each of THREADS threads), and prints one line per get on
 * stdout:
 *   ACCESS_KEY token=yes|no expires=never|YYYY-MM-DDTHH:MM:SSZ
 *       secret=HEX8 source=SOURCE
 * HEX8 is the start of the SHA-256 of the secret key, never the secret.
 * A failed get prints "awscred: fatal: unable to get AWS credentials:
 * REASON" on stderr and exits with awscred_get's code.
 *
 *   -k FILE     static keys: access key id on line 1, secret on line 2
 *   -r REGION   region for the regional STS endpoint
 *   -n COUNT    gets per thread (1)
 *   -w MS       sleep between gets (0)
 *   -x N        awscred_expire before get N (1-based; may repeat)
 *   -t THREADS  threads sharing the chain (1)
 *   -u          print the ECS container endpoint URL and exit: 0, or 1
 *               when none is configured
 *   -R F:E      print awscred_refresh_at(F, E) and exit
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

#include "awscred.h"
#include "http.h"

#define USAGE	"awscred [-u] [-k file] [-r region] [-n count] [-w ms] " \
		"[-x n]... [-t threads] [-R fetched:expires]"
#define MAX_THREADS	32

extern char **environ;

static struct awscred_chain *chain;
static long count = 1, wait_ms;
static uint64_t expire_at;		/* bit n-1: expire before get n */
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void
usage(void)
{
	fprintf(stderr, "awscred: usage: %s\n", USAGE);
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

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
show(const struct awscred *cr)
{
	unsigned char sum[32];
	char exp[32];
	br_sha256_context sc;
	struct tm tm;

	br_sha256_init(&sc);
	br_sha256_update(&sc, cr->secret_key, strlen(cr->secret_key));
	br_sha256_out(&sc, sum);
	if (cr->expires == 0)
		snprintf(exp, sizeof exp, "never");
	else {
		gmtime_r(&cr->expires, &tm);
		strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	pthread_mutex_lock(&out_mu);
	printf("%s token=%s expires=%s secret=%02x%02x%02x%02x source=%s\n",
	    cr->access_key, cr->token[0] ? "yes" : "no", exp, sum[0], sum[1],
	    sum[2], sum[3], cr->source);
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
}

/* Gets count times; returns 0 or awscred_get's code. */
static void *
run(void *arg)
{
	struct awscred cr;
	char err[1024];
	long i;
	int rc;

	for (i = 1; i <= count; i++) {
		if (i <= 64 && (expire_at >> (i - 1) & 1))
			awscred_expire(chain);
		if ((rc = awscred_get(chain, &cr, err, sizeof err)) != 0) {
			pthread_mutex_lock(&out_mu);
			fprintf(stderr, "awscred: fatal: unable to get AWS "
			    "credentials: %s\n", err);
			pthread_mutex_unlock(&out_mu);
			return (void *)(intptr_t)rc;
		}
		show(&cr);
		explicit_bzero(&cr, sizeof cr);
		if (i < count && wait_ms > 0)
			sleep_ms(wait_ms);
	}
	return NULL;
}

/* Reads the static keys: two lines. */
static void
read_keys(const char *path, char **key, char **secret)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int i;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "awscred: fatal: unable to open %s: %s\n",
		    path, strerror(errno));
		exit(111);
	}
	for (i = 0; i < 2; i++) {
		if ((n = getline(&line, &cap, f)) < 0)
			break;
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		if ((*(i == 0 ? key : secret) = strdup(line)) == NULL)
			exit(111);
	}
	fclose(f);
	free(line);
}

int
main(int argc, char **argv)
{
	char *key = NULL, *secret = NULL, *region = NULL, *colon;
	char url[4096], err[1024];
	pthread_t tid[MAX_THREADS];
	long threads = 1, i, n;
	int opt, print_url = 0, rc = 0;
	void *ret;
	struct http *h;

	while ((opt = getopt(argc, argv, "k:r:n:w:x:t:uR:")) != -1) {
		switch (opt) {
		case 'k':
			read_keys(optarg, &key, &secret);
			break;
		case 'r':
			region = optarg;
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
		case 'u':
			print_url = 1;
			break;
		case 'R':
			if ((colon = strchr(optarg, ':')) == NULL)
				usage();
			*colon = '\0';
			printf("%lld\n", (long long)awscred_refresh_at(
			    (time_t)number(optarg, 0, LONG_MAX),
			    (time_t)number(colon + 1, 0, LONG_MAX)));
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((h = http_new(NULL)) == NULL ||
	    (chain = awscred_new(h, key, secret, region, environ)) == NULL) {
		fprintf(stderr, "awscred: fatal: out of memory\n");
		return 111;
	}
	if (print_url) {
		rc = awscred_ecs_url(chain, url, sizeof url, err, sizeof err);
		if (rc == 0)
			printf("%s\n", url);
		else if (rc != 1)
			fprintf(stderr, "awscred: fatal: unable to get AWS "
			    "credentials: %s\n", err);
	} else if (threads == 1)
		rc = (int)(intptr_t)run(NULL);
	else {
		for (i = 0; i < threads; i++)
			if (pthread_create(&tid[i], NULL, run, NULL) != 0) {
				fprintf(stderr, "awscred: fatal: unable to "
				    "start a thread\n");
				return 111;
			}
		for (i = 0; i < threads; i++) {
			pthread_join(tid[i], &ret);
			if ((int)(intptr_t)ret > rc)
				rc = (int)(intptr_t)ret;
		}
	}
	awscred_free(chain);
	http_free(h);
	if (secret != NULL)
		explicit_bzero(secret, strlen(secret));
	free(key);
	free(secret);
	return rc;
}
