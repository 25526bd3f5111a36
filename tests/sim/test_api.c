/*
 * The socket API beyond BSD's basics (src/api): the user pointer and the
 * acknowledged-bytes count in events, POLLDRAINED, sendv/recvv, MSG_PEEK,
 * the zero-copy calls, getsockname/getpeername, sendto, and the clock
 * contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sim.h"
#include "stack/stack.h"

enum { C = 0, S = 1, PORT = 80 };

static void finish(sim *sm, int lsd, int csd, int ssd)
{
	sim_finish_pair(sm, C, S, lsd, csd, ssd);
}

/* The pointer set on a socket comes back with each of its events; the
 * acknowledged bytes are counted once each, in the event after the ACK;
 * POLLDRAINED once everything written is acknowledged. */
static void test_user_pointer_and_acked_events(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 1201, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int tag_c = 1, tag_s = 2;
	assert_null(hsk_sock_user(c, csd));
	assert_int_equal(hsk_sock_set_user(c, csd, &tag_c), 0);
	assert_int_equal(hsk_sock_set_user(s, ssd, &tag_s), 0);
	assert_ptr_equal(hsk_sock_user(c, csd), &tag_c);
	hsk_event ev[8];
	while (hsk_stack_events(c, ev, 8) || hsk_stack_events(s, ev, 8))
		;
	assert_true(hsk_poll(c, csd) & HSK_POLLDRAINED);
	static char buf[5000];
	memset(buf, 'u', sizeof(buf));
	assert_int_equal(hsk_send(c, csd, buf, 3000), 3000);
	assert_false(hsk_poll(c, csd) & HSK_POLLDRAINED);
	sim_run(&sm, 5 * MS);
	uint32_t acked = 0;
	size_t n;
	while ((n = hsk_stack_events(c, ev, 8)) > 0)
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(ev[i].sd, csd);
			assert_ptr_equal(ev[i].user, &tag_c);
			acked += ev[i].acked;
			if (acked == 3000)
				assert_true(ev[i].events & HSK_POLLDRAINED);
		}
	assert_int_equal(acked, 3000);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(c, csd, &ti), 0);
	assert_int_equal(ti.bytes_acked, 3000);
	assert_int_equal(hsk_stack_events(s, ev, 8), 1);     /* the data */
	assert_int_equal(ev[0].sd, ssd);
	assert_ptr_equal(ev[0].user, &tag_s);
	assert_int_equal(ev[0].acked, 0);
	assert_true(ev[0].events & HSK_POLLIN);
	/* An accepted socket starts without one. */
	int c2 = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 5 * MS);
	int s2 = sim_accept(&sm, S, lsd);
	assert_null(hsk_sock_user(s, s2));
	assert_null(hsk_sock_user(s, 999));
	hsk_abort(c, c2);
	hsk_close(s, s2);
	finish(&sm, lsd, csd, ssd);
}

/* Scatter/gather and MSG_PEEK. */
static void test_sendv_recvv_peek(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 1202, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	char h[] = "HEAD", b[] = "-body-", t[] = "TAIL";
	hsk_iovec out[3] = { { h, 4 }, { b, 6 }, { t, 4 } };
	assert_int_equal(hsk_sendv(c, csd, out, 3), 14);
	assert_int_equal(hsk_sendv(c, csd, out, 0), 0);
	sim_run(&sm, 5 * MS);
	char x[5] = { 0 }, y[20] = { 0 };
	hsk_iovec in[2] = { { x, 4 }, { y, sizeof(y) } };
	assert_int_equal(hsk_recvv(s, ssd, in, 2, HSK_MSG_PEEK), 14);
	assert_string_equal(x, "HEAD");
	assert_memory_equal(y, "-body-TAIL", 10);
	char z[20] = { 0 };
	assert_int_equal(hsk_recv(s, ssd, z, 6), 6);            /* still there */
	assert_string_equal(z, "HEAD-b");
	memset(y, 0, sizeof(y));
	assert_int_equal(hsk_recvv(s, ssd, in, 2, 0), 8);
	assert_memory_equal(x, "ody-", 4);
	assert_memory_equal(y, "TAIL", 4);
	assert_int_equal(hsk_recvv(s, ssd, in, 2, HSK_MSG_PEEK), -HSK_EAGAIN);
	/* At the end of the stream a peek says 0 too. */
	hsk_shutdown(c, csd, HSK_SHUT_WR);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_recvv(s, ssd, in, 2, HSK_MSG_PEEK), 0);
	finish(&sm, lsd, csd, ssd);
}

/* Vectors cut short, as Linux's writev/readv: a write larger than the
 * room fills it and stops inside an iovec; a read of what is there
 * stops inside one (the rest untouched), MSG_PEEK alike and leaving it;
 * iov NULL with a count, or a NULL base with a length, is EINVAL
 * (docs/api.md); a NULL base of length 0 is nothing. */
static void test_vectors_partial(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 1208, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	enum { PART = 100000 };
	static uint8_t src[5000 + 3 * PART], got[5000 + 3 * PART];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 13 + i / 253);
	uint8_t one = 0;
	hsk_iovec bad[2] = { { &one, 1 }, { NULL, 5 } };
	hsk_iovec empty[2] = { { NULL, 0 }, { NULL, 0 } };
	assert_int_equal(hsk_sendv(c, csd, NULL, 1), -HSK_EINVAL);
	assert_int_equal(hsk_sendv(c, csd, bad, 2), -HSK_EINVAL);
	assert_int_equal(hsk_sendv(c, csd, empty, 2), 0);
	assert_int_equal(hsk_recvv(s, ssd, NULL, 1, 0), -HSK_EINVAL);
	assert_int_equal(hsk_recvv(s, ssd, bad, 2, HSK_MSG_PEEK), -HSK_EINVAL);
	/* the room under TCP_NOTSENT_LOWAT (less than the ring's), in the
	 * second iovec; then the ring's, in the third */
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_NOTSENT_LOWAT, 5000), 0);
	hsk_iovec lo[3] = { { src, 3000 }, { src + 3000, 3000 }, { src + 6000, 3000 } };
	assert_int_equal(hsk_sendv(c, csd, lo, 3), 5000);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_NOTSENT_LOWAT, 0), 0);
	uint8_t *from = src + 5000;
	hsk_iovec out[3] = { { from, PART }, { from + PART, PART }, { from + 2 * PART, PART } };
	long sent = hsk_sendv(c, csd, out, 3);
	assert_true(sent > 2 * PART && sent < 3 * PART);      /* the room, in the third */
	assert_int_equal(hsk_sendv(c, csd, out, 3), -HSK_EAGAIN);
	sent += 5000;
	long total = 0;
	int short_reads = 0;
	static uint8_t peek[7000];
	for (int round = 0; round < 200 && total < sent; round++) {
		sim_run(&sm, 5 * MS);
		for (;;) {
			uint8_t *p = got + total;
			hsk_iovec pv[3] = { { peek, 1000 }, { peek + 1000, 2000 },
					    { peek + 3000, 4000 } };
			hsk_iovec in[3] = { { p, 1000 }, { p + 1000, 2000 }, { p + 3000, 4000 } };
			memset(peek, 0xee, sizeof(peek));
			long m = hsk_recvv(s, ssd, pv, 3, HSK_MSG_PEEK);
			long n = hsk_recvv(s, ssd, in, 3, 0);
			assert_int_equal(m, n);
			if (n < 0) {
				assert_int_equal(n, -HSK_EAGAIN);
				break;
			}
			assert_true(n > 0 && n <= 7000);
			assert_memory_equal(peek, p, (size_t)n);
			if (n < 7000) {
				short_reads++;
				assert_int_equal(peek[n], 0xee);        /* the rest untouched */
			}
			total += n;
		}
	}
	assert_int_equal(total, sent);
	assert_true(short_reads > 0);
	assert_memory_equal(got, src, (size_t)sent);
	finish(&sm, lsd, csd, ssd);
}

/* After a reset, each read reports ECONNRESET once, then the end of the
 * stream (0), not EAGAIN (Linux: the socket is done): hsk_recv,
 * hsk_recvv (MSG_PEEK too) and hsk_recv_borrow alike. */
static void test_reads_after_reset(void **state)
{
	(void)state;
	for (int way = 0; way < 3; way++) {
		sim sm;
		int lsd, csd, ssd;
		sim_init_pair(&sm, NULL, (uint64_t)(1210 + way), PORT, &lsd, &csd, &ssd);
		hsk_stack *c = sm.st[C], *s = sm.st[S];
		assert_int_equal(hsk_abort(s, ssd), 0);
		sim_run(&sm, 5 * MS);
		assert_int_equal(hsk_sock_state(c, csd), HSK_CLOSED);
		char buf[8];
		hsk_iovec iov[1] = { { buf, sizeof(buf) } };
		const void *p;
		for (int round = 0; round < 3; round++) {
			long want = round ? 0 : -HSK_ECONNRESET;
			if (way == 0)
				assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), want);
			else if (way == 1)
				assert_int_equal(hsk_recvv(c, csd, iov, 1, round == 1 ? HSK_MSG_PEEK : 0),
						 want);
			else
				assert_int_equal(hsk_recv_borrow(c, csd, &p), want);
		}
		assert_true(hsk_poll(c, csd) & HSK_POLLHUP);
		hsk_close(c, csd);
		hsk_close(s, lsd);
		sim_run(&sm, 5 * MS);
		sim_assert_no_leaks(&sm);
		sim_free(&sm);
	}
}

/* hsk_send and hsk_recv take their one buffer in one piece (io.c): a
 * write larger than the room takes the room, a read takes what it asks
 * or what is there, whichever is less, in order; zero bytes take none. */
static void test_send_recv_one_buffer(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 1207, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	static uint8_t big[1 << 20], got[1 << 20];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	assert_int_equal(hsk_send(c, csd, big, 0), 0);
	assert_int_equal(hsk_send(c, csd, NULL, 1), -HSK_EINVAL);
	long sent = hsk_send(c, csd, big, sizeof(big));
	assert_true(sent > 0 && sent < (long)sizeof(big));    /* the room */
	assert_int_equal(hsk_send(c, csd, big + sent, sizeof(big) - (size_t)sent), -HSK_EAGAIN);
	long total = 0;
	for (int round = 0; round < 200 && total < sent; round++) {
		sim_run(&sm, 5 * MS);
		uint8_t probe;
		long n = hsk_recv(s, ssd, &probe, 0);          /* takes nothing */
		assert_true(n == 0 || n == -HSK_EAGAIN);
		while ((n = hsk_recv(s, ssd, got + total, 1000)) > 0) {
			assert_true(n <= 1000);
			total += n;
		}
		assert_int_equal(n, -HSK_EAGAIN);
		/* The rest, as the room comes back. */
		long m = hsk_send(c, csd, big + sent, (size_t)(sizeof(big) - (size_t)sent));
		if (m > 0)
			sent += m;
	}
	assert_int_equal(sent, sizeof(big));
	assert_int_equal(total, sent);
	assert_memory_equal(got, big, sizeof(big));
	/* A read larger than what is there takes what is there. */
	assert_int_equal(hsk_send(c, csd, "xyz", 3), 3);
	sim_run(&sm, 300 * MS);       /* Nagle may hold it for the last ACK */
	char z[16] = { 0 };
	assert_int_equal(hsk_recv(s, ssd, z, 0), 0);
	assert_int_equal(hsk_recv(s, ssd, z, sizeof(z)), 3);
	assert_string_equal(z, "xyz");
	finish(&sm, lsd, csd, ssd);
}

/* Zero copy: the receive ring read in place, the send ring written in
 * place; a run that wraps at the end of the storage comes in two. */
static void test_zero_copy(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sndbuf = cfg.rcvbuf = 4096;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, &cfg, 1203, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	const void *p;
	assert_int_equal(hsk_recv_borrow(s, ssd, &p), -HSK_EAGAIN);
	/* 3000 bytes, written in place. */
	void *w;
	long room = hsk_send_reserve(c, csd, &w);
	assert_int_equal(room, 4096);
	for (int i = 0; i < 3000; i++)
		((uint8_t *)w)[i] = (uint8_t)i;
	assert_int_equal(hsk_send_commit(c, csd, 4097), -HSK_EINVAL);
	assert_int_equal(hsk_send_commit(c, csd, 3000), 0);
	sim_run(&sm, 10 * MS);
	long n = hsk_recv_borrow(s, ssd, &p);
	assert_int_equal(n, 3000);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(((const uint8_t *)p)[i], (uint8_t)i);
	assert_int_equal(hsk_recv_release(s, ssd, 3001), -HSK_EINVAL);
	assert_int_equal(hsk_recv_release(s, ssd, 1000), 0);
	assert_int_equal(hsk_recv_borrow(s, ssd, &p), 2000);
	assert_int_equal(((const uint8_t *)p)[0], (uint8_t)1000);
	assert_int_equal(hsk_recv_release(s, ssd, 2000), 0);
	/* The next 3000: the send ring (its first 3000 bytes not all
	 * acknowledged yet) wraps after 4096 - 3000 = 1096 bytes; the rest
	 * goes in front, as acknowledgments make room. */
	room = hsk_send_reserve(c, csd, &w);
	assert_int_equal(room, 1096);
	memset(w, 'a', 1096);
	assert_int_equal(hsk_send_commit(c, csd, 1096), 0);
	long left = 1904;
	while (left > 0) {
		room = hsk_send_reserve(c, csd, &w);
		if (room == -HSK_EAGAIN) {
			sim_run(&sm, 1 * MS);
			continue;
		}
		assert_true(room > 0);
		long k = room < left ? room : left;
		memset(w, 'b', (size_t)k);
		assert_int_equal(hsk_send_commit(c, csd, (size_t)k), 0);
		left -= k;
	}
	sim_run(&sm, 10 * MS);
	long got = 0;
	for (int round = 0; round < 100 && got < 3000; round++) {
		while ((n = hsk_recv_borrow(s, ssd, &p)) > 0) {
			for (long i = 0; i < n; i++)
				assert_int_equal(((const char *)p)[i], got + i < 1096 ? 'a' : 'b');
			got += n;
			assert_int_equal(hsk_recv_release(s, ssd, (size_t)n), 0);
		}
		assert_int_equal(n, -HSK_EAGAIN);
		sim_run(&sm, 1 * MS);
	}
	assert_int_equal(got, 3000);
	/* The end of the stream: 0. */
	hsk_shutdown(c, csd, HSK_SHUT_WR);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_recv_borrow(s, ssd, &p), 0);
	assert_int_equal(hsk_send_reserve(c, csd, &w), -HSK_EPIPE);
	assert_int_equal(hsk_send_commit(c, csd, 1), -HSK_EPIPE);
	finish(&sm, lsd, csd, ssd);
}

/* Zero copy at its edges: a commit of 0 and a release of 0 are nothing;
 * a commit with no send ring yet (nothing reserved) is EINVAL; a commit
 * when TCP_NOTSENT_LOWAT leaves no room (the reserve says EAGAIN) is
 * EINVAL and adds nothing, though the ring has space. */
static void test_zero_copy_edges(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 1209, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	assert_int_equal(hsk_send_commit(c, csd, 0), 0);
	assert_int_equal(hsk_send_commit(c, csd, 10), -HSK_EINVAL);
	assert_int_equal(hsk_recv_release(s, ssd, 0), 0);
	/* the same once a read leaves the connection idle (its extension
	 * given back) */
	assert_int_equal(hsk_send(s, ssd, "x", 1), 1);
	sim_run(&sm, 300 * MS);
	char x;
	assert_int_equal(hsk_recv(c, csd, &x, 1), 1);
	sim_run(&sm, 300 * MS);
	assert_int_equal(hsk_send_commit(c, csd, 10), -HSK_EINVAL);
	sim_blackhole(&sm, S, -1, true);        /* nothing acknowledged */
	static uint8_t big[100000];
	memset(big, 'z', sizeof(big));
	assert_int_equal(hsk_send(c, csd, big, sizeof(big)), (long)sizeof(big));
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_NOTSENT_LOWAT, 1000), 0);
	void *w;
	assert_int_equal(hsk_send_reserve(c, csd, &w), -HSK_EAGAIN);
	assert_int_equal(hsk_send_commit(c, csd, 10), -HSK_EINVAL);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_NOTSENT_LOWAT, 0), 0);
	sim_blackhole(&sm, S, -1, false);
	long got = 0, n;
	static uint8_t buf[16384];
	bool drained = false;
	for (int round = 0; round < 400 && !drained; round++) {
		sim_run(&sm, 10 * MS);
		drained = hsk_poll(c, csd) & HSK_POLLDRAINED;   /* all acknowledged */
		while ((n = hsk_recv(s, ssd, buf, sizeof(buf))) > 0)
			got += n;
	}
	assert_true(drained);
	assert_int_equal(got, sizeof(big));     /* not a byte more */
	finish(&sm, lsd, csd, ssd);
}

/* getsockname/getpeername as Linux: the bound (or chosen) local end; no
 * peer before the connection is made or once it is closed. */
static void test_names(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1204);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	uint32_t a = 1;
	uint16_t p = 1;
	int sd = hsk_socket(c);
	assert_int_equal(hsk_getsockname(c, sd, &a, &p), 0);
	assert_int_equal(a, 0);
	assert_int_equal(p, 0);
	assert_int_equal(hsk_getpeername(c, sd, &a, &p), -HSK_ENOTCONN);
	assert_int_equal(hsk_bind(c, sd, 0, 5555), 0);
	assert_int_equal(hsk_getsockname(c, sd, &a, NULL), 0);
	assert_int_equal(hsk_getsockname(c, sd, NULL, &p), 0);
	assert_int_equal(p, 5555);
	int lsd = sim_listen(&sm, S, PORT, 8);
	assert_int_equal(hsk_getpeername(s, lsd, &a, &p), -HSK_ENOTCONN);
	assert_int_equal(hsk_connect(c, sd, SIM_ADDR(S), PORT), -HSK_EINPROGRESS);
	assert_int_equal(hsk_getpeername(c, sd, &a, &p), -HSK_ENOTCONN);   /* SYN_SENT */
	assert_int_equal(hsk_getsockname(c, sd, &a, &p), 0);
	assert_int_equal(a, SIM_ADDR(C));
	assert_int_equal(p, 5555);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_getpeername(c, sd, &a, &p), 0);
	assert_int_equal(a, SIM_ADDR(S));
	assert_int_equal(p, PORT);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_getpeername(s, ssd, &a, &p), 0);
	assert_int_equal(a, SIM_ADDR(C));
	assert_int_equal(p, 5555);
	assert_int_equal(hsk_getsockname(s, ssd, &a, &p), 0);
	assert_int_equal(a, SIM_ADDR(S));
	assert_int_equal(p, PORT);
	hsk_abort(s, ssd);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_getpeername(c, sd, &a, &p), -HSK_ENOTCONN);   /* CLOSED */
	assert_int_equal(hsk_getsockname(c, 99, &a, &p), -HSK_EBADF);
	assert_int_equal(hsk_getpeername(c, 99, &a, &p), -HSK_EBADF);
	hsk_close(c, sd);
	hsk_close(s, lsd);
	sim_run_idle(&sm, 600 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* sendto without HSK_MSG_FASTOPEN: hsk_send on a connected socket (the
 * address ignored, as Linux), EPIPE on a fresh one. */
static void test_sendto_plain(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 1205, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	assert_int_equal(hsk_sendto(c, csd, "abc", 3, 0, 12345, 9), 3);
	int fresh = hsk_socket(c);
	assert_int_equal(hsk_sendto(c, fresh, "abc", 3, 0, SIM_ADDR(S), PORT), -HSK_EPIPE);
	assert_int_equal(hsk_sendto(c, 99, "abc", 3, 0x40, SIM_ADDR(S), PORT), -HSK_EBADF);
	assert_int_equal(hsk_sendto(c, csd, "abc", 3, 0x40, SIM_ADDR(S), PORT), -HSK_EINVAL);
	/* As Linux, the state before the address: EISCONN in both families
	 * (an IPv6 socket's IPv4 address is not looked at), and EALREADY
	 * while a connect is on its way. */
	assert_int_equal(hsk_sendto(c, csd, "abc", 3, HSK_MSG_FASTOPEN, SIM_ADDR(S), PORT),
			 -HSK_EISCONN);
	int busy = sim_socket(&sm, C);
	assert_int_equal(sim_connect_to(&sm, C, busy, S, PORT), -HSK_EINPROGRESS);
	assert_int_equal(hsk_sendto(c, busy, "abc", 3, HSK_MSG_FASTOPEN, SIM_ADDR(S), PORT),
			 -HSK_EALREADY);
	hsk_abort(c, busy);
	assert_int_equal(hsk_sendto(s, lsd, "abc", 3, 0, SIM_ADDR(C), PORT), -HSK_ENOTCONN);
	hsk_close(c, fresh);
	sim_run(&sm, 5 * MS);
	char buf[4];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 3);
	finish(&sm, lsd, csd, ssd);
}

/* The clock contract: a socket call that may arm a timer, made when the
 * stack's clock is behind hsk_config.clock, is counted (StaleClock) and,
 * with assertions on, aborts. Checked in a child process. */
static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static void noop_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
}

/* In a child: call (hsk_close, or hsk_recv, whose check has a way of
 * its own when a clock is set) on sd at a stale clock counts StaleClock
 * once, or aborts with assertions on. */
static void expect_stale(hsk_stack *s, int sd, bool recv)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[4];
		if (recv)
			hsk_recv(s, sd, buf, sizeof(buf));
		else
			hsk_close(s, sd);
		_exit(hsk_counter_by_name(s, "StaleClock") == 1 ? 0 : 3);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
#ifdef NDEBUG
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);     /* counted */
#else
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT); /* aborted */
#endif
}

static void test_clock_contract(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.addr = SIM_ADDR(0);
	cfg.seed = 1;
	cfg.clock = fake_clock;
	cfg.clock_slack_ns = 5 * MS;
	hsk_link link = { .transmit = noop_tx };
	fake_now = 1 * SEC;
	hsk_stack *s = hsk_stack_new(&cfg, &link, 1 * SEC);
	assert_non_null(s);
	int sd = hsk_socket(s);
	fake_now += 4 * MS;             /* within the slack */
	assert_int_equal(hsk_connect(s, sd, SIM_ADDR(1), 80), -HSK_EINPROGRESS);
	assert_int_equal(hsk_counter_by_name(s, "StaleClock"), 0);
	fake_now += 10 * MS;            /* the driver forgot to advance */
	expect_stale(s, sd, false);
	expect_stale(s, sd, true);
	hsk_stack_advance(s, fake_now);
	assert_int_equal(hsk_close(s, sd), 0);
	assert_int_equal(hsk_counter_by_name(s, "StaleClock"), 0);
	hsk_stack_free(s);
}

/* A connected pair with both stacks' events read. */
static void pair_drained(sim *sm, uint64_t seed, int *lsd, int *csd, int *ssd)
{
	sim_init_pair(sm, NULL, seed, PORT, lsd, csd, ssd);
	hsk_event ev[8];
	while (hsk_stack_events(sm->st[C], ev, 8) || hsk_stack_events(sm->st[S], ev, 8))
		;
}

/* hsk_stack_events passes over closed sockets' entries and reports
 * listeners and fresh sockets in a loop of its own, and hands the rest
 * to the general one at the first connection or when out is full: each
 * of those ways reports as the general loop did. */
static void test_events_walk(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	pair_drained(&sm, 1207, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	hsk_event ev[8];
	/* The listener's event, then a connection's (its acked count too). */
	int c2 = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_send(s, ssd, "abc", 3), 3);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_send(c, csd, "abc", 3), 3);      /* ACKs it */
	sim_run(&sm, 5 * MS);
	memset(ev, 0x5a, sizeof(ev));
	assert_int_equal(hsk_stack_events(s, ev, 1), 1);
	assert_int_equal(ev[0].sd, lsd);
	assert_int_equal(ev[0].events, HSK_POLLIN);
	assert_int_equal(ev[0].acked, 0);
	assert_int_equal(ev[1].sd, 0x5a5a5a5a);      /* out[1] untouched */
	assert_int_equal(hsk_stack_events(s, ev, 8), 1);
	assert_int_equal(ev[0].sd, ssd);
	assert_true(ev[0].events & HSK_POLLIN);
	assert_int_equal(ev[0].acked, 3);
	assert_int_equal(hsk_stack_events(s, ev, 8), 0);
	/* A connection closed with its event queued, its descriptor taken
	 * by a fresh socket before the drain: the entry reports the fresh
	 * socket. With the listener's event after it and out one long. */
	int s2 = hsk_accept(s, lsd, NULL);
	assert_true(s2 >= 0);
	assert_int_equal(hsk_send(c, c2, "x", 1), 1);
	sim_run(&sm, 5 * MS);
	int c3 = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 5 * MS);
	assert_true(c3 >= 0);
	assert_int_equal(hsk_close(s, s2), 0);
	int f = hsk_socket(s);
	assert_int_equal(f, s2);
	memset(ev, 0x5a, sizeof(ev));
	assert_int_equal(hsk_stack_events(s, ev, 1), 1);
	assert_int_equal(ev[0].sd, f);
	assert_int_equal(ev[0].events, HSK_POLLOUT | HSK_POLLHUP);
	assert_int_equal(ev[1].sd, 0x5a5a5a5a);
	assert_int_equal(hsk_stack_events(s, ev, 8), 1);
	assert_int_equal(ev[0].sd, lsd);
	assert_int_equal(hsk_stack_events(s, ev, 8), 0);
	/* out zero long: the entries stay, a closed socket's included (it
	 * reports the socket that takes its descriptor). */
	int s3 = hsk_accept(s, lsd, NULL);
	assert_true(s3 >= 0);
	assert_int_equal(hsk_send(c, c3, "y", 1), 1);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_close(s, s3), 0);
	assert_int_equal(hsk_stack_events(s, ev, 0), 0);
	int f3 = hsk_socket(s);
	assert_int_equal(f3, s3);
	assert_int_equal(hsk_stack_events(s, ev, 8), 1);
	assert_int_equal(ev[0].sd, f3);
	/* Closed entries only: none reported, and none left to report a
	 * descriptor taken later. */
	sim_run(&sm, 500 * MS);                 /* the delayed ACKs */
	while (hsk_stack_events(c, ev, 8))
		;
	assert_int_equal(hsk_send(s, ssd, "z", 1), 1);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_close(c, csd), 0);
	assert_int_equal(hsk_stack_events(c, ev, 8), 0);
	int f4 = hsk_socket(c);
	assert_int_equal(f4, csd);
	assert_int_equal(hsk_stack_events(c, ev, 8), 0);
	hsk_close(c, f4);
	hsk_close(s, f);
	hsk_close(s, f3);
	hsk_close(c, c2);
	hsk_close(c, c3);
	sim_free(&sm);
}

/* A closed socket's entry behind a connection's (the general loop's
 * walk): passed over, the connection reported alone. */
static void test_events_closed_behind_connection(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	pair_drained(&sm, 1208, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	hsk_event ev[8];
	int c2 = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 5 * MS);
	int s2 = sim_accept(&sm, S, lsd);
	while (hsk_stack_events(s, ev, 8))
		;
	assert_int_equal(hsk_send(c, csd, "a", 1), 1);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_send(c, c2, "b", 1), 1);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_close(s, s2), 0);          /* its data unread: RST */
	memset(ev, 0x5a, sizeof(ev));
	assert_int_equal(hsk_stack_events(s, ev, 8), 1);
	assert_int_equal(ev[0].sd, ssd);
	assert_true(ev[0].events & HSK_POLLIN);
	assert_int_equal(ev[1].sd, 0x5a5a5a5a);
	assert_int_equal(hsk_stack_events(s, ev, 8), 0);
	hsk_close(c, c2);
	sim_finish_pair(&sm, C, S, lsd, csd, ssd);
}

/* tcp_notify calls the socket layer only for a socket other than the
 * one it told last (tcp_stack.notified), which must stay queued until
 * then: a drain takes it off the queue (the next change is told again),
 * and so does a close (the descriptor's next socket is queued once
 * more, an entry of its own after the closed one's). */
static void test_events_notified(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	pair_drained(&sm, 1209, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	hsk_event ev[8];
	/* Told, drained, told again: reported again. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(hsk_send(c, csd, "ab", 2), 2);
		sim_run(&sm, 5 * MS);
		assert_int_equal(hsk_stack_events(s, ev, 8), 1);
		assert_int_equal(ev[0].sd, ssd);
		assert_true(ev[0].events & HSK_POLLIN);
		assert_int_equal(hsk_recv(s, ssd, ev, 2), 2);
	}
	/* Queued and closed (the close tells it last), its descriptor
	 * taken by a fresh socket that connects: two entries name it. */
	int c2 = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 5 * MS);
	while (hsk_stack_events(c, ev, 8))
		;
	assert_int_equal(hsk_send(s, ssd, "z", 1), 1);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_close(c, csd), 0);
	int f = hsk_socket(c);
	assert_int_equal(f, csd);
	assert_int_equal(hsk_connect(c, f, SIM_ADDR(S), PORT), -HSK_EINPROGRESS);
	size_t n = hsk_stack_events(c, ev, 8);
	assert_int_equal(n, 2);
	assert_int_equal(ev[0].sd, f);
	assert_int_equal(ev[1].sd, f);
	assert_int_equal(hsk_stack_events(c, ev, 8), 0);
	hsk_close(c, f);
	hsk_close(c, c2);
	hsk_close(s, ssd);
	sim_free(&sm);
}

/* The socket layer's hook, counted: each call reaches stack.c's hook
 * (saved here), and calls[sd] counts them for host C's sockets. */
static struct {
	void (*hook)(void *ctx, int sd);
	unsigned calls[64];
} told;

static void count_notify(void *ctx, int sd)
{
	if (sd >= 0 && sd < 64)
		told.calls[sd]++;
	told.hook(ctx, sd);
}

/* tcp_notify calls the hook once for a socket until it is taken off the
 * event queue: the notifications that find it queued (and recorded,
 * tcp_stack.notified) make no call. Also when its first notification is
 * the one that made the queue (notify_socket_grow records it too). */
static void test_events_notified_calls(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1211);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	memset(&told, 0, sizeof(told));
	told.hook = c->tcp.notify;
	c->tcp.notify = count_notify;
	assert_int_equal(c->evq_cap, 0);        /* no queue yet */
	int lsd = sim_listen(&sm, S, PORT, 8);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	assert_true(c->evq_cap > 0);            /* grown by its first call */
	assert_int_equal(told.calls[csd], 1);   /* connected: told */
	int ssd = sim_accept(&sm, S, lsd);
	/* Data twice: told again (readable), but queued: no call. */
	assert_int_equal(hsk_send(s, ssd, "ab", 2), 2);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_send(s, ssd, "cd", 2), 2);
	sim_run(&sm, 5 * MS);
	assert_int_equal(told.calls[csd], 1);
	hsk_event ev[8];
	assert_int_equal(hsk_stack_events(c, ev, 8), 1);
	assert_int_equal(ev[0].sd, csd);
	assert_true(ev[0].events & HSK_POLLIN);
	/* Drained: the next change calls again, once. */
	assert_int_equal(hsk_send(s, ssd, "ef", 2), 2);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_send(s, ssd, "gh", 2), 2);
	sim_run(&sm, 5 * MS);
	assert_int_equal(told.calls[csd], 2);
	c->tcp.notify = told.hook;
	sim_finish_pair(&sm, C, S, lsd, csd, ssd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_pointer_and_acked_events),
		cmocka_unit_test(test_events_walk),
		cmocka_unit_test(test_events_closed_behind_connection),
		cmocka_unit_test(test_events_notified),
		cmocka_unit_test(test_events_notified_calls),
		cmocka_unit_test(test_sendv_recvv_peek),
		cmocka_unit_test(test_vectors_partial),
		cmocka_unit_test(test_reads_after_reset),
		cmocka_unit_test(test_send_recv_one_buffer),
		cmocka_unit_test(test_zero_copy),
		cmocka_unit_test(test_zero_copy_edges),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_sendto_plain),
		cmocka_unit_test(test_clock_contract),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
