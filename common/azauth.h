/*
 * azauth: authorization for the Azure Blob Storage REST API, two ways.
 *
 * 1. Shared Key (the account key), for x-ms-version 2009-09-19 and later:
 *    azauth_sharedkey() is a pure function of the request as it goes on the
 *    wire. Nothing in it reads a clock, the environment or the network.
 *    The string to sign is these lines, each ended by LF:
 *
 *      VERB                   as given ("PUT")
 *      Content-Encoding       the value of each header as sent, trimmed of
 *      Content-Language       SP and HTAB; an empty line when the header
 *      Content-Length         is not sent, and Content-Length also when
 *      Content-MD5            it is 0
 *      Content-Type
 *      Date
 *      If-Modified-Since
 *      If-Match
 *      If-None-Match
 *      If-Unmodified-Since
 *      Range
 *      name:value             one line for each x-ms-* header: the name in
 *      ...                    lowercase, the value trimmed; sorted by name
 *
 *    then the canonicalized resource, with no final LF:
 *
 *      /ACCOUNTPATH           "/", the account, then the path as sent
 *                             (percent-encoded, never decoded): for a
 *                             path-style URL such as Azurite's
 *                             /devstoreaccount1/c/b, the account appears
 *                             twice: /devstoreaccount1/devstoreaccount1/c/b
 *      \nname:v1,v2           for each query parameter name: the name
 *      ...                    URL-decoded and lowercased, the values
 *                             URL-decoded ('+' is a space), sorted and
 *                             joined by ','; names sorted. A parameter
 *                             without '=' has an empty value.
 *
 *    The signature is the base64 HMAC-SHA256 of the string to sign, keyed
 *    with the base64-decoded account key.
 *
 *    x-ms-* names are ordered '_' < '-' < digits < letters, as Azurite and
 *    the service order metadata names (bytewise order would put digits
 *    before '_'); a name with any other character after lowercasing is bad
 *    input. Servers disagree on some requests, which are therefore bad
 *    input too: a header name given twice, Date together with x-ms-date
 *    (one signs Date as sent, the other leaves it empty), an x-ms-* value
 *    holding two spaces in a row (one collapses them, the other does not),
 *    a control character in a value, and an Authorization header.
 *
 * 2. Azure AD bearer tokens for https://storage.azure.com/, from the first
 *    source that applies, in this order:
 *      a. a service principal: AZURE_TENANT_ID, AZURE_CLIENT_ID and
 *         AZURE_CLIENT_SECRET (client credentials), or instead of the
 *         secret AZURE_FEDERATED_TOKEN_FILE (workload identity: the file's
 *         token as the client assertion), sent to AZURE_AUTHORITY_HOST
 *         (https://login.microsoftonline.com/);
 *      b. managed identity: App Service and Container Apps when
 *         IDENTITY_ENDPOINT and IDENTITY_HEADER are set, else the instance
 *         metadata service (IMDS) at 169.254.169.254 or
 *         AZURE_POD_IDENTITY_AUTHORITY_HOST; AZURE_CLIENT_ID picks a
 *         user-assigned identity;
 *      c. the Azure CLI: az account get-access-token, az found on PATH.
 *    A token is fetched again min(5 minutes, half its lifetime) before it
 *    expires.
 */
#ifndef AZAUTH_H
#define AZAUTH_H

#include <stddef.h>
#include <time.h>

#include "http.h"

#define AZAUTH_DATE_MAX		32	/* azauth_date's output and NUL */
#define AZAUTH_RESOURCE		"https://storage.azure.com/"

/*
 * Writes t as an RFC 1123 date in GMT ("Sun, 06 Nov 1994 08:49:37 GMT"),
 * the form of x-ms-date, into out (AZAUTH_DATE_MAX bytes).
 */
void azauth_date(time_t t, char *out);

/*
 * The string to sign of a request (see above): method; path as sent (NULL
 * or "": "/"), printable ASCII without blanks, '?' or '#'; query as sent,
 * without '?' (NULL: none), printable ASCII without blanks or '#';
 * headers: every header that will be sent, "Name: value" each. Returns it
 * malloc'd, or NULL with errno EINVAL (bad input) or ENOMEM.
 */
char *azauth_string_to_sign(const char *method, const char *path,
    const char *query, const char *const *headers, size_t nheaders,
    const char *account);

/*
 * Writes into out the whole header "Authorization: SharedKey
 * ACCOUNT:SIGNATURE" for the request (arguments as above; key is the
 * base64 account key). Returns 0, or -1 with errno EINVAL (bad input, a
 * key that is not base64), ENOMEM, or ERANGE (outlen too small), out then
 * holding "".
 */
int azauth_sharedkey(const char *method, const char *path, const char *query,
    const char *const *headers, size_t nheaders, const char *account,
    const char *key, char *out, size_t outlen);

struct aztoken_chain;

/*
 * env: the environment to read (NULL-terminated "K=V"; environ in
 * programs), read here once; az gets all of it. h: for the authority (the
 * managed identity endpoints get a client of their own with short
 * timeouts); NULL makes one. NULL if out of memory.
 */
struct aztoken_chain *aztoken_new(struct http *h, char *const *env);

/*
 * Writes a current access token into tok (toklen bytes) and the name of
 * its source into source (no secret); thread-safe; fetches or refreshes as
 * needed. Returns 0, or 100 (no source applies; a source is configured
 * wrongly; the authority refused: 400, 401, 403; az failed) or 111 (a
 * failure worth another try: network, 5xx, throttling, az timed out), with
 * one line in err that holds no secret.
 */
int aztoken_get(struct aztoken_chain *c, char *tok, size_t toklen,
    char *source, size_t srclen, char *err, size_t errlen);
/* As aztoken_get, and stores when the token expires in *expires. */
int aztoken_get_expiry(struct aztoken_chain *c, char *tok, size_t toklen,
    time_t *expires, char *source, size_t srclen, char *err, size_t errlen);
/* Forgets the cached token (after the server said 401), so the next
 * aztoken_get fetches another. */
void aztoken_expire(struct aztoken_chain *c);
/* How long az may run before it is killed (30 s). */
void aztoken_cli_timeout(struct aztoken_chain *c, int seconds);
void aztoken_free(struct aztoken_chain *c);

/*
 * When a token fetched at fetched and expiring at expires is fetched
 * again: min(5 minutes, half its lifetime) before expires.
 */
time_t aztoken_refresh_at(time_t fetched, time_t expires);

#endif
