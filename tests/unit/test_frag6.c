/*
 * IPv6 fragment reassembly (frag.c through reasm_new6/reasm_input6, RFC
 * 8200 §4.5): orders of arrival, the unfragmentable part kept from the
 * offset-0 fragment with the next header and payload length of a whole
 * packet, overlaps dropping the datagram (RFC 5722), duplicates, the key
 * (source, destination, identification), the bounds in memory, per
 * source, in fragments and in time, a reassembled payload past 65,535
 * bytes refused — and what an entry costs, IPv4's
 * unchanged. Through a whole stack: the chain after reassembly is walked
 * (an unknown option answered quoting the reassembled packet) and a
 * fragment inside a reassembled packet is not reassembled again; the
 * time exceeded when the address the fragment came to is gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handshake.h"
#include "ip/ip.h"
#include "reasm_expire.h"
#include "stack/stack.h"

#define SEC 1000000000ull

static const uint8_t A1[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 1 };
static const uint8_t A2[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 2 };
static uint8_t data[65536];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8));
}

/* A fragment src -> A2 of datagram id: bytes [off, off + len) of data,
 * with (dstopt) an 8-byte destination options header before the
 * fragment header. Returns its length. */
static size_t mkfrag(uint8_t *pkt, const uint8_t src[16], uint32_t id, uint32_t off,
		     uint32_t len, bool more, bool dstopt)
{
	size_t o = 40;
	ipv6_hdr h = { .next = dstopt ? IP_PROTO_DSTOPTS : IP_PROTO_FRAGMENT, .hop_limit = 64 };

	memcpy(h.src, src, 16);
	memcpy(h.dst, A2, 16);
	if (dstopt) {
		static const uint8_t d[8] = { IP_PROTO_FRAGMENT, 0, 1, 4, 0, 0, 0, 0 };
		memcpy(pkt + o, d, 8);
		o += 8;
	}
	pkt[o] = IP_PROTO_ICMPV6;
	pkt[o + 1] = 0;
	wr16(pkt + o + 2, (uint16_t)(off | (more ? 1 : 0)));
	wr32(pkt + o + 4, id);
	o += 8;
	memcpy(pkt + o, data + off, len);
	h.payload_len = (uint16_t)(o - 40 + len);
	ipv6_emit(&h, pkt, 40);
	return o + len;
}

static uint8_t pkt[70000];

static long feed_from(ip_reasm *r, uint64_t now, const uint8_t src[16], uint32_t id,
		      uint32_t off, uint32_t len, bool more, bool dstopt,
		      const uint8_t **out, size_t *head, hsk_counters *c)
{
	size_t n = mkfrag(pkt, src, id, off, len, more, dstopt), nh_ptr;
	ipv6_chain ch;

	assert_int_equal(ipv6_walk(pkt, n, 40, pkt[6], 6, 0, &ch), WIRE_OK);
	assert_true(ch.is_frag);
	return reasm_input6(r, now, pkt, n, &ch, out, head, &nh_ptr, c);
}

static long feed(ip_reasm *r, uint64_t now, uint32_t id, uint32_t off, uint32_t len,
		 bool more, const uint8_t **out, hsk_counters *c)
{
	size_t head;
	return feed_from(r, now, A1, id, off, len, more, false, out, &head, c);
}

static ip_reasm *mk3(size_t high, size_t low, size_t src_max)
{
	reasm_limits lim = { .high_thresh = high, .low_thresh = low,
			     .src_max = src_max, .timeout_ns = 60 * SEC };
	ip_reasm *r = reasm_new6(&lim, 0x1234, 0x5678);

	assert_non_null(r);
	return r;
}

static size_t mem_of(const ip_reasm *r)
{
	size_t m;
	unsigned d;

	reasm_usage(r, &m, &d);
	return m;
}

static unsigned dgs_of(const ip_reasm *r)
{
	size_t m;
	unsigned d;

	reasm_usage(r, &m, &d);
	return d;
}

static void test_in_any_order(void **state)
{
	static const int orders[][4] = { { 0, 1, 2, 3 }, { 3, 2, 1, 0 }, { 2, 0, 3, 1 } };
	(void)state;
	fill();

	for (int o = 0; o < 3; o++) {
		ip_reasm *r = mk3(1 << 20, 1 << 20, 1 << 20);
		hsk_counters c = { 0 };
		const uint8_t *out = NULL;
		size_t head = 0;
		long n = 0;

		for (int i = 0; i < 4; i++) {
			uint32_t k = (uint32_t)orders[o][i];
			n = feed_from(r, SEC, A1, 7, k * 1000, k == 3 ? 333 : 1000, k != 3,
				      true, &out, &head, &c);
			if (i < 3)
				assert_int_equal(n, 0);
		}
		/* IPv6 header, the destination options header (now naming
		 * ICMPv6), the 3,333 bytes. */
		assert_int_equal(n, 48 + 3333);
		assert_int_equal(head, 48);
		assert_int_equal(rd16(out + 4), 8 + 3333);
		assert_int_equal(out[6], IP_PROTO_DSTOPTS);
		assert_int_equal(out[40], IP_PROTO_ICMPV6);
		assert_memory_equal(out + 8, A1, 16);
		assert_memory_equal(out + 48, data, 3333);
		assert_int_equal(c.v[CNT_Ip6ReasmOKs], 1);
		assert_int_equal(c.v[CNT_Ip6ReasmReqds], 4);
		assert_int_equal(c.v[CNT_ReasmOKs], 0);      /* IPv4's are apart */
		assert_int_equal(mem_of(r), 0);
		reasm_free(r);
	}
}

/* RFC 5722: an overlap drops the whole datagram; its later fragments
 * start a new one, which cannot complete with the old bytes. */
static void test_overlap_drops_datagram(void **state)
{
	ip_reasm *r = mk3(1 << 20, 1 << 20, 1 << 20);
	hsk_counters c = { 0 };
	const uint8_t *out;
	(void)state;
	fill();

	assert_int_equal(feed(r, SEC, 9, 0, 1000, true, &out, &c), 0);
	assert_true(feed(r, SEC, 9, 992, 1000, true, &out, &c) < 0);
	assert_int_equal(c.v[CNT_Ip6ReasmOverlaps], 1);
	assert_int_equal(c.v[CNT_Ip6ReasmFails], 1);
	assert_int_equal(c.v[CNT_Ip6FragmentsDropped], 1);
	assert_int_equal(dgs_of(r), 0);
	assert_int_equal(mem_of(r), 0);
	/* The rest arrives: no datagram, as its start went with the overlap. */
	assert_int_equal(feed(r, SEC, 9, 1000, 500, false, &out, &c), 0);
	assert_int_equal(c.v[CNT_Ip6ReasmOKs], 0);
	/* An exact duplicate is ignored, not an overlap. */
	assert_int_equal(feed(r, SEC, 10, 0, 1000, true, &out, &c), 0);
	assert_int_equal(feed(r, SEC, 10, 0, 1000, true, &out, &c), 0);
	assert_int_equal(c.v[CNT_Ip6ReasmOverlaps], 1);
	assert_int_equal(feed(r, SEC, 10, 1000, 8, false, &out, &c), 1048);
	/* The same bytes with M clear are no duplicate: they say the
	 * datagram ends at 1008, which the held fragment denied; it goes,
	 * and the bytes past 1008 make no datagram of 1016. */
	assert_int_equal(feed(r, SEC, 11, 1000, 8, true, &out, &c), 0);
	assert_true(feed(r, SEC, 11, 1000, 8, false, &out, &c) < 0);
	assert_int_equal(c.v[CNT_Ip6ReasmOverlaps], 2);
	assert_int_equal(feed(r, SEC, 11, 0, 1000, true, &out, &c), 0);
	assert_int_equal(feed(r, SEC, 11, 1008, 8, false, &out, &c), 0);
	assert_int_equal(c.v[CNT_Ip6ReasmOKs], 1);
	reasm_free(r);
}

/* The key is (source, destination, identification): no mixing. */
static void test_key(void **state)
{
	ip_reasm *r = mk3(1 << 20, 1 << 20, 1 << 20);
	hsk_counters c = { 0 };
	const uint8_t *out;
	size_t head;
	uint8_t other[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 3 };
	(void)state;
	fill();

	assert_int_equal(feed(r, SEC, 1, 0, 800, true, &out, &c), 0);
	assert_int_equal(feed(r, SEC, 2, 800, 200, false, &out, &c), 0);
	assert_int_equal(feed_from(r, SEC, other, 1, 800, 200, false, false, &out, &head, &c), 0);
	assert_int_equal(dgs_of(r), 3);
	assert_int_equal(feed(r, SEC, 1, 800, 200, false, &out, &c), 40 + 1000);
	assert_int_equal(dgs_of(r), 2);
	reasm_free(r);
}

/* Time: abandoned 60 s after the first fragment (the limit given). */
static void test_timeout(void **state)
{
	ip_reasm *r = mk3(1 << 20, 1 << 20, 1 << 20);
	hsk_counters c = { 0 };
	const uint8_t *out;
	(void)state;
	fill();

	assert_int_equal(feed(r, SEC, 3, 0, 800, true, &out, &c), 0);
	assert_int_equal(reasm_next_deadline(r), 61 * SEC);
	expire(r, 61 * SEC - 1, &c);
	assert_int_equal(dgs_of(r), 1);
	expire(r, 61 * SEC, &c);
	assert_int_equal(dgs_of(r), 0);
	assert_int_equal(c.v[CNT_Ip6ReasmTimeout], 1);
	assert_int_equal(c.v[CNT_Ip6ReasmFails], 1);
	assert_int_equal(reasm_next_deadline(r), UINT64_MAX);
	reasm_free(r);
}

/* The first fragment given back at the timeout, for the time exceeded
 * (RFC 8200 §4.5): its head (here with a destination options header
 * before the fragment header), the fragment header, its data; cut to the
 * room given. None when the first never came. */
static void test_timeout_gives_first_fragment(void **state)
{
	ip_reasm *r = mk3(1 << 20, 1 << 20, 1 << 20);
	hsk_counters c = { 0 };
	const uint8_t *out;
	uint8_t q[1280], sent[1400];
	size_t n, head, len;
	(void)state;
	fill();

	assert_int_equal(feed_from(r, SEC, A1, 7, 0, 104, true, true, &out, &head, &c), 0);
	len = mkfrag(sent, A1, 7, 0, 104, true, true);
	assert_int_equal(feed(r, SEC, 8, 8, 8, true, &out, &c), 0);
	assert_true(reasm_expire_one(r, 61 * SEC, q, sizeof(q), &n, &c));
	assert_int_equal(n, len);
	assert_memory_equal(q, sent, len);
	assert_true(reasm_expire_one(r, 61 * SEC, q, sizeof(q), &n, &c));
	assert_int_equal(n, 0);
	assert_false(reasm_expire_one(r, 61 * SEC, q, sizeof(q), &n, &c));
	/* Room for the head and 8 bytes of data; then for less than the
	 * head and fragment header. */
	assert_int_equal(feed_from(r, SEC * 70, A1, 9, 0, 104, true, true, &out, &head, &c), 0);
	assert_true(reasm_expire_one(r, 130 * SEC, q, 40 + 8 + 8 + 8, &n, &c));
	assert_int_equal(n, 64);
	assert_memory_equal(q + 40, sent + 40, 8 + 4);   /* options, fragment header */
	assert_int_equal(rd32(q + 52), 9);                /* its identification */
	assert_memory_equal(q + 56, data, 8);
	assert_int_equal(feed_from(r, SEC * 140, A1, 9, 0, 104, true, true, &out, &head, &c), 0);
	assert_true(reasm_expire_one(r, 200 * SEC, q, 40 + 8 + 7, &n, &c));
	assert_int_equal(n, 0);
	assert_int_equal(mem_of(r), 0);
	reasm_free(r);
}

/* A spoofed flood from many sources under a small memory bound: memory
 * never goes over it, and a datagram sent after it still completes. */
static void test_memory_bound(void **state)
{
	const size_t high = 64 * 1024;
	ip_reasm *r = mk3(high, high * 3 / 4, high / 4);
	hsk_counters c = { 0 };
	const uint8_t *out;
	size_t head;
	(void)state;
	fill();

	for (uint32_t i = 0; i < 20000; i++) {
		uint8_t src[16] = { 0x20, 0x01, 0x00, 0x02, [12] = (uint8_t)(i >> 24),
				    (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		feed_from(r, SEC + i, src, i, 8 * (i % 100 + 1), 8, true, false, &out, &head, &c);
		assert_true(mem_of(r) <= high);
	}
	assert_true(c.v[CNT_Ip6ReasmEvictions] > 0);
	assert_int_equal(feed(r, 2 * SEC, 77, 0, 1000, true, &out, &c), 0);
	assert_int_equal(feed(r, 2 * SEC, 77, 1000, 1000, false, &out, &c), 40 + 2000);
	/* One source over its share loses its own oldest, nobody else's. */
	for (uint32_t i = 0; i < 64; i++) {
		feed(r, 3 * SEC, 1000 + i, 0, 1024, true, &out, &c);
		assert_true(mem_of(r) <= high);
	}
	assert_true(c.v[CNT_Ip6ReasmSrcEvictions] > 0);
	reasm_free(r);
}

/* The reassembled payload (the first fragment's extension headers before
 * the fragment header, then the fragmentable part) must fit the 16-bit
 * payload length. Each fragment's walk checks its own headers; a last
 * fragment without the first's destination options passes that check
 * yet makes a datagram of 8 + 65,535 bytes: dropped whole at
 * reassembly, as Linux's ip6_frag_reasm (out_oversize: a ReasmFails, no
 * error sent). 8 bytes less fits exactly. */
static void test_reassembled_too_long(void **state)
{
	ip_reasm *r = mk3(1 << 20, 1 << 20, 1 << 20);
	hsk_counters c = { 0 };
	const uint8_t *out = NULL;
	size_t head = 0;
	(void)state;
	fill();

	assert_int_equal(feed_from(r, SEC, A1, 11, 0, 32768, true, true, &out, &head, &c), 0);
	assert_true(feed_from(r, SEC, A1, 11, 32768, 32767, false, false, &out, &head, &c) < 0);
	assert_int_equal(c.v[CNT_Ip6ReasmFails], 1);
	assert_int_equal(c.v[CNT_Ip6FragmentsDropped], 1);
	assert_int_equal(c.v[CNT_Ip6ReasmOKs], 0);
	assert_int_equal(dgs_of(r), 0);
	assert_int_equal(mem_of(r), 0);
	/* 48 + 65,527 bytes: a payload length of 65,535. */
	assert_int_equal(feed_from(r, SEC, A1, 12, 0, 32768, true, true, &out, &head, &c), 0);
	assert_int_equal(feed_from(r, SEC, A1, 12, 32768, 32759, false, false, &out, &head, &c),
			 48 + 65527);
	assert_int_equal(rd16(out + 4), 65535);
	assert_int_equal(out[40], IP_PROTO_ICMPV6);     /* the options' next header */
	assert_memory_equal(out + 48, data, 65527);
	assert_int_equal(c.v[CNT_Ip6ReasmFails], 1);
	assert_int_equal(mem_of(r), 0);
	reasm_free(r);
}

/* At most 128 fragments in one datagram. */
static void test_fragment_count(void **state)
{
	ip_reasm *r = mk3(1 << 22, 1 << 22, 1 << 22);
	hsk_counters c = { 0 };
	const uint8_t *out;
	(void)state;
	fill();

	for (uint32_t i = 0; i < 128; i++)
		assert_int_equal(feed(r, SEC, 5, i * 8, 8, true, &out, &c), 0);
	assert_true(feed(r, SEC, 5, 128 * 8, 8, true, &out, &c) < 0);
	assert_int_equal(dgs_of(r), 0);
	reasm_free(r);
}

/* Ends: data past a fixed end, or a second different end, drop it. */
static void test_ends(void **state)
{
	ip_reasm *r = mk3(1 << 20, 1 << 20, 1 << 20);
	hsk_counters c = { 0 };
	const uint8_t *out;
	(void)state;
	fill();

	assert_int_equal(feed(r, SEC, 6, 800, 200, false, &out, &c), 0);
	assert_true(feed(r, SEC, 6, 1000, 8, true, &out, &c) < 0);
	assert_int_equal(feed(r, SEC, 8, 800, 200, false, &out, &c), 0);
	assert_true(feed(r, SEC, 8, 800, 208, false, &out, &c) < 0);
	assert_int_equal(dgs_of(r), 0);
	reasm_free(r);
}

/* What one fragment of 8 bytes costs: IPv4's charge is what it was before
 * IPv6 (160 bytes) and, for a first fragment, the 20-byte header it keeps
 * for a time exceeded; IPv6's its own. */
static void test_charges(void **state)
{
	reasm_limits lim = { .high_thresh = 1 << 20, .low_thresh = 1 << 20,
			     .src_max = 1 << 20, .timeout_ns = 30 * SEC };
	ip_reasm *r4 = reasm_new(&lim, 1, 2), *r6 = reasm_new6(&lim, 1, 2);
	hsk_counters c = { 0 };
	const uint8_t *out;
	ipv4_hdr h = { .ihl = 20, .ttl = 64, .proto = IP_PROTO_ICMP, .id = 1,
		       .src = 0xc6120001, .dst = 0xc6120002, .frag = IPV4_MF };
	(void)state;
	fill();

	assert_int_equal(reasm_input(r4, SEC, &h, data, 8, &out, &c), 0);
	assert_int_equal(mem_of(r4), 160 + 20);
	h.id = 2;
	h.frag = IPV4_MF | 1;                  /* offset 8: no header kept */
	assert_int_equal(reasm_input(r4, SEC, &h, data, 8, &out, &c), 0);
	assert_int_equal(mem_of(r4), 2 * 160 + 20);
	assert_int_equal(feed(r6, SEC, 1, 8, 8, true, &out, &c), 0);
	assert_int_equal(mem_of(r6), 224);
	/* The offset-0 fragment adds its unfragmentable part (40 bytes). */
	assert_int_equal(feed(r6, SEC, 1, 0, 8, true, &out, &c), 0);
	assert_int_equal(mem_of(r6), 224 + 24 + 40);
	reasm_free(r4);
	reasm_free(r6);
}

/* Through a stack: the chain after the fragment header is walked once
 * the datagram is whole. */
struct cap {
	int n;
	uint8_t last[2048];
	size_t len;
};

static void capture(void *ctx, const uint8_t *p, size_t len)
{
	struct cap *c = ctx;

	c->n++;
	c->len = len < sizeof(c->last) ? len : sizeof(c->last);
	memcpy(c->last, p, c->len);
}

static hsk_stack *new_stack(struct cap *c)
{
	hsk_config cfg;
	hsk_link link = { .ctx = c, .transmit = capture };
	hsk_stack *s;

	hsk_config_default(&cfg);
	cfg.addr = 0xc6120002u;
	cfg.seed = 5;
	memset(c, 0, sizeof(*c));
	s = hsk_stack_new(&cfg, &link, SEC);
	assert_non_null(s);
	assert_int_equal(ip_addr_add(&s->ip, IP_FAM6, A2, 64), 0);
	return s;
}

/* Two fragments of a datagram whose fragmentable part starts with `pre`
 * (prelen bytes, a header naming ICMPv6) and then an echo request. */
static void send_two(hsk_stack *s, uint8_t first_nh, const uint8_t *pre, size_t prelen,
		     uint32_t id)
{
	uint8_t whole[256], p1[256], p2[256];
	icmp_hdr ih = { .type = ICMP6_ECHO_REQUEST, .rest = 0x00090001 };
	size_t n = prelen;

	if (prelen)
		memcpy(whole, pre, prelen);
	n += (size_t)icmp6_emit(&ih, data, 40, A1, A2, whole + n, sizeof(whole) - n);
	/* The first 24 bytes and the rest. */
	size_t n1 = mkfrag(p1, A1, id, 0, 0, true, false);
	memcpy(p1 + n1, whole, 24);
	p1[40] = first_nh;
	wr16(p1 + 4, (uint16_t)(8 + 24));
	size_t n2 = mkfrag(p2, A1, id, 24, 0, false, false);
	memcpy(p2 + n2, whole + 24, n - 24);
	p2[40] = first_nh;
	wr16(p2 + 4, (uint16_t)(8 + n - 24));
	hsk_stack_input(s, 2 * SEC, p1, n1 + 24);
	hsk_stack_input(s, 2 * SEC, p2, n2 + n - 24);
}

static void test_chain_after_reassembly(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c);
	uint8_t pre[16] = { IP_PROTO_ICMPV6, 1, 0x93, 8, [12] = 1, 2 };
	(void)state;
	fill();

	/* A plain echo request in two fragments: answered. */
	send_two(s, IP_PROTO_ICMPV6, NULL, 0, 1);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.last[40], ICMP6_ECHO_REPLY);
	/* Destination options (16 bytes, option 0x93: action 10) after the
	 * fragment header: refused once whole, code 2 pointing into the
	 * reassembled packet (40 + 2), which the error quotes. */
	send_two(s, IP_PROTO_DSTOPTS, pre, sizeof pre, 2);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.last[40], ICMP6_PARAM_PROB);
	assert_int_equal(c.last[41], ICMP6_PP_OPTION);
	assert_int_equal(rd32(c.last + 44), 42);
	assert_int_equal(c.last[48 + 6], IP_PROTO_DSTOPTS);
	assert_int_equal(rd16(c.last + 48 + 4), sizeof pre + 48);
	/* A fragment header inside the reassembled packet: not reassembled
	 * again, dropped. */
	uint8_t nested[8] = { IP_PROTO_ICMPV6, 0, 0, 1, 0, 0, 0, 1 };   /* offset 0, M */
	send_two(s, IP_PROTO_FRAGMENT, nested, sizeof nested, 3);
	assert_int_equal(c.n, 2);
	assert_int_equal(hsk_counter_by_name(s, "Ip6ReasmOKs"), 3);
	assert_int_equal(hsk_counter_by_name(s, "Ip6DropExtHdr"), 1);
	hsk_stack_free(s);
}

/* A datagram whose first fragment came and the rest not in time (the
 * stack's 30 s): answered with a time exceeded, code 1, quoting the first
 * fragment (RFC 8200 §4.5); the one rate limit of both families: IPv4's
 * errors take the tokens IPv6's would. */
static void test_stack_time_exceeded(void **state)
{
	struct cap c;
	hsk_stack *s = new_stack(&c);
	uint8_t p[256];
	size_t n;
	(void)state;
	fill();

	/* The first fragment of an ICMPv6 error: never an error about it
	 * (RFC 4443 §2.4(e)). */
	n = mkfrag(p, A1, 4, 0, 48, true, false);
	p[48] = ICMP6_DEST_UNREACH;
	hsk_stack_input(s, 1 * SEC, p, n);
	/* Nor of a redirect (an error in all but name), nor of an error
	 * behind a hop-by-hop header (skipped to find it). */
	n = mkfrag(p, A1, 7, 0, 48, true, false);
	p[48] = ND_REDIRECT;
	hsk_stack_input(s, 1 * SEC, p, n);
	n = mkfrag(p, A1, 8, 0, 48, true, true);
	p[6] = IP_PROTO_HOPOPTS;
	p[56] = ICMP6_DEST_UNREACH;
	hsk_stack_input(s, 1 * SEC, p, n);
	hsk_stack_advance(s, 31 * SEC);
	assert_int_equal(hsk_counter_by_name(s, "Ip6ReasmTimeout"), 3);
	assert_int_equal(c.n, 0);
	/* An echo request's. */
	n = mkfrag(p, A1, 5, 0, 48, true, false);
	p[48] = ICMP6_ECHO_REQUEST;
	hsk_stack_input(s, 40 * SEC, p, n);
	hsk_stack_advance(s, 70 * SEC - 1);
	assert_int_equal(c.n, 0);
	hsk_stack_advance(s, 70 * SEC);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.last[0] >> 4, 6);
	assert_memory_equal(c.last + 8, A2, 16);
	assert_memory_equal(c.last + 24, A1, 16);
	assert_int_equal(c.last[6], IP_PROTO_ICMPV6);
	assert_int_equal(c.last[40], ICMP6_TIME_EXCEEDED);
	assert_int_equal(c.last[41], ICMP6_EXC_FRAGTIME);
	assert_int_equal(c.len, 48 + n);
	assert_memory_equal(c.last + 48, p, n);
	assert_int_equal(hsk_counter_by_name(s, "Icmp6OutTimeExcds"), 1);
	/* Only a later fragment: nothing. */
	n = mkfrag(p, A1, 6, 8, 48, true, false);
	hsk_stack_input(s, 80 * SEC, p, n);
	hsk_stack_advance(s, 120 * SEC);
	assert_int_equal(c.n, 1);
	assert_int_equal(hsk_counter_by_name(s, "Ip6ReasmTimeout"), 5);

	/* Twelve IPv4 first fragments and then four IPv6 ones abandoned at
	 * once: ten errors in all, two of each family held back. */
	uint8_t v4[28 + 8] = { 0 };
	for (uint16_t id = 1; id <= 12; id++) {
		ipv4_hdr h = { .total_len = 28, .id = id, .ttl = 64, .proto = IP_PROTO_ICMP,
			       .src = 0xc6120001u, .dst = 0xc6120002u, .frag = IPV4_MF };
		assert_int_equal(ipv4_emit(&h, v4, 20), 20);
		v4[20] = ICMP_ECHO_REQUEST;
		hsk_stack_input(s, 130 * SEC, v4, 28);
	}
	for (uint32_t id = 20; id < 24; id++) {
		n = mkfrag(p, A1, id, 0, 48, true, false);
		p[48] = ICMP6_ECHO_REQUEST;
		hsk_stack_input(s, 131 * SEC, p, n);
	}
	hsk_stack_advance(s, 200 * SEC);
	assert_int_equal(c.n, 1 + ICMP_ERR_BURST);
	assert_int_equal(hsk_counter_by_name(s, "IcmpOutTimeExcds"), ICMP_ERR_BURST);
	assert_int_equal(hsk_counter_by_name(s, "IcmpOutRateLimitGlobal"), 12 - ICMP_ERR_BURST);
	assert_int_equal(hsk_counter_by_name(s, "Icmp6OutRateLimitGlobal"), 4);
	hsk_stack_free(s);
}

/* The address the first fragment came to went before the timeout: the
 * time exceeded leaves from another of ours (as Linux picks a source
 * for the peer), and with no IPv6 address left, not at all. */
static void test_stack_time_exceeded_address_gone(void **state)
{
	static const uint8_t A3[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 3 };
	struct cap c;
	hsk_stack *s = new_stack(&c);
	uint8_t p[256];
	size_t n;
	(void)state;
	fill();

	assert_int_equal(ip_addr_add(&s->ip, IP_FAM6, A3, 64), 0);
	n = mkfrag(p, A1, 4, 0, 48, true, false);
	p[48] = ICMP6_ECHO_REQUEST;
	hsk_stack_input(s, 1 * SEC, p, n);
	assert_int_equal(ip_addr_del(&s->ip, IP_FAM6, A2), 0);
	hsk_stack_advance(s, 31 * SEC);
	assert_int_equal(c.n, 1);
	assert_memory_equal(c.last + 8, A3, 16);
	assert_int_equal(c.last[40], ICMP6_TIME_EXCEEDED);
	hsk_stack_free(s);
	/* none left */
	s = new_stack(&c);
	hsk_stack_input(s, 1 * SEC, p, n);
	assert_int_equal(ip_addr_del(&s->ip, IP_FAM6, A2), 0);
	hsk_stack_advance(s, 31 * SEC);
	assert_int_equal(hsk_counter_by_name(s, "Ip6ReasmTimeout"), 1);
	assert_int_equal(hsk_counter_by_name(s, "Icmp6OutTimeExcds"), 0);
	assert_int_equal(c.n, 0);
	hsk_stack_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_any_order),
		cmocka_unit_test(test_overlap_drops_datagram),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_timeout_gives_first_fragment),
		cmocka_unit_test(test_memory_bound),
		cmocka_unit_test(test_fragment_count),
		cmocka_unit_test(test_reassembled_too_long),
		cmocka_unit_test(test_ends),
		cmocka_unit_test(test_charges),
		cmocka_unit_test(test_chain_after_reassembly),
		cmocka_unit_test(test_stack_time_exceeded),
		cmocka_unit_test(test_stack_time_exceeded_address_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
