/*
 * awscred: the AWS credential chain (see awscred.h). The environment is
 * read once, in awscred_new; files (the shared credentials file, token
 * files) are read again at each fetch, since they may be rotated. The
 * chain is walked from the top at each fetch, under the chain's mutex.
 *
 * Answers from the network sources:
 *
 *   STS AssumeRoleWithWebIdentity (POST, form-encoded, unsigned), XML:
 *     <AssumeRoleWithWebIdentityResponse
 *         xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
 *       <AssumeRoleWithWebIdentityResult>
 *         <Credentials>
 *           <AccessKeyId/> <SecretAccessKey/> <SessionToken/>
 *           <Expiration>2006-01-02T15:04:05Z</Expiration>
 *         </Credentials> ...
 *     and on failure, with a 4xx or 5xx status:
 *     <ErrorResponse><Error><Type/><Code>AccessDenied</Code><Message/>
 *     </Error></ErrorResponse>
 *   Elements are matched by local name whatever their namespace.
 *
 *   ECS container endpoint (GET, optional Authorization header) and EC2
 *   instance metadata (GET .../iam/security-credentials/ROLE), JSON:
 *     {"AccessKeyId": "...", "SecretAccessKey": "...", "Token": "...",
 *      "Expiration": "2006-01-02T15:04:05Z"}
 *   EC2 adds "Code", which must be "Success" when present.
 *
 *   IMDSv2: PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds
 *   answers a token sent back as X-aws-ec2-metadata-token on each GET;
 *   GET /latest/meta-data/iam/security-credentials/ lists role names, one
 *   a line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <expat.h>
#include <jansson.h>

#include "awscred.h"
#include "cred.h"
#include "http.h"

#define TRIES		3	/* attempts of a network request */
#define TOKEN_FILE_MAX	(64 * 1024)
#define ANSWER_MAX	(64 * 1024)
#define RETRY_AFTER_S	10	/* wait after a failed refresh */

#define ECS_HOST	"http://169.254.170.2"
#define IMDS_HOST	"http://169.254.169.254"
#define IMDS_HOST6	"http://[fd00:ec2::254]"
#define IMDS_TTL	"21600"

/* What a source did: yielded, did not apply, or failed (100 or 111). */
#define SKIP		1

enum {
	E_LS_AK, E_LS_SK, E_AK, E_SK, E_ST, E_CRED_FILE, E_PROFILE, E_HOME,
	E_ROLE_ARN, E_WI_FILE, E_SESSION, E_EP_STS, E_EP, E_REGION,
	E_DEF_REGION, E_ECS_REL, E_ECS_FULL, E_ECS_TOKEN, E_ECS_TOKEN_FILE,
	E_IMDS_OFF, E_IMDS_EP, E_IMDS_MODE, E_N
};

static const char *const env_names[E_N] = {
	"LITESTREAM_ACCESS_KEY_ID", "LITESTREAM_SECRET_ACCESS_KEY",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "HOME",
	"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME",
	"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", "AWS_REGION",
	"AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
};

struct awscred_chain {
	pthread_mutex_t	mu;
	struct http	*h;		/* the caller's: STS */
	struct http	*hown;		/* ours, when h was NULL */
	struct http	*hshort;	/* ours, short timeouts: ECS, EC2 */
	char		*key, *secret;	/* the caller's static keys */
	char		*region;
	char		*env[E_N];	/* NULL when unset or empty */
	char		*cred_file;	/* resolved path, or NULL */
	char		*profile;
	int		profile_set;	/* AWS_PROFILE chose it */
	char		session[72];	/* default role session name */
	struct awscred	cur;
	int		have;
	time_t		refresh_at;	/* for temporary credentials */
};

/* Copies a credential field, or returns -1 when it does not fit. */
static int
put(char *dst, size_t n, const char *src)
{
	size_t k = strlen(src);

	if (k >= n)
		return -1;
	memcpy(dst, src, k + 1);
	return 0;
}

/* Fills out from three strings (tok may be NULL); 100 when one is too
 * long for struct awscred. */
static int
fill(struct awscred *out, const char *key, const char *secret,
    const char *tok, const char *what, char *err, size_t errlen)
{
	if (put(out->access_key, sizeof out->access_key, key) < 0)
		return cred_fail(100, err, errlen, "%s: access key id too long",
		    what);
	if (put(out->secret_key, sizeof out->secret_key, secret) < 0)
		return cred_fail(100, err, errlen,
		    "%s: secret access key too long", what);
	if (put(out->token, sizeof out->token, tok ? tok : "") < 0)
		return cred_fail(100, err, errlen, "%s: session token too long",
		    what);
	return 0;
}

/* 1 if s is a non-empty run of printable ASCII without blanks: safe in a
 * header value or a URL. */
static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return 0;
	return 1;
}

/*
 * Parses an ISO 8601 UTC time as AWS writes it: YYYY-MM-DDTHH:MM:SS, an
 * optional fraction, then Z or +HH:MM / -HH:MM. Returns 0 or -1.
 */
static int
iso8601(const char *s, time_t *t)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	int v[6] = { 0 }, i, f = 0, off = 0, sign;
	struct tm tm;
	time_t r;

	for (i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == 'd') {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			v[f] = v[f] * 10 + (s[i] - '0');
		} else if (s[i] != pat[i] && !(pat[i] == 'T' && s[i] == 't'))
			return -1;
		else
			f++;
	}
	s += i;
	if (*s == '.' || *s == ',') {
		if (s[1] < '0' || s[1] > '9')
			return -1;
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		if (!isdigit((unsigned char)s[1]) ||
		    !isdigit((unsigned char)s[2]) || s[3] != ':' ||
		    !isdigit((unsigned char)s[4]) ||
		    !isdigit((unsigned char)s[5]))
			return -1;
		off = sign * (((s[1] - '0') * 10 + (s[2] - '0')) * 3600 +
		    ((s[4] - '0') * 10 + (s[5] - '0')) * 60);
		s += 6;
	} else
		return -1;
	if (*s != '\0')
		return -1;
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	if ((r = timegm(&tm)) == (time_t)-1)
		return -1;
	*t = r - off;
	return 0;
}

time_t
awscred_refresh_at(time_t fetched, time_t expires)
{
	if (expires == 0)
		return 0;	/* never */
	return cred_refresh_at(fetched, expires);
}

/* The failure of a request that cred_fetch() gave up on, as 100 or 111. */
static int
fetch_fail(int rc, const struct http_resp *rs, const char *what, char *err,
    size_t errlen)
{
	if (rc < 0)
		return cred_fail(111, err, errlen, "%s: %s", what, rs->err);
	return cred_fail(http_temporary(rc, rs) ? 111 : 100, err, errlen,
	    "%s: %ld", what, rs->status);
}

/*
 * Fills out from a JSON answer of ECS or EC2 (see the head of the file).
 * Returns 0, or 111 for an answer that is not credentials, or 100 when
 * EC2 says Code is not Success.
 */
static int
json_creds(const struct http_resp *rs, const char *what,
    struct awscred *out, char *err, size_t errlen)
{
	const char *ak, *sk, *tok, *exp, *code;
	json_error_t je;
	json_t *j, *v;
	int rc;

	if (rs->body == NULL || rs->truncated)
		return cred_fail(111, err, errlen, "%s: %s answer", what,
		    rs->body == NULL ? "empty" : "oversized");
	if ((j = json_loadb(rs->body, rs->body_len, 0, &je)) == NULL)
		return cred_fail(111, err, errlen,
		    "%s: answer is not JSON (line %d)", what, je.line);
	rc = 111;
	if (!json_is_object(j)) {
		cred_fail(111, err, errlen, "%s: answer is not a JSON object",
		    what);
		goto out;
	}
	if ((v = json_object_get(j, "Code")) != NULL) {
		code = json_string_value(v);
		if (code == NULL || strcmp(code, "Success") != 0) {
			rc = cred_fail(100, err, errlen, "%s: Code is %s", what,
			    code != NULL && is_token(code) &&
			    strlen(code) < 64 ? code : "not Success");
			goto out;
		}
	}
	ak = json_string_value(json_object_get(j, "AccessKeyId"));
	sk = json_string_value(json_object_get(j, "SecretAccessKey"));
	tok = json_string_value(json_object_get(j, "Token"));
	exp = json_string_value(json_object_get(j, "Expiration"));
	if (ak == NULL || *ak == '\0' || sk == NULL || *sk == '\0') {
		cred_fail(111, err, errlen, "%s: answer lacks AccessKeyId or "
		    "SecretAccessKey", what);
		goto out;
	}
	out->expires = 0;
	if (exp != NULL && iso8601(exp, &out->expires) < 0) {
		cred_fail(111, err, errlen, "%s: bad Expiration", what);
		goto out;
	}
	if ((v = json_object_get(j, "Token")) != NULL && !json_is_null(v) &&
	    tok == NULL) {
		cred_fail(111, err, errlen, "%s: Token is not a string", what);
		goto out;
	}
	rc = fill(out, ak, sk, tok, what, err, errlen);
out:
	/* The secret stays in jansson's freed memory: overwrite it. */
	if ((v = json_object_get(j, "SecretAccessKey")) != NULL &&
	    json_is_string(v))
		explicit_bzero((char *)json_string_value(v),
		    json_string_length(v));
	if ((v = json_object_get(j, "Token")) != NULL && json_is_string(v))
		explicit_bzero((char *)json_string_value(v),
		    json_string_length(v));
	json_decref(j);
	return rc;
}

/* Sources 1 to 3: keys from the caller and from the environment. */

static int
pair(const char *key, const char *secret, const char *tok,
    const char *key_name, const char *secret_name, const char *src,
    struct awscred *out, char *err, size_t errlen)
{
	if (key == NULL && secret == NULL)
		return SKIP;
	if (key == NULL)
		return cred_fail(100, err, errlen, "%s is set but %s is not",
		    secret_name, key_name);
	if (secret == NULL)
		return cred_fail(100, err, errlen, "%s is set but %s is not",
		    key_name, secret_name);
	if (fill(out, key, secret, tok, src, err, errlen) != 0)
		return 100;
	out->expires = 0;
	snprintf(out->source, sizeof out->source, "%s", src);
	return 0;
}

static int
src_config(struct awscred_chain *c, struct awscred *out, struct cred_notes *n,
    char *err, size_t errlen)
{
	int rc = pair(c->key, c->secret, NULL, "access-key-id",
	    "secret-access-key", "config", out, err, errlen);

	if (rc == SKIP)
		cred_note(n, "config");
	return rc;
}

static int
src_env_ls(struct awscred_chain *c, struct awscred *out, struct cred_notes *n,
    char *err, size_t errlen)
{
	int rc = pair(c->env[E_LS_AK], c->env[E_LS_SK], NULL,
	    env_names[E_LS_AK], env_names[E_LS_SK],
	    "environment (LITESTREAM_*)", out, err, errlen);

	if (rc == SKIP)
		cred_note(n, "LITESTREAM_*");
	return rc;
}

static int
src_env_aws(struct awscred_chain *c, struct awscred *out, struct cred_notes *n,
    char *err, size_t errlen)
{
	int rc = pair(c->env[E_AK], c->env[E_SK], c->env[E_ST],
	    env_names[E_AK], env_names[E_SK], "environment (AWS_*)", out,
	    err, errlen);

	if (rc == SKIP)
		cred_note(n, "AWS_*");
	return rc;
}

/*
 * Source 4: the shared credentials file, an INI file:
 *   # comment            ; comment
 *   [profile-name]
 *   aws_access_key_id = AKIA...
 *   aws_secret_access_key = ...
 *   aws_session_token = ...     (optional)
 * Blanks around names and values are dropped; the value is what follows
 * the first '=' (or ':', as Python's configparser allows); keys compare
 * without regard to case; a repeated key or profile adds to or overrides
 * the earlier one. A line that is none of these is an error, reported by
 * number only, since it may hold a secret.
 */

struct profile {
	char	*key, *secret, *token;
	int	found;
};

static char *
trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	cred_rtrim(s);
	return s;
}

static int
set_field(char **dst, const char *v)
{
	char *d;

	if ((d = strdup(v)) == NULL)
		return -1;
	cred_wipe_free(*dst);
	*dst = d;
	return 0;
}

/* Returns 0, or 100 with err set. */
static int
read_profile(FILE *f, const char *path, const char *want, struct profile *p,
    char *err, size_t errlen)
{
	char *line = NULL, *s, *e, *k, *v;
	size_t cap = 0, lineno = 0;
	int in = 0, rc = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if ((e = strchr(s, ']')) == NULL) {
				rc = cred_fail(100, err, errlen, "%s:%zu: "
				    "unterminated profile name", path, lineno);
				break;
			}
			*e = '\0';
			k = trim(s + 1);
			v = trim(e + 1);
			if (*v != '\0' && *v != '#' && *v != ';') {
				rc = cred_fail(100, err, errlen, "%s:%zu: text "
				    "after a profile name", path, lineno);
				break;
			}
			in = strcmp(k, want) == 0;
			if (in)
				p->found = 1;
			continue;
		}
		e = s + strcspn(s, "=:");
		if (*e == '\0' || e == s) {
			rc = cred_fail(100, err, errlen,
			    "%s:%zu: not a profile name, key = value, or "
			    "comment", path, lineno);
			break;
		}
		*e = '\0';
		k = trim(s);
		v = trim(e + 1);
		if (!in)
			continue;
		if (strcasecmp(k, "aws_access_key_id") == 0)
			rc = set_field(&p->key, v);
		else if (strcasecmp(k, "aws_secret_access_key") == 0)
			rc = set_field(&p->secret, v);
		else if (strcasecmp(k, "aws_session_token") == 0)
			rc = set_field(&p->token, v);
		if (rc != 0) {
			rc = cred_fail(111, err, errlen, "out of memory");
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = cred_fail(111, err, errlen, "unable to read %s: %s", path,
		    strerror(errno));
	if (line != NULL) {
		explicit_bzero(line, cap);
		free(line);
	}
	return rc;
}

/* The source's name, the path shortened from the left to fit. */
static void
shared_name(char *dst, size_t n, const char *path, const char *profile)
{
	size_t fixed, plen = strlen(path);
	int k;

	k = snprintf(dst, n, "shared credentials file %s profile %s", path,
	    profile);
	if (k >= 0 && (size_t)k < n)
		return;
	fixed = strlen("shared credentials file ... profile ") +
	    strlen(profile) + 1;
	if (fixed + 8 > n) {
		snprintf(dst, n, "shared credentials file");
		return;
	}
	snprintf(dst, n, "shared credentials file ...%s profile %s",
	    path + plen - (n - fixed), profile);
}

static int
src_shared(struct awscred_chain *c, struct awscred *out, struct cred_notes *n,
    char *err, size_t errlen)
{
	struct profile p;
	const char *path = c->cred_file, *prof = c->profile;
	FILE *f;
	int rc;

	if (path == NULL) {
		cred_note(n, "shared file (no HOME)");
		return SKIP;
	}
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR) {
			cred_note(n, "shared file %s (absent)", path);
			return SKIP;
		}
		return cred_fail(100, err, errlen, "unable to read %s: %s",
		    path, strerror(errno));
	}
	memset(&p, 0, sizeof p);
	rc = read_profile(f, path, prof, &p, err, errlen);
	fclose(f);
	if (rc != 0)
		goto out;
	if (!p.found || (p.key == NULL && p.secret == NULL)) {
		if (c->profile_set)
			rc = cred_fail(100, err, errlen, !p.found ?
			    "%s has no profile \"%s\" (AWS_PROFILE)" :
			    "%s: profile \"%s\" (AWS_PROFILE) has no "
			    "aws_access_key_id", path, prof);
		else {
			cred_note(n, !p.found ? "shared file %s (no profile %s)"
			    : "shared file %s (profile %s has no keys)", path,
			    prof);
			rc = SKIP;
		}
		goto out;
	}
	if (p.key == NULL || *p.key == '\0' || p.secret == NULL ||
	    *p.secret == '\0') {
		rc = cred_fail(100, err, errlen, "%s: profile \"%s\" lacks %s",
		    path, prof, p.key == NULL || *p.key == '\0'
		    ? "aws_access_key_id" : "aws_secret_access_key");
		goto out;
	}
	if ((rc = fill(out, p.key, p.secret, p.token, path, err, errlen)) !=
	    0)
		goto out;
	out->expires = 0;
	shared_name(out->source, sizeof out->source, path, prof);
out:
	cred_wipe_free(p.key);
	cred_wipe_free(p.secret);
	cred_wipe_free(p.token);
	return rc;
}

/* Source 5: web identity through STS. */

#define STS_DEPTH	8

struct sts_parse {
	char	names[STS_DEPTH][32];	/* open elements' names */
	int	depth;
	char	*text;			/* the element's text */
	size_t	len, cap;
	int	overflow;
	char	*key, *secret, *token, *expiration;
	char	code[64];		/* ErrorResponse/Error/Code */
};

static const char *
local_name(const char *name)
{
	const char *p = strrchr(name, '|');

	return p != NULL ? p + 1 : name;
}

static void XMLCALL
sts_start(void *arg, const char *name, const char **attrs)
{
	struct sts_parse *sp = arg;

	if (sp->depth < STS_DEPTH)
		snprintf(sp->names[sp->depth], sizeof sp->names[0], "%s",
		    local_name(name));
	sp->depth++;
	if (sp->text != NULL)
		explicit_bzero(sp->text, sp->len);
	sp->len = 0;
}

static void XMLCALL
sts_text(void *arg, const char *s, int n)
{
	struct sts_parse *sp = arg;
	char *nb;
	size_t cap;

	if (n <= 0 || sp->overflow)
		return;
	if (sp->len + (size_t)n + 1 > ANSWER_MAX) {
		sp->overflow = 1;
		return;
	}
	if (sp->len + (size_t)n + 1 > sp->cap) {
		cap = sp->cap ? sp->cap : 256;
		while (cap < sp->len + (size_t)n + 1)
			cap *= 2;
		if ((nb = malloc(cap)) == NULL) {
			sp->overflow = 1;
			return;
		}
		if (sp->text != NULL) {
			memcpy(nb, sp->text, sp->len);
			explicit_bzero(sp->text, sp->cap);
			free(sp->text);
		}
		sp->text = nb;
		sp->cap = cap;
	}
	memcpy(sp->text + sp->len, s, (size_t)n);
	sp->len += (size_t)n;
	sp->text[sp->len] = '\0';
}

static void
sts_keep(struct sts_parse *sp, char **dst)
{
	char *v;

	if ((v = strdup(sp->text != NULL ? trim(sp->text) : "")) == NULL) {
		sp->overflow = 1;
		return;
	}
	cred_wipe_free(*dst);
	*dst = v;
}

static void XMLCALL
sts_end(void *arg, const char *name)
{
	struct sts_parse *sp = arg;
	const char *parent, *ln = local_name(name);
	char *v;

	if (sp->text != NULL && sp->len < sp->cap)
		sp->text[sp->len] = '\0';
	if (sp->depth >= 2 && sp->depth <= STS_DEPTH) {
		parent = sp->names[sp->depth - 2];
		if (strcmp(parent, "Credentials") == 0) {
			if (strcmp(ln, "AccessKeyId") == 0)
				sts_keep(sp, &sp->key);
			else if (strcmp(ln, "SecretAccessKey") == 0)
				sts_keep(sp, &sp->secret);
			else if (strcmp(ln, "SessionToken") == 0)
				sts_keep(sp, &sp->token);
			else if (strcmp(ln, "Expiration") == 0)
				sts_keep(sp, &sp->expiration);
		} else if (strcmp(parent, "Error") == 0 &&
		    strcmp(ln, "Code") == 0 && sp->text != NULL) {
			v = trim(sp->text);
			if (is_token(v) && strlen(v) < sizeof sp->code)
				snprintf(sp->code, sizeof sp->code, "%s", v);
		}
	}
	sp->depth--;
	if (sp->text != NULL)
		explicit_bzero(sp->text, sp->len);
	sp->len = 0;
}

/* Parses an STS answer into sp. Returns 0, or -1 if it is not XML. */
static int
sts_parse(const struct http_resp *rs, struct sts_parse *sp)
{
	XML_Parser x;
	int ok;

	memset(sp, 0, sizeof *sp);
	if (rs->body == NULL || rs->truncated || rs->body_len > INT32_MAX)
		return -1;
	if ((x = XML_ParserCreateNS(NULL, '|')) == NULL)
		return -1;
	XML_SetUserData(x, sp);
	XML_SetElementHandler(x, sts_start, sts_end);
	XML_SetCharacterDataHandler(x, sts_text);
	ok = XML_Parse(x, rs->body, (int)rs->body_len, 1) == XML_STATUS_OK;
	XML_ParserFree(x);
	return ok && !sp->overflow ? 0 : -1;
}

static void
sts_free(struct sts_parse *sp)
{
	if (sp->text != NULL) {
		explicit_bzero(sp->text, sp->cap);
		free(sp->text);
	}
	cred_wipe_free(sp->key);
	cred_wipe_free(sp->secret);
	cred_wipe_free(sp->token);
	free(sp->expiration);
}

/* 1 if region is a plausible region name: [a-z0-9-]. */
static int
region_ok(const char *r)
{
	if (r == NULL || *r == '\0' || strlen(r) > 32)
		return 0;
	for (; *r != '\0'; r++)
		if (!(*r >= 'a' && *r <= 'z') && !(*r >= '0' && *r <= '9') &&
		    *r != '-')
			return 0;
	return 1;
}

static char *
sts_url(struct awscred_chain *c)
{
	const char *r = c->region;
	char buf[128];

	if (c->env[E_EP_STS] != NULL)
		return strdup(c->env[E_EP_STS]);
	if (c->env[E_EP] != NULL)
		return strdup(c->env[E_EP]);
	if (!region_ok(r))
		r = c->env[E_REGION];
	if (!region_ok(r))
		r = c->env[E_DEF_REGION];
	if (!region_ok(r))
		return strdup("https://sts.amazonaws.com/");
	snprintf(buf, sizeof buf, "https://sts.%s.amazonaws.com%s/", r,
	    strncmp(r, "cn-", 3) == 0 ? ".cn" : "");
	return strdup(buf);
}

/* STS codes that a 400 carries for a failure worth another try. */
static int
sts_temporary(const char *code)
{
	return strcmp(code, "IDPCommunicationError") == 0 ||
	    strcmp(code, "Throttling") == 0 ||
	    strcmp(code, "ThrottlingException") == 0;
}

static int
src_web_identity(struct awscred_chain *c, struct awscred *out,
    struct cred_notes *n, char *err, size_t errlen)
{
	static const char what[] = "web identity (STS)";
	const char *arn = c->env[E_ROLE_ARN], *tfile = c->env[E_WI_FILE];
	const char *session = c->env[E_SESSION] ? c->env[E_SESSION] :
	    c->session;
	const char *hdr[1] = {
		"Content-Type: application/x-www-form-urlencoded; charset=utf-8"
	};
	char *tok = NULL, *e_arn = NULL, *e_sess = NULL, *e_tok = NULL;
	char *url = NULL, *body = NULL;
	struct http_req rq;
	struct http_resp rs;
	struct sts_parse sp;
	int rc, attempt, e, temp;
	size_t blen;

	if (arn == NULL && tfile == NULL) {
		cred_note(n, "web identity (AWS_ROLE_ARN unset)");
		return SKIP;
	}
	if (arn == NULL || tfile == NULL)
		return cred_fail(100, err, errlen, "%s is set but %s is not",
		    arn ? env_names[E_ROLE_ARN] : env_names[E_WI_FILE],
		    arn ? env_names[E_WI_FILE] : env_names[E_ROLE_ARN]);
	if ((e = cred_slurp_trimmed(tfile, TOKEN_FILE_MAX, &tok)) != 0)
		return cred_fail(100, err, errlen,
		    "unable to read web identity token file %s: %s", tfile,
		    strerror(e));
	if (*tok == '\0') {
		rc = cred_fail(100, err, errlen,
		    "web identity token file %s is empty", tfile);
		goto out;
	}
	if ((url = sts_url(c)) == NULL || (e_arn = http_escape(arn, 0)) ==
	    NULL || (e_sess = http_escape(session, 0)) == NULL ||
	    (e_tok = http_escape(tok, 0)) == NULL ||
	    (body = malloc(blen = strlen(e_arn) + strlen(e_sess) +
	    strlen(e_tok) + 128)) == NULL) {
		rc = cred_fail(111, err, errlen, "out of memory");
		goto out;
	}
	snprintf(body, blen, "Action=AssumeRoleWithWebIdentity"
	    "&Version=2011-06-15&RoleArn=%s&RoleSessionName=%s"
	    "&WebIdentityToken=%s", e_arn, e_sess, e_tok);

	memset(&rq, 0, sizeof rq);
	rq.method = "POST";
	rq.url = url;
	rq.headers = hdr;
	rq.nheaders = 1;
	rq.body = body;
	rq.body_fd = -1;
	rq.body_len = strlen(body);
	rq.max_body = ANSWER_MAX;
	for (attempt = 1;; attempt++) {
		memset(&sp, 0, sizeof sp);
		rc = http_do(c->h, &rq, &rs);
		if (rc == 0 && rs.status != 200)
			sts_parse(&rs, &sp);
		temp = http_temporary(rc, &rs) ||
		    (rs.status == 400 && sts_temporary(sp.code));
		if (!temp || attempt >= TRIES)
			break;
		sts_free(&sp);
		http_resp_free(&rs);
		http_backoff(attempt, CRED_BACKOFF_MS, CRED_BACKOFF_MAX_MS);
	}
	if (rc < 0)
		rc = cred_fail(111, err, errlen, "%s: %s", what, rs.err);
	else if (rs.status != 200)
		rc = cred_fail(temp ? 111 : 100, err, errlen, "%s: "
		    "AssumeRoleWithWebIdentity: %ld%s%s", what, rs.status,
		    *sp.code ? " " : "", sp.code);
	else {
		sts_free(&sp);
		if (sts_parse(&rs, &sp) < 0)
			rc = cred_fail(111, err, errlen,
			    "%s: answer is not XML", what);
		else if (sp.key == NULL || *sp.key == '\0' ||
		    sp.secret == NULL || *sp.secret == '\0' ||
		    sp.token == NULL || sp.expiration == NULL)
			rc = cred_fail(111, err, errlen, "%s: answer lacks "
			    "Credentials", what);
		else if (iso8601(sp.expiration, &out->expires) < 0)
			rc = cred_fail(111, err, errlen, "%s: bad Expiration",
			    what);
		else if ((rc = fill(out, sp.key, sp.secret, sp.token, what,
		    err, errlen)) == 0)
			snprintf(out->source, sizeof out->source, "%s", what);
	}
	sts_free(&sp);
	if (rs.body != NULL)
		explicit_bzero(rs.body, rs.body_len);
	http_resp_free(&rs);
out:
	cred_wipe_free(tok);
	cred_wipe_free(e_tok);
	cred_wipe_free(body);
	free(e_arn);
	free(e_sess);
	free(url);
	return rc;
}

/*
 * Source 6: the ECS container endpoint. A full URI must be https, or
 * http to a host that cannot be elsewhere: a loopback address, the ECS
 * agent (169.254.170.2) or the EKS Pod Identity agent (169.254.170.23,
 * fd00:ec2::23). Host names other than localhost are not resolved, so
 * not accepted over http.
 */
static int
http_host_ok(const char *url)
{
	const char *h = url + strlen("http://"), *e;
	char host[64];
	unsigned char a[16];
	size_t k;

	e = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(e - h)) != NULL)
		return 0;
	if (*h == '[') {
		if ((e = memchr(h, ']', (size_t)(e - h))) == NULL)
			return 0;
		h++;
	} else
		e = h + strcspn(h, ":/?#");
	if ((k = (size_t)(e - h)) == 0 || k >= sizeof host)
		return 0;
	memcpy(host, h, k);
	host[k] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127 || strcmp(host, "169.254.170.2") == 0 ||
		    strcmp(host, "169.254.170.23") == 0;
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char lo[16] = { [15] = 1 };
		static const unsigned char eks[16] = { 0xfd, 0x00, 0x0e, 0xc2,
		    [15] = 0x23 };

		return memcmp(a, lo, 16) == 0 || memcmp(a, eks, 16) == 0;
	}
	return 0;
}

static int
ecs_url(const struct awscred_chain *c, char **url, char *err,
    size_t errlen)
{
	const char *rel = c->env[E_ECS_REL], *full = c->env[E_ECS_FULL];
	size_t k;

	*url = NULL;
	if (rel != NULL) {
		if (!is_token(rel))
			return cred_fail(100, err, errlen,
			    "%s holds a blank or control character",
			    env_names[E_ECS_REL]);
		k = strlen(ECS_HOST) + strlen(rel) + 2;
		if ((*url = malloc(k)) == NULL)
			return cred_fail(111, err, errlen, "out of memory");
		snprintf(*url, k, "%s%s%s", ECS_HOST, *rel == '/' ? "" : "/",
		    rel);
		return 0;
	}
	if (full == NULL)
		return SKIP;
	if (!is_token(full))
		return cred_fail(100, err, errlen,
		    "%s holds a blank or control character",
		    env_names[E_ECS_FULL]);
	if (strncasecmp(full, "https://", 8) != 0 &&
	    !(strncasecmp(full, "http://", 7) == 0 && http_host_ok(full)))
		return cred_fail(100, err, errlen,
		    "%s must be https, or http to a loopback address or the "
		    "ECS or EKS agent", env_names[E_ECS_FULL]);
	if ((*url = strdup(full)) == NULL)
		return cred_fail(111, err, errlen, "out of memory");
	return 0;
}

int
awscred_ecs_url(const struct awscred_chain *c, char *url, size_t urllen,
    char *err, size_t errlen)
{
	char *u;
	int rc;

	if ((rc = ecs_url(c, &u, err, errlen)) != 0)
		return rc;
	if (strlen(u) >= urllen)
		rc = cred_fail(100, err, errlen,
		    "ECS container endpoint URL too long");
	else
		memcpy(url, u, strlen(u) + 1);
	free(u);
	return rc;
}

static int
src_ecs(struct awscred_chain *c, struct awscred *out, struct cred_notes *n,
    char *err, size_t errlen)
{
	static const char what[] = "ECS container endpoint";
	const char *hdr[1];
	char *url = NULL, *tok = NULL, *auth = NULL;
	struct http_req rq;
	struct http_resp rs;
	size_t k;
	int rc, e;

	if ((rc = ecs_url(c, &url, err, errlen)) == SKIP) {
		cred_note(n, "ECS (unset)");
		return SKIP;
	}
	if (rc != 0)
		return rc;
	memset(&rq, 0, sizeof rq);
	if (c->env[E_ECS_TOKEN_FILE] != NULL) {
		if ((e = cred_slurp_trimmed(c->env[E_ECS_TOKEN_FILE],
		    TOKEN_FILE_MAX, &tok)) != 0) {
			rc = cred_fail(100, err, errlen,
			    "unable to read %s: %s", c->env[E_ECS_TOKEN_FILE],
			    strerror(e));
			goto out;
		}
	} else if (c->env[E_ECS_TOKEN] != NULL &&
	    (tok = strdup(c->env[E_ECS_TOKEN])) == NULL) {
		rc = cred_fail(111, err, errlen, "out of memory");
		goto out;
	}
	if (tok != NULL) {
		for (k = 0; tok[k] != '\0'; k++)
			if ((unsigned char)tok[k] < ' ' || tok[k] == 0x7f)
				break;
		if (tok[k] != '\0' || k == 0) {
			rc = cred_fail(100, err, errlen,
			    "%s: the authorization token is empty or holds a "
			    "control character", what);
			goto out;
		}
		k += sizeof "Authorization: ";
		if ((auth = malloc(k)) == NULL) {
			rc = cred_fail(111, err, errlen, "out of memory");
			goto out;
		}
		snprintf(auth, k, "Authorization: %s", tok);
		hdr[0] = auth;
		rq.headers = hdr;
		rq.nheaders = 1;
	}
	rq.method = "GET";
	rq.url = url;
	rq.body_fd = -1;
	rq.max_body = ANSWER_MAX;
	rc = cred_fetch(c->hshort, &rq, &rs, TRIES);
	if (rc != 0 || rs.status != 200)
		rc = fetch_fail(rc, &rs, what, err, errlen);
	else if ((rc = json_creds(&rs, what, out, err, errlen)) == 0)
		snprintf(out->source, sizeof out->source, "%s", what);
	if (rs.body != NULL)
		explicit_bzero(rs.body, rs.body_len);
	http_resp_free(&rs);
out:
	cred_wipe_free(tok);
	cred_wipe_free(auth);
	free(url);
	return rc;
}

/* Source 7: EC2 instance metadata, IMDSv2. */

/* 1 if r is an IAM role name, which goes into a URL as it is. */
static int
role_ok(const char *r)
{
	size_t k = strlen(r);

	return k > 0 && k <= 64 && strspn(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") == k;
}

static int
src_imds(struct awscred_chain *c, struct awscred *out, struct cred_notes *n,
    char *err, size_t errlen)
{
	static const char what[] = "EC2 instance metadata (IMDSv2)";
	const char *ep = c->env[E_IMDS_EP];
	const char *hdr[1];
	char base[512], url[1024], th[600], *tok = NULL, *role = NULL, *e;
	struct http_req rq;
	struct http_resp rs;
	size_t k;
	int rc;

	if (c->env[E_IMDS_OFF] != NULL &&
	    strcasecmp(c->env[E_IMDS_OFF], "true") == 0) {
		cred_note(n, "EC2 IMDS (disabled)");
		return SKIP;
	}
	if (ep == NULL)
		ep = c->env[E_IMDS_MODE] != NULL &&
		    strcasecmp(c->env[E_IMDS_MODE], "IPv6") == 0 ?
		    IMDS_HOST6 : IMDS_HOST;
	if (!is_token(ep) || strlen(ep) >= sizeof base)
		return cred_fail(100, err, errlen, "bad %s",
		    env_names[E_IMDS_EP]);
	snprintf(base, sizeof base, "%s", ep);
	for (k = strlen(base); k > 0 && base[k - 1] == '/'; k--)
		base[k - 1] = '\0';

	/* The token: two tries on a transport failure, since an instance
	 * without metadata (or not on EC2 at all) must not wait long. */
	memset(&rq, 0, sizeof rq);
	hdr[0] = "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TTL;
	rq.method = "PUT";
	snprintf(url, sizeof url, "%s/latest/api/token", base);
	rq.url = url;
	rq.headers = hdr;
	rq.nheaders = 1;
	rq.body = "";
	rq.body_fd = -1;
	rq.max_body = 4096;
	rc = cred_fetch(c->hshort, &rq, &rs, 2);
	if (rc < 0) {
		cred_note(n, "EC2 IMDS (unreachable: %s)", rs.err);
		http_resp_free(&rs);
		return SKIP;
	}
	if (rs.status == 403 || rs.status == 404 || rs.status == 405) {
		/* Metadata is turned off, or this is not EC2. */
		cred_note(n, "EC2 IMDS (token: %ld)", rs.status);
		http_resp_free(&rs);
		return SKIP;
	}
	if (rs.status != 200) {
		rc = fetch_fail(rc, &rs, "EC2 instance metadata: token",
		    err, errlen);
		http_resp_free(&rs);
		return rc;
	}
	tok = rs.body;
	rs.body = NULL;
	http_resp_free(&rs);
	if (tok != NULL)
		cred_rtrim(tok);
	if (tok == NULL || !is_token(tok) || strlen(tok) + 32 > sizeof th) {
		rc = cred_fail(111, err, errlen, "%s: bad token", what);
		goto out;
	}
	snprintf(th, sizeof th, "X-aws-ec2-metadata-token: %s", tok);

	/* The role: the first line of the list. */
	hdr[0] = th;
	rq.method = "GET";
	rq.body = NULL;
	rq.max_body = ANSWER_MAX;
	snprintf(url, sizeof url, "%s/latest/meta-data/iam/"
	    "security-credentials/", base);
	rc = cred_fetch(c->hshort, &rq, &rs, TRIES);
	if (rc == 0 && rs.status == 404) {
		cred_note(n, "EC2 IMDS (no IAM role)");
		http_resp_free(&rs);
		rc = SKIP;
		goto out;
	}
	if (rc != 0 || rs.status != 200) {
		rc = fetch_fail(rc, &rs, "EC2 instance metadata: role", err,
		    errlen);
		http_resp_free(&rs);
		goto out;
	}
	if (rs.body != NULL) {
		if ((e = strchr(rs.body, '\n')) != NULL)
			*e = '\0';
		cred_rtrim(rs.body);
	}
	if (rs.body == NULL || *rs.body == '\0') {
		cred_note(n, "EC2 IMDS (no IAM role)");
		http_resp_free(&rs);
		rc = SKIP;
		goto out;
	}
	if (!role_ok(rs.body)) {
		rc = cred_fail(100, err, errlen, "%s: bad IAM role name", what);
		http_resp_free(&rs);
		goto out;
	}
	role = rs.body;
	rs.body = NULL;
	http_resp_free(&rs);
	k = (size_t)snprintf(url, sizeof url, "%s/latest/meta-data/iam/"
	    "security-credentials/%s", base, role);
	if (k >= sizeof url) {
		rc = cred_fail(100, err, errlen, "%s: role name too long",
		    what);
		goto out;
	}

	/* The credentials. */
	rc = cred_fetch(c->hshort, &rq, &rs, TRIES);
	if (rc != 0 || rs.status != 200)
		rc = fetch_fail(rc, &rs, "EC2 instance metadata: credentials",
		    err, errlen);
	else if ((rc = json_creds(&rs, what, out, err, errlen)) == 0)
		snprintf(out->source, sizeof out->source, "%s", what);
	if (rs.body != NULL)
		explicit_bzero(rs.body, rs.body_len);
	http_resp_free(&rs);
out:
	explicit_bzero(th, sizeof th);
	cred_wipe_free(tok);
	free(role);
	return rc;
}

typedef int (*source_fn)(struct awscred_chain *, struct awscred *,
    struct cred_notes *, char *, size_t);

static const source_fn sources[] = {
	src_config, src_env_ls, src_env_aws, src_shared, src_web_identity,
	src_ecs, src_imds,
};

static int
run_chain(struct awscred_chain *c, struct awscred *out, char *err,
    size_t errlen)
{
	struct cred_notes n;
	size_t i;
	int rc;

	n.len = 0;
	n.buf[0] = '\0';
	for (i = 0; i < sizeof sources / sizeof sources[0]; i++) {
		memset(out, 0, sizeof *out);
		if ((rc = sources[i](c, out, &n, err, errlen)) != SKIP) {
			if (rc != 0)
				explicit_bzero(out, sizeof *out);
			return rc;
		}
	}
	return cred_fail(100, err, errlen, "no credentials found; tried %s",
	    n.buf);
}

int
awscred_get(struct awscred_chain *c, struct awscred *out, char *err,
    size_t errlen)
{
	struct awscred *fresh;
	time_t now;
	int rc = 0;

	if (errlen > 0)
		err[0] = '\0';
	pthread_mutex_lock(&c->mu);
	now = time(NULL);
	if (c->have && (c->cur.expires == 0 || now < c->refresh_at)) {
		*out = c->cur;
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	if ((fresh = malloc(sizeof *fresh)) == NULL) {
		pthread_mutex_unlock(&c->mu);
		return cred_fail(111, err, errlen, "out of memory");
	}
	rc = run_chain(c, fresh, err, errlen);
	now = time(NULL);
	if (rc == 0) {
		c->cur = *fresh;
		c->have = 1;
		c->refresh_at = awscred_refresh_at(now, c->cur.expires);
		*out = c->cur;
	} else if (c->have && c->cur.expires != 0 && now < c->cur.expires) {
		/* The refresh failed but what we hold is still good: use it,
		 * and try again a little later. */
		c->refresh_at = now + (c->cur.expires - now) / 2;
		if (c->refresh_at > now + RETRY_AFTER_S)
			c->refresh_at = now + RETRY_AFTER_S;
		*out = c->cur;
		rc = 0;
		if (errlen > 0)
			err[0] = '\0';
	}
	pthread_mutex_unlock(&c->mu);
	explicit_bzero(fresh, sizeof *fresh);
	free(fresh);
	return rc;
}

void
awscred_expire(struct awscred_chain *c)
{
	pthread_mutex_lock(&c->mu);
	c->have = 0;
	explicit_bzero(&c->cur, sizeof c->cur);
	pthread_mutex_unlock(&c->mu);
}

/* The home directory: HOME, else the password database. */
static char *
home_dir(const char *env_home)
{
	struct passwd pw, *r;
	char buf[4096];

	if (env_home != NULL)
		return strdup(env_home);
	if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &r) != 0 || r == NULL ||
	    pw.pw_dir == NULL || *pw.pw_dir == '\0')
		return NULL;
	return strdup(pw.pw_dir);
}

static int
resolve_cred_file(struct awscred_chain *c)
{
	const char *f = c->env[E_CRED_FILE];
	char *home = NULL;
	size_t k;

	if (f != NULL && strncmp(f, "~/", 2) != 0)
		return (c->cred_file = strdup(f)) == NULL ? -1 : 0;
	if ((home = home_dir(c->env[E_HOME])) == NULL)
		return 0;
	k = strlen(home) + (f != NULL ? strlen(f) : 32) + 2;
	if ((c->cred_file = malloc(k)) != NULL)
		snprintf(c->cred_file, k, "%s/%s", home,
		    f != NULL ? f + 2 : ".aws/credentials");
	free(home);
	return c->cred_file == NULL ? -1 : 0;
}

struct awscred_chain *
awscred_new(struct http *h, const char *access_key, const char *secret_key,
    const char *region, char *const *env)
{
	struct awscred_chain *c;
	struct http_opts so;
	const char *eq;
	size_t i, k;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	for (; env != NULL && *env != NULL; env++) {
		if ((eq = strchr(*env, '=')) == NULL || eq[1] == '\0')
			continue;
		k = (size_t)(eq - *env);
		for (i = 0; i < E_N; i++)
			if (strlen(env_names[i]) == k &&
			    strncmp(*env, env_names[i], k) == 0)
				break;
		if (i == E_N || c->env[i] != NULL)
			continue;
		if ((c->env[i] = strdup(eq + 1)) == NULL)
			goto fail;
	}
	if (access_key != NULL && *access_key != '\0' &&
	    (c->key = strdup(access_key)) == NULL)
		goto fail;
	if (secret_key != NULL && *secret_key != '\0' &&
	    (c->secret = strdup(secret_key)) == NULL)
		goto fail;
	if (region != NULL && *region != '\0' &&
	    (c->region = strdup(region)) == NULL)
		goto fail;
	c->profile_set = c->env[E_PROFILE] != NULL;
	if ((c->profile = strdup(c->profile_set ? c->env[E_PROFILE] :
	    "default")) == NULL)
		goto fail;
	if (resolve_cred_file(c) < 0)
		goto fail;
	snprintf(c->session, sizeof c->session, "ls-%ld", (long)getpid());
	if (h == NULL && (h = c->hown = http_new(NULL)) == NULL)
		goto fail;
	c->h = h;
	memset(&so, 0, sizeof so);
	so.connect_s = 1;
	so.stall_s = 2;
	if ((c->hshort = http_new(&so)) == NULL)
		goto fail;
	return c;
fail:
	awscred_free(c);
	return NULL;
}

void
awscred_free(struct awscred_chain *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < E_N; i++)
		cred_wipe_free(c->env[i]);
	cred_wipe_free(c->key);
	cred_wipe_free(c->secret);
	free(c->region);
	free(c->cred_file);
	free(c->profile);
	http_free(c->hown);
	http_free(c->hshort);
	explicit_bzero(&c->cur, sizeof c->cur);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
