/*
 * The event loop sleeps until its next deadline to the nanosecond
 * (epoll_pwait2), not rounded up to the next millisecond: a paced
 * connection's segment due 300 us from now leaves then, not 1 ms later.
 * Never early, whatever the kernel; below a millisecond at least once in
 * WAKES sleeps (the scheduler may be late on a loaded machine, but not
 * every time).
 *
 * The device is a pipe that never carries a packet: the loop only
 * sleeps and wakes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "handshake.h"
#include "handshake_loop.h"
#include "link/dev.h"

enum { WAKES = 20 };
#define US 1000ull
#define MS 1000000ull
#define DUE (300 * US)

struct quiet_dev {
	hsk_dev d;
	int pipe[2];
};

static long qd_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	(void)d, (void)now, (void)buf, (void)cap;
	return 0;
}

static int qd_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	(void)now, (void)pkt, (void)len;
	d->st.tx_packets++;
	return 0;
}

static void qd_close(hsk_dev *d)
{
	struct quiet_dev *q = (struct quiet_dev *)d;
	close(q->pipe[0]);
	close(q->pipe[1]);
}

static const struct hsk_dev_ops quiet_ops = {
	.read = qd_read, .write = qd_write, .close = qd_close,
};

static void test_wakes_to_the_deadline(void **state)
{
	struct quiet_dev q;
	char err[128];
	uint64_t least = UINT64_MAX;
	(void)state;

	memset(&q, 0, sizeof(q));
	assert_int_equal(pipe(q.pipe), 0);
	q.d.ops = &quiet_ops;
	q.d.fd = q.pipe[0];
	q.d.mtu = 1500;
	hsk_loop *l = hsk_loop_new(&q.d, 0xc6120002u, NULL, err, sizeof(err));
	assert_non_null(l);
	for (int i = 0; i < WAKES; i++) {
		uint64_t start = hsk_now_ns();
		hsk_loop_wake_at(l, start + DUE);
		assert_true(hsk_loop_run_once(l, 10 * MS) >= 0);
		uint64_t took = hsk_now_ns() - start;
		assert_true(took >= DUE);               /* never early */
		if (took < least)
			least = took;
	}
	print_message("least of %d sleeps for %llu us: %llu us\n", WAKES,
		      (unsigned long long)(DUE / US), (unsigned long long)(least / US));
	/* rounded up to the millisecond, every one would take 1 ms or more */
	assert_true(least < 1 * MS);
	hsk_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wakes_to_the_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
