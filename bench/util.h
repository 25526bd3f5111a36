/*
 * Helpers every benchmark program shares, whatever stack it drives
 * (handshake, lwIP): the wall clock, the heap in use as glibc's allocator
 * counts it, the resident set, callgrind's collection toggle, and a FIFO
 * of packets in memory that wires two ends together.
 *
 * Every benchmark prints its figures as "key value" lines on stdout, which
 * scripts/bench.sh collects into the table.
 */
#ifndef HSK_BENCH_UTIL_H
#define HSK_BENCH_UTIL_H

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif
#ifndef BENCH_HAVE_CALLGRIND
#define CALLGRIND_TOGGLE_COLLECT do { } while (0)
#endif

/*
 * Step marks of a lifecycle (bench_lifecycle in bench.h, lifecycle in
 * lwip.c mark the same steps). In the programs built with -DBENCH_STEPS
 * (scripts/bench.sh's lifecycle-steps and lwips-steps) callgrind writes
 * its counts at each mark while bench_steps_on, so that a lifecycle's
 * instructions are seen step by step beside lwIP's; a mark ends the step
 * it names. Elsewhere a mark is nothing, so it costs the measured
 * programs nothing.
 */
#if defined(BENCH_STEPS) && defined(BENCH_HAVE_CALLGRIND)
static int bench_steps_on;
#define BENCH_STEPS_ON(on) (bench_steps_on = (on))
#define BENCH_STEP(name) do { if (bench_steps_on) CALLGRIND_DUMP_STATS_AT(name); } while (0)
#else
#define BENCH_STEPS_ON(on) ((void)(on))
#define BENCH_STEP(name) do { } while (0)
#endif

#define BENCH_SEC 1000000000ull
#define BENCH_MS 1000000ull

static inline double bench_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* VmRSS of this process in bytes (0 if unreadable). */
static inline long bench_rss(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6)) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb * 1024;
}

/* Bytes of heap in use as glibc's malloc counts them: the chunks handed
 * out, headers included, and the blocks it mmapped for large requests.
 * Unlike VmRSS it does not depend on which pages happen to be touched. */
static inline long bench_heap(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (long)(mi.uordblks + mi.hblkhd);
}

static inline void bench_die(const char *what, long v)
{
	fprintf(stderr, "bench: %s failed (%ld)\n", what, v);
	exit(2);
}

/*
 * Packets in flight between two ends wired directly: a ring of records
 * (destination, length, bytes). Transmit copies the packet in once; the
 * driver hands the bytes to the receiving stack straight from the ring.
 * Sized for a 4 MiB window of small segments; a packet that does not fit
 * is dropped and counted (a benchmark reports that as an error).
 */
enum { BENCH_FIFO_BYTES = 16 << 20 };
typedef struct bench_rec {
	uint32_t to, len; /* len UINT32_MAX: wrap to the start */
	uint8_t data[];
} bench_rec;
typedef struct bench_fifo {
	uint8_t *buf;
	size_t head, tail, used; /* byte offsets; used counts wasted tails too */
	unsigned long sent, dropped;
} bench_fifo;

static inline void bench_fifo_init(bench_fifo *f)
{
	memset(f, 0, sizeof(*f));
	f->buf = malloc(BENCH_FIFO_BYTES);
	if (!f->buf)
		bench_die("malloc", 0);
}

static inline size_t bench_rec_size(size_t len)
{
	return (sizeof(bench_rec) + len + 7) & ~(size_t)7;
}

/* Room for a packet of len bytes to `to`, or NULL (dropped). */
static inline uint8_t *bench_fifo_put(bench_fifo *f, uint32_t to, size_t len)
{
	size_t need = bench_rec_size(len), end = BENCH_FIFO_BYTES - f->tail;
	f->sent++;
	if (need > end) { /* no room before the end: waste it, wrap */
		if (f->used + end + need > BENCH_FIFO_BYTES)
			goto drop;
		((bench_rec *)(f->buf + f->tail))->len = UINT32_MAX;
		f->used += end;
		f->tail = 0;
	}
	if (f->used + need > BENCH_FIFO_BYTES)
		goto drop;
	bench_rec *r = (bench_rec *)(f->buf + f->tail);
	r->to = to;
	r->len = (uint32_t)len;
	f->tail = (f->tail + need) % BENCH_FIFO_BYTES;
	f->used += need;
	return r->data;
drop:
	f->dropped++;
	return NULL;
}

/* The oldest packet, or NULL. It stays valid until bench_fifo_pop, and
 * bench_fifo_put never overwrites it. */
static inline bench_rec *bench_fifo_peek(bench_fifo *f)
{
	if (!f->used)
		return NULL;
	bench_rec *r = (bench_rec *)(f->buf + f->head);
	if (r->len == UINT32_MAX) {
		f->used -= BENCH_FIFO_BYTES - f->head;
		f->head = 0;
		if (!f->used)
			return NULL;
		r = (bench_rec *)f->buf;
	}
	return r;
}

static inline void bench_fifo_pop(bench_fifo *f, bench_rec *r)
{
	size_t n = bench_rec_size(r->len);
	f->head = (f->head + n) % BENCH_FIFO_BYTES;
	f->used -= n;
}

#endif
