/*
 * SACK on both ends (RFC 2018, RFC 2883, RFC 6675) and RACK-TLP (RFC 8985).
 * See sack.h for the model and the bounds.
 */
#include "tcp/sack.h"

#include <string.h>

#include "handshake.h"

static uint32_t span(hsk_seq start, hsk_seq end)
{
	return (uint32_t)seq_diff(end, start);
}

/* [a, b) and [c, d) overlap or touch */
static bool touches(hsk_seq a, hsk_seq b, hsk_seq c, hsk_seq d)
{
	return seq_le(a, d) && seq_le(c, b);
}

/* ================= (a) receiver ================= */

void sack_rcv_update(sack_rcv *rs, hsk_seq start, hsk_seq end)
{
	sack_range keep[TCP_MAX_SACK_BLOCKS];
	unsigned i, n = 0;

	/* Older blocks the new one touches are part of it now. */
	for (i = 0; i < rs->n; i++)
		if (!touches(start, end, rs->blk[i].start, rs->blk[i].end))
			keep[n++] = rs->blk[i];
	rs->blk[0] = (sack_range){ start, end };
	if (n > TCP_MAX_SACK_BLOCKS - 1)
		n = TCP_MAX_SACK_BLOCKS - 1;
	memcpy(&rs->blk[1], keep, n * sizeof(keep[0]));
	rs->n = (uint8_t)(n + 1);
}

void sack_rcv_dsack(sack_rcv *rs, hsk_seq start, hsk_seq end)
{
	rs->dsack = true;
	rs->dblk = (sack_range){ start, end };
}

void sack_rcv_note(sack_rcv *rs, const reass_result *res)
{
	if (res->has_dup)
		sack_rcv_dsack(rs, res->dup_start, res->dup_end);
	if (res->has_block)
		sack_rcv_update(rs, res->blk_start, res->blk_end);
}

void sack_rcv_advance(sack_rcv *rs, hsk_seq rcv_nxt)
{
	unsigned i, n = 0;

	for (i = 0; i < rs->n; i++)
		if (seq_gt(rs->blk[i].start, rcv_nxt))
			rs->blk[n++] = rs->blk[i];
	rs->n = (uint8_t)n;
}

static bool listed(const tcp_sack_block *out, unsigned k, const sack_range *r)
{
	unsigned i;

	for (i = 0; i < k; i++)
		if (out[i].left == r->start.v && out[i].right == r->end.v)
			return true;
	return false;
}

static void put(tcp_sack_block *out, unsigned *k, const sack_range *r)
{
	out[*k].left = r->start.v;
	out[*k].right = r->end.v;
	(*k)++;
}

unsigned sack_rcv_fill(sack_rcv *rs, const reass *q, tcp_sack_block *out, unsigned max)
{
	unsigned i, k = 0, d = 0;
	int j;

	if (max > TCP_MAX_SACK_BLOCKS)
		max = TCP_MAX_SACK_BLOCKS;
	if (rs->dsack && k < max) {
		put(out, &k, &rs->dblk);
		d = 1;   /* a block equal to it must still follow (RFC 2883) */
	}
	rs->dsack = false;
	for (i = 0; i < rs->n && k < max; i++) {
		const sack_range *r = &rs->blk[i];

		/* Report what the queue holds now, should they differ. */
		if (q && !(r = reass_find(q, rs->blk[i].start)))
			continue;
		if (!listed(out + d, k - d, r))
			put(out, &k, r);
	}
	/* RFC 2018: as many distinct blocks as fit; the highest first. */
	for (j = q ? (int)q->n - 1 : -1; j >= 0 && k < max; j--)
		if (!listed(out + d, k - d, &q->r[j]))
			put(out, &k, &q->r[j]);
	return k;
}

/* ================= (b) sender scoreboard ================= */

void sack_board_ack(sack_board *sb, hsk_seq snd_una)
{
	unsigned i = 0;

	while (i < sb->n && seq_le(sb->r[i].end, snd_una))
		sb->sacked -= span(sb->r[i].start, sb->r[i].end), i++;
	if (i) {
		memmove(&sb->r[0], &sb->r[i], (sb->n - i) * sizeof(sb->r[0]));
		sb->n = (uint8_t)(sb->n - i);
	}
	if (sb->n && seq_lt(sb->r[0].start, snd_una)) {
		sb->sacked -= span(sb->r[0].start, snd_una);
		sb->r[0].start = snd_una;
	}
	if (seq_lt(sb->high_rxt, snd_una))
		sb->high_rxt = snd_una;
}

/* Merges [start, end) in; returns the bytes not SACKed before. */
static uint32_t board_add(sack_board *sb, hsk_seq start, hsk_seq end)
{
	unsigned first, k, tail;
	uint32_t overlap = 0, fresh;
	sack_range m;

	for (first = 0; first < sb->n && seq_lt(sb->r[first].end, start); first++)
		;
	for (k = 0; first + k < sb->n && seq_le(sb->r[first + k].start, end); k++) {
		hsk_seq os = seq_max(start, sb->r[first + k].start);
		hsk_seq oe = seq_min(end, sb->r[first + k].end);

		if (seq_lt(os, oe))
			overlap += span(os, oe);
	}
	fresh = span(start, end) - overlap;
	if (fresh == 0)
		return 0;
	m.start = k ? seq_min(start, sb->r[first].start) : start;
	m.end = k ? seq_max(end, sb->r[first + k - 1].end) : end;
	if (k == 0 && sb->n == SACK_MAX_RANGES) {
		/* Full: keep the ranges nearest SND.UNA, which matter first. */
		sb->overflowed = true;
		if (first == sb->n)
			return 0;
		sb->n--;
		sb->sacked -= span(sb->r[sb->n].start, sb->r[sb->n].end);
	}
	tail = sb->n - first - k;
	memmove(&sb->r[first + 1], &sb->r[first + k], tail * sizeof(sb->r[0]));
	sb->r[first] = m;
	sb->n = (uint8_t)(sb->n - k + 1);
	sb->sacked += fresh;
	return fresh;
}

uint32_t sack_board_update(sack_board *sb, hsk_seq snd_una, hsk_seq snd_max,
			   const tcp_sack_block *blk, unsigned n, sack_update *out)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	sack_board_ack(sb, snd_una);
	for (i = 0; i < n; i++) {
		hsk_seq l = seq_of(blk[i].left), r = seq_of(blk[i].right);

		if (!seq_lt(l, r)) {
			out->invalid++;
			continue;
		}
		/* RFC 2883 §4: a first block below the cumulative ACK, or
		 * inside the second block, reports a duplicate. */
		if (i == 0 && (seq_le(r, snd_una) ||
			       (n > 1 && seq_ge(l, seq_of(blk[1].left)) &&
				seq_le(r, seq_of(blk[1].right))))) {
			out->dsack = true;
			out->dsack_range = (sack_range){ l, r };
			continue;
		}
		if (seq_gt(r, snd_max)) {   /* data never sent */
			out->invalid++;
			continue;
		}
		if (seq_le(r, snd_una))
			continue;       /* old news */
		if (seq_lt(l, snd_una))
			l = snd_una;
		out->newly_sacked += board_add(sb, l, r);
	}
	return out->newly_sacked;
}

bool sack_is_sacked(const sack_board *sb, hsk_seq seq)
{
	unsigned i;

	for (i = 0; i < sb->n; i++)
		if (seq_in(seq, sb->r[i].start, sb->r[i].end))
			return true;
	return false;
}

bool sack_is_lost(const sack_board *sb, hsk_seq seq, uint32_t mss)
{
	uint32_t bytes = 0, ranges = 0;
	int i;

	for (i = (int)sb->n - 1; i >= 0; i--) {
		const sack_range *r = &sb->r[i];

		if (seq_le(r->end, seq))
			break;
		if (seq_le(r->start, seq))
			return false;   /* SACKed itself */
		bytes += span(r->start, r->end);
		ranges++;
	}
	return ranges >= SACK_DUPTHRESH || bytes > (SACK_DUPTHRESH - 1) * mss;
}

void sack_board_start_recovery(sack_board *sb, hsk_seq snd_una)
{
	sb->high_rxt = snd_una;
}

void sack_board_retransmitted(sack_board *sb, hsk_seq end)
{
	if (seq_gt(end, sb->high_rxt))
		sb->high_rxt = end;
}

hsk_seq sack_high_sacked(const sack_board *sb, hsk_seq snd_una)
{
	return sb->n ? sb->r[sb->n - 1].end : snd_una;
}

int sack_next_seg(const sack_board *sb, hsk_seq snd_una, hsk_seq snd_nxt,
		  uint32_t mss, bool can_send_new, hsk_seq *seq, uint32_t *len)
{
	hsk_seq prev = snd_una, hs;
	unsigned i;

	/* Holes below the highest SACKed byte (1.b), above HighRxt (1.a).
	 * IsLost only grows toward SND.UNA, so the first candidate decides
	 * between rules 1 and 3. */
	for (i = 0; i < sb->n; i++) {
		hsk_seq he = sb->r[i].start;

		hs = seq_max(prev, sb->high_rxt);
		prev = sb->r[i].end;
		if (!seq_lt(hs, he))
			continue;
		*seq = hs;
		*len = span(hs, he) < mss ? span(hs, he) : mss;
		if (sack_is_lost(sb, hs, mss))
			return SACK_NEXT_LOST;
		if (can_send_new)
			break;
		return SACK_NEXT_RESCUE;
	}
	if (can_send_new) {
		*seq = snd_nxt;
		*len = mss;
		return SACK_NEXT_NEW;
	}
	return SACK_NEXT_NONE;
}

uint32_t sack_pipe(const sack_board *sb, hsk_seq snd_una, hsk_seq snd_nxt, uint32_t mss)
{
	hsk_seq prev = snd_una;
	uint32_t pipe = 0;
	unsigned i;

	/* Per hole, IsLost is the same for every byte (nothing inside a hole
	 * is SACKed), so SetPipe's per-octet loop becomes per hole. */
	for (i = 0; i <= sb->n; i++) {
		hsk_seq he = i < sb->n ? sb->r[i].start : snd_nxt;

		if (seq_lt(prev, he)) {
			if (!sack_is_lost(sb, prev, mss))
				pipe += span(prev, he);
			if (seq_lt(prev, sb->high_rxt))
				pipe += span(prev, seq_min(he, sb->high_rxt));
		}
		if (i < sb->n)
			prev = sb->r[i].end;
	}
	return pipe;
}

/* ================= (c) RACK-TLP ================= */

static rack_seg *rec(const rack *r, uint32_t i)
{
	return &r->seg[(r->head + i) & (r->cap - 1)];
}

static uint32_t rec_len(const rack_seg *s)
{
	return span(s->start, s->end);
}

void rack_move(rack *r, rack_seg *storage, uint32_t cap)
{
	/* Unwrap the records into the new ring, oldest first. */
	for (uint32_t i = 0; i < r->count; i++)
		storage[i] = *rec(r, i);
	r->seg = storage;
	r->cap = cap;
	r->head = 0;
}

int rack_on_send(rack *r, hsk_seq start, uint32_t len, uint64_t now)
{
	rack_seg *s;

	if (len == 0)
		return 0;
	if (r->count == r->cap)
		return -HSK_ENOBUFS;
	s = rec(r, r->count);
	s->start = start;
	s->end = seq_add(start, len);
	s->xmit = now;
	s->flags = 0;
	r->count++;
	r->bytes += len;
	return 0;
}

/* The index of the first record ending after seq (count when none). */
static uint32_t rack_find(const rack *r, hsk_seq seq)
{
	uint32_t lo = 0, hi = r->count, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (seq_le(rec(r, mid)->end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool rack_on_retransmit(rack *r, hsk_seq start, uint64_t now)
{
	uint32_t i = rack_find(r, start);
	rack_seg *s;

	if (i == r->count || !seq_ge(start, rec(r, i)->start))
		return false;
	s = rec(r, i);
	if (s->flags & RACK_LOST)
		r->lost_bytes -= rec_len(s);
	if (!(s->flags & RACK_RETRANS))
		r->retrans_segs++;
	s->flags = (s->flags & ~(uint32_t)RACK_LOST) | RACK_RETRANS;
	s->xmit = now;
	return true;
}

static bool sent_after(uint64_t t1, hsk_seq s1, uint64_t t2, hsk_seq s2)
{
	return rack_sent_after(t1, s1, t2, s2);
}

/* Steps 2 and 3 for one newly delivered record. Returns an unambiguous RTT
 * sample of it, 0 when it has none. */
static uint64_t rack_delivered(rack *r, const rack_ack *a, const rack_seg *s)
{
	uint64_t rtt = a->now - s->xmit;
	bool retx = s->flags & RACK_RETRANS;

	/* step 3: a never-retransmitted segment delivered below the
	 * forward-most one was reordered, not lost */
	if (!r->have_fack || seq_gt(s->end, r->fack)) {
		r->fack = s->end;
		r->have_fack = true;
	} else if (seq_lt(s->end, r->fack) && !retx) {
		r->reordering_seen = true;
	}
	/* step 2: which transmission was delivered? */
	if (retx) {
		if (a->has_ecr && a->ts_tick) {
			uint32_t tsv = (uint32_t)(s->xmit / a->ts_tick) + a->ts_offset;

			if ((int32_t)(a->ts_ecr - tsv) < 0)
				return 0;   /* the original was */
		}
		if (rtt < a->min_rtt)
			return 0;       /* too fast to be the retransmission */
	}
	if (!r->have_ts || sent_after(s->xmit, s->end, r->xmit_ts, r->end_seq)) {
		r->xmit_ts = s->xmit;
		r->end_seq = s->end;
		r->rtt = rtt;
		r->have_ts = true;
	}
	return retx ? 0 : (rtt ? rtt : 1);
}

static void rack_pop(rack *r)
{
	rack_seg *s = rec(r, 0);
	uint32_t len = rec_len(s);

	if (s->flags & RACK_SACKED) {
		r->sacked_bytes -= len;
		r->segs_sacked--;
	}
	if (s->flags & RACK_LOST)
		r->lost_bytes -= len;
	if (s->flags & RACK_RETRANS)
		r->retrans_segs--;
	r->bytes -= len;
	r->head = (r->head + 1) & (r->cap - 1);
	r->count--;
}

static void rack_cum_ack(rack *r, const rack_ack *a, rack_result *res, uint64_t *sample)
{
	uint64_t t;

	while (r->count) {
		rack_seg *s = rec(r, 0);

		if (seq_le(s->end, a->snd_una)) {
			if (!(s->flags & RACK_SACKED)) {
				res->delivered += rec_len(s);
				if ((t = rack_delivered(r, a, s)))
					*sample = t;
			}
			res->acked += rec_len(s);
			rack_pop(r);
		} else if (seq_gt(a->snd_una, s->start)) {
			/* part of a segment: trim, keep its time */
			uint32_t d = span(s->start, a->snd_una);

			if (s->flags & RACK_SACKED)
				r->sacked_bytes -= d;
			else
				res->delivered += d;
			if (s->flags & RACK_LOST)
				r->lost_bytes -= d;
			r->bytes -= d;
			res->acked += d;
			s->start = a->snd_una;
			break;
		} else {
			break;
		}
	}
}

static void rack_mark_sacked(rack *r, const rack_ack *a, hsk_seq l, hsk_seq h,
			     rack_result *res, uint64_t *sample)
{
	uint32_t i;
	uint64_t t;

	/* Only records the block covers entirely: a partly SACKed segment
	 * stays outstanding (conservative). */
	for (i = rack_find(r, l); i < r->count; i++) {
		rack_seg *s = rec(r, i);

		if (!seq_lt(s->start, h))
			break;
		if (seq_lt(s->start, l) || seq_gt(s->end, h) || (s->flags & RACK_SACKED))
			continue;
		if (s->flags & RACK_LOST) {
			s->flags &= ~(uint32_t)RACK_LOST;
			r->lost_bytes -= rec_len(s);
		}
		s->flags |= RACK_SACKED;
		r->sacked_bytes += rec_len(s);
		r->segs_sacked++;
		res->newly_sacked += rec_len(s);
		res->delivered += rec_len(s);
		if ((t = rack_delivered(r, a, s)))
			*sample = t;
	}
}

/* Step 4: RACK_update_reo_wnd */
static uint64_t rack_reo_wnd(rack *r, const rack_ack *a)
{
	uint64_t w;

	if (r->dsack_round_on && seq_ge(a->snd_una, r->dsack_round))
		r->dsack_round_on = false;
	if (!r->dsack_round_on && a->dsack) {
		/* a D-SACK: our reordering window was too small, widen it
		 * for the next 16 recoveries */
		r->dsack_round_on = true;
		r->dsack_round = a->snd_nxt;
		if (r->reo_wnd_mult < 255)
			r->reo_wnd_mult++;
		r->reo_wnd_persist = 16;
		/* A duplicate means a retransmission was spurious: the
		 * network reorders, though our retransmission arrived first
		 * and hid it from step 3 (Linux counts it too). */
		r->reordering_seen = true;
	}
	if (!r->reordering_seen && (a->in_recovery || r->segs_sacked >= SACK_DUPTHRESH))
		return 0;
	w = (uint64_t)r->reo_wnd_mult * a->min_rtt / 4;
	return a->srtt && w > a->srtt ? a->srtt : w;
}

void rack_exit_recovery(rack *r)
{
	if (r->reo_wnd_persist && --r->reo_wnd_persist == 0)
		r->reo_wnd_mult = 1;
}

void rack_on_ack(rack *r, const rack_ack *a, rack_result *res)
{
	uint64_t cum_sample = 0, sack_sample = 0;
	unsigned i;

	memset(res, 0, sizeof(*res));
	rack_cum_ack(r, a, res, &cum_sample);
	for (i = a->dsack ? 1 : 0; i < a->nblk; i++) {
		hsk_seq l = seq_of(a->blk[i].left), h = seq_of(a->blk[i].right);

		if (!seq_lt(l, h) || seq_gt(h, a->snd_nxt) || seq_le(h, a->snd_una))
			continue;
		rack_mark_sacked(r, a, seq_max(l, a->snd_una), h, res, &sack_sample);
	}
	res->rtt_sample = cum_sample ? cum_sample : sack_sample;
	r->reo_wnd = rack_reo_wnd(r, a);
	res->reo_timeout = rack_detect_loss(r, a->now, &res->newly_lost);
}

uint64_t rack_detect_loss(rack *r, uint64_t now, uint32_t *newly_lost)
{
	uint64_t timeout = 0, deadline;
	uint32_t i, lost = 0;

	if (!r->have_ts)
		goto out;
	for (i = 0; i < r->count; i++) {
		rack_seg *s = rec(r, i);

		if (s->flags & (RACK_SACKED | RACK_LOST))
			continue;
		if (!sent_after(r->xmit_ts, r->end_seq, s->xmit, s->end)) {
			/* Original transmissions go out in sequence order:
			 * the rest were sent later too, unless some of them
			 * are retransmissions. */
			if (r->retrans_segs == 0)
				break;
			continue;
		}
		deadline = s->xmit + r->rtt + r->reo_wnd;
		if (deadline <= now) {
			s->flags |= RACK_LOST;
			r->lost_bytes += rec_len(s);
			lost += rec_len(s);
		} else if (deadline - now > timeout) {
			timeout = deadline - now;
		}
	}
out:
	if (newly_lost)
		*newly_lost = lost;
	return timeout;
}

void rack_on_rto(rack *r, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < r->count; i++) {
		rack_seg *s = rec(r, i);

		if (s->flags & (RACK_SACKED | RACK_LOST))
			continue;
		if (i == 0 || s->xmit + r->rtt + r->reo_wnd <= now) {
			s->flags |= RACK_LOST;
			r->lost_bytes += rec_len(s);
		}
	}
}

void rack_unmark_lost(rack *r)
{
	for (uint32_t i = 0; i < r->count; i++)
		rec(r, i)->flags &= ~(uint32_t)RACK_LOST;
	r->lost_bytes = 0;
}

void rack_undo_timeout(rack *r)
{
	rack_unmark_lost(r);
	r->have_ts = false;
}

bool rack_all_retransmitted(const rack *r, hsk_seq start, hsk_seq end)
{
	for (uint32_t i = rack_find(r, start); i < r->count && seq_lt(rec(r, i)->start, end); i++)
		if (!(rec(r, i)->flags & RACK_RETRANS))
			return false;
	return true;
}

static bool next_lost_from(const rack *r, uint32_t i, hsk_seq *start, uint32_t *len)
{
	if (r->lost_bytes == 0)
		return false;
	for (; i < r->count; i++) {
		const rack_seg *s = rec(r, i);

		if (s->flags & RACK_LOST) {
			*start = s->start;
			*len = rec_len(s);
			return true;
		}
	}
	return false;
}

bool rack_next_lost(const rack *r, hsk_seq *start, uint32_t *len)
{
	return next_lost_from(r, 0, start, len);
}

bool rack_next_lost_after(const rack *r, hsk_seq from, hsk_seq *start, uint32_t *len)
{
	if (r->lost_bytes == 0)
		return false;   /* before the search for where to start */
	return next_lost_from(r, rack_find(r, from), start, len);
}

bool rack_first(const rack *r, hsk_seq *start, uint32_t *len)
{
	if (r->count == 0)
		return false;
	*start = rec(r, 0)->start;
	*len = rec_len(rec(r, 0));
	return true;
}

bool rack_last(const rack *r, hsk_seq *start, uint32_t *len)
{
	const rack_seg *s;

	if (r->count == 0)
		return false;
	s = rec(r, r->count - 1);
	*start = s->start;
	*len = rec_len(s);
	return true;
}

/* ---- TLP ---- */

void rack_tlp_sent(rack *r, hsk_seq snd_nxt, bool is_retrans)
{
	r->tlp_on = true;
	r->tlp_end_seq = snd_nxt;
	r->tlp_is_retrans = is_retrans;
}

int rack_tlp_on_ack(rack *r, hsk_seq ack, bool dsack, hsk_seq dsack_end,
		    bool dupack_no_sack)
{
	if (!r->tlp_on || seq_lt(ack, r->tlp_end_seq))
		return RACK_TLP_NONE;
	if (!r->tlp_is_retrans ||
	    (dsack && seq_eq(dsack_end, r->tlp_end_seq))) {
		/* new data delivered, or both copies arrived: no loss */
		r->tlp_on = false;
		return RACK_TLP_DONE;
	}
	if (seq_gt(ack, r->tlp_end_seq) || dupack_no_sack) {
		/* the probe repaired a tail loss */
		r->tlp_on = false;
		return RACK_TLP_LOSS;
	}
	return RACK_TLP_NONE;
}
