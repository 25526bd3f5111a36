/*
 * libFuzzer target: two whole stacks, A (198.18.0.2) and B (198.18.0.1), on
 * a link the input controls, plus an attacker who injects what it likes.
 *
 * The input is a 4-byte configuration (features, MTU, buffers, seed) and
 * then a program of operations, each an opcode byte and its arguments
 * (read with zeros once the input runs out):
 *   link      deliver, drop, duplicate, reorder the packets between A and
 *             B; rewrite a queued segment's TCP options (any MSS, window
 *             scale > 14, SACK blocks, timestamps), window, bytes; add IP
 *             options; cut a queued packet into fragments
 *   segment   a crafted TCP segment for a live connection of A or B (its
 *             sequence and acknowledgment numbers relative to the
 *             connection's, so the fuzzer lands in the window) or a new
 *             tuple, with structured or raw option bytes, a payload, IP
 *             options, and optionally cut into fragments (overlapping,
 *             tiny, never ending) -- every checksum right unless asked
 *   icmp      a destination unreachable / fragmentation needed (any MTU) /
 *             time exceeded / other ICMP message quoting a live
 *             connection's tuple and sequence numbers; echo requests
 *   raw       arbitrary bytes into IP input
 *   socket    socket/bind/listen/connect/accept/send/recv/shutdown/close/
 *             abort/setsockopt (every option)/getsockopt/poll on A or B;
 *             sendv/recvv (MSG_PEEK), zero-copy borrow/release and
 *             reserve/commit, Fast Open sendto and connect, TCP_CONGESTION,
 *             Fast Open keys (op_api)
 *   time      advance the clock (ms to minutes, or to the next deadline)
 *   pump      run the link and the timers until quiet (bounded)
 * At the end every socket is closed, the link runs, then is cut, and the
 * clock runs out every timer.
 *
 * Beyond ASan and UBSan, every step checks (and abort()s naming it):
 *   - every packet a stack hands to the link parses, has right checksums
 *     and is no larger than the link MTU;
 *   - no TCP segment carries more than the peer's MSS (payload and
 *     options), with a floor of MIN_SND_MSS as Linux's tcp_min_snd_mss;
 *   - nothing sent past SND.MAX (what the stack believes it has sent);
 *   - no new data beyond SND.UNA + the window the peer advertised in the
 *     segment the stack took its window from (computed here from the
 *     wire bytes and the shift), but a 1-byte window probe;
 *   - the window is taken only as RFC 9293 §3.10.7.4 allows: SND.UNA <=
 *     SEG.ACK <= SND.NXT and SND.WL1/WL2 not newer;
 *   - SND.UNA <= SND.NXT <= SND.MAX, no more in flight than written, MSS
 *     and window shifts in range, pool and buffer accounting (peek.c);
 *   - counters agree with the link: OutRequests and OutSegs with the
 *     packets and segments seen, OutRsts, IcmpOutMsgs, InReceives, the
 *     trace's TX events; IllegalTransitions stays 0;
 *   - bytes read between A and B are the bytes written, in order, once,
 *     on connections no injected data or rewritten payload touched;
 *   - at the end every pool, socket and buffer is back to zero and no
 *     timer is left.
 * HSK_FUZZ_ALLOW=mtu,mss,window,wndupdate,peek,counters,stream,pools turns
 * named checks off for local runs past a known fault, and tinymss, zwleak,
 * resend only the cases of known faults (see allow_bits); nothing
 * sets it in make check or make fuzz. HSK_FUZZ_VERBOSE=1 prints every operation and
 * packet (replaying one input: build-fuzz/fuzz_stack FILE).
 *
 *   scripts/fuzz.sh 60        builds and runs it (see there)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "peek.h"
#include "pkt.h"
#include "wire/wire.h"

#define ADDR_A 0xc6120002u      /* 198.18.0.2 */
#define ADDR_B 0xc6120001u      /* 198.18.0.1 */
#define ADDR_P 0xc6120003u      /* an attacker */
#define ADDR_R 0xc61200feu      /* a router that sends ICMP errors */
#define MS 1000000ull
#define SEC 1000000000ull

/* Linux's tcp_min_snd_mss: the least MSS a stack should use, whatever the
 * peer announced (CVE-2019-11479). */
enum { MIN_SND_MSS = 48 };
enum { MAX_SD = 64, MAX_REC = 128, MAX_TAINT = 64, MAX_OPS = 1500,
       MAX_LIVE = 64, BUF = 65536 + 256 };

enum allow_bits {
	AL_MTU = 1, AL_MSS = 2, AL_WINDOW = 4, AL_WNDUPDATE = 8, AL_PEEK = 16,
	AL_COUNTERS = 32, AL_STREAM = 64, AL_POOLS = 128,
	/* narrower: past one known fault, the rest still checked */
	AL_TINYMSS = 256,       /* MSS/MTU checks off where the peer offered an
				 * MSS below 64 or an ICMP error a path MTU
				 * below 576, and such connections left at
				 * the end (issue 12, fault 4) */
	AL_ZWLEAK = 512,        /* at the end, connections facing a zero window
				 * may be left (fault 2) */
	AL_RESEND = 1024,       /* a retransmission may carry bytes past
				 * SND.MAX (and the window) when it starts
				 * below: findings/new_* */
};
static unsigned allow;
static bool verbose;            /* HSK_FUZZ_VERBOSE: print what happens */

#define FAIL(...) do { \
	fprintf(stderr, "INVARIANT: "); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

static bool s_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static bool s_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static bool s_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

/* ---- reading the input ---- */

typedef struct rd {
	const uint8_t *p;
	size_t n;
} rd;

static uint8_t u8(rd *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}
static uint16_t u16(rd *r) { uint16_t v = u8(r); return (uint16_t)(v << 8 | u8(r)); }
static uint32_t u32(rd *r) { uint32_t v = u16(r); return v << 16 | u16(r); }
/* n bytes of input into out, zeros past the end. */
static void take(rd *r, uint8_t *out, size_t n)
{
	size_t k = n < r->n ? n : r->n;
	memcpy(out, r->p, k);
	memset(out + k, 0, n - k);
	r->p += k;
	r->n -= k;
}

/* ---- what the harness knows of each stack ---- */

/* One connection as seen on the wire, from the stack's side. */
typedef struct conn_rec {
	bool used;
	hsk_tuple tu;             /* the stack's view */
	bool have_iss, have_max, have_wnd, seen_syn;
	bool mss_unknown;         /* a SYN came in garbage fragments */
	bool tiny_mss;            /* an MSS < 64 or a path MTU < 576 was offered */
	uint32_t iss;
	uint32_t snd_max;         /* highest sequence number sent, + 1 */
	uint32_t wnd;             /* window of the segment the stack took it
				   * from, computed from the wire bytes */
	uint16_t peer_mss;        /* largest MSS the peer's SYNs offered */
	unsigned incarnations;    /* ISSs seen on this tuple */
	bool touched;             /* sent something this step */
	bool sent_new;            /* new data this step, up to new_end */
	bool straddled;           /* a segment from old into new data */
	bool resent_past;         /* AL_RESEND let bytes up to resent_max by */
	uint32_t resent_max;
	uint32_t new_end;
} conn_rec;

/* What a delivered packet carries, for the window checks. */
typedef struct seginfo {
	bool valid;
	hsk_tuple tu;             /* the receiver's view */
	uint32_t seq, ack;
	uint16_t win;
	uint8_t flags;
} seginfo;

typedef struct side {
	const char *name;
	hsk_stack *s;
	uint32_t addr;
	uint16_t mtu;
	int idx;
	conn_rec rec[MAX_REC];
	unsigned rec_next;
	conn_rec *touched[8];     /* records sent on in this step */
	unsigned ntouched;        /* > 8: scan them all */
	int sds[MAX_SD];
	unsigned nsd;
	uint64_t tx_off[MAX_SD], rx_off[MAX_SD];
	uint64_t n_tx, n_tcp, n_rst, n_icmp, n_in, n_trace_tx;
} side;

static struct harness {
	side sd[2];
	pkt_queue q[2][2];        /* [from][to] */
	uint64_t now;
	bool cut;                 /* the link drops everything */
	bool taint_all;
	hsk_tuple taint[MAX_TAINT];
	unsigned ntaint;
} H;

static size_t cnt_idx[16];
enum { C_OUTREQ, C_OUTSEGS, C_OUTRSTS, C_ICMPOUT, C_INRECV, C_ILLEGAL, C_INDELIV,
       C_REASMOK, C_REASMREQ, C_RETRANS, C__N };
static const char *const cnt_names[C__N] = {
	"OutRequests", "OutSegs", "OutRsts", "IcmpOutMsgs", "InReceives",
	"IllegalTransitions", "InDelivers", "ReasmOKs", "ReasmReqds", "RetransSegs",
};

static side *other(side *x) { return &H.sd[!x->idx]; }

static bool is_ours(uint32_t a) { return a == ADDR_A || a == ADDR_B; }

/* ---- taint: connections whose byte stream an injection may have changed */

static hsk_tuple norm(const hsk_tuple *t)
{
	bool swap = t->laddr > t->raddr || (t->laddr == t->raddr && t->lport > t->rport);
	if (!swap)
		return *t;
	return (hsk_tuple){ .laddr = t->raddr, .raddr = t->laddr, .lport = t->rport,
			    .rport = t->lport };
}

static bool tuple_same(const hsk_tuple *a, const hsk_tuple *b)
{
	return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
	       a->rport == b->rport;
}

static void taint(const hsk_tuple *t)
{
	if (!is_ours(t->laddr) || !is_ours(t->raddr))
		return;                 /* never checked anyway */
	hsk_tuple k = norm(t);
	for (unsigned i = 0; i < H.ntaint; i++)
		if (tuple_same(&H.taint[i], &k))
			return;
	if (H.ntaint == MAX_TAINT)
		H.taint_all = true;
	else
		H.taint[H.ntaint++] = k;
}

static bool tainted(const hsk_tuple *t)
{
	if (H.taint_all || !is_ours(t->laddr) || !is_ours(t->raddr))
		return true;
	hsk_tuple k = norm(t);
	for (unsigned i = 0; i < H.ntaint; i++)
		if (tuple_same(&H.taint[i], &k))
			return true;
	return false;
}

/* The byte at offset `off` of the stream sent on tuple t (sender's view). */
static uint8_t pattern(const hsk_tuple *t, uint64_t off)
{
	uint32_t h = t->lport * 31u + t->rport * 7u + (uint32_t)(off >> 8) * 13u;
	return (uint8_t)(off + h);
}

/* ---- connection records ---- */

static conn_rec *rec_find(side *x, const hsk_tuple *tu, bool create)
{
	conn_rec *c = NULL;
	for (unsigned i = 0; i < MAX_REC; i++) {
		if (x->rec[i].used && tuple_same(&x->rec[i].tu, tu))
			return &x->rec[i];
		if (!x->rec[i].used && !c)
			c = &x->rec[i];
	}
	if (!create)
		return NULL;
	/* Full: reuse the record of a tuple the stack has forgotten, else
	 * the next in turn (its checks start over). */
	peek_conn p;
	for (unsigned i = 0; i < MAX_REC && !c; i++)
		if (!peek_conn_get(x->s, &x->rec[i].tu, &p))
			c = &x->rec[i];
	if (!c)
		c = &x->rec[x->rec_next++ % MAX_REC];
	*c = (conn_rec){ .used = true, .tu = *tu };
	return c;
}

/* Every packet a stack sends: checked, recorded, queued. */
static void tx_tcp(side *x, const ipv4_hdr *ih, const tcp_hdr *th, size_t tcp_len,
		   size_t dn)
{
	x->n_tcp++;
	if (th->flags & HSK_TH_RST)
		x->n_rst++;
	hsk_tuple tu = { .laddr = ih->src, .raddr = ih->dst, .lport = th->sport,
			 .rport = th->dport };
	conn_rec *c = rec_find(x, &tu, !(th->flags & HSK_TH_RST));
	bool tiny = c && c->tiny_mss && (allow & AL_TINYMSS);
	if (ih->total_len > x->mtu && !(allow & AL_MTU) && !tiny)
		FAIL("%s handed the link a %u-byte segment on :%u->:%u; the MTU is %u",
		     x->name, ih->total_len, th->sport, th->dport, x->mtu);
	if (c && c->seen_syn && !c->mss_unknown && !(allow & AL_MSS) && !tiny) {
		uint32_t limit = c->peer_mss > MIN_SND_MSS ? c->peer_mss : MIN_SND_MSS;
		if (tcp_len - TCP_HDR_LEN > limit)
			FAIL("%s sent %zu payload + %zu option bytes on :%u->:%u; the peer's "
			     "MSS is %u", x->name, dn, th->doff - (size_t)TCP_HDR_LEN,
			     th->sport, th->dport, c->peer_mss);
	}
	if (!c || (th->flags & HSK_TH_RST))
		return;                 /* a reset's sequence number is the peer's */
	uint32_t syn = !!(th->flags & HSK_TH_SYN), fin = !!(th->flags & HSK_TH_FIN);
	if (syn && (!c->have_iss || c->iss != th->seq)) {
		/* A new incarnation of the tuple: start over. Old segments of
		 * the previous one may land in the new one's window, so its
		 * byte stream is not checked. */
		c->have_iss = true;
		c->iss = th->seq;
		c->have_max = c->have_wnd = c->sent_new = false;
		if (++c->incarnations > 1)
			taint(&tu);
	}
	uint32_t data_end = th->seq + syn + (uint32_t)dn;
	uint32_t end = data_end + fin;
	if (!c->touched && x->ntouched++ < 8)
		x->touched[x->ntouched - 1] = c;
	c->touched = true;
	if (!c->have_max) {
		c->have_max = true;
		c->snd_max = end;
		return;
	}
	if (s_lt(th->seq, c->snd_max) && s_gt(data_end, c->snd_max))
		c->straddled = true;
	if (dn && s_gt(data_end, c->snd_max) && dn != 1) {
		if (!c->sent_new || s_gt(data_end, c->new_end))
			c->new_end = data_end;
		c->sent_new = true;
	}
	if (s_gt(end, c->snd_max))
		c->snd_max = end;
}

static void on_transmit(void *ctx, const uint8_t *pkt, size_t len)
{
	side *x = ctx;
	x->n_tx++;
	if (verbose)
		pkt_show((double)H.now / 1e9 - 1000, x->name, "tx", pkt, len);
	ipv4_hdr ih;
	const uint8_t *pl;
	size_t pn;
	int err = ipv4_parse(pkt, len, &ih, &pl, &pn);
	if (err != WIRE_OK)
		FAIL("%s sent an IPv4 packet that does not parse: %s", x->name,
		     wire_err_name(err));
	if (ih.src != x->addr || ipv4_is_fragment(&ih) || pn + ih.ihl != len)
		FAIL("%s sent a packet from %08x, frag %04x, %zu of %zu bytes", x->name,
		     ih.src, ih.frag, pn + ih.ihl, len);
	if (ih.proto == IP_PROTO_TCP) {
		tcp_hdr th;
		const uint8_t *d;
		size_t dn;
		err = tcp_parse(pl, pn, ih.src, ih.dst, true, &th, &d, &dn);
		if (err != WIRE_OK)
			FAIL("%s sent a TCP segment that does not parse: %s", x->name,
			     wire_err_name(err));
		tx_tcp(x, &ih, &th, pn, dn);
	} else if (ih.proto == IP_PROTO_ICMP) {
		icmp_hdr h;
		const uint8_t *b;
		size_t bn;
		x->n_icmp++;
		if (len > x->mtu && !(allow & AL_MTU))
			FAIL("%s handed the link a %zu-byte ICMP message; the MTU is %u",
			     x->name, len, x->mtu);
		if (icmp_parse(pl, pn, &h, &b, &bn) != WIRE_OK)
			FAIL("%s sent an ICMP message that does not parse", x->name);
	} else {
		FAIL("%s sent IP protocol %u", x->name, ih.proto);
	}
	if (H.cut)
		return;
	if (ih.dst == ADDR_A || ih.dst == ADDR_B)
		q_push(&H.q[x->idx][ih.dst == ADDR_B], pkt, len);
}

static void on_trace(void *ctx, const hsk_trace_event *ev)
{
	side *x = ctx;
	if (ev->kind == HSK_EV_TX)
		x->n_trace_tx++;
}

/* ---- checks after every step ---- */

static uint64_t counter(side *x, int c) { return hsk_counter_get(x->s, cnt_idx[c]); }

static void check_counters(side *x)
{
	if (allow & AL_COUNTERS)
		return;
	struct { int c; uint64_t want; const char *what; } eq[] = {
		{ C_OUTREQ, x->n_tx, "packets on the link" },
		{ C_OUTSEGS, x->n_tcp, "TCP segments on the link" },
		{ C_OUTRSTS, x->n_rst, "RSTs on the link" },
		{ C_ICMPOUT, x->n_icmp, "ICMP messages on the link" },
		{ C_INRECV, x->n_in, "packets given to hsk_stack_input" },
		{ C_OUTSEGS, x->n_trace_tx, "TX trace events" },
		{ C_ILLEGAL, 0, "(no illegal transition)" },
	};
	for (size_t i = 0; i < sizeof eq / sizeof eq[0]; i++)
		if (counter(x, eq[i].c) != eq[i].want)
			FAIL("%s: %s = %llu but %llu %s", x->name, cnt_names[eq[i].c],
			     (unsigned long long)counter(x, eq[i].c),
			     (unsigned long long)eq[i].want, eq[i].what);
	if (counter(x, C_INDELIV) > counter(x, C_INRECV) ||
	    counter(x, C_REASMOK) > counter(x, C_REASMREQ) ||
	    counter(x, C_RETRANS) > counter(x, C_OUTSEGS))
		FAIL("%s: InDelivers %llu > InReceives %llu, ReasmOKs > ReasmReqds or "
		     "RetransSegs > OutSegs", x->name,
		     (unsigned long long)counter(x, C_INDELIV),
		     (unsigned long long)counter(x, C_INRECV));
}

/* The delivered segment changed the connection's send window: was that
 * allowed, and is the window what the segment said? */
static void check_window_update(side *x, const seginfo *si, const peek_conn *b)
{
	peek_conn a;
	if (!si || !si->valid || !peek_conn_get(x->s, &si->tu, &a) || a.obj != HSK_OBJ_TCB)
		return;
	bool changed = b->obj != HSK_OBJ_TCB || b->snd_wl1 != a.snd_wl1 ||
		       b->snd_wl2 != a.snd_wl2 || b->snd_wnd != a.snd_wnd;
	if (!changed)
		return;
	conn_rec *c = rec_find(x, &si->tu, true);
	if (a.snd_wl1 != si->seq || a.snd_wl2 != si->ack) {
		c->have_wnd = false;    /* from bytes we did not see (fragments) */
		return;
	}
	bool syn = si->flags & HSK_TH_SYN;
	uint32_t wnd = (uint32_t)si->win << (syn ? 0 : a.snd_wscale);
	if (!(allow & AL_WNDUPDATE)) {
		if (a.snd_wnd != wnd)
			FAIL("%s :%u->:%u: SND.WND %u from a segment advertising %u << %u",
			     x->name, si->tu.lport, si->tu.rport, a.snd_wnd, si->win,
			     syn ? 0 : a.snd_wscale);
		bool sync = b->obj == HSK_OBJ_TCB && b->state >= HSK_ESTABLISHED &&
			    b->state != HSK_TIME_WAIT;
		if (sync && (!(si->flags & HSK_TH_ACK) || !s_le(b->snd_una, si->ack) ||
			     !s_le(si->ack, b->snd_max) ||
			     !(s_lt(b->snd_wl1, si->seq) ||
			       (b->snd_wl1 == si->seq && s_le(b->snd_wl2, si->ack)))))
			FAIL("%s :%u->:%u %s: window taken from SEG.SEQ %u SEG.ACK %u with "
			     "SND.UNA %u SND.NXT %u WL1 %u WL2 %u (RFC 9293 3.10.7.4)",
			     x->name, si->tu.lport, si->tu.rport, hsk_state_name(b->state),
			     si->seq, si->ack, b->snd_una, b->snd_max, b->snd_wl1,
			     b->snd_wl2);
	}
	c->wnd = wnd;
	c->have_wnd = true;
}

/* What was sent in this step: nothing past SND.MAX (the stack knows what
 * it sent), new data within SND.UNA + the window taken. */
static void check_sent(side *x)
{
	unsigned n = x->ntouched > 8 ? MAX_REC : x->ntouched;
	x->ntouched = 0;
	for (unsigned i = 0; i < n; i++) {
		conn_rec *c = n == MAX_REC ? &x->rec[i] : x->touched[i];
		if (!c->used || !c->touched)
			continue;
		bool sent_new = c->sent_new, straddled = c->straddled;
		c->touched = c->sent_new = c->straddled = false;
		peek_conn p;
		if (!c->have_max || !peek_conn_get(x->s, &c->tu, &p) || p.obj != HSK_OBJ_TCB)
			continue;
		if (s_gt(c->snd_max, p.snd_max)) {
			if ((allow & AL_RESEND) &&
			    (straddled || (c->resent_past && s_le(c->snd_max, c->resent_max)))) {
				c->resent_past = true;
				c->resent_max = c->snd_max;
				continue;
			}
			FAIL("%s :%u->:%u %s: sent up to %u but SND.MAX is %u", x->name,
			     c->tu.lport, c->tu.rport, hsk_state_name(p.state), c->snd_max,
			     p.snd_max);
		}
		if (!sent_new || !c->have_wnd || (allow & AL_WINDOW))
			continue;
		uint32_t edge = p.snd_una + c->wnd;
		if (s_gt(c->new_end, edge))
			FAIL("%s :%u->:%u %s: new data up to %u, beyond SND.UNA %u + the "
			     "peer's window %u", x->name, c->tu.lport, c->tu.rport,
			     hsk_state_name(p.state), c->new_end, p.snd_una, c->wnd);
	}
}

static void step_end(side *x, const seginfo *si, const peek_conn *before)
{
	if (before)
		check_window_update(x, si, before);
	check_sent(x);
	if (!(allow & AL_PEEK))
		peek_check(x->s, x->name, (allow & AL_TINYMSS) ? PEEK_NO_MSS : 0);
	check_counters(x);
}

/* ---- driving a stack ---- */

static void advance(side *x)
{
	hsk_stack_advance(x->s, H.now);
	step_end(x, NULL, NULL);
}

static void advance_both(void)
{
	advance(&H.sd[0]);
	advance(&H.sd[1]);
}

/* The TCP segment in an unfragmented packet, for the window checks. */
static void parse_seginfo(const uint8_t *pkt, size_t len, seginfo *si)
{
	ipv4_hdr ih;
	const uint8_t *pl, *d;
	size_t pn, dn;
	tcp_hdr th;
	si->valid = false;
	if (ipv4_parse(pkt, len, &ih, &pl, &pn) != WIRE_OK || ipv4_is_fragment(&ih) ||
	    ih.proto != IP_PROTO_TCP ||
	    tcp_parse(pl, pn, ih.src, ih.dst, true, &th, &d, &dn) != WIRE_OK)
		return;
	*si = (seginfo){ .valid = true, .seq = th.seq, .ack = th.ack, .win = th.win,
			 .flags = th.flags,
			 .tu = { .laddr = ih.dst, .raddr = ih.src, .lport = th.dport,
				 .rport = th.sport } };
}

/* The peer's SYN (TCP bytes from src) tells what MSS it takes. */
static void note_syn_tcp(side *x, uint32_t src, const uint8_t *seg, size_t len)
{
	const uint8_t *d;
	size_t dn;
	tcp_hdr th;
	if (tcp_parse(seg, len, src, x->addr, true, &th, &d, &dn) != WIRE_OK ||
	    !(th.flags & HSK_TH_SYN) || (th.flags & HSK_TH_RST))
		return;
	hsk_tuple tu = { .laddr = x->addr, .raddr = src, .lport = th.dport,
			 .rport = th.sport };
	conn_rec *c = rec_find(x, &tu, true);
	uint16_t mss = th.opt.mss ? th.opt.mss : 536;
	if (mss < 64)
		c->tiny_mss = true;
	if (!c->seen_syn || mss > c->peer_mss)
		c->peer_mss = mss;
	c->seen_syn = true;
}

static void note_syn(side *x, const uint8_t *pkt, size_t len)
{
	ipv4_hdr ih;
	const uint8_t *pl;
	size_t pn;
	if (ipv4_parse(pkt, len, &ih, &pl, &pn) == WIRE_OK && !ipv4_is_fragment(&ih) &&
	    ih.proto == IP_PROTO_TCP && ih.dst == x->addr)
		note_syn_tcp(x, ih.src, pl, pn);
}

/* One packet into stack x. si describes the TCP segment it carries (or,
 * for a fragment, the segment the datagram holds); NULL: parse it. */
static void deliver(side *x, const uint8_t *pkt, size_t len, const seginfo *si)
{
	seginfo own;
	if (!si) {
		parse_seginfo(pkt, len, &own);
		si = &own;
	}
	note_syn(x, pkt, len);
	peek_conn before = { .obj = PEEK_NONE };
	if (si->valid)
		peek_conn_get(x->s, &si->tu, &before);
	x->n_in++;
	if (verbose)
		pkt_show((double)H.now / 1e9 - 1000, x->name, "rx", pkt, len);
	hsk_stack_input(x->s, H.now, pkt, len);
	step_end(x, si, &before);
	advance(x);
}

static void deliver_head(int from, int to)
{
	size_t len;
	uint8_t *p = q_pop(&H.q[from][to], &len);
	if (!p)
		return;
	deliver(&H.sd[to], p, len, NULL);
	free(p);
}

/* Run the link and the timers until nothing moves or `rounds` are done;
 * timers only up to `horizon` ahead. */
static void pump(unsigned rounds, uint64_t horizon)
{
	uint64_t end = H.now + horizon;
	for (unsigned i = 0; i < rounds; i++) {
		bool any = false;
		for (int f = 0; f < 2; f++)
			for (int t = 0; t < 2; t++)
				if (H.q[f][t].n) {
					deliver_head(f, t);
					any = true;
				}
		if (any)
			continue;
		uint64_t d0 = hsk_stack_next_deadline(H.sd[0].s);
		uint64_t d1 = hsk_stack_next_deadline(H.sd[1].s);
		uint64_t d = d0 < d1 ? d0 : d1;
		if (d == UINT64_MAX || d > end)
			break;
		if (d > H.now)
			H.now = d;
		advance_both();
	}
}

/* ---- building packets ---- */

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

static void op_segment(side *x, rd *r)
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
static void op_icmp(side *x, rd *r)
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

static void op_echo(side *x, rd *r)
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

static void op_raw(side *x, rd *r)
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

static void op_link(rd *r)
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

static void sd_add(side *x, int sd)
{
	if (sd < 0 || sd >= MAX_SD)
		return;
	x->tx_off[sd] = x->rx_off[sd] = 0;
	for (unsigned i = 0; i < x->nsd; i++)
		if (x->sds[i] == sd)
			return;
	if (x->nsd < MAX_SD)
		x->sds[x->nsd++] = sd;
}

static void sd_del(side *x, int sd)
{
	for (unsigned i = 0; i < x->nsd; i++)
		if (x->sds[i] == sd) {
			x->sds[i] = x->sds[--x->nsd];
			return;
		}
}

static void do_send(side *x, int sd, size_t len)
{
	static uint8_t buf[20000];
	hsk_tuple tu = { 0 };
	bool known = sd >= 0 && sd < MAX_SD && hsk_sock_tuple(x->s, sd, &tu) == 0;
	uint64_t off = known ? x->tx_off[sd] : 0;
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(&tu, off + i);
	long n = hsk_send(x->s, sd, buf, len);
	if (n > (long)len)
		FAIL("%s: send of %zu returned %ld", x->name, len, n);
	if (n > 0 && known)
		x->tx_off[sd] += (uint64_t)n;
}

static void do_recv(side *x, int sd, size_t len)
{
	static uint8_t buf[20000];
	hsk_tuple tu;
	bool known = sd >= 0 && sd < MAX_SD && hsk_sock_tuple(x->s, sd, &tu) == 0;
	long n = hsk_recv(x->s, sd, buf, len);
	if (n > (long)len)
		FAIL("%s: recv of %zu returned %ld", x->name, len, n);
	if (n <= 0 || !known)
		return;
	hsk_tuple snd = { .laddr = tu.raddr, .raddr = tu.laddr, .lport = tu.rport,
			  .rport = tu.lport };
	if (!tainted(&tu) && !(allow & AL_STREAM))
		for (long i = 0; i < n; i++) {
			uint8_t want = pattern(&snd, x->rx_off[sd] + (uint64_t)i);
			if (buf[i] != want)
				FAIL("%s :%u<-:%u: stream byte %llu is %02x, %02x was sent",
				     x->name, tu.lport, tu.rport,
				     (unsigned long long)(x->rx_off[sd] + (uint64_t)i), buf[i],
				     want);
		}
	x->rx_off[sd] += (uint64_t)n;
}

/* sendv: the stream's next bytes, gathered from up to 8 pieces. */
static void do_sendv(side *x, int sd, uint16_t arg, rd *r)
{
	static uint8_t buf[20000];
	hsk_iovec iov[8];
	hsk_tuple tu = { 0 };
	bool known = sd >= 0 && sd < MAX_SD && hsk_sock_tuple(x->s, sd, &tu) == 0;
	uint64_t off = known ? x->tx_off[sd] : 0;
	int cnt = (int)(arg % 9);
	size_t total = 0;
	for (int i = 0; i < cnt; i++) {
		size_t len = u16(r) % 3000;
		if (total + len > sizeof buf)
			len = 0;
		iov[i] = (hsk_iovec){ .base = buf + total, .len = len };
		for (size_t k = 0; k < len; k++)
			buf[total + k] = pattern(&tu, off + total + k);
		total += len;
	}
	long n = hsk_sendv(x->s, sd, (arg & 0x8000) ? NULL : iov, cnt);
	if (n > (long)total)
		FAIL("%s: sendv of %zu returned %ld", x->name, total, n);
	if (n > 0 && known)
		x->tx_off[sd] += (uint64_t)n;
}

/* Bytes read from sd at rx_off: checked against what was sent. */
static void check_read(side *x, int sd, const hsk_tuple *tu, const uint8_t *b, long n)
{
	hsk_tuple snd = { .laddr = tu->raddr, .raddr = tu->laddr, .lport = tu->rport,
			  .rport = tu->lport };
	if (tainted(tu) || (allow & AL_STREAM))
		return;
	for (long i = 0; i < n; i++) {
		uint8_t want = pattern(&snd, x->rx_off[sd] + (uint64_t)i);
		if (b[i] != want)
			FAIL("%s :%u<-:%u: stream byte %llu is %02x, %02x was sent", x->name,
			     tu->lport, tu->rport,
			     (unsigned long long)(x->rx_off[sd] + (uint64_t)i), b[i], want);
	}
}

/* recvv into up to 8 pieces, MSG_PEEK or not (a peek moves nothing: the
 * next read sees the same bytes). */
static void do_recvv(side *x, int sd, uint16_t arg, rd *r)
{
	static uint8_t buf[20000];
	hsk_iovec iov[8];
	hsk_tuple tu;
	bool known = sd >= 0 && sd < MAX_SD && hsk_sock_tuple(x->s, sd, &tu) == 0;
	int cnt = (int)(arg % 9);
	size_t total = 0;
	for (int i = 0; i < cnt; i++) {
		size_t len = u16(r) % 3000;
		if (total + len > sizeof buf)
			len = 0;
		iov[i] = (hsk_iovec){ .base = buf + total, .len = len };
		total += len;
	}
	int flags = (arg & 0x10) ? HSK_MSG_PEEK : (arg & 0x20) ? 0x40 : 0;
	long n = hsk_recvv(x->s, sd, iov, cnt, flags);
	if (n > (long)total)
		FAIL("%s: recvv of %zu returned %ld", x->name, total, n);
	if (n <= 0 || !known)
		return;
	check_read(x, sd, &tu, buf, n);
	if (flags != HSK_MSG_PEEK) {
		x->rx_off[sd] += (uint64_t)n;
		return;
	}
	/* The same bytes again. */
	static uint8_t again[20000];
	long m = hsk_recv(x->s, sd, again, (size_t)n);
	if (m != n || memcmp(again, buf, (size_t)n))
		FAIL("%s: a read after MSG_PEEK of %ld got %ld other bytes", x->name, n, m);
	x->rx_off[sd] += (uint64_t)n;
}

/* Zero copy: borrow and release some of the run, or reserve, fill with
 * the stream's bytes and commit some. */
static void do_zerocopy(side *x, int sd, uint16_t arg, bool send)
{
	hsk_tuple tu = { 0 };
	bool known = sd >= 0 && sd < MAX_SD && hsk_sock_tuple(x->s, sd, &tu) == 0;
	if (!send) {
		const void *data;
		long n = hsk_recv_borrow(x->s, sd, &data);
		size_t take_n = n > 0 ? (size_t)(arg % ((unsigned long)n + 2)) : arg % 4;
		if (n > 0 && known)
			check_read(x, sd, &tu, data, n);
		/* More than the run (it ends where the ring's storage does)
		 * is fine while that much is readable. */
		int rc = hsk_recv_release(x->s, sd, take_n);
		if (rc == 0 && known)
			x->rx_off[sd] += take_n;
		return;
	}
	void *buf;
	long room = hsk_send_reserve(x->s, sd, &buf);
	size_t n = room > 0 ? (size_t)(arg % ((unsigned long)room + 2)) : arg % 4;
	uint64_t off = known ? x->tx_off[sd] : 0;
	for (long i = 0; i < room && (size_t)i < n; i++)
		((uint8_t *)buf)[i] = pattern(&tu, off + (uint64_t)i);
	int rc = hsk_send_commit(x->s, sd, n);
	if (rc == 0 && n && (room <= 0 || n > (size_t)room))
		FAIL("%s: committed %zu of %ld reserved", x->name, n, room);
	if (rc == 0 && known)
		x->tx_off[sd] += n;
}

/* Fast Open from a fresh socket: sendto(MSG_FASTOPEN) from a bound port
 * (so the stream's bytes are known before the tuple exists), or
 * TCP_FASTOPEN_CONNECT, connect and a first send. */
static void do_fastopen(side *x, uint16_t arg, rd *r)
{
	static uint8_t buf[4000];
	static const uint16_t ports[] = { 80, 443, 8080 };
	int sd = hsk_socket(x->s);
	sd_add(x, sd);
	if (sd < 0 || sd >= MAX_SD)
		return;
	uint32_t raddr = (arg & 0x100) ? ADDR_P : other(x)->addr;
	uint16_t rport = ports[arg % 3];
	if (arg & 0x200) {
		hsk_setsockopt(x->s, sd, HSK_TCP_FASTOPEN_CONNECT, 1);
		hsk_connect(x->s, sd, raddr, rport);
		do_send(x, sd, 1 + u16(r) % sizeof buf);
		return;
	}
	uint16_t lport = (uint16_t)(20000 + u16(r) % 2000);
	hsk_tuple tu = { .laddr = x->addr, .raddr = raddr, .lport = lport, .rport = rport };
	size_t len = u16(r) % sizeof buf;
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(&tu, i);
	bool bound = hsk_bind(x->s, sd, 0, lport) == 0;
	long n = hsk_sendto(x->s, sd, buf, len, HSK_MSG_FASTOPEN, raddr, rport);
	if (n > (long)len)
		FAIL("%s: sendto of %zu returned %ld", x->name, len, n);
	hsk_tuple got;
	if (hsk_sock_tuple(x->s, sd, &got) < 0)
		return;
	if (!bound || !tuple_same(&got, &tu))
		taint(&got);
	else if (n > 0)
		x->tx_off[sd] = (uint64_t)n;
}

/* The rarer calls: events, scatter/gather, peek, zero copy, Fast Open,
 * the string option and the Fast Open keys. */
static void op_api(side *x, int sd, unsigned which, uint16_t arg, rd *r)
{
	hsk_event ev[8];
	static const char *const ccs[] = { "cubic", "newreno", "reno", "none", "bbr" };
	char name[16];
	uint8_t key[16], cur[32];
	switch (which) {
	case 0:
		while (hsk_stack_events(x->s, ev, 8) == 8)
			;
		break;
	case 1:
		do_sendv(x, sd, arg, r);
		break;
	case 2:
		do_recvv(x, sd, arg, r);
		break;
	case 3: case 4:
		do_zerocopy(x, sd, arg, which == 4);
		break;
	case 5:
		do_fastopen(x, arg, r);
		break;
	case 6:
		hsk_setsockopt_str(x->s, sd, (arg & 1) ? HSK_TCP_CONGESTION : HSK_SO_NODELAY,
				   ccs[(arg >> 1) % 5]);
		hsk_getsockopt_str(x->s, sd, HSK_TCP_CONGESTION, name, (arg >> 4) % 17);
		break;
	default:
		/* New Fast Open keys (with the old as backup, or none), or a
		 * look at them. */
		if (hsk_fastopen_key_get(x->s, cur) != 16 && hsk_fastopen_key_get(x->s, cur) != 32)
			FAIL("%s: hsk_fastopen_key_get answered neither 16 nor 32", x->name);
		if (arg & 1)
			break;
		take(r, key, 16);
		hsk_fastopen_key_set(x->s, key, (arg & 2) ? cur : NULL);
		break;
	}
}

static void op_socket(side *x, rd *r)
{
	uint8_t c = u8(r), si = u8(r);
	uint16_t arg = u16(r);
	int sd = x->nsd ? x->sds[si % x->nsd] : 0;
	if (c & 0x80)
		sd = (int)(si % 70) - 2;        /* any number, bad ones too */
	if (verbose)
		fprintf(stderr, "           %s call %u sd %d arg %u\n", x->name, c % 16, sd, arg);
	static const uint16_t ports[] = { 0, 80, 443, 8080 };
	uint32_t addrs[] = { other(x)->addr, x->addr, ADDR_P, 0 };
	hsk_tcp_info ti;
	hsk_tuple tu;
	int v;
	switch (c % 16) {
	case 0:
		sd_add(x, hsk_socket(x->s));
		break;
	case 1:
		hsk_bind(x->s, sd, (arg & 0x100) ? x->addr : (arg & 0x200) ? ADDR_P : 0,
			 (arg & 0x400) ? arg : ports[arg & 3]);
		break;
	case 2:
		hsk_listen(x->s, sd, (int)(arg % 6) - 1);
		break;
	case 3:
		hsk_connect(x->s, sd, addrs[arg & 3],
			    (arg & 0x400) ? arg : ports[1 + (arg >> 2) % 3]);
		break;
	case 4:
		v = hsk_accept(x->s, sd, (arg & 1) ? &tu : NULL);
		sd_add(x, v);
		break;
	case 5: case 6:
		do_send(x, sd, 1 + arg % 20000);
		break;
	case 7: case 8:
		do_recv(x, sd, 1 + arg % 20000);
		break;
	case 9:
		hsk_shutdown(x->s, sd, arg % 4);
		break;
	case 10:
	case 11:
		if (c % 16 == 10)
			hsk_close(x->s, sd);
		else
			hsk_abort(x->s, sd);
		sd_del(x, sd);
		break;
	case 12: {
		/* Every option of docs/api.md (and one past the last), with
		 * small, large, negative and any values. */
		uint32_t val = u32(r);
		int vals[] = { 0, 1, (int)(val % 10), (int)(val % 100000), (int)val, -1,
			       (int)(val % 70000) };
		hsk_setsockopt(x->s, sd, arg % (HSK_SO_V6ONLY + 2), vals[(arg >> 5) % 7]);
		break;
	}
	case 13:
		hsk_getsockopt(x->s, sd, arg % (HSK_SO_V6ONLY + 2), &v);
		hsk_poll(x->s, sd);
		hsk_sock_error(x->s, sd);
		hsk_sock_state(x->s, sd);
		hsk_sock_info(x->s, sd, &ti);
		hsk_sock_tuple(x->s, sd, &tu);
		break;
	case 14:
		op_api(x, sd, (c >> 4) & 7, arg, r);
		break;
	default:
		/* A fresh connection to the other side's listeners. */
		v = hsk_socket(x->s);
		sd_add(x, v);
		hsk_connect(x->s, v, other(x)->addr, ports[1 + arg % 3]);
		break;
	}
	step_end(x, NULL, NULL);
}

static void op_time(rd *r)
{
	uint8_t c = u8(r);
	if (c < 100)
		H.now += c * MS;
	else if (c < 200)
		H.now += (c - 100) * 100 * MS;
	else if (c < 250)
		H.now += (c - 200) * 10 * SEC;
	else {
		uint64_t d0 = hsk_stack_next_deadline(H.sd[0].s);
		uint64_t d1 = hsk_stack_next_deadline(H.sd[1].s);
		uint64_t d = d0 < d1 ? d0 : d1;
		if (d != UINT64_MAX && d > H.now)
			H.now = d;
	}
	advance_both();
}

/* ---- set-up and the end ---- */

static hsk_stack *make_stack(side *x, const uint8_t cfgb[4], int idx)
{
	hsk_config c;
	hsk_config_default(&c);
	static const uint16_t mtus[] = { 1500, 1500, 1500, 576, 9000, 1280, 296, 68 };
	static const uint32_t bufs[] = { 4096, 1024, 16384, 65536 };
	static const char *const ccs[] = { "cubic", "newreno", "none" };
	unsigned f = idx ? cfgb[0] >> 3 : cfgb[0];
	c.addr = x->addr;
	c.mtu = mtus[cfgb[1] & 7];
	c.sack = !(f & 1);
	c.timestamps = !(f & 2);
	c.window_scaling = !(f & 4);
	c.congestion_control = ccs[((cfgb[1] >> 3) + (unsigned)idx) % 3];
	c.sndbuf = c.rcvbuf = bufs[(cfgb[2] >> (2 * idx)) & 3];
	if (cfgb[2] & 0x80) {
		c.max_syn_backlog = 1 + (cfgb[2] >> 4 & 7);
		c.syncookies = !(cfgb[0] & 0x40);
		c.abort_on_overflow = cfgb[0] & 0x80;
	}
	if ((cfgb[1] >> 5) == 7) {
		c.isn_fixed = true;     /* every ISN the same, near the wrap */
		c.isn_offset = 0xffffff00u;
	}
	c.seed = (uint64_t)cfgb[3] * 2 + 1 + (unsigned)idx;
	/* Issue 8: ECN asked for (else accepted, the default), Fast Open
	 * at both ends (a listener also needs TCP_FASTOPEN, or every
	 * listener takes it), without cookies, keys rotating every 10 s. */
	uint8_t g = (uint8_t)(cfgb[3] >> (4 * idx));
	if (g & 1)
		c.ecn = 1;
	c.tcp_fastopen = HSK_TFO_CLIENT | HSK_TFO_SERVER;
	if (g & 2)
		c.tcp_fastopen |= HSK_TFO_SERVER_ALL;
	if (g & 4)
		c.tcp_fastopen |= HSK_TFO_CLIENT_NO_COOKIE | HSK_TFO_SERVER_NO_COOKIE;
	if (g & 8)
		c.tcp_fastopen_key_rotate_ns = 10 * SEC;
	c.max_sockets = MAX_SD;
	c.trace = on_trace;
	c.trace_ctx = x;
	x->mtu = c.mtu;
	hsk_link link = { x, on_transmit };
	return hsk_stack_new(&c, &link, H.now);
}

static void leftover(void *ctx, const hsk_conn_info *ci)
{
	fprintf(stderr, "  %s: %s obj %u :%u -> %08x:%u send_q %u recv_q %u\n",
		(const char *)ctx, hsk_state_name(ci->state), ci->obj, ci->tuple.lport,
		ci->tuple.raddr, ci->tuple.rport, ci->send_q, ci->recv_q);
}

struct known {
	side *x;
	bool ok;
};

static void known_walk(void *ctx, const hsk_conn_info *ci)
{
	struct known *k = ctx;
	peek_conn p;
	conn_rec *c = rec_find(k->x, &ci->tuple, false);
	if (!peek_conn_get(k->x->s, &ci->tuple, &p) || p.obj != HSK_OBJ_TCB)
		k->ok = false;
	else if (!((allow & AL_ZWLEAK) && p.snd_wnd == 0) &&
		 !((allow & AL_TINYMSS) && c && c->tiny_mss))
		k->ok = false;
}

/* Every connection left is the signature of a known fault allowed:
 * facing a zero window (fault 2), or a tiny MSS (fault 4). */
static bool only_known_faults_left(side *x)
{
	struct known k = { x, true };
	hsk_stack_conns(x->s, known_walk, &k);
	return k.ok;
}

/* Close everything, let the link finish, cut it, run every timer out:
 * nothing may be left. */
static void finish(void)
{
	for (int i = 0; i < 2; i++) {
		side *x = &H.sd[i];
		while (x->nsd) {
			hsk_close(x->s, x->sds[x->nsd - 1]);
			x->nsd--;
			step_end(x, NULL, NULL);
		}
	}
	pump(3000, 10 * SEC);
	H.cut = true;
	for (int f = 0; f < 2; f++)
		for (int t = 0; t < 2; t++)
			q_clear(&H.q[f][t]);
	uint64_t limit = H.now + 6 * 3600 * SEC;
	for (int k = 0; k < 20000; k++) {
		uint64_t d0 = hsk_stack_next_deadline(H.sd[0].s);
		uint64_t d1 = hsk_stack_next_deadline(H.sd[1].s);
		uint64_t d = d0 < d1 ? d0 : d1;
		if (d == UINT64_MAX || d > limit)
			break;
		if (d > H.now)
			H.now = d;
		advance_both();
	}
	for (int i = 0; i < 2 && !(allow & AL_POOLS); i++) {
		side *x = &H.sd[i];
		hsk_usage u;
		hsk_stack_usage(x->s, &u);
		uint64_t d = hsk_stack_next_deadline(x->s);
		if ((allow & (AL_ZWLEAK | AL_TINYMSS)) && !u.requests && !u.timewaits &&
		    !u.sockets && !u.listeners && only_known_faults_left(x))
			continue;
		if (u.tcbs || u.requests || u.timewaits || u.sockets || u.listeners ||
		    u.buffer_bytes || d != UINT64_MAX) {
			hsk_stack_conns(x->s, leftover, (void *)x->name);
			FAIL("%s: 6 h after closing everything with the link cut: %zu TCBs, "
			     "%zu requests, %zu TIME_WAIT, %zu sockets, %zu listeners, %zu "
			     "buffer bytes, next deadline %s", x->name, u.tcbs, u.requests,
			     u.timewaits, u.sockets, u.listeners, u.buffer_bytes,
			     d == UINT64_MAX ? "none" : "pending");
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (int c = 0; c < C__N; c++) {
		size_t i = 0;
		while (i < hsk_counter_count() && strcmp(hsk_counter_name(i), cnt_names[c]))
			i++;
		if (i == hsk_counter_count()) {
			fprintf(stderr, "fuzz_stack: no counter %s\n", cnt_names[c]);
			abort();
		}
		cnt_idx[c] = i;
	}
	verbose = getenv("HSK_FUZZ_VERBOSE") != NULL;
	const char *a = getenv("HSK_FUZZ_ALLOW");
	static const char *const names[] = { "mtu", "mss", "window", "wndupdate", "peek",
					     "counters", "stream", "pools", "tinymss",
					     "zwleak", "resend" };
	char list[256];
	snprintf(list, sizeof list, ",%s,", a ? a : "");
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
		char name[32];
		snprintf(name, sizeof name, ",%s,", names[i]);
		if (strstr(list, name))
			allow |= 1u << i;
	}
	if (allow)
		fprintf(stderr, "fuzz_stack: HSK_FUZZ_ALLOW=%s: checks %#x off\n", a, allow);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	rd r = { in, n };
	uint8_t cfgb[4];
	take(&r, cfgb, 4);
	memset(&H, 0, sizeof H);
	H.now = 1000 * SEC;
	H.sd[0] = (side){ .name = "A", .addr = ADDR_A, .idx = 0 };
	H.sd[1] = (side){ .name = "B", .addr = ADDR_B, .idx = 1 };
	H.taint_all = (cfgb[1] >> 5) == 7;
	side *A = &H.sd[0], *B = &H.sd[1];
	A->s = make_stack(A, cfgb, 0);
	B->s = make_stack(B, cfgb, 1);
	if (!A->s || !B->s)
		abort();

	/* A listens on 80 and 8080, B on 443 and 8080; each connects once. */
	static const uint16_t lports[2][2] = { { 80, 8080 }, { 443, 8080 } };
	for (int i = 0; i < 2; i++) {
		side *x = &H.sd[i];
		for (int k = 0; k < 2; k++) {
			int sd = hsk_socket(x->s);
			hsk_bind(x->s, sd, 0, lports[i][k]);
			hsk_listen(x->s, sd, 4);
			sd_add(x, sd);
		}
		int sd = hsk_socket(x->s);
		sd_add(x, sd);
		hsk_connect(x->s, sd, other(x)->addr, lports[!i][0]);
		step_end(x, NULL, NULL);
	}

	for (unsigned ops = 0; r.n && ops < MAX_OPS; ops++) {
		uint8_t op = u8(&r);
		side *x = &H.sd[op >> 7];
		if (verbose)
			fprintf(stderr, "%10.3f op %u on %s, %zu bytes left\n",
				(double)H.now / 1e9 - 1000, op % 16, x->name, r.n);
		switch (op % 16) {
		case 0: case 1: case 2:
			op_link(&r);
			break;
		case 3: case 4:
			op_segment(x, &r);
			break;
		case 5:
			op_icmp(x, &r);
			break;
		case 6:
			if (op & 0x40)
				op_echo(x, &r);
			else
				op_raw(x, &r);
			break;
		case 7: case 8: case 9: case 10:
			op_socket(x, &r);
			break;
		case 11:
			op_time(&r);
			break;
		default:
			pump(1 + u8(&r) % 64, 2 * SEC);
			break;
		}
	}
	finish();
	for (int f = 0; f < 2; f++)
		for (int t = 0; t < 2; t++)
			q_clear(&H.q[f][t]);
	hsk_stack_free(A->s);
	hsk_stack_free(B->s);
	return 0;
}
