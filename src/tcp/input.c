/*
 * SEGMENT ARRIVES (RFC 9293 §3.10.7): the general steps, one per function,
 * for every segment to a TCB that no short way takes.
 *
 * Input decides, reply.c acts: every step returns a tcp_verdict (tcp.h).
 * TV_ACCEPT goes on to the next step; anything else ends the processing
 * of the segment, and tcp_input hands it to tcp_reply(), the one way a
 * reply to an unacceptable segment leaves (rate limited per connection).
 *
 * The input files:
 *   arrive.c   a segment's way in (tcp_input, tcp_input6), the choice of
 *              way for a TCB's segment (tcb_steps), header prediction
 *   input.c    the general steps (here)
 *   closing.c  the close's short ways
 *   input.h    the steps they share, inline; the close's guards
 *   icmp.c     ICMP errors about a connection
 *
 *   tcp_input: parse, count, look up the 4-tuple, tcp_reply(verdict)
 *     -> tcb_input        a full connection                (arrive.c)
 *          hp_input                header prediction: a segment in order
 *                                  in ESTABLISHED, data or an ACK of new
 *                                  data (arrive.c)
 *          tcb_input_syn_sent      §3.10.7.3 (syn_sent_input)
 *          steps_predicted         a segment in order: the checks below
 *                                  pass unmade, on to tcb_input_checked
 *                                  or a close's short way (closing.c:
 *                                  established_fin, fin_wait_1_acked,
 *                                  fin_wait_2_fin; last_ack_ends)
 *          tcb_input_steps         the steps from the first:
 *            simultaneous_synack   the SYN-ACK completing a simultaneous open
 *            paws_check            first: timestamps (RFC 7323 §5.3 R1)
 *            seq_check             first: sequence number
 *            rst_check             second: RST (RFC 5961 §3)
 *            syn_check             fourth: SYN -> challenge ACK (RFC 5961 §4)
 *            tcb_input_after_syn   (also: a request promoted by its ACK)
 *              ack_check           fifth: is the ACK plausible (RFC 5961 §5)
 *              ts_update           TS.Recent from the accepted segment
 *                                  (RFC 7323 §4.3)
 *              tcb_input_checked   the rest:
 *              ack_input           fifth: window, SND.UNA, loss recovery
 *                                  (recovery.c), the closing states
 *                                  (ack_forward: its part for an ACK of
 *                                  new data, the short ways')
 *              urg_input           sixth: URG, the urgent pointer
 *                                  (urgent.c)
 *              data_input          seventh: segment text (in order, or
 *                                  through reassembly)
 *              fin_input           eighth: FIN
 *     -> req_input        a SYN-queue request      (listen.c)
 *     -> tw_input         a TIME_WAIT entry        (timewait.c)
 *     -> listen_input     a listener               (listen.c)
 *     -> closed_input     nothing: §3.10.7.1       (arrive.c)
 * The third step (security) has nothing to do here.
 */
#include <assert.h>
#include <stddef.h>

#include "tcp/input.h"
#include "tcp/passive.h"
#include "tcp/reass.h"

/* RFC 7323 §5.5: 24 days, in the ms of ts_recent_ms (which wraps after
 * 49.7 days: a TS.Recent older than that looks younger by 49.7 days). */
#define PAWS_IDLE_MS (24u * 24 * 3600 * 1000)
_Static_assert(PAWS_IDLE_MS < (1u << 31), "PAWS idle time fits the ms clock");
/* SYN_SENT's SYN again after an unacceptable ACK (syn_resend_soon) */
#define SYN_RESEND_SOON_NS (2 * RTT_NS_PER_MS)

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

/* Text seq..end we had already (end <= RCV.NXT): reported in a D-SACK
 * block (RFC 2883), the SACK state started for it if none is in use (a
 * connection that only receives; the extension that holds it goes back
 * once the ACK has told it, as after any segment). */
static void dsack_note(tcp_stack *s, tcb *t, hsk_seq seq, hsk_seq end)
{
	if ((t->flags & TF_SACK_OK) && !rec_sack_init(s, t))
		sack_rcv_dsack(&t->act->sack.rcv, seq, end);
}

/* len bytes of text from seq that start before RCV.NXT, in a segment that
 * is a duplicate or is dropped: the peer sent again what we had, so our
 * ACK was lost (or its timer fired early). As Linux's tcp_send_dupack:
 * ACK at once for a while (DelayedACKLost, quick-ACK mode), and report
 * the duplicate part. */
static __attribute__((noinline)) void dup_text(tcp_stack *s, tcb *t, hsk_seq seq,
					       uint32_t len)
{
	CNT_INC(s->env, DelayedACKLost);
	qack_enter(s, t, QACK_MAX);
	hsk_seq end = seq_add(seq, len);
	dsack_note(s, t, seq, seq_lt(end, t->rcv_nxt) ? end : t->rcv_nxt);
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
	if (sg->len && seq_lt(sg->seq, t->rcv_nxt) && t->state != HSK_SYN_RECEIVED)
		dup_text(s, t, sg->seq, sg->len);       /* all of it old */
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
	if (sg->len && seq_lt(sg->seq, t->rcv_nxt) && t->state != HSK_SYN_RECEIVED)
		dup_text(s, t, sg->seq, sg->len);
	return TV(TV_PAWS, "PAWS: old timestamp");
}

/* RFC 7323 §4.3 R3: TS.Recent is the timestamp of the newest segment
 * that was accepted -- its ACK too, so this runs after ack_check (as
 * Linux's FLAG_UPDATE_TS_RECENT): a blind segment that is dropped must not
 * move it -- and that starts at or before what we have acknowledged
 * (SEG.SEQ <= Last.ACK.sent; RCV.NXT before this segment's text). Text
 * past RCV.NXT into a closed window (a zero-window probe) is outside it:
 * seq_check lets it through for its ACK alone, and §5.3 R2 rejects it
 * before R3. (Text that ends at RCV.NXT, a duplicate, counts as in an
 * open window: its TSval is taken, as Linux takes it.) */
static inline __attribute__((always_inline)) void ts_update(tcp_stack *s, tcb *t,
							       const tcp_seg *sg)
{
	const tcp_opts *o = &sg->th.opt;
	if ((t->flags & TF_TS_OK) && o->has_ts && ts_fresh(s, t, o) &&
	    seq_le(sg->seq, t->rcv_nxt) &&
	    !(sg->len && !rcv_window(t) && seq_gt(seq_add(sg->seq, sg->len), t->rcv_nxt))) {
		t->ts_recent = o->ts_val;
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

/* tcb_established's body, in line in syn_sent_input (the client's one
 * transition: a call and a frame less). */
static inline __attribute__((always_inline)) bool established_inl(tcp_stack *s, tcb *t,
								   const char *cause)
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
	if ((t->ecn & ECN_OK) && syn_outstanding(t)) {
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

bool tcb_established(tcp_stack *s, tcb *t, const char *cause)
{
	return established_inl(s, t, cause);
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
			/* A pure duplicate (it ends at RCV.NXT: one wholly
			 * below is out of the window, seq_check's). */
			t->flags |= TF_ACK_NOW;
			if (len)
				dup_text(s, t, seq, len);
			return TV_OK;
		}
		/* Partly old: that part is a duplicate too (RFC 2883 §4.2;
		 * Linux's tcp_data_queue). */
		dsack_note(s, t, seq, t->rcv_nxt);
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
tcp_verdict tcb_input_checked(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	tcp_verdict v;
	bool fin_now;
	if ((v = ack_input(s, t, sg)).act)
		return v;
	if (sg->th.flags & HSK_TH_URG)
		urg_input(s, t, sg);    /* the sixth step (urgent.c) */
	if ((v = data_input(s, t, sg, &fin_now)).act || (v = fin_input(s, t, sg, fin_now)).act)
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
 * the wheel (SO_KEEPALIVE's timer, started by tcb_established). SACK blocks
 * need no test: without the SACK state nothing reads them here. Anything
 * else, or tcp_stack.no_fastpath, takes the steps; test_fast_handshake's
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
	if (!tcb_established(s, t, "rcv ACK"))
		return TV(TV_DROP, "illegal transition");
	assert(!t->act);
	/* ack_input: SND.WL1 and SND.WL2 are this segment's, so its window
	 * is taken (take_window, without a SYN bit or a persist timer); the
	 * backoff was reset by tcb_established. */
	t->snd_wnd = (uint32_t)sg->th.win << t->snd_wscale;
	if (t->snd_wnd > t->max_snd_wnd)
		t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = sg->seq;
	t->snd_wl2 = sg->ack;
	t->snd_una = sg->ack;
	t->syn_acked = 1;
	tcb_timer_set(s, t);
	return TV_OK;
}

/* Whether tcp_output, after the SYN,ACK made the TCB ESTABLISHED, would
 * only send the ACK owed now (TF_ACK_NOW) and set the wheel: true of a
 * connect without Fast Open (TF_TFO_SYN), and not tcp_stack.no_fastpath
 * (test_fast_handshake's test_synack compares). Its SYN carried no data and
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

/* An acceptable ACK in SYN_SENT that echoes a timestamp must echo one of
 * our SYNs' TSvals: from the first one's to now. A SYN of an earlier
 * incarnation of the tuple (closed in SYN_SENT and made again at once:
 * the same ISS, RFC 6528's clock not moved, or an overlapping one) had
 * its own random offset; the answer to it acknowledges bytes this one
 * did not send. Linux's PAWSActive check; a TSecr of 0 passes, as there.
 * (ACK acceptable: the SYN went out, t->act holds its send time.) */
static bool synsent_echo_ok(const tcp_stack *s, const tcb *t, const tcp_seg *sg)
{
	if (!sg->th.opt.has_ts || !sg->th.opt.ts_ecr || !s->env->cfg.timestamps)
		return true;
	uint32_t first = rtt_tsval(&s->rttp, t->act->rtt_start, t->ts_offset);
	return sg->th.opt.ts_ecr - first <= rtt_tsval(&s->rttp, s->env->now, t->ts_offset) - first;
}

/* An unacceptable ACK in SYN_SENT is most often the peer's answer from
 * an older incarnation it still holds (a half-open connection, TIME_WAIT's
 * ACK); our reset clears it, so the SYN goes again in 2 ms rather than
 * after the RTO. Once: before the first retransmission, as Linux's
 * tcp_rcv_synsent_state_process (TCP_TIMEOUT_MIN). */
static void syn_resend_soon(tcp_stack *s, tcb *t)
{
	if (!t->act || t->act->retries || !t->act->rtx_at)
		return;
	t->act->rtx_at = s->env->now + SYN_RESEND_SOON_NS;
	tcb_timer_update(s, t);
}

/* RFC 9293 §3.10.7.3 */
static tcp_verdict syn_sent_input(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	uint8_t f = sg->th.flags;
	bool ack_ok = false;
	if (f & HSK_TH_ACK) {
		if (seq_le(sg->ack, t->snd_una) || seq_gt(sg->ack, t->snd_max)) {
			syn_resend_soon(s, t);
			return TV(TV_RST, "bad ACK in SYN_SENT");
		}
		if (!synsent_echo_ok(s, t, sg)) {
			CNT_INC(s->env, PAWSActive);
			return TV(TV_RST, "TSecr of no SYN of ours in SYN_SENT");
		}
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
	/* (each does nothing unless our SYN asked for ECN: no call then) */
	if (t->ecn & ECN_OK) {
		if (ack_ok)
			ecn_rcv_synack(t, sg);
		else
			ecn_rcv_syn(t, sg);
	}
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
	t->snd_una = sg->ack;           /* past the ISS: ack_ok */
	t->syn_acked = 1;
	if (!(t->flags & TF_SYN_RETRANS)) {
		/* The connection's first sample: nothing gives the estimator
		 * one before its SYN is acknowledged (rtt_add_sample's callers
		 * are the established ACK's and the passive child's), so only
		 * the first sample's branches are compiled. */
		assert(!t->rtt.srtt && !t->rtt.min_rtt);
		if (t->rtt.srtt || t->rtt.min_rtt)
			__builtin_unreachable();
		rtt_add_sample(&t->rtt, &s->rttp, s->env->now - a->rtt_start, false, s->env->now);
	}
	a->retries = 0;
	a->first_rtx_at = 0;
	a->rtx_at = 0;
	if (!established_inl(s, t, "rcv SYN,ACK"))
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
		if (sg->th.flags & HSK_TH_URG)
			urg_input(s, t, sg);    /* (the pointer from the SYN's SEQ) */
		if ((v = data_input(s, t, &rest, &fin_now)).act ||
		    (v = fin_input(s, t, &rest, fin_now)).act)
			return v;
	} else if (synack_ack_only(s, t)) {
		/* tcp_output's work then, without its tests and calls (the
		 * ACK gone: no delayed ACK to time) */
		tcb_send_ack(s, t);
		tcb_timer_set_k(s, t, true, false);
		return TV_OK;
	}
	tcp_output(s, t);
	return TV_OK;
}

static tcp_verdict simultaneous_open_done(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	/* (SND.NXT, so SEG.ACK, is still the ISS when our SYN,ACK could
	 * not go out) */
	if (!seq_eq(sg->ack, t->snd_una))
		t->syn_acked = 1;
	t->snd_una = sg->ack;
	if (t->act)
		t->act->rtx_at = t->act->retries = 0;
	if (!tcb_established(s, t, "rcv SYN,ACK"))
		return TV(TV_DROP, "illegal transition");
	/* update_window: SEG.ACK is SND.NXT (simultaneous_synack), now
	 * SND.UNA; the window of a SYN is never scaled. */
	take_window_shift(t, sg, 0);
	tcp_output(s, t);
	return TV_OK;
}

/* §3.10.7.3 for the dispatch (arrive.c's tcb_steps): syn_sent_input, inline
 * here (its one caller). */
tcp_verdict tcb_input_syn_sent(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	return syn_sent_input(s, t, sg);
}

/* §3.10.7.4 for a segment the short ways left (arrive.c's tcb_steps), past
 * SYN_SENT: the checks in order, then the rest (tcb_input_after_syn). */
tcp_verdict tcb_input_steps(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	tcp_verdict v;
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
