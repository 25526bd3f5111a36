/*
 * The real-time driver: one stack, its devices (one per queue), one epoll
 * set (see handshake_loop.h). As one shard of several (shards.c) it also
 * hands packets of other shards' flows over and takes theirs (shard.h).
 *
 * Time is CLOCK_MONOTONIC in nanoseconds. The sleep is epoll_pwait2's, to
 * the nanosecond of the next deadline (a paced segment's departure may be
 * a fraction of a millisecond away), never early; where the call is
 * refused (a kernel before 5.11, a seccomp filter) epoll_wait's timeout
 * rounded up to the next millisecond. Signals arrive through a signalfd, so handlers run as
 * ordinary callbacks between stack calls.
 */
#define _GNU_SOURCE 1
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "handshake_loop.h"
#include "link/dev.h"
#include "link/steer.h"
#include "link/xdp.h"
#include "wire/ipv6.h"
#include "shard.h"

#define HSK_STR_(x) #x
#define HSK_STR(x) HSK_STR_(x)

enum {
	LOOP_BATCH = 256,        /* packets per turn at most, all queues */
	LOOP_READ = 64,          /* packets per dev_read_batch */
	LOOP_PKT_MAX = 65536,
	LOOP_MAX_FDS = 16,
	LOOP_MAX_DEVS = 64,
	LOOP_MAX_DAD = HSK_NETSPEC_ADDR6 + 1,   /* and the link-local one */
};
/* How long after its DAD starts an address is checked: DAD takes 1 s
 * (nd.h), and every queue of an AF_XDP interface must have heard. */
#define LOOP_DAD_NS 2000000000ull
enum { TAG_DEV = 0, TAG_SIG = 1, TAG_WAKE = 2, TAG_FD0 = 3 };

struct loop_fd {
	int fd;
	hsk_loop_fd_fn fn;
	void *ctx;
};

struct hsk_loop {
	hsk_stack *s;
	hsk_dev *devs[LOOP_MAX_DEVS];
	unsigned ndev;
	hsk_shards *sh;          /* the set this loop is a shard of, or NULL */
	unsigned shard, nshards; /* its index, and how many there are (1) */
	uint64_t now;
	uint64_t wake_at;       /* hsk_loop_wake_at; UINT64_MAX: none */
	int ep, sfd;
	sigset_t oldmask;
	bool stop, backlog;
	bool ms_sleep;          /* epoll_pwait2 refused: epoll_wait's ms */
	int dev_err;
	hsk_loop_sock_fn sock_fn;
	void *sock_ctx;
	hsk_loop_sig_fn sig_fn;
	void *sig_ctx;
	hsk_loop_tick_fn tick_fn;
	void *tick_ctx;
	hsk_loop_addr_fn taken_fn;
	void *taken_ctx;
	hsk_addr dad[LOOP_MAX_DAD];  /* IPv6 addresses under DAD, until dad_until */
	unsigned ndad;
	uint64_t dad_until;
	struct loop_fd fds[LOOP_MAX_FDS];
	uint8_t pkt[LOOP_PKT_MAX];
};

uint64_t hsk_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int hsk_parse_ipv4(const char *s, uint32_t *addr)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*addr = ntohl(a.s_addr);
	return 0;
}

int hsk_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix)
{
	char buf[32], *slash, *end;
	unsigned long p = 32;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		p = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || p > 32)
			return -1;
	}
	if (hsk_parse_ipv4(buf, addr) < 0)
		return -1;
	*prefix = (unsigned)p;
	return 0;
}

int hsk_parse_cidr_addr(const char *s, hsk_addr *a, unsigned *prefix)
{
	char buf[80], *slash, *end;
	unsigned long p;

	if (!s || strlen(s) >= sizeof(buf) || s[0] == '[' || strchr(s, '%'))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (hsk_addr_parse(buf, a) < 0)
		return -1;
	p = a->family == HSK_AF_INET ? 32 : 128;
	if (slash) {
		unsigned long max = p;
		p = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || p > max || !isdigit((unsigned char)slash[1]))
			return -1;
	}
	*prefix = (unsigned)p;
	return 0;
}

int hsk_netspec_add_addr(hsk_netspec *ns, const hsk_addr *a, unsigned prefix,
			 const char **why)
{
	const uint8_t *b = a->v6;

	if (a->family == HSK_AF_INET) {
		if (ns->addr) {
			*why = "one IPv4 address only";
			return -1;
		}
		if (!a->v4) {
			*why = "0.0.0.0 is no address";
			return -1;
		}
		ns->addr = a->v4;
		ns->prefix = prefix;
		return 0;
	}
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t zero[15];
	if (b[0] == 0xff)
		*why = "a multicast address is no address of ours";
	else if (!memcmp(b, zero, 15) && b[15] <= 1)
		*why = "the unspecified and loopback addresses are no address of ours";
	else if (!memcmp(b, mapped, 12))
		*why = "an IPv4-mapped address: give the IPv4 address";
	else if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		*why = "link-local: TAP makes its own from the MAC";
	else if (ns->naddr6 >= HSK_NETSPEC_ADDR6)
		*why = "too many IPv6 addresses (at most " HSK_STR(HSK_NETSPEC_ADDR6) ")";
	else if (prefix < 1)
		*why = "an IPv6 prefix is 1..128 bits";
	else
		*why = NULL;
	for (unsigned i = 0; !*why && i < ns->naddr6; i++)
		if (!memcmp(ns->addr6[i].v6, b, 16))
			*why = "given twice";
	if (*why)
		return -1;
	ns->addr6[ns->naddr6] = *a;
	ns->addr6[ns->naddr6].scope_id = 0;
	ns->prefix6[ns->naddr6++] = prefix;
	return 0;
}

const char *hsk_ipv4_str(uint32_t addr, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
		 (addr >> 8) & 255, addr & 255);
	return buf;
}

/* The kernel side's address when the device has none: the first host of
 * the prefix that is not ours; 0 when there is none (/31, /32). */
static uint32_t default_host_addr(uint32_t addr, unsigned prefix)
{
	uint32_t mask, net;

	if (prefix >= 31)
		return 0;
	mask = prefix ? ~0u << (32 - prefix) : 0;
	net = addr & mask;
	return net + 1 == addr ? net + 2 : net + 1;
}

/* The same for IPv6 (addr6[0]'s prefix): false when there is none (/127,
 * /128). The masked prefix has its low bits clear, so +1 and +2 touch
 * the last byte only. */
static bool default_host_addr6(const uint8_t a[16], unsigned prefix, uint8_t h[16])
{
	if (prefix >= 127)
		return false;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
		h[i] = bits >= 8 ? a[i] : (uint8_t)(a[i] & (0xff00u >> bits));
	}
	h[15] |= 1;
	if (!memcmp(h, a, 16))
		h[15] = (uint8_t)(h[15] + 1);
	return true;
}

/* The kernel side's IPv6 address on a TUN or TAP device (none asked for,
 * none possible, or the device has one: nothing). 0 or -1. */
static int host_setup6(const hsk_netspec *ns, const char *name, char *err, size_t errlen)
{
	uint8_t h[16];

	if (!ns->naddr6 || ns->host_addr == UINT32_MAX)
		return 0;
	if (ns->host_addr6.family == HSK_AF_INET6)
		memcpy(h, ns->host_addr6.v6, 16);
	else if (!default_host_addr6(ns->addr6[0].v6, ns->prefix6[0], h))
		return 0;
	return netif_setup6(name, h, ns->prefix6[0], err, errlen);
}

static int tun_opts_of(const hsk_netspec *ns, unsigned n, tun_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	if (ns->offload && tun_features_parse(ns->offload, &o->offload) < 0) {
		dev_errf(err, errlen, "bad offload list '%s' (csum,tso4,tso6,uso,tx-gso, all, none)",
			 ns->offload);
		return -1;
	}
	if (ns->offload_deny && tun_features_parse(ns->offload_deny, &o->probe_deny) < 0) {
		dev_errf(err, errlen, "bad offload list '%s'", ns->offload_deny);
		return -1;
	}
	o->uring = ns->uring;
	o->queues = n;
	o->steer = n > 1 && !ns->no_steer;
	o->steer_deny = ns->steer_deny;
	o->ipv6 = ns->naddr6 > 0;
	return 0;
}

/* What names a TAP device's MAC (tap_open): the IPv4 address, or on an
 * IPv6-only stack the first IPv6 one's low bytes, so that two such stacks
 * on one bridge differ as their addresses do. */
static uint32_t tap_mac_id(const hsk_netspec *ns)
{
	const uint8_t *a = ns->addr6[0].v6;

	if (ns->addr || !ns->naddr6)
		return ns->addr;
	return (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

/* The drivers of n queues into devs[]: 0 or -1. */
static int open_drivers(const hsk_netspec *ns, unsigned n, hsk_dev **devs, char *err, size_t errlen)
{
	uint32_t host = ns->host_addr;
	tun_opts to;

	if (host == 0 && ns->addr)
		host = default_host_addr(ns->addr, ns->prefix);
	else if (host == UINT32_MAX)
		host = 0;
	if (!!ns->tun + !!ns->tap + !!ns->xdp != 1) {
		dev_errf(err, errlen, "give exactly one of a TUN, a TAP or an AF_XDP device");
		return -1;
	}
	if ((ns->offload || ns->uring) && !ns->tun) {
		dev_errf(err, errlen, "offloads and io_uring are TUN options");
		return -1;
	}
	if (ns->tap) {
		if (n != 1) {
			dev_errf(err, errlen, "a TAP device has one queue, not %u", n);
			return -1;
		}
		devs[0] = tap_open(ns->tap, ns->addr, ns->prefix, ns->gw, host, tap_mac_id(ns),
				   err, errlen);
		if (devs[0] && host_setup6(ns, ns->tap, err, errlen) < 0) {
			dev_close(devs[0]);
			return -1;
		}
		return devs[0] ? 0 : -1;
	}
	if (ns->xdp) {
		xdp_opts xo = {
			.queues = n, .addr = ns->addr, .prefix = ns->prefix, .gw = ns->gw,
			.skb_mode = ns->xdp_skb, .force_copy = ns->xdp_copy,
		};
		return xdp_open(ns->xdp, &xo, devs, err, errlen);
	}
	if (tun_opts_of(ns, n, &to, err, errlen) < 0)
		return -1;
	/* A device made with multi_queue takes only multi-queue attaches. */
	if (n > 1 || tun_existing_mq(ns->tun) == 1) {
		if (tun_mq_open(ns->tun, host, ns->prefix, &to, devs, err, errlen) < 0)
			return -1;
	} else if (!(devs[0] = tun_open_opts(ns->tun, host, ns->prefix, &to, err, errlen))) {
		return -1;
	}
	if (host_setup6(ns, ns->tun, err, errlen) < 0) {
		for (unsigned i = 0; i < n; i++)
			dev_close(devs[i]);
		return -1;
	}
	return 0;
}

/* Impairment, then pcap, over the driver of queue i (devs[0]'s capture
 * file is shared by the others). */
static hsk_dev *add_layers(const hsk_netspec *ns, unsigned i, hsk_dev *d, hsk_dev *first,
			   char *err, size_t errlen)
{
	hsk_dev *up;

	if (ns->loss > 0 || ns->dup > 0 || ns->reorder > 0 || ns->ce > 0 || ns->delay_ns ||
	    ns->cross_fins || ns->stall_ns) {
		impair_cfg ic = {
			.loss = ns->loss, .dup = ns->dup, .reorder = ns->reorder, .ce = ns->ce,
			.delay_ns = ns->delay_ns, .reorder_ns = ns->reorder_ns,
			.seed = ns->seed + i, .cross_fins = ns->cross_fins,
			.stall_ns = ns->stall_ns, .stall_after = ns->stall_after,
		};
		up = impair_open(d, &ic, err, errlen);
		if (!up) {
			dev_close(d);
			return NULL;
		}
		d = up;
	}
	if (ns->pcap) {
		up = i ? pcap_dev_open_shared(d, first, err, errlen)
		       : pcap_dev_open(d, ns->pcap, err, errlen);
		if (!up) {
			dev_close(d);
			return NULL;
		}
		d = up;
	}
	return d;
}

int hsk_netspec_open_queues(const hsk_netspec *ns, unsigned n, struct hsk_dev **devs,
			    char *err, size_t errlen)
{
	if (n < 1 || n > LOOP_MAX_DEVS) {
		dev_errf(err, errlen, "queues: 1 to %d, not %u", LOOP_MAX_DEVS, n);
		return -1;
	}
	if (open_drivers(ns, n, devs, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		devs[i] = add_layers(ns, i, devs[i], devs[0], err, errlen);
		if (!devs[i]) {
			for (unsigned j = 0; j < n; j++)
				if (j != i)
					dev_close(devs[j]);
			return -1;
		}
	}
	return 0;
}

struct hsk_dev *hsk_netspec_open(const hsk_netspec *ns, char *err, size_t errlen)
{
	hsk_dev *d;

	if (ns->queues > 1) {
		dev_errf(err, errlen, "%u queues: use hsk_netspec_open_queues", ns->queues);
		return NULL;
	}
	return hsk_netspec_open_queues(ns, 1, &d, err, errlen) < 0 ? NULL : d;
}

/* The cores this process may run on. */
static unsigned cores(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* The receive queues of a network interface (its rx-N in sysfs). */
static unsigned if_rx_queues(const char *ifname)
{
	char path[128];
	unsigned n = 0;
	struct dirent *e;
	DIR *d;

	if (strchr(ifname, '/'))
		return 1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	if (!(d = opendir(path)))
		return 1;
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "rx-", 3);
	closedir(d);
	return n ? n : 1;
}

unsigned hsk_netspec_default_shards(const hsk_netspec *ns, const char **why)
{
	unsigned c = cores(), q = ns->queues;

	*why = NULL;
	if (c > 64)
		c = 64;
	if (ns->tap) {
		*why = "a TAP device has one queue";
		return 1;
	}
	if (ns->xdp && !q)
		q = if_rx_queues(ns->xdp);
	if (ns->tun && !q && tun_existing_mq(ns->tun) == 0) {
		*why = "the TUN device exists without multi_queue";
		return 1;
	}
	if (!q)
		return c;
	/* the queues must split evenly among the shards */
	while (q % c)
		c--;
	return c;
}

/* hsk_link.transmit: to the device at once (a batching device queues it
 * until dev_flush). With several queues, a flow's packets go out on its
 * own queue (the kernel's automatic steering, when no program decides,
 * follows the queue a flow was last sent on); ours are queues shard,
 * shard + nshards, ... of the device. */
static void loop_transmit(void *ctx, const uint8_t *pkt, size_t len)
{
	hsk_loop *l = ctx;
	unsigned i = 0;

	if (l->ndev > 1) {
		unsigned ns = l->nshards;
		unsigned q = steer_packet_queue(pkt, len, l->ndev * ns);
		i = q % ns == l->shard ? q / ns : 0;
	}
	dev_write(l->devs[i], l->now, pkt, len);
}

static int ep_add(int ep, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int loop_signals(hsk_loop *l)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, &l->oldmask) < 0)
		return -1;
	l->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sfd < 0)
		return -1;
	return ep_add(l->ep, l->sfd, EPOLLIN, TAG_SIG);
}

hsk_loop *loop_create(hsk_dev **devs, unsigned ndev, uint32_t addr, const hsk_config *cfg,
		      bool signals, char *err, size_t errlen)
{
	hsk_link link;
	hsk_config c;
	hsk_loop *l;

	l = ndev && ndev <= LOOP_MAX_DEVS ? calloc(1, sizeof(*l)) : NULL;
	if (!l) {
		dev_errf(err, errlen, ndev ? "out of memory" : "no device");
		for (unsigned i = 0; i < ndev; i++)
			dev_close(devs[i]);
		return NULL;
	}
	l->ndev = ndev;
	memcpy(l->devs, devs, ndev * sizeof(*devs));
	l->nshards = 1;
	l->wake_at = UINT64_MAX;
	l->ep = -1;
	l->sfd = -1;
	for (int i = 0; i < LOOP_MAX_FDS; i++)
		l->fds[i].fd = -1;
	if (cfg)
		c = *cfg;
	else
		hsk_config_default(&c);
	if (!c.addr)
		c.addr = addr;
	if (!c.mtu)
		c.mtu = (uint16_t)(devs[0]->mtu > 65535 ? 65535 : devs[0]->mtu);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0)
		goto sys;
	for (unsigned i = 0; i < ndev; i++)
		if (ep_add(l->ep, devs[i]->fd, EPOLLIN, TAG_DEV) < 0)
			goto sys;
	if (signals && loop_signals(l) < 0)
		goto sys;
	link.ctx = l;
	link.transmit = loop_transmit;
	l->now = hsk_now_ns();
	l->s = hsk_stack_new(&c, &link, l->now);
	if (!l->s) {
		dev_errf(err, errlen, "hsk_stack_new failed (bad configuration, or no entropy for its keys?)");
		hsk_loop_free(l);
		return NULL;
	}
	return l;
sys:
	dev_errf(err, errlen, "epoll/signalfd: %s", strerror(errno));
	hsk_loop_free(l);
	return NULL;
}

/* The devices that do Neighbor Discovery (TAP; each AF_XDP queue) take
 * IPv6 address a, DAD first; ll gets their link-local address. 0,
 * -ENODEV when no device of the loop does ND, or the error. */
static int link_add_addr6(hsk_loop *l, const uint8_t a[16], unsigned prefix, uint8_t ll[16])
{
	int rc = -ENODEV;

	for (unsigned d = 0; d < l->ndev; d++) {
		int r = tap_add_addr6(l->devs[d], l->now, a, prefix, true, ll);

		if (r == -ENODEV)
			r = xdp_add_addr6(l->devs[d], l->now, a, prefix, true, ll);
		if (r == -EEXIST)
			r = 0;
		if (r != -ENODEV)
			rc = r;
		if (rc < 0 && rc != -ENODEV)
			return rc;
	}
	return rc;
}

/* An address of ours to watch while DAD runs (once each). */
static void dad_watch(hsk_loop *l, const hsk_addr *a)
{
	for (unsigned i = 0; i < l->ndad; i++)
		if (!memcmp(l->dad[i].v6, a->v6, 16))
			return;
	if (l->ndad < LOOP_MAX_DAD) {
		l->dad[l->ndad++] = *a;
		l->dad_until = l->now + LOOP_DAD_NS;
	}
}

/* RFC 4862 §5.4.5: an address DAD found taken is not ours to use. The
 * stack lets go of it (connections on it live on); the node that holds
 * it can then reach us from it, not be dropped as a martian. */
static void dad_check(hsk_loop *l)
{
	for (unsigned i = 0; i < l->ndad;) {
		bool taken = false;

		for (unsigned d = 0; d < l->ndev && !taken; d++)
			taken = tap_addr6_taken(l->devs[d], l->dad[i].v6) ||
				xdp_addr6_taken(l->devs[d], l->dad[i].v6);
		if (taken) {
			hsk_addr a = l->dad[i];

			hsk_stack_del_addr(l->s, &a);
			l->dad[i] = l->dad[--l->ndad];
			if (l->taken_fn) {
				hsk_stack_advance(l->s, l->now);
				l->taken_fn(l->taken_ctx, l, &a);
			}
			continue;
		}
		i++;
	}
	if (l->now >= l->dad_until)
		l->ndad = 0;
}

/* The IPv6 router on the devices that do ND: 0 or -ENODEV (none does). */
static int link_set_router6(hsk_loop *l, const uint8_t r[16])
{
	int rc = -ENODEV;

	for (unsigned d = 0; d < l->ndev; d++)
		if (tap_set_router6(l->devs[d], r) == 0 || xdp_set_router6(l->devs[d], r) == 0)
			rc = 0;
	return rc;
}

/* ns->gw6 as the Ethernet devices' IPv6 router: one they can reach, on
 * the link (link-local, or inside one of our prefixes), as a route's next
 * hop must be. 0 or -1. */
static int set_router6(hsk_loop *l, const hsk_netspec *ns, char *err, size_t errlen)
{
	const uint8_t *r = ns->gw6.v6;
	char a[HSK_ADDRSTRLEN];
	bool on_link = r[0] == 0xfe && (r[1] & 0xc0) == 0x80;

	for (unsigned i = 0; i < ns->naddr6; i++)
		on_link = on_link || ip6_prefix_eq(r, ns->addr6[i].v6, ns->prefix6[i]);
	if (!ns->naddr6) {
		dev_errf(err, errlen, "an IPv6 gateway needs an IPv6 address of ours");
		return -1;
	}
	if (ns->gw6.family != HSK_AF_INET6 || !on_link) {
		dev_errf(err, errlen, "IPv6 gateway %s: not a unicast address on the link "
			 "(link-local or inside an IPv6 --addr's prefix)", hsk_addr_str(&ns->gw6, a));
		return -1;
	}
	if (link_set_router6(l, r) < 0) {
		dev_errf(err, errlen, "IPv6 gateway %s: only a TAP or AF_XDP device has a next hop",
			 hsk_addr_str(&ns->gw6, a));
		return -1;
	}
	return 0;
}

int loop_add_addrs(hsk_loop *l, const hsk_netspec *ns, char *err, size_t errlen)
{
	for (unsigned i = 0; i < ns->naddr6; i++) {
		hsk_addr ll;
		char a[HSK_ADDRSTRLEN];
		int rc = hsk_stack_add_addr(l->s, &ns->addr6[i], ns->prefix6[i]);

		if (rc < 0 && rc != -HSK_EADDRINUSE) {
			dev_errf(err, errlen, "address %s: %s", hsk_addr_str(&ns->addr6[i], a),
				 hsk_strerror(rc));
			return -1;
		}
		/* TAP, AF_XDP: Neighbor Discovery answers for it (after
		 * DAD) and gives the device a link-local address, the
		 * stack's too */
		ll.family = HSK_AF_INET6;
		ll.scope_id = 0;
		rc = link_add_addr6(l, ns->addr6[i].v6, ns->prefix6[i], ll.v6);
		if (rc == -ENODEV)
			continue;
		if (rc < 0) {
			dev_errf(err, errlen, "address %s on the Ethernet device: %s",
				 hsk_addr_str(&ns->addr6[i], a), strerror(-rc));
			return -1;
		}
		dad_watch(l, &ns->addr6[i]);
		dad_watch(l, &ll);
		rc = hsk_stack_add_addr(l->s, &ll, 64);
		if (rc < 0 && rc != -HSK_EADDRINUSE) {
			dev_errf(err, errlen, "link-local %s: %s", hsk_addr_str(&ll, a),
				 hsk_strerror(rc));
			return -1;
		}
	}
	return ns->gw6.family ? set_router6(l, ns, err, errlen) : 0;
}

hsk_loop *hsk_loop_new(struct hsk_dev *dev, uint32_t addr, const hsk_config *cfg,
		       char *err, size_t errlen)
{
	return loop_create(&dev, 1, addr, cfg, true, err, errlen);
}

int loop_set_shard(hsk_loop *l, hsk_shards *sh, unsigned id, unsigned n, int wake_fd)
{
	l->sh = sh;
	l->shard = id;
	l->nshards = n;
	return ep_add(l->ep, wake_fd, EPOLLIN, TAG_WAKE) < 0 ? -errno : 0;
}

hsk_loop *hsk_loop_open(const hsk_netspec *ns, const hsk_config *cfg,
			char *err, size_t errlen)
{
	unsigned n = ns->queues ? ns->queues : 1;
	hsk_dev *devs[LOOP_MAX_DEVS];
	hsk_config c;

	if (hsk_netspec_open_queues(ns, n, devs, err, errlen) < 0)
		return NULL;
	if (cfg)
		c = *cfg;
	else
		hsk_config_default(&c);
	/* The stack drops packets from its subnet's broadcast address. */
	if (!c.prefix_len && ns->prefix <= 32)
		c.prefix_len = (uint8_t)ns->prefix;
	hsk_loop *l = loop_create(devs, n, ns->addr, &c, true, err, errlen);
	if (l && loop_add_addrs(l, ns, err, errlen) < 0) {
		hsk_loop_free(l);
		return NULL;
	}
	return l;
}

/* hsk_stack_conns callback: the descriptors of live connections. */
struct sd_list {
	int *sd;
	size_t n, cap;
};

static void collect_sd(void *ctx, const hsk_conn_info *ci)
{
	struct sd_list *w = ctx;

	if (ci->obj != HSK_OBJ_TCB || ci->sd < 0)
		return;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		int *p = realloc(w->sd, cap * sizeof(*p));
		if (!p)
			return;
		w->sd = p;
		w->cap = cap;
	}
	w->sd[w->n++] = ci->sd;
}

/* A connection the application left open when the loop goes away would
 * vanish without a word, leaving its peer to find out by timeouts: reset
 * it instead (a graceful close is the application's to do first). */
static void loop_reset_open(hsk_loop *l)
{
	struct sd_list w = { 0 };

	l->now = hsk_now_ns();
	hsk_stack_advance(l->s, l->now);
	hsk_stack_conns(l->s, collect_sd, &w);
	for (size_t i = 0; i < w.n; i++)
		hsk_abort(l->s, w.sd[i]);
	free(w.sd);
}

/* Signals that came after the loop's last turn are the loop's, not the
 * default action's: supervisors repeat them (timeout(1) sends its SIGTERM
 * to the child and again to its process group), and unblocking one here
 * would kill a process that has already stopped cleanly. */
static void loop_drain_signals(hsk_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
}

void hsk_loop_free(hsk_loop *l)
{
	if (!l)
		return;
	if (l->s) {
		loop_reset_open(l);
		hsk_stack_free(l->s);
	}
	for (unsigned i = 0; i < l->ndev; i++)
		dev_close(l->devs[i]);
	if (l->sfd >= 0) {
		loop_drain_signals(l);
		close(l->sfd);
		sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
	}
	if (l->ep >= 0)
		close(l->ep);
	free(l);
}

hsk_stack *hsk_loop_stack(hsk_loop *l) { return l->s; }
struct hsk_dev *hsk_loop_dev(hsk_loop *l) { return l->devs[0]; }
unsigned hsk_loop_dev_count(const hsk_loop *l) { return l->ndev; }
struct hsk_dev *hsk_loop_dev_at(hsk_loop *l, unsigned i) { return i < l->ndev ? l->devs[i] : NULL; }
hsk_shards *hsk_loop_shards(const hsk_loop *l) { return l->sh; }
unsigned hsk_loop_shard(const hsk_loop *l) { return l->shard; }
uint64_t hsk_loop_now(const hsk_loop *l) { return l->now; }
void hsk_loop_stop(hsk_loop *l) { l->stop = true; }
void hsk_loop_resume(hsk_loop *l) { l->stop = false; }
bool hsk_loop_stopped(const hsk_loop *l) { return l->stop; }

void hsk_loop_wake_at(hsk_loop *l, uint64_t t)
{
	if (t < l->wake_at)
		l->wake_at = t;
}

void hsk_loop_on_socket(hsk_loop *l, hsk_loop_sock_fn fn, void *ctx)
{
	l->sock_fn = fn;
	l->sock_ctx = ctx;
}

void hsk_loop_on_signal(hsk_loop *l, hsk_loop_sig_fn fn, void *ctx)
{
	l->sig_fn = fn;
	l->sig_ctx = ctx;
}

void hsk_loop_on_tick(hsk_loop *l, hsk_loop_tick_fn fn, void *ctx)
{
	l->tick_fn = fn;
	l->tick_ctx = ctx;
}

void hsk_loop_on_addr_taken(hsk_loop *l, hsk_loop_addr_fn fn, void *ctx)
{
	l->taken_fn = fn;
	l->taken_ctx = ctx;
}

int hsk_loop_add_fd(hsk_loop *l, int fd, uint32_t events, hsk_loop_fd_fn fn, void *ctx)
{
	for (int i = 0; i < LOOP_MAX_FDS; i++) {
		if (l->fds[i].fd >= 0)
			continue;
		if (ep_add(l->ep, fd, events, TAG_FD0 + (uint64_t)i) < 0)
			return -errno;
		l->fds[i] = (struct loop_fd){ fd, fn, ctx };
		return 0;
	}
	return -ENOSPC;
}

int hsk_loop_del_fd(hsk_loop *l, int fd)
{
	for (int i = 0; i < LOOP_MAX_FDS; i++) {
		if (l->fds[i].fd != fd)
			continue;
		epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
		l->fds[i].fd = -1;
		return 0;
	}
	return -ENOENT;
}

void loop_deliver_signal(hsk_loop *l, int signo)
{
	if (l->sig_fn)
		l->sig_fn(l->sig_ctx, l, signo);
	else if (signo != SIGUSR1)
		l->stop = true;
}

static void loop_signal(hsk_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		/* every shard gets it, in its own thread */
		if (l->sh)
			shards_forward_signal(l->sh, (int)si.ssi_signo);
		loop_deliver_signal(l, (int)si.ssi_signo);
	}
}

/* Hands readiness events to the application until there are none left
 * (bounded: a callback may cause new events). Returns true when some may
 * be left, so that the next turn comes at once. */
static bool loop_events(hsk_loop *l)
{
	hsk_event ev[64];
	size_t n;

	for (int round = 0; round < 64; round++) {
		n = hsk_stack_events(l->s, ev, 64);
		if (!n)
			return false;
		for (size_t i = 0; i < n; i++)
			if (l->sock_fn)
				l->sock_fn(l->sock_ctx, l, ev[i].sd, ev[i].events);
	}
	return true;
}

/* Packets in: what other shards handed over, then each queue's batches,
 * LOOP_BATCH at most (then l->backlog: the next turn comes at once). A
 * packet of another shard's flow is handed over instead of input. */
static void loop_input(hsk_loop *l)
{
	unsigned budget = LOOP_BATCH;
	hsk_pkt p[LOOP_READ];
	bool more = false;

	if (l->nshards > 1)
		budget -= shards_take(l->sh, l->shard, l, LOOP_BATCH / 2, &more);
	for (unsigned d = 0; d < l->ndev && budget; d++) {
		for (;;) {
			unsigned want = budget < LOOP_READ ? budget : LOOP_READ;
			long n = dev_read_batch(l->devs[d], l->now, p, want, l->pkt, sizeof(l->pkt));

			if (n < 0) {
				l->dev_err = (int)n;
				l->stop = true;
				return;
			}
			for (long i = 0; i < n; i++)
				if (l->nshards < 2 || !shards_give(l->sh, l->shard, p[i].data, p[i].len))
					hsk_stack_input(l->s, l->now, p[i].data, p[i].len);
			budget -= (unsigned)n;
			if ((unsigned)n < want || !budget)
				break;
		}
	}
	l->backlog = more || !budget;
}

/* The work of one turn; everything here is non-blocking. */
static void loop_turn(hsk_loop *l)
{
	l->now = hsk_now_ns();
	if (l->now >= l->wake_at)
		l->wake_at = UINT64_MAX;   /* this turn is the wake-up */
	for (unsigned d = 0; d < l->ndev; d++)
		dev_advance(l->devs[d], l->now);
	if (l->ndad)
		dad_check(l);
	loop_input(l);
	hsk_stack_advance(l->s, l->now);
	loop_events(l);
	if (l->tick_fn)
		l->tick_fn(l->tick_ctx, l);
	/* Callbacks may have queued events of their own. */
	if (loop_events(l))
		l->backlog = true;
	/* Before sleeping: what batching devices hold goes out now. */
	for (unsigned d = 0; d < l->ndev; d++)
		dev_flush(l->devs[d], l->now);
}

/* How long the loop may sleep: until the earliest deadline, at most
 * max_wait_ns and an hour; 0 with work waiting. */
static uint64_t loop_timeout_ns(hsk_loop *l, uint64_t max_wait_ns)
{
	uint64_t now = hsk_now_ns(), dl, wait;

	if (l->backlog)
		return 0;
	dl = hsk_stack_next_deadline(l->s);
	for (unsigned d = 0; d < l->ndev; d++) {
		uint64_t d2 = dev_next_deadline(l->devs[d]);
		if (d2 < dl)
			dl = d2;
	}
	if (l->wake_at < dl)
		dl = l->wake_at;
	if (l->ndad && l->dad_until < dl)
		dl = l->dad_until;
	if (max_wait_ns < UINT64_MAX - now && now + max_wait_ns < dl)
		dl = now + max_wait_ns;
	if (dl <= now)
		return 0;
	wait = dl - now;
	return wait > 3600ull * 1000000000ull ? 3600ull * 1000000000ull : wait;
}

/* epoll's wait for wait_ns: to the nanosecond where the kernel can
 * (epoll_pwait2), else rounded up to the millisecond. Any failure but a
 * signal's sends the loop to epoll_wait for good, which reports a real
 * error itself: ENOSYS before Linux 5.11, and EPERM from a seccomp filter
 * that does not know the call (older container runtimes'). */
static int loop_wait(hsk_loop *l, struct epoll_event *ev, int max, uint64_t wait_ns)
{
	if (!l->ms_sleep) {
		struct timespec ts = { .tv_sec = (time_t)(wait_ns / 1000000000ull),
				       .tv_nsec = (long)(wait_ns % 1000000000ull) };
		int n = epoll_pwait2(l->ep, ev, max, &ts, NULL);
		if (n >= 0 || errno == EINTR)
			return n;
		l->ms_sleep = true;
	}
	return epoll_wait(l->ep, ev, max, (int)((wait_ns + 999999) / 1000000));
}

/* The stack's clock must be current before a callback's hsk_* calls:
 * they stamp and arm timers with it. */
static void loop_catch_up(hsk_loop *l)
{
	l->now = hsk_now_ns();
	hsk_stack_advance(l->s, l->now);
}

int hsk_loop_run_once(hsk_loop *l, uint64_t max_wait_ns)
{
	struct epoll_event ev[16];
	uint64_t timeout = loop_timeout_ns(l, max_wait_ns);
	int n = loop_wait(l, ev, 16, timeout);

	if (n < 0 && errno != EINTR)
		return -errno;
	if (l->sh)
		shards_count_turn(l->sh, l->shard, timeout != 0);
	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;
		if (tag == TAG_SIG) {
			loop_catch_up(l);
			loop_signal(l);
		} else if (tag == TAG_WAKE) {
			loop_catch_up(l);
			shards_woken(l->sh, l->shard, l);
		} else if (tag >= TAG_FD0) {
			struct loop_fd *f = &l->fds[tag - TAG_FD0];
			loop_catch_up(l);
			if (f->fd >= 0 && f->fn)
				f->fn(f->ctx, l, f->fd, ev[i].events);
		}
	}
	loop_turn(l);
	if (l->dev_err)
		return l->dev_err;
	return l->stop ? 1 : 0;
}

int hsk_loop_run_until(hsk_loop *l, uint64_t deadline)
{
	int rc = 0;

	while (!l->stop) {
		uint64_t now = hsk_now_ns();
		if (now >= deadline)
			break;
		rc = hsk_loop_run_once(l, deadline - now);
		if (rc < 0)
			return rc;
	}
	return l->dev_err;
}

int hsk_loop_run(hsk_loop *l)
{
	return hsk_loop_run_until(l, UINT64_MAX);
}

/* Packets impairment layers still hold back. */
static unsigned loop_held(hsk_loop *l)
{
	unsigned n = 0;

	for (unsigned d = 0; d < l->ndev; d++)
		n += impair_held(l->devs[d]);
	return n;
}

/* Packets the devices have taken in. */
static uint64_t loop_rx(const hsk_loop *l)
{
	uint64_t n = 0;

	for (unsigned d = 0; d < l->ndev; d++)
		n += l->devs[d]->st.rx_packets;
	return n;
}

int hsk_loop_linger(hsk_loop *l, uint64_t deadline, uint64_t tw_grace_ns)
{
	bool in_grace = false;
	uint64_t until = deadline, rx = 0;
	hsk_usage u;

	l->stop = false;
	for (;;) {
		uint64_t now = hsk_now_ns();
		int rc;

		hsk_stack_usage(l->s, &u);
		if (!in_grace && u.tcbs == 0 && u.requests == 0 && !loop_held(l)) {
			if (!tw_grace_ns || !u.timewaits)
				return 0;
			in_grace = true;
			rx = loop_rx(l);
			until = now + tw_grace_ns < deadline ? now + tw_grace_ns : deadline;
		} else if (in_grace && loop_rx(l) != rx) {
			/* again from the last packet in: a peer that resends
			 * its FIN until it hears our ACK gets the time to */
			rx = loop_rx(l);
			until = now + tw_grace_ns < deadline ? now + tw_grace_ns : deadline;
		}
		if (now >= until)
			return in_grace ? 0 : 1;
		rc = hsk_loop_run_once(l, until - now);
		if (rc != 0)
			return rc < 0 ? rc : 2;
	}
}
