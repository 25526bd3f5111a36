/*
 * Replies to unacceptable segments: one function, one policy.
 *
 * Input decides (every step returns a tcp_verdict, tcp.h); this file acts.
 * Whatever the state -- a full connection, a SYN-queue request, a TIME_WAIT
 * entry, a listener or no connection at all -- a reply that an unacceptable
 * segment causes leaves through tcp_reply(), under per-connection limits:
 *
 *   duplicate ACKs to out-of-window, PAWS-failing or repeated segments
 *     (RFC 9293 "send an acknowledgment and drop it"): one per
 *     invalid_ratelimit (500 ms), as Linux's tcp_oow_rate_limited -- for a
 *     segment that occupies no sequence space or carries SYN; a segment
 *     with text or FIN is answered every time (it cannot be part of an ACK
 *     loop, and the ACK is what repairs a sender that lost ours);
 *   challenge ACKs (RFC 5961 §3.2, §4.2, §5.2; §7 asks for a limit): a
 *     full connection's budget of challenge_ack_limit per
 *     challenge_ack_window (10 per second); a request or TIME_WAIT entry,
 *     which has room for one 32-bit stamp only (DESIGN.md's 128 and 96
 *     bytes), one per invalid_ratelimit, shared with its duplicate ACKs.
 *
 * Resets to segments that find no connection, or a bad ACK in SYN_RECEIVED,
 * are not limited: a reset is never answered, so no loop can form, and
 * Linux limits them no more than that. Nothing here ever answers an RST
 * but a challenge ACK.
 */
#include "tcp/passive.h"
#include "tcp/tcp.h"

/* The millisecond clock of the limits; 0 is kept for "never". */
static uint32_t rl_clock(const tcp_stack *s)
{
	uint32_t ms = s->env->now_ms;
	return ms ? ms : 1;
}

static uint32_t ns_to_ms(uint64_t ns) { return (uint32_t)(ns / 1000000); }

/* One reply per invalid_ratelimit: true when this one must not go. */
static bool stamp_limited(tcp_stack *s, uint32_t *stamp)
{
	uint32_t now = rl_clock(s);
	if (*stamp && now - *stamp < ns_to_ms(s->env->cfg.invalid_ratelimit_ns))
		return true;
	*stamp = now;
	return false;
}

/* Linux's tcp_oow_rate_limited(): a segment with text or FIN (and no SYN)
 * cannot be part of an ACK loop, and is answered every time. */
static bool oow_limited(tcp_stack *s, uint32_t *stamp, const tcp_seg *sg)
{
	if (seg_space(sg) && !(sg->th.flags & HSK_TH_SYN))
		return false;
	return stamp_limited(s, stamp);
}

static uint32_t *oow_stamp(tbl_node *n)
{
	switch (n->kind) {
	case HSK_OBJ_TCB:
		return &((tcb *)n)->rl.oow_ms;
	case HSK_OBJ_REQ:
		return &((tcp_req *)n)->oow_ms;
	default:
		return &((tcp_tw *)n)->oow_ms;
	}
}

/* RFC 5961 §7: a full connection's budget of challenge ACKs per window; a
 * request or TIME_WAIT entry has room for one stamp only, so its challenge
 * ACKs share the one-per-invalid_ratelimit limit (Linux checks that limit
 * before any challenge ACK too). */
static bool challenge_allowed(tcp_stack *s, tbl_node *n)
{
	bool ok;
	if (n->kind != HSK_OBJ_TCB) {
		ok = !stamp_limited(s, oow_stamp(n));
	} else {
		tcp_rl *rl = &((tcb *)n)->rl;
		uint32_t now = rl_clock(s);
		if (!rl->chal_ms ||
		    now - rl->chal_ms >= ns_to_ms(s->env->cfg.challenge_ack_window_ns)) {
			rl->chal_ms = now;
			rl->chal_n = 0;
		}
		ok = rl->chal_n < s->env->cfg.challenge_ack_limit;
		if (ok)
			rl->chal_n++;
	}
	if (!ok) {
		CNT_INC(s->env, TCPChallengeACKLimited);
		CNT_INC(s->env, TCPACKSkippedChallenge);
		return false;
	}
	CNT_INC(s->env, TCPChallengeACK);
	return true;
}

/* What a rate-limited duplicate ACK counts when it is skipped. */
static void count_skipped(tcp_stack *s, const tbl_node *n, enum tcp_act act)
{
	if (n->kind == HSK_OBJ_REQ)
		CNT_INC(s->env, TCPACKSkippedSynRecv);
	else if (n->kind == HSK_OBJ_TW)
		CNT_INC(s->env, TCPACKSkippedTimeWait);
	else if (act == TV_PAWS)
		CNT_INC(s->env, TCPACKSkippedPAWS);
	else
		CNT_INC(s->env, TCPACKSkippedSeq);
}

static void trace_drop(tcp_stack *s, const tbl_node *n, const tcp_seg *sg, const char *why)
{
	int obj = n ? n->kind : HSK_OBJ_NONE;
	int sd = n && n->kind == HSK_OBJ_TCB ? ((const tcb *)n)->sd : -1;
	trace_segment(s, HSK_EV_DROP, obj, sd, &sg->tuple, sg->a6, &sg->th, sg->len, why);
}

void tcp_reply(tcp_stack *s, tbl_node *n, const tcp_seg *sg, tcp_verdict v)
{
	if (v.act == TV_ACCEPT || v.act == TV_DONE)
		return;
	if (v.why)
		trace_drop(s, n, sg, v.why);
	switch (v.act) {
	case TV_RST:
		send_rst_for(s, sg);
		return;
	case TV_DUPACK:
	case TV_PAWS:
	case TV_SYNACK:
		if (!n || (sg->th.flags & HSK_TH_RST))
			return;
		if (oow_limited(s, oow_stamp(n), sg)) {
			count_skipped(s, n, v.act);
			return;
		}
		break;
	case TV_CHALLENGE:
		if (!n || !challenge_allowed(s, n))
			return;
		break;
	default:
		return;
	}
	switch (n->kind) {
	case HSK_OBJ_TCB: {
		tcb *t = (tcb *)n;
		tcb_send_ack(s, t);
		tcb_timer_update(s, t);
		break;
	}
	case HSK_OBJ_REQ:
		if (v.act == TV_SYNACK) {
			/* Counted as a retransmission, as Linux's
			 * tcp_rtx_synack does. */
			CNT_INC(s->env, TCPSynRetrans);
			CNT_INC(s->env, RetransSegs);
			/* Karn: the final ACK may answer either copy. */
			((tcp_req *)n)->synack_again = true;
			req_send(s, (tcp_req *)n, HSK_TH_SYN | HSK_TH_ACK);
		} else {
			req_send(s, (tcp_req *)n, HSK_TH_ACK);
		}
		break;
	case HSK_OBJ_TW:
		tw_send_ack(s, (tcp_tw *)n);
		break;
	}
}
