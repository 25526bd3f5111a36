/*
 * Buffer autotuning, as Linux's (tcp_input.c: tcp_rcv_space_adjust,
 * tcp_rcv_rtt_measure, tcp_rcv_rtt_measure_ts, tcp_sndbuf_expand,
 * tcp_should_expand_sndbuf): a connection starts with rcvbuf and sndbuf
 * (256 KiB) and its buffers grow with what it moves, up to rcvbuf_max
 * and sndbuf_max (6 and 4 MiB, Linux's tcp_rmem[2] and tcp_wmem[2]).
 *
 *   receive   Dynamic Right-Sizing: once per receiver RTT, the bytes the
 *             application consumed in it (`copied`). When that is more
 *             than the last count, rcvbuf becomes 2 copied + 16 MSS (room
 *             for a loss's recovery), plus twice that times the count's
 *             rate of growth (a sender in slow start doubles per RTT, and
 *             the window offered now is for the next one). The receiver's
 *             RTT: from the timestamp echo of a full-sized segment
 *             (smoothed by 1/8), else the time to receive a window's worth
 *             (the least seen). Counted on full-sized in-order segments
 *             only: smaller ones never need a larger buffer, and a
 *             request/response exchange pays nothing for it.
 *   send      the application finds the send ring full again after an
 *             ACK freed some of it (Linux's tcp_new_space), all of it in
 *             flight, and the congestion window not full (the buffer, not
 *             cwnd nor the peer's window, holds the sender back): sndbuf
 *             becomes twice the congestion window, at least 10 segments'
 *             worth. (Linux asks only the cwnd's question.)
 * Neither grows a buffer the application set (SO_RCVBUF, SO_SNDBUF: the
 * TCB's buffer locks) nor grows under memory pressure (send: nor above
 * tcp_mem_low, as Linux). The rings follow through mem.c (tcb_fit_rcv,
 * tcb_fit_snd): counted against tcp_mem like any ring, and never taking
 * the total past tcp_mem_pressure. A receiver that does not read counts
 * nothing consumed: its buffer never grows.
 *
 * The receive count's state (tcp_tune) lives in the active extension.
 * While a count is live (less than max(2 RTT, TUNE_KEEP_NS) old) the
 * extension is not given back (active.c), so a window-limited transfer,
 * idle between its bursts, keeps counting; a count older than that is
 * started again, whether the extension went back or not.
 */
#include <assert.h>

#include "tcp/tcp.h"

/* The least time a count stays live after it was taken. */
#define TUNE_KEEP_NS (200ull * 1000000ull)
/* Linux's TCP_INIT_CWND: the first count's base is at most 10 segments. */
enum { TUNE_INIT_SEGS = 10 };

uint32_t tcp_rcvbuf_reach(const tcp_stack *s, uint32_t rcvbuf, unsigned locks)
{
	uint32_t max = s->env->cfg.rcvbuf_max;
	return !(locks & BUF_LOCK_RCV) && max > rcvbuf ? max : rcvbuf;
}

uint8_t tcp_rcv_wscale(const tcp_stack *s, uint32_t rcvbuf, unsigned locks)
{
	return wscale_for(tcp_rcvbuf_reach(s, rcvbuf, locks));
}

/* Bytes the application has consumed, as a sequence number (Linux's
 * copied_seq): what arrived in order less what the ring still holds. */
static hsk_seq consumed_seq(const tcb *t, const tcb_act *a)
{
	return seq_add(t->rcv_nxt, -(int32_t)ring_len(&a->rcv));
}

static uint64_t tune_keep_ns(const tcp_tune *u)
{
	uint64_t two = 2000ull * u->rtt_us;
	return two > TUNE_KEEP_NS ? two : TUNE_KEEP_NS;
}

bool tune_live(const tcp_stack *s, const tcb_act *a)
{
	const tcp_tune *u = &a->tun;
	return (a->tune & TUNE_RCV) && u->due != UINT64_MAX &&
	       s->env->now - u->count_at < tune_keep_ns(u);
}

/* A new count, from now (Linux's tcp_init_buffer_space and the first
 * tcp_rcv_rtt_measure). A locked or full-grown buffer never counts. */
static void count_start(tcp_stack *s, tcb *t, tcb_act *a)
{
	tcp_tune *u = &a->tun;
	uint64_t now = s->env->now;
	a->tune |= TUNE_RCV;
	if ((tcb_buf_locks(t) & BUF_LOCK_RCV) || t->rcvbuf >= s->env->cfg.rcvbuf_max) {
		u->due = UINT64_MAX;
		return;
	}
	uint32_t init = TUNE_INIT_SEGS * (uint32_t)t->mss;
	u->space = t->rcvbuf < init ? t->rcvbuf : init;
	u->count_seq = consumed_seq(t, a);
	u->count_at = now;
	u->rtt_us = 0;
	u->rtt_seq = seq_add(t->rcv_nxt, (int32_t)(seq_gt(t->rcv_adv, t->rcv_nxt) ?
						   seq_diff(t->rcv_adv, t->rcv_nxt) : 0));
	u->rtt_at = now;
	u->due = now;           /* until the first RTT sample */
}

/* Linux's tcp_rcv_rtt_update: a timestamp's sample is smoothed (1/8); a
 * window's (win_dep), which can only be longer than the RTT, is kept
 * when it is the least. */
static void rtt_update(tcp_tune *u, uint64_t ns, bool win_dep)
{
	uint64_t us = ns / 1000;
	if (us == 0)
		us = 1;
	if (us > UINT32_MAX / 2)
		us = UINT32_MAX / 2;
	if (!u->rtt_us)
		u->rtt_us = (uint32_t)us;
	else if (win_dep)
		u->rtt_us = us < u->rtt_us ? (uint32_t)us : u->rtt_us;
	else
		u->rtt_us = u->rtt_us - u->rtt_us / 8 + (uint32_t)(us / 8);
}

/* The receiver's RTT sample of this segment: its timestamp echo (our
 * TSval of the ACK the sender had last), else the window measure's,
 * once RCV.NXT passes the edge it started at. */
static void rtt_measure(tcp_stack *s, tcb *t, tcp_tune *u, const tcp_seg *sg)
{
	uint64_t now = s->env->now;
	if ((t->flags & TF_TS_OK) && sg->th.opt.has_ts) {
		int32_t ticks = (int32_t)(rtt_tsval(&s->rttp, now, t->ts_offset) -
					  sg->th.opt.ts_ecr);
		if (ticks >= 0)         /* (not an echo from the future) */
			rtt_update(u, (uint64_t)(ticks ? ticks : 1) * s->rttp.ts_tick, false);
		return;
	}
	if (seq_lt(t->rcv_nxt, u->rtt_seq))
		return;
	rtt_update(u, now - u->rtt_at, true);
	u->rtt_seq = seq_add(t->rcv_nxt, (int32_t)(seq_gt(t->rcv_adv, t->rcv_nxt) ?
						   seq_diff(t->rcv_adv, t->rcv_nxt) : 0));
	u->rtt_at = now;
}

/* Linux's tcp_rcv_space_adjust's growth: the buffer for `copied` bytes
 * consumed per RTT, the count before having been `space`. */
static void rcv_grow(tcp_stack *s, tcb *t, uint32_t copied, uint32_t space)
{
	uint64_t win = 2 * (uint64_t)copied + 16 * (uint64_t)t->mss;
	win += 2 * (win * (copied - space) / space);
	uint32_t max = s->env->cfg.rcvbuf_max;
	uint32_t want = win < max ? (uint32_t)win : max;
	if (want <= t->rcvbuf)
		return;
	t->rcvbuf = want;
	CNT_INC(s->env, TCPRcvBufAutoGrow);
	tcb_fit_rcv(s, t);      /* the ring now, when nothing is out of order */
}

void tune_rcv_count(tcp_stack *s, tcb *t, tcb_act *a, const tcp_seg *sg)
{
	tcp_tune *u = &a->tun;
	uint64_t now = s->env->now;
	if (!(a->tune & TUNE_RCV) ||
	    (u->due != UINT64_MAX && now - u->count_at >= tune_keep_ns(u)))
		count_start(s, t, a);
	if (u->due == UINT64_MAX)
		return;
	rtt_measure(s, t, u, sg);
	uint64_t rtt = 1000ull * u->rtt_us;
	if (!rtt) {
		u->due = now;
		return;
	}
	if (now - u->count_at < rtt) {
		u->due = u->count_at + rtt;
		return;
	}
	hsk_seq at = consumed_seq(t, a);
	uint32_t copied = (uint32_t)seq_diff(at, u->count_seq);
	/* Growth follows consumption: no more consumed than in the count
	 * before, nothing grows (a reader that does not read never grows) */
	if (copied > u->space) {
		/* and never under memory pressure */
		if (!s->mem_pressure)
			rcv_grow(s, t, copied, u->space);
		u->space = copied;
	}
	u->count_seq = at;
	u->count_at = now;
	u->due = t->rcvbuf >= s->env->cfg.rcvbuf_max ? UINT64_MAX : now + rtt;
}

void tune_snd_full(tcp_stack *s, tcb *t)
{
	const hsk_config *c = &s->env->cfg;
	/* (Under pressure tcb_fit_snd shrinks rings instead: no call.) */
	assert(!s->mem_pressure);
	if ((tcb_buf_locks(t) & BUF_LOCK_SND) || t->sndbuf >= c->sndbuf_max ||
	    s->buffer_bytes >= c->tcp_mem_low)
		return;
	/* Only when the buffer is what holds the sender back: all it holds
	 * is in flight, and cwnd has room (Linux's test). Bytes that wait
	 * are held back by the peer's window (one that never reads must
	 * not make us hold more), cwnd or Nagle: more buffer would wait. */
	tcb_act *a = t->act;
	uint32_t cwnd = a->cc.cwnd;
	uint32_t flight = (uint32_t)seq_diff(t->snd_max, t->snd_una);
	if (flight < ring_len(&a->snd) || flight >= cwnd)
		return;
	/* And, as Linux's tcp_new_space, only once an ACK freed room for a
	 * writer that found none: not for a silent peer. */
	bool acked = (a->tune & TUNE_SND_FULL) && !seq_eq(a->tun.full_una, t->snd_una);
	a->tune |= TUNE_SND_FULL;
	a->tun.full_una = t->snd_una;
	if (!acked)
		return;
	uint64_t want = (uint64_t)TUNE_INIT_SEGS * t->mss;
	if (want < cwnd)
		want = cwnd;
	want *= 2;
	if (want > c->sndbuf_max)
		want = c->sndbuf_max;
	if (want <= t->sndbuf)
		return;
	t->sndbuf = (uint32_t)want;
	CNT_INC(s->env, TCPSndBufAutoGrow);
}
