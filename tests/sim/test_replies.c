/*
 * Replies to unacceptable segments (src/tcp/reply.c): one policy in every
 * state. A flood of 1,000 bad segments draws at most one duplicate ACK
 * per invalid_ratelimit (500 ms, Linux's tcp_oow_rate_limited) and, from a
 * connection, challenge_ack_limit challenge ACKs per second (RFC 5961 §7);
 * a SYN-queue request or TIME_WAIT entry keeps one stamp, so its
 * challenge ACKs share the 500 ms limit. Segments with text are still
 * answered each time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

enum { C = 0, S = 1, PORT = 80, FLOOD = 1000 };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define FIN HSK_TH_FIN
#define PSH HSK_TH_PSH
#define RST HSK_TH_RST
#define NOHOST SIM_ADDR(7)

typedef sim_pair pair;

static void pair_open(pair *p, const hsk_config *cfg, uint64_t seed)
{
	sim_pair_open(p, cfg, seed, PORT);
}

/* A segment "from the server" into the client, seq/ack relative. */
static void to_client(pair *p, uint32_t rseq, uint32_t rack, uint8_t flags,
		      const void *data, size_t len)
{
	sim_pair_to_client(p, rseq, rack, flags, data, len);
}

/* A pair whose client answers into a blackhole (its segments are only
 * seen in the log): the log index from which they count. */
static size_t flood_open(pair *p, const hsk_config *cfg, uint64_t seed)
{
	pair_open(p, cfg, seed);
	sim_blackhole(&p->sm, C, -1, true);
	return p->sm.nlog;
}

/* TX events of `host` with exactly `flags` since log index `from`. */
static int replies(const sim *sm, int host, uint8_t flags, size_t from)
{
	int n = 0;
	for (size_t i = from; i < sm->nlog; i++)
		if (sm->log[i].ev.kind == HSK_EV_TX && sm->log[i].host == host &&
		    sm->log[i].ev.flags == flags)
			n++;
	return n;
}

static void pair_end(pair *p)
{
	sim *sm = &p->sm;
	for (int h = 0; h < 2; h++)
		sim_blackhole(sm, h, -1, false);
	hsk_abort(sm->st[C], p->csd);
	sim_run(sm, 5 * MS);
	hsk_close(sm->st[S], p->ssd);
	hsk_close(sm->st[S], p->lsd);
	sim_run(sm, 200 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* 1,000 SYNs far outside the window: each is challenged (RFC 5961 §4.2,
 * "irrespective of the sequence number"), not answered with a plain ACK:
 * 10 ACKs in the second, the rest counted. */
static void test_oow_syn_challenge_limited(void **state)
{
	(void)state;
	pair p;
	size_t mark = flood_open(&p, NULL, 500);
	sim *sm = &p.sm;
	to_client(&p, 1 + 0x40000000u, 0, SYN, NULL, 0);
	expect_seg(sm, C, A, 1, 1, 0);
	for (int i = 1; i < FLOOD; i++)
		to_client(&p, 1 + 0x40000000u + (uint32_t)i, 0, SYN, NULL, 0);
	assert_int_equal(replies(sm, C, A, mark), 10);
	assert_int_equal(sim_count_tx_since(sm, C, mark), 10);
	assert_int_equal(sim_counter(sm, C, "TCPSYNChallenge"), FLOOD);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACK"), 10);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACKLimited"), FLOOD - 10);
	assert_int_equal(sim_counter(sm, C, "TCPACKSkippedChallenge"), FLOOD - 10);
	assert_int_equal(hsk_sock_state(sm->st[C], p.csd), HSK_ESTABLISHED);
	pair_end(&p);
}

/* RFC 5961 §5.2: an ACK of data never sent, or older than SND.UNA -
 * MAX.SND.WND, is dropped and challenged, under the same budget. */
static void test_bad_ack_challenge_limited(void **state)
{
	(void)state;
	pair p;
	size_t mark = flood_open(&p, NULL, 501);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C];
	for (int i = 0; i < FLOOD; i++)
		to_client(&p, 1, 1 + 100000, A | PSH, "x", 1);   /* unsent */
	assert_int_equal(replies(sm, C, A, mark), 10);
	assert_int_equal(sim_count_tx_since(sm, C, mark), 10);
	/* Nothing was taken from them. */
	char buf[8];
	assert_int_equal(hsk_recv(c, p.csd, buf, sizeof(buf)), -HSK_EAGAIN);
	mark = sm->nlog;
	for (int i = 0; i < FLOOD; i++)
		to_client(&p, 1, 1 + 0x80000001u, A, NULL, 0);   /* too old */
	assert_int_equal(sim_count_tx_since(sm, C, mark), 0);
	assert_int_equal(sim_counter(sm, C, "DropBadAck"), 2 * FLOOD);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACK"), 10);
	/* A new window, a new budget. */
	sim_run(sm, 1 * SEC);
	mark = sm->nlog;
	for (int i = 0; i < FLOOD; i++)
		to_client(&p, 1, 1 + 0x80000001u, A, NULL, 0);
	assert_int_equal(replies(sm, C, A, mark), 10);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_ESTABLISHED);
	pair_end(&p);
}

/* 1,000 pure ACKs outside the window: one duplicate ACK per 500 ms
 * (Linux's tcp_invalid_ratelimit), not one each. */
static void test_oow_ack_rate_limited(void **state)
{
	(void)state;
	pair p;
	size_t mark = flood_open(&p, NULL, 502);
	sim *sm = &p.sm;
	for (int i = 0; i < FLOOD; i++)
		to_client(&p, 1 + 0x40000000u, 1, A, NULL, 0);
	expect_seg(sm, C, A, 1, 1, 0);
	expect_no_tx(sm);
	assert_int_equal(sim_count_tx_since(sm, C, mark), 1);
	assert_int_equal(sim_counter(sm, C, "TCPACKSkippedSeq"), FLOOD - 1);
	assert_int_equal(sim_counter(sm, C, "DropOutOfWindow"), FLOOD);
	/* 499 ms later still nothing; at 500 ms one more. */
	sim_run(sm, 499 * MS);
	to_client(&p, 1 + 0x40000000u, 1, A, NULL, 0);
	expect_no_tx(sm);
	sim_run(sm, 1 * MS);
	to_client(&p, 1 + 0x40000000u, 1, A, NULL, 0);
	expect_seg(sm, C, A, 1, 1, 0);
	expect_no_tx(sm);
	pair_end(&p);
}

/* The interval is configurable. */
static void test_oow_ack_interval_configured(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.invalid_ratelimit_ns = 50 * MS;
	pair p;
	size_t mark = flood_open(&p, &cfg, 503);
	sim *sm = &p.sm;
	for (int i = 0; i < 10; i++) {
		to_client(&p, 0, 1, A, NULL, 0);        /* just below RCV.NXT */
		to_client(&p, 0, 1, A, NULL, 0);
		sim_run(sm, 50 * MS);
	}
	assert_int_equal(sim_count_tx_since(sm, C, mark), 10);
	pair_end(&p);
}

/* Out-of-window segments with text are answered every time (they cannot
 * be part of an ACK loop, and the ACK is what stops a sender that lost
 * ours from resending): as Linux. */
static void test_oow_data_always_answered(void **state)
{
	(void)state;
	pair p;
	size_t mark = flood_open(&p, NULL, 504);
	sim *sm = &p.sm;
	for (int i = 0; i < 3; i++)
		to_client(&p, 1 - 100, 1, A | PSH, "old", 3);
	assert_int_equal(sim_count_tx_since(sm, C, mark), 3);
	assert_int_equal(sim_counter(sm, C, "TCPACKSkippedSeq"), 0);
	pair_end(&p);
}

/* A client in TIME_WAIT (it closed first). */
static uint16_t client_in_time_wait(sim *sm, int *lsd)
{
	return sim_time_wait_client(sm, PORT, lsd);
}

/* TIME_WAIT: 1,000 out-of-window ACKs draw one ACK, and 1,000 old SYNs
 * right after nothing (the entry's one stamp); 500 ms later one challenge
 * ACK for 1,000 more; data is still answered each time. */
static void test_time_wait_replies_limited(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 505);
	int lsd;
	uint16_t cport = client_in_time_wait(&sm, &lsd);
	uint32_t rcv_nxt = sim_iss(&sm, S) + 2, snd_nxt = sim_iss(&sm, C) + 2;
	sim_blackhole(&sm, C, -1, true);
	size_t mark = sm.nlog;
	for (int i = 0; i < FLOOD; i++)
		sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, rcv_nxt + 0x40000000u, snd_nxt,
			   A, 65535, NULL, 0);
	expect_seg(&sm, C, A, 2, 2, 0);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, C, "TCPACKSkippedTimeWait"), FLOOD - 1);
	mark = sm.nlog;
	for (int i = 0; i < FLOOD; i++)
		sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, rcv_nxt - 1000, 0, SYN, 65535,
			   NULL, 0);
	assert_int_equal(sim_count_tx_since(&sm, C, mark), 0);
	sim_run(&sm, 499 * MS);
	sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, rcv_nxt - 1000, 0, SYN, 65535, NULL, 0);
	assert_int_equal(sim_count_tx_since(&sm, C, mark), 0);
	sim_run(&sm, 1 * MS);
	for (int i = 0; i < FLOOD; i++)
		sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, rcv_nxt - 1000, 0, SYN, 65535,
			   NULL, 0);
	expect_seg(&sm, C, A, 2, 2, 0);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, C, "TCPChallengeACK"), 1);
	assert_int_equal(sim_counter(&sm, C, "TCPChallengeACKLimited"), 2 * FLOOD);
	assert_int_equal(sim_counter(&sm, C, "TCPSYNChallenge"), 2 * FLOOD + 1);
	mark = sm.nlog;
	for (int i = 0; i < 3; i++)
		sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, rcv_nxt, snd_nxt, A | PSH, 65535,
			   "zz", 2);
	assert_int_equal(sim_count_tx_since(&sm, C, mark), 3);
	sim_blackhole(&sm, C, -1, false);
	sim_run(&sm, 61 * SEC);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A SYN-queue request: out-of-window ACKs, repeated SYNs, in-window SYNs
 * and RSTs share one limit, as Linux's last_oow_ack_time: one reply per
 * 500 ms. */
static void test_request_replies_limited(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 506);
	int lsd = sim_listen(&sm, S, PORT, 8);
	const uint32_t irs = 7000;
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs, 0, SYN, 65535, NULL, 0);
	const sim_ev *e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, SYN | A);
	uint32_t iss = e->ev.seq;
	size_t mark = sm.nlog;
	for (int i = 0; i < FLOOD; i++)
		sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 1 + 0x40000000u, iss + 1, A,
			   65535, NULL, 0);
	e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, A);
	assert_int_equal(e->ev.seq, iss + 1);
	assert_int_equal(e->ev.ack, irs + 1);
	assert_null(sim_next_tx(&sm));
	for (int i = 0; i < FLOOD; i++)
		sim_inject(&sm, S, NOHOST, 4000, PORT, irs, 0, SYN, 65535, NULL, 0);
	assert_null(sim_next_tx(&sm));
	assert_int_equal(sim_counter(&sm, S, "TCPACKSkippedSynRecv"), 2 * FLOOD - 1);
	sim_run(&sm, 500 * MS);
	for (int i = 0; i < FLOOD; i++)
		sim_inject(&sm, S, NOHOST, 4000, PORT, irs, 0, SYN, 65535, NULL, 0);
	e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(e->ev.seq, iss);
	assert_null(sim_next_tx(&sm));
	mark = sm.nlog;
	for (int i = 0; i < FLOOD; i++) {
		sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 5, 0, SYN, 65535, NULL, 0);
		sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 5, 0, RST, 65535, NULL, 0);
	}
	assert_int_equal(sim_count_tx_since(&sm, S, mark), 0);
	/* 500 ms later (with the SYN,ACK's own timeout at 1 s). */
	sim_run(&sm, 500 * MS);
	e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_null(sim_next_tx(&sm));
	mark = sm.nlog;
	for (int i = 0; i < FLOOD; i++) {
		sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 5, 0, RST, 65535, NULL, 0);
		sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 5, 0, SYN, 65535, NULL, 0);
	}
	e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, A);
	assert_int_equal(e->ev.seq, iss + 1);
	assert_null(sim_next_tx(&sm));
	assert_int_equal(replies(&sm, S, A, mark), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPChallengeACK"), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPChallengeACKLimited"), 4 * FLOOD - 1);
	/* The request is intact: its final ACK completes it. */
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 1, iss + 1, A, 65535, NULL, 0);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(sm.st[S], ssd), HSK_ESTABLISHED);
	assert_int_equal(hsk_abort(sm.st[S], ssd), 0);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oow_syn_challenge_limited),
		cmocka_unit_test(test_bad_ack_challenge_limited),
		cmocka_unit_test(test_oow_ack_rate_limited),
		cmocka_unit_test(test_oow_ack_interval_configured),
		cmocka_unit_test(test_oow_data_always_answered),
		cmocka_unit_test(test_time_wait_replies_limited),
		cmocka_unit_test(test_request_replies_limited),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
