/*
 * hsk-devtest: one stack on the new devices (TUN with offloads, io_uring,
 * multi-queue TUN, AF_XDP), driven by a small loop of its own that uses
 * the batch interface (dev_read_batch, dev_flush) the way the shard loop
 * will. A test tool, not a product: the devices reach the CLI through
 * src/api/loop.c and tools/ later.
 *
 *   hsk-devtest DEVICE [options] SERVICE... 
 * DEVICE
 *   --tun NAME [--offload LIST] [--deny LIST] [--uring] [--queues N [--steer]]
 *   --xdp IFNAME [--queues N] [--xdp-mode drv|skb] [--copy]
 * options
 *   --addr A/P        our address (198.18.0.2/24)
 *   --stack-mtu N     the stack's MTU (default: the device's)
 *   --count N         exit once N connections have closed (and the last
 *                     closes finished)
 *   --seconds S       exit after S seconds at the latest (60)
 * SERVICE (any number)
 *   --discard PORT | --echo PORT | --send PORT FILE
 *
 * Prints "listening on ..." when ready, and at exit one JSON line: device
 * features, per-queue counters (packets, segments, GSO packets, system
 * calls, completed checksums), packets that arrived on a queue other than
 * the one steer_packet_queue() names ("misqueued"), the loop's epoll_wait
 * calls, bytes and connections.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handshake.h"
#include "handshake_loop.h"
#include "link/dev.h"
#include "link/steer.h"
#include "link/xdp.h"

enum { MAXQ = 16, MAXSVC = 8, BATCH = 64, BUF = 65536 };
enum svc_kind { S_DISCARD, S_ECHO, S_SEND };

struct svc {
	int kind, lsd;
	uint16_t port;
	const uint8_t *file;
	size_t file_len;
};

struct conn {
	struct svc *svc;
	uint8_t *buf;            /* echo: pending output */
	size_t off, len, sent;
	bool eof;
};

struct app {
	hsk_stack *s;
	hsk_dev *dev[MAXQ];
	unsigned nq;
	uint64_t now;
	struct svc svc[MAXSVC];
	unsigned nsvc;
	struct conn **c;
	unsigned nc;
	unsigned closed, count;
	uint64_t misqueued[MAXQ], rx_q[MAXQ];
	uint64_t rx_bytes, tx_bytes, epoll_waits, turns;
	uint8_t scratch[BUF];
};

static void xmit(void *ctx, const uint8_t *pkt, size_t len)
{
	struct app *a = ctx;
	unsigned q = a->nq > 1 ? steer_packet_queue(pkt, len, a->nq) : 0;

	dev_write(a->dev[q], a->now, pkt, len);
}

static void conn_close(struct app *a, int sd)
{
	struct conn *c = a->c[sd];

	hsk_close(a->s, sd);
	free(c->buf);
	free(c);
	a->c[sd] = NULL;
	a->closed++;
}

/* Moves data for one connection until it would block. */
static void conn_serve(struct app *a, int sd)
{
	struct conn *c = a->c[sd];
	long n;

	for (int round = 0; round < 64; round++) {
		if (c->svc->kind == S_SEND && c->sent < c->svc->file_len) {
			n = hsk_send(a->s, sd, c->svc->file + c->sent, c->svc->file_len - c->sent);
			if (n == -HSK_EAGAIN)
				return;
			if (n < 0)
				goto done;
			c->sent += (size_t)n;
			a->tx_bytes += (uint64_t)n;
			if (c->sent == c->svc->file_len)
				goto done;
			continue;
		}
		if (c->off < c->len) {
			n = hsk_send(a->s, sd, c->buf + c->off, c->len - c->off);
			if (n == -HSK_EAGAIN)
				return;
			if (n < 0)
				goto done;
			c->off += (size_t)n;
			a->tx_bytes += (uint64_t)n;
			continue;
		}
		if (c->eof)
			goto done;
		n = hsk_recv(a->s, sd, c->svc->kind == S_ECHO ? c->buf : a->scratch, BUF);
		if (n == -HSK_EAGAIN)
			return;
		if (n < 0)
			goto done;
		if (n == 0) {
			c->eof = true;
			continue;
		}
		a->rx_bytes += (uint64_t)n;
		if (c->svc->kind == S_ECHO) {
			c->off = 0;
			c->len = (size_t)n;
		}
	}
	return;
done:
	conn_close(a, sd);
}

static void on_event(struct app *a, int sd)
{
	for (unsigned i = 0; i < a->nsvc; i++) {
		struct svc *v = &a->svc[i];
		int c;

		if (sd != v->lsd)
			continue;
		while ((c = hsk_accept(a->s, v->lsd, NULL)) >= 0) {
			struct conn *cn = calloc(1, sizeof(*cn));
			if ((unsigned)c >= a->nc || !cn ||
			    (v->kind == S_ECHO && !(cn->buf = malloc(BUF)))) {
				free(cn);
				hsk_abort(a->s, c);
				continue;
			}
			cn->svc = v;
			a->c[c] = cn;
			conn_serve(a, c);
		}
		return;
	}
	if ((unsigned)sd < a->nc && a->c[sd])
		conn_serve(a, sd);
}

static void events(struct app *a)
{
	hsk_event ev[64];
	size_t n;

	for (int round = 0; round < 64 && (n = hsk_stack_events(a->s, ev, 64)); round++)
		for (size_t i = 0; i < n; i++)
			on_event(a, ev[i].sd);
}

/* One turn: input from every queue, timers, events, then send. True when
 * a queue may have more waiting. */
static bool turn(struct app *a)
{
	hsk_pkt p[BATCH];
	bool more = false;

	a->now = hsk_now_ns();
	a->turns++;
	for (unsigned q = 0; q < a->nq; q++) {
		long n;

		dev_advance(a->dev[q], a->now);
		for (int round = 0; round < 4; round++) {
			n = dev_read_batch(a->dev[q], a->now, p, BATCH, a->scratch, sizeof(a->scratch));
			if (n < 0) {
				fprintf(stderr, "%s: %s\n", a->dev[q]->name, strerror((int)-n));
				exit(1);
			}
			for (long i = 0; i < n; i++) {
				a->rx_q[q]++;
				if (a->nq > 1 && steer_packet_queue(p[i].data, p[i].len, a->nq) != q)
					a->misqueued[q]++;
				hsk_stack_input(a->s, a->now, p[i].data, p[i].len);
			}
			if (n < BATCH)
				break;
			more = round == 3;
		}
	}
	hsk_stack_advance(a->s, a->now);
	events(a);
	for (unsigned q = 0; q < a->nq; q++)
		dev_flush(a->dev[q], a->now);
	return more;
}

static int timeout_ms(struct app *a, uint64_t end)
{
	uint64_t now = hsk_now_ns(), dl = hsk_stack_next_deadline(a->s);

	for (unsigned q = 0; q < a->nq; q++) {
		uint64_t d = dev_next_deadline(a->dev[q]);
		if (d < dl)
			dl = d;
	}
	if (end < dl)
		dl = end;
	if (dl <= now)
		return 0;
	return (int)((dl - now + 999999) / 1000000);
}

static void print_json(struct app *a, double secs)
{
	char feat[64];

	printf("{\"xdp_mode\":\"%s\",\"features\":\"%s\",\"seconds\":%.3f,\"conns\":%u,\"rx_bytes\":%" PRIu64
	       ",\"tx_bytes\":%" PRIu64 ",\"turns\":%" PRIu64 ",\"epoll_waits\":%" PRIu64 ",\"queues\":[",
	       xdp_mode(a->dev[0]) ? xdp_mode(a->dev[0]) : "", tun_features_str(tun_features(a->dev[0]), feat, sizeof(feat)), secs, a->closed,
	       a->rx_bytes, a->tx_bytes, a->turns, a->epoll_waits);
	for (unsigned q = 0; q < a->nq; q++) {
		const hsk_dev_stats *st = &a->dev[q]->st;
		printf("%s{\"name\":\"%s\",\"rx_packets\":%" PRIu64 ",\"rx_segs\":%" PRIu64
		       ",\"rx_gso\":%" PRIu64 ",\"rx_calls\":%" PRIu64 ",\"rx_csum\":%" PRIu64
		       ",\"rx_dropped\":%" PRIu64 ",\"tx_packets\":%" PRIu64 ",\"tx_segs\":%" PRIu64
		       ",\"tx_gso\":%" PRIu64 ",\"tx_calls\":%" PRIu64 ",\"tx_dropped\":%" PRIu64
		       ",\"misqueued\":%" PRIu64 "}",
		       q ? "," : "", a->dev[q]->name, st->rx_packets, st->rx_segs, st->rx_gso,
		       st->rx_calls, st->rx_csum, st->rx_dropped, st->tx_packets, st->tx_segs,
		       st->tx_gso, st->tx_calls, st->tx_dropped, a->misqueued[q]);
	}
	struct rusage ru;
	static const char *const counters[] = {
		"InCsumErrors", "InUnknownProtos", "RstSentNoSocket", "PassiveOpens", "RetransSegs",
	};
	getrusage(RUSAGE_SELF, &ru);
	printf("],\"cpu_user\":%.3f,\"cpu_sys\":%.3f",
	       (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		printf(",\"%s\":%" PRIu64, counters[i], hsk_counter_by_name(a->s, counters[i]));
	printf("}\n");
	fflush(stdout);
}

static int add_svc(struct app *a, int kind, const char *port, const char *file)
{
	struct svc *v = &a->svc[a->nsvc];

	if (a->nsvc == MAXSVC)
		return -1;
	v->kind = kind;
	v->port = (uint16_t)atoi(port);
	if (file) {
		struct stat st;
		int fd = open(file, O_RDONLY);
		if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0)
			return -1;
		v->file_len = (size_t)st.st_size;
		v->file = mmap(NULL, v->file_len, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (v->file == MAP_FAILED)
			return -1;
	}
	a->nsvc++;
	return 0;
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: hsk-devtest (--tun NAME [--offload LIST] [--deny LIST] [--uring]\n"
		"         [--queues N] [--steer] | --xdp IFNAME [--queues N] [--xdp-mode drv|skb] [--copy])\n"
		"       [--addr A/P] [--stack-mtu N] [--count N] [--seconds S]\n"
		"       (--discard PORT | --echo PORT | --send PORT FILE)...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct app a;
	const char *tun = NULL, *xdp = NULL, *addr = "198.18.0.2/24";
	tun_opts to = { 0 };
	xdp_opts xo = { 0 };
	unsigned prefix, queues = 1, seconds = 60, stack_mtu = 0;
	uint32_t us;
	char err[256];
	hsk_config cfg;
	hsk_link link = { &a, xmit };
	sigset_t set;
	int ep, sfd;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG() do { if (!v) usage(); i++; } while (0)
		if (!strcmp(o, "--tun")) { ARG(); tun = v; }
		else if (!strcmp(o, "--xdp")) { ARG(); xdp = v; }
		else if (!strcmp(o, "--offload")) { ARG(); if (tun_features_parse(v, &to.offload)) usage(); }
		else if (!strcmp(o, "--deny")) { ARG(); if (tun_features_parse(v, &to.probe_deny)) usage(); }
		else if (!strcmp(o, "--uring")) to.uring = true;
		else if (!strcmp(o, "--steer")) to.steer = true;
		else if (!strcmp(o, "--copy")) xo.force_copy = true;
		else if (!strcmp(o, "--xdp-mode")) { ARG(); xo.skb_mode = !strcmp(v, "skb"); }
		else if (!strcmp(o, "--queues")) { ARG(); queues = (unsigned)atoi(v); }
		else if (!strcmp(o, "--addr")) { ARG(); addr = v; }
		else if (!strcmp(o, "--stack-mtu")) { ARG(); stack_mtu = (unsigned)atoi(v); }
		else if (!strcmp(o, "--count")) { ARG(); a.count = (unsigned)atoi(v); }
		else if (!strcmp(o, "--seconds")) { ARG(); seconds = (unsigned)atoi(v); }
		else if (!strcmp(o, "--discard")) { ARG(); if (add_svc(&a, S_DISCARD, v, NULL)) usage(); }
		else if (!strcmp(o, "--echo")) { ARG(); if (add_svc(&a, S_ECHO, v, NULL)) usage(); }
		else if (!strcmp(o, "--send")) {
			if (i + 2 >= argc || add_svc(&a, S_SEND, argv[i + 1], argv[i + 2]))
				usage();
			i += 2;
		} else usage();
	}
	if (!!tun == !!xdp || !a.nsvc || queues < 1 || queues > MAXQ ||
	    hsk_parse_cidr(addr, &us, &prefix) < 0)
		usage();
	a.nq = queues;
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
	uint32_t host = (us & mask) + 1 == us ? (us & mask) + 2 : (us & mask) + 1;
	if (tun) {
		to.queues = queues;
		to.stack_mtu = stack_mtu;
		if (queues > 1 || to.steer) {
			if (tun_mq_open(tun, host, prefix, &to, a.dev, err, sizeof(err)) < 0) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
		} else if (!(a.dev[0] = tun_open_opts(tun, host, prefix, &to, err, sizeof(err)))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	} else {
		xo.queues = queues;
		xo.addr = us;
		xo.prefix = prefix;
		if (xdp_open(xdp, &xo, a.dev, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	}
	hsk_config_default(&cfg);
	cfg.addr = us;
	cfg.prefix_len = (uint8_t)prefix;
	cfg.mtu = (uint16_t)(a.dev[0]->mtu > 65535 ? 65535 : a.dev[0]->mtu);
	a.now = hsk_now_ns();
	if (!(a.s = hsk_stack_new(&cfg, &link, a.now))) {
		fprintf(stderr, "hsk_stack_new failed\n");
		return 1;
	}
	a.nc = cfg.max_sockets;
	a.c = calloc(a.nc, sizeof(*a.c));
	for (unsigned i = 0; i < a.nsvc; i++) {
		struct svc *v = &a.svc[i];
		v->lsd = hsk_socket(a.s);
		if (hsk_bind(a.s, v->lsd, 0, v->port) < 0 || hsk_listen(a.s, v->lsd, 4096) < 0) {
			fprintf(stderr, "cannot listen on %u\n", v->port);
			return 1;
		}
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (unsigned q = 0; q <= a.nq; q++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = q };
		epoll_ctl(ep, EPOLL_CTL_ADD, q < a.nq ? a.dev[q]->fd : sfd, &ev);
	}
	{
		char feat[64];
		printf("listening on %s, %u queue(s) of %s, mtu %u, features %s%s%s\n", addr, a.nq,
		       a.dev[0]->name, cfg.mtu, tun_features_str(tun_features(a.dev[0]), feat, sizeof(feat)),
		       xdp_mode(a.dev[0]) ? ", xdp " : "", xdp_mode(a.dev[0]) ? xdp_mode(a.dev[0]) : "");
		fflush(stdout);
	}
	uint64_t t0 = hsk_now_ns(), end = t0 + seconds * 1000000000ull, linger = UINT64_MAX;
	bool more = false;
	for (;;) {
		struct epoll_event ev[MAXQ + 1];
		int n;
		hsk_usage u;

		a.epoll_waits++;
		n = epoll_wait(ep, ev, MAXQ + 1, more ? 0 : timeout_ms(&a, end < linger ? end : linger));
		for (int i = 0; i < n; i++)
			if (ev[i].data.u32 == a.nq)
				goto out;
		more = turn(&a);
		if (hsk_now_ns() >= end)
			break;
		if (a.count && a.closed >= a.count) {
			/* let the last closes finish: FINs acknowledged */
			if (linger == UINT64_MAX)
				linger = hsk_now_ns() + 3000000000ull;
			hsk_stack_usage(a.s, &u);
			if ((u.tcbs == 0 && u.requests == 0) || hsk_now_ns() >= linger)
				break;
		}
	}
out:
	print_json(&a, (double)(hsk_now_ns() - t0) / 1e9);
	for (unsigned q = 0; q < a.nq; q++)
		dev_close(a.dev[q]);
	hsk_stack_free(a.s);
	for (unsigned i = 0; i < a.nc; i++)
		if (a.c[i]) {
			free(a.c[i]->buf);
			free(a.c[i]);
		}
	free(a.c);
	close(ep);
	close(sfd);
	return 0;
}
