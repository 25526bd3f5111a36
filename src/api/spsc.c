/*
 * The single-producer single-consumer ring of shards.c (see spsc.h).
 */
#include <stdlib.h>
#include <string.h>

#include "spsc.h"

enum { REC_HDR = 8 };
#define WRAP_MARK UINT32_MAX

static size_t rec_size(size_t len)
{
	return REC_HDR + ((len + 7) & ~(size_t)7);
}

int spsc_init(hsk_spsc *r, size_t cap)
{
	size_t c = 64;

	memset(r, 0, sizeof(*r));
	while (c < cap && c < ((size_t)1 << 40))
		c <<= 1;
	r->buf = malloc(c);
	if (!r->buf)
		return -1;
	r->cap = c;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return 0;
}

void spsc_free(hsk_spsc *r)
{
	free(r->buf);
	r->buf = NULL;
}

size_t spsc_max_record(const hsk_spsc *r)
{
	return r->cap / 2 - REC_HDR;
}

int spsc_push(hsk_spsc *r, const void *data, size_t len)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t need = rec_size(len), pos = (size_t)(head & (r->cap - 1));
	size_t skip = r->cap - pos < need ? r->cap - pos : 0;
	uint32_t l32 = (uint32_t)len;
	uint64_t before = head;

	if (len > spsc_max_record(r) || head + skip + need - tail > r->cap)
		return SPSC_FULL;
	if (skip) {
		/* the rest of the buffer is too short: a marker, then the front */
		uint32_t mark = WRAP_MARK;
		memcpy(r->buf + pos, &mark, 4);
		head += skip;
		pos = 0;
	}
	memcpy(r->buf + pos, &l32, 4);
	memcpy(r->buf + pos + REC_HDR, data, len);
	atomic_store_explicit(&r->head, head + need, memory_order_seq_cst);
	/* Had the consumer taken everything before this record? Then it may
	 * have found the ring empty and gone to sleep (spsc.h). */
	tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
	return tail == before ? SPSC_WAKE : SPSC_PUSHED;
}

const uint8_t *spsc_peek(hsk_spsc *r, size_t *len)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	for (;;) {
		uint64_t head = atomic_load_explicit(&r->head, memory_order_seq_cst);
		size_t pos = (size_t)(tail & (r->cap - 1));
		uint32_t l32;

		if (tail == head)
			return NULL;
		memcpy(&l32, r->buf + pos, 4);
		if (l32 != WRAP_MARK) {
			*len = l32;
			return r->buf + pos + REC_HDR;
		}
		tail += r->cap - pos;
		atomic_store_explicit(&r->tail, tail, memory_order_seq_cst);
	}
}

void spsc_pop(hsk_spsc *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t l32;

	memcpy(&l32, r->buf + (tail & (r->cap - 1)), 4);
	atomic_store_explicit(&r->tail, tail + rec_size(l32), memory_order_seq_cst);
}
