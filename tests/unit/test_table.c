/* Unit tests for src/core/table.c: the keyed tuple hash, insert, lookup,
 * remove of many tuples, collisions, foreach, growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"
#include "core/table.h"

typedef struct conn {
	tbl_node node; /* first member, as the stack's objects embed it */
	int id;
	int seen;
} conn;

static hsk_tuple mk_tuple(uint32_t la, uint32_t ra, uint16_t lp, uint16_t rp)
{
	hsk_tuple t;
	memset(&t, 0, sizeof t);
	t.laddr = la;
	t.raddr = ra;
	t.lport = lp;
	t.rport = rp;
	return t;
}

static void test_tuple_hash_is_siphash(void **state)
{
	(void)state;
	hsk_rng g;
	rng_seed(&g, 9);
	for (int i = 0; i < 1000; i++) {
		uint64_t k0 = rng_next(&g), k1 = rng_next(&g), x = rng_next(&g);
		hsk_tuple t = mk_tuple((uint32_t)x, (uint32_t)(x >> 32),
		                       (uint16_t)rng_next(&g), (uint16_t)rng_next(&g));
		uint8_t b[12];
		for (int j = 0; j < 4; j++) {
			b[j] = (uint8_t)(t.laddr >> (8 * j));
			b[4 + j] = (uint8_t)(t.raddr >> (8 * j));
		}
		b[8] = (uint8_t)t.lport;
		b[9] = (uint8_t)(t.lport >> 8);
		b[10] = (uint8_t)t.rport;
		b[11] = (uint8_t)(t.rport >> 8);
		assert_int_equal(tuple_hash(&t, k0, k1), hsk_siphash(b, 12, k0, k1));
	}
	/* the key matters */
	hsk_tuple t = mk_tuple(1, 2, 3, 4);
	assert_true(tuple_hash(&t, 1, 2) != tuple_hash(&t, 1, 3));
	/* swapping the ends gives another hash (no symmetric mixing) */
	hsk_tuple u = mk_tuple(2, 1, 4, 3);
	assert_true(tuple_hash(&t, 1, 2) != tuple_hash(&u, 1, 2));
}

static void test_basic(void **state)
{
	(void)state;
	hsk_table t;
	assert_int_equal(tbl_init(&t, 0, 1, 2), 0);
	assert_int_equal(t.mask + 1, 16);
	conn a = { .id = 1 }, b = { .id = 2 };
	a.node.key = mk_tuple(0x0a000001, 0x0a000002, 80, 40000);
	b.node.key = mk_tuple(0x0a000001, 0x0a000002, 80, 40001);
	a.node.kind = HSK_OBJ_TCB;
	b.node.kind = HSK_OBJ_TW;
	hsk_tuple k = a.node.key;
	assert_null(tbl_lookup(&t, &k));
	tbl_insert(&t, &a.node);
	tbl_insert(&t, &b.node);
	assert_int_equal(tbl_count(&t), 2);
	assert_ptr_equal(tbl_lookup(&t, &k), &a.node);
	k.rport = 40001;
	assert_ptr_equal(tbl_lookup(&t, &k), &b.node);
	assert_int_equal(((conn *)tbl_lookup(&t, &k))->node.kind, HSK_OBJ_TW);
	k.rport = 40002;
	assert_null(tbl_lookup(&t, &k));
	tbl_remove(&t, &a.node);
	assert_int_equal(tbl_count(&t), 1);
	assert_null(tbl_lookup(&t, &a.node.key));
	assert_ptr_equal(tbl_lookup(&t, &b.node.key), &b.node);
	tbl_remove(&t, &b.node);
	assert_int_equal(tbl_count(&t), 0);
	tbl_destroy(&t);
	assert_null(t.bucket);
}

static void count_fn(void *ctx, tbl_node *n)
{
	size_t *c = ctx;
	((conn *)n)->seen++;
	(*c)++;
}

/* 100k tuples: insert, grow, look up, remove half, look up again. */
static void test_many(void **state)
{
	(void)state;
	enum { N = 100000 };
	conn *c = calloc(N, sizeof *c);
	assert_non_null(c);
	hsk_table t;
	assert_int_equal(tbl_init(&t, 1, 0x1111, 0x2222), 0);
	hsk_rng g;
	rng_seed(&g, 10);
	for (int i = 0; i < N; i++) {
		/* one server address and port, clients from a /16: the shape a
		 * busy listener sees, distinct by construction */
		c[i].id = i;
		c[i].node.key = mk_tuple(0xc6120001, 0xc6130000 + (uint32_t)(i / 50000),
		                         443, (uint16_t)(1024 + i % 50000));
		tbl_insert(&t, &c[i].node);
		assert_true(t.count <= t.mask + 1); /* load never passes 1 */
	}
	assert_int_equal(tbl_count(&t), N);
	assert_int_equal(t.mask + 1, 131072);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(tbl_lookup(&t, &c[i].node.key), &c[i].node);

	/* chains are short: the longest stays small at load ~0.76 */
	size_t longest = 0, used = 0;
	for (size_t b = 0; b <= t.mask; b++) {
		size_t len = 0;
		for (tbl_node *e = t.bucket[b]; e; e = e->next)
			len++;
		used += len > 0;
		if (len > longest)
			longest = len;
	}
	assert_true(longest <= 12);
	assert_true(used > N / 2);

	size_t seen = 0;
	tbl_foreach(&t, count_fn, &seen);
	assert_int_equal(seen, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(c[i].seen, 1);

	for (int i = 0; i < N; i += 2)
		tbl_remove(&t, &c[i].node);
	assert_int_equal(tbl_count(&t), N / 2);
	for (int i = 0; i < N; i++) {
		tbl_node *e = tbl_lookup(&t, &c[i].node.key);
		if (i % 2)
			assert_ptr_equal(e, &c[i].node);
		else
			assert_null(e);
	}
	/* re-insert the removed ones, in reverse order */
	for (int i = N - 2; i >= 0; i -= 2)
		tbl_insert(&t, &c[i].node);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(tbl_lookup(&t, &c[i].node.key), &c[i].node);
	for (int i = 0; i < N; i++)
		tbl_remove(&t, &c[i].node);
	assert_int_equal(tbl_count(&t), 0);
	for (size_t b = 0; b <= t.mask; b++)
		assert_null(t.bucket[b]);
	tbl_destroy(&t);
	free(c);
}

/* Tuples that land in one bucket of a 16-bucket table, found by search:
 * chains of many nodes, lookups that must compare every field. */
static void test_collisions(void **state)
{
	(void)state;
	enum { N = 12 };
	hsk_table t;
	assert_int_equal(tbl_init(&t, 16, 5, 6), 0);
	conn c[N];
	memset(c, 0, sizeof c);
	int n = 0;
	for (uint32_t x = 0; n < N; x++) {
		hsk_tuple k = mk_tuple(1, 2, (uint16_t)x, 80);
		if ((tuple_hash(&k, 5, 6) & 15) == 3)
			c[n++].node.key = k;
	}
	for (int i = 0; i < N; i++)
		tbl_insert(&t, &c[i].node);
	assert_int_equal(t.mask, 15); /* 12 < 16: no growth yet */
	for (int i = 0; i < N; i++)
		assert_ptr_equal(tbl_lookup(&t, &c[i].node.key), &c[i].node);
	/* same bucket, different tuple: fields differ one at a time */
	hsk_tuple k = c[0].node.key;
	k.laddr ^= 1;
	assert_true(tbl_lookup(&t, &k) != &c[0].node);
	/* remove from the middle, head and tail of the chain */
	tbl_remove(&t, &c[5].node);
	tbl_remove(&t, &c[N - 1].node); /* inserted last: the chain's head */
	tbl_remove(&t, &c[0].node);     /* the tail */
	for (int i = 0; i < N; i++) {
		tbl_node *e = tbl_lookup(&t, &c[i].node.key);
		if (i == 5 || i == N - 1 || i == 0)
			assert_null(e);
		else
			assert_ptr_equal(e, &c[i].node);
	}
	tbl_destroy(&t);
}

/* Growth keeps every node reachable at each doubling. */
static void test_growth_steps(void **state)
{
	(void)state;
	enum { N = 1000 };
	conn *c = calloc(N, sizeof *c);
	assert_non_null(c);
	hsk_table t;
	assert_int_equal(tbl_init(&t, 16, 7, 8), 0);
	for (int i = 0; i < N; i++) {
		size_t before = t.mask + 1;
		c[i].node.key = mk_tuple((uint32_t)i, 7, 1, 2);
		tbl_insert(&t, &c[i].node);
		if ((size_t)i + 1 > before)
			assert_int_equal(t.mask + 1, 2 * before);
		else
			assert_int_equal(t.mask + 1, before);
		for (int j = 0; j <= i; j += 37)
			assert_ptr_equal(tbl_lookup(&t, &c[j].node.key), &c[j].node);
	}
	assert_int_equal(t.mask + 1, 1024);
	tbl_destroy(&t);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tuple_hash_is_siphash),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_growth_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
