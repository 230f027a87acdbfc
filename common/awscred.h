/*
 * awscred: AWS credentials for SigV4, from the first source that yields
 * them, in this order:
 *   1. keys given by the caller (replica or global config keys);
 *   2. LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY;
 *   3. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN];
 *   4. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *      ~/.aws/credentials), profile AWS_PROFILE or "default";
 *   5. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, through
 *      STS AssumeRoleWithWebIdentity;
 *   6. ECS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 *      or _FULL_URI (with AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]);
 *   7. EC2 instance metadata with IMDSv2 tokens, unless
 *      AWS_EC2_METADATA_DISABLED=true; AWS_EC2_METADATA_SERVICE_ENDPOINT
 *      moves it.
 * Temporary credentials are fetched again before they expire.
 */
#ifndef AWSCRED_H
#define AWSCRED_H

#include <stddef.h>
#include <time.h>

#include "http.h"

struct awscred {
	char	access_key[128];
	char	secret_key[256];
	char	token[4096];		/* session token, "" if none */
	time_t	expires;		/* 0: never */
	char	source[256];		/* e.g. "environment (AWS_*)": no secret */
};

struct awscred_chain;

/*
 * access_key/secret_key: the caller's static keys, or NULL. region: used
 * for the regional STS endpoint. env: the environment to read (NULL-
 * terminated "K=V"; environ in programs). h: for the network sources.
 * NULL if out of memory.
 */
struct awscred_chain *awscred_new(struct http *h, const char *access_key,
    const char *secret_key, const char *region, char *const *env);
/*
 * Fills out with current credentials; thread-safe; fetches or refreshes as
 * needed. Returns 0, or 100 (no source applies, or a source refused: bad
 * file, 4xx from STS) or 111 (a network source failed in a way worth
 * retrying), with one line in err that holds no secret.
 */
int awscred_get(struct awscred_chain *c, struct awscred *out, char *err,
    size_t errlen);
/* Forgets cached temporary credentials (after the server said they
 * expired), so the next awscred_get fetches new ones. */
void awscred_expire(struct awscred_chain *c);
void awscred_free(struct awscred_chain *c);

/*
 * Writes into url the ECS container endpoint the chain would ask, without
 * asking it. Returns 0; 1 when neither AWS_CONTAINER_CREDENTIALS_*_URI is
 * set; or 100 (a full URI that is neither https nor http to a loopback
 * address or the ECS or EKS agent, or a URL longer than urllen) with err.
 */
int awscred_ecs_url(const struct awscred_chain *c, char *url, size_t urllen,
    char *err, size_t errlen);
/*
 * When temporary credentials fetched at fetched and expiring at expires
 * are fetched again: min(5 minutes, half their lifetime) before expires.
 * 0 when expires is 0 (never).
 */
time_t awscred_refresh_at(time_t fetched, time_t expires);

#endif
