/*
 * Every error include/handshake.h lists for a socket call, made to happen
 * (one test per call, in the order of the header). An error a call lists
 * and no test here produces is a documentation bug.
 *
 * ENOMEM needs an allocator that fails: a child process squeezes its data
 * segment (RLIMIT_DATA) until malloc fails, then calls. That works where
 * the allocator is glibc's; under AddressSanitizer (whose allocator
 * reserves its own memory) those checks are skipped.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sim.h"

#if defined(__SANITIZE_ADDRESS__)
#define NO_SQUEEZE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_SQUEEZE 1
#endif
#endif

enum { C = 0, S = 1, PORT = 80, BAD = 999 };

#define E(call, err) assert_int_equal((call), -(err))

static void finish(sim *sm)
{
	sim_run_idle(sm, 600 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* A connected pair, and a connection of the client that was reset (its
 * ECONNRESET pending). */
static void pair(sim *sm, int *lsd, int *csd, int *ssd)
{
	sim_open_pair(sm, C, S, PORT, 8, lsd, csd, ssd);
}

static int reset_conn(sim *sm, int lsd)
{
	int sd = sim_connect(sm, C, S, PORT);
	sim_run(sm, 10 * MS);
	/* Accept until this connection's server end (another connection of
	 * the test may be queued before it); abort only that one. */
	uint16_t lport, pport;
	assert_int_equal(hsk_getsockname(sm->st[C], sd, NULL, &lport), 0);
	for (;;) {
		int ssd = sim_accept(sm, S, lsd);
		assert_int_equal(hsk_getpeername(sm->st[S], ssd, NULL, &pport), 0);
		if (pport == lport) {
			hsk_abort(sm->st[S], ssd);
			break;
		}
	}
	sim_run(sm, 5 * MS);
	assert_int_equal(hsk_sock_state(sm->st[C], sd), HSK_CLOSED);
	return sd;
}

static void test_socket(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.max_sockets = 2;
	sim sm;
	sim_init(&sm, 1, &cfg, 1301);
	hsk_stack *s = sm.st[0];
	assert_true(hsk_socket(s) >= 0);
	assert_true(hsk_socket(s) >= 0);
	E(hsk_socket(s), HSK_EMFILE);
	sim_free(&sm);
}

static void test_bind(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1302);
	hsk_stack *s = sm.st[S];
	E(hsk_bind(s, BAD, 0, 1), HSK_EBADF);
	int sd = hsk_socket(s);
	E(hsk_bind(s, sd, SIM_ADDR(5), 1), HSK_EADDRNOTAVAIL);
	assert_int_equal(hsk_bind(s, sd, 0, 1), 0);
	E(hsk_bind(s, sd, 0, 2), HSK_EINVAL);                   /* bound */
	int lsd = sim_listen(&sm, S, PORT, 8);
	E(hsk_bind(s, lsd, 0, 3), HSK_EINVAL);                  /* not fresh */
	int sd2 = hsk_socket(s);
	E(hsk_bind(s, sd2, 0, PORT), HSK_EADDRINUSE);
	hsk_close(s, sd);
	hsk_close(s, sd2);
	hsk_close(s, lsd);
	finish(&sm);
}

static void test_listen(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1303);
	hsk_stack *s = sm.st[S];
	E(hsk_listen(s, BAD, 1), HSK_EBADF);
	int sd = hsk_socket(s);
	E(hsk_listen(s, sd, 1), HSK_EINVAL);                    /* not bound */
	int lsd, csd, ssd;
	pair(&sm, &lsd, &csd, &ssd);
	E(hsk_listen(s, ssd, 1), HSK_EINVAL);                   /* connected */
	/* Two sockets bound with SO_REUSEADDR: only one listens. */
	int a = hsk_socket(s), b = hsk_socket(s);
	hsk_setsockopt(s, a, HSK_SO_REUSEADDR, 1);
	hsk_setsockopt(s, b, HSK_SO_REUSEADDR, 1);
	assert_int_equal(hsk_bind(s, a, 0, 90), 0);
	assert_int_equal(hsk_bind(s, b, 0, 90), 0);
	assert_int_equal(hsk_listen(s, a, 1), 0);
	E(hsk_listen(s, b, 1), HSK_EADDRINUSE);
	for (int x = 0; x < 5; x++)
		hsk_close(s, x == 0 ? sd : x == 1 ? a : x == 2 ? b : x == 3 ? ssd : lsd);
	hsk_abort(sm.st[C], csd);
	finish(&sm);
}

static void test_accept(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.max_sockets = 2;
	sim sm;
	sim_init(&sm, 2, &cfg, 1304);
	hsk_stack *s = sm.st[S];
	E(hsk_accept(s, BAD, NULL), HSK_EBADF);
	int lsd = sim_listen(&sm, S, PORT, 8);
	E(hsk_accept(s, lsd, NULL), HSK_EAGAIN);
	int fresh = hsk_socket(s);
	E(hsk_accept(s, fresh, NULL), HSK_EINVAL);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	E(hsk_accept(s, lsd, NULL), HSK_EMFILE);                /* lsd, fresh */
	hsk_close(s, fresh);
	int ssd = hsk_accept(s, lsd, NULL);
	assert_true(ssd >= 0);
	hsk_abort(sm.st[C], csd);
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	finish(&sm);
}

static void test_connect(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.max_conns = 3;
	sim sm;
	sim_init(&sm, 2, &cfg, 1305);
	hsk_stack *c = sm.st[C];
	E(hsk_connect(c, BAD, SIM_ADDR(S), PORT), HSK_EBADF);
	int lsd = sim_listen(&sm, S, PORT, 8);
	int sd = hsk_socket(c);
	E(hsk_connect(c, sd, 0, PORT), HSK_EINVAL);
	E(hsk_connect(c, sd, SIM_ADDR(S), 0), HSK_EINVAL);
	E(hsk_connect(c, sd, SIM_ADDR(S), PORT), HSK_EINPROGRESS);
	E(hsk_connect(c, sd, SIM_ADDR(S), PORT), HSK_EALREADY);
	sim_run(&sm, 10 * MS);
	E(hsk_connect(c, sd, SIM_ADDR(S), PORT), HSK_EISCONN);
	int l2 = sim_listen(&sm, C, 81, 1);
	E(hsk_connect(c, l2, SIM_ADDR(S), PORT), HSK_EINVAL);  /* listening */
	/* The same 4-tuple again from a bound port. */
	uint16_t lport;
	hsk_getsockname(c, sd, NULL, &lport);
	int dup = hsk_socket(c);
	hsk_setsockopt(c, dup, HSK_SO_REUSEADDR, 1);
	hsk_setsockopt(c, sd, HSK_SO_REUSEADDR, 1);
	assert_int_equal(hsk_bind(c, dup, 0, lport), 0);
	E(hsk_connect(c, dup, SIM_ADDR(S), PORT), HSK_EADDRINUSE);
	/* max_conns (3) TCBs on the client: a fourth cannot be. */
	int x = sim_connect(&sm, C, 7, 1), y = sim_connect(&sm, C, 7, 2);
	int z = hsk_socket(c);
	E(hsk_connect(c, z, SIM_ADDR(S), PORT), HSK_ENOBUFS);
	for (int k = 0; k < 5; k++)
		hsk_abort(c, k == 0 ? x : k == 1 ? y : k == 2 ? z : k == 3 ? dup : l2);
	hsk_abort(c, sd);
	hsk_close(sm.st[S], 0);
	hsk_close(sm.st[S], lsd);
	finish(&sm);
}

/* RFC 1122 §4.2.3.10: an OPEN to an address that is no host's (multicast,
 * broadcast, the reserved 240/4, loopback, "this network") is an error,
 * ENETUNREACH as Linux: nothing is sent, and the socket can still open a
 * connection to a host. */
static void test_connect_martian(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.prefix_len = 24;                    /* subnet broadcast 198.18.0.255 */
	sim sm;
	sim_init(&sm, 2, &cfg, 1316);
	hsk_stack *c = sm.st[C];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int sd = hsk_socket(c);
	static const uint32_t no_host[] = {
		0xe0000001u, 0xefffffffu,       /* 224.0.0.1, 239.255.255.255 */
		0xf0000001u, 0xffffffffu,       /* 240.0.0.1, 255.255.255.255 */
		0xc61200ffu,                    /* our subnet's broadcast */
		0x7f000001u, 0x00010203u,       /* 127.0.0.1, 0.1.2.3 */
	};
	size_t mark = sm.nlog;
	for (size_t i = 0; i < sizeof(no_host) / sizeof(no_host[0]); i++)
		E(hsk_connect(c, sd, no_host[i], PORT), HSK_ENETUNREACH);
	assert_int_equal(sim_count_tx_since(&sm, C, mark), 0);
	assert_int_equal(hsk_sock_state(c, sd), HSK_CLOSED);
	E(hsk_connect(c, sd, SIM_ADDR(S), PORT), HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(c, sd), HSK_ESTABLISHED);
	int ssd = hsk_accept(sm.st[S], lsd, NULL);
	assert_true(ssd >= 0);
	hsk_abort(c, sd);
	hsk_close(sm.st[S], ssd);
	hsk_close(sm.st[S], lsd);
	finish(&sm);
}

/* Every ephemeral port (Linux's 32768..60999) has a connection to the same
 * server port: EADDRNOTAVAIL. */
static void test_connect_ports_exhausted(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 1, NULL, 1306);
	hsk_stack *c = sm.st[0];
	enum { PORTS = 60999 - 32768 + 1 };
	for (int i = 0; i < PORTS; i++) {
		int sd = hsk_socket(c);
		assert_true(sd >= 0);
		assert_int_equal(hsk_connect(c, sd, SIM_ADDR(5), PORT), -HSK_EINPROGRESS);
	}
	int sd = hsk_socket(c);
	E(hsk_connect(c, sd, SIM_ADDR(5), PORT), HSK_EADDRNOTAVAIL);
	sim_free(&sm);
}

/* The same over IPv6 (pick_port6): EADDRNOTAVAIL. */
static void test_connect_ports_exhausted6(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1321);
	sim_use_ipv6(&sm);
	hsk_stack *c = sm.st[C];
	hsk_addr to = sim_addr6(5);
	enum { PORTS = 60999 - 32768 + 1 };
	for (int i = 0; i < PORTS; i++) {
		int sd = hsk_socket_family(c, HSK_AF_INET6);
		assert_true(sd >= 0);
		assert_int_equal(hsk_connect_addr(c, sd, &to, PORT), -HSK_EINPROGRESS);
	}
	int sd = hsk_socket_family(c, HSK_AF_INET6);
	E(hsk_connect_addr(c, sd, &to, PORT), HSK_EADDRNOTAVAIL);
	sim_free(&sm);
}

/* send, sendv, sendto, send_reserve, send_commit */
static void test_send_family(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sndbuf = 4096;
	sim sm;
	sim_init(&sm, 2, &cfg, 1307);
	hsk_stack *c = sm.st[C];
	int lsd, csd, ssd;
	pair(&sm, &lsd, &csd, &ssd);
	void *w;
	int fresh = hsk_socket(c);
	E(hsk_send(c, BAD, "x", 1), HSK_EBADF);
	E(hsk_send(c, fresh, "x", 1), HSK_ENOTCONN);
	E(hsk_send_reserve(c, BAD, &w), HSK_EBADF);
	E(hsk_send_reserve(c, fresh, &w), HSK_ENOTCONN);
	E(hsk_send_commit(c, BAD, 1), HSK_EBADF);
	E(hsk_send_commit(c, fresh, 1), HSK_ENOTCONN);
	hsk_iovec one = { "x", 1 };
	E(hsk_sendv(c, BAD, &one, 1), HSK_EBADF);
	E(hsk_sendv(c, fresh, &one, 1), HSK_ENOTCONN);
	/* EAGAIN: still connecting; and a full buffer (nothing acknowledged). */
	int conn = hsk_socket(c);
	hsk_connect(c, conn, SIM_ADDR(S), PORT);
	E(hsk_send(c, conn, "x", 1), HSK_EAGAIN);
	E(hsk_send_reserve(c, conn, &w), HSK_EAGAIN);
	sim_blackhole(&sm, S, -1, true);
	static char big[8192];
	assert_int_equal(hsk_send(c, csd, big, sizeof(big)), 4096);
	E(hsk_send(c, csd, big, 1), HSK_EAGAIN);
	E(hsk_send_reserve(c, csd, &w), HSK_EAGAIN);
	E(hsk_send_commit(c, csd, 1), HSK_EINVAL);             /* nothing reserved */
	sim_blackhole(&sm, S, -1, false);
	/* EINVAL of the iovec */
	hsk_iovec iov[2] = { { big, 1 }, { big, 1 } };
	E(hsk_sendv(c, csd, iov, -1), HSK_EINVAL);
	E(hsk_sendv(c, csd, iov, HSK_IOV_MAX + 1), HSK_EINVAL);
	E(hsk_sendv(c, csd, NULL, 1), HSK_EINVAL);
	hsk_iovec huge[2] = { { big, (size_t)LONG_MAX / 2 + 1 }, { big, (size_t)LONG_MAX / 2 + 1 } };
	E(hsk_sendv(c, csd, huge, 2), HSK_EINVAL);
	hsk_iovec nul = { NULL, 1 };
	E(hsk_sendv(c, csd, &nul, 1), HSK_EINVAL);
	/* hsk_send's one buffer, checked without iov_total: the same answers */
	E(hsk_send(c, csd, NULL, 1), HSK_EINVAL);
	E(hsk_send(c, csd, big, (size_t)LONG_MAX + 1), HSK_EINVAL);
	assert_int_equal(hsk_send(c, csd, NULL, 0), 0);
	E(hsk_send(c, BAD, NULL, 1), HSK_EBADF);       /* the socket first */
	/* sendto */
	E(hsk_sendto(c, BAD, "x", 1, 0, SIM_ADDR(S), PORT), HSK_EBADF);
	/* (0x1 is HSK_MSG_OOB now: 0x4, Linux's MSG_DONTROUTE, is unknown) */
	E(hsk_sendto(c, csd, "x", 1, 0x4, SIM_ADDR(S), PORT), HSK_EINVAL);
	E(hsk_sendto(c, csd, "x", 1, HSK_MSG_OOB | HSK_MSG_FASTOPEN, SIM_ADDR(S), PORT),
	  HSK_EINVAL);
	E(hsk_sendto(c, fresh, "x", 1, 0, SIM_ADDR(S), PORT), HSK_EPIPE);
	E(hsk_sendto(c, fresh, "x", 1, HSK_MSG_OOB, SIM_ADDR(S), PORT), HSK_EPIPE);
	E(hsk_sendto(sm.st[S], lsd, "x", 1, 0, SIM_ADDR(C), PORT), HSK_ENOTCONN);
	/* EPIPE: writing shut down. */
	assert_int_equal(hsk_shutdown(c, csd, HSK_SHUT_WR), 0);
	E(hsk_send(c, csd, "x", 1), HSK_EPIPE);
	E(hsk_send_reserve(c, csd, &w), HSK_EPIPE);
	E(hsk_send_commit(c, csd, 1), HSK_EPIPE);
	E(hsk_sendv(c, csd, iov, 1), HSK_EPIPE);
	/* A pending error, once; then EPIPE (the connection is closed). */
	int r = reset_conn(&sm, lsd);
	E(hsk_send(c, r, "x", 1), HSK_ECONNRESET);
	E(hsk_send(c, r, "x", 1), HSK_EPIPE);
	int r2 = reset_conn(&sm, lsd);
	E(hsk_send_reserve(c, r2, &w), HSK_ECONNRESET);
	for (int k = 0; k < 4; k++)
		hsk_abort(c, k == 0 ? fresh : k == 1 ? conn : k == 2 ? r : r2);
	hsk_abort(c, csd);
	sim_run(&sm, 10 * MS);
	while ((ssd = hsk_accept(sm.st[S], lsd, NULL)) >= 0)
		hsk_close(sm.st[S], ssd);
	for (int k = 0; k < 8; k++)
		if (k != lsd)
			hsk_close(sm.st[S], k);
	hsk_close(sm.st[S], lsd);
	finish(&sm);
}

/* sendto with HSK_MSG_FASTOPEN: the errors of connect, and EOPNOTSUPP. */
static void test_sendto_fastopen(void **state)
{
	(void)state;
	hsk_config off;
	hsk_config_default(&off);
	off.tcp_fastopen = 0;
	const hsk_config *cfgs[2] = { &off, NULL };
	sim sm;
	sim_init_hosts(&sm, 2, cfgs, 1308);
	int sd = hsk_socket(sm.st[C]);
	E(hsk_sendto(sm.st[C], sd, "x", 1, HSK_MSG_FASTOPEN, SIM_ADDR(S), PORT), HSK_EOPNOTSUPP);
	hsk_stack *s = sm.st[S];
	int t = hsk_socket(s);
	E(hsk_sendto(s, t, "x", 1, HSK_MSG_FASTOPEN, 0, PORT), HSK_EINVAL);
	E(hsk_sendto(s, t, "x", 1, HSK_MSG_FASTOPEN, SIM_ADDR(C), PORT), HSK_EINPROGRESS);
	E(hsk_sendto(s, t, "x", 1, HSK_MSG_FASTOPEN, SIM_ADDR(C), PORT), HSK_EALREADY);
	hsk_close(sm.st[C], sd);
	hsk_abort(s, t);
	finish(&sm);
}

/* recv, recvv, recv_borrow, recv_release */
static void test_recv_family(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1309);
	hsk_stack *c = sm.st[C];
	int lsd, csd, ssd;
	pair(&sm, &lsd, &csd, &ssd);
	char buf[8];
	const void *p;
	hsk_iovec iov = { buf, sizeof(buf) };
	int fresh = hsk_socket(c);
	E(hsk_recv(c, BAD, buf, 1), HSK_EBADF);
	E(hsk_recv(c, fresh, buf, 1), HSK_ENOTCONN);
	E(hsk_recvv(c, BAD, &iov, 1, 0), HSK_EBADF);
	E(hsk_recvv(c, fresh, &iov, 1, 0), HSK_ENOTCONN);
	E(hsk_recv_borrow(c, BAD, &p), HSK_EBADF);
	E(hsk_recv_borrow(c, fresh, &p), HSK_ENOTCONN);
	E(hsk_recv_release(c, BAD, 1), HSK_EBADF);
	E(hsk_recv_release(c, fresh, 1), HSK_ENOTCONN);
	E(hsk_recv(c, csd, buf, 1), HSK_EAGAIN);
	E(hsk_recvv(c, csd, &iov, 1, 0), HSK_EAGAIN);
	E(hsk_recv_borrow(c, csd, &p), HSK_EAGAIN);
	E(hsk_recv_release(c, csd, 1), HSK_EINVAL);
	E(hsk_recvv(c, csd, &iov, 1, 0x40), HSK_EINVAL);
	E(hsk_recvv(c, csd, &iov, -1, 0), HSK_EINVAL);
	E(hsk_recvv(c, csd, NULL, 1, 0), HSK_EINVAL);
	/* hsk_recv's one buffer, checked without iov_total: the same answers */
	E(hsk_recv(c, csd, NULL, 1), HSK_EINVAL);
	E(hsk_recv(c, csd, buf, (size_t)LONG_MAX + 1), HSK_EINVAL);
	E(hsk_recv(c, BAD, NULL, 1), HSK_EBADF);
	E(hsk_recv(c, csd, NULL, 0), HSK_EAGAIN);
	int r = reset_conn(&sm, lsd);
	E(hsk_recv(c, r, buf, 1), HSK_ECONNRESET);
	assert_int_equal(hsk_recv(c, r, buf, 1), 0);            /* then EOF */
	int r2 = reset_conn(&sm, lsd);
	E(hsk_recvv(c, r2, &iov, 1, HSK_MSG_PEEK), HSK_ECONNRESET);
	int r3 = reset_conn(&sm, lsd);
	E(hsk_recv_borrow(c, r3, &p), HSK_ECONNRESET);
	hsk_abort(c, csd);
	for (int k = 0; k < 4; k++)
		hsk_abort(c, k == 0 ? fresh : k == 1 ? r : k == 2 ? r2 : r3);
	for (int k = 0; k < 8; k++)
		if (k != lsd)
			hsk_close(sm.st[S], k);
	hsk_close(sm.st[S], lsd);
	finish(&sm);
}

static void test_shutdown_close(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1310);
	hsk_stack *c = sm.st[C];
	E(hsk_shutdown(c, BAD, HSK_SHUT_WR), HSK_EBADF);
	E(hsk_close(c, BAD), HSK_EBADF);
	E(hsk_abort(c, BAD), HSK_EBADF);
	int fresh = hsk_socket(c);
	E(hsk_shutdown(c, fresh, HSK_SHUT_WR), HSK_ENOTCONN);
	int lsd = sim_listen(&sm, S, PORT, 8);
	int sd = hsk_socket(c);
	hsk_connect(c, sd, SIM_ADDR(S), PORT);
	E(hsk_shutdown(c, sd, HSK_SHUT_WR), HSK_ENOTCONN);      /* SYN_SENT */
	sim_run(&sm, 10 * MS);
	E(hsk_shutdown(c, sd, 3), HSK_EINVAL);
	E(hsk_shutdown(c, sd, -1), HSK_EINVAL);
	int ssd = sim_accept(&sm, S, lsd);
	hsk_abort(sm.st[S], ssd);
	sim_run(&sm, 5 * MS);
	E(hsk_shutdown(c, sd, HSK_SHUT_RD), HSK_ENOTCONN);      /* CLOSED */
	assert_int_equal(hsk_close(c, sd), 0);
	E(hsk_close(c, sd), HSK_EBADF);
	hsk_close(c, fresh);
	hsk_close(sm.st[S], lsd);
	finish(&sm);
}

static void test_sockopt_errors(void **state)
{
	(void)state;
	hsk_config off;
	hsk_config_default(&off);
	off.tcp_fastopen = 0;
	const hsk_config *cfgs[2] = { NULL, &off };
	sim sm;
	sim_init_hosts(&sm, 2, cfgs, 1311);
	hsk_stack *c = sm.st[C];
	int v;
	char name[8];
	E(hsk_setsockopt(c, BAD, HSK_SO_NODELAY, 1), HSK_EBADF);
	E(hsk_getsockopt(c, BAD, HSK_SO_NODELAY, &v), HSK_EBADF);
	E(hsk_setsockopt_str(c, BAD, HSK_TCP_CONGESTION, "cubic"), HSK_EBADF);
	E(hsk_getsockopt_str(c, BAD, HSK_TCP_CONGESTION, name, 8), HSK_EBADF);
	int sd = hsk_socket(c);
	E(hsk_setsockopt(c, sd, 0, 1), HSK_ENOPROTOOPT);
	E(hsk_setsockopt(c, sd, 1000, 1), HSK_ENOPROTOOPT);
	E(hsk_getsockopt(c, sd, 1000, &v), HSK_ENOPROTOOPT);
	E(hsk_setsockopt(c, sd, HSK_TCP_CONGESTION, 1), HSK_ENOPROTOOPT);
	E(hsk_setsockopt_str(c, sd, HSK_IP_TOS, "1"), HSK_ENOPROTOOPT);
	E(hsk_getsockopt_str(c, sd, HSK_IP_TOS, name, 8), HSK_ENOPROTOOPT);
	E(hsk_setsockopt_str(c, sd, HSK_TCP_CONGESTION, "vegas"), HSK_ENOENT);
	E(hsk_setsockopt_str(c, sd, HSK_TCP_CONGESTION, NULL), HSK_ENOENT);
	E(hsk_getsockopt_str(c, sd, HSK_TCP_CONGESTION, name, 0), HSK_EINVAL);
	E(hsk_setsockopt(c, sd, HSK_SO_KEEPIDLE, 0), HSK_EINVAL);
	E(hsk_setsockopt(c, sd, HSK_SO_KEEPCNT, 128), HSK_EINVAL);
	E(hsk_setsockopt(c, sd, HSK_SO_USER_TIMEOUT, -1), HSK_EINVAL);
	E(hsk_setsockopt(c, sd, HSK_SO_LINGER, -2), HSK_EINVAL);
	E(hsk_setsockopt(c, sd, HSK_TCP_MAXSEG, 10), HSK_EINVAL);
	E(hsk_setsockopt(c, sd, HSK_SO_SNDLOWAT, 0), HSK_EINVAL);
	E(hsk_setsockopt(c, sd, HSK_TCP_FASTOPEN, -1), HSK_EINVAL);
	E(hsk_setsockopt(c, sd, HSK_TCP_FASTOPEN_CONNECT, 2), HSK_EINVAL);
	E(hsk_setsockopt(c, sd, HSK_SO_SNDBUF, -5), HSK_EINVAL);
	E(hsk_setsockopt(sm.st[S], hsk_socket(sm.st[S]), HSK_TCP_FASTOPEN_CONNECT, 1),
	  HSK_EOPNOTSUPP);
	/* The state: buffers once they exist, Fast Open on a connection. */
	int lsd = sim_listen(&sm, S, PORT, 8);
	assert_int_equal(hsk_connect(c, sd, SIM_ADDR(S), PORT), -HSK_EINPROGRESS);
	E(hsk_setsockopt(c, sd, HSK_TCP_FASTOPEN_CONNECT, 1), HSK_EINVAL);
	E(hsk_setsockopt(c, sd, HSK_TCP_FASTOPEN, 5), HSK_EINVAL);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_send(c, sd, "x", 1), 1);
	E(hsk_setsockopt(c, sd, HSK_SO_SNDBUF, 8192), HSK_EINVAL);
	hsk_abort(c, sd);
	hsk_close(sm.st[S], 1);
	hsk_close(sm.st[S], 2);
	hsk_close(sm.st[S], lsd);
	finish(&sm);
}

/* The calls whose only error is EBADF, and ENOTCONN where listed. */
static void test_info_calls(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 1, NULL, 1312);
	hsk_stack *s = sm.st[0];
	hsk_tuple tu;
	hsk_tcp_info ti;
	uint32_t a;
	uint16_t p;
	E(hsk_poll(s, BAD), HSK_EBADF);
	E(hsk_poll(s, -1), HSK_EBADF);
	E(hsk_sock_error(s, BAD), HSK_EBADF);
	E(hsk_sock_state(s, BAD), HSK_EBADF);
	E(hsk_sock_tuple(s, BAD, &tu), HSK_EBADF);
	E(hsk_getsockname(s, BAD, &a, &p), HSK_EBADF);
	E(hsk_getpeername(s, BAD, &a, &p), HSK_EBADF);
	E(hsk_sock_set_user(s, BAD, NULL), HSK_EBADF);
	E(hsk_sock_info(s, BAD, &ti), HSK_EBADF);
	int sd = hsk_socket(s);
	E(hsk_getpeername(s, sd, &a, &p), HSK_ENOTCONN);
	E(hsk_sock_info(s, sd, &ti), HSK_ENOTCONN);
	/* Fast Open cookies */
	uint8_t ck[16];
	E(hsk_fastopen_cookie_get(s, SIM_ADDR(3), ck), HSK_ENOENT);
	E(hsk_fastopen_cookie_set(s, SIM_ADDR(3), ck, 3), HSK_EINVAL);
	E(hsk_fastopen_cookie_set(s, SIM_ADDR(3), ck, 5), HSK_EINVAL);
	E(hsk_fastopen_cookie_set(s, SIM_ADDR(3), ck, 18), HSK_EINVAL);
	E(hsk_fastopen_cookie_set(s, SIM_ADDR(3), NULL, 8), HSK_EINVAL);
	E(hsk_fastopen_key_set(s, NULL, ck), HSK_EINVAL);
	hsk_close(s, sd);
	sim_free(&sm);
}

/* ---- the calls with addresses of either family, and the port rules
 * between the families ---- */

static const uint8_t ANY6[16];

/* A socket of s: IPv4 (a NULL) or IPv6, v6only, SO_REUSEADDR, bound to
 * a:port (a: an IPv4 or IPv6 address; NULL: 0.0.0.0). The bind's result:
 * the sd, or its error (the socket closed). */
static int bound(hsk_stack *s, const hsk_addr *a, bool v6only, int reuse, uint16_t port)
{
	bool v6 = a && a->family == HSK_AF_INET6;
	int sd = hsk_socket_family(s, v6 ? HSK_AF_INET6 : HSK_AF_INET);
	assert_true(sd >= 0);
	if (v6)
		assert_int_equal(hsk_setsockopt(s, sd, HSK_SO_V6ONLY, v6only), 0);
	assert_int_equal(hsk_setsockopt(s, sd, HSK_SO_REUSEADDR, reuse), 0);
	hsk_addr a4 = hsk_addr_v4(0);
	int rc = hsk_bind_addr(s, sd, a ? a : &a4, port);
	if (rc < 0) {
		assert_int_equal(hsk_close(s, sd), 0);
		return rc;
	}
	return sd;
}

/* bound's socket, closed at once: the bind's result, 0 or the error. */
static int try_bind(hsk_stack *s, const hsk_addr *a, bool v6only, int reuse, uint16_t port)
{
	int sd = bound(s, a, v6only, reuse, port);
	if (sd < 0)
		return sd;
	assert_int_equal(hsk_close(s, sd), 0);
	return 0;
}

/* bind between the families, as Linux's inet_bind_conflict with
 * ipv6_rcv_saddr_equal: an IPv6 socket on :: that is not v6only holds the
 * port for IPv4 as well (and meets every IPv4 socket on it); one on ::
 * that is v6only, or on a specific IPv6 address (which Linux makes
 * v6only), meets none; two IPv6 ones meet when either is :: or both have
 * one address. Each holder in turn: a listener, a socket bound only, a
 * connection, a request in a SYN queue. */
static void test_bind_families(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1314);
	sim_use_ipv6(&sm);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	hsk_addr any6 = hsk_addr_v6(ANY6), me6 = sim_addr6(S), other6;
	assert_int_equal(hsk_addr_parse("2001:2::99", &other6), 0);
	assert_int_equal(hsk_stack_add_addr(s, &other6, 64), 0);

	/* Two IPv4 addresses of ours: each may have a port, bound or
	 * listening, as Linux; the same address, or 0.0.0.0, may not. */
	hsk_addr me4b = hsk_addr_v4(0xc6120063u);      /* 198.18.0.99 */
	assert_int_equal(hsk_stack_add_addr(s, &me4b, 24), 0);
	int p1 = hsk_socket(s), p2 = hsk_socket(s), p3 = hsk_socket(s);
	assert_int_equal(hsk_bind(s, p1, SIM_ADDR(S), 108), 0);
	assert_int_equal(hsk_bind(s, p2, me4b.v4, 108), 0);
	E(hsk_bind(s, p3, SIM_ADDR(S), 108), HSK_EADDRINUSE);
	E(hsk_bind(s, p3, 0, 108), HSK_EADDRINUSE);
	assert_int_equal(hsk_listen(s, p1, 4), 0);
	assert_int_equal(hsk_listen(s, p2, 4), 0);
	E(hsk_bind(s, p3, me4b.v4, 108), HSK_EADDRINUSE);
	assert_int_equal(hsk_bind(s, p3, me4b.v4, 109), 0);
	int fds4[] = { p1, p2, p3 };
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(hsk_close(s, fds4[i]), 0);

	/* An IPv4 listener on 0.0.0.0:100 */
	int l4 = bound(s, NULL, false, 1, 100);
	assert_true(l4 >= 0);
	assert_int_equal(hsk_listen(s, l4, 4), 0);
	E(try_bind(s, &any6, false, 1, 100), HSK_EADDRINUSE);
	assert_int_equal(try_bind(s, &any6, true, 0, 100), 0);
	assert_int_equal(try_bind(s, &me6, false, 0, 100), 0);
	/* ... and an IPv6 one of each kind listens beside it */
	int l6 = bound(s, &any6, true, 0, 100);
	assert_int_equal(hsk_listen(s, l6, 4), 0);
	assert_int_equal(hsk_close(s, l6), 0);
	l6 = bound(s, &me6, false, 0, 100);
	assert_int_equal(hsk_listen(s, l6, 4), 0);
	assert_int_equal(hsk_close(s, l6), 0);
	assert_int_equal(hsk_close(s, l4), 0);

	/* An IPv4 socket bound to 0.0.0.0:101, not listening. */
	int f4 = bound(s, NULL, false, 0, 101);
	assert_true(f4 >= 0);
	E(try_bind(s, &any6, false, 0, 101), HSK_EADDRINUSE);
	assert_int_equal(try_bind(s, &any6, true, 0, 101), 0);
	assert_int_equal(try_bind(s, &me6, false, 0, 101), 0);
	assert_int_equal(hsk_close(s, f4), 0);
	/* An IPv6 one bound to 2001:2::2 port 102: another address of ours
	 * may have the port, IPv4 may, :: may not. */
	int f6 = bound(s, &me6, false, 0, 102);
	assert_true(f6 >= 0);
	assert_int_equal(try_bind(s, &other6, false, 0, 102), 0);
	assert_int_equal(try_bind(s, NULL, false, 0, 102), 0);
	E(try_bind(s, &any6, true, 0, 102), HSK_EADDRINUSE);
	E(try_bind(s, &me6, true, 0, 102), HSK_EADDRINUSE);
	assert_int_equal(hsk_close(s, f6), 0);
	/* An IPv6 one bound to [::]:107: dual stack it holds IPv4's port
	 * (unless both set SO_REUSEADDR); v6only it does not. */
	f6 = bound(s, &any6, false, 1, 107);
	assert_true(f6 >= 0);
	E(try_bind(s, NULL, false, 0, 107), HSK_EADDRINUSE);
	assert_int_equal(try_bind(s, NULL, false, 1, 107), 0);
	assert_int_equal(hsk_close(s, f6), 0);
	f6 = bound(s, &any6, true, 0, 107);
	assert_true(f6 >= 0);
	assert_int_equal(try_bind(s, NULL, false, 0, 107), 0);
	assert_int_equal(hsk_close(s, f6), 0);

	/* An IPv4 connection of C from port 103 (its socket with
	 * SO_REUSEADDR, kept by the connection). */
	int lsd = sim_listen(&sm, S, PORT, 8);      /* [::]:80, dual stack */
	int k4 = bound(c, NULL, false, 1, 103);
	assert_int_equal(hsk_connect(c, k4, SIM_ADDR(S), PORT), -HSK_EINPROGRESS);
	hsk_addr cme6 = sim_addr6(C);
	E(try_bind(c, &any6, false, 0, 103), HSK_EADDRINUSE);
	assert_int_equal(try_bind(c, &any6, false, 1, 103), 0);        /* both reuse */
	assert_int_equal(try_bind(c, &any6, true, 0, 103), 0);
	assert_int_equal(try_bind(c, &cme6, false, 0, 103), 0);
	/* An IPv6 connection from [2001:2::1]:104: another address of ours
	 * may have the port, :: may not. */
	int k6 = bound(c, &cme6, false, 0, 104);
	hsk_addr srv6 = sim_addr6(S);
	assert_int_equal(hsk_connect_addr(c, k6, &srv6, PORT), -HSK_EINPROGRESS);
	hsk_addr cother6;
	assert_int_equal(hsk_addr_parse("2001:2::98", &cother6), 0);
	assert_int_equal(hsk_stack_add_addr(c, &cother6, 64), 0);
	assert_int_equal(try_bind(c, &cother6, false, 0, 104), 0);
	E(try_bind(c, &any6, true, 0, 104), HSK_EADDRINUSE);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(c, k4), HSK_ESTABLISHED);
	assert_int_equal(hsk_sock_state(c, k6), HSK_ESTABLISHED);

	/* Requests in the SYN queue of an SO_REUSEPORT listener (with
	 * SO_REUSEADDR) of each family: another member of the group binds
	 * (C's final ACKs lost). */
	sim_blackhole(&sm, C, HSK_TH_ACK, true);
	for (int fam = 0; fam < 2; fam++) {
		const hsk_addr *a = fam ? &any6 : NULL;
		int g1 = bound(s, a, fam, 1, 105 + fam);
		assert_int_equal(hsk_setsockopt(s, g1, HSK_SO_REUSEPORT, 1), 0);
		assert_int_equal(hsk_listen(s, g1, 4), 0);
		int q = hsk_socket_family(c, fam ? HSK_AF_INET6 : HSK_AF_INET);
		hsk_addr to = fam ? srv6 : hsk_addr_v4(SIM_ADDR(S));
		assert_int_equal(hsk_connect_addr(c, q, &to, (uint16_t)(105 + fam)),
				 -HSK_EINPROGRESS);
		sim_run(&sm, 5 * MS);
		hsk_usage u;
		hsk_stack_usage(s, &u);
		assert_int_equal(u.requests, 1);
		int g2 = hsk_socket_family(s, fam ? HSK_AF_INET6 : HSK_AF_INET);
		if (fam)
			hsk_setsockopt(s, g2, HSK_SO_V6ONLY, 1);
		hsk_setsockopt(s, g2, HSK_SO_REUSEADDR, 1);
		hsk_setsockopt(s, g2, HSK_SO_REUSEPORT, 1);
		hsk_addr a4 = hsk_addr_v4(0);
		assert_int_equal(hsk_bind_addr(s, g2, a ? a : &a4, (uint16_t)(105 + fam)), 0);
		assert_int_equal(hsk_close(s, g2), 0);
		assert_int_equal(hsk_close(s, g1), 0);
		assert_int_equal(hsk_abort(c, q), 0);
	}
	sim_blackhole(&sm, C, HSK_TH_ACK, false);
	assert_int_equal(hsk_abort(c, k4), 0);
	assert_int_equal(hsk_abort(c, k6), 0);
	int sd;
	while ((sd = hsk_accept(s, lsd, NULL)) >= 0)
		hsk_close(s, sd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* The family of the first packet host sent from log entry `from` on. */
static int first_tx_family(const sim *sm, int host, size_t from)
{
	for (size_t i = from; i < sm->nlog; i++)
		if (sm->log[i].host == host && sm->log[i].ev.kind == HSK_EV_TX)
			return sm->log[i].ev.family;
	fail();
	return -1;
}

/* hsk_bind_addr, hsk_connect_addr, hsk_sock_name, hsk_sock_peer: EBADF;
 * connect over IPv6: EALREADY, EISCONN, EINVAL (listening; port 0 or
 * ::), ENETUNREACH (a multicast destination), EADDRINUSE; a v4-mapped destination from
 * a dual-stack socket is an IPv4 connection, ENETUNREACH from a socket
 * bound to an IPv6 address. The Fast Open cookie calls of either family:
 * EAFNOSUPPORT. */
static void test_addr_calls(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1315);
	sim_use_ipv6(&sm);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	hsk_addr a, srv6 = sim_addr6(S), any6 = hsk_addr_v6(ANY6), mc, mapped;
	uint16_t port;
	E(hsk_bind_addr(c, BAD, &srv6, 1), HSK_EBADF);
	E(hsk_connect_addr(c, BAD, &srv6, PORT), HSK_EBADF);
	E(hsk_sock_name(c, BAD, &a, &port), HSK_EBADF);
	E(hsk_sock_peer(c, BAD, &a, &port), HSK_EBADF);
	int lsd = sim_listen(&sm, S, PORT, 8);             /* [::]:80 */
	int sd = hsk_socket_family(c, HSK_AF_INET6);
	E(hsk_connect_addr(c, sd, &srv6, 0), HSK_EINVAL);
	E(hsk_connect_addr(c, sd, &any6, PORT), HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("ff02::1", &mc), 0);
	E(hsk_connect_addr(c, sd, &mc, PORT), HSK_ENETUNREACH);
	/* (a global group has a source of its scope: refused all the same) */
	assert_int_equal(hsk_addr_parse("ff0e::1", &mc), 0);
	E(hsk_connect_addr(c, sd, &mc, PORT), HSK_ENETUNREACH);
	E(hsk_connect_addr(c, sd, &srv6, PORT), HSK_EINPROGRESS);
	E(hsk_connect_addr(c, sd, &srv6, PORT), HSK_EALREADY);
	sim_run(&sm, 10 * MS);
	E(hsk_connect_addr(c, sd, &srv6, PORT), HSK_EISCONN);
	E(hsk_connect_addr(s, lsd, &srv6, PORT), HSK_EINVAL);  /* listening */
	/* The same 4-tuple again from a bound port. */
	assert_int_equal(hsk_sock_name(c, sd, &a, &port), 0);
	hsk_setsockopt(c, sd, HSK_SO_REUSEADDR, 1);
	int dup = bound(c, &a, false, 1, port);
	assert_true(dup >= 0);
	E(hsk_connect_addr(c, dup, &srv6, PORT), HSK_EADDRINUSE);
	/* ::ffff:198.18.0.2 from a dual-stack socket: IPv4 on the wire, the
	 * addresses read v4-mapped; from one bound to an IPv6 address: no
	 * route (Linux's ENETUNREACH). */
	assert_int_equal(hsk_addr_parse("::ffff:198.18.0.2", &mapped), 0);
	int m = hsk_socket_family(c, HSK_AF_INET6);
	size_t mark = sm.nlog;
	E(hsk_connect_addr(c, m, &mapped, PORT), HSK_EINPROGRESS);
	E(hsk_connect_addr(c, m, &mapped, PORT), HSK_EALREADY);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(c, m), HSK_ESTABLISHED);
	assert_int_equal(first_tx_family(&sm, C, mark), HSK_AF_INET);
	assert_int_equal(hsk_sock_peer(c, m, &a, &port), 0);
	assert_true(hsk_addr_eq(&a, &mapped) && port == PORT);
	int b6 = bound(c, &a, false, 0, 0);
	E(b6, HSK_EADDRNOTAVAIL);                       /* a mapped address is no bind's */
	hsk_addr cme6 = sim_addr6(C);
	b6 = bound(c, &cme6, false, 0, 0);
	E(hsk_connect_addr(c, b6, &mapped, PORT), HSK_ENETUNREACH);
	/* Fast Open cookies: a family neither */
	hsk_addr bad = { .family = 77 };
	uint8_t ck[16] = { 0 };
	E(hsk_fastopen_cookie_get_addr(c, &bad, ck), HSK_EAFNOSUPPORT);
	E(hsk_fastopen_cookie_set_addr(c, &bad, ck, 8), HSK_EAFNOSUPPORT);
	assert_int_equal(hsk_fastopen_cookie_set_addr(c, &srv6, ck, 8), 0);
	assert_int_equal(hsk_fastopen_cookie_get_addr(c, &srv6, ck), 8);
	int fds[] = { sd, dup, m, b6 };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(hsk_abort(c, fds[i]), 0);
	while ((sd = hsk_accept(s, lsd, NULL)) >= 0)
		hsk_close(s, sd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* hsk_select_src: the stack's IPv4 address, or none (ENETUNREACH); over
 * IPv6 the address RFC 6724 picks, none of a link-local destination's
 * scope (ENETUNREACH); another family (EAFNOSUPPORT). */
static void test_select_src(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1316);
	sim_use_ipv6(&sm);
	hsk_stack *s = sm.st[S];
	hsk_addr src, ll, d4 = hsk_addr_v4(SIM_ADDR(C)), d6 = sim_addr6(C);
	hsk_addr me4 = hsk_addr_v4(SIM_ADDR(S)), me6 = sim_addr6(S), bad = { .family = 77 };
	assert_int_equal(hsk_select_src(s, &d4, &src), 0);
	assert_true(hsk_addr_eq(&src, &me4));
	assert_int_equal(hsk_select_src(s, &d6, &src), 0);
	assert_true(hsk_addr_eq(&src, &me6));
	assert_int_equal(hsk_addr_parse("fe80::1", &ll), 0);
	E(hsk_select_src(s, &ll, &src), HSK_ENETUNREACH);
	E(hsk_select_src(s, &bad, &src), HSK_EAFNOSUPPORT);
	assert_int_equal(hsk_stack_del_addr(s, &me4), 0);
	E(hsk_select_src(s, &d4, &src), HSK_ENETUNREACH);
	sim_free(&sm);
}

/* What the information calls say of sockets that are not connections:
 * no pending error, CLOSED or LISTEN, the bound address and port (a
 * listener's what it listens on). */
static void test_info_unconnected(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1317);
	sim_use_ipv6(&sm);
	hsk_stack *s = sm.st[S];
	hsk_addr a, me6 = sim_addr6(S), any6 = hsk_addr_v6(ANY6), z4 = hsk_addr_v4(0);
	hsk_tuple tu;
	uint32_t addr;
	uint16_t port;
	int f4 = hsk_socket(s), f6 = hsk_socket_family(s, HSK_AF_INET6);
	assert_int_equal(hsk_sock_error(s, f4), 0);
	assert_int_equal(hsk_sock_state(s, f4), HSK_CLOSED);
	assert_int_equal(hsk_sock_name(s, f4, &a, &port), 0);
	assert_true(hsk_addr_eq(&a, &z4) && port == 0);
	assert_int_equal(hsk_sock_name(s, f6, &a, &port), 0);
	assert_true(hsk_addr_eq(&a, &any6) && port == 0);
	assert_int_equal(hsk_bind(s, f4, SIM_ADDR(S), 90), 0);
	assert_int_equal(hsk_bind_addr(s, f6, &me6, 91), 0);
	assert_int_equal(hsk_sock_name(s, f6, &a, &port), 0);
	assert_true(hsk_addr_eq(&a, &me6) && port == 91);
	assert_int_equal(hsk_listen(s, f4, 8), 0);
	assert_int_equal(hsk_listen(s, f6, 8), 0);
	assert_int_equal(hsk_sock_error(s, f4), 0);
	assert_int_equal(hsk_sock_state(s, f4), HSK_LISTEN);
	assert_int_equal(hsk_getsockname(s, f4, &addr, &port), 0);
	assert_true(addr == SIM_ADDR(S) && port == 90);
	assert_int_equal(hsk_sock_tuple(s, f4, &tu), 0);
	assert_true(tu.laddr == SIM_ADDR(S) && tu.lport == 90 && !tu.raddr && !tu.rport);
	assert_int_equal(hsk_sock_name(s, f6, &a, &port), 0);
	assert_true(hsk_addr_eq(&a, &me6) && port == 91);
	hsk_close(s, f4);
	hsk_close(s, f6);
	finish(&sm);
}

/* The backlog of host's one listener (hsk_stack_conns). */
static void listener_backlog(void *ctx, const hsk_conn_info *ci)
{
	if (ci->obj == HSK_OBJ_LISTEN)
		*(int *)ctx = (int)ci->backlog;
}

static int backlog_of(hsk_stack *s)
{
	int b = -1;
	hsk_stack_conns(s, listener_backlog, &b);
	return b;
}

/* listen() on a listening socket changes its backlog, capped by
 * somaxconn as the first one (Linux's inet_listen): the accept queue
 * holds that many connections, and the next SYN is dropped. */
static void test_listen_again(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.somaxconn = 3;
	sim sm;
	sim_init(&sm, 2, &cfg, 1318);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 100);
	assert_int_equal(backlog_of(s), 3);
	assert_int_equal(hsk_listen(s, lsd, 1), 0);
	assert_int_equal(backlog_of(s), 1);
	int cs[5];
	for (int i = 0; i < 2; i++)
		cs[i] = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	hsk_usage u;
	hsk_stack_usage(s, &u);
	assert_int_equal(u.tcbs, 1);                    /* one queued */
	assert_int_equal(hsk_listen(s, lsd, 1000), 0);
	assert_int_equal(backlog_of(s), 3);
	for (int i = 2; i < 5; i++)
		cs[i] = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 3 * SEC);                          /* a retransmitted SYN */
	hsk_stack_usage(s, &u);
	assert_int_equal(u.tcbs, 3);                    /* capped at 3 */
	for (int i = 0; i < 5; i++)
		hsk_abort(c, cs[i]);
	int sd;
	while ((sd = hsk_accept(s, lsd, NULL)) >= 0)
		hsk_close(s, sd);
	hsk_close(s, lsd);
	finish(&sm);
}

/* The port connect() picks is never one a listener holds (Linux skips
 * every port bound explicitly): the next candidate is taken. RFC 6056's
 * algorithm 3 makes that candidate known: one after the last port picked
 * for the same destination. Over IPv6, a listener on :: holds the port;
 * one on another address of ours does not. */
static void test_ephemeral_skips_listeners(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1319);
	sim_use_ipv6(&sm);
	hsk_stack *c = sm.st[C];
	hsk_addr srv4 = hsk_addr_v4(SIM_ADDR(S)), srv6 = sim_addr6(S), any6 = hsk_addr_v6(ANY6);
	hsk_addr other6, a;
	assert_int_equal(hsk_addr_parse("2001:2::98", &other6), 0);
	assert_int_equal(hsk_stack_add_addr(c, &other6, 64), 0);
	for (int fam = 0; fam < 2; fam++) {
		const hsk_addr *to = fam ? &srv6 : &srv4;
		int f = fam ? HSK_AF_INET6 : HSK_AF_INET;
		uint16_t p0, p;
		int k0 = hsk_socket_family(c, f);
		E(hsk_connect_addr(c, k0, to, PORT), HSK_EINPROGRESS);
		assert_int_equal(hsk_sock_name(c, k0, &a, &p0), 0);
		/* the next candidate, p0 + 1, held by a listener */
		int l = bound(c, fam ? &any6 : NULL, false, 0, (uint16_t)(p0 + 1));
		assert_int_equal(hsk_listen(c, l, 1), 0);
		int k1 = hsk_socket_family(c, f);
		E(hsk_connect_addr(c, k1, to, PORT), HSK_EINPROGRESS);
		assert_int_equal(hsk_sock_name(c, k1, &a, &p), 0);
		assert_int_equal(p, p0 + 2);
		int l2 = -1, k2 = -1;
		if (fam) {
			/* p0 + 3 held on another address only: taken */
			l2 = bound(c, &other6, false, 0, (uint16_t)(p0 + 3));
			assert_int_equal(hsk_listen(c, l2, 1), 0);
			k2 = hsk_socket_family(c, f);
			E(hsk_connect_addr(c, k2, to, PORT), HSK_EINPROGRESS);
			assert_int_equal(hsk_sock_name(c, k2, &a, &p), 0);
			assert_int_equal(p, p0 + 3);
			hsk_abort(c, k2);
			hsk_close(c, l2);
		}
		hsk_abort(c, k0);
		hsk_abort(c, k1);
		hsk_close(c, l);
	}
	finish(&sm);
}

/* The IPv4 calls on a fresh IPv6 socket: EAFNOSUPPORT, as Linux's bind()
 * and connect() with an address of the other family. (They took it: bound
 * to 198.18.0.2, the socket listened on [::]; a v6only socket connected
 * over IPv4.) An IPv6 socket reaches an IPv4 peer through
 * hsk_connect_addr and a v4-mapped address. */
static void test_ipv4_calls_on_ipv6_socket(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1320);
	sim_use_ipv6(&sm);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int x = hsk_socket_family(s, HSK_AF_INET6);
	E(hsk_bind(s, x, SIM_ADDR(S), 92), HSK_EAFNOSUPPORT);
	E(hsk_bind(s, x, 0, 92), HSK_EAFNOSUPPORT);
	int lsd = sim_listen(&sm, S, PORT, 8);
	int y = hsk_socket_family(c, HSK_AF_INET6);
	assert_int_equal(hsk_setsockopt(c, y, HSK_SO_V6ONLY, 1), 0);
	E(hsk_connect(c, y, SIM_ADDR(S), PORT), HSK_EAFNOSUPPORT);
	E(hsk_sendto(c, y, "x", 1, HSK_MSG_FASTOPEN, SIM_ADDR(S), PORT), HSK_EAFNOSUPPORT);
	int z = hsk_socket_family(c, HSK_AF_INET6);
	E(hsk_connect(c, z, SIM_ADDR(S), PORT), HSK_EAFNOSUPPORT);
	assert_int_equal(hsk_sock_state(c, y), HSK_CLOSED);
	assert_int_equal(hsk_sock_state(c, z), HSK_CLOSED);
	hsk_usage u;
	hsk_stack_usage(c, &u);
	assert_int_equal(u.tcbs, 0);
	/* A connection's state is looked at before the address, as
	 * Linux's connect(): EALREADY, then EISCONN, whatever the family. */
	hsk_addr v4 = hsk_addr_v4(SIM_ADDR(S));
	E(sim_connect_to(&sm, C, z, S, PORT), HSK_EINPROGRESS);
	E(hsk_connect(c, z, SIM_ADDR(S), PORT), HSK_EALREADY);
	E(hsk_connect_addr(c, z, &v4, PORT), HSK_EALREADY);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(c, z), HSK_ESTABLISHED);
	E(hsk_connect(c, z, SIM_ADDR(S), PORT), HSK_EISCONN);
	E(hsk_connect_addr(c, z, &v4, PORT), HSK_EISCONN);
	hsk_close(s, x);
	hsk_close(s, lsd);
	hsk_close(c, y);
	hsk_close(c, z);
	finish(&sm);
}

/* ENOMEM, with a data segment squeezed until malloc fails. */
#ifndef NO_SQUEEZE
static void **hoard;
static size_t nhoard;

static void squeeze(void)
{
	struct rlimit rl = { 0, 0 };
	getrlimit(RLIMIT_DATA, &rl);
	rl.rlim_cur = 64u << 20;
	setrlimit(RLIMIT_DATA, &rl);
	hoard = malloc(1 << 20);
	/* Big blocks first, then every small size class: free chunks the
	 * parent left in glibc's bins would otherwise serve a small request. */
	size_t size = 1 << 20;
	while (size >= 8) {
		void *q;
		while ((q = malloc(size)) != NULL) {
			if (hoard && nhoard < (1 << 17))
				hoard[nhoard++] = q;
		}
		size = size > 1024 ? size / 2 : size - 8;
	}
}

/* In a child: what `fn` returns with no memory left, as exit status. */
static int in_squeezed_child(int (*fn)(hsk_stack *s, int sd), hsk_stack *s, int sd)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		squeeze();
		int rc = fn(s, sd);
		_exit(rc == -HSK_ENOMEM ? 0 : rc == -HSK_ENOBUFS ? 1 : 2);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int do_socket(hsk_stack *s, int sd)
{
	(void)sd;
	int rc;
	while ((rc = hsk_socket(s)) >= 0)
		;
	return rc;
}
static int do_setsockopt(hsk_stack *s, int sd) { return hsk_setsockopt(s, sd, HSK_SO_RCVLOWAT, 5); }
static int do_setsockopt_str(hsk_stack *s, int sd)
{
	return hsk_setsockopt_str(s, sd, HSK_TCP_CONGESTION, "reno");
}
static int do_cookie(hsk_stack *s, int sd)
{
	(void)sd;
	static const uint8_t ck[8];
	return hsk_fastopen_cookie_set(s, SIM_ADDR(9), ck, 8);
}
static int do_listen(hsk_stack *s, int sd)
{
	hsk_bind(s, sd, 0, 77);
	return hsk_listen(s, sd, 1);
}
static int do_bind6(hsk_stack *s, int sd)
{
	(void)sd;
	hsk_addr me6 = sim_addr6(S);
	return hsk_bind_addr(s, hsk_socket_family(s, HSK_AF_INET6), &me6, 78);
}
static int do_connect(hsk_stack *s, int sd)
{
	(void)sd;
	int rc = 0;
	/* (until the pools' chunks in hand are used up) */
	for (int i = 0; i < 100000 && rc != -HSK_ENOBUFS && rc != -HSK_EMFILE; i++)
		rc = hsk_connect(s, hsk_socket(s), SIM_ADDR(C), (uint16_t)(1 + i % 60000));
	return rc;
}
static int accept_lsd;
static int do_accept(hsk_stack *s, int sd)
{
	(void)sd;
	return hsk_accept(s, accept_lsd, NULL);
}
#endif

static void test_no_memory(void **state)
{
	(void)state;
#ifdef NO_SQUEEZE
	skip();
#else
	sim sm;
	sim_init(&sm, 2, NULL, 1313);
	hsk_stack *s = sm.st[S];
	hsk_addr me6 = sim_addr6(S);
	assert_int_equal(hsk_stack_add_addr(s, &me6, 64), 0);   /* (do_bind6's) */
	int fresh = hsk_socket(s);
	assert_int_equal(in_squeezed_child(do_socket, s, fresh), 0);
	assert_int_equal(in_squeezed_child(do_setsockopt, s, fresh), 0);
	assert_int_equal(in_squeezed_child(do_setsockopt_str, s, fresh), 0);
	assert_int_equal(in_squeezed_child(do_cookie, s, fresh), 0);
	assert_int_equal(in_squeezed_child(do_listen, s, fresh), 1);    /* ENOBUFS */
	assert_int_equal(in_squeezed_child(do_bind6, s, fresh), 0);
	assert_int_equal(in_squeezed_child(do_connect, s, fresh), 1);   /* ENOBUFS */
	/* accept: a listener with options (copied to the new socket). */
	int lsd = hsk_socket(s);
	hsk_setsockopt(s, lsd, HSK_SO_RCVLOWAT, 10);
	hsk_bind(s, lsd, 0, PORT);
	hsk_listen(s, lsd, 8);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	accept_lsd = lsd;
	assert_int_equal(in_squeezed_child(do_accept, s, fresh), 0);
	hsk_abort(sm.st[C], csd);
	sim_run(&sm, 10 * MS);
	hsk_close(s, fresh);
	int sd;
	while ((sd = hsk_accept(s, lsd, NULL)) >= 0)
		hsk_close(s, sd);
	hsk_close(s, lsd);
	finish(&sm);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_connect_martian),
		cmocka_unit_test(test_connect_ports_exhausted),
		cmocka_unit_test(test_connect_ports_exhausted6),
		cmocka_unit_test(test_send_family),
		cmocka_unit_test(test_sendto_fastopen),
		cmocka_unit_test(test_recv_family),
		cmocka_unit_test(test_shutdown_close),
		cmocka_unit_test(test_sockopt_errors),
		cmocka_unit_test(test_info_calls),
		cmocka_unit_test(test_bind_families),
		cmocka_unit_test(test_addr_calls),
		cmocka_unit_test(test_select_src),
		cmocka_unit_test(test_info_unconnected),
		cmocka_unit_test(test_listen_again),
		cmocka_unit_test(test_ephemeral_skips_listeners),
		cmocka_unit_test(test_ipv4_calls_on_ipv6_socket),
		cmocka_unit_test(test_no_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
