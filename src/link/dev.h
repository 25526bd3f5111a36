/*
 * Devices: where IPv4 packets enter and leave a stack that a real-time
 * driver (src/api/loop.c) runs.
 *
 * A device is a small vtable over IPv4 packets. Drivers (tun, tap) own a
 * file descriptor; layers (pcap, impairment) wrap another device and are
 * devices themselves, so they stack in any order:
 *
 *   stack <-> pcap_dev <-> impair <-> tun | tap(+arp) <-> kernel
 *
 * Ethernet framing and ARP stay inside tap.c: at this interface every
 * device reads and writes bare IPv4 packets. Calls never block.
 *
 * Some devices have work that is not driven by their fd becoming readable
 * (an ARP retry, a delayed packet coming due): next_deadline() says when,
 * and the driver calls advance() and read() again at that time.
 *
 * Batches. A device may take many packets per system call: read_batch()
 * hands out several received packets in the device's own memory, and
 * write() may only queue a packet (copied: the caller's buffer is free
 * again at once) until flush(). A driver calls dev_flush() before it
 * sleeps; one that does not (the loop predates batches) still sees every
 * packet leave: a device holding packets reports next_deadline() 0 and
 * sends them in advance(), so the driver comes back at once.
 */
#ifndef HSK_LINK_DEV_H
#define HSK_LINK_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hsk_dev hsk_dev;

typedef struct hsk_dev_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped;   /* dropped: not IPv4, ... */
	uint64_t tx_packets, tx_bytes, tx_dropped;   /* dropped: write failed */
	/* Drivers with offloads and batches (0 elsewhere): */
	uint64_t rx_calls, tx_calls;  /* system calls made to receive / send */
	uint64_t rx_segs, tx_segs;    /* wire segments the packets stand for
				       * (a GSO packet: several; else 1) */
	uint64_t rx_gso, tx_gso;      /* packets carrying several segments */
	uint64_t rx_csum;             /* partial checksums completed here */
} hsk_dev_stats;

/* A packet of a batch, in memory the device owns. */
typedef struct hsk_pkt {
	uint8_t *data;
	uint32_t len;
} hsk_pkt;

struct hsk_dev_ops {
	/* The next IPv4 packet into buf: its length; 0 when nothing is ready;
	 * a negative -errno when the device failed for good. */
	long (*read)(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap);
	/* Sends one IPv4 packet: 0, or -errno (the packet is dropped and
	 * counted in tx_dropped). */
	int (*write)(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len);
	/* When advance()/read() must run even if the fd stays quiet;
	 * UINT64_MAX when never. May be NULL. */
	uint64_t (*next_deadline)(const hsk_dev *d);
	/* Does the work due at `now` (retries, delayed packets, packets
	 * queued by write). May be NULL. */
	void (*advance)(hsk_dev *d, uint64_t now);
	/* Up to n received IPv4 packets (n >= 1): how many, 0 when none is
	 * ready, or -errno. pkts[i].data stays valid until the next read,
	 * read_batch or flush on d. May be NULL (dev_read_batch then reads
	 * one). */
	long (*read_batch)(hsk_dev *d, uint64_t now, hsk_pkt *pkts, unsigned n);
	/* Sends what write() queued. May be NULL (write sends at once). */
	void (*flush)(hsk_dev *d, uint64_t now);
	/* Releases d and, for layers, the device below. */
	void (*close)(hsk_dev *d);
};

struct hsk_dev {
	const struct hsk_dev_ops *ops;
	hsk_dev *lower;        /* the wrapped device (layers); NULL (drivers) */
	int fd;                /* readable when read() may return a packet */
	unsigned mtu;          /* largest IPv4 packet */
	char name[64];         /* "tun:hsk0", "pcap(impair(tun:hsk0))" */
	hsk_dev_stats st;
};

static inline long dev_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	return d->ops->read(d, now, buf, cap);
}

static inline int dev_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	return d->ops->write(d, now, pkt, len);
}

/* Earliest deadline of d and of every device below it. */
static inline uint64_t dev_next_deadline(const hsk_dev *d)
{
	uint64_t t = UINT64_MAX;

	for (; d; d = d->lower) {
		uint64_t x = d->ops->next_deadline ? d->ops->next_deadline(d) : UINT64_MAX;
		if (x < t)
			t = x;
	}
	return t;
}

/* Advances the whole stack of layers, lowest first. */
static inline void dev_advance(hsk_dev *d, uint64_t now)
{
	if (!d)
		return;
	dev_advance(d->lower, now);
	if (d->ops->advance)
		d->ops->advance(d, now);
}

/* Up to n packets. A device without read_batch reads one into `scratch`
 * (cap bytes), which the caller owns. */
static inline long dev_read_batch(hsk_dev *d, uint64_t now, hsk_pkt *pkts, unsigned n,
				  uint8_t *scratch, size_t cap)
{
	long r;

	if (d->ops->read_batch)
		return d->ops->read_batch(d, now, pkts, n);
	r = d->ops->read(d, now, scratch, cap);
	if (r <= 0)
		return r;
	pkts[0].data = scratch;
	pkts[0].len = (uint32_t)r;
	return 1;
}

/* Sends what the whole stack of layers queued, lowest last (a layer may
 * pass packets down as it flushes). */
static inline void dev_flush(hsk_dev *d, uint64_t now)
{
	for (; d; d = d->lower)
		if (d->ops->flush)
			d->ops->flush(d, now);
}

static inline void dev_close(hsk_dev *d)
{
	if (d)
		d->ops->close(d);
}

/* ---- drivers: NULL on failure with a message in err ---- */

/* Attaches to TUN device `name` (IFF_TUN | IFF_NO_PI), creating it when it
 * does not exist, and sets it up. When the device has no IPv4 address yet
 * and host_addr is not 0, gives the kernel side host_addr/prefix. */
hsk_dev *tun_open(const char *name, uint32_t host_addr, unsigned prefix,
		  char *err, size_t errlen);

/* TUN with offloads and batches (tun.c, uring.c, vnet.c, tun_mq.c). */
enum {
	HSK_TUN_CSUM = 1 << 0,   /* take partial checksums (TUN_F_CSUM); we
				  * complete them before the stack sees them */
	HSK_TUN_TSO4 = 1 << 1,   /* take TCP/IPv4 GSO packets up to 64 KiB
				  * (TUN_F_TSO4 | TUN_F_TSO_ECN); needs CSUM */
	HSK_TUN_TSO6 = 1 << 2,   /* TUN_F_TSO6 (IPv6 is dropped, as ever) */
	HSK_TUN_USO = 1 << 3,    /* TUN_F_USO4 | TUN_F_USO6 (Linux >= 6.2):
				  * UDP GSO, split here into datagrams */
	HSK_TUN_TX_GSO = 1 << 4, /* send GSO: join the stack's consecutive
				  * segments of a flow; split packets over
				  * the link MTU (needs only IFF_VNET_HDR) */
	HSK_TUN_OFFLOADS = 0x1f,
};
typedef struct tun_opts {
	unsigned offload;        /* HSK_TUN_* wanted; each is probed and the
				  * ones the kernel refuses are left off */
	bool uring;              /* batched reads/writes through io_uring */
	unsigned stack_mtu;      /* the MTU given to the stack (dev->mtu): 0
				  * the link's; larger with HSK_TUN_TX_GSO */
	unsigned probe_deny;     /* tests: offloads to treat as unknown to the
				  * kernel, so that the fallback is exercised */
	/* multi-queue (tun_mq_open only) */
	unsigned queues;         /* IFF_MULTI_QUEUE queues (1..256) */
	bool steer;              /* attach the eBPF steering program (steer.h) */
	bool steer_deny;         /* tests: its attach fails, so that the
				  * fallback (no program) runs */
	bool ipv6;               /* pass IPv6 packets up (the stack has an
				  * IPv6 address); else dropped, counted */
} tun_opts;

/* tun_open with options: NULL (message in err) when the device cannot be
 * opened or an option cannot be had at all (io_uring missing); offloads
 * the kernel lacks are only left off: see tun_features. */
hsk_dev *tun_open_opts(const char *name, uint32_t host_addr, unsigned prefix,
		       const tun_opts *o, char *err, size_t errlen);
/* The HSK_TUN_* in effect on a TUN device found below d (0: none or no
 * TUN device). */
unsigned tun_features(const hsk_dev *d);
/* "csum,tso4,tso6,uso,tx-gso" for a feature mask ("none" for 0). */
const char *tun_features_str(unsigned feat, char *buf, size_t len);
/* Parses such a list ("all", "none" too) into *feat: 0 or -1. */
int tun_features_parse(const char *s, unsigned *feat);

/* Opens o->queues queues of the multi-queue TUN device `name` (created
 * when missing), one hsk_dev each into devs[0..queues): no state is
 * shared between them, so each can live on its own thread. With
 * o->steer, the eBPF steering program makes the kernel put every packet
 * on the queue steer_queue() names (steer.h); when it cannot be attached
 * (no BPF in the kernel, a build without libbpf, not permitted) the
 * queues open without it and tun_steer_note says why. 0, or -1 with err
 * set (nothing left open). */
int tun_mq_open(const char *name, uint32_t host_addr, unsigned prefix,
		const tun_opts *o, hsk_dev **devs, char *err, size_t errlen);
/* Why the steering program asked for is not attached to the TUN device
 * found below d; NULL when it is, or was not asked for. */
const char *tun_steer_note(const hsk_dev *d);

/* Whether the TUN/TAP device `name` exists and was made with
 * IFF_MULTI_QUEUE (`ip tuntap add ... multi_queue`): 1, 0 when it exists
 * without (then only single-queue attaches work), -1 when it does not
 * exist (or is no TUN/TAP device). */
int tun_existing_mq(const char *name);

/* The same for a TAP device; the device answers ARP for `addr` and
 * resolves next hops: destinations inside addr/prefix directly, others
 * through `gw` (0: no route, dropped). Its MAC is 02:68:73 and mac_id's
 * low three bytes (tap.c). */
hsk_dev *tap_open(const char *name, uint32_t addr, unsigned prefix, uint32_t gw,
		  uint32_t host_addr, uint32_t mac_id, char *err, size_t errlen);

struct arp_stats;
/* ARP statistics and cache size of a TAP device found in the stack below
 * d (false if there is none). */
int tap_get_arp_stats(const hsk_dev *d, struct arp_stats *st, size_t *entries);
/* IPv6 on the TAP device found below d (link/nd.h): the first call turns
 * it on and gives the device its link-local address (modified EUI-64 of
 * its MAC, written to ll when not NULL); a (NULL: none) becomes one of its
 * addresses, on-link prefix `prefix`. With dad, duplicate address
 * detection runs first (1 s). 0, -ENODEV (no TAP device), -EINVAL,
 * -EEXIST, -ENOMEM. The stack needs the same addresses (ip_addr_add). */
int tap_add_addr6(hsk_dev *d, uint64_t now, const uint8_t a[16], unsigned prefix,
		  bool dad, uint8_t ll[16]);
/* IPv6 destinations off every on-link prefix go through router r (NULL:
 * the one Router Advertisements name) on the TAP device below d, once
 * tap_add_addr6 has turned IPv6 on: 0 or -ENODEV. */
int tap_set_router6(hsk_dev *d, const uint8_t r[16]);
struct nd_stats;
/* Neighbor Discovery statistics and cache size (false if IPv6 is off or
 * there is no TAP device). */
int tap_get_nd_stats(const hsk_dev *d, struct nd_stats *st, size_t *entries);
/* True when DAD found our address a taken on the link (the TAP device
 * below d; xdp_addr6_taken for an AF_XDP queue). */
bool tap_addr6_taken(const hsk_dev *d, const uint8_t a[16]);

/* ---- layers: they take ownership of `lower` (closed with them); on
 * failure the caller keeps it ---- */

/* Records every packet in both directions to a pcap file (LINKTYPE_RAW). */
hsk_dev *pcap_dev_open(hsk_dev *lower, const char *path, char *err, size_t errlen);
/* Another layer writing into the capture file of the pcap layer found
 * below `other` (the queues of one multi-queue device, each on its own
 * thread, make one capture). */
hsk_dev *pcap_dev_open_shared(hsk_dev *lower, hsk_dev *other, char *err, size_t errlen);
/* The first write error of a pcap layer in the stack below d (-errno; the
 * capture stopped there), 0 when none or no such layer. */
int pcap_dev_error(const hsk_dev *d);
/* Writes out what the pcap layer below d buffers: 0 or its -errno. A
 * program calls it before closing, to know the capture is complete. */
int pcap_dev_flush(hsk_dev *d);

enum { IMPAIR_TX = 1, IMPAIR_RX = 2 };
typedef struct impair_cfg {
	double loss;          /* probability a packet is dropped */
	double dup;           /* probability a packet is delivered twice */
	double reorder;       /* probability a packet is held back reorder_ns */
	double ce;            /* probability an ECT packet is marked CE (RFC
			       * 3168: a congested router's mark) */
	uint64_t delay_ns;    /* added to every packet */
	uint64_t reorder_ns;  /* extra delay of a reordered packet (0: 2 ms) */
	uint64_t seed;
	unsigned dirs;        /* IMPAIR_TX | IMPAIR_RX (0: both) */
	unsigned queue_limit; /* packets held per direction (0: 8192) */
	bool cross_fins;      /* hold the first FIN until the other side's
			       * (impair.c): a simultaneous close on demand */
	uint64_t stall_ns;    /* once stall_after packets have entered, the
			       * path stops for stall_ns: what enters then
			       * is held and let go in order at its end
			       * (impair.c; 0: never) */
	unsigned stall_after;
} impair_cfg;
typedef struct impair_stats {
	uint64_t lost, duplicated, reordered, delayed, queue_drops;
	uint64_t stalled;     /* packets a stall held */
	uint64_t fins_held;   /* cross_fins: a FIN waited for the other's */
	uint64_t ce_marked;   /* ECT packets marked CE */
} impair_stats;

hsk_dev *impair_open(hsk_dev *lower, const impair_cfg *cfg, char *err, size_t errlen);
/* Statistics of an impairment layer found in the stack below d (false if
 * there is none). */
int impair_get_stats(const hsk_dev *d, impair_stats *st);
/* Packets an impairment layer below d still holds back (0 if none): a
 * program about to exit lets them out first. */
unsigned impair_held(const hsk_dev *d);

/* ---- helpers shared by the drivers (tun.c) ---- */
/* Opens /dev/net/tun as `name` with IFF_TUN or IFF_TAP (| IFF_NO_PI),
 * non-blocking: the fd, or -1 with err set. */
int netif_open_tuntap(const char *name, int flags, char *err, size_t errlen);
/* Reads the MTU, gives the kernel side host_addr/prefix when the device has
 * no IPv4 address and host_addr != 0, sets the link up. 0 or -1. */
int netif_setup(const char *name, uint32_t host_addr, unsigned prefix,
		unsigned *mtu, char *err, size_t errlen);
/* Gives the kernel side host6/prefix (usable at once: no DAD) unless
 * the device has a global IPv6 address already. 0 or -1 (err set). */
int netif_setup6(const char *name, const uint8_t host6[16], unsigned prefix,
		 char *err, size_t errlen);
/* Formats err like snprintf. */
void dev_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
