/*
 * xml: the few XML answers cloud stores give, read with expat. The
 * document is walked once; at the end of each element the callback gets
 * its path from the root ("ListBucketResult/Contents/Key", namespace
 * prefixes dropped) and the text directly inside it.
 */
#ifndef XML_H
#define XML_H

#include <stddef.h>

typedef void (*xml_cb)(void *ctx, const char *path, const char *text);

/* 0, or -1 if doc is not well-formed XML (or is too deep). */
int xml_walk(const char *doc, size_t len, xml_cb cb, void *ctx);

/* Escapes &, <, >, " and ' for element text; malloc'd or NULL. */
char *xml_escape(const char *s);

#endif
