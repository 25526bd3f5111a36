/* The wheel's deferred filing (src/core/wheel.c: wheel_arm() puts a timer
 * on the pending list; wheel_pop_expired() and wheel_next_deadline() place
 * the pending timers first) answers exactly what placing at once answers:
 * two wheels, one with file_now, get the same random operations (bursts of
 * arms, re-arms and cancels between two looks at the wheel, deadlines
 * that tie with others, timers armed from inside the pop loop) and must
 * pop the same timers in the same order and report the same next deadline
 * and count throughout. With `fifo`, some arms are wheel_arm_fifo's (a
 * fixed lifetime, as TIME_WAIT's, or now and then any deadline): the
 * deferring wheel keeps those on its fifo, the other places them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/rand.h"
#include "core/wheel.h"

#define MS 1000000ULL

enum { N = 192 };

typedef struct pair {
	hsk_wheel a, b;          /* a defers, b files at once */
	hsk_timer ta[N], tb[N];
	uint64_t now;
	bool fifo;               /* some arms are wheel_arm_fifo's */
} pair;

static uint64_t pick_deadline(hsk_rng *g, const pair *p)
{
	switch (rng_below(g, 8)) {
	case 0:
		return p->now;
	case 1:
	case 2: { /* ties with another timer (armed or not) */
		const hsk_timer *t = &p->ta[rng_below(g, N)];
		return timer_armed(t) ? t->deadline : p->now + 40 * MS;
	}
	case 3: {
		static const uint64_t iv[] = { 40 * MS, 200 * MS, 1000 * MS, 60000 * MS };
		return p->now + iv[rng_below(g, 4)];
	}
	default:
		return p->now + rng_below(g, 1ULL << rng_below(g, 40));
	}
}

static void both_arm_or_cancel(hsk_rng *g, pair *p)
{
	int i = (int)rng_below(g, N);
	if (p->fifo && rng_below(g, 3) == 0) {
		/* mostly a fixed lifetime from now; sometimes an earlier
		 * deadline than the fifo's last (wheel_arm's way then) */
		uint64_t d = rng_below(g, 8) ? p->now + 60000 * MS : pick_deadline(g, p);
		wheel_arm_fifo(&p->a, &p->ta[i], d);
		wheel_arm_fifo(&p->b, &p->tb[i], d);
	} else if (rng_below(g, 4)) {
		uint64_t d = pick_deadline(g, p);
		wheel_arm(&p->a, &p->ta[i], d);
		wheel_arm(&p->b, &p->tb[i], d);
	} else {
		wheel_cancel(&p->a, &p->ta[i]);
		wheel_cancel(&p->b, &p->tb[i]);
	}
	assert_int_equal(timer_armed(&p->ta[i]), timer_armed(&p->tb[i]));
	assert_int_equal(wheel_count(&p->a), wheel_count(&p->b));
}

static void both_pop(hsk_rng *g, pair *p, uint64_t now)
{
	for (;;) {
		hsk_timer *x = wheel_pop_expired(&p->a, now);
		hsk_timer *y = wheel_pop_expired(&p->b, now);
		if (!x || !y) {
			assert_null(x);
			assert_null(y);
			return;
		}
		assert_int_equal(x - p->ta, y - p->tb);
		assert_false(timer_armed(x));
		/* callbacks arm and cancel, several times, before the next pop */
		for (unsigned k = (unsigned)rng_below(g, 4); k; k--)
			both_arm_or_cancel(g, p);
	}
}

static void run_with(uint64_t seed, uint64_t tick_ns, int ops, bool fifo)
{
	hsk_rng g;
	rng_seed(&g, seed);
	pair *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	p->now = 5 * MS;
	p->fifo = fifo;
	wheel_init(&p->a, p->now, tick_ns);
	wheel_init(&p->b, p->now, tick_ns);
	p->b.file_now = true;
	for (int i = 0; i < N; i++) {
		timer_init(&p->ta[i]);
		timer_init(&p->tb[i]);
	}
	for (int op = 0; op < ops; op++) {
		/* a burst: several timers move before anyone looks */
		for (unsigned k = 1 + (unsigned)rng_below(&g, 24); k; k--)
			both_arm_or_cancel(&g, p);
		switch (rng_below(&g, 3)) {
		case 0: /* look, then jump there */
			assert_int_equal(wheel_next_deadline(&p->a), wheel_next_deadline(&p->b));
			if (wheel_next_deadline(&p->a) != UINT64_MAX &&
			    wheel_next_deadline(&p->a) > p->now)
				p->now = wheel_next_deadline(&p->a);
			both_pop(&g, p, p->now);
			break;
		case 1: /* time passes without a look */
			p->now += rng_below(&g, 1ULL << rng_below(&g, 36));
			both_pop(&g, p, p->now);
			break;
		default: /* a stale clock */
			both_pop(&g, p, p->now - rng_below(&g, MS));
			break;
		}
		assert_int_equal(wheel_next_deadline(&p->a), wheel_next_deadline(&p->b));
		if (op % 256 == 0) {
			assert_true(wheel_check(&p->a));
			assert_true(wheel_check(&p->b));
		}
	}
	/* everything left, in the same order */
	both_pop(&g, p, UINT64_MAX);
	assert_int_equal(wheel_count(&p->a), 0);
	assert_true(wheel_check(&p->a));
	free(p);
}

static void run(uint64_t seed, uint64_t tick_ns, int ops)
{
	run_with(seed, tick_ns, ops, false);
}

static void test_defer_1ms(void **state)
{
	(void)state;
	run(1, MS, 20000);
}

static void test_defer_1ns(void **state)
{
	(void)state;
	run(2, 1, 20000);
}

static void test_fifo_1ms(void **state)
{
	(void)state;
	run_with(3, MS, 20000, true);
}

static void test_fifo_1ns(void **state)
{
	(void)state;
	run_with(4, 1, 20000, true);
}

/* The fifo's timers take their turn among the wheel's by (deadline,
 * order): a tie goes to the one armed first, whichever list holds it; a
 * deadline before the fifo's last goes to the wheel; a fifo timer
 * re-armed with wheel_arm or cancelled leaves the fifo. */
static void test_fifo_order(void **state)
{
	(void)state;
	hsk_wheel w;
	hsk_timer a, b, c, d, e;
	wheel_init(&w, 0, MS);
	timer_init(&a);
	timer_init(&b);
	timer_init(&c);
	timer_init(&d);
	timer_init(&e);
	wheel_arm(&w, &a, 60000 * MS);
	wheel_arm_fifo(&w, &b, 60000 * MS);    /* ties with a, armed after */
	wheel_arm_fifo(&w, &c, 60000 * MS);
	wheel_arm(&w, &d, 60000 * MS);         /* after c */
	wheel_arm_fifo(&w, &e, 100 * MS);      /* before c: the wheel's */
	assert_ptr_equal(w.fifo.next, &b);
	assert_ptr_equal(w.fifo.prev, &c);
	assert_int_equal(wheel_count(&w), 5);
	assert_true(wheel_check(&w));
	assert_int_equal(wheel_next_deadline(&w), 100 * MS);
	assert_null(wheel_pop_expired(&w, 99 * MS));
	assert_ptr_equal(wheel_pop_expired(&w, 100 * MS), &e);
	assert_int_equal(wheel_next_deadline(&w), 60000 * MS);
	assert_null(wheel_pop_expired(&w, 60000 * MS - 1));
	wheel_arm(&w, &b, 60000 * MS);         /* off the fifo, after d */
	wheel_cancel(&w, &c);
	assert_false(timer_armed(&c));
	assert_true(wheel_check(&w));
	wheel_arm_fifo(&w, &c, 60000 * MS);    /* back, last */
	wheel_arm(&w, &e, 60000 * MS);         /* the wheel's, after c */
	assert_true(wheel_check(&w));
	assert_ptr_equal(wheel_pop_expired(&w, 60000 * MS), &a);
	assert_ptr_equal(wheel_pop_expired(&w, 60000 * MS), &d);
	assert_ptr_equal(wheel_pop_expired(&w, 60000 * MS), &b);
	assert_ptr_equal(wheel_pop_expired(&w, 60000 * MS), &c);
	assert_ptr_equal(wheel_pop_expired(&w, 60000 * MS), &e);
	assert_null(wheel_pop_expired(&w, UINT64_MAX));
	assert_int_equal(wheel_count(&w), 0);
	assert_int_equal(wheel_next_deadline(&w), UINT64_MAX);
	/* alone, without the wheel's overdue list */
	wheel_arm_fifo(&w, &a, 70000 * MS);
	assert_int_equal(wheel_next_deadline(&w), 70000 * MS);
	assert_null(wheel_pop_expired(&w, 70000 * MS - 1));
	assert_ptr_equal(wheel_pop_expired(&w, 70000 * MS), &a);
	assert_true(wheel_check(&w));
}

/* A timer re-armed while pending ranks by its last arming: armed after
 * another at the same deadline, it fires after it. */
static void test_rearm_pending_ranks_last(void **state)
{
	(void)state;
	hsk_wheel w;
	hsk_timer a, b, c;
	wheel_init(&w, 0, MS);
	timer_init(&a);
	timer_init(&b);
	timer_init(&c);
	wheel_arm(&w, &a, 40 * MS);
	wheel_arm(&w, &c, 200 * MS);
	wheel_arm(&w, &b, 200 * MS);
	wheel_arm(&w, &a, 200 * MS);   /* still pending: re-armed, now last */
	wheel_cancel(&w, &c);          /* cancelled while pending ... */
	assert_false(timer_armed(&c));
	wheel_arm(&w, &c, 200 * MS);   /* ... and armed again: after a */
	assert_int_equal(wheel_count(&w), 3);
	assert_true(wheel_check(&w));
	assert_int_equal(wheel_next_deadline(&w), 200 * MS);
	assert_ptr_equal(wheel_pop_expired(&w, 200 * MS), &b);
	assert_ptr_equal(wheel_pop_expired(&w, 200 * MS), &a);
	assert_ptr_equal(wheel_pop_expired(&w, 200 * MS), &c);
	assert_null(wheel_pop_expired(&w, 200 * MS));
	assert_true(wheel_check(&w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defer_1ms),
		cmocka_unit_test(test_defer_1ns),
		cmocka_unit_test(test_rearm_pending_ranks_last),
		cmocka_unit_test(test_fifo_1ms),
		cmocka_unit_test(test_fifo_1ns),
		cmocka_unit_test(test_fifo_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
