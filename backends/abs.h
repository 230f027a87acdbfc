/*
 * abs: Azure Blob Storage, and Azurite. See ls-ship-abs(1).
 */
#ifndef ABS_H
#define ABS_H

#include <stddef.h>

#include "backend.h"
#include "bopt.h"

/* part-size (the block size) when not set. */
#define ABS_BLOCK_DEFAULT	(5ULL << 20)

/* Where a replica is, from its URL and settings. */
struct abs_loc {
	char	account[64];
	char	container[64];
	char	prefix[1024];	/* root in the container, no '/' at the ends */
	char	scheme[8];	/* "https" or "http" */
	char	host[512];	/* host[:port] */
	char	base[512];	/* path before /CONTAINER: "" or "/ACCOUNT" */
};

/*
 * Parses abs://[ACCOUNT@]CONTAINER[/PATH] with the settings account-name
 * and endpoint (which win over the URL). 0, or -1 with one line in err.
 */
int abs_parse(const char *url, const struct bopts *o, struct abs_loc *l,
    char *err, size_t errlen);

/* Checks url and the settings as abs_open would, without opening. */
int abs_check(const char *url, const struct bopts *o, char *err,
    size_t errlen);

/* Opens the replica. NULL with why in err and *code 100 or 111. */
struct backend *abs_open(const char *url, const struct bopts *o, char *err,
    size_t errlen, int *code);

#endif
