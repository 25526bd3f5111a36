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

static bool seg_ect(const tcp_seg *sg)
{
	return (sg->tos & IP_ECN_MASK) != IP_ECN_NOT_ECT;
}

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

bool ecn_syn_ok(const tcp_stack *s, const tcp_seg *sg)
{
	return s->env->cfg.ecn >= 1 &&
	       (sg->th.flags & (HSK_TH_ECE | HSK_TH_CWR)) == (HSK_TH_ECE | HSK_TH_CWR) &&
	       !seg_ect(sg);
}

void ecn_out(tcb *t, seg_out *o)
{
	o->tos = t->tos;
	if (!(t->ecn & ECN_OK) || (o->flags & HSK_TH_SYN))
		return;
	if (o->len && seq_ge(o->seq, t->snd_max)) {
		o->tos |= IP_ECN_ECT0;
		if (t->ecn & ECN_QUEUE_CWR) {
			t->ecn &= (uint8_t)~ECN_QUEUE_CWR;
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
		t->ecn &= (uint8_t)~ECN_DEMAND_CWR;
		t->flags |= TF_ACK_NOW;
	}
	if ((sg->tos & IP_ECN_MASK) == IP_ECN_CE) {
		if (!(t->ecn & ECN_DEMAND_CWR)) {
			qack_enter(s, t, 2);
			t->ecn |= ECN_DEMAND_CWR;
		}
		t->ecn |= ECN_SEEN;
	}
}

/* Sent since the reduction began: new data past ecn_high (retransmissions
 * in the CWR state are rare: a loss turns it into recovery). */
static uint32_t cwr_sent(const tcb *t)
{
	return seq_gt(t->snd_max, t->ecn_high) ? (uint32_t)seq_diff(t->snd_max, t->ecn_high) : 0;
}

void ecn_rcv_ack(tcp_stack *s, tcb *t, const tcp_seg *sg, uint32_t flight, uint32_t cwnd,
		 uint32_t delivered)
{
	if (!(t->ecn & ECN_OK) || !(sg->th.flags & HSK_TH_ECE) ||
	    (sg->th.flags & HSK_TH_SYN))
		return;
	/* Once per window: an ECE is news only on an ACK of data sent after
	 * the last reduction (the receiver echoes until it sees our CWR,
	 * which went on that data). Not on top of a loss recovery's
	 * reduction either. */
	if (t->cc.in_recovery || (t->ecn & ECN_CWR) || !seq_gt(sg->ack, t->ecn_high))
		return;
	/* The ACK that brings ECE does not grow cwnd (Linux enters its CWR
	 * state before growth): reduce from what it was, and this ACK is
	 * the first step of the reduction. */
	if (t->cc.cwnd > cwnd)
		t->cc.cwnd = cwnd;
	cc_enter_cwr(&t->cc, flight, s->env->now);
	t->ecn_high = t->snd_max;
	t->ecn |= ECN_QUEUE_CWR | ECN_CWR;
	CNT_INC(s->env, TCPECNReduce);
	cc_cwr_ack(&t->cc, delivered, rec_pipe(t), 0);
}

bool ecn_cwr_ack(tcp_stack *s, tcb *t, uint32_t delivered, uint32_t pipe)
{
	if (!(t->ecn & ECN_CWR))
		return false;
	/* Linux holds the state until something above high_seq is
	 * acknowledged, so that our CWR has reached the receiver. */
	if (seq_gt(t->snd_una, t->ecn_high)) {
		t->ecn &= (uint8_t)~ECN_CWR;
		cc_end_cwr(&t->cc, s->env->now);
		return false;
	}
	cc_cwr_ack(&t->cc, delivered, pipe, cwr_sent(t));
	return true;
}

bool ecn_cwr_to_recovery(tcb *t, bool sack)
{
	if (!(t->ecn & ECN_CWR))
		return false;
	t->ecn &= (uint8_t)~ECN_CWR;
	t->cc.prr_out = cwr_sent(t);
	cc_cwr_to_recovery(&t->cc, sack);
	return true;
}
