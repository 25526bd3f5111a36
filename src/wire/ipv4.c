/* IPv4 header (RFC 791): parse with every check, emit without options. */
#include <string.h>

#include "wire.h"

int ipv4_parse(const uint8_t *buf, size_t len, ipv4_hdr *h,
	       const uint8_t **payload, size_t *payload_len)
{
	int err = ipv4_parse_inline(buf, len, h, payload, payload_len);
	if (err == WIRE_OK) {
		h->id = rd16(buf + 4);
		h->ttl = buf[8];
		h->csum = rd16(buf + 10);
	}
	return err;
}

int ipv4_emit(const ipv4_hdr *h, uint8_t *buf, size_t cap)
{
	if (cap < IPV4_HDR_LEN)
		return WIRE_ERR_SPACE;
	ipv4_emit_fields(buf, h->tos, h->total_len, h->id, h->frag, h->ttl, h->proto, h->src,
			 h->dst);
	return IPV4_HDR_LEN;
}
