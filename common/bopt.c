/* bopt: backend settings from the config or -O KEY=VALUE. See bopt.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "age.h"
#include "bopt.h"
#include "dur.h"

static const struct bopt_key keys[] = {
	{ "*", "timeout", BK_DUR },
	{ "*", "ca-file", BK_STR },
	{ "*", "age-recipients", BK_STR },
	{ "*", "age-identities", BK_STR | BK_SECRET | BK_WHOLE },
	{ "s3", "access-key-id", BK_STR },
	{ "s3", "secret-access-key", BK_STR | BK_SECRET },
	{ "s3", "region", BK_STR },
	{ "s3", "endpoint", BK_STR },
	{ "s3", "force-path-style", BK_BOOL },
	{ "s3", "skip-verify", BK_BOOL },
	{ "s3", "storage-class", BK_STR },
	{ "s3", "sse", BK_STR },
	{ "s3", "sse-kms-key-id", BK_STR },
	{ "s3", "part-size", BK_SIZE },
	{ "s3", "concurrency", BK_COUNT },
	{ "abs", "account-name", BK_STR },
	{ "abs", "account-key", BK_STR | BK_SECRET },
	{ "abs", "sas-token", BK_STR | BK_SECRET },
	{ "abs", "endpoint", BK_STR },
	{ "abs", "skip-verify", BK_BOOL },
	{ "abs", "part-size", BK_SIZE },
	{ "abs", "concurrency", BK_COUNT },
	{ "gcs", "endpoint", BK_STR },
	{ "gcs", "skip-verify", BK_BOOL },
	{ "gcs", "part-size", BK_SIZE },
	{ "sftp", "host", BK_STR },
	{ "sftp", "user", BK_STR },
	{ "sftp", "password", BK_STR | BK_SECRET },
	{ "sftp", "key-path", BK_STR },
	{ "sftp", "key-passphrase", BK_STR | BK_SECRET },
	{ "sftp", "host-key", BK_STR },
	{ "sftp", "known-hosts", BK_STR },
	{ "sftp", "insecure-ignore-host-key", BK_BOOL },
};
#define NKEYS	(sizeof keys / sizeof keys[0])

static const struct bopt_key *
find(const char *type, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if ((type == NULL || strcmp(keys[i].type, "*") == 0 ||
		    strcmp(keys[i].type, type) == 0) &&
		    strlen(keys[i].key) == len &&
		    strncmp(keys[i].key, key, len) == 0)
			return &keys[i];
	return NULL;
}

const struct bopt_key *
bopt_find(const char *type, const char *key)
{
	const struct bopt_key *k;
	size_t n = strlen(key);

	if ((k = find(type, key, n)) != NULL)
		return k;
	if (n > 5 && strcmp(key + n - 5, "-file") == 0 &&
	    (k = find(type, key, n - 5)) != NULL && (k->kind & BK_SECRET))
		return k;
	return NULL;
}

int
bopt_known(const char *key)
{
	return bopt_find(NULL, key) != NULL;
}

static int
parse_bool(const char *v)
{
	if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0)
		return 1;
	if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
	    strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0)
		return 0;
	return -1;
}

/* "5242880", "5MiB", "5MB" (= MiB), "64k". -1 if bad. */
static int
parse_size(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n;
	uint64_t mul = 1;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		switch (tolower((unsigned char)*end)) {
		case 'k': mul = 1ULL << 10; break;
		case 'm': mul = 1ULL << 20; break;
		case 'g': mul = 1ULL << 30; break;
		default: return -1;
		}
		end++;
		if (strcasecmp(end, "ib") != 0 && strcasecmp(end, "b") != 0 &&
		    *end != '\0')
			return -1;
	}
	if (n > UINT64_MAX / mul)
		return -1;
	*out = n * mul;
	return 0;
}

int
bopt_check(const struct bopt_key *k, const char *val, char *err,
    size_t errlen)
{
	uint64_t u;
	int64_t ms;

	switch (k->kind & 0xff) {
	case BK_BOOL:
		if (parse_bool(val) < 0) {
			snprintf(err, errlen, "%s: '%s' is not true or false",
			    k->key, val);
			return -1;
		}
		break;
	case BK_SIZE:
		if (parse_size(val, &u) < 0) {
			snprintf(err, errlen, "%s: '%s' is not a size (like "
			    "5242880 or 8MiB)", k->key, val);
			return -1;
		}
		break;
	case BK_DUR:
		if (dur_parse(val, &ms) < 0 || ms == 0) {
			snprintf(err, errlen, "%s: '%s' is not a positive "
			    "duration (like 30s)", k->key, val);
			return -1;
		}
		break;
	case BK_COUNT:
		if (dur_parse_uint(val, 64, &u) < 0 || u == 0) {
			snprintf(err, errlen, "%s: '%s' is not a count from 1 "
			    "to 64", k->key, val);
			return -1;
		}
		break;
	}
	if (strcmp(k->key, "age-recipients") == 0 ||
	    strcmp(k->key, "age-identities") == 0) {
		struct age_keys ak;
		char why[160];
		int r;

		r = k->key[4] == 'r' ? age_parse_recipients(val, &ak, why,
		    sizeof why) : age_parse_identities(val, &ak, why,
		    sizeof why);
		age_keys_wipe(&ak);
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", k->key, why);
			return -1;
		}
	}
	if (strcmp(k->key, "sse") == 0 && strcmp(val, "AES256") != 0 &&
	    strcmp(val, "aws:kms") != 0) {
		snprintf(err, errlen, "sse: '%s' is neither AES256 nor aws:kms",
		    val);
		return -1;
	}
	return 0;
}

int
bopt_add(struct bopts *o, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	const struct bopt_key *k;
	char key[64];
	size_t n;

	if (eq == NULL || eq == kv || (n = (size_t)(eq - kv)) >= sizeof key) {
		snprintf(err, errlen, "%s: not KEY=VALUE", kv);
		return -1;
	}
	memcpy(key, kv, n);
	key[n] = '\0';
	if ((k = bopt_find(o->type, key)) == NULL) {
		snprintf(err, errlen, "%s: not a setting of %s replicas", key,
		    o->type);
		return -1;
	}
	if ((k->kind & BK_SECRET) && strcmp(k->key, key) == 0) {
		char env[80];

		bopt_env_name(key, env, sizeof env);
		snprintf(err, errlen, "%s: a secret is not taken from the "
		    "command line (use %s-file=PATH or %s)", key, key, env);
		return -1;
	}
	if (strcmp(k->key, key) == 0 && bopt_check(k, eq + 1, err, errlen) < 0)
		return -1;
	if (o->n == BOPT_MAX) {
		snprintf(err, errlen, "too many settings");
		return -1;
	}
	o->key[o->n] = kv;
	o->val[o->n++] = eq + 1;
	return 0;
}

const char *
bopt_get(const struct bopts *o, const char *key)
{
	size_t i, n = strlen(key);
	const char *v = NULL;

	/* The last one given wins. */
	for (i = 0; i < o->n; i++)
		if (strncmp(o->key[i], key, n) == 0 && o->key[i][n] == '=')
			v = o->val[i];
	return v;
}

int
bopt_bool(const struct bopts *o, const char *key, int def)
{
	const char *v = bopt_get(o, key);

	return v == NULL ? def : parse_bool(v) == 1;
}

uint64_t
bopt_size(const struct bopts *o, const char *key, uint64_t def)
{
	const char *v = bopt_get(o, key);
	uint64_t u;

	return v == NULL || parse_size(v, &u) < 0 ? def : u;
}

int64_t
bopt_dur(const struct bopts *o, const char *key, int64_t def)
{
	const char *v = bopt_get(o, key);
	int64_t ms;

	return v == NULL || dur_parse(v, &ms) < 0 ? def : ms;
}

void
bopt_env_name(const char *key, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "LS_%s", key);
	for (i = 3; buf[i] != '\0'; i++)
		buf[i] = buf[i] == '-' ? '_' : (char)toupper((unsigned char)buf[i]);
}

const char *
bopt_env(const struct bopts *o, const char *name)
{
	char *const *e;
	size_t n = strlen(name);

	for (e = o->env; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

char *
bopt_secret(const struct bopts *o, const char *key, char *err,
    size_t errlen)
{
	const struct bopt_key *k;
	char fkey[80], env[80], line[8192], *s;
	const char *path, *v;
	FILE *f;
	size_t n;

	err[0] = '\0';
	snprintf(fkey, sizeof fkey, "%s-file", key);
	if ((path = bopt_get(o, fkey)) != NULL) {
		if ((f = fopen(path, "r")) == NULL) {
			snprintf(err, errlen, "%s: %s: %s", fkey, path,
			    strerror(errno));
			return NULL;
		}
		k = bopt_find(o->type, key);
		if (k != NULL && (k->kind & BK_WHOLE)) {
			/* The whole file: an age identity file, say. */
			n = fread(line, 1, sizeof line - 1, f);
			if (n == sizeof line - 1 && fgetc(f) != EOF) {
				fclose(f);
				explicit_bzero(line, sizeof line);
				snprintf(err, errlen, "%s: %s is over %zu bytes",
				    fkey, path, sizeof line - 1);
				return NULL;
			}
			line[n] = '\0';
			n = strspn(line, " \t\r\n") == n ? 0 : n;
		} else {
			if (fgets(line, sizeof line, f) == NULL)
				line[0] = '\0';
			n = strcspn(line, "\r\n");
			line[n] = '\0';
		}
		fclose(f);
		if (n == 0) {
			snprintf(err, errlen, "%s: %s is empty", fkey, path);
			return NULL;
		}
		s = strdup(line);
		explicit_bzero(line, sizeof line);
		return s;
	}
	bopt_env_name(key, env, sizeof env);
	if ((v = bopt_env(o, env)) != NULL && *v != '\0')
		return strdup(v);
	return NULL;
}
