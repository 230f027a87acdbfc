/*
 * Unit tests of common/restore.c: planning (which generation, snapshot and
 * WAL segments a restore uses) and the RFC 3339 times of -timestamp.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore.h"
#include "tap.h"

#define G1	"1111111111111111"
#define G2	"2222222222222222"
#define G3	"3333333333333333"
#define S	1000000000LL

struct lst {
	struct backend_obj	v[64];
	size_t			n;
};

static void
add(struct lst *l, const char *gen, const char *rest, int64_t sec)
{
	struct backend_obj *o = &l->v[l->n++];

	snprintf(o->name, sizeof o->name, "generations/%s/%s", gen, rest);
	o->size = 100;
	o->mtime_ns = sec * S;
}

/* The plan's WAL as "idx_off idx_off ...", for comparison. */
static const char *
wals(const struct restore_plan *p)
{
	static char buf[1024];
	size_t i, k = 0;

	buf[0] = '\0';
	for (i = 0; i < p->nwal; i++)
		k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%x_%x",
		    i ? " " : "", (unsigned)p->wal[i].n.idx,
		    (unsigned)p->wal[i].n.off);
	return buf;
}

static int
plan(const struct lst *l, const char *gen, int has_index, uint32_t index,
    int has_time, int64_t sec, struct restore_plan *p, char *err)
{
	struct restore_opts o;

	memset(&o, 0, sizeof o);
	o.gen = gen;
	o.has_index = has_index;
	o.index = index;
	o.has_time = has_time;
	o.time_ns = sec * S;
	err[0] = '\0';
	return restore_plan(l->v, l->n, &o, p, err, 256);
}

/*
 * Two generations:
 *   G1, times 100..200: snapshot 0 (100), wal 0_0 (100), 0_1038 (150),
 *       snapshot 1 (160), wal 1_0 (160), 1_1038 (200)
 *   G2, times 300..400: snapshot 0 (300), wal 0_0 (300), 0_1038 (350),
 *       1_0 (400)
 * plus names that are not objects, and a generation with no snapshot.
 */
static void
two_generations(struct lst *l)
{
	l->n = 0;
	add(l, G1, "snapshots/00000000.snapshot.lz4", 100);
	add(l, G1, "wal/00000000_00000000.wal.lz4", 100);
	add(l, G1, "wal/00000000_00001038.wal.lz4", 150);
	add(l, G1, "snapshots/00000001.snapshot.lz4", 160);
	add(l, G1, "wal/00000001_00000000.wal.lz4", 160);
	add(l, G1, "wal/00000001_00001038.wal.lz4", 200);
	add(l, G2, "wal/00000001_00000000.wal.lz4", 400);
	add(l, G2, "wal/00000000_00001038.wal.lz4", 350);
	add(l, G2, "snapshots/00000000.snapshot.lz4", 300);
	add(l, G2, "wal/00000000_00000000.wal.lz4", 300);
	/* Not objects: ignored whatever their times. */
	add(l, G2, "wal/.00000002_00000000.wal.lz4.tmp", 900);
	add(l, G2, "wal/00000002_00000000.WAL.LZ4", 900);
	add(l, G2, "snapshots/00000009.snapshot.lz4.tmp", 900);
	add(l, "44444444444444444", "snapshots/00000009.snapshot.lz4", 900);
	add(l, "444444444444444G", "snapshots/00000009.snapshot.lz4", 900);
	/* A newer generation without a snapshot cannot be restored. */
	add(l, G3, "wal/00000000_00000000.wal.lz4", 950);
}

static void
test_selection(void)
{
	struct lst l;
	struct restore_plan p;
	char err[256];

	two_generations(&l);

	is_int(plan(&l, NULL, 0, 0, 0, 0, &p, err), 0, "latest: planned");
	is_str(p.gen, G2, "latest: newest generation with a snapshot");
	is_str(p.snap.name, "generations/" G2
	    "/snapshots/00000000.snapshot.lz4", "latest: snapshot");
	is_str(wals(&p), "0_0 0_1038 1_0", "latest: every segment");
	is_int(p.nidx, 2, "latest: two indexes");
	is_int(p.wal_bytes, 300, "latest: stored bytes");
	is_int(p.created_ns, 300 * S, "latest: generation created");
	is_int(p.updated_ns, 400 * S, "latest: generation updated");
	is_str(p.warn, "", "latest: no warning");
	restore_plan_free(&p);

	is_int(plan(&l, NULL, 0, 0, 1, 50, &p, err), RESTORE_NONE,
	    "timestamp before every object: nothing");
	is_str(err, "no matching backups found", "before: message");

	is_int(plan(&l, NULL, 0, 0, 1, 250, &p, err), 0,
	    "timestamp between generations: planned");
	is_str(p.gen, G1, "between: the older generation");
	is_int(p.snap.n.idx, 1, "between: its highest snapshot");
	is_str(wals(&p), "1_0 1_1038", "between: WAL from the snapshot on");
	restore_plan_free(&p);

	is_int(plan(&l, NULL, 0, 0, 1, 155, &p, err), 0,
	    "timestamp inside a generation: planned");
	is_str(p.gen, G1, "inside: generation");
	is_int(p.snap.n.idx, 0, "inside: the snapshot before the time");
	is_str(wals(&p), "0_0 0_1038", "inside: segments up to the time");
	restore_plan_free(&p);

	is_int(plan(&l, NULL, 0, 0, 1, 320, &p, err), 0,
	    "timestamp inside the newest generation: planned");
	is_str(wals(&p), "0_0", "inside newest: stops at the first later "
	    "segment");
	restore_plan_free(&p);

	is_int(plan(&l, NULL, 0, 0, 1, 100000, &p, err), 0,
	    "timestamp after every object: planned");
	is_str(p.gen, G2, "after: newest generation");
	is_str(wals(&p), "0_0 0_1038 1_0", "after: the newest state");
	restore_plan_free(&p);

	is_int(plan(&l, NULL, 0, 0, 1, 400, &p, err), 0,
	    "timestamp equal to the newest object: planned");
	is_str(wals(&p), "0_0 0_1038 1_0", "equal: included");
	restore_plan_free(&p);

	is_int(plan(&l, G1, 0, 0, 0, 0, &p, err), 0, "-generation: planned");
	is_str(p.gen, G1, "-generation: that one");
	is_int(p.snap.n.idx, 1, "-generation: highest snapshot");
	is_str(wals(&p), "1_0 1_1038", "-generation: its WAL");
	restore_plan_free(&p);

	is_int(plan(&l, G1, 1, 0, 0, 0, &p, err), 0, "-index 0: planned");
	is_int(p.snap.n.idx, 0, "-index 0: snapshot at or below it");
	is_str(wals(&p), "0_0 0_1038", "-index 0: WAL up to index 0");
	restore_plan_free(&p);

	is_int(plan(&l, G1, 1, 1, 0, 0, &p, err), 0, "-index 1: planned");
	is_int(p.snap.n.idx, 1, "-index 1: snapshot 1");
	restore_plan_free(&p);

	is_int(plan(&l, G2, 1, 1, 0, 0, &p, err), 0, "G2 -index 1: planned");
	is_int(p.snap.n.idx, 0, "G2 -index 1: snapshot 0");
	is_str(wals(&p), "0_0 0_1038 1_0", "G2 -index 1: through index 1");
	restore_plan_free(&p);

	is_int(plan(&l, G1, 1, 5, 0, 0, &p, err), -1,
	    "-index past the generation: error");
	is_str(err, "generation " G1 " has no WAL index 5 (the last is 1)",
	    "-index past: message");

	is_int(plan(&l, "5555555555555555", 0, 0, 0, 0, &p, err), RESTORE_NONE,
	    "unknown -generation: nothing");
	is_int(plan(&l, G3, 0, 0, 0, 0, &p, err), RESTORE_NONE,
	    "-generation without a snapshot: nothing");

	l.n = 0;
	is_int(plan(&l, NULL, 0, 0, 0, 0, &p, err), RESTORE_NONE,
	    "empty listing: nothing");
}

static void
test_rules(void)
{
	struct lst l;
	struct restore_plan p;
	char err[256];

	/* Strays and broken indexes below the snapshot do not matter. */
	l.n = 0;
	add(&l, G1, "wal/00000002_00001038.wal.lz4", 10);
	add(&l, G1, "wal/00000003_00000000.wal.lz4", 11);
	add(&l, G1, "wal/00000003_00004080.wal.lz4", 12);
	add(&l, G1, "snapshots/00000005.snapshot.lz4", 20);
	add(&l, G1, "wal/00000005_00000000.wal.lz4", 20);
	add(&l, G1, "wal/00000005_00001038.wal.lz4", 21);
	add(&l, G1, "wal/00000006_00000000.wal.lz4", 22);
	is_int(plan(&l, NULL, 0, 0, 0, 0, &p, err), 0,
	    "strays below the snapshot: planned (%s)", err);
	is_str(wals(&p), "5_0 5_1038 6_0", "strays: ignored");
	restore_plan_free(&p);

	/* A missing index between the snapshot's and a later one. */
	l.n = 0;
	add(&l, G1, "snapshots/00000000.snapshot.lz4", 10);
	add(&l, G1, "wal/00000000_00000000.wal.lz4", 10);
	add(&l, G1, "wal/00000002_00000000.wal.lz4", 12);
	is_int(plan(&l, NULL, 0, 0, 0, 0, &p, err), -1, "missing index: error");
	is_str(err, "generations/" G1 "/wal/00000001_00000000.wal.lz4: "
	    "missing: WAL index 1 has no segment, but index 2 has",
	    "missing index: message names the object");
	/* ... unless the restore stops before the later index. */
	is_int(plan(&l, NULL, 0, 0, 1, 11, &p, err), 0,
	    "missing index after the timestamp: planned");
	is_str(wals(&p), "0_0", "missing index after the timestamp: WAL");
	restore_plan_free(&p);

	/* The snapshot's own index missing while a later one is there. */
	l.n = 0;
	add(&l, G1, "snapshots/00000003.snapshot.lz4", 10);
	add(&l, G1, "wal/00000004_00000000.wal.lz4", 12);
	is_int(plan(&l, NULL, 0, 0, 0, 0, &p, err), -1,
	    "snapshot index without WAL, later index present: error");
	is_str(err, "generations/" G1 "/wal/00000003_00000000.wal.lz4: "
	    "missing: WAL index 3 has no segment, but index 4 has",
	    "snapshot index missing: message");

	/* Every index starts at offset 0. */
	l.n = 0;
	add(&l, G1, "snapshots/00000000.snapshot.lz4", 10);
	add(&l, G1, "wal/00000000_00000000.wal.lz4", 10);
	add(&l, G1, "wal/00000001_00001038.wal.lz4", 11);
	is_int(plan(&l, NULL, 0, 0, 0, 0, &p, err), -1,
	    "index without offset 0: error");
	is_str(err, "generations/" G1 "/wal/00000001_00001038.wal.lz4: gap: "
	    "bytes 0x0..0x1038 of WAL index 1 are missing",
	    "offset-0 rule: message");
	l.n = 0;
	add(&l, G1, "snapshots/00000000.snapshot.lz4", 10);
	add(&l, G1, "wal/00000000_00002070.wal.lz4", 10);
	is_int(plan(&l, NULL, 0, 0, 0, 0, &p, err), -1,
	    "snapshot index without offset 0: error");
	is_str(err, "generations/" G1 "/wal/00000000_00002070.wal.lz4: gap: "
	    "bytes 0x0..0x2070 of WAL index 0 are missing",
	    "snapshot index offset-0 rule: message");

	/* A snapshot with no WAL at all restores alone, with a warning. */
	l.n = 0;
	add(&l, G1, "wal/00000002_00000000.wal.lz4", 5);
	add(&l, G1, "snapshots/00000003.snapshot.lz4", 10);
	is_int(plan(&l, NULL, 0, 0, 0, 0, &p, err), 0,
	    "snapshot without WAL: planned");
	is_int(p.nwal, 0, "snapshot without WAL: no segment");
	is_str(p.warn, "generations/" G1 "/snapshots/00000003.snapshot.lz4: "
	    "no WAL for index 3; restoring the snapshot alone",
	    "snapshot without WAL: warning");
	restore_plan_free(&p);

	/* The snapshot is chosen by index, not by time. */
	l.n = 0;
	add(&l, G1, "snapshots/00000001.snapshot.lz4", 20);
	add(&l, G1, "snapshots/00000002.snapshot.lz4", 10);
	add(&l, G1, "wal/00000001_00000000.wal.lz4", 20);
	add(&l, G1, "wal/00000002_00000000.wal.lz4", 20);
	is_int(plan(&l, NULL, 0, 0, 0, 0, &p, err), 0, "by index: planned");
	is_int(p.snap.n.idx, 2, "by index: highest index");
	restore_plan_free(&p);
	is_int(plan(&l, NULL, 0, 0, 1, 15, &p, err), 0,
	    "by index at a time: planned");
	is_int(p.snap.n.idx, 2, "by index at a time: highest before it");
	is_int(p.nwal, 0, "by index at a time: its WAL is later");
	restore_plan_free(&p);

	/* A later segment ends the walk, even before later indexes. */
	l.n = 0;
	add(&l, G1, "snapshots/00000000.snapshot.lz4", 10);
	add(&l, G1, "wal/00000000_00000000.wal.lz4", 10);
	add(&l, G1, "wal/00000000_00001038.wal.lz4", 30);
	add(&l, G1, "wal/00000001_00000000.wal.lz4", 20);
	is_int(plan(&l, NULL, 0, 0, 1, 25, &p, err), 0, "stop: planned");
	is_str(wals(&p), "0_0", "stop: nothing past the first later segment");
	restore_plan_free(&p);

	/* Equal times: the later generation id wins, every time. */
	l.n = 0;
	add(&l, G2, "snapshots/00000000.snapshot.lz4", 10);
	add(&l, G1, "snapshots/00000000.snapshot.lz4", 10);
	is_int(plan(&l, NULL, 0, 0, 0, 0, &p, err), 0, "tie: planned");
	is_str(p.gen, G2, "tie: by generation id");
	restore_plan_free(&p);
}

static void
test_times(void)
{
	static const char *const bad[] = {
		"", "2006-01-02", "2006-01-02T15:04:05", "2006-01-02 15:04:05Z",
		"2006-01-02t15:04:05Z", "2006-01-02T15:04:05z",
		"2006-13-02T15:04:05Z", "2006-00-02T15:04:05Z",
		"2006-02-29T00:00:00Z", "2006-04-31T00:00:00Z",
		"2006-01-00T00:00:00Z", "2006-01-02T24:00:00Z",
		"2006-01-02T23:60:00Z", "2006-01-02T15:04:60Z",
		"2006-01-02T15:04:05.Z", "2006-01-02T15:04:05+0100",
		"2006-01-02T15:04:05+01", "2006-01-02T15:04:05+24:00",
		"2006-01-02T15:04:05Z ", "2006-01-02T15:04:05ZZ",
		"06-01-02T15:04:05Z", "2006-1-02T15:04:05Z",
		"+006-01-02T15:04:05Z", "2006-01-02T15:04:05.1x2Z",
	};
	int64_t ns;
	char buf[RESTORE_TIME_LEN];
	size_t i;

	is_int(restore_parse_time("2006-01-02T15:04:05Z", &ns), 0, "parse Z");
	is_int(ns, 1136214245LL * S, "Z: value");
	is_int(restore_parse_time("2006-01-02T15:04:05.123456789Z", &ns), 0,
	    "parse nanoseconds");
	is_int(ns, 1136214245LL * S + 123456789, "nanoseconds: value");
	is_int(restore_parse_time("2006-01-02T15:04:05.1234567891234Z", &ns),
	    0, "parse more than 9 digits");
	is_int(ns, 1136214245LL * S + 123456789, "extra digits dropped");
	is_int(restore_parse_time("2006-01-02T15:04:05.5+01:00", &ns), 0,
	    "parse +01:00");
	is_int(ns, (1136214245LL - 3600) * S + 500000000, "+01:00: value");
	is_int(restore_parse_time("2006-01-02T08:04:05-07:00", &ns), 0,
	    "parse -07:00");
	is_int(ns, 1136214245LL * S, "-07:00: value");
	is_int(restore_parse_time("2004-02-29T00:00:00Z", &ns), 0,
	    "leap day");
	is_int(restore_parse_time("2000-02-29T00:00:00Z", &ns), 0,
	    "leap day of a 400th year");
	is_int(restore_parse_time("1900-02-29T00:00:00Z", &ns), -1,
	    "no leap day in 1900");
	is_int(restore_parse_time("1970-01-01T00:00:00Z", &ns), 0, "epoch");
	is_int(ns, 0, "epoch: 0");
	is_int(restore_parse_time("9999-12-31T23:59:59Z", &ns), 0,
	    "far future");
	ok(ns == INT64_MAX, "far future: after everything");
	is_int(restore_parse_time("0001-01-01T00:00:00Z", &ns), 0,
	    "far past");
	ok(ns == INT64_MIN, "far past: before everything");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		is_int(restore_parse_time(bad[i], &ns), -1, "rejected: '%s'",
		    bad[i]);

	restore_format_time(1136214245LL * S + 123456789, buf);
	is_str(buf, "2006-01-02T15:04:05.123Z", "format: milliseconds");
	restore_format_time(0, buf);
	is_str(buf, "1970-01-01T00:00:00.000Z", "format: epoch");
	restore_format_time(-1, buf);
	is_str(buf, "1969-12-31T23:59:59.999Z", "format: before the epoch");
	restore_parse_time("2024-02-29T12:34:56.789Z", &ns);
	restore_format_time(ns, buf);
	is_str(buf, "2024-02-29T12:34:56.789Z", "format: round trip");
}

int
main(void)
{
	test_selection();
	test_rules();
	test_times();
	return tap_done();
}
