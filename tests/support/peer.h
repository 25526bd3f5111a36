/*
 * A peer played by the test against host S (shapes.h's hosts): a
 * connection from it to S's port 80, opened and accepted, then the
 * peer's segments, S's writes and S's close, and the run's outcome for
 * shapes.h's comparison (test_fast_fin, test_fast_calls).
 */
#ifndef HSK_TEST_PEER_H
#define HSK_TEST_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shapes.h"
#include "sim.h"
#include "stack/stack.h"

/* A connection from a peer played here to host S's port 80, accepted:
 * the state the close tests start from. */
typedef struct peer {
	sim sm;
	hsk_stack *st;
	int lsd, sd;
	uint32_t addr, irs, iss, tsv;
	tcp_opts o;               /* the peer's options (TSval tsv) */
} peer;

/* Opens the connection from the peer (plain: S without SACK, timestamps,
 * window scaling and ECN; slow: S with tcp_stack.no_fastpath) and
 * accepts it on S. */
void peer_open(peer *p, bool plain, bool slow, uint64_t seed);
/* The same but for the accept: the connection is on the listener's
 * accept queue (sd -1). */
void peer_open_queued(peer *p, bool plain, bool slow, uint64_t seed);

/* A segment from the peer, SEG.SEQ = IRS + 1 + dseq, SEG.ACK = ISS + 1 +
 * dack, with the next TSval. */
void peer_send(peer *p, uint32_t dseq, uint32_t dack, uint8_t flags, uint16_t win,
	       const uint8_t *bytes, size_t len);

/* The bytes S writes, and the peer's text. */
extern const uint8_t text[100];

/* S writes the 100 bytes; 7 ms pass. */
void peer_write(peer *p);

/* The run's events and S's counters into out; frees the simulation. */
void peer_outcome(peer *p, outcome *out);

/* S closes (or, open, shuts down writing only). */
void peer_close(peer *p, bool open);

/* TIME_WAIT passes; then the socket (open: still there) and the listener
 * close, and the run's outcome goes to out. */
void peer_end(peer *p, bool open, outcome *out);

/* Whether sd is among the sockets the events report now (it reads them). */
bool socket_told(hsk_stack *st, int sd);

/* S aborts its connection and closes the listener; the run's outcome,
 * and one more line, go to out. */
void peer_abort_end(peer *p, outcome *out, const char *line);

#endif
