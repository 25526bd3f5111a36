/*
 * The short ways of a connection's life (issue 7) change nothing anyone
 * can see: the workload of test_shortcuts.c, run once with them and once
 * with tcp_stack.conn_long forcing the long ways, gives the same trace,
 * event for event and field for field, at the same virtual times, and
 * the same tables (hsk_stack_conns of both hosts, in its order, every
 * 20 ms of the run).
 *
 * conn_long: a new TCB zeroed and set field by field instead of copied
 * from tcb_fresh; a request's TCB and a TCB's TIME_WAIT entry leaving and
 * entering the table in two steps instead of one tbl_replace.
 *
 * The workload: four connections (or 80), each a few rounds of a request and a
 * response of random sizes (a few bytes to 60 KB), pauses between the
 * rounds, then a close by either end; over a network that loses,
 * duplicates and reorders; with SACK and timestamps on and off, over
 * IPv4 and IPv6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"
#include "stack/stack.h"
#include "sim.h"

enum { C = 0, S = 1, PORT0 = 5000, MAX_CONN = 80, MAX_ROUNDS = 5 };

typedef struct knobs {
	bool conn_long;
} knobs;

typedef struct wconn {
	int lsd, csd, ssd;
	int round, rounds;
	size_t req[MAX_ROUNDS], resp[MAX_ROUNDS];
	uint64_t pause[MAX_ROUNDS];
	size_t sent, got;         /* of the current message */
	int phase;                /* 0 request, 1 response, 2 pause, 3 close, 4 done */
	uint64_t wake;
	bool server_closes;
	bool closer_closed, other_closed;
} wconn;

static void set_knobs(sim *sm, const knobs *k)
{
	for (int i = 0; i < sm->nhosts; i++)
		sm->st[i]->tcp.conn_long = k->conn_long;
}

/* Moves bytes from one end to the other: true once all `total` arrived. */
static bool pump_msg(hsk_stack *from, int fsd, hsk_stack *to, int tsd, size_t total,
		     wconn *w)
{
	static uint8_t buf[8192];
	while (w->sent < total) {
		size_t n = total - w->sent < sizeof(buf) ? total - w->sent : sizeof(buf);
		memset(buf, (int)(w->sent & 0xff), n);
		long r = hsk_send(from, fsd, buf, n);
		if (r <= 0)
			break;
		w->sent += (size_t)r;
	}
	long r;
	while ((r = hsk_recv(to, tsd, buf, sizeof(buf))) > 0)
		w->got += (size_t)r;
	return w->got == total;
}

static void step_conn(sim *sm, wconn *w)
{
	hsk_stack *c = sm->st[C], *s = sm->st[S];
	uint8_t buf[4096];
	if (w->ssd < 0) {
		w->ssd = hsk_accept(s, w->lsd, NULL);
		if (w->ssd < 0)
			return;
	}
	switch (w->phase) {
	case 0:
		if (pump_msg(c, w->csd, s, w->ssd, w->req[w->round], w)) {
			w->sent = w->got = 0;
			w->phase = 1;
		}
		break;
	case 1:
		if (pump_msg(s, w->ssd, c, w->csd, w->resp[w->round], w)) {
			w->sent = w->got = 0;
			w->wake = sim_now(sm) + w->pause[w->round];
			w->phase = 2;
		}
		break;
	case 2:
		if (sim_now(sm) < w->wake)
			break;
		w->phase = ++w->round < w->rounds ? 0 : 3;
		break;
	case 3: {
		hsk_stack *cl = w->server_closes ? s : c, *ot = w->server_closes ? c : s;
		int csd = w->server_closes ? w->ssd : w->csd;
		int osd = w->server_closes ? w->csd : w->ssd;
		if (!w->closer_closed) {
			assert_int_equal(hsk_close(cl, csd), 0);
			w->closer_closed = true;
		}
		long r = hsk_recv(ot, osd, buf, sizeof(buf));
		if (r == 0) {
			assert_int_equal(hsk_close(ot, osd), 0);
			w->phase = 4;
		}
		break;
	}
	default:
		break;
	}
}

/* One line per event, every field that is not a pointer (the log keeps
 * the cause or drop reason as text; the TOS byte is noted for TX only). */
static char *serialize(const sim *sm, size_t *len)
{
	size_t cap = sm->nlog * 400 + 1, n = 0;
	char *out = malloc(cap);
	assert_non_null(out);
	for (size_t i = 0; i < sm->nlog; i++) {
		const sim_ev *e = &sm->log[i];
		const hsk_trace_event *v = &e->ev;
		n += (size_t)snprintf(out + n, cap - n,
			"%d %llu k%u o%u sd%d %08x:%u %08x:%u f%u %u>%u [%s] fl%02x %u %u "
			"len%u win%u mss%u ws%d %d%d ts%u/%u ns%u %u-%u fo%d "
			"cw%u ss%u fl%u sw%u srtt%llu rto%llu b%u r%d q%u/%u/%u %s tos%u\n",
			e->host, (unsigned long long)v->t_ns, v->kind, v->obj, v->sd,
			v->tuple.laddr, v->tuple.lport, v->tuple.raddr, v->tuple.rport,
			v->family, v->from, v->to, e->cause, v->flags, v->seq, v->ack,
			v->len, v->win, v->mss, v->wscale, v->sack_ok, v->has_ts, v->ts_val,
			v->ts_ecr, v->nsack, v->nsack ? v->sack[0].left : 0,
			v->nsack ? v->sack[0].right : 0, v->fastopen, v->cwnd, v->ssthresh,
			v->flight, v->snd_wnd, (unsigned long long)v->srtt_ns,
			(unsigned long long)v->rto_ns, v->backoff, v->in_recovery, v->syn_q,
			v->accept_q, v->backlog, v->reason ? v->reason : "-",
			v->kind == HSK_EV_TX ? e->tos : 0);
		assert_true(n < cap);
	}
	*len = n;
	return out;
}

/* hsk_stack_conns of both hosts, appended to snap. */
static char *snap;
static size_t snap_len, snap_cap;

static void snap_conn(void *ctx, const hsk_conn_info *ci)
{
	int host = (int)(intptr_t)ctx;
	if (snap_cap - snap_len < 256) {
		snap_cap = snap_cap ? 2 * snap_cap : 1 << 16;
		snap = realloc(snap, snap_cap);
		assert_non_null(snap);
	}
	snap_len += (size_t)snprintf(snap + snap_len, snap_cap - snap_len,
		"%d o%u s%u sd%d %08x:%u %08x:%u f%u %02x%02x q%u/%u\n", host, ci->obj,
		ci->state, ci->sd, ci->tuple.laddr, ci->tuple.lport, ci->tuple.raddr,
		ci->tuple.rport, ci->family, ci->raddr6[14], ci->raddr6[15], ci->send_q,
		ci->recv_q);
}

static void snapshot(sim *sm)
{
	for (int h = 0; h < sm->nhosts; h++)
		hsk_stack_conns(sm->st[h], snap_conn, (void *)(intptr_t)h);
}

/* The workload for `seed` with the switches `k`: its trace. */
static char *run(uint64_t seed, int nconn, const knobs *k, size_t *len)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sack = seed & 1;
	cfg.timestamps = (seed >> 1) & 1;
	cfg.syn_retries = cfg.synack_retries = cfg.orphan_retries = 15;
	sim sm;
	sim_init(&sm, 2, &cfg, seed);
	if ((seed >> 2) & 1)
		sim_use_ipv6(&sm);
	set_knobs(&sm, k);
	memnet_impair imp = {
		.loss = (seed % 3) ? 0.03 : 0, .dup = 0.01, .reorder = 0.03,
		.reorder_ns = 3 * MS, .delay_ns = 2 * MS, .jitter_ns = 1 * MS,
	};
	memnet_set_impair(sm.net, C, &imp);
	memnet_set_impair(sm.net, S, &imp);
	hsk_rng rng;
	rng_seed(&rng, seed * 7919);
	static wconn w[MAX_CONN];
	assert_true(nconn <= MAX_CONN);
	for (int i = 0; i < nconn; i++) {
		wconn *x = &w[i];
		memset(x, 0, sizeof(*x));
		x->ssd = -1;
		x->rounds = 1 + (int)rng_below(&rng, MAX_ROUNDS);
		for (int r = 0; r < x->rounds; r++) {
			static const size_t sizes[] = { 1, 64, 700, 1460, 3000, 60000 };
			static const uint64_t pauses[] = { 0, 1 * MS, 10 * MS, 100 * MS };
			x->req[r] = sizes[rng_below(&rng, 6)];
			x->resp[r] = sizes[rng_below(&rng, 6)];
			x->pause[r] = pauses[rng_below(&rng, 4)];
		}
		x->server_closes = rng_below(&rng, 2);
		x->lsd = sim_listen(&sm, S, (uint16_t)(PORT0 + i), 4);
		x->csd = sim_connect(&sm, C, S, (uint16_t)(PORT0 + i));
	}
	int done = 0;
	for (int step = 0; step < 200000 && done < nconn; step++) {
		sim_run(&sm, 1 * MS);
		if (step % 20 == 0)
			snapshot(&sm);
		done = 0;
		for (int i = 0; i < nconn; i++) {
			step_conn(&sm, &w[i]);
			done += w[i].phase == 4;
		}
	}
	assert_int_equal(done, nconn);
	snapshot(&sm);
	sim_run(&sm, 130 * SEC);      /* TIME_WAIT passes */
	for (int i = 0; i < nconn; i++)
		assert_int_equal(hsk_close(sm.st[S], w[i].lsd), 0);
	sim_assert_no_leaks(&sm);
	char *out = serialize(&sm, len);
	sim_free(&sm);
	out = realloc(out, *len + snap_len + 1);
	assert_non_null(out);
	memcpy(out + *len, snap, snap_len);
	*len += snap_len;
	snap_len = 0;
	return out;
}

static void compare(uint64_t seed, int nconn, const knobs *slow)
{
	static const knobs fast = { 0 };
	size_t la, lb;
	char *a = run(seed, nconn, &fast, &la), *b = run(seed, nconn, slow, &lb);
	if (getenv("SHORTCUTS_DEBUG"))
		fprintf(stderr, "seed %llu: %zu bytes of trace\n", (unsigned long long)seed, la);
	if (la != lb || memcmp(a, b, la)) {
		size_t i = 0, line = 1;
		while (i < la && i < lb && a[i] == b[i])
			line += a[i++] == '\n';
		fprintf(stderr, "seed %llu: traces differ at line %zu\nfast: %.300s\nslow: %.300s\n",
			(unsigned long long)seed, line, a + i, b + i);
		fail();
	}
	free(a);
	free(b);
}

static void test_conn_long(void **state)
{
	(void)state;
	const knobs slow = { .conn_long = true };
	/* HSK_SHORTCUT_SEEDS=N: more seeds (a longer run by hand) */
	const char *env = getenv("HSK_SHORTCUT_SEEDS");
	uint64_t n = env ? (uint64_t)atoll(env) : 16;
	for (uint64_t seed = 1; seed <= n; seed++)
		compare(seed, 4, &slow);
}

static void test_conn_long_many(void **state)
{
	(void)state;
	const knobs slow = { .conn_long = true };
	for (uint64_t seed = 1; seed <= 3; seed++)
		compare(seed, MAX_CONN, &slow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conn_long),
		cmocka_unit_test(test_conn_long_many),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	free(snap);
	return r;
}
