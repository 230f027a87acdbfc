/*
 * age: the age v1 file format (age-encryption.org/v1, c2sp.org/age) with
 * X25519 recipients, the encryption Litestream v0.3 can apply to each
 * replica object (raw, then one LZ4 frame, then age).
 *
 * An age file is a text header, then a binary payload:
 *
 *   age-encryption.org/v1 LF
 *   -> X25519 SHARE LF            one stanza per recipient; SHARE is the
 *   BODY LF                       base64 of a fresh ephemeral X25519
 *   ...                           public key, BODY of the 16-byte file
 *   --- SP MAC LF                 key sealed for that recipient (32 bytes,
 *                                 one line of 43 characters)
 *   NONCE                         16 random bytes
 *   chunk 0, chunk 1, ...         each up to 64 KiB of plaintext + 16-byte
 *                                 Poly1305 tag
 *
 * Base64 is RFC 4648's standard alphabet, unpadded and canonical. A
 * stanza is "-> " and space-separated arguments (1*VCHAR each), then its
 * body wrapped at 64 columns, ended by a line shorter than 64 (possibly
 * empty). Stanzas of other types are skipped when decrypting.
 *
 * Keys, all HKDF-SHA-256 with 32 bytes of output:
 *   wrap key    ikm = X25519(ephemeral, recipient),
 *               salt = SHARE || recipient, info "age-encryption.org/v1/X25519"
 *   MAC key     ikm = file key, salt empty, info "header"
 *   payload key ikm = file key, salt = NONCE, info "payload"
 * BODY is ChaCha20-Poly1305(wrap key, 12 zero bytes, file key). MAC is
 * HMAC-SHA-256(MAC key) over the header from its first byte through
 * "---" (not the space after it). Chunk i is ChaCha20-Poly1305(payload key,
 * nonce = i as 11 bytes big-endian || 0x01 if last else 0x00). Every chunk
 * but the last holds exactly 64 KiB; the last may be shorter, and is empty
 * only when the whole plaintext is. A file is valid only whole: a valid
 * final chunk ends it.
 *
 * Keys are written in Bech32 (BIP 173, without its length limit; all upper
 * or all lower case, the checksum over the lower case form): recipients
 * "age1..." (HRP "age"), identities "AGE-SECRET-KEY-1..." (HRP
 * "AGE-SECRET-KEY-"), each holding 32 bytes.
 */
#ifndef AGE_H
#define AGE_H

#include <stddef.h>
#include <stdint.h>

#define AGE_KEY_LEN	32
#define AGE_MAX_KEYS	8
#define AGE_CHUNK	65536	/* plaintext bytes of a full chunk */
#define AGE_TAG_LEN	16
#define AGE_RECIPIENT_MAX	80	/* an "age1..." string and its NUL */

/* Recipients (X25519 public keys) or identities (X25519 private scalars,
 * as written, unclamped). */
struct age_keys {
	int	n;
	uint8_t	k[AGE_MAX_KEYS][AGE_KEY_LEN];
};

/*
 * Parse the text of a recipients or identities file: keys separated by
 * blanks and newlines; lines whose first non-blank character is '#', and
 * blank lines, are ignored. Recipients are "age1..." strings, identities
 * "AGE-SECRET-KEY-1..." strings, in either case but not mixed case.
 * Returns 0, or -1 with a one-line reason in err naming the key by its
 * position ("identity 2: bad checksum") and never quoting it: no key, more
 * than AGE_MAX_KEYS, another key type, a bad checksum or length, or a
 * recipient that is a low-order point. On failure *out holds no key.
 */
int age_parse_recipients(const char *text, struct age_keys *out, char *err,
    size_t errlen);
int age_parse_identities(const char *text, struct age_keys *out, char *err,
    size_t errlen);
/* Writes the "age1..." recipient of an identity and a NUL into out
 * (AGE_RECIPIENT_MAX bytes). */
void age_identity_recipient(const uint8_t priv[AGE_KEY_LEN], char *out);
void age_keys_wipe(struct age_keys *k);

/*
 * Encryptor: one age file written to fd, a stanza per recipient in
 * order. Plaintext is held until a chunk fills and more follows, so at
 * most one chunk is in memory. Each returns 0, or -1 with errno: EINVAL
 * (no recipient, more than AGE_MAX_KEYS, a low-order recipient), ENOMEM,
 * getrandom(2)'s or write(2)'s error. end and free wipe the keys and the
 * buffer; after a failure, call free.
 */
struct age_enc {
	int		fd;
	unsigned char	*buf;		/* a chunk, room for its tag */
	size_t		len;		/* plaintext bytes in buf */
	uint64_t	counter;	/* chunks written */
	uint8_t		key[32];	/* payload key */
};

int age_enc_begin(struct age_enc *e, const struct age_keys *recipients,
    int fd);
int age_enc_write(struct age_enc *e, const void *p, size_t n);
int age_enc_end(struct age_enc *e);	/* the final chunk; frees */
void age_enc_free(struct age_enc *e);	/* abandons the file */

/*
 * Decryptor: age bytes are pushed in, plaintext comes out through sink
 * (0 to go on, -1 to stop) one authenticated chunk at a time. The chunk
 * last pushed is held back until more bytes arrive or finish is called,
 * since only the end of input tells whether it must be the final chunk.
 *
 * d->err says what was wrong, e.g. "not an age file", "unsupported age
 * format version", "age header line 3: malformed X25519 stanza", "no
 * identity matches the file's recipients", "header MAC mismatch", "chunk 3
 * fails authentication", "age file is truncated after chunk 2", "data
 * after the final chunk 4". Chunks count from 0, as the STREAM nonce does.
 * A stanza whose seal does not open with an identity is simply not
 * addressed to it; a malformed X25519 stanza, or one whose share gives an
 * all-zero secret, makes the whole file bad.
 */
typedef int (*age_sink)(void *ctx, const void *p, size_t n);

struct age_dec_stanza {			/* the stanza being read */
	int		x25519;		/* of type X25519 */
	int		lineno;		/* of its argument line */
	uint8_t		share[32];
	uint8_t		body[32];
	size_t		bodylen;
};

struct age_dec {
	struct age_keys	ids;
	uint8_t		pub[AGE_MAX_KEYS][AGE_KEY_LEN]; /* recipients */
	age_sink	sink;
	void		*ctx;
	unsigned char	*buf;		/* the header, then a chunk */
	size_t		len;		/* bytes in buf */
	size_t		line;		/* start of the unread line */
	int		state, hstate;
	int		lineno, nstanzas;
	struct age_dec_stanza st;
	int		have_key;
	uint8_t		file_key[16];
	uint8_t		key[32];	/* payload key */
	uint64_t	counter;	/* chunks opened */
	char		err[128];
};

/* 0, or -1 with errno (EINVAL: no identity or too many; ENOMEM). */
int age_dec_init(struct age_dec *d, const struct age_keys *identities,
    age_sink sink, void *ctx);
/* 0; -1 for bad data or no matching identity (d->err); -2 if the sink
 * stopped. After -1 or -2 every later call fails the same way. */
int age_dec_push(struct age_dec *d, const void *p, size_t n);
/* 0 if a whole age file ending in a valid final chunk was pushed (its
 * plaintext now all delivered); -1 otherwise (d->err); -2 if the sink
 * stopped at the final chunk. */
int age_dec_finish(struct age_dec *d);
void age_dec_free(struct age_dec *d);	/* wipes */

/* How an age file starts; AGE_MAGIC_LEN bytes tell one apart. */
#define AGE_MAGIC	"age-encryption.org/"
#define AGE_MAGIC_LEN	(sizeof AGE_MAGIC - 1)

/* 1 if p[0..n) starts with AGE_MAGIC, else 0. */
int age_is_age(const void *p, size_t n);

/*
 * The building blocks, for known-answer tests.
 *
 * age_x25519: RFC 7748's X25519(scalar, u), both little-endian; 0, or -1
 * if the result is all zeros (u is a low-order point).
 * age_hkdf: RFC 5869 HKDF-SHA-256, outlen at most 255 * 32.
 * age_aead_seal, age_aead_open: RFC 8439 ChaCha20-Poly1305 in place;
 * open returns 0, or -1 with p unchanged if the tag is wrong.
 * age_bech32_encode: writes hrp "1" data checksum, all lower case, and a
 * NUL; returns the length, or -1 if cap is too small.
 * age_bech32_decode: s[0..len) into hrp (lower case, NUL-terminated) and
 * data (*n bytes, at most cap); returns NULL, or a reason ("bad checksum",
 * "mixed case", ...).
 */
int age_x25519(uint8_t out[32], const uint8_t scalar[32],
    const uint8_t u[32]);
void age_hkdf(void *out, size_t outlen, const void *salt, size_t saltlen,
    const void *ikm, size_t ikmlen, const void *info, size_t infolen);
void age_aead_seal(const uint8_t key[32], const uint8_t nonce[12],
    const void *aad, size_t aadlen, void *p, size_t n, uint8_t tag[16]);
int age_aead_open(const uint8_t key[32], const uint8_t nonce[12],
    const void *aad, size_t aadlen, void *p, size_t n,
    const uint8_t tag[16]);
int age_bech32_encode(char *out, size_t cap, const char *hrp,
    const void *data, size_t n);
const char *age_bech32_decode(const char *s, size_t len, char *hrp,
    size_t hrpcap, void *data, size_t cap, size_t *n);

#endif
