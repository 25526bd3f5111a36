/* Checksums: RFC 1071 sums (every kernel, plain and fused with a copy)
 * against a byte-by-byte reference, odd-offset chaining, RFC 1624
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

/* The kernels this host can run (SCALAR always; SSE2 on every x86-64;
 * AVX2 when the CPU has it); each test below runs on every one, so a host
 * with AVX2 checks all three. */
static int kernels[3];
static size_t n_kernels;

static int setup_kernels(void **state)
{
	(void)state;
	n_kernels = 0;
	const int all[] = { CSUM_SCALAR, CSUM_SSE2, CSUM_AVX2 };
	for (size_t i = 0; i < 3; i++)
		if (csum_set_kernel(all[i]) == 0)
			kernels[n_kernels++] = all[i];
	return csum_set_kernel(CSUM_AUTO);
}

static int teardown_kernels(void **state)
{
	(void)state;
	return csum_set_kernel(CSUM_AUTO);
}

/* Incremental reference: the unfolded sum of the first n bytes, extended
 * by one byte (at index n) in O(1). */
static uint64_t ref_extend(uint64_t s, const uint8_t *p, size_t n)
{
	return s + (n & 1 ? p[n] : (uint32_t)p[n] << 8);
}

static uint16_t ref_fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Every length 0..2000 at every source alignment 0..63, with every kernel,
 * for csum_partial and for csum_copy (into a destination at another
 * alignment, with guard bytes around it that must stay untouched). */
static void test_kernels_every_length_and_alignment(void **state)
{
	(void)state;
	enum { MAX = 2000, ALIGN = 64, GUARD = 64 };
	uint8_t *src = malloc(MAX + ALIGN);
	uint8_t *dst = malloc(MAX + ALIGN + 2 * GUARD);
	assert_non_null(src);
	assert_non_null(dst);
	for (size_t i = 0; i < MAX + ALIGN; i++)
		src[i] = (uint8_t)rnd();
	assert_true(n_kernels >= 1);
	for (size_t k = 0; k < n_kernels; k++) {
		assert_int_equal(csum_set_kernel(kernels[k]), 0);
		for (size_t al = 0; al < ALIGN; al++) {
			const uint8_t *p = src + al;
			size_t dal = GUARD + (al * 7 + 3) % ALIGN; /* another alignment */
			uint64_t ref = 0;
			for (size_t n = 0; n <= MAX; n++) {
				uint16_t want = ref_fold(ref);
				assert_int_equal(fold_only(csum_partial(p, n, 0)), want);
				memset(dst, 0xa5, MAX + ALIGN + 2 * GUARD);
				assert_int_equal(fold_only(csum_copy(dst + dal, p, n, 0)), want);
				assert_memory_equal(dst + dal, p, n);
				assert_int_equal(dst[dal - 1], 0xa5);
				assert_int_equal(dst[dal + n], 0xa5);
				if (n < MAX)
					ref = ref_extend(ref, p, n);
			}
		}
	}
	csum_set_kernel(CSUM_AUTO);
	free(src);
	free(dst);
}

/* Buffers long enough for several blocks of the vector loops, filled with
 * the words that push a lane furthest (0x0000 is -32768 after the bias,
 * 0xffff is +32767): a block too long for 32-bit lanes would overflow. */
static void test_kernels_long_extremes(void **state)
{
	(void)state;
	enum { N = 4 * 1024 * 1024 + 5 };
	uint8_t *b = malloc(N);
	uint8_t *d = malloc(N);
	assert_non_null(b);
	assert_non_null(d);
	const int fills[] = { 0x00, 0xff, 0x80, 0x7f, -1 };
	for (size_t f = 0; f < sizeof fills / sizeof fills[0]; f++) {
		if (fills[f] >= 0)
			memset(b, fills[f], N);
		else
			for (size_t i = 0; i < N; i++)
				b[i] = (uint8_t)rnd();
		uint16_t want = ref_sum(b, N);
		for (size_t k = 0; k < n_kernels; k++) {
			assert_int_equal(csum_set_kernel(kernels[k]), 0);
			assert_int_equal(fold_only(csum_partial(b, N, 0)), want);
			assert_int_equal(fold_only(csum_partial(b + 1, N - 1, 0)),
					 ref_sum(b + 1, N - 1));
			assert_int_equal(fold_only(csum_copy(d, b, N, 0)), want);
			assert_memory_equal(d, b, N);
		}
	}
	csum_set_kernel(CSUM_AUTO);
	free(b);
	free(d);
}

/* A buffer summed in two pieces split anywhere (odd splits too), each
 * piece summed as if from an even offset and the second shifted by
 * csum_block_add: equal to the sum in one piece. */
static void test_odd_chaining(void **state)
{
	(void)state;
	enum { N = 600 };
	uint8_t b[N], d[N];
	for (size_t i = 0; i < N; i++)
		b[i] = (uint8_t)rnd();
	for (size_t k = 0; k < n_kernels; k++) {
		assert_int_equal(csum_set_kernel(kernels[k]), 0);
		for (size_t n = 0; n <= N; n += (n < 40 ? 1 : 37)) {
			uint16_t want = ref_sum(b, n);
			for (size_t cut = 0; cut <= n; cut++) {
				uint32_t s = csum_partial(b, cut, 0x1234);
				s = csum_block_add(s, csum_partial(b + cut, n - cut, 0), cut);
				assert_int_equal(fold_only(s), fold_only(csum_add(0x1234, want)));
				memset(d, 0, sizeof d);
				s = csum_copy(d, b, cut, 0);
				s = csum_block_add(s, csum_copy(d + cut, b + cut, n - cut, 0), cut);
				assert_int_equal(fold_only(s), want);
				assert_memory_equal(d, b, n);
			}
		}
		/* Three pieces, both cuts odd. */
		uint32_t s = csum_partial(b, 101, 0);
		s = csum_block_add(s, csum_partial(b + 101, 200, 0), 101);
		s = csum_block_add(s, csum_partial(b + 301, 299, 0), 301);
		assert_int_equal(fold_only(s), ref_sum(b, 600));
	}
	csum_set_kernel(CSUM_AUTO);
	/* The shift of a sum is the byte swap of its folded value. */
	assert_int_equal(fold_only(csum_shift(0x1234, 1)), 0x3412);
	assert_int_equal(csum_shift(0x1234, 2), 0x1234);
	assert_int_equal(csum_add(0xffffffffu, 1), 1);
	/* A kernel this build does not know is refused. */
	assert_int_equal(csum_set_kernel(99), -1);
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
		cmocka_unit_test(test_kernels_every_length_and_alignment),
		cmocka_unit_test(test_kernels_long_extremes),
		cmocka_unit_test(test_odd_chaining),
		cmocka_unit_test(test_pseudo),
		cmocka_unit_test(test_rfc1624_example),
		cmocka_unit_test(test_incremental_random),
	};
	return cmocka_run_group_tests(tests, setup_kernels, teardown_kernels);
}
