/*
 * Listeners: the SYN queue of compact requests and the accept queue of
 * established connections, behind one backlog.
 *
 * Overflow, as Linux does it (and counted the same way):
 *   - accept queue full when a SYN arrives: the SYN is dropped
 *     (ListenOverflows, ListenDrops); the client retransmits it.
 *   - SYN queue full (backlog, capped by max_syn_backlog): with syncookies
 *     (the default) the SYN is answered with a cookie SYN-ACK and nothing is
 *     kept (TCPReqQFullDoCookies, SyncookiesSent; cookie.c); without, the
 *     SYN is dropped (TCPReqQFullDrop, ListenDrops).
 *   - an ACK (no SYN, no RST) reaching the listener itself within
 *     COOKIE_VALID_NS (128 s) of its last cookie is checked as a cookie:
 *     valid, a TCB is built directly in SYN_RECEIVED, traced as the request
 *     LISTEN -> SYN_RECEIVED "rcv ACK with SYN cookie" (SyncookiesRecv);
 *     invalid or expired, RST with seq = SEG.ACK (SyncookiesFailed). With no
 *     recent cookie an ACK is reset without being checked, as before.
 *   - accept queue full when the final ACK arrives: the ACK is dropped and
 *     the request kept (ListenOverflows, ListenDrops), so the SYN-ACK
 *     retransmission makes the client ACK again later; with
 *     abort_on_overflow the request is reset instead. The same when no TCB
 *     is left to make (max_conns; ListenDrops alone), as Linux when its
 *     child cannot be made. A valid cookie ACK meeting a full accept queue
 *     is dropped (or reset with abort_on_overflow) the same way, but
 *     nothing is kept: the client's next segment (its data, or a
 *     retransmission) carries the cookie again.
 * A request lives until the final ACK promotes it to a TCB, or until its
 * SYN-ACK has been retransmitted synack_retries times and one more timeout
 * passes (the half-open lifetime: 63 s with the defaults), or a reset.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/conn.h"
#include "tcp/cookie.h"
#include "tcp/passive.h"
#include "tcp/tcp.h"

/* a is the unspecified address (::): its two halves as words, not its
 * sixteen bytes one at a time (every IPv6 SYN's lookup asks). */
static bool any6(const uint8_t a[16])
{
	uint64_t hi, lo;
	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
	return !(hi | lo);
}

static inline __attribute__((always_inline)) tcp_listener *
find4(tcp_stack *s, uint32_t addr, uint16_t port)
{
	for (tcp_listener *l = s->listeners; l; l = l->next) {
		if (l->port != port)
			continue;
		if (l->family != HSK_AF_INET6 ? (l->addr == 0 || l->addr == addr) :
		    (!l->v6only && any6(l->addr6)))
			return l;
	}
	return NULL;
}

tcp_listener *listener_find(tcp_stack *s, uint32_t addr, uint16_t port)
{
	return find4(s, addr, port);
}

static inline __attribute__((always_inline)) tcp_listener *
find6(tcp_stack *s, const uint8_t a6[16], uint16_t port)
{
	for (tcp_listener *l = s->listeners; l; l = l->next)
		if (l->port == port && l->family == HSK_AF_INET6 &&
		    (any6(l->addr6) || !memcmp(l->addr6, a6, 16)))
			return l;
	return NULL;
}

tcp_listener *listener_find6(tcp_stack *s, const uint8_t a6[16], uint16_t port)
{
	return find6(s, a6, port);
}

/* m is of l's SO_REUSEPORT group: both set it, on the same port and
 * family, bound to the same address (IPv6: and the same v6only). */
static bool same_group(const tcp_listener *m, const tcp_listener *l)
{
	return m->reuseport && m->port == l->port && m->family == l->family &&
	       m->addr == l->addr &&
	       (l->family != HSK_AF_INET6 ||
		(m->v6only == l->v6only && !memcmp(m->addr6, l->addr6, 16)));
}

/* l, or one of its SO_REUSEPORT group picked by h, a keyed hash of the
 * 4-tuple, as Linux's reuseport_select_sock (the same listener for every
 * segment of a connection, SYN cookies' ACKs included). */
static tcp_listener *group_pick(tcp_listener *l, uint64_t h)
{
	unsigned n = 0;

	if (!l || !l->reuseport)
		return l;
	for (tcp_listener *m = l; m; m = m->next)
		n += same_group(m, l);
	uint32_t pick = (uint32_t)(h % n);
	for (tcp_listener *m = l; m; m = m->next)
		if (same_group(m, l) && pick-- == 0)
			return m;
	return l;
}

static inline __attribute__((always_inline)) tcp_listener *
lookup4(tcp_stack *s, const hsk_tuple *tu)
{
	tcp_listener *l = find4(s, tu->laddr, tu->lport);

	if (!l || !l->reuseport)
		return l;
	return group_pick(l, tuple_hash(tu, s->env->key0 ^ 0x72657573u, s->env->key1));
}

tcp_listener *listener_lookup(tcp_stack *s, const hsk_tuple *tu)
{
	return lookup4(s, tu);
}

/* listener_for an IPv6 segment (out of line: its own frame, the IPv4
 * way's none; the lookup in line, a call less). */
static __attribute__((noinline)) tcp_listener *listener_for6(tcp_stack *s, const tcp_seg *sg)
{
	tcp_listener *l = find6(s, sg->a6->l, sg->tuple.lport);
	if (!l || !l->reuseport)
		return l;
	return group_pick(l, tuple_hash6(sg->a6, sg->tuple.lport, sg->tuple.rport,
					 s->env->key0 ^ 0x72657573u, s->env->key1));
}

tcp_listener *listener_for(tcp_stack *s, const tcp_seg *sg)
{
	if (sg->a6)
		return listener_for6(s, sg);
	return lookup4(s, &sg->tuple);  /* (in line: every IPv4 SYN's, a call less) */
}

static uint32_t syn_queue_limit(const tcp_stack *s, const tcp_listener *l)
{
	return l->backlog < s->env->cfg.max_syn_backlog ? l->backlog : s->env->cfg.max_syn_backlog;
}

/* The window of a SYN-ACK: the listener's buffer, at most 65535 (never
 * scaled). A cookie SYN-ACK keeps nothing, so it offers the same whatever
 * the memory. */
static uint16_t req_window(const tcp_listener *l)
{
	return (uint16_t)(l->rcvbuf > 65535 ? 65535 : l->rcvbuf);
}

/* A request's: under memory pressure no more than rcvbuf_min, so that the
 * connection starts with a small window and a small receive ring (what
 * its SYN-ACK offered must fit). Kept in the request. */
static uint16_t req_window_now(const tcp_stack *s, const tcp_listener *l)
{
	uint16_t w = req_window(l);
	if (s->mem_pressure && w > s->env->cfg.rcvbuf_min)
		w = (uint16_t)s->env->cfg.rcvbuf_min;
	return w;
}

/* Our window scale for a listener's connections: the fresh TCB's for
 * the default buffer (no call). */
static inline uint8_t listener_wscale(const tcp_stack *s, const tcp_listener *l)
{
	assert(s->tcb_fresh.rcv_wscale == tcp_rcv_wscale(s, s->tcb_fresh.rcvbuf, 0));
	return l->rcvbuf == s->tcb_fresh.rcvbuf && !l->buf_locks ? s->tcb_fresh.rcv_wscale :
		tcp_rcv_wscale(s, l->rcvbuf, l->buf_locks);
}

/* A SYN-ACK's header at p, behind its options (optlen bytes already at
 * p + TCP_HDR_LEN, their 32-bit words summing to optsum), checksum and
 * urgent pointer included; w0 the ports' word (lport << 16 | rport),
 * psum the pseudo-header's sum without the length (csum_pseudo's or
 * csum_pseudo6's, below 2^18). A 32-bit word is congruent to the sum of
 * its 16-bit halves modulo 0xffff, so the checksum is the fold of the
 * words' sum. Returns the TCP length. For the two SYN-ACKs written
 * without seg_send: a cookie's (syn_cookie_fast) and a request's
 * (synack_fast). */
static inline __attribute__((always_inline)) size_t
synack_head(uint8_t *p, uint32_t psum, uint32_t w0, uint32_t seq, uint32_t ack,
	    uint8_t flags, uint16_t win, size_t optlen, uint64_t optsum)
{
	size_t len = TCP_HDR_LEN + optlen;
	uint32_t w3 = (uint32_t)(len / 4 << 12 | flags) << 16 | win;
	uint64_t sum = (uint64_t)psum + len + w0 + seq + ack + w3 + optsum;
	sum = (sum & 0xffffffffu) + (sum >> 32);
	/* Two 64-bit stores for four words: as four 32-bit ones, gcc
	 * gathered them into a vector register (a movd each, three
	 * shuffles) before one store (ipv4_emit_fields does the same). */
	wr64(p, (uint64_t)w0 << 32 | seq);
	wr64(p + 8, (uint64_t)ack << 32 | w3);
	wr32(p + 16, (uint32_t)csum_fold((uint32_t)(sum & 0xffff) + (uint32_t)(sum >> 16)) << 16);
	return len;
}

/* One option word at *q, summed. */
static inline void opt_word(uint8_t **q, uint32_t w, uint64_t *sum)
{
	wr32(*q, w);
	*q += 4;
	*sum += w;
}

/* An IPv6 SYN-ACK out, with its flow label: a call of its own, so that
 * the label's does not shape IPv4's way (synack_fast, in line). */
static __attribute__((noinline)) void synack_out6(tcp_stack *s, uint8_t *pkt, const hsk_tuple *tu,
						  const tbl_v6addrs *a6, uint8_t tos, size_t len)
{
	ip6_output_tc(s->ip, pkt, a6->l, a6->r, IP_PROTO_TCP, tos, tcp_flow_label(s, tu, a6), len);
}

/* A request's SYN-ACK, the bytes seg_send would send (the options as
 * syn_options and syn_options_stream choose them, laid out as seg_send
 * lays out a SYN's: MSS; SACK-permitted and timestamps, or two NOPs and
 * either; a NOP and the window scale), without a seg_out to fill and
 * read back nor the header template of a flow that sends once: a third
 * of the SYN's cost. Untraced, and without a Fast Open cookie, whose
 * options seg_send writes (false: the caller takes seg_send);
 * tcp_stack.conn_long keeps it off (test_syn_fast compares the two). In
 * line: a call and its frame less per SYN. */
static inline __attribute__((always_inline)) bool synack_fast(tcp_stack *s, const tcp_req *r)
{
	if (s->conn_long || s->env->cfg.trace || r->tfo_cookie)
		return false;
	const tcp_listener *l = r->listener;
	/* (never 0: an MTU of 68 at least, TCP_MAXSEG's at least 88) */
	uint16_t mss = mss_cap(tcp_our_mss(s, r->node.v6), l->user_mss);
	/* The request holds the configuration's say already (req_from_syn):
	 * SACK, timestamps and window scale are its own to test. */
	assert(mss && (!r->sack_ok || s->env->cfg.sack) && (!r->ts_ok || s->env->cfg.timestamps) &&
	       (r->snd_wscale < 0 || s->env->cfg.window_scaling));
	const tbl_v6addrs *a6 = obj_a6(s, &r->node);
	const hsk_tuple *tu = &r->node.key;
	uint8_t *pkt = s->ip->txbuf, *p = pkt + (a6 ? IPV6_HDR_LEN : IPV4_HDR_LEN);
	uint8_t *q = p + TCP_HDR_LEN;
	uint64_t sum = 0;
	opt_word(&q, (uint32_t)TCPOPT_MSS << 24 | 4 << 16 | mss, &sum);
	if (r->ts_ok) {
		opt_word(&q, (r->sack_ok ? (uint32_t)TCPOPT_SACK_PERM << 24 | 2 << 16 :
				     (uint32_t)TCPOPT_NOP << 24 | TCPOPT_NOP << 16) |
				     TCPOPT_TIMESTAMP << 8 | 10, &sum);
		opt_word(&q, rtt_tsval(&s->rttp, s->env->now, r->ts_offset), &sum);
		opt_word(&q, r->ts_recent, &sum);
	} else if (r->sack_ok) {
		opt_word(&q, (uint32_t)TCPOPT_NOP << 24 | TCPOPT_NOP << 16 |
			     TCPOPT_SACK_PERM << 8 | 2, &sum);
	}
	/* a SYN-ACK answers a window scale offered (syn_options) */
	if (r->snd_wscale >= 0)
		opt_word(&q, (uint32_t)TCPOPT_NOP << 24 | TCPOPT_WSCALE << 16 | 3 << 8 |
			     r->rcv_wscale, &sum);
	uint32_t psum = a6 ? csum_pseudo6(a6->l, a6->r, IP_PROTO_TCP, 0) :
			     csum_pseudo(tu->laddr, tu->raddr, IP_PROTO_TCP, 0);
	size_t len = synack_head(p, psum, tuple_ports(tu), r->iss.v, r->irs.v + 1,
				 HSK_TH_SYN | HSK_TH_ACK | (r->ecn_ok ? HSK_TH_ECE : 0),
				 r->rcv_wnd, (size_t)(q - p) - TCP_HDR_LEN, sum);
	CNT_INC(s->env, OutSegs);
	if (a6)
		synack_out6(s, pkt, tu, a6, l->tos, len);
	else
		ip_output_tos(s->ip, pkt, tu->laddr, tu->raddr, IP_PROTO_TCP, l->tos, len);
	return true;
}

/* req_send's general way: a seg_out for seg_send. */
static void req_send_seg(tcp_stack *s, tcp_req *r, uint8_t flags)
{
	/* Zeroed in two pieces of at most 64 bytes, as req_from_syn does
	 * (vector stores, not a rep stosq). */
	seg_out o;
	_Static_assert(sizeof(seg_out) > 64 && sizeof(seg_out) <= 128, "two pieces");
	memset(&o, 0, 64);
	memset((char *)&o + 64, 0, sizeof(o) - 64);
	o.flags = flags;
	o.seq = r->iss;
	o.ack = seq_add(r->irs, 1);
	o.win = r->rcv_wnd;
	o.tos = r->listener->tos;
	if ((flags & HSK_TH_SYN) && r->ecn_ok)
		o.flags |= HSK_TH_ECE;          /* ECN agreed (ecn.c) */
	uint8_t cookie[8];
	if (flags & HSK_TH_SYN) {
		syn_options(s, &o.opt, r->snd_wscale, r->rcv_wscale, true, r->node.v6);
		o.opt.mss = mss_cap(o.opt.mss, r->listener->user_mss);
		syn_options_stream(s, &o.opt, r->sack_ok, r->ts_ok, r->ts_offset,
				   r->ts_recent);
		/* RFC 7413: the cookie the SYN asked for, where it fits */
		if (r->tfo_cookie && tfo_opt_fits(s, &o.opt, r->node.v6, sizeof(cookie))) {
			tfo_cookie_make(s, &r->node.key, obj_a6(s, &r->node), cookie);
			o.opt.has_fo = true;
			o.opt.fo_len = sizeof(cookie);
			o.opt.fo_cookie = cookie;
		}
	} else {
		o.seq = seq_add(r->iss, 1);
		if (r->ts_ok) {
			o.opt.has_ts = true;
			o.opt.ts_val = rtt_tsval(&s->rttp, s->env->now, r->ts_offset);
			o.opt.ts_ecr = r->ts_recent;
		}
	}
	seg_send(s, &r->node.key, obj_a6(s, &r->node), &o, NULL, HSK_OBJ_REQ, -1);
}

void req_send(tcp_stack *s, tcp_req *r, uint8_t flags)
{
	if (flags != (HSK_TH_SYN | HSK_TH_ACK) || !synack_fast(s, r))
		req_send_seg(s, r, flags);
}

/* req_free's steps after the timer and the table: the request leaves
 * its listener's SYN queue. (In line: req_promote's is every passive
 * open's.) traced: cfg.trace, known already on the usual third ACK's
 * way. */
static inline __attribute__((always_inline)) void req_unhook(tcp_stack *s, tcp_req *r,
							      bool traced)
{
	if (r->lprev)
		r->lprev->lnext = r->lnext;
	else
		r->listener->reqs = r->lnext;
	if (r->lnext)
		r->lnext->lprev = r->lprev;
	r->listener->syn_q--;
	if (traced)
		trace_listener(s, r->listener);
}

void req_free(tcp_stack *s, tcp_req *r)
{
	wheel_cancel(&s->env->wheel, &r->timer);
	tbl_remove(&s->conns, &r->node);
	req_unhook(s, r, s->env->cfg.trace);
	tcp_obj_put(s, &r->node);
}

static void drop_seg(tcp_stack *s, int obj, const tcp_seg *sg, const char *why)
{
	trace_segment(s, HSK_EV_DROP, obj, -1, &sg->tuple, sg->a6, &sg->th, sg->len, why);
}

/* While SYNs are answered with cookies, the IP layer hands IPv4 segments
 * to tcp_input4 (which tries syn_cookie_fast on SYNs first), otherwise to
 * tcp_input: a stack under no flood pays nothing for the dedicated path.
 * Armed by a cookie SYN-ACK sent (cookie_syn), disarmed by a SYN that
 * meets a listener not answering with cookies. */
static void syn_fast_arm(tcp_stack *s, bool on)
{
	ip_upper *u = &s->ip->upper;
	if (s->syn_fast_off || u->ctx != s)
		return;
	if (on && u->input == tcp_input)
		u->input = tcp_input4;
	else if (!on && u->input == tcp_input4)
		u->input = tcp_input;
}

/* The SYN queue is full: answer with a cookie and keep nothing. The SYN-ACK
 * offers our MSS; when the SYN has timestamps, also what a request's would
 * (window scale, SACK permitted, timestamps, ECN), the peer's offer kept in
 * the TSval (cookie.c). */
static void cookie_syn(tcp_stack *s, tcp_listener *l, const tcp_seg *sg)
{
	CNT_INC(s->env, TCPReqQFullDoCookies);
	CNT_INC(s->env, SyncookiesSent);
	l->cookies_sent = true;
	l->last_cookie_ns = s->env->now;
	const tcp_opts *so = &sg->th.opt;
	uint32_t ts_offset;
	seg_out o = {
		.flags = HSK_TH_SYN | HSK_TH_ACK,
		.seq = cookie_make_off(s, &sg->tuple, sg->a6, sg->seq, so->mss, &ts_offset),
		.ack = seq_add(sg->seq, 1), .win = req_window(l), .tos = l->tos,
	};
	if (so->has_ts && s->env->cfg.timestamps) {
		int8_t ws = s->env->cfg.window_scaling ? so->wscale : -1;
		bool sack = so->sack_ok && s->env->cfg.sack, ecn = ecn_syn_ok(s, sg);
		o.flags |= ecn ? HSK_TH_ECE : 0;
		syn_options(s, &o.opt, ws, listener_wscale(s, l), true, sg->a6 != NULL);
		o.opt.sack_ok = sack;
		o.opt.has_ts = true;
		o.opt.ts_val = cookie_tsval(rtt_tsval(&s->rttp, s->env->now, ts_offset),
					    cookie_ts_opts(ws, sack, ecn));
		o.opt.ts_ecr = so->ts_val;
	} else {
		syn_options(s, &o.opt, -1, 0, true, sg->a6 != NULL);
	}
	o.opt.mss = mss_cap(o.opt.mss, l->user_mss);
	seg_send(s, &sg->tuple, sg->a6, &o, NULL, HSK_OBJ_LISTEN, l->sd);
	if (!sg->a6)
		syn_fast_arm(s, true);
}

/* syn_cookie_fast's SYN-ACK to the SYN on tu (psum its pseudo-header's
 * sum, irs its sequence number): the MSS alone, or with `full` SACK
 * permitted, timestamps (tsval, tsecr) and window scale ws, as seg_send
 * lays them out and traces them. In line, `full` a constant at each
 * call: the option words and the length fold. */
static inline __attribute__((always_inline)) void
cookie_synack_fast(tcp_stack *s, const tcp_listener *l, const hsk_tuple *tu, uint32_t psum,
		   hsk_seq iss, hsk_seq irs, uint16_t mss, bool full, int8_t ws, uint32_t tsval,
		   uint32_t tsecr)
{
	uint8_t *pkt = s->ip->txbuf, *p = pkt + IPV4_HDR_LEN, *q = p + TCP_HDR_LEN;
	uint64_t sum = 0;
	opt_word(&q, (uint32_t)TCPOPT_MSS << 24 | 4 << 16 | mss, &sum);
	if (full) {
		opt_word(&q, (uint32_t)TCPOPT_SACK_PERM << 24 | 2 << 16 | TCPOPT_TIMESTAMP << 8 | 10,
			 &sum);
		opt_word(&q, tsval, &sum);
		opt_word(&q, tsecr, &sum);
		opt_word(&q, (uint32_t)TCPOPT_NOP << 24 | TCPOPT_WSCALE << 16 | 3 << 8 | (uint8_t)ws,
			 &sum);
	}
	uint32_t ack = irs.v + 1;
	uint16_t win = req_window(l);
	size_t out = synack_head(p, psum, (uint32_t)tu->lport << 16 | tu->rport, iss.v, ack,
				 HSK_TH_SYN | HSK_TH_ACK, win, full ? 20 : 4, sum);
	CNT_INC(s->env, OutSegs);
	if (s->env->cfg.trace) {
		tcp_hdr th = { .sport = tu->lport, .dport = tu->rport, .seq = iss.v, .ack = ack,
			       .flags = HSK_TH_SYN | HSK_TH_ACK, .win = win,
			       .opt = { .mss = mss, .wscale = ws, .sack_ok = full, .has_ts = full,
					.ts_val = tsval, .ts_ecr = tsecr } };
		trace_segment_ev(s, HSK_EV_TX, HSK_OBJ_LISTEN, l->sd, tu, NULL, &th, 0, NULL);
	}
	ip_output_tos(s->ip, pkt, tu->laddr, tu->raddr, IP_PROTO_TCP, l->tos, out);
}

/* ---- A SYN answered with a cookie, on a path of its own ----
 *
 * Under a flood nearly every segment is a SYN that a listener with a full
 * SYN queue answers with a cookie. The general path (tcp_input: a whole
 * tcp_seg and tcp_hdr, seg_arrives, listen_input_isn, cookie_syn, then
 * seg_send: tcp_emit, tcp_opts_write, csum_partial) spends most of its
 * ~1,250 instructions on generality such a SYN does not need. This path
 * first decides, changing nothing, that the general path would reach
 * cookie_syn and do nothing else; then it does what that path does (the
 * same counters, trace events, table lookup, cookie and SYN-ACK bytes)
 * with the checksum summed inline, the options read from the common
 * layouts (none, MSS alone, Linux's), and the SYN-ACK (MSS alone, or with
 * SACK permitted, timestamps and window scale) written as 32-bit words
 * whose sum is its checksum. Any other segment goes to
 * tcp_input untouched, and so does this one on any doubt: a bad
 * checksum, options the general parser must look at or refuses, ECE (a
 * SYN asking for ECN: cookie_syn says ECE and keeps ECN's bit; rare
 * enough that testing for it here would cost every SYN more).
 * tcp_stack.syn_fast_off keeps it off (tests compare the two ways). */
static inline __attribute__((always_inline)) bool
syn_cookie_fast(tcp_stack *s, const ipv4_hdr *ip, const uint8_t *buf, size_t len)
{
	hsk_tuple tu = { .laddr = ip->dst, .raddr = ip->src, .lport = rd16(buf + 2),
			 .rport = rd16(buf) };
	/* The listener first: a SYN that makes a request takes the general
	 * path after only this much. */
	tcp_listener *l = lookup4(s, &tu);
	if (!l || l->syn_q < syn_queue_limit(s, l) || !s->env->cfg.syncookies) {
		/* no flood here (any more): segments go straight to
		 * tcp_input again until the next cookie */
		syn_fast_arm(s, false);
		return false;
	}
	if (l->accept_q >= l->backlog)
		return false;
	size_t doff = (size_t)(buf[12] >> 4) * 4;
	/* the pseudo-header's sum: the SYN-ACK's too (the same addresses) */
	uint32_t psum = csum_pseudo(ip->src, ip->dst, IP_PROTO_TCP, 0);
	if (doff < TCP_HDR_LEN || doff > len || !tcp_sum_ok(buf, len, psum))
		return false;
	int peer_mss = tcp_syn_opts_mss(buf + TCP_HDR_LEN, doff - TCP_HDR_LEN);
	/* Linux's layout (MSS, SACK permitted, timestamps, window scale):
	 * answered here when the stack uses all three; other layouts with
	 * timestamps take the general path (cookie_syn). */
	bool linux_opts = peer_mss > 0 && doff - TCP_HDR_LEN == 20;
	if (linux_opts && !(s->env->cfg.timestamps && s->env->cfg.sack &&
			    s->env->cfg.window_scaling))
		return false;
	if (peer_mss < 0) {
		tcp_opts o;
		if (tcp_opts_parse(buf + TCP_HDR_LEN, doff - TCP_HDR_LEN, &o) != WIRE_OK ||
		    o.has_ts)
			return false;
		peer_mss = o.mss;
	}
	uint16_t mss = mss_cap(tcp_our_mss(s, false), l->user_mss);
	/* The tuple's own object (a request, a connection, TIME_WAIT) takes
	 * the SYN: the general path then finds it again in the table's
	 * cache, so the table sees one lookup either way. */
	if (!mss || tbl_lookup(&s->conns, &tu))
		return false;

	/* From here on, the general path's effects, in its order. */
	hsk_seq irs = seq_of(rd32(buf + 4));
	CNT_INC(s->env, InSegs);
	if (s->env->cfg.trace) {
		tcp_hdr th;
		const uint8_t *data;
		size_t plen;
		if (tcp_parse(buf, len, ip->src, ip->dst, false, &th, &data, &plen) == WIRE_OK)
			trace_segment_ev(s, HSK_EV_RX, HSK_OBJ_LISTEN, l->sd, &tu, NULL, &th,
					 (uint32_t)plen, NULL);
	}
	CNT_INC(s->env, TCPReqQFullDoCookies);
	CNT_INC(s->env, SyncookiesSent);
	l->cookies_sent = true;
	l->last_cookie_ns = s->env->now;
	uint32_t ts_offset;
	hsk_seq iss = cookie_iss_off(s, &tu, NULL, irs, (uint16_t)peer_mss, &ts_offset);
	if (!linux_opts) {
		cookie_synack_fast(s, l, &tu, psum, iss, irs, mss, false, -1, 0, 0);
		return true;
	}
	/* cookie_syn's answer */
	const uint8_t *so = buf + TCP_HDR_LEN;
	cookie_synack_fast(s, l, &tu, psum, iss, irs, mss, true, (int8_t)listener_wscale(s, l),
			   cookie_tsval(rtt_tsval(&s->rttp, s->env->now, ts_offset),
					cookie_ts_opts(so[19], true, false)),
			   rd32(so + 8));
	return true;
}

void tcp_input4(void *ctx, const ipv4_hdr *ip, const uint8_t *buf, size_t len)
{
	tcp_stack *s = ctx;
	if (len >= TCP_HDR_LEN &&
	    (buf[13] & (HSK_TH_SYN | HSK_TH_ACK | HSK_TH_RST | HSK_TH_FIN | HSK_TH_ECE)) ==
	    HSK_TH_SYN &&
	    len < TCP_FUSE_MIN + TCP_HDR_LEN + TCP_MAX_OPT_LEN && syn_cookie_fast(s, ip, buf, len))
		return;
	tcp_input(ctx, ip, buf, len);
}

/* Cookies are checked only while a flood may be on (Linux's
 * tcp_synq_no_recent_overflow): otherwise an ACK to a listener is reset
 * without hashing anything. */
static bool cookie_recent(const tcp_stack *s, const tcp_listener *l)
{
	return s->env->cfg.syncookies && l->cookies_sent &&
	       s->env->now - l->last_cookie_ns <= COOKIE_VALID_NS;
}

static tcp_verdict cookie_ack(tcp_stack *s, tcp_listener *l, const tcp_seg *sg);

/* req_from_syn's body, in line in listen_input_isn (every SYN's). */
static inline __attribute__((always_inline)) void
req_make(tcp_stack *s, tcp_listener *l, const tcp_seg *sg, const hsk_seq *isn, tcp_req *r)
{
	/* Zeroed in two pieces of at most 64 bytes, as tcb_act_new does
	 * (vector stores, not a rep stosq). */
	_Static_assert(sizeof(tcp_req) > 64 && sizeof(tcp_req) <= 128, "two pieces");
	memset(r, 0, 64);
	memset((char *)r + 64, 0, sizeof(*r) - 64);
	r->listener = l;
	/* an IPv6 request from its pool keeps its addresses after it */
	r->node.v6 = sg->a6 != NULL;
	r->node.key = sg->tuple;
	r->node.kind = HSK_OBJ_REQ;
	timer_init(&r->timer);
	r->irs = sg->seq;
	r->iss = isn ? *isn : tcp_isn_inl(s, &sg->tuple, sg->a6);
	r->peer_wnd = sg->th.win;
	r->rcv_wnd = req_window_now(s, l);
	r->mss = sg->th.opt.mss;
	r->snd_wscale = s->env->cfg.window_scaling ? sg->th.opt.wscale : -1;
	/* ours, when the peer offers one */
	r->rcv_wscale = r->snd_wscale < 0 ? 0 : listener_wscale(s, l);
	/* (bools: & without branches) */
	r->sack_ok = sg->th.opt.sack_ok & s->env->cfg.sack;
	r->ts_ok = sg->th.opt.has_ts & s->env->cfg.timestamps;
	r->ts_recent = sg->th.opt.ts_val;
	r->ts_offset = (uint32_t)rng_next(&s->env->rng);
	r->ecn_ok = ecn_syn_ok(s, sg);
}

void req_from_syn(tcp_stack *s, tcp_listener *l, const tcp_seg *sg, const hsk_seq *isn,
		  tcp_req *r)
{
	req_make(s, l, sg, isn, r);
}

/* A listener is no connection object: it traces its own drops and hands
 * reply.c verdicts without a reason. */
static tcp_verdict listen_drop(tcp_stack *s, tcp_listener *l, const tcp_seg *sg,
			       enum tcp_act act, const char *why)
{
	trace_segment(s, HSK_EV_DROP, HSK_OBJ_LISTEN, l->sd, &sg->tuple, sg->a6, &sg->th,
		      sg->len, why);
	return TV(act, NULL);
}

/* listen_input_isn's body, in line in it and in listen_input (every
 * SYN's: isn NULL, so the request's ISN is drawn without a test, and no
 * call from one to the other). */
static inline __attribute__((always_inline)) tcp_verdict
listen_in(tcp_stack *s, tcp_listener *l, const tcp_seg *sg, const hsk_seq *isn)
{
	uint8_t f = sg->th.flags;
	/* Each of these returns but for a SYN without ACK and RST (the
	 * usual segment here): one test for it. */
	if ((f & (HSK_TH_RST | HSK_TH_ACK | HSK_TH_SYN)) != HSK_TH_SYN) {
		if (f & HSK_TH_RST)
			return listen_drop(s, l, sg, TV_DROP, "RST to a listener");
		if ((f & HSK_TH_ACK) && !(f & HSK_TH_SYN) && cookie_recent(s, l))
			return cookie_ack(s, l, sg);
		if (f & HSK_TH_ACK) {
			/* RFC 9293: any ACK is bad in LISTEN; reset with seq =
			 * SEG.ACK. */
			return listen_drop(s, l, sg, TV_RST, "ACK to a listener");
		}
		assert(!(f & HSK_TH_SYN));
		return listen_drop(s, l, sg, TV_DROP, "no SYN to a listener");
	}
	if (l->accept_q >= l->backlog) {
		CNT_INC(s->env, ListenOverflows);
		CNT_INC(s->env, ListenDrops);
		return listen_drop(s, l, sg, TV_DROP, "accept queue full");
	}
	if (l->syn_q >= syn_queue_limit(s, l)) {
		if (s->env->cfg.syncookies) {
			cookie_syn(s, l, sg);
			return TV(TV_DONE, NULL);
		}
		CNT_INC(s->env, TCPReqQFullDrop);
		CNT_INC(s->env, ListenDrops);
		return listen_drop(s, l, sg, TV_DROP, "SYN queue full");
	}
	/* TCP Fast Open (tfo.c): a valid cookie makes a TCB at once, with
	 * the SYN's data; a request for a cookie gets one in the SYN-ACK. */
	bool tfo_cookie = false;
	if (s->env->cfg.tcp_fastopen & HSK_TFO_SERVER) {
		enum tfo_syn_res v = tfo_syn(s, l, sg, isn);
		if (v == TFO_SYN_TAKEN)
			return TV(TV_DONE, NULL);
		tfo_cookie = v == TFO_SYN_COOKIE;
	}
	/* not zeroed: req_make (req_from_syn's body) assigns all of it */
	tcp_req *r = tcp_obj_slot(s, HSK_OBJ_REQ, sg->a6);
	if (!r) {
		CNT_INC(s->env, ListenDrops);
		CNT_INC(s->env, DropNoMemory);
		return listen_drop(s, l, sg, TV_DROP, "no memory for a request");
	}
	req_make(s, l, sg, isn, r);
	r->tfo_cookie = tfo_cookie;
	/* The lookup that found no object for the tuple (tcp_input's, or
	 * tw_input's before its entry went) left the cache holding it, and
	 * nothing since but this tuple's own node (Fast Open's child, made
	 * and freed again) touched the table: no test of the cache. */
	tbl_insert_cached(&s->conns, &r->node);
	r->lnext = l->reqs;
	if (l->reqs)
		l->reqs->lprev = r;
	l->reqs = r;
	l->syn_q++;
	if (s->env->cfg.trace) {        /* (both are nothing untraced: no call) */
		trace_listener(s, l);
		trace_obj_state(s, HSK_OBJ_REQ, &r->node.key, sg->a6, HSK_LISTEN,
				HSK_SYN_RECEIVED, "rcv SYN");
	}
	if (!synack_fast(s, r))         /* req_send's, without its call */
		req_send_seg(s, r, HSK_TH_SYN | HSK_TH_ACK);
	/* (req_make's timer, not armed yet: wheel_arm's test of it folds) */
	assert(!timer_armed(&r->timer));
	if (timer_armed(&r->timer))
		__builtin_unreachable();
	wheel_arm(&s->env->wheel, &r->timer, s->env->now + s->env->cfg.rto_initial_ns);
	return TV(TV_DONE, NULL);
}

tcp_verdict listen_input(tcp_stack *s, tcp_listener *l, const tcp_seg *sg)
{
	return listen_in(s, l, sg, NULL);
}

tcp_verdict listen_input_isn(tcp_stack *s, tcp_listener *l, const tcp_seg *sg,
			     const hsk_seq *isn)
{
	return listen_in(s, l, sg, isn);
}

void req_timer_fire(tcp_stack *s, tcp_req *r, uint64_t now)
{
	/* Linux's syn_ack_recalc: a request whose bare ACK TCP_DEFER_ACCEPT
	 * held lives out the deferral, quietly (no SYN-ACK) but for the last
	 * timeout, whose SYN-ACK draws the ACK that is then accepted. */
	uint8_t defer = r->listener->defer_retrans;
	bool expire = r->retries >= s->env->cfg.synack_retries &&
		      (!r->acked || r->retries >= defer);
	bool resend = !r->acked || r->retries + 1 >= defer;
	if (r->acked && defer && !expire) {
		r->retries++;
		if (resend) {
			CNT_INC(s->env, TCPSynRetrans);
			CNT_INC(s->env, RetransSegs);
			req_send(s, r, HSK_TH_SYN | HSK_TH_ACK);
		}
		uint64_t rto = s->env->cfg.rto_initial_ns << r->retries;
		if (rto > s->env->cfg.rto_max_ns)
			rto = s->env->cfg.rto_max_ns;
		wheel_arm(&s->env->wheel, &r->timer, now + rto);
		return;
	}
	if (expire || r->retries >= s->env->cfg.synack_retries) {
		trace_obj_state(s, HSK_OBJ_REQ, &r->node.key, obj_a6(s, &r->node),
				HSK_SYN_RECEIVED, HSK_CLOSED, "timer SYN-ACK retries exhausted");
		req_free(s, r);
		return;
	}
	r->retries++;
	CNT_INC(s->env, TCPSynRetrans);
	CNT_INC(s->env, RetransSegs);
	req_send(s, r, HSK_TH_SYN | HSK_TH_ACK);
	uint64_t rto = s->env->cfg.rto_initial_ns << r->retries;
	if (rto > s->env->cfg.rto_max_ns)
		rto = s->env->cfg.rto_max_ns;
	wheel_arm(&s->env->wheel, &r->timer, now + rto);
}

static bool req_seq_acceptable(const tcp_req *r, const tcp_seg *sg)
{
	hsk_seq nxt = seq_add(r->irs, 1);
	uint32_t len = seg_space(sg);
	hsk_seq end = seq_add(nxt, r->rcv_wnd);
	if (len == 0)
		return seq_in(sg->seq, nxt, end);
	return seq_in(sg->seq, nxt, end) || seq_in(seq_add(sg->seq, len - 1), nxt, end);
}

/* When a request's first SYN,ACK went out (its timer was armed then for
 * rto_initial), if it was not sent again; 0 when it was, or for the
 * request a SYN cookie or Fast Open describes (no timer): no RTT sample
 * then (Karn; a Fast Open child times its SYN-ACK itself). A SYN,ACK sent
 * at time 0 gives none either, as when this was a field. */
static uint64_t req_synack_at(const tcp_stack *s, const tcp_req *r)
{
	if (r->retries || r->synack_again || !r->timer.deadline)
		return 0;
	return r->timer.deadline - s->env->cfg.rto_initial_ns;
}

/* The accept queue's ring doubled, when full (the only allocation,
 * amortised; false when it cannot). Out of line: listener_room's usual
 * case is a compare. */
static __attribute__((noinline)) bool listener_grow(tcp_listener *l)
{
	uint32_t cap = l->aq_cap ? 2 * l->aq_cap : 8;
	tcb **aq = malloc(cap * sizeof(*aq));
	if (!aq)
		return false;
	for (uint32_t i = 0; i < l->accept_q; i++)
		aq[i] = listener_queued(l, i);
	free(l->aq);
	l->aq = aq;
	l->aq_cap = cap;
	l->aq_first = 0;
	return true;
}

/* Room for one more on the accept queue. */
static inline bool listener_room(tcp_listener *l)
{
	return l->accept_q < l->aq_cap || listener_grow(l);
}

/* The third ACK a passive child's making takes in (listener_child_at's
 * ack; req_promote asks, for req_third_ack's: at RCV.NXT, untraced, as
 * the transition's event is tcb_established()'s, with the TCB as it is
 * then): the pure ACK tcb_input_synrcvd_ack's short way takes (no text,
 * no FIN, no ECE) to a child without an extension (of what would take
 * one at the making, only TCP_MAXSEG can), and without
 * tcp_stack.no_fastpath (test_fast_handshake compares). */
static inline bool child_takes_ack(const tcp_stack *s, const tcp_listener *l,
				   const tcp_seg *sg)
{
	/* (one test of the four: none may be set) */
	return !(sg->len | (sg->th.flags & (HSK_TH_FIN | HSK_TH_ECE)) | l->user_mss |
		 s->no_fastpath);
}

/* The third ACK taken in by the child's making, once TS.Recent, the
 * MSS and the shifts are the request's: what tcb_input_synrcvd_ack's
 * short way and tcb_established() would do to the SYN_RECEIVED child, the
 * fields written once. The state, SND.UNA (ISS + 1, the ACK's) and
 * TF_ECN_ISS (tcb_established()'s for an ECN child: SND.UNA is the ISS
 * then) are the making's. RTO backoff: none (fresh, or cleared by the
 * SYN-ACK's sample); neither TF_SYN_RETRANS nor TF_TFO_PENDING. */
static inline __attribute__((always_inline)) void
child_ack_in(tcp_stack *s, tcb *t, const tcp_req *r, const tcp_seg *ack)
{
	assert(!t->act && !t->rtt.backoff && !timer_armed(&t->timer) &&
	       seq_eq(ack->ack, t->snd_una) && !(t->flags & (TF_SYN_RETRANS | TF_TFO_PENDING)));
	/* ts_update: TS.Recent was taken now (the 24 days of PAWS idling
	 * cannot have passed), and the ACK is at RCV.NXT (req_third_ack's),
	 * so only the TSval's age says */
	assert(!(t->flags & TF_TS_OK) || t->ts_recent_ms == s->env->now_ms);
	assert(seq_eq(ack->seq, t->rcv_nxt));
	const tcp_opts *o = &ack->th.opt;
	if ((t->flags & TF_TS_OK) && o->has_ts && (int32_t)(o->ts_val - t->ts_recent) >= 0)
		t->ts_recent = o->ts_val;
	/* the window (take_window's, as the short way's) */
	uint32_t wnd = (uint32_t)ack->th.win << t->snd_wscale;
	t->snd_wnd = wnd;
	t->max_snd_wnd = wnd > r->peer_wnd ? wnd : r->peer_wnd;
	t->snd_wl1 = ack->seq;
	t->snd_wl2 = ack->ack;
	t->cwnd = tcb_cwnd_fresh(s, t, t->mss);        /* tcb_cc_init's: IW10 */
	/* passive, its keepalive unarmed (tcb_fresh's 0) */
	established_start_k(s, t, true, true);
	/* tcb_timer_set without an extension: keepalive's, if any (set
	 * just now, with TF_KEEPALIVE alone: the flag's test first) */
	if ((t->flags & TF_KEEPALIVE) && t->keep_at)
		wheel_arm(&s->env->wheel, &t->timer, t->keep_at);
}

/* listener_child; prev not NULL: the request itself (r is prev), out of
 * its queue but still in the table, which the TCB replaces there (or
 * which leaves it when there is none); its slot goes back to the pool
 * once the TCB has read it. ack not NULL: the third ACK child_takes_ack
 * lets the making take in (the child is made ESTABLISHED). In line (in
 * handshake_complete, itself in line in req_promote): every passive
 * open's third ACK makes one. lng, traced: tcp_stack.conn_long and
 * cfg.trace (req_promote's). */
static inline __attribute__((always_inline)) tcb *
listener_child_at(tcp_stack *s, tcp_listener *l, const tcp_req *r, const tbl_v6addrs *a6,
		  tcp_req *prev, const tcp_seg *ack, bool lng, bool traced)
{
	/* TCP_MAXSEG's: none when the making takes the ACK (child_takes_ack) */
	assert(!ack || !l->user_mss);
	uint16_t user_mss = ack ? 0 : l->user_mss;
	tcb *t = listener_room(l) ?
		 tcb_new_lng(s, &r->node.key, a6, prev ? &prev->node : NULL, lng, true) : NULL;
	if (!t) {
		if (prev) {
			tbl_remove(&s->conns, &prev->node);
			tcp_obj_put(s, &prev->node);
		}
		return NULL;
	}
	/* (state and ecn share a byte: one store) */
	t->state = ack ? HSK_ESTABLISHED : HSK_SYN_RECEIVED;
	t->ecn = r->ecn_ok ? ECN_OK : 0;
	/* tcb_established(): ECN's reductions count from the ISS (ecn.c).
	 * The making that takes the ACK cannot fail from here on (no
	 * extension to take: user_mss 0), nor reads TF_ON_ACCEPTQ: the
	 * accept queue's flag goes with the others, one store. */
	t->flags |= TF_PASSIVE | (ack ? TF_ON_ACCEPTQ : 0) | (ack && r->ecn_ok ? TF_ECN_ISS : 0) |
		    (l->flags & (TF_NODELAY | TF_KEEPALIVE | TF_LINGER0 | TF_REUSEADDR));
	if (l->cc)      /* tcb_established() (or Fast Open) starts it with these */
		t->cc_id = cc_index(l->cc) & 3;
	t->sndbuf = l->sndbuf;
	t->rcvbuf = l->rcvbuf;
	if (l->buf_locks)       /* (the fresh TCB's estimator holds none) */
		tcb_set_buf_locks(t, l->buf_locks);
	t->tos = l->tos;
	t->iss = r->iss;
	t->snd_nxt = t->snd_max = seq_add(t->iss, 1);
	t->snd_una = ack ? t->snd_max : t->iss;        /* the ACK's: ISS + 1 */
	t->syn_acked = ack != NULL;
	/* Options that live in the extension take one (it stays), made
	 * once SND.UNA is set (its recover and snd_sml start there) and
	 * before the MSS is (TCP_MAXSEG caps it). */
	if (user_mss) {
		tcb_act *a = tcb_act_get(s, t);
		if (!a) {
			tcb_free(s, t);
			if (prev)
				tcp_obj_put(s, &prev->node);
			return NULL;
		}
		a->user_mss = user_mss;
	}
	t->rcv_nxt = seq_add(r->irs, 1);
	t->rcv_adv = seq_add(t->rcv_nxt, r->rcv_wnd);
	/* Our shift: the request's (0 when the peer offered none, req_make's
	 * and a cookie's). */
	assert(r->snd_wscale >= 0 || r->rcv_wscale == 0);
	tcb_init_from_syn_um(s, t, r->mss, r->snd_wscale,
			     (r->sack_ok ? TF_SACK_OK : 0) | (r->ts_ok ? TF_TS_OK : 0), r->ts_recent,
			     user_mss, r->rcv_wscale);
	t->ts_offset = r->ts_offset;
	/* The SYN-ACK's round trip, unless it was sent again (Karn). */
	uint64_t synack_at = req_synack_at(s, r);
	/* (a fresh TCB's estimator has no sample yet, rtt_init's: the
	 * first sample's branches alone) */
	assert(!t->rtt.srtt && !t->rtt.min_rtt);
	if (t->rtt.srtt || t->rtt.min_rtt)
		__builtin_unreachable();
	if (synack_at)
		rtt_add_sample(&t->rtt, &s->rttp, s->env->now - synack_at, false, s->env->now);
	if (ack) {
		child_ack_in(s, t, r, ack);
	} else {
		t->snd_wnd = t->max_snd_wnd = r->peer_wnd;
		t->snd_wl1 = r->irs;
		t->snd_wl2 = r->iss;
	}
	if (prev) {     /* r's last use (a request's slot: its pool known) */
		assert(prev->node.kind == HSK_OBJ_REQ);
		pool_put(tcp_obj_pool(s, HSK_OBJ_REQ, prev->node.v6), prev);
	}
	if (!ack)
		t->flags |= TF_ON_ACCEPTQ;
	l->aq[(l->aq_first + l->accept_q) & (l->aq_cap - 1)] = t;
	l->accept_q++;
	if (traced)
		trace_listener(s, l);
	tcp_notify(s, l->sd);
	return t;
}

tcb *listener_child(tcp_stack *s, tcp_listener *l, const tcp_req *r, const tbl_v6addrs *a6)
{
	return listener_child_at(s, l, r, a6, NULL, NULL, s->conn_long, s->env->cfg.trace);
}

/* The handshake is complete: a TCB in SYN_RECEIVED (its transition was
 * already traced) from what the request remembered, on the accept queue;
 * the usual input steps then move it to ESTABLISHED and take any data.
 * `r` is a copy (of a freed request, or one a SYN cookie described), or
 * the request prev itself. In line in its callers (req_promote's is every
 * passive open's): a frame less. */
static inline __attribute__((always_inline)) tcp_verdict
handshake_complete(tcp_stack *s, tcp_listener *l, const tcp_req *r, const tcp_seg *sg,
		   tcp_req *prev, bool take, bool lng, bool traced)
{
	/* The segment's addresses are the request's (a copy has none). */
	tcb *t = listener_child_at(s, l, r, sg->a6, prev, take ? sg : NULL, lng, traced);
	if (!t) {
		CNT_INC(s->env, ListenDrops);
		drop_seg(s, HSK_OBJ_REQ, sg, "no memory for a connection");
		return TV(TV_DONE, NULL);
	}
	if (take)               /* the making took the ACK in */
		return TV(TV_DONE, NULL);
	/* The rest of the segment is the TCB's: so is any reply to it. */
	tcp_verdict v = tcb_input_synrcvd_ack(s, t, sg);
	tcp_reply_owed(s, &t->node, sg, v);
	if (v.act != TV_DONE)           /* TV_DONE: t may be gone */
		tcb_act_put_idle(s, t);
	return TV(TV_DONE, NULL);
}

/* fast: the segment is req_third_ack's (conn_long and cfg.trace off,
 * at RCV.NXT): a constant, so that their tests fold. */
static inline __attribute__((always_inline)) tcp_verdict
req_promote(tcp_stack *s, tcp_req *r, const tcp_seg *sg, bool fast)
{
	bool lng = !fast && s->conn_long, traced = !fast && s->env->cfg.trace;
	tcp_listener *l = r->listener;
	/* The TCB takes over the tuple, and the request's place in the
	 * table (tbl_replace: as freeing it first, then inserting); the
	 * request's slot goes back once the TCB has read it. */
	if (lng) {              /* the long way (tests compare) */
		tcp_req copy = *r;
		req_free(s, r);
		return handshake_complete(s, l, &copy, sg, NULL, false, true, traced);
	}
	wheel_cancel(&s->env->wheel, &r->timer);
	req_unhook(s, r, traced);
	if (fast && child_takes_ack(s, l, sg))  /* the usual third ACK: one making */
		return handshake_complete(s, l, r, sg, r, true, false, false);
	return handshake_complete(s, l, r, sg, r, false, false, traced);
}

/* The options a cookie connection has, from the ACK's echo of the cookie
 * SYN-ACK's TSval (cookie.c; Linux's cookie_timestamp_decode): false when
 * the echo asks for what the stack does not do (turned off since the
 * SYN-ACK, or a forged echo). Without timestamps the ACK brings none of
 * them, whatever the SYN-ACK offered; nor does an echo that is not of
 * this connection's clock during the cookie's life: then our SYN-ACK
 * had no timestamps (the SYN had none), and RFC 7323 §3.2 has the option
 * ignored. (Linux decodes any echo; its low bits then make up options.) */
static bool cookie_options(const tcp_stack *s, const tcp_listener *l, const tcp_seg *sg,
			   uint32_t ts_offset, tcp_req *c)
{
	const tcp_opts *o = &sg->th.opt;
	const hsk_config *cfg = &s->env->cfg;
	if (!o->has_ts)
		return true;
	uint32_t age = rtt_tsval(&s->rttp, s->env->now, ts_offset) - o->ts_ecr;
	if (age > COOKIE_VALID_NS / s->rttp.ts_tick + COOKIE_TS_MASK)
		return true;
	uint32_t bits = o->ts_ecr & COOKIE_TS_MASK, ws = bits & COOKIE_TS_WSCALE;
	if (!cfg->timestamps || ((bits & COOKIE_TS_SACK) && !cfg->sack) ||
	    ((bits & COOKIE_TS_ECN) && !cfg->ecn) ||
	    (ws != COOKIE_TS_NO_WSCALE && !cfg->window_scaling))
		return false;
	c->ts_ok = true;
	c->ts_recent = o->ts_val;
	c->ts_offset = ts_offset;
	c->sack_ok = bits & COOKIE_TS_SACK;
	c->ecn_ok = bits & COOKIE_TS_ECN;
	if (ws != COOKIE_TS_NO_WSCALE) {
		c->snd_wscale = (int8_t)ws;
		c->rcv_wscale = listener_wscale(s, l);
	}
	return true;
}

/* An ACK reached the listener during a flood: it may complete a cookie
 * handshake. Valid: a TCB straight away (the options its echo keeps, the
 * ACK's window); not: the usual reset with seq = SEG.ACK. */
static tcp_verdict cookie_ack(tcp_stack *s, tcp_listener *l, const tcp_seg *sg)
{
	hsk_seq iss = seq_add(sg->ack, (uint32_t)-1);
	hsk_seq irs = seq_add(sg->seq, (uint32_t)-1);
	uint32_t ts_offset = 0;
	uint16_t mss = cookie_check_off(s, &sg->tuple, sg->a6, iss, irs, &ts_offset);
	tcp_req c = { .node.key = sg->tuple, .iss = iss, .irs = irs, .mss = mss,
		      .snd_wscale = -1, .peer_wnd = sg->th.win,
		      .rcv_wnd = req_window(l) };
	if (!mss || !cookie_options(s, l, sg, ts_offset, &c)) {
		CNT_INC(s->env, SyncookiesFailed);
		return listen_drop(s, l, sg, TV_RST, "ACK to a listener: bad SYN cookie");
	}
	CNT_INC(s->env, SyncookiesRecv);
	if (l->accept_q >= l->backlog) {
		/* As for a request, but there is nothing to keep: without
		 * abort_on_overflow the client's next segment tries again. */
		CNT_INC(s->env, ListenOverflows);
		CNT_INC(s->env, ListenDrops);
		if (s->env->cfg.abort_on_overflow)
			return listen_drop(s, l, sg, TV_RST, "accept queue full: reset");
		return listen_drop(s, l, sg, TV_DROP, "accept queue full");
	}
	trace_obj_state(s, HSK_OBJ_REQ, &sg->tuple, sg->a6, HSK_LISTEN, HSK_SYN_RECEIVED,
			"rcv ACK with SYN cookie");
	return handshake_complete(s, l, &c, sg, NULL, false, s->conn_long, s->env->cfg.trace);
}

/* req_input's checks before the handshake completes, for any segment but
 * the usual third ACK: true, with the verdict in *v, when one stops it. */
static bool req_refuse(tcp_stack *s, tcp_req *r, const tcp_seg *sg, tcp_verdict *v)
{
	uint8_t f = sg->th.flags;
	if ((f & HSK_TH_SYN) && !(f & HSK_TH_ACK) && seq_eq(sg->seq, r->irs)) {
		/* The client did not hear our SYN-ACK: say it again (at most
		 * once per invalid_ratelimit, as Linux). */
		*v = TV(TV_SYNACK, "SYN again: SYN,ACK again");
		return true;
	}
	if (!req_seq_acceptable(r, sg)) {
		if (f & HSK_TH_RST) {
			*v = TV(TV_DROP, "RST out of window");
			return true;
		}
		if (f & HSK_TH_SYN) {
			CNT_INC(s->env, TCPSYNChallenge);
			*v = TV(TV_CHALLENGE, "SYN out of window: challenge ACK");
			return true;
		}
		*v = TV(TV_DUPACK, "out of window");
		return true;
	}
	if (f & HSK_TH_RST) {
		if (!seq_eq(sg->seq, seq_add(r->irs, 1))) {
			*v = TV(TV_CHALLENGE, "RST not at RCV.NXT: challenge ACK");
			return true;
		}
		/* RFC 9293: a passive open returns to LISTEN. */
		CNT_INC(s->env, EmbryonicRsts);
		trace_obj_state(s, HSK_OBJ_REQ, &r->node.key, obj_a6(s, &r->node), HSK_SYN_RECEIVED,
				HSK_LISTEN, "rcv RST");
		req_free(s, r);
		*v = TV(TV_DONE, NULL);
		return true;
	}
	if (f & HSK_TH_SYN) {
		CNT_INC(s->env, TCPSYNChallenge);
		*v = TV(TV_CHALLENGE, "SYN in window: challenge ACK");
		return true;
	}
	if (!(f & HSK_TH_ACK)) {
		*v = TV(TV_DROP, "no ACK");
		return true;
	}
	if (!seq_eq(sg->ack, seq_add(r->iss, 1))) {
		*v = TV(TV_RST, "bad ACK");
		return true;
	}
	return false;
}

/* The third ACK as a client sends it: an ACK, neither SYN nor RST, at
 * RCV.NXT (always in the window, never empty: 1 KiB at least), that
 * acknowledges our SYN. None of req_input's checks stops it, so it skips
 * them; tcp_stack.conn_long keeps them (test_syn_fast compares), and so
 * does a traced stack (the same outcome), so that this way knows both
 * off: their tests further on fold. */
static inline bool req_third_ack(const tcp_stack *s, const tcp_req *r, const tcp_seg *sg)
{
	assert(r->rcv_wnd);
	return (sg->th.flags & (HSK_TH_SYN | HSK_TH_RST | HSK_TH_ACK)) == HSK_TH_ACK &&
	       seq_eq(sg->seq, seq_add(r->irs, 1)) && seq_eq(sg->ack, seq_add(r->iss, 1)) &&
	       !s->conn_long && !s->env->cfg.trace;
}

/* req_input once the checks let the segment through: TCP_DEFER_ACCEPT,
 * the accept queue, the child. fast: as req_promote's. */
static inline __attribute__((always_inline)) tcp_verdict
req_accept(tcp_stack *s, tcp_req *r, const tcp_seg *sg, bool fast)
{
	uint8_t f = sg->th.flags;
	tcp_listener *l = r->listener;
	/* TCP_DEFER_ACCEPT: a final ACK without data waits (the request
	 * stays) until data comes or the SYN-ACK timeouts run out, as
	 * Linux's tcp_check_req. */
	if (r->retries < l->defer_retrans && sg->len == 0 && !(f & HSK_TH_FIN)) {
		r->acked = true;
		CNT_INC(s->env, TCPDeferAcceptDrop);
		return TV(TV_DROP, "TCP_DEFER_ACCEPT: no data yet");
	}
	/* No room for the connection: a full accept queue, or no TCB left
	 * (max_conns). Linux's listen_overflow in tcp_check_req for both. */
	bool full = l->accept_q >= l->backlog;
	if (full || !tcp_obj_room(s, HSK_OBJ_TCB)) {
		if (full)
			CNT_INC(s->env, ListenOverflows);
		CNT_INC(s->env, ListenDrops);
		if (!s->env->cfg.abort_on_overflow) {
			r->acked = true;
			return TV(TV_DROP, full ? "accept queue full" : "no TCB left");
		}
		tcp_reply(s, &r->node, sg, TV(TV_RST, full ? "accept queue full: reset" :
							   "no TCB left: reset"));
		trace_obj_state(s, HSK_OBJ_REQ, &r->node.key, obj_a6(s, &r->node), HSK_SYN_RECEIVED,
				HSK_CLOSED, full ? "accept queue full" : "no TCB left");
		req_free(s, r);
		return TV(TV_DONE, NULL);
	}
	return req_promote(s, r, sg, fast);
}

/* req_input for any segment but the usual third ACK: the checks first. */
static __attribute__((noinline)) tcp_verdict req_input_checked(tcp_stack *s, tcp_req *r,
							       const tcp_seg *sg)
{
	tcp_verdict v;
	if (req_refuse(s, r, sg, &v))
		return v;
	return req_accept(s, r, sg, false);
}

/* SEGMENT ARRIVES for a request, in RFC order (as Linux's tcp_check_req);
 * every reply goes through reply.c with the request's own limits. */
tcp_verdict req_input(tcp_stack *s, tcp_req *r, const tcp_seg *sg)
{
	if (req_third_ack(s, r, sg))
		return req_accept(s, r, sg, true);
	return req_input_checked(s, r, sg);
}

void listener_close(tcp_stack *s, tcp_listener *l)
{
	/* Connections nobody accepted are reset, as Linux does. */
	tcb *t;
	while ((t = listener_accept(s, l)) != NULL) {
		if (!(t->flags & TF_DETACHED)) {
			CNT_INC(s->env, TCPAbortOnClose);
			tcb_send_rst(s, t);
		}
		tcb_closed(s, t, "listener closed");
	}
	/* Fast Open connections accepted but still in SYN_RECEIVED point at
	 * the listener: they outlive it. */
	tfo_listener_gone(l);
	/* Requests vanish silently (the client's ACK will meet a reset),
	 * oldest first: the list has the newest first. */
	tcp_req *r = l->reqs;
	while (r && r->lnext)
		r = r->lnext;
	while (r) {
		tcp_req *prev = r->lprev;
		trace_obj_state(s, HSK_OBJ_REQ, &r->node.key, obj_a6(s, &r->node),
				HSK_SYN_RECEIVED, HSK_CLOSED, "listener closed");
		req_free(s, r);
		r = prev;
	}
}

void listener_free(tcp_stack *s, tcp_listener *l)
{
	(void)s;
	free(l->aq);
	l->aq = NULL;
	l->aq_cap = l->accept_q = l->aq_first = 0;
}
