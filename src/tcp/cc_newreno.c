/*
 * NewReno (RFC 5681, RFC 6582): in congestion avoidance one MSS per window
 * of acknowledged bytes (byte counting, RFC 3465 §2.1); on loss, half the
 * flight size.
 */
#include "tcp/cc.h"

static void reno_cong_avoid(cc_state *cc, uint32_t acked, const cc_ack *a, uint64_t now)
{
	(void)a;
	(void)now;
	cc->bytes_acked += acked;
	while (cc->bytes_acked >= cc->cwnd) {
		cc->bytes_acked -= cc->cwnd;
		cc->cwnd += cc->mss;
	}
}

static uint32_t reno_ssthresh(cc_state *cc, uint32_t flight, uint64_t now)
{
	(void)now;
	/* RFC 5681 (4): max(FlightSize / 2, 2*SMSS) */
	return flight / 2 > 2 * cc->mss ? flight / 2 : 2 * cc->mss;
}

const cc_ops cc_newreno_ops = {
	.name = "newreno",
	.cong_avoid = reno_cong_avoid,
	.ssthresh = reno_ssthresh,
};
