/* dur: duration and number parsing. Every number is parsed whole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dur.h"

int
dur_parse(const char *s, int64_t *ms)
{
	int64_t total = 0, mul;
	unsigned long long v;
	char *end;

	if (*s == '\0')
		return -1;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno != 0 || end == s)
			return -1;
		s = end;
		if (strncmp(s, "ms", 2) == 0) {
			mul = 1;
			s += 2;
		} else if (*s == 's') {
			mul = 1000;
			s++;
		} else if (*s == 'm') {
			mul = 60 * 1000;
			s++;
		} else if (*s == 'h') {
			mul = 3600 * 1000;
			s++;
		} else if (*s == 'd') {
			mul = 86400 * 1000;
			s++;
		} else
			return -1;
		if (v > (unsigned long long)(INT64_MAX / mul) ||
		    total > INT64_MAX - (int64_t)v * mul)
			return -1;
		total += (int64_t)v * mul;
	}
	*ms = total;
	return 0;
}

int
dur_parse_uint(const char *s, uint64_t max, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || x > max)
		return -1;
	*v = x;
	return 0;
}
