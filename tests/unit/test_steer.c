/*
 * Flow steering: the Toeplitz hash against the RSS specification's
 * verification vectors; the fast symmetric form against the full
 * algorithm with the symmetric key; symmetry; packets (TCP both ways, an
 * ICMP error about a flow, fragments, other protocols); the spread over
 * queues; ports picked for a queue; and the eBPF steering program run in
 * the kernel (BPF_PROG_TEST_RUN) agreeing with the C function on every
 * kind of packet. The last needs root and a build with the eBPF programs;
 * otherwise it is skipped with the reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "link/steer.h"
#include "wire/wire.h"

static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static size_t tuple_bytes(uint8_t *b, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp)
{
	wr32(b, s);
	wr32(b + 4, d);
	wr16(b + 8, sp);
	wr16(b + 10, dp);
	return 12;
}

/* Microsoft's "Verifying the RSS Hash Calculation", IPv4 with TCP. */
static void test_toeplitz_rss_vectors(void **state)
{
	static const struct { uint32_t dst, src; uint16_t dp, sp; uint32_t ip, tcp; } v[] = {
		{ IP(161, 142, 100, 80), IP(66, 9, 149, 187), 1766, 2794, 0x323e8fc2, 0x51ccc178 },
		{ IP(65, 69, 140, 83), IP(199, 92, 111, 2), 4739, 14230, 0xd718262a, 0xc626b0ea },
		{ IP(12, 22, 207, 184), IP(24, 19, 198, 95), 38024, 12898, 0xd2d0a5de, 0x5c2b394a },
		{ IP(209, 142, 163, 6), IP(38, 27, 205, 30), 2217, 48228, 0x82989176, 0xafc7327f },
		{ IP(202, 188, 127, 2), IP(153, 39, 163, 191), 1303, 44251, 0x5d1809c5, 0x10e828a2 },
	};
	uint8_t b[12];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tuple_bytes(b, v[i].src, v[i].dst, v[i].sp, v[i].dp);
		assert_int_equal(steer_toeplitz(ms_key, 40, b, 8), v[i].ip);
		assert_int_equal(steer_toeplitz(ms_key, 40, b, 12), v[i].tcp);
	}
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void test_fast_form_is_toeplitz_and_symmetric(void **state)
{
	uint8_t b[12];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint32_t s = rnd(), d = rnd();
		uint16_t sp = (uint16_t)rnd(), dp = (uint16_t)rnd();
		uint32_t h = steer_hash(s, d, sp, dp);

		tuple_bytes(b, s, d, sp, dp);
		assert_int_equal(h, steer_toeplitz(steer_symmetric_key, 40, b, 12));
		assert_int_equal(h, steer_hash(d, s, dp, sp));
	}
}

static size_t tcp_pkt(uint8_t *p, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp)
{
	memset(p, 0, 40);
	p[0] = 0x45;
	wr16(p + 2, 40);
	p[8] = 64;
	p[9] = IP_PROTO_TCP;
	wr32(p + 12, s);
	wr32(p + 16, d);
	wr16(p + 20, sp);
	wr16(p + 22, dp);
	p[32] = 0x50;
	return 40;
}

/* An ICMP destination unreachable quoting `inner` (IP header + 8 bytes). */
static size_t icmp_err(uint8_t *p, uint32_t from, uint32_t to, const uint8_t *inner)
{
	memset(p, 0, 56);
	p[0] = 0x45;
	wr16(p + 2, 56);
	p[8] = 64;
	p[9] = IP_PROTO_ICMP;
	wr32(p + 12, from);
	wr32(p + 16, to);
	p[20] = 3;
	p[21] = 4;
	memcpy(p + 28, inner, 28);
	return 56;
}

static void test_packets(void **state)
{
	uint8_t a[64], b[64], e[64];
	uint32_t us = IP(198, 18, 0, 2), peer = IP(198, 18, 0, 1);
	uint32_t flow = steer_hash(us, peer, 40000, 80);

	(void)state;
	tcp_pkt(a, us, peer, 40000, 80);
	tcp_pkt(b, peer, us, 80, 40000);
	assert_int_equal(steer_packet_hash(a, 40), flow);
	assert_int_equal(steer_packet_hash(b, 40), flow);
	/* the peer's router tells us about our packet: the flow's queue */
	icmp_err(e, IP(198, 18, 0, 254), us, a);
	assert_int_equal(steer_packet_hash(e, 56), flow);
	/* an ICMP echo: by the addresses */
	e[20] = 8;
	assert_int_equal(steer_packet_hash(e, 56), steer_hash(IP(198, 18, 0, 254), us, 0, 0));
	/* fragments (first or later): by the addresses, so the pieces meet */
	b[6] = 0x20;   /* MF */
	assert_int_equal(steer_packet_hash(b, 40), steer_hash(peer, us, 0, 0));
	b[6] = 0;
	b[7] = 10;     /* offset */
	assert_int_equal(steer_packet_hash(b, 40), steer_hash(peer, us, 0, 0));
	/* short, and not IPv4 */
	assert_int_equal(steer_packet_hash(a, 19), 0);
	assert_int_equal(steer_packet_hash(a, 22), steer_hash(us, peer, 0, 0));
	a[0] = 0x50;
	assert_int_equal(steer_packet_hash(a, 40), 0);
}

/* A TCP/IPv6 packet (no extension headers) from s to d, 60 bytes. */
static size_t tcp6_pkt(uint8_t *p, const uint8_t s[16], const uint8_t d[16], uint16_t sp,
		       uint16_t dp)
{
	memset(p, 0, 60);
	p[0] = 0x60;
	wr16(p + 4, 20);
	p[6] = IP_PROTO_TCP;
	p[7] = 64;
	memcpy(p + 8, s, 16);
	memcpy(p + 24, d, 16);
	wr16(p + 40, sp);
	wr16(p + 42, dp);
	p[52] = 0x50;
	return 60;
}

static void addr6(uint8_t a[16], uint16_t last)
{
	static const uint8_t base[16] = { 0x20, 0x01, 0x00, 0x02 };

	memcpy(a, base, 16);
	wr16(a + 14, last);
}

/* IPv6: the 4-tuple with each address folded; the fold is the Toeplitz
 * over the 36 bytes with the symmetric key (what a NIC computes). */
static void test_packets6(void **state)
{
	uint8_t us[16], peer[16], a[128], b[128], e[128], bytes[36];
	uint32_t flow;

	(void)state;
	addr6(us, 2);
	addr6(peer, 0x1234);
	peer[9] = 0x77;
	flow = steer_hash6(us, peer, 40000, 80);
	memcpy(bytes, us, 16);
	memcpy(bytes + 16, peer, 16);
	wr16(bytes + 32, 40000);
	wr16(bytes + 34, 80);
	assert_int_equal(flow, steer_toeplitz(steer_symmetric_key, 40, bytes, 36));
	assert_int_equal(flow, steer_hash6(peer, us, 80, 40000));
	tcp6_pkt(a, us, peer, 40000, 80);
	tcp6_pkt(b, peer, us, 80, 40000);
	assert_int_equal(steer_packet_hash(a, 60), flow);
	assert_int_equal(steer_packet_hash(b, 60), flow);
	/* a packet too big from a router about our segment: the flow's */
	memset(e, 0, 128);
	e[0] = 0x60;
	wr16(e + 4, 8 + 60);
	e[6] = 58;
	e[7] = 64;
	addr6(e + 8, 0xfe);
	memcpy(e + 24, us, 16);
	e[40] = 2;   /* packet too big */
	memcpy(e + 48, a, 60);
	assert_int_equal(steer_packet_hash(e, 108), flow);
	/* an echo request, a fragment (44) and a destination option (60):
	 * by the addresses */
	e[40] = 128;
	assert_int_equal(steer_packet_hash(e, 108), steer_hash6(e + 8, us, 0, 0));
	b[6] = 44;
	assert_int_equal(steer_packet_hash(b, 60), steer_hash6(peer, us, 0, 0));
	b[6] = 60;
	assert_int_equal(steer_packet_hash(b, 60), steer_hash6(peer, us, 0, 0));
	/* short */
	assert_int_equal(steer_packet_hash(a, 39), 0);
	assert_int_equal(steer_packet_hash(a, 41), steer_hash6(us, peer, 0, 0));
	/* the shard of an active open's port comes back to it */
	for (unsigned q = 0; q < 4; q++) {
		unsigned hit = 0;
		for (uint16_t p = 32768; p < 32768 + 64; p++)
			hit += steer_queue(steer_hash6(us, peer, p, 80), 4) == q;
		assert_true(hit > 4);
	}
}

static void test_spread_and_ports(void **state)
{
	uint32_t us = IP(198, 18, 0, 2), peer = IP(198, 18, 0, 1);
	unsigned cnt[4] = { 0 };

	(void)state;
	/* a kernel client's ephemeral ports to our port 80 */
	for (uint32_t p = 32768; p < 32768 + 8192; p++)
		cnt[steer_queue(steer_hash(peer, us, (uint16_t)p, 80), 4)]++;
	for (int q = 0; q < 4; q++)
		assert_true(cnt[q] > 2048 * 85 / 100 && cnt[q] < 2048 * 115 / 100);
	/* an active open on shard q picks a port that comes back to q */
	for (unsigned n = 1; n <= 8; n++)
		for (unsigned q = 0; q < n; q++) {
			uint16_t p = steer_pick_port(us, peer, 80, q, n, 32768, 60999, 40000);
			assert_true(p >= 32768 && p <= 60999);
			assert_int_equal(steer_queue(steer_hash(peer, us, 80, p), n), q);
		}
	assert_int_equal(steer_pick_port(us, peer, 80, 0, 1, 100, 99, 0), 0);
	assert_int_equal(steer_queue(12345, 1), 0);
	assert_int_equal(steer_queue(130, 3), (130 % 128) % 3);
}

/* The kernel runs the program on our packets and must agree. */
static void test_bpf_program_agrees(void **state)
{
	uint8_t p[64], e[64];
	char err[256];
	uint32_t ret;
	int fd, checked = 0;

	(void)state;
	if (!steer_bpf_available()) {
		printf("SKIP: built without the eBPF programs (clang, libbpf-dev)\n");
		skip();
	}
	if (geteuid() != 0) {
		printf("SKIP: loading eBPF programs needs root\n");
		skip();
	}
	fd = steer_tun_prog_load(err, sizeof(err));
	if (fd < 0)
		fail_msg("%s", err);
	for (int i = 0; i < 3000; i++) {
		uint32_t s = IP(198, 18, rnd() & 1, rnd() & 255), d = IP(198, 19, rnd() & 255, rnd() & 255);
		size_t len = tcp_pkt(p, s, d, (uint16_t)rnd(), (uint16_t)rnd());

		switch (i % 6) {
		case 1:
			p[9] = IP_PROTO_UDP;
			break;
		case 2:
			memcpy(e, p, len);
			len = icmp_err(p, IP(198, 18, 9, 9), s, e);
			break;
		case 3:
			p[6] = 0x20;
			break;
		case 4:
			p[9] = 47;
			break;
		case 5:
			p[0] = 0x46;   /* IP options: the ports move 4 bytes on */
			break;
		}
		assert_int_equal(steer_prog_run(fd, p, len, &ret), 0);
		assert_int_equal(ret, steer_packet_hash(p, len) % 128);
		checked++;
	}
	/* IPv6: TCP, UDP, an ICMPv6 error quoting TCP, echo, a fragment */
	for (int i = 0; i < 1000; i++) {
		uint8_t s6[16], d6[16], q[160];
		size_t len;

		addr6(s6, (uint16_t)rnd());
		addr6(d6, (uint16_t)rnd());
		s6[5] = (uint8_t)rnd();
		d6[11] = (uint8_t)rnd();
		len = tcp6_pkt(p, s6, d6, (uint16_t)rnd(), (uint16_t)rnd());
		switch (i % 5) {
		case 1:
			p[6] = IP_PROTO_UDP;
			break;
		case 2:
		case 3:
			memcpy(q, p, 60);
			memcpy(q + 48, p, 60);
			q[6] = 58;
			memcpy(q + 24, s6, 16);
			addr6(q + 8, 0xfe);
			memset(q + 40, 0, 8);
			q[40] = i % 5 == 2 ? 2 : 128;
			len = 108;
			break;
		case 4:
			p[6] = 44;
			break;
		}
		if (i % 5 == 2 || i % 5 == 3) {
			assert_int_equal(steer_prog_run(fd, q, len, &ret), 0);
			assert_int_equal(ret, steer_packet_hash(q, len) % 128);
		} else {
			assert_int_equal(steer_prog_run(fd, p, len, &ret), 0);
			assert_int_equal(ret, steer_packet_hash(p, len) % 128);
		}
		checked++;
	}
	/* neither: queue 0 on both sides */
	p[0] = 0x50;
	assert_int_equal(steer_prog_run(fd, p, 40, &ret), 0);
	assert_int_equal(ret, 0);
	assert_int_equal(checked, 4000);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toeplitz_rss_vectors),
		cmocka_unit_test(test_fast_form_is_toeplitz_and_symmetric),
		cmocka_unit_test(test_packets),
		cmocka_unit_test(test_packets6),
		cmocka_unit_test(test_spread_and_ports),
		cmocka_unit_test(test_bpf_program_agrees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
