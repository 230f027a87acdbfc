/*
 * sftp: objects as files under a directory of an SSH server. One
 * connection serves every operation and is made again after it is lost.
 * The server's host key is checked before anything else is sent: against
 * host-key (a public key line or a SHA256: fingerprint), else a
 * known_hosts file; an unknown or changed key is a permanent failure.
 *
 * A put writes "." + name + ".tmp" beside the object, syncs it where the
 * server offers fsync, gives it the spool object's time and renames it
 * into place; readers skip dot names, so a name only ever holds a whole
 * object. (SFTP version 3 renames do not replace: a name already there,
 * from a put whose answer was lost, is removed first.)
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libssh2.h>
#include <libssh2_sftp.h>

#include "backend.h"
#include "bopt.h"
#include "enc.h"
#include "log.h"
#include "sftp.h"

#define IO_CHUNK	(32 << 10)

struct sftp {
	struct backend		b;
	struct sftp_loc		l;
	const struct bopts	*o;		/* for secrets, at connect */
	char			*password;	/* from the URL or settings */
	char			*passphrase;
	char			*key_path, *host_key, *known_hosts;
	char			*agent_sock;
	int			insecure;
	long			timeout_ms;
	int			fd;
	LIBSSH2_SESSION		*ssh;
	LIBSSH2_SFTP		*sftp;
	int			fatal;		/* a refusal: do not connect again */
};

static int set_err(struct sftp *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
set_err(struct sftp *s, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->b.err, sizeof s->b.err, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- connection ---- */

static void
disconnect(struct sftp *s)
{
	if (s->sftp != NULL)
		libssh2_sftp_shutdown(s->sftp);
	if (s->ssh != NULL) {
		libssh2_session_disconnect(s->ssh, "done");
		libssh2_session_free(s->ssh);
	}
	if (s->fd >= 0)
		close(s->fd);
	s->sftp = NULL;
	s->ssh = NULL;
	s->fd = -1;
}

/* A TCP connection within the timeout. -1 with b.err set. */
static int
dial(struct sftp *s)
{
	struct addrinfo hints, *res, *ai;
	struct pollfd pfd;
	char port[8];
	int fd = -1, e, rc;
	socklen_t len;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%d", s->l.port);
	if ((rc = getaddrinfo(s->l.host, port, &hints, &res)) != 0) {
		set_err(s, BE_TEMP, "%s: %s", s->l.host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			rc = poll(&pfd, 1, (int)s->timeout_ms);
			len = sizeof e;
			if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
			    &len) == 0 && e == 0)
				break;
			errno = rc == 0 ? ETIMEDOUT : rc == 1 ? e : errno;
		}
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		set_err(s, BE_TEMP, "connect to %s: %s", s->l.hostport,
		    strerror(errno));
		return -1;
	}
	/* libssh2 wants a blocking socket; its own timeout bounds waits. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	s->fd = fd;
	return 0;
}

/* "SHA256:" and the unpadded base64 of the host key's SHA-256. */
static void
fingerprint(LIBSSH2_SESSION *ssh, char *out, size_t len)
{
	const char *h = libssh2_hostkey_hash(ssh, LIBSSH2_HOSTKEY_HASH_SHA256);
	char b[64];
	size_t n;

	if (h == NULL) {
		snprintf(out, len, "(unknown)");
		return;
	}
	enc_base64(h, 32, b);
	n = strlen(b);
	while (n > 0 && b[n - 1] == '=')
		b[--n] = '\0';
	snprintf(out, len, "SHA256:%s", b);
}

static int
known_type(int t)
{
	switch (t) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519:
		return LIBSSH2_KNOWNHOST_KEY_ED25519;
	}
	return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
}

/* 0 if the server's key is the one expected; else -1, b.err set and
 * s->fatal when it is a refusal. */
static int
check_host_key(struct sftp *s)
{
	const char *key;
	char fp[80], where[300];
	size_t len;
	int type, rc;

	snprintf(where, sizeof where, "%s", s->l.hostport);
	if ((key = libssh2_session_hostkey(s->ssh, &len, &type)) == NULL) {
		set_err(s, BE_TEMP, "%s: no host key", where);
		return -1;
	}
	fingerprint(s->ssh, fp, sizeof fp);
	if (s->insecure) {
		log_warn("%s: host key %s NOT CHECKED (insecure-ignore-host-key)",
		    where, fp);
		return 0;
	}
	if (s->host_key != NULL) {
		unsigned char blob[2048];
		const char *b64;
		char want[2048];
		long n;

		if (strncmp(s->host_key, "SHA256:", 7) == 0) {
			snprintf(want, sizeof want, "%s", s->host_key);
			n = (long)strlen(want);
			while (n > 0 && want[n - 1] == '=')
				want[--n] = '\0';
			if (strcmp(want, fp) == 0)
				return 0;
		} else if ((b64 = strchr(s->host_key, ' ')) != NULL) {
			snprintf(want, sizeof want, "%s", b64 + 1);
			want[strcspn(want, " \t\r\n")] = '\0';
			n = enc_unbase64(want, blob, sizeof blob);
			if (n == (long)len && memcmp(blob, key, len) == 0)
				return 0;
		}
		s->fatal = 1;
		set_err(s, BE_PERM, "%s: the server's host key %s is not the "
		    "one in host-key", where, fp);
		return -1;
	}
	{
		LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(s->ssh);
		struct libssh2_knownhost *found;

		if (kh == NULL) {
			set_err(s, BE_TEMP, "out of memory");
			return -1;
		}
		if (libssh2_knownhost_readfile(kh, s->known_hosts,
		    LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0 &&
		    access(s->known_hosts, R_OK) == 0) {
			libssh2_knownhost_free(kh);
			s->fatal = 1;
			set_err(s, BE_PERM, "%s: unreadable", s->known_hosts);
			return -1;
		}
		rc = libssh2_knownhost_checkp(kh, s->l.host, s->l.port, key,
		    len, LIBSSH2_KNOWNHOST_TYPE_PLAIN |
		    LIBSSH2_KNOWNHOST_KEYENC_RAW | known_type(type), &found);
		libssh2_knownhost_free(kh);
	}
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return 0;
	s->fatal = 1;
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
		set_err(s, BE_PERM, "%s: the host key CHANGED: the server "
		    "shows %s, not the key in %s (refusing to send anything)",
		    where, fp, s->known_hosts);
	else
		set_err(s, BE_PERM, "%s: unknown host key %s: not in %s (add "
		    "it, or set host-key)", where, fp, s->known_hosts);
	return -1;
}

static int
authenticate(struct sftp *s)
{
	const char *u = s->l.user;
	char tried[128] = "";
	int ok = 0;

	if (!ok && s->key_path != NULL) {
		strcat(tried, "key ");
		ok = libssh2_userauth_publickey_fromfile_ex(s->ssh, u,
		    (unsigned)strlen(u), NULL, s->key_path,
		    s->passphrase != NULL ? s->passphrase : "") == 0;
		if (!ok && access(s->key_path, R_OK) != 0) {
			s->fatal = 1;
			return set_err(s, BE_PERM, "key-path %s: %s", s->key_path,
			    strerror(errno));
		}
	}
	if (!ok && s->password != NULL) {
		strcat(tried, "password ");
		ok = libssh2_userauth_password_ex(s->ssh, u, (unsigned)strlen(u),
		    s->password, (unsigned)strlen(s->password), NULL) == 0;
	}
	if (!ok && s->agent_sock != NULL) {
		LIBSSH2_AGENT *ag = libssh2_agent_init(s->ssh);
		struct libssh2_agent_publickey *id = NULL, *prev = NULL;

		strcat(tried, "agent ");
		if (ag != NULL) {
			libssh2_agent_set_identity_path(ag, s->agent_sock);
			if (libssh2_agent_connect(ag) == 0 &&
			    libssh2_agent_list_identities(ag) == 0)
				while (!ok && libssh2_agent_get_identity(ag, &id,
				    prev) == 0) {
					ok = libssh2_agent_userauth(ag, u,
					    id) == 0;
					prev = id;
				}
			libssh2_agent_disconnect(ag);
			libssh2_agent_free(ag);
		}
	}
	if (ok)
		return BE_OK;
	s->fatal = 1;
	if (tried[0] == '\0')
		return set_err(s, BE_PERM, "%s@%s: no way to log in (give "
		    "key-path, a password, or an agent in SSH_AUTH_SOCK)", u,
		    s->l.host);
	tried[strlen(tried) - 1] = '\0';
	return set_err(s, BE_PERM, "%s@%s: login refused (tried %s)", u,
	    s->l.hostport, tried);
}

/* Connects if not connected. BE_OK, or a BE_* code with b.err set. */
static int
ensure(struct sftp *s)
{
	char *msg;
	int rc;

	if (s->sftp != NULL) {
		int next;

		/* Keepalives go out between operations too. */
		libssh2_keepalive_send(s->ssh, &next);
		return BE_OK;
	}
	if (s->fatal)
		return BE_PERM;
	if (dial(s) < 0)
		return BE_TEMP;
	if ((s->ssh = libssh2_session_init()) == NULL) {
		disconnect(s);
		return set_err(s, BE_TEMP, "out of memory");
	}
	libssh2_session_set_blocking(s->ssh, 1);
	libssh2_session_set_timeout(s->ssh, s->timeout_ms);
	if (libssh2_session_handshake(s->ssh, s->fd) != 0) {
		libssh2_session_last_error(s->ssh, &msg, NULL, 0);
		set_err(s, BE_TEMP, "%s: SSH handshake: %s", s->l.hostport,
		    msg);
		disconnect(s);
		return BE_TEMP;
	}
	if (check_host_key(s) < 0) {
		rc = s->fatal ? BE_PERM : BE_TEMP;
		disconnect(s);
		return rc;
	}
	if ((rc = authenticate(s)) != BE_OK) {
		disconnect(s);
		return rc;
	}
	libssh2_keepalive_config(s->ssh, 1, 15);
	if ((s->sftp = libssh2_sftp_init(s->ssh)) == NULL) {
		libssh2_session_last_error(s->ssh, &msg, NULL, 0);
		set_err(s, BE_TEMP, "%s: SFTP: %s", s->l.host, msg);
		disconnect(s);
		return BE_TEMP;
	}
	log_info("connected to %s@%s", s->l.user, s->l.hostport);
	return BE_OK;
}

/*
 * The outcome of a failed call: a missing file is BE_NOENT, a refusal
 * BE_PERM, anything else BE_TEMP, and a connection that failed is
 * dropped, to be made again.
 */
static int
fail(struct sftp *s, const char *verb, const char *path)
{
	unsigned long st = 0;
	int e = libssh2_session_last_errno(s->ssh);
	char *msg;

	if (e == LIBSSH2_ERROR_SFTP_PROTOCOL)
		st = libssh2_sftp_last_error(s->sftp);
	if (e == LIBSSH2_ERROR_SFTP_PROTOCOL && st == LIBSSH2_FX_NO_SUCH_FILE) {
		set_err(s, BE_NOENT, "%s %s: no such file", verb, path);
		return BE_NOENT;
	}
	if (e == LIBSSH2_ERROR_SFTP_PROTOCOL &&
	    (st == LIBSSH2_FX_PERMISSION_DENIED ||
	    st == LIBSSH2_FX_WRITE_PROTECT)) {
		set_err(s, BE_PERM, "%s %s: permission denied", verb, path);
		return BE_PERM;
	}
	if (e == LIBSSH2_ERROR_SFTP_PROTOCOL) {
		set_err(s, BE_TEMP, "%s %s: SFTP status %lu", verb, path, st);
		return BE_TEMP;
	}
	libssh2_session_last_error(s->ssh, &msg, NULL, 0);
	set_err(s, BE_TEMP, "%s %s: %s", verb, path, msg);
	disconnect(s);
	return BE_TEMP;
}

/* ---- operations ---- */

static int
full_path(const struct sftp *s, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", s->l.root, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* mkdir -p of path's directory. */
static int
mkdirs(struct sftp *s, const char *path)
{
	LIBSSH2_SFTP_ATTRIBUTES at;
	char dir[2048], *p;

	snprintf(dir, sizeof dir, "%s", path);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return BE_OK;
	*p = '\0';
	if (libssh2_sftp_stat(s->sftp, dir, &at) == 0)
		return BE_OK;
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char c = *p;

			*p = '\0';
			if (libssh2_sftp_stat(s->sftp, dir, &at) != 0 &&
			    libssh2_sftp_mkdir(s->sftp, dir, 0755) != 0) {
				/* The mkdir's own error; made meanwhile by
				 * someone else is fine. */
				int rc = fail(s, "mkdir", dir);

				if (s->sftp == NULL ||
				    libssh2_sftp_stat(s->sftp, dir, &at) != 0)
					return rc == BE_NOENT ? BE_PERM : rc;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return BE_OK;
}

static int
put_once(struct sftp *s, const char *name, int fd, uint64_t size,
    int64_t mtime_ns)
{
	LIBSSH2_SFTP_HANDLE *h;
	LIBSSH2_SFTP_ATTRIBUTES at;
	char path[2048], tmp[2100], *buf, *slash;
	uint64_t done = 0;
	ssize_t n, w, off;
	int rc;

	if (full_path(s, name, path, sizeof path) < 0)
		return set_err(s, BE_PERM, "%s: name too long", name);
	slash = strrchr(path, '/');
	snprintf(tmp, sizeof tmp, "%.*s/.%s.tmp", (int)(slash - path), path,
	    slash + 1);
	if ((rc = mkdirs(s, path)) != BE_OK)
		return rc;
	h = libssh2_sftp_open(s->sftp, tmp, LIBSSH2_FXF_WRITE |
	    LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0644);
	if (h == NULL)
		return fail(s, "create", tmp);
	if ((buf = malloc(IO_CHUNK)) == NULL) {
		libssh2_sftp_close(h);
		return set_err(s, BE_TEMP, "out of memory");
	}
	while (done < size) {
		size_t want = size - done < IO_CHUNK ? (size_t)(size - done) :
		    IO_CHUNK;

		n = pread(fd, buf, want, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			libssh2_sftp_close(h);
			return set_err(s, BE_TEMP, "reading %s: %s", name,
			    n == 0 ? "short file" : strerror(errno));
		}
		for (off = 0; off < n; off += w)
			if ((w = libssh2_sftp_write(h, buf + off,
			    (size_t)(n - off))) <= 0) {
				free(buf);
				libssh2_sftp_close(h);
				return fail(s, "write", tmp);
			}
		done += (uint64_t)n;
	}
	free(buf);
	/* fsync@openssh.com, where offered: else the close is all. */
	(void)libssh2_sftp_fsync(h);
	if (mtime_ns > 0) {
		memset(&at, 0, sizeof at);
		at.flags = LIBSSH2_SFTP_ATTR_ACMODTIME;
		at.atime = at.mtime = (unsigned long)(mtime_ns / 1000000000);
		(void)libssh2_sftp_fsetstat(h, &at);
	}
	if (libssh2_sftp_close(h) != 0)
		return fail(s, "close", tmp);
	if (libssh2_sftp_rename_ex(s->sftp, tmp, (unsigned)strlen(tmp), path,
	    (unsigned)strlen(path), LIBSSH2_SFTP_RENAME_OVERWRITE |
	    LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE) == 0)
		return BE_OK;
	/* Version 3 servers refuse a rename onto a name that exists. */
	if (libssh2_sftp_stat(s->sftp, path, &at) == 0 &&
	    libssh2_sftp_unlink(s->sftp, path) == 0 &&
	    libssh2_sftp_rename_ex(s->sftp, tmp, (unsigned)strlen(tmp), path,
	    (unsigned)strlen(path), 0) == 0)
		return BE_OK;
	rc = fail(s, "rename", path);
	if (s->sftp != NULL)
		libssh2_sftp_unlink(s->sftp, tmp);
	return rc;
}

/* Runs an operation, connecting first, and once more after a lost
 * connection. */
#define WITH_RETRY(s, call) do {					\
	int try_, rc_ = BE_TEMP;					\
	for (try_ = 0; try_ < 2; try_++) {				\
		if ((rc_ = ensure(s)) != BE_OK)				\
			return rc_;					\
		if ((rc_ = (call)) != BE_TEMP || (s)->sftp != NULL)	\
			return rc_;					\
	}								\
	return rc_;							\
} while (0)

static int
sftp_put(struct backend *b, const char *name, int fd, uint64_t size,
    int64_t mtime_ns)
{
	struct sftp *s = (struct sftp *)b;

	WITH_RETRY(s, put_once(s, name, fd, size, mtime_ns));
}

static int
get_once(struct sftp *s, const char *name, backend_sink sink, void *ctx,
    uint64_t *delivered)
{
	LIBSSH2_SFTP_HANDLE *h;
	char path[2048], *buf;
	uint64_t pos = 0;
	ssize_t n;
	int rc = BE_OK;

	if (full_path(s, name, path, sizeof path) < 0)
		return set_err(s, BE_PERM, "%s: name too long", name);
	if ((h = libssh2_sftp_open(s->sftp, path, LIBSSH2_FXF_READ, 0)) ==
	    NULL)
		return fail(s, "open", path);
	if (*delivered > 0)
		libssh2_sftp_seek64(h, *delivered);
	pos = *delivered;
	if ((buf = malloc(IO_CHUNK)) == NULL) {
		libssh2_sftp_close(h);
		return set_err(s, BE_TEMP, "out of memory");
	}
	for (;;) {
		n = libssh2_sftp_read(h, buf, IO_CHUNK);
		if (n == 0)
			break;
		if (n < 0) {
			rc = fail(s, "read", path);
			break;
		}
		if (sink(ctx, buf, (size_t)n) != 0) {
			rc = set_err(s, BE_TEMP, "GET %s: the receiver stopped",
			    path);
			break;
		}
		pos += (uint64_t)n;
		*delivered = pos;
	}
	free(buf);
	if (s->sftp != NULL)
		libssh2_sftp_close(h);
	return rc;
}

static int
sftp_get(struct backend *b, const char *name, backend_sink sink, void *ctx)
{
	struct sftp *s = (struct sftp *)b;
	uint64_t delivered = 0;

	WITH_RETRY(s, get_once(s, name, sink, ctx, &delivered));
}

struct walk {
	backend_list_cb	cb;
	void		*ctx;
	int		stop;
};

/* Lists dir (rel is its name under the root) and below, depth first. */
static int
walk(struct sftp *s, const char *rel, struct walk *w, int depth)
{
	LIBSSH2_SFTP_HANDLE *h;
	LIBSSH2_SFTP_ATTRIBUTES at;
	struct backend_obj o;
	char path[2048], name[512], sub[1024];
	ssize_t n;
	int rc = BE_OK;

	if (depth > 8)
		return BE_OK;
	snprintf(path, sizeof path, "%s/%s", s->l.root, rel);
	if ((h = libssh2_sftp_opendir(s->sftp, path)) == NULL) {
		rc = fail(s, "opendir", path);
		return rc == BE_NOENT ? BE_OK : rc;
	}
	while (rc == BE_OK && !w->stop) {
		n = libssh2_sftp_readdir(h, name, sizeof name, &at);
		if (n == 0)
			break;
		if (n < 0) {
			rc = fail(s, "readdir", path);
			break;
		}
		if (name[0] == '.')
			continue;	/* ., .., and temporary files */
		if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", rel,
		    rel[strlen(rel) - 1] == '/' ? "" : "/", name) >= sizeof sub)
			continue;
		if ((at.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
		    LIBSSH2_SFTP_S_ISDIR(at.permissions)) {
			rc = walk(s, sub, w, depth + 1);
			continue;
		}
		if (strlen(sub) >= NAME_LEN)
			continue;
		memset(&o, 0, sizeof o);
		snprintf(o.name, sizeof o.name, "%s", sub);
		o.size = (at.flags & LIBSSH2_SFTP_ATTR_SIZE) ? at.filesize : 0;
		o.mtime_ns = (at.flags & LIBSSH2_SFTP_ATTR_ACMODTIME) ?
		    (int64_t)at.mtime * 1000000000LL : 0;
		if ((w->stop = w->cb(w->ctx, &o)) != 0)
			rc = w->stop;
	}
	if (s->sftp != NULL)
		libssh2_sftp_closedir(h);
	return rc;
}

static int
list_once(struct sftp *s, const char *prefix, backend_list_cb cb, void *ctx)
{
	struct walk w = { cb, ctx, 0 };
	char dir[NAME_LEN];
	size_t n = strlen(prefix);

	/* Prefixes here name directories ("generations/", "generations/
	 * GEN/"); a partial name lists its directory. */
	snprintf(dir, sizeof dir, "%s", prefix);
	while (n > 0 && dir[n - 1] != '/')
		dir[--n] = '\0';
	if (n == 0)
		return set_err(s, BE_PERM, "listing the whole root is not "
		    "supported");
	return walk(s, dir, &w, 0);
}

static int
sftp_list(struct backend *b, const char *prefix, backend_list_cb cb,
    void *ctx)
{
	struct sftp *s = (struct sftp *)b;

	WITH_RETRY(s, list_once(s, prefix, cb, ctx));
}

static int
remove_once(struct sftp *s, const char *const *names, size_t n)
{
	char path[2048], *slash;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (full_path(s, names[i], path, sizeof path) < 0)
			continue;
		if (libssh2_sftp_unlink(s->sftp, path) != 0 &&
		    (rc = fail(s, "remove", path)) != BE_NOENT)
			return rc;
		/* Empty directories go too: wal/, snapshots/, the
		 * generation's (a rmdir of a full one fails, harmlessly). */
		while ((slash = strrchr(path, '/')) != NULL &&
		    slash > path + strlen(s->l.root)) {
			const char *base;

			*slash = '\0';
			base = strrchr(path, '/');
			base = base != NULL ? base + 1 : path;
			if (strcmp(base, "generations") == 0 ||
			    libssh2_sftp_rmdir(s->sftp, path) != 0)
				break;
		}
	}
	return BE_OK;
}

static int
sftp_remove(struct backend *b, const char *const *names, size_t n)
{
	struct sftp *s = (struct sftp *)b;

	WITH_RETRY(s, remove_once(s, names, n));
}

static void
sftp_close(struct backend *b)
{
	struct sftp *s = (struct sftp *)b;

	disconnect(s);
	if (s->password != NULL)
		explicit_bzero(s->password, strlen(s->password));
	if (s->passphrase != NULL)
		explicit_bzero(s->passphrase, strlen(s->passphrase));
	free(s->password);
	free(s->passphrase);
	free(s->key_path);
	free(s->host_key);
	free(s->known_hosts);
	free(s->agent_sock);
	free(s->b.where);
	free(s);
}

static const struct backend_ops sftp_ops = {
	.scheme = "sftp",
	.put = sftp_put,
	.get = sftp_get,
	.list = sftp_list,
	.remove = sftp_remove,
	.close = sftp_close,
};

static char *
dup_opt(const char *v)
{
	return v != NULL ? strdup(v) : NULL;
}

struct backend *
sftp_open(const char *url, const struct bopts *o, char *err, size_t errlen,
    int *code)
{
	static int inited;
	struct sftp *s;
	const char *v, *home;
	char pw[256], serr[256] = "";

	*code = 100;
	if (!inited && libssh2_init(0) != 0) {
		snprintf(err, errlen, "libssh2 did not start");
		*code = 111;
		return NULL;
	}
	inited = 1;
	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		*code = 111;
		return NULL;
	}
	s->fd = -1;
	s->b.ops = &sftp_ops;
	if (sftp_check(url, o, err, errlen) < 0 ||
	    sftp_parse(url, o, &s->l, pw, sizeof pw, err, errlen) < 0)
		goto fail;
	if (s->l.url_password) {
		log_warn("sftp://%s@%s: a password in the URL is visible to "
		    "anyone who can list processes; use password-file or "
		    "LS_PASSWORD", s->l.user, s->l.host);
		s->password = strdup(pw);
	}
	explicit_bzero(pw, sizeof pw);
	if (s->password == NULL)
		s->password = bopt_secret(o, "password", serr, sizeof serr);
	if (serr[0] == '\0')
		s->passphrase = bopt_secret(o, "key-passphrase", serr,
		    sizeof serr);
	if (serr[0] != '\0') {
		snprintf(err, errlen, "%s", serr);
		goto fail;
	}
	s->key_path = dup_opt(bopt_get(o, "key-path"));
	s->host_key = dup_opt(bopt_get(o, "host-key"));
	s->insecure = bopt_bool(o, "insecure-ignore-host-key", 0);
	if ((v = bopt_get(o, "known-hosts")) != NULL)
		s->known_hosts = strdup(v);
	else if ((home = bopt_env(o, "HOME")) != NULL)
		(void)!asprintf(&s->known_hosts, "%s/.ssh/known_hosts", home);
	else
		s->known_hosts = strdup("/nonexistent/.ssh/known_hosts");
	if ((v = bopt_env(o, "SSH_AUTH_SOCK")) != NULL && *v != '\0')
		s->agent_sock = strdup(v);
	s->timeout_ms = (long)bopt_dur(o, "timeout", 30000);
	if (asprintf(&s->b.where, "sftp://%s@%s%s%s", s->l.user,
	    s->l.hostport, s->l.root[0] == '/' ? "" : "/~/", s->l.root) < 0 ||
	    s->known_hosts == NULL) {
		s->b.where = NULL;
		snprintf(err, errlen, "out of memory");
		*code = 111;
		goto fail;
	}
	return &s->b;
fail:
	sftp_close(&s->b);
	return NULL;
}
