/*
 * sftp: a replica on an SSH server, over SFTP (libssh2). See
 * ls-ship-sftp(1).
 */
#ifndef SFTP_H
#define SFTP_H

#include <stddef.h>

#include "backend.h"
#include "bopt.h"

struct sftp_loc {
	char	user[64];
	char	host[256];
	int	port;
	char	hostport[300];	/* HOST:PORT, [IPV6]:PORT, for messages */
	char	root[1024];	/* remote directory, no '/' at the end */
	int	url_password;	/* the URL held a password */
};

/*
 * Parses sftp://USER[:PASSWORD]@HOST[:PORT]/PATH (an IPv6 HOST in
 * brackets), or with the settings host (HOST[:PORT]), user and a relative or absolute path in the URL.
 * The password, if the URL has one, goes to pw (pwlen bytes). 0, or -1
 * with one line in err.
 */
int sftp_parse(const char *url, const struct bopts *o, struct sftp_loc *l,
    char *pw, size_t pwlen, char *err, size_t errlen);

/* Checks url and the settings as sftp_open would, without connecting. */
int sftp_check(const char *url, const struct bopts *o, char *err,
    size_t errlen);

/* Opens the replica (connects at the first operation). NULL with why in
 * err and *code 100 or 111. */
struct backend *sftp_open(const char *url, const struct bopts *o, char *err,
    size_t errlen, int *code);

#endif
