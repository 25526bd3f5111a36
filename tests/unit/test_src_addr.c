/*
 * A stack with a second IPv4 address answers from the address it was
 * asked on: an echo reply, a SYN-ACK (from the listener's queue and, in a
 * flood, with a cookie from its own path), and the segments of a
 * connection bound to that address all leave with it as their source and
 * a TCP checksum that verifies over it. An ICMP error quoting a segment
 * sent from it reaches the connection. (The IP layer once wrote the first
 * address into every packet, while TCP summed with the flow's.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "handshake.h"
#include "wire/wire.h"

#define US 0xc6120002u      /* 198.18.0.2: the first address */
#define US2 0xc6120003u     /* 198.18.0.3: the second */
#define PEER 0xc6120001u    /* 198.18.0.1 */
#define MS 1000000ull

static hsk_stack *new_stack(pkt_cap *c, unsigned backlog_max)
{
	hsk_config cfg;
	hsk_link link = { .ctx = c, .transmit = pkt_capture };

	hsk_config_default(&cfg);
	cfg.addr = US;
	cfg.seed = 11;
	if (backlog_max)
		cfg.max_syn_backlog = backlog_max;
	memset(c, 0, sizeof(*c));
	hsk_stack *s = hsk_stack_new(&cfg, &link, 1000 * MS);
	assert_non_null(s);
	hsk_addr a = hsk_addr_v4(US2);
	assert_int_equal(hsk_stack_add_addr(s, &a, 24), 0);
	return s;
}

/* An IPv4 packet PEER -> dst carrying `l4` into out; returns its length. */
static size_t ip_wrap(uint32_t dst, uint8_t proto, const uint8_t *l4, size_t len, uint8_t *out)
{
	ipv4_hdr h = { .total_len = (uint16_t)(20 + len), .id = 1, .ttl = 64,
		       .proto = proto, .src = PEER, .dst = dst };

	assert_int_equal(ipv4_emit(&h, out, 20), 20);
	memcpy(out + 20, l4, len);
	return 20 + len;
}

/* A SYN from PEER:sport to dst:80 with an MSS option. */
static void send_syn(hsk_stack *s, uint64_t now, uint32_t dst, uint16_t sport)
{
	tcp_hdr th = { .sport = sport, .dport = 80, .seq = 1000u * sport, .flags = HSK_TH_SYN,
		       .win = 65535, .opt = { .mss = 1460, .wscale = -1 } };
	uint8_t seg[64], pkt[100];
	int n = tcp_emit(&th, NULL, 0, PEER, dst, seg, sizeof(seg));

	assert_true(n > 0);
	hsk_stack_input(s, now, pkt, ip_wrap(dst, IP_PROTO_TCP, seg, (size_t)n, pkt));
}

/* Captured packet i: its IP source is `src`, it goes to PEER, and (TCP)
 * its checksum verifies over that pair; the TCP header into *th. */
static void check_from(const pkt_cap *c, int i, uint32_t src, uint8_t proto, tcp_hdr *th)
{
	const uint8_t *payload, *data;
	size_t plen, dlen;
	ipv4_hdr h;

	assert_true(i < c->n);
	assert_int_equal(ipv4_parse(c->pkt[i], c->len[i], &h, &payload, &plen), WIRE_OK);
	assert_int_equal(h.src, src);
	assert_int_equal(h.dst, PEER);
	assert_int_equal(h.proto, proto);
	if (proto == IP_PROTO_TCP)
		assert_int_equal(tcp_parse(payload, plen, h.src, h.dst, true, th, &data, &dlen),
				 WIRE_OK);
}

static void test_echo_from_second_address(void **state)
{
	pkt_cap c;
	hsk_stack *s = new_stack(&c, 0);
	icmp_hdr ih = { .type = ICMP_ECHO_REQUEST, .rest = 0x00070001 };
	uint8_t body[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, msg[32], pkt[64];
	(void)state;

	int n = icmp_emit(&ih, body, sizeof(body), msg, sizeof(msg));
	hsk_stack_input(s, 1001 * MS, pkt, ip_wrap(US2, IP_PROTO_ICMP, msg, (size_t)n, pkt));
	assert_int_equal(c.n, 1);
	check_from(&c, 0, US2, IP_PROTO_ICMP, NULL);
	hsk_stack_input(s, 1002 * MS, pkt, ip_wrap(US, IP_PROTO_ICMP, msg, (size_t)n, pkt));
	assert_int_equal(c.n, 2);
	check_from(&c, 1, US, IP_PROTO_ICMP, NULL);
	hsk_stack_free(s);
}

/* A listener on every address: each SYN-ACK leaves from the address its
 * SYN went to, from the SYN queue and, once that is full, with a cookie. */
static void test_synack_from_second_address(void **state)
{
	pkt_cap c;
	hsk_stack *s = new_stack(&c, 1);
	tcp_hdr th;
	(void)state;

	int l = hsk_socket(s);
	assert_int_equal(hsk_bind(s, l, 0, 80), 0);
	assert_int_equal(hsk_listen(s, l, 1), 0);
	send_syn(s, 1001 * MS, US2, 40001);
	assert_int_equal(c.n, 1);
	check_from(&c, 0, US2, IP_PROTO_TCP, &th);
	assert_int_equal(th.flags, HSK_TH_SYN | HSK_TH_ACK);
	assert_int_equal(th.ack, 1000u * 40001 + 1);
	/* The queue holds one: the next SYNs are answered with cookies. */
	send_syn(s, 1002 * MS, US2, 40002);
	send_syn(s, 1003 * MS, US, 40003);
	assert_int_equal(c.n, 3);
	check_from(&c, 1, US2, IP_PROTO_TCP, &th);
	assert_int_equal(th.ack, 1000u * 40002 + 1);
	check_from(&c, 2, US, IP_PROTO_TCP, &th);
	assert_int_equal(th.ack, 1000u * 40003 + 1);
	assert_true(hsk_counter_by_name(s, "SyncookiesSent") >= 2);
	hsk_stack_free(s);
}

/* A connection bound to the second address: its SYN leaves from it, and
 * an ICMP port unreachable quoting that SYN reaches the connection. */
static void test_connect_from_second_address(void **state)
{
	pkt_cap c;
	hsk_stack *s = new_stack(&c, 0);
	tcp_hdr syn;
	(void)state;

	int sd = hsk_socket(s);
	assert_int_equal(hsk_bind(s, sd, US2, 0), 0);
	assert_int_equal(hsk_connect(s, sd, PEER, 80), -HSK_EINPROGRESS);
	assert_int_equal(c.n, 1);
	check_from(&c, 0, US2, IP_PROTO_TCP, &syn);
	assert_true(syn.flags & HSK_TH_SYN);

	icmp_hdr ih = { .type = ICMP_DEST_UNREACH, .code = ICMP_UNREACH_PORT };
	uint8_t msg[100], pkt[140];
	int n = icmp_emit(&ih, c.pkt[0], 28, msg, sizeof(msg));
	assert_true(n > 0);
	hsk_stack_input(s, 1001 * MS, pkt, ip_wrap(US2, IP_PROTO_ICMP, msg, (size_t)n, pkt));
	assert_int_equal(hsk_counter_by_name(s, "DropNotForUs"), 0);
	uint8_t b[4];
	assert_int_equal(hsk_recv(s, sd, b, sizeof(b)), -HSK_ECONNREFUSED);
	hsk_close(s, sd);
	hsk_stack_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_from_second_address),
		cmocka_unit_test(test_synack_from_second_address),
		cmocka_unit_test(test_connect_from_second_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
