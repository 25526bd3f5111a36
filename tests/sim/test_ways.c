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
 *
 * The output's and the socket calls' short ways are counted the same way,
 * where a call between objects tells them from the general ones: the
 * data segments sent without the send loop (output_one) or by it, the
 * SYN written as words (syn_fast) or by tcb_send_syn, close() by its
 * usual case or by sock_close. With no_fastpath none of the short ways
 * may be taken: the comparisons with it (test_fastpath, test_fast_*)
 * are only comparisons while it holds. So too the ACK of data taken in
 * by the quiet way (rec_quiet's) or by sack_ack (which calls
 * rack_on_ack), the usual third ACK by the child's making or by
 * tcb_input_synrcvd_ack, the send loop's window field once a burst or
 * once a segment, and connect's SYN by output_syn's words or by
 * tcp_output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "peer.h"
#include "sim.h"
#include "stack/stack.h"
#include "tcp/input.h"

enum { PORT = 80 };

typedef struct calls {
	int steps;              /* tcb_input_steps: the general steps */
	int checked;            /* tcb_input_checked after steps_predicted */
	int est_fin, fin1, fin2, last_ack;      /* the close's four ways */
	int third;              /* tcb_input_synrcvd_ack */
	int third_output;       /* tcp_output within it: the steps' (its
				 * short way sets the wheel alone) */
	int out_one, out_loop;  /* tcp_output's calls that sent data or a FIN
				 * (after the SYN): without tcb_window_field
				 * (output_one's way) or with it (the send
				 * loop's) */
	int syn_general;        /* tfo_syn_out: a SYN by tcb_send_syn, not
				 * syn_fast */
	int sack_acks;          /* rack_on_ack: an ACK by sack_ack, not by
				 * rec_quiet's way */
	int out_data, out_fin;  /* output_data, output_fin: send()'s and
				 * close()'s usual ways to the output (their
				 * segments counted in out_one, out_loop) */
	int outputs;            /* tcp_output's calls: header prediction's
				 * segments, everything written acknowledged,
				 * make none (arrive.c's output_quiet) */
} calls;

static calls n;
static bool in_third;
static bool in_output;
static int window_fields;       /* tcb_window_field's calls in tcp_output */
/* The socket whose close is watched: its slot's kind when the close's
 * tcp_output comes (or -1). */
static hsk_stack *watched;
static int watched_sd, watched_kind = -1;

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

/* A call of the output: tcp_output, or the socket calls' usual ways to
 * it (output_data, output_fin); the data or FIN segments it sent
 * counted, by the way they took. */
static void output_counted(void (*real)(tcp_stack *, tcb *), tcp_stack *s, tcb *t)
{
	if (watched && s == &watched->tcp && watched_kind < 0)
		watched_kind = watched->socks[watched_sd].kind;
	hsk_seq max = t->snd_max;
	bool syn_out = seq_gt(max, t->iss);
	window_fields = 0;
	in_output = true;
	real(s, t);
	in_output = false;
	if (syn_out && seq_gt(t->snd_max, max)) {
		if (window_fields)
			n.out_loop++;
		else
			n.out_one++;
	}
}

void __real_tcp_output(tcp_stack *s, tcb *t);
void __wrap_tcp_output(tcp_stack *s, tcb *t);
void __wrap_tcp_output(tcp_stack *s, tcb *t)
{
	n.outputs++;
	if (in_third)
		n.third_output++;
	output_counted(__real_tcp_output, s, t);
}

void __real_output_data(tcp_stack *s, tcb *t);
void __wrap_output_data(tcp_stack *s, tcb *t);
void __wrap_output_data(tcp_stack *s, tcb *t)
{
	n.out_data++;
	output_counted(__real_output_data, s, t);
}

void __real_output_fin(tcp_stack *s, tcb *t);
void __wrap_output_fin(tcp_stack *s, tcb *t);
void __wrap_output_fin(tcp_stack *s, tcb *t)
{
	n.out_fin++;
	output_counted(__real_output_fin, s, t);
}

/* The send loop works out each burst's window field by this call;
 * output_one has it in line (as do the SYN's ways). */
uint16_t __real_tcb_window_field(tcp_stack *s, tcb *t);
uint16_t __wrap_tcb_window_field(tcp_stack *s, tcb *t);
uint16_t __wrap_tcb_window_field(tcp_stack *s, tcb *t)
{
	if (in_output)
		window_fields++;
	return __real_tcb_window_field(s, t);
}

/* tcb_send_syn's call for our SYN from SYN_SENT (the Fast Open option
 * and data, none here), which syn_fast's SYN leaves out. */
uint32_t __real_tfo_syn_out(tcp_stack *s, tcb *t, seg_out *o);
uint32_t __wrap_tfo_syn_out(tcp_stack *s, tcb *t, seg_out *o);
uint32_t __wrap_tfo_syn_out(tcp_stack *s, tcb *t, seg_out *o)
{
	n.syn_general++;
	return __real_tfo_syn_out(s, t, o);
}

/* sack_ack's call for an ACK with SACK state in use (recovery.c); the
 * quiet way (rec_quiet_all, rec_quiet_ack) leaves it out. */
void __real_rack_on_ack(rack *r, const rack_ack *a, rack_result *res);
void __wrap_rack_on_ack(rack *r, const rack_ack *a, rack_result *res);
void __wrap_rack_on_ack(rack *r, const rack_ack *a, rack_result *res)
{
	n.sack_acks++;
	__real_rack_on_ack(r, a, res);
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
	assert_int_equal(got.out_one, want.out_one);
	assert_int_equal(got.out_loop, want.out_loop);
	assert_int_equal(got.syn_general, want.syn_general);
	assert_int_equal(got.sack_acks, want.sack_acks);
	assert_int_equal(got.out_data, want.out_data);
	assert_int_equal(got.out_fin, want.out_fin);
	assert_int_equal(got.outputs, want.outputs);
}

/* As the stack runs: the third ACK and the close's four segments take
 * their short ways; the request, its ACK and the response take header
 * prediction (inline in tcp_input: TCPHPHits and TCPHPAcks count it,
 * test_fastpath). No segment takes the general steps. The request, the
 * response and the two FINs go by output_one; the SYN by tcb_send_syn
 * (the hosts are traced: syn_fast is for an untraced stack). The ACKs
 * of those four are quiet (rec_quiet's way: no rack_on_ack). tcp_output
 * is called by the two sends and the two closes only (the hosts are
 * traced: output_data and output_fin are for an untraced stack): the
 * request's quick ACK, its ACK's and the response's wheel are
 * output_quiet's. */
static void test_short_ways_taken(void **state)
{
	(void)state;
	calls_equal(lifecycle(false), (calls){ .est_fin = 1, .fin1 = 1, .fin2 = 1,
					       .last_ack = 1, .third = 1, .out_one = 4,
					       .syn_general = 1, .outputs = 4 });
}

/* With tcp_stack.no_fastpath no short way is taken: steps_predicted and
 * tcb_input_synrcvd_ack test it (header prediction's test is
 * test_fastpath's). The request, its ACK, the response, the two FINs and
 * their ACKs take the general steps (7); the third ACK takes them inside
 * tcb_input_synrcvd_ack, whose tcp_output shows it. The four ACKs of
 * what was sent with SACK state take sack_ack's way (rack_on_ack).
 * Every segment's and call's output is tcp_output's (11 calls: header
 * prediction, and its output_quiet, are off). */
static void test_no_fastpath_general(void **state)
{
	(void)state;
	calls_equal(lifecycle(true), (calls){ .steps = 7, .third = 1, .third_output = 1,
					      .out_loop = 4, .syn_general = 1, .sack_acks = 4,
					      .outputs = 11 });
}

/* connect()'s SYN: written as words by output_syn when syn_fast_ok
 * holds (an untraced stack), by tcp_output's way (output_send,
 * tcb_send_syn, whose tfo_syn_out the words leave out; tcp_output's own
 * call is inside output.c, which --wrap does not see) with no_fastpath,
 * on a traced stack, with ECN asked, or for a Fast Open connect without
 * a cookie (its SYN asks for one). */
enum { SYN_PLAIN, SYN_SLOW, SYN_TRACED, SYN_ECN, SYN_TFO, SYN_MODES };

static void test_syn_ways(void **state)
{
	(void)state;
	for (int m = 0; m < SYN_MODES; m++) {
		sim sm;
		sim_init(&sm, 2, NULL, 3);
		hsk_stack *c = sm.st[C];
		c->tcp.no_fastpath = m == SYN_SLOW;
		hsk_trace_fn trace = c->env.cfg.trace;
		if (m != SYN_TRACED)
			c->env.cfg.trace = NULL;
		if (m == SYN_ECN)
			c->env.cfg.ecn = 1;
		if (m == SYN_TFO)
			c->env.cfg.tcp_fastopen |= HSK_TFO_CLIENT;
		int sd = hsk_socket(c);
		assert_true(sd >= 0);
		if (m == SYN_TFO)
			assert_int_equal(hsk_setsockopt(c, sd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
		memset(&n, 0, sizeof(n));
		assert_int_equal(hsk_connect(c, sd, SIM_ADDR(S), PORT), -HSK_EINPROGRESS);
		c->env.cfg.trace = trace;
		int general = m != SYN_PLAIN;
		assert_int_equal(n.syn_general, general);
		assert_int_equal(hsk_close(c, sd), 0);
		sim_run(&sm, 61 * SEC);
		sim_free(&sm);
	}
}

/* The usual third ACK to an untraced listener: taken in by the child's
 * making (child_takes_ack) as the stack runs, by tcb_input_synrcvd_ack
 * with no_fastpath. (test_lifecycle's hosts are traced: there the making
 * takes no ACK either way.) */
static void test_third_ack_ways(void **state)
{
	(void)state;
	for (int slow = 0; slow < 2; slow++) {
		sim sm;
		sim_init(&sm, 2, NULL, 5);
		hsk_stack *c = sm.st[C], *s = sm.st[S];
		s->tcp.no_fastpath = slow;
		hsk_trace_fn trace = s->env.cfg.trace;
		s->env.cfg.trace = NULL;
		int lsd = sim_listen(&sm, S, PORT, 8);
		memset(&n, 0, sizeof(n));
		int csd = sim_connect(&sm, C, S, PORT);
		sim_run(&sm, 10 * MS);
		assert_int_equal(n.third, slow);
		s->env.cfg.trace = trace;
		int ssd = sim_accept(&sm, S, lsd);
		assert_int_equal(hsk_sock_state(c, csd), HSK_ESTABLISHED);
		assert_int_equal(hsk_sock_state(s, ssd), HSK_ESTABLISHED);
		sim_finish_pair_graceful(&sm, C, S, lsd, csd, ssd, 0);
	}
}

/* A burst of three full segments from one send(): the send loop asks
 * tcb_window_field once for the burst as the stack runs, once a segment
 * with no_fastpath (send_data_and_fin's general way). */
static void test_burst_window_fields(void **state)
{
	(void)state;
	static char data[3 * 4096];
	for (int slow = 0; slow < 2; slow++) {
		sim sm;
		int lsd, csd, ssd;
		sim_init_pair(&sm, NULL, 7, PORT, &lsd, &csd, &ssd);
		hsk_stack *c = sm.st[C], *s = sm.st[S];
		c->tcp.no_fastpath = slow;
		const tcb *t = c->socks[csd].t;
		uint32_t len = 3 * (uint32_t)t->mss;
		assert_true(len <= sizeof(data));
		hsk_seq max = t->snd_max;
		window_fields = 0;
		assert_int_equal(hsk_send(c, csd, data, len), len);
		assert_int_equal(seq_diff(t->snd_max, max), len);      /* one burst */
		assert_int_equal(window_fields, slow ? 3 : 1);
		sim_run(&sm, 10 * MS);
		char buf[4096];
		uint32_t got = 0;
		long r;
		while ((r = hsk_recv(s, ssd, buf, sizeof(buf))) > 0)
			got += (uint32_t)r;
		assert_int_equal(got, len);
		sim_finish_pair_graceful(&sm, C, S, lsd, csd, ssd, 0);
	}
}

/* close() on an accepted connection, acknowledged and quiet, with the
 * stack's clock and trace hooks off: its usual case frees the socket's
 * slot before the FIN's tcp_output (which reads no slot), the general
 * way (sock_close) after it. With no_fastpath, the general way. */
static void test_close_ways(void **state)
{
	(void)state;
	for (int slow = 0; slow < 2; slow++) {
		peer p;
		peer_open(&p, false, slow, 4246);
		peer_write(&p);
		peer_send(&p, 0, 100, HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
		hsk_config *c = &p.st->env.cfg;
		hsk_config saved = *c;
		c->trace = NULL;
		c->clock = NULL;
		watched = p.st;
		watched_sd = p.sd;
		watched_kind = -1;
		memset(&n, 0, sizeof(n));
		assert_int_equal(hsk_close(p.st, p.sd), 0);
		watched = NULL;
		c->trace = saved.trace;
		c->clock = saved.clock;
		assert_int_equal(watched_kind, slow ? SK_CONN : SK_FREE);
		/* the usual case's FIN by output_fin, in one turn (output_one's
		 * way); the general way's by tcp_output's send loop */
		calls_equal(n, (calls){ .out_fin = !slow, .out_one = !slow, .out_loop = slow,
					.outputs = slow });
		peer_send(&p, 0, 101, HSK_TH_FIN | HSK_TH_ACK, 2000, NULL, 0);
		outcome o;
		peer_end(&p, false, &o);
		outcome_free(&o);
	}
}

/* S's writes with the stack's clock and trace hooks off (send()'s usual
 * case, send_usual_out): 100 bytes, which the window takes in one
 * segment, go by output_data in one turn (output_one's way, the window
 * field in line); then 1,500 bytes, more than an MSS (1,200), by
 * output_data to the send loop (two segments). With no_fastpath,
 * send_general's tcp_output and the send loop, each time. */
static void send_counted(peer *p, const uint8_t *buf, size_t len)
{
	hsk_config *c = &p->st->env.cfg;
	hsk_config saved = *c;
	c->trace = NULL;
	c->clock = NULL;
	assert_int_equal(hsk_send(p->st, p->sd, buf, len), (long)len);
	c->trace = saved.trace;
	c->clock = saved.clock;
}

static void test_send_ways(void **state)
{
	(void)state;
	static uint8_t big[1500];
	for (int slow = 0; slow < 2; slow++) {
		peer p;
		peer_open(&p, false, slow, 4247);
		memset(&n, 0, sizeof(n));
		send_counted(&p, text, sizeof(text));
		calls_equal(n, (calls){ .out_data = !slow, .out_one = !slow, .out_loop = slow,
					.outputs = slow });
		peer_send(&p, 0, 100, HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
		memset(&n, 0, sizeof(n));
		send_counted(&p, big, sizeof(big));
		calls_equal(n, (calls){ .out_data = !slow, .out_loop = 1,
					.outputs = slow });
		peer_send(&p, 0, 1600, HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
		memset(&n, 0, sizeof(n));
		send_counted(&p, text, 40);     /* send_small's: the ring's gone */
		calls_equal(n, (calls){ .out_data = !slow, .out_one = !slow, .out_loop = slow,
					.outputs = slow });
		peer_send(&p, 0, 1640, HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
		peer_close(&p, false);
		peer_send(&p, 0, 1641, HSK_TH_FIN | HSK_TH_ACK, 2000, NULL, 0);
		outcome o;
		peer_end(&p, false, &o);
		outcome_free(&o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_ways_taken),
		cmocka_unit_test(test_no_fastpath_general),
		cmocka_unit_test(test_syn_ways),
		cmocka_unit_test(test_close_ways),
		cmocka_unit_test(test_third_ack_ways),
		cmocka_unit_test(test_burst_window_fields),
		cmocka_unit_test(test_send_ways),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
