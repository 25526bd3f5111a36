/* Unit tests for src/core/table.c: the keyed tuple hashes, insert, lookup,
 * remove of many tuples, collisions, foreach, incremental growth with
 * bounded work per operation, the last-lookup cache against a model. */
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

/* The 12 bytes the tuple hashes read: the local and remote address, the
 * local and remote port, each little-endian. */
static void tuple_bytes(const hsk_tuple *t, uint8_t b[12])
{
	for (int j = 0; j < 4; j++) {
		b[j] = (uint8_t)(t->laddr >> (8 * j));
		b[4 + j] = (uint8_t)(t->raddr >> (8 * j));
	}
	b[8] = (uint8_t)t->lport;
	b[9] = (uint8_t)(t->lport >> 8);
	b[10] = (uint8_t)t->rport;
	b[11] = (uint8_t)(t->rport >> 8);
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
		tuple_bytes(&t, b);
		assert_int_equal(tuple_hash(&t, k0, k1), hsk_siphash(b, 12, k0, k1));
	}
	/* the table's hash: SipHash-1-3 of the same bytes, low 24 bits */
	for (int i = 0; i < 1000; i++) {
		uint64_t k0 = rng_next(&g), k1 = rng_next(&g), x = rng_next(&g);
		hsk_tuple t = mk_tuple((uint32_t)x, (uint32_t)(x >> 32),
		                       (uint16_t)rng_next(&g), (uint16_t)rng_next(&g));
		uint8_t b[12];
		tuple_bytes(&t, b);
		hsk_table tb;
		assert_int_equal(tbl_init(&tb, 16, k0, k1), 0);
		assert_int_equal(tbl_hash(&tb, &t), hsk_siphash13(b, 12, k0, k1) & 0xffffff);
		tbl_destroy(&tb);
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

/* Every node of the table reachable by lookup; the count right; no
 * bucket holds a node of another bucket (a node in the wrong chain would
 * be found by foreach but not by lookup). */
static void check_all(hsk_table *t, conn *c, int n, int step)
{
	for (int i = 0; i < n; i += step)
		assert_ptr_equal(tbl_lookup(t, &c[i].node.key), &c[i].node);
}

/* n zeroed nodes, and an empty table of `buckets` buckets keyed (k0, k1). */
static conn *table_fx(hsk_table *t, size_t n, size_t buckets, uint64_t k0, uint64_t k1)
{
	conn *c = calloc(n, sizeof *c);
	assert_non_null(c);
	assert_int_equal(tbl_init(t, buckets, k0, k1), 0);
	return c;
}

/* 100k tuples: insert, grow, look up, remove half, look up again. */
static void test_many(void **state)
{
	(void)state;
	enum { N = 100000 };
	hsk_table t;
	conn *c = table_fx(&t, N, 1, 0x1111, 0x2222);
	for (int i = 0; i < N; i++) {
		/* one server address and port, clients from a /16: the shape a
		 * busy listener sees, distinct by construction */
		c[i].id = i;
		c[i].node.key = mk_tuple(0xc6120001, 0xc6130000 + (uint32_t)(i / 50000),
		                         443, (uint16_t)(1024 + i % 50000));
		tbl_insert(&t, &c[i].node);
		/* the load never passes TBL_MAX_LOAD, counting the old array's
		 * unmoved buckets with the new ones */
		assert_true(t.count <= TBL_MAX_LOAD * (t.mask + 1));
	}
	assert_int_equal(tbl_count(&t), N);
	assert_int_equal(t.mask + 1, 65536);
	check_all(&t, c, N, 1);

	/* chains are short: the longest stays small at load ~1.5 */
	size_t longest = 0, used = 0;
	for (int pass = 0; pass < 2; pass++) {
		tbl_node **a = pass ? t.bucket : t.old;
		size_t from = pass ? 0 : t.moved, n = pass ? t.mask + 1 : (t.old ? t.old_mask + 1 : 0);
		for (size_t b = from; b < n; b++) {
			size_t len = 0;
			for (tbl_node *e = a[b]; e; e = e->next)
				len++;
			used += len > 0;
			if (len > longest)
				longest = len;
		}
	}
	assert_true(longest <= 14);
	assert_true(used > N / 4);

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
	check_all(&t, c, N, 1);
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
		if ((tbl_hash(&t, &k) & 15) == 3)
			c[n++].node.key = k;
	}
	for (int i = 0; i < N; i++)
		tbl_insert(&t, &c[i].node);
	assert_int_equal(t.mask, 15); /* 12 < 32: no growth yet */
	size_t len = 0;
	for (tbl_node *e = t.bucket[3]; e; e = e->next)
		len++;
	assert_int_equal(len, N);
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

/* Growth keeps every node reachable after every insert, while buckets
 * migrate; each doubling starts when the load reaches TBL_MAX_LOAD and
 * has finished before the next one is due. hsk_table.full, the usual
 * insert's and replace's one compare, follows: 0 while buckets migrate
 * (so that both take their steps), the load's count otherwise (a table
 * grown that kept 0 would send every later insert the long way). */
static void test_growth_steps(void **state)
{
	(void)state;
	enum { N = 3000 };
	hsk_table t;
	conn *c = table_fx(&t, N, 16, 7, 8);
	for (int i = 0; i < N; i++) {
		size_t before = t.mask + 1;
		bool migrating = t.old != NULL;
		c[i].node.key = mk_tuple((uint32_t)i, 7, 1, 2);
		tbl_insert(&t, &c[i].node);
		if ((size_t)i == TBL_MAX_LOAD * before) {
			assert_false(migrating);
			assert_int_equal(t.mask + 1, 2 * before);
			assert_non_null(t.old);
		} else {
			assert_int_equal(t.mask + 1, before);
		}
		assert_int_equal(t.full, t.old ? 0 : TBL_MAX_LOAD * (t.mask + 1));
		check_all(&t, c, i + 1, 1 + i / 64);
		size_t seen = 0;
		tbl_foreach(&t, count_fn, &seen);
		assert_int_equal(seen, (size_t)i + 1);
	}
	assert_int_equal(t.mask + 1, 2048);
	tbl_destroy(&t);
	free(c);
}

/* A lookup past the cache (look: tbl_lookup's, or tbl_lookup_new's for
 * connect's port candidate, the miss's usual way in line) moves one
 * bucket while the table grows (the miss's out-of-line way,
 * lookup_migrating: nodes still in the old array are found), found or
 * not, and finds the same nodes; none when nothing migrates (the usual
 * miss). Either way the cache is left holding the key: the insert that
 * follows takes its hash (the node's is tbl_hash's). */
static void lookups_migrate(tbl_node *(*look)(hsk_table *, const hsk_tuple *))
{
	enum { N = 40 };
	hsk_table t;
	conn *c = table_fx(&t, N, 16, 0x5151, 0x7373);
	int i = 0;
	while (!t.old) {          /* up to the first doubling: 32 in 16 buckets */
		c[i].node.key = mk_tuple((uint32_t)i, 9, 80, 1000);
		tbl_insert(&t, &c[i].node);
		i++;
	}
	for (int j = 0; t.old; j++) {
		uint64_t m0 = t.moves;
		hsk_tuple absent = mk_tuple(0xdead0000u + (uint32_t)j, 9, 80, 1000);
		assert_null(look(&t, &absent));
		assert_true(t.moves == m0 + 1 || !t.old);
		m0 = t.moves;
		if (!t.old)
			break;
		assert_ptr_equal(look(&t, &c[j % i].node.key), &c[j % i].node);
		assert_true(t.moves == m0 + 1 || !t.old);
	}
	assert_null(t.old);       /* lookups alone finished the migration */
	uint64_t m0 = t.moves;
	c[i].node.key = mk_tuple(0xbeef, 9, 80, 1000);
	assert_null(look(&t, &c[i].node.key));
	assert_ptr_equal(look(&t, &c[3].node.key), &c[3].node);
	assert_int_equal(t.moves, m0);
	assert_null(look(&t, &c[i].node.key));
	tbl_insert(&t, &c[i].node);
	assert_int_equal(c[i].node.hash, tbl_hash(&t, &c[i].node.key));
	assert_ptr_equal(look(&t, &c[i].node.key), &c[i].node);
	check_all(&t, c, i + 1, 1);
	tbl_destroy(&t);
	free(c);
}

static tbl_node *look_cached(hsk_table *t, const hsk_tuple *k) { return tbl_lookup(t, k); }
static tbl_node *look_new(hsk_table *t, const hsk_tuple *k) { return tbl_lookup_new(t, k); }

static void test_lookup_miss_migrates(void **state)
{
	(void)state;
	lookups_migrate(look_cached);
}

/* (its growth test removed or inverted fails this) */
static void test_lookup_new_migrates(void **state)
{
	(void)state;
	lookups_migrate(look_new);
}

/* A million inserts: no insert, remove or lookup moves more than
 * TBL_MIGRATE_STEP buckets (plus one for a lookup), whatever the size,
 * and every node stays reachable; the old array goes once it is empty. */
static void test_million_bounded(void **state)
{
	(void)state;
	enum { N = 1000000 };
	hsk_table t;
	conn *c = table_fx(&t, N, 16, 0xabc, 0xdef);
	uint64_t worst = 0, growths = 0;
	for (int i = 0; i < N; i++) {
		c[i].node.key = mk_tuple(0xc6120001, 0xc6120000 + (uint32_t)(i >> 16), 80,
					 (uint16_t)i);
		uint64_t m0 = t.moves;
		size_t b0 = t.mask;
		tbl_insert(&t, &c[i].node);
		growths += t.mask != b0;
		if (t.moves - m0 > worst)
			worst = t.moves - m0;
		/* a lookup now and then, of an earlier node */
		if (i % 97 == 0) {
			m0 = t.moves;
			int j = (int)((uint32_t)i * 2654435761u % (uint32_t)(i + 1));
			assert_ptr_equal(tbl_lookup(&t, &c[j].node.key), &c[j].node);
			assert_true(t.moves - m0 <= 1);
		}
	}
	assert_int_equal(worst, TBL_MIGRATE_STEP);
	assert_int_equal(growths, 15);      /* 16 -> 2^19 buckets */
	assert_int_equal(t.mask + 1, 1u << 19);
	check_all(&t, c, N, 1);
	/* removes move at most a step too, and finish the migration */
	for (int i = 0; i < N; i++) {
		uint64_t m0 = t.moves;
		tbl_remove(&t, &c[i].node);
		assert_true(t.moves - m0 <= TBL_MIGRATE_STEP);
	}
	assert_int_equal(tbl_count(&t), 0);
	assert_null(t.old);
	tbl_destroy(&t);
	free(c);
}

/* The one-entry cache never answers for a tuple that changed: random
 * inserts, removes, replaces (by a twin node of the same tuple) and
 * lookups over a small key space (many repeats of the same tuple in a
 * row), checked against a model, through growth. The tuple cached before
 * the operation is sometimes asked first: a remove or replace of another
 * node must leave the cache right for it (remove_node and cache_node keep
 * the cache's key when it holds the node they take out). */
static void test_cache_against_model(void **state)
{
	(void)state;
	enum { K = 700, OPS = 300000 };
	conn *c = calloc(2 * K, sizeof *c);
	conn **cur = calloc(K, sizeof *cur);    /* the node in, or NULL */
	assert_non_null(c);
	assert_non_null(cur);
	hsk_table t;
	assert_int_equal(tbl_init(&t, 16, 3, 4), 0);
	hsk_rng g;
	rng_seed(&g, 77);
	for (int i = 0; i < K; i++)
		c[i].node.key = c[K + i].node.key = mk_tuple(1, 2, (uint16_t)i, 9);
	size_t count = 0;
	int k = 0, o = 0;
	for (int op = 0; op < OPS; op++) {
		if (rng_below(&g, 4) == 0)      /* often the same tuple again */
			k = (int)rng_below(&g, K);
		hsk_tuple key = c[k].node.key;  /* a copy: lookups by value */
		switch (rng_below(&g, 4)) {
		case 0:
			if (!cur[k]) {
				cur[k] = &c[k + (rng_below(&g, 2) ? K : 0)];
				tbl_insert(&t, &cur[k]->node);
				count++;
			}
			break;
		case 1:
			if (cur[k]) {
				tbl_remove(&t, &cur[k]->node);
				cur[k] = NULL;
				count--;
			}
			break;
		case 2:
			if (cur[k]) {
				conn *twin = cur[k] == &c[k] ? &c[K + k] : &c[k];
				tbl_replace(&t, &cur[k]->node, &twin->node);
				cur[k] = twin;
			}
			break;
		default:        /* (a remove with no successor: tbl_remove_end) */
			if (cur[k]) {
				tbl_remove_end(&t, &cur[k]->node);
				cur[k] = NULL;
				count--;
			}
			break;
		}
		/* the tuple cached before the operation (o's), first */
		if (rng_below(&g, 2))
			assert_ptr_equal(tbl_lookup(&t, &c[o].node.key),
					 cur[o] ? &cur[o]->node : NULL);
		tbl_node *e = tbl_lookup(&t, &key);
		assert_ptr_equal(e, cur[k] ? &cur[k]->node : NULL);
		assert_int_equal(tbl_count(&t), count);
		/* and another tuple, which replaces the cached one */
		o = (int)rng_below(&g, K);
		assert_ptr_equal(tbl_lookup(&t, &c[o].node.key), cur[o] ? &cur[o]->node : NULL);
	}
	tbl_destroy(&t);
	free(c);
	free(cur);
}

/* tbl_remove_end while the table grows takes tbl_remove's way: a
 * migration step, the node gone, and a lookup of its tuple right after
 * (the cache held it) misses; without growth it moves nothing. */
static void test_remove_end_migrates(void **state)
{
	(void)state;
	enum { N = 40 };
	hsk_table t;
	conn *c = table_fx(&t, N, 16, 0x5152, 0x7374);
	int i = 0;
	while (!t.old) {          /* up to the first doubling */
		c[i].node.key = mk_tuple((uint32_t)i, 9, 80, 1000);
		tbl_insert(&t, &c[i].node);
		i++;
	}
	assert_ptr_equal(tbl_lookup(&t, &c[0].node.key), &c[0].node);
	uint64_t m0 = t.moves;
	tbl_remove_end(&t, &c[0].node);
	assert_true(t.moves > m0);
	assert_null(tbl_lookup(&t, &c[0].node.key));
	assert_int_equal(tbl_count(&t), (size_t)i - 1);
	for (uint32_t j = 0; t.old; j++) {      /* misses finish the migration */
		hsk_tuple absent = mk_tuple(0xdead0000u + j, 9, 80, 1000);
		assert_null(tbl_lookup(&t, &absent));
	}
	assert_ptr_equal(tbl_lookup(&t, &c[1].node.key), &c[1].node);
	m0 = t.moves;
	tbl_remove_end(&t, &c[1].node);
	assert_int_equal(t.moves, m0);
	assert_null(tbl_lookup(&t, &c[1].node.key));
	assert_int_equal(tbl_count(&t), (size_t)i - 2);
	tbl_destroy(&t);
	free(c);
}

/* The hash's state kept after the last addresses (table.h tbl_hash_kept):
 * over tuples whose addresses differ from the last in one byte (any of
 * the eight), the zero addresses tbl_init keeps first, and random ports,
 * each hash a lookup and an insert make is the reference's (tbl_hash, the
 * same SipHash-1-3 from the key's state, which test_tuple_hash_is_siphash
 * checks against hsk_siphash13), IPv4 and IPv6 keys mixed. */
static void test_hash_kept_addrs(void **state)
{
	(void)state;
	hsk_rng g;
	rng_seed(&g, 77);
	hsk_table t;
	assert_int_equal(tbl_init(&t, 16, rng_next(&g), rng_next(&g)), 0);
	enum { N = 2000 };
	conn *c = calloc(N, sizeof *c);
	assert_non_null(c);
	uint32_t la = 0, ra = 0;        /* the zero addresses first */
	int ins = 0;
	for (int i = 0; i < N; i++) {
		if (i && rng_next(&g) % 3) {    /* else the same addresses again */
			unsigned b = (unsigned)(rng_next(&g) % 8);
			uint32_t flip = (uint32_t)(1 + rng_next(&g) % 255) << (8 * (b % 4));
			if (b < 4)
				la ^= flip;
			else
				ra ^= flip;
		}
		hsk_tuple k = mk_tuple(la, ra, (uint16_t)rng_next(&g), (uint16_t)rng_next(&g));
		bool v6 = rng_next(&g) % 4 == 0;
		if (v6) {
			tbl_v6addrs a6;
			memset(&a6, (int)i, sizeof a6);
			assert_null(tbl_lookup6(&t, &k, &a6));
			assert_int_equal(t.c_hash, tbl_hash6(&t, &k));
			continue;
		}
		uint32_t want = tbl_hash(&t, &k);
		if (tbl_lookup_miss(&t, &k))
			continue;       /* (a tuple drawn twice) */
		assert_int_equal(t.c_hash, want);
		if (rng_next(&g) % 2) {
			/* the cache holds another tuple: the insert hashes k */
			hsk_tuple o = k;
			o.lport ^= 1;
			(void)tbl_lookup(&t, &o);
		}
		c[ins].node.key = k;
		tbl_insert(&t, &c[ins].node);
		assert_int_equal(c[ins].node.hash, tbl_hash(&t, &k));
		ins++;
	}
	assert_true(ins > N / 2);
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
		cmocka_unit_test(test_lookup_miss_migrates),
		cmocka_unit_test(test_lookup_new_migrates),
		cmocka_unit_test(test_million_bounded),
		cmocka_unit_test(test_cache_against_model),
		cmocka_unit_test(test_hash_kept_addrs),
		cmocka_unit_test(test_remove_end_migrates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
