/*
 * Out-of-order reassembly: see reass.h for the model. Every sequence number
 * is compared through tcp/seq.h; ring offsets are computed relative to
 * rcv_nxt, which lies less than the ring's capacity (< 2^31) behind any
 * byte accepted here.
 */
#include "tcp/reass.h"

#include <string.h>

void reass_init(reass *q)
{
	memset(q, 0, sizeof(*q));
}

static uint32_t rng_len(hsk_seq start, hsk_seq end)
{
	return (uint32_t)seq_diff(end, start);
}

const reass_range *reass_find(const reass *q, hsk_seq seq)
{
	unsigned i;

	for (i = 0; i < q->n; i++)
		if (seq_in(seq, q->r[i].start, q->r[i].end))
			return &q->r[i];
	return NULL;
}

static void set_dup(reass_result *res, hsk_seq start, hsk_seq end)
{
	if (res->has_dup || !seq_lt(start, end))
		return;
	res->has_dup = true;
	res->dup_start = start;
	res->dup_end = end;
}

/* Replaces ranges [first, first+k) by `nr` (k may be 0: an insertion). */
static void ranges_replace(reass *q, unsigned first, unsigned k, const reass_range *nr)
{
	unsigned tail = q->n - first - k;

	memmove(&q->r[first + 1], &q->r[first + k], tail * sizeof(q->r[0]));
	q->r[first] = *nr;
	q->n = (uint8_t)(q->n - k + 1);
}

static void ranges_remove(reass *q, unsigned first, unsigned k)
{
	unsigned tail = q->n - first - k;

	memmove(&q->r[first], &q->r[first + k], tail * sizeof(q->r[0]));
	q->n = (uint8_t)(q->n - k);
}

/* Cuts [*seq, *seq+*len) to what may be stored: above rcv_nxt, before a
 * known FIN, inside the ring. Records the duplicate part below rcv_nxt. */
static void reass_trim(const reass *q, const hsk_ring *ring, hsk_seq rcv_nxt,
		       hsk_seq *seq, const uint8_t **data, uint32_t *len,
		       reass_result *res)
{
	hsk_seq end = seq_add(*seq, *len);
	uint32_t off, d;

	if (seq_lt(*seq, rcv_nxt)) {
		set_dup(res, *seq, seq_min(end, rcv_nxt));
		if (seq_le(end, rcv_nxt)) {
			*len = 0;
			return;
		}
		d = rng_len(*seq, rcv_nxt);
		*data += d;
		*len -= d;
		*seq = rcv_nxt;
	}
	if (q->fin_known && seq_gt(end, q->fin_seq))
		*len = seq_ge(*seq, q->fin_seq) ? 0 : rng_len(*seq, q->fin_seq);
	if (*len == 0)
		return;
	off = ring_len(ring) + rng_len(rcv_nxt, *seq);
	if (rng_len(rcv_nxt, *seq) >= ring->cap || off >= ring->cap) {
		*len = 0;
		res->dropped = true;
	} else if (*len > ring->cap - off) {
		*len = ring->cap - off;
		res->dropped = true;
	}
}

uint32_t reass_input(reass *q, hsk_ring *ring, hsk_seq rcv_nxt, hsk_seq seq,
		     const uint8_t *data, uint32_t len, bool fin, reass_result *res)
{
	hsk_seq end, oend;
	reass_range m;
	uint32_t overlap = 0, fresh;
	unsigned i, first, k;

	memset(res, 0, sizeof(*res));
	oend = seq_add(seq, len);
	reass_trim(q, ring, rcv_nxt, &seq, &data, &len, res);
	if (len == 0)
		goto out;
	end = seq_add(seq, len);

	/* Ranges that overlap or touch [seq, end]: indexes first..first+k-1. */
	for (first = 0; first < q->n && seq_lt(q->r[first].end, seq); first++)
		;
	for (k = 0; first + k < q->n && seq_le(q->r[first + k].start, end); k++) {
		const reass_range *r = &q->r[first + k];
		hsk_seq os = seq_max(seq, r->start), oe = seq_min(end, r->end);

		if (seq_lt(os, oe)) {
			overlap += rng_len(os, oe);
			set_dup(res, os, oe);
		}
	}
	fresh = len - overlap;
	m.start = k ? seq_min(seq, q->r[first].start) : seq;
	m.end = k ? seq_max(end, q->r[first + k - 1].end) : end;

	if (fresh == 0) {
		/* Entirely held already: within one range, since ranges never
		 * touch. */
		res->out_of_order = true;
		res->has_block = true;
		res->blk_start = m.start;
		res->blk_end = m.end;
		goto out;
	}
	if (!seq_eq(m.start, rcv_nxt) && k == 0 && q->n == REASS_MAX_RANGES) {
		res->dropped = true;
		goto out;
	}
	ring_write_at(ring, ring_len(ring) + rng_len(rcv_nxt, seq), data, len);
	res->stored = fresh;

	if (seq_eq(m.start, rcv_nxt)) {
		/* The hole at rcv_nxt is filled: everything up to m.end is in
		 * order now, including the ranges merged in. */
		for (i = first; i < first + k; i++)
			q->held -= rng_len(q->r[i].start, q->r[i].end);
		ranges_remove(q, first, k);
		res->advanced = rng_len(rcv_nxt, m.end);
		ring_commit(ring, res->advanced);
	} else {
		ranges_replace(q, first, k, &m);
		q->held += fresh;
		res->out_of_order = true;
		res->has_block = true;
		res->blk_start = m.start;
		res->blk_end = m.end;
	}
out:
	/* A FIN counts only when its segment was stored whole (a segment cut
	 * on the right loses its FIN, RFC 9293 §3.10.7.4). ring_len has grown
	 * by `advanced` since rcv_nxt was current. */
	if (fin && !q->fin_known && !res->dropped && seq_ge(oend, rcv_nxt) &&
	    rng_len(rcv_nxt, oend) <= ring->cap - (ring_len(ring) - res->advanced)) {
		q->fin_known = true;
		q->fin_seq = oend;
	}
	res->fin = q->fin_known && seq_eq(seq_add(rcv_nxt, res->advanced), q->fin_seq);
	return res->advanced;
}
