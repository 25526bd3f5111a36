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

#endif
