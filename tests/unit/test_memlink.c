/*
 * memlink on its own: hosts whose packets go to a test sink instead of a
 * stack, so the impairments, queueing and clock are tested without the TCP
 * engine. Packets are bare IPv4 headers plus a 32-bit sequence number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "link/memlink.h"

#define A_ADDR 0xc6120001u /* 198.18.0.1 */
#define B_ADDR 0xc6120002u /* 198.18.0.2 */
#define MS 1000000ull
#define NPKT 10000

typedef struct rx_log {
	size_t n;
	uint64_t t[2 * NPKT + 16];
	uint32_t seq[2 * NPKT + 16];
	size_t len[2 * NPKT + 16];
	uint8_t first[2 * NPKT + 16][64];
} rx_log;

typedef struct fixture {
	hsk_memnet *net;
	hsk_link la, lb;
	int a, b;
	rx_log rx;
} fixture;

static void sink(void *ctx, uint64_t now, const uint8_t *pkt, size_t len)
{
	rx_log *l = ctx;
	size_t i = l->n;

	if (i >= 2 * NPKT + 16)
		return;
	l->t[i] = now;
	l->len[i] = len;
	l->seq[i] = len >= 24 ? (uint32_t)pkt[20] << 24 | (uint32_t)pkt[21] << 16 |
			(uint32_t)pkt[22] << 8 | pkt[23] : UINT32_MAX;
	memcpy(l->first[i], pkt, len < 64 ? len : 64);
	l->n++;
}

/* An IPv4-looking packet of `len` bytes (>= 24) to dst carrying seq. */
static void make_pkt(uint8_t *p, size_t len, uint32_t dst, uint32_t seq)
{
	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[16] = (uint8_t)(dst >> 24);
	p[17] = (uint8_t)(dst >> 16);
	p[18] = (uint8_t)(dst >> 8);
	p[19] = (uint8_t)dst;
	p[20] = (uint8_t)(seq >> 24);
	p[21] = (uint8_t)(seq >> 16);
	p[22] = (uint8_t)(seq >> 8);
	p[23] = (uint8_t)seq;
}

static void send_a(fixture *f, uint32_t seq, size_t len)
{
	uint8_t p[1500];

	make_pkt(p, len, B_ADDR, seq);
	f->la.transmit(f->la.ctx, p, len);
}

static fixture *fx_new(uint64_t seed)
{
	fixture *f = test_calloc(1, sizeof(*f));

	f->net = memnet_new(seed, 1000 * MS);
	assert_non_null(f->net);
	f->a = memnet_add_host(f->net, A_ADDR, &f->la);
	f->b = memnet_add_host(f->net, B_ADDR, &f->lb);
	assert_int_equal(f->a, 0);
	assert_int_equal(f->b, 1);
	memnet_set_sink(f->net, f->b, sink, &f->rx);
	return f;
}

static void fx_free(fixture *f)
{
	memnet_free(f->net);
	test_free(f);
}

static void run_all(fixture *f)
{
	while (memnet_step(f->net, UINT64_MAX))
		;
}

static void test_basic_delivery_and_idle(void **state)
{
	fixture *f = fx_new(1);
	memnet_stats st;

	(void)state;
	assert_int_equal(memnet_host_by_addr(f->net, B_ADDR), 1);
	assert_int_equal(memnet_host_by_addr(f->net, 0x01020304), -1);
	assert_int_equal(memnet_add_host(f->net, A_ADDR, NULL), -1);
	assert_int_equal(memnet_next_event(f->net), UINT64_MAX);
	/* idle: the clock moves to a finite limit, step reports nothing */
	assert_false(memnet_step(f->net, 1005 * MS));
	assert_int_equal(memnet_now(f->net), 1005 * MS);

	send_a(f, 7, 40);
	assert_int_equal(memnet_in_flight(f->net), 1);
	/* no impairment: delivered at the same instant, in the next step */
	assert_int_equal(memnet_next_event(f->net), 1005 * MS);
	assert_true(memnet_step(f->net, UINT64_MAX));
	assert_int_equal(f->rx.n, 1);
	assert_int_equal(f->rx.seq[0], 7);
	assert_int_equal(f->rx.len[0], 40);
	assert_int_equal(memnet_in_flight(f->net), 0);
	memnet_get_stats(f->net, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.delivered, 1);
	fx_free(f);
}

static void test_delay_and_fifo(void **state)
{
	fixture *f = fx_new(1);
	memnet_impair imp = { .delay_ns = 5 * MS };
	uint32_t i;

	(void)state;
	memnet_set_impair(f->net, f->a, &imp);
	for (i = 0; i < 100; i++)
		send_a(f, i, 64);
	assert_int_equal(memnet_next_event(f->net), 1005 * MS);
	/* nothing due before the delay has passed */
	assert_false(memnet_step(f->net, 1004 * MS));
	assert_int_equal(f->rx.n, 0);
	run_all(f);
	assert_int_equal(f->rx.n, 100);
	for (i = 0; i < 100; i++) {
		assert_int_equal(f->rx.t[i], 1005 * MS);
		assert_int_equal(f->rx.seq[i], i); /* equal times: FIFO */
	}
	fx_free(f);
}

static void test_jitter_bounds(void **state)
{
	fixture *f = fx_new(3);
	memnet_impair imp = { .delay_ns = 2 * MS, .jitter_ns = 3 * MS };
	uint64_t lo = UINT64_MAX, hi = 0;
	size_t i;

	(void)state;
	memnet_set_impair(f->net, f->a, &imp);
	for (i = 0; i < 1000; i++)
		send_a(f, (uint32_t)i, 64);
	run_all(f);
	assert_int_equal(f->rx.n, 1000);
	for (i = 0; i < f->rx.n; i++) {
		lo = f->rx.t[i] < lo ? f->rx.t[i] : lo;
		hi = f->rx.t[i] > hi ? f->rx.t[i] : hi;
		if (i > 0)
			assert_true(f->rx.t[i] >= f->rx.t[i - 1]);
	}
	assert_true(lo >= 1002 * MS);
	assert_true(hi < 1005 * MS);
	assert_true(hi - lo > 2 * MS); /* the spread is really used */
	fx_free(f);
}

static void test_loss_rate(void **state)
{
	fixture *f = fx_new(42);
	memnet_impair imp = { .loss = 0.1 };
	memnet_stats st;
	uint32_t i;

	(void)state;
	memnet_set_impair(f->net, f->a, &imp);
	for (i = 0; i < NPKT; i++)
		send_a(f, i, 40);
	run_all(f);
	memnet_get_stats(f->net, &st);
	assert_int_equal(st.sent, NPKT);
	assert_int_equal(st.lost + st.delivered, NPKT);
	assert_int_equal(st.delivered, f->rx.n);
	/* 10% of 10k: sd = 30, accept +-5 sd */
	assert_in_range(st.lost, 850, 1150);
	/* what arrives is in order and unique */
	for (i = 1; i < f->rx.n; i++)
		assert_true(f->rx.seq[i] > f->rx.seq[i - 1]);
	fx_free(f);
}

static void test_duplication(void **state)
{
	fixture *f = fx_new(5);
	memnet_impair imp = { .dup = 0.2, .delay_ns = MS };
	memnet_stats st;
	size_t i, dups = 0;

	(void)state;
	memnet_set_impair(f->net, f->a, &imp);
	for (i = 0; i < NPKT; i++)
		send_a(f, (uint32_t)i, 40);
	run_all(f);
	memnet_get_stats(f->net, &st);
	assert_int_equal(f->rx.n, NPKT + st.duplicated);
	assert_in_range(st.duplicated, 1700, 2300);
	for (i = 1; i < f->rx.n; i++)
		if (f->rx.seq[i] == f->rx.seq[i - 1])
			dups++;
	/* without jitter a copy arrives right behind its original */
	assert_int_equal(dups, st.duplicated);
	fx_free(f);
}

static void test_reorder(void **state)
{
	fixture *f = fx_new(9);
	memnet_impair imp = { .reorder = 0.25, .delay_ns = MS, .reorder_ns = 4 * MS };
	memnet_stats st;
	size_t i, late = 0, inversions = 0;
	uint32_t last_on_time = 0, last_late = 0;
	bool seen_on = false, seen_late = false;

	(void)state;
	memnet_set_impair(f->net, f->a, &imp);
	for (i = 0; i < 1000; i++)
		send_a(f, (uint32_t)i, 40);
	run_all(f);
	memnet_get_stats(f->net, &st);
	assert_int_equal(f->rx.n, 1000);
	assert_in_range(st.reordered, 180, 320);
	for (i = 0; i < f->rx.n; i++) {
		if (f->rx.t[i] == 1005 * MS) {
			/* held back: later than every on-time packet, FIFO
			 * among themselves */
			late++;
			if (seen_late)
				assert_true(f->rx.seq[i] > last_late);
			last_late = f->rx.seq[i];
			seen_late = true;
		} else {
			assert_int_equal(f->rx.t[i], 1001 * MS);
			assert_false(seen_late);
			if (seen_on)
				assert_true(f->rx.seq[i] > last_on_time);
			last_on_time = f->rx.seq[i];
			seen_on = true;
		}
		if (i > 0 && f->rx.seq[i] < f->rx.seq[i - 1])
			inversions++;
	}
	assert_int_equal(late, st.reordered);
	assert_true(inversions > 0);
	fx_free(f);
}

static void test_corrupt(void **state)
{
	fixture *f = fx_new(11);
	memnet_impair imp = { .corrupt = 1.0 };
	uint8_t orig[48];
	memnet_stats st;
	size_t i, j;

	(void)state;
	memnet_set_impair(f->net, f->a, &imp);
	for (i = 0; i < 200; i++)
		send_a(f, 0x01020304, 48);
	run_all(f);
	memnet_get_stats(f->net, &st);
	assert_int_equal(st.corrupted, 200);
	assert_int_equal(f->rx.n, 200);
	make_pkt(orig, 48, B_ADDR, 0x01020304);
	for (i = 0; i < f->rx.n; i++) {
		size_t diff = 0;

		for (j = 0; j < 48; j++)
			diff += f->rx.first[i][j] != orig[j];
		assert_int_equal(diff, 1); /* exactly one byte flipped */
	}
	fx_free(f);
}

static void test_rate_and_queue_limit(void **state)
{
	fixture *f = fx_new(1);
	/* 8 Mbit/s: a 1000-byte packet takes 1 ms to serialise */
	memnet_impair imp = { .rate_bps = 8000000, .delay_ns = 10 * MS,
			      .queue_limit = 3 };
	memnet_stats st;
	uint32_t i;

	(void)state;
	memnet_set_impair(f->net, f->a, &imp);
	for (i = 0; i < 5; i++)
		send_a(f, i, 1000);
	memnet_get_stats(f->net, &st);
	assert_int_equal(st.queue_drops, 2);
	run_all(f);
	assert_int_equal(f->rx.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(f->rx.seq[i], i);
		assert_int_equal(f->rx.t[i], 1000 * MS + (i + 1) * MS + 10 * MS);
	}
	/* the queue has drained by now: sending again starts at "now" */
	send_a(f, 99, 500);
	run_all(f);
	assert_int_equal(f->rx.n, 4);
	assert_int_equal(f->rx.t[3], f->rx.t[2] + MS / 2 + 10 * MS);
	fx_free(f);
}

static void test_unbounded_rate(void **state)
{
	fixture *f = fx_new(1);
	memnet_impair imp = { .rate_bps = 1000000000 }; /* 1 Gbit/s */
	uint32_t i;

	(void)state;
	memnet_set_impair(f->net, f->a, &imp);
	for (i = 0; i < 100; i++)
		send_a(f, i, 1250); /* 10 us each */
	run_all(f);
	assert_int_equal(f->rx.n, 100);
	assert_int_equal(f->rx.t[99], 1000 * MS + 100 * 10000);
	fx_free(f);
}

typedef struct filt {
	uint32_t drop_seq;
	int calls;
	int drops_seen;
	char last_reason[16];
} filt;

static bool filter_fn(void *ctx, int from, const uint8_t *pkt, size_t len)
{
	filt *fl = ctx;

	(void)from;
	fl->calls++;
	return !(len >= 24 && pkt[23] == (uint8_t)fl->drop_seq);
}

static void drop_fn(void *ctx, uint64_t now, int from, const char *reason,
		    const uint8_t *pkt, size_t len)
{
	filt *fl = ctx;

	(void)now;
	(void)pkt;
	(void)len;
	assert_int_equal(from, 0);
	fl->drops_seen++;
	strncpy(fl->last_reason, reason, sizeof(fl->last_reason) - 1);
}

static void test_filter_and_drop_hook(void **state)
{
	fixture *f = fx_new(1);
	filt fl = { .drop_seq = 3 };
	memnet_stats st;
	uint8_t p[40];
	uint32_t i;

	(void)state;
	memnet_set_filter(f->net, filter_fn, &fl);
	memnet_set_drop_hook(f->net, drop_fn, &fl);
	for (i = 0; i < 6; i++)
		send_a(f, i, 40);
	run_all(f);
	assert_int_equal(fl.calls, 6);
	assert_int_equal(f->rx.n, 5);
	for (i = 0; i < f->rx.n; i++)
		assert_int_not_equal(f->rx.seq[i], 3);
	assert_int_equal(fl.drops_seen, 1);
	assert_string_equal(fl.last_reason, "filter");

	/* unroutable: no host owns the destination */
	make_pkt(p, 40, 0x0a000001, 1);
	f->la.transmit(f->la.ctx, p, 40);
	/* garbage shorter than an IPv4 header */
	f->la.transmit(f->la.ctx, p, 5);
	memnet_get_stats(f->net, &st);
	assert_int_equal(st.filtered, 1);
	assert_int_equal(st.unroutable, 2);
	assert_int_equal(fl.drops_seen, 3);
	assert_string_equal(fl.last_reason, "unroutable");
	fx_free(f);
}

/* Every impairment at once; returns a digest of what arrived when. */
static uint64_t run_digest(uint64_t seed)
{
	fixture *f = fx_new(seed);
	memnet_impair imp = { .loss = 0.05, .dup = 0.05, .reorder = 0.1,
			      .corrupt = 0.05, .delay_ns = MS, .jitter_ns = MS,
			      .rate_bps = 100000000, .queue_limit = 50 };
	uint64_t h = 1469598103934665603ull;
	size_t i, j;

	memnet_set_impair(f->net, f->a, &imp);
	for (i = 0; i < 2000; i++) {
		send_a(f, (uint32_t)i, 100 + i % 900);
		if (i % 10 == 9)
			memnet_run_for(f->net, 500000);
	}
	run_all(f);
	for (i = 0; i < f->rx.n; i++) {
		h = (h ^ f->rx.t[i]) * 1099511628211ull;
		for (j = 0; j < 64 && j < f->rx.len[i]; j++)
			h = (h ^ f->rx.first[i][j]) * 1099511628211ull;
	}
	fx_free(f);
	return h;
}

static void test_determinism(void **state)
{
	(void)state;
	assert_int_equal(run_digest(1234), run_digest(1234));
	assert_int_not_equal(run_digest(1234), run_digest(1235));
}

static void test_run_for(void **state)
{
	fixture *f = fx_new(1);
	memnet_impair imp = { .delay_ns = 3 * MS };

	(void)state;
	memnet_set_impair(f->net, f->a, &imp);
	send_a(f, 1, 40);
	memnet_run_for(f->net, 2 * MS);
	assert_int_equal(memnet_now(f->net), 1002 * MS);
	assert_int_equal(f->rx.n, 0);
	memnet_run_for(f->net, 2 * MS);
	assert_int_equal(memnet_now(f->net), 1004 * MS);
	assert_int_equal(f->rx.n, 1);
	assert_int_equal(f->rx.t[0], 1003 * MS);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_delivery_and_idle),
		cmocka_unit_test(test_delay_and_fifo),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_loss_rate),
		cmocka_unit_test(test_duplication),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_rate_and_queue_limit),
		cmocka_unit_test(test_unbounded_rate),
		cmocka_unit_test(test_filter_and_drop_hook),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_run_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
