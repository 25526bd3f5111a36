/* Shared by the short ways' comparisons with tcp_stack.no_fastpath; see
 * shapes.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "sim.h"
#include "stack/stack.h"
#include "shapes.h"

/* One event as text: every field the trace gives. */
static void ev_text(const sim_ev *e, char *out, size_t cap)
{
	const hsk_trace_event *v = &e->ev;
	int n = snprintf(out, cap,
			 "t=%llu h%d k%u o%u sd%d %08x:%u>%08x:%u f%u %u>%u [%s] fl=%02x seq=%u "
			 "ack=%u len=%u win=%u urp=%u mss=%u ws=%d sok=%d ts=%d/%u/%u nsack=%u",
			 (unsigned long long)v->t_ns, e->host, v->kind, v->obj, v->sd,
			 v->tuple.laddr, v->tuple.lport, v->tuple.raddr, v->tuple.rport,
			 v->family, v->from, v->to, e->cause, v->flags, v->seq, v->ack, v->len,
			 v->win, v->urp, v->mss, v->wscale, v->sack_ok, v->has_ts, v->ts_val, v->ts_ecr,
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

void events_as_text(const sim *sm, outcome *out)
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

void outcome_free(outcome *o)
{
	for (size_t i = 0; i < o->nev; i++)
		free(o->ev[i]);
	free(o->ev);
	for (size_t i = 0; i < o->nrec; i++)
		free(o->rec[i]);
	free(o->rec);
	free(o->cnt);
}

void same_counters(const char *what, uint64_t seed, const outcome *fast,
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

size_t outcomes_same(const char *what, const char *name, outcome *fast, outcome *slow)
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

void shapes_compare(const char *what, const void *shapes, size_t n, size_t size,
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

tcp_opts peer_syn_opts(uint32_t ts_val)
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

/* The node of tu: IPv4's, else the IPv6 one of the addresses' twins (the
 * log gives an IPv6 event the twins' IPv4 addresses; HSK_SIM_FAMILY=6). */
static tbl_node *node_of(hsk_stack *st, const hsk_tuple *tu)
{
	tbl_node *n = tbl_lookup(&st->tcp.conns, tu);
	if (n)
		return n;
	tbl_v6addrs a;
	memcpy(a.l, sim_twin6(tu->laddr).v6, 16);
	memcpy(a.r, sim_twin6(tu->raddr).v6, 16);
	hsk_tuple key = tbl_key6(&st->tcp.conns, &a, tu->lport, tu->rport);
	return tbl_lookup6(&st->tcp.conns, &key, &a);
}

char *tcb_text(hsk_stack *st, const hsk_tuple *tu, const char *what)
{
	tbl_node *n = node_of(st, tu);
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

char *child_text(hsk_stack *st, uint32_t peer)
{
	hsk_tuple tu = { .laddr = SIM_ADDR(S), .raddr = peer, .lport = 80, .rport = 4000 };
	return tcb_text(st, &tu, "child");
}

void outcome_add(outcome *out, char *s)
{
	out->ev = realloc(out->ev, (out->nev + 1) * sizeof(char *));
	assert_non_null(out->ev);
	assert_non_null(s);
	out->ev[out->nev++] = s;
}

void outcome_of(sim *sm, hsk_stack *st, char *extra, size_t bytes, outcome *out)
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
