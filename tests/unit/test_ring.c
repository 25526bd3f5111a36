/* Unit tests for src/core/ring.c: every head position and length of small
 * rings, and random operations checked against a plain array model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"
#include "core/ring.h"
#include "handshake.h"
#include "wire/wire.h"

static void test_init_rounding(void **state)
{
	(void)state;
	hsk_ring r;
	const uint32_t in[] = { 0, 1, 2, 3, 5, 8, 1000, 65536, 65537 };
	const uint32_t out[] = { 1, 1, 2, 4, 8, 8, 1024, 65536, 131072 };
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		assert_int_equal(ring_init(&r, in[i]), 0);
		assert_int_equal(r.cap, out[i]);
		assert_int_equal(ring_len(&r), 0);
		assert_int_equal(ring_space(&r), out[i]);
		ring_destroy(&r);
		assert_null(r.buf);
	}
	assert_int_equal(ring_init(&r, (1u << 31) + 1), -HSK_ENOMEM);
}

static void test_zeroed_ring(void **state)
{
	(void)state;
	hsk_ring r;
	memset(&r, 0, sizeof r);
	uint8_t b[4] = { 1, 2, 3, 4 };
	const uint8_t *p = b;
	assert_int_equal(ring_write(&r, b, 4), 0);
	assert_int_equal(ring_read(&r, b, 4), 0);
	assert_int_equal(ring_peek(&r, 0, b, 4), 0);
	assert_int_equal(ring_write_at(&r, 0, b, 4), 0);
	ring_commit(&r, 4);
	assert_int_equal(ring_len(&r), 0);
	assert_int_equal(ring_span(&r, 0, &p), 0);
	assert_null(p);
	ring_destroy(&r);
}

/* Puts the head at h with l bytes held: byte i (from the head) = base + i. */
static void ring_setup(hsk_ring *r, uint32_t h, uint32_t l, uint8_t base)
{
	uint8_t tmp[64];
	r->head = 0;
	r->len = 0;
	memset(tmp, 0xee, sizeof tmp);
	assert_int_equal(ring_write(r, tmp, h), h);
	assert_int_equal(ring_read(r, NULL, h), h);
	for (uint32_t i = 0; i < l; i++)
		tmp[i] = (uint8_t)(base + i);
	assert_int_equal(ring_write(r, tmp, l), l);
	assert_int_equal(r->head, h & (r->cap - 1));
}

/* For every capacity up to 32, head position and length: peek, span and
 * read see exactly the bytes held, in order, across the wrap. */
static void test_exhaustive_small(void **state)
{
	(void)state;
	for (uint32_t cap = 1; cap <= 32; cap <<= 1) {
		hsk_ring r;
		assert_int_equal(ring_init(&r, cap), 0);
		for (uint32_t h = 0; h < cap; h++) {
			for (uint32_t l = 0; l <= cap; l++) {
				ring_setup(&r, h, l, (uint8_t)(h * 7));
				assert_int_equal(ring_space(&r), cap - l);
				uint8_t out[64];
				for (uint32_t off = 0; off <= cap; off++) {
					for (uint32_t n = 0; n <= cap + 1; n++) {
						memset(out, 0, sizeof out);
						uint32_t got = ring_peek(&r, off, out, n);
						uint32_t want = off >= l ? 0 : (n < l - off ? n : l - off);
						assert_int_equal(got, want);
						for (uint32_t i = 0; i < got; i++)
							assert_int_equal(out[i], (uint8_t)(h * 7 + off + i));
					}
					/* spans: a run up to the wrap, then the rest */
					const uint8_t *p;
					uint32_t s = ring_span(&r, off, &p);
					if (off >= l) {
						assert_int_equal(s, 0);
						continue;
					}
					uint32_t pos = (h + off) % cap;
					uint32_t want = l - off < cap - pos ? l - off : cap - pos;
					assert_int_equal(s, want);
					assert_ptr_equal(p, r.buf + pos);
					for (uint32_t i = 0; i < s; i++)
						assert_int_equal(p[i], (uint8_t)(h * 7 + off + i));
				}
				/* a full write fills exactly the space */
				uint8_t fill[64];
				memset(fill, 0x5a, sizeof fill);
				assert_int_equal(ring_write(&r, fill, cap + 3), cap - l);
				assert_int_equal(ring_len(&r), cap);
				assert_int_equal(ring_write(&r, fill, 1), 0);
				/* read it all back */
				uint8_t all[64];
				assert_int_equal(ring_read(&r, all, cap + 5), cap);
				for (uint32_t i = 0; i < cap; i++)
					assert_int_equal(all[i], i < l ? (uint8_t)(h * 7 + i) : 0x5a);
				assert_int_equal(ring_len(&r), 0);
			}
		}
		ring_destroy(&r);
	}
}

/* Out-of-order placement: fill a hole later, then commit the lot. */
static void test_reassembly(void **state)
{
	(void)state;
	hsk_ring r;
	assert_int_equal(ring_init(&r, 16), 0);
	ring_setup(&r, 11, 2, 100);              /* head 11, len 2: 100 101 */
	const uint8_t late[] = { 106, 107, 108, 109 };
	assert_int_equal(ring_write_at(&r, 6, late, 4), 4); /* wraps */
	assert_int_equal(ring_len(&r), 2);      /* not data yet */
	uint8_t tmp[16];
	assert_int_equal(ring_peek(&r, 2, tmp, 8), 0);
	const uint8_t hole[] = { 102, 103, 104, 105 };
	assert_int_equal(ring_write_at(&r, 2, hole, 4), 4);
	ring_commit(&r, 8);
	assert_int_equal(ring_len(&r), 10);
	assert_int_equal(ring_read(&r, tmp, 16), 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(tmp[i], 100 + i);
	/* bounded by cap: nothing at or past cap, a clipped run before it */
	assert_int_equal(ring_write_at(&r, 16, late, 4), 0);
	assert_int_equal(ring_write_at(&r, 14, late, 4), 2);
	ring_commit(&r, 100);                    /* clamped */
	assert_int_equal(ring_len(&r), 16);
	ring_destroy(&r);
}

/* ---- random operations against a model ---- */

/* m[i] is the byte at offset i from the head, or -1 when unknown (storage
 * that was never written at that position since it was last read). */
typedef struct model {
	int m[64];
	uint32_t cap, len;
} model;

static void model_read(model *md, uint32_t n)
{
	memmove(md->m, md->m + n, (md->cap - n) * sizeof md->m[0]);
	for (uint32_t i = md->cap - n; i < md->cap; i++)
		md->m[i] = -1;
	md->len -= n;
}

static void random_ops(uint32_t cap, uint64_t seed, int ops)
{
	hsk_rng g;
	rng_seed(&g, seed);
	hsk_ring r;
	assert_int_equal(ring_init(&r, cap), 0);
	model md = { .cap = cap };
	for (uint32_t i = 0; i < 64; i++)
		md.m[i] = -1;
	uint8_t src[80], dst[80];
	uint8_t next = 1;
	for (int op = 0; op < ops; op++) {
		uint32_t n = (uint32_t)rng_below(&g, cap + 3);
		uint32_t off = (uint32_t)rng_below(&g, cap + 2);
		for (uint32_t i = 0; i < sizeof src; i++)
			src[i] = next++;
		switch (rng_below(&g, 6)) {
		case 0: { /* write */
			uint32_t want = n < cap - md.len ? n : cap - md.len;
			assert_int_equal(ring_write(&r, src, n), want);
			for (uint32_t i = 0; i < want; i++)
				md.m[md.len + i] = src[i];
			md.len += want;
			break;
		}
		case 1: { /* read, into a buffer or discarding */
			uint32_t want = n < md.len ? n : md.len;
			bool discard = rng_below(&g, 4) == 0;
			assert_int_equal(ring_read(&r, discard ? NULL : dst, n), want);
			for (uint32_t i = 0; !discard && i < want; i++)
				if (md.m[i] >= 0)
					assert_int_equal(dst[i], md.m[i]);
			model_read(&md, want);
			break;
		}
		case 2: { /* peek */
			uint32_t want = off >= md.len ? 0 : (n < md.len - off ? n : md.len - off);
			assert_int_equal(ring_peek(&r, off, dst, n), want);
			for (uint32_t i = 0; i < want; i++)
				if (md.m[off + i] >= 0)
					assert_int_equal(dst[i], md.m[off + i]);
			break;
		}
		case 3: { /* write_at, usually past len */
			if (rng_below(&g, 4))
				off = md.len + (uint32_t)rng_below(&g, cap - md.len + 2);
			uint32_t want = off >= cap ? 0 : (n < cap - off ? n : cap - off);
			assert_int_equal(ring_write_at(&r, off, src, n), want);
			for (uint32_t i = 0; i < want; i++)
				md.m[off + i] = src[i];
			break;
		}
		case 4: { /* commit */
			uint32_t want = n < cap - md.len ? n : cap - md.len;
			ring_commit(&r, n);
			md.len += want;
			break;
		}
		case 5: { /* span */
			const uint8_t *p;
			uint32_t s = ring_span(&r, off, &p);
			if (off >= md.len) {
				assert_int_equal(s, 0);
				assert_null(p);
				break;
			}
			uint32_t pos = (r.head + off) & (cap - 1);
			uint32_t want = md.len - off < cap - pos ? md.len - off : cap - pos;
			assert_int_equal(s, want);
			assert_true(s > 0);
			for (uint32_t i = 0; i < s; i++)
				if (md.m[off + i] >= 0)
					assert_int_equal(p[i], md.m[off + i]);
			break;
		}
		}
		assert_int_equal(ring_len(&r), md.len);
		assert_int_equal(ring_space(&r), cap - md.len);
		assert_true(r.head < cap);
	}
	ring_destroy(&r);
}

/* The textbook RFC 1071 sum of big-endian words, folded. */
static uint16_t ref_sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	for (size_t i = 0; i < len; i++)
		s += i & 1 ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t folded(uint32_t s)
{
	return (uint16_t)~csum_fold(s);
}

/* The checksumming copies: for rings of 16 and 256 bytes (the larger one
 * takes the vector kernels), every head position, every offset and length
 * (odd pieces on both sides of the wrap): the same bytes as ring_peek and
 * ring_write_at, and the reference sum of the bytes copied, added to a
 * starting sum. */
static void test_csum_copies(void **state)
{
	(void)state;
	const uint32_t caps[] = { 16, 256 };
	uint8_t src[600], out[600], want[600];
	for (size_t i = 0; i < sizeof src; i++)
		src[i] = (uint8_t)(i * 131 + 7);
	for (size_t c = 0; c < 2; c++) {
		uint32_t cap = caps[c];
		uint32_t step = cap > 16 ? 13 : 1;
		hsk_ring r, m;
		assert_int_equal(ring_init(&r, cap), 0);
		assert_int_equal(ring_init(&m, cap), 0);
		for (uint32_t h = 0; h < cap; h += (cap > 16 ? 7 : 1)) {
			for (uint32_t off = 0; off <= cap; off += step) {
				for (uint32_t n = 0; n <= cap + 2; n += (n < 40 ? 1 : step)) {
					/* write: r with the sum, m (the model) without */
					r.head = m.head = h;
					r.len = m.len = 0;
					memset(r.buf, 0x11, cap);
					memset(m.buf, 0x11, cap);
					uint32_t sum = 0x2345;
					uint32_t got = ring_write_at_csum(&r, off, src, n, &sum);
					uint32_t exp = ring_write_at(&m, off, src, n);
					assert_int_equal(got, exp);
					assert_memory_equal(r.buf, m.buf, cap);
					assert_int_equal(ring_len(&r), 0);
					assert_int_equal(folded(sum),
							 folded(csum_add(0x2345, ref_sum(src, got))));
					/* peek: commit everything, read back at off */
					ring_commit(&r, cap);
					ring_commit(&m, cap);
					memset(out, 0, sizeof out);
					memset(want, 0, sizeof want);
					sum = 0;
					got = ring_peek_csum(&r, off, out, n, &sum);
					exp = ring_peek(&m, off, want, n);
					assert_int_equal(got, exp);
					assert_memory_equal(out, want, sizeof out);
					assert_int_equal(folded(sum), ref_sum(want, got));
				}
			}
		}
		ring_destroy(&r);
		ring_destroy(&m);
	}
}

static void test_random_small(void **state)
{
	(void)state;
	for (uint32_t cap = 1; cap <= 64; cap <<= 1)
		random_ops(cap, 100 + cap, 50000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rounding),
		cmocka_unit_test(test_zeroed_ring),
		cmocka_unit_test(test_exhaustive_small),
		cmocka_unit_test(test_reassembly),
		cmocka_unit_test(test_random_small),
		cmocka_unit_test(test_csum_copies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
