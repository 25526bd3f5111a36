/*
 * SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the
 * SYN-ACK carries everything the connection needs in its ISS and no request
 * is kept; the final ACK (SEG.ACK - 1) is checked statelessly.
 *
 * The cookie, in 32 bits, from one 64-bit keyed hash:
 *
 *   h   = SipHash-2-4 of the 4-tuple, the client's ISN (SEG.SEQ of the
 *         SYN) and count, under the stack's key mixed with a cookie label
 *         (20 bytes for IPv4, 44 for IPv6);
 *   ISS = lo32(h) + mssind * (hi32(h) | 1)   (mod 2^32)
 *
 *   count  a coarse clock, now / 64 s;
 *   mssind the client's MSS as an index into a table of common values
 *          (536, 1300, 1440, 1460), rounded down.
 *
 * lo32(h) makes the ISS as unpredictable as an RFC 6528 one and is the
 * authenticator; the MSS index moves it by a multiple of a secret odd
 * step, so it is authenticated too (knowing one cookie, another index's
 * is a guess of hi32(h)). The check recomputes h for the current period
 * and the previous one (so a cookie lives between 64 and 128 s, as
 * Linux's 2 minutes) and accepts when ISS - lo32(h) is 0, 1, 2 or 3
 * steps: a blind forgery succeeds with probability 8 / 2^32 = 2^-29 per
 * try. Making one costs one SipHash (10 rounds for IPv4) where Linux's
 * layout (H1 hiding an 8-bit count, H2 a 22-bit MAC) took two. A peer
 * MSS below 536 is rounded up to 536, as Linux does.
 *
 * The other options live in the timestamp, as Linux's (cookie_init_timestamp,
 * cookie_timestamp_decode): when the SYN carries timestamps (and the stack
 * uses them), the SYN-ACK answers its window scale, SACK permitted and
 * timestamps as a request's would (and ECE, when the SYN asks for ECN and
 * the stack agrees), and its TSval's low 6 bits say what the peer offered
 * (cookie.h, COOKIE_TS_*). The peer's ACK echoes them in TSecr, and the
 * connection is made with them; its TSval offset is the hash's
 * (cookie_ts_offset). An ACK without timestamps, or whose echo is not of
 * that clock, makes a connection without any of them; one whose echo asks
 * for what the stack does not do (timestamps, SACK, window scaling or ECN
 * turned off since) fails as a bad cookie. A SYN without timestamps gets
 * the MSS alone, so a connection opened by it has an unscaled window (at
 * most 65535 bytes) and no ECN for its lifetime.
 */
#include "tcp/cookie.h"
#include "tcp/passive.h"

void cookie_key_init(tcp_stack *s)
{
	s->cookie_p = sip_pre(sip_init(s->env->key0 ^ COOKIE_LABEL, s->env->key1));
}

hsk_seq cookie_make(tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6, hsk_seq irs,
		    uint16_t mss)
{
	return cookie_iss(s, tu, a6, irs, mss);
}

hsk_seq cookie_make_off(tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6, hsk_seq irs,
			uint16_t mss, uint32_t *ts_offset)
{
	return cookie_iss_off(s, tu, a6, irs, mss, ts_offset);
}

uint16_t cookie_check(tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6,
		      hsk_seq iss, hsk_seq irs)
{
	uint32_t off;
	return cookie_check_off(s, tu, a6, iss, irs, &off);
}

uint16_t cookie_check_off(tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6,
			  hsk_seq iss, hsk_seq irs, uint32_t *ts_offset)
{
	hsk_sip prefix = cookie_prefix(s, tu, a6, irs);
	uint32_t now = cookie_count(s);
	for (uint32_t age = 0; age < 2 && age <= now; age++) {
		uint64_t h = cookie_hash(&prefix, a6 != NULL, now - age);
		uint32_t d = iss.v - (uint32_t)h, step = (uint32_t)(h >> 32) | 1;
		for (uint32_t m = 0; m < 4; m++)
			if (d == m * step) {
				*ts_offset = cookie_ts_offset(h);
				return cookie_mss[m];
			}
	}
	return 0;
}
