/*
 * TCP Fast Open (RFC 7413), both ends (src/tcp/tfo.c), with exact
 * segments: a cookie asked for and cached, data on the SYN delivered to
 * the server application before the handshake completes, the fallbacks
 * (a wrong cookie, a server without Fast Open, a lost SYN), the queue
 * limit, TCP_FASTOPEN_CONNECT, and Linux's counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "stack/stack.h"
#include "tcp/passive.h"
#include "tfo.h"

enum { C = TFO_C, S = TFO_S, C2 = 2, PORT = TFO_PORT };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define PSH HSK_TH_PSH
#define FIN HSK_TH_FIN

/* The first connection asks for a cookie, the second sends its request on
 * the SYN: the server application reads it before the handshake
 * completes and answers at once; data on the first segment instead of the
 * third. */
static void test_cookie_then_data_on_syn(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1001, 8);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	uint8_t cookie[16];
	assert_int_equal(hsk_fastopen_cookie_get(c, SIM_ADDR(S), cookie), -HSK_ENOENT);

	/* 1: a cookie request; the data goes after the handshake. */
	int csd = tfo_send(&sm, C, "GET /a", -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	assert_int_equal(last_fo(&sm), 0);               /* a request */
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	assert_int_equal(last_fo(&sm), 8);               /* the cookie */
	expect_seg(&sm, C, A, 1, 1, 0);
	assert_int_equal(last_fo(&sm), -1);
	assert_int_equal(hsk_fastopen_cookie_get(c, SIM_ADDR(S), cookie), 8);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenCookieReqd"), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 0);
	assert_int_equal(sim_counter(&sm, C, "TCPFastOpenActive"), 0);
	int ssd = sim_accept(&sm, S, lsd);
	tfo_drop(&sm, csd, ssd);
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;

	/* 2: the request rides on the SYN. */
	csd = tfo_send(&sm, C, "GET /b", 6);
	const sim_ev *e = next_seg(&sm, C, SYN, 6);
	assert_int_equal(e->ev.fastopen, 8);
	uint32_t ciss = e->ev.seq;
	sim_run(&sm, 1 * MS);           /* the SYN is in; the client waits */
	e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, ciss + 1 + 6);      /* the data acknowledged */
	assert_int_equal(e->ev.fastopen, -1);
	uint32_t siss = e->ev.seq;
	/* Before the handshake completes: accept, read, answer. */
	ssd = hsk_accept(s, lsd, NULL);
	assert_true(ssd >= 0);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_SYN_RECEIVED);
	assert_true(hsk_poll(s, ssd) & HSK_POLLIN);
	assert_true(hsk_poll(s, ssd) & HSK_POLLOUT);
	char buf[16];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "GET /b", 6);
	assert_int_equal(hsk_send(s, ssd, "200", 3), 3);
	e = next_seg(&sm, S, A | PSH, 3);
	assert_int_equal(e->ev.seq, siss + 1);
	assert_int_equal(e->ev.ack, ciss + 7);
	sim_run(&sm, 1 * MS);           /* the SYN-ACK at the client */
	e = next_seg(&sm, C, A, 0);
	assert_int_equal(e->ev.seq, ciss + 7);
	assert_int_equal(e->ev.ack, siss + 1);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_ESTABLISHED);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "200", 3);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(c, csd, &ti), 0);
	assert_true(ti.fastopen);
	assert_int_equal(hsk_sock_info(s, ssd, &ti), 0);
	assert_true(ti.fastopen);
	assert_int_equal(sim_counter(&sm, C, "TCPFastOpenActive"), 1);
	assert_int_equal(sim_counter(&sm, C, "TCPFastOpenActiveFail"), 0);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveFail"), 0);
	assert_int_equal(sim_counter(&sm, S, "PassiveOpens"), 2);
	assert_int_equal(sim_counter(&sm, C, "RetransSegs"), 0);
	/* A graceful end. */
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_close(s, ssd), 0);
	tfo_finish(&sm, lsd);
}

/* TCP_FASTOPEN_CONNECT: with a cookie, connect() says 0 and sends
 * nothing; the first write leaves on the SYN. Without one, connect()
 * asks for a cookie. */
static void test_fastopen_connect(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1002, 8);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int csd = hsk_socket(c);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
	assert_int_equal(hsk_connect(c, csd, SIM_ADDR(S), PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	assert_int_equal(last_fo(&sm), 0);
	int ssd = sim_accept(&sm, S, lsd);
	tfo_drop(&sm, csd, ssd);
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;

	csd = hsk_socket(c);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
	int v = 0;
	assert_int_equal(hsk_getsockopt(c, csd, HSK_TCP_FASTOPEN_CONNECT, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(hsk_connect(c, csd, SIM_ADDR(S), PORT), 0);
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, csd), HSK_SYN_SENT);
	assert_true(hsk_poll(c, csd) & HSK_POLLOUT);
	/* TCP_NODELAY pushes what is queued (tcp_output): not the SYN the
	 * first write is to carry. */
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_NODELAY, 1), 0);
	expect_no_tx(&sm);
	char buf[8];
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), -HSK_EAGAIN);
	assert_int_equal(hsk_send(c, csd, "abc", 3), 3);
	const sim_ev *e = next_seg(&sm, C, SYN, 3);
	assert_int_equal(e->ev.fastopen, 8);
	assert_int_equal(hsk_send(c, csd, "def", 3), -HSK_EAGAIN);  /* connecting */
	/* ... and so is the zero-copy path: nothing reserved, nothing to
	 * commit (found by fuzz_stack: the commit queued 3 bytes the
	 * application never wrote, and the server read 6) */
	void *room;
	assert_int_equal(hsk_send_reserve(c, csd, &room), -HSK_EAGAIN);
	assert_int_equal(hsk_send_commit(c, csd, 3), -HSK_EAGAIN);
	sim_run(&sm, 10 * MS);
	ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 3);
	assert_int_equal(sim_counter(&sm, C, "TCPFastOpenActive"), 1);
	/* Set on a connection: refused. */
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_FASTOPEN_CONNECT, 1), -HSK_EINVAL);
	tfo_drop(&sm, csd, ssd);
	tfo_finish(&sm, lsd);
}

/* A wrong cookie: the server takes no data, answers with the right
 * cookie (TCPFastOpenPassiveFail); the client sends its data again at
 * once after the handshake (TCPFastOpenActiveFail) and caches the new
 * cookie. */
static void test_wrong_cookie_falls_back(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1003, 8);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	static const uint8_t bad[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(hsk_fastopen_cookie_set(c, SIM_ADDR(S), bad, 8), 0);
	int csd = tfo_send(&sm, C, "hello", 5);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 5);
	assert_int_equal(last_fo(&sm), 8);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);           /* only the SYN */
	assert_int_equal(last_fo(&sm), 8);              /* the right cookie */
	expect_seg(&sm, C, A | PSH, 1, 1, 5);           /* the data again */
	expect_seg(&sm, S, A, 1, 6, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveFail"), 1);
	assert_int_equal(sim_counter(&sm, C, "TCPFastOpenActiveFail"), 1);
	assert_int_equal(sim_counter(&sm, C, "TCPFastOpenActive"), 0);
	uint8_t cookie[16];
	assert_int_equal(hsk_fastopen_cookie_get(c, SIM_ADDR(S), cookie), 8);
	assert_memory_not_equal(cookie, bad, 8);
	int ssd = sim_accept(&sm, S, lsd);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	/* The next connection gets through with the new cookie. */
	tfo_drop(&sm, csd, ssd);
	sim_run(&sm, 10 * MS);
	csd = tfo_send(&sm, C, "again", 5);
	sim_run(&sm, 10 * MS);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	ssd = sim_accept(&sm, S, lsd);
	tfo_drop(&sm, csd, ssd);
	tfo_finish(&sm, lsd);
}

/* A server without Fast Open (the default: client bit only) ignores the
 * option and the data; the client sends the data after the handshake, as
 * a retransmission: the SYN sent those bytes, and SND.MAX stays past them
 * (fuzz_stack once saw SND.MAX moved back to the SYN-ACK's ACK). */
static void test_server_without_fastopen(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1004);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	static const uint8_t some[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	assert_int_equal(hsk_fastopen_cookie_set(c, SIM_ADDR(S), some, 8), 0);
	int csd = tfo_send(&sm, C, "data", 4);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 4);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	assert_int_equal(last_fo(&sm), -1);
	expect_seg(&sm, C, A | PSH, 1, 1, 4);
	assert_int_equal(sim_counter(&sm, C, "TCPFastOpenActiveFail"), 1);
	assert_int_equal(sim_counter(&sm, C, "RetransSegs"), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenCookieReqd"), 0);
	int ssd = sim_accept(&sm, S, lsd);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 4);
	/* Fast Open off on the client: sendto refuses. */
	hsk_config off = cfg_tfo(0);
	sim sm2;
	sim_init(&sm2, 1, &off, 1);
	int sd = hsk_socket(sm2.st[0]);
	assert_int_equal(hsk_sendto(sm2.st[0], sd, "x", 1, HSK_MSG_FASTOPEN, SIM_ADDR(1), 1),
			 -HSK_EOPNOTSUPP);
	assert_int_equal(hsk_setsockopt(sm2.st[0], sd, HSK_TCP_FASTOPEN_CONNECT, 1),
			 -HSK_EOPNOTSUPP);
	sim_free(&sm2);
	tfo_drop(&sm, csd, ssd);
	tfo_finish(&sm, lsd);
}

/* The SYN with data is lost: the retransmitted SYN carries the cookie but
 * no data (as Linux), and the data follows the handshake. */
static void test_syn_with_data_lost(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1005, 8);
	hsk_stack *s = sm.st[S];
	fetch_cookie(&sm, C, lsd);
	sm.tx_cursor = sm.nlog;
	sim_lose(&sm, C, SYN, 1);
	int csd = tfo_send(&sm, C, "lost?", 5);
	sim_run(&sm, 1500 * MS);
	const sim_ev *e = next_seg(&sm, C, SYN, 5);
	uint32_t ciss = e->ev.seq;
	e = next_seg(&sm, C, SYN, 0);           /* after 1 s: no data */
	assert_int_equal(e->ev.fastopen, 8);
	e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, ciss + 1);
	e = next_seg(&sm, C, A | PSH, 5);
	assert_int_equal(e->ev.seq, ciss + 1);
	assert_int_equal(sim_counter(&sm, C, "TCPFastOpenActiveFail"), 1);
	int ssd = sim_accept(&sm, S, lsd);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 5);
	tfo_drop(&sm, csd, ssd);
	tfo_finish(&sm, lsd);
}

/* The server's SYN-ACK is lost: the client's SYN again (no data) finds
 * the Fast Open connection, which answers with its SYN-ACK. */
static void test_synack_lost(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1006, 8);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	fetch_cookie(&sm, C, lsd);
	sm.tx_cursor = sm.nlog;
	sim_lose(&sm, S, SYN | A, 1);
	int csd = tfo_send(&sm, C, "hi", 2);
	sim_run(&sm, 1500 * MS);
	const sim_ev *e = next_seg(&sm, C, SYN, 2);
	uint32_t ciss = e->ev.seq;
	e = next_seg(&sm, S, SYN | A, 0);       /* lost */
	assert_int_equal(e->ev.ack, ciss + 3);
	/* The server's own timer and the client's SYN race at 1 s: either
	 * way a SYN-ACK goes and the connection is made. */
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	assert_true(sim_counter(&sm, S, "TCPSynRetrans") >= 1);
	int ssd = sim_accept(&sm, S, lsd);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 2);
	/* The SYN-ACK took the data the first SYN carried, not the one sent
	 * again: the client goes on after it (a FIN at ISS + 3, at once). */
	sm.tx_cursor = sm.nlog;
	assert_int_equal(hsk_shutdown(c, csd, HSK_SHUT_WR), 0);
	e = next_seg(&sm, C, A | FIN, 0);
	assert_int_equal(e->ev.seq, ciss + 3);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_send(c, csd, "x", 1), -HSK_EPIPE);
	tfo_drop(&sm, csd, ssd);
	tfo_finish(&sm, lsd);
}

/* TCP_FASTOPEN 1: one Fast Open connection pending at a time; a second
 * meanwhile is a normal handshake (TCPFastOpenListenOverflow). Once the
 * first completes, Fast Open works again. */
static void test_queue_limit(void **state)
{
	(void)state;
	hsk_config sc = cfg_tfo(HSK_TFO_CLIENT | HSK_TFO_SERVER);
	const hsk_config *cfgs[3] = { NULL, &sc, NULL };
	sim sm;
	sim_init_hosts(&sm, 3, cfgs, 1007);
	hsk_stack *s = sm.st[S];
	int lsd = tfo_listen(&sm, 1);
	fetch_cookie(&sm, C, lsd);
	fetch_cookie(&sm, C2, lsd);
	/* The first client's handshake will not complete for a while. */
	sim_blackhole(&sm, C, A, true);
	int a = hsk_socket(sm.st[C]), b = hsk_socket(sm.st[C2]);
	assert_int_equal(hsk_sendto(sm.st[C], a, "one", 3, HSK_MSG_FASTOPEN, SIM_ADDR(S), PORT), 3);
	sim_run(&sm, 5 * MS);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	assert_int_equal(hsk_sendto(sm.st[C2], b, "two", 3, HSK_MSG_FASTOPEN, SIM_ADDR(S), PORT), 3);
	sim_run(&sm, 5 * MS);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenListenOverflow"), 1);
	assert_int_equal(sim_counter(&sm, C2, "TCPFastOpenActiveFail"), 1);
	/* Both are served. */
	int s1 = sim_accept(&sm, S, lsd), s2 = sim_accept(&sm, S, lsd);
	char buf[8];
	assert_int_equal(hsk_recv(s, s1, buf, sizeof(buf)), 3);
	assert_int_equal(hsk_recv(s, s2, buf, sizeof(buf)), 3);
	assert_int_equal(hsk_sock_state(s, s1), HSK_SYN_RECEIVED);
	/* The first completes: the queue has room again. */
	sim_blackhole(&sm, C, A, false);
	sim_run(&sm, 3 * SEC);
	assert_int_equal(hsk_sock_state(s, s1), HSK_ESTABLISHED);
	hsk_abort(sm.st[C2], b);
	hsk_close(s, s2);
	sim_run(&sm, 10 * MS);
	b = tfo_send(&sm, C2, "six", 3);
	sim_run(&sm, 5 * MS);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 2);
	s2 = sim_accept(&sm, S, lsd);
	hsk_abort(sm.st[C], a);
	hsk_abort(sm.st[C2], b);
	hsk_close(s, s1);
	hsk_close(s, s2);
	tfo_finish(&sm, lsd);
}

/* A Fast Open child accepted with its handshake pending (the client's
 * packets held back after its SYN): the server's socket; *csd the
 * client's. */
static int pending_child(sim *sm, int lsd, int *csd)
{
	sim_blackhole(sm, C, A, true);
	*csd = tfo_send(sm, C, "req", 3);
	sim_run(sm, 5 * MS);
	int ssd = sim_accept(sm, S, lsd);
	assert_int_equal(hsk_sock_state(sm->st[S], ssd), HSK_SYN_RECEIVED);
	return ssd;
}

/* A reset of a Fast Open connection still in SYN_RECEIVED: ECONNRESET
 * for the application (as Linux), and its place in the queue is free. The
 * listener closed under an accepted one that is still pending: the
 * connection lives on. */
static void test_pending_child_reset_and_orphaned(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1008, 1);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	fetch_cookie(&sm, C, lsd);
	int csd, ssd = pending_child(&sm, lsd, &csd);
	sim_blackhole(&sm, C, A, false);
	assert_int_equal(hsk_abort(c, csd), 0);         /* RST,ACK */
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_sock_error(s, ssd), HSK_ECONNRESET);
	assert_int_equal(sim_counter(&sm, S, "AttemptFails"), 0);
	hsk_close(s, ssd);
	/* The queue (1) is free again; the next one is accepted and its
	 * listener closed while it waits for the final ACK. */
	ssd = pending_child(&sm, lsd, &csd);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 2);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_blackhole(&sm, C, A, false);
	sim_run(&sm, 3 * SEC);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_ESTABLISHED);
	tfo_drop(&sm, csd, ssd);
	tfo_end(&sm);
}

/* An accepted child closed while still pending (an orphan in FIN_WAIT_1,
 * its handshake not done), then reset: its end frees its place in the
 * queue (tfo_child_done) as a socket's would. (The TCB's usual end in
 * conn.c, an orphan's, is not for a pending child.) */
static void test_pending_orphan_reset(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1010, 1);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	fetch_cookie(&sm, C, lsd);
	int csd, ssd = pending_child(&sm, lsd, &csd);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 3);
	assert_int_equal(hsk_close(s, ssd), 0);
	sim_run(&sm, 1 * MS);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	sim_blackhole(&sm, C, A, false);
	assert_int_equal(hsk_abort(c, csd), 0);         /* RST,ACK */
	sim_run(&sm, 5 * MS);
	/* The queue (1) is free again: the next is taken with its data. */
	ssd = pending_child(&sm, lsd, &csd);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 2);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenListenOverflow"), 0);
	sim_blackhole(&sm, C, A, false);
	tfo_drop(&sm, csd, ssd);
	tfo_finish(&sm, lsd);
}

/* shutdown(SHUT_WR) of an accepted Fast Open child still in
 * SYN_RECEIVED, as Linux's tcp_shutdown: FIN_WAIT_1, its FIN behind the
 * answer; a second shutdown is 0 and sends no second FIN. The client
 * reads the answer, then the end of the stream. */
static void test_pending_child_shutdown(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1011, 1);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	fetch_cookie(&sm, C, lsd);
	int csd, ssd = pending_child(&sm, lsd, &csd);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 3);
	assert_int_equal(hsk_send(s, ssd, "resp", 4), 4);
	size_t from = sm.nlog;
	assert_int_equal(hsk_shutdown(s, ssd, HSK_SHUT_WR), 0);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_FIN_WAIT_1);
	assert_int_equal(hsk_shutdown(s, ssd, HSK_SHUT_WR), 0);
	assert_int_equal(hsk_shutdown(s, ssd, HSK_SHUT_RDWR), 0);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_FIN_WAIT_1);
	sim_blackhole(&sm, C, A, false);
	sim_run(&sm, 3 * SEC);
	int fins = 0;
	for (size_t i = from; i < sm.nlog; i++)
		fins += sm.log[i].host == S && sm.log[i].ev.kind == HSK_EV_TX &&
			(sm.log[i].ev.flags & FIN);
	assert_int_equal(fins, 1);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_FIN_WAIT_2);
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "resp", 4);
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 0);
	hsk_close(c, csd);
	hsk_close(s, ssd);
	tfo_finish(&sm, lsd);
}

/* Linux's 0x200 and 0x4: a server that takes data without a cookie, a
 * client that sends it without one (no option at all). */
static void test_no_cookie_mode(void **state)
{
	(void)state;
	hsk_config cc = cfg_tfo(HSK_TFO_CLIENT | HSK_TFO_CLIENT_NO_COOKIE);
	hsk_config sc = cfg_tfo(HSK_TFO_SERVER | HSK_TFO_SERVER_NO_COOKIE | HSK_TFO_SERVER_ALL);
	const hsk_config *cfgs[2] = { &cc, &sc };
	sim sm;
	sim_init_hosts(&sm, 2, cfgs, 1009);
	hsk_stack *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);  /* no TCP_FASTOPEN: 0x400 */
	int csd = tfo_send(&sm, C, "nocookie", 8);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 8);
	assert_int_equal(last_fo(&sm), -1);
	expect_seg(&sm, S, SYN | A, 0, 9, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	assert_int_equal(sim_counter(&sm, C, "TCPFastOpenActive"), 1);
	int ssd = sim_accept(&sm, S, lsd);
	char buf[16];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 8);
	tfo_drop(&sm, csd, ssd);
	tfo_finish(&sm, lsd);
}

/* SYNs with Fast Open lost twice in a row (a middlebox may drop them):
 * the client leaves the cookie aside for 60 s << 2 (Linux's syn_loss
 * back-off in tcp_fastopen_cache_get), asking for a cookie instead with
 * no data on the SYN; after that it sends data on the SYN again. */
static void test_syn_loss_backoff(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1010, 8);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	fetch_cookie(&sm, C, lsd);
	sim_blackhole(&sm, C, SYN, true);
	for (int i = 0; i < 2; i++) {
		int sd = tfo_send(&sm, C, "drop", 4);
		sim_run(&sm, 1500 * MS);        /* a timeout, one SYN again */
		hsk_abort(c, sd);
	}
	sim_blackhole(&sm, C, SYN, false);
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;
	/* At once: a cookie request, no data (as without a cookie). */
	int sd = tfo_send(&sm, C, "wait", -HSK_EINPROGRESS);
	const sim_ev *e = next_seg(&sm, C, SYN, 0);
	assert_int_equal(e->ev.fastopen, 0);
	hsk_abort(c, sd);
	sim_run(&sm, 10 * MS);                  /* its SYN-ACK meets a RST */
	/* 240 s after the last loss: the cookie and data on the SYN. */
	sim_run(&sm, 241 * SEC);
	sm.tx_cursor = sm.nlog;
	sd = tfo_send(&sm, C, "back", 4);
	e = next_seg(&sm, C, SYN, 4);
	assert_int_equal(e->ev.fastopen, 8);
	sim_run(&sm, 10 * MS);
	assert_int_equal(sim_counter(&sm, C, "TCPFastOpenActive"), 1);
	int ssd = sim_accept(&sm, S, lsd);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "back", 4);
	tfo_drop(&sm, sd, ssd);
	tfo_finish(&sm, lsd);
}

/* A SYN with data and no Fast Open option, at a Fast Open listener: a
 * normal handshake, the data not taken, and no cookie offered (the client
 * did not ask; Linux answers the same). */
static void test_data_without_option(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1011, 8);
	hsk_stack *s = sm.st[S];
	sim_peer p = { .sm = &sm, .host = S, .addr = SIM_ADDR(7), .port = 4000,
		       .hport = PORT, .iss = 1000, .lsd = lsd };
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	sim_inject_opts(&sm, S, p.addr, p.port, PORT, p.iss, 0, SYN, 65535, &syn, "data", 4);
	const sim_ev *e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, p.iss + 1);         /* the data not taken */
	assert_int_equal(e->ev.fastopen, -1);           /* no cookie */
	p.hiss = e->ev.seq;
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 0);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenCookieReqd"), 0);
	assert_int_equal(hsk_accept(s, lsd, NULL), -HSK_EAGAIN);
	sim_peer_send(&p, 1, 1, A | PSH, 65535, "data", 4);
	p.sd = sim_accept(&sm, S, lsd);
	char buf[8];
	assert_int_equal(hsk_recv(s, p.sd, buf, sizeof(buf)), 4);
	hsk_abort(s, p.sd);
	tfo_finish(&sm, lsd);
}

/* Simultaneous open of a Fast Open connect whose SYN carried data: a SYN
 * (no ACK) from the server crosses ours. Our SYN,ACK repeats the SYN, and
 * the data sent on it stays sent (SND.MAX is kept), so that the peer's ACK
 * of that data is acceptable and completes the open; when the peer
 * acknowledges the SYN alone, the data goes again. (Found by fuzz_stack:
 * SND.MAX went back to ISS, the data became "new" below what was sent, and
 * the peer's ACK of it, with nothing sent again while its window was
 * closed, was a bad ACK in SYN_RECEIVED: a reset.) */
static void test_simultaneous_open_data_on_syn(void **state)
{
	(void)state;
	for (int data_acked = 0; data_acked < 2; data_acked++) {
		sim sm;
		int lsd = tfo_setup(&sm, 1020 + (uint64_t)data_acked, 8);
		hsk_stack *c = sm.st[C];
		/* A Fast Open connect of the family (sim_inject's), with a
		 * cookie set: the server sees none of it, any cookie does. */
		static const uint8_t ck[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
		hsk_addr to = sim_addr(&sm, S);
		assert_int_equal(hsk_fastopen_cookie_set_addr(c, &to, ck, sizeof(ck)), 0);
		sm.tx_cursor = sm.nlog;
		sim_blackhole(&sm, C, -1, true);        /* the server sees none of it */
		int csd = sim_socket(&sm, C);
		assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
		assert_int_equal(sim_connect_to(&sm, C, csd, S, PORT), 0);
		assert_int_equal(hsk_send(c, csd, "hello", 5), 5);
		uint32_t ciss = next_seg(&sm, C, SYN, 5)->ev.seq;
		hsk_addr me;
		uint16_t cport = 0;
		assert_int_equal(hsk_sock_name(c, csd, &me, &cport), 0);
		enum { PISS = 5000 };
		/* Its window is closed: nothing but the SYN,ACK can go. */
		sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, PISS, 0, SYN, 0, NULL, 0);
		sim_run(&sm, MS);
		assert_int_equal(hsk_sock_state(c, csd), HSK_SYN_RECEIVED);
		const sim_ev *e = sim_next_tx(&sm);
		assert_non_null(e);
		assert_int_equal(e->ev.flags & (SYN | A), SYN | A);
		assert_int_equal(e->ev.seq, ciss);
		assert_int_equal(e->ev.ack, PISS + 1);
		assert_null(sim_next_tx(&sm));
		size_t mark = sm.nlog;
		sim_inject(&sm, C, SIM_ADDR(S), PORT, cport, PISS + 1,
			   ciss + 1 + (data_acked ? 5 : 0), A, 65535, NULL, 0);
		sim_run(&sm, MS);
		assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
		for (size_t i = mark; i < sm.nlog; i++)
			assert_false(sm.log[i].ev.kind == HSK_EV_TX &&
				     (sm.log[i].ev.flags & HSK_TH_RST));
		if (!data_acked) {
			/* The data again, from SND.UNA, once the RTO runs out. */
			sim_run(&sm, 3 * SEC);
			bool again = false;
			for (size_t i = mark; i < sm.nlog; i++)
				if (sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_TX &&
				    sm.log[i].ev.seq == ciss + 1 && sm.log[i].ev.len == 5)
					again = true;
			assert_true(again);
		}
		hsk_abort(c, csd);
		sim_blackhole(&sm, C, -1, false);
		tfo_finish(&sm, lsd);
	}
}

/* ---- Fast Open children from a peer the test plays ---- */

enum { PEER = 7, PPORT = 4000 };

/* S's cookie for SIM_ADDR(PEER) (over IPv6, of the addresses' twins). */
static void peer_cookie(sim *sm, uint8_t ck[8])
{
	cookie_for(sm, SIM_ADDR(PEER), ck);
}

/* A SYN from SIM_ADDR(PEER):port with a valid cookie (S's own) and msg on
 * it; the SYN-ACK it draws, whose ack must take the data in. */
static const sim_ev *peer_tfo_syn(sim *sm, uint16_t port, uint32_t irs, const char *msg)
{
	uint8_t ck[8];
	peer_cookie(sm, ck);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.has_fo = true;
	syn.fo_len = 8;
	syn.fo_cookie = ck;
	size_t n = strlen(msg);
	sim_inject_opts(sm, S, SIM_ADDR(PEER), port, PORT, irs, 0, SYN, 65535, &syn, msg, n);
	const sim_ev *e = next_seg(sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, irs + 1 + (uint32_t)n);
	return e;
}

/* The ports of the listener's pending Fast Open children, head first,
 * checking each link both ways; their number. */
static int tfo_kids(sim *sm, uint16_t *ports, int max)
{
	tcp_listener *l = listener_find(&sm->st[S]->tcp, 0, PORT);
	assert_non_null(l);
	int n = 0;
	tcb *prev = NULL;
	for (tcb *t = l->tfo_kids; t; t = t->act->tfo_next) {
		assert_true(n < max);
		assert_ptr_equal(t->act->tfo_prev, prev);
		assert_ptr_equal(t->act->listener, l);
		assert_true(t->flags & TF_TFO_PENDING);
		ports[n++] = t->node.key.rport;
		prev = t;
	}
	assert_int_equal(l->tfo_pending, n);
	return n;
}

/* A Fast Open child in SYN_RECEIVED answers the client's SYN sent again
 * with its SYN-ACK, but at most once per invalid_ratelimit (500 ms), as a
 * request does (test_replies): a flood of such SYNs draws one
 * (TCPACKSkippedSynRecv for the rest), and half a second later one more. */
static void test_child_syn_again_limited(void **state)
{
	(void)state;
	enum { FLOOD = 100, IRS = 7000 };
	sim sm;
	int lsd = tfo_setup(&sm, 1030, 8);
	hsk_stack *s = sm.st[S];
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;
	uint32_t iss = peer_tfo_syn(&sm, PPORT, IRS, "query")->ev.seq;
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	uint64_t retrans = sim_counter(&sm, S, "TCPSynRetrans");
	for (int i = 0; i < FLOOD; i++)
		sim_inject(&sm, S, SIM_ADDR(PEER), PPORT, PORT, IRS, 0, SYN, 65535, NULL, 0);
	const sim_ev *e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.seq, iss);
	assert_int_equal(e->ev.ack, IRS + 6);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, S, "TCPACKSkippedSynRecv"), FLOOD - 1);
	assert_int_equal(sim_counter(&sm, S, "TCPSynRetrans"), retrans + 1);
	/* Half a second on (the SYN-ACK's own timeout is at 1 s): one more. */
	sim_run(&sm, 500 * MS);
	expect_no_tx(&sm);
	for (int i = 0; i < FLOOD; i++)
		sim_inject(&sm, S, SIM_ADDR(PEER), PPORT, PORT, IRS, 0, SYN, 65535, NULL, 0);
	e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.seq, iss);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, S, "TCPACKSkippedSynRecv"), 2 * FLOOD - 2);
	/* The child is intact: the final ACK completes it, its data there. */
	sim_inject(&sm, S, SIM_ADDR(PEER), PPORT, PORT, IRS + 6, iss + 1, A, 65535, NULL, 0);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_ESTABLISHED);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "query", 5);
	hsk_abort(s, ssd);
	tfo_finish(&sm, lsd);
}

/* A SYN at another sequence number is not the client's SYN sent again: a
 * Fast Open child in SYN_RECEIVED answers it with a challenge ACK (RFC
 * 5961 §4, as Linux's tcp_validate_incoming), not with its SYN-ACK, and
 * stays as it was. */
static void test_child_other_syn_challenged(void **state)
{
	(void)state;
	enum { IRS = 7000 };
	sim sm;
	int lsd = tfo_setup(&sm, 1031, 8);
	hsk_stack *s = sm.st[S];
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;
	uint32_t iss = peer_tfo_syn(&sm, PPORT, IRS, "query")->ev.seq;
	uint64_t retrans = sim_counter(&sm, S, "TCPSynRetrans");
	sim_inject(&sm, S, SIM_ADDR(PEER), PPORT, PORT, IRS + 100000, 0, SYN, 65535, NULL, 0);
	const sim_ev *e = next_seg(&sm, S, A, 0);
	assert_int_equal(e->ev.seq, iss + 1);
	assert_int_equal(e->ev.ack, IRS + 6);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, S, "TCPSynRetrans"), retrans);
	assert_int_equal(sim_counter(&sm, S, "TCPChallengeACK"), 1);
	sim_inject(&sm, S, SIM_ADDR(PEER), PPORT, PORT, IRS + 6, iss + 1, A, 65535, NULL, 0);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_ESTABLISHED);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 5);
	hsk_abort(s, ssd);
	tfo_finish(&sm, lsd);
}

/* Several Fast Open children pending, completed or reset in an order
 * other than their list's (the newest first): each leaves the list with
 * its neighbours linked to each other, the count with it; the listener
 * closed under the last one leaves none pointing at it. */
static void test_children_leave_in_any_order(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1031, 8);
	hsk_stack *s = sm.st[S];
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;
	uint32_t iss[4];
	for (int i = 0; i < 4; i++)
		iss[i] = peer_tfo_syn(&sm, (uint16_t)(PPORT + i), 100u * (uint32_t)i, "ab")->ev.seq;
	uint16_t p[8];
	assert_int_equal(tfo_kids(&sm, p, 8), 4);
	assert_int_equal(p[0], PPORT + 3);
	assert_int_equal(p[3], PPORT);
	/* The middle of the list (ports +2: a neighbour each way) completes. */
	sim_inject(&sm, S, SIM_ADDR(PEER), PPORT + 2, PORT, 200 + 3, iss[2] + 1, A, 65535, NULL, 0);
	assert_int_equal(tfo_kids(&sm, p, 8), 3);
	assert_int_equal(p[0], PPORT + 3);
	assert_int_equal(p[1], PPORT + 1);
	assert_int_equal(p[2], PPORT);
	/* The tail (the oldest) is reset. */
	sim_inject(&sm, S, SIM_ADDR(PEER), PPORT, PORT, 0 + 3, 0, HSK_TH_RST, 0, NULL, 0);
	assert_int_equal(tfo_kids(&sm, p, 8), 2);
	assert_int_equal(p[0], PPORT + 3);
	assert_int_equal(p[1], PPORT + 1);
	/* The head completes: one left. */
	sim_inject(&sm, S, SIM_ADDR(PEER), PPORT + 3, PORT, 300 + 3, iss[3] + 1, A, 65535, NULL, 0);
	assert_int_equal(tfo_kids(&sm, p, 8), 1);
	assert_int_equal(p[0], PPORT + 1);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 4);
	/* Accepted oldest first: the reset one is there, closed (as Linux). */
	int sd[4];
	for (int i = 0; i < 4; i++)
		sd[i] = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, sd[0]), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(s, sd[0]), HSK_ECONNRESET);
	assert_int_equal(hsk_sock_state(s, sd[1]), HSK_SYN_RECEIVED);
	/* The listener goes with one still pending; it completes after. */
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_inject(&sm, S, SIM_ADDR(PEER), PPORT + 1, PORT, 100 + 3, iss[1] + 1, A, 65535, NULL, 0);
	for (int i = 1; i < 4; i++)
		assert_int_equal(hsk_sock_state(s, sd[i]), HSK_ESTABLISHED);
	for (int i = 0; i < 4; i++)
		hsk_abort(s, sd[i]);
	tfo_end(&sm);
}

/* The SYN-ACK of a Fast Open child whose client offered a zero window is
 * retransmitted as any SYN-ACK (synack_retries, then the child goes), not
 * taken for a window probe (whose limit is retries2's): two children, one
 * of a SYN with window 0, one with 65535, both unanswered, send the same
 * SYN-ACKs at the same times and go at the same time. */
static void test_child_zero_window_synack_retries(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1035, 8);
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;
	uint8_t ck[8];
	peer_cookie(&sm, ck);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.has_fo = true;
	syn.fo_len = 8;
	syn.fo_cookie = ck;
	uint64_t t0 = sim_now(&sm);
	size_t from = sm.nlog;
	sim_inject_opts(&sm, S, SIM_ADDR(PEER), PPORT, PORT, 100, 0, SYN, 0, &syn, "zero", 4);
	sim_inject_opts(&sm, S, SIM_ADDR(PEER), PPORT + 1, PORT, 200, 0, SYN, 65535, &syn, "open",
			4);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 2);
	uint64_t gone[2] = { 0, 0 };
	for (int i = 0; i < 400 && !(gone[0] && gone[1]); i++) {
		sim_run(&sm, 1 * SEC);
		uint16_t ports[4];
		int n = tfo_kids(&sm, ports, 4);
		for (int k = 0; k < 2; k++) {
			bool there = false;
			for (int j = 0; j < n; j++)
				there |= ports[j] == PPORT + k;
			if (!there && !gone[k])
				gone[k] = sim_now(&sm) - t0;
		}
	}
	assert_true(gone[0] && gone[0] == gone[1]);
	uint64_t at[2][16];
	int n[2] = { 0, 0 };
	for (size_t i = from; i < sm.nlog; i++) {
		const sim_ev *e = &sm.log[i];
		if (e->host != S || e->ev.kind != HSK_EV_TX || e->ev.flags != (SYN | A))
			continue;
		int k = e->ev.tuple.rport - PPORT;
		if (k >= 0 && k < 2 && n[k] < 16)
			at[k][n[k]++] = e->ev.t_ns - t0;
	}
	assert_int_equal(n[0], 1 + 5);          /* synack_retries 5 */
	assert_int_equal(n[1], n[0]);
	assert_memory_equal(at[0], at[1], (size_t)n[0] * sizeof(at[0][0]));
	assert_int_equal(sim_counter(&sm, S, "TCPWinProbe"), 0);
	tfo_finish(&sm, lsd);
}

/* No memory for the data a good cookie's SYN carries (tcp_mem_high, 1 KiB
 * here, below any ring): the child is made all the same, its SYN-ACK
 * acknowledges the SYN alone (TCPRcvQDrop), so that the client sends the
 * data again, and the application reads nothing. */
static void test_syn_data_no_memory(void **state)
{
	(void)state;
	hsk_config sc = cfg_tfo(HSK_TFO_CLIENT | HSK_TFO_SERVER);
	sc.tcp_mem_low = sc.tcp_mem_pressure = sc.tcp_mem_high = 1024;
	sim sm;
	int lsd = tfo_setup_cfg(&sm, &sc, 1034, 8);
	hsk_stack *s = sm.st[S];
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;
	uint8_t ck[8];
	peer_cookie(&sm, ck);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.has_fo = true;
	syn.fo_len = 8;
	syn.fo_cookie = ck;
	sim_inject_opts(&sm, S, SIM_ADDR(PEER), PPORT, PORT, 300, 0, SYN, 65535, &syn, "data", 4);
	const sim_ev *e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, 301);               /* the data not taken */
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPRcvQDrop"), 1);
	int ssd = sim_accept(&sm, S, lsd);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), -HSK_EAGAIN);
	hsk_abort(s, ssd);
	tfo_finish(&sm, lsd);
}

/* max_conns TCBs in use (1 here): a Fast Open SYN with a good cookie
 * cannot have its TCB, so it is a plain request (TCPFastOpenPassiveFail,
 * TCPAbortOnMemory): its SYN-ACK acknowledges the SYN alone. Its third
 * ACK finds no TCB to make either: dropped (ListenDrops), nothing sent,
 * the request kept; once a TCB is free, the SYN-ACK's retry and the
 * client's ACK to it make the connection. Nothing leaked. */
static void test_no_tcb_left(void **state)
{
	(void)state;
	hsk_config sc = cfg_tfo(HSK_TFO_CLIENT | HSK_TFO_SERVER);
	sc.max_conns = 1;
	sim sm;
	int lsd = tfo_setup_cfg(&sm, &sc, 1033, 8);
	hsk_stack *s = sm.st[S];
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;
	peer_tfo_syn(&sm, PPORT, 100, "one");           /* the one TCB */
	uint8_t ck[8];
	peer_cookie(&sm, ck);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.has_fo = true;
	syn.fo_len = 8;
	syn.fo_cookie = ck;
	sim_inject_opts(&sm, S, SIM_ADDR(PEER), PPORT + 1, PORT, 200, 0, SYN, 65535, &syn, "two", 3);
	const sim_ev *e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, 201);               /* the data not taken */
	uint32_t iss = e->ev.seq;
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveFail"), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 1);
	/* Its third ACK finds no TCB to make: dropped, the request kept as
	 * acknowledged (Linux's listen_overflow), nothing tried. */
	uint64_t drops = sim_counter(&sm, S, "ListenDrops");
	sim_inject(&sm, S, SIM_ADDR(PEER), PPORT + 1, PORT, 201, iss + 1, A, 65535, NULL, 0);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, S, "ListenDrops"), drops + 1);
	assert_int_equal(sim_counter(&sm, S, "ListenOverflows"), 0);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 1);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_accept(s, lsd, NULL), -HSK_EAGAIN);
	/* The TCB gone, the SYN-ACK's timer says it again, and the client's
	 * ACK to it makes the connection. */
	hsk_abort(s, ssd);
	next_seg(&sm, S, HSK_TH_RST | A, 0);
	sim_run(&sm, 1 * SEC);
	e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.seq, iss);
	sim_inject(&sm, S, SIM_ADDR(PEER), PPORT + 1, PORT, 201, iss + 1, A, 65535, NULL, 0);
	ssd = sim_accept(&sm, S, lsd);
	assert_true(ssd >= 0);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_ESTABLISHED);
	hsk_abort(s, ssd);
	tfo_finish(&sm, lsd);
}

/* A cookie goes in the SYN-ACK only where it fits: over a 68-byte IPv4
 * MTU (MSS 28) the SYN-ACK's other options (MSS, SACK permitted,
 * timestamps, window scale: 20 bytes) leave no room for its 10, so the
 * SYN-ACK carries no Fast Open option (and no packet above the MTU); a
 * cookie request without the timestamps has its cookie. */
static void test_synack_cookie_only_where_it_fits(void **state)
{
	(void)state;
	if (sim_env_ipv6())
		skip();         /* IPv6's MTU is 1280 at least: room always */
	hsk_config sc = cfg_tfo(HSK_TFO_CLIENT | HSK_TFO_SERVER);
	sc.mtu = 68;
	sim sm;
	int lsd = tfo_setup_cfg(&sm, &sc, 1036, 8);
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.sack_ok = true;
	syn.has_ts = true;
	syn.ts_val = 1;
	syn.wscale = 7;
	syn.has_fo = true;              /* a cookie request */
	sim_inject_opts(&sm, S, SIM_ADDR(PEER), PPORT, PORT, 100, 0, SYN, 65535, &syn, NULL, 0);
	const sim_ev *e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, 101);
	assert_int_equal(e->ev.fastopen, -1);
	syn.has_ts = false;
	sim_inject_opts(&sm, S, SIM_ADDR(PEER), PPORT + 1, PORT, 200, 0, SYN, 65535, &syn, NULL, 0);
	e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, 201);
	assert_int_equal(e->ev.fastopen, 8);
	expect_no_tx(&sm);
	/* A Fast Open child of a backup key's cookie: the new cookie its
	 * SYN-ACK would bring does not fit beside the timestamps either. */
	uint8_t old_ck[8], keys[32];
	peer_cookie(&sm, old_ck);
	assert_int_equal(hsk_fastopen_key_get(sm.st[S], keys), 16);
	static const uint8_t k1[16] = "0123456789abcdef";
	assert_int_equal(hsk_fastopen_key_set(sm.st[S], k1, keys), 0);
	syn.has_ts = true;
	syn.fo_len = 8;
	syn.fo_cookie = old_ck;
	sim_inject_opts(&sm, S, SIM_ADDR(PEER), PPORT + 2, PORT, 300, 0, SYN, 65535, &syn, "d", 1);
	e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, 302);               /* the data taken */
	assert_int_equal(e->ev.fastopen, -1);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveAltKey"), 1);
	expect_no_tx(&sm);
	tfo_finish(&sm, lsd);

	/* The client's side: over the same MTU its cookie does not fit
	 * beside the SYN's other options: no Fast Open option and no data on
	 * the SYN (sendto takes none: -EINPROGRESS). */
	hsk_config cc = cfg_tfo(HSK_TFO_CLIENT);
	cc.mtu = 68;
	const hsk_config *cfgs[2] = { &cc, NULL };
	sim_init_hosts(&sm, 2, cfgs, 1037);
	lsd = tfo_listen(&sm, 8);
	static const uint8_t ck[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(hsk_fastopen_cookie_set(sm.st[C], SIM_ADDR(S), ck, 8), 0);
	sm.tx_cursor = sm.nlog;
	int csd = hsk_socket(sm.st[C]);
	assert_int_equal(hsk_sendto(sm.st[C], csd, "abc", 3, HSK_MSG_FASTOPEN, SIM_ADDR(S), PORT),
			 -HSK_EINPROGRESS);
	e = next_seg(&sm, C, SYN, 0);
	assert_int_equal(e->ev.fastopen, -1);
	hsk_abort(sm.st[C], csd);
	tfo_finish(&sm, lsd);
}

/* A cookie is 8 bytes here: one of another length is not valid, even 16
 * bytes whose first 8 are the right cookie; the SYN's data is not taken
 * and the SYN-ACK brings the right cookie. A listener without
 * TCP_FASTOPEN takes no data on a SYN whatever its cookie. */
static void test_cookie_length_checked(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1034, 8);
	hsk_stack *s = sm.st[S];
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;
	uint8_t ck[16];
	peer_cookie(&sm, ck);
	memset(ck + 8, 0, 8);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.has_fo = true;
	syn.fo_len = 16;
	syn.fo_cookie = ck;
	sim_inject_opts(&sm, S, SIM_ADDR(PEER), PPORT, PORT, 100, 0, SYN, 65535, &syn, "long", 4);
	const sim_ev *e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, 101);
	assert_int_equal(e->ev.fastopen, 8);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 0);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveFail"), 1);
	/* The same cookie, 8 bytes, at a listener without TCP_FASTOPEN. */
	int plain = sim_listen(&sm, S, PORT + 1, 8);
	syn.fo_len = 8;
	sim_inject_opts(&sm, S, SIM_ADDR(PEER), PPORT + 1, PORT + 1, 200, 0, SYN, 65535, &syn,
			"nope", 4);
	e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, 201);
	assert_int_equal(e->ev.fastopen, -1);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 0);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenListenOverflow"), 0); /* no queue */
	/* ... and the right one at the right listener is taken. */
	peer_tfo_syn(&sm, PPORT + 2, 300, "good");
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	hsk_close(s, plain);
	tfo_finish(&sm, lsd);
}

/* The client caches the server's MSS with its cookie, and the data on its
 * next SYN fits in it (with room for the options): a server whose
 * TCP_MAXSEG is 600 gets 560 bytes on the SYN (sendto says so, as Linux);
 * the rest follows the handshake. */
static void test_syn_data_fits_server_mss(void **state)
{
	(void)state;
	hsk_config sc = cfg_tfo(HSK_TFO_CLIENT | HSK_TFO_SERVER);
	const hsk_config *cfgs[2] = { NULL, &sc };
	sim sm;
	sim_init_hosts(&sm, 2, cfgs, 1035);
	hsk_stack *s = sm.st[S];
	int lsd = hsk_socket(s);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_FASTOPEN, 8), 0);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_MAXSEG, 600), 0);
	assert_int_equal(hsk_bind(s, lsd, 0, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 16), 0);
	fetch_cookie(&sm, C, lsd);
	sm.tx_cursor = sm.nlog;
	static char big[2000];
	memset(big, 'b', sizeof(big));
	int csd = hsk_socket(sm.st[C]);
	assert_int_equal(hsk_sendto(sm.st[C], csd, big, sizeof(big), HSK_MSG_FASTOPEN,
				    SIM_ADDR(S), PORT), 560);     /* what the SYN took */
	const sim_ev *e = next_seg(&sm, C, SYN, 560);
	assert_int_equal(e->ev.fastopen, 8);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_send(sm.st[C], csd, big + 560, sizeof(big) - 560),
			 (long)sizeof(big) - 560);
	sim_run(&sm, 100 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	static char got[2000];
	size_t n = 0;
	long r;
	while ((r = hsk_recv(s, ssd, got + n, sizeof(got) - n)) > 0)
		n += (size_t)r;
	assert_int_equal(n, sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	tfo_drop(&sm, csd, ssd);
	tfo_finish(&sm, lsd);
}

/* A TCP_FASTOPEN_CONNECT socket of C, bound to port, its connect to
 * S:PORT made and msg sent on its SYN. */
static int tfo_connect_from(sim *sm, uint16_t port, const char *msg)
{
	hsk_stack *c = sm->st[C];
	int sd = sim_socket(sm, C);
	assert_int_equal(hsk_setsockopt(c, sd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
	assert_int_equal(sim_bind_any(sm, C, sd, port), 0);
	assert_int_equal(sim_connect_to(sm, C, sd, S, PORT), 0);
	assert_int_equal(hsk_send(c, sd, msg, strlen(msg)), (long)strlen(msg));
	return sd;
}

/* A Fast Open connect closed in SYN_SENT and made again on the same
 * 4-tuple at the same instant has the same ISS (RFC 6528's clock has not
 * moved; found by fuzz_stack). The server's SYN-ACK to the first SYN
 * acknowledges the first one's bytes, and falls within what the second
 * sent: taken, the second's first bytes would count as delivered while
 * the server holds the first one's. It echoes the first one's TSval, of
 * another random offset: refused with a reset (Linux's PAWSActive), the
 * second stays in SYN_SENT and its own bytes arrive whole. */
static void test_old_incarnation_synack_refused(void **state)
{
	(void)state;
	enum { CPORT = 40000 };
	static const char first[] = "old request", second[] = "the new request";
	sim sm;
	int lsd = tfo_setup(&sm, 1036, 8);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	/* Connects of the family (sim_inject's), with S's own cookie. */
	uint8_t ck[8];
	cookie_for(&sm, SIM_ADDR(C), ck);
	hsk_addr to = sim_addr(&sm, S);
	assert_int_equal(hsk_fastopen_cookie_set_addr(c, &to, ck, sizeof(ck)), 0);
	sm.tx_cursor = sm.nlog;
	sim_blackhole(&sm, C, -1, true);        /* the server sees neither SYN */
	int old = tfo_connect_from(&sm, CPORT, first);
	const sim_ev *e = next_seg(&sm, C, SYN, strlen(first));
	uint32_t iss = e->ev.seq, old_tsval = e->ev.ts_val;
	assert_true(e->ev.has_ts);
	assert_int_equal(hsk_close(c, old), 0);
	int csd = tfo_connect_from(&sm, CPORT, second);
	e = next_seg(&sm, C, SYN, strlen(second));
	assert_int_equal(e->ev.seq, iss);
	assert_int_not_equal(e->ev.ts_val, old_tsval);
	/* The server's answer to the first SYN. */
	tcp_opts o;
	tcp_opts_init(&o);
	o.mss = 1460;
	o.has_ts = true;
	o.ts_val = 1;
	o.ts_ecr = old_tsval;
	uint32_t old_end = iss + 1 + (uint32_t)strlen(first);
	sim_inject_opts(&sm, C, SIM_ADDR(S), PORT, CPORT, 9000, old_end, SYN | A, 65535, &o,
			NULL, 0);
	e = next_seg(&sm, C, HSK_TH_RST, 0);
	assert_int_equal(e->ev.seq, old_end);
	assert_int_equal(hsk_sock_state(c, csd), HSK_SYN_SENT);
	assert_int_equal(sim_counter(&sm, C, "PAWSActive"), 1);
	/* The second SYN again, and the server reads its bytes. */
	sim_blackhole(&sm, C, -1, false);
	sim_run(&sm, 5 * SEC);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	int ssd = sim_accept(&sm, S, lsd);
	char got[64];
	assert_int_equal(hsk_recv(s, ssd, got, sizeof(got)), (long)strlen(second));
	assert_memory_equal(got, second, strlen(second));
	tfo_drop(&sm, csd, ssd);
	tfo_finish(&sm, lsd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_then_data_on_syn),
		cmocka_unit_test(test_fastopen_connect),
		cmocka_unit_test(test_wrong_cookie_falls_back),
		cmocka_unit_test(test_server_without_fastopen),
		cmocka_unit_test(test_syn_with_data_lost),
		cmocka_unit_test(test_synack_lost),
		cmocka_unit_test(test_queue_limit),
		cmocka_unit_test(test_pending_child_reset_and_orphaned),
		cmocka_unit_test(test_pending_orphan_reset),
		cmocka_unit_test(test_pending_child_shutdown),
		cmocka_unit_test(test_no_cookie_mode),
		cmocka_unit_test(test_syn_loss_backoff),
		cmocka_unit_test(test_data_without_option),
		cmocka_unit_test(test_simultaneous_open_data_on_syn),
		cmocka_unit_test(test_child_syn_again_limited),
		cmocka_unit_test(test_child_other_syn_challenged),
		cmocka_unit_test(test_children_leave_in_any_order),
		cmocka_unit_test(test_no_tcb_left),
		cmocka_unit_test(test_syn_data_no_memory),
		cmocka_unit_test(test_child_zero_window_synack_retries),
		cmocka_unit_test(test_cookie_length_checked),
		cmocka_unit_test(test_synack_cookie_only_where_it_fits),
		cmocka_unit_test(test_syn_data_fits_server_mss),
		cmocka_unit_test(test_old_incarnation_synack_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
