/*
 * Memory per connection object: the sizes of the internal structs, and
 * what N objects really cost, measured as the growth of the heap in use
 * (glibc's count, bench_heap in util.h) divided by the number of objects;
 * the growth of the resident set (VmRSS) is printed beside it. Each mode
 * runs in its own process so that one measurement does not inherit
 * another's heap.
 *
 *   memory sizes          sizeof the TCB, request, TIME_WAIT entry, socket
 *   memory idle N         N idle established connections between two stacks
 *                         (2N connection ends, no data ever sent)
 *   memory used N         the same, after a 64-byte request and response on
 *                         each (all read and, after 200 ms of virtual time
 *                         for the delayed ACKs, all acknowledged)
 *   memory synq N         N SYN-queue requests: a SYN flood from N distinct
 *                         sources, syncookies off, backlog N
 *   memory tw N           N TIME_WAIT entries: N lifecycles with the clock
 *                         standing still (the client keeps every entry)
 *   memory --ipv6 MODE N  idle, used, synq or tw over IPv6 (2001:2::/48;
 *                         the SYN flood from 2001:2:0:1::/64): keys mem6_*
 *
 * N has no upper bound here but the machine's memory (10 M connections is
 * issue 7's aim). The delta counts everything the objects make the stack
 * allocate: the pools, the growth of the 4-tuple table and of the socket
 * array, timer wheel slots, buffers. The two stacks are wired directly
 * (bench.h), whose FIFO is allocated before the baseline.
 */
#include "bench.h"
#include "stack/stack.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

enum { BATCH = 64, PORTS_PER_LISTENER = 20000, PORT0 = 1000 };

static bool v6;            /* --ipv6 */
static const char *pfx = "mem";

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

/* One listener per PORTS_PER_LISTENER connections: the client's ephemeral
 * ports run out per destination port. */
static int *listen_ports(bench_pair *p, unsigned n)
{
	int nl = (int)((n + PORTS_PER_LISTENER - 1) / PORTS_PER_LISTENER);
	int *lsd = malloc((size_t)nl * sizeof(int));
	if (!lsd)
		bench_die("malloc", nl);
	for (int i = 0; i < nl; i++) {
		lsd[i] = bench_listen(p, (uint16_t)(PORT0 + i), (int)n + 64);
		if (lsd[i] < 0)
			bench_die("listen", lsd[i]);
	}
	return lsd;
}

typedef struct mark {
	long heap, rss;
	double t;
} mark;

static mark now_mark(void)
{
	return (mark){ bench_heap(), bench_rss(), bench_wall() };
}

static void report(const char *what, mark m0, mark m1, double objs, size_t counted)
{
	printf("%s_%s_n %.0f\n", pfx, what, objs);
	printf("%s_%s_counted %zu\n", pfx, what, counted);
	printf("%s_%s_heap_delta %ld\n", pfx, what, m1.heap - m0.heap);
	printf("%s_%s_bytes %.1f\n", pfx, what, (double)(m1.heap - m0.heap) / objs);
	printf("%s_%s_rss_bytes %.1f\n", pfx, what, (double)(m1.rss - m0.rss) / objs);
	printf("%s_%s_secs %.3f\n", pfx, what, m1.t - m0.t);
}

/* 1 unless every packet either stack took in was of the family asked for */
static unsigned long family_errors(const bench_pair *p)
{
	uint64_t in4 = hsk_counter_by_name(p->c, "InReceives") +
		       hsk_counter_by_name(p->s, "InReceives");
	uint64_t in6 = hsk_counter_by_name(p->c, "Ip6InReceives") +
		       hsk_counter_by_name(p->s, "Ip6InReceives");
	return v6 ? in4 != 0 || in6 == 0 : in6 != 0 || in4 == 0;
}

static int idle(unsigned n, bool used)
{
	hsk_config cfg = big_cfg(n);
	bench_pair p;
	bench_pair_init_direct(&p, &cfg);
	if (v6)
		bench_pair_use_ipv6(&p);
	int *lsd = listen_ports(&p, n);
	static uint8_t msg[64], buf[128];
	int cs[BATCH], ss[BATCH];
	mark m0 = now_mark();
	for (unsigned done = 0; done < n;) {
		unsigned b = n - done < BATCH ? n - done : BATCH;
		int port = (int)(done / PORTS_PER_LISTENER);
		for (unsigned i = 0; i < b; i++) {
			cs[i] = bench_socket(&p, p.c);
			long r = cs[i] < 0 ? cs[i] :
				 bench_connect(&p, cs[i], (uint16_t)(PORT0 + port));
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
			/* the delayed ACKs of the responses leave: nothing
			 * stays unacknowledged, the connections are idle */
			bench_run_for(&p, 200 * BENCH_MS);
		}
		bench_drain_events(&p);
		done += b;
	}
	mark m1 = now_mark();
	hsk_usage uc, us;
	hsk_stack_usage(p.c, &uc);
	hsk_stack_usage(p.s, &us);
	report(used ? "used" : "idle", m0, m1, 2.0 * n, uc.tcbs + us.tcbs);
	printf("%s_%s_buffer_bytes %zu\n", pfx, used ? "used" : "idle",
	       uc.buffer_bytes + us.buffer_bytes);
	/* the stacks' caches of free ring buffers: a fixed cost, not per end */
	size_t cache = (size_t)p.c->tcp.ring_cache_n * p.c->tcp.ring_cache_cap +
		       (size_t)p.s->tcp.ring_cache_n * p.s->tcp.ring_cache_cap;
	printf("%s_%s_ring_cache %zu\n", pfx, used ? "used" : "idle", cache);
	printf("%s_%s_net_bytes %.1f\n", pfx, used ? "used" : "idle",
	       (double)(m1.heap - m0.heap - (long)cache) / (2.0 * n));
	printf("%s_%s_errors %lu\n", pfx, used ? "used" : "idle",
	       p.q.dropped + (uc.tcbs + us.tcbs != 2 * (size_t)n) + family_errors(&p));
	free(lsd);
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
 * from 10.x.y.z:port to the server (IPv6: from 2001:2:0:1::x.y.z with the
 * same low bits); returns its length. */
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
	if (v6) {
		/* 2001:2:0:1::<src>/64 to the server's IPv6 address */
		ipv6_hdr h6 = { .next = IP_PROTO_TCP, .hop_limit = 64,
				.src = { 0x20, 0x01, 0, 2, 0, 0, 0, 1 } };
		for (int i = 0; i < 4; i++)
			h6.src[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		memcpy(h6.dst, bench_server_addr6, 16);
		(void)dst;
		int n6 = tcp_emit_ps(&th, NULL, 0, csum_pseudo6(h6.src, h6.dst, IP_PROTO_TCP, 0),
				     pkt + IPV6_HDR_LEN, cap - IPV6_HDR_LEN);
		if (n6 <= 0)
			bench_die("tcp_emit_ps", n6);
		h6.payload_len = (uint16_t)n6;
		if (ipv6_emit(&h6, pkt, IPV6_HDR_LEN) != IPV6_HDR_LEN)
			bench_die("ipv6_emit", 0);
		return (size_t)(IPV6_HDR_LEN + n6);
	}
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
	bench_pair one = { .s = s };         /* for bench_listen only */
	if (v6) {
		hsk_addr a = hsk_addr_v6(bench_server_addr6);
		if (hsk_stack_add_addr(s, &a, 64))
			bench_die("hsk_stack_add_addr", 0);
		one.v6 = true;
	}
	int l = bench_listen(&one, 80, (int)n + 64);
	if (l < 0)
		bench_die("listen", l);
	uint8_t pkt[128];
	mark m0 = now_mark();
	for (unsigned i = 0; i < n; i++) {
		uint32_t src = 0x0a000000u + (i >> 8) + 1;
		size_t len = craft_syn(pkt, sizeof(pkt), src, (uint16_t)(10000 + (i & 255)),
				       BENCH_SERVER_ADDR, 80, i * 2654435761u);
		hsk_stack_input(s, now, pkt, len);
	}
	mark m1 = now_mark();
	hsk_usage u;
	hsk_stack_usage(s, &u);
	report("synq", m0, m1, n, u.requests);
	printf("%s_synq_synacks %lu\n", pfx, sent_pkts);
	printf("%s_synq_errors %d\n", pfx, sent_pkts != n || u.requests != n ||
	       hsk_counter_by_name(s, v6 ? "Ip6InReceives" : "InReceives") != n);
	hsk_stack_free(s);
	return 0;
}

static int tw(unsigned n)
{
	hsk_config cfg = big_cfg(n);
	bench_pair p;
	bench_pair_init_direct(&p, &cfg);
	if (v6)
		bench_pair_use_ipv6(&p);
	int *lsd = listen_ports(&p, n);
	/* warm the TCB pool and the socket arrays with one lifecycle */
	int bad = bench_lifecycle(&p, lsd[0], PORT0);
	mark m0 = now_mark();
	for (unsigned i = 1; i < n; i++) {
		int port = (int)(i / PORTS_PER_LISTENER);
		bad += bench_lifecycle(&p, lsd[port], (uint16_t)(PORT0 + port));
	}
	mark m1 = now_mark();
	hsk_usage u;
	hsk_stack_usage(p.c, &u);
	report("tw", m0, m1, n - 1, u.timewaits);
	printf("%s_tw_errors %lu\n", pfx, (unsigned long)bad + p.q.dropped +
	       (u.timewaits != n) + family_errors(&p));
	free(lsd);
	bench_pair_free(&p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--ipv6")) {
		v6 = true;
		pfx = "mem6";
		argc--, argv++;
	}
	const char *mode = argc > 1 ? argv[1] : "sizes";
	unsigned n = argc > 2 ? (unsigned)atol(argv[2]) : 100000;
	if (n < 2 || n > 100000000)
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
	printf("size_act %zu\n", sizeof(tcb_act));
	printf("size_listener %zu\n", sizeof(tcp_listener));
	return 0;
}
