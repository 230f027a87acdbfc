/*
 * log: one line per event on stderr, prefixed with the program name.
 * PROG is set first thing in main().
 */
#ifndef LOG_H
#define LOG_H

extern const char *PROG;
extern int log_verbose;

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* "PROG: fatal: MSG", then exit(code). */
void log_fatal(int code, const char *fmt, ...) LOG_PRINTF(2, 3)
    __attribute__((noreturn));
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Printed only with -v. */
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
/* "PROG: usage: USAGE", then exit(100). */
void log_usage(const char *usage) __attribute__((noreturn));

#endif
