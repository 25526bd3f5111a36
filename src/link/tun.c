/*
 * TUN driver (IFF_TUN | IFF_NO_PI): every read(2) is one IPv4 or IPv6
 * packet, every write(2) sends one.
 *
 * Attaching: TUNSETIFF on /dev/net/tun attaches to the device `name` when it
 * exists (for instance created beforehand with `ip tuntap add`), or creates
 * a non-persistent one that vanishes when we exit. Then the link is set up
 * (SIOCSIFFLAGS), and, when the device has no IPv4 address yet, the kernel
 * side gets host_addr/prefix through one rtnetlink RTM_NEWADDR message. We
 * use ioctl and netlink directly rather than running `ip`: no dependency on
 * iproute2 and no PATH surprises. The kernel's connected route for the
 * prefix then carries handshake's address through the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include "link/dev.h"
#include "link/steer.h"
#include "link/uring.h"
#include "link/vnet.h"

void dev_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int netif_open_tuntap(const char *name, int flags, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd;

	if (!name || !*name || strlen(name) >= IFNAMSIZ) {
		dev_errf(err, errlen, "bad interface name '%s'", name ? name : "");
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		dev_errf(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)(flags | IFF_NO_PI);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		dev_errf(err, errlen, "TUNSETIFF %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* RTM_NEWADDR: addr (4 or 16 bytes, network order)/prefix on interface
 * `ifindex`, with ifa_flags (IFA_F_NODAD for IPv6). 0 or -errno. */
static int netif_add_addr(int ifindex, int family, const void *addr, unsigned prefix,
			  unsigned flags)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[64];
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char reply[512];
	struct rtattr *rta;
	unsigned alen = family == AF_INET6 ? 16 : 4;
	int fd, rc = -EIO;
	long n;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = (unsigned char)family;
	req.ifa.ifa_prefixlen = (unsigned char)prefix;
	req.ifa.ifa_flags = (unsigned char)flags;
	req.ifa.ifa_index = (unsigned)ifindex;
	/* IFA_LOCAL and IFA_ADDRESS: the same address (not point-to-point;
	 * IPv6 needs only IFA_ADDRESS, and takes both) */
	for (int i = 0; i < 2; i++) {
		rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		rta->rta_type = i ? IFA_ADDRESS : IFA_LOCAL;
		rta->rta_len = (unsigned short)RTA_LENGTH(alen);
		memcpy(RTA_DATA(rta), addr, alen);
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}
	n = recv(fd, reply, sizeof(reply), 0);
	if (n >= (long)NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
		struct nlmsghdr *h = (struct nlmsghdr *)reply;
		if (h->nlmsg_type == NLMSG_ERROR)
			rc = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
out:
	close(fd);
	return rc;
}

/* Whether interface `name` has an IPv6 address of global scope (from
 * /proc/net/if_inet6: "addr ifindex prefix scope flags name"). */
static bool netif_has_global6(const char *name)
{
	char line[160], ifn[IFNAMSIZ + 1];
	unsigned scope;
	bool found = false;
	FILE *f = fopen("/proc/net/if_inet6", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*32s %*x %*x %x %*x %16s", &scope, ifn) == 2 &&
		    scope == 0 && !strcmp(ifn, name))
			found = true;
	fclose(f);
	return found;
}

int netif_setup6(const char *name, const uint8_t host6[16], unsigned prefix,
		 char *err, size_t errlen)
{
	int e;

	if (netif_has_global6(name))
		return 0;
	/* IFA_F_NODAD: usable at once (the tests' namespaces are ours; DAD
	 * would hold the address tentative for a second or more) */
	e = netif_add_addr((int)if_nametoindex(name), AF_INET6, host6, prefix, IFA_F_NODAD);
	if (e < 0 && e != -EEXIST) {
		dev_errf(err, errlen, "adding an IPv6 address to %s: %s%s", name, strerror(-e),
			 e == -EACCES || e == -EPERM ? "" :
			 " (is IPv6 disabled? net.ipv6.conf.NAME.disable_ipv6)");
		return -1;
	}
	return 0;
}

/* The kernel turns a device's carrier on when we attach, but starts its
 * transmit queue (replacing the noop qdisc that drops everything) later,
 * from the linkwatch work, which also sets the operational state behind
 * IFF_RUNNING. A SYN sent before that is answered into the noop qdisc
 * and costs a 1 s retransmission: wait for IFF_RUNNING, at most 1 s (a
 * device that stays down is the kernel's to report, not ours). */
static void wait_running(int s, struct ifreq *ifr)
{
	for (int ms = 0; ms < 1000; ms++) {
		if (ioctl(s, SIOCGIFFLAGS, ifr) < 0 || (ifr->ifr_flags & IFF_RUNNING))
			return;
		usleep(1000);
	}
}

int netif_setup(const char *name, uint32_t host_addr, unsigned prefix,
		unsigned *mtu, char *err, size_t errlen)
{
	struct ifreq ifr;
	int s, rc = -1;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		dev_errf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0) {
		dev_errf(err, errlen, "SIOCGIFMTU %s: %s", name, strerror(errno));
		goto out;
	}
	*mtu = (unsigned)ifr.ifr_mtu;
	/* No IPv4 address yet: give the kernel side one, if we were told. */
	if (host_addr && ioctl(s, SIOCGIFADDR, &ifr) < 0 && errno == EADDRNOTAVAIL) {
		uint32_t be = htonl(host_addr);
		int e = netif_add_addr((int)if_nametoindex(name), AF_INET, &be, prefix, 0);
		if (e < 0 && e != -EEXIST) {
			dev_errf(err, errlen, "adding address to %s: %s", name, strerror(-e));
			goto out;
		}
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		dev_errf(err, errlen, "SIOCGIFFLAGS %s: %s", name, strerror(errno));
		goto out;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
			dev_errf(err, errlen, "setting %s up: %s", name, strerror(errno));
			goto out;
		}
	}
	wait_running(s, &ifr);
	rc = 0;
out:
	close(s);
	return rc;
}


/* ---- the device ---- */

/* Not in Debian 12's headers (Linux 6.2+): the values are ABI. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

enum {
	TUN_GSO_FLOWS = 4,       /* flows joined at once; more evict the oldest */
	TUN_URING_RX = 32,       /* reads kept posted */
	TUN_URING_TX = 32,       /* writes in flight at most */
	TUN_ARENA_PKTS = 16,     /* packets per read_batch without io_uring */
};

struct tun_dev {
	hsk_dev dev;
	unsigned feat;           /* HSK_TUN_* in effect */
	bool vnet;               /* IFF_VNET_HDR: every frame starts with one */
	bool ipv6;               /* IPv6 packets go up (tun_opts.ipv6) */
	unsigned link_mtu;
	int tunfd;               /* the queue's fd (dev.fd is the ring's with io_uring) */
	char steer_note[96];     /* why the steering program asked for is
				  * not attached ("": it is, or not asked) */
	uring_io *u;             /* NULL: plain read/write */
	uint8_t *arena;          /* read_batch without io_uring */
	/* a UDP GSO packet being split into datagrams */
	uint8_t *split_buf;
	vnet_seg_iter seg;
	bool splitting;
	/* send: GSO packets being built, one per flow */
	vnet_gso gso[TUN_GSO_FLOWS];
	unsigned victim;
	uint8_t *gso_mem;        /* their buffers without io_uring */
};

static const struct hsk_dev_ops tun_ops;

static const uint8_t plain_hdr[VNET_HDR_LEN];

/* ---- receive ---- */

/* After a frame was read: its header checked, a partial checksum
 * completed, a UDP GSO packet set aside for splitting. The IPv4 packet's
 * length, 0 to skip it (counted), or -1 when it was set aside. */
static long rx_accept(struct tun_dev *t, const vnet_hdr *h, uint8_t *pkt, size_t n)
{
	vnet_rx_info info;

	if (n == 0 || ((pkt[0] >> 4) != 4 && ((pkt[0] >> 4) != 6 || !t->ipv6))) {
		/* IPv6 without an IPv6 address of ours (router solicitations
		 * and the like) is not ours: the stack's counters stay
		 * IPv4's. */
		t->dev.st.rx_dropped++;
		return 0;
	}
	if (!h) {
		t->dev.st.rx_segs++;
		return (long)n;
	}
	switch (vnet_rx_fixup(h, pkt, n, &info)) {
	case VNET_RX_OK:
		break;
	case VNET_RX_SPLIT:
		if (!t->split_buf && !(t->split_buf = malloc(VNET_MAX_PKT))) {
			t->dev.st.rx_dropped++;
			return 0;
		}
		memcpy(t->split_buf, pkt, n);
		if (!vnet_seg_init(&t->seg, t->split_buf, n, h->gso_size)) {
			t->dev.st.rx_dropped++;
			return 0;
		}
		t->splitting = true;
		t->dev.st.rx_gso++;
		return -1;
	default:
		t->dev.st.rx_dropped++;
		return 0;
	}
	t->dev.st.rx_csum += info.csum_completed;
	t->dev.st.rx_segs += info.segs;
	t->dev.st.rx_gso += info.segs > 1;
	return (long)n;
}

/* The next piece of a packet being split, into buf: its length or 0. */
static long rx_split_next(struct tun_dev *t, uint8_t *buf, size_t cap)
{
	long n;

	if (!t->splitting)
		return 0;
	n = vnet_seg_next(&t->seg, buf, cap);
	if (n <= 0) {
		if (n < 0)
			t->dev.st.rx_dropped++;
		t->splitting = false;
		return 0;
	}
	t->dev.st.rx_segs++;
	return n;
}

/* One packet read with read(2)/readv(2) into buf: its length, 0 when
 * none is ready, -errno on failure. */
static long rx_sync(struct tun_dev *t, uint8_t *buf, size_t cap)
{
	for (int i = 0; i < 64; i++) {
		vnet_hdr h;
		struct iovec iov[2] = { { &h, VNET_HDR_LEN }, { buf, cap } };
		ssize_t n;
		long r;

		t->dev.st.rx_calls++;
		n = t->vnet ? readv(t->tunfd, iov, 2) : read(t->tunfd, buf, cap);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		if (t->vnet && n < VNET_HDR_LEN)
			return 0;
		r = rx_accept(t, t->vnet ? &h : NULL, buf, (size_t)n - (t->vnet ? VNET_HDR_LEN : 0));
		if (r < 0)
			return rx_split_next(t, buf, cap);
		if (r > 0)
			return r;
	}
	return 0;
}

/* One packet from the io_uring completions: its length with *pkt set
 * (in the ring's buffer), 0 when none, -errno on failure. */
static long rx_uring(struct tun_dev *t, uint8_t **pkt)
{
	for (int pass = 0; pass < 2; pass++) {
		uint8_t *raw;
		long n, r;

		while ((n = uring_io_next_rx(t->u, &raw, &t->dev.st.tx_dropped)) != 0) {
			vnet_hdr h;

			if (n < 0)
				return n;
			if (t->vnet) {
				if (n < VNET_HDR_LEN)
					continue;
				memcpy(&h, raw, VNET_HDR_LEN);
				raw += VNET_HDR_LEN;
				n -= VNET_HDR_LEN;
			}
			r = rx_accept(t, t->vnet ? &h : NULL, raw, (size_t)n);
			if (r == 0)
				continue;
			if (r < 0)
				return 0;   /* the caller takes the pieces */
			*pkt = raw;
			return r;
		}
		/* Nothing left: post the reads again; entering the kernel
		 * also runs completions that were waiting for us. */
		if (pass || !uring_io_pending(t->u))
			break;
		t->dev.st.rx_calls++;
		uring_io_submit(t->u);
	}
	return 0;
}

static long tun_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	struct tun_dev *t = (struct tun_dev *)d;
	uint8_t *pkt;
	long n;

	(void)now;
	if ((n = rx_split_next(t, buf, cap)) > 0)
		goto got;
	if (!t->u) {
		n = rx_sync(t, buf, cap);
		goto got;
	}
	uring_io_recycle(t->u);
	n = rx_uring(t, &pkt);
	if (n == 0 && t->splitting)
		n = rx_split_next(t, buf, cap);
	else if (n > 0) {
		if ((size_t)n > cap) {
			d->st.rx_dropped++;
			return 0;
		}
		memcpy(buf, pkt, (size_t)n);
	}
got:
	if (n > 0) {
		d->st.rx_packets++;
		d->st.rx_bytes += (uint64_t)n;
	}
	return n;
}

/* Slot i of the arena that read_batch hands out packets from when they
 * are not in a ring buffer: NULL when out of slots or memory. */
static uint8_t *arena_slot(struct tun_dev *t, unsigned i)
{
	if (i >= TUN_ARENA_PKTS)
		return NULL;
	if (!t->arena && !(t->arena = malloc((size_t)TUN_ARENA_PKTS * VNET_MAX_PKT)))
		return NULL;
	return t->arena + (size_t)i * VNET_MAX_PKT;
}

static long tun_read_batch(hsk_dev *d, uint64_t now, hsk_pkt *pkts, unsigned max)
{
	struct tun_dev *t = (struct tun_dev *)d;
	unsigned k = 0, slot = 0;
	long n = 0;

	(void)now;
	if (t->u)
		uring_io_recycle(t->u);
	while (k < max) {
		uint8_t *buf = NULL;

		if (t->splitting || !t->u) {
			if (!(buf = arena_slot(t, slot)))
				break;
		}
		if (t->splitting && (n = rx_split_next(t, buf, VNET_MAX_PKT)) > 0) {
			pkts[k].data = buf;
			slot++;
		} else if (t->u) {
			n = rx_uring(t, &pkts[k].data);
			if (n == 0 && t->splitting)
				continue;
		} else {
			n = rx_sync(t, buf, VNET_MAX_PKT);
			pkts[k].data = buf;
			slot++;
		}
		if (n <= 0)
			break;
		pkts[k].len = (uint32_t)n;
		d->st.rx_packets++;
		d->st.rx_bytes += (uint64_t)n;
		k++;
	}
	if (k == 0 && n < 0)
		return n;
	return (long)k;
}

/* ---- send ---- */

/* Writes one frame: header (when vnet) then the packet in up to two
 * pieces (the second after a replaced checksum field). */
static int tx_frame(struct tun_dev *t, const vnet_hdr *h, const uint8_t *pkt, size_t len,
		    size_t csum_at, const uint8_t *csum)
{
	struct iovec iov[4];
	int n = 0;
	uint8_t *b;

	if (t->u) {
		size_t off = 0;
		if (!(b = uring_io_tx_buf_wait(t->u, &t->dev.st.tx_dropped)))
			return -EIO;
		if (t->vnet) {
			memcpy(b, h ? (const void *)h : plain_hdr, VNET_HDR_LEN);
			off = VNET_HDR_LEN;
		}
		memcpy(b + off, pkt, len);
		if (csum)
			memcpy(b + off + csum_at, csum, 2);
		uring_io_tx_queue(t->u, b, off + len);
		return 0;
	}
	if (t->vnet)
		iov[n++] = (struct iovec){ (void *)(h ? (const void *)h : plain_hdr), VNET_HDR_LEN };
	if (csum) {
		iov[n++] = (struct iovec){ (void *)pkt, csum_at };
		iov[n++] = (struct iovec){ (void *)csum, 2 };
		iov[n++] = (struct iovec){ (void *)(pkt + csum_at + 2), len - csum_at - 2 };
	} else {
		iov[n++] = (struct iovec){ (void *)pkt, len };
	}
	t->dev.st.tx_calls++;
	if (writev(t->tunfd, iov, n) < 0)
		return -errno;
	return 0;
}

/* Sends the GSO packet of slot i, if any. */
static void tx_slot(struct tun_dev *t, unsigned i)
{
	vnet_gso *g = &t->gso[i];
	unsigned segs = g->segs;
	size_t n;
	uint8_t *nb;

	if (!g->len)
		return;
	n = vnet_gso_finish(g);
	if (t->u) {
		/* the slot's buffer goes to the ring, a fresh one comes back */
		if (!(nb = uring_io_tx_buf_wait(t->u, &t->dev.st.tx_dropped))) {
			t->dev.st.tx_dropped++;
			return;
		}
		uring_io_tx_queue(t->u, g->buf, n);
		g->buf = nb;
	} else {
		t->dev.st.tx_calls++;
		if (write(t->tunfd, g->buf, n) < 0) {
			t->dev.st.tx_dropped++;
			return;
		}
	}
	t->dev.st.tx_packets++;
	t->dev.st.tx_bytes += n - VNET_HDR_LEN;
	t->dev.st.tx_segs += segs;
	t->dev.st.tx_gso += segs > 1;
}

/* Joins pkt to the GSO packet of its flow: true when it was taken. A
 * packet that cannot be joined first sends its flow's packet, so the
 * flow's order on the wire is the stack's order. */
static bool tx_join(struct tun_dev *t, const uint8_t *pkt, size_t len)
{
	unsigned i, free_slot = TUN_GSO_FLOWS;
	int r;

	/* Larger than the link (a stack with a larger MTU): it goes alone,
	 * split by the kernel (vnet_tx_hdr), after what its flow has waiting. */
	if (len > t->link_mtu) {
		for (i = 0; i < TUN_GSO_FLOWS; i++)
			if (vnet_gso_same_flow(&t->gso[i], pkt, len))
				tx_slot(t, i);
		return false;
	}
	for (i = 0; i < TUN_GSO_FLOWS; i++) {
		if (!t->gso[i].len) {
			if (free_slot == TUN_GSO_FLOWS)
				free_slot = i;
			continue;
		}
		if (!vnet_gso_same_flow(&t->gso[i], pkt, len))
			continue;
		r = vnet_gso_add(&t->gso[i], pkt, len);
		if (r == VNET_GSO_ADDED)
			goto added;
		tx_slot(t, i);
		if (r == VNET_GSO_NEVER)
			return false;
		r = vnet_gso_add(&t->gso[i], pkt, len);
		goto added;
	}
	if (free_slot == TUN_GSO_FLOWS) {
		free_slot = t->victim;
		t->victim = (t->victim + 1) % TUN_GSO_FLOWS;
		tx_slot(t, free_slot);
	}
	i = free_slot;
	r = vnet_gso_add(&t->gso[i], pkt, len);
added:
	if (r != VNET_GSO_ADDED)
		return false;
	/* Nothing can follow a PSH or FIN: send it now, free the slot. */
	if (t->gso[i].closed)
		tx_slot(t, i);
	return true;
}

static int tun_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct tun_dev *t = (struct tun_dev *)d;
	vnet_hdr h;
	uint8_t csum[2];
	bool gso = false;
	int rc;

	(void)now;
	if ((t->feat & HSK_TUN_TX_GSO) && tx_join(t, pkt, len))
		return 0;
	if (t->feat & HSK_TUN_TX_GSO) {
		uint16_t c;
		gso = vnet_tx_hdr(pkt, len, t->link_mtu, &h, &c);
		csum[0] = (uint8_t)(c >> 8);
		csum[1] = (uint8_t)c;
	}
	rc = tx_frame(t, gso ? &h : NULL, pkt, len, gso ? (size_t)h.csum_start + 16 : 0,
		      gso ? csum : NULL);
	if (rc < 0) {
		d->st.tx_dropped++;
		return rc;
	}
	d->st.tx_packets++;
	d->st.tx_bytes += len;
	if (gso) {
		d->st.tx_gso++;
		d->st.tx_segs += (len - h.hdr_len + h.gso_size - 1) / h.gso_size;
	} else {
		d->st.tx_segs++;
	}
	return 0;
}

static void tun_flush(hsk_dev *d, uint64_t now)
{
	struct tun_dev *t = (struct tun_dev *)d;

	(void)now;
	for (unsigned i = 0; i < TUN_GSO_FLOWS; i++)
		tx_slot(t, i);
	/* The batch read last is done with (dev.h): its buffers are posted
	 * again now. Left for the next read, a batch that took every buffer
	 * would leave no read posted, the ring's fd would never become
	 * readable, and the loop would sleep while the kernel's queue for
	 * the device overflowed (until a timer woke it). */
	if (t->u)
		uring_io_recycle(t->u);
	if (t->u && uring_io_pending(t->u)) {
		d->st.tx_calls++;
		if (uring_io_submit(t->u) < 0)
			d->st.tx_dropped++;
	}
}

static uint64_t tun_next_deadline(const hsk_dev *d)
{
	const struct tun_dev *t = (const struct tun_dev *)d;

	for (unsigned i = 0; i < TUN_GSO_FLOWS; i++)
		if (t->gso[i].len)
			return 0;
	return t->u && uring_io_pending(t->u) ? 0 : UINT64_MAX;
}

static void tun_close(hsk_dev *d)
{
	struct tun_dev *t = (struct tun_dev *)d;

	tun_flush(d, 0);
	/* With io_uring the GSO buffers belong to the ring's pool. */
	uring_io_free(t->u);
	free(t->gso_mem);
	close(t->tunfd);
	free(t->arena);
	free(t->split_buf);
	free(t);
}

static const struct hsk_dev_ops tun_ops = {
	.read = tun_read,
	.write = tun_write,
	.next_deadline = tun_next_deadline,
	.advance = tun_flush,
	.read_batch = tun_read_batch,
	.flush = tun_flush,
	.close = tun_close,
};

/* ---- opening ---- */

static unsigned tun_flags_of(unsigned feat)
{
	unsigned f = 0;

	if (feat & HSK_TUN_CSUM)
		f |= TUN_F_CSUM;
	if (feat & HSK_TUN_TSO4)
		f |= TUN_F_TSO4 | TUN_F_TSO_ECN;
	if (feat & HSK_TUN_TSO6)
		f |= TUN_F_TSO6 | TUN_F_TSO_ECN;
	if (feat & HSK_TUN_USO)
		f |= TUN_F_USO4 | TUN_F_USO6;
	return f;
}

/* TUNSETOFFLOAD with what is wanted; when the kernel refuses (EINVAL: an
 * unknown flag), leaves off one feature at a time, newest first, until it
 * accepts. `deny` makes features look unknown (tests of this fallback).
 * The receive features in effect. */
static unsigned tun_probe_offloads(int fd, unsigned want, unsigned deny)
{
	static const unsigned order[] = { HSK_TUN_USO, HSK_TUN_TSO6, HSK_TUN_TSO4, HSK_TUN_CSUM };
	unsigned feat = want & (HSK_TUN_CSUM | HSK_TUN_TSO4 | HSK_TUN_TSO6 | HSK_TUN_USO);

	/* Segmentation offloads all need checksum offload. */
	if (!(feat & HSK_TUN_CSUM))
		feat = 0;
	for (size_t i = 0;; i++) {
		if (!(tun_flags_of(feat) & tun_flags_of(deny)) &&
		    ioctl(fd, TUNSETOFFLOAD, (unsigned long)tun_flags_of(feat)) == 0)
			return feat;
		if (!feat || i >= sizeof(order) / sizeof(order[0]))
			break;
		feat &= ~order[i];
	}
	ioctl(fd, TUNSETOFFLOAD, 0ul);
	return 0;
}

static const char *const feat_names[] = { "csum", "tso4", "tso6", "uso", "tx-gso" };

const char *tun_features_str(unsigned feat, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (unsigned i = 0; i < 5; i++) {
		if (!(feat & (1u << i)))
			continue;
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "," : "", feat_names[i]);
	}
	if (!feat)
		snprintf(buf, len, "none");
	return buf;
}

int tun_features_parse(const char *s, unsigned *feat)
{
	char tmp[128], *save = NULL;

	*feat = 0;
	if (!s || strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	for (char *w = strtok_r(tmp, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		unsigned i;
		if (!strcmp(w, "all")) {
			*feat |= HSK_TUN_OFFLOADS;
			continue;
		}
		if (!strcmp(w, "none"))
			continue;
		for (i = 0; i < 5 && strcmp(w, feat_names[i]); i++)
			;
		if (i == 5)
			return -1;
		*feat |= 1u << i;
	}
	return 0;
}

unsigned tun_features(const hsk_dev *d)
{
	for (; d; d = d->lower)
		if (d->ops == &tun_ops)
			return ((const struct tun_dev *)d)->feat;
	return 0;
}

const char *tun_steer_note(const hsk_dev *d)
{
	for (; d; d = d->lower)
		if (d->ops == &tun_ops) {
			const char *n = ((const struct tun_dev *)d)->steer_note;
			return n[0] ? n : NULL;
		}
	return NULL;
}

/* Sets up the device on an open queue fd. Takes the fd (closed on
 * failure). */
static hsk_dev *tun_wrap(int fd, const char *name, unsigned link_mtu,
			 const tun_opts *o, char *err, size_t errlen)
{
	struct tun_dev *t = calloc(1, sizeof(*t));
	size_t max = VNET_HDR_LEN + VNET_MAX_PKT;

	if (!t) {
		dev_errf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	t->tunfd = fd;
	t->link_mtu = link_mtu;
	t->vnet = o->offload != 0;
	t->ipv6 = o->ipv6;
	if (t->vnet) {
		int sz = VNET_HDR_LEN;
		if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
			dev_errf(err, errlen, "TUNSETVNETHDRSZ: %s", strerror(errno));
			goto fail;
		}
		t->feat = tun_probe_offloads(fd, o->offload, o->probe_deny) | (o->offload & HSK_TUN_TX_GSO);
	} else {
		/* Offloads an earlier user set stay with a persistent device:
		 * the kernel would hand us partial checksums and GSO packets
		 * with no header to say so (every SYN dropped, InCsumErrors). */
		ioctl(fd, TUNSETOFFLOAD, 0ul);
	}
	if (o->uring) {
		/* io_uring must wait for packets, not get EAGAIN */
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
			dev_errf(err, errlen, "fcntl: %s", strerror(errno));
			goto fail;
		}
		t->u = uring_io_new(fd, TUN_URING_RX, max, TUN_URING_TX, max, err, errlen);
		if (!t->u)
			goto fail;
	}
	for (unsigned i = 0; i < TUN_GSO_FLOWS && (t->feat & HSK_TUN_TX_GSO); i++) {
		vnet_gso *g = &t->gso[i];
		g->cap = max;
		if (t->u) {
			g->buf = uring_io_tx_buf(t->u);
		} else {
			if (!t->gso_mem && !(t->gso_mem = malloc(TUN_GSO_FLOWS * max)))
				goto nomem;
			g->buf = t->gso_mem + i * max;
		}
	}
	t->dev.ops = &tun_ops;
	t->dev.fd = t->u ? uring_io_fd(t->u) : fd;
	t->dev.mtu = o->stack_mtu ? o->stack_mtu : link_mtu;
	snprintf(t->dev.name, sizeof(t->dev.name), "tun:%s", name);
	return &t->dev;
nomem:
	dev_errf(err, errlen, "out of memory");
fail:
	uring_io_free(t->u);
	free(t->gso_mem);
	free(t);
	close(fd);
	return NULL;
}

hsk_dev *tun_open_opts(const char *name, uint32_t host_addr, unsigned prefix,
		       const tun_opts *o, char *err, size_t errlen)
{
	static const tun_opts none;
	unsigned mtu = 1500;
	int fd;

	if (!o)
		o = &none;
	if (o->uring && !uring_io_available()) {
		dev_errf(err, errlen, "io_uring: built without liburing (install liburing-dev)");
		return NULL;
	}
	fd = netif_open_tuntap(name, IFF_TUN | (o->offload ? IFF_VNET_HDR : 0), err, errlen);
	if (fd < 0)
		return NULL;
	if (netif_setup(name, host_addr, prefix, &mtu, err, errlen) < 0) {
		close(fd);
		return NULL;
	}
	return tun_wrap(fd, name, mtu, o, err, errlen);
}

hsk_dev *tun_open(const char *name, uint32_t host_addr, unsigned prefix,
		  char *err, size_t errlen)
{
	return tun_open_opts(name, host_addr, prefix, NULL, err, errlen);
}

/* ---- multi-queue ---- */

int tun_existing_mq(const char *name)
{
	char path[96];
	unsigned flags;
	FILE *f;
	int n;

	if (!name || strlen(name) >= IFNAMSIZ || strchr(name, '/'))
		return -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", name);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fscanf(f, "%x", &flags);
	fclose(f);
	if (n != 1)
		return -1;
	return (flags & IFF_MULTI_QUEUE) ? 1 : 0;
}

int tun_mq_open(const char *name, uint32_t host_addr, unsigned prefix,
		const tun_opts *o, hsk_dev **devs, char *err, size_t errlen)
{
	int fds[256];
	unsigned n = o->queues, i, mtu = 1500;
	char note[96] = "";
	int flags = IFF_TUN | IFF_MULTI_QUEUE | (o->offload ? IFF_VNET_HDR : 0);

	if (n < 1 || n > 256) {
		dev_errf(err, errlen, "queues: 1 to 256, not %u", n);
		return -1;
	}
	if (o->uring && !uring_io_available()) {
		dev_errf(err, errlen, "io_uring: built without liburing (install liburing-dev)");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((fds[i] = netif_open_tuntap(name, flags, err, errlen)) < 0)
			goto fail;
	}
	if (netif_setup(name, host_addr, prefix, &mtu, err, errlen) < 0)
		goto fail;
	/* Without the program the queues still work: the kernel chooses,
	 * and a shard hands what reaches it wrongly to the right one. */
	if (o->steer && o->steer_deny)
		snprintf(note, sizeof(note), "attach refused (--steer-deny)");
	else if (o->steer && steer_tun_attach(fds[0], note, sizeof(note)) == 0)
		note[0] = '\0';
	if (!o->steer || note[0]) {
		/* A program an earlier user attached stays with the device:
		 * without steering, the kernel's own choice it is. */
		int none = -1;
		ioctl(fds[0], TUNSETSTEERINGEBPF, &none);
	}
	for (i = 0; i < n; i++) {
		char qname[40];
		snprintf(qname, sizeof(qname), "%s/q%u", name, i);
		/* tun_wrap takes the fd, even when it fails */
		devs[i] = tun_wrap(fds[i], qname, mtu, o, err, errlen);
		if (devs[i])
			snprintf(((struct tun_dev *)devs[i])->steer_note,
				 sizeof(note), "%s", note);
		if (!devs[i]) {
			for (unsigned j = 0; j < i; j++)
				dev_close(devs[j]);
			for (unsigned j = i + 1; j < n; j++)
				close(fds[j]);
			return -1;
		}
	}
	return 0;
fail:
	while (i--)
		close(fds[i]);
	return -1;
}
