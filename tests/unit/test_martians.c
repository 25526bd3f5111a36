/*
 * Martian packets through a whole stack (hsk_stack_input -> ip): a SYN to a
 * listener, or an echo request, from a source that cannot be a unicast
 * peer — 0/8, loopback, multicast, class E, the limited and the subnet
 * broadcast, our own address — or to a destination that is not our
 * address — broadcast, multicast — is dropped before TCP or ICMP sees it,
 * answered by nothing, and counted. The same SYN from a real peer is still
 * answered. RFC 1122 §3.2.1.3, §3.2.2.6, §4.2.3.10.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handshake.h"
#include "wire/wire.h"

#define US 0xc6120002u      /* 198.18.0.2/24: the stack */
#define PEER 0xc6120001u    /* 198.18.0.1 */
#define MS 1000000ull

struct cap {
	int n;
	uint8_t last[128];
	size_t len;
};

static void capture(void *ctx, const uint8_t *pkt, size_t len)
{
	struct cap *c = ctx;

	c->n++;
	if (len <= sizeof(c->last)) {
		memcpy(c->last, pkt, len);
		c->len = len;
	}
}

/* A stack on US/prefix listening on port 80. */
static hsk_stack *new_stack(struct cap *c, uint8_t prefix)
{
	hsk_config cfg;
	hsk_link link = { .ctx = c, .transmit = capture };
	hsk_stack *s;
	int sd;

	hsk_config_default(&cfg);
	cfg.addr = US;
	cfg.prefix_len = prefix;
	cfg.seed = 3;
	memset(c, 0, sizeof(*c));
	s = hsk_stack_new(&cfg, &link, 1000 * MS);
	assert_non_null(s);
	sd = hsk_socket(s);
	assert_int_equal(hsk_bind(s, sd, 0, 80), 0);
	assert_int_equal(hsk_listen(s, sd, 16), 0);
	return s;
}

static uint64_t cnt(hsk_stack *s, const char *name)
{
	return hsk_counter_by_name(s, name);
}

static void send_ip(hsk_stack *s, uint32_t src, uint32_t dst, uint8_t proto,
		    const uint8_t *l4, size_t len)
{
	uint8_t pkt[200];
	ipv4_hdr h = { .total_len = (uint16_t)(20 + len), .id = 9, .ttl = 64,
		       .proto = proto, .src = src, .dst = dst };

	assert_int_equal(ipv4_emit(&h, pkt, 20), 20);
	memcpy(pkt + 20, l4, len);
	hsk_stack_input(s, 1001 * MS, pkt, 20 + len);
}

static void send_syn(hsk_stack *s, uint32_t src, uint32_t dst)
{
	tcp_hdr th = { .sport = 40000, .dport = 80, .seq = 1000, .flags = HSK_TH_SYN,
		       .win = 65535 };
	uint8_t seg[64];
	int n;

	tcp_opts_init(&th.opt);
	th.opt.mss = 1460;
	n = tcp_emit(&th, NULL, 0, src, dst, seg, sizeof(seg));
	assert_true(n > 0);
	send_ip(s, src, dst, IP_PROTO_TCP, seg, (size_t)n);
}

static void send_ping(hsk_stack *s, uint32_t src, uint32_t dst)
{
	icmp_hdr ih = { .type = ICMP_ECHO_REQUEST, .rest = 0x00070001 };
	uint8_t body[16] = { 1, 2, 3 }, msg[64];
	int n = icmp_emit(&ih, body, sizeof(body), msg, sizeof(msg));

	assert_true(n > 0);
	send_ip(s, src, dst, IP_PROTO_ICMP, msg, (size_t)n);
}

/* The last packet sent was a SYN-ACK to `to`. */
static void expect_synack(const struct cap *c, uint32_t to)
{
	const uint8_t *l4, *payload;
	size_t l4len, plen;
	ipv4_hdr ih;
	tcp_hdr th;

	assert_int_equal(ipv4_parse(c->last, c->len, &ih, &l4, &l4len), WIRE_OK);
	assert_int_equal(ih.dst, to);
	assert_int_equal(tcp_parse(l4, l4len, ih.src, ih.dst, true, &th, &payload, &plen), WIRE_OK);
	assert_int_equal(th.flags, HSK_TH_SYN | HSK_TH_ACK);
}

static const struct {
	uint32_t addr;
	const char *what;
} martian_src[] = {
	{ 0x00000000u, "0.0.0.0" },
	{ 0x00010203u, "0.1.2.3 (this network)" },
	{ 0x7f000001u, "127.0.0.1" },
	{ 0x7ffffffeu, "127.255.255.254" },
	{ 0xe0000001u, "224.0.0.1" },
	{ 0xeffffffau, "239.255.255.250" },
	{ 0xf0000001u, "240.0.0.1 (class E)" },
	{ 0xffffffffu, "255.255.255.255" },
	{ 0xc61200ffu, "198.18.0.255 (our subnet's broadcast)" },
	{ US, "198.18.0.2 (ourselves)" },
};

static void test_martian_sources(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, 24);
	uint64_t drops = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(martian_src) / sizeof(martian_src[0]); i++) {
		print_message("SYN and ping from %s\n", martian_src[i].what);
		send_syn(s, martian_src[i].addr, US);
		assert_int_equal(c.n, 0);
		assert_int_equal(cnt(s, "DropMartianSrc"), ++drops);
		send_ping(s, martian_src[i].addr, US);
		assert_int_equal(c.n, 0);
		assert_int_equal(cnt(s, "DropMartianSrc"), ++drops);
	}
	/* Nothing reached TCP or ICMP. */
	assert_int_equal(cnt(s, "InSegs"), 0);
	assert_int_equal(cnt(s, "IcmpInMsgs"), 0);
	/* A real peer is answered, by TCP and by ICMP. */
	send_syn(s, PEER, US);
	assert_int_equal(c.n, 1);
	expect_synack(&c, PEER);
	assert_int_equal(cnt(s, "InSegs"), 1);
	send_ping(s, PEER, US);
	assert_int_equal(c.n, 2);
	assert_int_equal(cnt(s, "DropMartianSrc"), drops);
	hsk_stack_free(s);
}

static void test_martian_destinations(void **state)
{
	static const uint32_t dst[] = {
		0xc61200ffu,    /* our subnet's broadcast */
		0xffffffffu,    /* limited broadcast */
		0xe0000001u,    /* all hosts */
		0x7f000001u,    /* loopback */
		0x00000000u,
	};
	struct cap c;
	hsk_stack *s = new_stack(&c, 24);
	(void)state;

	for (size_t i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		send_syn(s, PEER, dst[i]);
		send_ping(s, PEER, dst[i]);
	}
	assert_int_equal(c.n, 0);
	assert_int_equal(cnt(s, "DropMartianDst"), 10);
	assert_int_equal(cnt(s, "InAddrErrors"), 10);
	/* Another unicast host's packet: not ours, not a martian. */
	send_syn(s, PEER, 0xc6120003u);
	assert_int_equal(c.n, 0);
	assert_int_equal(cnt(s, "DropNotForUs"), 1);
	assert_int_equal(cnt(s, "InSegs"), 0);
	hsk_stack_free(s);
}

static void test_prefix_decides_broadcast(void **state)
{
	struct cap c;
	hsk_stack *s;
	(void)state;

	/* In a /16, 198.18.0.255 is an ordinary host ... */
	s = new_stack(&c, 16);
	send_syn(s, 0xc61200ffu, US);
	assert_int_equal(c.n, 1);
	expect_synack(&c, 0xc61200ffu);
	/* ... and 198.18.255.255 the broadcast. */
	send_syn(s, 0xc612ffffu, US);
	assert_int_equal(c.n, 1);
	assert_int_equal(cnt(s, "DropMartianSrc"), 1);
	hsk_stack_free(s);
	/* Unknown prefix (0): no directed broadcast is assumed. */
	s = new_stack(&c, 0);
	send_syn(s, 0xc61200ffu, US);
	assert_int_equal(c.n, 1);
	hsk_stack_free(s);
	/* /31 (RFC 3021) has no broadcast: the other end is a peer. */
	s = new_stack(&c, 31);
	send_syn(s, 0xc6120003u, US);
	assert_int_equal(c.n, 1);
	hsk_stack_free(s);
}

/* The address moves (deleted, another added): the subnet's broadcast,
 * which the IP layer works out when its address is set (ip->bcast), is
 * the new address's, and the old one's is an ordinary host. */
static void test_broadcast_follows_address(void **state)
{
	const uint32_t us2 = 0xc6130002u;      /* 198.19.0.2 */
	struct cap c;
	hsk_stack *s = new_stack(&c, 24);
	hsk_addr a1 = hsk_addr_v4(US), a2 = hsk_addr_v4(us2);
	(void)state;

	assert_int_equal(hsk_stack_del_addr(s, &a1), 0);
	assert_int_equal(hsk_stack_add_addr(s, &a2, 24), 0);
	send_syn(s, 0xc61300ffu, us2);          /* 198.19.0.255: a broadcast */
	assert_int_equal(c.n, 0);
	assert_int_equal(cnt(s, "DropMartianSrc"), 1);
	assert_int_equal(cnt(s, "InSegs"), 0);
	send_syn(s, 0xc61200ffu, us2);          /* 198.18.0.255: a host now */
	assert_int_equal(c.n, 1);
	expect_synack(&c, 0xc61200ffu);
	assert_int_equal(cnt(s, "DropMartianSrc"), 1);
	hsk_stack_free(s);
}

/* A stack with a second address: a packet from either of its addresses
 * is a land attack, to either of them; a real peer reaches both, and no
 * other address of the subnet. */
static void test_second_address(void **state)
{
	const uint32_t us2 = 0xc6120005u;      /* 198.18.0.5 */
	struct cap c;
	hsk_stack *s = new_stack(&c, 24);
	hsk_addr a2 = hsk_addr_v4(us2);
	(void)state;

	assert_int_equal(hsk_stack_add_addr(s, &a2, 24), 0);
	send_syn(s, us2, US);
	send_syn(s, US, us2);
	send_syn(s, us2, us2);
	assert_int_equal(c.n, 0);
	assert_int_equal(cnt(s, "DropMartianSrc"), 3);
	assert_int_equal(cnt(s, "InSegs"), 0);
	send_syn(s, PEER, US);
	assert_int_equal(c.n, 1);
	expect_synack(&c, PEER);
	send_syn(s, PEER, us2);
	assert_int_equal(c.n, 2);
	expect_synack(&c, PEER);
	/* A third host's address on the subnet is still not ours. */
	send_syn(s, PEER, 0xc6120007u);
	assert_int_equal(c.n, 2);
	assert_int_equal(cnt(s, "DropNotForUs"), 1);
	hsk_stack_free(s);
}

/* ip_input makes the address tests once for the pair of addresses that
 * passed them last (ip->rx_pair): a change of the stack's addresses makes
 * it test the same pair again. A peer's address added as a second address
 * of ours makes the peer's next packet a land attack. */
static void test_known_pair_second_address(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, 24);
	hsk_addr a2 = hsk_addr_v4(PEER);
	(void)state;

	send_syn(s, PEER, US);
	assert_int_equal(c.n, 1);
	assert_int_equal(hsk_stack_add_addr(s, &a2, 24), 0);
	send_syn(s, PEER, US);
	assert_int_equal(c.n, 1);
	assert_int_equal(cnt(s, "DropMartianSrc"), 1);
	assert_int_equal(cnt(s, "InSegs"), 1);
	hsk_stack_free(s);
}

/* ... the address deleted: the packet to it is not for us any more. */
static void test_known_pair_address_gone(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, 24);
	hsk_addr a1 = hsk_addr_v4(US);
	(void)state;

	send_syn(s, PEER, US);
	assert_int_equal(c.n, 1);
	assert_int_equal(hsk_stack_del_addr(s, &a1), 0);
	send_syn(s, PEER, US);
	assert_int_equal(c.n, 1);
	assert_int_equal(cnt(s, "DropNotForUs"), 1);
	assert_int_equal(cnt(s, "InSegs"), 1);
	hsk_stack_free(s);
}

/* ... and before any pair passed, none is known: a packet from 0.0.0.0 to
 * 0.0.0.0 (the bytes a never-set pair would hold) is tested, and dropped,
 * also on a stack without an address. */
static void test_no_pair_known_yet(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c, 24);
	hsk_addr a1 = hsk_addr_v4(US);
	(void)state;

	send_syn(s, 0, 0);
	assert_int_equal(cnt(s, "DropMartianSrc"), 1);
	assert_int_equal(hsk_stack_del_addr(s, &a1), 0);
	send_syn(s, 0, 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(cnt(s, "DropMartianSrc"), 2);
	assert_int_equal(cnt(s, "InSegs"), 0);
	hsk_stack_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_martian_sources),
		cmocka_unit_test(test_martian_destinations),
		cmocka_unit_test(test_prefix_decides_broadcast),
		cmocka_unit_test(test_second_address),
		cmocka_unit_test(test_broadcast_follows_address),
		cmocka_unit_test(test_known_pair_second_address),
		cmocka_unit_test(test_known_pair_address_gone),
		cmocka_unit_test(test_no_pair_known_yet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
