/*
 * The two calls of arp.c that the AF_XDP device uses besides what TAP
 * uses: arp_resolve (the fast path for a device that frames packets in
 * place, with arp_output's refresh rule) and arp_glean (an entry taught
 * from outside, which releases the packets waiting for it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "link/arp.h"

#define SEC 1000000000ull
#define US 0xc6120002u
#define PEER 0xc6120001u

static const uint8_t our_mac[6] = { 0x02, 0x68, 0x73, 0x12, 0x00, 0x02 };
static const uint8_t peer_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

struct sent {
	int n, arp, ip;
	uint8_t last_dst[6];
};

static void out(void *ctx, const uint8_t *frame, size_t len)
{
	struct sent *s = ctx;

	(void)len;
	s->n++;
	if (frame[12] == 0x08 && frame[13] == 0x06)
		s->arp++;
	else
		s->ip++;
	memcpy(s->last_dst, frame, 6);
}

static void test_resolve_and_glean(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 8, 4);
	struct sent s = { 0 };
	uint8_t mac[6], pkt[40] = { 0x45 };

	(void)state;
	assert_non_null(a);
	/* unknown: the caller must go through arp_output, which asks */
	assert_false(arp_resolve(a, 0, PEER, mac, out, &s));
	assert_int_equal(arp_output(a, 0, PEER, pkt, sizeof(pkt), out, &s), 0);
	assert_int_equal(s.arp, 1);
	assert_int_equal(s.ip, 0);
	/* taught from outside: the waiting packet leaves, framed for the peer */
	arp_glean(a, 1000, PEER, peer_mac, out, &s);
	assert_int_equal(s.ip, 1);
	assert_memory_equal(s.last_dst, peer_mac, 6);
	assert_true(arp_resolve(a, 2000, PEER, mac, out, &s));
	assert_memory_equal(mac, peer_mac, 6);
	assert_int_equal(s.n, 2);   /* resolving sent nothing */
	/* in the last quarter of the entry's life a refresh request goes out,
	 * once a second, and the entry still resolves */
	uint64_t late = 1000 + ARP_REACHABLE_NS / 4 * 3 + 1;
	assert_true(arp_resolve(a, late, PEER, mac, out, &s));
	assert_int_equal(s.arp, 2);
	assert_true(arp_resolve(a, late + 1, PEER, mac, out, &s));
	assert_int_equal(s.arp, 2);
	/* expired: no longer resolves */
	assert_false(arp_resolve(a, 1000 + ARP_REACHABLE_NS, PEER, mac, out, &s));
	arp_free(a);
}

static void test_glean_refuses(void **state)
{
	arp_cache *a = arp_new(our_mac, US, 8, 4);
	struct sent s = { 0 };
	uint8_t mac[6], mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };

	(void)state;
	arp_glean(a, 0, 0, peer_mac, out, &s);
	arp_glean(a, 0, US, peer_mac, out, &s);
	arp_glean(a, 0, PEER, mcast, out, &s);
	assert_int_equal(arp_entries(a), 0);
	assert_false(arp_resolve(a, 0, PEER, mac, out, &s));
	assert_int_equal(s.n, 0);
	arp_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_and_glean),
		cmocka_unit_test(test_glean_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
