/*
 * The TCB's life: creation, initial sequence numbers, the end of a
 * connection (closed, failed, freed) and readiness notification. Its
 * buffers and their memory are mem.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/conn.h"
#include "tcp/end.h"
#include "tcp/passive.h"
#include "tcp/tcp.h"

void tcb_fresh_init(tcp_stack *s, tcb *t)
{
	t->node.kind = HSK_OBJ_TCB;
	timer_init(&t->timer);
	t->sd = -1;
	t->state = HSK_CLOSED;
	t->mss = TCP_DEFAULT_MSS;
	rtt_init(&t->rtt, &s->rttp);
	t->cc_id = cc_index(s->cc_ops) & 3;
	tcb_cc_init(s, t, TCP_DEFAULT_MSS);
	t->sndbuf = s->env->cfg.sndbuf;
	t->rcvbuf = s->env->cfg.rcvbuf;
	t->rcv_wscale = tcp_rcv_wscale(s, t->rcvbuf, 0);
}

tcb *tcb_new(tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6)
{
	return tcb_new_active(s, tu, a6);
}

/* Takes the TCB out of the table and stops its timers; the memory stays
 * for whoever still holds it. (tcb_detach's; in line in tcb_end_general,
 * as tcb_free_detached is: a frame and a call less each.) When it is
 * freed next (held false), the deadlines of a kept TCB (the
 * extension's, keepalive's) are for nobody: tcb_act_free and pool_put
 * give the memory back, and tcb_act_new and tcb_new_inl set every field
 * again. TF_DETACHED is set all the same: the rings' release reads it
 * (an orphan's bytes were uncounted here). */
static inline __attribute__((always_inline)) void detach_to(tcp_stack *s, tcb *t,
							     tbl_node *succ, bool held)
{
	if (t->flags & TF_DETACHED) {
		if (succ)
			tbl_insert(&s->conns, succ);
		return;
	}
	if (t->flags & TF_TFO_PENDING)
		tfo_child_done(s, t);
	tcb_detach_now(s, t, succ, tcb_counted_orphan(t));
	if (!held)
		return;
	if (t->act)
		t->act->rtx_at = t->act->delack_at = t->act->close_at = 0;
	t->keep_at = 0;
}

void tcb_detach(tcp_stack *s, tcb *t)
{
	detach_to(s, t, NULL, true);
}

void tcb_free(tcp_stack *s, tcb *t)
{
	/* (tcb_closed and TIME_WAIT's entry do not come here) */
	if (!(t->flags & TF_DETACHED))
		tcb_detach(s, t);
	tcb_free_detached(s, t);
}

void tcb_end_general(tcp_stack *s, tcb *t, tbl_node *succ)
{
	/* (the detach changes neither) */
	bool held = t->sd >= 0 || (t->flags & TF_ON_ACCEPTQ);
	detach_to(s, t, succ, held);
	if (!held)
		tcb_free_detached(s, t);
}

void tcb_end_to(tcp_stack *s, tcb *t, tbl_node *succ)
{
	tcb_end_to_inl(s, t, succ);
}

void tcb_closed(tcp_stack *s, tcb *t, const char *cause)
{
	/* Every state may close; should the table ever refuse it (a bug,
	 * asserted in debug builds), the connection ends all the same rather
	 * than live on unreachable. */
	if (!tcb_set_state(s, t, HSK_CLOSED, cause)) {
		t->err = t->err ? t->err : HSK_ECONNABORTED;
		tcb_notify(s, t);       /* (the transition tells it otherwise) */
	}
	tcb_end_to_inl(s, t, NULL);
}

void tcb_closed_orphan(tcp_stack *s, tcb *t, const char *cause)
{
	/* (no socket to tell: the transition without the notification; the
	 * table's test is made where tcb_set_state_told asserts it) */
	assert(t->sd < 0);
	tcb_set_state_told(s, t, HSK_CLOSED, cause);
	tcb_end_to_inl(s, t, NULL);
}

void tcb_fail(tcp_stack *s, tcb *t, int err, const char *cause)
{
	t->err = err;
	tcb_closed(s, t, cause);
}

/* The state after an IPv6 tuple's four address words (tuple_hash6_from's
 * first 32 bytes) from the key's hsk_sip_pre. */
static hsk_sip isn_addrs6(const hsk_sip_pre *p, const tbl_v6addrs *a)
{
	hsk_sip st = sip_absorb_pre(p, sip_le64(a->l));
	sip_absorb(&st, sip_le64(a->l + 8), 2);
	sip_absorb(&st, sip_le64(a->r), 2);
	sip_absorb(&st, sip_le64(a->r + 8), 2);
	return st;
}

/* tuple_hash6_from's 36 bytes (the addresses' four words, then the
 * ports), from the state after the addresses when they are the last
 * ones's. */
uint64_t isn_hash6(tcp_stack *s, const tbl_v6addrs *a, uint16_t lport, uint16_t rport)
{
	if (memcmp(&s->isn_a6, a, sizeof(*a))) {
		s->isn_a6 = *a;
		s->isn_st6 = sip_pre(isn_addrs6(&s->isn_p, a));
	}
	return sip_finish(sip_absorb_pre(&s->isn_st6, sip_last_word(36, (uint64_t)rport << 16 | lport)),
			  4);
}

uint32_t tcp_flow_label(const tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6)
{
	/* SipHash-1-3 of the 36 bytes, as the table's (20 bits that steer
	 * paths need no more), under a key of its own ("flow" in it): the
	 * table's hash, the ISNs' and the ports' stay off the wire */
	hsk_sip st = sip_init(s->env->key0 ^ 0x666c6f77u, s->env->key1);
	const uint8_t *blk[4] = { a6->l, a6->l + 8, a6->r, a6->r + 8 };
	for (int i = 0; i < 4; i++)
		sip_absorb(&st, sip_le64(blk[i]), 1);
	sip_absorb(&st, sip_last_word(36, (uint64_t)tu->rport << 16 | tu->lport), 1);
	uint32_t f = (uint32_t)sip_finish(st, 3) & 0xfffff;
	return f ? f : 1;
}

void tcp_isn_init(tcp_stack *s)
{
	s->isn_p = sip_pre(sip_init(s->env->key0 ^ TCP_ISN_LABEL, s->env->key1));
	/* the kept states are the zero addresses' (so always some addresses') */
	s->isn_m0 = 0;
	s->isn_st = sip_pre(sip_absorb_pre(&s->isn_p, 0));
	memset(&s->isn_a6, 0, sizeof(s->isn_a6));
	s->isn_st6 = sip_pre(isn_addrs6(&s->isn_p, &s->isn_a6));
}

hsk_seq tcp_isn(tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6)
{
	return tcp_isn_inl(s, tu, a6);
}

uint16_t tcb_mss_for_mtu(const tcp_stack *s, const tcb *t, uint32_t mtu)
{
	uint32_t hdrs = (t->node.v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN) + TCP_HDR_LEN;
	uint16_t mss = mss_cap(tcp_clamp_mss(s, mtu > hdrs ? mtu - hdrs : 0, t->node.v6),
			       tcb_user_mss(t));
	return (t->flags & TF_TS_OK) ? mss_less_ts(mss) : mss;
}

