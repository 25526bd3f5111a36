/*
 * The handshake's input short ways give what the general steps give: a
 * peer played here answers host C's SYN with a SYN,ACK, or sends host S
 * the third ACK, in one shape; each run is made twice, as the stack runs
 * and with tcp_stack.no_fastpath (every segment through the steps), and
 * the two runs' events, counters and the TCB the segment left are
 * compared (shapes.h). The usual segment takes the short way; the shapes
 * beside it (options, flags, text, a wrong number, a cookie's TCB,
 * untraced) must come out as the steps make them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "sim.h"
#include "stack/stack.h"
#include "shapes.h"

/* ---- the handshake's third ACK (input.c, tcb_input_synrcvd_ack) ----
 * A peer played here opens a connection to host S and sends a third ACK
 * of one shape; the server accepts, writes, is acknowledged once and
 * closes. The same with tcp_stack.no_fastpath (the steps) must give the
 * same events and counters. The pure ACK goes the short way; a window
 * other than the SYN's, TS.Recent moved or not, SO_KEEPALIVE's timer and
 * a SYN cookie's TCB are what it must still get right; text, a FIN, ECE,
 * an extension (TCP_MAXSEG), SACK blocks, a wrong ACK or sequence number
 * must come out as the steps make them. */
typedef struct third {
	const char *name;
	uint8_t flags;            /* beside ACK */
	uint32_t dack, dseq;      /* SEG.ACK - (ISS + 1), SEG.SEQ - (IRS + 1) */
	uint16_t win;             /* unscaled (the SYN's: 2000) */
	size_t len;               /* text */
	int ts;                   /* 0: TSval newer than the SYN's, 1: the same,
				   * 2: older, 3: none */
	uint8_t nsack;
	bool plain;               /* no SACK, timestamps, window scaling, ECN */
	bool keepalive, maxseg, cookie;
	bool idle;                /* not accepted for 12 s (keepalive's probes) */
	bool untraced;            /* S untraced while the third ACK comes in
				   * (listen.c's child_takes_ack) */
} third;

static void run_third(const void *pv, bool slow, outcome *out)
{
	const third *v = pv;
	hsk_config cfg;
	hsk_config_default(&cfg);
	/* (a TCB not yet accepted has the stack's keepalive times) */
	cfg.keepalive_idle_ns = 5 * SEC;
	cfg.keepalive_intvl_ns = 1 * SEC;
	if (v->plain)
		cfg.sack = cfg.timestamps = cfg.window_scaling = false, cfg.ecn = 0;
	else
		cfg.ecn = 1;
	sim sm;
	sim_init(&sm, 2, &cfg, 4242);
	sm.st[S]->tcp.no_fastpath = slow;
	hsk_stack *st = sm.st[S];
	int lsd = sim_socket(&sm, S);      /* the family sim_inject speaks */
	if (v->keepalive)
		assert_int_equal(hsk_setsockopt(st, lsd, HSK_SO_KEEPALIVE, 1), 0);
	if (v->maxseg)
		assert_int_equal(hsk_setsockopt(st, lsd, HSK_SO_MAXSEG, 1100), 0);
	assert_int_equal(sim_bind_any(&sm, S, lsd, 80), 0);
	assert_int_equal(hsk_listen(st, lsd, 4), 0);
	if (v->cookie)          /* the SYN queue full: a cookie for the peer */
		for (uint32_t i = 1; i <= 4; i++)
			sim_inject(&sm, S, 0x0a000000u + i, 5000, 80, 77 * i, 0, HSK_TH_SYN,
				   2000, NULL, 0);
	uint32_t peer = SIM_ADDR(7), irs = 123456;
	tcp_opts o = peer_syn_opts(1000);
	sim_inject_opts(&sm, S, peer, 4000, 80, irs, 0,
			HSK_TH_SYN | HSK_TH_ECE | HSK_TH_CWR, 2000, &o, NULL, 0);
	const sim_ev *e;
	while ((e = sim_next_tx(&sm)) && e->ev.tuple.raddr != peer)
		;
	assert_non_null(e);
	assert_int_equal(e->ev.flags & (HSK_TH_SYN | HSK_TH_ACK), HSK_TH_SYN | HSK_TH_ACK);
	uint32_t iss = e->ev.seq, ecr = e->ev.ts_val;
	sim_run(&sm, 7 * MS);
	tcp_opts_init(&o);
	if (v->ts != 3) {
		o.has_ts = true;
		o.ts_val = v->ts == 0 ? 1003 : v->ts == 1 ? 1000 : 990;
		o.ts_ecr = ecr;
	}
	o.nsack = v->nsack;
	for (unsigned i = 0; i < v->nsack; i++)
		o.sack[i] = (tcp_sack_block){ iss + 1 + 100 * i, iss + 51 + 100 * i };
	static const uint8_t text[300] = { 1, 2, 3 };
	hsk_trace_fn trace = st->env.cfg.trace;
	if (v->untraced)
		st->env.cfg.trace = NULL;
	sim_inject_opts(&sm, S, peer, 4000, 80, irs + 1 + v->dseq, iss + 1 + v->dack,
			HSK_TH_ACK | v->flags, v->win, &o, text, v->len);
	st->env.cfg.trace = trace;
	char *child = child_text(st, peer);
	sim_run(&sm, 3 * MS);
	if (v->idle)
		sim_run(&sm, 12 * SEC);
	int sd = hsk_accept(st, lsd, NULL);
	if (sd >= 0) {
		static const uint8_t big[20000];
		(void)hsk_send(st, sd, big, sizeof(big));
		sim_run(&sm, 20 * MS);
		if (v->ts != 3)
			o.ts_val = 1010;
		o.nsack = 0;
		/* An ACK 4,000 below SND.UNA: old, or too old when MAX.SND.WND
		 * is the SYN's unscaled window (RFC 5961 §5.2). */
		sim_inject_opts(&sm, S, peer, 4000, 80, irs + 1 + (uint32_t)v->len,
				iss + 1 - 4000, HSK_TH_ACK, 3000, &o, NULL, 0);
		sim_run(&sm, 5 * MS);
		sim_inject_opts(&sm, S, peer, 4000, 80, irs + 1 + (uint32_t)v->len,
				iss + 1 + 3000, HSK_TH_ACK, 3000, &o, NULL, 0);
		sim_run(&sm, 12 * SEC);         /* retransmissions, keepalive */
		assert_int_equal(hsk_close(st, sd), 0);
		sim_run(&sm, 2 * SEC);
	}
	outcome_of(&sm, st, child, (size_t)(sd >= 0), out);
}

static const third third_shapes[] = {
	{ "pure" , .win = 2000 },
	{ "pure, plain", .win = 2000, .plain = true, .ts = 3 },
	{ "plain, a TSval all the same", .win = 2000, .plain = true },
	{ "window update", .win = 37 },
	{ "zero window", .win = 0 },
	{ "same TSval", .win = 2000, .ts = 1 },
	{ "old TSval", .win = 2000, .ts = 2 },
	{ "no timestamp", .win = 2000, .ts = 3 },
	{ "SACK blocks", .win = 2000, .nsack = 2 },
	{ "keepalive", .win = 2000, .keepalive = true },
	{ "keepalive, not accepted", .win = 2000, .keepalive = true, .idle = true },
	{ "keepalive, plain", .win = 2000, .keepalive = true, .plain = true, .ts = 3 },
	{ "cookie", .win = 2000, .cookie = true },
	{ "cookie, plain", .win = 2000, .cookie = true, .plain = true, .ts = 3 },
	{ "TCP_MAXSEG", .win = 2000, .maxseg = true },
	{ "text", .win = 2000, .len = 300 },
	{ "text and PSH", .flags = HSK_TH_PSH, .win = 2000, .len = 100 },
	{ "FIN", .flags = HSK_TH_FIN, .win = 2000 },
	{ "text and FIN", .flags = HSK_TH_FIN, .win = 2000, .len = 100 },
	{ "ECE", .flags = HSK_TH_ECE, .win = 2000 },
	{ "CWR", .flags = HSK_TH_CWR, .win = 2000 },
	{ "ACK of ISS + 2", .dack = 1, .win = 2000 },
	{ "ACK of ISS", .dack = (uint32_t)-1, .win = 2000 },
	{ "SEQ past RCV.NXT", .dseq = 10, .win = 2000 },
	{ "cookie, text", .win = 2000, .cookie = true, .len = 50 },
	{ "cookie, FIN", .flags = HSK_TH_FIN, .win = 2000, .cookie = true },
};

static void test_third_ack(void **state)
{
	(void)state;
	SHAPES_COMPARE("third ACK", third_shapes, run_third);
}

/* The same shapes with S untraced while the third ACK comes in: the
 * child's making takes the usual one in itself (listen.c,
 * child_takes_ack); the TCB it leaves, and every event after it, must be
 * what the steps make. */
static void test_third_ack_untraced(void **state)
{
	(void)state;
	third shapes[sizeof(third_shapes) / sizeof(third_shapes[0])];
	memcpy(shapes, third_shapes, sizeof(shapes));
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		shapes[i].untraced = true;
	SHAPES_COMPARE("third ACK untraced", shapes, run_third);
}

/* ---- the SYN,ACK in SYN_SENT (input.c, syn_sent_input) ----
 * Host C connects to a peer played here, which answers the SYN in one
 * shape; C then writes 300 bytes, the peer acknowledges them, C closes
 * and the peer's FIN ends it. The same with tcp_stack.no_fastpath (the
 * SYN,ACK's ACK by tcp_output) must give the same events, counters and
 * TCB after the SYN,ACK: the usual one (no Fast Open) sends its ACK
 * without tcp_output (synack_ack_only); a Fast Open SYN with data, which
 * the SYN,ACK may leave unacknowledged or acknowledge, must take
 * tcp_output's steps. */
typedef struct synack {
	const char *name;
	uint8_t flags;            /* beside SYN and ACK */
	uint16_t win;             /* the peer's window */
	size_t len;               /* text on the SYN,ACK */
	uint32_t dack;            /* SEG.ACK = ISS + 1 + dack */
	bool plain;               /* C without SACK, timestamps, wscale, ECN */
	bool bare;                /* a SYN,ACK without options */
	bool resent;              /* after the SYN's retransmission */
	bool tfo;                 /* a Fast Open SYN with 100 bytes */
	bool untraced;            /* C untraced while the SYN,ACK comes in */
	bool keepalive;           /* SO_KEEPALIVE, 1 s idle: the ACK's timer is keepalive's */
} synack;

static void run_synack(const void *pv, bool slow, outcome *out)
{
	const synack *v = pv;
	hsk_config cfg;
	hsk_config_default(&cfg);
	if (v->plain)
		cfg.sack = cfg.timestamps = cfg.window_scaling = false, cfg.ecn = 0;
	else
		cfg.ecn = 1;
	cfg.tcp_fastopen |= HSK_TFO_CLIENT;
	sim sm;
	sim_init(&sm, 2, &cfg, 4244);
	sm.st[C]->tcp.no_fastpath = slow;
	hsk_stack *st = sm.st[C];
	uint32_t peer = SIM_ADDR(7);
	hsk_addr to = sim_twin(&sm, peer);       /* the family sim_inject speaks */
	int sd = sim_socket(&sm, C);
	if (v->keepalive) {
		assert_int_equal(hsk_setsockopt(st, sd, HSK_SO_KEEPALIVE, 1), 0);
		assert_int_equal(hsk_setsockopt(st, sd, HSK_SO_KEEPIDLE, 1), 0);
	}
	static const uint8_t big[20000];
	if (v->tfo) {
		static const uint8_t ck[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
		assert_int_equal(hsk_fastopen_cookie_set_addr(st, &to, ck, sizeof(ck)), 0);
		assert_int_equal(hsk_setsockopt(st, sd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
		assert_int_equal(hsk_connect_addr(st, sd, &to, 80), 0);
		assert_int_equal(hsk_send(st, sd, big, 100), 100);
	} else {
		assert_int_equal(hsk_connect_addr(st, sd, &to, 80), -HSK_EINPROGRESS);
	}
	const sim_ev *e;
	while ((e = sim_next_tx(&sm)) && e->ev.tuple.raddr != peer)
		;
	assert_non_null(e);
	assert_true(e->ev.flags & HSK_TH_SYN);
	uint32_t iss = e->ev.seq, ecr = e->ev.ts_val;
	hsk_tuple tu = e->ev.tuple;
	sim_run(&sm, v->resent ? 1500 * MS : 7 * MS);
	tcp_opts o = peer_syn_opts(5000);
	o.ts_ecr = ecr;
	uint32_t irs = 777000;
	hsk_trace_fn trace = st->env.cfg.trace;
	if (v->untraced)
		st->env.cfg.trace = NULL;
	sim_inject_opts(&sm, C, peer, 80, tu.lport, irs, iss + 1 + v->dack,
			HSK_TH_SYN | HSK_TH_ACK | v->flags, v->win, v->bare ? NULL : &o, big,
			v->len);
	st->env.cfg.trace = trace;
	char *conn = tcb_text(st, &tu, "conn");
	sim_run(&sm, v->keepalive ? 1500 * MS : 3 * MS);     /* (a probe at 1 s) */
	if (hsk_send(st, sd, big, 300) == 300)
		sim_run(&sm, 20 * MS);
	uint32_t una = iss + 1 + 300 + (v->tfo ? 100 : 0);
	o.ts_val = 5010;
	o.sack_ok = false;
	o.mss = 0;
	o.wscale = -1;
	sim_inject_opts(&sm, C, peer, 80, tu.lport, irs + 1 + (uint32_t)v->len, una, HSK_TH_ACK,
			v->win ? v->win : 1000, v->bare ? NULL : &o, NULL, 0);
	sim_run(&sm, 2 * SEC);
	(void)hsk_close(st, sd);
	sim_run(&sm, 5 * MS);
	o.ts_val = 5020;
	sim_inject_opts(&sm, C, peer, 80, tu.lport, irs + 1 + (uint32_t)v->len, una + 1,
			HSK_TH_FIN | HSK_TH_ACK, 1000, v->bare ? NULL : &o, NULL, 0);
	sim_run(&sm, 70 * SEC);
	outcome_of(&sm, st, conn, 0, out);
}

static const synack synack_shapes[] = {
	{ "usual", .win = 2000 },
	{ "usual, untraced", .win = 2000, .untraced = true },
	{ "usual, SO_KEEPALIVE", .win = 2000, .keepalive = true },
	{ "plain", .win = 2000, .plain = true },
	{ "plain, untraced", .win = 2000, .plain = true, .untraced = true },
	{ "no options", .win = 2000, .bare = true },
	{ "zero window", .win = 0 },
	{ "ECE", .flags = HSK_TH_ECE, .win = 2000 },
	{ "ECE, untraced", .flags = HSK_TH_ECE, .win = 2000, .untraced = true },
	{ "after the SYN's retransmission", .win = 2000, .resent = true },
	{ "text", .win = 2000, .len = 100 },
	{ "FIN", .flags = HSK_TH_FIN, .win = 2000 },
	{ "text and FIN", .flags = HSK_TH_FIN, .win = 2000, .len = 100 },
	{ "ACK of ISS", .dack = (uint32_t)-1, .win = 2000 },
	{ "ACK of ISS + 2", .dack = 1, .win = 2000 },
	{ "RST", .flags = HSK_TH_RST, .win = 2000 },
	{ "Fast Open, the SYN acknowledged", .win = 2000, .tfo = true },
	{ "Fast Open, untraced", .win = 2000, .tfo = true, .untraced = true },
	{ "Fast Open, the data acknowledged", .dack = 100, .win = 2000, .tfo = true },
	{ "Fast Open, the data acknowledged, untraced", .dack = 100, .win = 2000, .tfo = true,
	  .untraced = true },
};

static void test_synack(void **state)
{
	(void)state;
	SHAPES_COMPARE("SYN,ACK", synack_shapes, run_synack);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_third_ack),
		cmocka_unit_test(test_third_ack_untraced),
		cmocka_unit_test(test_synack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
