/*
 * Sequence numbers live on a circle of 2^32 (RFC 9293 §3.4). They are a
 * distinct type so that a bare `<` between two of them does not compile:
 * every comparison goes through these helpers, which are correct across
 * wrap-around as long as the two values are less than 2^31 apart.
 */
#ifndef HSK_SEQ_H
#define HSK_SEQ_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hsk_seq {
	uint32_t v;
} hsk_seq;

static inline hsk_seq seq_of(uint32_t v) { return (hsk_seq){ v }; }
static inline hsk_seq seq_add(hsk_seq a, uint32_t n) { return (hsk_seq){ a.v + n }; }
/* a - b as a signed distance. */
static inline int32_t seq_diff(hsk_seq a, hsk_seq b) { return (int32_t)(a.v - b.v); }
static inline bool seq_eq(hsk_seq a, hsk_seq b) { return a.v == b.v; }
static inline bool seq_lt(hsk_seq a, hsk_seq b) { return seq_diff(a, b) < 0; }
static inline bool seq_le(hsk_seq a, hsk_seq b) { return seq_diff(a, b) <= 0; }
static inline bool seq_gt(hsk_seq a, hsk_seq b) { return seq_diff(a, b) > 0; }
static inline bool seq_ge(hsk_seq a, hsk_seq b) { return seq_diff(a, b) >= 0; }
/* lo <= x < hi */
static inline bool seq_in(hsk_seq x, hsk_seq lo, hsk_seq hi)
{
	return seq_ge(x, lo) && seq_lt(x, hi);
}
/* lo <= x <= hi */
static inline bool seq_between(hsk_seq x, hsk_seq lo, hsk_seq hi)
{
	return seq_ge(x, lo) && seq_le(x, hi);
}
static inline hsk_seq seq_max(hsk_seq a, hsk_seq b) { return seq_ge(a, b) ? a : b; }
static inline hsk_seq seq_min(hsk_seq a, hsk_seq b) { return seq_le(a, b) ? a : b; }

#endif
