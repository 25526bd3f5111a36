/* SACK: receiver blocks (RFC 2018/2883) and the sender's scoreboard
 * (RFC 6675: merging, trimming, wrap-around, overflow, IsLost, NextSeg,
 * SetPipe). RACK-TLP is tests/unit/test_rack.c; the mechanisms together,
 * tests/unit/test_sack_loop.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "handshake.h"
#include "tcp/sack.h"

static hsk_seq S(uint32_t v) { return seq_of(v); }

static void expect_blocks(const tcp_sack_block *b, unsigned n, const uint32_t *want, unsigned nwant)
{
	unsigned i;

	assert_int_equal(n, nwant);
	for (i = 0; i < n; i++) {
		assert_int_equal(b[i].left, want[2 * i]);
		assert_int_equal(b[i].right, want[2 * i + 1]);
	}
}

/* ================= receiver ================= */

static void test_rcv_recency(void **state)
{
	sack_rcv rs;
	tcp_sack_block b[4];
	unsigned n;

	(void)state;
	sack_rcv_init(&rs);
	assert_int_equal(sack_rcv_fill(&rs, NULL, b, 4), 0);
	sack_rcv_update(&rs, S(200), S(300));
	sack_rcv_update(&rs, S(400), S(500));
	sack_rcv_update(&rs, S(600), S(700));
	n = sack_rcv_fill(&rs, NULL, b, 4);
	expect_blocks(b, n, (const uint32_t[]){ 600, 700, 400, 500, 200, 300 }, 3);
	/* a segment extending the oldest block moves it first */
	sack_rcv_update(&rs, S(200), S(350));
	n = sack_rcv_fill(&rs, NULL, b, 4);
	expect_blocks(b, n, (const uint32_t[]){ 200, 350, 600, 700, 400, 500 }, 3);
	/* more blocks than fit: the oldest is forgotten */
	sack_rcv_update(&rs, S(800), S(900));
	sack_rcv_update(&rs, S(1000), S(1100));
	n = sack_rcv_fill(&rs, NULL, b, 4);
	expect_blocks(b, n, (const uint32_t[]){ 1000, 1100, 800, 900, 200, 350, 600, 700 }, 4);
	/* with timestamps only three fit */
	n = sack_rcv_fill(&rs, NULL, b, 3);
	assert_int_equal(n, 3);
	/* a block that swallows two others replaces them */
	sack_rcv_update(&rs, S(600), S(900));
	n = sack_rcv_fill(&rs, NULL, b, 4);
	expect_blocks(b, n, (const uint32_t[]){ 600, 900, 1000, 1100, 200, 350 }, 3);
	/* rcv_nxt passes the lowest block */
	sack_rcv_advance(&rs, S(350));
	n = sack_rcv_fill(&rs, NULL, b, 4);
	expect_blocks(b, n, (const uint32_t[]){ 600, 900, 1000, 1100 }, 2);
}

static void test_rcv_dsack(void **state)
{
	sack_rcv rs;
	tcp_sack_block b[4];
	unsigned n;

	(void)state;
	sack_rcv_init(&rs);
	sack_rcv_update(&rs, S(500), S(600));
	sack_rcv_dsack(&rs, S(100), S(200));    /* below rcv_nxt */
	n = sack_rcv_fill(&rs, NULL, b, 4);
	expect_blocks(b, n, (const uint32_t[]){ 100, 200, 500, 600 }, 2);
	/* reported once */
	n = sack_rcv_fill(&rs, NULL, b, 4);
	expect_blocks(b, n, (const uint32_t[]){ 500, 600 }, 1);
	/* a duplicate of a whole held block: the block still follows, so
	 * the sender sees the first block inside the second */
	sack_rcv_dsack(&rs, S(500), S(600));
	n = sack_rcv_fill(&rs, NULL, b, 4);
	expect_blocks(b, n, (const uint32_t[]){ 500, 600, 500, 600 }, 2);
	/* a D-SACK takes the first of too few slots */
	sack_rcv_update(&rs, S(700), S(800));
	sack_rcv_update(&rs, S(900), S(1000));
	sack_rcv_dsack(&rs, S(520), S(540));
	n = sack_rcv_fill(&rs, NULL, b, 3);
	expect_blocks(b, n, (const uint32_t[]){ 520, 540, 900, 1000, 700, 800 }, 3);
}

/* The receiver path as the engine runs it: reass, then sack_rcv_note. */
static void test_rcv_with_reass(void **state)
{
	const uint32_t base = 0xfffffe00u;      /* the blocks cross 2^32 */
	static uint8_t data[4096];
	hsk_ring ring = { 0 };
	reass q;
	sack_rcv rs;
	reass_result res;
	tcp_sack_block b[4];
	hsk_seq rcv_nxt = S(base);
	unsigned n, i;

	(void)state;
	assert_int_equal(ring_init(&ring, 8192), 0);
	reass_init(&q);
	sack_rcv_init(&rs);
#define SEG(off, len) do { \
		rcv_nxt = seq_add(rcv_nxt, reass_input(&q, &ring, rcv_nxt, S(base + (off)), \
						      data, (len), false, &res)); \
		sack_rcv_advance(&rs, rcv_nxt); \
		sack_rcv_note(&rs, &res); \
	} while (0)
	SEG(1000, 100);
	SEG(1200, 100);
	SEG(1400, 100);
	SEG(1600, 100);
	SEG(1800, 100);             /* five holes: the oldest not reported */
	n = sack_rcv_fill(&rs, &q, b, 4);
	expect_blocks(b, n, (const uint32_t[]){ base + 1800, base + 1900, base + 1600, base + 1700,
						base + 1400, base + 1500, base + 1200, base + 1300 }, 4);
	/* a duplicate inside a held range: D-SACK, then that range */
	SEG(1420, 50);
	n = sack_rcv_fill(&rs, &q, b, 4);
	expect_blocks(b, n, (const uint32_t[]){ base + 1420, base + 1470, base + 1400, base + 1500,
						base + 1800, base + 1900, base + 1600, base + 1700 }, 4);
	/* the first hole fills: [1000,1100) goes in order; the remaining
	 * holes are topped up from the queue although forgotten */
	SEG(0, 1000);
	assert_int_equal(rcv_nxt.v, base + 1100);
	n = sack_rcv_fill(&rs, &q, b, 4);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++)
		assert_non_null(reass_find(&q, S(b[i].left)));
	/* a merge of two held ranges through a segment between them */
	SEG(1300, 100);
	n = sack_rcv_fill(&rs, &q, b, 4);
	assert_int_equal(b[0].left, base + 1200);
	assert_int_equal(b[0].right, base + 1500);
	/* an old duplicate below rcv_nxt */
	SEG(10, 20);
	n = sack_rcv_fill(&rs, &q, b, 4);
	assert_int_equal(b[0].left, base + 10);
	assert_int_equal(b[0].right, base + 30);
	assert_int_equal(b[1].left, base + 1200);
	assert_true(b[1].left < 0x1000);   /* past 2^32 */
	assert_int_equal(n, 4);            /* D-SACK and three held ranges */
#undef SEG
	ring_destroy(&ring);
}

/* sack_rcv_fill writes at most TCP_MAX_SACK_BLOCKS blocks whatever max
 * it is given, and reports a remembered block only while the reassembly
 * queue holds data there. */
static void test_rcv_fill_bounds(void **state)
{
	static uint8_t data[1024];
	hsk_ring ring = { 0 };
	reass q, empty;
	sack_rcv rs;
	reass_result res;
	tcp_sack_block b[8];
	hsk_seq rcv_nxt = S(1000);
	unsigned n, i;

	(void)state;
	assert_int_equal(ring_init(&ring, 8192), 0);
	reass_init(&q);
	reass_init(&empty);
	sack_rcv_init(&rs);
	for (i = 1; i <= 6; i++) {
		reass_input(&q, &ring, rcv_nxt, S(1000 + 200 * i), data, 100, false, &res);
		sack_rcv_note(&rs, &res);
	}
	memset(b, 0xee, sizeof(b));
	n = sack_rcv_fill(&rs, &q, b, 8);
	assert_int_equal(n, TCP_MAX_SACK_BLOCKS);
	for (i = TCP_MAX_SACK_BLOCKS; i < 8; i++)
		assert_int_equal(b[i].left, 0xeeeeeeeeu);
	assert_int_equal(b[0].left, 2200);              /* the newest first */
	/* The queue no longer holding them: none of the remembered blocks. */
	n = sack_rcv_fill(&rs, &empty, b, 4);
	assert_int_equal(n, 0);
	ring_destroy(&ring);
}

/* ================= scoreboard ================= */

static uint32_t upd(sack_board *sb, uint32_t una, uint32_t max, const uint32_t *lr, unsigned n,
		    sack_update *u)
{
	tcp_sack_block b[4];
	unsigned i;

	for (i = 0; i < n; i++) {
		b[i].left = lr[2 * i];
		b[i].right = lr[2 * i + 1];
	}
	return sack_board_update(sb, S(una), S(max), b, n, u);
}

static void check_board(const sack_board *sb, const uint32_t *lr, unsigned n)
{
	unsigned i;
	uint32_t total = 0;

	assert_int_equal(sb->n, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(sb->r[i].start.v, lr[2 * i]);
		assert_int_equal(sb->r[i].end.v, lr[2 * i + 1]);
		total += lr[2 * i + 1] - lr[2 * i];
	}
	assert_int_equal(sb->sacked, total);
}

static void test_board_merge(void **state)
{
	sack_board sb;
	sack_update u;

	(void)state;
	sack_board_init(&sb, S(1000));
	assert_int_equal(upd(&sb, 1000, 5000, (const uint32_t[]){ 2000, 2100 }, 1, &u), 100);
	assert_int_equal(upd(&sb, 1000, 5000, (const uint32_t[]){ 2300, 2400, 2000, 2100 }, 2, &u), 100);
	check_board(&sb, (const uint32_t[]){ 2000, 2100, 2300, 2400 }, 2);
	/* adjacent: merges */
	assert_int_equal(upd(&sb, 1000, 5000, (const uint32_t[]){ 2100, 2200 }, 1, &u), 100);
	check_board(&sb, (const uint32_t[]){ 2000, 2200, 2300, 2400 }, 2);
	/* bridging and overlapping both */
	assert_int_equal(upd(&sb, 1000, 5000, (const uint32_t[]){ 1900, 2350 }, 1, &u), 200);
	check_board(&sb, (const uint32_t[]){ 1900, 2400 }, 1);
	/* nothing new */
	assert_int_equal(upd(&sb, 1000, 5000, (const uint32_t[]){ 1950, 2050 }, 1, &u), 0);
	assert_false(u.dsack);
	/* lower range inserted before */
	assert_int_equal(upd(&sb, 1000, 5000, (const uint32_t[]){ 1200, 1300 }, 1, &u), 100);
	check_board(&sb, (const uint32_t[]){ 1200, 1300, 1900, 2400 }, 2);
	assert_true(sack_is_sacked(&sb, S(1250)));
	assert_false(sack_is_sacked(&sb, S(1300)));
	assert_int_equal(sack_high_sacked(&sb, S(1000)).v, 2400);
}

static void test_board_ack_splits(void **state)
{
	sack_board sb;
	sack_update u;

	(void)state;
	sack_board_init(&sb, S(1000));
	upd(&sb, 1000, 5000, (const uint32_t[]){ 1200, 1300, 1500, 1800 }, 2, &u);
	/* the cumulative ACK lands inside the second range: the part below
	 * goes, the rest stays */
	sack_board_ack(&sb, S(1600));
	check_board(&sb, (const uint32_t[]){ 1600, 1800 }, 1);
	assert_int_equal(sb.high_rxt.v, 1600);
	/* a block partly below SND.UNA is trimmed */
	assert_int_equal(upd(&sb, 1700, 5000, (const uint32_t[]){ 1650, 1900 }, 1, &u), 100);
	check_board(&sb, (const uint32_t[]){ 1700, 1900 }, 1);
	sack_board_ack(&sb, S(1900));
	check_board(&sb, NULL, 0);
}

static void test_board_invalid_and_dsack(void **state)
{
	sack_board sb;
	sack_update u;

	(void)state;
	sack_board_init(&sb, S(1000));
	/* inverted, empty, beyond what was sent */
	upd(&sb, 1000, 3000, (const uint32_t[]){ 1500, 1400, 1600, 1600, 2900, 3100 }, 3, &u);
	assert_int_equal(u.invalid, 3);
	assert_int_equal(sb.n, 0);
	/* a first block below SND.UNA is a D-SACK */
	upd(&sb, 1000, 3000, (const uint32_t[]){ 800, 900, 1500, 1600 }, 2, &u);
	assert_true(u.dsack);
	assert_int_equal(u.dsack_range.start.v, 800);
	assert_int_equal(u.newly_sacked, 100);
	/* ... also one ending exactly at SND.UNA: the usual D-SACK, for a
	 * spurious retransmission of the segment just below it */
	upd(&sb, 1000, 3000, (const uint32_t[]){ 900, 1000 }, 1, &u);
	assert_true(u.dsack);
	assert_int_equal(u.dsack_range.start.v, 900);
	assert_int_equal(u.dsack_range.end.v, 1000);
	assert_int_equal(u.invalid, 0);
	assert_int_equal(u.newly_sacked, 0);
	/* a first block inside the second is a D-SACK */
	upd(&sb, 1000, 3000, (const uint32_t[]){ 1520, 1540, 1500, 1700 }, 2, &u);
	assert_true(u.dsack);
	assert_int_equal(u.dsack_range.start.v, 1520);
	assert_int_equal(u.newly_sacked, 100);
	check_board(&sb, (const uint32_t[]){ 1500, 1700 }, 1);
	/* ... or equal to it (both edges inclusive) */
	upd(&sb, 1000, 3000, (const uint32_t[]){ 1500, 1700, 1500, 1700 }, 2, &u);
	assert_true(u.dsack);
	assert_int_equal(u.dsack_range.start.v, 1500);
	assert_int_equal(u.dsack_range.end.v, 1700);
	assert_int_equal(u.newly_sacked, 0);
	/* an ordinary first block is not */
	upd(&sb, 1000, 3000, (const uint32_t[]){ 1800, 1900, 1500, 1700 }, 2, &u);
	assert_false(u.dsack);
}

static void test_board_wrap(void **state)
{
	const uint32_t una = 0xfffff000u;
	sack_board sb;
	sack_update u;

	(void)state;
	sack_board_init(&sb, S(una));
	upd(&sb, una, 0x2000, (const uint32_t[]){ 0xfffffe00u, 0x100 }, 1, &u);
	assert_int_equal(u.newly_sacked, 0x300);
	upd(&sb, una, 0x2000, (const uint32_t[]){ 0x200, 0x300, 0xfffff800u, 0xfffff900u }, 2, &u);
	check_board(&sb, (const uint32_t[]){ 0xfffff800u, 0xfffff900u, 0xfffffe00u, 0x100, 0x200, 0x300 }, 3);
	upd(&sb, una, 0x2000, (const uint32_t[]){ 0x100, 0x200 }, 1, &u);
	check_board(&sb, (const uint32_t[]){ 0xfffff800u, 0xfffff900u, 0xfffffe00u, 0x300 }, 2);
	assert_true(sack_is_lost(&sb, S(una), 100));
	sack_board_ack(&sb, S(0x80));
	check_board(&sb, (const uint32_t[]){ 0x80, 0x300 }, 1);
	assert_int_equal(sack_pipe(&sb, S(0x80), S(0x2000), 100), 0x2000 - 0x300);
}

static void test_board_overflow(void **state)
{
	sack_board sb;
	sack_update u;
	uint32_t i, lr[2];

	(void)state;
	sack_board_init(&sb, S(0));
	for (i = 0; i < SACK_MAX_RANGES; i++) {
		lr[0] = 1000 + 200 * i;
		lr[1] = lr[0] + 100;
		upd(&sb, 0, 100000, lr, 1, &u);
	}
	assert_int_equal(sb.n, SACK_MAX_RANGES);
	assert_false(sb.overflowed);
	/* a new highest range is forgotten */
	lr[0] = 1000 + 200 * SACK_MAX_RANGES;
	lr[1] = lr[0] + 100;
	assert_int_equal(upd(&sb, 0, 100000, lr, 1, &u), 0);
	assert_true(sb.overflowed);
	assert_int_equal(sb.n, SACK_MAX_RANGES);
	/* a new lower range evicts the highest */
	assert_int_equal(upd(&sb, 0, 100000, (const uint32_t[]){ 100, 200 }, 1, &u), 100);
	assert_int_equal(sb.n, SACK_MAX_RANGES);
	assert_int_equal(sb.r[0].start.v, 100);
	assert_int_equal(sb.r[SACK_MAX_RANGES - 1].start.v, 1000 + 200 * (SACK_MAX_RANGES - 2));
	assert_int_equal(sb.sacked, 100 * SACK_MAX_RANGES);
	/* growing an existing range still works */
	assert_int_equal(upd(&sb, 0, 100000, (const uint32_t[]){ 1100, 1150 }, 1, &u), 50);
	assert_int_equal(sb.sacked, 100 * SACK_MAX_RANGES + 50);
}

static void test_is_lost(void **state)
{
	sack_board sb;
	sack_update u;

	(void)state;
	sack_board_init(&sb, S(1000));
	/* two ranges, 200 bytes above 1000: (DupThresh-1)*MSS is not exceeded */
	upd(&sb, 1000, 9000, (const uint32_t[]){ 1100, 1200, 1300, 1400 }, 2, &u);
	assert_false(sack_is_lost(&sb, S(1000), 100));
	/* 201 bytes */
	upd(&sb, 1000, 9000, (const uint32_t[]){ 1400, 1401 }, 1, &u);
	assert_true(sack_is_lost(&sb, S(1000), 100));
	assert_false(sack_is_lost(&sb, S(1200), 100));   /* 101 bytes above */
	/* three discontiguous ranges count, whatever their size */
	sack_board_init(&sb, S(1000));
	upd(&sb, 1000, 9000, (const uint32_t[]){ 1100, 1110, 1200, 1210, 1300, 1310 }, 3, &u);
	assert_true(sack_is_lost(&sb, S(1000), 100));
	assert_true(sack_is_lost(&sb, S(1099), 100));
	assert_false(sack_is_lost(&sb, S(1110), 100));
	/* a SACKed byte is not lost */
	assert_false(sack_is_lost(&sb, S(1105), 100));
}

/* una 1000, ten segments of 100 sent; SACKed: 1100-1200, 1300-1400, 1500-1600 */
static void fx_recovery(sack_board *sb)
{
	sack_update u;

	sack_board_init(sb, S(1000));
	upd(sb, 1000, 2000, (const uint32_t[]){ 1500, 1600, 1300, 1400, 1100, 1200 }, 3, &u);
	sack_board_start_recovery(sb, S(1000));
}

static void test_next_seg(void **state)
{
	sack_board sb;
	hsk_seq seq;
	uint32_t len;

	(void)state;
	fx_recovery(&sb);
	/* rule 1: the first hole is lost */
	assert_int_equal(sack_next_seg(&sb, S(1000), S(2000), 100, true, &seq, &len), SACK_NEXT_LOST);
	assert_int_equal(seq.v, 1000);
	assert_int_equal(len, 100);
	sack_board_retransmitted(&sb, S(1100));
	/* the next hole has 200 SACKed bytes above: not lost; rule 2 */
	assert_int_equal(sack_next_seg(&sb, S(1000), S(2000), 100, true, &seq, &len), SACK_NEXT_NEW);
	assert_int_equal(seq.v, 2000);
	/* no new data: rule 3 */
	assert_int_equal(sack_next_seg(&sb, S(1000), S(2000), 100, false, &seq, &len), SACK_NEXT_RESCUE);
	assert_int_equal(seq.v, 1200);
	assert_int_equal(len, 100);
	sack_board_retransmitted(&sb, S(1300));
	assert_int_equal(sack_next_seg(&sb, S(1000), S(2000), 100, false, &seq, &len), SACK_NEXT_RESCUE);
	assert_int_equal(seq.v, 1400);
	sack_board_retransmitted(&sb, S(1500));
	/* holes above the highest SACK are not candidates (1.b) */
	assert_int_equal(sack_next_seg(&sb, S(1000), S(2000), 100, false, &seq, &len), SACK_NEXT_NONE);
	/* a hole longer than an MSS is sent in MSS pieces */
	fx_recovery(&sb);
	sack_board_ack(&sb, S(900));
	{
		sack_update u;

		sack_board_init(&sb, S(0));
		upd(&sb, 0, 2000, (const uint32_t[]){ 1000, 1400 }, 1, &u);
	}
	assert_int_equal(sack_next_seg(&sb, S(0), S(2000), 100, false, &seq, &len), SACK_NEXT_LOST);
	assert_int_equal(seq.v, 0);
	assert_int_equal(len, 100);
	sack_board_retransmitted(&sb, S(950));
	assert_int_equal(sack_next_seg(&sb, S(0), S(2000), 100, false, &seq, &len), SACK_NEXT_LOST);
	assert_int_equal(seq.v, 950);
	assert_int_equal(len, 50);
}

static void test_pipe(void **state)
{
	sack_board sb;

	(void)state;
	fx_recovery(&sb);
	/* [1000,1100) lost: 0; [1200,1300): 100; [1400,1500): 100;
	 * [1600,2000): 400 */
	assert_int_equal(sack_pipe(&sb, S(1000), S(2000), 100), 600);
	/* the lost hole retransmitted: counted once more */
	sack_board_retransmitted(&sb, S(1100));
	assert_int_equal(sack_pipe(&sb, S(1000), S(2000), 100), 700);
	/* a retransmitted hole that is not lost counts twice */
	sack_board_retransmitted(&sb, S(1300));
	assert_int_equal(sack_pipe(&sb, S(1000), S(2000), 100), 800);
	/* nothing SACKed: pipe is the flight size */
	sack_board_init(&sb, S(1000));
	assert_int_equal(sack_pipe(&sb, S(1000), S(2000), 100), 1000);
}

/* The scoreboard against a byte-per-octet model of RFC 6675 (IsLost and
 * SetPipe written literally), with random SACK blocks, cumulative ACKs and
 * retransmissions, across 2^32. */
enum { MW = 2000, MMSS = 100 };

typedef struct model {
	uint32_t una, nxt, high_rxt;   /* offsets from the base */
	uint8_t sacked[MW + 1];
} model;

static bool m_lost(const model *m, uint32_t off)
{
	uint32_t bytes = 0, ranges = 0, i;

	for (i = off + 1; i < m->nxt; i++) {
		if (!m->sacked[i])
			continue;
		bytes++;
		if (!m->sacked[i - 1])
			ranges++;   /* a new discontiguous range starts */
	}
	return ranges >= SACK_DUPTHRESH || bytes > (SACK_DUPTHRESH - 1) * MMSS;
}

/* SetPipe, per octet; IsLost kept incrementally from the top down. */
static uint32_t m_pipe(const model *m)
{
	uint32_t pipe = 0, bytes = 0, ranges = 0, i;

	for (i = m->nxt; i-- > m->una;) {
		if (m->sacked[i]) {
			bytes++;
			if (i == 0 || !m->sacked[i - 1])
				ranges++;
			continue;
		}
		if (!(ranges >= SACK_DUPTHRESH || bytes > (SACK_DUPTHRESH - 1) * MMSS))
			pipe++;
		if (i < m->high_rxt)
			pipe++;
	}
	return pipe;
}

static void test_board_vs_model(void **state)
{
	const uint32_t base = 0xfffffb00u;
	uint64_t x = 0x2545f4914f6cdd1dull;
	static model m;
	sack_board sb;
	sack_update u;
	int round, step;

	(void)state;
	for (round = 0; round < 40; round++) {
		memset(&m, 0, sizeof(m));
		m.nxt = MW;
		sack_board_init(&sb, S(base));
		sack_board_start_recovery(&sb, S(base));
		for (step = 0; step < 30; step++) {
			tcp_sack_block b[3];
			uint32_t nb, i, j, l, r;
			hsk_seq sq;
			uint32_t len;
			int rule;

			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			nb = 1 + (uint32_t)(x % 3);
			for (i = 0; i < nb; i++) {
				l = m.una + (uint32_t)((x >> (8 + 8 * i)) % ((MW - m.una) / MMSS + 1)) * MMSS;
				r = l + MMSS * (1 + (uint32_t)((x >> (30 + 5 * i)) % 3));
				if (r > MW)
					r = MW;
				if (l >= r)
					l = r - MMSS;
				b[i].left = base + l;
				b[i].right = base + r;
			}
			/* sometimes the cumulative ACK advances first */
			if ((x >> 60) % 4 == 0 && m.una < MW) {
				m.una += MMSS * (uint32_t)((x >> 56) % 4);
				if (m.una > MW)
					m.una = MW;
			}
			sack_board_update(&sb, S(base + m.una), S(base + MW), b, nb, &u);
			for (i = 0; i < nb; i++) {
				if (i == 0 && u.dsack)
					continue;
				for (j = b[i].left - base; j < b[i].right - base; j++)
					if (j >= m.una)
						m.sacked[j] = 1;
			}
			if (m.high_rxt < m.una)
				m.high_rxt = m.una;
			/* retransmit what NextSeg says, sometimes */
			rule = sack_next_seg(&sb, S(base + m.una), S(base + MW), MMSS, false, &sq, &len);
			if (rule == SACK_NEXT_LOST || rule == SACK_NEXT_RESCUE) {
				uint32_t off = sq.v - base;

				/* rule 1/3: the lowest unSACKed octet >= HighRxt
				 * below the highest SACK; rule 1 iff it is lost */
				for (j = m.high_rxt; j < MW && m.sacked[j]; j++)
					;
				assert_int_equal(off, j);
				assert_int_equal(rule == SACK_NEXT_LOST, m_lost(&m, off));
				assert_false(m.sacked[off + len - 1]);
				if ((x >> 50) % 2) {
					sack_board_retransmitted(&sb, seq_add(sq, len));
					m.high_rxt = off + len;
				}
			}
			/* the model and the board agree, octet by octet */
			for (j = m.una; j < MW; j += 7) {
				assert_int_equal(sack_is_sacked(&sb, S(base + j)), m.sacked[j]);
				if (!m.sacked[j])
					assert_int_equal(sack_is_lost(&sb, S(base + j), MMSS), m_lost(&m, j));
			}
			assert_int_equal(sack_pipe(&sb, S(base + m.una), S(base + MW), MMSS), m_pipe(&m));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rcv_recency),
		cmocka_unit_test(test_rcv_dsack),
		cmocka_unit_test(test_rcv_with_reass),
		cmocka_unit_test(test_rcv_fill_bounds),
		cmocka_unit_test(test_board_merge),
		cmocka_unit_test(test_board_ack_splits),
		cmocka_unit_test(test_board_invalid_and_dsack),
		cmocka_unit_test(test_board_wrap),
		cmocka_unit_test(test_board_overflow),
		cmocka_unit_test(test_is_lost),
		cmocka_unit_test(test_next_seg),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_board_vs_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
