/*
 * The textbook lifecycle, segment by segment: three-way handshake, a
 * request and a response, four-way close, TIME_WAIT for 2MSL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

enum { C = 0, S = 1, PORT = 80 };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define FIN HSK_TH_FIN
#define PSH HSK_TH_PSH

static void test_basic_lifecycle(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int csd = sim_connect(&sm, C, S, PORT);
	assert_int_equal(hsk_sock_state(c, csd), HSK_SYN_SENT);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	expect_seg(&sm, C, A, 1, 1, 0);
	assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
	assert_true(hsk_poll(c, csd) & HSK_POLLOUT);
	assert_true(hsk_poll(s, lsd) & HSK_POLLIN);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_ESTABLISHED);

	char req[64], buf[256];
	memset(req, 'q', sizeof(req));
	assert_int_equal(hsk_send(c, csd, req, sizeof(req)), 64);
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, C, A | PSH, 1, 1, 64);
	/* The server's first data: quick-ACK mode ACKs it at once (as Linux;
	 * the client, which wrote right after its handshake, is interactive
	 * and delays its ACK of the response, which its FIN carries). */
	expect_seg(&sm, S, A, 1, 65, 0);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 64);
	assert_memory_equal(buf, req, 64);
	assert_int_equal(hsk_send(s, ssd, "response", 8), 8);
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, S, A | PSH, 1, 65, 8);
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "response", 8);

	/* Active close by the client. */
	assert_int_equal(hsk_close(c, csd), 0);
	expect_seg(&sm, C, FIN | A, 65, 9, 0);
	sim_run(&sm, 1 * MS + 1);
	expect_seg(&sm, S, A, 9, 66, 0);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSE_WAIT);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 0);  /* EOF */
	assert_int_equal(hsk_close(s, ssd), 0);
	expect_seg(&sm, S, FIN | A, 9, 66, 0);
	sim_run(&sm, 2 * MS + 1);
	expect_seg(&sm, C, A, 66, 10, 0);
	expect_no_tx(&sm);

	expect_state(&sm, C, HSK_CLOSED, HSK_SYN_SENT);
	expect_state(&sm, C, HSK_SYN_SENT, HSK_ESTABLISHED);
	expect_state(&sm, C, HSK_ESTABLISHED, HSK_FIN_WAIT_1);
	expect_state(&sm, C, HSK_FIN_WAIT_1, HSK_FIN_WAIT_2);
	expect_state(&sm, C, HSK_FIN_WAIT_2, HSK_TIME_WAIT);
	expect_state(&sm, S, HSK_CLOSED, HSK_LISTEN);
	expect_state(&sm, S, HSK_LISTEN, HSK_SYN_RECEIVED);
	expect_state(&sm, S, HSK_SYN_RECEIVED, HSK_ESTABLISHED);
	expect_state(&sm, S, HSK_ESTABLISHED, HSK_CLOSE_WAIT);
	expect_state(&sm, S, HSK_CLOSE_WAIT, HSK_LAST_ACK);
	expect_state(&sm, S, HSK_LAST_ACK, HSK_CLOSED);

	/* TIME_WAIT holds for 2 MSL = 60 s, then the entry goes. */
	hsk_usage u;
	hsk_stack_usage(c, &u);
	assert_int_equal(u.timewaits, 1);
	assert_int_equal(u.tcbs, 0);
	sim_run(&sm, 59 * SEC);
	hsk_stack_usage(c, &u);
	assert_int_equal(u.timewaits, 1);
	sim_run(&sm, 1 * SEC);
	expect_state(&sm, C, HSK_TIME_WAIT, HSK_CLOSED);
	hsk_stack_usage(c, &u);
	assert_int_equal(u.timewaits, 0);

	assert_int_equal(sim_counter(&sm, C, "ActiveOpens"), 1);
	assert_int_equal(sim_counter(&sm, S, "PassiveOpens"), 1);
	assert_int_equal(sim_counter(&sm, C, "TW"), 1);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_lifecycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
