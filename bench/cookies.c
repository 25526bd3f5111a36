/*
 * SYN cookies under a flood: one stack whose link only counts what it
 * transmits, a listener whose SYN queue is full (backlog 128, filled by 128
 * SYNs first), then crafted SYNs from 4096 other sources (a typical Linux
 * SYN: MSS, SACK permitted, timestamps, window scale), injected one after
 * the other with hsk_stack_input at a clock that stands still. Every one is
 * parsed and checksummed, and answered with a cookie SYN-ACK that is built
 * and checksummed. Crafting is done before the clock starts.
 *
 *   cookies [SECONDS]          SYN-ACKs per second on one core
 *   cookies --callgrind N      N SYNs with callgrind collection on
 */
#include "bench.h"
#include "wire/wire.h"

enum { BACKLOG = 128, NSRC = 4096, PKTLEN = 64 };

static unsigned long synacks;
static void count_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)len;
	/* a SYN-ACK: IPv4 header, then the flags byte of the TCP header */
	if (pkt[((pkt[0] & 0xf) * 4) + 13] == (HSK_TH_SYN | HSK_TH_ACK))
		synacks++;
}

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

int main(int argc, char **argv)
{
	bool cg = argc > 1 && !strcmp(argv[1], "--callgrind");
	double secs = argc > 1 && !cg ? atof(argv[1]) : 1.0;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.addr = BENCH_SERVER_ADDR;
	cfg.syncookies = true;
	hsk_link link = { NULL, count_tx };
	uint64_t now = BENCH_SEC;
	hsk_stack *s = hsk_stack_new(&cfg, &link, now);
	if (!s)
		bench_die("hsk_stack_new", 0);
	int l = hsk_socket(s);
	if (l < 0 || hsk_bind(s, l, 0, 80) || hsk_listen(s, l, BACKLOG))
		bench_die("listen", l);

	static uint8_t pkts[NSRC][PKTLEN];
	static size_t lens[NSRC];
	uint8_t fill[PKTLEN];
	for (int i = 0; i < BACKLOG; i++) {
		size_t len = craft_syn(fill, sizeof(fill), 0x0b000001u + (uint32_t)i, 40000,
				       BENCH_SERVER_ADDR, 80, 1000u * (uint32_t)i);
		hsk_stack_input(s, now, fill, len);
	}
	hsk_usage u;
	hsk_stack_usage(s, &u);
	if (u.requests != BACKLOG)
		bench_die("SYN queue not full", (long)u.requests);
	for (int i = 0; i < NSRC; i++)
		lens[i] = craft_syn(pkts[i], PKTLEN, 0x0a000001u + (uint32_t)(i >> 4),
				    (uint16_t)(20000 + (i & 15)), BENCH_SERVER_ADDR, 80,
				    2654435761u * (uint32_t)i);

	unsigned long before = synacks, n = 0;
	uint64_t sent0 = hsk_counter_by_name(s, "SyncookiesSent");
	double t0 = bench_wall(), t1;
	if (cg) {
		unsigned long want = (unsigned long)atol(argv[2]);
		CALLGRIND_TOGGLE_COLLECT;
		for (; n < want; n++)
			hsk_stack_input(s, now, pkts[n % NSRC], lens[n % NSRC]);
		CALLGRIND_TOGGLE_COLLECT;
	} else {
		for (;;) {
			for (int i = 0; i < NSRC; i++)
				hsk_stack_input(s, now, pkts[i], lens[i]);
			n += NSRC;
			if (bench_wall() - t0 >= secs || n >= 1000000000ul)
				break;
		}
	}
	t1 = bench_wall();
	unsigned long answered = synacks - before;
	printf("cookie_syns %lu\n", n);
	printf("cookie_synacks %lu\n", answered);
	printf("cookie_counted %llu\n",
	       (unsigned long long)(hsk_counter_by_name(s, "SyncookiesSent") - sent0));
	printf("cookie_secs %.6f\n", t1 - t0);
	printf("cookie_rate %.1f\n", (double)answered / (t1 - t0));
	printf("cookie_ns %.1f\n", (t1 - t0) * 1e9 / (double)(answered ? answered : 1));
	hsk_stack_free(s);
	return 0;
}
