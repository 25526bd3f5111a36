/*
 * Buffer memory: the send and receive rings of connections, counted
 * across the stack against tcp_mem (low, pressure, high) as Linux counts
 * its socket memory, and the orphans that hold some of it.
 *
 *   below pressure  rings are allocated at the socket's size (sndbuf,
 *                   rcvbuf) when first needed and given back when empty.
 *   pressure        entered when a ring would take the total above
 *                   tcp_mem_pressure (TCPMemoryPressures), left when the
 *                   total falls below tcp_mem_low (the time spent adds to
 *                   TCPMemoryPressuresChrono, in ms). Meanwhile new rings
 *                   get the minimum size (sndbuf_min, rcvbuf_min; a
 *                   receive ring never less than the window already
 *                   offered), offered windows stop growing beyond
 *                   rcvbuf_min (what was offered stays offered, RFC 9293
 *                   §3.8.6.2.2), send rings are trimmed to what they hold,
 *                   and the cache of free rings is emptied.
 *   high            a ring that would take the total above tcp_mem_high
 *                   is refused (BufferRefused), after every orphan holding
 *                   rings has been reset to make room (TCPAbortOnMemory):
 *                   incoming data that needed it is dropped (TCPRcvQDrop,
 *                   TCPOFODrop), hsk_send answers -HSK_EAGAIN, as Linux's
 *                   does, and the socket is reported writable once memory
 *                   is back.
 * So one connection pins at most its two rings, and all of them together
 * at most tcp_mem_high.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/mem.h"
#include "tcp/tcp.h"

/* The least power of two >= n (1 for 0), at most 2^31; without a loop
 * (a ring of 256 KiB took 18 rounds, on every allocation). */
static uint32_t pow2_at_least(uint32_t n)
{
	if (n <= 1)
		return 1;
	if (n > (UINT32_C(1) << 31))
		return UINT32_C(1) << 31;
	return UINT32_C(1) << (32 - __builtin_clz(n - 1));
}

static uint32_t snd_min(const tcp_stack *s, const tcb *t)
{
	return s->env->cfg.sndbuf_min < t->sndbuf ? s->env->cfg.sndbuf_min : t->sndbuf;
}

static uint32_t rcv_min(const tcp_stack *s, const tcb *t)
{
	return s->env->cfg.rcvbuf_min < t->rcvbuf ? s->env->cfg.rcvbuf_min : t->rcvbuf;
}

/* ---- pressure ---- */

static void mem_enter_pressure(tcp_stack *s)
{
	s->mem_pressure = true;
	s->mem_pressure_at = s->env->now;
	CNT_INC(s->env, TCPMemoryPressures);
	/* Cached free rings are memory too: give them back. */
	while (s->ring_cache_n)
		free(s->ring_cache[--s->ring_cache_n]);
}

/* Connections refused a send ring are told when one fits again. Rare (it
 * follows a refusal at tcp_mem_high), so a walk of the table will do. */
static void wake_sender(void *ctx, tbl_node *n)
{
	tcb *t = (tcb *)n;
	if (n->kind != HSK_OBJ_TCB || !(t->flags & TF_SND_WAIT))
		return;
	t->flags &= ~TF_SND_WAIT;
	tcp_notify(ctx, t->sd);
}

static void mem_wake_senders(tcp_stack *s)
{
	s->snd_waiters = 0;
	tbl_foreach(&s->conns, wake_sender, s);
}

static __attribute__((noinline)) void mem_released_slow(tcp_stack *s)
{
	if (s->mem_pressure && s->buffer_bytes < s->env->cfg.tcp_mem_low) {
		s->mem_pressure = false;
		CNT_ADD(s->env, TCPMemoryPressuresChrono, (s->env->now - s->mem_pressure_at) / 1000000);
	}
	if (s->snd_waiters &&
	    s->buffer_bytes + pow2_at_least(s->env->cfg.sndbuf_min) <= s->env->cfg.tcp_mem_high)
		mem_wake_senders(s);
}

/* The total went down: pressure may end, waiting senders may go on
 * (neither: nothing to do, the usual case, in line). */
static inline void mem_released(tcp_stack *s)
{
	if (s->mem_pressure || s->snd_waiters)
		mem_released_slow(s);
}

bool tcp_mem_exhausted(const tcp_stack *s)
{
	return s->buffer_bytes + pow2_at_least(s->env->cfg.sndbuf_min) > s->env->cfg.tcp_mem_high;
}

/* ---- orphans ---- */

struct orphan_sweep {
	const tcb *except;
	tcb *list[256];
	size_t n;
};

static void collect_orphans(void *ctx, tbl_node *n)
{
	struct orphan_sweep *w = ctx;
	if (n->kind != HSK_OBJ_TCB || w->n == 256)
		return;
	tcb *t = (tcb *)n;
	if (t != w->except && tcb_counted_orphan(t) && t->act && (t->act->snd.buf || t->act->rcv.buf))
		w->list[w->n++] = t;
}

/* Memory is short: every orphan holding rings is reset, as Linux's
 * tcp_out_of_resources does to each on its next timer (here at once, so
 * the allocation that found memory short can go on). The sweep walks the
 * table, but only when orphans hold memory, and each one frees some. */
static void mem_reset_orphans(tcp_stack *s, const tcb *except)
{
	while (s->orphan_bytes) {
		struct orphan_sweep w = { .except = except };
		tbl_foreach(&s->conns, collect_orphans, &w);
		if (!w.n)
			break;
		for (size_t i = 0; i < w.n; i++) {
			CNT_INC(s->env, TCPAbortOnMemory);
			tcb_send_rst(s, w.list[i]);
			tcb_closed(s, w.list[i], "out of memory");
		}
	}
}

/* ---- rings ---- */

/* Buffers of the stack's default size go back to a small cache instead
 * of to malloc (not under pressure): a request/response connection frees
 * and takes one per message, and an idle connection holds none. */
static inline bool ring_cacheable(const tcp_stack *s, const hsk_ring *r)
{
	return r->cap == s->ring_cache_cap && s->ring_cache_n < TCP_RING_CACHE &&
	       !s->mem_pressure;
}

static inline void ring_release(tcp_stack *s, tcb *t, hsk_ring *r)
{
	if (!r->buf)
		return;
	if (ring_cacheable(s, r)) {
		ring_to_cache(s, t, r);
	} else {
		ring_uncount(s, t, r);
		ring_destroy(r);
	}
	mem_released(s);
}

/* A ring larger than the cache's (grown by autotuning, or set large with
 * SO_RCVBUF / SO_SNDBUF) is not given back each time it empties: a fast
 * reader empties its receive ring at every read, and a new one of
 * megabytes is an mmap and its page faults at the next segment. An empty
 * one stays while the extension is kept (tcb_act_keep), and goes with it
 * (active.c's tcb_act_reap, ACT_KEEP_NS after its last use), or before
 * memory pressure is entered (drop_kept_rings). Not under pressure, not
 * with act_eager (the extension goes back at once), and not for an
 * orphan, which never reads nor writes again. */
static bool ring_keep_empty(const tcp_stack *s, const tcb *t, const hsk_ring *r)
{
	return r->cap > s->ring_cache_cap && !s->mem_pressure && !s->act_eager &&
	       !(t->flags & TF_ORPHAN);
}

/* An empty ring of t's released, or kept (above) when `keep` allows:
 * whether it was kept. */
static bool release_empty(tcp_stack *s, tcb *t, hsk_ring *r, bool keep)
{
	if (keep && ring_keep_empty(s, t, r))
		return true;
	ring_release(s, t, r);
	return false;
}

/* tcb_release_idle_held in general: from where its usual case (below)
 * stopped, what is left to release; with keep_grown, an empty ring
 * larger than the cache's is kept with the extension instead. */
static __attribute__((noinline)) void release_idle_slow(tcp_stack *s, tcb *t, tcb_act *a,
							bool ooo_empty, bool keep_grown)
{
	bool kept = false;
	if (a->snd.buf && !ring_len(&a->snd))
		kept = release_empty(s, t, &a->snd, keep_grown);
	/* Out-of-order bytes live past the in-order ones: keep those. */
	if (a->rcv.buf && !ring_len(&a->rcv) && ooo_empty)
		kept |= release_empty(s, t, &a->rcv, keep_grown);
	/* Quiescent: the SACK state holds nothing worth keeping either (an
	 * empty ring kept changes nothing to that). */
	if (a->sack_on && !ring_len(&a->snd) && !ring_len(&a->rcv) && ooo_empty)
		rec_sack_free_idle(t);
	if (kept)
		tcb_act_keep(s, t);
}

void tcb_release_idle_all(tcp_stack *s, tcb *t)
{
	if (t->act)
		release_idle_slow(s, t, t->act, reass_empty(&t->act->ooo), false);
}

/* The empty rings kept on the kept list (ring_keep_empty) are memory held
 * for speed alone: they go before memory pressure is entered. The
 * allocating connection's (except) stay: its rings are being worked on. */
static void drop_kept_rings(tcp_stack *s, const tcb *except)
{
	for (tcb *t = s->act_idle_head; t; t = t->act->idle_next) {
		tcb_act *a = t->act;
		if (t == except)
			continue;
		if (a->snd.buf && !ring_len(&a->snd) && a->snd.cap > s->ring_cache_cap)
			ring_release(s, t, &a->snd);
		if (a->rcv.buf && !ring_len(&a->rcv) && a->rcv.cap > s->ring_cache_cap &&
		    reass_empty(&a->ooo))
			ring_release(s, t, &a->rcv);
	}
}

/* Whether `cap` more bytes may be held: under tcp_mem_high, once the
 * orphans have made what room they can. */
static bool mem_admit(tcp_stack *s, const tcb *t, uint32_t cap)
{
	if (s->buffer_bytes + cap <= s->env->cfg.tcp_mem_high)
		return true;
	mem_reset_orphans(s, t);
	if (s->buffer_bytes + cap <= s->env->cfg.tcp_mem_high)
		return true;
	CNT_INC(s->env, BufferRefused);
	return false;
}

/* The least a ring may be under pressure: the minimum buffer, and a
 * receive ring never smaller than the window already offered (what was
 * promised must fit; the ring is empty when it is allocated). */
static uint32_t ring_min(const tcp_stack *s, const tcb *t, bool rcv)
{
	if (!rcv)
		return snd_min(s, t);
	uint32_t promised = seq_gt(t->rcv_adv, t->rcv_nxt) ?
		(uint32_t)seq_diff(t->rcv_adv, t->rcv_nxt) : 0;
	uint32_t min = rcv_min(s, t);
	return promised > min ? promised : min;
}

/* ring_alloc but for its usual case (below). */
static __attribute__((noinline)) int ring_alloc_slow(tcp_stack *s, tcb *t, hsk_ring *r,
						     uint32_t cap, uint32_t want, bool rcv)
{
	if (!s->mem_pressure && s->buffer_bytes + cap > s->env->cfg.tcp_mem_pressure) {
		drop_kept_rings(s, t);
		if (s->buffer_bytes + cap > s->env->cfg.tcp_mem_pressure)
			mem_enter_pressure(s);
	}
	if (s->mem_pressure) {
		uint32_t min = ring_min(s, t, rcv);
		cap = pow2_at_least(min < want ? min : want);
	}
	if (!mem_admit(s, t, cap))
		return -HSK_ENOBUFS;
	if (cap == s->ring_cache_cap && s->ring_cache_n) {
		*r = (hsk_ring){ .buf = s->ring_cache[--s->ring_cache_n], .cap = cap };
	} else if (ring_init(r, cap) < 0) {
		CNT_INC(s->env, BufferRefused);
		return -HSK_ENOBUFS;
	}
	s->buffer_bytes += r->cap;
	if (tcb_counted_orphan(t))
		s->orphan_bytes += r->cap;
	return 0;
}

/* A ring of `want` bytes (rounded up to a power of two), or of
 * ring_min's under pressure (rcv: the receive ring's), for r that has
 * none (the callers' test); the usual case in line. */
static inline int ring_alloc(tcp_stack *s, tcb *t, hsk_ring *r, uint32_t want, bool rcv)
{
	if (!ring_alloc_quick(s, want))
		return ring_alloc_slow(s, t, r, pow2_at_least(want), want, rcv);
	ring_from_cache(s, t, r);
	return 0;
}

/* Moves what a ring holds into one of `cap` bytes (at least its length,
 * a power of two). Only for a ring whose bytes are all in order. */
static void ring_move(tcp_stack *s, tcb *t, hsk_ring *r, uint32_t cap)
{
	hsk_ring nr;
	if (ring_init(&nr, cap) < 0)
		return;                 /* keep the old one */
	uint32_t len = ring_len(r);
	ring_peek(r, 0, nr.buf, len);
	nr.len = len;
	/* Bytes placed past the data are not moved (receive autotuning
	 * grows a ring from the input path: tune.c). */
	if (r == s->placed_ring)
		s->placed_ring = NULL;
	s->buffer_bytes = s->buffer_bytes - r->cap + nr.cap;
	if (tcb_counted_orphan(t))
		s->orphan_bytes = s->orphan_bytes - r->cap + nr.cap;
	ring_destroy(r);
	*r = nr;
	mem_released(s);
}

/* tcb_alloc_snd in general (below: its usual case). */
static __attribute__((noinline)) int alloc_snd_slow(tcp_stack *s, tcb *t)
{
	tcb_act *a = tcb_act_get(s, t);
	if (a && ring_alloc(s, t, &a->snd, t->sndbuf, false) == 0) {
		t->flags &= ~TF_SND_WAIT;
		return 0;
	}
	/* Told when memory is back (hsk_poll says no POLLOUT meanwhile). */
	t->flags |= TF_SND_WAIT;
	s->snd_waiters++;
	return -HSK_EAGAIN;
}

/* The extension there and a ring from the cache: no call, so no frame
 * (the general way's calls, tcb_act_new and ring_alloc_slow, need one). */
int tcb_alloc_snd(tcp_stack *s, tcb *t)
{
	tcb_act *a = t->act;
	if (!a || !ring_alloc_quick(s, t->sndbuf))
		return alloc_snd_slow(s, t);
	snd_from_cache(s, t, a);
	return 0;
}

/* tcb_alloc_rcv in general: a (NULL: no extension yet) has no receive
 * ring (the caller's test). */
static __attribute__((noinline)) int alloc_rcv_slow(tcp_stack *s, tcb *t, tcb_act *a)
{
	if (!a && !(a = tcb_act_new(s, t)))
		return -HSK_ENOBUFS;
	assert(!a->rcv.buf);    /* a new extension's rings are zero */
	return ring_alloc(s, t, &a->rcv, t->rcvbuf, true);
}

/* The same for the receive ring. */
int tcb_alloc_rcv(tcp_stack *s, tcb *t)
{
	tcb_act *a = t->act;
	if (a && a->rcv.buf)
		return 0;
	if (!a || !ring_alloc_quick(s, t->rcvbuf))
		return alloc_rcv_slow(s, t, a);
	ring_from_cache(s, t, &a->rcv);
	return 0;
}

/* The send ring's size follows memory: under pressure it shrinks to what
 * it holds (at least sndbuf_min), as Linux's sk_stream_moderate_sndbuf
 * lowers sndbuf to what is queued; after it, a ring that was made small
 * grows back to sndbuf when the user writes into it. */
void tcb_fit_snd(tcp_stack *s, tcb *t)
{
	hsk_ring *r = &t->act->snd;
	if (s->mem_pressure) {
		uint32_t need = ring_len(r) > snd_min(s, t) ? ring_len(r) : snd_min(s, t);
		if (pow2_at_least(need) < r->cap)
			ring_move(s, t, r, pow2_at_least(need));
		return;
	}
	/* A writer that finds no room: autotuning may want more (tune.c). */
	if (!ring_space(r))
		tune_snd_full(s, t);
	/* (A ring's size is a power of two: below pow2_at_least(sndbuf)
	 * exactly when below sndbuf, which is at most 1 GiB.) */
	if (r->cap >= t->sndbuf)
		return;
	uint32_t full = pow2_at_least(t->sndbuf);
	if (s->buffer_bytes - r->cap + full <= s->env->cfg.tcp_mem_pressure)
		ring_move(s, t, r, full);
}

/* The receive ring grows back the same way once the user reads, when no
 * out-of-order data lies past the in-order bytes. */
void tcb_fit_rcv(tcp_stack *s, tcb *t)
{
	if (!t->act)
		return;
	hsk_ring *r = &t->act->rcv;
	uint32_t full = pow2_at_least(t->rcvbuf);
	if (!r->buf || s->mem_pressure || r->cap >= full || !reass_empty(&t->act->ooo))
		return;
	if (s->buffer_bytes - r->cap + full <= s->env->cfg.tcp_mem_pressure)
		ring_move(s, t, r, full);
}

/* Each empty ring whose release is the usual case is released here
 * without a call, so without a frame; at the first that is not,
 * release_idle_slow takes over. */
void tcb_release_idle_held(tcp_stack *s, tcb *t)
{
	tcb_act *a = t->act;    /* held: tcb_release_idle_rings' test */
	bool ooo_empty = reass_empty(&a->ooo);
	if (a->snd.buf && !ring_len(&a->snd)) {
		if (!ring_release_quick(s, &a->snd))
			return release_idle_slow(s, t, a, ooo_empty, true);
		ring_to_cache(s, t, &a->snd);
	}
	/* Out-of-order bytes live past the in-order ones: keep those. */
	if (a->rcv.buf && !ring_len(&a->rcv) && ooo_empty) {
		if (!ring_release_quick(s, &a->rcv))
			return release_idle_slow(s, t, a, ooo_empty, true);
		ring_to_cache(s, t, &a->rcv);
	}
	/* Quiescent: the SACK state holds nothing worth keeping either. */
	if (a->sack_on && !a->snd.buf && !a->rcv.buf && ooo_empty)
		rec_sack_free_idle(t);
}

/* tcb_release_idle_held for a receive ring the user just emptied (held:
 * it was read from), in its usual case (rcv_emptied_quick, mem.h).
 * Otherwise (and with no_fastpath) the general way, which finds the same
 * ring to release. */
void tcb_release_rcv_emptied(tcp_stack *s, tcb *t)
{
	tcb_act *a = t->act;
	assert(a && a->rcv.buf && !ring_len(&a->rcv));
	if (!rcv_emptied_quick(s, a))
		return tcb_release_idle_held(s, t);
	ring_to_cache(s, t, &a->rcv);
}

static __attribute__((noinline)) void release_rings_held(tcp_stack *s, tcb *t)
{
	ring_release(s, t, &t->act->snd);
	ring_release(s, t, &t->act->rcv);
}

void tcb_release_rings(tcp_stack *s, tcb *t)
{
	t->flags &= ~(uint32_t)TF_SND_WAIT;
	/* Usually no ring is left (an idle connection's went back): then
	 * no call, so no frame for the releases' calls. */
	if (t->act && (t->act->snd.buf || t->act->rcv.buf))
		release_rings_held(s, t);
}

/* ---- windows ---- */

uint32_t tcb_rcv_room(const tcb *t)
{
	uint32_t limit = t->rcvbuf;
	if (!t->act)
		return limit;
	const hsk_ring *r = &t->act->rcv;
	if (r->buf && r->cap < limit)
		limit = r->cap;
	uint32_t used = ring_len(r);
	return limit > used ? limit - used : 0;
}

/* tcb_rcv_space, in line in tcb_window_field (which asks for it only
 * when the edge is not known to stay). */
static inline __attribute__((always_inline)) uint32_t rcv_space_in(const tcp_stack *s,
								 const tcb *t)
{
	uint32_t room = tcb_rcv_room(t);
	/* Under pressure the window grows no further than the minimum buffer
	 * (Linux clamps rcv_ssthresh to 4 MSS); tcb_window_field keeps what
	 * was already offered. */
	if (s->mem_pressure && room > rcv_min(s, t))
		room = rcv_min(s, t);
	return room;
}

uint32_t tcb_rcv_space(const tcp_stack *s, const tcb *t)
{
	return rcv_space_in(s, t);
}

/* tcb_window_field when the edge may move (tcp.h's tcb_window_field_inl):
 * the space worked out, out of line so that the usual way needs no more
 * registers than its own. Here beside the room it offers, so that the two
 * inline into it. */
__attribute__((noinline)) uint16_t window_field_space(tcp_stack *s, tcb *t, uint32_t promised,
						      uint32_t step)
{
	uint32_t space = rcv_space_in(s, t);
	bool stays = space <= promised || space - promised < step;
	uint32_t field;
	if (promised && stays)
		return promised_field(t, promised);
	if (stays)
		space = 0;      /* nothing promised: the edge is RCV.NXT */
	field = space >> t->rcv_wscale;
	if (field > 65535)
		field = 65535;
	hsk_seq edge = seq_add(t->rcv_nxt, field << t->rcv_wscale);
	if (seq_gt(edge, t->rcv_adv))
		t->rcv_adv = edge;
	return (uint16_t)field;
}

/* Every segment a TCB sends asks for it. */
uint16_t tcb_window_field(tcp_stack *s, tcb *t)
{
	return tcb_window_field_inl(s, t);
}
