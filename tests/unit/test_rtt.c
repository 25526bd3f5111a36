/* RFC 6298 estimator: hand-computed values, Karn's rule, backoff, RFC 7323
 * timestamp samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcp/rtt.h"

#define MS RTT_NS_PER_MS
#define US 1000ull

/* The default parameters and an estimator without a sample. */
static void fresh(rtt_params *p, rtt_est *e)
{
	rtt_params_default(p);
	rtt_init(e, p);
}

static void test_initial_rto(void **state)
{
	rtt_params p;
	rtt_est e;

	(void)state;
	fresh(&p, &e);
	assert_false(rtt_has_sample(&e));
	assert_int_equal(rtt_rto(&e, &p), 1000 * MS);
	assert_int_equal(rtt_srtt_or(&e, 7), 7);
}

/* RFC 6298 §5.7: a SYN that timed out, and no sample: data starts with an
 * RTO of 3 s "if the implementation is using an RTO less than 3
 * seconds" -- a larger configured initial RTO is not lowered to it. */
static void test_fallback_only_raises(void **state)
{
	rtt_params p;
	rtt_est e;

	(void)state;
	fresh(&p, &e);
	rtt_fallback(&e, &p);
	assert_int_equal(rtt_rto(&e, &p), 3000 * MS);
	fresh(&p, &e);
	p.rto_initial = 5000 * MS;
	rtt_fallback(&e, &p);
	assert_int_equal(rtt_rto(&e, &p), 5000 * MS);
}

static void test_first_and_second_sample(void **state)
{
	rtt_params p;
	rtt_est e;

	(void)state;
	fresh(&p, &e);
	/* (2.2): SRTT = R, RTTVAR = R/2, RTO = SRTT + 4*RTTVAR */
	assert_true(rtt_add_sample(&e, &p, 100 * MS, false, 0));
	assert_int_equal(e.srtt, 100 * MS);
	assert_int_equal(e.rttvar, 50 * MS);
	assert_int_equal(rtt_rto(&e, &p), 300 * MS);
	/* (2.3) with R' = 200 ms: RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5,
	 * SRTT = 7/8*100 + 1/8*200 = 112.5, RTO = 112.5 + 250 = 362.5 */
	assert_true(rtt_add_sample(&e, &p, 200 * MS, false, 1));
	assert_int_equal(e.rttvar, 62500 * US);
	assert_int_equal(e.srtt, 112500 * US);
	assert_int_equal(rtt_rto(&e, &p), 362500 * US);
	/* R' = 50 ms: err = 62.5; RTTVAR = 46.875 + 15.625 = 62.5;
	 * SRTT = 98.4375 + 6.25 = 104.6875 */
	assert_true(rtt_add_sample(&e, &p, 50 * MS, false, 2));
	assert_int_equal(e.rttvar, 62500 * US);
	assert_int_equal(e.srtt, 104687500ull);
	assert_int_equal(rtt_rto(&e, &p), 104687500ull + 250 * MS);
}

static void test_min_clamp_and_granularity(void **state)
{
	rtt_params p;
	rtt_est e;
	int i;

	(void)state;
	fresh(&p, &e);
	rtt_add_sample(&e, &p, 1 * MS, false, 0);
	assert_int_equal(rtt_rto(&e, &p), 200 * MS);   /* 3 ms clamped up */

	/* Without a floor, a steady RTT drives RTTVAR to zero and G rules:
	 * RTO = SRTT + max(G, 4*RTTVAR) = 10 + 1 ms. */
	p.rto_min = 0;
	rtt_init(&e, &p);
	for (i = 0; i < 200; i++)
		rtt_add_sample(&e, &p, 10 * MS, false, (uint64_t)i);
	assert_int_equal(e.srtt, 10 * MS);
	assert_true(e.rttvar < 250 * US);
	assert_int_equal(rtt_rto(&e, &p), 11 * MS);
}

static void test_max_clamp(void **state)
{
	rtt_params p;
	rtt_est e;

	(void)state;
	fresh(&p, &e);
	rtt_add_sample(&e, &p, 100000 * MS, false, 0);
	assert_int_equal(rtt_rto(&e, &p), 120000 * MS);
	/* an initial RTO above the maximum is clamped too */
	p.rto_initial = 500000 * MS;
	rtt_init(&e, &p);
	assert_int_equal(rtt_rto(&e, &p), 120000 * MS);
}

static void test_backoff(void **state)
{
	rtt_params p;
	rtt_est e;
	int i;

	(void)state;
	fresh(&p, &e);
	rtt_backoff(&e);
	assert_int_equal(rtt_rto(&e, &p), 2000 * MS);
	rtt_backoff(&e);
	assert_int_equal(rtt_rto(&e, &p), 4000 * MS);
	for (i = 0; i < 40; i++)
		rtt_backoff(&e);
	assert_int_equal(rtt_rto(&e, &p), 120000 * MS);
	assert_int_equal(e.backoff, RTT_MAX_BACKOFF);
	/* 1,2,4,...,64 s then capped: 2^6 = 64 s < 120 s < 128 s */
	rtt_init(&e, &p);
	for (i = 0; i < 6; i++)
		rtt_backoff(&e);
	assert_int_equal(rtt_rto(&e, &p), 64000 * MS);
	rtt_backoff(&e);
	assert_int_equal(rtt_rto(&e, &p), 120000 * MS);
	rtt_backoff_reset(&e);
	assert_int_equal(rtt_rto(&e, &p), 1000 * MS);
}

static void test_karn(void **state)
{
	rtt_params p;
	rtt_est e;

	(void)state;
	fresh(&p, &e);
	rtt_add_sample(&e, &p, 100 * MS, false, 0);
	rtt_backoff(&e);
	rtt_backoff(&e);
	assert_int_equal(rtt_rto(&e, &p), 1200 * MS);
	/* an ambiguous sample changes nothing, the backoff stays */
	assert_false(rtt_add_sample(&e, &p, 900 * MS, true, 1));
	assert_int_equal(e.srtt, 100 * MS);
	assert_int_equal(rtt_rto(&e, &p), 1200 * MS);
	/* a clean sample recomputes and clears the backoff */
	assert_true(rtt_add_sample(&e, &p, 100 * MS, false, 2));
	assert_int_equal(e.backoff, 0);
	assert_int_equal(e.srtt, 100 * MS);
	/* RTTVAR = 3/4*50 + 0 = 37.5; RTO = 100 + 150 */
	assert_int_equal(rtt_rto(&e, &p), 250 * MS);
}

static void test_timestamps(void **state)
{
	rtt_params p;
	rtt_est e;
	uint64_t now = 1000 * MS + 500 * US;
	uint32_t off = 7, ecr;

	(void)state;
	fresh(&p, &e);
	assert_int_equal(rtt_tsval(&p, now, off), 1007);
	ecr = rtt_tsval(&p, 900 * MS, off);
	assert_true(rtt_ts_sample(&e, &p, now, off, ecr));
	assert_int_equal(e.srtt, 100 * MS);
	/* a timestamp sample is never ambiguous: it clears the backoff */
	rtt_backoff(&e);
	assert_true(rtt_ts_sample(&e, &p, now, off, ecr));
	assert_int_equal(e.backoff, 0);
	/* an echo from the future is ignored */
	assert_false(rtt_ts_sample(&e, &p, now, off, rtt_tsval(&p, now + 5 * MS, off)));
	/* an echo in the same tick counts as one tick */
	rtt_init(&e, &p);
	assert_true(rtt_ts_sample(&e, &p, now, off, rtt_tsval(&p, now, off)));
	assert_int_equal(e.srtt, 1 * MS);
}

static void test_timestamps_wrap(void **state)
{
	rtt_params p;
	rtt_est e;
	uint32_t off = 0xfffffff0u;   /* TSval wraps 16 ms into the run */
	uint32_t ecr;

	(void)state;
	fresh(&p, &e);
	ecr = rtt_tsval(&p, 10 * MS, off);
	assert_true(ecr > 0xfffff000u);
	assert_true(rtt_tsval(&p, 50 * MS, off) < 100);
	assert_true(rtt_ts_sample(&e, &p, 50 * MS, off, ecr));
	assert_int_equal(e.srtt, 40 * MS);
}

static void test_min_rtt_window(void **state)
{
	rtt_params p;
	rtt_est e;

	(void)state;
	fresh(&p, &e);
	rtt_add_sample(&e, &p, 30 * MS, false, 0);
	rtt_add_sample(&e, &p, 20 * MS, false, 1 * MS);
	rtt_add_sample(&e, &p, 50 * MS, false, 2 * MS);
	assert_int_equal(e.min_rtt, 20 * MS);
	/* older than the window: the next sample replaces it */
	rtt_add_sample(&e, &p, 60 * MS, false, 1 * MS + RTT_MIN_RTT_WIN_NS + 1);
	assert_int_equal(e.min_rtt, 60 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_rto),
		cmocka_unit_test(test_fallback_only_raises),
		cmocka_unit_test(test_first_and_second_sample),
		cmocka_unit_test(test_min_clamp_and_granularity),
		cmocka_unit_test(test_max_clamp),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_karn),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_timestamps_wrap),
		cmocka_unit_test(test_min_rtt_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
