/*
 * TCP over IPv6 at the wire layer: the parse and emit calls that take the
 * pseudo-header's sum (tcp_*_ps). Linux's segments (a SYN with every
 * option, a SYN-ACK, a RST) verify against csum_pseudo6 of their own
 * addresses and of no others, parse to the fields the capture says, and
 * re-emit byte for byte; the split-sum variants agree with the whole ones;
 * and the IPv4 calls are exactly the _ps calls with csum_pseudo's sum.
 * Buffers are heap copies of the exact size (ASan sees any overread).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "handshake.h"
#include "wire/ipv6.h"
#include "wire/wire.h"
#include "ipv6_vectors.h"

struct v6seg {
	const uint8_t *pkt;
	size_t len;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t mss;
	int8_t wscale;
	bool sack_ok, has_ts;
};

static const struct v6seg segs[] = {
	{ v6_tcp_syn, sizeof v6_tcp_syn, 55466, 8080, 0x3afcf788u, 0, HSK_TH_SYN, 1440, 10,
	  true, true },
	{ v6_tcp_synack, sizeof v6_tcp_synack, 80, 40000, 0xf3892df4u, 1001,
	  HSK_TH_SYN | HSK_TH_ACK, 1440, -1, false, false },
	{ v6_tcp_rst, sizeof v6_tcp_rst, 81, 40001, 0, 6, HSK_TH_RST | HSK_TH_ACK, 0, -1,
	  false, false },
};

/* The segment of a captured packet and its IPv6 header. */
static uint8_t *segment(const struct v6seg *c, ipv6_hdr *ip, size_t *len)
{
	const uint8_t *pl;
	size_t plen;

	assert_int_equal(ipv6_parse(c->pkt, c->len, ip, &pl, &plen), WIRE_OK);
	assert_int_equal(ip->next, IP_PROTO_TCP);
	*len = plen;
	return dup_bytes(pl, plen);
}

static void test_linux_segments(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++) {
		const struct v6seg *c = &segs[i];
		ipv6_hdr ip;
		size_t len, plen;
		uint8_t *seg = segment(c, &ip, &len);
		uint32_t psum = csum_pseudo6(ip.src, ip.dst, IP_PROTO_TCP, 0);
		const uint8_t *pl;
		tcp_hdr h;

		assert_int_equal(tcp_parse_ps(seg, len, psum, true, &h, &pl, &plen), WIRE_OK);
		assert_int_equal(h.sport, c->sport);
		assert_int_equal(h.dport, c->dport);
		assert_int_equal(h.seq, c->seq);
		assert_int_equal(h.ack, c->ack);
		assert_int_equal(h.flags, c->flags);
		assert_int_equal(h.opt.mss, c->mss);
		assert_int_equal(h.opt.wscale, c->wscale);
		assert_int_equal(h.opt.sack_ok, c->sack_ok);
		assert_int_equal(h.opt.has_ts, c->has_ts);
		assert_int_equal(plen, 0);

		/* emitted again: Linux's bytes, checksum included */
		uint8_t *out = malloc(len);
		assert_non_null(out);
		assert_int_equal(tcp_emit_ps(&h, NULL, 0, psum, out, len), (int)len);
		assert_memory_equal(out, seg, len);
		memset(out, 0xa5, len);
		assert_int_equal(tcp_emit_summed_ps(&h, 0, 0, psum, out, len), (int)len);
		assert_memory_equal(out, seg, len);
		free(out);

		/* the header sum completes to a good checksum */
		uint32_t hsum = 0;
		assert_int_equal(tcp_parse_hsum_ps(seg, len, psum, &h, &pl, &plen, &hsum), WIRE_OK);
		assert_int_equal(csum_fold(hsum), 0);

		/* another address, the length as IPv4 counts it, or a flipped
		 * bit anywhere: a bad checksum */
		uint8_t other[16];
		memcpy(other, ip.dst, 16);
		other[15] ^= 1;
		assert_int_equal(tcp_parse_ps(seg, len, csum_pseudo6(ip.src, other, IP_PROTO_TCP, 0),
					      true, &h, &pl, &plen), WIRE_ERR_TCP_CSUM);
		assert_int_equal(tcp_parse_ps(seg, len, csum_pseudo6(ip.src, ip.dst, 17, 0),
					      true, &h, &pl, &plen), WIRE_ERR_TCP_CSUM);
		assert_int_equal(tcp_parse_ps(seg, len, psum, false, &h, &pl, &plen), WIRE_OK);
		for (size_t b = 0; b < len; b++) {
			seg[b] ^= 0x10;
			int err = tcp_parse_ps(seg, len, psum, true, &h, &pl, &plen);
			assert_true(err == WIRE_ERR_TCP_CSUM || err == WIRE_ERR_DOFF);
			seg[b] ^= 0x10;
		}
		free(seg);
	}
}

/* A segment with data, summed while copied (the engine's path): the split
 * sums and the whole ones agree, and the payload's sum is what decides. */
static void test_payload_sums(void **state)
{
	static const uint8_t A1[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 1 };
	static const uint8_t A2[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 2 };
	uint8_t data[333], a[600], b[600];
	uint32_t psum = csum_pseudo6(A1, A2, IP_PROTO_TCP, 0), hsum = 0;
	const uint8_t *pl;
	size_t plen;
	tcp_hdr h = { .sport = 443, .dport = 50000, .seq = 7, .ack = 9,
		      .flags = HSK_TH_ACK | HSK_TH_PSH, .win = 512 }, p;

	(void)state;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	tcp_opts_init(&h.opt);
	h.opt.has_ts = true;
	h.opt.ts_val = 0x01020304;
	h.opt.ts_ecr = 0xa0b0c0d0;
	int n = tcp_emit_ps(&h, data, sizeof data, psum, a, sizeof a);
	assert_int_equal(n, 32 + (int)sizeof data);
	memcpy(b + 32, data, sizeof data);
	assert_int_equal(tcp_emit_summed_ps(&h, sizeof data, csum_partial(data, sizeof data, 0),
					    psum, b, sizeof b), n);
	assert_memory_equal(a, b, (size_t)n);

	assert_int_equal(tcp_parse_hsum_ps(a, (size_t)n, psum, &p, &pl, &plen, &hsum), WIRE_OK);
	assert_int_equal(plen, sizeof data);
	assert_int_equal(csum_fold(csum_partial(pl, plen, hsum)), 0);
	a[40] ^= 1;                              /* payload only: hsum cannot see it */
	assert_int_equal(tcp_parse_hsum_ps(a, (size_t)n, psum, &p, &pl, &plen, &hsum), WIRE_OK);
	assert_int_not_equal(csum_fold(csum_partial(pl, plen, hsum)), 0);
	assert_int_equal(tcp_parse_ps(a, (size_t)n, psum, true, &p, &pl, &plen), WIRE_ERR_TCP_CSUM);
	a[40] ^= 1;
	/* SYN+FIN with a bad checksum counts as the checksum, as tcp_parse */
	a[13] |= HSK_TH_SYN | HSK_TH_FIN;
	assert_int_equal(tcp_parse_hsum_ps(a, (size_t)n, psum, &p, &pl, &plen, &hsum),
			 WIRE_ERR_TCP_CSUM);
}

/* The IPv4 calls are the _ps calls with the IPv4 pseudo-header's sum. */
static void test_ipv4_wrappers(void **state)
{
	const uint32_t src = 0xc6120002u, dst = 0xc6120001u;
	uint32_t psum = csum_pseudo(src, dst, IP_PROTO_TCP, 0), s1 = 0, s2 = 0;
	uint8_t data[101], a[400], b[400];
	const uint8_t *pl;
	size_t plen;
	tcp_hdr h = { .sport = 40000, .dport = 8080, .seq = 0xfffffff0u, .ack = 1,
		      .flags = HSK_TH_SYN, .win = 65535 }, p;

	(void)state;
	memset(data, 0x5c, sizeof data);
	tcp_opts_init(&h.opt);
	h.opt.mss = 1460;
	h.opt.wscale = 7;
	h.opt.sack_ok = true;
	for (size_t len = 0; len <= sizeof data; len += 101) {
		int n = tcp_emit(&h, data, len, src, dst, a, sizeof a);
		assert_true(n > 0);
		assert_int_equal(tcp_emit_ps(&h, data, len, psum, b, sizeof b), n);
		assert_memory_equal(a, b, (size_t)n);
		memcpy(b + n - len, data, len);
		assert_int_equal(tcp_emit_summed(&h, len, csum_partial(data, len, 0), src, dst,
						 b, sizeof b), n);
		assert_memory_equal(a, b, (size_t)n);
		assert_int_equal(tcp_parse(a, (size_t)n, src, dst, true, &p, &pl, &plen), WIRE_OK);
		assert_int_equal(tcp_parse_ps(a, (size_t)n, psum, true, &p, &pl, &plen), WIRE_OK);
		assert_int_equal(tcp_parse_hsum(a, (size_t)n, src, dst, &p, &pl, &plen, &s1), WIRE_OK);
		assert_int_equal(tcp_parse_hsum_ps(a, (size_t)n, psum, &p, &pl, &plen, &s2), WIRE_OK);
		assert_int_equal(s1, s2);
		h.flags = HSK_TH_ACK;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_segments),
		cmocka_unit_test(test_payload_sums),
		cmocka_unit_test(test_ipv4_wrappers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
