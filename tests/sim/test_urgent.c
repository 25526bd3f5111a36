/*
 * The urgent mechanism (RFC 9293 §3.8.5, src/tcp/urgent.c): urgent data
 * stays in line; the application learns that some is pending (POLLPRI,
 * an event per advance of the pointer) and how much is left to read
 * (hsk_sock_urgent); send(MSG_OOB) marks every segment before SND.UP with
 * URG until SND.UNA passes it. The peer is played by the test, so every
 * pointer is exact; the last test runs two stacks against each other.
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
#define URG HSK_TH_URG

/* A peer's connection to S; wscale: the peer offers window scaling (so
 * that S's window is not cut to 65535, and a small read opens none worth
 * telling: hsk_recv's small read) */
static sim_peer open_peer_ws(sim *sm, uint64_t seed, bool wscale)
{
	sim_init(sm, 2, NULL, seed);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = (uint16_t)sim_mss(sm);
	if (wscale)
		syn.wscale = 0;
	sim_peer p;
	sim_peer_accept(sm, &p, S, PORT, 1000, &syn);
	return p;
}

static sim_peer open_peer(sim *sm, uint64_t seed)
{
	return open_peer_ws(sm, seed, false);
}

/* Whether the events report sd with POLLPRI. */
static bool told_urgent(hsk_stack *st, int sd)
{
	int m = sim_socket_events(st, sd);
	return m >= 0 && (m & HSK_POLLPRI);
}

/* Whether the events report sd at all. */
static bool socket_told_any(hsk_stack *st, int sd)
{
	return sim_socket_events(st, sd) >= 0;
}

static void read_exactly(hsk_stack *st, int sd, char *buf, size_t n)
{
	assert_int_equal(hsk_recv(st, sd, buf, n), (long)n);
}

/* Urgent mode ended when the read passed the pointer: an RCV.UP left
 * behind would look ahead again 2^31 bytes later. Seen by putting the
 * old pointer ahead now, as the wrap would: it must count for nothing. */
static void expect_urgent_mode_over(hsk_stack *st, int sd)
{
	tcb *t = st->socks[sd].t;
	if (t->act)
		t->act->rcv_up = seq_add(t->rcv_nxt, 100);
	assert_int_equal(hsk_sock_urgent(st, sd), 0);
}

/* Ten bytes whose last is urgent (the pointer after them, the BSD
 * reading): the application is told, and the count of urgent bytes left
 * falls as it reads them in order, in line; then POLLPRI is gone. */
static void test_urgent_data_read_in_line(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer_ws(&sm, 1201, true);
	hsk_stack *st = sm.st[S];
	told_urgent(st, p.sd);          /* (the accept's events) */
	assert_int_equal(hsk_sock_urgent(st, p.sd), 0);
	assert_false(hsk_poll(st, p.sd) & HSK_POLLPRI);
	sim_peer_send_urg(&p, 1, 1, A | PSH | URG, 65535, 10, "0123456789", 10);
	assert_true(told_urgent(st, p.sd));
	assert_int_equal(hsk_sock_urgent(st, p.sd), 10);
	assert_true(hsk_poll(st, p.sd) & HSK_POLLPRI);
	char b[64];
	read_exactly(st, p.sd, b, 4);
	assert_memory_equal(b, "0123", 4);
	assert_int_equal(hsk_sock_urgent(st, p.sd), 6);
	assert_true(hsk_poll(st, p.sd) & HSK_POLLPRI);
	read_exactly(st, p.sd, b, 6);
	assert_memory_equal(b, "456789", 6);
	assert_int_equal(hsk_sock_urgent(st, p.sd), 0);
	assert_false(hsk_poll(st, p.sd) & HSK_POLLPRI);
	expect_urgent_mode_over(st, p.sd);
	/* 32 bytes, all urgent, read at once (hsk_recv's small read), their
	 * ACK delayed (so the extension stays: the mode must end with the
	 * read, not with the extension's release) */
	assert_int_equal(hsk_setsockopt(st, p.sd, HSK_TCP_QUICKACK, 0), 0);
	char d[32];
	memset(d, 'q', sizeof(d));
	sim_peer_send_urg(&p, 11, 1, A | PSH | URG, 65535, 32, d, sizeof(d));
	assert_int_equal(hsk_sock_urgent(st, p.sd), 32);
	assert_int_equal(hsk_recv(st, p.sd, b, sizeof(b)), 32);
	assert_int_equal(hsk_sock_urgent(st, p.sd), 0);
	expect_urgent_mode_over(st, p.sd);
	/* Idle: a pointer at the read position (URG with 0) takes no
	 * extension and tells nobody. */
	sim_run(&sm, 1 * SEC);
	told_urgent(st, p.sd);
	size_t acts = st->tcp.act_pool.in_use;
	sim_peer_send_urg(&p, 43, 1, A | URG, 65535, 0, NULL, 0);
	assert_int_equal(st->tcp.act_pool.in_use, acts);
	assert_false(socket_told_any(st, p.sd));
	/* The same pointer again (a retransmission): already read, nothing
	 * pending, nobody told. */
	sim_peer_send_urg(&p, 1, 1, A | PSH | URG, 65535, 10, "0123456789", 10);
	assert_int_equal(hsk_sock_urgent(st, p.sd), 0);
	assert_false(told_urgent(st, p.sd));
	sim_peer_finish(&p);
}

/* RCV.UP <- max(RCV.UP, SEG.UP): a pointer ahead of the data (the urgent
 * bytes not here yet) counts them; one behind a pending pointer changes
 * nothing and tells nobody; one beyond it advances it and tells again. An
 * urgent pointer of 0 names the segment's first byte: the urgent data
 * ended before it. Pure ACKs carry the pointers whose telling is checked
 * (data tells the socket of itself). */
static void test_urgent_pointer_advances_only(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer(&sm, 1202);
	hsk_stack *st = sm.st[S];
	told_urgent(st, p.sd);
	/* the pointer 500 bytes ahead */
	sim_peer_send_urg(&p, 1, 1, A | URG, 65535, 500, NULL, 0);
	assert_true(told_urgent(st, p.sd));
	assert_int_equal(hsk_sock_urgent(st, p.sd), 500);
	/* kept while it is pending: the extension that holds it does not go
	 * back when its idle time is up */
	sim_run(&sm, 100 * MS);
	assert_int_equal(hsk_sock_urgent(st, p.sd), 500);
	/* 300 ahead: behind the pending one */
	sim_peer_send_urg(&p, 1, 1, A | URG, 65535, 300, NULL, 0);
	assert_false(told_urgent(st, p.sd));
	assert_int_equal(hsk_sock_urgent(st, p.sd), 500);
	/* 100 bytes arrive with it: still 500 */
	char d[100];
	memset(d, 'u', sizeof(d));
	sim_peer_send_urg(&p, 1, 1, A | URG, 65535, 300, d, sizeof(d));
	assert_int_equal(hsk_sock_urgent(st, p.sd), 500);
	told_urgent(st, p.sd);
	/* 450 past the next byte: 101 + 450 = 551 > 501 */
	sim_peer_send_urg(&p, 101, 1, A | URG, 65535, 450, NULL, 0);
	assert_true(told_urgent(st, p.sd));
	assert_int_equal(hsk_sock_urgent(st, p.sd), 550);
	char b[200];
	read_exactly(st, p.sd, b, 100);
	assert_int_equal(hsk_sock_urgent(st, p.sd), 450);
	/* a pointer of 0 on new data: at the read position, nothing new */
	sim_peer_send_urg(&p, 101, 1, A | URG, 65535, 0, d, sizeof(d));
	assert_int_equal(hsk_sock_urgent(st, p.sd), 450);
	read_exactly(st, p.sd, b, 100);
	assert_int_equal(hsk_sock_urgent(st, p.sd), 350);
	sim_peer_finish(&p);
}

/* After the peer's FIN (CLOSE_WAIT) URG "should not occur" and is
 * ignored (RFC 9293 §3.10.7.4); a pointer beyond the FIN counts no byte
 * that cannot come. */
static void test_urgent_after_fin(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer(&sm, 1203);
	hsk_stack *st = sm.st[S];
	told_urgent(st, p.sd);
	/* 10 bytes, the pointer 1000 ahead, and the FIN */
	sim_peer_send_urg(&p, 1, 1, A | URG | HSK_TH_FIN, 65535, 1000, "0123456789", 10);
	assert_int_equal(hsk_sock_state(st, p.sd), HSK_CLOSE_WAIT);
	assert_int_equal(hsk_sock_urgent(st, p.sd), 10);
	socket_told_any(st, p.sd);
	sim_peer_send_urg(&p, 12, 1, A | URG, 65535, 2000, NULL, 0);
	assert_int_equal(hsk_sock_urgent(st, p.sd), 10);
	assert_false(socket_told_any(st, p.sd));       /* not taken */
	char b[16];
	read_exactly(st, p.sd, b, 10);
	assert_int_equal(hsk_sock_urgent(st, p.sd), 0);
	assert_int_equal(hsk_recv(st, p.sd, b, sizeof(b)), 0);
	sim_peer_finish(&p);
}

/* The next TX event: flags and urgent pointer (relative seq). */
static void expect_urg(sim_peer *p, uint8_t flags, uint32_t rseq, uint32_t len, uint16_t urp)
{
	const sim_ev *e = sim_next_tx(p->sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, flags);
	assert_int_equal(e->ev.seq - p->hiss, rseq);
	assert_int_equal(e->ev.len, len);
	assert_int_equal(e->ev.urp, urp);
}

/* send(MSG_OOB): the pointer follows the bytes queued; every segment
 * before it carries URG and its distance, the first ones too (data queued
 * before the urgent write is before the pointer); once SND.UNA passes
 * it, new data goes without. */
static void test_urgent_sent(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer(&sm, 1204);
	hsk_stack *st = sm.st[S];
	uint32_t mss = sim_mss(&sm);
	static char big[4000];
	memset(big, 'b', sizeof(big));
	/* the pointer: 1 + 2 * mss + 100 */
	assert_int_equal(hsk_send(st, p.sd, big, 2 * mss), (long)(2 * mss));
	expect_peer_seg(&p, A, 1, 1, mss);
	expect_peer_seg(&p, A | PSH, 1 + mss, 1, mss);
	assert_int_equal(hsk_sendto(st, p.sd, big, 100, HSK_MSG_OOB, 0, 0), 100);
	expect_urg(&p, A | PSH | URG, 1 + 2 * mss, 100, 100);
	/* all lost: the retransmissions carry URG too */
	sim_run(&sm, 2 * SEC);
	expect_urg(&p, A | URG, 1, mss, (uint16_t)(2 * mss + 100));
	sim_peer_send(&p, 1, 1 + 2 * mss + 100, A, 65535, NULL, 0);
	sim_run(&sm, 1 * MS);
	sm.tx_cursor = sm.nlog;         /* (the timer's other retransmissions) */
	int urgent = sim_count_tx(&sm, S, A | URG) + sim_count_tx(&sm, S, A | PSH | URG);
	/* all acknowledged: urgent mode is over */
	assert_int_equal(hsk_send(st, p.sd, big, 10), 10);
	expect_urg(&p, A | PSH, 1 + 2 * mss + 100, 10, 0);
	assert_int_equal(sim_count_tx(&sm, S, A | URG) + sim_count_tx(&sm, S, A | PSH | URG),
			 urgent);
	/* ... and left: an SND.UP kept behind would look ahead again 2^31
	 * bytes later (put ahead now, as the wrap would) */
	sim_peer_send(&p, 1, 1 + 2 * mss + 110, A, 65535, NULL, 0);
	tcb *t = st->socks[p.sd].t;
	if (t->act)
		t->act->snd_up = seq_add(t->snd_una, 1000);
	assert_int_equal(hsk_send(st, p.sd, big, 10), 10);
	expect_urg(&p, A | PSH, 1 + 2 * mss + 110, 10, 0);
	sim_peer_finish(&p);
}

/* Urgent data behind the peer's closed window: the pure ACK of the
 * peer's data and the zero-window probes carry the pointer (how the peer
 * learns of urgent data it cannot take yet), then the data goes with it
 * once the window opens. */
static void test_urgent_behind_closed_window(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1207);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = (uint16_t)sim_mss(&sm);
	sim_peer p;
	sim_peer_accept_win(&sm, &p, S, PORT, 1000, &syn, 0);
	hsk_stack *st = sm.st[S];
	static char d[300];
	memset(d, 'w', sizeof(d));
	assert_int_equal(hsk_sendto(st, p.sd, d, sizeof(d), HSK_MSG_OOB, 0, 0), 300);
	assert_null(sim_next_tx(&sm));
	sim_peer_send(&p, 1, 1, A | PSH, 0, "0123456789", 10);
	expect_urg(&p, A | URG, 1, 0, 300);     /* the ACK, at once (quick) */
	sim_run(&sm, 3 * SEC);
	expect_urg(&p, A | URG, 0, 0, 301);     /* a probe at SND.UNA - 1 */
	assert_true(sim_counter(&sm, S, "TCPWinProbe") >= 1);
	sm.tx_cursor = sm.nlog;
	sim_peer_send(&p, 11, 1, A, 65535, NULL, 0);    /* the window opens */
	expect_urg(&p, A | PSH | URG, 1, 300, 300);
	sim_peer_finish(&p);
}

/* A pointer farther than the field reaches is sent as 0xffff; Nagle does
 * not hold urgent data back. */
static void test_urgent_far_and_not_held(void **state)
{
	(void)state;
	sim sm;
	sim_peer p = open_peer(&sm, 1205);
	hsk_stack *st = sm.st[S];
	char d[10] = "abcdefghij";
	/* a small segment outstanding: Nagle holds the next small one */
	assert_int_equal(hsk_send(st, p.sd, d, 10), 10);
	expect_peer_seg(&p, A | PSH, 1, 1, 10);
	assert_int_equal(hsk_send(st, p.sd, d, 10), 10);
	assert_null(sim_next_tx(&sm));
	/* ... but not urgent data, nor what was queued before it */
	assert_int_equal(hsk_sendto(st, p.sd, d, 1, HSK_MSG_OOB, 0, 0), 1);
	expect_urg(&p, A | PSH | URG, 11, 11, 11);
	sim_peer_send(&p, 1, 22, A, 65535, NULL, 0);
	/* 100,000 bytes and an urgent byte after them: what cwnd lets go at
	 * once goes without URG (no pointer yet); the segments after it have
	 * the pointer beyond 65535 first, as 0xffff */
	int sd = p.sd;
	static char big[100000];
	memset(big, 'z', sizeof(big));
	long n = hsk_send(st, sd, big, sizeof(big));
	assert_true(n > 90000);
	uint32_t up = 22 + (uint32_t)n + 1, end = 22;
	const sim_ev *e;
	while ((e = sim_next_tx(&sm))) {
		assert_false(e->ev.flags & URG);
		end = e->ev.seq - p.hiss + e->ev.len;
	}
	assert_true(end > 22 && end < up - 0xffff);
	assert_int_equal(hsk_sendto(st, sd, d, 1, HSK_MSG_OOB, 0, 0), 1);
	assert_null(sim_next_tx(&sm));  /* cwnd is full */
	/* the peer acknowledges each flight (and the first one, which went
	 * before the pointer) */
	int far = 0, near = 0;
	for (int round = 0; round < 100 && end < up; round++) {
		sim_peer_send(&p, 1, end, A, 65535, NULL, 0);
		sim_run(&sm, 1 * MS);
		while ((e = sim_next_tx(&sm))) {
			uint32_t rseq = e->ev.seq - p.hiss, to_up = up - rseq;
			assert_true(e->ev.flags & URG);
			assert_int_equal(e->ev.urp, to_up > 0xffff ? 0xffff : to_up);
			far += to_up > 0xffff;
			near += to_up <= 0xffff;
			if (rseq + e->ev.len > end)
				end = rseq + e->ev.len;
		}
	}
	assert_int_equal(end, up);
	assert_true(far > 0 && near > 0);
	/* OOB on no connection, OOB with Fast Open */
	int fresh = hsk_socket(st);
	assert_int_equal(hsk_sendto(st, fresh, d, 1, HSK_MSG_OOB, 0, 0), -HSK_EPIPE);
	assert_int_equal(hsk_sendto(st, sd, d, 1, HSK_MSG_OOB | HSK_MSG_FASTOPEN, 0, 0),
			 -HSK_EINVAL);
	assert_int_equal(hsk_sock_urgent(st, fresh), -HSK_ENOTCONN);
	assert_int_equal(hsk_sock_urgent(st, 9999), -HSK_EBADF);
	/* no out-of-line reading: urgent data is read in line */
	hsk_iovec iov = { d, sizeof(d) };
	assert_int_equal(hsk_recvv(st, sd, &iov, 1, HSK_MSG_OOB), -HSK_EINVAL);
	assert_int_equal(hsk_close(st, fresh), 0);
	sim_peer_finish(&p);
}

/* Two stacks: the client's urgent byte reaches the server in line, after
 * the bytes before it; the server is told; both extensions go back once
 * it is all read and acknowledged (the urgent state holds none). */
static void test_urgent_between_stacks(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 1206, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	told_urgent(s, ssd);
	assert_int_equal(hsk_send(c, csd, "hello ", 6), 6);
	assert_int_equal(hsk_sendto(c, csd, "!", 1, HSK_MSG_OOB, 0, 0), 1);
	sim_run(&sm, 50 * MS);
	assert_true(told_urgent(s, ssd));
	assert_int_equal(hsk_sock_urgent(s, ssd), 7);
	char b[16];
	read_exactly(s, ssd, b, 6);
	assert_int_equal(hsk_sock_urgent(s, ssd), 1);  /* SIOCATMARK */
	read_exactly(s, ssd, b + 6, 1);
	assert_memory_equal(b, "hello !", 7);
	assert_int_equal(hsk_sock_urgent(s, ssd), 0);
	sim_run(&sm, 1 * SEC);
	assert_int_equal(c->tcp.act_pool.in_use, 0);
	assert_int_equal(s->tcp.act_pool.in_use, 0);
	sim_finish_pair(&sm, C, S, lsd, csd, ssd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urgent_data_read_in_line),
		cmocka_unit_test(test_urgent_pointer_advances_only),
		cmocka_unit_test(test_urgent_after_fin),
		cmocka_unit_test(test_urgent_sent),
		cmocka_unit_test(test_urgent_behind_closed_window),
		cmocka_unit_test(test_urgent_far_and_not_held),
		cmocka_unit_test(test_urgent_between_stacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
