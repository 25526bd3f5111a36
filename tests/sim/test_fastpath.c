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
 * updates), and applications that write and read in random pieces and
 * sometimes stop reading. Every trace event of both hosts (each segment
 * sent, received and dropped with all its fields and options, each
 * state change, the congestion state after each segment sent), every
 * counter and, after each tick, the loss recovery state of each open
 * connection (RACK's records and state, the scoreboard, the reordering
 * and probe timers: what the trace does not show, and what a later loss
 * would be judged by) must be the same, byte for byte, and every byte
 * must arrive.
 *
 * HSK_FASTPATH_RUNS=<n> sets the runs per mode; SIM_PRINT=1 traces.
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

enum { C = 0, S = 1, PORT = 9, CONNS = 6 };

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
		long w = hsk_send(st, e->sd, buf, n);
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

/* One event as text: every field the trace gives. */
static void ev_text(const sim_ev *e, char *out, size_t cap)
{
	const hsk_trace_event *v = &e->ev;
	int n = snprintf(out, cap,
			 "t=%llu h%d k%u o%u sd%d %08x:%u>%08x:%u f%u %u>%u [%s] fl=%02x seq=%u "
			 "ack=%u len=%u win=%u mss=%u ws=%d sok=%d ts=%d/%u/%u nsack=%u",
			 (unsigned long long)v->t_ns, e->host, v->kind, v->obj, v->sd,
			 v->tuple.laddr, v->tuple.lport, v->tuple.raddr, v->tuple.rport,
			 v->family, v->from, v->to, e->cause, v->flags, v->seq, v->ack, v->len,
			 v->win, v->mss, v->wscale, v->sack_ok, v->has_ts, v->ts_val, v->ts_ecr,
			 v->nsack);
	for (unsigned i = 0; i < v->nsack && i < 4 && n > 0 && (size_t)n < cap; i++)
		n += snprintf(out + n, cap - (size_t)n, " %u-%u", v->sack[i].left,
			      v->sack[i].right);
	if (n > 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n,
			 " fo=%d cwnd=%u ssth=%u flight=%u swnd=%u srtt=%llu rto=%llu bo=%u rec=%d "
			 "q=%u/%u/%u tos=%u",
			 v->fastopen, v->cwnd, v->ssthresh, v->flight, v->snd_wnd,
			 (unsigned long long)v->srtt_ns, (unsigned long long)v->rto_ns,
			 v->backoff, v->in_recovery, v->syn_q, v->accept_q, v->backlog,
			 v->kind == HSK_EV_TX ? e->tos : 0);   /* set for TX only */
}

typedef struct outcome {
	char **ev;
	size_t nev;
	char **rec;               /* rec_log's lines */
	size_t nrec;
	uint64_t *cnt;            /* counters of both hosts */
	size_t ncnt;
	size_t bytes;             /* application bytes delivered */
} outcome;

/* The run's trace events, as text, into out. */
static void events_as_text(const sim *sm, outcome *out)
{
	out->nev = sm->nlog;
	out->ev = calloc(sm->nlog ? sm->nlog : 1, sizeof(char *));
	assert_non_null(out->ev);
	for (size_t i = 0; i < sm->nlog; i++) {
		char line[1024];
		ev_text(&sm->log[i], line, sizeof(line));
		out->ev[i] = strdup(line);
		assert_non_null(out->ev[i]);
	}
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

static void outcome_free(outcome *o)
{
	for (size_t i = 0; i < o->nev; i++)
		free(o->ev[i]);
	free(o->ev);
	for (size_t i = 0; i < o->nrec; i++)
		free(o->rec[i]);
	free(o->rec);
	free(o->cnt);
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

/* The two runs' counters (hosts: 2 when both hosts' are interleaved, as
 * run's, or 1) are the same, but for the two that count the segments
 * header prediction took (TCPHPAcks, TCPHPHits, as Linux's): none with
 * no_fastpath, which also shows that the switch turns the short way off.
 * hp, when not NULL, adds up the fast run's. */
static void same_counters(const char *what, uint64_t seed, const outcome *fast,
			  const outcome *slow, size_t hosts, uint64_t *hp)
{
	for (size_t i = 0; i < fast->ncnt; i++) {
		const char *name = hsk_counter_name(i / hosts);
		bool short_way = !strcmp(name, "TCPHPAcks") || !strcmp(name, "TCPHPHits");
		uint64_t want = short_way ? 0 : fast->cnt[i];
		if (slow->cnt[i] != want) {
			fprintf(stderr, "%s seed %llu: host %zu counter %s: %llu with the short "
				"ways, %llu without\n", what, (unsigned long long)seed,
				i % hosts, name, (unsigned long long)fast->cnt[i],
				(unsigned long long)slow->cnt[i]);
			fail();
		}
		if (short_way && hp)
			*hp += fast->cnt[i];
	}
}

static void run_mode(const mode *md)
{
	const char *env = getenv("HSK_FASTPATH_RUNS");
	int runs = env ? atoi(env) : DEFAULT_RUNS;
	size_t events = 0, bytes = 0, recs = 0;
	uint64_t hp = 0;        /* segments that went header prediction's way */
	for (int r = 0; r < runs; r++) {
		uint64_t seed = 7000 + (uint64_t)r;
		outcome fast, slow;
		run(md, seed, false, &fast);
		run(md, seed, true, &slow);
		same_lines(md, seed, "event", fast.ev, slow.ev,
			   fast.nev < slow.nev ? fast.nev : slow.nev);
		same_lines(md, seed, "recovery state", fast.rec, slow.rec,
			   fast.nrec < slow.nrec ? fast.nrec : slow.nrec);
		if (fast.nrec != slow.nrec) {
			fprintf(stderr, "%s seed %llu: %zu recovery states with the short ways, %zu without\n",
				md->name, (unsigned long long)seed, fast.nrec, slow.nrec);
			fail();
		}
		recs += fast.nrec;
		if (fast.nev != slow.nev) {
			fprintf(stderr, "%s seed %llu: %zu events with the short ways, %zu without\n",
				md->name, (unsigned long long)seed, fast.nev, slow.nev);
			fail();
		}
		same_counters(md->name, seed, &fast, &slow, 2, &hp);
		assert_int_equal(fast.bytes, slow.bytes);
		events += fast.nev;
		bytes += fast.bytes;
		outcome_free(&fast);
		outcome_free(&slow);
	}
	fprintf(stderr, "fastpath %s: %d runs, %zu events, %zu recovery states and %zu bytes "
		"the same both ways, %llu segments by header prediction\n", md->name, runs, events,
		recs, bytes, (unsigned long long)hp);
	assert_true(runs == 0 || bytes > 0);
	assert_true(runs == 0 || hp > 0);
	assert_true(runs == 0 || !md->sack || recs > 0);
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

/* ---- the handshake's third ACK (input.c, tcb_input_synrcvd_ack) ----
 * A peer played here opens a connection to host S and sends a third ACK
 * of one shape; the server accepts, writes, is acknowledged once and
 * closes. The same with tcp_stack.no_fastpath (the steps) must give the
 * same events and counters. The pure ACK goes the short way; a window
 * other than the SYN's, TS.Recent moved or not, SO_KEEPALIVE's timer and
 * a SYN cookie's TCB are what it must still get right; text, a FIN, ECE,
 * an extension (TCP_MAXSEG), SACK blocks, a wrong ACK or sequence number
 * must come out as the steps make them. */
typedef struct third {
	const char *name;
	uint8_t flags;            /* beside ACK */
	uint32_t dack, dseq;      /* SEG.ACK - (ISS + 1), SEG.SEQ - (IRS + 1) */
	uint16_t win;             /* unscaled (the SYN's: 2000) */
	size_t len;               /* text */
	int ts;                   /* 0: TSval newer than the SYN's, 1: the same,
				   * 2: older, 3: none */
	uint8_t nsack;
	bool plain;               /* no SACK, timestamps, window scaling, ECN */
	bool keepalive, maxseg, cookie;
	bool idle;                /* not accepted for 12 s (keepalive's probes) */
	bool untraced;            /* S untraced while the third ACK comes in
				   * (listen.c's child_takes_ack) */
} third;

/* fast and slow gave the same events, counters and bytes (what, name: for
 * the message); frees both, returns the number of events. */
static size_t outcomes_same(const char *what, const char *name, outcome *fast, outcome *slow)
{
	size_t n = fast->nev < slow->nev ? fast->nev : slow->nev;
	for (size_t j = 0; j < n; j++) {
		if (strcmp(fast->ev[j], slow->ev[j]) != 0) {
			fprintf(stderr, "%s, %s: event %zu differs\n  fast: %s\n  slow: %s\n",
				what, name, j, fast->ev[j], slow->ev[j]);
			fail();
		}
	}
	if (fast->nev != slow->nev) {
		fprintf(stderr, "%s, %s: %zu events with the short way, %zu without\n", what,
			name, fast->nev, slow->nev);
		fail();
	}
	char label[128];
	snprintf(label, sizeof(label), "%s, %s,", what, name);
	same_counters(label, 0, fast, slow, 1, NULL);
	assert_int_equal(fast->bytes, slow->bytes);
	n = fast->nev;
	outcome_free(fast);
	outcome_free(slow);
	return n;
}

/* Runs each of n shapes (size bytes each, the name first) both ways and
 * compares them (outcomes_same). */
static void shapes_compare(const char *what, const void *shapes, size_t n, size_t size,
			   void (*run_one)(const void *v, bool slow, outcome *out))
{
	size_t events = 0;
	for (size_t i = 0; i < n; i++) {
		const void *v = (const char *)shapes + i * size;
		const char *name = *(const char *const *)v;
		outcome fast, slow;
		run_one(v, false, &fast);
		run_one(v, true, &slow);
		events += outcomes_same(what, name, &fast, &slow);
	}
	fprintf(stderr, "fastpath %s: %zu shapes, %zu events the same both ways\n", what, n,
		events);
}
#define SHAPES_COMPARE(what, shapes, run) \
	shapes_compare(what, shapes, sizeof(shapes) / sizeof((shapes)[0]), sizeof((shapes)[0]), run)

/* The options of the peer's SYN or SYN,ACK: MSS 1200, window shift 3,
 * SACK, and timestamps with TSval ts_val. */
static tcp_opts peer_syn_opts(uint32_t ts_val)
{
	tcp_opts o;
	tcp_opts_init(&o);
	o.mss = 1200;
	o.wscale = 3;
	o.sack_ok = true;
	o.has_ts = true;
	o.ts_val = ts_val;
	return o;
}

/* The TCB of tuple tu in st, as text after `what`: every byte of it but
 * its pointers (a timer and an extension say only whether they are
 * there), or what holds the tuple. */
static char *tcb_text(hsk_stack *st, const hsk_tuple *tu, const char *what)
{
	tbl_node *n = tbl_lookup(&st->tcp.conns, tu);
	char line[2 * sizeof(tcb) + 64];
	if (!n || n->kind != HSK_OBJ_TCB) {
		snprintf(line, sizeof(line), "%s: none (%d)", what, n ? (int)n->kind : -1);
		return strdup(line);
	}
	tcb c;
	memcpy(&c, n, sizeof(c));
	/* the pointers: whether set (1 or NULL) */
	c.node.next = c.node.next ? (tbl_node *)1 : NULL;
	c.timer.next = c.timer.next ? (hsk_timer *)1 : NULL;
	c.timer.prev = c.timer.prev ? (hsk_timer *)1 : NULL;
	c.act = c.act ? (tcb_act *)1 : NULL;
	int k = snprintf(line, sizeof(line), "%s: ", what);
	const uint8_t *b = (const uint8_t *)&c;
	for (size_t i = 0; i < sizeof(c); i++)
		k += snprintf(line + k, sizeof(line) - (size_t)k, "%02x", b[i]);
	return strdup(line);
}

/* The TCB of the connection from peer:4000 to S's port 80 after the
 * third ACK (tcb_text). */
static char *child_text(hsk_stack *st, uint32_t peer)
{
	hsk_tuple tu = { .laddr = SIM_ADDR(S), .raddr = peer, .lport = 80, .rport = 4000 };
	return tcb_text(st, &tu, "child");
}

/* out's events, and one more line: s */
static void outcome_add(outcome *out, char *s)
{
	out->ev = realloc(out->ev, (out->nev + 1) * sizeof(char *));
	assert_non_null(out->ev);
	assert_non_null(s);
	out->ev[out->nev++] = s;
}

/* The run's events (and one more line, extra, when not NULL), st's
 * counters and the bytes delivered into out; frees the simulation. */
static void outcome_of(sim *sm, hsk_stack *st, char *extra, size_t bytes, outcome *out)
{
	events_as_text(sm, out);
	if (extra)
		outcome_add(out, extra);
	out->rec = NULL;
	out->nrec = 0;
	out->ncnt = hsk_counter_count();
	out->cnt = calloc(out->ncnt, sizeof(uint64_t));
	assert_non_null(out->cnt);
	for (size_t i = 0; i < out->ncnt; i++)
		out->cnt[i] = hsk_counter_get(st, i);
	out->bytes = bytes;
	sim_free(sm);
}

static void run_third(const void *pv, bool slow, outcome *out)
{
	const third *v = pv;
	hsk_config cfg;
	hsk_config_default(&cfg);
	/* (a TCB not yet accepted has the stack's keepalive times) */
	cfg.keepalive_idle_ns = 5 * SEC;
	cfg.keepalive_intvl_ns = 1 * SEC;
	if (v->plain)
		cfg.sack = cfg.timestamps = cfg.window_scaling = false, cfg.ecn = 0;
	else
		cfg.ecn = 1;
	sim sm;
	sim_init(&sm, 2, &cfg, 4242);
	sm.st[S]->tcp.no_fastpath = slow;
	hsk_stack *st = sm.st[S];
	int lsd = hsk_socket(st);
	assert_true(lsd >= 0);
	if (v->keepalive)
		assert_int_equal(hsk_setsockopt(st, lsd, HSK_SO_KEEPALIVE, 1), 0);
	if (v->maxseg)
		assert_int_equal(hsk_setsockopt(st, lsd, HSK_SO_MAXSEG, 1100), 0);
	assert_int_equal(hsk_bind(st, lsd, 0, 80), 0);
	assert_int_equal(hsk_listen(st, lsd, 4), 0);
	if (v->cookie)          /* the SYN queue full: a cookie for the peer */
		for (uint32_t i = 1; i <= 4; i++)
			sim_inject(&sm, S, 0x0a000000u + i, 5000, 80, 77 * i, 0, HSK_TH_SYN,
				   2000, NULL, 0);
	uint32_t peer = SIM_ADDR(7), irs = 123456;
	tcp_opts o = peer_syn_opts(1000);
	sim_inject_opts(&sm, S, peer, 4000, 80, irs, 0,
			HSK_TH_SYN | HSK_TH_ECE | HSK_TH_CWR, 2000, &o, NULL, 0);
	const sim_ev *e;
	while ((e = sim_next_tx(&sm)) && e->ev.tuple.raddr != peer)
		;
	assert_non_null(e);
	assert_int_equal(e->ev.flags & (HSK_TH_SYN | HSK_TH_ACK), HSK_TH_SYN | HSK_TH_ACK);
	uint32_t iss = e->ev.seq, ecr = e->ev.ts_val;
	sim_run(&sm, 7 * MS);
	tcp_opts_init(&o);
	if (v->ts != 3) {
		o.has_ts = true;
		o.ts_val = v->ts == 0 ? 1003 : v->ts == 1 ? 1000 : 990;
		o.ts_ecr = ecr;
	}
	o.nsack = v->nsack;
	for (unsigned i = 0; i < v->nsack; i++)
		o.sack[i] = (tcp_sack_block){ iss + 1 + 100 * i, iss + 51 + 100 * i };
	static const uint8_t text[300] = { 1, 2, 3 };
	hsk_trace_fn trace = st->env.cfg.trace;
	if (v->untraced)
		st->env.cfg.trace = NULL;
	sim_inject_opts(&sm, S, peer, 4000, 80, irs + 1 + v->dseq, iss + 1 + v->dack,
			HSK_TH_ACK | v->flags, v->win, &o, text, v->len);
	st->env.cfg.trace = trace;
	char *child = child_text(st, peer);
	sim_run(&sm, 3 * MS);
	if (v->idle)
		sim_run(&sm, 12 * SEC);
	int sd = hsk_accept(st, lsd, NULL);
	if (sd >= 0) {
		static const uint8_t big[20000];
		(void)hsk_send(st, sd, big, sizeof(big));
		sim_run(&sm, 20 * MS);
		if (v->ts != 3)
			o.ts_val = 1010;
		o.nsack = 0;
		/* An ACK 4,000 below SND.UNA: old, or too old when MAX.SND.WND
		 * is the SYN's unscaled window (RFC 5961 §5.2). */
		sim_inject_opts(&sm, S, peer, 4000, 80, irs + 1 + (uint32_t)v->len,
				iss + 1 - 4000, HSK_TH_ACK, 3000, &o, NULL, 0);
		sim_run(&sm, 5 * MS);
		sim_inject_opts(&sm, S, peer, 4000, 80, irs + 1 + (uint32_t)v->len,
				iss + 1 + 3000, HSK_TH_ACK, 3000, &o, NULL, 0);
		sim_run(&sm, 12 * SEC);         /* retransmissions, keepalive */
		assert_int_equal(hsk_close(st, sd), 0);
		sim_run(&sm, 2 * SEC);
	}
	outcome_of(&sm, st, child, (size_t)(sd >= 0), out);
}

static const third third_shapes[] = {
	{ "pure" , .win = 2000 },
	{ "pure, plain", .win = 2000, .plain = true, .ts = 3 },
	{ "plain, a TSval all the same", .win = 2000, .plain = true },
	{ "window update", .win = 37 },
	{ "zero window", .win = 0 },
	{ "same TSval", .win = 2000, .ts = 1 },
	{ "old TSval", .win = 2000, .ts = 2 },
	{ "no timestamp", .win = 2000, .ts = 3 },
	{ "SACK blocks", .win = 2000, .nsack = 2 },
	{ "keepalive", .win = 2000, .keepalive = true },
	{ "keepalive, not accepted", .win = 2000, .keepalive = true, .idle = true },
	{ "keepalive, plain", .win = 2000, .keepalive = true, .plain = true, .ts = 3 },
	{ "cookie", .win = 2000, .cookie = true },
	{ "cookie, plain", .win = 2000, .cookie = true, .plain = true, .ts = 3 },
	{ "TCP_MAXSEG", .win = 2000, .maxseg = true },
	{ "text", .win = 2000, .len = 300 },
	{ "text and PSH", .flags = HSK_TH_PSH, .win = 2000, .len = 100 },
	{ "FIN", .flags = HSK_TH_FIN, .win = 2000 },
	{ "text and FIN", .flags = HSK_TH_FIN, .win = 2000, .len = 100 },
	{ "ECE", .flags = HSK_TH_ECE, .win = 2000 },
	{ "CWR", .flags = HSK_TH_CWR, .win = 2000 },
	{ "ACK of ISS + 2", .dack = 1, .win = 2000 },
	{ "ACK of ISS", .dack = (uint32_t)-1, .win = 2000 },
	{ "SEQ past RCV.NXT", .dseq = 10, .win = 2000 },
	{ "cookie, text", .win = 2000, .cookie = true, .len = 50 },
	{ "cookie, FIN", .flags = HSK_TH_FIN, .win = 2000, .cookie = true },
};

static void test_third_ack(void **state)
{
	(void)state;
	SHAPES_COMPARE("third ACK", third_shapes, run_third);
}

/* The same shapes with S untraced while the third ACK comes in: the
 * child's making takes the usual one in itself (listen.c,
 * child_takes_ack); the TCB it leaves, and every event after it, must be
 * what the steps make. */
static void test_third_ack_untraced(void **state)
{
	(void)state;
	third shapes[sizeof(third_shapes) / sizeof(third_shapes[0])];
	memcpy(shapes, third_shapes, sizeof(shapes));
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		shapes[i].untraced = true;
	SHAPES_COMPARE("third ACK untraced", shapes, run_third);
}

/* ---- the SYN,ACK in SYN_SENT (input.c, syn_sent_input) ----
 * Host C connects to a peer played here, which answers the SYN in one
 * shape; C then writes 300 bytes, the peer acknowledges them, C closes
 * and the peer's FIN ends it. The same with tcp_stack.no_fastpath (the
 * SYN,ACK's ACK by tcp_output) must give the same events, counters and
 * TCB after the SYN,ACK: the usual one (no Fast Open) sends its ACK
 * without tcp_output (synack_ack_only); a Fast Open SYN with data, which
 * the SYN,ACK may leave unacknowledged or acknowledge, must take
 * tcp_output's steps. */
typedef struct synack {
	const char *name;
	uint8_t flags;            /* beside SYN and ACK */
	uint16_t win;             /* the peer's window */
	size_t len;               /* text on the SYN,ACK */
	uint32_t dack;            /* SEG.ACK = ISS + 1 + dack */
	bool plain;               /* C without SACK, timestamps, wscale, ECN */
	bool bare;                /* a SYN,ACK without options */
	bool resent;              /* after the SYN's retransmission */
	bool tfo;                 /* a Fast Open SYN with 100 bytes */
	bool untraced;            /* C untraced while the SYN,ACK comes in */
} synack;

static void run_synack(const void *pv, bool slow, outcome *out)
{
	const synack *v = pv;
	hsk_config cfg;
	hsk_config_default(&cfg);
	if (v->plain)
		cfg.sack = cfg.timestamps = cfg.window_scaling = false, cfg.ecn = 0;
	else
		cfg.ecn = 1;
	cfg.tcp_fastopen |= HSK_TFO_CLIENT;
	sim sm;
	sim_init(&sm, 2, &cfg, 4244);
	sm.st[C]->tcp.no_fastpath = slow;
	hsk_stack *st = sm.st[C];
	uint32_t peer = SIM_ADDR(7);
	int sd = hsk_socket(st);
	assert_true(sd >= 0);
	static const uint8_t big[20000];
	if (v->tfo) {
		static const uint8_t ck[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
		assert_int_equal(hsk_fastopen_cookie_set(st, peer, ck, sizeof(ck)), 0);
		assert_int_equal(hsk_setsockopt(st, sd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
		assert_int_equal(hsk_connect(st, sd, peer, 80), 0);
		assert_int_equal(hsk_send(st, sd, big, 100), 100);
	} else {
		assert_int_equal(hsk_connect(st, sd, peer, 80), -HSK_EINPROGRESS);
	}
	const sim_ev *e;
	while ((e = sim_next_tx(&sm)) && e->ev.tuple.raddr != peer)
		;
	assert_non_null(e);
	assert_true(e->ev.flags & HSK_TH_SYN);
	uint32_t iss = e->ev.seq, ecr = e->ev.ts_val;
	hsk_tuple tu = e->ev.tuple;
	sim_run(&sm, v->resent ? 1500 * MS : 7 * MS);
	tcp_opts o = peer_syn_opts(5000);
	o.ts_ecr = ecr;
	uint32_t irs = 777000;
	hsk_trace_fn trace = st->env.cfg.trace;
	if (v->untraced)
		st->env.cfg.trace = NULL;
	sim_inject_opts(&sm, C, peer, 80, tu.lport, irs, iss + 1 + v->dack,
			HSK_TH_SYN | HSK_TH_ACK | v->flags, v->win, v->bare ? NULL : &o, big,
			v->len);
	st->env.cfg.trace = trace;
	char *conn = tcb_text(st, &tu, "conn");
	sim_run(&sm, 3 * MS);
	if (hsk_send(st, sd, big, 300) == 300)
		sim_run(&sm, 20 * MS);
	uint32_t una = iss + 1 + 300 + (v->tfo ? 100 : 0);
	o.ts_val = 5010;
	o.sack_ok = false;
	o.mss = 0;
	o.wscale = -1;
	sim_inject_opts(&sm, C, peer, 80, tu.lport, irs + 1 + (uint32_t)v->len, una, HSK_TH_ACK,
			v->win ? v->win : 1000, v->bare ? NULL : &o, NULL, 0);
	sim_run(&sm, 2 * SEC);
	(void)hsk_close(st, sd);
	sim_run(&sm, 5 * MS);
	o.ts_val = 5020;
	sim_inject_opts(&sm, C, peer, 80, tu.lport, irs + 1 + (uint32_t)v->len, una + 1,
			HSK_TH_FIN | HSK_TH_ACK, 1000, v->bare ? NULL : &o, NULL, 0);
	sim_run(&sm, 70 * SEC);
	outcome_of(&sm, st, conn, 0, out);
}

static const synack synack_shapes[] = {
	{ "usual", .win = 2000 },
	{ "usual, untraced", .win = 2000, .untraced = true },
	{ "plain", .win = 2000, .plain = true },
	{ "plain, untraced", .win = 2000, .plain = true, .untraced = true },
	{ "no options", .win = 2000, .bare = true },
	{ "zero window", .win = 0 },
	{ "ECE", .flags = HSK_TH_ECE, .win = 2000 },
	{ "ECE, untraced", .flags = HSK_TH_ECE, .win = 2000, .untraced = true },
	{ "after the SYN's retransmission", .win = 2000, .resent = true },
	{ "text", .win = 2000, .len = 100 },
	{ "FIN", .flags = HSK_TH_FIN, .win = 2000 },
	{ "text and FIN", .flags = HSK_TH_FIN, .win = 2000, .len = 100 },
	{ "ACK of ISS", .dack = (uint32_t)-1, .win = 2000 },
	{ "ACK of ISS + 2", .dack = 1, .win = 2000 },
	{ "RST", .flags = HSK_TH_RST, .win = 2000 },
	{ "Fast Open, the SYN acknowledged", .win = 2000, .tfo = true },
	{ "Fast Open, untraced", .win = 2000, .tfo = true, .untraced = true },
	{ "Fast Open, the data acknowledged", .dack = 100, .win = 2000, .tfo = true },
	{ "Fast Open, the data acknowledged, untraced", .dack = 100, .win = 2000, .tfo = true,
	  .untraced = true },
};

static void test_synack(void **state)
{
	(void)state;
	SHAPES_COMPARE("SYN,ACK", synack_shapes, run_synack);
}

/* ---- the peer's FIN in FIN_WAIT_2 (closing.c, fin_wait_2_fin) ----
 * A peer played here opens a connection to host S; S accepts, sends 100
 * bytes, which the peer acknowledges, and closes (or shuts down writing:
 * `open`); the peer acknowledges the FIN (FIN_WAIT_2) and sends its own
 * in one shape, then again a second later (TIME_WAIT's ACK echoes the
 * timestamp the entry kept), and TIME_WAIT passes. The same with
 * tcp_stack.no_fastpath (the steps) must give the same events and
 * counters: the bare FIN to an orphan goes the short way; the window and
 * TSval it carries are what it must still take; text, ECE, bytes held out
 * of order, a socket still open must come out as the steps make them. */
typedef struct fin2 {
	const char *name;
	uint8_t flags;            /* beside FIN and ACK */
	uint16_t win;             /* the peer's window (unscaled; 2000 before) */
	size_t len;               /* text before the FIN */
	bool plain;               /* no SACK, timestamps, window scaling, ECN */
	bool ooo;                 /* 10 bytes out of order held before the close */
	bool ooo_fin;             /* with a FIN after them (the stream's end
				   * known, beyond the gap) */
	bool open;                /* shutdown, the socket closed after TIME_WAIT */
	bool unread;              /* 10 bytes of text before, which S leaves
				   * unread (its socket keeps the TCB) */
	bool untraced;            /* S untraced while the FIN comes in */
} fin2;

/* A connection from a peer played here to host S's port 80, accepted:
 * the state the close tests start from. */
typedef struct peer {
	sim sm;
	hsk_stack *st;
	int lsd, sd;
	uint32_t addr, irs, iss, tsv;
	tcp_opts o;               /* the peer's options (TSval tsv) */
} peer;

static void peer_open(peer *p, bool plain, bool slow, uint64_t seed)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	if (plain)
		cfg.sack = cfg.timestamps = cfg.window_scaling = false, cfg.ecn = 0;
	else
		cfg.ecn = 1;
	sim_init(&p->sm, 2, &cfg, seed);
	p->sm.st[S]->tcp.no_fastpath = slow;
	p->st = p->sm.st[S];
	p->lsd = hsk_socket(p->st);
	assert_true(p->lsd >= 0);
	assert_int_equal(hsk_bind(p->st, p->lsd, 0, 80), 0);
	assert_int_equal(hsk_listen(p->st, p->lsd, 4), 0);
	p->addr = SIM_ADDR(7);
	p->irs = 123456;
	p->tsv = 1000;
	tcp_opts *o = &p->o;
	*o = peer_syn_opts(p->tsv);
	sim_inject_opts(&p->sm, S, p->addr, 4000, 80, p->irs, 0,
			HSK_TH_SYN | HSK_TH_ECE | HSK_TH_CWR, 2000, o, NULL, 0);
	const sim_ev *e = sim_next_tx(&p->sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags & (HSK_TH_SYN | HSK_TH_ACK), HSK_TH_SYN | HSK_TH_ACK);
	p->iss = e->ev.seq;
	uint32_t ecr = e->ev.ts_val;
	sim_run(&p->sm, 7 * MS);
	tcp_opts_init(o);
	o->has_ts = true;
	o->ts_val = ++p->tsv;
	o->ts_ecr = ecr;
	sim_inject_opts(&p->sm, S, p->addr, 4000, 80, p->irs + 1, p->iss + 1, HSK_TH_ACK, 2000,
			o, NULL, 0);
	p->sd = hsk_accept(p->st, p->lsd, NULL);
	assert_true(p->sd >= 0);
}

/* A segment from the peer, SEG.SEQ = IRS + 1 + dseq, SEG.ACK = ISS + 1 +
 * dack, with the next TSval. */
static void peer_send(peer *p, uint32_t dseq, uint32_t dack, uint8_t flags, uint16_t win,
		      const uint8_t *text, size_t len)
{
	p->o.ts_val = ++p->tsv;
	sim_inject_opts(&p->sm, S, p->addr, 4000, 80, p->irs + 1 + dseq, p->iss + 1 + dack,
			flags, win, &p->o, text, len);
}

/* The bytes S writes, and the peer's text. */
static const uint8_t text[100] = { 1, 2, 3 };

/* S writes the 100 bytes; 7 ms pass. */
static void peer_write(peer *p)
{
	assert_int_equal(hsk_send(p->st, p->sd, text, sizeof(text)), sizeof(text));
	sim_run(&p->sm, 7 * MS);
}

/* The run's events and S's counters into out; frees the simulation. */
static void peer_outcome(peer *p, outcome *out)
{
	outcome_of(&p->sm, p->st, NULL, 0, out);
}

/* S closes (or, open, shuts down writing only). */
static void peer_close(peer *p, bool open)
{
	if (open)
		assert_int_equal(hsk_shutdown(p->st, p->sd, HSK_SHUT_WR), 0);
	else
		assert_int_equal(hsk_close(p->st, p->sd), 0);
}

/* TIME_WAIT passes; then the socket (open: still there) and the listener
 * close, and the run's outcome goes to out. */
static void peer_end(peer *p, bool open, outcome *out)
{
	sim_run(&p->sm, 70 * SEC);
	if (open)
		assert_int_equal(hsk_close(p->st, p->sd), 0);
	assert_int_equal(hsk_close(p->st, p->lsd), 0);
	sim_run(&p->sm, 1 * SEC);
	peer_outcome(p, out);
}

static void run_fin2(const void *pv, bool slow, outcome *out)
{
	const fin2 *v = pv;
	peer p;
	char *info = NULL;
	uint32_t d = v->unread ? 10 : 0;
	peer_open(&p, v->plain, slow, 4243);
	peer_write(&p);
	peer_send(&p, 0, 100, HSK_TH_ACK, 2000, text, d);
	if (v->ooo)
		peer_send(&p, 50, 100, HSK_TH_ACK | (v->ooo_fin ? HSK_TH_FIN : 0), 2000, text, 10);
	sim_run(&p.sm, 7 * MS);
	peer_close(&p, v->open);
	sim_run(&p.sm, 7 * MS);
	peer_send(&p, d, 101, HSK_TH_ACK, 2000, NULL, 0);
	sim_run(&p.sm, 7 * MS);
	/* the FIN, twice */
	for (int k = 0; k < 2; k++) {
		if (!v->plain)
			p.o.ts_val = p.tsv += 5;
		hsk_trace_fn trace = p.st->env.cfg.trace;
		if (v->untraced)
			p.st->env.cfg.trace = NULL;
		sim_inject_opts(&p.sm, S, p.addr, 4000, 80, p.irs + 1 + d, p.iss + 102,
				HSK_TH_FIN | HSK_TH_ACK | v->flags, v->win, v->plain ? NULL : &p.o,
				text, v->len);
		p.st->env.cfg.trace = trace;
		/* what a socket still open sees of the connection: the
		 * window the FIN carried (untraced, only the steps' ACK step
		 * takes it) */
		hsk_tcp_info ti;
		if (v->open && k == 0 && hsk_sock_info(p.st, p.sd, &ti) == 0) {
			char line[64];
			snprintf(line, sizeof(line), "info: state %u snd_wnd %u", ti.state,
				 ti.snd_wnd);
			info = strdup(line);
		}
		sim_run(&p.sm, 1 * SEC);
	}
	peer_end(&p, v->open, out);
	if (info)
		outcome_add(out, info);
}

static void test_fin_wait_2_fin(void **state)
{
	(void)state;
	static const fin2 shapes[] = {
		{ "bare", .win = 2000 },
		{ "PSH", .flags = HSK_TH_PSH, .win = 2000 },
		{ "window update", .win = 37 },
		{ "plain", .win = 2000, .plain = true },
		{ "text", .win = 2000, .len = 10 },
		{ "ECE", .flags = HSK_TH_ECE, .win = 2000 },
		{ "CWR", .flags = HSK_TH_CWR, .win = 2000 },
		{ "out of order held", .win = 2000, .ooo = true },
		{ "out of order held, plain", .win = 2000, .ooo = true, .plain = true },
		{ "out of order held with a FIN", .win = 2000, .ooo = true, .ooo_fin = true },
		{ "out of order held with a FIN, plain", .win = 2000, .ooo = true, .ooo_fin = true,
		  .plain = true },
		{ "socket open", .win = 2000, .open = true },
		{ "socket open, text", .win = 2000, .open = true, .len = 10 },
	};
	SHAPES_COMPARE("FIN in FIN_WAIT_2", shapes, run_fin2);
}

/* Untraced FINs, a socket still open keeping the TCB (bytes unread): the
 * window the FIN carries is the steps' to take, which hsk_sock_info then
 * shows; the short way, for orphans only, never has to. */
static void test_fin_wait_2_fin_untraced(void **state)
{
	(void)state;
	static const fin2 shapes[] = {
		{ "bare, untraced", .win = 2000, .untraced = true },
		{ "window update, untraced", .win = 37, .untraced = true },
		{ "socket open, unread, window update, untraced", .win = 37, .open = true,
		  .unread = true, .untraced = true },
		{ "socket open, unread, untraced", .win = 2000, .open = true, .unread = true,
		  .untraced = true },
		{ "socket open, unread, window update, untraced, plain", .win = 37, .open = true,
		  .unread = true, .untraced = true, .plain = true },
	};
	SHAPES_COMPARE("FIN in FIN_WAIT_2 untraced", shapes, run_fin2);
}

/* ---- our FIN acknowledged in FIN_WAIT_1 (closing.c, fin_wait_1_acked) ----
 * S sends 100 bytes to a peer played here (acknowledged before the close
 * or not: `unacked`) and closes (or shuts down writing: `open`); the peer
 * acknowledges in one shape, then sends its FIN, and TIME_WAIT passes.
 * The same with tcp_stack.no_fastpath (the steps) must give the same
 * events and counters: the first ACK of the FIN, without text, FIN or
 * ECE, goes the short way (with the last bytes or alone, to an orphan or
 * not); an ACK short of the FIN, one of bytes sent while the FIN waits
 * for the window, one after the FIN was acknowledged (with a FIN beyond
 * a gap) must come out as the steps make them. */
typedef struct fin1 {
	const char *name;
	uint8_t flags;            /* beside ACK */
	uint32_t dack;            /* SEG.ACK - (ISS + 1): 101 is the FIN's */
	uint16_t win;             /* the peer's window (unscaled; 2000 before) */
	size_t len;               /* text */
	bool plain;               /* no SACK, timestamps, window scaling, ECN */
	bool unacked;             /* the 100 bytes unacknowledged at the close */
	bool gap_fin;             /* first the FIN's ACK with a FIN beyond a gap */
	bool held;                /* a window of 40 bytes: the FIN waits (SEG.ACK
				   * = SND.MAX then acknowledges bytes only) */
	bool open;                /* shutdown, the socket closed after TIME_WAIT */
} fin1;

static void run_fin1(const void *pv, bool slow, outcome *out)
{
	const fin1 *v = pv;
	peer p;
	peer_open(&p, v->plain, slow, 4244);
	if (v->held)
		peer_send(&p, 0, 0, HSK_TH_ACK, 5, NULL, 0);
	peer_write(&p);
	if (!v->unacked && !v->held)
		peer_send(&p, 0, 100, HSK_TH_ACK, 2000, NULL, 0);
	sim_run(&p.sm, 7 * MS);
	peer_close(&p, v->open);
	sim_run(&p.sm, v->held ? 300 * MS : 7 * MS);    /* (40 bytes go: SWS's timer) */
	if (v->gap_fin) {
		peer_send(&p, 20, 101, HSK_TH_FIN | HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
	}
	peer_send(&p, 0, v->dack, HSK_TH_ACK | v->flags, v->win, text, v->len);
	sim_run(&p.sm, 7 * MS);
	peer_send(&p, (uint32_t)v->len, 101, HSK_TH_FIN | HSK_TH_ACK, 2000, NULL, 0);
	sim_run(&p.sm, 1 * SEC);
	peer_end(&p, v->open, out);
}

static void test_fin_wait_1_ack(void **state)
{
	(void)state;
	static const fin1 shapes[] = {
		{ "bare", .dack = 101, .win = 2000 },
		{ "PSH", .flags = HSK_TH_PSH, .dack = 101, .win = 2000 },
		{ "window update", .dack = 101, .win = 37 },
		{ "plain", .dack = 101, .win = 2000, .plain = true },
		{ "bytes and FIN", .dack = 101, .win = 2000, .unacked = true },
		{ "bytes and FIN, plain", .dack = 101, .win = 2000, .unacked = true,
		  .plain = true },
		{ "bytes, not the FIN", .dack = 100, .win = 2000, .unacked = true },
		{ "some bytes", .dack = 50, .win = 2000, .unacked = true },
		{ "text", .dack = 101, .win = 2000, .len = 10 },
		{ "FIN", .flags = HSK_TH_FIN, .dack = 101, .win = 2000 },
		{ "ECE", .flags = HSK_TH_ECE, .dack = 101, .win = 2000 },
		{ "ECE, bytes and FIN", .flags = HSK_TH_ECE, .dack = 101, .win = 2000,
		  .unacked = true },
		{ "CWR", .flags = HSK_TH_CWR, .dack = 101, .win = 2000 },
		{ "after a FIN beyond a gap", .dack = 101, .win = 2000, .gap_fin = true },
		{ "FIN held back", .dack = 40, .win = 5, .held = true },
		{ "socket open", .dack = 101, .win = 2000, .open = true },
		{ "socket open, bytes and FIN", .dack = 101, .win = 2000, .open = true,
		  .unacked = true },
	};
	SHAPES_COMPARE("ACK in FIN_WAIT_1", shapes, run_fin1);
}

/* ---- the peer's FIN in ESTABLISHED (closing.c, established_fin) ----
 * S sends 100 bytes to a peer played here, which sends its FIN in one
 * shape (acknowledging all, some or none of them); S reads to the end of
 * the stream, closes, sends again what is unacknowledged (the
 * retransmission timer shows whether the FIN's ACK restarted it), is
 * acknowledged, and the connection ends. The same
 * with tcp_stack.no_fastpath (the steps) must give the same events and
 * counters: the bare FIN goes the short way, whatever its ACK does (and
 * the window, TSval, ECE and CWR it carries); text, bytes held out of
 * order (with a FIN of their own, which makes the bare FIN not the
 * stream's end) must come out as the steps make them, and so must bytes
 * waiting in the ring for the window (its ACK is then tcp_output's,
 * which sends them when the FIN opens the window). The socket must be
 * told of the FIN either way (untraced too, where the transition does
 * not tell it again after the ACK step did). */
typedef struct estfin {
	const char *name;
	uint8_t flags;            /* beside FIN and ACK */
	uint32_t dack;            /* SEG.ACK - (ISS + 1) */
	uint16_t win;             /* the peer's window (unscaled; 2000 before) */
	size_t len;               /* text before the FIN */
	bool plain;               /* no SACK, timestamps, window scaling, ECN */
	bool ooo;                 /* 10 bytes out of order held before the FIN */
	bool ooo_fin;             /* and a FIN after them (then the FIN at
				   * RCV.NXT is not the one reassembly knows) */
	bool shut_rd;             /* shut down for reading before the FIN */
	bool held;                /* a window of 40 bytes before S writes: 60
				   * bytes wait in the ring at the FIN */
	bool untraced;            /* S untraced (the transition's usual way:
				   * no events to compare, S told or not) */
} estfin;

/* Whether sd is among the sockets the events report now (it reads them). */
static bool socket_told(hsk_stack *st, int sd)
{
	hsk_event ev[8];
	bool told = false;
	size_t n;
	do {
		n = hsk_stack_events(st, ev, 8);
		for (size_t i = 0; i < n; i++)
			told |= ev[i].sd == sd && (ev[i].events & HSK_POLLIN);
	} while (n == 8);
	return told;
}

static void run_estfin(const void *pv, bool slow, outcome *out)
{
	const estfin *v = pv;
	peer p;
	peer_open(&p, v->plain, slow, 4245);
	if (v->untraced)
		p.st->env.cfg.trace = NULL;
	if (v->held)
		peer_send(&p, 0, 0, HSK_TH_ACK, 5, NULL, 0);
	peer_write(&p);
	if (v->held)
		sim_run(&p.sm, 300 * MS);       /* (40 bytes go: SWS's timer) */
	if (v->ooo)
		peer_send(&p, 50, 0, HSK_TH_ACK | (v->ooo_fin ? HSK_TH_FIN : 0), 2000, text, 10);
	if (v->shut_rd)
		assert_int_equal(hsk_shutdown(p.st, p.sd, HSK_SHUT_RD), 0);
	sim_run(&p.sm, 7 * MS);
	hsk_event ev[8];
	while (hsk_stack_events(p.st, ev, 8) == 8)
		;
	peer_send(&p, 0, v->dack, HSK_TH_FIN | HSK_TH_ACK | v->flags, v->win, text, v->len);
	sim_run(&p.sm, 7 * MS);
	/* the FIN makes S readable (the end of the stream, unless bytes
	 * out of order come before it): S is told, both ways, whatever the
	 * ACK did */
	assert_int_equal(socket_told(p.st, p.sd), !v->ooo_fin);
	uint8_t buf[200];
	while (hsk_recv(p.st, p.sd, buf, sizeof(buf)) > 0)
		;
	assert_int_equal(hsk_close(p.st, p.sd), 0);
	sim_run(&p.sm, 1 * SEC);        /* what is unacknowledged is sent again */
	peer_send(&p, (uint32_t)v->len + 1, 101, HSK_TH_ACK, 2000, NULL, 0);
	sim_run(&p.sm, 1 * SEC);
	assert_int_equal(hsk_close(p.st, p.lsd), 0);
	sim_run(&p.sm, 1 * SEC);
	peer_outcome(&p, out);
}

static void test_established_fin(void **state)
{
	(void)state;
	static const estfin shapes[] = {
		{ "bare", .dack = 100, .win = 2000 },
		{ "PSH", .flags = HSK_TH_PSH, .dack = 100, .win = 2000 },
		{ "nothing acknowledged", .dack = 0, .win = 2000 },
		{ "some acknowledged", .dack = 50, .win = 2000 },
		{ "window update", .dack = 100, .win = 37 },
		{ "plain", .dack = 100, .win = 2000, .plain = true },
		{ "text", .dack = 100, .win = 2000, .len = 10 },
		{ "ECE", .flags = HSK_TH_ECE, .dack = 100, .win = 2000 },
		{ "CWR", .flags = HSK_TH_CWR, .dack = 100, .win = 2000 },
		{ "out of order held", .dack = 100, .win = 2000, .ooo = true },
		{ "out of order held, plain", .dack = 100, .win = 2000, .ooo = true,
		  .plain = true },
		{ "out of order held with a FIN", .dack = 100, .win = 2000, .ooo = true,
		  .ooo_fin = true },
		{ "shut for reading", .dack = 100, .win = 2000, .shut_rd = true },
		{ "bytes waiting, the window opens", .dack = 40, .win = 2000, .held = true },
		{ "bytes waiting, the window stays", .dack = 40, .win = 5, .held = true },
		{ "bare, untraced", .dack = 100, .win = 2000, .untraced = true },
		{ "nothing acknowledged, untraced", .dack = 0, .win = 2000, .untraced = true },
	};
	SHAPES_COMPARE("FIN in ESTABLISHED", shapes, run_estfin);
}

/* ---- close()'s usual case (socket.c, close_usual) ----
 * S's accepted connection is closed in one shape; close() is called with
 * S's clock and trace hooks off (close()'s short way is untraced and
 * reads no clock), but in the shapes that keep one of them. Each of the
 * short way's conditions is broken by one shape: data unread, bytes
 * unacknowledged with memory exhausted, SO_LINGER (N: the peer never
 * acknowledges the FIN, so the linger time resets it; 0: a reset at
 * once), no room for an orphan, a FIN queued already, no extension left
 * (idle), the peer's FIN first (CLOSE_WAIT to LAST_ACK), a close before
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
} closing;

/* hsk_close on S with its clock and trace hooks off but as v keeps them. */
static int close_hooks_off(peer *p, int sd, const closing *v)
{
	hsk_config *c = &p->st->env.cfg;
	hsk_config saved = *c;
	if (!v->traced)
		c->trace = NULL;
	if (!v->clocked)
		c->clock = NULL;
	int r = hsk_close(p->st, sd);
	c->trace = saved.trace;
	c->clock = saved.clock;
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
		peer_send(&p, 0, 100, HSK_TH_ACK, 2000, NULL, 0);
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

/* S aborts its connection and closes the listener; the run's outcome,
 * and one more line, go to out. */
static void peer_abort_end(peer *p, outcome *out, const char *line)
{
	assert_int_equal(hsk_abort(p->st, p->sd), 0);
	sim_run(&p->sm, 7 * MS);
	assert_int_equal(hsk_close(p->st, p->lsd), 0);
	sim_run(&p->sm, 1 * SEC);
	peer_outcome(p, out);
	outcome_add(out, strdup(line));
}

static void run_sending(const void *pv, bool slow, outcome *out)
{
	const sending *v = pv;
	static uint8_t big[3000];
	peer p;
	peer_open(&p, false, slow, 4248);
	int sd = p.sd;
	if (v->peer_fin) {
		peer_send(&p, 0, 0, HSK_TH_FIN | HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
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
	uint32_t acked = 0;
	for (int i = 0; i < 3; i++) {
		const void *buf = v->null_buf ? NULL : v->small_ring ? big : text;
		size_t len = v->empty ? 0 : v->small_ring ? sizeof(big) : sizeof(text);
		long r = send_clock_off(&p, sd, buf, len);
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %ld (%u held)", r,
			      (unsigned)p.st->tcp.buffer_bytes);
		sim_run(&p.sm, 7 * MS);
		if (v->acked && r > 0) {
			acked += (uint32_t)r;
			peer_send(&p, v->peer_fin ? 1 : 0, acked, HSK_TH_ACK, 2000, NULL, 0);
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

/* ---- a read that empties the receive ring (mem.c,
 * tcb_release_rcv_emptied) ----
 * The peer sends S 10 bytes in one shape and S reads them; the ring's
 * release has a short way, whose conditions each shape breaks: a send
 * ring held (S's 100 bytes unacknowledged), SACK state left (their ACK
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
	bool acked;               /* acknowledged after the peer's bytes came */
	bool ooo;                 /* 10 bytes beyond a gap first */
	bool pressure;            /* tcp_mem_pressure and low reached */
	size_t first;             /* the first read's size (0: all) */
} reading;

static void run_reading(const void *pv, bool slow, outcome *out)
{
	const reading *v = pv;
	peer p;
	peer_open(&p, v->plain, slow, 4249);
	if (v->wrote)
		peer_write(&p);
	if (v->pressure)
		p.st->env.cfg.tcp_mem_pressure = p.st->env.cfg.tcp_mem_low =
			p.st->tcp.buffer_bytes + 1;
	if (v->ooo)
		peer_send(&p, 20, 0, HSK_TH_ACK, 2000, text, 10);
	peer_send(&p, 0, 0, HSK_TH_ACK | HSK_TH_PSH, 2000, text, 10);
	sim_run(&p.sm, 7 * MS);
	if (v->acked) {         /* (the ring held: the SACK state stays) */
		peer_send(&p, 10, 100, HSK_TH_ACK, 2000, NULL, 0);
		sim_run(&p.sm, 7 * MS);
	}
	char line[256];
	int n = snprintf(line, sizeof(line), "reads:");
	uint8_t buf[64];
	for (int i = 0; i < 2; i++) {
		size_t len = i == 0 && v->first ? v->first : sizeof(buf);
		long r = hsk_recv(p.st, p.sd, buf, len);
		const tcb *t = p.st->socks[p.sd].t;
		n += snprintf(line + n, sizeof(line) - (size_t)n,
			      " %ld (%u held, %u cached, pressure %d, SACK %d)", r,
			      (unsigned)p.st->tcp.buffer_bytes, p.st->tcp.ring_cache_n,
			      p.st->tcp.mem_pressure, t->act && t->act->sack_on);
		if (r > 0)
			assert_memory_equal(buf, text + (i && v->first ? v->first : 0), (size_t)r);
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
		{ "SACK state left", .wrote = true, .acked = true },
		{ "out of order held", .ooo = true },
		{ "out of order held, plain", .ooo = true, .plain = true },
		{ "memory pressure", .pressure = true },
	};
	SHAPES_COMPARE("a read that empties the ring", shapes, run_reading);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sack_ts),
		cmocka_unit_test(test_sack_only),
		cmocka_unit_test(test_ts_only),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_ecn),
		cmocka_unit_test(test_third_ack),
		cmocka_unit_test(test_third_ack_untraced),
		cmocka_unit_test(test_synack),
		cmocka_unit_test(test_fin_wait_2_fin),
		cmocka_unit_test(test_fin_wait_2_fin_untraced),
		cmocka_unit_test(test_fin_wait_1_ack),
		cmocka_unit_test(test_established_fin),
		cmocka_unit_test(test_close_usual),
		cmocka_unit_test(test_send_usual),
		cmocka_unit_test(test_read_empties_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
