/*
 * absloc: where an Azure Blob Storage replica is, from its URL and settings:
 * the account, the container (its name checked as Azure would), the root and
 * the endpoint, and the settings checked before a shipper starts. Kept out of
 * backends/abs.c so that the programs that only check a configuration
 * (ls-replicate, ls-exec) do not link the HTTP client.
 */
#include <stdio.h>
#include <string.h>

#include "abs.h"
#include "bopt.h"

#define BLOCK_MIN	(1ULL << 20)
#define BLOCK_MAX	(4000ULL << 20)

static int
name_ok(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || (s[i] == '-' && i > 0 && i + 1 < n &&
		    s[i - 1] != '-')))
			return 0;
	return 1;
}

int
abs_parse(const char *url, const struct bopts *o, struct abs_loc *l,
    char *err, size_t errlen)
{
	const char *p, *at, *slash, *v, *h;
	size_t n;

	memset(l, 0, sizeof *l);
	if (strncmp(url, "abs://", 6) != 0) {
		snprintf(err, errlen, "%s: not an abs:// URL", url);
		return -1;
	}
	p = url + 6;
	if (strpbrk(p, "?#") != NULL) {
		snprintf(err, errlen, "%s: an abs URL has no query or fragment "
		    "(give a SAS token with sas-token)", url);
		return -1;
	}
	slash = p + strcspn(p, "/");
	at = memchr(p, '@', (size_t)(slash - p));
	if (at != NULL) {
		if ((size_t)(at - p) >= sizeof l->account) {
			snprintf(err, errlen, "%s: account name too long", url);
			return -1;
		}
		memcpy(l->account, p, (size_t)(at - p));
		p = at + 1;
	}
	if ((n = (size_t)(slash - p)) >= sizeof l->container) {
		snprintf(err, errlen, "%s: a container name is 3 to 63 "
		    "characters", url);
		return -1;
	}
	memcpy(l->container, p, n);
	for (p = slash; *p == '/'; p++)
		;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n >= sizeof l->prefix) {
		snprintf(err, errlen, "%s: path too long", url);
		return -1;
	}
	memcpy(l->prefix, p, n);
	if ((v = bopt_get(o, "account-name")) != NULL)
		snprintf(l->account, sizeof l->account, "%s", v);
	if (!name_ok(l->container, 3, 63)) {
		snprintf(err, errlen, "%s: '%s' is not a container name (3 to "
		    "63 of a-z, 0-9 and single inner dashes)", url,
		    l->container);
		return -1;
	}
	if (l->account[0] == '\0') {
		snprintf(err, errlen, "%s: no account (abs://ACCOUNT@CONTAINER/"
		    "PATH, or account-name)", url);
		return -1;
	}
	snprintf(l->scheme, sizeof l->scheme, "https");
	snprintf(l->host, sizeof l->host, "%s.blob.core.windows.net",
	    l->account);
	if ((v = bopt_get(o, "endpoint")) != NULL) {
		if (strncmp(v, "http://", 7) == 0) {
			snprintf(l->scheme, sizeof l->scheme, "http");
			h = v + 7;
		} else if (strncmp(v, "https://", 8) == 0)
			h = v + 8;
		else if (strstr(v, "://") != NULL) {
			snprintf(err, errlen, "endpoint %s: not http:// or "
			    "https://", v);
			return -1;
		} else
			h = v;
		n = strcspn(h, "/");
		if (n == 0 || n >= sizeof l->host ||
		    strlen(h + n) >= sizeof l->base) {
			snprintf(err, errlen, "endpoint %s: not "
			    "[http[s]://]HOST[:PORT][/PATH]", v);
			return -1;
		}
		snprintf(l->host, sizeof l->host, "%.*s", (int)n, h);
		/* A path (Azurite's /ACCOUNT) goes before the container. */
		snprintf(l->base, sizeof l->base, "%s", h + n);
		n = strlen(l->base);
		while (n > 0 && l->base[n - 1] == '/')
			l->base[--n] = '\0';
	}
	return 0;
}

int
abs_check(const char *url, const struct bopts *o, char *err, size_t errlen)
{
	struct abs_loc l;
	uint64_t block = bopt_size(o, "part-size", ABS_BLOCK_DEFAULT);

	if (abs_parse(url, o, &l, err, errlen) < 0)
		return -1;
	if (block < BLOCK_MIN || block > BLOCK_MAX) {
		snprintf(err, errlen, "part-size: from 1MiB to 4000MiB (Azure's "
		    "largest block)");
		return -1;
	}
	return 0;
}
