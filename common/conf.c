/*
 * conf: reading ls-replicate's configuration (format in
 * ls-replicate.conf(5)) with inih. inih does not report line numbers or
 * empty sections, so lines reach it through a reader that counts them,
 * notes where each section starts, and strips leading blanks (an indented
 * key is a key, not the continuation of the value above).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ini.h>

#include "bopt.h"
#include "conf.h"
#include "dur.h"
#include "fsx.h"
#include "abs.h"
#include "gcs.h"
#include "sftp.h"
#include "replica.h"
#include "s3.h"
#include "spool.h"

#define LINE_MAX_INI	199	/* inih's line buffer, less the NUL */

struct parse {
	struct conf	*c;
	char *const	*env;
	FILE		*f;
	int		line;
	int		sect_line;	/* line of the section being read */
	int		kind;		/* 0 global, 1 db, 2 replica */
	int		failed;
	char		*err;
	size_t		errlen;
};

static void
fail(struct parse *p, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(p->err, p->errlen, "%s:%d: %s", p->c->file, line, msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->c->file, msg);
}

static void
rep_init(struct conf_replica *r)
{
	memset(r, 0, sizeof *r);
	r->retention_ms = r->retention_check_ms = CONF_UNSET;
	r->sync_ms = r->snapshot_ms = r->validation_ms = CONF_UNSET;
}

static void
db_init(struct conf_db *d)
{
	memset(d, 0, sizeof *d);
	d->monitor_ms = d->checkpoint_ms = d->snapshot_ms = CONF_UNSET;
	d->min_pages = d->max_pages = d->trunc_pages = CONF_UNSET;
}

/* The line reader inih calls: counts lines, starts sections. */
static char *
reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char buf[1024], *s, *e;
	size_t n;

	if (fgets(buf, sizeof buf, p->f) == NULL)
		return NULL;
	p->line++;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] != '\n' && !feof(p->f)) {
		fail(p, p->line, "line longer than %d characters", LINE_MAX_INI);
		while (fgets(buf, sizeof buf, p->f) != NULL &&
		    buf[strlen(buf) - 1] != '\n')
			;
		buf[0] = '\0';
	}
	for (s = buf; *s == ' ' || *s == '\t'; s++)
		;
	if (strlen(s) > (size_t)LINE_MAX_INI + 1 ||
	    (strlen(s) == (size_t)LINE_MAX_INI + 1 && s[LINE_MAX_INI] != '\n')) {
		fail(p, p->line, "line longer than %d characters", LINE_MAX_INI);
		*s = '\0';
	}
	if (*s == '[') {
		e = strchr(s, ']');
		if (e == NULL)
			fail(p, p->line, "section header without ']'");
		else {
			*e = '\0';
			p->sect_line = p->line;
			if (strcmp(s + 1, "db") == 0) {
				struct conf_db *v = realloc(p->c->db,
				    (p->c->ndb + 1) * sizeof *v);

				if (v == NULL) {
					fail(p, p->line, "out of memory");
				} else {
					p->c->db = v;
					db_init(&v[p->c->ndb]);
					v[p->c->ndb++].line = p->line;
					p->kind = 1;
				}
			} else if (strcmp(s + 1, "replica") == 0) {
				struct conf_db *d;
				struct conf_replica *v;

				if (p->c->ndb == 0) {
					fail(p, p->line, "[replica] before any [db]");
				} else {
					d = &p->c->db[p->c->ndb - 1];
					v = realloc(d->rep, (d->nrep + 1) * sizeof *v);
					if (v == NULL)
						fail(p, p->line, "out of memory");
					else {
						d->rep = v;
						rep_init(&v[d->nrep]);
						v[d->nrep++].line = p->line;
						p->kind = 2;
					}
				}
			} else if (strcmp(s + 1, "global") == 0)
				p->kind = 0;
			else
				fail(p, p->line, "unknown section [%s] (known: "
				    "[global], [db], [replica])", s + 1);
			*e = ']';
		}
	}
	snprintf(str, (size_t)num, "%s", s);
	return str;
}

/* Expands ${VAR} and $$ in v; a lone '$' stays. malloc'd, or NULL with
 * the failure recorded. */
static char *
expand(struct parse *p, const char *v)
{
	char *out, *o, name[128];
	const char *q, *end, *val;
	size_t cap = strlen(v) + 1, need, k, nl;
	char *const *e;

	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (o = out, q = v; *q != '\0'; ) {
		val = NULL;
		if (q[0] == '$' && q[1] == '$') {
			val = "$";
			end = q + 2;
		} else if (q[0] == '$' && q[1] == '{' &&
		    (end = strchr(q, '}')) != NULL) {
			nl = (size_t)(end - q - 2);
			if (nl == 0 || nl >= sizeof name) {
				fail(p, p->line, "bad variable reference");
				free(out);
				return NULL;
			}
			memcpy(name, q + 2, nl);
			name[nl] = '\0';
			for (e = p->env; e != NULL && *e != NULL; e++)
				if (strncmp(*e, name, nl) == 0 && (*e)[nl] == '=')
					val = *e + nl + 1;
			if (val == NULL) {
				fail(p, p->line, "${%s} is not set", name);
				free(out);
				return NULL;
			}
			end++;
		} else {
			*o++ = *q++;
			continue;
		}
		k = strlen(val);
		need = (size_t)(o - out) + k + strlen(end) + 1;
		if (need > cap) {
			size_t used = (size_t)(o - out);
			char *n2 = realloc(out, need);

			if (n2 == NULL) {
				free(out);
				return NULL;
			}
			out = n2;
			o = out + used;
			cap = need;
		}
		memcpy(o, val, k);
		o += k;
		q = end;
	}
	*o = '\0';
	return out;
}

static int
set_dur(struct parse *p, const char *key, const char *v, int64_t *dst,
    int positive)
{
	int64_t ms;

	if (dur_parse(v, &ms) < 0 || (positive && ms == 0)) {
		fail(p, p->line, "%s: '%s' is not a %sduration (like 1s, 10m, "
		    "24h)", key, v, positive ? "positive " : "");
		return 0;
	}
	*dst = ms;
	return 1;
}

static int
set_count(struct parse *p, const char *key, const char *v, int64_t *dst)
{
	uint64_t n;

	if (dur_parse_uint(v, UINT32_MAX, &n) < 0) {
		fail(p, p->line, "%s: '%s' is not a page count", key, v);
		return 0;
	}
	*dst = (int64_t)n;
	return 1;
}

static int
set_str(struct parse *p, char **dst, const char *v)
{
	char *x = strdup(v);

	if (x == NULL) {
		fail(p, p->line, "out of memory");
		return 0;
	}
	free(*dst);
	*dst = x;
	return 1;
}

/* A backend setting, checked for its kind now and for the replica's
 * type once that is known. */
static void
add_kv(struct parse *p, struct conf_replica *r, const char *name,
    const char *v)
{
	const struct bopt_key *k = bopt_find(NULL, name);
	struct conf_kv *kv;
	char why[256];
	size_t i;

	if (strcmp(k->key, name) == 0 && bopt_check(k, v, why, sizeof why) < 0) {
		fail(p, p->line, "%s", why);
		return;
	}
	for (i = 0; i < r->nkv; i++)
		if (strcmp(r->kv[i].key, name) == 0) {
			fail(p, p->line, "%s is already set at line %d", name,
			    r->kv[i].line);
			return;
		}
	if ((kv = realloc(r->kv, (r->nkv + 1) * sizeof *kv)) == NULL) {
		fail(p, p->line, "out of memory");
		return;
	}
	r->kv = kv;
	kv += r->nkv;
	kv->line = p->line;
	kv->key = strdup(name);
	kv->val = strdup(v);
	r->nkv++;
	if (kv->key == NULL || kv->val == NULL)
		fail(p, p->line, "out of memory");
}

static void
set_exec(struct parse *p, const char *v)
{
	char why[64], **w;

	if ((w = conf_words(v, why, sizeof why)) == NULL) {
		fail(p, p->line, "exec: %s", why);
		return;
	}
	free(p->c->exec);
	p->c->exec = w;
}

/* Keys a replica or the global section share. 1 if name was one. */
static int
rep_key(struct parse *p, struct conf_replica *r, const char *name,
    const char *v)
{
	if (strcmp(name, "retention") == 0)
		set_dur(p, name, v, &r->retention_ms, 0);
	else if (strcmp(name, "retention-check-interval") == 0)
		set_dur(p, name, v, &r->retention_check_ms, 1);
	else if (strcmp(name, "sync-interval") == 0)
		set_dur(p, name, v, &r->sync_ms, 0);
	else if (strcmp(name, "snapshot-interval") == 0)
		set_dur(p, name, v, &r->snapshot_ms, 0);
	else if (strcmp(name, "validation-interval") == 0)
		set_dur(p, name, v, &r->validation_ms, 0);
	else if (bopt_known(name))
		add_kv(p, r, name, v);
	else
		return 0;
	return 1;
}

static int
handler(void *user, const char *section, const char *name, const char *raw)
{
	struct parse *p = user;
	struct conf_db *d;
	struct conf_replica *r;
	char *v;

	(void)section;
	if (p->failed)
		return 1;
	if ((v = expand(p, raw)) == NULL) {
		if (!p->failed)
			fail(p, p->line, "out of memory");
		return 1;
	}
	if (p->kind == 0) {
		if (strcmp(name, "shutdown-timeout") == 0)
			set_dur(p, name, v, &p->c->shutdown_ms, 1);
		else if (strcmp(name, "addr") == 0) {
			const char *colon = strrchr(v, ':');

			if (colon == NULL || colon[1] == '\0')
				fail(p, p->line, "addr: '%s' is not HOST:PORT", v);
			else
				set_str(p, &p->c->addr, v);
		} else if (strcmp(name, "metrics-file") == 0)
			set_str(p, &p->c->metrics_file, v);
		else if (strcmp(name, "exec") == 0)
			set_exec(p, v);
		/* Litestream's logging: {level, type, stderr}, flat. */
		else if (strcmp(name, "log-level") == 0) {
			if (strcmp(v, "debug") == 0 || strcmp(v, "info") == 0)
				p->c->verbose = 1;
			else if (strcmp(v, "warn") == 0 ||
			    strcmp(v, "warning") == 0 || strcmp(v, "error") == 0)
				p->c->verbose = 0;
			else
				fail(p, p->line, "log-level: '%s' is not debug, "
				    "info, warn or error", v);
		} else if (strcmp(name, "log-type") == 0) {
			if (strcmp(v, "text") != 0)
				fail(p, p->line, "log-type: '%s': only text "
				    "(one line a message on stderr)", v);
		} else if (strcmp(name, "log-stderr") == 0) {
			if (strcmp(v, "true") != 0)
				fail(p, p->line, "log-stderr: '%s': logs always "
				    "go to stderr", v);
		}
		else if (!rep_key(p, &p->c->defaults, name, v))
			fail(p, p->line, "unknown key '%s' in [global]", name);
	} else if (p->kind == 1) {
		d = &p->c->db[p->c->ndb - 1];
		if (strcmp(name, "path") == 0)
			set_str(p, &d->path, v);
		else if (strcmp(name, "spool") == 0 ||
		    strcmp(name, "meta-path") == 0)
			set_str(p, &d->spool, v);
		else if (strcmp(name, "monitor-interval") == 0)
			set_dur(p, name, v, &d->monitor_ms, 0);
		else if (strcmp(name, "checkpoint-interval") == 0)
			set_dur(p, name, v, &d->checkpoint_ms, 0);
		else if (strcmp(name, "snapshot-interval") == 0)
			set_dur(p, name, v, &d->snapshot_ms, 0);
		else if (strcmp(name, "min-checkpoint-page-count") == 0)
			set_count(p, name, v, &d->min_pages);
		else if (strcmp(name, "max-checkpoint-page-count") == 0)
			set_count(p, name, v, &d->max_pages);
		else if (strcmp(name, "truncate-page-count") == 0)
			set_count(p, name, v, &d->trunc_pages);
		else
			fail(p, p->line, "unknown key '%s' in [db]", name);
	} else {
		d = &p->c->db[p->c->ndb - 1];
		r = &d->rep[d->nrep - 1];
		if (strcmp(name, "name") == 0) {
			if (!spool_replica_name_ok(v))
				fail(p, p->line, "name: '%s': a replica name is "
				    "1 to 64 of [A-Za-z0-9._-], not starting "
				    "with '.'", v);
			else
				set_str(p, &r->name, v);
		} else if (strcmp(name, "type") == 0)
			set_str(p, &r->type, v);
		else if (strcmp(name, "url") == 0) {
			if (strstr(v, "://") == NULL)
				fail(p, p->line, "url: '%s' is not a URL (use "
				    "path for a directory)", v);
			else
				set_str(p, &r->url, v);
		} else if (strcmp(name, "path") == 0) {
			if (strstr(v, "://") != NULL)
				fail(p, p->line, "path: '%s' is a URL (use url)",
				    v);
			else
				set_str(p, &r->path, v);
		} else if (strcmp(name, "bucket") == 0)
			set_str(p, &r->bucket, v);
		else if (!rep_key(p, r, name, v))
			fail(p, p->line, "unknown key '%s' in [replica]", name);
	}
	free(v);
	return 1;
}

static void
inherit(struct conf_replica *r, const struct conf_replica *g)
{
	if (r->retention_ms == CONF_UNSET)
		r->retention_ms = g->retention_ms;
	if (r->retention_check_ms == CONF_UNSET)
		r->retention_check_ms = g->retention_check_ms;
	if (r->sync_ms == CONF_UNSET)
		r->sync_ms = g->sync_ms;
	if (r->snapshot_ms == CONF_UNSET)
		r->snapshot_ms = g->snapshot_ms;
	if (r->validation_ms == CONF_UNSET)
		r->validation_ms = g->validation_ms;
}

/* Checks r's settings against its type, then adds the global ones its
 * type takes and it does not set. */
static void
finish_kv(struct parse *p, struct conf_replica *r, const struct conf_replica *g)
{
	const struct bopt_key *k;
	char other[80];
	size_t i, j, n;

	for (i = 0; i < r->nkv && !p->failed; i++) {
		if (bopt_find(r->type, r->kv[i].key) == NULL)
			fail(p, r->kv[i].line, "%s is not a setting of %s "
			    "replicas", r->kv[i].key, r->type);
		/* KEY and KEY-file name one secret. */
		n = strlen(r->kv[i].key);
		if (n > 5 && strcmp(r->kv[i].key + n - 5, "-file") == 0)
			snprintf(other, sizeof other, "%.*s", (int)(n - 5),
			    r->kv[i].key);
		else
			snprintf(other, sizeof other, "%s-file", r->kv[i].key);
		for (j = 0; j < r->nkv && !p->failed; j++)
			if (j != i && strcmp(r->kv[j].key, other) == 0)
				fail(p, r->kv[i].line, "%s and %s both given",
				    r->kv[i].key, other);
	}
	for (i = 0; i < g->nkv && !p->failed; i++) {
		if ((k = bopt_find(r->type, g->kv[i].key)) == NULL)
			continue;
		for (j = 0; j < r->nkv; j++)
			if (strcmp(r->kv[j].key, g->kv[i].key) == 0 ||
			    bopt_find(r->type, r->kv[j].key) == k)
				break;
		if (j < r->nkv)
			continue;
		{
			struct parse q = *p;

			q.line = g->kv[i].line;
			add_kv(&q, r, g->kv[i].key, g->kv[i].val);
			if (q.failed)
				p->failed = 1;
		}
	}
}

/* What the shipper would refuse at its start, said now with a line. */
static void
check_backend(struct parse *p, struct conf_replica *r)
{
	struct bopts o = { .type = r->type, .env = p->env };
	char *kv[BOPT_MAX], why[512];
	size_t i;
	int rcpt = 0, ids = 0;

	for (i = 0; i < r->nkv; i++) {
		rcpt |= strcmp(r->kv[i].key, "age-recipients") == 0;
		ids |= strncmp(r->kv[i].key, "age-identities", 14) == 0;
	}
	/* The shipper would refuse to start; say so here, with the line. */
	if (rcpt && !ids && r->validation_ms > 0) {
		fail(p, r->line, "validation-interval: validating a replica "
		    "encrypted with age needs its age-identities");
		return;
	}
	if (strcmp(r->type, "file") == 0)
		return;
	for (i = 0; i < r->nkv && i < BOPT_MAX; i++)
		if (asprintf(&kv[i], "%s=%s", r->kv[i].key, r->kv[i].val) < 0)
			kv[i] = NULL;
	for (i = 0; i < r->nkv && i < BOPT_MAX; i++)
		if (kv[i] != NULL) {
			o.key[o.n] = kv[i];
			o.val[o.n++] = strchr(kv[i], '=') + 1;
		}
	if (strcmp(r->type, "s3") == 0 ?
	    s3_check(r->url, &o, why, sizeof why) < 0 :
	    strcmp(r->type, "abs") == 0 ?
	    abs_check(r->url, &o, why, sizeof why) < 0 :
	    strcmp(r->type, "gcs") == 0 ?
	    gcs_check(r->url, &o, why, sizeof why) < 0 :
	    sftp_check(r->url, &o, why, sizeof why) < 0)
		fail(p, r->line, "%s", why);
	for (i = 0; i < r->nkv && i < BOPT_MAX; i++) {
		if (kv[i] != NULL)
			explicit_bzero(kv[i], strlen(kv[i]));
		free(kv[i]);
	}
}

void
conf_replica_child(const struct conf_replica *r,
    void (*arg)(void *, const char *), void (*env)(void *, const char *),
    void *ctx)
{
	const struct bopt_key *k;
	char *s, name[80];
	size_t i;

	for (i = 0; i < r->nkv; i++) {
		k = bopt_find(r->type, r->kv[i].key);
		if (k != NULL && (k->kind & BK_SECRET) &&
		    strcmp(k->key, r->kv[i].key) == 0) {
			bopt_env_name(k->key, name, sizeof name);
			if (asprintf(&s, "%s=%s", name, r->kv[i].val) < 0)
				continue;
			env(ctx, s);
		} else {
			if (asprintf(&s, "%s=%s", r->kv[i].key,
			    r->kv[i].val) < 0)
				continue;
			arg(ctx, "-O");
			arg(ctx, s);
		}
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Checks and completes what was read: types, names, defaults. */
static void
finish(struct parse *p)
{
	size_t i, j, k;

	for (i = 0; i < p->c->ndb && !p->failed; i++) {
		struct conf_db *d = &p->c->db[i];

		if (d->path == NULL || *d->path == '\0') {
			fail(p, d->line, "[db] has no path");
			break;
		}
		for (k = 0; k < i; k++)
			if (strcmp(p->c->db[k].path, d->path) == 0)
				fail(p, d->line, "database %s is already "
				    "configured at line %d", d->path,
				    p->c->db[k].line);
		if (d->nrep == 0)
			fail(p, d->line, "[db] %s has no [replica]", d->path);
		if (d->spool == NULL) {
			/* DIR/.BASE-ls, beside the database. */
			char buf[PATH_MAX];
			const char *slash = strrchr(d->path, '/');

			if (slash == NULL)
				snprintf(buf, sizeof buf, ".%s-ls", d->path);
			else
				snprintf(buf, sizeof buf, "%.*s/.%s-ls",
				    (int)(slash - d->path), d->path, slash + 1);
			set_str(p, &d->spool, buf);
		}
		for (j = 0; j < d->nrep && !p->failed; j++) {
			struct conf_replica *r = &d->rep[j];
			const char *scheme = "file";

			inherit(r, &p->c->defaults);
			if (r->url != NULL && (r->path != NULL ||
			    r->bucket != NULL)) {
				fail(p, r->line, "url and %s both given (the URL "
				    "holds both)", r->bucket ? "bucket" : "path");
				break;
			}
			if (r->url == NULL && r->bucket != NULL) {
				char *u;

				/* For abs, the bucket is the container. */
				if (r->type == NULL || (strcmp(r->type, "s3") != 0 &&
				    strcmp(r->type, "abs") != 0 &&
				    strcmp(r->type, "gcs") != 0)) {
					fail(p, r->line, "bucket needs type = s3, "
					    "abs or gcs");
					break;
				}
				if (asprintf(&u, "%s://%s/%s", r->type, r->bucket,
				    r->path ? r->path : "") < 0) {
					fail(p, r->line, "out of memory");
					break;
				}
				r->url = u;
			} else if (r->url == NULL && r->type != NULL &&
			    strcmp(r->type, "sftp") == 0) {
				char *u;

				/* host and user are settings; the path is
				 * absolute, or in the login directory. */
				if (asprintf(&u, "sftp:///%s%s", r->path != NULL &&
				    r->path[0] != '/' ? "~/" : "", r->path != NULL ?
				    r->path + (r->path[0] == '/') : "~") < 0) {
					fail(p, r->line, "out of memory");
					break;
				}
				r->url = u;
			} else if (r->url == NULL && r->path != NULL) {
				if (r->type != NULL && (strcmp(r->type, "s3") == 0 ||
				    strcmp(r->type, "abs") == 0 ||
				    strcmp(r->type, "gcs") == 0)) {
					fail(p, r->line, "type %s needs url, or "
					    "bucket and path", r->type);
					break;
				}
				if (r->type != NULL && strcmp(r->type, "file") != 0) {
					fail(p, r->line, "replica type %s is not "
					    "supported by this build (no "
					    "ls-ship-%s)", r->type, r->type);
					break;
				}
				set_str(p, &r->url, r->path);
			}
			if (r->url == NULL) {
				fail(p, r->line, "[replica] has neither url "
				    "nor path");
				break;
			}
			if (strstr(r->url, "://") != NULL &&
			    strncmp(r->url, "file://", 7) != 0) {
				static char sch[16];

				snprintf(sch, sizeof sch, "%.*s",
				    (int)(strstr(r->url, "://") - r->url),
				    r->url);
				/* gs:// is gcs */
				scheme = replica_type(r->url) != NULL ?
				    replica_type(r->url) : sch;
			}
			if (r->type != NULL && strcmp(r->type, scheme) != 0 &&
			    strstr(r->url, "://") != NULL)
				fail(p, r->line, "type %s does not match the URL "
				    "%s", r->type, r->url);
			if (r->type == NULL)
				set_str(p, &r->type, scheme);
			if (strcmp(r->type, "file") != 0 &&
			    strcmp(r->type, "s3") != 0 &&
			    strcmp(r->type, "abs") != 0 &&
			    strcmp(r->type, "gcs") != 0 &&
			    strcmp(r->type, "sftp") != 0)
				fail(p, r->line, "replica type %s is not "
				    "supported by this build (no ls-ship-%s)",
				    r->type, r->type);
			if (!p->failed)
				finish_kv(p, r, &p->c->defaults);
			if (!p->failed)
				check_backend(p, r);
			if (r->name == NULL)
				set_str(p, &r->name, r->type);
			for (k = 0; k < j && !p->failed; k++)
				if (strcmp(d->rep[k].name, r->name) == 0)
					fail(p, r->line, "a replica named '%s' "
					    "is already defined at line %d "
					    "(give each a name)", r->name,
					    d->rep[k].line);
		}
	}
}

static void
defaults(struct conf *c)
{
	memset(c, 0, sizeof *c);
	c->shutdown_ms = 30000;
	rep_init(&c->defaults);
}

int
conf_load(const char *file, char *const *env, struct conf *c, char *err,
    size_t errlen)
{
	struct parse p;
	int rc;

	defaults(c);
	memset(&p, 0, sizeof p);
	p.c = c;
	p.env = env;
	p.err = err;
	p.errlen = errlen;
	if ((c->file = strdup(file)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", file);
		return -1;
	}
	if ((p.f = fopen(file, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	rc = ini_parse_stream(reader, &p, handler, &p);
	fclose(p.f);
	if (rc > 0 && !p.failed)
		fail(&p, rc, "not a key = value line");
	else if (rc < 0 && !p.failed)
		fail(&p, 0, "unable to read: %s", strerror(errno));
	if (!p.failed && c->ndb == 0)
		fail(&p, 0, "no [db] section");
	if (!p.failed)
		finish(&p);
	return p.failed ? -1 : 0;
}

int
conf_args(const char *db, char *const *urls, size_t n, struct conf *c,
    char *err, size_t errlen)
{
	struct parse p;
	size_t i;

	defaults(c);
	memset(&p, 0, sizeof p);
	p.c = c;
	p.err = err;
	p.errlen = errlen;
	c->file = strdup("command line");
	if ((c->db = calloc(1, sizeof *c->db)) == NULL ||
	    (c->db->rep = calloc(n, sizeof *c->db->rep)) == NULL ||
	    c->file == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->ndb = 1;
	{
		struct conf_replica *rep = c->db->rep;

		db_init(c->db);
		c->db->rep = rep;
	}
	c->db->path = strdup(db);
	c->db->nrep = n;
	for (i = 0; i < n; i++) {
		rep_init(&c->db->rep[i]);
		c->db->rep[i].url = strdup(urls[i]);
		if (n > 1) {
			char nm[32];

			const char *t = replica_type(urls[i]);

			if (t == NULL)
				t = "file";
			/* "file1", but "s3-1": a digit never runs into
			 * the number. */
			snprintf(nm, sizeof nm, "%s%s%zu", t,
			    t[strlen(t) - 1] >= '0' && t[strlen(t) - 1] <= '9' ?
			    "-" : "", i + 1);
			c->db->rep[i].name = strdup(nm);
		}
	}
	finish(&p);
	return p.failed ? -1 : 0;
}

static void
kv_free(struct conf_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		if (kv[i].val != NULL)
			explicit_bzero(kv[i].val, strlen(kv[i].val));
		free(kv[i].val);
	}
	free(kv);
}

void
conf_free(struct conf *c)
{
	size_t i, j;

	for (i = 0; i < c->ndb; i++) {
		for (j = 0; j < c->db[i].nrep; j++) {
			free(c->db[i].rep[j].name);
			free(c->db[i].rep[j].type);
			free(c->db[i].rep[j].url);
			free(c->db[i].rep[j].path);
			free(c->db[i].rep[j].bucket);
			kv_free(c->db[i].rep[j].kv, c->db[i].rep[j].nkv);
		}
		free(c->db[i].rep);
		free(c->db[i].path);
		free(c->db[i].spool);
	}
	free(c->db);
	kv_free(c->defaults.kv, c->defaults.nkv);
	free(c->file);
	free(c->addr);
	free(c->metrics_file);
	free(c->exec);
	memset(c, 0, sizeof *c);
}

char **
conf_words(const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s), n = 0;
	char **argv, *o, quote = 0;
	int inword = 0;

	/*
	 * A word comes from at least one character of s, is no longer than
	 * what it comes from, and all but the last end at a blank: at most
	 * len / 2 + 1 words, whose bytes and NULs fit in len + 1.
	 */
	argv = malloc((len / 2 + 2) * sizeof *argv + len + 1);
	if (argv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o = (char *)(argv + len / 2 + 2);
	for (; *s != '\0'; s++) {
		if (quote == '\'') {
			if (*s == '\'')
				quote = 0;
			else
				*o++ = *s;
		} else if (quote == '"') {
			if (*s == '"')
				quote = 0;
			else if (*s == '\\' && s[1] != '\0' &&
			    strchr("\"\\$`", s[1]) != NULL)
				*o++ = *++s;
			else
				*o++ = *s;
		} else if (*s == ' ' || *s == '\t') {
			if (inword)
				*o++ = '\0';
			inword = 0;
		} else {
			if (!inword)
				argv[n++] = o;
			inword = 1;
			if (*s == '\'' || *s == '"')
				quote = *s;
			else if (*s == '\\') {
				if (s[1] == '\0') {
					snprintf(err, errlen, "trailing backslash");
					free(argv);
					return NULL;
				}
				*o++ = *++s;
			} else
				*o++ = *s;
		}
	}
	if (quote != 0) {
		snprintf(err, errlen, "unterminated %s quote", quote == '"' ?
		    "double" : "single");
		free(argv);
		return NULL;
	}
	if (inword)
		*o = '\0';
	argv[n] = NULL;
	if (n == 0 || argv[0][0] == '\0') {
		snprintf(err, errlen, "empty command");
		free(argv);
		return NULL;
	}
	return argv;
}

const char *
conf_default_file(char *const *env)
{
	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, "LS_CONFIG=", 10) == 0 && (*env)[10] != '\0')
			return *env + 10;
	return "/etc/ls.conf";
}
