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
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include "link/dev.h"

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

/* RTM_NEWADDR: addr/prefix on interface `ifindex`. */
static int netif_add_addr(int ifindex, uint32_t addr, unsigned prefix)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[64];
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char reply[512];
	struct rtattr *rta;
	uint32_t be = htonl(addr);
	int fd, rc = -EIO;
	long n;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = AF_INET;
	req.ifa.ifa_prefixlen = (unsigned char)prefix;
	req.ifa.ifa_index = (unsigned)ifindex;
	/* IFA_LOCAL and IFA_ADDRESS: the same address (not point-to-point) */
	for (int i = 0; i < 2; i++) {
		rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		rta->rta_type = i ? IFA_ADDRESS : IFA_LOCAL;
		rta->rta_len = RTA_LENGTH(4);
		memcpy(RTA_DATA(rta), &be, 4);
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
		int e = netif_add_addr((int)if_nametoindex(name), host_addr, prefix);
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
	rc = 0;
out:
	close(s);
	return rc;
}

struct tun_dev {
	hsk_dev dev;
};

static long tun_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	(void)now;
	for (;;) {
		ssize_t n = read(d->fd, buf, cap);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		if (n == 0)
			return 0;
		/* IPv6 (router solicitations and the like) is not ours. */
		if ((buf[0] >> 4) != 4) {
			d->st.rx_dropped++;
			continue;
		}
		d->st.rx_packets++;
		d->st.rx_bytes += (uint64_t)n;
		return n;
	}
}

static int tun_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	(void)now;
	if (write(d->fd, pkt, len) < 0) {
		d->st.tx_dropped++;
		return -errno;
	}
	d->st.tx_packets++;
	d->st.tx_bytes += len;
	return 0;
}

static void tun_close(hsk_dev *d)
{
	close(d->fd);
	free(d);
}

static const struct hsk_dev_ops tun_ops = {
	.read = tun_read,
	.write = tun_write,
	.close = tun_close,
};

hsk_dev *tun_open(const char *name, uint32_t host_addr, unsigned prefix,
		  char *err, size_t errlen)
{
	struct tun_dev *t;
	unsigned mtu = 1500;
	int fd;

	fd = netif_open_tuntap(name, IFF_TUN, err, errlen);
	if (fd < 0)
		return NULL;
	if (netif_setup(name, host_addr, prefix, &mtu, err, errlen) < 0) {
		close(fd);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		dev_errf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	t->dev.ops = &tun_ops;
	t->dev.fd = fd;
	t->dev.mtu = mtu;
	snprintf(t->dev.name, sizeof(t->dev.name), "tun:%s", name);
	return &t->dev;
}
