/*
 * SYN cookies (RFC 4987, src/tcp/cookie.c): a SYN flood fills the SYN
 * queue, a real client still gets in through a cookie; forged, tampered and
 * expired cookies meet a reset; the MSS survives the round trip; with
 * syncookies off the SYN is dropped.
 *
 * Spoofed SYNs come from 10.0.0.0/8, which no simulated host owns: the
 * server's answers to them vanish and their requests time out after 63 s.
 * The server's first SYN-ACK goes to a spoofed host, so sim_iss() does not
 * describe the real client's connection: segments are checked with
 * absolute numbers here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"
#include "sim.h"
#include "stack/stack.h"
#include "tcp/cookie.h"
#include "wire/wire.h"

enum { C = 0, S = 1, PORT = 80, BACKLOG = 4 };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define FIN HSK_TH_FIN
#define PSH HSK_TH_PSH
#define RST HSK_TH_RST
#define SPOOF(i) (0x0a000000u + (uint32_t)(i)) /* 10.0.0.i */
#define SPOOF_PORT(i) ((uint16_t)(20000 + (i)))
#define SPOOF_ISN(i) (0x1000000u * (uint32_t)(i) + 12345u)

/* sim_inject with an MSS option (0: none). */
static void inject(sim *sm, uint32_t from, uint16_t sport, uint32_t seq, uint32_t ack,
		   uint8_t flags, uint16_t mss, const void *data, size_t len)
{
	uint8_t pkt[2048];
	tcp_hdr th = { .sport = sport, .dport = PORT, .seq = seq, .ack = ack,
		       .flags = flags, .win = 65535 };
	th.opt.wscale = -1;
	th.opt.mss = mss;
	int n = tcp_emit(&th, data, len, from, SIM_ADDR(S), pkt + IPV4_HDR_LEN,
			 sizeof(pkt) - IPV4_HDR_LEN);
	assert_true(n > 0);
	ipv4_hdr ih = { .total_len = (uint16_t)(IPV4_HDR_LEN + n), .ttl = 64,
			.proto = IP_PROTO_TCP, .src = from, .dst = SIM_ADDR(S) };
	assert_int_equal(ipv4_emit(&ih, pkt, IPV4_HDR_LEN), IPV4_HDR_LEN);
	hsk_stack_input(sm->st[S], sim_now(sm), pkt, (size_t)(IPV4_HDR_LEN + n));
}

/* SYNs from spoofed sources first..first+n-1 (no MSS option). */
static void flood(sim *sm, int first, int n)
{
	for (int i = first; i < first + n; i++)
		inject(sm, SPOOF(i), SPOOF_PORT(i), SPOOF_ISN(i), 0, SYN, 0, NULL, 0);
}

/* The last segment the server sent to addr:port. */
static const hsk_trace_event *last_tx_to(const sim *sm, uint32_t addr, uint16_t port)
{
	for (size_t i = sm->nlog; i-- > 0;) {
		const sim_ev *e = &sm->log[i];
		if (e->host == S && e->ev.kind == HSK_EV_TX &&
		    e->ev.tuple.raddr == addr && e->ev.tuple.rport == port)
			return &e->ev;
	}
	fail_msg("no segment to %08x:%u", addr, port);
	return NULL;
}

/* The cookie (ISS) of the SYN-ACK answering spoofed SYN i. */
static uint32_t cookie_of(const sim *sm, int i)
{
	const hsk_trace_event *e = last_tx_to(sm, SPOOF(i), SPOOF_PORT(i));
	assert_int_equal(e->flags, SYN | A);
	assert_int_equal(e->ack, SPOOF_ISN(i) + 1);
	assert_int_equal(e->wscale, -1);    /* the SYN offered none, nor timestamps */
	return e->seq;
}

/* The final ACK of spoofed handshake i, with ack = cookie + 1. */
static void complete(sim *sm, int i, uint32_t cookie)
{
	inject(sm, SPOOF(i), SPOOF_PORT(i), SPOOF_ISN(i) + 1, cookie + 1, A, 0, NULL, 0);
}

#define expect_abs(sm, host, flags, seq, ack, len) \
	expect_abs_(sm, host, flags, seq, ack, len, __LINE__)
static const hsk_trace_event *expect_abs_(sim *sm, int host, uint8_t flags, uint32_t seq,
					  uint32_t ack, uint32_t len, int line)
{
	const sim_ev *e = sim_next_tx(sm);
	if (!e)
		fail_msg("line %d: no segment", line);
	if (e->host != host || e->ev.flags != flags || e->ev.seq != seq ||
	    e->ev.ack != ack || e->ev.len != len)
		fail_msg("line %d: expected h%d %02x %u %u %u, got h%d %02x %u %u %u", line,
			 host, flags, seq, ack, len, e->host, e->ev.flags, e->ev.seq,
			 e->ev.ack, e->ev.len);
	return &e->ev;
}

static hsk_usage usage(sim *sm, int host)
{
	return sim_usage(sm, host);
}

static int maxseg(sim *sm, int host, int sd)
{
	int v = 0;
	assert_int_equal(hsk_getsockopt(sm->st[host], sd, HSK_SO_MAXSEG, &v), 0);
	return v;
}

/* The next state event of the server has this cause. */
static void expect_cause(sim *sm, int from, int to, const char *cause)
{
	sim_expect_state(sm, S, from, to, __FILE__, __LINE__);
	assert_string_equal(sm->log[sm->st_cursor[S] - 1].cause, cause);
}

/* A large flood (100,000 spoofed SYNs, with the trace off as in
 * production): the server's state stays bounded by the backlog, every SYN
 * is answered with a cookie, and a real client still connects, moves data
 * and closes. */
static void test_large_flood(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	sim sm;
	sim_init(&sm, 2, &cfg, 2);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 64);
	enum { N = 100000 };
	bool print = sm.print;
	sm.print = false;
	for (int i = 1; i <= N; i++) {
		inject(&sm, SPOOF(i), SPOOF_PORT(i), SPOOF_ISN(i), 0, SYN, 0, NULL, 0);
		if (i % 1000 == 0)
			sm.nlog = 0;    /* the log is not what this test is about */
	}
	sm.nlog = 0;
	sm.tx_cursor = 0;
	sm.print = print;
	hsk_usage u;
	hsk_stack_usage(s, &u);
	assert_int_equal(u.requests, 64);
	assert_int_equal(u.tcbs, 0);
	assert_int_equal(u.buffer_bytes, 0);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesSent"), N - 64);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 20 * MS);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	int ssd = hsk_accept(s, lsd, NULL);
	assert_true(ssd >= 0);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 1);
	assert_int_equal(hsk_send(c, csd, "through the flood", 17), 17);
	sim_run(&sm, 20 * MS);
	char buf[32];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 17);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 20 * MS);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_run_idle(&sm, 600 * SEC);   /* spoofed requests time out */
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* The flood fills the SYN queue; the real client's SYN gets a cookie, its
 * ACK builds the connection, data flows both ways (beyond one unscaled
 * window) and the connection closes cleanly. */
static void test_flood_client_gets_in(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, BACKLOG);
	flood(&sm, 1, 20);
	assert_int_equal(usage(&sm, S).requests, BACKLOG);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesSent"), 20 - BACKLOG);
	assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDoCookies"), 20 - BACKLOG);
	assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDrop"), 0);
	assert_int_equal(sim_counter(&sm, S, "ListenDrops"), 0);
	assert_int_equal(sim_count_tx(&sm, S, SYN | A), 20);
	for (int i = 1; i <= 20; i++)
		cookie_of(&sm, i);
	sm.tx_cursor = sm.nlog;

	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	const hsk_trace_event *e = expect_abs(&sm, C, SYN, sim_iss(&sm, C), 0, 0);
	uint32_t ciss = e->seq;
	assert_int_equal(e->mss, sim_mss(&sm));
	assert_true(e->wscale >= 0);
	const sim_ev *sa = sim_next_tx(&sm);
	assert_non_null(sa);
	assert_int_equal(sa->host, S);
	assert_int_equal(sa->ev.flags, SYN | A);
	assert_int_equal(sa->ev.ack, ciss + 1);
	assert_int_equal(sa->ev.mss, sim_mss(&sm));
	/* the client offered timestamps: the cookie keeps its window scale
	 * (test_cookie_opts) */
	assert_true(sa->ev.wscale > 0);
	assert_true(sa->ev.has_ts);
	assert_int_equal(sa->ev.win, 65535);
	uint32_t siss = sa->ev.seq;
	expect_abs(&sm, C, A, ciss + 1, siss + 1, 0);
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesSent"), 21 - BACKLOG);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 1);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 0);
	assert_int_equal(usage(&sm, S).requests, BACKLOG);
	assert_int_equal(usage(&sm, S).tcbs, 1);
	assert_true(hsk_poll(s, lsd) & HSK_POLLIN);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_ESTABLISHED);
	/* less the timestamps' 12 bytes a segment, as Linux's TCP_MAXSEG */
	assert_int_equal(maxseg(&sm, S, ssd), sim_mss(&sm) - 12);
	assert_int_equal(maxseg(&sm, C, csd), sim_mss(&sm) - 12);

	expect_state(&sm, S, HSK_CLOSED, HSK_LISTEN);
	for (int i = 0; i < BACKLOG; i++)
		expect_cause(&sm, HSK_LISTEN, HSK_SYN_RECEIVED, "rcv SYN");
	expect_cause(&sm, HSK_LISTEN, HSK_SYN_RECEIVED, "rcv ACK with SYN cookie");
	expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_ESTABLISHED);
	expect_state(&sm, C, HSK_CLOSED, HSK_SYN_SENT);
	expect_state(&sm, C, HSK_SYN_SENT, HSK_ESTABLISHED);

	/* A request, then a response of 200 KB: more than the 64 KB an
	 * unscaled window would allow in flight. */
	char req[64], buf[4096];
	memset(req, 'q', sizeof(req));
	assert_int_equal(hsk_send(c, csd, req, sizeof(req)), 64);
	sim_run(&sm, 1 * MS + 1);
	expect_abs(&sm, C, A | PSH, ciss + 1, siss + 1, 64);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 64);
	assert_memory_equal(buf, req, 64);
	enum { RESP = 200000 };
	static uint8_t resp[RESP];
	for (size_t i = 0; i < RESP; i++)
		resp[i] = (uint8_t)(i * 31 + 7);
	size_t sent = 0, got = 0;
	static uint8_t rx[RESP];
	for (int round = 0; round < 1000 && got < RESP; round++) {
		if (sent < RESP) {
			long n = hsk_send(s, ssd, resp + sent, RESP - sent);
			if (n > 0)
				sent += (size_t)n;
		}
		sim_run(&sm, 1 * MS);
		long n;
		while ((n = hsk_recv(c, csd, rx + got, RESP - got)) > 0)
			got += (size_t)n;
	}
	assert_int_equal(got, RESP);
	assert_memory_equal(rx, resp, RESP);
	for (size_t i = 0; i < sm.nlog; i++) {
		const sim_ev *ev = &sm.log[i];
		if (ev->host == S && ev->ev.kind == HSK_EV_TX && ev->ev.tuple.raddr == SIM_ADDR(C))
			assert_true(ev->ev.len <= sim_mss(&sm));
	}

	/* Active close by the client, once the last ACKs are out. */
	sim_run(&sm, 200 * MS);
	sm.tx_cursor = sm.nlog;
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 1 * MS + 1);
	expect_abs(&sm, C, FIN | A, ciss + 65, siss + 1 + RESP, 0);
	expect_abs(&sm, S, A, siss + 1 + RESP, ciss + 66, 0);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSE_WAIT);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_close(s, ssd), 0);
	sim_run(&sm, 2 * MS + 1);
	expect_abs(&sm, S, FIN | A, siss + 1 + RESP, ciss + 66, 0);
	expect_abs(&sm, C, A, ciss + 66, siss + 2 + RESP, 0);
	expect_no_tx(&sm);
	expect_state(&sm, S, HSK_ESTABLISHED, HSK_CLOSE_WAIT);
	expect_state(&sm, S, HSK_CLOSE_WAIT, HSK_LAST_ACK);
	expect_state(&sm, S, HSK_LAST_ACK, HSK_CLOSED);
	assert_int_equal(sim_counter(&sm, S, "PassiveOpens"), 1);
	assert_int_equal(sim_counter(&sm, C, "ActiveOpens"), 1);
	assert_int_equal(sim_counter(&sm, S, "OutRsts"), 0);
	assert_int_equal(sim_counter(&sm, C, "OutRsts"), 0);

	/* The spoofed requests give up at 63 s; TIME_WAIT ends at 60 s. */
	sim_run(&sm, 64 * SEC);
	assert_int_equal(usage(&sm, S).requests, 0);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 1);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Forged and tampered ACKs meet a reset with seq = SEG.ACK; ACKs are not
 * checked as cookies before any cookie was sent. */
static void test_bad_cookies_rejected(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 2);
	int lsd = sim_listen(&sm, S, PORT, BACKLOG);

	/* No flood yet: an ACK is simply reset, no cookie is checked. */
	inject(&sm, SPOOF(100), SPOOF_PORT(100), 1000, 777777, A, 0, NULL, 0);
	const hsk_trace_event *e = last_tx_to(&sm, SPOOF(100), SPOOF_PORT(100));
	assert_int_equal(e->flags, RST);
	assert_int_equal(e->seq, 777777);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 0);

	flood(&sm, 1, 8);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesSent"), 8 - BACKLOG);
	uint32_t ck = cookie_of(&sm, 7);

	/* A blind guess. */
	inject(&sm, SPOOF(101), SPOOF_PORT(101), 5000, 123456789, A, 0, NULL, 0);
	e = last_tx_to(&sm, SPOOF(101), SPOOF_PORT(101));
	assert_int_equal(e->flags, RST);
	assert_int_equal(e->seq, 123456789);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 1);
	/* The right cookie from another source port. */
	inject(&sm, SPOOF(7), (uint16_t)(SPOOF_PORT(7) + 1), SPOOF_ISN(7) + 1, ck + 1, A, 0,
	       NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 2);
	/* The right tuple, another ISN. */
	inject(&sm, SPOOF(7), SPOOF_PORT(7), SPOOF_ISN(7) + 2, ck + 1, A, 0, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 3);
	/* The cookie off by one, and with a flipped MSS bit. */
	complete(&sm, 7, ck + 1);
	complete(&sm, 7, ck ^ (1u << 22));
	assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 5);
	e = last_tx_to(&sm, SPOOF(7), SPOOF_PORT(7));
	assert_int_equal(e->flags, RST);
	assert_int_equal(e->seq, (ck ^ (1u << 22)) + 1);
	/* A SYN-ACK to the listener is not a cookie candidate. */
	inject(&sm, SPOOF(7), SPOOF_PORT(7), SPOOF_ISN(7), ck + 1, SYN | A, 0, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 5);
	assert_int_equal(usage(&sm, S).tcbs, 0);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 0);

	/* The genuine ACK still gets in, data and all. */
	inject(&sm, SPOOF(7), SPOOF_PORT(7), SPOOF_ISN(7) + 1, ck + 1, A | PSH, 0, "hello", 5);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 1);
	assert_int_equal(usage(&sm, S).tcbs, 1);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(sm.st[S], ssd), HSK_ESTABLISHED);
	char buf[16];
	assert_int_equal(hsk_recv(sm.st[S], ssd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	/* No MSS option in the SYN: 536 (RFC 9293 §3.7.1). */
	assert_int_equal(maxseg(&sm, S, ssd), 536);
	assert_int_equal(hsk_abort(sm.st[S], ssd), 0);

	sim_run(&sm, 64 * SEC);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A cookie is good in its own 64 s period and the next one, not after. */
static void test_expired_cookie_rejected(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 3);
	int lsd = sim_listen(&sm, S, PORT, BACKLOG);
	flood(&sm, 1, BACKLOG + 3);
	uint32_t c1 = cookie_of(&sm, BACKLOG + 1), c2 = cookie_of(&sm, BACKLOG + 2),
		 c3 = cookie_of(&sm, BACKLOG + 3);

	/* 63 s later (still the same period or the next): good. */
	sim_run(&sm, 63 * SEC);
	complete(&sm, BACKLOG + 1, c1);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 1);
	/* 64 s after minting: exactly the next period, still good. */
	sim_run(&sm, 1 * SEC);
	complete(&sm, BACKLOG + 2, c2);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 2);
	assert_int_equal(usage(&sm, S).tcbs, 2);
	assert_int_equal(usage(&sm, S).requests, 0);   /* gone at 63 s */

	/* 128 s after minting: two periods on, expired. A new flood keeps the
	 * listener checking cookies. */
	sim_run(&sm, 64 * SEC);
	flood(&sm, 100, BACKLOG + 1);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesSent"), 4);
	complete(&sm, BACKLOG + 3, c3);
	const hsk_trace_event *e = last_tx_to(&sm, SPOOF(BACKLOG + 3), SPOOF_PORT(BACKLOG + 3));
	assert_int_equal(e->flags, RST);
	assert_int_equal(e->seq, c3 + 1);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 1);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 2);
	assert_int_equal(usage(&sm, S).tcbs, 2);

	/* Over 128 s after the last cookie the listener stops checking: the
	 * ACK is reset without counting a failure. */
	uint32_t c4 = cookie_of(&sm, 100 + BACKLOG);
	sim_run(&sm, 129 * SEC);
	complete(&sm, 100 + BACKLOG, c4);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 1);
	e = last_tx_to(&sm, SPOOF(100 + BACKLOG), SPOOF_PORT(100 + BACKLOG));
	assert_int_equal(e->flags, RST);

	for (int i = 0; i < 2; i++) {
		int sd = sim_accept(&sm, S, lsd);
		assert_int_equal(hsk_abort(sm.st[S], sd), 0);
	}
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* The MSS comes back rounded down to the table (536, 1300, 1440, 1460) and
 * capped by ours. */
static void test_mss_encoded(void **state)
{
	(void)state;
	static const struct { uint16_t sent, got; } cases[] = {
		{ 536, 536 }, { 1460, 1460 }, { 1400, 1300 }, { 1440, 1440 },
		{ 1299, 536 }, { 9000, 1460 }, { 300, 536 }, { 0, 536 },
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	sim sm;
	sim_init(&sm, 2, NULL, 4);
	int lsd = sim_listen(&sm, S, PORT, 16);
	flood(&sm, 1, 16);
	for (int i = 0; i < (int)N; i++)
		inject(&sm, SPOOF(50 + i), SPOOF_PORT(50 + i), SPOOF_ISN(50 + i), 0, SYN,
		       cases[i].sent, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesSent"), N);
	for (int i = 0; i < (int)N; i++) {
		const hsk_trace_event *e = last_tx_to(&sm, SPOOF(50 + i), SPOOF_PORT(50 + i));
		assert_int_equal(e->mss, 1460);   /* ours, whatever theirs */
		complete(&sm, 50 + i, cookie_of(&sm, 50 + i));
		int sd = sim_accept(&sm, S, lsd);
		if (maxseg(&sm, S, sd) != cases[i].got)
			fail_msg("MSS %u: got %d, want %u", cases[i].sent, maxseg(&sm, S, sd),
				 cases[i].got);
		assert_int_equal(hsk_abort(sm.st[S], sd), 0);
	}
	assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), N);
	sim_run(&sm, 64 * SEC);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A valid cookie meeting a full accept queue: dropped and nothing kept, or
 * reset with abort_on_overflow; the same ACK later gets in. */
static void test_cookie_accept_queue_full(void **state)
{
	(void)state;
	for (int abort_ = 0; abort_ < 2; abort_++) {
		hsk_config cfg;
		hsk_config_default(&cfg);
		cfg.abort_on_overflow = abort_;
		sim sm;
		sim_init(&sm, 2, &cfg, 5 + (uint64_t)abort_);
		int lsd = sim_listen(&sm, S, PORT, 1);
		flood(&sm, 1, 3);   /* one request, two cookies */
		assert_int_equal(sim_counter(&sm, S, "SyncookiesSent"), 2);
		uint32_t c2 = cookie_of(&sm, 2), c3 = cookie_of(&sm, 3);
		complete(&sm, 2, c2);
		assert_int_equal(usage(&sm, S).tcbs, 1);
		size_t before = sm.nlog;
		complete(&sm, 3, c3);
		assert_int_equal(usage(&sm, S).tcbs, 1);
		assert_int_equal(sim_counter(&sm, S, "ListenOverflows"), 1);
		assert_int_equal(sim_counter(&sm, S, "ListenDrops"), 1);
		assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 0);
		int rsts = 0;
		for (size_t i = before; i < sm.nlog; i++)
			if (sm.log[i].ev.kind == HSK_EV_TX && (sm.log[i].ev.flags & RST))
				rsts++;
		assert_int_equal(rsts, abort_);
		int sd = sim_accept(&sm, S, lsd);
		assert_int_equal(hsk_abort(sm.st[S], sd), 0);
		/* Room again: the same ACK (the client's retransmission) gets in. */
		complete(&sm, 3, c3);
		assert_int_equal(usage(&sm, S).tcbs, 1);
		sd = sim_accept(&sm, S, lsd);
		assert_int_equal(hsk_abort(sm.st[S], sd), 0);
		sim_run(&sm, 64 * SEC);
		assert_int_equal(hsk_close(sm.st[S], lsd), 0);
		sim_assert_no_leaks(&sm);
		sim_free(&sm);
	}
}

/* syncookies off: a SYN meeting a full SYN queue is dropped. */
static void test_cookies_off_drops(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.syncookies = false;
	sim sm;
	sim_init(&sm, 2, &cfg, 6);
	int lsd = sim_listen(&sm, S, PORT, BACKLOG);
	flood(&sm, 1, BACKLOG + 3);
	assert_int_equal(usage(&sm, S).requests, BACKLOG);
	assert_int_equal(sim_count_tx(&sm, S, SYN | A), BACKLOG);
	assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDrop"), 3);
	assert_int_equal(sim_counter(&sm, S, "ListenDrops"), 3);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesSent"), 0);
	assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDoCookies"), 0);

	/* The real client's SYN is dropped too; it gets in by retransmission
	 * once the spoofed requests time out (63 s). */
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(sm.st[C], csd), HSK_SYN_SENT);
	assert_int_equal(sim_counter(&sm, S, "TCPReqQFullDrop"), 4);
	sim_run(&sm, 64 * SEC);
	assert_int_equal(hsk_sock_state(sm.st[C], csd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 0);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_close(sm.st[C], csd), 0);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_close(sm.st[S], ssd), 0);
	sim_run(&sm, 61 * SEC);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* The MSS index is authenticated, not only carried: from one tuple's
 * valid cookie, moving it by any of the amounts an unauthenticated
 * encoding would use (another index in the top bits, Linux's bits 22-23,
 * one off) gives no valid cookie, for every MSS of the table; and a
 * cookie names the MSS it was made for, for its own ISN only. */
static void test_mss_authenticated(void **state)
{
	(void)state;
	static const uint16_t mss[] = { 536, 1300, 1440, 1460 };
	static const uint32_t moves[] = { 1u << 30, 2u << 30, 3u << 30, 1u << 22, 2u << 22,
					  3u << 22, 1, 0xffffffffu };
	sim sm;
	sim_init(&sm, 2, NULL, 8);
	tcp_stack *t = &sm.st[S]->tcp;
	for (uint32_t i = 0; i < 500; i++) {
		hsk_tuple k = { SIM_ADDR(S), SPOOF(i), PORT, SPOOF_PORT(i) };
		hsk_seq irs = { SPOOF_ISN(i) * 7 + i };
		for (int m = 0; m < 4; m++) {
			hsk_seq c = cookie_make(t, &k, NULL, irs, mss[m]);
			assert_int_equal(cookie_check(t, &k, NULL, c, irs), mss[m]);
			hsk_seq other = { irs.v + 1 };
			assert_int_equal(cookie_check(t, &k, NULL, c, other), 0);
			for (unsigned j = 0; j < sizeof(moves) / sizeof(moves[0]); j++) {
				hsk_seq bad = { c.v + moves[j] };
				assert_int_equal(cookie_check(t, &k, NULL, bad, irs), 0);
			}
		}
	}
	sim_free(&sm);
}


/* A cookie is SipHash-2-4, under the key with the cookie's label, of
 * the 20 bytes laddr, raddr, lport << 16 | rport, irs and the count, as
 * little-endian 32-bit words (IPv6: the 44 bytes with the addresses'
 * 32 first), its low half plus the MSS index times its high half made
 * odd (cookie.c): over random tuples, ISNs, clocks and each MSS, for
 * both families, cookie_make gives what hsk_siphash of those bytes
 * says. (cookie_prefix starts from the key's state a step on,
 * tcp_stack.cookie_p: any slip there changes every cookie, which
 * cookie_check, sharing it, would not notice.) */
static void le32_at(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static uint32_t cookie_ref(const hsk_env *e, const hsk_tuple *k, const tbl_v6addrs *a6,
			   uint32_t irs, int mssind)
{
	uint8_t m[44];
	size_t n = a6 ? 32 : 8;         /* the addresses' bytes */
	if (!a6) {
		le32_at(m, k->laddr);
		le32_at(m + 4, k->raddr);
	} else {
		memcpy(m, a6->l, 16);
		memcpy(m + 16, a6->r, 16);
	}
	le32_at(m + n, (uint32_t)k->lport << 16 | k->rport);
	le32_at(m + n + 4, irs);
	le32_at(m + n + 8, (uint32_t)(e->now / COOKIE_PERIOD_NS));
	uint64_t h = hsk_siphash(m, n + 12, e->key0 ^ COOKIE_LABEL, e->key1);
	return (uint32_t)h + (uint32_t)mssind * ((uint32_t)(h >> 32) | 1);
}

static void test_cookie_is_siphash(void **state)
{
	(void)state;
	static const uint16_t mss[] = { 536, 1300, 1440, 1460 };
	sim sm;
	sim_init(&sm, 2, NULL, 8);
	hsk_stack *st = sm.st[S];
	uint64_t x = 0x243f6a8885a308d3ull;
	for (int i = 0; i < 1000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		st->env.now = x >> 4;
		hsk_tuple k = { (uint32_t)x, (uint32_t)(x >> 32), (uint16_t)(x >> 16),
				(uint16_t)(x >> 40) };
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		hsk_seq irs = { (uint32_t)(x >> 24) };
		tbl_v6addrs a6;
		for (int j = 0; j < 16; j++) {
			a6.l[j] = (uint8_t)(x >> (j * 3 % 61));
			a6.r[j] = (uint8_t)(x >> ((j * 5 + 7) % 59));
		}
		for (int m = 0; m < 4; m++) {
			assert_int_equal(cookie_make(&st->tcp, &k, NULL, irs, mss[m]).v,
					 cookie_ref(&st->env, &k, NULL, irs.v, m));
			assert_int_equal(cookie_make(&st->tcp, &k, &a6, irs, mss[m]).v,
					 cookie_ref(&st->env, &k, &a6, irs.v, m));
		}
	}
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_client_gets_in),
		cmocka_unit_test(test_large_flood),
		cmocka_unit_test(test_bad_cookies_rejected),
		cmocka_unit_test(test_expired_cookie_rejected),
		cmocka_unit_test(test_mss_encoded),
		cmocka_unit_test(test_cookie_accept_queue_full),
		cmocka_unit_test(test_cookies_off_drops),
		cmocka_unit_test(test_mss_authenticated),
		cmocka_unit_test(test_cookie_is_siphash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
