/*
 * The 4-tuple table: an intrusive chained hash table keyed by a keyed hash
 * (SipHash-1-3) of the connection's tuple, so a remote host cannot aim
 * packets at one bucket. It holds three kinds of objects (full TCBs,
 * SYN-queue requests, TIME_WAIT entries), each embedding a tbl_node as its
 * first member.
 *
 * - Each node keeps 24 bits of its hash, in bytes the node had as padding,
 *   so removal and growth never hash again.
 * - Growth is incremental: when the load passes TBL_MAX_LOAD, a bucket
 *   array twice the size is allocated (the only allocation, amortised; a
 *   failed one keeps the old table working) and every later insert, remove
 *   or lookup moves at most TBL_MIGRATE_STEP buckets of the old array into
 *   it; until the old array is empty a lookup picks the array by bucket
 *   index. No operation moves more than that, however large the table.
 * - A one-entry cache remembers the last tuple hashed or found (its hash
 *   and node, or that it is absent): the segments of one connection in a
 *   row, and the insert that follows a lookup or a remove of the same
 *   tuple (a request becoming a TCB, a TCB becoming a TIME_WAIT entry),
 *   hash nothing.
 *
 * The bucket array stays a power of two of at most 2^24 (the hash bits
 * kept): 16 M buckets, 128 MiB, for up to 32 M nodes at load 2; past that
 * chains grow longer.
 */
#ifndef HSK_TABLE_H
#define HSK_TABLE_H

#include "handshake.h"

enum {
	TBL_MAX_LOAD = 2,             /* nodes per bucket before doubling */
	TBL_MIGRATE_STEP = 8,         /* old buckets moved per operation at most */
	TBL_HASH_BITS = 24,
};

typedef struct tbl_node {
	struct tbl_node *next;
	hsk_tuple key;       /* laddr, raddr, lport, rport: this stack's view */
	uint32_t kind : 8;   /* enum hsk_obj_kind of the embedding object */
	uint32_t hash : 24;  /* its tbl_hash (set by tbl_insert) */
} tbl_node;

typedef struct hsk_table {
	tbl_node **bucket;
	size_t mask;         /* buckets - 1, a power of two minus one */
	size_t count;
	/* incremental growth: buckets of `old` below `moved` are empty */
	tbl_node **old;
	size_t old_mask;
	size_t moved;
	uint64_t moves;      /* buckets migrated, ever (tests bound it per op) */
	/* the last tuple hashed: its hash, and its node (NULL: absent) */
	hsk_tuple c_key;
	uint32_t c_hash;
	bool c_valid;
	tbl_node *c_node;
	uint64_t v[4];       /* SipHash state after the key, precomputed */
} hsk_table;

/* 0 or -HSK_ENOMEM (then the table must not be used). initial_buckets is
 * rounded up to a power of two, at least 16. */
int tbl_init(hsk_table *t, size_t initial_buckets, uint64_t k0, uint64_t k1);
void tbl_destroy(hsk_table *t);   /* frees the buckets, not the nodes */
/* n->key must be set; the caller guarantees it is not present yet. */
void tbl_insert(hsk_table *t, tbl_node *n);
/* n must be in the table. */
void tbl_remove(hsk_table *t, tbl_node *n);
tbl_node *tbl_lookup(hsk_table *t, const hsk_tuple *key);
static inline size_t tbl_count(const hsk_table *t) { return t->count; }
/* Calls fn for every node; fn must not insert or remove. */
void tbl_foreach(const hsk_table *t, void (*fn)(void *ctx, tbl_node *n), void *ctx);
/* The table's hash of a tuple: SipHash-1-3 of laddr, raddr, lport, rport
 * as 12 little-endian bytes under the table's key, low 24 bits. */
uint32_t tbl_hash(const hsk_table *t, const hsk_tuple *key);
/* SipHash-2-4 of the tuple as those 12 bytes under (k0, k1): the PRF for
 * ISNs (RFC 6528) and port offsets (RFC 6056), not used by the table. */
uint64_t tuple_hash(const hsk_tuple *key, uint64_t k0, uint64_t k1);
static inline bool tuple_eq(const hsk_tuple *a, const hsk_tuple *b)
{
	return a->laddr == b->laddr && a->raddr == b->raddr &&
	       a->lport == b->lport && a->rport == b->rport;
}

#endif
