/*
 * Loss recovery and the congestion response to ACKs.
 *
 * Without SACK (RFC 5681, RFC 6582 NewReno):
 *   ack_input -> rec_on_ack     SND.UNA advanced: grow cwnd, or in
 *                               recovery deflate / retransmit the next hole
 *             -> rec_on_dupack  a duplicate ACK (RFC 5681 §2): the first
 *                               two let a segment more go (Limited
 *                               Transmit, rec_limited_transmit), the third
 *                               starts fast retransmit and fast recovery
 * With SACK (RFC 6675 scoreboard, RACK-TLP of RFC 8985, PRR):
 *   ack_input -> rec_sack_ack   scoreboard, RACK loss detection, recovery
 *   tcp_output -> rec_send_lost lost records first, then new data
 *   timers    -> rec_sack_rto, rec_sack_timers (reordering, loss probe)
 *
 * The cwnd arithmetic itself (slow start, CUBIC or Reno growth, the
 * reduction on loss, inflation by duplicate ACKs) is the congestion-control
 * module's (cc.h); this file decides when, and what to resend.
 */
#include <stdlib.h>

#include "tcp/pace.h"
#include "tcp/rec_send.h"
#include "tcp/tcp.h"

enum { DUPTHRESH = 3 };

/* Everything here runs for a connection with something in flight, or
 * SACK state: its active extension is there. */
static bool in_recovery(const tcb *t)
{
	return t->act->cc.in_recovery;
}

/* Fast recovery, or the repair after a timeout (until SND.UNA passes what
 * was outstanding then). */
static bool recovering(const tcb *t)
{
	return t->act->cc.in_recovery || seq_lt(t->snd_una, t->act->recover);
}

uint32_t rec_pipe(const tcb *t)
{
	if (t->act && t->act->sack_on && t->act->sack.seg)
		return rack_pipe(&t->act->sack.rk);
	return (uint32_t)seq_diff(t->snd_nxt, t->snd_una);
}

/* Outside recovery and the CWR state: slow start or congestion
 * avoidance. */
/* RFC 7661: grow only while the window is what limits us. Outside
 * recovery (always so here) cc_on_ack does nothing else for an ACK that
 * is not cwnd-limited, so it is not called for one (most ACKs of a
 * transfer the receiver's window or the application limits). */
static inline bool cwnd_limited(const tcb *t, uint32_t flight_before)
{
	return flight_before + t->mss >= t->act->cc.cwnd;
}

static inline void cc_grow(tcp_stack *s, tcb *t, uint32_t acked, uint32_t flight_before,
			   uint64_t rtt_sample)
{
	cc_state *cc = &t->act->cc;
	if (!cwnd_limited(t, flight_before))
		return;
	cc_ack a = {
		.acked = acked, .flight = flight_before, .srtt = t->rtt.srtt,
		.rtt = rtt_sample, .cwnd_limited = true,
	};
	cc_on_ack(cc, &a, s->env->now);
}

/* Outside recovery: cc_grow, or in the CWR state of an ECN echo the
 * reduction's next step (ecn.c). */
static void grow(tcp_stack *s, tcb *t, uint32_t acked, uint32_t flight_before,
		 uint64_t rtt_sample)
{
	if (!ecn_cwr_ack(s, t, acked, rec_pipe(t)))
		cc_grow(s, t, acked, flight_before, rtt_sample);
}
/* NewReno's resend of the oldest segment (a fast retransmit, or the next
 * hole after a partial ACK): at once, one segment an ACK, but counted
 * by pacing (pace.c), so that the new data after it waits for it. */
static void resend_una(tcp_stack *s, tcb *t)
{
	uint32_t n = tcb_resend(s, t, t->snd_una, t->mss);
	if (n && t->act->pace_cap)
		pace_sent(s, t, n);
}


void rec_on_ack(tcp_stack *s, tcb *t, const tcp_opts *o, uint32_t acked,
		uint32_t flight_before)
{
	tcb_act *x = t->act;
	if (!x)
		return;         /* a passive open's SYN,ACK: nothing to grow */
	x->dupacks = 0;
	if (in_recovery(t)) {
		if (seq_ge(t->snd_una, x->recover)) {
			/* A full ACK: everything outstanding at the loss has
			 * arrived (RFC 6582 §3.2 (3)). */
			cc_exit_recovery(&x->cc, (uint32_t)seq_diff(t->snd_max, t->snd_una),
					 s->env->now);
			if (x->undo)
				undo_ack(s, t, o, true);
			return;
		}
		/* A partial ACK: the next hole is lost too (RFC 6582 §3.2
		 * (5)); resend it at once. Unless the first was not lost
		 * but late (undo.c). */
		if (x->undo && undo_partial(s, t, o))
			return;
		cc_ack a = { .acked = acked, .flight = flight_before,
			     .srtt = t->rtt.srtt, .cwnd_limited = true };
		cc_on_ack(&x->cc, &a, s->env->now);
		resend_una(s, t);
		return;
	}
	if (x->undo & UNDO_LOSS)
		undo_ack(s, t, o, false);       /* the timeout's go-back-N */
	grow(s, t, acked, flight_before, 0);
	if (x->undo & UNDO_FRTO)
		undo_frto_first_ack(t);      /* F-RTO's step 2, after growth */
}

void rec_on_dupack(tcp_stack *s, tcb *t)
{
	tcb_act *x = t->act;
	if (in_recovery(t)) {
		cc_on_dupack(&x->cc);   /* each one means a segment left */
		return;
	}
	if (x->undo & (UNDO_FRTO | UNDO_FRTO_NEW))
		undo_frto_real(t);
	if (++x->dupacks < DUPTHRESH)
		return;
	/* RFC 6582 §3.2 (1): not again for losses of the same window, nor
	 * while a timeout's go-back-N is still repairing. */
	if (seq_lt(t->snd_una, x->recover))
		return;
	x->recover = t->snd_max;
	CNT_INC(s->env, TCPFastRetrans);
	CNT_INC(s->env, TCPRenoRecovery);
	if (!ecn_cwr_to_recovery(t, false)) {
		/* RFC 5681 §3.2 (2): the FlightSize that sets ssthresh leaves
		 * out what Limited Transmit sent, which is what went beyond
		 * cwnd (rec_limited_transmit) */
		uint32_t flight = (uint32_t)seq_diff(t->snd_max, t->snd_una);
		undo_begin(s, t, false);
		cc_enter_recovery(&x->cc, flight < x->cc.cwnd ? flight : x->cc.cwnd, false,
				  s->env->now);
	} else {
		x->undo = 0;    /* ECN's reduction: never undone */
	}
	resend_una(s, t);
	tcb_arm_rtx(s, t, s->env->now);
}

/* ---- with SACK: scoreboard and RACK-TLP ---- */

int rec_sack_init(tcp_stack *s, tcb *t)
{
	tcb_act *x = tcb_act_get(s, t);
	if (!x)
		return -HSK_ENOMEM;
	if (!x->sack_on)
		sack_start(x, t->snd_una);
	return 0;
}

void rec_sack_free_idle(tcb *t)
{
	tcp_sack *k = &t->act->sack;    /* sack_on: the caller's test */
	if (!seq_eq(t->snd_una, t->snd_max) || k->rk.count || k->rcv.dsack || recovering(t))
		return;
	t->act->sack_on = false;
	if (k->seg != k->seg0)
		free(k->seg);   /* last: nothing to keep across the call */
}

/* Records start with the 16 inside tcp_sack and double when full, up to
 * about two per MSS of send buffer: a connection that sends 64 bytes
 * allocates nothing for them. */
static bool records_grow(tcb *t)
{
	tcp_sack *k = &t->act->sack;
	if (!k->seg) {
		/* RACK's state is rec_sack_init's until the first record
		 * (nothing reads or moves it while seg is NULL): only the
		 * storage is new. */
		k->rk.seg = k->seg0;
		k->rk.cap = SACK_RECORDS_FIRST;
		k->seg = k->seg0;
		return true;
	}
	uint32_t want = 2 * (t->sndbuf / (t->mss ? t->mss : 536)) + 8, max = 16;
	while (max < want && max < (1u << 20))
		max <<= 1;
	uint32_t cap = 2 * k->rk.cap;
	if (k->rk.cap >= max)
		return false;
	/* Not zeroed: rack_on_send writes every field of a record. */
	rack_seg *seg = malloc(cap * sizeof(*seg));
	if (!seg)
		return false;
	rack_move(&k->rk, seg, cap);
	if (k->seg != k->seg0)
		free(k->seg);
	k->seg = seg;
	return true;
}

/* rec_sent when the SACK state is in use and the records are not there
 * yet (it started for data received out of order) or full, or the
 * segment is a FIN alone: take them, grow them. */
bool rec_sent_grow(tcp_stack *s, tcb *t, hsk_seq start, uint32_t len, bool fin)
{
	tcp_sack *k = &t->act->sack;
	unsigned need = (len ? 1 : 0) + (fin ? 1 : 0);
	while (!k->seg || k->rk.count + need > k->rk.cap)
		if (!records_grow(t))
			return false;   /* all records in use: wait for ACKs */
	if (len)
		rack_push(&k->rk, start, len, s->env->now);
	if (fin)
		rack_push(&k->rk, seq_add(start, len), 1, s->env->now);
	return true;
}

static void enter_sack_recovery(tcp_stack *s, tcb *t)
{
	if (recovering(t))
		return;
	t->act->recover = t->snd_max;
	CNT_INC(s->env, TCPSackRecovery);
	if (!ecn_cwr_to_recovery(t, true)) {
		undo_begin(s, t, false);
		cc_enter_recovery(&t->act->cc, rack_pipe(&t->act->sack.rk), true, s->env->now);
	} else {
		t->act->undo = 0;       /* ECN's reduction: never undone */
	}
	sack_board_start_recovery(&t->act->sack.board, t->snd_una);
}

/* Nothing to recover and nothing to learn from SACK: no block in the
 * ACK, nothing SACKed, marked lost or retransmitted, no probe out, not
 * recovering, no timeout's undo pending. The common ACK of a loss-free
 * exchange. */
static bool rec_quiet(const tcb *t, const tcp_sack *k, const tcp_opts *o)
{
	const rack *r = &k->rk;
	/* (A timeout's undo still possible: the ACK that takes SND.UNA past
	 * `recover` may show the timeout spurious, undo_ack's to tell.) */
	return o->nsack == 0 && k->board.n == 0 && (r->segs_sacked | r->lost_bytes |
						     r->retrans_segs) == 0 &&
	       !r->tlp_on && !recovering(t) && !(t->act->undo & UNDO_LOSS);
}

/* rec_sack_ack when rec_quiet: the scoreboard has nothing to merge or
 * drop (only HighRxt follows SND.UNA), RACK pops records delivered in
 * order (rack_on_cum_ack), no probe is resolved; then the growth, and the
 * loss check as rec_sack_ack does it (a retransmission acknowledged
 * before may still show older records lost). The same state and sends as
 * the general path (tests/sim/test_fastpath.c compares them). */
static __attribute__((noinline)) void rec_quiet_ack(tcp_stack *s, tcb *t, tcp_sack *k,
						     uint32_t acked, uint32_t flight_before)
{
	if (seq_lt(k->board.high_rxt, t->snd_una))
		k->board.high_rxt = t->snd_una;
	uint64_t now = s->env->now;
	rack_result res;
	rack_on_cum_ack(&k->rk, t->snd_una, t->rtt.min_rtt, t->rtt.srtt, now, &res);
	if (res.rtt_sample && acked)
		rtt_add_sample(&t->rtt, &s->rttp, res.rtt_sample, false, now);
	/* ecn_cwr_ack does nothing outside the CWR state; after it said no
	 * (and may have ended the state), grow's own call would say no. */
	if ((acked || res.delivered) &&
	    !(t->act->ecn_cwr && ecn_cwr_ack(s, t, res.delivered, rack_pipe(&k->rk))) && acked)
		cc_grow(s, t, acked, flight_before, res.rtt_sample);
	/* (rack_next_lost's test: nothing was marked lost before, nor
	 * popped since, so what is marked now is what was newly.) */
	if (res.newly_lost)
		enter_sack_recovery(s, t);
	k->reo_at = res.reo_timeout ? now + res.reo_timeout : 0;
	k->tlp_at = 0;
}

/* cc_grow out of line, for rec_quiet_all: the frame of its call (the
 * cc_ack on the stack) is paid only when it is made (cwnd_limited). */
static __attribute__((noinline)) void cc_grow_call(tcp_stack *s, tcb *t, uint32_t acked,
						   uint32_t flight_before, uint64_t rtt_sample)
{
	cc_grow(s, t, acked, flight_before, rtt_sample);
}

/* rec_quiet_ack for an ACK that leaves nothing in flight after something
 * was (SND.UNA at SND.MAX). When no CWR step is due and nothing is held to
 * send or receive (no byte in the rings, none out of order, no D-SACK to
 * report), tcb_release_idle_rings, which ack_input calls right after,
 * would free the state (rec_sack_free_idle): rec_quiet_ack's work on it
 * (HighRxt, RACK's records and state, the reordering window and timers)
 * would be for nothing. It goes now instead; what outlives it is what
 * rec_quiet_ack gave the TCB: the RTT sample and the growth of cwnd.
 * (Records grown past seg0, which a burst of data leaves, go the long
 * way: the free is rec_sack_free_idle's, and this function calls nothing
 * but cc_grow_call, last, when cwnd-limited.) */
static __attribute__((noinline)) void rec_quiet_all(tcp_stack *s, tcb *t, tcp_sack *k,
						     uint32_t acked, uint32_t flight_before)
{
	tcb_act *x = t->act;
	/* (the held bytes and the two flags or-ed, not tested one by one: all
	 * are read anyway when the connection is quiet, the usual case) */
	uint32_t held = ring_len(&x->snd) | ring_len(&x->rcv) | x->ooo.n |
			(uint32_t)x->ecn_cwr | (uint32_t)k->rcv.dsack;
	if (!flight_before || held || k->seg != k->seg0) {
		rec_quiet_ack(s, t, k, acked, flight_before);
		return;
	}
	x->sack_on = false;
	if (!acked)
		return;
	/* rack_cum_ack_walk's sample: every record is acknowledged, and the
	 * last one was sent after all the others. (The records are seg0's,
	 * tested above: their capacity is SACK_RECORDS_FIRST.) */
	const rack *r = &k->rk;
	uint64_t sample = 0;
	if (r->count) {
		uint64_t now = s->env->now;
		uint64_t d = now - k->seg0[(r->head + r->count - 1) & (SACK_RECORDS_FIRST - 1)].xmit;
		sample = d ? d : 1;
		rtt_add_sample(&t->rtt, &s->rttp, sample, false, now);
	}
	if (cwnd_limited(t, flight_before))
		cc_grow_call(s, t, acked, flight_before, sample);
}

/* rec_sack_ack otherwise: the scoreboard, RACK, the probe, recovery. */
static __attribute__((noinline)) void sack_ack(tcp_stack *s, tcb *t, const tcp_seg *sg,
					       uint32_t acked, uint32_t flight_before)
{
	tcb_act *x = t->act;
	tcp_sack *k = &x->sack;
	const tcp_opts *o = &sg->th.opt;
	sack_update u;
	sack_board_ack(&k->board, t->snd_una);
	sack_board_update(&k->board, t->snd_una, t->snd_max, o->sack, o->nsack, &u);
	if (u.dsack) {
		CNT_INC(s->env, TCPDSACKRecv);
		if (x->undo)
			undo_dsack(s, t, u.dsack_range.start, u.dsack_range.end);
	}
	rack_ack ra = {
		.snd_una = t->snd_una, .snd_nxt = t->snd_max,
		.blk = o->sack, .nblk = o->nsack, .dsack = u.dsack,
		.has_ecr = (t->flags & TF_TS_OK) && o->has_ts && o->ts_ecr,
		.ts_ecr = o->ts_ecr, .ts_tick = s->rttp.ts_tick, .ts_offset = t->ts_offset,
		.min_rtt = t->rtt.min_rtt, .srtt = t->rtt.srtt,
		.in_recovery = recovering(t), .now = s->env->now,
	};
	rack_result res;
	rack_on_ack(&k->rk, &ra, &res);
	if (res.rtt_sample && acked)
		rtt_add_sample(&t->rtt, &s->rttp, res.rtt_sample, false, s->env->now);
	int tlp = rack_tlp_on_ack(&k->rk, t->snd_una, u.dsack, u.dsack_range.end, false);
	if (tlp == RACK_TLP_LOSS) {
		/* The probe repaired a loss: the congestion response, once. */
		CNT_INC(s->env, TCPLossProbes);
		ecn_cwr_abort(t);       /* a reduction of its own, at once */
		/* (an undo still possible stays: the probe is one more
		 * retransmission of it, which only the probe's own D-SACK
		 * can show needless) */
		cc_enter_recovery(&x->cc, flight_before, true, s->env->now);
		cc_exit_recovery(&x->cc, rack_pipe(&k->rk), s->env->now);
	}
	if (acked || res.delivered) {
		if (x->cc.in_recovery && seq_ge(t->snd_una, x->recover)) {
			cc_exit_recovery(&x->cc, rack_pipe(&k->rk), s->env->now);
			rack_exit_recovery(&k->rk);
			if (x->undo)
				undo_ack(s, t, o, true);
		} else if (x->cc.in_recovery) {
			cc_prr_ack(&x->cc, res.delivered, rack_pipe(&k->rk));
		} else if (ecn_cwr_ack(s, t, res.delivered, rack_pipe(&k->rk))) {
			/* the CWR state's step, SACKed bytes counted */
		} else if (acked) {
			/* ecn_cwr_ack said no: grow's call would too */
			cc_grow(s, t, acked, flight_before, res.rtt_sample);
		}
	}
	if (acked && (x->undo & UNDO_LOSS))
		undo_ack(s, t, o, false);       /* the timeout's recovery */
	/* F-RTO's steps 2 and 3: ACKs that advance or carry no text */
	if ((x->undo & (UNDO_FRTO | UNDO_FRTO_NEW)) && (acked || !seg_space(sg)))
		undo_frto_sack(s, t, o, acked);
	hsk_seq lost;
	uint32_t lost_len;
	if (res.newly_lost || rack_next_lost(&k->rk, &lost, &lost_len))
		enter_sack_recovery(s, t);
	k->reo_at = res.reo_timeout ? s->env->now + res.reo_timeout : 0;
	k->tlp_at = 0;
}

void rec_sack_ack(tcp_stack *s, tcb *t, const tcp_seg *sg, uint32_t acked,
		  uint32_t flight_before)
{
	tcp_sack *k = &t->act->sack;
	if (!k->seg) {          /* nothing ever sent with records */
		if (acked)
			rec_on_ack(s, t, &sg->th.opt, acked, flight_before);
	} else if (!s->no_fastpath && rec_quiet(t, k, &sg->th.opt)) {
		if (seq_eq(t->snd_una, t->snd_max))
			rec_quiet_all(s, t, k, acked, flight_before);
		else
			rec_quiet_ack(s, t, k, acked, flight_before);
	} else {
		sack_ack(s, t, sg, acked, flight_before);
	}
}

/* Sends a record again, in as many segments as today's MSS needs. */
static uint32_t resend_record(tcp_stack *s, tcb *t, hsk_seq start, uint32_t len)
{
	uint32_t off = 0;
	do {
		uint32_t n = tcb_resend(s, t, seq_add(start, off), len - off);
		if (!n)
			break;  /* a FIN alone, or nothing left to send */
		off += n;
	} while (off < len);
	return off;
}

void rec_path_shrunk(tcp_stack *s, tcb *t)
{
	/* RFC 1191: what was sent is gone; resend the oldest now. With RACK,
	 * the rest is found lost once this resend is delivered; without, go
	 * back N in segments of the new size. */
	tcp_sack *k = tcb_sack(t);
	if (!k || !k->seg) {
		tcb_retransmit(s, t);
		return;
	}
	hsk_seq start;
	uint32_t len;
	if (rack_first(&k->rk, &start, &len)) {
		resend_record(s, t, start, len);
		rack_on_retransmit(&k->rk, start, s->env->now);
	}
}

/* rec_send_lost's walk (the test in front of it is inline in tcp.h). */
bool rec_send_lost_walk(tcp_stack *s, tcb *t, tcp_sack *k)
{
	bool any = false;
	/* F-RTO's new data goes first: what the timeout marked lost waits
	 * for the ACK that tells (undo.c) */
	if (t->act->undo & UNDO_FRTO_NEW)
		return false;
	cc_state *cc = &t->act->cc;
	hsk_seq start = t->snd_una;
	uint32_t len = 0;
	while (rack_next_lost_after(&k->rk, seq_add(start, len), &start, &len)) {
		if (!cc_room(cc, rack_pipe(&k->rk)))
			break;
		if (t->act->pace_cap && pace_hold(s, t))
			break;
		uint32_t sent = resend_record(s, t, start, len);
		if (sent && t->act->pace_cap)
			pace_sent(s, t, sent);
		if (!sent && len > 1)
			break;
		rack_on_retransmit(&k->rk, start, s->env->now);
		sack_board_retransmitted(&k->board, seq_add(start, len));
		if (cc->in_recovery)
			cc_prr_sent(cc, len);
		any = true;
	}
	return any;
}

void rec_sack_rto(tcp_stack *s, tcb *t)
{
	tcp_sack *k = &t->act->sack;
	rack_on_rto(&k->rk, s->env->now);
	t->act->recover = t->snd_max;
	k->reo_at = k->tlp_at = 0;
	rec_send_lost(s, t);
}

/* RFC 8985 §7.3: send one new segment if there is one and the window
 * allows, else the last segment again; then the RTO takes over. */
static void tlp_fire(tcp_stack *s, tcb *t)
{
	tcp_sack *k = &t->act->sack;
	hsk_seq before = t->snd_nxt;
	k->tlp_at = 0;
	tcp_output(s, t);
	bool is_retrans = seq_eq(before, t->snd_nxt);
	if (is_retrans) {
		hsk_seq start;
		uint32_t len;
		if (!rack_last(&k->rk, &start, &len))
			return;
		resend_record(s, t, start, len);
		rack_on_retransmit(&k->rk, start, s->env->now);
	}
	rack_tlp_sent(&k->rk, t->snd_max, is_retrans);
	tcb_arm_rtx(s, t, s->env->now);
}

void rec_sack_timers(tcp_stack *s, tcb *t, uint64_t now)
{
	tcp_sack *k = &t->act->sack;
	if (k->reo_at && k->reo_at <= now) {
		uint32_t lost = 0;
		uint64_t next = rack_detect_loss(&k->rk, now, &lost);
		k->reo_at = next ? now + next : 0;
		if (lost) {
			enter_sack_recovery(s, t);
			rec_send_lost(s, t);
		}
	}
	if (k->tlp_at && k->tlp_at <= now)
		tlp_fire(s, t);
}

void rec_fill_blocks(tcb *t, tcp_opts *o, uint32_t room)
{
	tcp_sack *k = tcb_sack(t);
	if (!k || room < 12)
		return;
	if (!k->rcv.dsack && !k->rcv.n && reass_empty(&t->act->ooo)) {
		o->nsack = 0;   /* nothing to report: what sack_rcv_fill says */
		return;
	}
	unsigned max = (room - 4) / 8;
	if (max > TCP_MAX_SACK_BLOCKS)
		max = TCP_MAX_SACK_BLOCKS;
	o->nsack = (uint8_t)sack_rcv_fill(&k->rcv, &t->act->ooo, o->sack, max);
}
