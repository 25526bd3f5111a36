/*
 * Private to the input files (SEGMENT ARRIVES, RFC 9293 §3.10.7; their map
 * is at the top of input.c): the steps both the general path (input.c) and
 * the short ways (arrive.c's header prediction, closing.c's close) make,
 * inline -- always_inline where GCC would call them out of line, each
 * being on some short way's every segment -- and what the files call of
 * each other.
 */
#ifndef HSK_TCP_INPUT_H
#define HSK_TCP_INPUT_H

#include <assert.h>

#include "tcp/conn.h"
#include "tcp/tcp.h"

/* The receive window for the acceptability test: what we advertised. */
static inline uint32_t rcv_window(const tcb *t)
{
	return seq_gt(t->rcv_adv, t->rcv_nxt) ?
		(uint32_t)seq_diff(t->rcv_adv, t->rcv_nxt) : 0;
}

/* tcb_rcv_room for a TCB whose receive ring is there: what rcvbuf and the
 * ring's size still allow, in line. */
static inline uint32_t ring_room(const tcb *t, const hsk_ring *r)
{
	uint32_t limit = t->rcvbuf < r->cap ? t->rcvbuf : r->cap, at = ring_len(r);
	return limit > at ? limit - at : 0;
}

/* ts_update (input.c) for a segment hp_predicted or steps_predicted
 * (arrive.c) took: its timestamp, when they are on, is not older than
 * TS.Recent and it starts at RCV.NXT, so the update's other tests pass. */
static inline __attribute__((always_inline)) void ts_update_predicted(tcp_stack *s, tcb *t,
									 const tcp_seg *sg)
{
	if (t->flags & TF_TS_OK) {
		t->ts_recent = sg->th.opt.ts_val;
		t->ts_recent_ms = s->env->now_ms;
	}
}

/* An acceptable segment from the peer: the keepalive idle time starts
 * again, and a probe (if one was out) has its answer. Always inline: in
 * tcp_input, grown by tcb_input, GCC would call it. */
static inline __attribute__((always_inline)) void keepalive_heard(tcp_stack *s, tcb *t)
{
	if (t->keep_at)
		t->keep_at = s->env->now + keep_idle_ns(s, t);
	t->keep_probes = 0;
}

/* update_window for an ACK known to be in SND.UNA..SND.MAX (header
 * prediction's: hp_predicted tested it), its window shifted by `shift`.
 * Inline: on every ACK. */
static inline __attribute__((always_inline)) void take_window_shift(tcb *t, const tcp_seg *sg,
								      uint32_t shift)
{
	if (seq_lt(t->snd_wl1, sg->seq) ||
	    (seq_eq(t->snd_wl1, sg->seq) && seq_le(t->snd_wl2, sg->ack))) {
		t->snd_wnd = (uint32_t)sg->th.win << shift;
		if (t->snd_wnd > t->max_snd_wnd)
			t->max_snd_wnd = t->snd_wnd;
		t->snd_wl1 = sg->seq;
		t->snd_wl2 = sg->ack;
		if (t->snd_wnd && (t->flags & TF_PERSIST)) {
			/* The window opened: probing is over. (Only data in
			 * the send ring is probed for: the extension is there.) */
			t->flags &= ~TF_PERSIST;
			t->act->rtx_at = 0;
			t->act->first_rtx_at = 0;
			t->act->win_probes = 0;
		}
	}
}

/* The same for a segment without SYN, whose window is scaled: every one
 * that takes a window but the simultaneous open's SYN,ACK
 * (simultaneous_open_done). A SYN reaches neither header prediction nor
 * ack_input: syn_check, simultaneous_synack and tfo_child_syn take it in
 * a TCB, req_input and listen_input before a request's TCB is made. */
static inline __attribute__((always_inline)) void take_window(tcb *t, const tcp_seg *sg)
{
	assert(!(sg->th.flags & HSK_TH_SYN));
	take_window_shift(t, sg, t->snd_wscale);
}

/* RFC 9293 §3.10.7.4: only an ACK in SND.UNA..SND.NXT, on a segment newer
 * than the last window update (SND.WL1, then SND.WL2), may change the
 * window: an old ACK carries a stale one. */
static inline __attribute__((always_inline)) void update_window(tcb *t, const tcp_seg *sg)
{
	if (seq_between(sg->ack, t->snd_una, t->snd_max))
		take_window(t, sg);
}

/* What a caller of ack_advance_k knows of the TCB (a constant: the tests
 * it answers fold away). */
enum ack_known {
	ACK_ANY,        /* nothing */
	ACK_OPEN,       /* ESTABLISHED or CLOSE_WAIT (header prediction's
			 * states, established_fin's): no FIN sent (close and
			 * shutdown leave them before it goes). Our SYN is
			 * still tested: a simultaneous open whose SYN,ACK
			 * was never sent reaches ESTABLISHED with it
			 * unacknowledged (test_open's
			 * test_simultaneous_open_synack_unsent) */
	ACK_FIN_ALL,    /* our FIN sent, SEG.ACK = SND.MAX (fin_wait_1_acked) */
};

/* ACK_OPEN: the ACK advances over data bytes or our SYN (no FIN), which
 * this TCB sent (data from the send ring; a SYN, SYN,ACK resent after a
 * simultaneous open, with its retransmission timer), so the extension is
 * there (and nothing in the ACK step gives it back): its tests fold away. */
static inline __attribute__((always_inline)) void ack_act_known(const tcb *t,
								  enum ack_known known)
{
	assert(known != ACK_OPEN || t->act);
	if (known == ACK_OPEN && !t->act)
		__builtin_unreachable();
}

/* SND.UNA moves to SEG.ACK: release acknowledged bytes, take an RTT sample,
 * restart or stop the retransmission timer, let congestion control and
 * loss recovery see the progress. */
static inline __attribute__((always_inline)) uint32_t ack_advance_k(tcp_stack *s, tcb *t,
								    const tcp_seg *sg,
								    enum ack_known known)
{
	assert(known != ACK_OPEN ||
	       ((t->state == HSK_ESTABLISHED || t->state == HSK_CLOSE_WAIT) &&
		!(t->flags & TF_FIN_SENT)));
	assert(known != ACK_FIN_ALL ||
	       ((t->flags & TF_FIN_SENT) && seq_eq(sg->ack, t->snd_max)));
	bool fin_all = known == ACK_FIN_ALL;
	/* What this TCB sent took the extension (the SYN's retransmission
	 * timer, a ring, a FIN's); only a passive open's SYN,ACK was the
	 * request's, and its ACK acknowledges nothing else. */
	ack_act_known(t, known);
	tcb_act *a = t->act;
	uint32_t acked = (uint32_t)seq_diff(sg->ack, t->snd_una);
	bool syn_acked = syn_outstanding(t);
	if (syn_acked) {
		acked--;                        /* our SYN (its RTT is sampled
						 * where the handshake ends) */
		t->syn_acked = 1;
	}
	/* Our FIN is SND.MAX - 1: acknowledged by SND.MAX (ack_check let
	 * nothing above it through). */
	if (fin_all ||
	    (known == ACK_ANY && (t->flags & TF_FIN_SENT) && seq_eq(sg->ack, t->snd_max))) {
		acked--;
		t->flags |= TF_FIN_ACKED;
	}
	/* The ring holds every byte from SND.UNA on that we sent (only this
	 * call drops bytes; a ring goes only when empty) and SND.MAX - SND.UNA
	 * is those bytes plus an outstanding SYN and FIN, both taken off
	 * above: acked fits, so no clamp and no test of 0. */
	if (a) {
		assert(acked <= ring_len(&a->snd));
		ring_skip(&a->snd, acked);
	}
	t->snd_una = sg->ack;
	if (seq_lt(t->snd_nxt, t->snd_una))
		t->snd_nxt = t->snd_una;
	/* RTT: the timestamp echo when there is one (RFC 7323 §4), else the
	 * one timed segment (Karn: never a retransmitted one). Timing needs
	 * the extension (TF_RTT_TIMING implies it); a SYN's ACK is skipped. */
	const tcp_opts *o = &sg->th.opt;
	tcp_sack *k = tcb_sack(t);
	if (k && k->seg) {
		/* RACK takes its sample from the segment records. */
	} else if ((t->flags & TF_TS_OK) && o->has_ts && o->ts_ecr && !syn_acked &&
		   (int32_t)(o->ts_ecr - a->ts_flight) >= 0) {
		/* An echo older than the flight this ACK covers is not of any
		 * segment of it (RFC 7323 §4.3 echoes the earliest unacked
		 * one): a forged or confused TSecr must not set the RTO. */
		rtt_ts_sample(&t->rtt, &s->rttp, s->env->now, t->ts_offset, o->ts_ecr);
		t->flags &= ~TF_RTT_TIMING;
	} else if ((t->flags & TF_RTT_TIMING) && seq_ge(sg->ack, a->rtt_seq)) {
		t->flags &= ~TF_RTT_TIMING;
		rtt_add_sample(&t->rtt, &s->rttp, s->env->now - a->rtt_start, false, s->env->now);
	}
	/* Forward progress ends the backoff (as Linux does). */
	rtt_backoff_reset(&t->rtt);
	t->flags &= ~TF_PERSIST;
	if (a) {
		a->retries = 0;
		a->win_probes = 0;
		a->first_rtx_at = 0;
		a->rtx_at = fin_all || seq_eq(t->snd_una, t->snd_max) ? 0 :
			s->env->now + rtt_rto(&t->rtt, &s->rttp);
	}
	tcp_notify(s, t->sd);   /* tcb_notify, inline */
	return acked;
}

static inline __attribute__((always_inline)) uint32_t ack_advance(tcp_stack *s, tcb *t,
								  const tcp_seg *sg)
{
	return ack_advance_k(s, t, sg, ACK_ANY);
}

/* SYN_RECEIVED or SYN_SENT to ESTABLISHED (input.c): the transition, the
 * SYN's backoff and RTO ended, congestion control started. */
bool tcb_established(tcp_stack *s, tcb *t, const char *cause);

/* FIN_WAIT_1, our FIN acknowledged (and no FIN of the peer's with it):
 * FIN_WAIT_2, an orphan's with the time it may wait there. */
static inline __attribute__((always_inline)) tcp_verdict fin_wait_2_enter(tcp_stack *s,
									    tcb *t)
{
	assert(t->state == HSK_FIN_WAIT_1);
	if (!tcb_set_state_legal(s, t, HSK_FIN_WAIT_2, "rcv ACK of FIN"))
		return TV(TV_DROP, "illegal transition");
	if (t->sd < 0) {
		tcb_act *a = tcb_act_get(s, t);
		if (!a) {
			tcb_send_rst(s, t);
			tcb_closed(s, t, "out of memory");
			return TV(TV_DONE, NULL);
		}
		a->close_at = s->env->now + s->env->cfg.fin_timeout_ns;
	}
	return TV_OK;
}

/* Fifth, second half: the ACK is plausible: the window, SND.UNA, loss
 * recovery, and what our acknowledged FIN means in the closing states. */
static inline __attribute__((always_inline)) tcp_verdict ack_input(tcp_stack *s, tcb *t,
								     const tcp_seg *sg)
{
	if (t->state == HSK_SYN_RECEIVED) {
		if (!tcb_established(s, t, "rcv ACK"))
			return TV(TV_DROP, "illegal transition");
		/* Take this segment's window: update_window below does, its
		 * ACK being in SND.UNA + 1..SND.MAX (ack_check). */
		t->snd_wl1 = sg->seq;
		t->snd_wl2 = sg->ack;
	}
	/* The peer answered: unanswered zero-window probes start again from
	 * zero; an orphan's do not (it must not live on answers alone). */
	if (t->sd >= 0 && t->act)
		t->act->win_probes = 0;
	uint32_t old_wnd = t->snd_wnd;
	uint32_t flight = (uint32_t)seq_diff(t->snd_max, t->snd_una);
	bool advanced = seq_gt(sg->ack, t->snd_una);
	update_window(t, sg);
	uint32_t acked = advanced ? ack_advance(s, t, sg) : 0;
	/* ECE: the window before loss recovery's growth, for ECN's
	 * reduction (asked for only then; recovery leaves t->ecn alone) */
	bool ece = (t->ecn & ECN_OK) && (sg->th.flags & HSK_TH_ECE);
	uint32_t cwnd = ece ? tcb_cwnd(t) : 0;
	if (tcb_sack(t))
		rec_sack_ack(s, t, sg, acked, flight);
	else if (advanced)
		rec_on_ack(s, t, &sg->th.opt, acked, flight);
	else if (flight && seg_space(sg) == 0 && t->snd_wnd == old_wnd)
		rec_on_dupack(s, t);            /* RFC 5681 §2 duplicate */
	else if (seg_space(sg) == 0 && t->act && (t->act->undo & (UNDO_FRTO | UNDO_FRTO_NEW)))
		undo_frto_real(t);      /* a duplicate but for its window (undo.c) */
	else if (sg->th.opt.nsack && t->act && t->act->undo)
		undo_dsack_idle(s, t, sg);      /* a late D-SACK */
	if (ece)
		ecn_rcv_ack(s, t, sg, flight, cwnd, acked);     /* once per window */
	if (!advanced && seg_space(sg) == 0)
		CNT_INC(s->env, TCPPureAcks);
	/* Everything acknowledged, and loss recovery has seen it: the send
	 * ring (and the SACK state, when nothing else holds it) can go;
	 * under memory pressure it shrinks to what it still holds. */
	if (advanced && !tcb_snd_len(t))
		tcb_release_idle_rings(s, t);
	else if (advanced && s->mem_pressure)
		tcb_fit_snd(s, t);

	bool fin_acked = t->flags & TF_FIN_ACKED;
	bool fin_here = sg->th.flags & HSK_TH_FIN;
	switch (t->state) {
	case HSK_FIN_WAIT_1:
		/* With the peer's FIN in the same segment, fin_input goes
		 * straight to TIME_WAIT (FIN_WAIT_1 -> TIME_WAIT). */
		if (fin_acked && !fin_here)
			return fin_wait_2_enter(s, t);
		break;
	case HSK_CLOSING:
		if (fin_acked) {
			/* On the peer's FIN again (it lost our ACK): ACK it. */
			uint16_t win = seg_space(sg) ? tcb_send_ack(s, t) : tcb_window_field(s, t);
			tw_enter(s, t, "rcv ACK of FIN", win);
			return TV(TV_DONE, NULL);
		}
		break;
	case HSK_LAST_ACK:
		if (fin_acked) {
			if (seg_space(sg))
				tcb_send_ack(s, t);
			tcb_closed(s, t, "rcv ACK of FIN");
			return TV(TV_DONE, NULL);
		}
		break;
	}
	return TV_OK;
}

/* ack_input up to its switch of the closing states, for an ACK in
 * SND.UNA + 1..SND.MAX without ECE outside SYN_RECEIVED: no duplicate to
 * count, no ECN reduction, SND.UNA advances. For header prediction's pure
 * ACK (a), our FIN's in FIN_WAIT_1 (fin_wait_1_acked) and the ACK of the
 * peer's FIN in ESTABLISHED (established_fin). Returns whether the send
 * ring is empty (everything written acknowledged), as tcb_snd_len would
 * tell until more is written. known: what the caller knows of the TCB
 * (ack_advance_k's). */
static inline __attribute__((always_inline)) bool ack_forward(tcp_stack *s, tcb *t,
								const tcp_seg *sg,
								enum ack_known known)
{
	bool fin_all = known == ACK_FIN_ALL;
	assert(seq_gt(sg->ack, t->snd_una) && !seq_gt(sg->ack, t->snd_max) &&
	       !(sg->th.flags & HSK_TH_ECE) && t->state != HSK_SYN_RECEIVED);
	/* (the zero-window probes: ack_advance zeroes them; update_window's
	 * test passes) */
	uint32_t flight = (uint32_t)seq_diff(t->snd_max, t->snd_una);
	take_window(t, sg);
	uint32_t acked = ack_advance_k(s, t, sg, known);
	ack_act_known(t, known);
	if (tcb_sack(t))
		rec_sack_ack(s, t, sg, acked, flight);
	else
		rec_on_ack(s, t, &sg->th.opt, acked, flight);
	/* (fin_all: everything sent is acknowledged, the ring with it) */
	assert(!fin_all || !tcb_snd_len(t));
	ack_act_known(t, known);
	bool snd_empty = fin_all || !tcb_snd_len(t);
	if (snd_empty)
		tcb_release_idle_rings(s, t);
	else if (s->mem_pressure)
		tcb_fit_snd(s, t);
	return snd_empty;
}

/* len > 0 bytes have joined the receive ring in order: the reader is told,
 * and the ACK is due at once or later. */
static inline __attribute__((always_inline)) void data_rcvd(tcp_stack *s, tcb *t, tcb_act *a,
							   const tcp_seg *sg, uint32_t len)
{
	tcp_notify(s, t->sd);   /* tcb_notify, inline */
	/* A full-sized segment: receive autotuning counts (tune.c), once
	 * per receiver RTT. */
	if (len >= t->mss && (!(a->tune & TUNE_RCV) || s->env->now >= a->tun.due))
		tune_rcv_count(s, t, a, sg);
	/* Delayed ACK: at least every second full-sized segment, at most
	 * delack_ns late (RFC 1122 4.2.3.2, RFC 9293 3.8.6.3); at once in
	 * quick-ACK mode (quickack.c). */
	if (len >= t->mss && ++a->unacked_segs >= 2)
		t->flags |= TF_ACK_NOW;
	else if (qack_now(t))
		t->flags |= TF_ACK_NOW;
	else if (!a->delack_at)
		a->delack_at = s->env->now + s->env->cfg.delack_ns;
}

/* Bytes arriving at RCV.NXT with nothing held out of order: straight into
 * the receive ring. Returns whether RCV.NXT moved (some of the len bytes
 * were taken: none when there is no memory for them or no room). */
static inline __attribute__((always_inline)) bool data_in_order(tcp_stack *s, tcb *t,
								  const tcp_seg *sg,
								  const uint8_t *data, uint32_t len,
								  bool seg_fin, bool *fin_now)
{
	tcb_act *a = t->act;
	bool all = true;
	/* Bytes tcp_input verified while copying them into this ring, still
	 * where they were put: commit them instead of copying them again
	 * (ring_commit: they fit, as they did when placed). */
	if (len && a && s->placed_ring == &a->rcv && data == sg->data && len <= sg->placed &&
	    ((a->rcv.head + a->rcv.len) & (a->rcv.cap - 1)) == sg->placed_end &&
	    seq_eq(t->rcv_nxt, sg->placed_nxt)) {
		a->rcv.len += len;
		s->placed_ring = NULL;
	} else if (len) {
		/* (the ring there: nothing to allocate, no call) */
		if (!(a && a->rcv.buf) && tcb_alloc_rcv(s, t) < 0) {
			/* No memory for it (tcp_mem_high): drop it and say
			 * where we are; the peer sends it again. */
			CNT_INC(s->env, TCPRcvQDrop);
			t->flags |= TF_ACK_NOW;
			return false;
		}
		a = t->act;     /* len > 0: the ring, and so the extension */
		uint32_t room = ring_room(t, &a->rcv);
		if (len > room) {
			CNT_INC(s->env, TCPRcvQDrop);
			len = room;
			all = false;
		}
		/* len <= room: it fits, as ring_write would test again (ring_put
		 * takes 0 bytes too) */
		assert(len <= ring_space(&a->rcv));
		ring_put(&a->rcv, a->rcv.len, data, len);
		a->rcv.len += len;
	}
	/* tcb_sack from a, which is t->act (the copy's call made GCC load it
	 * again, and test it when len > 0 had made it known) */
	assert(a == t->act);
	tcp_sack *k = a && a->sack_on ? &a->sack : NULL;
	t->rcv_nxt = seq_add(t->rcv_nxt, len);
	if (k)
		sack_rcv_advance(&k->rcv, t->rcv_nxt);
	*fin_now = seg_fin && all;
	if (!len)
		return false;
	data_rcvd(s, t, a, sg, len);
	return true;
}

/* The peer's FIN, next in order, taken: it has a sequence number, and
 * the ACK of it goes at once. */
static inline void fin_taken(tcb *t)
{
	t->rcv_nxt = seq_add(t->rcv_nxt, 1);
	t->flags |= TF_RCVD_FIN | TF_ACK_NOW | TF_RCV_MOVED;
}

/* ---- the general steps (input.c), for the dispatch (arrive.c's tcb_steps) ---- */

/* §3.10.7.3: a segment to a TCB in SYN_SENT. */
tcp_verdict tcb_input_syn_sent(tcp_stack *s, tcb *t, const tcp_seg *sg);

/* §3.10.7.4 from the first step, for a segment past SYN_SENT that no short
 * way took. */
tcp_verdict tcb_input_steps(tcp_stack *s, tcb *t, const tcp_seg *sg);

/* The fifth step's second half to the end, for a segment whose checks
 * passed (made, or predicted: steps_predicted). */
tcp_verdict tcb_input_checked(tcp_stack *s, tcb *t, const tcp_seg *sg);

/* ---- the close's short ways (closing.c) ----
 * Their guards, inline in tcb_steps (arrive.c), with what each way leaves
 * out and why; the ways themselves are out of line (noinline: a frame of
 * their own, not tcp_input's, for four segments of a connection's life). */

/* LAST_ACK, the steps predicted: the ACK covers our FIN (sent, and
 * SEG.ACK = SND.MAX), the segment has nothing to answer (no text, no FIN)
 * and no socket holds the TCB (closed: tcb_closed frees it; in LAST_ACK
 * it was accepted, our FIN is close()'s). The connection ends on it at
 * once: keepalive, TS.Recent, the window and SND.UNA (ack_advance: its
 * RTT sample and timers), loss recovery, congestion control, ECN and
 * tcb_release_idle_rings would only change a TCB about to be freed
 * (the socket to tell is gone; tcb_free gives the rings and the SACK
 * state back, in the same order). Not when the ACK is one they count
 * something of (TCPDSACKRecv, TCPSackRecovery: SACK blocks;
 * TCPECNReduce: ECE; TCPLossProbes: a probe out; undo.c counts nothing
 * on it either), nor for a socket still
 * open (its rings go when idle, as ever): then ack_input's switch closes
 * it, as it does with tcp_stack.no_fastpath (test_fastpath compares;
 * test_close's test_last_ack_* fail with a condition left out). */
static inline __attribute__((always_inline)) bool last_ack_ends(const tcb *t,
								 const tcp_seg *sg)
{
	const tcp_sack *k = tcb_sack(t);
	return (t->flags & TF_FIN_SENT) && seq_eq(sg->ack, t->snd_max) && t->sd < 0 &&
	       !sg->len && !(sg->th.flags & (HSK_TH_FIN | HSK_TH_ECE)) && !sg->th.opt.nsack &&
	       !(k && k->rk.tlp_on);
}

/* FIN_WAIT_2, the steps predicted: the peer's FIN, nothing else (no
 * text, only ACK and PSH beside it), to an orphan (no socket: tw_enter
 * frees the TCB) without SACK state or bytes held out of order. The
 * steps would take TS.Recent, the window (the ACK we send is traced with
 * it: taken only while tracing), find nothing acknowledged (SND.UNA =
 * SND.MAX since our FIN's ACK, and SEG.ACK <= SND.MAX), nothing in
 * flight, no text, and then the FIN (fin_input): that is all this does.
 * Keepalive's restart and the zero-window probes are left out: tw_enter
 * frees the TCB. With tcp_stack.no_fastpath the steps are taken
 * (test_fast_fin compares). */
static inline __attribute__((always_inline)) bool fin_wait_2_fin(const tcb *t,
								  const tcp_seg *sg)
{
	return (sg->th.flags & ~HSK_TH_PSH) == (HSK_TH_FIN | HSK_TH_ACK) && !sg->len &&
	       t->sd < 0 && !tcb_sack(t) && tcb_ooo_empty(t);
}

void fin_wait_2_fin_input(tcp_stack *s, tcb *t, const tcp_seg *sg);

/* FIN_WAIT_1, the steps predicted: the first ACK of our FIN (sent, and
 * SEG.ACK = SND.MAX > SND.UNA: not when an earlier one came with a FIN
 * beyond a gap, which left the state as it was), without text, FIN or
 * ECE (CWR is for text; URG does not come here: steps_predicted leaves
 * it to the steps). ack_input is then ack_forward
 * and its switch's FIN_WAIT_1 case; data_input and fin_input find
 * neither text nor FIN. With
 * tcp_stack.no_fastpath the steps are taken (test_fast_fin's
 * test_fin_wait_1_ack compares). */
static inline __attribute__((always_inline)) bool fin_wait_1_acked(const tcb *t,
								    const tcp_seg *sg)
{
	return !(sg->th.flags & (HSK_TH_FIN | HSK_TH_ECE)) && !sg->len &&
	       (t->flags & TF_FIN_SENT) && seq_eq(sg->ack, t->snd_max) &&
	       seq_gt(sg->ack, t->snd_una);
}

tcp_verdict fin_wait_1_acked_input(tcp_stack *s, tcb *t, const tcp_seg *sg);

/* ESTABLISHED, the steps predicted: the peer's FIN without text (ECE is
 * ack_input's, which is made; CWR is for text), nothing held out of order
 * (the ACK step leaves that queue alone). ack_input in ESTABLISHED goes
 * on (its switch has nothing for the state); data_input would take the
 * FIN in order (data_in_order without text: the SACK receiver's RCV.NXT,
 * the FIN next), fin_input then CLOSE_WAIT. With tcp_stack.no_fastpath the
 * steps are taken (test_fast_fin's test_established_fin compares). */
static inline __attribute__((always_inline)) bool established_fin(const tcb *t,
								   const tcp_seg *sg)
{
	return (sg->th.flags & HSK_TH_FIN) && !sg->len && tcb_ooo_empty(t);
}

tcp_verdict established_fin_input(tcp_stack *s, tcb *t, const tcp_seg *sg);

#endif
