/*
 * io_uring batching (link/uring.c) on a SOCK_SEQPACKET socketpair, which
 * keeps packet boundaries as TUN does: packets written at the other end
 * come out in order from the posted reads, buffers go back by recycling,
 * many writes leave with one submit, the send pool runs dry and refills as
 * writes complete, and the ring's fd polls readable when completions wait.
 * Skipped (with the reason) in a build without liburing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "link/uring.h"

/* Waits (bounded) until the ring has a completion. */
static void wait_ring(uring_io *u)
{
	struct pollfd p = { .fd = uring_io_fd(u), .events = POLLIN };

	assert_int_equal(poll(&p, 1, 2000), 1);
}

static void test_reads_and_writes(void **state)
{
	int sv[2];
	char err[128], msg[64];
	uring_io *u;
	uint8_t *b, *bufs[4];
	uint64_t txe = 0;
	long n;
	int got = 0;

	(void)state;
	if (!uring_io_available()) {
		printf("SKIP: built without liburing\n");
		skip();
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	u = uring_io_new(sv[0], 4, 256, 4, 256, err, sizeof(err));
	if (!u)
		fail_msg("%s", err);
	assert_int_equal(uring_io_calls(u), 1);   /* the reads went out at once */

	/* ten packets through four posted reads: recycling keeps them coming */
	for (int i = 0; i < 10; i++) {
		int len = snprintf(msg, sizeof(msg), "packet %d", i);
		assert_int_equal(write(sv[1], msg, (size_t)len), len);
	}
	while (got < 10) {
		wait_ring(u);
		while ((n = uring_io_next_rx(u, &b, &txe)) > 0) {
			int len = snprintf(msg, sizeof(msg), "packet %d", got);
			assert_int_equal(n, len);
			assert_memory_equal(b, msg, (size_t)len);
			got++;
		}
		assert_int_equal(n, 0);
		uring_io_recycle(u);
		assert_true(uring_io_pending(u));
		assert_int_equal(uring_io_submit(u), 0);
		assert_false(uring_io_pending(u));
	}

	/* four writes, one submit; the pool is empty until they complete */
	uint64_t calls = uring_io_calls(u);
	for (int i = 0; i < 4; i++) {
		bufs[i] = uring_io_tx_buf(u);
		assert_non_null(bufs[i]);
		memset(bufs[i], 'a' + i, 100);
		uring_io_tx_queue(u, bufs[i], 100);
	}
	assert_null(uring_io_tx_buf(u));
	assert_int_equal(uring_io_submit(u), 0);
	assert_int_equal(uring_io_calls(u), calls + 1);
	for (int i = 0; i < 4; i++) {
		char r[200];
		assert_int_equal(read(sv[1], r, sizeof(r)), 100);
		assert_int_equal(r[0], 'a' + i);
	}
	/* reaping the write completions gives the buffers back */
	wait_ring(u);
	assert_int_equal(uring_io_next_rx(u, &b, &txe), 0);
	for (int i = 0; i < 4; i++)
		assert_non_null(bufs[i] = uring_io_tx_buf(u));
	for (int i = 0; i < 4; i++)
		uring_io_tx_unused(u, bufs[i]);
	assert_int_equal(txe, 0);
	uring_io_free(u);
	close(sv[0]);
	close(sv[1]);
}

/* More writes than buffers: tx_buf_wait submits and reaps instead of
 * failing, and the packets leave in the order they were queued; a
 * packet that arrived meanwhile is kept for next_rx. */
static void test_writes_beyond_the_pool_keep_order(void **state)
{
	int sv[2];
	char err[128], r[64];
	uring_io *u;
	uint8_t *b;
	uint64_t txe = 0;

	(void)state;
	if (!uring_io_available())
		skip();
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	u = uring_io_new(sv[0], 2, 64, 2, 64, err, sizeof(err));
	assert_non_null(u);
	assert_int_equal(write(sv[1], "in", 2), 2);
	wait_ring(u);   /* the read completed; nobody took it yet */
	for (int i = 0; i < 6; i++) {
		b = uring_io_tx_buf_wait(u, &txe);
		assert_non_null(b);
		b[0] = (uint8_t)('0' + i);
		uring_io_tx_queue(u, b, 1);
	}
	assert_int_equal(uring_io_submit(u), 0);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(read(sv[1], r, sizeof(r)), 1);
		assert_int_equal(r[0], '0' + i);
	}
	assert_int_equal(uring_io_next_rx(u, &b, &txe), 2);
	assert_memory_equal(b, "in", 2);
	assert_int_equal(txe, 0);
	uring_io_free(u);
	close(sv[0]);
	close(sv[1]);
}

/* The other end gone: a write fails (counted), the reads see the end of
 * the stream and report it instead of spinning. */
static void test_peer_gone(void **state)
{
	int sv[2];
	char err[128];
	uring_io *u;
	uint8_t *b, *t;
	uint64_t txe = 0;
	long n = 0;

	(void)state;
	if (!uring_io_available())
		skip();
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	u = uring_io_new(sv[0], 2, 256, 2, 256, err, sizeof(err));
	assert_non_null(u);
	signal(SIGPIPE, SIG_IGN);   /* the write to nobody must fail, not kill us */
	close(sv[1]);
	t = uring_io_tx_buf(u);
	uring_io_tx_queue(u, t, 10);
	assert_int_equal(uring_io_submit(u), 0);
	for (int i = 0; i < 10 && n == 0; i++) {
		wait_ring(u);
		n = uring_io_next_rx(u, &b, &txe);
	}
	assert_int_equal(n, -EPIPE);
	while (uring_io_next_rx(u, &b, &txe) != 0)
		;
	assert_int_equal(txe, 1);
	uring_io_free(u);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_and_writes),
		cmocka_unit_test(test_writes_beyond_the_pool_keep_order),
		cmocka_unit_test(test_peer_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
