/* IPv4 header (RFC 791): parse with every check, emit without options. */
#include <string.h>

#include "wire.h"

/* A source address no packet may carry: 0.0.0.0, the limited broadcast
 * 255.255.255.255, or a multicast group (224.0.0.0/4). RFC 1122 3.2.1.3. */
static bool ipv4_bad_src(uint32_t a)
{
	return a == 0 || a == 0xffffffffu || (a >> 28) == 0xe;
}

/* The header's checksum is right: its 32-bit words (ihl is a multiple of
 * 4) summed in 64 bits, folded; all ones in either byte order. Inline,
 * so that the parser calls nothing and needs no stack frame. */
static inline bool hdr_sum_ok(const uint8_t *p, size_t ihl)
{
	uint64_t s = 0;
	if (ihl == IPV4_HDR_LEN) {
		/* the usual header, without options: five words, no loop */
		uint32_t w[5];
		memcpy(w, p, sizeof(w));
		s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	} else {
		for (size_t i = 0; i < ihl; i += 4) {
			uint32_t w;
			memcpy(&w, p + i, 4);
			s += w;
		}
	}
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

int ipv4_parse(const uint8_t *buf, size_t len, ipv4_hdr *h,
	       const uint8_t **payload, size_t *payload_len)
{
	if (len < IPV4_HDR_LEN)
		return WIRE_ERR_SHORT;
	if (buf[0] >> 4 != 4)
		return WIRE_ERR_VERSION;
	size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_LEN || ihl > len)
		return WIRE_ERR_IHL;
	size_t total = rd16(buf + 2);
	if (total < ihl || total > len)
		return WIRE_ERR_TOTLEN;
	if (!hdr_sum_ok(buf, ihl))
		return WIRE_ERR_IP_CSUM;
	uint32_t src = rd32(buf + 12);
	if (ipv4_bad_src(src))
		return WIRE_ERR_ADDR;

	h->ihl = (uint8_t)ihl;
	h->tos = buf[1];
	h->total_len = (uint16_t)total;
	h->id = rd16(buf + 4);
	h->frag = rd16(buf + 6);
	h->ttl = buf[8];
	h->proto = buf[9];
	h->csum = rd16(buf + 10);
	h->src = src;
	h->dst = rd32(buf + 16);
	*payload = buf + ihl;
	*payload_len = total - ihl;
	return WIRE_OK;
}

int ipv4_emit(const ipv4_hdr *h, uint8_t *buf, size_t cap)
{
	if (cap < IPV4_HDR_LEN)
		return WIRE_ERR_SPACE;
	ipv4_emit_fields(buf, h->tos, h->total_len, h->id, h->frag, h->ttl, h->proto, h->src,
			 h->dst);
	return IPV4_HDR_LEN;
}
