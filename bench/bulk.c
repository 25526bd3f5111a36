/*
 * Bulk throughput: one connection between two stacks moves bytes one way
 * as fast as the CPU allows. The driver writes 64 KiB at a time until the
 * send buffer is full, delivers every packet due, reads everything the
 * receiver has with 64 KiB reads, delivers again, and repeats. The virtual
 * clock stands still (RTT samples are 0); when neither end makes progress
 * it moves on by 1 ms so that timers can unstick the flow (counted as
 * "stalls"). Every segment is checksummed on send and verified on receipt.
 * bench/lwip.c runs the same loop on lwIP.
 *
 *   bulk [OPTIONS] MTU [SECONDS [MAX_BYTES]]  payload Gbit/s per wall second
 *   bulk [OPTIONS] --callgrind BYTES MTU      BYTES with callgrind collection
 *                                             on (valgrind --collect-atstart=no)
 * OPTIONS:
 *   --direct    the two stacks wired through a FIFO (bench.h), the wiring
 *               lwIP gets; keys hsk_bulkd<MTU>_*. Without it: a memnet,
 *               whose own work (a copy of every packet, a heap push and
 *               pop) is in the figure; keys hsk_bulk<MTU>_*.
 *   --key K     print keys K_* instead
 */
#include "bench.h"

enum { PORT = 5001, CHUNK = 65536 };

static unsigned long pkts(const bench_pair *p)
{
	if (!p->net)
		return p->q.sent;
	memnet_stats st;
	memnet_get_stats(p->net, &st);
	return (unsigned long)st.sent;
}

int main(int argc, char **argv)
{
	bool direct = false;
	double cg = 0;
	const char *k = NULL;
	char key[64];
	for (; argc > 1 && !strncmp(argv[1], "--", 2); argc--, argv++) {
		if (!strcmp(argv[1], "--direct"))
			direct = true;
		else if (!strcmp(argv[1], "--key") && argc > 2)
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
		snprintf(key, sizeof(key), "hsk_bulk%s%u", direct ? "d" : "", mtu);
		k = key;
	}
	uint32_t buf = 4u << 20;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.mtu = (uint16_t)mtu;
	cfg.sndbuf = buf;
	cfg.rcvbuf = buf;
	bench_pair p;
	if (direct)
		bench_pair_init_direct(&p, &cfg);
	else
		bench_pair_init(&p, &cfg);

	int lsd = hsk_socket(p.s);
	if (lsd < 0 || hsk_bind(p.s, lsd, 0, PORT) || hsk_listen(p.s, lsd, 8))
		bench_die("listen", lsd);
	int c = hsk_socket(p.c);
	if (hsk_connect(p.c, c, BENCH_SERVER_ADDR, PORT) != -HSK_EINPROGRESS)
		bench_die("connect", c);
	bench_pump(&p);
	int s = hsk_accept(p.s, lsd, NULL);
	if (s < 0)
		bench_die("accept", s);
	int mss = 0;
	hsk_getsockopt(p.c, c, HSK_SO_MAXSEG, &mss);

	static uint8_t out[CHUNK], in[CHUNK];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7);
	double moved = 0, t0 = bench_wall(), t1 = t0;
	long stalls = 0, iters = 0;
	unsigned long pk0 = pkts(&p);
	if (cg)
		CALLGRIND_TOGGLE_COLLECT;
	while (moved < maxb && stalls < 100000) {
		long progress = 0, n;
		for (int i = 0; i < 1024 && (n = hsk_send(p.c, c, out, CHUNK)) > 0; i++)
			progress += n;
		if (n < 0 && n != -HSK_EAGAIN)
			bench_die("send", n);
		bench_pump(&p);
		for (int i = 0; i < 1024 && (n = hsk_recv(p.s, s, in, CHUNK)) > 0; i++) {
			progress += n;
			moved += (double)n;
		}
		if (n < 0 && n != -HSK_EAGAIN)
			bench_die("recv", n);
		bench_pump(&p);
		bench_drain_events(&p);
		if (!progress) {
			stalls++;
			bench_run_for(&p, 1 * BENCH_MS);
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
	printf("%s_pkts %lu\n", k, pkts(&p) - pk0);
	printf("%s_stalls %ld\n", k, stalls);
	printf("%s_errors %lu\n", k, p.q.dropped);
	hsk_close(p.c, c);
	hsk_close(p.s, s);
	bench_pair_free(&p);
	return 0;
}
