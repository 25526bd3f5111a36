/*
 * Which way a segment takes. The short ways of SEGMENT ARRIVES (the
 * close's, closing.c, entered through steps_predicted in arrive.c; the
 * handshake's third ACK, input.c's tcb_input_synrcvd_ack) do exactly what
 * the general steps do, so test_fast_fin's and test_fast_handshake's
 * comparisons of the two cannot tell whether tcp_stack.no_fastpath turns
 * them off, nor whether they are taken at all. Here the calls between the
 * input files are counted: this test is linked with --wrap for each
 * (tests/CMakeLists.txt), and its __wrap_ functions count and pass the
 * call on. Over the textbook lifecycle (test_lifecycle's), as the stack
 * runs, each of the close's four segments and the third ACK take their
 * short ways and no segment the general steps; with no_fastpath on both
 * hosts no short way is taken and every segment to a TCB but the SYN-ACK
 * goes through the steps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "stack/stack.h"
#include "tcp/input.h"

enum { C = 0, S = 1, PORT = 80 };

typedef struct calls {
	int steps;              /* tcb_input_steps: the general steps */
	int checked;            /* tcb_input_checked after steps_predicted */
	int est_fin, fin1, fin2, last_ack;      /* the close's four ways */
	int third;              /* tcb_input_synrcvd_ack */
	int third_output;       /* tcp_output within it: the steps' (its
				 * short way sets the wheel alone) */
} calls;

static calls n;
static bool in_third;

/* fn's calls counted in n.field, then made (__real_fn: --wrap's). */
#define VERDICT_COUNTED(fn, field)                                          \
	tcp_verdict __real_##fn(tcp_stack *s, tcb *t, const tcp_seg *sg);   \
	tcp_verdict __wrap_##fn(tcp_stack *s, tcb *t, const tcp_seg *sg);   \
	tcp_verdict __wrap_##fn(tcp_stack *s, tcb *t, const tcp_seg *sg)    \
	{                                                                   \
		n.field++;                                                  \
		return __real_##fn(s, t, sg);                               \
	}
VERDICT_COUNTED(tcb_input_steps, steps)
VERDICT_COUNTED(tcb_input_checked, checked)
VERDICT_COUNTED(established_fin_input, est_fin)
VERDICT_COUNTED(fin_wait_1_acked_input, fin1)

void __real_fin_wait_2_fin_input(tcp_stack *s, tcb *t, const tcp_seg *sg);
void __wrap_fin_wait_2_fin_input(tcp_stack *s, tcb *t, const tcp_seg *sg);
void __wrap_fin_wait_2_fin_input(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	n.fin2++;
	__real_fin_wait_2_fin_input(s, t, sg);
}

/* LAST_ACK's way (last_ack_ends) is this call alone, in tcb_steps. */
void __real_tcb_closed_orphan(tcp_stack *s, tcb *t, const char *cause);
void __wrap_tcb_closed_orphan(tcp_stack *s, tcb *t, const char *cause);
void __wrap_tcb_closed_orphan(tcp_stack *s, tcb *t, const char *cause)
{
	n.last_ack++;
	__real_tcb_closed_orphan(s, t, cause);
}

tcp_verdict __real_tcb_input_synrcvd_ack(tcp_stack *s, tcb *t, const tcp_seg *sg);
tcp_verdict __wrap_tcb_input_synrcvd_ack(tcp_stack *s, tcb *t, const tcp_seg *sg);
tcp_verdict __wrap_tcb_input_synrcvd_ack(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	n.third++;
	in_third = true;
	tcp_verdict v = __real_tcb_input_synrcvd_ack(s, t, sg);
	in_third = false;
	return v;
}

void __real_tcp_output(tcp_stack *s, tcb *t);
void __wrap_tcp_output(tcp_stack *s, tcb *t);
void __wrap_tcp_output(tcp_stack *s, tcb *t)
{
	if (in_third)
		n.third_output++;
	__real_tcp_output(s, t);
}

/* test_lifecycle's connection, both ways of input as `slow` says: the
 * handshake, 64 bytes and 8 back, the client's close, then the server's;
 * the calls counted. */
static calls lifecycle(bool slow)
{
	sim sm;
	sim_init(&sm, 2, NULL, 1);
	sm.st[C]->tcp.no_fastpath = slow;
	sm.st[S]->tcp.no_fastpath = slow;
	memset(&n, 0, sizeof(n));
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	char req[64], buf[256];
	memset(req, 'q', sizeof(req));
	assert_int_equal(hsk_send(c, csd, req, sizeof(req)), 64);
	sim_run(&sm, 1 * MS + 1);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 64);
	assert_int_equal(hsk_send(s, ssd, "response", 8), 8);
	sim_run(&sm, 1 * MS + 1);
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 8);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 1 * MS + 1);
	assert_int_equal(hsk_sock_state(s, ssd), HSK_CLOSE_WAIT);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 0);
	assert_int_equal(hsk_close(s, ssd), 0);
	sim_run(&sm, 2 * MS + 1);
	hsk_usage u;
	hsk_stack_usage(c, &u);
	assert_int_equal(u.timewaits, 1);       /* the client's, after FIN_WAIT_2 */
	assert_int_equal(u.tcbs, 0);
	hsk_stack_usage(s, &u);
	assert_int_equal(u.tcbs, 0);            /* the server's, closed in LAST_ACK */
	calls got = n;
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_run(&sm, 61 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
	return got;
}

/* Each count as wanted. */
static void calls_equal(calls got, calls want)
{
	assert_int_equal(got.steps, want.steps);
	assert_int_equal(got.checked, want.checked);
	assert_int_equal(got.est_fin, want.est_fin);
	assert_int_equal(got.fin1, want.fin1);
	assert_int_equal(got.fin2, want.fin2);
	assert_int_equal(got.last_ack, want.last_ack);
	assert_int_equal(got.third, want.third);
	assert_int_equal(got.third_output, want.third_output);
}

/* As the stack runs: the third ACK and the close's four segments take
 * their short ways; the request, its ACK and the response take header
 * prediction (inline in tcp_input: TCPHPHits and TCPHPAcks count it,
 * test_fastpath). No segment takes the general steps. */
static void test_short_ways_taken(void **state)
{
	(void)state;
	calls_equal(lifecycle(false), (calls){ .est_fin = 1, .fin1 = 1, .fin2 = 1,
					       .last_ack = 1, .third = 1 });
}

/* With tcp_stack.no_fastpath no short way is taken: steps_predicted and
 * tcb_input_synrcvd_ack test it (header prediction's test is
 * test_fastpath's). The request, its ACK, the response, the two FINs and
 * their ACKs take the general steps (7); the third ACK takes them inside
 * tcb_input_synrcvd_ack, whose tcp_output shows it. */
static void test_no_fastpath_general(void **state)
{
	(void)state;
	calls_equal(lifecycle(true), (calls){ .steps = 7, .third = 1, .third_output = 1 });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_ways_taken),
		cmocka_unit_test(test_no_fastpath_general),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
