/*
 * Connection lifecycles on the in-memory link: three-way handshake, a
 * 64-byte request and a 64-byte response, four-way close (bench_lifecycle
 * in bench.h), both stacks in this process, one connection at a time.
 *
 * The virtual clock stands still while a batch of lifecycles runs, so the
 * client's TIME_WAIT entries pile up; after each batch the clock jumps by
 * 2*MSL + 1 s and the stack reaps them. That reaping is part of the cost
 * measured (it is work every connection causes), and it keeps the
 * ephemeral ports free.
 *
 *   lifecycle [SECONDS [MAX]]   wall-clock rate, at most MAX lifecycles
 *   lifecycle --callgrind N     N lifecycles with callgrind collection on
 *                               (run under valgrind --collect-atstart=no)
 *   lifecycle --direct ...      the same with the two stacks wired straight
 *                               to each other (no memnet: bench.h), keys
 *                               hsk_lcd_* instead of hsk_lc_*
 */
#include "bench.h"

enum { PORT = 80, BATCH = 4096 };

static hsk_config bench_cfg(void)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	return cfg;
}

/* n lifecycles, then the jump that reaps their TIME_WAIT entries. */
static int run(bench_pair *p, int lsd, long n)
{
	int bad = 0;
	for (long i = 0; i < n; i++)
		bad += bench_lifecycle(p, lsd, PORT);
	bench_run_for(p, 2 * hsk_stack_config(p->c)->msl_ns + BENCH_SEC);
	return bad;
}

int main(int argc, char **argv)
{
	bool direct = argc > 1 && !strcmp(argv[1], "--direct");
	if (direct)
		argv++, argc--;
	const char *k = direct ? "hsk_lcd" : "hsk_lc";
	bool cg = argc > 1 && !strcmp(argv[1], "--callgrind");
	double secs = argc > 1 && !cg ? atof(argv[1]) : 2.0;
	long max = argc > 2 ? atol(argv[2]) : 100000000L;
	hsk_config cfg = bench_cfg();
	bench_pair p;
	if (direct)
		bench_pair_init_direct(&p, &cfg);
	else
		bench_pair_init(&p, &cfg);

	int lsd = hsk_socket(p.s);
	if (lsd < 0 || hsk_bind(p.s, lsd, 0, PORT) || hsk_listen(p.s, lsd, 128))
		bench_die("listen", lsd);

	/* warm up: pools, tables and caches reach their working size */
	int bad = run(&p, lsd, BATCH);
	memnet_stats st0 = { .sent = p.sent };
	if (p.net)
		memnet_get_stats(p.net, &st0);

	long done = 0;
	double t0 = bench_wall(), t1;
	if (cg) {
		long n = atol(argv[2]);
		CALLGRIND_TOGGLE_COLLECT;
		bad += run(&p, lsd, n);
		CALLGRIND_TOGGLE_COLLECT;
		done = n;
	} else {
		do {
			long n = max - done < BATCH ? max - done : BATCH;
			bad += run(&p, lsd, n);
			done += n;
		} while (done < max && bench_wall() - t0 < secs);
	}
	t1 = bench_wall();

	memnet_stats st = { .sent = p.sent };
	if (p.net)
		memnet_get_stats(p.net, &st);
	hsk_usage uc, us;
	hsk_stack_usage(p.c, &uc);
	hsk_stack_usage(p.s, &us);
	printf("%s_count %ld\n", k, done);
	printf("%s_secs %.6f\n", k, t1 - t0);
	printf("%s_rate %.1f\n", k, (double)done / (t1 - t0));
	printf("%s_ns %.1f\n", k, (t1 - t0) * 1e9 / (double)done);
	printf("%s_pkts %.2f\n", k, (double)(st.sent - st0.sent) / (double)done);
	printf("%s_errors %d\n", k, bad + (int)p.dropped);
	printf("%s_leftover %zu\n", k, uc.tcbs + uc.requests + uc.timewaits +
	       us.tcbs + us.requests + us.timewaits);
	bench_pair_free(&p);
	return 0;
}
