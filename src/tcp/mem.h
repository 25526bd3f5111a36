/*
 * The ring cache's usual allocation and release, in line: mem.c's, and
 * the small read's and write's short ways (api/io.c's recv_small and
 * send_small), which give back the receive ring they emptied and take the
 * send ring they fill without a call.
 */
#ifndef HSK_TCP_MEM_H
#define HSK_TCP_MEM_H

#include "tcp/reass.h"
#include "tcp/tcp.h"

/* ring_alloc's usual case: no pressure now nor after a ring of the cached
 * size (so below tcp_mem_high too: the configuration keeps pressure <=
 * high) and a cached buffer of the size `want` rounds to. */
static inline bool ring_alloc_quick(const tcp_stack *s, uint32_t want)
{
	/* pow2_at_least(want) is the cached size exactly when want is in
	 * (cap / 2, cap] (cap, the default sndbuf rounded, is >= 1024) */
	uint32_t cap = s->ring_cache_cap;
	return want <= cap && want > cap / 2 && s->ring_cache_n && !s->mem_pressure &&
	       s->buffer_bytes + cap <= s->env->cfg.tcp_mem_pressure && !s->no_fastpath;
}

/* What ring_alloc_slow does then, without its frame (nor the minimum,
 * which only pressure asks for). */
static inline void ring_from_cache(tcp_stack *s, tcb *t, hsk_ring *r)
{
	uint32_t cap = s->ring_cache_cap;
	/* A ring without storage is all zero (a new extension's, and what
	 * ring_to_cache and ring_destroy leave; no byte, so head and len
	 * never moved): only the buffer and its size are stored. */
	assert(!r->buf && !r->head && !r->len);
	r->buf = s->ring_cache[--s->ring_cache_n];
	r->cap = cap;
	s->buffer_bytes += cap;
	if (tcb_counted_orphan(t))
		s->orphan_bytes += cap;
}

/* tcb_alloc_snd's usual way, for a (t's) without a send ring when
 * ring_alloc_quick(t->sndbuf) holds. */
static inline void snd_from_cache(tcp_stack *s, tcb *t, tcb_act *a)
{
	ring_from_cache(s, t, &a->snd);
	t->flags &= ~TF_SND_WAIT;
}

/* The ring's bytes leave the count (and the placed bytes go with it). */
static inline void ring_uncount(tcp_stack *s, tcb *t, const hsk_ring *r)
{
	if (r == s->placed_ring)
		s->placed_ring = NULL;
	s->buffer_bytes -= r->cap;
	if (tcb_counted_orphan(t))
		s->orphan_bytes -= r->cap;
}

/* Its buffer into the cache: the caller knows it is of the cached size,
 * that the cache has room and that there is no pressure. */
static inline void ring_to_cache(tcp_stack *s, tcb *t, hsk_ring *r)
{
	ring_uncount(s, t, r);
	s->ring_cache[s->ring_cache_n++] = r->buf;
	*r = (hsk_ring){ 0 };
}

/* ring_release's usual case: the ring goes to the cache, and
 * mem_released has nothing to do (no pressure, no sender waiting). */
static inline bool ring_release_quick(const tcp_stack *s, const hsk_ring *r)
{
	/* ring_cacheable's three tests and no sender waiting, as branches
	 * (GCC's if-conversion of the four made a setcc chain that tested
	 * every one). */
	if (r->cap != s->ring_cache_cap || s->ring_cache_n >= TCP_RING_CACHE)
		return false;
	return !s->mem_pressure && !s->snd_waiters;
}

/* Whether the receive ring the user just emptied (held) is given back by
 * ring_to_cache alone, tcb_release_idle_held's work otherwise: no send
 * ring held (a request or a response answered), no SACK state left (it
 * went with the last ACK of what was sent), nothing out of order, the
 * ring's release the usual one, not no_fastpath. */
static inline bool rcv_emptied_quick(const tcp_stack *s, const tcb_act *a)
{
	return !a->snd.buf && !a->sack_on && reass_empty(&a->ooo) &&
	       ring_release_quick(s, &a->rcv) && !s->no_fastpath;
}

#endif
