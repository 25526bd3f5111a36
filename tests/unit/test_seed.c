/*
 * The stack's secret keys (RFC 6528 §3, RFC 4987): with the default
 * configuration they come from the OS, so two stacks never share them and
 * an ISN seen on one connection says nothing about another; a fixed seed
 * replays bit for bit; a failing entropy source fails the stack instead of
 * leaving it with guessable keys. The event loop with no configuration (what
 * both examples use) gets the secure default too.
 *
 * The probe is the ISN of a SYN to one fixed 4-tuple: ISN = M + F(tuple,
 * key) with M = now / 4 us, so ISN - M is the keyed part alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "handshake.h"
#include "handshake_loop.h"
#include "link/dev.h"
#include "wire/wire.h"

#define US 0xc6120002u      /* 198.18.0.2 */
#define PEER 0xc6120001u    /* 198.18.0.1 */
#define SEC 1000000000ull

struct cap {
	int n;
	uint8_t syn[128];
	size_t len;
};

static void capture(void *ctx, const uint8_t *pkt, size_t len)
{
	struct cap *c = ctx;

	if (c->n++ == 0 && len <= sizeof(c->syn)) {
		memcpy(c->syn, pkt, len);
		c->len = len;
	}
}

/* Connects 198.18.0.2:40000 -> 198.18.0.1:80 and returns the keyed part of
 * the SYN's ISN (ISN - now/4us). */
static uint32_t syn_keyed_part(hsk_stack *s, struct cap *c, uint64_t now)
{
	const uint8_t *l4, *payload;
	size_t l4len, plen;
	ipv4_hdr ih;
	tcp_hdr th;
	int sd = hsk_socket(s);

	assert_true(sd >= 0);
	assert_int_equal(hsk_bind(s, sd, 0, 40000), 0);
	assert_int_equal(hsk_connect(s, sd, PEER, 80), -HSK_EINPROGRESS);
	assert_true(c->n >= 1);
	assert_int_equal(ipv4_parse(c->syn, c->len, &ih, &l4, &l4len), WIRE_OK);
	assert_int_equal(tcp_parse(l4, l4len, ih.src, ih.dst, true, &th, &payload, &plen), WIRE_OK);
	assert_int_equal(th.flags, HSK_TH_SYN);
	return th.seq - (uint32_t)(now / 4000);
}

static uint32_t stack_probe(const hsk_config *cfg, uint64_t now)
{
	struct cap c = { 0 };
	hsk_link link = { .ctx = &c, .transmit = capture };
	hsk_stack *s = hsk_stack_new(cfg, &link, now);
	uint32_t f;

	assert_non_null(s);
	f = syn_keyed_part(s, &c, now);
	hsk_stack_free(s);
	return f;
}

static void test_default_is_from_os(void **state)
{
	hsk_config cfg;
	uint32_t f[4];
	(void)state;

	hsk_config_default(&cfg);
	cfg.addr = US;
	assert_int_equal(cfg.seed, HSK_SEED_OS);
	assert_null(cfg.entropy);
	/* Four stacks, same tuple, same clock: four different keyed parts
	 * (a 2^-32 chance per pair of a false failure). With the old constant
	 * seed all four were equal. */
	for (int i = 0; i < 4; i++)
		f[i] = stack_probe(&cfg, 5 * SEC);
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			assert_true(f[i] != f[j]);
}

static void test_fixed_seed_replays(void **state)
{
	hsk_config cfg;
	(void)state;

	hsk_config_default(&cfg);
	cfg.addr = US;
	cfg.seed = 42;
	/* The same seed: the same keys, whatever the clock. */
	assert_int_equal(stack_probe(&cfg, 5 * SEC), stack_probe(&cfg, 9 * SEC));
	cfg.seed = 43;
	uint32_t other = stack_probe(&cfg, 5 * SEC);
	cfg.seed = 42;
	assert_true(other != stack_probe(&cfg, 5 * SEC));
}

struct fake_entropy {
	int calls;
	int fail;
	uint8_t fill;
};

static int fake_entropy(void *ctx, void *buf, size_t len)
{
	struct fake_entropy *e = ctx;

	e->calls++;
	if (e->fail)
		return -HSK_EAGAIN;
	memset(buf, e->fill, len);
	return 0;
}

static void test_entropy_hook(void **state)
{
	struct fake_entropy e = { .fill = 0x5a };
	struct cap c = { 0 };
	hsk_link link = { .ctx = &c, .transmit = capture };
	hsk_config cfg;
	(void)state;

	hsk_config_default(&cfg);
	cfg.addr = US;
	cfg.entropy = fake_entropy;
	cfg.entropy_ctx = &e;
	/* The keys come from the hook: the same bytes, the same keys. */
	uint32_t a = stack_probe(&cfg, 5 * SEC);
	assert_int_equal(e.calls, 1);
	assert_int_equal(stack_probe(&cfg, 5 * SEC), a);
	e.fill = 0xa5;
	assert_true(stack_probe(&cfg, 5 * SEC) != a);
	/* A failing source fails the stack: no fallback to a constant. */
	e.fail = 1;
	assert_null(hsk_stack_new(&cfg, &link, 5 * SEC));
	/* A fixed seed never asks the hook. */
	e.calls = 0;
	cfg.seed = 7;
	assert_non_null(cfg.entropy);
	stack_probe(&cfg, 5 * SEC);
	assert_int_equal(e.calls, 0);
}

static void test_os_entropy(void **state)
{
	uint8_t a[64], b[64], z[64] = { 0 };
	(void)state;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(hsk_os_entropy(NULL, a, sizeof(a)), 0);
	assert_int_equal(hsk_os_entropy(NULL, b, sizeof(b)), 0);
	assert_memory_not_equal(a, z, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(hsk_os_entropy(NULL, a, 0), 0);
}

/* ---- the event loop with cfg NULL, as both examples open it ---- */

struct fake_dev {
	hsk_dev d;
	int pipe[2];
	struct cap *cap;
};

static long fd_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	(void)d; (void)now; (void)buf; (void)cap;
	return 0;
}

static int fd_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	(void)now;
	capture(((struct fake_dev *)d)->cap, pkt, len);
	return 0;
}

static void fd_close(hsk_dev *d)
{
	struct fake_dev *f = (struct fake_dev *)d;

	close(f->pipe[0]);
	close(f->pipe[1]);
	free(f);
}

static const struct hsk_dev_ops fake_ops = {
	.read = fd_read, .write = fd_write, .close = fd_close,
};

static uint32_t loop_probe(const hsk_config *cfg)
{
	struct fake_dev *f = calloc(1, sizeof(*f));
	struct cap c = { 0 };
	char err[128];
	hsk_loop *l;
	uint32_t v;

	assert_non_null(f);
	assert_int_equal(pipe(f->pipe), 0);
	f->d.ops = &fake_ops;
	f->d.fd = f->pipe[0];
	f->d.mtu = 1500;
	f->cap = &c;
	l = hsk_loop_new(&f->d, US, cfg, err, sizeof(err));
	assert_non_null(l);
	v = syn_keyed_part(hsk_loop_stack(l), &c, hsk_loop_now(l));
	hsk_loop_free(l);
	return v;
}

static void test_loop_default_is_from_os(void **state)
{
	hsk_config cfg;
	(void)state;

	/* The control: a fixed seed gives the same keys in two loops, so the
	 * probe does see equal keys when they are equal ... */
	hsk_config_default(&cfg);
	cfg.seed = 1;
	assert_int_equal(loop_probe(&cfg), loop_probe(&cfg));
	/* ... and no configuration at all (the examples) gives fresh ones. */
	uint32_t a = loop_probe(NULL), b = loop_probe(NULL), c = loop_probe(NULL);
	assert_true(a != b && b != c && a != c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_from_os),
		cmocka_unit_test(test_fixed_seed_replays),
		cmocka_unit_test(test_entropy_hook),
		cmocka_unit_test(test_os_entropy),
		cmocka_unit_test(test_loop_default_is_from_os),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
