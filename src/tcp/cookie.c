/*
 * SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the
 * SYN-ACK carries everything the connection needs in its ISS and no request
 * is kept; the final ACK (SEG.ACK - 1) is checked statelessly.
 *
 * The cookie, as Linux builds it (net/ipv4/syncookies.c), in 32 bits:
 *
 *   ISS = H1 + (count << 24 | mssind << 22 | H2 & 0x3fffff)   (mod 2^32)
 *
 *   H1     SipHash-2-4 of the 4-tuple and the client's ISN (SEG.SEQ of
 *          the SYN) under the stack's key mixed with a cookie label: hides
 *          the other fields, so the ISS is as unpredictable as an RFC 6528
 *          one;
 *   count  low 8 bits of a coarse clock, now / 64 s;
 *   mssind 2 bits: the client's MSS as an index into a table of common
 *          values (536, 1300, 1440, 1460), rounded down;
 *   H2     22 bits of SipHash-2-4 of the tuple, the ISN, the full count
 *          and mssind (a longer input under the same key, so an
 *          independent value): the authenticator.
 *
 * A cookie is accepted when its count is the current period's or the
 * previous one's (so it lives between 64 and 128 s, as Linux's 2 minutes)
 * and H2 checks out; a blind forgery succeeds with probability 2^-22 per
 * try. Window scaling, SACK and timestamps are not encoded: a cookie
 * SYN-ACK offers no window scale, so a connection opened by a cookie has an
 * unscaled window (at most 65535 bytes) for its lifetime. A peer MSS below
 * 536 is rounded up to 536, as Linux does.
 */
#include "core/rand.h"
#include "tcp/tcp.h"

enum { COOKIE_MAC_BITS = 22, COOKIE_MSS_SHIFT = 22, COOKIE_COUNT_SHIFT = 24 };
#define COOKIE_MAC_MASK ((1u << COOKIE_MAC_BITS) - 1)
#define COOKIE_LABEL 0x636f6f6b69653131ull /* "cookie11" */

static const uint16_t cookie_mss[4] = { 536, 1300, 1440, 1460 };

/* The SipHash state after the 16 bytes both hashes start with: laddr,
 * raddr, lport << 16 | rport, irs as little-endian 32-bit words. H1 is
 * SipHash-2-4 of those 16 bytes, H2 of 24 (count and mssind follow): one
 * key, inputs of different lengths, so independent outputs, and the
 * common prefix is hashed once (18 rounds for both instead of 24). */
/* IPv6: the 32 bytes of the addresses (l, r) take the place of the first
 * word, four words instead of one, so the prefix is 40 bytes long. */
typedef struct cookie_pre {
	hsk_sip st;
	size_t len;
} cookie_pre;

static uint64_t rd64le(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static cookie_pre cookie_prefix(const tcp_stack *s, const hsk_tuple *tu,
				const tbl_v6addrs *a6, hsk_seq irs)
{
	cookie_pre p = { .len = a6 ? 40 : 16 };
	sip_init(&p.st, s->env->key0 ^ COOKIE_LABEL, s->env->key1);
	if (a6) {
		for (int i = 0; i < 16; i += 8)
			sip_block(&p.st, rd64le(a6->l + i));
		for (int i = 0; i < 16; i += 8)
			sip_block(&p.st, rd64le(a6->r + i));
	} else {
		sip_block(&p.st, (uint64_t)tu->raddr << 32 | tu->laddr);
	}
	sip_block(&p.st, (uint64_t)irs.v << 32 | ((uint32_t)tu->lport << 16 | tu->rport));
	return p;
}

static uint32_t cookie_h1(const cookie_pre *prefix)
{
	return (uint32_t)sip_final(&prefix->st, prefix->len);
}

static uint32_t cookie_h2(const cookie_pre *prefix, uint32_t count, uint32_t mssind)
{
	hsk_sip st = prefix->st;
	sip_block(&st, (uint64_t)mssind << 32 | count);
	return (uint32_t)sip_final(&st, prefix->len + 8);
}

static uint32_t cookie_count(const tcp_stack *s)
{
	return (uint32_t)(s->env->now / COOKIE_PERIOD_NS);
}

hsk_seq cookie_make(tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6, hsk_seq irs,
		    uint16_t mss)
{
	uint32_t mssind = 0;
	for (uint32_t i = sizeof(cookie_mss) / sizeof(cookie_mss[0]) - 1; i > 0; i--)
		if (mss >= cookie_mss[i]) {
			mssind = i;
			break;
		}
	uint32_t count = cookie_count(s);
	cookie_pre prefix = cookie_prefix(s, tu, a6, irs);
	uint32_t h1 = cookie_h1(&prefix);
	uint32_t h2 = cookie_h2(&prefix, count, mssind);
	return seq_of(h1 + ((count << COOKIE_COUNT_SHIFT) |
			    (mssind << COOKIE_MSS_SHIFT) | (h2 & COOKIE_MAC_MASK)));
}

uint16_t cookie_check(tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6,
		      hsk_seq iss, hsk_seq irs)
{
	cookie_pre prefix = cookie_prefix(s, tu, a6, irs);
	uint32_t v = iss.v - cookie_h1(&prefix);
	uint32_t now = cookie_count(s);
	uint32_t mssind = (v >> COOKIE_MSS_SHIFT) & 3;
	for (uint32_t age = 0; age < 2 && age <= now; age++) {
		uint32_t count = now - age;
		if ((count & 0xff) != v >> COOKIE_COUNT_SHIFT)
			continue;
		uint32_t h2 = cookie_h2(&prefix, count, mssind);
		if ((h2 & COOKIE_MAC_MASK) == (v & COOKIE_MAC_MASK))
			return cookie_mss[mssind];
	}
	return 0;
}
