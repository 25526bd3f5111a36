/*
 * No congestion control: a fixed window so large that only the peer's
 * window and the send buffer limit the sender. For tests that study other
 * mechanisms in isolation; never a default.
 */
#include "tcp/cc.h"

static void none_init(cc_state *cc, uint64_t now)
{
	(void)now;
	cc->cwnd = CC_CWND_MAX;
	cc->ssthresh = CC_CWND_MAX;
}

static void none_cong_avoid(cc_state *cc, uint32_t acked, const cc_ack *a, uint64_t now)
{
	(void)cc;
	(void)acked;
	(void)a;
	(void)now;
}

static uint32_t none_ssthresh(cc_state *cc, uint32_t flight, uint64_t now)
{
	(void)flight;
	(void)now;
	return cc->ssthresh;
}

const cc_ops cc_none_ops = {
	.name = "none",
	.init = none_init,
	.cong_avoid = none_cong_avoid,
	.ssthresh = none_ssthresh,
	.fixed = true,
};
