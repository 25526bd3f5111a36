/* Checksums: RFC 1071 sums against a byte-by-byte reference, RFC 1624
 * incremental updates against full recomputation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/wire.h"

/* The textbook RFC 1071 loop: big-endian 16-bit words, odd byte padded. */
static uint32_t ref_sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

static uint16_t fold_only(uint32_t s)
{
	return (uint16_t)~csum_fold(s);
}

static uint32_t rng_state = 0x12345678;
static uint32_t rnd(void)
{
	/* xorshift32: deterministic, so a failure replays */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void test_rfc1071_example(void **state)
{
	(void)state;
	/* RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2. */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	assert_int_equal(fold_only(csum_partial(b, sizeof b, 0)), 0xddf2);
	assert_int_equal(csum_fold(csum_partial(b, sizeof b, 0)), (uint16_t)~0xddf2);
}

static void test_empty_and_zero(void **state)
{
	(void)state;
	static const uint8_t z[64];
	assert_int_equal(csum_partial(z, 0, 0), 0);
	assert_int_equal(csum_partial(z, 0, 1234), 1234);
	assert_int_equal(fold_only(csum_partial(z, sizeof z, 0)), 0);
	assert_int_equal(csum_fold(0), 0xffff);
	assert_int_equal(csum_fold(0xffff), 0);
	assert_int_equal(csum_fold(0xffffffffu), 0); /* ffff + ffff = 1fffe -> ffff */
}

static void test_all_ones(void **state)
{
	(void)state;
	uint8_t b[1500];
	memset(b, 0xff, sizeof b);
	for (size_t n = 0; n <= sizeof b; n++)
		assert_int_equal(fold_only(csum_partial(b, n, 0)), ref_sum(b, n));
}

/* Every length 0..300 at every start offset 0..15 (odd starts and odd
 * lengths included), random contents, against the reference. */
static void test_lengths_and_offsets(void **state)
{
	(void)state;
	enum { MAX = 300, OFFS = 16 };
	uint8_t *buf = malloc(MAX + OFFS);
	assert_non_null(buf);
	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < MAX + OFFS; i++)
			buf[i] = (uint8_t)rnd();
		for (size_t off = 0; off < OFFS; off++)
			for (size_t n = 0; n <= MAX; n++)
				assert_int_equal(fold_only(csum_partial(buf + off, n, 0)),
						 ref_sum(buf + off, n));
	}
	free(buf);
}

static void test_large_and_chained(void **state)
{
	(void)state;
	enum { N = 65536 + 7 };
	uint8_t *buf = malloc(N);
	assert_non_null(buf);
	for (size_t i = 0; i < N; i++)
		buf[i] = (uint8_t)rnd();
	assert_int_equal(fold_only(csum_partial(buf, N, 0)), ref_sum(buf, N));
	/* Summing in pieces of even length chains through `sum`. */
	uint32_t s = 0;
	for (size_t at = 0; at < N; at += 1000)
		s = csum_partial(buf + at, at + 1000 <= N ? 1000 : N - at, s);
	assert_int_equal(fold_only(s), ref_sum(buf, N));
	/* A starting sum near 2^32 carries around, not off. */
	assert_int_equal(fold_only(csum_partial(buf, N, 0xfffffff0u)),
			 fold_only(0xfff0 + 0xffff + ref_sum(buf, N)));
	free(buf);
}

static void test_pseudo(void **state)
{
	(void)state;
	/* 198.18.0.2 -> 198.18.0.1, TCP, 40 bytes, as bytes. */
	static const uint8_t ph[] = { 0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x01,
				      0x00, 0x06, 0x00, 0x28 };
	assert_int_equal(fold_only(csum_pseudo(0xc6120002, 0xc6120001, 6, 40)),
			 ref_sum(ph, sizeof ph));
	assert_int_equal(fold_only(csum_pseudo(0xffffffff, 0xffffffff, 255, 0xffff)),
			 fold_only(4 * 0xffff + 255 + 0xffff));
}

static void test_rfc1624_example(void **state)
{
	(void)state;
	/* RFC 1624 section 4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285; eqn. 3
	 * gives 0x0000 (eqn. 2 would give the wrong 0xffff). */
	assert_int_equal(csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
	/* And back again. */
	assert_int_equal(csum_update16(0x0000, 0x3285, 0x5555), 0xdd2f);
	/* No change, no change (except that -0 is never produced). */
	assert_int_equal(csum_update16(0x1234, 0xabcd, 0xabcd), 0x1234);
}

/* Random buffers (the checksum field at offset 16, as in TCP), a random
 * 16- or 32-bit field rewritten: the incremental checksum must equal the one
 * computed from scratch. */
static void test_incremental_random(void **state)
{
	(void)state;
	uint8_t b[64];
	for (int iter = 0; iter < 200000; iter++) {
		size_t n = 20 + rnd() % (sizeof b - 20 + 1);
		n &= ~(size_t)1;
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)rnd();
		/* Some cases with the extremes of a field. */
		if (iter % 7 == 0)
			memset(b + 4, 0xff, 4);
		if (iter % 11 == 0)
			memset(b + 4, 0x00, 4);
		wr16(b + 16, 0);
		uint16_t c = csum_fold(csum_partial(b, n, 0));
		wr16(b + 16, c);
		assert_int_equal(csum_fold(csum_partial(b, n, 0)), 0);

		size_t at = 4 + 2 * (rnd() % 4); /* 4, 6, 8 or 10: not the csum */
		if (iter & 1) {
			uint16_t old = rd16(b + at), nv = (uint16_t)rnd();
			if (iter % 13 == 1)
				nv = (iter & 2) ? 0 : 0xffff;
			wr16(b + at, nv);
			uint16_t inc = csum_update16(c, old, nv);
			wr16(b + 16, 0);
			assert_int_equal(inc, csum_fold(csum_partial(b, n, 0)));
		} else {
			uint32_t old = rd32(b + at), nv = rnd();
			if (iter % 13 == 0)
				nv = (iter & 4) ? 0 : 0xffffffffu;
			wr32(b + at, nv);
			uint16_t inc = csum_update32(c, old, nv);
			wr16(b + 16, 0);
			assert_int_equal(inc, csum_fold(csum_partial(b, n, 0)));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_empty_and_zero),
		cmocka_unit_test(test_all_ones),
		cmocka_unit_test(test_lengths_and_offsets),
		cmocka_unit_test(test_large_and_chained),
		cmocka_unit_test(test_pseudo),
		cmocka_unit_test(test_rfc1624_example),
		cmocka_unit_test(test_incremental_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
