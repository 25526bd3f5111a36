/*
 * The handshake side of the benchmarks (the bench/ programs, built by
 * scripts/bench.sh, not by CMake): a pair of stacks, wired directly through
 * a FIFO in memory (the wiring every stack in the comparison gets) or on a
 * memnet with no impairment (no delay, no loss), driven at one virtual
 * instant unless a benchmark moves the clock on purpose; and one lifecycle.
 * util.h has what the lwIP programs share with these.
 */
#ifndef HSK_BENCH_H
#define HSK_BENCH_H

#include <stdbool.h>

#include "handshake.h"
#include "link/memlink.h"
#include "util.h"

#define BENCH_CLIENT_ADDR 0xc6120001u /* 198.18.0.1 */
#define BENCH_SERVER_ADDR 0xc6120002u /* 198.18.0.2 */
/* Their IPv6 twins, from 2001:2::/48 (RFC 5180) */
static const uint8_t bench_client_addr6[16] = { 0x20, 0x01, 0, 2, [12] = 0xc6, 0x12, 0, 1 };
static const uint8_t bench_server_addr6[16] = { 0x20, 0x01, 0, 2, [12] = 0xc6, 0x12, 0, 2 };

/*
 * Two stacks, client (host 0) and server (host 1), on one memnet; or, with
 * bench_pair_init_direct, wired straight to each other: transmit copies the
 * packet into a FIFO and bench_pump hands it to the other stack, with no
 * memnet, no routing and no deadline polling (the stack's own cost alone).
 */
typedef struct bench_pair bench_pair;
typedef struct bench_end {
	bench_pair *p;
	uint32_t to;
} bench_end;
struct bench_pair {
	hsk_memnet *net;          /* NULL: direct */
	hsk_stack *c, *s;
	bool v6;                  /* bench_pair_use_ipv6: connections over IPv6 */
	/* direct */
	uint64_t now;
	bench_end end[2];
	bench_fifo q;
};

static inline void bench_direct_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	bench_end *e = ctx;
	uint8_t *d = bench_fifo_put(&e->p->q, e->to, len);
	if (d)
		memcpy(d, pkt, len);
}

static inline void bench_pair_init_direct(bench_pair *p, const hsk_config *base)
{
	memset(p, 0, sizeof(*p));
	p->now = 1 * BENCH_SEC;
	bench_fifo_init(&p->q);
	hsk_stack **st[2] = { &p->c, &p->s };
	for (int i = 0; i < 2; i++) {
		hsk_config cfg = *base;
		cfg.addr = i ? BENCH_SERVER_ADDR : BENCH_CLIENT_ADDR;
		cfg.seed = 1234 + (uint64_t)i;
		p->end[i] = (bench_end){ p, (uint32_t)(1 - i) };
		hsk_link link = { &p->end[i], bench_direct_tx };
		*st[i] = hsk_stack_new(&cfg, &link, p->now);
		if (!*st[i])
			bench_die("hsk_stack_new", i);
	}
}

static inline void bench_pair_init(bench_pair *p, const hsk_config *base)
{
	memset(p, 0, sizeof(*p));
	p->net = memnet_new(1, 1 * BENCH_SEC);
	if (!p->net)
		bench_die("memnet_new", 0);
	hsk_stack **st[2] = { &p->c, &p->s };
	for (int i = 0; i < 2; i++) {
		hsk_config cfg = *base;
		cfg.addr = i ? BENCH_SERVER_ADDR : BENCH_CLIENT_ADDR;
		cfg.seed = 1234 + (uint64_t)i;
		hsk_link link;
		int h = memnet_add_host(p->net, cfg.addr, &link);
		if (h != i)
			bench_die("memnet_add_host", h);
		*st[i] = hsk_stack_new(&cfg, &link, memnet_now(p->net));
		if (!*st[i])
			bench_die("hsk_stack_new", i);
		memnet_set_stack(p->net, i, *st[i]);
	}
}

/* Gives both stacks their IPv6 address (/64, as the tests do; the memnet
 * routes it): bench_lifecycle and the benchmarks then open IPv6
 * connections. Their IPv4 addresses stay, unused. */
static inline void bench_pair_use_ipv6(bench_pair *p)
{
	const uint8_t *a6[2] = { bench_client_addr6, bench_server_addr6 };
	hsk_stack *st[2] = { p->c, p->s };
	for (int i = 0; i < 2; i++) {
		hsk_addr a = hsk_addr_v6(a6[i]);
		if (hsk_stack_add_addr(st[i], &a, 64))
			bench_die("hsk_stack_add_addr", i);
		if (p->net && memnet_set_addr6(p->net, i, a6[i]))
			bench_die("memnet_set_addr6", i);
	}
	p->v6 = true;
}

/* A socket of the pair's family; listen on port (any address) */
static inline int bench_socket(const bench_pair *p, hsk_stack *s)
{
	return p->v6 ? hsk_socket_family(s, HSK_AF_INET6) : hsk_socket(s);
}

static inline int bench_listen(const bench_pair *p, uint16_t port, int backlog)
{
	static const uint8_t any6[16];
	int sd = bench_socket(p, p->s);
	if (sd < 0)
		return sd;
	hsk_addr any = hsk_addr_v6(any6);
	int r = p->v6 ? hsk_bind_addr(p->s, sd, &any, port) : hsk_bind(p->s, sd, 0, port);
	if (r || (r = hsk_listen(p->s, sd, backlog)))
		return r;
	return sd;
}

/* connect(2) to the server at port: -HSK_EINPROGRESS when all is well */
static inline int bench_connect(const bench_pair *p, int sd, uint16_t port)
{
	if (!p->v6)
		return hsk_connect(p->c, sd, BENCH_SERVER_ADDR, port);
	hsk_addr a = hsk_addr_v6(bench_server_addr6);
	return hsk_connect_addr(p->c, sd, &a, port);
}

static inline void bench_pair_free(bench_pair *p)
{
	hsk_stack_free(p->c);
	hsk_stack_free(p->s);
	if (p->net)
		memnet_free(p->net);
	free(p->q.buf);
}

/* Delivers everything due at the current virtual instant (bounded). */
static inline void bench_pump(bench_pair *p)
{
	if (!p->net) {
		bench_rec *r;
		for (int i = 0; i < 1000000 && (r = bench_fifo_peek(&p->q)); i++) {
			/* input may transmit: that only appends to the FIFO */
			hsk_stack_input(r->to ? p->s : p->c, p->now, r->data, r->len);
			bench_fifo_pop(&p->q, r);
		}
		return;
	}
	uint64_t now = memnet_now(p->net);
	for (int i = 0; i < 100000 && memnet_step(p->net, now); i++)
		;
}

/* Drains both stacks' readiness queues, as a driver would. */
static inline void bench_drain_events(bench_pair *p)
{
	hsk_event ev[64];
	while (hsk_stack_events(p->c, ev, 64) == 64)
		;
	while (hsk_stack_events(p->s, ev, 64) == 64)
		;
}

/* Moves the virtual clock on by dt, as a driver would: from deadline to
 * deadline, delivering what each one sends before the next (a delayed ACK
 * reaches its peer before a later retransmission timer fires there), and
 * brings both stacks' clocks up to the end. */
static inline void bench_run_for(bench_pair *p, uint64_t dt)
{
	if (!p->net) {
		uint64_t end = p->now + dt;
		for (;;) {
			uint64_t dc = hsk_stack_next_deadline(p->c);
			uint64_t ds = hsk_stack_next_deadline(p->s);
			uint64_t d = dc < ds ? dc : ds;
			if (d <= p->now)        /* fired already: never stand still */
				d = p->now + 1;
			p->now = d < end ? d : end;
			hsk_stack_advance(p->c, p->now);
			hsk_stack_advance(p->s, p->now);
			bench_pump(p);
			if (p->now == end)
				return;
		}
	}
	memnet_run_for(p->net, dt);
	hsk_stack_advance(p->c, memnet_now(p->net));
	hsk_stack_advance(p->s, memnet_now(p->net));
}

/*
 * One full lifecycle: connect, accept, a 64-byte request and a 64-byte
 * response, the client closes first (it ends in TIME_WAIT), the server reads
 * the EOF and closes, over the pair's family. Everything happens at one virtual instant; returns
 * the number of problems (0 when every step did what it should).
 */
static inline int bench_lifecycle(bench_pair *p, int lsd, uint16_t port)
{
	static uint8_t req[64], resp[64], buf[128];
	int bad = 0;
	BENCH_STEP("00 between lifecycles");
	int c = bench_socket(p, p->c);
	BENCH_STEP("01 socket");
	if (c < 0)
		return 1;
	if (bench_connect(p, c, port) != -HSK_EINPROGRESS)
		bad++;
	BENCH_STEP("02 connect: SYN out");
	bench_pump(p);
	BENCH_STEP("03 SYN, SYN-ACK, ACK through");
	int s = hsk_accept(p->s, lsd, NULL);
	BENCH_STEP("04 accept");
	if (s < 0) {
		hsk_abort(p->c, c);
		bench_pump(p);
		return bad + 1;
	}
	bad += hsk_send(p->c, c, req, sizeof(req)) != (long)sizeof(req);
	BENCH_STEP("05 client send: request out");
	bench_pump(p);
	BENCH_STEP("06 request in, its ACK through");
	bad += hsk_recv(p->s, s, buf, sizeof(buf)) != (long)sizeof(req);
	BENCH_STEP("07 server recv");
	bad += hsk_send(p->s, s, resp, sizeof(resp)) != (long)sizeof(resp);
	BENCH_STEP("08 server send: response out");
	bench_pump(p);
	BENCH_STEP("09 response in");
	bad += hsk_recv(p->c, c, buf, sizeof(buf)) != (long)sizeof(resp);
	BENCH_STEP("10 client recv");
	bad += hsk_close(p->c, c) != 0;
	BENCH_STEP("11 client close: FIN out");
	bench_pump(p);
	BENCH_STEP("12 FIN in, its ACK through");
	bad += hsk_recv(p->s, s, buf, sizeof(buf)) != 0;
	BENCH_STEP("13 server recv: end of stream");
	bad += hsk_close(p->s, s) != 0;
	BENCH_STEP("14 server close: FIN out");
	bench_pump(p);
	BENCH_STEP("15 FIN in, its ACK through");
	bench_drain_events(p);
	BENCH_STEP("16 events read");
	return bad;
}

#endif
