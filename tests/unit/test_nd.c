/*
 * Neighbor Discovery and DAD (src/link/nd.c) without a device: frames the
 * module sends are captured by a test `out` callback, and the kernel's own
 * ND packets (ipv6_vectors.h) are fed in Ethernet frames. Answering the
 * kernel's NS, the multicast MAC filter, resolution with a pending queue
 * (answered by the kernel's NA), retries and failure, the bounds, STALE
 * entries probed and resolved again, refresh before expiry, the override
 * rules of an NA, DAD (the probe as Linux sends it, failure on another
 * node's probe or an NA, our own looped-back probe ignored, defence),
 * routers set and advertised, malformed messages, and what AF_XDP's
 * queues use to share one interface's ND (test_for_queues).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "link/nd.h"
#include "wire/ipv6.h"
#include "ipv6_vectors.h"

#define SEC 1000000000ull

static const uint8_t our_mac[6] = { 0x02, 0x68, 0x73, 0x12, 0x00, 0x02 };
static const uint8_t k_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };     /* the kernel's */
static const uint8_t A1[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 1 };
static const uint8_t A2[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 2 };

struct sent {
	int n;
	uint8_t f[16][256];
	size_t len[16];
};

static void out(void *ctx, const uint8_t *frame, size_t len)
{
	struct sent *s = ctx;

	if (s->n < 16) {
		memcpy(s->f[s->n], frame, len < 256 ? len : 256);
		s->len[s->n] = len;
	}
	s->n++;
}

static uint8_t frame[2048];

/* pkt in an Ethernet frame from smac to dmac (NULL: the multicast MAC of
 * the packet's destination, or ours for a unicast one). */
static size_t eth(const uint8_t *dmac, const uint8_t *smac, const uint8_t *pkt, size_t len)
{
	uint8_t m[6];

	if (!dmac) {
		if (ip6_is_multicast(pkt + 24))
			ip6_mcast_mac(pkt + 24, m);
		else
			memcpy(m, our_mac, 6);
		dmac = m;
	}
	memcpy(frame, dmac, 6);
	memcpy(frame + 6, smac, 6);
	frame[12] = 0x86;
	frame[13] = 0xdd;
	memcpy(frame + 14, pkt, len);
	return 14 + len;
}

static long feed(nd_cache *n, uint64_t now, const uint8_t *pkt, size_t len, struct sent *s)
{
	const uint8_t *ip;
	size_t fl = eth(NULL, k_mac, pkt, len);

	return nd_eth_input(n, now, frame, fl, &ip, out, s);
}

/* The ND message in a sent frame, checked as a receiver would. */
static void sent_nd(const struct sent *s, int i, ipv6_hdr *h, nd_msg *m)
{
	const uint8_t *p, *body;
	size_t pl, bl;
	icmp_hdr ih;

	assert_int_equal(s->f[i][12] << 8 | s->f[i][13], 0x86dd);
	assert_memory_equal(s->f[i] + 6, our_mac, 6);
	assert_int_equal(ipv6_parse(s->f[i] + 14, s->len[i] - 14, h, &p, &pl), WIRE_OK);
	assert_int_equal(h->hop_limit, 255);
	assert_int_equal(icmp6_parse(p, pl, h->src, h->dst, &ih, &body, &bl), WIRE_OK);
	assert_int_equal(nd_parse(h, p, pl, m), WIRE_OK);
}

static nd_cache *mk(unsigned entries, unsigned pending, struct sent *s)
{
	nd_cache *n = nd_new(our_mac, entries, pending);

	assert_non_null(n);
	memset(s, 0, sizeof(*s));
	assert_int_equal(nd_add_addr(n, SEC, A2, 64, false, out, s), 0);
	assert_int_equal(s->n, 0);
	return n;
}

/* An IPv6 packet A2 -> dst (40 bytes, no payload). */
static size_t mkpkt(uint8_t *p, const uint8_t dst[16])
{
	ipv6_hdr h = { .next = IP_PROTO_NONE, .hop_limit = 64 };

	memcpy(h.src, A2, 16);
	memcpy(h.dst, dst, 16);
	ipv6_emit(&h, p, 40);
	return 40;
}

/* The kernel solicits us (multicast, with its MAC): our NA goes to its
 * MAC, solicited and override, with ours; the kernel is learned. */
static void test_answer_ns(void **state)
{
	struct sent s;
	nd_cache *n = mk(8, 4, &s);
	ipv6_hdr h;
	nd_msg m;
	uint8_t mac[6];
	nd_stats st;
	(void)state;

	assert_int_equal(feed(n, SEC, v6_ns, sizeof v6_ns, &s), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.f[0], k_mac, 6);
	sent_nd(&s, 0, &h, &m);
	assert_int_equal(m.type, ND_NEIGHBOR_ADVERT);
	assert_int_equal(m.flags, ND_NA_SOLICITED | ND_NA_OVERRIDE);
	assert_memory_equal(m.target, A2, 16);
	assert_true(m.has_tll);
	assert_memory_equal(m.tll, our_mac, 6);
	assert_memory_equal(h.src, A2, 16);
	assert_memory_equal(h.dst, A1, 16);
	assert_true(nd_lookup(n, A1, mac));
	assert_memory_equal(mac, k_mac, 6);
	nd_get_stats(n, &st);
	assert_int_equal(st.ns_rcvd, 1);
	assert_int_equal(st.na_sent, 1);
	/* An NS for another address: not ours, no answer. */
	uint8_t *b = malloc(sizeof v6_ns);
	assert_non_null(b);
	memcpy(b, v6_ns, sizeof v6_ns);
	b[63] = 9;                 /* target 2001:2::9 */
	b[39] = 9;                 /* to its group */
	wr16(b + 42, 0);
	wr16(b + 42, csum_fold(csum_partial(b + 40, sizeof v6_ns - 40,
			csum_pseudo6(b + 8, b + 24, IP_PROTO_ICMPV6, sizeof v6_ns - 40))));
	assert_int_equal(feed(n, SEC, b, sizeof v6_ns, &s), 0);
	assert_int_equal(s.n, 1);
	free(b);
	nd_free(n);
}

/* Frames to our MAC, all-nodes and our solicited-node groups only. */
static void test_mac_filter(void **state)
{
	struct sent s;
	nd_cache *n = mk(8, 4, &s);
	const uint8_t *ip;
	uint8_t other_group[6] = { 0x33, 0x33, 0xff, 0, 0, 9 };
	uint8_t all[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint8_t mld[6] = { 0x33, 0x33, 0, 0, 0, 0x16 };
	uint8_t stranger[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	nd_stats st;
	size_t fl;
	(void)state;

	/* The kernel's echo request to our MAC goes up, whole. */
	fl = eth(our_mac, k_mac, v6_echo_req, sizeof v6_echo_req);
	assert_int_equal(nd_eth_input(n, SEC, frame, fl, &ip, out, &s), sizeof v6_echo_req);
	assert_ptr_equal(ip, frame + 14);
	fl = eth(all, k_mac, v6_echo_req, sizeof v6_echo_req);
	assert_int_equal(nd_eth_input(n, SEC, frame, fl, &ip, out, &s), sizeof v6_echo_req);
	fl = eth(other_group, k_mac, v6_echo_req, sizeof v6_echo_req);
	assert_int_equal(nd_eth_input(n, SEC, frame, fl, &ip, out, &s), 0);
	fl = eth(mld, k_mac, v6_mld_report, sizeof v6_mld_report);
	assert_int_equal(nd_eth_input(n, SEC, frame, fl, &ip, out, &s), 0);
	fl = eth(stranger, k_mac, v6_echo_req, sizeof v6_echo_req);
	assert_int_equal(nd_eth_input(n, SEC, frame, fl, &ip, out, &s), 0);
	nd_get_stats(n, &st);
	assert_int_equal(st.not_for_us, 3);
	/* Not IPv6, and too short. */
	frame[13] = 0x00;
	assert_int_equal(nd_eth_input(n, SEC, frame, fl, &ip, out, &s), 0);
	assert_int_equal(nd_eth_input(n, SEC, frame, 10, &ip, out, &s), 0);
	nd_get_stats(n, &st);
	assert_int_equal(st.bad, 2);
	assert_int_equal(s.n, 0);
	nd_free(n);
}

/* A packet to the kernel waits for it: our NS, then the kernel's NA. */
static void test_resolve(void **state)
{
	struct sent s;
	nd_cache *n = mk(8, 4, &s);
	uint8_t p[64], mac[6];
	ipv6_hdr h;
	nd_msg m;
	(void)state;

	mkpkt(p, A1);
	assert_int_equal(nd_output(n, SEC, p, 40, out, &s), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.f[0], ((uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 1 }), 6);
	sent_nd(&s, 0, &h, &m);
	assert_int_equal(m.type, ND_NEIGHBOR_SOLICIT);
	assert_memory_equal(m.target, A1, 16);
	assert_memory_equal(h.dst, v6_ns_dad + 24, 16);   /* ff02::1:ff00:1 */
	assert_memory_equal(h.src, A2, 16);
	assert_true(m.has_sll);
	assert_memory_equal(m.sll, our_mac, 6);
	assert_false(nd_lookup(n, A1, mac));
	assert_int_equal(nd_output(n, SEC, p, 40, out, &s), 0);   /* queued too */
	assert_int_equal(s.n, 1);
	/* The kernel's NA (solicited, its MAC): both packets go. */
	assert_int_equal(feed(n, SEC + 1000, v6_na, sizeof v6_na, &s), 0);
	assert_int_equal(s.n, 3);
	assert_memory_equal(s.f[1], k_mac, 6);
	assert_int_equal(s.len[1], 14 + 40);
	assert_memory_equal(s.f[1] + 14, p, 40);
	assert_true(nd_lookup(n, A1, mac));
	/* Resolved: straight out. */
	assert_int_equal(nd_output(n, 2 * SEC, p, 40, out, &s), 0);
	assert_int_equal(s.n, 4);
	/* Multicast needs no resolution. */
	uint8_t g[16] = { 0xff, 0x02, [15] = 1 };
	mkpkt(p, g);
	assert_int_equal(nd_output(n, 2 * SEC, p, 40, out, &s), 0);
	assert_memory_equal(s.f[4], ((uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }), 6);
	/* Not IPv6. */
	p[0] = 0x45;
	assert_int_equal(nd_output(n, 2 * SEC, p, 40, out, &s), -EINVAL);
	nd_free(n);
}

static void test_retries_and_bounds(void **state)
{
	struct sent s;
	nd_cache *n = mk(2, 2, &s);
	uint8_t p[64];
	nd_stats st;
	uint8_t b3[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 3 };
	uint8_t b4[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 4 };
	(void)state;

	mkpkt(p, A1);
	assert_int_equal(nd_output(n, SEC, p, 40, out, &s), 0);
	assert_int_equal(nd_output(n, SEC, p, 40, out, &s), 0);
	assert_int_equal(nd_output(n, SEC, p, 40, out, &s), -ENOBUFS);   /* queue full */
	assert_int_equal(nd_next_deadline(n), 2 * SEC);
	nd_advance(n, 2 * SEC, out, &s);
	nd_advance(n, 3 * SEC, out, &s);
	assert_int_equal(s.n, 3);                 /* three solicitations */
	/* A full cache of entries with waiting packets has no room. */
	mkpkt(p, b3);
	assert_int_equal(nd_output(n, 3 * SEC, p, 40, out, &s), 0);
	mkpkt(p, b4);
	assert_int_equal(nd_output(n, 3 * SEC, p, 40, out, &s), -ENOBUFS);
	nd_advance(n, 4 * SEC, out, &s);          /* A1 gives up */
	nd_get_stats(n, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.pending_drops, 2 + 1 + 1);
	assert_int_equal(nd_entries(n), 1);
	nd_free(n);
}

/* An entry learned from the kernel's NS is STALE: used at once, probed
 * by unicast NS; three probes unanswered and it is resolved again. A
 * REACHABLE one is refreshed in its last quarter. */
static void test_stale_and_refresh(void **state)
{
	struct sent s;
	nd_cache *n = mk(8, 4, &s);
	uint8_t p[64];
	ipv6_hdr h;
	nd_msg m;
	(void)state;

	feed(n, SEC, v6_ns, sizeof v6_ns, &s);
	assert_int_equal(s.n, 1);
	mkpkt(p, A1);
	assert_int_equal(nd_output(n, SEC, p, 40, out, &s), 0);
	assert_int_equal(s.n, 3);                 /* a probe, then the packet */
	sent_nd(&s, 1, &h, &m);
	assert_int_equal(m.type, ND_NEIGHBOR_SOLICIT);
	assert_memory_equal(h.dst, A1, 16);       /* unicast */
	assert_memory_equal(s.f[1], k_mac, 6);
	assert_memory_equal(s.f[2] + 14, p, 40);
	nd_output(n, SEC + 1, p, 40, out, &s);    /* within a second: no probe */
	assert_int_equal(s.n, 4);
	nd_output(n, 2 * SEC, p, 40, out, &s);
	nd_output(n, 3 * SEC, p, 40, out, &s);
	assert_int_equal(s.n, 8);                 /* probes 2 and 3 */
	/* Three unanswered: resolved again by multicast, the packet waits. */
	assert_int_equal(nd_output(n, 4 * SEC, p, 40, out, &s), 0);
	assert_int_equal(s.n, 9);
	sent_nd(&s, 8, &h, &m);
	assert_true(ip6_is_solicited_node(h.dst));
	/* The kernel's NA answers: REACHABLE, the packet goes. */
	feed(n, 4 * SEC, v6_na, sizeof v6_na, &s);
	assert_int_equal(s.n, 10);
	/* Fresh: no probe; in the last quarter (22.5 s on): one. */
	nd_output(n, 20 * SEC, p, 40, out, &s);
	assert_int_equal(s.n, 11);
	nd_output(n, 4 * SEC + ND_REACHABLE_NS / 4 * 3, p, 40, out, &s);
	assert_int_equal(s.n, 13);
	/* Expired and unused: STALE, then gone. */
	nd_advance(n, 4 * SEC + ND_REACHABLE_NS, out, &s);
	uint8_t mac[6];
	assert_true(nd_lookup(n, A1, mac));
	assert_true(nd_next_deadline(n) > 4 * SEC + ND_REACHABLE_NS);
	nd_advance(n, 5 * SEC + ND_REACHABLE_NS + ND_STALE_NS, out, &s);
	assert_false(nd_lookup(n, A1, mac));
	assert_int_equal(nd_entries(n), 0);
	nd_free(n);
}

/* §7.2.5: without O, a different address only makes an entry STALE. */
static void test_na_override(void **state)
{
	struct sent s;
	nd_cache *n = mk(8, 4, &s);
	uint8_t p[64], mac[6], *b = malloc(sizeof v6_na);
	(void)state;

	assert_non_null(b);
	mkpkt(p, A1);
	nd_output(n, SEC, p, 40, out, &s);
	feed(n, SEC, v6_na, sizeof v6_na, &s);
	memcpy(b, v6_na, sizeof v6_na);
	b[71] = 0x99;                              /* another MAC */
	b[44] = 0x40;                              /* S, not O */
	wr16(b + 42, 0);
	wr16(b + 42, csum_fold(csum_partial(b + 40, sizeof v6_na - 40,
			csum_pseudo6(b + 8, b + 24, IP_PROTO_ICMPV6, sizeof v6_na - 40))));
	feed(n, 2 * SEC, b, sizeof v6_na, &s);
	assert_true(nd_lookup(n, A1, mac));
	assert_memory_equal(mac, k_mac, 6);
	b[44] = 0x60;                              /* S and O */
	wr16(b + 42, 0);
	wr16(b + 42, csum_fold(csum_partial(b + 40, sizeof v6_na - 40,
			csum_pseudo6(b + 8, b + 24, IP_PROTO_ICMPV6, sizeof v6_na - 40))));
	feed(n, 3 * SEC, b, sizeof v6_na, &s);
	assert_true(nd_lookup(n, A1, mac));
	assert_int_equal(mac[5], 0x99);
	/* A malformed NS (hop limit 254) is counted, not answered. */
	int sent = s.n;
	memcpy(b, v6_ns, sizeof v6_ns);
	b[7] = 254;
	nd_stats st;
	feed(n, 3 * SEC, b, sizeof v6_ns, &s);
	nd_get_stats(n, &st);
	assert_int_equal(st.bad, 1);
	assert_int_equal(s.n, sent);
	free(b);
	nd_free(n);
}

/* DAD: the probe is Linux's but for the nonce; another node's probe or
 * an NA for the address makes it a duplicate; our own probe looped back
 * does not; until DAD ends the address is not answered for. */
static void test_dad(void **state)
{
	struct sent s;
	nd_cache *n = nd_new(our_mac, 8, 4);
	ipv6_hdr h;
	nd_msg m;
	nd_stats st;
	(void)state;

	memset(&s, 0, sizeof(s));
	assert_non_null(n);
	assert_int_equal(nd_add_addr(n, SEC, A1, 64, true, out, &s), 0);
	assert_int_equal(nd_add_addr(n, SEC, A1, 64, true, out, &s), -EEXIST);
	assert_int_equal(nd_add_addr(n, SEC, (uint8_t[16]){ 0xff, 2, [15] = 1 }, 64, true,
				     out, &s), -EINVAL);
	assert_int_equal(s.n, 1);
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_TENTATIVE);
	/* Linux's DAD probe for 2001:2::1, byte for byte up to its nonce. */
	assert_int_equal(s.len[0], 14 + sizeof v6_ns_dad);
	assert_memory_equal(s.f[0], ((uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 1 }), 6);
	assert_memory_equal(s.f[0] + 14 + 4, v6_ns_dad + 4, 38);  /* hdr, type/code */
	assert_memory_equal(s.f[0] + 14 + 44, v6_ns_dad + 44, 22); /* target, option head */
	sent_nd(&s, 0, &h, &m);
	assert_true(m.has_nonce);
	/* Our own probe, looped back: still tentative. */
	const uint8_t *ip;
	memcpy(frame, s.f[0], s.len[0]);
	nd_eth_input(n, SEC, frame, s.len[0], &ip, out, &s);
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_TENTATIVE);
	/* An NS from a unicast source for it: ignored (RFC 4862 §5.4.3). */
	uint8_t *b = malloc(sizeof v6_ns);
	assert_non_null(b);
	memcpy(b, v6_ns, sizeof v6_ns);
	memcpy(b + 8, A2, 16);                     /* 2001:2::2 asks for ... */
	memcpy(b + 48, A1, 16);                    /* ... 2001:2::1 */
	b[39] = 1;
	wr16(b + 42, 0);
	wr16(b + 42, csum_fold(csum_partial(b + 40, sizeof v6_ns - 40,
			csum_pseudo6(b + 8, b + 24, IP_PROTO_ICMPV6, sizeof v6_ns - 40))));
	feed(n, SEC + 10, b, sizeof v6_ns, &s);
	assert_int_equal(s.n, 1);
	/* DAD ends after a second; then the same NS is answered. */
	assert_int_equal(nd_next_deadline(n), 2 * SEC);
	nd_advance(n, 2 * SEC, out, &s);
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_PREFERRED);
	feed(n, 2 * SEC, b, sizeof v6_ns, &s);
	assert_int_equal(s.n, 2);
	/* A probe for our preferred address is defended to all-nodes. */
	feed(n, 3 * SEC, v6_ns_dad, sizeof v6_ns_dad, &s);
	assert_int_equal(s.n, 3);
	sent_nd(&s, 2, &h, &m);
	assert_int_equal(m.type, ND_NEIGHBOR_ADVERT);
	assert_true(ip6_is_all_nodes(h.dst));
	assert_int_equal(m.flags, ND_NA_OVERRIDE);
	free(b);
	nd_free(n);

	/* Another node's probe while tentative: duplicate, never answered. */
	memset(&s, 0, sizeof(s));
	n = nd_new(our_mac, 8, 4);
	assert_non_null(n);
	nd_add_addr(n, SEC, A1, 64, true, out, &s);
	feed(n, SEC + 5, v6_ns_dad, sizeof v6_ns_dad, &s);
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_DUPLICATE);
	nd_advance(n, 3 * SEC, out, &s);
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_DUPLICATE);
	feed(n, 3 * SEC, v6_ns_dad, sizeof v6_ns_dad, &s);
	assert_int_equal(s.n, 1);
	nd_get_stats(n, &st);
	assert_int_equal(st.dad_failed, 1);
	nd_free(n);

	/* An NA for it while tentative: duplicate. The kernel's NA is for
	 * 2001:2::1 (to 2001:2::2, our other address). */
	memset(&s, 0, sizeof(s));
	n = nd_new(our_mac, 8, 4);
	assert_non_null(n);
	nd_add_addr(n, SEC, A2, 64, false, out, &s);
	nd_add_addr(n, SEC, A1, 64, true, out, &s);
	feed(n, SEC + 5, v6_na, sizeof v6_na, &s);
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_DUPLICATE);
	assert_int_equal(nd_addr_state(n, A2), ND_ADDR_PREFERRED);
	assert_int_equal(nd_addr_state(n, (uint8_t[16]){ 0x20, 1, 0, 2, [15] = 7 }), ND_ADDR_NONE);
	nd_free(n);
}

/* Off-link destinations go to the router: none (no route), one set, one
 * advertised (the crafted RA from fe80::1, lifetime 1800 s). */
static void test_router(void **state)
{
	struct sent s;
	nd_cache *n = mk(8, 4, &s);
	uint8_t p[64], r[16], mac[6];
	uint8_t far[16] = { 0x20, 0x01, 0x00, 0x02, 0x00, 0xff, [15] = 1 };  /* 2001:2:ff::1 */
	uint8_t rtr[16] = { 0xfe, 0x80, [15] = 1 };
	nd_stats st;
	ipv6_hdr h;
	nd_msg m;
	(void)state;

	mkpkt(p, far);
	assert_int_equal(nd_output(n, SEC, p, 40, out, &s), -ENETUNREACH);
	nd_get_stats(n, &st);
	assert_int_equal(st.no_route, 1);
	assert_false(nd_router(n, SEC, r));
	/* The RA makes fe80::1 the router, with its MAC. */
	assert_int_equal(feed(n, SEC, v6_ra_crafted, sizeof v6_ra_crafted, &s), 0);
	assert_true(nd_router(n, SEC, r));
	assert_memory_equal(r, rtr, 16);
	assert_true(nd_lookup(n, rtr, mac));
	assert_memory_equal(mac, ((uint8_t[]){ 2, 0, 0, 0, 0, 0xfe }), 6);
	s.n = 0;
	assert_int_equal(nd_output(n, 2 * SEC, p, 40, out, &s), 0);
	/* STALE: a unicast probe, and the packet to the router's MAC. */
	assert_memory_equal(s.f[s.n - 1], mac, 6);
	assert_memory_equal(s.f[s.n - 1] + 14, p, 40);
	/* Its lifetime ends: no route again. */
	assert_true(nd_next_deadline(n) <= SEC + 1800 * SEC);
	nd_advance(n, SEC + 1800 * SEC, out, &s);
	assert_false(nd_router(n, SEC + 1800 * SEC, r));
	/* A configured router wins over advertisements. */
	uint8_t cfg[16] = { 0xfe, 0x80, [15] = 0x42 };
	nd_set_router(n, cfg);
	feed(n, 1900 * SEC, v6_ra_crafted, sizeof v6_ra_crafted, &s);
	assert_true(nd_router(n, 1900 * SEC, r));
	assert_memory_equal(r, cfg, 16);
	s.n = 0;
	nd_output(n, 1900 * SEC, p, 40, out, &s);
	assert_int_equal(s.n, 1);
	sent_nd(&s, 0, &h, &m);
	assert_memory_equal(m.target, cfg, 16);
	nd_free(n);
}

/* A heap copy of the kernel's packet k to edit (resum then makes its
 * ICMPv6 checksum right again). */
static uint8_t *edited(const uint8_t *k, size_t len)
{
	uint8_t *b = malloc(len);

	assert_non_null(b);
	memcpy(b, k, len);
	return b;
}

static void resum(uint8_t *b, size_t len)
{
	wr16(b + 42, 0);
	wr16(b + 42, csum_fold(csum_partial(b + 40, len - 40,
			csum_pseudo6(b + 8, b + 24, IP_PROTO_ICMPV6, len - 40))));
}

/* What no one can write into the cache (RFC 4861 §7.2.3, §7.2.5, §6.3.4):
 * an NA for an address we are not resolving makes no entry; a group MAC
 * is nobody's link-layer address, in an NS or in an NA; an NA claiming
 * an address of ours changes nothing; an NS for someone else's address
 * is not answered; an RA of lifetime 0 from our router ends it at once. */
static void test_cache_not_poisoned(void **state)
{
	struct sent s;
	nd_cache *n = mk(8, 4, &s);
	uint8_t p[64], mac[6], r[16];
	uint8_t *b;
	nd_stats st;
	(void)state;

	/* the kernel's unsolicited NA for 2001:2::1: no entry */
	feed(n, SEC, v6_na, sizeof v6_na, &s);
	assert_int_equal(nd_entries(n), 0);
	assert_false(nd_lookup(n, A1, mac));
	/* its NS with a group MAC as its link-layer address: answered (to
	 * that MAC, as it asks), not learned */
	b = edited(v6_ns, sizeof v6_ns);
	b[66] |= 1;
	resum(b, sizeof v6_ns);
	feed(n, SEC, b, sizeof v6_ns, &s);
	assert_int_equal(s.n, 1);
	assert_false(nd_lookup(n, A1, mac));
	assert_int_equal(nd_entries(n), 0);
	/* an NS for 2001:2::5 (the same solicited-node group): not ours */
	b[66] &= (uint8_t)~1;
	b[63] = 5;
	resum(b, sizeof v6_ns);
	feed(n, SEC, b, sizeof v6_ns, &s);
	assert_int_equal(s.n, 1);
	nd_get_stats(n, &st);
	assert_int_equal(st.not_for_us, 1);
	free(b);
	/* resolving 2001:2::1: an NA whose target address is a group MAC
	 * leaves it unresolved; the real one resolves it */
	mkpkt(p, A1);
	assert_int_equal(nd_output(n, 2 * SEC, p, 40, out, &s), 0);
	b = edited(v6_na, sizeof v6_na);
	b[66] |= 1;
	resum(b, sizeof v6_na);
	feed(n, 2 * SEC, b, sizeof v6_na, &s);
	assert_false(nd_lookup(n, A1, mac));
	free(b);
	feed(n, 2 * SEC, v6_na, sizeof v6_na, &s);
	assert_true(nd_lookup(n, A1, mac));
	assert_memory_equal(mac, k_mac, 6);
	nd_free(n);

	/* 2001:2::1 ours and preferred: the kernel's NA for it is bad */
	n = mk(8, 4, &s);
	assert_int_equal(nd_add_addr(n, SEC, A1, 64, false, out, &s), 0);
	feed(n, SEC, v6_na, sizeof v6_na, &s);
	nd_get_stats(n, &st);
	assert_int_equal(st.bad, 1);
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_PREFERRED);
	assert_int_equal(nd_entries(n), 0);
	nd_free(n);

	/* the router's RA, then one of lifetime 0 */
	n = mk(8, 4, &s);
	feed(n, SEC, v6_ra_crafted, sizeof v6_ra_crafted, &s);
	assert_true(nd_router(n, SEC, r));
	b = edited(v6_ra_crafted, sizeof v6_ra_crafted);
	wr16(b + 46, 0);
	resum(b, sizeof v6_ra_crafted);
	feed(n, 2 * SEC, b, sizeof v6_ra_crafted, &s);
	assert_false(nd_router(n, 2 * SEC, r));
	/* from another router: ours stays */
	feed(n, 3 * SEC, v6_ra_crafted, sizeof v6_ra_crafted, &s);
	b[8 + 15] = 2;
	resum(b, sizeof v6_ra_crafted);
	feed(n, 3 * SEC, b, sizeof v6_ra_crafted, &s);
	assert_true(nd_router(n, 3 * SEC, r));
	free(b);
	nd_free(n);
}

/* The kernel's NA for 2001:2::1 edited: NA flags byte `flags` (0x40 S,
 * 0x20 O), its target link-layer address's last byte `mac5` (the first
 * `mac0`), or no such option at all (tll false). Freed by the caller. */
static uint8_t *na_edit(uint8_t flags, bool tll, uint8_t mac0, uint8_t mac5, size_t *len)
{
	uint8_t *b = edited(v6_na, sizeof v6_na);

	*len = tll ? sizeof v6_na : 64;
	b[5] = (uint8_t)(*len - 40);
	b[44] = flags;
	b[66] = mac0;
	b[71] = mac5;
	resum(b, *len);
	return b;
}

/* An entry for 2001:2::1 being resolved, one packet waiting. */
static nd_cache *mk_incomplete(struct sent *s, uint8_t *p)
{
	nd_cache *n = mk(8, 4, s);

	mkpkt(p, A1);
	assert_int_equal(nd_output(n, SEC, p, 40, out, s), 0);
	assert_int_equal(s->n, 1);                 /* the NS */
	return n;
}

/* RFC 4861 §7.2.5, an entry being resolved: an NA without a target
 * link-layer address is discarded; an unsolicited one (O only) resolves
 * it STALE (probed before its next use), a solicited one REACHABLE. */
static void test_na_incomplete(void **state)
{
	struct sent s;
	uint8_t p[64], mac[6];
	size_t len;
	uint8_t *b;
	ipv6_hdr h;
	nd_msg m;
	(void)state;

	nd_cache *n = mk_incomplete(&s, p);
	b = na_edit(0x60, false, 0x02, 0x01, &len);
	feed(n, SEC + 1, b, len, &s);
	free(b);
	assert_false(nd_lookup(n, A1, mac));
	assert_int_equal(s.n, 1);                  /* the packet still waits */
	b = na_edit(0x20, true, 0x02, 0x01, &len);
	feed(n, SEC + 2, b, len, &s);
	free(b);
	assert_true(nd_lookup(n, A1, mac));
	assert_memory_equal(mac, k_mac, 6);
	assert_int_equal(s.n, 2);                  /* it went */
	assert_int_equal(nd_output(n, 3 * SEC, p, 40, out, &s), 0);
	assert_int_equal(s.n, 4);                  /* STALE: a probe first */
	sent_nd(&s, 2, &h, &m);
	assert_int_equal(m.type, ND_NEIGHBOR_SOLICIT);
	assert_memory_equal(h.dst, A1, 16);
	assert_memory_equal(s.f[3] + 14, p, 40);
	nd_free(n);

	/* Solicited: REACHABLE, no probe. */
	n = mk_incomplete(&s, p);
	feed(n, SEC + 2, v6_na, sizeof v6_na, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(nd_output(n, 3 * SEC, p, 40, out, &s), 0);
	assert_int_equal(s.n, 3);
	nd_free(n);
}

/* §7.2.5, a resolved entry (REACHABLE): an unsolicited override NA with
 * another address updates it and makes it STALE (probed before its next
 * use); a group MAC is never taken as its address. */
static void test_na_resolved(void **state)
{
	struct sent s;
	uint8_t p[64], mac[6];
	size_t len;
	uint8_t *b;
	ipv6_hdr h;
	nd_msg m;
	(void)state;

	nd_cache *n = mk_incomplete(&s, p);
	feed(n, SEC + 2, v6_na, sizeof v6_na, &s);
	b = na_edit(0x20, true, 0x02, 0x99, &len);
	feed(n, 2 * SEC, b, len, &s);
	free(b);
	assert_true(nd_lookup(n, A1, mac));
	assert_int_equal(mac[5], 0x99);
	s.n = 0;
	assert_int_equal(nd_output(n, 3 * SEC, p, 40, out, &s), 0);
	assert_int_equal(s.n, 2);                  /* STALE: probed, then sent */
	sent_nd(&s, 0, &h, &m);
	assert_int_equal(m.type, ND_NEIGHBOR_SOLICIT);
	assert_int_equal(s.f[0][5], 0x99);
	assert_int_equal(s.f[1][5], 0x99);
	/* Solicited again, then an override NA with a group MAC (03:...):
	 * the address stays. */
	feed(n, 4 * SEC, v6_na, sizeof v6_na, &s);
	b = na_edit(0x20, true, 0x03, 0x77, &len);
	feed(n, 4 * SEC, b, len, &s);
	free(b);
	assert_true(nd_lookup(n, A1, mac));
	assert_memory_equal(mac, k_mac, 6);
	nd_free(n);
}

/* RFC 4862 §5.4.3: a DAD probe without a nonce (RFC 7527 is optional;
 * most nodes send none) is another node's: the tentative address is a
 * duplicate. */
static void test_dad_probe_without_nonce(void **state)
{
	struct sent s;
	nd_cache *n = nd_new(our_mac, 8, 4);
	uint8_t *b = edited(v6_ns_dad, 64);
	(void)state;

	memset(&s, 0, sizeof(s));
	assert_non_null(n);
	assert_int_equal(nd_add_addr(n, SEC, A1, 64, true, out, &s), 0);
	b[5] = 24;
	resum(b, 64);
	feed(n, SEC + 5, b, 64, &s);
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_DUPLICATE);
	free(b);
	nd_free(n);
}

/* What nd_input refuses before looking at the message (RFC 4861 §7.1.1:
 * a valid ICMP checksum; a destination of ours): an NS with a bad
 * checksum, one to all-routers (a group we are not in) and one to an
 * address not ours, though in frames to our MAC. Then what an NS from a
 * known neighbour tells: its new MAC (§7.2.3). */
static void test_ns_refused_and_learned(void **state)
{
	struct sent s;
	nd_cache *n = mk(8, 4, &s);
	uint8_t *b = edited(v6_ns, sizeof v6_ns), mac[6];
	const uint8_t *ip;
	nd_stats st;
	size_t fl;
	(void)state;

	b[42] ^= 0x40;                             /* checksum off */
	fl = eth(our_mac, k_mac, b, sizeof v6_ns);
	assert_int_equal(nd_eth_input(n, SEC, frame, fl, &ip, out, &s), 0);
	nd_get_stats(n, &st);
	assert_int_equal(st.bad, 1);
	assert_int_equal(st.ns_rcvd, 0);
	memcpy(b + 24, (uint8_t[16]){ 0xff, 0x02, [15] = 2 }, 16);   /* ff02::2 */
	resum(b, sizeof v6_ns);
	fl = eth(our_mac, k_mac, b, sizeof v6_ns);
	assert_int_equal(nd_eth_input(n, SEC, frame, fl, &ip, out, &s), 0);
	memcpy(b + 24, A1, 16);                    /* the sender's own address */
	resum(b, sizeof v6_ns);
	fl = eth(our_mac, k_mac, b, sizeof v6_ns);
	assert_int_equal(nd_eth_input(n, SEC, frame, fl, &ip, out, &s), 0);
	nd_get_stats(n, &st);
	assert_int_equal(st.not_for_us, 2);
	assert_int_equal(st.ns_rcvd, 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(nd_entries(n), 0);
	/* The real NS: learned; then one with another MAC: relearned. */
	feed(n, SEC, v6_ns, sizeof v6_ns, &s);
	assert_true(nd_lookup(n, A1, mac));
	assert_memory_equal(mac, k_mac, 6);
	memcpy(b, v6_ns, sizeof v6_ns);
	b[71] = 0x42;
	resum(b, sizeof v6_ns);
	feed(n, 2 * SEC, b, sizeof v6_ns, &s);
	assert_true(nd_lookup(n, A1, mac));
	assert_int_equal(mac[5], 0x42);
	assert_int_equal(s.n, 2);                  /* both answered */
	assert_int_equal(s.f[1][5], 0x42);
	free(b);
	nd_free(n);
}

/* The frames nd_eth_input hands up or refuses: ICMPv6 of a type past
 * the ND range (here 139) goes up whole; a frame with nothing after its
 * Ethernet header is bad. nd_output refuses a packet no frame holds. The
 * addresses nd_add_addr refuses; more than four addresses (the list
 * grows). */
static void test_frames_and_addresses(void **state)
{
	struct sent s;
	nd_cache *n = mk(8, 4, &s);
	uint8_t *b = edited(v6_echo_req, sizeof v6_echo_req);
	const uint8_t *ip;
	nd_stats st;
	size_t fl;
	(void)state;

	b[40] = 139;
	fl = eth(our_mac, k_mac, b, sizeof v6_echo_req);
	assert_int_equal(nd_eth_input(n, SEC, frame, fl, &ip, out, &s), sizeof v6_echo_req);
	assert_ptr_equal(ip, frame + 14);
	free(b);
	assert_int_equal(nd_eth_input(n, SEC, frame, 14, &ip, out, &s), 0);
	nd_get_stats(n, &st);
	assert_int_equal(st.bad, 1);
	assert_int_equal(s.n, 0);

	size_t big = 40 + 65535 + 1;
	uint8_t *p = calloc(1, big);
	assert_non_null(p);
	mkpkt(p, A1);
	assert_int_equal(nd_output(n, SEC, p, big, out, &s), -EMSGSIZE);
	assert_int_equal(nd_output(n, SEC, p, big - 1, out, &s), 0);   /* waits */
	free(p);

	static const uint8_t bad[][16] = {
		{ 0 },                                   /* :: */
		{ [15] = 1 },                            /* ::1 */
		{ [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 }, /* ::ffff:192.0.2.1 */
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(nd_add_addr(n, SEC, bad[i], 64, false, out, &s), -EINVAL);
	assert_int_equal(nd_add_addr(n, SEC, A1, 129, false, out, &s), -EINVAL);
	uint8_t a[16];
	memcpy(a, A2, 16);
	for (uint8_t k = 0x10; k < 0x19; k++) {
		a[15] = k;
		assert_int_equal(nd_add_addr(n, SEC, a, 64, false, out, &s), 0);
	}
	for (uint8_t k = 0x10; k < 0x19; k++) {
		a[15] = k;
		assert_int_equal(nd_addr_state(n, a), ND_ADDR_PREFERRED);
	}
	assert_int_equal(nd_addr_state(n, A2), ND_ADDR_PREFERRED);
	nd_free(n);
}

/* nd_advance acts on what is due only: of two addresses being resolved
 * the one whose retry is not due waits; a STALE entry (the router's,
 * learned from its RA) lives until ND_STALE_NS unused, the router until
 * its lifetime ends (then it is gone, advanced or not); nd_next_deadline
 * is the earliest of them. */
static void test_advance_only_due(void **state)
{
	struct sent s;
	nd_cache *n = mk(8, 4, &s);
	uint8_t p[64], mac[6], r[16];
	uint8_t b3[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 3 };
	uint8_t rtr[16] = { 0xfe, 0x80, [15] = 1 };
	ipv6_hdr h;
	nd_msg m;
	(void)state;

	feed(n, SEC, v6_ra_crafted, sizeof v6_ra_crafted, &s);
	mkpkt(p, A1);
	assert_int_equal(nd_output(n, SEC, p, 40, out, &s), 0);
	mkpkt(p, b3);
	assert_int_equal(nd_output(n, SEC + SEC / 2, p, 40, out, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(nd_next_deadline(n), 2 * SEC);
	nd_advance(n, 2 * SEC, out, &s);
	assert_int_equal(s.n, 3);                  /* A1's retry alone */
	sent_nd(&s, 2, &h, &m);
	assert_memory_equal(m.target, A1, 16);
	assert_true(nd_lookup(n, rtr, mac));
	assert_true(nd_router(n, 2 * SEC, r));
	assert_int_equal(nd_next_deadline(n), 2 * SEC + SEC / 2);
	/* The router's lifetime over, before any nd_advance: no router. */
	uint8_t far[16] = { 0x20, 0x01, 0x00, 0x02, 0x00, 0xff, [15] = 1 };
	mkpkt(p, far);
	assert_false(nd_router(n, SEC + 1800 * SEC, r));
	assert_int_equal(nd_output(n, SEC + 1800 * SEC, p, 40, out, &s), -ENETUNREACH);
	assert_true(nd_router(n, SEC + 1800 * SEC - 1, r));
	nd_free(n);
}

/* RFC 4862 §5.4: a tentative address is not assigned yet, never the
 * source of our NS (nor one found a duplicate): the preferred one is. */
static void test_ns_source_preferred(void **state)
{
	struct sent s;
	nd_cache *n = nd_new(our_mac, 8, 4);
	uint8_t p[64], b3[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 3 };
	ipv6_hdr h;
	nd_msg m;
	(void)state;

	memset(&s, 0, sizeof(s));
	assert_non_null(n);
	assert_int_equal(nd_add_addr(n, SEC, A1, 64, true, out, &s), 0);
	assert_int_equal(nd_add_addr(n, SEC, A2, 64, false, out, &s), 0);
	assert_int_equal(s.n, 1);                  /* A1's DAD probe */
	mkpkt(p, b3);
	assert_int_equal(nd_output(n, SEC, p, 40, out, &s), 0);
	assert_int_equal(s.n, 2);
	sent_nd(&s, 1, &h, &m);
	assert_int_equal(m.type, ND_NEIGHBOR_SOLICIT);
	assert_memory_equal(h.src, A2, 16);
	nd_free(n);
}

/* What AF_XDP's queues use (xdp.c): an address tentative without a probe
 * of its own; an advertisement no entry asked for, passed on though not
 * learned (§7.2.5); a neighbour taught from another queue's cache; an
 * address another queue found taken, whose holder is then a neighbour
 * like any other; the next hop; IPv6 turned on with the link-local
 * address of the MAC. */
static void test_for_queues(void **state)
{
	struct sent s;
	uint8_t p[64], mac[6], a[16], nh[16], ll[16];
	nd_stats st;
	(void)state;

	/* DAD without the probe: tentative for the same second. */
	nd_cache *n = nd_new(our_mac, 8, 4);
	assert_non_null(n);
	memset(&s, 0, sizeof(s));
	assert_int_equal(nd_add_addr(n, SEC, A1, 64, true, NULL, &s), 0);
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_TENTATIVE);
	nd_get_stats(n, &st);
	assert_int_equal(s.n + st.dad_sent, 0);
	nd_advance(n, 2 * SEC, out, &s);
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_PREFERRED);
	nd_free(n);

	/* The kernel's NA for A1, which nothing here asked for: not
	 * learned, but told once. */
	n = mk(8, 4, &s);
	assert_false(nd_take_advert(n, a, mac));
	feed(n, SEC, v6_na, sizeof v6_na, &s);
	assert_false(nd_lookup(n, A1, mac));
	assert_true(nd_take_advert(n, a, mac));
	assert_memory_equal(a, A1, 16);
	assert_memory_equal(mac, k_mac, 6);
	assert_false(nd_take_advert(n, a, mac));
	/* Taught from elsewhere: usable at once; never for our own address
	 * or with a group MAC. */
	nd_glean(n, SEC, A2, k_mac, out, &s);
	nd_glean(n, SEC, A1, (uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, out, &s);
	assert_false(nd_lookup(n, A2, mac));
	assert_false(nd_lookup(n, A1, mac));
	assert_false(nd_resolve(n, SEC, A1, mac, out, &s));
	nd_glean(n, SEC, A1, k_mac, out, &s);
	assert_true(nd_lookup(n, A1, mac));
	assert_memory_equal(mac, k_mac, 6);
	assert_int_equal(s.n, 0);
	/* The fast path: a usable next hop's MAC, a group's; else nothing
	 * (on the link but unknown; off it with no router). */
	memset(mac, 0, 6);
	assert_true(nd_resolve(n, SEC, A1, mac, out, &s));
	assert_memory_equal(mac, k_mac, 6);
	assert_true(nd_resolve(n, SEC, (uint8_t[16]){ 0xff, 2, [15] = 1 }, mac, out, &s));
	assert_memory_equal(mac, ((uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }), 6);
	assert_false(nd_resolve(n, SEC, (uint8_t[16]){ 0x20, 1, 0, 2, [15] = 7 }, mac, out, &s));
	assert_false(nd_resolve(n, SEC, (uint8_t[16]){ 0x20, 1, 0, 9, [15] = 1 }, mac, out, &s));
	assert_int_equal(s.n, 0);
	nd_free(n);

	/* A packet waiting for A1 goes when another queue teaches it. */
	n = mk_incomplete(&s, p);
	nd_glean(n, SEC + 1, A1, k_mac, out, &s);
	assert_int_equal(s.n, 2);
	assert_memory_equal(s.f[1], k_mac, 6);
	assert_memory_equal(s.f[1] + 14, p, 40);
	nd_free(n);

	/* A1 found taken by another queue: no longer answered for; its
	 * holder's NA resolves it like any neighbour's. */
	n = mk(8, 4, &s);
	assert_int_equal(nd_add_addr(n, SEC, A1, 64, false, out, &s), 0);
	assert_true(nd_set_duplicate(n, A1));
	assert_false(nd_set_duplicate(n, A1));
	assert_false(nd_set_duplicate(n, (uint8_t[16]){ 0x20, 1, 0, 2, [15] = 7 }));
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_DUPLICATE);
	nd_get_stats(n, &st);
	assert_int_equal(st.dad_failed, 0);        /* counted where it was found */
	mkpkt(p, A1);
	assert_int_equal(nd_output(n, SEC, p, 40, out, &s), 0);
	assert_int_equal(s.n, 1);                  /* the NS */
	feed(n, SEC + 1, v6_na, sizeof v6_na, &s);
	assert_true(nd_lookup(n, A1, mac));
	assert_memory_equal(mac, k_mac, 6);
	assert_int_equal(s.n, 2);                  /* the packet went */
	nd_get_stats(n, &st);
	assert_int_equal(st.bad, 0);
	/* ... and another queue's cache may teach it too. */
	nd_cache *q = mk(8, 4, &s);
	assert_int_equal(nd_add_addr(q, SEC, A1, 64, false, out, &s), 0);
	nd_set_duplicate(q, A1);
	nd_glean(q, SEC, A1, k_mac, out, &s);
	assert_true(nd_lookup(q, A1, mac));
	nd_free(q);

	/* Next hops: on the link itself; off it the router, when set. */
	uint8_t far[16] = { 0x20, 1, 0, 9, [15] = 1 };
	assert_true(nd_next_hop(n, SEC, A1, nh));
	assert_memory_equal(nh, A1, 16);
	assert_false(nd_next_hop(n, SEC, far, nh));
	nd_set_router(n, A1);
	assert_true(nd_next_hop(n, SEC, far, nh));
	assert_memory_equal(nh, A1, 16);
	nd_free(n);

	/* A device's first address brings the link-local one (DAD for both;
	 * the probes on a queue without out: none). */
	n = NULL;
	memset(&s, 0, sizeof(s));
	assert_int_equal(nd_dev_add_addr(&n, our_mac, SEC, A2, 64, true, out, &s, ll), 0);
	assert_non_null(n);
	assert_memory_equal(ll, ((uint8_t[16]){ 0xfe, 0x80, [8] = 0x00, 0x68, 0x73, 0xff,
						0xfe, 0x12, 0x00, 0x02 }), 16);
	assert_int_equal(nd_addr_state(n, ll), ND_ADDR_TENTATIVE);
	assert_int_equal(nd_addr_state(n, A2), ND_ADDR_TENTATIVE);
	assert_int_equal(s.n, 2);
	assert_int_equal(nd_dev_add_addr(&n, our_mac, SEC, A1, 64, true, NULL, &s, NULL), 0);
	assert_int_equal(nd_addr_state(n, A1), ND_ADDR_TENTATIVE);
	assert_int_equal(s.n, 2);
	assert_int_equal(nd_dev_add_addr(&n, our_mac, SEC, A1, 64, true, out, &s, NULL), -EEXIST);
	nd_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_ns),
		cmocka_unit_test(test_mac_filter),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_retries_and_bounds),
		cmocka_unit_test(test_stale_and_refresh),
		cmocka_unit_test(test_na_override),
		cmocka_unit_test(test_dad),
		cmocka_unit_test(test_router),
		cmocka_unit_test(test_cache_not_poisoned),
		cmocka_unit_test(test_na_incomplete),
		cmocka_unit_test(test_na_resolved),
		cmocka_unit_test(test_dad_probe_without_nonce),
		cmocka_unit_test(test_ns_refused_and_learned),
		cmocka_unit_test(test_frames_and_addresses),
		cmocka_unit_test(test_advance_only_due),
		cmocka_unit_test(test_ns_source_preferred),
		cmocka_unit_test(test_for_queues),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
