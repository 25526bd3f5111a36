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

/* xoshiro256** seeded through splitmix64. */
typedef struct hsk_rng { uint64_t s[4]; } hsk_rng;
void rng_seed(hsk_rng *r, uint64_t seed);
/* In line: a handful of shifts and XORs, drawn for each connection. */
static inline uint64_t rng_next(hsk_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = s[3] << 45 | s[3] >> 19;
	return result;
}
/* Uniform in [0, n) (n > 0), without modulo bias. */
uint64_t rng_below(hsk_rng *r, uint64_t n);
/* True with probability p (0..1). */
int rng_chance(hsk_rng *r, double p);
/* A 64-bit value derived from the seed and a label, for keys. */
uint64_t rng_derive(uint64_t seed, uint64_t label);

#endif
