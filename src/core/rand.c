/*
 * SipHash-2-4 and SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012), xoshiro256** (Blackman and Vigna, 2018) seeded through splitmix64,
 * and Lemire's multiply-shift rejection for unbiased bounded integers
 * ("Fast random integer generation in an interval", 2019).
 */
#include "core/rand.h"
#include "core/siphash.h"

#include <string.h>

/* SipHash-c-d of any bytes (siphash.h), inlined with constant rounds into
 * each of the two public functions so that the rounds unroll (a loop
 * cost a SYN cookie 84 instructions). */
static inline __attribute__((always_inline)) uint64_t
siphash_cd(const uint8_t *p, size_t len, uint64_t k0, uint64_t k1, int c, int d)
{
	hsk_sip st = sip_init(k0, k1);
	const uint8_t *end = p + (len & ~(size_t)7);

	for (; p != end; p += 8)
		sip_absorb(&st, sip_le64(p), c);
	uint64_t tail = 0;
	for (size_t i = len & 7; i > 0; i--)
		tail = tail << 8 | p[i - 1];
	sip_absorb(&st, sip_last_word(len, tail), c);
	return sip_finish(st, d);
}

uint64_t hsk_siphash(const void *data, size_t len, uint64_t k0, uint64_t k1)
{
	return siphash_cd(data, len, k0, k1, 2, 4);
}

uint64_t hsk_siphash13(const void *data, size_t len, uint64_t k0, uint64_t k1)
{
	return siphash_cd(data, len, k0, k1, 1, 3);
}

static inline uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(hsk_rng *r, uint64_t seed)
{
	/* splitmix64 never yields four zero words in a row, so the state is
	 * never the all-zero fixed point of xoshiro. */
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t rng_below(hsk_rng *r, uint64_t n)
{
	if (n <= 1)
		return 0;
	/* Lemire: the high word of x * n is uniform in [0, n) once the low
	 * words that fall in the first (2^64 mod n) values are rejected. The
	 * division happens only when the cheap test cannot decide. */
	unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t thresh = -n % n; /* 2^64 mod n */
		while (lo < thresh) {
			m = (unsigned __int128)rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

int rng_chance(hsk_rng *r, double p)
{
	if (!(p > 0.0))          /* also NaN */
		return 0;
	if (p >= 1.0)
		return 1;
	/* 53 random bits as a double in [0, 1). */
	double u = (double)(rng_next(r) >> 11) * 0x1.0p-53;
	return u < p;
}

uint64_t rng_derive(uint64_t seed, uint64_t label)
{
	uint8_t msg[8];
	for (int i = 0; i < 8; i++)
		msg[i] = (uint8_t)(label >> (8 * i));
	/* The seed is the key; the constant separates this use of SipHash from
	 * any other keyed by the same seed. */
	return hsk_siphash(msg, sizeof msg, seed, 0x68736b2d64657276ULL /* "hsk-derv" */);
}
