/*
 * Byte ring buffers for send and receive queues. The storage is allocated by
 * ring_init() (when a connection first needs it), never per segment.
 * Offsets are relative to the oldest byte held (the head).
 */
#ifndef HSK_RING_H
#define HSK_RING_H

#include <assert.h>
#include <stdint.h>
#include <string.h>

typedef struct hsk_ring {
	uint8_t *buf;
	uint32_t cap;        /* a power of two */
	uint32_t head;       /* index of the oldest byte */
	uint32_t len;        /* bytes held */
} hsk_ring;

/* Rounds cap up to a power of two (0 counts as 1; at most 2^31). 0 or
 * -HSK_ENOMEM. A zeroed hsk_ring is a valid empty ring with no storage. */
int ring_init(hsk_ring *r, uint32_t cap);
void ring_destroy(hsk_ring *r);
static inline uint32_t ring_len(const hsk_ring *r) { return r->len; }
static inline uint32_t ring_space(const hsk_ring *r) { return r->cap - r->len; }

/* Copies n bytes in at ring offset off (from the head); n + off <= cap.
 * Always in line: tcp_input's in-order data and the sends (GCC called it
 * out of line from tcp_input, a frame per data segment). */
static inline __attribute__((always_inline)) void ring_put(hsk_ring *r, uint32_t off,
							    const uint8_t *src, uint32_t n)
{
	uint32_t pos = (r->head + off) & (r->cap - 1);
	uint32_t first = r->cap - pos;
	if (first >= n) {
		memcpy(r->buf + pos, src, n);
	} else {
		memcpy(r->buf + pos, src, first);
		memcpy(r->buf, src + first, n - first);
	}
}

/* Copies n bytes out from ring offset off; n + off <= cap. */
static inline void ring_get(const hsk_ring *r, uint32_t off, uint8_t *dst, uint32_t n)
{
	uint32_t pos = (r->head + off) & (r->cap - 1);
	uint32_t first = r->cap - pos;
	if (first >= n) {
		memcpy(dst, r->buf + pos, n);
	} else {
		memcpy(dst, r->buf + pos, first);
		memcpy(dst + first, r->buf, n - first);
	}
}

/* Appends n bytes that the caller knows fit (0 < n <= ring_space): a
 * send whose room was worked out already. */
static inline void ring_append(hsk_ring *r, const void *src, uint32_t n)
{
	assert(n > 0 && n <= r->cap - r->len);
	ring_put(r, r->len, src, n);
	r->len += n;
}

/* Appends up to n bytes; returns how many fit. In line (the socket
 * calls and in-order data: a call's frame cost as much as a short copy). */
static inline uint32_t ring_write(hsk_ring *r, const void *src, uint32_t n)
{
	uint32_t space = r->cap - r->len;
	if (n > space)
		n = space;
	if (n == 0)
		return 0;
	ring_append(r, src, n);
	return n;
}

/* Copies up to n bytes starting `off` bytes after the head, without
 * consuming; returns bytes copied. */
uint32_t ring_peek(const hsk_ring *r, uint32_t off, void *dst, uint32_t n);
/* The n oldest bytes (n <= len) leave. The head only moves forward,
 * even when the ring empties: data placed past len by ring_write_at()
 * stays where its offsets say. */
static inline void ring_skip(hsk_ring *r, uint32_t n)
{
	r->len -= n;
	r->head = (r->head + n) & (r->cap - 1);
}

/* Consumes n bytes that the caller knows are held (0 < n <= len) into
 * dst: a receive whose count was worked out already. */
static inline void ring_take(hsk_ring *r, void *dst, uint32_t n)
{
	assert(n > 0 && n <= r->len);
	ring_get(r, 0, dst, n);
	ring_skip(r, n);
}

/* Consumes up to n bytes into dst (dst may be NULL to discard). In line,
 * as ring_write. */
static inline uint32_t ring_read(hsk_ring *r, void *dst, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	if (n == 0)
		return 0;
	if (dst)
		ring_get(r, 0, dst, n);
	ring_skip(r, n);
	return n;
}

/* Writes n bytes at `off`
 * bytes after the head, beyond len, without changing len (out-of-order data
 * held for reassembly). Returns bytes written (bounded by cap): 0 when
 * off >= cap. An `off` below len overwrites data held. */
uint32_t ring_write_at(hsk_ring *r, uint32_t off, const void *src, uint32_t n);
/* Makes n bytes already placed by ring_write_at past len part of the data
 * (n is clamped to the space left). */
void ring_commit(hsk_ring *r, uint32_t n);
/* ring_write_at() that also checksums, in the same pass: adds to *sum the
 * ones'-complement sum (as csum_partial() computes it, wire/wire.h) of the
 * bytes written, as one stream starting at an even offset, across the
 * wrap. Returns bytes written (bounded by cap - off; *sum covers exactly
 * those). Nothing is committed: len is unchanged, so a caller that finds
 * the sum wrong leaves the bytes unseen (docs/performance.md). */
uint32_t ring_write_at_csum(hsk_ring *r, uint32_t off, const void *src, uint32_t n,
			    uint32_t *sum);
/* ring_peek() that also checksums the bytes copied into *sum, as above
 * (for a segment's payload gathered from the send ring). */
uint32_t ring_peek_csum(const hsk_ring *r, uint32_t off, void *dst, uint32_t n,
			uint32_t *sum);
/* The contiguous run of held data starting `off` bytes after the head: *p
 * and its length (up to the end of the data or of the storage, whichever
 * comes first). 0 and *p = NULL when off >= len. */
uint32_t ring_span(const hsk_ring *r, uint32_t off, const uint8_t **p);

#endif
