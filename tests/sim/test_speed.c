/*
 * What the speed work (issue 7) promises besides speed: no O(n) walk of
 * the connection table where a listener's own queues suffice, and the
 * queues themselves in the order the RFC and Linux keep them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack.h"
#include "sim.h"

enum { C = 0, S = 1, PORT = 80, OTHER = 81 };
#define NOHOST SIM_ADDR(7)

static hsk_usage usage(sim *sm, int host)
{
	return sim_usage(sm, host);
}

/* close() of a listener drops its SYN-queue requests through its own list:
 * with 100 established connections and another listener's requests in the
 * same table, the table is never walked, the other listener's requests
 * stay, and the closed one's vanish oldest first. */
static void test_listener_close_walks_its_own_requests(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 901);
	hsk_stack *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 200);
	int other = sim_listen(&sm, S, OTHER, 8);
	for (int i = 0; i < 100; i++)
		sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	for (int i = 0; i < 100; i++)
		sim_accept(&sm, S, lsd);
	/* Half-open: SYNs from a host that never answers the SYN,ACK. */
	for (uint16_t i = 0; i < 3; i++) {
		sim_inject(&sm, S, NOHOST, (uint16_t)(5000 + i), PORT, 1000u * i, 0,
			   HSK_TH_SYN, 65535, NULL, 0);
		sim_inject(&sm, S, NOHOST, (uint16_t)(6000 + i), OTHER, 1000u * i, 0,
			   HSK_TH_SYN, 65535, NULL, 0);
	}
	assert_int_equal(usage(&sm, S).requests, 6);
	assert_int_equal(usage(&sm, S).tcbs, 100);
	uint64_t walks = s->tcp.conns.walks;
	size_t mark = sm.nlog;
	assert_int_equal(hsk_close(s, lsd), 0);
	assert_int_equal(s->tcp.conns.walks, walks);
	assert_int_equal(usage(&sm, S).requests, 3);
	uint16_t seen[3], n = 0;
	for (size_t i = mark; i < sm.nlog; i++) {
		const hsk_trace_event *ev = &sm.log[i].ev;
		if (ev->kind == HSK_EV_STATE && ev->obj == HSK_OBJ_REQ && n < 3) {
			assert_int_equal(ev->to, HSK_CLOSED);
			assert_string_equal(sm.log[i].cause, "listener closed");
			seen[n++] = ev->tuple.rport;
		}
	}
	assert_int_equal(n, 3);
	for (uint16_t i = 0; i < 3; i++)
		assert_int_equal(seen[i], 5000 + i);
	assert_int_equal(hsk_close(s, other), 0);
	assert_int_equal(usage(&sm, S).requests, 0);
	assert_int_equal(s->tcp.conns.walks, walks);
	sim_free(&sm);
}

/* The accept queue is a ring that grows: 40 connections queued before the
 * first accept() come out in the order their handshakes completed, and so
 * do those queued while others are being accepted (the ring wraps). */
static void test_accept_queue_order(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 902);
	int lsd = sim_listen(&sm, S, PORT, 100);
	uint16_t want[80];
	int nwant = 0, got = 0;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 40; i++) {
			int sd = sim_connect(&sm, C, S, PORT);
			hsk_tuple tu;
			assert_int_equal(hsk_sock_tuple(sm.st[C], sd, &tu), 0);
			want[nwant++] = tu.lport;
			sim_run(&sm, 1 * MS);
			if (round == 1 && i % 3 == 0) {
				hsk_tuple peer;
				assert_true(hsk_accept(sm.st[S], lsd, &peer) >= 0);
				assert_int_equal(peer.rport, want[got++]);
			}
		}
		sim_run(&sm, 10 * MS);
	}
	while (got < nwant) {
		hsk_tuple peer;
		assert_true(hsk_accept(sm.st[S], lsd, &peer) >= 0);
		assert_int_equal(peer.rport, want[got++]);
	}
	assert_int_equal(hsk_accept(sm.st[S], lsd, NULL), -HSK_EAGAIN);
	sim_free(&sm);
}

/* close() of a Fast Open listener under children still in SYN_RECEIVED
 * (their final ACKs lost): they are found through the listener's own list
 * of them, not a walk of the table (main walked it), and live on to
 * ESTABLISHED without it. */
static void test_listener_close_forgets_fast_open_children(void **state)
{
	(void)state;
	hsk_config cc, sc;
	hsk_config_default(&cc);
	hsk_config_default(&sc);
	cc.tcp_fastopen = HSK_TFO_CLIENT | HSK_TFO_CLIENT_NO_COOKIE;
	sc.tcp_fastopen = HSK_TFO_SERVER | HSK_TFO_SERVER_NO_COOKIE;
	const hsk_config *cfgs[2] = { &cc, &sc };
	sim sm;
	sim_init_hosts(&sm, 2, cfgs, 903);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_FASTOPEN, 8), 0);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 64), 0);
	for (int i = 0; i < 20; i++)
		sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	sim_blackhole(&sm, C, HSK_TH_ACK, true);       /* the final ACKs */
	int csd[3], ssd[3];
	for (int i = 0; i < 3; i++) {
		/* (TCP_FASTOPEN_CONNECT: hsk_sendto is IPv4's) */
		csd[i] = sim_socket(&sm, C);
		assert_int_equal(hsk_setsockopt(c, csd[i], HSK_TCP_FASTOPEN_CONNECT, 1), 0);
		assert_int_equal(sim_connect_to(&sm, C, csd[i], S, PORT), 0);
		assert_int_equal(hsk_send(c, csd[i], "req", 3), 3);
	}
	sim_run(&sm, 5 * MS);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 3);
	for (int i = 0; i < 20; i++)
		sim_accept(&sm, S, lsd);
	for (int i = 0; i < 3; i++) {
		ssd[i] = sim_accept(&sm, S, lsd);
		assert_int_equal(hsk_sock_state(s, ssd[i]), HSK_SYN_RECEIVED);
	}
	assert_int_equal(s->tcp.listeners->tfo_pending, 3);
	uint64_t walks = s->tcp.conns.walks;
	assert_int_equal(hsk_close(s, lsd), 0);
	assert_int_equal(s->tcp.conns.walks, walks);
	sim_blackhole(&sm, C, HSK_TH_ACK, false);
	sim_run(&sm, 3 * SEC);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hsk_sock_state(s, ssd[i]), HSK_ESTABLISHED);
		char buf[8];
		assert_int_equal(hsk_recv(s, ssd[i], buf, sizeof(buf)), 3);
		hsk_abort(c, csd[i]);
	}
	sim_free(&sm);
}

/* A listener with TCP_MAXSEG gives each child an extension at once (the
 * option lives there): made after SND.UNA is set, Nagle finds no small
 * segment outstanding and each child's first small write goes at once
 * (made before, Nagle compared SND.UNA with a zero snd_sml and held the
 * write of about half the connections for ever). */
static void test_child_extension_starts_at_snd_una(void **state)
{
	(void)state;
	enum { N = 16 };
	sim sm;
	sim_init(&sm, 2, NULL, 904);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_SO_MAXSEG, 1000), 0);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 64), 0);
	int csd[N], ssd[N];
	for (int i = 0; i < N; i++)
		csd[i] = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	for (int i = 0; i < N; i++) {
		ssd[i] = sim_accept(&sm, S, lsd);
		assert_int_equal(hsk_send(s, ssd[i], "hello", 5), 5);
	}
	sim_run(&sm, 10 * MS);
	for (int i = 0; i < N; i++) {
		char buf[8];
		assert_int_equal(hsk_recv(c, csd[i], buf, sizeof(buf)), 5);
		hsk_abort(c, csd[i]);
	}
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listener_close_walks_its_own_requests),
		cmocka_unit_test(test_accept_queue_order),
		cmocka_unit_test(test_listener_close_forgets_fast_open_children),
		cmocka_unit_test(test_child_extension_starts_at_snd_una),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
