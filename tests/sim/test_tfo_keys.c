/*
 * TCP Fast Open's server key (RFC 7413 §4.1.2; src/tcp/tfo.c): rotated
 * on a schedule with the last one kept as the backup, set and read as
 * Linux's TCP_FASTOPEN_KEY, and one key shared by the shards of a
 * stack. The setup is test_tfo's (tests/support/tfo.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/shard.h"
#include "sim.h"
#include "stack/stack.h"
#include "tcp/passive.h"
#include "tfo.h"

enum { C = TFO_C, S = TFO_S, PORT = TFO_PORT };
#define A HSK_TH_ACK
#define SYN HSK_TH_SYN

/* One Fast Open connection from C with the cached cookie: true when the
 * server took the SYN's data. */
static bool tfo_try(sim *sm, int lsd, const char *msg)
{
	uint64_t before = sim_counter(sm, S, "TCPFastOpenPassive");
	int n = (int)strlen(msg);
	int csd = tfo_send(sm, C, msg, n);
	sim_run(sm, 10 * MS);
	int ssd = sim_accept(sm, S, lsd);
	char buf[16];
	assert_int_equal(hsk_recv(sm->st[S], ssd, buf, sizeof(buf)), n);
	tfo_drop(sm, csd, ssd);
	sim_run(sm, 10 * MS);
	return sim_counter(sm, S, "TCPFastOpenPassive") > before;
}

/* RFC 7413 §4.1.2 key rotation every 60 s: a cookie made in period 0 is
 * taken in period 1 (as the backup key's; the SYN-ACK brings the new
 * one, TCPFastOpenPassiveAltKey) and refused in period 2. */
static void test_key_rotation(void **state)
{
	(void)state;
	hsk_config sc = cfg_tfo(HSK_TFO_CLIENT | HSK_TFO_SERVER);
	sc.tcp_fastopen_key_rotate_ns = 60 * SEC;
	sim sm;
	int lsd = tfo_setup_cfg(&sm, &sc, 1012, 8);
	hsk_stack *c = sm.st[C];
	fetch_cookie(&sm, C, lsd);
	uint8_t c0[16], c1[16];
	assert_int_equal(hsk_fastopen_cookie_get(c, SIM_ADDR(S), c0), 8);
	assert_true(tfo_try(&sm, lsd, "period0"));
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveAltKey"), 0);
	uint8_t keys0[32], keys1[32];
	assert_int_equal(hsk_fastopen_key_get(sm.st[S], keys0), 32);

	/* Period 1: the old cookie is the backup key's. */
	sim_run(&sm, 60 * SEC);
	assert_int_equal(hsk_fastopen_key_get(sm.st[S], keys1), 32);
	assert_memory_equal(keys1 + 16, keys0, 16);     /* primary -> backup */
	assert_memory_not_equal(keys1, keys0, 16);
	sm.tx_cursor = sm.nlog;
	int csd = tfo_send(&sm, C, "period1", 7);
	const sim_ev *e = next_seg(&sm, C, SYN, 7);
	uint32_t ciss = e->ev.seq;
	sim_run(&sm, 1 * MS);
	e = next_seg(&sm, S, SYN | A, 0);
	assert_int_equal(e->ev.ack, ciss + 8);          /* the data taken */
	assert_int_equal(e->ev.fastopen, 8);            /* and a new cookie */
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveAltKey"), 1);
	sim_run(&sm, 10 * MS);
	int ssd = sim_accept(&sm, S, lsd);
	hsk_abort(c, csd);
	hsk_close(sm.st[S], ssd);
	sim_run(&sm, 10 * MS);
	assert_int_equal(hsk_fastopen_cookie_get(c, SIM_ADDR(S), c1), 8);
	assert_memory_not_equal(c1, c0, 8);
	assert_true(tfo_try(&sm, lsd, "new"));          /* the primary's */
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveAltKey"), 1);

	/* Period 2: the period-0 cookie is refused, the period-1 one is
	 * still taken. */
	sim_run(&sm, 60 * SEC);
	assert_int_equal(hsk_fastopen_cookie_set(c, SIM_ADDR(S), c0, 8), 0);
	uint64_t fail = sim_counter(&sm, S, "TCPFastOpenPassiveFail");
	assert_false(tfo_try(&sm, lsd, "stale"));
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveFail"), fail + 1);
	assert_int_equal(hsk_fastopen_cookie_set(c, SIM_ADDR(S), c1, 8), 0);
	assert_true(tfo_try(&sm, lsd, "period1"));
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveAltKey"), 2);
	tfo_finish(&sm, lsd);
}

/* hsk_fastopen_key_set as Linux's TCP_FASTOPEN_KEY: a new primary with
 * the old one as backup keeps the cookies given; without the backup they
 * are refused. */
static void test_key_set(void **state)
{
	(void)state;
	sim sm;
	int lsd = tfo_setup(&sm, 1013, 8);
	hsk_stack *s = sm.st[S];
	fetch_cookie(&sm, C, lsd);
	uint8_t old[32], now[32];
	assert_int_equal(hsk_fastopen_key_get(s, old), 16);     /* no backup */
	static const uint8_t k1[16] = "0123456789abcdef", k2[16] = "fedcba9876543210";
	assert_int_equal(hsk_fastopen_key_set(s, k1, old), 0);
	assert_int_equal(hsk_fastopen_key_get(s, now), 32);
	assert_memory_equal(now, k1, 16);
	assert_memory_equal(now + 16, old, 16);
	assert_true(tfo_try(&sm, lsd, "backup"));
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveAltKey"), 1);
	assert_true(tfo_try(&sm, lsd, "primary"));      /* the new cookie */
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveAltKey"), 1);
	assert_int_equal(hsk_fastopen_key_set(s, k2, NULL), 0);
	assert_int_equal(hsk_fastopen_key_get(s, now), 16);
	assert_false(tfo_try(&sm, lsd, "refused"));
	assert_true(tfo_try(&sm, lsd, "again"));
	assert_int_equal(hsk_fastopen_key_set(s, NULL, NULL), -HSK_EINVAL);
	/* A key in the configuration is the primary. */
	hsk_config kc = cfg_tfo(HSK_TFO_CLIENT | HSK_TFO_SERVER);
	memcpy(kc.tcp_fastopen_key, k2, 16);
	sim sm2;
	sim_init(&sm2, 1, &kc, 3);
	assert_int_equal(hsk_fastopen_key_get(sm2.st[0], now), 16);
	assert_memory_equal(now, k2, 16);
	sim_free(&sm2);
	tfo_finish(&sm, lsd);
}

/* hsk_fastopen_key_set while the key rotates (RFC 7413 §4.1.2): the key of
 * this period is derived from the new master, and the key in use until
 * now becomes the backup, so the cookies just given stay good; the
 * rotation goes on from the new master. A cookie two periods old stays
 * refused, a new master or not: the backup is the key in use now, not the
 * last one a cookie happened to be made with. */
static void test_key_set_while_rotating(void **state)
{
	(void)state;
	hsk_config sc = cfg_tfo(HSK_TFO_CLIENT | HSK_TFO_SERVER);
	sc.tcp_fastopen_key_rotate_ns = 60 * SEC;
	sim sm;
	int lsd = tfo_setup_cfg(&sm, &sc, 1032, 8);
	hsk_stack *s = sm.st[S];
	fetch_cookie(&sm, C, lsd);
	uint8_t keys0[32], keys1[32], keys2[32];
	assert_int_equal(hsk_fastopen_key_get(s, keys0), 32);
	static const uint8_t k1[16] = "0123456789abcdef", k2[16] = "fedcba9876543210";
	assert_int_equal(hsk_fastopen_key_set(s, k1, NULL), 0);
	assert_int_equal(hsk_fastopen_key_get(s, keys1), 32);
	assert_memory_equal(keys1 + 16, keys0, 16);     /* in use until now */
	assert_memory_not_equal(keys1, keys0, 16);
	assert_memory_not_equal(keys1, k1, 16);         /* derived from it */
	assert_true(tfo_try(&sm, lsd, "before"));       /* the backup's */
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveAltKey"), 1);
	assert_true(tfo_try(&sm, lsd, "new"));          /* the primary's */
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveAltKey"), 1);
	/* The next period: the rotation goes on from k1. */
	sim_run(&sm, 60 * SEC);
	assert_int_equal(hsk_fastopen_key_get(s, keys2), 32);
	assert_memory_equal(keys2 + 16, keys1, 16);
	assert_true(tfo_try(&sm, lsd, "rotated"));      /* the backup's */
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveAltKey"), 2);
	/* Two periods with no Fast Open at all, then a new master: the
	 * client's cookie (of two periods ago) is refused, as it is without
	 * one; the SYN-ACK brings a good one. */
	sim_run(&sm, 130 * SEC);
	assert_int_equal(hsk_fastopen_key_set(s, k2, NULL), 0);
	uint64_t fail = sim_counter(&sm, S, "TCPFastOpenPassiveFail");
	assert_false(tfo_try(&sm, lsd, "stale"));
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveFail"), fail + 1);
	assert_true(tfo_try(&sm, lsd, "fresh"));
	/* A backup given is the backup, rotating or not (the key in use
	 * until now stands in only for none). */
	static const uint8_t kb[16] = "backup-key-01234";
	uint8_t keys3[32];
	assert_int_equal(hsk_fastopen_key_set(s, k1, kb), 0);
	assert_int_equal(hsk_fastopen_key_get(s, keys3), 32);
	assert_memory_equal(keys3 + 16, kb, 16);
	tfo_finish(&sm, lsd);
}

/* The stacks of a shard set share one key (shards.c): a client whose next
 * connection comes from another port lands on another shard, which takes
 * the cookie the first gave. Host 2 plays shard 0, S shard 1 (the same
 * key, distinct secrets): shard 0's cookie opens a Fast Open connection
 * to shard 1. */
static void test_shards_share_key(void **state)
{
	(void)state;
	hsk_config base = cfg_tfo(HSK_TFO_CLIENT | HSK_TFO_SERVER);
	base.seed = 4242;
	assert_int_equal(shards_config(&base, 2), 0);
	hsk_config sh0 = base, sh1 = base;
	shards_config_shard(&sh0, 0);
	shards_config_shard(&sh1, 1);
	assert_true(sh0.seed != sh1.seed);
	const hsk_config *cfgs[3] = { NULL, &sh1, &sh0 };
	sim sm;
	sim_init_hosts(&sm, 3, cfgs, 1014);
	assert_true(sm.st[S]->env.key0 != sm.st[2]->env.key0);
	int lsd = tfo_listen(&sm, 8);
	hsk_tuple tu = { .laddr = SIM_ADDR(S), .raddr = SIM_ADDR(C) };
	uint8_t ck[8];
	tfo_cookie_make(&sm.st[2]->tcp, &tu, NULL, ck);
	assert_int_equal(hsk_fastopen_cookie_set(sm.st[C], SIM_ADDR(S), ck, 8), 0);
	assert_true(tfo_try(&sm, lsd, "shard0's"));
	assert_int_equal(sim_counter(&sm, S, "TCPFastOpenPassiveFail"), 0);
	/* IPv6: the same cookie from both shards too (over the addresses,
	 * not over the tuple's folds, which each stack keys with its own
	 * secret). */
	tbl_v6addrs a6 = { .l = { 0x20, 0x01, 0, 2, [15] = 2 }, .r = { 0x20, 0x01, 0, 2, [15] = 1 } };
	hsk_tuple k0 = tbl_key6(&sm.st[2]->tcp.conns, &a6, PORT, 4000);
	hsk_tuple k1 = tbl_key6(&sm.st[S]->tcp.conns, &a6, PORT, 4000);
	assert_true(k0.raddr != k1.raddr);
	uint8_t c6a[8], c6b[8];
	tfo_cookie_make(&sm.st[2]->tcp, &k0, &a6, c6a);
	tfo_cookie_make(&sm.st[S]->tcp, &k1, &a6, c6b);
	assert_memory_equal(c6a, c6b, 8);
	/* With the OS's entropy: a drawn key, a new one per set; one shard
	 * or a key of the application's: left as it is. */
	hsk_config a, b, one;
	hsk_config_default(&a);
	hsk_config_default(&b);
	hsk_config_default(&one);
	assert_int_equal(shards_config(&a, 4), 0);
	assert_int_equal(shards_config(&b, 4), 0);
	assert_memory_not_equal(a.tcp_fastopen_key, b.tcp_fastopen_key, 16);
	hsk_config a2 = a;
	assert_int_equal(shards_config(&a2, 4), 0);
	assert_memory_equal(a2.tcp_fastopen_key, a.tcp_fastopen_key, 16);
	static const uint8_t zero[16];
	assert_int_equal(shards_config(&one, 1), 0);
	assert_memory_equal(one.tcp_fastopen_key, zero, 16);
	tfo_finish(&sm, lsd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_rotation),
		cmocka_unit_test(test_key_set),
		cmocka_unit_test(test_key_set_while_rotating),
		cmocka_unit_test(test_shards_share_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
