/*
 * The timer wheel's deferred filing (src/core/wheel.c: wheel_arm() puts a
 * timer on a pending list, placed when the wheel is next read) changes
 * nothing anyone can see: the same workload, run once as the stack runs
 * and once with hsk_wheel.file_now on both hosts (every arm placed at
 * once, as before), gives the same trace, event for event and field for
 * field (segments, options, states, congestion samples, at the same
 * virtual times), the same counters on both hosts and the same bytes.
 *
 * The workload (after tests/sim/test_shortcuts.c): connections opened at
 * the same instant (their timers tie, and ties go in arming order), each
 * a few rounds of a request and a response of random sizes with pauses,
 * some with keepalive on in the pauses, long enough for its probes, then a
 * close by either end; over a network that loses (up to 20 %),
 * duplicates and reorders; with SACK and timestamps on and off, over
 * IPv4 and IPv6. Each application step makes several calls, so that
 * timers move several times between two looks at the wheel.
 *
 * HSK_DEFER_SEEDS=<n> runs more seeds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"
#include "stack/stack.h"
#include "sim.h"

enum { C = 0, S = 1, PORT0 = 5000, MAX_CONN = 24, MAX_ROUNDS = 5 };

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
	bool keepalive;           /* the client's keepalive runs in the pauses */
} wconn;

static void set_file_now(sim *sm, bool on)
{
	for (int i = 0; i < sm->nhosts; i++)
		sm->st[i]->env.wheel.file_now = on;
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
			/* nothing in flight: the probes alone (while data is
			 * in flight they would count as unanswered) */
			if (w->keepalive)
				assert_int_equal(hsk_setsockopt(c, w->csd, HSK_SO_KEEPALIVE, 1), 0);
		}
		break;
	case 2:
		if (sim_now(sm) < w->wake)
			break;
		if (w->keepalive)
			assert_int_equal(hsk_setsockopt(c, w->csd, HSK_SO_KEEPALIVE, 0), 0);
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

/* The workload for `seed`, filing at once or not: its trace, then one
 * line per counter of each host and the bytes moved. */
static char *run(uint64_t seed, int nconn, bool file_now, size_t *len)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sack = seed & 1;
	cfg.timestamps = (seed >> 1) & 1;
	cfg.syn_retries = cfg.synack_retries = cfg.orphan_retries = 15;
	cfg.keepalive_idle_ns = 300 * MS;
	cfg.keepalive_intvl_ns = 70 * MS;
	cfg.keepalive_probes = 9;
	sim sm;
	sim_init(&sm, 2, &cfg, seed);
	if ((seed >> 2) & 1)
		sim_use_ipv6(&sm);
	set_file_now(&sm, file_now);
	static const double losses[] = { 0, 0.03, 0.1, 0.2 };
	memnet_impair imp = {
		.loss = losses[seed % 4], .dup = 0.01, .reorder = 0.03,
		.reorder_ns = 3 * MS, .delay_ns = 2 * MS,
		/* without jitter the connections move in step: more ties */
		.jitter_ns = (seed % 5) && nconn < MAX_CONN ? 1 * MS : 0,
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
			static const uint64_t pauses[] = { 0, 1 * MS, 30 * MS, 100 * MS, 500 * MS };
			x->req[r] = sizes[rng_below(&rng, 6)];
			x->resp[r] = sizes[rng_below(&rng, 6)];
			x->pause[r] = pauses[rng_below(&rng, 5)];
		}
		x->server_closes = rng_below(&rng, 2);
		x->lsd = sim_listen(&sm, S, (uint16_t)(PORT0 + i), 4);
		x->csd = sim_connect(&sm, C, S, (uint16_t)(PORT0 + i));
		x->keepalive = rng_below(&rng, 3) == 0;
	}
	int done = 0;
	for (int step = 0; step < 400000 && done < nconn; step++) {
		sim_run(&sm, 1 * MS);
		done = 0;
		for (int i = 0; i < nconn; i++) {
			/* twice: more events between two looks at the wheel */
			step_conn(&sm, &w[i]);
			step_conn(&sm, &w[i]);
			done += w[i].phase == 4;
		}
	}
	assert_int_equal(done, nconn);
	sim_run(&sm, 130 * SEC);      /* TIME_WAIT passes */
	for (int i = 0; i < nconn; i++)
		assert_int_equal(hsk_close(sm.st[S], w[i].lsd), 0);
	sim_assert_no_leaks(&sm);
	size_t n;
	char *out = serialize(&sm, &n);
	size_t cap = n + 64 * (2 * hsk_counter_count() + MAX_CONN + 1);
	out = realloc(out, cap);
	assert_non_null(out);
	for (size_t i = 0; i < hsk_counter_count(); i++)
		n += (size_t)snprintf(out + n, cap - n, "counter %zu %llu %llu\n", i,
				      (unsigned long long)hsk_counter_get(sm.st[C], i),
				      (unsigned long long)hsk_counter_get(sm.st[S], i));
	for (int i = 0; i < nconn; i++)
		n += (size_t)snprintf(out + n, cap - n, "conn %d rounds %d\n", i, w[i].round);
	assert_true(n < cap);
	*len = n;
	sim_free(&sm);
	return out;
}

static void compare(uint64_t seed, int nconn)
{
	size_t la, lb;
	char *a = run(seed, nconn, false, &la), *b = run(seed, nconn, true, &lb);
	if (la != lb || memcmp(a, b, la)) {
		size_t i = 0, line = 1;
		while (i < la && i < lb && a[i] == b[i])
			line += a[i++] == '\n';
		fprintf(stderr, "seed %llu: traces differ at line %zu\ndeferred: %.300s\n"
			"at once:  %.300s\n", (unsigned long long)seed, line, a + i, b + i);
		fail();
	}
	free(a);
	free(b);
}

static void test_deferred_equals_at_once(void **state)
{
	(void)state;
	const char *env = getenv("HSK_DEFER_SEEDS");
	uint64_t n = env ? (uint64_t)atoll(env) : 12;
	for (uint64_t seed = 1; seed <= n; seed++)
		compare(seed, 6);
}

/* Many connections opened at one instant: their timers tie. */
static void test_deferred_equals_at_once_crowd(void **state)
{
	(void)state;
	for (uint64_t seed = 102; seed <= 103; seed++)
		compare(seed, MAX_CONN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deferred_equals_at_once),
		cmocka_unit_test(test_deferred_equals_at_once_crowd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
