/*
 * Buffer autotuning (src/tcp/tune.c, docs/bytestream.md): over a long
 * path a bulk transfer between two handshake stacks with default settings
 * goes well past the 256 KiB-per-RTT cap of the default buffers, because
 * the receive buffer follows what the application reads and the send
 * buffer the congestion window; neither grows when the application set
 * SO_RCVBUF / SO_SNDBUF, when it does not read, or under memory pressure.
 * Every transfer checks each byte and ends with no leak. Both families
 * (HSK_SIM_FAMILY=6 runs it over IPv6).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "stack/stack.h"

enum { C = 0, S = 1, PORT = 5201 };
#define K 1024u

static uint8_t pattern(uint64_t k)
{
	return (uint8_t)(k * 131 + (k >> 13) + 7);
}

typedef struct run_spec {
	uint64_t delay_ns;        /* one way */
	uint64_t rate_bps;
	double loss;              /* each way */
	size_t total;             /* bytes the client sends */
	uint64_t limit_ns;        /* simulated time at most */
	bool no_read;             /* the server reads nothing until limit_ns */
	int lock_rcv;             /* SO_RCVBUF on the listener (0: none) */
	int lock_snd;             /* SO_SNDBUF on the client's socket (0: none) */
	const hsk_config *ccfg, *scfg; /* NULL: defaults */
} run_spec;

typedef struct run_out {
	double mbps;              /* payload goodput over the transfer */
	size_t got;
	uint32_t max_win;         /* largest window the server offered */
	uint64_t big_at;          /* when it first offered more than 1 MiB,
				   * after the transfer began (0: never) */
	int syn_ws, synack_ws;    /* window scales the handshake carried */
	int c_sndbuf, s_rcvbuf;   /* SO_SNDBUF, SO_RCVBUF read back at the end */
	uint64_t rcv_grows, snd_grows;
} run_out;

static void run(const run_spec *rs, run_out *ro)
{
	const hsk_config *cfgs[] = { rs->ccfg, rs->scfg };
	sim sm;
	sim_init_hosts(&sm, 2, cfgs, 4242);
	memnet_impair imp = { .delay_ns = rs->delay_ns, .rate_bps = rs->rate_bps,
			      .loss = rs->loss };
	memnet_set_impair(sm.net, C, &imp);
	memnet_set_impair(sm.net, S, &imp);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_socket(&sm, S);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	if (rs->lock_rcv)
		assert_int_equal(hsk_setsockopt(s, lsd, HSK_SO_RCVBUF, rs->lock_rcv), 0);
	assert_int_equal(hsk_listen(s, lsd, 4), 0);
	int csd = sim_socket(&sm, C);
	if (rs->lock_snd)
		assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_SNDBUF, rs->lock_snd), 0);
	assert_int_equal(sim_connect_to(&sm, C, csd, S, PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 4 * rs->delay_ns + 10 * MS);
	int ssd = sim_accept(&sm, S, lsd);

	static uint8_t buf[65536];
	size_t sent = 0, got = 0;
	uint64_t t0 = sim_now(&sm), end = t0 + rs->limit_ns;
	while (got < rs->total && sim_now(&sm) < end) {
		long n;
		while (sent < rs->total) {
			size_t want = rs->total - sent < sizeof(buf) ? rs->total - sent : sizeof(buf);
			for (size_t i = 0; i < want; i++)
				buf[i] = pattern(sent + i);
			if ((n = hsk_send(c, csd, buf, want)) <= 0)
				break;
			sent += (size_t)n;
		}
		while (!rs->no_read && (n = hsk_recv(s, ssd, buf, sizeof(buf))) > 0) {
			for (long i = 0; i < n; i++)
				if (buf[i] != pattern(got + (size_t)i))
					fail_msg("byte %zu wrong", got + (size_t)i);
			got += (size_t)n;
		}
		if (!memnet_step(sm.net, end))
			break;
		hsk_stack_advance(c, sim_now(&sm));
		hsk_stack_advance(s, sim_now(&sm));
	}
	sim_sync_clocks(&sm);
	ro->mbps = (double)got * 8 / ((double)(sim_now(&sm) - t0) / 1e9) / 1e6;
	ro->got = got;
	ro->max_win = 0;
	ro->big_at = 0;
	ro->syn_ws = ro->synack_ws = -2;
	for (size_t i = 0; i < sm.nlog; i++) {
		const hsk_trace_event *ev = &sm.log[i].ev;
		if (ev->kind != HSK_EV_TX)
			continue;
		if (ev->flags == HSK_TH_SYN && sm.log[i].host == C)
			ro->syn_ws = ev->wscale;
		if (ev->flags == (HSK_TH_SYN | HSK_TH_ACK) && sm.log[i].host == S)
			ro->synack_ws = ev->wscale;
		if (sm.log[i].host == S && !(ev->flags & HSK_TH_SYN) && ro->synack_ws >= 0) {
			uint32_t w = ev->win << ro->synack_ws;
			if (w > ro->max_win)
				ro->max_win = w;
			if (w > 1024 * K && !ro->big_at)
				ro->big_at = ev->t_ns - t0;
		}
	}
	assert_int_equal(hsk_getsockopt(c, csd, HSK_SO_SNDBUF, &ro->c_sndbuf), 0);
	assert_int_equal(hsk_getsockopt(s, ssd, HSK_SO_RCVBUF, &ro->s_rcvbuf), 0);
	ro->rcv_grows = sim_counter(&sm, S, "TCPRcvBufAutoGrow");
	ro->snd_grows = sim_counter(&sm, C, "TCPSndBufAutoGrow");
	/* What was not read yet arrives whole, in order. */
	long n;
	while (got < sent) {
		while ((n = hsk_recv(s, ssd, buf, sizeof(buf))) > 0) {
			for (long i = 0; i < n; i++)
				if (buf[i] != pattern(got + (size_t)i))
					fail_msg("byte %zu wrong", got + (size_t)i);
			got += (size_t)n;
		}
		if (got < sent)
			sim_run(&sm, 10 * MS);
	}
	assert_int_equal(got, sent);
	hsk_close(c, csd);
	sim_run(&sm, 1 * SEC);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 0);      /* EOF, nothing more */
	hsk_close(s, ssd);
	hsk_close(s, lsd);
	sim_run_idle(&sm, 600 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* 100 ms RTT, 200 Mbit/s (a 2.5 MB bandwidth-delay product): with the
 * default 256 KiB buffers the transfer is capped at 256 KiB per RTT,
 * 21 Mbit/s; autotuning grows both buffers and it goes past 60. The SYN
 * offers the window scale of rcvbuf_max (6 MiB: 7), so that the growth
 * can be advertised. */
static void test_long_rtt_bulk_grows(void **state)
{
	(void)state;
	/* (at 200 ms the receiver idles longer than its extension's 40 ms
	 * between the first windows: the count must outlive that) */
	for (int ms = 100; ms <= 200; ms += 100) {
		run_spec rs = { .delay_ns = (uint64_t)ms / 2 * MS, .rate_bps = 200000000ull,
				.total = 32u << 20, .limit_ns = 60 * SEC };
		run_out ro;
		run(&rs, &ro);
		double cap = 256.0 * 1024 * 8 / (ms / 1000.0) / 1e6;
		fprintf(stderr, "autotune: %.1f Mbit/s over a %d ms RTT (the default buffers' "
			"cap is %.1f); window up to %u KiB, SO_RCVBUF %d, SO_SNDBUF %d, "
			"%llu + %llu growths; > 1 MiB offered after %.2f s\n", ro.mbps, ms, cap,
			ro.max_win / K, ro.s_rcvbuf,
			ro.c_sndbuf, (unsigned long long)ro.rcv_grows,
			(unsigned long long)ro.snd_grows, (double)ro.big_at / 1e9);
		assert_int_equal(ro.got, rs.total);
		assert_int_equal(ro.syn_ws, 7);
		assert_int_equal(ro.synack_ws, 7);
		assert_true(ro.mbps > 3 * cap);
		assert_true(ro.max_win > 1024 * K);
		/* promptly: within 5 RTTs (3.5 here), as the sender's slow
		 * start doubles per RTT */
		assert_true(ro.big_at && ro.big_at <= 5 * (uint64_t)ms * MS);
		assert_true(ro.s_rcvbuf > 2 * 256 * (int)K && ro.c_sndbuf > 2 * 256 * (int)K);
		assert_true(ro.rcv_grows > 0 && ro.snd_grows > 0);
	}
}

/* Without timestamps the receiver's RTT is the time a window's worth
 * takes to arrive (the least seen): the buffers grow as well. */
static void test_no_timestamps_grows(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.timestamps = false;
	run_spec rs = { .delay_ns = 50 * MS, .rate_bps = 200000000ull, .total = 32u << 20,
			.limit_ns = 60 * SEC, .ccfg = &cfg, .scfg = &cfg };
	run_out ro;
	run(&rs, &ro);
	fprintf(stderr, "no timestamps: %.1f Mbit/s over a 100 ms RTT; window up to %u KiB; "
		"> 1 MiB offered after %.2f s\n", ro.mbps, ro.max_win / K,
		(double)ro.big_at / 1e9);
	assert_int_equal(ro.got, rs.total);
	assert_true(ro.mbps > 60.0);
	assert_true(ro.rcv_grows > 0 && ro.snd_grows > 0);
	/* (later than with timestamps, 5.5 RTTs: the first sample waits
	 * for a window's worth, which slow start takes RTTs to send) */
	assert_true(ro.big_at && ro.big_at <= 8 * 100 * MS);
}

/* The same with 0.5 % loss each way: the stream stays exact (growth
 * waits for the holes to fill before the ring moves) and buffers grow. */
static void test_lossy_bulk_exact(void **state)
{
	(void)state;
	run_spec rs = { .delay_ns = 20 * MS, .rate_bps = 200000000ull, .loss = 0.005,
			.total = 16u << 20, .limit_ns = 120 * SEC };
	run_out ro;
	run(&rs, &ro);
	fprintf(stderr, "autotune with loss: %.1f Mbit/s, SO_RCVBUF %d, SO_SNDBUF %d\n",
		ro.mbps, ro.s_rcvbuf, ro.c_sndbuf);
	assert_int_equal(ro.got, rs.total);
	assert_true(ro.rcv_grows > 0);
}

/* SO_RCVBUF on the listener (inherited) and SO_SNDBUF on the client's
 * socket before connect: neither buffer grows, and the SYN-ACK's window
 * scale is the set buffer's (256 KiB: 3). */
static void test_locked_buffers_stay(void **state)
{
	(void)state;
	run_spec rs = { .delay_ns = 50 * MS, .rate_bps = 200000000ull, .total = 8u << 20,
			.limit_ns = 60 * SEC, .lock_rcv = 256 * K, .lock_snd = 256 * K };
	run_out ro;
	run(&rs, &ro);
	fprintf(stderr, "locked: %.1f Mbit/s, window up to %u KiB\n", ro.mbps, ro.max_win / K);
	assert_int_equal(ro.got, rs.total);
	assert_int_equal(ro.syn_ws, 7);         /* the client's receive side is free */
	assert_int_equal(ro.synack_ws, 3);
	assert_int_equal(ro.s_rcvbuf, 2 * 256 * K);
	assert_int_equal(ro.c_sndbuf, 2 * 256 * K);
	assert_int_equal(ro.rcv_grows, 0);
	assert_int_equal(ro.snd_grows, 0);
	assert_true(ro.max_win <= 256 * K);
	assert_true(ro.mbps < 25.0);
}

/* A server that reads nothing for 10 s: its buffer does not grow (growth
 * follows consumption), nor does the client's send buffer (the peer's
 * window holds its bytes back, not the buffer: a peer that never reads
 * must not make us hold more); then it reads everything, intact. */
static void test_not_reading_no_growth(void **state)
{
	(void)state;
	run_spec rs = { .delay_ns = 5 * MS, .rate_bps = 200000000ull, .total = 4u << 20,
			.limit_ns = 10 * SEC, .no_read = true };
	run_out ro;
	run(&rs, &ro);
	assert_int_equal(ro.got, 0);
	assert_int_equal(ro.s_rcvbuf, 2 * 256 * K);
	assert_int_equal(ro.rcv_grows, 0);
	assert_true(ro.max_win <= 256 * K);
	assert_int_equal(ro.c_sndbuf, 2 * 256 * K);
	assert_int_equal(ro.snd_grows, 0);
}

/* Under memory pressure nothing grows: the server's tcp_mem puts it under
 * pressure at its first ring (and keeps it there: tcp_mem_low 0), with
 * rcvbuf_min 128 KiB so that it reads more per RTT than a count's start.
 * And a send buffer does not grow above tcp_mem_low (as Linux's
 * tcp_should_expand_sndbuf): a client with tcp_mem_low 64 KiB sends over
 * the long path to a server whose window grows. */
static void test_pressure_no_growth(void **state)
{
	(void)state;
	hsk_config scfg;
	hsk_config_default(&scfg);
	scfg.tcp_mem_low = 0;
	scfg.tcp_mem_pressure = 1;
	scfg.rcvbuf_min = 128 * K;
	run_spec rs = { .delay_ns = 10 * MS, .rate_bps = 200000000ull, .total = 8u << 20,
			.limit_ns = 60 * SEC, .scfg = &scfg };
	run_out ro;
	run(&rs, &ro);
	fprintf(stderr, "pressure: %.1f Mbit/s, window up to %u KiB\n", ro.mbps, ro.max_win / K);
	assert_int_equal(ro.got, rs.total);
	assert_int_equal(ro.s_rcvbuf, 2 * 256 * K);
	assert_int_equal(ro.rcv_grows, 0);
	assert_true(ro.max_win <= 128 * K);

	hsk_config ccfg;
	hsk_config_default(&ccfg);
	ccfg.tcp_mem_low = 64 * K;
	run_spec rs2 = { .delay_ns = 50 * MS, .rate_bps = 200000000ull, .total = 8u << 20,
			 .limit_ns = 60 * SEC, .ccfg = &ccfg };
	run(&rs2, &ro);
	fprintf(stderr, "above tcp_mem_low: %.1f Mbit/s, window up to %u KiB\n", ro.mbps,
		ro.max_win / K);
	assert_int_equal(ro.got, rs2.total);
	assert_int_equal(ro.c_sndbuf, 2 * 256 * K);
	assert_int_equal(ro.snd_grows, 0);
	assert_true(ro.rcv_grows > 0);
}

/* Many receivers go idle together, their counts still live: each
 * gives its active extension back once its count lapses, also those
 * pushed off the kept list's 64 (an idle connection has no event of its
 * own that would give it back later; DESIGN.md's idle connection holds
 * only its TCB). */
static void test_idle_receivers_give_back(void **state)
{
	(void)state;
	enum { N = 100, SEGS = 8 };
	sim sm;
	sim_init(&sm, 2, NULL, 4343);
	memnet_impair imp = { .delay_ns = 10 * MS };
	memnet_set_impair(sm.net, C, &imp);
	memnet_set_impair(sm.net, S, &imp);
	int lsd = sim_listen(&sm, S, PORT, N);
	int csd[N], ssd[N];
	for (int i = 0; i < N; i++)
		csd[i] = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 100 * MS);
	for (int i = 0; i < N; i++)
		ssd[i] = sim_accept(&sm, S, lsd);
	static uint8_t buf[SEGS * 1460];
	memset(buf, 'r', sizeof(buf));
	for (int i = 0; i < N; i++)
		assert_int_equal(hsk_send(sm.st[C], csd[i], buf, sizeof(buf)), (long)sizeof(buf));
	size_t got = 0;
	for (int step = 0; step < 400 && got < N * sizeof(buf); step++) {
		sim_run(&sm, 1 * MS);
		for (int i = 0; i < N; i++) {
			long n;
			while ((n = hsk_recv(sm.st[S], ssd[i], buf, sizeof(buf))) > 0)
				got += (size_t)n;
		}
	}
	assert_int_equal(got, N * sizeof(buf));
	sim_run(&sm, 3 * SEC);
	int held = 0;
	for (int i = 0; i < N; i++)
		held += sock_get(sm.st[S], ssd[i])->t->act != NULL;
	assert_int_equal(held, 0);
	for (int i = 0; i < N; i++) {
		hsk_close(sm.st[C], csd[i]);
		hsk_close(sm.st[S], ssd[i]);
	}
	hsk_close(sm.st[S], lsd);
	sim_run_idle(&sm, 600 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

int main(void)
{
	if (sim_env_ipv6())
		fprintf(stderr, "(IPv6)\n");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_rtt_bulk_grows),
		cmocka_unit_test(test_no_timestamps_grows),
		cmocka_unit_test(test_lossy_bulk_exact),
		cmocka_unit_test(test_locked_buffers_stay),
		cmocka_unit_test(test_not_reading_no_growth),
		cmocka_unit_test(test_pressure_no_growth),
		cmocka_unit_test(test_idle_receivers_give_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
