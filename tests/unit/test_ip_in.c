/*
 * hsk_stack_input's two ways for a packet (ip/ip_in.h, stack.c): at the
 * clock of the packet before, the usual IPv4 packet is taken in line and
 * a version 6 one goes to ip6_input; at a later clock the clock moves and
 * ip_input takes any packet. Both must give the same outcome: the same
 * segments handed up (with the same header fields TCP reads), the same
 * counters, the same packets sent. Two stacks alike get the same random
 * packets (a TCP packet of the known pair with one field or more made
 * wrong: its length, version and header length, total length, sum,
 * fragment bits, protocol, addresses; IPv6 ones too), one at a clock that
 * never moves, the other at a clock that moves at every packet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "handshake.h"
#include "stack/stack.h"
#include "wire/wire.h"

#define US 0xc6120002u      /* 198.18.0.2/24: the stack */
#define PEER 0xc6120001u    /* 198.18.0.1 */
#define PEER2 0xc6120007u
#define MS 1000000ull

static const uint8_t US6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t PEER6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

/* What reached the layer above, and what was sent. */
struct rec {
	int segs, segs6, sent;
	uint8_t tos;
	uint32_t src, dst;
	size_t len;
	uint8_t seg[64];
	uint8_t src6[16];
};

static void rec_transmit(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)pkt;
	(void)len;
	((struct rec *)ctx)->sent++;
}

static void rec_input(void *ctx, const ipv4_hdr *ip, const uint8_t *seg, size_t len)
{
	struct rec *r = ctx;

	r->segs++;
	/* the addresses' sum TCP's pseudo-header starts from, kept with the
	 * known pair (ip_input_new_pair) */
	assert_true(ip->asum == (uint64_t)ip->src + ip->dst);
	r->tos = ip->tos;
	r->src = ip->src;
	r->dst = ip->dst;
	r->len = len;
	memset(r->seg, 0, sizeof r->seg);
	memcpy(r->seg, seg, len < sizeof r->seg ? len : sizeof r->seg);
}

static void rec_input6(void *ctx, const ipv6_hdr *ip, const uint8_t *seg, size_t len)
{
	struct rec *r = ctx;

	r->segs6++;
	assert_true(ip->asum == addr6_pair_sum(ip->src, ip->dst));
	r->tos = ip->tclass;
	memcpy(r->src6, ip->src, 16);
	r->len = len;
	memset(r->seg, 0, sizeof r->seg);
	memcpy(r->seg, seg, len < sizeof r->seg ? len : sizeof r->seg);
}

static void rec_error(void *ctx, const ip_icmp_err *e)
{
	(void)ctx;
	(void)e;
}

/* A stack on US/24 and US6/64 whose layer above records. */
static hsk_stack *new_stack(struct rec *r)
{
	hsk_config cfg;
	hsk_link link = { .ctx = r, .transmit = rec_transmit };
	hsk_stack *s;

	hsk_config_default(&cfg);
	cfg.addr = US;
	cfg.prefix_len = 24;
	cfg.seed = 7;
	memset(r, 0, sizeof(*r));
	s = hsk_stack_new(&cfg, &link, 1000 * MS);
	assert_non_null(s);
	assert_int_equal(ip_addr_add(&s->ip, IP_FAM6, US6, 64), 0);
	s->ip.upper.input = rec_input;
	s->ip.upper.input6 = rec_input6;
	s->ip.upper.icmp_error = rec_error;
	s->ip.upper.ctx = r;
	return s;
}

static uint32_t rnd(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return (uint32_t)(*st >> 11);
}

static void fix_sum(uint8_t *p)
{
	size_t ihl = (size_t)(p[0] & 0xf) * 4;

	if (ihl < 20)
		ihl = 20;
	wr16(p + 10, 0);
	wr16(p + 10, csum_fold(csum_partial(p, ihl, 0)));
}

/* A random packet in b (at most 96 bytes), its length returned: mostly an
 * IPv4 TCP packet from PEER with a 20-byte header, one field or more made
 * otherwise (the sum made right again, mostly, so that the checks after
 * it are reached). */
static size_t make_packet(uint64_t *st, uint8_t *b)
{
	size_t l4 = 20 + 4 * (rnd(st) % 10), n = 20 + l4;
	uint32_t r = rnd(st);

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd(st);
	if (r % 8 == 0) {                       /* IPv6 */
		b[0] = (uint8_t)(0x60 | (rnd(st) % 4 ? 0 : rnd(st) & 0xf));
		wr16(b + 4, (uint16_t)(n - 40));
		b[6] = rnd(st) % 4 ? IP_PROTO_TCP : (uint8_t)rnd(st);
		memcpy(b + 8, rnd(st) % 4 ? PEER6 : US6, 16);
		memcpy(b + 24, US6, 16);
		return rnd(st) % 8 ? n : rnd(st) % (n + 1);
	}
	ipv4_hdr h = { .tos = (uint8_t)rnd(st), .total_len = (uint16_t)n, .id = 1, .ttl = 64,
		       .proto = IP_PROTO_TCP, .src = PEER, .dst = US };
	assert_int_equal(ipv4_emit(&h, b, 20), 20);
	switch (r / 8 % 12) {
	case 0: b[0] = (uint8_t)rnd(st); break;
	case 1: b[0] = (uint8_t)(0x45 + rnd(st) % 3); break;   /* options */
	case 2: wr16(b + 2, (uint16_t)(n - 8 + rnd(st) % 16)); break;
	case 3: wr16(b + 2, (uint16_t)(rnd(st) % 24)); break;
	case 4: wr16(b + 6, (uint16_t)(rnd(st) % 4 ? IPV4_MF : rnd(st))); break;
	case 5: b[9] = (uint8_t)(rnd(st) % 2 ? IP_PROTO_ICMP : rnd(st)); break;
	case 6: wr32(b + 12, rnd(st) % 2 ? PEER2 : rnd(st)); break;
	case 7: wr32(b + 16, rnd(st) % 2 ? US + 1 : rnd(st)); break;
	case 8: wr32(b + 12, rnd(st) % 2 ? US : 0xc61200ffu); break;
	default: break;                         /* the usual packet */
	}
	if (rnd(st) % 8)
		fix_sum(b);
	else
		b[10 + rnd(st) % 2] ^= (uint8_t)(1 + rnd(st) % 255);
	if (rnd(st) % 8 == 0)
		return rnd(st) % (n + 1);       /* cut short */
	return n;
}

/* Each packet to both stacks, as a heap copy of its own length: the
 * first at a clock that never moves, the second at one that moves. */
static void test_same_clock_way_is_ip_input(void **state)
{
	struct rec ra, rb;
	hsk_stack *a = new_stack(&ra), *b = new_stack(&rb);
	uint64_t st = 0x9e3779b97f4a7c15ull, t = 2000 * MS;
	int delivered = 0, delivered6 = 0, dropped = 0;
	(void)state;

	for (int i = 0; i < 100000; i++) {
		uint8_t pkt[96];
		size_t n = make_packet(&st, pkt);
		uint8_t *pa = malloc(n ? n : 1), *pb = malloc(n ? n : 1);
		assert_true(pa && pb);
		memcpy(pa, pkt, n);
		memcpy(pb, pkt, n);
		int segs = ra.segs + ra.segs6;
		hsk_stack_input(a, 2000 * MS, pa, n);
		hsk_stack_input(b, ++t, pb, n);
		free(pa);
		free(pb);
		assert_int_equal(a->env.now, 2000 * MS);
		assert_int_equal(b->env.now, t);
		assert_int_equal(ra.segs, rb.segs);
		assert_int_equal(ra.segs6, rb.segs6);
		assert_int_equal(ra.sent, rb.sent);
		assert_int_equal(ra.tos, rb.tos);
		assert_int_equal(ra.src, rb.src);
		assert_int_equal(ra.dst, rb.dst);
		assert_int_equal(ra.len, rb.len);
		assert_memory_equal(ra.seg, rb.seg, sizeof ra.seg);
		assert_memory_equal(ra.src6, rb.src6, 16);
		assert_memory_equal(&a->env.cnt, &b->env.cnt, sizeof a->env.cnt);
		if (ra.segs + ra.segs6 == segs)
			dropped++;
		else if (ra.segs6 + ra.segs > segs && pkt[0] >> 4 == 6)
			delivered6++;
		else
			delivered++;
	}
	/* each way taken often: segments up, IPv6 ones, and drops */
	assert_true(delivered > 20000);
	assert_true(delivered6 > 2000);
	assert_true(dropped > 20000);
	hsk_stack_free(a);
	hsk_stack_free(b);
}

/* A packet shorter than the 20-byte header, ending where the memory ends
 * (the page after it not mapped: a driver's buffer may end there): the
 * usual way reads no byte past it (its length test comes before the first
 * word's load), neither does ip_input, and both drop it alike. The first
 * bytes are the usual packet's (0x45, a total length, ...). */
static void test_short_packet_at_memory_end(void **state)
{
	struct rec ra, rb;
	hsk_stack *a = new_stack(&ra), *b = new_stack(&rb);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)state;

	assert_true(m != MAP_FAILED);
	assert_int_equal(mprotect(m + pg, pg, PROT_NONE), 0);
	ipv4_hdr h = { .total_len = 40, .id = 1, .ttl = 64, .proto = IP_PROTO_TCP,
		       .src = PEER, .dst = US };
	uint8_t usual[20];
	assert_int_equal(ipv4_emit(&h, usual, 20), 20);
	for (size_t n = 0; n < 20; n++) {
		uint8_t *p = m + pg - n;
		memcpy(p, usual, n);
		hsk_stack_input(a, 1000 * MS, p, n);
		hsk_stack_input(b, 1000 * MS + 1 + n, p, n);
		assert_int_equal(ra.segs + ra.segs6 + rb.segs + rb.segs6, 0);
		assert_memory_equal(&a->env.cnt, &b->env.cnt, sizeof a->env.cnt);
	}
	assert_int_equal(munmap(m, 2 * pg), 0);
	hsk_stack_free(a);
	hsk_stack_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_clock_way_is_ip_input),
		cmocka_unit_test(test_short_packet_at_memory_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
