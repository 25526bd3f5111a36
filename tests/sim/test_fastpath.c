/*
 * The receive side's short ways change nothing: header prediction
 * (arrive.c: a pure ACK of new data, in-order data at RCV.NXT) and the
 * loss-free ACK of the SACK recovery (recovery.c: rec_quiet_ack,
 * rack_on_cum_ack) must do exactly what the general steps do. Each run
 * here is made twice with the same seed, once as the stack runs and once
 * with tcp_stack.no_fastpath on both hosts (every segment through the
 * general steps), over a network that loses, duplicates, reorders,
 * delays and corrupts packets, with SACK, timestamps, window scaling and
 * ECN on and off, small and large receive buffers (zero windows, window
 * updates), and applications that write and read in random pieces (some
 * of them urgent data) and sometimes stop reading. Every trace event of both hosts (each segment
 * sent, received and dropped with all its fields and options, each
 * state change, the congestion state after each segment sent), every
 * counter and, after each tick, the loss recovery state of each open
 * connection (RACK's records and state, the scoreboard, the reordering
 * and probe timers: what the trace does not show, and what a later loss
 * would be judged by) must be the same, byte for byte, and every byte
 * must arrive.
 *
 * The single short ways' shapes, each against the steps, are in
 * test_fast_handshake, test_fast_fin and test_fast_calls; the outcome and
 * its comparison, which these runs share with them, in tests/support
 * (shapes.h).
 *
 * HSK_FASTPATH_RUNS=<n> sets the runs per mode, HSK_SEED_OFFSET=<k> moves
 * their seeds (sim.h); SIM_PRINT=1 traces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "core/rand.h"
#include "sim.h"
#include "stack/stack.h"
#include "shapes.h"

enum { PORT = 9, CONNS = 6 };

#if defined(__SANITIZE_ADDRESS__)
enum { DEFAULT_RUNS = 10 };
#else
enum { DEFAULT_RUNS = 80 };
#endif

typedef struct mode {
	const char *name;
	bool sack, ts, wscale;
	uint8_t ecn;
} mode;

typedef struct end {
	int sd;
	size_t out_len, out_off;  /* pattern bytes to write, written */
	size_t in_len;            /* bytes read (checked against the pattern) */
	size_t chunk;             /* at most this much per hsk_send */
	size_t rchunk;            /* at most this much per hsk_recv */
	bool shut, eof, closed, bad;
	unsigned lazy;            /* 1 in lazy polls reads nothing */
	uint64_t linger;          /* ns between the last write and the
				   * shutdown (the data flows in ESTABLISHED) */
	uint64_t written_at;      /* when the last byte was written, or 0 */
} end;

typedef struct app {
	sim *sm;
	hsk_rng rng;
	int lsd;
	end cli[CONNS], srv[CONNS];
	int nsrv;
	bool force;               /* nothing happened for a tick: all read */
	char rec_last[2][CONNS][4096]; /* each end's last rec_text */
	char **rec;               /* rec_text lines, when they changed */
	size_t nrec, caprec;
} app;

/* Byte i of every stream. */
static uint8_t pat(size_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull;
	x ^= x >> 31;
	return (uint8_t)(x * 0xbf58476d1ce4e5b9ull >> 40);
}

static void end_init(app *a, end *e)
{
	/* Mostly exchanges of a few hundred bytes, some bulk. */
	switch (rng_below(&a->rng, 4)) {
	case 0:
		e->out_len = 0;
		break;
	case 1:
		e->out_len = 1 + rng_below(&a->rng, 300);
		break;
	case 2:
		e->out_len = 1 + rng_below(&a->rng, 6000);
		break;
	default:
		e->out_len = 1 + rng_below(&a->rng, 200000);
		break;
	}
	e->chunk = 1 + rng_below(&a->rng, 3) * 700 + rng_below(&a->rng, 9000);
	e->rchunk = 1 + rng_below(&a->rng, 5000);
	e->lazy = rng_below(&a->rng, 3) == 0 ? 2 + rng_below(&a->rng, 3) : 0;
	static const uint64_t linger[] = { 0, 20 * MS, 300 * MS, 3 * SEC };
	e->linger = linger[rng_below(&a->rng, 4)];
}

static void end_poll(app *a, hsk_stack *st, end *e)
{
	uint8_t buf[8192];
	if (e->closed)
		return;
	while (e->out_off < e->out_len) {
		size_t n = e->out_len - e->out_off;
		if (n > e->chunk)
			n = e->chunk;
		if (n > sizeof(buf))
			n = sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pat(e->out_off + i);
		/* an end with an odd chunk writes every third piece as urgent
		 * data (urgent.c: URG takes the steps, urgent mode the send
		 * loop), its bytes in line all the same */
		int fl = (e->chunk & 1) && (e->out_off / e->chunk) % 3 == 0 ? HSK_MSG_OOB : 0;
		long w = hsk_sendto(st, e->sd, buf, n, fl, 0, 0);
		if (w <= 0) {
			if (w != -HSK_EAGAIN && w != -HSK_ENOTCONN)
				e->bad = true;  /* ENOTCONN: still connecting */
			break;
		}
		e->out_off += (size_t)w;
	}
	uint64_t now = sim_now(a->sm);
	if (e->out_off == e->out_len && !e->written_at)
		e->written_at = now;
	if (e->written_at && !e->shut && now >= e->written_at + e->linger) {
		int r = hsk_shutdown(st, e->sd, HSK_SHUT_WR);
		if (r == 0)
			e->shut = true;
		else if (r != -HSK_ENOTCONN)
			e->bad = true;
	}
	if (a->force || !e->lazy || rng_below(&a->rng, e->lazy)) {
		for (;;) {
			size_t cap = e->rchunk < sizeof(buf) ? e->rchunk : sizeof(buf);
			long n = hsk_recv(st, e->sd, buf, cap);
			if (n > 0) {
				for (long i = 0; i < n; i++)
					if (buf[i] != pat(e->in_len + (size_t)i))
						e->bad = true;
				e->in_len += (size_t)n;
				continue;
			}
			if (n == 0)
				e->eof = true;
			else if (n != -HSK_EAGAIN && n != -HSK_ENOTCONN)
				e->bad = true;
			break;
		}
	}
	if (e->eof && e->shut) {
		assert_int_equal(hsk_close(st, e->sd), 0);
		e->closed = true;
	}
}

static void app_poll(app *a)
{
	hsk_stack *cs = a->sm->st[C], *ss = a->sm->st[S];
	for (;;) {
		int sd = hsk_accept(ss, a->lsd, NULL);
		if (sd < 0)
			break;
		assert_true(a->nsrv < CONNS);
		end *e = &a->srv[a->nsrv++];
		e->sd = sd;
	}
	for (int i = 0; i < a->nsrv; i++)
		end_poll(a, ss, &a->srv[i]);
	for (int i = 0; i < CONNS; i++)
		end_poll(a, cs, &a->cli[i]);
}

/* The loss recovery state of a connection as text: RACK's records and
 * state, the scoreboard, the timers; "-" without SACK state. */
static void rec_text(const tcb *t, char *out, size_t cap)
{
	const tcp_sack *k = tcb_sack(t);
	if (!k) {
		snprintf(out, cap, "-");
		return;
	}
	const rack *r = &k->rk;
	int n = snprintf(out, cap,
			 "una=%u max=%u seg=%d n=%u bytes=%u sacked=%u/%u lost=%u rx=%u "
			 "ts=%d:%llu:%u rtt=%llu fack=%d:%u reo=%llu dsr=%d:%u mult=%u/%u "
			 "reord=%d tlp=%d:%d:%u board=%u:%d:%u:%u reo_at=%llu tlp_at=%llu",
			 t->snd_una.v, t->snd_max.v, k->seg != NULL, r->count, r->bytes,
			 r->sacked_bytes, r->segs_sacked, r->lost_bytes, r->retrans_segs,
			 r->have_ts, (unsigned long long)(r->have_ts ? r->xmit_ts : 0),
			 r->have_ts ? r->end_seq.v : 0, (unsigned long long)r->rtt, r->have_fack,
			 r->have_fack ? r->fack.v : 0, (unsigned long long)r->reo_wnd,
			 r->dsack_round_on, r->dsack_round.v, r->reo_wnd_mult, r->reo_wnd_persist,
			 r->reordering_seen, r->tlp_on, r->tlp_is_retrans, r->tlp_end_seq.v,
			 k->board.n, k->board.overflowed, k->board.sacked, k->board.high_rxt.v,
			 (unsigned long long)k->reo_at, (unsigned long long)k->tlp_at);
	for (uint32_t i = 0; i < r->count && n > 0 && (size_t)n < cap; i++) {
		const rack_seg *g = &r->seg[(r->head + i) & (r->cap - 1)];
		n += snprintf(out + n, cap - (size_t)n, " %u-%u@%llu/%u", g->start.v, g->end.v,
			      (unsigned long long)g->xmit, g->flags);
	}
}

/* Logs each open end's rec_text when it changed since the last tick. */
static void rec_log(app *a)
{
	for (int h = 0; h < 2; h++) {
		end *ends = h == C ? a->cli : a->srv;
		int n = h == C ? CONNS : a->nsrv;
		for (int i = 0; i < n; i++) {
			int err;
			tcb *t = ends[i].closed ? NULL : conn_of(a->sm->st[h], ends[i].sd, &err);
			if (!t)
				continue;
			char line[4096];
			int m = snprintf(line, sizeof(line), "h%d e%d ", h, i);
			rec_text(t, line + m, sizeof(line) - (size_t)m);
			char *last = a->rec_last[h][i];
			if (strcmp(last, line) == 0)
				continue;
			snprintf(last, sizeof(a->rec_last[h][i]), "%s", line);
			if (a->nrec == a->caprec) {
				a->caprec = a->caprec ? 2 * a->caprec : 256;
				a->rec = realloc(a->rec, a->caprec * sizeof(char *));
				assert_non_null(a->rec);
			}
			a->rec[a->nrec] = strdup(line);
			assert_non_null(a->rec[a->nrec]);
			a->nrec++;
		}
	}
}

static bool all_closed(const app *a)
{
	for (int i = 0; i < CONNS; i++)
		if (!a->cli[i].closed || (i < a->nsrv && !a->srv[i].closed))
			return false;
	return a->nsrv == CONNS;
}

static void run(const mode *md, uint64_t seed, bool slow, outcome *out)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.sack = md->sack;
	cfg.timestamps = md->ts;
	cfg.window_scaling = md->wscale;
	cfg.ecn = md->ecn;
	cfg.syn_retries = cfg.synack_retries = 15;
	cfg.orphan_retries = 15;
	/* every other run a small receive buffer: zero windows, updates */
	if (seed & 1)
		cfg.rcvbuf = 8192 + (uint32_t)(seed % 7) * 4096;
	sim sm;
	sim_init(&sm, 2, &cfg, seed);
	double loss = 0.03 * (double)(seed % 4);        /* 0, 3, 6, 9 % */
	memnet_impair imp = {
		.loss = loss, .dup = 0.02, .reorder = 0.05, .reorder_ns = 3 * MS,
		.corrupt = seed % 3 == 1 ? 0.01 : 0, .delay_ns = 5 * MS,
		/* jitter reorders most segments; without, 5 % are */
		.jitter_ns = seed % 3 == 2 ? 2 * MS : 0,
	};
	memnet_set_impair(sm.net, C, &imp);
	memnet_set_impair(sm.net, S, &imp);
	if (md->ecn)
		sim_ce_mark(&sm, C, 7), sim_ce_mark(&sm, S, 11);
	for (int h = 0; h < 2; h++)
		sm.st[h]->tcp.no_fastpath = slow;

	app *a = calloc(1, sizeof(*a));
	assert_non_null(a);
	a->sm = &sm;
	rng_seed(&a->rng, seed);
	a->lsd = sim_listen(&sm, S, PORT, 64);
	for (int i = 0; i < CONNS; i++) {
		end_init(a, &a->cli[i]);
		end_init(a, &a->srv[i]);
		a->cli[i].sd = sim_connect(&sm, C, S, PORT);
	}
	uint64_t stop = sim_now(&sm) + 3600 * SEC;
	/* In ticks of at most 10 ms, so that the applications see the time
	 * pass (a tick without an event: every lazy one reads), until every
	 * end has closed; then until nothing is left to do. */
	while (sim_now(&sm) < stop && !all_closed(a)) {
		bool more = memnet_step(sm.net, sim_now(&sm) + 10 * MS);
		hsk_stack_advance(sm.st[C], sim_now(&sm));
		hsk_stack_advance(sm.st[S], sim_now(&sm));
		a->force = !more;
		app_poll(a);
		rec_log(a);
	}
	while (memnet_step(sm.net, stop)) {
		hsk_stack_advance(sm.st[C], sim_now(&sm));
		hsk_stack_advance(sm.st[S], sim_now(&sm));
	}
	sim_sync_clocks(&sm);
	/* Every byte arrived, in order, each way (the server ends were
	 * accepted in some order: match them by what they received). */
	assert_int_equal(a->nsrv, CONNS);
	out->bytes = 0;
	for (int i = 0; i < CONNS; i++) {
		end *c = &a->cli[i];
		assert_true(c->closed && !c->bad);
		out->bytes += c->in_len;
	}
	for (int i = 0; i < a->nsrv; i++) {
		end *e = &a->srv[i];
		assert_true(e->closed && !e->bad);
		out->bytes += e->in_len;
	}
	assert_int_equal(hsk_close(sm.st[S], a->lsd), 0);
	sim_assert_no_leaks(&sm);
	out->rec = a->rec;
	out->nrec = a->nrec;

	events_as_text(&sm, out);
	out->ncnt = 2 * hsk_counter_count();
	out->cnt = calloc(out->ncnt, sizeof(uint64_t));
	assert_non_null(out->cnt);
	for (size_t i = 0; i < hsk_counter_count(); i++) {
		out->cnt[2 * i] = hsk_counter_get(sm.st[C], i);
		out->cnt[2 * i + 1] = hsk_counter_get(sm.st[S], i);
	}
	free(a);
	sim_free(&sm);
}

/* The first n lines of the two runs' logs (events or recovery states)
 * are the same. */
static void same_lines(const mode *md, uint64_t seed, const char *what, char **fast,
		       char **slow, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(fast[i], slow[i]) != 0) {
			fprintf(stderr, "%s seed %llu: %s %zu differs\n  fast: %s\n  slow: %s\n",
				md->name, (unsigned long long)seed, what, i, fast[i], slow[i]);
			fail();
		}
	}
}

/* What the runs of a mode compared. */
typedef struct totals {
	size_t events, bytes, recs;
	uint64_t hp;            /* segments that went header prediction's way */
} totals;

/* One seed run both ways: the same events, recovery states, counters and
 * bytes. */
static void compare_seed(const mode *md, uint64_t seed, totals *tot)
{
	outcome fast, slow;
	run(md, seed, false, &fast);
	run(md, seed, true, &slow);
	same_lines(md, seed, "event", fast.ev, slow.ev, fast.nev < slow.nev ? fast.nev : slow.nev);
	same_lines(md, seed, "recovery state", fast.rec, slow.rec,
		   fast.nrec < slow.nrec ? fast.nrec : slow.nrec);
	if (fast.nrec != slow.nrec) {
		fprintf(stderr, "%s seed %llu: %zu recovery states with the short ways, %zu without\n",
			md->name, (unsigned long long)seed, fast.nrec, slow.nrec);
		fail();
	}
	tot->recs += fast.nrec;
	if (fast.nev != slow.nev) {
		fprintf(stderr, "%s seed %llu: %zu events with the short ways, %zu without\n",
			md->name, (unsigned long long)seed, fast.nev, slow.nev);
		fail();
	}
	same_counters(md->name, seed, &fast, &slow, 2, &tot->hp);
	assert_int_equal(fast.bytes, slow.bytes);
	tot->events += fast.nev;
	tot->bytes += fast.bytes;
	outcome_free(&fast);
	outcome_free(&slow);
}

static void run_mode(const mode *md)
{
	const char *env = getenv("HSK_FASTPATH_RUNS");
	int runs = env ? atoi(env) : DEFAULT_RUNS;
	totals tot = { 0 };
	for (int r = 0; r < runs; r++)
		compare_seed(md, 7000 + sim_env_seed_offset() + (uint64_t)r, &tot);
	fprintf(stderr, "fastpath %s: %d runs, %zu events, %zu recovery states and %zu bytes "
		"the same both ways, %llu segments by header prediction\n", md->name, runs,
		tot.events, tot.recs, tot.bytes, (unsigned long long)tot.hp);
	assert_true(runs == 0 || tot.bytes > 0);
	assert_true(runs == 0 || tot.hp > 0);
	assert_true(runs == 0 || !md->sack || tot.recs > 0);
}

#define MODE_TEST(fn, ...) \
	static void fn(void **state) \
	{ \
		(void)state; \
		static const mode md = { __VA_ARGS__ }; \
		run_mode(&md); \
	}

MODE_TEST(test_sack_ts, "SACK, timestamps", .sack = true, .ts = true, .wscale = true)
MODE_TEST(test_sack_only, "SACK", .sack = true, .ts = false, .wscale = true)
MODE_TEST(test_ts_only, "timestamps", .sack = false, .ts = true, .wscale = true)
MODE_TEST(test_plain, "no SACK, timestamps, window scaling", .sack = false, .ts = false,
	  .wscale = false)
MODE_TEST(test_ecn, "SACK, timestamps, ECN with CE marks", .sack = true, .ts = true,
	  .wscale = true, .ecn = 1)

static const mode sack_ts = { "SACK, timestamps", .sack = true, .ts = true, .wscale = true };
static const mode ecn_ce = { "SACK, timestamps, ECN with CE marks", .sack = true, .ts = true,
			     .wscale = true, .ecn = 1 };

/* Seeds a soak found the two ways differing on, run in every make check
 * (IPv4; HSK_SEED_OFFSET 17965966430000). Both: a timeout with SACK whose
 * undo was still possible, the ACK that took SND.UNA past `recover`
 * taken by the quiet way, which did not ask undo_ack (the general way
 * undid the timeout). The two stopped reaching that ACK as the engine
 * changed around them (mutant undo-quiet-takes-loss-ack survived a
 * later stop's run); 107031 reaches it again today (found by running the
 * mutant over 400 seeds a mode at offset 100000). */
static void test_soak_seeds(void **state)
{
	(void)state;
	totals tot = { 0 };
	compare_seed(&sack_ts, 17965966437067ull, &tot);
	compare_seed(&ecn_ce, 17965966437031ull, &tot);
	compare_seed(&ecn_ce, 107031ull, &tot);
	assert_true(tot.recs > 0 && tot.bytes > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sack_ts),
		cmocka_unit_test(test_sack_only),
		cmocka_unit_test(test_ts_only),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_ecn),
		cmocka_unit_test(test_soak_seeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
