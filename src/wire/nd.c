/* Neighbor Discovery messages (RFC 4861 §4, §6.1.1, §7.1): parsed with
 * every validity check the RFC asks of a receiver, and emitted. */
#include "wire/ipv6.h"

/* Fixed part of each message after the 4-byte ICMP type/code/checksum:
 * RS 4 (reserved), RA 12, NS 20 (reserved + target), NA 20. */
static size_t nd_fixed(uint8_t type)
{
	switch (type) {
	case ND_ROUTER_SOLICIT: return 8;
	case ND_ROUTER_ADVERT: return 16;
	case ND_NEIGHBOR_SOLICIT:
	case ND_NEIGHBOR_ADVERT: return 24;
	default: return 0;
	}
}

static void opt_prefix(nd_msg *m, const uint8_t *o)
{
	nd_prefix *p;

	if (m->nprefix >= ND_MAX_PREFIXES)
		return;
	p = &m->prefix[m->nprefix++];
	p->len = o[2];
	p->flags = o[3];
	p->valid = rd32(o + 4);
	p->preferred = rd32(o + 8);
	memcpy(p->prefix, o + 16, 16);
}

/* The options after the fixed part (RFC 4861 §4.6): every one has a length
 * of at least 8 bytes and ends inside the message. The first of each
 * kind is kept; link-layer options of another size than Ethernet's are
 * ignored (they belong to another link type). */
static int nd_opts(nd_msg *m, const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t ol;

		if (len - off < 2 || p[off + 1] == 0)
			return WIRE_ERR_ND;
		ol = (size_t)p[off + 1] * 8;
		if (ol > len - off)
			return WIRE_ERR_ND;
		const uint8_t *o = p + off;
		switch (o[0]) {
		case ND_OPT_SLLA:
			if (ol == 8 && !m->has_sll) {
				m->has_sll = true;
				memcpy(m->sll, o + 2, ND_MAC_LEN);
			}
			break;
		case ND_OPT_TLLA:
			if (ol == 8 && !m->has_tll) {
				m->has_tll = true;
				memcpy(m->tll, o + 2, ND_MAC_LEN);
			}
			break;
		case ND_OPT_MTU:
			if (ol == 8 && !m->has_mtu) {
				m->has_mtu = true;
				m->mtu = rd32(o + 4);
			}
			break;
		case ND_OPT_NONCE:
			if (ol == 8 && !m->has_nonce) {
				m->has_nonce = true;
				memcpy(m->nonce, o + 2, 6);
			}
			break;
		case ND_OPT_PREFIX:
			if (ol != 32)
				return WIRE_ERR_ND;   /* §4.6.2: length 4 */
			opt_prefix(m, o);
			break;
		default:
			break;                        /* §4.6: ignored */
		}
		off += ol;
	}
	return WIRE_OK;
}

int nd_parse(const ipv6_hdr *ip, const uint8_t *msg, size_t len, nd_msg *m)
{
	size_t fixed;

	memset(m, 0, sizeof(*m));
	if (len < 4)
		return WIRE_ERR_SHORT;
	m->type = msg[0];
	fixed = nd_fixed(m->type);
	if (!fixed)
		return WIRE_ERR_PROTO;
	if (ip->hop_limit != 255 || msg[1] != 0 || len < fixed)
		return WIRE_ERR_ND;
	switch (m->type) {
	case ND_ROUTER_ADVERT:
		if (!ip6_is_linklocal(ip->src))
			return WIRE_ERR_ND;
		m->cur_hop_limit = msg[4];
		m->flags = (uint32_t)msg[5] << 24;
		m->router_lifetime = rd16(msg + 6);
		m->reachable_ms = rd32(msg + 8);
		m->retrans_ms = rd32(msg + 12);
		break;
	case ND_NEIGHBOR_SOLICIT:
	case ND_NEIGHBOR_ADVERT:
		m->flags = m->type == ND_NEIGHBOR_ADVERT ? rd32(msg + 4) & 0xe0000000u : 0;
		memcpy(m->target, msg + 8, 16);
		if (ip6_is_multicast(m->target))
			return WIRE_ERR_ND;
		break;
	default:
		break;
	}
	if (nd_opts(m, msg + fixed, len - fixed) < 0)
		return WIRE_ERR_ND;
	/* §7.1.1, §6.1.1: from :: an NS is DAD, sent to the target's
	 * solicited-node group, and an NS or RS carries no source link-layer
	 * address (there is no address to bind it to). */
	if (ip6_is_unspecified(ip->src)) {
		if (m->has_sll || m->type == ND_NEIGHBOR_ADVERT ||
		    m->type == ND_ROUTER_ADVERT)
			return WIRE_ERR_ND;
		if (m->type == ND_NEIGHBOR_SOLICIT && !ip6_is_solicited_node(ip->dst))
			return WIRE_ERR_ND;
	}
	/* §7.1.2: a multicast NA is unsolicited. */
	if (m->type == ND_NEIGHBOR_ADVERT && ip6_is_multicast(ip->dst) &&
	    (m->flags & ND_NA_SOLICITED))
		return WIRE_ERR_ND;
	return WIRE_OK;
}

static size_t put_lla(uint8_t *p, uint8_t kind, const uint8_t mac[ND_MAC_LEN])
{
	p[0] = kind;
	p[1] = 1;
	memcpy(p + 2, mac, ND_MAC_LEN);
	return 8;
}

int nd_emit(const nd_msg *m, const uint8_t src[16], const uint8_t dst[16],
	    uint8_t *buf, size_t cap)
{
	size_t fixed = nd_fixed(m->type), n;

	if (!fixed || m->type == ND_ROUTER_ADVERT)
		return WIRE_ERR_PROTO;
	if (cap < fixed + 16)
		return WIRE_ERR_SPACE;
	memset(buf, 0, fixed);
	buf[0] = m->type;
	if (m->type != ND_ROUTER_SOLICIT)
		memcpy(buf + 8, m->target, 16);
	if (m->type == ND_NEIGHBOR_ADVERT)
		wr32(buf + 4, m->flags & 0xe0000000u);
	n = fixed;
	if (m->type != ND_NEIGHBOR_ADVERT && m->has_sll)
		n += put_lla(buf + n, ND_OPT_SLLA, m->sll);
	if (m->type == ND_NEIGHBOR_ADVERT && m->has_tll)
		n += put_lla(buf + n, ND_OPT_TLLA, m->tll);
	if (m->type == ND_NEIGHBOR_SOLICIT && m->has_nonce)
		n += put_lla(buf + n, ND_OPT_NONCE, m->nonce);
	uint32_t sum = csum_pseudo6(src, dst, IP_PROTO_ICMPV6, (uint32_t)n);
	wr16(buf + 2, csum_fold(csum_partial(buf, n, sum)));
	return (int)n;
}
