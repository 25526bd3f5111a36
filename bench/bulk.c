/*
 * Bulk throughput on the in-memory link: one connection between two stacks
 * on a memnet with no impairment moves bytes one way as fast as the CPU
 * allows. The driver writes 64 KiB at a time until the send buffer is full,
 * delivers every packet due, reads everything the receiver has, delivers
 * again, and repeats. The virtual clock stands still (RTT samples are 0);
 * when neither end makes progress it moves on by 1 ms so that timers can
 * unstick the flow (counted as "stalls"). The memnet's own work (a copy of
 * every packet into its buffer, a heap push and pop) is in the figure.
 *
 *   bulk MTU [SECONDS [MAX_BYTES]]   payload Gbit/s per wall second
 *   bulk --callgrind MTU MAX_BYTES    the same with callgrind collection on
 *                                     (run under valgrind --collect-atstart=no)
 */
#include "bench.h"

enum { PORT = 5001, CHUNK = 65536 };

int main(int argc, char **argv)
{
	bool cg = argc > 1 && !strcmp(argv[1], "--callgrind");
	if (cg)
		argv++, argc--;
	unsigned mtu = argc > 1 ? (unsigned)atoi(argv[1]) : 1500;
	double secs = cg ? 1e9 : argc > 2 ? atof(argv[2]) : 2.0;
	double maxb = cg ? (argc > 2 ? atof(argv[2]) : 33554432.0) :
		      argc > 3 ? atof(argv[3]) : 1073741824.0;
	uint32_t buf = 4u << 20;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.mtu = (uint16_t)mtu;
	cfg.sndbuf = buf;
	cfg.rcvbuf = buf;
	bench_pair p;
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
	memnet_stats st0;
	memnet_get_stats(p.net, &st0);
	if (cg)
		CALLGRIND_TOGGLE_COLLECT;
	while (moved < maxb && stalls < 100000) {
		long progress = 0, n;
		for (int k = 0; k < 1024 && (n = hsk_send(p.c, c, out, CHUNK)) > 0; k++)
			progress += n;
		if (n < 0 && n != -HSK_EAGAIN)
			bench_die("send", n);
		bench_pump(&p);
		for (int k = 0; k < 1024 && (n = hsk_recv(p.s, s, in, CHUNK)) > 0; k++) {
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
	memnet_stats st;
	memnet_get_stats(p.net, &st);
	printf("hsk_bulk%u_mss %d\n", mtu, mss);
	printf("hsk_bulk%u_bytes %.0f\n", mtu, moved);
	printf("hsk_bulk%u_secs %.6f\n", mtu, t1 - t0);
	printf("hsk_bulk%u_gbps %.3f\n", mtu, moved * 8 / (t1 - t0) / 1e9);
	printf("hsk_bulk%u_pkts %llu\n", mtu, (unsigned long long)(st.sent - st0.sent));
	printf("hsk_bulk%u_stalls %ld\n", mtu, stalls);
	hsk_close(p.c, c);
	hsk_close(p.s, s);
	bench_pair_free(&p);
	return 0;
}
