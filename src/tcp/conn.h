/*
 * The making of a TCB, in line where connections are made (conn.c's
 * tcb_new, listen.c's passive child): the frames of the two calls a
 * passive open would otherwise pay at every third ACK.
 */
#ifndef HSK_TCP_CONN_H
#define HSK_TCP_CONN_H

#include <assert.h>
#include <string.h>

#include "tcp/tcp.h"

enum { TCPOLEN_TS_ALIGNED = 12 };

/* The fields a passive child's making writes whatever its way (ISS, the
 * send and receive variables, the windows, ts_offset), in the TCB's
 * order: tcb_new_lng's copy of tcb_fresh for a child skips them. */
#define TCB_CHILD_SETS_AT offsetof(tcb, iss)
#define TCB_CHILD_SETS_END offsetof(tcb, ts_recent)
_Static_assert(TCB_CHILD_SETS_END - TCB_CHILD_SETS_AT == 11 * sizeof(uint32_t) &&
	       offsetof(tcb, ts_offset) + sizeof(uint32_t) == TCB_CHILD_SETS_END,
	       "iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2, rcv_nxt, rcv_adv, "
	       "snd_wnd, max_snd_wnd and ts_offset, one after another");

/* A new TCB for tu, in the table, without its ts_offset (tcb_new draws
 * one, a passive TCB takes its request's), taking the place of prev when
 * not NULL (a request with its key, left in the table for this):
 * tbl_replace instead of tbl_insert. On NULL prev is still in the table.
 * lng: tcp_stack.conn_long (a constant on the usual third ACK's way).
 * child: the passive child, whose making (listen.c's listener_child_at)
 * writes every field from iss to ts_offset itself (TCB_CHILD_SETS): the
 * copy leaves them out. */
static inline __attribute__((always_inline)) tcb *tcb_new_lng(tcp_stack *s, const hsk_tuple *tu,
							       const tbl_v6addrs *a6,
							       tbl_node *prev, bool lng, bool child)
{
	tcb *t;
	if (lng) {
		/* the long way: a zeroed slot, every field set here */
		t = tcp_obj_get(s, HSK_OBJ_TCB, tu, a6);
		if (t)
			tcb_fresh_init(s, t);
	} else {
		/* the same bytes from the copy tcp_init made */
		t = tcp_obj_slot(s, HSK_OBJ_TCB, a6);
		if (t) {
			if (child) {
				memcpy(t, &s->tcb_fresh, TCB_CHILD_SETS_AT);
				memcpy((char *)t + TCB_CHILD_SETS_END,
				       (const char *)&s->tcb_fresh + TCB_CHILD_SETS_END,
				       sizeof(*t) - TCB_CHILD_SETS_END);
			} else {
				memcpy(t, &s->tcb_fresh, sizeof(*t));
			}
			t->node.key = *tu;
			/* (the copy's is false: the bit set for IPv6
			 * alone, not its byte rewritten for every TCB) */
			assert(!s->tcb_fresh.node.v6);
			if (a6)
				t->node.v6 = true;
		}
	}
	if (!t) {
		CNT_INC(s->env, TCPAbortOnMemory);
		return NULL;
	}
	if (prev)
		tbl_replace(&s->conns, prev, &t->node);
	else
		tbl_insert(&s->conns, &t->node);
	return t;
}

static inline __attribute__((always_inline)) tcb *tcb_new_inl(tcp_stack *s, const hsk_tuple *tu,
							       const tbl_v6addrs *a6,
							       tbl_node *prev)
{
	return tcb_new_lng(s, tu, a6, prev, s->conn_long, false);
}

/* tcb_new's body (tcp.h has what it does), in line in connect's
 * conn_start (socket.c): a call and a frame less. */
static inline __attribute__((always_inline)) tcb *tcb_new_active(tcp_stack *s,
								   const hsk_tuple *tu,
								   const tbl_v6addrs *a6)
{
	tcb *t = tcb_new_inl(s, tu, a6, NULL);
	if (t)
		t->ts_offset = (uint32_t)rng_next(&s->env->rng);
	return t;
}

/* The timestamp option rides on every segment: room for it comes out of
 * the payload, as Linux's tcp_current_mss does; never all of it. */
static inline uint16_t mss_less_ts(uint16_t mss)
{
	return mss > TCPOLEN_TS_ALIGNED ? (uint16_t)(mss - TCPOLEN_TS_ALIGNED) : 1;
}

/* The peer's MSS (option value; RFC 9293's 536 when absent) capped by ours
 * and raised to min_snd_mss (Linux's tcp_min_snd_mss, CVE-2019-11479),
 * the floor itself never above our own MSS. */
static inline uint16_t tcp_clamp_mss(const tcp_stack *s, uint32_t mss, bool v6)
{
	uint16_t ours = tcp_our_mss(s, v6);
	uint32_t floor = s->env->cfg.min_snd_mss < ours ? s->env->cfg.min_snd_mss : ours;
	if (mss > ours)
		mss = ours;
	if (mss < floor)
		mss = floor;
	return (uint16_t)(mss ? mss : 1);      /* min_snd_mss 0: still never 0 */
}

/* What the peer's SYN (or SYN,ACK) says: its MSS (clamped, capped by
 * TCP_MAXSEG, timestamp room taken off), its window shift (-1: none), and
 * in opts TF_SACK_OK and TF_TS_OK (with its TSval) as this connection
 * takes them: the peer offered them and our configuration allows them
 * (the caller's test: tcb_syn_opts; a request made it at the SYN). In
 * line at both callers (listen.c's child, input.c's SYN,ACK). user_mss:
 * TCP_MAXSEG's, tcb_user_mss(t) (the passive child's caller knows it);
 * rcv_wscale: our shift when the peer offers one (t->rcv_wscale, or the
 * request's for the passive child): the two shifts share a byte, written
 * once. */
static inline __attribute__((always_inline)) void
tcb_init_from_syn_um(tcp_stack *s, tcb *t, uint16_t mss, int8_t peer_wscale, uint32_t opts,
		     uint32_t ts_val, uint16_t user_mss, uint8_t rcv_wscale)
{
	assert(user_mss == tcb_user_mss(t));
	/* RFC 9293 §3.7.1: 536 when the peer sends no MSS option. */
	mss = mss_cap(tcp_clamp_mss(s, mss ? mss : TCP_DEFAULT_MSS, t->node.v6), user_mss);
	uint8_t snd_wscale = 0;
	if (peer_wscale >= 0) {
		opts |= TF_WSCALE;
		/* RFC 7323 §2.3: a shift above 14 is used as 14. */
		snd_wscale = (uint8_t)(peer_wscale > 14 ? 14 : peer_wscale);
	} else {
		rcv_wscale = 0;
	}
	t->snd_wscale = snd_wscale & 15;
	t->rcv_wscale = rcv_wscale & 15;
	t->flags |= opts;
	if (opts & TF_TS_OK) {
		t->ts_recent = ts_val;
		/* (env_set_now's ms clock: now / 10^6) */
		assert(s->env->now_ms == (uint32_t)(s->env->now / 1000000));
		t->ts_recent_ms = s->env->now_ms;
		mss = mss_less_ts(mss);
	}
	t->mss = mss;
}

static inline __attribute__((always_inline)) void
tcb_init_from_syn_inl(tcp_stack *s, tcb *t, uint16_t mss, int8_t peer_wscale, uint32_t opts,
		      uint32_t ts_val)
{
	tcb_init_from_syn_um(s, t, mss, peer_wscale, opts, ts_val, tcb_user_mss(t),
			     t->rcv_wscale);
}

/* tcb_established()'s last steps (input.c), for every TCB that reaches
 * ESTABLISHED, and for the passive child made there (listen.c): the
 * keepalive set before the connection existed starts now; a reply this
 * soon after the handshake makes it interactive (quickack.c), as Linux's
 * lrcv_ms starts at the handshake; a passive open is counted. passive:
 * TF_PASSIVE; fresh: keep_at is 0 (a child's making knows both: their
 * tests fold). */
static inline __attribute__((always_inline)) void
established_start_k(tcp_stack *s, tcb *t, bool passive, bool fresh)
{
	assert(passive == !!(t->flags & TF_PASSIVE) && (!fresh || !t->keep_at));
	if ((t->flags & TF_KEEPALIVE) && (fresh || !t->keep_at))
		t->keep_at = s->env->now + keep_idle_ns(s, t);
	t->lrcv_ms = s->env->now_ms ? s->env->now_ms : 1;
	if (passive)
		CNT_INC(s->env, PassiveOpens);
}

static inline __attribute__((always_inline)) void established_start(tcp_stack *s, tcb *t)
{
	established_start_k(s, t, t->flags & TF_PASSIVE, false);
}

/* F of RFC 6528 for IPv4: SipHash-2-4 of the tuple's 12 bytes (table.h's
 * tuple_hash_from) from the key's hsk_sip_pre; the state after the first
 * word (the addresses) is kept for the next ISN between them, as an
 * hsk_sip_pre too (the ports' first round begun). */
static inline __attribute__((always_inline)) uint64_t isn_hash(tcp_stack *s,
								const hsk_tuple *tu)
{
	uint64_t m0 = TUPLE_M0(tu);
	if (m0 != s->isn_m0) {
		s->isn_m0 = m0;
		s->isn_st = sip_pre(sip_absorb_pre(&s->isn_p, m0));
	}
	return sip_finish(sip_absorb_pre(&s->isn_st, TUPLE_M1(tu)), 4);
}

/* F for IPv6: of the 36 bytes (conn.c). */
uint64_t isn_hash6(tcp_stack *s, const tbl_v6addrs *a, uint16_t lport, uint16_t rport);

/* tcp_isn's body (tcp.h), in line in a request's making (listen.c). */
static inline __attribute__((always_inline)) hsk_seq tcp_isn_inl(tcp_stack *s,
								    const hsk_tuple *tu,
								    const tbl_v6addrs *a6)
{
	/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport,
	 * secretkey), M a 4-microsecond clock; for IPv6 F takes the 128-bit
	 * addresses. */
	if (s->env->cfg.isn_fixed)
		return seq_of(s->env->cfg.isn_offset);
	uint32_t m = (uint32_t)(s->env->now / 4000);
	uint32_t f = (uint32_t)(a6 ? isn_hash6(s, a6, tu->lport, tu->rport) :
				isn_hash(s, tu));
	return seq_of(m + f + s->env->cfg.isn_offset);
}

#endif
