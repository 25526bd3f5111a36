/*
 * hsk-v6test: one stack on a TAP device with IPv6 addresses — the IP layer
 * of issue 9's first phase (echo, fragments, ICMPv6 errors) and Neighbor
 * Discovery, driven by a small loop of its own. A test tool, not a
 * product: IPv6 reaches `serve` and the CLI with TCP over IPv6 (phase 2,
 * docs/ipv6.md).
 *
 *   hsk-v6test --tap NAME --addr A/P --addr6 A6/P [options]
 *   --addr A/P       our IPv4 address (the TAP's MAC derives from it)
 *   --addr6 A6/P     an IPv6 address of ours (repeatable); the link-local
 *                    address of the MAC is added too
 *   --no-dad         skip duplicate address detection
 *   --ping6 A6       once DAD is done, send 3 echo requests to A6 (the
 *                    stack has no ping call; built here through ip6_output)
 *   --seconds S      exit after S seconds (default 30), or on SIGTERM
 *
 * Prints "ready" when the addresses are preferred, and at exit one JSON
 * line: the IPv6 counters, echo replies seen for --ping6, and the ND
 * statistics of the device.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "handshake.h"
#include "link/dev.h"
#include "link/nd.h"
#include "stack/stack.h"

enum { MAX6 = 8 };

struct app {
	hsk_stack *s;
	hsk_dev *dev;
	uint64_t now;
	unsigned echo_replies;
	uint8_t ping_to[16];
	bool ping;
	uint8_t buf[65536];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void xmit(void *ctx, const uint8_t *pkt, size_t len)
{
	struct app *a = ctx;

	dev_write(a->dev, a->now, pkt, len);
}

static int parse_prefix(const char *arg, int family, void *addr, unsigned *prefix)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	char *slash;

	snprintf(tmp, sizeof(tmp), "%s", arg);
	slash = strchr(tmp, '/');
	*prefix = family == AF_INET ? 24 : 64;
	if (slash) {
		*slash = '\0';
		*prefix = (unsigned)atoi(slash + 1);
	}
	return inet_pton(family, tmp, addr) == 1 ? 0 : -1;
}

/* An echo request from our address of the right scope to a->ping_to. */
static void send_ping(struct app *a, uint16_t seq)
{
	ip_layer *ip = &a->s->ip;
	uint8_t src[16];
	icmp_hdr h = { .type = ICMP6_ECHO_REQUEST, .rest = 0x68730000u | seq };
	int n;

	if (ip6_select_src(ip, a->ping_to, src) < 0)
		return;
	n = icmp6_emit(&h, (const uint8_t *)"hsk-v6test", 10, src, a->ping_to,
		       ip->txbuf + IPV6_HDR_LEN, sizeof(ip->txbuf) - IPV6_HDR_LEN);
	if (n > 0)
		ip6_output(ip, ip->txbuf, src, a->ping_to, IP_PROTO_ICMPV6, (size_t)n);
}

/* Counts echo replies to us on their way into the stack. */
static void watch(struct app *a, const uint8_t *p, size_t len)
{
	if (len >= 48 && p[0] >> 4 == 6 && p[6] == IP_PROTO_ICMPV6 &&
	    p[40] == ICMP6_ECHO_REPLY && (rd32(p + 44) >> 16) == 0x6873)
		a->echo_replies++;
}

static void print_json(struct app *a)
{
	nd_stats st = { 0 };
	size_t entries = 0;
	static const char *const names[] = {
		"Ip6InReceives", "Ip6InDelivers", "Ip6InHdrErrors", "Ip6OutRequests",
		"Ip6ReasmOKs", "Icmp6InEchos", "Icmp6OutEchoReplies", "Icmp6OutErrors",
		"DropMartianSrc", "DropMartianDst",
	};

	tap_get_nd_stats(a->dev, &st, &entries);
	printf("{");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		printf("\"%s\": %" PRIu64 ", ", names[i], hsk_counter_by_name(a->s, names[i]));
	printf("\"echo_replies\": %u, \"nd_entries\": %zu, \"ns_sent\": %" PRIu64
	       ", \"na_sent\": %" PRIu64 ", \"ns_rcvd\": %" PRIu64 ", \"na_rcvd\": %" PRIu64
	       ", \"dad_sent\": %" PRIu64 ", \"dad_failed\": %" PRIu64 "}\n",
	       a->echo_replies, entries, st.ns_sent, st.na_sent, st.ns_rcvd, st.na_rcvd,
	       st.dad_sent, st.dad_failed);
}

static void usage(void)
{
	fprintf(stderr, "usage: hsk-v6test --tap NAME --addr A/P --addr6 A6/P [--addr6 ...] "
		"[--no-dad] [--ping6 A6] [--seconds S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct app a;
	const char *tap = NULL;
	uint8_t v4[4] = { 198, 18, 0, 2 }, v6[MAX6][16], ll[16];
	unsigned p4 = 24, p6[MAX6], n6 = 0, seconds = 30;
	bool dad = true;
	char err[256];

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--no-dad")) {
			dad = false;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(o, "--tap"))
			tap = v;
		else if (!strcmp(o, "--addr") && parse_prefix(v, AF_INET, v4, &p4) == 0)
			;
		else if (!strcmp(o, "--addr6") && n6 < MAX6 &&
			 parse_prefix(v, AF_INET6, v6[n6], &p6[n6]) == 0)
			n6++;
		else if (!strcmp(o, "--ping6") && inet_pton(AF_INET6, v, a.ping_to) == 1)
			a.ping = true;
		else if (!strcmp(o, "--seconds"))
			seconds = (unsigned)atoi(v);
		else
			usage();
	}
	if (!tap || !n6)
		usage();
	uint32_t us = rd32(v4);
	a.now = now_ns();
	a.dev = tap_open(tap, us, p4, 0, (us & ~0xffu) | 1, err, sizeof(err));
	if (!a.dev) {
		fprintf(stderr, "hsk-v6test: %s\n", err);
		return 1;
	}
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.addr = us;
	cfg.prefix_len = (uint8_t)p4;
	cfg.mtu = (uint16_t)a.dev->mtu;
	hsk_link link = { .ctx = &a, .transmit = xmit };
	a.s = hsk_stack_new(&cfg, &link, a.now);
	if (!a.s) {
		fprintf(stderr, "hsk-v6test: no stack\n");
		return 1;
	}
	for (unsigned i = 0; i < n6; i++) {
		int rc = tap_add_addr6(a.dev, a.now, v6[i], p6[i], dad, ll);
		if (rc < 0 || ip_addr_add(&a.s->ip, IP_FAM6, v6[i], p6[i]) < 0) {
			fprintf(stderr, "hsk-v6test: cannot add address %u: %d\n", i, rc);
			return 1;
		}
	}
	ip_addr_add(&a.s->ip, IP_FAM6, ll, 64);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	uint64_t end = a.now + seconds * 1000000000ull;
	uint64_t ready_at = a.now + (dad ? ND_RETRANS_NS : 0), next_ping = 0;
	bool ready = false;
	uint16_t pings = 0;
	while (!stop && (a.now = now_ns()) < end) {
		struct pollfd pfd = { .fd = a.dev->fd, .events = POLLIN };
		uint64_t dl = hsk_stack_next_deadline(a.s), dd = dev_next_deadline(a.dev);
		if (dd < dl)
			dl = dd;
		if (!ready && ready_at < dl)
			dl = ready_at;
		if (a.ping && ready && pings < 3 && next_ping < dl)
			dl = next_ping;
		int ms = dl <= a.now ? 0 : (dl - a.now) / 1000000 > 100 ? 100
			 : (int)((dl - a.now) / 1000000) + 1;
		poll(&pfd, 1, ms);
		a.now = now_ns();
		for (int k = 0; k < 64; k++) {
			long n = dev_read(a.dev, a.now, a.buf, sizeof(a.buf));
			if (n <= 0)
				break;
			watch(&a, a.buf, (size_t)n);
			hsk_stack_input(a.s, a.now, a.buf, (size_t)n);
		}
		hsk_stack_advance(a.s, a.now);
		dev_advance(a.dev, a.now);
		if (!ready && a.now >= ready_at + 1000000) {
			ready = true;
			printf("ready\n");
			fflush(stdout);
			next_ping = a.now;
		}
		if (a.ping && ready && pings < 3 && a.now >= next_ping) {
			send_ping(&a, ++pings);
			next_ping = a.now + 200000000ull;
		}
		dev_flush(a.dev, a.now);
	}
	print_json(&a);
	hsk_stack_free(a.s);
	dev_close(a.dev);
	return 0;
}
