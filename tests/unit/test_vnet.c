/*
 * virtio-net header work without a device: partial checksums completed on
 * receive, GSO packets checked, UDP GSO split into datagrams; on send,
 * segments joined into one GSO packet that splits back (the way the kernel
 * splits it) into exactly the segments that went in, every case that must
 * not be joined, and a packet over the link MTU given gso_size from the
 * MTU. Offload names parse and print.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "link/dev.h"
#include "link/vnet.h"
#include "wire/wire.h"

#define SRC 0xc6120002u
#define DST 0xc6120001u
#define ACK_ 0x10
#define PSH_ 0x08
#define FIN_ 0x01
#define SYN_ 0x02

static const uint8_t ts_opt[12] = { 1, 1, 8, 10, 0, 0, 0, 100, 0, 0, 0, 200 };

/* A TCP/IPv4 segment with valid checksums. */
static size_t build_tcp(uint8_t *b, uint16_t id, uint32_t seq, uint32_t ack, uint8_t flags,
			const uint8_t *opt, size_t optlen, const uint8_t *pay, size_t plen)
{
	size_t thl = 20 + optlen, len = 20 + thl + plen;
	uint8_t *t = b + 20;

	memset(b, 0, 20 + thl);
	b[0] = 0x45;
	wr16(b + 2, (uint16_t)len);
	wr16(b + 4, id);
	wr16(b + 6, IPV4_DF);
	b[8] = 64;
	b[9] = IP_PROTO_TCP;
	wr32(b + 12, SRC);
	wr32(b + 16, DST);
	wr16(b + 10, csum_fold(csum_partial(b, 20, 0)));
	wr16(t, 40000);
	wr16(t + 2, 80);
	wr32(t + 4, seq);
	wr32(t + 8, ack);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = flags;
	wr16(t + 14, 512);
	if (optlen)
		memcpy(t + 20, opt, optlen);
	memcpy(t + thl, pay, plen);
	wr16(t + 16, csum_fold(csum_partial(t, thl + plen,
					    csum_pseudo(SRC, DST, IP_PROTO_TCP, (uint16_t)(thl + plen)))));
	return len;
}

static size_t build_udp(uint8_t *b, const uint8_t *pay, size_t plen)
{
	size_t len = 28 + plen;

	memset(b, 0, 28);
	b[0] = 0x45;
	wr16(b + 2, (uint16_t)len);
	b[8] = 64;
	b[9] = IP_PROTO_UDP;
	wr32(b + 12, SRC);
	wr32(b + 16, DST);
	wr16(b + 10, csum_fold(csum_partial(b, 20, 0)));
	wr16(b + 20, 5000);
	wr16(b + 22, 6000);
	wr16(b + 24, (uint16_t)(8 + plen));
	memcpy(b + 28, pay, plen);
	wr16(b + 26, csum_fold(csum_partial(b + 20, 8 + plen,
					    csum_pseudo(SRC, DST, IP_PROTO_UDP, (uint16_t)(8 + plen)))));
	return len;
}

static uint8_t payload[70000];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + (i >> 8));
	return 0;
}

static bool tcp_valid(const uint8_t *p, size_t len)
{
	ipv4_hdr h;
	tcp_hdr th;
	const uint8_t *pl, *tp;
	size_t n, tn;

	return ipv4_parse(p, len, &h, &tp, &tn) == WIRE_OK &&
	       tcp_parse(tp, tn, h.src, h.dst, true, &th, &pl, &n) == WIRE_OK;
}

/* The partial form the kernel hands over: pseudo-header sum, not complemented. */
static void make_partial(uint8_t *p, size_t len, size_t csum_at, uint8_t proto)
{
	wr16(p + csum_at, (uint16_t)~csum_fold(csum_pseudo(SRC, DST, proto, (uint16_t)(len - 20))));
}

static void test_rx_completes_partial_checksum(void **state)
{
	uint8_t p[3000], orig[3000];
	vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 16 };
	vnet_rx_info info;
	size_t len = build_tcp(p, 1, 1000, 5, ACK_, ts_opt, 12, payload, 1448);

	(void)state;
	memcpy(orig, p, len);
	make_partial(p, len, 36, IP_PROTO_TCP);
	assert_false(tcp_valid(p, len));
	assert_int_equal(vnet_rx_fixup(&h, p, len, &info), VNET_RX_OK);
	assert_true(info.csum_completed);
	assert_int_equal(info.segs, 1);
	assert_memory_equal(p, orig, len);
	assert_true(tcp_valid(p, len));

	/* A wrong pseudo-header sum gives a wrong checksum, which the stack
	 * then refuses: completing is not validating. */
	make_partial(p, len, 36, IP_PROTO_TCP);
	p[36] ^= 0x40;
	assert_int_equal(vnet_rx_fixup(&h, p, len, &info), VNET_RX_OK);
	assert_false(tcp_valid(p, len));
}

static void test_rx_gso_tcp(void **state)
{
	uint8_t p[VNET_MAX_PKT];
	vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV4, .hdr_len = 52,
		       .gso_size = 1448, .csum_start = 20, .csum_offset = 16 };
	vnet_rx_info info;
	size_t len = build_tcp(p, 1, 1, 1, ACK_ | PSH_, ts_opt, 12, payload, 1448 * 44 + 100);

	(void)state;
	make_partial(p, len, 36, IP_PROTO_TCP);
	assert_int_equal(vnet_rx_fixup(&h, p, len, &info), VNET_RX_OK);
	assert_int_equal(info.segs, 45);
	assert_true(tcp_valid(p, len));
	/* ECN flag in gso_type is fine */
	h.gso_type |= VNET_GSO_ECN;
	assert_int_equal(vnet_rx_fixup(&h, p, len, &info), VNET_RX_OK);
}

static void test_rx_bad_headers(void **state)
{
	uint8_t p[3000], u[3000];
	vnet_rx_info info;
	size_t len = build_tcp(p, 1, 1, 1, ACK_, NULL, 0, payload, 1000);
	size_t ulen = build_udp(u, payload, 1000);
	vnet_hdr h;

	(void)state;
	h = (vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 2000 };
	assert_int_equal(vnet_rx_fixup(&h, p, len, &info), VNET_RX_BAD);
	h = (vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .csum_start = 1039, .csum_offset = 0 };
	assert_int_equal(vnet_rx_fixup(&h, p, len, &info), VNET_RX_BAD);
	h = (vnet_hdr){ .gso_type = VNET_GSO_TCPV4, .gso_size = 0 };
	assert_int_equal(vnet_rx_fixup(&h, p, len, &info), VNET_RX_BAD);
	h = (vnet_hdr){ .gso_type = VNET_GSO_TCPV4, .gso_size = 500 };
	assert_int_equal(vnet_rx_fixup(&h, u, ulen, &info), VNET_RX_BAD);   /* not TCP */
	h = (vnet_hdr){ .gso_type = VNET_GSO_TCPV6, .gso_size = 500 };
	assert_int_equal(vnet_rx_fixup(&h, p, len, &info), VNET_RX_BAD);
	h = (vnet_hdr){ .gso_type = VNET_GSO_TCPV4, .gso_size = 500 };
	assert_int_equal(vnet_rx_fixup(&h, p, len - 1, &info), VNET_RX_BAD); /* length */
}

static void test_rx_uso_split(void **state)
{
	uint8_t u[4000], piece[2000];
	vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_UDP_L4, .hdr_len = 28,
		       .gso_size = 1000, .csum_start = 20, .csum_offset = 6 };
	vnet_rx_info info;
	vnet_seg_iter it;
	size_t len = build_udp(u, payload, 2500), off = 0;
	long n;
	int k = 0;

	(void)state;
	make_partial(u, len, 26, IP_PROTO_UDP);
	assert_int_equal(vnet_rx_fixup(&h, u, len, &info), VNET_RX_SPLIT);
	assert_true(vnet_seg_init(&it, u, len, h.gso_size));
	while ((n = vnet_seg_next(&it, piece, sizeof(piece))) > 0) {
		size_t plen = (size_t)n - 28;
		assert_int_equal(rd16(piece + 2), n);
		assert_int_equal(rd16(piece + 4), k);            /* IP ID + 1 each */
		assert_int_equal(csum_fold(csum_partial(piece, 20, 0)), 0);
		assert_int_equal(rd16(piece + 24), 8 + plen);
		assert_int_equal(csum_fold(csum_partial(piece + 20, 8 + plen,
				 csum_pseudo(SRC, DST, IP_PROTO_UDP, (uint16_t)(8 + plen)))), 0);
		assert_memory_equal(piece + 28, payload + off, plen);
		off += plen;
		k++;
	}
	assert_int_equal(k, 3);
	assert_int_equal(off, 2500);
	/* too small an output buffer */
	assert_true(vnet_seg_init(&it, u, len, 1000));
	assert_int_equal(vnet_seg_next(&it, piece, 100), -1);
}

struct seglist {
	uint8_t p[48][1600];
	size_t len[48];
	int n;
};

/* n full segments from seq 1000, the last with `last_flags` added. */
static void make_run(struct seglist *s, int n, size_t mss, uint8_t last_flags)
{
	s->n = n;
	for (int i = 0; i < n; i++)
		s->len[i] = build_tcp(s->p[i], (uint16_t)(77 + i), 1000 + (uint32_t)(i * mss), 9,
				      (uint8_t)(ACK_ | (i == n - 1 ? last_flags : 0)), ts_opt, 12,
				      payload + i * mss, mss);
}

static void test_gso_join_and_split_back(void **state)
{
	static uint8_t buf[VNET_HDR_LEN + VNET_MAX_PKT];
	static struct seglist s;
	vnet_gso g = { .buf = buf, .cap = sizeof(buf) };
	vnet_hdr h;
	vnet_seg_iter it;
	uint8_t piece[2000];
	size_t n;
	long m;
	int k = 0;

	(void)state;
	make_run(&s, 44, 1448, PSH_);
	for (int i = 0; i < s.n; i++)
		assert_int_equal(vnet_gso_add(&g, s.p[i], s.len[i]), VNET_GSO_ADDED);
	assert_true(g.closed);
	assert_int_equal(g.segs, 44);
	n = vnet_gso_finish(&g);
	assert_int_equal(n, VNET_HDR_LEN + 20 + 32 + 44 * 1448);
	assert_int_equal(g.len, 0);
	memcpy(&h, buf, VNET_HDR_LEN);
	assert_int_equal(h.gso_type, VNET_GSO_TCPV4);
	assert_int_equal(h.flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(h.gso_size, 1448);
	assert_int_equal(h.hdr_len, 52);
	assert_int_equal(h.csum_start, 20);
	assert_int_equal(h.csum_offset, 16);
	/* a valid IP header; the TCP checksum is the partial one */
	assert_int_equal(rd16(buf + VNET_HDR_LEN + 2), n - VNET_HDR_LEN);
	assert_int_equal(csum_fold(csum_partial(buf + VNET_HDR_LEN, 20, 0)), 0);
	assert_int_equal(rd16(buf + VNET_HDR_LEN + 36),
			 (uint16_t)~csum_fold(csum_pseudo(SRC, DST, IP_PROTO_TCP, (uint16_t)(n - VNET_HDR_LEN - 20))));
	/* split the way the kernel does: the same segments come out */
	assert_true(vnet_seg_init(&it, buf + VNET_HDR_LEN, n - VNET_HDR_LEN, h.gso_size));
	while ((m = vnet_seg_next(&it, piece, sizeof(piece))) > 0) {
		assert_true(k < s.n);
		assert_int_equal(m, s.len[k]);
		assert_memory_equal(piece, s.p[k], s.len[k]);
		k++;
	}
	assert_int_equal(k, 44);
}

static void test_gso_one_segment_goes_plain(void **state)
{
	static uint8_t buf[VNET_HDR_LEN + VNET_MAX_PKT];
	static struct seglist s;
	vnet_gso g = { .buf = buf, .cap = sizeof(buf) };
	vnet_hdr h;
	size_t n;

	(void)state;
	make_run(&s, 1, 1000, 0);
	assert_int_equal(vnet_gso_add(&g, s.p[0], s.len[0]), VNET_GSO_ADDED);
	n = vnet_gso_finish(&g);
	memcpy(&h, buf, VNET_HDR_LEN);
	assert_int_equal(h.gso_type, VNET_GSO_NONE);
	assert_int_equal(h.flags, 0);
	assert_int_equal(n - VNET_HDR_LEN, s.len[0]);
	assert_memory_equal(buf + VNET_HDR_LEN, s.p[0], s.len[0]);   /* checksum kept */
}

static void test_gso_refuses(void **state)
{
	static uint8_t buf[VNET_HDR_LEN + VNET_MAX_PKT];
	static struct seglist s;
	vnet_gso g = { .buf = buf, .cap = sizeof(buf) };
	uint8_t p[1600], opt2[12];
	size_t len;

	(void)state;
	make_run(&s, 2, 1000, 0);
#define FRESH() do { g.len = 0; assert_int_equal(vnet_gso_add(&g, s.p[0], s.len[0]), VNET_GSO_ADDED); } while (0)
	FRESH();
	assert_int_equal(vnet_gso_add(&g, s.p[1], s.len[1]), VNET_GSO_ADDED);
	/* a gap in sequence */
	FRESH();
	len = build_tcp(p, 78, 1000 + 1001, 9, ACK_, ts_opt, 12, payload, 1000);
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_NO);
	/* a different ACK number, window, timestamp */
	FRESH();
	len = build_tcp(p, 78, 2000, 10, ACK_, ts_opt, 12, payload, 1000);
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_NO);
	FRESH();
	memcpy(p, s.p[1], s.len[1]);
	p[35] ^= 1;
	assert_int_equal(vnet_gso_add(&g, p, s.len[1]), VNET_GSO_NO);
	FRESH();
	memcpy(opt2, ts_opt, 12);
	opt2[7]++;
	len = build_tcp(p, 78, 2000, 9, ACK_, opt2, 12, payload, 1000);
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_NO);
	/* more payload than the first segment */
	FRESH();
	len = build_tcp(p, 78, 2000, 9, ACK_, ts_opt, 12, payload, 1001);
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_NO);
	/* after a short segment nothing follows */
	FRESH();
	len = build_tcp(p, 78, 2000, 9, ACK_, ts_opt, 12, payload, 500);
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_ADDED);
	assert_true(g.closed);
	len = build_tcp(p, 79, 2500, 9, ACK_, ts_opt, 12, payload, 500);
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_NO);
	/* FIN joins as the last, then nothing */
	FRESH();
	len = build_tcp(p, 78, 2000, 9, ACK_ | FIN_, ts_opt, 12, payload, 1000);
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_ADDED);
	assert_true(g.closed);
	assert_int_equal(buf[VNET_HDR_LEN + 33], ACK_ | FIN_);
	/* never: SYN, pure ACK, no ACK flag, not TCP, IP options */
	len = build_tcp(p, 78, 2000, 9, SYN_ | ACK_, ts_opt, 12, payload, 10);
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_NEVER);
	len = build_tcp(p, 78, 2000, 9, ACK_, ts_opt, 12, payload, 0);
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_NEVER);
	len = build_tcp(p, 78, 2000, 9, PSH_, ts_opt, 12, payload, 10);
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_NEVER);
	len = build_udp(p, payload, 100);
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_NEVER);
	len = build_tcp(p, 78, 2000, 9, ACK_, ts_opt, 12, payload, 10);
	p[0] = 0x46;
	assert_int_equal(vnet_gso_add(&g, p, len), VNET_GSO_NEVER);
	/* another flow */
	FRESH();
	memcpy(p, s.p[1], s.len[1]);
	p[21] ^= 1;
	assert_false(vnet_gso_same_flow(&g, p, s.len[1]));
	assert_true(vnet_gso_same_flow(&g, s.p[1], s.len[1]));
}

static void test_gso_stops_at_64k(void **state)
{
	static uint8_t buf[VNET_HDR_LEN + VNET_MAX_PKT];
	vnet_gso g = { .buf = buf, .cap = sizeof(buf) };
	uint8_t p[1600];
	uint32_t seq = 1;
	int added = 0;

	(void)state;
	for (int i = 0; i < 60; i++, seq += 1448) {
		size_t len = build_tcp(p, (uint16_t)i, seq, 9, ACK_, ts_opt, 12, payload, 1448);
		int r = vnet_gso_add(&g, p, len);
		if (r != VNET_GSO_ADDED) {
			assert_int_equal(r, VNET_GSO_NO);
			break;
		}
		added++;
	}
	assert_int_equal(added, (VNET_MAX_PKT - 52) / 1448);
	assert_true(g.len <= VNET_MAX_PKT);
}

static void test_tx_hdr_over_mtu(void **state)
{
	static uint8_t p[VNET_MAX_PKT];
	uint8_t piece[2000];
	vnet_hdr h;
	vnet_seg_iter it;
	uint16_t c;
	size_t len = build_tcp(p, 5, 1, 2, ACK_ | PSH_, ts_opt, 12, payload, 20000);
	long m;
	int k = 0;

	(void)state;
	assert_false(vnet_tx_hdr(p, 1500, 1500, &h, &c));   /* fits: plain */
	assert_int_equal(h.gso_type, VNET_GSO_NONE);
	assert_true(vnet_tx_hdr(p, len, 1500, &h, &c));
	assert_int_equal(h.gso_type, VNET_GSO_TCPV4);
	assert_int_equal(h.gso_size, 1500 - 20 - 32);
	assert_int_equal(h.csum_start, 20);
	assert_int_equal(h.csum_offset, 16);
	assert_int_equal(c, (uint16_t)~csum_fold(csum_pseudo(SRC, DST, IP_PROTO_TCP, (uint16_t)(len - 20))));
	/* what the kernel makes of it: valid segments no larger than the MTU */
	wr16(p + 36, c);
	assert_true(vnet_seg_init(&it, p, len, h.gso_size));
	while ((m = vnet_seg_next(&it, piece, sizeof(piece))) > 0) {
		assert_true(m <= 1500);
		assert_true(tcp_valid(piece, (size_t)m));
		k++;
	}
	assert_int_equal(k, (20000 + 1447) / 1448);
	/* not TCP: plain */
	len = build_udp(p, payload, 3000);
	assert_false(vnet_tx_hdr(p, len, 1500, &h, &c));
}

/* ---- IPv6 ---- */

static const uint8_t src6[16] = { 0x20, 0x01, 0, 2, [15] = 2 };
static const uint8_t dst6[16] = { 0x20, 0x01, 0, 2, [15] = 1 };

/* A TCP/IPv6 segment (no extension headers) with a valid checksum. */
static size_t build_tcp6(uint8_t *b, uint32_t seq, uint8_t flags, const uint8_t *pay,
			 size_t plen)
{
	size_t thl = 32, len = 40 + thl + plen;
	uint8_t *t = b + 40;

	memset(b, 0, 40 + thl);
	b[0] = 0x60;
	b[1] = 0x0a;   /* traffic class and flow label: kept */
	b[3] = 0x42;
	wr16(b + 4, (uint16_t)(thl + plen));
	b[6] = IP_PROTO_TCP;
	b[7] = 64;
	memcpy(b + 8, src6, 16);
	memcpy(b + 24, dst6, 16);
	wr16(t, 40000);
	wr16(t + 2, 80);
	wr32(t + 4, seq);
	wr32(t + 8, 7);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = flags;
	wr16(t + 14, 512);
	memcpy(t + 20, ts_opt, 12);
	memcpy(t + thl, pay, plen);
	wr16(t + 16, csum_fold(csum_partial(t, thl + plen,
					    csum_pseudo6(src6, dst6, IP_PROTO_TCP, (uint32_t)(thl + plen)))));
	return len;
}

static bool tcp6_valid(const uint8_t *p, size_t len)
{
	return len >= 60 && rd16(p + 4) + 40u == len &&
	       csum_fold(csum_partial(p + 40, len - 40, csum_pseudo6(p + 8, p + 24, IP_PROTO_TCP,
								     (uint32_t)(len - 40)))) == 0;
}

/* Segments of one IPv6 flow join into one TCPV6 GSO packet whose header
 * and partial checksum the kernel takes; completing the checksum (as
 * NEEDS_CSUM asks) makes the whole valid. Receive takes TCPV6 GSO and
 * refuses a length that does not match; too large for the link goes as
 * TCPV6 GSO too. */
static void test_ipv6(void **state)
{
	static uint8_t buf[VNET_HDR_LEN + VNET_MAX_PKT], seg[2000], big[VNET_MAX_PKT];
	vnet_gso g = { .buf = buf, .cap = sizeof(buf) };
	vnet_hdr h;
	vnet_rx_info info;
	uint16_t c;
	size_t n, len;

	(void)state;
	for (int i = 0; i < 10; i++) {
		len = build_tcp6(seg, 1000 + (uint32_t)i * 1408, ACK_ | (i == 9 ? PSH_ : 0),
				 payload + i * 1408, 1408);
		assert_true(tcp6_valid(seg, len));
		assert_true(i == 0 || vnet_gso_same_flow(&g, seg, len));
		assert_int_equal(vnet_gso_add(&g, seg, len), VNET_GSO_ADDED);
	}
	assert_true(g.closed);
	n = vnet_gso_finish(&g) - VNET_HDR_LEN;
	memcpy(&h, buf, VNET_HDR_LEN);
	assert_int_equal(h.gso_type, VNET_GSO_TCPV6);
	assert_int_equal(h.flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(h.hdr_len, 40 + 32);
	assert_int_equal(h.gso_size, 1408);
	assert_int_equal(h.csum_start, 40);
	assert_int_equal(h.csum_offset, 16);
	assert_int_equal(n, 40 + 32 + 10 * 1408);
	assert_int_equal(rd16(buf + VNET_HDR_LEN + 4), n - 40);
	assert_int_equal(buf[VNET_HDR_LEN + 1], 0x0a);
	assert_int_equal(buf[VNET_HDR_LEN + 3], 0x42);
	assert_memory_equal(buf + VNET_HDR_LEN + 72, payload, 10 * 1408);
	assert_int_equal(buf[VNET_HDR_LEN + 53], ACK_ | PSH_);
	/* the receive side completes the same partial checksum */
	memcpy(big, buf + VNET_HDR_LEN, n);
	assert_int_equal(vnet_rx_fixup(&h, big, n, &info), VNET_RX_OK);
	assert_int_equal(info.segs, 10);
	assert_true(info.csum_completed);
	assert_true(tcp6_valid(big, n));
	/* a different flow label, or a gap, is not joined */
	len = build_tcp6(seg, 1000, ACK_, payload, 1408);
	assert_int_equal(vnet_gso_add(&g, seg, len), VNET_GSO_ADDED);
	len = build_tcp6(seg, 1000 + 1408, ACK_, payload, 1408);
	seg[3] = 0x43;
	assert_int_equal(vnet_gso_add(&g, seg, len), VNET_GSO_NO);
	seg[3] = 0x42;
	wr32(seg + 44, 1000 + 2 * 1408);
	assert_int_equal(vnet_gso_add(&g, seg, len), VNET_GSO_NO);
	/* an IPv4 segment is another flow */
	len = build_tcp(seg, 1, 1000 + 1408, 7, ACK_, ts_opt, 12, payload, 1408);
	assert_false(vnet_gso_same_flow(&g, seg, len));
	vnet_gso_finish(&g);
	/* extension headers: never joined */
	len = build_tcp6(seg, 1000, ACK_, payload, 1408);
	seg[6] = 60;
	assert_int_equal(vnet_gso_add(&g, seg, len), VNET_GSO_NEVER);
	/* receive: a length that is not the packet's is refused */
	wr16(big + 4, (uint16_t)(n - 41));
	assert_int_equal(vnet_rx_fixup(&h, big, n, &info), VNET_RX_BAD);
	/* send over a smaller link: TCPV6 GSO with the pseudo-header sum */
	len = build_tcp6(big, 1, ACK_, payload, 20000);
	assert_true(vnet_tx_hdr(big, len, 1500, &h, &c));
	assert_int_equal(h.gso_type, VNET_GSO_TCPV6);
	assert_int_equal(h.gso_size, 1500 - 40 - 32);
	assert_int_equal(h.csum_start, 40);
	assert_int_equal(c, (uint16_t)~csum_fold(csum_pseudo6(src6, dst6, IP_PROTO_TCP,
							       (uint32_t)(len - 40))));
	assert_false(vnet_tx_hdr(big, 1400, 1500, &h, &c));
}

static void test_offload_names(void **state)
{
	char b[64];
	unsigned f;

	(void)state;
	assert_int_equal(tun_features_parse("csum,tso4", &f), 0);
	assert_int_equal(f, HSK_TUN_CSUM | HSK_TUN_TSO4);
	assert_string_equal(tun_features_str(f, b, sizeof(b)), "csum,tso4");
	assert_int_equal(tun_features_parse("all", &f), 0);
	assert_int_equal(f, HSK_TUN_OFFLOADS);
	assert_string_equal(tun_features_str(f, b, sizeof(b)), "csum,tso4,tso6,uso,tx-gso");
	assert_int_equal(tun_features_parse("none", &f), 0);
	assert_int_equal(f, 0);
	assert_string_equal(tun_features_str(0, b, sizeof(b)), "none");
	assert_int_equal(tun_features_parse("csum,bogus", &f), -1);
	assert_string_equal(tun_features_str(HSK_TUN_OFFLOADS, b, 10), "csum,tso4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_completes_partial_checksum),
		cmocka_unit_test(test_rx_gso_tcp),
		cmocka_unit_test(test_rx_bad_headers),
		cmocka_unit_test(test_rx_uso_split),
		cmocka_unit_test(test_gso_join_and_split_back),
		cmocka_unit_test(test_gso_one_segment_goes_plain),
		cmocka_unit_test(test_gso_refuses),
		cmocka_unit_test(test_gso_stops_at_64k),
		cmocka_unit_test(test_tx_hdr_over_mtu),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_offload_names),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
