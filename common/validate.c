/* validate: a replica against the spool (see validate.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replica.h"
#include "restore.h"
#include "validate.h"

/* Keeps the objects of a's generation that a confirms; returns how many. */
static size_t
confirmed(struct backend_obj *v, size_t n, const struct spool_ack *a)
{
	struct spool_obj o;
	size_t i, k = 0;

	memset(&o, 0, sizeof o);
	for (i = 0; i < n; i++)
		if (name_parse(v[i].name, &o.n) == 0 &&
		    strcmp(o.n.gen, a->gen) == 0 &&
		    spool_ack_covers(a, 0, 0, &o))
			v[k++] = v[i];
	return k;
}

/* Plans and applies a restore of what a confirms in be[0]'s replica to
 * out. Returns 0, RESTORE_NONE, or -1/100/111 with err. */
static int
rebuild(struct backend *const be[2], const struct spool_ack *a,
    const char *out, struct validate_stats *vs, char *err, size_t errlen)
{
	struct restore_opts ro = { .gen = a->gen };
	struct restore_plan plan;
	struct backend_obj *objs;
	char prefix[NAME_LEN], why[512];
	size_t n;
	int rc;

	snprintf(prefix, sizeof prefix, "generations/%s/", a->gen);
	rc = replica_list(be[0], prefix, &objs, &n);
	if (vs != NULL) {
		vs->lists++;
		vs->list_errors += rc != BE_OK;
	}
	if (rc != BE_OK) {
		snprintf(err, errlen, "%s", be[0]->err);
		return rc;
	}
	n = confirmed(objs, n, a);
	rc = restore_plan(objs, n, &ro, &plan, why, sizeof why);
	free(objs);
	if (rc != 0) {
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	unlink(out);
	rc = restore_apply(be, 2, &plan, out, 0, err, errlen);
	if (vs != NULL) {
		vs->gets += 1 + plan.nwal;
		if (rc == 0)
			vs->get_bytes += plan.snap.size + plan.wal_bytes;
		else
			vs->get_errors++;
	}
	restore_plan_free(&plan);
	return rc;
}

/* Compares two files: 0 if equal, else 1 with where they differ in err. */
static int
compare(const char *x, const char *y, char *err, size_t errlen)
{
	unsigned char a[65536], b[65536];
	ssize_t n, m;
	uint64_t at = 0;
	size_t i;
	int fx, fy, rc = 0;

	fx = open(x, O_RDONLY | O_CLOEXEC);
	fy = open(y, O_RDONLY | O_CLOEXEC);
	if (fx < 0 || fy < 0) {
		snprintf(err, errlen, "unable to read a restore: %s",
		    strerror(errno));
		rc = -1;
	}
	while (rc == 0) {
		n = read(fx, a, sizeof a);
		m = read(fy, b, sizeof b);
		if (n < 0 || m < 0) {
			snprintf(err, errlen, "unable to read a restore: %s",
			    strerror(errno));
			rc = -1;
		} else if (n != m || memcmp(a, b, (size_t)n) != 0) {
			for (i = 0; i < (size_t)(n < m ? n : m) && a[i] == b[i];
			    i++)
				;
			snprintf(err, errlen, "the replica restores to a "
			    "database that differs from the spool's at byte "
			    "%llu", (unsigned long long)(at + i));
			rc = 1;
		} else if (n == 0)
			break;
		at += (uint64_t)n;
	}
	if (fx >= 0)
		close(fx);
	if (fy >= 0)
		close(fy);
	return rc;
}

int
validate_replica(struct spool *sp, struct backend *const be[2],
    const char *replica, struct validate_stats *vs, char *err, size_t errlen)
{
	struct backend *local[2] = { NULL, NULL };
	struct spool_ack a;
	char rout[PATH_MAX], sout[PATH_MAX], why[512];
	int rc, code;

	if (spool_ack_read(sp, replica, &a) != 1 || a.gen[0] == '\0' ||
	    !a.has_snap) {
		snprintf(err, errlen, "no snapshot confirmed yet");
		return VALIDATE_SKIP;
	}
	snprintf(rout, sizeof rout, "%s/tmp/validate.%s.replica", sp->dir,
	    replica);
	snprintf(sout, sizeof sout, "%s/tmp/validate.%s.spool", sp->dir,
	    replica);
	/* The spool first: if it no longer holds that position (ls-watch
	 * collected it), there is nothing to compare with. */
	local[0] = replica_open_with(replica_open_file, sp->dir, NULL, 0, why, sizeof why, &code);
	local[1] = local[0] == NULL ? NULL :
	    replica_open_with(replica_open_file, sp->dir, NULL, 0, why, sizeof why, &code);
	if (local[1] == NULL) {
		snprintf(err, errlen, "unable to open the spool: %s", why);
		rc = VALIDATE_FAILED;
		goto out;
	}
	rc = rebuild(local, &a, sout, NULL, why, sizeof why);
	if (rc != 0) {
		snprintf(err, errlen, "the spool no longer restores to "
		    "%s/%08x: %s", a.gen, a.has_wal ? a.widx : a.snap, why);
		rc = rc == 111 ? VALIDATE_FAILED : VALIDATE_SKIP;
		goto out;
	}
	rc = rebuild(be, &a, rout, vs, why, sizeof why);
	if (rc != 0) {
		/* The spool's objects restored: what the replica lacks or
		 * holds wrongly is its fault, unless it could not be read
		 * just now. */
		snprintf(err, errlen, "%s", why);
		rc = rc == 111 ? VALIDATE_FAILED : VALIDATE_MISMATCH;
		goto out;
	}
	switch (compare(rout, sout, err, errlen)) {
	case 0:
		rc = VALIDATE_OK;
		break;
	case 1:
		rc = VALIDATE_MISMATCH;
		break;
	default:
		rc = VALIDATE_FAILED;
	}
out:
	unlink(rout);
	unlink(sout);
	if (local[0] != NULL)
		replica_close(local[0]);
	if (local[1] != NULL)
		replica_close(local[1]);
	return rc;
}
