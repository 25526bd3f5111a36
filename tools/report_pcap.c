/*
 * A pcap as report events. A capture sees each segment once, at one point,
 * with neither end's state: every packet becomes a "tx" of its sender and
 * an "rx" of its receiver at the capture time, and each end's state is
 * inferred from what it sent and received
 * the way RFC 9293's state diagram says it changes, each inference marked
 * "inferred:" in its cause. What a capture cannot tell is not invented: a
 * listener that drops a final ACK (accept queue full) looks ESTABLISHED,
 * TIME_WAIT never visibly ends, and there are no queue or congestion
 * samples.
 *
 * Link types: raw IPv4 (101, 228), Ethernet (1, with 802.1Q), Linux cooked
 * (113, 276), BSD loopback (0, 108). IPv6, fragments after the first and
 * non-TCP packets are counted and skipped.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "report.h"
#include "wire/wire.h"

enum { ST_NONE = -1 };
enum { PCAP_MAX_RECORD = 256 * 1024 };

typedef struct pc_end {
	uint32_t addr;
	uint16_t port;
	int state;              /* enum hsk_tcp_state, ST_NONE: not seen yet */
	bool passive;           /* answered a SYN (a listener's connection) */
	bool iss_known, fin_sent;
	uint32_t iss, fin_end;  /* fin_end: SEG.SEQ of our FIN + 1 */
	int host, ep;           /* string indexes */
} pc_end;

typedef struct pc_conn {
	pc_end e[2];
} pc_conn;

typedef struct pc_ctx {
	report *r;
	pc_conn *conns;
	size_t n, cap;
	int *slot;
	size_t nslot;
	double t;
	int inferred;
} pc_ctx;

static uint64_t conn_key(uint32_t a, uint16_t ap, uint32_t b, uint16_t bp)
{
	/* order-free: the smaller endpoint first */
	uint64_t x = (uint64_t)a << 16 | ap, y = (uint64_t)b << 16 | bp, lo, hi;

	lo = x < y ? x : y;
	hi = x < y ? y : x;
	return (lo * 0x9e3779b97f4a7c15ull) ^ (hi + 0x632be59bd9b4e019ull + (lo << 6));
}

static bool conn_is(const pc_conn *c, uint32_t a, uint16_t ap, uint32_t b, uint16_t bp)
{
	return (c->e[0].addr == a && c->e[0].port == ap && c->e[1].addr == b &&
		c->e[1].port == bp) ||
	       (c->e[0].addr == b && c->e[0].port == bp && c->e[1].addr == a &&
		c->e[1].port == ap);
}

static int grow_slots(pc_ctx *p)
{
	size_t n = p->nslot ? p->nslot * 2 : 1024, i;
	int *s = malloc(n * sizeof(*s));

	if (!s)
		return -1;
	for (i = 0; i < n; i++)
		s[i] = -1;
	for (i = 0; i < p->n; i++) {
		const pc_end *e = p->conns[i].e;
		size_t k = conn_key(e[0].addr, e[0].port, e[1].addr, e[1].port) & (n - 1);

		while (s[k] >= 0)
			k = (k + 1) & (n - 1);
		s[k] = (int)i;
	}
	free(p->slot);
	p->slot = s;
	p->nslot = n;
	return 0;
}

static int endpoint_str(report *r, uint32_t a, uint16_t port)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff, port);
	return report_str(r, buf);
}

static int host_str(report *r, uint32_t a)
{
	char buf[20];

	snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff);
	return report_str(r, buf);
}

static void end_init(report *r, pc_end *e, uint32_t addr, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->addr = addr;
	e->port = port;
	e->state = ST_NONE;
	e->host = host_str(r, addr);
	e->ep = endpoint_str(r, addr, port);
}

/* The connection of a packet from a:ap to b:bp; a new one starts with its
 * first packet (whose sender is end 0, the left column). */
static pc_conn *conn_find(pc_ctx *p, uint32_t a, uint16_t ap, uint32_t b, uint16_t bp)
{
	size_t k;

	if ((p->n + 1) * 2 > p->nslot && grow_slots(p) < 0)
		return NULL;
	k = conn_key(a, ap, b, bp) & (p->nslot - 1);
	while (p->slot[k] >= 0) {
		if (conn_is(&p->conns[p->slot[k]], a, ap, b, bp))
			return &p->conns[p->slot[k]];
		k = (k + 1) & (p->nslot - 1);
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		pc_conn *nc = realloc(p->conns, cap * sizeof(*nc));

		if (!nc)
			return NULL;
		p->conns = nc;
		p->cap = cap;
	}
	end_init(p->r, &p->conns[p->n].e[0], a, ap);
	end_init(p->r, &p->conns[p->n].e[1], b, bp);
	p->slot[k] = (int)p->n;
	return &p->conns[p->n++];
}

/* ---- state inference ---- */

static void emit_state(pc_ctx *p, pc_end *me, const pc_end *peer, int from, int to,
		       const char *why)
{
	char cause[96];
	rep_ev ev = { .t_us = p->t, .kind = RK_STATE, .obj = HSK_OBJ_TCB, .host = me->host,
		      .sd = -1, .local = me->ep, .remote = peer->ep, .from = (uint8_t)from,
		      .to = (uint8_t)to, .wscale = -1, .reason = -1, .ssthresh = -1 };

	snprintf(cause, sizeof(cause), "inferred: %s", why);
	ev.cause = report_str(p->r, cause);
	me->state = to;
	p->inferred++;
	report_add(p->r, &ev);
}

static bool seq_ge32(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* What sending the segment says about the sender's state. */
static void infer_sender(pc_ctx *p, pc_end *x, pc_end *y, const tcp_hdr *th, uint32_t len)
{
	uint8_t f = th->flags;

	if ((f & HSK_TH_SYN) && !(f & HSK_TH_ACK)) {
		if (x->state == ST_NONE || x->state == HSK_CLOSED)
			emit_state(p, x, y, HSK_CLOSED, HSK_SYN_SENT, "sent SYN (connect)");
		x->iss = th->seq;
		x->iss_known = true;
		return;
	}
	if ((f & HSK_TH_SYN) && (f & HSK_TH_ACK)) {
		if (x->state == ST_NONE || x->state == HSK_LISTEN) {
			x->passive = true;
			emit_state(p, x, y, HSK_LISTEN, HSK_SYN_RECEIVED,
				   "rcv SYN, answered SYN,ACK");
		} else if (x->state == HSK_SYN_SENT) {
			emit_state(p, x, y, HSK_SYN_SENT, HSK_SYN_RECEIVED,
				   "rcv SYN in SYN_SENT (simultaneous open)");
		}
		x->iss = th->seq;
		x->iss_known = true;
		return;
	}
	if (x->state == ST_NONE) {
		emit_state(p, x, y, HSK_CLOSED, HSK_ESTABLISHED,
			   "the capture began after the handshake");
	}
	if (f & HSK_TH_RST) {
		if (x->state != HSK_CLOSED && x->state != HSK_LISTEN && x->state != ST_NONE)
			emit_state(p, x, y, x->state, HSK_CLOSED, "sent RST");
		return;
	}
	if ((f & HSK_TH_FIN) && !x->fin_sent) {
		x->fin_sent = true;
		x->fin_end = th->seq + len + 1;
		if (x->state == HSK_ESTABLISHED || x->state == HSK_SYN_RECEIVED)
			emit_state(p, x, y, x->state, HSK_FIN_WAIT_1, "sent FIN (close)");
		else if (x->state == HSK_CLOSE_WAIT)
			emit_state(p, x, y, x->state, HSK_LAST_ACK, "sent FIN (close)");
	}
}

/* What receiving it does to the receiver (assumed accepted). */
static void infer_receiver(pc_ctx *p, pc_end *y, pc_end *x, const tcp_hdr *th)
{
	uint8_t f = th->flags;

	if (f & HSK_TH_RST) {
		if (y->state == HSK_SYN_RECEIVED && y->passive)
			emit_state(p, y, x, y->state, HSK_LISTEN, "rcv RST");
		else if (y->state == HSK_SYN_SENT)
			emit_state(p, y, x, y->state, HSK_CLOSED, "rcv RST (refused)");
		else if (y->state != ST_NONE && y->state != HSK_CLOSED &&
			 y->state != HSK_LISTEN && y->state != HSK_TIME_WAIT)
			emit_state(p, y, x, y->state, HSK_CLOSED, "rcv RST");
		return;
	}
	if (f & HSK_TH_SYN) {
		if ((f & HSK_TH_ACK) && y->iss_known && th->ack == y->iss + 1 &&
		    (y->state == HSK_SYN_SENT || y->state == HSK_SYN_RECEIVED))
			emit_state(p, y, x, y->state, HSK_ESTABLISHED,
				   y->state == HSK_SYN_SENT ? "rcv SYN,ACK" : "rcv SYN,ACK of our SYN");
		return;
	}
	if (y->state == ST_NONE)
		emit_state(p, y, x, HSK_CLOSED, HSK_ESTABLISHED,
			   "the capture began after the handshake");
	if (f & HSK_TH_ACK) {
		if (y->state == HSK_SYN_RECEIVED && y->iss_known && th->ack == y->iss + 1)
			emit_state(p, y, x, y->state, HSK_ESTABLISHED, "rcv ACK");
		if (y->fin_sent && seq_ge32(th->ack, y->fin_end)) {
			if (y->state == HSK_FIN_WAIT_1)
				emit_state(p, y, x, y->state, HSK_FIN_WAIT_2, "rcv ACK of FIN");
			else if (y->state == HSK_CLOSING)
				emit_state(p, y, x, y->state, HSK_TIME_WAIT, "rcv ACK of FIN");
			else if (y->state == HSK_LAST_ACK)
				emit_state(p, y, x, y->state, HSK_CLOSED, "rcv ACK of FIN");
		}
	}
	if (f & HSK_TH_FIN) {
		if (y->state == HSK_ESTABLISHED || y->state == HSK_SYN_RECEIVED)
			emit_state(p, y, x, y->state, HSK_CLOSE_WAIT, "rcv FIN");
		else if (y->state == HSK_FIN_WAIT_1)
			emit_state(p, y, x, y->state, HSK_CLOSING, "rcv FIN");
		else if (y->state == HSK_FIN_WAIT_2)
			emit_state(p, y, x, y->state, HSK_TIME_WAIT, "rcv FIN");
	}
}

static void emit_seg(pc_ctx *p, int kind, const pc_end *me, const pc_end *peer,
		     const tcp_hdr *th, uint32_t len)
{
	rep_ev ev = { .t_us = p->t, .kind = (uint8_t)kind, .obj = HSK_OBJ_TCB,
		      .host = me->host, .sd = -1, .local = me->ep, .remote = peer->ep,
		      .cause = -1, .reason = -1, .flags = th->flags, .seq = th->seq,
		      .ack = th->ack, .len = len, .win = th->win, .mss = th->opt.mss,
		      .wscale = th->opt.wscale, .sack_ok = th->opt.sack_ok,
		      .has_ts = th->opt.has_ts, .ts_val = th->opt.ts_val,
		      .ts_ecr = th->opt.ts_ecr, .ssthresh = -1 };
	unsigned i;

	ev.nsack = th->opt.nsack > 4 ? 4 : th->opt.nsack;
	for (i = 0; i < ev.nsack; i++) {
		ev.sack[i][0] = th->opt.sack[i].left;
		ev.sack[i][1] = th->opt.sack[i].right;
	}
	report_add(p->r, &ev);
}

static void on_segment(pc_ctx *p, uint32_t src, uint32_t dst, const tcp_hdr *th, uint32_t len)
{
	pc_conn *c = conn_find(p, src, th->sport, dst, th->dport);
	pc_end *x, *y;

	if (!c)
		return;
	x = c->e[0].addr == src && c->e[0].port == th->sport ? &c->e[0] : &c->e[1];
	y = x == &c->e[0] ? &c->e[1] : &c->e[0];
	/* a new SYN on a 4-tuple that was used before: a new connection */
	if ((th->flags & (HSK_TH_SYN | HSK_TH_ACK)) == HSK_TH_SYN && x->iss_known &&
	    x->iss != th->seq) {
		if (y->state == HSK_TIME_WAIT || x->state == HSK_TIME_WAIT)
			emit_state(p, y->state == HSK_TIME_WAIT ? y : x,
				   y->state == HSK_TIME_WAIT ? x : y, HSK_TIME_WAIT, HSK_CLOSED,
				   "a new SYN reuses the 4-tuple");
		end_init(p->r, &c->e[0], src, th->sport);
		end_init(p->r, &c->e[1], dst, th->dport);
		x = &c->e[0];
		y = &c->e[1];
	}
	infer_sender(p, x, y, th, len);
	emit_seg(p, RK_TX, x, y, th, len);
	emit_seg(p, RK_RX, y, x, th, len);
	infer_receiver(p, y, x, th);
}

/* ---- the file ---- */

typedef struct pcap_fmt {
	bool swap, nsec;
	uint32_t linktype;
} pcap_fmt;

static uint32_t rd32x(const uint8_t *b, bool swap)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static const char *linktype_name(uint32_t lt)
{
	switch (lt) {
	case 0: return "BSD loopback";
	case 1: return "Ethernet";
	case 101: return "raw IP";
	case 105: return "IEEE 802.11";
	case 108: return "OpenBSD loopback";
	case 113: return "Linux cooked";
	case 127: return "802.11 radiotap";
	case 228: return "raw IPv4";
	case 229: return "raw IPv6";
	case 276: return "Linux cooked v2";
	default: return "unknown";
	}
}

/* The IPv4 packet inside a link-layer frame; NULL when the frame carries
 * something else (its ethertype or family in *other). */
static const uint8_t *link_payload(uint32_t lt, const uint8_t *b, size_t n, size_t *len,
				   bool *ipv6)
{
	uint16_t et;
	size_t off;

	*ipv6 = false;
	switch (lt) {
	case 101: case 228:
		if (n >= 1 && (b[0] >> 4) == 6)
			*ipv6 = true;
		*len = n;
		return *ipv6 ? NULL : b;
	case 1:
		if (n < 14)
			return NULL;
		off = 12;
		et = rd16(b + off);
		while ((et == 0x8100 || et == 0x88a8) && n >= off + 6) {
			off += 4;
			et = rd16(b + off);
		}
		off += 2;
		break;
	case 113:
		if (n < 16)
			return NULL;
		et = rd16(b + 14);
		off = 16;
		break;
	case 276:
		if (n < 20)
			return NULL;
		et = rd16(b);
		off = 20;
		break;
	default: {        /* 0 and 108: a 4-byte address family */
		uint32_t fam;

		if (n < 4)
			return NULL;
		memcpy(&fam, b, 4);
		if (lt == 108)
			fam = rd32(b);
		if (fam != 2) {
			*ipv6 = fam == 10 || fam == 24 || fam == 28 || fam == 30;
			return NULL;
		}
		*len = n - 4;
		return b + 4;
	}
	}
	if (et == 0x86dd)
		*ipv6 = true;
	if (et != 0x0800)
		return NULL;
	*len = n - off;
	return b + off;
}

typedef struct pc_skip {
	size_t ipv6, other, frag, bad, truncated;
} pc_skip;

/* One IPv4 packet (maybe cut short by the snap length). */
static void on_ipv4(pc_ctx *p, const uint8_t *b, size_t n, pc_skip *sk)
{
	size_t ihl, tot, avail, tcplen;
	uint32_t src, dst;
	tcp_hdr th;
	const uint8_t *payload;
	size_t plen;
	uint16_t frag;

	if (n < 20 || (b[0] >> 4) != 4 || (ihl = (size_t)(b[0] & 0xf) * 4) < 20 || ihl > n) {
		sk->bad++;
		return;
	}
	if (b[9] != IP_PROTO_TCP) {
		sk->other++;
		return;
	}
	frag = rd16(b + 6);
	if (frag & IPV4_FRAG_MASK) {
		sk->frag++;
		return;
	}
	tot = rd16(b + 2);
	if (tot < ihl) {
		sk->bad++;
		return;
	}
	src = rd32(b + 12);
	dst = rd32(b + 16);
	avail = (n < tot ? n : tot) - ihl;
	if (avail < 20 || (size_t)(b[ihl + 12] >> 4) * 4 > avail) {
		sk->truncated++;
		return;
	}
	if (tcp_parse(b + ihl, avail, src, dst, false, &th, &payload, &plen) != WIRE_OK) {
		sk->bad++;
		return;
	}
	tcplen = tot - ihl - (size_t)(b[ihl + 12] >> 4) * 4;
	on_segment(p, src, dst, &th, (uint32_t)tcplen);
}

static int read_header(const uint8_t *buf, size_t len, pcap_fmt *fmt, char *err, size_t cap)
{
	uint32_t magic;

	if (len >= 4 && !memcmp(buf, "\x0a\x0d\x0d\x0a", 4)) {
		snprintf(err, cap, "a pcapng file: handshake reads classic pcap (convert it "
			 "with 'editcap -F pcap IN OUT' or 'tshark -F pcap -r IN -w OUT')");
		return -1;
	}
	if (len < 24) {
		snprintf(err, cap, "a pcap shorter than its 24-byte header (%zu bytes)", len);
		return -1;
	}
	memcpy(&magic, buf, 4);
	fmt->swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
	fmt->nsec = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
	fmt->linktype = rd32x(buf + 20, fmt->swap) & 0xffff;
	switch (fmt->linktype) {
	case 0: case 1: case 101: case 108: case 113: case 228: case 276:
		return 0;
	default:
		snprintf(err, cap, "pcap link type %" PRIu32 " (%s) is not one handshake "
			 "reads: raw IPv4 (101, 228), Ethernet (1), Linux cooked (113, 276) "
			 "or loopback (0, 108)", fmt->linktype, linktype_name(fmt->linktype));
		return -1;
	}
}

int report_read_pcap(report *r, const uint8_t *buf, size_t len, char *err, size_t cap)
{
	pc_ctx p = { .r = r };
	pc_skip sk = { 0 };
	pcap_fmt fmt;
	size_t off = 24, packets = 0;
	double t0 = -1;

	if (read_header(buf, len, &fmt, err, cap) < 0)
		return -1;
	report_set_inferred(r, true);
	while (off < len) {
		uint32_t sec, frac, caplen;
		const uint8_t *ip;
		size_t iplen;
		bool v6;

		if (len - off < 16) {
			sk.truncated++;
			break;
		}
		sec = rd32x(buf + off, fmt.swap);
		frac = rd32x(buf + off + 4, fmt.swap);
		caplen = rd32x(buf + off + 8, fmt.swap);
		if (caplen > PCAP_MAX_RECORD) {
			snprintf(err, cap, "record %zu: a captured length of %" PRIu32 " bytes: "
				 "not a pcap, or a corrupt one", packets + 1, caplen);
			free(p.conns);
			free(p.slot);
			return -1;
		}
		if (len - off - 16 < caplen) {
			sk.truncated++;
			break;
		}
		p.t = (double)sec * 1e6 + (fmt.nsec ? frac / 1e3 : (double)frac);
		if (t0 < 0)
			t0 = p.t;
		p.t -= t0;
		ip = link_payload(fmt.linktype, buf + off + 16, caplen, &iplen, &v6);
		if (ip)
			on_ipv4(&p, ip, iplen, &sk);
		else if (v6)
			sk.ipv6++;
		else
			sk.other++;
		off += 16 + caplen;
		packets++;
	}
	free(p.conns);
	free(p.slot);
	report_note(r, "from a pcap of %zu packets: each end's states are inferred from "
		    "the segments, and segments are drawn at the capture's time", packets);
	if (sk.ipv6 || sk.other || sk.frag)
		report_note(r, "skipped: %zu IPv6, %zu not TCP, %zu later fragments",
			    sk.ipv6, sk.other, sk.frag);
	if (sk.bad || sk.truncated)
		report_note(r, "%zu malformed and %zu truncated packets were left out",
			    sk.bad, sk.truncated);
	if (packets == 0) {
		snprintf(err, cap, "the pcap holds no packets");
		return -1;
	}
	return 0;
}
