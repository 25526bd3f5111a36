/*
 * The close's input short ways give what the general steps give: host S's
 * accepted connection from a peer played here (peer.h) ends, and the
 * peer's FIN in ESTABLISHED or FIN_WAIT_2, or its ACK of S's FIN in
 * FIN_WAIT_1, comes in one shape; each run is made twice, as the stack
 * runs and with tcp_stack.no_fastpath (every segment through the steps),
 * and the two runs' events and counters are compared (shapes.h). The
 * usual segment takes the short way; the shapes beside it (text, ECE,
 * bytes held out of order, a socket still open, untraced) must come out
 * as the steps make them.
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
#include "peer.h"
#include "shapes.h"

/* ---- the peer's FIN in FIN_WAIT_2 (closing.c, fin_wait_2_fin) ----
 * A peer played here opens a connection to host S; S accepts, sends 100
 * bytes, which the peer acknowledges, and closes (or shuts down writing:
 * `open`); the peer acknowledges the FIN (FIN_WAIT_2) and sends its own
 * in one shape, then again a second later (TIME_WAIT's ACK echoes the
 * timestamp the entry kept), and TIME_WAIT passes. The same with
 * tcp_stack.no_fastpath (the steps) must give the same events and
 * counters: the bare FIN to an orphan goes the short way; the window and
 * TSval it carries are what it must still take; text, ECE, bytes held out
 * of order, a socket still open must come out as the steps make them. */
typedef struct fin2 {
	const char *name;
	uint8_t flags;            /* beside FIN and ACK */
	uint16_t win;             /* the peer's window (unscaled; 2000 before) */
	size_t len;               /* text before the FIN */
	bool plain;               /* no SACK, timestamps, window scaling, ECN */
	bool ooo;                 /* 10 bytes out of order held before the close */
	bool ooo_fin;             /* with a FIN after them (the stream's end
				   * known, beyond the gap) */
	bool open;                /* shutdown, the socket closed after TIME_WAIT */
	bool unread;              /* 10 bytes of text before, which S leaves
				   * unread (its socket keeps the TCB) */
	bool untraced;            /* S untraced while the FIN comes in */
} fin2;

static void run_fin2(const void *pv, bool slow, outcome *out)
{
	const fin2 *v = pv;
	peer p;
	char *info = NULL;
	uint32_t d = v->unread ? 10 : 0;
	peer_open(&p, v->plain, slow, 4243);
	peer_write(&p);
	peer_send(&p, 0, 100, HSK_TH_ACK, 2000, text, d);
	if (v->ooo)
		peer_send(&p, 50, 100, HSK_TH_ACK | (v->ooo_fin ? HSK_TH_FIN : 0), 2000, text, 10);
	sim_run(&p.sm, 7 * MS);
	peer_close(&p, v->open);
	sim_run(&p.sm, 7 * MS);
	peer_send(&p, d, 101, HSK_TH_ACK, 2000, NULL, 0);
	sim_run(&p.sm, 7 * MS);
	/* the FIN, twice */
	for (int k = 0; k < 2; k++) {
		if (!v->plain)
			p.o.ts_val = p.tsv += 5;
		hsk_trace_fn trace = p.st->env.cfg.trace;
		if (v->untraced)
			p.st->env.cfg.trace = NULL;
		sim_inject_opts(&p.sm, S, p.addr, 4000, 80, p.irs + 1 + d, p.iss + 102,
				HSK_TH_FIN | HSK_TH_ACK | v->flags, v->win, v->plain ? NULL : &p.o,
				text, v->len);
		p.st->env.cfg.trace = trace;
		/* what a socket still open sees of the connection: the
		 * window the FIN carried (untraced, only the steps' ACK step
		 * takes it) */
		hsk_tcp_info ti;
		if (v->open && k == 0 && hsk_sock_info(p.st, p.sd, &ti) == 0) {
			char line[64];
			snprintf(line, sizeof(line), "info: state %u snd_wnd %u", ti.state,
				 ti.snd_wnd);
			info = strdup(line);
		}
		sim_run(&p.sm, 1 * SEC);
	}
	peer_end(&p, v->open, out);
	if (info)
		outcome_add(out, info);
}

static void test_fin_wait_2_fin(void **state)
{
	(void)state;
	static const fin2 shapes[] = {
		{ "bare", .win = 2000 },
		{ "PSH", .flags = HSK_TH_PSH, .win = 2000 },
		{ "window update", .win = 37 },
		{ "plain", .win = 2000, .plain = true },
		{ "text", .win = 2000, .len = 10 },
		{ "ECE", .flags = HSK_TH_ECE, .win = 2000 },
		{ "CWR", .flags = HSK_TH_CWR, .win = 2000 },
		{ "out of order held", .win = 2000, .ooo = true },
		{ "out of order held, plain", .win = 2000, .ooo = true, .plain = true },
		{ "out of order held with a FIN", .win = 2000, .ooo = true, .ooo_fin = true },
		{ "out of order held with a FIN, plain", .win = 2000, .ooo = true, .ooo_fin = true,
		  .plain = true },
		{ "socket open", .win = 2000, .open = true },
		{ "socket open, text", .win = 2000, .open = true, .len = 10 },
	};
	SHAPES_COMPARE("FIN in FIN_WAIT_2", shapes, run_fin2);
}

/* Untraced FINs, a socket still open keeping the TCB (bytes unread): the
 * window the FIN carries is the steps' to take, which hsk_sock_info then
 * shows; the short way, for orphans only, never has to. */
static void test_fin_wait_2_fin_untraced(void **state)
{
	(void)state;
	static const fin2 shapes[] = {
		{ "bare, untraced", .win = 2000, .untraced = true },
		{ "window update, untraced", .win = 37, .untraced = true },
		{ "socket open, unread, window update, untraced", .win = 37, .open = true,
		  .unread = true, .untraced = true },
		{ "socket open, unread, untraced", .win = 2000, .open = true, .unread = true,
		  .untraced = true },
		{ "socket open, unread, window update, untraced, plain", .win = 37, .open = true,
		  .unread = true, .untraced = true, .plain = true },
	};
	SHAPES_COMPARE("FIN in FIN_WAIT_2 untraced", shapes, run_fin2);
}

/* ---- our FIN acknowledged in FIN_WAIT_1 (closing.c, fin_wait_1_acked) ----
 * S sends 100 bytes to a peer played here (acknowledged before the close
 * or not: `unacked`) and closes (or shuts down writing: `open`); the peer
 * acknowledges in one shape, then sends its FIN, and TIME_WAIT passes.
 * The same with tcp_stack.no_fastpath (the steps) must give the same
 * events and counters: the first ACK of the FIN, without text, FIN or
 * ECE, goes the short way (with the last bytes or alone, to an orphan or
 * not); an ACK short of the FIN, one of bytes sent while the FIN waits
 * for the window, one after the FIN was acknowledged (with a FIN beyond
 * a gap) must come out as the steps make them. */
typedef struct fin1 {
	const char *name;
	uint8_t flags;            /* beside ACK */
	uint32_t dack;            /* SEG.ACK - (ISS + 1): 101 is the FIN's */
	uint16_t win;             /* the peer's window (unscaled; 2000 before) */
	size_t len;               /* text */
	bool plain;               /* no SACK, timestamps, window scaling, ECN */
	bool unacked;             /* the 100 bytes unacknowledged at the close */
	bool gap_fin;             /* first the FIN's ACK with a FIN beyond a gap */
	bool held;                /* a window of 40 bytes: the FIN waits (SEG.ACK
				   * = SND.MAX then acknowledges bytes only) */
	bool open;                /* shutdown, the socket closed after TIME_WAIT */
} fin1;

static void run_fin1(const void *pv, bool slow, outcome *out)
{
	const fin1 *v = pv;
	peer p;
	peer_open(&p, v->plain, slow, 4244);
	if (v->held)
		peer_send(&p, 0, 0, HSK_TH_ACK, 5, NULL, 0);
	peer_write(&p);
	if (!v->unacked && !v->held)
		peer_send(&p, 0, 100, HSK_TH_ACK, 2000, NULL, 0);
	sim_run(&p.sm, 7 * MS);
	peer_close(&p, v->open);
	sim_run(&p.sm, v->held ? 300 * MS : 7 * MS);    /* (40 bytes go: SWS's timer) */
	if (v->gap_fin) {
		peer_send(&p, 20, 101, HSK_TH_FIN | HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
	}
	peer_send(&p, 0, v->dack, HSK_TH_ACK | v->flags, v->win, text, v->len);
	sim_run(&p.sm, 7 * MS);
	peer_send(&p, (uint32_t)v->len, 101, HSK_TH_FIN | HSK_TH_ACK, 2000, NULL, 0);
	sim_run(&p.sm, 1 * SEC);
	peer_end(&p, v->open, out);
}

static void test_fin_wait_1_ack(void **state)
{
	(void)state;
	static const fin1 shapes[] = {
		{ "bare", .dack = 101, .win = 2000 },
		{ "PSH", .flags = HSK_TH_PSH, .dack = 101, .win = 2000 },
		{ "window update", .dack = 101, .win = 37 },
		{ "plain", .dack = 101, .win = 2000, .plain = true },
		{ "bytes and FIN", .dack = 101, .win = 2000, .unacked = true },
		{ "bytes and FIN, plain", .dack = 101, .win = 2000, .unacked = true,
		  .plain = true },
		{ "bytes, not the FIN", .dack = 100, .win = 2000, .unacked = true },
		{ "some bytes", .dack = 50, .win = 2000, .unacked = true },
		{ "text", .dack = 101, .win = 2000, .len = 10 },
		{ "FIN", .flags = HSK_TH_FIN, .dack = 101, .win = 2000 },
		{ "ECE", .flags = HSK_TH_ECE, .dack = 101, .win = 2000 },
		{ "ECE, bytes and FIN", .flags = HSK_TH_ECE, .dack = 101, .win = 2000,
		  .unacked = true },
		{ "CWR", .flags = HSK_TH_CWR, .dack = 101, .win = 2000 },
		{ "after a FIN beyond a gap", .dack = 101, .win = 2000, .gap_fin = true },
		{ "FIN held back", .dack = 40, .win = 5, .held = true },
		{ "socket open", .dack = 101, .win = 2000, .open = true },
		{ "socket open, bytes and FIN", .dack = 101, .win = 2000, .open = true,
		  .unacked = true },
	};
	SHAPES_COMPARE("ACK in FIN_WAIT_1", shapes, run_fin1);
}

/* ---- the peer's FIN in ESTABLISHED (closing.c, established_fin) ----
 * S sends 100 bytes to a peer played here, which sends its FIN in one
 * shape (acknowledging all, some or none of them); S reads to the end of
 * the stream, closes, sends again what is unacknowledged (the
 * retransmission timer shows whether the FIN's ACK restarted it), is
 * acknowledged, and the connection ends. The same
 * with tcp_stack.no_fastpath (the steps) must give the same events and
 * counters: the bare FIN goes the short way, whatever its ACK does (and
 * the window, TSval, ECE and CWR it carries); text, bytes held out of
 * order (with a FIN of their own, which makes the bare FIN not the
 * stream's end) must come out as the steps make them, and so must bytes
 * waiting in the ring for the window (its ACK is then tcp_output's,
 * which sends them when the FIN opens the window). The socket must be
 * told of the FIN either way (untraced too, where the transition does
 * not tell it again after the ACK step did). */
typedef struct estfin {
	const char *name;
	uint8_t flags;            /* beside FIN and ACK */
	uint32_t dack;            /* SEG.ACK - (ISS + 1) */
	uint16_t win;             /* the peer's window (unscaled; 2000 before) */
	size_t len;               /* text before the FIN */
	bool plain;               /* no SACK, timestamps, window scaling, ECN */
	bool ooo;                 /* 10 bytes out of order held before the FIN */
	bool ooo_fin;             /* and a FIN after them (then the FIN at
				   * RCV.NXT is not the one reassembly knows) */
	bool shut_rd;             /* shut down for reading before the FIN */
	bool held;                /* a window of 40 bytes before S writes: 60
				   * bytes wait in the ring at the FIN */
	bool untraced;            /* S untraced (the transition's usual way:
				   * no events to compare, S told or not) */
} estfin;

static void run_estfin(const void *pv, bool slow, outcome *out)
{
	const estfin *v = pv;
	peer p;
	peer_open(&p, v->plain, slow, 4245);
	if (v->untraced)
		p.st->env.cfg.trace = NULL;
	if (v->held)
		peer_send(&p, 0, 0, HSK_TH_ACK, 5, NULL, 0);
	peer_write(&p);
	if (v->held)
		sim_run(&p.sm, 300 * MS);       /* (40 bytes go: SWS's timer) */
	if (v->ooo)
		peer_send(&p, 50, 0, HSK_TH_ACK | (v->ooo_fin ? HSK_TH_FIN : 0), 2000, text, 10);
	if (v->shut_rd)
		assert_int_equal(hsk_shutdown(p.st, p.sd, HSK_SHUT_RD), 0);
	sim_run(&p.sm, 7 * MS);
	hsk_event ev[8];
	while (hsk_stack_events(p.st, ev, 8) == 8)
		;
	peer_send(&p, 0, v->dack, HSK_TH_FIN | HSK_TH_ACK | v->flags, v->win, text, v->len);
	sim_run(&p.sm, 7 * MS);
	/* the FIN makes S readable (the end of the stream, unless bytes
	 * out of order come before it): S is told, both ways, whatever the
	 * ACK did */
	assert_int_equal(socket_told(p.st, p.sd), !v->ooo_fin);
	uint8_t buf[200];
	while (hsk_recv(p.st, p.sd, buf, sizeof(buf)) > 0)
		;
	assert_int_equal(hsk_close(p.st, p.sd), 0);
	sim_run(&p.sm, 1 * SEC);        /* what is unacknowledged is sent again */
	peer_send(&p, (uint32_t)v->len + 1, 101, HSK_TH_ACK, 2000, NULL, 0);
	sim_run(&p.sm, 1 * SEC);
	assert_int_equal(hsk_close(p.st, p.lsd), 0);
	sim_run(&p.sm, 1 * SEC);
	peer_outcome(&p, out);
}

static void test_established_fin(void **state)
{
	(void)state;
	static const estfin shapes[] = {
		{ "bare", .dack = 100, .win = 2000 },
		{ "PSH", .flags = HSK_TH_PSH, .dack = 100, .win = 2000 },
		{ "nothing acknowledged", .dack = 0, .win = 2000 },
		{ "some acknowledged", .dack = 50, .win = 2000 },
		{ "window update", .dack = 100, .win = 37 },
		{ "plain", .dack = 100, .win = 2000, .plain = true },
		{ "text", .dack = 100, .win = 2000, .len = 10 },
		{ "ECE", .flags = HSK_TH_ECE, .dack = 100, .win = 2000 },
		{ "CWR", .flags = HSK_TH_CWR, .dack = 100, .win = 2000 },
		{ "out of order held", .dack = 100, .win = 2000, .ooo = true },
		{ "out of order held, plain", .dack = 100, .win = 2000, .ooo = true,
		  .plain = true },
		{ "out of order held with a FIN", .dack = 100, .win = 2000, .ooo = true,
		  .ooo_fin = true },
		{ "shut for reading", .dack = 100, .win = 2000, .shut_rd = true },
		{ "bytes waiting, the window opens", .dack = 40, .win = 2000, .held = true },
		{ "bytes waiting, the window stays", .dack = 40, .win = 5, .held = true },
		{ "bare, untraced", .dack = 100, .win = 2000, .untraced = true },
		{ "nothing acknowledged, untraced", .dack = 0, .win = 2000, .untraced = true },
	};
	SHAPES_COMPARE("FIN in ESTABLISHED", shapes, run_estfin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fin_wait_2_fin),
		cmocka_unit_test(test_fin_wait_2_fin_untraced),
		cmocka_unit_test(test_fin_wait_1_ack),
		cmocka_unit_test(test_established_fin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
