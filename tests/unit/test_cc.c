/* Congestion control: the registry, the shared steps (IW, slow start,
 * recovery, RTO, idle), NewReno growth and CUBIC's curve against RFC 9438's
 * formula, K, fast convergence and the Reno-friendly region. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "handshake.h"
#include "tcp/cc.h"

#define MSS 1000u
#define MS 1000000ull
#define SEC 1000000000ull

static uint64_t now;

/* One round trip: a window's worth of ACKs of one MSS each, spread over
 * `rtt`; the sender is cwnd-limited throughout. */
static void round_trip(cc_state *cc, uint64_t rtt)
{
	uint32_t n = cc->cwnd / MSS, i;
	cc_ack a = { .acked = MSS, .srtt = rtt, .cwnd_limited = true };

	if (n == 0)
		n = 1;
	for (i = 0; i < n; i++) {
		now += rtt / n;
		a.flight = cc->cwnd;
		cc_on_ack(cc, &a, now);
	}
}

/* As round_trip, each ACK carrying an RTT sample. */
static void round_trip_sample(cc_state *cc, uint64_t rtt, uint64_t sample)
{
	uint32_t n = cc->cwnd / MSS, i;
	cc_ack a = { .acked = MSS, .srtt = rtt, .rtt = sample, .cwnd_limited = true };

	for (i = 0; i < n; i++) {
		now += rtt / n;
		a.flight = cc->cwnd;
		cc_on_ack(cc, &a, now);
	}
}

static void ack(cc_state *cc, uint32_t bytes, bool limited)
{
	cc_ack a = { .acked = bytes, .flight = cc->cwnd, .srtt = 100 * MS,
		     .cwnd_limited = limited };

	now += MS;
	cc_on_ack(cc, &a, now);
}

static void test_registry(void **state)
{
	size_t i;

	(void)state;
	assert_ptr_equal(cc_find("cubic"), &cc_cubic_ops);
	assert_ptr_equal(cc_find("newreno"), &cc_newreno_ops);
	assert_ptr_equal(cc_find("reno"), &cc_newreno_ops);
	assert_ptr_equal(cc_find("none"), &cc_none_ops);
	assert_null(cc_find("bbr"));
	assert_null(cc_find(NULL));
	assert_ptr_equal(cc_default(), &cc_cubic_ops);
	for (i = 0; cc_at(i); i++)
		assert_non_null(cc_at(i)->name);
	assert_int_equal(i, 3);
}

static void sink(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
}

/* hsk_config.congestion_control names one of the registry's, or the
 * stack is not made (hsk_stack_new: NULL on bad configuration); NULL
 * is the default, cubic. */
static void test_stack_cc_name(void **state)
{
	hsk_config cfg;
	hsk_link link = { .transmit = sink };

	(void)state;
	hsk_config_default(&cfg);
	cfg.seed = 1;
	cfg.congestion_control = "bbr";
	assert_null(hsk_stack_new(&cfg, &link, 0));
	cfg.congestion_control = NULL;
	hsk_stack *s = hsk_stack_new(&cfg, &link, 0);
	assert_non_null(s);
	hsk_stack_free(s);
	cfg.congestion_control = "reno";
	s = hsk_stack_new(&cfg, &link, 0);
	assert_non_null(s);
	hsk_stack_free(s);
}

static void test_initial_window(void **state)
{
	cc_state cc;

	(void)state;
	assert_int_equal(cc_initial_window(1460), 14600);
	assert_int_equal(cc_initial_window(536), 5360);
	assert_int_equal(cc_initial_window(9000), 18000);   /* 2 MSS */
	assert_int_equal(cc_initial_window(4000), 14600);   /* 14600 < 10 MSS */
	cc_init(&cc, &cc_cubic_ops, 1460, 0);
	assert_int_equal(cc.cwnd, 14600);
	assert_int_equal(cc.ssthresh, CC_CWND_MAX);
	assert_true(cc_in_slow_start(&cc));
	assert_int_equal(cc_room(&cc, 4600), 10000);
	assert_int_equal(cc_room(&cc, 20000), 0);
}

static void slow_start_doubles(const cc_ops *ops)
{
	cc_state cc;
	int r;

	now = 0;
	cc_init(&cc, ops, MSS, now);
	assert_int_equal(cc.cwnd, 10 * MSS);
	for (r = 1; r <= 5; r++) {
		round_trip(&cc, 100 * MS);
		assert_int_equal(cc.cwnd, (10u << r) * MSS);
	}
}

static void test_slow_start(void **state)
{
	(void)state;
	slow_start_doubles(&cc_newreno_ops);
	slow_start_doubles(&cc_cubic_ops);
}

static void test_not_cwnd_limited(void **state)
{
	cc_state cc;

	(void)state;
	cc_init(&cc, &cc_newreno_ops, MSS, 0);
	ack(&cc, 5 * MSS, false);
	assert_int_equal(cc.cwnd, 10 * MSS);
	ack(&cc, 5 * MSS, true);
	assert_int_equal(cc.cwnd, 15 * MSS);
}

static void test_slow_start_to_ssthresh(void **state)
{
	cc_state cc;

	(void)state;
	cc_init(&cc, &cc_newreno_ops, MSS, 0);
	cc.ssthresh = 15 * MSS;
	ack(&cc, 8 * MSS, true);   /* 5 MSS of slow start, 3 counted in CA */
	assert_int_equal(cc.cwnd, 15 * MSS);
	assert_int_equal(cc.bytes_acked, 3 * MSS);
	assert_false(cc_in_slow_start(&cc));
	ack(&cc, 12 * MSS, true);  /* 15 MSS counted: one MSS more */
	assert_int_equal(cc.cwnd, 16 * MSS);
	assert_int_equal(cc.bytes_acked, 0);
}

/* RFC 9406 HyStart++: a steady RTT leaves slow start alone. */
static void test_hystart_steady(void **state)
{
	cc_state cc;
	int r;

	(void)state;
	now = 0;
	cc_init(&cc, &cc_newreno_ops, MSS, 0);
	for (r = 1; r <= 6; r++) {
		round_trip_sample(&cc, 20 * MS, 20 * MS + (uint64_t)r * 100000);
		assert_int_equal(cc.cwnd, (10u << r) * MSS);
	}
	assert_int_equal(cc.hs_state, CC_HS_SS);
}

/* A NewReno sender from time 0: three rounds of 20 ms in slow start
 * (80 MSS), then two of 30 ms, a rise that puts HyStart++ in conservative
 * slow start. */
static void hystart_css(cc_state *cc)
{
	int r;

	now = 0;
	cc_init(cc, &cc_newreno_ops, MSS, 0);
	for (r = 0; r < 3; r++)
		round_trip_sample(cc, 20 * MS, 20 * MS);
	assert_int_equal(cc->cwnd, 80 * MSS);
	round_trip_sample(cc, 30 * MS, 30 * MS);
	round_trip_sample(cc, 30 * MS, 30 * MS);
	assert_int_equal(cc->hs_state, CC_HS_CSS);
}

/* A queue builds (the RTT rises by 10 ms, more than RttThresh = 4 ms):
 * conservative slow start grows a quarter as fast, and after CSS_ROUNDS
 * rounds of it congestion avoidance begins at that window. */
static void test_hystart_delay_rise(void **state)
{
	cc_state cc;
	uint32_t w;
	int r;

	(void)state;
	hystart_css(&cc);
	assert_true(cc.cwnd < 320 * MSS);       /* not doubled twice */
	w = cc.cwnd;
	round_trip_sample(&cc, 30 * MS, 30 * MS);
	assert_true(cc.cwnd >= w + w / 5 && cc.cwnd <= w + w / 4 + MSS);
	for (r = 0; r < 6 && cc.hs_state == CC_HS_CSS; r++)
		round_trip_sample(&cc, 30 * MS, 30 * MS);
	assert_int_equal(cc.hs_state, CC_HS_DONE);
	assert_true(r >= 3 && r <= 5);
	assert_int_equal(cc.ssthresh, cc.cwnd);
	assert_false(cc_in_slow_start(&cc));
	/* Reno's congestion avoidance from here: one MSS per round (the
	 * round that ended CSS may have counted a few bytes already) */
	w = cc.cwnd;
	round_trip_sample(&cc, 30 * MS, 30 * MS);
	round_trip_sample(&cc, 30 * MS, 30 * MS);
	assert_true(cc.cwnd >= w + MSS && cc.cwnd <= w + 2 * MSS);
}

/* The RTT falls back below the CSS baseline: the rise was spurious and
 * slow start resumes. A loss ends HyStart++ for good. */
static void test_hystart_spurious_and_loss(void **state)
{
	cc_state cc;
	uint32_t w;
	int r;

	(void)state;
	hystart_css(&cc);
	round_trip_sample(&cc, 20 * MS, 20 * MS);
	assert_int_equal(cc.hs_state, CC_HS_SS);
	w = cc.cwnd;
	round_trip_sample(&cc, 20 * MS, 20 * MS);
	assert_true(cc.cwnd >= 2 * w - MSS);
	/* no samples, no HyStart: plain slow start */
	cc_init(&cc, &cc_newreno_ops, MSS, 0);
	for (r = 0; r < 3; r++)
		round_trip(&cc, 20 * MS);
	assert_int_equal(cc.cwnd, 80 * MSS);
	assert_int_equal(cc.hs_state, CC_HS_SS);
	/* after a loss (and slow start again after a timeout) it is off */
	cc_enter_recovery(&cc, 80 * MSS, true, now);
	assert_int_equal(cc.hs_state, CC_HS_DONE);
	cc_exit_recovery(&cc, 40 * MSS, now);
	cc_on_rto(&cc, 40 * MSS, true, now);
	for (r = 0; r < 3; r++)
		round_trip_sample(&cc, 20 * MS, 20 * MS + (uint64_t)r * 10 * MS);
	assert_int_equal(cc.cwnd, 8 * MSS);
	assert_int_equal(cc.hs_state, CC_HS_DONE);
}

static void test_reno_linear(void **state)
{
	cc_state cc;
	int r;

	(void)state;
	now = 0;
	cc_init(&cc, &cc_newreno_ops, MSS, 0);
	cc.cwnd = cc.ssthresh = 20 * MSS;
	for (r = 1; r <= 10; r++) {
		round_trip(&cc, 100 * MS);
		assert_int_equal(cc.cwnd, (20u + (uint32_t)r) * MSS);
	}
}

/* A NewReno sender with a window of `segs` MSS meets a loss at time t:
 * into recovery, with SACK or without. */
static void reno_loss(cc_state *cc, uint32_t segs, bool sack, uint64_t t)
{
	cc_init(cc, &cc_newreno_ops, MSS, 0);
	cc->cwnd = segs * MSS;
	cc_enter_recovery(cc, segs * MSS, sack, t);
}

static void test_reno_recovery_sack(void **state)
{
	cc_state cc;

	(void)state;
	reno_loss(&cc, 100, true, 1);
	assert_true(cc.in_recovery);
	assert_int_equal(cc.ssthresh, 50 * MSS);
	assert_int_equal(cc.cwnd, 50 * MSS);
	assert_int_equal(cc.prior_cwnd, 100 * MSS);
	/* a second loss in the same recovery changes nothing */
	cc_enter_recovery(&cc, 50 * MSS, true, 2);
	assert_int_equal(cc.ssthresh, 50 * MSS);
	/* partial ACKs: no growth, no deflation with SACK */
	ack(&cc, 10 * MSS, true);
	assert_int_equal(cc.cwnd, 50 * MSS);
	cc_on_dupack(&cc);
	assert_int_equal(cc.cwnd, 50 * MSS);
	cc_exit_recovery(&cc, 10 * MSS, 3);
	assert_false(cc.in_recovery);
	assert_int_equal(cc.cwnd, 50 * MSS);
	/* then congestion avoidance again */
	ack(&cc, 50 * MSS, true);
	assert_int_equal(cc.cwnd, 51 * MSS);
	/* the reduction never goes below 2 MSS */
	cc.cwnd = 3 * MSS;
	cc_enter_recovery(&cc, 3 * MSS, true, 4);
	assert_int_equal(cc.ssthresh, 2 * MSS);
}

static void test_reno_recovery_newreno(void **state)
{
	cc_state cc;

	(void)state;
	reno_loss(&cc, 100, false, 1);
	assert_int_equal(cc.ssthresh, 50 * MSS);
	assert_int_equal(cc.cwnd, 53 * MSS);       /* ssthresh + 3 MSS */
	cc_on_dupack(&cc);
	assert_int_equal(cc.cwnd, 54 * MSS);       /* inflation */
	ack(&cc, 10 * MSS, true);                  /* partial ACK */
	assert_int_equal(cc.cwnd, 45 * MSS);       /* 54 - 10 + 1 */
	ack(&cc, 500, true);                       /* less than an MSS */
	assert_int_equal(cc.cwnd, 45 * MSS - 500);
	ack(&cc, MSS, true);                       /* exactly one MSS */
	assert_int_equal(cc.cwnd, 45 * MSS - 500); /* - 1 + 1 */
	cc_exit_recovery(&cc, 20 * MSS, 2);
	assert_int_equal(cc.cwnd, 21 * MSS);       /* min(50, 20 + 1) */
	cc.cwnd = 100 * MSS;
	cc_enter_recovery(&cc, 100 * MSS, false, 3);
	cc_exit_recovery(&cc, 80 * MSS, 4);
	assert_int_equal(cc.cwnd, 50 * MSS);       /* min(50, 81) */
}

/* RFC 6937: one loss in a window of 20; Reno's ssthresh is 10. While the
 * pipe is above ssthresh, PRR sends one segment per two delivered; the
 * recovery ends with about ssthresh in flight. */
static void test_prr_proportional(void **state)
{
	cc_state cc;
	uint32_t pipe = 19 * MSS, sent = 0, delivered = 0, k, n;
	bool prev_sent = false;

	(void)state;
	reno_loss(&cc, 20, true, 0);
	assert_int_equal(cc.ssthresh, 10 * MSS);
	for (k = 0; k < 19; k++) {
		pipe -= MSS;                 /* one more segment SACKed */
		delivered += MSS;
		cc_prr_ack(&cc, MSS, pipe);
		n = cc_room(&cc, pipe) / MSS;
		if (pipe >= cc.ssthresh) {
			assert_true(n <= 1);
			assert_false(n && prev_sent);   /* every other ACK */
		}
		prev_sent = n > 0;
		cc_prr_sent(&cc, n * MSS);
		pipe += n * MSS;
		sent += n * MSS;
		/* never ahead of delivered * ssthresh / RecoverFS (+ the
		 * reduction bound's one MSS once below ssthresh) */
		assert_true(sent <= delivered / 2 + MSS);
	}
	assert_true(sent >= 9 * MSS && sent <= 10 * MSS);
	assert_true(pipe >= 9 * MSS && pipe <= 10 * MSS);
	cc_exit_recovery(&cc, pipe, 1);
	assert_int_equal(cc.cwnd, 10 * MSS);
}

/* Heavy loss: the pipe is far below ssthresh, and PRR's slow-start
 * reduction bound lets the sender catch up by at most delivered + 1 MSS
 * per ACK. */
static void test_prr_reduction_bound(void **state)
{
	cc_state cc;
	uint32_t pipe = 5 * MSS, k, n;

	(void)state;
	reno_loss(&cc, 20, true, 0);   /* 15 of 20 lost */
	for (k = 0; k < 3; k++) {
		pipe -= MSS;
		cc_prr_ack(&cc, MSS, pipe);
		n = cc_room(&cc, pipe);
		assert_int_equal(n, 2 * MSS);
		cc_prr_sent(&cc, n);
		pipe += n;
	}
	assert_int_equal(pipe, 8 * MSS);
	/* never beyond ssthresh */
	cc_prr_ack(&cc, 5 * MSS, 3 * MSS);
	assert_int_equal(cc.cwnd, 3 * MSS + 6 * MSS);
	cc_prr_ack(&cc, 0, 9 * MSS);
	assert_true(cc.cwnd <= 10 * MSS);
	/* outside a SACK recovery PRR does nothing */
	cc_exit_recovery(&cc, 9 * MSS, 1);
	cc_prr_ack(&cc, MSS, MSS);
	assert_int_equal(cc.cwnd, 10 * MSS);
}

static void test_rto(void **state)
{
	cc_state cc;

	(void)state;
	cc_init(&cc, &cc_newreno_ops, MSS, 0);
	cc.cwnd = 40 * MSS;
	cc_on_rto(&cc, 30 * MSS, true, 1);
	assert_int_equal(cc.cwnd, MSS);
	assert_int_equal(cc.ssthresh, 15 * MSS);
	/* a repeated timeout keeps ssthresh */
	cc_on_rto(&cc, MSS, false, 2);
	assert_int_equal(cc.ssthresh, 15 * MSS);
	/* slow start again, up to ssthresh */
	ack(&cc, MSS, true);
	assert_int_equal(cc.cwnd, 2 * MSS);
	/* a timeout during recovery keeps the recovery's ssthresh */
	cc.cwnd = 60 * MSS;
	cc_enter_recovery(&cc, 60 * MSS, true, 3);
	assert_int_equal(cc.ssthresh, 30 * MSS);
	cc_on_rto(&cc, 30 * MSS, true, 4);
	assert_int_equal(cc.ssthresh, 30 * MSS);
	assert_int_equal(cc.cwnd, MSS);
	assert_false(cc.in_recovery);
}

static void test_after_idle(void **state)
{
	cc_state cc;

	(void)state;
	cc_init(&cc, &cc_newreno_ops, MSS, 0);
	cc.cwnd = 100 * MSS;
	cc_after_idle(&cc, 100 * MS, 300 * MS, 1);
	assert_int_equal(cc.cwnd, 100 * MSS);
	cc_after_idle(&cc, 400 * MS, 300 * MS, 2);
	assert_int_equal(cc.cwnd, 10 * MSS);
	/* RFC 5681 §4.1: the restart window is min(IW, cwnd): a smaller
	 * window (after a loss) is not raised by the idle time */
	cc.cwnd = 4 * MSS;
	cc_after_idle(&cc, 400 * MS, 300 * MS, 3);
	assert_int_equal(cc.cwnd, 4 * MSS);
}

/* RFC 9406 §4.2 compares a round's minimum RTT with the previous round's:
 * a round with enough samples but no previous minimum (the first ACK,
 * which started it, carried no sample) has nothing to compare with, and
 * stays in slow start however long its RTTs are. */
static void test_hystart_first_round_no_baseline(void **state)
{
	cc_state cc;
	int i;

	(void)state;
	now = 0;
	cc_init(&cc, &cc_newreno_ops, MSS, 0);
	ack(&cc, MSS, true);                    /* no sample: the round starts */
	assert_int_equal(cc.hs_last_min, UINT32_MAX);
	cc_ack a = { .acked = MSS, .srtt = 100 * MS, .rtt = 100 * MS, .cwnd_limited = true };
	for (i = 0; i < 8; i++) {
		now += MS;
		a.flight = cc.cwnd;
		cc_on_ack(&cc, &a, now);
	}
	assert_true(cc.hs_samples >= 8);
	assert_int_equal(cc.hs_state, CC_HS_SS);
	assert_int_equal(cc.cwnd, 19 * MSS);
}

static void test_set_mss(void **state)
{
	cc_state cc;

	(void)state;
	cc_init(&cc, &cc_newreno_ops, 1460, 0);
	cc.ssthresh = 20 * 1460;
	cc_set_mss(&cc, 1000);
	assert_int_equal(cc.mss, 1000);
	assert_int_equal(cc.cwnd, 10 * 1000);
	assert_int_equal(cc.ssthresh, 20 * 1000);
}

static void test_none(void **state)
{
	cc_state cc;

	(void)state;
	cc_init(&cc, &cc_none_ops, MSS, 0);
	assert_int_equal(cc.cwnd, CC_CWND_MAX);
	ack(&cc, 10 * MSS, true);
	cc_enter_recovery(&cc, 100 * MSS, true, 1);
	assert_false(cc.in_recovery);
	cc_on_rto(&cc, 100 * MSS, true, 2);
	cc_after_idle(&cc, 10 * SEC, MS, 3);
	assert_int_equal(cc.cwnd, CC_CWND_MAX);
	/* ECN's reduction (CWR) and PRR leave the fixed window alone too;
	 * a new MSS is taken, the window kept. */
	cc_enter_cwr(&cc, 100 * MSS, 4);
	cc_cwr_ack(&cc, 10 * MSS, 50 * MSS, 5 * MSS);
	cc_cwr_to_recovery(&cc, true);
	assert_false(cc.in_recovery);
	cc_prr_ack(&cc, 10 * MSS, 50 * MSS);
	cc_on_dupack(&cc);
	cc_end_cwr(&cc, 5);
	assert_int_equal(cc.cwnd, CC_CWND_MAX);
	assert_int_equal(cc.hs_state, CC_HS_SS);
	cc_set_mss(&cc, 500);
	assert_int_equal(cc.mss, 500);
	assert_int_equal(cc.cwnd, CC_CWND_MAX);
}

/* A congestion control's private state is part of being pristine (the
 * state a TCB may drop and make again): CUBIC's epoch moved, not
 * pristine any more. */
static void test_pristine_private(void **state)
{
	cc_state cc, fresh;

	(void)state;
	cc_init(&fresh, &cc_cubic_ops, MSS, 0);
	cc = fresh;
	assert_true(cc_pristine(&cc, &fresh));
	cc.priv[CC_PRIV_U64 - 1] ^= 1;
	assert_false(cc_pristine(&cc, &fresh));
	cc.priv[CC_PRIV_U64 - 1] ^= 1;
	cc.ssthresh = 10 * MSS;
	assert_false(cc_pristine(&cc, &fresh));
}

/* RFC 9406 §4.2: RttThresh is an eighth of the last round's minimum RTT
 * but at most 16 ms: after rounds of 200 ms, a rise of 17 ms (less than
 * 25 ms) ends standard slow start; one of 15 ms does not. */
static void test_hystart_thresh_capped(void **state)
{
	cc_state cc;
	int r;

	(void)state;
	for (int rise = 15; rise <= 17; rise += 2) {
		now = 0;
		cc_init(&cc, &cc_newreno_ops, MSS, 0);
		for (r = 0; r < 3; r++)
			round_trip_sample(&cc, 200 * MS, 200 * MS);
		assert_int_equal(cc.hs_state, CC_HS_SS);
		round_trip_sample(&cc, 200 * MS, (200 + (uint64_t)rise) * MS);
		round_trip_sample(&cc, 200 * MS, (200 + (uint64_t)rise) * MS);
		assert_int_equal(cc.hs_state, rise == 17 ? CC_HS_CSS : CC_HS_SS);
	}
}

/* NewReno's deflation in recovery never leaves less than one MSS. */
static void test_reno_deflation_floor(void **state)
{
	cc_state cc;

	(void)state;
	reno_loss(&cc, 4, false, 1);
	assert_int_equal(cc.cwnd, 5 * MSS);        /* ssthresh 2 + 3 */
	ack(&cc, 4 * MSS + 600, true);             /* 5 - 4.6 + 1 */
	assert_int_equal(cc.cwnd, MSS + 400);
	ack(&cc, 600, true);                       /* 1.4 - 0.6: below one */
	assert_int_equal(cc.cwnd, MSS);
}

static void test_icbrt(void **state)
{
	uint64_t x = 88172645463325252ull, y, v;
	int i;

	(void)state;
	assert_int_equal(cc_icbrt(0), 0);
	assert_int_equal(cc_icbrt(1), 1);
	assert_int_equal(cc_icbrt(7), 1);
	assert_int_equal(cc_icbrt(8), 2);
	assert_int_equal(cc_icbrt(26), 2);
	assert_int_equal(cc_icbrt(27), 3);
	assert_int_equal(cc_icbrt(1000000), 100);
	assert_int_equal(cc_icbrt(999999), 99);
	assert_int_equal(cc_icbrt(UINT64_MAX), 2642245);   /* 2642245^3 < 2^64 */
	for (i = 0; i < 10000; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		v = x >> (i % 40);
		y = cc_icbrt(v);
		assert_true(y * y * y <= v);
		assert_true((y + 1) * (y + 1) * (y + 1) > v);
	}
}

/* A loss at W_max = 100 MSS, recovery, and the first CA ACK starts the
 * epoch at `now`. */
static void cubic_after_loss(cc_state *cc)
{
	now = 10 * SEC;
	cc_init(cc, &cc_cubic_ops, MSS, 0);
	cc->cwnd = 100 * MSS;
	cc_enter_recovery(cc, 100 * MSS, true, now);
	cc_exit_recovery(cc, 70 * MSS, now);
	assert_false(cc_cubic_in_epoch(cc));
	ack(cc, 1, true);
	assert_true(cc_cubic_in_epoch(cc));
}

static double wcubic(double t_s, double k_s, double wmax_segs)
{
	double d = t_s - k_s;

	return (0.4 * d * d * d + wmax_segs) * MSS;
}

static void test_cubic_reduction(void **state)
{
	cc_state cc;

	(void)state;
	cc_init(&cc, &cc_cubic_ops, MSS, 0);
	cc.cwnd = 100 * MSS;
	cc_enter_recovery(&cc, 90 * MSS, true, 1);
	assert_int_equal(cc.ssthresh, 70 * MSS);       /* beta = 0.7 */
	assert_int_equal(cc.cwnd, 70 * MSS);
	assert_int_equal(cc_cubic_w_max(&cc), 100 * MSS);
	cc_exit_recovery(&cc, 70 * MSS, 2);
	/* fast convergence: the next loss comes below the old W_max */
	cc.cwnd = 80 * MSS;
	cc_enter_recovery(&cc, 80 * MSS, true, 3);
	assert_int_equal(cc_cubic_w_max(&cc), 68 * MSS);   /* 80 * 0.85 */
	assert_int_equal(cc.ssthresh, 56 * MSS);
	cc_exit_recovery(&cc, 56 * MSS, 4);
	/* a loss above W_max sets W_max to cwnd */
	cc.cwnd = 90 * MSS;
	cc_enter_recovery(&cc, 90 * MSS, true, 5);
	assert_int_equal(cc_cubic_w_max(&cc), 90 * MSS);
	cc_exit_recovery(&cc, 63 * MSS, 6);
	/* ssthresh never goes below 2 MSS (RFC 5681 (4)), though 70 % of
	 * 2 MSS is 1.4 */
	cc.cwnd = 2 * MSS;
	cc_enter_recovery(&cc, 2 * MSS, true, 7);
	assert_int_equal(cc.ssthresh, 2 * MSS);
	assert_int_equal(cc.cwnd, 2 * MSS);
	cc_exit_recovery(&cc, 2 * MSS, 8);
	cc.ssthresh = 50 * MSS;
	cc_on_rto(&cc, 2 * MSS, true, 8);       /* the same floor on a timeout */
	assert_int_equal(cc.ssthresh, 2 * MSS);
	assert_int_equal(cc.cwnd, MSS);
	/* Reno halves where CUBIC keeps 70 % */
	reno_loss(&cc, 100, true, 9);
	assert_int_equal(cc.cwnd, 50 * MSS);
}

static void test_cubic_k_and_curve(void **state)
{
	const double k = 4.2171633265;   /* cbrt(30 / 0.4) */
	const double ts[] = { 0, 0.5, 1, 2, 3, 4, k, 5, 6, 8, 10, 20 };
	cc_state cc;
	size_t i;

	(void)state;
	cubic_after_loss(&cc);
	assert_true(cc_cubic_k(&cc) > (uint64_t)(k * SEC) - 2 * MS);
	assert_true(cc_cubic_k(&cc) < (uint64_t)(k * SEC) + 2 * MS);
	for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		double want = wcubic(ts[i], k, 100);
		double got = (double)cc_cubic_window(&cc, (uint64_t)(ts[i] * SEC));

		/* within 0.2 % (the curve's time unit is 1/1024 s) */
		assert_true(got > want * 0.998 - 1 && got < want * 1.002 + 1);
	}
	/* W(0) is the window after the reduction; W(K) is W_max */
	assert_true(cc_cubic_window(&cc, 0) > 69 * MSS);
	assert_true(cc_cubic_window(&cc, 0) < 71 * MSS);
	assert_true(cc_cubic_window(&cc, cc_cubic_k(&cc)) >= 100 * MSS - MSS / 10);
	assert_true(cc_cubic_window(&cc, cc_cubic_k(&cc)) <= 100 * MSS + MSS / 10);
}

/* With a long RTT (200 ms: Reno's W_est stays below the curve) the window
 * follows the cubic curve: concave up to W_max near t = K, then convex. */
/* W_cubic(t) is capped at about 17 minutes from K (CUBIC_MAX_OFFS): (t -
 * K)^3 in its fixed point would overflow 64 bits within a day of steady
 * sending, and the target cwnd chases would wrap to anything. Far out the
 * curve is flat, and never below what it was nearer. */
static void test_cubic_curve_far_out(void **state)
{
	cc_state cc;

	(void)state;
	cubic_after_loss(&cc);
	uint64_t w10s = cc_cubic_window(&cc, 10 * SEC);
	uint64_t w1h = cc_cubic_window(&cc, 3600 * SEC);
	assert_true(w1h > w10s);
	assert_int_equal(cc_cubic_window(&cc, 24 * 3600 * SEC), w1h);
	assert_int_equal(cc_cubic_window(&cc, 30 * 24 * 3600 * SEC), w1h);
}

static void test_cubic_follows_curve(void **state)
{
	const uint64_t rtt = 200 * MS;
	uint64_t start, t, w_lo, w_hi, prev;
	cc_state cc;
	int r;

	(void)state;
	cubic_after_loss(&cc);
	start = now;
	prev = cc.cwnd;
	for (r = 0; r < 50; r++) {
		round_trip(&cc, rtt);
		t = now - start;
		/* cwnd chases W(t + RTT) and lags it by about a round trip */
		w_lo = cc_cubic_window(&cc, t > rtt ? t - rtt : 0);
		w_hi = cc_cubic_window(&cc, t + rtt);
		if (r >= 3)
			assert_true(cc_cubic_w_est(&cc) < w_lo);
		assert_true(cc.cwnd >= w_lo * 98 / 100);
		assert_true(cc.cwnd <= w_hi + MSS);
		assert_true(cc.cwnd >= prev);
		assert_true(cc.cwnd <= prev + prev / 2);
		prev = cc.cwnd;
		if (t > 4 * SEC && t < 4500 * MS) {
			/* the plateau around K: within 2 % of W_max */
			assert_true(cc.cwnd > 98 * MSS && cc.cwnd < 102 * MSS);
		}
	}
	/* 10 s in, well past K: convex growth beyond the old maximum */
	assert_true(now - start >= 9990 * MS);
	assert_true(cc.cwnd > (uint32_t)(wcubic(9.6, 4.217, 100) * 0.98));
	assert_true(cc.cwnd > 150 * MSS);
}

/* With a 100 ms RTT, Reno's estimate overtakes the curve's plateau and
 * CUBIC follows it instead (never below W_est). */
static void test_cubic_reno_region_at_100ms(void **state)
{
	cc_state cc;
	int r;

	(void)state;
	cubic_after_loss(&cc);
	for (r = 0; r < 70; r++) {
		round_trip(&cc, 100 * MS);
		assert_true(cc.cwnd + MSS / 10 >= cc_cubic_w_est(&cc));
	}
	/* 7 s: W_est = 70 + 30/0.529 rounds at 9/17, then 1 per round */
	assert_true(cc_cubic_w_est(&cc) > 108 * MSS);
	assert_true(cc.cwnd >= cc_cubic_w_est(&cc) - MSS / 10);
}

/* With a short RTT Reno would grow faster than the curve: CUBIC follows
 * the Reno-friendly W_est, which grows by alpha = 9/17 MSS per RTT while
 * below W_max and by 1 MSS per RTT once past it. */
static void test_cubic_reno_friendly(void **state)
{
	cc_state cc;
	uint32_t w;
	int r;

	(void)state;
	cubic_after_loss(&cc);
	for (r = 0; r < 50; r++)
		round_trip(&cc, 1 * MS);
	/* 70 + 50 * 0.529 = 96.5 MSS; the curve is at about 71 MSS */
	assert_true(cc_cubic_window(&cc, 50 * MS) < 72 * MSS);
	assert_true(cc.cwnd > 95 * MSS && cc.cwnd < 98 * MSS);
	assert_true(cc.cwnd >= cc_cubic_w_est(&cc) - MSS);
	/* past W_max, one MSS per RTT */
	for (r = 0; r < 20; r++)
		round_trip(&cc, 1 * MS);
	w = cc.cwnd;
	for (r = 0; r < 10; r++)
		round_trip(&cc, 1 * MS);
	assert_true(cc.cwnd >= w + 9 * MSS && cc.cwnd <= w + 11 * MSS);
}

static void test_cubic_after_rto(void **state)
{
	cc_state cc;
	int r;

	(void)state;
	now = 0;
	cc_init(&cc, &cc_cubic_ops, MSS, 0);
	cc.cwnd = 100 * MSS;
	cc_on_rto(&cc, 100 * MSS, true, now);
	assert_int_equal(cc.cwnd, MSS);
	assert_int_equal(cc.ssthresh, 70 * MSS);
	/* slow start up to ssthresh, then an epoch with K = 0 and W_max =
	 * cwnd: convex at once (RFC 9438 §4.8) */
	while (cc_in_slow_start(&cc))
		round_trip(&cc, 100 * MS);
	/* the round that reached ssthresh began the epoch with its rest */
	assert_true(cc_cubic_in_epoch(&cc));
	assert_true(cc.cwnd >= 70 * MSS && cc.cwnd < 72 * MSS);
	assert_int_equal(cc_cubic_k(&cc), 0);
	assert_int_equal(cc_cubic_w_max(&cc), 70 * MSS);
	/* K = 0: convex at once. With a 500 ms RTT W_est (alpha 1, since
	 * W_est >= W_max) grows 1 MSS per RTT, slower than the curve. After
	 * 3 s: W(2.5 s) = 76.25 MSS, W(3.5 s) = 87.15 MSS. */
	for (r = 0; r < 6; r++)
		round_trip(&cc, 500 * MS);
	assert_true(cc.cwnd > 76 * MSS && cc.cwnd < 88 * MSS);
	assert_true(cc.cwnd > cc_cubic_w_est(&cc) + 2 * MSS);
}

static void test_cubic_idle_shifts_epoch(void **state)
{
	cc_state cc;
	uint32_t w;

	(void)state;
	cubic_after_loss(&cc);
	round_trip(&cc, 100 * MS);
	w = cc.cwnd;
	/* an idle minute (shorter than no RTO here) does not count as time on
	 * the curve: the next round grows as little as the last one */
	now += 60 * SEC;
	cc_after_idle(&cc, 60 * SEC, 120 * SEC, now);
	round_trip(&cc, 100 * MS);
	assert_true(cc.cwnd < w + 3 * MSS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_stack_cc_name),
		cmocka_unit_test(test_initial_window),
		cmocka_unit_test(test_slow_start),
		cmocka_unit_test(test_not_cwnd_limited),
		cmocka_unit_test(test_slow_start_to_ssthresh),
		cmocka_unit_test(test_hystart_steady),
		cmocka_unit_test(test_hystart_delay_rise),
		cmocka_unit_test(test_hystart_spurious_and_loss),
		cmocka_unit_test(test_hystart_thresh_capped),
		cmocka_unit_test(test_reno_deflation_floor),
		cmocka_unit_test(test_pristine_private),
		cmocka_unit_test(test_reno_linear),
		cmocka_unit_test(test_reno_recovery_sack),
		cmocka_unit_test(test_reno_recovery_newreno),
		cmocka_unit_test(test_prr_proportional),
		cmocka_unit_test(test_prr_reduction_bound),
		cmocka_unit_test(test_rto),
		cmocka_unit_test(test_after_idle),
		cmocka_unit_test(test_hystart_first_round_no_baseline),
		cmocka_unit_test(test_set_mss),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_icbrt),
		cmocka_unit_test(test_cubic_reduction),
		cmocka_unit_test(test_cubic_k_and_curve),
		cmocka_unit_test(test_cubic_follows_curve),
		cmocka_unit_test(test_cubic_curve_far_out),
		cmocka_unit_test(test_cubic_reno_friendly),
		cmocka_unit_test(test_cubic_reno_region_at_100ms),
		cmocka_unit_test(test_cubic_after_rto),
		cmocka_unit_test(test_cubic_idle_shifts_epoch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
