/*
 * agetool: common/age.c as a filter, for t/t0003-age.sh to check it
 * against the age command.
 *
 *   agetool enc RECIPIENTS_FILE <in >out
 *   agetool dec IDENTITY_FILE <in >out
 *   agetool pub IDENTITY_FILE         prints each identity's recipient
 *
 * Exits 0, 1 with "agetool: fatal: REASON" on stderr, or 100 for usage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age.h"
#include "fsx.h"

#define USAGE	"agetool enc recipients-file | dec identity-file | " \
		"pub identity-file"
#define BUFSIZE	(100 * 1000)	/* not a multiple of the chunk size */

static void
fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "agetool: fatal: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void
keys(const char *path, int secret, struct age_keys *k)
{
	char err[128], *text;
	size_t n;
	int rc;

	if (fsx_read_file(path, &text, &n) < 0)
		fatal("unable to read %s: %s", path, strerror(errno));
	rc = secret ? age_parse_identities(text, k, err, sizeof err) :
	    age_parse_recipients(text, k, err, sizeof err);
	explicit_bzero(text, n);
	free(text);
	if (rc < 0)
		fatal("unable to use %s: %s", path, err);
}

static int
to_stdout(void *ctx, const void *p, size_t n)
{
	return fsx_write_all(1, p, n);
}

static void
enc(struct age_keys *k, unsigned char *buf)
{
	struct age_enc e;
	ssize_t r;

	if (age_enc_begin(&e, k, 1) < 0)
		fatal("unable to encrypt: %s", strerror(errno));
	while ((r = read(0, buf, BUFSIZE)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fatal("unable to read: %s", strerror(errno));
		if (age_enc_write(&e, buf, (size_t)r) < 0)
			fatal("unable to encrypt: %s", strerror(errno));
	}
	if (age_enc_end(&e) < 0)
		fatal("unable to encrypt: %s", strerror(errno));
}

static void
dec(struct age_keys *k, unsigned char *buf)
{
	struct age_dec d;
	ssize_t r;
	int rc = 0;

	if (age_dec_init(&d, k, to_stdout, NULL) < 0)
		fatal("unable to decrypt: %s", strerror(errno));
	while (rc == 0 && (r = read(0, buf, BUFSIZE)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fatal("unable to read: %s", strerror(errno));
		rc = age_dec_push(&d, buf, (size_t)r);
	}
	if (rc == 0)
		rc = age_dec_finish(&d);
	if (rc == -2)
		fatal("unable to write: %s", strerror(errno));
	if (rc < 0)
		fatal("unable to decrypt: %s", d.err);
	age_dec_free(&d);
}

int
main(int argc, char **argv)
{
	struct age_keys k;
	char r[AGE_RECIPIENT_MAX];
	unsigned char *buf;
	int i;

	if (argc != 3 || (strcmp(argv[1], "enc") != 0 &&
	    strcmp(argv[1], "dec") != 0 && strcmp(argv[1], "pub") != 0)) {
		fprintf(stderr, "agetool: usage: %s\n", USAGE);
		return 100;
	}
	keys(argv[2], strcmp(argv[1], "enc") != 0, &k);
	if (strcmp(argv[1], "pub") == 0) {
		for (i = 0; i < k.n; i++) {
			age_identity_recipient(k.k[i], r);
			printf("%s\n", r);
		}
		age_keys_wipe(&k);
		return 0;
	}
	if ((buf = malloc(BUFSIZE)) == NULL)
		fatal("%s", strerror(errno));
	if (strcmp(argv[1], "enc") == 0)
		enc(&k, buf);
	else
		dec(&k, buf);
	age_keys_wipe(&k);
	free(buf);
	return 0;
}
