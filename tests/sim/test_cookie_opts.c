/*
 * A SYN cookie keeps the SYN's options in the timestamp (src/tcp/cookie.c,
 * as Linux's cookie_init_timestamp and cookie_timestamp_decode): a client
 * that offers window scaling, SACK and timestamps gets all three through a
 * cookie, and so does one that asks for ECN; the ACK's echo, not the SYN,
 * says which; an ACK without
 * timestamps gets none of them; an echo asking for what the server does
 * not do is refused as a bad cookie; a server without timestamps answers
 * with the MSS alone.
 *
 * The SYN queue is filled by spoofed SYNs (10.0.0.0/8, no host's: the
 * answers vanish) so that the next SYN gets a cookie. The scripted peer
 * (PEER, no host's either) is IPv4 in both families' runs: the listener
 * takes both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "stack/stack.h"
#include "tcp/cookie.h"
#include "wire/wire.h"

enum { C = 0, S = 1, PORT = 80, BACKLOG = 2, PEER_PORT = 4000 };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define RST HSK_TH_RST
#define PEER SIM_ADDR(7)
#define SPOOF(i) (0x0a000000u + (uint32_t)(i)) /* 10.0.0.i */
#define PEER_ISN 70000u

static tcb *tcb_of(sim *sm, int host, int sd)
{
	hsk_sock *k = sock_get(sm->st[host], sd);
	assert_non_null(k);
	assert_int_equal(k->kind, SK_CONN);
	return k->t;
}

/* A listener on S whose SYN queue is full: the next SYN gets a cookie. */
static int full_listener(sim *sm)
{
	int lsd = sim_listen(sm, S, PORT, BACKLOG);
	for (uint32_t i = 1; i <= BACKLOG; i++)
		sim_inject(sm, S, SPOOF(i), (uint16_t)(20000 + i), PORT, 1000 * i, 0, SYN, 65535,
			   NULL, 0);
	assert_int_equal(sim_usage(sm, S).requests, BACKLOG);
	assert_int_equal(sim_counter(sm, S, "SyncookiesSent"), 0);
	sm->tx_cursor = sm->nlog;
	return lsd;
}

/* The last segment S sent to addr:port. */
static const hsk_trace_event *last_tx_to(const sim *sm, uint32_t addr, uint16_t port)
{
	for (size_t i = sm->nlog; i-- > 0;) {
		const sim_ev *e = &sm->log[i];
		if (e->host == S && e->ev.kind == HSK_EV_TX && e->ev.tuple.raddr == addr &&
		    e->ev.tuple.rport == port)
			return &e->ev;
	}
	fail_msg("no segment to %08x:%u", addr, port);
	return NULL;
}

/* The peer's SYN with Linux's options (window scale ws, -1 none; SACK),
 * TSval 777, asking for ECN when ecn: the cookie SYN-ACK's event. */
static hsk_trace_event peer_syn(sim *sm, int ws, bool sack, bool ecn)
{
	tcp_opts o;
	tcp_opts_init(&o);
	o.mss = 1460;
	o.wscale = (int8_t)ws;
	o.sack_ok = sack;
	o.has_ts = true;
	o.ts_val = 777;
	uint64_t sent = sim_counter(sm, S, "SyncookiesSent");
	sim_inject_opts(sm, S, PEER, PEER_PORT, PORT, PEER_ISN, 0,
			SYN | (ecn ? HSK_TH_ECE | HSK_TH_CWR : 0), 65535, &o, NULL, 0);
	assert_int_equal(sim_counter(sm, S, "SyncookiesSent"), sent + 1);
	const hsk_trace_event *e = last_tx_to(sm, PEER, PEER_PORT);
	assert_int_equal(e->flags, SYN | A | (ecn ? HSK_TH_ECE : 0));
	assert_int_equal(e->ack, PEER_ISN + 1);
	return *e;
}

/* The peer's ACK of the cookie SYN-ACK sa: with timestamps echoing
 * ts_ecr when ts, window field win. */
static void peer_ack(sim *sm, const hsk_trace_event *sa, bool ts, uint32_t ts_ecr,
		     uint16_t win)
{
	tcp_opts o;
	tcp_opts_init(&o);
	o.has_ts = ts;
	o.ts_val = 778;
	o.ts_ecr = ts_ecr;
	sim_inject_opts(sm, S, PEER, PEER_PORT, PORT, PEER_ISN + 1, sa->seq + 1, A, win, &o,
			NULL, 0);
}

/* The end of a test with the peer: its connection (if any) aborted, the
 * listener closed, every timer run out, nothing left. */
static void finish(sim *sm, int lsd, int ssd)
{
	if (ssd >= 0)
		assert_int_equal(hsk_abort(sm->st[S], ssd), 0);
	assert_int_equal(hsk_close(sm->st[S], lsd), 0);
	sim_run_idle(sm, 600 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* The simulator's client C connects to the full listener: its SYN and
 * the server's cookie SYN-ACK, each checked as such; the client's socket
 * in *csd. */
static void client_through_cookie(sim *sm, int *csd, const sim_ev **syn, const sim_ev **sa)
{
	*csd = sim_connect(sm, C, S, PORT);
	sim_run(sm, 10 * MS);
	*syn = sim_next_tx(sm);
	*sa = sim_next_tx(sm);
	assert_non_null(*syn);
	assert_non_null(*sa);
	assert_int_equal((*syn)->host, C);
	assert_true((*syn)->ev.flags & SYN);
	assert_int_equal((*sa)->host, S);
	assert_true((*sa)->ev.flags & (SYN | A));
	assert_int_equal(sim_counter(sm, S, "SyncookiesSent"), 1);
	assert_int_equal(hsk_sock_state(sm->st[C], *csd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(sm, S, "SyncookiesRecv"), 1);
}

/* The simulator's client offers all three: it gets them through the
 * cookie. The SYN-ACK's TSval carries the offer in its low bits, is not
 * later than the connection's next TSval, and the server's connection
 * scales both windows, uses SACK and timestamps. */
static void test_options_through_cookie(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = full_listener(&sm), csd;
	const sim_ev *syn, *sa;
	client_through_cookie(&sm, &csd, &syn, &sa);
	assert_int_equal(syn->ev.flags, SYN);
	assert_true(syn->ev.wscale > 0 && syn->ev.sack_ok && syn->ev.has_ts);
	assert_int_equal(sa->ev.flags, SYN | A);
	assert_true(sa->ev.has_ts);
	assert_true(sa->ev.sack_ok);
	assert_true(sa->ev.wscale > 0);
	assert_int_equal(sa->ev.ts_ecr, syn->ev.ts_val);
	assert_int_equal(sa->ev.ts_val & COOKIE_TS_MASK,
			 (uint32_t)syn->ev.wscale | COOKIE_TS_SACK);
	uint32_t sa_tsval = sa->ev.ts_val;
	int8_t our_ws = sa->ev.wscale, peer_ws = syn->ev.wscale;
	int ssd = sim_accept(&sm, S, lsd);
	tcb *t = tcb_of(&sm, S, ssd);
	assert_true(t->flags & TF_TS_OK);
	assert_true(t->flags & TF_SACK_OK);
	assert_int_equal(t->snd_wscale, peer_ws);
	assert_int_equal(t->rcv_wscale, our_ws);

	/* The server's next segment: timestamps, a TSval not older than the
	 * SYN-ACK's, and its window scaled (the field below 64 KB, the
	 * window it says above). */
	sm.tx_cursor = sm.nlog;
	assert_int_equal(hsk_send(s, ssd, "hello", 5), 5);
	sim_run(&sm, 1 * MS);
	const sim_ev *d = sim_next_tx(&sm);
	assert_non_null(d);
	assert_int_equal(d->host, S);
	assert_int_equal(d->ev.len, 5);
	assert_true(d->ev.has_ts);
	assert_true((int32_t)(d->ev.ts_val - sa_tsval) >= 0);
	assert_true(d->ev.ts_val - sa_tsval < (1u << COOKIE_TS_BITS) + 20);
	assert_true(d->ev.win < 65535 && (d->ev.win << our_ws) > 65535);
	char buf[8];
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 5);

	sim_finish_pair(&sm, C, S, lsd, csd, ssd);
}

/* A client that asks for ECN (ecn = 1) gets it through the cookie: the
 * SYN-ACK says ECE, its TSval keeps the ECN bit, and both ends have ECN
 * agreed. A SYN whose packet is ECN-capable (RFC 3168 §6.1.1: not a
 * request) or a server with ecn 0 gets no ECE, and no ECN bit. */
static void test_ecn_through_cookie(void **state)
{
	(void)state;
	for (int srv_ecn = 0; srv_ecn < 3; srv_ecn++) {
		hsk_config cfg;
		hsk_config_default(&cfg);
		cfg.ecn = 1;
		sim sm;
		sim_init(&sm, 2, &cfg, 1);
		sm.st[S]->env.cfg.ecn = srv_ecn;
		int lsd = full_listener(&sm), csd;
		const sim_ev *syn, *sa;
		client_through_cookie(&sm, &csd, &syn, &sa);
		assert_int_equal(syn->ev.flags, SYN | HSK_TH_ECE | HSK_TH_CWR);
		bool agreed = srv_ecn != 0;
		assert_int_equal(sa->ev.flags, SYN | A | (agreed ? HSK_TH_ECE : 0));
		assert_int_equal(sa->ev.ts_val & COOKIE_TS_MASK,
				 (uint32_t)syn->ev.wscale | COOKIE_TS_SACK |
				 (agreed ? COOKIE_TS_ECN : 0));
		int ssd = sim_accept(&sm, S, lsd);
		assert_int_equal(!!(tcb_of(&sm, S, ssd)->ecn & ECN_OK), agreed);
		assert_int_equal(!!(tcb_of(&sm, C, csd)->ecn & ECN_OK), agreed);
		/* the server's data goes ECN-capable exactly when agreed */
		sm.tx_cursor = sm.nlog;
		assert_int_equal(hsk_send(sm.st[S], ssd, "hello", 5), 5);
		sim_run(&sm, 1 * MS);
		const sim_ev *d = sim_next_tx(&sm);
		assert_non_null(d);
		assert_int_equal(d->ev.len, 5);
		assert_int_equal(d->tos & IP_ECN_MASK, agreed ? IP_ECN_ECT0 : IP_ECN_NOT_ECT);
		char buf[8];
		assert_int_equal(hsk_recv(sm.st[C], csd, buf, sizeof(buf)), 5);
		sim_finish_pair(&sm, C, S, lsd, csd, ssd);
	}

	/* the SYN's packet ECN-capable: not a request for ECN */
	sim sm;
	sim_init(&sm, 2, NULL, 1);
	int lsd = full_listener(&sm);
	tcp_opts o;
	tcp_opts_init(&o);
	o.mss = 1460;
	o.has_ts = true;
	o.ts_val = 777;
	sim_inject_tos(&sm, S, PEER, PEER_PORT, PORT, PEER_ISN, 0, SYN | HSK_TH_ECE | HSK_TH_CWR,
		       65535, &o, IP_ECN_ECT0, NULL, 0);
	const hsk_trace_event *e = last_tx_to(&sm, PEER, PEER_PORT);
	assert_int_equal(e->flags, SYN | A);
	assert_int_equal(e->ts_val & COOKIE_TS_ECN, 0);
	finish(&sm, lsd, -1);
}

/* The echo says what the connection has, as on Linux: an ACK without
 * timestamps gets none of the three whatever the SYN-ACK offered; an
 * echo of no window scale and no SACK gets timestamps alone; one of a
 * scale of 14 gets it. An echo that is not of the connection's clock
 * (from the future, or older than a cookie lives: the SYN-ACK had no
 * timestamps) is ignored, as RFC 7323 §3.2 has an option not agreed. */
static void test_echo_decides(void **state)
{
	(void)state;
	static const struct {
		bool ts;
		uint32_t bits;          /* the echo's low bits */
		int32_t shift;          /* moves the echo off the clock */
		bool ts_ok;             /* the connection's */
		int snd_wscale;         /* 0 unscaled */
		bool sack, ecn;
	} cases[] = {
		{ false, 0, 0, false, 0, false, false },
		{ true, COOKIE_TS_NO_WSCALE, 0, true, 0, false, false },
		{ true, COOKIE_TS_NO_WSCALE | COOKIE_TS_SACK, 0, true, 0, true, false },
		{ true, 14, 0, true, 14, false, false },
		{ true, 7 | COOKIE_TS_SACK, 0, true, 7, true, false },
		{ true, 7 | COOKIE_TS_SACK | COOKIE_TS_ECN, 0, true, 7, true, true },
		{ true, COOKIE_TS_NO_WSCALE | COOKIE_TS_ECN, 0, true, 0, false, true },
		{ false, COOKIE_TS_ECN, 0, false, 0, false, false },
		{ true, 7 | COOKIE_TS_SACK, 1000 * 64, false, 0, false, false },
		{ true, 7 | COOKIE_TS_SACK | COOKIE_TS_ECN, -129000 * 64, false, 0, false, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sim sm;
		sim_init(&sm, 2, NULL, 1 + i);
		int lsd = full_listener(&sm);
		hsk_trace_event sa = peer_syn(&sm, 7, true, true);
		uint32_t ecr = cookie_tsval(sa.ts_val, cases[i].bits) + (uint32_t)cases[i].shift;
		peer_ack(&sm, &sa, cases[i].ts, ecr, 1000);
		assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 1);
		assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 0);
		int ssd = sim_accept(&sm, S, lsd);
		tcb *t = tcb_of(&sm, S, ssd);
		assert_int_equal(!!(t->flags & TF_TS_OK), cases[i].ts_ok);
		assert_int_equal(!!(t->flags & TF_SACK_OK), cases[i].sack);
		assert_int_equal(!!(t->ecn & ECN_OK), cases[i].ecn);
		assert_int_equal(t->snd_wscale, cases[i].snd_wscale);
		assert_int_equal(t->rcv_wscale, cases[i].snd_wscale ? sa.wscale : 0);
		assert_int_equal(t->snd_wnd, 1000u << cases[i].snd_wscale);
		if (cases[i].ts_ok)
			assert_int_equal(t->ts_recent, 778);
		/* its segments carry timestamps exactly when it has them */
		sm.tx_cursor = sm.nlog;
		assert_int_equal(hsk_send(sm.st[S], ssd, "x", 1), 1);
		sim_run(&sm, 1 * MS);
		const hsk_trace_event *d = last_tx_to(&sm, PEER, PEER_PORT);
		assert_int_equal(d->len, 1);
		assert_int_equal(d->has_ts, cases[i].ts_ok);
		finish(&sm, lsd, ssd);
	}
}

/* An echo that asks for what the server does not do (timestamps, SACK,
 * window scaling or ECN turned off after its SYN-ACK, or forged) is a bad
 * cookie: reset with seq = SEG.ACK,
 * SyncookiesFailed, no connection. */
static void test_echo_refused_when_off(void **state)
{
	(void)state;
	for (int off = 0; off < 4; off++) {
		sim sm;
		sim_init(&sm, 2, NULL, 1);
		int lsd = full_listener(&sm);
		hsk_trace_event sa = peer_syn(&sm, 7, true, off == 3);
		hsk_config *cfg = &sm.st[S]->env.cfg;
		if (off == 0)
			cfg->timestamps = false;
		else if (off == 1)
			cfg->sack = false;
		else if (off == 2)
			cfg->window_scaling = false;
		else
			cfg->ecn = 0;
		peer_ack(&sm, &sa, true, sa.ts_val, 1000);
		assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 1);
		assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 0);
		const hsk_trace_event *r = last_tx_to(&sm, PEER, PEER_PORT);
		assert_int_equal(r->flags, RST);
		assert_int_equal(r->seq, sa.seq + 1);
		assert_int_equal(sim_usage(&sm, S).tcbs, 0);
		assert_int_equal(hsk_accept(sm.st[S], lsd, NULL), -HSK_EAGAIN);
		finish(&sm, lsd, -1);
	}
}

/* A server without timestamps, or a SYN without them, gets the MSS
 * alone: no window scale, SACK or timestamps on the cookie SYN-ACK. Two
 * SYNs each: the first cookie arms the IPv4 SYN's own path
 * (syn_cookie_fast), which answers the second. */
static void test_mss_alone_without_timestamps(void **state)
{
	(void)state;
	for (int server_ts = 0; server_ts < 2; server_ts++) {
		hsk_config cfg;
		hsk_config_default(&cfg);
		cfg.timestamps = server_ts;
		sim sm;
		sim_init(&sm, 2, &cfg, 1);
		int lsd = full_listener(&sm);
		for (uint16_t i = 0; i < 2; i++) {
			tcp_opts o;
			tcp_opts_init(&o);
			o.mss = 1460;
			o.wscale = 7;
			o.sack_ok = true;
			o.has_ts = !server_ts;  /* Linux's layout, or no timestamps */
			o.ts_val = 777;
			sim_inject_opts(&sm, S, PEER, (uint16_t)(PEER_PORT + i), PORT, PEER_ISN, 0,
					SYN, 65535, &o, NULL, 0);
			const hsk_trace_event *sa = last_tx_to(&sm, PEER, (uint16_t)(PEER_PORT + i));
			assert_int_equal(sa->flags, SYN | A);
			assert_int_equal(sim_counter(&sm, S, "SyncookiesSent"), i + 1u);
			assert_true(sa->mss > 0);
			assert_false(sa->has_ts);
			assert_false(sa->sack_ok);
			assert_int_equal(sa->wscale, -1);
		}
		finish(&sm, lsd, -1);
	}
}

/* The SYN-ACK's TSval is the clock's with the options in its low bits,
 * never later than the clock's (the peer's PAWS would drop the
 * connection's next segments). */
static void test_tsval_never_later(void **state)
{
	(void)state;
	for (uint32_t low = 0; low < (1u << COOKIE_TS_BITS); low++)
		for (uint32_t opts = 0; opts < (1u << COOKIE_TS_BITS); opts++) {
			uint32_t clock = 0xfffff000u | low; /* and across the wrap */
			uint32_t v = cookie_tsval(clock, opts), w = cookie_tsval(clock + 0x1000, opts);
			assert_int_equal(v & COOKIE_TS_MASK, opts);
			assert_int_equal(w & COOKIE_TS_MASK, opts);
			assert_true((int32_t)(clock - v) >= 0 && clock - v < (1u << COOKIE_TS_BITS));
			assert_true((int32_t)(clock + 0x1000 - w) >= 0 &&
				    clock + 0x1000 - w < (1u << COOKIE_TS_BITS));
		}
	assert_int_equal(cookie_ts_opts(-1, false, false), COOKIE_TS_NO_WSCALE);
	assert_int_equal(cookie_ts_opts(20, true, false), 14 | COOKIE_TS_SACK);
	assert_int_equal(cookie_ts_opts(0, false, false), 0);
	assert_int_equal(cookie_ts_opts(3, false, true), 3 | COOKIE_TS_ECN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_through_cookie),
		cmocka_unit_test(test_ecn_through_cookie),
		cmocka_unit_test(test_echo_decides),
		cmocka_unit_test(test_echo_refused_when_off),
		cmocka_unit_test(test_mss_alone_without_timestamps),
		cmocka_unit_test(test_tsval_never_later),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
