/*
 * The send path's short way changes nothing: output_one (output.c), which
 * sends the usual data or FIN segment of a tcp_output call (all the
 * unsent bytes in one segment, within the windows, nothing to repair)
 * without output_send's loop, must send what output_send sends. Two
 * stacks alike but for tcp_stack.no_fastpath (with it, every call takes
 * output_send) each open a connection to a peer the test plays, over
 * IPv4 or IPv6, with every option the peer may grant or not (MSS, SACK,
 * timestamps, window scale, ECN) and every configuration's say on them,
 * TCP_MAXSEG and IP_TOS or not, the SYN sent again or not, a
 * simultaneous open or not (syn_fast's SYN, output.c, against
 * tcb_send_syn's, and its SYN-ACK); the pure ACKs (ack_fast's against
 * tcb_put's), with the peer's data out of order, duplicated or marked
 * CE too (SACK blocks, ECE);
 * then random writes (small and larger than an MSS), ACKs of random
 * parts of what was sent with random windows (zero, small, large), data
 * from the peer, SACK blocks, reads, TCP_NODELAY switched, Fast Open's
 * first write before the SYN-ACK, time passing (RTO, persist, delayed
 * ACK, probes), and the close. Both stacks must send the same
 * bytes and count the same counters (but header prediction's two, which
 * no_fastpath does not count), and answer every call the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack.h"
#include "wire/ipv6.h"
#include "wire/wire.h"

#define HOST 0xc6120001u                /* 198.18.0.1 */
#define PEER 0xc6120009u                /* 198.18.0.9 */
#define MS 1000000ull

static const uint8_t host6[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 1 };
static const uint8_t peer6[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 9 };

static uint64_t rs;
static uint32_t rnd(void)
{
	/* xorshift64*: the same sequence on every run */
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return (uint32_t)((rs * 0x2545f4914f6cdd1dull) >> 32);
}

/* One stack of the pair: what it sent since the peer last looked, one
 * length-prefixed packet after another (a step sends a few). */
typedef struct side {
	hsk_stack *s;
	int sd;
	size_t tx_len;
	uint8_t tx[1 << 17];
} side;

static void on_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	side *d = ctx;
	assert_true(d->tx_len + 4 + len <= sizeof(d->tx));
	wr32(&d->tx[d->tx_len], (uint32_t)len);
	memcpy(&d->tx[d->tx_len + 4], pkt, len);
	d->tx_len += 4 + len;
}

/* The peer's view, from the packets the fast side sent (the slow side's
 * are checked to be the same). */
typedef struct peer {
	bool v6, ts, sack;
	uint32_t iss;         /* the host's */
	uint32_t hi;          /* past the last sequence number it sent */
	uint32_t acked;       /* the last ACK the peer sent */
	uint32_t nxt;         /* the peer's next sequence number */
	uint32_t tsval, ts_recent;
	uint16_t win;
	uint16_t hport;       /* the host's port */
} peer;

/* Both stacks under memory pressure from the start (test_out_one_pressure):
 * connect's SYN offers rcvbuf_min, not rcvbuf (output_syn's window). */
static bool open_pressure;

static void side_open(side *d, unsigned v, bool slow, uint64_t now)
{
	d->tx_len = 0;
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.addr = HOST;
	cfg.seed = 5 + v;
	cfg.sack = !(v & 2);
	cfg.timestamps = !(v & 4);
	cfg.window_scaling = !(v & 8);
	cfg.ecn = (v & 16) ? 1 : 0;
	if (v & 128)
		cfg.tcp_fastopen = HSK_TFO_CLIENT | HSK_TFO_CLIENT_NO_COOKIE;
	if (open_pressure)
		cfg.tcp_mem_low = 0;    /* (never left) */
	hsk_link link = { d, on_tx };
	d->s = hsk_stack_new(&cfg, &link, now);
	assert_non_null(d->s);
	d->s->tcp.no_fastpath = slow;
	if (open_pressure) {
		d->s->tcp.mem_pressure = true;
		d->s->tcp.mem_pressure_at = now;
	}
	if (v & 1) {
		hsk_addr a = hsk_addr_v6(host6);
		assert_int_equal(hsk_stack_add_addr(d->s, &a, 64), 0);
		d->sd = hsk_socket_family(d->s, HSK_AF_INET6);
	} else {
		d->sd = hsk_socket(d->s);
	}
	assert_true(d->sd >= 0);
	if (v & 32)
		assert_int_equal(hsk_setsockopt(d->s, d->sd, HSK_TCP_NODELAY, 1), 0);
	if (v & 64)
		assert_int_equal(hsk_setsockopt(d->s, d->sd, HSK_SO_SNDBUF, 6000), 0);
	if (v & 256) {
		assert_int_equal(hsk_setsockopt(d->s, d->sd, HSK_TCP_MAXSEG, 1000), 0);
		assert_int_equal(hsk_setsockopt(d->s, d->sd, HSK_IP_TOS, 0x28), 0);
	}
	if (v & 128)    /* Fast Open: the first write's data on the SYN */
		assert_int_equal(hsk_setsockopt(d->s, d->sd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
	int r;
	if (v & 1) {
		hsk_addr a = hsk_addr_v6(peer6);
		r = hsk_connect_addr(d->s, d->sd, &a, 80);
	} else {
		r = hsk_connect(d->s, d->sd, PEER, 80);
	}
	assert_true(r == -HSK_EINPROGRESS || ((v & 128) && r == 0));
}

/* The TOS byte (traffic class) of the peer's segments: 0 but for a CE
 * mark now and then (test_out_one_blocks). */
static uint8_t peer_tos;

/* The peer's segment th (with data) into both stacks. */
static void peer_send(side *a, side *b, const peer *p, uint64_t now, tcp_hdr *th,
		      const uint8_t *data, size_t dlen)
{
	uint8_t pkt[1600];
	size_t hl = p->v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	th->sport = 80;
	th->dport = p->hport;
	int n;
	if (p->v6)
		n = tcp_emit_ps(th, data, dlen, csum_pseudo6(peer6, host6, IP_PROTO_TCP, 0),
				pkt + hl, sizeof(pkt) - hl);
	else
		n = tcp_emit(th, data, dlen, PEER, HOST, pkt + hl, sizeof(pkt) - hl);
	assert_true(n > 0);
	if (p->v6) {
		ipv6_hdr h = { .next = IP_PROTO_TCP, .hop_limit = 64, .payload_len = (uint16_t)n,
			       .tclass = peer_tos };
		memcpy(h.src, peer6, 16);
		memcpy(h.dst, host6, 16);
		assert_int_equal(ipv6_emit(&h, pkt, hl), (int)hl);
	} else {
		ipv4_hdr h = { .total_len = (uint16_t)(hl + (size_t)n), .ttl = 64,
			       .proto = IP_PROTO_TCP, .src = PEER, .dst = HOST,
			       .tos = peer_tos };
		assert_int_equal(ipv4_emit(&h, pkt, hl), (int)hl);
	}
	hsk_stack_input(a->s, now, pkt, hl + (size_t)n);
	hsk_stack_input(b->s, now, pkt, hl + (size_t)n);
}

/* Both sides sent the same since the last look; the peer learns from it
 * how far the host has sent and its last TSval. */
static void peer_read(peer *p, side *a, side *b)
{
	assert_int_equal(a->tx_len, b->tx_len);
	assert_memory_equal(a->tx, b->tx, a->tx_len);
	for (size_t at = 0; at < a->tx_len;) {
		size_t len = rd32(&a->tx[at]);
		const uint8_t *pkt = &a->tx[at + 4];
		size_t hl = p->v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
		tcp_hdr th;
		const uint8_t *pay;
		size_t plen;
		assert_int_equal(tcp_parse(pkt + hl, len - hl, 0, 0, false, &th, &pay, &plen),
				 WIRE_OK);
		uint32_t end = th.seq + (uint32_t)plen + ((th.flags & HSK_TH_SYN) ? 1 : 0) +
			       ((th.flags & HSK_TH_FIN) ? 1 : 0);
		if (th.flags & HSK_TH_SYN)
			p->iss = th.seq, p->acked = th.seq + 1, p->hi = end, p->hport = th.sport;
		else if (!(th.flags & HSK_TH_RST) && (int32_t)(end - p->hi) > 0)
			p->hi = end;
		if (th.opt.has_ts)
			p->ts_recent = th.opt.ts_val;
		at += 4 + len;
	}
	a->tx_len = b->tx_len = 0;
}

static void same_counters(const side *a, const side *b)
{
	for (size_t i = 0; i < hsk_counter_count(); i++) {
		const char *name = hsk_counter_name(i);
		if (!strcmp(name, "TCPHPAcks") || !strcmp(name, "TCPHPHits"))
			continue;
		if (hsk_counter_get(a->s, i) != hsk_counter_get(b->s, i))
			fail_msg("counter %s: %llu != %llu", name,
				 (unsigned long long)hsk_counter_get(a->s, i),
				 (unsigned long long)hsk_counter_get(b->s, i));
	}
}

/* Whether a quarter of the writes are urgent (test_out_one_urgent). */
static bool send_urgent;

/* Whether the peer's data may come out of order (test_out_one_blocks). */
static bool peer_ooo;

/* The peer's ACK (and data) with a random window, and its timestamps. */
static void peer_ack(side *a, side *b, peer *p, uint64_t now, size_t dlen)
{
	static const uint8_t data[1500] = "the peer's data";
	/* now and then a full segment (two of them: an ACK at once) */
	if (dlen && peer_ooo && rnd() % 4 == 0)
		dlen = 400 + rnd() % 1100;
	uint32_t out = p->hi - p->acked;
	if (rnd() % 4)
		p->acked += out ? rnd() % (out + 1) : 0;
	uint32_t k = rnd() % 10;
	p->win = (uint16_t)(k == 0 ? 0 : k < 3 ? rnd() % 700 : k < 5 ? rnd() % 4000 : 65535 - rnd() % 8);
	tcp_hdr th = { .seq = p->nxt, .ack = p->acked, .flags = HSK_TH_ACK, .win = p->win,
		       .opt = { .wscale = -1 } };
	if (p->ts) {
		th.opt.has_ts = true;
		th.opt.ts_val = p->tsval += 1 + rnd() % 3;
		th.opt.ts_ecr = p->ts_recent;
	}
	/* a block above the ACK now and then (when granted: the host
	 * ignores them otherwise), so that the host marks data lost */
	out = p->hi - p->acked;
	if (p->sack && out > 2 && rnd() % 3 == 0) {
		uint32_t l = p->acked + 1 + rnd() % (out - 1);
		th.opt.nsack = 1;
		th.opt.sack[0] = (tcp_sack_block){ l, l + 1 + rnd() % (p->hi - l) };
	}
	if (dlen)
		th.flags |= HSK_TH_PSH;
	/* a CE mark now and then: with ECN, the host's ACKs carry ECE
	 * until the peer's CWR (which it never sends) */
	peer_tos = peer_ooo && dlen && rnd() % 5 == 0 ? 3 : 0;
	if (dlen && peer_ooo && rnd() % 3 == 0) {
		/* out of order (a gap below it) or a duplicate of what came
		 * (D-SACK): the host's ACKs carry SACK blocks, with SACK
		 * granted, and the gap is filled later */
		uint32_t at = rnd() % 2 ? p->nxt + 1 + rnd() % 300 : p->nxt - rnd() % 100;
		th.seq = at;
		peer_send(a, b, p, now, &th, data, dlen);
	} else {
		peer_send(a, b, p, now, &th, data, dlen);
		p->nxt += (uint32_t)dlen;
	}
	peer_tos = 0;
}

static void both_ways(unsigned v)
{
	static side fast, slow;
	uint64_t now = 10000 * MS;
	rs = 0x9e3779b97f4a7c15ull + v;
	side_open(&fast, v, false, now);
	side_open(&slow, v, true, now);
	peer p = { .v6 = v & 1, .nxt = rnd(), .tsval = rnd() };
	static uint8_t buf[8192];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + v);
	if (v & 128) {
		/* written before the SYN-ACK: the SYN's data, more after it */
		for (int i = 0; i < 2; i++) {
			size_t len = 1 + rnd() % 400;
			long r = hsk_send(fast.s, fast.sd, buf, len);
			assert_int_equal(hsk_send(slow.s, slow.sd, buf, len), r);
		}
	}
	peer_read(&p, &fast, &slow);
	if (rnd() % 4 == 0) {
		/* the SYN again, after its RTO (and again) */
		now += (1100 + rnd() % 3000) * MS;
		hsk_stack_advance(fast.s, now);
		hsk_stack_advance(slow.s, now);
		peer_read(&p, &fast, &slow);
	}
	/* the SYN-ACK: each option granted or not */
	tcp_hdr th = { .seq = p.nxt++, .ack = p.iss + 1, .flags = HSK_TH_SYN | HSK_TH_ACK,
		       .win = (uint16_t)(2000 + rnd() % 63000), .opt = { .wscale = -1 } };
	if (rnd() % 4)
		th.opt.mss = (uint16_t)(rnd() % 2 ? 1460 : 500 + rnd() % 1000);
	th.opt.sack_ok = p.sack = rnd() % 2;
	if (rnd() % 3) {
		p.ts = true;
		th.opt.has_ts = true;
		th.opt.ts_val = p.tsval;
		th.opt.ts_ecr = p.ts_recent;
	}
	if (rnd() % 2)
		th.opt.wscale = (int8_t)(rnd() % 8);
	if ((v & 16) && rnd() % 2)
		th.flags |= HSK_TH_ECE;
	/* (the SYN only, or its data too) */
	p.acked = p.iss + 1 + (rnd() % 2 ? p.hi - p.iss - 1 : 0);
	th.ack = p.acked;
	if (v & 512) {
		/* a simultaneous open: the peer's SYN, the host's SYN-ACK
		 * (tcb_send_syn's other way), the peer's ACK */
		th.flags &= (uint8_t)~HSK_TH_ACK;
		if (th.flags & HSK_TH_ECE)
			th.flags |= HSK_TH_CWR;
		th.ack = 0;
		p.acked = p.iss + 1;
		peer_send(&fast, &slow, &p, now, &th, NULL, 0);
		peer_read(&p, &fast, &slow);
		th = (tcp_hdr){ .seq = p.nxt, .ack = p.acked, .flags = HSK_TH_ACK,
				.win = th.win, .opt = { .wscale = -1 } };
		if (p.ts) {
			th.opt.has_ts = true;
			th.opt.ts_val = ++p.tsval;
			th.opt.ts_ecr = p.ts_recent;
		}
	}
	peer_send(&fast, &slow, &p, now, &th, NULL, 0);
	peer_read(&p, &fast, &slow);
	bool shut = false;
	for (int n = 0; n < 600; n++) {
		uint32_t k = rnd() % 100;
		if (k < 30 && !shut) {
			size_t len = rnd() % 4 ? 1 + rnd() % 300 : 1 + rnd() % 5000;
			int fl = send_urgent && rnd() % 4 == 0 ? HSK_MSG_OOB : 0;
			long r = hsk_sendto(fast.s, fast.sd, buf, len, fl, 0, 0);
			assert_int_equal(hsk_sendto(slow.s, slow.sd, buf, len, fl, 0, 0), r);
		} else if (k < 60) {
			peer_ack(&fast, &slow, &p, now, rnd() % 5 ? 0 : 1 + rnd() % 200);
		} else if (k < 66) {
			size_t len = rnd() % 300;
			long r = hsk_recv(fast.s, fast.sd, buf, len);
			assert_int_equal(hsk_recv(slow.s, slow.sd, buf, len), r);
			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = (uint8_t)(i * 7 + v);
		} else if (k < 68) {
			int on = (int)(rnd() % 2);
			assert_int_equal(hsk_setsockopt(fast.s, fast.sd, HSK_TCP_NODELAY, on),
					 hsk_setsockopt(slow.s, slow.sd, HSK_TCP_NODELAY, on));
		} else if (k < 69 && n > 300 && !shut) {
			shut = true;
			assert_int_equal(hsk_shutdown(fast.s, fast.sd, HSK_SHUT_WR),
					 hsk_shutdown(slow.s, slow.sd, HSK_SHUT_WR));
		} else {
			uint32_t j = rnd() % 10;
			now += j < 6 ? rnd() % 5 * MS : j < 9 ? rnd() % 300 * MS : rnd() % 3000 * MS;
			hsk_stack_advance(fast.s, now);
			hsk_stack_advance(slow.s, now);
		}
		peer_read(&p, &fast, &slow);
	}
	/* the rest acknowledged, the peer's FIN */
	p.acked = p.hi;
	peer_ack(&fast, &slow, &p, now, 0);
	th = (tcp_hdr){ .seq = p.nxt, .ack = p.acked, .flags = HSK_TH_ACK | HSK_TH_FIN,
			.win = 65535, .opt = { .wscale = -1 } };
	peer_send(&fast, &slow, &p, now, &th, NULL, 0);
	assert_int_equal(hsk_close(fast.s, fast.sd), hsk_close(slow.s, slow.sd));
	now += 120000 * MS;
	hsk_stack_advance(fast.s, now);
	hsk_stack_advance(slow.s, now);
	peer_read(&p, &fast, &slow);
	same_counters(&fast, &slow);
	/* the connection carried data (the smallest run sends ~95 segments) */
	assert_true(hsk_counter_by_name(fast.s, "OutSegs") > 40);
	hsk_stack_free(fast.s);
	hsk_stack_free(slow.s);
}

static void test_out_one_same_both_ways(void **state)
{
	(void)state;
	for (unsigned v = 0; v < 1024; v++)
		both_ways(v);
}

/* The same with the peer's data out of order now and then, or
 * duplicated, or marked CE: the pure ACKs that carry SACK blocks or ECE
 * (and those that do not, ack_fast's, output.c) must be the same both
 * ways too. */
static void test_out_one_blocks(void **state)
{
	(void)state;
	peer_ooo = true;
	for (unsigned v = 0; v < 1024; v++)
		both_ways(v);
	peer_ooo = false;
}

/* The same with a quarter of the writes urgent data (urgent.c): urgent
 * mode leaves the short ways (one_due_k, ack_fast_ok), whose segments
 * must then be the send loop's, URG and pointer included. A third of
 * the configurations. */
static void test_out_one_urgent(void **state)
{
	(void)state;
	send_urgent = true;
	for (unsigned v = 0; v < 1024; v += 3)
		both_ways(v);
	send_urgent = false;
}

/* The same with both stacks under memory pressure before the connect:
 * the SYN's window is the pressure's (rcvbuf_min), which output_syn's
 * short way must not take as rcvbuf (syn_window's fresh term, output.c).
 * A third of the configurations (every third: the SYN's options and
 * address family all among them). */
static void test_out_one_pressure(void **state)
{
	(void)state;
	open_pressure = true;
	for (unsigned v = 0; v < 1024; v += 3)
		both_ways(v);
	open_pressure = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_one_same_both_ways),
		cmocka_unit_test(test_out_one_blocks),
		cmocka_unit_test(test_out_one_pressure),
		cmocka_unit_test(test_out_one_urgent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
