/*
 * Pacing (src/tcp/pace.c, HSK_SO_MAX_PACING_RATE): a socket that sets the
 * option sends at most that many bytes a second, each segment
 * len / rate after the one before (not in bursts), whether set before
 * connect, on a listener (its connections inherit it) or on a
 * connection; -1 paces at the rate the window and RTT give, which
 * spreads a window over the round trip; 0 turns it off and what it held
 * goes at once. hsk_config.pacing_rate paces every connection of a stack
 * the same way, without the option (which overrides it), and an idle
 * connection paced so gives its extension back. Every transfer checks
 * each byte and ends with no leak. Both families (HSK_SIM_FAMILY=6 runs
 * it over IPv6).
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

static uint8_t pattern(uint64_t k)
{
	return (uint8_t)(k * 131 + (k >> 13) + 7);
}

typedef struct spec {
	uint64_t delay_ns;        /* one way */
	uint64_t rate_bps;        /* the link's, 0: infinite */
	double loss;              /* each way */
	size_t queue;             /* the link's queue, packets (0: unbounded) */
	bool plain;               /* both ends without SACK and timestamps */
	size_t total;             /* bytes the sender sends */
	int pacing;               /* HSK_SO_MAX_PACING_RATE, 0: not set */
	bool set_zero;            /* set it though 0 (over stack_pacing) */
	int stack_pacing;         /* both stacks' hsk_config.pacing_rate */
	bool on_listener;         /* set on the listener, the server sends;
				   * else on the client before connect, the
				   * client sends */
	uint64_t off_at;          /* set 0 on the connection this long after
				   * the transfer began (0: never) */
	size_t chunk;             /* with every: a write of chunk bytes */
	uint64_t every;           /* each `every` ns, TCP_NODELAY set (0: as
				   * much as the buffer takes, at once) */
} spec;

typedef struct result {
	uint64_t first_tx, last_tx;     /* the sender's first and last data */
	uint64_t bytes_after_first;     /* data sent after the first segment */
	uint64_t min_gap;               /* least time between two data segments */
	unsigned max_per_ms;            /* most data segments in one ms */
	uint64_t done_ns;               /* the transfer's time, all read */
	uint64_t probes, rtx;           /* the sender's TCPWinProbe, RetransSegs */
	uint64_t off_wait;              /* from the option's 0 to the next data, + 1
					 * (0: none after it) */
	unsigned max_backoff;           /* the sender's RTO doublings at most */
} result;

/* The sender's (host tx's) data segments and congestion events in the
 * log from `from` on into r (all but done_ns, probes and rtx); bursts
 * counted from `settle` after the first segment on (the initial window
 * has no RTT to be paced by); off_t: when pacing was turned off (0:
 * never). */
static void analyse(const sim *sm, size_t from, int tx, uint64_t settle, uint64_t off_t,
		    result *r)
{
	uint64_t prev = 0, ms_start = 0;
	unsigned in_ms = 0;

	memset(r, 0, offsetof(result, done_ns));
	r->off_wait = 0;
	r->max_backoff = 0;
	r->min_gap = UINT64_MAX;
	for (size_t i = from; i < sm->nlog; i++) {
		const hsk_trace_event *ev = &sm->log[i].ev;
		if (sm->log[i].host != tx)
			continue;
		if (ev->kind == HSK_EV_CC && ev->backoff > r->max_backoff)
			r->max_backoff = ev->backoff;
		if (ev->kind != HSK_EV_TX || !ev->len)
			continue;
		if (!r->first_tx) {
			r->first_tx = ev->t_ns;
		} else {
			r->bytes_after_first += ev->len;
			if (ev->t_ns - prev < r->min_gap)
				r->min_gap = ev->t_ns - prev;
		}
		if (ev->t_ns >= r->first_tx + settle) {
			if (!in_ms || ev->t_ns - ms_start >= MS) {
				ms_start = ev->t_ns;
				in_ms = 0;
			}
			if (++in_ms > r->max_per_ms)
				r->max_per_ms = in_ms;
		}
		prev = r->last_tx = ev->t_ns;
		if (off_t && ev->t_ns >= off_t && !r->off_wait)
			r->off_wait = ev->t_ns - off_t + 1;
	}
}

static void transfer(const spec *sp, result *r)
{
	sim sm;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sack = cfg.timestamps = !sp->plain;
	cfg.pacing_rate = sp->stack_pacing;
	bool set = sp->pacing || sp->set_zero;
	int pacing = set ? sp->pacing : sp->stack_pacing;       /* in force */
	sim_init(&sm, 2, &cfg, 99);
	memnet_impair imp = { .delay_ns = sp->delay_ns, .rate_bps = sp->rate_bps,
			      .loss = sp->loss, .queue_limit = sp->queue };
	memnet_set_impair(sm.net, C, &imp);
	memnet_set_impair(sm.net, S, &imp);
	int tx = sp->on_listener ? S : C, rx = sp->on_listener ? C : S;
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_socket(&sm, S), v = 7;
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	if (set && sp->on_listener)
		assert_int_equal(hsk_setsockopt(s, lsd, HSK_SO_MAX_PACING_RATE, sp->pacing), 0);
	assert_int_equal(hsk_listen(s, lsd, 4), 0);
	int csd = sim_socket(&sm, C);
	if (set && !sp->on_listener)
		assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_MAX_PACING_RATE, sp->pacing), 0);
	assert_int_equal(sim_connect_to(&sm, C, csd, S, PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 4 * sp->delay_ns + 10 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	int tsd = tx == C ? csd : ssd, rsd = tx == C ? ssd : csd;
	hsk_stack *ts = sm.st[tx], *rs = sm.st[rx];
	assert_int_equal(hsk_getsockopt(ts, tsd, HSK_SO_MAX_PACING_RATE, &v), 0);
	assert_int_equal(v, pacing);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(ts, tsd, &ti), 0);
	/* (an RTT sample from the handshake: the window's rate, capped) */
	if (pacing > 0)
		assert_true(ti.pacing_rate <= (uint64_t)pacing && ti.pacing_rate > 0);
	else if (pacing < 0)
		assert_true(ti.pacing_rate > 0 && ti.pacing_rate < UINT64_MAX);
	else
		assert_int_equal(ti.pacing_rate, 0);

	static uint8_t buf[65536];
	size_t sent = 0, got = 0;
	size_t from = sm.nlog;
	uint64_t t0 = sim_now(&sm), end = t0 + 600 * SEC, next_write = t0, off_t = 0;
	if (sp->every)
		assert_int_equal(hsk_setsockopt(ts, tsd, HSK_SO_NODELAY, 1), 0);
	while (got < sp->total && sim_now(&sm) < end) {
		long n;
		if (sp->every && sent < sp->total && sim_now(&sm) >= next_write) {
			size_t want = sp->total - sent < sp->chunk ? sp->total - sent : sp->chunk;
			for (size_t i = 0; i < want; i++)
				buf[i] = pattern(sent + i);
			n = hsk_send(ts, tsd, buf, want);
			if (n > 0)      /* (the buffer fills when paced) */
				sent += (size_t)n;
			next_write += sp->every;
		}
		while (!sp->every && sent < sp->total) {
			size_t want = sp->total - sent < sizeof(buf) ? sp->total - sent : sizeof(buf);
			for (size_t i = 0; i < want; i++)
				buf[i] = pattern(sent + i);
			if ((n = hsk_send(ts, tsd, buf, want)) <= 0)
				break;
			sent += (size_t)n;
		}
		while ((n = hsk_recv(rs, rsd, buf, sizeof(buf))) > 0) {
			for (long i = 0; i < n; i++)
				if (buf[i] != pattern(got + (size_t)i))
					fail_msg("byte %zu wrong", got + (size_t)i);
			got += (size_t)n;
		}
		if (sp->off_at && !off_t && sim_now(&sm) - t0 >= sp->off_at) {
			off_t = sim_now(&sm);
			assert_int_equal(hsk_setsockopt(ts, tsd, HSK_SO_MAX_PACING_RATE, 0), 0);
		}
		/* (the clock stops at the next write and at the option's 0) */
		uint64_t limit = sp->every && sent < sp->total && next_write < end ? next_write : end;
		if (sp->off_at && !off_t && t0 + sp->off_at < limit)
			limit = t0 + sp->off_at;
		if (!memnet_step(sm.net, limit) && limit == end)
			break;
		hsk_stack_advance(c, sim_now(&sm));
		hsk_stack_advance(s, sim_now(&sm));
	}
	assert_int_equal(got, sp->total);
	r->done_ns = sim_now(&sm) - t0;

	analyse(&sm, from, tx, 3 * sp->delay_ns, off_t, r);
	r->probes = sim_counter(&sm, tx, "TCPWinProbe");
	r->rtx = sim_counter(&sm, tx, "RetransSegs");

	hsk_close(ts, tsd);
	sim_run(&sm, 1 * SEC);
	assert_int_equal(hsk_recv(rs, rsd, buf, sizeof(buf)), 0);     /* EOF */
	hsk_close(rs, rsd);
	hsk_close(s, lsd);
	sim_run_idle(&sm, 600 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Bytes a second from the first data segment to the last. */
static double rate_of(const result *r)
{
	return (double)r->bytes_after_first / ((double)(r->last_tx - r->first_tx) / 1e9);
}

/* A cap far under the link's: the sender keeps to it, one segment at a
 * time, and nothing else notices. At 200 kB/s a segment is due every
 * ~7 ms, within the 20 ms round trip; at 20 kB/s every ~70 ms and at
 * 4 kB/s every ~350 ms, longer than the retransmission timeout, so the
 * sender waits with nothing in flight, which is not a closed window (no
 * zero-window probes). */
static void cap_holds(bool on_listener, bool by_stack)
{
	static const int caps[] = { 200000, 20000, 4000 };
	for (unsigned i = 0; i < 3; i++) {
		spec sp = { .delay_ns = 10 * MS, .rate_bps = 100000000ull,
			    .total = caps[i] * 5u, .pacing = by_stack ? 0 : caps[i],
			    .stack_pacing = by_stack ? caps[i] : 0,
			    .on_listener = on_listener };
		result r;
		transfer(&sp, &r);
		double rate = rate_of(&r);
		uint64_t gap = 1400 * SEC / (uint64_t)caps[i];   /* (segments: 1428 or more) */
		if (rate > caps[i] * 1.02 || rate < caps[i] * 0.9)
			fail_msg("cap %d: %.0f bytes/s", caps[i], rate);
		/* one at a time: at least half a segment's time apart (a
		 * late timer is credited up to half) */
		if (r.min_gap < gap / 2)
			fail_msg("cap %d: two segments %llu ns apart", caps[i],
				 (unsigned long long)r.min_gap);
		/* not a closed window: no probe, no timer's backoff */
		assert_int_equal(r.probes, 0);
		assert_int_equal(r.max_backoff, 0);
		assert_int_equal(r.rtx, 0);
	}
	/* Unpaced, the same transfer goes as fast as the window allows (on
	 * a pacing stack: the option's 0 turns it off for the socket). */
	spec sp = { .delay_ns = 10 * MS, .rate_bps = 100000000ull, .total = 1000000,
		    .on_listener = on_listener, .set_zero = by_stack,
		    .stack_pacing = by_stack ? 200000 : 0 };
	result r;
	transfer(&sp, &r);
	if (rate_of(&r) < 2000000)
		fail_msg("unpaced: %.0f bytes/s", rate_of(&r));
	assert_true(r.min_gap < 100000);
}

static void test_cap_set_before_connect(void **state)
{
	(void)state;
	cap_holds(false, false);
}

static void test_cap_inherited_from_listener(void **state)
{
	(void)state;
	cap_holds(true, false);
}

/* hsk_config.pacing_rate: every connection paced, no option set (the
 * server sends, as a host pacing all it serves would). */
static void test_cap_from_stack(void **state)
{
	(void)state;
	cap_holds(true, true);
}

/* -1: paced at the rate the window and RTT give (twice a window per RTT
 * in slow start). On a link with no rate of its own and a 100 ms round
 * trip an unpaced sender sends each window as one burst (tens of
 * segments at once); the paced one spreads it over half the round trip
 * (a segment every ms or more while the window is under ~50 segments).
 * The initial window has no RTT to be paced by: bursts are counted
 * from the first round trip on. */
static void test_uncapped_spreads_the_window(void **state)
{
	(void)state;
	spec sp = { .delay_ns = 50 * MS, .total = 256u << 10 };
	result plain, paced;
	transfer(&sp, &plain);
	sp.pacing = -1;
	transfer(&sp, &paced);
	print_message("unpaced: %u segments in a ms at most, %.0f ms; paced: %u, %.0f ms\n",
		      plain.max_per_ms, plain.done_ns / 1e6, paced.max_per_ms,
		      paced.done_ns / 1e6);
	assert_true(plain.max_per_ms >= 16);
	assert_true(paced.max_per_ms <= 4);
	/* spreading costs little time: slow start's rounds are the same */
	assert_true(paced.done_ns < plain.done_ns * 3 / 2 + 100 * MS);
	assert_int_equal(paced.rtx, 0);
}

/* A shallow bottleneck queue (10 packets at 10 Mbit/s, 100 ms round
 * trip, a 125-packet pipe): slow start's bursts overflow it in the first
 * rounds and the unpaced sender grows slowly from there; the paced one
 * stays in slow start until the pipe is full, and ends sooner (though
 * it resends more when it overshoots). */
static void test_shallow_queue(void **state)
{
	(void)state;
	spec sp = { .delay_ns = 50 * MS, .rate_bps = 10000000ull, .queue = 10,
		    .total = 4u << 20 };
	result plain, paced;
	transfer(&sp, &plain);
	sp.pacing = -1;
	transfer(&sp, &paced);
	print_message("unpaced: %llu resent, %.0f ms; paced: %llu resent, %.0f ms\n",
		      (unsigned long long)plain.rtx, plain.done_ns / 1e6,
		      (unsigned long long)paced.rtx, paced.done_ns / 1e6);
	assert_true(paced.done_ns * 10 < plain.done_ns * 9);
}

/* Repairs are paced too: with loss, every byte still arrives, within the
 * cap, with SACK (RACK's repairs held to their time) and without
 * (NewReno's resends counted in the rate). */
static void test_cap_with_loss(void **state)
{
	(void)state;
	for (int plain = 0; plain < 2; plain++) {
		spec sp = { .delay_ns = 10 * MS, .rate_bps = 100000000ull, .loss = 0.02,
			    .total = 1000000, .pacing = 400000, .plain = plain };
		result r;
		transfer(&sp, &r);
		print_message("%s: %llu resent, %.0f bytes/s, least gap %llu ns\n",
			      plain ? "no SACK, no timestamps" : "SACK, timestamps",
			      (unsigned long long)r.rtx, rate_of(&r),
			      (unsigned long long)r.min_gap);
		assert_true(r.rtx > 0);
		if (rate_of(&r) > 400000 * 1.02)
			fail_msg("%.0f bytes/s", rate_of(&r));
		/* resends one at a time with the rest (NewReno's go at once,
		 * at an ACK: counted, not held) */
		if (!plain && r.min_gap < 1400 * SEC / 400000 / 2)
			fail_msg("two segments %llu ns apart", (unsigned long long)r.min_gap);
	}
}

/* An application writing less than a segment at a time (TCP_NODELAY):
 * each write could leave at once as one segment; pacing holds them to
 * the cap (2 kB every 5 ms is 400 kB/s offered, 100 kB/s allowed). */
static void test_small_writes_paced(void **state)
{
	(void)state;
	spec sp = { .delay_ns = 10 * MS, .rate_bps = 100000000ull, .total = 400000,
		    .pacing = 100000, .chunk = 2000, .every = 5 * MS };
	result r;
	transfer(&sp, &r);
	if (rate_of(&r) > 100000 * 1.02 || rate_of(&r) < 100000 * 0.9)
		fail_msg("%.0f bytes/s", rate_of(&r));
	sp.pacing = 0;
	transfer(&sp, &r);
	if (rate_of(&r) < 300000)
		fail_msg("unpaced: %.0f bytes/s", rate_of(&r));
}

/* Turned off on the connection: what waited goes at once (at 4 kB/s a
 * segment waits ~350 ms, with nothing in flight: no ACK would send it),
 * and the rest as fast as the window allows. */
static void test_off_releases(void **state)
{
	(void)state;
	spec sp = { .delay_ns = 10 * MS, .rate_bps = 100000000ull, .total = 2000000,
		    .pacing = 4000, .off_at = 2 * SEC + 107 * MS };
	result r;
	transfer(&sp, &r);
	assert_int_equal(r.off_wait, 1);        /* the same instant */
	/* ~8 kB in the first 2 s, then the rest at up to 12.5 MB/s: well
	 * under the 500 s the cap alone would take */
	if (r.done_ns > 4 * SEC)
		fail_msg("%.2f s", r.done_ns / 1e9);
}

/* The time of host's first data segment in the log from `from` on (0:
 * none). */
static uint64_t first_data_at(const sim *sm, size_t from, int host)
{
	for (size_t i = from; i < sm->nlog; i++)
		if (sm->log[i].host == host && sm->log[i].ev.kind == HSK_EV_TX &&
		    sm->log[i].ev.len)
			return sm->log[i].ev.t_ns;
	return 0;
}

/* A connection paced by the stack's pacing_rate alone gives its extension
 * back when idle (a new one takes the stack's cap: nothing pins it), yet
 * keeps to the cap across a pause: the extension stays while the next
 * departure is ahead. At 4 kB/s a segment's time is ~350 ms; the first
 * one's ACK is back at once, and a write 100 ms after it still waits for
 * that time. Long after, a write goes at once. */
static void test_stack_pacing_idle(void **state)
{
	(void)state;
	sim sm;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.pacing_rate = 4000;
	int lsd, csd, ssd, v = 0;
	sim_init_pair(&sm, &cfg, 5, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	assert_int_equal(hsk_getsockopt(s, ssd, HSK_SO_MAX_PACING_RATE, &v), 0);
	assert_int_equal(v, 4000);
	static uint8_t buf[4096];
	memset(buf, 0x5a, sizeof(buf));

	size_t from = sm.nlog;
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_send(s, ssd, buf, 1400), 1400);
	sim_run(&sm, 100 * MS);
	size_t second = sm.nlog;
	assert_int_equal(hsk_send(s, ssd, buf, 1400), 1400);
	sim_run(&sm, 1 * SEC);
	assert_int_equal(first_data_at(&sm, from, S), t0);
	uint64_t t1 = first_data_at(&sm, second, S);
	if (t1 < t0 + 300 * MS)
		fail_msg("the second segment %llu ms after the first",
			 (unsigned long long)((t1 - t0) / MS));
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 2800);

	sim_run(&sm, 2 * SEC);
	const hsk_sock *k = sock_get(s, ssd);
	assert_non_null(k);
	assert_null(k->t->act);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(s, ssd, &ti), 0);
	assert_true(ti.pacing_rate > 0 && ti.pacing_rate <= 4000);

	from = sm.nlog;
	uint64_t t2 = sim_now(&sm);
	assert_int_equal(hsk_send(s, ssd, buf, 1400), 1400);
	sim_run(&sm, 100 * MS);
	assert_int_equal(first_data_at(&sm, from, S), t2);
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 1400);
	sim_finish_pair(&sm, C, S, lsd, csd, ssd);
}

static void no_transmit(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)pkt, (void)len;
}

static void test_values(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1);
	hsk_stack *c = sm.st[C];
	int sd = sim_socket(&sm, C), v = 7;
	assert_int_equal(hsk_getsockopt(c, sd, HSK_SO_MAX_PACING_RATE, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(hsk_setsockopt(c, sd, HSK_SO_MAX_PACING_RATE, -2), -HSK_EINVAL);
	assert_int_equal(hsk_setsockopt(c, sd, HSK_SO_MAX_PACING_RATE, -1), 0);
	assert_int_equal(hsk_getsockopt(c, sd, HSK_SO_MAX_PACING_RATE, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(hsk_setsockopt(c, sd, HSK_SO_MAX_PACING_RATE, 12345), 0);
	assert_int_equal(hsk_getsockopt(c, sd, HSK_SO_MAX_PACING_RATE, &v), 0);
	assert_int_equal(v, 12345);
	hsk_close(c, sd);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);

	/* The stack's pacing_rate is the option's default; -1 and up. */
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.pacing_rate = -1;
	sim_init(&sm, 2, &cfg, 1);
	c = sm.st[C];
	sd = sim_socket(&sm, C);
	assert_int_equal(hsk_getsockopt(c, sd, HSK_SO_MAX_PACING_RATE, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(hsk_setsockopt(c, sd, HSK_SO_MAX_PACING_RATE, 0), 0);
	assert_int_equal(hsk_getsockopt(c, sd, HSK_SO_MAX_PACING_RATE, &v), 0);
	assert_int_equal(v, 0);
	hsk_close(c, sd);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
	hsk_link link = { NULL, no_transmit };
	hsk_stack *st = hsk_stack_new(&cfg, &link, 0);
	assert_non_null(st);
	hsk_stack_free(st);
	cfg.pacing_rate = -2;
	assert_null(hsk_stack_new(&cfg, &link, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_cap_set_before_connect),
		cmocka_unit_test(test_cap_inherited_from_listener),
		cmocka_unit_test(test_cap_from_stack),
		cmocka_unit_test(test_stack_pacing_idle),
		cmocka_unit_test(test_uncapped_spreads_the_window),
		cmocka_unit_test(test_cap_with_loss),
		cmocka_unit_test(test_shallow_queue),
		cmocka_unit_test(test_small_writes_paced),
		cmocka_unit_test(test_off_releases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
