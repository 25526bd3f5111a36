/*
 * The stack instance: configuration, clock, keys, the connection table,
 * pools, timers, sockets and counters. Internal: the public API sees an
 * opaque hsk_stack.
 */
#ifndef HSK_STACK_H
#define HSK_STACK_H

#include "core/counters.h"
#include "core/pool.h"
#include "core/rand.h"
#include "core/table.h"
#include "core/wheel.h"
#include "handshake.h"
#include "ip/ip.h"
#include "tcp/cc.h"
#include "tcp/rtt.h"
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
	uint64_t user_timeout_ns;
	union {
		tcp_listener *l;
		tcb *t;
		int next_free;
	};
} hsk_sock;

/* Room for the largest packet we build: IPv4 + TCP header with options +
 * payload of an MTU up to 64 KiB. */
enum { STACK_TXBUF = 65536 + 128 };
/* Free ring buffers of the default size kept for reuse. */
enum { STACK_RING_CACHE = 64 };

struct hsk_stack {
	hsk_config cfg;
	hsk_link link;
	uint64_t now;
	uint32_t addr;
	uint16_t mss;             /* ours: mtu - 40 */
	uint16_t ip_id;           /* identification of the next packet */
	uint32_t port_counter;    /* RFC 6056 algorithm 3 */
	hsk_counters cnt;
	uint64_t key0, key1;      /* secret for the table hash, ISNs, ports */
	hsk_rng rng;
	rtt_params rttp;          /* RTO bounds and the timestamp clock */
	const cc_ops *cc_ops;     /* congestion control for new connections */

	hsk_wheel wheel;
	hsk_table conns;          /* TCBs, requests, TIME_WAIT entries */
	hsk_pool tcb_pool, req_pool, tw_pool, lst_pool;
	tcp_listener *listeners;
	size_t buffer_bytes;      /* send and receive rings in use */
	size_t orphan_bytes;      /* of which orphans hold */
	unsigned orphans;         /* closed by the user, still in the table */
	bool mem_pressure;        /* tcp_mem: above pressure, not yet below low */
	uint64_t mem_pressure_at; /* when the pressure began */
	unsigned snd_waiters;     /* connections refused a send ring (a hint) */
	uint8_t *ring_cache[STACK_RING_CACHE];
	unsigned ring_cache_n;
	uint32_t ring_cache_cap;  /* the size cached: the default, rounded */

	hsk_sock *socks;
	unsigned nsocks;          /* slots allocated */
	int free_sock;            /* head of the free list, -1 when none */
	unsigned socks_in_use;
	bool socks_starved;       /* a socket was refused: max_sockets open */

	int *evq;                 /* sds with a pending readiness event */
	unsigned evq_len, evq_cap;

	ip_reasm *reasm;
	uint8_t txbuf[STACK_TXBUF];    /* the packet being built */
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
