/*
 * Retransmission at the edges: a timeout resends what was lost whatever
 * Nagle and silly-window avoidance say about new data (RFC 6298 §5.4,
 * RFC 1122 §4.2.3.4); zero-window probing is bounded like Linux's
 * tcp_probe_timer (retries2, orphan_retries, the user timeout) while a
 * peer that keeps answering may keep the window closed (RFC 9293
 * §3.8.6.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

enum { C = 0, S = 1, PORT = 80 };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define FIN HSK_TH_FIN
#define PSH HSK_TH_PSH
#define RST HSK_TH_RST

static hsk_config no_sack(void)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sack = false;
	return cfg;
}

/* The server (S) accepts a connection from a peer the test plays, whose
 * SYN carries an MSS option alone (no SACK, no timestamps). */
static void peer_fx(sim *sm, sim_peer *p, const hsk_config *cfg, uint64_t seed, uint16_t mss)
{
	sim_init(sm, 2, cfg, seed);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = mss;
	sim_peer_accept(sm, p, S, PORT, 5000, &syn);
}

/* The server aborts the peer's connection and closes its listener. */
static void peer_end(sim *sm, sim_peer *p)
{
	assert_int_equal(hsk_abort(sm->st[S], p->sd), 0);
	assert_int_equal(hsk_close(sm->st[S], p->lsd), 0);
	sim_run(sm, 100 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* send("hello"), the first copy lost, no SACK: the timeout resends it
 * (Nagle holds back only new data) and it arrives. */
static void test_lost_small_segment_resent(void **state)
{
	(void)state;
	hsk_config cfg = no_sack();
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, &cfg, 300, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	sim_lose(&sm, C, A | PSH, 1);
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_send(c, csd, "hello", 5), 5);
	sim_run(&sm, 1 * SEC);
	expect_seg(&sm, C, A | PSH, 1, 1, 5);        /* lost */
	expect_seg(&sm, C, A | PSH, 1, 1, 5);        /* the RTO: 200 ms */
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.t_ns - t0, 200 * MS);
	expect_seg(&sm, S, A, 1, 6, 0);
	expect_no_tx(&sm);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(sim_counter(&sm, C, "TCPTimeouts"), 1);
	sim_finish_pair_graceful(&sm, C, S, lsd, csd, ssd, 3 * MS);
}

/* Two small writes, both lost: Minshall's Nagle held the second while the
 * first was unacknowledged; the timeout resends both bytes as one segment. */
static void test_lost_small_segments_go_back_n(void **state)
{
	(void)state;
	hsk_config cfg = no_sack();
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, &cfg, 301, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	sim_blackhole(&sm, C, A | PSH, true);
	assert_int_equal(hsk_send(c, csd, "ab", 2), 2);
	assert_int_equal(hsk_send(c, csd, "cd", 2), 2);   /* Nagle: waits */
	expect_seg(&sm, C, A | PSH, 1, 1, 2);
	expect_no_tx(&sm);
	sim_run(&sm, 100 * MS);
	sim_blackhole(&sm, C, A | PSH, false);
	sim_run(&sm, 1 * SEC);
	expect_seg(&sm, C, A | PSH, 1, 1, 4);
	expect_seg(&sm, S, A, 1, 5, 0);
	expect_no_tx(&sm);
	char buf[8];
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(hsk_abort(c, csd), 0);
	sim_run(&sm, 3 * MS);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Sender SWS avoidance holds back new data the window cuts short; a
 * retransmission the window cuts short still goes (as Linux's
 * tcp_retransmit_skb sends what fits). The peer shrinks its window to
 * 1000 bytes while 3000 are in flight and lost. */
static void test_window_cut_retransmission_sent(void **state)
{
	(void)state;
	hsk_config cfg = no_sack();
	sim sm;
	sim_peer p;
	peer_fx(&sm, &p, &cfg, 302, 1460);
	const uint32_t mss = sim_mss(&sm);     /* 1460, or 1440 over IPv6 */
	hsk_stack *s = sm.st[S];
	static char data[3000];
	memset(data, 'r', sizeof(data));
	assert_int_equal(hsk_send(s, p.sd, data, sizeof(data)), 3000);
	expect_peer_seg(&p, A, 1, 1, mss);
	expect_peer_seg(&p, A, 1 + mss, 1, mss);
	expect_peer_seg(&p, A | PSH, 1 + 2 * mss, 1, 3000 - 2 * mss);
	expect_no_tx(&sm);
	/* All three lost; the peer acknowledges nothing and offers 1000. */
	sim_peer_send(&p, 1, 1, A, 1000, NULL, 0);
	expect_no_tx(&sm);
	uint64_t t0 = sim_now(&sm);
	sim_run(&sm, 300 * MS);
	expect_peer_seg(&p, A, 1, 1, 1000);             /* the RTO: 200 ms */
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.t_ns - t0, 200 * MS);
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, S, "TCPTimeouts"), 1);
	/* Acknowledged: the next 1000 go (the window still cuts them short,
	 * but they too were sent once already). */
	sim_peer_send(&p, 1, 1001, A, 1000, NULL, 0);
	expect_peer_seg(&p, A, 1001, 1, 1000);
	expect_no_tx(&sm);
	assert_int_equal(hsk_abort(s, p.sd), 0);
	assert_int_equal(hsk_close(s, p.lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A pair whose server never reads: with 4 KB buffers the client's 100 KB
 * soon meet a zero window, and the client probes it (persist timer). */
static void zero_window_pair(sim *sm, uint64_t seed, int *lsd, int *csd, int *ssd)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.rcvbuf = 4096;
	cfg.sndbuf = 128 * 1024;
	sim_init(sm, 2, &cfg, seed);
	sim_open_pair(sm, C, S, PORT, 8, lsd, csd, ssd);
	static char d[100000];
	memset(d, 'z', sizeof(d));
	assert_int_equal(hsk_send(sm->st[C], *csd, d, sizeof(d)), (long)sizeof(d));
	sim_run(sm, 1 * SEC);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(sm->st[C], *csd, &ti), 0);
	assert_int_equal(ti.snd_wnd, 0);
	assert_true(sim_counter(sm, C, "TCPWinProbe") >= 1);
}

/* Times (ns) of the client's window probes (ACK, no text, SEG.SEQ =
 * SND.UNA - 1) from log index `from` on. */
static int probes_since(const sim *sm, size_t from, uint64_t *at, int max)
{
	int n = 0;
	for (size_t i = from; i < sm->nlog; i++) {
		const sim_ev *e = &sm->log[i];
		if (e->host != C || e->ev.kind != HSK_EV_TX || e->ev.flags != A || e->ev.len)
			continue;
		if (n < max)
			at[n] = e->ev.t_ns;
		n++;
	}
	return n;
}

static void zero_window_end(sim *sm, int lsd, int csd, int ssd)
{
	for (int h = 0; h < 2; h++)
		sim_blackhole(sm, h, -1, false);
	if (csd >= 0)
		hsk_close(sm->st[C], csd);
	hsk_abort(sm->st[S], ssd);
	hsk_close(sm->st[S], lsd);
	sim_run(sm, 200 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* RFC 9293 §3.8.6.1: a receiver that keeps its window closed but answers
 * every probe may keep the connection open indefinitely: two hours,
 * about 60 probes, more than retries2. */
static void test_zero_window_answered_stays(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	zero_window_pair(&sm, 310, &lsd, &csd, &ssd);
	size_t mark = sm.nlog;
	sim_run(&sm, 2 * 3600 * SEC);
	uint64_t at[1];
	assert_true(probes_since(&sm, mark, at, 1) > 50);
	assert_int_equal(hsk_sock_state(sm.st[C], csd), HSK_ESTABLISHED);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnTimeout"), 0);
	zero_window_end(&sm, lsd, csd, ssd);
}

/* The peer stops answering: retries2 (15) unanswered probes, then
 * ETIMEDOUT at the next timeout (Linux's tcp_probe_timer). The backoff
 * has reached rto_max (120 s): the 15 probes come 120 s apart after the
 * last answered one, and the end 120 s after the 15th. */
static void test_zero_window_unanswered_gives_up(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	zero_window_pair(&sm, 311, &lsd, &csd, &ssd);
	sim_run(&sm, 3600 * SEC);
	uint64_t at[256];
	int n = probes_since(&sm, 0, at, 256);
	assert_true(n > 10 && n < 256);
	uint64_t last_answered = at[n - 1];
	assert_int_equal(at[n - 1] - at[n - 2], 120 * SEC);
	sim_blackhole(&sm, S, -1, true);
	size_t mark = sm.nlog;
	sim_run(&sm, 3600 * SEC);
	assert_int_equal(hsk_sock_state(sm.st[C], csd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(sm.st[C], csd), HSK_ETIMEDOUT);
	n = probes_since(&sm, mark, at, 256);
	assert_int_equal(n, 15);
	assert_int_equal(at[14], last_answered + 15 * 120 * SEC);
	const sim_ev *end = NULL;
	for (size_t i = mark; i < sm.nlog; i++)
		if (sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_STATE)
			end = &sm.log[i];
	assert_non_null(end);
	assert_int_equal(end->ev.to, HSK_CLOSED);
	assert_int_equal(end->ev.t_ns, last_answered + 16 * 120 * SEC);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnTimeout"), 1);
	zero_window_end(&sm, lsd, csd, ssd);
}

/* close() while the window is closed: the orphan does not live on the
 * peer's answers; after orphan_retries (8) probes it is gone, answered or
 * not (Linux bounds orphans too). */
static void test_zero_window_orphan_gives_up(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	zero_window_pair(&sm, 312, &lsd, &csd, &ssd);
	/* Probes less than 500 ms apart draw one answer (the peer's
	 * invalid_ratelimit): wait for the backoff to space them out, so
	 * that the last probe before close() was answered. */
	sim_run(&sm, 10 * SEC);
	assert_int_equal(hsk_close(sm.st[C], csd), 0);
	size_t mark = sm.nlog;
	sim_run(&sm, 8 * 120 * SEC + 1 * SEC);
	hsk_usage u;
	hsk_stack_usage(sm.st[C], &u);
	assert_int_equal(u.tcbs, 0);
	uint64_t at[64];
	assert_int_equal(probes_since(&sm, mark, at, 64), 8);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnTimeout"), 1);
	zero_window_end(&sm, lsd, -1, ssd);
}

/* TCP_USER_TIMEOUT bounds probing too, answered or not: 30 s here, so
 * the probe timer that fires first after 30 s of probing ends it. */
static void test_zero_window_user_timeout(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.rcvbuf = 4096;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, &cfg, 313, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C];
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_USER_TIMEOUT, 30000), 0);
	static char d[100000];
	memset(d, 'u', sizeof(d));
	assert_int_equal(hsk_send(c, csd, d, sizeof(d)), (long)sizeof(d));
	size_t mark = sm.nlog;
	sim_run(&sm, 10 * SEC);
	uint64_t at[64];
	int n = probes_since(&sm, mark, at, 64);
	assert_true(n >= 3);
	uint64_t first = at[0];
	sim_run(&sm, 300 * SEC);
	assert_int_equal(hsk_sock_error(c, csd), HSK_ETIMEDOUT);
	const sim_ev *end = NULL;
	for (size_t i = mark; i < sm.nlog; i++)
		if (sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_STATE)
			end = &sm.log[i];
	assert_non_null(end);
	/* Probing began less than an RTO before the first probe. */
	assert_true(end->ev.t_ns >= first + 30 * SEC - 1 * SEC);
	assert_true(end->ev.t_ns <= first + 60 * SEC);
	zero_window_end(&sm, lsd, csd, ssd);
}

/* TCP_USER_TIMEOUT bounds retransmissions as well: with 3 s, data to a
 * peer that went silent fails with ETIMEDOUT at the first timeout 3 s or
 * more after the first transmission -- not after retries2 (15, minutes). */
static void test_user_timeout_retransmissions(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 314, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C];
	assert_int_equal(hsk_setsockopt(c, csd, HSK_SO_USER_TIMEOUT, 3000), 0);
	sim_blackhole(&sm, S, -1, true);
	uint64_t t0 = sim_now(&sm);
	assert_int_equal(hsk_send(c, csd, "hello", 5), 5);
	sim_run(&sm, 10 * SEC);
	assert_int_equal(hsk_sock_state(c, csd), HSK_CLOSED);
	assert_int_equal(hsk_sock_error(c, csd), HSK_ETIMEDOUT);
	assert_int_equal(sim_counter(&sm, C, "TCPAbortOnTimeout"), 1);
	const sim_ev *end = NULL;
	for (size_t i = 0; i < sm.nlog; i++)
		if (sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_STATE)
			end = &sm.log[i];
	assert_non_null(end);
	assert_true(end->ev.t_ns >= t0 + 3 * SEC);
	assert_true(end->ev.t_ns < t0 + 7 * SEC);
	assert_true(sim_counter(&sm, C, "TCPTimeouts") < 15);
	zero_window_end(&sm, lsd, csd, ssd);
}

/* A fast retransmit resends what was sent, never more: the host sent one
 * small segment, Nagle holds the next 100 bytes back, and three duplicate
 * ACKs must bring back that one byte alone (not 101 bytes, 100 of them
 * never sent and perhaps beyond the window). */
static void test_fast_retransmit_stops_at_snd_max(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	peer_fx(&sm, &p, NULL, 310, 1460);
	hsk_stack *h = sm.st[S];
	static char more[100];
	assert_int_equal(hsk_send(h, p.sd, "a", 1), 1);
	expect_peer_seg(&p, A | PSH, 1, 1, 1);
	assert_int_equal(hsk_send(h, p.sd, more, sizeof(more)), (long)sizeof(more));
	expect_no_tx(&sm);              /* Nagle: "a" is unacknowledged */
	for (int i = 0; i < 3; i++)
		sim_peer_send(&p, 1, 1, A, 65535, NULL, 0);
	expect_peer_seg(&p, A | PSH, 1, 1, 1);   /* "a" again, alone */
	expect_no_tx(&sm);
	peer_end(&sm, &p);
}

/* RFC 6937 in SACK recovery: prr_out counts every byte sent since the
 * reduction, new data too. A bulk sender with plenty to send and a window
 * that never limits it loses one segment; while it recovers, PRR lets out
 * ssthresh / RecoverFS (0.7 with CUBIC) of what is delivered, so the
 * bytes sent in recovery come to 0.7 of the flight at its start (422,816
 * of 605,264). Counting only the repairs let each ACK send more than it
 * delivered: 905,448, 1.5 times the flight, no reduction at all. */
static void test_prr_counts_new_data(void **state)
{
	(void)state;
	sim sm;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sndbuf = cfg.rcvbuf = 4u << 20;     /* the window never limits */
	sim_init(&sm, 2, &cfg, 313);
	int lsd, csd, ssd;
	sim_open_pair(&sm, C, S, PORT, 8, &lsd, &csd, &ssd);
	static char data[2048 * 1024], got[64 * 1024];
	memset(data, 'p', sizeof(data));
	sim_lose(&sm, C, A, 300);       /* the 300th data segment, once */
	size_t off = 0;
	for (int i = 0; i < 2000 && off < sizeof(data); i++) {
		long n = hsk_send(sm.st[C], csd, data + off, sizeof(data) - off);
		if (n > 0)
			off += (size_t)n;
		sim_run(&sm, 2 * MS);
		while (hsk_recv(sm.st[S], ssd, got, sizeof(got)) > 0)
			;
	}
	sim_run(&sm, 2 * SEC);
	while (hsk_recv(sm.st[S], ssd, got, sizeof(got)) > 0)
		;
	/* The client's recovery in its log: from the first sample in
	 * recovery to the first one after it. */
	bool in = false, seen = false;
	uint32_t flight0 = 0, sent = 0;
	for (size_t i = 0; i < sm.nlog; i++) {
		const sim_ev *e = &sm.log[i];
		if (e->host != C)
			continue;
		if (e->ev.kind == HSK_EV_CC) {
			if (e->ev.in_recovery && !in && !seen) {
				in = seen = true;
				flight0 = e->ev.flight;
			} else if (!e->ev.in_recovery && in) {
				in = false;
			}
		} else if (e->ev.kind == HSK_EV_TX && in) {
			sent += e->ev.len;
		}
	}
	assert_true(seen);
	assert_false(in);
	assert_true(flight0 > 20 * sim_mss(&sm));
	/* 0.7 of the flight, with room for the rounding of each step */
	assert_true(sent <= flight0 * 8 / 10);
	assert_true(sent >= flight0 * 5 / 10);
	assert_int_equal(hsk_abort(sm.st[C], csd), 0);
	assert_int_equal(hsk_abort(sm.st[S], ssd), 0);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_run(&sm, 100 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A timeout rewinds SND.NXT for go-back-N, but what was sent stays sent: a
 * pure ACK sent meanwhile (for the peer's data) carries SND.MAX, or the
 * peer would take it for an old duplicate. */
static void test_ack_after_rewind_carries_snd_max(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	peer_fx(&sm, &p, NULL, 315, 1000);
	hsk_stack *h = sm.st[S];
	static char d[3000];
	assert_int_equal(hsk_send(h, p.sd, d, sizeof(d)), (long)sizeof(d));
	expect_peer_seg(&p, A, 1, 1, 1000);
	expect_peer_seg(&p, A, 1001, 1, 1000);
	expect_peer_seg(&p, A | PSH, 2001, 1, 1000);
	sim_run(&sm, 250 * MS);                 /* the RTO: the first again */
	expect_peer_seg(&p, A, 1, 1, 1000);
	sim_peer_send(&p, 1, 1, A | PSH, 65535, "z", 1);
	sim_run(&sm, 50 * MS);                  /* the delayed ACK */
	expect_peer_seg(&p, A, 3001, 2, 0);
	peer_end(&sm, &p);
}

/* Nagle holds small new data while a small segment is unacknowledged,
 * but not the last bytes before our FIN: shutdown() sends them with the
 * FIN at once (nothing more is coming to fill a segment). */
static void test_nagle_lets_last_bytes_go_with_fin(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	peer_fx(&sm, &p, NULL, 316, 1460);
	hsk_stack *h = sm.st[S];
	assert_int_equal(hsk_send(h, p.sd, "a", 1), 1);
	expect_peer_seg(&p, A | PSH, 1, 1, 1);
	assert_int_equal(hsk_send(h, p.sd, "bc", 2), 2);
	expect_no_tx(&sm);              /* Nagle: "a" is unacknowledged */
	assert_int_equal(hsk_shutdown(h, p.sd, HSK_SHUT_WR), 0);
	expect_peer_seg(&p, A | PSH | FIN, 2, 1, 2);
	expect_no_tx(&sm);
	peer_end(&sm, &p);
}

/* With SACK each segment in flight has a record (RACK), and the records
 * are bounded: about two per MSS of the send buffer (here 8 KiB: 2 * 5 +
 * 8, rounded up to 32). One-byte writes with TCP_NODELAY to a peer that
 * acknowledges nothing: 32 segments go (the 16 records inside the
 * extension, then 32 allocated), the rest waits (queued, not sent) until
 * an ACK frees records, and then leaves in one segment. */
static void test_sack_records_bounded(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 520);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.sack_ok = true;
	sim_peer p;
	sim_peer_accept(&sm, &p, S, PORT, 1000, &syn);
	hsk_stack *s = sm.st[S];
	assert_int_equal(hsk_setsockopt(s, p.sd, HSK_SO_SNDBUF, 8192), 0);
	assert_int_equal(hsk_setsockopt(s, p.sd, HSK_TCP_NODELAY, 1), 0);
	size_t mark = sm.nlog;
	for (int i = 0; i < 100; i++)
		assert_int_equal(hsk_send(s, p.sd, "x", 1), 1);
	assert_int_equal(sim_count_tx_since(&sm, S, mark), 32);
	for (uint32_t i = 0; i < 32; i++)
		expect_peer_seg(&p, A | PSH, 1 + i, 1, 1);
	expect_no_tx(&sm);
	/* Ten acknowledged: the other 68 bytes go at once. */
	sim_peer_send(&p, 1, 11, A, 65535, NULL, 0);
	expect_peer_seg(&p, A | PSH, 33, 1, 68);
	expect_no_tx(&sm);
	sim_peer_send(&p, 1, 101, A, 65535, NULL, 0);
	sim_peer_finish(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_retransmit_stops_at_snd_max),
		cmocka_unit_test(test_prr_counts_new_data),
		cmocka_unit_test(test_lost_small_segment_resent),
		cmocka_unit_test(test_lost_small_segments_go_back_n),
		cmocka_unit_test(test_window_cut_retransmission_sent),
		cmocka_unit_test(test_zero_window_answered_stays),
		cmocka_unit_test(test_zero_window_unanswered_gives_up),
		cmocka_unit_test(test_zero_window_orphan_gives_up),
		cmocka_unit_test(test_zero_window_user_timeout),
		cmocka_unit_test(test_user_timeout_retransmissions),
		cmocka_unit_test(test_ack_after_rewind_carries_snd_max),
		cmocka_unit_test(test_nagle_lets_last_bytes_go_with_fin),
		cmocka_unit_test(test_sack_records_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
