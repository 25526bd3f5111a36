/*
 * TCP over IPv6 between two stacks on the simulator (issue 9, phase 2):
 * the handshake with IPv6's MSS, data both ways, the close into TIME_WAIT
 * and out of it; addresses through the API (accept, getsockname,
 * getpeername, v4-mapped peers of a dual-stack listener); a v6only
 * listener refusing IPv4; a closed port refused over IPv6; SYN cookies
 * keyed on 128-bit addresses; the bind and option errors of Linux; and
 * the memory of each family's objects (IPv4's unchanged).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "stack/stack.h"
#include "tcp/passive.h"

enum { C = 0, S = 1, PORT = 80 };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN
#define FIN HSK_TH_FIN
#define PSH HSK_TH_PSH
#define RST HSK_TH_RST

static const uint8_t ANY[16];

static sim *open6(sim *sm, uint64_t seed, const hsk_config *cfg)
{
	sim_init(sm, 2, cfg, seed);
	sim_use_ipv6(sm);
	return sm;
}

/* Every segment in the log is IPv6 between the two hosts' addresses. */
static void all_segments_v6(const sim *sm)
{
	int n = 0;

	for (size_t i = 0; i < sm->nlog; i++) {
		const hsk_trace_event *e = &sm->log[i].ev;
		if (e->kind != HSK_EV_TX && e->kind != HSK_EV_RX)
			continue;
		int h = sm->log[i].host;
		hsk_addr l = sim_addr6(h), r = sim_addr6(1 - h);
		assert_int_equal(e->family, HSK_AF_INET6);
		assert_memory_equal(e->laddr6, l.v6, 16);
		assert_memory_equal(e->raddr6, r.v6, 16);
		/* (the sim log maps the addresses back to IPv4's twins) */
		assert_int_equal(e->tuple.laddr, SIM_ADDR(h));
		n++;
	}
	assert_true(n > 0);
}

static void pump(sim *sm, hsk_stack *from, int fsd, hsk_stack *to, int tsd,
		 const uint8_t *data, size_t len)
{
	static uint8_t got[1 << 20];
	size_t sent = 0, rcvd = 0;

	assert_true(len <= sizeof(got));
	for (int i = 0; i < 10000 && rcvd < len; i++) {
		if (sent < len) {
			long n = hsk_send(from, fsd, data + sent, len - sent);
			if (n > 0)
				sent += (size_t)n;
		}
		sim_run(sm, 1 * MS);
		long n = hsk_recv(to, tsd, got + rcvd, len - rcvd);
		if (n > 0)
			rcvd += (size_t)n;
	}
	assert_int_equal(rcvd, len);
	assert_memory_equal(got, data, len);
}

static void test_lifecycle(void **state)
{
	(void)state;
	static uint8_t data[300000];
	sim sm;
	hsk_stack *c, *s;
	int lsd, csd, ssd;
	hsk_addr a;
	uint16_t port;
	char buf[HSK_ADDRSTRLEN];
	hsk_tcp_info ti;

	open6(&sm, 61, NULL);
	c = sm.st[C];
	s = sm.st[S];
	sim_open_pair(&sm, C, S, PORT, 8, &lsd, &csd, &ssd);
	/* the SYN offered IPv6's MSS: 1500 - 40 - 20 */
	for (size_t i = 0; i < sm.nlog; i++)
		if (sm.log[i].ev.kind == HSK_EV_TX && (sm.log[i].ev.flags & SYN))
			assert_int_equal(sm.log[i].ev.mss, 1440);
	assert_int_equal(hsk_sock_info(c, csd, &ti), 0);
	assert_int_equal(ti.mss, 1440 - 12);               /* timestamps */

	/* the addresses, as getsockname/getpeername give them */
	assert_int_equal(hsk_sock_name(c, csd, &a, &port), 0);
	assert_string_equal(hsk_addr_str(&a, buf), "2001:2::c612:1");
	assert_true(port >= 32768);
	assert_int_equal(hsk_sock_peer(c, csd, &a, &port), 0);
	assert_string_equal(hsk_addr_port_str(&a, port, buf), "[2001:2::c612:2]:80");
	assert_int_equal(hsk_sock_name(s, ssd, &a, &port), 0);
	assert_string_equal(hsk_addr_port_str(&a, port, buf), "[2001:2::c612:2]:80");
	assert_int_equal(hsk_sock_name(s, lsd, &a, &port), 0);
	assert_string_equal(hsk_addr_port_str(&a, port, buf), "[::]:80");
	assert_int_equal(hsk_sock_peer(s, lsd, &a, &port), -HSK_ENOTCONN);

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 9));
	pump(&sm, c, csd, s, ssd, data, sizeof data);
	pump(&sm, s, ssd, c, csd, data, 100000);

	/* the client closes first: TIME_WAIT (an IPv6 entry), then nothing */
	sm.tx_cursor = sm.nlog;
	for (int i = 0; i < SIM_MAX_HOSTS; i++)
		sm.st_cursor[i] = sm.nlog;
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_close(s, ssd), 0);
	sim_run(&sm, 5 * MS);
	expect_state(&sm, C, HSK_ESTABLISHED, HSK_FIN_WAIT_1);
	expect_state(&sm, C, HSK_FIN_WAIT_1, HSK_FIN_WAIT_2);
	expect_state(&sm, C, HSK_FIN_WAIT_2, HSK_TIME_WAIT);
	expect_state(&sm, S, HSK_ESTABLISHED, HSK_CLOSE_WAIT);
	expect_state(&sm, S, HSK_CLOSE_WAIT, HSK_LAST_ACK);
	expect_state(&sm, S, HSK_LAST_ACK, HSK_CLOSED);
	hsk_usage u;
	hsk_stack_usage(c, &u);
	assert_int_equal(u.timewaits, 1);
	assert_int_equal(pool_in_use(&c->tcp.tw_pool6), 1);
	assert_int_equal(pool_in_use(&c->tcp.tw_pool), 0);
	sim_run(&sm, 61 * SEC);
	expect_state(&sm, C, HSK_TIME_WAIT, HSK_CLOSED);
	all_segments_v6(&sm);
	assert_int_equal(sim_counter(&sm, C, "InCsumErrors"), 0);
	assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), 0);
	assert_int_equal(sim_counter(&sm, S, "Ip6InDelivers"), sim_counter(&sm, S, "InSegs"));
	assert_int_equal(sim_counter(&sm, C, "InReceives"), 0);      /* no IPv4 at all */
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A listener on :: takes both families; its IPv4 peers read v4-mapped.
 * A v6only one takes IPv6 alone: IPv4 is refused as by no listener. */
static void test_dual_stack(void **state)
{
	(void)state;
	sim sm;
	hsk_stack *c, *s;
	hsk_addr a, any6 = hsk_addr_v6(ANY), srv4 = hsk_addr_v4(SIM_ADDR(S));
	uint16_t port;
	char buf[HSK_ADDRSTRLEN];
	int v;

	open6(&sm, 62, NULL);
	c = sm.st[C];
	s = sm.st[S];
	int lsd = sim_listen(&sm, S, PORT, 8);
	int c4 = hsk_socket(c), c6 = sim_connect(&sm, C, S, PORT);
	assert_int_equal(hsk_connect(c, c4, SIM_ADDR(S), PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(c, c4), HSK_ESTABLISHED);
	assert_int_equal(hsk_sock_state(c, c6), HSK_ESTABLISHED);
	int first = hsk_accept_addr(s, lsd, &a, &port);
	assert_true(first >= 0);
	int second = hsk_accept_addr(s, lsd, &a, &port);
	assert_true(second >= 0);
	hsk_addr p1, p2;
	uint16_t q1, q2;
	assert_int_equal(hsk_sock_peer(s, first, &p1, &q1), 0);
	assert_int_equal(hsk_sock_peer(s, second, &p2, &q2), 0);
	hsk_addr c6a = sim_addr6(C);
	const hsk_addr *v6p = hsk_addr_eq(&p1, &c6a) ? &p1 : &p2;
	const hsk_addr *v4p = v6p == &p1 ? &p2 : &p1;
	assert_true(hsk_addr_eq(v6p, &c6a));
	assert_int_equal(v4p->family, HSK_AF_INET6);
	assert_string_equal(hsk_addr_str(v4p, buf), "::ffff:198.18.0.1");
	assert_int_equal(hsk_sock_name(s, v6p == &p1 ? second : first, &a, &port), 0);
	assert_string_equal(hsk_addr_port_str(&a, port, buf), "[::ffff:198.18.0.2]:80");
	/* the IPv4 one is an IPv4 object, as small as ever */
	assert_int_equal(pool_in_use(&s->tcp.tcb_pool), 1);
	assert_int_equal(pool_in_use(&s->tcp.tcb_pool6), 1);
	/* the port is taken for IPv4 as well */
	int l4 = hsk_socket(s);
	assert_int_equal(hsk_bind(s, l4, 0, PORT), -HSK_EADDRINUSE);
	assert_int_equal(hsk_close(s, l4), 0);

	/* v6only on 81: IPv4 to it is refused, IPv6 accepted; and an IPv4
	 * listener may share the port */
	int l6 = hsk_socket_family(s, HSK_AF_INET6);
	assert_int_equal(hsk_getsockopt(s, l6, HSK_SO_V6ONLY, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(hsk_setsockopt(s, l6, HSK_SO_V6ONLY, 1), 0);
	assert_int_equal(hsk_bind_addr(s, l6, &any6, 81), 0);
	assert_int_equal(hsk_setsockopt(s, l6, HSK_SO_V6ONLY, 0), -HSK_EINVAL);
	assert_int_equal(hsk_listen(s, l6, 8), 0);
	int x4 = hsk_socket(c);
	assert_int_equal(hsk_connect_addr(c, x4, &srv4, 81), -HSK_EINPROGRESS);
	int x6 = hsk_socket_family(c, HSK_AF_INET6);
	hsk_addr srv6 = sim_addr6(S);
	assert_int_equal(hsk_connect_addr(c, x6, &srv6, 81), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_error(c, x4), HSK_ECONNREFUSED);
	assert_int_equal(hsk_sock_state(c, x6), HSK_ESTABLISHED);
	int l4b = hsk_socket(s);
	assert_int_equal(hsk_bind(s, l4b, 0, 81), 0);
	assert_int_equal(hsk_listen(s, l4b, 8), 0);

	int y = hsk_accept_addr(s, l6, NULL, NULL);
	assert_true(y >= 0);
	int fds_c[] = { c4, c6, x4, x6 }, fds_s[] = { first, second, y, l6, l4b, lsd };
	for (size_t i = 0; i < 4; i++)
		hsk_abort(c, fds_c[i]);
	for (size_t i = 0; i < 6; i++)
		hsk_abort(s, fds_s[i]);
	sim_run(&sm, 1 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* One connection of C to S (IPv4 when v4), closed by C first: C's end
 * goes into TIME_WAIT, when there is room. */
static void close_into_tw(sim *sm, int lsd, bool v4)
{
	hsk_stack *c = sm->st[C], *s = sm->st[S];
	int csd;
	if (v4) {
		csd = hsk_socket(c);
		assert_int_equal(hsk_connect(c, csd, SIM_ADDR(S), PORT), -HSK_EINPROGRESS);
	} else {
		csd = sim_connect(sm, C, S, PORT);
	}
	sim_run(sm, 10 * MS);
	int ssd = hsk_accept(s, lsd, NULL);
	assert_true(ssd >= 0);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(sm, 10 * MS);
	assert_int_equal(hsk_close(s, ssd), 0);
	sim_run(sm, 10 * MS);
}

/* max_tw_buckets is one limit for both families: an IPv6 entry is
 * refused while an IPv4 one fills it, though the IPv6 pool has a free
 * entry at hand (tw_enter's usual way, which C takes untraced, uses the
 * free list's head only within the limit); once the IPv4 one is gone
 * that free entry is taken, with the addresses its lookup compares. */
static void test_tw_limit_both_families(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.max_tw_buckets = 1;
	sim sm;
	open6(&sm, 63, &cfg);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	c->env.cfg.trace = NULL;        /* (tw_enter's usual way is untraced) */
	int lsd = sim_listen(&sm, S, PORT, 8);
	close_into_tw(&sm, lsd, false);
	assert_int_equal(pool_in_use(&c->tcp.tw_pool6), 1);
	sim_run(&sm, 61 * SEC);         /* reaped: its entry on the free list */
	assert_int_equal(pool_in_use(&c->tcp.tw_pool6), 0);
	close_into_tw(&sm, lsd, true);
	assert_int_equal(pool_in_use(&c->tcp.tw_pool), 1);
	close_into_tw(&sm, lsd, false);
	assert_int_equal(pool_in_use(&c->tcp.tw_pool6), 0);
	assert_int_equal(sim_counter(&sm, C, "TCPTimeWaitOverflow"), 1);
	hsk_usage u;
	hsk_stack_usage(c, &u);
	assert_int_equal(u.timewaits, 1);
	sim_run(&sm, 61 * SEC);
	/* the IPv6 pool's free entry, found by its tuple and addresses */
	void *head = c->tcp.tw_pool6.free_list;
	assert_non_null(head);
	close_into_tw(&sm, lsd, false);
	assert_int_equal(pool_in_use(&c->tcp.tw_pool6), 1);
	const tcp_tw *tw = head;
	assert_int_equal(tw->node.kind, HSK_OBJ_TW);
	assert_true(timer_armed(&tw->timer));
	assert_ptr_equal(tbl_lookup6(&c->tcp.conns, &tw->node.key, tbl_v6(&c->tcp.conns, &tw->node)),
			 head);
	tbl_v6addrs a6;
	hsk_addr l = sim_addr6(C), r = sim_addr6(S);
	memcpy(a6.l, l.v6, 16);
	memcpy(a6.r, r.v6, 16);
	assert_memory_equal(tbl_v6(&c->tcp.conns, &tw->node), &a6, sizeof(a6));
	/* MSL shortened: an IPv4 entry (its pool's free one) due before the
	 * IPv6 one is not appended to the wheel's fifo behind it, and is
	 * reaped on time */
	c->tcp.tw_pool.max = c->tcp.tw_pool6.max = 2;
	c->env.cfg.msl_ns = 5 * SEC;
	assert_non_null(c->tcp.tw_pool.free_list);
	close_into_tw(&sm, lsd, true);
	assert_int_equal(pool_in_use(&c->tcp.tw_pool), 1);
	sim_run(&sm, 11 * SEC);
	assert_int_equal(pool_in_use(&c->tcp.tw_pool), 0);
	assert_int_equal(pool_in_use(&c->tcp.tw_pool6), 1);
	sim_run(&sm, 61 * SEC);
	/* a socket still open is told of its TIME_WAIT (tw_enter's general
	 * way: the transition notifies it) */
	assert_non_null(c->tcp.tw_pool6.free_list);
	int csd = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	int ssd = hsk_accept(s, lsd, NULL);
	assert_int_equal(hsk_shutdown(c, csd, HSK_SHUT_WR), 0);
	sim_run(&sm, 10 * MS);
	hsk_event ev[8];
	while (hsk_stack_events(c, ev, 8) == 8)
		;
	assert_int_equal(hsk_close(s, ssd), 0);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(c, csd), HSK_TIME_WAIT);
	assert_int_equal(hsk_stack_events(c, ev, 8), 1);
	assert_int_equal(ev[0].sd, csd);
	assert_int_equal(hsk_close(c, csd), 0);
	sim_run(&sm, 61 * SEC);
	assert_int_equal(hsk_close(s, lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* No listener: the SYN is answered with a RST over IPv6. */
static void test_refused(void **state)
{
	(void)state;
	sim sm;
	open6(&sm, 63, NULL);
	hsk_stack *c = sm.st[C];
	int sd = sim_connect(&sm, C, S, 9);
	sim_run(&sm, 10 * MS);
	expect_seg(&sm, C, SYN, 0, 0, 0);
	const sim_ev *e = sim_next_tx(&sm);
	assert_non_null(e);
	assert_int_equal(e->host, S);
	assert_int_equal(e->ev.flags, RST | A);
	assert_int_equal(hsk_sock_error(c, sd), HSK_ECONNREFUSED);
	assert_int_equal(sim_counter(&sm, S, "RstSentNoSocket"), 1);
	assert_int_equal(sim_counter(&sm, C, "InCsumErrors"), 0);
	all_segments_v6(&sm);
	hsk_close(c, sd);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A full SYN queue answers with cookies; the final ACKs bring them back
 * over IPv6 and the cookie (keyed on the 128-bit addresses) checks out. */
static void test_cookies(void **state)
{
	(void)state;
	hsk_config cfg;
	sim sm;
	int sd[6];

	hsk_config_default(&cfg);
	cfg.max_syn_backlog = 1;
	open6(&sm, 64, &cfg);
	int lsd = sim_listen(&sm, S, PORT, 16);
	sim_blackhole(&sm, C, A, true);       /* hold the handshakes open */
	for (int i = 0; i < 6; i++)
		sd[i] = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 5 * MS);
	assert_true(sim_counter(&sm, S, "SyncookiesSent") >= 4);
	sim_blackhole(&sm, C, A, false);
	/* the client's next ACK (its data) completes the cookie handshakes */
	for (int i = 0; i < 6; i++)
		assert_int_equal(hsk_send(sm.st[C], sd[i], "x", 1), 1);
	sim_run(&sm, 3 * SEC);
	assert_true(sim_counter(&sm, S, "SyncookiesRecv") >= 4);
	assert_int_equal(sim_counter(&sm, S, "SyncookiesFailed"), 0);
	for (int i = 0; i < 6; i++) {
		char b;
		int a = hsk_accept(sm.st[S], lsd, NULL);
		assert_true(a >= 0);
		assert_int_equal(hsk_recv(sm.st[S], a, &b, 1), 1);
		hsk_abort(sm.st[S], a);
		hsk_abort(sm.st[C], sd[i]);
	}
	hsk_close(sm.st[S], lsd);
	sim_run(&sm, 1 * SEC);
	all_segments_v6(&sm);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* ISNs and cookies take every bit of the addresses (not the 32-bit folds
 * of the table's key). */
static void test_keyed_on_128_bits(void **state)
{
	(void)state;
	sim sm;
	open6(&sm, 65, NULL);
	tcp_stack *t = &sm.st[S]->tcp;
	tbl_v6addrs a, b;
	memcpy(a.l, sim_addr6(S).v6, 16);
	memcpy(a.r, sim_addr6(C).v6, 16);
	hsk_tuple k = tbl_key6(&t->conns, &a, 80, 40000);
	hsk_seq irs = { 12345 };
	hsk_seq cookie = cookie_make(t, &k, &a, irs, 1440);
	assert_int_equal(cookie_check(t, &k, &a, cookie, irs), 1440);
	for (int i = 0; i < 32; i++) {
		b = a;
		(i < 16 ? b.l : b.r)[i % 16] ^= 0x40;
		/* same key (as colliding folds would give), other addresses */
		assert_int_equal(cookie_check(t, &k, &b, cookie, irs), 0);
		assert_int_not_equal(tcp_isn(t, &k, &a).v, tcp_isn(t, &k, &b).v);
	}
	/* and an IPv4 tuple with those ports is another thing */
	hsk_tuple k4 = { SIM_ADDR(S), SIM_ADDR(C), 80, 40000 };
	assert_int_equal(cookie_check(t, &k4, NULL, cookie, irs), 0);
	/* Fast Open cookies: every bit of either address counts, not the
	 * table's folds */
	uint8_t fo[8], fo2[8];
	tfo_cookie_make(t, &k, &a, fo);
	for (int i = 0; i < 32; i++) {
		b = a;
		(i < 16 ? b.l : b.r)[i % 16] ^= 0x02;
		tfo_cookie_make(t, &k, &b, fo2);
		assert_memory_not_equal(fo, fo2, 8);
	}
	sim_free(&sm);
}

/* The flow labels seen on the wire (flow_seen, a memnet filter): per
 * packet, its sender, ports, flags and label. */
enum { FLOWS_MAX = 4096 };
static struct flow_pkt {
	int from;
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t label;
} flows[FLOWS_MAX];
static size_t nflows;
static uint16_t flow_drop_port;     /* the client's next packet from it: lost */

static bool flow_seen(void *ctx, int from, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	if (len < 60 || pkt[0] >> 4 != 6 || pkt[6] != IP_PROTO_TCP || nflows == FLOWS_MAX)
		return true;
	struct flow_pkt *f = &flows[nflows++];
	*f = (struct flow_pkt){ from, (uint16_t)(pkt[40] << 8 | pkt[41]),
				(uint16_t)(pkt[42] << 8 | pkt[43]), pkt[53],
				(uint32_t)(pkt[1] & 0xf) << 16 | pkt[2] << 8 | pkt[3] };
	if (from == C && f->sport == flow_drop_port) {
		flow_drop_port = 0;
		return false;
	}
	return true;
}

/* The label `from` sends with on the connection of these ports: the same
 * on every packet of it, and not 0 (RFC 6437 §3). -1 when none was seen. */
static long flow_label_of(int from, uint16_t sport, uint16_t dport, int *packets)
{
	long label = -1;
	*packets = 0;
	for (size_t i = 0; i < nflows; i++) {
		if (flows[i].from != from || flows[i].sport != sport || flows[i].dport != dport)
			continue;
		assert_int_not_equal(flows[i].label, 0);
		if (label >= 0)
			assert_int_equal(flows[i].label, label);
		label = flows[i].label;
		++*packets;
	}
	return label;
}

/* RFC 6437: every packet of a connection carries one flow label from each
 * end: the SYN-ACK (the request's) and the data, FIN and ACKs (the TCB's),
 * TIME_WAIT's ACK of a FIN sent again, a reset; other connections,
 * another stack's key, other labels. */
static void test_flow_label(void **state)
{
	(void)state;
	static const uint8_t data[3000];
	sim sm;
	int lsd, csd[2], ssd[2], packets;
	uint16_t cport[2];
	hsk_addr a;

	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.keepalive_idle_ns = 2 * SEC;      /* (the idle connection below) */
	cfg.keepalive_intvl_ns = 1 * SEC;
	open6(&sm, 66, &cfg);
	nflows = 0;
	memnet_set_filter(sm.net, flow_seen, NULL);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	sim_open_pair(&sm, C, S, PORT, 8, &lsd, &csd[0], &ssd[0]);
	csd[1] = sim_connect(&sm, C, S, PORT);
	sim_run(&sm, 10 * MS);
	ssd[1] = hsk_accept(s, lsd, NULL);
	assert_true(ssd[1] >= 0);
	int before = 0;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(hsk_sock_name(c, csd[i], &a, &cport[i]), 0);
		pump(&sm, c, csd[i], s, ssd[i], data, sizeof data);
		pump(&sm, s, ssd[i], c, csd[i], data, sizeof data);
		assert_int_equal(hsk_close(c, csd[i]), 0);
		sim_run(&sm, 5 * MS);
		assert_int_equal(hsk_close(s, ssd[i]), 0);
		/* the first connection: the ACK of the server's FIN lost */
		flow_drop_port = i ? 0 : cport[0];
		sim_run(&sm, 5 * MS);
		if (!i)
			flow_label_of(C, cport[0], PORT, &before);
	}
	/* the server sends its FIN again: the client's TIME_WAIT entry
	 * acknowledges it, with the connection's label (flow_label_of) */
	sim_run(&sm, 2 * SEC);
	hsk_usage u;
	hsk_stack_usage(c, &u);
	assert_int_equal(u.timewaits, 2);
	long c0 = flow_label_of(C, cport[0], PORT, &packets);
	assert_int_equal(packets, before + 1);
	/* a port no one listens on: a reset, labelled */
	int rsd = sim_connect(&sm, C, S, PORT + 1);
	sim_run(&sm, 5 * MS);
	assert_int_equal(hsk_send(c, rsd, data, 1), -HSK_ECONNREFUSED);
	assert_int_equal(hsk_close(c, rsd), 0);

	/* an idle connection: its extension given back, so its keepalive
	 * probes are made without the template, with its label all the same */
	int kc = sim_connect(&sm, C, S, PORT), ks, kbefore;
	uint16_t kport;
	sim_run(&sm, 10 * MS);
	assert_true((ks = hsk_accept(s, lsd, NULL)) >= 0);
	assert_int_equal(hsk_sock_name(c, kc, &a, &kport), 0);
	pump(&sm, c, kc, s, ks, data, 100);
	assert_int_equal(hsk_setsockopt(c, kc, HSK_SO_KEEPALIVE, 1), 0);
	long k0 = flow_label_of(C, kport, PORT, &kbefore);
	sim_run(&sm, 5 * SEC);
	assert_int_equal(pool_in_use(&c->tcp.act_pool), 0);   /* no extension */
	assert_int_equal(flow_label_of(C, kport, PORT, &packets), k0);
	assert_true(packets >= kbefore + 2);
	/* and its reset, sent without an extension */
	hsk_abort(c, kc);
	sim_run(&sm, 5 * MS);
	assert_int_equal(flow_label_of(C, kport, PORT, &kbefore), k0);
	assert_int_equal(kbefore, packets + 1);

	long s0 = flow_label_of(S, PORT, cport[0], &packets);
	assert_true(s0 > 0 && packets >= 5);     /* SYN-ACK, data, ACKs, FIN */
	assert_true(c0 > 0);
	long c1 = flow_label_of(C, cport[1], PORT, &packets);
	long s1 = flow_label_of(S, PORT, cport[1], &packets);
	assert_true(c1 > 0 && s1 > 0);
	assert_int_not_equal(c0, c1);             /* another connection */
	assert_int_not_equal(s0, s1);
	assert_int_not_equal(c0, s0);             /* another end: its stack's key */
	size_t rst = 0;
	for (size_t i = 0; i < nflows; i++)
		if (flows[i].from == S && (flows[i].flags & RST)) {
			assert_int_not_equal(flows[i].label, 0);
			rst++;
		}
	assert_int_equal(rst, 1);

	/* the label is a keyed hash of the 36 bytes: 20 bits, never 0, the
	 * 1,000 tuples' labels all but distinct, another key's other */
	tbl_v6addrs ad;
	memcpy(ad.l, sim_addr6(S).v6, 16);
	memcpy(ad.r, sim_addr6(C).v6, 16);
	static uint32_t seen[1000];
	size_t same = 0, other_key = 0;
	for (uint16_t i = 0; i < 1000; i++) {
		hsk_tuple k = tbl_key6(&s->tcp.conns, &ad, 80, (uint16_t)(40000 + i));
		seen[i] = tcp_flow_label(&s->tcp, &k, &ad);
		assert_true(seen[i] > 0 && seen[i] <= 0xfffff);
		other_key += tcp_flow_label(&c->tcp, &k, &ad) != seen[i];
		for (uint16_t j = 0; j < i; j++)
			same += seen[j] == seen[i];
	}
	assert_true(same <= 2);                   /* ~0.5 expected of 2^20 */
	assert_true(other_key >= 998);
	sim_free(&sm);
}

static void test_api_errors(void **state)
{
	(void)state;
	sim sm;
	open6(&sm, 66, NULL);
	hsk_stack *s = sm.st[S];
	hsk_addr v6 = sim_addr6(S), v4 = hsk_addr_v4(SIM_ADDR(S)), other = sim_addr6(5);
	hsk_addr mapped;
	int v;

	assert_int_equal(hsk_socket_family(s, 1), -HSK_EAFNOSUPPORT);
	int s4 = hsk_socket(s), s6 = hsk_socket_family(s, HSK_AF_INET6);
	assert_int_equal(hsk_bind_addr(s, s4, &v6, 80), -HSK_EAFNOSUPPORT);
	assert_int_equal(hsk_connect_addr(s, s4, &v6, 80), -HSK_EAFNOSUPPORT);
	assert_int_equal(hsk_bind_addr(s, s6, &v4, 80), -HSK_EAFNOSUPPORT);
	assert_int_equal(hsk_bind_addr(s, s6, &other, 80), -HSK_EADDRNOTAVAIL);
	assert_int_equal(hsk_setsockopt(s, s4, HSK_SO_V6ONLY, 1), -HSK_ENOPROTOOPT);
	assert_int_equal(hsk_getsockopt(s, s4, HSK_SO_V6ONLY, &v), -HSK_ENOPROTOOPT);
	/* TCP_MAXSEG before connect: what was set, else 536, either family */
	assert_int_equal(hsk_getsockopt(s, s6, HSK_SO_MAXSEG, &v), 0);
	assert_int_equal(v, 536);
	/* a v4-mapped destination from a v6only socket: no route */
	assert_int_equal(hsk_addr_parse("::ffff:198.18.0.1", &mapped), 0);
	assert_int_equal(hsk_setsockopt(s, s6, HSK_SO_V6ONLY, 1), 0);
	assert_int_equal(hsk_connect_addr(s, s6, &mapped, 80), -HSK_ENETUNREACH);
	/* a specific address, then the wildcard on the same port */
	assert_int_equal(hsk_bind_addr(s, s6, &v6, 80), 0);
	assert_int_equal(hsk_bind_addr(s, s6, &v6, 81), -HSK_EINVAL);
	/* bound already (to an address, port 0), or connected: EINVAL for
	 * bind and for IPV6_V6ONLY alike, as Linux */
	int b = hsk_socket_family(s, HSK_AF_INET6);
	assert_int_equal(hsk_bind_addr(s, b, &v6, 0), 0);
	assert_int_equal(hsk_bind_addr(s, b, &v6, 0), -HSK_EINVAL);
	assert_int_equal(hsk_setsockopt(s, b, HSK_SO_V6ONLY, 1), -HSK_EINVAL);
	assert_int_equal(hsk_close(s, b), 0);
	int cn = hsk_socket_family(s, HSK_AF_INET6);
	hsk_addr peer = sim_addr6(C);
	assert_int_equal(hsk_connect_addr(s, cn, &peer, 80), -HSK_EINPROGRESS);
	assert_int_equal(hsk_bind_addr(s, cn, &v6, 0), -HSK_EINVAL);
	assert_int_equal(hsk_setsockopt(s, cn, HSK_SO_V6ONLY, 1), -HSK_EINVAL);
	assert_int_equal(hsk_getsockopt(s, cn, HSK_SO_V6ONLY, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(hsk_abort(s, cn), 0);
	assert_int_equal(hsk_listen(s, s6, 4), 0);
	int w = hsk_socket_family(s, HSK_AF_INET6);
	hsk_addr any6 = hsk_addr_v6(ANY);
	assert_int_equal(hsk_bind_addr(s, w, &any6, 80), -HSK_EADDRINUSE);
	/* an IPv4 listener is unaffected by an IPv6 one on a specific address */
	assert_int_equal(hsk_bind(s, s4, 0, 80), 0);
	/* no IPv6 address of the destination's scope: unreachable */
	int l = hsk_socket_family(s, HSK_AF_INET6);
	hsk_addr ll;
	assert_int_equal(hsk_addr_parse("fe80::1", &ll), 0);
	assert_int_equal(hsk_connect_addr(s, l, &ll, 80), -HSK_ENETUNREACH);
	int fds[] = { s4, s6, w, l };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(hsk_close(s, fds[i]), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

static void assert_name(hsk_stack *st, int sd, const char *want)
{
	hsk_addr a;
	uint16_t port;
	char buf[HSK_ADDRSTRLEN + 8];
	assert_int_equal(hsk_sock_name(st, sd, &a, &port), 0);
	assert_int_equal(a.family, HSK_AF_INET6);
	assert_string_equal(hsk_addr_port_str(&a, port, buf), want);
}

/* An IPv6 socket bound to a v4-mapped address is an IPv4 bind, as on
 * Linux: its listener takes IPv4 connections (IPv6 sockets naming their
 * ends v4-mapped) and not IPv6 ones; its connect reaches an IPv4 peer from
 * that address and no IPv6 one (EAFNOSUPPORT); not on a v6only socket
 * (EINVAL), nor for an address not ours (EADDRNOTAVAIL); its port
 * conflicts as an IPv4 bind's does (an IPv4 socket there, a dual-stack
 * wildcard: EADDRINUSE; an IPv6 address: free); ::ffff:0.0.0.0 is IPv4's
 * wildcard. */
static void test_v4_mapped_bind(void **state)
{
	(void)state;
	sim sm;
	open6(&sm, 67, NULL);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	hsk_addr m_srv, m_cli, m_other, m_any, a;
	hsk_addr v6 = sim_addr6(S), any6 = hsk_addr_v6(ANY);
	uint16_t port;
	char buf[HSK_ADDRSTRLEN];
	assert_int_equal(hsk_addr_parse("::ffff:198.18.0.2", &m_srv), 0);
	assert_int_equal(hsk_addr_parse("::ffff:198.18.0.1", &m_cli), 0);
	assert_int_equal(hsk_addr_parse("::ffff:198.18.9.9", &m_other), 0);
	assert_int_equal(hsk_addr_parse("::ffff:0.0.0.0", &m_any), 0);

	int e = hsk_socket_family(s, HSK_AF_INET6);
	assert_int_equal(hsk_bind_addr(s, e, &m_other, 90), -HSK_EADDRNOTAVAIL);
	assert_int_equal(hsk_setsockopt(s, e, HSK_SO_V6ONLY, 1), 0);
	assert_int_equal(hsk_bind_addr(s, e, &m_srv, 90), -HSK_EINVAL);
	assert_int_equal(hsk_close(s, e), 0);

	int l = hsk_socket_family(s, HSK_AF_INET6);
	assert_int_equal(hsk_bind_addr(s, l, &m_srv, 90), 0);
	assert_int_equal(hsk_bind_addr(s, l, &m_srv, 90), -HSK_EINVAL);
	assert_int_equal(hsk_setsockopt(s, l, HSK_SO_V6ONLY, 1), -HSK_EINVAL);
	assert_name(s, l, "[::ffff:198.18.0.2]:90");
	int x = hsk_socket(s);
	assert_int_equal(hsk_bind(s, x, SIM_ADDR(S), 90), -HSK_EADDRINUSE);
	assert_int_equal(hsk_bind(s, x, 0, 90), -HSK_EADDRINUSE);
	/* (another IPv4 address of the stack: its port is free) */
	hsk_addr second = hsk_addr_v4(SIM_ADDR(S) + 100);
	assert_int_equal(hsk_stack_add_addr(s, &second, 24), 0);
	assert_int_equal(hsk_bind(s, x, SIM_ADDR(S) + 100, 90), 0);
	int y = hsk_socket_family(s, HSK_AF_INET6);
	assert_int_equal(hsk_bind_addr(s, y, &any6, 90), -HSK_EADDRINUSE);
	assert_int_equal(hsk_close(s, y), 0);
	int z = hsk_socket_family(s, HSK_AF_INET6);
	assert_int_equal(hsk_bind_addr(s, z, &v6, 90), 0);
	assert_int_equal(hsk_listen(s, l, 8), 0);
	assert_int_equal(hsk_listen(s, z, 8), 0);
	assert_name(s, l, "[::ffff:198.18.0.2]:90");

	/* IPv4 to l, IPv6 to z */
	int c4 = hsk_socket(c), c6 = hsk_socket_family(c, HSK_AF_INET6);
	assert_int_equal(hsk_connect(c, c4, SIM_ADDR(S), 90), -HSK_EINPROGRESS);
	assert_int_equal(hsk_connect_addr(c, c6, &v6, 90), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(c, c4), HSK_ESTABLISHED);
	assert_int_equal(hsk_sock_state(c, c6), HSK_ESTABLISHED);
	int a4 = hsk_accept_addr(s, l, &a, &port);
	assert_true(a4 >= 0);
	assert_string_equal(hsk_addr_str(&a, buf), "::ffff:198.18.0.1");
	assert_int_equal(hsk_accept(s, l, NULL), -HSK_EAGAIN);
	assert_name(s, a4, "[::ffff:198.18.0.2]:90");
	int a6 = hsk_accept_addr(s, z, &a, &port);
	assert_true(a6 >= 0);
	hsk_addr c6a = sim_addr6(C);
	assert_true(hsk_addr_eq(&a, &c6a));
	assert_int_equal(pool_in_use(&s->tcp.tcb_pool), 1);
	assert_int_equal(pool_in_use(&s->tcp.tcb_pool6), 1);

	/* connect from a v4-mapped bind: IPv4 peers only */
	int m = hsk_socket_family(c, HSK_AF_INET6);
	assert_int_equal(hsk_bind_addr(c, m, &m_cli, 0), 0);
	assert_int_equal(hsk_bind_addr(c, m, &m_cli, 0), -HSK_EINVAL);
	assert_int_equal(hsk_setsockopt(c, m, HSK_SO_V6ONLY, 1), -HSK_EINVAL);
	assert_int_equal(hsk_connect_addr(c, m, &v6, 90), -HSK_EAFNOSUPPORT);
	assert_int_equal(hsk_connect_addr(c, m, &m_srv, 90), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_sock_state(c, m), HSK_ESTABLISHED);
	assert_int_equal(hsk_sock_peer(c, m, &a, &port), 0);
	assert_string_equal(hsk_addr_port_str(&a, port, buf), "[::ffff:198.18.0.2]:90");
	/* (accept's short way, which an untraced stack without a clock
	 * hook takes, makes the same IPv6 socket) */
	hsk_config saved = s->env.cfg;
	s->env.cfg.trace = NULL;
	s->env.cfg.clock = NULL;
	int am = hsk_accept(s, l, NULL);
	s->env.cfg.trace = saved.trace;
	s->env.cfg.clock = saved.clock;
	assert_true(am >= 0);
	assert_name(s, am, "[::ffff:198.18.0.2]:90");

	/* ::ffff:0.0.0.0: IPv4's wildcard, so 90 is taken; 91 is not */
	int w = hsk_socket_family(s, HSK_AF_INET6);
	assert_int_equal(hsk_bind_addr(s, w, &m_any, 90), -HSK_EADDRINUSE);
	assert_int_equal(hsk_bind_addr(s, w, &m_any, 91), 0);
	assert_int_equal(hsk_listen(s, w, 8), 0);
	assert_name(s, w, "[::ffff:0.0.0.0]:91");
	int c91 = hsk_socket(c);
	assert_int_equal(hsk_connect(c, c91, SIM_ADDR(S), 91), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	int a91 = hsk_accept(s, w, NULL);
	assert_true(a91 >= 0);
	assert_name(s, a91, "[::ffff:198.18.0.2]:91");

	int fds_c[] = { c4, c6, m, c91 }, fds_s[] = { a4, a6, am, a91, l, z, w, x };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(hsk_abort(c, fds_c[i]), 0);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(hsk_abort(s, fds_s[i]), 0);
	sim_run(&sm, 1 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* SPEED-V6: an IPv4 object is the size it was; an IPv6 one is 32 bytes
 * more, in a pool of its own. */
static void test_memory(void **state)
{
	(void)state;
	sim sm;
	open6(&sm, 67, NULL);
	tcp_stack *t = &sm.st[S]->tcp;
	assert_int_equal(sizeof(tbl_node), 24);
	assert_int_equal(t->tcb_pool.obj_size, sizeof(tcb));
	assert_int_equal(t->req_pool.obj_size, sizeof(tcp_req));
	assert_int_equal(t->tw_pool.obj_size, sizeof(tcp_tw));
	assert_int_equal(t->tcb_pool6.obj_size, sizeof(tcb) + 32);
	assert_int_equal(t->req_pool6.obj_size, sizeof(tcp_req) + 32);
	assert_int_equal(t->tw_pool6.obj_size, sizeof(tcp_tw) + 32);
	assert_true(sizeof(tcp_req) <= 128);
	assert_true(sizeof(tcp_tw) <= 96);
	printf("IPv4: tcb %zu, request %zu, TIME_WAIT %zu B; IPv6: %zu, %zu, %zu B\n",
	       sizeof(tcb), sizeof(tcp_req), sizeof(tcp_tw), sizeof(tcb) + 32,
	       sizeof(tcp_req) + 32, sizeof(tcp_tw) + 32);
	sim_free(&sm);
}

static int maxseg(sim *sm, int sd)
{
	int v = 0;
	assert_int_equal(hsk_getsockopt(sm->st[S], sd, HSK_SO_MAXSEG, &v), 0);
	return v;
}

static void ptb(sim_peer *p, uint16_t mtu, uint32_t rseq)
{
	sim_inject_icmp(p->sm, S, SIM_ADDR(6), ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, mtu,
			p->hport, p->addr, p->port, p->hiss + rseq);
}

/* PMTU discovery over IPv6 (RFC 8201) with data in flight: a packet too
 * big shrinks the MSS by IPv6's 60 bytes of headers (and the timestamp
 * option's 12) and resends at once; a claim below 1280 is discarded (RFC
 * 8201 §4: "it must discard it", as Linux; the conformance test's
 * ip_too_big_below_minimum); one quoting a sequence number not in flight
 * is not believed (RFC 5927); it never grows back. */
static void test_pmtu(void **state)
{
	(void)state;
	sim sm;
	sim_peer p;
	tcp_opts syn;
	static char d[30000];

	open6(&sm, 68, NULL);
	tcp_opts_init(&syn);
	syn.mss = 1440;
	syn.has_ts = true;
	syn.ts_val = 1;
	sim_peer_accept(&sm, &p, S, PORT, 100, &syn);
	assert_int_equal(maxseg(&sm, p.sd), 1440 - 12);
	memset(d, 'p', sizeof(d));
	assert_true(hsk_send(sm.st[S], p.sd, d, sizeof(d)) > 0);
	assert_int_equal(sim_counter(&sm, S, "Ip6InDelivers"), sim_counter(&sm, S, "InSegs"));

	ptb(&p, 1400, 1 + 1000000);            /* not in flight: ignored */
	assert_int_equal(maxseg(&sm, p.sd), 1428);
	assert_int_equal(sim_counter(&sm, S, "Icmp6InPktTooBigs"), 1);
	size_t mark = sm.nlog;
	ptb(&p, 1400, 1);
	assert_int_equal(maxseg(&sm, p.sd), 1400 - 60 - 12);
	const sim_ev *e = NULL;
	for (size_t k = mark; k < sm.nlog && !e; k++)
		if (sm.log[k].ev.kind == HSK_EV_TX)
			e = &sm.log[k];
	assert_non_null(e);
	assert_int_equal(e->ev.seq, p.hiss + 1);
	assert_int_equal(e->ev.len, 1400 - 60 - 12);
	mark = sm.nlog;
	ptb(&p, 500, 1);
	ptb(&p, 1279, 1);
	assert_int_equal(maxseg(&sm, p.sd), 1400 - 60 - 12);
	assert_int_equal(sim_count_tx_since(&sm, S, mark), 0);
	ptb(&p, 1280, 1);
	assert_int_equal(maxseg(&sm, p.sd), 1280 - 60 - 12);
	ptb(&p, 1500, 1);
	assert_int_equal(maxseg(&sm, p.sd), 1280 - 60 - 12);
	assert_int_equal(hsk_abort(sm.st[S], p.sd), 0);
	assert_int_equal(hsk_close(sm.st[S], p.lsd), 0);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* An ICMPv6 port unreachable about our SYN is a hard error (RFC 1122
 * 4.2.3.9, as for IPv4); about a connection in ESTABLISHED, soft. */
static void test_icmp6_unreachable(void **state)
{
	(void)state;
	sim sm;
	open6(&sm, 69, NULL);
	hsk_stack *c = sm.st[C];
	sim_blackhole(&sm, C, SYN, true);
	int sd = sim_connect(&sm, C, S, PORT);
	uint16_t port;
	hsk_addr a;
	assert_int_equal(hsk_sock_name(c, sd, &a, &port), 0);
	uint32_t iss = sim_iss(&sm, C);
	/* the wrong sequence number first: not believed */
	sim_inject_icmp(&sm, C, SIM_ADDR(S), ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, port,
			SIM_ADDR(S), PORT, iss + 5);
	assert_int_equal(hsk_sock_state(c, sd), HSK_SYN_SENT);
	sim_inject_icmp(&sm, C, SIM_ADDR(S), ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, port,
			SIM_ADDR(S), PORT, iss);
	assert_int_equal(hsk_sock_error(c, sd), HSK_ECONNREFUSED);
	assert_int_equal(sim_counter(&sm, C, "Icmp6InDestUnreachs"), 2);
	assert_int_equal(sim_counter(&sm, C, "AttemptFails"), 1);
	hsk_close(c, sd);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* TCP_FASTOPEN_CONNECT over IPv6: the first connect asks for a cookie,
 * which the client caches under the server's 128-bit address (not under
 * its IPv4 twin, nor under an address one bit away); the second connect
 * waits for the first write and carries it on the SYN, which the server
 * takes (TCPFastOpenPassive) and hands to the application before the
 * handshake ends. The server's cookie is keyed on both 128-bit addresses:
 * the right one for another client address is refused (the SYN-ACK to
 * that address goes nowhere: memnet routes one IPv6 address per host). */
static void test_fastopen(void **state)
{
	(void)state;
	hsk_config cfg;
	sim sm;
	uint8_t ck[16], ck2[16];
	char buf[8];

	(void)ck;
	hsk_config_default(&cfg);
	cfg.tcp_fastopen = HSK_TFO_CLIENT | HSK_TFO_SERVER;
	open6(&sm, 71, &cfg);
	hsk_stack *c = sm.st[C], *s = sm.st[S];
	hsk_addr srv = sim_addr6(S), v4 = hsk_addr_v4(SIM_ADDR(S)), near = srv;
	near.v6[3] ^= 1;
	int lsd = sim_socket(&sm, S);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_FASTOPEN, 8), 0);
	assert_int_equal(sim_bind_any(&sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);

	int csd = sim_socket(&sm, C);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
	assert_int_equal(hsk_connect_addr(c, csd, &srv, PORT), -HSK_EINPROGRESS);
	sim_run(&sm, 10 * MS);
	const sim_ev *e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, SYN);
	assert_int_equal(e->ev.fastopen, 0);              /* a cookie request */
	e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, SYN | A);
	assert_int_equal(e->ev.fastopen, 8);
	int ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_fastopen_cookie_get_addr(c, &srv, ck), 8);
	assert_int_equal(hsk_fastopen_cookie_get_addr(c, &v4, ck2), -HSK_ENOENT);
	assert_int_equal(hsk_fastopen_cookie_get_addr(c, &near, ck2), -HSK_ENOENT);
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	sim_run(&sm, 10 * MS);
	sm.tx_cursor = sm.nlog;

	csd = sim_socket(&sm, C);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
	assert_int_equal(hsk_connect_addr(c, csd, &srv, PORT), 0);   /* waits */
	assert_int_equal(sim_next_tx(&sm), NULL);
	assert_int_equal(hsk_send(c, csd, "abc", 3), 3);
	e = sim_next_tx(&sm);
	assert_int_equal(e->ev.flags, SYN);
	assert_int_equal(e->ev.len, 3);
	assert_int_equal(e->ev.fastopen, 8);
	assert_int_equal(e->ev.family, HSK_AF_INET6);
	sim_run(&sm, 10 * MS);
	ssd = sim_accept(&sm, S, lsd);
	assert_int_equal(hsk_recv(s, ssd, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(sim_counter(&sm, C, "TCPFastOpenActive"), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	assert_int_equal(sim_counter(&sm, S, "InReceives"), 0);      /* all IPv6 */
	hsk_abort(c, csd);
	hsk_close(s, ssd);
	sim_run(&sm, 10 * MS);

	/* a cookie made for one client address is no good for another: the
	 * server takes no data and answers with the right cookie */
	hsk_addr other = sim_addr6(5);
	assert_int_equal(hsk_stack_add_addr(c, &other, 64), 0);
	sm.tx_cursor = sm.nlog;
	csd = sim_socket(&sm, C);
	assert_int_equal(hsk_bind_addr(c, csd, &other, 0), 0);
	assert_int_equal(hsk_setsockopt(c, csd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
	assert_int_equal(hsk_connect_addr(c, csd, &srv, PORT), 0);
	assert_int_equal(hsk_send(c, csd, "xyz", 3), 3);
	sim_run(&sm, 10 * MS);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveFail"), 1);
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassive"), 1);
	hsk_abort(c, csd);
	hsk_close(s, lsd);
	sim_run_idle(&sm, 600 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_tw_limit_both_families),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_keyed_on_128_bits),
		cmocka_unit_test(test_flow_label),
		cmocka_unit_test(test_api_errors),
		cmocka_unit_test(test_v4_mapped_bind),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_pmtu),
		cmocka_unit_test(test_icmp6_unreachable),
		cmocka_unit_test(test_fastopen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
