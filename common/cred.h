/*
 * cred: what the credential chains (awscred, azauth, gcpauth) share:
 * notes of the sources tried, one-line failures, wiping secrets, reading
 * small files, the refresh rule, and fetching with a few tries.
 */
#ifndef CRED_H
#define CRED_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "http.h"

#define CRED_BACKOFF_MS		200
#define CRED_BACKOFF_MAX_MS	2000
#define CRED_REFRESH_MAX_S	300	/* most lead time of a refresh */

/* Notes of the sources tried, for the "no source applies" message. */
struct cred_notes {
	char	buf[1024];
	size_t	len;
};

/* Adds ", " and a note (cut at the buffer's end). */
void cred_note(struct cred_notes *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes the message into err and returns code. */
int cred_fail(int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Wipes and frees a secret string (NULL is fine). */
void cred_wipe_free(char *s);
/* Wipes a response body, then frees the response. */
void cred_resp_wipe_free(struct http_resp *rs);
/* Wipes the string member key of j, if any. */
void cred_json_wipe(json_t *j, const char *key);
/* Removes trailing blanks and newlines in place. */
void cred_rtrim(char *s);
/*
 * Reads a small file whole into a malloc'd string (and its length into
 * *lenp unless NULL). Returns 0, or an errno value (EFBIG when longer than
 * max). cred_slurp_trimmed also drops trailing blanks and newlines.
 */
int cred_slurp(const char *path, size_t max, char **out, size_t *lenp);
int cred_slurp_trimmed(const char *path, size_t max, char **out);
/* A JSON number, or a string of digits, into *out: 0, or -1. */
int cred_json_num(json_t *v, long long *out);
/* When credentials fetched at fetched and expiring at expires are
 * fetched again: min(5 min, half their lifetime) before the end. */
time_t cred_refresh_at(time_t fetched, time_t expires);
/* http_do, up to tries times while the outcome is temporary, backing
 * off between tries. */
int cred_fetch(struct http *h, const struct http_req *rq,
    struct http_resp *rs, int tries);

/*
 * A bearer token that a chain fetches and several threads share. It is
 * fetched again at its refresh time (cred_refresh_at); if that fails while
 * the token held is still good, the token is kept and the fetch tried
 * again within CRED_RETRY_S.
 */
#define CRED_RETRY_S	10

struct cred_token {
	char	*tok;		/* NULL until fetched, or after expire */
	time_t	expires, refresh_at;
	char	source[256];
};

/* What a fetch yields: a malloc'd token, its expiry, the source's name. */
struct cred_got {
	char	*tok;
	time_t	expires;
	char	source[256];
};

/* Fetches a token into g (zeroed by the caller): 0, or an exit status
 * (100, 111) with err. */
typedef int (*cred_token_fetch)(void *ctx, struct cred_got *g, char *err,
    size_t errlen);

/*
 * With the caller's lock held: the token into tok (toklen bytes), its
 * expiry into *expires (unless NULL), its source into source. Returns 0,
 * or an exit status with err.
 */
int cred_token_get(struct cred_token *t, cred_token_fetch fetch, void *ctx,
    char *tok, size_t toklen, time_t *expires, char *source, size_t srclen,
    char *err, size_t errlen);
/* Drops the token (after a 401, say) and wipes it. */
void cred_token_drop(struct cred_token *t);

#endif
