/*
 * Loss recovery and the congestion response to ACKs (RFC 5681, RFC 6582).
 *
 *   ack_input -> rec_on_ack     SND.UNA advanced: grow cwnd, or in
 *                               recovery deflate / retransmit the next hole
 *             -> rec_on_dupack  a duplicate ACK (RFC 5681 §2): the third
 *                               starts fast retransmit and fast recovery
 *
 * The cwnd arithmetic itself (slow start, CUBIC or Reno growth, the
 * reduction on loss, inflation by duplicate ACKs) is the congestion-control
 * module's (cc.h); this file decides when, and what to resend.
 */
#include "core/stack.h"

enum { DUPTHRESH = 3 };

static bool in_recovery(const tcb *t)
{
	return t->cc.in_recovery;
}

void rec_on_ack(hsk_stack *s, tcb *t, uint32_t acked, uint32_t flight_before)
{
	t->dupacks = 0;
	if (in_recovery(t)) {
		if (seq_ge(t->snd_una, t->recover)) {
			/* A full ACK: everything outstanding at the loss has
			 * arrived (RFC 6582 §3.2 (3)). */
			cc_exit_recovery(&t->cc, (uint32_t)seq_diff(t->snd_max, t->snd_una),
					 s->now);
			return;
		}
		/* A partial ACK: the next hole is lost too (RFC 6582 §3.2
		 * (5)); resend it at once. */
		cc_ack a = { .acked = acked, .flight = flight_before,
			     .srtt = t->rtt.srtt, .cwnd_limited = true };
		cc_on_ack(&t->cc, &a, s->now);
		tcb_resend(s, t, t->snd_una, t->mss);
		return;
	}
	cc_ack a = {
		.acked = acked, .flight = flight_before, .srtt = t->rtt.srtt,
		/* RFC 7661: grow only while the window is what limits us. */
		.cwnd_limited = flight_before + t->mss >= t->cc.cwnd,
	};
	cc_on_ack(&t->cc, &a, s->now);
}

void rec_on_dupack(hsk_stack *s, tcb *t)
{
	if (in_recovery(t)) {
		cc_on_dupack(&t->cc);   /* each one means a segment left */
		return;
	}
	if (++t->dupacks < DUPTHRESH)
		return;
	/* RFC 6582 §3.2 (1): not again for losses of the same window, nor
	 * while a timeout's go-back-N is still repairing. */
	if (seq_lt(t->snd_una, t->recover) && !seq_eq(t->recover, t->snd_una))
		return;
	t->recover = t->snd_max;
	CNT_INC(s, TCPFastRetrans);
	CNT_INC(s, TCPRenoRecovery);
	cc_enter_recovery(&t->cc, (uint32_t)seq_diff(t->snd_max, t->snd_una), false,
			  s->now);
	tcb_resend(s, t, t->snd_una, t->mss);
	tcb_arm_rtx(s, t, s->now);
}
