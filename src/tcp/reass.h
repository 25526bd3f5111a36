/*
 * Out-of-order reassembly into the receive ring.
 *
 * The ring holds the in-order bytes not yet read (ring_len), followed by the
 * receive window. A segment that arrives above rcv_nxt is copied straight to
 * its place in the window (ring_write_at), and its sequence range is
 * recorded in a small sorted array of held ranges; when the hole at rcv_nxt
 * is filled, the run that became contiguous is committed (ring_commit).
 * So reassembly needs no memory beyond the ring: the bound on data held is
 * the ring's capacity, and on bookkeeping REASS_MAX_RANGES.
 *
 * Invariants: ranges are sorted, disjoint and not adjacent (touching ranges
 * are merged), and every range starts above rcv_nxt. Byte counts above the
 * ring's capacity are trimmed, as are bytes past a FIN already seen.
 */
#ifndef HSK_TCP_REASS_H
#define HSK_TCP_REASS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ring.h"
#include "tcp/seq.h"

enum {
	/* Holes the receiver tracks at once. More holes than this and a new
	 * out-of-order segment that would need its own range is dropped (the
	 * sender will send it again); data never becomes reneged. */
	REASS_MAX_RANGES = 16,
};

typedef struct reass_range {
	hsk_seq start, end;       /* [start, end) */
} reass_range;

typedef struct reass {
	uint8_t n;                /* ranges in use */
	bool fin_known;           /* a FIN arrived, maybe out of order */
	hsk_seq fin_seq;          /* the FIN's sequence number */
	uint32_t held;            /* bytes held out of order */
	reass_range r[REASS_MAX_RANGES];
} reass;

typedef struct reass_result {
	uint32_t advanced;        /* bytes that became in order: rcv_nxt += */
	uint32_t stored;          /* bytes of this segment that were new */
	bool out_of_order;        /* data was stored above rcv_nxt: ACK now */
	bool dropped;             /* new bytes were dropped (no range free, or
				   * past the ring's capacity) */
	bool fin;                 /* rcv_nxt (after advancing) is the FIN */
	bool has_dup;             /* part of the segment was already held or
				   * delivered: [dup_start, dup_end) (D-SACK) */
	bool has_block;           /* [blk_start, blk_end): the held range that
				   * now contains the segment (first SACK block) */
	hsk_seq dup_start, dup_end;
	hsk_seq blk_start, blk_end;
} reass_result;

void reass_init(reass *q);
static inline bool reass_empty(const reass *q) { return q->n == 0; }

/*
 * A segment [seq, seq+len) with `data` (and a FIN after it when `fin`) has
 * passed the acceptability test; rcv_nxt is the next in-order sequence
 * number, and the ring's in-order bytes end there. Stores what is new,
 * commits what became contiguous and reports it in *res. Returns
 * res->advanced.
 */
uint32_t reass_input(reass *q, hsk_ring *ring, hsk_seq rcv_nxt, hsk_seq seq,
		     const uint8_t *data, uint32_t len, bool fin, reass_result *res);

/* The held range containing seq, or NULL. */
const reass_range *reass_find(const reass *q, hsk_seq seq);

/* Forgets all held data (connection reset); the ring is the caller's. */
static inline void reass_clear(reass *q) { reass_init(q); }

#endif
