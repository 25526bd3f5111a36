/*
 * "Our SYN is acknowledged" is a flag of the TCB (tcb.syn_acked), not
 * SND.UNA == ISS: after 2^32 - 1 data bytes acknowledged SND.UNA is at the
 * ISS again. Each end's ISS is moved so that the next ACK lands there;
 * then data both ways with a loss (a retransmission from the send ring)
 * and a graceful close: every byte arrives intact, no SYN goes out of a
 * synchronized state, TCP_INFO's bytes_acked counts modulo 2^32.
 * (close() with the SYN still unacknowledged, SYN_RECEIVED to FIN_WAIT_1:
 * test_open's test_synrcvd_close_fin_wait_1.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack.h"
#include "sim.h"

enum { C = 0, S = 1, PORT = 80, FIRST = 100, MORE = 6000 };

static tcb *tcb_of(sim *sm, int host, int sd)
{
	hsk_sock *k = sock_get(sm->st[host], sd);
	assert_non_null(k);
	assert_int_equal(k->kind, SK_CONN);
	return k->t;
}

static uint8_t byte_at(uint32_t i, int from) { return (uint8_t)(i * 7 + (unsigned)from * 13); }

/* n bytes of from's pattern (starting at offset off) sent and read
 * whole at the other end, the first data segment lost when lose. */
static void transfer(sim *sm, int from, int fsd, int tsd, uint32_t off, uint32_t n, bool lose)
{
	static uint8_t buf[MORE];
	assert_true(n <= sizeof(buf));
	for (uint32_t i = 0; i < n; i++)
		buf[i] = byte_at(off + i, from);
	if (lose) {
		sim_lose(sm, from, HSK_TH_ACK, 1);
		sim_lose(sm, from, HSK_TH_ACK | HSK_TH_PSH, 1);
	}
	assert_int_equal(hsk_send(sm->st[from], fsd, buf, n), (ssize_t)n);
	sim_run(sm, 3 * SEC);
	memset(buf, 0, sizeof(buf));
	uint32_t got = 0;
	while (got < n) {
		ssize_t r = hsk_recv(sm->st[1 - from], tsd, buf + got, n - got);
		assert_true(r > 0);
		got += (uint32_t)r;
	}
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(buf[i], byte_at(off + i, from));
}

/* SYN-bearing segments the host sent. */
static int syns_sent(const sim *sm, int host)
{
	int n = 0;
	for (size_t i = 0; i < sm->nlog; i++)
		if (sm->log[i].ev.kind == HSK_EV_TX && sm->log[i].host == host &&
		    (sm->log[i].ev.flags & HSK_TH_SYN))
			n++;
	return n;
}

/* The scenario, the short ways on or off (tcp_stack.no_fastpath): the
 * segments both hosts sent. */
static size_t wrap_run(bool slow)
{
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 31, PORT, &lsd, &csd, &ssd);
	for (int h = 0; h < 2; h++)
		sm.st[h]->tcp.no_fastpath = slow;
	tcb *ct = tcb_of(&sm, C, csd), *st = tcb_of(&sm, S, ssd);
	/* Nothing sent yet: SND.UNA is ISS + 1. After FIRST bytes it is
	 * the ISS: 2^32 - 1 - FIRST bytes acknowledged so far (iss's readers
	 * past the handshake: TCP_INFO's bytes_acked, ECN's first edge). */
	assert_true(seq_eq(ct->snd_una, seq_add(ct->iss, 1)));
	assert_true(seq_eq(st->snd_una, seq_add(st->iss, 1)));
	ct->iss = seq_add(ct->snd_una, FIRST);
	st->iss = seq_add(st->snd_una, FIRST);
	transfer(&sm, C, csd, ssd, 0, FIRST, false);
	transfer(&sm, S, ssd, csd, 0, FIRST, false);
	assert_true(seq_eq(ct->snd_una, ct->iss));
	assert_true(seq_eq(st->snd_una, st->iss));
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(sm.st[C], csd, &ti), 0);
	assert_int_equal(ti.bytes_acked, UINT32_MAX);
	/* The ACKs past the ISS, with a loss each way. */
	uint64_t rtx = sim_counter(&sm, C, "RetransSegs") + sim_counter(&sm, S, "RetransSegs");
	transfer(&sm, C, csd, ssd, FIRST, MORE, true);
	transfer(&sm, S, ssd, csd, FIRST, MORE, true);
	assert_true(sim_counter(&sm, C, "RetransSegs") + sim_counter(&sm, S, "RetransSegs") >
		    rtx);
	assert_int_equal(hsk_sock_info(sm.st[C], csd, &ti), 0);
	assert_int_equal(ti.bytes_acked, MORE - 1);
	assert_int_equal(hsk_sock_info(sm.st[S], ssd, &ti), 0);
	assert_int_equal(ti.bytes_acked, MORE - 1);
	assert_int_equal(syns_sent(&sm, C), 1);
	assert_int_equal(syns_sent(&sm, S), 1);
	size_t tx = 0;
	for (size_t i = 0; i < sm.nlog; i++)
		tx += sm.log[i].ev.kind == HSK_EV_TX;
	sim_finish_pair_graceful(&sm, C, S, lsd, csd, ssd, 1 * MS);
	return tx;
}

/* Both ways send the same segments: output_due's "SYN due" (SND.NXT at
 * the ISS) is not taken after the wrap (the short way would send an ACK
 * more). */
static void test_ack_lands_on_iss(void **state)
{
	(void)state;
	assert_int_equal(wrap_run(false), wrap_run(true));
}

/* At the ISS again (the SYN long acknowledged), a call of tcp_output
 * with nothing due sends nothing: TCP_NODELAY set (which pushes what
 * Nagle held) and a read (which may update the window) on each end, with
 * the short ways on. output_due's SYN test lets such a call through
 * (SND.NXT is the ISS), and output_one hands it to output_send, which
 * finds nothing to send: sent as output_one's segment, it would be an
 * empty ACK at every call (s26syn's ACK storm). */
static void test_nothing_due_at_iss(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 32, PORT, &lsd, &csd, &ssd);
	tcb *ct = tcb_of(&sm, C, csd), *st = tcb_of(&sm, S, ssd);
	ct->iss = seq_add(ct->snd_una, FIRST);
	st->iss = seq_add(st->snd_una, FIRST);
	transfer(&sm, C, csd, ssd, 0, FIRST, false);
	transfer(&sm, S, ssd, csd, 0, FIRST, false);
	assert_true(seq_eq(ct->snd_nxt, ct->iss) && ct->syn_acked);
	assert_true(seq_eq(st->snd_nxt, st->iss) && st->syn_acked);
	size_t from = sm.nlog;
	int sds[2] = { csd, ssd };
	for (int h = 0; h < 2; h++) {
		char b[8];
		assert_int_equal(hsk_setsockopt(sm.st[h], sds[h], HSK_TCP_NODELAY, 1), 0);
		assert_int_equal(hsk_recv(sm.st[h], sds[h], b, sizeof(b)), -HSK_EAGAIN);
		sim_run(&sm, 10 * MS);
	}
	assert_int_equal(sim_count_tx_since(&sm, C, from) + sim_count_tx_since(&sm, S, from), 0);
	sim_finish_pair_graceful(&sm, C, S, lsd, csd, ssd, 1 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ack_lands_on_iss),
		cmocka_unit_test(test_nothing_due_at_iss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
