/*
 * Quick-ACK mode and pingpong (interactive) mode, as Linux has them
 * (tcp_input.c: tcp_incr_quickack, tcp_enter_quickack_mode,
 * tcp_event_data_recv, __tcp_ack_snd_check; tcp_output.c:
 * tcp_dec_quickack_mode, tcp_event_data_sent; tcp_timer.c:
 * tcp_delack_timer_handler).
 *
 * A receiver that delays every ACK slows a sender in slow start, which
 * grows its window per ACK: so for the first data of a connection, and
 * again after an idle RTO, every segment is ACKed at once for a while.
 *
 *   quick       ACKs left to send at once: set to rcv_wnd / (2 MSS), at
 *               least 2, at most 16 (TCP_MAX_QUICKACKS); each segment that
 *               carries an ACK that was owed spends one.
 *   entered     on the first data, on data after more than an RTO without
 *               data, on data that finds our window closed or that starts
 *               at the right edge of a window still open (either way the
 *               sender does not know our window: each quick ACK tells it)
 *               and on duplicate data (the peer missed our ACK) with 16;
 *               on a CE mark with 2 (ecn.c). These are Linux's callers of
 *               tcp_enter_quickack_mode and tcp_incr_quickack in
 *               tcp_event_data_recv, tcp_data_queue (its "out of window"
 *               branch), tcp_send_dupack and tcp_ecn_check_ce.
 *               tcp_grow_window's one quick ACK per growth of rcv_ssthresh
 *               has no counterpart: our window is the free buffer from the
 *               first segment (no ramp to announce), and room that a read
 *               frees is announced by the window update of hsk_recv (one
 *               MSS of growth, src/api/io.c). Left out: the window a
 *               connection gets back when memory pressure ends because
 *               other connections freed rings waits for its next ACK.
 *   pingpong    set when we send new data within the delayed-ACK time
 *               (40 ms, Linux's ATO minimum) of the last data received or
 *               of the handshake: a request/response exchange, whose ACKs
 *               ride on the replies. Quick ACKs wait meanwhile. Left when
 *               the delayed-ACK timer fires (a reply did not come in time),
 *               on entering quick-ACK mode, and with TCP_QUICKACK 1.
 *
 * What differs from Linux: the delayed-ACK time is fixed (delack_ns) where
 * Linux adapts its ATO between 40 and 200 ms; the quick count divides the
 * window by the negotiated MSS where Linux estimates the peer's segment
 * size from what arrives (rcv_mss, 536 at first).
 */
#include "tcp/tcp.h"

/* Linux's tcp_incr_quickack: the window we advertise over two segments. */
static void qack_incr(tcb *t, unsigned max)
{
	uint32_t wnd = seq_gt(t->rcv_adv, t->rcv_nxt) ?
		(uint32_t)seq_diff(t->rcv_adv, t->rcv_nxt) : 0;
	uint32_t q = wnd / (2u * (t->mss ? t->mss : TCP_DEFAULT_MSS));
	if (q == 0)
		q = 2;
	if (q > max)
		q = max;
	if (q > t->quick)
		t->quick = (uint8_t)q;
}

void qack_enter(tcp_stack *s, tcb *t, unsigned max)
{
	(void)s;
	qack_incr(t, max);
	t->flags &= ~TF_PINGPONG;
}

/* The rest of qack_on_data for data after the first: a gap longer than
 * an RTO (the sender had to restart its window) enters quick-ACK mode.
 * Out of line: the RTO's registers are its own. */
static __attribute__((noinline)) void qack_on_data_gap(tcp_stack *s, tcb *t, uint32_t now)
{
	uint32_t gap = now - t->lrcv_ms;
	if (gap > rtt_rto(&t->rtt, &s->rttp) / 1000000)
		qack_incr(t, QACK_MAX);
	t->lrcv_ms = now;
}

/* The rest of qack_on_data, off its common path. tcp_event_data_recv:
 * the first data (RCV.NXT still at IRS + 1: a lifecycle's request and
 * response each are), or none timed yet, enters quick-ACK mode here,
 * without a frame; the gap's test (the RTO) is qack_on_data_gap's. */
static __attribute__((noinline)) void qack_on_data_slow(tcp_stack *s, tcb *t, uint32_t now)
{
	if ((t->flags & TF_RCV_MOVED) && t->lrcv_ms) {
		qack_on_data_gap(s, t, now);
		return;
	}
	qack_incr(t, QACK_MAX);
	t->lrcv_ms = now;
}

void qack_on_data(tcp_stack *s, tcb *t)
{
	uint32_t now = qack_ms_clock(s);
	/* No gap (data in the same ms, as in a bulk transfer) after the
	 * first: nothing to do, and no RTO to work out. */
	if (t->lrcv_ms == now && (t->flags & TF_RCV_MOVED))
		return;
	qack_on_data_slow(s, t, now);
}

void qack_data_sent_clock(tcp_stack *s, tcb *t)
{
	/* (qack_data_sent has tested for nothing to set.) */
	if (qack_reply_in_time(s, t))
		t->flags |= TF_PINGPONG;
}

void qack_set(tcp_stack *s, tcb *t, bool on)
{
	if (!on) {
		t->flags |= TF_PINGPONG;
		return;
	}
	t->flags &= ~TF_PINGPONG;
	/* An ACK that waits for its timer goes now (tcp_cleanup_rbuf). */
	if (t->act && t->act->delack_at &&
	    (t->state == HSK_ESTABLISHED || t->state == HSK_CLOSE_WAIT)) {
		t->flags |= TF_ACK_NOW;
		tcp_output(s, t);
	}
}
