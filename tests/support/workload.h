/*
 * A request/response workload for the tests that run the same traffic two
 * ways and compare what anyone could see (test_shortcuts, test_timer_defer):
 * connections from host 0 to host 1, each a few rounds of a request and a
 * response of random sizes with pauses between them, then a close by
 * either end.
 */
#ifndef HSK_TEST_WORKLOAD_H
#define HSK_TEST_WORKLOAD_H

#include "core/rand.h"
#include "sim.h"

enum { WL_MAX_ROUNDS = 5 };

typedef struct wl_conn {
	int lsd, csd, ssd;
	int round, rounds;
	size_t req[WL_MAX_ROUNDS], resp[WL_MAX_ROUNDS];
	uint64_t pause[WL_MAX_ROUNDS];
	size_t sent, got;         /* of the current message */
	int phase;                /* 0 request, 1 response, 2 pause, 3 close, 4 done */
	uint64_t wake;
	bool server_closes;
	bool closer_closed;
	bool keepalive;           /* the client's keepalive runs in the pauses */
} wl_conn;

/* A new connection: its rounds, sizes, pauses (one of `pauses`) and which
 * end closes drawn from rng; host 1 listens on port and host 0 connects. */
void wl_plan(sim *sm, hsk_rng *rng, wl_conn *w, uint16_t port, const uint64_t *pauses,
	     unsigned npauses);
/* Moves the connection on as far as it can go now. */
void wl_step(sim *sm, wl_conn *w);
/* The log, one line per event with every field that is not a pointer (the
 * cause or drop reason as text; the TOS byte for TX only); malloc'ed. */
char *wl_trace(const sim *sm, size_t *len);
/* Fails the test, showing where, unless the two traces of `seed` are the
 * same; frees both. */
void wl_same(uint64_t seed, char *a, size_t la, const char *name_a, char *b, size_t lb,
	     const char *name_b);

#endif
