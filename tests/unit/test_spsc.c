/* Unit tests for src/api/spsc.c, the ring through which shards hand each
 * other packets: records in order and intact across the wrap, a full ring
 * refusing, and two threads with a consumer that sleeps on an eventfd
 * whenever the ring is empty: every record arrives, in order, and no
 * wake-up is lost (a lost one leaves the consumer asleep: the test fails
 * on a 2 s timeout instead of hanging). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/spsc.h"

/* Record i: its length and bytes follow from i. */
static size_t rec_len(uint32_t i)
{
	return 1 + (i * 2654435761u >> 7) % 1500;
}

static void rec_fill(uint8_t *b, uint32_t i, size_t len)
{
	for (size_t k = 0; k < len; k++)
		b[k] = (uint8_t)(i * 31 + k);
}

static int rec_check(const uint8_t *b, uint32_t i, size_t len)
{
	if (len != rec_len(i))
		return -1;
	for (size_t k = 0; k < len; k++)
		if (b[k] != (uint8_t)(i * 31 + k))
			return -1;
	return 0;
}

static void test_order_and_wrap(void **state)
{
	(void)state;
	hsk_spsc r;
	uint8_t buf[1600];
	uint32_t in = 0, out = 0;
	size_t len;
	const uint8_t *p;

	assert_int_equal(spsc_init(&r, 5000), 0);
	assert_int_equal(r.cap, 8192);
	assert_null(spsc_peek(&r, &len));
	/* many times round the buffer, a few records at a time */
	for (int round = 0; round < 2000; round++) {
		for (int k = 0; k < 1 + round % 4; k++, in++) {
			size_t n = rec_len(in);
			rec_fill(buf, in, n);
			int rc = spsc_push(&r, buf, n);
			if (rc == SPSC_FULL)
				break;
			/* the consumer had taken everything: wake it */
			assert_int_equal(rc, out == in ? SPSC_WAKE : SPSC_PUSHED);
		}
		while ((p = spsc_peek(&r, &len))) {
			assert_int_equal(rec_check(p, out, len), 0);
			spsc_pop(&r);
			out++;
		}
		in = out;   /* a refused record is pushed again */
	}
	assert_true(out > 4000);
	spsc_free(&r);
}

static void test_full_and_limits(void **state)
{
	(void)state;
	hsk_spsc r;
	uint8_t buf[4096] = { 0 };
	size_t len;
	int pushed = 0;

	assert_int_equal(spsc_init(&r, 4096), 0);
	assert_int_equal(spsc_max_record(&r), 2048 - 8);
	assert_int_equal(spsc_push(&r, buf, 2041), SPSC_FULL);
	assert_int_equal(spsc_push(&r, buf, 0), SPSC_WAKE);   /* empty records too */
	assert_non_null(spsc_peek(&r, &len));
	assert_int_equal(len, 0);
	spsc_pop(&r);
	while (spsc_push(&r, buf, 100) != SPSC_FULL)
		pushed++;
	assert_int_equal(pushed, 4096 / 112);          /* 8 + 104 bytes each */
	/* one taken: room again for one */
	assert_non_null(spsc_peek(&r, &len));
	spsc_pop(&r);
	assert_int_equal(spsc_push(&r, buf, 100), SPSC_PUSHED);
	assert_int_equal(spsc_push(&r, buf, 100), SPSC_FULL);
	spsc_free(&r);
}

enum { N_RECS = 200000 };

struct pair {
	hsk_spsc r;
	int efd;
	_Atomic int quit;        /* the consumer gave up */
	uint32_t got;
	int bad, lost_wakeup;
	unsigned wakes, sleeps;
};

static void *producer(void *arg)
{
	struct pair *p = arg;
	uint8_t buf[1600];
	uint64_t one = 1;

	for (uint32_t i = 0; i < N_RECS; i++) {
		size_t n = rec_len(i);
		int rc;

		rec_fill(buf, i, n);
		while ((rc = spsc_push(&p->r, buf, n)) == SPSC_FULL) {
			if (p->quit)
				return NULL;
			sched_yield();
		}
		if (rc == SPSC_WAKE) {
			p->wakes++;
			if (write(p->efd, &one, sizeof(one)) < 0)
				abort();
		}
		/* bursts and pauses, so that the consumer often sleeps */
		if (i % 64 == 63)
			usleep(20);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct pair *p = arg;
	struct pollfd pfd = { .fd = p->efd, .events = POLLIN };
	uint64_t v;

	while (p->got < N_RECS) {
		const uint8_t *d;
		size_t len;

		/* cleared before the ring is read, as the shards do */
		if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			abort();
		while ((d = spsc_peek(&p->r, &len))) {
			if (rec_check(d, p->got, len) < 0)
				p->bad++;
			spsc_pop(&p->r);
			p->got++;
		}
		if (p->got == N_RECS)
			break;
		p->sleeps++;
		if (poll(&pfd, 1, 2000) == 0) {
			p->lost_wakeup = 1;
			p->quit = 1;
			break;
		}
	}
	return NULL;
}

static void test_two_threads(void **state)
{
	(void)state;
	static struct pair p;
	pthread_t a, b;

	assert_int_equal(spsc_init(&p.r, 65536), 0);
	p.efd = eventfd(0, EFD_NONBLOCK);
	assert_true(p.efd >= 0);
	assert_int_equal(pthread_create(&b, NULL, consumer, &p), 0);
	assert_int_equal(pthread_create(&a, NULL, producer, &p), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(p.lost_wakeup, 0);
	assert_int_equal(p.bad, 0);
	assert_int_equal(p.got, N_RECS);
	/* the consumer did sleep, and was woken: the protocol was exercised */
	assert_true(p.sleeps > 100);
	assert_true(p.wakes > 100);
	close(p.efd);
	spsc_free(&p.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_wrap),
		cmocka_unit_test(test_full_and_limits),
		cmocka_unit_test(test_two_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
