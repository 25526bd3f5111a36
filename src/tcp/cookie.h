/*
 * The SYN cookie's computation (cookie.c says what it is), inline for the
 * dedicated SYN path (listen.c, syn_cookie_fast) and cookie.c.
 */
#ifndef HSK_TCP_COOKIE_H
#define HSK_TCP_COOKIE_H

#include "core/siphash.h"
#include "tcp/passive.h"

#define COOKIE_LABEL 0x636f6f6b69653132ull /* "cookie12" */

static const uint16_t cookie_mss[4] = { 536, 1300, 1440, 1460 };

/* The SipHash state after the whole words of the input: laddr, raddr,
 * lport << 16 | rport, irs as little-endian 32-bit words (IPv6: the 32
 * bytes of the addresses l, r in place of the first word). The count
 * follows as the last 4 bytes (cookie_hash). The first word is taken
 * from the key's state a step on (tcp_stack.cookie_p, sip_pre's: what
 * sip_init and the first round do without the word, done once). */
static inline __attribute__((always_inline)) hsk_sip
cookie_prefix(const tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6, hsk_seq irs)
{
	hsk_sip st;
	if (a6) {
		st = sip_absorb_pre(&s->cookie_p, sip_le64(a6->l));
		sip_block(&st, sip_le64(a6->l + 8));
		for (int i = 0; i < 16; i += 8)
			sip_block(&st, sip_le64(a6->r + i));
	} else {
		st = sip_absorb_pre(&s->cookie_p, (uint64_t)tu->raddr << 32 | tu->laddr);
	}
	sip_block(&st, (uint64_t)irs.v << 32 | ((uint32_t)tu->lport << 16 | tu->rport));
	return st;
}

static inline __attribute__((always_inline)) uint64_t
cookie_hash(const hsk_sip *prefix, bool v6, uint32_t count)
{
	return sip_final_tail(prefix, v6 ? 44 : 20, count);
}

/* What a cookie SYN-ACK's TSval keeps of the SYN's options, in its low
 * COOKIE_TS_BITS (Linux's layout, TSBITS): bits 0-3 the peer's window
 * scale or COOKIE_TS_NO_WSCALE, bit 4 SACK permitted, bit 5 ECN agreed
 * (the SYN asked for it and the SYN-ACK said ECE). */
enum {
	COOKIE_TS_BITS = 6,
	COOKIE_TS_MASK = (1u << COOKIE_TS_BITS) - 1,
	COOKIE_TS_WSCALE = 0xf,
	COOKIE_TS_NO_WSCALE = 0xf,
	COOKIE_TS_SACK = 0x10,
	COOKIE_TS_ECN = 0x20,
};

/* A cookie connection's TSval offset: no request keeps a random one, so
 * it comes from the cookie's hash, which the ACK's check finds again.
 * The step's bits (hi32): they authenticate only this tuple's MSS index,
 * which its own SYN chose, and the TSval hides them behind the clock. */
static inline uint32_t cookie_ts_offset(uint64_t h)
{
	return (uint32_t)(h >> 32);
}

static inline uint32_t cookie_count(const tcp_stack *s)
{
	return (uint32_t)(s->env->now / COOKIE_PERIOD_NS);
}

/* cookie_make, inline; *ts_offset the connection's TSval offset (below). */
static inline __attribute__((always_inline)) hsk_seq
cookie_iss_off(const tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6, hsk_seq irs,
	       uint16_t mss, uint32_t *ts_offset)
{
	/* the index of the largest cookie_mss[] <= mss (0 below 1300),
	 * the commonest (1460) first */
	uint32_t mssind = mss >= cookie_mss[3] ? 3 : mss >= cookie_mss[2] ? 2 :
			  mss >= cookie_mss[1] ? 1 : 0;
	hsk_sip prefix = cookie_prefix(s, tu, a6, irs);
	uint64_t h = cookie_hash(&prefix, a6 != NULL, cookie_count(s));
	*ts_offset = cookie_ts_offset(h);
	return seq_of((uint32_t)h + mssind * ((uint32_t)(h >> 32) | 1));
}

static inline __attribute__((always_inline)) hsk_seq
cookie_iss(const tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6, hsk_seq irs,
	   uint16_t mss)
{
	uint32_t off;
	return cookie_iss_off(s, tu, a6, irs, mss, &off);
}

/* The peer's options in the low bits of the cookie SYN-ACK's TSval
 * (cookie.c): its window scale (at most 14; 15 for none), SACK, ECN. */
static inline uint32_t cookie_ts_opts(int peer_wscale, bool sack, bool ecn)
{
	uint32_t ws = peer_wscale < 0 ? COOKIE_TS_NO_WSCALE :
		      peer_wscale > 14 ? 14 : (uint32_t)peer_wscale;
	return ws | (sack ? COOKIE_TS_SACK : 0) | (ecn ? COOKIE_TS_ECN : 0);
}

/* The cookie SYN-ACK's TSval: the connection's clock (tsval) with its
 * low bits replaced by opts, and never later than it: the connection's
 * next TSvals are the clock's, and the peer's PAWS must not find them
 * older (as Linux's cookie_init_timestamp). */
static inline uint32_t cookie_tsval(uint32_t tsval, uint32_t opts)
{
	uint32_t v = (tsval & ~(uint32_t)COOKIE_TS_MASK) | opts;
	return (int32_t)(v - tsval) > 0 ? v - (1u << COOKIE_TS_BITS) : v;
}

#endif
