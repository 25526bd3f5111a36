/*
 * handshake against lwIP 2.1.3 (Debian's liblwip.so): a TCP written by
 * other people, with other choices. lwIP offers neither SACK nor
 * timestamps, scales a 64 KiB window by 2, delays ACKs to its next
 * 250 ms tick, counts its retransmission timer in 500 ms ticks from an
 * initial RTO of 3 s, keeps its own out-of-order queue, and drops a
 * closed connection after 20 s in FIN_WAIT_2. So handshake's recovery
 * without SACK, its RTT without timestamps, its persist and keepalive
 * timers meet a peer that nobody here wrote. The two run in one process
 * on the simulator's clock (lwip_peer.h: the harness and what every run
 * checks); each scenario here runs both ways round, and test_lwip_v6 runs
 * them all over IPv6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lwip_peer.h"

static void test_clean(void **state)
{
	(void)state;
	peer_both_ways(peer_base("clean", 1));
}

static void test_half_close(void **state)
{
	(void)state;
	scenario sc = peer_base("half close", 2);
	sc.half_close = true;
	peer_both_ways(sc);
}

/* Both ends close at one instant: each FIN leaves before the other's
 * arrives, both ends pass CLOSING and both hold TIME_WAIT (RFC 9293
 * Figure 13's simultaneous close), also with loss on the way. */
static void test_simultaneous_close(void **state)
{
	(void)state;
	for (uint64_t seed = 20; seed < 24; seed++) {
		scenario sc = peer_base("simultaneous close", seed);
		sc.cross_fins = true;
		if (seed > 20)
			sc.imp.loss = 0.05;
		peer_both_ways(sc);
	}
}

/* Loss, duplication, reordering, corruption and jitter in both
 * directions: lwIP recovers without SACK, handshake recovers from a peer
 * that cannot tell it which segments arrived. HSK_LWIP_SEEDS seeds (70),
 * one in seven on a much worse path, every other one half-closing; the
 * soak (scripts/soak.sh) gives more, from HSK_SEED_OFFSET on. */
static void test_impaired(void **state)
{
	(void)state;
	const char *runs = getenv("HSK_LWIP_SEEDS");
	const char *offset = getenv("HSK_SEED_OFFSET");
	uint64_t n = runs ? strtoull(runs, NULL, 10) : 70;
	uint64_t first = 100 + (offset ? strtoull(offset, NULL, 10) : 0);
	for (uint64_t i = 0; i < n; i++) {
		bool bad = i % 7 == 6;
		scenario sc = peer_base(bad ? "very impaired" : "impaired", first + i);
		sc.imp = (memnet_impair){ .loss = bad ? 0.1 : 0.02, .dup = bad ? 0.05 : 0.01,
					  .reorder = bad ? 0.1 : 0.03, .corrupt = 0.005,
					  .delay_ns = 10 * MS, .jitter_ns = 1 * MS,
					  .reorder_ns = 3 * MS };
		sc.half_close = i & 1;
		peer_both_ways(sc);
	}
}

/* A reader that stops for 15 s: the writer's window closes, it probes,
 * and everything goes on when the reader does. (Not longer: the client
 * may have closed, and lwIP drops a closed connection that waits in
 * FIN_WAIT_2 more than 20 s, TCP_FIN_WAIT_TIMEOUT, as Linux does after
 * tcp_fin_timeout; handshake's FIN then draws a RST.) handshake's
 * receive buffer is 64 KiB and does not grow, so that its window closes
 * too. */
static void test_zero_window(void **state)
{
	(void)state;
	for (int who = HSK; who <= LW; who++) {
		scenario sc = peer_base("zero window", 30 + (uint64_t)who);
		sc.up = sc.down = 1 << 20;
		sc.pause = who;
		sc.pause_ns = 15 * SEC;
		sc.rcvbuf = 65536;
		for (int i = 0; i < 2; i++) {
			sc.hsk_client = !i;
			if (peer_run(&sc))
				assert_true(peer_last()->zero_wnd[who] > 0);
		}
	}
}

/* Readers that take 4,000 bytes per 100 ms, behind a 16 KiB receive
 * buffer on handshake's side and lwIP's 64 KiB window: each window opens
 * a little at a time, and each writer must be told of it (a window update
 * that is not sent leaves the writer to its persist timer, seconds later
 * and more each time). 200,000 bytes each way need 5 s of reading; the
 * run must end within 7 s, FINs and all. */
static void test_slow_reader(void **state)
{
	(void)state;
	for (uint64_t seed = 60; seed < 62; seed++) {
		scenario sc = peer_base("slow reader", seed);
		sc.up = sc.down = 200000;
		sc.read_rate = 4000;
		sc.rcvbuf = 16384;
		sc.half_close = seed & 1;
		sc.limit_ns = 7 * SEC;
		peer_both_ways(sc);
	}
}

/* Keepalive both ways round: the prober (handshake, then lwIP) finds its
 * idle peer there for 30 s, each probe answered (at least four of them:
 * after 5 s idle, then each 5 s); then a peer that goes silent once the
 * data is through: 3 probes unanswered and the prober gives up
 * (ETIMEDOUT; lwIP's ERR_ABRT), and the silent end, back, closes and is
 * reset. */
static void test_keepalive(void **state)
{
	(void)state;
	for (int who = HSK; who <= LW; who++) {
		scenario sc = peer_base("keepalive", 70 + (uint64_t)who);
		sc.up = sc.down = 10000;
		sc.keepalive_by = who;
		sc.hold_ns = 30 * SEC;
		for (int i = 0; i < 2; i++) {
			sc.hsk_client = !i;
			if (peer_run(&sc)) {
				assert_true(peer_last()->probes[who] >= 4);
				assert_int_equal(peer_last()->probes[!who], 0);
			}
		}
		sc.name = "keepalive, silent peer";
		sc.silent = true;
		sc.hold_ns = 0;
		for (int i = 0; i < 2; i++) {
			sc.hsk_client = !i;
			if (peer_run(&sc))
				assert_true(peer_last()->probes[who] >= 3);
		}
	}
}

/* What lwIP does not know, handshake must do without. Fast Open: its SYN
 * carries 1,000 bytes on a cached cookie, lwIP acknowledges the SYN alone
 * (it ignores the option and the SYN's data), and handshake sends the
 * bytes again once connected (RFC 7413 §4.2.2; TCPFastOpenActiveFail).
 * ECN: handshake asks on its SYN (ECE, CWR); lwIP's SYN-ACK answers
 * without ECE, so no packet of either may carry ECT (RFC 3168 §6.1.1). */
static void test_fastopen_and_ecn_unanswered(void **state)
{
	(void)state;
	scenario sc = peer_base("fast open to lwIP", 80);
	sc.hsk_client = true;
	sc.fastopen = true;
	if (peer_run(&sc)) {
		assert_int_equal(peer_last()->syn_data[HSK], 1000);
		assert_int_equal(peer_last()->syn_data[LW], 0);
		assert_int_equal(peer_last()->tfo_fail, 1);
	}

	sc = peer_base("ECN asked of lwIP", 81);
	sc.ecn = 1;
	sc.hsk_client = true;
	if (peer_run(&sc)) {
		assert_int_equal(peer_last()->syn_flags[HSK] & 0xc0, 0xc0); /* ECE, CWR */
		assert_int_equal(peer_last()->syn_flags[LW] & 0x40, 0);    /* no ECE */
		assert_int_equal(peer_last()->ect[HSK] + peer_last()->ect[LW], 0);
	}
}

/* Urgent data to a peer that has no urgent mode: lwIP ignores the
 * pointer (as RFC 6093 advises a receiver may, reading in line), so
 * every byte must arrive in order whatever handshake marks, on a clean
 * path and a lossy one (the pointer on retransmissions too). */
static void test_urgent_to_lwip(void **state)
{
	(void)state;
	for (uint64_t seed = 90; seed < 92; seed++) {
		scenario sc = peer_base("urgent data to lwIP", seed);
		sc.urgent = true;
		if (seed > 90)
			sc.imp.loss = 0.03;
		for (int i = 0; i < 2; i++) {
			sc.hsk_client = !i;
			if (peer_run(&sc))
				assert_true(peer_last()->urg[HSK] > 50);
		}
	}
}

/* handshake on a small link (576 bytes; IPv6's least, 1280): lwIP must
 * send no larger packet, and no needlessly smaller one. */
static void test_small_mss(void **state)
{
	(void)state;
	scenario sc = peer_base("small mss", 40);
	sc.mtu = peer_family6() ? 1280 : 576;
	for (int i = 0; i < 2; i++) {
		sc.hsk_client = !i;
		if (peer_run(&sc))
			assert_true(peer_last()->lw_largest > sc.mtu - 80 &&
				    peer_last()->lw_largest <= sc.mtu);
	}
}

/* Either end aborts in the middle of the transfer: the other is told of
 * the reset, also when the first RST is lost (then the next segment draws
 * another). */
static void test_reset(void **state)
{
	(void)state;
	for (int who = HSK; who <= LW; who++)
		for (uint64_t seed = 50; seed < 53; seed++) {
			scenario sc = peer_base("reset", seed + 10 * (uint64_t)who);
			sc.reset_by = who;
			if (seed > 50)
				sc.imp.loss = 0.1;
			peer_both_ways(sc);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_impaired),
		cmocka_unit_test(test_zero_window),
		cmocka_unit_test(test_slow_reader),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_fastopen_and_ecn_unanswered),
		cmocka_unit_test(test_urgent_to_lwip),
		cmocka_unit_test(test_small_mss),
		cmocka_unit_test(test_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
