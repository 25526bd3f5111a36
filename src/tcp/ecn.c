/*
 * Explicit Congestion Notification (RFC 3168) and the TOS byte of our
 * packets, as Linux does them (tcp_input.c: tcp_ecn_*; tcp_output.c:
 * tcp_ecn_send*, INET_ECN_xmit).
 *
 * Negotiation, with Linux's knob (hsk_config.ecn, tcp_ecn): 0 never; 1
 * request it on our SYNs and accept it; 2 (the default) accept it when a
 * peer asks, never ask.
 *   our SYN          ECE|CWR (only the first: a retransmitted SYN goes
 *                    without them, Linux's tcp_ecn_fallback, in case a
 *                    middlebox drops ECN SYNs)
 *   their SYN        ECE|CWR and not itself ECT-marked: agreed; our SYN-ACK
 *                    carries ECE
 *   their SYN-ACK    ECE without CWR: agreed; anything else: not
 * Once agreed (tcb.ecn & ECN_OK):
 *   sending          ECT(0) on new data only, never on pure ACKs,
 *                    retransmissions, SYNs or resets (RFC 3168 §6.1.4,
 *                    §6.1.5); ECE on every segment while a CE mark waits
 *                    for the sender's CWR; CWR on the first new data after
 *                    we reduced for an ECE
 *   CE on data       ECE from now on until a data segment carries CWR (the
 *                    same segment may carry CWR and a new CE), and quick
 *                    ACKs (2) so the sender hears it soon
 *   ECE on an ACK    the congestion response of a loss, once per window
 *                    (RFC 3168 §6.1.2), as Linux's CWR state: ssthresh
 *                    from the algorithm at once, cwnd brought down to it
 *                    over the round trip by PRR (RFC 6937), no growth,
 *                    until SND.UNA passes what was outstanding (ecn_high);
 *                    then cwnd = ssthresh. Not while loss recovery
 *                    already reduced; a loss during it turns it into fast
 *                    recovery without a second reduction; no
 *                    retransmission
 * What differs from Linux: no accurate ECN (AccECN): it needs the third
 * header flag (AE), a counter option and its own negotiation, more than
 * its gain here.
 */
#include "tcp/tcp.h"

void ecn_syn_out(tcp_stack *s, tcb *t, seg_out *o)
{
	if (t->state == HSK_SYN_SENT) {
		if (s->env->cfg.ecn != 1)
			return;
		t->ecn = ECN_OK;        /* until the SYN-ACK says otherwise */
		if (!(t->flags & TF_SYN_RETRANS))
			o->flags |= HSK_TH_ECE | HSK_TH_CWR;
	} else if (t->ecn & ECN_OK) {
		o->flags |= HSK_TH_ECE;  /* a SYN-ACK (simultaneous open) */
	}
}

void ecn_rcv_synack(tcb *t, const tcp_seg *sg)
{
	uint8_t f = sg->th.flags;
	if ((t->ecn & ECN_OK) && (!(f & HSK_TH_ECE) || (f & HSK_TH_CWR)))
		t->ecn = 0;
}

void ecn_rcv_syn(tcb *t, const tcp_seg *sg)
{
	uint8_t f = sg->th.flags;
	if ((t->ecn & ECN_OK) &&
	    ((f & (HSK_TH_ECE | HSK_TH_CWR)) != (HSK_TH_ECE | HSK_TH_CWR)))
		t->ecn = 0;
}

/* The once-per-window edge (ecn_rcv_ack): an ECE is news only on an ACK
 * past it. Before the first reduction it is where ESTABLISHED found
 * SND.UNA: the ISS (TF_ECN_ISS), ISS + 1, or more (ecn_high). */
static hsk_seq ecn_edge(const tcb *t)
{
	return (t->flags & TF_ECN_HIGH) ? t->act->ecn_high :
	       seq_add(t->iss, (t->flags & TF_ECN_ISS) ? 0 : 1);
}

/* SND.UNA this far past the edge: every acceptable ACK is past it too
 * (none is older than SND.UNA - MAX.SND.WND, and MAX.SND.WND < 2^30). */
#define ECN_EDGE_FAR_BYTES (1 << 30)

void ecn_out(tcb *t, seg_out *o)
{
	o->tos = t->tos;
	if (!(t->ecn & ECN_OK) || (o->flags & HSK_TH_SYN))
		return;
	if (o->len && seq_ge(o->seq, t->snd_max)) {
		/* seq_gt(SEG.ACK, edge) turns false 2^31 bytes past the edge:
		 * note the edge far behind before (ECN_EDGE_FAR). Between two
		 * segments of new data SND.UNA moves at most to the first
		 * one's end, within MAX.SND.WND (+ a probe's byte, a FIN) of
		 * SND.UNA then: it is noted 2^30 to 2^31 - 2^14 + 2 bytes on,
		 * where the comparison is still exact. */
		if (!(t->ecn & ECN_EDGE_FAR) &&
		    seq_diff(t->snd_una, ecn_edge(t)) >= ECN_EDGE_FAR_BYTES)
			t->ecn |= ECN_EDGE_FAR;
		o->tos |= IP_ECN_ECT0;
		if (t->ecn & ECN_QUEUE_CWR) {
			t->ecn &= ~ECN_QUEUE_CWR & 0xf;
			o->flags |= HSK_TH_CWR;
		}
	}
	if (t->ecn & ECN_DEMAND_CWR)
		o->flags |= HSK_TH_ECE;
}

void ecn_rcv_data(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	if (!(t->ecn & ECN_OK))
		return;
	if (sg->th.flags & HSK_TH_CWR) {
		/* The sender reduced: its window may be one segment, so ACK
		 * at once (Linux's tcp_ecn_accept_cwr). */
		t->ecn &= ~ECN_DEMAND_CWR & 0xf;
		t->flags |= TF_ACK_NOW;
	}
	if ((sg->tos & IP_ECN_MASK) == IP_ECN_CE) {
		if (!(t->ecn & ECN_DEMAND_CWR)) {
			qack_enter(s, t, 2);
			t->ecn |= ECN_DEMAND_CWR;
		}
	}
}

/* Sent since the reduction began: new data past ecn_high (retransmissions
 * in the CWR state are rare: a loss turns it into recovery). */
static uint32_t cwr_sent(const tcb *t)
{
	hsk_seq high = t->act->ecn_high;
	return seq_gt(t->snd_max, high) ? (uint32_t)seq_diff(t->snd_max, high) : 0;
}

/* The CWR state lives in the extension: it begins with data in flight,
 * and the extension is kept while an ECN edge is stored (TF_ECN_HIGH). */
static bool in_cwr(const tcb *t)
{
	return t->act && t->act->ecn_cwr;
}

void ecn_rcv_ack(tcp_stack *s, tcb *t, const tcp_seg *sg, uint32_t flight, uint32_t cwnd,
		 uint32_t delivered)
{
	if (!(t->ecn & ECN_OK) || !(sg->th.flags & HSK_TH_ECE) ||
	    (sg->th.flags & HSK_TH_SYN))
		return;
	/* Congestion, whatever else this ACK says: a reduction it meets or
	 * makes is never undone (RFC 9438 §4.9; Linux's tcp_enter_cwr and
	 * its prior_ssthresh 0 for an ECE that starts recovery). */
	if (t->act) {
		if (t->act->undo & (UNDO_FRTO | UNDO_FRTO_NEW))
			undo_frto_real(t);      /* (its cwnd for two new segments) */
		t->act->undo = 0;
	}
	/* Once per window: an ECE is news only on an ACK of data sent after
	 * the last reduction (the receiver echoes until it sees our CWR,
	 * which went on that data); before the first, on an ACK of more than
	 * our SYN (ecn_edge); on any once the edge is far behind (ecn_out).
	 * Not on top of a loss recovery's reduction, nor inside the CWR
	 * state of the last one. */
	if (tcb_in_recovery(t) || in_cwr(t) ||
	    (!(t->ecn & ECN_EDGE_FAR) && !seq_gt(sg->ack, ecn_edge(t))))
		return;
	tcb_act *a = tcb_act_get(s, t);
	if (!a)
		return;
	/* The ACK that brings ECE does not grow cwnd (Linux enters its CWR
	 * state before growth): reduce from what it was, and this ACK is
	 * the first step of the reduction. */
	if (a->cc.cwnd > cwnd)
		a->cc.cwnd = cwnd;
	cc_enter_cwr(&a->cc, flight, s->env->now);
	a->ecn_high = t->snd_max;
	a->ecn_cwr = true;
	t->flags |= TF_ECN_HIGH;
	t->ecn = (t->ecn & ~ECN_EDGE_FAR & 0xf) | ECN_QUEUE_CWR;   /* a new edge */
	CNT_INC(s->env, TCPECNReduce);
	cc_cwr_ack(&a->cc, delivered, rec_pipe(t), 0);
}

bool ecn_cwr_ack(tcp_stack *s, tcb *t, uint32_t delivered, uint32_t pipe)
{
	if (!in_cwr(t))
		return false;
	tcb_act *a = t->act;
	/* Linux holds the state until something above high_seq is
	 * acknowledged, so that our CWR has reached the receiver. */
	if (seq_gt(t->snd_una, a->ecn_high)) {
		a->ecn_cwr = false;
		cc_end_cwr(&a->cc, s->env->now);
		return false;
	}
	cc_cwr_ack(&a->cc, delivered, pipe, cwr_sent(t));
	return true;
}

bool ecn_cwr_to_recovery(tcb *t, bool sack)
{
	if (!in_cwr(t))
		return false;
	t->act->ecn_cwr = false;
	t->act->cc.prr_out = cwr_sent(t);
	cc_cwr_to_recovery(&t->act->cc, sack);
	return true;
}
