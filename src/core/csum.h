/*
 * Internet checksum arithmetic (RFC 1071, RFC 1624): sums, the fused copy
 * and sum, folding. Pure arithmetic over bytes, below every layer: the
 * rings (core/ring.c) checksum while they copy, the wire formats
 * (src/wire) checksum headers. The kernels are in csum.c.
 */
#ifndef HSK_CSUM_H
#define HSK_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A "sum" below is a ones'-complement sum of big-endian 16-bit words in a
 * uint32_t, not yet folded or complemented; sums add with csum_add().
 * Ones'-complement sum of `len` bytes (as if they began at an even offset
 * of the checksummed stream), added to `sum`. Any alignment of `data`. */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum);
/* Copies len bytes from src to dst (which must not overlap) and returns
 * csum_partial(src, len, sum): one pass over each byte. */
uint32_t csum_copy(void *dst, const void *src, size_t len, uint32_t sum);
/* a + b with end-around carry. */
static inline uint32_t csum_add(uint32_t a, uint32_t b)
{
	a += b;
	return a + (a < b);
}
/* The sum of a piece that starts `off` bytes into the stream, given the sum
 * that csum_partial() computed as if it started at an even offset: at an
 * odd offset its bytes are the other halves of their words, which swaps
 * the bytes of the folded sum (a rotation by 8 of the unfolded one). */
static inline uint32_t csum_shift(uint32_t part, size_t off)
{
	return (off & 1) ? (part >> 8 | part << 24) : part;
}
/* sum plus a piece's sum `part` (computed from an even offset) for a piece
 * that starts `off` bytes into the stream. */
static inline uint32_t csum_block_add(uint32_t sum, uint32_t part, size_t off)
{
	return csum_add(sum, csum_shift(part, off));
}
/* Which loop sums long buffers: chosen from the CPU (AUTO), or forced by a
 * test. csum_set_kernel() returns 0, or -1 when this host cannot run it. */
enum csum_kernel { CSUM_AUTO, CSUM_SCALAR, CSUM_SSE2, CSUM_AVX2 };
int csum_set_kernel(int kernel);
/* Folds to 16 bits and complements: the value to put in a header. */
static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
/* The IPv4 pseudo-header sum for TCP/UDP (addresses host order). */
static inline uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	/* The addresses as 32-bit words (2^16 is 1 modulo 0xffff: a word is
	 * congruent to its halves' sum), then one fold of 16 bits: below
	 * 0x30002, so that a caller may add a length and more to it. */
	uint64_t s = (uint64_t)src + dst + proto + len;
	return (uint32_t)(s & 0xffff) + (uint32_t)(s >> 16);
}

/* s plus the n (at most 15) 8-byte words at buf, with end-around carry:
 * one add and one add-with-carry a word, no loop (a TCP header of 20..60
 * bytes has at most 7, an IPv4 header without options 2 and a half, a
 * segment the TCP input sums inline at most 15: wire.h). The
 * carry comes from __builtin_add_overflow, which the compiler keeps in
 * the flag (s += w; s += s < w unrolled was compiled into compare-and-set
 * sequences). */
static inline __attribute__((always_inline)) uint64_t sum_words8(const uint8_t *buf, size_t n,
								 uint64_t s)
{
	uint64_t w;
	bool c;
#define SUM8(i) (memcpy(&w, buf + 8 * (i), 8), c = __builtin_add_overflow(s, w, &s), s += c)
	switch (n) {
	case 15: SUM8(14); /* fall through */
	case 14: SUM8(13); /* fall through */
	case 13: SUM8(12); /* fall through */
	case 12: SUM8(11); /* fall through */
	case 11: SUM8(10); /* fall through */
	case 10: SUM8(9); /* fall through */
	case 9: SUM8(8); /* fall through */
	case 8: SUM8(7); /* fall through */
	case 7: SUM8(6); /* fall through */
	case 6: SUM8(5); /* fall through */
	case 5: SUM8(4); /* fall through */
	case 4: SUM8(3); /* fall through */
	case 3: SUM8(2); /* fall through */
	case 2: SUM8(1); /* fall through */
	case 1: SUM8(0); /* fall through */
	default: break;
	}
#undef SUM8
	return s;
}

/* s folded to 16 bits with end-around carry: the value in 1..0xffff
 * that folding it 32, 16, 16 and 16 bits at a time gives (0 stays 0; both
 * are s modulo 0xffff): 64 to 32 bits by an add with carry, then 32 to 16
 * by adding the word rotated by 16, whose high half is then the sum of
 * the halves with the carry out of the low half in. */
static inline __attribute__((always_inline)) uint32_t sum_fold64(uint64_t s)
{
	uint32_t v = (uint32_t)s, hi = (uint32_t)(s >> 32);
	v += hi;
	v += v < hi;
	v += v >> 16 | v << 16;
	return v >> 16;
}

/* The 32 bytes of two IPv6 addresses as four 64-bit words in host order,
 * added with end-around carry (2^64 - 1 is a multiple of 0xffff; the
 * carry from __builtin_add_overflow, which the compiler keeps in the
 * flag: add, adc): a sum of host-order 16-bit words, not folded. */
static inline __attribute__((always_inline)) uint64_t addr6_pair_sum(const uint8_t src[16],
								    const uint8_t dst[16])
{
	uint64_t w[4], s;
	memcpy(w, src, 16);
	memcpy(w + 2, dst, 16);
	s = w[0];
	for (int i = 1; i < 4; i++) {
		unsigned c = __builtin_add_overflow(s, w[i], &s);
		s += c;
	}
	return s;
}

/* The IPv6 pseudo-header sum for TCP/UDP/ICMPv6 (RFC 8200 §8.1): both
 * 128-bit addresses, the upper-layer length (32 bits) and next header. */
static inline uint32_t csum_pseudo6(const uint8_t src[16], const uint8_t dst[16],
				    uint8_t proto, uint32_t len)
{
	/* The addresses' sum folded to 16 bits (sum_fold64) and, on a
	 * little-endian host, byte-swapped once: the sum of the big-endian
	 * 16-bit words (RFC 1071 §2(B)). */
	uint32_t v = sum_fold64(addr6_pair_sum(src, dst));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = (v >> 8 | v << 8) & 0xffff;
#endif
	return v + proto + (len >> 16) + (len & 0xffff);
}
/* A sum of big-endian 16-bit words (be, below 2^56) as a sum of the same
 * words read in host order, for the sums the TCP input makes in 64-bit
 * host-order words (wire.h): on a little-endian host a word read in host
 * order is its value byte-swapped, which is that value times 2^8 modulo
 * 0xffff (hi * 2^8 + lo becomes lo * 2^8 + hi, and 2^16 is 1 modulo
 * 0xffff), so be << 8 stands for be among such words, unfolded and
 * unswapped; on a big-endian host they are the same. */
static inline __attribute__((always_inline)) uint64_t csum_native(uint64_t be)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return be << 8;
#else
	return be;
#endif
}

/* The IPv4 pseudo-header's sum (addresses host order, the upper-layer
 * length len included) as a sum of host-order words (csum_native): no
 * fold, below 2^43. */
static inline __attribute__((always_inline)) uint64_t csum_pseudo_native(uint32_t src,
									 uint32_t dst,
									 uint8_t proto,
									 uint32_t len)
{
	return csum_native((uint64_t)src + dst + proto + len);
}

/* The IPv6 one (RFC 8200 §8.1) the same way: the addresses' sum asum (as
 * csum_pseudo6, without its fold and swap: addr6_pair_sum, which the IP
 * layer's input keeps in the header it hands up), then next header and
 * length (below 2^32), with end-around carry. Any 64-bit value, never 0
 * (proto is not). */
static inline __attribute__((always_inline)) uint64_t
csum_pseudo6_asum_native(uint64_t asum, uint8_t proto, uint32_t len)
{
	uint64_t s = asum;
	unsigned c = __builtin_add_overflow(s, csum_native((uint64_t)proto + len), &s);
	return s + c;
}
/* The same from the addresses. */
static inline __attribute__((always_inline)) uint64_t
csum_pseudo6_native(const uint8_t src[16], const uint8_t dst[16], uint8_t proto, uint32_t len)
{
	return csum_pseudo6_asum_native(addr6_pair_sum(src, dst), proto, len);
}

/* RFC 1624 eqn. 3: the checksum after a 16-bit field changes old -> new. */
uint16_t csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val);
/* The same for a 32-bit field (e.g. an address or sequence number). */
uint16_t csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

#endif
