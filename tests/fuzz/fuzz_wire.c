/*
 * libFuzzer target for src/wire: arbitrary bytes through ipv4_parse, then
 * tcp_parse and icmp_parse, and whatever parses is emitted again and must
 * parse back to the same fields.
 *
 * Random bytes almost never carry a valid checksum, so each input is also
 * tried with its IP header checksum (and TCP/ICMP checksum) fixed up, and the
 * bytes are fed to tcp_parse and icmp_parse directly so the fuzzer reaches the
 * option parser without having to build an IP header first. Inputs are copied
 * into a buffer of exactly their size so ASan sees any read past the end.
 *
 *   scripts/fuzz.sh 60        builds and runs it (see there)
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void tcp_roundtrip(const tcp_hdr *h, const uint8_t *data, size_t data_len,
			  uint32_t src, uint32_t dst)
{
	static uint8_t out[65536 + 64];
	int n = tcp_emit(h, data, data_len, src, dst, out, sizeof out);
	if (n == WIRE_ERR_SPACE && data_len + TCP_HDR_LEN + TCP_MAX_OPT_LEN > 0xffff)
		return; /* the options grew past a 64 KiB segment: refused */
	CHECK(n >= 0);
	CHECK((size_t)n == TCP_HDR_LEN + tcp_opts_len(&h->opt) + data_len);
	tcp_hdr p;
	const uint8_t *d;
	size_t dl;
	CHECK(tcp_parse(out, (size_t)n, src, dst, true, &p, &d, &dl) == WIRE_OK);
	CHECK(p.sport == h->sport && p.dport == h->dport);
	CHECK(p.seq == h->seq && p.ack == h->ack);
	CHECK(p.flags == h->flags && p.win == h->win && p.urp == h->urp);
	CHECK(p.doff == TCP_HDR_LEN + tcp_opts_len(&h->opt));
	CHECK(dl == data_len && memcmp(d, data, dl) == 0);
	CHECK(p.opt.mss == h->opt.mss && p.opt.wscale == h->opt.wscale);
	CHECK(p.opt.sack_ok == h->opt.sack_ok && p.opt.has_ts == h->opt.has_ts);
	if (h->opt.has_ts)
		CHECK(p.opt.ts_val == h->opt.ts_val && p.opt.ts_ecr == h->opt.ts_ecr);
	/* SACK blocks that do not fit are dropped from the end, never altered,
	 * and only for want of room: one more block would not have fit. (Not
	 * "the first is always kept": a Fast Open cookie, a SYN's option, can
	 * leave room for none, as tcp_options.c says.) */
	enum { BLOCK = 8, HEAD = 4 };   /* a block; NOP, NOP, kind, length */
	CHECK(p.opt.nsack <= h->opt.nsack);
	CHECK(p.opt.nsack == h->opt.nsack ||
	      tcp_opts_len(&p.opt) + BLOCK + (p.opt.nsack ? 0 : HEAD) > TCP_MAX_OPT_LEN);
	for (unsigned i = 0; i < p.opt.nsack; i++)
		CHECK(p.opt.sack[i].left == h->opt.sack[i].left &&
		      p.opt.sack[i].right == h->opt.sack[i].right);
	/* A second emit of what was parsed is byte-identical. */
	static uint8_t out2[65536 + 64];
	CHECK(tcp_emit(&p, d, dl, src, dst, out2, sizeof out2) == n);
	CHECK(memcmp(out, out2, (size_t)n) == 0);
}

static void try_tcp(uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
	tcp_hdr h;
	const uint8_t *d;
	size_t dl;
	if (tcp_parse(seg, len, src, dst, false, &h, &d, &dl) != WIRE_OK)
		return;
	CHECK(d == seg + h.doff && dl == len - h.doff);
	if (len <= 0xffff) {
		/* Fix the checksum up and the verified parse must agree. */
		wr16(seg + 16, 0);
		wr16(seg + 16, csum_fold(csum_partial(seg, len,
				csum_pseudo(src, dst, IP_PROTO_TCP, (uint16_t)len))));
		tcp_hdr v;
		CHECK(tcp_parse(seg, len, src, dst, true, &v, &d, &dl) == WIRE_OK);
	}
	tcp_roundtrip(&h, d, dl, src, dst);
}

static void try_icmp(uint8_t *msg, size_t len)
{
	icmp_hdr h;
	const uint8_t *body;
	size_t bl;
	if (len >= ICMP_HDR_LEN && len <= 0xffff) {
		wr16(msg + 2, 0);
		wr16(msg + 2, csum_fold(csum_partial(msg, len, 0)));
	}
	if (icmp_parse(msg, len, &h, &body, &bl) != WIRE_OK)
		return;
	static uint8_t out[65536];
	int n = icmp_emit(&h, body, bl, out, sizeof out);
	CHECK(n == (int)len && memcmp(out, msg, len) == 0);
}

static void try_ipv4(uint8_t *b, size_t len, bool fix)
{
	if (fix && len >= IPV4_HDR_LEN) {
		size_t ihl = (size_t)(b[0] & 0x0f) * 4;
		if (ihl >= IPV4_HDR_LEN && ihl <= len) {
			wr16(b + 10, 0);
			wr16(b + 10, csum_fold(csum_partial(b, ihl, 0)));
		}
	}
	ipv4_hdr h;
	const uint8_t *p;
	size_t pl;
	if (ipv4_parse(b, len, &h, &p, &pl) != WIRE_OK)
		return;
	CHECK(h.ihl >= IPV4_HDR_LEN && h.total_len <= len && p == b + h.ihl &&
	      pl == (size_t)h.total_len - h.ihl);
	uint8_t hdr[IPV4_HDR_LEN];
	CHECK(ipv4_emit(&h, hdr, sizeof hdr) == IPV4_HDR_LEN);
	/* The emitted header (no options) in front of the same payload. */
	uint8_t *re = malloc(IPV4_HDR_LEN + pl + 1);
	CHECK(re != NULL);
	memcpy(re, hdr, IPV4_HDR_LEN);
	memcpy(re + IPV4_HDR_LEN, p, pl);
	wr16(re + 2, (uint16_t)(IPV4_HDR_LEN + pl));
	wr16(re + 10, 0);
	wr16(re + 10, csum_fold(csum_partial(re, IPV4_HDR_LEN, 0)));
	ipv4_hdr q;
	const uint8_t *qp;
	size_t qpl;
	CHECK(ipv4_parse(re, IPV4_HDR_LEN + pl, &q, &qp, &qpl) == WIRE_OK);
	CHECK(q.tos == h.tos && q.id == h.id && q.frag == h.frag && q.ttl == h.ttl &&
	      q.proto == h.proto && q.src == h.src && q.dst == h.dst && qpl == pl);
	/* Without options the header comes back byte for byte, but for the
	 * checksum, which may have been the other zero (0xffff) on input. */
	if (h.ihl == IPV4_HDR_LEN)
		CHECK(memcmp(re, b, 10) == 0 && memcmp(re + 12, b + 12, 8) == 0);
	free(re);

	/* The payload, again in an exact-size buffer. */
	uint8_t *pay = malloc(pl ? pl : 1);
	CHECK(pay != NULL);
	memcpy(pay, p, pl);
	if (h.proto == IP_PROTO_TCP)
		try_tcp(pay, pl, h.src, h.dst);
	else if (h.proto == IP_PROTO_ICMP)
		try_icmp(pay, pl);
	free(pay);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	CHECK(b != NULL);

	memcpy(b, data, size);
	try_ipv4(b, size, false);
	memcpy(b, data, size);
	try_ipv4(b, size, true);

	/* The same bytes as a bare TCP segment and a bare ICMP message. */
	memcpy(b, data, size);
	try_tcp(b, size, 0xc6120002, 0xc6120001);
	memcpy(b, data, size);
	try_icmp(b, size);

	/* A checksum chained over two pieces split at an even offset equals
	 * the one taken in one go. */
	size_t k = size ? (data[0] % (size + 1)) & ~(size_t)1 : 0;
	CHECK(csum_fold(csum_partial(data + k, size - k, csum_partial(data, k, 0))) ==
	      csum_fold(csum_partial(data, size, 0)));
	free(b);
	return 0;
}
