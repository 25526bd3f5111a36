/* TCP header and options: real Linux segments parsed field by field and
 * re-emitted byte for byte; every malformed case and its error. Buffers are
 * heap copies of exactly the packet's size, so an ASan build catches any read
 * past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "handshake.h"
#include "wire/wire.h"
#include "wire_vectors.h"

enum { CLIENT = 0xc6120002, SERVER = 0xc6120001 }; /* 198.18.0.2, .1 */

struct seg_case {
	const char *name;
	const uint8_t *pkt;
	size_t len;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff, flags;
	uint16_t win, csum;
	uint16_t mss;
	int8_t wscale;
	bool sack_ok, has_ts;
	uint32_t ts_val, ts_ecr;
	const char *data;
	uint8_t nsack;
	tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
};

#define PKT(p) #p, p, sizeof p
static const struct seg_case cases[] = {
	{ PKT(pkt_syn), CLIENT, SERVER, 40000, 8080, 2453112606u, 0, 40,
	  HSK_TH_SYN, 64240, 0x4131, 1460, 10, true, true, 913863700u, 0, "", 0, { { 0, 0 } } },
	{ PKT(pkt_synack), SERVER, CLIENT, 8080, 40000, 3580056142u, 2453112607u,
	  40, HSK_TH_SYN | HSK_TH_ACK, 65160, 0x1d61, 1460, 10, true, true,
	  3729725989u, 913863700u, "", 0, { { 0, 0 } } },
	{ PKT(pkt_ack), CLIENT, SERVER, 40000, 8080, 2453112607u, 3580056143u, 32,
	  HSK_TH_ACK, 63, 0x4a7a, 0, -1, false, true, 913863700u, 3729725989u, "",
	  0, { { 0, 0 } } },
	{ PKT(pkt_data), CLIENT, SERVER, 40000, 8080, 2453112607u, 3580056143u, 32,
	  HSK_TH_PSH | HSK_TH_ACK, 63, 0x619c, 0, -1, false, true, 913863700u,
	  3729725989u, "ping\n", 0, { { 0, 0 } } },
	{ PKT(pkt_data_ack), SERVER, CLIENT, 8080, 40000, 3580056143u, 2453112612u,
	  32, HSK_TH_ACK, 64, 0x4a74, 0, -1, false, true, 3729725989u, 913863700u, "",
	  0, { { 0, 0 } } },
	{ PKT(pkt_fin), SERVER, CLIENT, 8080, 40000, 3580056148u, 2453112612u, 32,
	  HSK_TH_FIN | HSK_TH_ACK, 64, 0x49a4, 0, -1, false, true, 3729726190u,
	  913863701u, "", 0, { { 0, 0 } } },
	{ PKT(pkt_fin2), CLIENT, SERVER, 40000, 8080, 2453112612u, 3580056149u, 32,
	  HSK_TH_FIN | HSK_TH_ACK, 63, 0x48dc, 0, -1, false, true, 913863901u,
	  3729726190u, "", 0, { { 0, 0 } } },
	{ PKT(pkt_last_ack), SERVER, CLIENT, 8080, 40000, 3580056149u, 2453112613u,
	  32, HSK_TH_ACK, 64, 0x48db, 0, -1, false, true, 3729726190u, 913863901u, "",
	  0, { { 0, 0 } } },
	{ PKT(pkt_rst), SERVER, CLIENT, 9, 40003, 0, 3896595748u, 20,
	  HSK_TH_RST | HSK_TH_ACK, 0, 0x49f6, 0, -1, false, false, 0, 0, "", 0, { { 0, 0 } } },
	{ PKT(pkt_synack_nots), SERVER, CLIENT, 8080, 40010, 1797929515u, 1001, 32,
	  HSK_TH_SYN | HSK_TH_ACK, 64240, 0x82cc, 1460, 10, true, false, 0, 0, "",
	  0, { { 0, 0 } } },
	{ PKT(pkt_sack1), SERVER, CLIENT, 8080, 40011, 3719949685u, 5001, 44,
	  HSK_TH_ACK, 64, 0xd14b, 0, -1, false, true, 0xb2be6d5f, 2, "",
	  1, { { 0x13ed, 0x1451 } } },
	{ PKT(pkt_sack3), SERVER, CLIENT, 8080, 40011, 3719949685u, 5001, 60,
	  HSK_TH_ACK, 64, 0x3bff, 0, -1, false, true, 0xb2be6d5f, 2, "",
	  3, { { 0x157d, 0x15e1 }, { 0x14b5, 0x1519 }, { 0x13ed, 0x1451 } } },
	{ PKT(pkt_sack4), SERVER, CLIENT, 8080, 40011, 3719949685u, 5001, 60,
	  HSK_TH_ACK, 64, 0x374f, 0, -1, false, true, 0xb2be6d5f, 2, "",
	  3, { { 0x1645, 0x16a9 }, { 0x157d, 0x15e1 }, { 0x14b5, 0x1519 } } },
};

static void check_case(const struct seg_case *c)
{
	uint8_t *b = dup_bytes(c->pkt, c->len);
	ipv4_hdr ip;
	const uint8_t *seg;
	size_t seg_len;
	assert_int_equal(ipv4_parse(b, c->len, &ip, &seg, &seg_len), WIRE_OK);
	assert_int_equal(ip.proto, IP_PROTO_TCP);
	assert_int_equal(ip.src, c->src);
	assert_int_equal(ip.dst, c->dst);
	assert_int_equal(seg_len, c->len - 20);

	tcp_hdr h;
	const uint8_t *data;
	size_t data_len;
	assert_int_equal(tcp_parse(seg, seg_len, ip.src, ip.dst, true, &h, &data,
				   &data_len), WIRE_OK);
	assert_int_equal(h.sport, c->sport);
	assert_int_equal(h.dport, c->dport);
	assert_int_equal(h.seq, c->seq);
	assert_int_equal(h.ack, c->ack);
	assert_int_equal(h.doff, c->doff);
	assert_int_equal(h.flags, c->flags);
	assert_int_equal(h.win, c->win);
	assert_int_equal(h.csum, c->csum);
	assert_int_equal(h.urp, 0);
	assert_int_equal(h.opt.mss, c->mss);
	assert_int_equal(h.opt.wscale, c->wscale);
	assert_int_equal(h.opt.sack_ok, c->sack_ok);
	assert_int_equal(h.opt.has_ts, c->has_ts);
	assert_int_equal(h.opt.ts_val, c->ts_val);
	assert_int_equal(h.opt.ts_ecr, c->ts_ecr);
	assert_int_equal(h.opt.nsack, c->nsack);
	for (unsigned i = 0; i < c->nsack; i++) {
		assert_int_equal(h.opt.sack[i].left, c->sack[i].left);
		assert_int_equal(h.opt.sack[i].right, c->sack[i].right);
	}
	assert_int_equal(data_len, strlen(c->data));
	assert_memory_equal(data, c->data, data_len);
	assert_ptr_equal(data, seg + c->doff);
	assert_int_equal(tcp_opts_len(&h.opt), c->doff - 20u);

	/* Emit reproduces the kernel's bytes: header, options, checksum. */
	uint8_t *out = malloc(c->len);
	assert_non_null(out);
	memset(out, 0xa5, c->len);
	int n = tcp_emit(&h, data, data_len, ip.src, ip.dst, out + 20, c->len - 20);
	assert_int_equal(n, (int)seg_len);
	assert_int_equal(ipv4_emit(&ip, out, c->len), 20);
	assert_memory_equal(out, c->pkt, c->len);
	/* The same into a buffer with room for any header (the path that
	 * writes the options before it knows their length). */
	uint8_t big[2048];
	assert_true(seg_len <= sizeof big - 60);
	assert_int_equal(tcp_emit(&h, data, data_len, ip.src, ip.dst, big, sizeof big),
			 (int)seg_len);
	assert_memory_equal(big, c->pkt + 20, seg_len);

	/* Without verification a corrupted checksum still parses; with it, not. */
	b[20 + 16] ^= 0x01;
	assert_int_equal(tcp_parse(seg, seg_len, ip.src, ip.dst, true, &h, &data,
				   &data_len), WIRE_ERR_TCP_CSUM);
	assert_int_equal(tcp_parse(seg, seg_len, ip.src, ip.dst, false, &h, &data,
				   &data_len), WIRE_OK);
	/* The pseudo-header counts: the right bytes from the wrong address fail. */
	b[20 + 16] ^= 0x01;
	assert_int_equal(tcp_parse(seg, seg_len, ip.src + 1, ip.dst, true, &h, &data,
				   &data_len), WIRE_ERR_TCP_CSUM);
	free(out);
	free(b);
}

static void test_real_segments(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("%s\n", cases[i].name);
		check_case(&cases[i]);
	}
}

/* A header with the given option bytes (padded with EOL to a multiple of 4),
 * parsed without checksum; returns the error. */
static int parse_opts(const uint8_t *opts, size_t olen, uint8_t flags, tcp_hdr *h)
{
	size_t pad = (olen + 3) & ~(size_t)3;
	size_t len = 20 + pad;
	uint8_t *b = calloc(1, len);
	assert_non_null(b);
	memcpy(b, pkt_ack + 20, 20);
	b[12] = (uint8_t)(len / 4 << 4);
	b[13] = flags;
	if (olen)
		memcpy(b + 20, opts, olen);
	const uint8_t *d;
	size_t dl;
	int err = tcp_parse(b, len, 0, 0, false, h, &d, &dl);
	if (err == WIRE_OK) {
		assert_ptr_equal(d, b + len);
		assert_int_equal(dl, 0);
	}
	free(b);
	return err;
}

#define OPTS(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static void test_short_and_doff(void **state)
{
	(void)state;
	tcp_hdr h;
	const uint8_t *d;
	size_t dl;
	for (size_t n = 0; n < 20; n++) {
		uint8_t *b = dup_bytes(pkt_ack + 20, n);
		assert_int_equal(tcp_parse(b, n, 0, 0, false, &h, &d, &dl), WIRE_ERR_SHORT);
		free(b);
	}
	uint8_t *b = dup_bytes(pkt_ack + 20, 32);
	/* The 12 option bytes are 01 01 08 0a <ts> <ecr>: a data offset of 6 or
	 * 7 words cuts the timestamp option short. */
	static const int want[16] = {
		WIRE_ERR_DOFF, WIRE_ERR_DOFF, WIRE_ERR_DOFF, WIRE_ERR_DOFF,
		WIRE_ERR_DOFF, WIRE_OK, WIRE_ERR_OPTLEN, WIRE_ERR_OPTLEN, WIRE_OK,
		WIRE_ERR_DOFF, WIRE_ERR_DOFF, WIRE_ERR_DOFF, WIRE_ERR_DOFF,
		WIRE_ERR_DOFF, WIRE_ERR_DOFF, WIRE_ERR_DOFF,
	};
	for (int doff = 0; doff < 16; doff++) {
		b[12] = (uint8_t)(doff << 4);
		assert_int_equal(tcp_parse(b, 32, 0, 0, false, &h, &d, &dl), want[doff]);
	}
	/* doff exactly the length: no payload. */
	b[12] = 8 << 4;
	assert_int_equal(tcp_parse(b, 32, 0, 0, false, &h, &d, &dl), WIRE_OK);
	assert_int_equal(dl, 0);
	free(b);
}

static void test_syn_fin(void **state)
{
	(void)state;
	tcp_hdr h;
	assert_int_equal(parse_opts(NULL, 0, HSK_TH_SYN | HSK_TH_FIN, &h), WIRE_ERR_SYN_FIN);
	assert_int_equal(parse_opts(NULL, 0, 0xff, &h), WIRE_ERR_SYN_FIN);
	assert_int_equal(parse_opts(NULL, 0, HSK_TH_FIN | HSK_TH_ACK | HSK_TH_PSH, &h), WIRE_OK);
	assert_int_equal(parse_opts(NULL, 0, HSK_TH_SYN | HSK_TH_ECE | HSK_TH_CWR, &h), WIRE_OK);
	assert_int_equal(h.flags, HSK_TH_SYN | HSK_TH_ECE | HSK_TH_CWR);
}

static void test_option_lengths(void **state)
{
	(void)state;
	tcp_hdr h;
	/* Length 0 and 1, known and unknown kinds. */
	assert_int_equal(parse_opts(OPTS(2, 0, 0, 0), 0, &h), WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(2, 1, 0, 0), 0, &h), WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(99, 0, 0, 0), 0, &h), WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(99, 1, 0, 0), 0, &h), WIRE_ERR_OPTLEN);
	/* Past the end of the option space. */
	assert_int_equal(parse_opts(OPTS(99, 5, 0, 0), 0, &h), WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(1, 1, 8, 10, 0, 0, 0, 0), 0, &h), WIRE_ERR_OPTLEN);
	/* A kind in the last byte with no room for its length. */
	assert_int_equal(parse_opts(OPTS(1, 1, 1, 2), 0, &h), WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(1, 1, 1, 99), 0, &h), WIRE_ERR_OPTLEN);
	/* Wrong length for the kind. */
	assert_int_equal(parse_opts(OPTS(2, 3, 5, 1), 0, &h), WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(2, 5, 5, 180, 0, 0, 0, 0), 0, &h), WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(3, 2, 1, 1), 0, &h), WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(3, 4, 7, 1), 0, &h), WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(4, 3, 0, 1), 0, &h), WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(8, 9, 1, 2, 3, 4, 5, 6, 7, 1, 1, 1), 0, &h),
			 WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(8, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1), 0, &h),
			 WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(5, 2, 1, 1), 0, &h), WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(5, 9, 1, 2, 3, 4, 5, 6, 7, 1, 1, 1), 0, &h),
			 WIRE_ERR_OPTLEN);
	assert_int_equal(parse_opts(OPTS(5, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1), 0, &h),
			 WIRE_ERR_OPTLEN);
	/* MSS of 0. */
	assert_int_equal(parse_opts(OPTS(2, 4, 0, 0), HSK_TH_SYN, &h), WIRE_ERR_MSS_ZERO);
	assert_int_equal(parse_opts(OPTS(2, 4, 0, 1), HSK_TH_SYN, &h), WIRE_OK);
	assert_int_equal(h.opt.mss, 1);
}

static void test_option_parsing(void **state)
{
	(void)state;
	tcp_hdr h;
	/* Empty, all NOP, EOL first with garbage behind it. */
	assert_int_equal(parse_opts(OPTS(1, 1, 1, 1), 0, &h), WIRE_OK);
	assert_int_equal(h.opt.mss, 0);
	assert_int_equal(h.opt.wscale, -1);
	assert_false(h.opt.sack_ok);
	assert_false(h.opt.has_ts);
	assert_int_equal(h.opt.nsack, 0);
	assert_int_equal(parse_opts(OPTS(0, 2, 0, 0, 99, 0), 0, &h), WIRE_OK);
	assert_int_equal(h.opt.mss, 0);
	/* Options after an EOL are not read: MSS 0 there is no error. */
	assert_int_equal(parse_opts(OPTS(2, 4, 2, 0, 0, 2, 4, 0, 0), 0, &h), WIRE_OK);
	assert_int_equal(h.opt.mss, 512);
	/* Unknown kinds (experimental 254, TFO 34, 99) skipped by length,
	 * then known ones in an unusual order. */
	assert_int_equal(parse_opts(OPTS(254, 6, 0xf9, 0x89, 0, 0,
					 3, 3, 14,
					 34, 2,
					 8, 10, 0, 0, 0, 7, 0, 0, 0, 9,
					 4, 2,
					 99, 6, 1, 2, 3, 4,
					 2, 4, 0x23, 0x28), HSK_TH_SYN, &h), WIRE_OK);
	assert_int_equal(h.opt.mss, 9000);
	assert_int_equal(h.opt.wscale, 14);
	assert_true(h.opt.sack_ok);
	assert_true(h.opt.has_ts);
	assert_int_equal(h.opt.ts_val, 7);
	assert_int_equal(h.opt.ts_ecr, 9);
	/* Window scale above 14 is kept for the caller to clamp; above 127 it
	 * is cut to int8_t's range. */
	assert_int_equal(parse_opts(OPTS(3, 3, 15), HSK_TH_SYN, &h), WIRE_OK);
	assert_int_equal(h.opt.wscale, 15);
	assert_int_equal(parse_opts(OPTS(3, 3, 255), HSK_TH_SYN, &h), WIRE_OK);
	assert_int_equal(h.opt.wscale, 127);
	assert_int_equal(parse_opts(OPTS(3, 3, 0), HSK_TH_SYN, &h), WIRE_OK);
	assert_int_equal(h.opt.wscale, 0);
}

static void test_sack_blocks(void **state)
{
	(void)state;
	tcp_hdr h;
	uint8_t o[40] = { 1, 1, 5 };
	for (unsigned n = 1; n <= 4; n++) {
		o[3] = (uint8_t)(2 + 8 * n);
		for (unsigned i = 0; i < n; i++) {
			wr32(o + 4 + 8 * i, 1000u * i + 0xfffff000u);
			wr32(o + 8 + 8 * i, 1000u * i + 0xfffff000u + 500);
		}
		assert_int_equal(parse_opts(o, 4 + 8 * n, HSK_TH_ACK, &h), WIRE_OK);
		assert_int_equal(h.opt.nsack, n);
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(h.opt.sack[i].left, 1000u * i + 0xfffff000u);
			assert_int_equal(h.opt.sack[i].right, 1000u * i + 0xfffff000u + 500);
		}
		/* Non-SYN emit order: NOP NOP SACK, same bytes back. */
		uint8_t out[60];
		int len = tcp_emit(&h, NULL, 0, 1, 2, out, sizeof out);
		assert_int_equal(len, 20 + 4 + 8 * n);
		assert_memory_equal(out + 20, o, 4 + 8 * n);
	}
	/* No whole number of blocks. */
	o[3] = 2 + 8 + 4;
	assert_int_equal(parse_opts(o, 4 + 12, HSK_TH_ACK, &h), WIRE_ERR_OPTLEN);
}

static tcp_hdr base_hdr(uint8_t flags)
{
	tcp_hdr h;
	memset(&h, 0, sizeof h);
	h.sport = 40000;
	h.dport = 8080;
	h.seq = 0x9237871e;
	h.flags = flags;
	h.win = 64240;
	tcp_opts_init(&h.opt);
	return h;
}

static void test_emit_syn_layouts(void **state)
{
	(void)state;
	uint8_t out[80];
	tcp_hdr h = base_hdr(HSK_TH_SYN);
	h.opt.mss = 1460;
	h.opt.sack_ok = true;
	h.opt.has_ts = true;
	h.opt.ts_val = 0x01020304;
	h.opt.ts_ecr = 0;
	h.opt.wscale = 7;
	/* Exactly the 20 bytes a Linux SYN carries. */
	static const uint8_t linux_syn[] = { 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
					     0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
					     0x01, 0x03, 0x03, 0x07 };
	assert_int_equal(tcp_opts_len(&h.opt), 20);
	assert_int_equal(tcp_emit(&h, NULL, 0, CLIENT, SERVER, out, sizeof out), 40);
	assert_int_equal(out[12], 10 << 4);
	assert_memory_equal(out + 20, linux_syn, sizeof linux_syn);

	/* Without timestamps: MSS, NOP NOP SACK_PERM, NOP WSCALE. */
	h.opt.has_ts = false;
	static const uint8_t no_ts[] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02,
					 0x01, 0x03, 0x03, 0x07 };
	assert_int_equal(tcp_emit(&h, NULL, 0, CLIENT, SERVER, out, sizeof out), 32);
	assert_memory_equal(out + 20, no_ts, sizeof no_ts);

	/* Timestamps without SACK_PERM: NOP NOP TS. */
	h.opt.has_ts = true;
	h.opt.sack_ok = false;
	h.opt.wscale = -1;
	static const uint8_t ts_only[] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x08, 0x0a,
					   0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00 };
	assert_int_equal(tcp_emit(&h, NULL, 0, CLIENT, SERVER, out, sizeof out), 36);
	assert_memory_equal(out + 20, ts_only, sizeof ts_only);

	/* Whatever is emitted parses back to the same options. */
	tcp_hdr p;
	const uint8_t *d;
	size_t dl;
	assert_int_equal(tcp_parse(out, 36, CLIENT, SERVER, true, &p, &d, &dl), WIRE_OK);
	assert_int_equal(p.opt.mss, 1460);
	assert_true(p.opt.has_ts);
	assert_int_equal(p.opt.ts_val, 0x01020304);
	assert_false(p.opt.sack_ok);
	assert_int_equal(p.opt.wscale, -1);
}

static void test_emit_sack_fit(void **state)
{
	(void)state;
	uint8_t out[80];
	tcp_hdr h = base_hdr(HSK_TH_ACK);
	h.opt.nsack = 4;
	for (unsigned i = 0; i < 4; i++) {
		h.opt.sack[i].left = 100 * i + 10;
		h.opt.sack[i].right = 100 * i + 20;
	}
	/* Without timestamps all four blocks fit (4 + 32 bytes). */
	assert_int_equal(tcp_opts_len(&h.opt), 36);
	/* With them, three (12 + 4 + 24 = 40), the first ones kept. */
	h.opt.has_ts = true;
	h.opt.ts_val = 5;
	h.opt.ts_ecr = 6;
	assert_int_equal(tcp_opts_len(&h.opt), 40);
	assert_int_equal(tcp_emit(&h, NULL, 0, CLIENT, SERVER, out, sizeof out), 60);
	static const uint8_t want[] = { 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6, 1, 1, 5, 26,
					0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 110, 0, 0, 0, 120,
					0, 0, 0, 210, 0, 0, 0, 220 };
	assert_memory_equal(out + 20, want, sizeof want);
	tcp_hdr p;
	const uint8_t *d;
	size_t dl;
	assert_int_equal(tcp_parse(out, 60, CLIENT, SERVER, true, &p, &d, &dl), WIRE_OK);
	assert_int_equal(p.opt.nsack, 3);
	assert_int_equal(p.opt.sack[2].right, 220);
	/* Four blocks with timestamps: the bytes Linux sent in that case, the
	 * oldest block left off. */
	h.opt.ts_val = 0xb2be6d5f;
	h.opt.ts_ecr = 2;
	static const tcp_sack_block four[] = {
		{ 0x1645, 0x16a9 }, { 0x157d, 0x15e1 }, { 0x14b5, 0x1519 }, { 0x13ed, 0x1451 },
	};
	memcpy(h.opt.sack, four, sizeof four);
	assert_int_equal(tcp_emit(&h, NULL, 0, CLIENT, SERVER, out, sizeof out), 60);
	assert_memory_equal(out + 20, pkt_sack4 + 40, 40);
	/* With MSS and window scale too, two (20 + 4 + 16). */
	h.opt.mss = 1460;
	h.opt.wscale = 7;
	assert_int_equal(tcp_opts_len(&h.opt), 40);
	assert_int_equal(tcp_emit(&h, NULL, 0, CLIENT, SERVER, out, sizeof out), 60);
	assert_int_equal(tcp_parse(out, 60, CLIENT, SERVER, true, &p, &d, &dl), WIRE_OK);
	assert_int_equal(p.opt.nsack, 2);
	/* Fewer blocks than fit are all sent. */
	h.opt.nsack = 1;
	h.opt.sack_ok = true;
	assert_int_equal(tcp_opts_len(&h.opt), 32);
}

static void test_emit_space_and_inplace(void **state)
{
	(void)state;
	tcp_hdr h = base_hdr(HSK_TH_ACK | HSK_TH_PSH);
	h.opt.has_ts = true;
	static const uint8_t data[] = "hello, world";
	uint8_t out[64];
	/* Too small for the header, or for header + payload. */
	assert_int_equal(tcp_emit(&h, data, 12, 1, 2, out, 31), WIRE_ERR_SPACE);
	assert_int_equal(tcp_emit(&h, data, 12, 1, 2, out, 43), WIRE_ERR_SPACE);
	assert_int_equal(tcp_emit(&h, data, 12, 1, 2, out, 44), 44);
	assert_int_equal(tcp_emit(&h, NULL, 0xffff - 31, 1, 2, out, SIZE_MAX), WIRE_ERR_SPACE);
	/* A payload already behind the header is left where it is. */
	uint8_t out2[64];
	memcpy(out2 + 32, data, 12);
	assert_int_equal(tcp_emit(&h, out2 + 32, 12, 1, 2, out2, sizeof out2), 44);
	assert_memory_equal(out, out2, 44);
	tcp_hdr p;
	const uint8_t *d;
	size_t dl;
	assert_int_equal(tcp_parse(out2, 44, 1, 2, true, &p, &d, &dl), WIRE_OK);
	assert_int_equal(dl, 12);
	assert_memory_equal(d, data, 12);
	/* Odd payload lengths checksum correctly (every length 0..63). */
	uint8_t big[20 + 12 + 63];
	uint8_t pay[63];
	for (size_t i = 0; i < sizeof pay; i++)
		pay[i] = (uint8_t)(i * 37 + 1);
	for (size_t n = 0; n <= sizeof pay; n++) {
		int len = tcp_emit(&h, pay, n, CLIENT, SERVER, big, sizeof big);
		assert_int_equal(len, (int)(32 + n));
		assert_int_equal(tcp_parse(big, (size_t)len, CLIENT, SERVER, true, &p, &d, &dl),
				 WIRE_OK);
		assert_int_equal(dl, n);
	}
}

/* tcp_parse_hsum + the payload's sum decides as tcp_parse(verify) does, on
 * every real segment, with one bit flipped anywhere (header or payload),
 * and with the pseudo-header's address wrong; tcp_emit_summed with a
 * payload copied by csum_copy reproduces the kernel's bytes. */
static void test_parse_hsum_and_emit_summed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct seg_case *c = &cases[i];
		uint8_t *b = dup_bytes(c->pkt, c->len);
		uint8_t *seg = b + 20;
		size_t seg_len = c->len - 20;
		tcp_hdr h, h2;
		const uint8_t *d, *d2;
		size_t dl, dl2;
		uint32_t hsum;
		memset(&h, 0, sizeof h);
		memset(&h2, 0, sizeof h2);
		assert_int_equal(tcp_parse_hsum(seg, seg_len, c->src, c->dst, &h, &d, &dl,
						&hsum), WIRE_OK);
		assert_int_equal(tcp_parse(seg, seg_len, c->src, c->dst, true, &h2, &d2,
					   &dl2), WIRE_OK);
		assert_memory_equal(&h, &h2, sizeof h);
		assert_ptr_equal(d, d2);
		assert_int_equal(dl, dl2);
		/* The payload's sum from a copy completes the check. */
		uint8_t copy[1600];
		assert_true(dl <= sizeof copy);
		uint32_t psum = csum_copy(copy, d, dl, 0);
		assert_int_equal(csum_fold(csum_add(hsum, psum)), 0);
		/* Every single-bit flip is caught by one check or the other. */
		for (size_t at = 0; at < seg_len; at++) {
			seg[at] ^= 0x10;
			int want = tcp_parse(seg, seg_len, c->src, c->dst, true, &h2, &d2, &dl2);
			int got = tcp_parse_hsum(seg, seg_len, c->src, c->dst, &h, &d, &dl, &hsum);
			if (got == WIRE_OK)
				got = csum_fold(csum_partial(d, dl, hsum)) ? WIRE_ERR_TCP_CSUM
									   : WIRE_OK;
			assert_int_equal(got, want);
			assert_int_not_equal(got, WIRE_OK);
			seg[at] ^= 0x10;
		}
		assert_int_equal(tcp_parse_hsum(seg, seg_len, c->src + 1, c->dst, &h, &d, &dl,
						&hsum), WIRE_OK);
		assert_int_not_equal(csum_fold(csum_partial(d, dl, hsum)), 0);

		/* Emit with the payload summed while copied into place. */
		assert_int_equal(tcp_parse(seg, seg_len, c->src, c->dst, true, &h, &d, &dl),
				 WIRE_OK);
		uint8_t *out = malloc(seg_len);
		assert_non_null(out);
		memset(out, 0xa5, seg_len);
		psum = csum_copy(out + h.doff, d, dl, 0);
		assert_int_equal(tcp_emit_summed(&h, dl, psum, c->src, c->dst, out, seg_len),
				 (int)seg_len);
		assert_memory_equal(out, seg, seg_len);
		assert_int_equal(tcp_emit_summed(&h, dl, psum, c->src, c->dst, out, seg_len - 1),
				 WIRE_ERR_SPACE);
		free(out);
		free(b);
	}
	/* A bad option with a bad checksum counts as the checksum (as
	 * tcp_parse counts it); with a good checksum, as the option. */
	uint8_t b[24];
	memcpy(b, pkt_ack + 20, 20);
	b[12] = 6 << 4;
	memcpy(b + 20, (const uint8_t[]){ 2, 0, 0, 0 }, 4);
	wr16(b + 16, 0);
	wr16(b + 16, csum_fold(csum_partial(b, 24, csum_pseudo(1, 2, IP_PROTO_TCP, 24))));
	tcp_hdr h;
	const uint8_t *d;
	size_t dl;
	uint32_t hsum;
	assert_int_equal(tcp_parse_hsum(b, 24, 1, 2, &h, &d, &dl, &hsum), WIRE_ERR_OPTLEN);
	assert_int_equal(tcp_parse(b, 24, 1, 2, true, &h, &d, &dl), WIRE_ERR_OPTLEN);
	b[17] ^= 1;
	assert_int_equal(tcp_parse_hsum(b, 24, 1, 2, &h, &d, &dl, &hsum), WIRE_ERR_TCP_CSUM);
	assert_int_equal(tcp_parse(b, 24, 1, 2, true, &h, &d, &dl), WIRE_ERR_TCP_CSUM);
	/* Lengths checked first, and a segment past 64 KiB cannot be checked. */
	assert_int_equal(tcp_parse_hsum(b, 19, 1, 2, &h, &d, &dl, &hsum), WIRE_ERR_SHORT);
	b[12] = 7 << 4;
	assert_int_equal(tcp_parse_hsum(b, 24, 1, 2, &h, &d, &dl, &hsum), WIRE_ERR_DOFF);
	uint8_t *big = calloc(1, 0x10000);
	assert_non_null(big);
	memcpy(big, pkt_ack + 20, 20);
	big[12] = 5 << 4;
	assert_int_equal(tcp_parse_hsum(big, 0x10000, 1, 2, &h, &d, &dl, &hsum),
			 WIRE_ERR_TCP_CSUM);
	free(big);
}

/* The layouts tcp_opts_fast takes without the loop: timestamps alone, and
 * a SYN's MSS, SACK_PERM + TS, NOP WSCALE. */
static const uint8_t lay_ts[12] = { 1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44,
				    0x55, 0x66, 0x77, 0x88 };
static const uint8_t lay_syn[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4,
				     5, 6, 7, 8, 1, 3, 3, 7 };

/* The loop-free layouts give what the general parser gives, for the
 * layouts themselves with random values and after any one byte changes
 * to any value of interest (so every near miss falls back correctly). */
static void test_option_fast_paths(void **state)
{
	(void)state;
	static const uint8_t vals[] = { 0, 1, 2, 3, 4, 5, 7, 8, 10, 11, 12, 14, 20,
					0x7f, 0x80, 0xb4, 0xff };
	const uint8_t *lay[2] = { lay_ts, lay_syn };
	size_t lens[2] = { sizeof lay_ts, sizeof lay_syn };
	uint32_t x = 12345;
	size_t fast_hits = 0;
	for (int l = 0; l < 2; l++) {
		uint8_t b[20];
		for (size_t at = 0; at < lens[l]; at++) {
			for (size_t v = 0; v <= sizeof vals; v++) {
				memcpy(b, lay[l], lens[l]);
				if (v < sizeof vals) {
					b[at] = vals[v];
				} else { /* random values in every value field */
					for (size_t i = 0; i < lens[l]; i++)
						if (lay[l] == lay_ts ? i >= 4 : (i == 2 || i == 3 || i >= 8))
							b[i] = (uint8_t)(x = x * 1103515245 + 12345) ;
				}
				tcp_opts a, g;
				memset(&a, 0x5a, sizeof a);
				memset(&g, 0xa5, sizeof g);
				int ea = tcp_opts_parse(b, lens[l], &a);
				int eg = tcp_opts_parse_all(b, lens[l], &g);
				assert_int_equal(ea, eg);
				if (ea != WIRE_OK)
					continue;
				fast_hits += memcmp(b, lay[l], lens[l]) == 0;
				assert_int_equal(a.mss, g.mss);
				assert_int_equal(a.wscale, g.wscale);
				assert_int_equal(a.sack_ok, g.sack_ok);
				assert_int_equal(a.has_ts, g.has_ts);
				assert_int_equal(a.ts_val, g.ts_val);
				assert_int_equal(a.ts_ecr, g.ts_ecr);
				assert_int_equal(a.nsack, g.nsack);
				for (unsigned i = 0; i < a.nsack; i++) {
					assert_int_equal(a.sack[i].left, g.sack[i].left);
					assert_int_equal(a.sack[i].right, g.sack[i].right);
				}
			}
		}
	}
	assert_true(fast_hits > 0);
	/* what the fast layouts say, field by field */
	tcp_opts o;
	assert_int_equal(tcp_opts_parse(lay_syn, sizeof lay_syn, &o), WIRE_OK);
	assert_int_equal(o.mss, 1460);
	assert_int_equal(o.wscale, 7);
	assert_true(o.sack_ok && o.has_ts);
	assert_int_equal(o.ts_val, 0x01020304);
	assert_int_equal(o.ts_ecr, 0x05060708);
	uint8_t z[20];
	memcpy(z, lay_syn, sizeof z);
	z[2] = z[3] = 0;       /* an MSS of 0 is malformed in any layout */
	assert_int_equal(tcp_opts_parse(z, sizeof z, &o), WIRE_ERR_MSS_ZERO);
	assert_int_equal(tcp_opts_parse(lay_ts, sizeof lay_ts, &o), WIRE_OK);
	assert_true(o.has_ts && !o.sack_ok && o.mss == 0 && o.wscale == -1);
	assert_int_equal(o.ts_val, 0x11223344);
	assert_int_equal(o.ts_ecr, 0x55667788);
}

static uint32_t lcg(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 8;
}

/* Option kinds the random tests draw from more often than others: EOL,
 * NOP (twice as often), each kind the parser knows, and one it does not. */
static const uint8_t opt_kinds[] = { 0, 1, 1, 2, 3, 4, 5, 8, 34, 99 };

/* Both parses of the same option bytes agree: the error (what the input
 * counts a drop as) and, without one, every field a reader may look at. */
static void opts_same(const tcp_opts *a, int ea, const tcp_opts *g, int eg)
{
	assert_int_equal(ea, eg);
	if (ea != WIRE_OK)
		return;
	assert_int_equal(a->mss, g->mss);
	assert_int_equal(a->wscale, g->wscale);
	assert_int_equal(a->sack_ok, g->sack_ok);
	assert_int_equal(a->has_ts, g->has_ts);
	if (g->has_ts) {
		assert_int_equal(a->ts_val, g->ts_val);
		assert_int_equal(a->ts_ecr, g->ts_ecr);
	}
	assert_int_equal(a->nsack, g->nsack);
	for (unsigned i = 0; i < a->nsack; i++) {
		assert_int_equal(a->sack[i].left, g->sack[i].left);
		assert_int_equal(a->sack[i].right, g->sack[i].right);
	}
	assert_int_equal(a->has_fo, g->has_fo);
	if (g->has_fo) {
		assert_int_equal(a->fo_len, g->fo_len);
		assert_ptr_equal(a->fo_cookie, g->fo_cookie);
	}
}

/* Random option bytes (any length to 40, the kinds and lengths of
 * interest more often than others; and the loop-free layouts with a few
 * bytes changed, or with random values) through the short ways and the
 * general loop: tcp_opts_parse (tcp_opts_fast, then the loop) and a whole
 * header's parse (tcp_parse: the TCP input's tcp_parse_rest) give what
 * tcp_opts_parse_all gives, malformed options included, and a SYN's
 * tcp_syn_opts_mss takes only layouts the loop parses to its MSS. */
static void test_option_random_bytes(void **state)
{
	(void)state;
	unsigned fast = 0, bad = 0, good = 0, syn_fast = 0;
	uint32_t x = 20261205;
	for (int i = 0; i < 300000; i++) {
		uint8_t b[TCP_MAX_OPT_LEN];
		size_t len;
		uint32_t shape = lcg(&x) % 4;
		if (shape == 0) {
			len = lcg(&x) % (TCP_MAX_OPT_LEN + 1);
			for (size_t j = 0; j < len; j++) {
				uint32_t r = lcg(&x);
				b[j] = r % 3 == 0 ? opt_kinds[(r >> 4) % sizeof opt_kinds] :
				       r % 3 == 1 ? (uint8_t)((r >> 4) % 20) : (uint8_t)(r >> 4);
			}
		} else {
			const uint8_t *lay = shape == 1 ? lay_ts : lay_syn;
			len = shape == 1 ? sizeof lay_ts : sizeof lay_syn;
			memcpy(b, lay, len);
			uint32_t zeros = lcg(&x);
			for (size_t j = 0; j < len; j++)   /* random values, or 0 */
				if (lay == lay_ts ? j >= 4 : (j == 2 || j == 3 || (j >= 8 && j < 16) || j == 19))
					b[j] = zeros % 8 == 0 ? 0 : (uint8_t)lcg(&x);
			for (uint32_t n = lcg(&x) % 4; n; n--) {    /* 0..3 bytes changed */
				uint32_t r = lcg(&x);
				b[r % len] = r & 0x100 ? opt_kinds[(r >> 9) % sizeof opt_kinds] :
							 (uint8_t)(r >> 9);
			}
			if (lcg(&x) % 8 == 0)   /* or cut short, or grown */
				len = lcg(&x) % (TCP_MAX_OPT_LEN + 1);
			for (size_t j = shape == 1 ? sizeof lay_ts : sizeof lay_syn; j < len; j++)
				b[j] = opt_kinds[lcg(&x) % sizeof opt_kinds];
		}
		tcp_opts a, g;
		memset(&a, 0x5a, sizeof a);
		memset(&g, 0xa5, sizeof g);
		int eg = tcp_opts_parse_all(b, len, &g);
		int ea = tcp_opts_parse(b, len, &a);
		opts_same(&a, ea, &g, eg);
		tcp_opts f;
		fast += tcp_opts_fast(b, len, &f);
		bad += eg != WIRE_OK;
		good += eg == WIRE_OK;
		int mss = tcp_syn_opts_mss(b, len);
		if (mss >= 0) {
			syn_fast++;
			assert_int_equal(eg, WIRE_OK);
			assert_int_equal(g.mss, mss);
		}
		/* a whole header with these options (padded to a multiple of
		 * four with random kinds: what a data offset can say) */
		uint8_t seg[TCP_HDR_LEN + TCP_MAX_OPT_LEN + 4];
		size_t olen = len & 3 ? (len | 3) + 1 : len;
		if (olen > TCP_MAX_OPT_LEN)
			olen -= 4;
		memset(seg, 0, TCP_HDR_LEN);
		seg[12] = (uint8_t)((TCP_HDR_LEN + olen) / 4 << 4);
		seg[13] = HSK_TH_ACK;
		memcpy(seg + TCP_HDR_LEN, b, olen < len ? olen : len);
		for (size_t j = len; j < olen; j++)
			seg[TCP_HDR_LEN + j] = opt_kinds[lcg(&x) % sizeof opt_kinds];
		tcp_hdr h;
		const uint8_t *pl;
		size_t pll;
		memset(&g, 0xa5, sizeof g);
		memset(&h, 0x5a, sizeof h);
		eg = tcp_opts_parse_all(seg + TCP_HDR_LEN, olen, &g);
		ea = tcp_parse(seg, TCP_HDR_LEN + olen, 1, 2, false, &h, &pl, &pll);
		opts_same(&h.opt, ea, &g, eg);
	}
	/* every kind of outcome was seen */
	assert_true(fast > 1000 && bad > 1000 && good > 1000 && syn_fast > 100);
}

/* The TCP input's parse (tcp_parse_fuse_inline, its checksum from the
 * pseudo-header's native sum) against tcp_parse's, which verifies the sum
 * itself, for segments near its 32-byte layout (a 32-byte header and
 * nothing after it: one test of the two lengths): 20 to 48 bytes, most of
 * them 32; the data offset's byte any value (the reserved bits too), most
 * often 8; timestamps alone or random options; any flags; a right sum or
 * one bit off. The same error (the same drop and counter) and, without
 * one, the same header, options and payload. Every segment is a heap copy
 * of its own size (an ASan build catches a read past its end). */
static void test_input_parse_is_tcp_parse(void **state)
{
	(void)state;
	unsigned layout = 0, ok = 0, csum = 0, other = 0;
	uint32_t x = 2512;
	for (int i = 0; i < 200000; i++) {
		uint8_t b[48];
		uint32_t r = lcg(&x);
		size_t len = r % 4 ? 32 : 20 + lcg(&x) % 29;
		for (size_t j = 0; j < len; j++)
			b[j] = (uint8_t)lcg(&x);
		r = lcg(&x);
		b[12] = r % 4 ? (uint8_t)(8 << 4 | (r >> 8) % (r & 4 ? 16 : 1)) : (uint8_t)(r >> 8);
		b[13] = lcg(&x) % 4 ? (uint8_t)(HSK_TH_ACK | (lcg(&x) % 4 == 0 ? HSK_TH_FIN : 0)) :
				      (uint8_t)lcg(&x);
		if (len >= 32 && lcg(&x) % 4)
			memcpy(b + TCP_HDR_LEN, lay_ts, 4);     /* NOP NOP TS 10 */
		else if (lcg(&x) % 2)
			for (size_t j = TCP_HDR_LEN; j < len; j++)
				b[j] = opt_kinds[lcg(&x) % sizeof opt_kinds];
		uint32_t src = lcg(&x), dst = lcg(&x);
		uint32_t psum = csum_pseudo(src, dst, IP_PROTO_TCP, (uint16_t)len);
		wr16(b + 16, 0);
		wr16(b + 16, csum_fold(csum_partial(b, len, psum)));
		if (lcg(&x) % 8 == 0) {
			r = lcg(&x);
			b[r % len] ^= (uint8_t)(1u << (r >> 8) % 8);
		}
		uint8_t *seg = malloc(len);
		assert_non_null(seg);
		memcpy(seg, b, len);
		tcp_hdr g, a;
		const uint8_t *gp = NULL, *ap = NULL;
		size_t gl = 0, al = 0;
		uint32_t hsum = 0;
		memset(&g, 0xa5, sizeof g);
		memset(&a, 0x5a, sizeof a);
		int eg = tcp_parse(seg, len, src, dst, true, &g, &gp, &gl);
		int ea = tcp_parse_fuse_inline(seg, len,
					       csum_pseudo_native(src, dst, IP_PROTO_TCP,
								  (uint32_t)len),
					       128, &a, &ap, &al, &hsum);
		opts_same(&a.opt, ea, &g.opt, eg);
		if (eg == WIRE_OK) {
			assert_int_equal(a.sport, g.sport);
			assert_int_equal(a.dport, g.dport);
			assert_int_equal(a.seq, g.seq);
			assert_int_equal(a.ack, g.ack);
			assert_int_equal(a.flags, g.flags);
			assert_int_equal(a.win, g.win);
			assert_ptr_equal(ap, gp);
			assert_int_equal(al, gl);
		}
		layout += len == 32 && seg[12] >> 4 == 8 && eg == WIRE_OK;
		ok += eg == WIRE_OK;
		csum += eg == WIRE_ERR_TCP_CSUM;
		other += eg != WIRE_OK && eg != WIRE_ERR_TCP_CSUM;
		free(seg);
	}
	/* every kind of outcome was seen */
	assert_true(layout > 50000 && ok > 80000 && csum > 10000 && other > 10000);
}

/* RFC 7413 Fast Open: a SYN with Linux's options and a cookie request or
 * an 8-byte cookie is written byte for byte as Linux writes it (the
 * option last, NOP-padded), and parses back; lengths RFC 7413 does not
 * allow are ignored, not malformed. */
static void test_fastopen_option(void **state)
{
	(void)state;
	uint8_t out[80];
	static const uint8_t cookie[8] = { 0xc0, 0x01, 0xc0, 0x02, 0xc0, 0x03, 0xc0, 0x04 };
	tcp_hdr h = base_hdr(HSK_TH_SYN);
	h.opt.mss = 1460;
	h.opt.sack_ok = true;
	h.opt.has_ts = true;
	h.opt.ts_val = 0x01020304;
	h.opt.wscale = 7;
	h.opt.has_fo = true;            /* a request: no cookie */
	static const uint8_t req[] = { 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
				       0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
				       0x01, 0x03, 0x03, 0x07, 0x22, 0x02, 0x01, 0x01 };
	assert_int_equal(tcp_opts_len(&h.opt), 24);
	assert_int_equal(tcp_emit(&h, NULL, 0, CLIENT, SERVER, out, sizeof out), 44);
	assert_memory_equal(out + 20, req, sizeof req);
	tcp_hdr p;
	const uint8_t *d;
	size_t dl;
	assert_int_equal(tcp_parse(out, 44, CLIENT, SERVER, true, &p, &d, &dl), WIRE_OK);
	assert_true(p.opt.has_fo);
	assert_int_equal(p.opt.fo_len, 0);
	assert_int_equal(p.opt.wscale, 7);

	h.opt.fo_len = sizeof cookie;   /* a cookie, with 5 bytes of data */
	h.opt.fo_cookie = cookie;
	static const uint8_t fo[] = { 0x22, 0x0a, 0xc0, 0x01, 0xc0, 0x02, 0xc0, 0x03,
				      0xc0, 0x04, 0x01, 0x01 };
	assert_int_equal(tcp_opts_len(&h.opt), 32);
	assert_int_equal(tcp_emit(&h, (const uint8_t *)"hello", 5, CLIENT, SERVER, out,
				  sizeof out), 57);
	assert_memory_equal(out + 40, fo, sizeof fo);
	assert_int_equal(tcp_parse(out, 57, CLIENT, SERVER, true, &p, &d, &dl), WIRE_OK);
	assert_true(p.opt.has_fo);
	assert_int_equal(p.opt.fo_len, 8);
	assert_memory_equal(p.opt.fo_cookie, cookie, 8);
	assert_int_equal(dl, 5);
	assert_memory_equal(d, "hello", 5);

	/* 16 bytes, the longest, fill the 40 bytes of option space exactly;
	 * a 6-byte cookie needs no padding. */
	static const uint8_t c16[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	h.opt.fo_len = 16;
	h.opt.fo_cookie = c16;
	assert_int_equal(tcp_opts_len(&h.opt), 40);
	assert_int_equal(tcp_emit(&h, NULL, 0, CLIENT, SERVER, out, sizeof out), 60);
	assert_int_equal(tcp_parse(out, 60, CLIENT, SERVER, true, &p, &d, &dl), WIRE_OK);
	assert_int_equal(p.opt.fo_len, 16);
	assert_memory_equal(p.opt.fo_cookie, c16, 16);
	tcp_opts six = { .wscale = -1, .has_fo = true, .fo_len = 6, .fo_cookie = c16 };
	assert_int_equal(tcp_opts_len(&six), 8);

	/* Other lengths: an odd cookie, one too short or too long. */
	static const uint8_t bad[][20] = {
		{ 0x22, 0x07, 1, 2, 3, 4, 5, 0x01 },            /* 5 bytes: odd */
		{ 0x22, 0x04, 1, 2 },                           /* 2 bytes */
		{ 0x22, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18 },
	};
	static const size_t bad_len[] = { 8, 4, 20 };
	for (unsigned i = 0; i < 3; i++) {
		tcp_opts o;
		assert_int_equal(tcp_opts_parse(bad[i], bad_len[i], &o), WIRE_OK);
		assert_false(o.has_fo);
	}
	/* A zeroed tcp_opts has no Fast Open option. */
	tcp_opts z = { .wscale = -1 };
	assert_int_equal(tcp_opts_len(&z), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_segments),
		cmocka_unit_test(test_short_and_doff),
		cmocka_unit_test(test_syn_fin),
		cmocka_unit_test(test_option_lengths),
		cmocka_unit_test(test_option_parsing),
		cmocka_unit_test(test_sack_blocks),
		cmocka_unit_test(test_emit_syn_layouts),
		cmocka_unit_test(test_emit_sack_fit),
		cmocka_unit_test(test_emit_space_and_inplace),
		cmocka_unit_test(test_parse_hsum_and_emit_summed),
		cmocka_unit_test(test_option_fast_paths),
		cmocka_unit_test(test_option_random_bytes),
		cmocka_unit_test(test_input_parse_is_tcp_parse),
		cmocka_unit_test(test_fastopen_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
