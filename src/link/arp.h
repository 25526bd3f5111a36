/*
 * Ethernet framing and ARP (RFC 826) for the TAP driver, with no I/O of its
 * own: frames to send go to an `out` callback, so the module runs the same
 * under a unit test as on a TAP fd.
 *
 * The cache is bounded (max_entries); an entry is
 *   INCOMPLETE  a request is out; up to max_pending packets wait for it;
 *               retried every ARP_RETRY_NS, given up after ARP_RETRIES
 *               (the waiting packets are dropped and counted);
 *   REACHABLE   until ARP_REACHABLE_NS after it was last confirmed; a
 *               packet sent in its last quarter also sends a refresh
 *               request, so a busy flow never stalls on expiry.
 * A full cache evicts its least recently confirmed entry, never an
 * INCOMPLETE one with packets waiting.
 */
#ifndef HSK_LINK_ARP_H
#define HSK_LINK_ARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { ARP_MAC_LEN = 6, ARP_ETH_HDR_LEN = 14, ARP_PKT_LEN = 28 };
enum { ARP_ETHERTYPE_IPV4 = 0x0800, ARP_ETHERTYPE_ARP = 0x0806 };
#define ARP_RETRY_NS 1000000000ull
#define ARP_RETRIES 3
#define ARP_REACHABLE_NS 60000000000ull

typedef struct arp_cache arp_cache;
typedef void (*arp_out_fn)(void *ctx, const uint8_t *frame, size_t len);

typedef struct arp_stats {
	uint64_t requests_sent, replies_sent, requests_rcvd, replies_rcvd;
	uint64_t bad, not_for_us, failed, pending_drops, evictions;
} arp_stats;

/* NULL on no memory. */
arp_cache *arp_new(const uint8_t mac[ARP_MAC_LEN], uint32_t addr,
		   unsigned max_entries, unsigned max_pending);
void arp_free(arp_cache *a);

/*
 * An Ethernet frame from the wire. Returns the length of the IPv4 packet it
 * carries and points *ip at it; 0 for ARP (handled here: replies go out
 * through `out`, packets waiting for the sender are flushed) and for frames
 * that are not for us or malformed (counted).
 */
long arp_eth_input(arp_cache *a, uint64_t now, const uint8_t *frame, size_t len,
		   const uint8_t **ip, arp_out_fn out, void *ctx);

/*
 * Sends an IPv4 packet to next hop `nh`: framed and passed to `out` at once
 * when nh is resolved, else queued while a request goes out. 0, or
 * -ENOBUFS (queue or cache full) / -EMSGSIZE; the packet is dropped then.
 */
int arp_output(arp_cache *a, uint64_t now, uint32_t nh, const uint8_t *pkt,
	       size_t len, arp_out_fn out, void *ctx);

/* The fast path of arp_output for a device that frames packets itself:
 * true with nh's MAC when nh is resolved (a refresh request goes out in
 * the entry's last quarter of life, as arp_output sends); false when the
 * packet must go through arp_output, which queues it and asks. */
bool arp_resolve(arp_cache *a, uint64_t now, uint32_t nh, uint8_t mac[ARP_MAC_LEN],
		 arp_out_fn out, void *ctx);

/* Teaches the cache addr -> mac learned elsewhere, as an ARP message
 * from addr would: for a device whose queues each keep a cache of their
 * own, where the ARP reply to one queue's request may arrive on another
 * (xdp.c passes what another queue learned). Packets waiting for addr go
 * out. Ignored for address 0, our own, or a multicast MAC. */
void arp_glean(arp_cache *a, uint64_t now, uint32_t addr, const uint8_t mac[ARP_MAC_LEN],
	       arp_out_fn out, void *ctx);

/* Retries requests, fails and expires entries. */
void arp_advance(arp_cache *a, uint64_t now, arp_out_fn out, void *ctx);
uint64_t arp_next_deadline(const arp_cache *a);

/* The cached MAC of addr, if resolved. */
bool arp_lookup(const arp_cache *a, uint32_t addr, uint8_t mac[ARP_MAC_LEN]);
size_t arp_entries(const arp_cache *a);
void arp_get_stats(const arp_cache *a, arp_stats *st);

#endif
