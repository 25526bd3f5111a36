/* The compared workload of tests/support/workload.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "workload.h"

enum { C = 0, S = 1 };

void wl_plan(sim *sm, hsk_rng *rng, wl_conn *w, uint16_t port, const uint64_t *pauses,
	     unsigned npauses)
{
	static const size_t sizes[] = { 1, 64, 700, 1460, 3000, 60000 };
	memset(w, 0, sizeof(*w));
	w->ssd = -1;
	w->rounds = 1 + (int)rng_below(rng, WL_MAX_ROUNDS);
	for (int r = 0; r < w->rounds; r++) {
		w->req[r] = sizes[rng_below(rng, 6)];
		w->resp[r] = sizes[rng_below(rng, 6)];
		w->pause[r] = pauses[rng_below(rng, npauses)];
	}
	w->server_closes = rng_below(rng, 2);
	w->lsd = sim_listen(sm, S, port, 4);
	w->csd = sim_connect(sm, C, S, port);
}

/* Moves bytes from one end to the other: true once all `total` arrived. */
static bool pump_msg(hsk_stack *from, int fsd, hsk_stack *to, int tsd, size_t total,
		     wl_conn *w)
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

void wl_step(sim *sm, wl_conn *w)
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
			/* nothing in flight: the probes alone */
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

char *wl_trace(const sim *sm, size_t *len)
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

void wl_same(uint64_t seed, char *a, size_t la, const char *name_a, char *b, size_t lb,
	     const char *name_b)
{
	if (la != lb || memcmp(a, b, la)) {
		size_t i = 0, line = 1;
		while (i < la && i < lb && a[i] == b[i])
			line += a[i++] == '\n';
		fprintf(stderr, "seed %llu: traces differ at line %zu\n%s: %.300s\n%s: %.300s\n",
			(unsigned long long)seed, line, name_a, a + i, name_b, b + i);
		fail();
	}
	free(a);
	free(b);
}
