/*
 * The event loop's signals (hsk_loop_new takes SIGINT, SIGTERM, SIGHUP and
 * SIGUSR1 through a signalfd): a SIGTERM stops the loop, and one that
 * arrives after the stop is the loop's too. timeout(1) sends its SIGTERM
 * twice (to the child, then to its process group); when the second came
 * after the loop's last read, hsk_loop_free unblocked it and the default
 * action killed a process that had already stopped cleanly (exit 143 in
 * CI, interop_test_xdp_serve).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "handshake.h"
#include "handshake_loop.h"
#include "link/dev.h"

struct quiet_dev {
	hsk_dev d;
	int pipe[2];
};

static long qd_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	(void)d; (void)now; (void)buf; (void)cap;
	return 0;
}

static int qd_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	(void)d; (void)now; (void)pkt; (void)len;
	return 0;
}

static void qd_close(hsk_dev *d)
{
	struct quiet_dev *q = (struct quiet_dev *)d;

	close(q->pipe[0]);
	close(q->pipe[1]);
	free(q);
}

static const struct hsk_dev_ops quiet_ops = {
	.read = qd_read, .write = qd_write, .close = qd_close,
};

static hsk_loop *quiet_loop(void)
{
	struct quiet_dev *q = calloc(1, sizeof(*q));
	char err[128];
	hsk_loop *l;

	assert_non_null(q);
	assert_int_equal(pipe(q->pipe), 0);
	q->d.ops = &quiet_ops;
	q->d.fd = q->pipe[0];
	q->d.mtu = 1500;
	l = hsk_loop_new(&q->d, 0xc6120002, NULL, err, sizeof(err));
	assert_non_null(l);
	return l;
}

static bool blocked(int signo)
{
	sigset_t now;

	sigprocmask(SIG_BLOCK, NULL, &now);
	return sigismember(&now, signo);
}

static bool pending(int signo)
{
	sigset_t p;

	sigpending(&p);
	return sigismember(&p, signo);
}

static void test_sigterm_stops(void **state)
{
	hsk_loop *l = quiet_loop();
	(void)state;

	assert_true(blocked(SIGTERM));
	raise(SIGTERM);
	assert_true(hsk_loop_run_once(l, 0) >= 0);
	assert_true(hsk_loop_stopped(l));
	hsk_loop_free(l);
	assert_false(blocked(SIGTERM));
}

static void test_repeated_sigterm_after_stop(void **state)
{
	hsk_loop *l = quiet_loop();
	(void)state;

	raise(SIGTERM);
	assert_true(hsk_loop_run_once(l, 0) >= 0);
	assert_true(hsk_loop_stopped(l));
	/* the supervisor's second one, after the loop's last read */
	raise(SIGTERM);
	raise(SIGHUP);
	assert_true(pending(SIGTERM));
	hsk_loop_free(l);   /* without the drain: killed here */
	assert_false(pending(SIGTERM));
	assert_false(pending(SIGHUP));
	assert_false(blocked(SIGTERM));
	assert_false(blocked(SIGHUP));
}

static void test_mask_of_the_caller_kept(void **state)
{
	sigset_t usr2, now;
	hsk_loop *l;
	(void)state;

	/* what the application blocked before stays blocked after */
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	l = quiet_loop();
	hsk_loop_free(l);
	sigprocmask(SIG_BLOCK, NULL, &now);
	assert_true(sigismember(&now, SIGUSR2));
	assert_false(sigismember(&now, SIGTERM));
	sigprocmask(SIG_UNBLOCK, &usr2, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigterm_stops),
		cmocka_unit_test(test_repeated_sigterm_after_stop),
		cmocka_unit_test(test_mask_of_the_caller_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
