/* Out-of-order reassembly: every overlap case, sequence wrap-around, ring
 * wrap, capacity and range limits, FIN, and a randomized check against the
 * original stream. Byte x of the stream has the value pat(x) so that any
 * misplaced byte shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/ring.h"
#include "tcp/reass.h"

static uint8_t pat(uint32_t seq) { return (uint8_t)(seq * 7u + (seq >> 8) + 3u); }

typedef struct fx {
	hsk_ring ring;
	reass q;
	hsk_seq rcv_nxt;
	uint8_t buf[70000];
} fx;

static fx F;

static void fx_init(uint32_t cap, uint32_t isn)
{
	if (F.ring.buf)
		ring_destroy(&F.ring);
	memset(&F, 0, sizeof(F));
	assert_int_equal(ring_init(&F.ring, cap), 0);
	reass_init(&F.q);
	F.rcv_nxt = seq_of(isn);
}

/* Delivers [rel, rel+len) relative to the initial rcv_nxt base. */
static uint32_t seg(uint32_t base, uint32_t rel, uint32_t len, bool fin, reass_result *res)
{
	uint32_t i, adv;

	for (i = 0; i < len; i++)
		F.buf[i] = pat(base + rel + i);
	adv = reass_input(&F.q, &F.ring, F.rcv_nxt, seq_of(base + rel), F.buf, len, fin, res);
	F.rcv_nxt = seq_add(F.rcv_nxt, adv);
	assert_int_equal(adv, res->advanced);
	return adv;
}

/* The ring holds the stream bytes [from, from + ring_len) in order. */
static void check_ring(uint32_t from)
{
	uint8_t out[4096];
	uint32_t n = ring_len(&F.ring), i;

	assert_true(n <= sizeof(out));
	assert_int_equal(ring_peek(&F.ring, 0, out, n), n);
	for (i = 0; i < n; i++)
		assert_int_equal(out[i], pat(from + i));
}

static void check_range(unsigned i, uint32_t start, uint32_t end)
{
	assert_true(i < F.q.n);
	assert_int_equal(F.q.r[i].start.v, start);
	assert_int_equal(F.q.r[i].end.v, end);
}

#define B 1000u

static void test_in_order(void **state)
{
	reass_result res;

	(void)state;
	fx_init(4096, B);
	assert_int_equal(seg(B, 0, 100, false, &res), 100);
	assert_false(res.out_of_order);
	assert_false(res.has_dup);
	assert_int_equal(res.stored, 100);
	assert_int_equal(F.rcv_nxt.v, B + 100);
	assert_int_equal(seg(B, 100, 50, false, &res), 50);
	assert_int_equal(ring_len(&F.ring), 150);
	assert_true(reass_empty(&F.q));
	check_ring(B);
}

static void test_hole_then_fill(void **state)
{
	reass_result res;

	(void)state;
	fx_init(4096, B);
	assert_int_equal(seg(B, 100, 100, false, &res), 0);
	assert_true(res.out_of_order);
	assert_true(res.has_block);
	assert_int_equal(res.blk_start.v, B + 100);
	assert_int_equal(res.blk_end.v, B + 200);
	assert_int_equal(F.q.held, 100);
	assert_int_equal(ring_len(&F.ring), 0);
	/* filling the hole delivers both */
	assert_int_equal(seg(B, 0, 100, false, &res), 200);
	assert_int_equal(ring_len(&F.ring), 200);
	assert_true(reass_empty(&F.q));
	assert_int_equal(F.q.held, 0);
	check_ring(B);
}

static void test_overlap_left(void **state)
{
	reass_result res;

	(void)state;
	fx_init(4096, B);
	seg(B, 20, 10, false, &res);
	seg(B, 15, 10, false, &res);   /* [15,25) onto [20,30) */
	assert_int_equal(res.stored, 5);
	assert_true(res.has_dup);
	assert_int_equal(res.dup_start.v, B + 20);
	assert_int_equal(res.dup_end.v, B + 25);
	assert_int_equal(F.q.n, 1);
	check_range(0, B + 15, B + 30);
	assert_int_equal(F.q.held, 15);
	assert_int_equal(seg(B, 0, 15, false, &res), 30);
	check_ring(B);
}

static void test_overlap_right(void **state)
{
	reass_result res;

	(void)state;
	fx_init(4096, B);
	seg(B, 20, 10, false, &res);
	seg(B, 25, 10, false, &res);   /* [25,35) onto [20,30) */
	assert_int_equal(res.stored, 5);
	assert_int_equal(res.dup_start.v, B + 25);
	assert_int_equal(res.dup_end.v, B + 30);
	check_range(0, B + 20, B + 35);
	assert_int_equal(res.blk_start.v, B + 20);
	assert_int_equal(res.blk_end.v, B + 35);
	assert_int_equal(seg(B, 0, 20, false, &res), 35);
	check_ring(B);
}

static void test_inside_and_exact_dup(void **state)
{
	reass_result res;

	(void)state;
	fx_init(4096, B);
	seg(B, 20, 10, false, &res);
	seg(B, 22, 6, false, &res);    /* inside */
	assert_int_equal(res.stored, 0);
	assert_true(res.out_of_order);
	assert_true(res.has_dup);
	assert_int_equal(res.dup_start.v, B + 22);
	assert_int_equal(res.dup_end.v, B + 28);
	assert_int_equal(res.blk_start.v, B + 20);
	assert_int_equal(res.blk_end.v, B + 30);
	seg(B, 20, 10, false, &res);   /* exact duplicate */
	assert_int_equal(res.stored, 0);
	assert_int_equal(res.dup_start.v, B + 20);
	assert_int_equal(res.dup_end.v, B + 30);
	assert_int_equal(F.q.n, 1);
	assert_int_equal(F.q.held, 10);
}

static void test_covering(void **state)
{
	reass_result res;

	(void)state;
	fx_init(4096, B);
	seg(B, 20, 5, false, &res);
	seg(B, 30, 5, false, &res);
	seg(B, 40, 5, false, &res);
	assert_int_equal(F.q.n, 3);
	seg(B, 15, 35, false, &res);   /* [15,50) covers all three */
	assert_int_equal(res.stored, 20);
	assert_int_equal(F.q.n, 1);
	check_range(0, B + 15, B + 50);
	assert_int_equal(F.q.held, 35);
	assert_int_equal(res.dup_start.v, B + 20);  /* the first duplicate part */
	assert_int_equal(res.dup_end.v, B + 25);
	/* a segment that bridges two ranges */
	seg(B, 60, 5, false, &res);
	seg(B, 52, 3, false, &res);
	assert_int_equal(F.q.n, 3);
	seg(B, 48, 14, false, &res);   /* [48,62) joins [15,50) [52,55) [60,65) */
	assert_int_equal(F.q.n, 1);
	check_range(0, B + 15, B + 65);
	assert_int_equal(F.q.held, 50);
	assert_int_equal(seg(B, 0, 16, false, &res), 65);
	check_ring(B);
}

static void test_adjacent_merge(void **state)
{
	reass_result res;

	(void)state;
	fx_init(4096, B);
	seg(B, 20, 10, false, &res);
	seg(B, 30, 10, false, &res);   /* touches on the right */
	assert_int_equal(F.q.n, 1);
	check_range(0, B + 20, B + 40);
	assert_false(res.has_dup);
	seg(B, 10, 10, false, &res);   /* touches on the left */
	assert_int_equal(F.q.n, 1);
	check_range(0, B + 10, B + 40);
	seg(B, 50, 10, false, &res);   /* a separate range stays separate */
	assert_int_equal(F.q.n, 2);
	check_range(1, B + 50, B + 60);
	seg(B, 5, 3, false, &res);     /* insertion before the first range */
	assert_int_equal(F.q.n, 3);
	check_range(0, B + 5, B + 8);
	check_range(1, B + 10, B + 40);
	/* filling [0,5) delivers only up to the next hole at 8 */
	assert_int_equal(seg(B, 0, 5, false, &res), 8);
	assert_int_equal(F.q.n, 2);
	assert_int_equal(seg(B, 8, 2, false, &res), 32);
	assert_int_equal(seg(B, 40, 10, false, &res), 20);
	assert_true(reass_empty(&F.q));
	check_ring(B);
}

static void test_old_and_partly_old(void **state)
{
	reass_result res;

	(void)state;
	fx_init(4096, B);
	seg(B, 0, 100, false, &res);
	/* entirely old */
	assert_int_equal(seg(B, 10, 20, false, &res), 0);
	assert_true(res.has_dup);
	assert_int_equal(res.dup_start.v, B + 10);
	assert_int_equal(res.dup_end.v, B + 30);
	assert_false(res.out_of_order);
	assert_int_equal(ring_len(&F.ring), 100);
	/* partly old: only the new tail is added */
	assert_int_equal(seg(B, 90, 20, false, &res), 10);
	assert_int_equal(res.dup_start.v, B + 90);
	assert_int_equal(res.dup_end.v, B + 100);
	assert_int_equal(res.stored, 10);
	check_ring(B);
}

static void test_seq_wrap(void **state)
{
	const uint32_t base = 0xffffffc0u;   /* 64 bytes before 2^32 */
	reass_result res;

	(void)state;
	fx_init(4096, base);
	seg(base, 100, 50, false, &res);     /* past the wrap */
	assert_int_equal(res.blk_start.v, base + 100);
	assert_true(F.q.r[0].start.v < 100);
	seg(base, 40, 40, false, &res);      /* straddles 2^32 */
	assert_int_equal(F.q.n, 2);
	check_range(0, base + 40, base + 80);
	seg(base, 70, 35, false, &res);      /* bridges them */
	assert_int_equal(F.q.n, 1);
	check_range(0, base + 40, base + 150);
	assert_int_equal(seg(base, 0, 40, false, &res), 150);
	assert_int_equal(F.rcv_nxt.v, base + 150);
	assert_int_equal(F.rcv_nxt.v, 86u);
	check_ring(base);
	/* an old segment from before the wrap is a duplicate */
	assert_int_equal(seg(base, 0, 10, false, &res), 0);
	assert_true(res.has_dup);
}

static void test_ring_wrap(void **state)
{
	reass_result res;
	uint8_t tmp[64];

	(void)state;
	fx_init(64, B);
	seg(B, 0, 50, false, &res);
	assert_int_equal(ring_read(&F.ring, tmp, 40), 40);   /* head at 40 */
	/* [60,80) is stored at physical 50..63 and 0..5 */
	seg(B, 60, 20, false, &res);
	assert_true(res.out_of_order);
	assert_int_equal(seg(B, 50, 10, false, &res), 30);
	assert_int_equal(ring_len(&F.ring), 40);
	check_ring(B + 40);
}

static void test_capacity(void **state)
{
	reass_result res;

	(void)state;
	fx_init(64, B);
	seg(B, 0, 10, false, &res);          /* 54 bytes of room after rcv_nxt */
	seg(B, 60, 10, false, &res);         /* 4 fit */
	assert_true(res.dropped);
	assert_int_equal(res.stored, 4);
	check_range(0, B + 60, B + 64);
	seg(B, 64, 10, false, &res);         /* nothing fits */
	assert_true(res.dropped);
	assert_int_equal(res.stored, 0);
	assert_int_equal(F.q.n, 1);
	seg(B, 3000, 10, false, &res);       /* far beyond */
	assert_true(res.dropped);
	assert_int_equal(F.q.n, 1);
	assert_int_equal(seg(B, 10, 50, false, &res), 54);
	assert_int_equal(ring_len(&F.ring), 64);
	assert_int_equal(ring_space(&F.ring), 0);
	check_ring(B);
}

static void test_range_limit(void **state)
{
	reass_result res;
	unsigned i;

	(void)state;
	fx_init(4096, B);
	for (i = 0; i < REASS_MAX_RANGES; i++) {
		seg(B, 100 + 20 * i, 10, false, &res);
		assert_false(res.dropped);
	}
	assert_int_equal(F.q.n, REASS_MAX_RANGES);
	/* one more hole does not fit... */
	seg(B, 100 + 20 * REASS_MAX_RANGES, 10, false, &res);
	assert_true(res.dropped);
	assert_int_equal(res.stored, 0);
	assert_int_equal(F.q.n, REASS_MAX_RANGES);
	/* ...but growing a range does, and so does in-order data */
	seg(B, 110, 5, false, &res);
	assert_false(res.dropped);
	check_range(0, B + 100, B + 115);
	assert_int_equal(seg(B, 0, 50, false, &res), 50);
	/* and filling a hole frees a slot */
	seg(B, 115, 5, false, &res);
	assert_int_equal(F.q.n, REASS_MAX_RANGES - 1);
	seg(B, 100 + 20 * REASS_MAX_RANGES, 10, false, &res);
	assert_false(res.dropped);
	assert_int_equal(F.q.n, REASS_MAX_RANGES);
}

static void test_fin(void **state)
{
	reass_result res;

	(void)state;
	fx_init(4096, B);
	seg(B, 50, 50, true, &res);          /* the last data and FIN, early */
	assert_false(res.fin);
	assert_true(F.q.fin_known);
	assert_int_equal(F.q.fin_seq.v, B + 100);
	seg(B, 90, 30, false, &res);         /* data past the FIN is cut */
	check_range(0, B + 50, B + 100);
	assert_int_equal(seg(B, 0, 50, false, &res), 100);
	assert_true(res.fin);
	/* a bare FIN in order */
	fx_init(4096, B);
	seg(B, 0, 10, false, &res);
	seg(B, 10, 0, true, &res);
	assert_true(res.fin);
	assert_int_equal(res.advanced, 0);
	/* a segment cut on the right loses its FIN */
	fx_init(64, B);
	seg(B, 40, 40, true, &res);
	assert_true(res.dropped);
	assert_false(F.q.fin_known);
	/* a FIN exactly at the ring's end is fine */
	seg(B, 40, 24, true, &res);
	assert_true(F.q.fin_known);
	assert_int_equal(F.q.fin_seq.v, B + 64);
	assert_int_equal(seg(B, 0, 40, false, &res), 64);
	assert_true(res.fin);
	/* as does a segment dropped for want of a range */
	fx_init(4096, B);
	for (unsigned i = 0; i < REASS_MAX_RANGES; i++)
		seg(B, 100 + 20 * i, 10, false, &res);
	seg(B, 1000, 10, true, &res);
	assert_true(res.dropped);
	assert_false(F.q.fin_known);
}

/* A FIN the ring could not hold up to, or one wholly below rcv_nxt (old),
 * is not recorded: either, taken, would cut the stream at a wrong place
 * (reass_trim drops all text past fin_seq). */
static void test_fin_out_of_reach(void **state)
{
	reass_result res;

	(void)state;
	/* a bare FIN (nothing to trim, so nothing dropped) past the ring */
	fx_init(64, B);
	seg(B, 65, 0, true, &res);
	assert_false(res.dropped);
	assert_false(res.fin);
	assert_false(F.q.fin_known);
	/* nor once part of the ring is in use: 32 bytes held, room for 32 */
	seg(B, 0, 32, false, &res);
	seg(B, 65, 0, true, &res);
	assert_false(F.q.fin_known);
	seg(B, 64, 0, true, &res);                  /* the ring's end: fine */
	assert_true(F.q.fin_known);
	assert_int_equal(F.q.fin_seq.v, B + 64);
	/* an old FIN with its text, all below rcv_nxt */
	fx_init(4096, B);
	seg(B, 0, 100, false, &res);
	seg(B, 10, 20, true, &res);
	assert_true(res.has_dup);
	assert_false(res.fin);
	assert_false(F.q.fin_known);
	assert_int_equal(seg(B, 100, 50, false, &res), 50);    /* the stream goes on */
	check_ring(B);
}

/* Random segments of a 20000-byte stream, reordered and duplicated; the
 * reader drains the ring as it goes. */
static void test_random(void **state)
{
	const uint32_t total = 20000, base = 0xffff0000u + 12345u;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t delivered = 0, readpos = 0, rounds = 0;
	uint8_t out[4096];
	reass_result res;

	(void)state;
	fx_init(4096, base);
	while (delivered < total && rounds++ < 200000) {
		uint32_t off, len, n, i;

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		/* mostly near rcv_nxt, sometimes old, sometimes far */
		off = delivered + (uint32_t)(x % 3000);
		if (off >= 200 && (x >> 20) % 8 == 0)
			off -= 200;
		len = 1 + (uint32_t)((x >> 32) % 600);
		if (off >= total)
			continue;
		if (off + len > total)
			len = total - off;
		delivered += seg(base, off, len, off + len == total, &res);
		assert_int_equal(F.rcv_nxt.v, base + delivered);
		assert_true(F.q.n <= REASS_MAX_RANGES);
		for (i = 1; i < F.q.n; i++)
			assert_true(seq_lt(F.q.r[i - 1].end, F.q.r[i].start));
		if (F.q.n)
			assert_true(seq_gt(F.q.r[0].start, F.rcv_nxt));
		/* the reader takes a random amount */
		n = ring_read(&F.ring, out, (uint32_t)((x >> 40) % 4096));
		for (i = 0; i < n; i++)
			assert_int_equal(out[i], pat(base + readpos + i));
		readpos += n;
	}
	assert_int_equal(delivered, total);
	assert_true(res.fin);
	readpos += ring_read(&F.ring, NULL, 4096);
	assert_int_equal(readpos, total);
	ring_destroy(&F.ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_hole_then_fill),
		cmocka_unit_test(test_overlap_left),
		cmocka_unit_test(test_overlap_right),
		cmocka_unit_test(test_inside_and_exact_dup),
		cmocka_unit_test(test_covering),
		cmocka_unit_test(test_adjacent_merge),
		cmocka_unit_test(test_old_and_partly_old),
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_ring_wrap),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_range_limit),
		cmocka_unit_test(test_fin),
		cmocka_unit_test(test_fin_out_of_reach),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
