/*
 * IPv4 fragment reassembly: orders of arrival, duplicates, overlaps, bad,
 * tiny and endless fragments, the memory bound with eviction of the oldest,
 * the per-source share, the fragment count and the timeout — each checked
 * against the counters it must move — and, through a whole stack, the
 * lockout that spoofed fragments caused, the time exceeded and its
 * silences, and reassembly turned off (ipfrag_high_thresh 0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handshake.h"
#include "ip/ip.h"
#include "reasm_expire.h"
#include "stack/stack.h"

#define SEC 1000000000ull

static uint8_t data[65536];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8));
}

/* ICMP unless said otherwise. */
static ipv4_hdr hdr_from(uint32_t src, uint8_t proto, uint16_t id, uint32_t off, bool more)
{
	ipv4_hdr h = { .ihl = 20, .ttl = 64, .proto = proto, .id = id,
		       .src = src, .dst = 0xc6120002 };
	h.frag = (uint16_t)(off / 8) | (more ? IPV4_MF : 0);
	return h;
}

static ipv4_hdr hdr(uint16_t id, uint32_t off, bool more)
{
	return hdr_from(0xc6120001, IP_PROTO_ICMP, id, off, more);
}

/* Feeds bytes [off, off+len) of `data` as a fragment of datagram `id`. */
static long feed(ip_reasm *r, uint64_t now, uint16_t id, uint32_t off, uint32_t len,
		 bool more, const uint8_t **out, hsk_counters *c)
{
	ipv4_hdr h = hdr(id, off, more);

	return reasm_input(r, now, &h, data + off, len, out, c);
}

/* The same from another source. */
static long feed_from(ip_reasm *r, uint64_t now, uint32_t src, uint16_t id, uint32_t off,
		      uint32_t len, bool more, const uint8_t **out, hsk_counters *c)
{
	ipv4_hdr h = hdr_from(src, IP_PROTO_ICMP, id, off, more);

	return reasm_input(r, now, &h, data + off, len, out, c);
}

/* Limits: high, low, per-source share, 30 s. */
static ip_reasm *mk3(size_t high, size_t low, size_t src_max)
{
	reasm_limits lim = { .high_thresh = high, .low_thresh = low,
			     .src_max = src_max, .timeout_ns = 30 * SEC };
	ip_reasm *r = reasm_new(&lim, 0x1234, 0x5678);

	assert_non_null(r);
	return r;
}

static ip_reasm *mk(size_t high)
{
	return mk3(high, high, high);
}

static size_t mem_of(const ip_reasm *r)
{
	size_t m;
	unsigned n;

	reasm_usage(r, &m, &n);
	return m;
}

static unsigned count_of(const ip_reasm *r)
{
	size_t m;
	unsigned n;

	reasm_usage(r, &m, &n);
	return n;
}

static void test_in_order(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk(1 << 20);
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
	ip_reasm *r = mk(1 << 20);
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
	ip_reasm *r = mk(1 << 20);
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
	/* One byte past the largest datagram (65535 - IHL) is refused; a
	 * last fragment ending exactly there is held. */
	assert_true(feed(r, 0, 10, 65512, 4, false, &out, &c) < 0);
	assert_int_equal(feed(r, 0, 11, 65512, 3, false, &out, &c), 0);
	reasm_free(r);
}

static void test_duplicate_ignored(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk(1 << 20);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	assert_int_equal(feed(r, 0, 2, 0, 16, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 2, 0, 16, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 2, 16, 4, false, &out, &c), 20);
	assert_int_equal(c.v[CNT_ReasmFails], 0);
	reasm_free(r);
}

/* A fragment with the range and bytes of one held but another word on
 * the end (MF) is no duplicate: it contradicts the datagram's length
 * (RFC 791: the last fragment fixes it), as an overlap does, and the
 * whole datagram goes. Were it ignored, [0,16) said first to be followed
 * and then to be all would let [16,24) make a 24-byte datagram that a
 * filter in front took for 16 bytes. */
static void test_duplicate_with_other_end(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk(1 << 20);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	assert_int_equal(feed(r, 0, 20, 0, 16, true, &out, &c), 0);
	assert_true(feed(r, 0, 20, 0, 16, false, &out, &c) < 0);
	assert_int_equal(feed(r, 0, 20, 16, 8, false, &out, &c), 0);
	/* The other way: the last fragment held, the same bytes with MF. */
	assert_int_equal(feed(r, 0, 21, 16, 8, false, &out, &c), 0);
	assert_true(feed(r, 0, 21, 16, 8, true, &out, &c) < 0);
	assert_int_equal(feed(r, 0, 21, 0, 16, true, &out, &c), 0);
	assert_int_equal(c.v[CNT_ReasmOKs], 0);
	assert_int_equal(c.v[CNT_ReasmOverlaps], 2);
	assert_int_equal(c.v[CNT_ReasmFails], 2);
	/* True duplicates of both kinds are still ignored. */
	assert_int_equal(feed(r, 0, 22, 16, 8, false, &out, &c), 0);
	assert_int_equal(feed(r, 0, 22, 16, 8, false, &out, &c), 0);
	assert_int_equal(feed(r, 0, 22, 0, 16, true, &out, &c), 24);
	assert_memory_equal(out, data, 24);
	assert_int_equal(c.v[CNT_ReasmFails], 2);
	reasm_free(r);
}

static void test_overlap_drops_datagram(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk(1 << 20);
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
	assert_int_equal(c.v[CNT_ReasmOverlaps], 2);
	reasm_free(r);
}

/* RFC 1858 §3.2: a fragment at offset 8 rewrites the TCP flags of a header
 * a filter in front has already passed. It overlaps the first fragment, so
 * the datagram goes and the rewritten header is never delivered. */
static void test_overlap_rewrites_tcp_flags(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk(1 << 20);
	const uint8_t *out = NULL;
	uint8_t evil[16];
	ipv4_hdr h;
	(void)state;

	fill();
	memcpy(evil, data + 8, sizeof(evil));
	evil[13 - 8] = HSK_TH_RST | HSK_TH_ACK;
	h = hdr_from(0xc6120001, IP_PROTO_TCP, 9, 0, true);
	assert_int_equal(reasm_input(r, 0, &h, data, 24, &out, &c), 0);
	h = hdr_from(0xc6120001, IP_PROTO_TCP, 9, 8, true);
	assert_true(reasm_input(r, 0, &h, evil, 16, &out, &c) < 0);
	assert_int_equal(c.v[CNT_ReasmOverlaps], 1);
	/* The rest starts a datagram of its own that never completes. */
	h = hdr_from(0xc6120001, IP_PROTO_TCP, 9, 24, false);
	assert_int_equal(reasm_input(r, 0, &h, data + 24, 40, &out, &c), 0);
	assert_int_equal(c.v[CNT_ReasmOKs], 0);
	reasm_free(r);
}

static void test_bad_lengths(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk(1 << 20);
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
	ip_reasm *r = mk(1 << 20);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	assert_int_equal(feed(r, 5 * SEC, 1, 0, 8, true, &out, &c), 0);
	assert_int_equal(feed(r, 6 * SEC, 2, 0, 8, true, &out, &c), 0);
	assert_int_equal(reasm_next_deadline(r), 35 * SEC);
	expire(r, 35 * SEC - 1, &c);
	assert_int_equal(c.v[CNT_ReasmTimeout], 0);
	expire(r, 35 * SEC, &c);
	assert_int_equal(c.v[CNT_ReasmTimeout], 1);
	assert_int_equal(reasm_next_deadline(r), 36 * SEC);
	/* The expired datagram starts over: its old fragment is gone. */
	assert_int_equal(feed(r, 35 * SEC, 1, 8, 8, false, &out, &c), 0);
	assert_int_equal(feed(r, 35 * SEC, 1, 0, 8, true, &out, &c), 16);
	expire(r, 100 * SEC, &c);
	assert_int_equal(c.v[CNT_ReasmTimeout], 2);
	assert_int_equal(c.v[CNT_ReasmFails], 2);
	reasm_free(r);
}

/* A datagram abandoned at its timeout gives back its first fragment as
 * it came, for the ICMP time exceeded (RFC 1122 §3.3.2: "the first
 * fragment header needs to be saved"); one whose first never came, none. */
static void test_timeout_gives_first_fragment(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk(1 << 20);
	const uint8_t *out = NULL, *pl;
	uint8_t q[1280];
	size_t n, pll;
	ipv4_hdr h;
	(void)state;

	fill();
	assert_int_equal(feed(r, 5 * SEC, 1, 0, 24, true, &out, &c), 0);
	assert_int_equal(feed(r, 5 * SEC, 2, 8, 8, true, &out, &c), 0);
	assert_int_equal(feed(r, 6 * SEC, 1, 32, 8, true, &out, &c), 0);
	assert_false(reasm_expire_one(r, 35 * SEC - 1, q, sizeof(q), &n, &c));
	assert_true(reasm_expire_one(r, 35 * SEC, q, sizeof(q), &n, &c));
	assert_int_equal(n, 20 + 24);
	/* A header that parses (checksum right), the fragment's own. */
	assert_int_equal(ipv4_parse(q, n, &h, &pl, &pll), WIRE_OK);
	assert_int_equal(h.src, 0xc6120001);
	assert_int_equal(h.dst, 0xc6120002);
	assert_int_equal(h.id, 1);
	assert_int_equal(h.proto, IP_PROTO_ICMP);
	assert_int_equal(h.ttl, 64);
	assert_int_equal(h.frag, IPV4_MF);
	assert_int_equal(h.total_len, 44);
	assert_int_equal(pll, 24);
	assert_memory_equal(pl, data, 24);
	/* Datagram 2 had no first fragment: abandoned, nothing to quote. */
	assert_true(reasm_expire_one(r, 35 * SEC, q, sizeof(q), &n, &c));
	assert_int_equal(n, 0);
	assert_false(reasm_expire_one(r, 35 * SEC, q, sizeof(q), &n, &c));
	assert_int_equal(c.v[CNT_ReasmTimeout], 2);
	/* Cut to the room given: the header and what fits of the data; no
	 * room for the header, nothing. */
	assert_int_equal(feed(r, 40 * SEC, 3, 0, 200, true, &out, &c), 0);
	assert_true(reasm_expire_one(r, 70 * SEC, q, 28, &n, &c));
	assert_int_equal(n, 28);
	assert_memory_equal(q + 20, data, 8);
	assert_int_equal(feed(r, 80 * SEC, 4, 0, 200, true, &out, &c), 0);
	assert_true(reasm_expire_one(r, 110 * SEC, q, 19, &n, &c));
	assert_int_equal(n, 0);
	assert_int_equal(c.v[CNT_ReasmTimeout], 4);
	assert_int_equal(mem_of(r), 0);
	reasm_free(r);
}

/* What one datagram of one 1000-byte fragment is charged. */
static size_t unit_charge(void)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk(1 << 20);
	const uint8_t *out = NULL;
	size_t m;

	fill();
	assert_int_equal(feed(r, 0, 1, 0, 1000, true, &out, &c), 0);
	m = mem_of(r);
	reasm_free(r);
	assert_true(m > 1000 && m < 2000);
	return m;
}

static void test_eviction_order(void **state)
{
	size_t u = unit_charge();
	hsk_counters c = { 0 };
	ip_reasm *r = mk3(10 * u, 6 * u, 100 * u);
	const uint8_t *out = NULL;
	(void)state;

	/* Ten datagrams from ten sources fill the table to high_thresh. */
	for (uint16_t id = 0; id < 10; id++)
		assert_int_equal(feed_from(r, id, 0x0a000000u + id, id, 0, 1000, true, &out, &c), 0);
	assert_int_equal(mem_of(r), 10 * u);
	assert_int_equal(c.v[CNT_ReasmEvictions], 0);
	/* The eleventh evicts the oldest down to low_thresh: 0..4 go. */
	assert_int_equal(feed_from(r, 10, 0x0a00000au, 10, 0, 1000, true, &out, &c), 0);
	assert_int_equal(c.v[CNT_ReasmEvictions], 5);
	assert_int_equal(c.v[CNT_ReasmFails], 5);
	assert_int_equal(count_of(r), 6);
	assert_int_equal(mem_of(r), 6 * u);
	/* The newest six complete; the evicted ones start over. */
	for (uint16_t id = 0; id < 11; id++) {
		long n = feed_from(r, 20, 0x0a000000u + id, id, 1000, 8, false, &out, &c);
		assert_int_equal(n, id < 5 ? 0 : 1008);
		if (n > 0)
			assert_memory_equal(out, data, 1008);
		assert_true(mem_of(r) <= 10 * u);
	}
	assert_int_equal(c.v[CNT_ReasmOKs], 6);
	assert_int_equal(count_of(r), 5);
	/* A datagram larger than the limits themselves is refused. */
	reasm_free(r);
	r = mk3(u / 2, u / 2, u / 2);
	assert_true(feed(r, 0, 1, 0, 1000, true, &out, &c) < 0);
	assert_int_equal(count_of(r), 0);
	assert_int_equal(mem_of(r), 0);
	reasm_free(r);
}

static void test_source_share(void **state)
{
	size_t u = unit_charge();
	hsk_counters c = { 0 };
	ip_reasm *r = mk3(100 * u, 80 * u, 4 * u);
	const uint32_t A = 0x0a000001u, B = 0x0a000002u;
	const uint8_t *out = NULL;
	(void)state;

	/* B starts a datagram; A then sends 1000 that never complete. */
	assert_int_equal(feed_from(r, 0, B, 7, 0, 1000, true, &out, &c), 0);
	for (uint16_t id = 0; id < 1000; id++) {
		assert_int_equal(feed_from(r, 1, A, id, 0, 1000, true, &out, &c), 0);
		assert_true(mem_of(r) <= 5 * u);
	}
	/* A kept its share (its newest four) and lost only its own. */
	assert_int_equal(c.v[CNT_ReasmSrcEvictions], 1000 - 4);
	assert_int_equal(c.v[CNT_ReasmEvictions], 0);
	assert_int_equal(count_of(r), 5);
	assert_int_equal(feed_from(r, 2, A, 999, 1000, 8, false, &out, &c), 1008);
	assert_int_equal(feed_from(r, 2, A, 0, 1000, 8, false, &out, &c), 0);
	/* B's datagram, older than all of A's, is intact. */
	assert_int_equal(feed_from(r, 2, B, 7, 1000, 8, false, &out, &c), 1008);
	assert_memory_equal(out, data, 1008);
	/* A growing datagram of A's evicts A's others, never itself. */
	reasm_free(r);
	memset(&c, 0, sizeof(c));
	r = mk3(100 * u, 80 * u, 4 * u);
	for (uint16_t id = 0; id < 3; id++)
		assert_int_equal(feed_from(r, 0, A, id, 0, 1000, true, &out, &c), 0);
	for (uint32_t off = 1000; off < 4000; off += 1000)
		assert_int_equal(feed_from(r, 0, A, 2, off, 1000, true, &out, &c), 0);
	assert_int_equal(c.v[CNT_ReasmSrcEvictions], 2);
	assert_int_equal(count_of(r), 1);
	assert_int_equal(feed_from(r, 0, A, 2, 4000, 8, false, &out, &c), 4008);
	assert_memory_equal(out, data, 4008);
	assert_int_equal(mem_of(r), 0);
	reasm_free(r);
}

/* The share's edges: a source's only datagram goes for its new one (and
 * the source with it); a datagram growing past the share on its own is
 * dropped, not kept over it; growing, the oldest of its source evicts a
 * newer one of the same source rather than itself. */
static void test_source_share_edges(void **state)
{
	size_t u = unit_charge();
	hsk_counters c = { 0 };
	ip_reasm *r = mk3(100 * u, 80 * u, u + u / 2);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	assert_int_equal(feed(r, 0, 1, 0, 1000, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 2, 0, 1000, true, &out, &c), 0);
	assert_int_equal(c.v[CNT_ReasmSrcEvictions], 1);
	assert_int_equal(c.v[CNT_ReasmFails], 1);
	assert_int_equal(count_of(r), 1);
	assert_int_equal(mem_of(r), u);
	assert_int_equal(feed(r, 0, 1, 1000, 8, false, &out, &c), 0);   /* 1 is gone */
	reasm_free(r);
	/* 2 alone, over the share by its second fragment: dropped. */
	memset(&c, 0, sizeof(c));
	r = mk3(100 * u, 80 * u, u + u / 2);
	assert_int_equal(feed(r, 0, 2, 0, 1000, true, &out, &c), 0);
	assert_true(feed(r, 0, 2, 1000, 1000, true, &out, &c) < 0);
	assert_int_equal(c.v[CNT_FragmentsDropped], 1);
	assert_int_equal(c.v[CNT_ReasmFails], 1);
	assert_int_equal(c.v[CNT_ReasmSrcEvictions], 0);
	assert_int_equal(count_of(r), 0);
	assert_int_equal(mem_of(r), 0);
	reasm_free(r);
	/* 3, older, grows; 4, newer, goes. */
	memset(&c, 0, sizeof(c));
	r = mk3(100 * u, 80 * u, 2 * u + u / 2);
	assert_int_equal(feed(r, 0, 3, 0, 1000, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 4, 0, 1000, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 3, 1000, 1000, true, &out, &c), 0);
	assert_int_equal(c.v[CNT_ReasmSrcEvictions], 1);
	assert_int_equal(count_of(r), 1);
	assert_int_equal(feed(r, 0, 3, 2000, 8, false, &out, &c), 2008);
	assert_memory_equal(out, data, 2008);
	assert_int_equal(mem_of(r), 0);
	reasm_free(r);
}

/* A new datagram's fragment that is more than low_thresh on its own (a
 * share larger than the bound): the oldest go, and once none is left it
 * is taken if it fits high_thresh, refused if not (high_thresh 0: all). */
static void test_bound_below_a_share(void **state)
{
	size_t u = unit_charge();
	hsk_counters c = { 0 };
	ip_reasm *r = mk3(2 * u, u / 2, 100 * u);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	assert_int_equal(feed_from(r, 0, 0x0a000001u, 1, 0, 1000, true, &out, &c), 0);
	assert_int_equal(feed_from(r, 0, 0x0a000002u, 2, 0, 1008, true, &out, &c), 0);
	assert_int_equal(c.v[CNT_ReasmEvictions], 1);
	assert_int_equal(count_of(r), 1);
	assert_int_equal(feed_from(r, 0, 0x0a000002u, 2, 1008, 8, false, &out, &c), 1016);
	assert_int_equal(mem_of(r), 0);
	reasm_free(r);
	r = mk3(0, 0, 100 * u);
	assert_true(feed(r, 0, 1, 0, 8, true, &out, &c) < 0);
	assert_true(feed(r, 0, 1, 8, 8, false, &out, &c) < 0);
	assert_int_equal(count_of(r), 0);
	assert_int_equal(mem_of(r), 0);
	reasm_free(r);
}

/* The lockout: with the default limits, floods of never-completing tiny
 * fragments from many sources and from one leave room for a legitimate
 * datagram, and memory stays under high_thresh. */
static void test_flood_then_legit(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk3(4u << 20, 3u << 20, 1u << 20);
	const uint8_t *out = NULL;
	uint32_t x = 1;
	(void)state;

	fill();
	/* A legitimate datagram has begun ... */
	assert_int_equal(feed(r, 0, 77, 0, 1480, true, &out, &c), 0);
	/* ... 100,000 spoofed sources, 8 bytes each ... */
	for (uint32_t i = 0; i < 100000; i++) {
		x = x * 1103515245u + 12345u;
		assert_true(feed_from(r, 1, 0xc6130000u + i, (uint16_t)x, 0, 8, true, &out, &c) == 0);
		assert_true(mem_of(r) <= 4u << 20);
	}
	assert_true(c.v[CNT_ReasmEvictions] > 0);
	/* ... and one source with 100,000 ids. */
	for (uint32_t i = 0; i < 100000; i++)
		assert_true(feed_from(r, 2, 0xc6120063u, (uint16_t)i, 0, 8, true, &out, &c) == 0);
	assert_true(c.v[CNT_ReasmSrcEvictions] > 0);
	assert_true(mem_of(r) <= 4u << 20);
	/* A new legitimate datagram completes. */
	assert_int_equal(feed(r, 3, 78, 0, 1480, true, &out, &c), 0);
	assert_int_equal(feed(r, 3, 78, 1480, 1480, true, &out, &c), 0);
	assert_int_equal(feed(r, 3, 78, 2960, 100, false, &out, &c), 3060);
	assert_memory_equal(out, data, 3060);
	/* The timeout still clears everything. */
	expire(r, 60 * SEC, &c);
	assert_int_equal(mem_of(r), 0);
	assert_int_equal(count_of(r), 0);
	reasm_free(r);
}

/* Random fragments from 50 sources against small limits: the memory bound
 * holds after every call. */
static void test_memory_never_exceeded(void **state)
{
	const size_t high = 64 << 10, low = 48 << 10, share = 16 << 10;
	hsk_counters c = { 0 };
	ip_reasm *r = mk3(high, low, share);
	const uint8_t *out = NULL;
	uint64_t x = 777, now = 0;
	(void)state;

	fill();
	for (int i = 0; i < 50000; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		uint32_t src = 0x0a000000u + (uint32_t)(x % 50);
		uint16_t id = (uint16_t)(x >> 8 & 15);
		uint32_t off = (uint32_t)(x >> 16 & 31) * 1480;
		uint32_t len = (x >> 24 & 3) ? 1480 : 8 + (uint32_t)(x >> 28 & 255) * 8;
		bool more = (x >> 40 & 7) != 0;
		now += x >> 60;
		long n = feed_from(r, now, src, id, off, len, more, &out, &c);
		if (n > 0)
			assert_memory_equal(out, data, (size_t)n);
		assert_true(mem_of(r) <= high);
		if (i % 1000 == 0)
			expire(r, now, &c);
	}
	assert_true(c.v[CNT_ReasmEvictions] + c.v[CNT_ReasmSrcEvictions] > 0);
	expire(r, now + 31 * SEC, &c);
	assert_int_equal(mem_of(r), 0);
	reasm_free(r);
}

static void test_no_slot_bound(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk(1 << 24);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	/* Memory is the bound, not a count of datagrams. */
	for (int id = 0; id < 1000; id++)
		assert_int_equal(feed(r, 0, (uint16_t)id, 0, 8, true, &out, &c), 0);
	assert_int_equal(count_of(r), 1000);
	expire(r, 30 * SEC, &c);
	assert_int_equal(c.v[CNT_ReasmTimeout], 1000);
	assert_int_equal(count_of(r), 0);
	reasm_free(r);
}

static void test_tiny_and_endless(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk(1 << 20);
	const uint8_t *out = NULL;
	ipv4_hdr h;
	(void)state;

	fill();
	/* Tiny fragments are legal (RFC 791): a TCP header in 8-byte pieces
	 * is reassembled. (RFC 1858's offset-8 rewrite is an overlap: see
	 * test_overlap_rewrites_tcp_flags.) */
	h = hdr_from(0xc6120001, IP_PROTO_TCP, 1, 0, true);
	assert_int_equal(reasm_input(r, 0, &h, data, 8, &out, &c), 0);
	h = hdr_from(0xc6120001, IP_PROTO_TCP, 1, 8, true);
	assert_int_equal(reasm_input(r, 0, &h, data + 8, 8, &out, &c), 0);
	h = hdr_from(0xc6120001, IP_PROTO_TCP, 1, 16, false);
	assert_int_equal(reasm_input(r, 0, &h, data + 16, 8, &out, &c), 24);
	assert_int_equal(c.v[CNT_FragmentsDropped], 0);
	/* Other protocols alike. */
	assert_int_equal(feed(r, 0, 3, 0, 8, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 3, 8, 8, false, &out, &c), 16);
	/* Endless: past 65535 - IHL, with or without MF. */
	assert_true(feed(r, 0, 4, 65528, 8, true, &out, &c) < 0);
	assert_true(feed(r, 0, 4, 65512, 8, false, &out, &c) < 0);
	assert_int_equal(feed(r, 0, 4, 65504, 8, false, &out, &c), 0);
	h = hdr(5, 65464, false);
	h.ihl = 60;
	assert_true(reasm_input(r, 0, &h, data, 16, &out, &c) < 0);
	assert_int_equal(c.v[CNT_FragmentsDropped], 3);
	reasm_free(r);
}

static void test_fragment_count(void **state)
{
	hsk_counters c = { 0 };
	ip_reasm *r = mk(1 << 20);
	const uint8_t *out = NULL;
	(void)state;

	fill();
	/* 128 fragments of 8 bytes complete ... */
	for (uint32_t i = 0; i < 127; i++)
		assert_int_equal(feed(r, 0, 1, i * 8, 8, true, &out, &c), 0);
	assert_int_equal(feed(r, 0, 1, 127 * 8, 8, false, &out, &c), 1024);
	assert_memory_equal(out, data, 1024);
	/* ... a 129th ends the datagram. */
	for (uint32_t i = 0; i < 128; i++)
		assert_int_equal(feed(r, 0, 2, i * 8, 8, true, &out, &c), 0);
	assert_true(feed(r, 0, 2, 128 * 8, 8, false, &out, &c) < 0);
	assert_int_equal(c.v[CNT_ReasmFails], 1);
	assert_int_equal(count_of(r), 0);
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
	ip_reasm *r = mk(1 << 20);
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
			expire(r, now, &c);
	}
	expire(r, now + 31 * SEC, &c);
	assert_int_equal(reasm_next_deadline(r), UINT64_MAX);
	assert_true(c.v[CNT_ReasmOKs] > 100);
	print_message("random fragments: %llu datagrams completed, %llu failed\n",
		      (unsigned long long)c.v[CNT_ReasmOKs], (unsigned long long)c.v[CNT_ReasmFails]);
	reasm_free(r);
}

/* ---- through a whole stack: the lockout that 64 spoofed fragments
 * caused, seen from outside (a fragmented ping is answered or not) ---- */

#define STK_US 0xc6120002u      /* 198.18.0.2 */
#define STK_PEER 0xc6120001u    /* 198.18.0.1 */

struct replies {
	int n;
	uint8_t last[1600];      /* the last packet sent */
	size_t len;
};

static void count_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct replies *rp = ctx;

	rp->n++;
	rp->len = len < sizeof(rp->last) ? len : sizeof(rp->last);
	memcpy(rp->last, pkt, rp->len);
}

/* A fragment of a `proto` datagram from src: bytes [off, off+len) of msg. */
static void send_frag_proto(hsk_stack *s, uint64_t now, uint8_t proto, uint32_t src,
			    uint16_t id, const uint8_t *msg, uint32_t off, uint32_t len,
			    bool more)
{
	uint8_t pkt[1600];
	ipv4_hdr h = { .total_len = (uint16_t)(20 + len), .id = id, .ttl = 64,
		       .proto = proto, .src = src, .dst = STK_US,
		       .frag = (uint16_t)(off / 8 | (more ? IPV4_MF : 0)) };

	assert_int_equal(ipv4_emit(&h, pkt, 20), 20);
	memcpy(pkt + 20, msg + off, len);
	hsk_stack_input(s, now, pkt, 20 + len);
}

/* The same for ICMP. */
static void send_frag(hsk_stack *s, uint64_t now, uint32_t src, uint16_t id,
		      const uint8_t *msg, uint32_t off, uint32_t len, bool more)
{
	send_frag_proto(s, now, IP_PROTO_ICMP, src, id, msg, off, len, more);
}

/* A 1000-byte echo request in two fragments from PEER: answered? */
static bool ping_in_two(hsk_stack *s, struct replies *rp, uint64_t now, uint16_t id)
{
	icmp_hdr ih = { .type = ICMP_ECHO_REQUEST, .rest = 0x00010001 };
	uint8_t body[992], msg[1000];
	int before = rp->n;

	memset(body, 0x42, sizeof(body));
	assert_int_equal(icmp_emit(&ih, body, sizeof(body), msg, sizeof(msg)), 1000);
	send_frag(s, now, STK_PEER, id, msg, 0, 504, true);
	send_frag(s, now, STK_PEER, id, msg, 504, 496, false);
	return rp->n == before + 1;
}

static hsk_stack *frag_stack(struct replies *rp)
{
	hsk_config cfg;
	hsk_link link = { .ctx = rp, .transmit = count_tx };

	hsk_config_default(&cfg);
	cfg.addr = STK_US;
	cfg.seed = 11;
	return hsk_stack_new(&cfg, &link, 1 * SEC);
}

static void test_stack_lockout_many_sources(void **state)
{
	struct replies rp = { 0 };
	hsk_stack *s = frag_stack(&rp);
	uint8_t junk[8] = { 0 };
	(void)state;

	assert_true(ping_in_two(s, &rp, 1 * SEC, 1));
	/* 64 spoofed 28-byte fragments (8 bytes of data), each the start of a
	 * datagram that never completes, from 64 addresses of 198.18/15. */
	for (uint32_t i = 0; i < 64; i++)
		send_frag(s, 2 * SEC, 0xc6130000u + i, (uint16_t)i, junk, 0, 8, true);
	/* A legitimate fragmented datagram still completes at once. */
	assert_true(ping_in_two(s, &rp, 3 * SEC, 2));
	assert_int_equal(rp.n, 2);
	hsk_stack_free(s);
}

static void test_stack_lockout_one_source(void **state)
{
	struct replies rp = { 0 };
	hsk_stack *s = frag_stack(&rp);
	uint8_t junk[8] = { 0 };
	(void)state;

	/* 5000 from one spoofed source, as many ids. */
	for (uint32_t i = 0; i < 5000; i++)
		send_frag(s, 2 * SEC, 0xc6130001u, (uint16_t)i, junk, 0, 8, true);
	assert_true(ping_in_two(s, &rp, 3 * SEC, 2));
	hsk_stack_free(s);
}

/* A TCP SYN in two fragments is reassembled before TCP sees it: the
 * listener answers it once, when the second arrives (ip_input's usual
 * way takes only a whole datagram). */
static void test_stack_tcp_fragments(void **state)
{
	struct replies rp = { 0 };
	hsk_stack *s = frag_stack(&rp);
	int sd = hsk_socket(s);
	tcp_hdr th = { .sport = 40000, .dport = 80, .seq = 1000, .flags = HSK_TH_SYN,
		       .win = 65535, .opt = { .mss = 1460, .wscale = -1 } };
	uint8_t seg[64];
	(void)state;

	assert_int_equal(hsk_bind(s, sd, 0, 80), 0);
	assert_int_equal(hsk_listen(s, sd, 16), 0);
	assert_int_equal(tcp_emit(&th, NULL, 0, STK_PEER, STK_US, seg, sizeof(seg)), 24);
	send_frag_proto(s, 2 * SEC, IP_PROTO_TCP, STK_PEER, 7, seg, 0, 16, true);
	assert_int_equal(rp.n, 0);
	send_frag_proto(s, 2 * SEC, IP_PROTO_TCP, STK_PEER, 7, seg, 16, 8, false);
	assert_int_equal(rp.n, 1);
	assert_int_equal(hsk_counter_by_name(s, "ReasmOKs"), 1);
	assert_int_equal(hsk_counter_by_name(s, "InSegs"), 1);
	hsk_stack_free(s);
}

/* RFC 1122 §3.3.2: a datagram whose first fragment came and the rest not
 * within the timeout (30 s) is answered with a time exceeded, code 1,
 * quoting that fragment; not when only a later fragment came, not about
 * an ICMP error (§3.2.2: redirects, quenches and parameter problems are
 * errors too), and no more than the rate limit lets through. */
static void test_stack_time_exceeded(void **state)
{
	struct replies rp = { 0 };
	hsk_stack *s = frag_stack(&rp);
	icmp_hdr echo = { .type = ICMP_ECHO_REQUEST, .rest = 0x00010001 };
	icmp_hdr unreach = { .type = ICMP_DEST_UNREACH, .code = ICMP_UNREACH_PORT };
	uint8_t body[56], msg[64], err[64];
	const uint8_t *pl, *quote;
	size_t pll, ql;
	ipv4_hdr h, qh;
	icmp_hdr ih;
	(void)state;

	memset(body, 0x42, sizeof(body));
	assert_int_equal(icmp_emit(&echo, body, sizeof(body), msg, sizeof(msg)), 64);
	assert_int_equal(icmp_emit(&unreach, body, sizeof(body), err, sizeof(err)), 64);
	send_frag(s, 2 * SEC, STK_PEER, 9, msg, 0, 32, true);
	hsk_stack_advance(s, 32 * SEC - 1);
	assert_int_equal(rp.n, 0);
	assert_int_equal(hsk_stack_next_deadline(s), 32 * SEC);
	hsk_stack_advance(s, 32 * SEC);
	assert_int_equal(rp.n, 1);
	assert_int_equal(ipv4_parse(rp.last, rp.len, &h, &pl, &pll), WIRE_OK);
	assert_int_equal(h.src, STK_US);
	assert_int_equal(h.dst, STK_PEER);
	assert_int_equal(h.proto, IP_PROTO_ICMP);
	assert_int_equal(icmp_parse(pl, pll, &ih, &quote, &ql), WIRE_OK);
	assert_int_equal(ih.type, ICMP_TIME_EXCEEDED);
	assert_int_equal(ih.code, ICMP_EXC_FRAGTIME);
	/* The quote: the fragment's header and its 32 bytes. */
	assert_int_equal(ql, 20 + 32);
	assert_int_equal(ipv4_parse(quote, ql, &qh, &pl, &pll), WIRE_OK);
	assert_int_equal(qh.src, STK_PEER);
	assert_int_equal(qh.dst, STK_US);
	assert_int_equal(qh.id, 9);
	assert_int_equal(qh.frag, IPV4_MF);
	assert_memory_equal(pl, msg, 32);
	assert_int_equal(hsk_counter_by_name(s, "IcmpOutTimeExcds"), 1);
	assert_int_equal(hsk_counter_by_name(s, "IcmpOutMsgs"), 1);
	assert_int_equal(hsk_counter_by_name(s, "ReasmTimeout"), 1);

	/* Only the second fragment: abandoned in silence. */
	send_frag(s, 40 * SEC, STK_PEER, 10, msg, 32, 32, false);
	/* The first fragment of an ICMP error: never an error about it. */
	send_frag(s, 40 * SEC, STK_PEER, 11, err, 0, 32, true);
	/* Nor of a source quench (4), a redirect (5) or a parameter
	 * problem (12): errors too. */
	static const uint8_t also_errors[] = { 4, 5, 12 };
	for (unsigned i = 0; i < sizeof also_errors; i++) {
		err[0] = also_errors[i];
		send_frag(s, 40 * SEC, STK_PEER, (uint16_t)(12 + i), err, 0, 32, true);
	}
	hsk_stack_advance(s, 80 * SEC);
	assert_int_equal(hsk_counter_by_name(s, "ReasmTimeout"), 6);
	assert_int_equal(rp.n, 1);

	/* Fifteen abandoned at once: the bucket's ten go out, five are
	 * counted as held back. */
	for (uint16_t id = 100; id < 115; id++)
		send_frag(s, 90 * SEC, STK_PEER, id, msg, 0, 32, true);
	hsk_stack_advance(s, 120 * SEC);
	assert_int_equal(rp.n, 1 + ICMP_ERR_BURST);
	assert_int_equal(hsk_counter_by_name(s, "IcmpOutRateLimitGlobal"), 15 - ICMP_ERR_BURST);
	assert_int_equal(hsk_counter_by_name(s, "ReasmTimeout"), 21);
	hsk_stack_free(s);
}

/* RFC 1122 §3.2.2 at the timeout, when the addresses changed since the
 * first fragment came: no time exceeded from an address no longer ours,
 * nor to a source that has become ours. */
static void test_stack_time_exceeded_addresses(void **state)
{
	struct replies rp = { 0 };
	hsk_stack *s = frag_stack(&rp);
	icmp_hdr echo = { .type = ICMP_ECHO_REQUEST, .rest = 0x00010001 };
	uint8_t body[56], msg[64], pkt[64], us2[4], peer2[4];
	ipv4_hdr h = { .total_len = 20 + 32, .id = 5, .ttl = 64, .proto = IP_PROTO_ICMP,
		       .src = STK_PEER, .dst = 0xc6120050u, .frag = IPV4_MF };
	(void)state;

	memset(body, 0x42, sizeof(body));
	assert_int_equal(icmp_emit(&echo, body, sizeof(body), msg, sizeof(msg)), 64);
	wr32(us2, 0xc6120050u);
	wr32(peer2, 0xc6120063u);
	assert_int_equal(ip_addr_add(&s->ip, IP_FAM4, us2, 24), 0);
	/* To our second address, which goes before the timeout. */
	assert_int_equal(ipv4_emit(&h, pkt, 20), 20);
	memcpy(pkt + 20, msg, 32);
	hsk_stack_input(s, 2 * SEC, pkt, 52);
	assert_int_equal(ip_addr_del(&s->ip, IP_FAM4, us2), 0);
	/* From a peer whose address becomes ours. */
	send_frag(s, 2 * SEC, 0xc6120063u, 6, msg, 0, 32, true);
	assert_int_equal(ip_addr_add(&s->ip, IP_FAM4, peer2, 24), 0);
	/* And one still answered. */
	send_frag(s, 2 * SEC, STK_PEER, 7, msg, 0, 32, true);
	hsk_stack_advance(s, 40 * SEC);
	assert_int_equal(hsk_counter_by_name(s, "ReasmTimeout"), 3);
	assert_int_equal(hsk_counter_by_name(s, "IcmpOutTimeExcds"), 1);
	assert_int_equal(rp.n, 1);
	assert_int_equal(rd32(rp.last + 12), STK_US);
	assert_int_equal(rd32(rp.last + 16), STK_PEER);
	assert_int_equal(rd16(rp.last + 20 + 8 + 4), 7);    /* the quote's id */
	hsk_stack_free(s);
}

/* ipfrag_high_thresh 0 turns reassembly off (docs/security-ip.md): every
 * fragment is refused and counted, IPv4's and IPv6's, with the other
 * limits at their defaults (a share larger than the bound); a whole
 * datagram is still taken. */
static void test_stack_reassembly_off(void **state)
{
	struct replies rp = { 0 };
	hsk_config cfg;
	hsk_link link = { .ctx = &rp, .transmit = count_tx };
	icmp_hdr echo = { .type = ICMP_ECHO_REQUEST, .rest = 0x00010001 };
	uint8_t body[56], msg[64], pkt[128];
	static const uint8_t a6[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 2 };
	static const uint8_t p6[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 1 };
	(void)state;

	hsk_config_default(&cfg);
	cfg.addr = STK_US;
	cfg.seed = 11;
	cfg.ipfrag_high_thresh = 0;
	cfg.ipfrag_low_thresh = 0;
	hsk_stack *s = hsk_stack_new(&cfg, &link, 1 * SEC);
	assert_non_null(s);
	assert_int_equal(ip_addr_add(&s->ip, IP_FAM6, a6, 64), 0);
	memset(body, 0x42, sizeof(body));
	assert_int_equal(icmp_emit(&echo, body, sizeof(body), msg, sizeof(msg)), 64);
	send_frag(s, 2 * SEC, STK_PEER, 9, msg, 0, 32, true);
	send_frag(s, 2 * SEC, STK_PEER, 9, msg, 32, 32, false);
	assert_int_equal(hsk_counter_by_name(s, "FragmentsDropped"), 2);
	assert_int_equal(hsk_counter_by_name(s, "ReasmOKs"), 0);
	assert_int_equal(rp.n, 0);
	/* an IPv6 fragment */
	ipv6_hdr h6 = { .payload_len = 8 + 16, .next = IP_PROTO_FRAGMENT, .hop_limit = 64 };
	memcpy(h6.src, p6, 16);
	memcpy(h6.dst, a6, 16);
	assert_int_equal(ipv6_emit(&h6, pkt, 40), 40);
	memset(pkt + 40, 0, 8 + 16);
	pkt[40] = IP_PROTO_ICMPV6;
	pkt[43] = 1;                                  /* offset 0, M */
	pkt[48] = ICMP6_ECHO_REQUEST;
	hsk_stack_input(s, 2 * SEC, pkt, 40 + 8 + 16);
	assert_int_equal(hsk_counter_by_name(s, "Ip6FragmentsDropped"), 1);
	assert_int_equal(count_of(s->ip.reasm), 0);
	assert_int_equal(count_of(s->ip.reasm6), 0);
	/* whole: answered */
	send_frag(s, 3 * SEC, STK_PEER, 10, msg, 0, 64, false);
	assert_int_equal(rp.n, 1);
	hsk_stack_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_reverse_and_interleaved),
		cmocka_unit_test(test_largest),
		cmocka_unit_test(test_duplicate_ignored),
		cmocka_unit_test(test_duplicate_with_other_end),
		cmocka_unit_test(test_overlap_drops_datagram),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_timeout_gives_first_fragment),
		cmocka_unit_test(test_eviction_order),
		cmocka_unit_test(test_source_share),
		cmocka_unit_test(test_source_share_edges),
		cmocka_unit_test(test_bound_below_a_share),
		cmocka_unit_test(test_flood_then_legit),
		cmocka_unit_test(test_memory_never_exceeded),
		cmocka_unit_test(test_no_slot_bound),
		cmocka_unit_test(test_tiny_and_endless),
		cmocka_unit_test(test_overlap_rewrites_tcp_flags),
		cmocka_unit_test(test_fragment_count),
		cmocka_unit_test(test_random_fragments),
		cmocka_unit_test(test_stack_lockout_many_sources),
		cmocka_unit_test(test_stack_lockout_one_source),
		cmocka_unit_test(test_stack_tcp_fragments),
		cmocka_unit_test(test_stack_time_exceeded),
		cmocka_unit_test(test_stack_time_exceeded_addresses),
		cmocka_unit_test(test_stack_reassembly_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
