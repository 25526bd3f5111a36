/*
 * Between the loop (loop.c) and the shard set (shards.c): what the loop of
 * one shard asks of its set, and what the set asks of the loop. Not part
 * of the public API (include/handshake_loop.h has that).
 *
 * Each turn of a shard's loop (see loop.c):
 *
 *   shards_take(...)        packets other shards handed over -> the stack
 *   dev_read_batch(...)     for each packet: shards_give() when its flow
 *                           belongs to another shard, else the stack
 *   ...timers, events, flush, sleep (the wake eventfd is in the epoll set)
 *
 * and when the wake eventfd fires, shards_run_posts() runs the calls other
 * threads posted (hsk_shards_post), after the stack's clock was advanced.
 */
#ifndef HSK_API_SHARD_H
#define HSK_API_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handshake_loop.h"

struct hsk_dev;

/* ---- loop.c, for shards.c ---- */

/* A loop over ndev devices (taken over, closed with the loop; on failure
 * too). With `signals`, it takes SIGINT, SIGTERM, SIGHUP and SIGUSR1
 * through a signalfd (blocking them in the calling thread, so threads
 * created afterwards inherit the block). */
hsk_loop *loop_create(struct hsk_dev **devs, unsigned ndev, uint32_t addr,
		      const hsk_config *cfg, bool signals, char *err, size_t errlen);
/* Gives l's stack the IPv6 addresses of ns (and, on TAP, the device,
 * which adds a link-local one). 0 or -1 with err set. */
int loop_add_addrs(hsk_loop *l, const hsk_netspec *ns, char *err, size_t errlen);
/* Makes l shard `id` of the n of sh: wake_fd joins its epoll set. 0 or
 * -errno. */
int loop_set_shard(hsk_loop *l, hsk_shards *sh, unsigned id, unsigned n, int wake_fd);
/* Runs the application's signal callback (or the default action) on l. */
void loop_deliver_signal(hsk_loop *l, int signo);

/* ---- shards.c, for loop.c ---- */

/* The packet read on shard `self` belongs to another shard: handed over
 * (or dropped when that ring is full, counted either way). False when it
 * is self's own. */
bool shards_give(hsk_shards *sh, unsigned self, const uint8_t *pkt, size_t len);
/* Feeds up to `max` packets other shards handed to `self` into its stack:
 * how many; *more when some are left. */
unsigned shards_take(hsk_shards *sh, unsigned self, hsk_loop *l, unsigned max, bool *more);
/* The wake eventfd fired: clears it, runs posted calls. */
void shards_woken(hsk_shards *sh, unsigned self, hsk_loop *l);
/* A signal arrived on shard 0's loop: delivered to every other shard. */
void shards_forward_signal(hsk_shards *sh, int signo);
/* Counts a loop turn and whether it slept. */
void shards_count_turn(hsk_shards *sh, unsigned self, bool slept);

/* ---- shards.c: the configuration of a set's stacks ---- */

/* What the n stacks of a set share, from the application's c: the memory
 * bound divided among them, and one Fast Open key (drawn when c has none
 * and n > 1). 0, or -1 when the entropy source fails. */
int shards_config(hsk_config *c, unsigned n);
/* Shard i's own, from the set's: its replay seed (distinct secrets). */
void shards_config_shard(hsk_config *c, unsigned i);

#endif
