/*
 * Spurious-loss undo: a congestion event whose retransmissions prove
 * needless gives back the reduction it cost (RFC 9438 §4.9).
 *
 * Detection, each on its own:
 *   Eifel (RFC 3522, Linux's tcp_packet_delayed): the ACK that ends the
 *     event echoes a TSval older than our first retransmission's: the
 *     original arrived, not the retransmission.
 *   D-SACK (RFC 3708, Linux's undo_retrans): every retransmission of the
 *     event was reported a duplicate by the receiver.
 * Response (RFC 4015, RFC 9438 §4.9, Linux's tcp_undo_cwnd_reduction):
 * cc_undo_restore (cwnd, ssthresh, CUBIC's curve), and out of the
 * timeout's recovery.
 *
 * When, as Linux (tcp_try_undo_recovery, tcp_try_undo_partial,
 * tcp_try_undo_loss, tcp_try_undo_dsack):
 *   fast recovery: at its full ACK (TCPFullUndo); without SACK, at a
 *     partial ACK by Eifel once every retransmission is acknowledged
 *     (TCPPartialUndo: the delayed original filled the hole, and Limited
 *     Transmit's segments keep the ACK short of `recover`); a D-SACK that
 *     completes the count after it (TCPDSACKUndo);
 *   after a timeout: on any ACK of new data until SND.UNA passes what was
 *     outstanding (TCPLossUndo, TCPSpuriousRTOs), later by D-SACK.
 * Not with SACK on a partial ACK (RACK's reordering window and D-SACK see
 * to reordering there), nor by a D-SACK while the recovery still runs:
 * both wait for its end.
 *
 * An event begins with fast recovery or a first timeout, never with an
 * ECN reduction (an ECE is congestion, RFC 9438 §4.9); an ECE while an
 * undo is possible cancels it (ecn.c), as Linux's tcp_enter_cwr.
 */
#include "tcp/tcp.h"

/* The TSval of the oldest data in flight: RACK's first record with
 * SACK, else the flight's (ts_flight). */
static uint32_t flight_tsval(const tcp_stack *s, const tcb *t)
{
	const tcp_sack *k = tcb_sack(t);
	if (k && k->seg && k->rk.count)
		return rtt_tsval(&s->rttp, k->rk.seg[k->rk.head & (k->rk.cap - 1)].xmit,
				 t->ts_offset);
	return t->act->ts_flight;
}

void undo_begin(tcp_stack *s, tcb *t, bool rto)
{
	tcb_act *x = t->act;
	tcp_undo *u = &x->und;
	if (x->cc.ops->fixed)
		return;         /* nothing is reduced */
	cc_undo_save(&x->cc, &u->cc);
	u->marker = u->high = t->snd_una;
	u->retrans = 0;
	u->ts_low = flight_tsval(s, t);
	x->undo = UNDO_ON | (rto ? UNDO_RTO | UNDO_LOSS : 0);
}

void undo_on_rto(tcp_stack *s, tcb *t, bool first)
{
	tcb_act *x = t->act;
	if (syn_outstanding(t)) {
		x->undo = 0;    /* a SYN's timeout: the handshake's, no data's */
		return;
	}
	/* Linux's tcp_enter_loss: a new event outside recovery (an old one
	 * waiting for D-SACKs is over); inside one, the same event. Never
	 * from ECN's CWR state (Linux's prior_ssthresh 0 there). */
	bool recovering = x->cc.in_recovery || seq_lt(t->snd_una, x->recover);
	/* A timeout again ends F-RTO (RFC 5682 §2.1 step 1: not while a
	 * timeout's recovery runs). */
	x->undo &= (uint8_t)~(UNDO_FRTO | UNDO_FRTO_NEW);
	if (first && !recovering && !x->ecn_cwr) {
		undo_begin(s, t, true);
		/* F-RTO (below) */
		if ((x->undo & UNDO_ON) && s->env->cfg.frto)
			x->undo |= UNDO_FRTO;
	} else if (x->undo && recovering)
		x->undo |= UNDO_RTO | UNDO_LOSS;
	else
		x->undo = 0;
}

void undo_retransmitted(tcb *t, hsk_seq seq, uint32_t len, uint32_t tsval)
{
	tcb_act *x = t->act;
	tcp_undo *u = &x->und;
	if (!(x->undo & UNDO_TS) && (t->flags & TF_TS_OK)) {
		u->ts_rxt = tsval;
		x->undo |= UNDO_TS;
	}
	if (u->retrans < UINT32_MAX)
		u->retrans++;
	hsk_seq end = seq_add(seq, len);
	if (seq_gt(end, u->high))
		u->high = end;
}

/* The event was spurious: the reduction goes back (and with it, after a
 * timeout, what it marked lost: RFC 4015 resumes with new data). */
static void undo_apply(tcp_stack *s, tcb *t, bool by_dsack)
{
	tcb_act *x = t->act;
	cc_undo_restore(&x->cc, &x->und.cc);
	if (by_dsack)
		CNT_INC(s->env, TCPDSACKUndo);
	else if (x->undo & UNDO_RTO)
		CNT_INC(s->env, TCPLossUndo);
	else
		CNT_INC(s->env, TCPFullUndo);
	if (x->undo & UNDO_RTO)
		CNT_INC(s->env, TCPSpuriousRTOs);
	if (x->undo & UNDO_LOSS) {
		tcp_sack *k = tcb_sack(t);
		if (k && k->seg) {
			/* Linux leaves its Loss state with SACK */
			rack_undo_timeout(&k->rk);
			x->recover = t->snd_una;
		} else {
			/* go-back-N stops; `recover` stays, so no fast
			 * retransmit for this window (Linux stays in Loss
			 * without SACK) */
			t->snd_nxt = t->snd_max;
		}
	}
	x->undo = 0;
}

/* RFC 3522: the echo of a transmission sent before our first
 * retransmission, and not older than the data then in flight (an echo
 * from the future, or of nothing in this flight, proves nothing). */
static bool undo_delayed(const tcb *t, const tcp_opts *o)
{
	const tcb_act *x = t->act;
	const tcp_undo *u = &x->und;
	if ((x->undo & (UNDO_TS | UNDO_TOLD)) != UNDO_TS || !o->has_ts || !o->ts_ecr)
		return false;
	return (int32_t)(o->ts_ecr - u->ts_rxt) < 0 && (int32_t)(o->ts_ecr - u->ts_low) >= 0;
}

bool undo_partial(tcp_stack *s, tcb *t, const tcp_opts *o)
{
	tcb_act *x = t->act;
	if ((x->undo & UNDO_LOSS) || !undo_delayed(t, o) || seq_lt(t->snd_una, x->und.high))
		return false;
	/* The recovery ends; a loss still beyond SND.UNA starts a new one
	 * (`recover` no longer holds it back) or a timeout. */
	cc_exit_recovery(&x->cc, (uint32_t)seq_diff(t->snd_max, t->snd_una), s->env->now);
	cc_undo_restore(&x->cc, &x->und.cc);
	x->recover = t->snd_una;
	x->undo = 0;
	CNT_INC(s->env, TCPPartialUndo);
	return true;
}

void undo_dsack(tcp_stack *s, tcb *t, hsk_seq start, hsk_seq end)
{
	tcb_act *x = t->act;
	tcp_undo *u = &x->und;
	/* Only a block inside what this event retransmitted counts, and
	 * above SND.UNA only records that were retransmitted. */
	if (!u->retrans || !seq_lt(start, end) || seq_lt(start, u->marker) ||
	    seq_gt(end, u->high))
		return;
	tcp_sack *k = tcb_sack(t);
	if (seq_gt(end, t->snd_una) && k && k->seg &&
	    !rack_all_retransmitted(&k->rk, seq_gt(start, t->snd_una) ? start : t->snd_una, end))
		return;
	uint32_t mss = x->cc.mss, segs = ((uint32_t)seq_diff(end, start) + mss - 1) / mss;
	u->retrans = segs >= u->retrans ? 0 : u->retrans - segs;
	if (!u->retrans && !x->cc.in_recovery && !(x->undo & UNDO_LOSS))
		undo_apply(s, t, true);
}

void undo_dsack_idle(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	const tcp_opts *o = &sg->th.opt;
	if (!(t->flags & TF_SACK_OK))
		return;
	/* RFC 2883 §4: a first block at or below the cumulative ACK is a
	 * D-SACK (nothing is in flight: none above it is) */
	hsk_seq left = seq_of(o->sack[0].left), right = seq_of(o->sack[0].right);
	if (seq_le(right, sg->ack))
		undo_dsack(s, t, left, right);
}

void undo_ack(tcp_stack *s, tcb *t, const tcp_opts *o, bool ended)
{
	tcb_act *x = t->act;
	/* An orphan's last ACK in LAST_ACK: the connection ends with it, an
	 * undo would change nothing. (LAST_ACK's short way, which skips
	 * recovery, counts none either: test_fastpath compares.) */
	if (t->state == HSK_LAST_ACK && t->sd < 0 && seq_eq(t->snd_una, t->snd_max))
		return;
	if (x->undo & UNDO_LOSS) {
		/* F-RTO's step 3 (b): after the new data, an ACK of data never
		 * retransmitted (all that lies beyond the first segment) */
		if (undo_delayed(t, o) || !x->und.retrans || (x->undo & UNDO_FRTO_NEW)) {
			undo_apply(s, t, false);
			return;
		}
		/* RFC 3522: the first ACK of the retransmission tells; a
		 * well-behaved receiver echoes nothing older after it (RFC
		 * 7323's TS.Recent only grows), so a later one is no news. */
		x->undo |= UNDO_TOLD;
		if (!seq_lt(t->snd_una, x->recover))
			x->undo &= (uint8_t)~UNDO_LOSS;
		return;
	}
	if (ended && (undo_delayed(t, o) || !x->und.retrans))
		undo_apply(s, t, false);
}

/*
 * F-RTO (RFC 5682, Linux's tcp_process_loss): after a first timeout,
 * which resends the oldest segment alone (cwnd is one segment), the ACKs
 * that follow tell a spurious timeout from a real one before anything
 * more is resent.
 *   step 2  the first ACK: one that advances SND.UNA past the
 *           retransmission but not to `recover` lets two new segments go
 *           when there is new data and the peer's window takes it:
 *           without SACK cwnd is set to allow exactly them and SND.NXT
 *           goes to SND.MAX (go-back-N stops); with SACK (§3) the
 *           records RACK marked lost wait (rec_send_lost_walk) and
 *           cwnd's room is the new data's. Otherwise (2a) the usual
 *           recovery goes on.
 *   step 3  the second: an ACK of data never resent (beyond the first
 *           segment), or with SACK a block of such data below `recover`,
 *           shows the originals arrived: the timeout was spurious and is
 *           undone (TCPLossUndo, TCPSpuriousRTOs; undo_ack, or
 *           undo_frto_sack). Any other ACK without text says the loss
 *           was real (3a): without SACK go-back-N from SND.UNA with at
 *           most 3 segments' cwnd, with SACK the lost records go again.
 *           Without SACK that includes an ACK whose window changed (RFC
 *           5681's duplicate keeps it; a receiver's window shrinks as
 *           out-of-order data fills its buffer, as Linux's does, and
 *           waiting for a duplicate would wait for the next timeout).
 * The first ACK without an advance leaves the usual recovery (2a). A
 * second timeout or an ECE ends F-RTO (an ECE as a real loss: ECN's
 * reduction is never undone). `frto` (default on) as Linux's tcp_frto.
 */
static bool frto_go_back_n(const tcb_act *x)
{
	return !(x->sack_on && x->sack.seg);
}

void undo_frto_first_ack(tcb *t)
{
	tcb_act *x = t->act;
	x->undo &= (uint8_t)~UNDO_FRTO;
	uint32_t flight = (uint32_t)seq_diff(t->snd_max, t->snd_una);
	/* 2a: everything acknowledged, or not the whole retransmission */
	if (!seq_lt(t->snd_una, x->recover) || seq_lt(t->snd_una, x->und.high))
		return;
	/* 2b needs new data (none after a FIN) and room for it */
	int32_t room = seq_diff(seq_add(t->snd_una, (int32_t)t->snd_wnd), t->snd_max);
	if ((t->flags & TF_FIN_SENT) || ring_len(&x->snd) <= flight || room <= 0)
		return;
	if (frto_go_back_n(x)) {
		x->und.frto_cwnd = x->cc.cwnd;
		x->cc.cwnd = flight + 2u * t->mss;
		t->snd_nxt = t->snd_max;
	}
	x->undo |= UNDO_FRTO_NEW;
}

void undo_frto_real(tcb *t)
{
	tcb_act *x = t->act;
	if ((x->undo & UNDO_FRTO_NEW) && frto_go_back_n(x)) {
		/* 3a: the loss was real */
		uint32_t most = 3u * t->mss;
		x->cc.cwnd = x->und.frto_cwnd < most ? x->und.frto_cwnd : most;
		t->snd_nxt = t->snd_una;
	}
	x->undo &= (uint8_t)~(UNDO_FRTO | UNDO_FRTO_NEW);
}

void undo_frto_sack(tcp_stack *s, tcb *t, const tcp_opts *o, uint32_t acked)
{
	tcb_act *x = t->act;
	if (acked) {
		if (x->undo & UNDO_FRTO)
			undo_frto_first_ack(t);
		return;         /* (step 3's advance: undo_ack undid it) */
	}
	if (x->undo & UNDO_FRTO_NEW) {
		/* 3b: a block of data sent before the timeout and never resent
		 * (inside SND.UNA..`recover`: not a D-SACK, nor a confused or
		 * forged block reaching below SND.UNA) */
		for (unsigned i = 0; i < o->nsack; i++) {
			hsk_seq left = seq_of(o->sack[i].left), right = seq_of(o->sack[i].right);
			if (!seq_lt(left, t->snd_una) && seq_lt(left, right) &&
			    !seq_gt(right, x->recover) && seq_gt(right, x->und.high)) {
				undo_apply(s, t, false);
				return;
			}
		}
	}
	undo_frto_real(t);
}
