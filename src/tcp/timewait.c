/*
 * TIME_WAIT (RFC 9293 §3.10.7.4, RFC 1337).
 *
 * A connection entering TIME_WAIT shrinks to a tcp_tw entry holding only
 * what the state needs: the tuple, SND.NXT and RCV.NXT to acknowledge a
 * retransmitted FIN, and the 2MSL timer. The full TCB is freed (or kept
 * detached while its socket still has unread data).
 *
 * What arrives, and the verdict (tw_input; reply.c sends and limits):
 *   RST                    ignored (RFC 1337: no TIME_WAIT assassination)
 *   SYN, no ACK, SEG.SEQ > RCV.NXT, or a TSval newer than TS.Recent
 *   (both incarnations with timestamps)
 *                          a new incarnation: the entry ends, the SYN goes
 *                          to the listener (TWRecycled; RFC 6191)
 *   any other SYN          challenge ACK (RFC 5961 §4.2), SYN,ACK at
 *                          RCV.NXT included
 *   FIN with ACK ending at RCV.NXT (the peer's FIN again: SEG.SEQ + LEN =
 *   RCV.NXT - 1) or starting there (a FIN beyond the one counted)
 *                          ACK it and restart 2MSL (RFC 9293 §3.10.7.4,
 *                          eighth step; Linux does both). RCV.NXT stays:
 *                          the first FIN ended the stream.
 *   a bare ACK at RCV.NXT  silently taken (it does not restart 2MSL)
 *   anything else          duplicate ACK: text, any other FIN, out of
 *                          window (rate limited when it has no text)
 */
#include <assert.h>
#include <string.h>

#include "tcp/end.h"
#include "tcp/passive.h"
#include "tcp/tcp.h"

void tw_send_ack(tcp_stack *s, tcp_tw *tw)
{
	seg_out o = {
		.flags = HSK_TH_ACK, .seq = tw->snd_nxt, .ack = tw->rcv_nxt,
		.win = tw->rcv_win, .tos = tw->tos,
	};
	if (tw->ts_ok) {        /* RFC 7323 §3.2: on every segment */
		o.opt.has_ts = true;
		o.opt.ts_val = rtt_tsval(&s->rttp, s->env->now, tw->ts_offset);
		o.opt.ts_ecr = tw->ts_recent;
	}
	seg_send(s, &tw->node.key, obj_a6(s, &tw->node), &o, NULL, HSK_OBJ_TW, -1);
}

static uint64_t tw_lifetime(const tcp_stack *s) { return 2 * s->env->cfg.msl_ns; }

/* The entry of t: what TIME_WAIT keeps of the connection, its timer
 * unarmed. */
static inline void tw_fill(tcp_tw *tw, const tcb *t, uint16_t win)
{
	*tw = (tcp_tw){
		.node = { .key = t->node.key, .kind = HSK_OBJ_TW, .v6 = t->node.v6 },
		.snd_nxt = t->snd_max, .rcv_nxt = t->rcv_nxt, .rcv_win = win,
		.ts_ok = (t->flags & TF_TS_OK) != 0, .tos = t->tos,
		.reuse = (t->flags & TF_REUSEADDR) != 0,
		.ts_offset = t->ts_offset, .ts_recent = t->ts_recent,
	};
}

/* tw_enter in general: the transition's trace and the socket's
 * notification, a full table or an empty free list, a deadline the
 * wheel's fifo does not take, the long way through the table. */
static __attribute__((noinline)) void tw_enter_general(tcp_stack *s, tcb *t, const char *cause,
							 uint16_t win)
{
	if (!tcb_set_state(s, t, HSK_TIME_WAIT, cause))
		return;
	/* not zeroed: assigned whole below */
	tcp_tw *tw = tcp_obj_slot(s, HSK_OBJ_TW, obj_a6(s, &t->node));
	if (!tw) {
		/* Like Linux past tcp_max_tw_buckets: close without TIME_WAIT. */
		CNT_INC(s->env, TCPTimeWaitOverflow);
		tcb_closed(s, t, "TIME_WAIT table full");
		return;
	}
	tw_fill(tw, t, win);
	/* every entry lives 2MSL: on the wheel's fifo, in order */
	wheel_arm_fifo(&s->env->wheel, &tw->timer, s->env->now + tw_lifetime(s));
	/* out of the table, the entry in its place (the long way: out,
	 * then in; tests compare), and the TCB freed unless a socket still
	 * open holds it (told by the transition) */
	if (s->conn_long) {
		tcb_detach(s, t);
		tbl_insert(&s->conns, &tw->node);
	}
	tcb_end_to(s, t, s->conn_long ? NULL : &tw->node);
}

/* Whether tw_enter may take its usual way (p: the entries' pool of t's
 * family): untraced, no socket to tell (closed already), an entry on p's
 * free list within the limit, the deadline the fifo's last, the short
 * way through the table. */
static inline bool tw_usual(tcp_stack *s, const tcb *t, const hsk_pool *p,
			    uint64_t deadline)
{
	return !s->env->cfg.trace &&
	       t->sd < 0 && p->free_list && tcp_obj_room(s, HSK_OBJ_TW) &&
	       wheel_fifo_ok(&s->env->wheel, deadline) && !s->conn_long;
}

/* Its usual way does tw_enter_general's work in line, the TCB's end
 * (tcb_end_to_inl) included, so in one frame: the state set as tcb_set_state's
 * usual way sets it (the transition is legal: TIME_WAIT is entered from
 * FIN_WAIT_1, FIN_WAIT_2 and CLOSING alone), the entry the free list's
 * head. */
static inline __attribute__((always_inline)) void tw_enter_inl(tcp_stack *s, tcb *t,
								 const char *cause, uint16_t win)
{
	assert(t->state == HSK_FIN_WAIT_1 || t->state == HSK_FIN_WAIT_2 ||
	       t->state == HSK_CLOSING);
	uint64_t deadline = s->env->now + tw_lifetime(s);
	hsk_pool *p = tcp_obj_pool(s, HSK_OBJ_TW, t->node.v6);
	if (!tw_usual(s, t, p, deadline)) {
		tw_enter_general(s, t, cause, win);
		return;
	}
	t->state = HSK_TIME_WAIT;
	tcp_tw *tw = pool_take_head(p);
	if (t->node.v6)     /* (tcp_obj_slot's copy of the addresses) */
		memcpy((char *)tw + s->conns.obj_size[HSK_OBJ_TW], obj_a6(s, &t->node),
		       sizeof(tbl_v6addrs));
	tw_fill(tw, t, win);
	wheel_fifo_append(&s->env->wheel, &tw->timer, deadline);
	tcb_end_to_inl(s, t, &tw->node);       /* (in line: one frame) */
}

void tw_enter(tcp_stack *s, tcb *t, const char *cause, uint16_t win)
{
	tw_enter_inl(s, t, cause, win);
}

void tw_enter_acked(tcp_stack *s, tcb *t, const char *cause)
{
	tw_enter_inl(s, t, cause, tcb_send_ack(s, t));
}

/* The entry leaves the table and goes back to its pool; its timer is
 * not armed. (tbl_remove_end: the callers insert no successor through
 * the cache; a new incarnation's SYN looked the entry up, so the cache
 * holds it and is told the tuple is absent either way. In line, as it
 * is: tw_timer_fire's usual way then makes no call, so needs no frame.) */
static inline __attribute__((always_inline)) void tw_drop(tcp_stack *s, tcp_tw *tw)
{
	tbl_remove_end(&s->conns, &tw->node);
	/* (tcp_obj_put with the kind known: no switch over the kinds) */
	pool_put(tcp_obj_pool(s, HSK_OBJ_TW, tw->node.v6), tw);
}

void tw_free(tcp_stack *s, tcp_tw *tw)
{
	wheel_cancel(&s->env->wheel, &tw->timer);
	tw_drop(s, tw);
}

/* Whether an entry's end takes the general way (tw_fire_general, one
 * entry a call): traced (the transition's event), or while the table
 * grows (tbl_remove_end's call of tbl_remove). tw_fire_inl and
 * tw_reap_from's loop ask it. */
static inline bool tw_end_general(const tcp_stack *s)
{
	return s->env->cfg.trace || s->conns.old;
}

/* tw_timer_fire in general (tw_end_general). */
static __attribute__((noinline, cold)) void tw_fire_general(tcp_stack *s, tcp_tw *tw)
{
	if (s->env->cfg.trace)
		trace_obj_state(s, HSK_OBJ_TW, &tw->node.key, obj_a6(s, &tw->node),
				HSK_TIME_WAIT, HSK_CLOSED, "timer 2MSL");
	tw_drop(s, tw);
}

/* tw_timer_fire's body, in line in it and in tw_reap_due's loop. */
static inline __attribute__((always_inline)) void tw_fire_inl(tcp_stack *s, tcp_tw *tw)
{
	CNT_INC(s->env, TW);
	/* wheel_pop_expired disarmed the timer it hands over: nothing to
	 * cancel */
	assert(!timer_armed(&tw->timer));
	/* The usual way makes no call, so needs no frame. (Which way is
	 * taken changes nothing but that: tbl_remove_end tests the table's
	 * growth itself.) */
	if (tw_end_general(s)) {
		tw_fire_general(s, tw);
		return;
	}
	tw_drop(s, tw);
}

void tw_timer_fire(tcp_stack *s, tcp_tw *tw, uint64_t now)
{
	(void)now;
	tw_fire_inl(s, tw);
}

static inline tcp_tw *tw_of_timer(hsk_timer *tm)
{
	tcp_tw *tw = (tcp_tw *)((char *)tm - offsetof(tcp_tw, timer));
	/* Only TIME_WAIT's entries are armed on the fifo (wheel_arm_fifo). */
	assert(tw->node.kind == HSK_OBJ_TW);
	return tw;
}

void tw_reap_from(tcp_stack *s, hsk_timer *tm, uint64_t now)
{
	hsk_wheel *w = &s->env->wheel;
	if (tw_end_general(s)) {
		tw_fire_inl(s, tw_of_timer(tm));        /* (the caller comes back) */
		return;
	}
	/* Untraced, the table not growing: an entry's end arms, cancels and
	 * pops no timer and starts no growth, so the wheel's lists but the
	 * fifo stay as wheel_fifo_pop_due found them, and the next due head
	 * is the first due timer again. */
	do {
		assert(now <= w->now && w->pending.next == &w->pending &&
		       w->overdue.next == &w->overdue);
		CNT_INC(s->env, TW);
		tw_drop(s, tw_of_timer(tm));
	} while ((tm = wheel_fifo_pop_next(w, now)) != NULL);
}

/* Whether a SYN (without ACK) may open a new incarnation of the tuple:
 * a SEG.SEQ above the old RCV.NXT (RFC 1122 4.2.2.13), or, when both
 * incarnations use timestamps, a TSval newer than TS.Recent whatever
 * SEG.SEQ (RFC 6191 §2; Linux's tcp_timewait_state_process): the old
 * incarnation's duplicates then fail the new one's PAWS. An older TSval
 * does not refuse a SEG.SEQ above RCV.NXT, as it does in RFC 6191 and
 * Linux: our connections draw a TSval offset each (RFC 7323 §5.4), so an
 * older one says nothing about age. */
static bool tw_syn_is_new(const tcp_tw *tw, const tcp_seg *sg)
{
	if (tw->ts_ok && sg->th.opt.has_ts &&
	    (int32_t)(sg->th.opt.ts_val - tw->ts_recent) > 0)
		return true;
	return seq_gt(sg->seq, tw->rcv_nxt);
}

tcp_verdict tw_input(tcp_stack *s, tcp_tw *tw, const tcp_seg *sg)
{
	uint8_t f = sg->th.flags;
	if (f & HSK_TH_RST)
		return TV(TV_DROP, "RST in TIME_WAIT ignored (RFC 1337)");
	if (f & HSK_TH_SYN) {
		if (!(f & HSK_TH_ACK) && tw_syn_is_new(tw, sg)) {
			tcp_listener *l = listener_for(s, sg);
			CNT_INC(s->env, TWRecycled);
			trace_obj_state(s, HSK_OBJ_TW, &tw->node.key, sg->a6, HSK_TIME_WAIT,
					HSK_CLOSED, "rcv SYN of a new connection");
			/* RFC 1122 4.2.2.13: the new ISS must be above every
			 * sequence number of the old incarnation, which the ISN
			 * clock does not promise (Linux: tw_snd_nxt + 65535 + 2). */
			hsk_seq isn = seq_add(tw->snd_nxt, 65535 + 2);
			tw_free(s, tw);
			/* The entry is gone: what follows is the listener's. */
			tcp_reply(s, NULL, sg, l ? listen_input_isn(s, l, sg, &isn) :
				  TV(TV_RST, NULL));
			return TV(TV_DONE, NULL);
		}
		CNT_INC(s->env, TCPSYNChallenge);
		return TV(TV_CHALLENGE, "SYN in TIME_WAIT: challenge ACK");
	}
	bool fin = f & HSK_TH_FIN;
	if (fin && (f & HSK_TH_ACK) &&
	    (seq_eq(seq_add(sg->seq, seg_space(sg)), tw->rcv_nxt) ||
	     seq_eq(sg->seq, tw->rcv_nxt))) {
		/* The peer did not hear our ACK of its FIN. */
		wheel_arm_fifo(&s->env->wheel, &tw->timer, s->env->now + tw_lifetime(s));
		return TV(TV_DUPACK, "FIN in TIME_WAIT: ACK, restart 2MSL");
	}
	if (sg->len || fin || !seq_eq(sg->seq, tw->rcv_nxt))
		return TV(TV_DUPACK, "segment in TIME_WAIT");
	return TV(TV_DROP, "ACK in TIME_WAIT");
}
