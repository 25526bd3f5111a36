/*
 * The impairment layer over a fake device: every decision is seeded (same
 * seed, same fate), loss and duplication happen at about the asked rate,
 * delay holds packets until due, reordering lets later packets overtake,
 * the queue is bounded, and both directions are covered; cross_fins holds
 * the first FIN until the other side's and lets ours out first; CE marks go
 * on ECT packets only, with a correct header checksum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "link/dev.h"

#define MS 1000000ull

/* A device that records what is written and reads from a script. */
struct fake {
	hsk_dev dev;
	uint32_t out[20000];
	int nout;
	uint32_t in[20000];
	int nin, pos;
};

static long fake_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	struct fake *f = (struct fake *)d;
	(void)now;

	if (f->pos >= f->nin || cap < 4)
		return 0;
	memcpy(buf, &f->in[f->pos++], 4);
	return 4;
}

static int fake_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct fake *f = (struct fake *)d;
	(void)now;

	assert_int_equal(len, 4);
	memcpy(&f->out[f->nout++], pkt, 4);
	return 0;
}

static void fake_close(hsk_dev *d)
{
	free(d);
}

static const struct hsk_dev_ops fake_ops = {
	.read = fake_read, .write = fake_write, .close = fake_close,
};

static hsk_dev *layer(impair_cfg *c, struct fake **fp)
{
	struct fake *f = calloc(1, sizeof(*f));
	hsk_dev *d;

	f->dev.ops = &fake_ops;
	f->dev.fd = -1;
	f->dev.mtu = 1500;
	d = impair_open(&f->dev, c, NULL, 0);
	assert_non_null(d);
	*fp = f;
	return d;
}

static void send_n(hsk_dev *d, int n, uint64_t now)
{
	for (uint32_t i = 0; i < (uint32_t)n; i++)
		dev_write(d, now, (const uint8_t *)&i, 4);
}

static void test_seeded_loss_and_dup(void **state)
{
	impair_cfg c = { .loss = 0.1, .dup = 0.05, .seed = 99, .dirs = IMPAIR_TX };
	struct fake *f1, *f2;
	hsk_dev *a = layer(&c, &f1), *b = layer(&c, &f2);
	impair_stats st;
	(void)state;

	send_n(a, 10000, 0);
	send_n(b, 10000, 0);
	assert_int_equal(f1->nout, f2->nout);
	assert_memory_equal(f1->out, f2->out, sizeof(uint32_t) * (size_t)f1->nout);
	assert_true(impair_get_stats(a, &st));
	assert_true(st.lost > 850 && st.lost < 1150);
	assert_true(st.duplicated > 350 && st.duplicated < 650);
	assert_int_equal(f1->nout, 10000 - (int)st.lost + (int)st.duplicated);
	dev_close(a);
	dev_close(b);
}

static void test_delay_holds_until_due(void **state)
{
	impair_cfg c = { .delay_ns = 50 * MS, .dirs = IMPAIR_TX };
	struct fake *f;
	hsk_dev *d = layer(&c, &f);
	(void)state;

	send_n(d, 3, 10 * MS);
	assert_int_equal(f->nout, 0);
	assert_int_equal(impair_held(d), 3);
	assert_int_equal(dev_next_deadline(d), 60 * MS);
	dev_advance(d, 60 * MS - 1);
	assert_int_equal(f->nout, 0);
	dev_advance(d, 60 * MS);
	assert_int_equal(f->nout, 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(f->out[i], i);     /* order kept */
	assert_int_equal(impair_held(d), 0);
	assert_int_equal(dev_next_deadline(d), UINT64_MAX);
	dev_close(d);
}

/* A stall: the third packet, at 10 ms, begins a 100 ms stall, so it and
 * those written in the stall (at 30..100 ms) are held, and all go at
 * 110 ms in order; one written after it passes at once, and the stall
 * does not come again. */
static void test_stall_holds_then_lets_go_in_order(void **state)
{
	impair_cfg c = { .stall_ns = 100 * MS, .stall_after = 3, .dirs = IMPAIR_TX };
	struct fake *f;
	hsk_dev *d = layer(&c, &f);
	impair_stats st;
	(void)state;

	for (uint32_t i = 0; i < 3; i++)
		dev_write(d, 10 * MS, (const uint8_t *)&i, 4);
	assert_int_equal(f->nout, 2);
	for (uint32_t i = 3; i <= 10; i++) {
		dev_advance(d, i * 10 * MS);
		dev_write(d, i * 10 * MS, (const uint8_t *)&i, 4);
	}
	assert_int_equal(f->nout, 2);
	assert_int_equal(impair_held(d), 9);
	assert_int_equal(dev_next_deadline(d), 110 * MS);
	dev_advance(d, 110 * MS - 1);
	assert_int_equal(f->nout, 2);
	dev_advance(d, 110 * MS);
	assert_int_equal(f->nout, 11);
	for (int i = 0; i < 11; i++)
		assert_int_equal(f->out[i], (uint32_t)i);
	uint32_t late = 99;
	dev_write(d, 200 * MS, (const uint8_t *)&late, 4);
	assert_int_equal(f->nout, 12);
	impair_get_stats(d, &st);
	assert_int_equal(st.stalled, 9);
	dev_close(d);
}

static void test_reorder_overtakes(void **state)
{
	impair_cfg c = { .reorder = 0.2, .reorder_ns = 5 * MS, .seed = 3, .dirs = IMPAIR_TX };
	struct fake *f;
	hsk_dev *d = layer(&c, &f);
	impair_stats st;
	int inversions = 0;
	(void)state;

	for (uint32_t i = 0; i < 1000; i++) {
		dev_advance(d, i * 100000ull);
		dev_write(d, i * 100000ull, (const uint8_t *)&i, 4);
	}
	dev_advance(d, 1000 * MS);
	assert_int_equal(f->nout, 1000);            /* nothing lost */
	for (int i = 1; i < f->nout; i++)
		inversions += f->out[i] < f->out[i - 1];
	impair_get_stats(d, &st);
	assert_true(st.reordered > 150 && st.reordered < 250);
	assert_true(inversions > 100);
	dev_close(d);
}

static void test_rx_direction_and_bound(void **state)
{
	impair_cfg c = { .delay_ns = 10 * MS, .queue_limit = 100, .dirs = IMPAIR_RX };
	struct fake *f;
	hsk_dev *d = layer(&c, &f);
	uint8_t buf[16];
	impair_stats st;
	int got = 0;
	(void)state;

	for (int i = 0; i < 300; i++)
		f->in[f->nin++] = (uint32_t)i;
	/* Reads pull packets from below and hold them: nothing yet. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(dev_read(d, 0, buf, sizeof(buf)), 0);
	impair_get_stats(d, &st);
	assert_int_equal(impair_held(d), 100);
	assert_true(st.queue_drops > 0);
	while (dev_read(d, 10 * MS, buf, sizeof(buf)) > 0)
		got++;
	assert_true(got >= 100);
	/* TX untouched in an RX-only layer. */
	send_n(d, 5, 0);
	assert_int_equal(f->nout, 5);
	dev_close(d);
}

static void test_bad_config(void **state)
{
	impair_cfg c = { .loss = 1.5 };
	struct fake *f = calloc(1, sizeof(*f));
	char err[128] = "";
	(void)state;

	f->dev.ops = &fake_ops;
	assert_null(impair_open(&f->dev, &c, err, sizeof(err)));
	assert_true(strlen(err) > 0);
	free(f);
}

/* ---- cross_fins: whole IPv4/TCP packets, tagged in their last byte;
 * the device logs the tags written, in order ---- */
struct pfake {
	hsk_dev dev;
	uint8_t in[8][40];
	int nin, pos;
	char log[32];
	int nlog;
};

static long pfake_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	struct pfake *f = (struct pfake *)d;
	(void)now;

	if (f->pos >= f->nin || cap < 40)
		return 0;
	memcpy(buf, f->in[f->pos++], 40);
	return 40;
}

static int pfake_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct pfake *f = (struct pfake *)d;
	(void)now;

	assert_int_equal(len, 40);
	f->log[f->nlog++] = (char)pkt[39];
	return 0;
}

static const struct hsk_dev_ops pfake_ops = {
	.read = pfake_read, .write = pfake_write, .close = fake_close,
};

static void seg(uint8_t *p, uint8_t tcp_flags, char tag)
{
	memset(p, 0, 40);
	p[0] = 0x45;
	p[3] = 40;
	p[9] = 6;
	p[20 + 13] = tcp_flags;
	p[39] = (uint8_t)tag;
}

enum { F_FIN = 0x01, F_ACK = 0x10 };

static hsk_dev *cross_layer(struct pfake **fp)
{
	impair_cfg c = { .cross_fins = true };
	struct pfake *f = calloc(1, sizeof(*f));
	hsk_dev *d;

	f->dev.ops = &pfake_ops;
	f->dev.fd = -1;
	f->dev.mtu = 1500;
	d = impair_open(&f->dev, &c, NULL, 0);
	assert_non_null(d);
	*fp = f;
	return d;
}

static void put(hsk_dev *d, uint8_t flags, char tag)
{
	uint8_t p[40];

	seg(p, flags, tag);
	dev_write(d, 0, p, 40);
}

static char get(hsk_dev *d)
{
	uint8_t p[64];

	return dev_read(d, 0, p, sizeof(p)) == 40 ? (char)p[39] : 0;
}

/* Our FIN first: held, with what follows it, until theirs arrives; then
 * ours (and the rest) leave before theirs reaches the stack. */
static void test_cross_fins_ours_first(void **state)
{
	struct pfake *f;
	hsk_dev *d = cross_layer(&f);
	impair_stats st;
	(void)state;

	seg(f->in[f->nin++], F_ACK, 'x');
	seg(f->in[f->nin++], F_FIN | F_ACK, 'K');
	put(d, F_ACK, 'a');
	put(d, F_FIN | F_ACK, 'F');
	put(d, F_ACK, 'b');
	assert_int_equal(f->nlog, 1);
	assert_int_equal(impair_held(d), 2);
	assert_int_equal(get(d), 'x');          /* not a FIN: passes */
	assert_int_equal(f->nlog, 1);
	assert_int_equal(get(d), 'K');
	assert_memory_equal(f->log, "aFb", 3);  /* out before K was read */
	put(d, F_ACK, 'c');
	put(d, F_FIN | F_ACK, 'G');             /* once only */
	assert_memory_equal(f->log, "aFbcG", 5);
	assert_int_equal(impair_held(d), 0);
	assert_true(impair_get_stats(d, &st));
	assert_int_equal(st.fins_held, 1);
	dev_close(d);
}

/* Their FIN first: held until ours has left. */
static void test_cross_fins_theirs_first(void **state)
{
	struct pfake *f;
	hsk_dev *d = cross_layer(&f);
	(void)state;

	seg(f->in[f->nin++], F_FIN | F_ACK, 'K');
	seg(f->in[f->nin++], F_ACK, 'y');
	assert_int_equal(get(d), 0);
	assert_int_equal(impair_held(d), 2);
	put(d, F_ACK, 'a');
	assert_int_equal(get(d), 0);
	put(d, F_FIN | F_ACK, 'F');
	assert_memory_equal(f->log, "aF", 2);
	assert_int_equal(get(d), 'K');
	assert_int_equal(get(d), 'y');
	assert_int_equal(impair_held(d), 0);
	dev_close(d);
}

/* CE marks (RFC 3168): ECT(0) and ECT(1) packets become CE, both ways,
 * with the header checksum redone; Not-ECT packets pass untouched. */
static uint8_t ce_out[40];

static int cfake_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	(void)d;
	(void)now;
	assert_int_equal(len, 40);
	memcpy(ce_out, pkt, 40);
	return 0;
}

static const struct hsk_dev_ops cfake_ops = {
	.read = pfake_read, .write = cfake_write, .close = fake_close,
};

static uint16_t hdr_sum(const uint8_t *p)
{
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void ip_with_ecn(uint8_t *p, uint8_t ecn)
{
	seg(p, F_ACK, 'c');
	p[1] = (uint8_t)(0xb8 | ecn);           /* DSCP EF kept */
	p[8] = 64;
	p[12] = 198, p[13] = 18, p[15] = 1, p[16] = 198, p[17] = 18, p[19] = 2;
	uint16_t s = (uint16_t)~hdr_sum(p);
	p[10] = (uint8_t)(s >> 8);
	p[11] = (uint8_t)s;
	assert_int_equal(hdr_sum(p), 0xffff);
}

static void test_ce_marks(void **state)
{
	(void)state;
	impair_cfg c = { .ce = 1.0 };
	struct pfake *f = calloc(1, sizeof(*f));
	f->dev.ops = &cfake_ops;
	f->dev.fd = -1;
	f->dev.mtu = 1500;
	hsk_dev *d = impair_open(&f->dev, &c, NULL, 0);
	assert_non_null(d);
	uint8_t p[40];
	static const uint8_t ecn[] = { 0, 1, 2, 3 }, want[] = { 0, 3, 3, 3 };
	for (int i = 0; i < 4; i++) {
		ip_with_ecn(p, ecn[i]);
		dev_write(d, 0, p, 40);
		assert_int_equal(ce_out[1], 0xb8 | want[i]);
		assert_int_equal(hdr_sum(ce_out), 0xffff);
		assert_memory_equal(ce_out + 12, p + 12, 28);
	}
	/* Received: marked on the way up. */
	ip_with_ecn(f->in[f->nin++], 2);
	uint8_t q[64];
	assert_int_equal(dev_read(d, 0, q, sizeof(q)), 40);
	assert_int_equal(q[1], 0xb8 | 3);
	assert_int_equal(hdr_sum(q), 0xffff);
	impair_stats st;
	assert_true(impair_get_stats(d, &st));
	assert_int_equal(st.ce_marked, 3);      /* ECT(1), ECT(0), and the read */
	dev_close(d);
	c.ce = 1.5;
	f = calloc(1, sizeof(*f));
	f->dev.ops = &cfake_ops;
	assert_null(impair_open(&f->dev, &c, NULL, 0));
	free(f);
}

/* IPv6: a FIN is a FIN (TCP right after the fixed header), and a CE
 * mark goes in the traffic class's ECN bits (no header checksum), the
 * flow label untouched. 60-byte packets, tagged in their last byte. */
static uint8_t v6_out[8][60];
static int v6_nout;

static int v6fake_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	(void)d;
	(void)now;
	assert_int_equal(len, 60);
	memcpy(v6_out[v6_nout++ % 8], pkt, 60);
	return 0;
}

static long v6fake_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	(void)d;
	(void)now;
	(void)cap;
	(void)buf;
	return 0;
}

static const struct hsk_dev_ops v6fake_ops = {
	.read = v6fake_read, .write = v6fake_write, .close = fake_close,
};

static void seg6(uint8_t *p, uint8_t tcp_flags, uint8_t ecn, char tag)
{
	memset(p, 0, 60);
	p[0] = 0x6b;                            /* traffic class 0xb8 | ecn */
	p[1] = (uint8_t)(0x80 | ecn << 4 | 0x0a);
	p[2] = 0xbc, p[3] = 0xde;               /* flow label 0xabcde */
	p[5] = 20;
	p[6] = 6;
	p[7] = 64;
	p[40 + 13] = tcp_flags;
	p[59] = (uint8_t)tag;
}

static void test_ipv6(void **state)
{
	impair_cfg c = { .cross_fins = true, .ce = 1.0 };
	struct pfake *f = calloc(1, sizeof(*f));
	hsk_dev *d;
	uint8_t p[60];
	impair_stats st;

	(void)state;
	f->dev.ops = &v6fake_ops;
	f->dev.fd = -1;
	f->dev.mtu = 1500;
	d = impair_open(&f->dev, &c, NULL, 0);
	assert_non_null(d);
	v6_nout = 0;
	seg6(p, F_ACK, 2, 'a');
	dev_write(d, 0, p, 60);
	assert_int_equal(v6_nout, 1);
	assert_int_equal(v6_out[0][1], 0x80 | 3 << 4 | 0x0a);   /* ECT(0) -> CE */
	assert_memory_equal(v6_out[0] + 2, p + 2, 58);
	seg6(p, F_ACK, 0, 'b');
	dev_write(d, 0, p, 60);
	assert_int_equal(v6_out[1][1], p[1]);                  /* Not-ECT: untouched */
	seg6(p, F_FIN | F_ACK, 0, 'F');
	dev_write(d, 0, p, 60);
	assert_int_equal(v6_nout, 2);                          /* our FIN held */
	assert_int_equal(impair_held(d), 1);
	assert_true(impair_get_stats(d, &st));
	assert_int_equal(st.fins_held, 1);
	assert_int_equal(st.ce_marked, 1);
	dev_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeded_loss_and_dup),
		cmocka_unit_test(test_delay_holds_until_due),
		cmocka_unit_test(test_stall_holds_then_lets_go_in_order),
		cmocka_unit_test(test_reorder_overtakes),
		cmocka_unit_test(test_rx_direction_and_bound),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_cross_fins_ours_first),
		cmocka_unit_test(test_cross_fins_theirs_first),
		cmocka_unit_test(test_ce_marks),
		cmocka_unit_test(test_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
