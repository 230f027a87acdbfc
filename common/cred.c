/* cred: what the credential chains share. See cred.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"

void
cred_note(struct cred_notes *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (n->len >= sizeof n->buf - 1)
		return;
	if (n->len > 0) {
		k = snprintf(n->buf + n->len, sizeof n->buf - n->len, ", ");
		n->len += (size_t)k;
		if (n->len >= sizeof n->buf - 1)
			return;
	}
	va_start(ap, fmt);
	k = vsnprintf(n->buf + n->len, sizeof n->buf - n->len, fmt, ap);
	va_end(ap);
	if (k > 0)
		n->len += (size_t)k;
	if (n->len > sizeof n->buf - 1)
		n->len = sizeof n->buf - 1;
}

int
cred_fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

void
cred_wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
cred_resp_wipe_free(struct http_resp *rs)
{
	if (rs->body != NULL)
		explicit_bzero(rs->body, rs->body_len);
	http_resp_free(rs);
}

void
cred_json_wipe(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	if (v != NULL && json_is_string(v))
		explicit_bzero((char *)json_string_value(v),
		    json_string_length(v));
}

void
cred_rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

int
cred_slurp(const char *path, size_t max, char **out, size_t *lenp)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno;
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return ENOMEM;
	}
	for (;;) {
		n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > max)
			break;
	}
	e = n < 0 ? errno : len > max ? EFBIG : 0;
	close(fd);
	if (e != 0) {
		explicit_bzero(buf, len);
		free(buf);
		return e;
	}
	buf[len] = '\0';
	*out = buf;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
cred_slurp_trimmed(const char *path, size_t max, char **out)
{
	int e = cred_slurp(path, max, out, NULL);

	if (e == 0)
		cred_rtrim(*out);
	return e;
}

int
cred_json_num(json_t *v, long long *out)
{
	const char *s;
	size_t k;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) >= 0 &&
	    json_real_value(v) < 1e15) {
		*out = (long long)json_real_value(v);
		return 0;
	}
	if ((s = json_string_value(v)) == NULL || (k = strlen(s)) == 0 ||
	    k > 18 || strspn(s, "0123456789") != k)
		return -1;
	*out = strtoll(s, NULL, 10);
	return 0;
}

time_t
cred_refresh_at(time_t fetched, time_t expires)
{
	time_t life, margin;

	life = expires - fetched;
	if (life <= 0)
		return fetched;
	margin = life / 2;
	if (margin > CRED_REFRESH_MAX_S)
		margin = CRED_REFRESH_MAX_S;
	return expires - margin;
}

int
cred_fetch(struct http *h, const struct http_req *rq, struct http_resp *rs,
    int tries)
{
	int attempt, rc;

	for (attempt = 1;; attempt++) {
		rc = http_do(h, rq, rs);
		if (!http_temporary(rc, rs) || attempt >= tries)
			return rc;
		http_resp_free(rs);
		http_backoff(attempt, CRED_BACKOFF_MS, CRED_BACKOFF_MAX_MS);
	}
}

int
cred_token_get(struct cred_token *t, cred_token_fetch fetch, void *ctx,
    char *tok, size_t toklen, time_t *expires, char *source, size_t srclen,
    char *err, size_t errlen)
{
	struct cred_got g;
	time_t now;
	size_t k;
	int rc = 0;

	if (errlen > 0)
		err[0] = '\0';
	if (toklen > 0)
		tok[0] = '\0';
	now = time(NULL);
	if (t->tok == NULL || now >= t->refresh_at) {
		memset(&g, 0, sizeof g);
		rc = fetch(ctx, &g, err, errlen);
		now = time(NULL);
		if (rc == 0) {
			cred_wipe_free(t->tok);
			t->tok = g.tok;
			t->expires = g.expires;
			memcpy(t->source, g.source, sizeof t->source);
			t->refresh_at = cred_refresh_at(now, t->expires);
		} else if (t->tok != NULL && now < t->expires) {
			/* The refresh failed but the token held is still
			 * good: use it, and try again a little later. */
			t->refresh_at = now + (t->expires - now) / 2;
			if (t->refresh_at > now + CRED_RETRY_S)
				t->refresh_at = now + CRED_RETRY_S;
			rc = 0;
			if (errlen > 0)
				err[0] = '\0';
		} else
			return rc;
	}
	if ((k = strlen(t->tok)) >= toklen)
		return cred_fail(100, err, errlen, "the access token from %s "
		    "is longer than %zu bytes", t->source, toklen > 0 ?
		    toklen - 1 : 0);
	memcpy(tok, t->tok, k + 1);
	if (srclen > 0)
		snprintf(source, srclen, "%s", t->source);
	if (expires != NULL)
		*expires = t->expires;
	return 0;
}

void
cred_token_drop(struct cred_token *t)
{
	cred_wipe_free(t->tok);
	t->tok = NULL;
}
