/*
 * Pacing's arithmetic (src/tcp/pace.c), as Linux's tcp_update_pacing_rate
 * and tcp_update_skb_after_send: the rate is twice the window per SRTT in
 * slow start (cwnd under half of ssthresh), 1.2 times after, the data in
 * flight counting when it is more than cwnd, capped by the option; no
 * RTT sample yet paces by the cap alone. Each segment moves the next
 * departure len / rate on, from now when the sender was idle, a late
 * driver credited up to a millisecond and half the gap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/pace.h"
#include "tcp/tcp.h"

#define MS 1000000ull

static hsk_env env;
static tcp_stack st;
static tcb t;
static tcb_act a;

static void conn(uint32_t cwnd, uint32_t ssthresh, uint64_t srtt, uint32_t cap)
{
	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	st.env = &env;
	t.act = &a;
	t.rtt.srtt = srtt;
	a.cc.cwnd = cwnd;
	a.cc.ssthresh = ssthresh;
	a.pace_cap = cap;
	t.snd_una = t.snd_nxt = seq_of(1000);
}

static void test_rate(void **state)
{
	(void)state;
	/* slow start: 2 x 100,000 bytes per 10 ms */
	conn(100000, 1u << 30, 10 * MS, PACE_UNCAPPED);
	assert_int_equal(pace_rate(&t), 20000000);
	/* congestion avoidance (cwnd at half ssthresh or more): 1.2 x */
	conn(100000, 200000, 10 * MS, PACE_UNCAPPED);
	assert_int_equal(pace_rate(&t), 12000000);
	conn(100000, 200002, 10 * MS, PACE_UNCAPPED);
	assert_int_equal(pace_rate(&t), 20000000);
	/* more in flight than cwnd (after a reduction): the flight */
	conn(100000, 200000, 10 * MS, PACE_UNCAPPED);
	t.snd_nxt = seq_of(1000 + 150000);
	assert_int_equal(pace_rate(&t), 18000000);
	/* the cap */
	conn(100000, 200000, 10 * MS, 5000000);
	assert_int_equal(pace_rate(&t), 5000000);
	conn(100000, 200000, 10 * MS, 20000000);
	assert_int_equal(pace_rate(&t), 12000000);
	/* no sample yet: the cap alone, or nothing to pace by */
	conn(100000, 200000, 0, 5000);
	assert_int_equal(pace_rate(&t), 5000);
	conn(100000, 200000, 0, PACE_UNCAPPED);
	assert_true(pace_rate(&t) == UINT64_MAX);
	/* a huge window over a tiny RTT does not overflow */
	conn(1u << 30, 1u << 30, 1, PACE_UNCAPPED);
	assert_true(pace_rate(&t) > (1ull << 40));
}

static void test_departures(void **state)
{
	(void)state;
	/* 1,000,000 bytes/s: 1,000 bytes take 1 ms */
	conn(100000, 200000, 0, 1000000);
	env.now = 50 * MS;
	a.pace_next = 0;
	assert_false(pace_hold(&st, &t));
	/* idle long before: from now, credited 1 ms at most */
	pace_sent(&st, &t, 4000);
	assert_int_equal(a.pace_next, 50 * MS + 3 * MS);
	/* due later: held, and the timer told */
	env.now = 52 * MS;
	assert_true(pace_hold(&st, &t));
	assert_int_equal(a.pace_wait_at, 53 * MS);
	/* on time: the next from the last departure */
	env.now = 53 * MS;
	assert_false(pace_hold(&st, &t));
	assert_int_equal(a.pace_wait_at, 0);
	pace_sent(&st, &t, 2000);
	assert_int_equal(a.pace_next, 55 * MS);
	/* 0.4 ms late: credited */
	env.now = 55 * MS + 400000;
	pace_sent(&st, &t, 2000);
	assert_int_equal(a.pace_next, 55 * MS + 400000 + 2 * MS - 400000);
	/* late by more than half a small gap: half the gap credited */
	env.now = 60 * MS;
	pace_sent(&st, &t, 500);
	assert_int_equal(a.pace_next, 60 * MS + 250000);
	/* nothing to pace by: the departure stays */
	conn(100000, 200000, 0, PACE_UNCAPPED);
	a.pace_next = 7;
	pace_sent(&st, &t, 4000);
	assert_int_equal(a.pace_next, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_departures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
