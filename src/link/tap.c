/*
 * TAP driver: Ethernet frames on a TAP device (IFF_TAP | IFF_NO_PI), with
 * ARP (arp.c) answering for our address and resolving next hops. Above it,
 * the device reads and writes bare IPv4 packets like every other device.
 *
 * Our MAC is fixed by our address (02:68:73:xx:yy:zz, locally
 * administered, "hs" + the low three bytes of the IPv4 address, or of the
 * first IPv6 one on an IPv6-only stack), so a restart keeps the kernel's
 * neighbour entry valid.
 *
 * IPv6 is off until tap_add_addr6: then Neighbor Discovery (nd.c) answers
 * for our IPv6 addresses and resolves IPv6 next hops, beside ARP, and the
 * device gains the link-local address of its MAC (modified EUI-64).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>

#include "link/arp.h"
#include "link/dev.h"
#include "link/nd.h"

struct tap_dev {
	hsk_dev dev;
	arp_cache *arp;
	nd_cache *nd;          /* NULL while IPv6 is off */
	uint8_t mac[ARP_MAC_LEN];
	uint32_t addr, mask, gw;
	uint8_t frame[ARP_ETH_HDR_LEN + 65535];
};

/* arp_out_fn: a frame onto the wire. */
static void tap_out(void *ctx, const uint8_t *frame, size_t len)
{
	struct tap_dev *t = ctx;

	if (write(t->dev.fd, frame, len) < 0) {
		t->dev.st.tx_dropped++;
		return;
	}
	t->dev.st.tx_packets++;
	t->dev.st.tx_bytes += len;
}

static long tap_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	struct tap_dev *t = (struct tap_dev *)d;

	/* Bounded: ARP and foreign frames are consumed here. */
	for (int i = 0; i < 64; i++) {
		const uint8_t *ip = NULL;
		ssize_t n = read(d->fd, t->frame, sizeof(t->frame));
		long iplen;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		if (t->nd && n >= ARP_ETH_HDR_LEN &&
		    (t->frame[12] << 8 | t->frame[13]) == ND_ETHERTYPE_IPV6)
			iplen = nd_eth_input(t->nd, now, t->frame, (size_t)n, &ip, tap_out, t);
		else
			iplen = arp_eth_input(t->arp, now, t->frame, (size_t)n, &ip, tap_out, t);
		if (iplen <= 0)
			continue;
		if ((size_t)iplen > cap) {
			d->st.rx_dropped++;
			continue;
		}
		memcpy(buf, ip, (size_t)iplen);
		d->st.rx_packets++;
		d->st.rx_bytes += (uint64_t)iplen;
		return iplen;
	}
	return 0;
}

static int tap_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct tap_dev *t = (struct tap_dev *)d;
	uint32_t dst, nh;
	int rc;

	if (len && pkt[0] >> 4 == 6) {
		rc = t->nd ? nd_output(t->nd, now, pkt, len, tap_out, t) : -EAFNOSUPPORT;
		if (rc < 0)
			d->st.tx_dropped++;
		return rc;
	}
	if (len < 20) {
		d->st.tx_dropped++;
		return -EINVAL;
	}
	dst = (uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 | pkt[19];
	nh = (dst & t->mask) == (t->addr & t->mask) ? dst : t->gw;
	if (!nh) {
		d->st.tx_dropped++;
		return -ENETUNREACH;
	}
	rc = arp_output(t->arp, now, nh, pkt, len, tap_out, t);
	if (rc < 0)
		d->st.tx_dropped++;
	return rc;
}

static void tap_advance(hsk_dev *d, uint64_t now)
{
	struct tap_dev *t = (struct tap_dev *)d;

	arp_advance(t->arp, now, tap_out, t);
	if (t->nd)
		nd_advance(t->nd, now, tap_out, t);
}

static uint64_t tap_next_deadline(const hsk_dev *d)
{
	const struct tap_dev *t = (const struct tap_dev *)d;
	uint64_t a = arp_next_deadline(t->arp), b = t->nd ? nd_next_deadline(t->nd) : UINT64_MAX;

	return a < b ? a : b;
}

static void tap_close(hsk_dev *d)
{
	struct tap_dev *t = (struct tap_dev *)d;

	arp_free(t->arp);
	nd_free(t->nd);
	close(d->fd);
	free(t);
}

static const struct hsk_dev_ops tap_ops = {
	.read = tap_read,
	.write = tap_write,
	.next_deadline = tap_next_deadline,
	.advance = tap_advance,
	.close = tap_close,
};

hsk_dev *tap_open(const char *name, uint32_t addr, unsigned prefix, uint32_t gw,
		  uint32_t host_addr, uint32_t mac_id, char *err, size_t errlen)
{
	uint8_t mac[ARP_MAC_LEN] = { 0x02, 0x68, 0x73, (uint8_t)(mac_id >> 16),
				     (uint8_t)(mac_id >> 8), (uint8_t)mac_id };
	struct tap_dev *t;
	unsigned mtu = 1500;
	int fd;

	if (prefix > 32) {
		dev_errf(err, errlen, "bad prefix length %u", prefix);
		return NULL;
	}
	fd = netif_open_tuntap(name, IFF_TAP, err, errlen);
	if (fd < 0)
		return NULL;
	if (netif_setup(name, host_addr, prefix, &mtu, err, errlen) < 0) {
		close(fd);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->arp = arp_new(mac, addr, 256, 64))) {
		dev_errf(err, errlen, "out of memory");
		free(t);
		close(fd);
		return NULL;
	}
	memcpy(t->mac, mac, ARP_MAC_LEN);
	t->addr = addr;
	t->mask = prefix ? ~0u << (32 - prefix) : 0;
	t->gw = gw;
	t->dev.ops = &tap_ops;
	t->dev.fd = fd;
	t->dev.mtu = mtu;
	snprintf(t->dev.name, sizeof(t->dev.name), "tap:%s", name);
	return &t->dev;
}

int tap_get_arp_stats(const hsk_dev *d, struct arp_stats *st, size_t *entries)
{
	for (; d; d = d->lower) {
		if (d->ops == &tap_ops) {
			const struct tap_dev *t = (const struct tap_dev *)d;
			arp_get_stats(t->arp, st);
			*entries = arp_entries(t->arp);
			return 1;
		}
	}
	return 0;
}

static struct tap_dev *tap_below(const hsk_dev *d)
{
	for (; d; d = d->lower)
		if (d->ops == &tap_ops)
			return (struct tap_dev *)d;
	return NULL;
}

int tap_add_addr6(hsk_dev *d, uint64_t now, const uint8_t a[16], unsigned prefix,
		  bool dad, uint8_t ll[16])
{
	struct tap_dev *t = tap_below(d);

	if (!t)
		return -ENODEV;
	return nd_dev_add_addr(&t->nd, t->mac, now, a, prefix, dad, tap_out, t, ll);
}

bool tap_addr6_taken(const hsk_dev *d, const uint8_t a[16])
{
	const struct tap_dev *t = tap_below(d);

	return t && t->nd && nd_addr_state(t->nd, a) == ND_ADDR_DUPLICATE;
}

int tap_set_router6(hsk_dev *d, const uint8_t r[16])
{
	struct tap_dev *t = tap_below(d);

	if (!t || !t->nd)
		return -ENODEV;
	nd_set_router(t->nd, r);
	return 0;
}

int tap_get_nd_stats(const hsk_dev *d, struct nd_stats *st, size_t *entries)
{
	const struct tap_dev *t = tap_below(d);

	if (!t || !t->nd)
		return 0;
	nd_get_stats(t->nd, st);
	*entries = nd_entries(t->nd);
	return 1;
}
