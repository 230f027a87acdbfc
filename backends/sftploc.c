/*
 * sftploc: where an SFTP replica is, from its URL and settings: the user and
 * password (%XX-decoded), the host and port, and the remote root ("/~/PATH"
 * being PATH in the login directory), and the settings checked before a
 * shipper starts. Kept out of backends/sftp.c so that the programs that only
 * check a configuration (ls-replicate, ls-exec) do not link libssh2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bopt.h"
#include "sftp.h"

/* HOST, HOST:PORT, [IPV6] or [IPV6]:PORT (a bare IPv6 address, with
 * more than one colon, is a host without a port). */
static int
split_port(const char *hp, char *host, size_t hlen, int *port, char *err,
    size_t errlen)
{
	const char *h = hp, *colon = strrchr(hp, ':'), *close;
	char *end;
	long p = 22;
	size_t n;

	if (hp[0] == '[') {
		if ((close = strchr(hp, ']')) == NULL ||
		    (close[1] != '\0' && close[1] != ':')) {
			snprintf(err, errlen, "%s: not [ADDRESS][:PORT]", hp);
			return -1;
		}
		h = hp + 1;
		n = (size_t)(close - h);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else if (colon != NULL && strchr(hp, ':') != colon) {
		n = strlen(hp);
		colon = NULL;
	} else
		n = colon != NULL ? (size_t)(colon - hp) : strlen(hp);
	if (colon != NULL) {
		errno = 0;
		p = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || p < 1 || p > 65535) {
			snprintf(err, errlen, "%s: not HOST[:PORT]", hp);
			return -1;
		}
	}
	if (n == 0 || n >= hlen) {
		snprintf(err, errlen, "%s: not HOST[:PORT]", hp);
		return -1;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (int)p;
	return 0;
}

/* Decodes %XX in place, as URLs carry user names and passwords. */
static void
unescape(char *s)
{
	char *o = s;
	unsigned v;

	for (; *s != '\0'; s++) {
		if (s[0] == '%' && s[1] != '\0' && s[2] != '\0' &&
		    sscanf(s + 1, "%2x", &v) == 1 && v != 0) {
			*o++ = (char)v;
			s += 2;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

int
sftp_parse(const char *url, const struct bopts *o, struct sftp_loc *l,
    char *pw, size_t pwlen, char *err, size_t errlen)
{
	const char *p, *at, *slash, *colon, *v;
	char hp[300];
	size_t n;

	memset(l, 0, sizeof *l);
	if (pwlen > 0)
		pw[0] = '\0';
	if (strncmp(url, "sftp://", 7) != 0) {
		snprintf(err, errlen, "%s: not an sftp:// URL", url);
		return -1;
	}
	p = url + 7;
	if (strpbrk(p, "?#") != NULL) {
		snprintf(err, errlen, "sftp://...: an SFTP URL has no query or "
		    "fragment");
		return -1;
	}
	slash = p + strcspn(p, "/");
	at = NULL;
	for (v = p; v < slash; v++)
		if (*v == '@')
			at = v;		/* the last: a password may hold '@' */
	if (at != NULL) {
		colon = memchr(p, ':', (size_t)(at - p));
		n = (size_t)((colon != NULL ? colon : at) - p);
		if (n >= sizeof l->user) {
			snprintf(err, errlen, "sftp://...: user name too long");
			return -1;
		}
		memcpy(l->user, p, n);
		if (colon != NULL) {
			n = (size_t)(at - colon - 1);
			if (n >= pwlen) {
				snprintf(err, errlen, "sftp://...: password too "
				    "long");
				return -1;
			}
			memcpy(pw, colon + 1, n);
			pw[n] = '\0';
			unescape(pw);
			l->url_password = 1;
		}
		unescape(l->user);
		p = at + 1;
	}
	n = (size_t)(slash - p);
	if (n >= sizeof hp) {
		snprintf(err, errlen, "sftp://...: host too long");
		return -1;
	}
	memcpy(hp, p, n);
	hp[n] = '\0';
	if ((v = bopt_get(o, "host")) != NULL)
		snprintf(hp, sizeof hp, "%s", v);
	if (hp[0] == '\0') {
		snprintf(err, errlen, "sftp://...: no host (sftp://USER@HOST/"
		    "PATH, or host)");
		return -1;
	}
	if (split_port(hp, l->host, sizeof l->host, &l->port, err,
	    errlen) < 0)
		return -1;
	snprintf(l->hostport, sizeof l->hostport, strchr(l->host, ':') ?
	    "[%s]:%d" : "%s:%d", l->host, l->port);
	if ((v = bopt_get(o, "user")) != NULL)
		snprintf(l->user, sizeof l->user, "%s", v);
	if (l->user[0] == '\0') {
		snprintf(err, errlen, "sftp://%s: no user (sftp://USER@HOST/PATH,"
		    " or user)", l->host);
		return -1;
	}
	/* The URL's path is used as it is: absolute; "/~/PATH" is PATH in
	 * the login directory. */
	if (strncmp(slash, "/~/", 3) == 0 || strcmp(slash, "/~") == 0)
		slash += strcmp(slash, "/~") == 0 ? 2 : 3;
	n = strlen(slash);
	while (n > 1 && slash[n - 1] == '/')
		n--;
	if (n >= sizeof l->root) {
		snprintf(err, errlen, "sftp://%s: path too long", l->host);
		return -1;
	}
	memcpy(l->root, slash, n);
	if (strcmp(l->root, "/") == 0)
		l->root[0] = '\0';
	if (l->root[0] == '\0' && slash[0] != '/')
		snprintf(l->root, sizeof l->root, ".");
	return 0;
}

int
sftp_check(const char *url, const struct bopts *o, char *err, size_t errlen)
{
	struct sftp_loc l;
	char pw[256];
	int rc;

	rc = sftp_parse(url, o, &l, pw, sizeof pw, err, errlen);
	explicit_bzero(pw, sizeof pw);
	if (rc == 0 && bopt_get(o, "host-key") != NULL &&
	    bopt_get(o, "known-hosts") != NULL) {
		snprintf(err, errlen, "host-key and known-hosts both given");
		return -1;
	}
	return rc;
}
