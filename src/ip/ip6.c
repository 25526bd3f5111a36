/*
 * IPv6 input checks, the extension-header chain, demultiplexing, and
 * output (RFC 8200).
 *
 *   ip6_input -> ipv6_parse -> martians -> ipv6_walk
 *     -> [fragment: reasm_input6 -> ipv6_walk of the rest of the chain]
 *     -> TCP: upper.input6 | ICMPv6: icmp6_input | 59: nothing
 *     -> anything else: parameter problem, code 1
 *
 * Martians (RFC 4291, RFC 6890) are dropped before anything is answered,
 * as for IPv4: sources that cannot have sent the packet — the loopback
 * ::1 (never on a link, RFC 4291 §2.5.3), multicast (the wire parser),
 * IPv4-mapped and IPv4-compatible addresses (RFC 4291 §2.5.5: never on
 * the wire; a mapped source is how a filter written for IPv4 is evaded),
 * our own addresses (a land attack or a loop), and the unspecified
 * address :: except for the one message that may carry it, a duplicate
 * address detection probe (a neighbour solicitation to a solicited-node
 * group, RFC 4861 §7.2.2), which the link's ND answers and this layer
 * only ignores. Destinations: our unicast addresses, and the multicast
 * groups we are in (all-nodes and the solicited-node group of each of
 * our addresses); any other, :: and ::1 included, is dropped.
 */
#include <assert.h>
#include <string.h>

#include "ip/ip_in.h"

static void ip6_drop(ip_layer *ip, const char *why)
{
	hsk_trace_event ev = { .kind = HSK_EV_DROP, .obj = HSK_OBJ_NONE, .sd = -1,
			       .wscale = -1, .reason = why };
	env_trace(ip->env, &ev);
}

/* A DAD probe: an ICMPv6 neighbour solicitation (directly after the
 * header) to a solicited-node group. */
static bool is_dad_probe(const ipv6_hdr *h, const uint8_t *payload, size_t plen)
{
	return h->next == IP_PROTO_ICMPV6 && plen >= 1 &&
	       payload[0] == ND_NEIGHBOR_SOLICIT && ip6_is_solicited_node(h->dst);
}

static bool src_martian(const ip_layer *ip, const ipv6_hdr *h, const uint8_t *payload,
			size_t plen)
{
	const uint8_t *a = h->src;

	if (ip6_is_unspecified(a))
		return !is_dad_probe(h, payload, plen);
	return ip6_is_loopback(a) || ip6_is_v4mapped(a) || ip6_is_v4compat(a) ||
	       ip6_is_ours(ip, a);
}

/* Sorts the destination: 1 ours (unicast), 2 a group we are in, 0 not
 * for us (counted and traced). */
static int dst_check(ip_layer *ip, const ipv6_hdr *h)
{
	if (ip6_is_multicast(h->dst)) {
		if (ip6_in_group(ip, h->dst)) {
			CNT_INC(ip->env, Ip6InMcastPkts);
			return 2;
		}
	} else if (ip6_is_ours(ip, h->dst)) {
		return 1;
	}
	CNT_INC(ip->env, Ip6InAddrErrors);
	if (ip6_is_multicast(h->dst) || ip6_is_unspecified(h->dst) ||
	    ip6_is_loopback(h->dst) || ip6_is_v4mapped(h->dst)) {
		CNT_INC(ip->env, DropMartianDst);
		ip6_drop(ip, "ip6_martian_dst");
	} else {
		CNT_INC(ip->env, DropNotForUs);
		ip6_drop(ip, "ip6_not_for_us");
	}
	return 0;
}

/* A walk that failed: counted, traced, and answered when RFC 8200 says. */
static void walk_failed(ip_layer *ip, int err, const ipv6_chain *c,
			const uint8_t *pkt, size_t len)
{
	CNT_INC(ip->env, Ip6InHdrErrors);
	if (err == WIRE_ERR_EXT_LIMIT)
		CNT_INC(ip->env, Ip6DropExtLimit);
	else if (err == WIRE_ERR_EXTHDR)
		CNT_INC(ip->env, Ip6DropExtHdr);
	ip6_drop(ip, wire_err_name(err));
	if (err == WIRE_ERR_PARAMPROB && c->pp_send)
		icmp6_send_error(ip, pkt, len, ICMP6_PARAM_PROB, c->pp_code, c->pp_ptr,
				 c->pp_code == ICMP6_PP_OPTION);
}

/* The upper layer of a packet whose chain ended at c->proto. */
static inline void deliver(ip_layer *ip, ipv6_hdr *h, const uint8_t *pkt, size_t len,
			   const ipv6_chain *c, bool mcast)
{
	const uint8_t *l4 = pkt + c->off;
	size_t l4_len = len - c->off;

	switch (c->proto) {
	case IP_PROTO_ICMPV6:
		CNT_INC(ip->env, Ip6InDelivers);
		icmp6_input(ip, h, l4, l4_len, mcast);
		return;
	case IP_PROTO_NONE:
		return;                          /* RFC 8200 §4.7: nothing follows */
	case IP_PROTO_TCP:
		if (mcast) {
			/* RFC 1122 §4.2.3.10 (kept by RFC 9293): never to a group. */
			CNT_INC(ip->env, DropMartianDst);
			ip6_drop(ip, "ip6_tcp_to_group");
			return;
		}
		if (ip->upper.input6) {
			CNT_INC(ip->env, Ip6InDelivers);
			ip->upper.input6(ip->upper.ctx, h, l4, l4_len);
			return;
		}
		break;
	default:
		break;
	}
	CNT_INC(ip->env, Ip6InUnknownProtos);
	ip6_drop(ip, "ip6_unknown_protocol");
	icmp6_send_error(ip, pkt, len, ICMP6_PARAM_PROB, ICMP6_PP_NEXTHDR, c->proto_ptr, false);
}

/* The extension headers of a packet that has some: walked to the upper
 * layer (c), a fragment reassembled first (*pkt, *len and the header's
 * payload length are then the whole packet's). false: the packet went no
 * further (a bad chain, counted and answered; a fragment held). */
static __attribute__((noinline)) bool ip6_walk_chain(ip_layer *ip, ipv6_hdr *h,
						     const uint8_t **pkt, size_t *len,
						     ipv6_chain *c, bool mcast)
{
	unsigned flags = mcast ? IPV6_WALK_DST_MCAST : 0;
	int err = ipv6_walk(*pkt, *len, IPV6_HDR_LEN, h->next, 6, flags, c);
	if (err < 0) {
		walk_failed(ip, err, c, *pkt, *len);
		return false;
	}
	if (c->is_frag) {
		const uint8_t *whole;
		size_t at, nh_ptr;
		long n = reasm_input6(ip->reasm6, ip->env->now, *pkt, *len, c, &whole,
				      &at, &nh_ptr, &ip->env->cnt);
		if (n <= 0)
			return false;
		/* The chain reads on after the unfragmentable part; a second
		 * fragment header in the reassembled packet is not reassembled
		 * again (it would be a fragment of a fragment). */
		*pkt = whole;
		*len = (size_t)n;
		h->payload_len = (uint16_t)(*len - IPV6_HDR_LEN);
		err = ipv6_walk(*pkt, *len, at, (*pkt)[nh_ptr], nh_ptr, flags, c);
		if (err == WIRE_OK && c->is_frag)
			err = WIRE_ERR_EXTHDR;
		if (err < 0) {
			walk_failed(ip, err, c, *pkt, *len);
			return false;
		}
	}
	return true;
}

/* Any IPv6 packet, every check in its order and counted (ip6_input takes
 * the usual one itself). */
static __attribute__((noinline)) void ip6_input_all(ip_layer *ip, const uint8_t *pkt,
						    size_t len)
{
	ipv6_hdr h;
	ipv6_chain c;
	const uint8_t *payload;
	size_t plen;
	int mode, err;

	CNT_INC(ip->env, Ip6InReceives);
	err = ipv6_parse(pkt, len, &h, &payload, &plen);
	if (err < 0) {
		if (err == WIRE_ERR_ADDR)
			CNT_INC(ip->env, DropMartianSrc);
		else if (err == WIRE_ERR_TOTLEN)
			CNT_INC(ip->env, Ip6InTruncatedPkts);
		else
			CNT_INC(ip->env, Ip6InHdrErrors);
		ip6_drop(ip, wire_err_name(err));
		return;
	}
	len = IPV6_HDR_LEN + plen;             /* link padding off */
	/* the ECN field of the traffic class, as IPv4's (snmp6's names) */
	switch (h.tclass & IP_ECN_MASK) {
	case IP_ECN_NOT_ECT: CNT_INC(ip->env, Ip6InNoECTPkts); break;
	case IP_ECN_ECT1: CNT_INC(ip->env, Ip6InECT1Pkts); break;
	case IP_ECN_ECT0: CNT_INC(ip->env, Ip6InECT0Pkts); break;
	default: CNT_INC(ip->env, Ip6InCEPkts); break;
	}
	mode = dst_check(ip, &h);
	if (!mode)
		return;
	if (src_martian(ip, &h, payload, plen)) {
		CNT_INC(ip->env, DropMartianSrc);
		ip6_drop(ip, "ip6_martian_src");
		return;
	}
	if (h.next == IP_PROTO_TCP) {
		/* No extension header (nearly every packet): what ipv6_walk
		 * finds, without its call and the zeroing of the chain
		 * (deliver reads these three fields). */
		c.proto = IP_PROTO_TCP;
		c.proto_ptr = 6;
		c.off = IPV6_HDR_LEN;
		/* the pair passed: ip6_input's short way for the next packet
		 * (not to a group: deliver drops TCP there) */
		if (mode == 1) {
			memcpy(ip->rx6_pair, pkt + 8, 32);
			ip->rx6_pair_ok = true;
			/* ip6_input's header: its addresses are the pair's */
			memcpy(ip->rx6.src, h.src, 16);
			memcpy(ip->rx6.dst, h.dst, 16);
			ip->rx6.asum = h.asum;
		}
	} else if (!ip6_walk_chain(ip, &h, &pkt, &len, &c, mode == 2)) {
		return;
	}
	/* deliver's one call: inline, no frame of its own per packet */
	deliver(ip, &h, pkt, len, &c, mode == 2);
}

/* The usual packet (ip6_input_usual, ip_in.h) is taken by ip6_input_tcp;
 * anything else is ip6_input_all's. */
void ip6_input(ip_layer *ip, const uint8_t *pkt, size_t len)
{
	size_t plen;
	if (!ip6_input_usual(ip, pkt, len, &plen)) {
		ip6_input_all(ip, pkt, len);
		return;
	}
	ip6_input_tcp(ip, ip->env, pkt, plen);
}
