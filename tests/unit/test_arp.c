/*
 * Ethernet framing and ARP without a device: frames the module sends are
 * captured by a test `out` callback. Resolution with a pending queue,
 * replies to requests, retries and failure, expiry and refresh, the cache
 * bound, and malformed frames.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "link/arp.h"

#define SEC 1000000000ull
#define US 0xc6120002u      /* 198.18.0.2 */
#define PEER 0xc6120001u    /* 198.18.0.1 */

static const uint8_t our_mac[6] = { 0x02, 0x68, 0x73, 0x12, 0x00, 0x02 };
static const uint8_t peer_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct sent {
	int n;
	uint8_t f[16][128];
	size_t len[16];
};

static void out(void *ctx, const uint8_t *frame, size_t len)
{
	struct sent *s = ctx;

	if (s->n < 16) {
		memcpy(s->f[s->n], frame, len < 128 ? len : 128);
		s->len[s->n] = len;
	}
	s->n++;
}

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void p32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* An ARP frame as the kernel would send it. */
static size_t arp_frame(uint8_t *f, const uint8_t *dst, uint16_t op, const uint8_t *sha,
			uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	memset(f, 0, 60);
	memcpy(f, dst, 6);
	memcpy(f + 6, sha, 6);
	f[12] = 0x08; f[13] = 0x06;
	f[15] = 1; f[16] = 0x08; f[18] = 6; f[19] = 4; f[21] = (uint8_t)op;
	memcpy(f + 22, sha, 6);
	p32(f + 28, spa);
	memcpy(f + 32, tha, 6);
	p32(f + 38, tpa);
	return 60;   /* padded to the Ethernet minimum, as on a wire */
}

static void expect_request(const struct sent *s, int i, uint32_t tpa)
{
	const uint8_t *f = s->f[i];

	assert_memory_equal(f, bcast, 6);
	assert_memory_equal(f + 6, our_mac, 6);
	assert_int_equal(g16(f + 12), 0x0806);
	assert_int_equal(g16(f + 20), 1);
	assert_int_equal(g32(f + 28), US);
	assert_int_equal(g32(f + 38), tpa);
}

static void test_reply_to_request(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 8, 4);
	struct sent s = { 0 };
	const uint8_t *ip = NULL;
	uint8_t f[60], mac[6];
	static const uint8_t zero[6];
	(void)state;

	arp_frame(f, bcast, 1, peer_mac, PEER, zero, US);
	assert_int_equal(arp_eth_input(a, 0, f, 60, &ip, out, &s), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.f[0], peer_mac, 6);
	assert_int_equal(g16(s.f[0] + 20), 2);
	assert_memory_equal(s.f[0] + 22, our_mac, 6);
	assert_int_equal(g32(s.f[0] + 28), US);
	assert_memory_equal(s.f[0] + 32, peer_mac, 6);
	assert_int_equal(g32(s.f[0] + 38), PEER);
	/* The requester was learnt: it is about to talk to us. */
	assert_true(arp_lookup(a, PEER, mac));
	assert_memory_equal(mac, peer_mac, 6);
	/* A request for someone else is neither answered nor learnt. */
	arp_frame(f, bcast, 1, peer_mac, 0xc6120009, zero, 0xc6120003);
	assert_int_equal(arp_eth_input(a, 0, f, 60, &ip, out, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(arp_entries(a), 1);
	arp_free(a);
}

static void test_resolve_flushes_queue(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 8, 4);
	struct sent s = { 0 };
	const uint8_t *ip = NULL;
	uint8_t pkt[40] = { 0x45 }, f[60];
	arp_stats st;
	(void)state;

	for (int i = 0; i < 6; i++) {
		pkt[1] = (uint8_t)i;
		arp_output(a, 0, PEER, pkt, sizeof(pkt), out, &s);
	}
	/* One request; four packets wait, two did not fit. */
	assert_int_equal(s.n, 1);
	expect_request(&s, 0, PEER);
	arp_get_stats(a, &st);
	assert_int_equal(st.pending_drops, 2);
	arp_frame(f, our_mac, 2, peer_mac, PEER, our_mac, US);
	assert_int_equal(arp_eth_input(a, 10, f, 60, &ip, out, &s), 0);
	assert_int_equal(s.n, 5);
	for (int i = 1; i < 5; i++) {
		assert_int_equal(s.len[i], 14 + sizeof(pkt));
		assert_memory_equal(s.f[i], peer_mac, 6);
		assert_int_equal(g16(s.f[i] + 12), 0x0800);
		assert_int_equal(s.f[i][15], i - 1);   /* in order */
	}
	/* Resolved now: straight out. */
	assert_int_equal(arp_output(a, 20, PEER, pkt, sizeof(pkt), out, &s), 0);
	assert_int_equal(s.n, 6);
	arp_free(a);
}

static void test_retry_then_fail(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 8, 4);
	struct sent s = { 0 };
	uint8_t pkt[20] = { 0x45 };
	arp_stats st;
	(void)state;

	arp_output(a, 0, PEER, pkt, sizeof(pkt), out, &s);
	assert_int_equal(arp_next_deadline(a), ARP_RETRY_NS);
	arp_advance(a, ARP_RETRY_NS - 1, out, &s);
	assert_int_equal(s.n, 1);
	arp_advance(a, ARP_RETRY_NS, out, &s);
	arp_advance(a, 2 * ARP_RETRY_NS, out, &s);
	assert_int_equal(s.n, ARP_RETRIES);
	expect_request(&s, 2, PEER);
	arp_advance(a, 3 * ARP_RETRY_NS, out, &s);
	assert_int_equal(s.n, ARP_RETRIES);
	arp_get_stats(a, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.pending_drops, 1);
	assert_int_equal(arp_entries(a), 0);
	assert_int_equal(arp_next_deadline(a), UINT64_MAX);
	arp_free(a);
}

static void test_expiry_and_refresh(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 8, 4);
	struct sent s = { 0 };
	const uint8_t *ip = NULL;
	uint8_t pkt[20] = { 0x45 }, f[60];
	(void)state;

	arp_frame(f, our_mac, 2, peer_mac, PEER, our_mac, US);
	/* A reply addressed to us is learnt. */
	arp_eth_input(a, 0, f, 60, &ip, out, &s);
	assert_int_equal(arp_entries(a), 1);
	/* Used in the last quarter: a refresh request and the packet. */
	arp_output(a, ARP_REACHABLE_NS / 4 * 3, PEER, pkt, sizeof(pkt), out, &s);
	assert_int_equal(s.n, 2);
	expect_request(&s, 0, PEER);
	assert_memory_equal(s.f[1], peer_mac, 6);
	/* Not again within a second. */
	arp_output(a, ARP_REACHABLE_NS / 4 * 3 + 1, PEER, pkt, sizeof(pkt), out, &s);
	assert_int_equal(s.n, 3);
	/* Expired: gone from the cache. */
	arp_advance(a, ARP_REACHABLE_NS, out, &s);
	assert_int_equal(arp_entries(a), 0);
	arp_free(a);
}

static void test_cache_bound(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 4, 2);
	struct sent s = { 0 };
	const uint8_t *ip = NULL;
	uint8_t f[60], mac[6] = { 0x52, 0, 0, 0, 0, 0 };
	static const uint8_t zero[6];
	uint8_t pkt[20] = { 0x45 };
	arp_stats st;
	(void)state;

	for (int i = 0; i < 10; i++) {
		mac[5] = (uint8_t)i;
		arp_frame(f, bcast, 1, mac, PEER + 10 + (uint32_t)i, zero, US);
		arp_eth_input(a, (uint64_t)i, f, 60, &ip, out, &s);
	}
	assert_int_equal(arp_entries(a), 4);
	arp_get_stats(a, &st);
	assert_int_equal(st.evictions, 6);
	/* The most recent ones stayed. */
	assert_true(arp_lookup(a, PEER + 19, mac));
	assert_false(arp_lookup(a, PEER + 10, mac));
	/* Incomplete entries with packets waiting are not evicted. */
	for (uint32_t i = 0; i < 6; i++)
		arp_output(a, 100, 0xc6120100 + i, pkt, sizeof(pkt), out, &s);
	arp_get_stats(a, &st);
	assert_int_equal(arp_entries(a), 4);
	assert_int_equal(st.pending_drops, 2);
	arp_free(a);
}

static void test_malformed_and_foreign(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 8, 4);
	struct sent s = { 0 };
	const uint8_t *ip = NULL;
	uint8_t f[60];
	static const uint8_t zero[6];
	static const uint8_t other[6] = { 0x52, 1, 2, 3, 4, 5 };
	arp_stats st;
	(void)state;

	assert_int_equal(arp_eth_input(a, 0, f, 10, &ip, out, &s), 0);      /* short */
	arp_frame(f, bcast, 1, peer_mac, PEER, zero, US);
	assert_int_equal(arp_eth_input(a, 0, f, 30, &ip, out, &s), 0);      /* cut ARP */
	f[19] = 16;                                                          /* plen */
	assert_int_equal(arp_eth_input(a, 0, f, 60, &ip, out, &s), 0);
	arp_frame(f, bcast, 1, bcast, PEER, zero, US);                        /* bcast sha */
	assert_int_equal(arp_eth_input(a, 0, f, 60, &ip, out, &s), 0);
	arp_get_stats(a, &st);
	assert_int_equal(st.bad, 4);
	assert_int_equal(s.n, 0);
	/* IPv4 to another MAC, IPv6 to us: not for us. IPv4 to us: passed up. */
	memset(f, 0, sizeof(f));
	memcpy(f, other, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	assert_int_equal(arp_eth_input(a, 0, f, 60, &ip, out, &s), 0);
	memcpy(f, our_mac, 6);
	f[12] = 0x86; f[13] = 0xdd;
	assert_int_equal(arp_eth_input(a, 0, f, 60, &ip, out, &s), 0);
	f[12] = 0x08; f[13] = 0x00;
	assert_int_equal(arp_eth_input(a, 0, f, 60, &ip, out, &s), 46);
	assert_ptr_equal(ip, f + 14);
	/* IPv4 to us with nothing after the Ethernet header: not a packet. */
	assert_int_equal(arp_eth_input(a, 0, f, 14, &ip, out, &s), 0);
	arp_get_stats(a, &st);
	assert_int_equal(st.not_for_us, 3);
	arp_free(a);
}

/* An entry past its reachable time that arp_advance has not yet cleared
 * is not used: the packet waits for a new request's answer and goes to
 * the MAC that answer gives (the peer moved). */
static void test_expired_entry_resolved_again(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 8, 4);
	struct sent s = { 0 };
	const uint8_t *ip = NULL;
	uint8_t pkt[20] = { 0x45 }, f[60], mac[6];
	static const uint8_t moved[6] = { 0x52, 0x54, 0x00, 0x11, 0x22, 0x33 };
	(void)state;

	arp_frame(f, our_mac, 2, peer_mac, PEER, our_mac, US);
	arp_eth_input(a, 0, f, 60, &ip, out, &s);
	assert_int_equal(arp_output(a, ARP_REACHABLE_NS, PEER, pkt, sizeof(pkt), out, &s), 0);
	assert_int_equal(s.n, 1);
	expect_request(&s, 0, PEER);
	assert_false(arp_lookup(a, PEER, mac));
	arp_frame(f, our_mac, 2, moved, PEER, our_mac, US);
	arp_eth_input(a, ARP_REACHABLE_NS + 1, f, 60, &ip, out, &s);
	assert_int_equal(s.n, 2);
	assert_memory_equal(s.f[1], moved, 6);
	assert_int_equal(g16(s.f[1] + 12), 0x0800);
	assert_true(arp_lookup(a, PEER, mac));
	assert_memory_equal(mac, moved, 6);
	arp_free(a);
}

/* An operation that is neither request nor reply is bad, and teaches
 * nothing; a packet larger than IPv4's 65,535 bytes is refused
 * (EMSGSIZE, as arp.h documents), before any request goes out. */
static void test_bad_op_and_size(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 8, 4);
	struct sent s = { 0 };
	const uint8_t *ip = NULL;
	uint8_t f[60], mac[6];
	static uint8_t big[65536];
	static const uint8_t zero[6];
	arp_stats st;
	(void)state;

	arp_frame(f, bcast, 3, peer_mac, PEER, zero, US);       /* RARP request */
	arp_eth_input(a, 0, f, 60, &ip, out, &s);
	arp_get_stats(a, &st);
	assert_int_equal(st.bad, 1);
	assert_int_equal(st.requests_rcvd + st.replies_rcvd, 0);
	assert_false(arp_lookup(a, PEER, mac));
	assert_int_equal(s.n, 0);
	big[0] = 0x45;
	assert_int_equal(arp_output(a, 0, PEER, big, 65536, out, &s), -EMSGSIZE);
	assert_int_equal(s.n, 0);
	assert_int_equal(arp_entries(a), 0);
	assert_int_equal(arp_output(a, 0, PEER, big, 65535, out, &s), 0);
	assert_int_equal(s.n, 1);
	arp_free(a);
}

/* RFC 826's fixed fields: a protocol type other than IPv4's or a
 * hardware length other than Ethernet's is bad and teaches nothing. A
 * request whose sender claims our own address, or none (an RFC 5227
 * probe from 0.0.0.0), is answered but makes no entry: neither is a
 * neighbour's address. */
static void test_header_and_sender(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 8, 4);
	struct sent s = { 0 };
	const uint8_t *ip = NULL;
	uint8_t f[60], mac[6];
	static const uint8_t zero[6];
	arp_stats st;
	(void)state;

	arp_frame(f, bcast, 1, peer_mac, PEER, zero, US);
	f[16] = 0x86; f[17] = 0xdd;                 /* ptype IPv6 */
	assert_int_equal(arp_eth_input(a, 0, f, 60, &ip, out, &s), 0);
	arp_frame(f, bcast, 1, peer_mac, PEER, zero, US);
	f[18] = 8;                                  /* hlen 8 */
	assert_int_equal(arp_eth_input(a, 0, f, 60, &ip, out, &s), 0);
	arp_get_stats(a, &st);
	assert_int_equal(st.bad, 2);
	assert_int_equal(s.n, 0);
	assert_int_equal(arp_entries(a), 0);

	arp_frame(f, bcast, 1, peer_mac, US, zero, US);      /* "I am you" */
	assert_int_equal(arp_eth_input(a, 0, f, 60, &ip, out, &s), 0);
	arp_frame(f, bcast, 1, peer_mac, 0, zero, US);       /* a probe */
	assert_int_equal(arp_eth_input(a, 0, f, 60, &ip, out, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(g32(s.f[1] + 38), 0);
	assert_int_equal(arp_entries(a), 0);
	assert_false(arp_lookup(a, US, mac));
	arp_free(a);
}

/* arp_glean: a new MAC is taken at once; the same MAC again within half
 * the reachable time is nothing new, later it confirms the entry anew
 * (it lives on past its first reachable time). */
static void test_glean_refresh(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 8, 4);
	struct sent s = { 0 };
	uint8_t mac[6];
	static const uint8_t moved[6] = { 0x52, 0x54, 0x00, 0x11, 0x22, 0x33 };
	(void)state;

	arp_glean(a, 0, PEER, peer_mac, out, &s);
	arp_glean(a, ARP_REACHABLE_NS / 10 * 3, PEER, moved, out, &s);
	assert_true(arp_resolve(a, ARP_REACHABLE_NS / 10 * 3, PEER, mac, out, &s));
	assert_memory_equal(mac, moved, 6);
	arp_glean(a, ARP_REACHABLE_NS / 10 * 9, PEER, moved, out, &s);
	assert_true(arp_resolve(a, ARP_REACHABLE_NS / 10 * 14, PEER, mac, out, &s));
	assert_memory_equal(mac, moved, 6);
	assert_int_equal(s.n, 0);
	arp_free(a);
}

/* Random frames, half of them shaped like ARP for us: nothing crashes or
 * reads out of bounds (ASan), and the cache stays within its bound. */
static void test_random_frames(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 16, 4);
	struct sent s = { 0 };
	const uint8_t *ip = NULL;
	uint8_t *f = malloc(1600);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	(void)state;

	for (int i = 0; i < 200000; i++) {
		size_t len;
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		len = (size_t)(x % 80);
		for (size_t k = 0; k < len; k++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			f[k] = (uint8_t)x;
		}
		if (i & 1 && len >= 42) {
			/* keep the fixed ARP fields right so the parser goes deep */
			memcpy(f, our_mac, 6);
			f[12] = 0x08; f[13] = 0x06; f[14] = 0; f[15] = 1;
			f[16] = 0x08; f[17] = 0; f[18] = 6; f[19] = 4; f[20] = 0;
			f[21] = (uint8_t)(1 + (x >> 40) % 2);
			if (x >> 50 & 1)
				p32(f + 38, US);
		}
		long n = arp_eth_input(a, (uint64_t)i * 1000000, f, len, &ip, out, &s);
		assert_true(n >= 0 && (size_t)n <= len);
		if (n > 0)
			assert_ptr_equal(ip, f + 14);
		if (i % 1000 == 0) {
			arp_output(a, (uint64_t)i * 1000000, (uint32_t)x, f, len, out, &s);
			arp_advance(a, (uint64_t)i * 1000000, out, &s);
		}
		assert_true(arp_entries(a) <= 16);
	}
	free(f);
	arp_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_to_request),
		cmocka_unit_test(test_resolve_flushes_queue),
		cmocka_unit_test(test_retry_then_fail),
		cmocka_unit_test(test_expiry_and_refresh),
		cmocka_unit_test(test_cache_bound),
		cmocka_unit_test(test_malformed_and_foreign),
		cmocka_unit_test(test_expired_entry_resolved_again),
		cmocka_unit_test(test_bad_op_and_size),
		cmocka_unit_test(test_header_and_sender),
		cmocka_unit_test(test_glean_refresh),
		cmocka_unit_test(test_random_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
