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
 *   --echo PORT      a TCP echo server on [::]:PORT (dual stack: IPv4
 *                    clients too), closing each connection after the peer's
 *                    FIN once everything is echoed
 *   --connect A:PORT once ready, connect to A (an IPv6 address in brackets
 *                    or an IPv4 one), send --bytes N (default 1 MiB) of a
 *                    known pattern, shut down writing and read until EOF;
 *                    the JSON line says what came back and its FNV-1a hash
 *   --seconds S      exit after S seconds (default 30), or on SIGTERM
 *
 * Prints "ready" when the addresses are preferred, and at exit one JSON
 * line: the IPv6 counters, echo replies seen for --ping6, the echo
 * server's connections of each family and bytes, and the ND statistics of
 * the device.
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

enum { MAX6 = 8, MAX_CONN = 512, PEND = 16384 };

/* An echo connection: what was read and not yet sent back. */
struct econn {
	int sd;
	bool eof;
	size_t off, len;
	uint8_t pend[PEND];
};

struct app {
	hsk_stack *s;
	hsk_dev *dev;
	uint64_t now;
	unsigned echo_replies;
	uint8_t ping_to[16];
	bool ping;
	int lsd;                   /* the echo listener, -1 without --echo */
	struct econn *conn[MAX_CONN];
	unsigned accepted4, accepted6, closed, errors;
	uint64_t echoed;
	/* --connect */
	int csd;                   /* -1: none (yet) */
	bool connect_done;
	int connect_err;
	uint64_t c_sent, c_rcvd, c_total, c_hash;
	uint8_t buf[65536];
};

/* The byte at offset i of what --connect sends. */
static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 11));
}

/* --connect: keeps sending, reads, ends at EOF (or an error). */
static void client_step(struct app *a)
{
	uint8_t out[8192];

	if (a->csd < 0 || a->connect_done)
		return;
	int st = hsk_sock_state(a->s, a->csd), e = hsk_sock_error(a->s, a->csd);
	if (e) {
		a->connect_err = e;
		a->connect_done = true;
		return;
	}
	if (st == HSK_SYN_SENT)
		return;
	while (a->c_sent < a->c_total) {
		size_t n = a->c_total - a->c_sent < sizeof(out) ? (size_t)(a->c_total - a->c_sent)
								 : sizeof(out);
		for (size_t i = 0; i < n; i++)
			out[i] = pattern(a->c_sent + i);
		long w = hsk_send(a->s, a->csd, out, n);
		if (w <= 0)
			break;
		a->c_sent += (uint64_t)w;
		if (a->c_sent == a->c_total)
			hsk_shutdown(a->s, a->csd, HSK_SHUT_WR);
	}
	for (;;) {
		long r = hsk_recv(a->s, a->csd, a->buf, sizeof(a->buf));
		if (r == -HSK_EAGAIN)
			return;
		if (r <= 0) {
			a->connect_err = r < 0 ? (int)-r : 0;
			a->connect_done = true;
			hsk_close(a->s, a->csd);
			return;
		}
		for (long i = 0; i < r; i++) {          /* FNV-1a */
			a->c_hash ^= a->buf[i];
			a->c_hash *= 0x100000001b3ull;
		}
		a->c_rcvd += (uint64_t)r;
	}
}

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

/* The echo server's listener on [::]:port, dual stack. */
static int echo_listen(struct app *a, uint16_t port)
{
	static const uint8_t any[16];
	hsk_addr a6 = hsk_addr_v6(any);
	int sd = hsk_socket_family(a->s, HSK_AF_INET6);

	if (sd < 0 || hsk_bind_addr(a->s, sd, &a6, port) < 0 || hsk_listen(a->s, sd, 256) < 0)
		return -1;
	return sd;
}

static void echo_accept(struct app *a)
{
	hsk_addr peer;
	uint16_t port;
	int sd;

	while ((sd = hsk_accept_addr(a->s, a->lsd, &peer, &port)) >= 0) {
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
		if (sd >= MAX_CONN || !(a->conn[sd] = calloc(1, sizeof(struct econn)))) {
			hsk_abort(a->s, sd);
			a->errors++;
			continue;
		}
		a->conn[sd]->sd = sd;
		if (!memcmp(peer.v6, mapped, 12))
			a->accepted4++;
		else
			a->accepted6++;
	}
}

/* Sends what is pending, reads more when nothing is, closes after EOF. */
static void echo_serve(struct app *a, int sd)
{
	struct econn *c = sd >= 0 && sd < MAX_CONN ? a->conn[sd] : NULL;

	if (!c)
		return;
	for (;;) {
		if (c->len) {
			long n = hsk_send(a->s, sd, c->pend + c->off, c->len);
			if (n <= 0) {
				if (n != -HSK_EAGAIN)
					goto gone;
				return;
			}
			c->off += (size_t)n;
			c->len -= (size_t)n;
			a->echoed += (uint64_t)n;
			continue;
		}
		if (c->eof)
			break;
		long n = hsk_recv(a->s, sd, c->pend, sizeof(c->pend));
		if (n == -HSK_EAGAIN)
			return;
		if (n < 0)
			goto gone;
		if (n == 0) {
			c->eof = true;
			continue;
		}
		c->off = 0;
		c->len = (size_t)n;
	}
	hsk_close(a->s, sd);
	a->closed++;
	free(c);
	a->conn[sd] = NULL;
	return;
gone:
	a->errors++;
	hsk_abort(a->s, sd);
	free(c);
	a->conn[sd] = NULL;
}

static void echo_events(struct app *a)
{
	hsk_event ev[64];
	size_t n;

	if (a->lsd < 0)
		return;
	while ((n = hsk_stack_events(a->s, ev, 64)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (ev[i].sd == a->lsd)
				echo_accept(a);
			else
				echo_serve(a, ev[i].sd);
		}
	}
	/* Connections whose sends were short: try again after input. */
	for (int sd = 0; sd < MAX_CONN; sd++)
		if (a->conn[sd] && a->conn[sd]->len)
			echo_serve(a, sd);
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
	if (a->csd >= 0 || a->connect_err)
		printf("{\"connect_sent\": %" PRIu64 ", \"connect_rcvd\": %" PRIu64
		       ", \"connect_hash\": \"%016" PRIx64 "\", \"connect_err\": \"%s\", "
		       "\"connect_done\": %s}\n", a->c_sent, a->c_rcvd, a->c_hash,
		       a->connect_err ? hsk_errno_name(a->connect_err) : "",
		       a->connect_done ? "true" : "false");
	if (a->lsd >= 0)
		printf("{\"accepted4\": %u, \"accepted6\": %u, \"closed\": %u, \"errors\": %u, "
		       "\"echoed\": %" PRIu64 ", \"InCsumErrors\": %" PRIu64 ", \"RetransSegs\": %"
		       PRIu64 "}\n", a->accepted4, a->accepted6, a->closed, a->errors, a->echoed,
		       hsk_counter_by_name(a->s, "InCsumErrors"),
		       hsk_counter_by_name(a->s, "RetransSegs"));
}

static void usage(void)
{
	fprintf(stderr, "usage: hsk-v6test --tap NAME --addr A/P --addr6 A6/P [--addr6 ...] "
		"[--no-dad] [--ping6 A6] [--echo PORT] [--connect A:PORT [--bytes N]] "
		"[--seconds S]\n");
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
	int echo_port = 0;
	const char *connect_to = NULL;
	uint64_t bytes = 1 << 20;

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
		else if (!strcmp(o, "--connect"))
			connect_to = v;
		else if (!strcmp(o, "--bytes"))
			bytes = strtoull(v, NULL, 10);
		else if (!strcmp(o, "--echo"))
			echo_port = atoi(v);
		else if (!strcmp(o, "--seconds"))
			seconds = (unsigned)atoi(v);
		else
			usage();
	}
	if (!tap || !n6)
		usage();
	uint32_t us = rd32(v4);
	a.now = now_ns();
	a.dev = tap_open(tap, us, p4, 0, (us & ~0xffu) | 1, us, err, sizeof(err));
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
	a.lsd = -1;
	if (echo_port > 0 && (a.lsd = echo_listen(&a, (uint16_t)echo_port)) < 0) {
		fprintf(stderr, "hsk-v6test: cannot listen on [::]:%d\n", echo_port);
		return 1;
	}
	a.csd = -1;
	a.c_total = bytes;
	a.c_hash = 0xcbf29ce484222325ull;
	hsk_addr dst;
	uint16_t dport = 0;
	if (connect_to) {
		char host[HSK_ADDRSTRLEN];
		const char *colon = strrchr(connect_to, ':');
		if (!colon || (size_t)(colon - connect_to) >= sizeof(host))
			usage();
		memcpy(host, connect_to, (size_t)(colon - connect_to));
		host[colon - connect_to] = '\0';
		dport = (uint16_t)atoi(colon + 1);
		if (hsk_addr_parse(host, &dst) < 0)
			usage();
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	uint64_t end = a.now + seconds * 1000000000ull;
	uint64_t ready_at = a.now + (dad ? ND_RETRANS_NS : 0), next_ping = 0;
	bool ready = false;
	uint16_t pings = 0;
	uint64_t linger_until = 0;
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
		echo_events(&a);
		client_step(&a);
		/* --connect alone: done, after a moment for the last ACKs */
		if (a.connect_done && a.lsd < 0) {
			if (!linger_until)
				linger_until = a.now + 300000000ull;
			else if (a.now >= linger_until)
				stop = 1;
		}
		dev_advance(a.dev, a.now);
		if (!ready && a.now >= ready_at + 1000000) {
			ready = true;
			printf("ready\n");
			fflush(stdout);
			next_ping = a.now;
			if (connect_to) {
				a.csd = hsk_socket_family(a.s, dst.family);
				int rc = a.csd < 0 ? a.csd : hsk_connect_addr(a.s, a.csd, &dst, dport);
				if (rc != -HSK_EINPROGRESS) {
					a.connect_err = rc < 0 ? -rc : 0;
					a.connect_done = true;
				}
			}
		}
		if (a.ping && ready && pings < 3 && a.now >= next_ping) {
			send_ping(&a, ++pings);
			next_ping = a.now + 200000000ull;
		}
		dev_flush(a.dev, a.now);
	}
	print_json(&a);
	for (int sd = 0; sd < MAX_CONN; sd++)
		free(a.conn[sd]);
	hsk_stack_free(a.s);
	dev_close(a.dev);
	return 0;
}
