/*
 * AF_XDP device (see xdp.h), on libxdp's XSK helpers and libbpf.
 *
 * Per queue: a UMEM of `frames` 2 KiB frames, the first half lent to the
 * kernel through the fill ring for receiving, the second half ours for
 * sending. A received frame is handed up in place (read_batch) and goes
 * back to the fill ring at the next read; a frame to send is written in
 * place (Ethernet header, then the IPv4 packet), put on the TX ring and
 * sent when the device is flushed (one sendto per 32 frames in copy
 * mode, which is what the kernel sends per call), and comes back through
 * the completion ring.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/xdp.h"

#ifdef HSK_HAVE_XDP
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include <pthread.h>

#include "link/arp.h"
#include "link/nd.h"
#include "wire/ipv6.h"

extern const unsigned char hsk_bpf_xsk_redirect[];
extern const size_t hsk_bpf_xsk_redirect_len;

enum { XDP_FRAME = 2048, XDP_KICK_EVERY = 64, XDP_KICKS_MAX = 128 };
enum { XDP_NEIGH = 32, XDP_WANT = 8, XDP_DUP = 8 };
#define XDP_WANT_POLL_NS 1000000ull

/* What the queues of one interface share: the program's attachment
 * (touched when they open and close), the neighbours any of them learned
 * from ARP or ND, and the IPv6 addresses of ours DAD found taken. The
 * kernel picks the queue an ARP reply or a neighbour advertisement
 * arrives on, so the queue that asked may never see it: a queue that
 * misses in its own cache looks here (under the lock, on misses and
 * ARP/ND messages only, never per packet). Neighbours are keyed by
 * 16-byte addresses, IPv4's mapped (::ffff:a.b.c.d). DAD probes once for
 * the interface, from queue 0; every queue holds the address tentative
 * as long, and the one an answer reaches tells the others here. */
struct xdp_shared {
	int refs;
	int link_fd, map_fd;
	char mode[16];
	pthread_mutex_t lock;
	struct { uint8_t addr[16]; uint8_t mac[ARP_MAC_LEN]; } neigh[XDP_NEIGH];
	unsigned nneigh, next;
	uint8_t dup[XDP_DUP][16];
	unsigned ndup;               /* read without the lock: atomically */
};

struct xdp_dev {
	hsk_dev dev;
	struct xdp_shared *sh;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	uint8_t *area;
	size_t area_len;
	unsigned half;               /* frames per direction = ring size */
	uint64_t *tx_free;           /* free send frames */
	unsigned ntx_free;
	uint64_t *rx_out;            /* frames handed up, refilled at the next read */
	unsigned nrx_out;
	unsigned tx_queued;          /* on the TX ring, not yet kicked */
	arp_cache *arp;
	nd_cache *nd;                /* NULL while IPv6 is off */
	unsigned queue;
	uint32_t addr, mask, gw;
	uint8_t want[XDP_WANT][16];  /* next hops being resolved: watch sh->neigh */
	unsigned nwant;
	unsigned ndup_seen;          /* of sh->dup, applied to nd */
	uint64_t dad_failed_seen;    /* nd's count when last looked at */
	uint64_t arp_now;            /* time of the last advance */
	uint8_t mac[ARP_MAC_LEN];
	char mode[96];
};

static const struct hsk_dev_ops xdp_ops;

bool xdp_available(void) { return true; }

/* Completed sends: their frames are free again. */
static void tx_reclaim(struct xdp_dev *x)
{
	uint32_t idx;
	unsigned n = xsk_ring_cons__peek(&x->cq, x->half, &idx);

	for (unsigned i = 0; i < n; i++)
		x->tx_free[x->ntx_free++] = *xsk_ring_cons__comp_addr(&x->cq, idx + i);
	if (n)
		xsk_ring_cons__release(&x->cq, n);
}

/* Makes the kernel send what is on the TX ring. In copy mode one call
 * sends at most 32 frames and says EAGAIN when more wait. */
static void tx_kick(struct xdp_dev *x)
{
	for (int i = 0; i < XDP_KICKS_MAX && x->tx_queued; i++) {
		x->dev.st.tx_calls++;
		if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
			x->tx_queued = 0;
			break;
		}
		if (errno != EAGAIN && errno != EBUSY && errno != EINTR) {
			/* ENOBUFS, ENETDOWN: leave it queued for the next flush */
			break;
		}
	}
	tx_reclaim(x);
}

/* A free send frame, or NULL (all in flight even after a kick). */
static uint8_t *tx_get(struct xdp_dev *x, uint64_t *addr)
{
	if (!x->ntx_free)
		tx_reclaim(x);
	if (!x->ntx_free && x->tx_queued)
		tx_kick(x);
	if (!x->ntx_free)
		return NULL;
	*addr = x->tx_free[--x->ntx_free];
	return x->area + *addr;
}

/* Puts a filled frame on the TX ring. */
static int tx_put(struct xdp_dev *x, uint64_t addr, size_t len)
{
	uint32_t idx;

	if (xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
		tx_kick(x);
		if (xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
			x->tx_free[x->ntx_free++] = addr;
			return -ENOBUFS;
		}
	}
	xsk_ring_prod__tx_desc(&x->tx, idx)->addr = addr;
	xsk_ring_prod__tx_desc(&x->tx, idx)->len = (uint32_t)len;
	xsk_ring_prod__submit(&x->tx, 1);
	if (++x->tx_queued >= XDP_KICK_EVERY)
		tx_kick(x);
	return 0;
}

/* arp_out_fn: a whole frame (ARP, or a packet that waited for ARP). */
static void xdp_out(void *ctx, const uint8_t *frame, size_t len)
{
	struct xdp_dev *x = ctx;
	uint64_t addr;
	uint8_t *f;

	if (len > XDP_FRAME || !(f = tx_get(x, &addr))) {
		x->dev.st.tx_dropped++;
		return;
	}
	memcpy(f, frame, len);
	if (tx_put(x, addr, len) < 0) {
		x->dev.st.tx_dropped++;
		return;
	}
	x->dev.st.tx_packets++;
	x->dev.st.tx_segs++;
	x->dev.st.tx_bytes += len;
}

/* An IPv4 address as the shared table's key: ::ffff:a.b.c.d. */
static void key4(uint32_t a, uint8_t k[16])
{
	memset(k, 0, 10);
	k[10] = k[11] = 0xff;
	k[12] = (uint8_t)(a >> 24);
	k[13] = (uint8_t)(a >> 16);
	k[14] = (uint8_t)(a >> 8);
	k[15] = (uint8_t)a;
}

static uint32_t unkey4(const uint8_t k[16])
{
	return (uint32_t)k[12] << 24 | (uint32_t)k[13] << 16 | (uint32_t)k[14] << 8 | k[15];
}

static void neigh_publish(struct xdp_shared *sh, const uint8_t addr[16], const uint8_t *mac)
{
	unsigned i;

	pthread_mutex_lock(&sh->lock);
	for (i = 0; i < sh->nneigh && memcmp(sh->neigh[i].addr, addr, 16); i++)
		;
	if (i == sh->nneigh) {
		if (sh->nneigh < XDP_NEIGH)
			sh->nneigh++;
		else
			i = sh->next++ % XDP_NEIGH;
	}
	memcpy(sh->neigh[i].addr, addr, 16);
	memcpy(sh->neigh[i].mac, mac, ARP_MAC_LEN);
	pthread_mutex_unlock(&sh->lock);
}

static bool neigh_find(struct xdp_shared *sh, const uint8_t addr[16], uint8_t *mac)
{
	bool found = false;

	pthread_mutex_lock(&sh->lock);
	for (unsigned i = 0; i < sh->nneigh && !found; i++) {
		if (!memcmp(sh->neigh[i].addr, addr, 16)) {
			memcpy(mac, sh->neigh[i].mac, ARP_MAC_LEN);
			found = true;
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return found;
}

/* An ARP message went through arp.c: what it taught our cache about its
 * sender, the other queues may use. */
static void arp_seen(struct xdp_dev *x, const uint8_t *frame, size_t len)
{
	uint8_t mac[ARP_MAC_LEN], k[16];
	uint32_t spa;

	if (len < ARP_ETH_HDR_LEN + ARP_PKT_LEN || frame[12] != 0x08 || frame[13] != 0x06)
		return;
	spa = (uint32_t)frame[28] << 24 | (uint32_t)frame[29] << 16 | (uint32_t)frame[30] << 8 | frame[31];
	if (arp_lookup(x->arp, spa, mac) && !memcmp(mac, frame + 22, ARP_MAC_LEN)) {
		key4(spa, k);
		neigh_publish(x->sh, k, mac);
	}
}

/* Every queue's cache: DUPLICATE for the addresses another found taken. */
static void dup_sync(struct xdp_dev *x)
{
	struct xdp_shared *sh = x->sh;

	if (__atomic_load_n(&sh->ndup, __ATOMIC_ACQUIRE) == x->ndup_seen)
		return;
	pthread_mutex_lock(&sh->lock);
	for (; x->ndup_seen < sh->ndup; x->ndup_seen++)
		nd_set_duplicate(x->nd, sh->dup[x->ndup_seen]);
	pthread_mutex_unlock(&sh->lock);
}

/* An ND message went through nd.c (an NS or NA: its target is at the same
 * place, frame + 62): the neighbour it told of, the other queues may use;
 * an address of ours it showed taken, they must drop. */
static void nd_seen(struct xdp_dev *x, const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + ARP_ETH_HDR_LEN;
	uint8_t mac[ARP_MAC_LEN], about[16];
	nd_stats st;
	bool known;

	if (len < ARP_ETH_HDR_LEN + IPV6_HDR_LEN + 24 || ip[6] != IP_PROTO_ICMPV6 ||
	    (ip[40] != ND_NEIGHBOR_SOLICIT && ip[40] != ND_NEIGHBOR_ADVERT))
		return;
	nd_get_stats(x->nd, &st);
	if (st.dad_failed != x->dad_failed_seen) {
		struct xdp_shared *sh = x->sh;

		x->dad_failed_seen = st.dad_failed;
		pthread_mutex_lock(&sh->lock);
		unsigned i = 0;
		while (i < sh->ndup && memcmp(sh->dup[i], ip + 48, 16))
			i++;
		if (i == sh->ndup && i < XDP_DUP &&
		    nd_addr_state(x->nd, ip + 48) == ND_ADDR_DUPLICATE) {
			memcpy(sh->dup[i], ip + 48, 16);
			__atomic_store_n(&sh->ndup, i + 1, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&sh->lock);
		return;
	}
	/* an NA's target (whether or not this queue asked); an NS's sender */
	if (ip[40] == ND_NEIGHBOR_ADVERT) {
		known = nd_take_advert(x->nd, about, mac);
	} else {
		memcpy(about, ip + 8, 16);
		known = nd_lookup(x->nd, about, mac);
	}
	if (known)
		neigh_publish(x->sh, about, mac);
}

/* Next hops this queue asked for and another queue may have learned. */
static void want_check(struct xdp_dev *x, uint64_t now)
{
	uint8_t mac[ARP_MAC_LEN];

	for (unsigned i = 0; i < x->nwant;) {
		const uint8_t *a = x->want[i];
		bool v4 = ip6_is_v4mapped(a);
		bool mine = v4 ? arp_lookup(x->arp, unkey4(a), mac) : nd_lookup(x->nd, a, mac);

		if (mine || neigh_find(x->sh, a, mac)) {
			/* teaches our cache; the packets waiting go out */
			if (!mine && v4)
				arp_glean(x->arp, now, unkey4(a), mac, xdp_out, x);
			else if (!mine)
				nd_glean(x->nd, now, a, mac, xdp_out, x);
			memcpy(x->want[i], x->want[--x->nwant], 16);
			continue;
		}
		i++;
	}
}

/* Watches for next hop a, which this queue asked for. */
static void want_add(struct xdp_dev *x, const uint8_t a[16])
{
	unsigned i;

	for (i = 0; i < x->nwant && memcmp(x->want[i], a, 16); i++)
		;
	if (i == x->nwant && x->nwant < XDP_WANT)
		memcpy(x->want[x->nwant++], a, 16);
}

static void rx_refill(struct xdp_dev *x)
{
	uint32_t idx;
	unsigned n;

	if (!x->nrx_out)
		return;
	/* The fill ring holds every receive frame: there is room. */
	n = xsk_ring_prod__reserve(&x->fq, x->nrx_out, &idx);
	for (unsigned i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) = x->rx_out[i];
	xsk_ring_prod__submit(&x->fq, n);
	memmove(x->rx_out, x->rx_out + n, (x->nrx_out - n) * sizeof(uint64_t));
	x->nrx_out -= n;
}

static long xdp_read_batch(hsk_dev *d, uint64_t now, hsk_pkt *pkts, unsigned max)
{
	struct xdp_dev *x = (struct xdp_dev *)d;
	unsigned k = 0;

	rx_refill(x);
	while (k == 0) {
		uint32_t idx;
		unsigned n = xsk_ring_cons__peek(&x->rx, max, &idx);

		if (!n) {
			if (xsk_ring_prod__needs_wakeup(&x->fq)) {
				d->st.rx_calls++;
				recvfrom(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
			}
			break;
		}
		for (unsigned i = 0; i < n; i++) {
			const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&x->rx, idx + i);
			uint8_t *frame = x->area + desc->addr;
			const uint8_t *ip = NULL;
			unsigned version = 4;
			long len;

			x->rx_out[x->nrx_out++] = desc->addr & ~(uint64_t)(XDP_FRAME - 1);
			if (x->nd && desc->len >= ARP_ETH_HDR_LEN &&
			    (frame[12] << 8 | frame[13]) == ND_ETHERTYPE_IPV6) {
				version = 6;
				len = nd_eth_input(x->nd, now, frame, desc->len, &ip, xdp_out, x);
				if (len == 0)
					nd_seen(x, frame, desc->len);
			} else {
				len = arp_eth_input(x->arp, now, frame, desc->len, &ip, xdp_out, x);
				if (len == 0)
					arp_seen(x, frame, desc->len);
			}
			if (len <= 0 || (ip[0] >> 4) != version) {
				if (len > 0)
					d->st.rx_dropped++;
				continue;
			}
			pkts[k].data = (uint8_t *)ip;
			pkts[k].len = (uint32_t)len;
			d->st.rx_packets++;
			d->st.rx_segs++;
			d->st.rx_bytes += (uint64_t)len;
			k++;
		}
		xsk_ring_cons__release(&x->rx, n);
	}
	return (long)k;
}

static long xdp_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	hsk_pkt p;
	long n = xdp_read_batch(d, now, &p, 1);

	if (n <= 0)
		return n;
	if (p.len > cap) {
		d->st.rx_dropped++;
		return 0;
	}
	memcpy(buf, p.data, p.len);
	return p.len;
}

/* pkt framed to mac in a send frame of ours and put on the TX ring. */
static int frame_out(struct xdp_dev *x, const uint8_t mac[ARP_MAC_LEN], uint16_t type,
		     const uint8_t *pkt, size_t len)
{
	uint64_t addr;
	uint8_t *f;
	int rc;

	if (!(f = tx_get(x, &addr))) {
		x->dev.st.tx_dropped++;
		return -ENOBUFS;
	}
	memcpy(f, mac, ARP_MAC_LEN);
	memcpy(f + 6, x->mac, ARP_MAC_LEN);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	memcpy(f + ARP_ETH_HDR_LEN, pkt, len);
	if ((rc = tx_put(x, addr, ARP_ETH_HDR_LEN + len)) < 0) {
		x->dev.st.tx_dropped++;
		return rc;
	}
	x->dev.st.tx_packets++;
	x->dev.st.tx_segs++;
	x->dev.st.tx_bytes += len;
	return 0;
}

/* An IPv6 packet, as IPv4's below: framed here when ND knows the next
 * hop; else another queue may know it; else nd.c queues the packet and
 * asks, and we watch for the answer on any queue. */
static int xdp_write6(struct xdp_dev *x, uint64_t now, const uint8_t *pkt, size_t len)
{
	uint8_t nh[16], mac[ARP_MAC_LEN];
	bool hop;
	int rc;

	if (!x->nd || len < IPV6_HDR_LEN || len + ARP_ETH_HDR_LEN > XDP_FRAME) {
		x->dev.st.tx_dropped++;
		return !x->nd ? -EAFNOSUPPORT : len < IPV6_HDR_LEN ? -EINVAL : -EMSGSIZE;
	}
	if (nd_resolve(x->nd, now, pkt + 24, mac, xdp_out, x))
		return frame_out(x, mac, ND_ETHERTYPE_IPV6, pkt, len);
	hop = nd_next_hop(x->nd, now, pkt + 24, nh);
	if (hop && neigh_find(x->sh, nh, mac)) {
		nd_glean(x->nd, now, nh, mac, xdp_out, x);
		return frame_out(x, mac, ND_ETHERTYPE_IPV6, pkt, len);
	}
	rc = nd_output(x->nd, now, pkt, len, xdp_out, x);
	if (rc < 0)
		x->dev.st.tx_dropped++;
	else if (hop)
		want_add(x, nh);
	return rc;
}

static int xdp_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct xdp_dev *x = (struct xdp_dev *)d;
	uint8_t mac[ARP_MAC_LEN], k[16];
	uint32_t dst, nh;
	int rc;

	if (len && pkt[0] >> 4 == 6)
		return xdp_write6(x, now, pkt, len);
	if (len < 20 || len + ARP_ETH_HDR_LEN > XDP_FRAME) {
		d->st.tx_dropped++;
		return -EMSGSIZE;
	}
	dst = (uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 | pkt[19];
	nh = (dst & x->mask) == (x->addr & x->mask) ? dst : x->gw;
	if (!nh) {
		d->st.tx_dropped++;
		return -ENETUNREACH;
	}
	if (!arp_resolve(x->arp, now, nh, mac, xdp_out, x)) {
		/* Another queue may know it; else arp.c queues the packet
		 * and asks, and we watch for the answer on any queue. */
		key4(nh, k);
		if (neigh_find(x->sh, k, mac)) {
			arp_glean(x->arp, now, nh, mac, xdp_out, x);
		} else {
			rc = arp_output(x->arp, now, nh, pkt, len, xdp_out, x);
			want_add(x, k);
			if (rc < 0)
				d->st.tx_dropped++;
			return rc;
		}
	}
	return frame_out(x, mac, ARP_ETHERTYPE_IPV4, pkt, len);
}

static void xdp_flush(hsk_dev *d, uint64_t now)
{
	struct xdp_dev *x = (struct xdp_dev *)d;

	(void)now;
	if (x->tx_queued)
		tx_kick(x);
	else
		tx_reclaim(x);
}

static void xdp_advance(hsk_dev *d, uint64_t now)
{
	struct xdp_dev *x = (struct xdp_dev *)d;

	x->arp_now = now;
	if (x->nd)
		dup_sync(x);
	if (x->nwant)
		want_check(x, now);
	arp_advance(x->arp, now, xdp_out, x);
	if (x->nd)
		nd_advance(x->nd, now, xdp_out, x);
	xdp_flush(d, now);
}

static uint64_t xdp_next_deadline(const hsk_dev *d)
{
	const struct xdp_dev *x = (const struct xdp_dev *)d;

	uint64_t t = arp_next_deadline(x->arp);

	if (x->nd && nd_next_deadline(x->nd) < t)
		t = nd_next_deadline(x->nd);
	if (x->tx_queued)
		return 0;
	/* polling for another queue's answer: a cheap check each ms */
	if (x->nwant && t > x->arp_now + XDP_WANT_POLL_NS)
		t = x->arp_now + XDP_WANT_POLL_NS;
	return t;
}

static void shared_put(struct xdp_shared *sh)
{
	if (!sh || __atomic_sub_fetch(&sh->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* The last queue: closing the link detaches the program. */
	close(sh->link_fd);
	close(sh->map_fd);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

static void xdp_free(struct xdp_dev *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, x->area_len);
	arp_free(x->arp);
	nd_free(x->nd);
	free(x->tx_free);
	free(x->rx_out);
	shared_put(x->sh);
	free(x);
}

static void xdp_close(hsk_dev *d)
{
	struct xdp_dev *x = (struct xdp_dev *)d;

	xdp_flush(d, 0);
	xdp_free(x);
}

static const struct hsk_dev_ops xdp_ops = {
	.read = xdp_read,
	.write = xdp_write,
	.next_deadline = xdp_next_deadline,
	.advance = xdp_advance,
	.read_batch = xdp_read_batch,
	.flush = xdp_flush,
	.close = xdp_close,
};

static struct xdp_dev *xdp_below(const hsk_dev *d)
{
	for (; d; d = d->lower)
		if (d->ops == &xdp_ops)
			return (struct xdp_dev *)d;
	return NULL;
}

const char *xdp_mode(const hsk_dev *d)
{
	const struct xdp_dev *x = xdp_below(d);

	return x ? x->mode : NULL;
}

int xdp_add_addr6(hsk_dev *d, uint64_t now, const uint8_t a[16], unsigned prefix,
		  bool dad, uint8_t ll[16])
{
	struct xdp_dev *x = xdp_below(d);

	if (!x)
		return -ENODEV;
	/* DAD's probe goes out once for the interface: queue 0's. */
	return nd_dev_add_addr(&x->nd, x->mac, now, a, prefix, dad,
			       x->queue == 0 ? xdp_out : NULL, x, ll);
}

bool xdp_addr6_taken(const hsk_dev *d, const uint8_t a[16])
{
	const struct xdp_dev *x = xdp_below(d);

	return x && x->nd && nd_addr_state(x->nd, a) == ND_ADDR_DUPLICATE;
}

int xdp_set_router6(hsk_dev *d, const uint8_t r[16])
{
	struct xdp_dev *x = xdp_below(d);

	if (!x || !x->nd)
		return -ENODEV;
	nd_set_router(x->nd, r);
	return 0;
}

/* UMEM and XSK for one queue; zero-copy first unless told not to. */
static int xsk_setup(struct xdp_dev *x, const char *ifname, unsigned q, bool try_zc,
		     char *err, size_t errlen)
{
	struct xsk_umem_config uc = {
		.fill_size = x->half, .comp_size = x->half, .frame_size = XDP_FRAME,
	};
	struct xsk_socket_config sc = {
		.rx_size = x->half, .tx_size = x->half,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	};
	int rc, zc_err = 0;

	for (int zc = try_zc; zc >= 0; zc--) {
		rc = xsk_umem__create(&x->umem, x->area, x->area_len, &x->fq, &x->cq, &uc);
		if (rc) {
			dev_errf(err, errlen, "xsk_umem__create: %s", strerror(-rc));
			return -1;
		}
		sc.bind_flags = XDP_USE_NEED_WAKEUP | (zc ? XDP_ZEROCOPY : XDP_COPY);
		rc = xsk_socket__create(&x->xsk, ifname, q, x->umem, &x->rx, &x->tx, &sc);
		if (rc == 0) {
			snprintf(x->mode, sizeof(x->mode), "%s/%s", x->sh->mode, zc ? "zerocopy" : "copy");
			if (zc_err)
				snprintf(x->mode + strlen(x->mode), sizeof(x->mode) - strlen(x->mode),
					 " (zero-copy refused: %s)", strerror(zc_err));
			return 0;
		}
		if (zc)
			zc_err = -rc;
		x->xsk = NULL;
		xsk_umem__delete(x->umem);
		x->umem = NULL;
		dev_errf(err, errlen, "XSK on %s queue %u (%s): %s", ifname, q,
			 zc ? "zero-copy" : "copy", strerror(-rc));
	}
	return -1;
}

static hsk_dev *xdp_queue_open(struct xdp_shared *sh, const char *ifname, unsigned q,
			       const xdp_opts *o, unsigned mtu, const uint8_t *mac,
			       char *err, size_t errlen)
{
	struct xdp_dev *x = calloc(1, sizeof(*x));
	unsigned frames = o->frames ? o->frames : 4096;
	uint32_t idx;

	if (!x) {
		dev_errf(err, errlen, "out of memory");
		return NULL;
	}
	x->sh = sh;
	x->queue = q;
	__atomic_add_fetch(&sh->refs, 1, __ATOMIC_ACQ_REL);
	x->half = frames / 2;
	x->area_len = (size_t)frames * XDP_FRAME;
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		dev_errf(err, errlen, "mmap: %s", strerror(errno));
		goto fail;
	}
	x->tx_free = calloc(x->half, sizeof(uint64_t));
	x->rx_out = calloc(x->half, sizeof(uint64_t));
	memcpy(x->mac, mac, ARP_MAC_LEN);
	x->arp = arp_new(mac, o->addr, 256, 64);
	if (!x->tx_free || !x->rx_out || !x->arp) {
		dev_errf(err, errlen, "out of memory");
		goto fail;
	}
	if (xsk_setup(x, ifname, q, !o->force_copy && strcmp(sh->mode, "skb"), err, errlen) < 0)
		goto fail;
	if (xsk_socket__update_xskmap(x->xsk, sh->map_fd)) {
		dev_errf(err, errlen, "XSK map update: %s", strerror(errno));
		goto fail;
	}
	/* Receive frames to the kernel, send frames to the free list. */
	if (xsk_ring_prod__reserve(&x->fq, x->half, &idx) != x->half) {
		dev_errf(err, errlen, "fill ring");
		goto fail;
	}
	for (unsigned i = 0; i < x->half; i++) {
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) = (uint64_t)i * XDP_FRAME;
		x->tx_free[x->ntx_free++] = (uint64_t)(x->half + i) * XDP_FRAME;
	}
	xsk_ring_prod__submit(&x->fq, x->half);
	x->addr = o->addr;
	x->mask = o->prefix ? ~0u << (32 - o->prefix) : 0;
	x->gw = o->gw;
	x->dev.ops = &xdp_ops;
	x->dev.fd = xsk_socket__fd(x->xsk);
	x->dev.mtu = mtu;
	snprintf(x->dev.name, sizeof(x->dev.name), "xdp:%s/q%u", ifname, q);
	return &x->dev;
fail:
	xdp_free(x);
	return NULL;
}

/* Loads our XDP program and attaches it to ifindex through a BPF link
 * (driver mode first unless skb_mode). */
static struct xdp_shared *shared_open(int ifindex, bool skb_mode, char *err, size_t errlen)
{
	struct xdp_shared *sh = calloc(1, sizeof(*sh));
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct bpf_map *map;
	int prog_fd = -1, rc;

	if (!sh) {
		dev_errf(err, errlen, "out of memory");
		return NULL;
	}
	sh->link_fd = sh->map_fd = -1;
	pthread_mutex_init(&sh->lock, NULL);
	obj = bpf_object__open_mem(hsk_bpf_xsk_redirect, hsk_bpf_xsk_redirect_len, NULL);
	if (!obj) {
		dev_errf(err, errlen, "XDP program: %s", strerror(errno));
		goto fail;
	}
	if ((rc = bpf_object__load(obj)) < 0) {
		dev_errf(err, errlen, "loading the XDP program: %s", strerror(-rc));
		goto fail;
	}
	prog = bpf_object__find_program_by_name(obj, "hsk_xsk_redirect");
	map = bpf_object__find_map_by_name(obj, "hsk_xsks");
	if (!prog || !map || (prog_fd = dup(bpf_program__fd(prog))) < 0 ||
	    (sh->map_fd = dup(bpf_map__fd(map))) < 0) {
		dev_errf(err, errlen, "XDP program: %s", strerror(errno));
		goto fail;
	}
	for (int skb = skb_mode; skb <= 1; skb++) {
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = skb ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
		sh->link_fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
		if (sh->link_fd >= 0) {
			snprintf(sh->mode, sizeof(sh->mode), "%s", skb ? "skb" : "drv");
			break;
		}
		dev_errf(err, errlen, "attaching the XDP program (%s mode): %s",
			 skb ? "skb" : "driver", strerror(errno));
	}
	if (sh->link_fd < 0)
		goto fail;
	close(prog_fd);
	bpf_object__close(obj);
	return sh;
fail:
	if (prog_fd >= 0)
		close(prog_fd);
	if (sh->map_fd >= 0)
		close(sh->map_fd);
	bpf_object__close(obj);
	free(sh);
	return NULL;
}

int xdp_open(const char *ifname, const xdp_opts *o, hsk_dev **devs, char *err, size_t errlen)
{
	unsigned n = o->queues ? o->queues : 1, mtu = 1500, i;
	struct xdp_shared *sh;
	uint8_t mac[ARP_MAC_LEN];
	struct ifreq ifr;
	int ifindex, s;

	if (!ifname || strlen(ifname) >= IFNAMSIZ || !(ifindex = (int)if_nametoindex(ifname))) {
		dev_errf(err, errlen, "no interface '%s'", ifname ? ifname : "");
		return -1;
	}
	if (o->frames & (o->frames - 1) || (o->frames && o->frames < 64)) {
		dev_errf(err, errlen, "frames: a power of two >= 64");
		return -1;
	}
	if (netif_setup(ifname, 0, 0, &mtu, err, errlen) < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		dev_errf(err, errlen, "SIOCGIFHWADDR %s: %s", ifname, strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	close(s);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ARP_MAC_LEN);
	if (!(sh = shared_open(ifindex, o->skb_mode, err, errlen)))
		return -1;
	sh->refs = 1;   /* ours until the queues hold theirs */
	for (i = 0; i < n; i++) {
		if (!(devs[i] = xdp_queue_open(sh, ifname, i, o, mtu, mac, err, errlen))) {
			while (i--)
				dev_close(devs[i]);
			shared_put(sh);
			return -1;
		}
	}
	shared_put(sh);
	return 0;
}

#else /* built without libxdp/libbpf/clang */

bool xdp_available(void) { return false; }

int xdp_open(const char *ifname, const xdp_opts *o, hsk_dev **devs, char *err, size_t errlen)
{
	(void)ifname; (void)o; (void)devs;
	dev_errf(err, errlen, "AF_XDP: built without libxdp, libbpf and clang (install libxdp-dev libbpf-dev clang)");
	return -1;
}

const char *xdp_mode(const hsk_dev *d)
{
	(void)d;
	return NULL;
}

int xdp_add_addr6(hsk_dev *d, uint64_t now, const uint8_t a[16], unsigned prefix,
		  bool dad, uint8_t ll[16])
{
	(void)d; (void)now; (void)a; (void)prefix; (void)dad; (void)ll;
	return -ENODEV;
}

int xdp_set_router6(hsk_dev *d, const uint8_t r[16])
{
	(void)d; (void)r;
	return -ENODEV;
}

bool xdp_addr6_taken(const hsk_dev *d, const uint8_t a[16])
{
	(void)d; (void)a;
	return false;
}

#endif
