/* RACK-TLP (RFC 8985): time-based loss detection over the send records,
 * reordering, DSACK, RTO and the tail loss probe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "handshake.h"
#include "tcp/rtt.h"
#include "tcp/sack.h"

#define MS 1000000ull

static hsk_seq S(uint32_t v) { return seq_of(v); }

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
 * with gaps, send times as the engine writes them (the stack's clock
 * never goes back: equal or later, by a little or a lot), RACK's state
 * before anything was delivered or after (from any time: a retransmission
 * delivered may have been sent after records still out), ACKs of nothing,
 * of part of a record, of some or all. The result, every field of the
 * RACK state and every record must agree. */
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
			switch (xs(&x) % 4) {   /* any times, none going back */
			case 0: break;
			case 1: t += xs(&x) % 3; break;
			case 2: t += xs(&x) % (5 * MS); break;
			default: t += xs(&x) % (1000 * MS); break;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
