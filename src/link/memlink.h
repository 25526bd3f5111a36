/*
 * memlink: an in-memory IPv4 network with a virtual clock.
 *
 * Stacks attach as hosts; a packet one host transmits is routed by its
 * destination address to the host that owns it, after the impairments of the
 * sender's egress (loss, duplication, reordering, delay, corruption,
 * bandwidth). Everything random comes from the seed, so a run replays
 * exactly. The network is also the simulation's event loop: memnet_step()
 * jumps the clock to the next event (a packet delivery or any stack's
 * timer) and processes it.
 *
 * Order of the egress impairments: filter, loss, egress queue (rate and
 * queue limit), corruption, duplication (the copy carries the same damage),
 * then delay + jitter (+ reorder_ns for a reordered packet). Packets due at
 * the same instant arrive in the order they were sent. Packets a stack
 * sends while processing at time t with no delay are delivered by the next
 * memnet_step (same t), so one step is bounded.
 */
#ifndef HSK_MEMLINK_H
#define HSK_MEMLINK_H

#include "handshake.h"

typedef struct hsk_memnet hsk_memnet;

typedef struct memnet_impair {
	double loss;          /* probability a packet is dropped */
	double dup;           /* probability a packet is delivered twice */
	double reorder;       /* probability a packet is held back by reorder_ns */
	double corrupt;       /* probability one random byte is flipped */
	uint64_t delay_ns;    /* one-way propagation delay */
	uint64_t jitter_ns;   /* extra uniform delay in [0, jitter_ns) */
	uint64_t reorder_ns;  /* extra delay of a reordered packet, 0: 1 ms */
	uint64_t rate_bps;    /* serialisation rate of the egress, 0: infinite */
	size_t queue_limit;   /* packets waiting at a rate-limited egress, 0: unbounded */
} memnet_impair;

/* A filter sees every packet a host transmits before impairments; returning
 * false drops it (counted as a filter drop). Tests use it to lose exactly
 * the segment a scenario needs lost. */
typedef bool (*memnet_filter_fn)(void *ctx, int from_host, const uint8_t *pkt, size_t len);

hsk_memnet *memnet_new(uint64_t seed, uint64_t start_ns);
void memnet_free(hsk_memnet *n);          /* does not free the stacks */
uint64_t memnet_now(const hsk_memnet *n);

/* Adds a host with address `addr`; fills *link for hsk_stack_new and
 * returns the host id (0, 1, ...). */
int memnet_add_host(hsk_memnet *n, uint32_t addr, hsk_link *link);
/* Tells the network which stack receives this host's packets. */
void memnet_set_stack(hsk_memnet *n, int host, hsk_stack *s);
void memnet_set_impair(hsk_memnet *n, int host, const memnet_impair *imp);
void memnet_set_filter(hsk_memnet *n, memnet_filter_fn fn, void *ctx);

/* The earliest event: a packet delivery or a stack deadline; UINT64_MAX
 * when the network is idle and no timer is armed. */
uint64_t memnet_next_event(const hsk_memnet *n);
/* Advances to the next event if it is at or before `limit`, processes
 * everything due then, and returns true; returns false (clock moved to
 * `limit` if finite) when nothing is due by then. */
bool memnet_step(hsk_memnet *n, uint64_t limit);
/* Steps until nothing is due by now+dt; the clock ends at now+dt. A stack
 * whose deadline does not move past the clock after being advanced would
 * livelock the loop: after a million steps at one instant it gives up and
 * counts it in memnet_stats.livelocks. */
void memnet_run_for(hsk_memnet *n, uint64_t dt_ns);
/* Packets in flight. */
size_t memnet_in_flight(const hsk_memnet *n);

/* Test hook: packets delivered to `host` go to fn instead of a stack. */
typedef void (*memnet_sink_fn)(void *ctx, uint64_t now, const uint8_t *pkt, size_t len);
void memnet_set_sink(hsk_memnet *n, int host, memnet_sink_fn fn, void *ctx);

/* Observation hook: called for every packet the network drops, with the
 * sender, the packet as transmitted and the reason ("filter", "loss",
 * "queue", "unroutable"). Must not call into a stack or the network. */
typedef void (*memnet_drop_fn)(void *ctx, uint64_t now, int from_host,
			       const char *reason, const uint8_t *pkt, size_t len);
void memnet_set_drop_hook(hsk_memnet *n, memnet_drop_fn fn, void *ctx);

/* The host owning addr, or -1. */
int memnet_host_by_addr(const hsk_memnet *n, uint32_t addr);
/* Gives host an IPv6 address: IPv6 packets to it are routed there (one
 * per host, unicast only; ND is the TAP's, not the simulator's). 0, or
 * -1 for a bad host or an address another host has. */
int memnet_set_addr6(hsk_memnet *n, int host, const uint8_t a[16]);
int memnet_host_by_addr6(const hsk_memnet *n, const uint8_t a[16]);

typedef struct memnet_stats {
	uint64_t sent, delivered, lost, duplicated, reordered, corrupted,
		 filtered, unroutable, queue_drops, livelocks;
	/* of `corrupted`, those whose damage no check can see: in an IPv6
	 * packet the traffic class, the flow label or the hop limit (no
	 * header checksum covers them), or a next header turned into 59
	 * (no next header: nothing is delivered, nothing counted) */
	uint64_t corrupted_unchecked;
} memnet_stats;
void memnet_get_stats(const hsk_memnet *n, memnet_stats *st);

#endif
