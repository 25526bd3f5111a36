/*
 * Listeners: the SYN queue of compact requests and the accept queue of
 * established connections, behind one backlog.
 *
 * Overflow, as Linux does it (and counted the same way):
 *   - accept queue full when a SYN arrives: the SYN is dropped
 *     (ListenOverflows, ListenDrops); the client retransmits it.
 *   - SYN queue full (backlog, capped by max_syn_backlog): with syncookies
 *     (the default) the SYN is answered with a cookie SYN-ACK and nothing is
 *     kept (TCPReqQFullDoCookies, SyncookiesSent; cookie.c); without, the
 *     SYN is dropped (TCPReqQFullDrop, ListenDrops).
 *   - an ACK (no SYN, no RST) reaching the listener itself within
 *     COOKIE_VALID_NS (128 s) of its last cookie is checked as a cookie:
 *     valid, a TCB is built directly in SYN_RECEIVED, traced as the request
 *     LISTEN -> SYN_RECEIVED "rcv ACK with SYN cookie" (SyncookiesRecv);
 *     invalid or expired, RST with seq = SEG.ACK (SyncookiesFailed). With no
 *     recent cookie an ACK is reset without being checked, as before.
 *   - accept queue full when the final ACK arrives: the ACK is dropped and
 *     the request kept (ListenOverflows, ListenDrops), so the SYN-ACK
 *     retransmission makes the client ACK again later; with
 *     abort_on_overflow the request is reset instead. A valid cookie ACK
 *     meeting a full accept queue is dropped (or reset with
 *     abort_on_overflow) the same way, but nothing is kept: the client's
 *     next segment (its data, or a retransmission) carries the cookie again.
 * A request lives until the final ACK promotes it to a TCB, or until its
 * SYN-ACK has been retransmitted synack_retries times and one more timeout
 * passes (the half-open lifetime: 63 s with the defaults), or a reset.
 */
#include <string.h>

#include "tcp/tcp.h"

static bool any6(const uint8_t a[16])
{
	for (int i = 0; i < 16; i++)
		if (a[i])
			return false;
	return true;
}

tcp_listener *listener_find(tcp_stack *s, uint32_t addr, uint16_t port)
{
	for (tcp_listener *l = s->listeners; l; l = l->next) {
		if (l->port != port)
			continue;
		if (l->family != HSK_AF_INET6 ? (l->addr == 0 || l->addr == addr) :
		    (!l->v6only && any6(l->addr6)))
			return l;
	}
	return NULL;
}

tcp_listener *listener_find6(tcp_stack *s, const uint8_t a6[16], uint16_t port)
{
	for (tcp_listener *l = s->listeners; l; l = l->next)
		if (l->port == port && l->family == HSK_AF_INET6 &&
		    (any6(l->addr6) || !memcmp(l->addr6, a6, 16)))
			return l;
	return NULL;
}

tcp_listener *listener_lookup(tcp_stack *s, const hsk_tuple *tu)
{
	tcp_listener *l = listener_find(s, tu->laddr, tu->lport);
	if (!l || !l->reuseport)
		return l;
	/* An SO_REUSEPORT group: the members bound where the first match is;
	 * one of them by a keyed hash of the 4-tuple, as Linux's
	 * reuseport_select_sock (the same listener for every segment of a
	 * connection, SYN cookies' ACKs included). */
	unsigned n = 0;
	for (tcp_listener *m = l; m; m = m->next)
		n += m->reuseport && m->port == l->port && m->addr == l->addr &&
		     m->family == l->family;
	uint32_t pick = (uint32_t)(tuple_hash(tu, s->env->key0 ^ 0x72657573u, s->env->key1) % n);
	for (tcp_listener *m = l; m; m = m->next)
		if (m->reuseport && m->port == l->port && m->addr == l->addr &&
		    m->family == l->family && pick-- == 0)
			return m;
	return l;
}

tcp_listener *listener_for(tcp_stack *s, const tcp_seg *sg)
{
	return sg->a6 ? listener_find6(s, sg->a6->l, sg->tuple.lport) :
			listener_lookup(s, &sg->tuple);
}

static uint32_t syn_queue_limit(const tcp_stack *s, const tcp_listener *l)
{
	return l->backlog < s->env->cfg.max_syn_backlog ? l->backlog : s->env->cfg.max_syn_backlog;
}

/* The window of a SYN-ACK: the listener's buffer, at most 65535 (never
 * scaled). A cookie SYN-ACK keeps nothing, so it offers the same whatever
 * the memory. */
static uint16_t req_window(const tcp_listener *l)
{
	return (uint16_t)(l->rcvbuf > 65535 ? 65535 : l->rcvbuf);
}

/* A request's: under memory pressure no more than rcvbuf_min, so that the
 * connection starts with a small window and a small receive ring (what
 * its SYN-ACK offered must fit). Kept in the request. */
static uint16_t req_window_now(const tcp_stack *s, const tcp_listener *l)
{
	uint16_t w = req_window(l);
	if (s->mem_pressure && w > s->env->cfg.rcvbuf_min)
		w = (uint16_t)s->env->cfg.rcvbuf_min;
	return w;
}

void req_send(tcp_stack *s, tcp_req *r, uint8_t flags)
{
	seg_out o = {
		.flags = flags, .seq = r->iss, .ack = seq_add(r->irs, 1),
		.win = r->rcv_wnd, .tos = r->listener->tos,
	};
	if ((flags & HSK_TH_SYN) && r->ecn_ok)
		o.flags |= HSK_TH_ECE;          /* ECN agreed (ecn.c) */
	uint8_t cookie[8];
	if (flags & HSK_TH_SYN) {
		syn_options(s, &o.opt, r->snd_wscale, r->rcv_wscale, true, r->node.v6);
		o.opt.mss = mss_cap(o.opt.mss, r->listener->user_mss);
		syn_options_stream(s, &o.opt, r->sack_ok, r->ts_ok, r->ts_offset,
				   r->ts_recent);
		if (r->tfo_cookie) {    /* RFC 7413: the cookie the SYN asked for */
			tfo_cookie_make(s, &r->node.key, obj_a6(s, &r->node), cookie);
			o.opt.has_fo = true;
			o.opt.fo_len = sizeof(cookie);
			o.opt.fo_cookie = cookie;
		}
	} else {
		o.seq = seq_add(r->iss, 1);
		if (r->ts_ok) {
			o.opt.has_ts = true;
			o.opt.ts_val = rtt_tsval(&s->rttp, s->env->now, r->ts_offset);
			o.opt.ts_ecr = r->ts_recent;
		}
	}
	seg_send(s, &r->node.key, obj_a6(s, &r->node), &o, NULL, HSK_OBJ_REQ, -1);
}

void req_free(tcp_stack *s, tcp_req *r)
{
	wheel_cancel(&s->env->wheel, &r->timer);
	tbl_remove(&s->conns, &r->node);
	r->listener->syn_q--;
	if (s->env->cfg.trace)
		trace_listener(s, r->listener);
	tcp_obj_put(s, &r->node);
}

static void drop_seg(tcp_stack *s, int obj, const tcp_seg *sg, const char *why)
{
	trace_segment(s, HSK_EV_DROP, obj, -1, &sg->tuple, sg->a6, &sg->th, sg->len, why);
}

/* The SYN queue is full: answer with a cookie and keep nothing. The SYN-ACK
 * offers our MSS and no window scale (cookie.c). */
static void cookie_syn(tcp_stack *s, tcp_listener *l, const tcp_seg *sg)
{
	CNT_INC(s->env, TCPReqQFullDoCookies);
	CNT_INC(s->env, SyncookiesSent);
	l->cookies_sent = true;
	l->last_cookie_ns = s->env->now;
	seg_out o = {
		.flags = HSK_TH_SYN | HSK_TH_ACK,
		.seq = cookie_make(s, &sg->tuple, sg->a6, sg->seq, sg->th.opt.mss),
		.ack = seq_add(sg->seq, 1), .win = req_window(l), .tos = l->tos,
	};
	syn_options(s, &o.opt, -1, 0, true, sg->a6 != NULL);
	o.opt.mss = mss_cap(o.opt.mss, l->user_mss);
	seg_send(s, &sg->tuple, sg->a6, &o, NULL, HSK_OBJ_LISTEN, l->sd);
}

/* Cookies are checked only while a flood may be on (Linux's
 * tcp_synq_no_recent_overflow): otherwise an ACK to a listener is reset
 * without hashing anything. */
static bool cookie_recent(const tcp_stack *s, const tcp_listener *l)
{
	return s->env->cfg.syncookies && l->cookies_sent &&
	       s->env->now - l->last_cookie_ns <= COOKIE_VALID_NS;
}

static tcp_verdict cookie_ack(tcp_stack *s, tcp_listener *l, const tcp_seg *sg);

void req_from_syn(tcp_stack *s, tcp_listener *l, const tcp_seg *sg, const hsk_seq *isn,
		  tcp_req *r)
{
	*r = (tcp_req){ .listener = l };
	/* an IPv6 request from its pool keeps its addresses after it */
	r->node.v6 = sg->a6 != NULL;
	r->node.key = sg->tuple;
	r->node.kind = HSK_OBJ_REQ;
	timer_init(&r->timer);
	r->irs = sg->seq;
	r->iss = isn ? *isn : tcp_isn(s, &sg->tuple, sg->a6);
	r->peer_wnd = sg->th.win;
	r->rcv_wnd = req_window_now(s, l);
	r->mss = sg->th.opt.mss;
	r->snd_wscale = s->env->cfg.window_scaling ? sg->th.opt.wscale : -1;
	r->rcv_wscale = r->snd_wscale >= 0 ? wscale_for(l->rcvbuf) : 0;
	r->sack_ok = sg->th.opt.sack_ok && s->env->cfg.sack;
	r->ts_ok = sg->th.opt.has_ts && s->env->cfg.timestamps;
	r->ts_recent = sg->th.opt.ts_val;
	r->ts_offset = (uint32_t)rng_next(&s->env->rng);
	r->synack_at = s->env->now;
	r->ecn_ok = ecn_syn_ok(s, sg);
}

tcp_verdict listen_input(tcp_stack *s, tcp_listener *l, const tcp_seg *sg)
{
	return listen_input_isn(s, l, sg, NULL);
}

/* A listener is no connection object: it traces its own drops and hands
 * reply.c verdicts without a reason. */
static tcp_verdict listen_drop(tcp_stack *s, tcp_listener *l, const tcp_seg *sg,
			       enum tcp_act act, const char *why)
{
	trace_segment(s, HSK_EV_DROP, HSK_OBJ_LISTEN, l->sd, &sg->tuple, sg->a6, &sg->th,
		      sg->len, why);
	return TV(act, NULL);
}

tcp_verdict listen_input_isn(tcp_stack *s, tcp_listener *l, const tcp_seg *sg,
			     const hsk_seq *isn)
{
	uint8_t f = sg->th.flags;
	if (f & HSK_TH_RST)
		return listen_drop(s, l, sg, TV_DROP, "RST to a listener");
	if ((f & HSK_TH_ACK) && !(f & HSK_TH_SYN) && cookie_recent(s, l))
		return cookie_ack(s, l, sg);
	if (f & HSK_TH_ACK) {
		/* RFC 9293: any ACK is bad in LISTEN; reset with seq = SEG.ACK. */
		return listen_drop(s, l, sg, TV_RST, "ACK to a listener");
	}
	if (!(f & HSK_TH_SYN))
		return listen_drop(s, l, sg, TV_DROP, "no SYN to a listener");
	if (l->accept_q >= l->backlog) {
		CNT_INC(s->env, ListenOverflows);
		CNT_INC(s->env, ListenDrops);
		return listen_drop(s, l, sg, TV_DROP, "accept queue full");
	}
	if (l->syn_q >= syn_queue_limit(s, l)) {
		if (s->env->cfg.syncookies) {
			cookie_syn(s, l, sg);
			return TV(TV_DONE, NULL);
		}
		CNT_INC(s->env, TCPReqQFullDrop);
		CNT_INC(s->env, ListenDrops);
		return listen_drop(s, l, sg, TV_DROP, "SYN queue full");
	}
	/* TCP Fast Open (tfo.c): a valid cookie makes a TCB at once, with
	 * the SYN's data; a request for a cookie gets one in the SYN-ACK. */
	bool tfo_cookie = false;
	if ((s->env->cfg.tcp_fastopen & HSK_TFO_SERVER) &&
	    tfo_syn(s, l, sg, isn, &tfo_cookie))
		return TV(TV_DONE, NULL);
	tcp_req *r = tcp_obj_get(s, HSK_OBJ_REQ, &sg->tuple, sg->a6);
	if (!r) {
		CNT_INC(s->env, ListenDrops);
		CNT_INC(s->env, DropNoMemory);
		return listen_drop(s, l, sg, TV_DROP, "no memory for a request");
	}
	req_from_syn(s, l, sg, isn, r);
	r->tfo_cookie = tfo_cookie;
	tbl_insert(&s->conns, &r->node);
	l->syn_q++;
	if (s->env->cfg.trace)
		trace_listener(s, l);
	trace_obj_state(s, HSK_OBJ_REQ, &r->node.key, sg->a6, HSK_LISTEN, HSK_SYN_RECEIVED,
			"rcv SYN");
	req_send(s, r, HSK_TH_SYN | HSK_TH_ACK);
	wheel_arm(&s->env->wheel, &r->timer, s->env->now + s->env->cfg.rto_initial_ns);
	return TV(TV_DONE, NULL);
}

void req_timer_fire(tcp_stack *s, tcp_req *r, uint64_t now)
{
	/* Linux's syn_ack_recalc: a request whose bare ACK TCP_DEFER_ACCEPT
	 * held lives out the deferral, quietly (no SYN-ACK) but for the last
	 * timeout, whose SYN-ACK draws the ACK that is then accepted. */
	uint8_t defer = r->listener->defer_retrans;
	bool expire = r->retries >= s->env->cfg.synack_retries &&
		      (!r->acked || r->retries >= defer);
	bool resend = !r->acked || r->retries + 1 >= defer;
	if (r->acked && defer && !expire) {
		r->retries++;
		if (resend) {
			CNT_INC(s->env, TCPSynRetrans);
			CNT_INC(s->env, RetransSegs);
			req_send(s, r, HSK_TH_SYN | HSK_TH_ACK);
		}
		uint64_t rto = s->env->cfg.rto_initial_ns << r->retries;
		if (rto > s->env->cfg.rto_max_ns)
			rto = s->env->cfg.rto_max_ns;
		wheel_arm(&s->env->wheel, &r->timer, now + rto);
		return;
	}
	if (expire || r->retries >= s->env->cfg.synack_retries) {
		trace_obj_state(s, HSK_OBJ_REQ, &r->node.key, obj_a6(s, &r->node),
				HSK_SYN_RECEIVED, HSK_CLOSED, "timer SYN-ACK retries exhausted");
		req_free(s, r);
		return;
	}
	r->retries++;
	CNT_INC(s->env, TCPSynRetrans);
	CNT_INC(s->env, RetransSegs);
	req_send(s, r, HSK_TH_SYN | HSK_TH_ACK);
	uint64_t rto = s->env->cfg.rto_initial_ns << r->retries;
	if (rto > s->env->cfg.rto_max_ns)
		rto = s->env->cfg.rto_max_ns;
	wheel_arm(&s->env->wheel, &r->timer, now + rto);
}

static bool req_seq_acceptable(const tcp_req *r, const tcp_seg *sg)
{
	hsk_seq nxt = seq_add(r->irs, 1);
	uint32_t len = seg_space(sg);
	hsk_seq end = seq_add(nxt, r->rcv_wnd);
	if (len == 0)
		return seq_in(sg->seq, nxt, end);
	return seq_in(sg->seq, nxt, end) || seq_in(seq_add(sg->seq, len - 1), nxt, end);
}

tcb *listener_child(tcp_stack *s, tcp_listener *l, const tcp_req *r, const tbl_v6addrs *a6)
{
	tcb *t = tcb_new(s, &r->node.key, a6);
	if (!t)
		return NULL;
	t->state = HSK_SYN_RECEIVED;
	t->flags |= TF_PASSIVE |
		    (l->flags & (TF_NODELAY | TF_KEEPALIVE | TF_LINGER0 | TF_REUSEADDR));
	t->user_mss = l->user_mss;
	if (l->cc)
		t->cc.ops = l->cc;
	t->sndbuf = l->sndbuf;
	t->rcvbuf = l->rcvbuf;
	t->tos = l->tos;
	t->ecn = r->ecn_ok ? ECN_OK : 0;
	t->iss = r->iss;
	t->snd_una = t->iss;
	t->snd_nxt = t->snd_max = seq_add(t->iss, 1);
	t->snd_sml = t->iss;
	t->irs = r->irs;
	t->rcv_nxt = seq_add(r->irs, 1);
	t->rcv_adv = seq_add(t->rcv_nxt, r->rcv_wnd);
	tcb_init_from_syn(s, t, r->mss, r->snd_wscale);
	if (t->flags & TF_WSCALE)
		t->rcv_wscale = r->rcv_wscale;
	tcp_opts peer = { .sack_ok = r->sack_ok, .has_ts = r->ts_ok,
			  .ts_val = r->ts_recent };
	tcb_init_stream_opts(s, t, &peer);
	t->ts_offset = r->ts_offset;
	/* The SYN-ACK's round trip, unless it was sent again (Karn). */
	if (r->synack_at && !r->retries)
		rtt_add_sample(&t->rtt, &s->rttp, s->env->now - r->synack_at, false, s->env->now);
	t->snd_wnd = t->max_snd_wnd = r->peer_wnd;
	t->snd_wl1 = r->irs;
	t->snd_wl2 = t->iss;
	t->listener = l;
	t->flags |= TF_ON_ACCEPTQ;
	if (l->aq_tail)
		l->aq_tail->aq_next = t;
	else
		l->aq_head = t;
	l->aq_tail = t;
	l->accept_q++;
	if (s->env->cfg.trace)
		trace_listener(s, l);
	tcp_notify(s, l->sd);
	return t;
}

/* The handshake is complete: a TCB in SYN_RECEIVED (its transition was
 * already traced) from what the request remembered, on the accept queue;
 * the usual input steps then move it to ESTABLISHED and take any data.
 * `r` is a copy: a freed request, or one a SYN cookie described. */
static tcp_verdict handshake_complete(tcp_stack *s, tcp_listener *l, const tcp_req *r,
				      const tcp_seg *sg)
{
	/* The segment's addresses are the request's (a copy has none). */
	tcb *t = listener_child(s, l, r, sg->a6);
	if (!t) {
		CNT_INC(s->env, ListenDrops);
		drop_seg(s, HSK_OBJ_REQ, sg, "no memory for a connection");
		return TV(TV_DONE, NULL);
	}
	/* The rest of the segment is the TCB's: so is any reply to it. */
	tcp_reply(s, &t->node, sg, tcb_input_after_syn(s, t, sg));
	return TV(TV_DONE, NULL);
}

static tcp_verdict req_promote(tcp_stack *s, tcp_req *r, const tcp_seg *sg)
{
	tcp_listener *l = r->listener;
	/* The TCB takes over the tuple; free the request first. */
	tcp_req copy = *r;
	req_free(s, r);
	return handshake_complete(s, l, &copy, sg);
}

/* An ACK reached the listener during a flood: it may complete a cookie
 * handshake. Valid: a TCB straight away (no window scale; the ACK's window);
 * not: the usual reset with seq = SEG.ACK. */
static tcp_verdict cookie_ack(tcp_stack *s, tcp_listener *l, const tcp_seg *sg)
{
	hsk_seq iss = seq_add(sg->ack, (uint32_t)-1);
	hsk_seq irs = seq_add(sg->seq, (uint32_t)-1);
	uint16_t mss = cookie_check(s, &sg->tuple, sg->a6, iss, irs);
	if (!mss) {
		CNT_INC(s->env, SyncookiesFailed);
		return listen_drop(s, l, sg, TV_RST, "ACK to a listener: bad SYN cookie");
	}
	CNT_INC(s->env, SyncookiesRecv);
	if (l->accept_q >= l->backlog) {
		/* As for a request, but there is nothing to keep: without
		 * abort_on_overflow the client's next segment tries again. */
		CNT_INC(s->env, ListenOverflows);
		CNT_INC(s->env, ListenDrops);
		if (s->env->cfg.abort_on_overflow)
			return listen_drop(s, l, sg, TV_RST, "accept queue full: reset");
		return listen_drop(s, l, sg, TV_DROP, "accept queue full");
	}
	trace_obj_state(s, HSK_OBJ_REQ, &sg->tuple, sg->a6, HSK_LISTEN, HSK_SYN_RECEIVED,
			"rcv ACK with SYN cookie");
	/* Cookies carry no window scale, SACK or timestamps. */
	tcp_req c = { .node.key = sg->tuple, .iss = iss, .irs = irs, .mss = mss,
		      .snd_wscale = -1, .peer_wnd = sg->th.win,
		      .rcv_wnd = req_window(l) };
	return handshake_complete(s, l, &c, sg);
}

/* SEGMENT ARRIVES for a request, in RFC order (as Linux's tcp_check_req);
 * every reply goes through reply.c with the request's own limits. */
tcp_verdict req_input(tcp_stack *s, tcp_req *r, const tcp_seg *sg)
{
	uint8_t f = sg->th.flags;
	if ((f & HSK_TH_SYN) && !(f & HSK_TH_ACK) && seq_eq(sg->seq, r->irs)) {
		/* The client did not hear our SYN-ACK: say it again (at most
		 * once per invalid_ratelimit, as Linux). */
		return TV(TV_SYNACK, "SYN again: SYN,ACK again");
	}
	if (!req_seq_acceptable(r, sg)) {
		if (f & HSK_TH_RST)
			return TV(TV_DROP, "RST out of window");
		if (f & HSK_TH_SYN) {
			CNT_INC(s->env, TCPSYNChallenge);
			return TV(TV_CHALLENGE, "SYN out of window: challenge ACK");
		}
		return TV(TV_DUPACK, "out of window");
	}
	if (f & HSK_TH_RST) {
		if (!seq_eq(sg->seq, seq_add(r->irs, 1)))
			return TV(TV_CHALLENGE, "RST not at RCV.NXT: challenge ACK");
		/* RFC 9293: a passive open returns to LISTEN. */
		CNT_INC(s->env, EmbryonicRsts);
		trace_obj_state(s, HSK_OBJ_REQ, &r->node.key, obj_a6(s, &r->node), HSK_SYN_RECEIVED,
				HSK_LISTEN, "rcv RST");
		req_free(s, r);
		return TV(TV_DONE, NULL);
	}
	if (f & HSK_TH_SYN) {
		CNT_INC(s->env, TCPSYNChallenge);
		return TV(TV_CHALLENGE, "SYN in window: challenge ACK");
	}
	if (!(f & HSK_TH_ACK))
		return TV(TV_DROP, "no ACK");
	if (!seq_eq(sg->ack, seq_add(r->iss, 1)))
		return TV(TV_RST, "bad ACK");
	tcp_listener *l = r->listener;
	/* TCP_DEFER_ACCEPT: a final ACK without data waits (the request
	 * stays) until data comes or the SYN-ACK timeouts run out, as
	 * Linux's tcp_check_req. */
	if (r->retries < l->defer_retrans && sg->len == 0 && !(f & HSK_TH_FIN)) {
		r->acked = true;
		CNT_INC(s->env, TCPDeferAcceptDrop);
		return TV(TV_DROP, "TCP_DEFER_ACCEPT: no data yet");
	}
	if (l->accept_q >= l->backlog) {
		CNT_INC(s->env, ListenOverflows);
		CNT_INC(s->env, ListenDrops);
		if (!s->env->cfg.abort_on_overflow) {
			r->acked = true;
			return TV(TV_DROP, "accept queue full");
		}
		tcp_reply(s, &r->node, sg, TV(TV_RST, "accept queue full: reset"));
		trace_obj_state(s, HSK_OBJ_REQ, &r->node.key, obj_a6(s, &r->node), HSK_SYN_RECEIVED,
				HSK_CLOSED, "accept queue full");
		req_free(s, r);
		return TV(TV_DONE, NULL);
	}
	return req_promote(s, r, sg);
}

tcb *listener_accept(tcp_stack *s, tcp_listener *l)
{
	(void)s;
	tcb *t = l->aq_head;
	if (!t)
		return NULL;
	l->aq_head = t->aq_next;
	if (!l->aq_head)
		l->aq_tail = NULL;
	t->aq_next = NULL;
	t->flags &= ~TF_ON_ACCEPTQ;
	if (!(t->flags & TF_TFO_PENDING))
		t->listener = NULL;     /* a Fast Open child keeps it (tfo.c) */
	l->accept_q--;
	if (s->env->cfg.trace)
		trace_listener(s, l);
	return t;
}

struct req_sweep {
	tcp_listener *l;
	tcp_req **list;
	size_t n, cap;
};

static void collect_reqs(void *ctx, tbl_node *n)
{
	struct req_sweep *w = ctx;
	if (n->kind == HSK_OBJ_REQ && ((tcp_req *)n)->listener == w->l && w->n < w->cap)
		w->list[w->n++] = (tcp_req *)n;
}

static void forget_listener(void *ctx, tbl_node *n)
{
	tcb *t = (tcb *)n;
	if (n->kind == HSK_OBJ_TCB && t->listener == ctx)
		t->listener = NULL;
}

void listener_close(tcp_stack *s, tcp_listener *l)
{
	/* Connections nobody accepted are reset, as Linux does. */
	tcb *t;
	while ((t = listener_accept(s, l)) != NULL) {
		if (!(t->flags & TF_DETACHED)) {
			CNT_INC(s->env, TCPAbortOnClose);
			tcb_send_rst(s, t);
		}
		tcb_closed(s, t, "listener closed");
	}
	/* Fast Open connections accepted but still in SYN_RECEIVED point at
	 * the listener: they outlive it. */
	if (l->tfo_pending)
		tbl_foreach(&s->conns, forget_listener, l);
	/* Requests vanish silently (the client's ACK will meet a reset).
	 * tbl_foreach forbids removal, so collect them first, in batches. */
	tcp_req *batch[256];
	while (l->syn_q) {
		struct req_sweep w = { l, batch, 0, 256 };
		tbl_foreach(&s->conns, collect_reqs, &w);
		if (!w.n)
			break;
		for (size_t i = 0; i < w.n; i++) {
			trace_obj_state(s, HSK_OBJ_REQ, &batch[i]->node.key,
					obj_a6(s, &batch[i]->node), HSK_SYN_RECEIVED, HSK_CLOSED, "listener closed");
			req_free(s, batch[i]);
		}
	}
}
