/*
 * Checksums on the fused path (docs/performance.md): a segment with at
 * least TCP_FUSE_MIN bytes of payload is verified while its payload is
 * copied into the receive ring, as is one of any length from 128 bytes
 * that header prediction takes as the next data in order (hp_fused); every
 * payload is summed while it is gathered from the send ring. A corrupted byte must still be caught and counted, and
 * nothing of the segment may reach the application; every byte sent that
 * way must carry a checksum the receiver's own parse accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "tcp/tcp.h"
#include "wire/ipv6.h"
#include "wire/wire.h"

enum { C = 0, S = 1, PORT = 80, MTU = 16384, LONG = 8000 };
_Static_assert((int)LONG >= (int)TCP_FUSE_MIN, "the long segments take the fused path");

static uint8_t pat(uint32_t i)
{
	return (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
}

/* A segment from the peer with `len` bytes of the pattern from stream
 * offset off (relative seq off + 1), one byte flipped after the checksum
 * when bad >= 0: built here, as sim_inject's buffer is too short; in the
 * family sim_inject speaks (HSK_SIM_FAMILY). */
static void send_long(sim_peer *p, uint32_t off, uint32_t len, long bad)
{
	static uint8_t pkt[IPV6_HDR_LEN + 60 + 65536], data[65536];
	for (uint32_t i = 0; i < len; i++)
		data[i] = pat(off + i);
	tcp_hdr th = { .sport = p->port, .dport = p->hport, .seq = p->iss + 1 + off,
		       .ack = p->hiss + 1, .flags = HSK_TH_ACK, .win = 65535 };
	tcp_opts_init(&th.opt);
	if (p->ts) {
		th.opt.has_ts = true;
		th.opt.ts_val = p->tsval;
		th.opt.ts_ecr = p->ts_ecr;
	}
	bool v6 = p->sm->family == HSK_AF_INET6;
	size_t hl = v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	int n;
	if (v6) {
		ipv6_hdr h6 = { .next = IP_PROTO_TCP, .hop_limit = 64 };
		memcpy(h6.src, sim_twin6(p->addr).v6, 16);
		memcpy(h6.dst, sim_addr6(p->host).v6, 16);
		n = tcp_emit_ps(&th, data, len, csum_pseudo6(h6.src, h6.dst, IP_PROTO_TCP, 0),
				pkt + hl, sizeof(pkt) - hl);
		assert_true(n > 0);
		h6.payload_len = (uint16_t)n;
		assert_int_equal(ipv6_emit(&h6, pkt, hl), (int)hl);
	} else {
		n = tcp_emit(&th, data, len, p->addr, SIM_ADDR(p->host), pkt + hl,
			     sizeof(pkt) - hl);
		assert_true(n > 0);
		ipv4_hdr ih = { .total_len = (uint16_t)(hl + (size_t)n), .ttl = 64,
				.proto = IP_PROTO_TCP, .src = p->addr, .dst = SIM_ADDR(p->host) };
		assert_int_equal(ipv4_emit(&ih, pkt, hl), (int)hl);
	}
	if (bad >= 0)
		pkt[hl + (size_t)(n - (int)len) + (size_t)bad] ^= 0x20;
	hsk_stack_input(p->sm->st[p->host], memnet_now(p->sm->net), pkt, hl + (size_t)n);
}

/* Reads everything the socket holds (at most cap) and checks it is the
 * pattern from stream offset off. */
static uint32_t read_check(sim *sm, int sd, uint32_t off, uint32_t cap)
{
	static uint8_t buf[65536];
	assert_true(cap <= sizeof(buf));
	ssize_t n = hsk_recv(sm->st[S], sd, buf, cap);
	if (n == -HSK_EAGAIN)
		return 0;
	assert_true(n >= 0);
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != pat(off + (uint32_t)i))
			fail_msg("byte %u: %#x, want %#x", off + (unsigned)i, buf[i],
				 pat(off + (uint32_t)i));
	return (uint32_t)n;
}

static hsk_config big_mtu(uint32_t rcvbuf)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.mtu = MTU;
	if (rcvbuf)
		cfg.rcvbuf = rcvbuf;
	return cfg;
}

/* In order, a receive ring already there: the payload is placed in the
 * ring while it is summed. A flipped byte (in the middle, in the last
 * byte, in the first) drops the segment as a bad checksum, counted; the
 * application sees none of it, and the good copy then arrives whole. */
static void test_corrupt_long_segment_dropped(void **state)
{
	(void)state;
	static const long where[] = { 5000, LONG - 1, 0, 1 };
	for (unsigned w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
		hsk_config cfg = big_mtu(0);
		sim sm;
		sim_init(&sm, 2, &cfg, 11 + w);
		sim_peer p;
		tcp_opts syn;
		tcp_opts_init(&syn);
		syn.mss = MTU - (1500 - sim_mss(&sm));     /* less the family's headers */
		sim_peer_accept(&sm, &p, S, PORT, 1000, &syn);
		/* 100 bytes first: the receive ring exists (unread) */
		send_long(&p, 0, 100, -1);
		assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), 0);
		send_long(&p, 100, LONG, where[w]);
		assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), 1);
		assert_int_equal(sim_counter(&sm, S, "InErrs"), 1);
		/* the good copy, then everything is read: the pattern, no byte
		 * of the bad one */
		send_long(&p, 100, LONG, -1);
		assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), 1);
		assert_int_equal(read_check(&sm, p.sd, 0, 65536), 100 + LONG);

		/* The same after a read emptied the ring: the ring is given back
		 * or kept, and the bad segment is dropped either way. */
		send_long(&p, 100 + LONG, LONG, where[w]);
		assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), 2);
		assert_int_equal(read_check(&sm, p.sd, 100 + LONG, 65536), 0);
		send_long(&p, 100 + LONG, LONG, -1);
		assert_int_equal(read_check(&sm, p.sd, 100 + LONG, 65536), LONG);
		assert_int_equal(hsk_abort(sm.st[S], p.sd), 0);
		assert_int_equal(hsk_close(sm.st[S], p.lsd), 0);
		sim_run(&sm, 1 * SEC);
		sim_assert_no_leaks(&sm);
		sim_free(&sm);
	}
}

/* Full-MSS segments at the default MTU, with timestamps, as a bulk
 * transfer's: header prediction takes each as the next data in order and
 * verifies it while copying it into the ring (hp_fused). One byte flipped
 * (first, second, middle, last; segments placed across the ring's wrap,
 * at odd offsets, as reads of odd sizes move its head) drops the segment
 * as a bad checksum, counted, with no reply and nothing of it readable;
 * the peer's retransmission then arrives whole and the stream goes on. */
static void test_corrupt_mss_segment_dropped(void **state)
{
	(void)state;
	enum { SEGS = 240 };
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.rcvbuf = 16384;     /* a small ring: its end comes round often */
	sim sm;
	sim_init(&sm, 2, &cfg, 41);
	const uint32_t mss = sim_mss(&sm) - 12;        /* full, with timestamps */
	const long where[] = { 0, 1, 700, (long)mss - 1 };
	sim_peer p;
	tcp_opts syn;
	tcp_opts_init(&syn);
	syn.mss = sim_mss(&sm);
	syn.has_ts = true;
	syn.ts_val = 5000;
	sim_peer_accept(&sm, &p, S, PORT, 1000, &syn);
	assert_true(p.ts);
	p.ts_ecr = 1;
	/* 100 bytes first: the receive ring exists (unread) */
	send_long(&p, 0, 100, -1);
	uint32_t off = 100, got = 0, bad = 0;
	for (uint32_t i = 0; i < SEGS; i++) {
		p.tsval++;
		if (i % 5 == 2) {
			size_t from = sm.nlog;
			send_long(&p, off, mss, where[bad % 4]);
			bad++;
			assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), bad);
			assert_int_equal(sim_counter(&sm, S, "InErrs"), bad);
			assert_int_equal(sim_count_tx_since(&sm, S, from), 0);
			/* nothing of it readable: the ring ends at off (a
			 * release of more than is there fails, taking nothing) */
			assert_int_equal(hsk_recv_release(sm.st[S], p.sd, off - got + 1),
					 -HSK_EINVAL);
		}
		send_long(&p, off, mss, -1);
		off += mss;
		/* reads of odd sizes, the ring never emptied (so it is there
		 * for the next segment): its end wraps anywhere */
		if (i % 3 == 0)
			got += read_check(&sm, p.sd, got, off - got - 1 - i * 13 % 500);
	}
	got += read_check(&sm, p.sd, got, 65536);
	assert_int_equal(got, off);
	assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), bad);
	assert_int_equal(sim_counter(&sm, S, "TCPRcvQDrop"), 0);
	assert_int_equal(hsk_abort(sm.st[S], p.sd), 0);
	assert_int_equal(hsk_close(sm.st[S], p.lsd), 0);
	sim_run(&sm, 1 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* Only the first part of the payload fits the receive buffer: that part is
 * summed in the copy, the rest in place. A flipped byte in either part
 * drops the whole segment; nothing of it is kept. The good copy keeps
 * what fits. */
static void test_corrupt_beyond_room_dropped(void **state)
{
	(void)state;
	enum { RCVBUF = 16384, FIRST = 10000 };
	static const long where[] = { 1000, LONG - 10 };
	for (unsigned w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
		hsk_config cfg = big_mtu(RCVBUF);
		sim sm;
		sim_init(&sm, 2, &cfg, 21 + w);
		sim_peer p;
		tcp_opts syn;
		tcp_opts_init(&syn);
		syn.mss = MTU - (1500 - sim_mss(&sm));     /* less the family's headers */
		sim_peer_accept(&sm, &p, S, PORT, 1000, &syn);
		send_long(&p, 0, FIRST, -1);
		/* RCVBUF - FIRST bytes of room: the next 8000 do not all fit */
		send_long(&p, FIRST, LONG, where[w]);
		assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), 1);
		assert_int_equal(sim_counter(&sm, S, "TCPRcvQDrop"), 0);
		/* the good copy: what fits is kept, the rest trimmed */
		send_long(&p, FIRST, LONG, -1);
		assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), 1);
		assert_int_equal(sim_counter(&sm, S, "TCPRcvQDrop"), 1);
		assert_int_equal(read_check(&sm, p.sd, 0, 65536), RCVBUF);
		assert_int_equal(read_check(&sm, p.sd, RCVBUF, 65536), 0);
		assert_int_equal(hsk_abort(sm.st[S], p.sd), 0);
		assert_int_equal(hsk_close(sm.st[S], p.lsd), 0);
		sim_run(&sm, 1 * SEC);
		sim_assert_no_leaks(&sm);
		sim_free(&sm);
	}
}

/* Every packet to the server is checked here with the plain parser before
 * the server sees it. */
struct check_ctx {
	sim *sm;
	unsigned long long long_segs, bad;
};

static void check_sink(void *ctx, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct check_ctx *cc = ctx;
	const uint8_t *tp;
	size_t tlen;
	uint32_t psum;
	if (cc->sm->family == HSK_AF_INET6) {
		ipv6_hdr h6;
		assert_int_equal(ipv6_parse(pkt, len, &h6, &tp, &tlen), WIRE_OK);
		assert_int_equal(h6.next, IP_PROTO_TCP);
		psum = csum_pseudo6(h6.src, h6.dst, IP_PROTO_TCP, 0);
	} else {
		ipv4_hdr ih;
		assert_int_equal(ipv4_parse(pkt, len, &ih, &tp, &tlen), WIRE_OK);
		psum = csum_pseudo(ih.src, ih.dst, IP_PROTO_TCP, 0);
	}
	tcp_hdr th;
	const uint8_t *data;
	size_t dlen;
	if (tcp_parse_ps(tp, tlen, psum, true, &th, &data, &dlen) != WIRE_OK)
		cc->bad++;
	else if (dlen >= TCP_FUSE_MIN)
		cc->long_segs++;
	hsk_stack_input(cc->sm->st[S], now, pkt, len);
}

/* Sends `total` bytes of pat() from the client in writes of up to `chunk`
 * bytes, the server reading (each byte checked) until all arrived. */
static void stream_pattern(sim *sm, int csd, int ssd, uint32_t chunk, uint32_t total)
{
	static uint8_t buf[8192];
	assert_true(chunk <= sizeof(buf));
	uint32_t sent = 0, got = 0;
	while (got < total) {
		while (sent < total) {
			uint32_t k = total - sent < chunk ? total - sent : chunk;
			for (uint32_t i = 0; i < k; i++)
				buf[i] = pat(sent + i);
			ssize_t n = hsk_send(sm->st[C], csd, buf, k);
			if (n == -HSK_EAGAIN)
				break;
			assert_true(n > 0);
			sent += (uint32_t)n;
		}
		sim_run(sm, 2 * MS);
		uint32_t n;
		while ((n = read_check(sm, ssd, got, 65536)) > 0)
			got += n;
	}
}

/* Long segments summed while they are gathered from the send ring (which
 * wraps, at odd offsets too): each one's checksum is right by the plain
 * parser, and the bytes arrive as sent. */
static void test_long_segments_sent_summed(void **state)
{
	(void)state;
	hsk_config cfg = big_mtu(0);
	sim sm;
	sim_init(&sm, 2, &cfg, 31);
	struct check_ctx cc = { .sm = &sm };
	memnet_set_sink(sm.net, S, check_sink, &cc);
	int lsd, csd, ssd;
	sim_open_pair(&sm, C, S, PORT, 4, &lsd, &csd, &ssd);
	stream_pattern(&sm, csd, ssd, 7777, 3 << 20);
	assert_int_equal(cc.bad, 0);
	assert_true(cc.long_segs > 100);
	assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), 0);
	assert_int_equal(hsk_close(sm.st[C], csd), 0);
	assert_int_equal(hsk_close(sm.st[S], ssd), 0);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_run_idle(&sm, 300 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

/* A bulk transfer between two stacks at the default MTU in which every
 * 40th full-sized data segment to the server arrives with one payload
 * byte flipped: each is dropped and counted, the client retransmits it,
 * and the stream arrives intact. */
struct flip_ctx {
	sim *sm;
	unsigned long long full, flipped;
};

static void flip_sink(void *ctx, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct flip_ctx *fc = ctx;
	static uint8_t copy[2048];
	if (len == 1500 && len <= sizeof(copy) && ++fc->full % 40 == 0) {
		memcpy(copy, pkt, len);
		copy[len - 1 - fc->flipped * 97 % 1400] ^= 0x04;
		fc->flipped++;
		pkt = copy;
	}
	hsk_stack_input(fc->sm->st[S], now, pkt, len);
}

static void test_corrupt_mss_in_bulk(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 2, NULL, 51);
	struct flip_ctx fc = { .sm = &sm };
	memnet_set_sink(sm.net, S, flip_sink, &fc);
	int lsd, csd, ssd;
	sim_open_pair(&sm, C, S, PORT, 4, &lsd, &csd, &ssd);
	stream_pattern(&sm, csd, ssd, 5000, 1 << 20);
	assert_true(fc.flipped > 10);
	assert_int_equal(sim_counter(&sm, S, "InCsumErrors"), fc.flipped);
	assert_true(sim_counter(&sm, C, "RetransSegs") >= fc.flipped);
	assert_int_equal(hsk_close(sm.st[C], csd), 0);
	assert_int_equal(hsk_close(sm.st[S], ssd), 0);
	assert_int_equal(hsk_close(sm.st[S], lsd), 0);
	sim_run_idle(&sm, 300 * SEC);
	sim_assert_no_leaks(&sm);
	sim_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corrupt_long_segment_dropped),
		cmocka_unit_test(test_corrupt_mss_segment_dropped),
		cmocka_unit_test(test_corrupt_beyond_room_dropped),
		cmocka_unit_test(test_long_segments_sent_summed),
		cmocka_unit_test(test_corrupt_mss_in_bulk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
