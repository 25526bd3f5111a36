/* Simulator fixtures for tests; see sim.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "wire/ipv6.h"
#include "wire/wire.h"

/* The IPv6 twin of a simulator IPv4 address (a host's or a peer's):
 * 2001:2::/96 and the IPv4 address in the last 32 bits. */
static void v6_of(uint32_t v4, uint8_t a[16])
{
	static const uint8_t pfx[12] = { 0x20, 0x01, 0x00, 0x02 };

	memcpy(a, pfx, 12);
	wr32(a + 12, v4);
}

/* An IPv6 event's address back to the IPv4 one it twins (0 if none), so
 * that expectations written with IPv4 addresses hold for both families. */
static uint32_t v4_of(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { 0x20, 0x01, 0x00, 0x02 };

	return memcmp(a, pfx, 12) ? 0 : rd32(a + 12);
}

struct host_ctx {
	sim *sm;
	int host;
};
static struct host_ctx host_ctx[16][SIM_MAX_HOSTS];
static int sim_slot;

static void on_trace(void *ctx, const hsk_trace_event *ev)
{
	struct host_ctx *hc = ctx;
	sim *sm = hc->sm;
	if (sm->nlog == sm->cap) {
		sm->cap = sm->cap ? sm->cap * 2 : 1024;
		sm->log = realloc(sm->log, sm->cap * sizeof(*sm->log));
		assert_non_null(sm->log);
	}
	sim_ev *e = &sm->log[sm->nlog++];
	e->host = hc->host;
	e->ev = *ev;
	snprintf(e->cause, sizeof(e->cause), "%s",
		 ev->cause ? ev->cause : ev->reason ? ev->reason : "");
	e->ev.cause = NULL;
	e->ev.reason = NULL;
	if (ev->family == HSK_AF_INET6) {
		e->ev.tuple.laddr = v4_of(ev->laddr6);
		e->ev.tuple.raddr = v4_of(ev->raddr6);
	}
	if (sm->print) {
		if (ev->kind == HSK_EV_STATE)
			fprintf(stderr, "%10.3f ms h%d %s -> %s (%s)\n", ev->t_ns / 1e6,
				hc->host, hsk_state_name(ev->from), hsk_state_name(ev->to),
				e->cause);
		else
			fprintf(stderr, "%10.3f ms h%d %s flags=%02x seq=%u ack=%u len=%u win=%u %s\n",
				ev->t_ns / 1e6, hc->host,
				ev->kind == HSK_EV_TX ? "tx" : ev->kind == HSK_EV_RX ? "rx" : "drop",
				ev->flags, ev->seq, ev->ack, ev->len, ev->win, e->cause);
	}
}

/* Every packet a host sends passes here first: its TOS is noted on the TX
 * event it carries (traced just before it left), and an ECT packet may be
 * marked CE, as a router's AQM would. */
static void sim_transmit(void *ctx, const uint8_t *pkt, size_t len)
{
	struct host_ctx *hc = ctx;
	sim *sm = hc->sm;
	int h = hc->host;
	static uint8_t buf[70000];
	if (len < 20 || len > sizeof(buf)) {
		sm->lower[h].transmit(sm->lower[h].ctx, pkt, len);
		return;
	}
	/* IPv4's TOS byte, or IPv6's traffic class (the same bits) */
	bool v6 = pkt[0] >> 4 == 6;
	uint8_t tos = v6 ? (uint8_t)((pkt[0] & 15) << 4 | pkt[1] >> 4) : pkt[1];
	for (size_t i = sm->nlog, k = 0; i-- > 0 && k < 8; k++) {
		if (sm->log[i].host == h && sm->log[i].ev.kind == HSK_EV_TX) {
			sm->log[i].tos = tos;
			break;
		}
	}
	if ((tos & 3) == 0) {
		sm->lower[h].transmit(sm->lower[h].ctx, pkt, len);
		return;
	}
	int n = ++sm->ect_seen[h];
	bool mark = sm->ce_all[h];
	for (int i = 0; i < 4; i++)
		mark |= sm->ce_nth[h][i] == n;
	if (!mark) {
		sm->lower[h].transmit(sm->lower[h].ctx, pkt, len);
		return;
	}
	memcpy(buf, pkt, len);
	if (v6) {
		buf[1] |= 0x30;         /* no header checksum */
		sm->ce_marked[h]++;
		sm->lower[h].transmit(sm->lower[h].ctx, buf, len);
		return;
	}
	buf[1] |= 3;
	buf[10] = buf[11] = 0;
	size_t ihl = (size_t)(buf[0] & 15) * 4;
	uint16_t sum = csum_fold(csum_partial(buf, ihl, 0));
	buf[10] = (uint8_t)(sum >> 8);
	buf[11] = (uint8_t)sum;
	sm->ce_marked[h]++;
	sm->lower[h].transmit(sm->lower[h].ctx, buf, len);
}

/* The simulation's clock, for the clock contract (hsk_config.clock): a
 * test that calls into a stack it has not brought up to the present fails
 * in the sanitizer build (assertions on). */
static uint64_t sim_clock(void *ctx)
{
	return memnet_now(ctx);
}

void sim_ce_mark(sim *sm, int host, int nth)
{
	for (int i = 0; i < 4; i++)
		if (!sm->ce_nth[host][i]) {
			sm->ce_nth[host][i] = nth;
			return;
		}
	fail();
}

void sim_ce_all(sim *sm, int host, bool on)
{
	sm->ce_all[host] = on;
}

struct lose_ctx {
	sim *sm;
};

static bool lose_filter(void *ctx, int from, const uint8_t *pkt, size_t len)
{
	sim *sm = ctx;
	if (len < 40)
		return true;
	/* TCP's flags, after an IPv4 header or IPv6's 40 bytes (the
	 * simulator's packets carry no extension headers) */
	size_t at = (pkt[0] >> 4) == 6 ? 40 + 13 : (size_t)(pkt[0] & 0xf) * 4 + 13;
	if (at >= len)
		return true;
	uint8_t flags = pkt[at];
	if (from >= 0 && from < SIM_MAX_HOSTS && sm->blackhole[from][flags])
		return false;
	/* Every entry counts every match, so that several entries for the
	 * same flags (lose the 1st and the 2nd) each see the same count. */
	bool keep = true;
	for (int i = 0; i < sm->nlose; i++) {
		if (sm->lose[i].host == from && sm->lose[i].flags == flags &&
		    ++sm->lose[i].seen == sm->lose[i].nth)
			keep = false;
	}
	return keep;
}

void sim_init(sim *sm, int nhosts, const hsk_config *cfg, uint64_t seed)
{
	const hsk_config *cfgs[SIM_MAX_HOSTS];
	for (int i = 0; i < SIM_MAX_HOSTS; i++)
		cfgs[i] = cfg;
	sim_init_hosts(sm, nhosts, cfgs, seed);
}

void sim_init_hosts(sim *sm, int nhosts, const hsk_config *const cfgs[], uint64_t seed)
{
	memset(sm, 0, sizeof(*sm));
	sm->print = getenv("SIM_PRINT") != NULL;
	sm->net = memnet_new(seed, 1 * SEC);
	assert_non_null(sm->net);
	sm->nhosts = nhosts;
	int slot = sim_slot++ % 16;
	for (int i = 0; i < nhosts; i++) {
		hsk_config c;
		if (cfgs[i])
			c = *cfgs[i];
		else
			hsk_config_default(&c);
		c.addr = SIM_ADDR(i);
		c.seed = seed * 131 + (uint64_t)i + 7;
		host_ctx[slot][i] = (struct host_ctx){ sm, i };
		c.trace = on_trace;
		c.trace_ctx = &host_ctx[slot][i];
		if (!c.clock) {
			c.clock = sim_clock;
			c.clock_ctx = sm->net;
			c.clock_slack_ns = 0;
		}
		hsk_link link;
		int h = memnet_add_host(sm->net, c.addr, &link);
		assert_int_equal(h, i);
		sm->lower[i] = link;
		link = (hsk_link){ .ctx = &host_ctx[slot][i], .transmit = sim_transmit };
		sm->st[i] = hsk_stack_new(&c, &link, memnet_now(sm->net));
		assert_non_null(sm->st[i]);
		memnet_set_stack(sm->net, i, sm->st[i]);
		/* 1 ms each way, so that the log reads in order of time. */
		memnet_impair imp = { .delay_ns = 1 * MS };
		memnet_set_impair(sm->net, i, &imp);
	}
	memnet_set_filter(sm->net, lose_filter, sm);
	/* HSK_SIM_FAMILY=6: the same scenarios over IPv6 (sim_listen,
	 * sim_connect and sim_open_pair speak it; docs/ipv6.md) */
	if (sim_env_ipv6())
		sim_use_ipv6(sm);
}

bool sim_env_ipv6(void)
{
	const char *fam = getenv("HSK_SIM_FAMILY");

	return fam && !strcmp(fam, "6");
}

uint64_t sim_env_seed_offset(void)
{
	const char *off = getenv("HSK_SEED_OFFSET");

	return off ? strtoull(off, NULL, 10) : 0;
}

void sim_free(sim *sm)
{
	for (int i = 0; i < sm->nhosts; i++)
		hsk_stack_free(sm->st[i]);
	memnet_free(sm->net);
	free(sm->log);
	memset(sm, 0, sizeof(*sm));
}

/* Socket calls act at the stack's clock: bring every stack up to now. */
void sim_sync_clocks(sim *sm)
{
	for (int i = 0; i < sm->nhosts; i++)
		hsk_stack_advance(sm->st[i], memnet_now(sm->net));
}

void sim_run(sim *sm, uint64_t dt)
{
	memnet_run_for(sm->net, dt);
	sim_sync_clocks(sm);
}

void sim_run_idle(sim *sm, uint64_t limit)
{
	uint64_t end = memnet_now(sm->net) + limit;
	while (memnet_step(sm->net, end))
		;
	sim_sync_clocks(sm);
}

uint64_t sim_now(const sim *sm) { return memnet_now(sm->net); }

void sim_lose(sim *sm, int host, uint8_t flags, int nth)
{
	assert_true(sm->nlose < 8);
	sm->lose[sm->nlose++] = (typeof(sm->lose[0])){ host, flags, nth, 0 };
}

void sim_blackhole(sim *sm, int host, int flags, bool on)
{
	for (int f = 0; f < 256; f++)
		if (flags < 0 || f == flags)
			sm->blackhole[host][f] = on;
}

int sim_socket_events(hsk_stack *st, int sd)
{
	hsk_event ev[8];
	int m = -1;
	size_t n;
	do {
		n = hsk_stack_events(st, ev, 8);
		for (size_t i = 0; i < n; i++)
			if (ev[i].sd == sd)
				m = (m < 0 ? 0 : m) | ev[i].events;
	} while (n == 8);
	return m;
}

const sim_ev *sim_next_tx(sim *sm)
{
	for (size_t i = sm->tx_cursor; i < sm->nlog; i++) {
		if (sm->log[i].ev.kind != HSK_EV_TX)
			continue;
		sm->tx_cursor = i + 1;
		return &sm->log[i];
	}
	return NULL;
}

int sim_count_tx(const sim *sm, int host, uint8_t flags)
{
	int n = 0;
	for (size_t i = 0; i < sm->nlog; i++)
		if (sm->log[i].ev.kind == HSK_EV_TX && sm->log[i].host == host &&
		    sm->log[i].ev.flags == flags)
			n++;
	return n;
}

hsk_addr sim_addr6(int i)
{
	uint8_t a[16];

	v6_of(SIM_ADDR(i), a);
	return hsk_addr_v6(a);
}

void sim_use_ipv6(sim *sm)
{
	for (int i = 0; i < sm->nhosts; i++) {
		hsk_addr a = sim_addr6(i);
		assert_int_equal(hsk_stack_add_addr(sm->st[i], &a, 64), 0);
		assert_int_equal(memnet_set_addr6(sm->net, i, a.v6), 0);
	}
	sm->family = HSK_AF_INET6;
}

int sim_listen(sim *sm, int host, uint16_t port, int backlog)
{
	hsk_stack *s = sm->st[host];
	bool v6 = sm->family == HSK_AF_INET6;
	int sd = hsk_socket_family(s, v6 ? HSK_AF_INET6 : HSK_AF_INET);
	assert_true(sd >= 0);
	if (v6) {
		static const uint8_t any[16];
		hsk_addr a = hsk_addr_v6(any);
		assert_int_equal(hsk_bind_addr(s, sd, &a, port), 0);
	} else {
		assert_int_equal(hsk_bind(s, sd, 0, port), 0);
	}
	assert_int_equal(hsk_listen(s, sd, backlog), 0);
	return sd;
}

int sim_connect(sim *sm, int host, int to_host, uint16_t port)
{
	hsk_stack *s = sm->st[host];
	bool v6 = sm->family == HSK_AF_INET6;
	int sd = hsk_socket_family(s, v6 ? HSK_AF_INET6 : HSK_AF_INET);
	assert_true(sd >= 0);
	hsk_addr a = v6 ? sim_addr6(to_host) : hsk_addr_v4(SIM_ADDR(to_host));
	assert_int_equal(hsk_connect_addr(s, sd, &a, port), -HSK_EINPROGRESS);
	return sd;
}

hsk_addr sim_addr(const sim *sm, int i)
{
	return sim_twin(sm, SIM_ADDR(i));
}

hsk_addr sim_twin(const sim *sm, uint32_t v4)
{
	return sm->family == HSK_AF_INET6 ? sim_twin6(v4) : hsk_addr_v4(v4);
}

hsk_addr sim_twin6(uint32_t v4)
{
	uint8_t a[16];

	v6_of(v4, a);
	return hsk_addr_v6(a);
}

int sim_socket(sim *sm, int host)
{
	int sd = hsk_socket_family(sm->st[host], sm->family == HSK_AF_INET6 ? HSK_AF_INET6 :
					       HSK_AF_INET);
	assert_true(sd >= 0);
	return sd;
}

int sim_bind_any(sim *sm, int host, int sd, uint16_t port)
{
	hsk_addr any = { .family = sm->family == HSK_AF_INET6 ? HSK_AF_INET6 : HSK_AF_INET };

	return hsk_bind_addr(sm->st[host], sd, &any, port);
}

int sim_connect_to(sim *sm, int host, int sd, int to_host, uint16_t port)
{
	hsk_addr a = sim_addr(sm, to_host);

	return hsk_connect_addr(sm->st[host], sd, &a, port);
}

unsigned sim_mss(const sim *sm)
{
	return sm->family == HSK_AF_INET6 ? 1440 : 1460;
}

int sim_accept(sim *sm, int host, int lsd)
{
	int sd = hsk_accept(sm->st[host], lsd, NULL);
	assert_true(sd >= 0);
	return sd;
}

uint32_t sim_iss(const sim *sm, int host)
{
	for (size_t i = 0; i < sm->nlog; i++) {
		const sim_ev *e = &sm->log[i];
		if (e->host == host && e->ev.kind == HSK_EV_TX && (e->ev.flags & HSK_TH_SYN))
			return e->ev.seq;
	}
	return 0;
}

static const char *flag_str(uint8_t f, char *b)
{
	b[0] = 0;
	static const char *n[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
	for (int i = 0; i < 8; i++)
		if (f & (1 << i)) {
			if (b[0])
				strcat(b, ",");
			strcat(b, n[i]);
		}
	return b;
}

void sim_expect_seg(sim *sm, int host, uint8_t flags, uint32_t rseq, uint32_t rack,
		    uint32_t len, const char *file, int line)
{
	for (size_t i = sm->tx_cursor; i < sm->nlog; i++) {
		const sim_ev *e = &sm->log[i];
		if (e->ev.kind != HSK_EV_TX)
			continue;
		sm->tx_cursor = i + 1;
		uint32_t seq = e->ev.seq - sim_iss(sm, e->host);
		uint32_t ack = (e->ev.flags & HSK_TH_ACK) ? e->ev.ack - sim_iss(sm, 1 - e->host) : 0;
		if (e->ev.flags & HSK_TH_RST && !(e->ev.flags & HSK_TH_ACK) && sim_iss(sm, e->host) == 0)
			seq = e->ev.seq;
		char a[48], b[48];
		if (e->host != host || e->ev.flags != flags || seq != rseq || ack != rack ||
		    e->ev.len != len) {
			fprintf(stderr, "%s:%d: expected h%d %s seq=%u ack=%u len=%u, "
				"got h%d %s seq=%u ack=%u len=%u (t=%.3f ms)\n", file, line,
				host, flag_str(flags, a), rseq, rack, len, e->host,
				flag_str(e->ev.flags, b), seq, ack, e->ev.len, e->ev.t_ns / 1e6);
			fail();
		}
		return;
	}
	fprintf(stderr, "%s:%d: expected a segment from h%d, got none\n", file, line, host);
	fail();
}

void sim_expect_state(sim *sm, int host, int from, int to, const char *file, int line)
{
	for (size_t i = sm->st_cursor[host]; i < sm->nlog; i++) {
		const sim_ev *e = &sm->log[i];
		if (e->ev.kind != HSK_EV_STATE || e->host != host)
			continue;
		sm->st_cursor[host] = i + 1;
		if (e->ev.from != from || e->ev.to != to) {
			fprintf(stderr, "%s:%d: expected h%d %s -> %s, got %s -> %s (%s)\n",
				file, line, host, hsk_state_name(from), hsk_state_name(to),
				hsk_state_name(e->ev.from), hsk_state_name(e->ev.to), e->cause);
			fail();
		}
		return;
	}
	fprintf(stderr, "%s:%d: expected h%d %s -> %s, got no more transitions\n", file,
		line, host, hsk_state_name(from), hsk_state_name(to));
	fail();
}

void sim_expect_no_tx(sim *sm, const char *file, int line)
{
	for (size_t i = sm->tx_cursor; i < sm->nlog; i++) {
		const sim_ev *e = &sm->log[i];
		if (e->ev.kind == HSK_EV_TX) {
			char b[48];
			fprintf(stderr, "%s:%d: expected no more segments, got h%d %s at %.3f ms\n",
				file, line, e->host, flag_str(e->ev.flags, b), e->ev.t_ns / 1e6);
			fail();
		}
	}
}

void sim_state_path(const sim *sm, int host, int obj_mask, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
	bool first = true;
	for (size_t i = 0; i < sm->nlog; i++) {
		const sim_ev *e = &sm->log[i];
		if (e->ev.kind != HSK_EV_STATE || e->host != host || !((1 << e->ev.obj) & obj_mask))
			continue;
		if (first)
			n += (size_t)snprintf(buf + n, cap - n, "%s", hsk_state_name(e->ev.from));
		first = false;
		if (n < cap)
			n += (size_t)snprintf(buf + n, cap - n, ">%s", hsk_state_name(e->ev.to));
		if (n >= cap)
			return;
	}
}

void sim_assert_no_leaks(sim *sm)
{
	for (int i = 0; i < sm->nhosts; i++) {
		hsk_usage u;
		hsk_stack_usage(sm->st[i], &u);
		if (u.tcbs || u.requests || u.timewaits || u.buffer_bytes || u.orphans ||
		    u.orphan_bytes) {
			fprintf(stderr, "host %d leaks: tcbs=%zu requests=%zu timewaits=%zu "
				"buffer_bytes=%zu orphans=%zu orphan_bytes=%zu\n", i, u.tcbs,
				u.requests, u.timewaits, u.buffer_bytes, u.orphans,
				u.orphan_bytes);
			fail();
		}
		assert_int_equal(sim_counter(sm, i, "IllegalTransitions"), 0);
		/* The clock contract held in every call of the test. */
		assert_int_equal(sim_counter(sm, i, "StaleClock"), 0);
	}
}

uint64_t sim_counter(const sim *sm, int host, const char *name)
{
	uint64_t v = hsk_counter_by_name(sm->st[host], name);
	assert_true(v != UINT64_MAX);
	return v;
}

void sim_inject(sim *sm, int host, uint32_t from_addr, uint16_t sport, uint16_t dport,
		uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
		const void *data, size_t len)
{
	sim_inject_opts(sm, host, from_addr, sport, dport, seq, ack, flags, win, NULL,
			data, len);
}

void sim_open_pair(sim *sm, int client, int server, uint16_t port, int backlog,
		   int *lsd, int *csd, int *ssd)
{
	*lsd = sim_listen(sm, server, port, backlog);
	*csd = sim_connect(sm, client, server, port);
	sim_run(sm, 10 * MS);
	sim_expect_seg(sm, client, HSK_TH_SYN, 0, 0, 0, __FILE__, __LINE__);
	sim_expect_seg(sm, server, HSK_TH_SYN | HSK_TH_ACK, 0, 1, 0, __FILE__, __LINE__);
	sim_expect_seg(sm, client, HSK_TH_ACK, 1, 1, 0, __FILE__, __LINE__);
	*ssd = sim_accept(sm, server, *lsd);
	assert_int_equal(hsk_sock_state(sm->st[client], *csd), HSK_ESTABLISHED);
	assert_int_equal(hsk_sock_state(sm->st[server], *ssd), HSK_ESTABLISHED);
	sim_expect_state(sm, client, HSK_CLOSED, HSK_SYN_SENT, __FILE__, __LINE__);
	sim_expect_state(sm, client, HSK_SYN_SENT, HSK_ESTABLISHED, __FILE__, __LINE__);
	sim_expect_state(sm, server, HSK_CLOSED, HSK_LISTEN, __FILE__, __LINE__);
	sim_expect_state(sm, server, HSK_LISTEN, HSK_SYN_RECEIVED, __FILE__, __LINE__);
	sim_expect_state(sm, server, HSK_SYN_RECEIVED, HSK_ESTABLISHED, __FILE__, __LINE__);
}

void sim_inject_opts(sim *sm, int host, uint32_t from_addr, uint16_t sport, uint16_t dport,
		     uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
		     const tcp_opts *opt, const void *data, size_t len)
{
	sim_inject_tos(sm, host, from_addr, sport, dport, seq, ack, flags, win, opt, 0,
		       data, len);
}

/* sim_inject_tos with the urgent pointer field urp */
static void inject_urp(sim *sm, int host, uint32_t from_addr, uint16_t sport, uint16_t dport,
		       uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
		       const tcp_opts *opt, uint8_t tos, uint16_t urp, const void *data,
		       size_t len)
{
	uint8_t pkt[2048];
	tcp_hdr th = { .sport = sport, .dport = dport, .seq = seq, .ack = ack,
		       .flags = flags, .win = win, .urp = urp };
	if (opt)
		th.opt = *opt;
	else
		th.opt.wscale = -1;
	if (sm->family == HSK_AF_INET6) {
		ipv6_hdr h6 = { .tclass = tos, .next = IP_PROTO_TCP, .hop_limit = 64 };
		v6_of(from_addr, h6.src);
		v6_of(SIM_ADDR(host), h6.dst);
		int n6 = tcp_emit_ps(&th, data, len, csum_pseudo6(h6.src, h6.dst, IP_PROTO_TCP, 0),
				     pkt + IPV6_HDR_LEN, sizeof(pkt) - IPV6_HDR_LEN);
		assert_true(n6 > 0);
		h6.payload_len = (uint16_t)n6;
		assert_int_equal(ipv6_emit(&h6, pkt, IPV6_HDR_LEN), IPV6_HDR_LEN);
		hsk_stack_input(sm->st[host], memnet_now(sm->net), pkt,
				(size_t)(IPV6_HDR_LEN + n6));
		return;
	}
	int n = tcp_emit(&th, data, len, from_addr, SIM_ADDR(host), pkt + IPV4_HDR_LEN,
			 sizeof(pkt) - IPV4_HDR_LEN);
	assert_true(n > 0);
	ipv4_hdr ih = { .tos = tos, .total_len = (uint16_t)(IPV4_HDR_LEN + n), .ttl = 64,
			.proto = IP_PROTO_TCP, .src = from_addr, .dst = SIM_ADDR(host) };
	assert_int_equal(ipv4_emit(&ih, pkt, IPV4_HDR_LEN), IPV4_HDR_LEN);
	hsk_stack_input(sm->st[host], memnet_now(sm->net), pkt, (size_t)(IPV4_HDR_LEN + n));
}

void sim_inject_tos(sim *sm, int host, uint32_t from_addr, uint16_t sport, uint16_t dport,
		    uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
		    const tcp_opts *opt, uint8_t tos, const void *data, size_t len)
{
	inject_urp(sm, host, from_addr, sport, dport, seq, ack, flags, win, opt, tos, 0, data,
		   len);
}

/* ICMPv4's error as ICMPv6 says it (the inverse of icmp6.c's mapping). */
static void icmp_as_v6(uint8_t type, uint8_t code, uint16_t mtu, icmp_hdr *h)
{
	*h = (icmp_hdr){ .type = ICMP6_DEST_UNREACH, .code = 1 };   /* prohibited */
	if (type == ICMP_TIME_EXCEEDED) {
		h->type = ICMP6_TIME_EXCEEDED;
		h->code = 0;
	} else if (code == ICMP_UNREACH_NEEDFRAG) {
		h->type = ICMP6_PACKET_TOO_BIG;
		h->code = 0;
		h->rest = mtu;
	} else if (code == ICMP_UNREACH_PORT) {
		h->code = 4;
	} else if (code == ICMP_UNREACH_PROTO) {
		h->type = ICMP6_PARAM_PROB;
		h->code = 1;
		h->rest = 6;            /* the quoted header's next header */
	} else if (code == ICMP_UNREACH_NET || code == ICMP_UNREACH_HOST) {
		h->code = code == ICMP_UNREACH_NET ? 0 : 3;
	}
}

static void inject_icmp6(sim *sm, int host, uint32_t from_addr, uint8_t type, uint8_t code,
			 uint16_t mtu, const uint8_t *tcp8, uint32_t raddr)
{
	uint8_t q[IPV6_HDR_LEN + 8], msg[128], pkt[256];
	ipv6_hdr qh = { .payload_len = 1440, .next = IP_PROTO_TCP, .hop_limit = 64 };
	ipv6_hdr h = { .next = IP_PROTO_ICMPV6, .hop_limit = 64 };
	icmp_hdr ih;

	v6_of(SIM_ADDR(host), qh.src);
	v6_of(raddr, qh.dst);
	assert_int_equal(ipv6_emit(&qh, q, IPV6_HDR_LEN), IPV6_HDR_LEN);
	memcpy(q + IPV6_HDR_LEN, tcp8, 8);
	v6_of(from_addr, h.src);
	v6_of(SIM_ADDR(host), h.dst);
	icmp_as_v6(type, code, mtu, &ih);
	int n = icmp6_emit(&ih, q, sizeof(q), h.src, h.dst, msg, sizeof(msg));
	assert_true(n > 0);
	h.payload_len = (uint16_t)n;
	assert_int_equal(ipv6_emit(&h, pkt, IPV6_HDR_LEN), IPV6_HDR_LEN);
	memcpy(pkt + IPV6_HDR_LEN, msg, (size_t)n);
	hsk_stack_input(sm->st[host], memnet_now(sm->net), pkt, (size_t)(IPV6_HDR_LEN + n));
}

void sim_inject_icmp(sim *sm, int host, uint32_t from_addr, uint8_t type, uint8_t code,
		     uint16_t mtu, uint16_t lport, uint32_t raddr, uint16_t rport,
		     uint32_t seq)
{
	/* The quoted packet: our IPv4 header and 8 bytes of our TCP header. */
	uint8_t q[IPV4_HDR_LEN + 8];
	ipv4_hdr qh = { .total_len = 1500, .ttl = 64, .proto = IP_PROTO_TCP,
			.src = SIM_ADDR(host), .dst = raddr };
	assert_int_equal(ipv4_emit(&qh, q, IPV4_HDR_LEN), IPV4_HDR_LEN);
	uint8_t *t = q + IPV4_HDR_LEN;
	t[0] = (uint8_t)(lport >> 8);
	t[1] = (uint8_t)lport;
	t[2] = (uint8_t)(rport >> 8);
	t[3] = (uint8_t)rport;
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	if (sm->family == HSK_AF_INET6) {
		inject_icmp6(sm, host, from_addr, type, code, mtu, t, raddr);
		return;
	}
	icmp_hdr ih = { .type = type, .code = code, .rest = mtu };
	uint8_t msg[128], pkt[256];
	int n = icmp_emit(&ih, q, sizeof(q), msg, sizeof(msg));
	assert_true(n > 0);
	ipv4_hdr h = { .total_len = (uint16_t)(IPV4_HDR_LEN + n), .ttl = 64,
		       .proto = IP_PROTO_ICMP, .src = from_addr, .dst = SIM_ADDR(host) };
	assert_int_equal(ipv4_emit(&h, pkt, IPV4_HDR_LEN), IPV4_HDR_LEN);
	memcpy(pkt + IPV4_HDR_LEN, msg, (size_t)n);
	hsk_stack_input(sm->st[host], memnet_now(sm->net), pkt, (size_t)(IPV4_HDR_LEN + n));
}

void sim_peer_send_urg(sim_peer *p, uint32_t rseq, uint32_t rack, uint8_t flags, uint16_t win,
		       uint16_t urp, const void *data, size_t len)
{
	tcp_opts o;
	tcp_opts_init(&o);
	if (p->ts) {
		o.has_ts = true;
		o.ts_val = p->tsval;
		o.ts_ecr = p->ts_ecr;
	}
	inject_urp(p->sm, p->host, p->addr, p->port, p->hport, p->iss + rseq,
		   (flags & HSK_TH_ACK) ? p->hiss + rack : 0, flags, win, &o, p->tos, urp, data,
		   len);
}

void sim_peer_send(sim_peer *p, uint32_t rseq, uint32_t rack, uint8_t flags, uint16_t win,
		   const void *data, size_t len)
{
	sim_peer_send_urg(p, rseq, rack, flags, win, 0, data, len);
}

void sim_peer_accept(sim *sm, sim_peer *p, int host, uint16_t hport, uint32_t iss,
		     const tcp_opts *syn)
{
	sim_peer_accept_win(sm, p, host, hport, iss, syn, 65535);
}

void sim_peer_accept_win(sim *sm, sim_peer *p, int host, uint16_t hport, uint32_t iss,
			 const tcp_opts *syn, uint16_t win)
{
	*p = (sim_peer){ .sm = sm, .host = host, .addr = SIM_ADDR(7), .port = 4000,
			 .hport = hport, .iss = iss };
	p->lsd = sim_listen(sm, host, hport, 8);
	sim_inject_opts(sm, host, p->addr, p->port, hport, iss, 0, HSK_TH_SYN, win, syn,
			NULL, 0);
	const sim_ev *e = sim_next_tx(sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags, HSK_TH_SYN | HSK_TH_ACK);
	assert_int_equal(e->ev.ack, iss + 1);
	p->hiss = e->ev.seq;
	if (syn && syn->has_ts) {
		p->ts = true;
		p->tsval = syn->ts_val;
	}
	sim_peer_send(p, 1, 1, HSK_TH_ACK, win, NULL, 0);
	p->sd = sim_accept(sm, host, p->lsd);
	assert_int_equal(hsk_sock_state(sm->st[host], p->sd), HSK_ESTABLISHED);
}

void sim_peer_expect(sim_peer *p, uint8_t flags, uint32_t rseq, uint32_t rack,
		     uint32_t len, const char *file, int line)
{
	const sim_ev *e = sim_next_tx(p->sm);
	char a[48], b[48];
	if (!e) {
		fprintf(stderr, "%s:%d: expected h%d %s to the peer, got none\n", file, line,
			p->host, flag_str(flags, a));
		fail();
	}
	uint32_t seq = e->ev.seq - p->hiss;
	uint32_t ack = (e->ev.flags & HSK_TH_ACK) ? e->ev.ack - p->iss : 0;
	if (e->host != p->host || e->ev.tuple.raddr != p->addr || e->ev.flags != flags ||
	    seq != rseq || ack != rack || e->ev.len != len) {
		fprintf(stderr, "%s:%d: expected h%d %s seq=%u ack=%u len=%u, "
			"got h%d %s seq=%u ack=%u len=%u (t=%.3f ms)\n", file, line,
			p->host, flag_str(flags, a), rseq, rack, len, e->host,
			flag_str(e->ev.flags, b), seq, ack, e->ev.len, e->ev.t_ns / 1e6);
		fail();
	}
}

int sim_count_tx_since(const sim *sm, int host, size_t from)
{
	int n = 0;
	for (size_t i = from; i < sm->nlog; i++)
		if (sm->log[i].ev.kind == HSK_EV_TX && sm->log[i].host == host)
			n++;
	return n;
}

void sim_peer_finish(sim_peer *p)
{
	sim *sm = p->sm;
	hsk_abort(sm->st[p->host], p->sd);
	hsk_close(sm->st[p->host], p->lsd);
	sim_run_idle(sm, 600 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

void sim_pair_open(sim_pair *p, const hsk_config *cfg, uint64_t seed, uint16_t port)
{
	sim_init(&p->sm, 2, cfg, seed);
	sim_open_pair(&p->sm, 0, 1, port, 8, &p->lsd, &p->csd, &p->ssd);
	hsk_tuple tu;
	hsk_sock_tuple(p->sm.st[0], p->csd, &tu);
	p->port = port;
	p->cport = tu.lport;
	p->c_iss = sim_iss(&p->sm, 0);
	p->s_iss = sim_iss(&p->sm, 1);
}

void sim_pair_to_client(sim_pair *p, uint32_t rseq, uint32_t rack, uint8_t flags,
			const void *data, size_t len)
{
	sim_inject(&p->sm, 0, SIM_ADDR(1), p->port, p->cport, p->s_iss + rseq,
		   (flags & HSK_TH_ACK) ? p->c_iss + rack : 0, flags, 65535, data, len);
}

uint16_t sim_time_wait_client(sim *sm, uint16_t port, int *lsd)
{
	int csd, ssd;
	sim_open_pair(sm, 0, 1, port, 8, lsd, &csd, &ssd);
	hsk_tuple tu;
	hsk_sock_tuple(sm->st[0], csd, &tu);
	assert_int_equal(hsk_close(sm->st[0], csd), 0);
	sim_run(sm, 2 * MS + 1);
	assert_int_equal(hsk_close(sm->st[1], ssd), 0);
	sim_run(sm, 2 * MS + 1);
	expect_seg(sm, 0, HSK_TH_FIN | HSK_TH_ACK, 1, 1, 0);
	expect_seg(sm, 1, HSK_TH_ACK, 1, 2, 0);
	expect_seg(sm, 1, HSK_TH_FIN | HSK_TH_ACK, 1, 2, 0);
	expect_seg(sm, 0, HSK_TH_ACK, 2, 2, 0);
	assert_int_equal(sim_usage(sm, 0).timewaits, 1);
	return tu.lport;
}

void sim_init_pair(sim *sm, const hsk_config *cfg, uint64_t seed, uint16_t port,
		   int *lsd, int *csd, int *ssd)
{
	sim_init(sm, 2, cfg, seed);
	sim_open_pair(sm, 0, 1, port, 8, lsd, csd, ssd);
}

void sim_finish_pair(sim *sm, int client, int server, int lsd, int csd, int ssd)
{
	hsk_abort(sm->st[client], csd);
	hsk_close(sm->st[server], ssd);
	hsk_close(sm->st[server], lsd);
	sim_run_idle(sm, 600 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

void sim_finish_pair_graceful(sim *sm, int client, int server, int lsd, int csd, int ssd,
			      uint64_t gap_ns)
{
	assert_int_equal(hsk_close(sm->st[client], csd), 0);
	sim_run(sm, gap_ns);
	assert_int_equal(hsk_close(sm->st[server], ssd), 0);
	assert_int_equal(hsk_close(sm->st[server], lsd), 0);
	sim_run(sm, 61 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

hsk_usage sim_usage(const sim *sm, int host)
{
	hsk_usage u;
	hsk_stack_usage(sm->st[host], &u);
	return u;
}
