/*
 * Selective acknowledgment, both ends, and RACK-TLP.
 *
 * (a) sack_rcv: the receiver's SACK blocks (RFC 2018 §4, RFC 2883): the
 *     block holding the most recently received segment first, then the
 *     blocks of earlier reports, most recent first; a D-SACK block first of
 *     all, once, after a duplicate arrives. The blocks describe ranges the
 *     reassembly queue (reass.h) holds.
 * (b) sack_board: the sender's scoreboard (RFC 6675): merged SACKed ranges
 *     above SND.UNA in a fixed array, IsLost, NextSeg, SetPipe. When more
 *     ranges arrive than fit, the highest ones are forgotten: the sender
 *     then believes less was delivered, which costs at most a needless
 *     retransmission, never a lost byte.
 * (c) rack: per-segment transmit records for RACK-TLP (RFC 8985): time-based
 *     loss detection with a reordering window, and the tail loss probe.
 *     The records live in a ring the caller allocates with the send buffer
 *     (never per segment); when it is full, no new segment may be sent
 *     until ACKs free a record, exactly like a full window.
 *
 * Sequence numbers are hsk_seq; times are ns.
 */
#ifndef HSK_TCP_SACK_H
#define HSK_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tcp/reass.h"
#include "tcp/seq.h"
#include "wire/wire.h"

typedef reass_range sack_range;

/* ================= (a) receiver ================= */

typedef struct sack_rcv {
	uint8_t n;                /* blocks in blk[] */
	bool dsack;               /* report dblk first in the next ACK */
	sack_range dblk;
	sack_range blk[TCP_MAX_SACK_BLOCKS];   /* most recent first */
} sack_rcv;

static inline void sack_rcv_init(sack_rcv *rs)
{
	/* blk[] is read only below n, dblk only while dsack: not cleared */
	rs->n = 0;
	rs->dsack = false;
}
/* A segment landed in held range [start, end) (reass_result's block):
 * that block goes first; blocks it swallowed are dropped. */
void sack_rcv_update(sack_rcv *rs, hsk_seq start, hsk_seq end);
/* A duplicate [start, end) arrived: report it once as D-SACK (RFC 2883). */
void sack_rcv_dsack(sack_rcv *rs, hsk_seq start, hsk_seq end);
/* Both of the above from a reass_result, as the engine gets it. */
void sack_rcv_note(sack_rcv *rs, const reass_result *res);
/* rcv_nxt advanced: blocks now below it are dropped. */
void sack_rcv_advance(sack_rcv *rs, hsk_seq rcv_nxt);
/* The blocks for the next ACK, at most `max` (4 without timestamps, 3
 * with): the D-SACK block (then forgotten), the remembered blocks, then
 * other held ranges of q (q may be NULL). Returns how many. */
unsigned sack_rcv_fill(sack_rcv *rs, const reass *q, tcp_sack_block *out, unsigned max);

/* ================= (b) sender scoreboard (RFC 6675) ================= */

enum {
	SACK_MAX_RANGES = 32,
	SACK_DUPTHRESH = 3,
};

typedef struct sack_board {
	uint8_t n;                /* ranges in r[] */
	bool overflowed;          /* some SACK information was forgotten */
	hsk_seq high_rxt;         /* one past the highest byte retransmitted
				   * in this recovery (RFC 6675 HighRxt + 1) */
	uint32_t sacked;          /* bytes in r[] */
	sack_range r[SACK_MAX_RANGES]; /* sorted, disjoint, above SND.UNA */
} sack_board;

typedef struct sack_update {
	uint32_t newly_sacked;    /* bytes SACKed by this ACK for the first time */
	bool dsack;               /* the first block was a D-SACK (RFC 2883 §4) */
	sack_range dsack_range;
	unsigned invalid;         /* blocks ignored as impossible */
} sack_update;

static inline void sack_board_init(sack_board *sb, hsk_seq snd_una)
{
	/* r[] is read only below n: not cleared (~270 bytes per init). */
	sb->n = 0;
	sb->overflowed = false;
	sb->sacked = 0;
	sb->high_rxt = snd_una;
}
static inline void sack_board_clear(sack_board *sb, hsk_seq snd_una) { sack_board_init(sb, snd_una); }
/* Processes the SACK blocks of an ACK after SND.UNA was advanced to
 * snd_una (drops what the cumulative ACK covers). snd_max is the highest
 * sequence number sent. Returns out->newly_sacked. */
uint32_t sack_board_update(sack_board *sb, hsk_seq snd_una, hsk_seq snd_max,
			   const tcp_sack_block *blk, unsigned n, sack_update *out);
/* SND.UNA advanced without SACK blocks. */
void sack_board_ack(sack_board *sb, hsk_seq snd_una);
bool sack_is_sacked(const sack_board *sb, hsk_seq seq);
/* RFC 6675 IsLost(seq): DupThresh discontiguous SACKed ranges above seq,
 * or more than (DupThresh - 1) * mss SACKed bytes above it. */
bool sack_is_lost(const sack_board *sb, hsk_seq seq, uint32_t mss);
/* Entering loss recovery (RFC 6675 §5 (4)): HighRxt = HighACK. */
void sack_board_start_recovery(sack_board *sb, hsk_seq snd_una);
/* [.., end) was retransmitted: HighRxt moves up to it. */
void sack_board_retransmitted(sack_board *sb, hsk_seq end);
/* The highest SACKed byte + 1, or snd_una when nothing is SACKed. */
hsk_seq sack_high_sacked(const sack_board *sb, hsk_seq snd_una);

enum sack_next {
	SACK_NEXT_NONE = 0,
	SACK_NEXT_LOST,           /* rule 1: retransmit a lost hole */
	SACK_NEXT_NEW,            /* rule 2: send new data at snd_nxt */
	SACK_NEXT_RESCUE,         /* rule 3: retransmit an unSACKed hole */
};
/* RFC 6675 NextSeg(): what to send next during recovery. For rule 2 the
 * caller says whether new data is available and allowed (`can_send_new`);
 * *seq and *len (at most mss) describe the segment. */
int sack_next_seg(const sack_board *sb, hsk_seq snd_una, hsk_seq snd_nxt,
		  uint32_t mss, bool can_send_new, hsk_seq *seq, uint32_t *len);
/* RFC 6675 SetPipe(): bytes estimated in the network. */
uint32_t sack_pipe(const sack_board *sb, hsk_seq snd_una, hsk_seq snd_nxt, uint32_t mss);

/* ================= (c) RACK-TLP (RFC 8985) ================= */

enum rack_seg_flag {
	RACK_SACKED = 1u << 0,
	RACK_LOST = 1u << 1,      /* marked lost, not yet retransmitted */
	RACK_RETRANS = 1u << 2,   /* retransmitted at least once */
};

typedef struct rack_seg {
	hsk_seq start, end;       /* [start, end) */
	uint64_t xmit;            /* time of the latest transmission */
	uint32_t flags;           /* enum rack_seg_flag */
} rack_seg;

typedef struct rack {
	rack_seg *seg;            /* ring storage (the caller's) */
	uint32_t cap;             /* a power of two */
	uint32_t head, count;     /* records, in sequence order */
	uint32_t bytes;           /* bytes in the records (SND.NXT - SND.UNA) */
	uint32_t sacked_bytes, lost_bytes;
	uint32_t segs_sacked;
	uint32_t retrans_segs;    /* records with RACK_RETRANS */
	/* RFC 8985 §6.1 */
	uint64_t xmit_ts;         /* RACK.xmit_ts; valid when have_ts */
	hsk_seq end_seq;          /* RACK.end_seq */
	hsk_seq fack;             /* RACK.fack: highest delivered end */
	uint64_t rtt;             /* RACK.rtt */
	uint64_t reo_wnd;         /* the window of the last detection */
	hsk_seq dsack_round;
	uint8_t reo_wnd_mult;
	uint8_t reo_wnd_persist;
	bool have_ts, have_fack, dsack_round_on;
	bool reordering_seen;
	/* RFC 8985 §7 (TLP) */
	bool tlp_on, tlp_is_retrans;
	hsk_seq tlp_end_seq;
} rack;

/* What the engine knows about an ACK, for rack_on_ack. */
typedef struct rack_ack {
	hsk_seq snd_una;          /* after this ACK */
	hsk_seq snd_nxt;
	const tcp_sack_block *blk;/* the ACK's SACK blocks (D-SACK included) */
	unsigned nblk;
	bool dsack;               /* sack_update said the first block is D-SACK */
	bool has_ecr;             /* timestamps: ts_ecr is valid */
	uint32_t ts_ecr;
	uint64_t ts_tick;         /* rtt_params.ts_tick, with ts_offset: the */
	uint32_t ts_offset;       /* TSval each record was sent with */
	uint64_t min_rtt, srtt;   /* from rtt_est */
	bool in_recovery;         /* fast or RTO recovery */
	uint64_t now;
} rack_ack;

typedef struct rack_result {
	uint32_t acked;           /* bytes of records cumulatively acked */
	uint32_t newly_sacked;    /* bytes of records newly SACKed */
	uint32_t newly_lost;      /* bytes marked lost by this call */
	uint32_t delivered;       /* bytes delivered for the first time:
				   * acked without having been SACKed, plus
				   * newly SACKed (RFC 6937 DeliveredData) */
	uint64_t rtt_sample;      /* unambiguous RTT of the newest segment
				   * acked (cumulatively, else by SACK); 0: none */
	uint64_t reo_timeout;     /* arm the reordering timer this far from
				   * now; 0: not needed */
} rack_result;

/* storage: cap records, cap a power of two (2 * sndbuf / mss is ample). */
static inline void rack_init(rack *r, rack_seg *storage, uint32_t cap)
{
	memset(r, 0, sizeof(*r));
	r->seg = storage;
	r->cap = cap;
	r->reo_wnd_mult = 1;
}
static inline bool rack_full(const rack *r) { return r->count == r->cap; }
/* Moves the records to new storage of cap (a power of two >= count); the
 * caller frees the old storage. */
void rack_move(rack *r, rack_seg *storage, uint32_t cap);
/* New data [start, start+len) went out at now (start must be SND.NXT).
 * 0, or -HSK_ENOBUFS when no record is free (do not send it yet). */
int rack_on_send(rack *r, hsk_seq start, uint32_t len, uint64_t now);
/* rack_on_send when a record is known to be free and len > 0. */
static inline void rack_push(rack *r, hsk_seq start, uint32_t len, uint64_t now)
{
	rack_seg *s = &r->seg[(r->head + r->count) & (r->cap - 1)];

	s->start = start;
	s->end = seq_add(start, len);
	s->xmit = now;
	s->flags = 0;
	r->count++;
	r->bytes += len;
}
/* The record starting at `start` was sent again at now. false when no
 * record starts there. */
bool rack_on_retransmit(rack *r, hsk_seq start, uint64_t now);
/* An ACK arrived: pops acked records, marks SACKed ones, updates the RACK
 * state, detects reordering and losses (RFC 8985 §6.2 steps 1-5). */
void rack_on_ack(rack *r, const rack_ack *a, rack_result *res);
/* RACK_sent_after (RFC 8985 §6.2) */
static inline bool rack_sent_after(uint64_t t1, hsk_seq s1, uint64_t t2, hsk_seq s2)
{
	return t1 > t2 || (t1 == t2 && seq_gt(s1, s2));
}
/* Fast or RTO recovery ended (§6.2 step 4: reo_wnd_persist). */
void rack_exit_recovery(rack *r);
/* The reordering timer fired: RACK_detect_loss again. Returns the next
 * timeout (0: none); *newly_lost, when not NULL, gets the bytes marked. */
uint64_t rack_detect_loss(rack *r, uint64_t now, uint32_t *newly_lost);
/* The retransmission timer fired (RFC 8985 §6.3): the first unacked
 * segment and those sent more than RACK.rtt + reo_wnd ago are lost. */
void rack_on_rto(rack *r, uint64_t now);
/* The lowest record marked lost and not yet retransmitted. */
bool rack_next_lost(const rack *r, hsk_seq *start, uint32_t *len);
/* The same among the records ending after `from`: a loop that resends
 * one lost record after another passes the end of the last one, so that
 * it walks the records once rather than once per resend (O(n^2) with a
 * tiny MSS and a large window). */
bool rack_next_lost_after(const rack *r, hsk_seq from, hsk_seq *start, uint32_t *len);
/* The highest record (what a tail loss probe resends when there is no new
 * data to send). false when nothing is outstanding. */
bool rack_last(const rack *r, hsk_seq *start, uint32_t *len);
/* The lowest record (SND.UNA's). false when nothing is outstanding. */
bool rack_first(const rack *r, hsk_seq *start, uint32_t *len);
/* Spurious-loss undo (undo.c): what is marked lost was not; nothing of
 * it is to be resent (Linux's tcp_undo_cwnd_reduction with unmark_loss). */
void rack_unmark_lost(rack *r);
/* A timeout proved spurious: rack_unmark_lost, and RACK forgets the send
 * time of what it saw delivered last. That was the timeout's
 * retransmission, whose ACK the undo shows was of the original (RFC 8985
 * §6.2 step 2's ambiguity, resolved late without timestamps): kept, it
 * made every original sent before it lost at the next ACK. */
void rack_undo_timeout(rack *r);
/* Every record held in [start, end) was retransmitted (a D-SACK there
 * can report a needless retransmission, RFC 3708); none held: true. */
bool rack_all_retransmitted(const rack *r, hsk_seq start, hsk_seq end);
/* Bytes in flight: sent, not acked, not SACKed, not lost (a lost record
 * counts again once retransmitted). */
static inline uint32_t rack_pipe(const rack *r)
{
	return r->bytes - r->sacked_bytes - r->lost_bytes;
}

/* ---- TLP (RFC 8985 §7) ---- */
enum { RACK_WCDELACKT_NS = 200000000 };   /* worst-case delayed ACK */
/* May a probe timer be armed: SACK on, nothing SACKed, not in recovery,
 * no probe outstanding, something in flight. */
static inline bool rack_tlp_may_arm(const rack *r, bool sack_ok, bool in_recovery)
{
	return sack_ok && !in_recovery && r->segs_sacked == 0 && !r->tlp_on && r->count > 0;
}
/* The PTO (§7.2), capped so that it fires no later than the RTO would:
 * returns the absolute deadline. rto_at: when the RTO timer would fire. */
static inline uint64_t rack_pto_deadline(const rack *r, uint64_t srtt, uint64_t now,
					 uint64_t rto_at)
{
	uint64_t pto, at;

	if (srtt) {
		pto = 2 * srtt;
		/* a lone segment may wait for the receiver's delayed ACK */
		if (r->count == 1)
			pto += RACK_WCDELACKT_NS;
	} else {
		pto = 1000000000ull;
	}
	at = now + pto;
	return rto_at && at > rto_at ? rto_at : at;
}
/* A probe was sent (new data when there was some to send, else the last
 * segment again); snd_nxt is after the probe. */
void rack_tlp_sent(rack *r, hsk_seq snd_nxt, bool is_retrans);

enum rack_tlp_verdict {
	RACK_TLP_NONE = 0,        /* no probe outstanding, or not resolved yet */
	RACK_TLP_DONE,            /* resolved, no loss */
	RACK_TLP_LOSS,            /* the probe repaired a loss: reduce cwnd */
};
/* §7.4 on each ACK: `dsack_end` is the end of the ACK's D-SACK block when
 * it has one (dsack true); `dupack_no_sack`: a duplicate ACK without SACK. */
int rack_tlp_on_ack(rack *r, hsk_seq ack, bool dsack, hsk_seq dsack_end,
		    bool dupack_no_sack);

/* rack_cum_ack for rack_on_cum_ack's records (no flag set on any) while
 * the first one is wholly acknowledged: rack_delivered's steps 2 and 3 and
 * rack_pop for the records acknowledged. Returns the bytes acknowledged;
 * *sample as rack_cum_ack's.
 *
 * Records are written in sequence order at the stack's time, which never
 * goes back, and only a retransmission (RACK_RETRANS, none here) sends
 * one again: their ends rise and their send times do not fall. So what
 * the general walk learns record by record comes from two of them: step
 * 3's reordering only from the first (a later one ends above it, hence
 * above the fack the first left), the fack, the newest delivered segment
 * (RACK.xmit_ts, end_seq, rtt) and the sample only from the last, which
 * was sent after each of the others (rack_sent_after: no earlier, and a
 * higher end). */
static inline uint32_t rack_cum_ack_walk(rack *r, hsk_seq snd_una, uint64_t now,
					  uint64_t *sample)
{
	rack_seg *seg = r->seg;
	uint32_t mask = r->cap - 1, head = r->head, n = r->count, acked = 0;
	const rack_seg *last;

	if (r->have_fack && seq_lt(seg[head].end, r->fack))
		r->reordering_seen = true;  /* step 3, never retransmitted */
	do {
		last = &seg[head];
		acked += (uint32_t)seq_diff(last->end, last->start);
		head = (head + 1) & mask;
	} while (--n && seq_le(seg[head].end, snd_una));
	hsk_seq end = last->end;
	uint64_t x = last->xmit;
	if (!r->have_fack || seq_gt(end, r->fack))
		r->fack = end;
	if (!r->have_ts || rack_sent_after(x, end, r->xmit_ts, r->end_seq)) {
		r->xmit_ts = x;
		r->end_seq = end;
		r->rtt = now - x;
	}
	r->have_fack = r->have_ts = true;
	r->head = head;
	r->count = n;
	r->bytes -= acked;
	*sample = now - x ? now - x : 1;
	return acked;
}

/* rack_on_ack for an ACK to snd_una without SACK blocks (no D-SACK),
 * outside recovery, while no record is SACKed, lost or retransmitted
 * (segs_sacked, lost_bytes and retrans_segs all 0), the records written
 * by rack_on_send or rack_push at times that do not fall (the stack's
 * clock): the same result and state, without the generic bookkeeping
 * (recovery.c's loss-free path, which takes it in line). min_rtt and
 * srtt are rack_ack's. tests/unit/test_rack.c holds it equal to
 * rack_on_ack. */
static inline void rack_on_cum_ack(rack *r, hsk_seq snd_una, uint64_t min_rtt,
				   uint64_t srtt, uint64_t now, rack_result *res)
{
	uint64_t sample = 0;
	uint32_t acked = 0;

	/* rack_cum_ack for records without flags: what it does with the
	 * records wholly acknowledged, then the one partly acknowledged */
	if (r->count && seq_le(r->seg[r->head].end, snd_una))
		acked = rack_cum_ack_walk(r, snd_una, now, &sample);
	if (r->count && seq_gt(snd_una, r->seg[r->head].start)) {
		/* part of a segment: trim, keep its time */
		rack_seg *s = &r->seg[r->head];
		uint32_t d = (uint32_t)seq_diff(snd_una, s->start);

		r->bytes -= d;
		acked += d;
		s->start = snd_una;
	}
	res->acked = res->delivered = acked;
	res->newly_sacked = 0;
	res->rtt_sample = sample;
	/* rack_reo_wnd without a D-SACK, outside recovery, nothing SACKed */
	if (r->dsack_round_on && seq_ge(snd_una, r->dsack_round))
		r->dsack_round_on = false;
	uint64_t w = (uint64_t)r->reo_wnd_mult * min_rtt / 4;
	r->reo_wnd = srtt && w > srtt ? srtt : w;
	/* rack_detect_loss stops at the first record when it was sent no
	 * earlier than the newest delivered one (nothing here was
	 * retransmitted); it walks on only after a retransmission delivered
	 * earlier, sent later than what is still out. */
	if (r->have_ts && r->count &&
	    rack_sent_after(r->xmit_ts, r->end_seq, r->seg[r->head].xmit, r->seg[r->head].end)) {
		uint32_t lost = 0;      /* (not res's: res stays in registers) */

		res->reo_timeout = rack_detect_loss(r, now, &lost);
		res->newly_lost = lost;
	} else {
		res->reo_timeout = 0;
		res->newly_lost = 0;
	}
}

#endif
