/*
 * The event loop sleeps until its next deadline to the nanosecond
 * (epoll_pwait2), not rounded up to the next millisecond: a paced
 * connection's segment due 300 us from now leaves then, not 1 ms later.
 * Never early, whatever the kernel; below a millisecond at least once in
 * WAKES sleeps (the scheduler may be late on a loaded machine, but not
 * every time).
 *
 * Where the kernel refuses epoll_pwait2 (ENOSYS before Linux 5.11, EPERM
 * from a container's seccomp filter), the loop still runs, on epoll_wait's
 * whole milliseconds: a child process with such a filter checks it.
 *
 * The device is a pipe that never carries a packet: the loop only
 * sleeps and wakes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

/* The least of WAKES sleeps of a loop for a deadline DUE away; -1 when
 * the loop failed or one woke early. (No cmocka here: a child runs it.) */
static long long least_sleep(void)
{
	static struct quiet_dev q;
	char err[128];
	uint64_t least = UINT64_MAX;

	memset(&q, 0, sizeof(q));
	if (pipe(q.pipe) < 0)
		return -1;
	q.d.ops = &quiet_ops;
	q.d.fd = q.pipe[0];
	q.d.mtu = 1500;
	hsk_loop *l = hsk_loop_new(&q.d, 0xc6120002u, NULL, err, sizeof(err));
	if (!l)
		return -1;
	for (int i = 0; i < WAKES; i++) {
		uint64_t start = hsk_now_ns();
		hsk_loop_wake_at(l, start + DUE);
		if (hsk_loop_run_once(l, 10 * MS) < 0)
			return -1;
		uint64_t took = hsk_now_ns() - start;
		if (took < DUE)                         /* never early */
			return -1;
		if (took < least)
			least = took;
	}
	hsk_loop_free(l);
	return (long long)least;
}

static void test_wakes_to_the_deadline(void **state)
{
	(void)state;
	long long least = least_sleep();
	assert_true(least > 0);
	print_message("least of %d sleeps for %llu us: %lld us\n", WAKES,
		      (unsigned long long)(DUE / US), least / (long long)US);
	/* rounded up to the millisecond, every one would take 1 ms or more */
	assert_true(least < (long long)MS);
}

/* In a child whose seccomp filter answers epoll_pwait2 with errno e: the
 * loop runs, each sleep rounded up to the millisecond. */
static void refused_pwait2(int e)
{
#ifdef SYS_epoll_pwait2
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_pwait2, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)e),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(2);
		long long least = least_sleep();
		_exit(least >= (long long)MS ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
#else
	(void)e;
#endif
}

static void test_without_pwait2(void **state)
{
	(void)state;
	refused_pwait2(ENOSYS);
	refused_pwait2(EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wakes_to_the_deadline),
		cmocka_unit_test(test_without_pwait2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
