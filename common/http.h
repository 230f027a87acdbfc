/*
 * http: the one HTTP client every cloud backend and credential source
 * uses, over libcurl. A struct http is a small pool of connections that
 * several threads may share (restore downloads in parallel); each request
 * takes a connection from the pool and puts it back, so keep-alive works.
 *
 * http_do() sends one request and never retries: the caller knows which
 * failures are worth another try (see http_temporary()).
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

struct http_opts {
	int		skip_verify;	/* no TLS certificate checks */
	const char	*ca_file;	/* trust anchors instead of the
					 * default bundle, or NULL */
	int		connect_s;	/* connect timeout; 0: 10 s */
	int		stall_s;	/* abort when no byte moves this long;
					 * 0: 30 s */
};

struct http;

/* NULL if out of memory. */
struct http *http_new(const struct http_opts *o);
void http_free(struct http *h);

/* Receives a successful (2xx) response body in order; 0 to go on, any
 * other value stops the transfer. */
typedef int (*http_sink)(void *ctx, const void *p, size_t n);

#define HTTP_MAX_WANT	4

struct http_req {
	const char		*method;	/* GET PUT POST DELETE HEAD */
	const char		*url;
	const char *const	*headers;	/* "Name: value" each */
	size_t			nheaders;
	/* The body: body_len bytes from memory, or, with body_fd >= 0,
	 * body_len bytes of body_fd from body_off (read with pread, so
	 * the descriptor can be shared). */
	const void		*body;
	int			body_fd;
	uint64_t		body_off;
	uint64_t		body_len;
	/* A 2xx body goes to sink if set, else into resp.body. Other
	 * statuses always go into resp.body (up to max_body). */
	http_sink		sink;
	void			*sink_ctx;
	size_t			max_body;	/* 0: 1 MiB */
	/* Response headers to capture (case-insensitive names). */
	const char		*want[HTTP_MAX_WANT];
};

struct http_resp {
	long		status;		/* 0 when no response was read */
	char		*body;		/* NUL-terminated, or NULL */
	size_t		body_len;
	int		truncated;	/* the body passed max_body */
	int		sink_stopped;	/* the sink said stop */
	char		*hdr[HTTP_MAX_WANT];	/* values of want[], or NULL */
	char		err[256];	/* transport failure, one line */
	int		tls_refused;	/* the server's certificate failed the
					 * checks: no point trying again */
};

/*
 * Sends rq. Returns 0 when a whole response arrived (any status), -1 on a
 * transport failure (connect, TLS, timeout, reset, short body, or the
 * sink stopping), with a reason in rs->err. Free rs with http_resp_free.
 */
int http_do(struct http *h, const struct http_req *rq, struct http_resp *rs);
void http_resp_free(struct http_resp *rs);

/* 1 if a request that got this outcome may succeed when tried again:
 * a transport failure other than a refused certificate, 408, 429, or 5xx
 * except 501 and 505. */
int http_temporary(int rc, const struct http_resp *rs);

/* Sleeps before try number attempt (1, 2, ...): between half and all of
 * an exponential ceiling from base_ms, capped at max_ms. */
void http_backoff(int attempt, int base_ms, int max_ms);

/*
 * Resuming a download cut short: pass http_resume_sink as the request's
 * sink with want[0] = "Content-Range", and before each try set rs to that
 * try's response and ask for "bytes=DELIVERED-" once delivered > 0. Bytes
 * already passed on are skipped, whether the server sends the range (206)
 * or the whole object again (200).
 */
struct http_resume {
	http_sink		sink;
	void			*ctx;
	uint64_t		delivered;	/* passed on so far */
	uint64_t		pos;		/* of the try under way */
	int			started, stopped;
	const struct http_resp	*rs;
};

int http_resume_sink(void *arg, const void *p, size_t n);

/*
 * Runs one(ctx, k) for k in 0..n-1 on up to threads threads, each taking
 * the next k; after a failure no new k starts. Returns 0, or the first
 * nonzero result (100 over any other).
 */
int http_parallel(unsigned n, int threads, int (*one)(void *ctx, unsigned k),
    void *ctx);

/* Percent-encodes s (A-Za-z0-9-_.~ kept, '/' kept when keep_slash) into
 * a malloc'd string, or NULL. */
char *http_escape(const char *s, int keep_slash);

#endif
