/* TCP header (RFC 9293 3.1): parse with every check, emit with checksum.
 * Options live in tcp_options.c. */
#include <string.h>

#include "handshake.h"
#include "wire.h"

int tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
	      bool verify_csum, tcp_hdr *h, const uint8_t **payload,
	      size_t *payload_len)
{
	int err = tcp_parse_inline(buf, len, src, dst, verify_csum, h, payload, payload_len);
	if (err == WIRE_OK)
		tcp_parse_unread(buf, h);
	return err;
}

int tcp_parse_ps(const uint8_t *buf, size_t len, uint32_t psum, bool verify_csum,
		 tcp_hdr *h, const uint8_t **payload, size_t *payload_len)
{
	int err = tcp_parse_ps_inline(buf, len, psum, verify_csum, h, payload, payload_len);
	if (err == WIRE_OK)
		tcp_parse_unread(buf, h);
	return err;
}

static inline __attribute__((always_inline)) int parse_hsum_ps(const uint8_t *buf, size_t len, uint32_t psum,
							       tcp_hdr *h, const uint8_t **payload,
							       size_t *payload_len, uint32_t *hsum)
{
	size_t doff;
	int err = tcp_parse_doff(buf, len, &doff);
	if (err)
		return err;
	if (len > 0xffff)
		return WIRE_ERR_TCP_CSUM;
	uint32_t sum = tcp_hdr_sum(buf, doff, psum + (uint32_t)len);
	err = tcp_parse_rest(buf, len, doff, h, payload, payload_len);
	/* A segment that fails a later check is counted as tcp_parse counts
	 * it: as a bad checksum when its checksum is bad too. */
	if (err && csum_fold(csum_partial(buf + doff, len - doff, sum)) != 0)
		return WIRE_ERR_TCP_CSUM;
	*hsum = sum;
	if (err == WIRE_OK)
		tcp_parse_unread(buf, h);
	return err;
}

int tcp_parse_hsum(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
		   tcp_hdr *h, const uint8_t **payload, size_t *payload_len,
		   uint32_t *hsum)
{
	return parse_hsum_ps(buf, len, csum_pseudo(src, dst, IP_PROTO_TCP, 0), h, payload,
			     payload_len, hsum);
}

int tcp_parse_hsum_ps(const uint8_t *buf, size_t len, uint32_t psum, tcp_hdr *h,
		      const uint8_t **payload, size_t *payload_len, uint32_t *hsum)
{
	return parse_hsum_ps(buf, len, psum, h, payload, payload_len, hsum);
}

int tcp_emit(const tcp_hdr *h, const uint8_t *payload, size_t payload_len,
	     uint32_t src, uint32_t dst, uint8_t *buf, size_t cap)
{
	return tcp_emit_inline(h, payload, payload_len, src, dst, buf, cap);
}

int tcp_emit_ps(const tcp_hdr *h, const uint8_t *payload, size_t payload_len,
		uint32_t psum, uint8_t *buf, size_t cap)
{
	return tcp_emit_ps_inline(h, payload, payload_len, psum, buf, cap);
}

static inline __attribute__((always_inline)) int emit_summed_ps(const tcp_hdr *h, size_t payload_len,
								uint32_t payload_sum, uint32_t psum,
								uint8_t *buf, size_t cap)
{
	int hlen = tcp_emit_header(h, payload_len, buf, cap);
	if (hlen < 0)
		return hlen;
	size_t n = (size_t)hlen + payload_len;
	/* The header is a multiple of 4 bytes: the payload starts at an even
	 * offset, and its sum adds as it is. */
	uint32_t sum = csum_partial(buf, (size_t)hlen, csum_add(psum + (uint32_t)n, payload_sum));
	wr16(buf + 16, csum_fold(sum));
	return (int)n;
}

int tcp_emit_summed(const tcp_hdr *h, size_t payload_len, uint32_t payload_sum,
		    uint32_t src, uint32_t dst, uint8_t *buf, size_t cap)
{
	return emit_summed_ps(h, payload_len, payload_sum, csum_pseudo(src, dst, IP_PROTO_TCP, 0),
			      buf, cap);
}

int tcp_emit_summed_ps(const tcp_hdr *h, size_t payload_len, uint32_t payload_sum,
		       uint32_t psum, uint8_t *buf, size_t cap)
{
	return emit_summed_ps(h, payload_len, payload_sum, psum, buf, cap);
}
