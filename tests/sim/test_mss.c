/*
 * The segment size at its extremes: the peer's MSS option is raised to
 * min_snd_mss (Linux's tcp_min_snd_mss, 48; CVE-2019-11479) and capped by
 * ours; the timestamp option's 12 bytes come out of it without wrapping;
 * no packet leaves bigger than the link MTU. ICMP fragmentation-needed
 * lowers the MSS no further than min_pmtu (552) allows, and only when it
 * quotes a sequence number in SND.UNA..SND.NXT (RFC 5927).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

enum { S = 1, PORT = 80 };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define PSH HSK_TH_PSH

static void dummy_transmit(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
}

static int maxseg(sim *sm, int sd)
{
	int v = 0;
	assert_int_equal(hsk_getsockopt(sm->st[S], sd, HSK_SO_MAXSEG, &v), 0);
	return v;
}

/* The largest payload the host sent since log index `from`, and how many
 * data segments. */
static uint32_t largest_since(const sim *sm, size_t from, int *nseg)
{
	uint32_t m = 0;
	*nseg = 0;
	for (size_t i = from; i < sm->nlog; i++) {
		const sim_ev *e = &sm->log[i];
		if (e->host != S || e->ev.kind != HSK_EV_TX || !e->ev.len)
			continue;
		(*nseg)++;
		if (e->ev.len > m)
			m = e->ev.len;
	}
	return m;
}

/* want: our own MSS (1460, or 1440 over IPv6), without or with the
 * timestamps' 12 bytes */
enum { OURS = -1, OURS_TS = -2 };

/* The MSS with timestamps after a fragmentation-needed (IPv6: packet too
 * big; one below 1280 is discarded, RFC 8201 §4) saying mtu. */
static int pmtu_mss(const sim *sm, int mtu)
{
	if (sm->family == HSK_AF_INET6)
		return mtu - 60 - 12;
	return mtu - 40 - 12;
}

/* A low next-hop MTU the family takes: 1000 over IPv4, 1290 over IPv6
 * (whose minimum link MTU is 1280). */
static int low_mtu(const sim *sm)
{
	return sm->family == HSK_AF_INET6 ? 1290 : 1000;
}

/* The peer's SYN offers MSS `mss` (0: no option), timestamps or not; the
 * host's effective MSS must be `want`, and a 20 KB write goes out in
 * segments of at most (and some of exactly) that size. */
static void check_mss(const hsk_config *cfg, uint16_t mss, bool ts, int want, uint64_t seed)
{
	sim sm;
	sim_init(&sm, 2, cfg, seed);
	if (want < 0)
		want = (int)sim_mss(&sm) - (want == OURS_TS ? 12 : 0);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = mss;
	if (ts) {
		syn.has_ts = true;
		syn.ts_val = 77;
	}
	sim_peer p;
	sim_peer_accept(&sm, &p, S, PORT, 100, &syn);
	assert_int_equal(maxseg(&sm, p.sd), want);
	static char d[20000];
	memset(d, 'm', sizeof(d));
	size_t mark = sm.nlog;
	assert_true(hsk_send(sm.st[S], p.sd, d, sizeof(d)) > 0);
	int n;
	assert_int_equal(largest_since(&sm, mark, &n), (uint32_t)want);
	assert_true(n >= 10);           /* RFC 6928: min(10 MSS, max(2 MSS, 14600)) */
	/* The IP packet: 20 (IPv6: 40) + 20 + options + payload, within the
	 * MTU. */
	uint16_t mtu = cfg ? cfg->mtu : 1500;
	assert_true((sm.family == HSK_AF_INET6 ? 60 : 40) + (ts ? 12 : 0) + want <= mtu);
	assert_int_equal(hsk_abort(sm.st[S], p.sd), 0);
	assert_int_equal(hsk_close(sm.st[S], p.lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Without timestamps: 1, 11, 12 and 47 become 48; 48 stays; 65535 is
 * capped by our 1460; no option means 536. */
static void test_mss_extremes(void **state)
{
	(void)state;
	check_mss(NULL, 1, false, 48, 900);
	check_mss(NULL, 11, false, 48, 901);
	check_mss(NULL, 12, false, 48, 902);
	check_mss(NULL, 47, false, 48, 903);
	check_mss(NULL, 48, false, 48, 904);
	check_mss(NULL, 49, false, 49, 905);
	check_mss(NULL, 65535, false, OURS, 906);
	check_mss(NULL, 0, false, 536, 907);
}

/* With timestamps the option's 12 bytes come out of the payload: MSS 1 to
 * 11 used to wrap to ~65 K (a 47,652-byte packet on a 1500-byte link) and
 * 12 to zero (nothing could ever be sent). */
static void test_mss_extremes_timestamps(void **state)
{
	(void)state;
	check_mss(NULL, 1, true, 36, 910);
	check_mss(NULL, 5, true, 36, 911);
	check_mss(NULL, 11, true, 36, 912);
	check_mss(NULL, 12, true, 36, 913);
	check_mss(NULL, 48, true, 36, 914);
	check_mss(NULL, 65535, true, OURS_TS, 915);
}

/* The floor is a knob; and it never exceeds our own MSS: on a 68-byte
 * link (MSS 28) a peer's MSS 1 gives 28, and packets stay within 68
 * (IPv4 only: an IPv6 link is 1280 bytes at least). */
static void test_min_snd_mss_configured(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.min_snd_mss = 100;
	check_mss(&cfg, 1, false, 100, 920);
	check_mss(&cfg, 1, true, 88, 921);
	if (sim_env_ipv6())
		return;
	hsk_config_default(&cfg);
	cfg.mtu = 68;
	check_mss(&cfg, 1, false, 28, 922);
	check_mss(&cfg, 1, true, 16, 923);
	check_mss(&cfg, 9000, false, 28, 924);
}

/* An MSS option of 0 is malformed: the SYN is dropped (DropBadOptions),
 * nothing is answered. */
static void test_mss_zero_option_dropped(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 930);
	int lsd = sim_listen(&sm, S, PORT, 8);
	uint8_t pkt[128];
	tcp_hdr th = { .sport = 4000, .dport = PORT, .seq = 1000, .flags = SYN,
		       .win = 65535 };
	tcp_opts_init(&th.opt);
	th.opt.mss = 1;
	uint8_t *tcp = pkt + IPV4_HDR_LEN;
	int n = tcp_emit(&th, NULL, 0, SIM_ADDR(7), SIM_ADDR(S), tcp, sizeof(pkt) - IPV4_HDR_LEN);
	assert_true(n > 0);
	/* Bytes 20..23: kind 2, length 4, MSS 1: make it 0, fix the sum. */
	assert_int_equal(tcp[20], 2);
	assert_int_equal(tcp[23], 1);
	tcp[23] = 0;
	uint16_t sum = (uint16_t)(tcp[16] << 8 | tcp[17]);
	sum = csum_update16(sum, 1, 0);
	tcp[16] = (uint8_t)(sum >> 8);
	tcp[17] = (uint8_t)sum;
	ipv4_hdr ih = { .total_len = (uint16_t)(IPV4_HDR_LEN + n), .ttl = 64,
			.proto = IP_PROTO_TCP, .src = SIM_ADDR(7), .dst = SIM_ADDR(S) };
	assert_int_equal(ipv4_emit(&ih, pkt, IPV4_HDR_LEN), IPV4_HDR_LEN);
	hsk_stack_input(sm.st[S], sim_now(&sm), pkt, (size_t)(IPV4_HDR_LEN + n));
	expect_no_tx(&sm);
	assert_int_equal(sim_counter(&sm, S, "DropBadOptions"), 1);
	assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), 0);
	hsk_usage u;
	hsk_stack_usage(sm.st[S], &u);
	assert_int_equal(u.requests, 0);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_free(&sm);
}

/* A SYN cookie encodes the MSS in {536, 1300, 1440, 1460} (Linux's
 * table, a smaller MSS read as 536): whatever it says, our own MSS caps
 * it. */
static void test_cookie_mss_capped(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.mtu = 300;
	sim sm;
	sim_init(&sm, 2, &cfg, 931);
	int lsd = sim_listen(&sm, S, PORT, 1);
	tcp_opts o;
	tcp_opts_init(&o);
	o.mss = 1;
	/* One request fills the SYN queue; the next SYN gets a cookie. */
	sim_inject_opts(&sm, S, SIM_ADDR(7), 4000, PORT, 1000, 0, SYN, 65535, &o, NULL, 0);
	sim_inject_opts(&sm, S, SIM_ADDR(7), 4001, PORT, 5000, 0, SYN, 65535, &o, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesSent"), 1);
	const sim_ev *e = sim_next_tx(&sm);
	e = sim_next_tx(&sm);
	assert_int_equal(e->ev.tuple.rport, 4001);
	sim_inject(&sm, S, SIM_ADDR(7), 4001, PORT, 5001, e->ev.seq + 1, A, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesRecv"), 1);
	int sd = sim_accept(&sm, S, lsd);
	/* IPv6: the link counts as 1280 (MSS 1220); the cookie says 536 */
	assert_int_equal(maxseg(&sm, sd), sm.family == HSK_AF_INET6 ? 536 : 260);
	assert_int_equal(hsk_abort(sm.st[S], sd), 0);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* ICMP: a connection with timestamps (MSS 1448) sends 20 KB. */
static void icmp_fx(sim *sm, sim_peer *p, const hsk_config *cfg, uint64_t seed)
{
	sim_init(sm, 2, cfg, seed);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	syn.has_ts = true;
	syn.ts_val = 1;
	sim_peer_accept(sm, p, S, PORT, 100, &syn);
	assert_int_equal(maxseg(sm, p->sd), (int)sim_mss(sm) - 12);
	static char d[20000];
	memset(d, 'i', sizeof(d));
	assert_true(hsk_send(sm->st[S], p->sd, d, sizeof(d)) > 0);
}

static void frag_needed(sim_peer *p, uint16_t mtu, uint32_t rseq)
{
	sim_inject_icmp(p->sm, S, SIM_ADDR(6), ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, mtu,
			p->hport, p->addr, p->port, p->hiss + rseq);
}

static void icmp_end(sim *sm, sim_peer *p)
{
	assert_int_equal(hsk_abort(sm->st[S], p->sd), 0);
	assert_int_equal(hsk_close(sm->st[S], p->lsd), 0);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* RFC 1191 with Linux's floor: MTU 1000 gives 1000 - 40 - 12; a claim of
 * 68 (or 0, or 551) is taken as 552: 500, not crumbs. */
static void test_frag_needed_floor(void **state)
{
	(void)state;
	if (sim_env_ipv6())
		skip();         /* IPv4's floor; IPv6's 1280: test_tcp6 */
	static const uint16_t mtus[] = { 68, 0, 551, 552 };
	for (unsigned i = 0; i < sizeof(mtus) / sizeof(mtus[0]); i++) {
		sim sm;
		sim_peer p;
		icmp_fx(&sm, &p, NULL, 940 + i);
		frag_needed(&p, 1000, 1);
		assert_int_equal(maxseg(&sm, p.sd), 948);
		size_t mark = sm.nlog;
		frag_needed(&p, mtus[i], 1);
		assert_int_equal(maxseg(&sm, p.sd), 500);
		/* Resent at once, smaller. */
		const sim_ev *e = NULL;
		for (size_t k = mark; k < sm.nlog && !e; k++)
			if (sm.log[k].ev.kind == HSK_EV_TX)
				e = &sm.log[k];
		assert_non_null(e);
		assert_int_equal(e->ev.seq, p.hiss + 1);
		assert_int_equal(e->ev.len, 500);
		/* It never grows back from an ICMP. */
		frag_needed(&p, 1500, 1);
		assert_int_equal(maxseg(&sm, p.sd), 500);
		icmp_end(&sm, &p);
	}
}

static void test_min_pmtu_configured(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.min_pmtu = 1200;
	sim sm;
	sim_peer p;
	if (sim_env_ipv6())
		skip();         /* min_pmtu is IPv4's (IPv6's floor is 1280) */
	icmp_fx(&sm, &p, &cfg, 950);
	frag_needed(&p, 600, 1);
	assert_int_equal(maxseg(&sm, p.sd), 1200 - 52);
	icmp_end(&sm, &p);
	/* The lowest floor there is, IPv4's 68 (below it the configuration
	 * is refused): an MTU of 0 or 40 reads as 68, which meets
	 * min_snd_mss (48, less the timestamps). */
	cfg.min_pmtu = 68;
	icmp_fx(&sm, &p, &cfg, 952);
	frag_needed(&p, 40, 1);
	assert_int_equal(maxseg(&sm, p.sd), 36);
	icmp_end(&sm, &p);
	icmp_fx(&sm, &p, &cfg, 953);
	frag_needed(&p, 0, 1);
	assert_int_equal(maxseg(&sm, p.sd), 36);
	icmp_end(&sm, &p);
}

/* The floors cannot be configured away: Linux's sysctls refuse
 * tcp_min_snd_mss below 48 and min_pmtu below 68, and so does
 * hsk_stack_new. */
static void test_floors_validated(void **state)
{
	(void)state;
	hsk_link link = { NULL, dummy_transmit };
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.seed = 1;
	hsk_stack *s = hsk_stack_new(&cfg, &link, 0);
	assert_non_null(s);
	hsk_stack_free(s);
	cfg.min_snd_mss = 47;
	assert_null(hsk_stack_new(&cfg, &link, 0));
	cfg.min_snd_mss = 48;
	cfg.min_pmtu = 67;
	assert_null(hsk_stack_new(&cfg, &link, 0));
	cfg.min_pmtu = 68;
	s = hsk_stack_new(&cfg, &link, 0);
	assert_non_null(s);
	hsk_stack_free(s);
}

/* RFC 5927 §4.1: an error quoting a sequence number outside SND.UNA ..
 * SND.NXT is not about anything in flight: nothing changes. The bounds
 * themselves are in (as Linux's between()). */
static void test_frag_needed_outside_flight_ignored(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	icmp_fx(&sm, &p, NULL, 951);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(sm.st[S], p.sd, &ti), 0);
	uint32_t flight = ti.unacked;
	assert_int_equal(flight, 10 * (sim_mss(&sm) - 12));
	size_t mark = sm.nlog;
	frag_needed(&p, 1000, 0);                   /* SND.UNA - 1 */
	frag_needed(&p, 1000, 1 + flight + 1);      /* SND.NXT + 1 */
	frag_needed(&p, 1000, 1 + 0x40000000u);
	assert_int_equal(maxseg(&sm, p.sd), (int)sim_mss(&sm) - 12);
	assert_int_equal(sim_count_tx_since(&sm, S, mark), 0);
	frag_needed(&p, 1300, 1 + flight);          /* SND.NXT */
	assert_int_equal(maxseg(&sm, p.sd), pmtu_mss(&sm, 1300));
	frag_needed(&p, low_mtu(&sm), 1);           /* SND.UNA */
	assert_int_equal(maxseg(&sm, p.sd), pmtu_mss(&sm, low_mtu(&sm)));
	icmp_end(&sm, &p);
}

/* Fragmentation-needed only ever lowers the MSS (RFC 1191: a larger
 * next-hop MTU is no news, and a forged one must not raise it past what
 * the path takes); and an established connection treats port and protocol
 * unreachable as soft errors (RFC 1122 4.2.3.9: only a connection still
 * opening is aborted). */
static void test_icmp_never_raises_mss_nor_aborts(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	icmp_fx(&sm, &p, NULL, 952);
	frag_needed(&p, 1300, 1);
	assert_int_equal(maxseg(&sm, p.sd), pmtu_mss(&sm, 1300));
	frag_needed(&p, 1500, 1);
	assert_int_equal(maxseg(&sm, p.sd), pmtu_mss(&sm, 1300));
	sim_inject_icmp(p.sm, S, SIM_ADDR(6), ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0,
			p.hport, p.addr, p.port, p.hiss + 1);
	sim_inject_icmp(p.sm, S, SIM_ADDR(6), ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, 0,
			p.hport, p.addr, p.port, p.hiss + 1);
	assert_int_equal(hsk_sock_state(sm.st[S], p.sd), HSK_ESTABLISHED);
	assert_int_equal(hsk_sock_error(sm.st[S], p.sd), 0);
	icmp_end(&sm, &p);
}

/* Only Destination Unreachable speaks of the path: an error of another
 * type (a forged Time Exceeded carrying fragmentation-needed's code) does
 * not lower the MSS. */
static void test_icmp_other_type_no_pmtu(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	icmp_fx(&sm, &p, NULL, 953);
	sim_inject_icmp(p.sm, S, SIM_ADDR(6), ICMP_TIME_EXCEEDED, ICMP_UNREACH_NEEDFRAG, 1000,
			p.hport, p.addr, p.port, p.hiss + 1);
	assert_int_equal(maxseg(&sm, p.sd), (int)sim_mss(&sm) - 12);
	frag_needed(&p, low_mtu(&sm), 1);
	assert_int_equal(maxseg(&sm, p.sd), pmtu_mss(&sm, low_mtu(&sm)));
	icmp_end(&sm, &p);
}

/* RFC 1122 4.2.3.9: while the connection opens, only port and protocol
 * unreachable are hard errors (ECONNREFUSED); host unreachable, and an
 * error of another type with the port's code (forged), are soft: the
 * connect goes on. */
static void test_icmp_soft_errors_spare_connect(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 954);
	hsk_stack *c = sm.st[0];
	int sd = sim_socket(&sm, 0);
	hsk_addr nohost = sim_twin(&sm, SIM_ADDR(7));
	assert_int_equal(hsk_connect_addr(c, sd, &nohost, PORT), -HSK_EINPROGRESS);
	hsk_tuple tu;
	hsk_sock_tuple(c, sd, &tu);
	uint32_t iss = sim_iss(&sm, 0);
	sim_inject_icmp(&sm, 0, SIM_ADDR(6), ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, 0, tu.lport,
			SIM_ADDR(7), PORT, iss);
	sim_inject_icmp(&sm, 0, SIM_ADDR(6), ICMP_TIME_EXCEEDED, ICMP_UNREACH_PORT, 0, tu.lport,
			SIM_ADDR(7), PORT, iss);
	assert_int_equal(hsk_sock_state(c, sd), HSK_SYN_SENT);
	assert_int_equal(hsk_sock_error(c, sd), 0);
	assert_int_equal(sim_counter(&sm, 0, "AttemptFails"), 0);
	sim_inject_icmp(&sm, 0, SIM_ADDR(6), ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, 0, tu.lport,
			SIM_ADDR(7), PORT, iss);
	assert_int_equal(hsk_sock_error(c, sd), HSK_ECONNREFUSED);
	assert_int_equal(sim_counter(&sm, 0, "AttemptFails"), 1);
	assert_int_equal(hsk_close(c, sd), 0);
	sim_run(&sm, 1 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mss_extremes),
		cmocka_unit_test(test_mss_extremes_timestamps),
		cmocka_unit_test(test_min_snd_mss_configured),
		cmocka_unit_test(test_mss_zero_option_dropped),
		cmocka_unit_test(test_cookie_mss_capped),
		cmocka_unit_test(test_frag_needed_floor),
		cmocka_unit_test(test_min_pmtu_configured),
		cmocka_unit_test(test_floors_validated),
		cmocka_unit_test(test_frag_needed_outside_flight_ignored),
		cmocka_unit_test(test_icmp_never_raises_mss_nor_aborts),
		cmocka_unit_test(test_icmp_other_type_no_pmtu),
		cmocka_unit_test(test_icmp_soft_errors_spare_connect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
