/*
 * virtio-net header work for TUN offloads (see vnet.h). Packets are read
 * with fixed offsets: IPv4 (on the send side only what the stack builds,
 * no IP options, is ever joined) and IPv6 with TCP right after the fixed
 * header (what the stack builds; a chain of extension headers is never
 * joined nor taken as GSO).
 */
#include <string.h>

#include "link/vnet.h"
#include "wire/wire.h"

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_PSH = 0x08,
       TH_ACK = 0x10, TH_URG = 0x20, TH_ECE = 0x40, TH_CWR = 0x80 };

static void ip_fix(uint8_t *ip, size_t ihl, size_t tot_len)
{
	wr16(ip + 2, (uint16_t)tot_len);
	wr16(ip + 10, 0);
	wr16(ip + 10, csum_fold(csum_partial(ip, ihl, 0)));
}

/* The IPv4 header length of pkt if it is a whole, unfragmented IPv4
 * packet of exactly len bytes carrying `proto` (0: TCP or UDP); else 0. */
static size_t ip_check(const uint8_t *pkt, size_t len, uint8_t proto)
{
	size_t ihl;

	if (len < 20 || pkt[0] >> 4 != 4)
		return 0;
	ihl = (size_t)(pkt[0] & 15) * 4;
	if (ihl < 20 || ihl > len || rd16(pkt + 2) != len)
		return 0;
	if (rd16(pkt + 6) & (IPV4_MF | IPV4_FRAG_MASK))
		return 0;
	if (proto ? pkt[9] != proto : pkt[9] != IP_PROTO_TCP && pkt[9] != IP_PROTO_UDP)
		return 0;
	return ihl;
}

/* The IPv6 header length (40) of pkt if it is an IPv6 packet of exactly
 * len bytes whose next header is `proto` (no extension headers); else 0. */
static size_t ip6_check(const uint8_t *pkt, size_t len, uint8_t proto)
{
	if (len < 40 || pkt[0] >> 4 != 6 || (size_t)rd16(pkt + 4) + 40 != len || pkt[6] != proto)
		return 0;
	return 40;
}

/* Either family: the IP header length for a TCP packet, 0 when neither. */
static size_t l3_check_tcp(const uint8_t *pkt, size_t len)
{
	if (len && pkt[0] >> 4 == 6)
		return ip6_check(pkt, len, IP_PROTO_TCP);
	return ip_check(pkt, len, IP_PROTO_TCP);
}

/* The TCP pseudo-header sum (length included) of a packet of either
 * family with an hl-byte IP header. */
static uint32_t tcp_pseudo(const uint8_t *pkt, size_t hl, size_t len)
{
	if (hl == 40)
		return csum_pseudo6(pkt + 8, pkt + 24, IP_PROTO_TCP, (uint32_t)(len - hl));
	return csum_pseudo(rd32(pkt + 12), rd32(pkt + 16), IP_PROTO_TCP, (uint16_t)(len - hl));
}

/* ---- receive ---- */

int vnet_rx_fixup(const vnet_hdr *h, uint8_t *pkt, size_t len, vnet_rx_info *info)
{
	unsigned gso = h->gso_type & ~VNET_GSO_ECN;
	size_t ihl, l4, hlen;

	info->segs = 1;
	info->csum_completed = false;
	if (h->flags & VNET_F_NEEDS_CSUM) {
		size_t start = h->csum_start, at = start + h->csum_offset;
		uint16_t c;

		if (at + 2 > len || at < start)
			return VNET_RX_BAD;
		c = csum_fold(csum_partial(pkt + start, len - start, 0));
		/* UDP sends a computed 0 as 0xffff (RFC 768); TCP never
		 * has 0 after complementing a non-zero sum anyway. */
		wr16(pkt + at, c ? c : 0xffff);
		info->csum_completed = true;
	}
	if (gso == VNET_GSO_NONE)
		return VNET_RX_OK;
	if (!h->gso_size)
		return VNET_RX_BAD;
	if (gso == VNET_GSO_TCPV4 || gso == VNET_GSO_TCPV6) {
		ihl = gso == VNET_GSO_TCPV4 ? ip_check(pkt, len, IP_PROTO_TCP) :
					       ip6_check(pkt, len, IP_PROTO_TCP);
		if (!ihl || len < ihl + 20)
			return VNET_RX_BAD;
		l4 = (size_t)(pkt[ihl + 12] >> 4) * 4;
		hlen = ihl + l4;
		if (l4 < 20 || hlen > len)
			return VNET_RX_BAD;
		info->segs = (unsigned)((len - hlen + h->gso_size - 1) / h->gso_size);
		if (!info->segs)
			info->segs = 1;
		return VNET_RX_OK;
	}
	if (gso == VNET_GSO_UDP_L4 && ip_check(pkt, len, IP_PROTO_UDP))
		return VNET_RX_SPLIT;
	return VNET_RX_BAD;
}

bool vnet_seg_init(vnet_seg_iter *it, const uint8_t *pkt, size_t len, unsigned gso_size)
{
	size_t ihl = ip_check(pkt, len, 0), l4;

	if (!ihl || !gso_size)
		return false;
	if (pkt[9] == IP_PROTO_TCP) {
		if (len < ihl + 20)
			return false;
		l4 = (size_t)(pkt[ihl + 12] >> 4) * 4;
		if (l4 < 20 || ihl + l4 > len)
			return false;
	} else {
		l4 = 8;
		if (len < ihl + 8)
			return false;
	}
	*it = (vnet_seg_iter){ .pkt = pkt, .len = len, .hlen = ihl + l4,
			       .off = ihl + l4, .gso_size = gso_size };
	return true;
}

long vnet_seg_next(vnet_seg_iter *it, uint8_t *out, size_t cap)
{
	const uint8_t *p = it->pkt;
	size_t ihl = (size_t)(p[0] & 15) * 4, hlen = it->hlen, n, tot;
	uint8_t *l4 = out + ihl;
	bool last;
	uint32_t sum;

	/* A packet of headers only still makes one piece. */
	if (it->off >= it->len && (it->k || it->len > hlen))
		return 0;
	n = it->len - it->off;
	if (n > it->gso_size)
		n = it->gso_size;
	last = it->off + n >= it->len;
	tot = hlen + n;
	if (tot > cap)
		return -1;
	memcpy(out, p, hlen);
	memcpy(out + hlen, p + it->off, n);
	wr16(out + 4, (uint16_t)(rd16(p + 4) + it->k));
	ip_fix(out, ihl, tot);
	if (p[9] == IP_PROTO_TCP) {
		wr32(l4 + 4, rd32(p + ihl + 4) + (uint32_t)(it->off - hlen));
		if (!last)
			l4[13] &= (uint8_t)~(TH_PSH | TH_FIN);
		if (it->k)
			l4[13] &= (uint8_t)~TH_CWR;
		wr16(l4 + 16, 0);
		sum = csum_pseudo(rd32(out + 12), rd32(out + 16), IP_PROTO_TCP,
				  (uint16_t)(tot - ihl));
		wr16(l4 + 16, csum_fold(csum_partial(l4, tot - ihl, sum)));
	} else {
		uint16_t c;

		wr16(l4 + 4, (uint16_t)(tot - ihl));
		wr16(l4 + 6, 0);
		sum = csum_pseudo(rd32(out + 12), rd32(out + 16), IP_PROTO_UDP,
				  (uint16_t)(tot - ihl));
		c = csum_fold(csum_partial(l4, tot - ihl, sum));
		wr16(l4 + 6, c ? c : 0xffff);
	}
	it->off += n;
	it->k++;
	return (long)tot;
}

/* ---- send ---- */

/* The TCP header length when pkt is a TCP segment with data that a GSO
 * packet could carry (IPv4 without options or IPv6 without extension
 * headers, *hl set to 20 or 40; no SYN/RST/URG/ECE/CWR); else 0. */
static size_t joinable(const uint8_t *pkt, size_t len, size_t *hl)
{
	size_t thl, h = l3_check_tcp(pkt, len);
	uint8_t fl;

	if ((h != 20 && h != 40) || len < h + 20)
		return 0;
	thl = (size_t)(pkt[h + 12] >> 4) * 4;
	if (thl < 20 || h + thl >= len)
		return 0;
	*hl = h;
	fl = pkt[h + 13];
	if (!(fl & TH_ACK) || (fl & (TH_SYN | TH_RST | TH_URG | TH_ECE | TH_CWR)))
		return 0;
	return thl;
}

bool vnet_gso_same_flow(const vnet_gso *g, const uint8_t *pkt, size_t len)
{
	const uint8_t *q = g->buf + VNET_HDR_LEN;

	if (!g->len || !len || pkt[0] != q[0])
		return false;
	if (pkt[0] >> 4 == 6)   /* addresses and ports: bytes 8..43 */
		return len >= 44 && pkt[6] == IP_PROTO_TCP && memcmp(pkt + 8, q + 8, 36) == 0;
	if (len < 24 || pkt[9] != IP_PROTO_TCP || (pkt[0] & 15) != 5)
		return false;
	/* addresses and ports: bytes 12..23 of an option-less header */
	return memcmp(pkt + 12, q + 12, 12) == 0;
}

int vnet_gso_add(vnet_gso *g, const uint8_t *pkt, size_t len)
{
	uint8_t *q = g->buf + VNET_HDR_LEN;
	size_t hl = 0, thl = joinable(pkt, len, &hl), plen;

	if (!thl)
		return VNET_GSO_NEVER;
	plen = len - hl - thl;
	if (!g->len) {
		if (VNET_HDR_LEN + len > g->cap)
			return VNET_GSO_NEVER;
		memcpy(q, pkt, len);
		g->len = len;
		g->segs = 1;
		g->ip_hl = (uint8_t)hl;
		g->thl = (uint16_t)thl;
		g->gso_size = (uint16_t)plen;
		g->next_seq = rd32(pkt + hl + 4) + (uint32_t)plen;
		g->closed = (pkt[hl + 13] & (TH_PSH | TH_FIN)) != 0;
		return VNET_GSO_ADDED;
	}
	if (g->closed || hl != g->ip_hl || thl != g->thl || plen > g->gso_size ||
	    VNET_HDR_LEN + g->len + plen > g->cap || g->len + plen > VNET_MAX_PKT)
		return VNET_GSO_NO;
	if (hl == 20) {
		/* IP: version/IHL and TOS, flags (DF), TTL and protocol, addresses */
		if (pkt[1] != q[1] || pkt[6] != q[6] || pkt[8] != q[8] ||
		    memcmp(pkt + 12, q + 12, 8) != 0)
			return VNET_GSO_NO;
	} else {
		/* IPv6: version, traffic class, flow label; hop limit; addresses */
		if (memcmp(pkt, q, 4) != 0 || pkt[7] != q[7] || memcmp(pkt + 8, q + 8, 32) != 0)
			return VNET_GSO_NO;
	}
	/* TCP: ports, sequence following on, ACK number, window, options */
	if (memcmp(pkt + hl, q + hl, 4) != 0 || rd32(pkt + hl + 4) != g->next_seq ||
	    memcmp(pkt + hl + 8, q + hl + 8, 4) != 0 ||
	    memcmp(pkt + hl + 14, q + hl + 14, 2) != 0 ||
	    memcmp(pkt + hl + 20, q + hl + 20, thl - 20) != 0)
		return VNET_GSO_NO;
	memcpy(q + g->len, pkt + hl + thl, plen);
	g->len += plen;
	g->segs++;
	g->next_seq += (uint32_t)plen;
	/* The header of a GSO packet carries the flags of its last segment
	 * (the kernel puts PSH and FIN on the last piece only). */
	q[hl + 13] = pkt[hl + 13];
	if ((pkt[hl + 13] & (TH_PSH | TH_FIN)) || plen < g->gso_size)
		g->closed = true;
	return VNET_GSO_ADDED;
}

size_t vnet_gso_finish(vnet_gso *g)
{
	uint8_t *q = g->buf + VNET_HDR_LEN;
	vnet_hdr h = { 0 };
	size_t n = g->len, hl = g->ip_hl;

	if (g->segs > 1) {
		if (hl == 20)
			ip_fix(q, 20, n);
		else
			wr16(q + 4, (uint16_t)(n - 40));
		wr16(q + hl + 16, (uint16_t)~csum_fold(tcp_pseudo(q, hl, n)));
		h.flags = VNET_F_NEEDS_CSUM;
		h.gso_type = hl == 20 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
		h.hdr_len = (uint16_t)(hl + g->thl);
		h.gso_size = g->gso_size;
		h.csum_start = (uint16_t)hl;
		h.csum_offset = 16;
	}
	memcpy(g->buf, &h, VNET_HDR_LEN);
	g->len = 0;
	g->segs = 0;
	g->closed = false;
	return VNET_HDR_LEN + n;
}

bool vnet_tx_hdr(const uint8_t *pkt, size_t len, unsigned link_mtu,
		 vnet_hdr *h, uint16_t *csum)
{
	size_t ihl, thl;

	memset(h, 0, sizeof(*h));
	if (len <= link_mtu || !(ihl = l3_check_tcp(pkt, len)) || len < ihl + 20)
		return false;
	thl = (size_t)(pkt[ihl + 12] >> 4) * 4;
	if (thl < 20 || ihl + thl >= len || ihl + thl >= link_mtu)
		return false;
	h->flags = VNET_F_NEEDS_CSUM;
	h->gso_type = pkt[0] >> 4 == 6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4;
	h->hdr_len = (uint16_t)(ihl + thl);
	h->gso_size = (uint16_t)(link_mtu - ihl - thl);
	h->csum_start = (uint16_t)ihl;
	h->csum_offset = 16;
	*csum = (uint16_t)~csum_fold(tcp_pseudo(pkt, ihl, len));
	return true;
}
