/* age: age v1 files with X25519 recipients, on BearSSL (see age.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <bearssl.h>

#include "age.h"
#include "enc.h"
#include "fsx.h"

#define VERSION_LINE	"age-encryption.org/v1"
#define X25519_INFO	"age-encryption.org/v1/X25519"
#define SEALED		(AGE_CHUNK + AGE_TAG_LEN)
#define FILE_KEY_LEN	16
#define NONCE_LEN	16
#define B64_32		43	/* base64 characters of 32 bytes */
#define BODY_COLS	64

/* "-> X25519 " SHARE LF BODY LF */
#define STANZA_LEN	(10 + B64_32 + 1 + B64_32 + 1)
/* Version line, stanzas, "--- " MAC LF, payload nonce. */
#define HEADER_MAX	(sizeof VERSION_LINE + AGE_MAX_KEYS * STANZA_LEN + \
			4 + B64_32 + 1 + NONCE_LEN)

enum { D_HEADER, D_NONCE, D_PAYLOAD, D_DONE, D_FAILED, D_STOPPED };
enum { H_VERSION, H_STANZA, H_BODY };

static const uint8_t basepoint[32] = { 9 };
static const uint8_t zero_nonce[12];
static const char b32chars[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The primitives. */

/*
 * BearSSL 0.6 takes the Curve25519 multiplier little-endian, as RFC 7748
 * writes scalars; later BearSSL trees take it big-endian. Both clamp it
 * as RFC 7748 does and mask the top bit of u. Which one is linked shows
 * in RFC 7748's own example (section 6.1): Alice's key times the base
 * point. One more multiplication per call is nothing next to the I/O of
 * a file, and keeps this free of state.
 */
static int
scalar_big_endian(void)
{
	static const uint8_t alice[32] = {
		0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d,
		0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
		0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a,
		0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a
	};
	static const uint8_t alice_pub[32] = {
		0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54,
		0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
		0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4,
		0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a
	};
	uint8_t p[32] = { 9 };

	br_ec_c25519_m31.mul(p, 32, alice, 32, BR_EC_curve25519);
	return memcmp(p, alice_pub, 32) != 0;
}

int
age_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t u[32])
{
	uint8_t k[32], p[32], acc = 0;
	int i, rev = scalar_big_endian();

	for (i = 0; i < 32; i++)
		k[i] = rev ? scalar[31 - i] : scalar[i];
	memcpy(p, u, 32);
	br_ec_c25519_m31.mul(p, 32, k, 32, BR_EC_curve25519);
	for (i = 0; i < 32; i++)
		acc |= p[i];
	memcpy(out, p, 32);
	explicit_bzero(k, sizeof k);
	explicit_bzero(p, sizeof p);
	return acc == 0 ? -1 : 0;
}

void
age_hkdf(void *out, size_t outlen, const void *salt, size_t saltlen,
    const void *ikm, size_t ikmlen, const void *info, size_t infolen)
{
	br_hkdf_context hc;

	/* A zero-length salt is HMAC's empty key, which RFC 5869 makes
	 * equal to the absent salt (HashLen zero bytes). */
	br_hkdf_init(&hc, &br_sha256_vtable, salt, saltlen);
	br_hkdf_inject(&hc, ikm, ikmlen);
	br_hkdf_flip(&hc);
	br_hkdf_produce(&hc, info, infolen, out, outlen);
	explicit_bzero(&hc, sizeof hc);
}

static br_chacha20_run
chacha(void)
{
	br_chacha20_run r = br_chacha20_sse2_get();

	return r != NULL ? r : br_chacha20_ct_run;
}

static br_poly1305_run
poly(void)
{
	br_poly1305_run r = br_poly1305_ctmulq_get();

	return r != NULL ? r : br_poly1305_ctmul_run;
}

void
age_aead_seal(const uint8_t key[32], const uint8_t nonce[12],
    const void *aad, size_t aadlen, void *p, size_t n, uint8_t tag[16])
{
	poly()(key, nonce, p, n, aad, aadlen, tag, chacha(), 1);
}

static int
ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

int
age_aead_open(const uint8_t key[32], const uint8_t nonce[12],
    const void *aad, size_t aadlen, void *p, size_t n,
    const uint8_t tag[16])
{
	uint8_t t[16];
	int good;

	/* BearSSL tags the ciphertext, then decrypts it in place. */
	poly()(key, nonce, p, n, aad, aadlen, t, chacha(), 0);
	good = ct_equal(t, tag, sizeof t);
	if (!good)
		/* Put the ciphertext back: ChaCha20 from block 1 (block 0
		 * made the Poly1305 key) is its own inverse. */
		chacha()(key, nonce, 1, p, n);
	return good ? 0 : -1;
}

static void
hmac_sha256(uint8_t out[32], const uint8_t key[32], const void *p, size_t n)
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, 32);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, p, n);
	br_hmac_out(&hc, out);
	explicit_bzero(&kc, sizeof kc);
	explicit_bzero(&hc, sizeof hc);
}

static int
random_bytes(void *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p = (unsigned char *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

/* Unpadded base64. */

static void
b64_encode(const void *p, size_t n, char *out)
{
	char *eq;

	enc_base64(p, n, out);
	if ((eq = strchr(out, '=')) != NULL)
		*eq = '\0';
}

static int
b64_value(int c)
{
	const char *s;

	if (c == '\0' || (s = strchr(b64chars, c)) == NULL)
		return -1;
	return (int)(s - b64chars);
}

/* Decodes n characters of canonical unpadded base64 into out (3n/4
 * bytes). Returns the length, or -1: a character outside the alphabet
 * (padding included), a length no encoding has, or unused bits that are
 * not zero. */
static long
b64_decode(const char *s, size_t n, uint8_t *out)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v = b64_value((unsigned char)s[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return acc == 0 ? (long)o : -1;
}

/* Bech32 (BIP 173). */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static uint32_t
polymod(uint32_t c, unsigned v)
{
	static const uint32_t gen[5] = {
		0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3
	};
	uint32_t top = c >> 25;
	int i;

	c = (c & 0x1ffffff) << 5 ^ v;
	for (i = 0; i < 5; i++)
		if (top >> i & 1)
			c ^= gen[i];
	return c;
}

/* The checksum state after the expanded HRP, in lower case. */
static uint32_t
hrp_state(const char *hrp, size_t n)
{
	uint32_t c = 1;
	size_t i;

	for (i = 0; i < n; i++)
		c = polymod(c, (unsigned)lower((unsigned char)hrp[i]) >> 5);
	c = polymod(c, 0);
	for (i = 0; i < n; i++)
		c = polymod(c, (unsigned)lower((unsigned char)hrp[i]) & 31);
	return c;
}

int
age_bech32_encode(char *out, size_t cap, const char *hrp, const void *data,
    size_t n)
{
	const uint8_t *p = data;
	size_t h = strlen(hrp), need, o, i;
	uint32_t c, acc = 0;
	int bits = 0;

	need = h + 1 + (n * 8 + 4) / 5 + 6 + 1;
	if (cap < need)
		return -1;
	for (o = 0; o < h; o++)
		out[o] = (char)lower((unsigned char)hrp[o]);
	out[o++] = '1';
	c = hrp_state(hrp, h);
	for (i = 0; i < n || bits > 0; ) {
		if (bits < 5 && i < n) {
			acc = acc << 8 | p[i++];
			bits += 8;
		}
		if (bits < 5) {
			/* The last group, padded with zero bits. */
			acc <<= 5 - bits;
			bits = 5;
		}
		bits -= 5;
		c = polymod(c, acc >> bits & 31);
		out[o++] = b32chars[acc >> bits & 31];
		acc &= (1u << bits) - 1;
	}
	for (i = 0; i < 6; i++)
		c = polymod(c, 0);
	c ^= 1;
	for (i = 0; i < 6; i++)
		out[o++] = b32chars[c >> (5 * (5 - i)) & 31];
	out[o] = '\0';
	return (int)o;
}

static int
b32_value(int c)
{
	const char *s;

	if (c == '\0' || (s = strchr(b32chars, lower(c))) == NULL)
		return -1;
	return (int)(s - b32chars);
}

const char *
age_bech32_decode(const char *s, size_t len, char *hrp, size_t hrpcap,
    void *data, size_t cap, size_t *n)
{
	uint8_t *out = data;
	size_t sep, i, o = 0;
	uint32_t c, acc = 0;
	int up = 0, low = 0, bits = 0, v;

	for (sep = len; sep > 0 && s[sep - 1] != '1'; sep--)
		;
	if (sep == 0)
		return "no separator";
	sep--;
	if (sep == 0)
		return "empty prefix";
	if (len - sep - 1 < 6)
		return "too short";
	for (i = 0; i < len; i++) {
		if (s[i] < 33 || s[i] > 126)
			return "bad character";
		up |= s[i] >= 'A' && s[i] <= 'Z';
		low |= s[i] >= 'a' && s[i] <= 'z';
	}
	if (up && low)
		return "mixed case";
	if (sep + 1 > hrpcap)
		return "prefix too long";
	for (i = 0; i < sep; i++)
		hrp[i] = (char)lower((unsigned char)s[i]);
	hrp[sep] = '\0';
	c = hrp_state(s, sep);
	for (i = sep + 1; i < len; i++) {
		if ((v = b32_value((unsigned char)s[i])) < 0)
			return "bad character";
		c = polymod(c, (unsigned)v);
		if (i >= len - 6)
			continue;
		acc = acc << 5 | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o == cap)
				return "too long";
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (c != 1)
		return "bad checksum";
	if (bits >= 5 || acc != 0)
		return "bad padding";
	*n = o;
	return NULL;
}

/* Key files. */

static int
blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Checks one key string and appends its 32 bytes to out. */
static const char *
parse_key(const char *s, size_t len, const char *want_hrp, int secret,
    struct age_keys *out)
{
	char hrp[32];
	uint8_t k[64], sh[32];
	const char *why;
	size_t n;

	if ((why = age_bech32_decode(s, len, hrp, sizeof hrp, k, sizeof k,
	    &n)) != NULL) {
		explicit_bzero(k, sizeof k);
		return why;
	}
	if (strcmp(hrp, want_hrp) != 0) {
		explicit_bzero(k, sizeof k);
		return secret ? "not an X25519 identity" :
		    "not an X25519 recipient";
	}
	if (n != AGE_KEY_LEN) {
		explicit_bzero(k, sizeof k);
		return "not 32 bytes";
	}
	/* Every clamped scalar sends a point of small order to zero, so
	 * any fixed one finds a recipient no file could be sealed to. */
	if (!secret && age_x25519(sh, basepoint, k) < 0)
		return "a low-order point";
	memcpy(out->k[out->n++], k, AGE_KEY_LEN);
	explicit_bzero(k, sizeof k);
	return NULL;
}

static int
parse_keys(const char *text, struct age_keys *out, const char *what,
    const char *hrp, int secret, char *err, size_t errlen)
{
	const char *p = text, *t, *why;
	int pos = 0, bol = 1;

	memset(out, 0, sizeof *out);
	while (*p != '\0') {
		if (blank((unsigned char)*p)) {
			p++;
			continue;
		}
		if (*p == '\n' || (bol && *p == '#')) {
			/* The rest of the line; a comment only at its
			 * start, as in age's own key files. */
			while (*p != '\0' && *p++ != '\n')
				;
			bol = 1;
			continue;
		}
		for (t = p; *t != '\0' && *t != '\n' &&
		    !blank((unsigned char)*t); t++)
			;
		bol = 0;
		pos++;
		if (out->n == AGE_MAX_KEYS) {
			snprintf(err, errlen, "more than %d %s keys",
			    AGE_MAX_KEYS, what);
			goto fail;
		}
		if ((why = parse_key(p, (size_t)(t - p), hrp, secret,
		    out)) != NULL) {
			snprintf(err, errlen, "%s %d: %s", what, pos, why);
			goto fail;
		}
		p = t;
	}
	if (out->n == 0) {
		snprintf(err, errlen, "no %s", what);
		goto fail;
	}
	return 0;
fail:
	age_keys_wipe(out);
	return -1;
}

int
age_parse_recipients(const char *text, struct age_keys *out, char *err,
    size_t errlen)
{
	return parse_keys(text, out, "recipient", "age", 0, err, errlen);
}

int
age_parse_identities(const char *text, struct age_keys *out, char *err,
    size_t errlen)
{
	return parse_keys(text, out, "identity", "age-secret-key-", 1, err,
	    errlen);
}

void
age_identity_recipient(const uint8_t priv[AGE_KEY_LEN], char *out)
{
	uint8_t pub[32];

	age_x25519(pub, priv, basepoint);
	age_bech32_encode(out, AGE_RECIPIENT_MAX, "age", pub, sizeof pub);
}

void
age_keys_wipe(struct age_keys *k)
{
	explicit_bzero(k, sizeof *k);
}

int
age_is_age(const void *p, size_t n)
{
	return n >= AGE_MAGIC_LEN && memcmp(p, AGE_MAGIC, AGE_MAGIC_LEN) == 0;
}

/* STREAM nonce: 11-byte big-endian chunk counter, then the last flag. */
static void
stream_nonce(uint8_t nonce[12], uint64_t counter, int last)
{
	int i;

	memset(nonce, 0, 12);
	for (i = 0; i < 8; i++)
		nonce[10 - i] = (uint8_t)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

/* Encryption. */

static size_t
put(char *h, size_t n, const char *s)
{
	memcpy(h + n, s, strlen(s));
	return n + strlen(s);
}

/* Appends a stanza sealing file_key to pub. 0, or -1 with errno. */
static int
put_stanza(char *h, size_t *n, const uint8_t file_key[FILE_KEY_LEN],
    const uint8_t pub[32])
{
	uint8_t eph[32], share[32], shared[32], salt[64], wrap[32], body[32];
	char b64[B64_32 + 3];
	int rc = -1;

	if (random_bytes(eph, sizeof eph) < 0)
		return -1;
	age_x25519(share, eph, basepoint);
	if (age_x25519(shared, eph, pub) < 0) {
		errno = EINVAL;
		goto out;
	}
	memcpy(salt, share, 32);
	memcpy(salt + 32, pub, 32);
	age_hkdf(wrap, sizeof wrap, salt, sizeof salt, shared, sizeof shared,
	    X25519_INFO, strlen(X25519_INFO));
	memcpy(body, file_key, FILE_KEY_LEN);
	age_aead_seal(wrap, zero_nonce, NULL, 0, body, FILE_KEY_LEN,
	    body + FILE_KEY_LEN);
	*n = put(h, *n, "-> X25519 ");
	b64_encode(share, sizeof share, b64);
	*n = put(h, *n, b64);
	*n = put(h, *n, "\n");
	/* 43 characters: the body is one line, shorter than 64. */
	b64_encode(body, sizeof body, b64);
	*n = put(h, *n, b64);
	*n = put(h, *n, "\n");
	rc = 0;
out:
	explicit_bzero(eph, sizeof eph);
	explicit_bzero(shared, sizeof shared);
	explicit_bzero(wrap, sizeof wrap);
	explicit_bzero(body, sizeof body);
	return rc;
}

/* The header and the payload nonce into h; sets the payload key. */
static int
make_header(struct age_enc *e, const struct age_keys *r, char *h, size_t *n)
{
	uint8_t file_key[FILE_KEY_LEN], mac_key[32], mac[32];
	char b64[B64_32 + 3];
	int i, rc = -1;

	if (random_bytes(file_key, sizeof file_key) < 0)
		return -1;
	*n = put(h, 0, VERSION_LINE "\n");
	for (i = 0; i < r->n; i++)
		if (put_stanza(h, n, file_key, r->k[i]) < 0)
			goto out;
	*n = put(h, *n, "---");
	age_hkdf(mac_key, sizeof mac_key, "", 0, file_key, sizeof file_key,
	    "header", 6);
	hmac_sha256(mac, mac_key, h, *n);
	b64_encode(mac, sizeof mac, b64);
	*n = put(h, *n, " ");
	*n = put(h, *n, b64);
	*n = put(h, *n, "\n");
	if (random_bytes(h + *n, NONCE_LEN) < 0)
		goto out;
	age_hkdf(e->key, sizeof e->key, h + *n, NONCE_LEN, file_key,
	    sizeof file_key, "payload", 7);
	*n += NONCE_LEN;
	rc = 0;
out:
	explicit_bzero(file_key, sizeof file_key);
	explicit_bzero(mac_key, sizeof mac_key);
	return rc;
}

int
age_enc_begin(struct age_enc *e, const struct age_keys *recipients, int fd)
{
	char h[HEADER_MAX];
	size_t n;

	memset(e, 0, sizeof *e);
	e->fd = fd;
	if (recipients->n < 1 || recipients->n > AGE_MAX_KEYS) {
		errno = EINVAL;
		return -1;
	}
	if ((e->buf = malloc(SEALED)) == NULL)
		return -1;
	if (make_header(e, recipients, h, &n) < 0 ||
	    fsx_write_all(fd, h, n) < 0) {
		age_enc_free(e);
		return -1;
	}
	return 0;
}

/* Seals the chunk in e->buf and writes it. */
static int
seal_chunk(struct age_enc *e, int last)
{
	uint8_t nonce[12];

	stream_nonce(nonce, e->counter, last);
	age_aead_seal(e->key, nonce, NULL, 0, e->buf, e->len, e->buf + e->len);
	if (fsx_write_all(e->fd, e->buf, e->len + AGE_TAG_LEN) < 0)
		return -1;
	e->counter++;
	e->len = 0;
	return 0;
}

int
age_enc_write(struct age_enc *e, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t k;

	if (e->buf == NULL) {
		errno = EINVAL;
		return -1;
	}
	while (n > 0) {
		/* A full chunk goes out only once more plaintext shows it
		 * is not the last. */
		if (e->len == AGE_CHUNK && seal_chunk(e, 0) < 0)
			return -1;
		k = AGE_CHUNK - e->len;
		if (k > n)
			k = n;
		memcpy(e->buf + e->len, s, k);
		e->len += k;
		s += k;
		n -= k;
	}
	return 0;
}

int
age_enc_end(struct age_enc *e)
{
	int rc;

	if (e->buf == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* Empty only if nothing was written at all, as the format wants. */
	rc = seal_chunk(e, 1);
	age_enc_free(e);
	return rc;
}

void
age_enc_free(struct age_enc *e)
{
	if (e->buf != NULL) {
		explicit_bzero(e->buf, SEALED);
		free(e->buf);
	}
	e->buf = NULL;
	e->len = 0;
	explicit_bzero(e->key, sizeof e->key);
}

/* Decryption. */

static void
wipe_secrets(struct age_dec *d)
{
	explicit_bzero(&d->ids, sizeof d->ids);
	explicit_bzero(d->file_key, sizeof d->file_key);
	explicit_bzero(d->key, sizeof d->key);
}

static int
fail(struct age_dec *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof d->err, fmt, ap);
	va_end(ap);
	d->state = D_FAILED;
	wipe_secrets(d);
	return -1;
}

int
age_dec_init(struct age_dec *d, const struct age_keys *identities,
    age_sink sink, void *ctx)
{
	int i;

	memset(d, 0, sizeof *d);
	if (identities->n < 1 || identities->n > AGE_MAX_KEYS) {
		errno = EINVAL;
		return -1;
	}
	if ((d->buf = malloc(SEALED)) == NULL)
		return -1;
	d->ids = *identities;
	for (i = 0; i < d->ids.n; i++)
		age_x25519(d->pub[i], d->ids.k[i], basepoint);
	d->sink = sink;
	d->ctx = ctx;
	d->state = D_HEADER;
	d->hstate = H_VERSION;
	return 0;
}

/* Tries every identity on the X25519 stanza just read. */
static int
unwrap(struct age_dec *d)
{
	struct age_dec_stanza *st = &d->st;
	uint8_t shared[32], salt[64], wrap[32], body[32];
	int i, rc = 0;

	for (i = 0; i < d->ids.n && !d->have_key; i++) {
		if (age_x25519(shared, d->ids.k[i], st->share) < 0) {
			rc = fail(d, "age header line %d: X25519 share is a "
			    "low-order point", st->lineno);
			break;
		}
		memcpy(salt, st->share, 32);
		memcpy(salt + 32, d->pub[i], 32);
		age_hkdf(wrap, sizeof wrap, salt, sizeof salt, shared,
		    sizeof shared, X25519_INFO, strlen(X25519_INFO));
		memcpy(body, st->body, sizeof body);
		if (age_aead_open(wrap, zero_nonce, NULL, 0, body,
		    FILE_KEY_LEN, body + FILE_KEY_LEN) == 0) {
			memcpy(d->file_key, body, FILE_KEY_LEN);
			d->have_key = 1;
		}
	}
	explicit_bzero(shared, sizeof shared);
	explicit_bzero(wrap, sizeof wrap);
	explicit_bzero(body, sizeof body);
	return rc;
}

/* "-> " ARG *(SP ARG), ARG = 1*VCHAR: s is what follows "-> ". */
static int
stanza_begin(struct age_dec *d, const char *s, size_t n)
{
	struct age_dec_stanza *st = &d->st;
	size_t i, start = 0, argc = 0, len;

	memset(st, 0, sizeof *st);
	st->lineno = d->lineno;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] > ' ' && s[i] < 127)
			continue;
		if ((i < n && s[i] != ' ') || i == start)
			return fail(d, "age header line %d: malformed stanza",
			    d->lineno);
		len = i - start;
		if (argc == 0)
			st->x25519 = len == 6 && memcmp(s, "X25519", 6) == 0;
		else if (argc == 1 && st->x25519 && (len != B64_32 ||
		    b64_decode(s + start, len, st->share) != 32))
			return fail(d, "age header line %d: malformed X25519 "
			    "stanza", d->lineno);
		argc++;
		start = i + 1;
	}
	if (st->x25519 && argc != 2)
		return fail(d, "age header line %d: malformed X25519 stanza",
		    d->lineno);
	d->nstanzas++;
	d->hstate = H_BODY;
	return 0;
}

/* A body line: 64 base64 characters, or fewer to end the stanza. */
static int
stanza_body(struct age_dec *d, const char *s, size_t n)
{
	struct age_dec_stanza *st = &d->st;
	uint8_t b[48];
	long k;

	if (n > BODY_COLS || (k = b64_decode(s, n, b)) < 0)
		return fail(d, "age header line %d: malformed stanza body",
		    d->lineno);
	if (st->x25519) {
		/* Checked before any decryption, as the spec asks. */
		if (st->bodylen + (size_t)k > sizeof st->body)
			return fail(d, "age header line %d: malformed X25519 "
			    "stanza", st->lineno);
		memcpy(st->body + st->bodylen, b, (size_t)k);
		st->bodylen += (size_t)k;
	}
	if (n == BODY_COLS)
		return 0;
	d->hstate = H_STANZA;
	if (!st->x25519)
		return 0;
	if (st->bodylen != sizeof st->body)
		return fail(d, "age header line %d: malformed X25519 stanza",
		    st->lineno);
	return unwrap(d);
}

/* "--- " MAC: s is the line, at offset off of the header. */
static int
header_end(struct age_dec *d, const char *s, size_t n, size_t off)
{
	uint8_t mac[32], want[32], mac_key[32];
	int same;

	if (n != 4 + B64_32 || s[3] != ' ' ||
	    b64_decode(s + 4, B64_32, want) != 32)
		return fail(d, "age header line %d: malformed MAC line",
		    d->lineno);
	if (d->nstanzas == 0)
		return fail(d, "age header has no recipient stanza");
	if (!d->have_key)
		return fail(d, "no identity matches the file's recipients");
	age_hkdf(mac_key, sizeof mac_key, "", 0, d->file_key, FILE_KEY_LEN,
	    "header", 6);
	hmac_sha256(mac, mac_key, d->buf, off + 3);
	same = ct_equal(mac, want, sizeof mac);
	explicit_bzero(mac_key, sizeof mac_key);
	if (!same)
		return fail(d, "header MAC mismatch");
	d->state = D_NONCE;
	return 0;
}

static int
header_line(struct age_dec *d, const char *s, size_t n, size_t off)
{
	switch (d->hstate) {
	case H_VERSION:
		if (n != strlen(VERSION_LINE) ||
		    memcmp(s, VERSION_LINE, n) != 0)
			return fail(d, "unsupported age format version");
		d->hstate = H_STANZA;
		return 0;
	case H_STANZA:
		if (n >= 3 && memcmp(s, "-> ", 3) == 0)
			return stanza_begin(d, s + 3, n - 3);
		if (n >= 3 && memcmp(s, "---", 3) == 0)
			return header_end(d, s, n, off);
		return fail(d, "age header line %d: not a stanza or the MAC",
		    d->lineno);
	default:
		return stanza_body(d, s, n);
	}
}

/* Once the payload nonce is in, the payload key replaces the file key. */
static void
payload_begin(struct age_dec *d)
{
	if (d->state != D_NONCE || d->len < NONCE_LEN)
		return;
	age_hkdf(d->key, sizeof d->key, d->buf, NONCE_LEN, d->file_key,
	    FILE_KEY_LEN, "payload", 7);
	explicit_bzero(d->file_key, sizeof d->file_key);
	explicit_bzero(&d->ids, sizeof d->ids);
	memmove(d->buf, d->buf + NONCE_LEN, d->len - NONCE_LEN);
	d->len -= NONCE_LEN;
	d->state = D_PAYLOAD;
}

/* Reads the whole lines in buf from d->line. When the MAC line ends the
 * header, moves what follows it to the start of buf. */
static int
header_scan(struct age_dec *d)
{
	unsigned char *nl;
	size_t start, k;

	if (d->hstate == H_VERSION) {
		k = d->len < AGE_MAGIC_LEN ? d->len : AGE_MAGIC_LEN;
		if (memcmp(d->buf, AGE_MAGIC, k) != 0)
			return fail(d, "not an age file");
	}
	while (d->state == D_HEADER && (nl = memchr(d->buf + d->line, '\n',
	    d->len - d->line)) != NULL) {
		start = d->line;
		d->line = (size_t)(nl - d->buf) + 1;
		d->lineno++;
		if (header_line(d, (char *)d->buf + start,
		    (size_t)(nl - d->buf) - start, start) < 0)
			return -1;
	}
	if (d->state == D_NONCE) {
		memmove(d->buf, d->buf + d->line, d->len - d->line);
		d->len -= d->line;
		payload_begin(d);
	}
	return 0;
}

/* Opens the sealed chunk in buf (at least a tag) and hands it to the
 * sink. A chunk that fails is tried with the other last flag, only to
 * tell truncation and trailing data from corruption. */
static int
open_chunk(struct age_dec *d, int last)
{
	uint8_t nonce[12];
	size_t n = d->len - AGE_TAG_LEN;
	unsigned long long i = (unsigned long long)d->counter;

	stream_nonce(nonce, d->counter, last);
	if (age_aead_open(d->key, nonce, NULL, 0, d->buf, n,
	    d->buf + n) < 0) {
		stream_nonce(nonce, d->counter, !last);
		if (age_aead_open(d->key, nonce, NULL, 0, d->buf, n,
		    d->buf + n) < 0)
			return fail(d, "chunk %llu fails authentication", i);
		if (last)
			return fail(d, "age file is truncated after chunk "
			    "%llu", i);
		return fail(d, "data after the final chunk %llu", i);
	}
	if (last && n == 0 && d->counter > 0)
		return fail(d, "final chunk %llu is empty", i);
	d->counter++;
	d->len = 0;
	if (n > 0 && d->sink(d->ctx, d->buf, n) < 0) {
		snprintf(d->err, sizeof d->err, "stopped by the sink");
		d->state = D_STOPPED;
		wipe_secrets(d);
		return -2;
	}
	return 0;
}

int
age_dec_push(struct age_dec *d, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t k = 0;
	int rc;

	while (n > 0) {
		switch (d->state) {
		case D_HEADER:
			if ((k = SEALED - d->len) == 0)
				return fail(d, "age header is longer than %d "
				    "bytes", SEALED);
			break;
		case D_NONCE:
			k = NONCE_LEN - d->len;
			break;
		case D_PAYLOAD:
			/* More input: the chunk held is not the last. */
			if (d->len == SEALED && (rc = open_chunk(d, 0)) < 0)
				return rc;
			k = SEALED - d->len;
			break;
		case D_DONE:
			return fail(d, "data pushed after the end");
		case D_STOPPED:
			return -2;
		default:
			return -1;
		}
		if (k > n)
			k = n;
		memcpy(d->buf + d->len, s, k);
		d->len += k;
		s += k;
		n -= k;
		if (d->state == D_HEADER && header_scan(d) < 0)
			return -1;
		payload_begin(d);
	}
	return 0;
}

int
age_dec_finish(struct age_dec *d)
{
	int rc;

	switch (d->state) {
	case D_HEADER:
		if (d->len == 0)
			return fail(d, "not an age file (empty)");
		return fail(d, "age header is truncated");
	case D_NONCE:
		return fail(d, "age file is truncated in the payload nonce");
	case D_PAYLOAD:
		break;
	case D_DONE:
		return 0;
	default:
		return -1;
	}
	if (d->len < AGE_TAG_LEN) {
		if (d->len == 0 && d->counter == 0)
			return fail(d, "age file has no payload chunk");
		return fail(d, "chunk %llu is truncated",
		    (unsigned long long)d->counter);
	}
	if ((rc = open_chunk(d, 1)) < 0)
		return rc;
	d->state = D_DONE;
	wipe_secrets(d);
	return 0;
}

void
age_dec_free(struct age_dec *d)
{
	if (d->buf != NULL) {
		explicit_bzero(d->buf, SEALED);
		free(d->buf);
	}
	d->buf = NULL;
	d->len = 0;
	wipe_secrets(d);
	explicit_bzero(&d->st, sizeof d->st);
}
