/*
 * Internet checksum (RFC 1071), fused with a copy, and its incremental
 * update (RFC 1624).
 *
 * The sum is on the per-segment path of every send and receive, over every
 * byte, so it has three kernels, all summing in host byte order:
 * - scalar: 64-bit words with end-around carry (an add and an add of the
 *   carry per 8 bytes), for short buffers and hosts other than
 *   x86-64;
 * - SSE2 (every x86-64) and AVX2 (chosen at run time): each 16-bit word has
 *   0x8000 subtracted (an XOR of the sign bit) so that PMADDWD, which
 *   multiplies signed words, can add neighbouring words into 32-bit lanes
 *   (multiplied by 1); the bias, 0x8000 per word, is added back once per
 *   block. Three instructions per 16 or 32 bytes; a block is short enough
 *   that no lane overflows.
 * csum_copy() runs the same loops with a store of each loaded vector, so
 * every byte is read once for both the copy and the sum.
 *
 * The ones'-complement sum is independent of byte order up to a swap of the
 * final 16 bits (RFC 1071 section 2(B)), so the result is swapped once,
 * after folding, on a little-endian host. Every sum this file takes or
 * returns is therefore the sum of the big-endian 16-bit words, as the RFCs
 * write it, and a value from csum_fold() goes into a header with wr16().
 * The 64-bit partial sums are exact integer sums reduced modulo 2^64 - 1,
 * which 65535 divides, so they fold to the same 16 bits as the textbook
 * 16-bit loop.
 */
#include <stdbool.h>
#include <string.h>

#include "core/csum.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CSUM_X86 1
#include <immintrin.h>
#endif

enum {
	/* Below this many bytes the scalar loop is cheaper than a vector
	 * loop's set-up and its horizontal sum. */
	CSUM_VEC_MIN = 128,
	/* Vectors summed into one accumulator before its lanes are added up:
	 * each PMADDWD lane is at most 2 * 32768 in magnitude, so a lane stays
	 * within 16384 * 65536 = 2^30 < 2^31. */
	CSUM_VEC_BLOCK = 16384,
};

static int csum_kernel_forced; /* enum csum_kernel; CSUM_AUTO in production */

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* a + b with end-around carry (ones'-complement addition, 64 bits). */
static inline uint64_t add64(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b);
}

/* Adds b to a with end-around carry (ones'-complement addition). */
static inline uint32_t add32(uint32_t a, uint32_t b)
{
	a += b;
	return a + (a < b);
}

static inline uint16_t fold16(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The last len < 8 bytes, in fixed-size pieces (a variable-length memcpy
 * would be a libc call), copied to dst when dst is not NULL. Each piece
 * starts at an even offset, so its 16-bit words line up with those of the
 * sum; the last odd byte is the high half of its word in network order,
 * i.e. the low half on a little-endian host. */
static inline uint64_t tail_sum(uint8_t *dst, const uint8_t *p, size_t len, uint64_t s)
{
	uint64_t t = 0;
	if (len & 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		if (dst) {
			memcpy(dst, &v, 4);
			dst += 4;
		}
		t += v;
		p += 4;
	}
	if (len & 2) {
		uint16_t v;
		memcpy(&v, p, 2);
		if (dst) {
			memcpy(dst, &v, 2);
			dst += 2;
		}
		t += v;
		p += 2;
	}
	if (len & 1) {
		if (dst)
			*dst = *p;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		t += (uint32_t)*p << 8;
#else
		t += *p;
#endif
	}
	return add64(s, t);
}

/* The scalar kernel: len bytes into the 64-bit host-order sum s (copied to
 * dst when dst is not NULL). Unrolled by four words; each word costs an
 * add and an add of the carry (gcc: add, adc $0). */
static inline __attribute__((always_inline)) uint64_t
scalar_body(uint8_t *dst, const uint8_t *p, size_t len, uint64_t s)
{
	while (len >= 32) {
		uint64_t a = load64(p), b = load64(p + 8);
		uint64_t c = load64(p + 16), d = load64(p + 24);
		if (dst) {
			memcpy(dst, &a, 8);
			memcpy(dst + 8, &b, 8);
			memcpy(dst + 16, &c, 8);
			memcpy(dst + 24, &d, 8);
			dst += 32;
		}
		s = add64(s, a);
		s = add64(s, b);
		s = add64(s, c);
		s = add64(s, d);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		uint64_t a = load64(p);
		if (dst) {
			memcpy(dst, &a, 8);
			dst += 8;
		}
		s = add64(s, a);
		p += 8;
		len -= 8;
	}
	return tail_sum(dst, p, len, s);
}

static uint64_t sum_scalar(const uint8_t *p, size_t len, uint64_t s)
{
	return scalar_body(NULL, p, len, s);
}

static uint64_t copy_scalar(uint8_t *dst, const uint8_t *p, size_t len, uint64_t s)
{
	return scalar_body(dst, p, len, s);
}

#ifdef CSUM_X86
/* The exact sum of a block's biased words: the lanes (signed), plus the
 * 0x8000 taken from each of its bytes / 2 words. */
static inline uint64_t unbias(int64_t lanes, size_t bytes)
{
	return (uint64_t)(lanes + (int64_t)bytes * 16384);
}

/* Bytes 0..31 zero, 32..63 all ones: V bytes loaded from 32 - V + r keep
 * the last r bytes of a vector and clear the others. */
static const uint8_t tail_mask[64] __attribute__((aligned(64))) = {
	[32] = 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* The vector kernels, one definition for SSE2 (V = 16) and AVX2 (V = 32):
 * NAME_body returns the sum of len >= V bytes, and copies them to dst
 * when `copy` (a constant, so each instance has one loop). Eight vectors
 * per iteration, their PMADDWD results added in a tree into one
 * accumulator (gcc keeps a register copy per accumulator per iteration:
 * one is cheapest), then 4, 2, 1 as the count says, without a loop; dst
 * is addressed as an offset from p, so one pointer moves. Every
 * CSUM_VEC_BLOCK vectors the lanes go into the sum. No scalar tail: an
 * odd last byte is taken alone, and the last len % V bytes are the end
 * of one more vector loaded from len - V (an even offset, so its words
 * are the stream's), its first bytes cleared by a mask and, when
 * copying, stored whole (rewriting bytes already copied, with the same
 * values). A short buffer's set-up, tail and horizontal sum cost more
 * than its loop: this keeps a 1.5 KiB segment's near the loop's own. */
#define CSUM_KERNEL(NAME, TARGET, V, vec, LOAD, STORE, XOR, MADD, ADD, AND, SET1, ZERO, HSUM) \
static inline __attribute__((always_inline, target(TARGET))) vec \
NAME##_step1(const uint8_t *p, uintptr_t delta, const bool copy) \
{ \
	vec x = LOAD((const vec *)(const void *)p); \
	if (copy) \
		STORE((vec *)(uintptr_t)((uintptr_t)p + delta), x); \
	return MADD(XOR(x, SET1((short)0x8000)), SET1(1)); \
} \
static inline __attribute__((always_inline, target(TARGET))) vec \
NAME##_step4(const uint8_t *p, uintptr_t delta, const bool copy) \
{ \
	return ADD(ADD(NAME##_step1(p, delta, copy), NAME##_step1(p + (V), delta, copy)), \
		   ADD(NAME##_step1(p + 2 * (V), delta, copy), \
		       NAME##_step1(p + 3 * (V), delta, copy))); \
} \
static inline __attribute__((always_inline, target(TARGET))) uint64_t \
NAME##_body(uint8_t *dst, const uint8_t *p, size_t len, const bool copy) \
{ \
	uintptr_t delta = (uintptr_t)dst - (uintptr_t)p; \
	uint64_t s = 0; \
	if (len & 1) { \
		len--; \
		if (copy) \
			dst[len] = p[len]; \
		s = ODD_BYTE(p[len]); \
	} \
	size_t n = len / (V), r = len % (V), tail = 0; \
	vec a = ZERO(); \
	if (r) { \
		const uint8_t *w = p + len - (V); \
		vec x = LOAD((const vec *)(const void *)w); \
		if (copy) \
			STORE((vec *)(uintptr_t)((uintptr_t)w + delta), x); \
		x = AND(x, LOAD((const vec *)(const void *)(tail_mask + 32 - (V) + r))); \
		a = MADD(XOR(x, SET1((short)0x8000)), SET1(1)); \
		tail = (V); \
	} \
	while (n) { \
		size_t blk = n < CSUM_VEC_BLOCK ? n : CSUM_VEC_BLOCK; \
		const uint8_t *end8 = p + (V) * (blk & ~(size_t)7); \
		for (; p != end8; p += 8 * (V)) \
			a = ADD(a, ADD(NAME##_step4(p, delta, copy), \
				       NAME##_step4(p + 4 * (V), delta, copy))); \
		if (blk & 4) { \
			a = ADD(a, NAME##_step4(p, delta, copy)); \
			p += 4 * (V); \
		} \
		if (blk & 2) { \
			a = ADD(a, ADD(NAME##_step1(p, delta, copy), \
				       NAME##_step1(p + (V), delta, copy))); \
			p += 2 * (V); \
		} \
		if (blk & 1) { \
			a = ADD(a, NAME##_step1(p, delta, copy)); \
			p += (V); \
		} \
		s = add64(s, unbias(HSUM(a), (V) * blk + tail)); \
		a = ZERO(); \
		tail = 0; \
		n -= blk; \
	} \
	return s; \
}

/* An odd last byte is the high half of its word in network order, i.e.
 * the low half on a little-endian host (as tail_sum takes it). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define ODD_BYTE(b) ((uint64_t)(b) << 8)
#else
#define ODD_BYTE(b) ((uint64_t)(b))
#endif

/* The four signed 32-bit lanes of an SSE2 vector, summed in 64 bits. */
static inline int64_t hsum_sse2(__m128i a)
{
	__m128i sign = _mm_srai_epi32(a, 31);
	__m128i w = _mm_add_epi64(_mm_unpacklo_epi32(a, sign),
				  _mm_unpackhi_epi32(a, sign));
	w = _mm_add_epi64(w, _mm_unpackhi_epi64(w, w));
	return _mm_cvtsi128_si64(w);
}

/* The eight signed 32-bit lanes of an AVX2 vector, summed in 64 bits. */
static inline __attribute__((always_inline, target("avx2"))) int64_t
hsum_avx2(__m256i a)
{
	__m256i w = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(a)),
				     _mm256_cvtepi32_epi64(_mm256_extracti128_si256(a, 1)));
	__m128i v = _mm_add_epi64(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
	v = _mm_add_epi64(v, _mm_unpackhi_epi64(v, v));
	return _mm_cvtsi128_si64(v);
}

CSUM_KERNEL(sse2, "sse2", 16, __m128i, _mm_loadu_si128, _mm_storeu_si128, _mm_xor_si128,
	    _mm_madd_epi16, _mm_add_epi32, _mm_and_si128, _mm_set1_epi16, _mm_setzero_si128,
	    hsum_sse2)
CSUM_KERNEL(avx2, "avx2", 32, __m256i, _mm256_loadu_si256, _mm256_storeu_si256,
	    _mm256_xor_si256, _mm256_madd_epi16, _mm256_add_epi32, _mm256_and_si256,
	    _mm256_set1_epi16, _mm256_setzero_si256, hsum_avx2)

/* (len >= CSUM_VEC_MIN: at least one vector) */
static uint64_t sum_sse2(const uint8_t *p, size_t len)
{
	return sse2_body(NULL, p, len, false);
}

static uint64_t copy_sse2(uint8_t *dst, const uint8_t *p, size_t len)
{
	return sse2_body(dst, p, len, true);
}

__attribute__((target("avx2")))
static uint64_t sum_avx2(const uint8_t *p, size_t len)
{
	return avx2_body(NULL, p, len, false);
}

__attribute__((target("avx2")))
static uint64_t copy_avx2(uint8_t *dst, const uint8_t *p, size_t len)
{
	return avx2_body(dst, p, len, true);
}

static bool have_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}
#else
static bool have_avx2(void) { return false; }
#endif

/* The kernel for a long buffer. */
static int kernel_of(void)
{
	if (csum_kernel_forced != CSUM_AUTO)
		return csum_kernel_forced;
#ifdef CSUM_X86
	return have_avx2() ? CSUM_AVX2 : CSUM_SSE2;
#else
	return CSUM_SCALAR;
#endif
}

/* 64-bit host-order sum -> a 32-bit sum of big-endian words: the halves
 * added with end-around carry, then on a little-endian host the bytes of
 * each word swapped. A rotation by 8 does that up to ones'-complement
 * equivalence (it multiplies by 2^24, which is 256 modulo 65535, as a swap
 * of 16 bits does), in one instruction instead of a fold and a swap. */
static inline uint32_t finish(uint64_t s)
{
	uint32_t v = add32((uint32_t)s, (uint32_t)(s >> 32));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return v;
#else
	return v >> 8 | v << 24;
#endif
}

/* A long buffer goes straight to the kernel for this CPU through a pointer
 * (no wrapper frame, no test of the forced kernel per call), chosen on
 * the first call and again after csum_set_kernel. Threads that race to
 * choose store the same pointer (relaxed atomics: a plain load and store). */
typedef uint64_t sum_fn(const uint8_t *p, size_t len);
typedef uint64_t copy_fn(uint8_t *d, const uint8_t *p, size_t len);
static sum_fn sum_pick;
static copy_fn copy_pick;
static sum_fn *sum_long = sum_pick;
static copy_fn *copy_long = copy_pick;

static uint64_t sum_scalar0(const uint8_t *p, size_t len)
{
	return sum_scalar(p, len, 0);
}

static uint64_t copy_scalar0(uint8_t *d, const uint8_t *p, size_t len)
{
	return copy_scalar(d, p, len, 0);
}

static sum_fn *sum_for(int k)
{
	switch (k) {
#ifdef CSUM_X86
	case CSUM_AVX2: return sum_avx2;
	case CSUM_SSE2: return sum_sse2;
#endif
	default: return sum_scalar0;
	}
}

static copy_fn *copy_for(int k)
{
	switch (k) {
#ifdef CSUM_X86
	case CSUM_AVX2: return copy_avx2;
	case CSUM_SSE2: return copy_sse2;
#endif
	default: return copy_scalar0;
	}
}

static uint64_t sum_pick(const uint8_t *p, size_t len)
{
	sum_fn *f = sum_for(kernel_of());
	__atomic_store_n(&sum_long, f, __ATOMIC_RELAXED);
	return f(p, len);
}

static uint64_t copy_pick(uint8_t *d, const uint8_t *p, size_t len)
{
	copy_fn *f = copy_for(kernel_of());
	__atomic_store_n(&copy_long, f, __ATOMIC_RELAXED);
	return f(d, p, len);
}

int csum_set_kernel(int k)
{
	switch (k) {
	case CSUM_AUTO:
	case CSUM_SCALAR:
		break;
#ifdef CSUM_X86
	case CSUM_SSE2:
		break;
	case CSUM_AVX2:
		if (!have_avx2())
			return -1;
		break;
#endif
	default:
		return -1;
	}
	csum_kernel_forced = k;
	__atomic_store_n(&sum_long, sum_pick, __ATOMIC_RELAXED);
	__atomic_store_n(&copy_long, copy_pick, __ATOMIC_RELAXED);
	return 0;
}

/* Headers and short payloads (len < CSUM_VEC_MIN: at most 15 whole
 * words), inline: the words by csum.h's sum_words8 (one jump into a run of
 * add, adc: no loop's count, test and branch per two words; a 64-byte
 * payload's sum 16 instructions, not ~32), then the tail. */
_Static_assert(CSUM_VEC_MIN <= 16 * 8, "short_sum: sum_words8 takes at most 15 words");
static inline __attribute__((always_inline)) uint64_t short_sum(const uint8_t *p, size_t len)
{
	uint64_t s = sum_words8(p, len / 8, 0);
	return tail_sum(NULL, p + (len & ~(size_t)7), len & 7, s);
}

uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t s = len < CSUM_VEC_MIN ? short_sum(p, len) :
					   __atomic_load_n(&sum_long, __ATOMIC_RELAXED)(p, len);
	return add32(sum, finish(s));
}

uint32_t csum_copy(void *dst, const void *src, size_t len, uint32_t sum)
{
	const uint8_t *p = src;
	uint8_t *d = dst;
	uint64_t s;
	if (len < CSUM_VEC_MIN) {
		/* libc's copy of a few words beats a word-by-word one */
		memcpy(d, p, len);
		s = short_sum(p, len);
	} else {
		s = __atomic_load_n(&copy_long, __ATOMIC_RELAXED)(d, p, len);
	}
	return add32(sum, finish(s));
}

uint16_t csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val)
{
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). */
	uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~old_val + new_val;
	return (uint16_t)~fold16(s);
}

uint16_t csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
	uint32_t s = (uint32_t)(uint16_t)~csum +
		     (uint16_t)~(old_val >> 16) + (uint16_t)~old_val +
		     (new_val >> 16) + (new_val & 0xffff);
	return (uint16_t)~fold16(s);
}
