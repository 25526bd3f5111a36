/*
 * Opening a connection, transition by transition: simultaneous open, the
 * resets that undo SYN_RECEIVED, closing in SYN_RECEIVED, refused
 * connections, data on the third segment of the handshake, MSS and ISN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "stack/stack.h"
#include "wire/wire.h"

enum { C = 0, S = 1, PORT = 80, CPORT = 1111, SPORT = 2222 };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define FIN HSK_TH_FIN
#define PSH HSK_TH_PSH
#define RST HSK_TH_RST
#define NOHOST SIM_ADDR(7) /* an address no host owns */

/* Both hosts bind a fixed port and connect to each other at once. */
static void simultaneous_connect(sim *sm, int *a, int *b)
{
	*a = sim_socket(sm, C);
	*b = sim_socket(sm, S);
	assert_int_equal(sim_bind_any(sm, C, *a, CPORT), 0);
	assert_int_equal(sim_bind_any(sm, S, *b, SPORT), 0);
	assert_int_equal(sim_connect_to(sm, C, *a, S, SPORT), -HSK_EINPROGRESS);
	assert_int_equal(sim_connect_to(sm, S, *b, C, CPORT), -HSK_EINPROGRESS);
	expect_seg(sm, C, SYN, 0, 0, 0);
	expect_seg(sm, S, SYN, 0, 0, 0);
}

/* Host C binds CPORT and connects to NOHOST:SPORT, a peer the test plays:
 * its SYN goes out. */
static int connect_nohost(sim *sm, uint64_t seed)
{
	sim_init(sm, 2, NULL, seed);
	hsk_stack *c = sm->st[C];
	int a = sim_socket(sm, C);
	hsk_addr nohost = sim_twin(sm, NOHOST);
	assert_int_equal(sim_bind_any(sm, C, a, CPORT), 0);
	assert_int_equal(hsk_connect_addr(c, a, &nohost, SPORT), -HSK_EINPROGRESS);
	expect_seg(sm, C, SYN, 0, 0, 0);
	return a;
}

/* The end of a connect_nohost test: C aborts, nothing is left after 1 s. */
static void abort_end(sim *sm, int a)
{
	assert_int_equal(hsk_abort(sm->st[C], a), 0);
	sim_run(sm, 1 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* A SYN from NOHOST:sport with ISN irs into the server's listener on
 * PORT; its answer, a SYN,ACK. */
static const sim_ev *syn_from_nohost(sim *sm, uint16_t sport, uint32_t irs)
{
	sim_inject(sm, S, NOHOST, sport, PORT, irs, 0, SYN, 65535, NULL, 0);
	const sim_ev *e = sim_next_tx(sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, SYN | A);
	return e;
}

/* The end of a sim_open_pair test: C aborts, S closes both sockets. */
static void pair_end(sim *sm, int lsd, int csd, int ssd)
{
	assert_int_equal(hsk_abort(sm->st[C], csd), 0);
	sim_run(sm, 10 * MS);
	assert_int_equal(hsk_close(sm->st[S], ssd), 0);
	assert_int_equal(hsk_close(sm->st[S], lsd), 0);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

static void test_simultaneous_open(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 2);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int a, b;
	simultaneous_connect(&sm, &a, &b);
	/* Each SYN arrives in SYN_SENT: SYN_RECEIVED, SYN,ACK from the same ISS. */
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	expect_seg(&sm, C, SYN | A, 0, 1, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_SYN_RECEIVED);
	assert_int_equal(hsk_sock_state(s, b), HSK_SYN_RECEIVED);
	assert_false(hsk_poll(c, a) & HSK_POLLOUT);
	/* Each SYN,ACK acknowledges the SYN: ESTABLISHED, nothing more sent. */
	sim_run(&sm, 1 * MS);
	assert_int_equal(hsk_sock_state(c, a), HSK_ESTABLISHED);
	assert_int_equal(hsk_sock_state(s, b), HSK_ESTABLISHED);
	assert_true(hsk_poll(c, a) & HSK_POLLOUT);
	assert_true(hsk_poll(s, b) & HSK_POLLOUT);
	expect_no_tx(&sm);
	for (int h = C; h <= S; h++) {
		expect_state(&sm, h, HSK_CLOSED, HSK_SYN_SENT);
		expect_state(&sm, h, HSK_SYN_SENT, HSK_SYN_RECEIVED);
		expect_state(&sm, h, HSK_SYN_RECEIVED, HSK_ESTABLISHED);
		assert_int_equal(sim_counter(&sm, h, "ActiveOpens"), 1);
		assert_int_equal(sim_counter(&sm, h, "PassiveOpens"), 0);
	}

	/* Data flows both ways with no retransmission: first C alone (S has
	 * sent nothing since its SYN,ACK, so that must have opened its
	 * window), then S's answer. */
	char buf[64];
	assert_int_equal(hsk_send(c, a, "hello", 5), 5);
	expect_seg(&sm, C, A | PSH, 1, 1, 5);
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, S, A, 1, 6, 0);          /* first data: quick ACK */
	assert_int_equal(hsk_recv(s, b, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(hsk_send(s, b, "world!", 6), 6);
	expect_seg(&sm, S, A | PSH, 1, 6, 6);
	sim_run(&sm, 1 * MS + 1);
	assert_int_equal(hsk_recv(c, a, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "world!", 6);
	sim_run(&sm, 100 * MS); /* C's delayed ACK */
	expect_seg(&sm, C, A, 6, 7, 0);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, C, "RetransSegs"), 0);
	assert_int_equal(sim_counter(&sm, S, "RetransSegs"), 0);
	assert_int_equal(sim_counter(&sm, C, "DropOutOfWindow"), 0);
	assert_int_equal(sim_counter(&sm, S, "DropOutOfWindow"), 0);

	assert_int_equal(hsk_close(c, a), 0);
	expect_seg(&sm, C, FIN | A, 6, 7, 0);
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, S, A, 7, 7, 0);
	assert_int_equal(hsk_close(s, b), 0);
	expect_seg(&sm, S, FIN | A, 7, 7, 0);
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, C, A, 7, 8, 0);
	sim_run(&sm, 61 * SEC);
	expect_no_tx(&sm);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Simultaneous open against a peer played by the test. In SYN_RECEIVED
 * the segment that completes the open must acknowledge our SYN: a SYN,ACK
 * acknowledging more is a SYN in a synchronized state (challenge ACK,
 * RFC 5961 §4), an ACK of ISS alone acknowledges nothing (a reset, RFC
 * 9293 §3.10.7.4, SYN-RECEIVED); neither establishes. Then the right
 * SYN,ACK does. */
static void test_simultaneous_open_checks_ack(void **state)
{
	(void)state;
	sim sm;
	int a = connect_nohost(&sm, 12);
	hsk_stack *c = sm.st[C];
	uint32_t iss = sim_iss(&sm, C), irs = 70000;
	/* (Host S sends nothing: acks below are absolute.) */
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, 0, SYN, 65535, NULL, 0);
	expect_seg(&sm, C, SYN | A, 0, irs + 1, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_SYN_RECEIVED);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 2, SYN | A, 65535, NULL, 0);
	expect_seg(&sm, C, A, 1, irs + 1, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_SYN_RECEIVED);
	assert_int_equal(sim_counter(&sm, C, "TCPSYNChallenge"), 1);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs + 1, iss, A, 65535, NULL, 0);
	expect_seg(&sm, C, RST, 0, 0, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_SYN_RECEIVED);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 1, SYN | A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_ESTABLISHED);
	expect_no_tx(&sm);
	assert_int_equal(hsk_abort(c, a), 0);
	expect_seg(&sm, C, RST | A, 1, irs + 1, 0);
	sim_run(&sm, 1 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* RFC 9293 §3.10.7.4, SYN-RECEIVED: an ACK of more than we sent (SEG.ACK
 * > SND.MAX: here SND.NXT, the SYN alone) is not acceptable: "form a
 * reset segment <SEQ=SEG.ACK><CTL=RST> and send it", and stay. */
static void test_simultaneous_open_ack_beyond_sent(void **state)
{
	(void)state;
	sim sm;
	int a = connect_nohost(&sm, 16);
	hsk_stack *c = sm.st[C];
	uint32_t iss = sim_iss(&sm, C), irs = 70000;
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, 0, SYN, 65535, NULL, 0);
	expect_seg(&sm, C, SYN | A, 0, irs + 1, 0);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs + 1, iss + 2, A, 65535, NULL, 0);
	expect_seg(&sm, C, RST, 2, 0, 0);
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, a), HSK_SYN_RECEIVED);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs + 1, iss + 1, A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_ESTABLISHED);
	abort_end(&sm, a);
}

/* In SYN_RECEIVED of a simultaneous open nothing precedes the peer's SYN:
 * text below RCV.NXT (= IRS + 1) was never sent, so it is no duplicate
 * that tells of a lost ACK (Linux's tcp_check_req answers such a segment
 * with a bare ACK). Dropped out of the window, or failing PAWS, it is
 * answered with an ACK, but it neither counts as DelayedACKLost nor
 * starts quick-ACK mode; nor does text at the right edge of the window
 * the SYN,ACK offered (the peer cannot have been told of a smaller one). */
static void test_syn_received_text_before_irs(void **state)
{
	(void)state;
	sim sm;
	int a = connect_nohost(&sm, 17);
	hsk_stack *c = sm.st[C];
	uint32_t iss = sim_iss(&sm, C), irs = 70000;
	tcp_opts o;
	tcp_opts_init(&o);
	o.mss = 1000;
	o.has_ts = true;
	o.ts_val = 5000;
	sim_inject_opts(&sm, C, NOHOST, SPORT, CPORT, irs, 0, SYN, 65535, &o, NULL, 0);
	expect_seg(&sm, C, SYN | A, 0, irs + 1, 0);
	tcb *t = sock_get(c, a)->t;
	assert_true(t->flags & TF_TS_OK);
	assert_int_equal(t->quick, 0);
	uint8_t text[10];
	memset(text, 'x', sizeof(text));
	o.ts_val = 5001;
	sim_inject_opts(&sm, C, NOHOST, SPORT, CPORT, irs - 20, iss + 1, A, 65535, &o,
			text, sizeof(text));
	assert_int_equal(sim_counter(&sm, C, "DropOutOfWindow"), 1);
	assert_non_null(sim_next_tx(&sm));              /* answered */
	o.ts_val = 4000;
	sim_inject_opts(&sm, C, NOHOST, SPORT, CPORT, irs - 20, iss + 1, A, 65535, &o,
			text, sizeof(text));
	assert_int_equal(sim_counter(&sm, C, "PAWSEstab"), 1);
	assert_non_null(sim_next_tx(&sm));
	assert_int_equal(sim_counter(&sm, C, "DelayedACKLost"), 0);
	assert_int_equal(t->quick, 0);
	uint32_t wnd = (uint32_t)seq_diff(t->rcv_adv, t->rcv_nxt);
	assert_true(wnd > 0);
	o.ts_val = 5002;
	sim_inject_opts(&sm, C, NOHOST, SPORT, CPORT, irs + 1 + wnd, iss + 1, A, 65535, &o,
			text, sizeof(text));
	assert_int_equal(sim_counter(&sm, C, "DropOutOfWindow"), 2);
	assert_int_equal(t->quick, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_SYN_RECEIVED);
	abort_end(&sm, a);
}

/* A simultaneous open whose SYN,ACK could not go out (output_send found no
 * extension for it: SND.NXT stays the ISS, and SND.MAX went back to it on
 * the peer's SYN; the test puts both there, as that failure leaves them):
 * the peer's SYN,ACK acknowledging the ISS itself (SEG.ACK = SND.NXT)
 * completes the open, but acknowledges nothing of ours
 * (simultaneous_open_done sets syn_acked only when SEG.ACK passes
 * SND.UNA): our SYN,ACK goes from ESTABLISHED, and once it is
 * acknowledged the data starts at ISS + 1. */
static void test_simultaneous_open_synack_unsent(void **state)
{
	(void)state;
	sim sm;
	int a = connect_nohost(&sm, 15);
	hsk_stack *c = sm.st[C];
	uint32_t iss = sim_iss(&sm, C), irs = 70000;
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss, SYN, 65535, NULL, 0);
	expect_seg(&sm, C, SYN | A, 0, irs + 1, 0);
	tcb *t = sock_get(c, a)->t;
	assert_true(seq_eq(t->snd_una, t->iss) && !t->syn_acked);
	t->snd_nxt = t->snd_max = t->iss;
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss, SYN | A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_ESTABLISHED);
	assert_false(t->syn_acked);
	expect_seg(&sm, C, SYN | A, 0, irs + 1, 0);     /* our SYN, at last */
	expect_no_tx(&sm);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs + 1, iss + 1, A, 65535, NULL, 0);
	assert_true(t->syn_acked);
	assert_int_equal(hsk_send(c, a, "data", 4), 4);
	expect_seg(&sm, C, A | PSH, 1, irs + 1, 4);
	abort_end(&sm, a);
}

/* RFC 7323 §2.2: the window field of a SYN is never scaled -- the SYN,ACK
 * completing a simultaneous open too, though both SYNs agreed on a shift
 * by then. */
static void test_simultaneous_open_window_unscaled(void **state)
{
	(void)state;
	sim sm;
	int a = connect_nohost(&sm, 13);
	hsk_stack *c = sm.st[C];
	assert_true(sm.log[sm.tx_cursor - 1].ev.wscale >= 0);
	uint32_t iss = sim_iss(&sm, C), irs = 70000;
	tcp_opts o;
	tcp_opts_init(&o);
	o.mss = 1460;
	o.wscale = 7;
	/* The SYN's ACK field, meaningless without the ACK bit, is ISS: SYN_SENT
	 * takes SND.WL2 from it, and a value above ISS + 1 would keep the
	 * SYN,ACK's window out by the WL2 rule (docs/mutation.md). */
	sim_inject_opts(&sm, C, NOHOST, SPORT, CPORT, irs, iss, SYN, 2000, &o, NULL, 0);
	expect_seg(&sm, C, SYN | A, 0, irs + 1, 0);
	sim_inject_opts(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 1, SYN | A, 3000, &o,
			NULL, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_ESTABLISHED);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(c, a, &ti), 0);
	assert_int_equal(ti.snd_wnd, 3000);
	/* From now on the window is scaled. */
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs + 1, iss + 1, A, 100, NULL, 0);
	assert_int_equal(hsk_sock_info(c, a, &ti), 0);
	assert_int_equal(ti.snd_wnd, 100 << 7);
	abort_end(&sm, a);
}

/* The ACK field of a SYN without the ACK bit means nothing (RFC 9293
 * §3.1): SYN_SENT must not take SND.WL2 from it. An ACK field above ISS + 1
 * (any value will do for half of all ISSs) kept the completing SYN,ACK's
 * window out by the WL2 rule (found by make mutate's review). */
static void test_simultaneous_open_syn_ack_field_ignored(void **state)
{
	(void)state;
	sim sm;
	int a = connect_nohost(&sm, 13);
	hsk_stack *c = sm.st[C];
	uint32_t iss = sim_iss(&sm, C), irs = 70000;
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 5000, SYN, 2000, NULL, 0);
	expect_seg(&sm, C, SYN | A, 0, irs + 1, 0);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 1, SYN | A, 3000, NULL, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_ESTABLISHED);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(c, a, &ti), 0);
	assert_int_equal(ti.snd_wnd, 3000);
	abort_end(&sm, a);
}

/* RFC 9293 §3.10.7.3: in SYN_SENT an ACK must acknowledge our SYN (ISS <
 * SEG.ACK =< SND.NXT). A SYN,ACK acknowledging ISS itself, or beyond our
 * SYN, is answered with a reset (seq = SEG.ACK) and the connect goes on;
 * the right one establishes. */
static void test_syn_sent_bad_synack_reset(void **state)
{
	(void)state;
	sim sm;
	int a = connect_nohost(&sm, 14);
	hsk_stack *c = sm.st[C];
	uint32_t iss = sim_iss(&sm, C), irs = 80000;
	/* (Host S sends nothing: acks below are absolute.) */
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss, SYN | A, 65535, NULL, 0);
	expect_seg(&sm, C, RST, 0, 0, 0);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 2, SYN | A, 65535, NULL, 0);
	expect_seg(&sm, C, RST, 2, 0, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_SYN_SENT);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 1, SYN | A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_ESTABLISHED);
	expect_seg(&sm, C, A, 1, irs + 1, 0);
	abort_end(&sm, a);
}

/* An unacceptable ACK in SYN_SENT -- the peer answering from an older
 * incarnation it still holds -- is reset, and the SYN goes again 2 ms
 * later, not after the 1 s RTO: our reset has cleared the peer's state.
 * Once, before the first retransmission (Linux's
 * tcp_rcv_synsent_state_process re-arms TCP_TIMEOUT_MIN the same way); a
 * second bad ACK then waits for the backed-off RTO. */
static void test_syn_sent_bad_ack_resends_syn_soon(void **state)
{
	(void)state;
	sim sm;
	int a = connect_nohost(&sm, 16);
	uint32_t iss = sim_iss(&sm, C), irs = 70000;
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 1000, A, 65535, NULL, 0);
	expect_seg(&sm, C, RST, 1000, 0, 0);
	uint64_t t_rst = sim_now(&sm);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.t_ns, t_rst + 2 * MS);
	assert_int_equal(hsk_sock_state(sm.st[C], a), HSK_SYN_SENT);
	/* A RST,ACK with a bad ACK: dropped, and the RTO (2 s now) stands. */
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 1000, RST | A, 65535, NULL, 0);
	sim_run(&sm, 1 * SEC);
	expect_no_tx(&sm);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 1, SYN | A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_state(sm.st[C], a), HSK_ESTABLISHED);
	expect_seg(&sm, C, A, 1, irs + 1, 0);
	abort_end(&sm, a);
}

/* RFC 9293 §3.10.7.3, fifth: in SYN_SENT a segment with neither SYN nor
 * RST is dropped, even with an acceptable ACK (of our SYN) and data: no
 * reply, no state; the connection opens only with the SYN,ACK, and the
 * dropped bytes are not taken. */
static void test_syn_sent_ack_without_syn_dropped(void **state)
{
	(void)state;
	sim sm;
	int a = connect_nohost(&sm, 15);
	hsk_stack *c = sm.st[C];
	uint32_t iss = sim_iss(&sm, C), irs = 90000;
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs + 1, iss + 1, A, 65535, NULL, 0);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs + 1, iss + 1, A | PSH, 65535, "early", 5);
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, a), HSK_SYN_SENT);
	sim_inject(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 1, SYN | A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_ESTABLISHED);
	expect_seg(&sm, C, A, 1, irs + 1, 0);
	char buf[8];
	assert_int_equal(hsk_recv(c, a, buf, sizeof(buf)), -HSK_EAGAIN);
	abort_end(&sm, a);
}

/* A passive SYN_RECEIVED is a request on the SYN queue; an RST at exactly
 * IRS+1 sends it back to LISTEN: the request disappears, the listener stays. */
static void test_synrcvd_rst_back_to_listen(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 3);
	hsk_stack *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	const uint32_t irs = 5000;
	const sim_ev *e = syn_from_nohost(&sm, 4000, irs);
	assert_int_equal(e->host, S);
	assert_int_equal(e->ev.ack, irs + 1);
	uint32_t iss = e->ev.seq;
	hsk_usage u;
	hsk_stack_usage(s, &u);
	assert_int_equal(u.requests, 1);
	assert_int_equal(u.tcbs, 0);
	expect_state(&sm, S, HSK_CLOSED, HSK_LISTEN);
	expect_state(&sm, S, HSK_LISTEN, HSK_SYN_RECEIVED);

	/* In the window but not at RCV.NXT: a challenge ACK, request kept. */
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 100, 0, RST, 0, NULL, 0);
	e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, A);
	assert_int_equal(e->ev.seq, iss + 1);
	assert_int_equal(e->ev.ack, irs + 1);
	hsk_stack_usage(s, &u);
	assert_int_equal(u.requests, 1);
	assert_int_equal(sim_counter(&sm, S, "EmbryonicRsts"), 0);

	/* Exactly RCV.NXT: back to LISTEN, silently. */
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 1, 0, RST, 0, NULL, 0);
	assert_null(sim_next_tx(&sm));
	expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_LISTEN);
	hsk_stack_usage(s, &u);
	assert_int_equal(u.requests, 0);
	assert_int_equal(sim_counter(&sm, S, "EmbryonicRsts"), 1);
	assert_int_equal(hsk_sock_state(s, lsd), HSK_LISTEN);
	/* Nothing is retransmitted for the vanished request. */
	sim_run(&sm, 10 * SEC);
	assert_null(sim_next_tx(&sm));

	/* The listener still works for a real client. */
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	e = sim_next_tx(&sm);
	assert_int_equal(e->host, S);
	assert_int_equal(e->ev.flags, SYN | A);
	e = sim_next_tx(&sm);
	assert_int_equal(e->host, C);
	assert_int_equal(e->ev.flags, A);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, S, "PassiveOpens"), 1);
	assert_int_equal(hsk_abort(sm.st[C], csd), 0);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(s, ssd), HSK_ECONNRESET);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Both SYN,ACKs of a simultaneous open are lost: each end retransmits its
 * SYN,ACK on its SYN's timer (1 s) and both reach ESTABLISHED. */
static void test_simultaneous_open_lost_synacks(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 15);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	sim_lose(&sm, C, SYN | A, 1);
	sim_lose(&sm, S, SYN | A, 1);
	uint64_t t0 = sim_now(&sm);
	int a, b;
	simultaneous_connect(&sm, &a, &b);
	sim_run(&sm, 1 * SEC + 10 * MS);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);   /* lost */
	expect_seg(&sm, C, SYN | A, 0, 1, 0);   /* lost */
	expect_seg(&sm, C, SYN | A, 0, 1, 0);
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.t_ns, t0 + 1 * SEC);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.t_ns, t0 + 1 * SEC);
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, a), HSK_ESTABLISHED);
	assert_int_equal(hsk_sock_state(s, b), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, C, "RetransSegs"), 1);
	/* No RTT sample from a retransmitted SYN,ACK: RTO 3 s (RFC 6298
	 * 5.7), and data still flows. */
	char buf[8];
	assert_int_equal(hsk_send(s, b, "abc", 3), 3);
	sim_run(&sm, 2 * MS);
	expect_seg(&sm, S, A | PSH, 1, 1, 3);
	assert_int_equal(hsk_recv(c, a, buf, sizeof(buf)), 3);
	assert_int_equal(hsk_close(c, a), 0);
	sim_run(&sm, 100 * MS);
	assert_int_equal(hsk_close(s, b), 0);
	sim_run(&sm, 61 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A simultaneous open's SYN_RECEIVED is a full TCB of an active open: an
 * RST ends it with ECONNREFUSED. */
static void test_synrcvd_rst_simultaneous_refused(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 4);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	sim_lose(&sm, C, SYN | A, 1);
	sim_lose(&sm, S, SYN | A, 1);
	int a, b;
	simultaneous_connect(&sm, &a, &b);
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);  /* lost */
	expect_seg(&sm, C, SYN | A, 0, 1, 0);  /* lost */
	sim_run(&sm, 10 * MS);
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, a), HSK_SYN_RECEIVED);
	assert_int_equal(hsk_sock_state(s, b), HSK_SYN_RECEIVED);

	/* An RST at C's RCV.NXT (S's ISS + 1). */
	uint32_t s_iss = sim_iss(&sm, S);
	sim_inject(&sm, C, SIM_ADDR(S), SPORT, CPORT, s_iss + 1, 0, RST, 0, NULL, 0);
	expect_no_tx(&sm);
	assert_int_equal(hsk_sock_state(c, a), HSK_CLOSED);
	assert_true(hsk_poll(c, a) & HSK_POLLERR);
	assert_int_equal(hsk_sock_error(c, a), HSK_ECONNREFUSED);
	assert_int_equal(hsk_sock_error(c, a), 0);
	assert_int_equal(sim_counter(&sm, C, "AttemptFails"), 1);
	expect_state(&sm, C, HSK_CLOSED, HSK_SYN_SENT);
	expect_state(&sm, C, HSK_SYN_SENT, HSK_SYN_RECEIVED);
	expect_state(&sm, C, HSK_SYN_RECEIVED, HSK_CLOSED);

	/* S retransmits its SYN,ACK after 1 s; C has no connection any more
	 * and resets it with seq = SEG.ACK, which S takes the same way. */
	sim_run(&sm, 1 * SEC);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	expect_seg(&sm, C, RST, 1, 0, 0);
	assert_int_equal(hsk_sock_state(s, b), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(s, b), HSK_ECONNREFUSED);
	expect_state(&sm, S, HSK_CLOSED, HSK_SYN_SENT);
	expect_state(&sm, S, HSK_SYN_SENT, HSK_SYN_RECEIVED);
	expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_CLOSED);
	sim_run(&sm, 200 * SEC);
	expect_no_tx(&sm);
	assert_int_equal(hsk_close(c, a), 0);
	assert_int_equal(hsk_close(s, b), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* close() in a simultaneous open's SYN_RECEIVED: FIN_WAIT_1 at once, the
 * FIN goes out (RFC 9293 §3.10.4: nothing was sent, so form a FIN), and the
 * connection ends cleanly on both sides. */
static void test_synrcvd_close_fin_wait_1(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 5);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int a, b;
	simultaneous_connect(&sm, &a, &b);
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	expect_seg(&sm, C, SYN | A, 0, 1, 0);
	assert_int_equal(hsk_sock_state(c, a), HSK_SYN_RECEIVED);
	/* C closes before S's SYN,ACK arrives. */
	assert_int_equal(hsk_close(c, a), 0);
	expect_seg(&sm, C, FIN | A, 1, 1, 0);
	expect_state(&sm, C, HSK_CLOSED, HSK_SYN_SENT);
	expect_state(&sm, C, HSK_SYN_SENT, HSK_SYN_RECEIVED);
	expect_state(&sm, C, HSK_SYN_RECEIVED, HSK_FIN_WAIT_1);
	sim_run(&sm, 1 * MS);
	/* S's SYN,ACK is old news to C in FIN_WAIT_1: answered with an ACK. */
	expect_seg(&sm, C, A, 2, 1, 0);
	/* S: ESTABLISHED by C's SYN,ACK, then C's FIN: CLOSE_WAIT. */
	expect_seg(&sm, S, A, 1, 2, 0);
	assert_int_equal(hsk_sock_state(s, b), HSK_CLOSE_WAIT);
	expect_state(&sm, S, HSK_CLOSED, HSK_SYN_SENT);
	expect_state(&sm, S, HSK_SYN_SENT, HSK_SYN_RECEIVED);
	expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_ESTABLISHED);
	expect_state(&sm, S, HSK_ESTABLISHED, HSK_CLOSE_WAIT);
	sim_run(&sm, 1 * MS);
	expect_state(&sm, C, HSK_FIN_WAIT_1, HSK_FIN_WAIT_2);
	char buf[8];
	assert_int_equal(hsk_recv(s, b, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_close(s, b), 0);
	expect_seg(&sm, S, FIN | A, 1, 2, 0);
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, C, A, 2, 2, 0);
	expect_state(&sm, C, HSK_FIN_WAIT_2, HSK_TIME_WAIT);
	expect_state(&sm, S, HSK_CLOSE_WAIT, HSK_LAST_ACK);
	sim_run(&sm, 1 * MS);
	expect_state(&sm, S, HSK_LAST_ACK, HSK_CLOSED);
	sim_run(&sm, 61 * SEC);
	expect_no_tx(&sm);
	expect_state(&sm, C, HSK_TIME_WAIT, HSK_CLOSED);
	assert_int_equal(sim_counter(&sm, C, "RetransSegs"), 0);
	assert_int_equal(sim_counter(&sm, S, "RetransSegs"), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* No listener: the SYN gets RST,ACK (seq 0, ack ISS+1); connect fails. */
static void test_refused(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 6);
	hsk_stack *c = sm.st[C];
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 3 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	expect_seg(&sm, S, RST | A, 0, 1, 0);
	expect_no_tx(&sm);
	/* Absolute: seq 0 */
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.seq, 0);
	assert_int_equal(hsk_sock_state(c, csd), HSK_CLOSED);
	int ev = hsk_poll(c, csd);
	assert_true(ev & HSK_POLLERR);
	assert_false(ev & HSK_POLLOUT);
	assert_int_equal(hsk_sock_error(c, csd), HSK_ECONNREFUSED);
	assert_int_equal(sim_counter(&sm, C, "AttemptFails"), 1);
	assert_int_equal(sim_counter(&sm, S, "DropNoSocket"), 1);
	assert_int_equal(sim_counter(&sm, S, "OutRsts"), 1);
	expect_state(&sm, C, HSK_CLOSED, HSK_SYN_SENT);
	expect_state(&sm, C, HSK_SYN_SENT, HSK_CLOSED);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Readiness events: connect() completing reports POLLOUT, failing reports
 * POLLERR; the listener reports POLLIN for a connection to accept. */
static bool event_for(hsk_stack *st, int sd, int *mask)
{
	hsk_event ev[16];
	size_t n = hsk_stack_events(st, ev, 16);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		if (ev[i].sd == sd) {
			*mask = ev[i].events;
			found = true;
		}
	return found;
}

static void test_connect_events(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 19);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int mask = 0;
	(void)event_for(c, -1, &mask);               /* drain */
	int ok = sim_connect(&sm, C, S, PORT);
	int bad = sim_connect(&sm, C, S, PORT + 1);
	(void)event_for(c, -1, &mask);
	sim_run(&sm, 10 * MS);
	hsk_event ev[16];
	size_t n = hsk_stack_events(c, ev, 16);
	int got_ok = 0, got_bad = 0;
	for (size_t i = 0; i < n; i++) {
		if (ev[i].sd == ok) {
			got_ok++;
			assert_true(ev[i].events & HSK_POLLOUT);
			assert_false(ev[i].events & HSK_POLLERR);
		} else if (ev[i].sd == bad) {
			got_bad++;
			assert_true(ev[i].events & HSK_POLLERR);
			assert_false(ev[i].events & HSK_POLLOUT);
		}
	}
	assert_int_equal(got_ok, 1);                 /* each once */
	assert_int_equal(got_bad, 1);
	assert_true(event_for(s, lsd, &mask));
	assert_true(mask & HSK_POLLIN);
	assert_int_equal(hsk_sock_error(c, bad), HSK_ECONNREFUSED);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_poll(s, lsd) & HSK_POLLIN, 0);
	assert_int_equal(hsk_close(c, ok), 0);
	assert_int_equal(hsk_close(c, bad), 0);
	sim_run(&sm, 3 * MS);
	assert_true(event_for(s, ssd, &mask));
	assert_true(mask & HSK_POLLIN);
	assert_true(mask & HSK_POLLRDHUP);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_run(&sm, 61 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A SYN_SENT connection ignores an RST without ACK and a RST,ACK whose ACK
 * does not cover its SYN (RFC 9293 §3.10.7.3). */
static void test_syn_sent_bad_rst_ignored(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 7);
	hsk_stack *c = sm.st[C];
	sim_blackhole(&sm, C, SYN, true);
	int csd = sim_connect(&sm, C, S, PORT);
	hsk_tuple tu;
	hsk_sock_tuple(c, csd, &tu);
	uint32_t iss = sim_iss(&sm, C);
	sim_inject(&sm, C, SIM_ADDR(S), PORT, tu.lport, 0, 0, RST, 0, NULL, 0);
	assert_int_equal(hsk_sock_state(c, csd), HSK_SYN_SENT);
	/* A bad ACK (not ISS+1): the RST is not believed, and it is not
	 * answered either (never answer a reset). */
	sim_inject(&sm, C, SIM_ADDR(S), PORT, tu.lport, 0, iss + 7, RST | A, 0, NULL, 0);
	assert_int_equal(hsk_sock_state(c, csd), HSK_SYN_SENT);
	/* The good one. */
	sim_inject(&sm, C, SIM_ADDR(S), PORT, tu.lport, 0, iss + 1, RST | A, 0, NULL, 0);
	assert_int_equal(hsk_sock_state(c, csd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(c, csd), HSK_ECONNREFUSED);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	expect_no_tx(&sm);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* An ACK arriving at a listener: RST with seq = SEG.ACK, no ACK bit. */
static void test_ack_to_listener(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 8);
	int lsd = sim_listen(&sm, S, PORT, 8);
	sim_inject(&sm, S, NOHOST, 4000, PORT, 1234, 987654, A, 1000, NULL, 0);
	const sim_ev *e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->host, S);
	assert_int_equal(e->ev.flags, RST);
	assert_int_equal(e->ev.seq, 987654);
	assert_int_equal(e->ev.len, 0);
	/* Also with data; and an RST to a listener is dropped silently. */
	sim_inject(&sm, S, NOHOST, 4000, PORT, 1234, 55555, A | PSH, 1000, "xyz", 3);
	e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, RST);
	assert_int_equal(e->ev.seq, 55555);
	sim_inject(&sm, S, NOHOST, 4000, PORT, 1234, 0, RST, 0, NULL, 0);
	sim_inject(&sm, S, NOHOST, 4000, PORT, 1234, 1, RST | A, 0, NULL, 0);
	assert_null(sim_next_tx(&sm));
	hsk_usage u;
	hsk_stack_usage(sm.st[S], &u);
	assert_int_equal(u.requests, 0);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Data on the third segment of the handshake is accepted and delivered
 * after accept(). */
static void test_data_on_final_ack(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 9);
	hsk_stack *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	const uint32_t irs = 0x7ffffff0u; /* wraps nothing, but is large */
	const sim_ev *e = syn_from_nohost(&sm, 4000, irs);
	uint32_t iss = e->ev.seq;
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 1, iss + 1, A | PSH, 65535,
		   "GET / HTTP/1.0\r\n\r\n", 18);
	/* The data is acknowledged (delayed ACK) and the connection waits on
	 * the accept queue. */
	assert_true(hsk_poll(s, lsd) & HSK_POLLIN);
	sim_run(&sm, 100 * MS);
	e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, A);
	assert_int_equal(e->ev.seq, iss + 1);
	assert_int_equal(e->ev.ack, irs + 1 + 18);
	assert_null(sim_next_tx(&sm));
	int ssd = sim_accept(&sm, S, lsd);
	assert_true(hsk_poll(s, ssd) & HSK_POLLIN);
	char buf[64];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 18);
	assert_memory_equal(buf, "GET / HTTP/1.0\r\n\r\n", 18);
	expect_state(&sm, S, HSK_CLOSED, HSK_LISTEN);
	expect_state(&sm, S, HSK_LISTEN, HSK_SYN_RECEIVED);
	expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, S, "PassiveOpens"), 1);
	/* FIN on the final ACK too: data, then EOF. */
	e = syn_from_nohost(&sm, 4001, irs);
	uint32_t iss2 = e->ev.seq;
	sim_inject(&sm, S, NOHOST, 4001, PORT, irs + 1, iss2 + 1, A | PSH | FIN, 65535,
		   "bye", 3);
	e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, A);
	assert_int_equal(e->ev.ack, irs + 1 + 3 + 1);
	int ssd2 = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, ssd2), HSK_CLOSE_WAIT);
	assert_int_equal(hsk_recv(s, ssd2, buf, sizeof(buf)), 3);
	assert_int_equal(hsk_recv(s, ssd2, buf, sizeof(buf)), 0);
	/* Both end by abort (the peer is not a real host). */
	assert_int_equal(hsk_abort(s, ssd), 0);
	assert_int_equal(hsk_abort(s, ssd2), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* The largest payload any segment from `host` carried. */
static uint32_t max_len(const sim *sm, int host)
{
	uint32_t m = 0;
	for (size_t i = 0; i < sm->nlog; i++)
		if (sm->log[i].host == host && sm->log[i].ev.kind == HSK_EV_TX &&
		    sm->log[i].ev.len > m)
			m = sm->log[i].ev.len;
	return m;
}

static void test_mss_option(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 10, PORT, &lsd, &csd, &ssd);
	/* SYN and SYN,ACK carry MSS 1460 (IPv6: 1440) at MTU 1500; the rest
	 * carry none. */
	int syns = 0;
	for (size_t i = 0; i < sm.nlog; i++) {
		const hsk_trace_event *ev = &sm.log[i].ev;
		if (ev->kind != HSK_EV_TX)
			continue;
		if (ev->flags & SYN) {
			assert_int_equal(ev->mss, sim_mss(&sm));
			syns++;
		} else {
			assert_int_equal(ev->mss, 0);
		}
	}
	assert_int_equal(syns, 2);
	int v = 0;
	/* Timestamps ride on every segment and come out of the payload, so
	 * the effective MSS is 1460 - 12 (Linux's TCP_MAXSEG says the same). */
	assert_int_equal(hsk_getsockopt(sm.st[C], csd, HSK_SO_MAXSEG, &v), 0);
	assert_int_equal(v, sim_mss(&sm) - 12);
	/* 10 KB go in full-sized segments. */
	static char big[10000];
	memset(big, 'm', sizeof(big));
	assert_int_equal(hsk_send(sm.st[C], csd, big, sizeof(big)), (long)sizeof(big));
	sim_run(&sm, 100 * MS);
	assert_int_equal(max_len(&sm, C), sim_mss(&sm) - 12);
	pair_end(&sm, lsd, csd, ssd);
}

/* A SYN without an MSS option: 536 (RFC 9293 §3.7.1). */
static void test_mss_default_536(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 11);
	hsk_stack *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	const uint32_t irs = 100;
	const sim_ev *e = syn_from_nohost(&sm, 4000, irs);
	assert_int_equal(e->ev.mss, sim_mss(&sm));  /* ours is still offered */
	assert_int_equal(e->ev.wscale, -1); /* not offered by the peer */
	uint32_t iss = e->ev.seq;
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 1, iss + 1, A, 65535, NULL, 0);
	int ssd = sim_accept(&sm, S, lsd);
	int v = 0;
	assert_int_equal(hsk_getsockopt(s, ssd, HSK_SO_MAXSEG, &v), 0);
	assert_int_equal(v, 536);
	static char big[3000];
	memset(big, 'x', sizeof(big));
	assert_int_equal(hsk_send(s, ssd, big, sizeof(big)), 3000);
	/* 65535 of window, 10 * 536 of cwnd: five full segments and the
	 * 320-byte tail at once (Minshall's Nagle, as Linux: no earlier small
	 * segment is unacknowledged). */
	uint32_t total = 0;
	int n = 0;
	while ((e = sim_next_tx(&sm)) != NULL) {
		bool tail = total + 536 > 3000;
		assert_int_equal(e->ev.flags, tail ? (A | PSH) : A);
		assert_int_equal(e->ev.seq, iss + 1 + total);
		assert_int_equal(e->ev.len, tail ? 320 : 536);
		total += e->ev.len;
		n++;
	}
	assert_int_equal(n, 6);
	assert_int_equal(total, 3000);
	assert_null(sim_next_tx(&sm));
	assert_int_equal(max_len(&sm, S), 536);
	assert_int_equal(hsk_abort(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A smaller MTU: a smaller MSS, offered and used by both ends. */
static void test_mss_small_mtu(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.mtu = 576;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, &cfg, 12, PORT, &lsd, &csd, &ssd);
	assert_int_equal(sm.log[0].ev.kind, HSK_EV_STATE);
	/* IPv6: a link MTU below 1280 counts as 1280 (RFC 8200 §5) */
	const uint32_t mss = sm.family == HSK_AF_INET6 ? 1280 - 60 : 536;
	for (size_t i = 0; i < sm.nlog; i++)
		if (sm.log[i].ev.kind == HSK_EV_TX && (sm.log[i].ev.flags & SYN))
			assert_int_equal(sm.log[i].ev.mss, mss);
	static char big[5000];
	memset(big, 'y', sizeof(big));
	assert_int_equal(hsk_send(sm.st[S], ssd, big, sizeof(big)), 5000);
	sim_run(&sm, 100 * MS);
	assert_int_equal(max_len(&sm, S), mss - 12);    /* timestamps */
	char buf[6000];
	assert_int_equal(hsk_recv(sm.st[C], csd, buf, sizeof(buf)), 5000);
	pair_end(&sm, lsd, csd, ssd);
}

/* A SYN from NOHOST with an MSS option (0: none) into the server. */
static void inject_syn_mss(sim *sm, uint16_t sport, uint32_t seq, uint16_t mss)
{
	tcp_opts o;

	tcp_opts_init(&o);
	o.mss = mss;
	sim_inject_opts(sm, S, NOHOST, sport, PORT, seq, 0, SYN, 65535, &o, NULL, 0);
}

/* The peer's MSS option caps our segments; ours caps a larger one. */
static void test_mss_clamp(void **state)
{
	(void)state;
	static const uint16_t offered[2] = { 9000, 100 };
	int expect[2] = { 1460, 100 };
	for (int k = 0; k < 2; k++) {
		sim sm;
		sim_init(&sm, 2, NULL, 16 + (uint64_t)k);
		hsk_stack *s = sm.st[S];
		expect[0] = (int)sim_mss(&sm);
		int lsd = sim_listen(&sm, S, PORT, 8);
		inject_syn_mss(&sm, 4000, 1000, offered[k]);
		const sim_ev *e = sim_next_tx(&sm);
		assert_int_equal(e->ev.flags, SYN | A);
		assert_int_equal(e->ev.mss, sim_mss(&sm));
		uint32_t iss = e->ev.seq;
		sim_inject(&sm, S, NOHOST, 4000, PORT, 1001, iss + 1, A, 65535, NULL, 0);
		int ssd = sim_accept(&sm, S, lsd);
		int v = 0;
		assert_int_equal(hsk_getsockopt(s, ssd, HSK_SO_MAXSEG, &v), 0);
		assert_int_equal(v, expect[k]);
		static char big[800];
		memset(big, 'z', sizeof(big));
		assert_int_equal(hsk_send(s, ssd, big, sizeof(big)), 800);
		while ((e = sim_next_tx(&sm)) != NULL)
			assert_true(e->ev.len <= (uint32_t)expect[k]);
		assert_int_equal(hsk_abort(s, ssd), 0);
		assert_int_equal(hsk_close(s, lsd), 0);
		sim_assert_no_leaks(&sm);
		sim_free(&sm);
	}
}

/* Sequence numbers that wrap: the peer's ISN is 2^32 - 16 and its data on
 * the final ACK crosses zero. */
static void test_sequence_wrap(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 18);
	hsk_stack *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	const uint32_t irs = 0xfffffff0u;
	const sim_ev *e = syn_from_nohost(&sm, 4000, irs);
	assert_int_equal(e->ev.ack, 0xfffffff1u);
	uint32_t iss = e->ev.seq;
	char data[40];
	for (int i = 0; i < 40; i++)
		data[i] = (char)('a' + i % 26);
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 1, iss + 1, A, 65535, data, 20);
	sim_inject(&sm, S, NOHOST, 4000, PORT, irs + 21, iss + 1, A | PSH | FIN, 65535,
		   data + 20, 20);
	e = sim_next_tx(&sm);             /* the first data, quick-ACKed */
	assert_non_null(e);
	assert_int_equal(e->ev.flags, A);
	assert_int_equal(e->ev.ack, irs + 1 + 20);
	e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, A);
	assert_int_equal(e->ev.ack, irs + 1 + 40 + 1);  /* 0x1a, past zero */
	assert_int_equal(e->ev.ack, 0x1a);
	int ssd = sim_accept(&sm, S, lsd);
	char buf[64];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 40);
	assert_memory_equal(buf, data, 40);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSE_WAIT);
	/* An RST at exactly RCV.NXT (past the wrap) resets. */
	sim_inject(&sm, S, NOHOST, 4000, PORT, 0x1a, 0, HSK_TH_RST, 0, NULL, 0);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(s, ssd), HSK_ECONNRESET);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* RFC 6528: ISN = M + F(tuple, key). Different tuples, different ISNs;
 * the same tuple later: a larger ISN, by the 4 us clock. */
/* A SYN,ACK offering SACK and timestamps to a client whose configuration
 * turns either off (its SYN did not offer it): the connection takes only
 * what both allow, and the MSS leaves room for timestamps only when on. */
static void test_synack_options_configured_off(void **state)
{
	(void)state;
	for (int m = 0; m < 4; m++) {
		hsk_config cfg;
		hsk_config_default(&cfg);
		cfg.sack = m & 1;
		cfg.timestamps = (m >> 1) & 1;
		sim sm;
		sim_init(&sm, 2, &cfg, 15);
		hsk_stack *c = sm.st[C];
		int a = sim_socket(&sm, C);
		hsk_addr nohost = sim_twin(&sm, NOHOST);
		assert_int_equal(sim_bind_any(&sm, C, a, CPORT), 0);
		assert_int_equal(hsk_connect_addr(c, a, &nohost, SPORT), -HSK_EINPROGRESS);
		expect_seg(&sm, C, SYN, 0, 0, 0);
		uint32_t iss = sim_iss(&sm, C), irs = 5000;
		tcp_opts o = { .mss = 1000, .wscale = -1, .sack_ok = true, .has_ts = true,
			       .ts_val = 777 };
		sim_inject_opts(&sm, C, NOHOST, SPORT, CPORT, irs, iss + 1, SYN | A, 65535, &o,
				NULL, 0);
		assert_int_equal(hsk_sock_state(c, a), HSK_ESTABLISHED);
		const sim_ev *e = sim_next_tx(&sm);
		assert_non_null(e);
		assert_int_equal(e->ev.flags, A);
		assert_int_equal(e->ev.has_ts, cfg.timestamps);
		hsk_tcp_info ti;
		assert_int_equal(hsk_sock_info(c, a, &ti), 0);
		assert_int_equal(ti.sack, cfg.sack);
		assert_int_equal(ti.timestamps, cfg.timestamps);
		assert_int_equal(ti.mss, cfg.timestamps ? 1000 - 12 : 1000);
		abort_end(&sm, a);
	}
}

static void test_isn(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 13);
	hsk_stack *c = sm.st[C];
	uint32_t isn[4];
	for (int i = 0; i < 4; i++) {
		int sd = sim_socket(&sm, C);
		assert_int_equal(sim_bind_any(&sm, C, sd, (uint16_t)(40000 + i)), 0);
		assert_int_equal(sim_connect_to(&sm, C, sd, S, PORT), -HSK_EINPROGRESS);
		const sim_ev *e = sim_next_tx(&sm);
		assert_int_equal(e->ev.flags, SYN);
		isn[i] = e->ev.seq;
		assert_int_equal(hsk_abort(c, sd), 0);
	}
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			assert_true(isn[i] != isn[j]);
	/* The same tuple again, 1 s and then 2 s later. */
	uint32_t prev = isn[0];
	for (int k = 1; k <= 2; k++) {
		sim_run(&sm, 1 * SEC);
		int sd = sim_socket(&sm, C);
		assert_int_equal(sim_bind_any(&sm, C, sd, 40000), 0);
		assert_int_equal(sim_connect_to(&sm, C, sd, S, PORT), -HSK_EINPROGRESS);
		const sim_ev *e = NULL, *x;
		while ((x = sim_next_tx(&sm)) != NULL)
			if (x->host == C && x->ev.flags == SYN)
				e = x;
		assert_non_null(e);
		uint32_t d = e->ev.seq - prev;
		/* 1 s of a 4 us clock: 250000 */
		assert_int_equal(d, 250000);
		prev = e->ev.seq;
		assert_int_equal(hsk_abort(c, sd), 0);
	}
	/* Another stack (another key) picks another ISN for the same tuple. */
	sim sm2;
	sim_init(&sm2, 2, NULL, 14);
	int sd = sim_socket(&sm2, C);
	assert_int_equal(sim_bind_any(&sm2, C, sd, 40000), 0);
	sim_run(&sm2, 2 * SEC);
	assert_int_equal(sim_connect_to(&sm2, C, sd, S, PORT), -HSK_EINPROGRESS);
	assert_true(sim_next_tx(&sm2)->ev.seq != prev);
	assert_int_equal(hsk_abort(sm2.st[C], sd), 0);
	sim_run(&sm, 10 * MS);
	sim_run(&sm2, 10 * MS);
	sim_assert_no_leaks(&sm);
	sim_assert_no_leaks(&sm2);
	sim_free(&sm2);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_simultaneous_open_checks_ack),
		cmocka_unit_test(test_simultaneous_open_ack_beyond_sent),
		cmocka_unit_test(test_syn_received_text_before_irs),
		cmocka_unit_test(test_simultaneous_open_synack_unsent),
		cmocka_unit_test(test_simultaneous_open_window_unscaled),
		cmocka_unit_test(test_simultaneous_open_syn_ack_field_ignored),
		cmocka_unit_test(test_simultaneous_open_lost_synacks),
		cmocka_unit_test(test_synrcvd_rst_back_to_listen),
		cmocka_unit_test(test_synrcvd_rst_simultaneous_refused),
		cmocka_unit_test(test_synrcvd_close_fin_wait_1),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_connect_events),
		cmocka_unit_test(test_syn_sent_bad_rst_ignored),
		cmocka_unit_test(test_syn_sent_bad_synack_reset),
		cmocka_unit_test(test_syn_sent_bad_ack_resends_syn_soon),
		cmocka_unit_test(test_syn_sent_ack_without_syn_dropped),
		cmocka_unit_test(test_ack_to_listener),
		cmocka_unit_test(test_data_on_final_ack),
		cmocka_unit_test(test_mss_option),
		cmocka_unit_test(test_mss_default_536),
		cmocka_unit_test(test_mss_small_mtu),
		cmocka_unit_test(test_mss_clamp),
		cmocka_unit_test(test_sequence_wrap),
		cmocka_unit_test(test_synack_options_configured_off),
		cmocka_unit_test(test_isn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
