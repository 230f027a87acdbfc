/*
 * ship: the one loop every ls-ship-* program runs. It copies spool objects
 * to a backend in order, records each confirmation in SPOOL/acks/REPLICA,
 * enforces the replica's retention, and sleeps on its input between
 * rounds: each line read is a wake-up; end of input means the writer is
 * gone, so it ships what is pending and returns.
 */
#ifndef SHIP_H
#define SHIP_H

#include <stdint.h>

#include "backend.h"
#include "spool.h"

struct ship_opts {
	const char	*replica;	/* ack file name */
	int		once;		/* ship what is pending, then return */
	int64_t		retention_ms;	/* 0: keep everything */
	int64_t		retention_check_ms;
	int64_t		sync_ms;	/* 0: ship at once; else at most one
					 * pass per interval, segments merged */
	int64_t		validation_ms;	/* 0: never; else validate.h */
	struct backend	*vbe;		/* a second backend for validation
					 * threads, or NULL to share */
	int		in_fd;		/* wake-up lines */
	int		ready_fd;	/* -1, or readiness notification fd */
};

/* Returns the exit status: 0, 100 or 111. */
int ship_main(struct spool *sp, struct backend *b, const struct ship_opts *o);

/* Applies retention to the replica once (see ls-ship-file(1)): keeps every
 * snapshot newer than now - retention, the newest one older than that,
 * whatever a restore from those needs, and every generation from
 * keep_gen on. Returns a BE_* code. */
int ship_retention(struct backend *b, int64_t retention_ms, int64_t now_ns,
    const char *keep_gen, int *removed);

#endif
