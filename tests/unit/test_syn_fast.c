/*
 * The dedicated path of a SYN answered with a cookie (listen.c,
 * syn_cookie_fast) and its two shortcuts in the wire layer must change
 * nothing but the cost:
 *  - tcp_syn_opts_mss takes no option layout the general parser refuses,
 *    and reads the MSS it reads (every one- and two-byte change of Linux's
 *    SYN layout and of MSS alone, and random option spaces); nor does
 *    tcp_opts_fast (the TCP input's), which reads what it reads;
 *  - tcp_sum_ok says what csum_partial says (random segments, right and
 *    wrong sums), and tcp_sum_field writes the field csum_partial gives;
 *    so do the IPv4 header's check and the TCP header's sum, and the
 *    short fold is the long one;
 *  - tcp_emit, which writes timestamps alone itself, writes the options
 *    tcp_opts_write writes;
 *  - a stack whose SYNs all take the general path (tcp_stack.syn_fast_off)
 *    and one that uses the dedicated path, fed the same random flood
 *    (good SYNs; SYNs with odd options, bad sums, data, other flags,
 *    mangled headers; retransmitted SYNs; ACKs with cookies; accepts,
 *    time passing), send the same bytes, trace the same events and count
 *    the same counters, traced or not, with TCP_MAXSEG and IP_TOS on the
 *    listener or without;
 *  - a request's SYN-ACK, written by synack_fast (listen.c) without
 *    seg_send, is seg_send's, byte for byte (IPv4 and IPv6, every option
 *    and configuration; test_requests_same_both_ways);
 *  - a request's third ACK, past req_input's checks by its short way
 *    (req_third_ack), has the outcome the checks give it, and so has every
 *    segment near it (test_request_segments_same_both_ways).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>

#include "stack/stack.h"
#include "trace/trace.h"
#include "wire/ipv6.h"
#include "wire/wire.h"

#define SRV 0xc6120001u                 /* 198.18.0.1 */
#define SEC 1000000000ull

static uint64_t rnd_state;
static uint32_t rnd(void)
{
	/* xorshift64*: the same sequence on every run */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (uint32_t)((rnd_state * 0x2545f4914f6cdd1dull) >> 32);
}

static const uint8_t linux_syn_opts[20] = { 2, 4, 5, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4,
					    0, 0, 0, 0, 1, 3, 3, 7 };

/* Whatever the fast reader takes, the general parser takes, with its MSS. */
static unsigned check_layout(const uint8_t *p, size_t len)
{
	int mss = tcp_syn_opts_mss(p, len);
	if (mss < 0)
		return 0;
	tcp_opts o;
	assert_int_equal(tcp_opts_parse_all(p, len, &o), WIRE_OK);
	assert_int_equal(o.mss, mss);
	tcp_opts o2;
	assert_int_equal(tcp_opts_parse(p, len, &o2), WIRE_OK);
	assert_int_equal(o2.mss, mss);
	return 1;
}

/* Whatever tcp_opts_fast takes, the general parser takes, to the same. */
static unsigned check_fast(const uint8_t *p, size_t len)
{
	tcp_opts f, a;
	memset(&f, 0x5a, sizeof(f));    /* every field it leaves is seen */
	if (!tcp_opts_fast(p, len, &f))
		return 0;
	assert_int_equal(tcp_opts_parse_all(p, len, &a), WIRE_OK);
	assert_int_equal(f.mss, a.mss);
	assert_int_equal(f.wscale, a.wscale);
	assert_int_equal(f.sack_ok, a.sack_ok);
	assert_int_equal(f.has_ts, a.has_ts);
	assert_int_equal(f.ts_val, a.ts_val);
	assert_int_equal(f.ts_ecr, a.ts_ecr);
	assert_int_equal(f.nsack, a.nsack);
	assert_int_equal(f.has_fo, a.has_fo);
	assert_int_equal(f.fo_len, a.fo_len);
	assert_ptr_equal(f.fo_cookie, a.fo_cookie);
	return 1;
}

static void test_opts_fast_is_parse_all(void **state)
{
	(void)state;
	static const uint8_t ts[12] = { 1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t p[40];
	unsigned taken = 0;
	for (size_t i = 0; i < 20; i++)
		for (unsigned v = 0; v < 256; v++) {
			memcpy(p, linux_syn_opts, 20);
			p[i] = (uint8_t)v;
			taken += check_fast(p, 20);
			if (i < 12) {
				memcpy(p, ts, 12);
				p[i] = (uint8_t)v;
				taken += check_fast(p, 12);
			}
		}
	rnd_state = 0xfa57;
	for (int n = 0; n < 200000; n++) {
		size_t len = rnd() % 41;
		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)rnd();
		taken += check_fast(p, len);
	}
	for (size_t len = 0; len <= 20; len++)
		taken += check_fast(linux_syn_opts, len);
	assert_true(check_fast(ts, 12) && check_fast(linux_syn_opts, 20) && check_fast(p, 0));
	assert_true(taken > 1000);
}

static void test_opts_fast_never_wider(void **state)
{
	(void)state;
	uint8_t p[40];
	unsigned taken = 0, tried = 0;
	/* every change of one byte, and of two bytes in the first 8, of the
	 * Linux layout; every change of one or two bytes of MSS alone */
	for (size_t i = 0; i < 20; i++)
		for (unsigned v = 0; v < 256; v++) {
			memcpy(p, linux_syn_opts, 20);
			p[i] = (uint8_t)v;
			taken += check_layout(p, 20);
			tried++;
			for (size_t j = i + 1; j < 8; j++)
				for (unsigned w = 0; w < 256; w += 3) {
					p[j] = (uint8_t)w;
					taken += check_layout(p, 20);
					tried++;
					p[j] = linux_syn_opts[j];
				}
		}
	for (unsigned v = 0; v < 65536; v++) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
		p[2] = 0;
		p[3] = 0;
		taken += check_layout(p, 4);
		p[0] = 2;
		p[1] = 4;
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
		taken += check_layout(p, 4);
		tried += 2;
	}
	/* random option spaces of every length, and the layout cut short */
	rnd_state = 0x5eed;
	for (int n = 0; n < 200000; n++) {
		size_t len = rnd() % 41;
		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)rnd();
		if (len >= 4 && (rnd() & 1)) {
			p[0] = 2;
			p[1] = 4;
		}
		taken += check_layout(p, len);
		tried++;
	}
	for (size_t len = 0; len <= 20; len++)
		taken += check_layout(linux_syn_opts, len);
	/* the fast reader did take the layouts it is for */
	assert_int_equal(tcp_syn_opts_mss(linux_syn_opts, 20), 1460);
	assert_int_equal(tcp_syn_opts_mss(linux_syn_opts, 4), 1460);
	assert_int_equal(tcp_syn_opts_mss(linux_syn_opts, 0), 0);
	assert_true(taken > 1000 && taken < tried);
}

static void test_sums_are_csum_partials(void **state)
{
	(void)state;
	uint8_t seg[160];
	rnd_state = 0xc5a;
	unsigned good = 0;
	for (int n = 0; n < 200000; n++) {
		size_t len = 20 + rnd() % 141;  /* both sides of TCP_SUM_SHORT */
		for (size_t i = 0; i < len; i++)
			seg[i] = (uint8_t)rnd();
		if (n & 1)      /* many all-zero and all-one words */
			memset(seg + rnd() % (len / 2), (rnd() & 1) ? 0xff : 0, len / 2);
		uint32_t psum = csum_pseudo(rnd(), rnd(), IP_PROTO_TCP, 0);
		/* the emitted field, bit for bit */
		uint8_t f[2] = { seg[16], seg[17] };
		wr16(seg + 16, 0);
		assert_int_equal(tcp_sum_field(seg, len, psum),
				 csum_fold(csum_partial(seg, len, psum + (uint32_t)len)));
		seg[16] = f[0];
		seg[17] = f[1];
		if (n % 3 == 0) {       /* a right sum, and then maybe one bit off */
			wr16(seg + 16, 0);
			wr16(seg + 16, csum_fold(csum_partial(seg, len, psum + (uint32_t)len)));
			if (n % 2)
				seg[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
		}
		bool want = csum_fold(csum_partial(seg, len, psum + (uint32_t)len)) == 0;
		assert_int_equal(tcp_sum_ok(seg, len, psum), want);
		good += want;
	}
	assert_true(good > 10000);
}

/* The inline sums' pieces (wire.h): sum_fold64 is the fold 32, 16, 16,
 * 16 bits at a time; the IPv4 header check (hdr_sum_ok, two 8-byte words
 * and 4 bytes for the usual header) and the TCP header's sum
 * (tcp_hdr_sum) say what csum_partial says, for every header length. */
static uint32_t fold_long(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

static void test_folds_and_header_sums(void **state)
{
	(void)state;
	static const uint64_t edge[] = {
		0, 1, 0xfffe, 0xffff, 0x10000, 0x1fffe, 0xffffffffu, 0x100000000ull,
		0xffff0000ffffull, 0xfffffffffffeull, 0xffffffff00000000ull,
		0xfffffffffffffffeull, 0xffffffffffffffffull, 0x8000000080000000ull,
	};
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		assert_int_equal(sum_fold64(edge[i]), fold_long(edge[i]));
	rnd_state = 0xf01d;
	for (int n = 0; n < 200000; n++) {
		uint64_t v = (uint64_t)rnd() << 32 | rnd();
		if (n & 1)      /* many carries: halves near all ones */
			v |= (n & 2) ? 0xffff0000ffff0000ull : 0x0000ffff0000ffffull;
		assert_int_equal(sum_fold64(v), fold_long(v));
	}
	uint8_t h[60];
	unsigned good = 0;
	for (int n = 0; n < 200000; n++) {
		size_t len = (n & 3) ? IPV4_HDR_LEN : 4 * (5 + rnd() % 11);
		for (size_t i = 0; i < len; i++)
			h[i] = (uint8_t)rnd();
		if (n & 4)
			memset(h + rnd() % (len / 2), (rnd() & 1) ? 0xff : 0, len / 2);
		if (n % 3 == 0) {       /* a right sum, and then maybe one bit off */
			wr16(h + 10, 0);
			wr16(h + 10, csum_fold(csum_partial(h, len, 0)));
			if (n % 2)
				h[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
		}
		bool want = csum_fold(csum_partial(h, len, 0)) == 0;
		assert_int_equal(hdr_sum_ok(h, len), want);
		good += want;
		uint32_t ps = rnd() & 0x3ffff;
		assert_int_equal(csum_fold(tcp_hdr_sum(h, len, ps)),
				 csum_fold(csum_partial(h, len, ps)));
	}
	assert_true(good > 10000);
	/* sum_all_ones (the receive checks' test) is the fold's all ones for
	 * any sum but 0, which no check hands it: multiples of 0xffff among
	 * the edges and drawn (true), and their neighbours (false) */
	for (size_t i = 1; i < sizeof(edge) / sizeof(edge[0]); i++)
		assert_int_equal(sum_all_ones(edge[i]), fold_long(edge[i]) == 0xffff);
	unsigned ones = 0;
	for (int n = 0; n < 200000; n++) {
		uint64_t v = ((uint64_t)rnd() << 32 | rnd()) % (UINT64_MAX / 0xffff) * 0xffff;
		v += (uint64_t)(n % 3) - 1;     /* v - 1, v, v + 1 */
		if (!v)
			continue;
		assert_int_equal(sum_all_ones(v), fold_long(v) == 0xffff);
		ones += sum_all_ones(v);
	}
	assert_true(ones > 60000);
}

/* The TCP input's sums start from the pseudo-header's in host-order
 * words (csum_pseudo_native, csum_pseudo6_native: no fold, no swap):
 * tcp_parse_fuse_inline says what csum_partial over the pseudo-header and
 * the segment says, for IPv4 and IPv6 pseudo-headers (addresses drawn,
 * all zeros and all ones, and IPv6 sums just below 2^64: the end-around
 * carries), segments
 * short (summed inline), medium (csum_partial) and long (the header's sum
 * handed back, hsum), right sums and one bit off. */
static void test_input_sums_from_native_pseudo_headers(void **state)
{
	(void)state;
	uint8_t seg[200], a[16], b[16];
	rnd_state = 0x9a7e;
	unsigned good = 0, bad = 0, longs = 0;
	for (int n = 0; n < 200000; n++) {
		bool v6 = n & 1;
		for (int i = 0; i < 16; i++) {
			a[i] = (uint8_t)rnd();
			b[i] = (uint8_t)rnd();
		}
		if (n % 5 == 1) {
			memset(a, 0xff, 16);
			memset(b, 0xff, 16);
		} else if (n % 5 == 3) {
			memset(a, 0, 16);
			memset(b, (n & 2) ? 0xff : 0, 16);
		}
		size_t len = (n & 2) ? 20 + 4 * (rnd() % 27) : 20 + rnd() % 180;
		if (v6 && n % 5 == 4) {
			/* the pseudo-header's sum a little below 2^64: the
			 * segment's first words carry out of it */
			uint64_t w0 = UINT64_MAX - csum_native(IP_PROTO_TCP + len) - rnd() % 0x10000;
			memset(a, 0, 16);
			memset(b, 0, 16);
			memcpy(a, &w0, 8);
		}
		for (size_t i = 0; i < len; i++)
			seg[i] = (uint8_t)rnd();
		if (n & 4) {    /* many all-zero and all-one words */
			size_t at = rnd() % len;
			memset(seg + at, (rnd() & 1) ? 0xff : 0, (len - at) / 2 + 1);
		}
		seg[12] = 5 << 4;                       /* no options */
		seg[13] = HSK_TH_ACK;
		uint32_t psum = v6 ? csum_pseudo6(a, b, IP_PROTO_TCP, (uint32_t)len) :
				     csum_pseudo(rd32(a), rd32(b), IP_PROTO_TCP, (uint16_t)len);
		uint64_t ns = v6 ? csum_pseudo6_native(a, b, IP_PROTO_TCP, (uint32_t)len) :
				   csum_pseudo_native(rd32(a), rd32(b), IP_PROTO_TCP, (uint32_t)len);
		assert_int_equal(csum_fold(csum_of_native(ns)), csum_fold(psum));
		if (n % 3) {            /* a right sum, and then maybe one bit off */
			wr16(seg + 16, 0);
			wr16(seg + 16, csum_fold(csum_partial(seg, len, psum)));
			size_t at = rnd() % (len - 2);  /* not the data offset, flags */
			if (n % 3 == 2)
				seg[at < 12 ? at : at + 2] ^= (uint8_t)(1u << (rnd() % 8));
		}
		bool want = csum_fold(csum_partial(seg, len, psum)) == 0;
		tcp_hdr h;
		const uint8_t *data = NULL;
		size_t plen = 0;
		uint32_t hsum = 0;
		int err = tcp_parse_fuse_inline(seg, len, ns, 128, &h, &data, &plen, &hsum);
		if (err == 1) {         /* long: the payload's sum is the caller's */
			longs++;
			assert_true(plen >= 128);
			err = csum_fold(csum_partial(data, plen, hsum)) ? WIRE_ERR_TCP_CSUM : WIRE_OK;
		}
		assert_int_equal(err, want ? WIRE_OK : WIRE_ERR_TCP_CSUM);
		good += want;
		bad += !want;
	}
	assert_true(good > 50000 && bad > 50000 && longs > 10000);
}

/* tcp_emit writes timestamps alone itself: the bytes tcp_opts_write
 * writes, for every mix of options. */
static void test_emit_options_are_opts_write(void **state)
{
	(void)state;
	rnd_state = 0xe1;
	unsigned ts_alone = 0;
	for (int n = 0; n < 20000; n++) {
		uint8_t seg[128], want[64];
		uint8_t cookie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
		tcp_hdr th = { .sport = 1, .dport = 2, .seq = rnd(), .ack = rnd(),
			       .flags = HSK_TH_ACK, .win = 100 };
		th.opt.mss = (uint16_t)(rnd() % 4 ? 0 : 1 + rnd() % 9000);
		th.opt.wscale = (int8_t)(rnd() % 4 ? -1 : (int)(rnd() % 15));
		th.opt.sack_ok = rnd() % 4 == 0;
		th.opt.has_ts = rnd() % 4 != 0;
		th.opt.ts_val = rnd();
		th.opt.ts_ecr = rnd();
		th.opt.nsack = (uint8_t)(rnd() % 4 ? 0 : 1 + rnd() % 4);
		for (int i = 0; i < th.opt.nsack; i++)
			th.opt.sack[i] = (tcp_sack_block){ rnd(), rnd() };
		if (rnd() % 8 == 0) {
			th.opt.has_fo = true;
			th.opt.fo_len = sizeof(cookie);
			th.opt.fo_cookie = cookie;
		}
		int len = tcp_emit(&th, NULL, 0, 0xc6130001u, SRV, seg, sizeof(seg));
		size_t olen = tcp_opts_write(&th.opt, want);
		assert_int_equal(len, TCP_HDR_LEN + olen);
		assert_int_equal(olen, tcp_opts_len(&th.opt));
		assert_memory_equal(seg + TCP_HDR_LEN, want, olen);
		ts_alone += olen == 12 && th.opt.has_ts;
	}
	assert_true(ts_alone > 1000);
}

/* ---- the dedicated path against the general one ---- */

typedef struct run {
	hsk_stack *s;
	uint8_t *tx;
	size_t tx_len, tx_cap;
	char *trace;
	size_t trace_len;
	FILE *tf;
	int l;
	/* the last SYN-ACKs sent, to answer with ACKs */
	struct { uint32_t src, seq, ack; uint16_t sport; } synack[16];
	unsigned nsynack;
} run;

static void on_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	run *r = ctx;
	if (r->tx_len + len + 4 > r->tx_cap) {
		r->tx_cap = (r->tx_cap + len + 4) * 2;
		r->tx = realloc(r->tx, r->tx_cap);
		assert_non_null(r->tx);
	}
	wr32(r->tx + r->tx_len, (uint32_t)len);
	memcpy(r->tx + r->tx_len + 4, pkt, len);
	r->tx_len += len + 4;
	size_t ihl = (size_t)(pkt[0] & 15) * 4;
	if (len >= ihl + 20 && pkt[ihl + 13] == (HSK_TH_SYN | HSK_TH_ACK)) {
		unsigned i = r->nsynack++ % 16;
		r->synack[i].src = rd32(pkt + 16);
		r->synack[i].sport = rd16(pkt + ihl + 2);
		r->synack[i].seq = rd32(pkt + ihl + 4);
		r->synack[i].ack = rd32(pkt + ihl + 8);
	}
}

static void on_trace(void *ctx, const hsk_trace_event *ev)
{
	run *r = ctx;
	trace_json_line(r->tf, "s", ev);
}

/* r zeroed with its trace's stream open; cfg the server's defaults. */
static void run_init(run *r, hsk_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->tf = open_memstream(&r->trace, &r->trace_len);
	assert_non_null(r->tf);
	hsk_config_default(cfg);
	cfg->addr = SRV;
}

static void run_open(run *r, bool traced, bool fast, bool opts, uint64_t now)
{
	hsk_config cfg;
	run_init(r, &cfg);
	cfg.seed = 7;
	cfg.syncookies = true;
	if (traced) {
		cfg.trace = on_trace;
		cfg.trace_ctx = r;
	}
	hsk_link link = { r, on_tx };
	r->s = hsk_stack_new(&cfg, &link, now);
	assert_non_null(r->s);
	r->s->tcp.syn_fast_off = !fast;
	r->l = hsk_socket(r->s);
	assert_true(r->l >= 0);
	if (opts) {
		assert_int_equal(hsk_setsockopt(r->s, r->l, HSK_TCP_MAXSEG, 1000), 0);
		assert_int_equal(hsk_setsockopt(r->s, r->l, HSK_IP_TOS, 0x28), 0);
	}
	assert_int_equal(hsk_bind(r->s, r->l, 0, 80), 0);
	assert_int_equal(hsk_listen(r->s, r->l, 4), 0);
}

static size_t ip_wrap(uint8_t *pkt, uint32_t src, size_t tcp_len, uint8_t tos)
{
	ipv4_hdr ih = { .tos = tos, .total_len = (uint16_t)(IPV4_HDR_LEN + tcp_len), .ttl = 64,
			.proto = IP_PROTO_TCP, .src = src, .dst = SRV };
	assert_int_equal(ipv4_emit(&ih, pkt, IPV4_HDR_LEN), IPV4_HDR_LEN);
	return IPV4_HDR_LEN + tcp_len;
}

/* One random segment of the flood, built from the fast run's view (both
 * runs must have sent the same, which the caller checks as it goes). */
static size_t craft(uint8_t *pkt, const run *seen)
{
	uint32_t src = 0xc6130000u + rnd() % 48;       /* 198.19.0.x */
	uint16_t sport = (uint16_t)(30000 + rnd() % 4);
	uint32_t isn = rnd() % 8 ? rnd() : 1000;
	uint8_t *t = pkt + IPV4_HDR_LEN;
	tcp_hdr th = { .sport = sport, .dport = 80, .seq = isn, .flags = HSK_TH_SYN,
		       .win = 64240 };
	th.opt.mss = 1460;
	th.opt.wscale = 7;
	th.opt.sack_ok = true;
	th.opt.has_ts = true;
	th.opt.ts_val = isn;
	uint8_t data[16] = "0123456789abcdef";
	size_t dlen = 0;
	uint32_t k = rnd() % 100;
	if (k < 8 && seen->nsynack) {
		/* the ACK of a cookie SYN-ACK (sometimes a wrong one) */
		unsigned i = rnd() % (seen->nsynack < 16 ? seen->nsynack : 16);
		th.sport = seen->synack[i].sport;
		src = seen->synack[i].src;
		th.seq = seen->synack[i].ack;
		th.ack = seen->synack[i].seq + 1 + (rnd() % 4 == 0);
		th.flags = HSK_TH_ACK;
		th.opt = (tcp_opts){ .wscale = -1 };
	} else if (k < 14) {
		th.opt.mss = (uint16_t)(rnd() % 3 ? rnd() % 2000 : 0);
		th.opt.sack_ok = rnd() & 1;
		th.opt.has_ts = rnd() & 1;
		th.opt.wscale = (int8_t)(rnd() % 3 ? -1 : 14);
	} else if (k < 20) {
		static const uint8_t fl[] = {
			HSK_TH_SYN | HSK_TH_FIN, HSK_TH_SYN | HSK_TH_RST, HSK_TH_SYN | HSK_TH_ACK,
			HSK_TH_SYN | HSK_TH_ECE | HSK_TH_CWR, HSK_TH_SYN | HSK_TH_PSH | HSK_TH_URG,
			HSK_TH_RST, 0,
		};
		th.flags = fl[rnd() % sizeof(fl)];
	} else if (k < 24) {
		dlen = 1 + rnd() % 16;          /* a SYN with data */
	} else if (k < 27) {
		th.dport = 81;                  /* no listener */
	}
	int n = tcp_emit(&th, data, dlen, src, SRV, t, 128);
	assert_true(n > 0);
	size_t len = ip_wrap(pkt, src, (size_t)n, (uint8_t)(rnd() % 8 ? 0 : rnd() % 4));
	k = rnd() % 100;
	if (k < 6) {
		/* one option byte changed, its checksum made right again */
		if (n > 20)
			t[20 + rnd() % (size_t)(n - 20)] = (uint8_t)rnd();
		wr16(t + 16, 0);
		wr16(t + 16, csum_fold(csum_partial(t, (size_t)n,
						    csum_pseudo(src, SRV, IP_PROTO_TCP,
								(uint16_t)n))));
	} else if (k < 9) {
		t[rnd() % (size_t)n] ^= (uint8_t)(1u << rnd() % 8);    /* a bad sum */
	} else if (k < 11) {
		t[12] = (uint8_t)((rnd() % 16) << 4);                   /* data offset */
	} else if (k < 13) {
		pkt[rnd() % IPV4_HDR_LEN] ^= (uint8_t)(1u << rnd() % 8); /* IP header */
	} else if (k < 15 && len > IPV4_HDR_LEN + 21) {
		len -= 1 + rnd() % 3;                                   /* cut short */
	}
	return len;
}

static void compare(const run *a, const run *b)
{
	assert_int_equal(a->tx_len, b->tx_len);
	assert_memory_equal(a->tx, b->tx, a->tx_len);
	fflush(a->tf);
	fflush(b->tf);
	assert_int_equal(a->trace_len, b->trace_len);
	if (a->trace_len)
		assert_memory_equal(a->trace, b->trace, a->trace_len);
	for (size_t i = 0; i < hsk_counter_count(); i++)
		if (hsk_counter_get(a->s, i) != hsk_counter_get(b->s, i))
			fail_msg("counter %s: %llu != %llu", hsk_counter_name(i),
				 (unsigned long long)hsk_counter_get(a->s, i),
				 (unsigned long long)hsk_counter_get(b->s, i));
	hsk_usage ua, ub;
	hsk_stack_usage(a->s, &ua);
	hsk_stack_usage(b->s, &ub);
	assert_memory_equal(&ua, &ub, sizeof(ua));
}

static void run_close(run *r)
{
	hsk_stack_free(r->s);
	fclose(r->tf);
	free(r->trace);
	free(r->tx);
}

static void flood_both_ways(bool traced, bool opts)
{
	run fast, slow;
	uint64_t now = 10 * SEC;
	run_open(&fast, traced, true, opts, now);
	run_open(&slow, traced, false, opts, now);
	rnd_state = 0xf100d + traced * 2 + opts;
	bool armed = false;
	for (int n = 0; n < 6000; n++) {
		uint8_t pkt[256];
		size_t len = craft(pkt, &fast);
		hsk_stack_input(fast.s, now, pkt, len);
		hsk_stack_input(slow.s, now, pkt, len);
		armed |= fast.s->ip.upper.input == tcp_input4;
		/* the general path never hands over */
		assert_true(slow.s->ip.upper.input == tcp_input);
		uint32_t k = rnd() % 100;
		if (k < 3) {
			hsk_tuple peer;
			int a = hsk_accept(fast.s, fast.l, &peer);
			assert_int_equal(hsk_accept(slow.s, slow.l, &peer), a);
		} else if (k < 5) {
			now += (uint64_t)(rnd() % 20) * SEC;   /* requests expire */
			hsk_stack_advance(fast.s, now);
			hsk_stack_advance(slow.s, now);
		}
		if (n % 500 == 0)
			compare(&fast, &slow);
	}
	compare(&fast, &slow);
	/* the flood did take the dedicated path */
	assert_true(armed);
	assert_true(hsk_counter_by_name(fast.s, "SyncookiesSent") > 1000);
	assert_true(hsk_counter_by_name(fast.s, "SyncookiesRecv") > 10);
	run_close(&fast);
	run_close(&slow);
}

static void test_flood_same_both_ways(void **state)
{
	(void)state;
	flood_both_ways(false, false);
}

static void test_flood_same_both_ways_traced(void **state)
{
	(void)state;
	flood_both_ways(true, false);
}

static void test_flood_same_both_ways_listener_opts(void **state)
{
	(void)state;
	flood_both_ways(true, true);
	flood_both_ways(false, true);
}

/* The wire fuzzer's corpus (tests/fuzz/corpus/fuzz_wire: IPv4 packets
 * and bare TCP segments, odd ones mostly) through both readers, and into
 * both stacks as IPv4 packets addressed to the listener: as they are, and
 * made into SYNs with both checksums right, so that they reach the
 * dedicated path's checks. */
static void fix_sums(uint8_t *pkt, size_t len)
{
	size_t ihl = (size_t)(pkt[0] & 15) * 4;
	if (ihl < IPV4_HDR_LEN || ihl + TCP_HDR_LEN > len)
		return;
	wr16(pkt + 2, (uint16_t)len);
	wr16(pkt + 10, 0);
	wr16(pkt + 10, csum_fold(csum_partial(pkt, ihl, 0)));
	uint8_t *t = pkt + ihl;
	size_t n = len - ihl;
	wr16(t + 16, 0);
	wr16(t + 16, csum_fold(csum_partial(t, n, csum_pseudo(rd32(pkt + 12), rd32(pkt + 16),
							      IP_PROTO_TCP, (uint16_t)n))));
}

static void test_fuzz_corpus_both_ways(void **state)
{
	(void)state;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	char *cut = strstr(dir, "tests/unit/test_syn_fast.c");
	assert_non_null(cut);
	strcpy(cut, "tests/fuzz/corpus/fuzz_wire");
	DIR *d = opendir(dir);
	assert_non_null(d);
	run fast, slow;
	uint64_t now = 10 * SEC;
	run_open(&fast, true, true, false, now);
	run_open(&slow, true, false, false, now);
	rnd_state = 0xc0;
	for (int i = 0; i < 6; i++) {   /* the SYN queue full, a cookie sent */
		uint8_t pkt[256];
		uint8_t *t = pkt + IPV4_HDR_LEN;
		tcp_hdr th = { .sport = (uint16_t)(1000 + i), .dport = 80, .seq = rnd(),
			       .flags = HSK_TH_SYN, .win = 1000, .opt = { .wscale = -1 } };
		int n = tcp_emit(&th, NULL, 0, 0xc6130001u, SRV, t, 128);
		size_t len = ip_wrap(pkt, 0xc6130001u, (size_t)n, 0);
		hsk_stack_input(fast.s, now, pkt, len);
		hsk_stack_input(slow.s, now, pkt, len);
	}
	assert_true(fast.s->ip.upper.input == tcp_input4);
	unsigned files = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		uint8_t in[2048], pkt[2048];
		size_t len = fread(in, 1, sizeof(in), f);
		fclose(f);
		files++;
		/* its option space, read as a TCP header's and an IPv4 packet's */
		for (size_t off = 0; off <= IPV4_HDR_LEN; off += IPV4_HDR_LEN) {
			if (len < off + TCP_HDR_LEN)
				continue;
			size_t doff = (size_t)(in[off + 12] >> 4) * 4;
			if (doff >= TCP_HDR_LEN && off + doff <= len) {
				check_layout(in + off + TCP_HDR_LEN, doff - TCP_HDR_LEN);
				check_fast(in + off + TCP_HDR_LEN, doff - TCP_HDR_LEN);
			}
		}
		/* into both stacks: as it is, then as a SYN to us from a
		 * peer, with the sums right */
		hsk_stack_input(fast.s, now, in, len);
		hsk_stack_input(slow.s, now, in, len);
		if (len < IPV4_HDR_LEN + TCP_HDR_LEN)
			continue;
		memcpy(pkt, in, len);
		pkt[0] = (uint8_t)(0x40 | (pkt[0] & 15));
		wr16(pkt + 6, 0);               /* no fragment */
		pkt[9] = IP_PROTO_TCP;
		wr32(pkt + 12, 0xc6130000u + files % 200);
		wr32(pkt + 16, SRV);
		size_t ihl = (size_t)(pkt[0] & 15) * 4;
		if (ihl < IPV4_HDR_LEN || ihl + TCP_HDR_LEN > len)
			continue;
		wr16(pkt + ihl + 2, 80);
		pkt[ihl + 13] = HSK_TH_SYN;
		fix_sums(pkt, len);
		hsk_stack_input(fast.s, now, pkt, len);
		hsk_stack_input(slow.s, now, pkt, len);
	}
	closedir(d);
	compare(&fast, &slow);
	assert_true(files >= 20);
	assert_true(hsk_counter_by_name(fast.s, "SyncookiesSent") > 10);
	run_close(&fast);
	run_close(&slow);
}

/* ---- A request's SYN-ACK (listen.c, synack_fast) ----
 * Two stacks alike but for tcp_stack.conn_long (which sends every
 * request's SYN-ACK by seg_send), each a dual-stack listener with room
 * for every request, untraced (traced, both take seg_send), fed the same
 * random SYNs over IPv4 and IPv6 (every option present or not, asking
 * for ECN or not, for a Fast Open cookie or not), SYNs again, ACKs and
 * data that complete requests, resets, accepts and time passing (the
 * SYN-ACK's retransmissions, the requests' expiry), under configurations
 * without SACK, timestamps or window scaling, with ECN and Fast Open on,
 * with TCP_MAXSEG and IP_TOS on the listener: the same bytes, counters and
 * usage. */
static const uint8_t srv6[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 1 };

static void req_open(run *r, bool fast, unsigned variant, uint64_t now)
{
	hsk_config cfg;
	run_init(r, &cfg);
	cfg.seed = 11 + variant;
	cfg.sack = !(variant & 1);
	cfg.timestamps = !(variant & 2);
	cfg.window_scaling = !(variant & 4);
	if (variant & 8) {
		cfg.ecn = 1;
		cfg.tcp_fastopen |= HSK_TFO_SERVER | HSK_TFO_SERVER_ALL;
	}
	hsk_link link = { r, on_tx };
	r->s = hsk_stack_new(&cfg, &link, now);
	assert_non_null(r->s);
	r->s->tcp.conn_long = !fast;
	hsk_addr a6 = hsk_addr_v6(srv6);
	assert_int_equal(hsk_stack_add_addr(r->s, &a6, 64), 0);
	r->l = hsk_socket_family(r->s, HSK_AF_INET6);
	assert_true(r->l >= 0);
	if (variant & 16) {
		assert_int_equal(hsk_setsockopt(r->s, r->l, HSK_TCP_MAXSEG, 1000), 0);
		assert_int_equal(hsk_setsockopt(r->s, r->l, HSK_IP_TOS, 0x28), 0);
	}
	static const uint8_t any[16];
	hsk_addr a = hsk_addr_v6(any);
	assert_int_equal(hsk_bind_addr(r->s, r->l, &a, 80), 0);
	assert_int_equal(hsk_listen(r->s, r->l, 512), 0);
}

/* The two stacks (fast takes the short ways, slow, conn_long, not) and
 * the random numbers' start. */
static void req_open_both(run *fast, run *slow, unsigned variant, uint64_t now, uint64_t seed)
{
	req_open(fast, true, variant, now);
	req_open(slow, false, variant, now);
	rnd_state = seed + variant;
}

/* The peers of the flood: address (IPv4, or IPv6 in the server's /64),
 * port, ISN, and the ISS of the last SYN-ACK it was sent. */
typedef struct peer {
	bool v6;
	uint8_t host;
	uint16_t sport;
	uint32_t isn, iss;
} peer;

static size_t peer_pkt(uint8_t *pkt, const peer *pe, const tcp_hdr *th, const uint8_t *data,
		       size_t dlen)
{
	if (!pe->v6) {
		uint32_t src = 0xc6130000u + pe->host;
		int n = tcp_emit(th, data, dlen, src, SRV, pkt + IPV4_HDR_LEN, 128);
		assert_true(n > 0);
		return ip_wrap(pkt, src, (size_t)n, 0);
	}
	ipv6_hdr h = { .next = IP_PROTO_TCP, .hop_limit = 64 };
	memcpy(h.src, srv6, 16);
	h.src[15] = (uint8_t)(2 + pe->host);
	memcpy(h.dst, srv6, 16);
	int n = tcp_emit_ps(th, data, dlen, csum_pseudo6(h.src, h.dst, IP_PROTO_TCP, 0),
			    pkt + IPV6_HDR_LEN, 128);
	assert_true(n > 0);
	h.payload_len = (uint16_t)n;
	assert_int_equal(ipv6_emit(&h, pkt, IPV6_HDR_LEN), IPV6_HDR_LEN);
	return IPV6_HDR_LEN + (size_t)n;
}

/* The last packet r sent, if a SYN-ACK: its sequence number. */
static bool last_synack(const run *r, size_t from, uint32_t *seq)
{
	if (r->tx_len == from)
		return false;
	const uint8_t *pkt = r->tx + from + 4;
	size_t hl = (pkt[0] >> 4) == 6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	if ((pkt[hl + 13] & (HSK_TH_SYN | HSK_TH_ACK)) != (HSK_TH_SYN | HSK_TH_ACK))
		return false;
	*seq = rd32(pkt + hl + 4);
	return true;
}

/* Both stacks accept a connection, or both have none; one accepted is
 * closed at once. Returns whether there was one. */
static bool accept_close_both(run *a, run *b)
{
	hsk_tuple tu;
	int sd = hsk_accept(a->s, a->l, &tu);
	assert_int_equal(hsk_accept(b->s, b->l, &tu), sd);
	if (sd < 0)
		return false;
	assert_int_equal(hsk_close(a->s, sd), 0);
	assert_int_equal(hsk_close(b->s, sd), 0);
	return true;
}

static void requests_both_ways(unsigned variant)
{
	run fast, slow;
	uint64_t now = 10 * SEC;
	req_open_both(&fast, &slow, variant, now, 0x5a);
	static peer peers[64];
	unsigned npeers = 0, synacks = 0;
	for (int n = 0; n < 3000; n++) {
		uint8_t pkt[256], data[16] = "0123456789abcdef";
		size_t dlen = 0;
		uint32_t k = rnd() % 100;
		peer *pe;
		tcp_hdr th = { .dport = 80, .win = (uint16_t)(1000 + rnd() % 64000),
			       .opt = { .wscale = -1 } };
		if (k < 45 || !npeers) {
			/* a new peer's SYN, its options each there or not */
			pe = &peers[npeers++ % 64];
			*pe = (peer){ .v6 = rnd() & 1, .host = (uint8_t)(rnd() % 200),
				      .sport = (uint16_t)(1024 + rnd() % 60000), .isn = rnd() };
			th.flags = HSK_TH_SYN;
			if (rnd() % 4 == 0)
				th.flags |= HSK_TH_ECE | HSK_TH_CWR;
			if (rnd() % 8)
				th.opt.mss = (uint16_t)(rnd() % 4 ? 1460 : rnd() % 2000);
			th.opt.sack_ok = rnd() & 1;
			th.opt.has_ts = rnd() % 4 != 0;
			th.opt.ts_val = rnd();
			if (rnd() % 4)
				th.opt.wscale = (int8_t)(rnd() % 16);
			if (rnd() % 6 == 0)
				th.opt.has_fo = true;   /* asks for a cookie */
		} else {
			pe = &peers[rnd() % (npeers < 64 ? npeers : 64)];
			th.ack = pe->iss + 1;
			if (k < 55) {
				th.flags = HSK_TH_SYN;  /* again (or another ISN) */
				th.opt.mss = 1460;
				if (rnd() % 4 == 0)
					pe->isn = rnd();
				th.ack = 0;
			} else if (k < 80) {
				th.flags = HSK_TH_ACK;
				th.seq = pe->isn + 1;
				if (rnd() & 1)
					dlen = 1 + rnd() % 16;
			} else if (k < 84) {
				th.flags = HSK_TH_RST;
				th.seq = pe->isn + 1;
			} else if (k < 90) {
				accept_close_both(&fast, &slow);
				continue;
			} else {
				now += (uint64_t)(rnd() % 4000) * (SEC / 1000);
				hsk_stack_advance(fast.s, now);
				hsk_stack_advance(slow.s, now);
				continue;
			}
		}
		th.sport = pe->sport;
		if (th.flags == HSK_TH_SYN)
			th.seq = pe->isn;
		size_t len = peer_pkt(pkt, pe, &th, data, dlen), from = fast.tx_len;
		hsk_stack_input(fast.s, now, pkt, len);
		hsk_stack_input(slow.s, now, pkt, len);
		if (last_synack(&fast, from, &pe->iss))
			synacks++;
		if (n % 250 == 0)
			compare(&fast, &slow);
	}
	compare(&fast, &slow);
	/* requests were made, SYN-ACKs sent and handshakes completed */
	assert_true(synacks > 500);
	assert_true(hsk_counter_by_name(fast.s, "PassiveOpens") > 50);
	run_close(&fast);
	run_close(&slow);
}

static void test_requests_same_both_ways(void **state)
{
	(void)state;
	for (unsigned v = 0; v < 32; v++)
		requests_both_ways(v);
}

/* ---- A request's segments (listen.c, req_input's third ACK) ----
 * The same two stacks fed SYNs that make requests, then segments for
 * them whose flags, sequence and acknowledgment numbers are the third
 * ACK's or near it: ACK with or without FIN, PSH and data, or with SYN or
 * RST as well, or none of them; SEQ at RCV.NXT, one before or after, or
 * anywhere; ACK at our ISS + 1, one before or after, or anywhere. The
 * short way of req_input (req_third_ack) takes the third ACK past the
 * checks; the general one (conn_long) checks it: the same bytes, counters
 * and usage. */
static void request_segments_both_ways(unsigned variant)
{
	run fast, slow;
	uint64_t now = 10 * SEC;
	req_open_both(&fast, &slow, variant, now, 0x3c);
	static const uint8_t flags[] = {
		HSK_TH_ACK, HSK_TH_ACK, HSK_TH_ACK, HSK_TH_ACK | HSK_TH_PSH,
		HSK_TH_ACK | HSK_TH_FIN, HSK_TH_ACK | HSK_TH_SYN, HSK_TH_ACK | HSK_TH_RST,
		HSK_TH_SYN, HSK_TH_RST, HSK_TH_FIN, 0,
	};
	static const int32_t near[] = { 0, 0, 0, 0, -1, 1, 2 };
	static peer peers[64];
	unsigned npeers = 0, promoted = 0;
	for (int n = 0; n < 3000; n++) {
		uint8_t pkt[256], data[16] = "0123456789abcdef";
		size_t dlen = 0;
		peer *pe;
		tcp_hdr th = { .dport = 80, .win = (uint16_t)(1000 + rnd() % 64000),
			       .opt = { .wscale = -1 } };
		uint32_t k = rnd() % 100;
		if (k < 40 || !npeers) {
			pe = &peers[npeers++ % 64];
			*pe = (peer){ .v6 = rnd() & 1, .host = (uint8_t)(rnd() % 200),
				      .sport = (uint16_t)(1024 + rnd() % 60000), .isn = rnd() };
			th.flags = HSK_TH_SYN;
			th.seq = pe->isn;
			th.opt.mss = 1460;
			th.opt.has_ts = rnd() & 1;
			th.opt.ts_val = rnd();
		} else if (k < 95) {
			pe = &peers[rnd() % (npeers < 64 ? npeers : 64)];
			th.flags = flags[rnd() % sizeof(flags)];
			uint32_t ds = rnd() % 8, da = rnd() % 8;
			th.seq = pe->isn + 1 + (ds < 7 ? (uint32_t)near[ds] : rnd());
			th.ack = pe->iss + 1 + (da < 7 ? (uint32_t)near[da] : rnd());
			th.opt.has_ts = rnd() & 1;
			th.opt.ts_val = rnd();
			if (rnd() % 3 == 0)
				dlen = 1 + rnd() % 16;
		} else {
			promoted += accept_close_both(&fast, &slow);
			continue;
		}
		th.sport = pe->sport;
		size_t len = peer_pkt(pkt, pe, &th, data, dlen), from = fast.tx_len;
		hsk_stack_input(fast.s, now, pkt, len);
		hsk_stack_input(slow.s, now, pkt, len);
		if (th.flags == HSK_TH_SYN)
			last_synack(&fast, from, &pe->iss);
		if (n % 100 == 0)
			compare(&fast, &slow);
	}
	compare(&fast, &slow);
	/* handshakes completed, and segments refused by the checks: resets
	 * taken, SYNs challenged, bad ACKs reset */
	static const char *const refused[] = { "EmbryonicRsts", "TCPSYNChallenge", "OutRsts" };
	assert_true(promoted > 50);
	for (size_t i = 0; i < 3; i++)
		assert_true(hsk_counter_by_name(fast.s, refused[i]) > 5);
	run_close(&fast);
	run_close(&slow);
}

static void test_request_segments_same_both_ways(void **state)
{
	(void)state;
	for (unsigned v = 0; v < 32; v += 5)
		request_segments_both_ways(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_fast_never_wider),
		cmocka_unit_test(test_opts_fast_is_parse_all),
		cmocka_unit_test(test_sums_are_csum_partials),
		cmocka_unit_test(test_folds_and_header_sums),
		cmocka_unit_test(test_input_sums_from_native_pseudo_headers),
		cmocka_unit_test(test_emit_options_are_opts_write),
		cmocka_unit_test(test_flood_same_both_ways),
		cmocka_unit_test(test_flood_same_both_ways_traced),
		cmocka_unit_test(test_flood_same_both_ways_listener_opts),
		cmocka_unit_test(test_fuzz_corpus_both_ways),
		cmocka_unit_test(test_requests_same_both_ways),
		cmocka_unit_test(test_request_segments_same_both_ways),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
