/*
 * A segment's way in (SEGMENT ARRIVES, RFC 9293 §3.10.7; the map of the
 * input files is at the top of input.c):
 *   tcp_input, tcp_input6  parse (wire.h), checksum -- for a long payload
 *                          while it is copied into the receive ring
 *                          (seg_verify, hp_fused) --, count, look up
 *   seg_arrives            to the object: a TCB (tcb_input), a request
 *                          (listen.c), a TIME_WAIT entry (timewait.c), a
 *                          listener (listen.c) or nothing (closed_input)
 *   tcb_input              header prediction (hp_*) or tcb_steps:
 *                          SYN_SENT's step, the steps predicted (a
 *                          close's short way, closing.c, or the rest of
 *                          the steps), or the general steps (input.c)
 * Header prediction is here rather than in a file of its own: with the way
 * in it compiles as one function (everything below is inline in tcp_input
 * and tcp_input6, always_inline where GCC would call it: a frame more per
 * segment costs more than the work it frames), and its fused copy
 * (hp_fused) is the checksum's.
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "tcp/input.h"
#include "tcp/passive.h"

static void count_parse_error(tcp_stack *s, int err)
{
	CNT_INC(s->env, InErrs);
	switch (err) {
	case WIRE_ERR_TCP_CSUM:
		CNT_INC(s->env, InCsumErrors);
		break;
	case WIRE_ERR_OPTLEN:
	case WIRE_ERR_MSS_ZERO:
		CNT_INC(s->env, DropBadOptions);
		break;
	case WIRE_ERR_SYN_FIN:
		CNT_INC(s->env, DropSynFin);
		break;
	case WIRE_ERR_SHORT:
		CNT_INC(s->env, DropShort);
		break;
	default:
		CNT_INC(s->env, DropBadHeader);
		break;
	}
}

/* A segment in order that header prediction left (the four of a close:
 * a FIN, the ACK of one in FIN_WAIT_1 or LAST_ACK; text with a FIN, ECE
 * or CWR), past SYN_RECEIVED: at RCV.NXT, ACK without SYN, RST or URG
 * (the urgent pointer is the steps' sixth: tcb_input_checked), a
 * timestamp not older than TS.Recent when they are on, an ACK in
 * SND.UNA - MAX.SND.WND..SND.MAX. It passes the steps before the ACK's
 * without their being made -- a Fast Open child's SYN again
 * (tfo_child_syn) and the simultaneous open's SYN,ACK have the SYN bit;
 * PAWS (paws_check), the sequence (seq_check), RST and SYN checks -- and
 * ack_check, and ts_update's tests pass (ts_update_predicted; text into a
 * closed window, which ts_update leaves out, takes the steps). With
 * tcp_stack.no_fastpath the steps are taken (test_fastpath compares);
 * test_paws, test_rst, test_window and test_open fail when a test here
 * is left out. */
static inline __attribute__((always_inline)) bool steps_predicted(const tcp_stack *s,
								   const tcb *t,
								   const tcp_seg *sg)
{
	const tcp_opts *o = &sg->th.opt;
	return t->state != HSK_SYN_RECEIVED &&
	       (sg->th.flags & (HSK_TH_SYN | HSK_TH_RST | HSK_TH_ACK | HSK_TH_URG)) == HSK_TH_ACK &&
	       seq_eq(sg->seq, t->rcv_nxt) && !s->no_fastpath &&
	       (!sg->len || rcv_window(t)) &&
	       (!(t->flags & TF_TS_OK) ||
		(o->has_ts && (int32_t)(o->ts_val - t->ts_recent) >= 0)) &&
	       !seq_gt(sg->ack, t->snd_max) &&
	       !seq_lt(sg->ack, seq_add(t->snd_una, -t->max_snd_wnd));
}

/* Inline in tcb_input (and so in tcp_input): as hp_input. */
static inline __attribute__((always_inline)) tcp_verdict tcb_steps(tcp_stack *s, tcb *t,
								 const tcp_seg *sg)
{
	if (t->state == HSK_SYN_SENT)
		return tcb_input_syn_sent(s, t, sg);
	if (steps_predicted(s, t, sg)) {
		/* the close's four segments: each state's short way
		 * (ESTABLISHED's others, which header prediction left, pay
		 * two tests) */
		if (t->state == HSK_ESTABLISHED) {
			if (established_fin(t, sg))
				return established_fin_input(s, t, sg);
		} else if (t->state == HSK_LAST_ACK) {
			if (last_ack_ends(t, sg)) {
				tcb_closed_orphan(s, t, "rcv ACK of FIN");
				return TV(TV_DONE, NULL);
			}
		} else if (t->state == HSK_FIN_WAIT_2) {
			if (fin_wait_2_fin(t, sg)) {
				fin_wait_2_fin_input(s, t, sg);
				return TV(TV_DONE, NULL);
			}
		} else if (t->state == HSK_FIN_WAIT_1 && fin_wait_1_acked(t, sg)) {
			return fin_wait_1_acked_input(s, t, sg);
		}
		keepalive_heard(s, t);
		ts_update_predicted(s, t, sg);
		return tcb_input_checked(s, t, sg);
	}
	return tcb_input_steps(s, t, sg);
}

/* ---- header prediction ----
 * Van Jacobson's (BSD's tcp_input, Linux's tcp_rcv_established): in
 * ESTABLISHED (or CLOSE_WAIT, for an ACK), a segment that is what the
 * connection expects next -- at
 * RCV.NXT, ACK (and PSH) its only flags, no SACK blocks, a timestamp not
 * older than TS.Recent when they are on, an ACK in SND.UNA..SND.MAX --
 * passes the PAWS, sequence, RST, SYN and ACK checks of SEGMENT ARRIVES
 * without their being made. Two shapes go the short way:
 *  (a) a pure ACK of new data: window, SND.UNA, loss recovery, and the
 *      rings given back, as ack_input does them for ESTABLISHED;
 *  (b) data that fits the window we offered, nothing held out of order,
 *      on a connection someone reads: the ACK step, then straight to
 *      data_in_order.
 * Everything else takes the steps. The short way does what the steps
 * would, in their order, leaving out only what cannot apply; with
 * tcp_stack.no_fastpath it is never taken, and tests/sim/test_fastpath.c
 * runs random connections both ways and compares every event. */
static inline __attribute__((always_inline)) bool hp_predicted(const tcp_stack *s,
								 const tcb *t,
								 const tcp_seg *sg)
{
	const tcp_opts *o = &sg->th.opt;
	if ((t->state != HSK_ESTABLISHED && t->state != HSK_CLOSE_WAIT) ||
	    (sg->th.flags & ~HSK_TH_PSH) != HSK_TH_ACK ||
	    !seq_eq(sg->seq, t->rcv_nxt) || o->nsack || s->no_fastpath ||
	    (t->flags & (TF_TFO_PENDING | TF_ORPHAN | TF_SHUT_RD)))
		return false;
	/* PAWS (paws_check) and ack_check would pass */
	if ((t->flags & TF_TS_OK) && (!o->has_ts || (int32_t)(o->ts_val - t->ts_recent) < 0))
		return false;
	if (seq_lt(sg->ack, t->snd_una) || seq_gt(sg->ack, t->snd_max) ||
	    seq_lt(sg->ack, seq_add(t->snd_una, -t->max_snd_wnd)))
		return false;
	if (sg->len == 0)
		return seq_gt(sg->ack, t->snd_una);                     /* (a) */
	return t->state == HSK_ESTABLISHED && sg->len <= rcv_window(t) &&  /* (b) */
	       tcb_ooo_empty(t);
}

/* tcp_output after header prediction's segment (ESTABLISHED or
 * CLOSE_WAIT) when everything written is acknowledged: the send ring
 * empty, which there is SND.UNA = SND.MAX (the ring holds every byte from
 * SND.UNA on that we sent, and in these states neither our SYN nor a FIN
 * is outstanding; nor is a FIN queued: close and shutdown queue it as they
 * leave them). tcp_output then finds nothing due (output_due) and nothing
 * in flight for an RTO: it sends the ACK owed now, if one is (output_ack),
 * and sets the wheel; this does that without its tests. (Our SYN's
 * acknowledgement is tcb.syn_acked, not SND.UNA != ISS, which fails again
 * 2^32 - 1 data bytes on: test_syn_wrap.) tcp_stack.no_fastpath turns
 * header prediction off, and this with it (test_fastpath compares the two
 * ways, test_ways counts tcp_output's calls). Out of line: in tcp_input,
 * grown by it, GCC would leave small helpers out of line (in line, lc
 * +58). */
static __attribute__((noinline)) void output_quiet(tcp_stack *s, tcb *t)
{
	assert(!s->no_fastpath);        /* (header prediction's test) */
	if (!tcb_snd_len(t)) {
		assert((t->state == HSK_ESTABLISHED || t->state == HSK_CLOSE_WAIT) &&
		       tcb_all_acked(t));
		if (t->flags & TF_ACK_NOW)
			tcb_send_ack(s, t);
		tcb_timer_set(s, t);
		return;
	}
	tcp_output(s, t);
}

/* (b): data_input for text at RCV.NXT within the window, nothing out of
 * order, the connection not shut for reading: then fin_input has nothing
 * to do (no FIN). */
static inline __attribute__((always_inline)) void hp_data(tcp_stack *s, tcb *t,
							    const tcp_seg *sg)
{
	bool fin_now;
	if (t->ecn & ECN_OK)
		ecn_rcv_data(s, t, sg);
	qack_on_data(s, t);
	if (data_in_order(s, t, sg, sg->data, sg->len, false, &fin_now))
		t->flags |= TF_RCV_MOVED;       /* not when no memory for it */
}

/* (b) after keepalive and TS.Recent: the ACK step, the data, tcp_output
 * (output_quiet). */
static inline __attribute__((always_inline)) tcp_verdict hp_input_data(tcp_stack *s, tcb *t,
									    const tcp_seg *sg)
{
	if (seq_eq(sg->ack, t->snd_una) && !tcb_sack(t)) {
		/* ack_input when the ACK takes nothing and there is no SACK
		 * state to see it (a receiver's common case): the window */
		if (t->sd >= 0 && t->act)
			t->act->win_probes = 0;
		take_window(t, sg);
	} else {
		tcp_verdict v = ack_input(s, t, sg);
		if (v.act)
			return v;
	}
	hp_data(s, t, sg);
	output_quiet(s, t);
	return TV_OK;
}

/* The short way: keepalive and TS.Recent as tcb_steps and
 * tcb_input_after_syn, then (a) or (b), then tcp_output (output_quiet).
 * Inline in tcb_input, always: in tcp_input, which tcb_input now grows,
 * GCC left it (and tcb_steps) out of line, a frame of its own again. */
static inline __attribute__((always_inline)) tcp_verdict hp_input(tcp_stack *s, tcb *t,
								const tcp_seg *sg)
{
	keepalive_heard(s, t);
	ts_update_predicted(s, t, sg);
	/* Linux's names: which segments went the short way (test_fastpath
	 * tells the two ways apart by them) */
	if (sg->len) {
		CNT_INC(s->env, TCPHPHits);
		return hp_input_data(s, t, sg);
	}
	CNT_INC(s->env, TCPHPAcks);
	ack_forward(s, t, sg, ACK_OPEN);      /* (a) */
	output_quiet(s, t);
	return TV_OK;
}

/* Inline in seg_arrives (its one caller, once per segment): tcp_input's
 * frame, which saves the same six registers, serves it too, rather than a
 * second frame for every segment to a connection. */
static inline __attribute__((always_inline)) void tcb_input(tcp_stack *s, tcb *t,
							  const tcp_seg *sg)
{
	tcp_verdict v = hp_predicted(s, t, sg) ? hp_input(s, t, sg) : tcb_steps(s, t, sg);
	tcp_reply_owed(s, &t->node, sg, v);
	if (v.act != TV_DONE)           /* TV_DONE: t may be gone */
		tcb_act_put_idle(s, t);
}

/* §3.10.7.1: no connection. Never answer a reset; answer anything else
 * with one. */
static tcp_verdict closed_input(tcp_stack *s)
{
	CNT_INC(s->env, DropNoSocket);
	return TV(TV_RST, NULL);
}

/* A segment that parsed, its tuple set: to its connection object n (the
 * caller looked it up: tbl_lookup or tbl_lookup6, each family its own,
 * with nothing to test), its listener when n is NULL, or the
 * no-connection reply. The same for both families. Inline in tcp_input
 * and tcp_input6 (one call in each, once per segment): no frame of its own
 * to build. */
static inline __attribute__((always_inline)) void seg_arrives(tcp_stack *s, tcp_seg *sg,
								tbl_node *n)
{
	sg->seq = seq_of(sg->th.seq);
	sg->ack = seq_of(sg->th.ack);
	if (n) {
		/* trace_segment's test first: the socket is looked at only
		 * when tracing */
		if (s->env->cfg.trace)
			trace_segment_ev(s, HSK_EV_RX, n->kind,
					 n->kind == HSK_OBJ_TCB ? ((tcb *)n)->sd : -1, &sg->tuple,
					 sg->a6, &sg->th, sg->len, NULL);
		/* a TCB's first (eight segments of a lifecycle's ten): gcc
		 * tested the kinds of a switch in the order 1, 2, 0 */
		if (n->kind == HSK_OBJ_TCB)
			tcb_input(s, (tcb *)n, sg);
		else if (n->kind == HSK_OBJ_REQ)
			tcp_reply_owed(s, n, sg, req_input(s, (tcp_req *)n, sg));
		else if (n->kind == HSK_OBJ_TW)
			tcp_reply_owed(s, n, sg, tw_input(s, (tcp_tw *)n, sg));
		return;
	}
	tcp_listener *l = listener_for(s, sg);
	trace_segment(s, HSK_EV_RX, l ? HSK_OBJ_LISTEN : HSK_OBJ_NONE, l ? l->sd : -1,
		      &sg->tuple, sg->a6, &sg->th, sg->len, NULL);
	/* A listener traces its own drops (why NULL): no object for reply.c. */
	tcp_reply_owed(s, NULL, sg, l ? listen_input(s, l, sg) : closed_input(s));
}

/* Payloads of at least this many bytes are parsed with the sum of their
 * header only (tcp_parse_fuse_inline) and verified in seg_fused: while
 * they are copied into the receive ring when header prediction takes them
 * as the next data in order (hp_fused), otherwise summed in place or, from
 * TCP_FUSE_MIN on, while copied by seg_verify. Shorter ones, and ACKs, are
 * summed in place with their header. TCP_FUSE_MIN (tcp.h) only lowers it. */
enum { TCP_RX_FUSE_MIN = TCP_FUSE_MIN < 128 ? TCP_FUSE_MIN : 128 };

/* The checksum of a long segment whose header parsed (hsum: pseudo-header
 * and header, tcp_parse_hsum), verified in one pass with the copy of its
 * payload into the receive ring when the payload is the next in order for
 * a connection already holding a ring: copied past the ring's data and not
 * committed, so a bad sum leaves nothing behind (no allocation either);
 * data_in_order commits what it finds there. Otherwise summed in place. */
static bool seg_verify(tcp_stack *s, tbl_node *n, tcp_seg *sg, uint32_t hsum)
{
	uint32_t len = sg->len;
	tcb *t = (tcb *)n;
	/* (ESTABLISHED first: state_can_recv is a call) */
	if (len >= TCP_FUSE_MIN && n && n->kind == HSK_OBJ_TCB && t->act && t->act->rcv.buf &&
	    (t->state == HSK_ESTABLISHED || state_can_recv(t->state)) &&
	    seq_eq(sg->seq, t->rcv_nxt) && !(sg->th.flags & HSK_TH_SYN) && tcb_ooo_empty(t)) {
		hsk_ring *r = &t->act->rcv;
		uint32_t room = ring_room(t, r), at = ring_len(r);
		uint32_t k = len < room ? len : room, sum;
		uint32_t pos = (r->head + at) & (r->cap - 1);
		if (k <= r->cap - pos) {        /* no wrap: one fused copy */
			sum = csum_copy(r->buf + pos, sg->data, k, 0);
		} else {
			sum = 0;
			k = ring_write_at_csum(r, at, sg->data, k, &sum);
		}
		if (k < len)            /* beyond the window: summed, not kept */
			sum = csum_block_add(sum, csum_partial(sg->data + k, len - k, 0), k);
		if (csum_fold(csum_add(hsum, sum)) != 0)
			return false;
		sg->placed = k;
		sg->placed_end = pos;
		sg->placed_nxt = t->rcv_nxt;
		s->placed_ring = r;
		return true;
	}
	return csum_fold(csum_partial(sg->data, len, hsum)) == 0;
}

/* A segment whose checksum is wrong: counted and traced as tcp_parse's
 * WIRE_ERR_TCP_CSUM, with the addresses only (IPv6: none). */
static __attribute__((noinline, cold)) void seg_bad_csum(tcp_stack *s, const tcp_seg *sg)
{
	hsk_tuple tu0 = { 0 };
	if (!sg->a6)
		tu0 = (hsk_tuple){ .laddr = sg->ip->dst, .raddr = sg->ip->src };
	count_parse_error(s, WIRE_ERR_TCP_CSUM);
	trace_segment(s, HSK_EV_DROP, HSK_OBJ_NONE, -1, &tu0, sg->a6, NULL, 0,
		      wire_err_name(WIRE_ERR_TCP_CSUM));
}

/* Header prediction's data segment (hp_predicted's shape (b)) for a
 * connection whose receive ring is there and has room for all of it: the
 * payload is copied past the ring's data while it is summed, and not
 * committed. A bad sum is a counted drop, exactly as tcp_parse's, and the
 * ring's length is unchanged (the bytes are unseen). A good segment goes
 * the short way at once (what seg_arrives, tcb_input and hp_input do,
 * without asking hp_predicted again): the placed bytes are committed in
 * line when the ACK takes nothing and there is no SACK state, otherwise by
 * data_in_order if the ACK step left them where they are. Returns false,
 * with nothing done, for any other segment (which seg_fused verifies). */
static inline __attribute__((always_inline)) bool hp_fused(tcp_stack *s, tcb *t, tcp_seg *sg,
							 uint32_t hsum)
{
	tcb_act *a = t->act;
	if (!a || !a->rcv.buf)
		return false;
	sg->ack = seq_of(sg->th.ack);
	if (!hp_predicted(s, t, sg))
		return false;
	hsk_ring *r = &a->rcv;
	uint32_t len = sg->len, at = ring_len(r);
	if (len > ring_room(t, r))
		return false;
	uint32_t pos = (r->head + at) & (r->cap - 1), sum;
	if (len <= r->cap - pos) {
		sum = csum_copy(r->buf + pos, sg->data, len, 0);
	} else {
		sum = 0;
		ring_write_at_csum(r, at, sg->data, len, &sum);
	}
	if (csum_fold(csum_add(hsum, sum)) != 0) {
		seg_bad_csum(s, sg);
		return true;
	}
	trace_segment(s, HSK_EV_RX, HSK_OBJ_TCB, t->sd, &sg->tuple, sg->a6, &sg->th, sg->len,
		      NULL);
	keepalive_heard(s, t);
	ts_update_predicted(s, t, sg);
	if (seq_eq(sg->ack, t->snd_una) && !tcb_sack(t)) {
		/* hp_input_data's first way, with nothing between the copy
		 * and the commit that touches the ring: the window, then
		 * hp_data and data_in_order for bytes already in place (no
		 * SACK state to advance) */
		if (t->sd >= 0)
			a->win_probes = 0;
		take_window(t, sg);
		if (t->ecn & ECN_OK)
			ecn_rcv_data(s, t, sg);
		qack_on_data(s, t);
		r->len += len;
		t->rcv_nxt = seq_add(t->rcv_nxt, len);
		data_rcvd(s, t, a, sg, len);
		t->flags |= TF_RCV_MOVED;
		output_quiet(s, t);
		tcb_act_put_idle(s, t);
		return true;
	}
	/* The ACK step may give the ring back (and take another): the
	 * placed bytes are committed by data_in_order only if still there */
	sg->placed = len;
	sg->placed_end = pos;
	sg->placed_nxt = t->rcv_nxt;
	s->placed_ring = r;
	tcp_verdict v = hp_input_data(s, t, sg);
	tcp_reply_owed(s, &t->node, sg, v);
	if (v.act != TV_DONE)           /* TV_DONE: t may be gone */
		tcb_act_put_idle(s, t);
	s->placed_ring = NULL;
	return true;
}

/* A segment with a payload of at least TCP_RX_FUSE_MIN bytes whose header
 * parsed (tcp_parse_fuse_inline: hsum is the sum of the pseudo-header and
 * the header), n its object (or NULL): header prediction's fused copy
 * (hp_fused) or the checksum (seg_verify). true: the segment is done with
 * (taken or dropped); false: verified, for SEGMENT ARRIVES (the caller's
 * one call of seg_arrives, then placed_ring cleared). */
static inline __attribute__((always_inline)) bool seg_fused(tcp_stack *s, tcp_seg *sg,
							 uint32_t hsum, tbl_node *n)
{
	sg->seq = seq_of(sg->th.seq);
	if (n && n->kind == HSK_OBJ_TCB && hp_fused(s, (tcb *)n, sg, hsum))
		return true;
	if (!seg_verify(s, n, sg, hsum)) {
		seg_bad_csum(s, sg);
		return true;
	}
	return false;
}

void tcp_input(void *ctx, const ipv4_hdr *ip, const uint8_t *buf, size_t len)
{
	tcp_stack *s = ctx;
	/* Not zeroed as a whole (its ~150 bytes cost ~25 instructions per
	 * segment): tcp_parse sets every field of the header and the options
	 * a reader may look at (tcp_opts_parse: sack[] below nsack, the Fast
	 * Open cookie when has_fo), the rest is set here and below; the
	 * placed bytes' three fields only where s->placed_ring is set (by
	 * seg_verify or hp_fused, for this segment: data_in_order reads them
	 * only while it names the ring, and it names none between segments). */
	tcp_seg sg;
	assert(!s->placed_ring);
	sg.ip = ip;
	sg.tos = ip->tos;
	sg.a6 = NULL;
	size_t plen = 0;
	uint32_t hsum = 0;
	CNT_INC(s->env, InSegs);
	int err = tcp_parse_fuse_inline(buf, len,
					ipv4_hdr_pseudo_native(ip, IP_PROTO_TCP, (uint32_t)len),
					TCP_RX_FUSE_MIN, &sg.th, &sg.data, &plen, &hsum);
	if (err < 0) {
		count_parse_error(s, err);
		hsk_tuple tu = { .laddr = ip->dst, .raddr = ip->src };
		trace_segment(s, HSK_EV_DROP, HSK_OBJ_NONE, -1, &tu, NULL, NULL, 0,
			      wire_err_name(err));
		return;
	}
	sg.len = (uint32_t)plen;
	sg.tuple = (hsk_tuple){ .laddr = ip->dst, .raddr = ip->src,
				.lport = sg.th.dport, .rport = sg.th.sport };
	tbl_node *n = tbl_lookup(&s->conns, &sg.tuple);
	if (err && seg_fused(s, &sg, hsum, n))
		return;
	seg_arrives(s, &sg, n);
	s->placed_ring = NULL;          /* what seg_verify placed, if unused */
}

/* The IP layer hands up only segments to a unicast address of ours
 * (RFC 9293 §3.9.1: never one to a group), so the tuple is a unicast
 * pair; the checksum covers the IPv6 pseudo-header (RFC 8200 §8.1). */
void tcp_input6(void *ctx, const ipv6_hdr *ip, const uint8_t *buf, size_t len)
{
	tcp_stack *s = ctx;
	tbl_v6addrs a6;
	tcp_seg sg;             /* as in tcp_input: set field by field */
	assert(!s->placed_ring);
	sg.ip = NULL;
	sg.tos = ip->tclass;
	sg.a6 = &a6;
	size_t plen = 0;

	memcpy(a6.l, ip->dst, 16);
	memcpy(a6.r, ip->src, 16);
	uint32_t hsum = 0;
	uint64_t ns = ipv6_hdr_pseudo_native(ip, IP_PROTO_TCP, (uint32_t)len);
	CNT_INC(s->env, InSegs);
	int err = tcp_parse_fuse_inline(buf, len, ns, TCP_RX_FUSE_MIN, &sg.th, &sg.data, &plen,
					&hsum);
	if (err < 0) {
		hsk_tuple tu = { 0 };
		count_parse_error(s, err);
		trace_segment(s, HSK_EV_DROP, HSK_OBJ_NONE, -1, &tu, &a6, NULL, 0,
			      wire_err_name(err));
		return;
	}
	sg.len = (uint32_t)plen;
	/* The connection of the segment before, its addresses and ports
	 * compared: its key, with no fold to make (a connection's segments
	 * in a row); otherwise the key folded and looked up. */
	tbl_node *n = tbl_cached6(&s->conns, &a6, sg.th.dport, sg.th.sport);
	if (n) {
		sg.tuple = n->key;
		assert(tbl_key6_is(&s->conns, &sg.tuple, &a6, sg.th.dport, sg.th.sport));
	} else {
		sg.tuple = tbl_key6(&s->conns, &a6, sg.th.dport, sg.th.sport);
		n = tbl_lookup6(&s->conns, &sg.tuple, &a6);
	}
	if (err && seg_fused(s, &sg, hsum, n))
		return;
	seg_arrives(s, &sg, n);
	s->placed_ring = NULL;          /* what seg_verify placed, if unused */
}
