/*
 * Segment construction and the send path.
 *
 *   tcp_output(tcb) -> tcb_send_seg -> seg_send -> ip_output -> link
 *
 * The send ring holds every byte from SND.UNA (after the SYN) to the last
 * byte written, so retransmission needs no queue of its own: it resends
 * from the ring. SND.MAX is the highest sequence number sent; after a
 * timeout SND.NXT returns to SND.UNA (go-back-N) while SND.MAX remembers how
 * far we had gone.
 */
#include <stddef.h>
#include <string.h>

#include "tcp/pace.h"
#include "tcp/passive.h"
#include "tcp/rec_send.h"
#include "tcp/tcp.h"

/* The least shift that brings rcvbuf within 16 bits, at most 14: its bit
 * length above 16 (no loop: called for every SYN and SYN-ACK). */
uint8_t wscale_for(uint32_t rcvbuf)
{
	if (rcvbuf <= 65535)
		return 0;
	unsigned sh = 16u - (unsigned)__builtin_clz(rcvbuf);
	return (uint8_t)(sh < 14 ? sh : 14);
}

void syn_options(tcp_stack *s, tcp_opts *o, int8_t peer_wscale, uint8_t rcv_wscale,
		 bool synack, bool v6)
{
	o->mss = tcp_our_mss(s, v6);
	o->wscale = -1;
	/* A SYN offers window scaling; a SYN-ACK answers only an offer. */
	if (s->env->cfg.window_scaling && (!synack || peer_wscale >= 0))
		o->wscale = (int8_t)rcv_wscale;
}

/* SACK-permitted and timestamps on a SYN (offer) or SYN-ACK (answer). */
void syn_options_stream(tcp_stack *s, tcp_opts *o, bool sack, bool ts,
			uint32_t ts_offset, uint32_t ts_ecr)
{
	o->sack_ok = sack && s->env->cfg.sack;
	if (ts && s->env->cfg.timestamps) {
		o->has_ts = true;
		o->ts_val = rtt_tsval(&s->rttp, s->env->now, ts_offset);
		o->ts_ecr = ts_ecr;
	}
}

/* A 32-bit header word, stored big-endian and added to the running sum: a
 * word's value is congruent to the sum of its two 16-bit halves modulo
 * 0xffff, so the header is summed from registers as it is written, never
 * read back (and a 64-bit sum of a few words cannot overflow). */
static inline void put32(uint8_t *p, uint32_t v, uint64_t *sum)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t be = __builtin_bswap32(v);
	memcpy(p, &be, 4);
#else
	wr32(p, v);
#endif
	*sum += v;
}

/* Options written and their sum (a 64-bit sum of a few words). */
typedef struct opts_sum {
	uint64_t sum;
	size_t len;
} opts_sum;

/* The option words of a SYN (or of any segment without SACK blocks or
 * Fast Open) at q, summed; returns the end. As tcp_opts_write lays them
 * out: MSS (2, 4) when not 0, timestamps (8, 10) after SACK-permitted
 * (4, 2) or two NOPs, or SACK-permitted alone after two NOPs, window
 * scale (3, 3) after a NOP when not -1. For opts_put_other and syn_fast. */
static inline __attribute__((always_inline)) uint8_t *
opt_words(uint8_t *q, uint16_t mss, bool sack, bool ts, uint32_t ts_val, uint32_t ts_ecr,
	  int wscale, uint64_t *sum)
{
	if (mss) {
		put32(q, (uint32_t)TCPOPT_MSS << 24 | 4 << 16 | mss, sum);
		q += 4;
	}
	if (ts) {
		put32(q, sack ? (uint32_t)TCPOPT_SACK_PERM << 24 | 2 << 16 |
				TCPOPT_TIMESTAMP << 8 | 10
			      : (uint32_t)TCPOPT_NOP << 24 | TCPOPT_NOP << 16 |
				TCPOPT_TIMESTAMP << 8 | 10, sum);
		put32(q + 4, ts_val, sum);
		put32(q + 8, ts_ecr, sum);
		q += 12;
	} else if (sack) {
		put32(q, (uint32_t)TCPOPT_NOP << 24 | TCPOPT_NOP << 16 | TCPOPT_SACK_PERM << 8 | 2,
		      sum);
		q += 4;
	}
	if (wscale >= 0) {
		put32(q, (uint32_t)TCPOPT_NOP << 24 | TCPOPT_WSCALE << 16 | 3 << 8 | (uint8_t)wscale,
		      sum);
		q += 4;
	}
	return q;
}

/* The options of a SYN, SACK blocks, Fast Open: what opts_put does not
 * write itself. Everything but SACK blocks and Fast Open word by word
 * (kind, length), as tcp_opts_write lays them out: MSS (2, 4), timestamps
 * (8, 10) after SACK-permitted (4, 2) or two NOPs, or SACK-permitted
 * alone after two NOPs, window scale (3, 3) after a NOP on a SYN. */
static __attribute__((noinline)) opts_sum opts_put_other(const tcp_opts *op, bool syn,
							  uint8_t *p)
{
	uint64_t sum = 0;
	if (op->nsack || op->has_fo) {
		tcp_opts tmp;
		if (!syn && op->wscale >= 0) {
			tmp = *op;
			tmp.wscale = -1;
			op = &tmp;
		}
		size_t n = tcp_opts_write(op, p);
		return (opts_sum){ csum_partial(p, n, 0), n };
	}
	/* Window scale is a SYN option only (RFC 7323 §2.2). */
	uint8_t *q = opt_words(p, op->mss, op->sack_ok, op->has_ts, op->ts_val, op->ts_ecr,
			       syn ? op->wscale : -1, &sum);
	return (opts_sum){ sum, (size_t)(q - p) };
}

/* Whether the options have the one shape most segments of a connection
 * have: timestamps alone (NOP, NOP, TS) or none. Window scale is a SYN
 * option only (RFC 7323 §2.2). */
static inline bool opts_plain(const tcp_opts *op, bool syn)
{
	return !op->mss && !op->sack_ok && !op->nsack && !op->has_fo &&
	       (!syn || op->wscale < 0);
}

/* The plain timestamps option (NOP, NOP, TS) at p, summed into sum: 12
 * bytes. */
static inline __attribute__((always_inline)) void put_ts_plain(uint8_t *p, uint32_t val,
								uint32_t ecr, uint64_t *sum)
{
	put32(p, (uint32_t)TCPOPT_NOP << 24 | TCPOPT_NOP << 16 | TCPOPT_TIMESTAMP << 8 | 10, sum);
	put32(p + 4, val, sum);
	put32(p + 8, ecr, sum);
}

/* The options as tcp_opts_write would write them: the plain shape
 * (opts_plain, or what the caller knows of it) here, the others by
 * opts_put_other. */
static inline opts_sum opts_put(const tcp_opts *op, bool syn, bool plain, uint8_t *p)
{
	if (!plain)
		return opts_put_other(op, syn, p);
	if (op->has_ts) {
		uint64_t sum = 0;
		put_ts_plain(p, op->ts_val, op->ts_ecr, &sum);
		return (opts_sum){ sum, 12 };
	}
	return (opts_sum){ 0, 0 };
}

/* The TCP header's five words at h: the ports' word (the template's),
 * SEQ, ACK, the data offset (hlen, the header's length) with the flags
 * and the window, and the checksum with the urgent pointer up (0 but with
 * URG) of the segment of n bytes, the pseudo-header's sum from the
 * template and sum that of the options and payload, written already. For
 * seg_put, syn_fast and ack_fast. */
static inline __attribute__((always_inline)) void hdr_words(uint8_t *h, const seg_tpl *tp,
							    uint32_t seq, uint32_t ack,
							    size_t hlen, uint8_t flags,
							    uint16_t win, uint16_t up, size_t n,
							    uint64_t sum)
{
	uint32_t w3 = (uint32_t)(hlen / 4) << 28 | (uint32_t)flags << 16 | win;
	/* as two 64-bit stores (GCC would gather four 32-bit ones in a
	 * vector register, a few instructions more) */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* the ports' word as stored, SEQ big-endian after it */
	uint64_t w0 = (uint64_t)__builtin_bswap32(seq) << 32 | tp->ports;
	memcpy(h, &w0, 8);
#else
	wr64(h, (uint64_t)tp->ports << 32 | seq);
#endif
	wr64(h + 8, (uint64_t)ack << 32 | w3);
	sum += tp->psum + n + seq + ack + w3 + up;
	wr32(h + 16, (uint32_t)(uint16_t)~sum_fold64(sum) << 16 | up);
}

/* The segment of n bytes in the IP layer's buffer (pkt) out by IPv6 (a6)
 * or IPv4 (the template's addresses and their sum); the TOS byte (IP_TOS,
 * ECT) is IPv6's traffic class. */
static inline __attribute__((always_inline)) void seg_ip_out(tcp_stack *s, uint8_t *pkt,
							     const tbl_v6addrs *a6,
							     const seg_tpl *tp, uint8_t tos,
							     size_t n)
{
	if (a6)
		ip6_output_tc(s->ip, pkt, a6->l, a6->r, IP_PROTO_TCP, tos, tp->flow, n);
	else
		ip_output_pre(s->ip, pkt, tp->ip_addrs, tp->ip_sum, IP_PROTO_TCP, tos, n);
}

/* `*o = (seg_out){ .flags, .seq, .ack, .win }` but for the SACK blocks,
 * which are read only below opt.nsack (0 here; rec_fill_blocks writes them
 * with it): a struct initializer zeroes all of its ~100 bytes (a rep stos
 * of 12 words, counted per word under callgrind) on every segment sent.
 * Nor the TOS byte: every segment of a TCB leaves by tcb_put, which sets
 * it. */
static inline void seg_init(seg_out *o, uint8_t flags, hsk_seq seq, hsk_seq ack, uint16_t win)
{
	o->flags = flags;
	o->seq = seq;
	o->ack = ack;
	o->win = win;
	o->data = NULL;
	o->len = 0;
	o->ring_off = 0;
	o->up = 0;
	/* field by field, not a memset: a call on its address would keep o
	 * in memory (tcb_put) */
	o->opt.mss = 0;
	o->opt.wscale = 0;
	o->opt.sack_ok = o->opt.has_ts = o->opt.has_fo = false;
	o->opt.nsack = o->opt.fo_len = 0;
	o->opt.ts_val = o->opt.ts_ecr = 0;
	o->opt.fo_cookie = NULL;
}

/* ring_gather's other cases, out of line: its sum's address taken here,
 * not in the caller's frame (a store on every segment). */
static __attribute__((noinline)) uint32_t ring_gather_other(const hsk_ring *r, uint32_t off,
							    uint8_t *dst, uint32_t n)
{
	uint32_t sum = 0;
	ring_peek_csum(r, off, dst, n, &sum);
	return sum;
}

/* ring_peek_csum's sum of n bytes from ring offset off, copied to dst:
 * the usual case (held, and not across the wrap) is one csum_copy here,
 * without the ring function's frame and its second piece's test. to_end:
 * the caller knows the bytes run to the ring's end (off + n is its
 * length, n > 0: one_way's segment), so that they are held. */
static inline uint32_t ring_gather(const hsk_ring *r, uint32_t off, uint8_t *dst, uint32_t n,
				   bool to_end)
{
	assert(!to_end || (n && off + n == r->len));
	uint32_t pos = (r->head + off) & (r->cap - 1);
	if ((to_end || (off < r->len && n <= r->len - off)) && n <= r->cap - pos)
		return csum_copy(dst, r->buf + pos, n, 0);
	return ring_gather_other(r, off, dst, n);
}

/*
 * One segment into the IP layer's buffer, then out. Written here rather
 * than by wire's tcp_emit, for the send path's sake: the header's words
 * are summed as they are stored, and the payload is summed while it is
 * copied (from the send ring or o->data), so every byte of the segment is
 * touched once. The bytes are exactly tcp_emit's (tests/unit/test_output.c
 * checks them against it). seg_send for the requests, TIME_WAIT and
 * resets; in line in tcb_emit, which sends every segment of a TCB (a
 * frame, seven arguments and their spills less per segment). `plain`: the
 * options have opts_plain's shape (tcb_put knows it without testing).
 * of: the TCB whose segment it is (tcb_put's), or NULL: its addresses and
 * socket are read in the trace's branch only, not loaded (and kept across
 * the copy's and the link's calls) for every segment; tu and sd are the
 * caller's otherwise.
 */
static inline __attribute__((always_inline)) void seg_put(tcp_stack *s, const hsk_tuple *tu,
							  const tbl_v6addrs *a6, const seg_tpl *tp,
							  const seg_out *o, const hsk_ring *ring,
							  int obj, int sd, bool plain, bool to_end,
							  const tcb *of)
{
	size_t hl = a6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	uint8_t *pkt = s->ip->txbuf, *h = pkt + hl;
	opts_sum op = opts_put(&o->opt, o->flags & HSK_TH_SYN, plain, h + TCP_HDR_LEN);
	uint64_t sum = op.sum;
	size_t hlen = TCP_HDR_LEN + op.len;
	size_t n = hlen + o->len;
	if (n > sizeof(s->ip->txbuf) - hl || n > 0xffff)
		return;
	uint32_t pay = 0;
	if (o->len) {
		if (o->data)
			pay = csum_copy(h + hlen, o->data, o->len, 0);
		else
			pay = ring_gather(ring, o->ring_off, h + hlen, o->len, to_end);
	}
	hdr_words(h, tp, o->seq.v, o->ack.v, hlen, o->flags, o->win, o->up, n, sum + pay);
	CNT_INC(s->env, OutSegs);    /* OutRsts: seg_send, tcb_send_rst */
	if (s->env->cfg.trace) {
		if (of) {
			tu = &of->node.key;
			sd = of->sd;
		}
		tcp_hdr th = {
			.sport = tu->lport, .dport = tu->rport,
			.seq = o->seq.v, .ack = o->ack.v,
			.flags = o->flags, .win = o->win, .urp = o->up, .opt = o->opt,
		};
		if (!(o->flags & HSK_TH_SYN))
			th.opt.wscale = -1;
		trace_segment_ev(s, HSK_EV_TX, obj, sd, tu, a6, &th, o->len, NULL);
	}
	seg_ip_out(s, pkt, a6, tp, o->tos, n);
}

void seg_send(tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6,
	      const seg_out *o, const hsk_ring *ring, int obj, int sd)
{
	if (o->flags & HSK_TH_RST)
		CNT_INC(s->env, OutRsts);
	seg_tpl tp;
	seg_tpl_fill(&tp, tu, a6);
	if (a6)
		tp.flow = tcp_flow_label(s, tu, a6);
	seg_put(s, tu, a6, &tp, o, ring, obj, sd, opts_plain(&o->opt, o->flags & HSK_TH_SYN),
		false, NULL);
}

/* seg_put for a pure ACK or a send loop's segment with SACK blocks (not
 * opts_plain's options), out of line, o a copy of the caller's: so that
 * the caller's seg_out never has its address taken and stays in registers
 * (its fields are not stored to the stack and read back). */
static __attribute__((noinline)) void tcb_put_other(tcp_stack *s, tcb *t, const tbl_v6addrs *a6,
						    const seg_tpl *tp, const seg_out *o,
						    const hsk_ring *ring)
{
	seg_put(s, NULL, a6, tp, o, ring, HSK_OBJ_TCB, -1, false, false, t);
}

/* Whether a segment of a TCB with extension a carries SACK blocks (when
 * its flags allow): something to report, a D-SACK, a block, data held out
 * of order (without, the blocks would be none). */
static inline bool blocks_due(const tcb_act *a)
{
	return a->sack_on && (a->sack.rcv.n || a->sack.rcv.dsack || a->ooo.n);
}

/* SACK blocks in o, where they fit beside the payload. */
static inline void put_blocks(tcb *t, seg_out *o)
{
	uint32_t optroom = TCP_MAX_OPT_LEN - (o->opt.has_ts ? 12 : 0);
	uint32_t room = o->len >= t->mss ? 0 : t->mss - o->len;
	rec_fill_blocks(t, &o->opt, room < optroom ? room : optroom);
}

/* A TCB's segment o out: the TOS byte, ECN, the timestamps and SACK blocks
 * every segment of it carries, the ACK's bookkeeping. In line where most
 * segments leave (the pure ACK, the send loop), so that o stays in
 * registers: nothing here takes its address (ECN, SACK blocks and the
 * other options work on a copy); tcb_emit for the others. tsval: the
 * TSval of now when the caller has it (the send loop's segments share
 * one: the clock does not move during a call), or NULL. any: o may be a
 * SYN (without an ACK) or a reset, tcb_emit's; the pure ACK's and the
 * send loop's are ACKs, and neither (their flags are not tested).
 * fresh: send_seg's (the SACK state has just begun: sack_start cleared
 * what there was to report but data held out of order). to_end: o's
 * bytes run to the send ring's end (ring_gather's). */
static inline __attribute__((always_inline)) void tcb_put(tcp_stack *s, tcb *t, tcb_act *a,
							  seg_out *o, const uint32_t *tsval,
							  bool any, bool fresh, bool to_end)
{
	o->tos = t->tos;
	if (t->ecn & ECN_OK) {
		/* ECT, ECE, CWR (ecn.c), on a copy (above) */
		seg_out e = *o;
		ecn_out(t, &e);
		o->tos = e.tos;
		o->flags = e.flags;
	}
	/* SYN, RST and ACK as o has them (ecn_out moves ECE and CWR only) */
	uint8_t ctl = any ? o->flags : HSK_TH_ACK;
	/* RFC 7323 §3.2: once negotiated, every segment carries a timestamp,
	 * a reset too (it SHOULD; Linux does). A SYN builds its own. */
	if ((t->flags & TF_TS_OK) && !(ctl & HSK_TH_SYN)) {
		o->opt.has_ts = true;
		o->opt.ts_val = tsval ? *tsval : rtt_tsval(&s->rttp, s->env->now, t->ts_offset);
		o->opt.ts_ecr = t->ts_recent;
	}
	/* A TCB's options but the SYN's are the timestamps alone or none
	 * (opts_plain: seg_init zeroes the others), or SACK blocks too
	 * (with nothing to report -- no D-SACK, no block, nothing held out
	 * of order -- the blocks would be none). */
	assert(!fresh || (a && a->sack_on && !a->sack.rcv.n && !a->sack.rcv.dsack));
	bool blocks = !(ctl & (HSK_TH_SYN | HSK_TH_RST)) && a &&
		      (fresh ? a->ooo.n != 0 : blocks_due(a));
	bool plain = !(ctl & HSK_TH_SYN) && !blocks;
	/* !plain: o with its options for tcb_put_other, a copy, where o is
	 * to stay in registers; tcb_emit's o is in memory already and goes
	 * to seg_put itself */
	seg_out copy;
	if (!plain && !any)
		copy = *o;
	if (blocks)
		put_blocks(t, any ? o : &copy);
	if (ctl & HSK_TH_ACK) {
		/* Any ACK we send carries everything owed so far. */
		qack_sent(t, (t->flags & TF_ACK_NOW) || (a && a->delack_at));
		t->flags &= ~TF_ACK_NOW;
		if (a) {
			a->delack_at = 0;
			a->unacked_segs = 0;
		}
	}
	/* The extension's template; worked out here without one. */
	const tbl_v6addrs *a6 = obj_a6(s, &t->node);
	seg_tpl tmp;
	if (!a) {
		seg_tpl_fill(&tmp, &t->node.key, a6);
		if (a6)
			tmp.flow = tcp_flow_label(s, &t->node.key, a6);
	}
	const seg_tpl *tp = a ? &a->tpl : &tmp;
	const hsk_ring *ring = a ? &a->snd : NULL;
	if (any)
		seg_put(s, NULL, a6, tp, o, ring, HSK_OBJ_TCB, -1, plain, false, t);
	else if (plain)
		seg_put(s, NULL, a6, tp, o, ring, HSK_OBJ_TCB, -1, true, to_end, t);
	else
		tcb_put_other(s, t, a6, tp, &copy, ring);
}

/* (In urgent mode o's URG and pointer too, urg_out's: retransmissions,
 * probes and, then, send_ack_other's pure ACK; send_urgent_seg does the
 * same for the send loop. tcb_put's usual callers have no urgent pointer
 * to write.) */
static void tcb_emit(tcp_stack *s, tcb *t, seg_out *o)
{
	tcb_act *a = t->act;
	if (a && (a->urg & URG_SND) && !(o->flags & (HSK_TH_SYN | HSK_TH_RST)))
		urg_out(t, a, o);
	tcb_put(s, t, a, o, NULL, true, false, false);
}

/* A SYN's window field: never scaled (RFC 7323 §2.2), so at most 65535.
 * fresh: connect's TCB (output_syn's), whose receive ring has no buffer
 * and holds nothing (asserted there): its space is rcvbuf but under
 * memory pressure (tcb_rcv_space's room, without the call). */
static inline uint16_t syn_window(const tcp_stack *s, const tcb *t, bool fresh)
{
	uint32_t space = fresh && !s->mem_pressure ? t->rcvbuf : tcb_rcv_space(s, t);
	assert(space == tcb_rcv_space(s, t));
	return (uint16_t)(space > 65535 ? 65535 : space);
}

/* Whether syn_words may write our SYN from SYN_SENT: not for what
 * tcb_send_syn does otherwise: a traced stack (its TX event), a Fast Open
 * SYN (tfo_syn_out's options and data), ECN asked (ecn_syn_out's state
 * and flags), and every SYN under tcp_stack.no_fastpath (test_out_one
 * compares the two). */
static inline bool syn_fast_ok(const tcp_stack *s, const tcb *t)
{
	const hsk_config *c = &s->env->cfg;
	return !s->no_fastpath && !c->trace && c->ecn != 1 && !(t->flags & TF_TFO_SYN);
}

/* Our SYN from SYN_SENT, the bytes tcb_send_syn sends (syn_options'
 * and syn_options_stream's options laid out as opts_put_other lays out a
 * SYN's), written as words into the IP layer's buffer and summed as they
 * go: no seg_out filled and read back, no option walk. syn_fast_ok has
 * held. a: t's extension; fresh: output_syn's (syn_window's). */
static inline __attribute__((always_inline)) void syn_words(tcp_stack *s, tcb *t,
							    const tcb_act *a, bool fresh)
{
	const hsk_config *c = &s->env->cfg;
	/* no ECN state to mark the SYN with: only ecn_syn_out sets it in
	 * SYN_SENT, and only with ecn 1 */
	assert(!(t->ecn & ECN_OK));
	const tbl_v6addrs *a6 = obj_a6(s, &t->node);
	uint8_t *pkt = s->ip->txbuf, *h = pkt + (a6 ? IPV6_HDR_LEN : IPV4_HDR_LEN);
	uint8_t *q = h + TCP_HDR_LEN;
	uint64_t sum = 0;
	/* (never 0: an MTU of 68 at least, TCP_MAXSEG's at least 88) */
	uint16_t mss = mss_cap(tcp_our_mss(s, t->node.v6), tcb_user_mss(t));
	assert(mss);
	if (!mss)
		__builtin_unreachable();        /* opt_words' test folds away */
	q = opt_words(q, mss, c->sack, c->timestamps,
		      c->timestamps ? rtt_tsval(&s->rttp, s->env->now, t->ts_offset) : 0, 0,
		      c->window_scaling ? t->rcv_wscale : -1, &sum);
	size_t n = (size_t)(q - h);
	hdr_words(h, &a->tpl, t->iss.v, 0, n, HSK_TH_SYN, syn_window(s, t, fresh), 0, n, sum);
	CNT_INC(s->env, OutSegs);
	seg_ip_out(s, pkt, a6, &a->tpl, t->tos, n);
}

/* syn_words when syn_fast_ok holds; false (nothing done) otherwise: the
 * general way follows. a: t's extension (output_send took it). */
static bool syn_fast(tcp_stack *s, tcb *t, const tcb_act *a)
{
	if (!syn_fast_ok(s, t))
		return false;
	syn_words(s, t, a, false);
	return true;
}

/* Our SYN or SYN-ACK; returns the data it carries (Fast Open, tfo.c). */
static uint32_t tcb_send_syn(tcp_stack *s, tcb *t)
{
	if (t->state == HSK_SYN_SENT && syn_fast(s, t, t->act))
		return 0;
	seg_out o;
	seg_init(&o, 0, t->iss, seq_of(0), 0);    /* the window below */
	uint8_t cookie[8];
	if (t->state == HSK_SYN_SENT) {
		o.flags = HSK_TH_SYN;
		syn_options(s, &o.opt, -1, t->rcv_wscale, false, t->node.v6);
		o.opt.mss = mss_cap(o.opt.mss, tcb_user_mss(t));
		tfo_syn_out(s, t, &o);
		syn_options_stream(s, &o.opt, true, true, t->ts_offset, 0);
		o.win = syn_window(s, t, false);
		ecn_syn_out(s, t, &o);
	} else {
		/* SYN_RECEIVED after a simultaneous open (or closed in it). */
		o.flags = HSK_TH_SYN | HSK_TH_ACK;
		o.ack = t->rcv_nxt;
		syn_options(s, &o.opt, (t->flags & TF_WSCALE) ? 0 : -1, t->rcv_wscale,
			    true, t->node.v6);
		o.opt.mss = mss_cap(o.opt.mss, tcb_user_mss(t));
		syn_options_stream(s, &o.opt, t->flags & TF_SACK_OK,
				   t->flags & TF_TS_OK, t->ts_offset, t->ts_recent);
		tfo_synack_out(s, t, &o, cookie);
		o.win = syn_window(s, t, false);
		ecn_syn_out(s, t, &o);
		/* The SYN,ACK offers a window: segments in it are acceptable
		 * from now on (RCV.WND of the acceptability test). */
		hsk_seq edge = seq_add(t->rcv_nxt, o.win);
		if (seq_gt(edge, t->rcv_adv))
			t->rcv_adv = edge;
	}
	tcb_emit(s, t, &o);
	return o.len;
}

/* The sequence number just past the last byte the user has written: SND.UNA,
 * plus the SYN while it is unacknowledged, plus the bytes in the ring. */
static hsk_seq data_end(const tcb *t)
{
	uint32_t syn = syn_outstanding(t) ? 1 : 0;
	return seq_add(t->snd_una, syn + tcb_snd_len(t));
}

/* Offset in the send ring of sequence number q (q after the SYN). */
static uint32_t ring_off(const tcb *t, hsk_seq q)
{
	hsk_seq first = syn_outstanding(t) ? seq_add(t->snd_una, 1) : t->snd_una;
	return (uint32_t)seq_diff(q, first);
}

/* States in which queued data may still go out (it was written before a
 * close): everything synchronized up to our FIN. */
static bool state_can_send_data(const tcb *t)
{
	switch (t->state) {
	case HSK_ESTABLISHED: case HSK_CLOSE_WAIT: case HSK_FIN_WAIT_1:
	case HSK_CLOSING: case HSK_LAST_ACK:
		return true;
	default:
		return false;
	}
}

/* May we send `len` bytes now, or does Nagle (RFC 896) say wait? As
 * Linux, Minshall's variant: hold a small segment back only while an
 * earlier small segment is unacknowledged, so the short tail of a bulk
 * write does not wait for a delayed ACK. */
static inline __attribute__((always_inline)) bool nagle_allows(const tcb *t, uint32_t len,
								uint32_t avail)
{
	if (len >= t->mss || (t->flags & TF_NODELAY))
		return true;
	/* Data to send means rings, so an extension: snd_sml is its. */
	if (!t->act || !seq_gt(t->act->snd_sml, t->snd_una))
		return true;            /* no small segment unacknowledged */
	/* The last bytes before our FIN go now, and urgent data (as Linux's
	 * tcp_nagle_test). */
	return ((t->flags & TF_FIN_QUEUED) && len == avail) || urg_sending(t, t->act);
}

/* Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a segment the window cuts
 * short goes only if it is at least half the largest window the peer has
 * offered; the persist timer overrides the wait (TF_SWS_OVERRIDE). */
static bool sws_allows(const tcb *t, uint32_t len, uint32_t avail)
{
	if (len >= t->mss || len == avail || (t->flags & TF_SWS_OVERRIDE))
		return true;
	return len >= t->max_snd_wnd / 2;
}

/* Whether the segment of `len` bytes about to go ends this burst: after
 * it, nothing is queued, the windows allow nothing more, or what would
 * come next is a short segment Nagle holds back. Its PSH tells the peer to
 * hand over what it has (RFC 9293 §3.9.1), not only at the end of what the
 * user wrote: a burst cut by cwnd or the peer's window is pushed too. New
 * data only: a retransmission keeps the rule of its first sending. */
static bool burst_ends(const tcb *t, uint32_t len, uint32_t avail, uint32_t usable)
{
	uint32_t left = avail - len, room = usable - len;
	uint32_t next = left < room ? left : room;
	if (next > t->mss)
		next = t->mss;
	if (next == 0)
		return true;
	if (next == t->mss)
		return false;
	/* A short tail goes only where Nagle lets it (this segment is a
	 * full one, so it is not the small segment outstanding). */
	return next != left ||
	       !((t->flags & TF_NODELAY) || !t->act || !seq_gt(t->act->snd_sml, t->snd_una) ||
		 (t->flags & TF_FIN_QUEUED) || urg_sending(t, t->act));
}

/* Whether send_ack's pure ACK may take ack_fast: the extension there
 * (its template), no ECN (ecn_out's ECE), no SACK blocks to send
 * (blocks_due), an untraced stack (the TX event is seg_put's), not
 * tcp_stack.no_fastpath (test_out_one compares the two ways), and no
 * urgent pointer to carry (urg_out). */
static inline bool ack_fast_ok(const tcp_stack *s, const tcb *t, const tcb_act *a)
{
	return a && !(t->ecn & ECN_OK) && !s->no_fastpath && !s->env->cfg.trace && !blocks_due(a) &&
	       !(a->urg & URG_SND);
}

/* The pure ACK as tcb_put and seg_put send it when ack_fast_ok holds:
 * the timestamps or no option, the header's words from the TCB and the
 * extension's template, summed as they are written, and the ACK's
 * bookkeeping (tcb_put's); no seg_out filled and read back, none of
 * tcb_put's tests for what a pure ACK never has (a SYN, a reset, data,
 * options but the timestamps). */
static inline __attribute__((always_inline)) void ack_fast(tcp_stack *s, tcb *t, tcb_act *a,
							   uint16_t win)
{
	const tbl_v6addrs *a6 = obj_a6(s, &t->node);
	uint8_t *pkt = s->ip->txbuf, *h = pkt + (a6 ? IPV6_HDR_LEN : IPV4_HDR_LEN);
	uint64_t sum = 0;
	size_t n = TCP_HDR_LEN;
	if (t->flags & TF_TS_OK) {
		put_ts_plain(h + 20, rtt_tsval(&s->rttp, s->env->now, t->ts_offset), t->ts_recent,
			     &sum);
		n += 12;
	}
	qack_sent(t, (t->flags & TF_ACK_NOW) || a->delack_at);
	t->flags &= ~TF_ACK_NOW;
	a->delack_at = 0;
	a->unacked_segs = 0;
	/* (send_ack_other's SND.MAX) */
	hdr_words(h, &a->tpl, t->snd_max.v, t->rcv_nxt.v, n, HSK_TH_ACK, win, 0, n, sum);
	CNT_INC(s->env, OutSegs);
	seg_ip_out(s, pkt, a6, &a->tpl, t->tos, n);
}

/* The pure ACK by tcb_put, for what ack_fast_ok refuses: out of line, so
 * that its frame (a seg_out, the trace's header) is not the short way's. */
static __attribute__((noinline)) void send_ack_other(tcp_stack *s, tcb *t, uint16_t win)
{
	/* SND.MAX is the RFC's SND.NXT: after a timeout rewinds snd_nxt for
	 * go-back-N, an ACK from the rewound point would look old to the
	 * peer and be dropped. */
	seg_out o;
	seg_init(&o, HSK_TH_ACK, t->snd_max, t->rcv_nxt, win);
	if (t->act && (t->act->urg & URG_SND))
		tcb_emit(s, t, &o);     /* (its urgent pointer) */
	else
		tcb_put(s, t, t->act, &o, NULL, false, false, false);
}

/* tcb_send_ack, in line in tcp_output (three pure ACKs of a lifecycle's
 * ten segments); returns the window field sent. */
static inline __attribute__((always_inline)) uint16_t send_ack(tcp_stack *s, tcb *t)
{
	uint16_t win = tcb_window_field(s, t);
	tcb_act *a = t->act;
	if (ack_fast_ok(s, t, a))
		ack_fast(s, t, a, win);
	else
		send_ack_other(s, t, win);
	return win;
}

/* send_seg's segment of a TCB in urgent mode, out of line: tcb_emit's
 * way with its TSval. Its seg_out made again here from the fields, so
 * that send_seg's stays in registers (neither copied nor its address
 * taken). */
static __attribute__((noinline)) void send_urgent_seg(tcp_stack *s, tcb *t, uint8_t flags,
						      uint16_t win, uint32_t tsval,
						      uint32_t len, uint32_t off)
{
	seg_out o;
	seg_init(&o, flags, t->snd_nxt, t->rcv_nxt, win);
	o.len = len;
	o.ring_off = off;
	urg_out(t, t->act, &o);
	tcb_put(s, t, t->act, &o, &tsval, true, false, false);
}

/* One segment of the send loop (or of output_one), `len` bytes at SND.NXT
 * (ring offset off) and the FIN after them when `fin`: its timing (the
 * SACK record, or the one timed segment), the segment, PRR's count,
 * SND.NXT and SND.MAX. false: no SACK record free, nothing sent. a: t's
 * extension; win and tsval: the window field and TSval of now. fresh:
 * new data or FIN, SACK on and its state not in use (the caller tested
 * it): rec_sent_start's. one: one_send's (all the unsent bytes, new:
 * off + len is the send ring's length, for ring_gather; SND.NXT at
 * SND.MAX, which the segment moves on). */
static inline __attribute__((always_inline)) bool send_seg(tcp_stack *s, tcb *t, tcb_act *a,
							   uint8_t flags, uint16_t win,
							   uint32_t tsval, uint32_t len, bool fin,
							   bool is_new, uint32_t off, bool fresh,
							   bool one)
{
	seg_out o;
	seg_init(&o, flags, t->snd_nxt, t->rcv_nxt, win);
	o.len = len;
	o.ring_off = off;
	assert(!fresh || (is_new && (t->flags & TF_SACK_OK) && !a->sack_on));
	if (!is_new) {
		CNT_INC(s->env, RetransSegs);
		if (a->undo)
			undo_retransmitted(t, t->snd_nxt, len + (fin ? 1 : 0), tsval);
	} else if (fresh) {
		rec_sent_start(s, t, a, t->snd_nxt, len, fin);
	} else if (t->flags & TF_SACK_OK) {
		/* With SACK each new segment has a record, which times it
		 * (RACK): ack_advance takes no sample from ts_flight or the
		 * one timed segment while records are there, and an ACK of
		 * new data always finds them (the SACK state goes only when
		 * nothing is in flight). */
		if (!rec_sent(s, t, a, t->snd_nxt, len, fin))
			return false;
	} else {
		if (seq_eq(t->snd_una, t->snd_max))
			a->ts_flight = tsval;
		if (!(t->flags & TF_RTT_TIMING) && len) {
			t->flags |= TF_RTT_TIMING;
			a->rtt_seq = seq_add(t->snd_nxt, len);
			a->rtt_start = s->env->now;
		}
	}
	if (is_new && len)
		qack_data_sent(s, t, fresh);
	/* (one: one_way's, which urgent mode does not take: one_due_k) */
	assert(!one || !urg_sending(t, a));
	if (!one && __builtin_expect(a->urg & URG_SND, 0))
		send_urgent_seg(s, t, o.flags, win, tsval, len, off);
	else
		tcb_put(s, t, a, &o, &tsval, false, fresh, one);
	/* RFC 6937's prr_out counts every byte sent in recovery, new data
	 * too (rec_send_lost counts the repairs). */
	cc_prr_sent(&a->cc, len);
	if (len < t->mss)
		a->snd_sml = seq_add(t->snd_nxt, len);
	t->snd_nxt = seq_add(t->snd_nxt, len + (fin ? 1 : 0));
	if (fin)
		t->flags |= TF_FIN_SENT;        /* at `end`: SND.MAX - 1 */
	/* (one: one_due's SND.NXT at SND.MAX, and len or the FIN) */
	assert(!one || seq_gt(t->snd_nxt, t->snd_max));
	if (one || seq_gt(t->snd_nxt, t->snd_max))
		t->snd_max = t->snd_nxt;
	return true;
}

/* Our FIN, not sent yet, would be at end (data_end) and the peer's window
 * has no room for its sequence number: it waits, probed by the persist
 * timer (Linux's tcp_snd_wnd_test; RFC 1122 4.2.2.17: the first probe of
 * a zero window an RTO later, not at once). Sent once, it is resent
 * whatever the window, as data (the peer holds its place). */
static inline bool fin_held(const tcb *t, hsk_seq end)
{
	return (t->flags & (TF_FIN_QUEUED | TF_FIN_SENT)) == TF_FIN_QUEUED &&
	       !seq_lt(end, seq_add(t->snd_una, t->snd_wnd));
}

/* end: data_end(t) (tcp_output's). */
static bool send_data_and_fin(tcp_stack *s, tcb *t, hsk_seq end)
{
	bool sent = false;
	/* The window field, computed for the burst's first segment and
	 * reused for the rest: nothing in the loop moves RCV.NXT or fills
	 * the receive ring (link.transmit may not call back into the
	 * stack), and tcb_window_field, once it has moved rcv_adv, answers
	 * the same again (tcp_stack.no_fastpath: every time). */
	int32_t win = -1;
	uint32_t tsval = 0;     /* with win: the TSval of now */
	/* A FIN is due at `end` (the loop moves neither flag). */
	bool fin_due = (t->flags & TF_FIN_QUEUED) && !(t->flags & TF_FIN_ACKED);
	for (;;) {
		uint32_t avail = seq_gt(end, t->snd_nxt) ?
			(uint32_t)seq_diff(end, t->snd_nxt) : 0;
		/* Nothing to send and no FIN due (most calls: after an ACK,
		 * or a segment that only needs ours). */
		if (!avail && !(fin_due && seq_eq(t->snd_nxt, end)))
			break;
		/* The windows limit data; a FIN alone (len 0) only needs
		 * room for itself in the peer's window (cwnd is not asked,
		 * as Linux's tcp_cwnd_test). */
		if (!avail && fin_held(t, end)) {
			tcb_act_get(s, t);      /* for the persist timer */
			break;
		}
		uint32_t len = 0, usable = 0;
		if (avail) {
			hsk_seq right = seq_add(t->snd_una, t->snd_wnd);
			usable = seq_gt(right, t->snd_nxt) ?
				(uint32_t)seq_diff(right, t->snd_nxt) : 0;
			uint32_t room = rec_cwnd_room(t);
			if (room < usable)
				usable = room;
			len = avail < usable ? avail : usable;
			if (len > t->mss)
				len = t->mss;
			if (!len)
				break;  /* the windows allow nothing */
		}
		/* A FIN may follow an unacknowledged SYN,ACK: close() in
		 * SYN_RECEIVED sends it at once (RFC 9293 §3.10.4, as Linux);
		 * tcp_output has (re)sent the SYN before we get here. */
		bool last = len == avail;       /* all that is left */
		bool fin = fin_due && last && !fin_held(t, end);
		/* Nagle and SWS avoidance hold back new data only: bytes sent
		 * once already go again as soon as the window allows (RFC
		 * 6298 §5.4; RFC 1122 §4.2.3.4), or a lost small segment
		 * would wait forever for the ACK of itself. */
		bool is_new = !seq_lt(t->snd_nxt, t->snd_max);
		if (len && is_new && !nagle_allows(t, len, avail))
			break;
		if (len && is_new && !sws_allows(t, len, avail))
			break;
		/* A new segment is timed, recorded and retransmitted from the
		 * extension (a FIN from an idle connection takes one now). */
		tcb_act *a = tcb_act_get(s, t);
		if (!a)
			break;
		/* Paced: the segment's time may not have come (pace.c) */
		if (a->pace_cap && len && pace_hold(s, t))
			break;
		uint8_t flags = HSK_TH_ACK;
		if (len && (last || (is_new && burst_ends(t, len, avail, usable))))
			flags |= HSK_TH_PSH;
		if (fin)
			flags |= HSK_TH_FIN;
		if (win < 0 || s->no_fastpath) {
			win = tcb_window_field(s, t);
			tsval = rtt_tsval(&s->rttp, s->env->now, t->ts_offset);
		}
		if (!send_seg(s, t, a, flags, (uint16_t)win, tsval, len, fin, is_new,
			      ring_off(t, t->snd_nxt), false, false))
			break;          /* no segment record free */
		sent = true;
		if (a->pace_cap && len)
			pace_sent(s, t, len);
		/* All of it sent, with the FIN when one was due: the next
		 * turn would find nothing. */
		if (last)
			break;
	}
	return sent;
}

/* Whether tcp_output may have more than an ACK to send: the SYN (SND.NXT
 * still at the ISS), data past SND.NXT, the FIN at SND.NXT, or repairs of
 * data marked lost. When it has none of them (after most ACKs, and after
 * segments that only need ours) its sending steps would send nothing: the
 * SYN is not due, rec_send_lost finds nothing lost and the loop of
 * send_data_and_fin stops at once (no data, no FIN due). end: data_end(t). */
static inline bool output_due(const tcb *t, hsk_seq end)
{
	if (seq_eq(t->snd_nxt, t->iss))
		return true;
	if (seq_lt(t->snd_nxt, end))
		return true;
	if (seq_eq(t->snd_nxt, end) && (t->flags & TF_FIN_QUEUED) && !(t->flags & TF_FIN_ACKED))
		return true;
	const tcb_act *a = t->act;
	return a && a->sack_on && a->sack.rk.lost_bytes;
}

/* Something is in flight and no RTO is armed for it, or the persist
 * timer runs in its place (something in flight was sent by this TCB, so
 * the extension is there; a passive open's SYN,ACK in flight was its
 * request's: no timer here for it).
 * flight: the caller knows something is in flight and the extension
 * there (output_end after output_one's fresh segment). */
static inline __attribute__((always_inline)) bool rtx_due_k(const tcb *t, bool flight)
{
	const tcb_act *a = t->act;
	assert(!flight || (a && seq_gt(t->snd_max, t->snd_una)));
	return (flight || (a && seq_gt(t->snd_max, t->snd_una))) &&
	       (!a->rtx_at || (t->flags & TF_PERSIST));
}
static inline bool rtx_due(const tcb *t)
{
	return rtx_due_k(t, false);
}

/* The end of a tcp_output call: the ACK owed now when nothing sent
 * carried it, then the timers (the RTO for what is in flight, the
 * persist timer, TLP, and the wheel once, at the earliest of the
 * deadlines). due, sent: output_send's (both false for output_ack's
 * call). end: data_end(t). fresh: output_one's segment began the SACK
 * state (send_seg's fresh; sent and has_act too): what that state and
 * the segment's ACK leave known is not read back (rec_arm_tlp's and
 * tcb_timer_set_k's); records: with fresh, the segment's records (its
 * data and FIN). */
static inline __attribute__((always_inline)) void output_end(tcp_stack *s, tcb *t, hsk_seq end,
							     bool due, bool sent, bool has_act,
							     bool fresh, uint32_t records)
{
	if (!sent && (t->flags & TF_ACK_NOW) && t->state != HSK_SYN_SENT)
		send_ack(s, t);
	tcb_act *a = t->act;
	/* has_act: the caller knows the extension is there (its tests fold
	 * away) */
	assert(a || !has_act);
	if (has_act && !a)
		__builtin_unreachable();
	if (rtx_due_k(t, fresh)) {
		t->flags &= ~TF_PERSIST;
		tcb_set_rtx(s, t, s->env->now);
	} else if (due && a && seq_eq(t->snd_max, t->snd_una) &&
		   (seq_gt(end, t->snd_nxt) || fin_held(t, end)) &&
		   !a->rtx_at && !syn_outstanding(t) && state_can_send_data(t) &&
		   !a->pace_wait_at) {
		/* Data or our FIN waits, nothing in flight: the window is
		 * closed (or too small to use): probe it (RFC 9293 §3.8.6.1).
		 * (Not when pacing holds it: its own timer sends it.) */
		t->flags |= TF_PERSIST;
		tcb_set_rtx(s, t, s->env->now);
	}
	/* (tcb_sack's test, on a: nothing above changes t->act) */
	if (fresh || (sent && a && a->sack_on))
		rec_arm_tlp(s, t, &a->sack, fresh, records);
	tcb_timer_set_k(s, t, fresh, fresh);    /* (not detached: asked on entry) */
}

/* tcp_output's steps for a call with something due (output_due, or
 * tcp_stack.no_fastpath): the SYN, repairs, data and FIN, then
 * output_end. Out of line: the frame of the sending (a segment on the
 * stack, the registers kept across it) is not paid by the calls that
 * only set the wheel. end: data_end(t). */
static __attribute__((noinline)) void output_send(tcp_stack *s, tcb *t, hsk_seq end)
{
	bool sent = false;
	/* (SND.NXT at the ISS first: once the SYN is out, the one test.) */
	if (seq_eq(t->snd_nxt, t->iss) && (t->state == HSK_SYN_SENT || syn_outstanding(t)) &&
	    !(t->flags & TF_TFO_DEFER)) {
		/* The SYN's timer and send time are the extension's. */
		tcb_act *a = tcb_act_get(s, t);
		if (!a)
			return;
		if (seq_gt(t->snd_max, t->iss))
			CNT_INC(s->env, RetransSegs);
		else
			a->rtt_start = s->env->now;
		uint32_t data = tcb_send_syn(s, t);
		t->snd_nxt = seq_add(t->iss, 1 + data);
		if (seq_gt(t->snd_nxt, t->snd_max))
			t->snd_max = t->snd_nxt;
		sent = true;
	}
	if (t->state != HSK_SYN_SENT && t->state != HSK_CLOSED && t->state != HSK_TIME_WAIT) {
		sent |= rec_send_lost(s, t); /* repairs first (RFC 6675 NextSeg) */
		sent |= send_data_and_fin(s, t, end);
	}
	output_end(s, t, end, true, sent, false, false, 0);
}

/* Whether output_one may take a call of tcp_output with something due
 * (output_due): all the unsent bytes within the peer's window and one
 * MSS (or a FIN alone due), new ones (SND.NXT at SND.MAX: not a go-back-N
 * resend), no SYN due and no SYN,ACK unacknowledged (!syn_outstanding;
 * SND.UNA is at the ISS in SYN_SENT too), a state that sends, nothing
 * marked lost (rec_send_lost sends nothing), no urgent pointer to send
 * (the loop's send_seg writes it). In line in tcp_output, the
 * window first: a bulk sender's calls, window-limited, leave at it.
 * end: data_end(t). (SND.NXT past end, after the FIN: more than an MSS.) */
static inline bool one_due_k(const tcb *t, hsk_seq end, bool synced)
{
	const tcb_act *a = t->act;
	/* synced: output_data's caller knows what these test */
	assert(!synced || (a && !syn_outstanding(t) && state_can_send(t->state)));
	return seq_le(end, seq_add(t->snd_una, t->snd_wnd)) && !fin_held(t, end) &&
	       (uint32_t)seq_diff(end, t->snd_nxt) <= t->mss && (synced || a) &&
	       seq_eq(t->snd_nxt, t->snd_max) &&
	       (synced || (!syn_outstanding(t) && t->state != HSK_CLOSED &&
			   t->state != HSK_TIME_WAIT)) &&
	       !(a->sack_on && a->sack.rk.lost_bytes) && !(a->urg & URG_SND);
}
static inline bool one_due(const tcb *t, hsk_seq end)
{
	return one_due_k(t, end, false);
}

/* output_one's segment, then output_end. fresh: SACK on and its state
 * not in use (the first segment after an idle time, as each of a
 * lifecycle's four): the state begins here, and the timers know it. */
static inline __attribute__((always_inline)) void one_send(tcp_stack *s, tcb *t, tcb_act *a,
							   hsk_seq end, uint8_t flags,
							   uint16_t win, uint32_t tsval,
							   uint32_t avail, bool fin, bool fresh)
{
	bool sent = send_seg(s, t, a, flags, win, tsval, avail, fin, true,
			     (uint32_t)seq_diff(t->snd_nxt, t->snd_una), fresh, true);
	output_end(s, t, end, true, fresh || sent, true, fresh, (avail ? 1u : 0) + fin);
}

/* What output_one's caller knows of its segment: nothing more than
 * one_due (tcp_output's), data and no FIN due (output_data's), the FIN
 * alone (output_fin's). */
enum one_how { ONE_ANY, ONE_DATA, ONE_FIN };

/* output_send's usual call, by a short way (one_due holds): one new
 * segment carries all the unsent bytes (within the peer's window and
 * cwnd, Nagle allowing), the FIN after them when one is due, or the FIN
 * alone. What output_send does then: its loop's one turn without its
 * tests, output_end. A window or Nagle holding data back (the loop may
 * split it, or send nothing) and a paced connection go to output_send.
 * end: data_end(t). how:
 * a constant in each copy (output_one, output_data, output_fin), what
 * the caller knows folding the tests of the others away. */
static inline __attribute__((always_inline)) void one_way(tcp_stack *s, tcb *t, hsk_seq end,
							  enum one_how how)
{
	uint32_t avail = how == ONE_FIN ? 0 : (uint32_t)seq_diff(end, t->snd_nxt);
	tcb_act *a = t->act;
	/* one_due's: tcb_put's tests of the extension fold away */
	assert(a);
	if (!a)
		__builtin_unreachable();
	/* Due at end: the loop's test (an acknowledged FIN has SND.NXT past
	 * end, which one_due refuses; without the test GCC's registers cost
	 * 8 more a lifecycle) */
	bool fin = how == ONE_FIN ||
		   (how == ONE_ANY && (t->flags & TF_FIN_QUEUED) && !(t->flags & TF_FIN_ACKED));
	assert(how != ONE_FIN || seq_eq(end, t->snd_nxt));
	assert(how != ONE_DATA || (avail && !(t->flags & TF_FIN_QUEUED)));
	/* output_due: data past SND.NXT or the FIN at it (or SND.NXT at
	 * the ISS: below) */
	uint8_t flags = HSK_TH_ACK | (fin ? HSK_TH_FIN : 0);
	if (avail) {
		/* all of it, or the loop's way (which may split it or hold
		 * it back) */
		if (avail > rec_cwnd_room(t) || !nagle_allows(t, avail, avail) || a->pace_cap) {
			output_send(s, t, end);
			return;
		}
		flags |= HSK_TH_PSH;    /* the last of the burst */
	} else if (!fin) {
		/* SND.NXT at the ISS again after 2^32 bytes, the SYN long
		 * acknowledged: output_due's SYN test let through a call
		 * with nothing due (the loop's way sends nothing, then what
		 * is owed) */
		assert(seq_eq(t->snd_nxt, t->iss) && !syn_outstanding(t));
		output_send(s, t, end);
		return;
	}
	uint16_t win = tcb_window_field_inl(s, t);
	uint32_t tsval = rtt_tsval(&s->rttp, s->env->now, t->ts_offset);
	if ((t->flags & TF_SACK_OK) && !a->sack_on)
		one_send(s, t, a, end, flags, win, tsval, avail, fin, true);
	else
		one_send(s, t, a, end, flags, win, tsval, avail, fin, false);
}

static __attribute__((noinline)) void output_one(tcp_stack *s, tcb *t, hsk_seq end)
{
	one_way(s, t, end, ONE_ANY);
}

/* output_end alone, for the calls with nothing due but an ACK owed now or
 * an RTO to start (three of a lifecycle's twelve: the ACK of a SYN,ACK,
 * of a request, of a FIN): without output_send's steps, their tests and
 * its frame. */
static __attribute__((noinline)) void output_ack(tcp_stack *s, tcb *t, hsk_seq end)
{
	output_end(s, t, end, false, false, false, false, 0);
}

void tcp_output(tcp_stack *s, tcb *t)
{
	if (t->flags & TF_DETACHED)
		return;
	/* The end of the data written: nothing below moves SND.UNA or the
	 * ring's length (sending moves SND.NXT and SND.MAX only). */
	hsk_seq end = data_end(t);
	if (s->no_fastpath)
		output_send(s, t, end);
	else if (output_due(t, end))
		one_due(t, end) ? output_one(s, t, end) : output_send(s, t, end);
	/* Four calls of a lifecycle's twelve (after an ACK, or data whose
	 * ACK may wait) have nothing to do but set the wheel: nothing due,
	 * no ACK owed now, no RTO to start, and no data waiting past SND.NXT
	 * (output_due's second test) for the persist timer. */
	else if ((t->flags & TF_ACK_NOW) || rtx_due(t))
		output_ack(s, t, end);
	else
		tcb_timer_set(s, t);
}

/* tcp_output for connect()'s SYN (hsk_connect, hsk_connect_addr: a TCB
 * just made in SYN_SENT, its extension taken, nothing sent, no Fast Open
 * SYN waiting), by a short way when syn_fast_ok holds: what output_send
 * and output_end do for it -- the SYN's send time, the SYN, SND.NXT and
 * SND.MAX, the RTO (a fresh extension: none armed, no persist, no SACK
 * state for TLP, no delayed ACK), the wheel -- without tcp_output's
 * tests and output_send's frame. Otherwise (a Fast Open SYN, ECN asked,
 * a traced stack, tcp_stack.no_fastpath: test_out_one compares)
 * tcp_output. */
void output_syn(tcp_stack *s, tcb *t)
{
	tcb_act *a = t->act;
	assert(a && t->state == HSK_SYN_SENT && seq_eq(t->snd_una, t->iss) &&
	       seq_eq(t->snd_nxt, t->iss) && seq_eq(t->snd_max, t->iss) &&
	       !(t->flags & (TF_DETACHED | TF_TFO_DEFER | TF_PERSIST)));
	assert(!a->rtx_at && !a->first_rtx_at && !a->sack_on && !a->delack_at);
	/* (syn_window's fresh ring) */
	assert(!a->rcv.buf && !ring_len(&a->rcv));
	if (!syn_fast_ok(s, t)) {
		tcp_output(s, t);
		return;
	}
	uint64_t now = s->env->now;
	a->rtt_start = now;
	syn_words(s, t, a, true);
	t->snd_nxt = t->snd_max = seq_add(t->iss, 1);
	/* (rtt_init's estimator: tcb_new's) */
	assert(!t->rtt.srtt && !t->rtt.backoff && !t->rtt.fallback);
	a->rtx_at = now + rtt_rto_initial(&s->rttp);
	a->first_rtx_at = now;
	tcb_timer_set_k(s, t, true, false);     /* (delack_at 0, asserted) */
}

/* tcp_output for send()'s usual way (send_usual_out: new bytes just
 * written to the send ring of a TCB in ESTABLISHED or CLOSE_WAIT, in the
 * table, no FIN queued, no Fast Open SYN waiting, not
 * tcp_stack.no_fastpath): data is due past SND.NXT (output_due holds) and
 * the SYN is acknowledged, so what is left of tcp_output's choice is
 * one_due's window, MSS, go-back-N and lost tests (one_due_k). */
void output_data(tcp_stack *s, tcb *t)
{
	/* data_end's, the SYN acknowledged and the extension there */
	hsk_seq end = seq_add(t->snd_una, ring_len(&t->act->snd));
	assert(seq_eq(end, data_end(t)));
	assert(t->act && state_can_send(t->state) && !s->no_fastpath &&
	       !(t->flags & (TF_DETACHED | TF_FIN_QUEUED | TF_TFO_DEFER)) &&
	       seq_lt(t->snd_nxt, end));
	if (one_due_k(t, end, true))
		one_way(s, t, end, ONE_DATA);
	else
		output_send(s, t, end);
}

/* tcp_output for close()'s FIN by its usual way (hsk_close's close_usual:
 * ESTABLISHED or CLOSE_WAIT just moved to FIN_WAIT_1 or LAST_ACK with the
 * FIN queued, both rings empty, the extension there, in the table, not
 * tcp_stack.no_fastpath). An empty send ring holds nothing unacknowledged,
 * so SND.UNA, SND.NXT, SND.MAX and the end of the data are one; the SYN is
 * acknowledged: tcp_output would find output_due and one_due holding and
 * take output_one (asserted), called here without its tests. */
void output_fin(tcp_stack *s, tcb *t)
{
	const tcb_act *a = t->act;
	assert(a && !ring_len(&a->snd) && !syn_outstanding(t) && !s->no_fastpath &&
	       (t->state == HSK_FIN_WAIT_1 || t->state == HSK_LAST_ACK) &&
	       (t->flags & (TF_DETACHED | TF_FIN_QUEUED | TF_FIN_SENT)) == TF_FIN_QUEUED &&
	       seq_eq(t->snd_nxt, t->snd_una) && seq_eq(t->snd_max, t->snd_una));
	assert(seq_eq(data_end(t), t->snd_una) && output_due(t, t->snd_una) &&
	       one_due(t, t->snd_una));
	(void)a;
	one_way(s, t, t->snd_una, ONE_FIN);
}

uint16_t tcb_send_ack(tcp_stack *s, tcb *t)
{
	return send_ack(s, t);
}

void tcb_send_probe(tcp_stack *s, tcb *t)
{
	/* SND.UNA - 1 is old to the peer: it answers with an ACK carrying
	 * its current window, and no sequence space is used. */
	seg_out o;
	seg_init(&o, HSK_TH_ACK, seq_add(t->snd_una, (uint32_t)-1), t->rcv_nxt,
		 tcb_window_field(s, t));
	tcb_emit(s, t, &o);
}

void tcb_send_rst(tcp_stack *s, tcb *t)
{
	seg_out o;
	seg_init(&o, HSK_TH_RST | HSK_TH_ACK, t->snd_max, t->rcv_nxt, 0);
	CNT_INC(s->env, OutRsts);
	tcb_emit(s, t, &o);
}

void send_rst_for(tcp_stack *s, const tcp_seg *sg)
{
	if (sg->th.flags & HSK_TH_RST)
		return;         /* never answer a reset with a reset */
	seg_out o = { .flags = HSK_TH_RST };
	if (sg->th.flags & HSK_TH_ACK) {
		o.seq = sg->ack;
	} else {
		o.flags |= HSK_TH_ACK;
		o.seq = seq_of(0);
		o.ack = seq_add(sg->seq, seg_space(sg));
	}
	CNT_INC(s->env, RstSentNoSocket);
	seg_send(s, &sg->tuple, sg->a6, &o, NULL, HSK_OBJ_NONE, -1);
}

uint32_t tcb_resend(tcp_stack *s, tcb *t, hsk_seq seq, uint32_t max_len)
{
	/* A retransmission resends what was sent: never bytes past SND.MAX,
	 * which Nagle or the window may still be holding back. */
	hsk_seq end = data_end(t);
	if (seq_gt(end, t->snd_max))
		end = t->snd_max;
	if (syn_outstanding(t) || !seq_lt(seq, t->snd_max))
		return 0;
	uint32_t avail = seq_gt(end, seq) ? (uint32_t)seq_diff(end, seq) : 0;
	uint32_t len = avail < max_len ? avail : max_len;
	if (len > t->mss)
		len = t->mss;
	/* With RACK the FIN is a record of its own, resent on its own: a data
	 * record carrying it too would put two FINs on the wire. */
	bool own_fin_record = tcb_sack(t) && tcb_sack(t)->seg && len;
	bool fin = (t->flags & TF_FIN_SENT) && !(t->flags & TF_FIN_ACKED) &&
		   len == avail && !own_fin_record;
	if (!len && !fin)
		return 0;
	seg_out o;
	seg_init(&o, HSK_TH_ACK | (fin ? HSK_TH_FIN : 0) | (len == avail && len ? HSK_TH_PSH : 0),
		 seq, t->rcv_nxt, tcb_window_field(s, t));
	o.len = len;
	o.ring_off = ring_off(t, seq);
	/* Karn: a timed segment that is sent again gives no sample. */
	if ((t->flags & TF_RTT_TIMING) && seq_lt(seq, t->act->rtt_seq))
		t->flags &= ~TF_RTT_TIMING;
	CNT_INC(s->env, RetransSegs);
	if (t->act->undo)
		undo_retransmitted(t, seq, len + (fin ? 1 : 0),
				   rtt_tsval(&s->rttp, s->env->now, t->ts_offset));
	tcb_emit(s, t, &o);
	return len;
}

void tcb_retransmit(tcp_stack *s, tcb *t)
{
	/* Go back to the oldest unacknowledged byte; Karn: stop timing. */
	t->snd_nxt = t->snd_una;
	t->flags &= ~TF_RTT_TIMING;
	if (syn_outstanding(t)) {
		tfo_syn_timeout(s, t);
		t->flags |= TF_SYN_RETRANS;
		CNT_INC(s->env, TCPSynRetrans);
	}
	tcp_output(s, t);
}
