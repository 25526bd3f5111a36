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
 * - The hash's state after the addresses (the first of the key's two
 *   words) is kept with them: the next tuple between the same two hosts
 *   (a client's to its server, a server's from its client) starts there.
 * - A one-entry cache remembers the last tuple hashed or found (its hash
 *   and node, or that it is absent): the segments of one connection in a
 *   row, and the insert that follows a lookup or a remove of the same
 *   tuple (a request becoming a TCB, a TCB becoming a TIME_WAIT entry),
 *   hash nothing.
 *
 * The bucket array stays a power of two of at most 2^24 (the hash bits
 * kept): 16 M buckets, 128 MiB, for up to 32 M nodes at load 2; past that
 * chains grow longer.
 *
 * Both families share the table (SPEED-V6 decision 3): a node keeps the 12
 * bytes of an IPv4 key whatever its family, so an IPv4 object pays nothing
 * for IPv6. An IPv6 object (node.v6) keeps its two 128-bit addresses right
 * after itself (its pool's slot is sizeof(obj) + sizeof(tbl_v6addrs); the
 * table learns sizeof(obj) per kind from tbl_set_obj_size), and its key's
 * laddr and raddr hold keyed 32-bit folds of them (tbl_fold6), so buckets
 * spread. The hash of an IPv6 key is the same SipHash of the folds with
 * the family in its last block; equality compares the family, the folds
 * and ports, then the full addresses.
 */
#ifndef HSK_TABLE_H
#define HSK_TABLE_H

#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "core/siphash.h"
#include "handshake.h"

enum {
	TBL_MAX_LOAD = 2,             /* nodes per bucket before doubling */
	TBL_MIGRATE_STEP = 8,         /* old buckets moved per operation at most */
	TBL_HASH_BITS = 24,
};

typedef struct tbl_node {
	struct tbl_node *next;
	hsk_tuple key;       /* laddr, raddr, lport, rport: this stack's view
			      * (IPv6: laddr, raddr are the addresses' folds) */
	uint32_t kind : 7;   /* enum hsk_obj_kind of the embedding object */
	uint32_t v6 : 1;     /* an IPv6 object: its addresses follow it */
	uint32_t hash : 24;  /* its tbl_hash (set by tbl_insert) */
} tbl_node;

/* The addresses of an IPv6 object, right after it: ours, the peer's. */
typedef struct tbl_v6addrs {
	uint8_t l[16], r[16];
} tbl_v6addrs;

enum { TBL_KINDS = 8 };      /* kinds whose object sizes the table keeps */

typedef struct hsk_table {
	tbl_node **bucket;
	size_t mask;         /* buckets - 1, a power of two minus one */
	size_t count;
	/* incremental growth: buckets of `old` below `moved` are empty */
	tbl_node **old;
	size_t old_mask;
	size_t moved;
	/* the count at which an insert takes its steps (tbl_full_at): the
	 * load's TBL_MAX_LOAD * buckets, 0 while the table grows, so that
	 * one compare says both */
	size_t full;
	uint64_t moves;      /* buckets migrated, ever (tests bound it per op) */
	uint64_t walks;      /* tbl_foreach calls, ever (tests: none per op) */
	/* the last tuple hashed: its hash, and its node (NULL: absent; for
	 * IPv6 absence is not remembered, folds may collide) */
	hsk_tuple c_key;
	uint32_t c_hash;
	union {
		struct {
			bool c_valid;
			bool c_v6;   /* c_key is an IPv6 key */
		};
		uint16_t c_kind;     /* both at once (tbl_lookup: TBL_C_V4) */
	};
	tbl_node *c_node;
	hsk_sip v;           /* SipHash state after the key, precomputed */
	/* the state after the key and the first word of the last key hashed
	 * (its addresses, or their folds: a stack's tuples share them again
	 * and again); tbl_init's is the zero addresses' */
	uint64_t k_m0;
	hsk_sip_pre k_st;    /* (sip_pre's: the next word's round begun) */
	uint64_t fk0, fk1;   /* the key of tbl_fold6 */
	hsk_sip fv;          /* SipHash state after that key */
	/* the last two addresses folded and their folds (f_ok: the entry
	 * holds one; f_last: the one used last, the other goes first): a
	 * segment's two addresses, ours and the peer's, fold once */
	uint8_t f_addr[2][16];
	uint32_t f_fold[2];
	bool f_ok[2];
	uint8_t f_last;
	uint16_t obj_size[TBL_KINDS]; /* where an IPv6 object's addresses are */
} hsk_table;

/* 0 or -HSK_ENOMEM (then the table must not be used). initial_buckets is
 * rounded up to a power of two, at least 16. */
int tbl_init(hsk_table *t, size_t initial_buckets, uint64_t k0, uint64_t k1);
void tbl_destroy(hsk_table *t);   /* frees the buckets, not the nodes */
/* The lookup past the one-entry cache (table.c): right for any key (the
 * table decides, and the cache is left holding key), so a caller whose
 * key the cache is unlikely to hold (a port being chosen) may skip
 * tbl_lookup's test and call it directly. */
tbl_node *tbl_lookup_miss(hsk_table *t, const hsk_tuple *key);
static inline size_t tbl_count(const hsk_table *t) { return t->count; }
/* a and b are the same tuple */
static inline bool tuple_eq(const hsk_tuple *a, const hsk_tuple *b)
{
	/* 12 bytes without padding: two loads and compares a side */
	_Static_assert(sizeof(hsk_tuple) == 12, "hsk_tuple has no padding");
	uint64_t a0, b0;
	uint32_t a1, b1;
	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, (const char *)a + 8, 4);
	memcpy(&b1, (const char *)b + 8, 4);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}
/* n out of its chain when the table does not grow (one array; n is in
 * the table: its chain holds it). */
static inline void tbl_unlink1(hsk_table *t, tbl_node *n)
{
	tbl_node **pp = &t->bucket[n->hash & t->mask];
	while (*pp != n)
		pp = &(*pp)->next;
	*pp = n->next;
	n->next = NULL;
	t->count--;
}
/* The cache after node `was` (in it or not) gives way to `now` (NULL:
 * none, the tuple absent), both of k's key, hash and family: a cache
 * that held `was` knew them already (every store of c_node but NULL's
 * follows them: asserted), another learns them. */
static inline void tbl_cache_after(hsk_table *t, const tbl_node *was, const tbl_node *k,
				   tbl_node *now)
{
	assert(t->c_node != was || (t->c_valid && t->c_v6 == k->v6 && t->c_hash == k->hash &&
				    tuple_eq(&t->c_key, &k->key)));
	if (t->c_node != was) {
		t->c_key = k->key;
		t->c_hash = k->hash;
		t->c_v6 = k->v6;
		t->c_valid = true;
	}
	t->c_node = now;
}
/* The cache after n's removal: the tuple is absent now. That is
 * remembered, with its hash, for the insert of its successor (a
 * TIME_WAIT entry, a TCB). When the cache holds n (the segment that ends
 * it was looked up) it has its key, hash and family already. */
static inline void tbl_forget(hsk_table *t, const tbl_node *n)
{
	tbl_cache_after(t, n, n, NULL);
}
/* tbl_remove while the table grows (table.c: its migration step). */
void tbl_remove_steps(hsk_table *t, tbl_node *n);
/* n must be in the table. In line: the usual way (no growth under way)
 * without a call. */
static inline void tbl_remove(hsk_table *t, tbl_node *n)
{
	if (t->old) {
		tbl_remove_steps(t, n);
		return;
	}
	tbl_unlink1(t, n);
	tbl_forget(t, n);
}
/* tbl_remove for a tuple whose node none replaces (no insert of it
 * follows: a TIME_WAIT entry reaped): the cache keeps the tuple it
 * knows, and forgets n only when it holds it (the tuple is absent now,
 * which it then says), rather than learn n's key and hash for nothing.
 * In line, so that its caller's usual way needs no call (nor frame);
 * while the table grows, tbl_remove's way (its migration step). */
static inline void tbl_remove_end(hsk_table *t, tbl_node *n)
{
	if (t->old) {
		tbl_remove_steps(t, n);
		return;
	}
	tbl_unlink1(t, n);
	if (t->c_node == n)
		t->c_node = NULL;
}
/* Calls fn for every node; fn must not insert or remove. O(n): nothing on
 * a per-segment or per-connection path may call it (walks counts them). */
void tbl_foreach(hsk_table *t, void (*fn)(void *ctx, tbl_node *n), void *ctx);
/* The table's hash of a tuple: SipHash-1-3 of laddr, raddr, lport, rport
 * as 12 little-endian bytes under the table's key, low 24 bits. */
uint32_t tbl_hash(const hsk_table *t, const hsk_tuple *key);
/* The tuple as the 12 little-endian bytes laddr, raddr, lport, rport: one
 * full SipHash block and the 4-byte tail with the length on top (equal to
 * hsk_siphash / hsk_siphash13 of those bytes; the tests check it). */
#define TUPLE_M0(k) ((uint64_t)(k)->laddr | (uint64_t)(k)->raddr << 32)
#define TUPLE_M1(k) sip_last_word(12, (uint64_t)(k)->rport << 16 | (k)->lport)
/* SipHash-2-4 of the tuple as those 12 bytes under (k0, k1): the PRF for
 * ISNs (RFC 6528) and port offsets (RFC 6056), not used by the table. */
uint64_t tuple_hash(const hsk_tuple *key, uint64_t k0, uint64_t k1);
/* The same from the state sip_init(k0, k1) gives (kept by a caller that
 * hashes under one key again and again: tcp_isn). */
SIP_INLINE uint64_t tuple_hash_from(const hsk_sip *v, const hsk_tuple *key)
{
	hsk_sip st = *v;
	sip_absorb(&st, TUPLE_M0(key), 2);
	sip_absorb(&st, TUPLE_M1(key), 2);
	return sip_finish(st, 4);
}

/* c_kind when c_valid is true and c_v6 false (a bool is one byte, 0 or
 * 1; c_valid the first): one compare for the cache's two flags. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
enum { TBL_C_V4 = 0x0100 };
#else
enum { TBL_C_V4 = 0x0001 };
#endif

/* The IPv4 node with key `key`, or NULL. The cache's answer is taken
 * here, inline: a connection's segments in a row pay no call. */
static inline tbl_node *tbl_lookup(hsk_table *t, const hsk_tuple *key)
{
	_Static_assert(sizeof(bool) == 1 && offsetof(hsk_table, c_v6) ==
		       offsetof(hsk_table, c_valid) + 1, "c_kind is c_valid, c_v6");
	if (t->c_kind == TBL_C_V4 && tuple_eq(&t->c_key, key))
		return t->c_node;
	return tbl_lookup_miss(t, key);
}

/* The table's SipHash-1-3: one round per block, three to finish, from
 * the state the key gives (kept in the table). The state after the key
 * and m0, a key's first word (the addresses): */
static inline __attribute__((always_inline)) hsk_sip tbl_hash_addrs(const hsk_table *t,
								     uint64_t m0)
{
	hsk_sip st = t->v;
	sip_absorb(&st, m0, 1);
	return st;
}

/* and the hash from there, after the last word (the ports, the family):
 * low TBL_HASH_BITS. */
static inline __attribute__((always_inline)) uint32_t tbl_hash_end(hsk_sip st)
{
	return (uint32_t)sip_finish(st, 3) & ((UINT32_C(1) << TBL_HASH_BITS) - 1);
}

/* The hash of key (fam: its family's bits in the last word) from the
 * state kept after the last key's first word when this key's is the same
 * (the same addresses: one compare instead of a round), else from the
 * key's state, keeping the new one. */
static inline __attribute__((always_inline)) uint32_t tbl_hash_kept(hsk_table *t,
								      const hsk_tuple *key,
								      uint64_t fam)
{
	uint64_t m0 = TUPLE_M0(key);
	if (m0 != t->k_m0) {
		t->k_m0 = m0;
		t->k_st = sip_pre(tbl_hash_addrs(t, m0));
	}
	return tbl_hash_end(sip_absorb_pre_c(&t->k_st, TUPLE_M1(key) ^ fam, 1));
}

/* The IPv4 node with key (hashed anew: h) on the chain from e, or NULL;
 * the cache left holding key, written once (c_node last: no NULL stored
 * first). */
static inline __attribute__((always_inline)) tbl_node *tbl_walk4(hsk_table *t,
								  const hsk_tuple *key,
								  uint32_t h, tbl_node *e)
{
	t->c_key = *key;
	t->c_hash = h;
	t->c_kind = TBL_C_V4;
	while (e && !(e->hash == h && !e->v6 && tuple_eq(&e->key, key)))
		e = e->next;
	t->c_node = e;
	return e;
}

/* tbl_lookup_miss with its usual way (no growth under way) in line: for
 * a key the cache cannot hold (connect's port candidates), the hash and
 * the walk without a call. */
static inline __attribute__((always_inline)) tbl_node *tbl_lookup_new(hsk_table *t,
								       const hsk_tuple *key)
{
	if (t->old)
		return tbl_lookup_miss(t, key);
	uint32_t h = tbl_hash_kept(t, key, 0);
	return tbl_walk4(t, key, h, t->bucket[h & t->mask]);
}

/* tbl_insert's rarer ways (table.c): a growth step, or a tuple the cache
 * does not hold. */
void tbl_insert_steps(hsk_table *t, tbl_node *n);
/* tbl_insert's usual way once its tests passed: the cache holds n's
 * tuple (valid: it stays so), no growth due. */
static inline void tbl_insert_head(hsk_table *t, tbl_node *n)
{
	assert(t->c_valid && t->c_v6 == n->v6 && tuple_eq(&t->c_key, &n->key) &&
	       t->count < t->full);
	n->hash = t->c_hash;
	tbl_node **b = &t->bucket[t->c_hash & t->mask];
	n->next = *b;
	*b = n;
	t->count++;
	t->c_node = n;        /* the cache now knows the tuple's node */
}

/* n->key must be set; the caller guarantees it is not present yet. The
 * usual way (no growth under way nor due, the tuple the cache's: the
 * lookup that proved it absent, the remove of its predecessor) in line,
 * without a call: the hash the cache's, the node on its chain's head. */
static inline void tbl_insert(hsk_table *t, tbl_node *n)
{
	assert(t->full == (t->old ? 0 : TBL_MAX_LOAD * (t->mask + 1)));
	if (t->count >= t->full ||
	    !(t->c_valid && t->c_v6 == n->v6 && tuple_eq(&t->c_key, &n->key))) {
		tbl_insert_steps(t, n);
		return;
	}
	tbl_insert_head(t, n);
}

/* tbl_insert for a caller that knows the cache holds n's tuple (its
 * lookup found it absent, and nothing looked up, inserted or removed
 * since but that tuple's own node: listen.c's request at a SYN): the
 * growth's test alone. */
static inline void tbl_insert_cached(hsk_table *t, tbl_node *n)
{
	assert(t->full == (t->old ? 0 : TBL_MAX_LOAD * (t->mask + 1)));
	assert(t->c_valid && t->c_v6 == n->v6 && tuple_eq(&t->c_key, &n->key));
	if (t->count >= t->full) {
		tbl_insert_steps(t, n);
		return;
	}
	tbl_insert_head(t, n);
}

/* n takes the place in the cache that tbl_insert would give it; old had
 * the same key, hash and family. A cache that holds a node is valid and
 * has that node's key, hash and family (every store of c_node but
 * tbl_forget's NULL follows them): when it holds old, only the node
 * changes. */
static inline void tbl_cache_node(hsk_table *t, const tbl_node *old, tbl_node *n)
{
	tbl_cache_after(t, old, n, n);
}

/* tbl_replace while the table grows or is due to (table.c). */
void tbl_replace_steps(hsk_table *t, tbl_node *old, tbl_node *n);
/* tbl_remove(t, old) then tbl_insert(t, n), for an n with old's key and
 * family (a TIME_WAIT entry for its TCB, a TCB for its request), old in
 * the table: the same table after, chains, growth and cache alike,
 * without hashing or looking at the cache. In line, its usual way (no
 * growth under way, old's removal leaving the count below the load, so
 * that the insert does not grow: the one array, old's chain is n's, the
 * count the same) without a call. */
static inline void tbl_replace(hsk_table *t, tbl_node *old, tbl_node *n)
{
	/* (growing: full is 0, and the count at least old's 1) */
	assert(t->full == (t->old ? 0 : TBL_MAX_LOAD * (t->mask + 1)) && t->count > 0);
	if (t->count > t->full) {
		tbl_replace_steps(t, old, n);
		return;
	}
	tbl_node **b = &t->bucket[old->hash & t->mask];
	n->hash = old->hash;
	if (*b == old) {
		/* old heads its chain (the usual: the newest there): n,
		 * pushed there after old's unlinking, takes its place */
		n->next = old->next;
		old->next = NULL;
	} else {
		tbl_unlink1(t, old);
		t->count++;             /* (n's) */
		n->next = *b;
	}
	*b = n;
	tbl_cache_node(t, old, n);
}

/* ---- IPv6 objects ---- */
/* Objects of `kind` are `size` bytes; an IPv6 one's addresses follow. */
void tbl_set_obj_size(hsk_table *t, unsigned kind, size_t size);
static inline tbl_v6addrs *tbl_v6(const hsk_table *t, const tbl_node *n)
{
	return (tbl_v6addrs *)(void *)((char *)(uintptr_t)n + t->obj_size[n->kind]);
}
/* A keyed 32-bit fold of an IPv6 address (SipHash-1-3 under a key of
 * the table's own): what an IPv6 key holds in laddr and raddr. The last
 * two are remembered (the table's f_ cache). */
uint32_t tbl_fold6(hsk_table *t, const uint8_t a[16]);
/* The key of the IPv6 tuple (a, lport, rport). */
static inline hsk_tuple tbl_key6(hsk_table *t, const tbl_v6addrs *a,
				 uint16_t lport, uint16_t rport)
{
	hsk_tuple k = { tbl_fold6(t, a->l), tbl_fold6(t, a->r), lport, rport };
	return k;
}
/* The table's hash of an IPv6 key (the folds, ports and the family). */
uint32_t tbl_hash6(const hsk_table *t, const hsk_tuple *key);
/* Node n (an IPv6 one) has the addresses a. */
static inline bool tbl_v6_eq(const hsk_table *t, const tbl_node *n, const tbl_v6addrs *a)
{
	const char *p = (const char *)tbl_v6(t, n), *q = (const char *)a;
	uint64_t d = 0;
	for (int i = 0; i < 32; i += 8) {
		uint64_t x, y;
		memcpy(&x, p + i, 8);
		memcpy(&y, q + i, 8);
		d |= x ^ y;
	}
	return d == 0;
}
/* The IPv6 node with key `key` (from tbl_key6) and addresses a, or NULL.
 * tbl_lookup finds IPv4 nodes only, tbl_lookup6 IPv6 ones only. */
tbl_node *tbl_lookup6(hsk_table *t, const hsk_tuple *key, const tbl_v6addrs *a);
/* key is tbl_key6(t, a, lport, rport) (for asserts: it folds anew). */
static inline bool tbl_key6_is(hsk_table *t, const hsk_tuple *key, const tbl_v6addrs *a,
			       uint16_t lport, uint16_t rport)
{
	hsk_tuple k = tbl_key6(t, a, lport, rport);
	return tuple_eq(key, &k);
}
/* c_kind when c_valid and c_v6 are both true (tbl_cached6). */
enum { TBL_C_V6 = 0x0101 };
/* The IPv6 node the one-entry cache holds when it is the one with
 * addresses a and ports (lport, rport), else NULL: tbl_lookup6's answer
 * for tbl_key6(t, a, lport, rport), its key n->key, without the two
 * folds. A cache that holds a node is valid and of the node's family and
 * key (tbl_cache_node); no two nodes have the same addresses and
 * ports, so the node found is the one tbl_lookup6 would find. */
static inline tbl_node *tbl_cached6(const hsk_table *t, const tbl_v6addrs *a, uint16_t lport,
				    uint16_t rport)
{
	tbl_node *n = t->c_node;
	if (t->c_kind != TBL_C_V6 || !n || n->key.lport != lport || n->key.rport != rport ||
	    !tbl_v6_eq(t, n, a))
		return NULL;
	assert(n->v6);
	return n;
}
/* SipHash-2-4 of the 36 bytes l, r, lport, rport (ports little-endian)
 * under (k0, k1): tuple_hash's PRF for an IPv6 tuple. */
uint64_t tuple_hash6(const tbl_v6addrs *a, uint16_t lport, uint16_t rport,
		     uint64_t k0, uint64_t k1);
/* The same from the state sip_init(k0, k1) gives. */
uint64_t tuple_hash6_from(const hsk_sip *v, const tbl_v6addrs *a, uint16_t lport,
			  uint16_t rport);

#endif
