/*
 * IPv4 fragment reassembly: orders of arrival, duplicates, overlaps, bad
 * lengths, the memory and slot bounds, and the timeout — each checked
 * against the counters it must move.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ip/ip.h"

#define SEC 1000000000ull

static uint8_t data[65536];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8));
}

static ipv4_hdr hdr(uint16_t id, uint32_t off, bool more)
{
	ipv4_hdr h = { .ihl = 20, .ttl = 64, .proto = IP_PROTO_TCP, .id = id,
		       .src = 0xc6120001, .dst = 0xc6120002 };
	h.frag = (uint16_t)(off / 8) | (more ? IPV4_MF : 0);
	return h;
}

/* Feeds bytes [off, off+len) of `data` as a fragment of datagram `id`. */
static long feed(ip_reasm *r, uint64_t now, uint16_t id, uint32_t off, uint32_t len,
		 bool more, const uint8_t **out, hsk_counters *c)
{
	ipv4_hdr h = hdr(id, off, more);

	return reasm_input(r, now, &h, data + off, len, out, c);
}

static void test_in_order(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = reasm_new(1 << 20, 30 * SEC);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	assert_int_equal(feed(r, 0, 1, 0, 1480, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 1, 1480, 1480, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 1, 2960, 1000, false, &out, &c), 3960);
	assert_memory_equal(out, data, 3960);
	assert_int_equal(c.v[CNT_ReasmReqds], 3);
	assert_int_equal(c.v[CNT_ReasmOKs], 1);
	assert_int_equal(c.v[CNT_ReasmFails], 0);
	assert_int_equal(reasm_next_deadline(r), UINT64_MAX);
	reasm_free(r);
}

static void test_reverse_and_interleaved(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = reasm_new(1 << 20, 30 * SEC);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	/* Two datagrams interleaved, one backwards, with an odd last length. */
	assert_int_equal(feed(r, 0, 7, 16, 5, false, &out, &c), 0);
	assert_int_equal(feed(r, 0, 8, 0, 8, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 7, 8, 8, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 8, 8, 3, false, &out, &c), 11);
	assert_memory_equal(out, data, 11);
	assert_int_equal(feed(r, 0, 7, 0, 8, true, &out, &c), 21);
	assert_memory_equal(out, data, 21);
	assert_int_equal(c.v[CNT_ReasmOKs], 2);
	reasm_free(r);
}

static void test_largest(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = reasm_new(1 << 20, 30 * SEC);
	const uint8_t *out = NULL;
	uint32_t off = 0, max = 65535 - 20;
	long n = 0;
	(void)state;

	fill();
	while (off < max) {
		uint32_t len = max - off > 1480 ? 1480 : max - off;
		n = feed(r, 0, 9, off, len, off + len < max, &out, &c);
		off += len;
	}
	assert_int_equal(n, max);
	assert_memory_equal(out, data, max);
	/* One byte past the largest datagram is refused. */
	assert_true(feed(r, 0, 10, 65528 - 16, 16, false, &out, &c) < 0);
	reasm_free(r);
}

static void test_duplicate_ignored(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = reasm_new(1 << 20, 30 * SEC);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	assert_int_equal(feed(r, 0, 2, 0, 16, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 2, 0, 16, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 2, 16, 4, false, &out, &c), 20);
	assert_int_equal(c.v[CNT_ReasmFails], 0);
	reasm_free(r);
}

static void test_overlap_drops_datagram(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = reasm_new(1 << 20, 30 * SEC);
	const uint8_t *out = NULL;
	ipv4_hdr h = hdr(3, 8, true);
	uint8_t other[16];
	(void)state;

	fill();
	assert_int_equal(feed(r, 0, 3, 0, 16, true, &out, &c), 0);
	/* Partial overlap: the whole datagram goes. */
	assert_true(feed(r, 0, 3, 8, 16, true, &out, &c) < 0);
	assert_int_equal(c.v[CNT_ReasmFails], 1);
	assert_int_equal(reasm_next_deadline(r), UINT64_MAX);
	/* Same range, different bytes: also an overlap. */
	assert_int_equal(feed(r, 0, 4, 0, 16, true, &out, &c), 0);
	memset(other, 0xee, sizeof(other));
	h = hdr(4, 0, true);
	assert_true(reasm_input(r, 0, &h, other, 16, &out, &c) < 0);
	assert_int_equal(c.v[CNT_ReasmFails], 2);
	assert_int_equal(c.v[CNT_FragmentsDropped], 2);
	reasm_free(r);
}

static void test_bad_lengths(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = reasm_new(1 << 20, 30 * SEC);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	/* Not a multiple of 8 with MF set; empty fragment. */
	assert_true(feed(r, 0, 5, 0, 12, true, &out, &c) < 0);
	assert_true(feed(r, 0, 5, 0, 0, true, &out, &c) < 0);
	/* Data beyond a known end, and two different ends. */
	assert_int_equal(feed(r, 0, 6, 16, 8, false, &out, &c), 0);
	assert_true(feed(r, 0, 6, 24, 8, true, &out, &c) < 0);
	assert_int_equal(feed(r, 0, 6, 16, 8, false, &out, &c), 0);
	assert_true(feed(r, 0, 6, 32, 8, false, &out, &c) < 0);
	/* A last fragment ending inside a block that an earlier fragment
	 * filled past that end. */
	assert_int_equal(feed(r, 0, 12, 16, 8, true, &out, &c), 0);
	assert_true(feed(r, 0, 12, 16, 5, false, &out, &c) < 0);
	/* A last fragment below data already held. */
	assert_int_equal(feed(r, 0, 11, 64, 8, true, &out, &c), 0);
	assert_true(feed(r, 0, 11, 0, 8, false, &out, &c) < 0);
	assert_int_equal(c.v[CNT_FragmentsDropped], 6);
	assert_int_equal(c.v[CNT_ReasmOKs], 0);
	reasm_free(r);
}

static void test_timeout(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = reasm_new(1 << 20, 30 * SEC);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	assert_int_equal(feed(r, 5 * SEC, 1, 0, 8, true, &out, &c), 0);
	assert_int_equal(feed(r, 6 * SEC, 2, 0, 8, true, &out, &c), 0);
	assert_int_equal(reasm_next_deadline(r), 35 * SEC);
	reasm_expire(r, 35 * SEC - 1, &c);
	assert_int_equal(c.v[CNT_ReasmTimeout], 0);
	reasm_expire(r, 35 * SEC, &c);
	assert_int_equal(c.v[CNT_ReasmTimeout], 1);
	assert_int_equal(reasm_next_deadline(r), 36 * SEC);
	/* The expired datagram starts over: its old fragment is gone. */
	assert_int_equal(feed(r, 35 * SEC, 1, 8, 8, false, &out, &c), 0);
	assert_int_equal(feed(r, 35 * SEC, 1, 0, 8, true, &out, &c), 16);
	reasm_expire(r, 100 * SEC, &c);
	assert_int_equal(c.v[CNT_ReasmTimeout], 2);
	assert_int_equal(c.v[CNT_ReasmFails], 2);
	reasm_free(r);
}

static void test_memory_bound(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = reasm_new(8192, 30 * SEC);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	/* 4 KiB datagrams in progress fit twice, not three times. */
	assert_int_equal(feed(r, 0, 1, 2048, 2040, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 2, 2048, 2040, true, &out, &c), 0);
	assert_true(feed(r, 0, 3, 2048, 2040, true, &out, &c) < 0);
	assert_int_equal(c.v[CNT_ReasmFails], 1);
	/* Work in progress is not evicted: datagram 1 still completes ... */
	assert_int_equal(feed(r, 0, 1, 0, 2048, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 1, 4088, 8, false, &out, &c), 4096);
	assert_memory_equal(out, data, 4096);
	/* ... but datagram 2 may not grow past the limit. */
	assert_int_equal(feed(r, 0, 4, 0, 2048, true, &out, &c), 0);
	assert_true(feed(r, 0, 2, 4088, 16, false, &out, &c) < 0);
	assert_int_equal(c.v[CNT_ReasmFails], 2);
	reasm_free(r);
}

static void test_slot_bound(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = reasm_new(1 << 24, 30 * SEC);
	const uint8_t *out = NULL;
	int refused = 0;
	(void)state;

	fill();
	for (int id = 0; id < 1000; id++)
		refused += feed(r, 0, (uint16_t)id, 0, 8, true, &out, &c) < 0;
	assert_true(refused > 0 && refused < 1000);
	assert_int_equal(c.v[CNT_FragmentsDropped], (uint64_t)refused);
	reasm_expire(r, 30 * SEC, &c);
	assert_int_equal(c.v[CNT_ReasmTimeout], (uint64_t)(1000 - refused));
	reasm_free(r);
}

/* Random traffic for eight datagram ids: mostly each id's fragments in
 * order (1480 bytes, a random total), mixed with random junk fragments
 * (any offset, length and flags) that may destroy the datagram they hit.
 * Nothing crashes (ASan), every completed datagram holds exactly the bytes
 * fed, completions happen, and the timeout clears whatever is left. */
static void test_random_fragments(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = reasm_new(1 << 20, 30 * SEC);
	const uint8_t *out = NULL;
	uint32_t cursor[8] = { 0 }, total[8];
	uint64_t x = 12345, now = 0;
	(void)state;

	fill();
	for (int k = 0; k < 8; k++)
		total[k] = 1481 + (uint32_t)k * 3001;
	for (int i = 0; i < 100000; i++) {
		uint32_t off, len;
		bool more, junk;
		uint16_t id;
		long n;

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		id = (uint16_t)(x >> 44 & 7);
		junk = (x >> 50 & 15) == 0;
		if (junk) {
			off = (uint32_t)(x % 8192) * 8;
			len = (uint32_t)(x >> 20) % 3000;
			more = x >> 40 & 1;
			if (more)
				len &= ~7u;
			if (off + len > sizeof(data))
				continue;
		} else {
			off = cursor[id];
			len = total[id] - off < 1480 ? total[id] - off : 1480;
			more = off + len < total[id];
		}
		now += x >> 60;
		n = feed(r, now, id, off, len, more, &out, &c);
		if (n > 0) {
			assert_memory_equal(out, data, (size_t)n);
			cursor[id] = 0;
			total[id] = 1 + (uint32_t)(x >> 8) % 60000;
		} else if (n < 0) {
			cursor[id] = 0;     /* that datagram is gone: start over */
		} else if (!junk) {
			cursor[id] += len;
		}
		if (i % 5000 == 0)
			reasm_expire(r, now, &c);
	}
	reasm_expire(r, now + 31 * SEC, &c);
	assert_int_equal(reasm_next_deadline(r), UINT64_MAX);
	assert_true(c.v[CNT_ReasmOKs] > 100);
	print_message("random fragments: %llu datagrams completed, %llu failed\n",
		      (unsigned long long)c.v[CNT_ReasmOKs], (unsigned long long)c.v[CNT_ReasmFails]);
	reasm_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_reverse_and_interleaved),
		cmocka_unit_test(test_largest),
		cmocka_unit_test(test_duplicate_ignored),
		cmocka_unit_test(test_overlap_drops_datagram),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_memory_bound),
		cmocka_unit_test(test_slot_bound),
		cmocka_unit_test(test_random_fragments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
