/*
 * IPv4 input checks and demultiplexing, and output.
 *
 * Martians (RFC 1122 §3.2.1.3, RFC 6890) are dropped here, before TCP or
 * ICMP sees them, so that nothing is ever answered to an address that
 * cannot have sent the packet: a reply to a loopback, broadcast or
 * multicast source, or to ourselves, would be a reflection or a loop.
 * Destinations other than our address — broadcast and multicast included,
 * which TCP must never answer (RFC 1122 §4.2.3.10, kept by RFC 9293) and
 * ICMP echo need not (RFC 1122 §3.2.2.6) — are dropped too.
 */
#include "core/stack.h"

static void ip_drop(hsk_stack *s, const char *why)
{
	trace_segment(s, HSK_EV_DROP, HSK_OBJ_NONE, -1, NULL, NULL, 0, why);
}

/* Our subnet's directed broadcast; 0 when the prefix is unknown (0) or has
 * none (/31 point-to-point as RFC 3021, /32). */
static uint32_t subnet_broadcast(const hsk_stack *s)
{
	unsigned p = s->cfg.prefix_len;

	if (p == 0 || p > 30)
		return 0;
	return s->addr | (0xffffffffu >> p);
}

/* Addresses that are never a unicast peer: "this network" 0/8 (a source
 * only while a host boots, for BOOTP/DHCP, which is UDP: never ours),
 * loopback 127/8 (never off the host), multicast 224/4, the reserved 240/4
 * with the limited broadcast 255.255.255.255, and our subnet's broadcast. */
static bool addr_martian(const hsk_stack *s, uint32_t a)
{
	uint32_t top = a >> 24;

	return top == 0 || top == 127 || top >= 224 || a == subnet_broadcast(s);
}

void ip_input(hsk_stack *s, uint64_t now, const uint8_t *pkt, size_t len)
{
	ipv4_hdr h;
	const uint8_t *payload;
	size_t plen;
	CNT_INC(s, InReceives);
	int err = ipv4_parse(pkt, len, &h, &payload, &plen);
	if (err < 0) {
		/* The wire layer already refuses the worst sources. */
		if (err == WIRE_ERR_ADDR)
			CNT_INC(s, DropMartianSrc);
		else
			CNT_INC(s, InHdrErrors);
		ip_drop(s, wire_err_name(err));
		return;
	}
	if (h.dst != s->addr) {
		CNT_INC(s, InAddrErrors);
		if (addr_martian(s, h.dst)) {
			CNT_INC(s, DropMartianDst);
			ip_drop(s, "ip_martian_dst");
		} else {
			CNT_INC(s, DropNotForUs);
			ip_drop(s, "ip_not_for_us");
		}
		return;
	}
	/* Our own address as the source is a land attack (a SYN to ourselves
	 * answered to ourselves), or a loop. */
	if (addr_martian(s, h.src) || h.src == s->addr) {
		CNT_INC(s, DropMartianSrc);
		ip_drop(s, "ip_martian_src");
		return;
	}
	if (ipv4_is_fragment(&h)) {
		const uint8_t *whole;
		long n = reasm_input(s->reasm, now, &h, payload, plen, &whole, &s->cnt);
		if (n <= 0)
			return;
		payload = whole;
		plen = (size_t)n;
		h.total_len = (uint16_t)(h.ihl + plen > 65535 ? 65535 : h.ihl + plen);
		h.frag = 0;
	}
	switch (h.proto) {
	case IP_PROTO_TCP:
		CNT_INC(s, InDelivers);
		tcp_input(s, now, &h, payload, plen);
		break;
	case IP_PROTO_ICMP:
		CNT_INC(s, InDelivers);
		icmp_input(s, now, &h, payload, plen);
		break;
	default:
		CNT_INC(s, InUnknownProtos);
		ip_drop(s, "ip_unknown_protocol");
		break;
	}
}

void ip_output(hsk_stack *s, uint8_t *buf, uint32_t dst, uint8_t proto, size_t l4_len)
{
	ipv4_hdr h = {
		.total_len = (uint16_t)(IPV4_HDR_LEN + l4_len),
		.id = s->ip_id++,
		.frag = IPV4_DF,        /* RFC 1191: path MTU discovery */
		.ttl = 64,
		.proto = proto,
		.src = s->addr,
		.dst = dst,
	};
	if (ipv4_emit(&h, buf, IPV4_HDR_LEN) < 0)
		return;
	CNT_INC(s, OutRequests);
	s->link.transmit(s->link.ctx, buf, IPV4_HDR_LEN + l4_len);
}
