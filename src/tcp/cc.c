/*
 * The congestion-control steps every algorithm shares; the ops table
 * supplies congestion-avoidance growth and the reduction on loss.
 */
#include "tcp/cc.h"

#include <string.h>

/* RFC 9406 constants */
#define HS_MIN_RTT_THRESH 4000u       /* us */
#define HS_MAX_RTT_THRESH 16000u
#define HS_MIN_RTT_DIVISOR 8
#define HS_N_RTT_SAMPLE 8
#define HS_CSS_GROWTH_DIVISOR 4
#define HS_CSS_ROUNDS 5
#define HS_NONE UINT32_MAX

static const cc_ops *const cc_table[] = {
	&cc_cubic_ops,
	&cc_newreno_ops,
	&cc_none_ops,
};

_Static_assert(sizeof(cc_table) / sizeof(cc_table[0]) == CC_ALGOS, "CC_ALGOS");

unsigned cc_index(const cc_ops *ops)
{
	for (unsigned i = 0; i < CC_ALGOS; i++)
		if (cc_table[i] == ops)
			return i;
	return 0;
}

const cc_ops *cc_at(size_t i)
{
	return i < sizeof(cc_table) / sizeof(cc_table[0]) ? cc_table[i] : NULL;
}

const cc_ops *cc_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	if (strcmp(name, "reno") == 0)
		return &cc_newreno_ops;
	for (i = 0; cc_at(i); i++)
		if (strcmp(cc_at(i)->name, name) == 0)
			return cc_at(i);
	return NULL;
}

const cc_ops *cc_default(void)
{
	return &cc_cubic_ops;
}

static uint32_t cwnd_clamp(uint64_t w)
{
	return w > CC_CWND_MAX ? CC_CWND_MAX : (uint32_t)w;
}

void cc_init(cc_state *cc, const cc_ops *ops, uint32_t mss, uint64_t now)
{
	memset(cc, 0, sizeof(*cc));
	cc->ops = ops;
	cc->mss = mss < CC_MIN_MSS ? CC_MIN_MSS : mss;
	cc->cwnd = cc_initial_window(cc->mss);
	cc->ssthresh = CC_CWND_MAX;   /* "arbitrarily high" (RFC 5681 §3.1) */
	cc->hs_cur_min = cc->hs_last_min = cc->hs_css_base = HS_NONE;
	if (ops->init)
		ops->init(cc, now);
}

bool cc_pristine(const cc_state *cc, const cc_state *fresh)
{
	const cc_state *p = fresh;

	if (cc->in_recovery || cc->hs_state != CC_HS_SS || cc->bytes_acked)
		return false;
	for (size_t i = 0; i < CC_PRIV_U64; i++)
		if (p->priv[i] != cc->priv[i])
			return false;
	return p->ops == cc->ops && p->ssthresh == cc->ssthresh &&
	       p->prior_cwnd == cc->prior_cwnd && p->prr_delivered == cc->prr_delivered &&
	       p->prr_out == cc->prr_out && p->recover_fs == cc->recover_fs &&
	       p->sack == cc->sack && p->hs_samples == cc->hs_samples &&
	       p->hs_css_rounds == cc->hs_css_rounds && p->hs_round_left == cc->hs_round_left &&
	       p->hs_cur_min == cc->hs_cur_min && p->hs_last_min == cc->hs_last_min &&
	       p->hs_css_base == cc->hs_css_base;
}

static void hystart_round_start(cc_state *cc, uint32_t flight_after)
{
	cc->hs_last_min = cc->hs_cur_min;
	cc->hs_cur_min = HS_NONE;
	cc->hs_samples = 0;
	cc->hs_round_left = flight_after;
	if (cc->hs_state == CC_HS_CSS && ++cc->hs_css_rounds >= HS_CSS_ROUNDS) {
		/* the delay increase held for CSS_ROUNDS: congestion
		 * avoidance from here */
		cc->ssthresh = cc->cwnd;
		cc->hs_state = CC_HS_DONE;
	}
}

/* RFC 9406 §4.2: watch the minimum RTT of each round; a rise of more than
 * RttThresh over the previous round's ends standard slow start. */
static void hystart_ack(cc_state *cc, const cc_ack *a)
{
	uint32_t rtt_us, thresh;

	if (a->rtt) {
		rtt_us = a->rtt / 1000 >= HS_NONE ? HS_NONE - 1 : (uint32_t)(a->rtt / 1000);
		if (rtt_us < cc->hs_cur_min)
			cc->hs_cur_min = rtt_us;
		if (cc->hs_samples < 255)
			cc->hs_samples++;
	}
	if (cc->hs_samples >= HS_N_RTT_SAMPLE && cc->hs_cur_min != HS_NONE) {
		if (cc->hs_state == CC_HS_SS && cc->hs_last_min != HS_NONE) {
			thresh = cc->hs_last_min / HS_MIN_RTT_DIVISOR;
			if (thresh > HS_MAX_RTT_THRESH)
				thresh = HS_MAX_RTT_THRESH;
			if (thresh < HS_MIN_RTT_THRESH)
				thresh = HS_MIN_RTT_THRESH;
			if (cc->hs_cur_min >= cc->hs_last_min + thresh) {
				cc->hs_state = CC_HS_CSS;
				cc->hs_css_base = cc->hs_cur_min;
				cc->hs_css_rounds = 0;
			}
		} else if (cc->hs_state == CC_HS_CSS && cc->hs_cur_min < cc->hs_css_base) {
			/* the rise was spurious: back to slow start */
			cc->hs_state = CC_HS_SS;
		}
	}
	if (cc->hs_round_left > a->acked) {
		cc->hs_round_left -= a->acked;
	} else {
		hystart_round_start(cc, a->flight > a->acked ? a->flight - a->acked : 0);
	}
}

void cc_on_ack(cc_state *cc, const cc_ack *a, uint64_t now)
{
	uint32_t acked = a->acked, ss;

	if (cc->ops->fixed || acked == 0)
		return;
	if (cc->in_recovery) {
		/* RFC 6582 §3.2 (5): deflate by what left the network, then
		 * add back one segment for the retransmission to come. */
		if (!cc->sack) {
			cc->cwnd = cc->cwnd > acked ? cc->cwnd - acked : 0;
			if (acked >= cc->mss)
				cc->cwnd += cc->mss;
			if (cc->cwnd < cc->mss)
				cc->cwnd = cc->mss;
		}
		return;
	}
	/* RFC 7661: a window the sender does not use has not been validated
	 * by the network; do not grow it. */
	if (!a->cwnd_limited)
		return;
	if (cc->cwnd < cc->ssthresh && cc->hs_state != CC_HS_DONE) {
		hystart_ack(cc, a);
		if (cc->hs_state == CC_HS_CSS) {
			cc->cwnd = cwnd_clamp((uint64_t)cc->cwnd + acked / HS_CSS_GROWTH_DIVISOR);
			return;
		}
	}
	if (cc->cwnd < cc->ssthresh) {
		/* Slow start with byte counting and no per-ACK limit (as Linux;
		 * stretch ACKs from GRO receivers would stall an L of 1 MSS). */
		ss = cc->ssthresh - cc->cwnd;
		if (ss > acked)
			ss = acked;
		cc->cwnd = cwnd_clamp((uint64_t)cc->cwnd + ss);
		acked -= ss;
		if (acked == 0)
			return;
	}
	cc->ops->cong_avoid(cc, acked, a, now);
	cc->cwnd = cwnd_clamp(cc->cwnd);
}

/* RFC 6937: cwnd = pipe + what this ACK lets go (prr_out: bytes sent
 * since the reduction began). */
static void prr_step(cc_state *cc, uint32_t delivered, uint32_t pipe)
{
	uint64_t want;
	uint32_t sndcnt, limit;

	cc->prr_delivered += delivered;
	if (pipe > cc->ssthresh) {
		/* proportional: CEIL(prr_delivered * ssthresh / RecoverFS) */
		want = ((uint64_t)cc->prr_delivered * cc->ssthresh + cc->recover_fs - 1) /
		       cc->recover_fs;
		sndcnt = want > cc->prr_out ? (uint32_t)(want - cc->prr_out) : 0;
	} else {
		/* slow-start reduction bound: catch up to ssthresh, no faster
		 * than delivery plus one MSS */
		limit = cc->prr_delivered > cc->prr_out ? cc->prr_delivered - cc->prr_out : 0;
		if (limit < delivered)
			limit = delivered;
		limit += cc->mss;
		sndcnt = cc->ssthresh - pipe < limit ? cc->ssthresh - pipe : limit;
	}
	cc->cwnd = cwnd_clamp((uint64_t)pipe + sndcnt);
}

void cc_prr_ack(cc_state *cc, uint32_t delivered, uint32_t pipe)
{
	if (!cc->in_recovery || !cc->sack || cc->ops->fixed)
		return;
	prr_step(cc, delivered, pipe);
}

void cc_enter_cwr(cc_state *cc, uint32_t flight, uint64_t now)
{
	if (cc->ops->fixed)
		return;
	cc->prior_cwnd = cc->cwnd;
	cc->hs_state = CC_HS_DONE;
	cc->prr_delivered = cc->prr_out = 0;
	cc->recover_fs = cc->cwnd ? cc->cwnd : 1;   /* Linux: prior_cwnd */
	cc->ssthresh = cc->ops->ssthresh(cc, flight, now);
	cc->bytes_acked = 0;
}

void cc_cwr_ack(cc_state *cc, uint32_t delivered, uint32_t pipe, uint32_t sent)
{
	if (cc->ops->fixed || !delivered)
		return;
	cc->prr_out = sent;
	prr_step(cc, delivered, pipe);
}

void cc_end_cwr(cc_state *cc, uint64_t now)
{
	if (cc->ops->fixed)
		return;
	cc->cwnd = cc->ssthresh;
	cc->bytes_acked = 0;
	if (cc->ops->exit_recovery)
		cc->ops->exit_recovery(cc, now);
}

void cc_cwr_to_recovery(cc_state *cc, bool sack)
{
	if (cc->ops->fixed || cc->in_recovery)
		return;
	cc->in_recovery = true;
	cc->sack = sack;
	if (!sack)
		cc->cwnd = cwnd_clamp((uint64_t)cc->ssthresh + 3 * cc->mss);
}

void cc_on_dupack(cc_state *cc)
{
	if (cc->in_recovery && !cc->sack && !cc->ops->fixed)
		cc->cwnd = cwnd_clamp((uint64_t)cc->cwnd + cc->mss);
}

void cc_enter_recovery(cc_state *cc, uint32_t flight, bool sack, uint64_t now)
{
	if (cc->ops->fixed || cc->in_recovery)
		return;
	cc->prior_cwnd = cc->cwnd;
	cc->hs_state = CC_HS_DONE;    /* HyStart++ is for the first slow start */
	cc->prr_delivered = cc->prr_out = 0;
	cc->recover_fs = flight ? flight : 1;
	cc->ssthresh = cc->ops->ssthresh(cc, flight, now);
	cc->cwnd = sack ? cc->ssthresh : cwnd_clamp((uint64_t)cc->ssthresh + 3 * cc->mss);
	cc->bytes_acked = 0;
	cc->in_recovery = true;
	cc->sack = sack;
}

void cc_exit_recovery(cc_state *cc, uint32_t flight, uint64_t now)
{
	uint32_t w;

	if (!cc->in_recovery)
		return;
	cc->in_recovery = false;
	if (cc->sack) {
		cc->cwnd = cc->ssthresh;
	} else {
		/* RFC 6582 §3.2 (3), option 1: no burst from the deflation */
		w = (flight > cc->mss ? flight : cc->mss) + cc->mss;
		cc->cwnd = w < cc->ssthresh ? w : cc->ssthresh;
	}
	cc->bytes_acked = 0;
	if (cc->ops->exit_recovery)
		cc->ops->exit_recovery(cc, now);
}

void cc_on_rto(cc_state *cc, uint32_t flight, bool first, uint64_t now)
{
	if (cc->ops->fixed)
		return;
	/* Linux keeps the ssthresh of a recovery the timeout interrupts: the
	 * loss was already answered once. */
	if (first && !cc->in_recovery)
		cc->ssthresh = cc->ops->ssthresh(cc, flight, now);
	cc->hs_state = CC_HS_DONE;
	cc->cwnd = cc->mss;
	cc->in_recovery = false;
	cc->bytes_acked = 0;
	if (cc->ops->on_rto)
		cc->ops->on_rto(cc, now);
}

void cc_after_idle(cc_state *cc, uint64_t idle, uint64_t rto, uint64_t now)
{
	uint32_t iw;

	if (cc->ops->fixed)
		return;
	if (idle > rto) {
		iw = cc_initial_window(cc->mss);
		if (cc->cwnd > iw)
			cc->cwnd = iw;
	}
	if (cc->ops->after_idle)
		cc->ops->after_idle(cc, idle, now);
}

void cc_undo_save(const cc_state *cc, cc_undo *u)
{
	u->cwnd = cc->cwnd;
	u->ssthresh = cc->ssthresh;
	memcpy(u->priv, cc->priv, sizeof(u->priv));
}

void cc_undo_restore(cc_state *cc, const cc_undo *u)
{
	if (cc->ops->fixed)
		return;
	/* RFC 9438 §4.9: the saved state only when cwnd is still below it;
	 * a cwnd that already grew past it keeps its own, newer state. */
	if (cc->cwnd < u->cwnd) {
		cc->cwnd = u->cwnd;
		memcpy(cc->priv, u->priv, sizeof(cc->priv));
	}
	if (cc->ssthresh < u->ssthresh)
		cc->ssthresh = u->ssthresh;
	cc->bytes_acked = 0;
}

void cc_set_mss(cc_state *cc, uint32_t mss)
{
	uint64_t segs;

	if (mss < CC_MIN_MSS)
		mss = CC_MIN_MSS;
	if (mss == cc->mss || cc->ops->fixed) {
		cc->mss = mss;
		return;
	}
	segs = cc->cwnd / cc->mss;
	cc->cwnd = cwnd_clamp((segs ? segs : 1) * mss);
	if (cc->ssthresh < CC_CWND_MAX)
		cc->ssthresh = cwnd_clamp((uint64_t)cc->ssthresh / cc->mss * mss);
	cc->mss = mss;
}
