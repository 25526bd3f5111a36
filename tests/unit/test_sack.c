/* SACK: receiver blocks (RFC 2018/2883), the sender's scoreboard (RFC 6675:
 * merging, trimming, wrap-around, overflow, IsLost, NextSeg, SetPipe) and
 * RACK-TLP (RFC 8985). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "handshake.h"
#include "tcp/cc.h"
#include "tcp/rtt.h"
#include "tcp/sack.h"

#define MS 1000000ull

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

/* ================= RACK-TLP ================= */

static rack_seg store[16];

/* Ten segments of 100 bytes from `una`, sent 1 ms apart from t = 0. */
static void fx_rack(rack *r, uint32_t una)
{
	uint32_t i;

	rack_init(r, store, 16);
	for (i = 0; i < 10; i++)
		assert_int_equal(rack_on_send(r, S(una + 100 * i), 100, i * MS), 0);
	assert_int_equal(rack_pipe(r), 1000);
}

static rack_ack mk_ack(uint32_t una, const tcp_sack_block *b, unsigned n, uint64_t now)
{
	rack_ack a = { .snd_una = S(una), .blk = b, .nblk = n, .min_rtt = 50 * MS,
		       .srtt = 60 * MS, .now = now };

	return a;
}

static void test_rack_records(void **state)
{
	rack r;
	rack_result res;
	rack_ack a;
	uint32_t i;

	(void)state;
	fx_rack(&r, 1000);
	a = mk_ack(1000, NULL, 0, 0);
	a.snd_nxt = S(2000);
	/* the ring holds 16 records */
	for (i = 10; i < 16; i++)
		assert_int_equal(rack_on_send(&r, S(1000 + 100 * i), 100, 20 * MS), 0);
	assert_true(rack_full(&r));
	assert_int_equal(rack_on_send(&r, S(2600), 100, 20 * MS), -HSK_ENOBUFS);
	/* a cumulative ACK of three and a half segments */
	a = mk_ack(1350, NULL, 0, 55 * MS);
	a.snd_nxt = S(2600);
	rack_on_ack(&r, &a, &res);
	assert_int_equal(res.acked, 350);
	assert_int_equal(res.delivered, 350);
	assert_int_equal(r.count, 13);
	assert_int_equal(rack_pipe(&r), 1250);
	/* the RTT of the newest segment fully acked (sent at 2 ms) */
	assert_int_equal(res.rtt_sample, 53 * MS);
	/* records wrap around the ring */
	for (i = 0; i < 3; i++)
		assert_int_equal(rack_on_send(&r, S(2600 + 100 * i), 100, 60 * MS), 0);
	assert_true(rack_full(&r));
	a = mk_ack(2900, NULL, 0, 120 * MS);
	a.snd_nxt = S(2900);
	rack_on_ack(&r, &a, &res);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.bytes, 0);
	assert_int_equal(res.acked, 1550);
	assert_int_equal(res.rtt_sample, 60 * MS);
}

/* rack_on_cum_ack (recovery.c's loss-free ACK) against rack_on_ack, the
 * general way, on random rings of records without flags: wrapped or not,
 * with gaps, any send times, RACK's state before anything was delivered
 * or after, ACKs of nothing, of part of a record, of some or all. The
 * result, every field of the RACK state and every record must agree. */
static uint64_t xs(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void expect_same_rack(const rack *a, const rack *b, const rack_seg *sa,
			     const rack_seg *sb)
{
	assert_int_equal(a->cap, b->cap);
	assert_int_equal(a->head, b->head);
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->bytes, b->bytes);
	assert_int_equal(a->sacked_bytes, b->sacked_bytes);
	assert_int_equal(a->lost_bytes, b->lost_bytes);
	assert_int_equal(a->segs_sacked, b->segs_sacked);
	assert_int_equal(a->retrans_segs, b->retrans_segs);
	assert_int_equal(a->have_ts, b->have_ts);
	if (a->have_ts) {
		assert_int_equal(a->xmit_ts, b->xmit_ts);
		assert_int_equal(a->end_seq.v, b->end_seq.v);
		assert_int_equal(a->rtt, b->rtt);
	}
	assert_int_equal(a->have_fack, b->have_fack);
	if (a->have_fack)
		assert_int_equal(a->fack.v, b->fack.v);
	assert_int_equal(a->reo_wnd, b->reo_wnd);
	assert_int_equal(a->dsack_round_on, b->dsack_round_on);
	assert_int_equal(a->dsack_round.v, b->dsack_round.v);
	assert_int_equal(a->reo_wnd_mult, b->reo_wnd_mult);
	assert_int_equal(a->reo_wnd_persist, b->reo_wnd_persist);
	assert_int_equal(a->reordering_seen, b->reordering_seen);
	assert_int_equal(a->tlp_on, b->tlp_on);
	for (uint32_t i = 0; i < a->count; i++) {
		const rack_seg *x = &sa[(a->head + i) & (a->cap - 1)];
		const rack_seg *y = &sb[(b->head + i) & (b->cap - 1)];

		assert_int_equal(x->start.v, y->start.v);
		assert_int_equal(x->end.v, y->end.v);
		assert_int_equal(x->xmit, y->xmit);
		assert_int_equal(x->flags, y->flags);
	}
}

static void test_rack_cum_ack_equals_general(void **state)
{
	enum { CAP = 32 };
	static rack_seg sa[CAP], sb[CAP];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned popped = 0, samples = 0;

	(void)state;
	for (int trial = 0; trial < 20000; trial++) {
		rack a, b;
		rack_result ra, rb;
		uint32_t n = (uint32_t)(xs(&x) % (CAP + 1));
		uint32_t seq = (uint32_t)xs(&x), first = seq;
		uint64_t t = xs(&x) % (1000 * MS);

		rack_init(&a, sa, CAP);
		a.head = (uint32_t)(xs(&x) % CAP);      /* wrapped, or not */
		for (uint32_t i = 0; i < n; i++) {
			uint32_t len = 1 + (uint32_t)(xs(&x) % 3000);

			if (xs(&x) % 8 == 0)
				seq += (uint32_t)(xs(&x) % 5000);   /* a gap */
			if (i == 0)
				first = seq;
			switch (xs(&x) % 4) {                    /* any send times */
			case 0: break;
			case 1: t += xs(&x) % (5 * MS); break;
			case 2: t -= t > 2 * MS ? xs(&x) % (2 * MS) : 0; break;
			default: t = xs(&x) % (1000 * MS); break;
			}
			assert_int_equal(rack_on_send(&a, S(seq), len, t), 0);
			seq += len;
		}
		/* RACK's state from earlier ACKs, or none yet */
		if (xs(&x) % 3) {
			a.have_fack = true;
			a.fack = S(first + (uint32_t)(xs(&x) % 20000) - 10000);
		}
		if (xs(&x) % 3) {
			a.have_ts = true;
			a.xmit_ts = xs(&x) % 3 ? t - xs(&x) % (t + 1) : xs(&x) % (1000 * MS);
			a.end_seq = S(first + (uint32_t)(xs(&x) % 20000) - 10000);
			a.rtt = xs(&x) % (100 * MS);
		}
		a.reordering_seen = xs(&x) % 4 == 0;
		a.reo_wnd_mult = (uint8_t)(1 + xs(&x) % 4);
		a.reo_wnd_persist = (uint8_t)(xs(&x) % 17);
		if (xs(&x) % 3 == 0) {
			a.dsack_round_on = true;
			a.dsack_round = S(first + (uint32_t)(xs(&x) % 40000));
		}
		a.reo_wnd = xs(&x);
		/* an ACK anywhere from below the first record to past the last */
		uint32_t una = first + (uint32_t)(xs(&x) % (seq - first + 2000)) - 1000;
		if (xs(&x) % 4 == 0 && n)
			una = seq;
		uint64_t now = t + xs(&x) % (50 * MS);
		if (xs(&x) % 8 == 0)
			now = t;                /* the same instant: an RTT of 0 */
		uint64_t min_rtt = xs(&x) % 3 ? xs(&x) % (40 * MS) : 0;
		uint64_t srtt = xs(&x) % 3 ? xs(&x) % (60 * MS) : 0;
		/* what the engine sends: nothing above the records, no ACK
		 * below what was acknowledged before */
		if (n && seq_lt(S(una), S(first)))
			una = first;
		if (!n || seq_gt(S(una), S(seq)))
			una = n ? seq : first;
		memcpy(sb, sa, sizeof(sa));
		b = a;
		b.seg = sb;
		rack_ack ack = { .snd_una = S(una), .snd_nxt = S(seq), .min_rtt = min_rtt,
				 .srtt = srtt, .now = now };
		rack_on_ack(&b, &ack, &rb);
		uint32_t before = a.count;
		rack_on_cum_ack(&a, S(una), min_rtt, srtt, now, &ra);
		popped += before - a.count;
		samples += ra.rtt_sample != 0;
		assert_int_equal(ra.acked, rb.acked);
		assert_int_equal(ra.delivered, rb.delivered);
		assert_int_equal(ra.newly_sacked, rb.newly_sacked);
		assert_int_equal(ra.newly_lost, rb.newly_lost);
		assert_int_equal(ra.rtt_sample, rb.rtt_sample);
		assert_int_equal(ra.reo_timeout, rb.reo_timeout);
		expect_same_rack(&a, &b, sa, sb);
	}
	/* the walks were walked */
	assert_true(popped > 50000 && samples > 5000);
}

static void test_rack_loss_by_time(void **state)
{
	rack r;
	rack_result res;
	rack_ack a;
	tcp_sack_block b = { 1400, 1500 };   /* segment 5, sent at 4 ms */
	hsk_seq s;
	uint32_t len, lost;
	uint64_t t;

	(void)state;
	fx_rack(&r, 1000);
	a = mk_ack(1000, &b, 1, 60 * MS);
	a.snd_nxt = S(2000);
	rack_on_ack(&r, &a, &res);
	assert_int_equal(res.newly_sacked, 100);
	assert_int_equal(r.rtt, 56 * MS);
	assert_int_equal(res.rtt_sample, 56 * MS);
	/* reo_wnd = min_rtt / 4 = 12.5 ms: segments 1-4 (sent 0..3 ms) are
	 * due at 68.5..71.5 ms; the timer covers the last of them */
	assert_int_equal(r.reo_wnd, 12500000ull);
	assert_int_equal(res.newly_lost, 0);
	assert_int_equal(res.reo_timeout, 71500000ull - 60 * MS);
	assert_int_equal(rack_pipe(&r), 900);
	/* at 70 ms segments 1 and 2 are lost */
	t = rack_detect_loss(&r, 70 * MS, &lost);
	assert_int_equal(lost, 200);
	assert_int_equal(t, 1500000ull);
	assert_int_equal(rack_pipe(&r), 700);
	assert_true(rack_next_lost(&r, &s, &len));
	assert_int_equal(s.v, 1000);
	assert_int_equal(len, 100);
	/* segments sent after the delivered one are never lost by RACK */
	t = rack_detect_loss(&r, 10000 * MS, &lost);
	assert_int_equal(lost, 200);
	assert_int_equal(t, 0);
	assert_int_equal(r.lost_bytes, 400);
	/* retransmitting puts them back in flight, one at a time */
	assert_true(rack_on_retransmit(&r, S(1000), 10001 * MS));
	assert_int_equal(rack_pipe(&r), 600);
	assert_true(rack_next_lost(&r, &s, &len));
	assert_int_equal(s.v, 1100);
	assert_false(rack_on_retransmit(&r, S(5000), 10001 * MS));
}

static void test_rack_dupthresh_no_window(void **state)
{
	rack r;
	rack_result res;
	rack_ack a;
	tcp_sack_block b = { 1400, 1700 };   /* segments 5-7, sent 4..6 ms */

	(void)state;
	fx_rack(&r, 1000);
	a = mk_ack(1000, &b, 1, 62 * MS);
	a.snd_nxt = S(2000);
	rack_on_ack(&r, &a, &res);
	/* three SACKed segments and no reordering seen: reo_wnd = 0, so
	 * segments sent at or before 62 - 56 = 6 ms... 1-4 are lost */
	assert_int_equal(r.reo_wnd, 0);
	assert_int_equal(res.newly_lost, 400);
	assert_int_equal(res.reo_timeout, 0);
	assert_int_equal(rack_pipe(&r), 1000 - 300 - 400);
}

static void test_rack_reordering(void **state)
{
	rack r;
	rack_result res;
	rack_ack a;
	tcp_sack_block b1 = { 1400, 1700 }, b2[2] = { { 1200, 1300 }, { 1400, 1700 } };

	(void)state;
	fx_rack(&r, 1000);
	/* first SACK: 5-7; segments 1-4 are lost at once (reo_wnd 0)... */
	a = mk_ack(1000, &b1, 1, 62 * MS);
	a.snd_nxt = S(2000);
	a.in_recovery = true;
	rack_on_ack(&r, &a, &res);
	assert_false(r.reordering_seen);
	/* ...but segment 3 then arrives, never retransmitted: reordering */
	a = mk_ack(1000, b2, 2, 63 * MS);
	a.snd_nxt = S(2000);
	a.in_recovery = true;
	rack_on_ack(&r, &a, &res);
	assert_true(r.reordering_seen);
	assert_int_equal(res.newly_sacked, 100);
	/* from now on the window is min_rtt / 4 even in recovery */
	assert_int_equal(r.reo_wnd, 12500000ull);
}

static void test_rack_retransmission_ambiguity(void **state)
{
	rack r;
	rack_result res;
	rack_ack a;

	(void)state;
	fx_rack(&r, 1000);
	assert_true(rack_on_retransmit(&r, S(1000), 100 * MS));
	/* an ACK 10 ms after the retransmission, faster than min_rtt: the
	 * original was delivered; neither RTT nor RACK state taken */
	a = mk_ack(1100, NULL, 0, 110 * MS);
	a.snd_nxt = S(2000);
	rack_on_ack(&r, &a, &res);
	assert_int_equal(res.acked, 100);
	assert_int_equal(res.rtt_sample, 0);
	assert_false(r.have_ts);
	/* with timestamps: an echo older than the retransmission says the
	 * same */
	assert_true(rack_on_retransmit(&r, S(1100), 200 * MS));
	a = mk_ack(1200, NULL, 0, 300 * MS);
	a.snd_nxt = S(2000);
	a.has_ecr = true;
	a.ts_tick = MS;
	a.ts_offset = 5;
	a.ts_ecr = 5 + 150;          /* TSval of a segment sent at 150 ms */
	rack_on_ack(&r, &a, &res);
	assert_false(r.have_ts);
	assert_int_equal(res.rtt_sample, 0);
	/* an echo of the retransmission's TSval: RACK uses it, but the RTT
	 * is still not offered as an estimator sample (Karn) */
	assert_true(rack_on_retransmit(&r, S(1200), 400 * MS));
	a = mk_ack(1300, NULL, 0, 470 * MS);
	a.snd_nxt = S(2000);
	a.has_ecr = true;
	a.ts_tick = MS;
	a.ts_offset = 5;
	a.ts_ecr = 5 + 400;
	rack_on_ack(&r, &a, &res);
	assert_true(r.have_ts);
	assert_int_equal(r.rtt, 70 * MS);
	assert_int_equal(res.rtt_sample, 0);
}

static void test_rack_dsack_widens_window(void **state)
{
	rack r;
	rack_result res;
	rack_ack a;
	tcp_sack_block b[2] = { { 900, 1000 }, { 1400, 1500 } };
	int i;

	(void)state;
	fx_rack(&r, 1000);
	a = mk_ack(1000, b, 2, 60 * MS);
	a.snd_nxt = S(2000);
	a.dsack = true;
	rack_on_ack(&r, &a, &res);
	assert_int_equal(r.reo_wnd_mult, 2);
	assert_int_equal(r.reo_wnd, 25 * MS);
	assert_int_equal(res.newly_sacked, 100);   /* the D-SACK block is skipped */
	/* another D-SACK in the same round does not widen it again */
	rack_on_ack(&r, &a, &res);
	assert_int_equal(r.reo_wnd_mult, 2);
	/* the window is capped at SRTT */
	r.reo_wnd_mult = 10;
	a.dsack = false;
	rack_on_ack(&r, &a, &res);
	assert_int_equal(r.reo_wnd, 60 * MS);
	/* 16 recoveries later it is back to 1 */
	for (i = 0; i < 16; i++) {
		assert_int_equal(r.reo_wnd_mult, 10);
		rack_exit_recovery(&r);
	}
	assert_int_equal(r.reo_wnd_mult, 1);
}

static void test_rack_rto(void **state)
{
	rack r;
	rack_result res;
	rack_ack a;
	tcp_sack_block b = { 1900, 2000 };

	(void)state;
	fx_rack(&r, 1000);
	/* no RACK state yet: every unacked segment old enough is lost */
	rack_on_rto(&r, 5 * MS);
	assert_int_equal(r.lost_bytes, 600);   /* sent at 0..5 ms */
	fx_rack(&r, 1000);
	a = mk_ack(1000, &b, 1, 60 * MS);       /* the last segment SACKed */
	a.snd_nxt = S(2000);
	rack_on_ack(&r, &a, &res);
	assert_int_equal(res.newly_lost, 0);    /* reo_wnd 12.5, rtt 51 */
	/* at 62 ms the first is lost anyway, and those sent more than
	 * 63.5 ms before: none */
	rack_on_rto(&r, 62 * MS);
	assert_int_equal(r.lost_bytes, 100);
	assert_true(r.seg[r.head].flags & RACK_LOST);
	rack_on_rto(&r, 66 * MS);               /* 66 - 63.5 = 2.5: 0..2 ms */
	assert_int_equal(r.lost_bytes, 300);
}

/* rack_next_lost_after: the first lost record ending after a sequence,
 * what rec_send_lost walks the records with, once per loop. */
static void test_rack_next_lost_after(void **state)
{
	rack r;
	hsk_seq s;
	uint32_t len;

	(void)state;
	fx_rack(&r, 1000);
	rack_on_rto(&r, 5 * MS);                /* 1000..1600 lost */
	assert_true(rack_next_lost_after(&r, S(1000), &s, &len));
	assert_int_equal(s.v, 1000);
	assert_int_equal(len, 100);
	assert_true(rack_next_lost_after(&r, S(1150), &s, &len));
	assert_int_equal(s.v, 1100);              /* the record holding 1150 */
	assert_true(rack_next_lost_after(&r, S(1500), &s, &len));
	assert_int_equal(s.v, 1500);
	assert_false(rack_next_lost_after(&r, S(1600), &s, &len));
	assert_true(rack_on_retransmit(&r, S(1100), 6 * MS));
	assert_true(rack_next_lost_after(&r, S(1100), &s, &len));
	assert_int_equal(s.v, 1200);              /* 1100 no longer lost */
	assert_true(rack_next_lost(&r, &s, &len));
	assert_int_equal(s.v, 1000);
}

static void test_rack_seq_wrap(void **state)
{
	const uint32_t una = 0xfffffe00u;
	rack r;
	rack_result res;
	rack_ack a;
	tcp_sack_block b = { una + 700, una + 1000 };   /* past 2^32 */

	(void)state;
	fx_rack(&r, una);
	a = mk_ack(una + 250, &b, 1, 62 * MS);
	a.snd_nxt = S(una + 1000);
	rack_on_ack(&r, &a, &res);
	assert_int_equal(res.acked, 250);
	assert_int_equal(res.newly_sacked, 300);
	assert_int_equal(res.delivered, 550);
	assert_int_equal(res.newly_lost, 450);   /* 250..700, reo_wnd 0 */
	assert_int_equal(rack_pipe(&r), 0);
	assert_int_equal(r.seg[r.head].start.v, una + 250);
	/* acking SACKed data delivers nothing new; lost data, delivered
	 * after all, does */
	a = mk_ack(una + 1000, NULL, 0, 63 * MS);
	a.snd_nxt = S(una + 1000);
	rack_on_ack(&r, &a, &res);
	assert_int_equal(res.acked, 750);
	assert_int_equal(res.delivered, 450);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.lost_bytes, 0);
	assert_int_equal(r.sacked_bytes, 0);
}

static void test_tlp(void **state)
{
	rack r;

	(void)state;
	fx_rack(&r, 1000);
	assert_true(rack_tlp_may_arm(&r, true, false));
	assert_false(rack_tlp_may_arm(&r, false, false));
	assert_false(rack_tlp_may_arm(&r, true, true));
	/* PTO = 2 SRTT, capped by the RTO */
	assert_int_equal(rack_pto_deadline(&r, 10 * MS, 1000 * MS, 0), 1020 * MS);
	assert_int_equal(rack_pto_deadline(&r, 10 * MS, 1000 * MS, 1015 * MS), 1015 * MS);
	assert_int_equal(rack_pto_deadline(&r, 0, 1000 * MS, 0), 2000 * MS);
	/* one segment in flight: plus the worst-case delayed ACK */
	rack_init(&r, store, 16);
	rack_on_send(&r, S(5000), 100, 0);
	assert_int_equal(rack_pto_deadline(&r, 10 * MS, 1000 * MS, 0), 1220 * MS);

	/* a probe of new data, acked: no loss */
	rack_tlp_sent(&r, S(5100), false);
	assert_false(rack_tlp_may_arm(&r, true, false));
	assert_int_equal(rack_tlp_on_ack(&r, S(5000), false, S(0), false), RACK_TLP_NONE);
	assert_int_equal(rack_tlp_on_ack(&r, S(5100), false, S(0), false), RACK_TLP_DONE);
	assert_false(r.tlp_on);
	/* a retransmitted probe, then a D-SACK for it: both arrived */
	rack_tlp_sent(&r, S(5100), true);
	assert_int_equal(rack_tlp_on_ack(&r, S(5100), true, S(5100), false), RACK_TLP_DONE);
	/* a retransmitted probe acked with more beyond it: it repaired a loss */
	rack_tlp_sent(&r, S(5100), true);
	assert_int_equal(rack_tlp_on_ack(&r, S(5100), false, S(0), false), RACK_TLP_NONE);
	assert_int_equal(rack_tlp_on_ack(&r, S(5200), false, S(0), false), RACK_TLP_LOSS);
	/* a duplicate ACK without SACK at the probe's end: the original was lost */
	rack_tlp_sent(&r, S(5100), true);
	assert_int_equal(rack_tlp_on_ack(&r, S(5100), false, S(0), true), RACK_TLP_LOSS);
	assert_int_equal(rack_tlp_on_ack(&r, S(5100), false, S(0), true), RACK_TLP_NONE);
}

/* ================= the mechanisms together =================
 *
 * A miniature sender and receiver wired the way docs/bytestream.md tells
 * the engine to wire them (RACK-TLP loss detection, the RFC 6675 scoreboard,
 * CUBIC, RFC 6298 RTO; reassembly and SACK blocks at the receiver), over a
 * link with a one-way delay of 10 ms, random loss and some reordering. The
 * receiver must get every byte once, in order; the sender must finish. */

enum { L_MSS = 1000, L_MAXPKT = 2048, L_RECS = 256 };
#define L_DELAY (10 * MS)

typedef struct lpkt {
	uint64_t at, order;   /* order: FIFO among packets due together */
	bool live, is_ack;
	uint32_t seq, len, ack, wnd;
	uint8_t nsack;
	tcp_sack_block sack[4];
} lpkt;

typedef struct lsim {
	uint64_t now, x, order;
	unsigned loss_pct;
	bool reorder;
	lpkt q[L_MAXPKT];
	/* sender */
	uint32_t iss, total, peer_wnd;
	hsk_seq una, nxt, recover;
	bool in_rec, in_loss;
	cc_state cc;
	rtt_params rp;
	rtt_est rt;
	sack_board sb;
	rack rk;
	rack_seg recs[L_RECS];
	uint64_t rto_at, reo_at, pto_at;
	bool use_tlp;
	unsigned ndrops;          /* drop the first copy of these offsets */
	uint32_t drops[4];
	unsigned rtx, rtos, recoveries, sent, tlps, tlp_losses;
	/* receiver */
	hsk_ring ring;
	reass rq;
	sack_rcv rs;
	hsk_seq rcv_nxt;
	uint32_t delivered;
} lsim;

static uint32_t lrand(lsim *m)
{
	m->x ^= m->x << 13;
	m->x ^= m->x >> 7;
	m->x ^= m->x << 17;
	return (uint32_t)(m->x >> 16);
}

static uint8_t lpat(uint32_t off) { return (uint8_t)(off * 13u + (off >> 9)); }

static void lsend(lsim *m, const lpkt *p)
{
	unsigned i;

	if (lrand(m) % 100 < m->loss_pct)
		return;
	for (i = 0; i < L_MAXPKT && m->q[i].live; i++)
		;
	assert_true(i < L_MAXPKT);
	m->q[i] = *p;
	m->q[i].live = true;
	m->q[i].order = m->order++;
	/* one packet in eight is held back up to 3 ms: reordering */
	m->q[i].at = m->now + L_DELAY;
	if (m->reorder && lrand(m) % 8 == 0)
		m->q[i].at += lrand(m) % (3 * MS);
}

static void lsend_data(lsim *m, hsk_seq seq, uint32_t len)
{
	lpkt p = { .seq = seq.v, .len = len };

	m->sent++;
	for (unsigned i = 0; i < m->ndrops; i++) {
		if (seq.v - m->iss == m->drops[i]) {
			m->drops[i] = UINT32_MAX;
			return;
		}
	}
	lsend(m, &p);
}

static void lenter_recovery(lsim *m)
{
	if (m->in_rec || m->in_loss)
		return;
	m->in_rec = true;
	m->recover = m->nxt;
	cc_enter_recovery(&m->cc, (uint32_t)seq_diff(m->nxt, m->una), true, m->now);
	sack_board_start_recovery(&m->sb, m->una);
	m->recoveries++;
}

static void loutput(lsim *m)
{
	hsk_seq s;
	uint32_t len;

	for (;;) {
		uint32_t pipe = rack_pipe(&m->rk), room = cc_room(&m->cc, pipe);
		uint32_t sent_off = (uint32_t)seq_diff(m->nxt, seq_of(m->iss));
		uint32_t wnd_room = (uint32_t)seq_diff(seq_add(m->una, m->peer_wnd), m->nxt);

		if (room == 0)
			break;
		if (rack_next_lost(&m->rk, &s, &len)) {
			lsend_data(m, s, len);
			assert_true(rack_on_retransmit(&m->rk, s, m->now));
			sack_board_retransmitted(&m->sb, seq_add(s, len));
			cc_prr_sent(&m->cc, len);
			m->rtx++;
			continue;
		}
		len = m->total - sent_off;
		if (len > L_MSS)
			len = L_MSS;
		if ((int32_t)wnd_room < (int32_t)len)
			len = (int32_t)wnd_room > 0 ? wnd_room : 0;
		if (len == 0 || room < len)
			break;
		if (rack_on_send(&m->rk, m->nxt, len, m->now) < 0)
			break;
		lsend_data(m, m->nxt, len);
		cc_prr_sent(&m->cc, len);
		m->nxt = seq_add(m->nxt, len);
	}
	if (!seq_eq(m->una, m->nxt) && m->rto_at == 0)
		m->rto_at = m->now + rtt_rto(&m->rt, &m->rp);
}

/* The probe timer runs ahead of the RTO when RACK-TLP allows it. */
static void larm_pto(lsim *m)
{
	m->pto_at = 0;
	if (m->use_tlp && m->rto_at && rack_tlp_may_arm(&m->rk, true, m->in_rec || m->in_loss))
		m->pto_at = rack_pto_deadline(&m->rk, m->rt.srtt, m->now, m->rto_at);
}

static void lprobe(lsim *m)
{
	uint32_t sent_off = (uint32_t)seq_diff(m->nxt, seq_of(m->iss));
	uint32_t wnd_room = (uint32_t)seq_diff(seq_add(m->una, m->peer_wnd), m->nxt);
	uint32_t len = m->total - sent_off;
	hsk_seq s;

	if (len > L_MSS)
		len = L_MSS;
	m->pto_at = 0;
	m->tlps++;
	if (len && (int32_t)wnd_room >= (int32_t)len && rack_on_send(&m->rk, m->nxt, len, m->now) == 0) {
		lsend_data(m, m->nxt, len);         /* new data probes best */
		m->nxt = seq_add(m->nxt, len);
		rack_tlp_sent(&m->rk, m->nxt, false);
	} else if (rack_last(&m->rk, &s, &len)) {
		lsend_data(m, s, len);
		assert_true(rack_on_retransmit(&m->rk, s, m->now));
		m->rtx++;
		rack_tlp_sent(&m->rk, m->nxt, true);
	}
	m->rto_at = m->now + rtt_rto(&m->rt, &m->rp);
}

static void lsender_ack(lsim *m, const lpkt *p)
{
	hsk_seq ack = seq_of(p->ack);
	uint32_t acked, flight = (uint32_t)seq_diff(m->nxt, m->una);
	sack_update u;
	rack_ack a;
	rack_result res;

	if (seq_lt(ack, m->una) || seq_gt(ack, m->nxt))
		return;
	acked = (uint32_t)seq_diff(ack, m->una);
	sack_board_update(&m->sb, ack, m->nxt, p->sack, p->nsack, &u);
	a = (rack_ack){ .snd_una = ack, .snd_nxt = m->nxt, .blk = p->sack, .nblk = p->nsack,
			.dsack = u.dsack, .min_rtt = m->rt.min_rtt, .srtt = m->rt.srtt,
			.in_recovery = m->in_rec || m->in_loss, .now = m->now };
	rack_on_ack(&m->rk, &a, &res);
	assert_int_equal(res.acked, acked);
	if (rack_tlp_on_ack(&m->rk, ack, u.dsack, u.dsack_range.end,
			    acked == 0 && p->nsack == 0) == RACK_TLP_LOSS) {
		/* the probe repaired a loss: respond as to one */
		m->tlp_losses++;
		cc_enter_recovery(&m->cc, flight, true, m->now);
		cc_exit_recovery(&m->cc, flight, m->now);
	}
	if (res.rtt_sample)
		rtt_add_sample(&m->rt, &m->rp, res.rtt_sample, false, m->now);
	m->una = ack;
	m->peer_wnd = p->wnd;
	if (acked) {
		rtt_backoff_reset(&m->rt);
		if (m->in_loss && seq_ge(m->una, m->recover))
			m->in_loss = false;
		if (m->in_rec && seq_ge(m->una, m->recover)) {
			m->in_rec = false;
			cc_exit_recovery(&m->cc, (uint32_t)seq_diff(m->nxt, m->una), m->now);
			rack_exit_recovery(&m->rk);
		} else {
			cc_ack ca = { .acked = acked, .flight = flight, .srtt = m->rt.srtt,
				      .rtt = res.rtt_sample, .cwnd_limited = true };

			cc_on_ack(&m->cc, &ca, m->now);
		}
		m->rto_at = seq_eq(m->una, m->nxt) ? 0 : m->now + rtt_rto(&m->rt, &m->rp);
	}
	if (m->rk.lost_bytes)
		lenter_recovery(m);
	if (m->in_rec)
		cc_prr_ack(&m->cc, res.delivered, rack_pipe(&m->rk));
	m->reo_at = res.reo_timeout ? m->now + res.reo_timeout : 0;
	/* the records and the scoreboard describe the same flight */
	assert_int_equal(m->rk.bytes, (uint32_t)seq_diff(m->nxt, m->una));
	assert_true(m->rk.sacked_bytes <= m->sb.sacked);
	assert_true(rack_pipe(&m->rk) <= m->rk.bytes);
	loutput(m);
	larm_pto(m);
}

static void lreceiver(lsim *m, const lpkt *p)
{
	uint8_t data[L_MSS], out[4096];
	uint32_t i, n;
	reass_result res;
	lpkt ackp = { .is_ack = true };

	for (i = 0; i < p->len; i++)
		data[i] = lpat(p->seq - m->iss + i);
	m->rcv_nxt = seq_add(m->rcv_nxt, reass_input(&m->rq, &m->ring, m->rcv_nxt, seq_of(p->seq),
						     data, p->len, false, &res));
	sack_rcv_advance(&m->rs, m->rcv_nxt);
	sack_rcv_note(&m->rs, &res);
	/* the application reads everything at once */
	while ((n = ring_read(&m->ring, out, sizeof(out))) > 0) {
		for (i = 0; i < n; i++)
			assert_int_equal(out[i], lpat(m->delivered + i));
		m->delivered += n;
	}
	ackp.ack = m->rcv_nxt.v;
	ackp.wnd = ring_space(&m->ring);
	ackp.nsack = (uint8_t)sack_rcv_fill(&m->rs, &m->rq, ackp.sack, 4);
	lsend(m, &ackp);
}

static void lrun_drop(unsigned loss_pct, bool reorder, uint64_t seed, uint32_t total,
		      uint32_t iss, bool tlp, const uint32_t *drops, unsigned ndrops, lsim *m)
{
	unsigned i, best;
	uint64_t t;

	memset(m, 0, sizeof(*m));
	m->ndrops = ndrops;
	for (i = 0; i < ndrops; i++)
		m->drops[i] = drops[i];
	m->x = seed;
	m->reorder = reorder;
	m->use_tlp = tlp;
	m->loss_pct = loss_pct;
	m->iss = iss;
	m->total = total;
	m->una = m->nxt = m->recover = seq_of(iss);
	m->peer_wnd = 65536;
	rtt_params_default(&m->rp);
	rtt_init(&m->rt, &m->rp);
	cc_init(&m->cc, cc_default(), L_MSS, 0);
	sack_board_init(&m->sb, m->una);
	rack_init(&m->rk, m->recs, L_RECS);
	assert_int_equal(ring_init(&m->ring, 65536), 0);
	reass_init(&m->rq);
	sack_rcv_init(&m->rs);
	m->rcv_nxt = seq_of(iss);
	loutput(m);
	larm_pto(m);
	while (seq_diff(m->una, seq_of(iss)) != (int32_t)total) {
		/* the next event: a packet, the RTO or the reordering timer */
		t = UINT64_MAX;
		best = L_MAXPKT;
		for (i = 0; i < L_MAXPKT; i++)
			if (m->q[i].live && (m->q[i].at < t ||
					     (m->q[i].at == t && m->q[i].order < m->q[best].order)))
				t = m->q[i].at, best = i;
		if (m->reo_at && m->reo_at <= t) {
			uint32_t lost;
			uint64_t next;

			m->now = m->reo_at;
			next = rack_detect_loss(&m->rk, m->now, &lost);
			m->reo_at = next ? m->now + next : 0;
			if (m->rk.lost_bytes)
				lenter_recovery(m);
			loutput(m);
			continue;
		}
		/* the probe takes the RTO's place when they coincide */
		if (m->pto_at && m->pto_at <= t && (!m->rto_at || m->pto_at <= m->rto_at)) {
			m->now = m->pto_at;
			lprobe(m);
			continue;
		}
		if (m->rto_at && m->rto_at <= t) {
			m->now = m->rto_at;
			cc_on_rto(&m->cc, (uint32_t)seq_diff(m->nxt, m->una), m->rt.backoff == 0, m->now);
			rtt_backoff(&m->rt);
			rack_on_rto(&m->rk, m->now);
			m->in_rec = false;
			m->in_loss = true;
			m->recover = m->nxt;
			m->rtos++;
			m->rto_at = 0;
			loutput(m);
			m->rto_at = m->now + rtt_rto(&m->rt, &m->rp);
			m->pto_at = 0;
			continue;
		}
		assert_true(best < L_MAXPKT);   /* something must be pending */
		m->now = t;
		m->q[best].live = false;
		if (m->q[best].is_ack)
			lsender_ack(m, &m->q[best]);
		else
			lreceiver(m, &m->q[best]);
		/* 30 % loss both ways with RTO backoff is slow, not stuck */
		assert_true(m->now < 20000ull * 1000 * MS);
	}
	assert_int_equal(m->delivered, total);
	ring_destroy(&m->ring);
}

static void lrun(unsigned loss_pct, bool reorder, uint64_t seed, uint32_t total, uint32_t iss,
		 bool tlp, lsim *m)
{
	lrun_drop(loss_pct, reorder, seed, total, iss, tlp, NULL, 0, m);
}

static lsim L;

/* The last two segments of a short transfer are lost: nothing follows
 * them to trigger RACK, so without TLP only the RTO repairs them. The probe
 * (the last segment again, 2 SRTT after the last ACK) draws a SACK, RACK
 * then finds the other loss, and no timeout happens. */
static void test_loop_tail_loss(void **state)
{
	static const uint32_t drops[] = { 28000, 29000 };
	uint64_t t_rto, t_tlp;

	(void)state;
	lrun_drop(0, false, 3, 30000, 0xfffffff0u, false, drops, 2, &L);
	assert_int_equal(L.rtos, 1);
	assert_int_equal(L.tlps, 0);
	t_rto = L.now;
	lrun_drop(0, false, 3, 30000, 0xfffffff0u, true, drops, 2, &L);
	assert_int_equal(L.rtos, 0);
	assert_int_equal(L.tlps, 1);
	assert_int_equal(L.rtx, 2);
	assert_int_equal(L.recoveries, 1);
	t_tlp = L.now;
	print_message("tail loss repaired at %llu ms by the RTO, %llu ms by TLP\n",
		      (unsigned long long)(t_rto / MS), (unsigned long long)(t_tlp / MS));
	/* 20 ms RTT: the last ACK at 40 ms, the probe at 80 ms, its SACK at
	 * 100 ms, the retransmission acked at 120 ms */
	assert_int_equal(t_tlp, 120 * MS);
	assert_true(t_rto >= 240 * MS);
	/* a single lost tail segment: the probe waits for a delayed ACK too,
	 * which puts it where the RTO would be; it replaces the RTO */
	lrun_drop(0, false, 3, 30000, 0xfffffff0u, true, drops + 1, 1, &L);
	assert_int_equal(L.rtos, 0);
	assert_int_equal(L.tlps, 1);
}

static void test_loop_lossless(void **state)
{
	(void)state;
	lrun(0, false, 1, 2000000, 0xfff00000u, true, &L);
	assert_int_equal(L.rtx, 0);
	assert_int_equal(L.rtos, 0);
	assert_true(L.sent >= 2000 && L.sent < 2100);   /* some window-limited */
	/* the 64 KiB receive window limits it: about 64 KB per 20 ms RTT, so
	 * 2 MB takes a little over 31 round trips after slow start */
	assert_true(L.now < 900 * MS);
}

/* Reordering without loss: RACK may retransmit spuriously until it has
 * seen reordering (RFC 8985 §6.2); the D-SACKs then widen its window. */
static void test_loop_reordering(void **state)
{
	(void)state;
	lrun(0, true, 7, 2000000, 0x7ffff000u, true, &L);
	print_message("reordering: sent %u rtx %u rto %u recoveries %u reo_wnd_mult %u\n",
		      L.sent, L.rtx, L.rtos, L.recoveries, L.rk.reo_wnd_mult);
	assert_true(L.rk.reordering_seen);
	assert_true(L.rtx < L.sent / 50);
	assert_int_equal(L.rtos, 0);
}

/* Random loss both ways, with and without tail loss probes. */
static void loop_lossy(bool tlp)
{
	static const unsigned loss[] = { 1, 3, 10, 20, 30 };
	unsigned i, seed, sent, rtx, rtos, rec, tlps, all_rtos = 0;

	for (i = 0; i < sizeof(loss) / sizeof(loss[0]); i++) {
		sent = rtx = rtos = rec = tlps = 0;
		for (seed = 1; seed <= 4; seed++) {
			lrun(loss[i], true, 0x9e3779b97f4a7c15ull * seed, 300000,
			     0xffffffffu - 150000 * seed, tlp, &L);
			/* every loss is repaired, mostly without a timeout */
			assert_true(L.rtx > 0);
			if (loss[i] <= 3)
				assert_true(L.rtos <= 2);
			assert_true(L.rtx + L.rtos < L.sent);
			sent += L.sent;
			rtx += L.rtx;
			rtos += L.rtos;
			rec += L.recoveries;
			tlps += L.tlps;
		}
		all_rtos += rtos;
		print_message("%s loss %2u%%, 4 x 300 KB: %u segments, %u retransmitted, "
			      "%u RTOs, %u recoveries, %u probes\n", tlp ? "TLP" : "   ",
			      loss[i], sent, rtx, rtos, rec, tlps);
		if (!tlp)
			assert_int_equal(tlps, 0);
	}
}

static void test_loop_lossy(void **state)
{
	(void)state;
	loop_lossy(false);
}

static void test_loop_lossy_tlp(void **state)
{
	(void)state;
	loop_lossy(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rcv_recency),
		cmocka_unit_test(test_rcv_dsack),
		cmocka_unit_test(test_rcv_with_reass),
		cmocka_unit_test(test_board_merge),
		cmocka_unit_test(test_board_ack_splits),
		cmocka_unit_test(test_board_invalid_and_dsack),
		cmocka_unit_test(test_board_wrap),
		cmocka_unit_test(test_board_overflow),
		cmocka_unit_test(test_is_lost),
		cmocka_unit_test(test_next_seg),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_board_vs_model),
		cmocka_unit_test(test_rack_records),
		cmocka_unit_test(test_rack_cum_ack_equals_general),
		cmocka_unit_test(test_rack_loss_by_time),
		cmocka_unit_test(test_rack_dupthresh_no_window),
		cmocka_unit_test(test_rack_reordering),
		cmocka_unit_test(test_rack_retransmission_ambiguity),
		cmocka_unit_test(test_rack_dsack_widens_window),
		cmocka_unit_test(test_rack_rto),
		cmocka_unit_test(test_rack_next_lost_after),
		cmocka_unit_test(test_rack_seq_wrap),
		cmocka_unit_test(test_tlp),
		cmocka_unit_test(test_loop_lossless),
		cmocka_unit_test(test_loop_reordering),
		cmocka_unit_test(test_loop_tail_loss),
		cmocka_unit_test(test_loop_lossy),
		cmocka_unit_test(test_loop_lossy_tlp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
