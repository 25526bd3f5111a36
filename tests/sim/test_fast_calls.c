/*
 * The socket calls' usual cases give what the general code gives: host
 * S's accepted connection (a peer played here, peer.h) is closed, written
 * to or read until its receive ring empties in one shape, each run made
 * twice, as the stack runs and with tcp_stack.no_fastpath (every call the
 * general way), and the two runs' events, counters and what each call
 * returned and left (the stack's sockets, orphans, bytes held, rings
 * cached) are compared. Each shape breaks one condition of the call's
 * short way, or leaves what it hands on to the general tail.
 *
 * The clock hook's condition is not one a comparison can break (the
 * simulated hosts always have a clock): close(), send() and accept() on
 * the usual connection (accept(): its listener) at a stale clock must
 * take the general way, which checks the clock (counted; fatal with
 * assertions on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/api.h"
#include "sim.h"
#include "stack/stack.h"
#include "peer.h"
#include "shapes.h"

/* ---- close()'s usual case (socket.c, close_usual) ----
 * S's accepted connection is closed in one shape; close() is called with
 * S's clock and trace hooks off (close()'s short way is untraced and
 * reads no clock), but in the shapes that keep one of them. Each of the
 * short way's conditions is broken by one shape: data unread, bytes
 * unacknowledged with memory exhausted, SO_LINGER (N: the peer never
 * acknowledges the FIN, so the linger time resets it; 0: a reset at
 * once), no room for an orphan, a FIN queued already, no extension left
 * (idle), the peer's FIN first (CLOSE_WAIT to LAST_ACK), the peer's
 * window closed (the FIN waits for it to open), a close before
 * the handshake's end, a listener waiting for a slot, the listener itself
 * (closed the same way at the end). With tcp_stack.no_fastpath (every
 * close the general way) the events, counters and what the slot's
 * release left must be the same. */
typedef struct closing {
	const char *name;
	bool traced, clocked;     /* S's trace / clock kept for the close */
	bool acked;               /* the peer acknowledged S's 100 bytes */
	bool peer_fin;            /* the peer's FIN first, read by S */
	bool unread;              /* 10 bytes of the peer's left unread */
	int linger;               /* SO_LINGER's value (0: not set) */
	bool linger_set;
	bool no_orphans;          /* max_orphans 0 */
	bool exhausted;           /* tcp_mem_high reached */
	bool shut;                /* SHUT_WR first */
	bool idle;                /* 200 ms quiet first: no extension left */
	bool starved;             /* a listener waits for a slot */
	bool zero_wnd;            /* the peer's ACK of the 100 bytes says
				   * window 0; it opens after the close */
} closing;

/* S's trace and clock hooks off for a call but as kept (the short ways
 * are untraced and read no clock); hooks_back puts them back. */
static hsk_config hooks_off(peer *p, bool traced, bool clocked)
{
	hsk_config *c = &p->st->env.cfg;
	hsk_config saved = *c;
	if (!traced)
		c->trace = NULL;
	if (!clocked)
		c->clock = NULL;
	return saved;
}

static void hooks_back(peer *p, const hsk_config *saved)
{
	p->st->env.cfg.trace = saved->trace;
	p->st->env.cfg.clock = saved->clock;
}

/* hsk_close on S with its clock and trace hooks off but as v keeps them. */
static int close_hooks_off(peer *p, int sd, const closing *v)
{
	hsk_config saved = hooks_off(p, v->traced, v->clocked);
	int r = hsk_close(p->st, sd);
	hooks_back(p, &saved);
	return r;
}

static void run_closing(const void *pv, bool slow, outcome *out)
{
	const closing *v = pv;
	peer p;
	peer_open(&p, false, slow, 4246);
	if (v->linger_set)
		assert_int_equal(hsk_setsockopt(p.st, p.sd, HSK_SO_LINGER, v->linger), 0);
	peer_write(&p);
	uint32_t dseq = 0;
	if (v->acked)
		peer_send(&p, 0, 100, HSK_TH_ACK, v->zero_wnd ? 0 : 2000, NULL, 0);
	if (v->unread) {
		peer_send(&p, 0, v->acked ? 100 : 0, HSK_TH_ACK, 2000, text, 10);
		dseq = 10;
	}
	if (v->peer_fin) {
		peer_send(&p, 0, 100, HSK_TH_FIN | HSK_TH_ACK, 2000, NULL, 0);
		dseq = 1;
		sim_run(&p.sm, 7 * MS);
		uint8_t buf[200];
		assert_int_equal(hsk_recv(p.st, p.sd, buf, sizeof(buf)), 0);
	}
	sim_run(&p.sm, v->idle ? 200 * MS : 7 * MS);
	if (v->shut) {
		assert_int_equal(hsk_shutdown(p.st, p.sd, HSK_SHUT_WR), 0);
		sim_run(&p.sm, 7 * MS);
	}
	if (v->no_orphans)
		p.st->env.cfg.max_orphans = 0;
	if (v->exhausted)
		p.st->env.cfg.tcp_mem_high = p.st->env.cfg.tcp_mem_pressure =
			(uint32_t)p.st->tcp.buffer_bytes;
	if (v->starved)
		p.st->socks_starved = true;
	assert_int_equal(close_hooks_off(&p, p.sd, v), 0);
	char line[128];
	snprintf(line, sizeof(line), "after close: starved %d, sockets %u, orphans %u",
		 p.st->socks_starved, p.st->socks_in_use, p.st->tcp.orphans);
	sim_run(&p.sm, 7 * MS);
	if (v->zero_wnd) {
		peer_send(&p, dseq, 100, HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
	}
	if (v->linger_set && v->linger > 0) {
		sim_run(&p.sm, 10 * SEC);       /* no ACK: the linger time resets */
	} else {
		peer_send(&p, dseq, 101, HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
		if (!v->peer_fin)
			peer_send(&p, dseq, 101, HSK_TH_FIN | HSK_TH_ACK, 2000, NULL, 0);
	}
	sim_run(&p.sm, 70 * SEC);
	assert_int_equal(close_hooks_off(&p, p.lsd, v), 0);
	sim_run(&p.sm, 1 * SEC);
	peer_outcome(&p, out);
	outcome_add(out, strdup(line));
}

/* The same with S connecting (to the peer, which never answers): closed
 * in SYN_SENT; and a socket never connected. */
static void run_closing_syn_sent(const void *pv, bool slow, outcome *out)
{
	const closing *v = pv;
	peer p;
	peer_open(&p, false, slow, 4247);
	int sd = hsk_socket(p.st);
	assert_true(sd >= 0);
	assert_int_equal(hsk_connect(p.st, sd, p.addr, 81), -HSK_EINPROGRESS);
	sim_run(&p.sm, 7 * MS);
	assert_int_equal(close_hooks_off(&p, sd, v), 0);
	sim_run(&p.sm, 7 * MS);
	sd = hsk_socket(p.st);
	assert_true(sd >= 0);
	assert_int_equal(close_hooks_off(&p, sd, v), 0);
	assert_int_equal(close_hooks_off(&p, p.sd, v), 0);
	sim_run(&p.sm, 70 * SEC);
	assert_int_equal(close_hooks_off(&p, p.lsd, v), 0);
	sim_run(&p.sm, 1 * SEC);
	peer_outcome(&p, out);
}

static void test_close_usual(void **state)
{
	(void)state;
	static const closing shapes[] = {
		{ "acknowledged", .acked = true },
		{ "bytes unacknowledged", .acked = false },
		{ "bytes unacknowledged, memory exhausted", .exhausted = true },
		{ "traced", .acked = true, .traced = true },
		{ "clocked", .acked = true, .clocked = true },
		{ "unread", .acked = true, .unread = true },
		{ "peer's FIN first", .acked = true, .peer_fin = true },
		{ "peer's window 0", .acked = true, .zero_wnd = true },
		{ "SO_LINGER 5 s", .acked = true, .linger_set = true, .linger = 5 },
		{ "SO_LINGER 0", .acked = true, .linger_set = true, .linger = 0 },
		{ "no room for an orphan", .acked = true, .no_orphans = true },
		{ "shut down first", .acked = true, .shut = true },
		{ "idle", .acked = true, .idle = true },
		{ "a listener starved", .acked = true, .starved = true },
	};
	SHAPES_COMPARE("close()", shapes, run_closing);
	static const closing syn_sent[] = {
		{ .name = "SYN_SENT, never connected" },
	};
	SHAPES_COMPARE("close() connecting", syn_sent, run_closing_syn_sent);
}

/* ---- accept()'s usual case (socket.c, accept_usual) ----
 * The peer's connection waits on S's accept queue; accept() is called
 * with S's clock and trace hooks off (the short way is untraced and reads
 * no clock) but in the shapes that keep one. Each condition of the short
 * way is broken by one shape: the hooks kept, an option on the listener
 * (TCP_KEEPIDLE, which the accepted socket inherits and reports), no free slot (the table grows), nothing queued (a second
 * accept()), not a listener, no socket; and what it does after the taking is seen both
 * ways: the peer's data or FIN before accept() (the socket told at once),
 * no peer asked for, a second connection queued behind the first. Then
 * S writes and closes each accepted connection, and with
 * tcp_stack.no_fastpath the events, counters and a line of what each
 * accept() returned and left must be the same. */
typedef struct accepting {
	const char *name;
	bool traced, clocked;     /* S's trace / clock kept for the accept */
	bool opts;                /* the listener's TCP_KEEPIDLE */
	bool no_slot;             /* the slots' free list empty first */
	bool data;                /* the peer's 10 bytes before accept() */
	bool fin;                 /* the peer's FIN before accept() */
	bool none;                /* a second accept() finds nothing queued */
	bool not_listener;        /* accept() on a socket never connected */
	bool bad_sd;              /* accept() on no socket */
	bool no_peer;             /* peer NULL */
	bool second;              /* a second connection queued */
} accepting;

/* hsk_accept on S with its clock and trace hooks off but as v keeps them. */
static int accept_hooks_off(peer *p, int sd, hsk_tuple *tu, const accepting *v)
{
	hsk_config saved = hooks_off(p, v->traced, v->clocked);
	int r = hsk_accept(p->st, sd, tu);
	hooks_back(p, &saved);
	return r;
}

/* Another connection from the peer's port `port` (IRS 777) to S's accept
 * queue; S's ISS. */
static uint32_t queue_from(peer *p, uint16_t port)
{
	tcp_opts o = peer_syn_opts(++p->tsv);
	sim_inject_opts(&p->sm, S, p->addr, port, 80, 777, 0, HSK_TH_SYN, 2000, &o, NULL, 0);
	const sim_ev *e = sim_next_tx(&p->sm);
	assert_non_null(e);
	uint32_t iss = e->ev.seq, ecr = e->ev.ts_val;
	sim_run(&p->sm, 7 * MS);
	tcp_opts_init(&o);
	o.has_ts = true;
	o.ts_val = ++p->tsv;
	o.ts_ecr = ecr;
	sim_inject_opts(&p->sm, S, p->addr, port, 80, 778, iss + 1, HSK_TH_ACK, 2000, &o, NULL,
			0);
	return iss;
}

/* One accept() of v's shape into line (from n on); its socket, or -1. */
static int accept_one(peer *p, const accepting *v, int lsd, char *line, size_t cap, int *n)
{
	hsk_tuple tu = { 0 };
	int sd = accept_hooks_off(p, lsd, v->no_peer ? NULL : &tu, v);
	int idle = -1;
	bool told = false;
	if (sd >= 0) {
		assert_int_equal(hsk_getsockopt(p->st, sd, HSK_SO_KEEPIDLE, &idle), 0);
		told = socket_told(p->st, sd);
	}
	*n += snprintf(line + *n, cap - (size_t)*n,
		       " %d (peer %08x:%u %08x:%u, keepidle %d, told %d, state %d, sockets %u)",
		       sd, tu.laddr, tu.lport, tu.raddr, tu.rport, idle, told,
		       sd >= 0 ? hsk_sock_state(p->st, sd) : -1, p->st->socks_in_use);
	return sd;
}

static void run_accepting(const void *pv, bool slow, outcome *out)
{
	const accepting *v = pv;
	peer p;
	peer_open_queued(&p, false, slow, 4249);
	if (v->opts) {
		assert_int_equal(hsk_setsockopt(p.st, p.lsd, HSK_SO_KEEPIDLE, 30), 0);
	}
	if (v->data || v->fin) {
		peer_send(&p, 0, 0, HSK_TH_ACK | HSK_TH_PSH | (v->fin ? HSK_TH_FIN : 0), 2000,
			  v->data ? text : NULL, v->data ? 10 : 0);
		sim_run(&p.sm, 7 * MS);
	}
	if (v->second)
		queue_from(&p, 4001);
	sim_run(&p.sm, 7 * MS);
	socket_told(p.st, p.lsd);       /* (the listener's events read) */
	int extra = -1;
	if (v->no_slot)
		while (p.st->free_sock >= 0) {
			extra = hsk_socket(p.st);
			assert_true(extra >= 0);
		}
	int lsd = p.lsd;
	if (v->not_listener) {
		lsd = hsk_socket(p.st);
		assert_true(lsd >= 0);
	}
	if (v->bad_sd)
		lsd = 999;
	char line[512];
	int n = snprintf(line, sizeof(line), "accepts:");
	int sd[2] = { -1, -1 };
	sd[0] = accept_one(&p, v, lsd, line, sizeof(line), &n);
	if (v->second || v->none)       /* (none: the queue is empty now) */
		sd[1] = accept_one(&p, v, lsd, line, sizeof(line), &n);
	for (int i = 0; i < 2; i++) {
		if (sd[i] < 0)
			continue;
		assert_int_equal(hsk_send(p.st, sd[i], text, sizeof(text)), sizeof(text));
		sim_run(&p.sm, 7 * MS);
		assert_int_equal(hsk_close(p.st, sd[i]), 0);
		sim_run(&p.sm, 7 * MS);
	}
	if (v->not_listener)
		assert_int_equal(hsk_close(p.st, lsd), 0);
	sim_run(&p.sm, 70 * SEC);
	assert_int_equal(hsk_close(p.st, p.lsd), 0);
	sim_run(&p.sm, 1 * SEC);
	peer_outcome(&p, out);
	outcome_add(out, strdup(line));
}

static void test_accept_usual(void **state)
{
	(void)state;
	static const accepting shapes[] = {
		{ .name = "usual" },
		{ "traced", .traced = true },
		{ "clocked", .clocked = true },
		{ "the listener's options", .opts = true },
		{ "no free slot", .no_slot = true },
		{ "data before accept", .data = true },
		{ "FIN before accept", .fin = true },
		{ "data and FIN before accept", .data = true, .fin = true },
		{ "nothing queued", .none = true },
		{ "not a listener", .not_listener = true },
		{ "no socket", .bad_sd = true },
		{ "no peer asked for", .no_peer = true },
		{ "a second connection queued", .second = true },
		{ "a second connection queued, no free slot", .second = true, .no_slot = true },
	};
	SHAPES_COMPARE("accept()", shapes, run_accepting);
}

/* ---- the kept list (active.c's tcb_act_put, the small read's put) ----
 * Three connections accepted by S, each sent 20 bytes that S reads (a
 * small read: the extension, quiescent, goes on the kept list), so the
 * list is empty at the first put only; then the middle connection is
 * aborted (its extension freed: unlinked from the middle), the first
 * reads again (moved to the tail) and 50 ms pass (all given back). After
 * each step the list is walked both ways and counted; with act_eager it
 * stays empty and each read gives its extension back at once. Run with
 * and without no_fastpath (the small read's way and the general one). */
static void kept_list_check(const hsk_stack *st, unsigned want)
{
	const tcp_stack *s = &st->tcp;
	unsigned n = 0;
	const tcb *prev = NULL;
	for (const tcb *t = s->act_idle_head; t && n <= s->act_idle_n; t = t->act->idle_next) {
		assert_true(t->act->idle_listed);
		assert_ptr_equal(t->act->idle_prev, prev);
		prev = t;
		n++;
	}
	assert_ptr_equal(s->act_idle_tail, prev);
	assert_int_equal(n, s->act_idle_n);
	assert_int_equal(n, s->act_eager ? 0 : want);
}

static void kept_read(peer *p, int sd, uint16_t port, uint32_t iss, uint32_t dseq)
{
	p->o.ts_val = ++p->tsv;
	uint32_t irs = port == 4000 ? p->irs : 777;
	sim_inject_opts(&p->sm, S, p->addr, port, 80, irs + 1 + dseq, iss + 1,
			HSK_TH_ACK | HSK_TH_PSH, 2000, &p->o, text, 20);
	sim_run(&p->sm, 1 * MS);
	uint8_t buf[64];
	assert_int_equal(hsk_recv(p->st, sd, buf, sizeof(buf)), 20);
	if (p->st->tcp.act_eager)
		assert_null(p->st->socks[sd].t->act);
}

static void run_kept(bool eager, bool slow)
{
	peer p;
	peer_open_queued(&p, false, slow, 4251);
	p.st->tcp.act_eager = eager;
	uint16_t port[3] = { 4000, 4001, 4002 };
	uint32_t iss[3] = { p.iss };
	int sd[3];
	sd[0] = hsk_accept(p.st, p.lsd, NULL);
	for (int i = 1; i < 3; i++) {
		iss[i] = queue_from(&p, port[i]);
		sim_run(&p.sm, 1 * MS);
		sd[i] = hsk_accept(p.st, p.lsd, NULL);
	}
	for (int i = 0; i < 3; i++) {
		assert_true(sd[i] >= 0);
		kept_read(&p, sd[i], port[i], iss[i], 0);
		kept_list_check(p.st, (unsigned)i + 1);
	}
	assert_int_equal(hsk_abort(p.st, sd[1]), 0);
	kept_list_check(p.st, 2);
	kept_read(&p, sd[0], port[0], iss[0], 20);
	kept_list_check(p.st, 2);
	assert_ptr_equal(p.st->tcp.act_idle_tail, eager ? NULL : p.st->socks[sd[0]].t);
	sim_run(&p.sm, 50 * MS);
	kept_list_check(p.st, 0);
	assert_null(p.st->socks[sd[0]].t->act);
	assert_null(p.st->socks[sd[2]].t->act);
	assert_int_equal(hsk_abort(p.st, sd[0]), 0);
	assert_int_equal(hsk_abort(p.st, sd[2]), 0);
	assert_int_equal(hsk_close(p.st, p.lsd), 0);
	sim_free(&p.sm);
}

static void test_kept_list(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++)
		run_kept(i & 1, i & 2);
}

/* ---- send()'s usual case (io.c, send_usual) ----
 * S's accepted connection writes in one shape, with S's clock hook off
 * for the calls (send()'s short way reads no clock). Each condition of
 * the short way is broken by a shape: a socket's or the stack's limit on
 * unsent bytes, a state that may not send (connecting, shut down), not a
 * connection (the listener), a bad buffer, nothing to write; and what it
 * leaves to its tail is taken both ways: no extension left (idle), a ring
 * held, a ring full, no memory for one. With tcp_stack.no_fastpath the
 * events, counters and each call's value must be the same. */
typedef struct sending {
	const char *name;
	bool acked;               /* the peer acknowledges each write */
	bool peer_fin;            /* the peer's FIN first (CLOSE_WAIT) */
	bool idle;                /* 200 ms quiet first: no extension left */
	bool shut;                /* SHUT_WR first */
	bool connecting;          /* a socket in SYN_SENT writes */
	bool listener;            /* the listener is written to */
	bool fresh;               /* a socket never connected is */
	bool null_buf;            /* buf NULL, len 100 */
	bool empty;               /* len 0 */
	bool opt_lowat;           /* TCP_NOTSENT_LOWAT 50 on the socket */
	bool stack_lowat;         /* the stack's tcp_notsent_lowat 50 */
	bool small_ring;          /* a ring of 2 KiB: the second write finds it full */
	bool exhausted;           /* tcp_mem_high reached: no ring */
	size_t size;              /* each write's size (0: 100, text's) */
	bool read_first;          /* S writes and reads 10 bytes first: the
				   * cache holds both rings */
} sending;

/* hsk_send on S with its clock hook off. */
static long send_clock_off(peer *p, int sd, const void *buf, size_t len)
{
	hsk_config *c = &p->st->env.cfg;
	uint64_t (*clock)(void *ctx) = c->clock;
	c->clock = NULL;
	long r = hsk_send(p->st, sd, buf, len);
	c->clock = clock;
	return r;
}

static void run_sending(const void *pv, bool slow, outcome *out)
{
	const sending *v = pv;
	static uint8_t big[3000];
	peer p;
	peer_open(&p, false, slow, 4248);
	int sd = p.sd;
	uint32_t dseq = 0, acked = 0;
	if (v->read_first) {    /* (two rings held at once, then both cached) */
		uint8_t in[10];
		peer_send(&p, 0, 0, HSK_TH_ACK | HSK_TH_PSH, 2000, text, 10);
		sim_run(&p.sm, 7 * MS);
		assert_int_equal(hsk_send(p.st, sd, text, 10), 10);
		sim_run(&p.sm, 7 * MS);
		peer_send(&p, 10, 10, HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
		assert_int_equal(hsk_recv(p.st, sd, in, sizeof(in)), 10);
		assert_int_equal(p.st->tcp.ring_cache_n, 2);
		dseq = acked = 10;
	}
	if (v->peer_fin) {
		peer_send(&p, dseq, 0, HSK_TH_FIN | HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
		dseq++;
	}
	sim_run(&p.sm, v->idle ? 200 * MS : 7 * MS);
	if (v->shut) {
		assert_int_equal(hsk_shutdown(p.st, sd, HSK_SHUT_WR), 0);
		sim_run(&p.sm, 7 * MS);
	}
	if (v->connecting) {
		sd = hsk_socket(p.st);
		assert_true(sd >= 0);
		assert_int_equal(hsk_connect(p.st, sd, p.addr, 81), -HSK_EINPROGRESS);
	}
	if (v->listener)
		sd = p.lsd;
	if (v->fresh) {
		sd = hsk_socket(p.st);
		assert_true(sd >= 0);
	}
	if (v->opt_lowat)
		assert_int_equal(hsk_setsockopt(p.st, sd, HSK_TCP_NOTSENT_LOWAT, 50), 0);
	if (v->stack_lowat)
		p.st->env.cfg.tcp_notsent_lowat = 50;
	if (v->small_ring)
		p.st->socks[sd].t->sndbuf = 2048;
	if (v->exhausted)
		p.st->env.cfg.tcp_mem_high = p.st->env.cfg.tcp_mem_pressure =
			(uint32_t)p.st->tcp.buffer_bytes;
	char line[256];
	int n = snprintf(line, sizeof(line), "sends:");
	for (int i = 0; i < 3; i++) {
		/* (a sized write's bytes: a pattern of its own, unlike the
		 * last write's, whose bytes a cached ring may still hold) */
		uint8_t own[sizeof(text)];
		for (size_t j = 0; j < sizeof(own); j++)
			own[j] = (uint8_t)(j * 7 + 3 + (size_t)i * 31);
		const void *buf = v->null_buf ? NULL : v->size ? own : v->small_ring ? big : text;
		size_t len = v->empty ? 0 : v->size ? v->size : v->small_ring ? sizeof(big) :
									sizeof(text);
		long r = send_clock_off(&p, sd, buf, len);
		if (r > 0 && buf == own) {      /* the ring's last r bytes: own's */
			const hsk_ring *ring = &p.st->socks[sd].t->act->snd;
			uint8_t got[sizeof(own)];
			assert_int_equal(ring_peek(ring, ring_len(ring) - (uint32_t)r, got,
						   (uint32_t)r), (uint32_t)r);
			assert_memory_equal(got, own, (size_t)r);
		}
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %ld (%u held)", r,
			      (unsigned)p.st->tcp.buffer_bytes);
		sim_run(&p.sm, 7 * MS);
		if (v->acked && r > 0) {
			acked += (uint32_t)r;
			peer_send(&p, dseq, acked, HSK_TH_ACK, 2000, NULL, 0);
			sim_run(&p.sm, 7 * MS);
		}
	}
	if (v->connecting || v->fresh)
		assert_int_equal(hsk_close(p.st, sd), 0);
	peer_abort_end(&p, out, line);
}

static void test_send_usual(void **state)
{
	(void)state;
	static const sending shapes[] = {
		{ "acknowledged", .acked = true },
		{ "a ring held", .acked = false },
		{ "peer's FIN first", .acked = true, .peer_fin = true },
		{ "idle", .acked = true, .idle = true },
		{ "shut down", .shut = true },
		{ "connecting", .connecting = true },
		{ "the listener", .listener = true },
		{ "a socket never connected", .fresh = true },
		{ "no buffer", .null_buf = true },
		{ "nothing", .empty = true },
		{ "the socket's TCP_NOTSENT_LOWAT", .opt_lowat = true },
		{ "the stack's tcp_notsent_lowat", .stack_lowat = true },
		{ "a small ring", .small_ring = true },
		{ "memory exhausted", .exhausted = true },
	};
	SHAPES_COMPARE("send()", shapes, run_sending);
}

/* ---- the small write's short way (io.c, send_small) ----
 * A write of 16 to 64 bytes by a connection with its extension and no
 * send ring, whose ring comes from the cache, takes the ring and copies
 * in line. Each shape breaks one of its conditions (sizes 15 and 65, a
 * ring held, with two in the cache before, no extension left, no
 * memory, a send buffer the cache's size is not for) or takes it three
 * times (acknowledged: the ring goes back between the writes). The bytes the ring holds after each write
 * are checked, and with tcp_stack.no_fastpath the events, counters and
 * each call's value must be the same. */
static void test_send_small(void **state)
{
	(void)state;
	static const sending shapes[] = {
		{ "15 bytes", .acked = true, .size = 15 },
		{ "16 bytes", .acked = true, .size = 16 },
		{ "17 bytes", .acked = true, .size = 17 },
		{ "32 bytes", .acked = true, .size = 32 },
		{ "33 bytes", .acked = true, .size = 33 },
		{ "64 bytes", .acked = true, .size = 64 },
		{ "65 bytes", .acked = true, .size = 65 },
		{ "40 bytes, a ring held", .size = 40 },
		{ "40 bytes, a ring held, two cached", .size = 40, .read_first = true },
		{ "40 bytes, read first", .acked = true, .size = 40, .read_first = true },
		{ "40 bytes, idle", .acked = true, .idle = true, .size = 40 },
		{ "40 bytes, memory exhausted", .exhausted = true, .size = 40 },
		{ "40 bytes, a small send buffer", .acked = true, .small_ring = true, .size = 40 },
		{ "40 bytes, peer's FIN first", .acked = true, .peer_fin = true, .size = 40 },
	};
	SHAPES_COMPARE("a small send()", shapes, run_sending);
}

/* ---- a read that empties the receive ring (mem.c,
 * tcb_release_rcv_emptied) ----
 * The peer sends S 10 bytes in one shape and S reads them; the ring's
 * release has a short way, whose conditions each shape breaks: a send
 * ring held (S's 100 bytes unacknowledged, or reserved and empty: then
 * the release gives it back too), SACK state left (their ACK
 * came after the peer's bytes, which the ring held), bytes held out of
 * order (without SACK too: then no SACK state is in use), memory
 * pressure (the ring made small, its release not to the cache, the
 * pressure ending). With tcp_stack.no_fastpath the events, counters,
 * the bytes read and what the stack holds after each read must be the
 * same. */
typedef struct reading {
	const char *name;
	bool plain;               /* no SACK, timestamps, window scaling, ECN */
	bool wrote;               /* S's 100 bytes first */
	bool reserved;            /* S's send ring reserved first
				   * (hsk_send_reserve), nothing committed:
				   * held, empty */
	bool acked;               /* acknowledged after the peer's bytes came */
	bool ooo;                 /* 10 bytes beyond a gap first */
	bool pressure;            /* tcp_mem_pressure and low reached */
	size_t first;             /* the first read's size (0: all) */
	size_t size;              /* the peer's bytes (0: 10) */
	bool wrapped;             /* they lie across the ring's end */
	bool small_mss;           /* S's MSS 32: a read opens a window step */
	bool again;               /* a second exchange, read the same way */
} reading;

/* Byte i of the stream the wrapped shape sends. */
static uint8_t stream_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* The peer sends S bytes [from, from + n) of the stream. */
static void send_stream(peer *p, size_t from, size_t n)
{
	static uint8_t chunk[1000];
	assert_true(n <= sizeof(chunk));
	for (size_t i = 0; i < n; i++)
		chunk[i] = stream_byte(from + i);
	peer_send(p, (uint32_t)from, 0, HSK_TH_ACK | HSK_TH_PSH, 2000, chunk, n);
	sim_run(&p->sm, 1 * MS);
}

/* The wrapped shape's ring: the stream's first 10 bytes kept unread
 * while the ring's head moves on to 20 bytes short of its end (the
 * ring is of the cached size: its release may be the cache's), then 30
 * more: the 40 ready lie across the end. They are read, and checked. */
static void read_wrapped(peer *p, char *line, size_t cap, int *n)
{
	size_t ring = p->st->tcp.ring_cache_cap, sent = 10, head = 0;
	send_stream(p, 0, 10);
	uint8_t buf[1000];
	while (head < ring - 20) {
		size_t k = ring - 20 - head < sizeof(buf) ? ring - 20 - head : sizeof(buf);
		send_stream(p, sent, k);
		sent += k;
		assert_int_equal(hsk_recv(p->st, p->sd, buf, k), (long)k);
		for (size_t i = 0; i < k; i++)
			assert_int_equal(buf[i], stream_byte(head + i));
		head += k;
	}
	send_stream(p, sent, 30);
	const hsk_ring *r = &p->st->socks[p->sd].t->act->rcv;
	assert_true(r->cap == ring && r->head + ring_len(r) > r->cap && ring_len(r) == 40);
	long got = hsk_recv(p->st, p->sd, buf, 128);
	assert_int_equal(got, 40);
	for (size_t i = 0; i < 40; i++)
		assert_int_equal(buf[i], stream_byte(head + i));
	*n += snprintf(line + *n, cap - (size_t)*n, " wrapped %ld (%u held, %u cached, %u kept)",
		       got, (unsigned)p->st->tcp.buffer_bytes, p->st->tcp.ring_cache_n,
		       p->st->tcp.act_idle_n);
}

static void run_reading(const void *pv, bool slow, outcome *out)
{
	const reading *v = pv;
	peer p;
	peer_open(&p, v->plain, slow, 4249);
	if (v->wrote)
		peer_write(&p);
	if (v->reserved) {
		void *room;
		assert_true(hsk_send_reserve(p.st, p.sd, &room) > 0);
	}
	if (v->pressure)
		p.st->env.cfg.tcp_mem_pressure = p.st->env.cfg.tcp_mem_low =
			p.st->tcp.buffer_bytes + 1;
	if (v->small_mss)
		p.st->socks[p.sd].t->mss = 32;
	char line[512];
	int n = snprintf(line, sizeof(line), "reads:");
	if (v->wrapped) {
		read_wrapped(&p, line, sizeof(line), &n);
		peer_abort_end(&p, out, line);
		return;
	}
	size_t size = v->size ? v->size : 10;
	if (v->ooo)
		peer_send(&p, (uint32_t)size + 10, 0, HSK_TH_ACK, 2000, text, 10);
	for (int x = 0; x < (v->again ? 2 : 1); x++) {
		uint32_t dseq = (uint32_t)(x * size);
		peer_send(&p, dseq, 0, HSK_TH_ACK | HSK_TH_PSH, 2000, text, size);
		sim_run(&p.sm, 7 * MS);
		if (v->acked) {         /* (the ring held: the SACK state stays) */
			peer_send(&p, dseq + (uint32_t)size, 100, HSK_TH_ACK, 2000, NULL, 0);
			sim_run(&p.sm, 7 * MS);
		}
		/* (the buffer between two guards, all poisoned before each
		 * read: a copy must write the bytes read and no other) */
		uint8_t area[16 + 128 + 16], *buf = area + 16, poison[16];
		memset(poison, 0xa5, sizeof(poison));
		for (int i = 0; i < 2; i++) {
			size_t len = i == 0 && v->first ? v->first : 128;
			memset(area, 0xa5, sizeof(area));
			long r = hsk_recv(p.st, p.sd, buf, len);
			assert_memory_equal(area, poison, 16);
			assert_memory_equal(buf + (r > 0 ? r : 0), poison, 16);
			const tcb *t = p.st->socks[p.sd].t;
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      " %ld (%u held, %u cached, %u kept, pressure %d, SACK %d)", r,
				      (unsigned)p.st->tcp.buffer_bytes, p.st->tcp.ring_cache_n,
				      p.st->tcp.act_idle_n, p.st->tcp.mem_pressure,
				      t->act && t->act->sack_on);
			if (r > 0)
				assert_memory_equal(buf, text + (i && v->first ? v->first : 0),
						    (size_t)r);
		}
		sim_run(&p.sm, 7 * MS);
	}
	peer_abort_end(&p, out, line);
}

static void test_read_empties_ring(void **state)
{
	(void)state;
	static const reading shapes[] = {
		{ .name = "all" },
		{ "in two reads", .first = 4 },
		{ "a send ring held", .wrote = true },
		{ "a send ring reserved, empty", .reserved = true },
		{ "SACK state left", .wrote = true, .acked = true },
		{ "out of order held", .ooo = true },
		{ "out of order held, plain", .ooo = true, .plain = true },
		{ "memory pressure", .pressure = true },
	};
	SHAPES_COMPARE("a read that empties the ring", shapes, run_reading);
}

/* ---- the small read's short way (io.c, recv_small) ----
 * A read that takes all the ready bytes, 16 to 64 of them in one piece,
 * and whose ring's release is the cache's, copies them in line and ends
 * without a call unless the window opens by a step or the extension goes
 * on the kept list. Each shape breaks one of its conditions (sizes 15
 * and 65, a read that leaves a byte, the bytes across the ring's end,
 * a send ring held, SACK state left, bytes out of order, memory
 * pressure) or takes one of its ends: a window worth telling (S's MSS
 * made 32: the step is 32 bytes), the extension kept at the first read
 * and the newest kept at the second (again). The bytes read, the events
 * and counters, and what the stack holds and keeps after each read must
 * be the same with tcp_stack.no_fastpath. */
static void test_read_small(void **state)
{
	(void)state;
	static const reading shapes[] = {
		{ "15 bytes", .size = 15 },
		{ "16 bytes", .size = 16 },
		{ "17 bytes", .size = 17 },
		{ "32 bytes", .size = 32 },
		{ "33 bytes", .size = 33 },
		{ "64 bytes", .size = 64 },
		{ "65 bytes", .size = 65 },
		{ "64 bytes, the first read 63", .size = 64, .first = 63 },
		{ "64 bytes, the first read 20", .size = 64, .first = 20 },
		{ "40 bytes, wrapped", .wrapped = true },
		{ "40 bytes, a send ring held", .size = 40, .wrote = true },
		{ "40 bytes, SACK state left", .size = 40, .wrote = true, .acked = true },
		{ "40 bytes, out of order held", .size = 40, .ooo = true },
		{ "40 bytes, memory pressure", .size = 40, .pressure = true },
		{ "40 bytes, a window worth telling", .size = 40, .small_mss = true },
		{ "40 bytes twice", .size = 40, .again = true },
		{ "40 bytes twice, plain", .size = 40, .again = true, .plain = true },
	};
	SHAPES_COMPARE("a small read", shapes, run_reading);
}

/* ---- the clock hook's test of close()'s and send()'s usual cases ----
 * S's accepted connection, its 100 bytes acknowledged, quiet and
 * untraced: every other condition of close()'s and send()'s short ways
 * holds. With a clock hook that is ahead of the stack's clock (the
 * driver forgot hsk_stack_advance), the general way's check counts
 * StaleClock and, with assertions on, aborts: in a child process. */
#ifdef NDEBUG
static const bool asserts_on = false;
#else
static const bool asserts_on = true;
#endif

static uint64_t stale_clock(void *ctx)
{
	return ((const hsk_stack *)ctx)->env.now + 1;
}

enum stale_call { STALE_CLOSE, STALE_SEND, STALE_ACCEPT };

/* The call (on the usual connection; accept(): on its listener, the
 * connection queued) at a stale clock, in a child: counted, or fatal with
 * assertions on. */
static void expect_stale_call(enum stale_call call)
{
	peer p;
	if (call == STALE_ACCEPT) {
		peer_open_queued(&p, false, false, 4250);
		sim_run(&p.sm, 7 * MS);
	} else {
		peer_open(&p, false, false, 4250);
		peer_write(&p);
		peer_send(&p, 0, 100, HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
	}
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		hsk_config *c = &p.st->env.cfg;
		c->trace = NULL;
		c->clock = stale_clock;
		c->clock_ctx = p.st;
		c->clock_slack_ns = 0;
		bool ok = call == STALE_SEND ? hsk_send(p.st, p.sd, text, 10) == 10 :
			  call == STALE_CLOSE ? hsk_close(p.st, p.sd) == 0 :
						hsk_accept(p.st, p.lsd, NULL) >= 0;
		_exit(ok && hsk_counter_by_name(p.st, "StaleClock") == 1 ? 0 : 3);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	bool counted = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	bool aborted = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
	assert_true(asserts_on ? aborted : counted);
	if (call == STALE_ACCEPT) {
		p.sd = hsk_accept(p.st, p.lsd, NULL);
		assert_true(p.sd >= 0);
	}
	outcome o;
	peer_abort_end(&p, &o, "");
	outcome_free(&o);
}

static void test_close_stale_clock(void **state)
{
	(void)state;
	expect_stale_call(STALE_CLOSE);
}

static void test_send_stale_clock(void **state)
{
	(void)state;
	expect_stale_call(STALE_SEND);
}

static void test_accept_stale_clock(void **state)
{
	(void)state;
	expect_stale_call(STALE_ACCEPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_usual),
		cmocka_unit_test(test_accept_usual),
		cmocka_unit_test(test_kept_list),
		cmocka_unit_test(test_send_usual),
		cmocka_unit_test(test_send_small),
		cmocka_unit_test(test_read_empties_ring),
		cmocka_unit_test(test_read_small),
		cmocka_unit_test(test_close_stale_clock),
		cmocka_unit_test(test_send_stale_clock),
		cmocka_unit_test(test_accept_stale_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
