/*
 * TIME_WAIT at its edges (RFC 9293 §3.10.7.4, RFC 1337, RFC 5961 §4.2):
 * what a compact entry answers, segment by segment, with exact sequence
 * numbers. RCV.NXT of the entry already counts the peer's FIN, so its
 * retransmission has SEG.SEQ = RCV.NXT - 1, and a FIN with SEG.SEQ =
 * RCV.NXT is a second one beyond it.
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
#define SYN HSK_TH_SYN
#define FIN HSK_TH_FIN
#define PSH HSK_TH_PSH
#define RST HSK_TH_RST

static size_t timewaits(sim *sm, int host)
{
	return sim_usage(sm, host).timewaits;
}

typedef struct tw_fx {
	sim sm;
	int lsd;
	uint16_t cport;
	uint32_t rcv_nxt, snd_nxt;  /* the client's entry, absolute */
	uint64_t entered;           /* when it entered TIME_WAIT */
} tw_fx;

/* The client ends in TIME_WAIT (it closed first); MSL 5 s, so 2MSL is
 * 10 s. The server forgot the connection: the client's answers are kept
 * from it (they are still seen as sent). */
static void fx_client_time_wait(tw_fx *f, uint64_t seed)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.msl_ns = 5 * SEC;
	sim *sm = &f->sm;
	sim_init(sm, 2, &cfg, seed);
	int csd, ssd;
	sim_open_pair(sm, C, S, PORT, 8, &f->lsd, &csd, &ssd);
	hsk_tuple tu;
	hsk_sock_tuple(sm->st[C], csd, &tu);
	f->cport = tu.lport;
	assert_int_equal(hsk_close(sm->st[C], csd), 0);
	sim_run(sm, 2 * MS + 1);
	assert_int_equal(hsk_close(sm->st[S], ssd), 0);
	sim_run(sm, 1 * MS);
	f->entered = sim_now(sm);
	sim_run(sm, 1 * MS + 1);
	expect_seg(sm, C, FIN | A, 1, 1, 0);
	expect_seg(sm, S, A, 1, 2, 0);
	expect_seg(sm, S, FIN | A, 1, 2, 0);
	expect_seg(sm, C, A, 2, 2, 0);
	expect_state(sm, C, HSK_ESTABLISHED, HSK_FIN_WAIT_1);
	expect_state(sm, C, HSK_FIN_WAIT_1, HSK_FIN_WAIT_2);
	expect_state(sm, C, HSK_FIN_WAIT_2, HSK_TIME_WAIT);
	assert_int_equal(sm->log[sm->st_cursor[C] - 1].ev.t_ns, f->entered);
	assert_int_equal(timewaits(sm, C), 1);
	f->rcv_nxt = sim_iss(sm, S) + 2;
	f->snd_nxt = sim_iss(sm, C) + 2;
	sim_blackhole(sm, C, -1, true);
}

static void to_entry(tw_fx *f, uint32_t seq, uint32_t ack, uint8_t flags,
		     const void *data, size_t len)
{
	sim_inject(&f->sm, C, SIM_ADDR(S), PORT, f->cport, seq, ack, flags, 65535, data, len);
}

/* The entry ends exactly at `end` (absolute). */
static void expect_end_at(tw_fx *f, uint64_t end)
{
	sim *sm = &f->sm;
	sim_run(sm, end - 1 - sim_now(sm));
	assert_int_equal(timewaits(sm, C), 1);
	sim_run(sm, 1);
	assert_int_equal(timewaits(sm, C), 0);
	expect_state(sm, C, HSK_TIME_WAIT, HSK_CLOSED);
	assert_int_equal(sm->log[sm->st_cursor[C] - 1].ev.t_ns, end);
}

static void fx_end(tw_fx *f)
{
	sim *sm = &f->sm;
	sim_blackhole(sm, C, -1, false);
	sim_run(sm, 20 * SEC);
	assert_int_equal(hsk_close(sm->st[S], f->lsd), 0);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* The peer's FIN again (SEG.SEQ = RCV.NXT - 1): ACK, 2MSL restarted. */
/* C's transitions into TIME_WAIT in the log. */
static int tw_transitions(const sim *sm)
{
	int n = 0;
	for (size_t i = 0; i < sm->nlog; i++)
		n += sm->log[i].host == C && sm->log[i].ev.kind == HSK_EV_STATE &&
		     sm->log[i].ev.to == HSK_TIME_WAIT;
	return n;
}

/* A second entry, from the pool's free list (the first was reaped), is
 * traced as the first was: a traced stack takes tw_enter's general way
 * whatever else its usual way would allow. */
static void test_second_entry_traced(void **state)
{
	(void)state;
	tw_fx f;
	fx_client_time_wait(&f, 78);
	sim *sm = &f.sm;
	sim_blackhole(sm, C, -1, false);
	assert_int_equal(tw_transitions(sm), 1);
	sim_run(sm, 11 * SEC);
	assert_int_equal(timewaits(sm, C), 0);
	int csd = sim_connect(sm, C, S, PORT);
	sim_run(sm, 10 * MS);
	int ssd = sim_accept(sm, S, f.lsd);
	assert_int_equal(hsk_close(sm->st[C], csd), 0);
	sim_run(sm, 10 * MS);
	assert_int_equal(hsk_close(sm->st[S], ssd), 0);
	sim_run(sm, 10 * MS);
	assert_int_equal(timewaits(sm, C), 1);
	assert_int_equal(tw_transitions(sm), 2);
	sim_run(sm, 11 * SEC);
	assert_int_equal(hsk_close(sm->st[S], f.lsd), 0);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* C's transitions out of TIME_WAIT in the log. */
static int tw_ends(const sim *sm)
{
	int n = 0;
	for (size_t i = 0; i < sm->nlog; i++)
		n += sm->log[i].host == C && sm->log[i].ev.kind == HSK_EV_STATE &&
		     sm->log[i].ev.from == HSK_TIME_WAIT && sm->log[i].ev.to == HSK_CLOSED;
	return n;
}

/* Three entries on C, the first two due at one instant (S closes both at
 * once), the third a second later: the advance at the first two's
 * deadline reaps both (the second in tw_reap_due's run, untraced, or one
 * by one, traced) and stops at the third, which is reaped on time. */
static void reap_run(bool traced, uint64_t seed)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.msl_ns = 5 * SEC;
	sim sm;
	sim_init(&sm, 2, &cfg, seed);
	if (!traced)
		sm.st[C]->env.cfg.trace = NULL;
	int lsd = sim_listen(&sm, S, PORT, 8), csd[3], ssd[3];
	for (int i = 0; i < 3; i++)
		csd[i] = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	for (int i = 0; i < 3; i++) {
		ssd[i] = sim_accept(&sm, S, lsd);
		assert_true(ssd[i] >= 0);
		assert_int_equal(hsk_close(sm.st[C], csd[i]), 0);
	}
	sim_run(&sm, 10 * MS);
	uint64_t t0 = sim_now(&sm);     /* the two FINs reach C 1 ms later */
	assert_int_equal(hsk_close(sm.st[S], ssd[0]), 0);
	assert_int_equal(hsk_close(sm.st[S], ssd[1]), 0);
	sim_run(&sm, 1 * SEC);
	assert_int_equal(hsk_close(sm.st[S], ssd[2]), 0);
	sim_run(&sm, 10 * MS);
	assert_int_equal(timewaits(&sm, C), 3);
	sim_run(&sm, t0 + 10 * SEC + 500 * MS - sim_now(&sm));
	assert_int_equal(timewaits(&sm, C), 1);
	assert_int_equal(sim_counter(&sm, C, "TW"), 2);
	assert_int_equal(tw_ends(&sm), traced ? 2 : 0);
	sim_run(&sm, 1 * SEC);
	assert_int_equal(timewaits(&sm, C), 0);
	assert_int_equal(sim_counter(&sm, C, "TW"), 3);
	assert_int_equal(tw_ends(&sm), traced ? 3 : 0);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_run(&sm, 1 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

static void test_reap_run_stops_at_not_due(void **state)
{
	(void)state;
	reap_run(false, 91);
	reap_run(true, 92);
}

static void test_retransmitted_fin(void **state)
{
	(void)state;
	tw_fx f;
	fx_client_time_wait(&f, 700);
	sim_run(&f.sm, 3 * SEC);
	uint64_t at = sim_now(&f.sm);
	to_entry(&f, f.rcv_nxt - 1, f.snd_nxt, FIN | A, NULL, 0);
	expect_seg(&f.sm, C, A, 2, 2, 0);
	expect_no_tx(&f.sm);
	expect_end_at(&f, at + 10 * SEC);
	fx_end(&f);
}

/* A FIN at exactly RCV.NXT (beyond the one already counted): no peer
 * sends it legitimately, but the RFC's FIN step is reached -- ACK it
 * (RCV.NXT stays: the first FIN was the end of the stream) and restart
 * 2MSL, as Linux's tcp_timewait_state_process does. It was dropped
 * silently as a bare ACK. */
static void test_fin_at_rcv_nxt(void **state)
{
	(void)state;
	tw_fx f;
	fx_client_time_wait(&f, 701);
	sim_run(&f.sm, 3 * SEC);
	uint64_t at = sim_now(&f.sm);
	to_entry(&f, f.rcv_nxt, f.snd_nxt, FIN | A, NULL, 0);
	expect_seg(&f.sm, C, A, 2, 2, 0);
	expect_no_tx(&f.sm);
	expect_end_at(&f, at + 10 * SEC);
	fx_end(&f);
}

/* A bare ACK at RCV.NXT is the only thing silently taken; it does not
 * restart 2MSL (RFC 9293 restarts it for a FIN only). */
static void test_bare_ack_silent(void **state)
{
	(void)state;
	tw_fx f;
	fx_client_time_wait(&f, 702);
	sim_run(&f.sm, 3 * SEC);
	to_entry(&f, f.rcv_nxt, f.snd_nxt, A, NULL, 0);
	expect_no_tx(&f.sm);
	expect_end_at(&f, f.entered + 10 * SEC);
	fx_end(&f);
}

/* RFC 5961 §4.2: a SYN,ACK in a synchronized state (TIME_WAIT is one)
 * draws a challenge ACK, at RCV.NXT too (it was dropped silently). */
static void test_synack_at_rcv_nxt_challenged(void **state)
{
	(void)state;
	tw_fx f;
	fx_client_time_wait(&f, 703);
	to_entry(&f, f.rcv_nxt, f.snd_nxt, SYN | A, NULL, 0);
	expect_seg(&f.sm, C, A, 2, 2, 0);
	expect_no_tx(&f.sm);
	assert_int_equal(sim_counter(&f.sm, C, "TCPChallengeACK"), 1);
	assert_int_equal(sim_counter(&f.sm, C, "TCPSYNChallenge"), 1);
	/* The entry's one stamp limits them: the next goes 500 ms later. */
	to_entry(&f, f.rcv_nxt + 100, f.snd_nxt, SYN | A, NULL, 0);
	expect_no_tx(&f.sm);
	sim_run(&f.sm, 500 * MS);
	to_entry(&f, f.rcv_nxt + 100, f.snd_nxt, SYN | A, NULL, 0);
	expect_seg(&f.sm, C, A, 2, 2, 0);
	assert_int_equal(timewaits(&f.sm, C), 1);
	expect_end_at(&f, f.entered + 10 * SEC);
	fx_end(&f);
}

/* The new-incarnation boundary (RFC 1122 4.2.2.13): a SYN at exactly the
 * old RCV.NXT is an old duplicate (challenge ACK, the entry stays); one
 * at RCV.NXT + 1 opens a new connection (TWRecycled). The server is the
 * one in TIME_WAIT here, beside its listener. */
static void test_syn_boundary_at_rcv_nxt(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 704, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C];
	hsk_tuple tu;
	hsk_sock_tuple(c, csd, &tu);
	assert_int_equal(hsk_close(sm.st[S], ssd), 0);
	sim_run(&sm, 2 * MS + 1);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 2 * MS + 1);
	assert_int_equal(timewaits(&sm, S), 1);
	uint32_t c_iss = sim_iss(&sm, C), s_iss = sim_iss(&sm, S);
	uint32_t rcv_nxt = c_iss + 2;
	sim_blackhole(&sm, S, -1, true);
	sim_next_tx(&sm);
	while (sim_next_tx(&sm))
		;
	sim_inject(&sm, S, SIM_ADDR(C), tu.lport, PORT, rcv_nxt, 0, SYN, 65535, NULL, 0);
	const sim_ev *e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, A);
	assert_int_equal(e->ev.seq, s_iss + 2);
	assert_int_equal(e->ev.ack, rcv_nxt);
	assert_null(sim_next_tx(&sm));
	assert_int_equal(timewaits(&sm, S), 1);
	assert_int_equal(sim_counter(&sm, S, "TWRecycled"), 0);
	sim_inject(&sm, S, SIM_ADDR(C), tu.lport, PORT, rcv_nxt + 1, 0, SYN, 65535, NULL, 0);
	e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(e->ev.ack, rcv_nxt + 2);
	assert_int_equal(e->ev.seq, s_iss + 2 + 65535 + 2);
	assert_int_equal(timewaits(&sm, S), 0);
	assert_int_equal(sim_counter(&sm, S, "TWRecycled"), 1);
	sim_blackhole(&sm, S, -1, false);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_run(&sm, 100 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A FIN without the ACK bit (RFC 9293 step five drops what has no ACK;
 * Linux's tcp_timewait_state_process answers it, as any segment with
 * text or FIN, but restarts the timer only for one with ACK): answered
 * with our ACK each time -- the retransmission's sequence number and
 * RCV.NXT alike -- and 2MSL is not restarted, so a peer cannot keep the
 * entry alive with segments that acknowledge nothing. */
static void test_fin_without_ack_no_restart(void **state)
{
	(void)state;
	tw_fx f;
	fx_client_time_wait(&f, 705);
	sim_run(&f.sm, 3 * SEC);
	to_entry(&f, f.rcv_nxt - 1, 0, FIN, NULL, 0);
	expect_seg(&f.sm, C, A, 2, 2, 0);
	to_entry(&f, f.rcv_nxt, 0, FIN, NULL, 0);
	expect_seg(&f.sm, C, A, 2, 2, 0);
	expect_no_tx(&f.sm);
	expect_end_at(&f, f.entered + 10 * SEC);
	fx_end(&f);
}

/* A SYN above RCV.NXT ends the entry for a new connection (RFC 1122
 * 4.2.2.13); with no listener on the port (the client's end) the SYN is
 * then a segment to no connection: RST,ACK <SEQ=0><ACK=SEG.SEQ+1> (RFC
 * 9293 §3.10.7.1), as Linux's TCP_TW_SYN finding no listener. */
static void test_syn_to_entry_without_listener_reset(void **state)
{
	(void)state;
	tw_fx f;
	fx_client_time_wait(&f, 706);
	uint32_t seq = f.rcv_nxt + 1000;
	to_entry(&f, seq, 0, SYN, NULL, 0);
	const sim_ev *e = sim_next_tx(&f.sm);
	assert_non_null(e);
	assert_int_equal(e->host, C);
	assert_int_equal(e->ev.flags, RST | A);
	assert_int_equal(e->ev.seq, 0);
	assert_int_equal(e->ev.ack, seq + 1);
	expect_no_tx(&f.sm);
	assert_int_equal(timewaits(&f.sm, C), 0);
	assert_int_equal(sim_counter(&f.sm, C, "TWRecycled"), 1);
	assert_int_equal(sim_counter(&f.sm, C, "RstSentNoSocket"), 1);
	fx_end(&f);
}

/* The host (S) closes first a connection with timestamps from a played
 * peer (TSval 1000 on); the peer ACKs the FIN and sends its own with
 * TSval 1002: S holds a TIME_WAIT entry, RCV.NXT = 2, TS.Recent 1002. */
static void fx_host_time_wait_ts(sim *sm, sim_peer *p, uint64_t seed)
{
	sim_init(sm, 2, NULL, seed);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.has_ts = true;
	syn.ts_val = 1000;
	sim_peer_accept(sm, p, S, PORT, 9000, &syn);
	assert_int_equal(hsk_close(sm->st[S], p->sd), 0);
	expect_peer_seg(p, FIN | A, 1, 1, 0);
	p->tsval = 1001;
	sim_peer_send(p, 1, 2, A, 65535, NULL, 0);
	p->tsval = 1002;
	sim_peer_send(p, 1, 2, FIN | A, 65535, NULL, 0);
	expect_peer_seg(p, A, 2, 2, 0);
	assert_int_equal(timewaits(sm, S), 1);
}

/* RFC 6191 §2 (and Linux's tcp_timewait_state_process): with timestamps
 * in both incarnations, a SYN with a newer TSval opens a new connection
 * whatever its sequence number -- here the old ISN again, below RCV.NXT
 * (it drew a challenge ACK: only SEG.SEQ > RCV.NXT was looked at). The
 * same SYN with TS.Recent's own TSval is an old duplicate. */
static void test_syn_newer_timestamp_recycles(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	fx_host_time_wait_ts(&sm, &p, 707);
	p.tsval = 1002;                 /* not newer: an old duplicate */
	sim_peer_send(&p, 0, 0, SYN, 65535, NULL, 0);
	expect_peer_seg(&p, A, 2, 2, 0);
	assert_int_equal(timewaits(&sm, S), 1);
	p.tsval = 1003;
	sim_peer_send(&p, 0, 0, SYN, 65535, NULL, 0);
	expect_peer_seg(&p, SYN | A, 2 + 65535 + 2, 1, 0);
	assert_int_equal(timewaits(&sm, S), 0);
	assert_int_equal(sim_counter(&sm, S, "TWRecycled"), 1);
	p.sd = -1;
	sim_peer_finish(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retransmitted_fin),
		cmocka_unit_test(test_fin_at_rcv_nxt),
		cmocka_unit_test(test_bare_ack_silent),
		cmocka_unit_test(test_synack_at_rcv_nxt_challenged),
		cmocka_unit_test(test_syn_boundary_at_rcv_nxt),
		cmocka_unit_test(test_fin_without_ack_no_restart),
		cmocka_unit_test(test_syn_to_entry_without_listener_reset),
		cmocka_unit_test(test_second_entry_traced),
		cmocka_unit_test(test_reap_run_stops_at_not_due),
		cmocka_unit_test(test_syn_newer_timestamp_recycles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
