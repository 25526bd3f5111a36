/* ICMPv6 (src/wire/icmp6.c) and Neighbor Discovery messages
 * (src/wire/nd.c) against Linux's packets: checksums over the IPv6
 * pseudo-header (csum_pseudo6, also for TCP), the errors the kernel sent,
 * NS/NA/RS parsed and re-emitted byte for byte, an RA, and every validity
 * check of RFC 4861 §6.1 and §7.1. */
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

static const uint8_t KMAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };

/* The ICMPv6 message of a captured packet with no extension headers. */
static int parse_icmp(const uint8_t *pkt, size_t len, icmp_hdr *h, size_t *body_len)
{
	uint8_t *b = dup_bytes(pkt + 40, len - 40);
	const uint8_t *body;
	int r = icmp6_parse(b, len - 40, pkt + 8, pkt + 24, h, &body, body_len);
	if (r == WIRE_OK)
		assert_ptr_equal(body, b + 8);
	free(b);
	return r;
}

static void test_echo(void **state)
{
	(void)state;
	icmp_hdr h;
	size_t bl;

	assert_int_equal(parse_icmp(v6_echo_req, sizeof v6_echo_req, &h, &bl), WIRE_OK);
	assert_int_equal(h.type, ICMP6_ECHO_REQUEST);
	assert_int_equal(h.code, 0);
	assert_int_equal(h.rest, 1);      /* id 0, seq 1 */
	assert_int_equal(bl, 15);
	assert_int_equal(parse_icmp(v6_echo_rep, sizeof v6_echo_rep, &h, &bl), WIRE_OK);
	assert_int_equal(h.type, ICMP6_ECHO_REPLY);
	assert_int_equal(h.rest, 0x12340007);
	/* Our emit of the same reply is the kernel's, checksum included. */
	uint8_t out[64];
	icmp_hdr rep = { .type = ICMP6_ECHO_REPLY, .rest = 0x12340007 };
	int n = icmp6_emit(&rep, (const uint8_t *)"abcdefgh", 8, v6_echo_rep + 8,
			   v6_echo_rep + 24, out, sizeof out);
	assert_int_equal(n, sizeof v6_echo_rep - 40);
	assert_memory_equal(out, v6_echo_rep + 40, (size_t)n);
	assert_int_equal(icmp6_emit(&rep, out, 8, v6_echo_rep + 8, v6_echo_rep + 24, out, 15),
			 WIRE_ERR_SPACE);
}

static void test_checksum_errors(void **state)
{
	(void)state;
	uint8_t *b = dup_bytes(v6_echo_req, sizeof v6_echo_req);
	icmp_hdr h;
	size_t bl;

	b[sizeof v6_echo_req - 1] ^= 1;
	assert_int_equal(parse_icmp(b, sizeof v6_echo_req, &h, &bl), WIRE_ERR_ICMP_CSUM);
	b[sizeof v6_echo_req - 1] ^= 1;
	/* The pseudo-header counts: another destination fails. */
	b[39] ^= 1;
	assert_int_equal(parse_icmp(b, sizeof v6_echo_req, &h, &bl), WIRE_ERR_ICMP_CSUM);
	b[39] ^= 1;
	assert_int_equal(parse_icmp(b, 47, &h, &bl), WIRE_ERR_SHORT);
	free(b);
}

/* csum_pseudo6 makes Linux's TCP segments over IPv6 sum to zero. */
static void test_tcp_pseudo_header(void **state)
{
	(void)state;
	const uint8_t *pkts[] = { v6_tcp_syn, v6_tcp_synack, v6_tcp_rst };
	size_t lens[] = { sizeof v6_tcp_syn, sizeof v6_tcp_synack, sizeof v6_tcp_rst };

	for (int i = 0; i < 3; i++) {
		uint32_t n = (uint32_t)(lens[i] - 40);
		uint32_t s = csum_pseudo6(pkts[i] + 8, pkts[i] + 24, IP_PROTO_TCP, n);
		assert_int_equal(csum_fold(csum_partial(pkts[i] + 40, n, s)), 0);
		/* ... and not with the next header of UDP. */
		s = csum_pseudo6(pkts[i] + 8, pkts[i] + 24, IP_PROTO_UDP, n);
		assert_int_not_equal(csum_fold(csum_partial(pkts[i] + 40, n, s)), 0);
	}
}

static void test_errors_from_kernel(void **state)
{
	(void)state;
	icmp_hdr h;
	size_t bl;

	assert_int_equal(parse_icmp(v6_ptb, sizeof v6_ptb, &h, &bl), WIRE_OK);
	assert_int_equal(h.type, ICMP6_PACKET_TOO_BIG);
	assert_int_equal(h.rest, 1280);
	/* As much of the segment as fits in the minimum MTU. */
	assert_int_equal(sizeof v6_ptb, IPV6_MIN_MTU);
	assert_int_equal(bl, ICMP6_ERR_QUOTE_MAX);
	assert_true(icmp6_is_error(h.type));
	assert_int_equal(parse_icmp(v6_time_exceeded, sizeof v6_time_exceeded, &h, &bl), WIRE_OK);
	assert_int_equal(h.type, ICMP6_TIME_EXCEEDED);
	assert_int_equal(parse_icmp(v6_udp_closed_err, sizeof v6_udp_closed_err, &h, &bl), WIRE_OK);
	assert_int_equal(h.type, ICMP6_DEST_UNREACH);
	assert_int_equal(h.code, ICMP6_UNREACH_PORT);
	assert_int_equal(parse_icmp(v6_unknown_nh_err, sizeof v6_unknown_nh_err, &h, &bl), WIRE_OK);
	assert_int_equal(h.type, ICMP6_PARAM_PROB);
	assert_int_equal(h.code, ICMP6_PP_NEXTHDR);
	assert_int_equal(h.rest, 6);
	/* The quote is our packet, whole. */
	assert_memory_equal(v6_unknown_nh_err + 48, v6_unknown_nh_crafted,
			    sizeof v6_unknown_nh_crafted);
	assert_false(icmp6_is_error(ICMP6_ECHO_REQUEST));
}

static int nd(const uint8_t *pkt, size_t len, nd_msg *m)
{
	ipv6_hdr ip;
	const uint8_t *p;
	size_t pl;
	icmp_hdr h;
	const uint8_t *body;
	size_t bl;

	assert_int_equal(ipv6_parse(pkt, len, &ip, &p, &pl), WIRE_OK);
	assert_int_equal(icmp6_parse(p, pl, ip.src, ip.dst, &h, &body, &bl), WIRE_OK);
	uint8_t *b = dup_bytes(p, pl);
	int r = nd_parse(&ip, b, pl, m);
	free(b);
	return r;
}

static void test_ns_na(void **state)
{
	(void)state;
	nd_msg m;
	uint8_t out[64];

	assert_int_equal(nd(v6_ns, sizeof v6_ns, &m), WIRE_OK);
	assert_int_equal(m.type, ND_NEIGHBOR_SOLICIT);
	assert_memory_equal(m.target, v6_echo_req + 24, 16);   /* 2001:2::2 */
	assert_true(m.has_sll);
	assert_memory_equal(m.sll, KMAC, 6);
	assert_false(m.has_tll);
	/* Re-emitted as the kernel sent it. */
	assert_int_equal(nd_emit(&m, v6_ns + 8, v6_ns + 24, out, sizeof out),
			 sizeof v6_ns - 40);
	assert_memory_equal(out, v6_ns + 40, sizeof v6_ns - 40);

	assert_int_equal(nd(v6_na, sizeof v6_na, &m), WIRE_OK);
	assert_int_equal(m.type, ND_NEIGHBOR_ADVERT);
	assert_int_equal(m.flags, ND_NA_SOLICITED | ND_NA_OVERRIDE);
	assert_memory_equal(m.target, v6_na + 8, 16);          /* itself */
	assert_true(m.has_tll);
	assert_memory_equal(m.tll, KMAC, 6);
	assert_int_equal(nd_emit(&m, v6_na + 8, v6_na + 24, out, sizeof out),
			 sizeof v6_na - 40);
	assert_memory_equal(out, v6_na + 40, sizeof v6_na - 40);
	assert_int_equal(nd_emit(&m, v6_na + 8, v6_na + 24, out, 39), WIRE_ERR_SPACE);
}

static void test_dad_rs_ra(void **state)
{
	(void)state;
	nd_msg m;
	uint8_t out[64];

	assert_int_equal(nd(v6_ns_dad, sizeof v6_ns_dad, &m), WIRE_OK);
	assert_int_equal(m.type, ND_NEIGHBOR_SOLICIT);
	assert_false(m.has_sll);
	assert_true(m.has_nonce);
	assert_memory_equal(m.nonce, v6_ns_dad + 66, 6);
	assert_memory_equal(m.target, v6_echo_req + 8, 16);    /* 2001:2::1 */
	assert_int_equal(nd_emit(&m, v6_ns_dad + 8, v6_ns_dad + 24, out, sizeof out),
			 sizeof v6_ns_dad - 40);
	assert_memory_equal(out, v6_ns_dad + 40, sizeof v6_ns_dad - 40);

	assert_int_equal(nd(v6_rs, sizeof v6_rs, &m), WIRE_OK);
	assert_int_equal(m.type, ND_ROUTER_SOLICIT);
	assert_true(m.has_sll);
	assert_memory_equal(m.sll, KMAC, 6);
	assert_int_equal(nd_emit(&m, v6_rs + 8, v6_rs + 24, out, sizeof out),
			 sizeof v6_rs - 40);
	assert_memory_equal(out, v6_rs + 40, sizeof v6_rs - 40);

	assert_int_equal(nd(v6_ra_crafted, sizeof v6_ra_crafted, &m), WIRE_OK);
	assert_int_equal(m.type, ND_ROUTER_ADVERT);
	assert_int_equal(m.router_lifetime, 1800);
	assert_true(m.has_sll);
	assert_memory_equal(m.sll, ((uint8_t[]){ 2, 0, 0, 0, 0, 0xfe }), 6);
	assert_true(m.has_mtu);
	assert_int_equal(m.mtu, 1500);
	assert_int_equal(m.nprefix, 1);
	assert_int_equal(m.prefix[0].len, 64);
	assert_int_equal(m.prefix[0].flags & 0xc0, 0xc0);
	assert_memory_equal(m.prefix[0].prefix, v6_echo_req + 8, 8);
	/* RAs are parsed, never sent. */
	assert_int_equal(nd_emit(&m, v6_rs + 8, v6_rs + 24, out, sizeof out), WIRE_ERR_PROTO);
}

/* A copy of pkt with one change, its ICMPv6 checksum fixed, through nd(). */
static int nd_edit(const uint8_t *pkt, size_t len, size_t at, uint8_t val)
{
	uint8_t *b = dup_bytes(pkt, len);
	nd_msg m;

	b[at] = val;
	wr16(b + 42, 0);
	wr16(b + 42, csum_fold(csum_partial(b + 40, len - 40,
			csum_pseudo6(b + 8, b + 24, IP_PROTO_ICMPV6, (uint32_t)(len - 40)))));
	int r = nd(b, len, &m);
	free(b);
	return r;
}

static void test_nd_validity(void **state)
{
	(void)state;
	nd_msg m;

	/* Hop limit below 255: it crossed a router. */
	assert_int_equal(nd_edit(v6_ns, sizeof v6_ns, 7, 254), WIRE_ERR_ND);
	/* Code not 0. */
	assert_int_equal(nd_edit(v6_ns, sizeof v6_ns, 41, 1), WIRE_ERR_ND);
	/* An option of length 0, and one past the end. */
	assert_int_equal(nd_edit(v6_ns, sizeof v6_ns, 65, 0), WIRE_ERR_ND);
	assert_int_equal(nd_edit(v6_ns, sizeof v6_ns, 65, 2), WIRE_ERR_ND);
	/* A multicast target. */
	assert_int_equal(nd_edit(v6_ns, sizeof v6_ns, 48, 0xff), WIRE_ERR_ND);
	assert_int_equal(nd_edit(v6_na, sizeof v6_na, 48, 0xff), WIRE_ERR_ND);
	/* An NS from :: with a source link-layer option. */
	uint8_t *b = dup_bytes(v6_ns, sizeof v6_ns);
	memset(b + 8, 0, 16);
	assert_int_equal(nd_edit(b, sizeof v6_ns, 7, 255), WIRE_ERR_ND);
	/* DAD to a unicast address. */
	free(b);
	b = dup_bytes(v6_ns_dad, sizeof v6_ns_dad);
	memcpy(b + 24, v6_echo_req + 8, 16);
	assert_int_equal(nd_edit(b, sizeof v6_ns_dad, 7, 255), WIRE_ERR_ND);
	free(b);
	/* A multicast NA with S set; the same unsolicited is fine. */
	b = dup_bytes(v6_na, sizeof v6_na);
	memcpy(b + 24, v6_mld_report + 24, 16);
	assert_int_equal(nd_edit(b, sizeof v6_na, 44, 0x60), WIRE_ERR_ND);
	assert_int_equal(nd_edit(b, sizeof v6_na, 44, 0x20), WIRE_OK);
	free(b);
	/* An RA from a global address. */
	assert_int_equal(nd_edit(v6_ra_crafted, sizeof v6_ra_crafted, 8, 0x20), WIRE_ERR_ND);
	/* Too short for an NS, and not ND at all. */
	b = dup_bytes(v6_ns + 40, 20);
	ipv6_hdr ip = { .hop_limit = 255 };
	assert_int_equal(nd_parse(&ip, b, 20, &m), WIRE_ERR_ND);
	b[0] = ICMP6_ECHO_REQUEST;
	assert_int_equal(nd_parse(&ip, b, 20, &m), WIRE_ERR_PROTO);
	assert_int_equal(nd_parse(&ip, b, 3, &m), WIRE_ERR_SHORT);
	free(b);
	/* Every prefix of the real messages parses or fails cleanly. */
	for (size_t k = 40; k <= sizeof v6_ra_crafted; k++) {
		b = dup_bytes(v6_ra_crafted + 40, k - 40);
		ipv6_hdr rip;
		memcpy(rip.src, v6_ra_crafted + 8, 16);
		memcpy(rip.dst, v6_ra_crafted + 24, 16);
		rip.hop_limit = 255;
		int r = nd_parse(&rip, b, k - 40, &m);
		assert_true(r == WIRE_OK || r == WIRE_ERR_ND || r == WIRE_ERR_SHORT);
		free(b);
	}
}

/* msg[0..len) as an ND message from src (hop limit 255) to all-nodes. */
static int nd_raw(const uint8_t src[16], const uint8_t *msg, size_t len, nd_msg *m)
{
	ipv6_hdr ip = { .hop_limit = 255, .dst = { 0xff, 0x02, [15] = 1 } };
	uint8_t *b = dup_bytes(msg, len);

	memcpy(ip.src, src, 16);
	int r = nd_parse(&ip, b, len, m);
	free(b);
	return r;
}

/* An 8-byte option of kind k whose six bytes after the head are all v. */
static size_t opt8(uint8_t *p, uint8_t k, uint8_t v)
{
	p[0] = k;
	p[1] = 1;
	memset(p + 2, v, 6);
	return 8;
}

/* RFC 4861 §4.6 options: the first of each kind is kept and a
 * link-layer option of another size than Ethernet's is ignored (a later
 * one must not overwrite what an earlier one said); a prefix option of
 * another length than 4 makes the message invalid; prefixes past
 * ND_MAX_PREFIXES are dropped, never written past the array. */
static void test_nd_options(void **state)
{
	(void)state;
	static const uint8_t ll[16] = { 0xfe, 0x80, [15] = 1 };
	static const uint8_t A[16] = { 0x20, 0x01, 0, 2, [15] = 1 };
	uint8_t b[512];
	nd_msg m;
	size_t n;

	/* NS: SLLA of 16 bytes (ignored), then two of 8 (the first kept),
	 * two nonces (the first kept). */
	memset(b, 0, sizeof b);
	b[0] = ND_NEIGHBOR_SOLICIT;
	memcpy(b + 8, A, 16);
	n = 24;
	b[n] = ND_OPT_SLLA;
	b[n + 1] = 2;
	memset(b + n + 2, 0x77, 14);
	n += 16;
	n += opt8(b + n, ND_OPT_SLLA, 0x02);
	n += opt8(b + n, ND_OPT_SLLA, 0x04);
	n += opt8(b + n, ND_OPT_NONCE, 0x11);
	n += opt8(b + n, ND_OPT_NONCE, 0x22);
	assert_int_equal(nd_raw(ll, b, n, &m), WIRE_OK);
	assert_true(m.has_sll);
	assert_memory_equal(m.sll, ((uint8_t[]){ 2, 2, 2, 2, 2, 2 }), 6);
	assert_true(m.has_nonce);
	assert_memory_equal(m.nonce, ((uint8_t[]){ 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 }), 6);

	/* NA: a 16-byte TLLA ignored, then two (the first kept). */
	b[0] = ND_NEIGHBOR_ADVERT;
	n = 24;
	b[n] = ND_OPT_TLLA;
	b[n + 1] = 2;
	memset(b + n + 2, 0x77, 14);
	n += 16;
	n += opt8(b + n, ND_OPT_TLLA, 0x02);
	n += opt8(b + n, ND_OPT_TLLA, 0x04);
	assert_int_equal(nd_raw(ll, b, n, &m), WIRE_OK);
	assert_true(m.has_tll);
	assert_memory_equal(m.tll, ((uint8_t[]){ 2, 2, 2, 2, 2, 2 }), 6);
	/* The same NA from :: is invalid: an advertisement comes from an
	 * address of the sender's (§7.2.4), never from nobody. */
	assert_int_equal(nd_raw((uint8_t[16]){ 0 }, b, n, &m), WIRE_ERR_ND);

	/* RA: a 16-byte MTU option ignored, two MTUs (the first kept), then
	 * ND_MAX_PREFIXES + 2 prefixes, 2001:2:k::/64 for k = 0, 1, ... */
	memset(b, 0, sizeof b);
	b[0] = ND_ROUTER_ADVERT;
	n = 16;
	b[n] = ND_OPT_MTU;
	b[n + 1] = 2;
	wr32(b + n + 4, 9000);
	n += 16;
	b[n] = ND_OPT_MTU;
	b[n + 1] = 1;
	wr32(b + n + 4, 1400);
	n += 8;
	b[n] = ND_OPT_MTU;
	b[n + 1] = 1;
	wr32(b + n + 4, 1300);
	n += 8;
	size_t first_prefix = n;
	for (unsigned k = 0; k < ND_MAX_PREFIXES + 2; k++) {
		b[n] = ND_OPT_PREFIX;
		b[n + 1] = 4;
		b[n + 2] = 64;
		b[n + 3] = 0xc0;
		wr32(b + n + 4, 100 + k);
		b[n + 16] = 0x20;
		b[n + 17] = 0x01;
		b[n + 19] = 2;
		b[n + 21] = (uint8_t)k;
		n += 32;
	}
	assert_true(n <= sizeof b);
	assert_int_equal(nd_raw(ll, b, n, &m), WIRE_OK);
	assert_true(m.has_mtu);
	assert_int_equal(m.mtu, 1400);
	assert_int_equal(m.nprefix, ND_MAX_PREFIXES);
	for (unsigned k = 0; k < ND_MAX_PREFIXES; k++) {
		assert_int_equal(m.prefix[k].valid, 100 + k);
		assert_int_equal(m.prefix[k].prefix[5], k);
	}
	/* A prefix option of length 3: the whole RA is invalid. */
	b[first_prefix + 1] = 3;
	assert_int_equal(nd_raw(ll, b, first_prefix + 24, &m), WIRE_ERR_ND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_checksum_errors),
		cmocka_unit_test(test_tcp_pseudo_header),
		cmocka_unit_test(test_errors_from_kernel),
		cmocka_unit_test(test_ns_na),
		cmocka_unit_test(test_dad_rs_ra),
		cmocka_unit_test(test_nd_validity),
		cmocka_unit_test(test_nd_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
