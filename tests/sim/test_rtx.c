/*
 * Retransmission at the edges: a timeout resends what was lost whatever
 * Nagle and silly-window avoidance say about new data (RFC 6298 §5.4,
 * RFC 1122 §4.2.3.4); zero-window probing is bounded like Linux's
 * tcp_probe_timer (retries2, orphan_retries, the user timeout) while a
 * peer that keeps answering may keep the window closed (RFC 9293
 * §3.8.6.1).
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
#define FIN HSK_TH_FIN
#define PSH HSK_TH_PSH
#define RST HSK_TH_RST

static hsk_config no_sack(void)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sack = false;
	return cfg;
}

/* send("hello"), the first copy lost, no SACK: the timeout resends it
 * (Nagle holds back only new data) and it arrives. */
static void test_lost_small_segment_resent(void **state)
{
	(void)state;
	hsk_config cfg = no_sack();
	sim sm;
	sim_init(&sm, 2, &cfg, 300);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd, csd, ssd;
	sim_open_pair(&sm, C, S, PORT, 8, &lsd, &csd, &ssd);
	sim_lose(&sm, C, A | PSH, 1);
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_send(c, csd, "hello", 5), 5);
	sim_run(&sm, 1 * SEC);
	expect_seg(&sm, C, A | PSH, 1, 1, 5);        /* lost */
	expect_seg(&sm, C, A | PSH, 1, 1, 5);        /* the RTO: 200 ms */
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.t_ns - t0, 200 * MS);
	expect_seg(&sm, S, A, 1, 6, 0);
	expect_no_tx(&sm);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(sim_counter(&sm, C, "TCPTimeouts"), 1);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 3 * MS);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_run(&sm, 61 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Two small writes, both lost: Minshall's Nagle held the second while the
 * first was unacknowledged; the timeout resends both bytes as one segment. */
static void test_lost_small_segments_go_back_n(void **state)
{
	(void)state;
	hsk_config cfg = no_sack();
	sim sm;
	sim_init(&sm, 2, &cfg, 301);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd, csd, ssd;
	sim_open_pair(&sm, C, S, PORT, 8, &lsd, &csd, &ssd);
	sim_blackhole(&sm, C, A | PSH, true);
	assert_int_equal(hsk_send(c, csd, "ab", 2), 2);
	assert_int_equal(hsk_send(c, csd, "cd", 2), 2);   /* Nagle: waits */
	expect_seg(&sm, C, A | PSH, 1, 1, 2);
	expect_no_tx(&sm);
	sim_run(&sm, 100 * MS);
	sim_blackhole(&sm, C, A | PSH, false);
	sim_run(&sm, 1 * SEC);
	expect_seg(&sm, C, A | PSH, 1, 1, 4);
	expect_seg(&sm, S, A, 1, 5, 0);
	expect_no_tx(&sm);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(hsk_abort(c, csd), 0);
	sim_run(&sm, 3 * MS);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Sender SWS avoidance holds back new data the window cuts short; a
 * retransmission the window cuts short still goes (as Linux's
 * tcp_retransmit_skb sends what fits). The peer shrinks its window to
 * 1000 bytes while 3000 are in flight and lost. */
static void test_window_cut_retransmission_sent(void **state)
{
	(void)state;
	hsk_config cfg = no_sack();
	sim sm;
	sim_init(&sm, 2, &cfg, 302);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	sim_peer p;
	sim_peer_accept(&sm, &p, S, PORT, 5000, &syn);
	hsk_stack *s = sm.st[S];
	static char data[3000];
	memset(data, 'r', sizeof(data));
	assert_int_equal(hsk_send(s, p.sd, data, sizeof(data)), 3000);
	expect_peer_seg(&p, A, 1, 1, 1460);
	expect_peer_seg(&p, A, 1461, 1, 1460);
	expect_peer_seg(&p, A | PSH, 2921, 1, 80);
	expect_no_tx(&sm);
	/* All three lost; the peer acknowledges nothing and offers 1000. */
	sim_peer_send(&p, 1, 1, A, 1000, NULL, 0);
	expect_no_tx(&sm);
	uint64_t t0 = sim_now(&sm);
	sim_run(&sm, 300 * MS);
	expect_peer_seg(&p, A, 1, 1, 1000);             /* the RTO: 200 ms */
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.t_ns - t0, 200 * MS);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, S, "TCPTimeouts"), 1);
	/* Acknowledged: the next 1000 go (the window still cuts them short,
	 * but they too were sent once already). */
	sim_peer_send(&p, 1, 1001, A, 1000, NULL, 0);
	expect_peer_seg(&p, A, 1001, 1, 1000);
	expect_no_tx(&sm);
	assert_int_equal(hsk_abort(s, p.sd), 0);
	assert_int_equal(hsk_close(s, p.lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_small_segment_resent),
		cmocka_unit_test(test_lost_small_segments_go_back_n),
		cmocka_unit_test(test_window_cut_retransmission_sent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
