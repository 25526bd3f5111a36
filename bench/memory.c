/*
 * Memory per connection object: the sizes of the internal structs, and
 * what N objects really cost, measured as the growth of this process's
 * resident set (VmRSS) divided by the number of objects. Each mode runs in
 * its own process so that one measurement does not inherit another's heap.
 *
 *   memory sizes          sizeof the TCB, request, TIME_WAIT entry, socket
 *   memory idle N         N idle established connections between two stacks
 *                         (2N connection ends, no data ever sent)
 *   memory used N         the same, after a 64-byte request and response on
 *                         each (all read: nothing buffered)
 *   memory synq N         N SYN-queue requests: a SYN flood from N distinct
 *                         sources, syncookies off, backlog N
 *   memory tw N           N TIME_WAIT entries: N lifecycles with the clock
 *                         standing still (the client keeps every entry)
 *
 * The RSS delta counts everything the objects make the stack allocate: the
 * pools, the growth of the 4-tuple table and of the socket array, timer
 * wheel slots, buffers. Before the baseline the memnet's packet pool is
 * filled beyond what the batches below need, so it is not counted.
 */
#include "bench.h"
#include "core/stack.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

enum { BATCH = 64, PORTS_PER_LISTENER = 20000, PORT0 = 1000 };

static hsk_config big_cfg(unsigned n)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.max_sockets = 2 * n + 64;
	cfg.max_conns = 2 * n + 64;
	cfg.somaxconn = n + 64;
	cfg.max_syn_backlog = n + 64;
	cfg.max_tw_buckets = n + 64;
	return cfg;
}

static void sink(void *ctx, uint64_t now, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)now, (void)pkt, (void)len;
}

/* Fills the memnet's packet free list with `count` 2 KiB buffers. */
static void warm_memnet(bench_pair *p, int count)
{
	hsk_link link;
	int h = memnet_add_host(p->net, 0xc6120003u, &link);
	if (h < 0)
		bench_die("memnet_add_host", h);
	memnet_set_sink(p->net, h, sink, NULL);
	uint8_t pkt[1500] = { 0x45 };
	pkt[16] = 198, pkt[17] = 18, pkt[18] = 0, pkt[19] = 3;
	for (int i = 0; i < count; i++)
		link.transmit(link.ctx, pkt, sizeof(pkt));
	bench_pump(p);
}

static int listen_ports(bench_pair *p, unsigned n, int *lsd)
{
	int nl = (int)((n + PORTS_PER_LISTENER - 1) / PORTS_PER_LISTENER);
	for (int i = 0; i < nl; i++) {
		lsd[i] = hsk_socket(p->s);
		if (lsd[i] < 0 || hsk_bind(p->s, lsd[i], 0, (uint16_t)(PORT0 + i)) ||
		    hsk_listen(p->s, lsd[i], (int)n + 64))
			bench_die("listen", lsd[i]);
	}
	return nl;
}

static void report(const char *what, long rss0, long rss1, double objs, size_t counted)
{
	printf("mem_%s_n %.0f\n", what, objs);
	printf("mem_%s_counted %zu\n", what, counted);
	printf("mem_%s_rss_delta %ld\n", what, rss1 - rss0);
	printf("mem_%s_bytes %.1f\n", what, (double)(rss1 - rss0) / objs);
}

static int idle(unsigned n, bool used)
{
	hsk_config cfg = big_cfg(n);
	bench_pair p;
	bench_pair_init(&p, &cfg);
	warm_memnet(&p, 8 * BATCH);
	int lsd[64];
	int nl = listen_ports(&p, n, lsd);
	static uint8_t msg[64], buf[128];
	long rss0 = bench_rss();
	int *cs = malloc(BATCH * sizeof(int)), *ss = malloc(BATCH * sizeof(int));
	for (unsigned done = 0; done < n;) {
		unsigned b = n - done < BATCH ? n - done : BATCH;
		int port = (int)(done / PORTS_PER_LISTENER);
		for (unsigned i = 0; i < b; i++) {
			cs[i] = hsk_socket(p.c);
			long r = cs[i] < 0 ? cs[i] :
				 hsk_connect(p.c, cs[i], BENCH_SERVER_ADDR, (uint16_t)(PORT0 + port));
			if (r != -HSK_EINPROGRESS)
				bench_die("connect", r);
		}
		bench_pump(&p);
		for (unsigned i = 0; i < b; i++)
			if ((ss[i] = hsk_accept(p.s, lsd[port], NULL)) < 0)
				bench_die("accept", ss[i]);
		if (used) {
			for (unsigned i = 0; i < b; i++)
				hsk_send(p.c, cs[i], msg, sizeof(msg));
			bench_pump(&p);
			for (unsigned i = 0; i < b; i++) {
				hsk_recv(p.s, ss[i], buf, sizeof(buf));
				hsk_send(p.s, ss[i], msg, sizeof(msg));
			}
			bench_pump(&p);
			for (unsigned i = 0; i < b; i++)
				hsk_recv(p.c, cs[i], buf, sizeof(buf));
		}
		bench_drain_events(&p);
		done += b;
	}
	(void)nl;
	long rss1 = bench_rss();
	hsk_usage uc, us;
	hsk_stack_usage(p.c, &uc);
	hsk_stack_usage(p.s, &us);
	report(used ? "used" : "idle", rss0, rss1, 2.0 * n, uc.tcbs + us.tcbs);
	printf("mem_%s_buffer_bytes %zu\n", used ? "used" : "idle",
	       uc.buffer_bytes + us.buffer_bytes);
	free(cs);
	free(ss);
	bench_pair_free(&p);
	return 0;
}

static unsigned long sent_pkts;
static void count_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)pkt, (void)len;
	sent_pkts++;
}

/* A SYN as Linux sends it (MSS, SACK permitted, timestamps, window scale)
 * from 10.x.y.z:port to the server; returns its length. */
static size_t craft_syn(uint8_t *pkt, size_t cap, uint32_t src, uint16_t sport,
			uint32_t dst, uint16_t dport, uint32_t isn)
{
	tcp_hdr th = { .sport = sport, .dport = dport, .seq = isn, .flags = HSK_TH_SYN,
		       .win = 64240 };
	th.opt.mss = 1460;
	th.opt.wscale = 7;
	th.opt.sack_ok = true;
	th.opt.has_ts = true;
	th.opt.ts_val = isn ^ 0x5a5a;
	int n = tcp_emit(&th, NULL, 0, src, dst, pkt + IPV4_HDR_LEN, cap - IPV4_HDR_LEN);
	if (n <= 0)
		bench_die("tcp_emit", n);
	ipv4_hdr ih = { .total_len = (uint16_t)(IPV4_HDR_LEN + n), .ttl = 64,
			.proto = IP_PROTO_TCP, .src = src, .dst = dst };
	if (ipv4_emit(&ih, pkt, IPV4_HDR_LEN) != IPV4_HDR_LEN)
		bench_die("ipv4_emit", 0);
	return (size_t)(IPV4_HDR_LEN + n);
}

static int synq(unsigned n)
{
	hsk_config cfg = big_cfg(n);
	cfg.syncookies = false;
	cfg.addr = BENCH_SERVER_ADDR;
	hsk_link link = { NULL, count_tx };
	uint64_t now = BENCH_SEC;
	hsk_stack *s = hsk_stack_new(&cfg, &link, now);
	if (!s)
		bench_die("hsk_stack_new", 0);
	int l = hsk_socket(s);
	if (l < 0 || hsk_bind(s, l, 0, 80) || hsk_listen(s, l, (int)n + 64))
		bench_die("listen", l);
	uint8_t pkt[128];
	long rss0 = bench_rss();
	for (unsigned i = 0; i < n; i++) {
		uint32_t src = 0x0a000000u + (i >> 8) + 1;
		size_t len = craft_syn(pkt, sizeof(pkt), src, (uint16_t)(10000 + (i & 255)),
				       BENCH_SERVER_ADDR, 80, i * 2654435761u);
		hsk_stack_input(s, now, pkt, len);
	}
	long rss1 = bench_rss();
	hsk_usage u;
	hsk_stack_usage(s, &u);
	report("synq", rss0, rss1, n, u.requests);
	printf("mem_synq_synacks %lu\n", sent_pkts);
	hsk_stack_free(s);
	return 0;
}

static int tw(unsigned n)
{
	hsk_config cfg = big_cfg(n);
	bench_pair p;
	bench_pair_init(&p, &cfg);
	warm_memnet(&p, 8 * BATCH);
	int lsd[64];
	listen_ports(&p, n, lsd);
	/* warm the TCB pool and the socket arrays with one lifecycle */
	int bad = bench_lifecycle(&p, lsd[0], PORT0);
	long rss0 = bench_rss();
	for (unsigned i = 1; i < n; i++) {
		int port = (int)(i / PORTS_PER_LISTENER);
		bad += bench_lifecycle(&p, lsd[port], (uint16_t)(PORT0 + port));
	}
	long rss1 = bench_rss();
	hsk_usage u;
	hsk_stack_usage(p.c, &u);
	report("tw", rss0, rss1, n - 1, u.timewaits);
	printf("mem_tw_errors %d\n", bad);
	bench_pair_free(&p);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "sizes";
	unsigned n = argc > 2 ? (unsigned)atol(argv[2]) : 100000;
	if (n < 2 || n > 1000000)
		bench_die("N out of range", n);
	if (!strcmp(mode, "idle"))
		return idle(n, false);
	if (!strcmp(mode, "used"))
		return idle(n, true);
	if (!strcmp(mode, "synq"))
		return synq(n);
	if (!strcmp(mode, "tw"))
		return tw(n);
	printf("size_tcb %zu\n", sizeof(tcb));
	printf("size_req %zu\n", sizeof(tcp_req));
	printf("size_tw %zu\n", sizeof(tcp_tw));
	printf("size_sock %zu\n", sizeof(hsk_sock));
	printf("size_sack %zu\n", sizeof(tcp_sack));
	printf("size_listener %zu\n", sizeof(tcp_listener));
	return 0;
}
