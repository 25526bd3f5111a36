/* IPv4 header (RFC 791): parse with every check, emit without options. */
#include <string.h>

#include "wire.h"

int ipv4_parse(const uint8_t *buf, size_t len, ipv4_hdr *h,
	       const uint8_t **payload, size_t *payload_len)
{
	size_t total;
	int ihl = ipv4_hdr_check(buf, len, &total);
	if (ihl < 0)
		return ihl;
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
	h->asum = (uint64_t)src + h->dst;
	*payload = buf + ihl;
	*payload_len = total - (size_t)ihl;
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
