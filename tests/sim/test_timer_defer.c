/*
 * The timer wheel's deferred filing (src/core/wheel.c: wheel_arm() puts a
 * timer on a pending list, placed when the wheel is next read) changes
 * nothing anyone can see: the same workload, run once as the stack runs
 * and once with hsk_wheel.file_now on both hosts (every arm placed at
 * once, as before), gives the same trace, event for event and field for
 * field (segments, options, states, congestion samples, at the same
 * virtual times), the same counters on both hosts and the same bytes.
 *
 * The workload (tests/support/workload.c): connections opened at
 * the same instant (their timers tie, and ties go in arming order), each
 * a few rounds of a request and a response of random sizes with pauses,
 * some with keepalive on in the pauses, long enough for its probes, then a
 * close by either end; over a network that loses (up to 20 %),
 * duplicates and reorders; with SACK and timestamps on and off, over
 * IPv4 and IPv6. Each application step makes several calls, so that
 * timers move several times between two looks at the wheel.
 *
 * HSK_DEFER_SEEDS=<n> runs more seeds, HSK_SEED_OFFSET=<k> other ones (sim.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"
#include "stack/stack.h"
#include "sim.h"
#include "workload.h"

enum { C = 0, S = 1, PORT0 = 5000, MAX_CONN = 24 };


static void set_file_now(sim *sm, bool on)
{
	for (int i = 0; i < sm->nhosts; i++)
		sm->st[i]->env.wheel.file_now = on;
}

/* The workload for `seed`, filing at once or not: its trace, then one
 * line per counter of each host and the bytes moved. */
static char *run(uint64_t seed, int nconn, bool file_now, size_t *len)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sack = seed & 1;
	cfg.timestamps = (seed >> 1) & 1;
	cfg.syn_retries = cfg.synack_retries = cfg.orphan_retries = 15;
	cfg.keepalive_idle_ns = 300 * MS;
	cfg.keepalive_intvl_ns = 70 * MS;
	cfg.keepalive_probes = 9;
	sim sm;
	sim_init(&sm, 2, &cfg, seed);
	if ((seed >> 2) & 1)
		sim_use_ipv6(&sm);
	set_file_now(&sm, file_now);
	static const double losses[] = { 0, 0.03, 0.1, 0.2 };
	memnet_impair imp = {
		.loss = losses[seed % 4], .dup = 0.01, .reorder = 0.03,
		.reorder_ns = 3 * MS, .delay_ns = 2 * MS,
		/* without jitter the connections move in step: more ties */
		.jitter_ns = (seed % 5) && nconn < MAX_CONN ? 1 * MS : 0,
	};
	memnet_set_impair(sm.net, C, &imp);
	memnet_set_impair(sm.net, S, &imp);
	hsk_rng rng;
	rng_seed(&rng, seed * 7919);
	static wl_conn w[MAX_CONN];
	assert_true(nconn <= MAX_CONN);
	for (int i = 0; i < nconn; i++) {
		static const uint64_t pauses[] = { 0, 1 * MS, 30 * MS, 100 * MS, 500 * MS };
		wl_plan(&sm, &rng, &w[i], (uint16_t)(PORT0 + i), pauses, 5);
		w[i].keepalive = rng_below(&rng, 3) == 0;
	}
	int done = 0;
	for (int step = 0; step < 400000 && done < nconn; step++) {
		sim_run(&sm, 1 * MS);
		done = 0;
		for (int i = 0; i < nconn; i++) {
			/* twice: more events between two looks at the wheel */
			wl_step(&sm, &w[i]);
			wl_step(&sm, &w[i]);
			done += w[i].phase == 4;
		}
	}
	assert_int_equal(done, nconn);
	sim_run(&sm, 130 * SEC);      /* TIME_WAIT passes */
	for (int i = 0; i < nconn; i++)
		assert_int_equal(hsk_close(sm.st[S], w[i].lsd), 0);
	sim_assert_no_leaks(&sm);
	size_t n;
	char *out = wl_trace(&sm, &n);
	size_t cap = n + 64 * (2 * hsk_counter_count() + MAX_CONN + 1);
	out = realloc(out, cap);
	assert_non_null(out);
	for (size_t i = 0; i < hsk_counter_count(); i++)
		n += (size_t)snprintf(out + n, cap - n, "counter %zu %llu %llu\n", i,
				      (unsigned long long)hsk_counter_get(sm.st[C], i),
				      (unsigned long long)hsk_counter_get(sm.st[S], i));
	for (int i = 0; i < nconn; i++)
		n += (size_t)snprintf(out + n, cap - n, "conn %d rounds %d\n", i, w[i].round);
	assert_true(n < cap);
	*len = n;
	sim_free(&sm);
	return out;
}

static void compare(uint64_t seed, int nconn)
{
	size_t la, lb;
	char *a = run(seed, nconn, false, &la), *b = run(seed, nconn, true, &lb);
	wl_same(seed, a, la, "deferred", b, lb, "at once");
}

static void test_deferred_equals_at_once(void **state)
{
	(void)state;
	const char *env = getenv("HSK_DEFER_SEEDS");
	uint64_t n = env ? (uint64_t)atoll(env) : 12;
	for (uint64_t i = 1; i <= n; i++)
		compare(sim_env_seed_offset() + i, 6);
}

/* Many connections opened at one instant: their timers tie. */
static void test_deferred_equals_at_once_crowd(void **state)
{
	(void)state;
	for (uint64_t seed = 102; seed <= 103; seed++)
		compare(seed, MAX_CONN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deferred_equals_at_once),
		cmocka_unit_test(test_deferred_equals_at_once_crowd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
