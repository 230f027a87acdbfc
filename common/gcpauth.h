/*
 * gcpauth: OAuth2 access tokens for Google Cloud Storage, scope
 * GCPAUTH_SCOPE, from the first source of Application Default Credentials
 * that applies, in this order:
 *   1. the JSON file GOOGLE_APPLICATION_CREDENTIALS names: a missing,
 *      unreadable or malformed file is an error, not a source that does
 *      not apply;
 *   2. gcloud's ADC file, $CLOUDSDK_CONFIG/application_default_credentials
 *      .json, else ~/.config/gcloud/application_default_credentials.json;
 *   3. the metadata server of Compute Engine (and of GKE, Cloud Run, ...),
 *      metadata.google.internal or GCE_METADATA_HOST (host[:port]): the
 *      default service account of the instance.
 * A file holds a service account key ("type": "service_account"), traded
 * for a token with a JWT the key signs (gcpauth_jwt), or a user's refresh
 * token ("type": "authorized_user"). A token is fetched again min(5
 * minutes, half its lifetime) before it expires.
 */
#ifndef GCPAUTH_H
#define GCPAUTH_H

#include <stddef.h>
#include <time.h>

#include "http.h"

#define GCPAUTH_SCOPE		\
	"https://www.googleapis.com/auth/devstorage.read_write"
#define GCPAUTH_TOKEN_URI	"https://oauth2.googleapis.com/token"
#define GCPAUTH_JWT_LIFE	3600	/* seconds from iat to exp */

/*
 * The assertion of the JWT bearer grant (RFC 7523) for a service account:
 *
 *   BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(signature)
 *
 * with BASE64URL unpadded, the header and claims compact JSON in this
 * order:
 *   {"alg":"RS256","typ":"JWT","kid":KEY_ID}     kid only when key_id is
 *                                                neither NULL nor ""
 *   {"iss":EMAIL,"scope":SCOPE,"aud":AUD,"iat":NOW,"exp":NOW+3600}
 * and the signature RSASSA-PKCS1-v1_5 with SHA-256 over the first two
 * parts and their dot, by pem: an RSA private key in PEM, "PRIVATE KEY"
 * (PKCS#8, as in Google's key files) or "RSA PRIVATE KEY" (PKCS#1).
 * The same arguments give the same JWT: nothing here reads a clock, the
 * environment or the network.
 *
 * Returns 0 with the JWT, malloc'd, in *out; or -1 with errno EINVAL
 * (email, aud or scope empty, or a string that is not UTF-8), EBADMSG
 * (pem holds no RSA private key BearSSL can use: none, a broken one, an
 * EC key, more than 4096 bits) or ENOMEM.
 */
int gcpauth_jwt(const char *email, const char *key_id, const char *pem,
    const char *aud, const char *scope, time_t now, char **out);

struct gcptoken_chain;

/*
 * env: the environment to read (NULL-terminated "K=V"; environ in
 * programs), read here once; the files it names are read again at each
 * fetch, since they may be replaced. h: for the token endpoints (the
 * metadata server gets a client of its own with short timeouts); NULL
 * makes one. NULL if out of memory.
 */
struct gcptoken_chain *gcptoken_new(struct http *h, char *const *env);

/*
 * Writes a current access token into tok (toklen bytes) and the name of
 * its source into source (no secret); thread-safe; fetches or refreshes as
 * needed. Returns 0, or 100 (no source applies; a credentials file that
 * is missing, unreadable or malformed; a token endpoint that refused:
 * 400, 401, 403) or 111 (a failure worth another try: network, 5xx,
 * throttling), with one line in err that holds no secret and no token.
 */
int gcptoken_get(struct gcptoken_chain *c, char *tok, size_t toklen,
    char *source, size_t srclen, char *err, size_t errlen);
/* As gcptoken_get, and stores when the token expires in *expires. */
int gcptoken_get_expiry(struct gcptoken_chain *c, char *tok, size_t toklen,
    time_t *expires, char *source, size_t srclen, char *err, size_t errlen);
/* Forgets the cached token (after the server said 401), so the next
 * gcptoken_get fetches another. */
void gcptoken_expire(struct gcptoken_chain *c);
void gcptoken_free(struct gcptoken_chain *c);

/*
 * When a token fetched at fetched and expiring at expires is fetched
 * again: min(5 minutes, half its lifetime) before expires.
 */
time_t gcptoken_refresh_at(time_t fetched, time_t expires);

#endif
