/*
 * ICMP (RFC 792, RFC 1122 §3.2.2): echo replies, and the errors TCP cares
 * about handed to tcp_icmp_error.
 *
 * An error carries the IPv4 header of the packet that caused it and at
 * least 8 bytes after it (RFC 792) — for TCP the ports and the sequence
 * number. That header came back from the network, so it is checked like any
 * input: version, IHL within what was quoted, protocol TCP, source address
 * ours, and it must be a first fragment (only those hold the TCP header).
 * What TCP does with the error (abort a connecting socket on
 * port/protocol unreachable, lower the MSS on fragmentation-needed, check
 * the sequence number against its window, RFC 5927) is TCP's decision.
 */
#include <string.h>

#include "core/stack.h"
#include "ip/ip.h"

enum { ICMP_QUOTE_MIN = 8 };   /* bytes of the transport header quoted */

static void icmp_echo(struct hsk_stack *s, const ipv4_hdr *ip, const icmp_hdr *h,
		      const uint8_t *body, size_t body_len)
{
	icmp_hdr rep = { .type = ICMP_ECHO_REPLY, .code = 0, .rest = h->rest };
	uint8_t *buf = s->txbuf;
	int n;

	CNT_INC(s, IcmpInEchos);
	/* We do not fragment on output: a reply larger than the MTU is not
	 * sent (a reassembled giant ping goes unanswered). */
	if (IPV4_HDR_LEN + ICMP_HDR_LEN + body_len > s->cfg.mtu ||
	    IPV4_HDR_LEN + ICMP_HDR_LEN + body_len > sizeof(s->txbuf)) {
		CNT_INC(s, IcmpInErrors);
		return;
	}
	n = icmp_emit(&rep, body, body_len, buf + IPV4_HDR_LEN,
		      sizeof(s->txbuf) - IPV4_HDR_LEN);
	if (n < 0)
		return;
	CNT_INC(s, IcmpOutMsgs);
	CNT_INC(s, IcmpOutEchoReps);
	ip_output(s, buf, ip->src, IP_PROTO_ICMP, (size_t)n);
}

/* The quoted packet of a destination-unreachable or time-exceeded message. */
static void icmp_error(struct hsk_stack *s, uint64_t now, const icmp_hdr *h,
		       const uint8_t *q, size_t qlen)
{
	uint32_t src, dst;
	uint16_t mtu = 0;
	size_t ihl;

	if (qlen < IPV4_HDR_LEN || (q[0] >> 4) != 4) {
		CNT_INC(s, IcmpInErrors);
		return;
	}
	ihl = (size_t)(q[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_LEN || qlen < ihl + ICMP_QUOTE_MIN) {
		CNT_INC(s, IcmpInErrors);
		return;
	}
	src = rd32(q + 12);
	dst = rd32(q + 16);
	/* Not a TCP segment we sent, or not its first fragment: nothing to do. */
	if (q[9] != IP_PROTO_TCP || src != s->addr || (rd16(q + 6) & IPV4_FRAG_MASK)) {
		CNT_INC(s, DropNotForUs);
		return;
	}
	if (h->type == ICMP_DEST_UNREACH && h->code == ICMP_UNREACH_NEEDFRAG)
		mtu = (uint16_t)(h->rest & 0xffff);
	q += ihl;
	tcp_icmp_error(s, now, src, dst, rd16(q), rd16(q + 2), rd32(q + 4),
		       h->type, h->code, mtu);
}

void icmp_input(struct hsk_stack *s, uint64_t now, const ipv4_hdr *ip,
		const uint8_t *msg, size_t len)
{
	const uint8_t *body;
	size_t body_len;
	icmp_hdr h;

	CNT_INC(s, IcmpInMsgs);
	if (icmp_parse(msg, len, &h, &body, &body_len) != WIRE_OK) {
		CNT_INC(s, IcmpInErrors);
		return;
	}
	switch (h.type) {
	case ICMP_ECHO_REQUEST:
		if (h.code != 0) {
			CNT_INC(s, IcmpInErrors);
			return;
		}
		icmp_echo(s, ip, &h, body, body_len);
		break;
	case ICMP_DEST_UNREACH:
		CNT_INC(s, IcmpInDestUnreachs);
		icmp_error(s, now, &h, body, body_len);
		break;
	case ICMP_TIME_EXCEEDED:
		icmp_error(s, now, &h, body, body_len);
		break;
	default:
		/* echo replies, redirects, ...: not ours to act on */
		break;
	}
}
