/*
 * ECN (RFC 3168) as Linux does it (src/tcp/ecn.c), and IP_TOS: the
 * negotiation on the SYNs with tcp_ecn 0/1/2, ECT(0) on new data only,
 * CE echoed with ECE until CWR, the sender's reduction once per window.
 * The TOS byte of each packet is read where it leaves the host (sim.c
 * notes it on the TX event); CE marks are put on by the simulated link.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "stack/stack.h"

enum { C = 0, S = 1, PORT = 80 };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define PSH HSK_TH_PSH
#define ECE HSK_TH_ECE
#define CWR HSK_TH_CWR
enum { NOT_ECT = 0, ECT0 = 2, CE = 3 };

static hsk_config cfg_ecn(int ecn)
{
	hsk_config c;
	hsk_config_default(&c);
	c.ecn = (uint8_t)ecn;
	return c;
}

/* An ECN counter of the simulation's family: "InCEPkts" or, over IPv6,
 * "Ip6InCEPkts" (snmp6's name). */
static uint64_t ecn_counter(const sim *sm, int host, const char *name)
{
	char n[32];

	snprintf(n, sizeof(n), "%s%s", sm->family == HSK_AF_INET6 ? "Ip6" : "", name);
	return sim_counter(sm, host, n);
}

/* The TOS byte of the segment expect_seg just consumed. */
static uint8_t last_tos(const sim *sm)
{
	return sm->log[sm->tx_cursor - 1].tos;
}

/* listen on S, connect from C; returns the sockets, checks nothing. */
static void open_raw(sim *sm, int *lsd, int *csd, int *ssd)
{
	*lsd = sim_listen(sm, S, PORT, 8);
	*csd = sim_connect(sm, C, S, PORT);
	sim_run(sm, 10 * MS);
	*ssd = sim_accept(sm, S, *lsd);
}

static void end(sim *sm, int lsd, int csd, int ssd)
{
	sim_finish_pair(sm, C, S, lsd, csd, ssd);
}

/* Client C with tcp_ecn = ecn, server S with the default (2). */
static void init_client_ecn(sim *sm, int ecn, uint64_t seed)
{
	hsk_config cc = cfg_ecn(ecn);
	const hsk_config *cfgs[2] = { &cc, NULL };
	sim_init_hosts(sm, 2, cfgs, seed);
}

/* tcp_ecn=1 asks, the default (2) accepts: SYN with ECE|CWR, SYN-ACK with
 * ECE; data ECT(0) both ways, SYNs and pure ACKs not ECT. */
static void test_negotiated(void **state)
{
	(void)state;
	sim sm;
	init_client_ecn(&sm, 1, 901);
	int lsd, csd, ssd;
	open_raw(&sm, &lsd, &csd, &ssd);
	expect_seg(&sm, C, SYN | ECE | CWR, 0, 0, 0);
	assert_int_equal(last_tos(&sm), NOT_ECT);
	expect_seg(&sm, S, SYN | A | ECE, 0, 1, 0);
	assert_int_equal(last_tos(&sm), NOT_ECT);
	expect_seg(&sm, C, A, 1, 1, 0);
	assert_int_equal(last_tos(&sm), NOT_ECT);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(sm.st[C], csd, &ti), 0);
	assert_true(ti.ecn);
	assert_int_equal(hsk_sock_info(sm.st[S], ssd, &ti), 0);
	assert_true(ti.ecn);
	int v;
	assert_int_equal(hsk_getsockopt(sm.st[C], csd, HSK_IP_TOS, &v), 0);
	assert_int_equal(v, ECT0);             /* Linux's inet->tos shows it */
	assert_int_equal(hsk_send(sm.st[C], csd, "ping", 4), 4);
	sim_run(&sm, 5 * MS);
	expect_seg(&sm, C, A | PSH, 1, 1, 4);
	assert_int_equal(last_tos(&sm), ECT0);
	expect_seg(&sm, S, A, 1, 5, 0);        /* quick ACK: not ECT */
	assert_int_equal(last_tos(&sm), NOT_ECT);
	assert_int_equal(hsk_send(sm.st[S], ssd, "pong", 4), 4);
	sim_run(&sm, 100 * MS);
	expect_seg(&sm, S, A | PSH, 1, 5, 4);
	assert_int_equal(last_tos(&sm), ECT0);
	assert_int_equal(ecn_counter(&sm, S, "InECT0Pkts"), 1);
	assert_int_equal(ecn_counter(&sm, C, "InECT0Pkts"), 1);
	end(&sm, lsd, csd, ssd);
}

/* The default on both ends (2): nobody asks, nothing is marked. A server
 * with tcp_ecn=0 does not answer an ECN SYN. */
static void test_not_negotiated(void **state)
{
	(void)state;
	for (int server_off = 0; server_off < 2; server_off++) {
		hsk_config cc = cfg_ecn(server_off ? 1 : 2), sc = cfg_ecn(server_off ? 0 : 2);
		const hsk_config *cfgs[2] = { &cc, &sc };
		sim sm;
		sim_init_hosts(&sm, 2, cfgs, 902);
		int lsd, csd, ssd;
		open_raw(&sm, &lsd, &csd, &ssd);
		expect_seg(&sm, C, server_off ? SYN | ECE | CWR : SYN, 0, 0, 0);
		expect_seg(&sm, S, SYN | A, 0, 1, 0);
		expect_seg(&sm, C, A, 1, 1, 0);
		assert_int_equal(hsk_send(sm.st[C], csd, "x", 1), 1);
		sim_run(&sm, 5 * MS);
		expect_seg(&sm, C, A | PSH, 1, 1, 1);
		assert_int_equal(last_tos(&sm), NOT_ECT);
		hsk_tcp_info ti;
		assert_int_equal(hsk_sock_info(sm.st[C], csd, &ti), 0);
		assert_false(ti.ecn);
		end(&sm, lsd, csd, ssd);
	}
}

/* A lost ECN SYN is sent again without ECE|CWR (Linux's tcp_ecn_fallback:
 * a middlebox may drop them), so the connection goes without ECN. */
static void test_syn_retransmitted_without_ecn(void **state)
{
	(void)state;
	sim sm;
	init_client_ecn(&sm, 1, 903);
	sim_lose(&sm, C, SYN | ECE | CWR, 1);
	int lsd = sim_listen(&sm, S, PORT, 8);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 1500 * MS);
	expect_seg(&sm, C, SYN | ECE | CWR, 0, 0, 0);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	expect_seg(&sm, C, A, 1, 1, 0);
	int ssd = sim_accept(&sm, S, lsd);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(sm.st[C], csd, &ti), 0);
	assert_false(ti.ecn);
	end(&sm, lsd, csd, ssd);
}

/* The peer asks for ECN on its SYN (as a Linux client with tcp_ecn=1). */
static void peer_accept_ecn(sim *sm, sim_peer *p, uint8_t syn_tos)
{
	*p = (sim_peer){ .sm = sm, .host = S, .addr = SIM_ADDR(7), .port = 4000,
			 .hport = PORT, .iss = 1000 };
	p->lsd = sim_listen(sm, S, PORT, 8);
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = 1460;
	sim_inject_tos(sm, S, p->addr, p->port, PORT, p->iss, 0, SYN | ECE | CWR, 65535,
		       &syn, syn_tos, NULL, 0);
	const sim_ev *e = sim_next_tx(sm);
	assert_non_null(e);
	p->hiss = e->ev.seq;
	sim_peer_send(p, 1, 1, A, 65535, NULL, 0);
	p->sd = sim_accept(sm, S, p->lsd);
}

/* The same on a new simulation whose stacks have the default (2). */
static void peer_fx(sim *sm, sim_peer *p, uint64_t seed, uint8_t syn_tos)
{
	sim_init(sm, 2, NULL, seed);
	peer_accept_ecn(sm, p, syn_tos);
}

/* The host aborts the peer's connection and closes its listener; nothing
 * is left once every timer has run. */
static void peer_end(sim *sm, sim_peer *p)
{
	(void)sm;
	sim_peer_finish(p);
}

/* A SYN that is itself ECT-marked is not answered with ECN (Linux: an ECT
 * SYN hints at a broken path). */
static void test_ect_syn_not_answered(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	peer_fx(&sm, &p, 904, ECT0);
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.flags, SYN | A);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(sm.st[S], p.sd, &ti), 0);
	assert_false(ti.ecn);
	hsk_abort(sm.st[S], p.sd);
	hsk_close(sm.st[S], p.lsd);
	sim_free(&sm);
}

/* The receiver: a CE mark on data is echoed with ECE on every segment
 * until data carries CWR; its ACKs go at once meanwhile. */
static void test_ce_echoed_until_cwr(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	peer_fx(&sm, &p, 905, NOT_ECT);
	assert_int_equal(sm.log[sm.tx_cursor - 1].ev.flags, SYN | A | ECE);
	hsk_stack *s = sm.st[S];
	assert_int_equal(hsk_setsockopt(s, p.sd, HSK_TCP_QUICKACK, 0), 0);
	p.tos = ECT0;
	sim_peer_send(&p, 1, 1, A | PSH, 65535, "aaaa", 4);
	expect_no_tx(&sm);                     /* delayed: no quick ACKs */
	p.tos = CE;
	sim_peer_send(&p, 5, 1, A | PSH, 65535, "bbbb", 4);
	expect_peer_seg(&p, A | ECE, 1, 9, 0); /* at once, with ECE */
	assert_int_equal(last_tos(&sm), NOT_ECT);
	p.tos = ECT0;
	sim_peer_send(&p, 9, 1, A | PSH, 65535, "cccc", 4);
	expect_peer_seg(&p, A | ECE, 1, 13, 0);
	assert_int_equal(hsk_send(s, p.sd, "reply", 5), 5);
	expect_peer_seg(&p, A | PSH | ECE, 1, 13, 5);
	assert_int_equal(last_tos(&sm), ECT0);
	/* CWR: the echo stops, and the ACK goes at once. */
	sim_peer_send(&p, 13, 6, A | PSH | CWR, 65535, "dddd", 4);
	expect_peer_seg(&p, A, 6, 17, 0);
	sim_peer_send(&p, 17, 6, A | PSH, 65535, "eeee", 4);
	sim_run(&sm, 100 * MS);
	expect_peer_seg(&p, A, 6, 21, 0);      /* delayed again, no ECE */
	assert_int_equal(ecn_counter(&sm, S, "InCEPkts"), 1);
	peer_end(&sm, &p);
}

/* The sender: ECE reduces cwnd once per window, as Linux's CWR state:
 * ssthresh from CUBIC at once (0.7 cwnd), cwnd brought down to it over
 * the round trip by PRR (RFC 6937: 0.7 segment sent per segment
 * delivered while the pipe is above ssthresh, then up to ssthresh), the
 * first new data carrying CWR; no growth until SND.UNA passes what was
 * outstanding, then cwnd = ssthresh. ECE again inside the same window
 * does nothing, after it reduces again. */
static void test_ece_reduces_once_per_window(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	peer_fx(&sm, &p, 906, NOT_ECT);
	hsk_stack *s = sm.st[S];
	static char data[40 * 1460];
	const uint32_t mss = sim_mss(&sm);
	memset(data, 'e', sizeof(data));
	assert_int_equal(hsk_send(s, p.sd, data, 40 * mss), (long)(40 * mss));
	uint32_t seq = 1;
	for (int i = 0; i < 10; i++, seq += mss) {
		expect_peer_seg(&p, i == 9 ? A | PSH : A, seq, 1, mss);
		assert_int_equal(last_tos(&sm), ECT0);
	}
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(s, p.sd, &ti), 0);
	uint32_t cwnd0 = ti.cwnd;
	assert_int_equal(cwnd0, 10 * mss);
	/* Two segments acknowledged, with ECE: the reduction, once. The
	 * pipe (8 segments) is above ssthresh (7 segments): PRR lets
	 * ceil(2 mss * 7 mss / 10 mss) = 1.4 mss go (2044 bytes at MSS
	 * 1460), one segment, with CWR. */
	sim_run(&sm, 10 * MS);
	sim_peer_send(&p, 1, 1 + 2 * mss, A | ECE, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPECNReduce"), 1);
	assert_int_equal(hsk_sock_info(s, p.sd, &ti), 0);
	assert_int_equal(ti.ssthresh, 7 * mss);
	assert_int_equal(ti.cwnd, 8 * mss + (14 * mss + 9) / 10);
	assert_false(ti.in_recovery);
	expect_peer_seg(&p, A | PSH | CWR, seq, 1, mss);  /* cwnd: no more */
	assert_int_equal(last_tos(&sm), ECT0);
	seq += mss;
	expect_no_tx(&sm);
	/* Four more, with ECE (the echo of data sent before: the same
	 * window): the pipe (5 segments) is below ssthresh, so PRR's
	 * slow-start bound brings cwnd up to ssthresh: 2 segments. */
	sim_peer_send(&p, 1, 1 + 6 * mss, A | ECE, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPECNReduce"), 1);
	assert_int_equal(hsk_sock_info(s, p.sd, &ti), 0);
	assert_int_equal(ti.cwnd, 7 * mss);
	for (int i = 0; i < 2; i++, seq += mss) {
		const sim_ev *e = sim_next_tx(&sm);
		assert_non_null(e);
		assert_false(e->ev.flags & CWR);
		assert_int_equal(e->ev.seq - p.hiss, seq);
	}
	expect_no_tx(&sm);
	/* Everything up to what was outstanding at the reduction: still
	 * the CWR state (cwnd from PRR, no growth); past it, the state ends
	 * at ssthresh, and an ECE on that ACK is a new reduction. */
	sim_peer_send(&p, 1, 1 + 10 * mss, A | ECE, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPECNReduce"), 1);
	assert_int_equal(hsk_sock_info(s, p.sd, &ti), 0);
	assert_true(ti.cwnd <= 7 * mss);
	sim_peer_send(&p, 1, 1 + 11 * mss, A | ECE, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPECNReduce"), 2);
	peer_end(&sm, &p);
}

/* The CWR state ends once SND.UNA passes what was outstanding: cwnd =
 * ssthresh, and growth again after. A loss inside it is fast recovery
 * without a second reduction (ssthresh kept, as Linux). */
static void test_cwr_ends_at_ssthresh(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	peer_fx(&sm, &p, 907, NOT_ECT);
	hsk_stack *s = sm.st[S];
	static char data[60 * 1460];
	const uint32_t mss = sim_mss(&sm);
	memset(data, 'f', sizeof(data));
	assert_int_equal(hsk_send(s, p.sd, data, sizeof(data)), (long)sizeof(data));
	sim_run(&sm, 10 * MS);
	sim_peer_send(&p, 1, 1 + 2 * mss, A | ECE, 65535, NULL, 0);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(s, p.sd, &ti), 0);
	uint32_t ssthresh = ti.ssthresh;
	assert_int_equal(ssthresh, 7 * mss);
	/* ACKs without ECE up to the end of the window: no growth. */
	for (uint32_t k = 4; k <= 10; k += 2) {
		sim_peer_send(&p, 1, 1 + k * mss, A, 65535, NULL, 0);
		assert_int_equal(hsk_sock_info(s, p.sd, &ti), 0);
		assert_true(ti.cwnd <= ssthresh);
		assert_int_equal(ti.ssthresh, ssthresh);
	}
	/* Past it: cwnd = ssthresh, then congestion avoidance. */
	sim_peer_send(&p, 1, 1 + 11 * mss, A, 65535, NULL, 0);
	assert_int_equal(hsk_sock_info(s, p.sd, &ti), 0);
	assert_true(ti.cwnd >= ssthresh && ti.cwnd < ssthresh + mss);
	assert_int_equal(ti.ssthresh, ssthresh);
	/* A new reduction, then three duplicate ACKs: recovery with the
	 * same ssthresh. */
	uint32_t una = 1 + 12 * mss;
	sim_peer_send(&p, 1, una, A | ECE, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPECNReduce"), 2);
	assert_int_equal(hsk_sock_info(s, p.sd, &ti), 0);
	uint32_t ss2 = ti.ssthresh;
	assert_true(ss2 < ssthresh);
	for (int i = 0; i < 3; i++)
		sim_peer_send(&p, 1, una, A, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPRenoRecovery") +
			 sim_counter(&sm, S, "TCPSackRecovery"), 1);
	assert_int_equal(hsk_sock_info(s, p.sd, &ti), 0);
	assert_true(ti.in_recovery);
	assert_int_equal(ti.ssthresh, ss2);
	peer_end(&sm, &p);
}

/* Retransmissions and pure ACKs are never ECT (RFC 3168 §6.1.5). */
static void test_retransmission_not_ect(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	peer_fx(&sm, &p, 907, NOT_ECT);
	hsk_stack *s = sm.st[S];
	assert_int_equal(hsk_send(s, p.sd, "lost", 4), 4);
	expect_peer_seg(&p, A | PSH, 1, 1, 4);
	assert_int_equal(last_tos(&sm), ECT0);
	sim_run(&sm, 1500 * MS);
	expect_peer_seg(&p, A | PSH, 1, 1, 4);          /* the RTO's copy */
	assert_int_equal(last_tos(&sm), NOT_ECT);
	peer_end(&sm, &p);
}

/* Between two stacks, a congested link marks two of the sender's
 * packets: the receiver echoes, the sender reduces and says CWR, nothing
 * is lost or sent again, every byte arrives. */
static void test_ce_marks_between_stacks(void **state)
{
	(void)state;
	sim sm;
	init_client_ecn(&sm, 1, 908);
	int lsd, csd, ssd;
	open_raw(&sm, &lsd, &csd, &ssd);
	sim_ce_mark(&sm, C, 5);
	sim_ce_mark(&sm, C, 60);
	static char out[300000], in[300000];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	size_t sent = 0, got = 0;
	for (int round = 0; round < 2000 && got < sizeof(out); round++) {
		long n;
		if (sent < sizeof(out) &&
		    (n = hsk_send(sm.st[C], csd, out + sent, sizeof(out) - sent)) > 0)
			sent += (size_t)n;
		while ((n = hsk_recv(sm.st[S], ssd, in + got, sizeof(in) - got)) > 0)
			got += (size_t)n;
		sim_run(&sm, 1 * MS);
	}
	assert_int_equal(got, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	assert_int_equal(sm.ce_marked[C], 2);
	assert_int_equal(ecn_counter(&sm, S, "InCEPkts"), 2);
	assert_int_equal(sim_counter(&sm, C, "TCPECNReduce"), 2);
	assert_true(sim_count_tx(&sm, S, A | ECE) >= 2);
	int cwr = 0;
	for (size_t i = 0; i < sm.nlog; i++)
		cwr += sm.log[i].host == C && sm.log[i].ev.kind == HSK_EV_TX &&
		       (sm.log[i].ev.flags & (CWR | SYN)) == CWR;
	assert_int_equal(cwr, 2);
	assert_int_equal(sim_counter(&sm, C, "RetransSegs"), 0);
	end(&sm, lsd, csd, ssd);
}

/* IP_TOS: the DSCP on every packet of the connection (SYN, data, ACKs,
 * the TIME_WAIT entry's, a reset), its ECN bits TCP's own; a listener's
 * on its SYN-ACKs and accepted connections. Over IPv6 (test_ecn_v6) the
 * same byte is the traffic class, as IPV6_TCLASS. */
static void test_ip_tos(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 909);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	int lsd = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_IP_TOS, 0x28), 0);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	int csd = sim_socket(&sm, C);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_IP_TOS, 0xbb), 0);
	int v = 0;
	assert_int_equal(hsk_getsockopt(c, csd, HSK_IP_TOS, &v), 0);
	assert_int_equal(v, 0xb8);              /* the ECN bits are TCP's */
	assert_int_equal(sim_connect_to(&sm, C, csd, S, PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	assert_int_equal(last_tos(&sm), 0xb8);
	expect_seg(&sm, S, SYN | A, 0, 1, 0);
	assert_int_equal(last_tos(&sm), 0x28);
	expect_seg(&sm, C, A, 1, 1, 0);
	assert_int_equal(last_tos(&sm), 0xb8);
	assert_int_equal(hsk_send(s, ssd, "hi", 2), 2);
	sim_run(&sm, 5 * MS);
	expect_seg(&sm, S, A | PSH, 1, 1, 2);
	assert_int_equal(last_tos(&sm), 0x28);
	expect_seg(&sm, C, A, 1, 3, 0);
	assert_int_equal(last_tos(&sm), 0xb8);
	char buf[4];
	assert_int_equal(hsk_recv(c, csd, buf, sizeof(buf)), 2);
	/* Changed on the connection: from the next packet on. */
	assert_int_equal(hsk_setsockopt(c, csd, HSK_IP_TOS, 0x10), 0);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 5 * MS);
	expect_seg(&sm, C, HSK_TH_FIN | A, 1, 3, 0);
	assert_int_equal(last_tos(&sm), 0x10);
	expect_seg(&sm, S, A, 3, 2, 0);
	assert_int_equal(hsk_close(s, ssd), 0);
	sim_run(&sm, 5 * MS);
	expect_seg(&sm, S, HSK_TH_FIN | A, 3, 2, 0);
	expect_seg(&sm, C, A, 2, 4, 0);         /* from the TIME_WAIT entry */
	assert_int_equal(last_tos(&sm), 0x10);
	hsk_close(s, lsd);
	sim_run_idle(&sm, 600 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* segs full segments written on the peer's connection at S (40 at most);
 * returns the MSS. */
static uint32_t peer_write(sim *sm, sim_peer *p, uint32_t segs)
{
	static char data[40 * 1460];
	const uint32_t mss = sim_mss(sm);
	assert_true(segs * mss <= sizeof(data));
	memset(data, 'w', sizeof(data));
	assert_int_equal(hsk_send(sm->st[S], p->sd, data, segs * mss), (long)(segs * mss));
	return mss;
}

/* ECN's once-per-window edge across the wrap: an ECE is news only on an
 * ACK past the edge (a passive end's first: its ISS; after a reduction:
 * SND.MAX then, ecn_high), and seq_gt(SEG.ACK, edge) alone turns false
 * once SND.UNA is 2^31 past it, which a long transfer without a
 * reduction reaches (the fault test_syn_wrap's `syn_acked` fixed for the
 * SYN). The edge is moved `behind` bytes back from SND.UNA (0: not
 * moved), as after such a transfer, then a few segments go: an ECE
 * beyond the wrap reduces as one a few bytes into a connection does.
 * high: the edge of a reduction (the CWR state over), else the ISS.
 * Returns ssthresh after the ECE (0: no reduction); after a reduction,
 * an ECE not past its own edge does nothing. */
static uint32_t ece_past_edge(uint32_t behind, bool high)
{
	sim sm;
	sim_peer p;
	peer_fx(&sm, &p, 910, NOT_ECT);
	hsk_stack *s = sm.st[S];
	tcb *t = sock_get(s, p.sd)->t;
	const uint32_t mss = sim_mss(&sm);
	uint64_t cut = 0;
	uint32_t ack = 1;
	if (high) {
		/* A first reduction, and its CWR state ended (past SND.MAX
		 * then: ten segments). */
		peer_write(&sm, &p, 20);
		sim_run(&sm, 10 * MS);
		sim_peer_send(&p, 1, 1 + 2 * mss, A | ECE, 65535, NULL, 0);
		sim_peer_send(&p, 1, ack = 1 + 11 * mss, A, 65535, NULL, 0);
		assert_false(t->act->ecn_cwr);
		cut = 1;
	}
	assert_int_equal(sim_counter(&sm, S, "TCPECNReduce"), cut);
	if (high)
		t->act->ecn_high = seq_add(t->snd_una, -(int32_t)behind);
	else
		t->iss = seq_add(t->snd_una, -(int32_t)behind);
	/* New data sent past the move (after an ACK of one segment: cwnd
	 * may be full), then the ECE, 2^31 + 2 MSS past the moved edge.
	 * (ecn.c notes a far edge on new data, which a real transfer sends
	 * many times between 2^30 and 2^31: one such segment stands for
	 * them.) */
	peer_write(&sm, &p, 20);
	sim_run(&sm, 10 * MS);
	sim_peer_send(&p, 1, ack + mss, A, 65535, NULL, 0);
	sim_run(&sm, 10 * MS);
	sim_peer_send(&p, 1, ack + 4 * mss, A | ECE, 65535, NULL, 0);
	hsk_tcp_info ti;
	assert_int_equal(hsk_sock_info(s, p.sd, &ti), 0);
	uint32_t ss = sim_counter(&sm, S, "TCPECNReduce") > cut ? ti.ssthresh : 0;
	if (ss) {
		/* The reduction's own edge (SND.MAX then) holds, the far
		 * mark gone with the old edge: past its CWR state, an ECE on
		 * an old ACK of data sent before it is no news. */
		assert_true(seq_gt(t->snd_max, t->act->ecn_high));
		sim_peer_send(&p, 1, t->snd_max.v - p.hiss, A, 65535, NULL, 0);
		assert_false(t->act->ecn_cwr);
		sim_peer_send(&p, 1, t->act->ecn_high.v - p.hiss, A | ECE, 65535, NULL, 0);
		assert_int_equal(sim_counter(&sm, S, "TCPECNReduce"), cut + 1);
	}
	peer_end(&sm, &p);
	return ss;
}

static void test_ece_edge_wrap(void **state)
{
	(void)state;
	const uint32_t wrap = (1u << 31) - 2 * 1460;
	for (int high = 0; high < 2; high++) {
		uint32_t ss = ece_past_edge(0, high);
		assert_true(ss > 0);
		assert_int_equal(ece_past_edge(wrap, high), ss);
	}
}

/* The first edge's other side: an ECE on an ACK of nothing past a passive
 * end's ISS (an old ACK: SEG.ACK = ISS, acceptable while SND.UNA is within
 * MAX.SND.WND of it) is no news; the next ACK's is. */
static void test_ece_at_iss_no_reduction(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	peer_fx(&sm, &p, 911, NOT_ECT);
	const uint32_t mss = peer_write(&sm, &p, 10);
	sim_run(&sm, 10 * MS);
	sim_peer_send(&p, 1, 1 + 2 * mss, A, 65535, NULL, 0);
	sim_peer_send(&p, 1, 0, A | ECE, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPECNReduce"), 0);
	sim_peer_send(&p, 1, 1 + 3 * mss, A | ECE, 65535, NULL, 0);
	assert_int_equal(sim_counter(&sm, S, "TCPECNReduce"), 1);
	peer_end(&sm, &p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiated),
		cmocka_unit_test(test_not_negotiated),
		cmocka_unit_test(test_syn_retransmitted_without_ecn),
		cmocka_unit_test(test_ect_syn_not_answered),
		cmocka_unit_test(test_ce_echoed_until_cwr),
		cmocka_unit_test(test_ece_reduces_once_per_window),
		cmocka_unit_test(test_cwr_ends_at_ssthresh),
		cmocka_unit_test(test_retransmission_not_ect),
		cmocka_unit_test(test_ce_marks_between_stacks),
		cmocka_unit_test(test_ip_tos),
		cmocka_unit_test(test_ece_edge_wrap),
		cmocka_unit_test(test_ece_at_iss_no_reduction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
