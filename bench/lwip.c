/*
 * lwIP 2.1.3 on the same workloads as handshake's benchmarks, measured in
 * the same run (scripts/bench.sh). Built twice from this one file: against
 * Debian's liblwip.so (keys lwipd_*) and against lwIP compiled from
 * Debian's source package with bench/lwip/lwipopts.h (keys lwips_*).
 *
 * The wiring is handshake's direct one (bench.h): lwIP has one global
 * instance, so its "two stacks" are two netifs of it, 198.18.0.1 (client)
 * and 198.18.0.2 (server), each pcb bound to its netif (tcp_bind_netif, so
 * no routing picks the other one). A netif's output copies the packet once
 * into a buffer of ours and queues it; the driver hands it to the other
 * netif's input as a custom pbuf over that buffer, which lwIP gives back
 * when it frees the pbuf: one copy per packet and no malloc, as for
 * handshake. The raw API runs on this one thread without lwIP's tcpip
 * thread; lwIP's TCP clock (tcp_ticks, sys_now) is ours and stands still
 * unless a benchmark moves it. A small socket layer on top (lend) keeps
 * received pbufs until the application reads them, as netconn would.
 *
 *   lwip lc [--batch B] [--key K] [SECONDS [MAX] | --callgrind N]
 *       lifecycles of the same shape as bench/lifecycle.c: connect,
 *       accept, 64-byte request and response, the client closes first, the
 *       server reads EOF and closes; after every B (64) lifecycles lwIP's
 *       TCP clock jumps by 2*MSL and tcp_slowtmr reaps TIME_WAIT; built
 *       with -DBENCH_STEPS, the same step marks as bench_lifecycle's
 *   lwip bulk [--key K] MTU [SECONDS [MAX_BYTES] | --callgrind BYTES]
 *       bench/bulk.c's loop: 64 KiB writes until the send buffer is full,
 *       deliver, read everything in 64 KiB reads, deliver, repeat
 *   lwip mem N
 *       N idle established connections (2N ends), nothing sent: the growth
 *       of the memory handed out per end; Debian's build allocates with
 *       malloc (glibc's count, bench_heap), the build from source from
 *       lwIP's own pools and heap (their statistics)
 */
#include <stdbool.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/memp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"

#include "util.h"

#ifndef LWIP_KEY
#define LWIP_KEY "lwipd"
#endif

enum { PORT = 80, BULK_PORT = 5001, CHUNK = 65536, QCAP = 1 << 16, MAX_MEM_N = 16000 };

/* lwIP's clock for NO_SYS builds (Debian's .so has its own, unused here:
 * its timeouts never run) */
static u32_t now_ms = 1000;
#if NO_SYS
u32_t sys_now(void)
{
	return now_ms;
}
#endif

/* ---- the wire: two netifs, a FIFO of packets between them ---- */

typedef struct rxbuf {
	struct pbuf_custom pc; /* first: lwIP frees through it */
	struct rxbuf *next;
	uint8_t data[];
} rxbuf;

typedef struct wire {
	struct netif nif[2]; /* 0 client, 1 server */
	u16_t mtu;
	rxbuf *free;
	struct pbuf *q[QCAP];
	uint8_t to[QCAP];
	size_t qhead, qlen;
	unsigned long sent, dropped, bufs;
} wire;
static wire W;

static void rx_free(struct pbuf *p)
{
	rxbuf *b = (rxbuf *)(void *)p;
	b->next = W.free;
	W.free = b;
}

static rxbuf *rx_get(void)
{
	rxbuf *b = W.free;
	if (b) {
		W.free = b->next;
		return b;
	}
	b = malloc(sizeof(*b) + W.mtu);
	if (!b)
		return NULL;
	b->pc.custom_free_function = rx_free;
	W.bufs++;
	return b;
}

/* Buffers made ahead, so that a measurement does not count them. */
static void rx_warm(int n)
{
	rxbuf *b[1024];
	if (n > 1024)
		n = 1024;
	for (int i = 0; i < n; i++)
		b[i] = rx_get();
	for (int i = 0; i < n; i++)
		if (b[i])
			rx_free(&b[i]->pc.pbuf);
}

static err_t wire_output(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst)
{
	(void)dst;
	W.sent++;
	rxbuf *b = p->tot_len <= W.mtu && W.qlen < QCAP ? rx_get() : NULL;
	if (!b) {
		W.dropped++;
		return ERR_OK; /* a lost packet, as on a real link */
	}
	pbuf_copy_partial(p, b->data, p->tot_len, 0);
	struct pbuf *q = pbuf_alloced_custom(PBUF_RAW, p->tot_len, PBUF_REF, &b->pc,
					     b->data, W.mtu);
	size_t i = (W.qhead + W.qlen++) % QCAP;
	W.q[i] = q;
	W.to[i] = nif == &W.nif[0];
	return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
	n->name[0] = 'b';
	n->name[1] = n == &W.nif[0] ? 'c' : 's';
	n->output = wire_output;
	n->mtu = W.mtu;
	return ERR_OK;
}

static ip_addr_t addr_of(int i)
{
	ip_addr_t a;
	IP_ADDR4(&a, 198, 18, 0, i ? 2 : 1);
	return a;
}

static void wire_init(u16_t mtu)
{
	memset(&W, 0, sizeof(W));
	W.mtu = mtu;
	lwip_init();
	for (int i = 0; i < 2; i++) {
		ip_addr_t a = addr_of(i), mask, gw = addr_of(!i);
		IP_ADDR4(&mask, 255, 255, 255, 255);
		if (!netif_add(&W.nif[i], ip_2_ip4(&a), ip_2_ip4(&mask), ip_2_ip4(&gw), NULL,
			       nif_init, ip_input))
			bench_die("netif_add", i);
		netif_set_up(&W.nif[i]);
		netif_set_link_up(&W.nif[i]);
	}
}

/* Delivers everything queued, and what that makes the stacks send. */
static void pump(void)
{
	for (long i = 0; i < 10000000 && W.qlen; i++) {
		struct pbuf *p = W.q[W.qhead];
		struct netif *n = &W.nif[W.to[W.qhead]];
		W.qhead = (W.qhead + 1) % QCAP;
		W.qlen--;
		if (n->input(p, n) != ERR_OK)
			pbuf_free(p);
	}
}

/* ---- a connection end, as a socket layer holds it ---- */

typedef struct lend {
	struct tcp_pcb *pcb;
	struct pbuf **rxq; /* received chains not yet read, a ring */
	unsigned rcap, rhead, rlen;
	u16_t roff;        /* bytes of rxq[rhead] already read */
	bool eof, err;
} lend;

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	lend *e = arg;
	(void)pcb, (void)err;
	if (!p) {
		e->eof = true;
		return ERR_OK;
	}
	if (e->rlen == e->rcap) {
		unsigned cap = e->rcap ? 2 * e->rcap : 16;
		struct pbuf **q = malloc(cap * sizeof(*q));
		if (!q)
			return ERR_MEM; /* lwIP keeps it and offers it again */
		for (unsigned i = 0; i < e->rlen; i++)
			q[i] = e->rxq[(e->rhead + i) % e->rcap];
		free(e->rxq);
		e->rxq = q, e->rcap = cap, e->rhead = 0;
	}
	e->rxq[(e->rhead + e->rlen++) % e->rcap] = p;
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	lend *e = arg;
	(void)err;
	if (e) {
		e->err = true;
		e->pcb = NULL; /* lwIP has freed it */
	}
}

static void lend_attach(lend *e, struct tcp_pcb *pcb)
{
	e->pcb = pcb;
	e->rhead = e->rlen = e->roff = 0;
	e->eof = e->err = false;
	tcp_arg(pcb, e);
	tcp_recv(pcb, on_recv);
	tcp_err(pcb, on_err);
}

/* Like recv(): bytes read, 0 at EOF, -1 when nothing is there yet. */
static long lread(lend *e, uint8_t *buf, size_t cap)
{
	size_t got = 0;
	while (got < cap && e->rlen) {
		struct pbuf *p = e->rxq[e->rhead];
		size_t want = cap - got, left = p->tot_len - e->roff;
		u16_t n = pbuf_copy_partial(p, buf + got, (u16_t)(want < left ? want : left), e->roff);
		got += n;
		e->roff = (u16_t)(e->roff + n);
		if (e->roff == p->tot_len) {
			pbuf_free(p);
			e->rhead = (e->rhead + 1) % e->rcap;
			e->rlen--;
			e->roff = 0;
		}
	}
	for (size_t left = got; left && e->pcb;) { /* tcp_recved takes a u16_t */
		u16_t n = left > 0xffff ? 0xffff : (u16_t)left;
		tcp_recved(e->pcb, n);
		left -= n;
	}
	return got ? (long)got : e->eof ? 0 : -1;
}

/* Like send(): bytes queued (fewer when the send buffer is short), then
 * tcp_output, as lwIP's socket layer does after a write; -1 when full. */
static long lwrite(lend *e, const uint8_t *d, size_t len)
{
	size_t done = 0;
	while (done < len) {
		size_t n = len - done, room = tcp_sndbuf(e->pcb);
		if (n > 32768) /* tcp_write takes a u16_t */
			n = 32768;
		if (n > room)
			n = room;
		if (!n || tcp_write(e->pcb, d + done, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		done += n;
	}
	if (done)
		tcp_output(e->pcb);
	return done ? (long)done : -1;
}

static int lclose(lend *e)
{
	while (e->rlen) {
		pbuf_free(e->rxq[e->rhead]);
		e->rhead = (e->rhead + 1) % e->rcap;
		e->rlen--;
	}
	if (!e->pcb)
		return -1;
	tcp_arg(e->pcb, NULL);
	tcp_recv(e->pcb, NULL);
	tcp_err(e->pcb, NULL);
	err_t r = tcp_close(e->pcb);
	e->pcb = NULL;
	return r;
}

/* The listener hands each new connection the next free slot. */
typedef struct acceptor {
	lend *slot;
	unsigned n, cap;
} acceptor;

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	acceptor *a = arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	if (a->n == a->cap) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	lend_attach(&a->slot[a->n++], pcb);
	return ERR_OK;
}

static struct tcp_pcb *listen_on(u16_t port, acceptor *a)
{
	ip_addr_t srv = addr_of(1);
	struct tcp_pcb *l = tcp_new();
	if (!l)
		bench_die("tcp_new", 0);
	tcp_bind_netif(l, &W.nif[1]);
	if (tcp_bind(l, &srv, port) != ERR_OK)
		bench_die("tcp_bind", port);
	l = tcp_listen_with_backlog(l, 128);
	if (!l)
		bench_die("tcp_listen", port);
	tcp_arg(l, a);
	tcp_accept(l, on_accept);
	return l;
}

/* A client end connecting to the server's port; -1 on failure. */
static int lconnect(lend *c, u16_t port)
{
	ip_addr_t srv = addr_of(1);
	struct tcp_pcb *pcb = tcp_new();
	if (!pcb)
		return -1;
	tcp_bind_netif(pcb, &W.nif[0]);
	lend_attach(c, pcb);
	if (tcp_connect(pcb, &srv, port, NULL) != ERR_OK) {
		lclose(c);
		return -1;
	}
	return 0;
}

/* ---- the benchmarks ---- */

/* lwIP's TCP clock jumps by 2*MSL: tcp_slowtmr reaps every TIME_WAIT pcb,
 * as handshake's clock jump after a batch does. */
static void jump_2msl(void)
{
	now_ms += 2 * TCP_MSL + 1000;
	tcp_ticks += 2 * TCP_MSL / TCP_SLOW_INTERVAL + 2;
	tcp_slowtmr();
}

static int lifecycle(acceptor *a, lend *c)
{
	static uint8_t req[64], resp[64], buf[128];
	int bad = 0;
	a->n = 0;
	BENCH_STEP("00 between lifecycles");
	if (lconnect(c, PORT))
		return 1;
	BENCH_STEP("02 connect: SYN out");
	pump();
	BENCH_STEP("03 SYN, SYN-ACK, ACK through");
	if (a->n != 1 || !c->pcb) {
		if (c->pcb)
			tcp_abort(c->pcb);
		c->pcb = NULL;
		pump();
		return bad + 1;
	}
	lend *s = &a->slot[0];
	bad += lwrite(c, req, sizeof(req)) != (long)sizeof(req);
	BENCH_STEP("05 client send: request out");
	pump();
	BENCH_STEP("06 request in, its ACK through");
	bad += lread(s, buf, sizeof(buf)) != (long)sizeof(req);
	BENCH_STEP("07 server recv");
	bad += lwrite(s, resp, sizeof(resp)) != (long)sizeof(resp);
	BENCH_STEP("08 server send: response out");
	pump();
	BENCH_STEP("09 response in");
	bad += lread(c, buf, sizeof(buf)) != (long)sizeof(resp);
	BENCH_STEP("10 client recv");
	bad += lclose(c) != 0;
	BENCH_STEP("11 client close: FIN out");
	pump();
	BENCH_STEP("12 FIN in, its ACK through");
	bad += lread(s, buf, sizeof(buf)) != 0;
	BENCH_STEP("13 server recv: end of stream");
	bad += lclose(s) != 0;
	BENCH_STEP("14 server close: FIN out");
	pump();
	BENCH_STEP("15 FIN in, its ACK through");
	return bad;
}

static int run_batch(acceptor *a, lend *c, long n)
{
	int bad = 0;
	for (long i = 0; i < n; i++)
		bad += lifecycle(a, c);
	jump_2msl();
	BENCH_STEP("17 TIME_WAIT reaped");
	return bad;
}

static size_t pcbs_left(void)
{
	size_t n = 0;
	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
		n++;
	for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next)
		n++;
	return n;
}

static int lc_main(int argc, char **argv)
{
	long batch = 64, cg = 0;
	const char *k = LWIP_KEY "_lc";
	for (; argc > 1 && !strncmp(argv[1], "--", 2); argc--, argv++) {
		if (!strcmp(argv[1], "--batch") && argc > 2)
			batch = atol(argv[2]), argc--, argv++;
		else if (!strcmp(argv[1], "--key") && argc > 2)
			k = argv[2], argc--, argv++;
		else if (!strcmp(argv[1], "--callgrind") && argc > 2)
			cg = atol(argv[2]), argc--, argv++;
		else
			bench_die("unknown option", 0);
	}
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	long max = argc > 2 ? atol(argv[2]) : 100000000L;
	if (batch < 1)
		batch = 1;
	wire_init(1500);
	static lend server, client;
	acceptor a = { &server, 0, 1 };
	struct tcp_pcb *l = listen_on(PORT, &a);

	int bad = run_batch(&a, &client, batch); /* warm-up */
	unsigned long pk0 = W.sent;
	long done = 0;
	double t0 = bench_wall(), t1;
	if (cg) {
		CALLGRIND_TOGGLE_COLLECT;
		BENCH_STEPS_ON(1);
		for (; done < cg; done += batch)
			bad += run_batch(&a, &client, cg - done < batch ? cg - done : batch);
		BENCH_STEPS_ON(0);
		CALLGRIND_TOGGLE_COLLECT;
		done = cg;
	} else {
		do {
			long n = max - done < batch ? max - done : batch;
			bad += run_batch(&a, &client, n);
			done += n;
		} while (done < max && bench_wall() - t0 < secs);
	}
	t1 = bench_wall();
	printf("%s_count %ld\n", k, done);
	printf("%s_secs %.6f\n", k, t1 - t0);
	printf("%s_rate %.1f\n", k, (double)done / (t1 - t0));
	printf("%s_us %.3f\n", k, (t1 - t0) * 1e6 / (double)done);
	printf("%s_pkts %.2f\n", k, (double)(W.sent - pk0) / (double)done);
	printf("%s_errors %lu\n", k, (unsigned long)bad + W.dropped);
	printf("%s_leftover %zu\n", k, pcbs_left());
	tcp_close(l);
	free(server.rxq);
	free(client.rxq);
	return 0;
}

static int bulk_main(int argc, char **argv)
{
	double cg = 0;
	const char *k = NULL;
	char key[64];
	for (; argc > 1 && !strncmp(argv[1], "--", 2); argc--, argv++) {
		if (!strcmp(argv[1], "--key") && argc > 2)
			k = argv[2], argc--, argv++;
		else if (!strcmp(argv[1], "--callgrind") && argc > 2)
			cg = atof(argv[2]), argc--, argv++;
		else
			bench_die("unknown option", 0);
	}
	unsigned mtu = argc > 1 ? (unsigned)atoi(argv[1]) : 1500;
	double secs = cg ? 1e9 : argc > 2 ? atof(argv[2]) : 2.0;
	double maxb = cg ? cg : argc > 3 ? atof(argv[3]) : 1073741824.0;
	if (!k) {
		snprintf(key, sizeof(key), LWIP_KEY "_bulk%u", mtu);
		k = key;
	}
	if (mtu < 576 || mtu > 65535)
		bench_die("MTU", mtu);
	wire_init((u16_t)mtu);
	static lend server, client;
	acceptor a = { &server, 0, 1 };
	struct tcp_pcb *l = listen_on(BULK_PORT, &a);
	if (lconnect(&client, BULK_PORT))
		bench_die("connect", 0);
	pump();
	if (a.n != 1)
		bench_die("accept", 0);
	int mss = client.pcb->mss;

	static uint8_t out[CHUNK], in[CHUNK];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7);
	double moved = 0, t0 = bench_wall(), t1 = t0;
	long stalls = 0, iters = 0, bad = 0;
	unsigned long pk0 = W.sent;
	if (cg)
		CALLGRIND_TOGGLE_COLLECT;
	while (moved < maxb && stalls < 100000) {
		long progress = 0, n;
		for (int i = 0; i < 1024 && (n = lwrite(&client, out, CHUNK)) > 0; i++)
			progress += n;
		pump();
		for (int i = 0; i < 1024 && (n = lread(&server, in, CHUNK)) > 0; i++) {
			progress += n;
			moved += (double)n;
		}
		pump();
		if (client.err || server.err) {
			bad++;
			break;
		}
		if (!progress) { /* lwIP's timers run every 250 ms */
			stalls++;
			now_ms += TCP_TMR_INTERVAL;
			tcp_tmr();
			pump();
		}
		if ((++iters & 15) == 0 && (t1 = bench_wall()) - t0 >= secs)
			break;
	}
	if (cg)
		CALLGRIND_TOGGLE_COLLECT;
	t1 = bench_wall();
	printf("%s_mss %d\n", k, mss);
	printf("%s_bytes %.0f\n", k, moved);
	printf("%s_secs %.6f\n", k, t1 - t0);
	printf("%s_gbps %.3f\n", k, moved * 8 / (t1 - t0) / 1e9);
	printf("%s_pkts %lu\n", k, W.sent - pk0);
	printf("%s_stalls %ld\n", k, stalls);
	printf("%s_errors %lu\n", k, (unsigned long)bad + W.dropped);
	lclose(&client);
	lclose(&server);
	pump();
	tcp_close(l);
	free(server.rxq);
	free(client.rxq);
	return 0;
}

/* Bytes lwIP's allocators have handed out. */
static long lwip_heap(void)
{
#if MEMP_MEM_MALLOC || !MEM_STATS || !MEMP_STATS
	return bench_heap();
#else
	long n = (long)lwip_stats.mem.used;
	for (int i = 0; i < MEMP_MAX; i++)
		n += (long)lwip_stats.memp[i]->used * (long)memp_pools[i]->size;
	return n;
#endif
}

static int mem_main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000;
	if (n < 1 || n > MAX_MEM_N) /* one client address: 16,384 ephemeral ports */
		bench_die("N out of range (1..16000)", n);
	wire_init(1500);
	lend *cs = calloc((size_t)n, sizeof(*cs)), *ss = calloc((size_t)n, sizeof(*ss));
	if (!cs || !ss)
		bench_die("calloc", n);
	acceptor a = { ss, 0, (unsigned)n };
	struct tcp_pcb *l = listen_on(PORT, &a);
	rx_warm(512);
	/* lwIP's first active pcb registers its TCP timer (a sys_timeout
	 * entry): let one connection come and go before the baseline */
	{
		static lend c0, s0;
		acceptor a0 = { &s0, 0, 1 };
		tcp_arg(l, &a0);
		if (lifecycle(&a0, &c0))
			bench_die("first lifecycle", 0);
		jump_2msl();
		tcp_arg(l, &a);
		free(c0.rxq);
		free(s0.rxq);
	}
	long heap0 = lwip_heap(), rss0 = bench_rss();
	long bad = 0;
	for (long done = 0; done < n;) {
		long b = n - done < 64 ? n - done : 64;
		for (long i = 0; i < b; i++)
			bad += lconnect(&cs[done + i], PORT) != 0;
		pump();
		done += b;
	}
	long heap1 = lwip_heap(), rss1 = bench_rss();
	bad += (long)a.n != n;
	for (long i = 0; i < n; i++)
		bad += !cs[i].pcb || cs[i].pcb->state != ESTABLISHED;
	printf(LWIP_KEY "_mem_n %ld\n", n);
	printf(LWIP_KEY "_mem_idle_bytes %.1f\n", (double)(heap1 - heap0) / (2.0 * (double)n));
	printf(LWIP_KEY "_mem_idle_rss_bytes %.1f\n", (double)(rss1 - rss0) / (2.0 * (double)n));
	printf(LWIP_KEY "_size_pcb %zu\n", sizeof(struct tcp_pcb));
	printf(LWIP_KEY "_mem_errors %ld\n", bad + (long)W.dropped);
	for (long i = 0; i < n; i++) {
		if (cs[i].pcb)
			tcp_abort(cs[i].pcb);
		if (ss[i].pcb)
			tcp_abort(ss[i].pcb);
	}
	pump();
	tcp_close(l);
	free(cs);
	free(ss);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "lc"))
		return lc_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "bulk"))
		return bulk_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "mem"))
		return mem_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: %s lc|bulk|mem ... (see bench/lwip.c)\n", argv[0]);
	return 2;
}
