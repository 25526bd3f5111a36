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
#include "stack/stack.h"

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

/* finish, then nothing is left in any pool; the simulation is freed. */
static void app_end(sim *sm, srv_app *a)
{
	finish(sm, a);
	sim_assert_no_leaks(sm);
	sim_free(sm);
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
	hsk_addr peer, want = sim_addr(&sm, C2);
	uint16_t pport;
	assert_int_equal(hsk_sock_peer(s, ssd, &peer, &pport), 0);
	assert_true(hsk_addr_eq(&peer, &want));
	assert_int_equal(hsk_send(sm.st[C2], csd, "hello", 5), 5);
	a.read_all = true;
	app_run(&a, 100 * MS);
	assert_int_equal(a.bytes_read, 5);

	for (int i = 0; i < 200; i++)
		hsk_abort(sm.st[C], flood[i]);
	hsk_abort(sm.st[C2], csd);
	app_end(&sm, &a);
}

static void qmax_cb(void *ctx, const hsk_conn_info *ci)
{
	uint32_t *q = ctx;
	if (ci->obj == HSK_OBJ_TCB && ci->send_q > *q)
		*q = ci->send_q;
	if (ci->obj == HSK_OBJ_TCB && ci->recv_q > *q)
		*q = ci->recv_q;
}

static hsk_usage usage(sim *sm, int host)
{
	return sim_usage(sm, host);
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
	app_end(&sm, &a);
}

/* ---- buffer memory (tcp_mem) ---- */

enum { K = 1024 };

static void mem_cfg(hsk_config *cfg, uint64_t low, uint64_t pressure, uint64_t high)
{
	hsk_config_default(cfg);
	cfg->sndbuf = cfg->rcvbuf = 64 * K;
	cfg->rcvbuf_max = cfg->sndbuf_max = 0;
	cfg->tcp_mem_low = low;
	cfg->tcp_mem_pressure = pressure;
	cfg->tcp_mem_high = high;
}

/* Host C, a client whose receive buffer is crcvbuf (0: the default), and
 * host S with the memory limits of mem_cfg, its application listening on
 * PORT (backlog 16). */
static void mem_fx(sim *sm, srv_app *a, uint64_t low, uint64_t pressure, uint64_t high,
		   uint32_t crcvbuf, uint64_t seed)
{
	hsk_config scfg, ccfg;
	mem_cfg(&scfg, low, pressure, high);
	hsk_config_default(&ccfg);
	if (crcvbuf) {  /* a window that stays that small: not autotuned */
		ccfg.rcvbuf = crcvbuf;
		ccfg.rcvbuf_max = 0;
	}
	const hsk_config *cfgs[] = { &ccfg, &scfg };
	sim_init_hosts(sm, 2, cfgs, seed);
	*a = (srv_app){ .sm = sm, .lsd = sim_listen(sm, S, PORT, 16) };
}

static void fill(uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
}

/* Reads everything there is on the server's sd; the byte count. */
static size_t drain(sim *sm, int sd)
{
	static uint8_t buf[64 * 1024];
	size_t got = 0;
	long r;
	while ((r = hsk_recv(sm->st[S], sd, buf, sizeof(buf))) > 0)
		got += (size_t)r;
	return got;
}

/* Reads the server's sd while the network runs, until `want` bytes came
 * (the last bytes of a 64 KiB window may wait for the reader: a scaled
 * window cannot say 1 byte). */
static size_t drain_all(srv_app *a, int sd, size_t want)
{
	size_t got = drain(a->sm, sd);
	for (int i = 0; i < 100 && got < want; i++) {
		app_run(a, 100 * MS);
		got += drain(a->sm, sd);
	}
	return got;
}

/* The window field of the server's SYN-ACK to the client socket csd. */
static int synack_window(sim *sm, int csd)
{
	hsk_tuple tu;
	assert_int_equal(hsk_sock_tuple(sm->st[C], csd, &tu), 0);
	for (size_t i = 0; i < sm->nlog; i++) {
		const sim_ev *e = &sm->log[i];
		if (e->host == S && e->ev.kind == HSK_EV_TX &&
		    e->ev.flags == (HSK_TH_SYN | HSK_TH_ACK) && e->ev.tuple.rport == tu.lport)
			return (int)e->ev.win;
	}
	return -1;
}

/* The largest window field the server sent on csd's connection since log
 * index `from`. */
static uint32_t max_window_since(sim *sm, int csd, size_t from)
{
	hsk_tuple tu;
	assert_int_equal(hsk_sock_tuple(sm->st[C], csd, &tu), 0);
	uint32_t w = 0;
	for (size_t i = from; i < sm->nlog; i++) {
		const sim_ev *e = &sm->log[i];
		if (e->host == S && e->ev.kind == HSK_EV_TX && e->ev.tuple.rport == tu.lport &&
		    e->ev.win > w)
			w = e->ev.win;
	}
	return w;
}

static void open_conns(srv_app *a, int *cs, int from, int to)
{
	for (int i = from; i < to; i++)
		cs[i] = sim_connect(a->sm, C, S, PORT);
	app_run(a, 100 * MS);
	assert_int_equal(a->nheld, to);
}

/*
 * Memory pressure: four connections fill 64 KiB receive rings (256 KiB,
 * tcp_mem_pressure itself); the fifth ring takes the stack above it
 * (TCPMemoryPressures). That connection had been offered 64 KiB already,
 * so its ring is that large; a connection opened under pressure is
 * offered rcvbuf_min (4 KiB) in its SYN-ACK and gets a 4 KiB ring, and a
 * full connection whose reader frees room sees its window grow no further
 * than 4 KiB at a time. Once reading and closing bring the total below
 * tcp_mem_low the pressure ends (TCPMemoryPressuresChrono), and a new
 * connection is offered 64 KiB and given a 64 KiB ring again.
 */
static void test_mem_pressure(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 192 * K, 256 * K, 1024 * K, 0, 1202);
	hsk_stack *c = sm.st[C];
	static uint8_t buf[128 * K];
	fill(buf, sizeof(buf));
	int cs[8];
	open_conns(&a, cs, 0, 5);
	assert_int_equal(hsk_send(c, cs[0], buf, 128 * K), 128 * K);
	for (int i = 1; i < 4; i++)
		assert_int_equal(hsk_send(c, cs[i], buf, 64 * K), 64 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(usage(&sm, S).buffer_bytes, 256 * K);
	assert_int_equal(sim_counter(&sm, S, "TCPMemoryPressures"), 0);
	assert_int_equal(synack_window(&sm, cs[4]), 65535);

	/* Above tcp_mem_pressure: the ring offered before is still whole. */
	assert_int_equal(hsk_send(c, cs[4], buf, 64 * K), 64 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(sim_counter(&sm, S, "TCPMemoryPressures"), 1);
	assert_int_equal(usage(&sm, S).buffer_bytes, 320 * K);

	/* A connection opened now: 4 KiB offered, a 4 KiB ring. */
	open_conns(&a, cs, 5, 6);
	assert_int_equal(synack_window(&sm, cs[5]), 4096);
	assert_int_equal(hsk_send(c, cs[5], buf, 64 * K), 64 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(usage(&sm, S).buffer_bytes, 320 * K + 4 * K);
	assert_int_equal(drain(&sm, a.held[5]), 4 * K);

	/* The reader of the first frees 32 KiB: the window it offers is 4 KiB
	 * at most (field 2048 with the window scale 1 of a 64 KiB buffer). */
	static uint8_t half[32 * K];
	assert_int_equal(hsk_recv(sm.st[S], a.held[0], half, sizeof(half)), 32 * K);
	size_t mark = sm.nlog;
	app_run(&a, 2 * SEC);
	uint32_t w = max_window_since(&sm, cs[0], mark);
	assert_true(w > 0 && w <= 2048);

	/* Readers catch up and everything closes: the pressure ends. */
	a.read_all = true;
	for (int i = 0; i < 6; i++) {
		drain(&sm, a.held[i]);
		hsk_close(c, cs[i]);
	}
	app_run(&a, 5 * SEC);
	app_close_all(&a);
	app_run(&a, 1 * SEC);
	assert_int_equal(usage(&sm, S).buffer_bytes, 0);
	assert_true(sim_counter(&sm, S, "TCPMemoryPressuresChrono") >= 1000);
	uint64_t pressures = sim_counter(&sm, S, "TCPMemoryPressures");
	a.read_all = false;
	a.nheld = 0;
	open_conns(&a, cs, 0, 1);
	assert_int_equal(synack_window(&sm, cs[0]), 65535);
	assert_int_equal(hsk_send(c, cs[0], buf, 64 * K), 64 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(usage(&sm, S).buffer_bytes, 64 * K);
	assert_int_equal(sim_counter(&sm, S, "TCPMemoryPressures"), pressures);
	assert_int_equal(sim_counter(&sm, S, "TCPRcvQDrop"), 0);
	hsk_close(c, cs[0]);
	app_end(&sm, &a);
}

/*
 * Above tcp_mem_high: two full 64 KiB rings hold 128 KiB of a 130 KiB
 * limit. The third connection's data finds no ring: it is dropped
 * (TCPRcvQDrop, BufferRefused) and the client resends it. A send that
 * needs a ring gets -HSK_EAGAIN (as Linux's non-blocking send) and the
 * socket loses POLLOUT. When the readers free memory, the sender is
 * reported writable again and its send goes through, and the dropped data
 * arrives whole.
 */
static void test_mem_high(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 96 * K, 128 * K, 130 * K, 0, 1203);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	static uint8_t buf[64 * K];
	fill(buf, sizeof(buf));
	int cs[4];
	open_conns(&a, cs, 0, 4);
	for (int i = 0; i < 3; i++)
		assert_int_equal(hsk_send(c, cs[i], buf, 64 * K), 64 * K);
	app_run(&a, 500 * MS);
	assert_int_equal(usage(&sm, S).buffer_bytes, 128 * K);
	assert_true(sim_counter(&sm, S, "TCPRcvQDrop") > 0);
	assert_true(sim_counter(&sm, S, "BufferRefused") > 0);
	assert_int_equal(drain(&sm, a.held[2]), 0);

	int sd3 = a.held[3];
	assert_true(hsk_poll(s, sd3) & HSK_POLLOUT);
	assert_int_equal(hsk_send(s, sd3, "x", 1), -HSK_EAGAIN);
	assert_false(hsk_poll(s, sd3) & HSK_POLLOUT);

	/* The readers catch up: memory is back, the sender is told. */
	size_t got0 = drain(&sm, a.held[0]), got1 = drain(&sm, a.held[1]);
	assert_true(got0 >= 64 * K - 2 && got1 >= 64 * K - 2);
	hsk_event ev[16];
	size_t n = hsk_stack_events(s, ev, 16);
	bool told = false;
	for (size_t i = 0; i < n; i++)
		told |= ev[i].sd == sd3 && (ev[i].events & HSK_POLLOUT);
	assert_true(told);
	assert_int_equal(hsk_send(s, sd3, "x", 1), 1);
	assert_int_equal(drain_all(&a, a.held[2], 64 * K), 64 * K);
	assert_true(sim_counter(&sm, S, "TCPMemoryPressuresChrono") > 0);
	for (int i = 0; i < 4; i++)
		hsk_close(c, cs[i]);
	app_run(&a, 1 * SEC);
	app_end(&sm, &a);
}

/*
 * A sender refused a ring is told when one is released, even a ring that
 * goes back to the cache with no pressure on (mem.c's release of an idle
 * ring without a call leaves a waiting sender to the general way), and
 * is no longer waiting once it takes a ring from the cache. The
 * waiting is made by hand: with pressure over, it is left only when the
 * memory came back below tcp_mem_low but not by a send ring's worth.
 */
static void test_waiting_sender_told_without_pressure(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 96 * K, 128 * K, 130 * K, 0, 1209);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int cs[2];
	open_conns(&a, cs, 0, 2);
	assert_int_equal(hsk_send(c, cs[0], "request", 7), 7);
	app_run(&a, 100 * MS);
	assert_int_equal(usage(&sm, S).buffer_bytes, 64 * K);

	tcb *t = s->socks[a.held[1]].t;
	t->flags |= TF_SND_WAIT;
	s->tcp.snd_waiters = 1;
	assert_false(hsk_poll(s, a.held[1]) & HSK_POLLOUT);
	char buf[16];
	assert_int_equal(hsk_recv(s, a.held[0], buf, sizeof(buf)), 7);
	assert_int_equal(usage(&sm, S).buffer_bytes, 0);
	assert_true(hsk_poll(s, a.held[1]) & HSK_POLLOUT);
	assert_int_equal(s->tcp.snd_waiters, 0);

	/* A waiting sender that finds a ring (the cached one) when it
	 * writes again is no longer waiting (its extension there: it has
	 * just read). */
	assert_int_equal(hsk_send(c, cs[1], "y", 1), 1);
	app_run(&a, 100 * MS);
	assert_int_equal(hsk_recv(s, a.held[1], buf, sizeof(buf)), 1);
	assert_non_null(t->act);
	t->flags |= TF_SND_WAIT;
	s->tcp.snd_waiters = 1;
	assert_false(hsk_poll(s, a.held[1]) & HSK_POLLOUT);
	assert_int_equal(hsk_send(s, a.held[1], "x", 1), 1);
	assert_true(hsk_poll(s, a.held[1]) & HSK_POLLOUT);
	for (int i = 0; i < 2; i++)
		hsk_close(c, cs[i]);
	app_run(&a, 1 * SEC);
	app_end(&sm, &a);
}

/* The stack under memory pressure from now, whatever it holds. */
static void pressure_now(hsk_stack *s)
{
	s->tcp.mem_pressure = true;
	s->tcp.mem_pressure_at = s->env.now;
}

/*
 * Under pressure a SYN-ACK offers at most rcvbuf_min, never more than the
 * listener's own buffer: a listener whose SO_RCVBUF is below rcvbuf_min
 * offers the same small window with the pressure on as without.
 */
static void test_small_listener_window_under_pressure(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 1210);
	hsk_stack *s = sm.st[S];
	int lsd = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_SO_RCVBUF, 1024), 0);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	int cs[2], ss[2], w[2];
	for (int i = 0; i < 2; i++) {
		if (i)
			pressure_now(s);
		cs[i] = sim_connect(&sm, C, S, PORT);
		sim_run(&sm, 10 * MS);
		ss[i] = sim_accept(&sm, S, lsd);
		w[i] = synack_window(&sm, cs[i]);
	}
	assert_true(w[0] > 0 && (uint32_t)w[0] < s->env.cfg.rcvbuf_min);
	assert_int_equal(w[1], w[0]);
	s->tcp.mem_pressure = false;
	for (int i = 0; i < 2; i++) {
		hsk_abort(sm.st[C], cs[i]);
		hsk_close(s, ss[i]);
	}
	hsk_close(s, lsd);
	sim_run_idle(&sm, 600 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/*
 * Under pressure an emptied ring of the cached size is freed, not cached
 * (mem.c's release of an idle ring without a call takes the cache only
 * with no pressure on), and that release can end the pressure. The
 * pressure is set by hand, as the waiting above: one 64 KiB ring under
 * tcp_mem_low once it is read.
 */
static void test_idle_ring_freed_under_pressure(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 96 * K, 128 * K, 1024 * K, 0, 1213);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int cs[1];
	open_conns(&a, cs, 0, 1);
	assert_int_equal(hsk_send(c, cs[0], "request", 7), 7);
	app_run(&a, 100 * MS);
	assert_int_equal(usage(&sm, S).buffer_bytes, 64 * K);
	unsigned cached = s->tcp.ring_cache_n;
	pressure_now(s);
	char buf[16];
	assert_int_equal(hsk_recv(s, a.held[0], buf, sizeof(buf)), 7);
	assert_int_equal(usage(&sm, S).buffer_bytes, 0);
	assert_int_equal(s->tcp.ring_cache_n, cached);  /* freed */
	assert_false(s->tcp.mem_pressure);               /* below low now */
	hsk_close(c, cs[0]);
	app_run(&a, 1 * SEC);
	app_end(&sm, &a);
}

/*
 * A receive ring made small under pressure grows back to rcvbuf at a
 * read that leaves bytes in it once the pressure is over (tcb_fit_rcv,
 * hsk_recv's way when the read does not empty the ring): a connection
 * opened under pressure is offered 4 KiB and gets a 4 KiB ring for the
 * client's 2,000 bytes; the pressure gone, reading 100 of them moves the
 * other 1,900 into a 64 KiB ring, in order. A read that empties the ring
 * gives it back instead (test_idle_ring_freed_under_pressure).
 */
static void test_rcv_ring_grows_back_at_partial_read(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 96 * K, 128 * K, 1024 * K, 0, 1214);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	pressure_now(s);
	int cs[1];
	open_conns(&a, cs, 0, 1);
	assert_int_equal(synack_window(&sm, cs[0]), 4096);
	static uint8_t buf[2000], got[2000];
	fill(buf, sizeof(buf));
	assert_int_equal(hsk_send(c, cs[0], buf, sizeof(buf)), sizeof(buf));
	app_run(&a, 100 * MS);
	assert_int_equal(usage(&sm, S).buffer_bytes, 4 * K);
	s->tcp.mem_pressure = false;    /* (as below tcp_mem_low) */
	assert_int_equal(hsk_recv(s, a.held[0], got, 100), 100);
	assert_int_equal(usage(&sm, S).buffer_bytes, 64 * K);
	assert_int_equal(hsk_recv(s, a.held[0], got + 100, sizeof(got)), sizeof(got) - 100);
	assert_memory_equal(got, buf, sizeof(buf));
	assert_int_equal(usage(&sm, S).buffer_bytes, 0);
	hsk_close(c, cs[0]);
	app_run(&a, 1 * SEC);
	app_end(&sm, &a);
}

/*
 * Orphans holding memory are the first to go. Two connections whose
 * clients never read (4 KiB windows) hold 64 KiB send rings each after
 * the server writes and closes them: orphans with 120 KiB unsent. A live
 * connection's data then needs a 64 KiB ring that would pass
 * tcp_mem_high: the orphans are reset (TCPAbortOnMemory, the clients see
 * ECONNRESET) and the live data is taken, none refused.
 */
static void test_mem_high_resets_orphans_first(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 96 * K, 128 * K, 160 * K, 4096, 1204);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	static uint8_t buf[64 * K];
	fill(buf, sizeof(buf));
	int cs[3];
	open_conns(&a, cs, 0, 3);
	assert_int_equal(hsk_send(s, a.held[0], buf, 64 * K), 64 * K);
	assert_int_equal(hsk_send(s, a.held[1], buf, 64 * K), 64 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(hsk_close(s, a.held[0]), 0);
	assert_int_equal(hsk_close(s, a.held[1]), 0);
	hsk_usage u = usage(&sm, S);
	assert_int_equal(u.orphans, 2);
	assert_int_equal(u.orphan_bytes, 128 * K);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 0);

	assert_int_equal(hsk_send(c, cs[2], buf, 64 * K), 64 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 2);
	assert_int_equal(sim_counter(&sm, S, "BufferRefused"), 0);
	assert_int_equal(sim_counter(&sm, S, "TCPRcvQDrop"), 0);
	assert_int_equal(usage(&sm, S).orphans, 0);
	assert_int_equal(drain_all(&a, a.held[2], 64 * K), 64 * K);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(hsk_sock_state(c, cs[i]), HSK_CLOSED);
		assert_int_equal(hsk_sock_error(c, cs[i]), HSK_ECONNRESET);
	}
	a.held[0] = a.held[2];          /* the first two are closed already */
	a.nheld = 1;
	for (int i = 0; i < 3; i++)
		hsk_close(c, cs[i]);
	app_end(&sm, &a);
}

/*
 * The sweep at tcp_mem_high resets orphans only: a live connection that
 * holds a ring (here 100 bytes its application has not read) keeps it and
 * its connection. Two orphans hold 128 KiB; the live one's ring and a
 * third connection's 64 KiB of data take the stack past tcp_mem_high:
 * the two orphans go (TCPAbortOnMemory 2), the live one stays.
 */
static void test_mem_high_spares_live(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 96 * K, 192 * K, 224 * K, 4096, 1206);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	static uint8_t buf[64 * K];
	fill(buf, sizeof(buf));
	int cs[4];
	open_conns(&a, cs, 0, 4);
	assert_int_equal(hsk_send(c, cs[3], buf, 100), 100);
	app_run(&a, 100 * MS);
	assert_true(usage(&sm, S).buffer_bytes > 0);
	assert_int_equal(hsk_send(s, a.held[0], buf, 64 * K), 64 * K);
	assert_int_equal(hsk_send(s, a.held[1], buf, 64 * K), 64 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(hsk_close(s, a.held[0]), 0);
	assert_int_equal(hsk_close(s, a.held[1]), 0);
	assert_int_equal(usage(&sm, S).orphans, 2);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 0);

	assert_int_equal(hsk_send(c, cs[2], buf, 64 * K), 64 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 2);
	assert_int_equal(usage(&sm, S).orphans, 0);
	assert_int_equal(hsk_sock_state(s, a.held[3]), HSK_ESTABLISHED);
	assert_int_equal(hsk_sock_error(s, a.held[3]), 0);
	assert_int_equal(hsk_sock_state(c, cs[3]), HSK_ESTABLISHED);
	assert_int_equal(drain(&sm, a.held[3]), 100);
	assert_int_equal(drain_all(&a, a.held[2], 64 * K), 64 * K);
	a.held[0] = a.held[2];          /* the first two are closed already */
	a.held[1] = a.held[3];
	a.nheld = 2;
	for (int i = 0; i < 4; i++)
		hsk_close(c, cs[i]);
	app_end(&sm, &a);
}

/*
 * close() when memory is exhausted: a connection with data still queued is
 * reset at once (TCPAbortOnMemory, Linux's tcp_close under
 * tcp_out_of_memory) instead of lingering as an orphan that holds it.
 */
static void test_close_out_of_memory_resets(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 96 * K, 128 * K, 130 * K, 4096, 1205);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	static uint8_t buf[64 * K];
	fill(buf, sizeof(buf));
	int cs[2];
	open_conns(&a, cs, 0, 2);
	assert_int_equal(hsk_send(s, a.held[0], buf, 64 * K), 64 * K);
	assert_int_equal(hsk_send(c, cs[1], buf, 64 * K), 64 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(usage(&sm, S).buffer_bytes, 128 * K);
	assert_int_equal(hsk_close(s, a.held[0]), 0);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 1);
	assert_int_equal(usage(&sm, S).orphans, 0);
	assert_int_equal(usage(&sm, S).buffer_bytes, 64 * K);
	app_run(&a, 100 * MS);
	assert_int_equal(hsk_sock_error(c, cs[0]), HSK_ECONNRESET);
	/* With memory to spare, the same close lingers as usual. */
	assert_true(drain_all(&a, a.held[1], 64 * K) >= 64 * K - 2);
	assert_int_equal(hsk_send(s, a.held[1], buf, 64 * K), 64 * K);
	assert_int_equal(hsk_close(s, a.held[1]), 0);
	assert_int_equal(usage(&sm, S).orphans, 1);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 1);
	a.nheld = 0;
	hsk_close(c, cs[0]);
	hsk_abort(c, cs[1]);
	app_end(&sm, &a);
}

/* ---- peers that never read ----
 * Each client sends 1 KiB requests as fast as its socket takes them and
 * never reads; the server answers each with 64 KiB and reads the next
 * request only when the answer is queued (as a server does), so both of
 * its rings fill for every such peer. */
enum { PEERS = 40 };

struct pin_conn {
	int sd;
	size_t owed;
};

static void pin_serve(hsk_stack *s, struct pin_conn *pc)
{
	static uint8_t out[64 * K], in[K];
	for (int guard = 0; guard < 64; guard++) {
		while (pc->owed) {
			long n = hsk_send(s, pc->sd, out, pc->owed < sizeof(out) ? pc->owed : sizeof(out));
			if (n <= 0)
				return;         /* blocked: read no more requests */
			pc->owed -= (size_t)n;
		}
		if (hsk_recv(s, pc->sd, in, sizeof(in)) <= 0)
			return;
		pc->owed += sizeof(out);
	}
}

/* Buffer bytes the server holds for PEERS never-reading peers, one more
 * every 500 ms, 30 s after the first,
 * with tcp_mem low/pressure/high; the largest send queue of one
 * connection in *max_q; how many were offered the minimum in *small. */
static size_t pin_run(uint64_t low, uint64_t pressure, uint64_t high, uint64_t seed,
		      uint32_t *max_q, int *small)
{
	hsk_config scfg;
	hsk_config_default(&scfg);
	scfg.tcp_mem_low = low;
	scfg.tcp_mem_pressure = pressure;
	scfg.tcp_mem_high = high;
	const hsk_config *cfgs[] = { NULL, &scfg };
	sim sm;
	sim_init_hosts(&sm, 2, cfgs, seed);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 64);
	int cs[PEERS];
	struct pin_conn pc[PEERS];
	static uint8_t req[K];
	int n = 0, opened = 0;
	uint64_t t0 = sim_now(&sm), end = t0 + 30 * SEC;
	/* One new peer every 500 ms. */
	for (;;) {
		for (; opened < PEERS && t0 + opened * 500 * MS <= sim_now(&sm); opened++)
			cs[opened] = sim_connect(&sm, C, S, PORT);
		uint64_t next = opened < PEERS ? t0 + opened * 500 * MS : end;
		if (!memnet_step(sm.net, next) && opened == PEERS)
			break;
		hsk_stack_advance(c, sim_now(&sm));
		hsk_stack_advance(s, sim_now(&sm));
		int sd;
		while (n < PEERS && (sd = hsk_accept(s, lsd, NULL)) >= 0)
			pc[n++] = (struct pin_conn){ .sd = sd };
		for (int i = 0; i < n; i++)
			pin_serve(s, &pc[i]);
		for (int i = 0; i < opened; i++)
			while (hsk_send(c, cs[i], req, sizeof(req)) > 0)
				;
	}
	assert_int_equal(n, PEERS);
	sim_sync_clocks(&sm);
	size_t held = usage(&sm, S).buffer_bytes;
	*max_q = 0;
	*small = 0;
	for (int i = 0; i < PEERS; i++)
		*small += synack_window(&sm, cs[i]) == 4096;
	hsk_stack_conns(s, qmax_cb, max_q);
	for (int i = 0; i < PEERS; i++) {
		hsk_abort(c, cs[i]);
		hsk_abort(s, pc[i].sd);
	}
	hsk_close(s, lsd);
	sim_run_idle(&sm, 600 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
	return held;
}

/*
 * "Peers that never read pin ~400 KB each with no cap": here each pins
 * both its rings, 512 KiB, as long as memory lasts; with tcp_mem the total
 * stays under tcp_mem_high, connections opened under pressure get 4 KiB
 * windows and rings, and no connection holds more than its buffers.
 */
static void test_never_reading_peers_bounded(void **state)
{
	(void)state;
	uint32_t max_q;
	int small;
	size_t free_run = pin_run(192ull << 20, 256ull << 20, 384ull << 20, 1207, &max_q, &small);
	assert_int_equal(free_run, (size_t)PEERS * 512 * K);
	assert_int_equal(small, 0);
	assert_true(max_q <= 256 * K);
	size_t bounded = pin_run(3ull << 20, 4ull << 20, 6ull << 20, 1207, &max_q, &small);
	fprintf(stderr, "never-reading peers: %d pin %zu KiB (%zu KiB each) under the default "
		"tcp_mem; with tcp_mem 3/4/6 MiB %zu KiB in all, %d of them offered 4 KiB\n",
		PEERS, free_run / K, free_run / PEERS / K, bounded / K, small);
	assert_true(bounded <= 6u << 20);
	assert_true(small > 0);
	assert_true(max_q <= 256 * K);
}

static void noop_transmit(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
}

/*
 * An orphan holding memory when memory runs out later: nothing needs a new
 * ring (the total fits under tcp_mem_high), so nothing reclaims; the
 * orphan's own probe timer finds not even a minimum ring would fit and
 * resets it (TCPAbortOnMemory), as Linux's tcp_out_of_resources, instead
 * of probing a peer that never reads for minutes.
 */
static void test_orphan_timer_out_of_memory(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 96 * K, 128 * K, 130 * K, 4096, 1208);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	static uint8_t buf[64 * K];
	fill(buf, sizeof(buf));
	int cs[2];
	open_conns(&a, cs, 0, 2);
	assert_int_equal(hsk_send(s, a.held[0], buf, 64 * K), 64 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(hsk_close(s, a.held[0]), 0);
	assert_int_equal(usage(&sm, S).orphans, 1);
	assert_int_equal(hsk_send(c, cs[1], buf, 64 * K), 64 * K);
	app_run(&a, 100 * MS);
	assert_int_equal(usage(&sm, S).buffer_bytes, 128 * K);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 0);
	app_run(&a, 5 * SEC);
	assert_int_equal(sim_counter(&sm, S, "TCPAbortOnMemory"), 1);
	assert_int_equal(usage(&sm, S).orphans, 0);
	assert_int_equal(hsk_sock_error(c, cs[0]), HSK_ECONNRESET);
	a.held[0] = a.held[1];
	a.nheld = 1;
	hsk_close(c, cs[0]);
	hsk_abort(c, cs[1]);
	app_end(&sm, &a);
}

/*
 * The pressured client of the next two tests: X (cs[0]) keeps 1 KiB past
 * the server's full 64 KiB window in its 64 KiB send ring; Y and Z
 * receive 64 KiB each, unread (192 KiB, above pressure); reading Y gives
 * its ring back (128 KiB: still under pressure, not below low); X's
 * reserve then trims its ring to 4 KiB (68 KiB: below low), and 2 KiB
 * written at the reserved pointer are committed.
 */
typedef struct pressured {
	sim sm;
	srv_app a;
	int cs[3];
} pressured;

static uint8_t pr_buf[128 * K], pr_got[128 * K];

static void pressured_commit(pressured *f, uint64_t seed)
{
	hsk_config ccfg, scfg;
	mem_cfg(&ccfg, 100 * K, 160 * K, 1024 * K);
	hsk_config_default(&scfg);
	scfg.sndbuf = scfg.rcvbuf = 64 * K;
	const hsk_config *cfgs[] = { &ccfg, &scfg };
	sim_init_hosts(&f->sm, 2, cfgs, seed);
	hsk_stack *c = f->sm.st[C], *sv = f->sm.st[S];
	f->a = (srv_app){ .sm = &f->sm, .lsd = sim_listen(&f->sm, S, PORT, 16) };
	fill(pr_buf, sizeof(pr_buf));
	open_conns(&f->a, f->cs, 0, 3);
	assert_int_equal(hsk_send(c, f->cs[0], pr_buf, 64 * K), 64 * K);
	app_run(&f->a, 1 * SEC);
	assert_int_equal(hsk_send(c, f->cs[0], pr_buf + 64 * K, 1 * K), 1 * K);
	app_run(&f->a, 1 * SEC);
	for (int i = 1; i < 3; i++)
		assert_int_equal(hsk_send(sv, f->a.held[i], pr_buf, 64 * K), 64 * K);
	app_run(&f->a, 1 * SEC);
	assert_int_equal(sim_counter(&f->sm, C, "TCPMemoryPressures"), 1);
	assert_int_equal(usage(&f->sm, C).buffer_bytes, 192 * K);
	size_t n = 0;
	long r;
	while ((r = hsk_recv(c, f->cs[1], pr_got, sizeof(pr_got))) > 0)
		n += (size_t)r;
	assert_int_equal(n, 64 * K);
	assert_int_equal(usage(&f->sm, C).buffer_bytes, 128 * K);
	assert_int_equal(sim_counter(&f->sm, C, "TCPMemoryPressuresChrono"), 0);

	/* The reserve trims X's ring and the pressure ends inside it. */
	void *p;
	long room = hsk_send_reserve(c, f->cs[0], &p);
	assert_true(room >= 2 * K);
	assert_int_equal(usage(&f->sm, C).buffer_bytes, 64 * K + 4 * K);
	memcpy(p, pr_buf + 65 * K, 2 * K);
	assert_int_equal(hsk_send_commit(c, f->cs[0], 2 * K), 0);
}

/* The server reads the first `len` bytes of pr_buf from X, in order; then
 * the connections close. */
static void pressured_finish(pressured *f, size_t len)
{
	size_t n = 0;
	long r;
	for (int i = 0; i < 100 && n < len; i++) {
		while ((r = hsk_recv(f->sm.st[S], f->a.held[0], pr_got + n,
				     sizeof(pr_got) - n)) > 0)
			n += (size_t)r;
		app_run(&f->a, 100 * MS);
	}
	assert_int_equal(n, len);
	assert_memory_equal(pr_got, pr_buf, len);
	for (int i = 0; i < 3; i++)
		hsk_close(f->sm.st[C], f->cs[i]);
	f->a.read_all = true;
	app_run(&f->a, 1 * SEC);
	app_end(&f->sm, &f->a);
}

/*
 * hsk_send_commit takes the bytes where hsk_send_reserve pointed even when
 * the reserve itself ended the memory pressure. Under pressure a reserve
 * trims the send ring to what it holds (tcb_fit_snd), which can bring the
 * total below tcp_mem_low; a commit that fitted the ring again would grow
 * and move it, and send what the new ring held instead of what the
 * application wrote (pressured_commit). The server reads everything: the
 * last 2 KiB are those written at the reserved pointer.
 */
static void test_commit_after_reserve_ends_pressure(void **state)
{
	(void)state;
	static pressured f;
	pressured_commit(&f, 1207);
	pressured_finish(&f, 67 * K);
}

/*
 * A send ring trimmed under pressure grows back to sndbuf at the next
 * write once the pressure is over (tcb_fit_snd; its quick exit compares
 * the ring with sndbuf itself): after pressured_commit, a write of 1 KiB
 * finds X's ring 4 KiB and moves it into 64 KiB, the bytes in order.
 */
static void test_snd_ring_grows_back(void **state)
{
	(void)state;
	static pressured f;
	pressured_commit(&f, 1208);
	/* No pressure now: the next write grows the ring back. */
	assert_int_equal(hsk_send(f.sm.st[C], f.cs[0], pr_buf + 67 * K, 1 * K), 1 * K);
	assert_int_equal(usage(&f.sm, C).buffer_bytes, 64 * K + 64 * K);
	pressured_finish(&f, 68 * K);
}

/*
 * A ring is the socket's size, whatever the cache of free rings holds:
 * with rings of the default 64 KiB in the cache (the first connection's,
 * given back once its data was acknowledged), a connection whose
 * SO_SNDBUF is 4 KiB gets a send ring of 4 KiB, one whose SO_RCVBUF is
 * 128 KiB a receive ring of 128 KiB (ring_alloc takes a cached one only
 * for a size that rounds up to it).
 */
static void test_small_sndbuf_ring(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 192 * K, 256 * K, 1024 * K, 0, 1209);
	hsk_stack *c = sm.st[C], *sv = sm.st[S];
	static uint8_t buf[8 * K];
	fill(buf, sizeof(buf));
	int cs[3];
	open_conns(&a, cs, 0, 3);
	assert_int_equal(hsk_setsockopt(sv, a.held[1], HSK_SO_SNDBUF, 4 * K), 0);
	assert_int_equal(hsk_setsockopt(sv, a.held[2], HSK_SO_RCVBUF, 128 * K), 0);
	assert_int_equal(hsk_send(sv, a.held[0], buf, 1 * K), 1 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(usage(&sm, S).buffer_bytes, 0);
	assert_int_equal(hsk_send(sv, a.held[1], buf, 8 * K), 4 * K);
	assert_int_equal(usage(&sm, S).buffer_bytes, 4 * K);
	/* (held[1]'s bytes are acknowledged meanwhile: its ring goes) */
	assert_int_equal(hsk_send(c, cs[2], buf, 1 * K), 1 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(usage(&sm, S).buffer_bytes, 128 * K);
	a.read_all = true;
	for (int i = 0; i < 3; i++)
		hsk_close(c, cs[i]);
	app_run(&a, 1 * SEC);
	app_end(&sm, &a);
}

/*
 * An orphan's send ring shrinks under pressure as a socket's does
 * (tcb_fit_snd), and the memory orphans hold follows it: a server writes
 * 64 KiB to a client with a 4 KiB window and closes; under pressure,
 * each ACK moves what is left into a smaller ring, and orphan_bytes stays
 * the ring's size throughout (it is the only memory the server holds),
 * down to nothing when the last byte is acknowledged.
 */
static void test_orphan_ring_shrinks_under_pressure(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 8 * K, 1024 * K, 2048 * K, 4096, 1215);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	static uint8_t buf[64 * K], got[64 * K];
	fill(buf, sizeof(buf));
	int cs[1];
	open_conns(&a, cs, 0, 1);
	assert_int_equal(hsk_send(s, a.held[0], buf, 64 * K), 64 * K);
	app_run(&a, 100 * MS);
	assert_int_equal(hsk_close(s, a.held[0]), 0);
	a.nheld = 0;
	hsk_usage u = usage(&sm, S);
	assert_int_equal(u.orphans, 1);
	assert_int_equal(u.orphan_bytes, 64 * K);
	pressure_now(s);
	size_t n = 0, smallest = 64 * K;
	for (int i = 0; i < 400 && n < sizeof(got); i++) {
		long r = hsk_recv(c, cs[0], got + n, 2 * K);
		if (r > 0)
			n += (size_t)r;
		app_run(&a, 10 * MS);
		u = usage(&sm, S);
		assert_int_equal(u.orphan_bytes, u.buffer_bytes);
		if (u.buffer_bytes && u.buffer_bytes < smallest)
			smallest = u.buffer_bytes;
	}
	assert_int_equal(n, sizeof(got));
	assert_memory_equal(got, buf, sizeof(got));
	assert_true(smallest <= 16 * K);        /* 64, 32, 16, ... KiB */
	u = usage(&sm, S);
	assert_int_equal(u.buffer_bytes, 0);
	assert_int_equal(u.orphan_bytes, 0);
	hsk_close(c, cs[0]);
	app_run(&a, 1 * SEC);
	app_end(&sm, &a);
}

/*
 * max_conns bounds the requests of SYN queues too (a pool of their own):
 * with 2, a third SYN while two requests wait is dropped unanswered
 * (DropNoMemory, ListenDrops), well below the backlog; once one request
 * has become a connection, a SYN is answered again.
 */
static void test_max_conns_requests(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.max_conns = 2;
	sim sm;
	sim_init(&sm, 2, &cfg, 1216);
	hsk_stack *s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 16);
	sm.tx_cursor = sm.nlog;
	for (uint16_t i = 0; i < 3; i++)
		sim_inject(&sm, S, SIM_ADDR(7), (uint16_t)(4000 + i), PORT, 1000u * (i + 1u), 0,
			   HSK_TH_SYN, 65535, NULL, 0);
	const sim_ev *e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.tuple.rport, 4000);
	uint32_t iss = e->ev.seq;
	e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.tuple.rport, 4001);
	assert_null(sim_next_tx(&sm));
	assert_int_equal(sim_counter(&sm, S, "DropNoMemory"), 1);
	assert_int_equal(sim_counter(&sm, S, "ListenDrops"), 1);
	assert_int_equal(usage(&sm, S).requests, 2);
	/* The first completes: its request's slot is free again. */
	sim_inject(&sm, S, SIM_ADDR(7), 4000, PORT, 1001, iss + 1, HSK_TH_ACK, 65535, NULL, 0);
	assert_int_equal(usage(&sm, S).requests, 1);
	sim_inject(&sm, S, SIM_ADDR(7), 4003, PORT, 4000, 0, HSK_TH_SYN, 65535, NULL, 0);
	e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, HSK_TH_SYN | HSK_TH_ACK);
	assert_int_equal(e->ev.tuple.rport, 4003);
	assert_int_equal(sim_counter(&sm, S, "DropNoMemory"), 1);
	int sd = sim_accept(&sm, S, lsd);
	hsk_abort(s, sd);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_run_idle(&sm, 600 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* The server's receive ring of sd, for the tests of kept rings. */
static const hsk_ring *srv_rcv_ring(hsk_stack *s, int sd)
{
	const tcb *t = sock_get(s, sd)->t;
	return t->act ? &t->act->rcv : NULL;
}

/* Sends n bytes on the client's cs, which the server's sd reads whole. */
static void send_and_read(srv_app *a, int cs, int sd, size_t n)
{
	static uint8_t buf[32 * K], got[32 * K];
	assert_true(n <= sizeof(buf));
	fill(buf, n);
	assert_int_equal(hsk_send(a->sm->st[C], cs, buf, n), (long)n);
	app_run(a, 100 * MS);
	assert_int_equal(hsk_recv(a->sm->st[S], sd, got, sizeof(got)), (long)n);
	assert_memory_equal(got, buf, n);
}

/*
 * A receive ring larger than the cache's (here SO_RCVBUF 128 KiB on a
 * stack whose rings are 64 KiB; autotuning's grown rings are the same
 * case) stays when the reader empties it, and the next data lands in the
 * same buffer: freeing it at each read meant a malloc (an mmap, for
 * megabytes) at each segment. Once the connection has been idle for a
 * while the ring goes back with the extension, and the idle connection
 * holds nothing.
 */
static void test_grown_ring_kept_while_used(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 1024 * K, 2048 * K, 4096 * K, 0, 1218);
	hsk_stack *s = sm.st[S];
	assert_int_equal(hsk_setsockopt(s, a.lsd, HSK_SO_RCVBUF, 128 * K), 0);
	int cs[1];
	open_conns(&a, cs, 0, 1);
	send_and_read(&a, cs[0], a.held[0], 20000);
	const hsk_ring *r = srv_rcv_ring(s, a.held[0]);
	assert_non_null(r);
	assert_non_null(r->buf);
	assert_true(r->cap > 64 * K);
	assert_int_equal(usage(&sm, S).buffer_bytes, r->cap);
	const uint8_t *kept = r->buf;
	for (int i = 0; i < 3; i++) {
		send_and_read(&a, cs[0], a.held[0], 30000);
		r = srv_rcv_ring(s, a.held[0]);
		assert_non_null(r);
		assert_ptr_equal(r->buf, kept);
	}
	app_run(&a, 1 * SEC);
	assert_null(srv_rcv_ring(s, a.held[0]));
	assert_int_equal(usage(&sm, S).buffer_bytes, 0);
	hsk_close(sm.st[C], cs[0]);
	app_run(&a, 1 * SEC);
	app_end(&sm, &a);
}

/*
 * An orphan keeps no ring: it never reads nor writes again, and rings it
 * held would make it a target of the reset at tcp_mem_high. Two
 * connections with 256 KiB send rings (SO_SNDBUF) send 20,000 bytes
 * each, and the second is closed at once: when everything is
 * acknowledged the first one's emptied ring is kept and the orphan's is
 * freed.
 */
static void test_orphan_keeps_no_ring(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 1024 * K, 2048 * K, 4096 * K, 0, 1220);
	hsk_stack *s = sm.st[S];
	int cs[2];
	open_conns(&a, cs, 0, 2);
	static uint8_t buf[20000];
	fill(buf, sizeof(buf));
	const tcb *live = sock_get(s, a.held[0])->t;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(hsk_setsockopt(s, a.held[i], HSK_SO_SNDBUF, 128 * K), 0);
		assert_int_equal(hsk_send(s, a.held[i], buf, sizeof(buf)), (long)sizeof(buf));
	}
	uint32_t cap = live->act->snd.cap;
	assert_true(cap > 64 * K);
	assert_int_equal(hsk_close(s, a.held[1]), 0);
	a.nheld = 1;    /* (app_end closes the others) */
	assert_int_equal(usage(&sm, S).orphan_bytes, cap);
	for (int ms = 0; ms < 200 && usage(&sm, S).orphan_bytes; ms++)
		sim_run(&sm, 1 * MS);
	assert_int_equal(usage(&sm, S).orphans, 1);
	assert_int_equal(usage(&sm, S).orphan_bytes, 0);
	assert_true(seq_eq(live->snd_una, live->snd_max));
	assert_true(live->act && live->act->snd.buf);   /* kept */
	assert_int_equal(usage(&sm, S).buffer_bytes, cap);
	a.read_all = true;
	for (int i = 0; i < 2; i++)
		hsk_close(sm.st[C], cs[i]);
	app_run(&a, 1 * SEC);
	app_end(&sm, &a);
}

/*
 * A kept empty ring is memory held for speed alone: it goes before
 * memory pressure is entered. Two connections with 256 KiB receive rings
 * (SO_RCVBUF) and tcp_mem_pressure 384 KiB: the first one's ring, read
 * empty and kept, is freed when the second needs its ring, which then
 * gets its full size with no pressure entered.
 */
static void test_kept_ring_goes_before_pressure(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 64 * K, 384 * K, 4096 * K, 0, 1219);
	hsk_stack *s = sm.st[S];
	assert_int_equal(hsk_setsockopt(s, a.lsd, HSK_SO_RCVBUF, 256 * K), 0);
	int cs[2];
	open_conns(&a, cs, 0, 2);
	send_and_read(&a, cs[0], a.held[0], 20000);
	const hsk_ring *r = srv_rcv_ring(s, a.held[0]);
	assert_true(r && r->buf);
	uint32_t cap = r->cap;
	assert_true(cap > 192 * K);     /* two would pass tcp_mem_pressure */
	send_and_read(&a, cs[1], a.held[1], 20000);
	r = srv_rcv_ring(s, a.held[0]);
	assert_true(!r || !r->buf);
	r = srv_rcv_ring(s, a.held[1]);
	assert_true(r && r->buf);
	assert_int_equal(r->cap, cap);
	assert_int_equal(usage(&sm, S).buffer_bytes, cap);
	assert_int_equal(sim_counter(&sm, S, "TCPMemoryPressures"), 0);
	for (int i = 0; i < 2; i++)
		hsk_close(sm.st[C], cs[i]);
	app_run(&a, 1 * SEC);
	app_end(&sm, &a);
}

/*
 * Entering pressure gives the cache of free rings back (they are memory
 * too): a 64 KiB ring cached (the first connection's, its data
 * acknowledged), two receive rings of 128 KiB (SO_RCVBUF) fill the stack
 * to tcp_mem_pressure, and an 8 KiB one takes it past: the cached ring is
 * freed at that moment (not kept for a ring of its size).
 */
static void test_pressure_frees_ring_cache(void **state)
{
	(void)state;
	sim sm;
	srv_app a;
	mem_fx(&sm, &a, 192 * K, 256 * K, 1024 * K, 0, 1217);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	static uint8_t buf[64 * K];
	fill(buf, sizeof(buf));
	int cs[4];
	open_conns(&a, cs, 0, 4);
	assert_int_equal(hsk_send(s, a.held[0], buf, 1 * K), 1 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(usage(&sm, S).buffer_bytes, 0);
	assert_int_equal(s->tcp.ring_cache_n, 1);
	for (int i = 1; i < 3; i++)
		assert_int_equal(hsk_setsockopt(s, a.held[i], HSK_SO_RCVBUF, 128 * K), 0);
	assert_int_equal(hsk_setsockopt(s, a.held[3], HSK_SO_RCVBUF, 8 * K), 0);
	for (int i = 1; i < 3; i++)
		assert_int_equal(hsk_send(c, cs[i], buf, 64 * K), 64 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(usage(&sm, S).buffer_bytes, 256 * K);
	assert_int_equal(s->tcp.ring_cache_n, 1);
	assert_int_equal(sim_counter(&sm, S, "TCPMemoryPressures"), 0);
	assert_int_equal(hsk_send(c, cs[3], buf, 1 * K), 1 * K);
	app_run(&a, 1 * SEC);
	assert_int_equal(sim_counter(&sm, S, "TCPMemoryPressures"), 1);
	assert_int_equal(s->tcp.ring_cache_n, 0);
	assert_int_equal(usage(&sm, S).buffer_bytes, 256 * K + 8 * K);
	a.read_all = true;
	for (int i = 0; i < 4; i++)
		hsk_close(c, cs[i]);
	app_run(&a, 1 * SEC);
	app_end(&sm, &a);
}

/* The tcp_mem knobs are checked: in order, high not zero. */
static void test_mem_config_validated(void **state)
{
	(void)state;
	static const struct { uint64_t low, pressure, high; bool ok; } c[] = {
		{ 1, 2, 3, true }, { 2, 2, 2, true }, { 3, 2, 4, false },
		{ 1, 3, 2, false }, { 0, 0, 0, false },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		hsk_config cfg;
		mem_cfg(&cfg, c[i].low, c[i].pressure, c[i].high);
		cfg.seed = 1;
		hsk_stack *st = hsk_stack_new(&cfg, &(hsk_link){ NULL, noop_transmit }, 0);
		assert_int_equal(st != NULL, c[i].ok);
		hsk_stack_free(st);
	}
	hsk_config cfg;
	mem_cfg(&cfg, 1, 2, 3);
	cfg.seed = 1;
	cfg.rcvbuf_min = 1023;
	assert_null(hsk_stack_new(&cfg, &(hsk_link){ NULL, noop_transmit }, 0));
	cfg.rcvbuf_min = 4096;
	cfg.sndbuf_min = 0;
	assert_null(hsk_stack_new(&cfg, &(hsk_link){ NULL, noop_transmit }, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_table_full_recovers),
		cmocka_unit_test(test_orphan_limit),
		cmocka_unit_test(test_mem_pressure),
		cmocka_unit_test(test_mem_high),
		cmocka_unit_test(test_waiting_sender_told_without_pressure),
		cmocka_unit_test(test_idle_ring_freed_under_pressure),
		cmocka_unit_test(test_small_listener_window_under_pressure),
		cmocka_unit_test(test_rcv_ring_grows_back_at_partial_read),
		cmocka_unit_test(test_mem_high_resets_orphans_first),
		cmocka_unit_test(test_mem_high_spares_live),
		cmocka_unit_test(test_close_out_of_memory_resets),
		cmocka_unit_test(test_orphan_timer_out_of_memory),
		cmocka_unit_test(test_commit_after_reserve_ends_pressure),
		cmocka_unit_test(test_snd_ring_grows_back),
		cmocka_unit_test(test_small_sndbuf_ring),
		cmocka_unit_test(test_orphan_ring_shrinks_under_pressure),
		cmocka_unit_test(test_max_conns_requests),
		cmocka_unit_test(test_pressure_frees_ring_cache),
		cmocka_unit_test(test_grown_ring_kept_while_used),
		cmocka_unit_test(test_kept_ring_goes_before_pressure),
		cmocka_unit_test(test_orphan_keeps_no_ring),
		cmocka_unit_test(test_mem_config_validated),
		cmocka_unit_test(test_never_reading_peers_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
