/* xml: walking small XML documents with expat. See xml.h. */
#include <stdlib.h>
#include <string.h>
#include <expat.h>

#include "xml.h"

#define PATH_CAP	512

struct walk {
	XML_Parser	p;
	xml_cb		cb;
	void		*ctx;
	char		path[PATH_CAP];
	size_t		plen;
	size_t		mark[32];	/* path length before each element */
	int		depth;
	char		*text;
	size_t		tlen, tcap;
	int		bad;
};

static void
on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct walk *w = arg;
	const char *colon = strchr(name, ':');
	size_t n;

	(void)attrs;
	if (colon != NULL)
		name = colon + 1;
	n = strlen(name);
	if (w->depth == 32 || w->plen + n + 2 > PATH_CAP) {
		w->bad = 1;
		XML_StopParser(w->p, XML_FALSE);
		return;
	}
	w->mark[w->depth++] = w->plen;
	if (w->plen > 0)
		w->path[w->plen++] = '/';
	memcpy(w->path + w->plen, name, n + 1);
	w->plen += n;
	w->tlen = 0;
}

static void
on_end(void *arg, const XML_Char *name)
{
	struct walk *w = arg;

	(void)name;
	if (w->text != NULL)
		w->text[w->tlen] = '\0';
	w->cb(w->ctx, w->path, w->text != NULL ? w->text : "");
	w->tlen = 0;
	w->plen = w->mark[--w->depth];
	w->path[w->plen] = '\0';
}

static void
on_text(void *arg, const XML_Char *s, int len)
{
	struct walk *w = arg;
	size_t need = w->tlen + (size_t)len + 1;
	char *t;

	if (need > w->tcap) {
		size_t cap = w->tcap ? w->tcap : 256;

		while (cap < need)
			cap *= 2;
		if ((t = realloc(w->text, cap)) == NULL) {
			w->bad = 1;
			XML_StopParser(w->p, XML_FALSE);
			return;
		}
		w->text = t;
		w->tcap = cap;
	}
	memcpy(w->text + w->tlen, s, (size_t)len);
	w->tlen += (size_t)len;
}

int
xml_walk(const char *doc, size_t len, xml_cb cb, void *ctx)
{
	struct walk w;
	int ok;

	memset(&w, 0, sizeof w);
	if ((w.p = XML_ParserCreate("UTF-8")) == NULL)
		return -1;
	w.cb = cb;
	w.ctx = ctx;
	XML_SetUserData(w.p, &w);
	XML_SetElementHandler(w.p, on_start, on_end);
	XML_SetCharacterDataHandler(w.p, on_text);
	ok = XML_Parse(w.p, doc, (int)len, XML_TRUE) == XML_STATUS_OK;
	XML_ParserFree(w.p);
	free(w.text);
	return ok && !w.bad ? 0 : -1;
}

char *
xml_escape(const char *s)
{
	size_t n = 0;
	const char *p;
	char *out, *o;

	for (p = s; *p != '\0'; p++)
		n += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 :
		    *p == '"' || *p == '\'' ? 6 : 1;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (o = out, p = s; *p != '\0'; p++) {
		const char *r = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" :
		    *p == '>' ? "&gt;" : *p == '"' ? "&quot;" :
		    *p == '\'' ? "&apos;" : NULL;

		if (r != NULL) {
			memcpy(o, r, strlen(r));
			o += strlen(r);
		} else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}
