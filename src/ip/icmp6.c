/*
 * ICMPv6 (RFC 4443): echo replies, the errors TCP cares about handed to
 * the layer above (ip_upper.icmp_error, with an ip_icmp_err6), and the
 * errors this layer sends itself — parameter problems for the extension
 * headers and next headers RFC 8200 §4 says to answer, time exceeded for
 * a datagram whose first fragment came and the rest not in time (§4.5)
 * — under §2.4's rules and a rate limit (icmp_err_rate_ok, shared with
 * IPv4).
 *
 * An error quotes the packet that caused it. That quote came back from
 * the network, so it is checked like any input: an IPv6 header whose
 * source is ours, an extension-header chain walked by length only (at
 * most IPV6_MAX_EXT_HDRS, never past the quote), a first fragment (only
 * it holds the TCP header), TCP, and the 8 bytes of ports and sequence
 * number. What TCP does with the error (RFC 5927's window check, PMTU
 * for RFC 8201 through the same code as IPv4's fragmentation-needed) is
 * TCP's decision; a packet too big below 1280 is discarded here (RFC
 * 8201 §4), so the MTU it is given is 1280 at least.
 *
 * Neighbor Discovery messages (133-137) are the link's: on TAP, nd.c
 * answers them before the stack sees the packet; on TUN there are none
 * to answer. They, MLD and other informational messages are ignored here.
 */
#include <string.h>

#include "ip/ip.h"

enum { ICMP6_QUOTE_MIN = 8 };   /* bytes of the transport header quoted */

/* The upper-layer protocol of the packet (or quote) p[0..len), found by
 * skipping extension headers by their length: false when the chain is cut
 * off, too long, or a fragment header says this is not the first
 * fragment (its upper-layer header is elsewhere). */
static bool chain_upper(const uint8_t *p, size_t len, uint8_t *proto, size_t *off)
{
	uint8_t nh = p[6];
	size_t o = IPV6_HDR_LEN;

	for (unsigned n = 0;; n++) {
		size_t hl;

		if (nh != IP_PROTO_HOPOPTS && nh != IP_PROTO_ROUTING &&
		    nh != IP_PROTO_DSTOPTS && nh != IP_PROTO_FRAGMENT)
			break;
		if (n >= IPV6_MAX_EXT_HDRS || o + 8 > len)
			return false;
		if (nh == IP_PROTO_FRAGMENT && (rd16(p + o + 2) & 0xfff8))
			return false;
		hl = nh == IP_PROTO_FRAGMENT ? 8 : ((size_t)p[o + 1] + 1) * 8;
		nh = p[o];
		o += hl;
	}
	*proto = nh;
	*off = o;
	return true;
}

/* §2.4(e): never about an ICMPv6 error (nor a redirect, which is one in
 * all but name), nor to a source that is not one unicast node, nor about
 * a packet to a group unless allowed. */
static bool error_allowed(const uint8_t *pkt, size_t len, uint8_t type, bool mcast_ok)
{
	uint8_t proto;
	size_t off;

	if (ip6_is_unspecified(pkt + 8) || ip6_is_multicast(pkt + 8))
		return false;
	if (ip6_is_multicast(pkt + 24) && !mcast_ok && type != ICMP6_PACKET_TOO_BIG)
		return false;
	if (chain_upper(pkt, len, &proto, &off) && proto == IP_PROTO_ICMPV6 &&
	    off < len && (icmp6_is_error(pkt[off]) || pkt[off] == ND_REDIRECT))
		return false;
	return true;
}

bool icmp6_send_error(ip_layer *ip, const uint8_t *pkt, size_t len, uint8_t type,
		      uint8_t code, uint32_t rest, bool mcast_ok)
{
	uint8_t src[16], to[16];
	uint8_t *buf = ip->txbuf;
	size_t q = len, room = ip->env->cfg.mtu < IPV6_MIN_MTU ? ip->env->cfg.mtu : IPV6_MIN_MTU;
	icmp_hdr h = { .type = type, .code = code, .rest = rest };
	int n;

	if (len < IPV6_HDR_LEN || !error_allowed(pkt, len, type, mcast_ok))
		return false;
	/* From the address the packet was sent to, when it is ours. */
	if (ip6_select_src(ip, pkt + 24, src) < 0 && ip6_select_src(ip, pkt + 8, src) < 0)
		return false;
	if (!icmp_err_rate_ok(ip)) {	/* §2.4(f) */
		CNT_INC(ip->env, Icmp6OutRateLimitGlobal);
		return false;
	}
	memcpy(to, pkt + 8, 16);
	if (room < IPV6_HDR_LEN + ICMP_HDR_LEN)
		return false;
	if (q > room - IPV6_HDR_LEN - ICMP_HDR_LEN)
		q = room - IPV6_HDR_LEN - ICMP_HDR_LEN;
	n = icmp6_emit(&h, pkt, q, src, to, buf + IPV6_HDR_LEN,
		       sizeof(ip->txbuf) - IPV6_HDR_LEN);
	if (n < 0)
		return false;
	CNT_INC(ip->env, Icmp6OutMsgs);
	CNT_INC(ip->env, Icmp6OutErrors);
	if (type == ICMP6_PARAM_PROB)
		CNT_INC(ip->env, Icmp6OutParmProblems);
	else if (type == ICMP6_TIME_EXCEEDED)
		CNT_INC(ip->env, Icmp6OutTimeExcds);
	ip6_output(ip, buf, src, to, IP_PROTO_ICMPV6, (size_t)n);
	return true;
}

static void icmp6_echo(ip_layer *ip, const ipv6_hdr *iph, const icmp_hdr *h,
		       const uint8_t *body, size_t body_len)
{
	icmp_hdr rep = { .type = ICMP6_ECHO_REPLY, .code = 0, .rest = h->rest };
	uint8_t *buf = ip->txbuf;
	int n;

	CNT_INC(ip->env, Icmp6InEchos);
	/* We do not fragment on output: a reply larger than the MTU is not
	 * sent (a reassembled giant ping goes unanswered, as over IPv4). */
	if (IPV6_HDR_LEN + ICMP_HDR_LEN + body_len > ip->env->cfg.mtu ||
	    IPV6_HDR_LEN + ICMP_HDR_LEN + body_len > sizeof(ip->txbuf)) {
		CNT_INC(ip->env, Icmp6InErrors);
		return;
	}
	n = icmp6_emit(&rep, body, body_len, iph->dst, iph->src, buf + IPV6_HDR_LEN,
		       sizeof(ip->txbuf) - IPV6_HDR_LEN);
	if (n < 0)
		return;
	CNT_INC(ip->env, Icmp6OutMsgs);
	CNT_INC(ip->env, Icmp6OutEchoReplies);
	ip6_output(ip, buf, iph->dst, iph->src, IP_PROTO_ICMPV6, (size_t)n);
}

/* An ICMPv6 error's type and code in ICMPv4's terms (see ip_icmp_err),
 * and the MTU of a packet too big (1280 at least: icmp6_error_up
 * discards one below), never above what 16 bits hold. */
static void icmp6_as_v4(uint8_t type, uint8_t code, uint32_t rest, ip_icmp_err *e)
{
	e->type = 255;
	e->code = 0;
	switch (type) {
	case ICMP6_PACKET_TOO_BIG:
		e->type = ICMP_DEST_UNREACH;
		e->code = ICMP_UNREACH_NEEDFRAG;
		e->mtu = (uint16_t)(rest < IPV6_MIN_MTU ? IPV6_MIN_MTU : rest > 65535 ? 65535 : rest);
		break;
	case ICMP6_DEST_UNREACH:
		e->type = ICMP_DEST_UNREACH;
		if (code == ICMP6_UNREACH_PORT)
			e->code = ICMP_UNREACH_PORT;
		else if (code == ICMP6_UNREACH_ADMIN || code == 5 || code == 6)
			e->code = 13;            /* communication administratively prohibited */
		else
			e->code = ICMP_UNREACH_HOST;
		break;
	case ICMP6_TIME_EXCEEDED:
		e->type = ICMP_TIME_EXCEEDED;
		e->code = code;
		break;
	case ICMP6_PARAM_PROB:
		if (code == ICMP6_PP_NEXTHDR) {
			e->type = ICMP_DEST_UNREACH;
			e->code = ICMP_UNREACH_PROTO;
		} else {
			e->type = 12;            /* ICMP parameter problem */
		}
		break;
	default:
		break;                           /* unknown: type 255 */
	}
}

/* The quoted packet of an error: handed up when it is a TCP segment of
 * ours (RFC 4443 §2.4(d): unknown error types too). */
static void icmp6_error_up(ip_layer *ip, const icmp_hdr *h, const uint8_t *q, size_t qlen)
{
	uint8_t proto;
	size_t off;

	if (!ip->upper.input6)
		return;                          /* the upper layer has no IPv6 */
	if (qlen < IPV6_HDR_LEN || q[0] >> 4 != 6 ||
	    !chain_upper(q, qlen, &proto, &off) || qlen < off + ICMP6_QUOTE_MIN) {
		CNT_INC(ip->env, Icmp6InErrors);
		return;
	}
	if (proto != IP_PROTO_TCP || !ip6_is_ours(ip, q + 8)) {
		CNT_INC(ip->env, DropNotForUs);
		return;
	}
	/* RFC 8201 §4: "If a node receives a Packet Too Big message
	 * reporting a next-hop MTU that is less than the IPv6 minimum link
	 * MTU, it must discard it" (Linux too): a forged one must not bring
	 * the path to 1280. */
	if (h->type == ICMP6_PACKET_TOO_BIG && h->rest < IPV6_MIN_MTU)
		return;
	ip_icmp_err6 e = {
		.e = { .sport = rd16(q + off), .dport = rd16(q + off + 2),
		       .seq = rd32(q + off + 4), .family = IP_FAM6 },
		.type6 = h->type, .code6 = h->code,
	};
	memcpy(e.src, q + 8, 16);
	memcpy(e.dst, q + 24, 16);
	icmp6_as_v4(h->type, h->code, h->rest, &e.e);
	ip->upper.icmp_error(ip->upper.ctx, &e.e);
}

void icmp6_input(ip_layer *ip, const ipv6_hdr *iph, const uint8_t *msg, size_t len,
		 bool mcast)
{
	const uint8_t *body;
	size_t body_len;
	icmp_hdr h;
	int err;

	CNT_INC(ip->env, Icmp6InMsgs);
	err = icmp6_parse(msg, len, iph->src, iph->dst, &h, &body, &body_len);
	if (err != WIRE_OK) {
		CNT_INC(ip->env, Icmp6InErrors);
		if (err == WIRE_ERR_ICMP_CSUM)
			CNT_INC(ip->env, Icmp6InCsumErrors);
		return;
	}
	if (h.type == ICMP6_ECHO_REQUEST) {
		/* Echo to a group is not answered (as IPv4's
		 * icmp_echo_ignore_broadcasts; Linux's IPv6 default answers). */
		if (h.code != 0 || mcast) {
			CNT_INC(ip->env, Icmp6InErrors);
			return;
		}
		icmp6_echo(ip, iph, &h, body, body_len);
		return;
	}
	if (!icmp6_is_error(h.type))
		return;          /* echo replies, ND (the link's), MLD, ... */
	switch (h.type) {
	case ICMP6_DEST_UNREACH: CNT_INC(ip->env, Icmp6InDestUnreachs); break;
	case ICMP6_PACKET_TOO_BIG: CNT_INC(ip->env, Icmp6InPktTooBigs); break;
	case ICMP6_TIME_EXCEEDED: CNT_INC(ip->env, Icmp6InTimeExcds); break;
	case ICMP6_PARAM_PROB: CNT_INC(ip->env, Icmp6InParmProblems); break;
	default: break;
	}
	if (mcast) {
		CNT_INC(ip->env, Icmp6InErrors);   /* errors go to a unicast source */
		return;
	}
	icmp6_error_up(ip, &h, body, body_len);
}
