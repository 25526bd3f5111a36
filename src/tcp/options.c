/*
 * Socket options that reach into the engine (the rest are the socket
 * layer's, src/api/sockopt.c).
 */
#include <string.h>

#include "tcp/tcp.h"

void tcb_set_cc(tcp_stack *s, tcb *t, const cc_ops *ops)
{
	if (tcb_cc_ops(t) == ops)
		return;
	/* The state to change is the extension's (a new one is the pristine
	 * state of the old algorithm); tcb_act_put_idle gives it back after
	 * the call if the result is the new algorithm's pristine state. */
	tcb_act *a = tcb_act_get(s, t);
	if (!a)
		return;
	cc_state *cc = &a->cc;
	t->cc_id = cc_index(ops) & 3;
	/* As Linux's tcp_reinit_congestion_control: the new algorithm starts
	 * from its own initial state, cwnd and ssthresh stay; a switch away
	 * from "none" (a fixed huge window) starts again from IW. */
	bool was_fixed = cc->ops && cc->ops->fixed;
	cc->ops = ops;
	memset(cc->priv, 0, sizeof(cc->priv));
	cc->in_recovery = false;
	a->undo = 0;            /* what it saved was the old algorithm's */
	ecn_cwr_abort(t);
	cc->bytes_acked = 0;
	if (ops->fixed || was_fixed || !state_synchronized(t->state)) {
		cc_init(cc, ops, t->mss, s->env->now);
		return;
	}
	if (ops->init) {
		uint32_t cwnd = cc->cwnd, ssthresh = cc->ssthresh;
		ops->init(cc, s->env->now);
		cc->cwnd = cwnd;
		cc->ssthresh = ssthresh;
	}
}
