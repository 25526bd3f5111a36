/*
 * Timestamps at the edges (RFC 7323): TS.Recent is taken only from a
 * segment that is then accepted (§4.3, after the ACK check), PAWS drops an
 * old timestamp with a rate-limited duplicate ACK (§5.3 R1), and a
 * TS.Recent idle for more than 24 days is no longer trusted (§5.5). The
 * peer is played by the test (sim_peer), so every TSval is chosen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

enum { S = 1, PORT = 80 };
#define A HSK_TH_ACK
#define PSH HSK_TH_PSH
#define SYN HSK_TH_SYN
#define DAY (24ull * 3600 * SEC)

/* The host (S) accepts a connection from the peer, which offers
 * timestamps from TSval 1000 on. */
static void open_ts(sim *sm, sim_peer *p, uint64_t seed)
{
	sim_init(sm, 2, NULL, seed);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.has_ts = true;
	syn.ts_val = 1000;
	sim_peer_accept(sm, p, S, PORT, 9000, &syn);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(sm->st[S], p->sd, &ti), 0);
	assert_true(ti.timestamps);
}

static long readable(sim *sm, sim_peer *p)
{
	char buf[64];
	long n = hsk_recv(sm->st[S], p->sd, buf, sizeof(buf));
	return n == -HSK_EAGAIN ? 0 : n;
}

static void close_ts(sim *sm, sim_peer *p)
{
	assert_int_equal(hsk_abort(sm->st[S], p->sd), 0);
	assert_int_equal(hsk_close(sm->st[S], p->lsd), 0);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* One blind segment in the window, with a huge TSval and an ACK of data
 * never sent, is dropped (RFC 5961 §5.2); it must not become TS.Recent, or
 * every later valid segment would fail PAWS. */
static void test_ts_recent_not_from_dropped_segment(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_ts(&sm, &p, 600);
	p.tsval = 1000 + 0x10000000u;
	sim_peer_send(&p, 1, 1 + 100000, A | PSH, 65535, "evil", 4);
	expect_peer_seg(&p, A, 1, 1, 0);                 /* challenge ACK */
	assert_int_equal(sim_counter(&sm, S, "DropBadAck"), 1);
	assert_int_equal(readable(&sm, &p), 0);
	/* The real peer goes on with its own clock. */
	p.tsval = 1001;
	sim_peer_send(&p, 1, 1, A | PSH, 65535, "good", 4);
	assert_int_equal(readable(&sm, &p), 4);
	assert_int_equal(sim_counter(&sm, S, "PAWSEstab"), 0);
	p.tsval = 1002;
	sim_peer_send(&p, 5, 1, A | PSH, 65535, "more", 4);
	assert_int_equal(readable(&sm, &p), 4);
	assert_int_equal(sim_counter(&sm, S, "PAWSEstab"), 0);
	close_ts(&sm, &p);
}

/* Nor from a segment dropped as out of window, or for having no ACK. */
static void test_ts_recent_not_from_unacceptable(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_ts(&sm, &p, 601);
	sim_blackhole(&sm, S, -1, true);
	p.tsval = 1000 + 0x10000000u;
	sim_peer_send(&p, 1, 0, PSH, 65535, "noack", 5);         /* no ACK bit */
	sim_peer_send(&p, 1 + 0x40000000u, 1, A, 65535, NULL, 0); /* out of window */
	p.tsval = 1001;
	sim_peer_send(&p, 1, 1, A | PSH, 65535, "good", 4);
	assert_int_equal(readable(&sm, &p), 4);
	assert_int_equal(sim_counter(&sm, S, "PAWSEstab"), 0);
	close_ts(&sm, &p);
}

/* PAWS: an older TSval is dropped with a duplicate ACK, at most one per
 * 500 ms for segments without text. */
static void test_paws_rejects_and_limits(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_ts(&sm, &p, 602);
	p.tsval = 2000;
	sim_peer_send(&p, 1, 1, A | PSH, 65535, "new", 3);
	assert_int_equal(readable(&sm, &p), 3);
	sim_run(&sm, 100 * MS);             /* the delayed ACK */
	expect_peer_seg(&p, A, 1, 4, 0);
	p.tsval = 1999;
	sim_peer_send(&p, 4, 1, A | PSH, 65535, "old", 3);
	expect_peer_seg(&p, A, 1, 4, 0);
	assert_int_equal(readable(&sm, &p), 0);
	assert_int_equal(sim_counter(&sm, S, "PAWSEstab"), 1);
	sim_run(&sm, 1 * SEC);
	size_t mark = sm.nlog;
	for (int i = 0; i < 1000; i++)
		sim_peer_send(&p, 4, 1, A, 65535, NULL, 0);
	assert_int_equal(sim_count_tx_since(&sm, S, mark), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPACKSkippedPAWS"), 999);
	assert_int_equal(sim_counter(&sm, S, "PAWSEstab"), 1001);
	close_ts(&sm, &p);
}

/* TS.Recent taken from "a" (TSval 50000); 24 days on, a wrapped TSval
 * (10) is still refused (PAWSEstab), 1 ms later taken: RFC 7323 §5.5's
 * aging, to the ms. */
static void paws_ages_at_24_days(sim *sm, sim_peer *p)
{
	p->tsval = 50000;
	sim_peer_send(p, 1, 1, A | PSH, 65535, "a", 1);
	uint64_t taken = sim_now(sm);
	assert_int_equal(readable(sm, p), 1);
	sim_run(sm, 100 * MS);
	expect_peer_seg(p, A, 1, 2, 0);
	/* A wrapped clock after a long silence looks "older". */
	p->tsval = 10;
	sim_run(sm, taken + 24 * DAY - sim_now(sm));
	sim_peer_send(p, 2, 1, A | PSH, 65535, "b", 1);
	assert_int_equal(readable(sm, p), 0);
	assert_int_equal(sim_counter(sm, S, "PAWSEstab"), 1);
	sim_run(sm, 1 * MS);
	sim_peer_send(p, 2, 1, A | PSH, 65535, "b", 1);
	assert_int_equal(readable(sm, p), 1);
	assert_int_equal(sim_counter(sm, S, "PAWSEstab"), 1);
}

/* RFC 7323 §5.5: after more than 24 days without an accepted segment,
 * TS.Recent is not trusted: an older TSval is accepted and becomes
 * TS.Recent. At exactly 24 days it still fails. */
static void test_paws_24_day_aging(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_ts(&sm, &p, 603);
	paws_ages_at_24_days(&sm, &p);
	/* It became TS.Recent: the clock goes on from there. */
	p.tsval = 11;
	sim_peer_send(&p, 3, 1, A | PSH, 65535, "c", 1);
	assert_int_equal(readable(&sm, &p), 1);
	p.tsval = 9;
	sim_peer_send(&p, 4, 1, A | PSH, 65535, "d", 1);
	assert_int_equal(readable(&sm, &p), 0);
	assert_int_equal(sim_counter(&sm, S, "PAWSEstab"), 2);
	close_ts(&sm, &p);
}

/* The same when the driver hands the segment that sets TS.Recent in before
 * it advances the stack: hsk_stack_input alone moves the clock (5 s on
 * here), and the ms TS.Recent's age counts from with it (env_set_now). */
static void test_paws_aging_from_input_clock(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_ts(&sm, &p, 604);
	sim_run(&sm, 100 * MS);
	/* The network's clock moves on, no stack is advanced to it. */
	assert_false(memnet_step(sm.net, sim_now(&sm) + 5 * SEC + 7 * MS));
	paws_ages_at_24_days(&sm, &p);
	close_ts(&sm, &p);
}

/* The TSval of the data segment the host sent last. */
static uint32_t last_tsval(sim *sm)
{
	for (size_t i = sm->nlog; i-- > 0;) {
		const hsk_trace_event *ev = &sm->log[i].ev;
		if (sm->log[i].host == S && ev->kind == HSK_EV_TX && ev->len) {
			assert_true(ev->has_ts);
			return ev->ts_val;
		}
	}
	fail_msg("no data segment sent");
	return 0;
}

/* An ACK of new data whose TSecr is older than the flight it acknowledges
 * echoes no segment of it: no RTT sample (a forged 2^31-tick echo would
 * put the RTO at its 120 s cap). An echo of the flight's first TSval is a
 * sample. */
static void test_rtt_not_from_absurd_tsecr(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_ts(&sm, &p, 601);
	hsk_stack *h = sm.st[S];
	hsk_tcp_info before, ti;
	assert_int_equal(hsk_sock_info(h, p.sd, &before), 0);

	assert_int_equal(hsk_send(h, p.sd, "abcd", 4), 4);
	uint32_t v = last_tsval(&sm);
	sim_run(&sm, 500 * MS);
	p.tsval = 1001;
	p.ts_ecr = v - 0x7fffff00u;
	sim_peer_send(&p, 1, 5, A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_info(h, p.sd, &ti), 0);
	assert_true(ti.rto_ns <= 3 * SEC);
	assert_int_equal(ti.srtt_ns, before.srtt_ns);

	/* One tick before the flight began: still no sample. */
	assert_int_equal(hsk_send(h, p.sd, "efgh", 4), 4);
	v = last_tsval(&sm);
	sim_run(&sm, 500 * MS);
	p.tsval = 1002;
	p.ts_ecr = v - 1;
	sim_peer_send(&p, 1, 9, A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_info(h, p.sd, &ti), 0);
	assert_int_equal(ti.srtt_ns, before.srtt_ns);

	/* The flight's own TSval: a 500 ms sample. */
	assert_int_equal(hsk_send(h, p.sd, "ijkl", 4), 4);
	v = last_tsval(&sm);
	sim_run(&sm, 500 * MS);
	p.tsval = 1003;
	p.ts_ecr = v;
	sim_peer_send(&p, 1, 13, A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_info(h, p.sd, &ti), 0);
	assert_true(ti.srtt_ns != before.srtt_ns);
	close_ts(&sm, &p);
}

/* Two segments sent in order, reordered on the way: the later one arrives
 * first, beyond RCV.NXT, and its TSval is not taken (RFC 7323 §4.3: only
 * from SEG.SEQ <= Last.ACK.sent), so the earlier one, with the older
 * TSval, still passes PAWS and fills the hole. */
static void test_reordered_segments_pass_paws(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_ts(&sm, &p, 605);
	p.tsval = 1002;
	sim_peer_send(&p, 5, 1, A | PSH, 65535, "5678", 4);
	assert_int_equal(readable(&sm, &p), 0);
	p.tsval = 1001;
	sim_peer_send(&p, 1, 1, A | PSH, 65535, "1234", 4);
	assert_int_equal(readable(&sm, &p), 8);
	assert_int_equal(sim_counter(&sm, S, "PAWSEstab"), 0);
	close_ts(&sm, &p);
}

/* PAWS drops segments it would ACK; an RST is exempt (RFC 7323 §5.3 R1
 * and Linux's "Reset is accepted even if it did not pass PAWS"): one at
 * RCV.NXT with an old TSval still resets. */
static void test_paws_spares_rst(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_ts(&sm, &p, 606);
	p.tsval = 2000;
	sim_peer_send(&p, 1, 1, A | PSH, 65535, "new", 3);
	assert_int_equal(readable(&sm, &p), 3);
	p.tsval = 1500;
	sim_peer_send(&p, 4, 0, HSK_TH_RST, 0, NULL, 0);
	assert_int_equal(hsk_sock_state(sm.st[S], p.sd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(sm.st[S], p.sd), HSK_ECONNRESET);
	assert_int_equal(sim_counter(&sm, S, "EstabResets"), 1);
	assert_int_equal(sim_counter(&sm, S, "PAWSEstab"), 0);
	assert_int_equal(hsk_close(sm.st[S], p.sd), 0);
	assert_int_equal(hsk_close(sm.st[S], p.lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A segment without the option on a connection with timestamps (here
 * data in order, which header prediction must leave to the steps, then
 * the peer's FIN) is taken (paws_check has nothing to compare), but
 * TS.Recent stays the last TSval (ts_update): the ACK of the FIN echoes
 * it. The peer's clock first goes a long way (in steps PAWS takes), so
 * that the missing option's zero would not look old. */
static void test_ts_recent_kept_without_option(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	open_ts(&sm, &p, 607);
	for (uint32_t i = 1; i <= 3; i++) {
		p.tsval = i * 0x40000000u;
		sim_peer_send(&p, i, 1, A | PSH, 65535, "x", 1);
		assert_int_equal(readable(&sm, &p), 1);
	}
	p.ts = false;
	sim_peer_send(&p, 4, 1, A | PSH, 65535, "y", 1);       /* in order: header prediction's */
	assert_int_equal(readable(&sm, &p), 1);
	sm.tx_cursor = sm.nlog;
	sim_peer_send(&p, 5, 1, A | HSK_TH_FIN, 65535, NULL, 0);
	const sim_ev *e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, A);
	assert_int_equal(e->ev.ack, p.iss + 6);
	assert_true(e->ev.has_ts);
	assert_int_equal(e->ev.ts_ecr, 0xc0000000u);
	assert_int_equal(hsk_sock_state(sm.st[S], p.sd), HSK_CLOSE_WAIT);
	close_ts(&sm, &p);
}

/* The host's connect, its SYN unseen by S (blackholed), answered by a
 * SYN,ACK the test makes with TSecr syn_tsval + delta, or 0 when echo0.
 * Returns the socket's state after it; *rst says whether a reset went. */
static int synack_echo_cfg(const hsk_config *cfg, uint64_t seed, int64_t delta, bool echo0,
			   bool *rst)
{
	enum { H = 0, CPORT = 41000 };
	sim sm;
	sim_init(&sm, 2, cfg, seed);
	hsk_stack *h = sm.st[H];
	sim_blackhole(&sm, H, -1, true);
	int sd = sim_socket(&sm, H);
	assert_int_equal(sim_bind_any(&sm, H, sd, CPORT), 0);
	sim_connect_to(&sm, H, sd, S, PORT);
	sim_run(&sm, 200 * MS);                 /* the TS clock moves on */
	const sim_ev *e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, SYN);
	assert_int_equal(e->ev.has_ts, !cfg || cfg->timestamps);
	tcp_opts o;
	tcp_opts_init(&o);
	o.mss = 1460;
	o.has_ts = true;
	o.ts_val = 5000;
	o.ts_ecr = echo0 ? 0 : e->ev.ts_val + (uint32_t)delta;
	sm.tx_cursor = sm.nlog;
	sim_inject_opts(&sm, H, SIM_ADDR(S), PORT, CPORT, 7000, e->ev.seq + 1, SYN | A, 65535,
			&o, NULL, 0);
	e = sim_next_tx(&sm);
	*rst = e && (e->ev.flags & HSK_TH_RST);
	int state = hsk_sock_state(h, sd);
	assert_int_equal(sim_counter(&sm, H, "PAWSActive"), *rst);
	hsk_abort(h, sd);
	sim_run_idle(&sm, 600 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
	return state;
}

static int synack_echo(uint64_t seed, int64_t delta, bool echo0, bool *rst)
{
	return synack_echo_cfg(NULL, seed, delta, echo0, rst);
}

/* In SYN_SENT a SYN,ACK that echoes a timestamp must echo one of this
 * connection's SYNs: from the first SYN's TSval to now (Linux's
 * PAWSActive). One echoing another TSval answers the SYN of an earlier
 * incarnation of the tuple (closed in SYN_SENT, made again with the same
 * ISS: test_tfo's test_old_incarnation_synack_refused): reset, the
 * connection stays. An echo of 0 is taken, as on Linux, and so is any
 * echo when this host sends no timestamps. */
static void test_synsent_echo_checked(void **state)
{
	(void)state;
	bool rst;
	assert_int_equal(synack_echo(611, 0, false, &rst), HSK_ESTABLISHED);
	assert_false(rst);
	assert_int_equal(synack_echo(612, 150, false, &rst), HSK_ESTABLISHED);
	assert_false(rst);                      /* sent at most 200 ms ago */
	assert_int_equal(synack_echo(613, 0, true, &rst), HSK_ESTABLISHED);
	assert_false(rst);
	assert_int_equal(synack_echo(614, -1, false, &rst), HSK_SYN_SENT);
	assert_true(rst);                       /* before the first SYN */
	assert_int_equal(synack_echo(615, 100000, false, &rst), HSK_SYN_SENT);
	assert_true(rst);                       /* from the future */
	/* Timestamps off here: a peer's echo is no echo of ours (its option
	 * is not taken, as on Linux), so any TSecr passes. */
	hsk_config nots;
	hsk_config_default(&nots);
	nots.timestamps = false;
	assert_int_equal(synack_echo_cfg(&nots, 616, 100000, false, &rst), HSK_ESTABLISHED);
	assert_false(rst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ts_recent_not_from_dropped_segment),
		cmocka_unit_test(test_ts_recent_not_from_unacceptable),
		cmocka_unit_test(test_paws_rejects_and_limits),
		cmocka_unit_test(test_paws_24_day_aging),
		cmocka_unit_test(test_paws_aging_from_input_clock),
		cmocka_unit_test(test_reordered_segments_pass_paws),
		cmocka_unit_test(test_paws_spares_rst),
		cmocka_unit_test(test_rtt_not_from_absurd_tsecr),
		cmocka_unit_test(test_ts_recent_kept_without_option),
		cmocka_unit_test(test_synsent_echo_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
