/*
 * Object pools: a free list threaded through free objects, in front of
 * chunks that are carved lazily. pool_get() and pool_put() are O(1); the
 * only allocation is a new chunk, amortised over the objects it holds.
 */
#include "core/pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
	POOL_FIRST_CHUNK = 16,          /* objects */
	POOL_CHUNK_BYTES = 256 * 1024,  /* growth stops doubling here */
};

/* A chunk: this header, then its objects. The header keeps the objects at
 * max_align_t alignment (malloc's). */
typedef struct pool_chunk {
	struct pool_chunk *next;
	_Alignas(max_align_t) char obj[];
} pool_chunk;

void pool_init(hsk_pool *p, size_t obj_size, size_t max_objects)
{
	size_t a = sizeof(void *);
	if (obj_size < a)
		obj_size = a;
	p->obj_size = (obj_size + a - 1) & ~(a - 1);
	p->per_chunk = 0;
	p->in_use = p->total = 0;
	p->max = max_objects ? max_objects : SIZE_MAX;
	p->free_list = NULL;
	p->chunks = NULL;
	p->bump = NULL;
	p->bump_left = 0;
}

void pool_destroy(hsk_pool *p)
{
	pool_chunk *c = p->chunks;
	while (c) {
		pool_chunk *next = c->next;
		free(c);
		c = next;
	}
	size_t size = p->obj_size, max = p->max;
	pool_init(p, size, max == SIZE_MAX ? 0 : max);
}

/* Adds a chunk; 0 or -1 when malloc fails or max is reached. */
static int pool_grow(hsk_pool *p)
{
	size_t room = p->max - p->total;
	if (room == 0)
		return -1;
	size_t n = p->total ? p->total : POOL_FIRST_CHUNK;
	size_t cap = POOL_CHUNK_BYTES / p->obj_size;
	if (cap < POOL_FIRST_CHUNK)
		cap = POOL_FIRST_CHUNK;
	if (n > cap)
		n = cap;
	if (n > room)
		n = room;
	if (p->obj_size > (SIZE_MAX - sizeof(pool_chunk)) / n)
		return -1;
	pool_chunk *c = malloc(sizeof *c + n * p->obj_size);
	if (!c)
		return -1;
	c->next = p->chunks;
	p->chunks = c;
	p->bump = c->obj;
	p->bump_left = n;
	p->per_chunk = n;
	p->total += n;
	POOL_POISON(c->obj, n * p->obj_size);
	return 0;
}

/* pool_get_raw's rare way (pool.h): out of line, so that taking one from
 * the free list (the usual case) needs no stack frame. */
void *pool_get_new(hsk_pool *p)
{
	if (p->bump_left == 0 && pool_grow(p) != 0)
		return NULL;
	void *o = p->bump;
	p->bump += p->obj_size;
	p->bump_left--;
	POOL_UNPOISON(o, p->obj_size);
	p->in_use++;
	return o;
}

void *pool_get(hsk_pool *p)
{
	void *o = pool_get_raw(p);
	return o ? memset(o, 0, p->obj_size) : NULL;
}
