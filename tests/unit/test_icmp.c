/*
 * ICMP through a whole stack (hsk_stack_input -> ip -> icmp): echo replies,
 * malformed messages, and errors handed to TCP — port unreachable aborts a
 * connecting socket with ECONNREFUSED, fragmentation-needed lowers the MSS
 * and resends smaller, and errors quoting a segment that is not ours, or
 * quoting too little, a non-first fragment, another protocol or a broken
 * IPv4 header, are dropped and counted. Echo replies never exceed the MTU;
 * echo requests with a non-zero code are not answered. A protocol the
 * stack lacks is answered with a protocol unreachable. Outgoing packets
 * are captured by the link callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "handshake.h"
#include "wire/wire.h"

#define US 0xc6120002u      /* 198.18.0.2: the stack */
#define PEER 0xc6120001u    /* 198.18.0.1 */
#define MS 1000000ull


static hsk_stack *new_stack(pkt_cap *c)
{
	hsk_config cfg;
	hsk_link link = { .ctx = c, .transmit = pkt_capture };

	hsk_config_default(&cfg);
	cfg.addr = US;
	cfg.seed = 7;
	memset(c, 0, sizeof(*c));
	return hsk_stack_new(&cfg, &link, 1000 * MS);
}

static uint64_t cnt(hsk_stack *s, const char *name)
{
	return hsk_counter_by_name(s, name);
}

/* An IPv4 packet from PEER carrying `l4` into out; returns its length. */
static size_t ip_wrap(uint8_t proto, const uint8_t *l4, size_t len, uint8_t *out)
{
	ipv4_hdr h = { .total_len = (uint16_t)(20 + len), .id = 1, .ttl = 64,
		       .proto = proto, .src = PEER, .dst = US };

	assert_int_equal(ipv4_emit(&h, out, 20), 20);
	memcpy(out + 20, l4, len);
	return 20 + len;
}

/* An ICMP error from PEER quoting `qlen` bytes of `quoted`. */
static void send_error(hsk_stack *s, uint64_t now, uint8_t type, uint8_t code,
		       uint16_t mtu, const uint8_t *quoted, size_t qlen)
{
	icmp_hdr ih = { .type = type, .code = code, .rest = mtu };
	uint8_t msg[700], pkt[800];
	int n = icmp_emit(&ih, quoted, qlen, msg, sizeof(msg));

	assert_true(n > 0);
	hsk_stack_input(s, now, pkt, ip_wrap(IP_PROTO_ICMP, msg, (size_t)n, pkt));
}

static void test_echo_reply(void **state)
{
	pkt_cap c;
	hsk_stack *s = new_stack(&c);
	icmp_hdr ih = { .type = ICMP_ECHO_REQUEST, .rest = 0x12340005 };
	uint8_t body[56], msg[64], pkt[100];
	const uint8_t *payload, *rbody;
	size_t plen, rlen;
	ipv4_hdr rh;
	icmp_hdr rep;
	(void)state;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 3);
	int n = icmp_emit(&ih, body, sizeof(body), msg, sizeof(msg));
	hsk_stack_input(s, 1001 * MS, pkt, ip_wrap(IP_PROTO_ICMP, msg, (size_t)n, pkt));
	assert_int_equal(c.n, 1);
	assert_int_equal(ipv4_parse(c.pkt[0], c.len[0], &rh, &payload, &plen), WIRE_OK);
	assert_int_equal(rh.src, US);
	assert_int_equal(rh.dst, PEER);
	assert_int_equal(rh.proto, IP_PROTO_ICMP);
	assert_int_equal(icmp_parse(payload, plen, &rep, &rbody, &rlen), WIRE_OK);
	assert_int_equal(rep.type, ICMP_ECHO_REPLY);
	assert_int_equal(rep.rest, 0x12340005);
	assert_int_equal(rlen, sizeof(body));
	assert_memory_equal(rbody, body, sizeof(body));
	assert_int_equal(cnt(s, "IcmpInEchos"), 1);
	assert_int_equal(cnt(s, "IcmpOutEchoReps"), 1);

	/* A bad checksum: counted, not answered. */
	msg[10] ^= 0xff;
	hsk_stack_input(s, 1002 * MS, pkt, ip_wrap(IP_PROTO_ICMP, msg, (size_t)n, pkt));
	assert_int_equal(c.n, 1);
	assert_int_equal(cnt(s, "IcmpInErrors"), 1);
	/* Truncated below the ICMP header. */
	hsk_stack_input(s, 1003 * MS, pkt, ip_wrap(IP_PROTO_ICMP, msg, 5, pkt));
	assert_int_equal(c.n, 1);
	assert_int_equal(cnt(s, "IcmpInErrors"), 2);
	hsk_stack_free(s);
}

/* Starts a connection to PEER:80; returns the sd and the captured SYN. */
static int start_connect(hsk_stack *s, pkt_cap *c, tcp_hdr *syn)
{
	int sd = hsk_socket(s);
	const uint8_t *payload, *data;
	size_t plen, dlen;
	ipv4_hdr h;

	assert_true(sd >= 0);
	assert_int_equal(hsk_connect(s, sd, PEER, 80), -HSK_EINPROGRESS);
	assert_int_equal(c->n, 1);
	assert_int_equal(ipv4_parse(c->pkt[0], c->len[0], &h, &payload, &plen), WIRE_OK);
	assert_int_equal(tcp_parse(payload, plen, h.src, h.dst, true, syn, &data, &dlen), WIRE_OK);
	assert_true(syn->flags & HSK_TH_SYN);
	return sd;
}

static void test_port_unreachable_aborts_connect(void **state)
{
	pkt_cap c;
	hsk_stack *s = new_stack(&c);
	tcp_hdr syn;
	uint8_t q[28];
	(void)state;

	int sd = start_connect(s, &c, &syn);
	memcpy(q, c.pkt[0], sizeof(q));          /* IP header + 8 bytes of TCP */
	/* Quoting too little (7 bytes of TCP): dropped, still connecting. */
	send_error(s, 1001 * MS, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, q, 27);
	assert_int_equal(hsk_sock_state(s, sd), HSK_SYN_SENT);
	assert_int_equal(cnt(s, "IcmpInErrors"), 1);
	/* Quoting a packet from another source: not ours. */
	q[15] ^= 1;
	send_error(s, 1001 * MS, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, q, sizeof(q));
	assert_int_equal(hsk_sock_state(s, sd), HSK_SYN_SENT);
	q[15] ^= 1;
	/* The real thing. */
	send_error(s, 1002 * MS, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, q, sizeof(q));
	assert_int_equal(cnt(s, "IcmpInDestUnreachs"), 3);
	assert_int_equal(hsk_sock_error(s, sd), HSK_ECONNREFUSED);
	assert_int_equal(hsk_sock_state(s, sd), HSK_CLOSED);
	hsk_close(s, sd);
	hsk_stack_free(s);
}

/* The quoted header came back from the network: only a first fragment of a
 * TCP segment we sent, with a sane IPv4 header, may reach TCP. Each bad
 * quote below would abort the connect if it got through; the last, intact,
 * does. */
static void test_error_quote_checked(void **state)
{
	pkt_cap c;
	hsk_stack *s = new_stack(&c);
	tcp_hdr syn;
	uint8_t good[28], q[28];
	(void)state;

	int sd = start_connect(s, &c, &syn);
	memcpy(good, c.pkt[0], sizeof(good));
	uint64_t not_us = cnt(s, "DropNotForUs"), errs = cnt(s, "IcmpInErrors");

	/* A UDP packet's quote. */
	memcpy(q, good, sizeof(q));
	q[9] = IP_PROTO_UDP;
	send_error(s, 1001 * MS, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, q, sizeof(q));
	assert_int_equal(hsk_sock_state(s, sd), HSK_SYN_SENT);
	assert_int_equal(cnt(s, "DropNotForUs"), not_us + 1);
	/* A later fragment (offset 8 bytes): what follows its IP header is
	 * not a TCP header. MF alone (a first fragment) would be fine. */
	memcpy(q, good, sizeof(q));
	q[6] = 0;
	q[7] = 1;
	send_error(s, 1001 * MS, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, q, sizeof(q));
	assert_int_equal(hsk_sock_state(s, sd), HSK_SYN_SENT);
	assert_int_equal(cnt(s, "DropNotForUs"), not_us + 2);
	/* IHL 4 (16 bytes): not an IPv4 header. */
	memcpy(q, good, sizeof(q));
	q[0] = 0x44;
	send_error(s, 1001 * MS, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, q, sizeof(q));
	assert_int_equal(hsk_sock_state(s, sd), HSK_SYN_SENT);
	assert_int_equal(cnt(s, "IcmpInErrors"), errs + 1);
	/* A packet from another source than ours: no connection could match
	 * it anyway, but it is counted as not ours. */
	memcpy(q, good, sizeof(q));
	q[15] ^= 1;
	send_error(s, 1001 * MS, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, q, sizeof(q));
	assert_int_equal(hsk_sock_state(s, sd), HSK_SYN_SENT);
	assert_int_equal(cnt(s, "DropNotForUs"), not_us + 3);
	/* Version 6. */
	memcpy(q, good, sizeof(q));
	q[0] = 0x65;
	send_error(s, 1001 * MS, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, q, sizeof(q));
	assert_int_equal(hsk_sock_state(s, sd), HSK_SYN_SENT);
	assert_int_equal(cnt(s, "IcmpInErrors"), errs + 2);
	assert_int_equal(cnt(s, "DropNotForUs"), not_us + 3);

	/* The intact quote, with MF set (a first fragment): believed. */
	memcpy(q, good, sizeof(q));
	q[6] |= IPV4_MF >> 8;
	send_error(s, 1002 * MS, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, q, sizeof(q));
	assert_int_equal(hsk_sock_error(s, sd), HSK_ECONNREFUSED);
	assert_int_equal(hsk_sock_state(s, sd), HSK_CLOSED);
	hsk_close(s, sd);
	hsk_stack_free(s);
}

/* No fragmentation on output: an echo reply must fit the MTU (1500) whole.
 * 20 + 8 + 1472 bytes does; one byte more does not, and is not answered. */
static void test_echo_mtu_bound(void **state)
{
	pkt_cap c;
	hsk_stack *s = new_stack(&c);
	icmp_hdr ih = { .type = ICMP_ECHO_REQUEST, .rest = 0x00020001 };
	static uint8_t body[1473], msg[1500], pkt[1600];
	(void)state;

	memset(body, 0x5a, sizeof(body));
	int n = icmp_emit(&ih, body, 1472, msg, sizeof(msg));
	hsk_stack_input(s, 1001 * MS, pkt, ip_wrap(IP_PROTO_ICMP, msg, (size_t)n, pkt));
	assert_int_equal(c.n, 1);
	assert_int_equal(c.len[0], 1500);
	n = icmp_emit(&ih, body, 1473, msg, sizeof(msg));
	hsk_stack_input(s, 1002 * MS, pkt, ip_wrap(IP_PROTO_ICMP, msg, (size_t)n, pkt));
	assert_int_equal(c.n, 1);
	assert_int_equal(cnt(s, "IcmpInEchos"), 2);
	assert_int_equal(cnt(s, "IcmpOutEchoReps"), 1);
	assert_int_equal(cnt(s, "IcmpInErrors"), 1);
	hsk_stack_free(s);
}

/* RFC 792: an echo request has code 0; anything else is malformed and goes
 * unanswered. */
static void test_echo_bad_code(void **state)
{
	pkt_cap c;
	hsk_stack *s = new_stack(&c);
	icmp_hdr ih = { .type = ICMP_ECHO_REQUEST, .code = 1, .rest = 0x00010001 };
	uint8_t body[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, msg[16], pkt[64];
	(void)state;

	int n = icmp_emit(&ih, body, sizeof(body), msg, sizeof(msg));
	assert_true(n > 0);
	hsk_stack_input(s, 1001 * MS, pkt, ip_wrap(IP_PROTO_ICMP, msg, (size_t)n, pkt));
	assert_int_equal(c.n, 0);
	assert_int_equal(cnt(s, "IcmpInErrors"), 1);
	assert_int_equal(cnt(s, "IcmpInEchos"), 0);
	/* Code 0: answered (the same message is otherwise fine). */
	ih.code = 0;
	n = icmp_emit(&ih, body, sizeof(body), msg, sizeof(msg));
	hsk_stack_input(s, 1002 * MS, pkt, ip_wrap(IP_PROTO_ICMP, msg, (size_t)n, pkt));
	assert_int_equal(c.n, 1);
	assert_int_equal(cnt(s, "IcmpOutEchoReps"), 1);
	hsk_stack_free(s);
}

static void test_frag_needed_lowers_mss(void **state)
{
	pkt_cap c;
	hsk_stack *s = new_stack(&c);
	uint8_t seg[100], pkt[200], payload3k[3000] = { 0 }, q[28];
	const uint8_t *p, *data;
	size_t plen, dlen;
	tcp_hdr syn, h;
	ipv4_hdr ih;
	int mss = 0, first;
	(void)state;

	int sd = start_connect(s, &c, &syn);
	/* SYN-ACK with MSS 1460. */
	tcp_hdr sa = { .sport = 80, .dport = syn.sport, .seq = 5000, .ack = syn.seq + 1,
		       .flags = HSK_TH_SYN | HSK_TH_ACK, .win = 65535,
		       .opt = { .mss = 1460, .wscale = -1 } };
	int n = tcp_emit(&sa, NULL, 0, PEER, US, seg, sizeof(seg));
	assert_true(n > 0);
	hsk_stack_input(s, 1001 * MS, pkt, ip_wrap(IP_PROTO_TCP, seg, (size_t)n, pkt));
	assert_int_equal(hsk_sock_state(s, sd), HSK_ESTABLISHED);
	first = c.n;
	assert_int_equal(hsk_send(s, sd, payload3k, sizeof(payload3k)), (long)sizeof(payload3k));
	hsk_stack_advance(s, 1002 * MS);
	assert_true(c.n > first);
	assert_int_equal(ipv4_parse(c.pkt[first], c.len[first], &ih, &p, &plen), WIRE_OK);
	assert_int_equal(tcp_parse(p, plen, ih.src, ih.dst, true, &h, &data, &dlen), WIRE_OK);
	assert_int_equal(dlen, 1460);
	/* The router says: 1000 bytes at most. */
	memcpy(q, c.pkt[first], sizeof(q));
	first = c.n;
	send_error(s, 1003 * MS, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1000, q, sizeof(q));
	assert_int_equal(hsk_getsockopt(s, sd, HSK_SO_MAXSEG, &mss), 0);
	assert_int_equal(mss, 960);
	hsk_stack_advance(s, 1004 * MS);
	assert_true(c.n > first);   /* resent at once, smaller */
	assert_int_equal(ipv4_parse(c.pkt[first], c.len[first], &ih, &p, &plen), WIRE_OK);
	assert_int_equal(tcp_parse(p, plen, ih.src, ih.dst, true, &h, &data, &dlen), WIRE_OK);
	assert_int_equal(h.seq, syn.seq + 1);
	assert_true(dlen <= 960 && dlen > 0);
	assert_true(c.len[first] <= 1000);
	hsk_abort(s, sd);
	hsk_stack_free(s);
}

/* The ICMP error of the packet c->pkt[i]: its type and code, and the
 * datagram it quotes. */
static void error_sent(const pkt_cap *c, int i, uint8_t type, uint8_t code,
		       const uint8_t **quote, size_t *qlen)
{
	const uint8_t *payload;
	size_t plen;
	ipv4_hdr h;
	icmp_hdr ih;

	assert_int_equal(ipv4_parse(c->pkt[i], c->len[i], &h, &payload, &plen), WIRE_OK);
	assert_int_equal(h.src, US);
	assert_int_equal(h.dst, PEER);
	assert_int_equal(h.proto, IP_PROTO_ICMP);
	assert_int_equal(icmp_parse(payload, plen, &ih, quote, qlen), WIRE_OK);
	assert_int_equal(ih.type, type);
	assert_int_equal(ih.code, code);
}

/* RFC 1122 §3.2.2.1: a protocol the stack does not have (UDP here) is
 * answered with a protocol unreachable quoting the datagram, as much as
 * fits in 576 bytes; one that came in fragments quotes the whole
 * datagram's header, offset 0. */
static void test_protocol_unreachable(void **state)
{
	pkt_cap c;
	hsk_stack *s = new_stack(&c);
	uint8_t udp[1000], pkt[1100];
	const uint8_t *q, *qp;
	size_t qlen, qplen, n;
	ipv4_hdr qh;
	(void)state;

	for (size_t i = 0; i < sizeof(udp); i++)
		udp[i] = (uint8_t)(i * 5);
	n = ip_wrap(17, udp, 40, pkt);
	hsk_stack_input(s, 1001 * MS, pkt, n);
	assert_int_equal(c.n, 1);
	error_sent(&c, 0, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, &q, &qlen);
	assert_int_equal(qlen, n);
	assert_memory_equal(q, pkt, n);
	assert_int_equal(cnt(s, "InUnknownProtos"), 1);
	/* A large one: cut to 576 bytes in all. */
	hsk_stack_input(s, 1002 * MS, pkt, ip_wrap(17, udp, 1000, pkt));
	assert_int_equal(c.n, 2);
	error_sent(&c, 1, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, &q, &qlen);
	assert_int_equal(c.len[1], 576);
	assert_memory_equal(q, pkt, qlen);
	/* In two fragments (id 7): the quote's header is the datagram's. */
	ipv4_hdr f = { .total_len = 20 + 24, .id = 7, .ttl = 64, .proto = 17, .src = PEER,
		       .dst = US, .frag = IPV4_MF };
	assert_int_equal(ipv4_emit(&f, pkt, 20), 20);
	memcpy(pkt + 20, udp, 24);
	hsk_stack_input(s, 1003 * MS, pkt, 44);
	f.total_len = 20 + 16;
	f.frag = 24 / 8;
	assert_int_equal(ipv4_emit(&f, pkt, 20), 20);
	memcpy(pkt + 20, udp + 24, 16);
	hsk_stack_input(s, 1003 * MS, pkt, 36);
	assert_int_equal(c.n, 3);
	error_sent(&c, 2, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, &q, &qlen);
	assert_int_equal(ipv4_parse(q, qlen, &qh, &qp, &qplen), WIRE_OK);
	assert_int_equal(qh.id, 7);
	assert_int_equal(qh.frag, 0);
	assert_int_equal(qh.total_len, 60);
	assert_int_equal(qplen, 40);
	assert_memory_equal(qp, udp, 40);
	hsk_stack_free(s);
}

/* RFC 1122 §3.2.2: an error quotes the datagram's header and at least 8
 * bytes of its data. At the smallest MTU (68) a header of 60 bytes
 * (options) leaves no room for that: no error then; a plain header's
 * datagram is still answered, its quote cut to the 68 bytes. */
static void test_protocol_unreachable_small_mtu(void **state)
{
	pkt_cap c;
	hsk_config cfg;
	hsk_link link = { .ctx = &c, .transmit = pkt_capture };
	uint8_t pkt[128];
	const uint8_t *q;
	size_t qlen;
	ipv4_hdr h = { .ihl = 60, .total_len = 60 + 8, .id = 3, .ttl = 64, .proto = 17,
		       .src = PEER, .dst = US };
	(void)state;

	hsk_config_default(&cfg);
	cfg.addr = US;
	cfg.seed = 7;
	cfg.mtu = 68;
	memset(&c, 0, sizeof(c));
	hsk_stack *s = hsk_stack_new(&cfg, &link, 1000 * MS);
	assert_non_null(s);
	memset(pkt, 1, sizeof(pkt));              /* options: no-operation */
	assert_int_equal(ipv4_emit(&h, pkt, 20), 20);
	pkt[0] = 0x4f;
	wr16(pkt + 10, 0);
	wr16(pkt + 10, csum_fold(csum_partial(pkt, 60, 0)));
	hsk_stack_input(s, 1001 * MS, pkt, 68);
	assert_int_equal(cnt(s, "InUnknownProtos"), 1);
	assert_int_equal(c.n, 0);
	uint8_t udp[48] = { 0 };
	hsk_stack_input(s, 1002 * MS, pkt, ip_wrap(17, udp, sizeof(udp), pkt));
	assert_int_equal(cnt(s, "InUnknownProtos"), 2);
	assert_int_equal(c.n, 1);
	error_sent(&c, 0, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, &q, &qlen);
	assert_int_equal(c.len[0], 68);
	assert_int_equal(qlen, 40);
	assert_memory_equal(q, pkt, 40);
	hsk_stack_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_reply),
		cmocka_unit_test(test_port_unreachable_aborts_connect),
		cmocka_unit_test(test_error_quote_checked),
		cmocka_unit_test(test_echo_bad_code),
		cmocka_unit_test(test_echo_mtu_bound),
		cmocka_unit_test(test_frag_needed_lowers_mss),
		cmocka_unit_test(test_protocol_unreachable),
		cmocka_unit_test(test_protocol_unreachable_small_mtu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
