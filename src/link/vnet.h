/*
 * The virtio-net header that TUN puts before every packet once IFF_VNET_HDR
 * is set, and the work it hands us; no I/O here, so all of it is tested
 * without a device (tests/unit/test_vnet.c).
 *
 * Receive (kernel -> us), vnet_rx_fixup:
 *   - NEEDS_CSUM: the checksum field holds only the pseudo-header sum; the
 *     sum over [csum_start, end) is ours to add. We complete it, so the
 *     stack, which verifies every checksum it receives, sees a whole valid
 *     packet. (docs/scale.md: the interface that would let the stack verify
 *     while it copies instead of a second pass.)
 *   - GSO TCPV4 / TCPV6: many TCP segments of one flow (the kernel's TSO,
 *     or GRO) as one IP packet of up to 64 KiB with a valid IP header
 *     (IPv6: TCP right after the fixed header, the payload length that
 *     of the whole). The stack takes it whole, as it takes a segment from
 *     a 64 KiB-MTU link.
 *   - GSO UDP_L4 (USO): datagrams, which must stay datagrams: split in
 *     software by vnet_seg_next.
 * Send (us -> kernel):
 *   - vnet_gso: consecutive segments of one TCP flow, as the stack sends
 *     them, are joined into one GSO packet that the kernel splits again
 *     at gso_size (the way wireguard-go writes to TUN). The kernel sees
 *     exactly the segments the stack built, in one system call.
 *   Both families; an IPv6 packet with extension headers is never joined.
 *   - vnet_tx_hdr: a TCP packet longer than the link MTU (a stack whose
 *     MTU is larger than the link's) goes out as GSO with
 *     gso_size = MTU - IP header - TCP header (options included).
 *   In both, the TCP checksum is left partial (field = pseudo-header sum,
 *   NEEDS_CSUM): the kernel treats such a packet as locally built, as it
 *   treats its own, and never computes it over a software link.
 *
 * The header is the legacy 10-byte one (TUNSETVNETHDRSZ 10), in native
 * byte order (TUN's default on a little-endian host without TUNSETVNETBE).
 */
#ifndef HSK_LINK_VNET_H
#define HSK_LINK_VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vnet_hdr {
	uint8_t flags;           /* VNET_F_* */
	uint8_t gso_type;        /* VNET_GSO_*, | VNET_GSO_ECN */
	uint16_t hdr_len;        /* IP + L4 header bytes (GSO) */
	uint16_t gso_size;       /* payload bytes per segment (GSO) */
	uint16_t csum_start;     /* NEEDS_CSUM: where the summed part starts */
	uint16_t csum_offset;    /*   and where in it the field is */
} vnet_hdr;

enum { VNET_HDR_LEN = 10 };
enum { VNET_F_NEEDS_CSUM = 1, VNET_F_DATA_VALID = 2 };
enum {
	VNET_GSO_NONE = 0, VNET_GSO_TCPV4 = 1, VNET_GSO_UDP = 3,
	VNET_GSO_TCPV6 = 4, VNET_GSO_UDP_L4 = 5, VNET_GSO_ECN = 0x80,
};
/* Largest IPv4 packet: what a GSO packet may carry at most. */
enum { VNET_MAX_PKT = 65535 };

_Static_assert(sizeof(vnet_hdr) == VNET_HDR_LEN, "virtio_net_hdr is 10 bytes");

/* ---- receive ---- */
enum {
	VNET_RX_OK = 0,          /* pkt is ready for the stack as it is */
	VNET_RX_SPLIT = 1,       /* datagrams: deliver vnet_seg_next's pieces */
	VNET_RX_BAD = -1,        /* inconsistent header: drop (counted) */
};
typedef struct vnet_rx_info {
	unsigned segs;           /* wire segments the packet stands for */
	bool csum_completed;     /* a partial checksum was completed */
} vnet_rx_info;

/* Checks h against the packet pkt[0..len) (IPv4, or IPv6 for TCPV6 and
 * a partial checksum) and completes a partial checksum in place. Returns VNET_RX_OK, VNET_RX_SPLIT or VNET_RX_BAD. */
int vnet_rx_fixup(const vnet_hdr *h, uint8_t *pkt, size_t len, vnet_rx_info *info);

/* Software segmentation of an IPv4 TCP or UDP packet into pieces of
 * gso_size payload bytes, as the kernel's GSO makes them: headers copied,
 * IP ID + 1 and TCP sequence + gso_size per piece, PSH and FIN only on the
 * last, CWR only on the first, every checksum computed in full. */
typedef struct vnet_seg_iter {
	const uint8_t *pkt;
	size_t len, hlen, off;   /* off: next payload byte */
	unsigned gso_size, k;    /* k: pieces made so far */
} vnet_seg_iter;

/* false when pkt is not an IPv4 TCP/UDP packet or gso_size is 0. */
bool vnet_seg_init(vnet_seg_iter *it, const uint8_t *pkt, size_t len, unsigned gso_size);
/* The next piece into out: its length, 0 when done, -1 when cap is short. */
long vnet_seg_next(vnet_seg_iter *it, uint8_t *out, size_t cap);

/* ---- send ---- */
/* One GSO packet being built. buf (cap >= VNET_HDR_LEN + VNET_MAX_PKT)
 * holds room for the header, then the packet. */
typedef struct vnet_gso {
	uint8_t *buf;
	size_t cap;
	size_t len;              /* packet bytes after the header; 0: empty */
	unsigned segs;
	uint16_t thl, gso_size;
	uint8_t ip_hl;           /* 20 (IPv4) or 40 (IPv6) */
	uint32_t next_seq;
	bool closed;             /* PSH, FIN or a short segment: nothing may follow */
} vnet_gso;

enum {
	VNET_GSO_ADDED = 1,      /* pkt was copied into g (started it if empty) */
	VNET_GSO_NO = 0,         /* cannot follow what g holds: finish g first */
	VNET_GSO_NEVER = -1,     /* can never be joined: send it alone */
};
/* Appends pkt when it continues g's segments exactly: same flow, IP and
 * TCP header fields and option bytes, sequence number following on, only
 * ACK/PSH/FIN flags, no more payload than the first segment. */
int vnet_gso_add(vnet_gso *g, const uint8_t *pkt, size_t len);
/* Same 4-tuple as the packet in g (false when g is empty). */
bool vnet_gso_same_flow(const vnet_gso *g, const uint8_t *pkt, size_t len);
/* Writes the header in front (GSO and a partial checksum when g holds more
 * than one segment; a plain header otherwise) and returns the bytes to
 * write from g->buf. g is empty afterwards. */
size_t vnet_gso_finish(vnet_gso *g);

/* The header for one packet sent as it is. A TCP packet (IPv4, or IPv6
 * without extension headers: TCPV6) longer than
 * link_mtu gets GSO with gso_size = link_mtu - headers, and *csum is the
 * value its checksum field must carry instead (the pseudo-header sum):
 * returns true then. Otherwise h is plain and false is returned. */
bool vnet_tx_hdr(const uint8_t *pkt, size_t len, unsigned link_mtu,
		 vnet_hdr *h, uint16_t *csum);

#endif
