/*
 * The SYN-ACK a listener sends from its SYN queue (listen.c, req_send)
 * carries exactly the options the SYN asked for, whatever the bytes the
 * stack's memory held before: req_send builds its segment in a local
 * seg_out it zeroes itself (in two pieces), and a piece cut short leaves
 * options (SACK-permitted, timestamps, a Fast Open cookie, SACK blocks)
 * from whatever ran there before. In a test's run those bytes happen to be
 * zero; here the stack below the call is filled with 0xff first.
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
#define PEER_ISS 5000u
#define PEER_TSVAL 777u

/* Fills 64 KiB of the stack below the caller with 0xff (what the next
 * calls' frames then find there), and uses it so that it stays. */
static __attribute__((noinline)) unsigned dirty_stack(void)
{
	volatile uint8_t junk[64 * 1024];
	unsigned sum = 0;

	memset((uint8_t *)junk, 0xff, sizeof(junk));
	for (size_t i = 0; i < sizeof(junk); i += 4096)
		sum += junk[i];
	return sum;
}

/* The TCP header and payload length of captured packet i. */
static tcp_hdr seg_at(const pkt_cap *c, int i, size_t *dlen)
{
	const uint8_t *p, *data;
	size_t plen;
	ipv4_hdr ih;
	tcp_hdr h;

	assert_true(i < c->n && i < CAP_MAX);
	assert_int_equal(ipv4_parse(c->pkt[i], c->len[i], &ih, &p, &plen), WIRE_OK);
	assert_int_equal(tcp_parse(p, plen, ih.src, ih.dst, true, &h, &data, dlen), WIRE_OK);
	return h;
}

/* A listener on port 80 answers the peer's SYN (options `opt`), sent
 * with the stack dirtied below the call; returns the SYN-ACK. */
static tcp_hdr synack_for(pkt_cap *c, const tcp_opts *opt, uint16_t *our_mss)
{
	hsk_config cfg;
	hsk_link link = { .ctx = c, .transmit = pkt_capture };
	size_t dlen;

	hsk_config_default(&cfg);
	cfg.addr = US;
	cfg.seed = 7;
	*our_mss = (uint16_t)(cfg.mtu - 40);
	memset(c, 0, sizeof(*c));
	hsk_stack *s = hsk_stack_new(&cfg, &link, 1000 * MS);
	assert_non_null(s);
	int sd = hsk_socket(s);
	assert_int_equal(hsk_bind(s, sd, 0, 80), 0);
	assert_int_equal(hsk_listen(s, sd, 16), 0);

	tcp_hdr th = { .sport = 40000, .dport = 80, .seq = PEER_ISS, .flags = HSK_TH_SYN,
		       .win = 65535, .opt = *opt };
	uint8_t seg[100], pkt[200];
	int n = tcp_emit(&th, NULL, 0, PEER, US, seg, sizeof(seg));
	ipv4_hdr ih = { .total_len = (uint16_t)(20 + n), .id = 1, .ttl = 64,
			.proto = IP_PROTO_TCP, .src = PEER, .dst = US };
	assert_true(n > 0);
	assert_int_equal(ipv4_emit(&ih, pkt, 20), 20);
	memcpy(pkt + 20, seg, (size_t)n);

	assert_int_equal(dirty_stack(), 16 * 0xff);
	hsk_stack_input(s, 1001 * MS, pkt, 20 + (size_t)n);
	assert_int_equal(c->n, 1);
	tcp_hdr h = seg_at(c, 0, &dlen);
	assert_int_equal(h.flags, HSK_TH_SYN | HSK_TH_ACK);
	assert_int_equal(h.ack, PEER_ISS + 1);
	assert_int_equal(dlen, 0);
	assert_int_equal(hsk_counter_by_name(s, "SyncookiesSent"), 0);   /* the SYN queue's */
	hsk_stack_free(s);
	return h;
}

/* A SYN with no option: the SYN-ACK says MSS and nothing else. */
static void test_synack_bare(void **state)
{
	pkt_cap *c = malloc(sizeof(*c));
	uint16_t mss;
	(void)state;

	assert_non_null(c);
	tcp_opts o = { .wscale = -1 };
	tcp_hdr h = synack_for(c, &o, &mss);
	assert_int_equal(h.doff, 24);
	assert_int_equal(h.opt.mss, mss);
	assert_int_equal(h.opt.wscale, -1);
	assert_false(h.opt.sack_ok);
	assert_false(h.opt.has_ts);
	assert_int_equal(h.opt.nsack, 0);
	assert_false(h.opt.has_fo);
	free(c);
}

/* A SYN with MSS, window scale, SACK-permitted and timestamps: the
 * SYN-ACK answers each, echoes the peer's TSval, and adds nothing. */
static void test_synack_full(void **state)
{
	pkt_cap *c = malloc(sizeof(*c));
	uint16_t mss;
	(void)state;

	assert_non_null(c);
	tcp_opts o = { .mss = 1460, .wscale = 7, .sack_ok = true, .has_ts = true,
		       .ts_val = PEER_TSVAL };
	tcp_hdr h = synack_for(c, &o, &mss);
	/* MSS 4, SACK-permitted 2 + timestamps 10, window scale 3 + NOP */
	assert_int_equal(h.doff, 40);
	assert_int_equal(h.opt.mss, mss);
	assert_in_range(h.opt.wscale, 0, 14);
	assert_true(h.opt.sack_ok);
	assert_true(h.opt.has_ts);
	assert_int_equal(h.opt.ts_ecr, PEER_TSVAL);
	assert_int_equal(h.opt.nsack, 0);
	assert_false(h.opt.has_fo);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synack_bare),
		cmocka_unit_test(test_synack_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
