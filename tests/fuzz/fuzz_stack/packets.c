/*
 * fuzz_stack: building and rewriting packets -- TCP options from the
 * input, fragments, segments for live connections or new tuples, ICMP
 * errors quoting a connection, echo requests, raw bytes, and the link
 * operations (deliver, drop, duplicate, reorder, rewrite). See
 * fuzz_stack.c.
 */
#include "fuzz_stack/harness.h"

/* TCP option bytes: none, structured (any MSS, any shift, SACK blocks and
 * timestamps near the connection's numbers), raw, or MSS plus timestamps
 * (the shortest way to any MSS). Returns the padded length. */
static size_t read_tcp_opts(rd *r, const peek_conn *pc, uint8_t out[40])
{
	uint8_t mode = u8(r);
	memset(out, 0, 40);
	switch (mode % 4) {
	case 0:
		return 0;
	case 1: {
		tcp_opts o;
		tcp_opts_init(&o);
		uint8_t f = u8(r);
		if (f & 1)
			o.mss = u16(r);
		if (f & 2)
			o.wscale = (int8_t)(u8(r) & 0x7f);
		o.sack_ok = f & 4;
		if (f & 8) {
			o.has_ts = true;
			o.ts_val = (f & 0x40) ? u32(r) : pc->ts_recent + (int8_t)u8(r);
			o.ts_ecr = u32(r);
		}
		o.nsack = (uint8_t)((f >> 4) & 3);
		for (unsigned i = 0; i < o.nsack; i++) {
			o.sack[i].left = pc->snd_una + (uint32_t)(int16_t)u16(r);
			o.sack[i].right = o.sack[i].left + u16(r);
		}
		return tcp_opts_write(&o, out);
	}
	case 2: {
		size_t n = u8(r) % 41;
		take(r, out, n);
		return (n + 3) & ~(size_t)3;
	}
	default: {
		/* Boundaries are hard to hit with random bytes: take them
		 * from a list when the input says so. */
		static const uint16_t edges[] = { 0, 1, 11, 12, 13, 36, 47, 48, 49, 64,
						  87, 88, 536, 1460, 8960, 65535 };
		uint16_t mss = (mode & 8) ? edges[u8(r) % 16] : u16(r);
		out[0] = TCPOPT_MSS;
		out[1] = 4;
		wr16(out + 2, mss);
		if (!(mode & 4))
			return 4;
		out[4] = out[5] = TCPOPT_NOP;
		out[6] = TCPOPT_TIMESTAMP;
		out[7] = 10;
		wr32(out + 8, pc->ts_recent + 1);
		wr32(out + 12, 0);
		return 16;
	}
	}
}

/* Cuts an IP payload into fragments as the input says (any offsets and
 * lengths: overlaps, tiny pieces, duplicates, a last fragment that never
 * comes, garbage) and delivers them; si is what the datagram carries. */
static void fragments(side *x, rd *r, uint32_t src, uint8_t proto, const uint8_t *l4,
		      size_t l4len, const uint8_t *ipopt, size_t ipoptlen,
		      const seginfo *si)
{
	static uint8_t pkt[BUF];
	uint16_t id = u16(r);
	unsigned nf = 1 + u8(r) % 6;
	size_t blocks = (l4len + 7) / 8;
	seginfo none = { .valid = false };
	if (!si)
		si = &none;
	if (proto == IP_PROTO_TCP)
		note_syn_tcp(x, src, l4, l4len);
	for (unsigned k = 0; k < nf; k++) {
		uint8_t a = u8(r), b = u8(r), c = u8(r);
		size_t off = (size_t)a % (blocks + 1) * 8;
		size_t len;
		if (b & 0x80)
			len = l4len > off ? l4len - off : 0;    /* to the end */
		else
			len = ((size_t)b % 32 + 1) * 8;
		if (off > 65528)
			off = 65528;
		bool more = (c & 1) ? (off + len < l4len) : (c & 2);
		size_t have = off < l4len ? l4len - off : 0;
		size_t hl = IPV4_HDR_LEN + ((c & 4) ? ipoptlen : 0);
		if (hl + len > BUF)
			len = BUF - hl;
		if (c & 8) {
			/* Garbage: the stream, and a SYN's MSS, are unknown;
			 * the garbage may even be another connection's header. */
			take(r, pkt + hl, len);
			if (len)
				H.taint_all = true;
			if (si->valid && len)
				rec_find(x, &si->tu, true)->mss_unknown = true;
		} else {
			size_t n = len < have ? len : have;
			memcpy(pkt + hl, l4 + off, n);
			memset(pkt + hl + n, 0, len - n);
		}
		build_ip(pkt, src, x->addr, proto, id,
			 (uint16_t)((more ? IPV4_MF : 0) | off / 8), 64, ipopt,
			 (c & 4) ? ipoptlen : 0, len);
		deliver(x, pkt, hl + len, (c & 8) ? &none : si);
	}
}

/* Sends a layer-4 message to x from src, wrapped as the input says: IP
 * options, fragments, a bad IP checksum. */
static void send_l4(side *x, rd *r, uint32_t src, uint8_t proto, const uint8_t *l4,
		    size_t l4len, const seginfo *si)
{
	static uint8_t pkt[BUF];
	uint8_t w = u8(r);
	uint8_t ipopt[40];
	size_t ipoptlen = 0;
	if (w & 1) {
		ipoptlen = (u8(r) % 11) * 4;
		take(r, ipopt, ipoptlen);
	}
	if (w & 2) {
		fragments(x, r, src, proto, l4, l4len, ipopt, ipoptlen, si);
		return;
	}
	if (IPV4_HDR_LEN + ipoptlen + l4len > BUF)
		return;
	size_t hl = build_ip(pkt, src, x->addr, proto, u16(r), (w & 4) ? IPV4_DF : 0,
			     (w & 8) ? 1 : 64, ipopt, ipoptlen, l4len);
	memcpy(pkt + hl, l4, l4len);
	if (w & 0x10)
		pkt[10] ^= 0x40;        /* IP header checksum wrong */
	deliver(x, pkt, hl + l4len, si);
}

/* The stack's connections and listeners, to aim at. */
typedef struct live {
	hsk_tuple tu[MAX_LIVE];
	uint8_t obj[MAX_LIVE];
	unsigned n;
} live;

static void live_add(void *ctx, const hsk_conn_info *ci)
{
	live *l = ctx;
	if (l->n < MAX_LIVE) {
		l->tu[l->n] = ci->tuple;
		l->obj[l->n++] = ci->obj;
	}
}

/* A tuple (x's view) to aim at: a live connection or listener, or a new
 * one from the peer or the attacker. */
static void pick_target(side *x, rd *r, hsk_tuple *tu, peek_conn *pc)
{
	uint8_t sel = u8(r);
	uint8_t port = u8(r);
	live l = { .n = 0 };
	if (!(sel & 0x80))
		hsk_stack_conns(x->s, live_add, &l);
	*pc = (peek_conn){ .obj = PEEK_NONE };
	if (l.n) {
		*tu = l.tu[sel % l.n];
		if (l.obj[sel % l.n] != HSK_OBJ_LISTEN) {
			peek_conn_get(x->s, tu, pc);
			return;
		}
	} else {
		static const uint16_t ports[] = { 80, 443, 8080, 22 };
		tu->lport = (sel & 8) ? (uint16_t)(32768 + port * 97) : ports[sel & 3];
	}
	tu->laddr = x->addr;
	tu->raddr = (sel & 0x40) ? ADDR_P : other(x)->addr;
	tu->rport = (uint16_t)(1000 + port);
}

static uint32_t rel_seq(uint8_t mode, const peek_conn *pc, uint32_t v)
{
	switch (mode % 6) {
	case 0: return v;
	case 1: return pc->rcv_nxt + (uint32_t)(int16_t)v;
	case 2: return pc->rcv_nxt + pc->rcv_wnd + (uint32_t)(int16_t)v;
	case 3: return pc->rcv_nxt - 1 - (v & 0xffff);
	case 4: return pc->rcv_nxt + v;
	default: return pc->rcv_nxt;
	}
}

static uint32_t rel_ack(uint8_t mode, const peek_conn *pc, uint32_t v)
{
	switch (mode % 6) {
	case 0: return v;
	case 1: return pc->snd_una + (uint32_t)(int16_t)v;
	case 2: return pc->snd_max + (uint32_t)(int16_t)v;
	case 3: return pc->snd_nxt;
	case 4: return pc->snd_una - (v & 0xfffff);
	default: return pc->snd_max;
	}
}

/* ---- operations ---- */

void op_segment(side *x, rd *r)
{
	static uint8_t seg[BUF], pay[4096];
	hsk_tuple tu;
	peek_conn pc;
	pick_target(x, r, &tu, &pc);
	uint8_t flags = u8(r), modes = u8(r);
	uint32_t sv = u32(r), av = u32(r);
	uint32_t seq = rel_seq(modes & 7, &pc, sv);
	uint32_t ack = rel_ack((modes >> 3) & 7, &pc, av);
	uint16_t win = u16(r);
	uint16_t urp = (modes & 0x40) ? u16(r) : 0;
	uint8_t opt[40];
	size_t optlen = read_tcp_opts(r, &pc, opt);
	size_t plen = u8(r);
	if (modes & 0x80)
		plen *= 16;
	take(r, pay, plen);
	if (plen)
		taint(&tu);
	size_t n = build_tcp(seg, tu.raddr, tu.laddr, tu.rport, tu.lport, seq, ack, flags,
			     win, urp, opt, optlen, pay, plen);
	if (flags & 0x40 && modes & 0x20)
		seg[16] ^= 0x01;        /* TCP checksum wrong */
	seginfo si = { .valid = true, .tu = tu, .seq = seq, .ack = ack, .win = win,
		       .flags = flags };
	send_l4(x, r, tu.raddr, IP_PROTO_TCP, seg, n, &si);
}

/* An ICMP error quoting one of x's connections (or a message of another
 * type), from a router or the peer. */
void op_icmp(side *x, rd *r)
{
	static uint8_t msg[BUF];
	hsk_tuple tu;
	peek_conn pc;
	pick_target(x, r, &tu, &pc);
	static const uint8_t types[] = { 3, 3, 3, 3, 11, 12, 4, 5, 0, 3 };
	uint8_t t = u8(r), code = u8(r);
	uint8_t type = types[(t & 0x7f) % sizeof types];
	if (t & 0x80)
		code = ICMP_UNREACH_NEEDFRAG;
	else
		code %= 16;
	static const uint16_t mtus[] = { 0, 67, 68, 88, 127, 128, 296, 551, 552, 576,
					 1280, 1499, 1500, 9000, 65535, 40 };
	uint16_t mtu = (t & 0x40) ? mtus[u8(r) % 16] : u16(r);
	uint8_t qm = u8(r);
	uint32_t qv = u32(r);
	uint32_t seq;
	switch (qm % 6) {
	case 0: seq = pc.snd_una; break;
	case 1: seq = pc.snd_una + (uint32_t)(int16_t)qv; break;
	case 2: seq = pc.snd_max - 1; break;
	case 3: seq = pc.snd_nxt; break;
	case 4: seq = pc.iss; break;
	default: seq = qv; break;
	}
	/* The quoted packet: our header (maybe with options) and the start
	 * of our segment. */
	uint8_t *q = msg + ICMP_HDR_LEN;
	size_t qopt = (qm & 0x40) ? (u8(r) % 11) * 4 : 0;
	uint8_t opts[40];
	take(r, opts, qopt);
	uint8_t qproto = (qm & 0x20) ? u8(r) : IP_PROTO_TCP;
	uint16_t qid = u16(r);
	uint16_t qfrag = (qm & 0x10) ? u16(r) : IPV4_DF;
	size_t hl = build_ip(q, (qm & 0x80) ? tu.raddr : x->addr, tu.raddr, qproto, qid,
			     qfrag, 64, opts, qopt, 40);
	uint8_t *th = q + hl;
	memset(th, 0, 20);
	wr16(th, tu.lport);
	wr16(th + 2, tu.rport);
	wr32(th + 4, seq);
	wr32(th + 8, pc.rcv_nxt);
	th[12] = 0x50;
	th[13] = HSK_TH_ACK;
	/* RFC 792 asks for 8 bytes; some routers quote more, some less. */
	size_t qlen = hl + ((qm & 8) ? u8(r) % 21 : 8);
	size_t n = ICMP_HDR_LEN + qlen;
	if (type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY) {
		n = ICMP_HDR_LEN + u16(r) % 9000;
		memset(msg + ICMP_HDR_LEN, 0x5a, n - ICMP_HDR_LEN);
	}
	msg[0] = type;
	msg[1] = code;
	wr16(msg + 2, 0);
	if (type == ICMP_DEST_UNREACH && code == ICMP_UNREACH_NEEDFRAG && mtu < 576)
		rec_find(x, &tu, true)->tiny_mss = true;
	uint32_t rest = mtu;
	if (type != ICMP_DEST_UNREACH || code != ICMP_UNREACH_NEEDFRAG)
		rest = (uint32_t)mtu << 16 | u16(r);
	wr32(msg + 4, rest);
	wr16(msg + 2, csum_fold(csum_partial(msg, n, 0)));
	if (code == 15)
		msg[2] ^= 1;            /* checksum wrong */
	send_l4(x, r, (qm & 4) ? tu.raddr : ADDR_R, IP_PROTO_ICMP, msg, n, NULL);
}

void op_echo(side *x, rd *r)
{
	static uint8_t msg[BUF];
	size_t n = ICMP_HDR_LEN + u16(r) % 12000;
	msg[0] = ICMP_ECHO_REQUEST;
	msg[1] = 0;
	wr16(msg + 2, 0);
	wr32(msg + 4, u32(r));
	memset(msg + ICMP_HDR_LEN, 0xa5, n - ICMP_HDR_LEN);
	wr16(msg + 2, csum_fold(csum_partial(msg, n, 0)));
	send_l4(x, r, ADDR_P, IP_PROTO_ICMP, msg, n, NULL);
}

void op_raw(side *x, rd *r)
{
	static uint8_t pkt[4096];
	uint8_t f = u8(r);
	size_t n = u16(r) % sizeof pkt;
	take(r, pkt, n);
	if ((f & 1) && n >= IPV4_HDR_LEN) {
		wr32(pkt + 16, x->addr);
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
		if (ihl >= IPV4_HDR_LEN && ihl <= n) {
			wr16(pkt + 10, 0);
			wr16(pkt + 10, csum_fold(csum_partial(pkt, ihl, 0)));
		}
	}
	/* Should the bytes make a valid segment for a connection, its stream
	 * is no longer what was sent. */
	seginfo si;
	parse_seginfo(pkt, n, &si);
	if (si.valid)
		taint(&si.tu);
	seginfo none = { .valid = false };
	deliver(x, pkt, n, &none);
}

/* Rewrites the TCP segment at the head of queue q (our stacks send
 * 20-byte IP headers) with new options, window, bytes or IP options. */
static void rewrite_head(pkt_queue *q, side *to, rd *r, uint8_t how)
{
	static uint8_t seg[BUF], out[BUF];
	unsigned i = q->head;
	ipv4_hdr ih;
	const uint8_t *pl, *d;
	size_t pn, dn;
	tcp_hdr th;
	if (ipv4_parse(q->p[i], q->len[i], &ih, &pl, &pn) != WIRE_OK ||
	    ih.proto != IP_PROTO_TCP ||
	    tcp_parse(pl, pn, ih.src, ih.dst, false, &th, &d, &dn) != WIRE_OK)
		return;
	hsk_tuple tu = { .laddr = ih.dst, .raddr = ih.src, .lport = th.dport,
			 .rport = th.sport };
	uint8_t opt[40];
	size_t optlen = th.doff - TCP_HDR_LEN;
	memcpy(opt, pl + TCP_HDR_LEN, optlen);
	memcpy(seg + 60, d, dn);
	uint8_t *pay = seg + 60;
	uint8_t ipopt[40];
	size_t ipoptlen = 0;
	switch (how) {
	case 0: {
		peek_conn pc;
		peek_conn_get(to->s, &tu, &pc);
		optlen = read_tcp_opts(r, &pc, opt);
		break;
	}
	case 1:
		th.win = u16(r);
		break;
	case 2: {
		/* Any header or payload byte: the stream is no longer ours. */
		size_t at = u16(r) % (th.doff + dn);
		uint8_t v = u8(r) | 1;
		if (at < th.doff) {
			uint8_t hdr[60];
			memcpy(hdr, pl, th.doff);
			hdr[at] ^= v;
			tcp_hdr t2;
			const uint8_t *d2;
			size_t dn2;
			memcpy(out, hdr, th.doff);
			memcpy(out + th.doff, d, dn);
			if (tcp_parse(out, th.doff + dn, ih.src, ih.dst, false, &t2, &d2,
				      &dn2) != WIRE_OK)
				return;
			th = t2;
			optlen = th.doff - TCP_HDR_LEN;
			memcpy(opt, out + TCP_HDR_LEN, optlen);
			/* A port may have changed: that connection too. */
			hsk_tuple t3 = { .laddr = ih.dst, .raddr = ih.src, .lport = th.dport,
					 .rport = th.sport };
			taint(&t3);
		} else {
			pay[at - th.doff] ^= v;
		}
		taint(&tu);
		break;
	}
	default:
		ipoptlen = (u8(r) % 10 + 1) * 4;
		take(r, ipopt, ipoptlen);
		break;
	}
	size_t n = build_tcp(seg, ih.src, ih.dst, th.sport, th.dport, th.seq, th.ack,
			     th.flags, th.win, th.urp, opt, optlen, pay, dn);
	size_t hl = build_ip(out, ih.src, ih.dst, IP_PROTO_TCP, ih.id, ih.frag, ih.ttl,
			     ipopt, ipoptlen, n);
	if (hl + n > 0xffff)
		return;
	memcpy(out + hl, seg, n);
	uint8_t *c = realloc(q->p[i], hl + n);
	if (!c)
		abort();
	memcpy(c, out, hl + n);
	q->p[i] = c;
	q->len[i] = (uint16_t)(hl + n);
}

void op_link(rd *r)
{
	uint8_t a = u8(r);
	int from = a & 1, to = (a >> 1) & 1;
	pkt_queue *q = &H.q[from][to];
	if (!q->n)
		return;
	unsigned how = (a >> 2) % 12;
	size_t len;
	uint8_t *p;
	switch (how) {
	case 0: case 1: case 2:
		for (unsigned k = 0; k <= how; k++)
			deliver_head(from, to);
		break;
	case 3:
		free(q_pop(q, &len));
		break;
	case 4: {
		unsigned i = q->head;
		q_push(q, q->p[i], q->len[i]);
		break;
	}
	case 5:
		p = q_pop(q, &len);
		q_push(q, p, len);
		free(p);
		break;
	case 6:
		if (q->n >= 2) {
			unsigned i = q->head, j = (q->head + 1) % PKT_QCAP;
			uint8_t *t = q->p[i];
			uint16_t l = q->len[i];
			q->p[i] = q->p[j];
			q->len[i] = q->len[j];
			q->p[j] = t;
			q->len[j] = l;
		}
		break;
	case 7: case 8:
		rewrite_head(q, &H.sd[to], r, 0);
		break;
	case 9:
		rewrite_head(q, &H.sd[to], r, (uint8_t)(1 + u8(r) % 3));
		break;
	default: {
		/* Cut the head into fragments (our packets have no IP
		 * options: the payload starts at 20). */
		p = q_pop(q, &len);
		seginfo si;
		parse_seginfo(p, len, &si);
		if (len > IPV4_HDR_LEN)
			fragments(&H.sd[to], r, rd32(p + 12), p[9], p + IPV4_HDR_LEN,
				  len - IPV4_HDR_LEN, NULL, 0, &si);
		free(p);
		break;
	}
	}
}
