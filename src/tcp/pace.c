/*
 * Pacing: a connection's segments spread over the round trip instead of
 * leaving in bursts, as Linux's internal pacing (tcp_internal_pacing,
 * tcp_update_pacing_rate, the EDT model of tcp_update_skb_after_send).
 * It is on for a connection whose socket set HSK_SO_MAX_PACING_RATE, as
 * Linux's SO_MAX_PACING_RATE turns it on, and for every connection of a
 * stack with hsk_config.pacing_rate (the option's default then, as fq
 * paces every flow under Linux): the rate is the window's per
 * RTT -- twice it in slow start (cwnd below half of ssthresh), 1.2 times
 * it after -- capped by the option's bytes per second.
 *
 * Each paced segment of len bytes moves the earliest departure of the
 * next (pace_next) len / rate later; one due before then waits, with the
 * TCB's timer set for it (pace_wait_at). The wheel fires it exactly then,
 * but a driver may come late (the scheduler; an old kernel's whole ms): a late
 * sender sends what it owes at once, and its lateness is credited to the
 * next gap, up to a millisecond and half the gap, as Linux credits its
 * timer's slack. New data, its resends (go-back-N after a timeout, SACK's
 * and RACK's repairs) and a FIN with data are paced; ACKs, window probes,
 * loss probes and a FIN alone are not.
 */
#include "tcp/pace.h"
#include "tcp/tcp.h"

#define NS_PER_S 1000000000ull
/* How late a driver's timer may be credited: the event loop sleeps to the
 * ns (epoll_pwait2), but a busy host or an old kernel (epoll_wait's whole
 * ms) may wake it up to about a ms late. */
#define PACE_JITTER_NS 1000000ull

/* The rate for a cap (not 0) and a congestion state. */
static uint64_t rate_of(const tcb *t, uint32_t pace_cap, const cc_state *cc)
{
	uint64_t cap = pace_cap == PACE_UNCAPPED ? UINT64_MAX : pace_cap;
	uint64_t srtt = t->rtt.srtt;

	if (!srtt)
		return cap;
	uint64_t cwnd = cc->cwnd;
	uint64_t flight = (uint32_t)seq_diff(t->snd_nxt, t->snd_una);
	if (flight > cwnd)
		cwnd = flight;
	/* (cwnd < 2^31, so no overflow: < 2^31 * 200 * 10^7) */
	unsigned pct = cc->cwnd < cc->ssthresh / 2 ? 200 : 120;
	uint64_t rate = cwnd * pct * (NS_PER_S / 100) / srtt;
	if (!rate)
		rate = 1;
	return rate < cap ? rate : cap;
}

uint64_t pace_rate(const tcb *t)
{
	return rate_of(t, t->act->pace_cap, &t->act->cc);
}

uint64_t pace_rate_now(const tcp_stack *s, const tcb *t)
{
	if (t->act)
		return t->act->pace_cap ? pace_rate(t) : 0;
	if (!s->pace_default)
		return 0;
	/* what a new extension would hold (act_init's) */
	cc_state cc = s->cc_fresh[t->cc_id];
	cc.cwnd = t->cwnd;
	return rate_of(t, s->pace_default, &cc);
}

bool pace_hold(tcp_stack *s, tcb *t)
{
	tcb_act *a = t->act;

	if (s->env->now >= a->pace_next) {
		a->pace_wait_at = 0;
		return false;
	}
	a->pace_wait_at = a->pace_next;
	return true;
}

void pace_sent(tcp_stack *s, tcb *t, uint32_t len)
{
	tcb_act *a = t->act;
	uint64_t now = s->env->now, rate = pace_rate(t);

	if (rate == UINT64_MAX)
		return;
	uint64_t gap = (uint64_t)len * NS_PER_S / rate;
	if (a->pace_next < now) {
		/* the driver's lateness (up to a ms) is credited, up to
		 * half the gap; a sender idle for longer gets no more */
		uint64_t late = now - a->pace_next, credit = gap / 2;
		if (credit > PACE_JITTER_NS)
			credit = PACE_JITTER_NS;
		gap -= late < credit ? late : credit;
		a->pace_next = now;
	}
	a->pace_next += gap;
}
