/*
 * libFuzzer target for IPv6: the header, extension-header, ICMPv6 and ND
 * parsers of src/wire, the IP layer's IPv6 input (ip6.c, icmp6.c, the
 * reassembly of frag.c) through a stack, and the TAP's Neighbor Discovery
 * (src/link/nd.c and its neighbour table neigh.c, compiled in here: the
 * fuzz archive leaves out src/link), with what AF_XDP's queues add: an
 * address tentative without a probe, one found taken elsewhere, every
 * advertisement passed on and taught back (nd_take_advert, nd_glean).
 *
 * The input is a script of records, each one packet:
 *   byte 0  mode: bit 0 walk as if to a multicast group, bit 1 force the
 *           source to 2001:2::1, bit 2 force the destination to the
 *           stack's 2001:2::2, bit 3 fix the payload length and the
 *           ICMPv6 checksum (so parsing gets past them), bit 4 advance
 *           time by byte 1 * 100 ms, bit 5 also send the packet out
 *           through ND, bit 6 force the hop limit to 255 (ND's)
 *   byte 1  argument
 *   2..3    length n (big-endian, at most what is left), then n bytes.
 * Every record is parsed on its own (parse/emit round trips must agree),
 * and fed to one stack and one ND cache, which live for the whole input;
 * at the end every timer runs out and both are freed, so leaks and bad
 * accesses show up under ASan.
 *
 *   scripts/fuzz.sh 60        builds and runs it (see there)
 */
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "stack/stack.h"
#include "wire/ipv6.h"
#include "../../src/link/neigh.c"
#include "../../src/link/nd.c"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const uint8_t A1[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 1 };
static const uint8_t A2[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 2 };
static const uint8_t A3[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 3 };
static const uint8_t A4[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 4 };
static const uint8_t LL[16] = { 0xfe, 0x80, [8] = 0x00, 0x68, 0x73, 0xff, 0xfe, 0x12, 0, 2 };
static const uint8_t MAC[6] = { 0x02, 0x68, 0x73, 0x12, 0x00, 0x02 };

static void sink(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	(void)p;
	(void)len;
}

static void up_input6(void *ctx, const ipv6_hdr *ip, const uint8_t *seg, size_t len)
{
	(void)ctx;
	(void)seg;
	CHECK(len <= ip->payload_len);
}

static void up_error(void *ctx, const ip_icmp_err *e)
{
	(void)ctx;
	const ip_icmp_err6 *e6 = ip_icmp_err_v6(e);
	CHECK(e6 && e6->e.family == IP_FAM6);
	CHECK(e6->e.type != ICMP_DEST_UNREACH || e6->e.code != ICMP_UNREACH_NEEDFRAG ||
	      e6->e.mtu >= IPV6_MIN_MTU);
}

static void try_icmp6(uint8_t *m, size_t len, const uint8_t *src, const uint8_t *dst)
{
	icmp_hdr h;
	const uint8_t *body;
	size_t bl;

	if (icmp6_parse(m, len, src, dst, &h, &body, &bl) != WIRE_OK)
		return;
	static uint8_t out[65536];
	int n = icmp6_emit(&h, body, bl, src, dst, out, sizeof out);
	/* Byte for byte, but for the checksum, which may have been the
	 * other zero on input: a message whose sum is zero verifies with
	 * 0xffff as well as 0x0000 in the field (RFC 1624 §3), and the
	 * emitter writes 0x0000. */
	CHECK(n == (int)len && memcmp(out, m, 2) == 0 && memcmp(out + 4, m + 4, len - 4) == 0);
	uint16_t in_sum = (uint16_t)(m[2] << 8 | m[3]), out_sum = (uint16_t)(out[2] << 8 | out[3]);
	CHECK(in_sum == out_sum || (in_sum == 0xffff && out_sum == 0));
}

static void try_nd(const ipv6_hdr *ip, const uint8_t *m, size_t len)
{
	nd_msg a, b;
	ipv6_hdr ip2 = *ip;
	uint8_t out[128];

	if (nd_parse(ip, m, len, &a) != WIRE_OK)
		return;
	CHECK(!ip6_is_multicast(a.target) || a.type == ND_ROUTER_SOLICIT ||
	      a.type == ND_ROUTER_ADVERT);
	int n = nd_emit(&a, ip->src, ip->dst, out, sizeof out);
	if (a.type == ND_ROUTER_ADVERT) {
		CHECK(n == WIRE_ERR_PROTO);
		return;
	}
	CHECK(n > 0);
	/* Emitted, it parses back to the same message. */
	ip2.hop_limit = 255;
	CHECK(nd_parse(&ip2, out, (size_t)n, &b) == WIRE_OK);
	CHECK(a.type == b.type && memcmp(a.target, b.target, 16) == 0);
	CHECK(a.flags == b.flags || a.type != ND_NEIGHBOR_ADVERT);
	CHECK(a.has_sll == b.has_sll || a.type == ND_NEIGHBOR_ADVERT);
	CHECK(a.has_tll == b.has_tll || a.type != ND_NEIGHBOR_ADVERT);
}

/* The wire layer on its own; b is an exact-size copy. */
static void try_wire(uint8_t *b, size_t len, unsigned flags)
{
	ipv6_hdr h;
	const uint8_t *p;
	size_t pl;
	ipv6_chain c;

	if (ipv6_parse(b, len, &h, &p, &pl) != WIRE_OK)
		return;
	CHECK(p == b + 40 && pl <= len - 40);
	uint8_t hdr[40];
	CHECK(ipv6_emit(&h, hdr, sizeof hdr) == 40);
	CHECK(memcmp(hdr, b, 40) == 0);
	len = 40 + pl;
	int r = ipv6_walk(b, len, 40, h.next, 6, flags, &c);
	if (r == WIRE_OK) {
		CHECK(c.off <= len && c.proto_ptr < c.off && c.nhdrs <= IPV6_MAX_EXT_HDRS);
		if (c.is_frag)
			CHECK(c.frag_hdr + 8 == c.off && c.frag_nh_ptr < c.frag_hdr);
		if (c.proto == IP_PROTO_ICMPV6) {
			try_icmp6(b + c.off, len - c.off, h.src, h.dst);
			if (c.off == 40)
				try_nd(&h, b + 40, len - 40);
		}
	} else if (r == WIRE_ERR_PARAMPROB) {
		CHECK(c.pp_ptr < len);
	}
}

/* The fix-ups of mode bits 1, 2, 3, 6. */
static void fixup(uint8_t *b, size_t len, uint8_t mode)
{
	if (len < 40)
		return;
	b[0] = (uint8_t)(0x60 | (b[0] & 0x0f));
	if (mode & 2)
		memcpy(b + 8, A1, 16);
	if (mode & 4)
		memcpy(b + 24, A2, 16);
	if (mode & 64)
		b[7] = 255;
	if (!(mode & 8))
		return;
	wr16(b + 4, (uint16_t)(len - 40 > 65535 ? 65535 : len - 40));
	if (b[6] == IP_PROTO_ICMPV6 && len >= 48 && len - 40 <= 65535) {
		wr16(b + 42, 0);
		wr16(b + 42, csum_fold(csum_partial(b + 40, len - 40,
				csum_pseudo6(b + 8, b + 24, IP_PROTO_ICMPV6, (uint32_t)(len - 40)))));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hsk_config cfg;
	hsk_link link = { .transmit = sink };
	uint64_t now = 1000000000ull;
	static uint8_t frame[14 + 65536];

	hsk_config_default(&cfg);
	cfg.addr = 0xc6120002u;
	cfg.seed = 1;
	hsk_stack *s = hsk_stack_new(&cfg, &link, now);
	nd_cache *nd = nd_new(MAC, 8, 4);
	CHECK(s && nd);
	CHECK(ip_addr_add(&s->ip, IP_FAM6, A2, 64) == 0);
	CHECK(ip_addr_add(&s->ip, IP_FAM6, LL, 64) == 0);
	s->ip.upper.input6 = up_input6;
	s->ip.upper.icmp_error = up_error;
	CHECK(nd_add_addr(nd, now, A2, 64, false, sink, NULL) == 0);
	CHECK(nd_add_addr(nd, now, LL, 64, true, sink, NULL) == 0);
	/* AF_XDP's ways: an address tentative without a probe, one another
	 * queue found taken (its holder a neighbour) */
	CHECK(nd_add_addr(nd, now, A3, 64, true, NULL, NULL) == 0);
	CHECK(nd_add_addr(nd, now, A4, 64, false, sink, NULL) == 0);
	CHECK(nd_set_duplicate(nd, A4));

	while (size >= 4) {
		uint8_t mode = data[0], arg = data[1];
		size_t n = (size_t)data[2] << 8 | data[3];
		data += 4;
		size -= 4;
		if (n > size)
			n = size;
		uint8_t *b = malloc(n ? n : 1);
		CHECK(b);
		memcpy(b, data, n);
		fixup(b, n, mode);
		try_wire(b, n, mode & 1 ? IPV6_WALK_DST_MCAST : 0);
		if (mode & 16)
			now += (uint64_t)arg * 100000000ull;
		/* Through the stack (it may rewrite nothing: a fresh copy). */
		memcpy(b, data, n);
		fixup(b, n, mode);
		hsk_stack_input(s, now, b, n);
		hsk_stack_advance(s, now);
		/* Through ND, framed to our MAC or the packet's group. */
		const uint8_t *ip;
		memcpy(frame + 6, (uint8_t[6]){ 2, 0, 0, 0, 0, 1 }, 6);
		if (n >= 40 && ip6_is_multicast(b + 24))
			ip6_mcast_mac(b + 24, frame);
		else
			memcpy(frame, MAC, 6);
		frame[12] = 0x86;
		frame[13] = 0xdd;
		memcpy(frame + 14, b, n);
		long k = nd_eth_input(nd, now, frame, 14 + n, &ip, sink, NULL);
		CHECK(k == 0 || (k == (long)n && ip == frame + 14));
		/* an advertisement passed on, taught back as another queue would */
		uint8_t ta[16], tmac[6], nh[16];
		if (nd_take_advert(nd, ta, tmac)) {
			CHECK(!(tmac[0] & 1));
			nd_glean(nd, now, ta, tmac, sink, NULL);
		}
		if (n >= 40 && nd_next_hop(nd, now, b + 24, nh) && (mode & 64))
			nd_glean(nd, now, nh, (uint8_t[6]){ 2, 0, 0, 0, 0, 9 }, sink, NULL);
		if (mode & 32)
			nd_output(nd, now, b, n, sink, NULL);
		nd_advance(nd, now, sink, NULL);
		free(b);
		data += n;
		size -= n;
	}
	/* Every timer out: reassembly, ND retries and ageing. */
	now += 3600ull * 1000000000ull;
	hsk_stack_advance(s, now);
	nd_advance(nd, now, sink, NULL);
	nd_advance(nd, now + 3600ull * 1000000000ull, sink, NULL);
	hsk_stack_free(s);
	nd_free(nd);
	return 0;
}
