/*
 * Fixed-size object pools. Objects come from chunks allocated as the pool
 * grows (amortised: never one malloc per object) and return to a free list.
 * `max` bounds the objects in use; pool_get() returns NULL past it, which
 * the caller counts as a visible event. pool_get() returns zeroed memory.
 */
#ifndef HSK_POOL_H
#define HSK_POOL_H

#include <stddef.h>

typedef struct hsk_pool {
	size_t obj_size;     /* rounded up to pointer alignment */
	size_t per_chunk;
	size_t in_use, total, max;
	void *free_list;
	void *chunks;        /* singly linked list of chunks */
} hsk_pool;

void pool_init(hsk_pool *p, size_t obj_size, size_t max_objects);
void pool_destroy(hsk_pool *p);   /* frees every chunk */
void *pool_get(hsk_pool *p);
void pool_put(hsk_pool *p, void *obj);
static inline size_t pool_in_use(const hsk_pool *p) { return p->in_use; }

#endif
