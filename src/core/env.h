/*
 * What every layer of one stack shares: the configuration, the clock, the
 * counters, the secret keys, the random generator, the timer wheel and the
 * trace hook. Core knows no protocol; the IP and TCP layers and the stack
 * instance above them each hold a pointer to their stack's one hsk_env.
 */
#ifndef HSK_ENV_H
#define HSK_ENV_H

#include "core/counters.h"
#include "core/rand.h"
#include "core/wheel.h"
#include "handshake.h"

typedef struct hsk_env {
	hsk_config cfg;
	uint64_t now;             /* the driver's clock at the last call */
	uint32_t now_ms;          /* (uint32_t)(now / 1000000): ms, for
				   * TS.Recent's age and the quick-ACK clock;
				   * set with now (env_set_now) */
	hsk_counters cnt;
	uint64_t key0, key1;      /* secret: table hash, ISNs, cookies, ports */
	hsk_rng rng;
	hsk_wheel wheel;          /* every timer of the stack */
} hsk_env;

/* The clock moves (or is set): the ms beside it, one division per move
 * instead of one per reader. */
static inline void env_set_now(hsk_env *e, uint64_t now)
{
	e->now = now;
	e->now_ms = (uint32_t)(now / 1000000);
}

/* Stamps ev with the clock and hands it to the trace hook, if any. */
static inline void env_trace(const hsk_env *e, hsk_trace_event *ev)
{
	if (!e->cfg.trace)
		return;
	ev->t_ns = e->now;
	e->cfg.trace(e->cfg.trace_ctx, ev);
}

#endif
