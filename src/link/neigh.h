/*
 * The neighbour table ARP (arp.c) and Neighbor Discovery (nd.c) share: a
 * small array searched linearly (a link has a handful of neighbours;
 * max_entries bounds the work per lookup), each entry an address of up to
 * 16 bytes, its MAC, a state, and the packets waiting for it to resolve.
 * The protocols keep their own timing and probing; this holds what is the
 * same in both: finding, taking a slot (evicting the least recently
 * confirmed entry that no packet waits on), and the bounded queue.
 */
#ifndef HSK_LINK_NEIGH_H
#define HSK_LINK_NEIGH_H

#include <stdint.h>
#include <stddef.h>

enum neigh_state {
	NEIGH_FREE = 0,
	NEIGH_INCOMPLETE,      /* being resolved; packets may wait */
	NEIGH_REACHABLE,       /* confirmed recently */
	NEIGH_STALE,           /* ND only: usable, to be confirmed */
};

struct neigh_pkt {
	struct neigh_pkt *next;
	size_t len;
	uint8_t data[];        /* the IP packet, without a link header */
};

struct neigh_entry {
	uint8_t addr[16];      /* the first `keylen` bytes are the key */
	uint8_t mac[6];
	uint8_t state;         /* enum neigh_state */
	uint8_t tries;         /* probes sent and not answered */
	uint64_t confirmed;    /* last confirmation, or when learned */
	uint64_t used;         /* last packet sent through it (ND) */
	uint64_t next_try;     /* the next probe may go at */
	struct neigh_pkt *q_head, *q_tail;
	unsigned q_n;
};

typedef struct neigh_table {
	struct neigh_entry *e;
	unsigned max_entries, max_pending, keylen;
	uint64_t pending_drops, evictions;
} neigh_table;

/* -1 on no memory; max_entries 0 means 1. */
int neigh_init(neigh_table *t, unsigned max_entries, unsigned max_pending, unsigned keylen);
void neigh_fini(neigh_table *t);

struct neigh_entry *neigh_find(const neigh_table *t, const void *addr);
/* A free slot, or the least recently confirmed entry not INCOMPLETE
 * (counted as an eviction): cleared, with addr set; NULL when every
 * entry is being resolved. */
struct neigh_entry *neigh_alloc(neigh_table *t, const void *addr);
/* Back to FREE, its waiting packets dropped and counted. */
void neigh_clear(neigh_table *t, struct neigh_entry *e);

/* Queues a copy of pkt on e: 0, or -ENOBUFS (counted) when e has
 * max_pending packets or there is no memory. */
int neigh_enqueue(neigh_table *t, struct neigh_entry *e, const uint8_t *pkt, size_t len);
/* The oldest packet waiting on e, unlinked (the caller sends and frees
 * it), or NULL. */
struct neigh_pkt *neigh_pop(struct neigh_entry *e);

size_t neigh_count(const neigh_table *t);

#endif
