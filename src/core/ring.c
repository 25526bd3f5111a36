/*
 * Byte rings. The storage is a power of two, so a position is an offset
 * masked with cap - 1; every copy is at most two memcpy calls, one up to
 * the end of the storage and one from its start. The *_csum variants copy
 * with csum_copy() and chain the second piece's sum at its offset in the
 * stream (odd when the first piece is), so a ring's bytes are checksummed
 * in the same pass that copies them.
 */
#include "core/ring.h"
#include "handshake.h"
#include "core/csum.h"

#include <stdlib.h>
#include <string.h>

int ring_init(hsk_ring *r, uint32_t cap)
{
	uint32_t c = 1;
	if (cap > (UINT32_C(1) << 31))
		return -HSK_ENOMEM;
	while (c < cap)
		c <<= 1;
	r->buf = malloc(c);
	if (!r->buf) {
		r->cap = r->head = r->len = 0;
		return -HSK_ENOMEM;
	}
	r->cap = c;
	r->head = 0;
	r->len = 0;
	return 0;
}

void ring_destroy(hsk_ring *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->head = r->len = 0;
}

uint32_t ring_peek(const hsk_ring *r, uint32_t off, void *dst, uint32_t n)
{
	if (off >= r->len)
		return 0;
	if (n > r->len - off)
		n = r->len - off;
	if (n)
		ring_get(r, off, dst, n);
	return n;
}

uint32_t ring_write_at(hsk_ring *r, uint32_t off, const void *src, uint32_t n)
{
	if (off >= r->cap)
		return 0;
	if (n > r->cap - off)
		n = r->cap - off;
	if (n)
		ring_put(r, off, src, n);
	return n;
}

void ring_commit(hsk_ring *r, uint32_t n)
{
	uint32_t space = r->cap - r->len;
	r->len += n < space ? n : space;
}

uint32_t ring_span(const hsk_ring *r, uint32_t off, const uint8_t **p)
{
	if (off >= r->len) {
		*p = NULL;
		return 0;
	}
	uint32_t pos = (r->head + off) & (r->cap - 1);
	uint32_t run = r->cap - pos;
	uint32_t left = r->len - off;
	*p = r->buf + pos;
	return run < left ? run : left;
}

/* ring_put/ring_get with the sum: the pieces' sums chained as one stream
 * that starts at an even offset. */
static inline uint32_t ring_put_csum(hsk_ring *r, uint32_t off, const uint8_t *src,
				     uint32_t n)
{
	uint32_t pos = (r->head + off) & (r->cap - 1);
	uint32_t first = r->cap - pos;
	if (first >= n)
		return csum_copy(r->buf + pos, src, n, 0);
	uint32_t s = csum_copy(r->buf + pos, src, first, 0);
	return csum_block_add(s, csum_copy(r->buf, src + first, n - first, 0), first);
}

static inline uint32_t ring_get_csum(const hsk_ring *r, uint32_t off, uint8_t *dst,
				     uint32_t n)
{
	uint32_t pos = (r->head + off) & (r->cap - 1);
	uint32_t first = r->cap - pos;
	if (first >= n)
		return csum_copy(dst, r->buf + pos, n, 0);
	uint32_t s = csum_copy(dst, r->buf + pos, first, 0);
	return csum_block_add(s, csum_copy(dst + first, r->buf, n - first, 0), first);
}

uint32_t ring_write_at_csum(hsk_ring *r, uint32_t off, const void *src, uint32_t n,
			    uint32_t *sum)
{
	if (off >= r->cap)
		return 0;
	if (n > r->cap - off)
		n = r->cap - off;
	if (n)
		*sum = csum_add(*sum, ring_put_csum(r, off, src, n));
	return n;
}

uint32_t ring_peek_csum(const hsk_ring *r, uint32_t off, void *dst, uint32_t n,
			uint32_t *sum)
{
	if (off >= r->len)
		return 0;
	if (n > r->len - off)
		n = r->len - off;
	if (n)
		*sum = csum_add(*sum, ring_get_csum(r, off, dst, n));
	return n;
}
