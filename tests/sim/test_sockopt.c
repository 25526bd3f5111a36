/*
 * Socket options with Linux's semantics and units (src/api/sockopt.c):
 * TCP_MAXSEG before connect/listen, the low-water marks, SO_LINGER with a
 * timeout, SO_REUSEADDR and SO_REUSEPORT groups, TCP_CONGESTION per
 * socket, TCP_DEFER_ACCEPT, buffer sizes and keepalive timings as Linux
 * reports them; options set on a socket that listens already or on a
 * connection.
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
#define PSH HSK_TH_PSH
#define FIN HSK_TH_FIN
#define RST HSK_TH_RST

static int getopt_(hsk_stack *s, int sd, int opt)
{
	int v = -12345;
	assert_int_equal(hsk_getsockopt(s, sd, opt, &v), 0);
	return v;
}

static void finish(sim *sm)
{
	sim_run_idle(sm, 600 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* TCP_MAXSEG set before connect() and before listen() is the MSS option
 * each SYN carries and caps what is sent; read back as Linux: 536 on a
 * fresh socket, what was set, then the MSS in use. */
static void test_maxseg(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.timestamps = false;         /* MSS = option value exactly */
	sim sm;
	sim_init(&sm, 2, &cfg, 1101);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_MAXSEG, 1000), 0);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	int csd = sim_socket(&sm, C);
	assert_int_equal(getopt_(c, csd, HSK_TCP_MAXSEG), 536);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_MAXSEG, 87), -HSK_EINVAL);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_MAXSEG, 32768), -HSK_EINVAL);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_MAXSEG, 1200), 0);
	assert_int_equal(getopt_(c, csd, HSK_TCP_MAXSEG), 1200);
	assert_int_equal(sim_connect_to(&sm, C, csd, S, PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	const sim_ev *e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, SYN);
	assert_int_equal(e->ev.mss, 1200);
	e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(e->ev.mss, 1000);
	int ssd = sim_accept(&sm, S, lsd);
	/* Each sends at most the smaller of its own cap and the peer's. */
	assert_int_equal(getopt_(c, csd, HSK_TCP_MAXSEG), 1000);
	assert_int_equal(getopt_(s, ssd, HSK_TCP_MAXSEG), 1000);
	static char buf[5000];
	memset(buf, 'm', sizeof(buf));
	assert_int_equal(hsk_send(c, csd, buf, 3000), 3000);
	sim_run(&sm, 10 * MS);
	int full = 0;
	while ((e = sim_next_tx(&sm)) != NULL)
		if (e->host == C && e->ev.len) {
			assert_int_equal(e->ev.len, 1000);
			full++;
		}
	assert_int_equal(full, 3);
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* SO_RCVLOWAT: POLLIN only once that many bytes wait (a non-blocking read
 * still returns what is there, as Linux); SO_SNDLOWAT: POLLOUT only with
 * that much room (BSD's rule; Linux refuses to set it). */
static void test_lowat(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sndbuf = 8192;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, &cfg, 1102, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	assert_int_equal(getopt_(s, ssd, HSK_SO_RCVLOWAT), 1);
	assert_int_equal(hsk_setsockopt(s, ssd, HSK_SO_RCVLOWAT, 100), 0);
	assert_int_equal(getopt_(s, ssd, HSK_SO_RCVLOWAT), 100);
	assert_int_equal(hsk_send(c, csd, "0123456789", 10), 10);
	sim_run(&sm, 5 * MS);
	assert_false(hsk_poll(s, ssd) & HSK_POLLIN);
	static char buf[200];
	memset(buf, 'l', sizeof(buf));
	assert_int_equal(hsk_send(c, csd, buf, 90), 90);
	sim_run(&sm, 5 * MS);
	assert_true(hsk_poll(s, ssd) & HSK_POLLIN);
	assert_int_equal(hsk_recv(s, ssd, buf, 50), 50);
	assert_false(hsk_poll(s, ssd) & HSK_POLLIN);          /* 50 < 100 */
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 50);
	assert_int_equal(hsk_setsockopt(s, ssd, HSK_SO_RCVLOWAT, 0), 0);
	assert_int_equal(getopt_(s, ssd, HSK_SO_RCVLOWAT), 1);  /* Linux: 0 is 1 */

	/* SO_SNDLOWAT 6000 of an 8 KiB buffer. */
	assert_int_equal(getopt_(c, csd, HSK_SO_SNDLOWAT), 1);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_SNDLOWAT, 0), -HSK_EINVAL);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_SNDLOWAT, 6000), 0);
	assert_true(hsk_poll(c, csd) & HSK_POLLOUT);
	sim_blackhole(&sm, S, -1, true);        /* nothing gets acknowledged */
	static char big[8192];
	assert_int_equal(hsk_send(c, csd, big, 4000), 4000);
	assert_false(hsk_poll(c, csd) & HSK_POLLOUT);         /* 4192 < 6000 */
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_SNDLOWAT, 4000), 0);
	assert_true(hsk_poll(c, csd) & HSK_POLLOUT);
	sim_blackhole(&sm, S, -1, false);
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* SO_RCVLOWAT above what the receive buffer can hold: POLLIN once the
 * window left is no more than an MSS, so no more can come (Linux's
 * tcp_epollin_ready); before that, not. Else the reader would wait
 * forever on a full buffer. */
static void test_rcvlowat_over_window(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.rcvbuf = 4096;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, &cfg, 1115, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	assert_int_equal(hsk_setsockopt(s, ssd, HSK_SO_RCVLOWAT, 100000), 0);
	static char buf[8192];
	memset(buf, 'w', sizeof(buf));
	assert_int_equal(hsk_send(c, csd, buf, 1000), 1000);
	sim_run(&sm, 5 * MS);
	assert_false(hsk_poll(s, ssd) & HSK_POLLIN);           /* 3096 more may come */
	assert_int_equal(hsk_send(c, csd, buf, sizeof(buf)), (long)sizeof(buf));
	sim_run(&sm, 50 * MS);
	assert_true(hsk_poll(s, ssd) & HSK_POLLIN);            /* the window is shut */
	long got = 0, n;
	for (int round = 0; round < 100 && got < 9192; round++) {
		while ((n = hsk_recv(s, ssd, buf, sizeof(buf))) > 0)
			got += n;
		sim_run(&sm, 50 * MS);
	}
	assert_int_equal(got, 9192);
	hsk_close(c, csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* TCP_NOTSENT_LOWAT: at most that many bytes wait unsent; POLLOUT once
 * fewer than half of it do (Linux's rule for poll). */
static void test_notsent_lowat(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 1103, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	assert_int_equal(getopt_(c, csd, HSK_TCP_NOTSENT_LOWAT), 0);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_NOTSENT_LOWAT, 16384), 0);
	assert_int_equal(getopt_(c, csd, HSK_TCP_NOTSENT_LOWAT), 16384);
	static char buf[200000];
	/* 16 KiB may wait unsent: the first write takes that much, the
	 * initial window (10 segments) of it goes; the second write fills the
	 * queue up to 16 KiB again; a third finds it full. */
	assert_int_equal(hsk_send(c, csd, buf, sizeof(buf)), 16384);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(c, csd, &ti), 0);
	assert_int_equal(ti.unacked, 10 * ti.mss);
	assert_int_equal(hsk_send(c, csd, buf, sizeof(buf)), (long)ti.unacked);
	assert_int_equal(hsk_send(c, csd, buf, 1), -HSK_EAGAIN);
	assert_false(hsk_poll(c, csd) & HSK_POLLOUT);
	/* The data flows: the queue drains below 8 KiB, POLLOUT. */
	long got = 0;
	for (int i = 0; i < 200 && !(hsk_poll(c, csd) & HSK_POLLOUT); i++) {
		sim_run(&sm, 1 * MS);
		long r;
		while ((r = hsk_recv(s, ssd, buf, sizeof(buf))) > 0)
			got += r;
	}
	assert_true(got > 0);   /* the queue drained because the data arrived */
	assert_true(hsk_poll(c, csd) & HSK_POLLOUT);
	assert_true(hsk_send(c, csd, buf, sizeof(buf)) > 0);
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* SO_LINGER N > 0: close() returns at once; if our FIN is not
 * acknowledged within N s the connection is reset (TCPAbortOnLinger);
 * acknowledged in time, the close goes on as usual. SO_LINGER 0 resets on
 * close(). Read back in seconds, -1 when off. */
static void test_linger(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 1104, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	assert_int_equal(getopt_(c, csd, HSK_SO_LINGER), -1);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_LINGER, -2), -HSK_EINVAL);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_LINGER, 3), 0);
	assert_int_equal(getopt_(c, csd, HSK_SO_LINGER), 3);
	assert_int_equal(getopt_(c, csd, HSK_SO_LINGER0), 0);
	/* The server goes silent: the FIN is retransmitted, not answered. */
	sim_blackhole(&sm, S, -1, true);
	assert_int_equal(hsk_send(c, csd, "bye", 3), 3);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 2900 * MS);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnLinger"), 0);
	sim_run(&sm, 200 * MS);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnLinger"), 1);
	assert_true(sim_count_tx(&sm, C, RST | A) == 1);
	sim_blackhole(&sm, S, -1, false);
	hsk_close(s, ssd);
	/* In time: nothing happens but the usual close. */
	sim_run(&sm, 1 * SEC);
	int c2 = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	int s2 = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_setsockopt(c, c2, HSK_SO_LINGER, 1), 0);
	assert_int_equal(hsk_close(c, c2), 0);
	sim_run(&sm, 3 * SEC);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnLinger"), 1);
	assert_int_equal(hsk_recv(s, s2, NULL, 0), 0);
	hsk_close(s, s2);
	/* SO_LINGER 0: a reset on close(), as HSK_SO_LINGER0. */
	int c3 = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	int s3 = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_setsockopt(c, c3, HSK_SO_LINGER, 0), 0);
	assert_int_equal(getopt_(c, c3, HSK_SO_LINGER0), 1);
	assert_int_equal(getopt_(c, c3, HSK_SO_LINGER), 0);
	assert_int_equal(hsk_close(c, c3), 0);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_sock_error(s, s3), HSK_ECONNRESET);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnLinger"), 2);
	hsk_close(s, s3);
	hsk_close(s, lsd);
	finish(&sm);
}

/* A socket of the simulation's family bound to its wildcard on the
 * server (over IPv6: [::], dual stack). */
static int bind_sock(sim *sm, uint16_t port, int reuseaddr, int reuseport)
{
	hsk_stack *s = sm->st[S];
	int sd = sim_socket(sm, S);
	assert_int_equal(hsk_setsockopt(s, sd, HSK_SO_REUSEADDR, reuseaddr), 0);
	assert_int_equal(hsk_setsockopt(s, sd, HSK_SO_REUSEPORT, reuseport), 0);
	int rc = sim_bind_any(sm, S, sd, port);
	if (rc < 0) {
		hsk_close(s, sd);
		return rc;
	}
	return sd;
}

/* SO_REUSEADDR as Linux: a port held by TIME_WAIT entries (or any other
 * socket that is not listening) may be bound again when both set it; a
 * listener's port never; without it, bind() fails. */
static void test_reuseaddr(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1105);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = bind_sock(&sm, PORT, 1, 0);
	assert_true(lsd >= 0);
	assert_int_equal(getopt_(s, lsd, HSK_SO_REUSEADDR), 1);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	assert_int_equal(bind_sock(&sm, PORT, 1, 0), -HSK_EADDRINUSE);   /* a listener */
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	/* The server closes first: its end of the connection in TIME_WAIT. */
	assert_int_equal(hsk_close(s, ssd), 0);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 5 * MS);
	hsk_usage u;
	hsk_stack_usage(s, &u);
	assert_int_equal(u.timewaits, 1);
	assert_int_equal(hsk_close(s, lsd), 0);
	/* A restart: without SO_REUSEADDR the TIME_WAIT entry holds the
	 * port; with it, the port is taken again. */
	assert_int_equal(bind_sock(&sm, PORT, 0, 0), -HSK_EADDRINUSE);
	lsd = bind_sock(&sm, PORT, 1, 0);
	assert_true(lsd >= 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	hsk_close(s, lsd);
	/* Two fresh sockets: only when both set it. */
	int a = bind_sock(&sm, 81, 0, 0);
	assert_true(a >= 0);
	assert_int_equal(bind_sock(&sm, 81, 1, 0), -HSK_EADDRINUSE);
	hsk_close(s, a);
	a = bind_sock(&sm, 81, 1, 0);
	int b = bind_sock(&sm, 81, 1, 0);
	assert_true(a >= 0 && b >= 0);
	/* ... but then only one may listen. */
	assert_int_equal(hsk_listen(s, a, 8), 0);
	assert_int_equal(hsk_listen(s, b, 8), -HSK_EADDRINUSE);
	hsk_close(s, a);
	hsk_close(s, b);
	finish(&sm);
}

/* SO_REUSEPORT: a group of listeners on one port; each connection goes to
 * one of them, by a hash of its 4-tuple (so all its segments do too). */
static void test_reuseport_group(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	sim sm;
	sim_init(&sm, 2, &cfg, 1106);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int l1 = bind_sock(&sm, PORT, 0, 1), l2 = bind_sock(&sm, PORT, 0, 1);
	assert_true(l1 >= 0 && l2 >= 0);
	assert_int_equal(bind_sock(&sm, PORT, 1, 0), -HSK_EADDRINUSE);  /* not of it */
	assert_int_equal(hsk_listen(s, l1, 64), 0);
	assert_int_equal(hsk_listen(s, l2, 64), 0);
	assert_int_equal(bind_sock(&sm, PORT, 0, 0), -HSK_EADDRINUSE);
	/* A socket with SO_REUSEPORT binds and joins the group while it
	 * listens (here, and leaves it, before any connection holds the
	 * port) */
	int l3 = bind_sock(&sm, PORT, 0, 1);
	assert_true(l3 >= 0);
	assert_int_equal(hsk_listen(s, l3, 8), 0);
	assert_int_equal(hsk_close(s, l3), 0);
	enum { N = 40 };
	int cs[N];
	for (int i = 0; i < N; i++)
		cs[i] = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 20 * MS);
	int n1 = 0, n2 = 0, sd;
	while ((sd = hsk_accept(s, l1, NULL)) >= 0) {
		n1++;
		hsk_close(s, sd);
	}
	while ((sd = hsk_accept(s, l2, NULL)) >= 0) {
		n2++;
		hsk_close(s, sd);
	}
	assert_int_equal(n1 + n2, N);
	assert_true(n1 >= 8 && n2 >= 8);        /* both take a share */
	for (int i = 0; i < N; i++)
		hsk_abort(c, cs[i]);
	/* One leaves the group: the other takes everything. Beside a
	 * listener without SO_REUSEPORT a socket with it may not bind
	 * (Linux: both must set it). */
	hsk_close(s, l1);
	int solo = bind_sock(&sm, 82, 0, 0);
	assert_true(solo >= 0);
	assert_int_equal(hsk_listen(s, solo, 8), 0);
	assert_int_equal(bind_sock(&sm, 82, 0, 1), -HSK_EADDRINUSE);
	assert_int_equal(bind_sock(&sm, 82, 1, 1), -HSK_EADDRINUSE);
	assert_int_equal(hsk_close(s, solo), 0);
	/* the same beside a socket bound only */
	solo = bind_sock(&sm, 83, 0, 0);
	assert_true(solo >= 0);
	assert_int_equal(bind_sock(&sm, 83, 0, 1), -HSK_EADDRINUSE);
	assert_int_equal(hsk_close(s, solo), 0);
	int c1 = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	sd = sim_accept(&sm, S, l2);
	hsk_abort(c, c1);
	hsk_close(s, sd);
	hsk_close(s, l2);
	finish(&sm);
}

/* TCP_CONGESTION per socket: before connect(), on a listener (inherited),
 * and on a connection (switched at once, cwnd kept, as Linux). */
static void test_congestion(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1107);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	char name[16];
	int lsd = sim_socket(&sm, S);
	assert_int_equal(hsk_getsockopt_str(s, lsd, HSK_TCP_CONGESTION, name, sizeof(name)), 0);
	assert_string_equal(name, "cubic");
	assert_int_equal(hsk_setsockopt_str(s, lsd, HSK_TCP_CONGESTION, "bbr"), -HSK_ENOENT);
	assert_int_equal(hsk_setsockopt_str(s, lsd, HSK_TCP_CONGESTION, "reno"), 0);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	int csd = sim_socket(&sm, C);
	assert_int_equal(hsk_setsockopt_str(c, csd, HSK_TCP_CONGESTION, "none"), 0);
	assert_int_equal(sim_connect_to(&sm, C, csd, S, PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(s, ssd, &ti), 0);
	assert_string_equal(ti.congestion_control, "newreno");
	assert_int_equal(hsk_sock_info(c, csd, &ti), 0);
	assert_string_equal(ti.congestion_control, "none");
	assert_int_equal(hsk_setsockopt_str(s, ssd, HSK_TCP_CONGESTION, "cubic"), 0);
	assert_int_equal(hsk_sock_info(s, ssd, &ti), 0);
	assert_string_equal(ti.congestion_control, "cubic");
	assert_int_equal(ti.cwnd, 10 * ti.mss);                 /* kept */
	assert_int_equal(hsk_getsockopt_str(s, ssd, HSK_TCP_CONGESTION, name, 4), 0);
	assert_string_equal(name, "cub");                       /* cut to fit */
	assert_int_equal(hsk_getsockopt_str(s, ssd, HSK_TCP_CONGESTION, name, 0), -HSK_EINVAL);
	assert_int_equal(hsk_getsockopt(s, ssd, HSK_TCP_CONGESTION, &(int){ 0 }), -HSK_ENOPROTOOPT);
	assert_int_equal(hsk_setsockopt(s, ssd, HSK_TCP_CONGESTION, 1), -HSK_ENOPROTOOPT);
	assert_int_equal(hsk_setsockopt_str(s, ssd, HSK_SO_NODELAY, "x"), -HSK_ENOPROTOOPT);
	/* To and from "none" (its fixed window) the new algorithm starts
	 * afresh, as Linux's tcp_reinit_congestion_control: none's window
	 * is not kept by the others, nor theirs by none. */
	uint32_t none_cwnd = 0;
	assert_int_equal(hsk_sock_info(c, csd, &ti), 0);
	none_cwnd = ti.cwnd;
	assert_true(none_cwnd > 1000 * ti.mss);
	assert_int_equal(hsk_setsockopt_str(c, csd, HSK_TCP_CONGESTION, "reno"), 0);
	assert_int_equal(hsk_sock_info(c, csd, &ti), 0);
	assert_int_equal(ti.cwnd, 10 * ti.mss);
	assert_int_equal(hsk_setsockopt_str(c, csd, HSK_TCP_CONGESTION, "none"), 0);
	assert_int_equal(hsk_sock_info(c, csd, &ti), 0);
	assert_int_equal(ti.cwnd, none_cwnd);
	/* Data still flows after the switch. */
	static char buf[100000];
	assert_int_equal(hsk_send(s, ssd, buf, sizeof(buf)), (long)sizeof(buf));
	long got = 0, r;
	for (int i = 0; i < 100 && got < (long)sizeof(buf); i++) {
		sim_run(&sm, 5 * MS);
		while ((r = hsk_recv(c, csd, buf, sizeof(buf))) > 0)
			got += r;
	}
	assert_int_equal(got, (long)sizeof(buf));
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* TCP_DEFER_ACCEPT, as Linux: a handshake whose final ACK carries no data
 * stays a request (TCPDeferAcceptDrop) until data comes; after the
 * deferral (set 5 s: 3 SYN-ACK timeouts, 1+2+4 = 7 s, read back as 7) the
 * last SYN-ACK draws an ACK that is accepted. */
static void test_defer_accept(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1108);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_DEFER_ACCEPT, 5), 0);
	assert_int_equal(getopt_(s, lsd, HSK_TCP_DEFER_ACCEPT), 7);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	assert_int_equal(getopt_(s, lsd, HSK_TCP_DEFER_ACCEPT), 7);
	/* Data after the handshake: accepted then. */
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	assert_int_equal(hsk_accept(s, lsd, NULL), -HSK_EAGAIN);
	assert_int_equal(sim_counter(&sm, S, "TCPDeferAcceptDrop"), 1);
	hsk_usage u;
	hsk_stack_usage(s, &u);
	assert_int_equal(u.requests, 1);
	assert_int_equal(hsk_send(c, csd, "GET", 3), 3);
	sim_run(&sm, 10 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 3);
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	/* No data ever: quiet until the last SYN-ACK of the deferral, whose
	 * ACK is taken. */
	size_t from = sm.nlog;
	csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 2 * SEC);
	assert_int_equal(hsk_accept(s, lsd, NULL), -HSK_EAGAIN);
	sim_run(&sm, 6 * SEC);
	ssd = sim_accept(&sm, S, lsd);
	int synacks = 0;
	for (size_t i = from; i < sm.nlog; i++)
		synacks += sm.log[i].host == S && sm.log[i].ev.kind == HSK_EV_TX &&
			   sm.log[i].ev.flags == (SYN | A);
	assert_int_equal(synacks, 2);           /* the first and the last */
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* TCP_DEFER_ACCEPT longer than synack_retries (Linux's syn_ack_recalc):
 * a request whose bare ACK came lives out the deferral, not the SYN-ACK
 * retries. synack_retries 2, the deferral 15 s (4 timeouts: 1, 2, 4, 8
 * s): quiet timeouts at 1, 3 and 7 s, the deferral's last SYN-ACK at 15 s,
 * whose ACK is accepted. A request never acknowledged still goes after
 * its 2 retries (at 7 s). */
static void test_defer_accept_past_synack_retries(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.synack_retries = 2;
	sim sm;
	sim_init(&sm, 2, &cfg, 1120);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_DEFER_ACCEPT, 15), 0);
	assert_int_equal(getopt_(s, lsd, HSK_TCP_DEFER_ACCEPT), 15);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	uint64_t t0 = sim_now(&sm);
	size_t from = sm.nlog;
	int csd = sim_connect(&sm, C, S, PORT);
	/* a SYN the client will not complete: the plain half-open lifetime */
	sim_inject(&sm, S, SIM_ADDR(7), 4000, PORT, 1000, 0, HSK_TH_SYN, 65535, NULL, 0);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, S, "TCPDeferAcceptDrop"), 1);
	hsk_usage u;
	sim_run(&sm, 7 * SEC + 100 * MS - sim_now(&sm) + t0);
	hsk_stack_usage(s, &u);
	assert_int_equal(u.requests, 1);        /* the acknowledged one */
	sim_run(&sm, 15 * SEC - 100 * MS - sim_now(&sm) + t0);
	hsk_stack_usage(s, &u);
	assert_int_equal(u.requests, 1);
	assert_int_equal(hsk_accept(s, lsd, NULL), -HSK_EAGAIN);
	sim_run(&sm, 200 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	uint64_t synacks[8];
	int n = 0;
	for (size_t i = from; i < sm.nlog; i++) {
		const sim_ev *e = &sm.log[i];
		if (e->host == S && e->ev.kind == HSK_EV_TX &&
		    e->ev.flags == (HSK_TH_SYN | HSK_TH_ACK) && e->ev.tuple.rport != 4000 &&
		    n < 8)
			synacks[n++] = (e->ev.t_ns - t0) / MS;
	}
	assert_int_equal(n, 2);         /* the first and the deferral's last */
	assert_int_equal(synacks[1] - synacks[0], 15000);
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* TCP_DEFER_ACCEPT waits for data, not for a FIN: a final ACK that
 * carries the client's FIN (no data) makes the connection at once, as
 * Linux's tcp_check_req (its end_seq is past RCV.NXT); accept() gives it
 * in CLOSE_WAIT, its read at the end. */
static void test_defer_accept_fin(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1121);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_DEFER_ACCEPT, 5), 0);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	assert_int_equal(sim_counter(&sm, S, "TCPDeferAcceptDrop"), 1);
	assert_int_equal(hsk_accept(s, lsd, NULL), -HSK_EAGAIN);
	assert_int_equal(hsk_shutdown(c, csd, HSK_SHUT_WR), 0);
	sim_run(&sm, 10 * MS);
	assert_int_equal(sim_counter(&sm, S, "TCPDeferAcceptDrop"), 1);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSE_WAIT);
	char buf[4];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_sock_state(c, csd), HSK_FIN_WAIT_2);
	hsk_close(s, ssd);
	hsk_close(c, csd);
	hsk_close(s, lsd);
	sim_run(&sm, 100 * SEC);
	finish(&sm);
}

/* TCP_KEEPINTVL, TCP_KEEPCNT and TCP_USER_TIMEOUT set alone on a
 * connection live in its active extension, which an idle connection gives
 * back (active.c): each one set keeps it, and reads back after the
 * connection has moved data and gone idle again. */
static void test_conn_options_outlive_idle(void **state)
{
	(void)state;
	static const struct { int opt, value; } set[] = {
		{ HSK_TCP_KEEPINTVL, 33 }, { HSK_TCP_KEEPCNT, 4 }, { HSK_TCP_USER_TIMEOUT, 5000 },
	};
	enum { N = sizeof(set) / sizeof(set[0]) };
	sim sm;
	sim_init(&sm, 2, NULL, 1123);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int csd[N], ssd[N];
	for (int i = 0; i < N; i++) {
		csd[i] = sim_connect(&sm, C, S, PORT);
		sim_run(&sm, 10 * MS);
		ssd[i] = sim_accept(&sm, S, lsd);
		assert_int_equal(hsk_setsockopt(s, ssd[i], set[i].opt, set[i].value), 0);
	}
	char buf[4];
	for (int i = 0; i < N; i++)
		assert_int_equal(hsk_send(c, csd[i], "x", 1), 1);
	sim_run(&sm, 10 * MS);
	for (int i = 0; i < N; i++)
		assert_int_equal(hsk_recv(s, ssd[i], buf, sizeof(buf)), 1);
	sim_run(&sm, 1 * SEC);
	for (int i = 0; i < N; i++) {
		assert_int_equal(getopt_(s, ssd[i], set[i].opt), set[i].value);
		hsk_abort(c, csd[i]);
		hsk_close(s, ssd[i]);
	}
	hsk_close(s, lsd);
	finish(&sm);
}

/* Buffers read back as Linux: twice what was set; out of range brought
 * into it. Keepalive timings read the stack's defaults until set, may be
 * set before connect() and on a listener, and SO_KEEPALIVE set before the
 * connection exists takes effect. SO_ERROR reads the pending error. */
static void test_units_and_keepalive(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1109);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int sd = sim_socket(&sm, C);
	assert_int_equal(getopt_(c, sd, HSK_SO_SNDBUF), 2 * 256 * 1024);
	assert_int_equal(hsk_setsockopt(c, sd, HSK_SO_SNDBUF, 65536), 0);
	assert_int_equal(getopt_(c, sd, HSK_SO_SNDBUF), 131072);
	assert_int_equal(hsk_setsockopt(c, sd, HSK_SO_RCVBUF, 10), 0);
	assert_int_equal(getopt_(c, sd, HSK_SO_RCVBUF), 2048);
	assert_int_equal(hsk_setsockopt(c, sd, HSK_SO_RCVBUF, -1), -HSK_EINVAL);
	assert_int_equal(getopt_(c, sd, HSK_TCP_KEEPIDLE), 7200);
	assert_int_equal(getopt_(c, sd, HSK_TCP_KEEPINTVL), 75);
	assert_int_equal(getopt_(c, sd, HSK_TCP_KEEPCNT), 9);
	hsk_close(c, sd);
	int lsd = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_SO_KEEPALIVE, 1), 0);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_KEEPIDLE, 10), 0);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_KEEPINTVL, 2), 0);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_KEEPCNT, 3), 0);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(getopt_(s, ssd, HSK_TCP_KEEPIDLE), 10);
	assert_int_equal(getopt_(s, ssd, HSK_SO_KEEPALIVE), 1);
	/* The client goes away silently: 10 s idle, 3 probes 2 s apart. */
	sim_blackhole(&sm, C, -1, true);
	sim_run(&sm, 20 * SEC);
	assert_int_equal(sim_counter(&sm, S, "TCPKeepAlive"), 3);
	assert_int_equal(getopt_(s, ssd, HSK_SO_ERROR), HSK_ETIMEDOUT);
	assert_int_equal(getopt_(s, ssd, HSK_SO_ERROR), 0);
	sim_blackhole(&sm, C, -1, false);
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* The SYN-ACK host sent from log entry `from` on. */
static const sim_ev *synack_since(const sim *sm, int host, size_t from)
{
	for (size_t i = from; i < sm->nlog; i++)
		if (sm->log[i].host == host && sm->log[i].ev.kind == HSK_EV_TX &&
		    sm->log[i].ev.flags == (SYN | A))
			return &sm->log[i];
	fail();
	return NULL;
}

/* Options set on a socket that listens already act on the connections it
 * accepts from then on, as Linux's children copy the listening socket:
 * TCP_NODELAY, SO_SNDBUF, IP_TOS and TCP_MAXSEG on the SYN-ACK,
 * TCP_CONGESTION, TCP_FASTOPEN (capped by somaxconn), TCP_DEFER_ACCEPT
 * (read back from the listener, rounded to Linux's schedule with its
 * 120 s cap), SO_REUSEPORT (read back; the group may then grow). */
static void test_set_on_listener(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.timestamps = false;         /* MSS = option value exactly */
	cfg.somaxconn = 100;
	sim sm;
	sim_init(&sm, 2, &cfg, 1110);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	char name[16];
	int lsd = sim_socket(&sm, S);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	/* (TCP_FASTOPEN first: it hands the listener all the socket's
	 * options again, which would hide whether the others reach it) */
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_FASTOPEN, 5), 0);
	assert_int_equal(getopt_(s, lsd, HSK_TCP_FASTOPEN), 5);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_FASTOPEN, 1000), 0);
	assert_int_equal(getopt_(s, lsd, HSK_TCP_FASTOPEN), 100);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_SO_NODELAY, 1), 0);
	assert_int_equal(getopt_(s, lsd, HSK_SO_NODELAY), 1);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_SO_SNDBUF, 8192), 0);
	assert_int_equal(getopt_(s, lsd, HSK_SO_SNDBUF), 16384);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_IP_TOS, 0x20), 0);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_MAXSEG, 1000), 0);
	assert_int_equal(hsk_setsockopt_str(s, lsd, HSK_TCP_CONGESTION, "reno"), 0);
	assert_int_equal(getopt_(s, lsd, HSK_SO_REUSEPORT), 0);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_SO_REUSEPORT, 1), 0);
	assert_int_equal(getopt_(s, lsd, HSK_SO_REUSEPORT), 1);
	/* ... and another member may join (before any connection: see
	 * docs/api.md on SO_REUSEPORT and connections) */
	int l2 = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, l2, HSK_SO_REUSEPORT, 1), 0);
	assert_int_equal(sim_bind_any(&sm, S, l2, PORT), 0);
	assert_int_equal(hsk_listen(s, l2, 8), 0);
	assert_int_equal(hsk_close(s, l2), 0);
	size_t from = sm.nlog;
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	const sim_ev *e = synack_since(&sm, S, from);
	assert_int_equal(e->ev.mss, 1000);
	assert_int_equal(e->tos & 0xfc, 0x20);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(getopt_(s, ssd, HSK_SO_NODELAY), 1);
	assert_int_equal(getopt_(s, ssd, HSK_SO_SNDBUF), 16384);
	assert_int_equal(getopt_(s, ssd, HSK_TCP_MAXSEG), 1000);
	assert_int_equal(hsk_getsockopt_str(s, ssd, HSK_TCP_CONGESTION, name, sizeof(name)), 0);
	assert_string_equal(name, "newreno");
	/* TCP_DEFER_ACCEPT: 200 s is 8 SYN-ACK timeouts of 1, 2, ... 64
	 * and then 120 s (the cap): 247 s; 250 s one more of 120 s. */
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_DEFER_ACCEPT, 200), 0);
	assert_int_equal(getopt_(s, lsd, HSK_TCP_DEFER_ACCEPT), 247);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_DEFER_ACCEPT, 250), 0);
	assert_int_equal(getopt_(s, lsd, HSK_TCP_DEFER_ACCEPT), 367);
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* Options of a connection: TCP_KEEPIDLE on a connection whose keepalive
 * timer runs moves it (the first probe comes the new idle time after,
 * not 2 h); SO_REUSEADDR cleared on a connection lets no other socket
 * share its port again; SO_RCVBUF once the receive ring exists:
 * EINVAL. TCP_QUICKACK before connect() is kept. */
static void test_set_on_connection(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1111);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int csd = sim_socket(&sm, C);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_REUSEADDR, 1), 0);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_QUICKACK, 0), 0);
	assert_int_equal(getopt_(c, csd, HSK_TCP_QUICKACK), 0);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_QUICKACK, 1), 0);
	assert_int_equal(getopt_(c, csd, HSK_TCP_QUICKACK), 1);
	assert_int_equal(sim_bind_any(&sm, C, csd, 5000), 0);
	assert_int_equal(sim_connect_to(&sm, C, csd, S, PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	/* the port is shared while both set SO_REUSEADDR, not after */
	int b = sim_socket(&sm, C);
	assert_int_equal(hsk_setsockopt(c, b, HSK_SO_REUSEADDR, 1), 0);
	assert_int_equal(sim_bind_any(&sm, C, b, 5000), 0);
	assert_int_equal(hsk_close(c, b), 0);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_REUSEADDR, 0), 0);
	b = sim_socket(&sm, C);
	assert_int_equal(hsk_setsockopt(c, b, HSK_SO_REUSEADDR, 1), 0);
	assert_int_equal(sim_bind_any(&sm, C, b, 5000), -HSK_EADDRINUSE);
	assert_int_equal(hsk_close(c, b), 0);
	/* SO_RCVBUF once data has arrived */
	assert_int_equal(hsk_send(s, ssd, "x", 1), 1);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_RCVBUF, 8192), -HSK_EINVAL);
	/* keepalive on, then its idle time: 10 s */
	assert_int_equal(hsk_setsockopt(s, ssd, HSK_SO_KEEPALIVE, 1), 0);
	assert_int_equal(hsk_setsockopt(s, ssd, HSK_TCP_KEEPIDLE, 10), 0);
	sim_run(&sm, 9 * SEC);
	assert_int_equal(sim_counter(&sm, S, "TCPKeepAlive"), 0);
	sim_run(&sm, 2 * SEC);
	assert_int_equal(sim_counter(&sm, S, "TCPKeepAlive"), 1);
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* Option values at their edges, as Linux: TCP_FASTOPEN_CONNECT is 0 or
 * 1 (negative: EINVAL); TCP_DEFER_ACCEPT of 0 or less is off, and a
 * large one is capped at 255 SYN-ACK timeouts (29887 s); SO_RCVLOWAT
 * negative reads INT_MAX; SO_SNDBUF once the send buffer exists is
 * EINVAL and leaves the size. */
static void test_value_edges(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 1112, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int f = sim_socket(&sm, C);
	assert_int_equal(hsk_setsockopt(c, f, HSK_TCP_FASTOPEN_CONNECT, -1), -HSK_EINVAL);
	assert_int_equal(hsk_setsockopt(c, f, HSK_TCP_FASTOPEN_CONNECT, 2), -HSK_EINVAL);
	assert_int_equal(getopt_(c, f, HSK_TCP_FASTOPEN_CONNECT), 0);
	assert_int_equal(hsk_setsockopt(c, f, HSK_TCP_DEFER_ACCEPT, 5), 0);
	assert_int_equal(hsk_setsockopt(c, f, HSK_TCP_DEFER_ACCEPT, 0), 0);
	assert_int_equal(getopt_(c, f, HSK_TCP_DEFER_ACCEPT), 0);
	assert_int_equal(hsk_setsockopt(c, f, HSK_TCP_DEFER_ACCEPT, -1), 0);
	assert_int_equal(getopt_(c, f, HSK_TCP_DEFER_ACCEPT), 0);
	assert_int_equal(hsk_setsockopt(c, f, HSK_TCP_DEFER_ACCEPT, 40000), 0);
	assert_int_equal(getopt_(c, f, HSK_TCP_DEFER_ACCEPT), 29887);
	assert_int_equal(hsk_setsockopt(c, f, HSK_SO_RCVLOWAT, -1), 0);
	assert_int_equal(getopt_(c, f, HSK_SO_RCVLOWAT), INT_MAX);
	/* SO_LINGER {1, 0} and back off: SO_LINGER reads 0, then -1 (off) */
	assert_int_equal(hsk_setsockopt(c, f, HSK_SO_LINGER0, 1), 0);
	assert_int_equal(getopt_(c, f, HSK_SO_LINGER), 0);
	assert_int_equal(hsk_setsockopt(c, f, HSK_SO_LINGER0, 0), 0);
	assert_int_equal(getopt_(c, f, HSK_SO_LINGER), -1);
	assert_int_equal(hsk_close(c, f), 0);
	/* SO_SNDBUF: set on the connection before its ring exists (it then
	 * sizes it), refused after */
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_SNDBUF, 4096), 0);
	assert_int_equal(getopt_(c, csd, HSK_SO_SNDBUF), 8192);
	assert_int_equal(hsk_send(c, csd, "x", 1), 1);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_SNDBUF, 65536), -HSK_EINVAL);
	assert_int_equal(getopt_(c, csd, HSK_SO_SNDBUF), 8192);
	sim_run(&sm, 10 * MS);
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* Each keepalive timing and TCP_USER_TIMEOUT alone reaches the
 * connection: set on a listener, the accepted one has it (Linux clones
 * them); set before connect(), the connection has it. */
static void test_inherited_alone(void **state)
{
	(void)state;
	static const struct { int opt, value; } one[] = {
		{ HSK_TCP_KEEPIDLE, 11 }, { HSK_TCP_KEEPINTVL, 12 }, { HSK_TCP_KEEPCNT, 13 },
		{ HSK_TCP_USER_TIMEOUT, 14000 },
	};
	sim sm;
	sim_init(&sm, 2, NULL, 1113);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		uint16_t port = (uint16_t)(PORT + i);
		int lsd = sim_socket(&sm, S);
		assert_int_equal(hsk_setsockopt(s, lsd, one[i].opt, one[i].value), 0);
		assert_int_equal(sim_bind_any(&sm, S, lsd, port), 0);
		assert_int_equal(hsk_listen(s, lsd, 8), 0);
		int csd = sim_socket(&sm, C);
		assert_int_equal(hsk_setsockopt(c, csd, one[i].opt, one[i].value), 0);
		assert_int_equal(sim_connect_to(&sm, C, csd, S, port), -HSK_EINPROGRESS);
		sim_run(&sm, 10 * MS);
		int ssd = sim_accept(&sm, S, lsd);
		assert_int_equal(getopt_(s, ssd, one[i].opt), one[i].value);
		assert_int_equal(getopt_(c, csd, one[i].opt), one[i].value);
		hsk_abort(c, csd);
		hsk_close(s, ssd);
		hsk_close(s, lsd);
	}
	finish(&sm);
}

/* The keepalive timings set before connect() are the connection's (they
 * were lost: the connection probed after the stack's 7200 s): 10 s idle,
 * then 3 probes 2 s apart, and the connection times out. */
static void test_keepalive_before_connect(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1114);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int csd = sim_socket(&sm, C);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_KEEPALIVE, 1), 0);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_KEEPIDLE, 10), 0);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_KEEPINTVL, 2), 0);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_KEEPCNT, 3), 0);
	assert_int_equal(sim_connect_to(&sm, C, csd, S, PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	sim_blackhole(&sm, S, -1, true);
	sim_run(&sm, 9 * SEC);
	assert_int_equal(sim_counter(&sm, C, "TCPKeepAlive"), 0);
	sim_run(&sm, 2 * SEC);
	assert_int_equal(sim_counter(&sm, C, "TCPKeepAlive"), 1);
	sim_run(&sm, 6 * SEC);
	assert_int_equal(sim_counter(&sm, C, "TCPKeepAlive"), 3);
	assert_int_equal(getopt_(c, csd, HSK_SO_ERROR), HSK_ETIMEDOUT);
	sim_blackhole(&sm, S, -1, false);
	hsk_close(c, csd);
	hsk_abort(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* A socket without options (no sock_opts allocated) takes the defaults
 * without reading them: connect(), accept() and close() skip the copy
 * (socket.c, "NULL: the defaults'"). A socket whose options were
 * allocated by setting one to its default value takes the general way.
 * Both must end up the same, on the connecting and the accepted side: if
 * a default changes without those skips, this fails. */
static void test_defaults_without_options(void **state)
{
	(void)state;
	static const int opts[] = {
		HSK_IP_TOS, HSK_SO_KEEPALIVE, HSK_TCP_KEEPIDLE, HSK_TCP_KEEPINTVL,
		HSK_TCP_KEEPCNT, HSK_TCP_USER_TIMEOUT, HSK_SO_REUSEADDR, HSK_SO_LINGER,
		HSK_SO_RCVLOWAT, HSK_TCP_FASTOPEN_CONNECT,
	};
	sim sm;
	sim_init(&sm, 2, NULL, 1110);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int csd[2], ssd[2], lsd[2];
	for (int i = 0; i < 2; i++) {
		lsd[i] = sim_socket(&sm, S);
		csd[i] = sim_socket(&sm, C);
		if (i) {                /* the defaults, set: options allocated */
			assert_int_equal(hsk_setsockopt(s, lsd[i], HSK_SO_RCVLOWAT, 1), 0);
			assert_int_equal(hsk_setsockopt(c, csd[i], HSK_SO_RCVLOWAT, 1), 0);
		}
		assert_int_equal(sim_bind_any(&sm, S, lsd[i], (uint16_t)(PORT + i)), 0);
		assert_int_equal(hsk_listen(s, lsd[i], 8), 0);
		assert_int_equal(sim_connect_to(&sm, C, csd[i], S, (uint16_t)(PORT + i)),
				 -HSK_EINPROGRESS);
		sim_run(&sm, 10 * MS);
		ssd[i] = sim_accept(&sm, S, lsd[i]);
		assert_true(ssd[i] >= 0);
	}
	for (size_t j = 0; j < sizeof(opts) / sizeof(opts[0]); j++) {
		assert_int_equal(getopt_(c, csd[0], opts[j]), getopt_(c, csd[1], opts[j]));
		assert_int_equal(getopt_(s, ssd[0], opts[j]), getopt_(s, ssd[1], opts[j]));
	}
	hsk_tcp_info a, b;
	assert_int_equal(hsk_sock_info(c, csd[0], &a), 0);
	assert_int_equal(hsk_sock_info(c, csd[1], &b), 0);
	assert_string_equal(a.congestion_control, b.congestion_control);
	assert_int_equal(hsk_sock_info(s, ssd[0], &a), 0);
	assert_int_equal(hsk_sock_info(s, ssd[1], &b), 0);
	assert_string_equal(a.congestion_control, b.congestion_control);
	for (int i = 0; i < 2; i++) {
		hsk_close(c, csd[i]);
		hsk_close(s, ssd[i]);
		hsk_close(s, lsd[i]);
	}
	finish(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maxseg),
		cmocka_unit_test(test_lowat),
		cmocka_unit_test(test_rcvlowat_over_window),
		cmocka_unit_test(test_notsent_lowat),
		cmocka_unit_test(test_linger),
		cmocka_unit_test(test_reuseaddr),
		cmocka_unit_test(test_reuseport_group),
		cmocka_unit_test(test_congestion),
		cmocka_unit_test(test_defer_accept),
		cmocka_unit_test(test_defer_accept_past_synack_retries),
		cmocka_unit_test(test_defer_accept_fin),
		cmocka_unit_test(test_conn_options_outlive_idle),
		cmocka_unit_test(test_value_edges),
		cmocka_unit_test(test_inherited_alone),
		cmocka_unit_test(test_keepalive_before_connect),
		cmocka_unit_test(test_units_and_keepalive),
		cmocka_unit_test(test_defaults_without_options),
		cmocka_unit_test(test_set_on_listener),
		cmocka_unit_test(test_set_on_connection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
