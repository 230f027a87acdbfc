/*
 * Unit tests of common/age.c, as TAP: known answers for the primitives
 * (RFC 7748 X25519, RFC 5869 HKDF-SHA-256, RFC 8439 ChaCha20-Poly1305,
 * BIP 173 Bech32), keys and a file made by age-keygen and age 1.1.1, round
 * trips, and the refusals of damaged files with their messages.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age.h"
#include "tap.h"

static const uint8_t basepoint[32] = { 9 };

/* Made with age-keygen (age 1.1.1). */
#define KEYGEN_ID	"AGE-SECRET-KEY-1GCLMN5ANE25JNTF0JVNVVQWMRUD7ACX8" \
			"AS2PGPJK9K9S440KHRDS3G2QZP"
#define KEYGEN_RCPT	"age1qnpweq3mt3ctyjt9ampgl0yjd8stlzz00lmdfkmc4q4e" \
			"4fvj533snt8fs4"
/* The example pair of the age specification. */
#define SPEC_ID		"AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZ" \
			"GFPYYSJZGFPYYSJZGFPQ4EGAEX"
#define SPEC_RCPT	"age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeex" \
			"vn73equnujwj"

/* "hello, age\n" encrypted to KEYGEN_RCPT by age 1.1.1. */
static const char small_hdr[] =
    "age-encryption.org/v1\n"
    "-> X25519 RcAy+s+XyDnesHIoPLCBHY90L8oiIEK7Wf4CplEKo04\n"
    "bjQvX91kWVr8PvyxTcNrH0szYFWmcf6ldBSWkXFEf94\n"
    "--- CZC9ncSZC0MY9EvyIa2wuJ715mPzjf6T2/ZksAPSmHw\n";
static const char small_payload[] =
    "2d8a5a58ca8ae52dc88d0ad171ef4f99550e9cb151f629e556f41ff8db6e5293"
    "fda25e0b6b76860e571e98";

struct out {
	unsigned char	*p;
	size_t		n, cap;
	size_t		stop_at;	/* the sink refuses past this */
};

static size_t
unhex(const char *s, uint8_t *out)
{
	size_t i, n = strlen(s) / 2;
	unsigned v;

	for (i = 0; i < n; i++) {
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

static int
same_hex(const uint8_t *p, const char *hex)
{
	uint8_t want[256];
	size_t n = unhex(hex, want);

	return memcmp(p, want, n) == 0;
}

static int
collect(void *ctx, const void *p, size_t n)
{
	struct out *o = ctx;

	if (o->stop_at && o->n + n > o->stop_at)
		return -1;
	if (o->n + n > o->cap) {
		o->cap = (o->n + n) * 2;
		if ((o->p = realloc(o->p, o->cap)) == NULL)
			abort();
	}
	memcpy(o->p + o->n, p, n);
	o->n += n;
	return 0;
}

static void
fill(unsigned char *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		p[i] = (unsigned char)(seed >> 16);
	}
}

/* Encrypts p[0..n) to r in writes of step bytes; the file is malloc'd. */
static unsigned char *
seal(const struct age_keys *r, const unsigned char *p, size_t n,
    size_t step, size_t *len)
{
	struct age_enc e;
	FILE *f = tmpfile();
	unsigned char *c;
	size_t k;
	long sz;

	if (f == NULL || age_enc_begin(&e, r, fileno(f)) < 0)
		abort();
	for (k = 0; k < n; k += step)
		if (age_enc_write(&e, p + k, n - k < step ? n - k : step) < 0)
			abort();
	if (age_enc_end(&e) < 0)
		abort();
	sz = lseek(fileno(f), 0, SEEK_END);
	if ((c = malloc((size_t)sz + 1)) == NULL ||
	    pread(fileno(f), c, (size_t)sz, 0) != sz)
		abort();
	fclose(f);
	*len = (size_t)sz;
	return c;
}

/* Decrypts c[0..n) pushed step bytes at a time: the first non-zero
 * return of push or finish. */
static int
open_file(const struct age_keys *ids, const unsigned char *c, size_t n,
    size_t step, struct out *o, char *err, size_t errlen)
{
	struct age_dec d;
	size_t k;
	int rc = 0;

	if (age_dec_init(&d, ids, collect, o) < 0)
		abort();
	for (k = 0; k < n && rc == 0; k += step)
		rc = age_dec_push(&d, c + k, n - k < step ? n - k : step);
	if (rc == 0)
		rc = age_dec_finish(&d);
	snprintf(err, errlen, "%s", rc == 0 ? "" : d.err);
	age_dec_free(&d);
	return rc;
}

static void
test_x25519(void)
{
	uint8_t k[32], u[32], out[32], a[32], b[32], ap[32], bp[32], t[32];
	int i;

	unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449a"
	    "c4", k);
	unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c"
	    "4c", u);
	age_x25519(out, k, u);
	ok(same_hex(out, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b40"
	    "75577a28552"), "X25519: RFC 7748 5.2, first vector");
	unhex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba"
	    "0d", k);
	unhex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a4"
	    "93", u);
	age_x25519(out, k, u);
	ok(same_hex(out, "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f"
	    "7647aac7957"), "X25519: RFC 7748 5.2, second vector (top bit of "
	    "u set)");

	memcpy(k, basepoint, 32);
	memcpy(u, basepoint, 32);
	for (i = 1; i <= 1000; i++) {
		age_x25519(t, k, u);
		memcpy(u, k, 32);
		memcpy(k, t, 32);
		if (i == 1)
			ok(same_hex(k, "422c8e7a6227d7bca1350b3e2bb7279f7897b8"
			    "7bb6854b783c60e80311ae3079"), "X25519: RFC 7748 "
			    "5.2, 1 iteration");
	}
	ok(same_hex(k, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb9"
	    "4d99532c51"), "X25519: RFC 7748 5.2, 1000 iterations");

	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c"
	    "2a", a);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0"
	    "eb", b);
	age_x25519(ap, a, basepoint);
	age_x25519(bp, b, basepoint);
	ok(same_hex(ap, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a9"
	    "8eaa9b4e6a"), "X25519: RFC 7748 6.1, Alice's public key");
	ok(same_hex(bp, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e"
	    "146f882b4f"), "X25519: RFC 7748 6.1, Bob's public key");
	age_x25519(out, a, bp);
	age_x25519(t, b, ap);
	ok(same_hex(out, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09"
	    "b3c1e161742") && memcmp(out, t, 32) == 0,
	    "X25519: RFC 7748 6.1, shared secret both ways");

	memset(u, 0, 32);
	is_int(age_x25519(out, a, u), -1, "X25519: u = 0 gives all zeros");
	u[0] = 1;
	is_int(age_x25519(out, a, u), -1, "X25519: u = 1 gives all zeros");
}

static void
test_hkdf(void)
{
	uint8_t ikm[80], salt[80], info[80], okm[82];
	int i;

	memset(ikm, 0x0b, 22);
	for (i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	age_hkdf(okm, 42, salt, 13, ikm, 22, info, 10);
	ok(same_hex(okm, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02"
	    "d56ecc4c5bf34007208d5b887185865"), "HKDF: RFC 5869 test case 1");
	for (i = 0; i < 80; i++) {
		ikm[i] = (uint8_t)i;
		salt[i] = (uint8_t)(0x60 + i);
		info[i] = (uint8_t)(0xb0 + i);
	}
	age_hkdf(okm, 82, salt, 80, ikm, 80, info, 80);
	ok(same_hex(okm, "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050c"
	    "c4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b83677"
	    "93a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"),
	    "HKDF: RFC 5869 test case 2");
	memset(ikm, 0x0b, 22);
	age_hkdf(okm, 42, "", 0, ikm, 22, "", 0);
	ok(same_hex(okm, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454"
	    "e5f3c738d2d9d201395faa4b61a96c8"), "HKDF: RFC 5869 test case 3");
}

static void
test_aead(void)
{
	static const char pt[] = "Ladies and Gentlemen of the class of '99: "
	    "If I could offer you only one tip for the future, sunscreen "
	    "would be it.";
	static const char ct[] = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e0"
	    "8fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060"
	    "b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad67"
	    "5945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116";
	uint8_t key[32], nonce[12], aad[12], tag[16], buf[sizeof pt];
	size_t n = sizeof pt - 1;
	int i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	unhex("070000004041424344454647", nonce);
	unhex("50515253c0c1c2c3c4c5c6c7", aad);
	memcpy(buf, pt, n);
	age_aead_seal(key, nonce, aad, sizeof aad, buf, n, tag);
	ok(same_hex(buf, ct), "AEAD: RFC 8439 2.8.2 ciphertext");
	ok(same_hex(tag, "1ae10b594f09e26a7e902ecbd0600691"),
	    "AEAD: RFC 8439 2.8.2 tag");
	is_int(age_aead_open(key, nonce, aad, sizeof aad, buf, n, tag), 0,
	    "AEAD: opens");
	ok(memcmp(buf, pt, n) == 0, "AEAD: plaintext back");
	age_aead_seal(key, nonce, aad, sizeof aad, buf, n, tag);
	tag[15] ^= 1;
	is_int(age_aead_open(key, nonce, aad, sizeof aad, buf, n, tag), -1,
	    "AEAD: a wrong tag is refused");
	ok(same_hex(buf, ct), "AEAD: ... and the ciphertext is left as it was");
	tag[15] ^= 1;
	is_int(age_aead_open(key, nonce, aad, 11, buf, n, tag), -1,
	    "AEAD: other AAD is refused");
}

static void
test_bech32(void)
{
	static const char *valid[] = {
		"A12UEL5L", "a12uel5l",
		"an83characterlonghumanreadablepartthatcontainsthenumber1and"
		"theexcludedcharactersbio1tt5tgs",
		"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
		"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
		"?1ezyfcl",
	};
	static const struct { const char *s, *why; } invalid[] = {
		{ "pzry9x0s0muk", "no separator" },
		{ "1pzry9x0s0muk", "empty prefix" },
		{ "x1b4n0q5v", "bad character" },
		{ "li1dgmt3", "too short" },
		{ "A1G7SGD8", "bad checksum" },
		{ "10a06t8", "empty prefix" },
		{ "a12UEL5L", "mixed case" },
		{ "a12uel5m", "bad checksum" },
		{ " 1nwldj5", "bad character" },
	};
	char hrp[100], s[200];
	uint8_t data[64], back[64];
	const char *why;
	size_t i, n;

	for (i = 0; i < sizeof valid / sizeof *valid; i++) {
		why = age_bech32_decode(valid[i], strlen(valid[i]), hrp,
		    sizeof hrp, data, sizeof data, &n);
		ok(why == NULL, "Bech32: BIP 173 valid string %zu%s%s", i,
		    why ? ": " : "", why ? why : "");
	}
	for (i = 0; i < sizeof invalid / sizeof *invalid; i++) {
		why = age_bech32_decode(invalid[i].s, strlen(invalid[i].s),
		    hrp, sizeof hrp, data, sizeof data, &n);
		is_str(why, invalid[i].why, "Bech32: %s is refused",
		    invalid[i].s);
	}
	age_bech32_decode(valid[3], strlen(valid[3]), hrp, sizeof hrp, data,
	    sizeof data, &n);
	ok(n == 20 && same_hex(data, "00443214c74254b635cf84653a56d7c675be77"
	    "df"), "Bech32: the data of abcdef1...");
	is_str(hrp, "abcdef", "Bech32: ... and its prefix");

	fill(data, 32, 7);
	is_int(age_bech32_encode(s, sizeof s, "age-secret-key-", data, 32), 74,
	    "Bech32: encodes 32 bytes in 74 characters");
	why = age_bech32_decode(s, strlen(s), hrp, sizeof hrp, back,
	    sizeof back, &n);
	ok(why == NULL && n == 32 && memcmp(back, data, 32) == 0 &&
	    strcmp(hrp, "age-secret-key-") == 0, "Bech32: round trip");
	for (i = 0; s[i]; i++)
		if (s[i] >= 'a' && s[i] <= 'z')
			s[i] = (char)(s[i] - 'a' + 'A');
	why = age_bech32_decode(s, strlen(s), hrp, sizeof hrp, back,
	    sizeof back, &n);
	ok(why == NULL && n == 32 && memcmp(back, data, 32) == 0,
	    "Bech32: round trip in upper case");
	is_int(age_bech32_encode(s, 74, "age-secret-key-", data, 32), -1,
	    "Bech32: a buffer too small is refused");
}

static void
test_keys(void)
{
	struct age_keys ids, rs;
	char err[128], rcpt[AGE_RECIPIENT_MAX], text[2048], *p;
	uint8_t pub[32];
	int i;

	is_int(age_parse_identities(KEYGEN_ID, &ids, err, sizeof err), 0,
	    "keys: age-keygen's identity parses");
	age_identity_recipient(ids.k[0], rcpt);
	is_str(rcpt, KEYGEN_RCPT, "keys: ... and gives age-keygen's recipient");
	is_int(age_parse_recipients(KEYGEN_RCPT, &rs, err, sizeof err), 0,
	    "keys: age-keygen's recipient parses");
	age_x25519(pub, ids.k[0], basepoint);
	ok(rs.n == 1 && memcmp(rs.k[0], pub, 32) == 0,
	    "keys: ... to the identity's public key");
	is_int(age_parse_identities(SPEC_ID, &ids, err, sizeof err), 0,
	    "keys: the spec's identity parses");
	age_identity_recipient(ids.k[0], rcpt);
	is_str(rcpt, SPEC_RCPT, "keys: ... and gives the spec's recipient");

	snprintf(text, sizeof text, "# created: 2026-01-01\n\n  %s\r\n"
	    "\t# public key: %s\n%s %s\n", KEYGEN_ID, KEYGEN_RCPT, SPEC_ID,
	    KEYGEN_ID);
	is_int(age_parse_identities(text, &ids, err, sizeof err), 0,
	    "keys: comments, blank lines, CR and two keys on a line");
	is_int(ids.n, 3, "keys: ... three identities");
	for (p = text; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	is_int(age_parse_identities(text, &ids, err, sizeof err), 0,
	    "keys: identities in lower case");

	snprintf(text, sizeof text, "%s\n%s", KEYGEN_ID, KEYGEN_ID);
	/* One character of the data part for another. */
	p = text + strlen(KEYGEN_ID) + 20;
	*p = *p == 'Q' ? 'P' : 'Q';
	is_int(age_parse_identities(text, &ids, err, sizeof err), -1,
	    "keys: a damaged identity is refused");
	is_str(err, "identity 2: bad checksum", "keys: ... saying which");
	is_int(ids.n, 0, "keys: ... and nothing is kept");
	snprintf(text, sizeof text, "%s", KEYGEN_ID);
	text[30] = (char)(text[30] - 'A' + 'a');
	age_parse_identities(text, &ids, err, sizeof err);
	is_str(err, "identity 1: mixed case", "keys: mixed case is refused");
	ok(strstr(err, "AGE") == NULL && strstr(err, "age") == NULL,
	    "keys: the message quotes no key");
	age_parse_identities(KEYGEN_RCPT, &ids, err, sizeof err);
	is_str(err, "identity 1: not an X25519 identity",
	    "keys: a recipient is not an identity");
	age_parse_recipients(KEYGEN_ID, &rs, err, sizeof err);
	is_str(err, "recipient 1: not an X25519 recipient",
	    "keys: an identity is not a recipient");
	age_parse_recipients("# nothing\n\n", &rs, err, sizeof err);
	is_str(err, "no recipient", "keys: no key is refused");
	age_parse_recipients(KEYGEN_RCPT " # inline", &rs, err, sizeof err);
	is_str(err, "recipient 2: no separator",
	    "keys: '#' after a key is not a comment");
	text[0] = '\0';
	for (i = 0; i < 9; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text),
		    "%s\n", KEYGEN_RCPT);
	age_parse_recipients(text, &rs, err, sizeof err);
	is_str(err, "more than 8 recipient keys", "keys: nine are refused");
	memset(pub, 0, 32);
	age_bech32_encode(rcpt, sizeof rcpt, "age", pub, 32);
	age_parse_recipients(rcpt, &rs, err, sizeof err);
	is_str(err, "recipient 1: a low-order point",
	    "keys: a low-order recipient is refused");
	age_bech32_encode(rcpt, sizeof rcpt, "age", pub, 31);
	age_parse_recipients(rcpt, &rs, err, sizeof err);
	is_str(err, "recipient 1: not 32 bytes", "keys: 31 bytes are refused");
	age_keys_wipe(&ids);
	ok(ids.n == 0 && ids.k[0][0] == 0, "keys: wiped");
}

static void
test_known_file(void)
{
	struct age_keys ids;
	struct out o = { 0 };
	unsigned char file[512];
	char err[128];
	size_t n = strlen(small_hdr);

	memcpy(file, small_hdr, n);
	n += unhex(small_payload, file + n);
	age_parse_identities(KEYGEN_ID, &ids, err, sizeof err);
	is_int(open_file(&ids, file, n, n, &o, err, sizeof err), 0,
	    "age 1.1.1's file opens%s%s", *err ? ": " : "", err);
	ok(o.n == 11 && memcmp(o.p, "hello, age\n", 11) == 0,
	    "... to its plaintext");
	o.n = 0;
	is_int(open_file(&ids, file, n, 1, &o, err, sizeof err), 0,
	    "... pushed a byte at a time");
	ok(o.n == 11 && memcmp(o.p, "hello, age\n", 11) == 0, "... the same");
	ok(age_is_age(file, n) && !age_is_age(file, 18) &&
	    !age_is_age("\x04\x22\x4d\x18", 4), "age_is_age");
	free(o.p);
}

/* Identities 1..3 and their recipients. */
static void
make_keys(struct age_keys *ids, struct age_keys *rs, int n)
{
	int i;

	memset(ids, 0, sizeof *ids);
	memset(rs, 0, sizeof *rs);
	for (i = 0; i < n; i++) {
		fill(ids->k[i], 32, (uint32_t)i + 100);
		age_x25519(rs->k[i], ids->k[i], basepoint);
	}
	ids->n = rs->n = n;
}

static void
test_round_trips(void)
{
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537, 3 * 65536,
	    200000 };
	static const size_t steps[] = { 1, 4093, 65552, 1 << 20 };
	struct age_keys ids, rs, one;
	struct out o = { 0 };
	unsigned char *p, *c;
	char err[128];
	size_t i, len, chunks, want;
	int nr, rc, k = 0;

	p = malloc(200000);
	fill(p, 200000, 1);
	for (nr = 1; nr <= 3; nr++) {
		make_keys(&ids, &rs, nr);
		one.n = 1;
		memcpy(one.k[0], ids.k[nr - 1], 32);
		for (i = 0; i < sizeof sizes / sizeof *sizes; i++) {
			c = seal(&rs, p, sizes[i], 1000 + i * 7919, &len);
			chunks = sizes[i] == 0 ? 1 :
			    (sizes[i] + AGE_CHUNK - 1) / AGE_CHUNK;
			want = 22 + (size_t)nr * 98 + 48 + 16 + sizes[i] +
			    chunks * AGE_TAG_LEN;
			o.n = 0;
			rc = open_file(&one, c, len, steps[k++ % 4], &o, err,
			    sizeof err);
			ok(rc == 0 && len == want && o.n == sizes[i] &&
			    (o.n == 0 || memcmp(o.p, p, o.n) == 0),
			    "round trip: %zu bytes, %d recipient(s), "
			    "identity %d%s%s", sizes[i], nr, nr, rc ? ": " : "",
			    err);
			free(c);
		}
	}
	free(o.p);
	free(p);
}

/* A file of size bytes to one or two recipients, and checks that a
 * damaged copy is refused with want. */
static void
refused(const char *what, size_t size, int nr, void (*damage)(unsigned char
    *, size_t *, size_t), size_t arg, const char *want)
{
	struct age_keys ids, rs, one;
	struct out o = { 0 };
	unsigned char *p, *c;
	char err[128];
	size_t len;
	int rc;

	make_keys(&ids, &rs, nr);
	one.n = 1;
	memcpy(one.k[0], ids.k[0], 32);
	p = malloc(size + 1);
	fill(p, size, 2);
	c = seal(&rs, p, size, 65536, &len);
	c = realloc(c, len + 1);
	damage(c, &len, arg);
	rc = open_file(&one, c, len, 4096, &o, err, sizeof err);
	is_int(rc, -1, "refused: %s", what);
	is_str(err, want, "... %s", want);
	free(c);
	free(p);
	free(o.p);
}

static size_t
header_len(const unsigned char *c)
{
	return (size_t)((unsigned char *)strstr((const char *)c, "\n---") -
	    c) + 1 + 48;
}

static void
flip(unsigned char *c, size_t *len, size_t off)
{
	c[off] ^= 0x01;
}

/* One base64 character for another, away from the end of its string so
 * that the encoding stays canonical. */
static void
other_b64(unsigned char *s)
{
	*s = *s == 'A' ? 'B' : 'A';
}

static void
flip_line(unsigned char *c, size_t *len, size_t line)
{
	unsigned char *s = c;

	while (line-- > 0)
		s = (unsigned char *)strchr((char *)s, '\n') + 1;
	other_b64(s + 20);
}

static void
flip_mac(unsigned char *c, size_t *len, size_t unused)
{
	other_b64(c + header_len(c) - 20);
}

static void
cut(unsigned char *c, size_t *len, size_t keep)
{
	*len = keep;
}

static void
flip_payload(unsigned char *c, size_t *len, size_t off)
{
	c[header_len(c) + off] ^= 0x80;
}

static void
cut_payload(unsigned char *c, size_t *len, size_t keep)
{
	*len = header_len(c) + keep;
}

static void
append(unsigned char *c, size_t *len, size_t byte)
{
	c[(*len)++] = (unsigned char)byte;
}

static void
test_refusals(void)
{
	const size_t sealed = AGE_CHUNK + AGE_TAG_LEN;

	refused("the version line", 100, 1, flip, 20,
	    "unsupported age format version");
	refused("the magic", 100, 1, flip, 0, "not an age file");
	refused("the body of the only stanza", 100, 1, flip_line, 2,
	    "no identity matches the file's recipients");
	refused("the share of the other stanza", 100, 2, flip_line, 3,
	    "header MAC mismatch");
	refused("the MAC", 100, 1, flip_mac, 0, "header MAC mismatch");
	refused("the payload nonce", 100, 1, flip_payload, 3,
	    "chunk 0 fails authentication");
	refused("a byte of chunk 1", 200000, 1, flip_payload, 16 + sealed + 9,
	    "chunk 1 fails authentication");
	refused("the tag of the final chunk", 200000, 1, flip_payload,
	    16 + 3 * sealed + 200000 - 3 * 65536 + 15,
	    "chunk 3 fails authentication");
	refused("cut after chunk 0", 3 * 65536, 1, cut_payload, 16 + sealed,
	    "age file is truncated after chunk 0");
	refused("cut after chunk 1", 3 * 65536, 1, cut_payload,
	    16 + 2 * sealed, "age file is truncated after chunk 1");
	refused("cut inside chunk 2", 3 * 65536, 1, cut_payload,
	    16 + 2 * sealed + 1000, "chunk 2 fails authentication");
	refused("cut inside a tag", 3 * 65536, 1, cut_payload,
	    16 + 2 * sealed + 15, "chunk 2 is truncated");
	refused("cut after the nonce", 3 * 65536, 1, cut_payload, 16,
	    "age file has no payload chunk");
	refused("cut inside the nonce", 10, 1, cut_payload, 15,
	    "age file is truncated in the payload nonce");
	refused("cut inside the header", 10, 1, cut_payload, -(size_t)5,
	    "age header is truncated");
	refused("a byte after a full final chunk", 3 * 65536, 1, append, 0,
	    "data after the final chunk 2");
	refused("a byte after a short final chunk", 200000, 1, append, 0,
	    "chunk 3 fails authentication");
	refused("a byte after an empty file", 0, 1, append, 0,
	    "chunk 0 fails authentication");
	refused("an empty file", 0, 1, cut, 0, "not an age file (empty)");
}

static void
test_other_refusals(void)
{
	struct age_keys ids, rs, wrong;
	struct out o = { 0 };
	unsigned char *p, *c, *d;
	char err[128];
	size_t len, h, n;
	struct age_dec dec;
	int rc;

	make_keys(&ids, &rs, 3);
	wrong = ids;
	wrong.k[0][1] ^= 1;	/* not [0]: clamping clears its low bits */
	wrong.n = 1;
	p = malloc(3 * 65536);
	fill(p, 3 * 65536, 3);
	c = seal(&rs, p, 3 * 65536, 65536, &len);
	is_int(open_file(&wrong, c, len, len, &o, err, sizeof err), -1,
	    "a wrong identity is refused");
	is_str(err, "no identity matches the file's recipients",
	    "... no identity matches");
	memcpy(wrong.k[0], rs.k[0], 32);	/* a public key as identity */
	open_file(&wrong, c, len, len, &o, err, sizeof err);
	is_str(err, "no identity matches the file's recipients",
	    "... nor a recipient used as an identity");

	/* The last chunk is held until finish. */
	o.n = 0;
	age_dec_init(&dec, &ids, collect, &o);
	is_int(age_dec_push(&dec, c, len), 0, "push of the whole file");
	is_int(o.n, 2 * 65536, "... gives all but the final chunk");
	is_int(age_dec_finish(&dec), 0, "finish");
	ok(o.n == 3 * 65536 && memcmp(o.p, p, o.n) == 0,
	    "... gives the final chunk");
	is_int(age_dec_push(&dec, "x", 1), -1, "a push after finish fails");
	age_dec_free(&dec);

	/* A sink that stops. */
	o.n = 0;
	o.stop_at = 65536 + 1;
	rc = open_file(&ids, c, len, len, &o, err, sizeof err);
	is_int(rc, -2, "a sink that stops: -2");
	is_str(err, "stopped by the sink", "... stopped by the sink");
	o.stop_at = 0;

	/* Stanzas of another type are skipped; a malformed X25519 one
	 * is not. */
	h = header_len(c);
	d = malloc(len + 200);
	n = (size_t)(strchr((char *)c, '\n') - (char *)c) + 1;
	memcpy(d, c, n);
	memcpy(d + n, "-> other-type a b\nAAAA\n", 23);
	memcpy(d + n + 23, c + n, len - n);
	open_file(&ids, d, len + 23, len, &o, err, sizeof err);
	is_str(err, "header MAC mismatch",
	    "an unknown stanza is read and covered by the MAC");
	memcpy(d + n, "-> X25519 a\nAAAA\n", 17);
	memcpy(d + n + 17, c + n, len - n);
	open_file(&ids, d, len + 17, len, &o, err, sizeof err);
	is_str(err, "age header line 2: malformed X25519 stanza",
	    "a malformed X25519 stanza fails the file");
	memcpy(d + n, "->  X25519\n\n", 12);
	memcpy(d + n + 12, c + n, len - n);
	open_file(&ids, d, len + 12, len, &o, err, sizeof err);
	is_str(err, "age header line 2: malformed stanza",
	    "an empty argument fails the file");
	memcpy(d, c, len);
	memcpy(d + h - 45, "=", 1);
	open_file(&ids, d, len, len, &o, err, sizeof err);
	is_str(err, "age header line 8: malformed MAC line",
	    "a MAC line without its space");
	memcpy(d, c, h - 1);
	d[h - 1] = '\r';
	memcpy(d + h, c + h - 1, len - h + 1);
	open_file(&ids, d, len + 1, len, &o, err, sizeof err);
	is_str(err, "age header line 8: malformed MAC line",
	    "a MAC line ending in CR LF");
	free(d);
	free(c);
	free(p);
	free(o.p);
}

int
main(void)
{
	test_x25519();
	test_hkdf();
	test_aead();
	test_bech32();
	test_keys();
	test_known_file();
	test_round_trips();
	test_refusals();
	test_other_refusals();
	return tap_done();
}
