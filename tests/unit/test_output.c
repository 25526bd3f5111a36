/*
 * The send path writes its segments itself (output.c, seg_send): header
 * words summed as they are stored, timestamps-only options written
 * directly, a SYN's options word by word, the payload summed while it is
 * copied. Every segment must be byte for byte what wire's tcp_emit makes
 * of the same header -- with any options, flags, urgent pointer, payload
 * length (from a
 * buffer, or from a send ring across its wrap), over IPv4 and IPv6 -- and
 * must verify. A TCB's segments, built from its extension's template,
 * carry its tuple's ports, addresses and sums.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rand.h"
#include "stack/stack.h"

/* A stack on 198.18.0.1 whose packets go to tx. */
static hsk_stack *output_stack(void (*tx)(void *, const uint8_t *, size_t))
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.addr = 0xc6120001;
	cfg.seed = 1;
	hsk_link link = { .transmit = tx };
	hsk_stack *st = hsk_stack_new(&cfg, &link, 0);
	assert_non_null(st);
	return st;
}

/* A random tuple, and random IPv6 addresses for it. */
static void random_flow(hsk_rng *r, hsk_tuple *tu, tbl_v6addrs *a6)
{
	for (int j = 0; j < 16; j++) {
		a6->l[j] = (uint8_t)rng_next(r);
		a6->r[j] = (uint8_t)rng_next(r);
	}
	*tu = (hsk_tuple){
		.laddr = (uint32_t)rng_next(r), .raddr = (uint32_t)rng_next(r),
		.lport = (uint16_t)rng_next(r), .rport = (uint16_t)rng_next(r),
	};
}

static void drop(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)pkt, (void)len;
}

static void random_opts(hsk_rng *r, tcp_opts *o, uint8_t cookie[16])
{
	tcp_opts_init(o);
	if (rng_below(r, 3) == 0)
		o->mss = (uint16_t)(1 + rng_below(r, 65535));
	if (rng_below(r, 3) == 0)
		o->wscale = (int8_t)rng_below(r, 15);
	o->sack_ok = rng_below(r, 3) == 0;
	if (rng_below(r, 3)) {
		o->has_ts = true;
		o->ts_val = (uint32_t)rng_next(r);
		o->ts_ecr = (uint32_t)rng_next(r);
	}
	if (rng_below(r, 3) == 0) {
		o->nsack = (uint8_t)(1 + rng_below(r, 4));
		for (unsigned i = 0; i < o->nsack; i++) {
			o->sack[i].left = (uint32_t)rng_next(r);
			o->sack[i].right = (uint32_t)rng_next(r);
		}
	}
	if (rng_below(r, 6) == 0) {
		o->has_fo = true;
		o->fo_len = (uint8_t)(rng_below(r, 2) ? 0 : 4 + 2 * rng_below(r, 7));
		for (unsigned i = 0; i < 16; i++)
			cookie[i] = (uint8_t)rng_next(r);
		o->fo_cookie = cookie;
	}
}

static void test_segments_as_tcp_emit(void **state)
{
	(void)state;
	hsk_stack *st = output_stack(drop);
	hsk_rng r;
	rng_seed(&r, 42);
	static uint8_t data[2000], want[IP_TXBUF];
	hsk_ring ring;
	assert_int_equal(ring_init(&ring, 4096), 0);
	unsigned ts_only = 0, none = 0, words = 0, payload = 0, wrapped = 0;
	for (int i = 0; i < 20000; i++) {
		bool v6 = rng_below(&r, 2);
		tbl_v6addrs a6;
		hsk_tuple tu;
		random_flow(&r, &tu, &a6);
		uint8_t cookie[16];
		seg_out o = {
			.flags = (uint8_t)rng_next(&r), .seq = seq_of((uint32_t)rng_next(&r)),
			.ack = seq_of((uint32_t)rng_next(&r)), .win = (uint16_t)rng_next(&r),
		};
		if (o.flags & HSK_TH_URG)
			o.up = (uint16_t)rng_next(&r);  /* (urgent.c's urg_out) */
		random_opts(&r, &o.opt, cookie);
		if (rng_below(&r, 2))
			o.opt = (tcp_opts){ .wscale = (int8_t)(rng_below(&r, 2) ? -1 : 7),
					    .has_ts = rng_below(&r, 4) != 0,
					    .ts_val = (uint32_t)rng_next(&r),
					    .ts_ecr = (uint32_t)rng_next(&r) };
		uint32_t len = rng_below(&r, 3) ? 0 : (uint32_t)rng_below(&r, 1501);
		for (uint32_t j = 0; j < len; j++)
			data[j] = (uint8_t)rng_next(&r);
		bool from_ring = rng_below(&r, 2);
		if (len && from_ring) {
			/* the ring's head somewhere, so that the bytes may wrap */
			uint32_t skip = (uint32_t)rng_below(&r, 4096);
			ring_read(&ring, NULL, ring_len(&ring));
			for (uint32_t left = skip; left;) {
				uint32_t k = ring_write(&ring, data, left < 2000 ? left : 2000);
				ring_read(&ring, NULL, k);
				left -= k;
			}
			uint32_t off = (uint32_t)rng_below(&r, 4096 - len);
			static uint8_t pad[4096];
			ring_write(&ring, pad, off);
			assert_int_equal(ring_write(&ring, data, len), len);
			o.ring_off = off;
			wrapped += (skip % 4096) + off + len > 4096;
		} else {
			o.data = data;
		}
		o.len = len;

		tcp_hdr th = {
			.sport = tu.lport, .dport = tu.rport, .seq = o.seq.v, .ack = o.ack.v,
			.flags = o.flags, .win = o.win, .urp = o.up, .opt = o.opt,
		};
		if (!(o.flags & HSK_TH_SYN))
			th.opt.wscale = -1;
		uint32_t psum = v6 ? csum_pseudo6(a6.l, a6.r, IP_PROTO_TCP, 0) :
				     csum_pseudo(tu.laddr, tu.raddr, IP_PROTO_TCP, 0);
		size_t hl = v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
		int n = tcp_emit_ps(&th, data, len, psum, want, sizeof(want) - hl);
		assert_true(n > 0);
		seg_send(&st->tcp, &tu, v6 ? &a6 : NULL, &o, &ring, HSK_OBJ_NONE, -1);
		if (memcmp(st->ip.txbuf + hl, want, (size_t)n)) {
			for (int j = 0; j < n; j++)
				if (st->ip.txbuf[hl + j] != want[j])
					fail_msg("case %d: byte %d of %d: %02x, tcp_emit %02x", i, j, n,
						 st->ip.txbuf[hl + j], want[j]);
		}
		/* and it verifies (bytes equal to a wrong sum would not) */
		assert_int_equal(csum_fold(csum_partial(st->ip.txbuf + hl, (size_t)n,
							psum + (uint32_t)n)), 0);
		bool plain = !th.opt.mss && !th.opt.sack_ok && !th.opt.nsack && !th.opt.has_fo &&
			     th.opt.wscale < 0;
		ts_only += plain && th.opt.has_ts;
		none += plain && !th.opt.has_ts;
		/* the SYNs' shapes, written word by word (opts_put_other) */
		words += !plain && !th.opt.nsack && !th.opt.has_fo;
		payload += len > 0;
	}
	/* every path was taken, many times */
	assert_true(ts_only > 2000 && none > 1000 && words > 2000 && payload > 5000 &&
		    wrapped > 100);
	ring_destroy(&ring);
	hsk_stack_free(st);
}

static uint8_t captured[IP_TXBUF];
static size_t captured_len;

static void capture(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	memcpy(captured, pkt, len);
	captured_len = len;
}

/* A TCB's segments take the ports, the addresses and the constant parts of
 * the pseudo-header's and the IPv4 header's sums from its extension's
 * template (seg_tpl, filled by tcb_act_new): they must be the TCB's own,
 * also in an extension another TCB of another tuple (or family) had before
 * (the pool's slot again). Each segment is checked against the tuple: the
 * IPv4 header byte for byte as ipv4_emit writes it, the IPv6 addresses,
 * the ports and the TCP checksum. */
static void test_tcb_template(void **state)
{
	(void)state;
	hsk_stack *st = output_stack(capture);
	hsk_rng r;
	rng_seed(&r, 5);
	unsigned reused = 0, fams = 0;
	tcb_act *last = NULL;
	bool last_v6 = false;
	for (int i = 0; i < 4000; i++) {
		bool v6 = rng_below(&r, 2);
		tbl_v6addrs a6;
		hsk_tuple tu;
		random_flow(&r, &tu, &a6);
		tcb *t = tcb_new(&st->tcp, &tu, v6 ? &a6 : NULL);
		assert_non_null(t);
		t->snd_max = seq_of((uint32_t)rng_next(&r));
		t->rcv_nxt = seq_of((uint32_t)rng_next(&r));
		t->tos = (uint8_t)(rng_next(&r) & 0xfc);
		tcb_act *a = tcb_act_get(&st->tcp, t);
		assert_non_null(a);
		reused += a == last;
		fams += a == last && v6 != last_v6;
		last = a;
		last_v6 = v6;
		uint16_t id = st->ip.ip_id;
		captured_len = 0;
		uint16_t win = tcb_send_ack(&st->tcp, t);
		size_t hl = v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
		assert_true(captured_len >= hl + TCP_HDR_LEN);
		if (v6) {
			assert_memory_equal(captured + 8, a6.l, 16);
			assert_memory_equal(captured + 24, a6.r, 16);
		} else {
			ipv4_hdr ih = {
				.tos = t->tos, .total_len = (uint16_t)captured_len, .id = id,
				.frag = IPV4_DF, .ttl = 64, .proto = IP_PROTO_TCP,
				.src = tu.laddr, .dst = tu.raddr,
			};
			uint8_t want[IPV4_HDR_LEN];
			assert_int_equal(ipv4_emit(&ih, want, sizeof(want)), IPV4_HDR_LEN);
			assert_memory_equal(captured, want, IPV4_HDR_LEN);
		}
		uint32_t psum = v6 ? csum_pseudo6(a6.l, a6.r, IP_PROTO_TCP, 0) :
				     csum_pseudo(tu.laddr, tu.raddr, IP_PROTO_TCP, 0);
		tcp_hdr th;
		const uint8_t *pl;
		size_t pll;
		assert_int_equal(tcp_parse_ps(captured + hl, captured_len - hl, psum, true, &th,
					      &pl, &pll), WIRE_OK);
		assert_int_equal(th.sport, tu.lport);
		assert_int_equal(th.dport, tu.rport);
		assert_int_equal(th.seq, t->snd_max.v);
		assert_int_equal(th.ack, t->rcv_nxt.v);
		assert_int_equal(th.win, win);
		tcb_free(&st->tcp, t);
	}
	/* most extensions were another TCB's, some of the other family */
	assert_true(reused > 3000 && fams > 1000);
	hsk_stack_free(st);
}

/* csum_pseudo6 (64-bit words, folded and swapped) against the textbook
 * sum of 16-bit big-endian words, on random and extreme addresses. */
static void test_pseudo6_textbook(void **state)
{
	(void)state;
	hsk_rng r;
	rng_seed(&r, 7);
	for (int i = 0; i < 100000; i++) {
		uint8_t a[16], b[16];
		int fill = (int)rng_below(&r, 4);     /* random, 0xff, 0x00, 0x80 */
		for (int j = 0; j < 16; j++) {
			a[j] = fill == 0 ? (uint8_t)rng_next(&r) : fill == 1 ? 0xff : fill == 2 ? 0 : 0x80;
			b[j] = rng_below(&r, 2) ? (uint8_t)rng_next(&r) : a[j];
		}
		uint8_t proto = (uint8_t)rng_next(&r);
		uint32_t len = (uint32_t)rng_next(&r);
		uint64_t want = proto + (len >> 16) + (len & 0xffff);
		for (int j = 0; j < 16; j += 2)
			want += (uint32_t)(a[j] << 8 | a[j + 1]) + (uint32_t)(b[j] << 8 | b[j + 1]);
		while (want >> 16)
			want = (want & 0xffff) + (want >> 16);
		assert_int_equal(csum_fold(csum_pseudo6(a, b, proto, len)), (uint16_t)~want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segments_as_tcp_emit),
		cmocka_unit_test(test_pseudo6_textbook),
		cmocka_unit_test(test_tcb_template),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
