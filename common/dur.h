/* dur: durations on the command line and in config files. */
#ifndef DUR_H
#define DUR_H

#include <stdint.h>

/* Parses a duration such as "0", "500ms", "1s", "90m", "24h", "7d" or
 * "1h30m" into milliseconds. 0, or -1 if s is not a duration. */
int dur_parse(const char *s, int64_t *ms);
/* Parses a whole non-negative decimal number no greater than max.
 * 0, or -1. */
int dur_parse_uint(const char *s, uint64_t max, uint64_t *v);

#endif
