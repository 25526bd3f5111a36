/*
 * The 4-tuple table. Buckets are singly linked chains of tbl_node; the
 * bucket of a tuple is the low bits of its keyed SipHash. The table doubles
 * when count passes the bucket count (load > 1), rehashing every node into
 * the new array; when that allocation fails the old array stays and chains
 * grow longer, and the next insert tries again.
 */
#include "core/table.h"
#include "core/rand.h"

#include <stdlib.h>

enum { TBL_MIN_BUCKETS = 16 };

/* SipHash-2-4 of the tuple as 12 little-endian bytes: laddr, raddr, lport,
 * rport (equal to hsk_siphash() of those bytes; the test checks it),
 * specialised for the one full block and the 4-byte tail. */
#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

uint64_t tuple_hash(const hsk_tuple *key, uint64_t k0, uint64_t k1)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t m = (uint64_t)key->laddr | (uint64_t)key->raddr << 32;
	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	m = (uint64_t)12 << 56 | (uint64_t)key->rport << 16 | key->lport;
	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static size_t round_pow2(size_t n)
{
	size_t p = TBL_MIN_BUCKETS;
	while (p < n && p <= SIZE_MAX / 4)
		p <<= 1;
	return p;
}

int tbl_init(hsk_table *t, size_t initial_buckets, uint64_t k0, uint64_t k1)
{
	size_t n = round_pow2(initial_buckets);
	t->bucket = calloc(n, sizeof *t->bucket);
	t->mask = t->bucket ? n - 1 : 0;
	t->count = 0;
	t->k0 = k0;
	t->k1 = k1;
	return t->bucket ? 0 : -HSK_ENOMEM;
}

void tbl_destroy(hsk_table *t)
{
	free(t->bucket);
	t->bucket = NULL;
	t->mask = 0;
	t->count = 0;
}

static inline size_t tbl_index(const hsk_table *t, const hsk_tuple *key)
{
	return (size_t)tuple_hash(key, t->k0, t->k1) & t->mask;
}

/* Doubles the bucket array; on failure leaves the table as it was. */
static void tbl_grow(hsk_table *t)
{
	size_t old_n = t->mask + 1;
	if (old_n > SIZE_MAX / 2 / sizeof *t->bucket)
		return;
	size_t n = old_n * 2;
	tbl_node **nb = calloc(n, sizeof *nb);
	if (!nb)
		return;
	tbl_node **ob = t->bucket;
	t->bucket = nb;
	t->mask = n - 1;
	for (size_t i = 0; i < old_n; i++) {
		tbl_node *e = ob[i];
		while (e) {
			tbl_node *next = e->next;
			size_t j = tbl_index(t, &e->key);
			e->next = nb[j];
			nb[j] = e;
			e = next;
		}
	}
	free(ob);
}

void tbl_insert(hsk_table *t, tbl_node *n)
{
	if (t->count >= t->mask + 1)
		tbl_grow(t); /* the insert below would take the load past 1 */
	size_t i = tbl_index(t, &n->key);
	n->next = t->bucket[i];
	t->bucket[i] = n;
	t->count++;
}

void tbl_remove(hsk_table *t, tbl_node *n)
{
	tbl_node **pp = &t->bucket[tbl_index(t, &n->key)];
	for (; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			t->count--;
			return;
		}
	}
}

tbl_node *tbl_lookup(const hsk_table *t, const hsk_tuple *key)
{
	for (tbl_node *e = t->bucket[tbl_index(t, key)]; e; e = e->next)
		if (tuple_eq(&e->key, key))
			return e;
	return NULL;
}

void tbl_foreach(const hsk_table *t, void (*fn)(void *ctx, tbl_node *n), void *ctx)
{
	if (!t->bucket)
		return;
	for (size_t i = 0; i <= t->mask; i++) {
		for (tbl_node *e = t->bucket[i]; e;) {
			tbl_node *next = e->next;
			fn(ctx, e);
			e = next;
		}
	}
}
