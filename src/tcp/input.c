/*
 * SEGMENT ARRIVES (RFC 9293 §3.10.7), one step per function.
 *
 * Input decides, reply.c acts: every step returns a tcp_verdict (tcp.h).
 * TV_ACCEPT goes on to the next step; anything else ends the processing
 * of the segment, and tcp_input hands it to tcp_reply(), the one way a
 * reply to an unacceptable segment leaves (rate limited per connection).
 *
 *   tcp_input: parse, count, look up the 4-tuple, tcp_reply(verdict)
 *     -> tcb_input        a full connection
 *          syn_sent_input          §3.10.7.3
 *          steps_predicted         a segment in order: the checks below
 *                                  pass unmade, on to tcb_input_checked
 *                                  or a close's short way (established_fin,
 *                                  fin_wait_1_acked, fin_wait_2_fin,
 *                                  last_ack_ends)
 *          simultaneous_synack     the SYN-ACK completing a simultaneous open
 *          paws_check              first: timestamps (RFC 7323 §5.3 R1)
 *          seq_check               first: sequence number
 *          rst_check               second: RST (RFC 5961 §3)
 *          syn_check               fourth: SYN -> challenge ACK (RFC 5961 §4)
 *          tcb_input_after_syn     (also: a request promoted by its ACK)
 *            ack_check             fifth: is the ACK plausible (RFC 5961 §5)
 *            ts_update             TS.Recent from the accepted segment
 *                                  (RFC 7323 §4.3)
 *            tcb_input_checked     the rest:
 *            ack_input             fifth: window, SND.UNA, loss recovery
 *                                  (recovery.c), the closing states
 *                                  (ack_forward: its part for an ACK of
 *                                  new data, the short ways')
 *            data_input            seventh: segment text (in order, or
 *                                  through reassembly)
 *            fin_input             eighth: FIN
 *     -> req_input        a SYN-queue request      (listen.c)
 *     -> tw_input         a TIME_WAIT entry        (timewait.c)
 *     -> listen_input     a listener               (listen.c)
 *     -> closed_input     nothing: §3.10.7.1
 * The third step (security) and the sixth (URG) have nothing to do here.
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "tcp/conn.h"
#include "tcp/tcp.h"
#include "tcp/reass.h"

static void count_parse_error(tcp_stack *s, int err)
{
	CNT_INC(s->env, InErrs);
	switch (err) {
	case WIRE_ERR_TCP_CSUM:
		CNT_INC(s->env, InCsumErrors);
		break;
	case WIRE_ERR_OPTLEN:
	case WIRE_ERR_MSS_ZERO:
		CNT_INC(s->env, DropBadOptions);
		break;
	case WIRE_ERR_SYN_FIN:
		CNT_INC(s->env, DropSynFin);
		break;
	case WIRE_ERR_SHORT:
		CNT_INC(s->env, DropShort);
		break;
	default:
		CNT_INC(s->env, DropBadHeader);
		break;
	}
}

/* RFC 7323 §5.5: 24 days, in the ms of ts_recent_ms (which wraps after
 * 49.7 days: a TS.Recent older than that looks younger by 49.7 days). */
#define PAWS_IDLE_MS (24u * 24 * 3600 * 1000)
_Static_assert(PAWS_IDLE_MS < (1u << 31), "PAWS idle time fits the ms clock");

/* The receive window for the acceptability test: what we advertised. */
static uint32_t rcv_window(const tcb *t)
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

/* RFC 9293 §3.10.7.4 first: the four cases of segment acceptability,
 * with the two allowances the RFC and the common stacks make so that an
 * ACK is not lost with the text around it:
 *  - RCV.WND = 0: "special allowance should be made to accept valid ACKs,
 *    URGs and RSTs": a segment at RCV.NXT is acceptable whatever its
 *    length; data_input drops its text (as Linux's tcp_sequence and
 *    TCPZeroWindowDrop);
 *  - a segment ending exactly at RCV.NXT (its text or FIN all old, e.g.
 *    the peer's FIN again because our ACK was lost) is acceptable for its
 *    ACK; data_input finds it a duplicate and ACKs it (Linux: end_seq >=
 *    rcv_wup; FreeBSD goes on to the ACK of any duplicate). Not an RST:
 *    one outside the window stays silently dropped (RFC 5961 §3.2). */
static bool seq_acceptable(const tcb *t, const tcp_seg *sg)
{
	/* At RCV.NXT every case below accepts (an empty window takes it for
	 * its ACK; a window starts at RCV.NXT): the segment in order, as
	 * nearly every one is, with one compare. */
	if (seq_eq(sg->seq, t->rcv_nxt))
		return true;
	/* Elsewhere an empty window accepts nothing (RCV.NXT was its one
	 * acceptable start): the ranges below are then empty. */
	uint32_t len = seg_space(sg);
	hsk_seq end = seq_add(t->rcv_nxt, rcv_window(t));
	if (len == 0)
		return seq_in(sg->seq, t->rcv_nxt, end);
	if (seq_eq(seq_add(sg->seq, len), t->rcv_nxt) && !(sg->th.flags & HSK_TH_RST))
		return true;
	return seq_in(sg->seq, t->rcv_nxt, end) ||
	       seq_in(seq_add(sg->seq, len - 1), t->rcv_nxt, end);
}

/* RFC 5961 §4.2: a SYN in a synchronized state is answered with a
 * challenge ACK, "irrespective of the sequence number", never obeyed. */
static tcp_verdict syn_challenge(tcp_stack *s)
{
	CNT_INC(s->env, TCPSYNChallenge);
	return TV(TV_CHALLENGE, "SYN in synchronized state: challenge ACK");
}

/* First: the sequence number. Not acceptable: an RST is dropped silently,
 * a SYN challenged, anything else answered with our ACK (rate limited in
 * reply.c, so two confused ends cannot ACK each other forever). */
static tcp_verdict seq_check(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	if (seq_acceptable(t, sg))
		return TV_OK;
	CNT_INC(s->env, DropOutOfWindow);
	if (sg->th.flags & HSK_TH_RST)
		return TV(TV_DROP, "RST out of window");
	if (sg->th.flags & HSK_TH_SYN)
		return syn_challenge(s);
	/* Text just past the window we offered: the peer does not know our
	 * window (it sends as if it were larger). ACK at once for a while so
	 * that it learns it (Linux's tcp_data_queue, "out of window", whose
	 * tcp_sequence lets a segment at the right edge through). */
	uint32_t wnd = rcv_window(t);
	if (sg->len && wnd && seq_eq(sg->seq, seq_add(t->rcv_nxt, wnd)) &&
	    t->state != HSK_SYN_RECEIVED)
		qack_enter(s, t, QACK_MAX);
	return TV(TV_DUPACK, "out of window");
}

/* SEG.TSval is not older than TS.Recent, or TS.Recent is no longer to be
 * trusted: idle for more than 24 days (RFC 7323 §5.5). */
static bool ts_fresh(const tcp_stack *s, const tcb *t, const tcp_opts *o)
{
	return (int32_t)(o->ts_val - t->ts_recent) >= 0 ||
	       s->env->now_ms - t->ts_recent_ms > PAWS_IDLE_MS;
}

/* RFC 7323 §5.3 R1 (PAWS), before the sequence check: a segment whose
 * timestamp is older than the latest one accepted is an old duplicate:
 * ACK and drop it. */
static tcp_verdict paws_check(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	const tcp_opts *o = &sg->th.opt;
	if (!(t->flags & TF_TS_OK) || !o->has_ts || (sg->th.flags & HSK_TH_RST))
		return TV_OK;
	if (ts_fresh(s, t, o))
		return TV_OK;
	if (sg->th.flags & HSK_TH_SYN)
		return syn_challenge(s);
	CNT_INC(s->env, PAWSEstab);
	return TV(TV_PAWS, "PAWS: old timestamp");
}

/* RFC 7323 §4.3 R3: TS.Recent is the timestamp of the newest segment
 * that was accepted -- its ACK too, so this runs after ack_check (as
 * Linux's FLAG_UPDATE_TS_RECENT): a blind segment that is dropped must not
 * move it -- and that starts at or before what we have acknowledged
 * (SEG.SEQ <= Last.ACK.sent; RCV.NXT before this segment's text). */
static inline __attribute__((always_inline)) void ts_update(tcp_stack *s, tcb *t,
							       const tcp_seg *sg)
{
	const tcp_opts *o = &sg->th.opt;
	if ((t->flags & TF_TS_OK) && o->has_ts && ts_fresh(s, t, o) &&
	    seq_le(sg->seq, t->rcv_nxt)) {
		t->ts_recent = o->ts_val;
		t->ts_recent_ms = s->env->now_ms;
	}
}

/* ts_update for a segment hp_predicted took: its timestamp, when they are
 * on, is not older than TS.Recent and it starts at RCV.NXT, so the
 * update's other tests pass. */
static inline __attribute__((always_inline)) void hp_ts_update(tcp_stack *s, tcb *t,
								  const tcp_seg *sg)
{
	if (t->flags & TF_TS_OK) {
		t->ts_recent = sg->th.opt.ts_val;
		t->ts_recent_ms = s->env->now_ms;
	}
}

/* Second: RST. RFC 5961 §3: only an RST at exactly RCV.NXT resets; one
 * elsewhere in the window earns a challenge ACK (seq_check dropped the
 * rest). */
static tcp_verdict rst_check(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	if (!(sg->th.flags & HSK_TH_RST))
		return TV_OK;
	if (!seq_eq(sg->seq, t->rcv_nxt))
		return TV(TV_CHALLENGE, "RST not at RCV.NXT: challenge ACK");
	switch (t->state) {
	case HSK_SYN_RECEIVED:
		/* A passive Fast Open connection is reset (Linux: ECONNRESET);
		 * any other TCB here is a simultaneous open: active. */
		if (t->flags & TF_TFO_CHILD) {
			tcb_fail(s, t, HSK_ECONNRESET, "rcv RST");
			break;
		}
		CNT_INC(s->env, AttemptFails);
		tcb_fail(s, t, HSK_ECONNREFUSED, "rcv RST");
		break;
	case HSK_ESTABLISHED:
	case HSK_CLOSE_WAIT:
		CNT_INC(s->env, EstabResets);
		tcb_fail(s, t, HSK_ECONNRESET, "rcv RST");
		break;
	case HSK_FIN_WAIT_1:
	case HSK_FIN_WAIT_2:
		tcb_fail(s, t, HSK_ECONNRESET, "rcv RST");
		break;
	default: /* CLOSING, LAST_ACK */
		tcb_closed(s, t, "rcv RST");
		break;
	}
	return TV(TV_DONE, NULL);
}

/* Fourth: SYN (the third, security, has nothing to check). */
static tcp_verdict syn_check(tcp_stack *s, const tcp_seg *sg)
{
	return (sg->th.flags & HSK_TH_SYN) ? syn_challenge(s) : TV_OK;
}

/* The SYN-ACK that completes a simultaneous open: in SYN_RECEIVED it repeats
 * the peer's SYN and acknowledges ours (Linux takes it the same way). */
static bool simultaneous_synack(const tcb *t, const tcp_seg *sg)
{
	return t->state == HSK_SYN_RECEIVED &&
	       (sg->th.flags & (HSK_TH_SYN | HSK_TH_ACK | HSK_TH_RST)) ==
		       (HSK_TH_SYN | HSK_TH_ACK) &&
	       seq_eq(seq_add(sg->seq, 1), t->rcv_nxt) && seq_eq(sg->ack, t->snd_nxt);
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

/* SND.UNA moves to SEG.ACK: release acknowledged bytes, take an RTT sample,
 * restart or stop the retransmission timer, let congestion control and
 * loss recovery see the progress. */
static inline __attribute__((always_inline)) uint32_t ack_advance(tcp_stack *s, tcb *t,
								  const tcp_seg *sg)
{
	/* What this TCB sent took the extension (the SYN's retransmission
	 * timer, a ring, a FIN's); only a passive open's SYN,ACK was the
	 * request's, and its ACK acknowledges nothing else. */
	tcb_act *a = t->act;
	uint32_t acked = (uint32_t)seq_diff(sg->ack, t->snd_una);
	bool syn_acked = syn_outstanding(t);
	if (syn_acked)
		acked--;                        /* our SYN (its RTT is sampled
						 * where the handshake ends) */
	/* Our FIN is SND.MAX - 1: acknowledged by SND.MAX (ack_check let
	 * nothing above it through). */
	if ((t->flags & TF_FIN_SENT) && seq_eq(sg->ack, t->snd_max)) {
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
		a->rtx_at = seq_eq(t->snd_una, t->snd_max) ? 0 :
			s->env->now + rtt_rto(&t->rtt, &s->rttp);
	}
	tcp_notify(s, t->sd);   /* tcb_notify, inline */
	return acked;
}

static bool established(tcp_stack *s, tcb *t, const char *cause)
{
	if (!tcb_set_state(s, t, HSK_ESTABLISHED, cause))
		return false;
	rtt_backoff_reset(&t->rtt);     /* the SYN's backoff is over */
	/* RFC 6298 §5.7 (and Linux's TCP_TIMEOUT_FALLBACK): the SYN was
	 * retransmitted and there is no RTT sample: the data transfer starts
	 * with an RTO of 3 s. */
	if (t->flags & TF_SYN_RETRANS)
		rtt_fallback(&t->rtt, &s->rttp);
	if (t->flags & TF_TFO_PENDING)
		tfo_child_established(s, t);    /* its transfer began at the SYN */
	else
		tcb_cc_init(s, t, t->mss);      /* RFC 6928 IW10 */
	if (t->act)
		t->act->recover = t->snd_una;
	/* ECN's one reduction per window counts from SND.UNA now (ecn.c):
	 * ISS (the ACK of a SYN_RECEIVED) or ISS + 1 needs no field, more (a
	 * Fast Open SYN's data acknowledged) does. */
	if ((t->ecn & ECN_OK) && seq_eq(t->snd_una, t->iss)) {
		t->flags |= TF_ECN_ISS;
	} else if ((t->ecn & ECN_OK) && !seq_eq(t->snd_una, seq_add(t->iss, 1))) {
		tcb_act *a = tcb_act_get(s, t);
		if (a) {
			a->ecn_high = t->snd_una;
			t->flags |= TF_ECN_HIGH;
		}
	}
	established_start(s, t);         /* keepalive, lrcv_ms, the count */
	return true;
}

/* Fifth, first half: may the ACK field be believed? RFC 5961 §5.2: only
 * SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT (SND.MAX here: what was
 * sent, before a timeout rewound SND.NXT); anything else is dropped and
 * answered with a (rate-limited) challenge ACK. */
static tcp_verdict ack_check(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	if (!(sg->th.flags & HSK_TH_ACK))
		return TV(TV_DROP, "no ACK");
	if (t->state == HSK_SYN_RECEIVED &&
	    (!seq_gt(sg->ack, t->snd_una) || seq_gt(sg->ack, t->snd_max)))
		return TV(TV_RST, "bad ACK in SYN_RECEIVED");
	if (seq_gt(sg->ack, t->snd_max)) {
		CNT_INC(s->env, DropBadAck);
		return TV(TV_CHALLENGE, "ACK of unsent data");
	}
	if (seq_lt(sg->ack, seq_add(t->snd_una, -t->max_snd_wnd))) {
		CNT_INC(s->env, DropBadAck);
		return TV(TV_CHALLENGE, "ACK too old");
	}
	return TV_OK;
}

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
		if (!established(s, t, "rcv ACK"))
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
		rec_on_ack(s, t, acked, flight);
	else if (flight && seg_space(sg) == 0 && t->snd_wnd == old_wnd)
		rec_on_dupack(s, t);            /* RFC 5681 §2 duplicate */
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

/* len > 0 bytes have joined the receive ring in order: the reader is told,
 * and the ACK is due at once or later. */
static inline __attribute__((always_inline)) void data_rcvd(tcp_stack *s, tcb *t, tcb_act *a,
							   uint32_t len)
{
	tcp_notify(s, t->sd);   /* tcb_notify, inline */
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
 * the receive ring. */
static inline __attribute__((always_inline)) void data_in_order(tcp_stack *s, tcb *t,
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
			return;
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
	tcp_sack *k = tcb_sack(t);
	t->rcv_nxt = seq_add(t->rcv_nxt, len);
	if (k)
		sack_rcv_advance(&k->rcv, t->rcv_nxt);
	*fin_now = seg_fin && all;
	if (!len)
		return;
	data_rcvd(s, t, a, len);
}

/* Anything else goes through the reassembly queue, which places bytes at
 * their offset in the ring and commits them once the hole before them
 * fills. Out-of-order data, and data filling a hole, are ACKed at once
 * (RFC 5681 §4.2) so the sender learns quickly. */
static void data_reassemble(tcp_stack *s, tcb *t, hsk_seq seq, const uint8_t *data,
			    uint32_t len, bool seg_fin, bool *fin_now)
{
	t->flags |= TF_ACK_NOW;
	tcb_act *a = tcb_act_get(s, t);
	if (!a) {
		CNT_INC(s->env, TCPOFODrop);
		return;
	}
	/* Out-of-order data is what SACK blocks report: time for the state. */
	if ((t->flags & TF_SACK_OK) && !a->sack_on)
		rec_sack_init(s, t);
	if (tcb_alloc_rcv(s, t) < 0) {
		CNT_INC(s->env, TCPOFODrop);        /* no memory (tcp_mem_high) */
		return;
	}
	reass_result res;
	reass_input(&a->ooo, &a->rcv, t->rcv_nxt, seq, data, len, seg_fin, &res);
	if (res.out_of_order)
		CNT_INC(s->env, TCPOFOQueue);
	if (res.dropped)
		CNT_INC(s->env, TCPOFODrop);
	if (res.advanced) {
		t->rcv_nxt = seq_add(t->rcv_nxt, res.advanced);
		tcb_notify(s, t);
	}
	if (a->sack_on) {
		sack_rcv_advance(&a->sack.rcv, t->rcv_nxt);
		sack_rcv_note(&a->sack.rcv, &res);
	}
	*fin_now = res.fin;
}

/* Seventh: segment text. Sets *fin_now when the peer's FIN is the next
 * thing in order, for fin_input. */
static inline __attribute__((always_inline)) tcp_verdict data_input(tcp_stack *s, tcb *t,
								      const tcp_seg *sg, bool *fin_now)
{
	const uint8_t *data = sg->data;
	uint32_t len = sg->len;
	hsk_seq seq = sg->seq;
	bool seg_fin = sg->th.flags & HSK_TH_FIN;
	*fin_now = false;
	/* (a pure ACK first: the state needs no look then) */
	if ((len == 0 && !seg_fin) || !state_can_recv(t->state))
		return TV_OK;   /* after the peer's FIN nothing more is data */
	if (seq_lt(seq, t->rcv_nxt)) {
		uint32_t skip = (uint32_t)seq_diff(t->rcv_nxt, seq);
		if (skip > len || (skip == len && !seg_fin)) {
			/* A pure duplicate: say so, with a D-SACK (RFC 2883);
			 * the peer missed our ACK, so ACK at once for a while
			 * (Linux: DelayedACKLost, quick-ACK mode). */
			t->flags |= TF_ACK_NOW;
			if (len) {
				CNT_INC(s->env, DelayedACKLost);
				qack_enter(s, t, QACK_MAX);
			}
			if (tcb_sack(t) && len)
				sack_rcv_dsack(&tcb_sack(t)->rcv, seq,
					       skip > len ? seq_add(seq, len) : t->rcv_nxt);
			return TV_OK;
		}
		data += skip;
		len -= skip;
		seq = t->rcv_nxt;
	}
	if (len)
		ecn_rcv_data(s, t, sg);         /* CWR, CE (ecn.c) */
	if (len && ((t->flags & TF_ORPHAN) ||
		    ((t->flags & TF_SHUT_RD) && (t->flags & TF_FIN_QUEUED)))) {
		/* Nobody will read it: tell the peer now (as Linux does, for
		 * a closed socket or one shut down both ways; after SHUT_RD
		 * alone Linux still takes the data). */
		CNT_INC(s->env, TCPAbortOnData);
		tcb_send_rst(s, t);
		tcb_fail(s, t, HSK_ECONNRESET, "data after close()");
		return TV(TV_DONE, NULL);
	}
	if (len && rcv_window(t) == 0) {
		/* Accepted for its ACK only (seq_acceptable): no room was
		 * offered for the text. */
		CNT_INC(s->env, TCPZeroWindowDrop);
		t->flags |= TF_ACK_NOW;
		qack_enter(s, t, QACK_MAX);     /* ACK the reopening at once */
		return TV_OK;
	}
	if (len)
		qack_on_data(s, t);
	hsk_seq rcv_before = t->rcv_nxt;
	if (seq_eq(seq, t->rcv_nxt) && tcb_ooo_empty(t))
		data_in_order(s, t, sg, data, len, seg_fin, fin_now);
	else
		data_reassemble(s, t, seq, data, len, seg_fin, fin_now);
	if (!seq_eq(t->rcv_nxt, rcv_before))
		t->flags |= TF_RCV_MOVED;
	return TV_OK;
}

/* The peer's FIN, next in order, taken: it has a sequence number, and
 * the ACK of it goes at once. */
static inline void fin_taken(tcb *t)
{
	t->rcv_nxt = seq_add(t->rcv_nxt, 1);
	t->flags |= TF_RCVD_FIN | TF_ACK_NOW | TF_RCV_MOVED;
}

/* Eighth: FIN. */
static inline __attribute__((always_inline)) tcp_verdict fin_input(tcp_stack *s, tcb *t,
								     const tcp_seg *sg, bool fin_now)
{
	if (!fin_now) {
		/* A repeated FIN, or one beyond a gap: say where we are. */
		if (sg->th.flags & HSK_TH_FIN)
			t->flags |= TF_ACK_NOW;
		return TV_OK;
	}
	if (t->flags & TF_RCVD_FIN)
		return TV_OK;
	fin_taken(t);
	/* The socket is told by the transition (tcb_set_state: to
	 * CLOSE_WAIT, CLOSING or TIME_WAIT; the FIN comes only in the three
	 * states data_input takes text in). */
	switch (t->state) {
	case HSK_ESTABLISHED:
		if (!tcb_set_state(s, t, HSK_CLOSE_WAIT, "rcv FIN"))
			return TV(TV_DROP, "illegal transition");
		break;
	case HSK_FIN_WAIT_1:
		if (!(t->flags & TF_FIN_ACKED)) {
			if (!tcb_set_state(s, t, HSK_CLOSING, "rcv FIN"))
				return TV(TV_DROP, "illegal transition");
			break;
		}
		tw_enter(s, t, "rcv FIN,ACK", tcb_send_ack(s, t));
		return TV(TV_DONE, NULL);
	case HSK_FIN_WAIT_2:
		tw_enter(s, t, "rcv FIN", tcb_send_ack(s, t));
		return TV(TV_DONE, NULL);
	}
	return TV_OK;
}

/* The fifth step's second half to the end, for a segment whose checks
 * passed. */
static tcp_verdict tcb_input_checked(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	tcp_verdict v;
	bool fin_now;
	if ((v = ack_input(s, t, sg)).act || (v = data_input(s, t, sg, &fin_now)).act ||
	    (v = fin_input(s, t, sg, fin_now)).act)
		return v;
	tcp_output(s, t);
	return TV_OK;
}

tcp_verdict tcb_input_after_syn(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	tcp_verdict v;
	if ((v = ack_check(s, t, sg)).act)
		return v;
	ts_update(s, t, sg);
	return tcb_input_checked(s, t, sg);
}

/* The handshake's third ACK, for the TCB handshake_complete (listen.c)
 * has just made from a request or a SYN cookie: SYN_RECEIVED, SND.UNA at
 * the ISS, SND.NXT = SND.MAX = ISS + 1 = SEG.ACK (req_input and cookie_ack
 * checked it, or built the ISS from it), no socket yet. ack_check passes
 * unmade. A pure ACK (no text, no FIN, no ECE) to a TCB without an
 * extension (none is taken but for TCP_MAXSEG: nothing sent, no ring, no
 * SACK or loss recovery state, no timer but keepalive's) then has only
 * TS.Recent, the transition, the window and SND.UNA to take: the other
 * steps of tcb_input_checked provably do nothing -- ack_advance
 * acknowledges the SYN alone (no bytes, no RTT sample: the SYN,ACK's was
 * taken from the request; the socket to tell is not there),
 * rec_on_ack and tcb_release_idle_rings return without an extension,
 * data_input and fin_input have neither text nor FIN, and tcp_output
 * finds nothing due, no ACK owed and nothing in flight, so it only sets
 * the wheel (SO_KEEPALIVE's timer, started by established). SACK blocks
 * need no test: without the SACK state nothing reads them here. Anything
 * else, or tcp_stack.no_fastpath, takes the steps; test_fastpath's
 * test_third_ack compares the two ways for each shape. */
tcp_verdict tcb_input_synrcvd_ack(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	assert(t->state == HSK_SYN_RECEIVED && t->sd < 0 && seq_eq(t->snd_una, t->iss) &&
	       seq_eq(t->snd_nxt, t->snd_max) && seq_eq(t->snd_max, seq_add(t->iss, 1)) &&
	       seq_eq(sg->ack, t->snd_max) && (sg->th.flags & HSK_TH_ACK));
	if (sg->len || (sg->th.flags & (HSK_TH_FIN | HSK_TH_ECE)) || t->act || s->no_fastpath)
		return tcb_input_after_syn(s, t, sg);
	assert(!(t->flags & (TF_PERSIST | TF_FIN_SENT | TF_RTT_TIMING | TF_ACK_NOW |
			     TF_DETACHED | TF_TFO_PENDING)));
	ts_update(s, t, sg);
	if (!established(s, t, "rcv ACK"))
		return TV(TV_DROP, "illegal transition");
	assert(!t->act);
	/* ack_input: SND.WL1 and SND.WL2 are this segment's, so its window
	 * is taken (take_window, without a SYN bit or a persist timer); the
	 * backoff was reset by established. */
	t->snd_wnd = (uint32_t)sg->th.win << t->snd_wscale;
	if (t->snd_wnd > t->max_snd_wnd)
		t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = sg->seq;
	t->snd_wl2 = sg->ack;
	t->snd_una = sg->ack;
	tcb_timer_set(s, t);
	return TV_OK;
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

/* Whether tcp_output, after the SYN,ACK made the TCB ESTABLISHED, would
 * only send the ACK owed now (TF_ACK_NOW) and set the wheel: true of a
 * connect without Fast Open (TF_TFO_SYN), and not tcp_stack.no_fastpath
 * (test_fastpath's test_synack compares). Its SYN carried no data and
 * nothing is written in SYN_SENT but a Fast Open SYN's (send_check), nor
 * shut down (ENOTCONN), so SND.NXT, SND.MAX and SND.UNA are all ISS + 1
 * (the ACK's range), no byte waits and no FIN is queued: output_due holds
 * none of its four (nothing is lost before anything was sent), and
 * output_end sends the ACK and finds no RTO nor persist timer due. */
static inline bool synack_ack_only(const tcp_stack *s, const tcb *t)
{
	/* (TF_TFO_DATA comes with TF_TFO_SYN: socket.c sets both) */
	if ((t->flags & TF_TFO_SYN) || s->no_fastpath)
		return false;
	assert(seq_eq(t->snd_nxt, t->snd_max) && seq_eq(t->snd_una, t->snd_max) &&
	       !tcb_snd_len(t) && !(t->flags & TF_FIN_QUEUED));
	return true;
}

/* RFC 9293 §3.10.7.3 */
static tcp_verdict syn_sent_input(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	uint8_t f = sg->th.flags;
	bool ack_ok = false;
	if (f & HSK_TH_ACK) {
		if (seq_le(sg->ack, t->snd_una) || seq_gt(sg->ack, t->snd_max))
			return TV(TV_RST, "bad ACK in SYN_SENT");
		ack_ok = true;
	}
	if (f & HSK_TH_RST) {
		if (!ack_ok)
			return TV(TV_DROP, "RST without ACK in SYN_SENT");
		CNT_INC(s->env, AttemptFails);
		tcb_fail(s, t, HSK_ECONNREFUSED, "rcv RST,ACK");
		return TV(TV_DONE, NULL);
	}
	if (!(f & HSK_TH_SYN))
		return TV(TV_DROP, "no SYN in SYN_SENT");
	t->rcv_nxt = seq_add(sg->seq, 1);
	t->rcv_adv = t->rcv_nxt;
	if (ack_ok)
		ecn_rcv_synack(t, sg);
	else
		ecn_rcv_syn(t, sg);
	tcb_init_from_syn_inl(s, t, sg->th.opt.mss, sg->th.opt.wscale,
			      tcb_syn_opts(s, sg->th.opt.sack_ok, sg->th.opt.has_ts),
			      sg->th.opt.ts_val);
	t->snd_wnd = sg->th.win;        /* never scaled in a SYN */
	t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = sg->seq;
	/* Without the ACK bit the ACK field means nothing (simultaneous
	 * open): WL2 starts at ISS, as a request's does. */
	t->snd_wl2 = ack_ok ? sg->ack : t->iss;
	if (!ack_ok) {
		/* Simultaneous open: answer with SYN,ACK from the same ISS. */
		if (!tcb_set_state(s, t, HSK_SYN_RECEIVED, "rcv SYN"))
			return TV(TV_DROP, "illegal transition");
		t->snd_nxt = t->snd_una;
		/* The SYN,ACK is a new segment, not a retransmission; but
		 * data our SYN carried (Fast Open) stays sent: the peer may
		 * acknowledge it, and SND.MAX going back would make that a
		 * bad ACK (and the data "new" again below what was sent).
		 * Then the SYN,ACK counts as a retransmission. */
		if (seq_diff(t->snd_max, t->snd_una) <= 1)
			t->snd_max = t->snd_una;
		/* A Fast Open connect that held its SYN for the first write
		 * (TCP_FASTOPEN_CONNECT) answers now: the peer is opening, and
		 * nothing would send the SYN,ACK or arm its timer (the TCB
		 * stayed for ever once closed: found by fuzz_stack). */
		t->flags &= ~(uint32_t)TF_TFO_DEFER;
		tcp_output(s, t);
		return TV_OK;
	}
	/* The SYN went out with the extension (its timer and send time). */
	tcb_act *a = t->act;
	/* the SYN's cookie and data (tfo.c): nothing to do there for a SYN
	 * that asked for no cookie and carried no data */
	if (t->flags & (TF_TFO_SYN | TF_TFO_DATA))
		tfo_rcv_synack(s, t, sg);
	t->snd_una = sg->ack;
	if (!(t->flags & TF_SYN_RETRANS))
		rtt_add_sample(&t->rtt, &s->rttp, s->env->now - a->rtt_start, false, s->env->now);
	a->retries = 0;
	a->first_rtx_at = 0;
	a->rtx_at = 0;
	if (!established(s, t, "rcv SYN,ACK"))
		return TV(TV_DROP, "illegal transition");
	t->flags |= TF_ACK_NOW;
	/* Data or FIN riding on the SYN-ACK follow the SYN. Without either
	 * the two steps do nothing (data_input and fin_input return at
	 * once): no copy of the segment for them. */
	if (sg->len || (sg->th.flags & HSK_TH_FIN)) {
		tcp_seg rest = *sg;
		rest.seq = seq_add(sg->seq, 1);
		rest.th.flags &= (uint8_t)~HSK_TH_SYN;
		bool fin_now;
		tcp_verdict v;
		if ((v = data_input(s, t, &rest, &fin_now)).act ||
		    (v = fin_input(s, t, &rest, fin_now)).act)
			return v;
	} else if (synack_ack_only(s, t)) {
		/* tcp_output's work then, without its tests and calls */
		tcb_send_ack(s, t);
		tcb_timer_set(s, t);
		return TV_OK;
	}
	tcp_output(s, t);
	return TV_OK;
}

static tcp_verdict simultaneous_open_done(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	t->snd_una = sg->ack;
	if (t->act)
		t->act->rtx_at = t->act->retries = 0;
	if (!established(s, t, "rcv SYN,ACK"))
		return TV(TV_DROP, "illegal transition");
	/* update_window: SEG.ACK is SND.NXT (simultaneous_synack), now
	 * SND.UNA; the window of a SYN is never scaled. */
	take_window_shift(t, sg, 0);
	tcp_output(s, t);
	return TV_OK;
}

/* ack_input up to its switch of the closing states, for an ACK in
 * SND.UNA + 1..SND.MAX without ECE outside SYN_RECEIVED: no duplicate to
 * count, no ECN reduction, SND.UNA advances. For header prediction's pure
 * ACK (a) and our FIN's in FIN_WAIT_1 (fin_wait_1_acked). */
static inline __attribute__((always_inline)) void ack_forward(tcp_stack *s, tcb *t,
								const tcp_seg *sg)
{
	assert(seq_gt(sg->ack, t->snd_una) && !seq_gt(sg->ack, t->snd_max) &&
	       !(sg->th.flags & HSK_TH_ECE) && t->state != HSK_SYN_RECEIVED);
	/* (the zero-window probes: ack_advance zeroes them; update_window's
	 * test passes) */
	uint32_t flight = (uint32_t)seq_diff(t->snd_max, t->snd_una);
	take_window(t, sg);
	uint32_t acked = ack_advance(s, t, sg);
	if (tcb_sack(t))
		rec_sack_ack(s, t, sg, acked, flight);
	else
		rec_on_ack(s, t, acked, flight);
	if (!tcb_snd_len(t))
		tcb_release_idle_rings(s, t);
	else if (s->mem_pressure)
		tcb_fit_snd(s, t);
}

/* A segment in order that header prediction left (the four of a close:
 * a FIN, the ACK of one in FIN_WAIT_1 or LAST_ACK; text with a FIN, ECE
 * or CWR), past SYN_RECEIVED: at RCV.NXT, ACK without SYN or RST, a
 * timestamp not older than TS.Recent when they are on, an ACK in
 * SND.UNA - MAX.SND.WND..SND.MAX. It passes the steps before the ACK's
 * without their being made -- a Fast Open child's SYN again
 * (tfo_child_syn) and the simultaneous open's SYN,ACK have the SYN bit;
 * PAWS (paws_check), the sequence (seq_check), RST and SYN checks -- and
 * ack_check, and ts_update's tests pass (hp_ts_update). With
 * tcp_stack.no_fastpath the steps are taken (test_fastpath compares);
 * test_paws, test_rst, test_window and test_open fail when a test here
 * is left out. */
static inline __attribute__((always_inline)) bool steps_predicted(const tcp_stack *s,
								   const tcb *t,
								   const tcp_seg *sg)
{
	const tcp_opts *o = &sg->th.opt;
	return t->state != HSK_SYN_RECEIVED &&
	       (sg->th.flags & (HSK_TH_SYN | HSK_TH_RST | HSK_TH_ACK)) == HSK_TH_ACK &&
	       seq_eq(sg->seq, t->rcv_nxt) && !s->no_fastpath &&
	       (!(t->flags & TF_TS_OK) ||
		(o->has_ts && (int32_t)(o->ts_val - t->ts_recent) >= 0)) &&
	       !seq_gt(sg->ack, t->snd_max) &&
	       !seq_lt(sg->ack, seq_add(t->snd_una, -t->max_snd_wnd));
}

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
 * TCPECNReduce: ECE; TCPLossProbes: a probe out), nor for a socket still
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
 * (test_fastpath compares). */
static inline __attribute__((always_inline)) bool fin_wait_2_fin(const tcb *t,
								  const tcp_seg *sg)
{
	return (sg->th.flags & ~HSK_TH_PSH) == (HSK_TH_FIN | HSK_TH_ACK) && !sg->len &&
	       t->sd < 0 && !tcb_sack(t) && tcb_ooo_empty(t);
}

static __attribute__((noinline)) void fin_wait_2_fin_input(tcp_stack *s, tcb *t,
							    const tcp_seg *sg)
{
	assert(seq_eq(t->snd_una, t->snd_max) && !(t->flags & (TF_RCVD_FIN | TF_ON_ACCEPTQ)));
	hp_ts_update(s, t, sg);
	/* The window: only the trace of the ACK below reads it (trace_cc,
	 * its TX's snd_wnd); untraced nothing does before tw_enter frees
	 * the TCB (no socket holds it, nor an accept queue). TS.Recent the
	 * ACK and the entry take. */
	if (s->env->cfg.trace)
		update_window(t, sg);
	fin_taken(t);
	tw_enter_acked(s, t, "rcv FIN");       /* (the last call: no frame) */
}

/* FIN_WAIT_1, the steps predicted: the first ACK of our FIN (sent, and
 * SEG.ACK = SND.MAX > SND.UNA: not when an earlier one came with a FIN
 * beyond a gap, which left the state as it was), without text, FIN or
 * ECE (CWR is for text; URG is ignored). ack_input is then ack_forward
 * and its switch's FIN_WAIT_1 case; data_input and fin_input find
 * neither text nor FIN. With
 * tcp_stack.no_fastpath the steps are taken (test_fastpath's
 * test_fin_wait_1_ack compares). */
static inline __attribute__((always_inline)) bool fin_wait_1_acked(const tcb *t,
								    const tcp_seg *sg)
{
	return !(sg->th.flags & (HSK_TH_FIN | HSK_TH_ECE)) && !sg->len &&
	       (t->flags & TF_FIN_SENT) && seq_eq(sg->ack, t->snd_max) &&
	       seq_gt(sg->ack, t->snd_una);
}

static __attribute__((noinline)) tcp_verdict fin_wait_1_acked_input(tcp_stack *s, tcb *t,
								     const tcp_seg *sg)
{
	assert(!(t->flags & TF_FIN_ACKED));
	keepalive_heard(s, t);
	hp_ts_update(s, t, sg);
	ack_forward(s, t, sg);
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

/* ESTABLISHED, the steps predicted: the peer's FIN without text (ECE is
 * ack_input's, which is made; CWR is for text), nothing held out of order
 * (the ACK step leaves that queue alone). ack_input in ESTABLISHED goes
 * on (its switch has nothing for the state); data_input would take the
 * FIN in order (data_in_order without text: the SACK receiver's RCV.NXT,
 * the FIN next), fin_input then CLOSE_WAIT. With tcp_stack.no_fastpath the
 * steps are taken (test_fastpath's test_established_fin compares). */
static inline __attribute__((always_inline)) bool established_fin(const tcb *t,
								   const tcp_seg *sg)
{
	return (sg->th.flags & HSK_TH_FIN) && !sg->len && tcb_ooo_empty(t);
}

/* established_fin_input after the ACK step: the FIN. told: the socket was
 * told in this event already (ack_advance does it), so the transition's
 * notification is left out. */
static inline __attribute__((always_inline)) tcp_verdict established_fin_taken(tcp_stack *s,
									     tcb *t, bool told)
{
	assert(t->state == HSK_ESTABLISHED && tcb_ooo_empty(t));
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
	if (!tcb_snd_len(t)) {
		assert(!(t->flags & (TF_DETACHED | TF_FIN_QUEUED)) && !syn_outstanding(t) &&
		       seq_eq(t->snd_una, t->snd_max) && seq_eq(t->snd_nxt, t->snd_max) &&
		       !(tcb_sack(t) && tcb_sack(t)->rk.lost_bytes));
		tcb_send_ack(s, t);
		tcb_timer_set(s, t);
		return TV_OK;
	}
	tcp_output(s, t);
	return TV_OK;
}

static __attribute__((noinline)) tcp_verdict established_fin_input(tcp_stack *s, tcb *t,
								    const tcp_seg *sg)
{
	assert(!(t->flags & TF_RCVD_FIN));
	keepalive_heard(s, t);
	hp_ts_update(s, t, sg);
	/* ack_input: in ESTABLISHED an ACK of new data without ECE is
	 * ack_forward's (its switch has nothing for the state), whose
	 * ack_advance tells the socket */
	if (seq_gt(sg->ack, t->snd_una) && !(sg->th.flags & HSK_TH_ECE)) {
		ack_forward(s, t, sg);
		return established_fin_taken(s, t, true);
	}
	tcp_verdict v = ack_input(s, t, sg);
	if (v.act)
		return v;
	return established_fin_taken(s, t, false);
}

/* Inline in tcb_input (and so in tcp_input): as hp_input. */
static inline __attribute__((always_inline)) tcp_verdict tcb_steps(tcp_stack *s, tcb *t,
								 const tcp_seg *sg)
{
	tcp_verdict v;
	if (t->state == HSK_SYN_SENT)
		return syn_sent_input(s, t, sg);
	if (steps_predicted(s, t, sg)) {
		/* the close's four segments: each state's short way
		 * (ESTABLISHED's others, which header prediction left, pay
		 * two tests) */
		if (t->state == HSK_ESTABLISHED) {
			if (established_fin(t, sg))
				return established_fin_input(s, t, sg);
		} else if (t->state == HSK_LAST_ACK) {
			if (last_ack_ends(t, sg)) {
				tcb_closed_orphan(s, t, "rcv ACK of FIN");
				return TV(TV_DONE, NULL);
			}
		} else if (t->state == HSK_FIN_WAIT_2) {
			if (fin_wait_2_fin(t, sg)) {
				fin_wait_2_fin_input(s, t, sg);
				return TV(TV_DONE, NULL);
			}
		} else if (t->state == HSK_FIN_WAIT_1 && fin_wait_1_acked(t, sg)) {
			return fin_wait_1_acked_input(s, t, sg);
		}
		keepalive_heard(s, t);
		hp_ts_update(s, t, sg);
		return tcb_input_checked(s, t, sg);
	}
	if ((t->flags & TF_TFO_PENDING) && tfo_child_syn(s, t, sg))
		return TV(TV_DONE, NULL);       /* its SYN again (tfo.c) */
	if (simultaneous_synack(t, sg))
		return simultaneous_open_done(s, t, sg);
	if ((v = paws_check(s, t, sg)).act || (v = seq_check(s, t, sg)).act)
		return v;
	if ((v = rst_check(s, t, sg)).act || (v = syn_check(s, sg)).act)
		return v;
	keepalive_heard(s, t);
	return tcb_input_after_syn(s, t, sg);
}

/* ---- header prediction ----
 * Van Jacobson's (BSD's tcp_input, Linux's tcp_rcv_established): in
 * ESTABLISHED (or CLOSE_WAIT, for an ACK), a segment that is what the
 * connection expects next -- at
 * RCV.NXT, ACK (and PSH) its only flags, no SACK blocks, a timestamp not
 * older than TS.Recent when they are on, an ACK in SND.UNA..SND.MAX --
 * passes the PAWS, sequence, RST, SYN and ACK checks of SEGMENT ARRIVES
 * without their being made. Two shapes go the short way:
 *  (a) a pure ACK of new data: window, SND.UNA, loss recovery, and the
 *      rings given back, as ack_input does them for ESTABLISHED;
 *  (b) data that fits the window we offered, nothing held out of order,
 *      on a connection someone reads: the ACK step, then straight to
 *      data_in_order.
 * Everything else takes the steps. The short way does what the steps
 * would, in their order, leaving out only what cannot apply; with
 * tcp_stack.no_fastpath it is never taken, and tests/sim/test_fastpath.c
 * runs random connections both ways and compares every event. */
static inline __attribute__((always_inline)) bool hp_predicted(const tcp_stack *s,
								 const tcb *t,
								 const tcp_seg *sg)
{
	const tcp_opts *o = &sg->th.opt;
	if ((t->state != HSK_ESTABLISHED && t->state != HSK_CLOSE_WAIT) ||
	    (sg->th.flags & ~HSK_TH_PSH) != HSK_TH_ACK ||
	    !seq_eq(sg->seq, t->rcv_nxt) || o->nsack || s->no_fastpath ||
	    (t->flags & (TF_TFO_PENDING | TF_ORPHAN | TF_SHUT_RD)))
		return false;
	/* PAWS (paws_check) and ack_check would pass */
	if ((t->flags & TF_TS_OK) && (!o->has_ts || (int32_t)(o->ts_val - t->ts_recent) < 0))
		return false;
	if (seq_lt(sg->ack, t->snd_una) || seq_gt(sg->ack, t->snd_max) ||
	    seq_lt(sg->ack, seq_add(t->snd_una, -t->max_snd_wnd)))
		return false;
	if (sg->len == 0)
		return seq_gt(sg->ack, t->snd_una);                     /* (a) */
	return t->state == HSK_ESTABLISHED && sg->len <= rcv_window(t) &&  /* (b) */
	       tcb_ooo_empty(t);
}

/* (b): data_input for text at RCV.NXT within the window, nothing out of
 * order, the connection not shut for reading: then fin_input has nothing
 * to do (no FIN). */
static inline __attribute__((always_inline)) void hp_data(tcp_stack *s, tcb *t,
							    const tcp_seg *sg)
{
	bool fin_now;
	if (t->ecn & ECN_OK)
		ecn_rcv_data(s, t, sg);
	qack_on_data(s, t);
	hsk_seq rcv_before = t->rcv_nxt;
	data_in_order(s, t, sg, sg->data, sg->len, false, &fin_now);
	if (!seq_eq(t->rcv_nxt, rcv_before))    /* not when no memory for it */
		t->flags |= TF_RCV_MOVED;
}

/* (b) after keepalive and TS.Recent: the ACK step, the data, tcp_output. */
static inline __attribute__((always_inline)) tcp_verdict hp_input_data(tcp_stack *s, tcb *t,
									    const tcp_seg *sg)
{
	if (seq_eq(sg->ack, t->snd_una) && !tcb_sack(t)) {
		/* ack_input when the ACK takes nothing and there is no SACK
		 * state to see it (a receiver's common case): the window */
		if (t->sd >= 0 && t->act)
			t->act->win_probes = 0;
		take_window(t, sg);
	} else {
		tcp_verdict v = ack_input(s, t, sg);
		if (v.act)
			return v;
	}
	hp_data(s, t, sg);
	tcp_output(s, t);
	return TV_OK;
}

/* The short way: keepalive and TS.Recent as tcb_steps and
 * tcb_input_after_syn, then (a) or (b), then tcp_output. Inline in
 * tcb_input, always: in tcp_input, which tcb_input now grows, GCC left it
 * (and tcb_steps) out of line, a frame of its own again. */
static inline __attribute__((always_inline)) tcp_verdict hp_input(tcp_stack *s, tcb *t,
								const tcp_seg *sg)
{
	keepalive_heard(s, t);
	hp_ts_update(s, t, sg);
	/* Linux's names: which segments went the short way (test_fastpath
	 * tells the two ways apart by them) */
	if (sg->len) {
		CNT_INC(s->env, TCPHPHits);
		return hp_input_data(s, t, sg);
	}
	CNT_INC(s->env, TCPHPAcks);
	ack_forward(s, t, sg);          /* (a) */
	tcp_output(s, t);
	return TV_OK;
}

/* Inline in seg_arrives (its one caller, once per segment): tcp_input's
 * frame, which saves the same six registers, serves it too, rather than a
 * second frame for every segment to a connection. */
static inline __attribute__((always_inline)) void tcb_input(tcp_stack *s, tcb *t,
							  const tcp_seg *sg)
{
	tcp_verdict v = hp_predicted(s, t, sg) ? hp_input(s, t, sg) : tcb_steps(s, t, sg);
	tcp_reply_owed(s, &t->node, sg, v);
	if (v.act != TV_DONE)           /* TV_DONE: t may be gone */
		tcb_act_put_idle(s, t);
}

/* §3.10.7.1: no connection. Never answer a reset; answer anything else
 * with one. */
static tcp_verdict closed_input(tcp_stack *s)
{
	CNT_INC(s->env, DropNoSocket);
	return TV(TV_RST, NULL);
}

/* A segment that parsed, its tuple set: to its connection object n (the
 * caller looked it up: tbl_lookup or tbl_lookup6, each family its own,
 * with nothing to test), its listener when n is NULL, or the
 * no-connection reply. The same for both families. Inline in tcp_input
 * and tcp_input6 (one call in each, once per segment): no frame of its own
 * to build. */
static inline __attribute__((always_inline)) void seg_arrives(tcp_stack *s, tcp_seg *sg,
								tbl_node *n)
{
	sg->seq = seq_of(sg->th.seq);
	sg->ack = seq_of(sg->th.ack);
	if (n) {
		/* trace_segment's test first: the socket is looked at only
		 * when tracing */
		if (s->env->cfg.trace)
			trace_segment_ev(s, HSK_EV_RX, n->kind,
					 n->kind == HSK_OBJ_TCB ? ((tcb *)n)->sd : -1, &sg->tuple,
					 sg->a6, &sg->th, sg->len, NULL);
		/* a TCB's first (eight segments of a lifecycle's ten): gcc
		 * tested the kinds of a switch in the order 1, 2, 0 */
		if (n->kind == HSK_OBJ_TCB)
			tcb_input(s, (tcb *)n, sg);
		else if (n->kind == HSK_OBJ_REQ)
			tcp_reply_owed(s, n, sg, req_input(s, (tcp_req *)n, sg));
		else if (n->kind == HSK_OBJ_TW)
			tcp_reply_owed(s, n, sg, tw_input(s, (tcp_tw *)n, sg));
		return;
	}
	tcp_listener *l = listener_for(s, sg);
	trace_segment(s, HSK_EV_RX, l ? HSK_OBJ_LISTEN : HSK_OBJ_NONE, l ? l->sd : -1,
		      &sg->tuple, sg->a6, &sg->th, sg->len, NULL);
	/* A listener traces its own drops (why NULL): no object for reply.c. */
	tcp_reply_owed(s, NULL, sg, l ? listen_input(s, l, sg) : closed_input(s));
}

/* Payloads of at least this many bytes are parsed with the sum of their
 * header only (tcp_parse_fuse_inline) and verified in seg_fused: while
 * they are copied into the receive ring when header prediction takes them
 * as the next data in order (hp_fused), otherwise summed in place or, from
 * TCP_FUSE_MIN on, while copied by seg_verify. Shorter ones, and ACKs, are
 * summed in place with their header. TCP_FUSE_MIN (tcp.h) only lowers it. */
enum { TCP_RX_FUSE_MIN = TCP_FUSE_MIN < 128 ? TCP_FUSE_MIN : 128 };

/* The checksum of a long segment whose header parsed (hsum: pseudo-header
 * and header, tcp_parse_hsum), verified in one pass with the copy of its
 * payload into the receive ring when the payload is the next in order for
 * a connection already holding a ring: copied past the ring's data and not
 * committed, so a bad sum leaves nothing behind (no allocation either);
 * data_in_order commits what it finds there. Otherwise summed in place. */
static bool seg_verify(tcp_stack *s, tbl_node *n, tcp_seg *sg, uint32_t hsum)
{
	uint32_t len = sg->len;
	tcb *t = (tcb *)n;
	/* (ESTABLISHED first: state_can_recv is a call) */
	if (len >= TCP_FUSE_MIN && n && n->kind == HSK_OBJ_TCB && t->act && t->act->rcv.buf &&
	    (t->state == HSK_ESTABLISHED || state_can_recv(t->state)) &&
	    seq_eq(sg->seq, t->rcv_nxt) && !(sg->th.flags & HSK_TH_SYN) && tcb_ooo_empty(t)) {
		hsk_ring *r = &t->act->rcv;
		uint32_t room = ring_room(t, r), at = ring_len(r);
		uint32_t k = len < room ? len : room, sum;
		uint32_t pos = (r->head + at) & (r->cap - 1);
		if (k <= r->cap - pos) {        /* no wrap: one fused copy */
			sum = csum_copy(r->buf + pos, sg->data, k, 0);
		} else {
			sum = 0;
			k = ring_write_at_csum(r, at, sg->data, k, &sum);
		}
		if (k < len)            /* beyond the window: summed, not kept */
			sum = csum_block_add(sum, csum_partial(sg->data + k, len - k, 0), k);
		if (csum_fold(csum_add(hsum, sum)) != 0)
			return false;
		sg->placed = k;
		sg->placed_end = pos;
		sg->placed_nxt = t->rcv_nxt;
		s->placed_ring = r;
		return true;
	}
	return csum_fold(csum_partial(sg->data, len, hsum)) == 0;
}

/* A segment whose checksum is wrong: counted and traced as tcp_parse's
 * WIRE_ERR_TCP_CSUM, with the addresses only (IPv6: none). */
static __attribute__((noinline, cold)) void seg_bad_csum(tcp_stack *s, const tcp_seg *sg)
{
	hsk_tuple tu0 = { 0 };
	if (!sg->a6)
		tu0 = (hsk_tuple){ .laddr = sg->ip->dst, .raddr = sg->ip->src };
	count_parse_error(s, WIRE_ERR_TCP_CSUM);
	trace_segment(s, HSK_EV_DROP, HSK_OBJ_NONE, -1, &tu0, sg->a6, NULL, 0,
		      wire_err_name(WIRE_ERR_TCP_CSUM));
}

/* Header prediction's data segment (hp_predicted's shape (b)) for a
 * connection whose receive ring is there and has room for all of it: the
 * payload is copied past the ring's data while it is summed, and not
 * committed. A bad sum is a counted drop, exactly as tcp_parse's, and the
 * ring's length is unchanged (the bytes are unseen). A good segment goes
 * the short way at once (what seg_arrives, tcb_input and hp_input do,
 * without asking hp_predicted again): the placed bytes are committed in
 * line when the ACK takes nothing and there is no SACK state, otherwise by
 * data_in_order if the ACK step left them where they are. Returns false,
 * with nothing done, for any other segment (which seg_fused verifies). */
static inline __attribute__((always_inline)) bool hp_fused(tcp_stack *s, tcb *t, tcp_seg *sg,
							 uint32_t hsum)
{
	tcb_act *a = t->act;
	if (!a || !a->rcv.buf)
		return false;
	sg->ack = seq_of(sg->th.ack);
	if (!hp_predicted(s, t, sg))
		return false;
	hsk_ring *r = &a->rcv;
	uint32_t len = sg->len, at = ring_len(r);
	if (len > ring_room(t, r))
		return false;
	uint32_t pos = (r->head + at) & (r->cap - 1), sum;
	if (len <= r->cap - pos) {
		sum = csum_copy(r->buf + pos, sg->data, len, 0);
	} else {
		sum = 0;
		ring_write_at_csum(r, at, sg->data, len, &sum);
	}
	if (csum_fold(csum_add(hsum, sum)) != 0) {
		seg_bad_csum(s, sg);
		return true;
	}
	trace_segment(s, HSK_EV_RX, HSK_OBJ_TCB, t->sd, &sg->tuple, sg->a6, &sg->th, sg->len,
		      NULL);
	keepalive_heard(s, t);
	hp_ts_update(s, t, sg);
	if (seq_eq(sg->ack, t->snd_una) && !tcb_sack(t)) {
		/* hp_input_data's first way, with nothing between the copy
		 * and the commit that touches the ring: the window, then
		 * hp_data and data_in_order for bytes already in place (no
		 * SACK state to advance) */
		if (t->sd >= 0)
			a->win_probes = 0;
		take_window(t, sg);
		if (t->ecn & ECN_OK)
			ecn_rcv_data(s, t, sg);
		qack_on_data(s, t);
		r->len += len;
		t->rcv_nxt = seq_add(t->rcv_nxt, len);
		data_rcvd(s, t, a, len);
		t->flags |= TF_RCV_MOVED;
		tcp_output(s, t);
		tcb_act_put_idle(s, t);
		return true;
	}
	/* The ACK step may give the ring back (and take another): the
	 * placed bytes are committed by data_in_order only if still there */
	sg->placed = len;
	sg->placed_end = pos;
	sg->placed_nxt = t->rcv_nxt;
	s->placed_ring = r;
	tcp_verdict v = hp_input_data(s, t, sg);
	tcp_reply_owed(s, &t->node, sg, v);
	if (v.act != TV_DONE)           /* TV_DONE: t may be gone */
		tcb_act_put_idle(s, t);
	s->placed_ring = NULL;
	return true;
}

/* A segment with a payload of at least TCP_RX_FUSE_MIN bytes whose header
 * parsed (tcp_parse_fuse_inline: hsum is the sum of the pseudo-header and
 * the header), n its object (or NULL): header prediction's fused copy
 * (hp_fused) or the checksum (seg_verify). true: the segment is done with
 * (taken or dropped); false: verified, for SEGMENT ARRIVES (the caller's
 * one call of seg_arrives, then placed_ring cleared). */
static inline __attribute__((always_inline)) bool seg_fused(tcp_stack *s, tcp_seg *sg,
							 uint32_t hsum, tbl_node *n)
{
	sg->seq = seq_of(sg->th.seq);
	if (n && n->kind == HSK_OBJ_TCB && hp_fused(s, (tcb *)n, sg, hsum))
		return true;
	if (!seg_verify(s, n, sg, hsum)) {
		seg_bad_csum(s, sg);
		return true;
	}
	return false;
}

void tcp_input(void *ctx, const ipv4_hdr *ip, const uint8_t *buf, size_t len)
{
	tcp_stack *s = ctx;
	/* Not zeroed as a whole (its ~150 bytes cost ~25 instructions per
	 * segment): tcp_parse sets every field of the header and the options
	 * a reader may look at (tcp_opts_parse: sack[] below nsack, the Fast
	 * Open cookie when has_fo), the rest is set here and below. */
	tcp_seg sg;
	sg.ip = ip;
	sg.tos = ip->tos;
	sg.a6 = NULL;
	sg.placed = 0;
	size_t plen = 0;
	uint32_t hsum = 0;
	CNT_INC(s->env, InSegs);
	int err = tcp_parse_fuse_inline(buf, len,
					csum_pseudo_native(ip->src, ip->dst, IP_PROTO_TCP,
							   (uint32_t)len),
					TCP_RX_FUSE_MIN, &sg.th, &sg.data, &plen, &hsum);
	if (err < 0) {
		count_parse_error(s, err);
		hsk_tuple tu = { .laddr = ip->dst, .raddr = ip->src };
		trace_segment(s, HSK_EV_DROP, HSK_OBJ_NONE, -1, &tu, NULL, NULL, 0,
			      wire_err_name(err));
		return;
	}
	sg.len = (uint32_t)plen;
	sg.tuple = (hsk_tuple){ .laddr = ip->dst, .raddr = ip->src,
				.lport = sg.th.dport, .rport = sg.th.sport };
	tbl_node *n = tbl_lookup(&s->conns, &sg.tuple);
	if (err && seg_fused(s, &sg, hsum, n))
		return;
	seg_arrives(s, &sg, n);
	s->placed_ring = NULL;          /* what seg_verify placed, if unused */
}

/* The IP layer hands up only segments to a unicast address of ours
 * (RFC 9293 §3.9.1: never one to a group), so the tuple is a unicast
 * pair; the checksum covers the IPv6 pseudo-header (RFC 8200 §8.1). */
void tcp_input6(void *ctx, const ipv6_hdr *ip, const uint8_t *buf, size_t len)
{
	tcp_stack *s = ctx;
	tbl_v6addrs a6;
	tcp_seg sg;             /* as in tcp_input: set field by field */
	sg.ip = NULL;
	sg.tos = ip->tclass;
	sg.a6 = &a6;
	sg.placed = 0;
	size_t plen = 0;

	memcpy(a6.l, ip->dst, 16);
	memcpy(a6.r, ip->src, 16);
	uint32_t hsum = 0;
	uint64_t ns = csum_pseudo6_native(ip->src, ip->dst, IP_PROTO_TCP, (uint32_t)len);
	CNT_INC(s->env, InSegs);
	int err = tcp_parse_fuse_inline(buf, len, ns, TCP_RX_FUSE_MIN, &sg.th, &sg.data, &plen,
					&hsum);
	if (err < 0) {
		hsk_tuple tu = { 0 };
		count_parse_error(s, err);
		trace_segment(s, HSK_EV_DROP, HSK_OBJ_NONE, -1, &tu, &a6, NULL, 0,
			      wire_err_name(err));
		return;
	}
	sg.len = (uint32_t)plen;
	/* The connection of the segment before, its addresses and ports
	 * compared: its key, with no fold to make (a connection's segments
	 * in a row); otherwise the key folded and looked up. */
	tbl_node *n = tbl_cached6(&s->conns, &a6, sg.th.dport, sg.th.sport);
	if (n) {
		sg.tuple = n->key;
		assert(tbl_key6_is(&s->conns, &sg.tuple, &a6, sg.th.dport, sg.th.sport));
	} else {
		sg.tuple = tbl_key6(&s->conns, &a6, sg.th.dport, sg.th.sport);
		n = tbl_lookup6(&s->conns, &sg.tuple, &a6);
	}
	if (err && seg_fused(s, &sg, hsum, n))
		return;
	seg_arrives(s, &sg, n);
	s->placed_ring = NULL;          /* what seg_verify placed, if unused */
}

void tcp_icmp_error(void *ctx, const ip_icmp_err *e)
{
	tcp_stack *s = ctx;
	const ip_icmp_err6 *e6 = ip_icmp_err_v6(e);
	hsk_tuple tu = { .laddr = e->src, .raddr = e->dst, .lport = e->sport,
			 .rport = e->dport };
	tbl_node *n;
	if (e6) {
		/* ICMPv6 errors come in ICMPv4's terms (ip.h): from the
		 * lookup on, one path for both. */
		tbl_v6addrs a6;
		memcpy(a6.l, e6->src, 16);
		memcpy(a6.r, e6->dst, 16);
		tu = tbl_key6(&s->conns, &a6, e->sport, e->dport);
		n = tbl_lookup6(&s->conns, &tu, &a6);
	} else {
		n = tbl_lookup(&s->conns, &tu);
	}
	if (!n || n->kind != HSK_OBJ_TCB || e->type != ICMP_DEST_UNREACH)
		return;
	tcb *t = (tcb *)n;
	uint16_t mtu = e->mtu;
	/* RFC 5927: believe only errors about data actually in flight. */
	if (!seq_between(seq_of(e->seq), t->snd_una, t->snd_max))
		return;
	if (e->code == ICMP_UNREACH_NEEDFRAG) {
		/* RFC 1191: the path takes at most `mtu` bytes per packet; as
		 * Linux's min_pmtu, a claim below min_pmtu (0 from an old
		 * router, or 68 from a forger who wants crumbs) is taken as
		 * min_pmtu. The MSS only ever shrinks here. */
		uint32_t pmtu = mtu < s->env->cfg.min_pmtu ? s->env->cfg.min_pmtu : mtu;
		/* IPv6: the IP layer already raised it to 1280 (RFC 8201
		 * §4), and min_pmtu is IPv4's knob. */
		if (e6)
			pmtu = mtu;
		if (pmtu <= IPV4_HDR_LEN + TCP_HDR_LEN)
			return;         /* min_pmtu configured to nothing */
		uint16_t mss = tcb_mss_for_mtu(s, t, pmtu);
		tcb_act *a;
		if (mss < t->mss && (a = tcb_act_get(s, t)) != NULL) {
			t->mss = mss;
			cc_set_mss(&a->cc, t->mss);
			rec_path_shrunk(s, t);
		}
		return;
	}
	/* RFC 1122 4.2.3.9: port and protocol unreachable are hard errors
	 * for a connection still opening; the others are soft. */
	if (t->state == HSK_SYN_SENT &&
	    (e->code == ICMP_UNREACH_PORT || e->code == ICMP_UNREACH_PROTO)) {
		CNT_INC(s->env, AttemptFails);
		tcb_fail(s, t, HSK_ECONNREFUSED, "rcv ICMP unreachable");
	}
}
