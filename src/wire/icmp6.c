/* ICMPv6 (RFC 4443): the 8-byte header and a checksum that covers the
 * IPv6 pseudo-header (RFC 8200 §8.1) as well as the message. */
#include "wire/ipv6.h"

int icmp6_parse(const uint8_t *buf, size_t len, const uint8_t src[16],
		const uint8_t dst[16], icmp_hdr *h, const uint8_t **body,
		size_t *body_len)
{
	if (len < ICMP_HDR_LEN)
		return WIRE_ERR_SHORT;
	uint32_t sum = csum_pseudo6(src, dst, IP_PROTO_ICMPV6, (uint32_t)len);
	if (csum_fold(csum_partial(buf, len, sum)) != 0)
		return WIRE_ERR_ICMP_CSUM;
	h->type = buf[0];
	h->code = buf[1];
	h->csum = rd16(buf + 2);
	h->rest = rd32(buf + 4);
	*body = buf + ICMP_HDR_LEN;
	*body_len = len - ICMP_HDR_LEN;
	return WIRE_OK;
}

int icmp6_emit(const icmp_hdr *h, const uint8_t *body, size_t body_len,
	       const uint8_t src[16], const uint8_t dst[16], uint8_t *buf, size_t cap)
{
	if (cap < ICMP_HDR_LEN || body_len > cap - ICMP_HDR_LEN ||
	    body_len > 0xffff - ICMP_HDR_LEN)
		return WIRE_ERR_SPACE;
	if (body_len)
		memmove(buf + ICMP_HDR_LEN, body, body_len);
	buf[0] = h->type;
	buf[1] = h->code;
	wr16(buf + 2, 0);
	wr32(buf + 4, h->rest);
	size_t n = ICMP_HDR_LEN + body_len;
	uint32_t sum = csum_pseudo6(src, dst, IP_PROTO_ICMPV6, (uint32_t)n);
	wr16(buf + 2, csum_fold(csum_partial(buf, n, sum)));
	return (int)n;
}
