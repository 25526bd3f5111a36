/* ICMP (RFC 792): the fixed 8-byte header and a checksum over it all. */
#include <string.h>

#include "wire.h"

int icmp_parse(const uint8_t *buf, size_t len, icmp_hdr *h,
	       const uint8_t **body, size_t *body_len)
{
	if (len < ICMP_HDR_LEN)
		return WIRE_ERR_SHORT;
	if (csum_fold(csum_partial(buf, len, 0)) != 0)
		return WIRE_ERR_ICMP_CSUM;
	h->type = buf[0];
	h->code = buf[1];
	h->csum = rd16(buf + 2);
	h->rest = rd32(buf + 4);
	*body = buf + ICMP_HDR_LEN;
	*body_len = len - ICMP_HDR_LEN;
	return WIRE_OK;
}

int icmp_emit(const icmp_hdr *h, const uint8_t *body, size_t body_len,
	      uint8_t *buf, size_t cap)
{
	if (cap < ICMP_HDR_LEN || body_len > cap - ICMP_HDR_LEN ||
	    body_len > 0xffff - ICMP_HDR_LEN)
		return WIRE_ERR_SPACE;
	buf[0] = h->type;
	buf[1] = h->code;
	wr16(buf + 2, 0);
	wr32(buf + 4, h->rest);
	if (body_len)
		memmove(buf + ICMP_HDR_LEN, body, body_len);
	size_t n = ICMP_HDR_LEN + body_len;
	wr16(buf + 2, csum_fold(csum_partial(buf, n, 0)));
	return (int)n;
}
