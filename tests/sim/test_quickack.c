/*
 * Quick-ACK mode and pingpong mode, as Linux (src/tcp/quickack.c), and PSH
 * on the last segment of each burst. The peer is played by the test, so
 * every segment and its time is exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "stack/stack.h"

enum { C = 0, S = 1, PORT = 80 };
#define A HSK_TH_ACK
#define PSH HSK_TH_PSH

static sim_peer open_peer(sim *sm, uint64_t seed)
{
	sim_init(sm, 2, NULL, seed);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	sim_peer p;
	sim_peer_accept(sm, &p, S, PORT, 1000, &syn);
	return p;
}

static void close_peer(sim *sm, sim_peer *p)
{
	(void)sm;
	sim_peer_finish(p);
}

/* The time of the last segment the host sent. */
static uint64_t last_tx_time(const sim *sm)
{
	return sm->log[sm->tx_cursor - 1].ev.t_ns;
}

/* The first data of a connection is ACKed at once, segment by segment,
 * 16 times (Linux's TCP_MAX_QUICKACKS: the window is more than 32 MSS);
 * then ACKs are delayed (40 ms) again. More than an RTO without data
 * enters quick-ACK mode again. Small segments, so that the "every second
 * full segment" rule never applies. */
static void test_quick_acks_at_start_and_after_idle(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer(&sm, 801);
	char d[100];
	memset(d, 'x', sizeof(d));
	uint32_t seq = 1;
	for (int i = 0; i < 16; i++) {
		sim_peer_send(&p, seq, 1, A | PSH, 65535, d, sizeof(d));
		seq += sizeof(d);
		expect_peer_seg(&p, A, 1, seq, 0);
		assert_int_equal(last_tx_time(&sm), sim_now(&sm));   /* at once */
		sim_run(&sm, 1 * MS);
	}
	/* The 17th waits for the delayed-ACK timer. */
	uint64_t t0 = sim_now(&sm);
	sim_peer_send(&p, seq, 1, A | PSH, 65535, d, sizeof(d));
	seq += sizeof(d);
	expect_no_tx(&sm);
	sim_run(&sm, 100 * MS);
	expect_peer_seg(&p, A, 1, seq, 0);
	assert_int_equal(last_tx_time(&sm) - t0, 40 * MS);
	assert_int_equal(sim_counter(&sm, S, "TCPDelayedACKs"), 1);
	/* Idle for more than the RTO (1 s: no RTT sample, the host has sent
	 * no data): quick ACKs again. */
	sim_run(&sm, 2 * SEC);
	sim_peer_send(&p, seq, 1, A | PSH, 65535, d, sizeof(d));
	seq += sizeof(d);
	expect_peer_seg(&p, A, 1, seq, 0);
	assert_int_equal(last_tx_time(&sm), sim_now(&sm));
	expect_no_tx(&sm);
	close_peer(&sm, &p);
}

/* Data that finds our window closed, and data we already have (the peer
 * missed our ACK), enter quick-ACK mode too (Linux's tcp_data_queue); the
 * duplicate counts DelayedACKLost. */
static void test_quick_acks_after_duplicate(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer(&sm, 802);
	hsk_stack *s = sm.st[S];
	assert_int_equal(hsk_setsockopt(s, p.sd, HSK_TCP_QUICKACK, 0), 0);
	char d[100];
	memset(d, 'y', sizeof(d));
	sim_peer_send(&p, 1, 1, A | PSH, 65535, d, sizeof(d));
	expect_no_tx(&sm);              /* delayed: TCP_QUICKACK 0 */
	sim_run(&sm, 50 * MS);
	expect_peer_seg(&p, A, 1, 101, 0);
	/* The same bytes again: ACKed at once, and quick mode is on. */
	assert_int_equal(hsk_setsockopt(s, p.sd, HSK_TCP_QUICKACK, 0), 0);
	sim_peer_send(&p, 1, 1, A | PSH, 65535, d, sizeof(d));
	expect_peer_seg(&p, A, 1, 101, 0);
	assert_int_equal(sim_counter(&sm, S, "DelayedACKLost"), 1);
	int v = -1;
	assert_int_equal(hsk_getsockopt(s, p.sd, HSK_TCP_QUICKACK, &v), 0);
	assert_int_equal(v, 1);
	sim_peer_send(&p, 101, 1, A | PSH, 65535, d, sizeof(d));
	expect_peer_seg(&p, A, 1, 201, 0);
	assert_int_equal(last_tx_time(&sm), sim_now(&sm));
	close_peer(&sm, &p);
}

/* Text at the right edge of the window we offered: the peer sends as if
 * our window were larger (it missed a change of it). The duplicate ACK
 * goes at once, and quick-ACK mode is entered so that the data after it
 * is ACKed at once too, each ACK telling the window again (Linux's
 * tcp_data_queue "out of window", e.g. a window probe). */
static void test_quick_acks_after_window_overrun(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer(&sm, 803);
	hsk_stack *s = sm.st[S];
	char d[100];
	memset(d, 'w', sizeof(d));
	uint32_t seq = 1;
	for (int i = 0; i < 16; i++) {
		sim_peer_send(&p, seq, 1, A | PSH, 65535, d, sizeof(d));
		seq += sizeof(d);
		expect_peer_seg(&p, A, 1, seq, 0);
		sim_run(&sm, 1 * MS);
	}
	/* The quick ACKs are spent: the next data waits 40 ms. */
	sim_peer_send(&p, seq, 1, A | PSH, 65535, d, sizeof(d));
	seq += sizeof(d);
	expect_no_tx(&sm);
	sim_run(&sm, 100 * MS);
	expect_peer_seg(&p, A, 1, seq, 0);
	/* 100 bytes at the right edge of the window offered. */
	tcb *t = s->socks[p.sd].t;
	uint32_t edge = t->rcv_adv.v - p.iss;
	assert_true(edge > seq);
	sim_peer_send(&p, edge, 1, A | PSH, 65535, d, sizeof(d));
	expect_peer_seg(&p, A, 1, seq, 0);
	assert_int_equal(last_tx_time(&sm), sim_now(&sm));
	sim_run(&sm, 1 * MS);
	/* In the window again: ACKed at once, twice. */
	for (int i = 0; i < 2; i++) {
		sim_peer_send(&p, seq, 1, A | PSH, 65535, d, sizeof(d));
		seq += sizeof(d);
		expect_peer_seg(&p, A, 1, seq, 0);
		assert_int_equal(last_tx_time(&sm), sim_now(&sm));
		sim_run(&sm, 1 * MS);
	}
	expect_no_tx(&sm);
	close_peer(&sm, &p);
}

/* TCP_QUICKACK 0 delays ACKs from the first data; 1 sends the ACK that
 * waits at once and ACKs at once again, as Linux. */
static void test_quickack_option(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer(&sm, 803);
	hsk_stack *s = sm.st[S];
	int v = -1;
	assert_int_equal(hsk_getsockopt(s, p.sd, HSK_TCP_QUICKACK, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(hsk_setsockopt(s, p.sd, HSK_TCP_QUICKACK, 0), 0);
	assert_int_equal(hsk_getsockopt(s, p.sd, HSK_TCP_QUICKACK, &v), 0);
	assert_int_equal(v, 0);
	sim_peer_send(&p, 1, 1, A | PSH, 65535, "abc", 3);
	expect_no_tx(&sm);
	sim_run(&sm, 10 * MS);
	expect_no_tx(&sm);
	assert_int_equal(hsk_setsockopt(s, p.sd, HSK_TCP_QUICKACK, 1), 0);
	expect_peer_seg(&p, A, 1, 4, 0);            /* the one that waited */
	sim_peer_send(&p, 4, 1, A | PSH, 65535, "def", 3);
	expect_peer_seg(&p, A, 1, 7, 0);
	/* Before connect() it is kept for the connection. */
	int sd = hsk_socket(sm.st[C]);
	assert_int_equal(hsk_setsockopt(sm.st[C], sd, HSK_TCP_QUICKACK, 0), 0);
	assert_int_equal(hsk_getsockopt(sm.st[C], sd, HSK_TCP_QUICKACK, &v), 0);
	assert_int_equal(v, 0);
	hsk_close(sm.st[C], sd);
	close_peer(&sm, &p);
}

/* TCP_QUICKACK 1 sends a waiting ACK at once only in ESTABLISHED and
 * CLOSE_WAIT (Linux's do_tcp_setsockopt: tcp_cleanup_rbuf for those two
 * states): after our FIN (FIN_WAIT_2 here) the ACK waits for its timer. */
static void test_quickack_option_after_fin(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer(&sm, 804);
	hsk_stack *s = sm.st[S];
	assert_int_equal(hsk_setsockopt(s, p.sd, HSK_TCP_QUICKACK, 0), 0);
	assert_int_equal(hsk_shutdown(s, p.sd, HSK_SHUT_WR), 0);
	expect_peer_seg(&p, A | HSK_TH_FIN, 1, 1, 0);
	sim_peer_send(&p, 1, 2, A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_state(s, p.sd), HSK_FIN_WAIT_2);
	sim_peer_send(&p, 1, 2, A | PSH, 65535, "abc", 3);
	expect_no_tx(&sm);
	assert_int_equal(hsk_setsockopt(s, p.sd, HSK_TCP_QUICKACK, 1), 0);
	expect_no_tx(&sm);
	uint64_t at = sim_now(&sm);
	sim_run(&sm, 50 * MS);
	expect_peer_seg(&p, A, 2, 4, 0);
	assert_true(last_tx_time(&sm) > at);
	close_peer(&sm, &p);
}

/* A reply within 40 ms of the request makes the connection interactive
 * (pingpong): the next request is not ACKed at once, the reply carries
 * the ACK. When no reply comes in time the delayed ACK goes and quick
 * ACKs resume. */
static void test_pingpong(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer(&sm, 804);
	hsk_stack *s = sm.st[S];
	char buf[64];
	sim_peer_send(&p, 1, 1, A | PSH, 65535, "GET1", 4);
	expect_peer_seg(&p, A, 1, 5, 0);            /* first data: at once */
	assert_int_equal(hsk_recv(s, p.sd, buf, sizeof(buf)), 4);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_send(s, p.sd, "OK1", 3), 3);
	expect_peer_seg(&p, A | PSH, 1, 5, 3);
	sim_run(&sm, 5 * MS);
	/* The second request rides on nothing: it waits for the reply. */
	sim_peer_send(&p, 5, 4, A | PSH, 65535, "GET2", 4);
	expect_no_tx(&sm);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_recv(s, p.sd, buf, sizeof(buf)), 4);
	assert_int_equal(hsk_send(s, p.sd, "OK2", 3), 3);
	expect_peer_seg(&p, A | PSH, 4, 9, 3);
	/* The third gets no reply: the delayed ACK at 40 ms ends pingpong,
	 * and the fourth is ACKed at once. */
	sim_peer_send(&p, 9, 7, A | PSH, 65535, "GET3", 4);
	uint64_t t0 = sim_now(&sm);
	sim_run(&sm, 100 * MS);
	expect_peer_seg(&p, A, 7, 13, 0);
	assert_int_equal(last_tx_time(&sm) - t0, 40 * MS);
	sim_peer_send(&p, 13, 7, A | PSH, 65535, "GET4", 4);
	expect_peer_seg(&p, A, 7, 17, 0);
	assert_int_equal(last_tx_time(&sm), sim_now(&sm));
	close_peer(&sm, &p);
}

/* Between two stacks, the receiver ACKs each segment of the first flight
 * at once: ten full segments draw ten ACKs, not five (every second full
 * segment) and no delayed ACK, as a Linux receiver does; each within a
 * millisecond (the link's delay) of the data. */
static void test_first_flight_not_delayed(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 805, PORT, &lsd, &csd, &ssd);
	int mss = 0;
	assert_int_equal(hsk_getsockopt(sm.st[C], csd, HSK_SO_MAXSEG, &mss), 0);
	static char buf[100000];
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(hsk_send(sm.st[C], csd, buf, 10 * (size_t)mss), 10 * mss);
	sim_run(&sm, 1 * MS + 1);
	uint64_t t_data = 0;
	for (int i = 0; i < 10; i++) {
		expect_seg(&sm, C, i == 9 ? A | PSH : A, 1 + (uint32_t)(i * mss), 1,
			   (uint32_t)mss);
		t_data = last_tx_time(&sm);
	}
	for (int i = 0; i < 10; i++) {
		expect_seg(&sm, S, A, 1, 1 + (uint32_t)((i + 1) * mss), 0);
		assert_int_equal(last_tx_time(&sm) - t_data, 1 * MS);
	}
	assert_int_equal(sim_counter(&sm, S, "TCPDelayedACKs"), 0);
	sim_finish_pair(&sm, C, S, lsd, csd, ssd);
}

/* PSH marks the last segment of each burst: the initial window (10
 * segments) ends the first burst of a long write, whose end is the last
 * segment of a later burst; the segments in between have none. */
static void test_psh_per_burst(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer(&sm, 806);
	hsk_stack *s = sm.st[S];
	/* The peer offers 1460; over IPv6 our 1500-byte link caps it. */
	const uint32_t mss = sim_mss(&sm);     /* 1460, or 1440 over IPv6 */
	static char data[20 * 1460];
	const size_t len = 20 * (size_t)mss;
	memset(data, 'p', len);
	assert_int_equal(hsk_send(s, p.sd, data, len), (long)len);
	uint32_t seq = 1;
	for (int i = 0; i < 10; i++, seq += mss)
		expect_peer_seg(&p, i == 9 ? A | PSH : A, seq, 1, mss);
	expect_no_tx(&sm);
	/* One ACK of everything: cwnd 20, the other ten go, the last
	 * pushed. */
	sim_run(&sm, 10 * MS);
	sim_peer_send(&p, 1, seq, A, 65535, NULL, 0);
	for (int i = 0; i < 10; i++, seq += mss)
		expect_peer_seg(&p, i == 9 ? A | PSH : A, seq, 1, mss);
	expect_no_tx(&sm);
	close_peer(&sm, &p);
}

/* With SACK, a pure duplicate is reported in a D-SACK block (RFC 2883
 * §4): the first block of the ACK it draws is exactly its range, one
 * segment or two. (Only a duplicate that ends at RCV.NXT reaches the data
 * step: one wholly below it is out of the window, answered by the
 * sequence check's rate-limited duplicate ACK.) */
static void test_dsack_is_the_duplicate(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 808);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.sack_ok = true;
	sim_peer p;
	sim_peer_accept(&sm, &p, S, PORT, 1000, &syn);
	/* A byte of ours in flight, never acknowledged: the SACK state is
	 * in use (it starts with the first data sent or out of order). */
	assert_int_equal(hsk_send(sm.st[S], p.sd, "!", 1), 1);
	expect_peer_seg(&p, A | PSH, 1, 1, 1);
	char d[200];
	memset(d, 'd', sizeof(d));
	for (uint32_t seq = 1; seq < 301; seq += 100) {
		sim_peer_send(&p, seq, 1, A | PSH, 65535, d, 100);
		sim_run(&sm, 50 * MS);          /* (delayed or not) */
		expect_peer_seg(&p, A, 2, seq + 100, 0);
		assert_int_equal(sm.log[sm.tx_cursor - 1].ev.nsack, 0);
	}
	/* 201..301 again, then 101..301. */
	for (uint32_t from = 201; from > 1; from -= 100) {
		sim_peer_send(&p, from, 1, A | PSH, 65535, d, 301 - from);
		expect_peer_seg(&p, A, 2, 301, 0);
		const hsk_trace_event *e = &sm.log[sm.tx_cursor - 1].ev;
		assert_int_equal(e->nsack, 1);
		assert_int_equal(e->sack[0].left, p.iss + from);
		assert_int_equal(e->sack[0].right, p.iss + 301);
	}
	assert_int_equal(sim_counter(&sm, S, "DelayedACKLost"), 2);
	/* Reported once: the next ACK has no block. */
	sim_peer_send(&p, 301, 1, A | PSH, 65535, d, 100);
	sim_run(&sm, 50 * MS);
	expect_peer_seg(&p, A, 2, 401, 0);
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.nsack, 0);
	close_peer(&sm, &p);
}

/* A connection (with SACK or without) that only receives: 1..301 from
 * the peer, none of ours in flight, nothing read (the receive ring holds
 * it). */
static void open_receiver_sack(sim *sm, sim_peer *p, uint64_t seed, bool ts, bool sack)
{
	sim_init(sm, 2, NULL, seed);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.sack_ok = sack;
	if (ts) {
		syn.has_ts = true;
		syn.ts_val = 1000;
	}
	sim_peer_accept(sm, p, S, PORT, 1000, &syn);
	char d[100];
	memset(d, 'r', sizeof(d));
	for (uint32_t seq = 1; seq < 301; seq += 100) {
		sim_peer_send(p, seq, 1, A | PSH, 65535, d, sizeof(d));
		sim_run(sm, 50 * MS);
		expect_peer_seg(p, A, 1, seq + 100, 0);
	}
}

static void open_receiver(sim *sm, sim_peer *p, uint64_t seed, bool ts)
{
	open_receiver_sack(sm, p, seed, ts, true);
}

/* The first SACK block of the host's last segment is [left, right)
 * (relative to the peer's ISS), or there is none (left == right). */
static void expect_dsack(const sim *sm, const sim_peer *p, uint32_t left, uint32_t right)
{
	const hsk_trace_event *e = &sm->log[sm->tx_cursor - 1].ev;
	if (left == right) {
		assert_int_equal(e->nsack, 0);
		return;
	}
	assert_int_equal(e->nsack, 1);
	assert_int_equal(e->sack[0].left, p->iss + left);
	assert_int_equal(e->sack[0].right, p->iss + right);
}

/* The duplicates Linux's tcp_send_dupack and tcp_data_queue report, on a
 * connection that only receives (its SACK state not in use until then):
 * a segment ending at RCV.NXT, one wholly below it (out of the window:
 * dropped, still reported), and one partly old (RFC 2883 §4.2: the old
 * part). The first two enter quick-ACK mode (DelayedACKLost). */
static void test_dsack_receive_only(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_receiver(&sm, &p, 809, false);
	char d[200];
	memset(d, 'r', sizeof(d));
	sim_peer_send(&p, 201, 1, A | PSH, 65535, d, 100);
	expect_peer_seg(&p, A, 1, 301, 0);
	expect_dsack(&sm, &p, 201, 301);
	sim_peer_send(&p, 1, 1, A | PSH, 65535, d, 100);
	expect_peer_seg(&p, A, 1, 301, 0);
	expect_dsack(&sm, &p, 1, 101);
	assert_int_equal(sim_counter(&sm, S, "DelayedACKLost"), 2);
	assert_int_equal(sim_counter(&sm, S, "DropOutOfWindow"), 1);
	sim_peer_send(&p, 251, 1, A | PSH, 65535, d, 150);
	expect_peer_seg(&p, A, 1, 401, 0);      /* at once: quick-ACK mode */
	expect_dsack(&sm, &p, 251, 301);
	assert_int_equal(sim_counter(&sm, S, "DelayedACKLost"), 2);
	/* Reported once; and the data all there, in order. */
	sim_peer_send(&p, 401, 1, A | PSH, 65535, d, 100);
	expect_peer_seg(&p, A, 1, 501, 0);
	expect_dsack(&sm, &p, 0, 0);
	char got[600];
	assert_int_equal(hsk_recv(sm.st[S], p.sd, got, sizeof(got)), 500);
	/* Read and quiet: the SACK state started for the report is not
	 * kept (nor the extension that holds it). */
	sim_run(&sm, 1 * SEC);
	const tcb *t = sm.st[S]->socks[p.sd].t;
	assert_true(!t->act || !t->act->sack_on);
	close_peer(&sm, &p);
}

/* A peer without SACK (RFC 2018: no SACK option unless it offered
 * SACK-Permitted): the same duplicates are ACKed at once, with no block. */
static void test_no_dsack_without_sack(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_receiver_sack(&sm, &p, 811, false, false);
	char d[200];
	memset(d, 'r', sizeof(d));
	static const uint32_t from[] = { 201, 1, 251 }, len[] = { 100, 100, 150 };
	static const uint32_t ack[] = { 301, 301, 401 };
	for (int i = 0; i < 3; i++) {
		sim_peer_send(&p, from[i], 1, A | PSH, 65535, d, len[i]);
		expect_peer_seg(&p, A, 1, ack[i], 0);
		expect_dsack(&sm, &p, 0, 0);
	}
	assert_int_equal(sim_counter(&sm, S, "DelayedACKLost"), 2);
	close_peer(&sm, &p);
}

/* With timestamps: old text whose TSval is older than TS.Recent fails
 * PAWS (RFC 7323 §5.3 R1) and is dropped; its ACK reports it too (Linux's
 * tcp_paws_discard, then tcp_send_dupack). */
static void test_dsack_paws_dropped(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_receiver(&sm, &p, 810, true);
	uint64_t paws = sim_counter(&sm, S, "PAWSEstab");
	p.tsval -= 10;                           /* an old copy */
	char d[100];
	memset(d, 'r', sizeof(d));
	sim_peer_send(&p, 101, 1, A | PSH, 65535, d, sizeof(d));
	expect_peer_seg(&p, A, 1, 301, 0);
	expect_dsack(&sm, &p, 101, 201);
	assert_int_equal(sim_counter(&sm, S, "PAWSEstab"), paws + 1);
	assert_int_equal(sim_counter(&sm, S, "DelayedACKLost"), 1);
	p.tsval += 20;
	close_peer(&sm, &p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quick_acks_at_start_and_after_idle),
		cmocka_unit_test(test_quick_acks_after_duplicate),
		cmocka_unit_test(test_quick_acks_after_window_overrun),
		cmocka_unit_test(test_quickack_option),
		cmocka_unit_test(test_quickack_option_after_fin),
		cmocka_unit_test(test_pingpong),
		cmocka_unit_test(test_first_flight_not_delayed),
		cmocka_unit_test(test_psh_per_burst),
		cmocka_unit_test(test_dsack_is_the_duplicate),
		cmocka_unit_test(test_dsack_receive_only),
		cmocka_unit_test(test_dsack_paws_dropped),
		cmocka_unit_test(test_no_dsack_without_sack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
