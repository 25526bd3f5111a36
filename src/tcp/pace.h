/*
 * Pacing (pace.c, docs/bytestream.md "Pacing"): the departures of a
 * connection whose socket set HSK_SO_MAX_PACING_RATE, or of every one
 * with hsk_config.pacing_rate. Its state is the active extension's
 * (tcb_act.pace_*).
 */
#ifndef HSK_TCP_PACE_H
#define HSK_TCP_PACE_H

#include "tcp/tcp.h"

/* tcb_act.pace_cap of a connection paced at the rate its window and RTT
 * give, with no cap of the user's. */
#define PACE_UNCAPPED UINT32_MAX

/* Whether the next paced segment must wait (then the timer is set for it:
 * pace_wait_at); for a connection with pace_cap set. */
bool pace_hold(struct tcp_stack *s, tcb *t);
/* A paced segment of len bytes went: the next may go len / rate later. */
void pace_sent(struct tcp_stack *s, tcb *t, uint32_t len);
/* The rate a paced connection sends at now, bytes/s (UINT64_MAX: none to
 * pace by, before an RTT sample and without a cap). */
uint64_t pace_rate(const tcb *t);
/* pace_rate for any connection: 0 when not paced (hsk_tcp_info's) */
uint64_t pace_rate_now(const struct tcp_stack *s, const tcb *t);

#endif
