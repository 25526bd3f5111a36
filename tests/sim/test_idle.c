/*
 * An idle connection holds only its TCB: once everything sent is
 * acknowledged and everything received is read, the send and receive rings
 * and the SACK/RACK state are given back (they are re-created on the next
 * send or out-of-order segment). Both ends are checked, whichever event
 * came last: the ACK that empties the send ring, or the read that empties
 * the receive ring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack.h"
#include "sim.h"

enum { C = 0, S = 1, PORT = 80 };

static const tcb *tcb_of(sim *sm, int host, int sd)
{
	hsk_sock *k = sock_get(sm->st[host], sd);
	assert_non_null(k);
	assert_int_equal(k->kind, SK_CONN);
	return k->t;
}

static void assert_idle(sim *sm, int host, int sd)
{
	/* No rings, SACK or reassembly state: none of the active
	 * extension that holds them (tcp.h, tcb_act). */
	const tcb *t = tcb_of(sm, host, sd);
	assert_null(t->act);
}

/* A request and a response with SACK negotiated: afterwards both ends are
 * idle. The server's last event is the ACK of its response. */
static void test_request_response_leaves_nothing(void **state)
{
	(void)state;
	sim sm;
	int lsd, csd, ssd;
	sim_init_pair(&sm, NULL, 700, PORT, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(s, ssd, &ti), 0);
	assert_true(ti.sack);
	char buf[64];
	assert_int_equal(hsk_send(c, csd, "request", 7), 7);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 7);
	assert_int_equal(hsk_send(s, ssd, "response", 8), 8);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 8);
	sim_run(&sm, 1 * SEC);        /* delayed ACKs go out */
	assert_idle(&sm, C, csd);
	assert_idle(&sm, S, ssd);
	assert_int_equal(hsk_close(c, csd), 0);
	assert_int_equal(hsk_close(s, ssd), 0);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_run(&sm, 61 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_response_leaves_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
