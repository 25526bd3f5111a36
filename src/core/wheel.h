/*
 * A hashed, hierarchical timer wheel with intrusive timers.
 *
 * Timers carry absolute deadlines in nanoseconds and fire exactly at them:
 * wheel_next_deadline() is the exact earliest deadline, and
 * wheel_pop_expired() hands out due timers in deadline order (ties in the
 * order they were armed), so a simulation that jumps its clock to the next
 * deadline replays bit for bit. Arm, re-arm and cancel are O(1); the wheel
 * never allocates.
 */
#ifndef HSK_WHEEL_H
#define HSK_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hsk_timer {
	struct hsk_timer *next, *prev;  /* NULL prev: not armed */
	uint64_t deadline;
	uint64_t order;                 /* arming sequence, for stable ties */
} hsk_timer;

enum { WHEEL_LEVELS = 6, WHEEL_SLOTS = 64 };

typedef struct hsk_wheel {
	uint64_t now;                   /* time the wheel has been advanced to */
	uint64_t next_order;
	uint64_t tick_ns;               /* level-0 slot width */
	size_t count;
	hsk_timer overdue;              /* list head: deadline <= now */
	hsk_timer slot[WHEEL_LEVELS][WHEEL_SLOTS]; /* list heads */
	uint64_t occupied[WHEEL_LEVELS];           /* bitmap of non-empty slots */
} hsk_wheel;

void wheel_init(hsk_wheel *w, uint64_t now_ns, uint64_t tick_ns);
static inline void timer_init(hsk_timer *t) { t->next = t->prev = 0; t->deadline = 0; }
static inline bool timer_armed(const hsk_timer *t) { return t->prev != 0; }
/* Arms (or re-arms) t for `deadline`; a deadline in the past fires at the
 * next wheel_pop_expired. */
void wheel_arm(hsk_wheel *w, hsk_timer *t, uint64_t deadline);
/* Disarms t; harmless when it is not armed. */
void wheel_cancel(hsk_wheel *w, hsk_timer *t);
/* Removes and returns one timer with deadline <= now (earliest first), or
 * NULL. The returned timer is disarmed. */
hsk_timer *wheel_pop_expired(hsk_wheel *w, uint64_t now);
/* The earliest deadline armed, UINT64_MAX when none. */
uint64_t wheel_next_deadline(const hsk_wheel *w);
static inline size_t wheel_count(const hsk_wheel *w) { return w->count; }

#endif
