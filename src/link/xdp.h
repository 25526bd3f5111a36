/*
 * AF_XDP device: handshake on an Ethernet interface (a veth end in the
 * tests) through one XDP socket per queue, with ARP answered and resolved
 * as on TAP (arp.c), and IPv6's Neighbor Discovery (nd.c) once
 * xdp_add_addr6 turns it on. Above it, like every device, bare IP packets.
 *
 * An XDP program of ours (bpf/xsk_redirect.bpf.c) sends every frame that
 * arrives on a queue with an XSK to that XSK; it is attached through a
 * BPF link, so it goes away with the last queue's device (or the process).
 * Each queue has its own UMEM, rings, ARP and ND caches and buffers:
 * nothing on the data path is shared, so each queue can live on its own
 * thread. What one queue learns of a neighbour, the others find on a miss
 * (an answer arrives on the queue the kernel picks); DAD probes once,
 * from queue 0, and an address any queue finds taken is dropped by all.
 *
 * Mode: the driver's XDP (veth has it) unless skb_mode, and zero-copy when
 * the driver supports it for XSKs (veth does not: the bind is refused and
 * copy mode is used; xdp_mode() tells which).
 */
#ifndef HSK_LINK_XDP_H
#define HSK_LINK_XDP_H

#include <stdbool.h>
#include <stdint.h>

#include "link/dev.h"

typedef struct xdp_opts {
	unsigned queues;        /* XSKs on queues 0 .. queues-1 (0: 1) */
	uint32_t addr;          /* our IPv4 address (host order) */
	unsigned prefix;        /* on-link prefix */
	uint32_t gw;            /* next hop for other destinations (0: none) */
	bool skb_mode;          /* generic XDP instead of the driver's */
	bool force_copy;        /* do not try zero-copy */
	unsigned frames;        /* UMEM frames per queue, half for receiving
				 * (0: 4096) */
} xdp_opts;

/* true when this build has AF_XDP (libxdp, libbpf, the eBPF program). */
bool xdp_available(void);
/* Opens o->queues devices on interface ifname into devs[]: 0, or -1 with
 * a message in err (nothing left open). */
int xdp_open(const char *ifname, const xdp_opts *o, hsk_dev **devs, char *err, size_t errlen);
/* "drv/copy", "drv/zerocopy", "skb/copy" for an AF_XDP device below d;
 * NULL when there is none. */
const char *xdp_mode(const hsk_dev *d);
/* tap_add_addr6 and tap_set_router6 (dev.h) for the AF_XDP queue below
 * d: each queue's device takes each address (-ENODEV: no such device). */
int xdp_add_addr6(hsk_dev *d, uint64_t now, const uint8_t a[16], unsigned prefix,
		  bool dad, uint8_t ll[16]);
int xdp_set_router6(hsk_dev *d, const uint8_t r[16]);
bool xdp_addr6_taken(const hsk_dev *d, const uint8_t a[16]);

#endif
