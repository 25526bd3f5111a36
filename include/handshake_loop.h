/*
 * A small event loop that drives one hsk_stack on one device in real time,
 * so that applications and the CLI need no stack internals.
 *
 * One thread, one epoll set: the device's fd (one per queue), a signalfd
 * (SIGINT, SIGTERM, SIGHUP, SIGUSR1) and any fd the application adds. Each
 * turn:
 *
 *   now = CLOCK_MONOTONIC
 *   device timers (ARP, impairment queues)    dev_advance
 *   packets in (batches, at most 256)         dev_read_batch, hsk_stack_input
 *   stack timers                              hsk_stack_advance
 *   readiness events -> the socket callback   hsk_stack_events
 *   the devices' queued packets out           dev_flush
 *   sleep in epoll_pwait2 until the earliest of the stack's deadline, the
 *   device's deadline (to the ns), or an fd becoming ready
 *
 * Callbacks run between stack calls, never inside one, so they may call any
 * hsk_* function (send, recv, close...), and always after the stack's clock
 * was brought to the present (hsk_stack_advance). Packets the stack sends
 * are handed to the device at once; a batching device (io_uring, GSO)
 * sends them at the end of the turn. A program calling hsk_* outside
 * callbacks should call hsk_stack_advance(s, hsk_now_ns()) first.
 *
 * Several loops, one per core, make a shard set (hsk_shards, below).
 *
 * Usage:
 *   hsk_netspec ns = { .tun = "hsk0", .addr = ..., .prefix = 24 };
 *   hsk_loop *l = hsk_loop_open(&ns, NULL, err, sizeof(err));
 *   hsk_loop_on_socket(l, on_sock, app);
 *   ... hsk_socket(hsk_loop_stack(l)) ... hsk_listen ...
 *   hsk_loop_run(l);
 */
#ifndef HANDSHAKE_LOOP_H
#define HANDSHAKE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "handshake.h"

#pragma GCC visibility push(default) /* as handshake.h's */

struct hsk_dev;
typedef struct hsk_loop hsk_loop;

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t hsk_now_ns(void);

/* IPv6 addresses a netspec holds at most. */
#define HSK_NETSPEC_ADDR6 4

/* Which device to open and what to stack on it. */
typedef struct hsk_netspec {
	const char *tun;        /* TUN device name, or */
	const char *tap;        /* TAP device name */
	uint32_t addr;          /* our IPv4 address (host order); 0: none (an
				 * IPv6-only stack, with naddr6 > 0) */
	unsigned prefix;        /* our prefix length */
	/* IPv6 (docs/ipv6.md): our addresses and prefixes. TUN then passes
	 * IPv6 packets (dropped otherwise, as always) and its kernel side
	 * gets host_addr6; TAP gains a link-local address and Neighbor
	 * Discovery (with DAD); AF_XDP has no IPv6 yet (refused). */
	hsk_addr addr6[HSK_NETSPEC_ADDR6];
	unsigned prefix6[HSK_NETSPEC_ADDR6];
	unsigned naddr6;
	hsk_addr host_addr6;    /* kernel side's IPv6 address for a device
				 * with none (family 0: the first other host
				 * of addr6[0]'s prefix; host_addr UINT32_MAX
				 * leaves the device alone for both families) */
	uint32_t gw;            /* TAP: gateway for other destinations (0: none) */
	hsk_addr gw6;           /* TAP: IPv6 router for other destinations,
				 * link-local or inside one of addr6's
				 * prefixes (family 0: the last router a
				 * Router Advertisement named, if any) */
	uint32_t host_addr;     /* kernel side address given to an unconfigured
				 * device; 0: the first other host of the prefix;
				 * UINT32_MAX: never configure */
	const char *pcap;       /* capture file, or NULL */
	/* impairment layer, added when any is non-zero */
	double loss, dup, reorder;
	double ce;              /* chance an ECT packet is marked CE */
	uint64_t delay_ns, reorder_ns;
	uint64_t seed;
	bool cross_fins;        /* hold the first FIN until the other side's
				 * arrives: a simultaneous close on demand */
	uint64_t stall_ns;      /* a stall: after stall_after packets through
				 * the layer, all that enters it for stall_ns
				 * is held, then let go in order (0: none) */
	unsigned stall_after;
	/* TUN offloads and batches (docs/scale.md) */
	const char *offload;    /* features wanted, as "csum,tso4,tso6,uso,
				 * tx-gso" or "all"; NULL or "none": a plain
				 * TUN. Those the kernel refuses are left off */
	const char *offload_deny; /* tests: features the kernel is made to
				 * refuse, so that the fallback runs */
	bool uring;             /* TUN: reads and writes through io_uring */
	/* queues */
	const char *xdp;        /* AF_XDP on this Ethernet interface (instead
				 * of tun or tap): one XSK per queue */
	bool xdp_skb;           /* AF_XDP: generic XDP, not the driver's */
	bool xdp_copy;          /* AF_XDP: do not try zero-copy */
	unsigned queues;        /* device queues (multi-queue TUN, XSKs); 0:
				 * 1, or with hsk_shards one per shard */
	bool steer_deny;        /* tests: the steering program's attach fails
				 * (the fallback: as no_steer) */
	bool no_steer;          /* multi-queue TUN: no eBPF steering program
				 * (the kernel's own queue choice; packets
				 * then reach other shards and are handed
				 * over: tests) */
} hsk_netspec;

/* Opens the device stack described by ns: driver, then impairment, then
 * pcap on top (so the capture shows what the stack sent and received).
 * NULL with a message in err. One queue (ns->queues <= 1). */
struct hsk_dev *hsk_netspec_open(const hsk_netspec *ns, char *err, size_t errlen);
/* The same for n queues of one device (n >= 1; multi-queue TUN, AF_XDP),
 * each with its own layers (an impairment layer seeded seed + queue; one
 * pcap file for all), into devs[0..n). 0, or -1 with err set (nothing
 * left open). */
int hsk_netspec_open_queues(const hsk_netspec *ns, unsigned n, struct hsk_dev **devs,
			    char *err, size_t errlen);
/* The default number of queues and shards for ns on this machine: one
 * per core (of this process's CPU set), at most 64; 1 for TAP, and for a
 * TUN device that exists without multi_queue (*why says so); for AF_XDP
 * the interface's receive queues, or the largest divisor of them that
 * is at most the cores. */
unsigned hsk_netspec_default_shards(const hsk_netspec *ns, const char **why);

/* "198.18.0.2/24" -> addr, prefix (32 when absent). 0 or -1. */
int hsk_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix);
/* The same for either family: "198.18.0.2/24", "2001:2::2/64" (prefix
 * 32 or 128 when absent; no brackets, no zone). 0 or -1. */
int hsk_parse_cidr_addr(const char *s, hsk_addr *a, unsigned *prefix);
/* Adds an address to ns: an IPv4 one becomes ns->addr (one only), an
 * IPv6 one joins addr6. 0, or -1 with a reason in *why. */
int hsk_netspec_add_addr(hsk_netspec *ns, const hsk_addr *a, unsigned prefix,
			 const char **why);
/* "198.18.0.1" -> addr. 0 or -1. */
int hsk_parse_ipv4(const char *s, uint32_t *addr);
/* addr -> "198.18.0.1" into buf (16 bytes); returns buf. */
const char *hsk_ipv4_str(uint32_t addr, char *buf);

/* A loop over dev (taken over: closed by hsk_loop_free). cfg may be NULL
 * for defaults; cfg->addr 0 means `addr`, cfg->mtu 0 the device's MTU.
 * NULL with a message in err. */
hsk_loop *hsk_loop_new(struct hsk_dev *dev, uint32_t addr, const hsk_config *cfg,
		       char *err, size_t errlen);
/* hsk_netspec_open(_queues) + hsk_loop_new: one loop over ns->queues
 * queues (the loop reads them all; it sends a flow's packets on the queue
 * steer_packet_queue names). */
hsk_loop *hsk_loop_open(const hsk_netspec *ns, const hsk_config *cfg,
			char *err, size_t errlen);
/* Resets (RST) every connection that still has a socket, then frees the
 * stack, the device and the loop. Close connections first to end them
 * gracefully (see hsk_loop_linger). */
void hsk_loop_free(hsk_loop *l);

hsk_stack *hsk_loop_stack(hsk_loop *l);
/* The loop's first device, and all of them (one per queue it reads). */
struct hsk_dev *hsk_loop_dev(hsk_loop *l);
unsigned hsk_loop_dev_count(const hsk_loop *l);
struct hsk_dev *hsk_loop_dev_at(hsk_loop *l, unsigned i);
/* The time of the current turn (CLOCK_MONOTONIC ns). */
uint64_t hsk_loop_now(const hsk_loop *l);

/* Called for each readiness event (sd, HSK_POLL* mask). */
typedef void (*hsk_loop_sock_fn)(void *ctx, hsk_loop *l, int sd, int events);
void hsk_loop_on_socket(hsk_loop *l, hsk_loop_sock_fn fn, void *ctx);
/* Called for SIGINT, SIGTERM, SIGHUP and SIGUSR1. Without a handler, the
 * first three stop the loop. */
typedef void (*hsk_loop_sig_fn)(void *ctx, hsk_loop *l, int signo);
void hsk_loop_on_signal(hsk_loop *l, hsk_loop_sig_fn fn, void *ctx);
/* Called once at the end of every turn (after the socket events). */
typedef void (*hsk_loop_tick_fn)(void *ctx, hsk_loop *l);
void hsk_loop_on_tick(hsk_loop *l, hsk_loop_tick_fn fn, void *ctx);
/* Called once for each IPv6 address of an Ethernet device's (TAP,
 * AF_XDP; its link-local one too) that Duplicate Address Detection finds
 * taken on the link, in the first two seconds after it was added: the
 * loop has already taken it out of the stack (RFC 4862 §5.4.5;
 * connections on it live on, new ones cannot use it). */
typedef void (*hsk_loop_addr_fn)(void *ctx, hsk_loop *l, const hsk_addr *a);
void hsk_loop_on_addr_taken(hsk_loop *l, hsk_loop_addr_fn fn, void *ctx);

/* Watches an application fd (EPOLLIN/EPOLLOUT bits in `events`). */
typedef void (*hsk_loop_fd_fn)(void *ctx, hsk_loop *l, int fd, uint32_t events);
int hsk_loop_add_fd(hsk_loop *l, int fd, uint32_t events, hsk_loop_fd_fn fn, void *ctx);
int hsk_loop_del_fd(hsk_loop *l, int fd);

/* Wakes the loop no later than t (CLOCK_MONOTONIC ns), so that the tick
 * callback runs then: for the application's own timeouts. One turn at or
 * after t clears it; the earliest of several calls wins. */
void hsk_loop_wake_at(hsk_loop *l, uint64_t t);

/* Runs turns until hsk_loop_stop (0) or a device error (-errno). */
int hsk_loop_run(hsk_loop *l);
/* One turn, sleeping at most max_wait_ns, even after a stop (so an
 * application can finish closing after it stopped the loop). 0, 1 when
 * stopped, or -errno. */
int hsk_loop_run_once(hsk_loop *l, uint64_t max_wait_ns);
/* Runs until `deadline` (CLOCK_MONOTONIC ns) or stop. */
int hsk_loop_run_until(hsk_loop *l, uint64_t deadline);
/* After the application has closed its connections: runs turns until no
 * connection needs the loop any more (no TCB, no SYN-queue request,
 * nothing held back by an impairment layer) or until `deadline`. With
 * tw_grace_ns > 0, TIME_WAIT entries keep it running that much longer
 * after the last packet that came in (within the deadline), so that a
 * FIN the peer resends because our last ACK was lost is still answered,
 * however many times. Clears a stop first. 0 when all is
 * done, 1 at the deadline, 2 when a callback stopped the loop (a second
 * SIGINT, say), -errno on a device error. */
int hsk_loop_linger(hsk_loop *l, uint64_t deadline, uint64_t tw_grace_ns);
void hsk_loop_stop(hsk_loop *l);
/* Clears a stop so that hsk_loop_run can run again. */
void hsk_loop_resume(hsk_loop *l);
bool hsk_loop_stopped(const hsk_loop *l);

/*
 * Shards: one stack per core (docs/scale.md).
 *
 * hsk_shards_open opens the device's queues (ns->queues, default one per
 * shard; a multiple of the shards) and n loops, each with its own stack,
 * devices, epoll set and timers: shard i reads queues i, i + n, ... The
 * stacks share nothing; the sans-IO core stays single-threaded, each
 * stack only ever touched by its shard's thread.
 *
 *   flow -> shard    steer_queue(steer_hash(4-tuple), n): the function the
 *                    TUN steering program (and a NIC with the symmetric
 *                    RSS key) computes, so a flow's packets arrive on its
 *                    shard's queue.
 *   wrong shard      a packet read on another shard's queue (no steering
 *                    program, a reassembled fragment, AF_XDP on veth) is
 *                    copied into a lock-free single-producer single-consumer
 *                    ring to its shard (one ring per ordered pair) and
 *                    counted: hsk_shard_stats.
 *   active opens     each stack's ephemeral port search takes only ports
 *                    whose replies come back to it (hsk_config.port_ok).
 *   listeners        the application listens on every shard (as
 *                    SO_REUSEPORT): a SYN is answered, queued and accepted
 *                    on its flow's shard.
 *   signals          shard 0's loop takes them; each shard's signal
 *                    callback then runs in its own thread.
 *
 * hsk_shards_run(sh, fn, ctx) runs fn(ctx, loop) on every shard, each in
 * its own thread pinned to a core (shard 0 in the caller's thread); a
 * shard whose fn returned keeps running its loop (its flows, handovers,
 * posted calls) until every fn has returned. From other threads, reach a
 * shard only through hsk_shards_post/sync.
 */
typedef struct hsk_shards hsk_shards;

/* n shards (1..64) over the device of ns; cfg as for hsk_loop_new (each
 * stack gets a copy: its own keys; tcp_mem limits divided by n, so that
 * the set keeps the memory bound of one stack; cfg->port_ok is the set's).
 * NULL with a message in err. */
hsk_shards *hsk_shards_open(const hsk_netspec *ns, const hsk_config *cfg, unsigned n,
			    char *err, size_t errlen);
/* Frees every loop (hsk_loop_free: open connections are reset) and the
 * rings. Not while hsk_shards_run runs. */
void hsk_shards_free(hsk_shards *sh);
unsigned hsk_shards_count(const hsk_shards *sh);
hsk_loop *hsk_shards_loop(hsk_shards *sh, unsigned i);
/* The shard of a loop, and its set (NULL for a loop of its own, shard 0). */
hsk_shards *hsk_loop_shards(const hsk_loop *l);
unsigned hsk_loop_shard(const hsk_loop *l);
/* The shard a 4-tuple belongs to (either direction: the hash is
 * symmetric). */
unsigned hsk_shards_of(const hsk_shards *sh, uint32_t laddr, uint16_t lport,
		       uint32_t raddr, uint16_t rport);
/* The same for addresses of either family (both of one family). */
unsigned hsk_shards_of_addr(const hsk_shards *sh, const hsk_addr *laddr, uint16_t lport,
			    const hsk_addr *raddr, uint16_t rport);

typedef int (*hsk_shard_fn)(void *ctx, hsk_loop *l);
/* Runs fn on every shard (see above) and returns when every thread has
 * ended: the first non-zero return of fn, or -errno when a thread could
 * not be started. */
int hsk_shards_run(hsk_shards *sh, hsk_shard_fn fn, void *ctx);

typedef void (*hsk_shard_call_fn)(void *ctx, hsk_loop *l);
/* Runs fn(ctx, loop i) on shard i's thread at its next turn (after its
 * stack's clock was advanced), or at once in the caller's thread when
 * shard i's thread has ended. 0 or -ENOMEM. */
int hsk_shards_post(hsk_shards *sh, unsigned i, hsk_shard_call_fn fn, void *ctx);
/* hsk_shards_post to every shard but the caller's, which runs fn at
 * once: a stop, a signal, a limit reached. */
void hsk_shards_post_all(hsk_shards *sh, hsk_shard_call_fn fn, void *ctx);
/* Runs fn on every shard, each in its own thread, in the order 0..n-1
 * one after the other, and returns when all have: for a consistent
 * snapshot (the --stats table). Call it from shard 0's thread or from
 * outside the set, never from two threads at once. */
void hsk_shards_sync(hsk_shards *sh, hsk_shard_call_fn fn, void *ctx);

/* What a shard's loop counted (readable from any thread). */
typedef struct hsk_shard_stats {
	uint64_t wrong_shard;   /* packets read here that belonged to another
				 * shard (handed over or dropped) */
	uint64_t handed_in;     /* packets other shards handed to this one */
	uint64_t ring_drops;    /* handovers dropped: the ring was full */
	uint64_t turns;         /* loop turns */
	uint64_t sleeps;        /* turns that began after sleeping */
	int cpu;                /* the core it runs pinned on (-1: none) */
} hsk_shard_stats;
void hsk_shards_stats(const hsk_shards *sh, unsigned i, hsk_shard_stats *st);

#pragma GCC visibility pop

#endif
