/* IPv6 header (RFC 8200) and its extension-header chain: see ipv6.h. */
#include "wire/ipv6.h"

int ipv6_parse(const uint8_t *buf, size_t len, ipv6_hdr *h,
	       const uint8_t **payload, size_t *payload_len)
{
	if (len < IPV6_HDR_LEN)
		return WIRE_ERR_SHORT;
	if (buf[0] >> 4 != 6)
		return WIRE_ERR_VERSION;
	size_t plen = rd16(buf + 4);
	if (plen > len - IPV6_HDR_LEN)
		return WIRE_ERR_TOTLEN;
	if (buf[8] == 0xff)
		return WIRE_ERR_ADDR;
	ipv6_hdr_fields(buf, plen, h);
	*payload = buf + IPV6_HDR_LEN;
	*payload_len = plen;
	return WIRE_OK;
}

int ipv6_emit(const ipv6_hdr *h, uint8_t *buf, size_t cap)
{
	if (cap < IPV6_HDR_LEN)
		return WIRE_ERR_SPACE;
	wr32(buf, 6u << 28 | (uint32_t)h->tclass << 20 | (h->flow & 0xfffff));
	wr16(buf + 4, h->payload_len);
	buf[6] = h->next;
	buf[7] = h->hop_limit;
	memcpy(buf + 8, h->src, 16);
	memcpy(buf + 24, h->dst, 16);
	return IPV6_HDR_LEN;
}

static int pp(ipv6_chain *c, uint8_t code, size_t ptr, bool send)
{
	c->pp_code = code;
	c->pp_ptr = (uint32_t)ptr;
	c->pp_send = send;
	return WIRE_ERR_PARAMPROB;
}

/* The options of a hop-by-hop or destination options header p[off..end)
 * (RFC 8200 §4.2). Pad1 and PadN are padding, at most IPV6_MAX_PAD bytes
 * in a row (RFC 4942 §2.1.9.5: padding is a covert channel, and long runs
 * of it cost work for nothing); the router alert (5) and tunnel
 * encapsulation limit (4) mean nothing to a host; any other option is
 * unknown and handled by its action bits. */
static int walk_opts(const uint8_t *p, size_t off, size_t end, unsigned flags,
		     ipv6_chain *c)
{
	unsigned skipped = 0, pad = 0;

	off += 2;
	while (off < end) {
		uint8_t type = p[off];
		size_t olen;

		if (type == 0) {               /* Pad1 */
			if (++pad > IPV6_MAX_PAD)
				return WIRE_ERR_EXTHDR;
			off++;
			continue;
		}
		if (off + 2 > end || off + 2 + p[off + 1] > end)
			return WIRE_ERR_EXTHDR;
		olen = 2 + (size_t)p[off + 1];
		if (type == 1) {               /* PadN */
			pad += (unsigned)olen;
			if (pad > IPV6_MAX_PAD)
				return WIRE_ERR_EXTHDR;
			off += olen;
			continue;
		}
		pad = 0;
		if (type == 4 || type == 5) {
			off += olen;
			continue;
		}
		switch (type >> 6) {
		case 0:
			if (++skipped > IPV6_MAX_SKIP_OPTS)
				return WIRE_ERR_EXTHDR;
			break;
		case 1:
			return pp(c, ICMP6_PP_OPTION, off, false);
		case 2:
			return pp(c, ICMP6_PP_OPTION, off, true);
		default:
			return pp(c, ICMP6_PP_OPTION, off, !(flags & IPV6_WALK_DST_MCAST));
		}
		off += olen;
	}
	return WIRE_OK;
}

/* Bytes of the upper-layer header a first fragment must hold (RFC 7112;
 * Linux's ipv6_frag_thdr_truncated). */
static size_t upper_min(uint8_t proto)
{
	switch (proto) {
	case IP_PROTO_TCP: return 20;
	case IP_PROTO_UDP: return 8;
	case IP_PROTO_ICMPV6: return 8;
	case IP_PROTO_NONE: return 0;
	default: return 1;
	}
}

static bool is_ext(uint8_t nh)
{
	return nh == IP_PROTO_HOPOPTS || nh == IP_PROTO_ROUTING ||
	       nh == IP_PROTO_FRAGMENT || nh == IP_PROTO_DSTOPTS;
}

/* RFC 7112: the rest of a first fragment's chain, from `off` (a header of
 * type nh), is in the packet up to the upper-layer header's first bytes.
 * Only lengths are read: the options of the fragmentable part are
 * processed after reassembly. WIRE_OK, WIRE_ERR_PARAMPROB (code 3) or
 * WIRE_ERR_EXT_LIMIT. */
static int chain_complete(const uint8_t *p, size_t len, size_t off, uint8_t nh,
			  ipv6_chain *c)
{
	unsigned n = c->nhdrs;

	while (is_ext(nh)) {
		if (++n > IPV6_MAX_EXT_HDRS)
			return WIRE_ERR_EXT_LIMIT;
		if (off + 8 > len)
			return pp(c, ICMP6_PP_INCOMPLETE, 0, true);
		size_t hl = nh == IP_PROTO_FRAGMENT ? 8 : ((size_t)p[off + 1] + 1) * 8;
		nh = p[off];
		off += hl;
	}
	if (off + upper_min(nh) > len)
		return pp(c, ICMP6_PP_INCOMPLETE, 0, true);
	return WIRE_OK;
}

static int walk_frag(const uint8_t *p, size_t len, size_t off, size_t nh_ptr,
		     ipv6_chain *c)
{
	uint16_t w = rd16(p + off + 2);
	size_t flen = len - off - 8;

	c->frag.next = p[off];
	c->frag.off = (uint16_t)(w & 0xfff8);
	c->frag.more = w & 1;
	c->frag.id = rd32(p + off + 4);
	if (c->frag.off == 0 && !c->frag.more)
		return 1;                      /* atomic: walk on (RFC 6946) */
	if (c->frag.more && flen % 8)
		return pp(c, ICMP6_PP_HEADER, 4, true);
	/* The reassembled payload (extension headers before this one and the
	 * fragmentable part) must fit the 16-bit payload length. */
	if (off - IPV6_HDR_LEN + c->frag.off + flen > 65535)
		return pp(c, ICMP6_PP_HEADER, off + 2, true);
	if (c->frag.off == 0) {
		int r = chain_complete(p, len, off + 8, c->frag.next, c);
		if (r < 0)
			return r;
	}
	c->is_frag = true;
	c->frag_hdr = (uint32_t)off;
	c->frag_nh_ptr = (uint32_t)nh_ptr;
	c->proto = IP_PROTO_FRAGMENT;
	c->proto_ptr = (uint32_t)nh_ptr;
	c->off = (uint32_t)(off + 8);
	return WIRE_OK;
}

int ipv6_walk(const uint8_t *pkt, size_t len, size_t off, uint8_t nh,
	      size_t nh_ptr, unsigned flags, ipv6_chain *c)
{
	memset(c, 0, sizeof(*c));
	while (is_ext(nh)) {
		size_t hl;
		int r;

		if (++c->nhdrs > IPV6_MAX_EXT_HDRS)
			return WIRE_ERR_EXT_LIMIT;
		if (nh == IP_PROTO_HOPOPTS && off != IPV6_HDR_LEN)
			return pp(c, ICMP6_PP_NEXTHDR, nh_ptr, true);
		if (off + 8 > len)
			return WIRE_ERR_EXTHDR;
		hl = nh == IP_PROTO_FRAGMENT ? 8 : ((size_t)pkt[off + 1] + 1) * 8;
		if (off + hl > len)
			return WIRE_ERR_EXTHDR;
		switch (nh) {
		case IP_PROTO_HOPOPTS:
		case IP_PROTO_DSTOPTS:
			r = walk_opts(pkt, off, off + hl, flags, c);
			if (r < 0)
				return r;
			break;
		case IP_PROTO_ROUTING:
			if (pkt[off + 3] != 0)
				return pp(c, ICMP6_PP_HEADER, off + 2, true);
			break;
		default:                       /* fragment */
			r = walk_frag(pkt, len, off, nh_ptr, c);
			if (r <= 0)
				return r;
			break;
		}
		nh_ptr = off;
		nh = pkt[off];
		off += hl;
	}
	c->proto = nh;
	c->proto_ptr = (uint32_t)nh_ptr;
	c->off = (uint32_t)off;
	return WIRE_OK;
}
