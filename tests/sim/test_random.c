/*
 * Seeded randomized runs: many connections over a network that loses,
 * duplicates, reorders and delays packets. Each client sends a random
 * payload and half-closes; the server echoes everything and closes at EOF;
 * the client checks the echo byte for byte and closes. Invariants: every
 * connection completes with the exact bytes (or fails with a timeout or
 * reset error, which must be rare), no illegal transition happens, and all
 * pools return to zero once TIME_WAIT has passed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"
#include "sim.h"

enum { C = 0, S = 1, PORT = 7, CONNS = 10, MAX_PAYLOAD = 48 * 1024 };

typedef struct app_conn {
	int sd;
	bool server, connected, shut, done;
	int err;
	uint8_t *out;           /* client: payload; server: bytes to echo */
	size_t out_len, out_off;
	uint8_t *in;
	size_t in_len, in_cap;
	bool eof;
} app_conn;

typedef struct app {
	sim *sm;
	int lsd;
	app_conn cli[CONNS];
	app_conn srv[CONNS * 2];
	int nsrv;
	app_conn *by_sd[2][256];
} app;

static void conn_recv(hsk_stack *st, app_conn *c)
{
	for (;;) {
		if (c->in_len == c->in_cap) {
			c->in_cap = c->in_cap ? c->in_cap * 2 : 4096;
			c->in = realloc(c->in, c->in_cap);
		}
		long n = hsk_recv(st, c->sd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0)
			c->eof = true;
		else if (n != -HSK_EAGAIN)
			c->err = (int)-n;
		return;
	}
}

static void conn_send(hsk_stack *st, app_conn *c)
{
	while (c->out_off < c->out_len) {
		long n = hsk_send(st, c->sd, c->out + c->out_off, c->out_len - c->out_off);
		if (n <= 0) {
			if (n != -HSK_EAGAIN)
				c->err = (int)-n;
			return;
		}
		c->out_off += (size_t)n;
	}
}

static void conn_finish(hsk_stack *st, app_conn *c)
{
	hsk_close(st, c->sd);
	c->done = true;
}

static void client_event(app *a, app_conn *c)
{
	hsk_stack *st = a->sm->st[C];
	if (c->done)
		return;
	int ev = hsk_poll(st, c->sd);
	if (ev & HSK_POLLERR) {
		c->err = hsk_sock_error(st, c->sd);
		conn_finish(st, c);
		return;
	}
	if (!c->connected && (ev & HSK_POLLOUT))
		c->connected = true;
	if (!c->connected)
		return;
	conn_send(st, c);
	if (c->out_off == c->out_len && !c->shut) {
		assert_int_equal(hsk_shutdown(st, c->sd, HSK_SHUT_WR), 0);
		c->shut = true;
	}
	conn_recv(st, c);
	if (c->err || c->eof)
		conn_finish(st, c);
}

static void server_event(app *a, app_conn *c)
{
	hsk_stack *st = a->sm->st[S];
	if (c->done)
		return;
	conn_recv(st, c);
	/* Echo what arrived. */
	if (c->in_len > c->out_len) {
		c->out = realloc(c->out, c->in_len);
		memcpy(c->out + c->out_len, c->in + c->out_len, c->in_len - c->out_len);
		c->out_len = c->in_len;
	}
	conn_send(st, c);
	if (c->err) {
		conn_finish(st, c);
		return;
	}
	if (c->eof && c->out_off == c->out_len)
		conn_finish(st, c);
}

static void app_poll(app *a)
{
	hsk_event evs[64];
	size_t n;
	while ((n = hsk_stack_events(a->sm->st[S], evs, 64)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (evs[i].sd == a->lsd) {
				int sd;
				while ((sd = hsk_accept(a->sm->st[S], a->lsd, NULL)) >= 0) {
					assert_true(a->nsrv < CONNS * 2 && sd < 256);
					app_conn *c = &a->srv[a->nsrv++];
					c->sd = sd;
					c->server = true;
					a->by_sd[S][sd] = c;
					server_event(a, c);
				}
				continue;
			}
			app_conn *c = a->by_sd[S][evs[i].sd];
			if (c)
				server_event(a, c);
		}
	}
	while ((n = hsk_stack_events(a->sm->st[C], evs, 64)) > 0)
		for (size_t i = 0; i < n; i++) {
			app_conn *c = evs[i].sd < 256 ? a->by_sd[C][evs[i].sd] : NULL;
			if (c)
				client_event(a, c);
		}
}

struct tally {
	unsigned ok, failed, runs;
	uint64_t bytes, retrans, packets_lost;
};

static void one_run(uint64_t seed, double loss, struct tally *t)
{
	sim sm;
	sim_init(&sm, 2, NULL, seed);
	memnet_impair imp = {
		.loss = loss, .dup = 0.02, .reorder = 0.05, .reorder_ns = 3 * MS,
		.delay_ns = 5 * MS, .jitter_ns = 2 * MS,
	};
	memnet_set_impair(sm.net, C, &imp);
	memnet_set_impair(sm.net, S, &imp);
	hsk_rng rng;
	rng_seed(&rng, seed);

	app *a = calloc(1, sizeof(*a));
	a->sm = &sm;
	a->lsd = sim_listen(&sm, S, PORT, 64);
	for (int i = 0; i < CONNS; i++) {
		app_conn *c = &a->cli[i];
		c->out_len = rng_below(&rng, 4) == 0 ? 0 : (size_t)rng_below(&rng, MAX_PAYLOAD);
		c->out = malloc(c->out_len + 1);
		for (size_t j = 0; j < c->out_len; j++)
			c->out[j] = (uint8_t)rng_next(&rng);
		c->sd = sim_connect(&sm, C, S, PORT);
		assert_true(c->sd < 256);
		a->by_sd[C][c->sd] = c;
	}
	uint64_t end = sim_now(&sm) + 900 * SEC;
	while (memnet_step(sm.net, end)) {
		hsk_stack_advance(sm.st[C], sim_now(&sm));
		hsk_stack_advance(sm.st[S], sim_now(&sm));
		app_poll(a);
	}
	for (int i = 0; i < CONNS; i++) {
		app_conn *c = &a->cli[i];
		if (!c->done)
			fprintf(stderr, "seed %llu conn %d not done\n", (unsigned long long)seed, i);
		assert_true(c->done);
		if (c->err) {
			/* Only a give-up after retries or a reset is acceptable. */
			assert_true(c->err == HSK_ETIMEDOUT || c->err == HSK_ECONNRESET);
			t->failed++;
			continue;
		}
		if (c->in_len != c->out_len || (c->out_len && memcmp(c->in, c->out, c->out_len)))
			fprintf(stderr, "seed %llu conn %d: sent %zu got %zu\n",
				(unsigned long long)seed, i, c->out_len, c->in_len);
		assert_int_equal(c->in_len, c->out_len);
		assert_memory_equal(c->in, c->out, c->out_len);
		t->ok++;
		t->bytes += c->out_len;
	}
	memnet_stats ms;
	memnet_get_stats(sm.net, &ms);
	t->packets_lost += ms.lost;
	t->retrans += sim_counter(&sm, C, "RetransSegs") + sim_counter(&sm, S, "RetransSegs");
	for (int i = 0; i < a->nsrv; i++)
		assert_true(a->srv[i].done);
	assert_int_equal(hsk_close(sm.st[S], a->lsd), 0);
	sim_assert_no_leaks(&sm);
	for (int i = 0; i < CONNS; i++) {
		free(a->cli[i].out);
		free(a->cli[i].in);
	}
	for (int i = 0; i < a->nsrv; i++) {
		free(a->srv[i].out);
		free(a->srv[i].in);
	}
	free(a);
	sim_free(&sm);
	t->runs++;
}

static void test_random_lossy_runs(void **state)
{
	(void)state;
	struct tally t = { 0 };
	const char *env = getenv("HSK_RANDOM_RUNS");
	int runs = env ? atoi(env) : 110;
	const char *only = getenv("HSK_RANDOM_ONLY");   /* debug one run */
	for (int r = only ? atoi(only) : 0; r < runs; r++) {
		double loss = 0.2 * (r % 5) / 4.0;      /* 0, 5, 10, 15, 20 % */
		one_run(1000 + (uint64_t)r, loss, &t);
	}
	fprintf(stderr, "random runs: %u runs, %u connections completed, %u failed, "
		"%llu bytes echoed, %llu packets lost, %llu segments retransmitted\n",
		t.runs, t.ok, t.failed, (unsigned long long)t.bytes,
		(unsigned long long)t.packets_lost, (unsigned long long)t.retrans);
	/* The network really was hostile, and the stack really repaired it. */
	assert_true(t.packets_lost > 0 && t.retrans > 0);
	assert_true(t.ok + t.failed >= (unsigned)runs * CONNS);
	assert_true(t.failed * 100 <= t.ok);     /* failures must be rare */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_lossy_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
