/*
 * Connection lifecycles: three-way handshake, a 64-byte request and a
 * 64-byte response, four-way close (bench_lifecycle in bench.h), both
 * stacks in this process and thread, one connection at a time.
 *
 * The virtual clock stands still while a batch of lifecycles runs, so the
 * client's TIME_WAIT entries pile up; after each batch the clock jumps by
 * 2*MSL + 1 s and the stack reaps them. That reaping is part of the cost
 * measured (it is work every connection causes), and it keeps the
 * ephemeral ports free. bench/lwip.c runs the same shape on lwIP.
 *
 *   lifecycle [OPTIONS] [SECONDS [MAX]]  wall-clock rate, at most MAX
 *   lifecycle [OPTIONS] --callgrind N    N lifecycles with callgrind
 *                                        collection on (run under valgrind
 *                                        --collect-atstart=no)
 * OPTIONS:
 *   --direct     the two stacks wired straight to each other through a
 *                FIFO (bench.h), the wiring lwIP gets too; keys hsk_lcd_*.
 *                Without it they sit on a memnet (keys hsk_lc_*).
 *   --ipv6       the connections over IPv6 (2001:2::c612:1 to
 *                2001:2::c612:2); keys hsk_lcd6_* / hsk_lc6_*
 *   --batch B    lifecycles between two clock jumps (default 64), i.e. up
 *                to B TIME_WAIT entries standing
 *   --key K      print keys K_* instead
 *
 * Built with -DBENCH_STEPS (scripts/bench.sh's lifecycle-steps), the
 * --callgrind run also has callgrind write its counts at each step of the
 * lifecycle (BENCH_STEP, bench/util.h): the step-by-step table.
 */
#include "bench.h"

enum { PORT = 80 };

/* n lifecycles, then the jump that reaps their TIME_WAIT entries. */
static int run(bench_pair *p, int lsd, long n)
{
	int bad = 0;
	for (long i = 0; i < n; i++)
		bad += bench_lifecycle(p, lsd, PORT);
	bench_run_for(p, 2 * hsk_stack_config(p->c)->msl_ns + BENCH_SEC);
	BENCH_STEP("17 TIME_WAIT reaped");
	return bad;
}

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
	bool direct = false, v6 = false;
	long batch = 64, cg = 0;
	const char *k = NULL;
	for (; argc > 1 && !strncmp(argv[1], "--", 2); argc--, argv++) {
		if (!strcmp(argv[1], "--direct"))
			direct = true;
		else if (!strcmp(argv[1], "--ipv6"))
			v6 = true;
		else if (!strcmp(argv[1], "--batch") && argc > 2)
			batch = atol(argv[2]), argc--, argv++;
		else if (!strcmp(argv[1], "--key") && argc > 2)
			k = argv[2], argc--, argv++;
		else if (!strcmp(argv[1], "--callgrind") && argc > 2)
			cg = atol(argv[2]), argc--, argv++;
		else
			bench_die("unknown option", 0);
	}
	if (!k)
		k = direct ? (v6 ? "hsk_lcd6" : "hsk_lcd") : (v6 ? "hsk_lc6" : "hsk_lc");
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	long max = argc > 2 ? atol(argv[2]) : 100000000L;
	if (batch < 1)
		batch = 1;
	hsk_config cfg;
	hsk_config_default(&cfg);
	bench_pair p;
	if (direct)
		bench_pair_init_direct(&p, &cfg);
	else
		bench_pair_init(&p, &cfg);
	if (v6)
		bench_pair_use_ipv6(&p);

	int lsd = bench_listen(&p, PORT, 128);
	if (lsd < 0)
		bench_die("listen", lsd);

	/* warm up: pools, tables and caches reach their working size */
	int bad = run(&p, lsd, batch);
	unsigned long pk0 = pkts(&p);

	long done = 0;
	double t0 = bench_wall(), t1;
	if (cg) {
		CALLGRIND_TOGGLE_COLLECT;
		BENCH_STEPS_ON(1);
		for (; done < cg; done += batch)
			bad += run(&p, lsd, cg - done < batch ? cg - done : batch);
		BENCH_STEPS_ON(0);
		CALLGRIND_TOGGLE_COLLECT;
		done = cg;
	} else {
		do {
			long n = max - done < batch ? max - done : batch;
			bad += run(&p, lsd, n);
			done += n;
		} while (done < max && bench_wall() - t0 < secs);
	}
	t1 = bench_wall();

	hsk_usage uc, us;
	hsk_stack_usage(p.c, &uc);
	hsk_stack_usage(p.s, &us);
	printf("%s_count %ld\n", k, done);
	printf("%s_secs %.6f\n", k, t1 - t0);
	printf("%s_rate %.1f\n", k, (double)done / (t1 - t0));
	printf("%s_us %.3f\n", k, (t1 - t0) * 1e6 / (double)done);
	printf("%s_pkts %.2f\n", k, (double)(pkts(&p) - pk0) / (double)done);
	/* every packet was of the family asked for */
	unsigned long in6 = (unsigned long)(hsk_counter_by_name(p.c, "Ip6InReceives") +
					    hsk_counter_by_name(p.s, "Ip6InReceives"));
	bad += in6 != (v6 ? pkts(&p) : 0);
	printf("%s_errors %d\n", k, bad + (int)p.q.dropped);
	printf("%s_leftover %zu\n", k, uc.tcbs + uc.requests + uc.timewaits +
	       us.tcbs + us.requests + us.timewaits);
	bench_pair_free(&p);
	return 0;
}
