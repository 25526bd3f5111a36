/*
 * Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * csum_partial() is on the per-segment path of every send and receive, so it
 * sums 64-bit words with end-around carry instead of 16-bit ones: a 128-bit
 * accumulator turns each word into one add and one add-with-carry, and the
 * carries collected in the high half are folded back in at the end. Loads go
 * through memcpy, so any alignment of `data` is fine (it compiles to plain
 * unaligned loads on x86 and arm64).
 *
 * The words are summed in host byte order. The ones'-complement sum is
 * independent of byte order up to a swap of the final 16 bits (RFC 1071
 * section 2(B)), so the result is swapped once, after folding, on a
 * little-endian host. Every sum this file takes or returns is therefore the
 * sum of the big-endian 16-bit words, as the RFCs write it, and a value from
 * csum_fold() goes into a header with wr16().
 */
#include <string.h>

#include "wire.h"

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
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

/* Ones'-complement sum of len bytes as host-order 64-bit words, folded to 16
 * bits (still in host byte order). */
static uint16_t sum_host(const uint8_t *p, size_t len)
{
	uint64_t s;
#ifdef __SIZEOF_INT128__
	unsigned __int128 acc = 0;
	while (len >= 32) {
		acc += load64(p);
		acc += load64(p + 8);
		acc += load64(p + 16);
		acc += load64(p + 24);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		acc += load64(p);
		p += 8;
		len -= 8;
	}
	/* The high half counts the carries out of bit 63: add them back. */
	s = (uint64_t)acc;
	uint64_t hi = (uint64_t)(acc >> 64);
	s += hi;
	s += s < hi;
#else
	s = 0;
	while (len >= 8) {
		uint64_t w = load64(p);
		s += (w & 0xffffffffu) + (w >> 32); /* < 2^33 each: no overflow */
		p += 8;
		len -= 8;
		if (s >> 62) /* keep headroom; rare */
			s = (s & 0xffffffffu) + (s >> 32);
	}
#endif
	/* The tail, in fixed-size loads (a variable-length memcpy would be a
	 * libc call). Each piece starts at an even offset, so its 16-bit words
	 * line up with the words of the sum; the last odd byte is the high
	 * half of its word in network order, i.e. the low half on a
	 * little-endian host. */
	uint64_t t = 0;
	if (len & 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		t += v;
		p += 4;
	}
	if (len & 2) {
		uint16_t v;
		memcpy(&v, p, 2);
		t += v;
		p += 2;
	}
	if (len & 1) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		t += (uint32_t)*p << 8;
#else
		t += *p;
#endif
	}
	s += t;
	s += s < t;
	uint32_t s32 = add32((uint32_t)s, (uint32_t)(s >> 32));
	return fold16(s32);
}

static inline uint16_t to_be16_sum(uint16_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return v;
#else
	return (uint16_t)(v << 8 | v >> 8);
#endif
}

uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
	return add32(sum, to_be16_sum(sum_host(data, len)));
}

uint16_t csum_fold(uint32_t sum)
{
	return (uint16_t)~fold16(sum);
}

uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	/* Six 16-bit terms: at most 6 * 0xffff, no overflow of 32 bits. */
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       proto + len;
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
