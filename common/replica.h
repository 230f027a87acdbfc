/* replica: from a replica's URL or path to an open backend. */
#ifndef REPLICA_H
#define REPLICA_H

#include <stddef.h>

#include "backend.h"

/*
 * Opens the replica at url: "file:///DIR", or a plain path (a directory
 * replica or a spool). create makes a missing directory. Returns NULL with
 * a one-line reason in err and *code set to 100 (bad URL, not a
 * directory, no access) or 111 (temporary).
 */
struct backend *replica_open(const char *url, int create, char *err,
    size_t errlen, int *code);

#endif
