/*
 * IPv6 Neighbor Discovery (RFC 4861) and duplicate address detection (RFC
 * 4862 §5.4) for the TAP driver, with no I/O of its own: frames to send go
 * to an `out` callback, as arp.c's do, so the module runs the same under a
 * unit test as on a TAP fd. TUN needs none of it.
 *
 * Our addresses (nd_add_addr) are each
 *   TENTATIVE  for ND_RETRANS_NS after one DAD probe (an NS from :: to its
 *              solicited-node group, with a nonce, RFC 7527); an NA for it,
 *              or another node's probe for it (not our nonce), makes it
 *   DUPLICATE  for good (counted: dad_failed): the node that holds it
 *              is a neighbour like any other, its NAs learned; else it
 *              becomes
 *   PREFERRED  answered for (solicited NA with our MAC, S and O set; a
 *              probe from another node is answered to all-nodes, §7.2.4).
 * Frames to our MAC, to all-nodes (33:33:00:00:00:01) and to the
 * solicited-node group of each address (33:33:ff:xx:xx:xx) are taken;
 * other multicast frames are not for us. (On a bridge that snoops MLD our
 * groups would need MLD reports; a TAP link to the kernel has none.)
 *
 * The neighbour cache is arp.c's, with RFC 4861's states where they
 * matter (bounded: max_entries; each entry's queue: max_pending):
 *   INCOMPLETE  a multicast NS is out; packets wait; retried every
 *               ND_RETRANS_NS, given up after ND_MAX_MCAST_SOLICIT (the
 *               waiting packets are dropped and counted);
 *   REACHABLE   until ND_REACHABLE_NS after a solicited NA confirmed it;
 *               a packet sent in its last quarter also sends a unicast NS,
 *               so a busy flow never stalls;
 *   STALE       learned without confirmation (an NS or RA carrying the
 *               neighbour's address, an unsolicited NA) or REACHABLE run
 *               out: used at once, and a packet through it sends a
 *               unicast NS (at most one per ND_RETRANS_NS); after
 *               ND_MAX_UCAST_SOLICIT of them unanswered it is resolved
 *               again. Unused STALE entries go after ND_STALE_NS.
 * A full cache evicts its least recently confirmed usable entry, never an
 * INCOMPLETE one with packets waiting.
 *
 * Next hops: a destination in the prefix of one of our addresses, or
 * link-local, is on the link; anything else goes to the router set with
 * nd_set_router or, when none is, to the last router that advertised a
 * non-zero lifetime (RA, §6.3.4), until that lifetime ends.
 *
 * Only ND messages directly after the IPv6 header are taken here (all
 * real ones are); the rest goes up to the stack, which ignores ND.
 */
#ifndef HSK_LINK_ND_H
#define HSK_LINK_ND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { ND_ETHERTYPE_IPV6 = 0x86dd };
#define ND_RETRANS_NS 1000000000ull        /* RetransTimer */
#define ND_REACHABLE_NS 30000000000ull     /* REACHABLE_TIME */
#define ND_STALE_NS 60000000000ull         /* Linux's gc_stale_time */
#define ND_MAX_MCAST_SOLICIT 3
#define ND_MAX_UCAST_SOLICIT 3

typedef struct nd_cache nd_cache;
typedef void (*nd_out_fn)(void *ctx, const uint8_t *frame, size_t len);

typedef struct nd_stats {
	uint64_t ns_sent, na_sent, ns_rcvd, na_rcvd, ra_rcvd;
	uint64_t bad, not_for_us, failed, pending_drops, evictions;
	uint64_t dad_sent, dad_failed, no_route;
} nd_stats;

enum nd_addr_state { ND_ADDR_NONE = -1, ND_ADDR_PREFERRED = 0, ND_ADDR_TENTATIVE,
		     ND_ADDR_DUPLICATE };

/* NULL on no memory. */
nd_cache *nd_new(const uint8_t mac[6], unsigned max_entries, unsigned max_pending);
void nd_free(nd_cache *n);

/* One of our addresses and its on-link prefix length. With dad, DAD
 * starts now (the probe goes out through `out`; with out NULL the
 * address is tentative as long, its probe sent by another cache of the
 * same interface: AF_XDP's queues); without, it is PREFERRED at once.
 * 0, -EINVAL (multicast, ::, ...), -EEXIST, -ENOMEM. */
int nd_add_addr(nd_cache *n, uint64_t now, const uint8_t a[16], unsigned prefix,
		bool dad, nd_out_fn out, void *ctx);
enum nd_addr_state nd_addr_state(const nd_cache *n, const uint8_t a[16]);
/* A device's IPv6 (TAP, each AF_XDP queue): the first call makes *n and
 * gives it the link-local address of mac (modified EUI-64, written to ll
 * when not NULL); a (NULL: none) is then added as by nd_add_addr. 0, or
 * nd_add_addr's errors. */
int nd_dev_add_addr(nd_cache **n, const uint8_t mac[6], uint64_t now, const uint8_t a[16],
		    unsigned prefix, bool dad, nd_out_fn out, void *ctx, uint8_t ll[16]);
/* The last advertisement taken since the last call (valid, to us, for
 * another node, with its MAC): its target and MAC, learned or not (§7.2.5
 * discards one no entry asked for). For a device whose queues share what
 * each hears, where the answer to one queue's solicitation may reach
 * another (xdp.c). False when there was none. */
bool nd_take_advert(nd_cache *n, uint8_t a[16], uint8_t mac[6]);
/* Another cache of the interface found address a taken: DUPLICATE here
 * too (not counted again). True when that changed its state. */
bool nd_set_duplicate(nd_cache *n, const uint8_t a[16]);
/* The router for off-link destinations (NULL: none; then RAs may set one). */
void nd_set_router(nd_cache *n, const uint8_t r[16]);
/* The router in use: false when there is none. */
bool nd_router(const nd_cache *n, uint64_t now, uint8_t r[16]);

/* An Ethernet frame of type IPv6 from the wire. Returns the length of the
 * IPv6 packet to hand to the stack and points *ip at it; 0 for ND
 * (handled here) and for frames not for us or malformed (counted). */
long nd_eth_input(nd_cache *n, uint64_t now, const uint8_t *frame, size_t len,
		  const uint8_t **ip, nd_out_fn out, void *ctx);

/* Sends an IPv6 packet: framed at once to a multicast group's MAC or a
 * resolved next hop, else queued while the next hop is solicited. 0, or
 * -ENETUNREACH (no route), -ENOBUFS (queue or cache full), -EMSGSIZE,
 * -EINVAL (not IPv6); the packet is dropped then. */
int nd_output(nd_cache *n, uint64_t now, const uint8_t *pkt, size_t len,
	      nd_out_fn out, void *ctx);

/* The fast path of nd_output for a device that frames packets itself
 * (as arp_resolve): true with the MAC to send a packet for dst to (a
 * group's, or a usable next hop's, probing it when due as nd_output
 * does); false when the packet must go through nd_output, which queues
 * it and solicits the next hop, or counts that there is none. */
bool nd_resolve(nd_cache *n, uint64_t now, const uint8_t dst[16], uint8_t mac[6],
		nd_out_fn out, void *ctx);
/* The next hop towards dst (dst itself on the link, else the router):
 * false when there is none. */
bool nd_next_hop(const nd_cache *n, uint64_t now, const uint8_t dst[16], uint8_t nh[16]);
/* Teaches the cache a -> mac, confirmed elsewhere (another queue's cache
 * of the same interface, where the answer to this one's solicitation
 * arrived): REACHABLE now, waiting packets go out. Ignored for our own
 * addresses (not one DAD found taken: that is a neighbour's), multicast
 * ones and a group MAC. */
void nd_glean(nd_cache *n, uint64_t now, const uint8_t a[16], const uint8_t mac[6],
	      nd_out_fn out, void *ctx);

/* Retries solicitations, ends DAD, fails and ages entries. */
void nd_advance(nd_cache *n, uint64_t now, nd_out_fn out, void *ctx);
uint64_t nd_next_deadline(const nd_cache *n);

/* The cached MAC of a, if usable (REACHABLE or STALE). */
bool nd_lookup(const nd_cache *n, const uint8_t a[16], uint8_t mac[6]);
size_t nd_entries(const nd_cache *n);
void nd_get_stats(const nd_cache *n, nd_stats *st);

#endif
