/*
 * Loss recovery's bookkeeping on the send path, in line (recovery.c is
 * the rest): what each segment sent asks of congestion control and
 * Limited Transmit, the records RACK keeps of it, lost records resent,
 * and the tail loss probe armed after a burst. output.c's send loop takes
 * these for every segment, so a call would cost each its frame.
 */
#ifndef HSK_TCP_REC_SEND_H
#define HSK_TCP_REC_SEND_H

#include <assert.h>

#include "tcp/tcp.h"

/* Limited Transmit (RFC 3042, RFC 5681 §3.2): without SACK, the first
 * and second duplicate ACKs each let one more segment of new data go,
 * cwnd unchanged (FlightSize at most cwnd + 2 * SMSS), so that a flight
 * too small for three duplicates still has its loss fast-retransmitted.
 * Not while SND.UNA is below `recover`: in fast recovery (its duplicates
 * inflate cwnd instead) and while a timeout's go-back-N repairs (what
 * would go is not new). With SACK the pipe (RFC 6675) already counts what
 * the ACKs said left. (Outside both, the third duplicate starts a
 * recovery: at most two here.) */
static inline uint32_t rec_limited_transmit(const tcb *t)
{
	const tcb_act *x = t->act;
	if (!x || !x->dupacks || seq_lt(t->snd_una, x->recover))
		return 0;
	assert(x->dupacks <= 2);
	return x->dupacks * (uint32_t)t->mss;
}

/* Inline, with the send path (each segment of a burst asks for both): */
/* How much new data congestion control allows now (recovery.c). */
static inline uint32_t rec_cwnd_room(const tcb *t)
{
	const tcp_sack *k = tcb_sack(t);
	if (k && k->seg)
		return cc_room(&t->act->cc, rack_pipe(&k->rk));
	uint32_t flight = (uint32_t)seq_diff(t->snd_nxt, t->snd_una);
	uint32_t cwnd = tcb_cwnd(t) + rec_limited_transmit(t);
	return cwnd > flight ? cwnd - flight : 0;
}
/* Retransmit records marked lost while the congestion window allows.
 * Returns whether anything was sent. Nothing marked lost (the loss-free
 * case, on every tcp_output): no call. */
static inline bool rec_send_lost(struct tcp_stack *s, tcb *t)
{
	tcp_sack *k = tcb_sack(t);
	if (!k || !k->seg || !k->rk.lost_bytes)
		return false;
	return rec_send_lost_walk(s, t, k);
}
/* As Linux (TCP_TIMEOUT_MIN): some slack over 2*SRTT, since a
 * sub-millisecond RTT is shorter than a busy host's scheduling. */
enum { TLP_SLACK_NS = 10000000 };     /* 10 ms */
/* Arms the probe timer when RFC 8985 §7.2 allows, after tcp_output sent
 * something (its one caller, in line there: four bursts a lifecycle);
 * k: tcb_sack(t), not NULL (the caller's test). Something is in flight
 * and the RTO is armed for it (tcp_output armed it before the call), so
 * rtx_at is not 0. fresh: the SACK state has just begun with this call's
 * records (rec_sent_start): none SACKed, no probe out, one record at
 * least, so rack_tlp_may_arm's tests of the records hold. records: with
 * fresh, how many (the segment's data and its FIN: output_end's caller
 * knows), so that the tests of the count here and in rack_pto_deadline
 * fold (one for output_data's and output_fin's segments). */
static inline __attribute__((always_inline)) void rec_arm_tlp(struct tcp_stack *s, tcb *t,
							       tcp_sack *k, bool fresh,
							       uint32_t records)
{
	assert(!fresh || k->rk.count == records);
	if (fresh && k->rk.count != records)
		__builtin_unreachable();
	uint64_t srtt = t->rtt.srtt;    /* 0: no sample (rtt_has_sample) */
	const tcb_act *a = t->act;
	assert(a->rtx_at);
	assert(!fresh || rack_tlp_may_arm(&k->rk, true, false));
	bool recovering = a->cc.in_recovery || seq_lt(t->snd_una, a->recover);
	/* (No record storage, no record: rack_tlp_may_arm's count test.) */
	if (!srtt || (fresh ? recovering : !rack_tlp_may_arm(&k->rk, true, recovering)))
		return;
	/* Not capped by the RTO here: the cap at the end gives the same
	 * (what is added in between is added to both or capped away). */
	uint64_t at = rack_pto_deadline(&k->rk, srtt, s->env->now, 0);
	/* RFC 8985 §7.2 allows for a delayed ACK when one segment is in
	 * flight; a receiver may as well delay while it holds less than two
	 * full segments (RFC 9293 §3.8.6.3), so allow for it then too. */
	uint32_t flight = (uint32_t)seq_diff(t->snd_max, t->snd_una);
	if (k->rk.count > 1 && flight < 2u * t->mss)
		at += RACK_WCDELACKT_NS;
	at += TLP_SLACK_NS;
	k->tlp_at = at < a->rtx_at ? at : a->rtx_at;
}
/* The SACK state begins: each part is initialised here; the records are
 * written by rack_on_send before they are read. */
static inline void sack_start(tcb_act *x, hsk_seq snd_una)
{
	tcp_sack *k = &x->sack;
	sack_rcv_init(&k->rcv);
	sack_board_init(&k->board, snd_una);
	rack_init(&k->rk, NULL, 0);
	k->seg = NULL;
	k->reo_at = k->tlp_at = 0;
	x->sack_on = true;
}
/* rec_sent on an extension x whose SACK state is not in use (a
 * connection sends after being idle): rec_sack_init, then records_grow's
 * first step (the records inside tcp_sack), then the records, without the
 * calls. In line in the send loop: four bursts of a lifecycle start so. */
static inline bool rec_sent_start(struct tcp_stack *s, tcb *t, tcb_act *x, hsk_seq start,
				  uint32_t len, bool fin)
{
	tcp_sack *k = &x->sack;
	uint64_t now = s->env->now;
	sack_start(x, t->snd_una);
	k->rk.seg = k->seg = k->seg0;
	k->rk.cap = SACK_RECORDS_FIRST;
	if (len)
		rack_push(&k->rk, start, len, now);
	if (fin)
		rack_push(&k->rk, seq_add(start, len), 1, now);
	return true;
}

/* Record new data [start, start+len) (and a FIN after it) of a connection
 * with SACK (TF_SACK_OK) as sent; false when no record is free (stop
 * sending for now). x: t's extension (the send loop has taken it). The
 * first segment after an idle time starts the SACK state
 * (rec_sent_start); the usual one has a record free in the ring there is
 * (its capacity is 0 before it is taken, so `seg` needs no test of its
 * own); rec_sent_grow otherwise. Always in line: the send loop and
 * output_one (output.c) both take it, and a call would cost each segment
 * its frame. */
static inline __attribute__((always_inline)) bool rec_sent(struct tcp_stack *s, tcb *t,
							    tcb_act *x, hsk_seq start,
							    uint32_t len, bool fin)
{
	if (!x->sack_on)
		return rec_sent_start(s, t, x, start, len, fin);
	if (!len || x->sack.rk.count + 1 + fin > x->sack.rk.cap)
		return rec_sent_grow(s, t, start, len, fin);
	rack *r = &x->sack.rk;
	rack_push(r, start, len, s->env->now);
	if (fin)
		rack_push(r, seq_add(start, len), 1, s->env->now);
	return true;
}

#endif
