/*
 * Packets for the fuzz harness (see pkt.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "pkt.h"
#include "wire/wire.h"

void q_push(pkt_queue *q, const uint8_t *p, size_t len)
{
	if (q->n == PKT_QCAP || len > 0xffff)
		return;                 /* a full device queue drops */
	uint8_t *c = malloc(len ? len : 1);
	if (!c)
		abort();
	memcpy(c, p, len);
	unsigned i = (q->head + q->n++) % PKT_QCAP;
	q->p[i] = c;
	q->len[i] = (uint16_t)len;
}

uint8_t *q_pop(pkt_queue *q, size_t *len)
{
	if (!q->n)
		return NULL;
	uint8_t *p = q->p[q->head];
	*len = q->len[q->head];
	q->head = (q->head + 1) % PKT_QCAP;
	q->n--;
	return p;
}

void q_clear(pkt_queue *q)
{
	size_t l;
	uint8_t *p;
	while ((p = q_pop(q, &l)) != NULL)
		free(p);
}

void pkt_show(double t, const char *who, const char *what, const uint8_t *pkt,
	      size_t len)
{
	ipv4_hdr ih;
	const uint8_t *pl, *d;
	size_t pn, dn;
	tcp_hdr th;
	fprintf(stderr, "%10.3f %s %s %4zu ", t, who, what, len);
	if (ipv4_parse(pkt, len, &ih, &pl, &pn) != WIRE_OK) {
		fprintf(stderr, "(not IPv4)\n");
		return;
	}
	fprintf(stderr, "%08x>%08x ", ih.src, ih.dst);
	if (ipv4_is_fragment(&ih)) {
		fprintf(stderr, "frag id %u off %u%s\n", ih.id, (ih.frag & IPV4_FRAG_MASK) * 8,
			(ih.frag & IPV4_MF) ? " MF" : "");
		return;
	}
	if (ih.proto != IP_PROTO_TCP ||
	    tcp_parse(pl, pn, ih.src, ih.dst, false, &th, &d, &dn) != WIRE_OK) {
		fprintf(stderr, "proto %u type %u code %u\n", ih.proto, pn ? pl[0] : 0,
			pn > 1 ? pl[1] : 0);
		return;
	}
	fprintf(stderr, ":%u>:%u %s%s%s%s%s seq %u ack %u len %zu win %u", th.sport, th.dport,
		(th.flags & HSK_TH_SYN) ? "S" : "", (th.flags & HSK_TH_FIN) ? "F" : "",
		(th.flags & HSK_TH_RST) ? "R" : "", (th.flags & HSK_TH_PSH) ? "P" : "",
		(th.flags & HSK_TH_ACK) ? "." : "", th.seq, th.ack, dn, th.win);
	if (th.opt.mss)
		fprintf(stderr, " mss %u", th.opt.mss);
	if (th.opt.wscale >= 0)
		fprintf(stderr, " ws %d", th.opt.wscale);
	if (th.opt.has_ts)
		fprintf(stderr, " ts %u/%u", th.opt.ts_val, th.opt.ts_ecr);
	for (unsigned i = 0; i < th.opt.nsack; i++)
		fprintf(stderr, " sack %u-%u", th.opt.sack[i].left, th.opt.sack[i].right);
	fputc('\n', stderr);
}

static uint16_t csum_tcp(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
	return csum_fold(csum_partial(seg, len, csum_pseudo(src, dst, IP_PROTO_TCP,
							    (uint16_t)len)));
}

size_t build_tcp(uint8_t *o, uint32_t src, uint32_t dst, uint16_t sport,
		 uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
			uint16_t win, uint16_t urp, const uint8_t *opt, size_t optlen,
			const uint8_t *pay, size_t plen)
{
	wr16(o, sport);
	wr16(o + 2, dport);
	wr32(o + 4, seq);
	wr32(o + 8, ack);
	o[12] = (uint8_t)((TCP_HDR_LEN + optlen) / 4 << 4);
	o[13] = flags;
	wr16(o + 14, win);
	wr16(o + 16, 0);
	wr16(o + 18, urp);
	memcpy(o + TCP_HDR_LEN, opt, optlen);
	memmove(o + TCP_HDR_LEN + optlen, pay, plen);
	size_t n = TCP_HDR_LEN + optlen + plen;
	wr16(o + 16, csum_tcp(o, n, src, dst));
	return n;
}

size_t build_ip(uint8_t *o, uint32_t src, uint32_t dst, uint8_t proto,
		       uint16_t id, uint16_t frag, uint8_t ttl, const uint8_t *opt,
		       size_t optlen, size_t l4len)
{
	size_t hl = IPV4_HDR_LEN + optlen;
	o[0] = (uint8_t)(0x40 | hl / 4);
	o[1] = 0;
	wr16(o + 2, (uint16_t)(hl + l4len));
	wr16(o + 4, id);
	wr16(o + 6, frag);
	o[8] = ttl;
	o[9] = proto;
	wr16(o + 10, 0);
	wr32(o + 12, src);
	wr32(o + 16, dst);
	if (optlen)
		memcpy(o + IPV4_HDR_LEN, opt, optlen);
	wr16(o + 10, csum_fold(csum_partial(o, hl, 0)));
	return hl;
}
