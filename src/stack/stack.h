/*
 * The stack instance composes the layers from above: the shared env (core),
 * the IP layer, the TCP layer, and the sockets that the public API hands
 * out. Internal: the public API sees an opaque hsk_stack.
 *
 *   api (socket calls, loop)  ->  stack  ->  tcp  ->  ip  ->  wire
 *                                  core (env, tables, pools, rings) below all
 */
#ifndef HSK_STACK_H
#define HSK_STACK_H

#include <assert.h>
#include <string.h>

#include "core/env.h"
#include "handshake.h"
#include "ip/ip.h"
#include "tcp/tcp.h"

enum sock_kind { SK_FREE = 0, SK_FRESH, SK_LISTEN, SK_CONN };

/* The rarer options of a socket (src/api/sockopt.c): what the socket
 * layer itself uses (low-water marks, linger time), and what a fresh
 * socket keeps for the connection it will make. Allocated when one is
 * first set; accepted sockets copy their listener's. Without them (opt
 * NULL) the defaults hold (sockopt.c): all zero but the linger time
 * (SOCK_LINGER_OFF) and the low-water marks (1). connect(), accept() and
 * close() rely on that and read nothing then (socket.c);
 * test_sockopt's test_defaults_without_options compares the two ways. */
enum { SOCK_LINGER_OFF = -1 };
typedef struct sock_opts {
	uint64_t user_timeout_ns; /* TCP_USER_TIMEOUT, for the connection */
	int32_t linger_s;         /* SO_LINGER: SOCK_LINGER_OFF, else seconds */
	uint32_t rcvlowat;        /* SO_RCVLOWAT: POLLIN from this many bytes */
	uint32_t sndlowat;        /* SO_SNDLOWAT: POLLOUT when this much room */
	uint32_t notsent_lowat;   /* TCP_NOTSENT_LOWAT (0: the stack's) */
	uint32_t tfo_qlen;        /* TCP_FASTOPEN, for listen() */
	uint32_t keep_idle_s, keep_intvl_s; /* TCP_KEEPIDLE/INTVL, 0: stack's */
	uint8_t keep_cnt;         /* TCP_KEEPCNT, 0: the stack's */
	uint16_t user_mss;        /* TCP_MAXSEG */
	uint32_t pace_cap;        /* SO_MAX_PACING_RATE: tcb_act.pace_cap's
				   * value (0: not paced), when pace_set */
	uint8_t tos;              /* IP_TOS (ECN bits clear) */
	uint8_t defer_retrans;    /* TCP_DEFER_ACCEPT, in SYN-ACK timeouts */
	bool reuseaddr, reuseport;
	bool tfo_connect;         /* TCP_FASTOPEN_CONNECT */
	bool pace_set;            /* SO_MAX_PACING_RATE set (else the stack's
				   * pacing_rate: sock_pace_cap) */
	const cc_ops *cc;         /* TCP_CONGESTION (NULL: the stack's) */
} sock_opts;

/* A socket descriptor's slot. A fresh socket keeps its bound address and
 * options; a listening or connected one points at its object. */
typedef struct hsk_sock {
	/* A byte of its own: every call asks it (sock_get, the kind's
	 * tests), a compare with memory where a bit-field is a load, a mask
	 * and a compare, and stored without a read. */
	uint8_t kind;             /* enum sock_kind */
	uint8_t inet6 : 1;        /* an HSK_AF_INET6 socket (sock_family) */
	uint8_t v6only : 1;       /* HSK_SO_V6ONLY */
	uint8_t mapped : 1;       /* IPv6, bound to a v4-mapped address: an
				   * IPv4 socket's bind at baddr, and its
				   * connections IPv4 (as Linux) */
	bool ev_queued : 1;       /* already on the readiness event queue */
	uint8_t buf_locks : 2;    /* enum buf_lock: SO_SNDBUF / SO_RCVBUF set
				   * before connect or listen */
	uint16_t bport;
	uint32_t baddr;
	uint32_t flags;           /* TF_NODELAY, TF_KEEPALIVE, TF_LINGER0,
				   * TF_PINGPONG */
	uint32_t sndbuf, rcvbuf;
	uint32_t acked_seen;      /* data bytes acknowledged when last
				   * reported in an event (hsk_event.acked) */
	void *user;               /* hsk_sock_set_user */
	sock_opts *opt;           /* NULL: all defaults */
	union {
		tcp_listener *l;
		tcb *t;
		int next_free;
		uint8_t *baddr6;  /* fresh IPv6: the bound address (NULL: ::) */
	};
} hsk_sock;

struct hsk_stack {
	hsk_env env;
	ip_layer ip;
	tcp_stack tcp;
	uint32_t port_counter;    /* RFC 6056 algorithm 3 */

	hsk_sock *socks;
	unsigned nsocks;          /* slots allocated */
	int free_sock;            /* head of the free list, -1 when none */
	unsigned socks_in_use;
	bool socks_starved;       /* a socket was refused: max_sockets open */

	int *evq;                 /* sds with a pending readiness event */
	unsigned evq_len, evq_cap;
};

static inline int sock_family(const hsk_sock *k)
{
	return k->inet6 ? HSK_AF_INET6 : HSK_AF_INET;
}

static inline hsk_sock *sock_get(hsk_stack *s, int sd)
{
	/* One compare for both ends: a negative sd is above any nsocks as
	 * an unsigned (GCC kept the two tests apart). */
	if ((unsigned)sd >= s->nsocks || s->socks[sd].kind == SK_FREE)
		return NULL;
	return &s->socks[sd];
}
/* The clock contract (hsk_config.clock): a socket call that may arm a
 * timer must find the stack's clock advanced to the present. Counted in
 * any build, fatal where assertions are on. */
static inline void stack_clock_check(hsk_stack *s)
{
	const hsk_config *c = &s->env.cfg;
	if (!c->clock)
		return;
	if (c->clock(c->clock_ctx) > s->env.now + c->clock_slack_ns) {
		CNT_INC(&s->env, StaleClock);
		assert(!"socket call at a stale clock: call hsk_stack_advance first");
	}
}

/* Queues a readiness event for sd (once until drained). */
void stack_notify(hsk_stack *s, int sd);
/* The first free slot, made a fresh socket (there is one). */
static inline int sock_take(hsk_stack *s)
{
	int sd = s->free_sock;
	hsk_sock *k = &s->socks[sd];
	s->free_sock = k->next_free;
	/* A free slot is zero but for the free list's link (the new slots
	 * of sock_alloc_grow, stack_sock_release): only that is cleared
	 * again. */
	k->baddr6 = NULL;
	k->kind = SK_FRESH;
	k->sndbuf = s->env.cfg.sndbuf;
	k->rcvbuf = s->env.cfg.rcvbuf;
	s->socks_in_use++;
	return sd;
}
/* stack_sock_alloc with no free slot (stack.c): the table grows. */
int sock_alloc_grow(hsk_stack *s);
/* A fresh socket's sd, or -HSK_EMFILE / -HSK_ENOMEM. In line (socket(),
 * accept()): taking a free slot is a few stores. */
static inline int stack_sock_alloc(hsk_stack *s)
{
	if (s->free_sock < 0)
		return sock_alloc_grow(s);
	return sock_take(s);
}
/* stack_sock_release's rare part (stack.c): frees, starved listeners. */
void sock_release_rest(hsk_stack *s, sock_opts *opt, uint8_t *baddr6);
/* sock_release_slot's stores alone, for a caller that knows there is
 * nothing more to do: no option nor address to free, no listener waiting
 * for a slot (socks_starved clear). */
static inline void sock_free_slot(hsk_stack *s, int sd)
{
	hsk_sock *k = &s->socks[sd];
	memset(k, 0, sizeof(*k));
	/* The slot is no longer queued (ev_queued is clear): tcp_notify must
	 * call for its next socket, which an sd still on the queue would not
	 * otherwise put on it again. */
	s->tcp.notified = -1;
	k->kind = SK_FREE;
	k->next_free = s->free_sock;
	s->free_sock = sd;
	s->socks_in_use--;
}
/* stack_sock_release with what the slot holds to free known (opt: its
 * options, baddr6: a fresh IPv6 socket's bound address, or NULL): for a
 * connection's close, whose slot holds no address (conn_start freed it),
 * without the test of its kind and family. */
static inline void sock_release_slot(hsk_stack *s, int sd, sock_opts *opt, uint8_t *baddr6)
{
	assert(opt == s->socks[sd].opt);
	sock_free_slot(s, sd);
	if (opt || baddr6 || s->socks_starved)
		sock_release_rest(s, opt, baddr6);
}
/* Socket sd's slot goes back to the free list. In line (close() and a
 * failed accept()): usually the socket has nothing to free (no option
 * set) and no listener waits for a slot, so there is no call at all. */
static inline void stack_sock_release(hsk_stack *s, int sd)
{
	hsk_sock *k = &s->socks[sd];
	uint8_t *baddr6 = k->kind == SK_FRESH && sock_family(k) == HSK_AF_INET6 ? k->baddr6 : NULL;
	sock_release_slot(s, sd, k->opt, baddr6);
}

/* ---- src/api/sockopt.c ---- */
/* A socket's options to read (the defaults when it set none). */
const sock_opts *sock_opts_get(const hsk_stack *s, const hsk_sock *k);
/* The pacing a socket's connection gets: its SO_MAX_PACING_RATE, or the
 * stack's pacing_rate when the option was not set (tcb_act.pace_cap's
 * encoding). */
static inline uint32_t sock_pace_cap(const hsk_stack *s, const sock_opts *o)
{
	return o->pace_set ? o->pace_cap : s->tcp.pace_default;
}
/* The connection of a fresh socket takes the options it was given: 0,
 * or -HSK_ENOMEM (no extension for those that live there). */
int sock_opts_to_tcb(hsk_stack *s, const hsk_sock *k, tcb *t);
/* The listener of a socket that just listened takes them. */
void sock_opts_to_listener(const hsk_stack *s, const hsk_sock *k, tcp_listener *l);
/* An accepted socket copies its listener's: 0 or -HSK_ENOMEM. */
int sock_opts_inherit(hsk_sock *to, const hsk_sock *from);

#endif
