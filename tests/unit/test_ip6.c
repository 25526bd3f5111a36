/*
 * The IPv6 path of the IP layer through a whole stack (hsk_stack_input ->
 * ip_input -> ip6_input): Linux's echo requests answered (whole, atomic
 * and in fragments); the kernel's own parameter problems reproduced byte
 * for byte for the same crafted packets; martian sources and
 * destinations dropped and counted; the rate limit of RFC 4443 §2.4(f);
 * §2.4(e)'s silences; segments and ICMPv6 errors handed to the upper
 * layer through input6 and ip_icmp_err6 (packet too big in ICMPv4's
 * terms; one below 1280 discarded; every error type and code translated), never
 * when sent to a group or quoting less than a packet's start; the limit
 * of eight extension headers counted; the address list; source selection by the
 * longest matching prefix at every length; and a stack with no IPv6
 * address treats IPv6 exactly as before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handshake.h"
#include "stack/stack.h"
#include "wire/ipv6.h"
#include "ipv6_vectors.h"

#define MS 1000000ull

static const uint8_t A1[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 1 };  /* 2001:2::1 */
static const uint8_t A2[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 2 };  /* 2001:2::2 */

struct cap {
	int n;
	uint8_t last[4096];
	size_t len;
	/* the upper layer's view */
	int segs, errs;
	size_t seg_len;
	ipv6_hdr seg_ip;
	ip_icmp_err6 err;
	bool err_v6;
};

static void capture(void *ctx, const uint8_t *pkt, size_t len)
{
	struct cap *c = ctx;

	c->n++;
	c->len = len < sizeof(c->last) ? len : sizeof(c->last);
	memcpy(c->last, pkt, c->len);
}

static hsk_stack *new_stack(struct cap *c, const uint8_t addr6[16], uint16_t mtu)
{
	hsk_config cfg;
	hsk_link link = { .ctx = c, .transmit = capture };
	hsk_stack *s;

	hsk_config_default(&cfg);
	cfg.addr = 0xc6120002u;
	cfg.prefix_len = 24;
	cfg.seed = 5;
	if (mtu)
		cfg.mtu = mtu;
	memset(c, 0, sizeof(*c));
	s = hsk_stack_new(&cfg, &link, 1000 * MS);
	assert_non_null(s);
	if (addr6)
		assert_int_equal(ip_addr_add(&s->ip, IP_FAM6, addr6, 64), 0);
	return s;
}

static void in(hsk_stack *s, const uint8_t *pkt, size_t len, uint64_t t_ms)
{
	uint8_t *b = malloc(len);

	assert_non_null(b);
	memcpy(b, pkt, len);
	hsk_stack_input(s, t_ms * MS, b, len);
	free(b);
}

static uint64_t cnt(hsk_stack *s, const char *name)
{
	return hsk_counter_by_name(s, name);
}

/* Our packet equals the kernel's but for the flow label (bytes 1-3). */
static void same_as_kernel(const struct cap *c, const uint8_t *k, size_t klen)
{
	assert_int_equal(c->len, klen);
	assert_int_equal(c->last[0], k[0] & 0xf0);
	assert_memory_equal(c->last + 4, k + 4, klen - 4);
}

static void test_echo(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, A2, 0);
	ipv6_hdr h;
	const uint8_t *p;
	size_t pl;
	icmp_hdr ih;
	const uint8_t *body;
	size_t bl;
	(void)state;

	in(s, v6_echo_req, sizeof v6_echo_req, 1001);
	assert_int_equal(c.n, 1);
	assert_int_equal(ipv6_parse(c.last, c.len, &h, &p, &pl), WIRE_OK);
	assert_memory_equal(h.src, A2, 16);
	assert_memory_equal(h.dst, A1, 16);
	assert_int_equal(h.hop_limit, 64);
	assert_int_equal(h.next, IP_PROTO_ICMPV6);
	assert_int_equal(icmp6_parse(p, pl, h.src, h.dst, &ih, &body, &bl), WIRE_OK);
	assert_int_equal(ih.type, ICMP6_ECHO_REPLY);
	assert_int_equal(ih.rest, 1);
	assert_int_equal(bl, 15);
	assert_memory_equal(body, "handshake-ping6", 15);
	assert_int_equal(cnt(s, "Ip6InReceives"), 1);
	assert_int_equal(cnt(s, "Icmp6InEchos"), 1);
	assert_int_equal(cnt(s, "Icmp6OutEchoReplies"), 1);
	assert_int_equal(cnt(s, "Ip6OutRequests"), 1);
	assert_int_equal(cnt(s, "InReceives"), 0);    /* IPv4's */
	hsk_stack_free(s);
}

/* RFC 6946: the kernel answered our atomic fragment as a plain request;
 * so do we, with the same bytes. */
static void test_atomic_fragment(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, A1, 0);
	(void)state;

	in(s, v6_atomic_crafted, sizeof v6_atomic_crafted, 1001);
	assert_int_equal(c.n, 1);
	same_as_kernel(&c, v6_atomic_rep, sizeof v6_atomic_rep);
	assert_int_equal(cnt(s, "Ip6ReasmReqds"), 0);
	hsk_stack_free(s);
}

/* Linux's 3008-byte echo request in three fragments, in any order. */
static void test_fragmented_echo(void **state)
{
	static const int orders[][3] = { { 0, 1, 2 }, { 2, 0, 1 }, { 1, 2, 0 } };
	const uint8_t *f[3] = { v6_frag1, v6_frag2, v6_frag3 };
	size_t fl[3] = { sizeof v6_frag1, sizeof v6_frag2, sizeof v6_frag3 };
	(void)state;

	for (int o = 0; o < 3; o++) {
		struct cap c;
		hsk_stack *s = new_stack(&c, A2, 9000);
		ipv6_hdr h;
		const uint8_t *p, *body;
		size_t pl, bl;
		icmp_hdr ih;

		for (int i = 0; i < 3; i++)
			in(s, f[orders[o][i]], fl[orders[o][i]], 1001);
		assert_int_equal(cnt(s, "Ip6ReasmReqds"), 3);
		assert_int_equal(cnt(s, "Ip6ReasmOKs"), 1);
		assert_int_equal(c.n, 1);
		assert_int_equal(ipv6_parse(c.last, c.len, &h, &p, &pl), WIRE_OK);
		assert_int_equal(icmp6_parse(p, pl, h.src, h.dst, &ih, &body, &bl), WIRE_OK);
		assert_int_equal(ih.type, ICMP6_ECHO_REPLY);
		assert_int_equal(ih.rest, 2);
		assert_int_equal(bl, 3000);
		for (size_t i = 0; i < bl; i++)
			assert_int_equal(body[i], i % 256);
		hsk_stack_free(s);
	}
}

/* Each crafted packet gets the answer the kernel gave, byte for byte:
 * the same type, code, pointer, quote and checksum. */
static void test_parameter_problems_as_linux(void **state)
{
	static const struct {
		const uint8_t *pkt, *err;
		size_t len, elen;
		const char *what;
	} cases[] = {
		{ v6_unknown_nh_crafted, v6_unknown_nh_err, sizeof v6_unknown_nh_crafted,
		  sizeof v6_unknown_nh_err, "next header 253" },
		{ v6_dstopt_10_crafted, v6_dstopt_10_err, sizeof v6_dstopt_10_crafted,
		  sizeof v6_dstopt_10_err, "unknown option, action 10" },
		{ v6_rh0_crafted, v6_rh0_err, sizeof v6_rh0_crafted, sizeof v6_rh0_err,
		  "routing header type 0" },
		{ v6_frag_len_crafted, v6_frag_len_err, sizeof v6_frag_len_crafted,
		  sizeof v6_frag_len_err, "fragment of 12 bytes" },
	};
	struct cap c;
	hsk_stack *s = new_stack(&c, A1, 0);
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].what);
		in(s, cases[i].pkt, cases[i].len, 1001);
		assert_int_equal(c.n, (int)i + 1);
		same_as_kernel(&c, cases[i].err, cases[i].elen);
	}
	assert_int_equal(cnt(s, "Icmp6OutParmProblems"), 4);
	assert_int_equal(cnt(s, "Ip6InUnknownProtos"), 1);
	assert_int_equal(cnt(s, "Ip6InHdrErrors"), 3);
	hsk_stack_free(s);
}

/* An upper layer speaking IPv6: segments and errors recorded. */
static void up_input6(void *ctx, const ipv6_hdr *ip, const uint8_t *seg, size_t len)
{
	struct cap *c = ctx;

	(void)seg;
	c->segs++;
	c->seg_ip = *ip;
	c->seg_len = len;
}

static void up_error(void *ctx, const ip_icmp_err *e)
{
	struct cap *c = ctx;
	const ip_icmp_err6 *e6 = ip_icmp_err_v6(e);

	c->errs++;
	c->err_v6 = e6 != NULL;
	if (e6)
		c->err = *e6;
}

static void speak_ipv6(hsk_stack *s, struct cap *c)
{
	s->ip.upper.input6 = up_input6;
	s->ip.upper.icmp_error = up_error;
	s->ip.upper.ctx = c;
}

/* Without input6 a TCP segment is an unknown next header (code 1, as the
 * kernel answers for a protocol it lacks); with it, it goes up. (The
 * stack's TCP has input6: taken away here to see the IP layer alone.) */
static void test_tcp_up(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, A2, 0);
	uint8_t icmp[8];
	(void)state;

	s->ip.upper.input6 = NULL;
	in(s, v6_tcp_syn, sizeof v6_tcp_syn, 1001);
	assert_int_equal(c.n, 1);
	memcpy(icmp, c.last + 40, 8);
	assert_int_equal(icmp[0], ICMP6_PARAM_PROB);
	assert_int_equal(icmp[1], ICMP6_PP_NEXTHDR);
	assert_int_equal(rd32(icmp + 4), 6);
	speak_ipv6(s, &c);
	in(s, v6_tcp_syn, sizeof v6_tcp_syn, 2001);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.segs, 1);
	assert_int_equal(c.seg_len, sizeof v6_tcp_syn - 40);
	assert_memory_equal(c.seg_ip.src, A1, 16);
	assert_memory_equal(c.seg_ip.dst, A2, 16);
	/* To a group we are in (all-nodes): never delivered. */
	uint8_t *b = malloc(sizeof v6_tcp_syn);
	assert_non_null(b);
	memcpy(b, v6_tcp_syn, sizeof v6_tcp_syn);
	memcpy(b + 24, (uint8_t[16]){ 0xff, 0x02, [15] = 1 }, 16);
	hsk_stack_input(s, 2002 * MS, b, sizeof v6_tcp_syn);
	free(b);
	assert_int_equal(c.segs, 1);
	assert_int_equal(c.n, 1);
	assert_int_equal(cnt(s, "DropMartianDst"), 1);
	hsk_stack_free(s);
}

/* ip6_input makes its address checks once for the pair of addresses of
 * the last TCP packet that passed them (ip->rx6_pair): each check on more
 * than the pair is still made, and a change of our addresses makes it
 * check the pair again. */
static void test_known_pair6(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, A2, 0);
	const size_t n = sizeof v6_tcp_syn;
	uint8_t b[sizeof v6_tcp_syn];
	(void)state;

	speak_ipv6(s, &c);
	/* none known yet: from :: to :: (a pair never set) is dropped */
	memcpy(b, v6_tcp_syn, n);
	memset(b + 8, 0, 32);
	in(s, b, n, 1001);
	assert_int_equal(cnt(s, "DropMartianDst"), 1);
	assert_int_equal(c.segs, 0);
	/* the pair passes, then is known: handed up both times, alike */
	for (int i = 1; i <= 2; i++) {
		memset(&c.seg_ip, 0, sizeof c.seg_ip);
		in(s, v6_tcp_syn, n, 1001);
		assert_int_equal(c.segs, i);
		assert_int_equal(c.seg_len, n - 40);
		assert_memory_equal(c.seg_ip.src, A1, 16);
		assert_memory_equal(c.seg_ip.dst, A2, 16);
		assert_int_equal(c.seg_ip.next, IP_PROTO_TCP);
		assert_int_equal(c.seg_ip.payload_len, n - 40);
		assert_int_equal(c.seg_ip.hop_limit, v6_tcp_syn[7]);
		/* the addresses' sum TCP's pseudo-header starts from: the
		 * general way's (the parse's) and the known pair's kept one */
		assert_true(c.seg_ip.asum == addr6_pair_sum(A1, A2));
	}
	assert_int_equal(cnt(s, "Ip6InReceives"), 3);
	assert_int_equal(cnt(s, "Ip6InDelivers"), 2);
	assert_int_equal(cnt(s, "Ip6InNoECTPkts") + cnt(s, "Ip6InECT0Pkts") +
			 cnt(s, "Ip6InECT1Pkts") + cnt(s, "Ip6InCEPkts"), 3);
	/* the same pair, not TCP: the echo is answered */
	in(s, v6_echo_req, sizeof v6_echo_req, 1002);
	assert_int_equal(c.n, 1);
	assert_int_equal(cnt(s, "Icmp6InEchos"), 1);
	/* the same pair, cut short: checked as ever */
	in(s, v6_tcp_syn, 39, 1003);
	assert_int_equal(cnt(s, "Ip6InHdrErrors"), 1);
	in(s, v6_tcp_syn, n - 1, 1003);
	assert_int_equal(cnt(s, "Ip6InTruncatedPkts"), 1);
	assert_int_equal(c.segs, 2);
	/* TCP without IPv6: an unknown next header */
	s->ip.upper.input6 = NULL;
	in(s, v6_tcp_syn, n, 1004);
	assert_int_equal(cnt(s, "Ip6InUnknownProtos"), 1);
	speak_ipv6(s, &c);
	/* the source made ours: a land attack */
	assert_int_equal(ip_addr_add(&s->ip, IP_FAM6, A1, 64), 0);
	in(s, v6_tcp_syn, n, 1005);
	assert_int_equal(cnt(s, "DropMartianSrc"), 1);
	assert_int_equal(c.segs, 2);
	static const uint8_t a3[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 3 };
	assert_int_equal(ip_addr_add(&s->ip, IP_FAM6, a3, 64), 0);  /* IPv6 stays on */
	assert_int_equal(ip_addr_del(&s->ip, IP_FAM6, A1), 0);
	in(s, v6_tcp_syn, n, 1006);
	assert_int_equal(c.segs, 3);
	/* the destination ours no more */
	assert_int_equal(ip_addr_del(&s->ip, IP_FAM6, A2), 0);
	in(s, v6_tcp_syn, n, 1007);
	assert_int_equal(cnt(s, "DropNotForUs"), 1);
	assert_int_equal(c.segs, 3);
	hsk_stack_free(s);
}

/* TCP to a group we are in is never handed up, nor is its pair known
 * for the next such packet. */
static void test_group_pair_not_known(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, A2, 0);
	uint8_t b[sizeof v6_tcp_syn];
	(void)state;

	speak_ipv6(s, &c);
	memcpy(b, v6_tcp_syn, sizeof b);
	memcpy(b + 24, (uint8_t[16]){ 0xff, 0x02, [15] = 1 }, 16);
	for (int i = 1; i <= 3; i++) {
		in(s, b, sizeof b, 1001);
		assert_int_equal(cnt(s, "DropMartianDst"), i);
	}
	assert_int_equal(c.segs, 0);
	hsk_stack_free(s);
}

static size_t mkecho(uint8_t *pkt, const uint8_t src[16], const uint8_t dst[16]);

static void test_errors_up(void **state)
{
	struct cap c;
	/* The kernel's packet too big and time exceeded quote segments
	 * 2001:2::2 sent. */
	hsk_stack *s = new_stack(&c, A2, 0);
	(void)state;

	/* Not handed to an upper layer without IPv6. */
	s->ip.upper.input6 = NULL;
	s->ip.upper.ctx = &c;
	s->ip.upper.icmp_error = up_error;
	in(s, v6_ptb, sizeof v6_ptb, 1001);
	assert_int_equal(cnt(s, "Icmp6InPktTooBigs"), 1);
	assert_int_equal(c.errs, 0);
	speak_ipv6(s, &c);
	in(s, v6_ptb, sizeof v6_ptb, 1002);
	assert_int_equal(c.errs, 1);
	assert_true(c.err_v6);
	assert_int_equal(c.err.e.family, IP_FAM6);
	assert_int_equal(c.err.e.type, ICMP_DEST_UNREACH);
	assert_int_equal(c.err.e.code, ICMP_UNREACH_NEEDFRAG);
	assert_int_equal(c.err.e.mtu, 1280);
	assert_int_equal(c.err.type6, ICMP6_PACKET_TOO_BIG);
	assert_int_equal(c.err.e.sport, 40002);
	assert_int_equal(c.err.e.dport, 80);
	assert_int_equal(c.err.e.seq, 0x01020304);
	assert_int_equal(c.err.e.src, 0);
	assert_memory_equal(c.err.src, A2, 16);
	assert_memory_equal(c.err.dst, v6_ptb_crafted + 24, 16);

	/* A packet too big claiming 500 bytes: discarded (RFC 8201 §4: "it
	 * must discard it"; Linux the same). */
	uint8_t *b = malloc(sizeof v6_ptb);
	assert_non_null(b);
	memcpy(b, v6_ptb, sizeof v6_ptb);
	wr32(b + 44, 500);
	wr16(b + 42, 0);
	wr16(b + 42, csum_fold(csum_partial(b + 40, sizeof v6_ptb - 40,
			csum_pseudo6(b + 8, b + 24, IP_PROTO_ICMPV6, sizeof v6_ptb - 40))));
	hsk_stack_input(s, 1003 * MS, b, sizeof v6_ptb);
	assert_int_equal(c.errs, 1);
	/* 1280 exactly is the floor and is taken. */
	wr32(b + 44, 1280);
	wr16(b + 42, 0);
	wr16(b + 42, csum_fold(csum_partial(b + 40, sizeof v6_ptb - 40,
			csum_pseudo6(b + 8, b + 24, IP_PROTO_ICMPV6, sizeof v6_ptb - 40))));
	hsk_stack_input(s, 1003 * MS, b, sizeof v6_ptb);
	assert_int_equal(c.errs, 2);
	assert_int_equal(c.err.e.mtu, 1280);

	/* A quote from someone else's address is not ours to hear. */
	b[48 + 8 + 15] ^= 1;
	wr16(b + 42, 0);
	wr16(b + 42, csum_fold(csum_partial(b + 40, sizeof v6_ptb - 40,
			csum_pseudo6(b + 8, b + 24, IP_PROTO_ICMPV6, sizeof v6_ptb - 40))));
	hsk_stack_input(s, 1004 * MS, b, sizeof v6_ptb);
	assert_int_equal(c.errs, 2);
	free(b);

	in(s, v6_time_exceeded, sizeof v6_time_exceeded, 1005);
	assert_int_equal(c.errs, 3);
	assert_int_equal(c.err.e.type, ICMP_TIME_EXCEEDED);
	assert_int_equal(c.err.e.seq, 77);
	assert_int_equal(c.err.e.sport, 40003);
	/* Port unreachable quoting UDP: not TCP's. */
	in(s, v6_udp_closed_err, sizeof v6_udp_closed_err, 1006);
	assert_int_equal(c.errs, 3);
	assert_int_equal(cnt(s, "Icmp6InDestUnreachs"), 1);
	/* A corrupted error: the checksum. */
	b = malloc(sizeof v6_time_exceeded);
	assert_non_null(b);
	memcpy(b, v6_time_exceeded, sizeof v6_time_exceeded);
	b[60] ^= 0x10;
	hsk_stack_input(s, 1007 * MS, b, sizeof v6_time_exceeded);
	free(b);
	assert_int_equal(c.errs, 3);
	assert_int_equal(cnt(s, "Icmp6InCsumErrors"), 1);
	/* Cut to 3 bytes: an error, not one of the checksum. */
	uint8_t cut[43];
	memcpy(cut, v6_time_exceeded, sizeof cut);
	wr16(cut + 4, 3);
	hsk_stack_input(s, 1008 * MS, cut, sizeof cut);
	assert_int_equal(cnt(s, "Icmp6InErrors"), 2);
	assert_int_equal(cnt(s, "Icmp6InCsumErrors"), 1);
	/* An echo request of code 1 (RFC 4443 §4.1: 0): not answered. */
	uint8_t e[56];
	size_t en = mkecho(e, A1, A2);
	e[41] = 1;
	wr16(e + 42, 0);
	wr16(e + 42, csum_fold(csum_partial(e + 40, en - 40,
			csum_pseudo6(e + 8, e + 24, IP_PROTO_ICMPV6, (uint32_t)(en - 40)))));
	hsk_stack_input(s, 1009 * MS, e, en);
	assert_int_equal(cnt(s, "Icmp6InEchos"), 0);
	assert_int_equal(cnt(s, "Icmp6InErrors"), 3);
	/* No reply to any of them. */
	assert_int_equal(c.n, 0);
	hsk_stack_free(s);
}

/* A crafted echo request (or any ICMPv6 message) src -> dst. */
static size_t mkecho(uint8_t *pkt, const uint8_t src[16], const uint8_t dst[16])
{
	icmp_hdr ih = { .type = ICMP6_ECHO_REQUEST, .rest = 0x00050001 };
	ipv6_hdr h = { .payload_len = 16, .next = IP_PROTO_ICMPV6, .hop_limit = 64 };
	uint8_t body[8] = "martian";

	memcpy(h.src, src, 16);
	memcpy(h.dst, dst, 16);
	assert_int_equal(ipv6_emit(&h, pkt, 40), 40);
	assert_int_equal(icmp6_emit(&ih, body, 8, src, dst, pkt + 40, 16), 16);
	return 56;
}

/* An ICMPv6 error 2001:2::1 -> dst quoting q[0..qlen). */
static size_t mkerr6(uint8_t *pkt, const uint8_t dst[16], uint8_t type, uint8_t code,
		     uint32_t rest, const uint8_t *q, size_t qlen)
{
	icmp_hdr ih = { .type = type, .code = code, .rest = rest };
	ipv6_hdr h = { .payload_len = (uint16_t)(8 + qlen), .next = IP_PROTO_ICMPV6,
		       .hop_limit = 64 };

	memcpy(h.src, A1, 16);
	memcpy(h.dst, dst, 16);
	assert_int_equal(ipv6_emit(&h, pkt, 40), 40);
	assert_int_equal(icmp6_emit(&ih, q, qlen, A1, dst, pkt + 40, 8 + qlen), (int)(8 + qlen));
	return 48 + qlen;
}

/* The quote of our segment 2001:2::2.40002 -> 2001:2::1.80, seq 0x01020304. */
static size_t mkquote(uint8_t *q)
{
	ipv6_hdr h = { .payload_len = 20, .next = IP_PROTO_TCP, .hop_limit = 64 };

	memcpy(h.src, A2, 16);
	memcpy(h.dst, A1, 16);
	assert_int_equal(ipv6_emit(&h, q, 40), 40);
	memset(q + 40, 0, 20);
	wr16(q + 40, 40002);
	wr16(q + 42, 80);
	wr32(q + 44, 0x01020304);
	q[52] = 0x50;
	return 60;
}

/* Each ICMPv6 error in ICMPv4's terms (RFC 7915 §5.2's mapping, which
 * TCP's hard and soft errors read): only port unreachable and an
 * unrecognized next header become the hard port and protocol
 * unreachables; administratively prohibited (and codes 5, 6: policy,
 * reject route) is 13, never a hard error; the other parameter problems
 * are ICMP's 12; an unknown error type goes up as 255 (RFC 4443
 * §2.4(d)). */
static void test_error_translation(void **state)
{
	static const struct { uint8_t type6, code6, type, code; } cases[] = {
		{ ICMP6_DEST_UNREACH, ICMP6_UNREACH_NOROUTE, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST },
		{ ICMP6_DEST_UNREACH, ICMP6_UNREACH_ADMIN, ICMP_DEST_UNREACH, 13 },
		{ ICMP6_DEST_UNREACH, ICMP6_UNREACH_BEYOND, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST },
		{ ICMP6_DEST_UNREACH, ICMP6_UNREACH_ADDR, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST },
		{ ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT },
		{ ICMP6_DEST_UNREACH, 5, ICMP_DEST_UNREACH, 13 },
		{ ICMP6_DEST_UNREACH, 6, ICMP_DEST_UNREACH, 13 },
		{ ICMP6_DEST_UNREACH, 7, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST },
		{ ICMP6_TIME_EXCEEDED, 0, ICMP_TIME_EXCEEDED, 0 },
		{ ICMP6_TIME_EXCEEDED, ICMP6_EXC_FRAGTIME, ICMP_TIME_EXCEEDED, 1 },
		{ ICMP6_PARAM_PROB, ICMP6_PP_HEADER, 12, 0 },
		{ ICMP6_PARAM_PROB, ICMP6_PP_NEXTHDR, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO },
		{ ICMP6_PARAM_PROB, ICMP6_PP_OPTION, 12, 0 },
		{ ICMP6_PARAM_PROB, ICMP6_PP_INCOMPLETE, 12, 0 },
		{ 100, 0, 255, 0 },
	};
	struct cap c;
	hsk_stack *s = new_stack(&c, A2, 0);
	uint8_t q[64], pkt[160];
	size_t ql = mkquote(q);
	(void)state;

	speak_ipv6(s, &c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("type %u code %u\n", cases[i].type6, cases[i].code6);
		hsk_stack_input(s, 1001 * MS, pkt,
				mkerr6(pkt, A2, cases[i].type6, cases[i].code6, 0, q, ql));
		assert_int_equal(c.errs, (int)i + 1);
		assert_int_equal(c.err.type6, cases[i].type6);
		assert_int_equal(c.err.code6, cases[i].code6);
		assert_int_equal(c.err.e.type, cases[i].type);
		assert_int_equal(c.err.e.code, cases[i].code);
		assert_int_equal(c.err.e.sport, 40002);
		assert_int_equal(c.err.e.dport, 80);
		assert_int_equal(c.err.e.seq, 0x01020304);
	}
	assert_int_equal(cnt(s, "Icmp6InDestUnreachs"), 8);
	assert_int_equal(cnt(s, "Icmp6InTimeExcds"), 2);
	assert_int_equal(cnt(s, "Icmp6InParmProblems"), 4);
	assert_int_equal(cnt(s, "Icmp6InErrors"), 0);
	assert_int_equal(c.n, 0);
	hsk_stack_free(s);
}

/* Errors nobody may act on (Icmp6InErrors, never handed up): one sent to
 * a group (errors go to the unicast source of the packet: to all-nodes,
 * one forged error would reach every connection), and quotes that are
 * not a packet's start — shorter than a header, not version 6, an
 * extension-header chain cut off or too long, fewer than the 8 bytes of
 * ports and sequence number. */
static void test_errors_not_up(void **state)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	struct cap c;
	hsk_stack *s = new_stack(&c, A2, 0);
	uint8_t q[64], pkt[160];
	size_t ql = mkquote(q);
	uint64_t errs = 0;
	(void)state;

	speak_ipv6(s, &c);
	/* The well-formed one goes up. */
	hsk_stack_input(s, 1001 * MS, pkt,
			mkerr6(pkt, A2, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, q, ql));
	assert_int_equal(c.errs, 1);
	/* To all-nodes. */
	hsk_stack_input(s, 1002 * MS, pkt,
			mkerr6(pkt, all_nodes, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, q, ql));
	assert_int_equal(cnt(s, "Ip6InMcastPkts"), 1);
	assert_int_equal(cnt(s, "Icmp6InDestUnreachs"), 2);
	assert_int_equal(cnt(s, "Icmp6InErrors"), ++errs);
	/* A header cut short. */
	hsk_stack_input(s, 1003 * MS, pkt,
			mkerr6(pkt, A2, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, q, 39));
	assert_int_equal(cnt(s, "Icmp6InErrors"), ++errs);
	/* Version 4. */
	q[0] = 0x45;
	hsk_stack_input(s, 1004 * MS, pkt,
			mkerr6(pkt, A2, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, q, ql));
	assert_int_equal(cnt(s, "Icmp6InErrors"), ++errs);
	q[0] = 0x60;
	/* Destination options of which 4 bytes are quoted. */
	q[6] = IP_PROTO_DSTOPTS;
	q[40] = IP_PROTO_TCP;
	hsk_stack_input(s, 1005 * MS, pkt,
			mkerr6(pkt, A2, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, q, 44));
	assert_int_equal(cnt(s, "Icmp6InErrors"), ++errs);
	/* TCP with 7 of its bytes: no whole sequence number. */
	mkquote(q);
	hsk_stack_input(s, 1006 * MS, pkt,
			mkerr6(pkt, A2, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, q, 47));
	assert_int_equal(cnt(s, "Icmp6InErrors"), ++errs);
	/* 8 are enough. */
	hsk_stack_input(s, 1007 * MS, pkt,
			mkerr6(pkt, A2, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, q, 48));
	assert_int_equal(c.errs, 2);
	assert_int_equal(cnt(s, "Icmp6InErrors"), errs);
	/* A chain of more extension headers than a packet of ours has
	 * (IPV6_MAX_EXT_HDRS, the input path's limit), whole: no quote of
	 * ours; with one fewer it is walked and the segment goes up. */
	uint8_t lq[40 + 8 * (IPV6_MAX_EXT_HDRS + 1) + 8], lpkt[48 + sizeof lq];
	for (unsigned hdrs = IPV6_MAX_EXT_HDRS + 1; hdrs >= IPV6_MAX_EXT_HDRS; hdrs--) {
		size_t lql = 40 + 8 * hdrs + 8;
		mkquote(q);
		memcpy(lq, q, 40);
		lq[6] = IP_PROTO_DSTOPTS;
		wr16(lq + 4, (uint16_t)(lql - 40));
		for (unsigned i = 0; i < hdrs; i++) {
			uint8_t *o = lq + 40 + 8 * i;
			memset(o, 0, 8);
			o[0] = i + 1 < hdrs ? IP_PROTO_DSTOPTS : IP_PROTO_TCP;
			o[2] = 1;                      /* PadN of 4 */
			o[3] = 4;
		}
		memcpy(lq + 40 + 8 * hdrs, q + 40, 8);
		hsk_stack_input(s, 1008 * MS, lpkt,
				mkerr6(lpkt, A2, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, lq, lql));
	}
	assert_int_equal(cnt(s, "Icmp6InErrors"), ++errs);
	assert_int_equal(c.errs, 3);
	assert_int_equal(c.err.e.seq, 0x01020304);
	assert_int_equal(c.n, 0);
	hsk_stack_free(s);
}

/* RFC 4443 §2.4(e.3, e.6): no error to a source that is no one node, even
 * when a caller asks (the input path drops such packets before any error:
 * this is the sender's own rule). */
static void test_error_to_no_node(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, A2, 0);
	uint8_t pkt[160];
	size_t n = mkecho(pkt, A1, A2);
	(void)state;

	assert_true(icmp6_send_error(&s->ip, pkt, n, ICMP6_PARAM_PROB, ICMP6_PP_HEADER, 0, true));
	assert_int_equal(c.n, 1);
	memset(pkt + 8, 0, 16);                                  /* :: */
	assert_false(icmp6_send_error(&s->ip, pkt, n, ICMP6_PARAM_PROB, ICMP6_PP_HEADER, 0, true));
	memcpy(pkt + 8, (uint8_t[16]){ 0xff, 0x02, [15] = 1 }, 16);   /* all-nodes */
	assert_false(icmp6_send_error(&s->ip, pkt, n, ICMP6_PARAM_PROB, ICMP6_PP_HEADER, 0, true));
	assert_false(icmp6_send_error(&s->ip, pkt, n, ICMP6_PACKET_TOO_BIG, 0, 1280, true));
	assert_int_equal(c.n, 1);
	assert_int_equal(cnt(s, "Icmp6OutErrors"), 1);
	hsk_stack_free(s);
}

/* More than eight extension headers: dropped, counted (Ip6DropExtLimit
 * beside Ip6InHdrErrors), not answered. */
static void test_ext_limit_counted(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, A2, 0);
	uint8_t pkt[40 + 9 * 8];
	ipv6_hdr h = { .payload_len = 9 * 8, .next = IP_PROTO_DSTOPTS, .hop_limit = 64 };
	(void)state;

	memcpy(h.src, A1, 16);
	memcpy(h.dst, A2, 16);
	assert_int_equal(ipv6_emit(&h, pkt, 40), 40);
	for (int i = 0; i < 9; i++) {
		uint8_t *o = pkt + 40 + 8 * i;
		o[0] = i == 8 ? IP_PROTO_NONE : IP_PROTO_DSTOPTS;
		o[1] = 0;
		o[2] = 1;              /* PadN of 4 */
		o[3] = 4;
		memset(o + 4, 0, 4);
	}
	hsk_stack_input(s, 1001 * MS, pkt, sizeof pkt);
	assert_int_equal(cnt(s, "Ip6DropExtLimit"), 1);
	assert_int_equal(cnt(s, "Ip6InHdrErrors"), 1);
	assert_int_equal(cnt(s, "Ip6DropExtHdr"), 0);
	assert_int_equal(c.n, 0);
	/* Eight are walked. */
	pkt[40 + 7 * 8] = IP_PROTO_NONE;
	wr16(pkt + 4, 8 * 8);
	hsk_stack_input(s, 1002 * MS, pkt, 40 + 8 * 8);
	assert_int_equal(cnt(s, "Ip6DropExtLimit"), 1);
	assert_int_equal(cnt(s, "Ip6InHdrErrors"), 1);
	hsk_stack_free(s);
}

static void test_martians(void **state)
{
	static const uint8_t bad_src[][16] = {
		{ [15] = 1 },                                     /* ::1 */
		{ [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 },      /* ::ffff:198.18.0.1 */
		{ [12] = 198, 18, 0, 1 },                         /* ::198.18.0.1 */
		{ 0x20, 0x01, 0x00, 0x02, [15] = 2 },             /* ourselves */
		{ 0 },                                            /* :: (no DAD) */
	};
	static const uint8_t bad_dst[][16] = {
		{ [15] = 1 },                                     /* ::1 */
		{ 0 },                                            /* :: */
		{ 0xff, 0x02, [11] = 1, 0xff, 0, 0, 0x99 },       /* a group we are not in */
		{ 0xff, 0x0e, [15] = 1 },                         /* global all-nodes */
		{ [10] = 0xff, [11] = 0xff, 198, 18, 0, 2 },      /* ::ffff:198.18.0.2 */
	};
	struct cap c;
	hsk_stack *s = new_stack(&c, A2, 0);
	uint8_t pkt[64];
	(void)state;

	for (size_t i = 0; i < sizeof(bad_src) / 16; i++) {
		hsk_stack_input(s, 1001 * MS, pkt, mkecho(pkt, bad_src[i], A2));
		assert_int_equal(cnt(s, "DropMartianSrc"), i + 1);
	}
	/* A multicast source: the wire parser's. */
	hsk_stack_input(s, 1001 * MS, pkt, mkecho(pkt, (uint8_t[16]){ 0xff, 0x02, [15] = 1 }, A2));
	assert_int_equal(cnt(s, "DropMartianSrc"), 6);
	for (size_t i = 0; i < sizeof(bad_dst) / 16; i++)
		hsk_stack_input(s, 1001 * MS, pkt, mkecho(pkt, A1, bad_dst[i]));
	assert_int_equal(cnt(s, "DropMartianDst"), 5);
	/* Another host's unicast: not ours, not a martian. */
	uint8_t other[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 3 };
	hsk_stack_input(s, 1001 * MS, pkt, mkecho(pkt, A1, other));
	assert_int_equal(cnt(s, "DropNotForUs"), 1);
	assert_int_equal(cnt(s, "Ip6InAddrErrors"), 6);
	assert_int_equal(cnt(s, "Icmp6InMsgs"), 0);
	assert_int_equal(c.n, 0);
	/* Groups we are in take the packet, but echo to a group is not
	 * answered. */
	uint8_t sn[16];
	ip6_solicited_node(A2, sn);
	hsk_stack_input(s, 1001 * MS, pkt, mkecho(pkt, A1, sn));
	hsk_stack_input(s, 1001 * MS, pkt, mkecho(pkt, A1, (uint8_t[16]){ 0xff, 0x02, [15] = 1 }));
	assert_int_equal(cnt(s, "Ip6InMcastPkts"), 2);
	assert_int_equal(cnt(s, "Icmp6InMsgs"), 2);
	assert_int_equal(c.n, 0);
	/* A DAD probe from :: is no martian (the link answers it). */
	hsk_stack_free(s);
	s = new_stack(&c, A1, 0);
	in(s, v6_ns_dad, sizeof v6_ns_dad, 1001);
	assert_int_equal(cnt(s, "DropMartianSrc"), 0);
	assert_int_equal(cnt(s, "Icmp6InMsgs"), 1);
	assert_int_equal(c.n, 0);
	/* But from :: an NS to all-nodes (not a solicited-node group) is
	 * no DAD probe, and nor is anything but ICMPv6. */
	uint8_t dad[sizeof v6_ns_dad];
	memcpy(dad, v6_ns_dad, sizeof dad);
	memcpy(dad + 24, (uint8_t[16]){ 0xff, 0x02, [15] = 1 }, 16);
	in(s, dad, sizeof dad, 1001);
	memcpy(dad, v6_ns_dad, sizeof dad);
	dad[6] = IP_PROTO_TCP;
	in(s, dad, sizeof dad, 1001);
	assert_int_equal(cnt(s, "DropMartianSrc"), 2);
	assert_int_equal(cnt(s, "Icmp6InMsgs"), 1);
	/* And the real peer is answered. */
	hsk_stack_input(s, 1002 * MS, pkt, mkecho(pkt, A2, A1));
	assert_int_equal(c.n, 1);
	hsk_stack_free(s);
}

/* RFC 4443 §2.4(f): ten errors at once, then one per 10 ms. */
static void test_error_rate_limit(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, A1, 0);
	(void)state;

	for (int i = 0; i < 30; i++)
		in(s, v6_unknown_nh_crafted, sizeof v6_unknown_nh_crafted, 1001);
	assert_int_equal(c.n, ICMP_ERR_BURST);
	assert_int_equal(cnt(s, "Icmp6OutRateLimitGlobal"), 30 - ICMP_ERR_BURST);
	in(s, v6_unknown_nh_crafted, sizeof v6_unknown_nh_crafted, 1001 + 9);
	assert_int_equal(c.n, ICMP_ERR_BURST);
	in(s, v6_unknown_nh_crafted, sizeof v6_unknown_nh_crafted, 1001 + 10);
	assert_int_equal(c.n, ICMP_ERR_BURST + 1);
	in(s, v6_unknown_nh_crafted, sizeof v6_unknown_nh_crafted, 1001 + 10);
	assert_int_equal(c.n, ICMP_ERR_BURST + 1);
	/* A long quiet time refills the bucket, no more. */
	for (int i = 0; i < 30; i++)
		in(s, v6_unknown_nh_crafted, sizeof v6_unknown_nh_crafted, 60000);
	assert_int_equal(c.n, 2 * ICMP_ERR_BURST + 1);
	hsk_stack_free(s);
}

/* §2.4(e): no error about an error, none about a packet to a group (but
 * an option of action 10), none to a source that is not one node. */
static void test_error_silences(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, A1, 0);
	uint8_t *b;
	(void)state;

	/* The kernel's parameter problem has next header 58 and arrives
	 * fine; an unknown next header inside such an error: we make one by
	 * turning the kernel's error into an unknown-option packet. */
	b = malloc(sizeof v6_unknown_nh_crafted);
	assert_non_null(b);
	memcpy(b, v6_unknown_nh_crafted, sizeof v6_unknown_nh_crafted);
	/* To all-nodes: next header 253 is not answered. */
	memcpy(b + 24, (uint8_t[16]){ 0xff, 0x02, [15] = 1 }, 16);
	hsk_stack_input(s, 1001 * MS, b, sizeof v6_unknown_nh_crafted);
	assert_int_equal(c.n, 0);
	assert_int_equal(cnt(s, "Ip6InUnknownProtos"), 1);
	free(b);
	/* Action 10 to a group is answered, from our link-local-less stack's
	 * global address. */
	b = malloc(sizeof v6_dstopt_10_crafted);
	assert_non_null(b);
	memcpy(b, v6_dstopt_10_crafted, sizeof v6_dstopt_10_crafted);
	memcpy(b + 24, (uint8_t[16]){ 0xff, 0x02, [15] = 1 }, 16);
	hsk_stack_input(s, 1002 * MS, b, sizeof v6_dstopt_10_crafted);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.last[40], ICMP6_PARAM_PROB);
	assert_int_equal(c.last[41], ICMP6_PP_OPTION);
	assert_memory_equal(c.last + 8, A1, 16);
	/* ... but not action 11 (0xd3). */
	b[42] = 0xd3;
	hsk_stack_input(s, 1003 * MS, b, sizeof v6_dstopt_10_crafted);
	assert_int_equal(c.n, 1);
	free(b);
	/* An ICMPv6 error carrying an unknown option of action 10 in a
	 * destination options header: dropped, not answered. */
	uint8_t pkt[80];
	ipv6_hdr h = { .payload_len = 16 + 8, .next = IP_PROTO_DSTOPTS, .hop_limit = 64 };
	memcpy(h.src, A2, 16);
	memcpy(h.dst, A1, 16);
	ipv6_emit(&h, pkt, 40);
	uint8_t opts[8] = { IP_PROTO_ICMPV6, 0, 0x93, 4, 0, 0, 0, 0 };
	memcpy(pkt + 40, opts, 8);
	memcpy(pkt + 48, (uint8_t[16]){ ICMP6_DEST_UNREACH, 4 }, 16);
	hsk_stack_input(s, 1004 * MS, pkt, 64);
	assert_int_equal(c.n, 1);
	assert_int_equal(cnt(s, "Ip6InHdrErrors"), 3);
	hsk_stack_free(s);
}

/* A stack with no IPv6 address has IPv6 off: counted as IPv4 always did. */
static void test_ipv6_off(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, NULL, 0);
	(void)state;

	in(s, v6_echo_req, sizeof v6_echo_req, 1001);
	assert_int_equal(c.n, 0);
	assert_int_equal(cnt(s, "Ip6InReceives"), 0);
	assert_int_equal(cnt(s, "InReceives"), 1);
	assert_int_equal(cnt(s, "InHdrErrors"), 1);
	hsk_stack_free(s);
}

static void test_address_list(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, NULL, 0);
	ip_layer *ip = &s->ip;
	uint8_t ll[16] = { 0xfe, 0x80, [8] = 0x02, 0x68, 0x73, 0xff, 0xfe, 0x12, 0, 2 };
	uint8_t g2[16] = { 0x20, 0x01, 0x00, 0x02, 0x00, 0x01, [15] = 2 };   /* 2001:2:1::2 */
	uint8_t v4b[4] = { 198, 18, 1, 2 }, v4a[4] = { 198, 18, 0, 2 }, src[16];
	(void)state;

	assert_int_equal(ip->addrs.n, 1);            /* the configured IPv4 */
	assert_int_equal(ip_addr_add(ip, IP_FAM6, A2, 64), 0);
	assert_int_equal(ip_addr_add(ip, IP_FAM6, A2, 64), -HSK_EADDRINUSE);
	assert_int_equal(ip_addr_add(ip, IP_FAM6, ll, 64), 0);
	assert_int_equal(ip_addr_add(ip, IP_FAM6, g2, 64), 0);
	assert_int_equal(ip_addr_add(ip, IP_FAM4, v4b, 24), 0);
	/* Never ours: ::, ::1, a group, v4-mapped, a prefix too long. */
	assert_int_equal(ip_addr_add(ip, IP_FAM6, (uint8_t[16]){ 0 }, 64), -HSK_EINVAL);
	assert_int_equal(ip_addr_add(ip, IP_FAM6, (uint8_t[16]){ [15] = 1 }, 64), -HSK_EINVAL);
	assert_int_equal(ip_addr_add(ip, IP_FAM6, (uint8_t[16]){ 0xff, 2, [15] = 1 }, 64), -HSK_EINVAL);
	assert_int_equal(ip_addr_add(ip, IP_FAM6,
			 (uint8_t[16]){ [10] = 0xff, [11] = 0xff, 1, 2, 3, 4 }, 64), -HSK_EINVAL);
	assert_int_equal(ip_addr_add(ip, IP_FAM6, A1, 129), -HSK_EINVAL);
	assert_int_equal(ip_addr_add(ip, IP_FAM4, (uint8_t[4]){ 127, 0, 0, 1 }, 8), -HSK_EINVAL);
	assert_int_equal(ip_addr_add(ip, 5, A1, 64), -HSK_EINVAL);
	assert_int_equal(ip->addrs.n, 5);
	assert_int_equal(ip->addrs.n4, 2);
	assert_int_equal(ip->addrs.n6, 3);
	/* Sorted: IPv4 first, then IPv6 by bytes. */
	for (unsigned i = 1; i < ip->addrs.n; i++) {
		const ip_addr *x = &ip->addrs.v[i - 1], *y = &ip->addrs.v[i];
		assert_true(x->family < y->family ||
			    (x->family == y->family && memcmp(x->a, y->a, 16) < 0));
	}
	assert_non_null(ip_addr_find(ip, IP_FAM6, g2));
	assert_null(ip_addr_find(ip, IP_FAM6, A1));
	assert_true(ip4_is_ours(ip, 0xc6120102u));
	assert_true(ip4_is_ours(ip, 0xc6120002u));
	assert_false(ip4_is_ours(ip, 0xc6120003u));
	/* Groups: all-nodes and our solicited-node groups. */
	uint8_t sn[16];
	ip6_solicited_node(ll, sn);
	assert_true(ip6_in_group(ip, sn));
	assert_true(ip6_in_group(ip, (uint8_t[16]){ 0xff, 0x02, [15] = 1 }));
	ip6_solicited_node(A1, sn);
	assert_false(ip6_in_group(ip, sn));
	/* Source selection: ours as is; link scope -> link-local; global ->
	 * the longest matching prefix. */
	assert_int_equal(ip6_select_src(ip, g2, src), 0);
	assert_memory_equal(src, g2, 16);
	assert_int_equal(ip6_select_src(ip, (uint8_t[16]){ 0xfe, 0x80, [15] = 9 }, src), 0);
	assert_memory_equal(src, ll, 16);
	assert_int_equal(ip6_select_src(ip, (uint8_t[16]){ 0xff, 0x02, [15] = 1 }, src), 0);
	assert_memory_equal(src, ll, 16);
	assert_int_equal(ip6_select_src(ip, (uint8_t[16]){ 0x20, 0x01, 0, 2, 0, 1, [15] = 9 }, src), 0);
	assert_memory_equal(src, g2, 16);
	assert_int_equal(ip6_select_src(ip, A1, src), 0);
	assert_memory_equal(src, A2, 16);
	/* Removing the first IPv4 address makes the next one primary. */
	assert_int_equal(ip_addr_del(ip, IP_FAM4, v4a), 0);
	assert_int_equal(ip->addr, 0xc6120102u);
	assert_int_equal(ip_addr_del(ip, IP_FAM4, v4a), -HSK_EADDRNOTAVAIL);
	assert_int_equal(ip_addr_del(ip, IP_FAM6, ll), 0);
	assert_int_equal(ip6_select_src(ip, (uint8_t[16]){ 0xfe, 0x80, [15] = 9 }, src),
			 -HSK_EADDRNOTAVAIL);
	/* Many addresses: every one found. */
	for (int i = 0; i < 300; i++) {
		uint8_t a[16] = { 0x20, 0x01, 0x00, 0x02, 0x00, 0x02, [14] = (uint8_t)(i >> 8),
				  (uint8_t)(i + 1) };
		assert_int_equal(ip_addr_add(ip, IP_FAM6, a, 64), 0);
	}
	for (int i = 0; i < 300; i++) {
		uint8_t a[16] = { 0x20, 0x01, 0x00, 0x02, 0x00, 0x02, [14] = (uint8_t)(i >> 8),
				  (uint8_t)(i + 1) };
		assert_non_null(ip_addr_find(ip, IP_FAM6, a));
	}
	hsk_stack_free(s);
}

/* IPv4 is untouched by a second family (and a second IPv4 address). */
/* A global destination for the source selection tests. */
static const uint8_t sel_dst[16] = { 0x2a, 0x01, 0x0d, 0xb8, 0x5a, 0xa5, 0x3c, 0xc3,
				     0x96, 0x69, 0x0f, 0xf0, 0x81, 0x7e, 0x42, 0x24 };

/* RFC 6724 rule 8 (longest matching prefix) at every length: of two
 * global addresses that share i and j leading bits with the destination
 * (its bit i, resp. j, flipped), the source chosen is the one that shares
 * more, for every i != j in 0..127 (both words of the addresses, each
 * bit of each byte). */
static void test_select_src_prefix_lengths(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, NULL, 0);
	ip_layer *ip = &s->ip;
	const uint8_t *dst = sel_dst;
	(void)state;

	for (unsigned i = 0; i < 128; i++) {
		for (unsigned j = 0; j < 128; j++) {
			if (i == j)
				continue;
			uint8_t x[16], y[16], src[16];
			memcpy(x, dst, 16);
			memcpy(y, dst, 16);
			x[i / 8] ^= (uint8_t)(0x80 >> i % 8);
			y[j / 8] ^= (uint8_t)(0x80 >> j % 8);
			assert_int_equal(ip_addr_add(ip, IP_FAM6, x, 64), 0);
			assert_int_equal(ip_addr_add(ip, IP_FAM6, y, 64), 0);
			assert_int_equal(ip6_select_src(ip, dst, src), 0);
			assert_memory_equal(src, i > j ? x : y, 16);
			assert_int_equal(ip_addr_del(ip, IP_FAM6, x), 0);
			assert_int_equal(ip_addr_del(ip, IP_FAM6, y), 0);
		}
	}
	hsk_stack_free(s);
}

/* a with bit i (from the top) flipped */
static void bit_flip(uint8_t a[16], unsigned i)
{
	a[i / 8] ^= (uint8_t)(0x80 >> i % 8);
}

/* ip6_select_src keeps its last answer: the list's changes and another
 * destination (one differing in its last 64 bits only, too) choose anew. */
static void test_select_src_kept(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, NULL, 0);
	ip_layer *ip = &s->ip;
	const uint8_t *dst = sel_dst;
	uint8_t a[16], b[16], p[16], q[16], d2[16], src[16];
	(void)state;

	memcpy(a, dst, 16);
	bit_flip(a, 16);                /* 16 bits shared with dst */
	memcpy(b, dst, 16);
	bit_flip(b, 100);               /* 100 */
	assert_int_equal(ip_addr_add(ip, IP_FAM6, a, 64), 0);
	assert_int_equal(ip6_select_src(ip, dst, src), 0);
	assert_memory_equal(src, a, 16);
	assert_int_equal(ip6_select_src(ip, dst, src), 0);      /* kept */
	assert_memory_equal(src, a, 16);
	/* an address added: the better one chosen */
	assert_int_equal(ip_addr_add(ip, IP_FAM6, b, 64), 0);
	assert_int_equal(ip6_select_src(ip, dst, src), 0);
	assert_memory_equal(src, b, 16);
	/* the one chosen removed: the other again */
	assert_int_equal(ip_addr_del(ip, IP_FAM6, b), 0);
	assert_int_equal(ip6_select_src(ip, dst, src), 0);
	assert_memory_equal(src, a, 16);
	/* p shares 70 bits with dst, q 100: q for dst; a destination that
	 * differs from dst at bits 70 and 127 shares 127 with p: p */
	assert_int_equal(ip_addr_del(ip, IP_FAM6, a), 0);
	memcpy(p, dst, 16);
	bit_flip(p, 70);
	memcpy(q, dst, 16);
	bit_flip(q, 100);
	memcpy(d2, p, 16);
	bit_flip(d2, 127);
	assert_int_equal(ip_addr_add(ip, IP_FAM6, p, 64), 0);
	assert_int_equal(ip_addr_add(ip, IP_FAM6, q, 64), 0);
	assert_int_equal(ip6_select_src(ip, dst, src), 0);
	assert_memory_equal(src, q, 16);
	assert_int_equal(ip6_select_src(ip, d2, src), 0);
	assert_memory_equal(src, p, 16);
	assert_int_equal(ip6_select_src(ip, dst, src), 0);
	assert_memory_equal(src, q, 16);
	/* one of ours: itself */
	assert_int_equal(ip6_select_src(ip, p, src), 0);
	assert_memory_equal(src, p, 16);
	/* no address of the scope: no answer, none kept */
	assert_int_equal(ip_addr_del(ip, IP_FAM6, p), 0);
	assert_int_equal(ip_addr_del(ip, IP_FAM6, q), 0);
	assert_int_equal(ip6_select_src(ip, dst, src), -HSK_EADDRNOTAVAIL);
	assert_int_equal(ip6_select_src(ip, dst, src), -HSK_EADDRNOTAVAIL);
	hsk_stack_free(s);
}

static void test_ipv4_still(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, A2, 0);
	uint8_t pkt[64], msg[24], b[4] = { 198, 18, 0, 7 };
	icmp_hdr ih = { .type = ICMP_ECHO_REQUEST, .rest = 1 };
	ipv4_hdr h = { .total_len = 20 + 16, .ttl = 64, .proto = IP_PROTO_ICMP,
		       .src = 0xc6120001u, .dst = 0xc6120002u };
	(void)state;

	assert_int_equal(icmp_emit(&ih, (const uint8_t *)"abcdefgh", 8, msg, sizeof msg), 16);
	ipv4_emit(&h, pkt, 20);
	memcpy(pkt + 20, msg, 16);
	hsk_stack_input(s, 1001 * MS, pkt, 36);
	assert_int_equal(c.n, 1);
	/* To a second address of ours, too; from it is a martian. */
	assert_int_equal(ip_addr_add(&s->ip, IP_FAM4, b, 24), 0);
	h.dst = 0xc6120007u;
	ipv4_emit(&h, pkt, 20);
	hsk_stack_input(s, 1002 * MS, pkt, 36);
	assert_int_equal(c.n, 2);
	h.src = 0xc6120007u;
	h.dst = 0xc6120002u;
	ipv4_emit(&h, pkt, 20);
	hsk_stack_input(s, 1003 * MS, pkt, 36);
	assert_int_equal(c.n, 2);
	assert_int_equal(cnt(s, "DropMartianSrc"), 1);
	assert_int_equal(cnt(s, "Ip6InReceives"), 0);
	hsk_stack_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_atomic_fragment),
		cmocka_unit_test(test_fragmented_echo),
		cmocka_unit_test(test_parameter_problems_as_linux),
		cmocka_unit_test(test_tcp_up),
		cmocka_unit_test(test_known_pair6),
		cmocka_unit_test(test_group_pair_not_known),
		cmocka_unit_test(test_errors_up),
		cmocka_unit_test(test_martians),
		cmocka_unit_test(test_error_translation),
		cmocka_unit_test(test_errors_not_up),
		cmocka_unit_test(test_error_to_no_node),
		cmocka_unit_test(test_ext_limit_counted),
		cmocka_unit_test(test_error_rate_limit),
		cmocka_unit_test(test_error_silences),
		cmocka_unit_test(test_ipv6_off),
		cmocka_unit_test(test_address_list),
		cmocka_unit_test(test_select_src_prefix_lengths),
		cmocka_unit_test(test_select_src_kept),
		cmocka_unit_test(test_ipv4_still),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
