/*
 * io_uring batching for packet fds (see uring.h). Every buffer has at
 * most one operation in flight, so the submission queue (nrx + ntx
 * entries) never fills and the completion queue (twice that) never
 * overflows. A completion's user_data is the buffer's kind and index.
 */
#include <errno.h>

#include "link/uring.h"
#include "link/dev.h"

#ifdef HSK_HAVE_URING
#include <stdlib.h>
#include <string.h>
#include <liburing.h>

enum { KIND_RX = 1, KIND_TX = 2 };

struct uring_io {
	struct io_uring ring;
	int fd;
	unsigned nrx, ntx;
	size_t rx_size, tx_size;
	uint8_t *rx_mem, *tx_mem;
	unsigned *out;           /* receive buffers handed out, to re-post */
	unsigned nout;
	unsigned *tx_free;       /* free send buffers */
	unsigned nfree;
	struct { unsigned i; int res; } *ready;   /* receive completions reaped
						   * while waiting for a send buffer */
	unsigned nready, ready_head;
	unsigned queued;         /* prepared, not submitted */
	uint64_t calls;
};

bool uring_io_available(void) { return true; }

static void post_read(uring_io *u, unsigned i)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	/* Cannot fail: at most one operation per buffer (see above). */
	io_uring_prep_read(sqe, u->fd, u->rx_mem + (size_t)i * u->rx_size,
			   (unsigned)u->rx_size, (uint64_t)-1);
	io_uring_sqe_set_data64(sqe, (uint64_t)KIND_RX << 32 | i);
	u->queued++;
}

uring_io *uring_io_new(int fd, unsigned nrx, size_t rx_size, unsigned ntx,
		       size_t tx_size, char *err, size_t errlen)
{
	uring_io *u = calloc(1, sizeof(*u));
	int rc;

	if (!u) {
		dev_errf(err, errlen, "out of memory");
		return NULL;
	}
	u->fd = fd;
	u->nrx = nrx;
	u->ntx = ntx;
	u->rx_size = rx_size;
	u->tx_size = tx_size;
	u->rx_mem = malloc(nrx * rx_size);
	u->tx_mem = malloc(ntx * tx_size);
	u->out = calloc(nrx, sizeof(unsigned));
	u->tx_free = calloc(ntx, sizeof(unsigned));
	u->ready = calloc(nrx, sizeof(*u->ready));
	if (!u->rx_mem || !u->tx_mem || !u->out || !u->tx_free || !u->ready) {
		dev_errf(err, errlen, "out of memory");
		goto fail;
	}
	rc = io_uring_queue_init(nrx + ntx, &u->ring, 0);
	if (rc < 0) {
		dev_errf(err, errlen, "io_uring_queue_init: %s", strerror(-rc));
		goto fail;
	}
	for (unsigned i = 0; i < ntx; i++)
		u->tx_free[u->nfree++] = ntx - 1 - i;
	for (unsigned i = 0; i < nrx; i++)
		post_read(u, i);
	if ((rc = uring_io_submit(u)) < 0) {
		dev_errf(err, errlen, "io_uring_submit: %s", strerror(-rc));
		io_uring_queue_exit(&u->ring);
		goto fail;
	}
	return u;
fail:
	free(u->rx_mem);
	free(u->tx_mem);
	free(u->out);
	free(u->tx_free);
	free(u->ready);
	free(u);
	return NULL;
}

void uring_io_free(uring_io *u)
{
	if (!u)
		return;
	/* Tearing down the ring cancels the reads still posted. */
	io_uring_queue_exit(&u->ring);
	free(u->rx_mem);
	free(u->tx_mem);
	free(u->out);
	free(u->tx_free);
	free(u->ready);
	free(u);
}

int uring_io_fd(const uring_io *u) { return u->ring.ring_fd; }
bool uring_io_pending(const uring_io *u) { return u->queued > 0; }
uint64_t uring_io_calls(const uring_io *u) { return u->calls; }

int uring_io_submit(uring_io *u)
{
	int rc;

	if (!u->queued)
		return 0;
	u->calls++;
	rc = io_uring_submit(&u->ring);
	if (rc < 0)
		return rc;
	u->queued -= (unsigned)rc < u->queued ? (unsigned)rc : u->queued;
	return 0;
}

/* A receive completion: the packet's length (buffer handed out), 0 when
 * the read was posted again, or -errno. */
static long rx_done(uring_io *u, unsigned i, int res, uint8_t **buf)
{
	if (res > 0) {
		u->out[u->nout++] = i;
		*buf = u->rx_mem + (size_t)i * u->rx_size;
		return res;
	}
	if (res == -EAGAIN || res == -EINTR || res == -ECANCELED) {
		post_read(u, i);
		return 0;
	}
	/* End of file: the fd has nothing more to give, ever. */
	if (res == 0)
		return -EPIPE;
	/* Keep the buffer posted so a transient error does not leak it,
	 * but report the failure. */
	post_read(u, i);
	return res;
}

/* Takes every completion off the ring: sends give their buffers back,
 * receives wait in `ready` (in order) for uring_io_next_rx. */
static void reap(uring_io *u, uint64_t *tx_errors)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		unsigned i = (unsigned)tag;

		if (tag >> 32 == KIND_TX) {
			if (cqe->res < 0)
				(*tx_errors)++;
			u->tx_free[u->nfree++] = i;
		} else {
			unsigned at = (u->ready_head + u->nready++) % u->nrx;
			u->ready[at].i = i;
			u->ready[at].res = cqe->res;
		}
		io_uring_cqe_seen(&u->ring, cqe);
	}
}

long uring_io_next_rx(uring_io *u, uint8_t **buf, uint64_t *tx_errors)
{
	struct io_uring_cqe *cqe;
	long r;

	/* what was reaped while waiting for a send buffer comes first */
	while (u->nready) {
		unsigned i = u->ready[u->ready_head].i;
		int res = u->ready[u->ready_head].res;

		u->ready_head = (u->ready_head + 1) % u->nrx;
		u->nready--;
		if ((r = rx_done(u, i, res, buf)) != 0)
			return r;
	}
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		unsigned i = (unsigned)tag;
		int res = cqe->res;

		io_uring_cqe_seen(&u->ring, cqe);
		if (tag >> 32 == KIND_TX) {
			if (res < 0)
				(*tx_errors)++;
			u->tx_free[u->nfree++] = i;
			continue;
		}
		if ((r = rx_done(u, i, res, buf)) != 0)
			return r;
	}
	return 0;
}

uint8_t *uring_io_tx_buf_wait(uring_io *u, uint64_t *tx_errors)
{
	if (u->nfree)
		return uring_io_tx_buf(u);
	/* Tun writes do not block: submitting runs them, in order. */
	uring_io_submit(u);
	reap(u, tx_errors);
	while (!u->nfree) {
		/* Some went asynchronous: wait for one rather than write
		 * around them, which would reorder the packets. */
		u->calls++;
		if (io_uring_submit_and_wait(&u->ring, 1) < 0)
			return NULL;
		reap(u, tx_errors);
	}
	return uring_io_tx_buf(u);
}

void uring_io_recycle(uring_io *u)
{
	for (unsigned k = 0; k < u->nout; k++)
		post_read(u, u->out[k]);
	u->nout = 0;
}

uint8_t *uring_io_tx_buf(uring_io *u)
{
	if (!u->nfree)
		return NULL;
	return u->tx_mem + (size_t)u->tx_free[--u->nfree] * u->tx_size;
}

void uring_io_tx_unused(uring_io *u, uint8_t *buf)
{
	u->tx_free[u->nfree++] = (unsigned)((size_t)(buf - u->tx_mem) / u->tx_size);
}

void uring_io_tx_queue(uring_io *u, uint8_t *buf, size_t len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	unsigned i = (unsigned)((size_t)(buf - u->tx_mem) / u->tx_size);

	io_uring_prep_write(sqe, u->fd, buf, (unsigned)len, (uint64_t)-1);
	io_uring_sqe_set_data64(sqe, (uint64_t)KIND_TX << 32 | i);
	u->queued++;
}

#else /* no liburing: the device reports the feature as unavailable */

bool uring_io_available(void) { return false; }

uring_io *uring_io_new(int fd, unsigned nrx, size_t rx_size, unsigned ntx,
		       size_t tx_size, char *err, size_t errlen)
{
	(void)fd; (void)nrx; (void)rx_size; (void)ntx; (void)tx_size;
	dev_errf(err, errlen, "io_uring: built without liburing (install liburing-dev)");
	return NULL;
}

void uring_io_free(uring_io *u) { (void)u; }
int uring_io_fd(const uring_io *u) { (void)u; return -1; }
long uring_io_next_rx(uring_io *u, uint8_t **buf, uint64_t *e) { (void)u; (void)buf; (void)e; return -ENOSYS; }
void uring_io_recycle(uring_io *u) { (void)u; }
uint8_t *uring_io_tx_buf(uring_io *u) { (void)u; return NULL; }
uint8_t *uring_io_tx_buf_wait(uring_io *u, uint64_t *e) { (void)u; (void)e; return NULL; }
void uring_io_tx_queue(uring_io *u, uint8_t *b, size_t n) { (void)u; (void)b; (void)n; }
void uring_io_tx_unused(uring_io *u, uint8_t *b) { (void)u; (void)b; }
int uring_io_submit(uring_io *u) { (void)u; return -ENOSYS; }
bool uring_io_pending(const uring_io *u) { (void)u; return false; }
uint64_t uring_io_calls(const uring_io *u) { (void)u; return 0; }

#endif
