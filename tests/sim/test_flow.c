/*
 * Flow control and idle connections: silly-window-syndrome avoidance on
 * both sides (RFC 9293 §3.8.6.2), window scaling at its limit (RFC 7323),
 * keepalive (RFC 9293 §3.8.4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

enum { C = 0, S = 1, PORT = 7 };
#define A HSK_TH_ACK
#define NOHOST SIM_ADDR(7) /* an address no host owns */

/* The window fields the server advertised, newest last. */
static uint32_t last_win_from(const sim *sm, int host)
{
	for (size_t i = sm->nlog; i-- > 0;)
		if (sm->log[i].host == host && sm->log[i].ev.kind == HSK_EV_TX)
			return sm->log[i].ev.win;
	return UINT32_MAX;
}

/* A receiver whose buffer is full reopens its window only by at least
 * min(RCV.BUFF/2, MSS): reading 100 bytes announces nothing; reading an
 * MSS worth does. */
static void test_receiver_sws(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.rcvbuf = 16384;             /* no window scaling needed */
	cfg.rcvbuf_max = 0;             /* (nor any for autotuning) */
	sim sm;
	sim_init(&sm, 2, &cfg, 11);
	int lsd, csd, ssd;
	sim_open_pair(&sm, C, S, PORT, 4, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	static char buf[65536];
	memset(buf, 'w', sizeof(buf));
	assert_int_equal(hsk_send(c, csd, buf, 40000), 40000);
	sim_run(&sm, 2 * SEC);
	/* The server read nothing: its window is closed. */
	assert_int_equal(last_win_from(&sm, S), 0);
	size_t before = sm.nlog;
	assert_int_equal(hsk_recv(s, ssd, buf, 100), 100);
	sim_run(&sm, 100 * MS);
	for (size_t i = before; i < sm.nlog; i++)
		if (sm.log[i].host == S && sm.log[i].ev.kind == HSK_EV_TX)
			assert_int_equal(sm.log[i].ev.win, 0);
	/* A full MSS of room: now the window opens, by at least that; and
	 * from here on the right edge (ACK + window) never creeps forward by
	 * less than an MSS. */
	size_t reopen = sm.nlog;
	assert_int_equal(hsk_recv(s, ssd, buf, 1500), 1500);
	sim_run(&sm, 100 * MS);
	int mss = 0;
	assert_int_equal(hsk_getsockopt(s, ssd, HSK_SO_MAXSEG, &mss), 0);
	for (size_t i = reopen; i < sm.nlog; i++)
		if (sm.log[i].host == S && sm.log[i].ev.kind == HSK_EV_TX) {
			assert_true(sm.log[i].ev.win >= (uint32_t)mss);
			break;
		}
	long n, got = 1600;
	while (got < 40000) {
		/* A slow reader: 300 bytes at a time. */
		if ((n = hsk_recv(s, ssd, buf, 300)) > 0)
			got += n;
		sim_run(&sm, 5 * MS);
	}
	assert_int_equal(got, 40000);
	uint32_t edge = 0;
	bool have_edge = false;
	for (size_t i = before; i < sm.nlog; i++) {
		const hsk_trace_event *ev = &sm.log[i].ev;
		if (sm.log[i].host != S || ev->kind != HSK_EV_TX)
			continue;
		uint32_t e2 = ev->ack + ev->win;
		if (have_edge && (int32_t)(e2 - edge) > 0)
			assert_true(e2 - edge >= (uint32_t)mss);
		if (!have_edge || (int32_t)(e2 - edge) > 0)
			edge = e2;
		have_edge = true;
	}
	sim_finish_pair(&sm, C, S, lsd, csd, ssd);
}

/* A peer that offers a window far smaller than it once did gets no
 * tinygrams: the sender waits, and only the persist timer's override sends
 * what fits (RFC 9293 §3.8.6.2.1). The peer is crafted by hand. */
static void test_sender_sws(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 12);
	hsk_stack *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 4);
	const uint32_t irs = 1000;
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs, 0, HSK_TH_SYN, 65535, NULL, 0);
	const sim_ev *e = sim_next_tx(&sm);
	assert_non_null(e);
	uint32_t iss = e->ev.seq;
	/* The final ACK shrinks the offer to 400 bytes (the MSS is 536). */
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 1, iss + 1, A, 400, NULL, 0);
	int ssd = hsk_accept(s, lsd, NULL);
	assert_true(ssd >= 0);
	static char buf[5000];
	memset(buf, 'q', sizeof(buf));
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_send(s, ssd, buf, sizeof(buf)), (long)sizeof(buf));
	assert_null(sim_next_tx(&sm));          /* 400 < 65535 / 2: wait */
	sim_run(&sm, 2 * SEC);
	e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.len, 400);       /* the override, after the RTO */
	assert_true(e->ev.t_ns - t0 >= 200 * MS);
	hsk_abort(s, ssd);
	hsk_close(s, lsd);
	sim_run_idle(&sm, 600 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Window scaling at its limit: a 1 GiB buffer needs shift 14 (RFC 7323
 * §2.3), and the window field saturates at 65535 << 14. */
static void test_window_scale_limit(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.rcvbuf = 1u << 30;
	sim sm;
	sim_init(&sm, 2, &cfg, 13);
	int lsd, csd, ssd;
	sim_open_pair(&sm, C, S, PORT, 4, &lsd, &csd, &ssd);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(sm.st[C], csd, &ti), 0);
	assert_int_equal(ti.rcv_wscale, 14);
	assert_int_equal(ti.snd_wscale, 14);
	/* The server learnt the client's window from the final ACK. */
	assert_int_equal(hsk_sock_info(sm.st[S], ssd, &ti), 0);
	assert_int_equal(ti.snd_wnd, 65535u << 14);
	assert_int_equal(last_win_from(&sm, C), 65535);
	/* No buffer was allocated for that promise. */
	hsk_usage u;
	hsk_stack_usage(sm.st[C], &u);
	assert_int_equal(u.buffer_bytes, 0);
	sim_finish_pair(&sm, C, S, lsd, csd, ssd);
}

/* RFC 7323 §2.3: a peer's shift above 14 is used as 14 (and logged, in
 * Linux): 65535 << 15 would not fit the 30-bit window arithmetic. */
static void test_peer_window_shift_above_14(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 14);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.wscale = 15;
	sim_peer p;
	sim_peer_accept_win(&sm, &p, S, PORT, 7000, &syn, 65535);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(sm.st[S], p.sd, &ti), 0);
	assert_int_equal(ti.snd_wscale, 14);
	assert_int_equal(ti.snd_wnd, 65535u << 14);
	sim_peer_finish(&p);
}

/* Keepalive: an idle connection probes after KEEPIDLE; a live peer answers
 * and the connection stays; a vanished one is declared dead after KEEPCNT
 * unanswered probes KEEPINTVL apart (ETIMEDOUT). */
static void test_keepalive(void **state)
{
	(void)state;
	for (int dead = 0; dead < 2; dead++) {
		sim sm;
		sim_init(&sm, 2, NULL, 14);
		int lsd, csd, ssd;
		sim_open_pair(&sm, C, S, PORT, 4, &lsd, &csd, &ssd);
		hsk_stack *c = sm.st[C];
		assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_KEEPIDLE, 10), 0);
		assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_KEEPINTVL, 2), 0);
		assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_KEEPCNT, 3), 0);
		assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_KEEPIDLE, 0), -HSK_EINVAL);
		assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_KEEPALIVE, 1), 0);
		uint64_t t0 = sim_now(&sm);
		if (dead)
			sim_blackhole(&sm, S, -1, true);
		sim_run(&sm, 9 * SEC);
		assert_int_equal(sim_counter(&sm, C, "TCPKeepAlive"), 0);
		sim_run(&sm, 26 * SEC);
		/* RFC 7323 §3.2: the probes carry the timestamp option too. */
		for (size_t i = 0; i < sm.nlog; i++)
			if (sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_TX &&
			    sm.log[i].ev.t_ns >= t0 + 10 * SEC)
				assert_true(sm.log[i].ev.has_ts);
		if (!dead) {
			/* Probes at 10, 20 and 30 s, each answered. */
			assert_int_equal(sim_counter(&sm, C, "TCPKeepAlive"), 3);
			assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
			/* Each answer starts the count again: a fourth probe
			 * at 40 s, no verdict after KEEPCNT answered ones. */
			sim_run(&sm, 10 * SEC);
			assert_int_equal(sim_counter(&sm, C, "TCPKeepAlive"), 4);
			assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
		} else {
			/* Probes at 10, 12, 14 s; dead at 16 s. */
			assert_int_equal(sim_counter(&sm, C, "TCPKeepAlive"), 3);
			assert_int_equal(hsk_sock_state(c, csd), HSK_CLOSED);
			assert_int_equal(hsk_sock_error(c, csd), HSK_ETIMEDOUT);
			for (size_t i = 0; i < sm.nlog; i++)
				if (sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_STATE &&
				    sm.log[i].ev.to == HSK_CLOSED)
					assert_true(sm.log[i].ev.t_ns - t0 == 16 * SEC);
			sim_blackhole(&sm, S, -1, false);
		}
		hsk_abort(c, csd);
		hsk_abort(sm.st[S], ssd);
		hsk_close(sm.st[S], lsd);
		sim_run_idle(&sm, 600 * SEC);
		sim_assert_no_leaks(&sm);
		sim_free(&sm);
	}
}

/* Keepalive is for an idle connection: with data in flight to a peer that
 * went silent (retransmission judges it) or waiting behind its closed
 * window (the persist timer does), no keepalive probe goes and keepalive
 * does not declare the connection dead after KEEPIDLE + KEEPCNT *
 * KEEPINTVL; once the peer is back, every byte arrives. */
static void test_keepalive_waits_for_data(void **state)
{
	(void)state;
	static char buf[40000], got[40000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 1);
	for (int persist = 0; persist < 2; persist++) {
		hsk_config cfg;
		hsk_config_default(&cfg);
		cfg.rcvbuf = 16384;
		sim sm;
		sim_init(&sm, 2, &cfg, 15);
		int lsd, csd, ssd;
		sim_open_pair(&sm, C, S, PORT, 4, &lsd, &csd, &ssd);
		hsk_stack *c = sm.st[C], *s = sm.st[S];
		assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_KEEPIDLE, 10), 0);
		assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_KEEPINTVL, 2), 0);
		assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_KEEPCNT, 3), 0);
		assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_KEEPALIVE, 1), 0);
		size_t n = persist ? sizeof(buf) : 1000;
		if (persist) {
			/* The server reads nothing: its window closes with
			 * data still waiting in the client's send buffer;
			 * then it goes silent. */
			assert_int_equal(hsk_send(c, csd, buf, n), (long)n);
			sim_run(&sm, 2 * SEC);
			assert_int_equal(last_win_from(&sm, S), 0);
		}
		sim_blackhole(&sm, S, -1, true);
		if (!persist)
			assert_int_equal(hsk_send(c, csd, buf, n), (long)n);
		sim_run(&sm, 40 * SEC);
		assert_int_equal(sim_counter(&sm, C, "TCPKeepAlive"), 0);
		assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
		sim_blackhole(&sm, S, -1, false);
		size_t have = 0;
		for (int round = 0; round < 400 && have < n; round++) {
			sim_run(&sm, SEC);
			long r = hsk_recv(s, ssd, got + have, n - have);
			if (r > 0)
				have += (size_t)r;
		}
		assert_int_equal(have, n);
		assert_memory_equal(got, buf, n);
		assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
		sim_finish_pair(&sm, C, S, lsd, csd, ssd);
	}
}

/* A half-closed connection is kept alive too (as Linux): the end in
 * FIN_WAIT_2 (it shut down its sending half, the peer may still send) and
 * the end in CLOSE_WAIT (the peer did) each find out that the peer
 * vanished: three unanswered probes, then ETIMEDOUT. */
static void test_keepalive_half_closed(void **state)
{
	(void)state;
	for (int close_wait = 0; close_wait < 2; close_wait++) {
		sim sm;
		sim_init(&sm, 2, NULL, 16);
		int lsd, csd, ssd;
		sim_open_pair(&sm, C, S, PORT, 4, &lsd, &csd, &ssd);
		int me = close_wait ? S : C, peer = close_wait ? C : S;
		hsk_stack *h = sm.st[me];
		int sd = close_wait ? ssd : csd;
		assert_int_equal(hsk_setsockopt(h, sd, HSK_SO_KEEPIDLE, 10), 0);
		assert_int_equal(hsk_setsockopt(h, sd, HSK_SO_KEEPINTVL, 2), 0);
		assert_int_equal(hsk_setsockopt(h, sd, HSK_SO_KEEPCNT, 3), 0);
		assert_int_equal(hsk_setsockopt(h, sd, HSK_SO_KEEPALIVE, 1), 0);
		assert_int_equal(hsk_shutdown(sm.st[C], csd, HSK_SHUT_WR), 0);
		sim_run(&sm, 100 * MS);
		assert_int_equal(hsk_sock_state(h, sd),
				 close_wait ? HSK_CLOSE_WAIT : HSK_FIN_WAIT_2);
		sim_blackhole(&sm, peer, -1, true);
		sim_run(&sm, 9 * SEC);
		assert_int_equal(sim_counter(&sm, me, "TCPKeepAlive"), 0);
		sim_run(&sm, 10 * SEC);
		assert_int_equal(sim_counter(&sm, me, "TCPKeepAlive"), 3);
		assert_int_equal(hsk_sock_state(h, sd), HSK_CLOSED);
		assert_int_equal(hsk_sock_error(h, sd), HSK_ETIMEDOUT);
		sim_blackhole(&sm, peer, -1, false);
		sim_finish_pair(&sm, C, S, lsd, csd, ssd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receiver_sws),
		cmocka_unit_test(test_sender_sws),
		cmocka_unit_test(test_window_scale_limit),
		cmocka_unit_test(test_peer_window_shift_above_14),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_keepalive_waits_for_data),
		cmocka_unit_test(test_keepalive_half_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
