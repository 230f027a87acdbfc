/* log: stderr messages in the form "PROG: level: message". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

const char *PROG = "ls";
int log_verbose;

static void
vsay(const char *level, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof buf, fmt, ap);
	fprintf(stderr, "%s: %s: %s\n", PROG, level, buf);
}

void
log_fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("fatal", fmt, ap);
	va_end(ap);
	exit(code);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("warning", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vsay("info", fmt, ap);
	va_end(ap);
}

void
log_usage(const char *usage)
{
	fprintf(stderr, "%s: usage: %s\n", PROG, usage);
	exit(100);
}
