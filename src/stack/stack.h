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

#include "core/env.h"
#include "handshake.h"
#include "ip/ip.h"
#include "tcp/tcp.h"

enum sock_kind { SK_FREE = 0, SK_FRESH, SK_LISTEN, SK_CONN };

/* A socket descriptor's slot. A fresh socket keeps its bound address and
 * options; a listening or connected one points at its object. */
typedef struct hsk_sock {
	uint8_t kind;             /* enum sock_kind */
	bool ev_queued;           /* already on the readiness event queue */
	uint16_t bport;
	uint32_t baddr;
	uint32_t flags;           /* TF_NODELAY, TF_KEEPALIVE, TF_LINGER0 */
	uint32_t sndbuf, rcvbuf;
	uint8_t family;           /* HSK_AF_INET or HSK_AF_INET6 */
	bool v6only;              /* HSK_SO_V6ONLY */
	uint64_t user_timeout_ns;
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

static inline hsk_sock *sock_get(hsk_stack *s, int sd)
{
	if (sd < 0 || (unsigned)sd >= s->nsocks || s->socks[sd].kind == SK_FREE)
		return NULL;
	return &s->socks[sd];
}
/* Queues a readiness event for sd (once until drained). */
void stack_notify(hsk_stack *s, int sd);
int stack_sock_alloc(hsk_stack *s);
void stack_sock_release(hsk_stack *s, int sd);

#endif
