/*
 * The close's short ways: the four segments of a four-way close, each in
 * its state, when steps_predicted (arrive.c) found that the checks of
 * SEGMENT ARRIVES would pass:
 *   ESTABLISHED  the peer's FIN        established_fin_input
 *   FIN_WAIT_1   the ACK of our FIN    fin_wait_1_acked_input
 *   FIN_WAIT_2   the peer's FIN        fin_wait_2_fin_input
 *   LAST_ACK     the ACK of our FIN    tcb_closed_orphan (last_ack_ends:
 *                                      nothing else to do, in tcb_steps)
 * Each does what the steps would, leaving out only what cannot apply: its
 * guard in input.h (inline in tcb_steps) says what and why. With
 * tcp_stack.no_fastpath the steps are taken; tests/sim/test_fast_fin.c
 * compares the two ways.
 */
#include <assert.h>

#include "tcp/input.h"

/* FIN_WAIT_2's FIN (fin_wait_2_fin). */
__attribute__((noinline)) void fin_wait_2_fin_input(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	assert(seq_eq(t->snd_una, t->snd_max) && !(t->flags & (TF_RCVD_FIN | TF_ON_ACCEPTQ)));
	ts_update_predicted(s, t, sg);
	/* The window: only the trace of the ACK below reads it (trace_cc,
	 * its TX's snd_wnd); untraced nothing does before tw_enter frees
	 * the TCB (no socket holds it, nor an accept queue). TS.Recent the
	 * ACK and the entry take. */
	if (s->env->cfg.trace)
		update_window(t, sg);
	fin_taken(t);
	tw_enter_acked(s, t, "rcv FIN");       /* (the last call: no frame) */
}

/* FIN_WAIT_1, our FIN's ACK (fin_wait_1_acked). */
__attribute__((noinline)) tcp_verdict fin_wait_1_acked_input(tcp_stack *s, tcb *t,
							     const tcp_seg *sg)
{
	assert(!(t->flags & TF_FIN_ACKED));
	keepalive_heard(s, t);
	ts_update_predicted(s, t, sg);
	ack_forward(s, t, sg, ACK_FIN_ALL);   /* (the guard's: FIN sent, SEG.ACK = SND.MAX) */
	assert(t->flags & TF_FIN_ACKED);
	tcp_verdict v = fin_wait_2_enter(s, t);
	if (v.act)
		return v;
	/* tcp_output would only set the wheel (FIN_WAIT_2's timer): our FIN
	 * and all before it acknowledged, nothing is due (the ring is empty:
	 * nothing is written after a FIN) or in flight, and no ACK is owed
	 * (nothing here sets TF_ACK_NOW, and it never outlives the event that
	 * set it: that event's tcp_output sends it). */
	assert(!(t->flags & (TF_ACK_NOW | TF_DETACHED)) && !tcb_snd_len(t) &&
	       seq_eq(t->snd_una, t->snd_max) && seq_eq(t->snd_nxt, t->snd_max) &&
	       !(tcb_sack(t) && tcb_sack(t)->rk.lost_bytes));
	tcb_timer_set(s, t);
	return TV_OK;
}

/* established_fin_input after the ACK step: the FIN. told: the socket was
 * told in this event already (ack_advance does it), so the transition's
 * notification is left out. snd_empty: the send ring is empty (what the
 * ACK step found: nothing here writes to it). */
static inline __attribute__((always_inline)) tcp_verdict established_fin_taken(tcp_stack *s,
									     tcb *t, bool told,
									     bool snd_empty)
{
	assert(snd_empty == !tcb_snd_len(t));
	assert(t->state == HSK_ESTABLISHED && tcb_ooo_empty(t));
	if (told)       /* (the ACK step's way: ack_forward's ACK_OPEN) */
		ack_act_known(t, ACK_OPEN);
	tcp_sack *k = tcb_sack(t);
	if (k)
		sack_rcv_advance(&k->rcv, t->rcv_nxt);
	fin_taken(t);
	if (!(told ? tcb_set_state_told(s, t, HSK_CLOSE_WAIT, "rcv FIN") :
		     tcb_set_state_legal(s, t, HSK_CLOSE_WAIT, "rcv FIN")))
		return TV(TV_DROP, "illegal transition");
	/* The ACK of the FIN: with nothing written left to send or
	 * acknowledge (the ring holds every byte from SND.UNA on, and in
	 * ESTABLISHED neither our SYN nor a FIN is outstanding), tcp_output
	 * would find nothing due, nothing in flight for an RTO, and only
	 * this ACK to send before it sets the wheel. */
	if (snd_empty) {
		assert(tcb_all_acked(t));
		tcb_send_ack(s, t);
		/* told: the ACK step advanced SND.UNA over bytes of the send
		 * ring, so the extension is there, and the ACK just sent
		 * cleared its delayed ACK (tcb_timer_set_k's sent) */
		assert(!told || (t->act && !t->act->delack_at));
		tcb_timer_set_k(s, t, told, false);
		return TV_OK;
	}
	tcp_output(s, t);
	return TV_OK;
}

/* ESTABLISHED, the peer's FIN (established_fin). */
__attribute__((noinline)) tcp_verdict established_fin_input(tcp_stack *s, tcb *t,
							    const tcp_seg *sg)
{
	assert(!(t->flags & TF_RCVD_FIN));
	keepalive_heard(s, t);
	ts_update_predicted(s, t, sg);
	/* ack_input: in ESTABLISHED an ACK of new data without ECE is
	 * ack_forward's (its switch has nothing for the state), whose
	 * ack_advance tells the socket */
	if (seq_gt(sg->ack, t->snd_una) && !(sg->th.flags & HSK_TH_ECE)) {
		bool snd_empty = ack_forward(s, t, sg, ACK_OPEN);
		return established_fin_taken(s, t, true, snd_empty);
	}
	tcp_verdict v = ack_input(s, t, sg);
	if (v.act)
		return v;
	return established_fin_taken(s, t, false, !tcb_snd_len(t));
}
