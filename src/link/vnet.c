/*
 * virtio-net header work for TUN offloads (see vnet.h). Packets are read
 * with fixed offsets: IPv4 only, and on the send side only what the stack
 * builds (no IP options) is ever joined.
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
	if (gso == VNET_GSO_TCPV4) {
		if (!(ihl = ip_check(pkt, len, IP_PROTO_TCP)) || len < ihl + 20)
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

/* The TCP header length when pkt is a TCP/IPv4 segment with data that a
 * GSO packet could carry (no IP options, no SYN/RST/URG/ECE/CWR); else 0. */
static size_t joinable(const uint8_t *pkt, size_t len)
{
	size_t thl;
	uint8_t fl;

	if (ip_check(pkt, len, IP_PROTO_TCP) != 20 || len < 40)
		return 0;
	thl = (size_t)(pkt[32] >> 4) * 4;
	if (thl < 20 || 20 + thl >= len)
		return 0;
	fl = pkt[33];
	if (!(fl & TH_ACK) || (fl & (TH_SYN | TH_RST | TH_URG | TH_ECE | TH_CWR)))
		return 0;
	return thl;
}

bool vnet_gso_same_flow(const vnet_gso *g, const uint8_t *pkt, size_t len)
{
	const uint8_t *q = g->buf + VNET_HDR_LEN;

	if (!g->len || len < 24 || pkt[9] != IP_PROTO_TCP || (pkt[0] & 15) != 5)
		return false;
	/* addresses and ports: bytes 12..23 of an option-less header */
	return memcmp(pkt + 12, q + 12, 12) == 0;
}

int vnet_gso_add(vnet_gso *g, const uint8_t *pkt, size_t len)
{
	uint8_t *q = g->buf + VNET_HDR_LEN;
	size_t thl = joinable(pkt, len), plen;

	if (!thl)
		return VNET_GSO_NEVER;
	plen = len - 20 - thl;
	if (!g->len) {
		if (VNET_HDR_LEN + len > g->cap)
			return VNET_GSO_NEVER;
		memcpy(q, pkt, len);
		g->len = len;
		g->segs = 1;
		g->thl = (uint16_t)thl;
		g->gso_size = (uint16_t)plen;
		g->next_seq = rd32(pkt + 24) + (uint32_t)plen;
		g->closed = (pkt[33] & (TH_PSH | TH_FIN)) != 0;
		return VNET_GSO_ADDED;
	}
	if (g->closed || thl != g->thl || plen > g->gso_size ||
	    VNET_HDR_LEN + g->len + plen > g->cap || g->len + plen > VNET_MAX_PKT)
		return VNET_GSO_NO;
	/* IP: version/IHL and TOS, flags (DF), TTL and protocol, addresses */
	if (pkt[1] != q[1] || pkt[6] != q[6] || pkt[8] != q[8] ||
	    memcmp(pkt + 12, q + 12, 8) != 0)
		return VNET_GSO_NO;
	/* TCP: ports, sequence following on, ACK number, window, options */
	if (memcmp(pkt + 20, q + 20, 4) != 0 || rd32(pkt + 24) != g->next_seq ||
	    memcmp(pkt + 28, q + 28, 4) != 0 || memcmp(pkt + 34, q + 34, 2) != 0 ||
	    memcmp(pkt + 40, q + 40, thl - 20) != 0)
		return VNET_GSO_NO;
	memcpy(q + g->len, pkt + 20 + thl, plen);
	g->len += plen;
	g->segs++;
	g->next_seq += (uint32_t)plen;
	/* The header of a GSO packet carries the flags of its last segment
	 * (the kernel puts PSH and FIN on the last piece only). */
	q[33] = pkt[33];
	if ((pkt[33] & (TH_PSH | TH_FIN)) || plen < g->gso_size)
		g->closed = true;
	return VNET_GSO_ADDED;
}

size_t vnet_gso_finish(vnet_gso *g)
{
	uint8_t *q = g->buf + VNET_HDR_LEN;
	vnet_hdr h = { 0 };
	size_t n = g->len;

	if (g->segs > 1) {
		ip_fix(q, 20, n);
		wr16(q + 36, (uint16_t)~csum_fold(csum_pseudo(rd32(q + 12), rd32(q + 16),
							      IP_PROTO_TCP, (uint16_t)(n - 20))));
		h.flags = VNET_F_NEEDS_CSUM;
		h.gso_type = VNET_GSO_TCPV4;
		h.hdr_len = (uint16_t)(20 + g->thl);
		h.gso_size = g->gso_size;
		h.csum_start = 20;
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
	if (len <= link_mtu || !(ihl = ip_check(pkt, len, IP_PROTO_TCP)) || len < ihl + 20)
		return false;
	thl = (size_t)(pkt[ihl + 12] >> 4) * 4;
	if (thl < 20 || ihl + thl >= len || ihl + thl >= link_mtu)
		return false;
	h->flags = VNET_F_NEEDS_CSUM;
	h->gso_type = VNET_GSO_TCPV4;
	h->hdr_len = (uint16_t)(ihl + thl);
	h->gso_size = (uint16_t)(link_mtu - ihl - thl);
	h->csum_start = (uint16_t)ihl;
	h->csum_offset = 16;
	*csum = (uint16_t)~csum_fold(csum_pseudo(rd32(pkt + 12), rd32(pkt + 16),
						 IP_PROTO_TCP, (uint16_t)(len - ihl)));
	return true;
}
