/*
 * conf: the supervisor's configuration, from an INI file or from the
 * command line. See ls-replicate.conf(5) for the format.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>

/* A duration or count not given is CONF_UNSET. */
#define CONF_UNSET	(-1)

/* A backend setting (bopt.h): passed as -O KEY=VALUE, or for a secret
 * in the environment as LS_KEY. */
struct conf_kv {
	char		*key, *val;
	int		line;
};

struct conf_replica {
	int		line;		/* where its section starts, 0 if none */
	char		*name;		/* ack and log name; default: its type */
	char		*type;		/* file, s3 */
	char		*url;		/* the shipper's replica argument */
	char		*path;		/* file: the directory; s3: the prefix */
	char		*bucket;
	struct conf_kv	*kv;
	size_t		nkv;
	int64_t		retention_ms, retention_check_ms;
	int64_t		sync_ms, snapshot_ms, validation_ms;
};

struct conf_db {
	int			line;
	char			*path;
	char			*spool;		/* default DIR/.BASE-ls */
	int64_t			monitor_ms, checkpoint_ms, snapshot_ms;
	int64_t			min_pages, max_pages, trunc_pages;
	struct conf_replica	*rep;
	size_t			nrep;
};

struct conf {
	char			*file;		/* NULL for the command-line form */
	struct conf_db		*db;
	size_t			ndb;
	int64_t			shutdown_ms;	/* stop timeout */
	char			*addr;		/* metrics HOST:PORT, or NULL */
	char			*metrics_file;	/* textfile, or NULL */
	int			verbose;	/* log-level debug or info */
	char			**exec;		/* argv to run (one block), or NULL */
	struct conf_replica	defaults;	/* global keys replicas inherit */
};

/*
 * Reads file. env is the environment (NULL-terminated "K=V" strings) for
 * ${VAR} in values. Returns 0, or -1 with one line in err: "FILE:LINE:
 * message" (or "FILE: message" when no line applies).
 */
int conf_load(const char *file, char *const *env, struct conf *c, char *err,
    size_t errlen);
/* The command-line form: one database, replicas from URLs. 0 or -1. */
int conf_args(const char *db, char *const *urls, size_t n, struct conf *c,
    char *err, size_t errlen);
void conf_free(struct conf *c);
/* Calls arg for each argument ("-O", "KEY=VALUE", ...) and env for each
 * "LS_KEY=SECRET" a child working on r needs. */
void conf_replica_child(const struct conf_replica *r,
    void (*arg)(void *, const char *), void (*env)(void *, const char *),
    void *ctx);
/*
 * Splits s into words with sh(1)'s quoting and nothing else: blanks
 * separate words, '...' keeps everything, "..." keeps everything but
 * \", \\, \$ and \` (the character escaped), and a backslash outside
 * quotes escapes the next character. Returns a NULL-terminated argv in
 * one malloc'd block (one free() releases it), or NULL with the reason in
 * err ("unterminated single quote", "out of memory"). An empty command is
 * an error.
 */
char **conf_words(const char *s, char *err, size_t errlen);
/* The file to read when none is named: $LS_CONFIG, else /etc/ls.conf. */
const char *conf_default_file(char *const *env);

#endif
