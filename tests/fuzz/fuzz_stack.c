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
 *             Fast Open keys (op_api); IPv6 sockets, bound and connected
 *             to v4-mapped addresses, ::, or one no stack has
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
#include "fuzz_stack/harness.h"

unsigned allow;
bool verbose;
struct harness H;

static size_t cnt_idx[16];
enum { C_OUTREQ, C_OUTSEGS, C_OUTRSTS, C_ICMPOUT, C_INRECV, C_ILLEGAL, C_INDELIV,
       C_REASMOK, C_REASMREQ, C_RETRANS, C__N };
static const char *const cnt_names[C__N] = {
	"OutRequests", "OutSegs", "OutRsts", "IcmpOutMsgs", "InReceives",
	"IllegalTransitions", "InDelivers", "ReasmOKs", "ReasmReqds", "RetransSegs",
};

side *other(side *x) { return &H.sd[!x->idx]; }

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

bool tuple_same(const hsk_tuple *a, const hsk_tuple *b)
{
	return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
	       a->rport == b->rport;
}

void taint(const hsk_tuple *t)
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

bool tainted(const hsk_tuple *t)
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
uint8_t pattern(const hsk_tuple *t, uint64_t off)
{
	uint32_t h = t->lport * 31u + t->rport * 7u + (uint32_t)(off >> 8) * 13u;
	return (uint8_t)(off + h);
}

/* ---- connection records ---- */

conn_rec *rec_find(side *x, const hsk_tuple *tu, bool create)
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
		/* A new incarnation of the tuple (forget_gone saw the last
		 * one go, or the ISS moved): start over. Old segments of
		 * the previous one may land in the new one's window, so its
		 * byte stream is not checked. */
		c->have_iss = true;
		c->iss = th->seq;
		c->have_max = c->have_wnd = c->sent_new = false;
		if (++c->incarnations > 1)
			taint(&tu);
	}
	if (syn && (th->flags & HSK_TH_ACK)) {
		peek_conn p;
		c->cookie_synack = !peek_conn_get(x->s, &tu, &p);
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
		if (c->cookie_synack && p.iss != c->iss) {
			/* A cookie SYN-ACK keeps nothing: the ACK of an older
			 * one, still valid, made this TCB with that one's ISS. */
			c->iss = p.iss;
			c->snd_max = p.snd_max;
			c->cookie_synack = false;
			continue;
		}
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

/* A record describes one incarnation of its tuple. Once the stack holds
 * nothing on a tuple it held an object on at an earlier step's end (a
 * close in SYN_SENT, a reset sent or received, a timer, the last ACK),
 * the record is forgotten: a SYN there later is a new incarnation even
 * with the same ISS (RFC 6528's ISN at the same instant, or isn_fixed),
 * and its count of incarnations stays, so it taints. While the object
 * lives the record stays, whatever it sends. */
static void forget_gone(side *x)
{
	peek_conn p;
	for (unsigned i = 0; i < MAX_REC; i++) {
		conn_rec *c = &x->rec[i];
		if (!c->used || !c->have_iss)
			continue;
		if (peek_conn_get(x->s, &c->tu, &p))
			c->held = true;
		else if (c->held)
			c->held = c->have_iss = c->have_max = c->have_wnd = c->sent_new = false;
	}
}

void step_end(side *x, const seginfo *si, const peek_conn *before)
{
	if (before)
		check_window_update(x, si, before);
	check_sent(x);
	forget_gone(x);
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
void parse_seginfo(const uint8_t *pkt, size_t len, seginfo *si)
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
void note_syn_tcp(side *x, uint32_t src, const uint8_t *seg, size_t len)
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
void deliver(side *x, const uint8_t *pkt, size_t len, const seginfo *si)
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

void deliver_head(int from, int to)
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
	} else if (cfgb[2] & 0x10) {
		/* every connection paced: at its window's rate, or at most
		 * 16 or 64 kB/s (a segment every few to ~100 ms) */
		c.pacing_rate = cfgb[2] & 0x20 ? -1 : cfgb[2] & 0x40 ? 16000 : 64000;
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
