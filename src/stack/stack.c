/*
 * The stack instance: creation, the sans-IO driver calls (input, advance,
 * next deadline), readiness events, counters and usage.
 */
#include <stdlib.h>
#include <string.h>

#include "ip/ip_in.h"
#include "stack/stack.h"
#include "tcp/passive.h"

void hsk_config_default(hsk_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mtu = 1500;
	c->seed = HSK_SEED_OS;      /* keys from getrandom, never a constant */
	c->ipfrag_high_thresh = 4u << 20;
	c->ipfrag_low_thresh = 3u << 20;
	c->ipfrag_src_max = 1u << 20;
	c->ipfrag_time_ns = 30ull * 1000000000;
	c->syn_retries = 6;
	c->synack_retries = 5;
	c->orphan_retries = 8;
	c->retries2 = 15;
	c->somaxconn = 4096;
	c->max_syn_backlog = 4096;
	c->syncookies = true;
	c->abort_on_overflow = false;
	c->msl_ns = 30ull * 1000000000;
	c->fin_timeout_ns = 60ull * 1000000000;
	c->max_tw_buckets = 262144;
	c->rto_initial_ns = 1000000000ull;
	c->rto_min_ns = 200000000ull;
	c->rto_max_ns = 120ull * 1000000000;
	c->delack_ns = 40000000ull;
	c->sack = true;
	c->timestamps = true;
	c->window_scaling = true;
	c->frto = true;
	c->ecn = 2;
	c->tcp_fastopen = HSK_TFO_CLIENT;
	c->tcp_notsent_lowat = UINT32_MAX;
	c->clock_slack_ns = 10000000ull;
	c->congestion_control = "cubic";
	c->challenge_ack_limit = 10;
	c->challenge_ack_window_ns = 1000000000ull;
	c->sndbuf = 256 * 1024;
	c->rcvbuf = 256 * 1024;
	c->tcp_mem_low = 192ull << 20;
	c->tcp_mem_pressure = 256ull << 20;
	c->tcp_mem_high = 384ull << 20;
	c->sndbuf_min = 4096;
	c->rcvbuf_min = 4096;
	c->rcvbuf_max = 6u << 20;
	c->sndbuf_max = 4u << 20;
	c->max_sockets = 65536;
	c->max_conns = 1048576;
	c->max_orphans = 65536;
	c->keepalive_idle_ns = 7200ull * 1000000000;
	c->keepalive_intvl_ns = 75ull * 1000000000;
	c->keepalive_probes = 9;
	c->invalid_ratelimit_ns = 500000000ull;
	c->min_snd_mss = 48;
	c->min_pmtu = 552;
}

/* The ranges Linux's sysctls accept where Linux has the knob:
 * tcp_min_snd_mss 48..65535, min_pmtu at least IPv4's 68, tcp_mem in
 * order; buffers of 1 KiB to 1 GiB (a minimum above a socket's own size
 * is that size). */
static bool config_valid(const hsk_config *c)
{
	return c->mtu >= 68 && c->rto_min_ns > 0 &&
	       c->rto_min_ns <= c->rto_max_ns && c->rto_initial_ns > 0 &&
	       c->sndbuf >= 1024 && c->rcvbuf >= 1024 &&
	       c->sndbuf <= (1u << 30) && c->rcvbuf <= (1u << 30) &&
	       c->sndbuf_min >= 1024 && c->rcvbuf_min >= 1024 &&
	       c->sndbuf_min <= (1u << 30) && c->rcvbuf_min <= (1u << 30) &&
	       c->sndbuf_max <= (1u << 30) && c->rcvbuf_max <= (1u << 30) &&
	       c->tcp_mem_low <= c->tcp_mem_pressure &&
	       c->tcp_mem_pressure <= c->tcp_mem_high && c->tcp_mem_high > 0 &&
	       c->max_sockets > 0 && c->max_conns > 0 && c->somaxconn > 0 &&
	       c->ecn <= 2 && c->pacing_rate >= -1 &&
	       c->min_snd_mss >= 48 && c->min_pmtu >= 68 &&
	       c->ipfrag_low_thresh <= c->ipfrag_high_thresh && c->prefix_len <= 32;
}

/* The secret keys (RFC 6528 §3: "F() MUST NOT be computable from the
 * outside"). A fixed seed derives them, so a test replays; seed 0 draws
 * them from the entropy source, and a failing source fails the stack rather
 * than fall back to something guessable. */
static int stack_keys(hsk_env *e, const hsk_config *cfg)
{
	uint64_t k[3];

	if (cfg->seed != HSK_SEED_OS) {
		k[0] = rng_derive(cfg->seed, 0x6b657930);
		k[1] = rng_derive(cfg->seed, 0x6b657931);
		k[2] = rng_derive(cfg->seed, 0x726e67);
	} else {
		int (*fn)(void *, void *, size_t) = cfg->entropy ? cfg->entropy : hsk_os_entropy;
		if (fn(cfg->entropy_ctx, k, sizeof(k)) < 0)
			return -1;
	}
	e->key0 = k[0];
	e->key1 = k[1];
	rng_seed(&e->rng, k[2]);
	return 0;
}

/* notify_socket's queue is full: grows it and queues sd (the socket's
 * poll state is right even when this fails). Out of line, so that the
 * common case needs no stack frame. */
static __attribute__((noinline)) void notify_socket_grow(hsk_stack *s, hsk_sock *k, int sd)
{
	unsigned n = s->evq_cap ? s->evq_cap * 2 : 64;
	int *q = realloc(s->evq, n * sizeof(*q));
	if (!q)
		return;
	s->evq = q;
	s->evq_cap = n;
	s->evq[s->evq_len++] = sd;
	k->ev_queued = true;
	s->tcp.notified = sd;
}

/* stack_notify, for the TCP layer's callback (once per segment that
 * changes what a socket would see): its body here, not a call more. sd
 * names an open socket: a TCB's sd (tcp_notify passes none below 0) is
 * its socket's from attach_tcb until close() orphans it (tcb_orphan sets
 * -1 before the slot is released), a listener's until its close; so
 * sock_get's tests (in range, slot in use) are not made again here. */
static void notify_socket(void *ctx, int sd)
{
	hsk_stack *s = ctx;
	assert(sock_get(s, sd) != NULL);
	hsk_sock *k = &s->socks[sd];
	if (!k->ev_queued) {
		if (s->evq_len == s->evq_cap) {
			notify_socket_grow(s, k, sd);
			return;
		}
		s->evq[s->evq_len++] = sd;
		k->ev_queued = true;
	}
	/* Queued: tcp_notify need not call again until a drain or the
	 * slot's release (tcp_stack.notified). */
	s->tcp.notified = sd;
}

hsk_stack *hsk_stack_new(const hsk_config *cfg, const hsk_link *link, uint64_t now_ns)
{
	if (!cfg || !link || !link->transmit || !config_valid(cfg))
		return NULL;
	hsk_stack *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	hsk_env *e = &s->env;
	e->cfg = *cfg;
	env_set_now(e, now_ns);
	s->free_sock = -1;
	if (stack_keys(e, cfg) < 0)
		goto fail;
	wheel_init(&e->wheel, now_ns, 1000000);
	if (ip_init(&s->ip, e, link, cfg->addr) < 0 || tcp_init(&s->tcp, e, &s->ip) < 0)
		goto fail;
	s->ip.upper = (ip_upper){ .input = tcp_input, .icmp_error = tcp_icmp_error, .ctx = &s->tcp,
				  .input6 = tcp_input6 };
	s->tcp.notify = notify_socket;
	s->tcp.notify_ctx = s;
	s->tcp.notified = -1;
	return s;
fail:
	hsk_stack_free(s);
	return NULL;
}

/* TCBs out of the table (closed, or handed to TIME_WAIT) live on only in a
 * socket or an accept queue. */
static void free_detached(hsk_stack *s)
{
	for (unsigned i = 0; i < s->nsocks; i++) {
		hsk_sock *k = &s->socks[i];
		if (k->kind == SK_CONN && (k->t->flags & TF_DETACHED))
			tcb_release_buffers(&s->tcp, k->t);
		if (k->kind != SK_LISTEN)
			continue;
		for (uint32_t j = 0; j < k->l->accept_q; j++) {
			tcb *t = listener_queued(k->l, j);
			if (t->flags & TF_DETACHED)
				tcb_release_buffers(&s->tcp, t);
		}
	}
}

void hsk_stack_free(hsk_stack *s)
{
	if (!s)
		return;
	/* Accept-queue TCBs and half-built ones are in the table too; rings of
	 * connected sockets are freed here. */
	free_detached(s);
	for (unsigned i = 0; i < s->nsocks; i++)
		if (s->socks[i].kind != SK_FREE)
			free(s->socks[i].opt);
	tcp_destroy(&s->tcp);
	ip_destroy(&s->ip);
	free(s->socks);
	free(s->evq);
	free(s);
}

const hsk_config *hsk_stack_config(const hsk_stack *s) { return &s->env.cfg; }

/* hsk_stack_input's way for any packet: the clock moved if it is later,
 * and the packet to ip_input. Out of line, and with hsk_stack_input's
 * arguments in their places: the usual packet's way calls nothing and
 * moves no argument (the clock's division, a multiply into two fixed
 * registers, and ip_input's arguments, one place each, moved three). */
static __attribute__((noinline)) void stack_input_all(hsk_stack *s, uint64_t now_ns,
						      const uint8_t *pkt, size_t len)
{
	if (now_ns > s->env.now)
		env_set_now(&s->env, now_ns);
	/* No timers first: a packet read late sat in the device since before
	 * an overdue timer's deadline, and may be the ACK that cancels it
	 * (firing first would retransmit spuriously). The driver advances
	 * the stack after its input. */
	ip_input(&s->ip, pkt, len);
}

/* A version 6 packet at the clock of the packet before: ip6_input's, its
 * usual packet taken here with no call between (ip_in.h). Out of line for
 * the same reason (ip6_input's arguments). */
static __attribute__((noinline)) void stack_input6(hsk_stack *s, uint64_t now_ns,
						   const uint8_t *pkt, size_t len)
{
	(void)now_ns;   /* (in its place: not moved) */
	assert(now_ns <= s->env.now);
	size_t plen;
	if (ip6_input_usual(&s->ip, pkt, len, &plen)) {
		ip6_input_tcp(&s->ip, &s->env, pkt, plen);
		return;
	}
	ip6_input(&s->ip, pkt, len);    /* (its tests again, then the rest's) */
}

/* The usual packet at the clock of the packet before (a batch's packets,
 * every segment of the lifecycle bench) is taken in line (ip_in.h): it
 * is the one ip_input would take in its own line, with the same tests;
 * a version 6 packet goes to ip6_input, as ip_input sends it (to
 * ipv4_hdr_check it is too short or not version 4). */
void hsk_stack_input(hsk_stack *s, uint64_t now_ns, const uint8_t *pkt, size_t len)
{
	size_t total;
	if (now_ns <= s->env.now) {
		if (ip_input_usual(&s->ip, pkt, len, &total)) {
			ip_input_tcp(&s->ip, &s->env, pkt, IPV4_HDR_LEN, total);
			return;
		}
		if (ip_in_v6(&s->ip, pkt, len)) {
			stack_input6(s, now_ns, pkt, len);
			return;
		}
	}
	stack_input_all(s, now_ns, pkt, len);
}

void hsk_stack_advance(hsk_stack *s, uint64_t now_ns)
{
	hsk_env *e = &s->env;
	if (now_ns > e->now)
		env_set_now(e, now_ns);
	/* Every timer on the wheel is a TCP object's; a run of TIME_WAIT
	 * entries due (the usual reaping) is taken without a call each. */
	for (;;) {
		tw_reap_due(&s->tcp, e->now);
		hsk_timer *tm = wheel_pop_expired(&e->wheel, e->now);
		if (!tm)
			break;
		tcp_timer_fire(&s->tcp, tm, e->now);
	}
	if (s->tcp.act_idle_head)
		tcb_act_reap(&s->tcp, e->now);
	ip_advance(&s->ip);
}

uint64_t hsk_stack_next_deadline(const hsk_stack *s)
{
	uint64_t d = wheel_next_deadline(&s->env.wheel);
	uint64_t r = ip_next_deadline(&s->ip);
	return r < d ? r : d;
}

/* ---- sockets and readiness events ---- */

/* stack_sock_alloc (stack.h) with no free slot: the table grows first.
 * Out of line, so that taking a free slot needs no call. */
int sock_alloc_grow(hsk_stack *s)
{
	if (s->nsocks >= s->env.cfg.max_sockets) {
		/* As Linux at its descriptor limit. An accept() refused
		 * here leaves its connection queued; stack_sock_release
		 * tells the listeners when a slot frees. */
		s->socks_starved = true;
		return -HSK_EMFILE;
	}
	unsigned n = s->nsocks ? s->nsocks * 2 : 16;
	if (n > s->env.cfg.max_sockets)
		n = s->env.cfg.max_sockets;
	hsk_sock *ns = realloc(s->socks, n * sizeof(*ns));
	if (!ns)
		return -HSK_ENOMEM;
	memset(ns + s->nsocks, 0, (n - s->nsocks) * sizeof(*ns));
	/* Chain the new slots so that the lowest sd is handed out first. */
	for (unsigned i = n; i-- > s->nsocks;) {
		ns[i].next_free = s->free_sock;
		s->free_sock = (int)i;
	}
	s->socks = ns;
	s->nsocks = n;
	return sock_take(s);
}

/* What stack_sock_release (stack.h) leaves to a call, rare: the socket's
 * options and bound IPv6 address to free, listeners to tell. */
void sock_release_rest(hsk_stack *s, sock_opts *opt, uint8_t *baddr6)
{
	free(baddr6);
	free(opt);
	/* Readiness events report changes: a listener whose accept() failed
	 * for want of a socket may see no new connection (its queue is full),
	 * so without this an event-driven application would never accept
	 * again. A freed slot makes every queue worth trying once more. */
	if (s->socks_starved) {
		s->socks_starved = false;
		for (const tcp_listener *l = s->tcp.listeners; l; l = l->next)
			if (l->accept_q)
				stack_notify(s, l->sd);
	}
}

void stack_notify(hsk_stack *s, int sd)
{
	notify_socket(s, sd);
}

/* ---- counters and observation ---- */

static const char *const counter_names[] = {
#define HSK_COUNTER_NAME(name) #name,
	HSK_COUNTERS(HSK_COUNTER_NAME)
#undef HSK_COUNTER_NAME
};

size_t hsk_counter_count(void) { return CNT__COUNT; }

const char *hsk_counter_name(size_t i)
{
	return i < CNT__COUNT ? counter_names[i] : NULL;
}

uint64_t hsk_counter_get(const hsk_stack *s, size_t i)
{
	return i < CNT__COUNT ? s->env.cnt.v[i] : 0;
}

uint64_t hsk_counter_by_name(const hsk_stack *s, const char *name)
{
	for (size_t i = 0; i < CNT__COUNT; i++)
		if (strcmp(counter_names[i], name) == 0)
			return s->env.cnt.v[i];
	return UINT64_MAX;
}

void hsk_stack_usage(const hsk_stack *s, hsk_usage *u)
{
	unsigned lst = 0;
	for (const tcp_listener *l = s->tcp.listeners; l; l = l->next)
		lst++;
	u->tcbs = pool_in_use(&s->tcp.tcb_pool) + pool_in_use(&s->tcp.tcb_pool6);
	u->requests = pool_in_use(&s->tcp.req_pool) + pool_in_use(&s->tcp.req_pool6);
	u->timewaits = pool_in_use(&s->tcp.tw_pool) + pool_in_use(&s->tcp.tw_pool6);
	u->listeners = lst;
	u->sockets = s->socks_in_use;
	u->buffer_bytes = s->tcp.buffer_bytes;
	u->orphans = s->tcp.orphans;
	u->orphan_bytes = s->tcp.orphan_bytes;
}

struct conns_walk {
	hsk_conn_fn fn;
	void *ctx;
	const hsk_stack *s;
};

static void conn_info_node(void *ctx, tbl_node *n)
{
	struct conns_walk *w = ctx;
	hsk_conn_info ci = { .obj = n->kind, .tuple = n->key, .sd = -1,
			     .family = HSK_AF_INET };
	if (n->v6) {
		const tbl_v6addrs *a6 = tbl_v6(&w->s->tcp.conns, n);
		ci.family = HSK_AF_INET6;
		ci.tuple.laddr = ci.tuple.raddr = 0;
		memcpy(ci.laddr6, a6->l, 16);
		memcpy(ci.raddr6, a6->r, 16);
	}
	switch (n->kind) {
	case HSK_OBJ_TCB: {
		const tcb *t = (const tcb *)n;
		ci.state = t->state;
		ci.sd = t->sd;
		ci.send_q = tcb_snd_len(t);
		ci.recv_q = tcb_rcv_len(t);
		break;
	}
	case HSK_OBJ_REQ:
		ci.state = HSK_SYN_RECEIVED;
		break;
	case HSK_OBJ_TW:
		ci.state = HSK_TIME_WAIT;
		break;
	}
	w->fn(w->ctx, &ci);
}

void hsk_stack_conns(hsk_stack *s, hsk_conn_fn fn, void *ctx)
{
	for (const tcp_listener *l = s->tcp.listeners; l; l = l->next) {
		hsk_conn_info ci = {
			.obj = HSK_OBJ_LISTEN, .state = HSK_LISTEN, .sd = l->sd,
			.tuple = { .laddr = l->addr, .lport = l->port },
			.recv_q = l->accept_q, .send_q = l->backlog,
			.syn_q = l->syn_q, .accept_q = l->accept_q,
			.backlog = l->backlog, .family = l->family,
		};
		memcpy(ci.laddr6, l->addr6, 16);
		fn(ctx, &ci);
	}
	struct conns_walk w = { fn, ctx, s };
	tbl_foreach(&s->tcp.conns, conn_info_node, &w);
}
