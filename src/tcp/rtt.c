/*
 * RFC 6298 retransmission timer arithmetic. SRTT and RTTVAR are kept in
 * nanoseconds; the gains 1/8 and 1/4 are exact shifts.
 */
#include "tcp/rtt.h"

void rtt_params_default(rtt_params *p)
{
	p->rto_initial = 1000 * RTT_NS_PER_MS;
	p->rto_min = 200 * RTT_NS_PER_MS;
	p->rto_max = 120000 * RTT_NS_PER_MS;
	p->granularity = RTT_NS_PER_MS;
	p->ts_tick = RTT_NS_PER_MS;
}

static uint64_t rtt_clamp(const rtt_params *p, uint64_t rto)
{
	if (rto < p->rto_min)
		rto = p->rto_min;
	if (rto > p->rto_max)
		rto = p->rto_max;
	return rto;
}

void rtt_init(rtt_est *e, const rtt_params *p)
{
	(void)p;
	*e = (rtt_est){ 0 };
}

uint64_t rtt_base_rto(const rtt_est *e, const rtt_params *p)
{
	if (e->srtt) {
		uint64_t var4 = 4 * (uint64_t)e->rttvar;
		return rtt_clamp(p, e->srtt + (var4 > p->granularity ? var4 : p->granularity));
	}
	if (e->fallback)
		return RTT_FALLBACK_NS < p->rto_max ? RTT_FALLBACK_NS : p->rto_max;
	return rtt_rto_initial(p);
}

void rtt_fallback(rtt_est *e, const rtt_params *p)
{
	if (!e->srtt && rtt_base_rto(e, p) < RTT_FALLBACK_NS)
		e->fallback = 1;
}

bool rtt_ts_sample(rtt_est *e, const rtt_params *p, uint64_t now, uint32_t ts_offset,
		   uint32_t ts_ecr)
{
	int32_t ticks = (int32_t)(rtt_tsval(p, now, ts_offset) - ts_ecr);

	if (ticks < 0)
		return false;   /* echo of a value we have not sent yet */
	/* Less than one tick: the true RTT is somewhere in [0, 1) tick, and
	 * Linux counts it as one. */
	if (ticks == 0)
		ticks = 1;
	return rtt_add_sample(e, p, (uint64_t)ticks * p->ts_tick, false, now);
}

uint64_t rtt_rto_any(const rtt_est *e, const rtt_params *p)
{
	uint64_t rto = rtt_base_rto(e, p);
	unsigned i;

	for (i = 0; i < e->backoff; i++) {
		if (rto >= p->rto_max / 2)
			return p->rto_max;
		rto *= 2;
	}
	return rto > p->rto_max ? p->rto_max : rto;
}

void rtt_backoff(rtt_est *e)
{
	if (e->backoff < RTT_MAX_BACKOFF)
		e->backoff++;
}

uint64_t rtt_srtt_or(const rtt_est *e, uint64_t dflt)
{
	return e->srtt ? e->srtt : dflt;
}
