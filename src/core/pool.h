/*
 * Fixed-size object pools. Objects come from chunks allocated as the pool
 * grows (amortised: never one malloc per object) and return to a free list.
 * `max` bounds the objects in use; pool_get() returns NULL past it, which
 * the caller counts as a visible event. pool_get() returns zeroed memory.
 *
 * Chunks grow geometrically: 16 objects, then as many as the pool already
 * has, up to about 256 KiB per chunk, and never past `max`. A new chunk is
 * carved lazily (a bump pointer), so untouched objects cost no page faults.
 * A free object holds the free-list link in its first bytes; under
 * AddressSanitizer the rest of it is poisoned until pool_get().
 */
#ifndef HSK_POOL_H
#define HSK_POOL_H

#include <stddef.h>

typedef struct hsk_pool {
	size_t obj_size;     /* rounded up to pointer alignment */
	size_t per_chunk;    /* objects in the last chunk allocated */
	size_t in_use, total, max;
	void *free_list;
	void *chunks;        /* singly linked list of chunks */
	char *bump;          /* next never-used object of the newest chunk */
	size_t bump_left;    /* never-used objects left there */
} hsk_pool;

/* max_objects 0 means no limit. Allocates nothing yet. */
void pool_init(hsk_pool *p, size_t obj_size, size_t max_objects);
void pool_destroy(hsk_pool *p);   /* frees every chunk, objects in use too */
/* A zeroed object, or NULL at `max` or when memory runs out. */
void *pool_get(hsk_pool *p);
/* The same without the zeroing, for objects whose every field the caller
 * sets (a large object most of which is storage used later). */
void *pool_get_raw(hsk_pool *p);
/* obj must come from this pool's pool_get(); NULL is ignored. */
void pool_put(hsk_pool *p, void *obj);
static inline size_t pool_in_use(const hsk_pool *p) { return p->in_use; }

#endif
