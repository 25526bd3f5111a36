/*
 * hsk_addr, the API's address of either family: text both ways (RFC 5952
 * forms, brackets, zones, the bracket form with a port), equality, and
 * the stack's address list through the public calls (errors as Linux's,
 * IPv6 on with the first IPv6 address, the first IPv4 address moving on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "handshake.h"

static const uint8_t A2[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 2 };  /* 2001:2::2 */

static void test_parse_v4(void **state)
{
	hsk_addr a;

	(void)state;
	assert_int_equal(hsk_addr_parse("198.18.0.1", &a), 0);
	assert_int_equal(a.family, HSK_AF_INET);
	assert_int_equal(a.v4, 0xc6120001u);     /* host order, as hsk_bind's */
	assert_int_equal(hsk_addr_parse("198.18.0", &a), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("198.18.0.256", &a), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("[198.18.0.1]", &a), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("", &a), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse(NULL, &a), -HSK_EINVAL);
}

static void test_parse_v6(void **state)
{
	hsk_addr a;

	(void)state;
	assert_int_equal(hsk_addr_parse("2001:2::2", &a), 0);
	assert_int_equal(a.family, HSK_AF_INET6);
	assert_memory_equal(a.v6, A2, 16);
	assert_int_equal(a.scope_id, 0);
	assert_int_equal(hsk_addr_parse("[2001:2:0:0::2]", &a), 0);
	assert_memory_equal(a.v6, A2, 16);
	assert_int_equal(hsk_addr_parse("fe80::1%3", &a), 0);
	assert_int_equal(a.scope_id, 3);
	assert_int_equal(a.v6[0], 0xfe);
	assert_int_equal(a.v6[15], 1);
	assert_int_equal(hsk_addr_parse("[fe80::1%12]", &a), 0);
	assert_int_equal(a.scope_id, 12);
	/* a v4-mapped address stays IPv6 (what a dual-stack socket reports) */
	assert_int_equal(hsk_addr_parse("::ffff:198.18.0.1", &a), 0);
	assert_int_equal(a.family, HSK_AF_INET6);
	assert_int_equal(a.v6[10], 0xff);
	assert_int_equal(a.v6[12], 198);
	assert_int_equal(hsk_addr_parse("fe80::1%", &a), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("fe80::1%eth0", &a), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("fe80::1%99999999999", &a), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("2001:2::2::1", &a), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("[2001:2::2", &a), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("2001:2:::2", &a), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("1:2:3:4:5:6:7:8:9", &a), -HSK_EINVAL);
	/* a zone is digits: below '0' too ('/' and '-' are no digits, nor
	 * a wrapped 4294967295) */
	assert_int_equal(hsk_addr_parse("fe80::1%/", &a), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("fe80::1%-", &a), -HSK_EINVAL);
	/* the text's length at its edge: HSK_ADDRSTRLEN - 1 characters (a
	 * zone padded with zeros) is taken, one more is EINVAL */
	char longest[HSK_ADDRSTRLEN + 1];
	memset(longest, '0', sizeof(longest));
	memcpy(longest, "fe80::1%", 8);
	longest[HSK_ADDRSTRLEN - 2] = '3';
	longest[HSK_ADDRSTRLEN - 1] = '\0';
	assert_int_equal(hsk_addr_parse(longest, &a), 0);
	assert_int_equal(a.scope_id, 3);
	longest[HSK_ADDRSTRLEN - 2] = '0';
	longest[HSK_ADDRSTRLEN - 1] = '3';
	longest[HSK_ADDRSTRLEN] = '\0';
	assert_int_equal(hsk_addr_parse(longest, &a), -HSK_EINVAL);
}

/* text -> address -> text is RFC 5952's canonical form */
static void canon(const char *in, const char *want)
{
	char buf[HSK_ADDRSTRLEN];
	hsk_addr a;

	assert_int_equal(hsk_addr_parse(in, &a), 0);
	assert_string_equal(hsk_addr_str(&a, buf), want);
}

static void test_format(void **state)
{
	char buf[HSK_ADDRSTRLEN];
	hsk_addr a;

	(void)state;
	canon("198.18.0.1", "198.18.0.1");
	canon("2001:0002:0000:0000:0000:0000:0000:0002", "2001:2::2");
	canon("2001:DB8::1", "2001:db8::1");                     /* §4.3 lower case */
	canon("2001:2:0:1:0:0:0:1", "2001:2:0:1::1");            /* §4.2.3 longest run */
	canon("2001:0:0:1:0:0:1:1", "2001::1:0:0:1:1");          /* ... the first of equals */
	canon("2001:2:1:1:1:1:0:1", "2001:2:1:1:1:1:0:1");       /* §4.2.2 not one group */
	canon("::", "::");
	canon("fe80::1%3", "fe80::1%3");
	canon("::ffff:198.18.0.1", "::ffff:198.18.0.1");         /* §5 */
	a = hsk_addr_v4(0xc6120002u);
	assert_string_equal(hsk_addr_port_str(&a, 80, buf), "198.18.0.2:80");
	a = hsk_addr_v6(A2);
	assert_string_equal(hsk_addr_port_str(&a, 80, buf), "[2001:2::2]:80");
	a.scope_id = 4294967295u;
	assert_string_equal(hsk_addr_port_str(&a, 65535, buf), "[2001:2::2%4294967295]:65535");
	a.family = 0;
	assert_string_equal(hsk_addr_str(&a, buf), "?");
}

static void test_eq(void **state)
{
	hsk_addr a = hsk_addr_v6(A2), b = hsk_addr_v6(A2), c = hsk_addr_v4(0xc6120002u);

	(void)state;
	b.scope_id = 7;
	assert_true(hsk_addr_eq(&a, &b));
	b.v6[15] = 3;
	assert_false(hsk_addr_eq(&a, &b));
	assert_false(hsk_addr_eq(&a, &c));
	b = hsk_addr_v4(0xc6120002u);
	assert_true(hsk_addr_eq(&b, &c));
	b.v4++;
	assert_false(hsk_addr_eq(&b, &c));
	a.family = c.family = 0;
	assert_false(hsk_addr_eq(&a, &c));
}

static void sink(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	(void)p;
	(void)len;
}

static void test_stack_addrs(void **state)
{
	hsk_config cfg;
	hsk_link link = { .transmit = sink };
	hsk_addr a, out[8];
	unsigned pfx[8];
	hsk_stack *s;

	(void)state;
	hsk_config_default(&cfg);
	cfg.addr = 0xc6120002u;
	cfg.prefix_len = 24;
	cfg.seed = 1;
	s = hsk_stack_new(&cfg, &link, 0);
	assert_non_null(s);
	assert_int_equal(hsk_stack_addrs(s, out, pfx, 8), 1);
	assert_int_equal(out[0].family, HSK_AF_INET);
	assert_int_equal(out[0].v4, 0xc6120002u);
	assert_int_equal(pfx[0], 24);

	a = hsk_addr_v6(A2);
	assert_int_equal(hsk_stack_add_addr(s, &a, 64), 0);
	assert_int_equal(hsk_stack_add_addr(s, &a, 64), -HSK_EADDRINUSE);
	a = hsk_addr_v4(0xc6130001u);
	assert_int_equal(hsk_stack_add_addr(s, &a, 16), 0);
	assert_int_equal(hsk_stack_addrs(s, out, NULL, 8), 3);
	assert_int_equal(out[0].v4, 0xc6120002u);    /* IPv4 first, in order */
	assert_int_equal(out[1].v4, 0xc6130001u);
	assert_int_equal(out[2].family, HSK_AF_INET6);
	assert_memory_equal(out[2].v6, A2, 16);
	assert_int_equal(hsk_stack_addrs(s, out, pfx, 1), 3);   /* only max written */

	/* what cannot be a host's address, and the wrong family */
	a = hsk_addr_v4(0x7f000001u);
	assert_int_equal(hsk_stack_add_addr(s, &a, 8), -HSK_EINVAL);
	a = hsk_addr_v4(0xe0000001u);
	assert_int_equal(hsk_stack_add_addr(s, &a, 8), -HSK_EINVAL);
	a = hsk_addr_v4(0xc6120009u);
	assert_int_equal(hsk_stack_add_addr(s, &a, 33), -HSK_EINVAL);
	a = hsk_addr_v4(0x00000009u);                /* 0/8: "this network" */
	assert_int_equal(hsk_stack_add_addr(s, &a, 24), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("::198.18.0.9", &a), 0);   /* IPv4-compatible */
	assert_int_equal(hsk_stack_add_addr(s, &a, 64), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("ff02::1", &a), 0);
	assert_int_equal(hsk_stack_add_addr(s, &a, 64), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("::ffff:198.18.0.9", &a), 0);
	assert_int_equal(hsk_stack_add_addr(s, &a, 64), -HSK_EINVAL);
	assert_int_equal(hsk_addr_parse("::", &a), 0);
	assert_int_equal(hsk_stack_add_addr(s, &a, 64), -HSK_EINVAL);
	a.family = 1;
	assert_int_equal(hsk_stack_add_addr(s, &a, 64), -HSK_EAFNOSUPPORT);
	assert_int_equal(hsk_stack_del_addr(s, &a), -HSK_EAFNOSUPPORT);
	assert_string_equal(hsk_errno_name(-HSK_EAFNOSUPPORT), "EAFNOSUPPORT");
	assert_int_equal(HSK_EAFNOSUPPORT, 97);

	/* deleting the first IPv4 address makes the next one the first */
	a = hsk_addr_v4(0xc6120002u);
	assert_int_equal(hsk_stack_del_addr(s, &a), 0);
	assert_int_equal(hsk_stack_del_addr(s, &a), -HSK_EADDRNOTAVAIL);
	assert_int_equal(hsk_stack_addrs(s, out, NULL, 8), 2);
	assert_int_equal(out[0].v4, 0xc6130001u);
	a = hsk_addr_v6(A2);
	assert_int_equal(hsk_stack_del_addr(s, &a), 0);
	assert_int_equal(hsk_stack_addrs(s, out, NULL, 8), 1);
	hsk_stack_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_eq),
		cmocka_unit_test(test_stack_addrs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
