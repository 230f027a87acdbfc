/* name: parsing and formatting of replica object names. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "name.h"

static int
ishex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int
hexfield(const char *s, size_t n, uint32_t *v)
{
	uint32_t x = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!ishex((unsigned char)s[i]))
			return -1;
		x = x << 4 | (uint32_t)(s[i] <= '9' ? s[i] - '0' : s[i] - 'a' + 10);
	}
	*v = x;
	return 0;
}

int
name_is_generation(const char *s, size_t n)
{
	size_t i;

	if (n != NAME_GEN_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!ishex((unsigned char)s[i]))
			return 0;
	return 1;
}

int
name_parse(const char *rel, struct name *out)
{
	static const char pfx[] = "generations/";
	const char *p = rel;

	if (strncmp(p, pfx, sizeof pfx - 1) != 0)
		return -1;
	p += sizeof pfx - 1;
	if (strnlen(p, NAME_GEN_LEN + 1) <= NAME_GEN_LEN ||
	    p[NAME_GEN_LEN] != '/' || !name_is_generation(p, NAME_GEN_LEN))
		return -1;
	memcpy(out->gen, p, NAME_GEN_LEN);
	out->gen[NAME_GEN_LEN] = '\0';
	p += NAME_GEN_LEN + 1;
	if (strncmp(p, "snapshots/", 10) == 0) {
		p += 10;
		if (strlen(p) != 8 + 13 || strcmp(p + 8, ".snapshot.lz4") != 0 ||
		    hexfield(p, 8, &out->idx) < 0)
			return -1;
		out->kind = NAME_SNAPSHOT;
		out->off = 0;
		return 0;
	}
	if (strncmp(p, "wal/", 4) == 0) {
		p += 4;
		if (strlen(p) != 17 + 8 || p[8] != '_' ||
		    strcmp(p + 17, ".wal.lz4") != 0 ||
		    hexfield(p, 8, &out->idx) < 0 ||
		    hexfield(p + 9, 8, &out->off) < 0)
			return -1;
		out->kind = NAME_WAL;
		return 0;
	}
	return -1;
}

void
name_format(const struct name *n, char *buf)
{
	if (n->kind == NAME_SNAPSHOT)
		snprintf(buf, NAME_LEN, "generations/%s/snapshots/%08x.snapshot.lz4",
		    n->gen, (unsigned)n->idx);
	else
		snprintf(buf, NAME_LEN, "generations/%s/wal/%08x_%08x.wal.lz4",
		    n->gen, (unsigned)n->idx, (unsigned)n->off);
}

int
name_cmp(const struct name *a, const struct name *b)
{
	if (a->idx != b->idx)
		return a->idx < b->idx ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind == NAME_WAL ? -1 : 1;
	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	return 0;
}

int
name_new_generation(char *gen)
{
	unsigned char r[NAME_GEN_LEN / 2];
	size_t i;

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return -1;
	for (i = 0; i < sizeof r; i++)
		snprintf(gen + 2 * i, 3, "%02x", r[i]);
	return 0;
}
