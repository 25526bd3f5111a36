/*
 * The active extension of a TCB (tcp.h, tcb_act): taken from a pool when
 * a connection first needs it -- a ring, SACK or reassembly state, a
 * retransmission, delayed-ACK or FIN_WAIT_2 timer, RTT timing, a
 * rarely-used option -- and given back when the connection is quiescent
 * again, so that an idle connection is its TCB alone.
 *
 * Giving it back must change nothing: a new one is made from what the
 * TCB keeps (cwnd; congestion control runs with the TCB's MSS) and is
 * then exactly what the old one was. So the extension goes back only
 * when every part of it is as a new one would be:
 *   - no ring, no SACK state in use, nothing held out of order;
 *   - no deadline but keepalive's (which is the TCB's), no retransmission
 *     run, no duplicate ACK or unacknowledged segment counted, no option
 *     set;
 *   - congestion control as cc_init made it for the TCB's MSS, but for
 *     cwnd (cc_pristine: a connection that never filled its window, e.g.
 *     requests and responses; one that did keeps its CUBIC and HyStart++
 *     state);
 *   - no RTT timing in progress. With SACK the timing of one segment is
 *     never read (RACK's records time every segment), so it is dropped;
 *   - no urgent pointer that still means something (urgent.c): one
 *     SND.UNA has passed, or whose urgent bytes were read, goes with it.
 * What is not kept because it is always written before it is read again
 * in a new extension: ts_flight (set when a flight begins), rtt_seq and
 * rtt_start (with TF_RTT_TIMING); recover and snd_sml are at most SND.UNA
 * at quiescence, where a new extension puts them: only "SND.UNA <
 * recover" and "snd_sml > SND.UNA" are ever asked.
 *
 * Since a new extension would be what the quiescent one is, there is no
 * hurry to give it back either: a request/response connection goes
 * quiescent and busy again several times a lifecycle (after the
 * handshake, after each request and response), and each round trip
 * through the pool cost ~240 instructions. So a quiescent extension is
 * kept, on a list of the stack's, oldest first, and given back once it
 * has stayed unused for ACT_KEEP_NS of the stack's clock (tcb_act_reap,
 * from hsk_stack_advance), or when more than ACT_KEEP_MAX are kept (the
 * oldest goes). What goes back is checked then, as it would have been at
 * once: one that is not quiescent after all stays with its connection.
 * An extension that holds an empty ring larger than the ring cache's
 * (mem.c: grown by autotuning or set large, kept so that a fast reader
 * does not free and take it at every read) is on the list too; its empty
 * rings go back first when its time there ends.
 * act_eager gives each back at once (tests/sim/test_shortcuts.c runs
 * workloads both ways and compares the traces).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"

/* About a delayed-ACK time: a reply within it finds the extension. */
#define ACT_KEEP_NS (40ull * 1000000ull)
/* At most this many kept per stack: ~80 KB. */
enum { ACT_KEEP_MAX = 64 };

/* A new extension's fields, in a just taken from the pool (tcb_act_new's
 * two ways, in line in each). */
static inline __attribute__((always_inline)) tcb_act *act_init(tcp_stack *s, tcb *t,
								tcb_act *a)
{
	/* Everything before cc zeroed, in pieces of at most 64 bytes: GCC
	 * stores each with four vector moves (12 for the 192 bytes), where
	 * one memset of the whole becomes a `rep stosq` (24 steps counted,
	 * and its set-up, slow to start on x86). */
	_Static_assert(offsetof(tcb_act, cc) > 128 && offsetof(tcb_act, cc) <= 192,
		       "three pieces of at most 64 bytes");
	char *z = (char *)a;
	memset(z, 0, 64);
	memset(z + 64, 0, 64);
	memset(z + 128, 0, offsetof(tcb_act, cc) - 128);
	a->recover = t->snd_una;
	a->snd_sml = t->snd_una;
	/* cc_init_like's state, but for cwnd: the TCB kept that (no initial
	 * window worked out to be overwritten) */
	a->cc = s->cc_fresh[t->cc_id];
	a->cc.mss = t->mss < CC_MIN_MSS ? CC_MIN_MSS : t->mss;
	a->cc.cwnd = t->cwnd;
	a->ooo.n = 0;
	a->pace_wait_at = 0;
	a->pace_cap = s->pace_default;
	a->pace_next = 0;
	a->ooo.fin_known = false;
	a->ooo.fin_seq = seq_of(0);
	a->ooo.held = 0;
	seg_tpl_fill(&a->tpl, &t->node.key, obj_a6(s, &t->node));
	t->act = a;
	return a;
}

/* IPv6: the template's flow label (tcp_flow_label), reached by a tail
 * call after act_init, so that IPv4's usual way still makes no call and
 * needs no frame. */
static __attribute__((noinline)) tcb_act *act_label(tcp_stack *s, tcb *t, tcb_act *a)
{
	a->tpl.flow = tcp_flow_label(s, &t->node.key, obj_a6(s, &t->node));
	return a;
}

/* tcb_act_new with the pool's free list empty: its own way, with the
 * frame that pool_get_new's call needs. */
static __attribute__((noinline)) tcb_act *act_new_carved(tcp_stack *s, tcb *t)
{
	tcb_act *a = pool_get_raw(&s->act_pool);
	if (!a)
		return NULL;
	act_init(s, t, a);
	return t->node.v6 ? act_label(s, t, a) : a;
}

tcb_act *tcb_act_new(tcp_stack *s, tcb *t)
{
	/* Not zeroed as a whole: the SACK state and the reassembly ranges
	 * are storage, initialised when used. The usual case, the free
	 * list's head, makes no call, so needs no frame. */
	if (!s->act_pool.free_list)
		return act_new_carved(s, t);
	tcb_act *a = pool_get_raw(&s->act_pool);
	if (!a)
		return NULL;
	act_init(s, t, a);
	return t->node.v6 ? act_label(s, t, a) : a;
}

/* A paced connection's next departure still ahead: a new extension would
 * not know it (its pace_next is 0), and the next write would go early. */
static bool pace_owed(const tcp_stack *s, const tcb_act *a)
{
	return a->pace_next > s->env->now;
}

static bool act_quiescent(const tcp_stack *s, const tcb *t, const tcb_act *a)
{
	return !a->snd.buf && !a->rcv.buf && !a->sack_on && !a->rtx_at && !a->delack_at &&
	       !a->close_at && !a->first_rtx_at && !a->dupacks && !a->unacked_segs &&
	       !a->user_timeout_ns && !a->user_mss && !a->retries && !a->win_probes &&
	       !a->keep_idle_s && !a->keep_intvl_s && !a->keep_cnt && !a->listener &&
	       a->pace_cap == s->pace_default && !a->pace_wait_at && !pace_owed(s, a) &&
	       !(t->flags & (TF_ECN_HIGH | TF_TFO_PENDING)) &&
	       a->ooo.n == 0 && !a->ooo.fin_known && a->ooo.held == 0 &&
	       (!(t->flags & TF_RTT_TIMING) || (t->flags & TF_SACK_OK)) &&
	       a->cc.mss == (t->mss < CC_MIN_MSS ? CC_MIN_MSS : t->mss) &&
	       cc_pristine(&a->cc, &s->cc_fresh[t->cc_id]) && !tune_live(s, a) &&
	       (!a->urg || !tcb_urgent_live(t, a));
}

static void act_put_now(tcp_stack *s, tcb *t)
{
	tcb_act *a = t->act;
	if (!a || !act_quiescent(s, t, a))
		return;
	t->cwnd = a->cc.cwnd;
	t->flags &= ~TF_RTT_TIMING;
	pool_put(&s->act_pool, a);
	t->act = NULL;
}

/* ---- the list of kept extensions ---- */

static void idle_unlink(tcp_stack *s, tcb *t)
{
	tcb_act *a = t->act;
	if (a->idle_prev)
		a->idle_prev->act->idle_next = a->idle_next;
	else
		s->act_idle_head = a->idle_next;
	if (a->idle_next)
		a->idle_next->act->idle_prev = a->idle_prev;
	else
		s->act_idle_tail = a->idle_prev;
	a->idle_listed = false;
	s->act_idle_n--;
}

static void idle_append(tcp_stack *s, tcb *t)
{
	tcb_act *a = t->act;
	a->idle_next = NULL;
	a->idle_prev = s->act_idle_tail;
	if (s->act_idle_tail)
		s->act_idle_tail->act->idle_next = t;
	else
		s->act_idle_head = t;
	s->act_idle_tail = t;
	a->idle_listed = true;
	s->act_idle_n++;
}

/* The oldest kept extension goes back (when quiescent). One that a live
 * receive count holds (tune.c) goes to the list's end instead, until the
 * count lapses (max(2 RTT, 200 ms) after the last one), and so does one
 * whose next paced departure is ahead (pace_owed): an idle connection has
 * no event of its own that would give it back later, so it must not
 * leave the list, not even past ACT_KEEP_MAX. */
static void idle_pop(tcp_stack *s, uint64_t now)
{
	tcb *t = s->act_idle_head;
	idle_unlink(s, t);
	if (tune_live(s, t->act) || pace_owed(s, t->act)) {
		t->act->idle_at = now;
		idle_append(s, t);
		return;
	}
	/* Empty rings kept with it (tcb_act_keep) go first. */
	if (t->act->snd.buf || t->act->rcv.buf)
		tcb_release_idle_all(s, t);
	act_put_now(s, t);
}

/* t's extension (a) the newest kept, at `now`. */
static void idle_list(tcp_stack *s, tcb *t, tcb_act *a)
{
	if (!s->act_idle_head) {
		tcb_act_put_alone(s, t, a);
		return;
	}
	a->idle_at = s->env->now;
	if (a->idle_listed)
		idle_unlink(s, t);
	idle_append(s, t);
}

void tcb_act_put(tcp_stack *s, tcb *t)
{
	tcb_act *a = t->act;
	/* tcb_act_put_idle's call: it tested both */
	assert(a && s->act_idle_tail != t);
	if (s->act_eager) {
		act_put_now(s, t);
		return;
	}
	idle_list(s, t, a);
	if (s->act_idle_n > ACT_KEEP_MAX)
		idle_pop(s, s->env->now);
}

void tcb_act_keep(tcp_stack *s, tcb *t)
{
	assert(t->act && !s->act_eager);
	if (s->act_idle_tail == t)
		t->act->idle_at = s->env->now;
	else
		idle_list(s, t, t->act);
}

void tcb_act_reap(tcp_stack *s, uint64_t now)
{
	while (s->act_idle_head && now - s->act_idle_head->act->idle_at >= ACT_KEEP_NS)
		idle_pop(s, now);
}

/* The extension back to its pool (off the kept list already). */
static inline void act_release(tcp_stack *s, tcb *t, tcb_act *a)
{
	pool_put(&s->act_pool, a);
	t->act = NULL;
}

/* tcb_act_free's end for a SACK scoreboard grown past its own storage:
 * out of line, so that the usual end, without free()'s call, needs no
 * frame. */
static __attribute__((noinline)) void act_free_grown(tcp_stack *s, tcb *t, tcb_act *a)
{
	free(a->sack.seg);
	act_release(s, t, a);
}

void tcb_act_free(tcp_stack *s, tcb *t)
{
	tcb_act *a = t->act;
	if (!a)
		return;
	if (a->idle_listed)
		idle_unlink(s, t);
	if (a->sack_on && a->sack.seg && a->sack.seg != a->sack.seg0)
		act_free_grown(s, t, a);
	else
		act_release(s, t, a);
}
