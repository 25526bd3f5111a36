/*
 * The shapes' comparisons (test_fast_handshake, test_fast_fin,
 * test_fast_calls) and the mode
 * runs (test_fastpath) share these: a run's outcome (its trace events as
 * text, its counters, the bytes delivered) and its comparison with the
 * same run made with tcp_stack.no_fastpath; a set of shapes run both ways
 * and compared (SHAPES_COMPARE); a TCB as text. peer.h plays a peer
 * against host S on top of these.
 */
#ifndef HSK_TEST_SHAPES_H
#define HSK_TEST_SHAPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"
#include "stack/stack.h"

/* The two hosts: the client and the server (the peer's side). */
enum { C = 0, S = 1 };

typedef struct outcome {
	char **ev;
	size_t nev;
	char **rec;               /* rec_log's lines */
	size_t nrec;
	uint64_t *cnt;            /* counters of both hosts */
	size_t ncnt;
	size_t bytes;             /* application bytes delivered */
} outcome;

/* The run's trace events, as text, into out. */
void events_as_text(const sim *sm, outcome *out);

/* Frees o's lines and counters. */
void outcome_free(outcome *o);

/* The two runs' counters (hosts: 2 when both hosts' are interleaved, as
 * run's, or 1) are the same, but for the two that count the segments
 * header prediction took (TCPHPAcks, TCPHPHits, as Linux's): none with
 * no_fastpath, which also shows that the switch turns the short way off.
 * hp, when not NULL, adds up the fast run's. */
void same_counters(const char *what, uint64_t seed, const outcome *fast,
		   const outcome *slow, size_t hosts, uint64_t *hp);

/* fast and slow gave the same events, counters and bytes (what, name: for
 * the message); frees both, returns the number of events. */
size_t outcomes_same(const char *what, const char *name, outcome *fast, outcome *slow);

/* Runs each of n shapes (size bytes each, the name first) both ways and
 * compares them (outcomes_same). */
void shapes_compare(const char *what, const void *shapes, size_t n, size_t size,
		    void (*run_one)(const void *v, bool slow, outcome *out));

#define SHAPES_COMPARE(what, shapes, run) \
	shapes_compare(what, shapes, sizeof(shapes) / sizeof((shapes)[0]), sizeof((shapes)[0]), run)

/* The options of the peer's SYN or SYN,ACK: MSS 1200, window shift 3,
 * SACK, and timestamps with TSval ts_val. */
tcp_opts peer_syn_opts(uint32_t ts_val);

/* The TCB of tuple tu in st, as text after `what`: every byte of it but
 * its pointers (a timer and an extension say only whether they are
 * there), or what holds the tuple. */
char *tcb_text(hsk_stack *st, const hsk_tuple *tu, const char *what);

/* The TCB of the connection from peer:4000 to S's port 80 after the
 * third ACK (tcb_text). */
char *child_text(hsk_stack *st, uint32_t peer);

/* out's events, and one more line: s */
void outcome_add(outcome *out, char *s);

/* The run's events (and one more line, extra, when not NULL), st's
 * counters and the bytes delivered into out; frees the simulation. */
void outcome_of(sim *sm, hsk_stack *st, char *extra, size_t bytes, outcome *out);

#endif
