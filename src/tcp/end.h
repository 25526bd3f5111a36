/*
 * The TCB's end in line (conn.c's tcb_end_to and tcb_closed, timewait.c's
 * tw_enter): its usual way, an orphan's found in the table, without a
 * call of its own; the rest is conn.c's tcb_end_general.
 */
#ifndef HSK_TCP_END_H
#define HSK_TCP_END_H

#include "tcp/tcp.h"

/* tcb_end_to for what its usual way does not take: a socket or an accept
 * queue holds the TCB, it is out of the table already, or a Fast Open
 * child is still pending. */
void tcb_end_general(struct tcp_stack *s, tcb *t, tbl_node *succ);

/* The detach once its tests are made: the orphan's count (orphan:
 * counted, tcb_counted_orphan), the timer, the table. */
static inline __attribute__((always_inline)) void tcb_detach_now(struct tcp_stack *s, tcb *t,
								  tbl_node *succ, bool orphan)
{
	if (orphan) {
		s->orphans--;
		if (t->act)
			s->orphan_bytes -= t->act->snd.cap + t->act->rcv.cap;
	}
	wheel_cancel(&s->env->wheel, &t->timer);
	if (succ)
		tbl_replace(&s->conns, &t->node, succ);
	else
		tbl_remove(&s->conns, &t->node);
	t->flags |= TF_DETACHED;        /* (the rings' release counts no orphan) */
}

/* A detached TCB's memory back. The rings' release in line when there is
 * none (the usual end: an idle connection's went back): tcb_release_rings
 * would only clear TF_SND_WAIT, which nobody reads of a TCB given back
 * here. */
static inline __attribute__((always_inline)) void tcb_free_detached(struct tcp_stack *s, tcb *t)
{
	if (t->act && (t->act->snd.buf || t->act->rcv.buf))
		tcb_release_rings(s, t);
	tcb_act_free(s, t);
	/* (tcp_obj_put with the kind known: no switch over the kinds) */
	pool_put(tcp_obj_pool(s, HSK_OBJ_TCB, t->node.v6), t);
}

/* Out of the table (succ, if any, in its place), and the memory back
 * when no socket or accept queue holds the TCB. The usual end, an
 * orphan's found in the table (not a Fast Open child still pending): one
 * test for what the general way tests one by one. */
static inline __attribute__((always_inline)) void tcb_end_to_inl(struct tcp_stack *s, tcb *t,
								  tbl_node *succ)
{
	if (t->sd < 0 && !(t->flags & (TF_ON_ACCEPTQ | TF_DETACHED | TF_TFO_PENDING))) {
		tcb_detach_now(s, t, succ, t->flags & TF_ORPHAN);
		tcb_free_detached(s, t);
		return;
	}
	tcb_end_general(s, t, succ);
}

#endif
