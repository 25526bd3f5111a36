/*
 * IPv4 input checks and demultiplexing, and output.
 */
#include "core/stack.h"

static void ip_drop(hsk_stack *s, const char *why)
{
	trace_segment(s, HSK_EV_DROP, HSK_OBJ_NONE, -1, NULL, NULL, 0, why);
}

void ip_input(hsk_stack *s, uint64_t now, const uint8_t *pkt, size_t len)
{
	ipv4_hdr h;
	const uint8_t *payload;
	size_t plen;
	CNT_INC(s, InReceives);
	int err = ipv4_parse(pkt, len, &h, &payload, &plen);
	if (err < 0) {
		if (err == WIRE_ERR_ADDR)
			CNT_INC(s, InAddrErrors);
		else
			CNT_INC(s, InHdrErrors);
		ip_drop(s, wire_err_name(err));
		return;
	}
	if (h.dst != s->addr) {
		CNT_INC(s, InAddrErrors);
		CNT_INC(s, DropNotForUs);
		ip_drop(s, "ip_not_for_us");
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
