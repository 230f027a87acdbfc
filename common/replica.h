/* replica: from a replica's URL or path to an open backend. */
#ifndef REPLICA_H
#define REPLICA_H

#include <stddef.h>

#include "age.h"
#include "backend.h"
#include "bopt.h"

/* A replica's age keys: settings age-recipients and age-identities (a
 * secret: age-identities-file=PATH or LS_AGE_IDENTITIES), each the text
 * of an age recipients or identities file. */
struct replica_age {
	struct age_keys	rcpt, ids;
};

/* The backend type of url ("file", "s3"), or NULL if none fits. */
const char *replica_type(const char *url);

/*
 * Opens the replica at url: "file:///DIR" or a plain path (a directory
 * replica or a spool), or "s3://...", with the backend's settings o (NULL
 * for none). create makes a missing directory. Returns NULL with a
 * one-line reason in err and *code set to 100 (bad URL or setting, not a
 * directory, no access) or 111 (temporary).
 */
struct backend *replica_open(const char *url, const struct bopts *o,
    int create, char *err, size_t errlen, int *code);

/* Opens a replica of one type: the backend's own opener, with the age
 * keys of o attached as replica_open does. */
typedef struct backend *(*replica_opener)(const char *url,
    const struct bopts *o, int create, char *err, size_t errlen, int *code);
struct backend *replica_open_with(replica_opener fn, const char *url,
    const struct bopts *o, int create, char *err, size_t errlen, int *code);
/* The opener of directory replicas: "file:///DIR" or a plain path. */
struct backend *replica_open_file(const char *url, const struct bopts *o,
    int create, char *err, size_t errlen, int *code);
/* Closes b, wiping its keys. */
void replica_close(struct backend *b);
/* Parses the age settings of o: 0 with *out NULL (none) or malloc'd, or
 * -1 with why in err (the key by position, never its text). */
int replica_age(const struct bopts *o, struct replica_age **out, char *err,
    size_t errlen);

/*
 * Lists every object under prefix ("generations/" for the whole replica)
 * into a malloc'd array. Returns a BE_* code; on failure b->err says why.
 */
int replica_list(struct backend *b, const char *prefix,
    struct backend_obj **objs, size_t *n);

#endif
