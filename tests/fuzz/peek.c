/*
 * The harness's only file that includes the stack's internal headers: see
 * peek.h. When struct tcb, the table or the pools change, adapt this file.
 */
#include <stdio.h>
#include <stdlib.h>

#include "stack/stack.h"
#include "peek.h"

#define FAIL(who, ...) do { \
	fprintf(stderr, "INVARIANT (%s): ", who); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

static uint32_t rcv_window(const tcb *t)
{
	return seq_gt(t->rcv_adv, t->rcv_nxt) ? (uint32_t)seq_diff(t->rcv_adv, t->rcv_nxt) : 0;
}

bool peek_conn_get(hsk_stack *s, const hsk_tuple *tu, peek_conn *out)
{
	*out = (peek_conn){ .obj = PEEK_NONE };
	tbl_node *n = tbl_lookup(&s->tcp.conns, tu);
	if (!n)
		return false;
	out->obj = n->kind;
	switch (n->kind) {
	case HSK_OBJ_TCB: {
		const tcb *t = (const tcb *)n;
		out->state = t->state;
		out->iss = t->iss.v;
		out->snd_una = t->snd_una.v;
		out->snd_nxt = t->snd_nxt.v;
		out->snd_max = t->snd_max.v;
		out->snd_wnd = t->snd_wnd;
		out->snd_wl1 = t->snd_wl1.v;
		out->snd_wl2 = t->snd_wl2.v;
		out->snd_wscale = t->snd_wscale;
		out->mss = t->mss;
		out->rcv_nxt = t->rcv_nxt.v;
		out->rcv_wnd = rcv_window(t);
		out->ts_recent = t->ts_recent;
		out->ts_ok = t->flags & TF_TS_OK;
		out->sack_ok = t->flags & TF_SACK_OK;
		break;
	}
	case HSK_OBJ_REQ: {
		const tcp_req *r = (const tcp_req *)n;
		out->state = HSK_SYN_RECEIVED;
		out->iss = out->snd_una = r->iss.v;
		out->snd_nxt = out->snd_max = r->iss.v + 1;
		out->rcv_nxt = r->irs.v + 1;
		out->rcv_wnd = r->listener ? r->listener->rcvbuf : 0;
		out->ts_recent = r->ts_recent;
		out->ts_ok = r->ts_ok;
		out->sack_ok = r->sack_ok;
		break;
	}
	case HSK_OBJ_TW: {
		const tcp_tw *w = (const tcp_tw *)n;
		out->state = HSK_TIME_WAIT;
		out->snd_una = out->snd_nxt = out->snd_max = w->snd_nxt.v;
		out->rcv_nxt = w->rcv_nxt.v;
		out->rcv_wnd = w->rcv_win;
		out->ts_recent = w->ts_recent;
		out->ts_ok = w->ts_ok;
		break;
	}
	}
	return true;
}

uint16_t peek_stack_mss(hsk_stack *s) { return s->tcp.mss; }

enum { WALK_LISTENERS = 16 };

struct walk {
	hsk_stack *s;
	const char *who;
	unsigned skip;
	size_t tcbs, acts, reqs, tws, bytes;
	/* requests per listener */
	const tcp_listener *lst[WALK_LISTENERS];
	uint32_t lst_reqs[WALK_LISTENERS];
	unsigned nlst;
	bool lst_overflow;
};

static size_t ring_bytes(const hsk_ring *r) { return r->buf ? r->cap : 0; }

static void check_tcb(struct walk *w, const tcb *t)
{
	const char *who = w->who;
	hsk_stack *s = w->s;
	const hsk_tuple *k = &t->node.key;
	if (t->state >= HSK_STATE_COUNT)
		FAIL(who, "TCB %u->%u in state %u", k->lport, k->rport, t->state);
	if (!seq_le(t->snd_una, t->snd_nxt) || !seq_le(t->snd_nxt, t->snd_max))
		FAIL(who, "TCB :%u->:%u %s: SND.UNA %u <= SND.NXT %u <= SND.MAX %u broken",
		     k->lport, k->rport, hsk_state_name(t->state), t->snd_una.v,
		     t->snd_nxt.v, t->snd_max.v);
	/* In flight: at most the SYN, the bytes written and the FIN. */
	uint32_t written = (syn_outstanding(t) ? 1 : 0) + tcb_snd_len(t) +
			   ((t->flags & TF_FIN_SENT) ? 1 : 0);
	if ((uint32_t)seq_diff(t->snd_max, t->snd_una) > written)
		FAIL(who, "TCB :%u->:%u %s: %d in flight but only %u written",
		     k->lport, k->rport, hsk_state_name(t->state),
		     seq_diff(t->snd_max, t->snd_una), written);
	if (!(w->skip & PEEK_NO_MSS) && state_synchronized(t->state) &&
	    t->state != HSK_SYN_RECEIVED &&
	    (t->mss == 0 || t->mss > s->tcp.mss))
		FAIL(who, "TCB :%u->:%u %s: send MSS %u outside (0, %u]", k->lport,
		     k->rport, hsk_state_name(t->state), t->mss, s->tcp.mss);
	if (t->snd_wscale > 14 || t->rcv_wscale > 14)
		FAIL(who, "TCB :%u->:%u: window shift %u/%u above 14", k->lport, k->rport,
		     t->snd_wscale, t->rcv_wscale);
	if (t->sd >= 0) {
		if ((unsigned)t->sd >= s->nsocks || s->socks[t->sd].kind != SK_CONN ||
		    s->socks[t->sd].t != t)
			FAIL(who, "TCB :%u->:%u names sd %d, which does not hold it",
			     k->lport, k->rport, t->sd);
	}
	if (t->act) {
		w->bytes += ring_bytes(&t->act->snd) + ring_bytes(&t->act->rcv);
		w->acts++;
	}
	w->tcbs++;
}

static void count_req(struct walk *w, const tcp_req *r)
{
	for (unsigned i = 0; i < w->nlst; i++)
		if (w->lst[i] == r->listener) {
			w->lst_reqs[i]++;
			return;
		}
	if (w->nlst == WALK_LISTENERS) {
		w->lst_overflow = true;
		return;
	}
	w->lst[w->nlst] = r->listener;
	w->lst_reqs[w->nlst++] = 1;
}

static void walk_node(struct walk *w, tbl_node *n)
{
	switch (n->kind) {
	case HSK_OBJ_TCB: {
		const tcb *t = (const tcb *)n;
		if (t->flags & TF_DETACHED)
			FAIL(w->who, "a detached TCB is still in the table");
		if (t->state == HSK_LISTEN || t->state == HSK_TIME_WAIT ||
		    t->state == HSK_CLOSED)
			FAIL(w->who, "TCB :%u->:%u in the table in %s", n->key.lport,
			     n->key.rport, hsk_state_name(t->state));
		check_tcb(w, t);
		break;
	}
	case HSK_OBJ_REQ:
		count_req(w, (const tcp_req *)n);
		w->reqs++;
		break;
	case HSK_OBJ_TW:
		w->tws++;
		break;
	default:
		FAIL(w->who, "table node of kind %u", n->kind);
	}
}

static void check_listener(struct walk *w, const tcp_listener *l)
{
	uint32_t aq = 0;
	if (l->accept_q > l->aq_cap)
		FAIL(w->who, "listener :%u: accept_q %u above the ring's %u", l->port,
		     l->accept_q, l->aq_cap);
	for (uint32_t i = 0; i < l->accept_q; i++) {
		const tcb *t = l->aq[(l->aq_first + i) & (l->aq_cap - 1)];
		aq++;
		if (!(t->flags & TF_ON_ACCEPTQ) || t->sd >= 0)
			FAIL(w->who, "accept queue of :%u holds a TCB not marked as queued",
			     l->port);
		if (t->flags & TF_DETACHED)
			check_tcb(w, t);        /* not in the table: count it here */
	}
	if (aq != l->accept_q)
		FAIL(w->who, "listener :%u: accept_q %u but %u queued", l->port,
		     l->accept_q, aq);
	uint32_t listed = 0;
	for (const tcp_req *r = l->reqs; r; r = r->lnext) {
		if (r->listener != l || (r->lnext && r->lnext->lprev != r))
			FAIL(w->who, "listener :%u: its request list is broken", l->port);
		if (++listed > l->syn_q)
			FAIL(w->who, "listener :%u: more requests listed than syn_q %u",
			     l->port, l->syn_q);
	}
	if (listed != l->syn_q)
		FAIL(w->who, "listener :%u: syn_q %u but %u requests listed", l->port,
		     l->syn_q, listed);
	/* Fast Open children still in SYN_RECEIVED: listed through their
	 * extensions, as many as tfo_pending counts. */
	uint32_t kids = 0;
	for (const tcb *t = l->tfo_kids; t; t = t->act->tfo_next) {
		if (!(t->flags & TF_TFO_PENDING) || t->act->listener != l ||
		    (t->act->tfo_next && t->act->tfo_next->act->tfo_prev != t))
			FAIL(w->who, "listener :%u: its Fast Open list is broken", l->port);
		if (++kids > l->tfo_pending)
			break;
	}
	if (kids != l->tfo_pending)
		FAIL(w->who, "listener :%u: tfo_pending %u but %u children listed", l->port,
		     l->tfo_pending, kids);
	uint32_t reqs = 0;
	for (unsigned i = 0; i < w->nlst; i++)
		if (w->lst[i] == l)
			reqs = w->lst_reqs[i];
	if (!w->lst_overflow && reqs != l->syn_q)
		FAIL(w->who, "listener :%u: syn_q %u but %u requests", l->port, l->syn_q, reqs);
}

/* The first bucket at or after i that is not empty (mask + 1: none). Runs
 * over every bucket after every step: kept free of ASan's checks. */
__attribute__((no_sanitize("address")))
static size_t next_bucket(const hsk_table *t, size_t i)
{
	if (!t->count)
		return t->mask + 1;
	tbl_node *const *b = t->bucket;
	while (i + 8 <= t->mask + 1 && !((uintptr_t)b[i] | (uintptr_t)b[i + 1] |
		(uintptr_t)b[i + 2] | (uintptr_t)b[i + 3] | (uintptr_t)b[i + 4] |
		(uintptr_t)b[i + 5] | (uintptr_t)b[i + 6] | (uintptr_t)b[i + 7]))
		i += 8;
	while (i <= t->mask && !b[i])
		i++;
	return i;
}

void peek_check(hsk_stack *s, const char *who, unsigned skip)
{
	struct walk w = { .s = s, .who = who, .skip = skip };
	/* The table walked here rather than with tbl_foreach: this file is
	 * built without coverage instrumentation, and the walk runs after
	 * every step. */
	size_t found = 0;
	for (size_t i = next_bucket(&s->tcp.conns, 0); i <= s->tcp.conns.mask;
	     i = next_bucket(&s->tcp.conns, i + 1))
		for (tbl_node *n = s->tcp.conns.bucket[i]; n; n = n->next) {
			walk_node(&w, n);
			if (++found > s->tcp.conns.count)
				FAIL(who, "the table holds more than its count %zu",
				     s->tcp.conns.count);
		}
	if (found != s->tcp.conns.count)
		FAIL(who, "the table counts %zu objects, %zu found", s->tcp.conns.count, found);
	unsigned socks = 0, lsn = 0;
	for (unsigned i = 0; i < s->nsocks; i++) {
		const hsk_sock *k = &s->socks[i];
		if (k->kind == SK_FREE)
			continue;
		socks++;
		if (k->kind == SK_CONN) {
			if (k->t->sd != (int)i)
				FAIL(who, "sd %u holds a TCB that names sd %d", i, k->t->sd);
			if (k->t->flags & TF_DETACHED)
				check_tcb(&w, k->t);
		} else if (k->kind == SK_LISTEN) {
			lsn++;
			if (k->l->sd != (int)i)
				FAIL(who, "sd %u holds a listener that names sd %d", i, k->l->sd);
			check_listener(&w, k->l);
		}
	}
	unsigned nl = 0;
	for (const tcp_listener *l = s->tcp.listeners; l; l = l->next)
		nl++;
	if (socks != s->socks_in_use)
		FAIL(who, "%u sockets in use, %u counted", socks, s->socks_in_use);
	if (nl != lsn || nl != pool_in_use(&s->tcp.lst_pool))
		FAIL(who, "%u listeners listed, %u listening sockets, %zu in the pool",
		     nl, lsn, pool_in_use(&s->tcp.lst_pool));
	if (w.tcbs != pool_in_use(&s->tcp.tcb_pool))
		FAIL(who, "%zu TCBs reachable but %zu taken from the pool", w.tcbs,
		     pool_in_use(&s->tcp.tcb_pool));
	if (w.acts != pool_in_use(&s->tcp.act_pool))
		FAIL(who, "%zu TCBs hold an extension but %zu taken from the pool",
		     w.acts, pool_in_use(&s->tcp.act_pool));
	if (w.reqs != pool_in_use(&s->tcp.req_pool))
		FAIL(who, "%zu requests in the table but %zu taken from the pool",
		     w.reqs, pool_in_use(&s->tcp.req_pool));
	if (w.tws != pool_in_use(&s->tcp.tw_pool))
		FAIL(who, "%zu TIME_WAIT entries in the table but %zu in the pool",
		     w.tws, pool_in_use(&s->tcp.tw_pool));
	if (w.bytes != s->tcp.buffer_bytes)
		FAIL(who, "rings hold %zu bytes but buffer_bytes says %zu", w.bytes,
		     s->tcp.buffer_bytes);
}
