/*
 * Resets: RFC 5961's rules for RST and SYN in synchronized states, the
 * challenge-ACK rate limit, and the resets we send (close() with unread
 * data, abort(), linger zero, data to a closed socket).
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

typedef sim_pair pair;

static void pair_open(pair *p, const hsk_config *cfg, uint64_t seed)
{
	sim_pair_open(p, cfg, seed, PORT);
}

/* A segment "from the server" into the client, seq/ack relative. */
static void to_client(pair *p, uint32_t rseq, uint32_t rack, uint8_t flags)
{
	sim_pair_to_client(p, rseq, rack, flags, NULL, 0);
}

static void pair_end(pair *p)
{
	sim *sm = &p->sm;
	if (p->lsd >= 0)
		assert_int_equal(hsk_close(sm->st[S], p->lsd), 0);
	sim_run(sm, 200 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* An RST at exactly RCV.NXT resets an ESTABLISHED connection. */
static void test_rst_exact(void **state)
{
	(void)state;
	pair p;
	pair_open(&p, NULL, 80);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C];
	to_client(&p, 1, 0, RST);
	expect_no_tx(sm);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_CLOSED);
	int ev = hsk_poll(c, p.csd);
	assert_true(ev & HSK_POLLERR);
	assert_true(ev & HSK_POLLHUP);
	assert_int_equal(hsk_send(c, p.csd, "x", 1), -HSK_ECONNRESET);
	assert_int_equal(hsk_recv(c, p.csd, NULL, 0), 0);
	assert_int_equal(sim_counter(sm, C, "EstabResets"), 1);
	expect_state(sm, C, HSK_ESTABLISHED, HSK_CLOSED);
	assert_int_equal(hsk_close(c, p.csd), 0);
	/* The server learns when it next sends: RST (seq = SEG.ACK). */
	assert_int_equal(hsk_send(sm->st[S], p.ssd, "hello", 5), 5);
	sim_run(sm, 3 * MS);
	expect_seg(sm, S, A | PSH, 1, 1, 5);
	expect_seg(sm, C, RST, 1, 0, 0);
	assert_int_equal(hsk_sock_error(sm->st[S], p.ssd), HSK_ECONNRESET);
	assert_int_equal(hsk_close(sm->st[S], p.ssd), 0);
	pair_end(&p);
}

/* An RST with ACK at RCV.NXT is just as good; and one in CLOSE_WAIT. */
static void test_rst_exact_close_wait(void **state)
{
	(void)state;
	pair p;
	pair_open(&p, NULL, 81);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C], *s = sm->st[S];
	assert_int_equal(hsk_shutdown(s, p.ssd, HSK_SHUT_WR), 0);
	sim_run(sm, 3 * MS);
	expect_seg(sm, S, FIN | A, 1, 1, 0);
	expect_seg(sm, C, A, 1, 2, 0);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_CLOSE_WAIT);
	to_client(&p, 2, 1, RST | A);
	expect_no_tx(sm);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(c, p.csd), HSK_ECONNRESET);
	assert_int_equal(sim_counter(sm, C, "EstabResets"), 1);
	assert_int_equal(hsk_close(c, p.csd), 0);
	assert_int_equal(hsk_close(s, p.ssd), 0); /* orphan in FIN_WAIT_2 */
	sim_run(sm, 61 * SEC);
	expect_seg(sm, S, RST | A, 2, 1, 0);      /* fin_timeout */
	pair_end(&p);
}

/* In the window but not at RCV.NXT: a challenge ACK, the connection stays
 * (RFC 5961 §3.2). Outside the window: dropped silently. */
static void test_rst_in_window_challenge(void **state)
{
	(void)state;
	pair p;
	pair_open(&p, NULL, 82);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C];
	to_client(&p, 1 + 1000, 0, RST);
	expect_seg(sm, C, A, 1, 1, 0);
	expect_no_tx(sm);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACK"), 1);
	/* Just before RCV.NXT: out of window, silently dropped. */
	to_client(&p, 0, 0, RST);
	/* Far beyond the window (256 KiB). */
	to_client(&p, 1 + 300000, 0, RST);
	to_client(&p, 1 + 0x80000000u, 0, RST | A);
	expect_no_tx(sm);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACK"), 1);
	assert_int_equal(sim_counter(sm, C, "EstabResets"), 0);
	/* The server hears the challenge ACK and says nothing; the
	 * connection still carries data. */
	sim_run(sm, 2 * MS);
	expect_no_tx(sm);
	char buf[8];
	assert_int_equal(hsk_send(sm->st[S], p.ssd, "still", 5), 5);
	sim_run(sm, 2 * MS);
	expect_seg(sm, S, A | PSH, 1, 1, 5);
	expect_seg(sm, C, A, 1, 6, 0);          /* first data: quick ACK */
	assert_int_equal(hsk_recv(c, p.csd, buf, sizeof(buf)), 5);
	assert_int_equal(hsk_abort(c, p.csd), 0);
	expect_seg(sm, C, RST | A, 1, 6, 0);
	sim_run(sm, 2 * MS);
	assert_int_equal(hsk_sock_error(sm->st[S], p.ssd), HSK_ECONNRESET);
	assert_int_equal(hsk_close(sm->st[S], p.ssd), 0);
	pair_end(&p);
}

/* A SYN in ESTABLISHED (in window or not) is never obeyed: challenge ACK
 * (RFC 5961 §4). */
static void test_syn_in_established(void **state)
{
	(void)state;
	pair p;
	pair_open(&p, NULL, 83);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C];
	to_client(&p, 1 + 100, 0, SYN);
	expect_seg(sm, C, A, 1, 1, 0);
	to_client(&p, 0, 0, SYN);          /* the old SYN again, an old ISN */
	expect_seg(sm, C, A, 1, 1, 0);
	expect_no_tx(sm);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_ESTABLISHED);
	assert_true(sim_counter(sm, C, "TCPSYNChallenge") >= 1);
	assert_int_equal(sim_counter(sm, C, "EstabResets"), 0);
	/* The server's side too (it accepted the connection). */
	sim_inject(sm, S, SIM_ADDR(C), p.cport, PORT, p.c_iss + 1, 0, SYN, 65535, NULL, 0);
	expect_seg(sm, S, A, 1, 1, 0);
	assert_int_equal(hsk_sock_state(sm->st[S], p.ssd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(sm, S, "TCPSYNChallenge"), 1);
	assert_int_equal(sim_counter(sm, S, "TCPChallengeACK"), 1);
	sim_run(sm, 2 * MS);
	expect_no_tx(sm);
	assert_int_equal(hsk_close(c, p.csd), 0);
	sim_run(sm, 2 * MS);
	assert_int_equal(hsk_close(sm->st[S], p.ssd), 0);
	pair_end(&p);
}

/* A SYN,ACK at RCV.NXT, acknowledging what was sent, in a synchronized
 * state: still a SYN, challenged (RFC 5961 §4.2), never taken for its ACK
 * (a connection that is closing too). Without timestamps, which the
 * injected segments do not carry. */
static void test_synack_at_rcv_nxt_challenged(void **state)
{
	(void)state;
	pair p;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.timestamps = false;
	pair_open(&p, &cfg, 84);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C];
	to_client(&p, 1, 1, SYN | A);
	expect_seg(sm, C, A, 1, 1, 0);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(sm, C, "TCPSYNChallenge"), 1);
	assert_int_equal(hsk_shutdown(c, p.csd, HSK_SHUT_WR), 0);
	expect_seg(sm, C, FIN | A, 1, 1, 0);
	sim_blackhole(sm, S, -1, true);     /* the server's ACK is lost */
	sim_run(sm, 10 * MS);
	expect_seg(sm, S, A, 1, 2, 0);
	to_client(&p, 1, 2, SYN | A);       /* the ACK of our FIN, with SYN */
	expect_seg(sm, C, A, 2, 1, 0);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_FIN_WAIT_1);
	assert_int_equal(sim_counter(sm, C, "TCPSYNChallenge"), 2);
	sim_blackhole(sm, S, -1, false);
	assert_int_equal(hsk_abort(c, p.csd), 0);
	assert_int_equal(hsk_abort(sm->st[S], p.ssd), 0);
	pair_end(&p);
}

/* 20 in-window RSTs inside one second: challenge_ack_limit (10) ACKs, the
 * other 10 counted as TCPChallengeACKLimited; a new window, a new ACK. */
static void test_challenge_ack_rate_limit(void **state)
{
	(void)state;
	pair p;
	pair_open(&p, NULL, 84);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C];
	sim_blackhole(sm, C, A, true); /* the server need not see them */
	for (int i = 0; i < 20; i++)
		to_client(&p, 1 + 10 + (uint32_t)i, 0, RST);
	for (int i = 0; i < 10; i++)
		expect_seg(sm, C, A, 1, 1, 0);
	expect_no_tx(sm);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACK"), 10);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACKLimited"), 10);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_ESTABLISHED);
	/* SYNs share the budget. */
	to_client(&p, 1 + 5, 0, SYN);
	expect_no_tx(sm);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACKLimited"), 11);
	/* After challenge_ack_window_ns (1 s) the budget is back. */
	sim_run(sm, 1 * SEC);
	to_client(&p, 1 + 10, 0, RST);
	expect_seg(sm, C, A, 1, 1, 0);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACK"), 11);
	sim_blackhole(sm, C, A, false);
	assert_int_equal(hsk_abort(c, p.csd), 0);
	sim_run(sm, 2 * MS);
	assert_int_equal(hsk_sock_error(sm->st[S], p.ssd), HSK_ECONNRESET);
	assert_int_equal(hsk_close(sm->st[S], p.ssd), 0);
	pair_end(&p);
}

/* The limit and window are configurable. */
static void test_challenge_ack_limit_configured(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.challenge_ack_limit = 3;
	cfg.challenge_ack_window_ns = 100 * MS;
	pair p;
	pair_open(&p, &cfg, 85);
	sim *sm = &p.sm;
	sim_blackhole(sm, C, A, true);
	for (int i = 0; i < 5; i++)
		to_client(&p, 1 + 10, 0, RST);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACK"), 3);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACKLimited"), 2);
	sim_run(sm, 100 * MS);
	for (int i = 0; i < 5; i++)
		to_client(&p, 1 + 10, 0, RST);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACK"), 6);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACKLimited"), 4);
	assert_int_equal(sim_count_tx(sm, C, A), 1 + 6);
	sim_blackhole(sm, C, A, false);
	assert_int_equal(hsk_abort(sm->st[C], p.csd), 0);
	sim_run(sm, 2 * MS);
	assert_int_equal(hsk_close(sm->st[S], p.ssd), 0);
	pair_end(&p);
}

/* RST in the closing states: FIN_WAIT_1, FIN_WAIT_2 (ECONNRESET), CLOSING
 * and LAST_ACK (just CLOSED). */
static void rst_in_state(int target, uint64_t seed)
{
	pair p;
	pair_open(&p, NULL, seed);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C], *s = sm->st[S];
	uint32_t rcv = 1;
	sim_blackhole(sm, C, -1, true);
	switch (target) {
	case HSK_FIN_WAIT_1:
		assert_int_equal(hsk_shutdown(c, p.csd, HSK_SHUT_WR), 0);
		break;
	case HSK_FIN_WAIT_2:
		assert_int_equal(hsk_shutdown(c, p.csd, HSK_SHUT_WR), 0);
		to_client(&p, 1, 2, A);
		break;
	case HSK_CLOSING:
		assert_int_equal(hsk_shutdown(c, p.csd, HSK_SHUT_WR), 0);
		to_client(&p, 1, 1, FIN | A);
		rcv = 2;
		break;
	case HSK_LAST_ACK:
		to_client(&p, 1, 1, FIN | A);
		assert_int_equal(hsk_shutdown(c, p.csd, HSK_SHUT_WR), 0);
		rcv = 2;
		break;
	}
	assert_int_equal(hsk_sock_state(c, p.csd), target);
	to_client(&p, rcv, 0, RST);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_CLOSED);
	const sim_ev *last = NULL;
	for (size_t i = 0; i < sm->nlog; i++)
		if (sm->log[i].host == C && sm->log[i].ev.kind == HSK_EV_STATE)
			last = &sm->log[i];
	assert_int_equal(last->ev.from, target);
	assert_int_equal(last->ev.to, HSK_CLOSED);
	int err = hsk_sock_error(c, p.csd);
	if (target == HSK_FIN_WAIT_1 || target == HSK_FIN_WAIT_2)
		assert_int_equal(err, HSK_ECONNRESET);
	else
		assert_int_equal(err, 0);
	/* Nothing is retransmitted afterwards. */
	size_t before = sm->nlog;
	sim_run(sm, 10 * SEC);
	for (size_t i = before; i < sm->nlog; i++)
		if (sm->log[i].ev.kind == HSK_EV_TX)
			assert_int_not_equal(sm->log[i].host, C);
	assert_int_equal(hsk_close(c, p.csd), 0);
	assert_int_equal(hsk_abort(s, p.ssd), 0);
	pair_end(&p);
}

static void test_rst_in_closing_states(void **state)
{
	(void)state;
	rst_in_state(HSK_FIN_WAIT_1, 86);
	rst_in_state(HSK_FIN_WAIT_2, 87);
	rst_in_state(HSK_CLOSING, 88);
	rst_in_state(HSK_LAST_ACK, 89);
}

/* close() with received data nobody read: RST, not FIN (RFC 9293 §3.10.4,
 * Linux: TCPAbortOnClose). */
static void test_close_unread_data_resets(void **state)
{
	(void)state;
	pair p;
	pair_open(&p, NULL, 90);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C], *s = sm->st[S];
	assert_int_equal(hsk_send(s, p.ssd, "unread", 6), 6);
	sim_run(sm, 100 * MS);
	expect_seg(sm, S, A | PSH, 1, 1, 6);
	expect_seg(sm, C, A, 1, 7, 0);
	assert_int_equal(hsk_close(c, p.csd), 0);
	expect_seg(sm, C, RST | A, 1, 7, 0);
	expect_no_tx(sm);
	expect_state(sm, C, HSK_ESTABLISHED, HSK_CLOSED);
	assert_int_equal(sim_counter(sm, C, "TCPAbortOnClose"), 1);
	hsk_usage u;
	hsk_stack_usage(c, &u);
	assert_int_equal(u.tcbs, 0);
	assert_int_equal(u.timewaits, 0);
	sim_run(sm, 2 * MS);
	assert_int_equal(hsk_sock_state(s, p.ssd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(s, p.ssd), HSK_ECONNRESET);
	assert_int_equal(sim_counter(sm, S, "EstabResets"), 1);
	assert_int_equal(hsk_close(s, p.ssd), 0);
	pair_end(&p);
}

/* abort(): RST now, whatever the state. */
static void test_abort(void **state)
{
	(void)state;
	pair p;
	pair_open(&p, NULL, 91);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C], *s = sm->st[S];
	/* Unacknowledged data in flight does not delay it. */
	sim_blackhole(sm, C, A | PSH, true);
	assert_int_equal(hsk_send(c, p.csd, "abcd", 4), 4);
	expect_seg(sm, C, A | PSH, 1, 1, 4);
	assert_int_equal(hsk_abort(c, p.csd), 0);
	expect_seg(sm, C, RST | A, 5, 1, 0);
	expect_no_tx(sm);
	/* A TCB's reset is counted (tcb_send_rst), as one answering a
	 * segment with no connection is (seg_send), below. */
	assert_int_equal(sim_counter(sm, C, "OutRsts"), 1);
	assert_int_equal(hsk_abort(c, p.csd), -HSK_EBADF);
	/* The server never got the data, so the RST (seq 5) is in its window
	 * but not at RCV.NXT (1): a challenge ACK, which the client, having
	 * no connection, resets with seq = SEG.ACK: exact this time. */
	sim_run(sm, 4 * MS);
	expect_seg(sm, S, A, 1, 1, 0);
	expect_seg(sm, C, RST, 1, 0, 0);
	expect_no_tx(sm);
	assert_int_equal(sim_counter(sm, C, "OutRsts"), 2);
	assert_int_equal(sim_counter(sm, S, "TCPChallengeACK"), 1);
	assert_int_equal(hsk_sock_error(s, p.ssd), HSK_ECONNRESET);
	char buf[8];
	assert_int_equal(hsk_recv(s, p.ssd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_close(s, p.ssd), 0);
	sim_run(sm, 10 * SEC);
	expect_no_tx(sm);
	pair_end(&p);
}

/* abort() in SYN_SENT sends nothing (there is nothing to reset, as in
 * Linux); the server's SYN,ACK then meets an RST with seq = SEG.ACK, which
 * sends its request back to LISTEN. */
static void test_abort_syn_sent(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 94);
	hsk_stack *c = sm.st[C];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int csd = sim_connect(&sm, C, S, PORT);
	assert_int_equal(hsk_abort(c, csd), 0);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	expect_no_tx(&sm);
	expect_state(&sm, C, HSK_CLOSED, HSK_SYN_SENT);
	expect_state(&sm, C, HSK_SYN_SENT, HSK_CLOSED);
	sim_run(&sm, 3 * MS);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	expect_seg(&sm, C, RST, 1, 0, 0);
	expect_no_tx(&sm);
	expect_state(&sm, S, HSK_CLOSED, HSK_LISTEN);
	expect_state(&sm, S, HSK_LISTEN, HSK_SYN_RECEIVED);
	expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_LISTEN);
	assert_int_equal(sim_counter(&sm, S, "EmbryonicRsts"), 1);
	assert_int_equal(sim_counter(&sm, C, "OutRsts"), 1);
	sim_run(&sm, 100 * SEC);
	expect_no_tx(&sm);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Linger zero: close() sends RST (TCPAbortOnLinger), no TIME_WAIT. */
static void test_linger_zero(void **state)
{
	(void)state;
	pair p;
	pair_open(&p, NULL, 92);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C], *s = sm->st[S];
	assert_int_equal(hsk_setsockopt(c, p.csd, HSK_SO_LINGER0, 1), 0);
	assert_int_equal(hsk_close(c, p.csd), 0);
	expect_seg(sm, C, RST | A, 1, 1, 0);
	expect_no_tx(sm);
	assert_int_equal(sim_counter(sm, C, "TCPAbortOnLinger"), 1);
	assert_int_equal(sim_counter(sm, C, "TCPAbortOnClose"), 0);
	hsk_usage u;
	hsk_stack_usage(c, &u);
	assert_int_equal(u.tcbs + u.timewaits, 0);
	sim_run(sm, 2 * MS);
	assert_int_equal(hsk_sock_error(s, p.ssd), HSK_ECONNRESET);
	assert_int_equal(hsk_close(s, p.ssd), 0);
	pair_end(&p);
}

/* Data arriving for a socket that was closed (an orphan in FIN_WAIT_2):
 * nobody will read it, so RST (Linux: TCPAbortOnData). */
static void test_data_after_close_resets(void **state)
{
	(void)state;
	pair p;
	pair_open(&p, NULL, 93);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C], *s = sm->st[S];
	assert_int_equal(hsk_close(c, p.csd), 0);
	sim_run(sm, 3 * MS);
	expect_seg(sm, C, FIN | A, 1, 1, 0);
	expect_seg(sm, S, A, 1, 2, 0);
	assert_int_equal(hsk_send(s, p.ssd, "late", 4), 4);
	sim_run(sm, 3 * MS);
	expect_seg(sm, S, A | PSH, 1, 2, 4);
	expect_seg(sm, C, RST | A, 2, 1, 0);
	expect_no_tx(sm);
	assert_int_equal(sim_counter(sm, C, "TCPAbortOnData"), 1);
	assert_int_equal(hsk_sock_error(s, p.ssd), HSK_ECONNRESET);
	assert_int_equal(hsk_close(s, p.ssd), 0);
	pair_end(&p);
}

/* RFC 7323 §3.2: once timestamps are negotiated every segment carries
 * them, a reset included (Linux does; a peer doing PAWS on resets would
 * otherwise judge ours by an absent option). Resets for no connection
 * have none to carry. */
static void test_rst_carries_timestamp(void **state)
{
	(void)state;
	pair p;
	pair_open(&p, NULL, 95);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C], *s = sm->st[S];
	assert_int_equal(hsk_abort(c, p.csd), 0);
	const sim_ev *e = sim_next_tx(sm);
	assert_int_equal(e->ev.flags, RST | A);
	assert_true(e->ev.has_ts);
	assert_int_equal(e->ev.wscale, -1);
	/* close() with unread data: the same. */
	sim_run(sm, 2 * MS);
	assert_int_equal(hsk_close(s, p.ssd), 0);
	int c2 = sim_connect(sm, C, S, PORT);
	sim_run(sm, 10 * MS);
	int s2 = sim_accept(sm, S, p.lsd);
	assert_int_equal(hsk_send(c, c2, "unread", 6), 6);
	sim_run(sm, 10 * MS);
	while (sim_next_tx(sm))
		;
	assert_int_equal(hsk_close(s, s2), 0);
	e = sim_next_tx(sm);
	assert_int_equal(e->ev.flags, RST | A);
	assert_true(e->ev.has_ts);
	/* The client has no connection now: its reset to a late segment
	 * carries no timestamp. */
	sim_run(sm, 2 * MS);
	sim_inject(sm, C, SIM_ADDR(S), PORT, 1, 12345, 0, A, 0, NULL, 0);
	while ((e = sim_next_tx(sm)) != NULL)
		if (e->host == C && (e->ev.flags & RST))
			break;
	assert_non_null(e);
	assert_false(e->ev.has_ts);
	assert_int_equal(hsk_close(c, c2), 0);
	/* Timestamps off: no option on a reset either. */
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.timestamps = false;
	pair q;
	pair_open(&q, &cfg, 96);
	assert_int_equal(hsk_abort(q.sm.st[C], q.csd), 0);
	e = sim_next_tx(&q.sm);
	assert_int_equal(e->ev.flags, RST | A);
	assert_false(e->ev.has_ts);
	sim_run(&q.sm, 2 * MS);
	assert_int_equal(hsk_close(q.sm.st[S], q.ssd), 0);
	pair_end(&q);
	pair_end(&p);
}

/* The RST is checked before the SYN (RFC 5961 §3 before §4, as Linux's
 * tcp_validate_incoming): an out-of-window segment carrying both is an
 * RST out of the window, dropped silently -- no challenge ACK. */
static void test_rst_syn_out_of_window_silent(void **state)
{
	(void)state;
	pair p;
	pair_open(&p, NULL, 89);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C];
	to_client(&p, 1 + 300000, 0, RST | SYN);
	to_client(&p, 0, 0, RST | SYN);         /* just below RCV.NXT */
	expect_no_tx(sm);
	assert_int_equal(sim_counter(sm, C, "DropOutOfWindow"), 2);
	assert_int_equal(sim_counter(sm, C, "TCPSYNChallenge"), 0);
	assert_int_equal(sim_counter(sm, C, "TCPChallengeACK"), 0);
	assert_int_equal(hsk_sock_state(c, p.csd), HSK_ESTABLISHED);
	assert_int_equal(hsk_abort(c, p.csd), 0);
	assert_int_equal(hsk_abort(sm->st[S], p.ssd), 0);
	pair_end(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rst_exact),
		cmocka_unit_test(test_rst_exact_close_wait),
		cmocka_unit_test(test_rst_in_window_challenge),
		cmocka_unit_test(test_rst_syn_out_of_window_silent),
		cmocka_unit_test(test_syn_in_established),
		cmocka_unit_test(test_synack_at_rcv_nxt_challenged),
		cmocka_unit_test(test_challenge_ack_rate_limit),
		cmocka_unit_test(test_challenge_ack_limit_configured),
		cmocka_unit_test(test_rst_in_closing_states),
		cmocka_unit_test(test_close_unread_data_resets),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_abort_syn_sent),
		cmocka_unit_test(test_linger_zero),
		cmocka_unit_test(test_data_after_close_resets),
		cmocka_unit_test(test_rst_carries_timestamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
