/*
 * Closing, transition by transition: FIN_WAIT_1 -> TIME_WAIT on FIN+ACK,
 * simultaneous close through CLOSING, passive close, half-close, FIN
 * retransmission, the FIN_WAIT_2 timeout, and TIME_WAIT's rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "sim.h"

enum { C = 0, S = 1, PORT = 80 };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define FIN HSK_TH_FIN
#define PSH HSK_TH_PSH
#define RST HSK_TH_RST

static size_t timewaits(sim *sm, int host)
{
	return sim_usage(sm, host).timewaits;
}

static size_t tcbs(sim *sm, int host)
{
	return sim_usage(sm, host).tcbs;
}

/* Time of the last event consumed by expect_seg. */
static uint64_t last_tx_time(const sim *sm)
{
	return sm->log[sm->tx_cursor - 1].ev.t_ns;
}

/* The server's ACK of the client's FIN is lost, so the server's FIN is the
 * first to acknowledge it: FIN_WAIT_1 -> TIME_WAIT directly. */
static void test_fin_wait_1_to_time_wait(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 60, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	sim_lose(&sm, S, A, 1);
	assert_int_equal(hsk_close(c, csd), 0);
	expect_seg(&sm, C, FIN | A, 1, 1, 0);
	expect_state(&sm, C, HSK_ESTABLISHED, HSK_FIN_WAIT_1);
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, S, A, 1, 2, 0);             /* lost */
	expect_state(&sm, S, HSK_ESTABLISHED, HSK_CLOSE_WAIT);
	assert_int_equal(hsk_close(s, ssd), 0);
	expect_seg(&sm, S, FIN | A, 1, 2, 0);
	expect_state(&sm, S, HSK_CLOSE_WAIT, HSK_LAST_ACK);
	sim_run(&sm, 1 * MS);
	expect_seg(&sm, C, A, 2, 2, 0);
	expect_state(&sm, C, HSK_FIN_WAIT_1, HSK_TIME_WAIT);
	sim_run(&sm, 1 * MS);
	expect_state(&sm, S, HSK_LAST_ACK, HSK_CLOSED);
	expect_no_tx(&sm);
	assert_int_equal(timewaits(&sm, C), 1);
	assert_int_equal(tcbs(&sm, C), 0);
	assert_int_equal(tcbs(&sm, S), 0);
	/* No FIN is retransmitted: both were acknowledged. */
	sim_run(&sm, 60 * SEC);
	expect_state(&sm, C, HSK_TIME_WAIT, HSK_CLOSED);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, C, "RetransSegs"), 0);
	assert_int_equal(sim_counter(&sm, S, "RetransSegs"), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Both close at once: FIN_WAIT_1 -> CLOSING -> TIME_WAIT at both ends. */
static void test_simultaneous_close(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 61, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_close(c, csd), 0);
	assert_int_equal(hsk_close(s, ssd), 0);
	expect_seg(&sm, C, FIN | A, 1, 1, 0);
	expect_seg(&sm, S, FIN | A, 1, 1, 0);
	sim_run(&sm, 1 * MS + 1);
	/* Each FIN arrives before the ACK of the receiver's own FIN. */
	expect_seg(&sm, S, A, 2, 2, 0);
	expect_seg(&sm, C, A, 2, 2, 0);
	sim_run(&sm, 1 * MS);
	expect_no_tx(&sm);
	for (int h = C; h <= S; h++) {
		expect_state(&sm, h, HSK_ESTABLISHED, HSK_FIN_WAIT_1);
		expect_state(&sm, h, HSK_FIN_WAIT_1, HSK_CLOSING);
		expect_state(&sm, h, HSK_CLOSING, HSK_TIME_WAIT);
		assert_int_equal(timewaits(&sm, h), 1);
		assert_int_equal(tcbs(&sm, h), 0);
	}
	/* 2MSL from entering TIME_WAIT (t0 + 2 ms). */
	sim_run(&sm, t0 + 2 * MS + 60 * SEC - 1 - sim_now(&sm));
	assert_int_equal(timewaits(&sm, C) + timewaits(&sm, S), 2);
	sim_run(&sm, 1);
	expect_state(&sm, C, HSK_TIME_WAIT, HSK_CLOSED);
	expect_state(&sm, S, HSK_TIME_WAIT, HSK_CLOSED);
	expect_no_tx(&sm);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Simultaneous close with the client's FIN lost: the client goes through
 * CLOSING (its FIN unacknowledged), the server through FIN_WAIT_2; the
 * client's retransmitted FIN takes both to TIME_WAIT. */
static void test_simultaneous_close_lost_fin(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 71, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	sim_lose(&sm, C, FIN | A, 1);
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_close(c, csd), 0);
	assert_int_equal(hsk_close(s, ssd), 0);
	expect_seg(&sm, C, FIN | A, 1, 1, 0);       /* lost */
	expect_seg(&sm, S, FIN | A, 1, 1, 0);
	sim_run(&sm, 3 * MS);
	expect_seg(&sm, C, A, 2, 2, 0);
	expect_no_tx(&sm);
	expect_state(&sm, C, HSK_ESTABLISHED, HSK_FIN_WAIT_1);
	expect_state(&sm, C, HSK_FIN_WAIT_1, HSK_CLOSING);
	expect_state(&sm, S, HSK_ESTABLISHED, HSK_FIN_WAIT_1);
	expect_state(&sm, S, HSK_FIN_WAIT_1, HSK_FIN_WAIT_2);
	/* The client's RTO: 200 ms (the floor; its SYN gave a sample). */
	sim_run(&sm, 300 * MS);
	expect_seg(&sm, C, FIN | A, 1, 2, 0);
	assert_int_equal(last_tx_time(&sm), t0 + 200 * MS);
	expect_seg(&sm, S, A, 2, 2, 0);
	expect_no_tx(&sm);
	expect_state(&sm, S, HSK_FIN_WAIT_2, HSK_TIME_WAIT);
	expect_state(&sm, C, HSK_CLOSING, HSK_TIME_WAIT);
	assert_int_equal(timewaits(&sm, C), 1);
	assert_int_equal(timewaits(&sm, S), 1);
	assert_int_equal(tcbs(&sm, C) + tcbs(&sm, S), 0);
	sim_run(&sm, 60 * SEC);
	expect_no_tx(&sm);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Passive close with data sent in CLOSE_WAIT: CLOSE_WAIT -> LAST_ACK ->
 * CLOSED; the client reads the data in FIN_WAIT_2, then EOF. */
static void test_passive_close(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 62, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	assert_int_equal(hsk_shutdown(c, csd, HSK_SHUT_WR), 0);
	expect_seg(&sm, C, FIN | A, 1, 1, 0);
	sim_run(&sm, 2 * MS + 1);
	expect_seg(&sm, S, A, 1, 2, 0);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSE_WAIT);
	assert_int_equal(hsk_sock_state(c, csd), HSK_FIN_WAIT_2);
	int ev = hsk_poll(s, ssd);
	assert_true(ev & HSK_POLLIN);
	assert_true(ev & HSK_POLLRDHUP);
	assert_true(ev & HSK_POLLOUT);
	char buf[64];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 0);
	/* CLOSE_WAIT may still send. */
	assert_int_equal(hsk_send(s, ssd, "last words", 10), 10);
	expect_seg(&sm, S, A | PSH, 1, 2, 10);
	assert_int_equal(hsk_close(s, ssd), 0);
	expect_seg(&sm, S, FIN | A, 11, 2, 0);
	expect_state(&sm, S, HSK_ESTABLISHED, HSK_CLOSE_WAIT);
	expect_state(&sm, S, HSK_CLOSE_WAIT, HSK_LAST_ACK);
	assert_int_equal(tcbs(&sm, S), 1);          /* an orphan in LAST_ACK */
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, C, A, 2, 11, 0);            /* first data: quick ACK */
	expect_seg(&sm, C, A, 2, 12, 0);
	sim_run(&sm, 1 * MS);
	expect_state(&sm, S, HSK_LAST_ACK, HSK_CLOSED);
	assert_int_equal(tcbs(&sm, S), 0);
	expect_state(&sm, C, HSK_ESTABLISHED, HSK_FIN_WAIT_1);
	expect_state(&sm, C, HSK_FIN_WAIT_1, HSK_FIN_WAIT_2);
	expect_state(&sm, C, HSK_FIN_WAIT_2, HSK_TIME_WAIT);
	/* The socket still reads what arrived before TIME_WAIT. */
	assert_int_equal(hsk_sock_state(c, csd), HSK_TIME_WAIT);
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 10);
	assert_memory_equal(buf, "last words", 10);
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_close(c, csd), 0);
	expect_no_tx(&sm);
	assert_int_equal(timewaits(&sm, C), 1);
	sim_run(&sm, 60 * SEC);
	expect_state(&sm, C, HSK_TIME_WAIT, HSK_CLOSED);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Half-close: the client shuts down writing and receives 100 KB in full;
 * then the server closes. */
static void test_half_close(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 63, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	assert_int_equal(hsk_shutdown(c, csd, HSK_SHUT_WR), 0);
	assert_int_equal(hsk_send(c, csd, "x", 1), -HSK_EPIPE);
	assert_false(hsk_poll(c, csd) & HSK_POLLOUT);
	sim_run(&sm, 3 * MS);
	expect_seg(&sm, C, FIN | A, 1, 1, 0);
	expect_seg(&sm, S, A, 1, 2, 0);
	assert_int_equal(hsk_sock_state(c, csd), HSK_FIN_WAIT_2);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSE_WAIT);

	enum { TOTAL = 100 * 1024 };
	static uint8_t out[TOTAL], in[TOTAL];
	for (size_t i = 0; i < TOTAL; i++)
		out[i] = (uint8_t)(i * 7 + i / 251);
	size_t sent = 0, got = 0;
	for (int round = 0; round < 10000 && got < TOTAL; round++) {
		if (sent < TOTAL) {
			long n = hsk_send(s, ssd, out + sent, TOTAL - sent);
			if (n > 0)
				sent += (size_t)n;
			else
				assert_int_equal(n, -HSK_EAGAIN);
		}
		sim_run(&sm, 1 * MS);
		long n = hsk_recv(c, csd, in + got, TOTAL - got);
		if (n > 0)
			got += (size_t)n;
		else
			assert_int_equal(n, -HSK_EAGAIN);
	}
	assert_int_equal(got, TOTAL);
	assert_memory_equal(in, out, TOTAL);
	assert_int_equal(hsk_sock_state(c, csd), HSK_FIN_WAIT_2);
	assert_int_equal(sim_counter(&sm, S, "RetransSegs"), 0);
	assert_int_equal(sim_counter(&sm, C, "OutRsts"), 0);
	/* No segment of the client carried data. */
	for (size_t i = 0; i < sm.nlog; i++)
		if (sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_TX)
			assert_int_equal(sm.log[i].ev.len, 0);
	sim_run(&sm, 100 * MS);
	sm.tx_cursor = sm.nlog;
	assert_int_equal(hsk_close(s, ssd), 0);
	expect_seg(&sm, S, FIN | A, 1 + TOTAL, 2, 0);
	sim_run(&sm, 2 * MS + 1);
	expect_seg(&sm, C, A, 2, 2 + TOTAL, 0);
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, csd), HSK_TIME_WAIT);
	char b;
	assert_int_equal(hsk_recv(c, csd, &b, 1), 0);
	assert_int_equal(hsk_close(c, csd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_run(&sm, 61 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* The FIN is lost twice: retransmitted after the RTO (200 ms, the floor),
 * then 400 ms later. */
static void test_fin_retransmission(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 64, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	sim_lose(&sm, C, FIN | A, 1);
	sim_lose(&sm, C, FIN | A, 2);
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_close(c, csd), 0);
	expect_seg(&sm, C, FIN | A, 1, 1, 0);       /* lost */
	sim_run(&sm, 2 * SEC);
	expect_seg(&sm, C, FIN | A, 1, 1, 0);       /* lost */
	assert_int_equal(last_tx_time(&sm), t0 + 200 * MS);
	expect_seg(&sm, C, FIN | A, 1, 1, 0);
	assert_int_equal(last_tx_time(&sm), t0 + 600 * MS);
	expect_seg(&sm, S, A, 1, 2, 0);
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSE_WAIT);
	assert_int_equal(sim_counter(&sm, C, "TCPTimeouts"), 2);
	assert_int_equal(sim_counter(&sm, C, "RetransSegs"), 2);
	expect_state(&sm, C, HSK_ESTABLISHED, HSK_FIN_WAIT_1);
	expect_state(&sm, C, HSK_FIN_WAIT_1, HSK_FIN_WAIT_2);
	assert_int_equal(sm.log[sm.st_cursor[C] - 1].ev.t_ns, t0 + 602 * MS);
	assert_int_equal(hsk_close(s, ssd), 0);
	sim_run(&sm, 2 * MS + 1);
	expect_seg(&sm, S, FIN | A, 1, 2, 0);
	expect_seg(&sm, C, A, 2, 2, 0);
	sim_run(&sm, 61 * SEC);
	expect_no_tx(&sm);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* An orphan in FIN_WAIT_2 whose peer never closes: after fin_timeout (60 s
 * from entering FIN_WAIT_2) it is reset and freed (as Linux's keepalive
 * timer does; docs/engine.md). */
static void test_fin_wait_2_timeout(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 65, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 3 * MS);
	expect_seg(&sm, C, FIN | A, 1, 1, 0);
	expect_seg(&sm, S, A, 1, 2, 0);
	expect_state(&sm, C, HSK_ESTABLISHED, HSK_FIN_WAIT_1);
	expect_state(&sm, C, HSK_FIN_WAIT_1, HSK_FIN_WAIT_2);
	uint64_t fw2 = t0 + 2 * MS;
	assert_int_equal(tcbs(&sm, C), 1);
	sim_run(&sm, fw2 + 60 * SEC - 1 - sim_now(&sm));
	expect_no_tx(&sm);
	assert_int_equal(tcbs(&sm, C), 1);
	sim_run(&sm, 1);
	expect_seg(&sm, C, RST | A, 2, 1, 0);
	assert_int_equal(last_tx_time(&sm), fw2 + 60 * SEC);
	expect_state(&sm, C, HSK_FIN_WAIT_2, HSK_CLOSED);
	assert_int_equal(tcbs(&sm, C), 0);
	sim_run(&sm, 1 * MS);
	/* The server in CLOSE_WAIT learns of it. */
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(s, ssd), HSK_ECONNRESET);
	assert_int_equal(sim_counter(&sm, S, "EstabResets"), 1);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	expect_no_tx(&sm);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A socket that only shut down writing stays in FIN_WAIT_2 as long as the
 * application wants (no timeout), and close() then starts the timer. */
static void test_fin_wait_2_not_orphan(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.fin_timeout_ns = 5 * SEC;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, &cfg, 66, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	assert_int_equal(hsk_shutdown(c, csd, HSK_SHUT_WR), 0);
	sim_run(&sm, 200 * SEC);
	expect_seg(&sm, C, FIN | A, 1, 1, 0);
	expect_seg(&sm, S, A, 1, 2, 0);
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, csd), HSK_FIN_WAIT_2);
	uint64_t t1 = sim_now(&sm);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 5 * SEC - 1);
	expect_no_tx(&sm);
	sim_run(&sm, 1);
	expect_seg(&sm, C, RST | A, 2, 1, 0);
	assert_int_equal(last_tx_time(&sm), t1 + 5 * SEC);
	sim_run(&sm, 1 * MS);
	assert_int_equal(hsk_sock_error(s, ssd), HSK_ECONNRESET);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* The client's last ACK is lost: the server retransmits its FIN, the client
 * in TIME_WAIT ACKs it again and restarts 2MSL (msl configured: 5 s). */
static void test_time_wait_lost_final_ack(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.msl_ns = 5 * SEC;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, &cfg, 67, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	/* One exchange gives the server an RTT sample: RTO 200 ms (floor). */
	char buf[4];
	assert_int_equal(hsk_send(s, ssd, "x", 1), 1);
	sim_run(&sm, 100 * MS);
	expect_seg(&sm, S, A | PSH, 1, 1, 1);
	expect_seg(&sm, C, A, 1, 2, 0);             /* delayed ACK */
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 1);
	sim_lose(&sm, C, A, 1);  /* counted from now on */
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 2 * MS + 1);
	expect_seg(&sm, C, FIN | A, 1, 2, 0);
	expect_seg(&sm, S, A, 2, 2, 0);
	assert_int_equal(hsk_close(s, ssd), 0);
	uint64_t t0 = sim_now(&sm);
	expect_seg(&sm, S, FIN | A, 2, 2, 0);
	sim_run(&sm, 1 * MS);
	expect_seg(&sm, C, A, 2, 3, 0);             /* lost */
	expect_state(&sm, C, HSK_ESTABLISHED, HSK_FIN_WAIT_1);
	expect_state(&sm, C, HSK_FIN_WAIT_1, HSK_FIN_WAIT_2);
	expect_state(&sm, C, HSK_FIN_WAIT_2, HSK_TIME_WAIT);
	uint64_t tw = t0 + 1 * MS;
	assert_int_equal(timewaits(&sm, C), 1);
	/* The server's RTO is 200 ms (the floor). */
	sim_run(&sm, 300 * MS);
	expect_seg(&sm, S, FIN | A, 2, 2, 0);
	assert_int_equal(last_tx_time(&sm), t0 + 200 * MS);
	expect_seg(&sm, C, A, 2, 3, 0);
	assert_int_equal(last_tx_time(&sm), t0 + 201 * MS);
	expect_state(&sm, S, HSK_ESTABLISHED, HSK_CLOSE_WAIT);
	expect_state(&sm, S, HSK_CLOSE_WAIT, HSK_LAST_ACK);
	expect_state(&sm, S, HSK_LAST_ACK, HSK_CLOSED);
	/* TIME_WAIT now lasts 2MSL = 10 s from the retransmitted FIN, not
	 * from the first one. */
	uint64_t end = t0 + 201 * MS + 10 * SEC;
	assert_true(end > tw + 10 * SEC);
	sim_run(&sm, tw + 10 * SEC + 1 * MS - sim_now(&sm));
	assert_int_equal(timewaits(&sm, C), 1);
	sim_run(&sm, end - 1 - sim_now(&sm));
	assert_int_equal(timewaits(&sm, C), 1);
	sim_run(&sm, 1);
	assert_int_equal(timewaits(&sm, C), 0);
	expect_state(&sm, C, HSK_TIME_WAIT, HSK_CLOSED);
	assert_int_equal(sm.log[sm.st_cursor[C] - 1].ev.t_ns, end);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, C, "TW"), 1);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Sets up a client in TIME_WAIT; returns the client's local port. */
static uint16_t client_in_time_wait(sim *sm, int *lsd)
{
	return sim_time_wait_client(sm, PORT, lsd);
}

/* RFC 1337: an RST in TIME_WAIT is ignored, whatever its sequence number. */
static void test_time_wait_rst_ignored(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 68);
	int lsd;
	uint16_t cport = client_in_time_wait(&sm, &lsd);
	uint32_t rcv_nxt = sim_iss(&sm, S) + 2;
	/* The server has forgotten the connection: keep the client's answers
	 * to these injected segments from reaching it (they are still seen
	 * as sent). */
	sim_blackhole(&sm, C, A, true);
	sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, rcv_nxt, 0, RST, 0, NULL, 0);
	sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, rcv_nxt, sim_iss(&sm, C) + 2,
		   RST | A, 0, NULL, 0);
	sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, rcv_nxt + 1000, 0, RST, 0, NULL, 0);
	expect_no_tx(&sm);
	assert_int_equal(timewaits(&sm, C), 1);
	/* A retransmitted FIN is still answered: the entry is intact. */
	sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, rcv_nxt - 1, sim_iss(&sm, C) + 2,
		   FIN | A, 65535, NULL, 0);
	expect_seg(&sm, C, A, 2, 2, 0);
	/* Data in TIME_WAIT: an ACK; a pure in-window ACK: nothing. */
	sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, rcv_nxt, sim_iss(&sm, C) + 2,
		   A, 65535, NULL, 0);
	expect_no_tx(&sm);
	sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, rcv_nxt, sim_iss(&sm, C) + 2,
		   A | PSH, 65535, "zz", 2);
	expect_seg(&sm, C, A, 2, 2, 0);
	expect_no_tx(&sm);
	sim_run(&sm, 61 * SEC);
	expect_no_tx(&sm);
	assert_int_equal(timewaits(&sm, C), 0);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* The server closes first and sits in TIME_WAIT; the client connects again
 * from the same port: the new SYN's sequence number is above the old
 * RCV.NXT (RFC 6528 clock), so the entry gives way (TWRecycled). An old
 * SYN is only answered with an ACK. */
static void test_time_wait_new_syn(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 69, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	hsk_tuple tu;
	hsk_sock_tuple(c, csd, &tu);
	assert_int_equal(hsk_close(s, ssd), 0);
	sim_run(&sm, 2 * MS + 1);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 2 * MS + 1);
	expect_seg(&sm, S, FIN | A, 1, 1, 0);
	expect_seg(&sm, C, A, 1, 2, 0);
	expect_seg(&sm, C, FIN | A, 1, 2, 0);
	expect_seg(&sm, S, A, 2, 2, 0);
	assert_int_equal(timewaits(&sm, S), 1);
	assert_int_equal(tcbs(&sm, C), 0);
	uint32_t c_iss = sim_iss(&sm, C), s_iss = sim_iss(&sm, S);

	/* An old duplicate SYN (at the old ISS): an ACK of the old connection. */
	sim_inject(&sm, S, SIM_ADDR(C), tu.lport, PORT, c_iss, 0, SYN, 65535, NULL, 0);
	const sim_ev *e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, A);
	assert_int_equal(e->ev.seq, s_iss + 2);
	assert_int_equal(e->ev.ack, c_iss + 2);
	assert_int_equal(timewaits(&sm, S), 1);
	assert_int_equal(sim_counter(&sm, S, "TWRecycled"), 0);
	/* The client has no connection: it resets that ACK (seq = SEG.ACK),
	 * and TIME_WAIT ignores the reset. */
	sim_run(&sm, 2 * MS);
	e = sim_next_tx(&sm);
	assert_int_equal(e->host, C);
	assert_int_equal(e->ev.flags, RST);
	assert_int_equal(e->ev.seq, c_iss + 2);
	assert_int_equal(timewaits(&sm, S), 1);

	/* 1 s later, a new connection from the same port. */
	sim_run(&sm, 1 * SEC);
	int c2 = sim_socket(&sm, C);
	assert_int_equal(sim_bind_any(&sm, C, c2, tu.lport), 0);
	assert_int_equal(sim_connect_to(&sm, C, c2, S, PORT), -HSK_EINPROGRESS);
	e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, SYN);
	uint32_t c2_iss = e->ev.seq;
	assert_true((int32_t)(c2_iss - (c_iss + 2)) > 0);
	sim_run(&sm, 3 * MS);
	e = sim_next_tx(&sm);
	assert_int_equal(e->host, S);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(e->ev.ack, c2_iss + 1);
	uint32_t s2_iss = e->ev.seq;
	e = sim_next_tx(&sm);
	assert_int_equal(e->host, C);
	assert_int_equal(e->ev.flags, A);
	assert_int_equal(e->ev.seq, c2_iss + 1);
	assert_int_equal(e->ev.ack, s2_iss + 1);
	assert_null(sim_next_tx(&sm));
	assert_int_equal(sim_counter(&sm, S, "TWRecycled"), 1);
	assert_int_equal(timewaits(&sm, S), 0);
	assert_int_equal(hsk_sock_state(c, c2), HSK_ESTABLISHED);
	int s2 = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, s2), HSK_ESTABLISHED);
	char path[256];
	sim_state_path(&sm, S, 1 << HSK_OBJ_TW, path, sizeof(path));
	assert_string_equal(path, "TIME_WAIT>CLOSED");
	/* And it works. */
	char buf[4];
	assert_int_equal(hsk_send(c, c2, "new", 3), 3);
	sim_run(&sm, 2 * MS);
	assert_int_equal(hsk_recv(s, s2, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "new", 3);
	sim_finish_pair_graceful(&sm, C, S, lsd, c2, s2, 2 * MS);
}

/* shutdown(SHUT_RD) alone does not close the connection: data that still
 * arrives is acknowledged, not reset (Linux resets only once the socket
 * has also shut down writing), and queued (Linux: a read returns it, and
 * the end of the stream once the queue is empty); the socket can still
 * send. */
static void test_shut_rd_keeps_connection(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 70, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	assert_int_equal(hsk_shutdown(c, csd, HSK_SHUT_RD), 0);
	expect_no_tx(&sm);
	char buf[8];
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_send(s, ssd, "more", 4), 4);
	sim_run(&sm, 100 * MS);
	expect_seg(&sm, S, A | PSH, 1, 1, 4);
	expect_seg(&sm, C, A, 1, 5, 0);             /* first data: quick ACK */
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnData"), 0);
	assert_true(hsk_poll(c, csd) & HSK_POLLRDHUP);
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "more", 4);
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_send(c, csd, "reply", 5), 5);
	sim_run(&sm, 100 * MS);
	expect_seg(&sm, C, A | PSH, 1, 5, 5);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 5);
	expect_seg(&sm, S, A, 5, 6, 0);
	/* Now writing is shut down too (FIN_WAIT_2): data is reset. */
	assert_int_equal(hsk_shutdown(c, csd, HSK_SHUT_WR), 0);
	sim_run(&sm, 3 * MS);
	expect_seg(&sm, C, FIN | A, 6, 5, 0);
	expect_seg(&sm, S, A, 5, 7, 0);
	assert_int_equal(hsk_sock_state(c, csd), HSK_FIN_WAIT_2);
	assert_int_equal(hsk_send(s, ssd, "late", 4), 4);
	sim_run(&sm, 3 * MS);
	expect_seg(&sm, S, A | PSH, 5, 7, 4);
	expect_seg(&sm, C, RST | A, 7, 5, 0);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnData"), 1);
	assert_int_equal(hsk_sock_error(c, csd), HSK_ECONNRESET);
	assert_int_equal(hsk_sock_error(s, ssd), HSK_ECONNRESET);
	assert_int_equal(hsk_close(c, csd), 0);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* RFC 1122 4.2.2.13: a SYN may reopen a connection from TIME_WAIT only if
 * the new ISS is above every sequence number of the old incarnation. The
 * server sent 100 KB and reopens at once: its ISN clock (4 us) has not
 * moved that far, so the ISS must come from the old SND.NXT (Linux:
 * tw_snd_nxt + 65535 + 2). */
static void test_time_wait_recycle_iss_above_old(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 73, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	hsk_tuple tu;
	hsk_sock_tuple(c, csd, &tu);
	enum { TOTAL = 100 * 1024 };
	static char big[TOTAL], in[TOTAL];
	memset(big, 'b', sizeof(big));
	size_t sent = 0, got = 0;
	for (int i = 0; i < 1000 && got < TOTAL; i++) {
		if (sent < TOTAL) {
			long n = hsk_send(s, ssd, big + sent, TOTAL - sent);
			if (n > 0)
				sent += (size_t)n;
		}
		sim_run(&sm, 1 * MS);
		long n = hsk_recv(c, csd, in + got, TOTAL - got);
		if (n > 0)
			got += (size_t)n;
	}
	assert_int_equal(got, TOTAL);
	assert_int_equal(hsk_close(s, ssd), 0);
	sim_run(&sm, 2 * MS + 1);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 2 * MS + 1);
	assert_int_equal(timewaits(&sm, S), 1);
	uint32_t old_snd_nxt = sim_iss(&sm, S) + 1 + TOTAL + 1;
	sm.tx_cursor = sm.nlog;
	int c2 = sim_socket(&sm, C);
	assert_int_equal(sim_bind_any(&sm, C, c2, tu.lport), 0);
	assert_int_equal(sim_connect_to(&sm, C, c2, S, PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 3 * MS);
	const sim_ev *e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, SYN);
	e = sim_next_tx(&sm);
	assert_int_equal(e->host, S);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(sim_counter(&sm, S, "TWRecycled"), 1);
	assert_true((int32_t)(e->ev.seq - old_snd_nxt) > 0);
	assert_int_equal(e->ev.seq, old_snd_nxt + 65535 + 2);
	assert_int_equal(hsk_sock_state(c, c2), HSK_ESTABLISHED);
	int s2 = sim_accept(&sm, S, lsd);
	sim_finish_pair_graceful(&sm, C, S, lsd, c2, s2, 3 * MS);
}

/* Past max_tw_buckets a connection closes without TIME_WAIT
 * (TCPTimeWaitOverflow), as Linux does. */
static void test_time_wait_overflow(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.max_tw_buckets = 1;
	sim sm;
	sim_init(&sm, 2, &cfg, 72);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	for (int i = 0; i < 2; i++) {
		int csd = sim_connect(&sm, C, S, PORT);
		sim_run(&sm, 10 * MS);
		int ssd = sim_accept(&sm, S, lsd);
		assert_int_equal(hsk_close(c, csd), 0);
		sim_run(&sm, 2 * MS + 1);
		assert_int_equal(hsk_close(s, ssd), 0);
		sim_run(&sm, 2 * MS + 1);
	}
	char path[512];
	sim_state_path(&sm, C, 1 << HSK_OBJ_TCB, path, sizeof(path));
	assert_string_equal(path, "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT"
			    ">SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED");
	assert_int_equal(timewaits(&sm, C), 1);
	assert_int_equal(tcbs(&sm, C), 0);
	assert_int_equal(sim_counter(&sm, C, "TCPTimeWaitOverflow"), 1);
	sim_run(&sm, 61 * SEC);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/*
 * The last ACK of a passive close ends the connection before loss
 * recovery, congestion control and ECN look at it (input.h,
 * last_ack_ends) -- but not when they have something to count, nor for a
 * socket still open. A peer the test plays (SACK, ECN if asked) opens to
 * S; S sends 10 bytes, then the peer's FIN (acknowledging them when
 * `ack_data`) puts S in CLOSE_WAIT, S closes (or shuts down writing:
 * `keep_open`) and is in LAST_ACK. 5 bytes go first, for an RTT sample.
 * With `probe` S sends 3,000 bytes instead, unanswered until the tail
 * loss probe has sent the last segment again. Returns the ACK of S's
 * FIN (relative).
 */
static uint32_t last_ack_fx(sim *sm, sim_peer *p, uint64_t seed, bool ecn, bool ack_data,
			    bool keep_open, bool probe)
{
	static const uint8_t data[3000];
	uint32_t n = probe ? sizeof(data) : 10;
	sim_init(sm, 2, NULL, seed);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1000;
	syn.sack_ok = true;
	*p = (sim_peer){ .sm = sm, .host = S, .addr = SIM_ADDR(7), .port = 4000,
			 .hport = PORT, .iss = 5000 };
	p->lsd = sim_listen(sm, S, PORT, 8);
	sim_inject_opts(sm, S, p->addr, p->port, PORT, p->iss, 0,
			SYN | (ecn ? HSK_TH_ECE | HSK_TH_CWR : 0), 65535, &syn, NULL, 0);
	const sim_ev *e = sim_next_tx(sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags & (SYN | A), SYN | A);
	p->hiss = e->ev.seq;
	sim_peer_send(p, 1, 1, A, 65535, NULL, 0);
	p->sd = sim_accept(sm, S, p->lsd);
	hsk_stack *s = sm->st[S];
	/* first an exchange for an RTT sample (a probe needs one) */
	assert_int_equal(hsk_send(s, p->sd, "hello", 5), 5);
	expect_peer_seg(p, A | PSH, 1, 1, 5);
	sim_run(sm, 5 * MS);
	sim_peer_send(p, 1, 6, A, 65535, NULL, 0);
	assert_int_equal(hsk_send(s, p->sd, data, n), n);
	if (probe) {
		/* three segments, unanswered: the tail loss probe sends the
		 * last one again (2 SRTT and its slack: 11 ms) */
		sim_run(sm, 20 * MS);
		expect_peer_seg(p, A, 6, 1, 1000);
		expect_peer_seg(p, A, 1006, 1, 1000);
		expect_peer_seg(p, A | PSH, 2006, 1, 1000);
		expect_peer_seg(p, A | PSH, 2006, 1, 1000);
	} else {
		expect_peer_seg(p, A | PSH, 6, 1, n);
	}
	sim_peer_send(p, 1, ack_data ? 6 + n : 6, FIN | A, 65535, NULL, 0);
	expect_peer_seg(p, A, 6 + n, 2, 0);
	assert_int_equal(hsk_sock_state(s, p->sd), HSK_CLOSE_WAIT);
	if (keep_open)
		assert_int_equal(hsk_shutdown(s, p->sd, HSK_SHUT_WR), 0);
	else
		assert_int_equal(hsk_close(s, p->sd), 0);
	expect_peer_seg(p, FIN | A, 6 + n, 2, 0);
	assert_int_equal(tcbs(sm, S), 1);
	return 7 + n;           /* the ACK of the FIN */
}

static void last_ack_end(sim *sm, sim_peer *p, bool keep_open)
{
	assert_int_equal(tcbs(sm, S), keep_open ? 1 : 0);      /* CLOSED */
	expect_no_tx(sm);
	if (keep_open)
		assert_int_equal(hsk_close(sm->st[S], p->sd), 0);
	assert_int_equal(hsk_close(sm->st[S], p->lsd), 0);
	sim_run(sm, 100 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* The last ACK reports a duplicate (D-SACK, RFC 2883): counted. */
static void test_last_ack_dsack_counted(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	uint32_t end = last_ack_fx(&sm, &p, 81, false, true, false, false);
	tcp_opts o;
	tcp_opts_init(&o);
	o.nsack = 1;
	o.sack[0] = (tcp_sack_block){ p.hiss + 6, p.hiss + end - 1 };
	sim_inject_opts(&sm, S, p.addr, p.port, PORT, p.iss + 2, p.hiss + end, A, 65535, &o,
			NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPDSACKRecv"), 1);
	last_ack_end(&sm, &p, false);
}

/* The last ACK echoes congestion (ECE) on our data: the reduction is
 * counted, as on any ACK. */
static void test_last_ack_ece_counted(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	uint32_t end = last_ack_fx(&sm, &p, 82, true, false, false, false);
	assert_int_equal(sim_counter(&sm, S, "TCPECNReduce"), 0);
	sim_peer_send(&p, 2, end, A | HSK_TH_ECE, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPECNReduce"), 1);
	last_ack_end(&sm, &p, false);
}

/* A loss probe was out (the data sent again) and the last ACK covers it
 * and more: the probe repaired a loss, counted. */
static void test_last_ack_probe_counted(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	uint32_t end = last_ack_fx(&sm, &p, 83, false, false, false, true);
	assert_int_equal(sim_counter(&sm, S, "TCPLossProbes"), 0);
	sim_peer_send(&p, 2, end, A, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPLossProbes"), 1);
	last_ack_end(&sm, &p, false);
}

/* The socket is still open (shutdown, not close): the connection ends,
 * and its send ring, all acknowledged, goes at once as on any idle ACK,
 * not when the socket is closed. */
static void test_last_ack_open_socket_rings(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	uint32_t end = last_ack_fx(&sm, &p, 84, false, false, true, false);
	assert_true(sim_usage(&sm, S).buffer_bytes > 0);
	sim_peer_send(&p, 2, end, A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_state(sm.st[S], p.sd), HSK_CLOSED);
	assert_int_equal(sim_usage(&sm, S).buffer_bytes, 0);
	last_ack_end(&sm, &p, true);
}

/* The last ACK comes with the peer's FIN again (it missed our ACK), with
 * text, or with a FIN beyond the one counted (at RCV.NXT, so past the
 * steps' checks without their being made): each is answered, then the
 * connection ends. */
static void test_last_ack_answered(void **state)
{
	(void)state;
	for (int text = 0; text < 3; text++) {
		sim sm;
		sim_peer p;
		uint32_t end = last_ack_fx(&sm, &p, 85 + (uint64_t)text, false, true, false, false);
		if (text == 1)
			sim_peer_send(&p, 2, end, A | PSH, 65535, "x", 1);
		else if (text == 2)
			sim_peer_send(&p, 2, end, FIN | A, 65535, NULL, 0);
		else
			sim_peer_send(&p, 1, end, FIN | A, 65535, NULL, 0);
		expect_peer_seg(&p, A, end, 2, 0);
		last_ack_end(&sm, &p, false);
	}
}

/*
 * The ACK of our FIN and of nothing else (an ACK of everything in
 * flight) frees the SACK state at once (recovery.c, rec_quiet_all), as
 * tcb_release_idle_rings would right after -- but only then: not on an
 * ACK that leaves the FIN out, nor while bytes wait to be read. S (SACK
 * on, its socket open: shut down for writing) sends 10 bytes,
 * acknowledged; with `unread` the peer's 5 bytes stay unread. Then S's
 * FIN is out (FIN_WAIT_1).
 */
static tcb *fin_ack_fx(sim *sm, sim_peer *p, uint64_t seed, bool unread, bool slow)
{
	sim_init(sm, 2, NULL, seed);
	sm->st[S]->tcp.no_fastpath = slow;
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1000;
	syn.sack_ok = true;
	*p = (sim_peer){ .sm = sm, .host = S, .addr = SIM_ADDR(7), .port = 4000,
			 .hport = PORT, .iss = 5000 };
	p->lsd = sim_listen(sm, S, PORT, 8);
	sim_inject_opts(sm, S, p->addr, p->port, PORT, p->iss, 0, SYN, 65535, &syn, NULL, 0);
	const sim_ev *e = sim_next_tx(sm);
	assert_non_null(e);
	p->hiss = e->ev.seq;
	sim_peer_send(p, 1, 1, A, 65535, NULL, 0);
	p->sd = sim_accept(sm, S, p->lsd);
	hsk_stack *s = sm->st[S];
	assert_int_equal(hsk_send(s, p->sd, "0123456789", 10), 10);
	expect_peer_seg(p, A | PSH, 1, 1, 10);
	sim_peer_send(p, 1, 11, A | (unread ? PSH : 0), 65535, unread ? "abcde" : NULL,
		      unread ? 5 : 0);
	assert_int_equal(hsk_shutdown(s, p->sd, HSK_SHUT_WR), 0);
	expect_peer_seg(p, FIN | A, 11, unread ? 6 : 1, 0);
	int err;
	tcb *t = conn_of(s, p->sd, &err);
	assert_non_null(t);
	assert_int_equal(t->state, HSK_FIN_WAIT_1);
	assert_true(t->act && t->act->sack_on);
	return t;
}

static void fin_ack_end(sim *sm, sim_peer *p)
{
	assert_int_equal(hsk_close(sm->st[S], p->sd), 0);
	assert_int_equal(hsk_close(sm->st[S], p->lsd), 0);
	sim_run(sm, 100 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* A window update that leaves the FIN out keeps the state (the FIN's
 * record); the ACK of the FIN frees it, the same with the short ways
 * on and off. */
static void test_fin_ack_frees_sack(void **state)
{
	(void)state;
	for (int slow = 0; slow < 2; slow++) {
		sim sm;
		sim_peer p;
		tcb *t = fin_ack_fx(&sm, &p, 91, false, slow);
		sim_peer_send(&p, 1, 11, A, 60000, NULL, 0);
		assert_int_equal(t->state, HSK_FIN_WAIT_1);
		assert_true(t->act->sack_on);
		assert_int_equal(t->act->sack.rk.count, 1);
		sim_peer_send(&p, 1, 12, A, 60000, NULL, 0);
		assert_int_equal(t->state, HSK_FIN_WAIT_2);
		assert_true(!t->act || !t->act->sack_on);
		assert_int_equal(sim_usage(&sm, S).buffer_bytes, 0);
		expect_no_tx(&sm);
		fin_ack_end(&sm, &p);
	}
}

/* Bytes wait to be read: the ACK of the FIN keeps the SACK state (and
 * the receive ring); reading them gives both back. */
static void test_fin_ack_unread_keeps_sack(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	tcb *t = fin_ack_fx(&sm, &p, 92, true, false);
	sim_peer_send(&p, 6, 12, A, 65535, NULL, 0);
	assert_int_equal(t->state, HSK_FIN_WAIT_2);
	assert_true(t->act->sack_on);
	char buf[16];
	assert_int_equal(hsk_recv(sm.st[S], p.sd, buf, sizeof(buf)), 5);
	assert_true(!t->act || !t->act->sack_on);
	assert_int_equal(sim_usage(&sm, S).buffer_bytes, 0);
	fin_ack_end(&sm, &p);
}

/* A bare FIN beyond a hole is held (RFC 9293 §3.10.7.4: segments above
 * RCV.NXT are kept for later processing); the bytes that fill the hole
 * bring it in: one ACK of the data and the FIN, CLOSE_WAIT, as Linux.
 * (The FIN was lost: the bytes took the in-order way, which did not look
 * at a FIN held with no range beside it; ACK 11, ESTABLISHED.) */
static void test_fin_beyond_hole_taken_when_filled(void **state)
{
	(void)state;
	sim_pair p;
	sim_pair_open(&p, NULL, 61, PORT);
	sim *sm = &p.sm;
	hsk_stack *c = sm->st[C];
	sim_blackhole(sm, C, -1, true);     /* the real server hears none of it */
	sim_pair_to_client(&p, 11, 1, FIN | A, NULL, 0);
	expect_seg(sm, C, A, 1, 1, 0);      /* out of order: at once */
	sim_pair_to_client(&p, 1, 1, A | PSH, "0123456789", 10);
	expect_seg(sm, C, A, 1, 12, 0);
	expect_state(sm, C, HSK_ESTABLISHED, HSK_CLOSE_WAIT);
	char buf[16];
	assert_int_equal(hsk_recv(c, p.csd, buf, sizeof(buf)), 10);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(hsk_recv(c, p.csd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_abort(c, p.csd), 0);
	assert_int_equal(hsk_abort(sm->st[S], p.ssd), 0);
	assert_int_equal(hsk_close(sm->st[S], p.lsd), 0);
	sim_run(sm, 200 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fin_wait_1_to_time_wait),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_simultaneous_close_lost_fin),
		cmocka_unit_test(test_passive_close),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_fin_retransmission),
		cmocka_unit_test(test_fin_wait_2_timeout),
		cmocka_unit_test(test_fin_wait_2_not_orphan),
		cmocka_unit_test(test_time_wait_lost_final_ack),
		cmocka_unit_test(test_time_wait_rst_ignored),
		cmocka_unit_test(test_time_wait_new_syn),
		cmocka_unit_test(test_shut_rd_keeps_connection),
		cmocka_unit_test(test_time_wait_overflow),
		cmocka_unit_test(test_time_wait_recycle_iss_above_old),
		cmocka_unit_test(test_last_ack_dsack_counted),
		cmocka_unit_test(test_last_ack_ece_counted),
		cmocka_unit_test(test_last_ack_probe_counted),
		cmocka_unit_test(test_last_ack_open_socket_rings),
		cmocka_unit_test(test_last_ack_answered),
		cmocka_unit_test(test_fin_ack_frees_sack),
		cmocka_unit_test(test_fin_ack_unread_keeps_sack),
		cmocka_unit_test(test_fin_beyond_hole_taken_when_filled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
