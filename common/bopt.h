/*
 * bopt: a backend's settings, the same keys in the config file (see
 * ls-replicate.conf(5)) and on the command line (-O KEY=VALUE).
 *
 * Secrets never travel in argv: a secret key is given as KEY-file=PATH
 * (the file's first line) or in the environment as LS_KEY (upper case,
 * '-' as '_', e.g. LS_SECRET_ACCESS_KEY); -O KEY=SECRET is refused.
 */
#ifndef BOPT_H
#define BOPT_H

#include <stddef.h>
#include <stdint.h>

enum bopt_kind { BK_STR, BK_BOOL, BK_SIZE, BK_DUR, BK_COUNT };
#define BK_SECRET	0x100
#define BK_WHOLE	0x200	/* a secret's file is read whole, not its
				 * first line */

struct bopt_key {
	const char	*type;		/* "s3", "abs", ... */
	const char	*key;
	int		kind;		/* bopt_kind | BK_SECRET */
};

/* The key's entry for type, or NULL. A "KEY-file" name finds KEY when
 * KEY is a secret. */
const struct bopt_key *bopt_find(const char *type, const char *key);
/* 1 if some backend type knows key. */
int bopt_known(const char *key);
/* Checks a value against the key's kind; 0, or -1 with why in err. */
int bopt_check(const struct bopt_key *k, const char *val, char *err,
    size_t errlen);

#define BOPT_MAX	32

struct bopts {
	const char	*type;
	char *const	*env;		/* the environment: "K=V", NULL-ended */
	size_t		n;
	const char	*key[BOPT_MAX];
	const char	*val[BOPT_MAX];
};

/* Adds "KEY=VALUE" from -O: 0, or -1 with why in err (unknown key, a
 * secret in argv, a bad value). The string must outlive o. */
int bopt_add(struct bopts *o, const char *kv, char *err, size_t errlen);
/* The value of key, or NULL. */
const char *bopt_get(const struct bopts *o, const char *key);
/* A boolean (default def), size or duration in ms (default def). */
int bopt_bool(const struct bopts *o, const char *key, int def);
uint64_t bopt_size(const struct bopts *o, const char *key, uint64_t def);
int64_t bopt_dur(const struct bopts *o, const char *key, int64_t def);
/*
 * A secret: from KEY-file, else from the environment's LS_KEY. Returns a
 * malloc'd string, NULL with err[0] == '\0' when not given, or NULL with
 * why in err (unreadable file).
 */
char *bopt_secret(const struct bopts *o, const char *key, char *err,
    size_t errlen);
/* The value of name in o's environment, or NULL. */
const char *bopt_env(const struct bopts *o, const char *name);
/* LS_KEY for key into buf. */
void bopt_env_name(const char *key, char *buf, size_t len);

#endif
