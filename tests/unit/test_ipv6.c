/* IPv6 header and extension-header chain (src/wire/ipv6.c): Linux's own
 * packets parse (and re-emit byte for byte), every malformed header is
 * refused with the right error, and every extension-header case of RFC
 * 8200 §4 (with RFC 5095, 6946, 7112) is answered as the RFC says — where
 * the kernel answered one of our crafted packets, with the same code and
 * pointer as the kernel. Buffers are heap copies of exactly the packet's
 * size so an ASan build catches overreads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "wire/ipv6.h"
#include "ipv6_vectors.h"

static const uint8_t K[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 1 };  /* 2001:2::1 */
static const uint8_t U[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 2 };  /* 2001:2::2 */

static int walk(const uint8_t *p, size_t len, unsigned flags, ipv6_chain *c)
{
	uint8_t *b = dup_bytes(p, len);
	int r = ipv6_walk(b, len, IPV6_HDR_LEN, b[6], 6, flags, c);
	free(b);
	return r;
}

/* A packet 2001:2::2 -> 2001:2::1: the 40-byte header with next header nh
 * and payload length n, then n bytes of `pl`. */
static size_t mkpkt(uint8_t *out, uint8_t nh, const uint8_t *pl, size_t n)
{
	ipv6_hdr h = { .payload_len = (uint16_t)n, .next = nh, .hop_limit = 64 };
	memcpy(h.src, U, 16);
	memcpy(h.dst, K, 16);
	assert_int_equal(ipv6_emit(&h, out, IPV6_HDR_LEN), IPV6_HDR_LEN);
	memcpy(out + IPV6_HDR_LEN, pl, n);
	return IPV6_HDR_LEN + n;
}

static void test_real_header(void **state)
{
	(void)state;
	uint8_t *b = dup_bytes(v6_echo_req, sizeof v6_echo_req);
	ipv6_hdr h;
	const uint8_t *p;
	size_t pl;
	uint8_t out[IPV6_HDR_LEN];

	assert_int_equal(ipv6_parse(b, sizeof v6_echo_req, &h, &p, &pl), WIRE_OK);
	assert_int_equal(h.payload_len, sizeof v6_echo_req - 40);
	assert_int_equal(h.next, IP_PROTO_ICMPV6);
	assert_int_equal(h.hop_limit, 64);
	assert_int_equal(h.tclass, 0);
	assert_int_equal(h.flow, rd32(b) & 0xfffff);
	assert_memory_equal(h.src, K, 16);
	assert_memory_equal(h.dst, U, 16);
	assert_true(h.asum == addr6_pair_sum(K, U));   /* for TCP's pseudo-header */
	assert_ptr_equal(p, b + 40);
	assert_int_equal(pl, sizeof v6_echo_req - 40);
	/* Re-emitted byte for byte, flow label included. */
	assert_int_equal(ipv6_emit(&h, out, sizeof out), IPV6_HDR_LEN);
	assert_memory_equal(out, b, IPV6_HDR_LEN);
	assert_int_equal(ipv6_emit(&h, out, 39), WIRE_ERR_SPACE);
	free(b);
}

static void test_header_errors(void **state)
{
	(void)state;
	size_t n = sizeof v6_echo_req;
	uint8_t *b = dup_bytes(v6_echo_req, n);
	ipv6_hdr h;
	const uint8_t *p;
	size_t pl;

	assert_int_equal(ipv6_parse(b, 39, &h, &p, &pl), WIRE_ERR_SHORT);
	b[0] = 0x45;
	assert_int_equal(ipv6_parse(b, n, &h, &p, &pl), WIRE_ERR_VERSION);
	b[0] = 0x60;
	/* A payload length past the buffer; one short of it leaves the last
	 * byte out as link padding. */
	wr16(b + 4, (uint16_t)(n - 39));
	assert_int_equal(ipv6_parse(b, n, &h, &p, &pl), WIRE_ERR_TOTLEN);
	wr16(b + 4, (uint16_t)(n - 41));
	assert_int_equal(ipv6_parse(b, n, &h, &p, &pl), WIRE_OK);
	assert_int_equal(pl, n - 41);
	/* A multicast source (RFC 4291 §2.7). */
	b[8] = 0xff;
	assert_int_equal(ipv6_parse(b, n, &h, &p, &pl), WIRE_ERR_ADDR);
	free(b);
}

static void test_plain_chain(void **state)
{
	(void)state;
	ipv6_chain c;

	assert_int_equal(walk(v6_echo_req, sizeof v6_echo_req, 0, &c), WIRE_OK);
	assert_int_equal(c.proto, IP_PROTO_ICMPV6);
	assert_int_equal(c.off, 40);
	assert_int_equal(c.proto_ptr, 6);
	assert_int_equal(c.nhdrs, 0);
	assert_false(c.is_frag);
	assert_int_equal(walk(v6_tcp_syn, sizeof v6_tcp_syn, 0, &c), WIRE_OK);
	assert_int_equal(c.proto, IP_PROTO_TCP);
}

/* Linux's MLDv2 report: hop-by-hop with a router alert and PadN. */
static void test_hop_by_hop(void **state)
{
	(void)state;
	ipv6_chain c;

	assert_int_equal(walk(v6_mld_report, sizeof v6_mld_report,
			      IPV6_WALK_DST_MCAST, &c), WIRE_OK);
	assert_int_equal(c.proto, IP_PROTO_ICMPV6);
	assert_int_equal(c.off, 48);
	assert_int_equal(c.proto_ptr, 40);
	assert_int_equal(c.nhdrs, 1);
}

/* Hop-by-hop anywhere but first: code 1 pointing at the byte naming it. */
static void test_hop_by_hop_not_first(void **state)
{
	(void)state;
	uint8_t pl[16] = { IP_PROTO_HOPOPTS, 0, 1, 4, 0, 0, 0, 0,    /* dst opts */
			   IP_PROTO_NONE, 0, 1, 4, 0, 0, 0, 0 };      /* hop-by-hop */
	uint8_t pkt[64];
	size_t n = mkpkt(pkt, IP_PROTO_DSTOPTS, pl, sizeof pl);
	ipv6_chain c;

	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_PARAMPROB);
	assert_int_equal(c.pp_code, ICMP6_PP_NEXTHDR);
	assert_int_equal(c.pp_ptr, 40);
	assert_true(c.pp_send);
}

/* The kernel's own pointer for each of our crafted packets: the 32-bit
 * field after the ICMPv6 type/code/checksum of its parameter problem. */
static uint32_t kernel_pointer(const uint8_t *err)
{
	assert_int_equal(err[40], ICMP6_PARAM_PROB);
	return rd32(err + 44);
}

static void test_unknown_option_action_10(void **state)
{
	(void)state;
	ipv6_chain c;

	assert_int_equal(walk(v6_dstopt_10_crafted, sizeof v6_dstopt_10_crafted, 0, &c),
			 WIRE_ERR_PARAMPROB);
	assert_int_equal(c.pp_code, ICMP6_PP_OPTION);
	assert_int_equal(c.pp_code, v6_dstopt_10_err[41]);
	assert_int_equal(c.pp_ptr, kernel_pointer(v6_dstopt_10_err));
	assert_true(c.pp_send);
	/* Action 10 answers a multicast destination too. */
	assert_int_equal(walk(v6_dstopt_10_crafted, sizeof v6_dstopt_10_crafted,
			      IPV6_WALK_DST_MCAST, &c), WIRE_ERR_PARAMPROB);
	assert_true(c.pp_send);
}

/* An unknown option of type `type` (4 data bytes) in a destination
 * options header before ICMPv6. */
static size_t opt_pkt(uint8_t *pkt, uint8_t type)
{
	uint8_t pl[16] = { IP_PROTO_ICMPV6, 0, type, 4, 0, 0, 0, 0,
			   ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 0, 0, 0 };
	return mkpkt(pkt, IP_PROTO_DSTOPTS, pl, sizeof pl);
}

static void test_unknown_option_actions(void **state)
{
	(void)state;
	uint8_t pkt[64];
	ipv6_chain c;
	size_t n;

	/* 00: skipped. */
	n = opt_pkt(pkt, 0x1e);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_OK);
	assert_int_equal(c.proto, IP_PROTO_ICMPV6);
	assert_int_equal(c.off, 48);
	/* 01: dropped, nothing sent. */
	n = opt_pkt(pkt, 0x5e);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_PARAMPROB);
	assert_false(c.pp_send);
	/* 11: code 2 at the option (42), but not to a multicast group. */
	n = opt_pkt(pkt, 0xde);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_PARAMPROB);
	assert_true(c.pp_send);
	assert_int_equal(c.pp_code, ICMP6_PP_OPTION);
	assert_int_equal(c.pp_ptr, 42);
	assert_int_equal(walk(pkt, n, IPV6_WALK_DST_MCAST, &c), WIRE_ERR_PARAMPROB);
	assert_false(c.pp_send);
	/* The jumbo payload option (0xc2) is unknown to us: action 11. */
	n = opt_pkt(pkt, 0xc2);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_PARAMPROB);
	assert_true(c.pp_send);
}

static void test_option_bounds(void **state)
{
	(void)state;
	uint8_t pkt[128];
	ipv6_chain c;
	size_t n;

	/* Six bytes of padding (PadN of 4 data bytes) are fine ... */
	uint8_t pad6[8] = { IP_PROTO_NONE, 0, 1, 4, 0, 0, 0, 0 };
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, pad6, sizeof pad6);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_OK);
	assert_int_equal(c.proto, IP_PROTO_NONE);
	/* ... eight in a row (Pad1 x 6 then PadN of 2, in 16 bytes) are not. */
	uint8_t pad8[16] = { IP_PROTO_NONE, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 4, 0, 0, 0, 0 };
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, pad8, sizeof pad8);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_EXTHDR);
	/* Eight Pad1 in a row are too, though an option follows them;
	 * seven are fine. */
	uint8_t pad1[16] = { IP_PROTO_NONE, 1, [10] = 4, 4 };
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, pad1, sizeof pad1);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_EXTHDR);
	uint8_t pad1_7[16] = { IP_PROTO_NONE, 1, [9] = 4, 5 };
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, pad1_7, sizeof pad1_7);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_OK);
	/* An option running past its header. */
	uint8_t over[8] = { IP_PROTO_NONE, 0, 0x1e, 5, 0, 0, 0, 0 };
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, over, sizeof over);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_EXTHDR);
	/* An option's type in the last byte of a header that ends the
	 * packet: no room for its length byte, which is not read (ASan: the
	 * copy walk() makes ends there). */
	uint8_t lone[8] = { IP_PROTO_NONE, 0, 1, 3, 0, 0, 0, 0x1e };
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, lone, sizeof lone);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_EXTHDR);
	/* Nine unknown skippable options in one header: too many. */
	uint8_t many[24] = { IP_PROTO_NONE, 2 };
	for (int i = 0; i < 11; i++) {
		many[2 + 2 * i] = 0x1e;
		many[3 + 2 * i] = 0;
	}
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, many, sizeof many);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_EXTHDR);
	/* Eight are fine. */
	memset(many + 2, 0, sizeof many - 2);
	for (int i = 0; i < 8; i++)
		many[2 + 2 * i] = 0x1e;
	many[18] = 1;         /* PadN of 4 to the end */
	many[19] = 4;
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, many, sizeof many);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_OK);
}

/* RFC 5095: a type 0 routing header with segments left is refused with
 * code 0 at the routing type, as the kernel answered. */
static void test_routing_type0(void **state)
{
	(void)state;
	ipv6_chain c;

	assert_int_equal(walk(v6_rh0_crafted, sizeof v6_rh0_crafted, 0, &c),
			 WIRE_ERR_PARAMPROB);
	assert_int_equal(c.pp_code, ICMP6_PP_HEADER);
	assert_int_equal(c.pp_code, v6_rh0_err[41]);
	assert_int_equal(c.pp_ptr, kernel_pointer(v6_rh0_err));
	assert_true(c.pp_send);
}

/* Segments left 0 (any type): the header is ignored. */
static void test_routing_segments_left_0(void **state)
{
	(void)state;
	uint8_t *b = dup_bytes(v6_rh0_crafted, sizeof v6_rh0_crafted);
	ipv6_chain c;

	b[43] = 0;
	assert_int_equal(ipv6_walk(b, sizeof v6_rh0_crafted, 40, b[6], 6, 0, &c), WIRE_OK);
	assert_int_equal(c.proto, IP_PROTO_ICMPV6);
	assert_int_equal(c.off, 40 + 24);
	b[42] = 4;             /* SRH, still ignored with segments left 0 */
	assert_int_equal(ipv6_walk(b, sizeof v6_rh0_crafted, 40, b[6], 6, 0, &c), WIRE_OK);
	b[43] = 1;             /* any type with segments left: refused */
	assert_int_equal(ipv6_walk(b, sizeof v6_rh0_crafted, 40, b[6], 6, 0, &c),
			 WIRE_ERR_PARAMPROB);
	free(b);
}

static void test_fragments(void **state)
{
	(void)state;
	ipv6_chain c;

	assert_int_equal(walk(v6_frag1, sizeof v6_frag1, 0, &c), WIRE_OK);
	assert_true(c.is_frag);
	assert_int_equal(c.frag.off, 0);
	assert_true(c.frag.more);
	assert_int_equal(c.frag.next, IP_PROTO_ICMPV6);
	assert_int_equal(c.frag.id, rd32(v6_frag1 + 44));
	assert_int_equal(c.frag_hdr, 40);
	assert_int_equal(c.frag_nh_ptr, 6);
	assert_int_equal(c.off, 48);
	assert_int_equal(walk(v6_frag2, sizeof v6_frag2, 0, &c), WIRE_OK);
	assert_true(c.is_frag && c.frag.more);
	assert_int_equal(c.frag.off, sizeof v6_frag1 - 48);
	assert_int_equal(c.frag.id, rd32(v6_frag1 + 44));
	assert_int_equal(walk(v6_frag3, sizeof v6_frag3, 0, &c), WIRE_OK);
	assert_true(c.is_frag);
	assert_false(c.frag.more);
	assert_int_equal(c.frag.off, 2 * (sizeof v6_frag1 - 48));
}

/* RFC 6946: offset 0 and M clear is no fragment at all. */
static void test_atomic_fragment(void **state)
{
	(void)state;
	ipv6_chain c;

	assert_int_equal(walk(v6_atomic_crafted, sizeof v6_atomic_crafted, 0, &c), WIRE_OK);
	assert_false(c.is_frag);
	assert_int_equal(c.proto, IP_PROTO_ICMPV6);
	assert_int_equal(c.off, 48);
	assert_int_equal(c.nhdrs, 1);
}

static void test_fragment_length(void **state)
{
	(void)state;
	ipv6_chain c;

	/* Not a multiple of 8 with M set: code 0 at the payload length. */
	assert_int_equal(walk(v6_frag_len_crafted, sizeof v6_frag_len_crafted, 0, &c),
			 WIRE_ERR_PARAMPROB);
	assert_int_equal(c.pp_code, ICMP6_PP_HEADER);
	assert_int_equal(c.pp_code, v6_frag_len_err[41]);
	assert_int_equal(c.pp_ptr, kernel_pointer(v6_frag_len_err));
	/* The same as a last fragment is fine. */
	uint8_t *b = dup_bytes(v6_frag_len_crafted, sizeof v6_frag_len_crafted);
	b[43] &= 0xfe;
	wr16(b + 42, 8);         /* offset 8, last */
	assert_int_equal(ipv6_walk(b, sizeof v6_frag_len_crafted, 40, b[6], 6, 0, &c), WIRE_OK);
	assert_true(c.is_frag);
	/* Ending past 65,535 bytes: code 0 at the fragment offset. */
	wr16(b + 42, 65528);
	assert_int_equal(ipv6_walk(b, sizeof v6_frag_len_crafted, 40, b[6], 6, 0, &c),
			 WIRE_ERR_PARAMPROB);
	assert_int_equal(c.pp_code, ICMP6_PP_HEADER);
	assert_int_equal(c.pp_ptr, 42);
	free(b);
}

/* RFC 7112: a first fragment must hold the whole chain and the start of
 * the upper-layer header. */
static void test_first_fragment_incomplete(void **state)
{
	(void)state;
	uint8_t pkt[128], pl[64] = { 0 };
	ipv6_chain c;
	size_t n;

	/* fragment (offset 0, M) then 16 bytes of a 20-byte TCP header. */
	pl[0] = IP_PROTO_TCP;
	pl[3] = 1;
	n = mkpkt(pkt, IP_PROTO_FRAGMENT, pl, 8 + 16);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_PARAMPROB);
	assert_int_equal(c.pp_code, ICMP6_PP_INCOMPLETE);
	assert_int_equal(c.pp_ptr, 0);
	assert_true(c.pp_send);
	/* With 24 bytes of TCP (a multiple of 8) it is complete. */
	n = mkpkt(pkt, IP_PROTO_FRAGMENT, pl, 8 + 24);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_OK);
	assert_true(c.is_frag);
	/* fragment then a destination options header cut off. */
	pl[0] = IP_PROTO_DSTOPTS;
	pl[8] = IP_PROTO_TCP;
	pl[9] = 3;                /* 32 bytes, 24 present */
	n = mkpkt(pkt, IP_PROTO_FRAGMENT, pl, 8 + 24);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_PARAMPROB);
	assert_int_equal(c.pp_code, ICMP6_PP_INCOMPLETE);
	/* A later fragment need not hold any header. */
	wr16(pkt + 42, 8 | 1);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_OK);
}

/* RFC 7112 by upper layer (Linux's ipv6_frag_thdr_truncated): a first
 * fragment holds 20 bytes of TCP, 8 of UDP or ICMPv6, 1 of an unknown
 * protocol, none after "no next header" (nothing follows it, RFC 8200
 * §4.7; Linux's ipv6_skip_exthdr stops there too). With M set the bytes
 * come in eights, so only TCP's 20 and the 0 of no next header differ
 * from the rest. */
static void test_first_fragment_upper_bytes(void **state)
{
	(void)state;
	static const struct { uint8_t proto; size_t need; } cases[] = {
		{ IP_PROTO_TCP, 20 }, { IP_PROTO_UDP, 8 }, { IP_PROTO_ICMPV6, 8 },
		{ 253, 1 }, { IP_PROTO_NONE, 0 },
	};
	uint8_t pkt[128], pl[64] = { 0 };
	ipv6_chain c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* fragment (offset 0, M), destination options (8 bytes), then
		 * `have` bytes of the upper layer */
		print_message("next header %u\n", cases[i].proto);
		pl[0] = IP_PROTO_DSTOPTS;
		pl[3] = 1;
		pl[8] = cases[i].proto;
		pl[10] = 1;
		pl[11] = 4;
		for (size_t have = 0; have <= 24; have += 8) {
			int want = have >= cases[i].need ? WIRE_OK : WIRE_ERR_PARAMPROB;
			size_t n = mkpkt(pkt, IP_PROTO_FRAGMENT, pl, 8 + 8 + have);
			assert_int_equal(walk(pkt, n, 0, &c), want);
			if (want != WIRE_OK) {
				assert_int_equal(c.pp_code, ICMP6_PP_INCOMPLETE);
				assert_int_equal(c.pp_ptr, 0);
				assert_true(c.pp_send);
			} else {
				assert_true(c.is_frag);
			}
		}
	}
}

/* The chain after a first fragment's header counts toward the limit of
 * eight (the fragment header is one); a header of it that would start at
 * the packet's end is missing (incomplete), and nothing past the end is
 * read: there, more options headers would make a chain too long. */
static void test_first_fragment_chain(void **state)
{
	(void)state;
	uint8_t pkt[256], pl[8 * 20];
	ipv6_chain c;
	size_t n;

	memset(pl, 0, sizeof pl);
	pl[0] = IP_PROTO_DSTOPTS;
	pl[3] = 1;                               /* fragment: offset 0, M */
	for (int i = 1; i < 20; i++) {
		pl[8 * i] = IP_PROTO_DSTOPTS;
		pl[8 * i + 2] = 1;
		pl[8 * i + 3] = 4;
	}
	/* fragment and seven options headers: eight */
	pl[8 * 7] = IP_PROTO_NONE;
	n = mkpkt(pkt, IP_PROTO_FRAGMENT, pl, 8 * 8);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_OK);
	assert_true(c.is_frag);
	/* eight options headers: nine */
	pl[8 * 7] = IP_PROTO_DSTOPTS;
	pl[8 * 8] = IP_PROTO_NONE;
	n = mkpkt(pkt, IP_PROTO_FRAGMENT, pl, 8 * 9);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_EXT_LIMIT);
	/* one options header whose next is another, and the packet ends */
	pl[8 * 8] = IP_PROTO_DSTOPTS;
	mkpkt(pkt, IP_PROTO_FRAGMENT, pl, sizeof pl);
	wr16(pkt + 4, 16);
	assert_int_equal(ipv6_walk(pkt, 40 + 16, 40, pkt[6], 6, 0, &c), WIRE_ERR_PARAMPROB);
	assert_int_equal(c.pp_code, ICMP6_PP_INCOMPLETE);
	assert_int_equal(c.pp_ptr, 0);
	assert_true(c.pp_send);
}

static void test_chain_limit(void **state)
{
	(void)state;
	uint8_t pkt[256], pl[8 * 10];
	ipv6_chain c;
	size_t n;

	/* Eight destination options headers then no next header: walked. */
	memset(pl, 0, sizeof pl);
	for (int i = 0; i < 10; i++) {
		pl[8 * i] = IP_PROTO_DSTOPTS;
		pl[8 * i + 2] = 1;
		pl[8 * i + 3] = 4;
	}
	pl[8 * 7] = IP_PROTO_NONE;
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, pl, 8 * 8);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_OK);
	assert_int_equal(c.nhdrs, 8);
	assert_int_equal(c.proto, IP_PROTO_NONE);
	/* Nine: refused. */
	pl[8 * 7] = IP_PROTO_DSTOPTS;
	pl[8 * 8] = IP_PROTO_NONE;
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, pl, 8 * 9);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_EXT_LIMIT);
}

static void test_truncated_headers(void **state)
{
	(void)state;
	uint8_t pkt[128], pl[16] = { IP_PROTO_NONE, 1, 1, 12 };
	ipv6_chain c;
	size_t n;

	/* A 16-byte header with 8 bytes present; a header shorter than 8. */
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, pl, 8);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_EXTHDR);
	n = mkpkt(pkt, IP_PROTO_DSTOPTS, pl, 4);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_EXTHDR);
	n = mkpkt(pkt, IP_PROTO_FRAGMENT, pl, 6);
	assert_int_equal(walk(pkt, n, 0, &c), WIRE_ERR_EXTHDR);
	/* Every prefix of real packets with headers walks without overread. */
	for (size_t k = 40; k <= sizeof v6_mld_report; k++)
		walk(v6_mld_report, k, 0, &c);
	for (size_t k = 40; k <= sizeof v6_rh0_crafted; k++)
		walk(v6_rh0_crafted, k, 0, &c);
}

/* Unknown upper layers come back as the protocol, with the pointer the
 * caller answers code 1 with: the kernel said 6 for next header 253. */
static void test_unknown_next_header(void **state)
{
	(void)state;
	ipv6_chain c;

	assert_int_equal(walk(v6_unknown_nh_crafted, sizeof v6_unknown_nh_crafted, 0, &c),
			 WIRE_OK);
	assert_int_equal(c.proto, 253);
	assert_int_equal(v6_unknown_nh_err[41], ICMP6_PP_NEXTHDR);
	assert_int_equal(c.proto_ptr, kernel_pointer(v6_unknown_nh_err));
}

static void test_addresses(void **state)
{
	(void)state;
	uint8_t sn[16], mac[6], ll[16];
	static const uint8_t kmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	/* The kernel solicited us at 2001:2::2's group. */
	ip6_solicited_node(U, sn);
	assert_memory_equal(sn, v6_ns + 24, 16);
	assert_true(ip6_is_solicited_node(sn));
	assert_false(ip6_is_solicited_node(U));
	ip6_mcast_mac(sn, mac);
	assert_memory_equal(mac, ((uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 2 }), 6);
	/* The kernel's link-local (its RS came from it) is the modified
	 * EUI-64 of its MAC. */
	ip6_linklocal_eui64(kmac, ll);
	assert_memory_equal(ll, v6_rs + 8, 16);
	assert_true(ip6_is_linklocal(ll));
	assert_true(ip6_is_multicast(v6_mld_report + 24));
	assert_true(ip6_is_unspecified(v6_ns_dad + 8));
	assert_false(ip6_is_unspecified(K));
	assert_true(ip6_is_loopback((uint8_t[16]){ [15] = 1 }));
	assert_true(ip6_is_v4mapped((uint8_t[16]){ [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 }));
	assert_false(ip6_is_v4mapped(K));
	assert_true(ip6_is_v4compat((uint8_t[16]){ [12] = 198, 18, 0, 1 }));
	assert_false(ip6_is_v4compat((uint8_t[16]){ [15] = 1 }));
	assert_true(ip6_is_all_nodes((uint8_t[16]){ 0xff, 0x02, [15] = 1 }));
	assert_true(ip6_prefix_eq(K, U, 64));
	assert_true(ip6_prefix_eq(K, U, 126));
	assert_false(ip6_prefix_eq(K, U, 127));
	assert_true(ip6_prefix_eq(K, U, 0));
	assert_false(ip6_prefix_eq(K, U, 129));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_header),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_plain_chain),
		cmocka_unit_test(test_hop_by_hop),
		cmocka_unit_test(test_hop_by_hop_not_first),
		cmocka_unit_test(test_unknown_option_action_10),
		cmocka_unit_test(test_unknown_option_actions),
		cmocka_unit_test(test_option_bounds),
		cmocka_unit_test(test_routing_type0),
		cmocka_unit_test(test_routing_segments_left_0),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_atomic_fragment),
		cmocka_unit_test(test_fragment_length),
		cmocka_unit_test(test_first_fragment_incomplete),
		cmocka_unit_test(test_first_fragment_upper_bytes),
		cmocka_unit_test(test_first_fragment_chain),
		cmocka_unit_test(test_chain_limit),
		cmocka_unit_test(test_truncated_headers),
		cmocka_unit_test(test_unknown_next_header),
		cmocka_unit_test(test_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
