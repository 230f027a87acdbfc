/*
 * validate: checks that a replica restores to the same database as the
 * spool, at the position the replica's ack confirms. Litestream's
 * validation-interval compares a restore with the primary; here the
 * spool stands for the primary (ls-watch keeps in it the newest snapshot
 * and every segment since), and the shipper never opens the database.
 *
 * Both are restored from the objects of the ack's generation up to the
 * ack (snapshot index, last WAL segment), into temp files in SPOOL/tmp,
 * and compared byte for byte.
 */
#ifndef VALIDATE_H
#define VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "spool.h"

enum {
	VALIDATE_OK = 0,
	VALIDATE_SKIP,		/* nothing to compare (why in err) */
	VALIDATE_MISMATCH,	/* the replica is wrong (why in err) */
	VALIDATE_FAILED		/* could not be done now (why in err) */
};

struct validate_stats {
	uint64_t	gets, get_bytes, get_errors, lists, list_errors;
};

/*
 * be[0] and be[1] reach the replica (the same backend if it serves two
 * threads). Returns a VALIDATE_* code; vs counts the requests made.
 */
int validate_replica(struct spool *sp, struct backend *const be[2],
    const char *replica, struct validate_stats *vs, char *err, size_t errlen);

#endif
