/* Unit tests of common/name.c: what is an object name and what is not. */
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "tap.h"

#define G	"0123456789abcdef"

static void
test_good(void)
{
	struct name n;
	char buf[NAME_LEN];

	is_int(name_parse("generations/" G "/snapshots/00000000.snapshot.lz4",
	    &n), 0, "snapshot 0");
	ok(n.kind == NAME_SNAPSHOT && n.idx == 0 && n.off == 0 &&
	    strcmp(n.gen, G) == 0, "snapshot 0 fields");
	is_int(name_parse("generations/" G "/snapshots/7fffffff.snapshot.lz4",
	    &n), 0, "snapshot 7fffffff");
	is_int(n.idx, 0x7fffffff, "snapshot index");
	is_int(name_parse("generations/" G "/wal/00000001_00001038.wal.lz4",
	    &n), 0, "wal segment");
	ok(n.kind == NAME_WAL && n.idx == 1 && n.off == 0x1038,
	    "wal segment fields");
	is_int(name_parse("generations/" G "/wal/ffffffff_ffffffff.wal.lz4",
	    &n), 0, "largest index and offset");
	ok(n.idx == 0xffffffffu && n.off == 0xffffffffu, "32-bit fields");

	n.kind = NAME_WAL;
	memcpy(n.gen, "fedcba9876543210", 17);
	n.idx = 0x2a;
	n.off = 0x70c8;
	name_format(&n, buf);
	is_str(buf, "generations/fedcba9876543210/wal/"
	    "0000002a_000070c8.wal.lz4", "format wal");
	n.kind = NAME_SNAPSHOT;
	n.off = 0;
	name_format(&n, buf);
	is_str(buf, "generations/fedcba9876543210/snapshots/"
	    "0000002a.snapshot.lz4", "format snapshot");
}

static void
test_bad(void)
{
	static const char *const bad[] = {
		"",
		"generations/",
		"generations/" G,
		"generations/" G "/",
		"generations/" G "/snapshots/",
		/* uppercase */
		"generations/0123456789ABCDEF/snapshots/00000000.snapshot.lz4",
		"generations/" G "/wal/0000000A_00000000.wal.lz4",
		"generations/" G "/wal/00000000_0000103F.wal.lz4",
		"generations/" G "/snapshots/0000000A.snapshot.lz4",
		"Generations/" G "/snapshots/00000000.snapshot.lz4",
		/* 7 and 9 digits */
		"generations/" G "/snapshots/0000000.snapshot.lz4",
		"generations/" G "/snapshots/000000000.snapshot.lz4",
		"generations/" G "/wal/0000000_00000000.wal.lz4",
		"generations/" G "/wal/000000001_00000000.wal.lz4",
		"generations/" G "/wal/00000001_0000000.wal.lz4",
		"generations/" G "/wal/00000001_000000000.wal.lz4",
		"generations/0123456789abcde/wal/00000001_00000000.wal.lz4",
		"generations/0123456789abcdef0/wal/00000001_00000000.wal.lz4",
		/* .. and other path tricks */
		"generations/../" G "/wal/00000001_00000000.wal.lz4",
		"generations/" G "/../" G "/wal/00000001_00000000.wal.lz4",
		"generations/" G "/wal/../wal/00000001_00000000.wal.lz4",
		"generations/" G "/wal/../../../../etc/passwd",
		"../generations/" G "/wal/00000001_00000000.wal.lz4",
		"/generations/" G "/wal/00000001_00000000.wal.lz4",
		"./generations/" G "/wal/00000001_00000000.wal.lz4",
		"generations//" G "/wal/00000001_00000000.wal.lz4",
		"generations/" G "//wal/00000001_00000000.wal.lz4",
		/* extra components */
		"x/generations/" G "/wal/00000001_00000000.wal.lz4",
		"generations/" G "/wal/00000001/00000001_00000000.wal.lz4",
		"generations/" G "/wal/00000001_00000000.wal.lz4/x",
		"generations/" G "/snapshots/00000000.snapshot.lz4/",
		/* wrong suffix, wrong folder, wrong separator */
		"generations/" G "/wal/00000001_00000000.wal",
		"generations/" G "/wal/00000001_00000000.wal.lz4.tmp",
		"generations/" G "/wal/.00000001_00000000.wal.lz4.tmp",
		"generations/" G "/snapshots/00000000.snapshot",
		"generations/" G "/snapshots/00000000.snapshot.lz4.tmp",
		"generations/" G "/snapshots/00000000.wal.lz4",
		"generations/" G "/wal/00000000.snapshot.lz4",
		"generations/" G "/wal/00000001.wal.lz4",
		"generations/" G "/wal/00000001-00000000.wal.lz4",
		"generations/" G "/snapshots/00000001_00000000.wal.lz4",
		"generations/" G "/snapshot/00000000.snapshot.lz4",
		"generations/" G "/wal/0000000g_00000000.wal.lz4",
		"generations/" G "/wal/ 0000001_00000000.wal.lz4",
		"generations/012345678 abcdef/wal/00000001_00000000.wal.lz4",
	};
	struct name n;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		is_int(name_parse(bad[i], &n), -1, "rejected: '%s'", bad[i]);
}

static void
test_generation(void)
{
	ok(name_is_generation(G, 16), "generation id");
	ok(!name_is_generation(G, 15), "15 characters");
	ok(!name_is_generation("0123456789abcdeF", 16), "uppercase");
	ok(!name_is_generation("0123456789abcdeg", 16), "not hex");
	ok(!name_is_generation("../456789abcdef0", 16), "dots");
}

static void
test_roundtrip(void)
{
	static const struct { int kind; uint32_t idx, off; } v[] = {
		{ NAME_SNAPSHOT, 0, 0 }, { NAME_SNAPSHOT, 0xabcdef01, 0 },
		{ NAME_WAL, 0, 0 }, { NAME_WAL, 1, 0x1038 },
		{ NAME_WAL, 0xffffffff, 0xffffffff },
	};
	struct name n, m;
	char buf[NAME_LEN];
	size_t i;
	int good = 0;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		memset(&n, 0, sizeof n);
		n.kind = v[i].kind;
		memcpy(n.gen, "00ff00ff00ff00ff", 17);
		n.idx = v[i].idx;
		n.off = v[i].off;
		name_format(&n, buf);
		if (name_parse(buf, &m) == 0 && m.kind == n.kind &&
		    m.idx == n.idx && m.off == n.off &&
		    strcmp(m.gen, n.gen) == 0)
			good++;
		else
			printf("# no round trip: %s\n", buf);
	}
	is_int(good, sizeof v / sizeof v[0], "format then parse round trips");

	good = name_new_generation(buf);
	ok(good == 0 && name_is_generation(buf, 16) && buf[16] == '\0',
	    "new generation id is well formed");
	n.kind = NAME_WAL;
	memcpy(n.gen, buf, 17);
	n.idx = 3;
	n.off = 0;
	name_format(&n, buf);
	good = name_parse(buf, &m);
	ok(good == 0 && m.idx == 3, "new id makes a name");
}

static void
test_cmp(void)
{
	static const char *const sorted[] = {
		"generations/" G "/wal/00000000_00000000.wal.lz4",
		"generations/" G "/wal/00000000_00001038.wal.lz4",
		"generations/" G "/wal/00000000_00002070.wal.lz4",
		"generations/" G "/snapshots/00000000.snapshot.lz4",
		"generations/" G "/wal/00000001_00000000.wal.lz4",
		"generations/" G "/wal/00000001_00000020.wal.lz4",
		"generations/" G "/snapshots/00000001.snapshot.lz4",
		"generations/" G "/wal/00000002_00000000.wal.lz4",
		"generations/" G "/wal/0000000a_00000000.wal.lz4",
		"generations/" G "/snapshots/0000000a.snapshot.lz4",
		"generations/" G "/wal/00000010_00000000.wal.lz4",
	};
	struct name a, b;
	size_t i, j, n = sizeof sorted / sizeof sorted[0];
	int bad = 0, want, got;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			name_parse(sorted[i], &a);
			name_parse(sorted[j], &b);
			want = i < j ? -1 : i > j ? 1 : 0;
			got = name_cmp(&a, &b);
			got = got < 0 ? -1 : got > 0 ? 1 : 0;
			if (got != want) {
				bad++;
				printf("# cmp %s %s: %d\n", sorted[i],
				    sorted[j], got);
			}
		}
	is_int(bad, 0, "name_cmp: index, then WAL by offset, then snapshot");
}

int
main(void)
{
	test_good();
	test_bad();
	test_generation();
	test_roundtrip();
	test_cmp();
	return tap_done();
}
