/* Unit tests for src/core/pool.c: reuse, the max, zeroing, in_use counts,
 * chunk growth, and a destroy that leaves nothing for ASan to report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/pool.h"
#include "core/rand.h"

static void test_size_rounding(void **state)
{
	(void)state;
	hsk_pool p;
	pool_init(&p, 1, 0);
	assert_int_equal(p.obj_size, sizeof(void *));
	pool_init(&p, 13, 0);
	assert_int_equal(p.obj_size, 16);
	pool_init(&p, 96, 0);
	assert_int_equal(p.obj_size, 96);
	assert_int_equal(pool_in_use(&p), 0);
	assert_null(p.chunks); /* nothing allocated before the first get */
	pool_destroy(&p);
}

static void test_get_put_reuse(void **state)
{
	(void)state;
	hsk_pool p;
	pool_init(&p, 40, 0);
	uint8_t *a = pool_get(&p), *b = pool_get(&p);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a != b);
	assert_int_equal((uintptr_t)a % sizeof(void *), 0);
	assert_int_equal((uintptr_t)b % sizeof(void *), 0);
	assert_int_equal(pool_in_use(&p), 2);
	memset(a, 0xab, 40);
	pool_put(&p, a);
	assert_int_equal(pool_in_use(&p), 1);
	uint8_t *c = pool_get(&p);
	assert_ptr_equal(c, a); /* the free list is LIFO: warm memory first */
	for (int i = 0; i < 40; i++)
		assert_int_equal(c[i], 0);
	pool_put(&p, NULL); /* ignored */
	assert_int_equal(pool_in_use(&p), 2);
	pool_put(&p, b);
	pool_put(&p, c);
	assert_int_equal(pool_in_use(&p), 0);
	pool_destroy(&p);
}

static void test_max(void **state)
{
	(void)state;
	enum { MAX = 100 };
	hsk_pool p;
	pool_init(&p, 24, MAX);
	void *o[MAX];
	for (int i = 0; i < MAX; i++) {
		o[i] = pool_get(&p);
		assert_non_null(o[i]);
	}
	assert_null(pool_get(&p));
	assert_null(pool_get(&p));
	assert_int_equal(pool_in_use(&p), MAX);
	assert_int_equal(p.total, MAX); /* chunks never hold more than max */
	pool_put(&p, o[17]);
	void *x = pool_get(&p);
	assert_ptr_equal(x, o[17]);
	assert_null(pool_get(&p));
	for (int i = 0; i < MAX; i++)
		pool_put(&p, o[i]);
	assert_int_equal(pool_in_use(&p), 0);
	pool_destroy(&p);
	/* max 1 */
	pool_init(&p, 8, 1);
	void *one = pool_get(&p);
	assert_non_null(one);
	assert_null(pool_get(&p));
	pool_destroy(&p); /* with the object still out */
}

/* Distinct, non-overlapping, zeroed objects across many chunks, with
 * random interleaving of gets and puts; each object carries a pattern that
 * must survive until it is put back. */
static void test_random_churn(void **state)
{
	(void)state;
	enum { N = 20000, SIZE = 56 };
	hsk_pool p;
	pool_init(&p, SIZE, 0);
	uint8_t **live = calloc(N, sizeof *live);
	assert_non_null(live);
	size_t nlive = 0;
	hsk_rng g;
	rng_seed(&g, 11);
	for (int op = 0; op < 200000; op++) {
		if (nlive < N && (nlive == 0 || rng_below(&g, 100) < 55)) {
			uint8_t *o = pool_get(&p);
			assert_non_null(o);
			for (int i = 0; i < SIZE; i++)
				assert_int_equal(o[i], 0);
			memset(o, (int)(nlive & 0xff) | 1, SIZE);
			o[0] = (uint8_t)(uintptr_t)o;
			live[nlive++] = o;
		} else {
			size_t k = (size_t)rng_below(&g, nlive);
			uint8_t *o = live[k];
			assert_int_equal(o[0], (uint8_t)(uintptr_t)o);
			for (int i = 1; i < SIZE; i++)
				assert_int_equal(o[i], o[1]);
			pool_put(&p, o);
			live[k] = live[--nlive];
		}
		assert_int_equal(pool_in_use(&p), nlive);
		assert_true(p.total >= nlive);
	}
	/* geometric growth: chunks are few */
	size_t chunks = 0;
	for (void **c = p.chunks; c; c = *c)
		chunks++;
	assert_true(chunks < 20);
	free(live);
	pool_destroy(&p); /* objects still out: freed with their chunks */
	assert_int_equal(pool_in_use(&p), 0);
	assert_null(p.chunks);
	/* usable again after destroy */
	void *o = pool_get(&p);
	assert_non_null(o);
	pool_destroy(&p);
}

static void test_chunk_growth(void **state)
{
	(void)state;
	hsk_pool p;
	pool_init(&p, 64, 0);
	size_t last_total = 0;
	for (int i = 0; i < 100000; i++) {
		assert_non_null(pool_get(&p));
		if (p.total != last_total) {
			/* each chunk holds at most as many as before it, and at
			 * most 256 KiB */
			assert_true(p.per_chunk <= (last_total ? last_total : 16));
			assert_true(p.per_chunk * 64 <= 256 * 1024);
			last_total = p.total;
		}
	}
	assert_int_equal(pool_in_use(&p), 100000);
	pool_destroy(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_rounding),
		cmocka_unit_test(test_get_put_reuse),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_random_churn),
		cmocka_unit_test(test_chunk_growth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
