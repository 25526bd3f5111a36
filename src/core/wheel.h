/*
 * A hashed, hierarchical timer wheel with intrusive timers.
 *
 * Timers carry absolute deadlines in nanoseconds and fire exactly at them:
 * wheel_next_deadline() is the exact earliest deadline, and
 * wheel_pop_expired() hands out due timers in deadline order (ties in the
 * order they were armed), so a simulation that jumps its clock to the next
 * deadline replays bit for bit. Arm, re-arm and cancel are O(1); the wheel
 * never allocates.
 *
 * Layout (wheel.c has the invariants and their proofs): the level-0 slot
 * width is tick_ns rounded down to a power of two (2^tick_shift ns), so
 * placing a timer costs a shift, not a division; the slot width only decides
 * where a timer waits, never when it fires. Level L slots are 64^L ticks
 * wide; six levels span 2^36 ticks (about 2.2 years at 1 ms). Deadlines in
 * the current tick or earlier wait in `overdue`, sorted when popped; those
 * beyond the span wait in `overflow` and are re-placed when the clock
 * crosses into their 2^36-tick block.
 *
 * Filing is deferred: wheel_arm() puts a timer on the `pending` list (O(1),
 * no placing), and a timer re-armed or cancelled while pending never
 * touches a slot. wheel_pop_expired() and wheel_next_deadline() file the
 * pending timers first, so what they answer is exactly what immediate
 * filing would answer: a connection whose timer moves several times per
 * event (or per burst of events between two looks at the wheel) pays for
 * one placing. A pending timer carries its deadline and arming order
 * already (order's top bit marks it pending).
 *
 * List heads are hsk_timer too. In a slot or overflow head, `deadline` caches
 * the least deadline in the list and `order` holds flags: the list is not
 * known to be in (deadline, order) order; the cache is stale (its timer was
 * cancelled from an unsorted list). In `overdue`, `order` is nonzero when the list is
 * not known to be sorted.
 */
#ifndef HSK_WHEEL_H
#define HSK_WHEEL_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hsk_timer {
	struct hsk_timer *next, *prev;  /* NULL prev: not armed */
	uint64_t deadline;
	uint64_t order;                 /* arming sequence, for stable ties
					 * (below 2^63; the top bit: pending) */
} hsk_timer;

enum { WHEEL_LEVELS = 6, WHEEL_SLOTS = 64 };

typedef struct hsk_wheel {
	uint64_t now;                   /* time the wheel has been advanced to */
	uint64_t next_order;
	uint64_t tick_ns;               /* level-0 slot width: a power of two */
	unsigned tick_shift;            /* log2(tick_ns) */
	size_t count;
	hsk_timer overdue;              /* list head: deadline's tick <= now's */
	hsk_timer overflow;             /* list head: beyond the wheel's span */
	hsk_timer pending;              /* list head: armed, not filed yet */
	hsk_timer fifo;                 /* list head: armed by wheel_arm_fifo,
					 * in (deadline, order) order, never
					 * filed */
	bool file_now;                  /* no deferred filing: wheel_arm()
					 * places at once (tests compare the
					 * two ways; set before arming) */
	hsk_timer slot[WHEEL_LEVELS][WHEEL_SLOTS]; /* list heads */
	uint64_t occupied[WHEEL_LEVELS];           /* bitmap of non-empty slots */
} hsk_wheel;

/* tick_ns is the level-0 slot width wanted (e.g. 1 ms); 0 counts as 1. */
void wheel_init(hsk_wheel *w, uint64_t now_ns, uint64_t tick_ns);
static inline void timer_init(hsk_timer *t) { t->next = t->prev = 0; t->deadline = 0; t->order = 0; }
static inline bool timer_armed(const hsk_timer *t) { return t->prev != 0; }
/* In a timer's `order`: armed and on `pending`, not placed yet. */
#define ORDER_PENDING (1ULL << 63)
/* In a timer's `order`: armed and on `fifo` (wheel_arm_fifo). */
#define ORDER_FIFO (1ULL << 62)
/* The timer lists (circular, doubly linked, with a sentinel head): here
 * for wheel_arm and wheel_cancel in line. */
static inline void timer_list_append(hsk_timer *h, hsk_timer *t)
{
	hsk_timer *last = h->prev;
	/* (in this order GCC stores the two links of t as two words, not
	 * packed into one vector first) */
	t->next = h;
	last->next = t;
	t->prev = last;
	h->prev = t;
}
static inline void timer_list_unlink(hsk_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = 0;
}
/* Arms (or re-arms) t for `deadline`; a deadline in the past fires at the
 * next wheel_pop_expired. A re-armed timer ranks as armed last among equal
 * deadlines. */
void wheel_arm_slow(hsk_wheel *w, hsk_timer *t, uint64_t deadline);
/* Its usual ways in line (about nine arms a connection's life): a timer
 * unarmed goes on `pending`, a pending one takes its new deadline and
 * order there. */
static inline void wheel_arm(hsk_wheel *w, hsk_timer *t, uint64_t deadline)
{
	if (w->file_now || (timer_armed(t) && !(t->order & ORDER_PENDING))) {
		wheel_arm_slow(w, t, deadline);
		return;
	}
	if (!timer_armed(t)) {
		timer_list_append(&w->pending, t);
		w->count++;
	}
	t->deadline = deadline;
	t->order = w->next_order++ | ORDER_PENDING;
}
/* Disarms t; harmless when it is not armed. In line but for a timer
 * placed in a slot or on `fifo` (wheel_cancel_placed): one not armed or
 * pending is a test or an unlink (about eight a connection's life). */
void wheel_cancel_placed(hsk_wheel *w, hsk_timer *t);
static inline void wheel_cancel(hsk_wheel *w, hsk_timer *t)
{
	if (!timer_armed(t))
		return;
	if (t->order & ORDER_PENDING) {
		timer_list_unlink(t);
		w->count--;
		return;
	}
	wheel_cancel_placed(w, t);
}
/* wheel_arm for timers whose deadlines come in the order they are armed
 * (a fixed lifetime from a clock that only moves forward: TIME_WAIT's
 * 2MSL): such a timer is appended to `fifo`, which that order keeps
 * sorted by (deadline, order), and is never filed in a slot nor moved
 * down the levels; wheel_pop_expired and wheel_next_deadline look at the
 * head of `fifo` beside the wheel's, so what they answer is what
 * wheel_arm would have made them answer. A deadline before the last on
 * `fifo` (the lifetime shortened), or file_now, takes wheel_arm. */
/* Whether wheel_arm_fifo appends a timer with this deadline to `fifo`
 * (wheel_fifo_append) rather than taking wheel_arm. */
static inline bool wheel_fifo_ok(const hsk_wheel *w, uint64_t deadline)
{
	return !w->file_now && deadline >= w->fifo.prev->deadline;
}
/* wheel_arm_fifo's usual way, for an unarmed t and a deadline
 * wheel_fifo_ok takes (asked by the caller: tw_enter, with no call). */
static inline void wheel_fifo_append(hsk_wheel *w, hsk_timer *t, uint64_t deadline)
{
	assert(!timer_armed(t) && wheel_fifo_ok(w, deadline));
	timer_list_append(&w->fifo, t);
	w->count++;
	t->deadline = deadline;
	t->order = w->next_order++ | ORDER_FIFO;
}
static inline void wheel_arm_fifo(hsk_wheel *w, hsk_timer *t, uint64_t deadline)
{
	wheel_cancel(w, t);
	if (!wheel_fifo_ok(w, deadline)) {
		wheel_arm(w, t, deadline);
		return;
	}
	wheel_fifo_append(w, t, deadline);
}
/* Removes and returns one timer with deadline <= now (earliest first, ties
 * in arming order), or NULL. The returned timer is disarmed. Advances the
 * wheel to `now` (time never goes back: an earlier `now` only limits what is
 * returned). The caller may arm and cancel timers between calls. */
hsk_timer *wheel_pop_expired(hsk_wheel *w, uint64_t now);
/* The fifo's head when due, taken (NULL otherwise), for a caller that
 * knows what wheel_fifo_pop_due tests first to hold: it took a timer so,
 * and nothing has armed, cancelled or popped a timer since. */
static inline hsk_timer *wheel_fifo_pop_next(hsk_wheel *w, uint64_t now)
{
	hsk_timer *f = w->fifo.next;
	if (f == &w->fifo || f->deadline > now)
		return 0;
	timer_list_unlink(f);
	w->count--;
	return f;
}
/* wheel_pop_expired's usual pop, NULL where it would take its general
 * way: the wheel at `now` already, nothing pending nor overdue, the
 * fifo's head due. That head is then the first due timer (wheel.c), taken
 * here with no call (and a run of TIME_WAIT entries reaped in a loop). */
static inline hsk_timer *wheel_fifo_pop_due(hsk_wheel *w, uint64_t now)
{
	if (now > w->now || w->pending.next != &w->pending || w->overdue.next != &w->overdue)
		return 0;
	return wheel_fifo_pop_next(w, now);
}
/* The earliest deadline armed, UINT64_MAX when none. It may be <= now (a
 * timer armed in the past, not popped yet). O(1) plus the filing of the
 * timers pending (it files them: the wheel is logically const), except
 * that it scans the one list holding the earliest timers when the cached
 * least deadline of that list was cancelled since the last
 * wheel_pop_expired(). */
uint64_t wheel_next_deadline(const hsk_wheel *w);
static inline size_t wheel_count(const hsk_wheel *w) { return w->count; }
/* Walks every list and checks the wheel's invariants (for tests). O(n). */
bool wheel_check(const hsk_wheel *w);

#endif
