/*
 * Spurious-loss undo (src/tcp/undo.c; RFC 3522, RFC 3708, RFC 4015, RFC
 * 9438 §4.9): a congestion event whose retransmission was not needed
 * gives its reduction back -- and one that was needed, or that ECN
 * caused, or that nothing can tell about, keeps it.
 *
 * Most scenarios play the receiver by hand (sim_peer): the host sends
 * ten full segments (MSS 1000, less 12 bytes with timestamps), and the
 * test writes each ACK, its SACK blocks and its timestamp echo. Three
 * run between two stacks, a segment held back past its retransmission
 * and then delivered (or lost), and check the byte stream.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "stack/stack.h"

enum { C = 0, S = 1, PORT = 80, MSS = 1000, SEGS = 10 };
#define A HSK_TH_ACK
#define PSH HSK_TH_PSH
#define ECE HSK_TH_ECE
#define CWR HSK_TH_CWR

static const char *const undo_counters[] = {
	"TCPFullUndo", "TCPPartialUndo", "TCPDSACKUndo", "TCPLossUndo", "TCPSpuriousRTOs",
};

static uint64_t undos(const sim *sm, int host)
{
	uint64_t n = 0;
	for (size_t i = 0; i < sizeof(undo_counters) / sizeof(undo_counters[0]); i++)
		n += sim_counter(sm, host, undo_counters[i]);
	return n;
}

/* ---- a scripted receiver ---- */

typedef struct fx {
	sim sm;
	sim_peer p;
	hsk_stack *h;
	tcb *t;
	uint32_t tsv[SEGS];       /* the TSval each segment first went with */
	uint32_t cwnd0, ssthresh0, wmax0; /* before the loss */
	uint32_t seg;             /* payload of a full segment (MSS less
				   * the timestamp option) */
} fx;

/* The host (S) accepts the peer's connection: SACK and timestamps as
 * asked, MSS 1000; with ecn, the peer asks for ECN (SYN with ECE|CWR). */
static void fx_open(fx *f, uint64_t seed, bool sack, bool ts, bool ecn)
{
	sim_init(&f->sm, 2, NULL, seed);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = MSS;
	syn.sack_ok = sack;
	if (ts) {
		syn.has_ts = true;
		syn.ts_val = 100;
	}
	sim_peer *p = &f->p;
	if (!ecn) {
		sim_peer_accept(&f->sm, p, S, PORT, 5000, &syn);
	} else {
		*p = (sim_peer){ .sm = &f->sm, .host = S, .addr = SIM_ADDR(7), .port = 4000,
				 .hport = PORT, .iss = 5000, .ts = ts, .tsval = 100 };
		p->lsd = sim_listen(&f->sm, S, PORT, 8);
		sim_inject_opts(&f->sm, S, p->addr, p->port, PORT, p->iss, 0,
				HSK_TH_SYN | ECE | CWR, 65535, &syn, NULL, 0);
		const sim_ev *e = sim_next_tx(&f->sm);
		assert_non_null(e);
		assert_int_equal(e->ev.flags, HSK_TH_SYN | A | ECE);
		p->hiss = e->ev.seq;
		sim_peer_send(p, 1, 1, A, 65535, NULL, 0);
		p->sd = sim_accept(&f->sm, S, p->lsd);
	}
	f->h = f->sm.st[S];
	f->t = sock_get(f->h, p->sd)->t;
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(f->h, p->sd, &ti), 0);
	f->seg = ti.mss;
}

/* The congestion state before the loss, to compare with after. */
static void fx_snapshot(fx *f)
{
	const cc_state *cc = &f->t->act->cc;
	f->cwnd0 = cc->cwnd;
	f->ssthresh0 = cc->ssthresh;
	f->wmax0 = cc_cubic_w_max(cc);
}

/* The host writes ten segments; they all go (the initial window). */
static void fx_send(fx *f)
{
	static char data[SEGS * MSS];
	memset(data, 'u', sizeof(data));
	sim_run(&f->sm, 10 * MS);
	assert_int_equal(hsk_send(f->h, f->p.sd, data, SEGS * f->seg), (long)(SEGS * f->seg));
	for (int i = 0; i < SEGS; i++) {
		uint32_t seq = 1 + (uint32_t)i * f->seg;
		sim_peer_expect(&f->p, i == SEGS - 1 ? A | PSH : A, seq, 1, f->seg, __FILE__, __LINE__);
		f->tsv[i] = f->sm.log[f->sm.tx_cursor - 1].ev.ts_val;
	}
	fx_snapshot(f);
	assert_int_equal(f->cwnd0, SEGS * f->seg);
	sim_run(&f->sm, 20 * MS);       /* RTTs are 20 ms from here */
}

/* The peer's ACK of `ack` (relative to the host's ISS), its echo `ecr`
 * when it has timestamps, and SACK blocks [blk[2i], blk[2i+1]). */
static void peer_ack(fx *f, uint32_t ack, uint32_t ecr, uint8_t more, const uint32_t *blk,
		     int nblk)
{
	sim_peer *p = &f->p;
	tcp_opts o;
	tcp_opts_init(&o);
	if (p->ts) {
		o.has_ts = true;
		o.ts_val = ++p->tsval;
		o.ts_ecr = ecr;
	}
	o.nsack = (uint8_t)nblk;
	for (int i = 0; i < nblk; i++) {
		o.sack[i].left = p->hiss + blk[2 * i];
		o.sack[i].right = p->hiss + blk[2 * i + 1];
	}
	sim_inject_opts(p->sm, p->host, p->addr, p->port, p->hport, p->iss + 1, p->hiss + ack,
			A | more, 65535, &o, NULL, 0);
}

/* The host sends the segment at `seq` again (the next one it sends
 * there); its TSval. */
static uint32_t expect_again(fx *f, uint32_t seq)
{
	for (const sim_ev *e; (e = sim_next_tx(&f->sm));) {
		if (e->ev.len && e->ev.seq - f->p.hiss == seq)
			return e->ev.ts_val;
	}
	fail_msg("segment at %u was not sent again", seq);
	return 0;
}

/* The segment at `ack` is lost (or late): three duplicate ACKs of it,
 * with SACK blocks for what follows when the peer has SACK, start fast
 * recovery, which resends it; `more`: flags of the third. Returns the
 * retransmission's TSval. */
static uint32_t fx_fast_retransmit_at(fx *f, uint32_t ack, uint8_t more)
{
	bool sack = f->t->flags & TF_SACK_OK;
	for (uint32_t i = 2; i <= 4; i++) {
		uint32_t blk[2] = { ack + f->seg, ack + i * f->seg };
		peer_ack(f, ack, f->tsv[0] - 5, i == 4 ? more : 0, blk, sack ? 1 : 0);
		sim_run(&f->sm, 1 * MS);
	}
	assert_true(f->t->act->cc.in_recovery);
	assert_int_equal(sim_counter(&f->sm, S, sack ? "TCPSackRecovery" : "TCPRenoRecovery"), 1);
	return expect_again(f, ack);
}

/* Segment 1 is lost (or late). */
static uint32_t fx_fast_retransmit(fx *f, uint8_t more)
{
	return fx_fast_retransmit_at(f, 1, more);
}

static void fx_end(fx *f)
{
	sim_peer_finish(&f->p);
}

/* cwnd, ssthresh and CUBIC's W_max are what they were before the loss. */
static void assert_restored_grown(const fx *f, uint32_t grown)
{
	const cc_state *cc = &f->t->act->cc;
	assert_true(cc->cwnd >= f->cwnd0 && cc->cwnd <= f->cwnd0 + grown);
	assert_int_equal(cc->ssthresh, f->ssthresh0);
	assert_int_equal(cc_cubic_w_max(cc), f->wmax0);
}

static void assert_restored(const fx *f)
{
	assert_restored_grown(f, 0);
}

/* ... and are not: the reduction stands. */
static void assert_reduced(const fx *f)
{
	const cc_state *cc = &f->t->act->cc;
	assert_true(cc->ssthresh <= f->cwnd0 * 7 / 10);
	assert_true(cc->cwnd < f->cwnd0);
	assert_int_equal(undos(&f->sm, S), 0);
}

/* RFC 3708 with SACK, no timestamps: segment 1 is acknowledged, segment
 * 2 was only late. The full ACK comes first (the original filled the
 * hole): nothing tells yet, the reduction stays. Then D-SACKs: blocks
 * beyond what was resent, reaching past it, or below where the loss
 * began (segment 1, never resent) count for nothing (a forged or
 * confused D-SACK must not undo); the block of the retransmission
 * itself does, and the state before the loss comes back: TCPDSACKUndo. */
static void test_dsack_undoes(void **state)
{
	(void)state;
	fx f;
	fx_open(&f, 801, true, false, false);
	fx_send(&f);
	peer_ack(&f, 1 + f.seg, 0, 0, NULL, 0);
	fx_snapshot(&f);
	fx_fast_retransmit_at(&f, 1 + f.seg, 0);
	peer_ack(&f, 1 + SEGS * f.seg, 0, 0, NULL, 0);
	assert_false(f.t->act->cc.in_recovery);
	assert_reduced(&f);
	uint32_t beyond[2] = { 1 + 4 * f.seg, 1 + 5 * f.seg };
	peer_ack(&f, 1 + SEGS * f.seg, 0, 0, beyond, 1);
	uint32_t past[2] = { 1 + f.seg, 1 + 2 * f.seg + 500 };
	peer_ack(&f, 1 + SEGS * f.seg, 0, 0, past, 1);
	uint32_t below[2] = { 1, 1 + f.seg };
	peer_ack(&f, 1 + SEGS * f.seg, 0, 0, below, 1);
	assert_reduced(&f);
	uint32_t dup[2] = { 1 + f.seg, 1 + 2 * f.seg };
	peer_ack(&f, 1 + SEGS * f.seg, 0, 0, dup, 1);
	assert_int_equal(sim_counter(&f.sm, S, "TCPDSACKUndo"), 1);
	assert_int_equal(undos(&f.sm, S), 1);
	assert_restored(&f);
	/* once: the same D-SACK again changes nothing */
	peer_ack(&f, 1 + SEGS * f.seg, 0, 0, dup, 1);
	assert_int_equal(undos(&f.sm, S), 1);
	fx_end(&f);
}

/* An undo still possible when a tail loss probe repairs a loss (the
 * probe resends the last segment, an ACK covers it without a D-SACK:
 * RFC 8985 §7.4, a reduction of its own). The probe counts as one more
 * retransmission: segment 1's D-SACK alone no longer completes the
 * count; the probe's D-SACK too (its original was only late) does, and
 * gives back both reductions. */
static void test_probe_joins_episode(void **state)
{
	(void)state;
	fx f;
	fx_open(&f, 820, true, false, false);
	fx_send(&f);
	fx_fast_retransmit(&f, 0);
	uint32_t end = 1 + SEGS * f.seg;
	peer_ack(&f, end, 0, 0, NULL, 0);
	assert_reduced(&f);
	static char more[2 * 1460];
	assert_int_equal(hsk_send(f.h, f.p.sd, more, 2 * f.seg), (long)(2 * f.seg));
	sim_run(&f.sm, 150 * MS);       /* the probe: the last segment again */
	assert_int_equal(sim_counter(&f.sm, S, "TCPTimeouts"), 0);
	expect_again(&f, end + f.seg);  /* (its first transmission) */
	expect_again(&f, end + f.seg);  /* the probe */
	/* one more segment, and an ACK of all: past the probe (§7.4.2) */
	assert_int_equal(hsk_send(f.h, f.p.sd, more, f.seg), (long)f.seg);
	expect_again(&f, end + 2 * f.seg);
	peer_ack(&f, end + 3 * f.seg, 0, 0, NULL, 0);
	assert_int_equal(sim_counter(&f.sm, S, "TCPLossProbes"), 1);
	uint32_t dup1[2] = { 1, 1 + f.seg };
	peer_ack(&f, end + 3 * f.seg, 0, 0, dup1, 1);
	assert_reduced(&f);
	uint32_t dup_probe[2] = { end + f.seg, end + 2 * f.seg };
	peer_ack(&f, end + 3 * f.seg, 0, 0, dup_probe, 1);
	assert_int_equal(sim_counter(&f.sm, S, "TCPDSACKUndo"), 1);
	assert_restored(&f);
	fx_end(&f);
}

/* Two holes, segments 1 and 3, both resent; segment 2 arrived (SACKed)
 * and was never resent. A D-SACK of segment 2 (above SND.UNA, inside
 * the second block: RFC 2883's other form) reports no retransmission of
 * ours and counts for nothing: with segment 1's D-SACK the count is not
 * yet 0. Segment 3's completes it. */
static void test_dsack_of_unresent_data_refused(void **state)
{
	(void)state;
	fx f;
	fx_open(&f, 819, true, false, false);
	fx_send(&f);
	uint32_t s2 = 1 + f.seg, s3 = 1 + 2 * f.seg, s4 = 1 + 3 * f.seg;
	for (uint32_t k = 5; k <= SEGS; k++) {
		uint32_t blk[4] = { s4, 1 + k * f.seg, s2, s3 };
		peer_ack(&f, 1, 0, 0, blk, 2);
		sim_run(&f.sm, 1 * MS);
	}
	sim_run(&f.sm, 20 * MS);
	assert_true(f.t->act->cc.in_recovery);
	expect_again(&f, 1);
	expect_again(&f, s3);
	uint32_t forged[4] = { s2, s3, s2, s3 };
	peer_ack(&f, 1, 0, 0, forged, 2);
	peer_ack(&f, 1 + SEGS * f.seg, 0, 0, NULL, 0);
	uint32_t dup1[2] = { 1, s2 };
	peer_ack(&f, 1 + SEGS * f.seg, 0, 0, dup1, 1);
	assert_reduced(&f);
	uint32_t dup3[2] = { s3, s4 };
	peer_ack(&f, 1 + SEGS * f.seg, 0, 0, dup3, 1);
	assert_int_equal(sim_counter(&f.sm, S, "TCPDSACKUndo"), 1);
	assert_restored(&f);
	fx_end(&f);
}

/* Eifel (RFC 3522), timestamps without SACK: the full ACK echoes the
 * TSval `ecr` says; returns the undos counted. Only an echo older than
 * the retransmission and not older than the data in flight proves that
 * the original arrived. */
enum echo { ECHO_ORIGINAL, ECHO_RETRANSMISSION, ECHO_FUTURE, ECHO_ANCIENT, ECHO_OLDER };

static uint64_t eifel_case(enum echo how, uint64_t seed)
{
	fx f;
	fx_open(&f, seed, false, true, false);
	fx_send(&f);
	uint32_t rxt = fx_fast_retransmit(&f, 0);
	assert_true((int32_t)(rxt - f.tsv[SEGS - 1]) > 0);
	uint32_t ecr = how == ECHO_ORIGINAL ? f.tsv[SEGS - 1] :
		       how == ECHO_RETRANSMISSION ? rxt :
		       how == ECHO_FUTURE ? rxt + 1000 :
		       how == ECHO_ANCIENT ? rxt - 0x80000000u + 5 : f.tsv[0] - 1;
	peer_ack(&f, 1 + SEGS * f.seg, ecr, 0, NULL, 0);
	assert_false(f.t->act->cc.in_recovery);
	uint64_t n = undos(&f.sm, S);
	if (n) {
		assert_int_equal(sim_counter(&f.sm, S, "TCPFullUndo"), 1);
		assert_restored(&f);
	} else {
		assert_reduced(&f);
	}
	fx_end(&f);
	return n;
}

static void test_eifel_undoes(void **state)
{
	(void)state;
	assert_int_equal(eifel_case(ECHO_ORIGINAL, 802), 1);
}

/* The defence: the retransmission was needed (the echo is its TSval). */
static void test_eifel_real_loss_stands(void **state)
{
	(void)state;
	assert_int_equal(eifel_case(ECHO_RETRANSMISSION, 803), 0);
}

/* An echo of nothing we sent: from the future, half the TSval space
 * away (before the retransmission modulo 2^32, but of no data in
 * flight), or older than the flight. */
static void test_eifel_bogus_echo_refused(void **state)
{
	(void)state;
	assert_int_equal(eifel_case(ECHO_FUTURE, 804), 0);
	assert_int_equal(eifel_case(ECHO_ANCIENT, 805), 0);
	assert_int_equal(eifel_case(ECHO_OLDER, 806), 0);
}

/* Eifel at a partial ACK (Linux's tcp_try_undo_partial), timestamps
 * without SACK: the ACK of segment 1 alone echoes the original's TSval,
 * so the late original filled the hole, and the retransmission is
 * acknowledged: the recovery ends, undone (TCPPartialUndo), nothing more
 * resent. The defences: an ACK of half the retransmitted segment (the
 * retransmission still out), or an echo of the retransmission, is the
 * usual partial ACK: the recovery goes on and the next hole is resent. */
static uint64_t eifel_partial_case(bool half, bool echo_original, uint64_t seed)
{
	fx f;
	fx_open(&f, seed, false, true, false);
	fx_send(&f);
	uint32_t rxt = fx_fast_retransmit(&f, 0);
	uint32_t acked = half ? f.seg / 2 : f.seg;
	peer_ack(&f, 1 + acked, echo_original ? f.tsv[0] : rxt, 0, NULL, 0);
	sim_run(&f.sm, 1 * MS);
	uint64_t n = sim_counter(&f.sm, S, "TCPPartialUndo");
	if (n) {
		assert_false(f.t->act->cc.in_recovery);
		assert_int_equal(undos(&f.sm, S), 1);
		assert_restored(&f);
		assert_null(sim_next_tx(&f.sm));
		/* segment 2 really lost: its three duplicates start a new
		 * recovery (`recover` no longer holds them back) */
		for (int i = 0; i < 3; i++)
			peer_ack(&f, 1 + f.seg, f.tsv[1], 0, NULL, 0);
		sim_run(&f.sm, 1 * MS);
		assert_int_equal(sim_counter(&f.sm, S, "TCPRenoRecovery"), 2);
		expect_again(&f, 1 + f.seg);
	} else {
		/* (cwnd is NewReno's inflated one: ssthresh tells) */
		assert_true(f.t->act->cc.in_recovery);
		assert_true(f.t->act->cc.ssthresh <= f.cwnd0 * 7 / 10);
		assert_int_equal(undos(&f.sm, S), 0);
		expect_again(&f, 1 + acked);
	}
	fx_end(&f);
	return n;
}

static void test_eifel_partial_undoes(void **state)
{
	(void)state;
	assert_int_equal(eifel_partial_case(false, true, 821), 1);
}

static void test_eifel_partial_refused(void **state)
{
	(void)state;
	assert_int_equal(eifel_partial_case(true, true, 822), 0);
	assert_int_equal(eifel_partial_case(false, false, 823), 0);
}

/* A spurious timeout (RFC 4015): the ACK of segment 1 was only late and
 * arrives after the timeout resent it, echoing the original's TSval.
 * cwnd (1 MSS after the timeout) and ssthresh come back, TCPLossUndo and
 * TCPSpuriousRTOs count, and nothing more is resent: without SACK the
 * go-back-N stops, with SACK nothing stays marked lost. When the echo
 * is the retransmission's, the timeout was real: all of it stands and
 * the repair goes on. */
static void rto_case(bool sack, bool spurious, uint64_t seed)
{
	fx f;
	fx_open(&f, seed, sack, true, false);
	fx_send(&f);
	while (!sim_counter(&f.sm, S, "TCPTimeouts"))
		sim_run(&f.sm, 1 * MS);
	uint32_t rxt = expect_again(&f, 1);
	assert_int_equal(f.t->act->cc.cwnd, f.t->act->cc.mss);
	peer_ack(&f, 1 + f.seg, spurious ? f.tsv[0] : rxt, 0, NULL, 0);
	if (spurious) {
		assert_int_equal(sim_counter(&f.sm, S, "TCPLossUndo"), 1);
		assert_int_equal(sim_counter(&f.sm, S, "TCPSpuriousRTOs"), 1);
		assert_int_equal(undos(&f.sm, S), 2);
		/* (slow start, ssthresh being back, grows it by the ACK) */
		assert_restored_grown(&f, f.seg);
		expect_no_tx(&f.sm);
	} else {
		assert_int_equal(undos(&f.sm, S), 0);
		assert_true(f.t->act->cc.ssthresh <= f.cwnd0 * 7 / 10);
		assert_true(f.t->act->cc.cwnd <= 2 * f.seg);
		sim_peer_expect(&f.p, A, 1 + f.seg, 1, f.seg, __FILE__, __LINE__);
	}
	peer_ack(&f, 1 + SEGS * f.seg, f.tsv[SEGS - 1], 0, NULL, 0);
	assert_int_equal(undos(&f.sm, S), spurious ? 2 : 0);
	fx_end(&f);
}

static void test_spurious_rto_undone(void **state)
{
	(void)state;
	rto_case(false, true, 807);
}

static void test_spurious_rto_undone_sack(void **state)
{
	(void)state;
	rto_case(true, true, 808);
}

static void test_real_rto_stands(void **state)
{
	(void)state;
	rto_case(false, false, 809);
	rto_case(true, false, 810);
}

/* F-RTO (RFC 5682 §2.1) for a peer without SACK or timestamps, which
 * leave Eifel and D-SACK nothing to tell by: the host has four segments
 * more queued when its timeout resends segment 1. The ACK of segment 1
 * lets two new segments go (11 and 12), not segment 2 (step 2b). Then an
 * ACK of segments never resent (2-5) shows the originals arrived: the
 * timeout is undone (TCPLossUndo, TCPSpuriousRTOs), nothing is resent,
 * and new data goes on (step 3b). A duplicate ACK instead (also one
 * whose window shrank) shows a real loss: go-back-N from segment 2, cwnd
 * at most 3 segments, the reduction stands (step 3a). With frto off the ACK of segment 1 sends segment 2
 * again, as before. */
/* Ten segments out and four more queued, to a peer without timestamps
 * (and without SACK unless sack), until the timeout resends segment 1
 * (alone: one segment's cwnd). */
static void frto_open(fx *f, bool on, bool sack, bool ecn, uint64_t seed)
{
	fx_open(f, seed, sack, false, ecn);
	f->h->env.cfg.frto = on;
	fx_send(f);
	static char more[4 * MSS];
	memset(more, 'v', sizeof(more));
	assert_int_equal(hsk_send(f->h, f->p.sd, more, 4 * f->seg), (long)(4 * f->seg));
	/* cwnd is full; with SACK the tail loss probe has sent segment 10
	 * again (it fired as the write came) */
	if (sack)
		expect_again(f, 1 + (SEGS - 1) * f->seg);
	expect_no_tx(&f->sm);
	while (!sim_counter(&f->sm, S, "TCPTimeouts"))
		sim_run(&f->sm, 1 * MS);
	expect_again(f, 1);
	expect_no_tx(&f->sm);
}

static void frto_case(bool on, bool spurious, bool shrink, uint64_t seed)
{
	fx f;
	frto_open(&f, on, false, false, seed);
	peer_ack(&f, 1 + f.seg, 0, 0, NULL, 0);
	if (!on) {
		sim_peer_expect(&f.p, A, 1 + f.seg, 1, f.seg, __FILE__, __LINE__);
		sim_peer_expect(&f.p, A, 1 + 2 * f.seg, 1, f.seg, __FILE__, __LINE__);
		expect_no_tx(&f.sm);
		peer_ack(&f, 1 + (SEGS + 4) * f.seg, 0, 0, NULL, 0);
		assert_int_equal(undos(&f.sm, S), 0);
		fx_end(&f);
		return;
	}
	sim_peer_expect(&f.p, A, 1 + SEGS * f.seg, 1, f.seg, __FILE__, __LINE__);
	sim_peer_expect(&f.p, A | PSH, 1 + (SEGS + 1) * f.seg, 1, f.seg, __FILE__, __LINE__);
	expect_no_tx(&f.sm);
	if (spurious) {
		peer_ack(&f, 1 + 5 * f.seg, 0, 0, NULL, 0);
		assert_int_equal(sim_counter(&f.sm, S, "TCPLossUndo"), 1);
		assert_int_equal(sim_counter(&f.sm, S, "TCPSpuriousRTOs"), 1);
		assert_int_equal(f.t->act->cc.ssthresh, f.ssthresh0);
		assert_true(f.t->act->cc.cwnd >= f.cwnd0);
		/* the last two new segments, nothing resent */
		sim_peer_expect(&f.p, A, 1 + (SEGS + 2) * f.seg, 1, f.seg, __FILE__, __LINE__);
		sim_peer_expect(&f.p, A | PSH, 1 + (SEGS + 3) * f.seg, 1, f.seg, __FILE__,
				__LINE__);
		expect_no_tx(&f.sm);
	} else {
		/* (shrink: with a smaller window, as a receiver's shrinks
		 * when out-of-order data fills its buffer; RFC 5681's
		 * duplicate keeps it) */
		sim_peer *p = &f.p;
		sim_inject_opts(p->sm, p->host, p->addr, p->port, p->hport, p->iss + 1,
				p->hiss + 1 + f.seg, A, shrink ? 60000 : 65535, NULL, NULL, 0);
		assert_int_equal(undos(&f.sm, S), 0);
		assert_true(f.t->act->cc.ssthresh <= f.cwnd0 * 7 / 10);
		assert_true(f.t->act->cc.cwnd <= 3 * f.seg);
		sim_peer_expect(&f.p, A, 1 + f.seg, 1, f.seg, __FILE__, __LINE__);
	}
	peer_ack(&f, 1 + (SEGS + 4) * f.seg, 0, 0, NULL, 0);
	assert_int_equal(undos(&f.sm, S), spurious ? 2 : 0);
	fx_end(&f);
}

static void test_frto_spurious_undone(void **state)
{
	(void)state;
	frto_case(true, true, false, 831);
}

static void test_frto_real_loss_stands(void **state)
{
	(void)state;
	frto_case(true, false, false, 832);
	frto_case(true, false, true, 837);
}

static void test_frto_off(void **state)
{
	(void)state;
	frto_case(false, true, false, 833);
}

/* F-RTO with SACK (RFC 5682 §3), timestamps off: after the ACK of
 * segment 1 two new segments (11, 12) go instead of the records the
 * timeout marked lost. Then (how): an ACK of segments 2-5, never resent,
 * or a SACK block of segments 3-4 below `recover` undoes the timeout; a
 * duplicate ACK whose only block is the new data says the loss was real,
 * and segment 2 goes again. So does one whose block reaches below SND.UNA
 * (segments 1-3: confused or forged, it proves nothing of the timeout). */
enum frto_sack_how { FS_ADVANCE, FS_BLOCK, FS_REAL, FS_BELOW };

static void frto_sack_case(enum frto_sack_how how, uint64_t seed)
{
	fx f;
	frto_open(&f, true, true, false, seed);
	peer_ack(&f, 1 + f.seg, 0, 0, NULL, 0);
	sim_peer_expect(&f.p, A, 1 + SEGS * f.seg, 1, f.seg, __FILE__, __LINE__);
	sim_peer_expect(&f.p, A | PSH, 1 + (SEGS + 1) * f.seg, 1, f.seg, __FILE__, __LINE__);
	expect_no_tx(&f.sm);
	if (how == FS_ADVANCE) {
		peer_ack(&f, 1 + 5 * f.seg, 0, 0, NULL, 0);
	} else if (how == FS_BLOCK) {
		uint32_t blk[2] = { 1 + 2 * f.seg, 1 + 4 * f.seg };
		peer_ack(&f, 1 + f.seg, 0, 0, blk, 1);
	} else if (how == FS_BELOW) {
		uint32_t blk[2] = { 1, 1 + 3 * f.seg };
		peer_ack(&f, 1 + f.seg, 0, 0, blk, 1);
	} else {
		uint32_t blk[2] = { 1 + SEGS * f.seg, 1 + (SEGS + 2) * f.seg };
		peer_ack(&f, 1 + f.seg, 0, 0, blk, 1);
	}
	bool real = how == FS_REAL || how == FS_BELOW;
	if (real) {
		assert_int_equal(undos(&f.sm, S), 0);
		assert_true(f.t->act->cc.ssthresh <= f.cwnd0 * 7 / 10);
		if (how == FS_BELOW) {
			/* the scoreboard takes segments 2-3 of the block as
			 * SACKed, and the two new segments fill cwnd: the
			 * first lost, segment 4, goes when the timer says */
			sim_run(&f.sm, 1 * SEC);
			expect_again(&f, 1 + 3 * f.seg);
		} else {
			expect_again(&f, 1 + f.seg);
		}
	} else {
		assert_int_equal(sim_counter(&f.sm, S, "TCPLossUndo"), 1);
		assert_int_equal(sim_counter(&f.sm, S, "TCPSpuriousRTOs"), 1);
		assert_int_equal(f.t->act->cc.ssthresh, f.ssthresh0);
	}
	if (how == FS_ADVANCE) {
		/* the last two new segments, nothing resent */
		sim_peer_expect(&f.p, A, 1 + (SEGS + 2) * f.seg, 1, f.seg, __FILE__, __LINE__);
		sim_peer_expect(&f.p, A | PSH, 1 + (SEGS + 3) * f.seg, 1, f.seg, __FILE__,
				__LINE__);
		expect_no_tx(&f.sm);
	}
	peer_ack(&f, 1 + (SEGS + 4) * f.seg, 0, 0, NULL, 0);
	assert_int_equal(undos(&f.sm, S), real ? 0 : 2);
	fx_end(&f);
}

static void test_frto_sack(void **state)
{
	(void)state;
	frto_sack_case(FS_ADVANCE, 839);
	frto_sack_case(FS_BLOCK, 840);
	frto_sack_case(FS_REAL, 841);
	frto_sack_case(FS_BELOW, 842);
}

/* F-RTO's step 2 goes the usual way (2a) when the first ACK does not
 * cover the whole retransmission (only half of segment 1: go-back-N
 * goes on with segment 2, no new data), and F-RTO is not entered again at a second
 * timeout (RFC 5682 §2.1 step 1): after it, the ACK of segment 1 brings
 * segment 2 again, not new data. */
static void test_frto_usual_ways(void **state)
{
	(void)state;
	fx f;
	frto_open(&f, true, false, false, 834);
	peer_ack(&f, 1 + f.seg / 2, 0, 0, NULL, 0);
	sim_peer_expect(&f.p, A, 1 + f.seg, 1, f.seg, __FILE__, __LINE__);
	peer_ack(&f, 1 + (SEGS + 4) * f.seg, 0, 0, NULL, 0);
	assert_int_equal(undos(&f.sm, S), 0);
	fx_end(&f);

	frto_open(&f, true, false, false, 835);
	while (sim_counter(&f.sm, S, "TCPTimeouts") < 2)
		sim_run(&f.sm, 1 * MS);
	expect_again(&f, 1);
	peer_ack(&f, 1 + f.seg, 0, 0, NULL, 0);
	sim_peer_expect(&f.p, A, 1 + f.seg, 1, f.seg, __FILE__, __LINE__);
	peer_ack(&f, 1 + (SEGS + 4) * f.seg, 0, 0, NULL, 0);
	assert_int_equal(undos(&f.sm, S), 0);
	fx_end(&f);
}

/* An ECE ends F-RTO as a real loss (ECN's reduction is never undone):
 * on the first ACK after the timeout, which would let step 2's new data
 * go, the ECE takes back their room and brings go-back-N: segment 2
 * goes next, not segment 11. */
static void test_frto_ece_ends_it(void **state)
{
	(void)state;
	fx f;
	frto_open(&f, true, false, true, 836);
	peer_ack(&f, 1 + f.seg, 0, ECE, NULL, 0);
	assert_int_equal(sim_counter(&f.sm, S, "TCPECNReduce"), 1);
	assert_true(f.t->act->cc.cwnd <= 3 * f.seg);
	const sim_ev *e = sim_next_tx(&f.sm);
	assert_non_null(e);
	assert_int_equal(e->ev.seq - f.p.hiss, 1 + f.seg);
	peer_ack(&f, 1 + (SEGS + 4) * f.seg, 0, 0, NULL, 0);
	assert_int_equal(undos(&f.sm, S), 0);
	fx_end(&f);
}

/* ECN's reduction is never undone (RFC 9438 §4.9): the peer echoes CE
 * (ECE) and then loses, or seems to lose, segment 1 -- in the CWR state
 * that ECE began (cwr), or with ECE on the third duplicate ACK itself.
 * Every sign of a spurious loss follows: the full ACK echoes the
 * original's TSval, a D-SACK reports the retransmission. Nothing is
 * undone. */
static void ecn_case(bool cwr, uint64_t seed)
{
	fx f;
	fx_open(&f, seed, true, true, true);
	assert_true(f.t->ecn & ECN_OK);
	fx_send(&f);
	uint32_t hole = 1;
	if (cwr) {
		peer_ack(&f, 1 + f.seg, f.tsv[0], ECE, NULL, 0);
		assert_int_equal(sim_counter(&f.sm, S, "TCPECNReduce"), 1);
		assert_true(f.t->act->ecn_cwr);
		hole += f.seg;
	}
	fx_fast_retransmit_at(&f, hole, cwr ? 0 : ECE);
	peer_ack(&f, 1 + SEGS * f.seg, f.tsv[SEGS - 1], 0, NULL, 0);
	uint32_t dup[2] = { hole, hole + f.seg };
	peer_ack(&f, 1 + SEGS * f.seg, f.tsv[SEGS - 1], 0, dup, 1);
	assert_reduced(&f);
	fx_end(&f);
}

static void test_ecn_never_undone(void **state)
{
	(void)state;
	ecn_case(true, 811);
	ecn_case(false, 812);
}

/* The control for ecn_case: the same signs without ECN undo. */
static void test_both_signs_undo(void **state)
{
	(void)state;
	fx f;
	fx_open(&f, 813, true, true, false);
	fx_send(&f);
	fx_fast_retransmit(&f, 0);
	peer_ack(&f, 1 + SEGS * f.seg, f.tsv[SEGS - 1], 0, NULL, 0);
	assert_int_equal(sim_counter(&f.sm, S, "TCPFullUndo"), 1);
	assert_restored(&f);
	fx_end(&f);
}

/* A peer with neither timestamps nor SACK: nothing can tell a late
 * segment from a lost one, so nothing is undone (and nothing breaks):
 * neither fast recovery's reduction nor a timeout's. */
static void test_blind_peer_nothing_undone(void **state)
{
	(void)state;
	fx f;
	fx_open(&f, 814, false, false, false);
	fx_send(&f);
	fx_fast_retransmit(&f, 0);
	peer_ack(&f, 1 + SEGS * f.seg, 0, 0, NULL, 0);
	assert_reduced(&f);
	fx_end(&f);
	fx_open(&f, 815, false, false, false);
	fx_send(&f);
	while (!sim_counter(&f.sm, S, "TCPTimeouts"))
		sim_run(&f.sm, 1 * MS);
	expect_again(&f, 1);
	peer_ack(&f, 1 + SEGS * f.seg, 0, 0, NULL, 0);
	assert_int_equal(undos(&f.sm, S), 0);
	assert_true(f.t->act->cc.ssthresh <= f.cwnd0 * 7 / 10);
	fx_end(&f);
}

/* ---- between two stacks: a segment held back past its retransmission ---- */

typedef struct hold {
	sim *sm;
	int nth;                  /* the client's nth data segment is held */
	int seen;
	uint32_t seq;             /* its sequence number (absolute) */
	bool drop;                /* a real loss: never delivered */
	uint8_t orig[2048], rxt[2048];
	size_t orig_len, rxt_len;
	bool have_orig, due;      /* due: both held, deliver them */
} hold;

static hold the_hold;

/* The TCP header of an IPv4 or IPv6 packet of the simulator (no
 * extension headers), and its payload length. */
static const uint8_t *tcp_of(const uint8_t *pkt, size_t len, size_t *payload)
{
	size_t ip = (pkt[0] >> 4) == 6 ? 40 : (size_t)(pkt[0] & 0xf) * 4;
	if (len < ip + 20)
		return NULL;
	const uint8_t *th = pkt + ip;
	*payload = len - ip - (size_t)(th[12] >> 4) * 4;
	return th;
}

static bool hold_filter(void *ctx, int from, const uint8_t *pkt, size_t len)
{
	hold *h = ctx;
	size_t payload;
	const uint8_t *th = tcp_of(pkt, len, &payload);
	if (from != C || !th || !payload || len > sizeof(h->orig))
		return true;
	uint32_t seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 | (uint32_t)th[6] << 8 | th[7];
	if (!h->have_orig && ++h->seen == h->nth) {
		h->seq = seq;
		memcpy(h->orig, pkt, len);
		h->orig_len = len;
		h->have_orig = true;
		return false;
	}
	if (h->have_orig && !h->rxt_len && seq == h->seq) {
		if (h->drop)
			return true;    /* the retransmission goes through */
		memcpy(h->rxt, pkt, len);
		h->rxt_len = len;
		h->due = true;
		return false;
	}
	return true;
}

typedef struct outcome {
	hsk_tcp_info end;         /* the client's, at the end */
	uint32_t prior_cwnd, prior_ssthresh; /* its last before recovery */
	uint64_t full, partial, dsack, loss, spurious, dsack_recv, retrans;
} outcome;

/* When transfer_run's transfer began (after the handshake). */
static uint64_t transfer_t0;

/* Two stacks over a 20 ms path (cfg's, with 1 MiB buffers): the
 * client's packets go through `filter`, and `step` (what the filter held
 * delivered) runs after each 0.1 ms of at most `steps`. The client sends
 * `total` bytes (at most 1 MiB), which the server reads, exact and in
 * order. The pair is left open (sim_finish_pair). */
static void transfer_run(sim *sm, hsk_config *cfg, uint64_t seed, size_t total,
			 memnet_filter_fn filter, void *ctx, void (*step)(sim *sm), int steps,
			 int *lsd, int *csd, int *ssd)
{
	cfg->sndbuf = cfg->rcvbuf = 1u << 20;
	sim_init(sm, 2, cfg, seed);
	sim_open_pair(sm, C, S, PORT, 8, lsd, csd, ssd);
	memnet_impair imp = { .delay_ns = 10 * MS };
	memnet_set_impair(sm->net, C, &imp);
	memnet_set_impair(sm->net, S, &imp);
	memnet_set_filter(sm->net, filter, ctx);
	transfer_t0 = memnet_now(sm->net);
	enum { MAX = 1024 * 1024 };
	static uint8_t out[MAX], in[MAX];
	assert_true(total <= MAX);
	for (size_t i = 0; i < total; i++)
		out[i] = (uint8_t)(i * 7 + i / 251);
	size_t sent = 0, got = 0;
	for (int i = 0; i < steps && got < total; i++) {
		if (sent < total) {
			long n = hsk_send(sm->st[C], *csd, out + sent, total - sent);
			if (n > 0)
				sent += (size_t)n;
		}
		sim_run(sm, 100000);    /* 0.1 ms */
		step(sm);
		long n;
		while ((n = hsk_recv(sm->st[S], *ssd, in + got, total - got)) > 0)
			got += (size_t)n;
	}
	assert_int_equal(got, total);
	assert_memory_equal(in, out, total);
}

/* The held segments reach the server once both are there (the original
 * first). */
static void hold_step(sim *sm)
{
	if (!the_hold.due)
		return;
	the_hold.due = false;
	sim_sync_clocks(sm);
	uint64_t now = memnet_now(sm->net);
	hsk_stack_input(sm->st[S], now, the_hold.orig, the_hold.orig_len);
	hsk_stack_input(sm->st[S], now, the_hold.rxt, the_hold.rxt_len);
}

/* The client sends 300 KB to the server over a 20 ms path; its 30th
 * data segment is held back. Late (not drop): when the fast
 * retransmission of it goes, the original is delivered first, then the
 * retransmission. drop: the original is lost. Every byte must arrive,
 * in order. The prior cwnd and ssthresh are the trace's last sample
 * before the recovery. */
static void reorder_run(bool sack, bool ts, bool drop, uint64_t seed, outcome *o)
{
	sim sim_, *sm = &sim_;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sack = sack;
	cfg.timestamps = ts;
	int lsd, csd, ssd;
	the_hold = (hold){ .sm = sm, .nth = 30, .drop = drop };
	transfer_run(sm, &cfg, seed, 300 * 1024, hold_filter, &the_hold, hold_step, 40000, &lsd,
		     &csd, &ssd);
	assert_true(the_hold.have_orig);
	assert_true(drop || the_hold.rxt_len);
	assert_int_equal(sim_counter(sm, C, "TCPRenoRecovery") +
			 sim_counter(sm, C, "TCPSackRecovery"), 1);
	*o = (outcome){ .full = sim_counter(sm, C, "TCPFullUndo"),
			.partial = sim_counter(sm, C, "TCPPartialUndo"),
			.retrans = sim_counter(sm, C, "RetransSegs"),
			.dsack = sim_counter(sm, C, "TCPDSACKUndo"),
			.loss = sim_counter(sm, C, "TCPLossUndo"),
			.spurious = sim_counter(sm, C, "TCPSpuriousRTOs"),
			.dsack_recv = sim_counter(sm, C, "TCPDSACKRecv") };
	for (size_t i = 0; i < sm->nlog; i++) {
		const hsk_trace_event *e = &sm->log[i].ev;
		if (sm->log[i].host != C || e->kind != HSK_EV_CC)
			continue;
		if (e->in_recovery)
			break;
		o->prior_cwnd = e->cwnd;
		o->prior_ssthresh = e->ssthresh;
	}
	assert_int_equal(hsk_sock_info(sm->st[C], csd, &o->end), 0);
	sim_finish_pair(sm, C, S, lsd, csd, ssd);
}

/* ---- between two stacks: the path stalls ---- */

/* The client's packets stall (a handover, a link's retransmissions):
 * those it sends in [from, to) are held and reach the server in order at
 * `to`, retransmissions behind the originals, as through a queue. */
typedef struct stall {
	sim *sm;
	uint64_t from, to;        /* after transfer_t0 */
	uint8_t pkt[512][2048];
	size_t len[512];
	int n;
	bool over;
} stall;

static stall the_stall;

static bool stall_filter(void *ctx, int from, const uint8_t *pkt, size_t len)
{
	stall *st = ctx;
	uint64_t at = memnet_now(st->sm->net) - transfer_t0;
	if (from != C || at < st->from || at >= st->to || st->n == 512 || len > 2048)
		return true;
	memcpy(st->pkt[st->n], pkt, len);
	st->len[st->n++] = len;
	return false;
}

/* At the stall's end what it held reaches the server, in order. */
static void stall_step(sim *sm)
{
	if (the_stall.over || memnet_now(sm->net) - transfer_t0 < the_stall.to)
		return;
	the_stall.over = true;
	sim_sync_clocks(sm);
	uint64_t now = memnet_now(sm->net);
	for (int i = 0; i < the_stall.n; i++)
		hsk_stack_input(sm->st[S], now, the_stall.pkt[i], the_stall.len[i]);
}

/* A 1 MB transfer from a client without timestamps (and without SACK
 * unless sack) over a 20 ms path that stalls for 400 ms from 40 ms on (its third round
 * trip): the client's timeout fires once while its originals wait in
 * the stall, and the retransmission arrives behind them. Every byte
 * must arrive, in order. */
static void stall_run(bool frto, bool sack, uint64_t seed, outcome *o, uint64_t *done_ns)
{
	sim sim_, *sm = &sim_;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sack = sack;
	cfg.timestamps = false;
	cfg.frto = frto;
	int lsd, csd, ssd;
	the_stall = (stall){ .sm = sm, .from = 40 * MS, .to = 440 * MS };
	transfer_run(sm, &cfg, seed, 1024 * 1024, stall_filter, &the_stall, stall_step, 100000,
		     &lsd, &csd, &ssd);
	*done_ns = memnet_now(sm->net) - transfer_t0;
	assert_true(the_stall.over && the_stall.n > 1 && the_stall.n < 512);
	assert_true(sim_counter(sm, C, "TCPTimeouts") >= 1);
	*o = (outcome){ .retrans = sim_counter(sm, C, "RetransSegs"),
			.loss = sim_counter(sm, C, "TCPLossUndo"),
			.spurious = sim_counter(sm, C, "TCPSpuriousRTOs") };
	assert_int_equal(hsk_sock_info(sm->st[C], csd, &o->end), 0);
	memnet_set_filter(sm->net, NULL, NULL);
	sim_finish_pair(sm, C, S, lsd, csd, ssd);
}

/* F-RTO between two stacks: the stalled path's timeout is spurious (all
 * the originals arrive, before the retransmission). With F-RTO the first
 * ACKs after it let new data go, the next shows the originals arrived,
 * and the timeout is undone at once (TCPLossUndo): one segment resent.
 * Without, go-back-N resends what the ACKs have not covered yet and cwnd
 * starts over from one segment; with SACK the records the timeout marked
 * lost go again, and only the D-SACKs of them, later, undo it. */
static void test_frto_stalled_path(void **state)
{
	(void)state;
	for (int sack = 0; sack <= 1; sack++) {
		outcome on, off;
		uint64_t on_ns, off_ns;
		stall_run(true, sack, 838, &on, &on_ns);
		stall_run(false, sack, 838, &off, &off_ns);
		fprintf(stderr, "stalled path%s: F-RTO %" PRIu64 " resent, %" PRIu64
			" undone, cwnd %u, %.1f ms; without %" PRIu64 " resent, %" PRIu64
			" undone, cwnd %u, %.1f ms\n", sack ? " (SACK)" : "", on.retrans,
			on.spurious, on.end.cwnd, on_ns / 1e6, off.retrans, off.spurious,
			off.end.cwnd, off_ns / 1e6);
		assert_int_equal(on.spurious, 1);
		assert_int_equal(on.loss, 1);
		assert_int_equal(off.loss, 0);
		assert_true(on.retrans * 4 < off.retrans);
	}
}

/* Reordering, SACK without timestamps: the D-SACK of the needless
 * retransmission undoes the reduction (TCPDSACKUndo), and ssthresh is
 * what it was (no loss yet: "infinite"). */
static void test_reorder_dsack(void **state)
{
	(void)state;
	outcome o;
	reorder_run(true, false, false, 816, &o);
	assert_int_equal(o.dsack, 1);
	assert_int_equal(o.full + o.partial + o.loss + o.spurious, 0);
	assert_true(o.dsack_recv >= 1);
	assert_int_equal(o.prior_ssthresh, UINT32_MAX);
	assert_int_equal(o.end.ssthresh, CC_CWND_MAX);
	assert_true(o.end.cwnd >= o.prior_cwnd);
}

/* Reordering, timestamps without SACK (Eifel): the first ACK after the
 * fast retransmission echoes the TSval of the delayed original, not the
 * retransmission's. It is a partial ACK (the two segments Limited
 * Transmit sent on the first duplicates are still on their way, and
 * `recover` is past them), and it ends the recovery undone
 * (TCPPartialUndo); nothing more is resent. */
static void test_reorder_eifel(void **state)
{
	(void)state;
	outcome o;
	reorder_run(false, true, false, 817, &o);
	assert_int_equal(o.partial, 1);
	assert_int_equal(o.retrans, 1);
	assert_int_equal(o.full + o.dsack + o.loss + o.spurious, 0);
	assert_int_equal(o.prior_ssthresh, UINT32_MAX);
	assert_int_equal(o.end.ssthresh, CC_CWND_MAX);
	assert_true(o.end.cwnd >= o.prior_cwnd);
}

/* The same path with the segment really lost, SACK and timestamps on:
 * the retransmission was needed, the reduction stands. */
static void test_real_loss_kept(void **state)
{
	(void)state;
	outcome o;
	reorder_run(true, true, true, 818, &o);
	assert_int_equal(o.full + o.partial + o.dsack + o.loss + o.spurious, 0);
	assert_true(o.end.ssthresh <= o.prior_cwnd * 7 / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsack_undoes),
		cmocka_unit_test(test_dsack_of_unresent_data_refused),
		cmocka_unit_test(test_probe_joins_episode),
		cmocka_unit_test(test_eifel_undoes),
		cmocka_unit_test(test_eifel_real_loss_stands),
		cmocka_unit_test(test_eifel_bogus_echo_refused),
		cmocka_unit_test(test_eifel_partial_undoes),
		cmocka_unit_test(test_eifel_partial_refused),
		cmocka_unit_test(test_spurious_rto_undone),
		cmocka_unit_test(test_spurious_rto_undone_sack),
		cmocka_unit_test(test_real_rto_stands),
		cmocka_unit_test(test_frto_spurious_undone),
		cmocka_unit_test(test_frto_real_loss_stands),
		cmocka_unit_test(test_frto_off),
		cmocka_unit_test(test_frto_usual_ways),
		cmocka_unit_test(test_frto_sack),
		cmocka_unit_test(test_frto_ece_ends_it),
		cmocka_unit_test(test_frto_stalled_path),
		cmocka_unit_test(test_ecn_never_undone),
		cmocka_unit_test(test_both_signs_undo),
		cmocka_unit_test(test_blind_peer_nothing_undone),
		cmocka_unit_test(test_reorder_dsack),
		cmocka_unit_test(test_reorder_eifel),
		cmocka_unit_test(test_real_loss_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
