/*
 * Congestion control behind a small ops table.
 *
 * cc.c holds what every algorithm shares (RFC 5681, RFC 6582, RFC 6675):
 * the initial window (RFC 6928), slow start with HyStart++ (RFC 9406),
 * entering and leaving fast recovery, proportional rate reduction during a
 * SACK recovery (RFC 6937), the RTO response and restart after idle. An
 * algorithm supplies only what differs: its growth in congestion avoidance
 * and its reduction on a congestion event, with a small private area in
 * cc_state (no malloc).
 *
 *   newreno  RFC 5681 + RFC 6582, byte counting in CA (RFC 3465)
 *   cubic    RFC 9438, integer arithmetic (the default)
 *   none     a fixed, huge window: for tests that want no congestion control
 *
 * Windows are in bytes, times in nanoseconds. The engine tracks sequence
 * numbers (RFC 6582's `recover`); this module only sees byte counts.
 */
#ifndef HSK_TCP_CC_H
#define HSK_TCP_CC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	CC_PRIV_U64 = 5,              /* private area: 40 bytes (CUBIC needs 40) */
	CC_CWND_MAX = 1u << 30,       /* cwnd never grows past 1 GiB */
	CC_MIN_MSS = 64,
};

struct cc_ops;

typedef struct cc_state {
	const struct cc_ops *ops;
	uint32_t cwnd;                /* bytes */
	uint32_t ssthresh;            /* bytes; CC_CWND_MAX until the first loss */
	uint32_t mss;                 /* SMSS */
	uint32_t bytes_acked;         /* CA byte counter (RFC 3465) */
	uint32_t prior_cwnd;          /* cwnd when recovery began */
	/* RFC 6937 proportional rate reduction, during SACK recovery */
	uint32_t prr_delivered, prr_out, recover_fs;
	bool in_recovery;             /* fast recovery (entered by cc_enter_recovery) */
	bool sack;                    /* this recovery is SACK/pipe based */
	/* RFC 9406 HyStart++ in the first slow start (RTTs in us) */
	uint8_t hs_state;             /* enum cc_hystart */
	uint8_t hs_samples, hs_css_rounds;
	uint32_t hs_round_left;       /* bytes to be acked before the round ends */
	uint32_t hs_cur_min, hs_last_min, hs_css_base;
	uint64_t priv[CC_PRIV_U64];   /* the algorithm's */
} cc_state;

enum cc_hystart {
	CC_HS_SS = 0,                 /* slow start, watching RTT */
	CC_HS_CSS,                    /* conservative slow start (growth / 4) */
	CC_HS_DONE,                   /* left: a loss, or CSS_ROUNDS in CSS */
};

/*
 * What a congestion event changed, for undoing it if the event proves
 * spurious (RFC 9438 §4.9, RFC 4015; Linux's prior_cwnd, prior_ssthresh
 * and tcp_undo_cwnd_reduction). Saved before the reduction; the engine
 * keeps it (tcb_act) and decides when an event was spurious.
 */
typedef struct cc_undo {
	uint64_t priv[CC_PRIV_U64];   /* the algorithm's (CUBIC: W_max, K,
				       * the epoch, W_est) */
	uint32_t cwnd, ssthresh;
} cc_undo;

/* What an ACK that advanced snd_una tells the controller. */
typedef struct cc_ack {
	uint32_t acked;               /* bytes newly acknowledged (cumulative) */
	uint32_t flight;              /* bytes in flight before this ACK */
	uint64_t srtt;                /* smoothed RTT, 0 when unknown */
	uint64_t rtt;                 /* an RTT sample taken from this ACK, 0 when
				       * none; HyStart++ works only with them */
	bool cwnd_limited;            /* the sender was held back by cwnd (not by
				       * the application or the peer's window)
				       * during the last RTT (RFC 7661) */
} cc_ack;

typedef struct cc_ops {
	const char *name;
	/* Called by cc_init after the common fields are set. It must not
	 * make anything depend on the MSS, and may set cwnd only when the
	 * algorithm is `fixed` (cc_init_like relies on both). */
	void (*init)(cc_state *cc, uint64_t now);
	/* Growth in congestion avoidance (cwnd >= ssthresh), for `acked`
	 * bytes; slow start is done by cc.c. */
	void (*cong_avoid)(cc_state *cc, uint32_t acked, const cc_ack *a, uint64_t now);
	/* The new ssthresh on a congestion event; may update private state
	 * (CUBIC's W_max). `flight` is the bytes in flight. */
	uint32_t (*ssthresh)(cc_state *cc, uint32_t flight, uint64_t now);
	/* Optional hooks (NULL: nothing to do). */
	void (*on_rto)(cc_state *cc, uint64_t now);
	void (*exit_recovery)(cc_state *cc, uint64_t now);
	void (*after_idle)(cc_state *cc, uint64_t idle, uint64_t now);
	bool fixed;                   /* cwnd never changes ("none") */
} cc_ops;

extern const cc_ops cc_newreno_ops;
extern const cc_ops cc_cubic_ops;
extern const cc_ops cc_none_ops;

/* ---- registry ---- */
/* By name ("cubic", "newreno", "reno", "none"); NULL when unknown. */
const cc_ops *cc_find(const char *name);
/* CUBIC. */
const cc_ops *cc_default(void);
/* The i-th algorithm, NULL past the end (for listing them). */
const cc_ops *cc_at(size_t i);
/* The algorithms cc_at knows (0 .. CC_ALGOS - 1), and ops' place there. */
enum { CC_ALGOS = 3 };
unsigned cc_index(const cc_ops *ops);

/* ---- the calls the engine makes ---- */
/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)). In line: every
 * connection's extension starts with it. */
static inline uint32_t cc_initial_window(uint32_t mss)
{
	uint32_t lo = 2 * mss > 14600 ? 2 * mss : 14600;

	return 10 * mss < lo ? 10 * mss : lo;
}
/* A connection becomes established with this MSS. */
void cc_init(cc_state *cc, const cc_ops *ops, uint32_t mss, uint64_t now);
/* An ACK advanced snd_una. Outside recovery: slow start or congestion
 * avoidance (only when a->cwnd_limited). In recovery this is a partial ACK:
 * without SACK, RFC 6582 deflation (cwnd -= acked, + MSS if acked >= MSS);
 * with SACK nothing (the pipe governs). */
void cc_on_ack(cc_state *cc, const cc_ack *a, uint64_t now);
/*
 * RFC 6937 PRR (SSRB), the way to pace a SACK recovery (as Linux does): on
 * every ACK during recovery, after the scoreboard is updated, give the bytes
 * this ACK delivered (newly cumulatively acked + newly SACKed) and the pipe
 * after it; cwnd becomes pipe + what may be sent now. While the pipe is
 * above ssthresh, sending follows delivery in the ratio ssthresh /
 * RecoverFS; below it, slow start back up to ssthresh. Report everything
 * sent during recovery (new data and retransmissions) with cc_prr_sent.
 */
void cc_prr_ack(cc_state *cc, uint32_t delivered, uint32_t pipe);
static inline void cc_prr_sent(cc_state *cc, uint32_t bytes)
{
	/* Inline: asked for each segment sent, in recovery or not. */
	if (cc->in_recovery)
		cc->prr_out += bytes;
}

/*
 * The CWR state (Linux's tcp_enter_cwr, tcp_cwnd_reduction,
 * tcp_end_cwnd_reduction), for an ECN echo (RFC 3168 §6.1.2): ssthresh
 * from the algorithm at once, cwnd brought down to it over the round trip
 * by PRR (RFC 6937, RecoverFS the cwnd before, as Linux) instead of at
 * once; no growth meanwhile. cc_enter_cwr begins it (cwnd untouched);
 * cc_cwr_ack on each ACK with the bytes it delivered, the pipe after it
 * and the bytes sent since the reduction began; cc_end_cwr once SND.UNA
 * passes what was outstanding then (cwnd = ssthresh). A loss meanwhile
 * turns it into fast recovery with the same ssthresh and PRR counts
 * (cc_cwr_to_recovery: no second reduction, as Linux's
 * tcp_enter_recovery in CWR). The engine keeps the state (tcb.ecn).
 */
void cc_enter_cwr(cc_state *cc, uint32_t flight, uint64_t now);
void cc_cwr_ack(cc_state *cc, uint32_t delivered, uint32_t pipe, uint32_t sent);
void cc_end_cwr(cc_state *cc, uint64_t now);
void cc_cwr_to_recovery(cc_state *cc, bool sack);

/* A duplicate ACK during non-SACK fast recovery: cwnd += MSS (RFC 6582). */
void cc_on_dupack(cc_state *cc);
/* Loss detected (third duplicate ACK, SACK IsLost, RACK): ssthresh from the
 * algorithm; cwnd = ssthresh (SACK, RFC 6675) or ssthresh + 3*MSS
 * (RFC 6582). Does nothing when already in recovery. */
void cc_enter_recovery(cc_state *cc, uint32_t flight, bool sack, uint64_t now);
/* The ACK covering `recover` arrived. Without SACK cwnd =
 * min(ssthresh, max(flight, MSS) + MSS) (RFC 6582 §3.2 (3)); with SACK
 * cwnd = ssthresh. `flight` is the bytes in flight after the ACK. */
void cc_exit_recovery(cc_state *cc, uint32_t flight, uint64_t now);
/* The retransmission timer fired. On the first expiry for a segment
 * (`first`) and outside recovery ssthresh is reduced (RFC 5681 (4));
 * later expiries keep it. cwnd = 1 MSS (the loss window); recovery ends. */
void cc_on_rto(cc_state *cc, uint32_t flight, bool first, uint64_t now);
/* Sending resumes after `idle` ns without anything in flight: when idle >
 * rto, cwnd = min(cwnd, IW) (RFC 5681 §4.1). */
void cc_after_idle(cc_state *cc, uint64_t idle, uint64_t rto, uint64_t now);
/* Before a congestion event's reduction: what undo would restore. */
void cc_undo_save(const cc_state *cc, cc_undo *u);
/* The event was spurious (RFC 9438 §4.9): when cwnd is below what it was,
 * cwnd and the algorithm's state go back to it (CUBIC's curve as if the
 * event had not happened); ssthresh = max(ssthresh, what it was), as
 * Linux. Recovery itself is the engine's to leave. */
void cc_undo_restore(cc_state *cc, const cc_undo *u);
/* cc_init(cc, fresh->ops, mss) without calling the algorithm again:
 * `fresh` is a state cc_init made for the same ops (with any mss). Valid
 * because an algorithm's init sets nothing that depends on the MSS, and
 * cwnd only when it is `fixed`. */
static inline void cc_init_like(cc_state *cc, const cc_state *fresh, uint32_t mss)
{
	/* In line (its one caller, tcb_cc_init, at every connection's
	 * establishment): a copy and two stores, less than a call's frame. */
	*cc = *fresh;
	cc->mss = mss < CC_MIN_MSS ? CC_MIN_MSS : mss;
	if (!cc->ops->fixed)
		cc->cwnd = cc_initial_window(cc->mss);
}
/* Nothing but cwnd and mss differs from `fresh` (as above): the state can
 * be rebuilt from cwnd and mss alone, by cc_init_like. */
bool cc_pristine(const cc_state *cc, const cc_state *fresh);
/* The path MSS changed; keeps cwnd in segments. */
void cc_set_mss(cc_state *cc, uint32_t mss);

static inline bool cc_in_slow_start(const cc_state *cc) { return cc->cwnd < cc->ssthresh; }
/* Bytes that may be sent now given `pipe` (RFC 6675) or FlightSize. */
static inline uint32_t cc_room(const cc_state *cc, uint32_t pipe)
{
	return cc->cwnd > pipe ? cc->cwnd - pipe : 0;
}

/* ---- exposed for tests and traces ---- */
/* floor(cbrt(x)) */
uint32_t cc_icbrt(uint64_t x);
/* CUBIC's W_cubic(t) in bytes for the current epoch, t ns after its
 * start; K of the epoch in ns; whether an epoch is running; W_max; W_est. */
uint64_t cc_cubic_window(const cc_state *cc, uint64_t t);
uint64_t cc_cubic_k(const cc_state *cc);
bool cc_cubic_in_epoch(const cc_state *cc);
uint32_t cc_cubic_w_max(const cc_state *cc);
uint32_t cc_cubic_w_est(const cc_state *cc);

#endif
