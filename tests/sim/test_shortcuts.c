/*
 * The speed shortcuts of the send side and the connection's lifecycle
 * (issue 7) change nothing anyone can see: the same workload, run once
 * with every shortcut and once with each forced off, gives the same
 * trace, event for event and field for field (segments, options, states,
 * congestion samples), at the same virtual times, and the same tables
 * (hsk_stack_conns of both hosts, in its order, every 20 ms of the run).
 *
 * Shortcuts and their switches (struct tcp_stack):
 *   act_eager   a quiescent connection's active extension is kept for a
 *               while (active.c); eager gives it back at once
 *   conn_long   a new TCB is copied from tcb_fresh, and a request's TCB and
 *               a TCB's TIME_WAIT entry take their place in the table with
 *               one tbl_replace; the long way zeroes and sets the TCB
 *               field by field and removes, then inserts
 *
 * The workload (tests/support/workload.c): four connections (or 80), each
 * a few rounds of a request and a response of random sizes (a few bytes to
 * 60 KB), pauses between the rounds shorter and longer than the time an
 * extension is kept, then a close by either end; over a network that
 * loses, duplicates and reorders; with SACK and timestamps on and off,
 * over IPv4 and IPv6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"
#include "stack/stack.h"
#include "sim.h"
#include "workload.h"

enum { C = 0, S = 1, PORT0 = 5000, MAX_CONN = 80 };

typedef struct knobs {
	bool act_eager, conn_long;
} knobs;

static void set_knobs(sim *sm, const knobs *k)
{
	for (int i = 0; i < sm->nhosts; i++)
	{
		sm->st[i]->tcp.act_eager = k->act_eager;
		sm->st[i]->tcp.conn_long = k->conn_long;
	}
}

/* hsk_stack_conns of both hosts, appended to snap. */
static char *snap;
static size_t snap_len, snap_cap;

static void snap_conn(void *ctx, const hsk_conn_info *ci)
{
	int host = (int)(intptr_t)ctx;
	if (snap_cap - snap_len < 256) {
		snap_cap = snap_cap ? 2 * snap_cap : 1 << 16;
		snap = realloc(snap, snap_cap);
		assert_non_null(snap);
	}
	snap_len += (size_t)snprintf(snap + snap_len, snap_cap - snap_len,
		"%d o%u s%u sd%d %08x:%u %08x:%u f%u %02x%02x q%u/%u\n", host, ci->obj,
		ci->state, ci->sd, ci->tuple.laddr, ci->tuple.lport, ci->tuple.raddr,
		ci->tuple.rport, ci->family, ci->raddr6[14], ci->raddr6[15], ci->send_q,
		ci->recv_q);
}

static void snapshot(sim *sm)
{
	for (int h = 0; h < sm->nhosts; h++)
		hsk_stack_conns(sm->st[h], snap_conn, (void *)(intptr_t)h);
}

/* The workload for `seed` with the switches `k`: its trace, then its
 * tables. */
static char *run(uint64_t seed, int nconn, const knobs *k, size_t *len)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sack = seed & 1;
	cfg.timestamps = (seed >> 1) & 1;
	cfg.syn_retries = cfg.synack_retries = cfg.orphan_retries = 15;
	sim sm;
	sim_init(&sm, 2, &cfg, seed);
	if ((seed >> 2) & 1)
		sim_use_ipv6(&sm);
	set_knobs(&sm, k);
	memnet_impair imp = {
		.loss = (seed % 3) ? 0.03 : 0, .dup = 0.01, .reorder = 0.03,
		.reorder_ns = 3 * MS, .delay_ns = 2 * MS, .jitter_ns = 1 * MS,
	};
	memnet_set_impair(sm.net, C, &imp);
	memnet_set_impair(sm.net, S, &imp);
	hsk_rng rng;
	rng_seed(&rng, seed * 7919);
	static wl_conn w[MAX_CONN];
	assert_true(nconn <= MAX_CONN);
	for (int i = 0; i < nconn; i++) {
		static const uint64_t pauses[] = { 0, 1 * MS, 10 * MS, 100 * MS };
		wl_plan(&sm, &rng, &w[i], (uint16_t)(PORT0 + i), pauses, 4);
	}
	int done = 0;
	for (int step = 0; step < 200000 && done < nconn; step++) {
		sim_run(&sm, 1 * MS);
		if (step % 20 == 0)
			snapshot(&sm);
		done = 0;
		for (int i = 0; i < nconn; i++) {
			wl_step(&sm, &w[i]);
			done += w[i].phase == 4;
		}
	}
	assert_int_equal(done, nconn);
	snapshot(&sm);
	sim_run(&sm, 130 * SEC);      /* TIME_WAIT passes */
	for (int i = 0; i < nconn; i++)
		assert_int_equal(hsk_close(sm.st[S], w[i].lsd), 0);
	sim_assert_no_leaks(&sm);
	char *out = wl_trace(&sm, len);
	sim_free(&sm);
	out = realloc(out, *len + snap_len + 1);
	assert_non_null(out);
	memcpy(out + *len, snap, snap_len);
	*len += snap_len;
	snap_len = 0;
	return out;
}

static void compare(uint64_t seed, int nconn, const knobs *slow)
{
	static const knobs fast = { 0 };
	size_t la, lb;
	char *a = run(seed, nconn, &fast, &la), *b = run(seed, nconn, slow, &lb);
	if (getenv("SHORTCUTS_DEBUG"))
		fprintf(stderr, "seed %llu: %zu bytes of trace\n", (unsigned long long)seed, la);
	wl_same(seed, a, la, "fast", b, lb, "slow");
}

/* HSK_SHORTCUT_SEEDS=N: more seeds (a longer run by hand; HSK_SEED_OFFSET
 * moves them, sim.h) */
static uint64_t seeds(void)
{
	const char *env = getenv("HSK_SHORTCUT_SEEDS");
	return env ? (uint64_t)atoll(env) : 16;
}

static void test_act_kept(void **state)
{
	(void)state;
	const knobs slow = { .act_eager = true };
	for (uint64_t i = 1, n = seeds(); i <= n; i++)
		compare(sim_env_seed_offset() + i, 4, &slow);
}

/* More connections at once than extensions are kept (64): the oldest are
 * given back as new ones go quiescent. */
static void test_act_kept_many(void **state)
{
	(void)state;
	const knobs slow = { .act_eager = true };
	for (uint64_t seed = 1; seed <= 3; seed++)
		compare(seed, MAX_CONN, &slow);
}

static void test_conn_long(void **state)
{
	(void)state;
	const knobs slow = { .conn_long = true };
	for (uint64_t i = 1, n = seeds(); i <= n; i++)
		compare(sim_env_seed_offset() + i, 4, &slow);
}

static void test_conn_long_many(void **state)
{
	(void)state;
	const knobs slow = { .conn_long = true };
	for (uint64_t seed = 1; seed <= 3; seed++)
		compare(seed, MAX_CONN, &slow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_act_kept),
		cmocka_unit_test(test_act_kept_many),
		cmocka_unit_test(test_conn_long),
		cmocka_unit_test(test_conn_long_many),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	free(snap);
	return r;
}
