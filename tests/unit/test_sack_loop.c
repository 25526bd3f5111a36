/* SACK and RACK-TLP together: a miniature sender and receiver wired the
 * way docs/bytestream.md tells the engine to wire them (RACK-TLP loss detection, the RFC 6675 scoreboard,
 * CUBIC, RFC 6298 RTO; reassembly and SACK blocks at the receiver), over a
 * link with a one-way delay of 10 ms, random loss and some reordering. The
 * receiver must get every byte once, in order; the sender must finish. */
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
	unsigned i, seed, sent, rtx, rtos, rec, tlps;

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
		cmocka_unit_test(test_loop_lossless),
		cmocka_unit_test(test_loop_reordering),
		cmocka_unit_test(test_loop_tail_loss),
		cmocka_unit_test(test_loop_lossy),
		cmocka_unit_test(test_loop_lossy_tlp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
