/*
 * Timers of the opening: SYN retransmission with exponential backoff
 * (RFC 6298 §5.5, 1 s initial RTO) until syn_retries, then ETIMEDOUT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

enum { C = 0, S = 1, PORT = 80 };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define PSH HSK_TH_PSH

/* Connects to `to` (an address), checks SYNs at 0, 1, 3, 7, ... s and the
 * failure one more timeout after the last. */
static void syn_timeout(sim *sm, uint32_t to, unsigned retries)
{
	hsk_stack *c = sm->st[C];
	uint64_t t0 = sim_now(sm);
	int sd = hsk_socket(c);
	assert_int_equal(hsk_connect(c, sd, to, PORT), -HSK_EINPROGRESS);
	const sim_ev *e = sim_next_tx(sm);
	assert_int_equal(e->ev.flags, SYN);
	uint32_t iss = e->ev.seq;
	uint64_t at = t0, rto = 1 * SEC;
	for (unsigned i = 1; i <= retries; i++) {
		at += rto;
		rto *= 2;
		sim_run(sm, at - 1 - sim_now(sm));
		assert_null(sim_next_tx(sm));
		sim_run(sm, 1);
		e = sim_next_tx(sm);
		assert_non_null(e);
		assert_int_equal(e->host, C);
		assert_int_equal(e->ev.flags, SYN);
		assert_int_equal(e->ev.seq, iss);    /* the same ISS each time */
		assert_int_equal(e->ev.t_ns, at);
		assert_int_equal(e->ev.mss, 1460);
		assert_int_equal(hsk_sock_state(c, sd), HSK_SYN_SENT);
		assert_int_equal(sim_counter(sm, C, "TCPSynRetrans"), i);
	}
	at += rto;
	sim_run(sm, at - 1 - sim_now(sm));
	assert_int_equal(hsk_sock_state(c, sd), HSK_SYN_SENT);
	assert_false(hsk_poll(c, sd) & HSK_POLLERR);
	sim_run(sm, 1);
	assert_null(sim_next_tx(sm));
	assert_int_equal(hsk_sock_state(c, sd), HSK_CLOSED);
	int ev = hsk_poll(c, sd);
	assert_true(ev & HSK_POLLERR);
	assert_false(ev & HSK_POLLOUT);
	assert_int_equal(hsk_sock_error(c, sd), HSK_ETIMEDOUT);
	assert_int_equal(sim_counter(sm, C, "AttemptFails"), 1);
	assert_int_equal(sim_counter(sm, C, "ActiveOpens"), 1);
	expect_state(sm, C, HSK_CLOSED, HSK_SYN_SENT);
	expect_state(sm, C, HSK_SYN_SENT, HSK_CLOSED);
	assert_int_equal(sm->log[sm->st_cursor[C] - 1].ev.t_ns, at);
	assert_int_equal(hsk_close(c, sd), 0);
}

/* Nobody owns the address: 6 retries at 1, 3, 7, 15, 31, 63 s, ETIMEDOUT
 * at 127 s. */
static void test_syn_retransmission_default(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 100);
	uint64_t t0 = sim_now(&sm);
	syn_timeout(&sm, SIM_ADDR(7), 6);
	assert_int_equal(sim_now(&sm) - t0, 127 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A server whose answers are all lost: same schedule; the server's
 * requests come and go without leaking. */
static void test_syn_retransmission_synacks_lost(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 101);
	int lsd = sim_listen(&sm, S, PORT, 8);
	sim_blackhole(&sm, S, SYN | A, true);
	hsk_stack *c = sm.st[C];
	uint64_t t0 = sim_now(&sm);
	int sd = hsk_socket(c);
	assert_int_equal(hsk_connect(c, sd, SIM_ADDR(S), PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 127 * SEC + 1 * MS);
	assert_int_equal(sim_count_tx(&sm, C, SYN), 7);
	assert_int_equal(hsk_sock_error(c, sd), HSK_ETIMEDOUT);
	uint64_t expect[7] = { 0, 1, 3, 7, 15, 31, 63 };
	int k = 0;
	for (size_t i = 0; i < sm.nlog; i++)
		if (sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_TX)
			assert_int_equal(sm.log[i].ev.t_ns, t0 + expect[k++] * SEC);
	expect_state(&sm, C, HSK_CLOSED, HSK_SYN_SENT);
	expect_state(&sm, C, HSK_SYN_SENT, HSK_CLOSED);
	assert_int_equal(sm.log[sm.st_cursor[C] - 1].ev.t_ns, t0 + 127 * SEC);
	assert_int_equal(hsk_close(c, sd), 0);
	/* The server's request is still retransmitting into the void. */
	sim_run(&sm, 100 * SEC);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* syn_retries = 2: SYNs at 0, 1, 3 s; ETIMEDOUT at 7 s. */
static void test_syn_retries_configured(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.syn_retries = 2;
	sim sm;
	sim_init(&sm, 2, &cfg, 102);
	uint64_t t0 = sim_now(&sm);
	syn_timeout(&sm, SIM_ADDR(7), 2);
	assert_int_equal(sim_now(&sm) - t0, 7 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* rto_initial configured: 250 ms, 500 ms, ... */
static void test_syn_rto_initial_configured(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.syn_retries = 3;
	cfg.rto_initial_ns = 250 * MS;
	sim sm;
	sim_init(&sm, 2, &cfg, 103);
	hsk_stack *c = sm.st[C];
	uint64_t t0 = sim_now(&sm);
	int sd = hsk_socket(c);
	assert_int_equal(hsk_connect(c, sd, SIM_ADDR(7), PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * SEC);
	uint64_t expect[4] = { 0, 250, 750, 1750 };
	int k = 0;
	for (size_t i = 0; i < sm.nlog; i++)
		if (sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_TX)
			assert_int_equal(sm.log[i].ev.t_ns, t0 + expect[k++] * MS);
	assert_int_equal(k, 4);
	expect_state(&sm, C, HSK_CLOSED, HSK_SYN_SENT);
	expect_state(&sm, C, HSK_SYN_SENT, HSK_CLOSED);
	assert_int_equal(sm.log[sm.st_cursor[C] - 1].ev.t_ns, t0 + 3750 * MS);
	assert_int_equal(hsk_sock_error(c, sd), HSK_ETIMEDOUT);
	assert_int_equal(hsk_close(c, sd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* The SYN is lost once: the retransmission at 1 s opens the connection;
 * the RTT is not sampled from the ambiguous SYN (Karn), so the data
 * transfer starts with an RTO of 3 s (RFC 6298 §5.7, as Linux). */
static void test_lost_syn_recovered(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 104);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	sim_lose(&sm, C, SYN, 1);
	uint64_t t0 = sim_now(&sm);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 1 * SEC + 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);        /* lost */
	expect_seg(&sm, C, SYN, 0, 0, 0);
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.t_ns, t0 + 1 * SEC);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	expect_seg(&sm, C, A, 1, 1, 0);
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	int ssd = sim_accept(&sm, S, lsd);
	/* Data lost once: retransmitted 3 s later. */
	sim_lose(&sm, C, A | PSH, 1);
	uint64_t t1 = sim_now(&sm);
	assert_int_equal(hsk_send(c, csd, "data", 4), 4);
	sim_run(&sm, 4 * SEC);
	expect_seg(&sm, C, A | PSH, 1, 1, 4);    /* lost */
	expect_seg(&sm, C, A | PSH, 1, 1, 4);
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.t_ns, t1 + 3 * SEC);
	expect_seg(&sm, S, A, 1, 5, 0);
	expect_no_tx(&sm);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 4);
	/* Without a lost SYN, the same loss is repaired after the RTO of
	 * the SYN's sample (the floor, 200 ms): see test_fin_retransmission. */
	sim_finish_pair_graceful(&sm, C, S, lsd, csd, ssd, 3 * MS);
}

/* Times (relative to t0, ms) of the TX events of `host` with `flags`. */
static int tx_times(const sim *sm, int host, uint8_t flags, uint64_t t0, uint64_t *out,
		    int max)
{
	int n = 0;
	for (size_t i = 0; i < sm->nlog && n < max; i++)
		if (sm->log[i].host == host && sm->log[i].ev.kind == HSK_EV_TX &&
		    sm->log[i].ev.flags == flags)
			out[n++] = (sm->log[i].ev.t_ns - t0) / MS;
	return n;
}

/* An orphan whose FIN is never acknowledged: orphan_retries (8)
 * retransmissions with backoff from the 200 ms RTO, then it is dropped. */
static void test_orphan_fin_retries(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 105, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	sim_blackhole(&sm, S, -1, true);
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 200 * SEC);
	uint64_t at[16];
	int n = tx_times(&sm, C, HSK_TH_FIN | A, t0, at, 16);
	uint64_t want[9] = { 0, 200, 600, 1400, 3000, 6200, 12600, 25400, 51000 };
	assert_int_equal(n, 9);
	for (int i = 0; i < 9; i++)
		assert_int_equal(at[i], want[i]);
	const sim_ev *last = NULL;
	for (size_t i = 0; i < sm.nlog; i++)
		if (sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_STATE)
			last = &sm.log[i];
	assert_int_equal(last->ev.from, HSK_FIN_WAIT_1);
	assert_int_equal(last->ev.to, HSK_CLOSED);
	assert_int_equal(last->ev.t_ns - t0, 102200 * MS);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnTimeout"), 1);
	hsk_usage u;
	hsk_stack_usage(c, &u);
	assert_int_equal(u.tcbs, 0);
	sim_blackhole(&sm, S, -1, false);
	assert_int_equal(hsk_abort(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Data never acknowledged: retries2 (15) retransmissions, the RTO doubling
 * from 200 ms up to rto_max (120 s): ETIMEDOUT after 924.6 s, as Linux. */
static void test_data_retries2(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 106, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	sim_blackhole(&sm, S, -1, true);
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_send(c, csd, "ping", 4), 4);
	sim_run(&sm, 924 * SEC);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	sim_run(&sm, 600 * MS - 1);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	sim_run(&sm, 1);
	assert_int_equal(hsk_sock_state(c, csd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(c, csd), HSK_ETIMEDOUT);
	uint64_t at[20];
	int n = tx_times(&sm, C, A | PSH, t0, at, 20);
	assert_int_equal(n, 16);
	assert_int_equal(at[1], 200);
	assert_int_equal(at[10], 204600);
	assert_int_equal(at[15], 804600);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnTimeout"), 1);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_blackhole(&sm, S, -1, false);
	assert_int_equal(hsk_abort(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* orphan_retries and retries2 are configurable. */
static void test_retry_limits_configured(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.orphan_retries = 2;
	cfg.retries2 = 3;
	sim sm;
	sim_init(&sm, 2, &cfg, 107);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd, c1, s1, c2, s2;
	sim_open_pair(&sm, C, S, PORT, 8, &lsd, &c1, &s1);
	int c2sd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	c2 = c2sd;
	s2 = sim_accept(&sm, S, lsd);
	sim_blackhole(&sm, S, -1, true);
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_close(c, c1), 0);          /* an orphan's FIN */
	assert_int_equal(hsk_send(c, c2, "data", 4), 4); /* a socket's data */
	sim_run(&sm, 10 * SEC);
	/* Orphan: FIN at 0, 0.2, 0.6 s; gone at 1.4 s. Data: at 0, 0.2, 0.6,
	 * 1.4 s; ETIMEDOUT at 3.0 s. */
	uint64_t at[8];
	int n = tx_times(&sm, C, HSK_TH_FIN | A, t0, at, 8);
	assert_int_equal(n, 3);
	assert_int_equal(at[2], 600);
	n = tx_times(&sm, C, A | PSH, t0, at, 8);
	assert_int_equal(n, 4);
	assert_int_equal(at[3], 1400);
	assert_int_equal(hsk_sock_error(c, c2), HSK_ETIMEDOUT);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnTimeout"), 2);
	const sim_ev *end1 = NULL, *end2 = NULL;
	for (size_t i = 0; i < sm.nlog; i++) {
		const sim_ev *e = &sm.log[i];
		if (e->host != C || e->ev.kind != HSK_EV_STATE || e->ev.to != HSK_CLOSED)
			continue;
		if (e->ev.from == HSK_FIN_WAIT_1)
			end1 = e;
		else if (e->ev.from == HSK_ESTABLISHED)
			end2 = e;
	}
	assert_non_null(end1);
	assert_non_null(end2);
	assert_int_equal(end1->ev.t_ns - t0, 1400 * MS);
	assert_int_equal(end2->ev.t_ns - t0, 3000 * MS);
	assert_int_equal(hsk_close(c, c2), 0);
	sim_blackhole(&sm, S, -1, false);
	assert_int_equal(hsk_abort(s, s1), 0);
	assert_int_equal(hsk_abort(s, s2), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_run(&sm, 1 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* The SYN-ACK's backoff stops at rto_max (3 s here), as every other
 * timeout's: SYN-ACKs at 0, 1, 3, 6, 9, 12 s (synack_retries 5), the
 * request gone one timeout (3 s) later. With TCP_DEFER_ACCEPT (15 s: 4
 * timeouts) the quiet timeouts after the bare ACK keep the cap: the
 * SYN-ACKs of the deferral's end at 9 and 12 s, the request gone at 15. */
static void test_synack_rto_capped(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.rto_max_ns = 3 * SEC;
	sim sm;
	sim_init(&sm, 2, &cfg, 108);
	hsk_stack *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int dsd = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, dsd, HSK_TCP_DEFER_ACCEPT, 15), 0);
	assert_int_equal(sim_bind_any(&sm, S, dsd, PORT + 1), 0);
	assert_int_equal(hsk_listen(s, dsd, 8), 0);
	uint64_t t0 = sim_now(&sm);
	sim_inject(&sm, S, SIM_ADDR(7), 4000, PORT, 1000, 0, SYN, 65535, NULL, 0);
	sim_inject(&sm, S, SIM_ADDR(7), 4001, PORT + 1, 2000, 0, SYN, 65535, NULL, 0);
	uint32_t iss = 0;
	for (size_t i = 0; i < sm.nlog; i++)
		if (sm.log[i].host == S && sm.log[i].ev.kind == HSK_EV_TX &&
		    sm.log[i].ev.tuple.lport == PORT + 1)
			iss = sm.log[i].ev.seq;
	sim_inject(&sm, S, SIM_ADDR(7), 4001, PORT + 1, 2001, iss + 1, A, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPDeferAcceptDrop"), 1);
	sim_run(&sm, 15 * SEC - 1);
	hsk_usage u;
	hsk_stack_usage(s, &u);
	assert_int_equal(u.requests, 2);
	sim_run(&sm, 1);
	hsk_stack_usage(s, &u);
	assert_int_equal(u.requests, 0);
	uint64_t plain[8], deferred[8];
	int np = 0, nd = 0;
	for (size_t i = 0; i < sm.nlog; i++) {
		const sim_ev *e = &sm.log[i];
		if (e->host != S || e->ev.kind != HSK_EV_TX || e->ev.flags != (SYN | A))
			continue;
		if (e->ev.tuple.lport == PORT && np < 8)
			plain[np++] = (e->ev.t_ns - t0) / MS;
		else if (e->ev.tuple.lport == PORT + 1 && nd < 8)
			deferred[nd++] = (e->ev.t_ns - t0) / MS;
	}
	static const uint64_t want_plain[6] = { 0, 1000, 3000, 6000, 9000, 12000 };
	static const uint64_t want_deferred[3] = { 0, 9000, 12000 };
	assert_int_equal(np, 6);
	assert_memory_equal(plain, want_plain, sizeof(want_plain));
	assert_int_equal(nd, 3);
	assert_memory_equal(deferred, want_deferred, sizeof(want_deferred));
	assert_int_equal(hsk_close(s, lsd), 0);
	assert_int_equal(hsk_close(s, dsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_retransmission_default),
		cmocka_unit_test(test_syn_retransmission_synacks_lost),
		cmocka_unit_test(test_syn_retries_configured),
		cmocka_unit_test(test_syn_rto_initial_configured),
		cmocka_unit_test(test_synack_rto_capped),
		cmocka_unit_test(test_lost_syn_recovered),
		cmocka_unit_test(test_orphan_fin_retries),
		cmocka_unit_test(test_data_retries2),
		cmocka_unit_test(test_retry_limits_configured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
