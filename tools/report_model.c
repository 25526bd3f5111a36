/*
 * What the page needs before it draws anything, worked out here rather
 * than in the browser (a SYN flood is 30,000 connections): which
 * connection or listener each event belongs to, each connection's two ends
 * (the client first), and the figures of the index — segments,
 * retransmissions, timeouts, bytes, losses, outcome. The page matches a
 * connection's segments itself (tools/report/model.js) when it draws it;
 * the rules here are the same, and a browser test checks that both count
 * alike.
 *
 * A connection is a 4-tuple incarnation: a new one starts when an end that
 * already sent a SYN sends one with a new sequence number (or a SYN comes
 * after both ends finished), or when an end that already opened (or a
 * finished connection's end) opens again. Its client (side 0) is the end
 * that sent the first SYN, else the host called "client", else the end
 * that did not listen, else the first sender.
 */
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "report.h"

enum { ST_NONE = -1 };

typedef struct rm_end {
	int ep, host;
	int64_t syn;            /* SEG.SEQ of its first SYN, -1: none */
	bool opened, passive;
	int last, n;            /* latest state (ST_NONE), transitions */
} rm_end;

typedef struct rm_conn {
	rm_end e[2];
	int first_syn, first_tx; /* endpoint string index, -1 */
	int listener;
	double t0, t1;
	/* the tally, per side after ordering */
	uint32_t segs[2], retrans[2], rto[2], drops;
	uint64_t bytes[2];
	bool cookie, rst, full;
	int outcome;            /* string index */
	size_t first, count;    /* its events in the per-connection order */
} rm_conn;

typedef struct rm_lis {
	int host, ep;
} rm_lis;

struct rep_model {
	int *owner;             /* per event: conn >= 0, -2 - listener, -1 none */
	rm_conn *c;
	size_t nc, capc;
	rm_lis *l;
	size_t nl, capl;
	size_t *order;          /* event indexes grouped by connection */
};

/* ---- a map from a 64-bit key to an int ---- */
typedef struct imap {
	uint64_t *k;
	int *v;
	size_t n, cap;
} imap;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static int *imap_slot(imap *m, uint64_t key, bool add)
{
	size_t i;

	if (add && (m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024, j;
		uint64_t *k = malloc(cap * sizeof(*k));
		int *v = malloc(cap * sizeof(*v));

		if (!k || !v) {
			free(k);
			free(v);
			return NULL;
		}
		for (j = 0; j < cap; j++)
			v[j] = -1;
		for (j = 0; j < m->cap; j++) {
			if (m->v[j] < 0)
				continue;
			i = mix(m->k[j]) & (cap - 1);
			while (v[i] >= 0)
				i = (i + 1) & (cap - 1);
			k[i] = m->k[j];
			v[i] = m->v[j];
		}
		free(m->k);
		free(m->v);
		m->k = k;
		m->v = v;
		m->cap = cap;
	}
	if (!m->cap)
		return NULL;
	i = mix(key) & (m->cap - 1);
	while (m->v[i] >= 0 && m->k[i] != key)
		i = (i + 1) & (m->cap - 1);
	if (m->v[i] < 0 && add) {
		m->k[i] = key;
		m->n++;
	}
	return m->v[i] >= 0 || add ? &m->v[i] : NULL;
}

static void imap_free(imap *m)
{
	free(m->k);
	free(m->v);
}

/* ---- grouping ---- */

static rm_conn *new_conn(rep_model *m, const rep_ev *e)
{
	rm_conn *c;
	int s;

	if (m->nc == m->capc) {
		size_t cap = m->capc ? m->capc * 2 : 256;
		rm_conn *nc = realloc(m->c, cap * sizeof(*nc));

		if (!nc)
			return NULL;
		m->c = nc;
		m->capc = cap;
	}
	c = &m->c[m->nc++];
	memset(c, 0, sizeof(*c));
	c->e[0].ep = e->local;
	c->e[1].ep = e->remote;
	for (s = 0; s < 2; s++) {
		c->e[s].host = -1;
		c->e[s].syn = -1;
		c->e[s].last = ST_NONE;
	}
	c->first_syn = c->first_tx = c->listener = -1;
	c->t0 = e->t_us;
	return c;
}

static rm_end *end_of(rm_conn *c, int ep)
{
	return &c->e[c->e[0].ep == ep ? 0 : 1];
}

static bool ended(const rm_conn *c)
{
	const rm_end *a = &c->e[0], *b = &c->e[1];

	if (!a->n && !b->n)
		return false;
	return (!a->n || a->last == HSK_CLOSED || a->last == HSK_TIME_WAIT) &&
	       (!b->n || b->last == HSK_CLOSED || b->last == HSK_TIME_WAIT);
}

/* The sender's endpoint: a transmission's own, a network drop's (reported
 * by the sender, obj none) too, else (a reception, a receiver's drop) the
 * remote one. */
static int sender_ep(const rep_ev *e)
{
	return e->kind == RK_TX || (e->kind == RK_DROP && e->obj == HSK_OBJ_NONE) ? e->local
										    : e->remote;
}

static int listener_of(rep_model *m, imap *lmap, const rep_ev *e, size_t nstr)
{
	uint64_t key = (uint64_t)(uint32_t)e->host * (nstr + 1) + (uint64_t)(uint32_t)(e->local + 1);
	int *slot = imap_slot(lmap, key, true);

	if (!slot)
		return -1;
	if (*slot < 0) {
		if (m->nl == m->capl) {
			size_t cap = m->capl ? m->capl * 2 : 8;
			rm_lis *nl = realloc(m->l, cap * sizeof(*nl));

			if (!nl)
				return -1;
			m->l = nl;
			m->capl = cap;
		}
		m->l[m->nl] = (rm_lis){ e->host, e->local };
		*slot = (int)m->nl++;
	}
	return *slot;
}

static int group(rep_model *m, report *r)
{
	rep_ev *ev = report_events(r);
	size_t n = report_nev(r), nstr = report_nstrings(r), i;
	int any = report_str(r, "0.0.0.0:0");
	imap pairs = { 0 }, lmap = { 0 };
	int rc = 0;

	for (i = 0; i < n; i++) {
		const rep_ev *e = &ev[i];
		rm_conn *c;
		rm_end *en;
		uint64_t key;
		int *slot;

		if (e->kind == RK_QUEUE || (e->local >= 0 && (e->remote < 0 || e->remote == any))) {
			int l = listener_of(m, &lmap, e, nstr);

			if (l < 0)
				goto oom;
			m->owner[i] = -2 - l;
			continue;
		}
		if (e->local < 0 || e->remote < 0) {
			m->owner[i] = -1;
			continue;
		}
		key = e->local < e->remote ? (uint64_t)e->local * (nstr + 1) + (uint64_t)e->remote
					   : (uint64_t)e->remote * (nstr + 1) + (uint64_t)e->local;
		slot = imap_slot(&pairs, key, true);
		if (!slot)
			goto oom;
		c = *slot >= 0 ? &m->c[*slot] : NULL;
		if (!c && !(c = new_conn(m, e)))
			goto oom;
		*slot = (int)(c - m->c);
		if (e->kind == RK_STATE) {
			en = end_of(c, e->local);
			if ((e->from == HSK_CLOSED || e->from == HSK_LISTEN) &&
			    (e->to == HSK_SYN_SENT || e->to == HSK_SYN_RECEIVED) && en->n > 0 &&
			    (en->opened || ended(c))) {
				if (!(c = new_conn(m, e)))
					goto oom;
				*slot = (int)(c - m->c);
			}
			en = end_of(c, e->local);
			en->host = e->host;
			en->n++;
			en->last = e->to;
			if (e->to == HSK_SYN_SENT || e->to == HSK_SYN_RECEIVED)
				en->opened = true;
			if (e->from == HSK_LISTEN)
				en->passive = true;
		} else if (e->kind <= RK_DROP && e->flags > 0 && (e->flags & HSK_TH_SYN) &&
			   !(e->flags & HSK_TH_ACK)) {
			int ep = sender_ep(e);

			en = end_of(c, ep);
			if ((en->syn >= 0 && en->syn != e->seq) || (en->syn < 0 && ended(c))) {
				if (!(c = new_conn(m, e)))
					goto oom;
				*slot = (int)(c - m->c);
			}
			en = end_of(c, ep);
			if (en->syn < 0)
				en->syn = e->seq;
			if (c->first_syn < 0)
				c->first_syn = ep;
		}
		if (e->kind != RK_STATE && (en = end_of(c, e->local))->host < 0)
			en->host = e->host;
		if (e->kind == RK_TX && c->first_tx < 0)
			c->first_tx = e->local;
		c->t1 = e->t_us;
		c->count++;
		m->owner[i] = (int)(c - m->c);
	}
out:
	imap_free(&pairs);
	imap_free(&lmap);
	return rc;
oom:
	rc = -1;
	goto out;
}

/* Side 0 first: the end that sent the first SYN, else the one called
 * "client", else the one that did not listen, else the first sender. */
static void order_sides(report *r, rm_conn *c)
{
	int client = report_str(r, "client"), first;
	rm_end t;

	if (c->first_syn >= 0)
		first = c->first_syn == c->e[0].ep ? 0 : 1;
	else if (c->e[0].host == client || c->e[1].host == client)
		first = c->e[0].host == client ? 0 : 1;
	else if (c->e[0].passive || c->e[1].passive)
		first = c->e[0].passive ? 1 : 0;
	else
		first = c->first_tx >= 0 && c->first_tx == c->e[1].ep ? 1 : 0;
	if (first) {
		t = c->e[0];
		c->e[0] = c->e[1];
		c->e[1] = t;
	}
}

/* ---- the tally ---- */

typedef struct pend {
	int side, flags;
	uint32_t seq, ack, len;
} pend;

typedef struct tally_ctx {
	pend *p;
	size_t np, cap;
	int64_t max_end[2];     /* -1: nothing sent */
	uint32_t last_backoff[2];
	double last_syn_rx[2], prev_t[2];
	bool prev_rtx[2];
} tally_ctx;

static bool take(tally_ctx *x, int side, const rep_ev *e)
{
	size_t i;

	for (i = 0; i < x->np; i++) {
		pend *p = &x->p[i];

		if (p->side == side && p->seq == e->seq && p->flags == e->flags &&
		    p->ack == e->ack && p->len == e->len) {
			memmove(p, p + 1, (x->np - i - 1) * sizeof(*p));
			x->np--;
			return true;
		}
	}
	return false;
}

static int put(tally_ctx *x, int side, const rep_ev *e)
{
	if (x->np == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		pend *np = realloc(x->p, cap * sizeof(*np));

		if (!np)
			return -1;
		x->p = np;
		x->cap = cap;
	}
	x->p[x->np++] = (pend){ side, e->flags, e->seq, e->ack, e->len };
	return 0;
}

/* One segment: new data, or below what its sender already sent (a
 * retransmission; of a SYN, a timeout's unless it answers a duplicate). */
static void count(tally_ctx *x, rm_conn *c, const rep_ev *e, int s)
{
	uint32_t space = e->len + !!(e->flags & HSK_TH_SYN) + !!(e->flags & HSK_TH_FIN);
	uint32_t end = e->seq + space;
	bool rtx = false;

	c->segs[s]++;
	if (e->flags & HSK_TH_RST) {
		c->rst = true;
	} else if (space > 0) {
		rtx = x->max_end[s] >= 0 && (int32_t)(e->seq - (uint32_t)x->max_end[s]) < 0;
		if (x->max_end[s] < 0 || (int32_t)(end - (uint32_t)x->max_end[s]) > 0)
			x->max_end[s] = end;
	}
	if (rtx) {
		c->retrans[s]++;
		if ((e->flags & HSK_TH_SYN) && e->kind == RK_TX &&
		    !((e->flags & HSK_TH_ACK) && x->last_syn_rx[s] == e->t_us))
			c->rto[s]++;
	} else {
		c->bytes[s] += e->len;
	}
	x->prev_rtx[s] = rtx && !(e->flags & HSK_TH_SYN);
	x->prev_t[s] = e->kind == RK_TX ? e->t_us : -1;
}

static int tally(tally_ctx *x, report *r, rm_conn *c, const size_t *idx)
{
	const rep_ev *ev = report_events(r);
	size_t i;
	int s;

	x->np = 0;
	for (s = 0; s < 2; s++) {
		x->max_end[s] = -1;
		x->last_backoff[s] = 0;
		x->last_syn_rx[s] = x->prev_t[s] = -1;
		x->prev_rtx[s] = false;
	}
	for (i = 0; i < c->count; i++) {
		const rep_ev *e = &ev[idx[i]];
		const char *reason;

		s = e->local == c->e[0].ep ? 0 : 1;
		switch (e->kind) {
		case RK_CC:
			if (x->prev_rtx[s] && x->prev_t[s] == e->t_us && e->backoff > x->last_backoff[s])
				c->rto[s]++;
			x->prev_rtx[s] = false;
			x->last_backoff[s] = e->backoff;
			break;
		case RK_TX:
			count(x, c, e, s);
			if (e->obj == HSK_OBJ_LISTEN && (e->flags & (HSK_TH_SYN | HSK_TH_ACK)) ==
			    (HSK_TH_SYN | HSK_TH_ACK))
				c->cookie = true;
			if (put(x, s, e) < 0)
				return -1;
			break;
		case RK_RX:
			if ((e->flags & HSK_TH_SYN) && !(e->flags & HSK_TH_ACK))
				x->last_syn_rx[s] = e->t_us;
			if (!take(x, 1 - s, e))
				count(x, c, e, 1 - s);
			break;
		case RK_DROP:
			if (e->flags < 0)
				break;
			if (e->obj != HSK_OBJ_NONE)
				take(x, 1 - s, e);
			else if (!take(x, s, e))
				count(x, c, e, s);
			reason = report_string(r, e->reason);
			if (reason && strstr(reason, "queue full"))
				c->full = true;
			c->drops++;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* ---- the outcome, as the index says it ---- */

static bool has(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strstr(s, *words))
			return true;
	return false;
}

static const char *outcome(report *r, rm_conn *c, const size_t *idx, char *buf, size_t cap)
{
	static const char *const rst[] = { "RST", "abort", "reset", "listener closed", NULL };
	static const char *const tmo[] = { "timeout", "exhausted", "retries", "keepalive", NULL };
	const rep_ev *ev = report_events(r);
	bool est = false;
	size_t i, n = 0;
	int s, open = 0;

	for (i = 0; i < c->count; i++)
		if (ev[idx[i]].kind == RK_STATE && ev[idx[i]].to == HSK_ESTABLISHED)
			est = true;
	for (i = 0; i < c->count; i++) {
		const rep_ev *e = &ev[idx[i]];
		const char *cause;

		if (e->kind != RK_STATE)
			continue;
		n++;
		cause = report_string(r, e->cause);
		cause = cause ? cause : "";
		if (!strncmp(cause, "inferred: ", 10))
			cause += 10;
		if (e->from == HSK_SYN_SENT && e->to == HSK_CLOSED && strstr(cause, "RST"))
			return "refused";
		if ((e->to == HSK_CLOSED || (e->from == HSK_SYN_RECEIVED && e->to == HSK_LISTEN)) &&
		    has(cause, rst))
			return est ? "reset" : "reset in handshake";
		if (e->to == HSK_CLOSED && e->from != HSK_TIME_WAIT && has(cause, tmo))
			return est ? "timed out" : "handshake timed out";
	}
	if (!n)
		return c->cookie ? "SYN cookie" : c->full ? "SYN dropped" : c->rst ? "reset"
										 : "segments only";
	buf[0] = '\0';
	for (s = 0; s < 2; s++) {
		int l = c->e[s].last;

		if (l != ST_NONE && l != HSK_CLOSED && l != HSK_TIME_WAIT && l != HSK_LISTEN) {
			size_t used = strlen(buf);

			snprintf(buf + used, cap - used, "%s%s", open++ ? ", " : "open (",
				 hsk_state_name(l));
		}
	}
	if (open) {
		size_t used = strlen(buf);

		snprintf(buf + used, cap - used, ")");
		return buf;
	}
	if (c->e[0].last == HSK_TIME_WAIT || c->e[1].last == HSK_TIME_WAIT)
		return "closed (TIME_WAIT at the end)";
	return "closed";
}

/* ---- the whole ---- */

void rep_model_free(rep_model *m)
{
	if (!m)
		return;
	free(m->owner);
	free(m->c);
	free(m->l);
	free(m->order);
	free(m);
}

rep_model *rep_model_build(report *r)
{
	size_t n = report_nev(r), i;
	rep_model *m = calloc(1, sizeof(*m));
	tally_ctx x = { 0 };
	char buf[96];

	if (!m || !(m->owner = malloc((n ? n : 1) * sizeof(int))) ||
	    !(m->order = malloc((n ? n : 1) * sizeof(size_t))) || group(m, r) < 0)
		goto oom;
	/* each connection's events together, in time order */
	for (i = 0; i < m->nc; i++)
		m->c[i].first = i ? m->c[i - 1].first + m->c[i - 1].count : 0;
	for (i = 0; i < m->nc; i++)
		m->c[i].count = 0;
	for (i = 0; i < n; i++)
		if (m->owner[i] >= 0) {
			rm_conn *c = &m->c[m->owner[i]];

			m->order[c->first + c->count++] = i;
		}
	for (i = 0; i < m->nc; i++) {
		rm_conn *c = &m->c[i];
		const size_t *idx = m->order + c->first;
		const char *oc;

		order_sides(r, c);
		if (tally(&x, r, c, idx) < 0)
			goto oom;
		oc = outcome(r, c, idx, buf, sizeof(buf));
		c->outcome = report_str(r, oc);
		if (c->outcome < 0)
			goto oom;
	}
	free(x.p);
	return m;
oom:
	free(x.p);
	rep_model_free(m);
	return NULL;
}

/* ,"owner":[..],"conns":[..],"listeners":[..] (see docs/report.md) */
void rep_model_write(FILE *f, const rep_model *m, size_t nev)
{
	size_t i;

	fputs(",\"owner\":[", f);
	for (i = 0; i < nev; i++)
		fprintf(f, "%s%d", i ? "," : "", m->owner[i]);
	fputs("],\"conns\":[", f);
	for (i = 0; i < m->nc; i++) {
		const rm_conn *c = &m->c[i];

		fprintf(f, "%s[%d,%d,%d,%d,", i ? ",\n" : "", c->e[0].ep, c->e[1].ep, c->e[0].host,
			c->e[1].host);
		json_write_num(f, c->t0);
		fputc(',', f);
		json_write_num(f, c->t1);
		fprintf(f, ",%d,%d,%u,%u,%u,%u,%u,%u,%llu,%llu,%u,%d,%d]", c->e[0].last, c->e[1].last,
			c->segs[0], c->segs[1], c->retrans[0], c->retrans[1], c->rto[0], c->rto[1],
			(unsigned long long)c->bytes[0], (unsigned long long)c->bytes[1], c->drops,
			(c->cookie ? 1 : 0) | (c->rst ? 2 : 0) | (c->full ? 4 : 0), c->outcome);
	}
	fputs("],\"listeners\":[", f);
	for (i = 0; i < m->nl; i++)
		fprintf(f, "%s[%d,%d]", i ? "," : "", m->l[i].host, m->l[i].ep);
	fputc(']', f);
}
