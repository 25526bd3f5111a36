/*
 * The 4-tuple table with IPv6 objects (table.h, SPEED-V6 decision 3): the
 * node stays 24 bytes; an IPv6 object keeps its addresses after itself
 * and folds in its key; lookups of either family find only their own;
 * keys whose folds collide are told apart by the full addresses (the
 * last-lookup cache included); many IPv6 tuples through incremental
 * growth; the hashes and folds are keyed and as documented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"
#include "core/table.h"

/* An object as the engine's: the node first, then its fields; an IPv6
 * one has the addresses after it. */
typedef struct obj {
	tbl_node node;
	int id;
} obj;

enum { KIND = 2 };

static obj *new4(hsk_tuple k, int id)
{
	obj *o = calloc(1, sizeof(obj));

	assert_non_null(o);
	o->node.key = k;
	o->node.kind = KIND;
	o->id = id;
	return o;
}

static obj *new6(hsk_table *t, const tbl_v6addrs *a, uint16_t lp, uint16_t rp, int id)
{
	obj *o = calloc(1, sizeof(obj) + sizeof(tbl_v6addrs));

	assert_non_null(o);
	o->node.kind = KIND;
	o->node.v6 = 1;
	o->node.key = tbl_key6(t, a, lp, rp);
	memcpy(tbl_v6(t, &o->node), a, sizeof(*a));
	o->id = id;
	return o;
}

static tbl_v6addrs addrs(uint32_t l, uint32_t r)
{
	tbl_v6addrs a = { { 0x20, 0x01, 0x00, 0x02 }, { 0x20, 0x01, 0x00, 0x02 } };

	memcpy(a.l + 12, &l, 4);
	memcpy(a.r + 12, &r, 4);
	return a;
}

static hsk_table *table(uint64_t k0)
{
	hsk_table *t = malloc(sizeof(*t));

	assert_non_null(t);
	assert_int_equal(tbl_init(t, 16, k0, 77), 0);
	tbl_set_obj_size(t, KIND, sizeof(obj));
	return t;
}

static void done(hsk_table *t)
{
	tbl_destroy(t);
	free(t);
}

static void test_node_size(void **state)
{
	(void)state;
	assert_int_equal(sizeof(tbl_node), sizeof(void *) == 8 ? 24 : sizeof(tbl_node));
	assert_int_equal(sizeof(hsk_tuple), 12);
	assert_int_equal(sizeof(tbl_v6addrs), 32);
	tbl_node n = { .kind = 127, .v6 = 1, .hash = 0xffffff };
	assert_int_equal(n.kind, 127);
	assert_int_equal(n.v6, 1);
	assert_int_equal(n.hash, 0xffffff);
}

/* The same 12-byte key in both families: two objects, each lookup finds
 * its own family's, whatever the cache held last. */
static void test_families_apart(void **state)
{
	hsk_table *t = table(1);
	tbl_v6addrs a = addrs(1, 2);
	obj *o6 = new6(t, &a, 80, 5000, 6);
	obj *o4 = new4(o6->node.key, 4);

	(void)state;
	assert_null(tbl_lookup(t, &o6->node.key));
	assert_null(tbl_lookup6(t, &o6->node.key, &a));
	tbl_insert(t, &o6->node);
	assert_null(tbl_lookup(t, &o6->node.key));     /* the cache knew only o6 */
	assert_ptr_equal(tbl_lookup6(t, &o6->node.key, &a), &o6->node);
	assert_null(tbl_lookup(t, &o4->node.key));
	tbl_insert(t, &o4->node);
	for (int i = 0; i < 3; i++) {
		assert_ptr_equal(tbl_lookup(t, &o4->node.key), &o4->node);
		assert_ptr_equal(tbl_lookup6(t, &o6->node.key, &a), &o6->node);
	}
	assert_int_equal(tbl_count(t), 2);
	tbl_remove(t, &o4->node);
	assert_ptr_equal(tbl_lookup6(t, &o6->node.key, &a), &o6->node);
	assert_null(tbl_lookup(t, &o4->node.key));
	tbl_insert(t, &o4->node);
	tbl_remove(t, &o6->node);
	assert_null(tbl_lookup6(t, &o6->node.key, &a));
	assert_ptr_equal(tbl_lookup(t, &o4->node.key), &o4->node);
	tbl_remove(t, &o4->node);
	assert_int_equal(tbl_count(t), 0);
	free(o4);
	free(o6);
	done(t);
}

/* Folds are 32 bits: two IPv6 tuples may share a key. Forced here (the
 * second object's key set to the first's): the addresses decide, in the
 * chain walk and in the cache. */
static void test_fold_collision(void **state)
{
	hsk_table *t = table(2);
	tbl_v6addrs a = addrs(1, 2), b = addrs(1, 3), c = addrs(9, 9);
	obj *x = new6(t, &a, 80, 5000, 1), *y = new6(t, &b, 80, 5000, 2);

	(void)state;
	y->node.key = x->node.key;
	tbl_insert(t, &x->node);
	/* the cache holds x: a lookup of y's addresses must not take it */
	assert_null(tbl_lookup6(t, &x->node.key, &b));
	tbl_insert(t, &y->node);
	assert_int_equal(x->node.hash, y->node.hash);
	for (int i = 0; i < 2; i++) {
		assert_ptr_equal(tbl_lookup6(t, &x->node.key, &a), &x->node);
		assert_ptr_equal(tbl_lookup6(t, &x->node.key, &b), &y->node);
		assert_null(tbl_lookup6(t, &x->node.key, &c));
	}
	tbl_remove(t, &y->node);
	assert_null(tbl_lookup6(t, &x->node.key, &b));
	assert_ptr_equal(tbl_lookup6(t, &x->node.key, &a), &x->node);
	/* a removed x leaves the cache "absent"; y comes back and is found */
	tbl_remove(t, &x->node);
	tbl_insert(t, &y->node);
	assert_ptr_equal(tbl_lookup6(t, &x->node.key, &b), &y->node);
	assert_null(tbl_lookup6(t, &x->node.key, &a));
	tbl_remove(t, &y->node);
	free(x);
	free(y);
	done(t);
}

/* 20,000 IPv6 and 20,000 IPv4 objects through many doublings, removed
 * again in another order, checked against what was inserted. */
static void test_many(void **state)
{
	enum { N = 20000 };
	hsk_table *t = table(3);
	obj **six = calloc(N, sizeof(*six)), **four = calloc(N, sizeof(*four));
	tbl_v6addrs *a = calloc(N, sizeof(*a));
	hsk_rng g;

	(void)state;
	assert_non_null(six);
	assert_non_null(four);
	assert_non_null(a);
	rng_seed(&g, 11);
	for (int i = 0; i < N; i++) {
		uint64_t x = rng_next(&g);
		a[i] = addrs((uint32_t)i, (uint32_t)x);
		six[i] = new6(t, &a[i], (uint16_t)(x >> 32), (uint16_t)(x >> 48), i);
		four[i] = new4(six[i]->node.key, i);
		tbl_insert(t, &six[i]->node);
		tbl_insert(t, &four[i]->node);
	}
	assert_int_equal(tbl_count(t), 2 * N);
	for (int i = 0; i < N; i++) {
		tbl_node *n = tbl_lookup6(t, &six[i]->node.key, &a[i]);
		assert_ptr_equal(n, &six[i]->node);
		assert_ptr_equal(tbl_lookup(t, &four[i]->node.key), &four[i]->node);
		/* another peer on the same ports: nobody */
		tbl_v6addrs o = a[i];
		o.r[0] ^= 0x80;
		hsk_tuple k = tbl_key6(t, &o, six[i]->node.key.lport, six[i]->node.key.rport);
		assert_null(tbl_lookup6(t, &k, &o));
	}
	for (int i = N - 1; i >= 0; i -= 2)
		tbl_remove(t, &six[i]->node);
	for (int i = 0; i < N; i++) {
		tbl_node *n = tbl_lookup6(t, &six[i]->node.key, &a[i]);
		assert_ptr_equal(n, i % 2 ? NULL : &six[i]->node);
		assert_ptr_equal(tbl_lookup(t, &four[i]->node.key), &four[i]->node);
	}
	for (int i = 0; i < N; i++) {
		if (!(i % 2))
			tbl_remove(t, &six[i]->node);
		tbl_remove(t, &four[i]->node);
		free(six[i]);
		free(four[i]);
	}
	assert_int_equal(tbl_count(t), 0);
	free(six);
	free(four);
	free(a);
	done(t);
}

/* An IPv6 lookup past the cache moves one bucket while the table grows
 * (lookup6_migrating), found or not, and none when nothing migrates. */
static void test_lookup6_migrates(void **state)
{
	(void)state;
	hsk_table *t = table(0x6161);
	obj *o[40];
	int n = 0;
	while (!t->old) {
		tbl_v6addrs a = addrs((uint32_t)n, 5);
		o[n] = new6(t, &a, 443, 2000, n);
		tbl_insert(t, &o[n]->node);
		n++;
	}
	for (int j = 0; t->old; j++) {
		uint64_t m0 = t->moves;
		tbl_v6addrs b = addrs(0xdead0000u + (uint32_t)j, 5);
		hsk_tuple kb = tbl_key6(t, &b, 443, 2000);
		assert_null(tbl_lookup6(t, &kb, &b));
		assert_true(t->moves == m0 + 1 || !t->old);
		if (!t->old)
			break;
		m0 = t->moves;
		tbl_v6addrs a = addrs((uint32_t)(j % n), 5);
		hsk_tuple ka = tbl_key6(t, &a, 443, 2000);
		assert_ptr_equal(tbl_lookup6(t, &ka, &a), &o[j % n]->node);
		assert_true(t->moves == m0 + 1 || !t->old);
	}
	assert_null(t->old);
	uint64_t m0 = t->moves;
	tbl_v6addrs b = addrs(0xbeef, 5);
	hsk_tuple kb = tbl_key6(t, &b, 443, 2000);
	assert_null(tbl_lookup6(t, &kb, &b));
	for (int i = 0; i < n; i++) {
		tbl_v6addrs a = addrs((uint32_t)i, 5);
		hsk_tuple ka = tbl_key6(t, &a, 443, 2000);
		assert_ptr_equal(tbl_lookup6(t, &ka, &a), &o[i]->node);
	}
	assert_int_equal(t->moves, m0);
	for (int i = 0; i < n; i++) {
		tbl_remove(t, &o[i]->node);
		free(o[i]);
	}
	done(t);
}

/* The fold cache (two entries, the one used less recently asked first
 * and replaced): whatever the order of the addresses asked for, each
 * fold is SipHash-1-3 of the address under the table's fold key, and an
 * address asked for again right after another one is not folded anew. */
static void test_fold_cache(void **state)
{
	(void)state;
	hsk_table *t = table(9);
	tbl_v6addrs pool[3] = { addrs(1, 2), addrs(3, 4), addrs(5, 6) };
	uint64_t r = 12345;
	for (int n = 0; n < 3000; n++) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		const tbl_v6addrs *x = &pool[(r >> 33) % 3];
		const uint8_t *a = (r >> 40) & 1 ? x->l : x->r;
		uint32_t want = (uint32_t)hsk_siphash13(a, 16, t->fk0, t->fk1);
		assert_true(tbl_fold6(t, a) == want);
		/* the entry just used holds it now, the other the one before */
		assert_true(t->f_ok[t->f_last]);
		assert_memory_equal(t->f_addr[t->f_last], a, 16);
		assert_true(t->f_fold[t->f_last] == want);
	}
	/* two addresses in turn, as a segment's key: both stay cached */
	uint8_t keep[2][16];
	memcpy(keep[0], pool[0].l, 16);
	memcpy(keep[1], pool[0].r, 16);
	tbl_fold6(t, keep[0]);
	tbl_fold6(t, keep[1]);
	for (int n = 0; n < 10; n++) {
		assert_true(tbl_fold6(t, keep[n & 1]) ==
			    (uint32_t)hsk_siphash13(keep[n & 1], 16, t->fk0, t->fk1));
		assert_memory_equal(t->f_addr[t->f_last ^ 1u], keep[(n + 1) & 1], 16);
	}
	done(t);
}

static void test_hashes(void **state)
{
	hsk_table *t = table(4), *u = table(5);
	tbl_v6addrs a = addrs(0x01020304, 0x0a0b0c0d);
	uint8_t m[36];
	int same_fold = 0, same_hash = 0;

	(void)state;
	/* tuple_hash6 is SipHash-2-4 of the documented 36 bytes */
	memcpy(m, a.l, 16);
	memcpy(m + 16, a.r, 16);
	m[32] = 0x50; m[33] = 0x00; m[34] = 0x88; m[35] = 0x13;   /* 80, 5000 */
	assert_true(tuple_hash6(&a, 80, 5000, 7, 8) == hsk_siphash(m, 36, 7, 8));
	assert_true(tuple_hash6(&a, 80, 5000, 7, 8) != tuple_hash6(&a, 80, 5001, 7, 8));
	/* the fold is keyed: another table folds otherwise */
	for (uint32_t i = 0; i < 64; i++) {
		tbl_v6addrs x = addrs(i, i);
		same_fold += tbl_fold6(t, x.l) == tbl_fold6(u, x.l);
		hsk_tuple k = tbl_key6(t, &x, 80, (uint16_t)i);
		same_hash += tbl_hash6(t, &k) == tbl_hash(t, &k);
	}
	assert_true(same_fold < 2);
	/* the family is in the hash */
	assert_true(same_hash < 2);
	/* both addresses count in the key */
	tbl_v6addrs b = a;
	b.l[0] ^= 1;
	hsk_tuple ka = tbl_key6(t, &a, 1, 2), kb = tbl_key6(t, &b, 1, 2);
	assert_true(ka.laddr != kb.laddr);
	assert_true(ka.raddr == kb.raddr);
	done(t);
	done(u);
}

/* tbl_cached6 (tcp_input6's lookup without folds): the node the cache
 * holds, only when it is IPv6 and its addresses and both ports are the
 * segment's; NULL for a cache that holds nothing, an IPv4 node (here with
 * the same ports and the same bytes where an IPv6 one's addresses would
 * be) or another tuple. Each answer it gives is tbl_lookup6's. */
static void test_cached6(void **state)
{
	hsk_table *t = table(3);
	tbl_v6addrs a = addrs(1, 2), b = addrs(1, 3), c = addrs(4, 2);
	obj *x = new6(t, &a, 80, 5000, 1);
	obj *o4 = calloc(1, sizeof(obj) + sizeof(tbl_v6addrs));

	(void)state;
	assert_non_null(o4);
	o4->node.kind = KIND;
	o4->node.key = (hsk_tuple){ .laddr = 7, .raddr = 8, .lport = 80, .rport = 5000 };
	memcpy((char *)o4 + sizeof(obj), &a, sizeof(a));  /* where tbl_v6 looks */
	assert_null(tbl_cached6(t, &a, 80, 5000));     /* nothing known */
	tbl_insert(t, &x->node);
	assert_ptr_equal(tbl_cached6(t, &a, 80, 5000), &x->node);
	assert_ptr_equal(tbl_lookup6(t, &x->node.key, &a), &x->node);
	assert_ptr_equal(tbl_cached6(t, &a, 80, 5000), &x->node);
	assert_null(tbl_cached6(t, &a, 81, 5000));     /* our port */
	assert_null(tbl_cached6(t, &a, 80, 5001));     /* the peer's */
	assert_null(tbl_cached6(t, &b, 80, 5000));     /* the peer's address */
	assert_null(tbl_cached6(t, &c, 80, 5000));     /* ours */
	tbl_insert(t, &o4->node);                      /* the cache: an IPv4 node */
	assert_ptr_equal(tbl_lookup(t, &o4->node.key), &o4->node);
	assert_null(tbl_cached6(t, &a, 80, 5000));
	assert_ptr_equal(tbl_lookup6(t, &x->node.key, &a), &x->node);
	assert_ptr_equal(tbl_cached6(t, &a, 80, 5000), &x->node);
	hsk_tuple kb = tbl_key6(t, &b, 80, 5000);
	assert_null(tbl_lookup6(t, &kb, &b));          /* valid, IPv6, no node */
	assert_null(tbl_cached6(t, &b, 80, 5000));
	assert_null(tbl_cached6(t, &a, 80, 5000));
	assert_ptr_equal(tbl_lookup6(t, &x->node.key, &a), &x->node);
	tbl_remove(t, &x->node);                       /* forgotten */
	assert_null(tbl_cached6(t, &a, 80, 5000));
	tbl_remove(t, &o4->node);
	free(o4);
	free(x);
	done(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_size),
		cmocka_unit_test(test_families_apart),
		cmocka_unit_test(test_fold_collision),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_lookup6_migrates),
		cmocka_unit_test(test_fold_cache),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_cached6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
