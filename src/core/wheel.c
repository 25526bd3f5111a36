/*
 * The timer wheel. Ticks are deadlines shifted right by tick_shift; c is the
 * tick of w->now, d the tick of a timer's deadline, digit_L(x) = bits
 * 6L..6L+5 of x, and B_L(x) = x with its low 6L bits cleared.
 *
 * Placement (locate()): a timer goes to
 *   - `overdue`            when d <= c;
 *   - slot[L][digit_L(d)]  when d > c and the highest bit in which d and c
 *                          differ is in level L's six bits (L < 6);
 *   - `overflow`           when that bit is above bit 35.
 *
 * Invariant P: every armed timer sits where locate(c, d) puts it, for the
 * current c. Arm and cancel keep P trivially; advance() restores it (below).
 * Because of P, cancel can find a timer's list head from its deadline alone.
 *
 * Order. A timer at level L agrees with c above level L and has
 * digit_L(d) > digit_L(c) (it differs there and d > c), so it lies in
 *     R_L = [B_{L+1}(c) + (digit_L(c)+1) 64^L,  B_{L+1}(c) + 64^(L+1)),
 * and within R_L, slot s covers [B_{L+1}(c) + s 64^L, + 64^L). Since
 * B_L(c) = B_{L+1}(c) + digit_L(c) 64^L, the upper end of R_{L-1} (that is
 * B_L(c) + 64^L) is exactly the lower end of R_L. Overflow ticks are
 * >= B_6(c) + 64^6, above R_5; overdue ticks are <= c, below R_0. So:
 *     overdue < level 0 < level 1 < ... < level 5 < overflow,
 * and inside a level, slot s < slot s' when s < s'. Timers in different
 * ticks have deadlines in the same order (the shift is monotonic). Hence
 * the earliest deadline is in the first non-empty list of that sequence,
 * and inside a level that is the lowest set bit of occupied[L] (every bit
 * set is above digit_L(c), so no rotation is needed). Only that one list is
 * looked at: its head caches its least deadline. The cache is exact after
 * any arm; after a cancel of the timer holding it, it is exact again at once
 * when the list is in deadline order (the new first timer holds it) and
 * stale otherwise: then wheel_next_deadline() scans that one list until the
 * next wheel_pop_expired() refreshes the cache (or sorts the list when it is
 * nearly sorted, so that later cancels are O(1) again). A list that stays
 * unsorted and whose earliest timer is cancelled again and again (jittered
 * intervals, round robin) therefore costs one scan of the first list per
 * wheel_next_deadline(): that list is one slot, 64^L ticks wide.
 *
 * Advance from c to n > c. Take a timer at level L (it agrees with c above
 * level L; c < d). If n also agrees with c above level L, then c <= n and
 * d lie in one aligned block of 64^(L+1) ticks, and locate(n, d) is
 *   - level L, same slot, when digit_L(d) > digit_L(n): nothing to do;
 *   - lower, or overdue, when digit_L(d) <= digit_L(n): re-place it.
 * If n does not agree with c above level L, n is past that block, so d < n
 * and the timer is overdue: re-place it. Re-placing never puts a timer at
 * level L or above (it agrees with n down to level L, or it is overdue), so
 * levels are processed from 0 upward and each timer moves down, never back
 * up: at most once per level, O(1) amortised (plus one look per 2^36-tick
 * block the clock crosses while it waits in overflow). Once n agrees with c
 * above level L, it agrees above every higher level too and digit_K(n) =
 * digit_K(c) for K > L: nothing above L moves and the loop stops. Overflow
 * timers (d above B_6(c) + 64^6) are re-placed only when n leaves c's
 * 2^36-tick block.
 *
 * Pending. wheel_arm() does not place: it sets the deadline and the order
 * and appends the timer to `pending` (re-arming a pending timer only
 * rewrites the two; cancelling one unlinks it). Every pending timer is
 * placed (flush()) before anything reads the lists: at the start of
 * wheel_pop_expired() (after advance(), so it lands where it belongs at
 * the new tick) and of wheel_next_deadline(). P is about filed timers;
 * pending ones wait outside the levels, so advance() need not look at
 * them. What the wheel answers depends only on the (deadline, order) keys
 * of the timers armed, never on when or in which order they were placed
 * (within a slot, placement order only decides the sorted flag and the
 * cache, and `overdue` is sorted by key before it is popped), so deferred
 * placing answers exactly what immediate placing would.
 *
 * Pop order. Timers reach `overdue` in nondecreasing tick order (levels and
 * slots are emptied in order, and everything already there has tick <= c <
 * anything arriving), but unsorted within a tick, and wheel_arm() may add a
 * past deadline anywhere. Appending notes whether the list is still sorted
 * by (deadline, order); pop sorts it only when it is not (a natural merge
 * sort: O(k) on sorted runs, O(k log k) at worst for the k timers due).
 * A slot list known to be sorted whose last timer is due (so all of it)
 * is appended whole (overdue_splice): the list and flag each timer's
 * appending would leave, without moving them one by one (a slot of
 * TIME_WAIT timers reaped at once).
 *
 * Fifo. wheel_arm_fifo() appends a timer whose deadline is not before the
 * last one's there to `fifo`; the orders only grow, so `fifo` is sorted by
 * (deadline, order) and its head is its earliest. Nothing there is ever
 * placed or moved (TIME_WAIT's entries, all of the same 2MSL, wait there:
 * no filing at level 2, no cascade). The earliest armed timer is the
 * earlier of fifo's head and the wheel's; and when fifo's head is due
 * (deadline <= now, the wheel advanced to now) every timer of the wheel
 * before it has a tick <= now's, so is in `overdue`: pop compares the two
 * heads alone.
 */
#include "core/wheel.h"

#define LVL_BITS 6
#define LOC_OVERDUE (-1)
#define LOC_OVERFLOW WHEEL_LEVELS

/* Flags in a list head's `order`. */
#define WH_UNSORTED 1u  /* a timer was appended before the tail (by
			 * deadline, then order) */
#define WH_STALE 2u     /* the cached least deadline left (implies UNSORTED) */

/* (ORDER_PENDING, in a timer's `order`: armed and on `pending`, not
 * placed yet; wheel.h, for wheel_arm in line.) */

_Static_assert(WHEEL_SLOTS == 1 << LVL_BITS, "a level is 6 bits of ticks");
_Static_assert(WHEEL_SLOTS == 64, "occupied[] is one 64-bit word per level");

/* ---- circular doubly linked lists with a sentinel head ---- */

static inline void list_init(hsk_timer *h)
{
	h->next = h->prev = h;
	h->deadline = UINT64_MAX;
	h->order = 0;
}

static inline bool list_empty(const hsk_timer *h) { return h->next == h; }

/* The least deadline of a non-empty list, by scanning it. */
static uint64_t list_min(const hsk_timer *h)
{
	uint64_t m = UINT64_MAX;
	for (const hsk_timer *t = h->next; t != h; t = t->next)
		if (t->deadline < m)
			m = t->deadline;
	return m;
}

/* (deadline, order) comparison: order is unique, so this is total. */
static inline bool timer_before(const hsk_timer *a, const hsk_timer *b)
{
	return a->deadline < b->deadline ||
	       (a->deadline == b->deadline && a->order < b->order);
}

/* ---- placement ---- */

static inline uint64_t wheel_tick(const hsk_wheel *w, uint64_t ns)
{
	return ns >> w->tick_shift;
}

/* LOC_OVERDUE, LOC_OVERFLOW, or the level (and *slot) for tick d at tick c. */
static inline int wheel_locate(uint64_t c, uint64_t d, unsigned *slot)
{
	if (d <= c)
		return LOC_OVERDUE;
	unsigned hb = 63u - (unsigned)__builtin_clzll(d ^ c);
	unsigned lvl = hb / LVL_BITS;
	if (lvl >= WHEEL_LEVELS)
		return LOC_OVERFLOW;
	*slot = (unsigned)(d >> (lvl * LVL_BITS)) & (WHEEL_SLOTS - 1);
	return (int)lvl;
}

/* Appends to a slot or overflow list. The head caches the least deadline
 * and notes whether the list is still in (deadline, order) order: timers
 * armed at a fixed interval from a clock that only moves forward
 * (TIME_WAIT, SYN-ACK and most retransmission timers) arrive in order, in
 * a sorted list the least deadline after a cancel is simply the first,
 * and a sorted slot whose timers all fall due goes to `overdue` whole
 * (overdue_splice). A deadline at or below the cache is the new least
 * even when the cache is stale (a stale cache is a lower bound of what
 * remains). */
static inline void mlist_add(hsk_timer *h, hsk_timer *t)
{
	if (list_empty(h)) {
		h->deadline = t->deadline;
		h->order = 0;
	} else {
		uint64_t flags = h->order;
		if (timer_before(t, h->prev))
			flags |= WH_UNSORTED;
		if (t->deadline <= h->deadline) {
			h->deadline = t->deadline;
			flags &= ~WH_STALE;
		}
		h->order = flags;
	}
	timer_list_append(h, t);
}

static inline void overdue_add(hsk_wheel *w, hsk_timer *t)
{
	hsk_timer *h = &w->overdue;
	if (list_empty(h))
		h->order = 0;
	else if (timer_before(t, h->prev))
		h->order = WH_UNSORTED;
	timer_list_append(h, t);
}

/* Moves the whole of a non-empty slot list h, sorted by (deadline, order),
 * to the end of `overdue`: exactly what overdue_add of each timer in turn
 * would leave (the same list, the same flag: inside h no timer is before
 * its predecessor, so only the first can set it), in O(1). h is left
 * empty. */
static inline void overdue_splice(hsk_wheel *w, hsk_timer *h)
{
	hsk_timer *o = &w->overdue;
	if (list_empty(o))
		o->order = 0;
	else if (timer_before(h->next, o->prev))
		o->order = WH_UNSORTED;
	h->next->prev = o->prev;
	o->prev->next = h->next;
	h->prev->next = o;
	o->prev = h->prev;
	h->next = h->prev = h;
}

/* Files t where locate(c, tick(deadline)) puts it; c is the wheel's tick. */
static inline __attribute__((always_inline)) void place_at(hsk_wheel *w, hsk_timer *t, uint64_t c)
{
	unsigned s = 0;
	int lvl = wheel_locate(c, wheel_tick(w, t->deadline), &s);
	if (lvl == LOC_OVERDUE) {
		overdue_add(w, t);
		return;
	}
	hsk_timer *h = &w->overflow;
	if (lvl != LOC_OVERFLOW) {
		w->occupied[lvl] |= 1ULL << s;
		h = &w->slot[lvl][s];
	}
	mlist_add(h, t);
}

/* place_at out of line, for flush() and the cascade (wheel_advance). */
static void place_moved(hsk_wheel *w, hsk_timer *t, uint64_t c)
{
	place_at(w, t, c);
}


/* ---- the API ---- */

void wheel_init(hsk_wheel *w, uint64_t now_ns, uint64_t tick_ns)
{
	if (tick_ns == 0)
		tick_ns = 1;
	w->now = now_ns;
	w->next_order = 0;
	w->tick_shift = 63u - (unsigned)__builtin_clzll(tick_ns);
	w->tick_ns = 1ULL << w->tick_shift;
	w->count = 0;
	w->file_now = false;
	list_init(&w->overdue);
	list_init(&w->overflow);
	list_init(&w->pending);
	list_init(&w->fifo);
	w->fifo.deadline = 0;   /* wheel_arm_fifo: no deadline is before an
				 * empty fifo's last */
	for (int l = 0; l < WHEEL_LEVELS; l++) {
		w->occupied[l] = 0;
		for (int s = 0; s < WHEEL_SLOTS; s++)
			list_init(&w->slot[l][s]);
	}
}

/* Unlinks an armed t; c is the wheel's tick. */
static inline __attribute__((always_inline)) void unlink_at(hsk_wheel *w, hsk_timer *t, uint64_t c)
{
	unsigned s = 0;
	int lvl = wheel_locate(c, wheel_tick(w, t->deadline), &s);
	timer_list_unlink(t);
	w->count--;
	if (lvl == LOC_OVERDUE)
		return; /* removing an element keeps a sorted list sorted */
	hsk_timer *h = lvl == LOC_OVERFLOW ? &w->overflow : &w->slot[lvl][s];
	if (list_empty(h)) {
		if (lvl != LOC_OVERFLOW)
			w->occupied[lvl] &= ~(1ULL << s);
	} else if (t->deadline == h->deadline) {
		/* the cached least deadline left: in a sorted list the first
		 * timer holds the next one; otherwise the cache is stale */
		if (h->order & WH_UNSORTED)
			h->order |= WH_STALE;
		else
			h->deadline = h->next->deadline;
	}
}

/* (and a timer on `fifo`: a test here rather than in every in-line
 * wheel_cancel) */
void wheel_cancel_placed(hsk_wheel *w, hsk_timer *t)
{
	if (t->order & ORDER_FIFO) {
		timer_list_unlink(t);
		w->count--;
		return;
	}
	unlink_at(w, t, wheel_tick(w, w->now));
}

/* The rarer ways of wheel_arm (wheel.h): placed at once (file_now), or
 * a placed timer taken out to the pending list. */
void wheel_arm_slow(hsk_wheel *w, hsk_timer *t, uint64_t deadline)
{
	if (w->file_now) {
		wheel_cancel(w, t);
		t->deadline = deadline;
		t->order = w->next_order++;
		place_moved(w, t, wheel_tick(w, w->now));
		w->count++;
		return;
	}
	if (t->order & ORDER_FIFO) {
		timer_list_unlink(t);
		w->count--;
	} else {
		unlink_at(w, t, wheel_tick(w, w->now));
	}
	timer_list_append(&w->pending, t);
	w->count++;
	t->deadline = deadline;
	t->order = w->next_order++ | ORDER_PENDING;
}


/* Places every pending timer at the wheel's current tick. (Out of line,
 * as wheel_advance and refresh_first are: wheel_pop_expired's usual call,
 * a timer due or none, then needs no stack frame.) */
static __attribute__((noinline)) void flush(hsk_wheel *w)
{
	uint64_t c = wheel_tick(w, w->now);
	hsk_timer *h = &w->pending, *t = h->next;
	list_init(h);
	while (t != h) {
		hsk_timer *next = t->next;
		t->order &= ~ORDER_PENDING;
		place_moved(w, t, c);
		t = next;
	}
}

/* Moves the wheel from tick c to tick n = tick(now), restoring P. */
static __attribute__((noinline)) void wheel_advance(hsk_wheel *w, uint64_t now)
{
	uint64_t c = wheel_tick(w, w->now), n = wheel_tick(w, now);
	w->now = now;
	if (n == c)
		return;
	for (unsigned lvl = 0; lvl < WHEEL_LEVELS; lvl++) {
		unsigned sh = lvl * LVL_BITS;
		bool same_block = ((c ^ n) >> (sh + LVL_BITS)) == 0;
		uint64_t occ = w->occupied[lvl];
		if (same_block) {
			/* slots up to and including digit_L(n); for digit 63 the
			 * shift gives 0 and the mask all ones */
			unsigned dn = (unsigned)(n >> sh) & (WHEEL_SLOTS - 1);
			occ &= (2ULL << dn) - 1;
		}
		w->occupied[lvl] &= ~occ;
		while (occ) {
			unsigned s = (unsigned)__builtin_ctzll(occ);
			occ &= occ - 1;
			hsk_timer *h = &w->slot[lvl][s];
			if (!(h->order & WH_UNSORTED) && wheel_tick(w, h->prev->deadline) <= n) {
				/* sorted, and its last timer is due: all of it
				 * goes to overdue, as place_moved would put each */
				overdue_splice(w, h);
			} else {
				while (!list_empty(h)) {
					hsk_timer *t = h->next;
					timer_list_unlink(t);
					place_moved(w, t, n); /* lands below lvl: never h */
				}
			}
			h->order = 0;
		}
		if (same_block)
			return;
	}
	/* n left c's 2^36-tick block: overflow timers may come within reach.
	 * Detach the list first, since some go straight back. */
	if (!list_empty(&w->overflow)) {
		hsk_timer tmp;
		tmp.next = w->overflow.next;
		tmp.prev = w->overflow.prev;
		tmp.next->prev = &tmp;
		tmp.prev->next = &tmp;
		list_init(&w->overflow);
		while (!list_empty(&tmp)) {
			hsk_timer *t = tmp.next;
			timer_list_unlink(t);
			place_moved(w, t, n);
		}
	}
}

/* Natural merge sort of a list by (deadline, order). */
static hsk_timer *merge_runs(hsk_timer *a, hsk_timer *b)
{
	hsk_timer head, *tail = &head;
	while (a && b) {
		if (timer_before(b, a)) {
			tail->next = b;
			b = b->next;
		} else {
			tail->next = a;
			a = a->next;
		}
		tail = tail->next;
	}
	tail->next = a ? a : b;
	return head.next;
}

static void list_sort(hsk_timer *h)
{
	hsk_timer *bins[64] = { 0 }; /* bins[i]: 2^i runs merged, or NULL */
	hsk_timer *p = h->next;
	h->prev->next = 0; /* NULL-terminated chain through next */
	while (p) {
		hsk_timer *run = p;
		while (p->next && !timer_before(p->next, p))
			p = p->next;
		hsk_timer *rest = p->next;
		p->next = 0;
		p = rest;
		int i = 0;
		for (; bins[i]; i++) {
			run = merge_runs(bins[i], run);
			bins[i] = 0;
		}
		bins[i] = run;
	}
	hsk_timer *all = 0;
	for (int i = 0; i < 64; i++)
		if (bins[i])
			all = merge_runs(bins[i], all);
	/* relink prev pointers and the sentinel */
	hsk_timer *prev = h;
	for (hsk_timer *t = all; t; t = t->next) {
		prev->next = t;
		t->prev = prev;
		prev = t;
	}
	prev->next = h;
	h->prev = prev;
	h->order = 0;
	h->deadline = h->next->deadline;
}

/* The first non-empty list after `overdue` (the one holding the earliest
 * deadline when `overdue` is empty), or NULL. */
static inline const hsk_timer *wheel_first_list(const hsk_wheel *w)
{
	for (int l = 0; l < WHEEL_LEVELS; l++)
		if (w->occupied[l])
			return &w->slot[l][__builtin_ctzll(w->occupied[l])];
	return list_empty(&w->overflow) ? 0 : &w->overflow;
}

/* Nothing due: refresh a stale cache where wheel_next_deadline() will
 * look, so that it answers without scanning. A list made of a few sorted
 * runs (in order but for a few timers) is sorted instead, which costs
 * about as much and makes later cancels of its first timers O(1) again. */
static __attribute__((noinline)) void refresh_first(hsk_wheel *w)
{
	hsk_timer *f = (hsk_timer *)wheel_first_list(w);
	if (f && (f->order & WH_STALE)) {
		uint64_t m = UINT64_MAX;
		unsigned runs = 1;
		for (const hsk_timer *t = f->next; t != f; t = t->next) {
			if (t->deadline < m)
				m = t->deadline;
			runs += t->next != f && t->next->deadline < t->deadline;
		}
		if (runs <= 4) {
			list_sort(f);
		} else {
			f->deadline = m;
			f->order &= ~WH_STALE;
		}
	}
}

/* (deadline, order) comparison of f, on `fifo`, with t, on `overdue`. */
static inline bool fifo_before(const hsk_timer *f, const hsk_timer *t)
{
	return f->deadline < t->deadline ||
	       (f->deadline == t->deadline && (f->order & ~ORDER_FIFO) < t->order);
}

/* The head of `fifo` competes with the head of `overdue` alone: when it
 * is due, every timer before it is due too, so filed in `overdue` (a
 * timer in a slot has a tick above the wheel's, so a deadline above
 * `now`); when it is not, a due head of `overdue` is before it. */
static __attribute__((noinline)) hsk_timer *pop_general(hsk_wheel *w, uint64_t now)
{
	if (now > w->now)
		wheel_advance(w, now);
	if (!list_empty(&w->pending))
		flush(w);
	hsk_timer *h = &w->overdue, *f = w->fifo.next;
	if (!list_empty(h)) {
		if (h->order)
			list_sort(h);
		hsk_timer *t = h->next;
		if (f != &w->fifo && fifo_before(f, t))
			t = f;
		if (t->deadline <= now) {
			timer_list_unlink(t);
			w->count--;
			return t;
		}
		return 0;
	}
	if (f != &w->fifo && f->deadline <= now) {
		timer_list_unlink(f);
		w->count--;
		return f;
	}
	refresh_first(w);
	return 0;
}

/* pop_general's usual pop (the TIME_WAIT entries' reaping, wheel.h's
 * wheel_fifo_pop_due) is taken with no call, so no frame (pop_general's
 * calls need one). */
hsk_timer *wheel_pop_expired(hsk_wheel *w, uint64_t now)
{
	hsk_timer *f = wheel_fifo_pop_due(w, now);
	return f ? f : pop_general(w, now);
}

uint64_t wheel_next_deadline(const hsk_wheel *w)
{
	/* Filing changes no answer (the wheel is logically const); the
	 * wheel itself is never a const object (it lives in a stack). */
	if (!list_empty(&w->pending))
		flush((hsk_wheel *)w);
	uint64_t f = list_empty(&w->fifo) ? UINT64_MAX : w->fifo.next->deadline, d;
	const hsk_timer *h = &w->overdue;
	if (!list_empty(h))
		d = h->order ? list_min(h) : h->next->deadline;
	else if ((h = wheel_first_list(w)) != NULL)
		d = (h->order & WH_STALE) ? list_min(h) : h->deadline;
	else
		d = UINT64_MAX;
	return f < d ? f : d;
}

bool wheel_check(const hsk_wheel *w)
{
	uint64_t c = wheel_tick(w, w->now);
	size_t n = 0;
	const hsk_timer *h = &w->pending;
	for (const hsk_timer *t = h->next; t != h; t = t->next, n++)
		if (t->next->prev != t || !t->prev || !(t->order & ORDER_PENDING))
			return false;
	h = &w->fifo;
	for (const hsk_timer *t = h->next; t != h; t = t->next, n++)
		if (t->next->prev != t || !t->prev || (t->order & ORDER_PENDING) ||
		    !(t->order & ORDER_FIFO) || (t->next != h && timer_before(t->next, t)))
			return false;
	h = &w->overdue;
	for (const hsk_timer *t = h->next; t != h; t = t->next, n++) {
		unsigned s;
		if (t->next->prev != t || !t->prev || (t->order & (ORDER_PENDING | ORDER_FIFO)) ||
		    wheel_locate(c, wheel_tick(w, t->deadline), &s) != LOC_OVERDUE)
			return false;
		if (!h->order && t->next != h && timer_before(t->next, t))
			return false;
	}
	for (int l = 0; l <= WHEEL_LEVELS; l++) {
		for (int s = 0; s < (l == WHEEL_LEVELS ? 1 : WHEEL_SLOTS); s++) {
			h = l == WHEEL_LEVELS ? &w->overflow : &w->slot[l][s];
			if (l < WHEEL_LEVELS &&
			    !list_empty(h) != !!(w->occupied[l] & (1ULL << s)))
				return false;
			for (const hsk_timer *t = h->next; t != h; t = t->next, n++) {
				unsigned ts = 0;
				int tl = wheel_locate(c, wheel_tick(w, t->deadline), &ts);
				if (t->next->prev != t || !t->prev || tl != l ||
				    (t->order & (ORDER_PENDING | ORDER_FIFO)) ||
				    (l < WHEEL_LEVELS && (int)ts != s))
					return false;
			}
			if (list_empty(h))
				continue;
			if (!(h->order & WH_STALE) && h->deadline != list_min(h))
				return false;
			if ((h->order & WH_STALE) && !(h->order & WH_UNSORTED))
				return false;
			for (const hsk_timer *t = h->next; !(h->order & WH_UNSORTED) &&
			     t->next != h; t = t->next)
				if (timer_before(t->next, t))
					return false;
		}
	}
	return n == w->count;
}
