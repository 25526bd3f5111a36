/*
 * The SYN-ACK a listener sends from its SYN queue (listen.c, req_send)
 * carries exactly the options the SYN asked for, whatever the bytes the
 * stack's memory held before: req_send builds its segment in a local
 * seg_out it zeroes itself (in two pieces), and a piece cut short leaves
 * options (SACK-permitted, timestamps, a Fast Open cookie, SACK blocks)
 * from whatever ran there before. In a test's run those bytes happen to be
 * zero; here the stack below the call is filled with 0xff first. Untraced
 * the SYN-ACK is written by synack_fast (no seg_out); traced, by that
 * seg_out and seg_send: both ways are run. So is the request's bare ACK
 * to a segment out of its window, which takes the seg_out untraced too.
 * And connect's SYN, whose options the same test reads exactly: untraced
 * it is written as words (output.c, syn_fast), traced by a seg_out.
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

static void no_trace(void *ctx, const hsk_trace_event *ev)
{
	(void)ctx;
	(void)ev;
}

/* th from the peer to the stack, sent with the stack dirtied below the
 * call. */
static void peer_sends(hsk_stack *s, const tcp_hdr *th, uint64_t now)
{
	uint8_t seg[100], pkt[200];
	int n = tcp_emit(th, NULL, 0, PEER, US, seg, sizeof(seg));
	ipv4_hdr ih = { .total_len = (uint16_t)(20 + n), .id = 1, .ttl = 64,
			.proto = IP_PROTO_TCP, .src = PEER, .dst = US };
	assert_true(n > 0);
	assert_int_equal(ipv4_emit(&ih, pkt, 20), 20);
	memcpy(pkt + 20, seg, (size_t)n);

	assert_int_equal(dirty_stack(), 16 * 0xff);
	hsk_stack_input(s, now, pkt, 20 + (size_t)n);
}

/* The stack's configuration: the defaults, our address, seed 7, traced
 * (to nothing) or not. */
static void config_for(hsk_config *cfg, bool traced)
{
	hsk_config_default(cfg);
	cfg->addr = US;
	cfg->seed = 7;
	if (traced)
		cfg->trace = no_trace;
}

/* A stack of configuration cfg at 1 s, its packets captured in c. */
static hsk_stack *stack_for(pkt_cap *c, const hsk_config *cfg)
{
	hsk_link link = { .ctx = c, .transmit = pkt_capture };

	memset(c, 0, sizeof(*c));
	hsk_stack *s = hsk_stack_new(cfg, &link, 1000 * MS);
	assert_non_null(s);
	return s;
}

/* A listener on port 80 answers the peer's SYN (options `opt`); returns
 * the SYN-ACK, or with `then` the request's answer to that segment from
 * the peer next. */
static tcp_hdr synack_for(pkt_cap *c, const tcp_opts *opt, uint16_t *our_mss, bool traced,
			  const tcp_hdr *then)
{
	hsk_config cfg;
	size_t dlen;

	config_for(&cfg, traced);
	*our_mss = (uint16_t)(cfg.mtu - 40);
	hsk_stack *s = stack_for(c, &cfg);
	int sd = hsk_socket(s);
	assert_int_equal(hsk_bind(s, sd, 0, 80), 0);
	assert_int_equal(hsk_listen(s, sd, 16), 0);

	tcp_hdr th = { .sport = 40000, .dport = 80, .seq = PEER_ISS, .flags = HSK_TH_SYN,
		       .win = 65535, .opt = *opt };
	peer_sends(s, &th, 1001 * MS);
	assert_int_equal(c->n, 1);
	tcp_hdr h = seg_at(c, 0, &dlen);
	assert_int_equal(h.flags, HSK_TH_SYN | HSK_TH_ACK);
	assert_int_equal(h.ack, PEER_ISS + 1);
	assert_int_equal(dlen, 0);
	assert_int_equal(hsk_counter_by_name(s, "SyncookiesSent"), 0);   /* the SYN queue's */
	if (then) {
		peer_sends(s, then, 1002 * MS);
		assert_int_equal(c->n, 2);
		h = seg_at(c, 1, &dlen);
		assert_int_equal(dlen, 0);
	}
	hsk_stack_free(s);
	return h;
}

/* h's header length and options: the MSS (0: none), a window scale
 * (any) or none, SACK-permitted, timestamps; never a SACK block or Fast
 * Open. */
static void expect_opts(const tcp_hdr *h, unsigned doff, uint16_t mss, bool wscale, bool sack,
			bool ts)
{
	assert_int_equal(h->doff, doff);
	assert_int_equal(h->opt.mss, mss);
	if (wscale)
		assert_in_range(h->opt.wscale, 0, 14);
	else
		assert_int_equal(h->opt.wscale, -1);
	assert_int_equal(h->opt.sack_ok, sack);
	assert_int_equal(h->opt.has_ts, ts);
	assert_int_equal(h->opt.nsack, 0);
	assert_false(h->opt.has_fo);
}

/* A SYN with no option: the SYN-ACK says MSS and nothing else. */
static void test_synack_bare(void **state)
{
	pkt_cap *c = malloc(sizeof(*c));
	uint16_t mss;
	(void)state;

	assert_non_null(c);
	for (int traced = 0; traced < 2; traced++) {
		tcp_opts o = { .wscale = -1 };
		tcp_hdr h = synack_for(c, &o, &mss, traced, NULL);
		expect_opts(&h, 24, mss, false, false, false);
	}
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
	for (int traced = 0; traced < 2; traced++) {
		tcp_opts o = { .mss = 1460, .wscale = 7, .sack_ok = true, .has_ts = true,
			       .ts_val = PEER_TSVAL };
		tcp_hdr h = synack_for(c, &o, &mss, traced, NULL);
		/* MSS 4, SACK-permitted 2 + timestamps 10, window scale 3 + NOP */
		expect_opts(&h, 40, mss, true, true, true);
		assert_int_equal(h.opt.ts_ecr, PEER_TSVAL);
	}
	free(c);
}

/* A segment out of the request's window is answered with a bare ACK
 * (req_send's seg_out, untraced too): no SYN option on it, timestamps
 * only when the SYN had them. */
static void test_request_ack(void **state)
{
	pkt_cap *c = malloc(sizeof(*c));
	uint16_t mss;
	(void)state;

	assert_non_null(c);
	for (int ts = 0; ts < 2; ts++) {
		tcp_opts o = { .wscale = -1, .has_ts = ts, .ts_val = PEER_TSVAL };
		tcp_hdr oow = { .sport = 40000, .dport = 80, .seq = PEER_ISS + 1 + 200000,
				.ack = 1, .flags = HSK_TH_ACK, .win = 65535,
				.opt = { .wscale = -1, .has_ts = ts, .ts_val = PEER_TSVAL + 1 } };
		tcp_hdr h = synack_for(c, &o, &mss, false, &oow);
		assert_int_equal(h.flags, HSK_TH_ACK);
		assert_int_equal(h.ack, PEER_ISS + 1);
		expect_opts(&h, ts ? 32 : 20, 0, false, false, ts);
	}
	free(c);
}

/* Connect's SYN to the peer from a stack of configuration (sack, ts,
 * ws), traced or not, with TCP_MAXSEG and IP_TOS when not 0: its header,
 * its options' bytes (opt, 20 at most) and the IP header's TOS byte. */
static tcp_hdr syn_for(pkt_cap *c, bool sack, bool ts, bool ws, bool traced, int maxseg,
		       int tos, uint8_t opt[20], uint8_t *ip_tos)
{
	hsk_config cfg;
	size_t dlen;

	config_for(&cfg, traced);
	cfg.sack = sack;
	cfg.timestamps = ts;
	cfg.window_scaling = ws;
	hsk_stack *s = stack_for(c, &cfg);
	int sd = hsk_socket(s);
	if (maxseg)
		assert_int_equal(hsk_setsockopt(s, sd, HSK_TCP_MAXSEG, maxseg), 0);
	if (tos)
		assert_int_equal(hsk_setsockopt(s, sd, HSK_IP_TOS, tos), 0);
	assert_int_equal(hsk_connect(s, sd, PEER, 80), -HSK_EINPROGRESS);
	assert_int_equal(c->n, 1);
	tcp_hdr h = seg_at(c, 0, &dlen);
	assert_int_equal(dlen, 0);
	assert_true(h.doff >= 20 && h.doff <= 40);
	memcpy(opt, c->pkt[0] + 40, h.doff - 20u);
	*ip_tos = c->pkt[0][1];
	hsk_abort(s, sd);
	hsk_stack_free(s);
	return h;
}

/* Connect's SYN offers what the configuration allows, laid out as Linux
 * lays it out: MSS; SACK-permitted and timestamps, or two NOPs and
 * either; a NOP and the window scale (the shift the 256 KiB receive
 * buffer needs, 3). The MSS is the link's, or TCP_MAXSEG's; the TOS byte
 * IP_TOS's; the window field 65535 (a SYN's is never scaled); no ACK
 * field. The same bytes traced and untraced, under each of the eight
 * option sets. */
static void test_syn_bytes(void **state)
{
	pkt_cap *c = malloc(sizeof(*c));
	(void)state;

	assert_non_null(c);
	for (int k = 0; k < 10; k++) {
		bool sack = k & 1, ts = k & 2, ws = k & 4;
		int maxseg = k >= 8 ? 1000 : 0, tos = k == 9 ? 0x28 : 0;
		uint8_t want[20], n = 0;
		uint16_t mss = maxseg ? (uint16_t)maxseg : 1460;
		uint8_t mss_opt[4] = { 2, 4, (uint8_t)(mss >> 8), (uint8_t)mss };
		memcpy(want, mss_opt, 4);
		n = 4;
		if (sack && ts) {
			want[n++] = 4, want[n++] = 2;
		} else if (sack || ts) {
			want[n++] = 1, want[n++] = 1;
			if (sack)
				want[n++] = 4, want[n++] = 2;
		}
		if (ts)
			want[n++] = 8, want[n++] = 10, n += 8;  /* TSval, TSecr: below */
		if (ws)
			want[n++] = 1, want[n++] = 3, want[n++] = 3, want[n++] = 7;
		for (int traced = 0; traced < 2; traced++) {
			uint8_t opt[20], ip_tos;
			tcp_hdr h = syn_for(c, sack, ts, ws, traced, maxseg, tos, opt, &ip_tos);
			assert_int_equal(h.flags, HSK_TH_SYN);
			assert_int_equal(h.ack, 0);
			assert_int_equal(h.win, 65535);
			assert_int_equal(ip_tos, tos);
			assert_int_equal(h.doff, 20 + n);
			assert_int_equal(h.opt.mss, mss);
			assert_int_equal(h.opt.sack_ok, sack);
			assert_int_equal(h.opt.has_ts, ts);
			/* (the scale of rcvbuf_max, 6 MiB, which autotuning
			 * may reach: docs/bytestream.md) */
			assert_int_equal(h.opt.wscale, ws ? 7 : -1);
			assert_int_equal(h.opt.nsack, 0);
			assert_false(h.opt.has_fo);
			if (ts) {
				assert_int_equal(h.opt.ts_ecr, 0);
				/* TSval (as read) and TSecr at 8: after the MSS
				 * and SACK-permitted or two NOPs */
				for (int i = 0; i < 4; i++) {
					want[8 + i] = (uint8_t)(h.opt.ts_val >> (24 - 8 * i));
					want[12 + i] = 0;
				}
			}
			assert_memory_equal(opt, want, n);
		}
	}
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synack_bare),
		cmocka_unit_test(test_synack_full),
		cmocka_unit_test(test_request_ack),
		cmocka_unit_test(test_syn_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
