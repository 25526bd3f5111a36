/*
 * The 4-tuple table: an intrusive chained hash table keyed by a keyed hash
 * (SipHash) of the connection's tuple, so a remote host cannot aim packets
 * at one bucket. It holds three kinds of objects (full TCBs, SYN-queue
 * requests, TIME_WAIT entries), each embedding a tbl_node as its first
 * member. It grows by doubling when the load passes 1 (the only allocation,
 * amortised; a failed growth keeps the old table working).
 */
#ifndef HSK_TABLE_H
#define HSK_TABLE_H

#include "handshake.h"

typedef struct tbl_node {
	struct tbl_node *next;
	hsk_tuple key;       /* laddr, raddr, lport, rport: this stack's view */
	uint8_t kind;        /* enum hsk_obj_kind of the embedding object */
} tbl_node;

typedef struct hsk_table {
	tbl_node **bucket;
	size_t mask;         /* buckets - 1, a power of two minus one */
	size_t count;
	uint64_t k0, k1;     /* SipHash key */
} hsk_table;

/* 0 or -HSK_ENOMEM (then the table must not be used). initial_buckets is
 * rounded up to a power of two, at least 16. */
int tbl_init(hsk_table *t, size_t initial_buckets, uint64_t k0, uint64_t k1);
void tbl_destroy(hsk_table *t);   /* frees the buckets, not the nodes */
/* n->key must be set; the caller guarantees it is not present yet. */
void tbl_insert(hsk_table *t, tbl_node *n);
/* n must be in the table. */
void tbl_remove(hsk_table *t, tbl_node *n);
tbl_node *tbl_lookup(const hsk_table *t, const hsk_tuple *key);
static inline size_t tbl_count(const hsk_table *t) { return t->count; }
/* Calls fn for every node; fn must not insert or remove. */
void tbl_foreach(const hsk_table *t, void (*fn)(void *ctx, tbl_node *n), void *ctx);
/* The keyed hash of a tuple (also used for port choice and ISNs). */
uint64_t tuple_hash(const hsk_tuple *key, uint64_t k0, uint64_t k1);
static inline bool tuple_eq(const hsk_tuple *a, const hsk_tuple *b)
{
	return a->laddr == b->laddr && a->raddr == b->raddr &&
	       a->lport == b->lport && a->rport == b->rport;
}

#endif
