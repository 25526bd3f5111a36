/*
 * Keyed hashing and seeded pseudo-randomness. Nothing here reads the OS: the
 * stack's keys come from configuration — drawn from the OS through an
 * injected entropy source by default, derived from a fixed seed only when a
 * test or simulation asks, so that such a run replays exactly.
 */
#ifndef HSK_RAND_H
#define HSK_RAND_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of `len` bytes under the 128-bit key (k0, k1): the PRF for
 * secrets an attacker must not predict (ISNs, RFC 6528; SYN cookies, RFC
 * 4987; port offsets, RFC 6056). */
uint64_t hsk_siphash(const void *data, size_t len, uint64_t k0, uint64_t k1);
/* SipHash-1-3, the reduced-round variant for hash tables (as CPython's
 * str hash, Rust's HashMap and Linux's hsiphash use it): keeps a remote
 * host that cannot see the key from aiming at one bucket, at 5 rounds
 * for a 4-tuple instead of 8. Not a PRF for secrets. */
uint64_t hsk_siphash13(const void *data, size_t len, uint64_t k0, uint64_t k1);

/* SipHash-2-4 a block at a time, for inputs that are whole 8-byte
 * little-endian words (a SYN cookie's): sip_init, sip_block per word,
 * then sip_final(len) = hsk_siphash of the len = 8 * words bytes, or
 * sip_final_tail for len % 8 more bytes; the state can be copied to
 * finish two inputs that start alike. */
typedef struct hsk_sip { uint64_t v[4]; } hsk_sip;

static inline uint64_t sip_rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sip_round(hsk_sip *st)
{
	uint64_t v0 = st->v[0], v1 = st->v[1], v2 = st->v[2], v3 = st->v[3];
	v0 += v1; v1 = sip_rotl(v1, 13); v1 ^= v0; v0 = sip_rotl(v0, 32);
	v2 += v3; v3 = sip_rotl(v3, 16); v3 ^= v2;
	v0 += v3; v3 = sip_rotl(v3, 21); v3 ^= v0;
	v2 += v1; v1 = sip_rotl(v1, 17); v1 ^= v2; v2 = sip_rotl(v2, 32);
	st->v[0] = v0, st->v[1] = v1, st->v[2] = v2, st->v[3] = v3;
}

static inline void sip_init(hsk_sip *st, uint64_t k0, uint64_t k1)
{
	st->v[0] = 0x736f6d6570736575ULL ^ k0;
	st->v[1] = 0x646f72616e646f6dULL ^ k1;
	st->v[2] = 0x6c7967656e657261ULL ^ k0;
	st->v[3] = 0x7465646279746573ULL ^ k1;
}

static inline void sip_block(hsk_sip *st, uint64_t m)
{
	st->v[3] ^= m;
	sip_round(st);
	sip_round(st);
	st->v[0] ^= m;
}

/* The end of a message of len bytes whose last len % 8 bytes (a
 * little-endian value below 2^(8 * (len % 8))) are `tail`. */
static inline uint64_t sip_final_tail(const hsk_sip *st, size_t len, uint64_t tail)
{
	hsk_sip f = *st;
	sip_block(&f, (uint64_t)len << 56 | tail);
	f.v[2] ^= 0xff;
	sip_round(&f);
	sip_round(&f);
	sip_round(&f);
	sip_round(&f);
	return f.v[0] ^ f.v[1] ^ f.v[2] ^ f.v[3];
}

static inline uint64_t sip_final(const hsk_sip *st, size_t len)
{
	hsk_sip f = *st;
	sip_block(&f, (uint64_t)len << 56);
	f.v[2] ^= 0xff;
	sip_round(&f);
	sip_round(&f);
	sip_round(&f);
	sip_round(&f);
	return f.v[0] ^ f.v[1] ^ f.v[2] ^ f.v[3];
}

/* xoshiro256** seeded through splitmix64. */
typedef struct hsk_rng { uint64_t s[4]; } hsk_rng;
void rng_seed(hsk_rng *r, uint64_t seed);
uint64_t rng_next(hsk_rng *r);
/* Uniform in [0, n) (n > 0), without modulo bias. */
uint64_t rng_below(hsk_rng *r, uint64_t n);
/* True with probability p (0..1). */
int rng_chance(hsk_rng *r, double p);
/* A 64-bit value derived from the seed and a label, for keys. */
uint64_t rng_derive(uint64_t seed, uint64_t label);

#endif
