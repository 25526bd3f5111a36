/*
 * CUBIC (RFC 9438) in integer arithmetic.
 *
 *   W_cubic(t) = C * (t - K)^3 + W_max,   C = 0.4 segments/s^3
 *   K = cbrt((W_max - cwnd_epoch) / C)
 *
 * Windows are bytes (so C becomes 0.4 * MSS bytes/s^3); time on the curve
 * is counted in units of 1/1024 s, as Linux does, so that (t - K)^3 is a
 * power-of-two scale away from seconds^3. beta = 0.7; fast convergence
 * sets W_max to cwnd * (1 + beta) / 2 when a loss comes before the
 * previous W_max was reached; the Reno-friendly estimate W_est grows by
 * alpha = 3 (1 - beta) / (1 + beta) = 9/17 segments per window (1 once
 * W_est reaches W_max).
 */
#include "tcp/cc.h"

#define CUBIC_UNITS_PER_S 1024u
#define CUBIC_MAX_OFFS (1u << 20)       /* |t - K| cap: about 17 minutes */
#define CUBIC_EST_SHIFT 10              /* W_est fixed point */

struct cubic {
	uint64_t epoch_start;   /* ns; valid when in_epoch */
	uint64_t w_est;         /* Reno-friendly window, bytes << EST_SHIFT */
	uint64_t acc;           /* sum of (target - cwnd) * acked not yet paid */
	uint32_t w_max;         /* bytes: the window at the last loss */
	uint32_t origin;        /* W_max of the curve in this epoch */
	uint32_t k;             /* K in 1/1024 s */
	bool in_epoch;
	bool after_rto;         /* next epoch: K = 0, W_max = cwnd (§4.8) */
};

_Static_assert(sizeof(struct cubic) <= sizeof(((cc_state *)0)->priv), "cubic priv");

static struct cubic *cub(cc_state *cc) { return (struct cubic *)cc->priv; }
static const struct cubic *ccub(const cc_state *cc) { return (const struct cubic *)cc->priv; }

uint32_t cc_icbrt(uint64_t x)
{
	uint64_t y = 0, b;
	int s;

	/* Digit-by-digit cube root, three bits of x per bit of y
	 * (Hacker's Delight 11-2, widened to 64 bits). */
	for (s = 63; s >= 0; s -= 3) {
		y <<= 1;
		b = 3 * y * (y + 1) + 1;
		if ((x >> s) >= b) {
			x -= b << s;
			y++;
		}
	}
	return (uint32_t)y;
}

static uint64_t ns_to_units(uint64_t t)
{
	return t / 1000 * CUBIC_UNITS_PER_S / 1000000;
}

/* K = cbrt((W_max - cwnd) / (C * MSS)) seconds, in 1/1024 s. */
static uint32_t cubic_k(uint32_t diff, uint32_t mss)
{
	uint64_t x = ((uint64_t)diff << 30) / mss;   /* segments * 2^30 */

	return cc_icbrt(x / 2 * 5);                   /* / C = * 5/2 */
}

/* W_cubic at `t` ns after the epoch start, in bytes. */
static uint64_t cubic_w(const struct cubic *c, uint32_t mss, uint64_t t)
{
	uint64_t u = ns_to_units(t), off, d3, delta;
	bool before = u < c->k;

	off = before ? c->k - u : u - c->k;
	if (off > CUBIC_MAX_OFFS)
		off = CUBIC_MAX_OFFS;
	/* off^3 / 2^30 seconds^3, kept in 2^20 fixed point on the way */
	d3 = ((off * off) >> 10) * off;
	delta = (((d3 >> 10) * 2 * mss / 5) >> 10);
	if (before)
		return delta >= c->origin ? 0 : c->origin - delta;
	return c->origin + delta;
}

static void cubic_init(cc_state *cc, uint64_t now)
{
	struct cubic *c = cub(cc);

	(void)now;
	*c = (struct cubic){ 0 };
}

static void cubic_epoch_start(cc_state *cc, uint64_t now)
{
	struct cubic *c = cub(cc);

	c->in_epoch = true;
	c->epoch_start = now;
	c->acc = 0;
	c->w_est = (uint64_t)cc->cwnd << CUBIC_EST_SHIFT;
	if (c->after_rto) {
		c->after_rto = false;
		c->w_max = cc->cwnd;
	}
	if (cc->cwnd < c->w_max) {
		c->k = cubic_k(c->w_max - cc->cwnd, cc->mss);
		c->origin = c->w_max;
	} else {
		/* Above the old maximum: probe from here, convex at once. */
		c->k = 0;
		c->origin = cc->cwnd;
	}
}

static void cubic_cong_avoid(cc_state *cc, uint32_t acked, const cc_ack *a, uint64_t now)
{
	struct cubic *c = cub(cc);
	uint64_t t, w_t, target, est, alpha, inc;

	if (!c->in_epoch)
		cubic_epoch_start(cc, now);
	t = now - c->epoch_start;

	/* Reno-friendly estimate (§4.3): alpha segments per window */
	alpha = (c->w_est >> CUBIC_EST_SHIFT) >= c->w_max ? 17 : 9;
	c->w_est += (((uint64_t)acked * cc->mss) << CUBIC_EST_SHIFT) * alpha / 17 / cc->cwnd;
	est = c->w_est >> CUBIC_EST_SHIFT;

	w_t = cubic_w(c, cc->mss, t);
	if (w_t < est) {
		/* Reno-friendly region (§4.3) */
		if (est > cc->cwnd)
			cc->cwnd = est > CC_CWND_MAX ? CC_CWND_MAX : (uint32_t)est;
		c->acc = 0;
		return;
	}
	/* Concave and convex regions (§4.4, §4.5): aim at W_cubic(t + RTT),
	 * no lower than cwnd and no higher than 1.5 cwnd. */
	target = cubic_w(c, cc->mss, t + a->srtt);
	if (target < cc->cwnd)
		target = cc->cwnd;
	if (target > cc->cwnd + cc->cwnd / 2)
		target = cc->cwnd + cc->cwnd / 2;
	/* cwnd += (target - cwnd) / cwnd per MSS acked, paid in whole bytes */
	c->acc += (target - cc->cwnd) * acked;
	inc = c->acc / cc->cwnd;
	c->acc -= inc * cc->cwnd;
	cc->cwnd = cc->cwnd + inc > CC_CWND_MAX ? CC_CWND_MAX : (uint32_t)(cc->cwnd + inc);
}

static uint32_t cubic_ssthresh(cc_state *cc, uint32_t flight, uint64_t now)
{
	struct cubic *c = cub(cc);
	uint32_t ss;

	(void)flight;   /* cwnd-based, as Linux; cc.c does not grow an
			 * unused window, which RFC 9438 §4.6 asks for */
	(void)now;
	c->in_epoch = false;
	/* Fast convergence (§4.7) */
	if (cc->cwnd < c->w_max)
		c->w_max = (uint32_t)((uint64_t)cc->cwnd * 17 / 20);
	else
		c->w_max = cc->cwnd;
	ss = (uint32_t)((uint64_t)cc->cwnd * 7 / 10);
	return ss > 2 * cc->mss ? ss : 2 * cc->mss;
}

static void cubic_on_rto(cc_state *cc, uint64_t now)
{
	(void)now;
	cub(cc)->in_epoch = false;
	cub(cc)->after_rto = true;
}

static void cubic_exit_recovery(cc_state *cc, uint64_t now)
{
	(void)now;
	/* The epoch begins with the first CA ACK after recovery. */
	cub(cc)->in_epoch = false;
}

static void cubic_after_idle(cc_state *cc, uint64_t idle, uint64_t now)
{
	struct cubic *c = cub(cc);

	(void)now;
	/* The curve is a function of time spent sending, not of time idle
	 * (Linux shifts the epoch the same way). */
	if (c->in_epoch)
		c->epoch_start += idle;
}

const cc_ops cc_cubic_ops = {
	.name = "cubic",
	.init = cubic_init,
	.cong_avoid = cubic_cong_avoid,
	.ssthresh = cubic_ssthresh,
	.on_rto = cubic_on_rto,
	.exit_recovery = cubic_exit_recovery,
	.after_idle = cubic_after_idle,
};

/* ---- for tests and traces ---- */
uint64_t cc_cubic_window(const cc_state *cc, uint64_t t)
{
	return cubic_w(ccub(cc), cc->mss, t);
}

uint64_t cc_cubic_k(const cc_state *cc)
{
	return (uint64_t)ccub(cc)->k * 1000000000ull / CUBIC_UNITS_PER_S;
}

bool cc_cubic_in_epoch(const cc_state *cc)
{
	return ccub(cc)->in_epoch;
}

uint32_t cc_cubic_w_max(const cc_state *cc)
{
	return ccub(cc)->w_max;
}

uint32_t cc_cubic_w_est(const cc_state *cc)
{
	return (uint32_t)(ccub(cc)->w_est >> CUBIC_EST_SHIFT);
}
