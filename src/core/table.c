/*
 * The 4-tuple table (table.h): chains of tbl_node in a power-of-two bucket
 * array indexed by the low bits of a node's stored hash; while the table
 * grows, a second (older, half-size) array whose buckets below `moved`
 * have already gone to the new one.
 */
#include "core/table.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum { TBL_MIN_BUCKETS = 16 };

_Static_assert(sizeof(void *) != 8 || sizeof(tbl_node) == 24,
	       "the hash lives in the node's padding: no byte added");


uint64_t tuple_hash(const hsk_tuple *key, uint64_t k0, uint64_t k1)
{
	hsk_sip st = sip_init(k0, k1);
	return tuple_hash_from(&st, key);
}

/* The table's SipHash-1-3 of key from the key's state (table.h's
 * pieces), the kept state unused: tbl_hash's and tbl_hash6's, the
 * tests' reference. */
static inline __attribute__((always_inline)) uint32_t hash_fam(const hsk_table *t,
								 const hsk_tuple *key, uint64_t fam)
{
	hsk_sip st = tbl_hash_addrs(t, TUPLE_M0(key));
	sip_absorb(&st, TUPLE_M1(key) ^ fam, 1);
	return tbl_hash_end(st);
}

uint32_t tbl_hash(const hsk_table *t, const hsk_tuple *key)
{
	return hash_fam(t, key, 0);
}

/* An IPv6 key's last block says so in a byte that is 0 for IPv4 (the
 * ports take 4 bytes of 7, the length the eighth). */
#define FAM6 ((uint64_t)6 << 40)

uint32_t tbl_hash6(const hsk_table *t, const hsk_tuple *key)
{
	return hash_fam(t, key, FAM6);
}

/* hsk_siphash13(a, 16, fk0, fk1) from the state the key gives (fv): two
 * full blocks, then the empty tail with the length 16 on top. */
static __attribute__((noinline)) uint32_t fold_compute(const hsk_table *t, const uint8_t a[16])
{
	hsk_sip st = t->fv;
	sip_absorb(&st, sip_le64(a), 1);
	sip_absorb(&st, sip_le64(a + 8), 1);
	sip_absorb(&st, sip_last_word(16, 0), 1);
	return (uint32_t)sip_finish(st, 3);
}

static inline bool addr16_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* Entry i of the fold cache holds a. */
static inline __attribute__((always_inline)) bool fold_hit(const hsk_table *t, unsigned i,
							   const uint8_t a[16])
{
	return t->f_ok[i] && addr16_eq(t->f_addr[i], a);
}

/* tbl_fold6 when neither entry holds a: the fold goes to entry i, the one
 * used less recently (out of line: the hits then need no frame). */
static __attribute__((noinline)) uint32_t fold_miss(hsk_table *t, const uint8_t a[16],
						    unsigned i)
{
	uint32_t f = fold_compute(t, a);
	memcpy(t->f_addr[i], a, 16);
	t->f_fold[i] = f;
	t->f_ok[i] = true;
	t->f_last = (uint8_t)i;
	return f;
}

uint32_t tbl_fold6(hsk_table *t, const uint8_t a[16])
{
	/* The entry used less recently first: a segment's key folds its
	 * two addresses in turn, segment after segment, so that is the one
	 * asked for (a compare of 16 bytes saved on every other fold). Each
	 * way with constant indices. */
	unsigned i;     /* the entry a goes to when neither holds it */
	if (t->f_last) {
		if (fold_hit(t, 0, a)) {
			t->f_last = 0;
			return t->f_fold[0];
		}
		if (fold_hit(t, 1, a))
			return t->f_fold[1];
		i = 0;
	} else {
		if (fold_hit(t, 1, a)) {
			t->f_last = 1;
			return t->f_fold[1];
		}
		if (fold_hit(t, 0, a))
			return t->f_fold[0];
		i = 1;
	}
	return fold_miss(t, a, i);
}

/* SipHash-2-4 of the 36 bytes, written out: four full blocks (the two
 * addresses), then the ports with the length 36 on top. */
uint64_t tuple_hash6(const tbl_v6addrs *a, uint16_t lport, uint16_t rport,
		     uint64_t k0, uint64_t k1)
{
	hsk_sip v = sip_init(k0, k1);
	return tuple_hash6_from(&v, a, lport, rport);
}

uint64_t tuple_hash6_from(const hsk_sip *v, const tbl_v6addrs *a, uint16_t lport,
			  uint16_t rport)
{
	hsk_sip st = *v;
	const uint8_t *blk[4] = { a->l, a->l + 8, a->r, a->r + 8 };
	for (int i = 0; i < 4; i++)
		sip_absorb(&st, sip_le64(blk[i]), 2);
	sip_absorb(&st, sip_last_word(36, (uint64_t)rport << 16 | lport), 2);
	return sip_finish(st, 4);
}

void tbl_set_obj_size(hsk_table *t, unsigned kind, size_t size)
{
	if (kind < TBL_KINDS)
		t->obj_size[kind] = (uint16_t)size;
}

/* hsk_table.full after the arrays changed (t->old, t->mask). */
static void tbl_full_at(hsk_table *t)
{
	t->full = t->old ? 0 : TBL_MAX_LOAD * (t->mask + 1);
}

static size_t round_pow2(size_t n)
{
	size_t p = TBL_MIN_BUCKETS;
	while (p < n && p < ((size_t)1 << TBL_HASH_BITS))
		p <<= 1;
	return p;
}

int tbl_init(hsk_table *t, size_t initial_buckets, uint64_t k0, uint64_t k1)
{
	size_t n = round_pow2(initial_buckets);
	*t = (hsk_table){ 0 };
	t->bucket = calloc(n, sizeof *t->bucket);
	t->mask = t->bucket ? n - 1 : 0;
	tbl_full_at(t);
	t->v = sip_init(k0, k1);
	t->k_m0 = 0;    /* (the kept state always some addresses') */
	t->k_st = sip_pre(tbl_hash_addrs(t, 0));
	t->fk0 = k0 ^ 0x666f6c6436ULL;      /* "fold6" */
	t->fk1 = k1;
	t->fv = sip_init(t->fk0, t->fk1);
	return t->bucket ? 0 : -HSK_ENOMEM;
}

void tbl_destroy(hsk_table *t)
{
	free(t->bucket);
	free(t->old);
	*t = (hsk_table){ 0 };
}

/* The chain a hash belongs to: in the old array while its bucket there has
 * not moved yet. */
static inline tbl_node **slot(const hsk_table *t, uint32_t h)
{
	if (t->old) {
		size_t i = h & t->old_mask;
		if (i >= t->moved)
			return &t->old[i];
	}
	return &t->bucket[h & t->mask];
}

/* Moves up to `steps` buckets of the old array into the new one; frees
 * the old array once it is empty. Doubling splits old bucket i into new
 * buckets i and i + old size, by one more bit of each node's hash. */
static void migrate(hsk_table *t, size_t steps)
{
	size_t old_n = t->old_mask + 1;
	while (steps-- && t->moved < old_n) {
		tbl_node *e = t->old[t->moved];
		t->old[t->moved++] = NULL;
		while (e) {
			tbl_node *next = e->next;
			tbl_node **b = &t->bucket[e->hash & t->mask];
			e->next = *b;
			*b = e;
			e = next;
		}
		t->moves++;
	}
	if (t->moved == old_n) {
		free(t->old);
		t->old = NULL;
		t->old_mask = t->moved = 0;
		tbl_full_at(t);
	}
}

/* Starts a doubling: the current array becomes the old one (out of line:
 * rare, and its call to calloc would give its callers a stack frame). On an
 * allocation failure the table stays as it is (and tries again later). */
static __attribute__((noinline)) void grow(hsk_table *t)
{
	size_t n = t->mask + 1;
	if (n >= ((size_t)1 << TBL_HASH_BITS) || n > SIZE_MAX / 2 / sizeof *t->bucket)
		return;
	tbl_node **nb = calloc(2 * n, sizeof *nb);
	if (!nb)
		return;
	t->old = t->bucket;
	t->old_mask = t->mask;
	t->moved = 0;
	t->bucket = nb;
	t->mask = 2 * n - 1;
	tbl_full_at(t);
}

/* hash_of for a key the cache does not hold (its caller checked). */
static inline __attribute__((always_inline)) uint32_t hash_new(hsk_table *t,
								 const hsk_tuple *key, bool v6)
{
	uint32_t h = tbl_hash_kept(t, key, v6 ? FAM6 : 0);
	t->c_key = *key;
	t->c_hash = h;
	t->c_v6 = v6;
	t->c_node = NULL;     /* not known yet */
	t->c_valid = false;   /* set by the caller once c_node is right */
	return h;
}

/* The hash of key (an IPv6 one when v6), from the cache when it is the
 * last tuple seen. */
static inline __attribute__((always_inline)) uint32_t hash_of(hsk_table *t, const hsk_tuple *key,
								bool v6)
{
	if (t->c_valid && t->c_v6 == v6 && tuple_eq(&t->c_key, key))
		return t->c_hash;
	return hash_new(t, key, v6);
}

/* tbl_insert after its growth step, with n's hash. */
static inline __attribute__((always_inline)) void insert_node(hsk_table *t, tbl_node *n,
							       uint32_t h)
{
	n->hash = h;
	tbl_node **b = slot(t, h);
	n->next = *b;
	*b = n;
	t->count++;
	/* The cache now knows this tuple's node. */
	t->c_node = n;
	t->c_valid = true;
}

void tbl_insert_steps(hsk_table *t, tbl_node *n)
{
	if (t->old)
		migrate(t, TBL_MIGRATE_STEP);
	else if (t->count >= TBL_MAX_LOAD * (t->mask + 1))
		grow(t);
	insert_node(t, n, hash_of(t, &n->key, n->v6));
}

/* n out of its chain (after the migration step, if any). */
static inline __attribute__((always_inline)) void unlink_node(hsk_table *t, tbl_node *n)
{
	for (tbl_node **pp = slot(t, n->hash); *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			t->count--;
			break;
		}
	}
}

/* tbl_remove after its migration step, if any. */
static inline __attribute__((always_inline)) void remove_node(hsk_table *t, tbl_node *n)
{
	unlink_node(t, n);
	tbl_forget(t, n);
}

void tbl_remove_steps(hsk_table *t, tbl_node *n)
{
	migrate(t, TBL_MIGRATE_STEP);
	remove_node(t, n);
}

/* tbl_replace while the table grows or is due to: tbl_remove's steps,
 * then tbl_insert's with the hash the cache would have given. */
void tbl_replace_steps(hsk_table *t, tbl_node *old, tbl_node *n)
{
	if (t->old)
		migrate(t, TBL_MIGRATE_STEP);
	for (tbl_node **pp = slot(t, old->hash); *pp; pp = &(*pp)->next) {
		if (*pp == old) {
			*pp = old->next;
			old->next = NULL;
			t->count--;
			break;
		}
	}
	if (t->old)
		migrate(t, TBL_MIGRATE_STEP);
	else if (t->count >= TBL_MAX_LOAD * (t->mask + 1))
		grow(t);
	n->hash = old->hash;
	tbl_node **b = slot(t, n->hash);
	n->next = *b;
	*b = n;
	t->count++;
	tbl_cache_node(t, old, n);
}

/* tbl_lookup_miss after its migration step, if any. */
static inline __attribute__((always_inline)) tbl_node *lookup4(hsk_table *t,
								const hsk_tuple *key)
{
	/* hashed anew: the cache's key was checked by tbl_lookup, or is
	 * unlikely (pick_port); migrate leaves the cache */
	uint32_t h = tbl_hash_kept(t, key, 0);
	return tbl_walk4(t, key, h, *slot(t, h));
}

/* tbl_lookup_miss while the table grows (out of line: the usual miss then
 * needs no stack frame, as tbl_remove). */
static __attribute__((noinline)) tbl_node *lookup_migrating(hsk_table *t, const hsk_tuple *key)
{
	migrate(t, 1);
	return lookup4(t, key);
}

tbl_node *tbl_lookup_miss(hsk_table *t, const hsk_tuple *key)
{
	if (t->old)
		return lookup_migrating(t, key);
	return lookup4(t, key);
}

/* tbl_lookup6 past its cache, after the migration step if any. */
static inline __attribute__((always_inline)) tbl_node *lookup6(hsk_table *t,
								const hsk_tuple *key,
								const tbl_v6addrs *a)
{
	uint32_t h = hash_of(t, key, true);
	tbl_node *e = *slot(t, h);
	while (e && !(e->hash == h && e->v6 && tuple_eq(&e->key, key) && tbl_v6_eq(t, e, a)))
		e = e->next;
	t->c_node = e;
	t->c_valid = true;
	return e;
}

/* tbl_lookup6 while the table grows (out of line, as lookup_migrating). */
static __attribute__((noinline)) tbl_node *lookup6_migrating(hsk_table *t, const hsk_tuple *key,
							     const tbl_v6addrs *a)
{
	migrate(t, 1);
	return lookup6(t, key, a);
}

tbl_node *tbl_lookup6(hsk_table *t, const hsk_tuple *key, const tbl_v6addrs *a)
{
	/* Folds may collide: only a remembered node is trusted, after its
	 * addresses are compared. */
	if (t->c_valid && t->c_v6 && t->c_node && tuple_eq(&t->c_key, key) &&
	    tbl_v6_eq(t, t->c_node, a))
		return t->c_node;
	if (t->old)
		return lookup6_migrating(t, key, a);
	return lookup6(t, key, a);
}

static void foreach_array(tbl_node **a, size_t from, size_t n,
			  void (*fn)(void *ctx, tbl_node *n), void *ctx)
{
	for (size_t i = from; i < n; i++) {
		for (tbl_node *e = a[i]; e;) {
			tbl_node *next = e->next;
			fn(ctx, e);
			e = next;
		}
	}
}

void tbl_foreach(hsk_table *t, void (*fn)(void *ctx, tbl_node *n), void *ctx)
{
	if (!t->bucket)
		return;
	t->walks++;
	if (t->old)
		foreach_array(t->old, t->moved, t->old_mask + 1, fn, ctx);
	foreach_array(t->bucket, 0, t->mask + 1, fn, ctx);
}
