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

#include <assert.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif

#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POOL_POISON(p, n) ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

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
/* pool_get_raw with the free list empty (pool.c): a never-used object of
 * the newest chunk, or of a new one. */
void *pool_get_new(hsk_pool *p);
/* The same without the zeroing, for objects whose every field the caller
 * sets (a large object most of which is storage used later). In line:
 * the usual case is the free list's head, a few instructions. */
/* pool_get_raw's usual way: the free list's head, for a caller that
 * knows there is one within the limit. */
static inline void *pool_take_head(hsk_pool *p)
{
	void *o = p->free_list;
	assert(o && p->in_use < p->max);
	POOL_UNPOISON(o, p->obj_size);
	p->free_list = *(void **)o;
	p->in_use++;
	return o;
}
static inline void *pool_get_raw(hsk_pool *p)
{
	if (p->in_use >= p->max)
		return NULL;
	if (!p->free_list)
		return pool_get_new(p);
	return pool_take_head(p);
}
/* obj must come from this pool's pool_get(); NULL is ignored. */
static inline void pool_put(hsk_pool *p, void *obj)
{
	if (!obj)
		return;
	*(void **)obj = p->free_list;
	p->free_list = obj;
	p->in_use--;
	POOL_POISON((char *)obj + sizeof(void *), p->obj_size - sizeof(void *));
}
static inline size_t pool_in_use(const hsk_pool *p) { return p->in_use; }

#endif
