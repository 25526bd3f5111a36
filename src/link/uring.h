/*
 * Batched reads and writes on one packet fd through io_uring (liburing):
 * a device keeps `nrx` reads posted, takes packets from the completion
 * ring without a system call, and sends many writes with one
 * io_uring_enter. Used by the TUN device (one ring per queue: nothing is
 * shared between queues).
 *
 * The fd must be blocking: io_uring then waits for a packet (it arms a
 * poll) instead of completing the read with EAGAIN. uring_io_fd() is the
 * ring's own fd, which polls readable while completions wait, so an epoll
 * loop watches it instead of the device's fd.
 *
 * Without liburing (HSK_HAVE_URING unset) uring_io_new fails with a
 * message saying so; nothing else may be called then.
 */
#ifndef HSK_LINK_URING_H
#define HSK_LINK_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uring_io uring_io;

/* true when this build has io_uring support. */
bool uring_io_available(void);
/* nrx receive buffers of rx_size bytes, ntx send buffers of tx_size. NULL
 * with a message in err. */
uring_io *uring_io_new(int fd, unsigned nrx, size_t rx_size, unsigned ntx,
		       size_t tx_size, char *err, size_t errlen);
void uring_io_free(uring_io *u);
int uring_io_fd(const uring_io *u);

/* The next received packet: its length with *buf pointing at it (valid
 * until uring_io_recycle), 0 when none is ready, or -errno when a read
 * failed for good. Completed writes are reaped on the way (failures
 * counted in *tx_errors). */
long uring_io_next_rx(uring_io *u, uint8_t **buf, uint64_t *tx_errors);
/* Posts again every receive buffer handed out so far (at the next submit). */
void uring_io_recycle(uring_io *u);

/* A free send buffer of tx_size bytes, or NULL when all are in flight
 * (submit, then reap with uring_io_next_rx). */
uint8_t *uring_io_tx_buf(uring_io *u);
/* The same, but never NULL while the ring works: when all buffers are in
 * flight, submits, reaps (receive completions are kept, in order, for
 * uring_io_next_rx) and if need be waits for a write to complete. A
 * device must not write around its queued writes (that reorders
 * packets), so it takes this instead of writing directly. NULL only if
 * the ring failed. */
uint8_t *uring_io_tx_buf_wait(uring_io *u, uint64_t *tx_errors);
/* Queues a write of len bytes from a buffer that uring_io_tx_buf gave;
 * the buffer returns to the pool when the write completes. */
void uring_io_tx_queue(uring_io *u, uint8_t *buf, size_t len);
/* Gives back a buffer from uring_io_tx_buf that was not queued. */
void uring_io_tx_unused(uring_io *u, uint8_t *buf);

/* Submits what is queued (one io_uring_enter): 0 or -errno. */
int uring_io_submit(uring_io *u);
/* Something is queued but not yet submitted. */
bool uring_io_pending(const uring_io *u);
/* io_uring_enter calls made so far. */
uint64_t uring_io_calls(const uring_io *u);

#endif
