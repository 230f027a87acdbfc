/*
 * shipcli: the command line every ls-ship-TYPE program shares:
 *   ls-ship-TYPE [-1v] [-d FD] [-n NAME] [-r RETENTION] [-R INTERVAL]
 *                [-O KEY=VALUE]... SPOOL REPLICA
 */
#ifndef SHIPCLI_H
#define SHIPCLI_H

#include "replica.h"

/* Parses argv, opens the spool and the replica (which must be of type,
 * opened with open; env is the environment its settings may read), runs
 * the ship loop. Returns the exit status. */
int ship_cli(int argc, char **argv, char *const *env, const char *type,
    replica_opener open);

#endif
