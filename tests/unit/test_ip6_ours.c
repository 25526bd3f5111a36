/*
 * ip6_is_ours (ip.h): with up to four IPv6 addresses it compares each as
 * two words instead of searching the sorted list (ip_addr_find). Both
 * ways must give the same answer for every list a host can have: 0..7
 * IPv6 addresses beside 1..3 IPv4 ones, asked about each address held,
 * each with any one bit flipped, and random addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "handshake.h"
#include "stack/stack.h"

static void drop(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* An address ip_addr_add takes: in 2001:2::/48 or link-local. */
static void random_addr6(uint8_t a[16])
{
	for (int i = 0; i < 16; i++)
		a[i] = (uint8_t)next();
	if (next() & 1) {
		a[0] = 0x20, a[1] = 0x01, a[2] = 0x00, a[3] = 0x02, a[4] = 0x00, a[5] = 0x00;
	} else {
		memset(a, 0, 8);
		a[0] = 0xfe, a[1] = 0x80;
	}
}

static void check(const hsk_stack *s, const uint8_t q[16])
{
	bool slow = s->ip.addrs.n6 && ip_addr_find(&s->ip, IP_FAM6, q) != NULL;
	assert_int_equal(ip6_is_ours(&s->ip, q), slow);
}

static void test_ours_equals_search(void **state)
{
	(void)state;
	unsigned checked = 0, hits = 0;
	for (unsigned n4 = 1; n4 <= 3; n4++) {
		for (unsigned n6 = 0; n6 <= 7; n6++) {
			hsk_config cfg;
			hsk_link link = { .transmit = drop };
			hsk_config_default(&cfg);
			cfg.addr = 0xc6120002u;
			cfg.prefix_len = 24;
			hsk_stack *s = hsk_stack_new(&cfg, &link, 0);
			assert_non_null(s);
			for (unsigned i = 1; i < n4; i++) {
				uint8_t b[4] = { 198, 18, 1, (uint8_t)i };
				assert_int_equal(ip_addr_add(&s->ip, IP_FAM4, b, 24), 0);
			}
			uint8_t held[8][16];
			for (unsigned i = 0; i < n6; i++) {
				do
					random_addr6(held[i]);
				while (ip_addr_add(&s->ip, IP_FAM6, held[i], 64) != 0);
			}
			assert_int_equal(s->ip.addrs.n4, n4);
			assert_int_equal(s->ip.addrs.n6, n6);
			for (unsigned i = 0; i < n6; i++) {
				assert_true(ip6_is_ours(&s->ip, held[i]));
				hits++;
				for (unsigned bit = 0; bit < 128; bit++) {
					uint8_t q[16];
					memcpy(q, held[i], 16);
					q[bit / 8] ^= (uint8_t)(1u << (bit % 8));
					check(s, q);
					checked++;
				}
			}
			for (unsigned k = 0; k < 200; k++) {
				uint8_t q[16];
				random_addr6(q);
				check(s, q);
				checked++;
			}
			hsk_stack_free(s);
		}
	}
	assert_true(hits > 0 && checked > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ours_equals_search),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
