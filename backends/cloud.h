/*
 * cloud: what the HTTP object-store clients (s3, abs, gcs) share beyond
 * common/http.h.
 */
#ifndef CLOUD_H
#define CLOUD_H

#include "backend.h"
#include "http.h"

/* Tries of one request before its failure is the caller's. */
#define CLOUD_ATTEMPTS	5

/*
 * One GET of an object, resumed where a cut transfer stopped. send(arg,
 * r, rs) makes one try with the client's own addressing and signing: a
 * GET whose sink is http_resume_sink with r, capturing Content-Range in
 * want[0], asking for bytes r->delivered onwards when that is not 0 (in
 * the client's own range header); it returns a BE_* code, with b->err
 * set on failure. Temporary failures are tried CLOUD_ATTEMPTS times with
 * back-off. Returns a BE_* code.
 */
int cloud_get(struct backend *b, const char *what, backend_sink sink,
    void *ctx, int (*send)(void *arg, struct http_resume *r,
    struct http_resp *rs), void *arg);

#endif
