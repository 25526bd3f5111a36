/*
 * TCB timers. A TCB has one wheel timer set to the earliest of its
 * deadlines; each deadline is documented where it is armed and cleared:
 *
 *   rtx_at     retransmission (RFC 6298): armed when something is in flight
 *              and not armed; restarted when an ACK advances SND.UNA;
 *              cleared when nothing is in flight. With TF_PERSIST it is the
 *              zero-window probe timer instead (same backoff).
 *   delack_at  delayed ACK: armed on in-order data that does not need an
 *              immediate ACK; cleared by any segment carrying our ACK.
 *   close_at   FIN_WAIT_2 of an orphan (fin_timeout): armed on entering
 *              FIN_WAIT_2 without a socket; before that, SO_LINGER's time
 *              for our FIN to be acknowledged (armed by close()).
 *   keep_at    keepalive (idle/interval/probes), when enabled.
 *   pace_wait_at  a paced segment waits for its time (pace.c): armed
 *              when pacing holds the send loop; cleared when it goes.
 *
 * An orphan holding rings when not even a minimum ring fits under
 * tcp_mem_high is reset when its retransmission or probe timer fires
 * (TCPAbortOnMemory), as Linux's tcp_out_of_resources.
 *
 * Retry limits: SYN (syn_retries), SYN-ACK of a simultaneous open
 * (synack_retries), orphans (orphan_retries), others (retries2) or the
 * user timeout when set; past the limit the connection fails with
 * ETIMEDOUT.
 *
 * Zero-window probes (the persist timer, and retransmissions into a
 * window the peer closed) are bounded as Linux's tcp_probe_timer bounds
 * them: a peer that answers (any acceptable ACK) restarts the count, so it
 * may keep its window closed for as long as it answers (RFC 9293
 * §3.8.6.1); retries2 unanswered probes end the connection, orphan_retries
 * probes end an orphan whether answered or not, and the user timeout ends
 * the probing run whatever the answers.
 */
#include "tcp/tcp.h"

/* tcb_arm_rtx with the RTO given. */
static inline void arm_rtx_at(tcp_stack *s, tcb *t, uint64_t now, uint64_t rto)
{
	tcb_act *a = t->act;  /* something is in flight, or data waits */
	a->rtx_at = now + rto;
	if (!a->first_rtx_at)
		a->first_rtx_at = now;
	tcb_timer_update(s, t);
}

/* Before a sample or when backed off: the RTO takes a call, kept out of
 * the common path so that it needs no stack frame. */
static __attribute__((noinline)) void arm_rtx_any(tcp_stack *s, tcb *t, uint64_t now)
{
	arm_rtx_at(s, t, now, rtt_rto_any(&t->rtt, &s->rttp));
}

void tcb_arm_rtx(tcp_stack *s, tcb *t, uint64_t now)
{
	const rtt_est *e = &t->rtt;
	if (!e->srtt || e->backoff) {
		arm_rtx_any(s, t, now);
		return;
	}
	arm_rtx_at(s, t, now, rtt_rto(e, &s->rttp));
}

static unsigned retry_limit(tcp_stack *s, const tcb *t)
{
	if (t->state == HSK_SYN_SENT)
		return s->env->cfg.syn_retries;
	if (syn_outstanding(t))
		return s->env->cfg.synack_retries;
	if (t->sd < 0)
		return s->env->cfg.orphan_retries;
	return s->env->cfg.retries2;
}

static bool user_timeout_passed(const tcb *t, uint64_t now)
{
	const tcb_act *a = t->act;
	return a->user_timeout_ns && a->first_rtx_at &&
	       now - a->first_rtx_at >= a->user_timeout_ns;
}

static bool rtx_exhausted(tcp_stack *s, const tcb *t, uint64_t now)
{
	if (user_timeout_passed(t, now))
		return true;
	return t->act->retries >= retry_limit(s, t);
}

static bool probes_exhausted(tcp_stack *s, const tcb *t, uint64_t now)
{
	if (user_timeout_passed(t, now))
		return true;
	return t->act->win_probes >= (t->sd < 0 ? s->env->cfg.orphan_retries : s->env->cfg.retries2);
}

/* Returns false when the connection ended (and t may be freed). */
static bool rtx_fire(tcp_stack *s, tcb *t, uint64_t now)
{
	tcb_act *a = t->act;
	a->rtx_at = 0;
	if (tcb_counted_orphan(t) && (a->snd.buf || a->rcv.buf) && tcp_mem_exhausted(s)) {
		/* Linux's tcp_out_of_resources: an orphan that holds memory
		 * when there is none left goes first. */
		CNT_INC(s->env, TCPAbortOnMemory);
		tcb_send_rst(s, t);
		tcb_closed(s, t, "out of memory");
		return false;
	}
	bool persist = t->flags & TF_PERSIST;
	if (persist && t->snd_wnd) {
		/* The window is open but too small for SWS avoidance: the
		 * override timeout sends what fits (RFC 9293 §3.8.6.2.1). */
		rtt_backoff(&t->rtt);
		t->flags = (t->flags & ~TF_PERSIST) | TF_SWS_OVERRIDE;
		tcp_output(s, t);
		t->flags &= ~TF_SWS_OVERRIDE;
		return true;
	}
	/* A peer that closed its window drops what we resend: those resends
	 * are window probes too (Linux: tcp_retransmit_timer). */
	bool zero_wnd = !persist && t->snd_wnd == 0 && state_synchronized(t->state) &&
			!syn_outstanding(t);
	bool probing = persist || zero_wnd;
	if (probing ? probes_exhausted(s, t, now) : rtx_exhausted(s, t, now)) {
		if (t->state == HSK_SYN_SENT)
			CNT_INC(s->env, AttemptFails);
		else
			CNT_INC(s->env, TCPAbortOnTimeout);
		tcb_fail(s, t, HSK_ETIMEDOUT, probing ? "zero-window probe timeout" :
			 "retransmission timeout");
		return false;
	}
	/* RFC 6298 §5.5: back off. */
	rtt_backoff(&t->rtt);
	if (probing && a->win_probes < UINT8_MAX)
		a->win_probes++;
	if (persist) {
		tcb_send_probe(s, t);   /* the zero window may have opened */
		CNT_INC(s->env, TCPWinProbe);
		tcb_arm_rtx(s, t, now);
		return true;
	}
	if (!zero_wnd)
		a->retries++;
	CNT_INC(s->env, TCPTimeouts);
	/* RFC 5681 §3.1: after a timeout, start over from one segment; until
	 * SND.UNA passes `recover` no fast recovery (RFC 6582 §3.2). */
	undo_on_rto(s, t, a->retries == 1);     /* before ECN's state goes */
	ecn_cwr_abort(t);
	cc_on_rto(&a->cc, (uint32_t)seq_diff(t->snd_max, t->snd_una), a->retries == 1,
		  now);
	a->recover = t->snd_max;
	a->dupacks = 0;
	if (a->sack_on && a->sack.seg)
		rec_sack_rto(s, t);     /* RACK marks what is lost */
	else
		tcb_retransmit(s, t);   /* go back N */
	if (!a->rtx_at)
		tcb_arm_rtx(s, t, now);
	return true;
}

uint64_t keep_idle_ns(const tcp_stack *s, const tcb *t)
{
	return t->act && t->act->keep_idle_s ? t->act->keep_idle_s * 1000000000ull :
					       s->env->cfg.keepalive_idle_ns;
}

static uint64_t keep_intvl_ns(const tcp_stack *s, const tcb *t)
{
	return t->act && t->act->keep_intvl_s ? t->act->keep_intvl_s * 1000000000ull :
						s->env->cfg.keepalive_intvl_ns;
}

static unsigned keep_cnt(const tcp_stack *s, const tcb *t)
{
	return t->act && t->act->keep_cnt ? t->act->keep_cnt : s->env->cfg.keepalive_probes;
}

static bool keepalive_fire(tcp_stack *s, tcb *t, uint64_t now)
{
	t->keep_at = 0;
	if (!(t->flags & TF_KEEPALIVE) || !state_synchronized(t->state))
		return true;
	/* Keepalive is for an idle connection (RFC 9293 §3.8.4), half-closed
	 * ones (CLOSE_WAIT, FIN_WAIT_2) included, as Linux: with data or a
	 * FIN in flight or waiting to go, retransmission or the persist
	 * timer judges the peer, under their own limits; look again a whole
	 * idle time later. */
	if (!seq_eq(t->snd_una, t->snd_max) || (t->act && ring_len(&t->act->snd))) {
		t->keep_at = now + keep_idle_ns(s, t);
		return true;
	}
	if (t->keep_probes >= keep_cnt(s, t)) {
		CNT_INC(s->env, TCPAbortOnTimeout);
		tcb_fail(s, t, HSK_ETIMEDOUT, "keepalive timeout");
		return false;
	}
	t->keep_probes++;
	CNT_INC(s->env, TCPKeepAlive);
	tcb_send_probe(s, t);
	t->keep_at = now + keep_intvl_ns(s, t);
	return true;
}

/* A deadline of the extension (none without it) that is due. */
#define ACT_DUE(t, f, now) ((t)->act && (t)->act->f && (t)->act->f <= (now))

void tcb_timer_fire(tcp_stack *s, tcb *t, uint64_t now)
{
	if (ACT_DUE(t, close_at, now)) {
		/* The peer may sit in CLOSE_WAIT forever, so tell it with a
		 * reset (as Linux's keepalive timer does; its FIN_WAIT2
		 * mini-socket, the default, ends silently: docs/engine.md).
		 * Before FIN_WAIT_2 it is SO_LINGER's time
		 * that ran out (src/api/socket.c): our FIN was not
		 * acknowledged in time. */
		bool linger = t->state != HSK_FIN_WAIT_2;
		t->act->close_at = 0;
		if (linger)
			CNT_INC(s->env, TCPAbortOnLinger);
		tcb_send_rst(s, t);
		tcb_closed(s, t, linger ? "timer SO_LINGER" : "timer FIN_WAIT_2");
		return;
	}
	if (ACT_DUE(t, rtx_at, now) && !rtx_fire(s, t, now))
		return;
	if (t->keep_at && t->keep_at <= now && !keepalive_fire(s, t, now))
		return;
	tcp_sack *k = tcb_sack(t);
	if (k && ((k->reo_at && k->reo_at <= now) || (k->tlp_at && k->tlp_at <= now)))
		rec_sack_timers(s, t, now);
	if (ACT_DUE(t, pace_wait_at, now)) {
		/* a paced segment's time has come (pace.c) */
		t->act->pace_wait_at = 0;
		tcp_output(s, t);
	}
	if (ACT_DUE(t, delack_at, now)) {
		t->act->delack_at = 0;
		qack_delack_missed(t);
		CNT_INC(s->env, TCPDelayedACKs);
		tcb_send_ack(s, t);
	}
	tcb_timer_update(s, t);
	tcb_act_put_idle(s, t);
}
