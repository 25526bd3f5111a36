/*
 * SipHash (Aumasson and Bernstein, 2012) in pieces, written once for the
 * three ways the stack uses it: rand.c's hsk_siphash / hsk_siphash13 of any
 * bytes, the SYN cookie's (cookie.h) 2-4 of whole words with a state that
 * is copied to finish two inputs that start alike, and the 4-tuple table's
 * (table.c) 1-3 and 2-4 of a tuple from a state kept after the key.
 *
 * A message is absorbed as 8-byte little-endian words, c rounds each
 * (sip_absorb); the last word holds the 0..7 remaining bytes with the
 * length mod 256 on top; then d rounds finish it (sip_finish). The rounds
 * are constants at every call, so always_inline lets the compiler unroll
 * them and keep the state in registers.
 */
#ifndef HSK_SIPHASH_H
#define HSK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct hsk_sip { uint64_t v[4]; } hsk_sip;

#define SIP_INLINE static inline __attribute__((always_inline))

SIP_INLINE uint64_t sip_rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

SIP_INLINE void sip_round(hsk_sip *st)
{
	uint64_t v0 = st->v[0], v1 = st->v[1], v2 = st->v[2], v3 = st->v[3];
	v0 += v1; v1 = sip_rotl(v1, 13); v1 ^= v0; v0 = sip_rotl(v0, 32);
	v2 += v3; v3 = sip_rotl(v3, 16); v3 ^= v2;
	v0 += v3; v3 = sip_rotl(v3, 21); v3 ^= v0;
	v2 += v1; v1 = sip_rotl(v1, 17); v1 ^= v2; v2 = sip_rotl(v2, 32);
	st->v[0] = v0, st->v[1] = v1, st->v[2] = v2, st->v[3] = v3;
}

SIP_INLINE hsk_sip sip_init(uint64_t k0, uint64_t k1)
{
	return (hsk_sip){ { 0x736f6d6570736575ULL ^ k0, 0x646f72616e646f6dULL ^ k1,
			    0x6c7967656e657261ULL ^ k0, 0x7465646279746573ULL ^ k1 } };
}

/* A key's state one step further, for a key that hashes many messages
 * (tcp_isn's): of the first word's first round, what does not depend on
 * the word -- v0 and v1's half of it, and v1's rotation in the other
 * half -- done once (sip_pre). sip_absorb_pre takes the first word from
 * it: the same state as sip_absorb(&st, m, 2) from sip_init's, five
 * instructions less. The same holds for any state kept to absorb many
 * next words (the ISN's and the table's after the addresses):
 * sip_absorb_pre_c with c rounds. */
typedef struct hsk_sip_pre {
	uint64_t v0;              /* rotl(v0 + v1, 32) */
	uint64_t v1;              /* rotl(v1, 13) ^ (v0 + v1) */
	uint64_t v1r;             /* rotl(that, 17) */
	uint64_t v2, v3;          /* as after the key */
} hsk_sip_pre;

SIP_INLINE hsk_sip_pre sip_pre(hsk_sip k)
{
	uint64_t s = k.v[0] + k.v[1], v1 = sip_rotl(k.v[1], 13) ^ s;
	return (hsk_sip_pre){ sip_rotl(s, 32), v1, sip_rotl(v1, 17), k.v[2], k.v[3] };
}

/* sip_absorb(&st, m, c) for the st that p was made from (c >= 1). */
SIP_INLINE hsk_sip sip_absorb_pre_c(const hsk_sip_pre *p, uint64_t m, int c)
{
	/* sip_round's, with v0 and v1's share already in p */
	uint64_t v0 = p->v0, v2 = p->v2, v3 = p->v3 ^ m;
	v2 += v3; v3 = sip_rotl(v3, 16); v3 ^= v2;
	v0 += v3; v3 = sip_rotl(v3, 21); v3 ^= v0;
	v2 += p->v1;
	uint64_t v1 = p->v1r ^ v2;
	v2 = sip_rotl(v2, 32);
	hsk_sip st = { { v0, v1, v2, v3 } };
#pragma GCC unroll 4
	for (int i = 1; i < c; i++)
		sip_round(&st);
	st.v[0] ^= m;
	return st;
}

SIP_INLINE hsk_sip sip_absorb_pre(const hsk_sip_pre *p, uint64_t m)
{
	return sip_absorb_pre_c(p, m, 2);
}

/* The 8 bytes at p as a little-endian word */
SIP_INLINE uint64_t sip_le64(const uint8_t *p)
{
	uint64_t m;
	memcpy(&m, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	m = __builtin_bswap64(m);
#endif
	return m;
}

/* One message word, with c rounds (SipHash-c-d) */
SIP_INLINE void sip_absorb(hsk_sip *st, uint64_t m, int c)
{
	st->v[3] ^= m;
#pragma GCC unroll 4
	for (int i = 0; i < c; i++)
		sip_round(st);
	st->v[0] ^= m;
}

/* The 64-bit hash after the last word, with d rounds; st is left as is. */
SIP_INLINE uint64_t sip_finish(hsk_sip st, int d)
{
	st.v[2] ^= 0xff;
#pragma GCC unroll 4
	for (int i = 0; i < d; i++)
		sip_round(&st);
	return st.v[0] ^ st.v[1] ^ st.v[2] ^ st.v[3];
}

/* The last word of a len-byte message whose final len % 8 bytes, as a
 * little-endian value, are tail (0 when len is a multiple of 8). */
SIP_INLINE uint64_t sip_last_word(size_t len, uint64_t tail)
{
	return (uint64_t)len << 56 | tail;
}

/* SipHash-2-4 of a message of whole words (a SYN cookie's): sip_block per
 * word, then sip_final_tail: hsk_siphash of those len bytes. */
SIP_INLINE void sip_block(hsk_sip *st, uint64_t m)
{
	sip_absorb(st, m, 2);
}

SIP_INLINE uint64_t sip_final_tail(const hsk_sip *st, size_t len, uint64_t tail)
{
	hsk_sip f = *st;
	sip_absorb(&f, sip_last_word(len, tail), 2);
	return sip_finish(f, 4);
}

#endif
