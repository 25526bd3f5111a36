/*
 * States: names, the table of legal transitions (RFC 9293 Figure 5 plus the
 * arcs the text adds: resets, timeouts, aborts), the one transition function,
 * and the trace events.
 */
#include <assert.h>

#include <string.h>

#include "tcp/passive.h"
#include "tcp/tcp.h"

static const char *const state_names[HSK_STATE_COUNT] = {
	[HSK_CLOSED] = "CLOSED",
	[HSK_LISTEN] = "LISTEN",
	[HSK_SYN_SENT] = "SYN_SENT",
	[HSK_SYN_RECEIVED] = "SYN_RECEIVED",
	[HSK_ESTABLISHED] = "ESTABLISHED",
	[HSK_FIN_WAIT_1] = "FIN_WAIT_1",
	[HSK_FIN_WAIT_2] = "FIN_WAIT_2",
	[HSK_CLOSE_WAIT] = "CLOSE_WAIT",
	[HSK_CLOSING] = "CLOSING",
	[HSK_LAST_ACK] = "LAST_ACK",
	[HSK_TIME_WAIT] = "TIME_WAIT",
};

const char *hsk_state_name(int st)
{
	return st >= 0 && st < HSK_STATE_COUNT ? state_names[st] : "?";
}

#define BIT(st) (1u << (st))
/* tcp_legal_next[from] is the set of states `from` may move to (read by
 * tcb_set_state, inline in tcp.h). Every state may go to CLOSED (reset,
 * abort, timeout) except LISTEN's requests, which return to LISTEN on a
 * reset. No state may move to itself. Sixteen rows, the values a TCB's
 * 4-bit state can hold (those past the states: none). */
const uint16_t tcp_legal_next[16] = {
	[HSK_CLOSED] = BIT(HSK_LISTEN) | BIT(HSK_SYN_SENT),
	[HSK_LISTEN] = BIT(HSK_SYN_RECEIVED) | BIT(HSK_CLOSED),
	[HSK_SYN_SENT] = BIT(HSK_SYN_RECEIVED) | BIT(HSK_ESTABLISHED) | BIT(HSK_CLOSED),
	[HSK_SYN_RECEIVED] = BIT(HSK_ESTABLISHED) | BIT(HSK_FIN_WAIT_1) |
			     BIT(HSK_LISTEN) | BIT(HSK_CLOSED),
	[HSK_ESTABLISHED] = BIT(HSK_FIN_WAIT_1) | BIT(HSK_CLOSE_WAIT) | BIT(HSK_CLOSED),
	[HSK_FIN_WAIT_1] = BIT(HSK_FIN_WAIT_2) | BIT(HSK_CLOSING) |
			   BIT(HSK_TIME_WAIT) | BIT(HSK_CLOSED),
	[HSK_FIN_WAIT_2] = BIT(HSK_TIME_WAIT) | BIT(HSK_CLOSED),
	[HSK_CLOSE_WAIT] = BIT(HSK_LAST_ACK) | BIT(HSK_CLOSED),
	[HSK_CLOSING] = BIT(HSK_TIME_WAIT) | BIT(HSK_CLOSED),
	[HSK_LAST_ACK] = BIT(HSK_CLOSED),
	[HSK_TIME_WAIT] = BIT(HSK_CLOSED),
};
#undef BIT

bool tcp_transition_legal(int from, int to)
{
	if (from < 0 || from >= HSK_STATE_COUNT || to < 0 || to >= HSK_STATE_COUNT)
		return false;
	return (tcp_legal_next[from] >> to) & 1;
}

/* An event's tuple: an IPv4 key as it is; of an IPv6 one the ports, and
 * the addresses beside it (the key's folds mean nothing to a reader). */
static void ev_tuple(hsk_trace_event *ev, const hsk_tuple *tu, const tbl_v6addrs *a6)
{
	ev->family = a6 ? HSK_AF_INET6 : HSK_AF_INET;
	if (!tu)
		return;
	ev->tuple = *tu;
	if (a6) {
		ev->tuple.laddr = ev->tuple.raddr = 0;
		memcpy(ev->laddr6, a6->l, 16);
		memcpy(ev->raddr6, a6->r, 16);
	}
}

void trace_obj_state(tcp_stack *s, int obj, const hsk_tuple *tu, const tbl_v6addrs *a6,
		     int from, int to, const char *cause)
{
	if (!s->env->cfg.trace)
		return;
	hsk_trace_event ev = {
		.kind = HSK_EV_STATE, .obj = (uint8_t)obj, .sd = -1,
		.from = (uint8_t)from, .to = (uint8_t)to, .cause = cause,
	};
	ev_tuple(&ev, tu, a6);
	env_trace(s->env, &ev);
}

/* tcb_set_state (tcp.h) for what its fast way does not take: a
 * transition to the same state, an illegal one, or any while tracing. */
bool tcb_set_state_slow(tcp_stack *s, tcb *t, int to, const char *cause)
{
	int from = t->state;
	if (from == to)
		return true;
	/* An illegal transition is an engine bug: it aborts a debug build (so
	 * every test catches it), and in production it is counted, the state
	 * stays, and the caller gives up the event that asked for it. */
	if (!tcp_transition_legal(from, to)) {
		CNT_INC(s->env, IllegalTransitions);
		assert(!"illegal TCP state transition");
		return false;
	}
	t->state = (uint8_t)to;
	if (s->env->cfg.trace) {
		hsk_trace_event ev = {
			.kind = HSK_EV_STATE, .obj = HSK_OBJ_TCB, .sd = t->sd,
			.from = (uint8_t)from, .to = (uint8_t)to, .cause = cause,
		};
		ev_tuple(&ev, &t->node.key, obj_a6(s, &t->node));
		env_trace(s->env, &ev);
	}
	tcb_notify(s, t);
	return true;
}

/* The congestion state of the connection that just sent on tu: one sample
 * per segment, looked up only while tracing, so an untraced stack pays
 * nothing. A detached TCB (out of the table) has no sample. */
static void trace_cc(tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6,
		     const tcp_hdr *th, uint32_t len)
{
	const tbl_node *n = a6 ? tbl_lookup6(&s->conns, tu, a6) : tbl_lookup(&s->conns, tu);
	if (!n || n->kind != HSK_OBJ_TCB)
		return;
	const tcb *t = (const tcb *)n;
	/* congestion control starts with ESTABLISHED (RFC 6928's IW) */
	if (!state_synchronized(t->state) || t->state == HSK_SYN_RECEIVED)
		return;
	/* the caller moves SND.MAX after sending: count this segment */
	hsk_seq end = seq_add(seq_of(th->seq), len + !!(th->flags & HSK_TH_SYN) +
			      !!(th->flags & HSK_TH_FIN));
	hsk_seq max = seq_gt(end, t->snd_max) ? end : t->snd_max;
	hsk_trace_event ev = {
		.kind = HSK_EV_CC, .obj = HSK_OBJ_TCB, .sd = t->sd,
		.wscale = -1, .cwnd = tcb_cwnd(t),
		.ssthresh = tcb_ssthresh(t) >= CC_CWND_MAX ? UINT32_MAX : tcb_ssthresh(t),
		.flight = (uint32_t)seq_diff(max, t->snd_una),
		.snd_wnd = t->snd_wnd, .srtt_ns = t->rtt.srtt,
		.rto_ns = rtt_rto(&t->rtt, &s->rttp), .backoff = t->rtt.backoff,
		.in_recovery = tcb_in_recovery(t),
	};
	ev_tuple(&ev, tu, a6);
	env_trace(s->env, &ev);
}

void trace_segment_ev(tcp_stack *s, int kind, int obj, int sd, const hsk_tuple *tu,
		      const tbl_v6addrs *a6, const tcp_hdr *th, uint32_t len, const char *reason)
{
	hsk_trace_event ev = {
		.kind = (uint8_t)kind, .obj = (uint8_t)obj, .sd = sd,
		.wscale = -1, .reason = reason, .fastopen = -1,
	};
	ev_tuple(&ev, tu, a6);
	if (th) {
		ev.flags = th->flags;
		ev.seq = th->seq;
		ev.ack = th->ack;
		ev.len = len;
		ev.win = th->win;
		/* (a parse reads the field only with URG: wire.h) */
		ev.urp = (th->flags & HSK_TH_URG) ? th->urp : 0;
		ev.mss = th->opt.mss;
		ev.wscale = th->opt.wscale;
		ev.sack_ok = th->opt.sack_ok;
		ev.has_ts = th->opt.has_ts;
		ev.ts_val = th->opt.ts_val;
		ev.ts_ecr = th->opt.ts_ecr;
		ev.nsack = th->opt.nsack;
		ev.fastopen = th->opt.has_fo ? (int8_t)th->opt.fo_len : -1;
		for (unsigned i = 0; i < th->opt.nsack && i < 4; i++) {
			ev.sack[i].left = th->opt.sack[i].left;
			ev.sack[i].right = th->opt.sack[i].right;
		}
	}
	env_trace(s->env, &ev);
	if (kind == HSK_EV_TX && obj == HSK_OBJ_TCB && tu && th)
		trace_cc(s, tu, a6, th, len);
}

/* A listener's queues after a change (only while tracing). */
void trace_listener(tcp_stack *s, const tcp_listener *l)
{
	if (!s->env->cfg.trace)
		return;
	hsk_trace_event ev = {
		.kind = HSK_EV_QUEUE, .obj = HSK_OBJ_LISTEN, .sd = l->sd,
		.tuple = { .laddr = l->addr, .lport = l->port },
		.wscale = -1, .syn_q = l->syn_q, .accept_q = l->accept_q,
		.backlog = l->backlog, .family = l->family,
	};
	memcpy(ev.laddr6, l->addr6, 16);
	env_trace(s->env, &ev);
}
