/*
 * The trace events the HTML report draws its charts from: a congestion
 * sample (HSK_EV_CC) after every segment an established connection sends,
 * and the listener's queue lengths (HSK_EV_QUEUE) on every change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

enum { C = 0, S = 1, PORT = 80 };

static bool same_tuple(const hsk_tuple *a, const hsk_tuple *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* A connection opened from C to S (its sockets in csd, ssd), then n bytes
 * of buf sent by C and 1 ms run; returns the log's length before the
 * send. */
static size_t open_and_send(sim *sm, int *csd, int *ssd, const uint8_t *buf, size_t n)
{
	int lsd;
	sim_init(sm, 2, NULL, 1);
	sim_open_pair(sm, C, S, PORT, 16, &lsd, csd, ssd);
	size_t from = sm->nlog;
	assert_int_equal(hsk_send(sm->st[C], *csd, buf, n), (long)n);
	sim_run(sm, 1 * MS);
	return from;
}

/* Every TX of an established TCB is followed at once by its sample; the
 * sample counts the segment in flight; an RTO shows as backoff 1 and a
 * one-segment cwnd. */
static void test_cc_samples(void **state)
{
	sim sm;
	int csd, ssd;
	uint8_t buf[1000] = { 0 };
	size_t i, from, samples = 0;

	(void)state;
	from = open_and_send(&sm, &csd, &ssd, buf, 100);
	for (i = from; i < sm.nlog; i++) {
		const sim_ev *e = &sm.log[i];

		if (e->host != C || e->ev.kind != HSK_EV_TX)
			continue;
		assert_true(i + 1 < sm.nlog);
		assert_int_equal(sm.log[i + 1].ev.kind, HSK_EV_CC);
		assert_int_equal(sm.log[i + 1].ev.t_ns, e->ev.t_ns);
		assert_true(same_tuple(&sm.log[i + 1].ev.tuple, &e->ev.tuple));
		if (e->ev.len == 100) {
			/* the data is counted as in flight, the window is IW10 */
			assert_int_equal(sm.log[i + 1].ev.flight, 100);
			assert_int_equal(sm.log[i + 1].ev.cwnd, 10 * (sim_mss(&sm) - 12));
			assert_int_equal(sm.log[i + 1].ev.ssthresh, UINT32_MAX);
			assert_int_equal(sm.log[i + 1].ev.backoff, 0);
			assert_true(sm.log[i + 1].ev.srtt_ns > 0);
			samples++;
		}
	}
	assert_int_equal(samples, 1);
	sim_run(&sm, 100 * MS);
	/* the server goes silent: the client's RTO */
	sim_blackhole(&sm, S, -1, true);
	uint64_t base_rto = 0;
	for (i = 0; i < sm.nlog; i++)
		if (sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_CC)
			base_rto = sm.log[i].ev.rto_ns;
	assert_true(base_rto >= 200 * MS);
	from = sm.nlog;
	assert_int_equal(hsk_send(sm.st[C], csd, buf, 1000), 1000);
	sim_run(&sm, 2 * SEC);
	samples = 0;
	for (i = from; i + 1 < sm.nlog; i++) {
		const hsk_trace_event *tx = &sm.log[i].ev, *cc = &sm.log[i + 1].ev;
		hsk_tcp_info ti;

		if (sm.log[i].host != C || tx->kind != HSK_EV_TX || tx->t_ns == sm.log[from].ev.t_ns)
			continue;
		/* the first retransmission, after the RTO */
		assert_int_equal(cc->kind, HSK_EV_CC);
		assert_int_equal(cc->backoff, 1);
		assert_int_equal(cc->flight, 1000);
		assert_int_equal(hsk_sock_info(sm.st[C], csd, &ti), 0);
		assert_int_equal(cc->cwnd, ti.mss);
		assert_int_equal(cc->rto_ns, 2 * base_rto);   /* backed off */
		assert_true(cc->ssthresh != UINT32_MAX);
		samples++;
		break;
	}
	assert_int_equal(samples, 1);
	sim_free(&sm);
}

/* Queue samples follow the SYN queue and the accept queue through a
 * backlog of 2 and four clients, and the last one is the listener's
 * state as hsk_stack_conns reports it. */
static void get_listener(void *ctx, const hsk_conn_info *ci)
{
	if (ci->state == HSK_LISTEN)
		*(hsk_conn_info *)ctx = *ci;
}

static void test_queue_samples(void **state)
{
	sim sm;
	int lsd, i, sd;
	size_t k;
	const hsk_trace_event *last = NULL;
	uint32_t max_acc = 0, n = 0;
	hsk_conn_info li;

	(void)state;
	sim_init(&sm, 2, NULL, 1);
	lsd = sim_listen(&sm, S, PORT, 2);
	for (k = 0; k < sm.nlog; k++)
		if (sm.log[k].ev.kind == HSK_EV_QUEUE)
			last = &sm.log[k].ev;
	assert_non_null(last);          /* listen() says the backlog */
	assert_int_equal(last->backlog, 2);
	assert_int_equal(last->syn_q + last->accept_q, 0);
	for (i = 0; i < 4; i++) {
		sim_connect(&sm, C, S, PORT);
		sim_run(&sm, 10 * MS);
	}
	sim_run(&sm, 500 * MS);
	last = NULL;
	for (k = 0; k < sm.nlog; k++) {
		const hsk_trace_event *e = &sm.log[k].ev;

		if (e->kind != HSK_EV_QUEUE)
			continue;
		assert_int_equal(sm.log[k].host, S);
		assert_int_equal(e->obj, HSK_OBJ_LISTEN);
		assert_int_equal(e->tuple.lport, PORT);
		assert_true(e->accept_q <= 2);
		if (e->accept_q > max_acc)
			max_acc = e->accept_q;
		last = e;
		n++;
	}
	assert_int_equal(max_acc, 2);
	memset(&li, 0, sizeof(li));
	hsk_stack_conns(sm.st[S], get_listener, &li);
	assert_int_equal(last->accept_q, li.accept_q);
	assert_int_equal(last->syn_q, li.syn_q);
	assert_int_equal(last->backlog, li.backlog);
	/* accept() takes one off the queue, and says so */
	sd = sim_accept(&sm, S, lsd);
	assert_true(sd >= 0);
	assert_int_equal(sm.log[sm.nlog - 1].ev.kind, HSK_EV_QUEUE);
	assert_int_equal(sm.log[sm.nlog - 1].ev.accept_q, li.accept_q - 1);
	assert_true(n >= 5);
	sim_free(&sm);
}

/* A connection's segments name their socket and the connection's ports
 * from this stack's side: the TX event's sd and tuple (seg_put reads
 * them from the TCB in the trace's branch, output.c). */
static void test_tx_names_socket(void **state)
{
	sim sm;
	int csd, ssd;
	uint8_t buf[100] = { 0 };
	size_t i, from, seen[2] = { 0, 0 };

	(void)state;
	from = open_and_send(&sm, &csd, &ssd, buf, 64);
	assert_int_equal(hsk_recv(sm.st[S], ssd, buf, sizeof(buf)), 64);
	assert_int_equal(hsk_send(sm.st[S], ssd, buf, 64), 64);
	sim_run(&sm, 100 * MS);
	for (i = from; i < sm.nlog; i++) {
		const sim_ev *e = &sm.log[i];

		if (e->ev.kind != HSK_EV_TX)
			continue;
		assert_int_equal(e->ev.obj, HSK_OBJ_TCB);
		assert_int_equal(e->ev.sd, e->host == C ? csd : ssd);
		if (e->host == C)
			assert_int_equal(e->ev.tuple.rport, PORT);
		else
			assert_int_equal(e->ev.tuple.lport, PORT);
		assert_true(e->ev.tuple.lport != e->ev.tuple.rport);
		seen[e->host]++;
	}
	/* the request and the response, each side's ACK of the other's */
	assert_true(seen[C] >= 1 && seen[S] >= 1 && seen[C] + seen[S] >= 3);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cc_samples),
		cmocka_unit_test(test_queue_samples),
		cmocka_unit_test(test_tx_names_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
