/*
 * RTT estimation and the retransmission timeout (RFC 6298), with samples
 * from timestamps (RFC 7323 §4) and Karn's rule.
 *
 * The per-connection state is small (rtt_est); the knobs that are the same
 * for every connection of a stack live in rtt_params, passed in by the
 * caller, so that a TCB does not carry copies of them.
 *
 * All times are nanoseconds.
 */
#ifndef HSK_TCP_RTT_H
#define HSK_TCP_RTT_H

#include <stdbool.h>
#include <stdint.h>

enum {
	RTT_MAX_BACKOFF = 15,     /* shifts; 1 s << 15 is far past rto_max */
};

#define RTT_NS_PER_MS 1000000ull
#define RTT_MIN_RTT_WIN_NS (300ull * 1000 * RTT_NS_PER_MS) /* min_rtt window */

typedef struct rtt_params {
	uint64_t rto_initial;     /* 1 s (RFC 6298 (2.1)) */
	uint64_t rto_min;         /* 200 ms (Linux TCP_RTO_MIN) */
	uint64_t rto_max;         /* 120 s (Linux TCP_RTO_MAX) */
	uint64_t granularity;     /* G of RFC 6298: 1 ms */
	uint64_t ts_tick;         /* length of one timestamp-clock tick: 1 ms */
} rtt_params;

/* 32 bytes, in every TCB: RTTs in 48 bits of ns (78 hours; a sample
 * beyond counts as that), the base RTO computed from them when needed.
 * Only SRTT shares its word (with the backoff); RTTVAR and min_rtt have
 * one each, as whole words (no masks to read or write them: they never
 * exceed RTT_NS_MAX, a sample's bound, and RTTVAR's mean of two values
 * under it is under it too). */
#define RTT_NS_MAX ((UINT64_C(1) << 48) - 1)
typedef struct rtt_est {
	uint64_t srtt : 48;       /* 0 until the first sample */
	uint64_t backoff : 8;     /* exponential backoff shift */
	uint64_t fallback : 1;    /* no sample, SYN retransmitted: base RTO
				   * RTT_FALLBACK_NS (rtt_fallback) */
	uint64_t held : 2;        /* not the estimator's: bits its owner keeps
				   * (the TCB's buffer locks, tcp.h): no byte
				   * is left in a TCB, and this word is read
				   * masked and written read-modify-write
				   * already, so they cost no instruction */
	uint64_t rttvar;          /* at most RTT_NS_MAX */
	uint64_t min_rtt;         /* windowed minimum (for RACK); 0: none */
	uint64_t min_rtt_at;      /* when min_rtt was taken */
} rtt_est;
_Static_assert(sizeof(rtt_est) == 32, "rtt_est is 32 bytes in every TCB");

/* RFC 6298 §5.7: the RTO once the handshake is done when the SYN was
 * retransmitted and no sample was taken (Linux's TCP_TIMEOUT_FALLBACK). */
#define RTT_FALLBACK_NS (3000ull * RTT_NS_PER_MS)

/* Fills p with the defaults above. */
void rtt_params_default(rtt_params *p);
/* No sample yet: RTO = rto_initial clamped to [rto_min, rto_max]. */
void rtt_init(rtt_est *e, const rtt_params *p);

/* min_rtt follows a sample (rtt_add_sample). */
static inline void rtt_min_update(rtt_est *e, uint64_t rtt, uint64_t now)
{
	/* A plain minimum would never forget a path that got longer (a route
	 * change); restart it when it is older than the window. */
	if (e->min_rtt == 0 || rtt <= e->min_rtt ||
	    now - e->min_rtt_at > RTT_MIN_RTT_WIN_NS) {
		e->min_rtt = rtt;
		e->min_rtt_at = now;
	}
}

/*
 * Feeds one RTT measurement taken at `now`. `ambiguous` says the sample was
 * timed on a segment that was retransmitted and has no timestamp echo to
 * tell which transmission was acknowledged: Karn's rule discards it (and
 * keeps the backed-off RTO). An accepted sample updates SRTT/RTTVAR (the
 * first one sets SRTT = R, RTTVAR = R/2), recomputes the RTO, clears the
 * backoff and updates min_rtt. Returns whether the sample was used.
 */
/* Inline: every ACK of a transfer that acknowledges new data gives one
 * (the call and its frame cost about a fifth of it). */
static inline bool rtt_add_sample(rtt_est *e, const rtt_params *p, uint64_t rtt,
				  bool ambiguous, uint64_t now)
{
	(void)p;        /* the RTO is computed from SRTT and RTTVAR when asked */
	if (ambiguous)
		return false;   /* Karn: which transmission was acked? */
	if (rtt == 0)
		rtt = 1;        /* keeps srtt != 0 meaning "have a sample" */
	if (rtt > RTT_NS_MAX)
		rtt = RTT_NS_MAX;
	uint64_t srtt = e->srtt;
	if (srtt == 0) {
		/* (2.2) first measurement */
		e->srtt = rtt;
		e->rttvar = rtt / 2;
	} else {
		/* (2.3) RTTVAR first, with the old SRTT */
		uint64_t err = srtt > rtt ? srtt - rtt : rtt - srtt;
		uint64_t var = e->rttvar;

		e->rttvar = var - var / 4 + err / 4;
		/* never 0: srtt / 8 < srtt when srtt >= 1 */
		e->srtt = srtt - srtt / 8 + rtt / 8;
	}
	e->backoff = 0;
	rtt_min_update(e, rtt, now);
	return true;
}

/*
 * RFC 7323 §4.1: the sample from the timestamp echo of an ACK that
 * acknowledges new data: (TSval clock now) - TSecr, in ticks of ts_tick.
 * Timestamps identify the transmission, so Karn's rule does not apply.
 * An echo from the future or more than 2^31 ticks old is ignored.
 * `ts_offset` is the connection's random TSval offset. Returns whether a
 * sample was used.
 */
bool rtt_ts_sample(rtt_est *e, const rtt_params *p, uint64_t now, uint32_t ts_offset,
		   uint32_t ts_ecr);

/* The TSval to send at `now` (ticks of ts_tick plus the offset). */
static inline uint32_t rtt_tsval(const rtt_params *p, uint64_t now, uint32_t ts_offset)
{
	return (uint32_t)(now / p->ts_tick) + ts_offset;
}

/* The RTO of an estimator with no sample, no backoff and no fallback
 * (rtt_init's: connect's first SYN): rto_initial clamped to [rto_min,
 * rto_max]. In line, for output_syn (rtt_rto_any's call is ~24). */
static inline uint64_t rtt_rto_initial(const rtt_params *p)
{
	uint64_t rto = p->rto_initial < p->rto_min ? p->rto_min : p->rto_initial;
	return rto > p->rto_max ? p->rto_max : rto;
}
/* The timeout to arm now: the base RTO doubled per backoff, capped at
 * rto_max. */
uint64_t rtt_rto_any(const rtt_est *e, const rtt_params *p);
static inline uint64_t rtt_rto(const rtt_est *e, const rtt_params *p)
{
	/* Inline for the case of every ACK of a transfer: a sample, no
	 * backoff (rtt_base_rto's sum, clamped once). */
	if (e->srtt && !e->backoff) {
		uint64_t var4 = 4 * (uint64_t)e->rttvar;
		uint64_t rto = e->srtt + (var4 > p->granularity ? var4 : p->granularity);
		if (rto < p->rto_min)
			rto = p->rto_min;
		return rto > p->rto_max ? p->rto_max : rto;
	}
	return rtt_rto_any(e, p);
}
/* The retransmission timer expired (RFC 6298 (5.5)): double the RTO. */
void rtt_backoff(rtt_est *e);
/* The base RTO (without backoff): from SRTT and RTTVAR, clamped; before
 * any sample rto_initial clamped, or RTT_FALLBACK_NS (at most rto_max). */
uint64_t rtt_base_rto(const rtt_est *e, const rtt_params *p);
/* No sample yet and the SYN was retransmitted: the base RTO becomes
 * RTT_FALLBACK_NS (at most rto_max) if it is below that. */
void rtt_fallback(rtt_est *e, const rtt_params *p);
/* Forget the backoff, e.g. when an ACK acknowledges new data. */
static inline void rtt_backoff_reset(rtt_est *e) { e->backoff = 0; }
static inline bool rtt_has_sample(const rtt_est *e) { return e->srtt != 0; }
/* SRTT, or the initial RTO when no sample exists yet (for TLP's PTO). */
uint64_t rtt_srtt_or(const rtt_est *e, uint64_t dflt);

#endif
