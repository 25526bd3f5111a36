/* IPv4 header, ICMP and the error names: real Linux packets parsed and
 * re-emitted byte for byte, and every malformed header. Buffers are heap
 * copies of exactly the packet's size so an ASan build catches overreads. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "wire/wire.h"
#include "wire_vectors.h"

/* Recomputes the header checksum after a test edits a field. */
static void ip_fix_csum(uint8_t *b)
{
	size_t ihl = (size_t)(b[0] & 0x0f) * 4;
	wr16(b + 10, 0);
	wr16(b + 10, csum_fold(csum_partial(b, ihl, 0)));
}

static int parse(const uint8_t *b, size_t len, ipv4_hdr *h)
{
	const uint8_t *p;
	size_t pl;
	return ipv4_parse(b, len, h, &p, &pl);
}

static void test_real_header(void **state)
{
	(void)state;
	uint8_t *b = dup_bytes(pkt_syn, sizeof pkt_syn);
	ipv4_hdr h;
	const uint8_t *p;
	size_t pl;
	assert_int_equal(ipv4_parse(b, sizeof pkt_syn, &h, &p, &pl), WIRE_OK);
	assert_int_equal(h.ihl, 20);
	assert_int_equal(h.tos, 0);
	assert_int_equal(h.total_len, 60);
	assert_int_equal(h.id, 0x7316);
	assert_int_equal(h.frag, IPV4_DF);
	assert_false(ipv4_is_fragment(&h));
	assert_int_equal(h.ttl, 64);
	assert_int_equal(h.proto, IP_PROTO_TCP);
	assert_int_equal(h.csum, 0x3b7e);
	assert_int_equal(h.src, 0xc6120002);
	assert_int_equal(h.dst, 0xc6120001);
	/* the addresses' sum for TCP's pseudo-header */
	assert_true(h.asum == (uint64_t)0xc6120002 + 0xc6120001);
	assert_ptr_equal(p, b + 20);
	assert_int_equal(pl, 40);

	uint8_t out[20];
	assert_int_equal(ipv4_emit(&h, out, sizeof out), 20);
	assert_memory_equal(out, pkt_syn, 20);
	assert_int_equal(ipv4_emit(&h, out, 19), WIRE_ERR_SPACE);
	free(b);

	/* The SYN-ACK has IP ID 0 (Linux, DF set); the RST is only 40 bytes. */
	static const struct { const uint8_t *p; size_t n; } more[] = {
		{ pkt_synack, sizeof pkt_synack }, { pkt_rst, sizeof pkt_rst },
		{ pkt_fin, sizeof pkt_fin }, { pkt_echo_reply, sizeof pkt_echo_reply },
		{ pkt_port_unreach, sizeof pkt_port_unreach },
	};
	for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
		b = dup_bytes(more[i].p, more[i].n);
		assert_int_equal(ipv4_parse(b, more[i].n, &h, &p, &pl), WIRE_OK);
		assert_int_equal(pl, more[i].n - 20);
		assert_int_equal(ipv4_emit(&h, out, sizeof out), 20);
		assert_memory_equal(out, more[i].p, 20);
		free(b);
	}
}

static void test_short_version_ihl(void **state)
{
	(void)state;
	ipv4_hdr h;
	for (size_t n = 0; n < 20; n++) {
		uint8_t *b = dup_bytes(pkt_syn, n);
		assert_int_equal(parse(b, n, &h), WIRE_ERR_SHORT);
		free(b);
	}
	uint8_t *b = dup_bytes(pkt_syn, sizeof pkt_syn);
	for (int v = 0; v < 16; v++) {
		b[0] = (uint8_t)(v << 4 | 5);
		ip_fix_csum(b);
		assert_int_equal(parse(b, sizeof pkt_syn, &h), v == 4 ? WIRE_OK : WIRE_ERR_VERSION);
	}
	/* IHL below 5 words. */
	for (int ihl = 0; ihl < 5; ihl++) {
		b[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(parse(b, sizeof pkt_syn, &h), WIRE_ERR_IHL);
	}
	free(b);
	/* IHL past the end of the buffer (60 bytes of header, 40 given). */
	b = dup_bytes(pkt_rst, sizeof pkt_rst);
	b[0] = 0x4f;
	assert_int_equal(parse(b, sizeof pkt_rst, &h), WIRE_ERR_IHL);
	b[0] = 0x4a; /* 40: fits exactly, but total_len 40 is then all header */
	ip_fix_csum(b);
	const uint8_t *p;
	size_t pl;
	assert_int_equal(ipv4_parse(b, sizeof pkt_rst, &h, &p, &pl), WIRE_OK);
	assert_int_equal(h.ihl, 40);
	assert_int_equal(pl, 0);
	assert_ptr_equal(p, b + 40);
	free(b);
}

static void test_total_length(void **state)
{
	(void)state;
	ipv4_hdr h;
	const uint8_t *p;
	size_t pl;
	/* The RST padded to the 46-byte Ethernet minimum: padding excluded. */
	uint8_t *b = calloc(1, 46);
	assert_non_null(b);
	memcpy(b, pkt_rst, sizeof pkt_rst);
	assert_int_equal(ipv4_parse(b, 46, &h, &p, &pl), WIRE_OK);
	assert_int_equal(h.total_len, 40);
	assert_int_equal(pl, 20);
	/* Longer than the buffer. */
	wr16(b + 2, 47);
	ip_fix_csum(b);
	assert_int_equal(ipv4_parse(b, 46, &h, &p, &pl), WIRE_ERR_TOTLEN);
	wr16(b + 2, 46);
	ip_fix_csum(b);
	assert_int_equal(ipv4_parse(b, 46, &h, &p, &pl), WIRE_OK);
	assert_int_equal(pl, 26);
	/* Shorter than the header. */
	for (uint16_t t = 0; t < 20; t++) {
		wr16(b + 2, t);
		ip_fix_csum(b);
		assert_int_equal(ipv4_parse(b, 46, &h, &p, &pl), WIRE_ERR_TOTLEN);
	}
	wr16(b + 2, 20);
	ip_fix_csum(b);
	assert_int_equal(ipv4_parse(b, 46, &h, &p, &pl), WIRE_OK);
	assert_int_equal(pl, 0);
	/* With options, total_len below IHL. */
	b[0] = 0x46;
	wr16(b + 2, 22);
	ip_fix_csum(b);
	assert_int_equal(ipv4_parse(b, 46, &h, &p, &pl), WIRE_ERR_TOTLEN);
	free(b);
}

static void test_checksum_and_options(void **state)
{
	(void)state;
	ipv4_hdr h;
	const uint8_t *p;
	size_t pl;
	uint8_t *b = dup_bytes(pkt_syn, sizeof pkt_syn);
	for (size_t i = 0; i < 20; i++) {
		if (i == 0)
			continue; /* version/IHL fail before the checksum */
		for (int bit = 0; bit < 8; bit++) {
			if (i == 2 && bit >= 6)
				continue; /* total_len fails first */
			b[i] ^= (uint8_t)(1 << bit);
			int err = parse(b, sizeof pkt_syn, &h);
			if (i == 2 || i == 3)
				assert_true(err == WIRE_ERR_IP_CSUM || err == WIRE_ERR_TOTLEN);
			else
				assert_int_equal(err, WIRE_ERR_IP_CSUM);
			b[i] ^= (uint8_t)(1 << bit);
		}
	}
	/* The payload is not covered by the header checksum. */
	b[30] ^= 0xff;
	assert_int_equal(parse(b, sizeof pkt_syn, &h), WIRE_OK);
	free(b);

	/* A header with options (Router Alert, RFC 2113): skipped, and the
	 * payload starts after them. */
	uint8_t *o = malloc(24 + 4);
	assert_non_null(o);
	memcpy(o, pkt_syn, 20);
	o[0] = 0x46;
	wr16(o + 2, 28);
	o[20] = 0x94; o[21] = 4; o[22] = 0; o[23] = 0;
	memcpy(o + 24, "abcd", 4);
	ip_fix_csum(o);
	assert_int_equal(ipv4_parse(o, 28, &h, &p, &pl), WIRE_OK);
	assert_int_equal(h.ihl, 24);
	assert_int_equal(pl, 4);
	assert_memory_equal(p, "abcd", 4);
	free(o);
}

static void test_source_address(void **state)
{
	(void)state;
	static const struct { uint32_t a; int want; } cases[] = {
		{ 0x00000000, WIRE_ERR_ADDR },  /* 0.0.0.0 */
		{ 0xffffffff, WIRE_ERR_ADDR },  /* 255.255.255.255 */
		{ 0xe0000001, WIRE_ERR_ADDR },  /* 224.0.0.1 */
		{ 0xefffffff, WIRE_ERR_ADDR },  /* 239.255.255.255 */
		{ 0xdfffffff, WIRE_OK },        /* 223.255.255.255 */
		{ 0xf0000001, WIRE_OK },        /* 240.0.0.1: reserved, not ours to drop */
		{ 0x7f000001, WIRE_OK },        /* 127.0.0.1 */
		{ 0xc6120002, WIRE_OK },
	};
	ipv4_hdr h;
	uint8_t *b = dup_bytes(pkt_syn, sizeof pkt_syn);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		wr32(b + 12, cases[i].a);
		ip_fix_csum(b);
		assert_int_equal(parse(b, sizeof pkt_syn, &h), cases[i].want);
	}
	/* Only the source is checked: a broadcast destination parses. */
	wr32(b + 12, 0xc6120002);
	wr32(b + 16, 0xffffffff);
	ip_fix_csum(b);
	assert_int_equal(parse(b, sizeof pkt_syn, &h), WIRE_OK);
	free(b);
}

static void test_fragments(void **state)
{
	(void)state;
	ipv4_hdr h;
	uint8_t *b = dup_bytes(pkt_syn, sizeof pkt_syn);
	static const uint16_t frags[] = { IPV4_MF, IPV4_MF | 1, 185, IPV4_DF | 0x1fff };
	for (size_t i = 0; i < sizeof frags / sizeof frags[0]; i++) {
		wr16(b + 6, frags[i]);
		ip_fix_csum(b);
		assert_int_equal(parse(b, sizeof pkt_syn, &h), WIRE_OK);
		assert_int_equal(h.frag, frags[i]);
		assert_true(ipv4_is_fragment(&h));
	}
	wr16(b + 6, 0);
	ip_fix_csum(b);
	assert_int_equal(parse(b, sizeof pkt_syn, &h), WIRE_OK);
	assert_false(ipv4_is_fragment(&h));
	free(b);
}

static void test_icmp(void **state)
{
	(void)state;
	ipv4_hdr ip;
	icmp_hdr h;
	const uint8_t *p, *body;
	size_t pl, bl;
	uint8_t *b = dup_bytes(pkt_echo_reply, sizeof pkt_echo_reply);
	assert_int_equal(ipv4_parse(b, sizeof pkt_echo_reply, &ip, &p, &pl), WIRE_OK);
	assert_int_equal(ip.proto, IP_PROTO_ICMP);
	assert_int_equal(icmp_parse(p, pl, &h, &body, &bl), WIRE_OK);
	assert_int_equal(h.type, ICMP_ECHO_REPLY);
	assert_int_equal(h.code, 0);
	assert_int_equal(h.csum, 0xdd0f);
	assert_int_equal(h.rest, 0x12340001);
	assert_int_equal(bl, 10);
	assert_memory_equal(body, "handshake!", 10);
	uint8_t out[64];
	assert_int_equal(icmp_emit(&h, body, bl, out, sizeof out), 18);
	assert_memory_equal(out, p, 18);
	assert_int_equal(icmp_emit(&h, body, bl, out, 17), WIRE_ERR_SPACE);
	assert_int_equal(icmp_emit(&h, body, bl, out, 7), WIRE_ERR_SPACE);
	/* Odd length (9 bytes of body) still checks. */
	assert_int_equal(icmp_emit(&h, body, 9, out, sizeof out), 17);
	assert_int_equal(icmp_parse(out, 17, &h, &body, &bl), WIRE_OK);
	b[20 + 9] ^= 0x40;
	assert_int_equal(icmp_parse(p, pl, &h, &body, &bl), WIRE_ERR_ICMP_CSUM);
	free(b);

	/* Port unreachable quoting the UDP datagram's IP header and 8 bytes. */
	b = dup_bytes(pkt_port_unreach, sizeof pkt_port_unreach);
	assert_int_equal(ipv4_parse(b, sizeof pkt_port_unreach, &ip, &p, &pl), WIRE_OK);
	assert_int_equal(icmp_parse(p, pl, &h, &body, &bl), WIRE_OK);
	assert_int_equal(h.type, ICMP_DEST_UNREACH);
	assert_int_equal(h.code, ICMP_UNREACH_PORT);
	assert_int_equal(h.csum, 0x8940);
	assert_int_equal(bl, 20 + 8 + 2);
	ipv4_hdr q;
	const uint8_t *qp;
	size_t qpl;
	assert_int_equal(ipv4_parse(body, bl, &q, &qp, &qpl), WIRE_OK);
	assert_int_equal(q.proto, IP_PROTO_UDP);
	assert_int_equal(q.src, 0xc6120002);
	assert_int_equal(rd16(qp + 2), 9);
	/* Emit with the quoted body already in place. */
	uint8_t *o = dup_bytes(p, pl);
	memset(o, 0, ICMP_HDR_LEN);
	assert_int_equal(icmp_emit(&h, o + ICMP_HDR_LEN, bl, o, pl), (int)pl);
	assert_memory_equal(o, p, pl);
	free(o);
	free(b);

	for (size_t n = 0; n < ICMP_HDR_LEN; n++) {
		b = dup_bytes(pkt_echo_reply + 20, n);
		assert_int_equal(icmp_parse(b, n, &h, &body, &bl), WIRE_ERR_SHORT);
		free(b);
	}
}

static void test_err_names(void **state)
{
	(void)state;
	assert_string_equal(wire_err_name(WIRE_OK), "ok");
	assert_string_equal(wire_err_name(WIRE_ERR_TCP_CSUM), "tcp_bad_csum");
	assert_string_equal(wire_err_name(1), "unknown");
	assert_string_equal(wire_err_name(-WIRE_ERR_COUNT), "unknown");
	assert_string_equal(wire_err_name(-1000), "unknown");
	/* Every code named, snake_case, and no two alike. */
	for (int e = 0; e > -WIRE_ERR_COUNT; e--) {
		const char *n = wire_err_name(e);
		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		assert_true(n[0] != '\0');
		for (const char *c = n; *c; c++)
			assert_true(islower((unsigned char)*c) || *c == '_');
		for (int f = 0; f > e; f--)
			assert_string_not_equal(n, wire_err_name(f));
	}
}

/* Every header length 20..60 with random contents: a header whose
 * checksum (set by csum_partial) is right parses, and any single bit
 * flipped after the first byte fails the checksum (or, in total_len, the
 * length check). */
static void test_checksum_every_ihl(void **state)
{
	(void)state;
	uint32_t x = 99;
	uint8_t b[60];
	for (size_t ihl = 20; ihl <= 60; ihl += 4) {
		for (int round = 0; round < 8; round++) {
			for (size_t i = 0; i < ihl; i++)
				b[i] = (uint8_t)((x = x * 1103515245 + 12345) >> 16);
			b[0] = (uint8_t)(0x40 | ihl / 4);
			wr16(b + 2, (uint16_t)ihl);
			wr16(b + 6, 0);
			wr32(b + 12, 0xc6120001);
			ip_fix_csum(b);
			ipv4_hdr h;
			assert_int_equal(parse(b, ihl, &h), WIRE_OK);
			assert_int_equal(h.ihl, ihl);
			for (size_t i = 1; i < ihl; i++) {
				for (int bit = 0; bit < 8; bit++) {
					b[i] ^= (uint8_t)(1 << bit);
					int err = parse(b, ihl, &h);
					if (i == 2 || i == 3)
						assert_true(err == WIRE_ERR_IP_CSUM ||
							    err == WIRE_ERR_TOTLEN);
					else
						assert_int_equal(err, WIRE_ERR_IP_CSUM);
					b[i] ^= (uint8_t)(1 << bit);
				}
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_header),
		cmocka_unit_test(test_short_version_ihl),
		cmocka_unit_test(test_total_length),
		cmocka_unit_test(test_checksum_and_options),
		cmocka_unit_test(test_checksum_every_ihl),
		cmocka_unit_test(test_source_address),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_err_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
