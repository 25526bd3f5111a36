/*
 * Shards: N loops, each with its own stack and device queues, on N threads
 * pinned to cores (handshake_loop.h has the contract, docs/scale.md the
 * design). The stacks share nothing; what crosses threads is
 *
 *   - packets of another shard's flow: one SPSC ring (spsc.h) per ordered
 *     pair of shards, rings[from * n + to]; the consumer's eventfd is
 *     written when the ring may have been seen empty;
 *   - posted calls (hsk_shards_post): a list per shard under a mutex, and
 *     the same eventfd; rare (signals, stop, a --stats snapshot), never
 *     per packet;
 *   - the figures of hsk_shard_stats: each written by one thread with
 *     relaxed atomic stores, read by any.
 *
 * A shard's thread ends only once every shard's function has returned, so
 * a shard that finished early still carries its flows and takes the
 * packets others hand to it.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/rand.h"
#include "handshake_loop.h"
#include "link/dev.h"
#include "link/steer.h"
#include "shard.h"
#include "spsc.h"

enum {
	SHARDS_MAX = 64,
	RING_BYTES = 1 << 20,    /* per ordered pair: 16 packets of 64 KiB, or
				  * some 650 of 1500 bytes */
	RING_MIN = 1 << 18,      /* half a ring takes a 64 KiB packet */
	RING_SHARE = 4 << 20,    /* a shard's inbound rings together, beyond
				  * 5 shards (N - 1 rings each) */
};

struct post {
	hsk_shard_call_fn fn;
	void *ctx;
	struct post *next;
};

/* A figure written by one thread, read by any. */
typedef _Atomic uint64_t fig;

static inline void fig_add(fig *f, uint64_t n)
{
	atomic_store_explicit(f, atomic_load_explicit(f, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t fig_get(const fig *f)
{
	return atomic_load_explicit((fig *)f, memory_order_relaxed);
}

struct shard {
	hsk_shards *sh;
	unsigned id;
	hsk_loop *l;
	int wake_fd;
	_Atomic int cpu;         /* pinned to, or -1 */
	pthread_t th;
	bool th_started;
	int rc;                  /* what its fn returned */
	pthread_mutex_t mu;      /* posts, exited */
	struct post *posts, **posts_end;
	bool exited;             /* its thread ended: posts run in the caller */
	fig wrong_shard, handed_in, ring_drops, turns, sleeps;
};

struct hsk_shards {
	unsigned n;
	struct shard *s;
	hsk_spsc *rings;         /* n * n, [from * n + to]; the diagonal unused */
	hsk_shard_fn fn;
	void *ctx;
	_Atomic unsigned running;   /* shards whose fn has not returned */
	cpu_set_t cpus;          /* the process's CPU set when opened */
};

static _Thread_local struct shard *cur_shard;

/* ---- the data path (shard.h) ---- */

static void wake(struct shard *s)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is full, so it is readable anyway */
	if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
}

bool shards_give(hsk_shards *sh, unsigned self, const uint8_t *pkt, size_t len)
{
	unsigned to = steer_packet_queue(pkt, len, sh->n);
	struct shard *s = &sh->s[self];
	int r;

	if (to == self)
		return false;
	fig_add(&s->wrong_shard, 1);
	r = spsc_push(&sh->rings[self * sh->n + to], pkt, len);
	if (r == SPSC_FULL)
		fig_add(&s->ring_drops, 1);     /* TCP recovers: as a loss */
	else if (r == SPSC_WAKE)
		wake(&sh->s[to]);
	return true;
}

unsigned shards_take(hsk_shards *sh, unsigned self, hsk_loop *l, unsigned max, bool *more)
{
	hsk_stack *stack = hsk_loop_stack(l);
	uint64_t now = hsk_loop_now(l);
	unsigned k = 0;

	*more = false;
	for (unsigned from = 0; from < sh->n; from++) {
		hsk_spsc *r = &sh->rings[from * sh->n + self];
		const uint8_t *p;
		size_t len;

		if (from == self)
			continue;
		while ((p = spsc_peek(r, &len))) {
			if (k == max) {
				*more = true;
				goto out;
			}
			hsk_stack_input(stack, now, p, len);
			spsc_pop(r);
			k++;
		}
	}
out:
	if (k)
		fig_add(&sh->s[self].handed_in, k);
	return k;
}

void shards_count_turn(hsk_shards *sh, unsigned self, bool slept)
{
	fig_add(&sh->s[self].turns, 1);
	if (slept)
		fig_add(&sh->s[self].sleeps, 1);
}

/* ---- posted calls ---- */

static void run_posts(struct shard *s, hsk_loop *l)
{
	struct post *p, *next;

	pthread_mutex_lock(&s->mu);
	p = s->posts;
	s->posts = NULL;
	s->posts_end = &s->posts;
	pthread_mutex_unlock(&s->mu);
	for (; p; p = next) {
		next = p->next;
		p->fn(p->ctx, l);
		free(p);
	}
}

void shards_woken(hsk_shards *sh, unsigned self, hsk_loop *l)
{
	struct shard *s = &sh->s[self];
	uint64_t v;

	/* Cleared before the lists are read: a post or push that comes
	 * after this makes it readable again. */
	if (read(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	run_posts(s, l);
}

int hsk_shards_post(hsk_shards *sh, unsigned i, hsk_shard_call_fn fn, void *ctx)
{
	struct shard *s = &sh->s[i];
	struct post *p;

	pthread_mutex_lock(&s->mu);
	if (s->exited) {
		pthread_mutex_unlock(&s->mu);
		fn(ctx, s->l);
		return 0;
	}
	if (!(p = malloc(sizeof(*p)))) {
		pthread_mutex_unlock(&s->mu);
		return -ENOMEM;
	}
	*p = (struct post){ fn, ctx, NULL };
	*s->posts_end = p;
	s->posts_end = &p->next;
	pthread_mutex_unlock(&s->mu);
	wake(s);
	return 0;
}

void hsk_shards_post_all(hsk_shards *sh, hsk_shard_call_fn fn, void *ctx)
{
	for (unsigned i = 0; i < sh->n; i++)
		if (&sh->s[i] != cur_shard)
			hsk_shards_post(sh, i, fn, ctx);
	if (cur_shard && cur_shard->sh == sh)
		fn(ctx, cur_shard->l);
}

static void post_signal(void *ctx, hsk_loop *l)
{
	loop_deliver_signal(l, (int)(intptr_t)ctx);
}

void shards_forward_signal(hsk_shards *sh, int signo)
{
	for (unsigned i = 1; i < sh->n; i++)
		hsk_shards_post(sh, i, post_signal, (void *)(intptr_t)signo);
}

struct sync_call {
	hsk_shard_call_fn fn;
	void *ctx;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

static void sync_one(void *ctx, hsk_loop *l)
{
	struct sync_call *c = ctx;

	c->fn(c->ctx, l);
	pthread_mutex_lock(&c->mu);
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void hsk_shards_sync(hsk_shards *sh, hsk_shard_call_fn fn, void *ctx)
{
	struct sync_call c = { .fn = fn, .ctx = ctx };

	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	for (unsigned i = 0; i < sh->n; i++) {
		if (&sh->s[i] == cur_shard) {
			fn(ctx, sh->s[i].l);
			continue;
		}
		c.done = false;
		if (hsk_shards_post(sh, i, sync_one, &c) < 0)
			continue;
		pthread_mutex_lock(&c.mu);
		while (!c.done)
			pthread_cond_wait(&c.cv, &c.mu);
		pthread_mutex_unlock(&c.mu);
	}
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.mu);
}

/* ---- threads ---- */

/* The i-th core of the set the process had when the shards were opened. */
static int nth_cpu(const cpu_set_t *set, unsigned i)
{
	int n = CPU_COUNT(set), k = 0;

	if (n <= 0)
		return -1;
	i %= (unsigned)n;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, set) && (unsigned)k++ == i)
			return c;
	return -1;
}

static void nop(void *ctx, hsk_loop *l)
{
	(void)ctx;
	(void)l;
}

static void shard_main(struct shard *s)
{
	hsk_shards *sh = s->sh;
	cpu_set_t one;
	int cpu;

	cur_shard = s;
	/* One shard is one thread like any other: the OS places it. */
	if (sh->n > 1 && (cpu = nth_cpu(&sh->cpus, s->id)) >= 0) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0)
			atomic_store(&s->cpu, cpu);
	}
	s->rc = sh->fn(sh->ctx, s->l);
	if (atomic_fetch_sub(&sh->running, 1) == 1) {
		/* the last one: the others may be asleep, waiting for it */
		for (unsigned i = 0; i < sh->n; i++)
			if (i != s->id)
				hsk_shards_post(sh, i, nop, NULL);
	}
	/* Carry on (own flows, handovers, posts) until every fn returned. */
	while (atomic_load(&sh->running) > 0)
		if (hsk_loop_run_once(s->l, 100000000ull) < 0)
			break;
	pthread_mutex_lock(&s->mu);
	s->exited = true;
	pthread_mutex_unlock(&s->mu);
	run_posts(s, s->l);
	cur_shard = NULL;
}

static void *shard_thread(void *arg)
{
	shard_main(arg);
	return NULL;
}

int hsk_shards_run(hsk_shards *sh, hsk_shard_fn fn, void *ctx)
{
	cpu_set_t mine;
	bool restore;
	int rc = 0;

	sh->fn = fn;
	sh->ctx = ctx;
	atomic_store(&sh->running, sh->n);
	for (unsigned i = 0; i < sh->n; i++) {
		pthread_mutex_lock(&sh->s[i].mu);
		sh->s[i].exited = false;
		pthread_mutex_unlock(&sh->s[i].mu);
	}
	for (unsigned i = 1; i < sh->n; i++) {
		int e = pthread_create(&sh->s[i].th, NULL, shard_thread, &sh->s[i]);
		if (e) {
			/* the ones started finish what they started */
			atomic_fetch_sub(&sh->running, sh->n - i);
			for (unsigned j = i; j < sh->n; j++) {
				sh->s[j].exited = true;
				sh->s[j].rc = -e;
			}
			break;
		}
		sh->s[i].th_started = true;
	}
	/* Shard 0 is the caller's thread: pinned too, while it runs. */
	restore = pthread_getaffinity_np(pthread_self(), sizeof(mine), &mine) == 0;
	shard_main(&sh->s[0]);
	if (restore)
		pthread_setaffinity_np(pthread_self(), sizeof(mine), &mine);
	for (unsigned i = 0; i < sh->n; i++) {
		if (sh->s[i].th_started)
			pthread_join(sh->s[i].th, NULL);
		sh->s[i].th_started = false;
		if (!rc && sh->s[i].rc)
			rc = sh->s[i].rc;
	}
	return rc;
}

/* ---- the set ---- */

static bool port_ok(void *ctx, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport)
{
	struct shard *s = ctx;

	return hsk_shards_of(s->sh, laddr, lport, raddr, rport) == s->id;
}

static bool port_ok6(void *ctx, const uint8_t laddr[16], const uint8_t raddr[16],
		     uint16_t lport, uint16_t rport)
{
	struct shard *s = ctx;

	return steer_queue(steer_hash6(laddr, raddr, lport, rport), s->sh->n) == s->id;
}

unsigned hsk_shards_of(const hsk_shards *sh, uint32_t laddr, uint16_t lport,
		       uint32_t raddr, uint16_t rport)
{
	return steer_queue(steer_hash(laddr, raddr, lport, rport), sh->n);
}

unsigned hsk_shards_of_addr(const hsk_shards *sh, const hsk_addr *laddr, uint16_t lport,
			    const hsk_addr *raddr, uint16_t rport)
{
	if (laddr->family == HSK_AF_INET6)
		return steer_queue(steer_hash6(laddr->v6, raddr->v6, lport, rport), sh->n);
	return hsk_shards_of(sh, laddr->v4, lport, raddr->v4, rport);
}

/* The bytes of each ring: 1 MiB up to 5 shards, then halved until a
 * shard's N - 1 inbound rings fit in RING_SHARE (at 16 shards 256 KiB:
 * 60 MiB in all rather than 240). Rings only fill when steering is
 * missing; their pages are touched only as far as packets reach. */
static size_t ring_bytes(unsigned n)
{
	size_t b = RING_BYTES;

	while (b > RING_MIN && (size_t)(n - 1) * b > RING_SHARE)
		b >>= 1;
	return b;
}

int shards_config(hsk_config *c, unsigned n)
{
	static const uint8_t zero[sizeof(c->tcp_fastopen_key)];

	/* The set keeps the memory bound of one stack. */
	c->tcp_mem_low /= n;
	c->tcp_mem_pressure /= n;
	c->tcp_mem_high /= n;
	/* One Fast Open key for the set: a client's next connection may come
	 * from another port, hence to another shard, with the cookie the
	 * first shard gave it. */
	if (n < 2 || memcmp(c->tcp_fastopen_key, zero, sizeof(zero)))
		return 0;
	if (c->seed != HSK_SEED_OS) {
		for (unsigned i = 0; i < sizeof(zero); i++)
			c->tcp_fastopen_key[i] = (uint8_t)rng_derive(c->seed, 0x74666f6b6579u + i);
		return 0;
	}
	int (*fn)(void *, void *, size_t) = c->entropy ? c->entropy : hsk_os_entropy;
	return fn(c->entropy_ctx, c->tcp_fastopen_key, sizeof(zero)) < 0 ? -1 : 0;
}

void shards_config_shard(hsk_config *c, unsigned i)
{
	/* a replay seed: the same run, distinct keys per shard */
	if (c->seed != HSK_SEED_OS)
		c->seed += i;
}

/* Opens the queues, the rings and the shards' loops. */
static int shards_setup(hsk_shards *sh, const hsk_netspec *ns, const hsk_config *cfg,
			char *err, size_t errlen)
{
	unsigned n = sh->n, nq = ns->queues ? ns->queues : n;
	hsk_dev *devs[SHARDS_MAX];
	hsk_config c;

	if (nq % n || nq > SHARDS_MAX) {
		dev_errf(err, errlen, "%u queues for %u shards: give a multiple of the shards, "
			 "at most %d", nq, n, SHARDS_MAX);
		return -1;
	}
	if (n > 1 && !(sh->rings = calloc((size_t)n * n, sizeof(*sh->rings))))
		goto nomem;
	for (unsigned i = 0; i < n * n && n > 1; i++)
		if (i / n != i % n && spsc_init(&sh->rings[i], ring_bytes(n)) < 0)
			goto nomem;
	for (unsigned i = 0; i < n; i++) {
		struct shard *s = &sh->s[i];
		s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (s->wake_fd < 0) {
			dev_errf(err, errlen, "eventfd: %s", strerror(errno));
			return -1;
		}
	}
	if (hsk_netspec_open_queues(ns, nq, devs, err, errlen) < 0)
		return -1;
	if (cfg)
		c = *cfg;
	else
		hsk_config_default(&c);
	if (!c.prefix_len && ns->prefix <= 32)
		c.prefix_len = (uint8_t)ns->prefix;
	if (shards_config(&c, n) < 0) {
		dev_errf(err, errlen, "no entropy for the shards' Fast Open key");
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct shard *s = &sh->s[i];
		hsk_dev *mine[SHARDS_MAX];
		hsk_config ci = c;
		unsigned k = 0;

		for (unsigned q = i; q < nq; q += n)
			mine[k++] = devs[q];
		for (unsigned q = i; q < nq; q += n)
			devs[q] = NULL;   /* the loop has them now */
		if (n > 1) {
			ci.port_ok = port_ok;
			ci.port_ok6 = port_ok6;
			ci.port_ok_ctx = s;
			shards_config_shard(&ci, i);
		}
		/* Shard 0's loop takes the signals for the set; the threads
		 * made afterwards inherit their block. */
		s->l = loop_create(mine, k, ns->addr, &ci, i == 0, err, errlen);
		if (s->l && loop_add_addrs(s->l, ns, err, errlen) < 0) {
			for (unsigned q = 0; q < nq; q++)
				dev_close(devs[q]);
			return -1;
		}
		if (!s->l || loop_set_shard(s->l, sh, i, n, s->wake_fd) < 0) {
			if (s->l)
				dev_errf(err, errlen, "epoll: %s", strerror(errno));
			for (unsigned q = 0; q < nq; q++)
				dev_close(devs[q]);
			return -1;
		}
	}
	return 0;
nomem:
	dev_errf(err, errlen, "out of memory for the shards' rings");
	return -1;
}

hsk_shards *hsk_shards_open(const hsk_netspec *ns, const hsk_config *cfg, unsigned n,
			    char *err, size_t errlen)
{
	hsk_shards *sh;

	if (n < 1 || n > SHARDS_MAX) {
		dev_errf(err, errlen, "shards: 1 to %d, not %u", SHARDS_MAX, n);
		return NULL;
	}
	sh = calloc(1, sizeof(*sh));
	if (!sh || !(sh->s = calloc(n, sizeof(*sh->s)))) {
		free(sh);
		dev_errf(err, errlen, "out of memory");
		return NULL;
	}
	sh->n = n;
	if (sched_getaffinity(0, sizeof(sh->cpus), &sh->cpus) < 0)
		CPU_ZERO(&sh->cpus);
	for (unsigned i = 0; i < n; i++) {
		struct shard *s = &sh->s[i];
		s->sh = sh;
		s->id = i;
		s->wake_fd = -1;
		atomic_init(&s->cpu, -1);
		s->exited = true;        /* no thread yet: posts run at once */
		s->posts_end = &s->posts;
		pthread_mutex_init(&s->mu, NULL);
	}
	if (shards_setup(sh, ns, cfg, err, errlen) < 0) {
		hsk_shards_free(sh);
		return NULL;
	}
	return sh;
}

void hsk_shards_free(hsk_shards *sh)
{
	if (!sh)
		return;
	/* the last loop restores the signal mask shard 0's loop changed */
	for (unsigned i = sh->n; i-- > 0;) {
		struct shard *s = &sh->s[i];
		struct post *p, *next;

		hsk_loop_free(s->l);
		if (s->wake_fd >= 0)
			close(s->wake_fd);
		for (p = s->posts; p; p = next) {
			next = p->next;
			free(p);
		}
		pthread_mutex_destroy(&s->mu);
	}
	for (unsigned i = 0; sh->rings && i < sh->n * sh->n; i++)
		spsc_free(&sh->rings[i]);
	free(sh->rings);
	free(sh->s);
	free(sh);
}

unsigned hsk_shards_count(const hsk_shards *sh) { return sh->n; }
hsk_loop *hsk_shards_loop(hsk_shards *sh, unsigned i) { return i < sh->n ? sh->s[i].l : NULL; }

void hsk_shards_stats(const hsk_shards *sh, unsigned i, hsk_shard_stats *st)
{
	const struct shard *s = &sh->s[i];

	st->wrong_shard = fig_get(&s->wrong_shard);
	st->handed_in = fig_get(&s->handed_in);
	st->ring_drops = fig_get(&s->ring_drops);
	st->turns = fig_get(&s->turns);
	st->sleeps = fig_get(&s->sleeps);
	st->cpu = atomic_load((_Atomic int *)&s->cpu);
}
