/*
 * The IP layer's way in for the usual packet, inline in hsk_stack_input
 * (stack.c) as well as in ip_input (ip.c): an IPv4 TCP segment of the
 * known pair, with a 20-byte header, goes from the link to TCP with no
 * call between (ip_input's call, its arguments moved a register each and
 * the layer's address made, was ~6 instructions of every packet).
 */
#ifndef HSK_IP_IN_H
#define HSK_IP_IN_H

#include <assert.h>

#include "ip/ip.h"

/* Not a fragment (MF and the offset: bytes 6-7) and TCP (byte 9), one
 * word compare; the TTL between them is not looked at. */
static inline bool ip_in_tcp_whole(const uint8_t *pkt)
{
	return (rd32(pkt + 6) & ((uint32_t)(IPV4_MF | IPV4_FRAG_MASK) << 16 | 0xff)) ==
	       IP_PROTO_TCP;
}

/* The address tests are made once for the pair of addresses that passed
 * them last (rx_pair; the usual packet is from the peer before). The
 * pair's addresses are in ip->rx from then on (nothing else writes them):
 * a packet of the known pair finds them there. */
static inline bool ip_in_pair_known(const ip_layer *ip, const uint8_t *pkt)
{
	uint64_t pair;
	memcpy(&pair, pkt + 12, 8);
	return ip->rx_pair_ok && pair == ip->rx_pair;
}

/* A version 6 packet for a stack with an IPv6 address: ip6_input's.
 * Without one, IPv6 is off (as Linux's disable_ipv6): such a packet is
 * counted and dropped as IPv4 always did. */
static inline bool ip_in_v6(const ip_layer *ip, const uint8_t *pkt, size_t len)
{
	return ip->addrs.n6 && len && pkt[0] >> 4 == 6;
}

/* The end of ip_input's way for a TCP segment whose addresses are
 * ip->rx's (the known pair's): its counters, and up with a tail call.
 * env is ip->env (hsk_stack_input knows where it is without its load). */
static inline __attribute__((always_inline)) void ip_input_tcp(ip_layer *ip, hsk_env *env,
							     const uint8_t *pkt, size_t ihl,
							     size_t total)
{
	ipv4_hdr *h = &ip->rx;
	assert(env == ip->env);
	assert(h->src == rd32(pkt + 12) && h->dst == rd32(pkt + 16));
	h->tos = pkt[1];
	CNT_INC(env, InReceives);
	env->cnt.v[CNT_InNoECTPkts + (h->tos & IP_ECN_MASK)]++;
	CNT_INC(env, InDelivers);
	ip->upper.input(ip->upper.ctx, h, pkt + ihl, total - ihl);
}

/* The packet is the usual one: IPv4 with a 20-byte header (0x45), its
 * total length (*total) within the packet and at least the header, its
 * sum right, not a fragment, TCP, of the known pair. Such a packet
 * passes every test ip_input makes (ipv4_hdr_check's, in its order, then
 * the same two) and is taken by ip_input_tcp; for any other, false, and
 * ip_input makes its tests. */
static inline __attribute__((always_inline)) bool ip_input_usual(const ip_layer *ip,
								const uint8_t *pkt, size_t len,
								size_t *total)
{
	if (len < IPV4_HDR_LEN)
		return false;
	/* the version and header length byte and the total length, one
	 * load */
	uint32_t w0 = rd32(pkt);
	if (w0 >> 24 != (4 << 4 | IPV4_HDR_LEN / 4))
		return false;
	size_t t = w0 & 0xffff;
	if (t < IPV4_HDR_LEN || t > len || !hdr_sum_ok(pkt, IPV4_HDR_LEN) ||
	    !ip_in_tcp_whole(pkt) || !ip_in_pair_known(ip, pkt))
		return false;
	*total = t;
	return true;
}

/* The 32 bytes of source and destination at a are ip->rx6_pair. */
static inline bool rx6_pair_is(const ip_layer *ip, const uint8_t *a)
{
	/* word by word (as arrays of four, gcc copied both to the stack
	 * first: ten instructions more a packet) */
	uint64_t d = 0;
	for (int i = 0; i < 32; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, ip->rx6_pair + i, 8);
		d |= x ^ y;
	}
	return d == 0;
}

/* The usual IPv6 packet (of a stack with an IPv6 address, version 6:
 * ip_in_v6's test, both callers'): TCP without an extension header
 * between the pair of addresses the last such packet passed
 * ip6_input_all's checks with (rx6_pair; forgotten when the addresses
 * change), *plen its payload length. Of those checks, the ones on more
 * than the addresses are made (ipv6_parse's lengths; the next header);
 * dst_check and src_martian gave 1 and false for the pair (a TCP packet's
 * source test reads no payload), and deliver hands it up when TCP speaks
 * IPv6 (upper.input6, which tests may take away). false: ip6_input_all's
 * (ip6.c). Inline in ip6_input and in hsk_stack_input's IPv6 way
 * (stack.c: stack_input6, no call between). */
static inline __attribute__((always_inline)) bool ip6_input_usual(const ip_layer *ip,
								 const uint8_t *pkt, size_t len,
								 size_t *plen)
{
	if (!ip->rx6_pair_ok || len < IPV6_HDR_LEN || pkt[6] != IP_PROTO_TCP ||
	    !ip->upper.input6 || !rx6_pair_is(ip, pkt + 8))
		return false;
	assert(pkt[0] >> 4 == 6);
	size_t p = rd16(pkt + 4);
	if (p > len - IPV6_HDR_LEN)
		return false;
	*plen = p;
	return true;
}

/* Such a packet taken: deliver's counters, in the same order, and the
 * header in ip->rx6, not in a frame (the addresses and their sum are
 * there already: the pair's, stored with it, the only stores of them),
 * and up with a tail call. env is ip->env. */
static inline __attribute__((always_inline)) void ip6_input_tcp(ip_layer *ip, hsk_env *env,
							      const uint8_t *pkt, size_t plen)
{
	ipv6_hdr *h = &ip->rx6;
	assert(env == ip->env);
	ipv6_hdr_fields_but_addrs(pkt, plen, h);
	assert(!memcmp(h->src, pkt + 8, 16) && !memcmp(h->dst, pkt + 24, 16));
	_Static_assert(CNT_Ip6InNoECTPkts + IP_ECN_ECT1 == CNT_Ip6InECT1Pkts &&
		       CNT_Ip6InNoECTPkts + IP_ECN_ECT0 == CNT_Ip6InECT0Pkts &&
		       CNT_Ip6InNoECTPkts + IP_ECN_CE == CNT_Ip6InCEPkts,
		       "the four counters in the field's order");
	CNT_INC(env, Ip6InReceives);
	env->cnt.v[CNT_Ip6InNoECTPkts + (h->tclass & IP_ECN_MASK)]++;
	CNT_INC(env, Ip6InDelivers);
	ip->upper.input6(ip->upper.ctx, h, pkt + IPV6_HDR_LEN, plen);
}

#endif
