/* ready: the s6 readiness convention, -d FD: one newline, then close. */
#ifndef READY_H
#define READY_H

/* The descriptor named by s if it is a number >= 3 and open, else -1. */
int ready_parse(const char *s);
/* Writes the newline to *fd and closes it (a warning if the write
 * fails); *fd becomes -1. Nothing if *fd is already -1. */
void ready_notify(int *fd);

#endif
