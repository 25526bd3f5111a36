/*
 * The socket calls: non-blocking, over socket descriptors local to a stack.
 * Each returns 0 (or a count) or a negative HSK_E* code, as listed in
 * include/handshake.h.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "tcp/conn.h"
#include "tcp/pace.h"
#include "tcp/passive.h"

enum { EPHEMERAL_LO = 32768, EPHEMERAL_HI = 60999 }; /* Linux's range */

int hsk_socket(hsk_stack *s)
{
	return stack_sock_alloc(s);
}

static bool addr_overlap(uint32_t a, uint32_t b)
{
	return a == 0 || b == 0 || a == b;
}

static bool zero16(const uint8_t a[16])
{
	for (int i = 0; i < 16; i++)
		if (a[i])
			return false;
	return true;
}

/* Listener l holds IPv4 address addr's port (0: any) if it is an IPv4 one
 * on it or the wildcard, or an IPv6 wildcard that takes IPv4 too. */
static bool l4_overlap(const tcp_listener *l, uint32_t addr)
{
	if (l->family == HSK_AF_INET6)
		return !l->v6only && zero16(l->addr6);
	return addr_overlap(l->addr, addr);
}

/* In line (its one caller, connect's port_try): a client stack has no
 * listener, and the empty list's test costs less than the call. */
static inline __attribute__((always_inline)) bool port_has_listener(hsk_stack *s, uint32_t addr,
								   uint16_t port)
{
	for (tcp_listener *l = s->tcp.listeners; l; l = l->next)
		if (l->port == port && l4_overlap(l, addr))
			return true;
	return false;
}

/* The same for IPv6 address a6 (NULL: the wildcard, which holds the
 * port for IPv4 as well unless v6only). */
static bool port_has_listener6(hsk_stack *s, const uint8_t *a6, bool v6only, uint16_t port)
{
	for (tcp_listener *l = s->tcp.listeners; l; l = l->next) {
		if (l->port != port)
			continue;
		if (l->family == HSK_AF_INET6) {
			if (!a6 || zero16(l->addr6) || !memcmp(l->addr6, a6, 16))
				return true;
		} else if (!a6 && !v6only) {
			return true;
		}
	}
	return false;
}

int hsk_socket_family(hsk_stack *s, int family)
{
	if (family != HSK_AF_INET && family != HSK_AF_INET6)
		return -HSK_EAFNOSUPPORT;
	int sd = stack_sock_alloc(s);
	if (sd >= 0)
		s->socks[sd].inet6 = family == HSK_AF_INET6;
	return sd;
}

/* Connections and TIME_WAIT entries on a local port, for bind(): one that
 * would conflict (Linux's inet_bind_conflict: not when both set
 * SO_REUSEADDR, the other not listening). A walk of the table, for an
 * explicit bind only. */
struct port_walk {
	uint32_t addr;
	uint16_t port;
	bool reuse;
	bool conflict;
};

static void port_walk_node(void *ctx, tbl_node *n)
{
	struct port_walk *w = ctx;
	if (n->v6 || n->key.lport != w->port || !addr_overlap(n->key.laddr, w->addr))
		return;
	bool reuse = n->kind == HSK_OBJ_TCB ? (((tcb *)n)->flags & TF_REUSEADDR) != 0 :
		     n->kind == HSK_OBJ_TW ? ((tcp_tw *)n)->reuse :
		     (((tcp_req *)n)->listener->flags & TF_REUSEADDR) != 0;
	if (!(w->reuse && reuse))
		w->conflict = true;
}

/* Is port taken for a socket with these SO_REUSEADDR/SO_REUSEPORT? As
 * Linux: a listener conflicts unless both set SO_REUSEPORT; any other
 * socket or connection unless both set SO_REUSEADDR (or, for a fresh
 * socket, both SO_REUSEPORT). */
static bool bind_conflict(hsk_stack *s, int sd, uint32_t addr, uint16_t port,
			  const sock_opts *o)
{
	for (tcp_listener *l = s->tcp.listeners; l; l = l->next)
		if (l->port == port && l4_overlap(l, addr) && !(o->reuseport && l->reuseport))
			return true;
	for (unsigned i = 0; i < s->nsocks; i++) {
		const hsk_sock *k = &s->socks[i];
		/* a fresh IPv6 socket holds IPv4's port when bound to :: and
		 * not v6only, or to a v4-mapped address (baddr's) */
		if ((int)i == sd || k->kind != SK_FRESH || k->bport != port ||
		    (k->inet6 && !k->mapped ? k->v6only || k->baddr6 :
		     !addr_overlap(k->baddr, addr)))
			continue;
		const sock_opts *ko = sock_opts_get(s, k);
		if (!((o->reuseaddr && ko->reuseaddr) || (o->reuseport && ko->reuseport)))
			return true;
	}
	struct port_walk w = { .addr = addr, .port = port, .reuse = o->reuseaddr };
	tbl_foreach(&s->tcp.conns, port_walk_node, &w);
	return w.conflict;
}

/* ---- IPv6 binds: the same rules (a6 NULL: the wildcard, which holds
 * IPv4's port too unless v6only) ---- */

/* An IPv6 bind on (a6, v6only) overlaps listener l's address. */
static bool l6_overlap(const tcp_listener *l, const uint8_t *a6, bool v6only)
{
	if (l->family != HSK_AF_INET6)
		return !a6 && !v6only;
	return !a6 || zero16(l->addr6) || !memcmp(l->addr6, a6, 16);
}

struct port_walk6 {
	hsk_stack *s;
	const uint8_t *a6;
	bool v6only, reuse, conflict;
	uint16_t port;
};

static void port_walk_node6(void *ctx, tbl_node *n)
{
	struct port_walk6 *w = ctx;

	if (n->key.lport != w->port)
		return;
	if (n->v6 ? w->a6 && memcmp(tbl_v6(&w->s->tcp.conns, n)->l, w->a6, 16) :
	    w->a6 || w->v6only)
		return;
	bool reuse = n->kind == HSK_OBJ_TCB ? (((tcb *)n)->flags & TF_REUSEADDR) != 0 :
		     n->kind == HSK_OBJ_TW ? ((tcp_tw *)n)->reuse :
		     (((tcp_req *)n)->listener->flags & TF_REUSEADDR) != 0;
	if (!(w->reuse && reuse))
		w->conflict = true;
}

/* bind_conflict for an IPv6 socket: listeners unless both set
 * SO_REUSEPORT, fresh sockets and connections unless both set
 * SO_REUSEADDR (fresh ones: or both SO_REUSEPORT). */
static bool bind_conflict6(hsk_stack *s, int sd, const uint8_t *a6, bool v6only,
			   uint16_t port, const sock_opts *o)
{
	for (tcp_listener *l = s->tcp.listeners; l; l = l->next)
		if (l->port == port && l6_overlap(l, a6, v6only) && !(o->reuseport && l->reuseport))
			return true;
	for (unsigned i = 0; i < s->nsocks; i++) {
		const hsk_sock *k = &s->socks[i];
		if ((int)i == sd || k->kind != SK_FRESH || k->bport != port)
			continue;
		if (k->inet6 && !k->mapped ? a6 && k->baddr6 && memcmp(k->baddr6, a6, 16) :
		    a6 || v6only)
			continue;
		const sock_opts *ko = sock_opts_get(s, k);
		if (!((o->reuseaddr && ko->reuseaddr) || (o->reuseport && ko->reuseport)))
			return true;
	}
	struct port_walk6 w = { .s = s, .a6 = a6, .v6only = v6only, .reuse = o->reuseaddr,
				.port = port };
	tbl_foreach(&s->tcp.conns, port_walk_node6, &w);
	return w.conflict;
}

/* listen() of an IPv6 socket: another listener on the port overlaps,
 * unless both set SO_REUSEPORT and are of one group (the same address
 * and v6only) or, as Linux, of two families (an IPv4 listener beside a
 * dual-stack one: each its own group). */
static bool listen_conflict6(hsk_stack *s, const hsk_sock *k)
{
	bool rp = sock_opts_get(s, k)->reuseport;
	static const uint8_t any[16];
	const uint8_t *a6 = k->baddr6 ? k->baddr6 : any;

	for (tcp_listener *l = s->tcp.listeners; l; l = l->next)
		if (l->port == k->bport && l6_overlap(l, k->baddr6, k->v6only) &&
		    !(rp && l->reuseport && (l->family != HSK_AF_INET6 ||
		      (l->v6only == k->v6only && !memcmp(l->addr6, a6, 16)))))
			return true;
	return false;
}

/* An IPv4 bind of a fresh socket k (hsk_bind's, bind_mapped's): the
 * address ours, the port free. */
static int bind4(hsk_stack *s, int sd, hsk_sock *k, uint32_t addr, uint16_t port)
{
	if (addr && !ip4_is_ours(&s->ip, addr))
		return -HSK_EADDRNOTAVAIL;
	if (port && bind_conflict(s, sd, addr, port, sock_opts_get(s, k)))
		return -HSK_EADDRINUSE;
	k->baddr = addr;
	k->bport = port;
	return 0;
}

int hsk_bind(hsk_stack *s, int sd, uint32_t addr, uint16_t port)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	/* As Linux: an IPv4 address is not an IPv6 socket's (hsk_bind_addr) */
	if (k->inet6)
		return -HSK_EAFNOSUPPORT;
	if (k->kind != SK_FRESH || k->bport)
		return -HSK_EINVAL;
	return bind4(s, sd, k, addr, port);
}

/* RFC 6056 algorithm 3's offset for the IPv4 tuple key (lport 0) or the
 * IPv6 one (a6 not NULL, key's ports): a keyed hash, the last one
 * remembered (a client connecting to one server again and again). */
static __attribute__((noinline)) uint32_t port_offset_new(hsk_stack *s, const hsk_tuple *key,
							   const tbl_v6addrs *a6)
{
	tcp_stack *ts = &s->tcp;
	uint64_t k0 = s->env.key0 ^ 0x706f7274, k1 = s->env.key1;
	uint32_t off = (uint32_t)(a6 ? tuple_hash6(a6, 0, key->rport, k0, k1) :
				  tuple_hash(key, k0, k1));
	ts->poff_key = *key;
	if (a6)
		ts->poff_a6 = *a6;
	ts->poff = off;
	ts->poff_v6 = a6 != NULL;
	ts->poff_valid = true;
	return off;
}

/* The remembered offset in line (pick_port's, in hsk_connect), the hash
 * out of line. */
static inline __attribute__((always_inline)) uint32_t port_offset(hsk_stack *s,
								   const hsk_tuple *key,
								   const tbl_v6addrs *a6)
{
	tcp_stack *ts = &s->tcp;
	if (!ts->conn_long && ts->poff_valid && ts->poff_v6 == (a6 != NULL) &&
	    tuple_eq(&ts->poff_key, key) && (!a6 || !memcmp(&ts->poff_a6, a6, sizeof(*a6))))
		return ts->poff;
	return port_offset_new(s, key, a6);
}

enum { EPHEMERAL_RANGE = EPHEMERAL_HI - EPHEMERAL_LO + 1 };

/* RFC 6056 algorithm 3's candidate i from offset: tu's local port set to
 * it; whether the tuple is free (and, with cfg.port_ok, accepted: a
 * shard's own ports). */
static inline __attribute__((always_inline)) bool port_try(hsk_stack *s, hsk_tuple *tu,
							    uint32_t offset, uint32_t i)
{
	uint16_t port = (uint16_t)(EPHEMERAL_LO + (offset + s->port_counter + i) % EPHEMERAL_RANGE);
	tu->lport = port;
	/* (a new tuple: the cache's test would miss) */
	return !tbl_lookup_new(&s->tcp.conns, tu) && !port_has_listener(s, tu->laddr, port) &&
	       (!s->env.cfg.port_ok ||
		s->env.cfg.port_ok(s->env.cfg.port_ok_ctx, tu->laddr, tu->raddr, port, tu->rport));
}

/* pick_port past its first candidate, which was taken: the others in
 * turn. */
static __attribute__((noinline)) int pick_port_rest(hsk_stack *s, hsk_tuple *tu,
						    uint32_t offset)
{
	for (uint32_t i = 1; i < EPHEMERAL_RANGE; i++) {
		if (port_try(s, tu, offset, i)) {
			s->port_counter += i + 1;
			return 0;
		}
	}
	return -HSK_EADDRNOTAVAIL;
}

/* RFC 6056 algorithm 3: a keyed hash of the remote end picks where to
 * start, a counter moves on; the first free tuple wins. The first
 * candidate is almost always free: tried in line (in hsk_connect, a
 * frame and a call less), the rest out of line. */
static inline __attribute__((always_inline)) int pick_port(hsk_stack *s, hsk_tuple *tu)
{
	/* The offset's key is tu with lport 0, which tu is until port_try
	 * sets it: tu itself, no copy. */
	assert(!tu->lport);
	uint32_t offset = port_offset(s, tu, NULL);
	if (!port_try(s, tu, offset, 0))
		return pick_port_rest(s, tu, offset);
	s->port_counter += 1;
	return 0;
}

/* RFC 6056 algorithm 3 for an IPv6 tuple (a6 and tu's rport set). */
static int pick_port6(hsk_stack *s, const tbl_v6addrs *a6, hsk_tuple *tu)
{
	static const uint32_t range = EPHEMERAL_RANGE;
	hsk_tuple key = { .rport = tu->rport };
	uint32_t offset = port_offset(s, &key, a6);
	for (uint32_t i = 0; i < range; i++) {
		uint16_t port = (uint16_t)(EPHEMERAL_LO + (offset + s->port_counter + i) % range);
		tu->lport = port;
		if (!tbl_lookup6(&s->tcp.conns, tu, a6) &&
		    !port_has_listener6(s, a6->l, false, port) &&
		    (!s->env.cfg.port_ok6 ||
		     s->env.cfg.port_ok6(s->env.cfg.port_ok_ctx, a6->l, a6->r, port, tu->rport))) {
			s->port_counter += i + 1;
			return 0;
		}
	}
	return -HSK_EADDRNOTAVAIL;
}

/* Another listener on the port, unless both are of an SO_REUSEPORT group
 * (bound to the same address). */
static bool listen_conflict(hsk_stack *s, const hsk_sock *k)
{
	bool rp = sock_opts_get(s, k)->reuseport;
	for (tcp_listener *l = s->tcp.listeners; l; l = l->next)
		if (l->port == k->bport && l4_overlap(l, k->baddr) &&
		    !(rp && l->reuseport && l->family != HSK_AF_INET6 && l->addr == k->baddr))
			return true;
	return false;
}

int hsk_listen(hsk_stack *s, int sd, int backlog)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	/* Like Linux: the backlog is capped by somaxconn, compared as
	 * unsigned, so a negative one is somaxconn (FreeBSD's rule too);
	 * 0 still admits one. */
	uint32_t b = backlog == 0 ? 1 : (uint32_t)backlog;
	if (b > s->env.cfg.somaxconn)
		b = s->env.cfg.somaxconn;
	if (k->kind == SK_LISTEN) {
		/* listen() again changes the backlog, capped the same way. */
		k->l->backlog = b;
		if (s->env.cfg.trace)
			trace_listener(&s->tcp, k->l);
		return 0;
	}
	if (k->kind != SK_FRESH || !k->bport)
		return -HSK_EINVAL;     /* Linux would pick a port; we ask for one */
	bool v6 = k->inet6 && !k->mapped;      /* (v4-mapped: IPv4's listener) */
	if (v6 ? listen_conflict6(s, k) : listen_conflict(s, k))
		return -HSK_EADDRINUSE;
	tcp_listener *l = pool_get(&s->tcp.lst_pool);
	if (!l)
		return -HSK_ENOBUFS;
	*l = (tcp_listener){ 0 };
	l->backlog = b;
	l->addr = k->baddr;
	l->port = k->bport;
	l->family = v6 ? HSK_AF_INET6 : HSK_AF_INET;
	l->sock_family = (uint8_t)sock_family(k);
	l->v6only = k->v6only;
	if (v6 && k->baddr6) {
		memcpy(l->addr6, k->baddr6, 16);
		free(k->baddr6);
		k->baddr6 = NULL;
	}
	l->sd = sd;
	l->flags = k->flags;
	l->sndbuf = k->sndbuf;
	l->rcvbuf = k->rcvbuf;
	l->buf_locks = k->buf_locks;
	sock_opts_to_listener(s, k, l);
	l->next = s->tcp.listeners;
	s->tcp.listeners = l;
	k->kind = SK_LISTEN;
	k->l = l;
	hsk_tuple tu = { .laddr = l->addr, .lport = l->port };
	tbl_v6addrs la;
	memset(&la, 0, sizeof(la));
	memcpy(la.l, l->addr6, 16);
	trace_obj_state(&s->tcp, HSK_OBJ_LISTEN, &tu, v6 ? &la : NULL, HSK_CLOSED, HSK_LISTEN,
			"listen()");
	if (s->env.cfg.trace)
		trace_listener(&s->tcp, l);
	return 0;
}

static int attach_tcb(hsk_stack *s, int sd, tcb *t)
{
	hsk_sock *k = &s->socks[sd];
	k->kind = SK_CONN;
	k->t = t;
	/* acked_seen is tcb_data_acked(t), zero, and so already (a slot is
	 * zeroed when freed; only a connection's events move it): a connect's
	 * TCB has sent nothing yet, an accepted one only its SYN,ACK (data
	 * and FIN take a socket to send). */
	assert(k->acked_seen == 0 && tcb_data_acked(t) == 0);
	t->sd = sd;
	return sd;
}

/* What an accepted connection takes from its listener's socket that TCP
 * did not give it already (tos, MSS, congestion control came with the
 * SYN). */
static void accepted_opts(hsk_stack *s, const hsk_sock *nk, tcb *t)
{
	/* Without options (nk->opt NULL: the listener had none) there is
	 * nothing to take: an extension made before accept() holds the
	 * defaults' zeros already (only a connected socket's setsockopt
	 * and this function write them). */
	if (!nk->opt)
		return;
	const sock_opts *o = nk->opt;
	/* They live in the extension: taken only when one is set. */
	uint32_t pace_cap = sock_pace_cap(s, o);
	tcb_act *a = o->user_timeout_ns || o->keep_idle_s || o->keep_intvl_s || o->keep_cnt ||
		     pace_cap != s->tcp.pace_default || t->act ? tcb_act_get(&s->tcp, t) : NULL;
	if (!a)
		return;
	a->user_timeout_ns = o->user_timeout_ns;
	a->keep_idle_s = o->keep_idle_s;
	a->keep_intvl_s = o->keep_intvl_s;
	a->keep_cnt = o->keep_cnt;
	a->pace_cap = pace_cap;
	a->pace_next = 0;
	if (t->keep_at && o->keep_idle_s) {
		t->keep_at = s->env.now + keep_idle_ns(&s->tcp, t);
		tcb_timer_update(&s->tcp, t);
	}
}

/* The accepted connection's peer, for hsk_accept's peer. */
static inline void accepted_peer(const tcb *t, hsk_tuple *peer)
{
	*peer = t->node.key;
	if (t->node.v6)
		peer->laddr = peer->raddr = 0;   /* folds: see hsk_sock_peer */
}

/* Whether an accepted connection's socket is told at once: what came
 * before accept() (data, the FIN, an error) is there to read. */
static inline bool accepted_ready(const tcb *t)
{
	return tcb_rcv_len(t) || (t->flags & TF_RCVD_FIN) || t->err;
}

/* hsk_accept's usual case (k: a listener's slot): a connection queued,
 * a free slot (no table to grow), no options to inherit, no clock hook,
 * untraced (listener_accept's trace), not no_fastpath. */
static inline bool accept_usual(const hsk_stack *s, const hsk_sock *k)
{
	/* (the trace's test as listener_accept makes it: the same load) */
	return k->l->accept_q && !k->opt && s->free_sock >= 0 && !s->env.cfg.clock &&
	       !s->tcp.env->cfg.trace && !s->tcp.no_fastpath;
}

/* hsk_accept's end when the new socket is told (accepted_ready). */
static __attribute__((noinline)) int accept_notify(hsk_stack *s, int nsd)
{
	stack_notify(s, nsd);
	return nsd;
}

/* hsk_accept in general: out of line, with the frame its calls need. */
static __attribute__((noinline)) int accept_general(hsk_stack *s, int sd, hsk_tuple *peer)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	if (k->kind != SK_LISTEN)
		return -HSK_EINVAL;
	if (!k->l->accept_q)
		return -HSK_EAGAIN;
	stack_clock_check(s);
	int nsd = stack_sock_alloc(s);
	if (nsd < 0)
		return nsd;
	k = &s->socks[sd];              /* the table may have moved */
	hsk_sock *nk = &s->socks[nsd];
	if (k->opt && sock_opts_inherit(nk, k) < 0) {   /* (none: nothing to copy) */
		stack_sock_release(s, nsd);
		return -HSK_ENOMEM;
	}
	tcb *t = listener_accept(&s->tcp, k->l);
	attach_tcb(s, nsd, t);
	accepted_opts(s, nk, t);
	/* (sock_take's slot is IPv4's: inet6 zero) */
	assert(!nk->inet6);
	if (k->l->sock_family == HSK_AF_INET6)
		nk->inet6 = true;
	if (peer)
		accepted_peer(t, peer);
	if (accepted_ready(t))
		stack_notify(s, nsd);
	return nsd;
}

/* The usual accept without a frame: the connection from the queue, the
 * slot taken (sock_take: the free list's head, zero but for what it
 * sets), nothing to inherit (no options: accepted_opts would return at
 * once), and the notification, when due, tail-called. */
int hsk_accept(hsk_stack *s, int sd, hsk_tuple *peer)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k || k->kind != SK_LISTEN || !accept_usual(s, k))
		return accept_general(s, sd, peer);
	tcp_listener *l = k->l;
	/* (the connection first: listener_accept's trace test then follows
	 * the guard's with no store between) */
	tcb *t = listener_accept(&s->tcp, l);
	int nsd = sock_take(s);
	hsk_sock *nk = &s->socks[nsd];
	attach_tcb(s, nsd, t);
	/* (sock_take's slot is IPv4's: inet6 zero) */
	assert(!nk->inet6 && !nk->opt);
	if (l->sock_family == HSK_AF_INET6)
		nk->inet6 = true;
	if (peer)
		accepted_peer(t, peer);
	if (accepted_ready(t))
		return accept_notify(s, nsd);
	return nsd;
}

static int conn_start(hsk_stack *s, int sd, const hsk_tuple *tu, const tbl_v6addrs *a6,
		      tcb **out);

/* The connection of socket sd (one sock_get found), to addr:port, in
 * SYN_SENT with nothing sent yet (hsk_connect's checks and errors). In
 * line in hsk_connect and hsk_sendto (Fast Open): a frame less per
 * connect. */
static inline __attribute__((always_inline)) int conn_open(hsk_stack *s, int sd, uint32_t addr,
							    uint16_t port, tcb **out)
{
	hsk_sock *k = &s->socks[sd];    /* the caller's sock_get found it */
	if (k->kind == SK_CONN)
		return k->t->state == HSK_SYN_SENT ? -HSK_EALREADY : -HSK_EISCONN;
	if (k->kind != SK_FRESH)
		return -HSK_EINVAL;
	if (!addr || !port)
		return -HSK_EINVAL;
	/* RFC 1122 §4.2.3.10: an OPEN to a broadcast or multicast address
	 * (or any that is no host's) is an error; Linux's is ENETUNREACH. */
	if (ip4_martian(&s->ip, addr))
		return -HSK_ENETUNREACH;
	hsk_tuple tu = { .laddr = k->baddr ? k->baddr : s->ip.addr, .raddr = addr,
			 .lport = k->bport, .rport = port };
	if (!tu.lport) {
		int err = pick_port(s, &tu);
		if (err < 0)
			return err;
	} else if (tbl_lookup(&s->tcp.conns, &tu)) {
		return -HSK_EADDRINUSE;
	}
	return conn_start(s, sd, &tu, NULL, out);
}

/* A fresh IPv6 socket opens a connection to dst: the source bound or
 * chosen (RFC 6724). */
static int conn_open6(hsk_stack *s, int sd, const uint8_t dst[16], uint16_t port, tcb **out)
{
	hsk_sock *k = &s->socks[sd];
	tbl_v6addrs a6;

	if (!port || zero16(dst))
		return -HSK_EINVAL;
	if (ip6_is_multicast(dst))      /* as IPv4's (conn_open) */
		return -HSK_ENETUNREACH;
	memcpy(a6.r, dst, 16);
	if (k->baddr6)
		memcpy(a6.l, k->baddr6, 16);
	else if (ip6_select_src(&s->ip, dst, a6.l) < 0)
		return -HSK_ENETUNREACH;
	hsk_tuple tu = tbl_key6(&s->tcp.conns, &a6, k->bport, port);
	if (!tu.lport) {
		int err = pick_port6(s, &a6, &tu);
		if (err < 0)
			return err;
	} else if (tbl_lookup6(&s->tcp.conns, &tu, &a6)) {
		return -HSK_EADDRINUSE;
	}
	return conn_start(s, sd, &tu, &a6, out);
}

/* The TCB of a connect() on tuple tu (a6: its IPv6 addresses), in
 * SYN_SENT (the caller sends the SYN): 0, or the error. (In line in
 * conn_open and conn_open6: a frame less per connect, ~27.) */
static inline __attribute__((always_inline)) int conn_start(hsk_stack *s, int sd, const hsk_tuple *tu, const tbl_v6addrs *a6,
		      tcb **out)
{
	hsk_sock *k = &s->socks[sd];
	tcb *t = tcb_new_active(&s->tcp, tu, a6);  /* (tcb_new in line) */
	if (!t)
		return -HSK_ENOBUFS;
	if (k->inet6 && k->baddr6) {    /* the TCB has the address now */
		free(k->baddr6);
		k->baddr6 = NULL;
	}
	t->flags |= k->flags;
	t->sndbuf = k->sndbuf;
	/* the fresh TCB's are the defaults', unlocked */
	if (k->rcvbuf != t->rcvbuf || k->buf_locks) {
		t->rcvbuf = k->rcvbuf;
		tcb_set_buf_locks(t, k->buf_locks);
		t->rcv_wscale = tcp_rcv_wscale(&s->tcp, t->rcvbuf, k->buf_locks) & 15;
	}
	t->iss = tcp_isn_inl(&s->tcp, tu, a6);   /* (in line: a frame less) */
	t->snd_una = t->snd_nxt = t->snd_max = t->iss;
	/* The SYN's timer lives in the TCB's active extension. A socket
	 * without options (k->opt NULL) has the defaults' tos, congestion
	 * control and flags, which the fresh TCB holds already. */
	if ((k->opt && sock_opts_to_tcb(s, k, t) < 0) || !tcb_act_get(&s->tcp, t)) {
		tcb_free(&s->tcp, t);
		return -HSK_ENOBUFS;
	}
	attach_tcb(s, sd, t);
	/* CLOSED -> SYN_SENT is always legal; should the table ever say no
	 * (an engine bug), nothing was sent: the socket is fresh again. */
	if (!tcb_set_state(&s->tcp, t, HSK_SYN_SENT, "connect()")) {
		k = &s->socks[sd];
		k->kind = SK_FRESH;
		k->t = NULL;
		t->sd = -1;
		tcb_free(&s->tcp, t);
		return -HSK_ECONNABORTED;
	}
	CNT_INC(&s->env, ActiveOpens);
	*out = t;
	return 0;
}

/* A Fast Open SYN may carry data: a cookie is cached for the server
 * (its 16-byte key, tfo_key4 for IPv4), or the client sends without one
 * (HSK_TFO_CLIENT_NO_COOKIE). */
static bool tfo_data_ok(hsk_stack *s, const uint8_t key[16])
{
	const uint8_t *c;
	uint16_t mss;
	return tfo_cookie_find(&s->tcp, key, &c, &mss) ||
	       (s->env.cfg.tcp_fastopen & HSK_TFO_CLIENT_NO_COOKIE);
}

/* TCP_FASTOPEN_CONNECT on a connection just opened to the server `key`:
 * with a cookie, the SYN waits for the first write and carries its data
 * (connect() says 0, as Linux); without, the SYN asks for one. Returns
 * whether the SYN waits. */
static bool tfo_connect(hsk_stack *s, tcb *t, const uint8_t key[16])
{
	t->flags |= TF_TFO_SYN;
	if (tfo_data_ok(s, key)) {
		t->flags |= TF_TFO_DATA | TF_TFO_DEFER;
		return true;
	}
	return false;
}

/* connect() to an IPv4 peer from socket sd (one sock_get found): an IPv4
 * socket's, or an IPv6 one's to a v4-mapped address. */
static inline __attribute__((always_inline)) int connect4(hsk_stack *s, int sd, uint32_t addr,
							   uint16_t port)
{
	stack_clock_check(s);
	tcb *t;
	int err = conn_open(s, sd, addr, port, &t);
	if (err < 0)
		return err;
	/* (the socket's options are where they were: conn_open reads them;
	 * tested here, nothing is kept across it) */
	hsk_sock *k = &s->socks[sd];
	if (k->opt && k->opt->tfo_connect &&     /* (NULL: the defaults') */
	    (s->env.cfg.tcp_fastopen & HSK_TFO_CLIENT)) {
		uint8_t key[16];
		tfo_key4(addr, key);
		if (tfo_connect(s, t, key))
			return 0;
	}
	output_syn(&s->tcp, t);
	return -HSK_EINPROGRESS;
}

int hsk_connect(hsk_stack *s, int sd, uint32_t addr, uint16_t port)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	/* As Linux: an IPv4 address is not a fresh IPv6 socket's (a
	 * v4-mapped one is: hsk_connect_addr); a connection's state is
	 * looked at first (EISCONN, EALREADY: conn_open) */
	if (k->inet6 && k->kind != SK_CONN)
		return -HSK_EAFNOSUPPORT;
	return connect4(s, sd, addr, port);
}

int hsk_connect_addr(hsk_stack *s, int sd, const hsk_addr *a, uint16_t port)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	/* As Linux: the state first, then the family */
	if (k->kind == SK_CONN)
		return k->t->state == HSK_SYN_SENT ? -HSK_EALREADY : -HSK_EISCONN;
	if (a->family != sock_family(k))
		return -HSK_EAFNOSUPPORT;
	if (a->family == HSK_AF_INET)
		return hsk_connect(s, sd, a->v4, port);
	if (k->kind != SK_FRESH)
		return -HSK_EINVAL;
	if (ip6_is_v4mapped(a->v6)) {
		/* An IPv6 socket reaching an IPv4 peer (Linux: unless v6only
		 * or bound to an IPv6 address); from baddr when bound to a
		 * v4-mapped one (conn_open). */
		if (k->v6only || k->baddr6)
			return -HSK_ENETUNREACH;
		return connect4(s, sd, rd32(a->v6 + 12), port);
	}
	if (k->mapped)          /* bound to IPv4's: no IPv6 peer (Linux's) */
		return -HSK_EAFNOSUPPORT;
	stack_clock_check(s);
	bool tfo = k->opt && k->opt->tfo_connect &&     /* (NULL: the defaults') */
		   (s->env.cfg.tcp_fastopen & HSK_TFO_CLIENT);
	tcb *t;
	int err = conn_open6(s, sd, a->v6, port, &t);
	if (err < 0)
		return err;
	if (tfo && tfo_connect(s, t, a->v6))
		return 0;
	output_syn(&s->tcp, t);
	return -HSK_EINPROGRESS;
}

long hsk_sendto(hsk_stack *s, int sd, const void *buf, size_t len, int flags,
		uint32_t addr, uint16_t port)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	if ((flags & ~(HSK_MSG_FASTOPEN | HSK_MSG_OOB)) ||
	    (flags & (HSK_MSG_FASTOPEN | HSK_MSG_OOB)) == (HSK_MSG_FASTOPEN | HSK_MSG_OOB))
		return -HSK_EINVAL;
	if (!(flags & HSK_MSG_FASTOPEN)) {
		/* As Linux: the address of a connected socket is ignored; an
		 * unconnected stream socket cannot send. */
		if (k->kind != SK_CONN)
			return k->kind == SK_FRESH ? -HSK_EPIPE : -HSK_ENOTCONN;
		if (flags & HSK_MSG_OOB)
			return send_urgent(s, sd, buf, len);
		return hsk_send(s, sd, buf, len);
	}
	if (!(s->env.cfg.tcp_fastopen & HSK_TFO_CLIENT))
		return -HSK_EOPNOTSUPP;
	/* As Linux: a connection's state is looked at before the address
	 * (EISCONN, EALREADY: conn_open), then an IPv4 address is not a
	 * fresh IPv6 socket's, as hsk_connect's */
	if (k->inet6 && k->kind != SK_CONN)
		return -HSK_EAFNOSUPPORT;
	stack_clock_check(s);
	tcb *t;
	int err = conn_open(s, sd, addr, port, &t);
	if (err < 0)
		return err;
	t->flags |= TF_TFO_SYN;
	long n = 0;
	uint8_t key[16];
	tfo_key4(addr, key);
	if (tfo_data_ok(s, key) && len) {
		/* The SYN's data: as much of buf as it carries (Linux returns
		 * that count; the rest is the application's to send after). */
		t->flags |= TF_TFO_DATA | TF_TFO_DEFER;
		long room = send_room(s, &s->socks[sd], t);
		if (room > 0)
			n = ring_write(&t->act->snd, buf, len < (size_t)room ? (uint32_t)len :
				       (uint32_t)room);
		t->flags &= ~(uint32_t)TF_TFO_DEFER;
	}
	tcp_output(&s->tcp, t);
	return n > 0 ? n : -HSK_EINPROGRESS;
}

/* Our side is done sending: queue a FIN behind the data. False when the
 * transition was refused (an engine bug, counted in IllegalTransitions):
 * then nothing is queued or sent. (In line in its two callers, close()
 * and shutdown(): its own frame and the state's switch cost each close
 * ~19 more.) */
static inline __attribute__((always_inline)) bool queue_fin(hsk_stack *s, tcb *t, const char *cause)
{
	int to;
	if (t->flags & TF_FIN_QUEUED)
		return true;
	/* The FIN's timer and record need the active extension. */
	if (!tcb_act_get(&s->tcp, t))
		return false;
	switch (t->state) {
	case HSK_SYN_RECEIVED:
	case HSK_ESTABLISHED:
		to = HSK_FIN_WAIT_1;
		break;
	case HSK_CLOSE_WAIT:
		to = HSK_LAST_ACK;
		break;
	default:
		return true;    /* a FIN is queued already, or none can be */
	}
	if (!tcb_set_state(&s->tcp, t, to, cause))
		return false;
	t->flags |= TF_FIN_QUEUED;
	tcp_output(&s->tcp, t);
	return true;
}

int hsk_shutdown(hsk_stack *s, int sd, int how)
{
	int err = 0;
	tcb *t = conn_of(s, sd, &err);
	if (!t)
		return err;
	if (how < HSK_SHUT_RD || how > HSK_SHUT_RDWR)
		return -HSK_EINVAL;
	if (t->state == HSK_SYN_SENT || t->state == HSK_CLOSED)
		return -HSK_ENOTCONN;
	stack_clock_check(s);
	/* SHUT_RD, as Linux: what is queued stays readable, then reads see
	 * the end of the stream. */
	if (how != HSK_SHUT_WR)
		t->flags |= TF_SHUT_RD;
	if (how != HSK_SHUT_RD && !queue_fin(s, t, "shutdown()"))
		return -HSK_EINVAL;
	tcb_notify(&s->tcp, t);
	return 0;
}

/* close() and abort() on a connection: the TCB lives on as an orphan, or
 * ends now. */
static inline __attribute__((always_inline)) void conn_release(hsk_stack *s, tcb *t, bool abort,
								   int32_t linger_s)
{
	tcb_orphan(&s->tcp, t);
	if (t->flags & TF_DETACHED) {
		tcb_free(&s->tcp, t);         /* closed or in TIME_WAIT already */
		return;
	}
	bool unread = tcb_rcv_len(t) > 0;
	if (t->state == HSK_SYN_SENT) {
		tcb_closed(&s->tcp, t, abort ? "abort()" : "close()");
		return;
	}
	if (abort || unread || (t->flags & TF_LINGER0)) {
		/* RFC 9293 §3.10.4 and Linux: unread data, linger-zero or
		 * abort() reset the connection instead of closing it. */
		if (abort)
			CNT_INC(&s->env, TCPAbortOnClose);
		else if (unread)
			CNT_INC(&s->env, TCPAbortOnClose);
		else
			CNT_INC(&s->env, TCPAbortOnLinger);
		tcb_send_rst(&s->tcp, t);
		tcb_closed(&s->tcp, t, abort ? "abort()" : unread ?
			   "close() with unread data" : "close() with linger 0");
		return;
	}
	if (s->tcp.orphans > s->env.cfg.max_orphans ||
	    (tcb_snd_len(t) && tcp_mem_exhausted(&s->tcp))) {
		/* Linux's tcp_close past tcp_max_orphans ("too many orphaned
		 * sockets"), or with data queued when memory is exhausted
		 * (tcp_out_of_memory): reset rather than linger. Here before
		 * the FIN, so the peer gets one reset, not a FIN and a reset. */
		CNT_INC(&s->env, TCPAbortOnMemory);
		tcb_send_rst(&s->tcp, t);
		tcb_closed(&s->tcp, t, s->tcp.orphans > s->env.cfg.max_orphans ?
			   "close(): too many orphans" : "close(): out of memory");
		return;
	}
	if (!queue_fin(s, t, "close()")) {
		/* Nobody holds it any more: it must end all the same. */
		tcb_send_rst(&s->tcp, t);
		tcb_closed(&s->tcp, t, "close(): no FIN possible");
		return;
	}
	uint64_t close_at = 0;
	if (t->state == HSK_FIN_WAIT_2 && (!t->act || !t->act->close_at))
		close_at = s->env.now + s->env.cfg.fin_timeout_ns;
	else if (linger_s > 0 && !(t->flags & (TF_FIN_ACKED | TF_DETACHED)))
		/* SO_LINGER N: close() cannot block here, so the time bound is
		 * the connection's: our FIN not acknowledged within N s, it is
		 * reset (timer.c, TCPAbortOnLinger). Entering FIN_WAIT_2 ends
		 * the linger (fin_timeout takes over). */
		close_at = s->env.now + (uint64_t)linger_s * 1000000000ull;
	if (close_at) {
		tcb_act *a = tcb_act_get(&s->tcp, t);
		if (!a) {
			tcb_send_rst(&s->tcp, t);
			tcb_closed(&s->tcp, t, "close(): out of memory");
			return;
		}
		a->close_at = close_at;
		tcb_timer_update(&s->tcp, t);
	}
}

/* In line in hsk_close and hsk_abort: abort known, no call between. */
static inline __attribute__((always_inline)) int sock_close(hsk_stack *s, int sd, bool abort)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	stack_clock_check(s);
	if (k->kind == SK_LISTEN) {
		tcp_listener *l = k->l;
		listener_close(&s->tcp, l);
		for (tcp_listener **pp = &s->tcp.listeners; *pp; pp = &(*pp)->next)
			if (*pp == l) {
				*pp = l->next;
				break;
			}
		hsk_tuple tu = { .laddr = l->addr, .lport = l->port };
		tbl_v6addrs la;
		memset(&la, 0, sizeof(la));
		memcpy(la.l, l->addr6, 16);
		trace_obj_state(&s->tcp, HSK_OBJ_LISTEN, &tu, l->family == HSK_AF_INET6 ? &la : NULL,
				HSK_LISTEN, HSK_CLOSED, "close()");
		listener_free(&s->tcp, l);
		pool_put(&s->tcp.lst_pool, l);
	} else if (k->kind == SK_CONN) {
		/* (opt NULL: the defaults', no SO_LINGER time) */
		sock_opts *opt = k->opt;
		conn_release(s, k->t, abort, opt ? opt->linger_s : SOCK_LINGER_OFF);
		/* A connection's slot holds no IPv6 address to free: no test
		 * of its kind and family again. */
		sock_release_slot(s, sd, opt, NULL);
		return 0;
	}
	stack_sock_release(s, sd);
	return 0;
}

/* close()'s usual case, in one test: a connection established (or closed
 * by its peer) with its extension and nothing unread or queued to send,
 * a window with room for the FIN (a zero one holds it: fin_held),
 * no option of its own (so no SO_LINGER), room for one more orphan, no
 * clock to read, not traced, no listener waiting for a slot.
 * conn_release and queue_fin then only count the orphan, store the state
 * (the socket is gone: nobody to tell) and send the FIN. (A TCB with a
 * socket is no orphan; in those states it is in the table, has no FIN
 * queued (queue_fin moves it out of them), and SO_LINGER 0 is an option
 * of the socket's.) */
static inline __attribute__((always_inline)) bool close_usual(const hsk_stack *s,
								const hsk_sock *k)
{
	const tcb *t = k->t;
	const tcb_act *a = t->act;
	bool usual = !k->opt && a && (t->state == HSK_ESTABLISHED || t->state == HSK_CLOSE_WAIT) &&
		     !(ring_len(&a->rcv) | ring_len(&a->snd)) && t->snd_wnd &&
		     s->tcp.orphans < s->env.cfg.max_orphans && !s->env.cfg.clock &&
		     !s->env.cfg.trace && !s->socks_starved && !s->tcp.no_fastpath;
	assert(!usual ||
	       !(t->flags & (TF_ORPHAN | TF_DETACHED | TF_LINGER0 | TF_FIN_QUEUED)));
	return usual;
}

/* The FIN's output as close()'s last step, its value close()'s: a tail
 * call, so the usual close needs no frame. */
static __attribute__((noinline)) int close_fin_out(tcp_stack *s, tcb *t)
{
	output_fin(s, t);
	return 0;
}

/* close() otherwise: out of line, with the frame its calls need. */
static __attribute__((noinline)) int close_general(hsk_stack *s, int sd)
{
	return sock_close(s, sd, false);
}

int hsk_close(hsk_stack *s, int sd)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k || k->kind != SK_CONN || !close_usual(s, k))
		return close_general(s, sd);
	tcb *t = k->t;
	tcb_orphan_counted(&s->tcp, t, t->act);
	int to = t->state == HSK_ESTABLISHED ? HSK_FIN_WAIT_1 : HSK_LAST_ACK;
	assert(tcp_transition_legal(t->state, to));
	t->state = (uint8_t)to;
	t->flags |= TF_FIN_QUEUED;
	/* The slot goes before the FIN, not after it as sock_close's: the
	 * output reads no slot (the TCB's sd is -1 now). */
	sock_free_slot(s, sd);  /* (close_usual: nothing more to free) */
	return close_fin_out(&s->tcp, t);
}
int hsk_abort(hsk_stack *s, int sd) { return sock_close(s, sd, true); }

/* May the application write now (as hsk_send would take it)? A Fast Open
 * connection may before its handshake completes: the server's (RFC 7413
 * §4.2.2), and the client's whose SYN waits for the first write. */
static bool conn_writable_state(const tcb *t)
{
	if (t->state == HSK_SYN_RECEIVED)
		return t->flags & TF_TFO_CHILD;
	if (t->state == HSK_SYN_SENT)
		return t->flags & TF_TFO_DEFER;
	return state_can_send(t->state);
}

static int conn_poll(hsk_stack *s, const hsk_sock *k)
{
	const tcb *t = k->t;
	const sock_opts *o = sock_opts_get(s, k);
	int m = 0;
	/* POLLIN from SO_RCVLOWAT bytes, or fewer when the window is too
	 * small for more to come (Linux's tcp_epollin_ready). */
	uint32_t avail = tcb_rcv_len(t);
	uint32_t wnd = seq_gt(t->rcv_adv, t->rcv_nxt) ? (uint32_t)seq_diff(t->rcv_adv, t->rcv_nxt) : 0;
	if (avail && (avail >= o->rcvlowat || wnd <= t->mss))
		m |= HSK_POLLIN;
	if (t->flags & (TF_RCVD_FIN | TF_SHUT_RD))
		m |= HSK_POLLIN | HSK_POLLRDHUP;
	if (t->err)
		m |= HSK_POLLERR;
	if (t->act && (t->act->urg & URG_RCV) && tcb_urgent_left(t))
		m |= HSK_POLLPRI;       /* urgent data left to read (urgent.c) */
	if (t->state == HSK_CLOSED)
		m |= HSK_POLLHUP | HSK_POLLIN;
	if (conn_writable_state(t) && !(t->flags & (TF_FIN_QUEUED | TF_SND_WAIT))) {
		/* SO_SNDLOWAT bytes of room (at most the buffer), and unsent
		 * bytes below half of TCP_NOTSENT_LOWAT (Linux's wake rule). */
		uint32_t room = t->act && t->act->snd.buf ? ring_space(&t->act->snd) : t->sndbuf;
		uint32_t low = o->sndlowat < t->sndbuf ? o->sndlowat : t->sndbuf;
		uint32_t lim = o->notsent_lowat ? o->notsent_lowat : s->env.cfg.tcp_notsent_lowat;
		uint64_t notsent2 = 2ull * tcb_notsent(t);
		if (room && room >= low && (lim == UINT32_MAX || notsent2 < lim))
			m |= HSK_POLLOUT;
	}
	if ((t->flags & TF_RCVD_FIN) && (t->flags & TF_FIN_QUEUED))
		m |= HSK_POLLHUP;
	if (t->state != HSK_SYN_SENT && t->state != HSK_SYN_RECEIVED &&
	    !tcb_snd_len(t) && seq_eq(t->snd_una, t->snd_max))
		m |= HSK_POLLDRAINED;
	return m;
}

/* hsk_poll of an open socket that is not a connection. */
static int plain_poll(const hsk_sock *k)
{
	if (k->kind == SK_FRESH)
		return HSK_POLLOUT | HSK_POLLHUP;
	return k->l->accept_q ? HSK_POLLIN : 0;
}

/* hsk_poll of a socket known to be open. */
static int sock_poll(hsk_stack *s, const hsk_sock *k)
{
	return k->kind == SK_CONN ? conn_poll(s, k) : plain_poll(k);
}

int hsk_poll(hsk_stack *s, int sd)
{
	hsk_sock *k = sock_get(s, sd);
	return k ? sock_poll(s, k) : -HSK_EBADF;
}

/* Drops the first i entries of the readiness queue. */
static inline void evq_drop(hsk_stack *s, size_t i)
{
	if (i && i < s->evq_len)
		memmove(s->evq, s->evq + i, (s->evq_len - i) * sizeof(*s->evq));
	s->evq_len -= (unsigned)i;
}

/* hsk_stack_events from queue entry i on, with n events in out already. */
static __attribute__((noinline)) size_t events_from(hsk_stack *s, hsk_event *out, size_t max,
						    size_t i, size_t n)
{
	for (; i < s->evq_len && n < max; i++) {
		int sd = s->evq[i];
		hsk_sock *k = sock_get(s, sd);
		if (!k)
			continue; /* closed since */
		k->ev_queued = false;
		out[n] = (hsk_event){ .sd = sd, .events = sock_poll(s, k), .user = k->user };
		if (k->kind == SK_CONN) {
			/* Bytes acknowledged since the last event (lwIP's
			 * tcp_sent): SND.UNA moved, SYN and FIN aside. */
			uint32_t a = tcb_data_acked(k->t);
			out[n].acked = a - k->acked_seen;
			k->acked_seen = a;
		}
		n++;
	}
	evq_drop(s, i);
	return n;
}

/* Drains the readiness queue that stack_notify fills. Most entries are of
 * sockets closed since (each connection is notified as it closes) or of
 * listeners: this loop passes over the former and reports the latter
 * without a call, and so saves no registers. From the first open
 * connection on (conn_poll is a call), or when out is full (entries stay
 * queued: memmove is a call), events_from does the rest. */
size_t hsk_stack_events(hsk_stack *s, hsk_event *out, size_t max)
{
	size_t n = 0, i = 0;
	s->tcp.notified = -1;   /* its socket leaves the queue (tcp_notify) */
	for (; i < s->evq_len; i++) {
		if (n == max)
			return events_from(s, out, max, i, n);
		int sd = s->evq[i];
		hsk_sock *k = sock_get(s, sd);
		if (!k)
			continue; /* closed since */
		if (k->kind == SK_CONN)
			return events_from(s, out, max, i, n);
		k->ev_queued = false;
		out[n++] = (hsk_event){ .sd = sd, .events = plain_poll(k), .user = k->user };
	}
	s->evq_len = 0;
	return n;
}

int hsk_sock_error(hsk_stack *s, int sd)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	if (k->kind != SK_CONN)
		return 0;
	return -take_error(k->t);
}

int hsk_sock_state(hsk_stack *s, int sd)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	if (k->kind == SK_LISTEN)
		return HSK_LISTEN;
	if (k->kind == SK_CONN)
		return k->t->state;
	return HSK_CLOSED;
}

int hsk_sock_tuple(hsk_stack *s, int sd, hsk_tuple *tu)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	if (k->kind == SK_CONN) {
		*tu = k->t->node.key;
		if (k->t->node.v6)
			tu->laddr = tu->raddr = 0;
	} else {
		*tu = (hsk_tuple){ .laddr = k->baddr, .lport = k->bport };
		if (k->kind == SK_LISTEN)
			*tu = (hsk_tuple){ .laddr = k->l->addr, .lport = k->l->port };
	}
	return 0;
}

int hsk_getsockname(hsk_stack *s, int sd, uint32_t *addr, uint16_t *port)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	hsk_tuple tu;
	hsk_sock_tuple(s, sd, &tu);
	if (addr)
		*addr = tu.laddr;
	if (port)
		*port = tu.lport;
	return 0;
}

int hsk_getpeername(hsk_stack *s, int sd, uint32_t *addr, uint16_t *port)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	/* Linux: no peer until connected; none once closed again. */
	if (k->kind != SK_CONN || k->t->state == HSK_SYN_SENT || k->t->state == HSK_CLOSED)
		return -HSK_ENOTCONN;
	if (addr)
		*addr = k->t->node.key.raddr;
	if (port)
		*port = k->t->node.key.rport;
	return 0;
}

int hsk_sock_set_user(hsk_stack *s, int sd, void *user)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	k->user = user;
	return 0;
}

void *hsk_sock_user(hsk_stack *s, int sd)
{
	hsk_sock *k = sock_get(s, sd);
	return k ? k->user : NULL;
}

/* The cache's key of a server address: IPv4 v4-mapped, as tfo_key4. */
static int tfo_key_of(const hsk_addr *a, uint8_t key[16])
{
	if (a->family == HSK_AF_INET)
		tfo_key4(a->v4, key);
	else if (a->family == HSK_AF_INET6)
		memcpy(key, a->v6, 16);
	else
		return -HSK_EAFNOSUPPORT;
	return 0;
}

int hsk_fastopen_cookie_get_addr(hsk_stack *s, const hsk_addr *a, uint8_t buf[16])
{
	uint8_t key[16];
	int rc = tfo_key_of(a, key);

	return rc < 0 ? rc : tfo_cookie_copy(&s->tcp, key, buf);
}

int hsk_fastopen_cookie_set_addr(hsk_stack *s, const hsk_addr *a, const uint8_t *cookie,
				 size_t len)
{
	uint8_t key[16];
	int rc = tfo_key_of(a, key);

	if (rc < 0)
		return rc;
	if (!cookie || len < TCP_FO_COOKIE_MIN || len > TCP_FO_COOKIE_MAX || (len & 1))
		return -HSK_EINVAL;
	return tfo_cookie_store(&s->tcp, key, cookie, (uint8_t)len, 0);
}

int hsk_fastopen_cookie_get(hsk_stack *s, uint32_t addr, uint8_t buf[16])
{
	hsk_addr a = hsk_addr_v4(addr);

	return hsk_fastopen_cookie_get_addr(s, &a, buf);
}

int hsk_fastopen_cookie_set(hsk_stack *s, uint32_t addr, const uint8_t *cookie, size_t len)
{
	hsk_addr a = hsk_addr_v4(addr);

	return hsk_fastopen_cookie_set_addr(s, &a, cookie, len);
}

int hsk_fastopen_key_set(hsk_stack *s, const uint8_t primary[16], const uint8_t *backup)
{
	if (!primary)
		return -HSK_EINVAL;
	tfo_keys_set(&s->tcp, primary, backup);
	return 0;
}

int hsk_fastopen_key_get(hsk_stack *s, uint8_t out[32])
{
	return tfo_keys_get(&s->tcp, out);
}

int hsk_sock_info(hsk_stack *s, int sd, hsk_tcp_info *ti)
{
	int err = 0;
	const tcb *t = conn_of(s, sd, &err);
	if (!t)
		return err;
	*ti = (hsk_tcp_info){
		.state = t->state,
		.sack = t->flags & TF_SACK_OK,
		.timestamps = t->flags & TF_TS_OK,
		.snd_wscale = t->snd_wscale, .rcv_wscale = t->rcv_wscale,
		.mss = t->mss,
		.cwnd = tcb_cwnd(t), .ssthresh = tcb_ssthresh(t),
		.snd_wnd = t->snd_wnd,
		.unacked = (uint32_t)seq_diff(t->snd_max, t->snd_una),
		.srtt_ns = t->rtt.srtt, .rttvar_ns = t->rtt.rttvar,
		.rto_ns = rtt_rto(&t->rtt, &s->tcp.rttp), .min_rtt_ns = t->rtt.min_rtt,
		.retransmits = tcb_retries(t),
		.in_recovery = tcb_in_recovery(t),
		.congestion_control = tcb_cc_ops(t)->name,
		.ecn = (t->ecn & ECN_OK) != 0,
		.fastopen = (t->flags & (TF_TFO_CHILD | TF_TFO_ACKED)) != 0,
		.bytes_acked = tcb_data_acked(t),
		.pacing_rate = pace_rate_now(&s->tcp, t),
	};
	return 0;
}

long hsk_sock_urgent(hsk_stack *s, int sd)
{
	int err = 0;
	const tcb *t = conn_of(s, sd, &err);
	if (!t)
		return err;
	return tcb_urgent_left(t);
}

/* An IPv6 socket bound to a v4-mapped address (::ffff:0.0.0.0, IPv4's
 * wildcard, included): IPv4's bind, as Linux, on a socket that keeps its
 * family (its names v4-mapped). Not on a v6only one (EINVAL, as Linux). */
static int bind_mapped(hsk_stack *s, int sd, hsk_sock *k, uint32_t addr, uint16_t port)
{
	if (k->v6only)
		return -HSK_EINVAL;
	int rc = bind4(s, sd, k, addr, port);
	if (rc == 0)
		k->mapped = true;
	return rc;
}

int hsk_bind_addr(hsk_stack *s, int sd, const hsk_addr *a, uint16_t port)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	if (a->family != sock_family(k))
		return -HSK_EAFNOSUPPORT;
	if (a->family == HSK_AF_INET)
		return hsk_bind(s, sd, a->v4, port);
	if (k->kind != SK_FRESH || k->bport || k->baddr6 || k->mapped)
		return -HSK_EINVAL;
	if (ip6_is_v4mapped(a->v6))
		return bind_mapped(s, sd, k, rd32(a->v6 + 12), port);
	bool any = zero16(a->v6);
	if (!any && !ip6_is_ours(&s->ip, a->v6))
		return -HSK_EADDRNOTAVAIL;
	if (port && bind_conflict6(s, sd, any ? NULL : a->v6, k->v6only, port,
				   sock_opts_get(s, k)))
		return -HSK_EADDRINUSE;
	if (!any) {
		k->baddr6 = malloc(16);
		if (!k->baddr6)
			return -HSK_ENOMEM;
		memcpy(k->baddr6, a->v6, 16);
	}
	k->bport = port;
	return 0;
}

/* IPv4 address v4 as a socket of `family` names it: v4-mapped on an IPv6
 * one. */
static hsk_addr addr_as(int family, uint32_t v4)
{
	if (family != HSK_AF_INET6)
		return hsk_addr_v4(v4);
	uint8_t m[16] = { [10] = 0xff, [11] = 0xff };
	wr32(m + 12, v4);
	return hsk_addr_v6(m);
}

/* An address of a connection as a socket of `family` reports it: IPv4
 * ones on an IPv6 socket v4-mapped. */
static hsk_addr conn_addr(const hsk_stack *s, const tcb *t, int family, bool local)
{
	if (t->node.v6) {
		const tbl_v6addrs *a6 = tbl_v6(&s->tcp.conns, &t->node);
		return hsk_addr_v6(local ? a6->l : a6->r);
	}
	return addr_as(family, local ? t->node.key.laddr : t->node.key.raddr);
}

int hsk_accept_addr(hsk_stack *s, int sd, hsk_addr *peer, uint16_t *port)
{
	int nsd = hsk_accept(s, sd, NULL);
	if (nsd < 0)
		return nsd;
	const hsk_sock *k = &s->socks[nsd];
	if (peer)
		*peer = conn_addr(s, k->t, sock_family(k), false);
	if (port)
		*port = k->t->node.key.rport;
	return nsd;
}

int hsk_select_src(hsk_stack *s, const hsk_addr *dst, hsk_addr *src)
{
	if (dst->family == HSK_AF_INET) {
		if (!s->ip.addr)
			return -HSK_ENETUNREACH;
		*src = hsk_addr_v4(s->ip.addr);
		return 0;
	}
	if (dst->family != HSK_AF_INET6)
		return -HSK_EAFNOSUPPORT;
	src->family = HSK_AF_INET6;
	src->scope_id = 0;
	return ip6_select_src(&s->ip, dst->v6, src->v6) < 0 ? -HSK_ENETUNREACH : 0;
}

int hsk_sock_name(hsk_stack *s, int sd, hsk_addr *a, uint16_t *port)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	if (k->kind == SK_CONN) {
		*a = conn_addr(s, k->t, sock_family(k), true);
		*port = k->t->node.key.lport;
	} else if (k->kind == SK_LISTEN) {
		*a = k->l->family == HSK_AF_INET6 ? hsk_addr_v6(k->l->addr6) :
		     addr_as(sock_family(k), k->l->addr);
		*port = k->l->port;
	} else {
		static const uint8_t any[16];
		*a = !k->inet6 || k->mapped ? addr_as(sock_family(k), k->baddr) :
		     hsk_addr_v6(k->baddr6 ? k->baddr6 : any);
		*port = k->bport;
	}
	return 0;
}

int hsk_sock_peer(hsk_stack *s, int sd, hsk_addr *a, uint16_t *port)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	if (k->kind != SK_CONN)
		return -HSK_ENOTCONN;
	*a = conn_addr(s, k->t, sock_family(k), false);
	*port = k->t->node.key.rport;
	return 0;
}
