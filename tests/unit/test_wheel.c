/* Unit tests for src/core/wheel.c: edge cases, and a randomized
 * differential test against a plain array that knows every deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/rand.h"
#include "core/wheel.h"

#define MS 1000000ULL

/* ---- edge cases ---- */

static void test_empty(void **state)
{
	(void)state;
	hsk_wheel w;
	wheel_init(&w, 0, MS);
	const hsk_wheel *cw = &w; /* next_deadline takes a const wheel */
	assert_int_equal(wheel_next_deadline(cw), UINT64_MAX);
	assert_null(wheel_pop_expired(&w, 0));
	assert_null(wheel_pop_expired(&w, UINT64_MAX / 2));
	assert_int_equal(wheel_count(&w), 0);
	assert_true(wheel_check(&w));
}

static void test_tick_rounding(void **state)
{
	(void)state;
	hsk_wheel w;
	wheel_init(&w, 0, MS);
	assert_int_equal(w.tick_ns, 1ULL << 19); /* 524288 <= 1e6 < 2^20 */
	wheel_init(&w, 0, 0);
	assert_int_equal(w.tick_ns, 1);
	wheel_init(&w, 0, UINT64_MAX);
	assert_int_equal(w.tick_ns, 1ULL << 63);
}

static void test_deadline_now_and_past(void **state)
{
	(void)state;
	hsk_wheel w;
	hsk_timer a, b, c;
	timer_init(&a);
	timer_init(&b);
	timer_init(&c);
	wheel_init(&w, 1000 * MS + 123, MS);
	wheel_arm(&w, &a, 1000 * MS + 123);   /* == now */
	assert_true(timer_armed(&a));
	assert_int_equal(wheel_next_deadline(&w), 1000 * MS + 123);
	wheel_arm(&w, &b, 5);                 /* long past */
	assert_int_equal(wheel_next_deadline(&w), 5);
	wheel_arm(&w, &c, 1000 * MS + 124);   /* 1 ns in the future, same tick */
	assert_int_equal(wheel_count(&w), 3);
	assert_true(wheel_check(&w));
	assert_ptr_equal(wheel_pop_expired(&w, 1000 * MS + 123), &b);
	assert_false(timer_armed(&b));
	assert_ptr_equal(wheel_pop_expired(&w, 1000 * MS + 123), &a);
	assert_null(wheel_pop_expired(&w, 1000 * MS + 123));
	assert_int_equal(wheel_next_deadline(&w), 1000 * MS + 124);
	assert_ptr_equal(wheel_pop_expired(&w, 1000 * MS + 124), &c);
	assert_int_equal(wheel_count(&w), 0);
	assert_int_equal(wheel_next_deadline(&w), UINT64_MAX);
}

static void test_far_future(void **state)
{
	(void)state;
	hsk_wheel w;
	hsk_timer a, b, c;
	timer_init(&a);
	timer_init(&b);
	timer_init(&c);
	wheel_init(&w, 0, MS);
	wheel_arm(&w, &a, 1ULL << 63);
	wheel_arm(&w, &b, UINT64_MAX);
	wheel_arm(&w, &c, (1ULL << 63) - 1);
	assert_int_equal(wheel_next_deadline(&w), (1ULL << 63) - 1);
	assert_true(wheel_check(&w));
	assert_null(wheel_pop_expired(&w, (1ULL << 62)));
	assert_true(wheel_check(&w));
	assert_ptr_equal(wheel_pop_expired(&w, 1ULL << 63), &c);
	assert_ptr_equal(wheel_pop_expired(&w, 1ULL << 63), &a);
	assert_null(wheel_pop_expired(&w, 1ULL << 63));
	assert_int_equal(wheel_next_deadline(&w), UINT64_MAX);
	assert_int_equal(wheel_count(&w), 1);
	assert_true(wheel_check(&w));
	assert_null(wheel_pop_expired(&w, UINT64_MAX - 1));
	assert_ptr_equal(wheel_pop_expired(&w, UINT64_MAX), &b);
	assert_int_equal(wheel_count(&w), 0);
	/* time cannot move past UINT64_MAX, and arming there still works */
	wheel_arm(&w, &a, 3);
	assert_ptr_equal(wheel_pop_expired(&w, UINT64_MAX), &a);
}

static void test_cancel_unarmed(void **state)
{
	(void)state;
	hsk_wheel w;
	hsk_timer a, b;
	timer_init(&a);
	timer_init(&b);
	wheel_init(&w, 0, MS);
	wheel_cancel(&w, &a);
	assert_int_equal(wheel_count(&w), 0);
	wheel_arm(&w, &b, 10 * MS);
	wheel_cancel(&w, &a);
	wheel_arm(&w, &a, 20 * MS);
	wheel_cancel(&w, &a);
	wheel_cancel(&w, &a);
	assert_false(timer_armed(&a));
	assert_int_equal(wheel_count(&w), 1);
	assert_int_equal(wheel_next_deadline(&w), 10 * MS);
	assert_true(wheel_check(&w));
	/* a popped timer is disarmed: cancelling it is harmless */
	assert_ptr_equal(wheel_pop_expired(&w, 10 * MS), &b);
	wheel_cancel(&w, &b);
	assert_int_equal(wheel_count(&w), 0);
}

static void test_ties_in_arming_order(void **state)
{
	(void)state;
	enum { N = 1000 };
	static hsk_timer t[N];
	hsk_wheel w;
	wheel_init(&w, 0, MS);
	/* all at one deadline, armed in a shuffled order, some re-armed */
	for (int i = 0; i < N; i++)
		timer_init(&t[i]);
	for (int i = 0; i < N; i++)
		wheel_arm(&w, &t[(i * 7) % N], 77 * MS + 5);
	/* re-arming t[0] moves it to the back among equals */
	wheel_arm(&w, &t[0], 77 * MS + 5);
	assert_null(wheel_pop_expired(&w, 77 * MS + 4));
	for (int i = 1; i < N; i++)
		assert_ptr_equal(wheel_pop_expired(&w, 80 * MS), &t[(i * 7) % N]);
	assert_ptr_equal(wheel_pop_expired(&w, 80 * MS), &t[0]);
	assert_null(wheel_pop_expired(&w, 80 * MS));
}

static void test_exact_within_slot(void **state)
{
	(void)state;
	hsk_wheel w;
	hsk_timer t[4];
	for (int i = 0; i < 4; i++)
		timer_init(&t[i]);
	wheel_init(&w, 0, MS);
	/* four deadlines in one far slot, nanoseconds apart */
	uint64_t base = 5000 * MS;
	wheel_arm(&w, &t[0], base + 30);
	wheel_arm(&w, &t[1], base + 10);
	wheel_arm(&w, &t[2], base + 20);
	wheel_arm(&w, &t[3], base + 40);
	assert_int_equal(wheel_next_deadline(&w), base + 10);
	wheel_cancel(&w, &t[1]);            /* the cached least leaves */
	assert_int_equal(wheel_next_deadline(&w), base + 20);
	assert_true(wheel_check(&w));
	assert_null(wheel_pop_expired(&w, 1)); /* refreshes the cache */
	assert_int_equal(wheel_next_deadline(&w), base + 20);
	assert_true(wheel_check(&w));
	wheel_arm(&w, &t[1], base + 15);
	assert_int_equal(wheel_next_deadline(&w), base + 15);
	/* jump exactly to each deadline in turn */
	uint64_t expect[] = { base + 15, base + 20, base + 30, base + 40 };
	hsk_timer *who[] = { &t[1], &t[2], &t[0], &t[3] };
	for (int i = 0; i < 4; i++) {
		uint64_t d = wheel_next_deadline(&w);
		assert_int_equal(d, expect[i]);
		assert_null(wheel_pop_expired(&w, d - 1));
		assert_ptr_equal(wheel_pop_expired(&w, d), who[i]);
		assert_null(wheel_pop_expired(&w, d));
	}
}

static void test_time_does_not_go_back(void **state)
{
	(void)state;
	hsk_wheel w;
	hsk_timer a, b;
	timer_init(&a);
	timer_init(&b);
	wheel_init(&w, 100 * MS, MS);
	wheel_arm(&w, &a, 150 * MS);
	wheel_arm(&w, &b, 120 * MS);
	assert_null(wheel_pop_expired(&w, 120 * MS - 1));
	assert_int_equal(w.now, 120 * MS - 1);
	assert_null(wheel_pop_expired(&w, 50 * MS));  /* earlier than now */
	assert_int_equal(w.now, 120 * MS - 1);
	assert_ptr_equal(wheel_pop_expired(&w, 130 * MS), &b);
	assert_null(wheel_pop_expired(&w, 110 * MS));
	assert_int_equal(w.now, 130 * MS);
	assert_int_equal(wheel_next_deadline(&w), 150 * MS);
	assert_ptr_equal(wheel_pop_expired(&w, 150 * MS), &a);
}

/* Every level boundary: deadlines at 64^L ticks and one tick either side,
 * from a clock just below a 2^36-tick boundary. */
static void test_level_boundaries(void **state)
{
	(void)state;
	enum { N = 3 * 8 };
	hsk_timer t[N];
	hsk_wheel w;
	uint64_t now = ((1ULL << 36) - 3) << 10;   /* tick 1024 ns */
	wheel_init(&w, now, 1024);
	int k = 0;
	for (int l = 0; l < 8; l++) {
		uint64_t span = (1ULL << (6 * l)) << 10;
		for (int d = -1; d <= 1; d++) {
			timer_init(&t[k]);
			wheel_arm(&w, &t[k], now + span + (uint64_t)(int64_t)d * 1024);
			k++;
		}
	}
	assert_true(wheel_check(&w));
	uint64_t last = 0;
	for (int i = 0; i < N; i++) {
		uint64_t d = wheel_next_deadline(&w);
		assert_true(d >= last);
		hsk_timer *x = wheel_pop_expired(&w, d);
		assert_non_null(x);
		assert_int_equal(x->deadline, d);
		assert_true(wheel_check(&w));
		last = d;
	}
	assert_int_equal(wheel_count(&w), 0);
}

/* Timers armed at a fixed interval and cancelled oldest first (a SYN queue
 * whose handshakes complete, TIME_WAIT entries recycled): the earliest
 * timer is cancelled every time and the answer stays exact. */
static void test_fifo_cancel(void **state)
{
	(void)state;
	enum { N = 5000 };
	static hsk_timer t[N];
	hsk_wheel w;
	wheel_init(&w, 0, MS);
	uint64_t now = 0;
	for (int i = 0; i < N; i++) {
		timer_init(&t[i]);
		now += 37 * 1000; /* 37 us apart */
		assert_null(wheel_pop_expired(&w, now));
		wheel_arm(&w, &t[i], now + 1000 * MS);
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(wheel_next_deadline(&w), t[i].deadline);
		wheel_cancel(&w, &t[i]);
		/* exact without a scan: the slot stays sorted */
		if (i % 500 == 0)
			assert_true(wheel_check(&w));
	}
	assert_int_equal(wheel_next_deadline(&w), UINT64_MAX);
}

/* ---- differential test ---- */

typedef struct ref_timer {
	hsk_timer t;
	bool armed;
	uint64_t deadline, seq;
} ref_timer;

typedef struct ref {
	ref_timer *tm;
	int n;
	uint64_t seq;
	uint64_t now;
} ref;

/* The earliest armed timer (by deadline, then arming), or -1. */
static int ref_min(const ref *r)
{
	int best = -1;
	for (int i = 0; i < r->n; i++) {
		const ref_timer *x = &r->tm[i];
		if (!x->armed)
			continue;
		if (best < 0 || x->deadline < r->tm[best].deadline ||
		    (x->deadline == r->tm[best].deadline && x->seq < r->tm[best].seq))
			best = i;
	}
	return best;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t pick_deadline(hsk_rng *g, const ref *r)
{
	uint64_t now = r->now;
	switch (rng_below(g, 16)) {
	case 0:
		return now;
	case 1:
		return now - rng_below(g, now < 1000000 ? now + 1 : 1000000);
	case 2:
		return rng_below(g, 3) == 0 ? (1ULL << 63) :
		       rng_below(g, 2) ? UINT64_MAX : UINT64_MAX - rng_below(g, 1ULL << 40);
	case 3: { /* tie with another timer's deadline */
		const ref_timer *x = &r->tm[rng_below(g, (uint64_t)r->n)];
		return x->armed ? x->deadline : now;
	}
	case 4:
	case 5: { /* fixed intervals, as protocol timers are: lists in order */
		static const uint64_t iv[] = { 40 * MS, 200 * MS, 1000 * MS, 60000 * MS };
		return sat_add(now, iv[rng_below(g, 4)]);
	}
	default: /* everything from nanoseconds to beyond the wheel's span */
		return sat_add(now, rng_below(g, 1ULL << rng_below(g, 52)));
	}
}

static void ref_check_pop(hsk_wheel *w, ref *r, hsk_rng *g, uint64_t now)
{
	for (;;) {
		hsk_timer *x = wheel_pop_expired(w, now);
		int m = ref_min(r);
		if (m >= 0 && r->tm[m].deadline <= now) {
			assert_ptr_equal(x, &r->tm[m].t);
			assert_false(timer_armed(x));
			r->tm[m].armed = false;
		} else {
			assert_null(x);
			break;
		}
		/* a timer callback may arm or cancel others, even in the past */
		if (rng_below(g, 4) == 0) {
			int i = (int)rng_below(g, (uint64_t)r->n);
			if (rng_below(g, 3)) {
				uint64_t d = pick_deadline(g, r);
				wheel_arm(w, &r->tm[i].t, d);
				r->tm[i].armed = true;
				r->tm[i].deadline = d;
				r->tm[i].seq = r->seq++;
			} else {
				wheel_cancel(w, &r->tm[i].t);
				r->tm[i].armed = false;
			}
		}
	}
}

static void differential(uint64_t seed, uint64_t tick_ns, uint64_t start, int ntimers, int ops)
{
	hsk_rng g;
	rng_seed(&g, seed);
	ref r = { .n = ntimers, .now = start };
	r.tm = calloc((size_t)ntimers, sizeof *r.tm);
	assert_non_null(r.tm);
	hsk_wheel *w = malloc(sizeof *w);
	assert_non_null(w);
	wheel_init(w, start, tick_ns);
	for (int i = 0; i < ntimers; i++)
		timer_init(&r.tm[i].t);

	for (int op = 0; op < ops; op++) {
		uint64_t k = rng_below(&g, 100);
		int i = (int)rng_below(&g, (uint64_t)r.n);
		if (k < 45) {                                  /* arm or re-arm */
			uint64_t d = pick_deadline(&g, &r);
			wheel_arm(w, &r.tm[i].t, d);
			r.tm[i].armed = true;
			r.tm[i].deadline = d;
			r.tm[i].seq = r.seq++;
		} else if (k < 60) {                           /* cancel */
			wheel_cancel(w, &r.tm[i].t);
			r.tm[i].armed = false;
		} else if (k < 75) {                           /* advance a bit */
			uint64_t now = sat_add(r.now, rng_below(&g, 1ULL << rng_below(&g, 44)));
			if (now > UINT64_MAX / 2 + (UINT64_MAX / 4))
				now = r.now; /* keep room to move */
			r.now = now;
			ref_check_pop(w, &r, &g, now);
		} else if (k < 95) {                           /* jump to the next deadline */
			uint64_t d = wheel_next_deadline(w);
			int m = ref_min(&r);
			assert_int_equal(d, m < 0 ? UINT64_MAX : r.tm[m].deadline);
			if (m >= 0 && d < UINT64_MAX / 2 + (UINT64_MAX / 4)) {
				if (d > r.now)
					r.now = d;
				ref_check_pop(w, &r, &g, r.now);
			}
		} else {                                       /* a stale clock */
			uint64_t then = r.now - rng_below(&g, r.now < (1ULL << 30) ? r.now + 1 : (1ULL << 30));
			ref_check_pop(w, &r, &g, then);
		}
		int m = ref_min(&r);
		assert_int_equal(wheel_next_deadline(w), m < 0 ? UINT64_MAX : r.tm[m].deadline);
		size_t armed = 0;
		for (int j = 0; j < r.n; j++)
			armed += r.tm[j].armed;
		assert_int_equal(wheel_count(w), armed);
		if (op % 1024 == 0)
			assert_true(wheel_check(w));
	}
	assert_true(wheel_check(w));
	/* drain */
	r.now = UINT64_MAX;
	for (int m; (m = ref_min(&r)) >= 0;) {
		assert_ptr_equal(wheel_pop_expired(w, UINT64_MAX), &r.tm[m].t);
		r.tm[m].armed = false;
	}
	assert_null(wheel_pop_expired(w, UINT64_MAX));
	assert_int_equal(wheel_count(w), 0);
	free(w);
	free(r.tm);
}

static void test_differential_1ms(void **state)
{
	(void)state;
	differential(1, MS, 0, 256, 100000);
}

static void test_differential_1ns(void **state)
{
	(void)state;
	/* 1 ns ticks: the span is 2^36 ns (69 s), so overflow is busy */
	differential(2, 1, 12345, 256, 100000);
}

static void test_differential_odd_start(void **state)
{
	(void)state;
	/* a clock just below a 2^36-tick boundary, 3 us ticks (2048 ns) */
	differential(3, 3000, (((1ULL << 36) - 5) << 11) + 777, 256, 100000);
	differential(4, 1000, 1ULL << 62, 64, 100000);
}

static void test_differential_crowded(void **state)
{
	(void)state;
	/* many timers per slot: the caches, the stale scans and the sort */
	differential(5, MS, 0, 4000, 30000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_tick_rounding),
		cmocka_unit_test(test_deadline_now_and_past),
		cmocka_unit_test(test_far_future),
		cmocka_unit_test(test_cancel_unarmed),
		cmocka_unit_test(test_ties_in_arming_order),
		cmocka_unit_test(test_exact_within_slot),
		cmocka_unit_test(test_time_does_not_go_back),
		cmocka_unit_test(test_level_boundaries),
		cmocka_unit_test(test_fifo_cancel),
		cmocka_unit_test(test_differential_1ms),
		cmocka_unit_test(test_differential_1ns),
		cmocka_unit_test(test_differential_odd_start),
		cmocka_unit_test(test_differential_crowded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
