/*
 * ICMP (RFC 792, RFC 1122 §3.2.2): echo replies, and the errors TCP cares
 * about handed to the layer above (ip_upper.icmp_error).
 *
 * An error carries the IPv4 header of the packet that caused it and at
 * least 8 bytes after it (RFC 792) — for TCP the ports and the sequence
 * number. That header came back from the network, so it is checked like any
 * input: version, IHL within what was quoted, protocol TCP, source address
 * ours, and it must be a first fragment (only those hold the TCP header).
 * What TCP does with the error (abort a connecting socket on
 * port/protocol unreachable, lower the MSS on fragmentation-needed, check
 * the sequence number against its window, RFC 5927) is TCP's decision.
 *
 * Errors this layer sends (icmp_send_error, called by ip.c): protocol
 * unreachable for a protocol the stack does not have (RFC 1122 §3.2.2.1)
 * and time exceeded (code 1, fragment reassembly) for a datagram whose
 * first fragment came and the rest did not in time (§3.3.2), under
 * §3.2.2's rules and the rate limit both families share.
 */
#include <string.h>

#include "ip/ip.h"

enum { ICMP_QUOTE_MIN = 8 };   /* bytes of the transport header quoted */
/* A token bucket, ICMP_ERR_BURST deep, refilled one token per
 * ICMP_ERR_INTERVAL_NS. */
bool icmp_err_rate_ok(ip_layer *ip)
{
	uint64_t now = ip->env->now;

	if (ip->icmp_err_tokens < ICMP_ERR_BURST && now >= ip->icmp_err_refill) {
		uint64_t n = (now - ip->icmp_err_refill) / ICMP_ERR_INTERVAL_NS + 1;
		uint32_t room = ICMP_ERR_BURST - ip->icmp_err_tokens;
		ip->icmp_err_tokens += n >= room ? room : (uint32_t)n;
		ip->icmp_err_refill += n * ICMP_ERR_INTERVAL_NS;
	}
	if (ip->icmp_err_tokens == 0)
		return false;
	if (ip->icmp_err_tokens == ICMP_ERR_BURST)
		ip->icmp_err_refill = now + ICMP_ERR_INTERVAL_NS;
	ip->icmp_err_tokens--;
	return true;
}

/* RFC 1122 §3.2.2: an ICMP message of an error type (and redirects,
 * errors in all but name). */
static bool icmp_type_is_error(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == 4 || type == 5 ||
	       type == ICMP_TIME_EXCEEDED || type == 12;
}

bool icmp_send_error(ip_layer *ip, const uint8_t *pkt, size_t len, uint8_t type,
		     uint8_t code, uint32_t rest)
{
	icmp_hdr h = { .type = type, .code = code, .rest = rest };
	uint8_t *buf = ip->txbuf;
	size_t ihl, q = len, room = ip->env->cfg.mtu < ICMP_ERR_MAX ? ip->env->cfg.mtu : ICMP_ERR_MAX;
	uint32_t src, dst;
	int n;

	if (len < IPV4_HDR_LEN || pkt[0] >> 4 != 4)
		return false;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	src = rd32(pkt + 12);
	dst = rd32(pkt + 16);
	/* §3.2.2: not about an error, a non-initial fragment, a datagram to
	 * a broadcast or group address (to one of ours, then), nor to a
	 * source that is not one host. */
	if (ihl < IPV4_HDR_LEN || ihl > len || (rd16(pkt + 6) & IPV4_FRAG_MASK) ||
	    !ip4_is_ours(ip, dst) || !ip4_unicast_peer(ip, src))
		return false;
	if (pkt[9] == IP_PROTO_ICMP && (len == ihl || icmp_type_is_error(pkt[ihl])))
		return false;
	if (room < IPV4_HDR_LEN + ICMP_HDR_LEN + ihl + ICMP_QUOTE_MIN)
		return false;
	if (!icmp_err_rate_ok(ip)) {
		CNT_INC(ip->env, IcmpOutRateLimitGlobal);
		return false;
	}
	if (q > room - IPV4_HDR_LEN - ICMP_HDR_LEN)
		q = room - IPV4_HDR_LEN - ICMP_HDR_LEN;
	n = icmp_emit(&h, pkt, q, buf + IPV4_HDR_LEN, sizeof(ip->txbuf) - IPV4_HDR_LEN);
	if (n < 0)
		return false;
	CNT_INC(ip->env, IcmpOutMsgs);
	if (type == ICMP_TIME_EXCEEDED)
		CNT_INC(ip->env, IcmpOutTimeExcds);
	ip_output(ip, buf, dst, src, IP_PROTO_ICMP, (size_t)n);
	return true;
}

static void icmp_echo(ip_layer *ip, const ipv4_hdr *iph, const icmp_hdr *h,
		      const uint8_t *body, size_t body_len)
{
	icmp_hdr rep = { .type = ICMP_ECHO_REPLY, .code = 0, .rest = h->rest };
	uint8_t *buf = ip->txbuf;
	int n;

	CNT_INC(ip->env, IcmpInEchos);
	/* We do not fragment on output: a reply larger than the MTU is not
	 * sent (a reassembled giant ping goes unanswered). */
	if (IPV4_HDR_LEN + ICMP_HDR_LEN + body_len > ip->env->cfg.mtu ||
	    IPV4_HDR_LEN + ICMP_HDR_LEN + body_len > sizeof(ip->txbuf)) {
		CNT_INC(ip->env, IcmpInErrors);
		return;
	}
	n = icmp_emit(&rep, body, body_len, buf + IPV4_HDR_LEN,
		      sizeof(ip->txbuf) - IPV4_HDR_LEN);
	if (n < 0)
		return;
	CNT_INC(ip->env, IcmpOutMsgs);
	CNT_INC(ip->env, IcmpOutEchoReps);
	ip_output(ip, buf, iph->dst, iph->src, IP_PROTO_ICMP, (size_t)n);
}

/* The quoted packet of a destination-unreachable or time-exceeded message. */
static void icmp_error(ip_layer *ip, const icmp_hdr *h,
		       const uint8_t *q, size_t qlen)
{
	uint32_t src, dst;
	uint16_t mtu = 0;
	size_t ihl;

	if (qlen < IPV4_HDR_LEN || (q[0] >> 4) != 4) {
		CNT_INC(ip->env, IcmpInErrors);
		return;
	}
	ihl = (size_t)(q[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_LEN || qlen < ihl + ICMP_QUOTE_MIN) {
		CNT_INC(ip->env, IcmpInErrors);
		return;
	}
	src = rd32(q + 12);
	dst = rd32(q + 16);
	/* Not a TCP segment we sent, or not its first fragment: nothing to do. */
	if (q[9] != IP_PROTO_TCP || !ip4_is_ours(ip, src) || (rd16(q + 6) & IPV4_FRAG_MASK)) {
		CNT_INC(ip->env, DropNotForUs);
		return;
	}
	if (h->type == ICMP_DEST_UNREACH && h->code == ICMP_UNREACH_NEEDFRAG)
		mtu = (uint16_t)(h->rest & 0xffff);
	q += ihl;
	ip_icmp_err e = {
		.src = src, .dst = dst, .sport = rd16(q), .dport = rd16(q + 2),
		.seq = rd32(q + 4), .type = h->type, .code = h->code, .mtu = mtu,
	};
	ip->upper.icmp_error(ip->upper.ctx, &e);
}

void icmp_input(ip_layer *ip, const ipv4_hdr *iph,
		const uint8_t *msg, size_t len)
{
	const uint8_t *body;
	size_t body_len;
	icmp_hdr h;

	CNT_INC(ip->env, IcmpInMsgs);
	if (icmp_parse(msg, len, &h, &body, &body_len) != WIRE_OK) {
		CNT_INC(ip->env, IcmpInErrors);
		return;
	}
	switch (h.type) {
	case ICMP_ECHO_REQUEST:
		if (h.code != 0) {
			CNT_INC(ip->env, IcmpInErrors);
			return;
		}
		icmp_echo(ip, iph, &h, body, body_len);
		break;
	case ICMP_DEST_UNREACH:
		CNT_INC(ip->env, IcmpInDestUnreachs);
		icmp_error(ip, &h, body, body_len);
		break;
	case ICMP_TIME_EXCEEDED:
		icmp_error(ip, &h, body, body_len);
		break;
	default:
		/* echo replies, redirects, ...: not ours to act on */
		break;
	}
}
