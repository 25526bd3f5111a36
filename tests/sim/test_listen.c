/*
 * The listener: SYN-ACK retransmission and the half-open lifetime, the
 * accept queue and SYN queue overflow rules of listen.c's header comment.
 */
#include <limits.h>
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
#define NOHOST SIM_ADDR(7)

/* The next TX event, with absolute numbers and its time. */
#define expect_abs(sm, host, flags, seq, ack, len, t) \
	expect_abs_(sm, host, flags, seq, ack, len, t, __LINE__)
static void expect_abs_(sim *sm, int host, uint8_t flags, uint32_t seq, uint32_t ack,
			uint32_t len, uint64_t t, int line)
{
	const sim_ev *e = sim_next_tx(sm);
	if (!e) {
		fprintf(stderr, "line %d: no segment\n", line);
		fail();
	}
	if (e->host != host || e->ev.flags != flags || e->ev.seq != seq ||
	    e->ev.ack != ack || e->ev.len != len || (t && e->ev.t_ns != t)) {
		fprintf(stderr, "line %d: expected h%d %02x %u %u %u at %.3f ms, got h%d %02x "
			"%u %u %u at %.3f ms\n", line, host, flags, seq, ack, len, t / 1e6,
			e->host, e->ev.flags, e->ev.seq, e->ev.ack, e->ev.len, e->ev.t_ns / 1e6);
		fail();
	}
}

static size_t requests(sim *sm, int host)
{
	return sim_usage(sm, host).requests;
}

/* The client's ACKs are all lost: the server retransmits its SYN,ACK at
 * 1, 3, 7, 15, 31 s and drops the request at 63 s. */
static void synack_retransmission(unsigned retries)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.synack_retries = retries;
	sim sm;
	sim_init(&sm, 2, &cfg, 20 + retries);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	sim_blackhole(&sm, C, A, true);
	uint64_t t0 = sim_now(&sm);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	expect_seg(&sm, C, A, 1, 1, 0);          /* lost */
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	assert_int_equal(requests(&sm, S), 1);
	uint64_t at = t0 + 1 * MS, rto = 1 * SEC;
	for (unsigned i = 1; i <= retries; i++) {
		at += rto;
		rto *= 2;
		sim_run(&sm, at + 2 * MS - sim_now(&sm));
		expect_seg(&sm, S, SYN | A, 0, 1, 0);
		assert_int_equal(sm.log[sm.tx_cursor - 1].ev.t_ns, at);
		/* The client repeats its ACK (an old SYN: out of window). */
		expect_seg(&sm, C, A, 1, 1, 0);  /* lost */
		assert_int_equal(requests(&sm, S), 1);
		assert_int_equal(sim_counter(&sm, S, "TCPSynRetrans"), i);
	}
	/* One more timeout later (63 s with the defaults) the request goes. */
	at += rto;
	sim_run(&sm, at - 1 - sim_now(&sm));
	assert_int_equal(requests(&sm, S), 1);
	sim_run(&sm, 1);
	assert_int_equal(requests(&sm, S), 0);
	expect_no_tx(&sm);
	expect_state(&sm, S, HSK_CLOSED, HSK_LISTEN);
	expect_state(&sm, S, HSK_LISTEN, HSK_SYN_RECEIVED);
	expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_CLOSED);
	assert_int_equal(sm.log[sm.st_cursor[S] - 1].ev.t_ns, at);
	assert_int_equal(hsk_poll(s, lsd) & HSK_POLLIN, 0);

	/* The client still believes in the connection; its data meets a
	 * reset with seq = SEG.ACK, which it accepts. */
	sim_blackhole(&sm, C, A, false);
	assert_int_equal(hsk_send(c, csd, "hi", 2), 2);
	sim_run(&sm, 3 * MS);
	expect_seg(&sm, C, A | PSH, 1, 1, 2);
	expect_seg(&sm, S, RST, 1, 0, 0);
	assert_int_equal(hsk_sock_state(c, csd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(c, csd), HSK_ECONNRESET);
	assert_int_equal(sim_counter(&sm, C, "EstabResets"), 1);
	assert_int_equal(hsk_close(c, csd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

static void test_synack_retransmission_default(void **state)
{
	(void)state;
	synack_retransmission(5);
}

static void test_synack_retransmission_configured(void **state)
{
	(void)state;
	synack_retransmission(2);
}

/* The first SYN,ACK is lost: the server's retransmission (1 s) recovers,
 * and the client's retransmitted SYN arriving at the same instant is
 * answered with the SYN,ACK again. */
static void test_lost_synack_recovered(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 30);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	sim_lose(&sm, S, SYN | A, 1);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);    /* lost */
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, csd), HSK_SYN_SENT);
	sim_run(&sm, 1 * SEC);
	expect_seg(&sm, C, SYN, 0, 0, 0);        /* 1.000 s */
	expect_seg(&sm, S, SYN | A, 0, 1, 0);    /* 1.001 s, timer */
	expect_seg(&sm, S, SYN | A, 0, 1, 0);    /* 1.001 s, for the SYN */
	expect_seg(&sm, C, A, 1, 1, 0);
	expect_seg(&sm, C, A, 1, 1, 0);          /* the duplicate SYN,ACK */
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, C, "TCPSynRetrans"), 1);
	/* Both count, as in Linux (tcp_rtx_synack for either cause). */
	assert_int_equal(sim_counter(&sm, S, "TCPSynRetrans"), 2);
	assert_int_equal(requests(&sm, S), 0);
	/* The connection works. */
	char buf[8];
	assert_int_equal(hsk_send(c, csd, "ok", 2), 2);
	sim_run(&sm, 2 * MS);
	expect_seg(&sm, C, A | PSH, 1, 1, 2);
	expect_seg(&sm, S, A, 1, 3, 0);          /* first data: quick ACK */
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 2);
	assert_int_equal(hsk_abort(c, csd), 0);
	sim_run(&sm, 2 * MS);
	expect_seg(&sm, C, RST | A, 3, 1, 0);
	assert_int_equal(hsk_sock_error(s, ssd), HSK_ECONNRESET);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_run(&sm, 100 * SEC);
	expect_no_tx(&sm);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Backlog 2, the server never accepts at first. Hosts 0, 2, 3 are clients. */
static void accept_overflow(bool abort_on_overflow)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.abort_on_overflow = abort_on_overflow;
	sim sm;
	sim_init(&sm, 4, &cfg, 40 + abort_on_overflow);
	hsk_stack *s = sm.st[S];
	enum { A1 = 0, B = 2, D = 3 };
	int lsd = sim_listen(&sm, S, PORT, 2);
	uint64_t t0 = sim_now(&sm);

	/* A completes and waits on the accept queue. */
	int a = sim_connect(&sm, A1, S, PORT);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(sm.st[A1], a), HSK_ESTABLISHED);
	/* B and D open at the same instant: both SYNs fit the SYN queue (2),
	 * B's final ACK fills the accept queue (2), D's is dropped. */
	int b = sim_connect(&sm, B, S, PORT);
	int d = sim_connect(&sm, D, S, PORT);
	uint32_t a_iss = sim_iss(&sm, A1);
	(void)a_iss;
	sm.tx_cursor = 0;
	const sim_ev *e;
	for (int i = 0; i < 3; i++)
		e = sim_next_tx(&sm); /* A's handshake */
	e = sim_next_tx(&sm);
	assert_int_equal(e->host, B);
	uint32_t b_iss = e->ev.seq;
	e = sim_next_tx(&sm);
	assert_int_equal(e->host, D);
	uint32_t d_iss = e->ev.seq;
	sim_run(&sm, 10 * MS);
	uint64_t t1 = t0 + 10 * MS;
	e = sim_next_tx(&sm);
	assert_int_equal(e->host, S);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(e->ev.ack, b_iss + 1);
	uint32_t sb_iss = e->ev.seq;
	e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(e->ev.ack, d_iss + 1);
	uint32_t sd_iss = e->ev.seq;
	expect_abs(&sm, B, A, b_iss + 1, sb_iss + 1, 0, t1 + 2 * MS);
	expect_abs(&sm, D, A, d_iss + 1, sd_iss + 1, 0, t1 + 2 * MS);
	assert_int_equal(hsk_sock_state(sm.st[B], b), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, S, "ListenOverflows"), 1);
	assert_int_equal(sim_counter(&sm, S, "ListenDrops"), 1);
	assert_int_equal(sim_counter(&sm, S, "PassiveOpens"), 2);

	if (abort_on_overflow) {
		/* D's request is reset: RST with seq = SEG.ACK, D is reset. */
		expect_abs(&sm, S, RST, sd_iss + 1, 0, 0, t1 + 3 * MS);
		assert_int_equal(requests(&sm, S), 0);
		assert_int_equal(hsk_sock_state(sm.st[D], d), HSK_CLOSED);
		assert_int_equal(hsk_sock_error(sm.st[D], d), HSK_ECONNRESET);
		assert_null(sim_next_tx(&sm));
		expect_state(&sm, S, HSK_CLOSED, HSK_LISTEN);
		expect_state(&sm, S, HSK_LISTEN, HSK_SYN_RECEIVED);      /* A */
		expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_ESTABLISHED);
		expect_state(&sm, S, HSK_LISTEN, HSK_SYN_RECEIVED);      /* B */
		expect_state(&sm, S, HSK_LISTEN, HSK_SYN_RECEIVED);      /* D */
		expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_ESTABLISHED); /* B */
		expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_CLOSED);      /* D */
	} else {
		/* D's request is kept (acked) and the accept queue is full. */
		assert_int_equal(hsk_sock_state(sm.st[D], d), HSK_ESTABLISHED);
		assert_null(sim_next_tx(&sm));
		assert_int_equal(requests(&sm, S), 1);
	}

	/* A new SYN while the accept queue is full is dropped. */
	int a2 = sim_connect(&sm, A1, S, PORT);
	e = sim_next_tx(&sm);
	assert_int_equal(e->host, A1);
	assert_int_equal(e->ev.flags, SYN);
	uint32_t a2_iss = e->ev.seq;
	sim_run(&sm, 10 * MS);
	assert_null(sim_next_tx(&sm));
	assert_int_equal(sim_counter(&sm, S, "ListenOverflows"), 2);
	assert_int_equal(sim_counter(&sm, S, "ListenDrops"), 2);
	assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDrop"), 0);

	/* The application accepts A and B: room again. */
	int sa = sim_accept(&sm, S, lsd);
	int sb = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_accept(s, lsd, NULL), -HSK_EAGAIN);
	sim_run(&sm, t1 + 1 * SEC + 100 * MS - sim_now(&sm));
	int sdd = -1;
	if (!abort_on_overflow) {
		/* D's SYN,ACK retransmission makes D ACK again: promoted. */
		expect_abs(&sm, S, SYN | A, sd_iss, d_iss + 1, 0, t1 + 1 * MS + 1 * SEC);
		expect_abs(&sm, D, A, d_iss + 1, sd_iss + 1, 0, t1 + 2 * MS + 1 * SEC);
	}
	/* A's second SYN, retransmitted after 1 s, now finds room. */
	expect_abs(&sm, A1, SYN, a2_iss, 0, 0, t1 + 10 * MS + 1 * SEC);
	e = sim_next_tx(&sm);
	assert_int_equal(e->host, S);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(e->ev.ack, a2_iss + 1);
	uint32_t sa2_iss = e->ev.seq;
	expect_abs(&sm, A1, A, a2_iss + 1, sa2_iss + 1, 0, t1 + 12 * MS + 1 * SEC);
	assert_null(sim_next_tx(&sm));
	assert_int_equal(requests(&sm, S), 0);
	if (!abort_on_overflow) {
		sdd = sim_accept(&sm, S, lsd);
		assert_int_equal(hsk_sock_state(s, sdd), HSK_ESTABLISHED);
		assert_int_equal(sim_counter(&sm, S, "PassiveOpens"), 4);
	} else {
		assert_int_equal(sim_counter(&sm, S, "PassiveOpens"), 3);
	}
	int sa2 = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, sa2), HSK_ESTABLISHED);
	assert_int_equal(hsk_sock_state(sm.st[A1], a2), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, S, "ListenOverflows"), 2);
	assert_int_equal(sim_counter(&sm, S, "ListenDrops"), 2);
	assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDrop"), 0);

	/* Check that D's connection works (or is gone), then end everything
	 * with resets from the server. */
	if (!abort_on_overflow) {
		char buf[8];
		assert_int_equal(hsk_send(sm.st[D], d, "d", 1), 1);
		sim_run(&sm, 2 * MS);
		assert_int_equal(hsk_recv(s, sdd, buf, sizeof(buf)), 1);
		assert_int_equal(hsk_abort(s, sdd), 0);
	}
	assert_int_equal(hsk_abort(s, sa), 0);
	assert_int_equal(hsk_abort(s, sb), 0);
	assert_int_equal(hsk_abort(s, sa2), 0);
	sim_run(&sm, 2 * MS);
	assert_int_equal(hsk_sock_error(sm.st[A1], a), HSK_ECONNRESET);
	assert_int_equal(hsk_sock_error(sm.st[A1], a2), HSK_ECONNRESET);
	assert_int_equal(hsk_sock_error(sm.st[B], b), HSK_ECONNRESET);
	if (!abort_on_overflow)
		assert_int_equal(hsk_sock_error(sm.st[D], d), HSK_ECONNRESET);
	assert_int_equal(hsk_close(sm.st[A1], a), 0);
	assert_int_equal(hsk_close(sm.st[A1], a2), 0);
	assert_int_equal(hsk_close(sm.st[B], b), 0);
	assert_int_equal(hsk_close(sm.st[D], d), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_run(&sm, 200 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

static void test_accept_overflow(void **state)
{
	(void)state;
	accept_overflow(false);
}

static void test_accept_overflow_abort(void **state)
{
	(void)state;
	accept_overflow(true);
}

/* SYN queue full (backlog 2, two half-open requests): a SYN is dropped
 * (TCPReqQFullDrop, ListenDrops) and the client's retransmission gets in
 * once there is room. */
static void test_syn_queue_full(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.syncookies = false;
	sim sm;
	sim_init(&sm, 2, &cfg, 50);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 2);
	sim_inject(&sm, S, NOHOST, 4000, PORT, 1000, 0, SYN, 65535, NULL, 0);
	sim_inject(&sm, S, NOHOST, 4001, PORT, 2000, 0, SYN, 65535, NULL, 0);
	assert_int_equal(requests(&sm, S), 2);
	uint64_t t0 = sim_now(&sm);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDrop"), 1);
	assert_int_equal(sim_counter(&sm, S, "ListenDrops"), 1);
	assert_int_equal(sim_counter(&sm, S, "ListenOverflows"), 0);
	assert_int_equal(hsk_sock_state(c, csd), HSK_SYN_SENT);
	/* The retransmission at 1 s is dropped too. */
	sim_run(&sm, t0 + 1 * SEC + 10 * MS - sim_now(&sm));
	assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDrop"), 2);
	assert_int_equal(hsk_sock_state(c, csd), HSK_SYN_SENT);
	/* Both half-open requests are reset: room. */
	sim_inject(&sm, S, NOHOST, 4000, PORT, 1001, 0, RST, 0, NULL, 0);
	sim_inject(&sm, S, NOHOST, 4001, PORT, 2001, 0, RST, 0, NULL, 0);
	assert_int_equal(requests(&sm, S), 0);
	assert_int_equal(sim_counter(&sm, S, "EmbryonicRsts"), 2);
	/* The third SYN (3 s) opens the connection. */
	sm.tx_cursor = sm.nlog;
	sim_run(&sm, t0 + 3 * SEC + 10 * MS - sim_now(&sm));
	expect_seg(&sm, C, SYN, 0, 0, 0);
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.t_ns, t0 + 3 * SEC);
	uint32_t c_iss = sim_iss(&sm, C);
	const sim_ev *e = sim_next_tx(&sm);
	assert_int_equal(e->host, S);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(e->ev.ack, c_iss + 1);
	expect_abs(&sm, C, A, c_iss + 1, e->ev.seq + 1, 0, t0 + 3 * SEC + 2 * MS);
	expect_no_tx(&sm);
	assert_int_equal(sim_count_tx(&sm, C, SYN), 3);
	/* two requests, their 1 s retransmissions, the client's */
	assert_int_equal(sim_count_tx(&sm, S, SYN | A), 2 + 2 + 1);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDrop"), 2);
	sim_finish_pair_graceful(&sm, C, S, lsd, csd, ssd, 2 * MS);
}

/* What reaches a listener that is not a SYN (listen_input_isn tests for
 * the SYN first): RST alone or with SYN, dropped; ACK alone or with SYN,
 * reset with SEQ = SEG.ACK (RFC 9293, LISTEN); neither SYN, ACK nor RST,
 * dropped. None makes a request; a SYN then does. */
static void test_listener_not_syn(void **state)
{
	(void)state;
	static const struct { uint8_t flags; bool rst; } segs[] = {
		{ RST, false }, { RST | SYN, false }, { RST | A, false },
		{ A, true }, { SYN | A, true }, { A | FIN, true },
		{ FIN, false }, { 0, false }, { PSH, false },
	};
	sim sm;
	sim_init(&sm, 2, NULL, 52);
	int lsd = sim_listen(&sm, S, PORT, 4);
	(void)lsd;
	sm.tx_cursor = sm.nlog;
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		uint32_t ack = 7000 + 100 * (uint32_t)i;
		sim_inject(&sm, S, NOHOST, (uint16_t)(4000 + i), PORT, 1000, ack, segs[i].flags,
			   65535, NULL, 0);
		sim_run(&sm, 1 * MS);
		if (segs[i].rst)
			expect_abs(&sm, S, RST, ack, 0, 0, 0);
		expect_no_tx(&sm);
		assert_int_equal(requests(&sm, S), 0);
	}
	assert_int_equal(sim_counter(&sm, S, "PassiveOpens"), 0);
	sim_inject(&sm, S, NOHOST, 5000, PORT, 1000, 0, SYN, 65535, NULL, 0);
	sim_run(&sm, 1 * MS);
	const sim_ev *e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(e->ev.ack, 1001);
	assert_int_equal(requests(&sm, S), 1);
	sim_free(&sm);
}

/* A listener bound to one of the host's addresses takes the SYNs to that
 * address only: a SYN to the same port at another of the host's addresses
 * finds no listener and is reset (RFC 9293: CLOSED, <SEQ=0><ACK=SEG.SEQ+
 * SEG.LEN><CTL=RST,ACK>), and makes no request; a listener bound to the
 * address the SYN is for answers it. */
static void test_listener_bound_address(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 53);
	hsk_stack *s = sm.st[S];
	bool v6 = sm.family == HSK_AF_INET6;
	hsk_addr other = sim_twin(&sm, SIM_ADDR(5)), me = sim_addr(&sm, S);
	assert_int_equal(hsk_stack_add_addr(s, &other, v6 ? 64 : 24), 0);
	int l_other = sim_socket(&sm, S), l_me = sim_socket(&sm, S);
	assert_int_equal(hsk_bind_addr(s, l_other, &other, PORT), 0);
	assert_int_equal(hsk_listen(s, l_other, 4), 0);
	assert_int_equal(hsk_bind_addr(s, l_me, &me, PORT + 1), 0);
	assert_int_equal(hsk_listen(s, l_me, 4), 0);
	sm.tx_cursor = sm.nlog;
	/* (sim_inject's segments are for the host's first address) */
	sim_inject(&sm, S, NOHOST, 4000, PORT, 1000, 0, SYN, 65535, NULL, 0);
	sim_run(&sm, 1 * MS);
	expect_abs(&sm, S, RST | A, 0, 1001, 0, 0);
	expect_no_tx(&sm);
	assert_int_equal(requests(&sm, S), 0);
	sim_inject(&sm, S, NOHOST, 4001, PORT + 1, 2000, 0, SYN, 65535, NULL, 0);
	sim_run(&sm, 1 * MS);
	const sim_ev *e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(e->ev.ack, 2001);
	assert_int_equal(e->ev.tuple.lport, PORT + 1);
	assert_int_equal(requests(&sm, S), 1);
	assert_int_equal(hsk_close(s, l_other), 0);
	assert_int_equal(hsk_close(s, l_me), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A listener's backlog caps the SYN queue at max_syn_backlog. */
static void test_max_syn_backlog(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.max_syn_backlog = 3;
	cfg.syncookies = false;
	sim sm;
	sim_init(&sm, 2, &cfg, 51);
	int lsd = sim_listen(&sm, S, PORT, 100);
	for (uint16_t p = 0; p < 5; p++)
		sim_inject(&sm, S, NOHOST, (uint16_t)(4000 + p), PORT, 1000, 0, SYN, 65535,
			   NULL, 0);
	assert_int_equal(requests(&sm, S), 3);
	assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDrop"), 2);
	assert_int_equal(sim_counter(&sm, S, "ListenDrops"), 2);
	/* Closing the listener drops its requests silently. */
	sm.tx_cursor = sm.nlog;
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	expect_no_tx(&sm);
	assert_int_equal(requests(&sm, S), 0);
	sim_run(&sm, 100 * SEC);
	expect_no_tx(&sm);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* The backlog's edges, seen as the SYN queue it sizes (somaxconn 3,
 * max_syn_backlog out of the way): as Linux (and FreeBSD), a negative
 * backlog is the most there is, somaxconn (Linux compares it as
 * unsigned); 0 admits one; over somaxconn is somaxconn; listen() again
 * changes it the same way. */
static void test_backlog_edges(void **state)
{
	(void)state;
	static const struct { int backlog; bool again; int relisten; size_t held; } cases[] = {
		{ -1, false, 0, 3 }, { INT_MIN, false, 0, 3 }, { 0, false, 0, 1 },
		{ 2, false, 0, 2 }, { 100, false, 0, 3 },
		{ 2, true, -5, 3 }, { 3, true, 0, 1 },
	};
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.somaxconn = 3;
	cfg.max_syn_backlog = 100;
	cfg.syncookies = false;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sim sm;
		sim_init(&sm, 2, &cfg, 53);
		int lsd = sim_listen(&sm, S, PORT, cases[i].backlog);
		if (cases[i].again)
			assert_int_equal(hsk_listen(sm.st[S], lsd, cases[i].relisten), 0);
		for (uint16_t p = 0; p < 5; p++)
			sim_inject(&sm, S, NOHOST, (uint16_t)(4000 + p), PORT, 1000, 0, SYN,
				   65535, NULL, 0);
		assert_int_equal(requests(&sm, S), cases[i].held);
		assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDrop"), 5 - cases[i].held);
		assert_int_equal(hsk_close(sm.st[S], lsd), 0);
		sim_run(&sm, 100 * SEC);
		sim_assert_no_leaks(&sm);
		sim_free(&sm);
	}
}

/* Closing a listener resets the connections nobody accepted (Linux:
 * TCPAbortOnClose) and forgets its requests silently. */
static void test_listener_close_resets_queue(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 52);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	expect_seg(&sm, C, A, 1, 1, 0);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	assert_int_equal(hsk_close(s, lsd), 0);
	expect_seg(&sm, S, RST | A, 1, 1, 0);
	expect_state(&sm, S, HSK_CLOSED, HSK_LISTEN);
	expect_state(&sm, S, HSK_LISTEN, HSK_SYN_RECEIVED);
	expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_ESTABLISHED);
	expect_state(&sm, S, HSK_ESTABLISHED, HSK_CLOSED);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnClose"), 1);
	sim_run(&sm, 2 * MS);
	assert_int_equal(hsk_sock_state(c, csd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(c, csd), HSK_ECONNRESET);
	assert_int_equal(hsk_close(c, csd), 0);
	/* The port is free again. */
	lsd = sim_listen(&sm, S, PORT, 8);
	assert_int_equal(hsk_close(s, lsd), 0);
	expect_no_tx(&sm);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A connection reset while it waits on the accept queue is still handed
 * out by accept(), CLOSED, with ECONNRESET pending (as Linux). */
static void test_reset_before_accept(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 53);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_send(c, csd, "req", 3), 3);
	sim_run(&sm, 2 * MS);
	assert_int_equal(hsk_abort(c, csd), 0);
	sim_run(&sm, 2 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	expect_seg(&sm, C, A, 1, 1, 0);
	expect_seg(&sm, C, A | PSH, 1, 1, 3);
	expect_seg(&sm, S, A, 1, 4, 0);          /* first data: quick ACK */
	expect_seg(&sm, C, RST | A, 4, 1, 0);
	expect_no_tx(&sm);
	assert_true(hsk_poll(s, lsd) & HSK_POLLIN);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSED);
	assert_true(hsk_poll(s, ssd) & HSK_POLLERR);
	char buf[8];
	/* The bytes that arrived are still there, then the error. */
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 3);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), -HSK_ECONNRESET);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_close(s, ssd), 0);
	expect_no_tx(&sm);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A connection reset while on the accept queue is dead already: closing
 * the listener then frees it without a reset of its own (no RST to a
 * tuple the peer may reuse, no TCPAbortOnClose); the live one beside it
 * is reset as usual. */
static void test_listener_close_reset_child(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 54);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int dead = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	int live = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_abort(c, dead), 0);
	sim_run(&sm, 2 * MS);
	assert_int_equal(sim_usage(&sm, S).tcbs, 2);
	sm.tx_cursor = sm.nlog;
	assert_int_equal(hsk_close(s, lsd), 0);
	const sim_ev *e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, RST | A);
	uint16_t live_port = 0;
	assert_int_equal(hsk_getsockname(c, live, NULL, &live_port), 0);
	assert_int_equal(e->ev.tuple.rport, live_port);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnClose"), 1);
	sim_run(&sm, 2 * MS);
	assert_int_equal(hsk_sock_error(c, live), HSK_ECONNRESET);
	assert_int_equal(hsk_close(c, live), 0);
	sim_run(&sm, 1 * SEC);
	expect_no_tx(&sm);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A SYN from a scripted client: the request's ISS and window, from its
 * SYN,ACK. */
static uint32_t request_open(sim *sm, uint16_t port, uint32_t irs, uint16_t *win)
{
	sim_inject(sm, S, NOHOST, port, PORT, irs, 0, SYN, 65535, NULL, 0);
	const sim_ev *e = sim_next_tx(sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, SYN | A);
	*win = e->ev.win;
	return e->ev.seq;
}

/* What completes a request: an ACK of exactly its SYN,ACK (ISS + 1) in its
 * window. An ACK of anything else is answered with a reset (seq = SEG.ACK)
 * and the request stays; an RST,SYN is not answered; an empty segment at
 * the right window edge (IRS + 1 + RCV.WND) is out of the window, answered
 * with an ACK. */
static void test_request_final_ack_checked(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 510);
	int lsd = sim_listen(&sm, S, PORT, 8);
	const uint32_t irs = 9000;
	uint16_t win;
	uint32_t iss = request_open(&sm, 4000, irs, &win);
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 1, iss + 2, A, 65535, NULL, 0);
	expect_abs(&sm, S, RST, iss + 2, 0, 0, 0);
	/* An RST,SYN repeating the SYN is not a SYN again: never answer a
	 * reset. */
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs, 0, RST | SYN, 65535, NULL, 0);
	assert_null(sim_next_tx(&sm));
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 1 + win, iss + 1, A, 65535, NULL, 0);
	expect_abs(&sm, S, A, iss + 1, irs + 1, 0, 0);
	assert_null(sim_next_tx(&sm));
	assert_int_equal(hsk_accept(sm.st[S], lsd, NULL), -HSK_EAGAIN);
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 1 + win - 1, iss + 1, A, 65535, NULL, 0);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(sm.st[S], ssd), HSK_ESTABLISHED);
	assert_int_equal(hsk_abort(sm.st[S], ssd), 0);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_run(&sm, 10 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Karn for the handshake: the SYN,ACK was sent twice (its timer fired, or
 * the SYN came again), so the final ACK's round trip is ambiguous and
 * gives no RTT sample; a first SYN,ACK's does. */
static void test_synack_rtt_sample_karn(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 511);
	int lsd = sim_listen(&sm, S, PORT, 8);
	uint16_t win;
	uint32_t iss = request_open(&sm, 4000, 9000, &win);
	sim_run(&sm, 1500 * MS);                /* the SYN,ACK again at 1 s */
	expect_abs(&sm, S, SYN | A, iss, 9001, 0, 0);
	sim_inject(&sm, S, NOHOST, 4000, PORT, 9001, iss + 1, A, 65535, NULL, 0);
	int ssd = sim_accept(&sm, S, lsd);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(sm.st[S], ssd, &ti), 0);
	assert_int_equal(ti.srtt_ns, 0);
	assert_int_equal(hsk_abort(sm.st[S], ssd), 0);
	expect_abs(&sm, S, RST | A, iss + 1, 9001, 0, 0);
	/* Answered at once: a sample of 20 ms. */
	iss = request_open(&sm, 4001, 19000, &win);
	sim_run(&sm, 20 * MS);
	sim_inject(&sm, S, NOHOST, 4001, PORT, 19001, iss + 1, A, 65535, NULL, 0);
	ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_info(sm.st[S], ssd, &ti), 0);
	assert_int_equal(ti.srtt_ns, 20 * MS);
	assert_int_equal(hsk_abort(sm.st[S], ssd), 0);
	expect_abs(&sm, S, RST | A, iss + 1, 19001, 0, 0);
	/* The SYN came again and was answered by a second SYN,ACK before
	 * its timer fired: just as ambiguous, no sample. */
	iss = request_open(&sm, 4002, 29000, &win);
	sim_run(&sm, 300 * MS);
	sim_inject(&sm, S, NOHOST, 4002, PORT, 29000, 0, SYN, 65535, NULL, 0);
	expect_abs(&sm, S, SYN | A, iss, 29001, 0, 0);
	sim_run(&sm, 20 * MS);
	sim_inject(&sm, S, NOHOST, 4002, PORT, 29001, iss + 1, A, 65535, NULL, 0);
	ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_info(sm.st[S], ssd, &ti), 0);
	assert_int_equal(ti.srtt_ns, 0);
	assert_int_equal(hsk_abort(sm.st[S], ssd), 0);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_run(&sm, 10 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synack_retransmission_default),
		cmocka_unit_test(test_synack_retransmission_configured),
		cmocka_unit_test(test_lost_synack_recovered),
		cmocka_unit_test(test_request_final_ack_checked),
		cmocka_unit_test(test_synack_rtt_sample_karn),
		cmocka_unit_test(test_accept_overflow),
		cmocka_unit_test(test_accept_overflow_abort),
		cmocka_unit_test(test_syn_queue_full),
		cmocka_unit_test(test_max_syn_backlog),
		cmocka_unit_test(test_backlog_edges),
		cmocka_unit_test(test_listener_not_syn),
		cmocka_unit_test(test_listener_bound_address),
		cmocka_unit_test(test_listener_close_resets_queue),
		cmocka_unit_test(test_reset_before_accept),
		cmocka_unit_test(test_listener_close_reset_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
