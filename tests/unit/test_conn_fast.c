/*
 * The short ways of a connection's opening (issue 7) make the same bytes
 * as the long ones:
 *  - tcb_new copies tcp_stack's tcb_fresh into a slot it does not zero;
 *    the long way (tcp_stack.conn_long) zeroes the slot and sets every
 *    field (tcb_fresh_init). The two TCBs, IPv4 and IPv6, under each
 *    congestion control and buffer sizes with and without window scaling,
 *    from fresh slots and from slots a freed TCB left dirty, are equal
 *    byte for byte but for the tuple, its hash, the chain link and the
 *    random ts_offset;
 *  - a request's slot (tcp_obj_slot, not zeroed) is all written by
 *    req_from_syn: a SYN taken from a slot filled with garbage makes the
 *    same request as one from a zeroed slot;
 *  - tbl_fold6 remembers the last two addresses it folded and computes
 *    SipHash-1-3 of 16 bytes itself: over random sequences from a few
 *    addresses that differ in one byte (any of the 16), each fold is
 *    hsk_siphash13 of the address under the table's fold key;
 *  - tuple_hash6, SipHash-2-4 written out for its 36 bytes, is
 *    hsk_siphash of them (random addresses, ports and keys);
 *  - tw_enter's TIME_WAIT entry, from a slot it does not zero, holds
 *    what its TCB had, every other field zero, from a slot full of
 *    garbage (IPv4 and IPv6); its window is the one the ACK of the FIN
 *    just carried (tcb_send_ack's, not computed again);
 *  - tbl_replace leaves the table exactly as tbl_remove then tbl_insert
 *    would (chains in the same order, count, growth and migration, the
 *    cache), through random inserts, removes and replacements past
 *    several doublings, and where the insert would start a doubling;
 *  - pick_port remembers its last RFC 6056 offset: two stacks alike but
 *    for conn_long (which hashes every time), connecting in the same
 *    random order to a few servers (addresses, ports, IPv4 and IPv6
 *    that differ in the last byte), pick the same local ports;
 *  - tbl_lookup6's cache hit compares all 32 bytes of the
 *    addresses: a node that differs from the key's in any one byte is
 *    not returned;
 *  - conn_start works out the window scale again only for a socket
 *    whose SO_RCVBUF is not the fresh TCB's (the default's): connected
 *    with the default, a smaller and a larger buffer, each TCB has its
 *    socket's buffer and wscale_for of it;
 *  - a request's insert (tbl_insert_cached, the SYN's lookup trusted
 *    for the cache) still grows the table: 2,300 SYNs past the 1,024
 *    buckets' load double it, the count above the load only while it
 *    migrates, every request found again;
 *  - a request works out its window scale again only for a listener
 *    whose SO_RCVBUF is not the fresh TCB's: with the default, a smaller
 *    and a larger buffer, each request has wscale_for of its listener's;
 *  - tcb_act_new copies the congestion state it starts from itself:
 *    under each congestion control, for MSS below and above CC_MIN_MSS,
 *    it is cc_init_like's with the TCB's cwnd;
 *  - tcp_isn hashes from the SipHash state its key gives, kept in
 *    tcp_stack: over random tuples (IPv4 and IPv6) and clocks, the ISN
 *    is the 4-microsecond clock plus hsk_siphash of the tuple's bytes
 *    under the stack's key with the ISN label, plus isn_offset;
 *  - tcp_isn keeps the state after the last addresses it hashed: over
 *    random sequences of a few addresses (IPv4 and IPv6) that differ in
 *    one byte, and the zero ones it starts from, with random ports,
 *    each ISN is the same reference's;
 *  - tcb_act_new zeroes everything before the congestion state (in
 *    pieces, not one memset): from a slot a freed extension left full
 *    of garbage, every byte before cc is zero but recover and snd_sml
 *    (SND.UNA);
 *  - tcb_act_put_idle, for an extension already the newest kept, only
 *    moves its time (as tcb_act_put): reaped ACT_KEEP_NS after its last
 *    quiescence, not its first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack.h"
#include "core/pool.h"
#include "core/rand.h"
#include "core/table.h"
#include "sim.h"
#include "tcp/passive.h"

static void no_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
}

static hsk_stack *stack_with(const char *cc, uint32_t buf)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.addr = 0xc6120001u;              /* 198.18.0.1 */
	cfg.congestion_control = cc;
	cfg.seed = 42;                       /* the same keys each time */
	cfg.sndbuf = cfg.rcvbuf = buf;
	hsk_link link = { NULL, no_tx };
	hsk_stack *s = hsk_stack_new(&cfg, &link, 1000000000ull);
	assert_non_null(s);
	return s;
}

/* fast and slow, made for two tuples, equal byte for byte but for what
 * may differ (the tuple, its hash and chain link, ts_offset). */
static void expect_same(const tcb *fast, const tcb *slow, bool v6)
{
	uint8_t a[sizeof(tcb) + sizeof(tbl_v6addrs)], b[sizeof(a)];
	size_t n = sizeof(tcb) + (v6 ? sizeof(tbl_v6addrs) : 0);
	memcpy(a, fast, n);
	memcpy(b, slow, n);
	tcb *x = (tcb *)(void *)a, *y = (tcb *)(void *)b;
	assert_int_equal(x->node.kind, HSK_OBJ_TCB);
	assert_int_equal(x->node.v6, v6);
	y->node.next = x->node.next;
	y->node.key = x->node.key;
	y->node.hash = x->node.hash;
	y->ts_offset = x->ts_offset;
	if (memcmp(a, b, n)) {
		for (size_t i = 0; i < n; i++)
			if (a[i] != b[i])
				fprintf(stderr, "byte %zu: fast %02x, long %02x\n", i, a[i], b[i]);
		fail();
	}
}

static void one_pair(hsk_stack *s, uint16_t port, bool v6)
{
	tbl_v6addrs a6 = { .l = { 0x20, 0x01, 0, 2, [15] = 1 }, .r = { 0x20, 0x01, 0, 2, [15] = 2 } };
	hsk_tuple t1 = { 0xc6120001u, 0xc6120002u, port, 80 };
	hsk_tuple t2 = { 0xc6120001u, 0xc6120002u, (uint16_t)(port + 1), 80 };
	if (v6) {
		t1 = tbl_key6(&s->tcp.conns, &a6, port, 80);
		t2 = tbl_key6(&s->tcp.conns, &a6, (uint16_t)(port + 1), 80);
	}
	s->tcp.conn_long = false;
	tcb *fast = tcb_new(&s->tcp, &t1, v6 ? &a6 : NULL);
	s->tcp.conn_long = true;
	tcb *slow = tcb_new(&s->tcp, &t2, v6 ? &a6 : NULL);
	s->tcp.conn_long = false;
	assert_non_null(fast);
	assert_non_null(slow);
	assert_true(tuple_eq(&fast->node.key, &t1));
	assert_ptr_equal(v6 ? tbl_lookup6(&s->tcp.conns, &t1, &a6) : tbl_lookup(&s->tcp.conns, &t1),
			 &fast->node);
	expect_same(fast, slow, v6);
}

/* Leaves the TCB's slot dirty: its fields changed as a connection would,
 * then freed (the pool keeps what it held). */
static void dirty_free(hsk_stack *s, tcb *t)
{
	t->state = HSK_ESTABLISHED;
	t->flags |= TF_SACK_OK | TF_TS_OK | TF_WSCALE;
	t->snd_una = t->snd_nxt = t->snd_max = t->rcv_nxt = seq_of(0x12345678);
	t->syn_acked = 1;
	t->mss = 1448;
	t->cwnd = 99999;
	t->rtt.srtt = 777;
	tcb_free(&s->tcp, t);
}

static void test_tcb_fresh_equals_long_way(void **state)
{
	(void)state;
	static const char *const ccs[] = { "cubic", "newreno", "none" };
	static const uint32_t bufs[] = { 16384, 65535, 262144, 4u << 20 };
	for (size_t c = 0; c < 3; c++) {
		for (size_t b = 0; b < 4; b++) {
			hsk_stack *s = stack_with(ccs[c], bufs[b]);
			for (int v6 = 0; v6 <= 1; v6++) {
				one_pair(s, 1000, v6);
				/* again from slots freed dirty */
				for (uint16_t p = 1000; p <= 1001; p++) {
					tbl_v6addrs a6 = { .l = { 0x20, 0x01, 0, 2, [15] = 1 },
							   .r = { 0x20, 0x01, 0, 2, [15] = 2 } };
					hsk_tuple k = { 0xc6120001u, 0xc6120002u, p, 80 };
					if (v6)
						k = tbl_key6(&s->tcp.conns, &a6, p, 80);
					tbl_node *n = v6 ? tbl_lookup6(&s->tcp.conns, &k, &a6) :
						 tbl_lookup(&s->tcp.conns, &k);
					assert_non_null(n);
					dirty_free(s, (tcb *)n);
				}
				one_pair(s, 2000, v6);
			}
			hsk_stack_free(s);
		}
	}
}

/* A slot of pool p (size bytes) filled with `fill` and given back (the
 * next object of its kind gets it), then a SYN from port sport (with
 * timestamps when ts): the slot. */
static void *syn_after_slot(sim *sm, hsk_pool *p, size_t size, int fill, uint16_t sport, bool ts)
{
	void *slot = pool_get_raw(p);
	assert_non_null(slot);
	memset(slot, fill, size);
	pool_put(p, slot);
	tcp_opts o = { .mss = 1460, .wscale = 7, .sack_ok = true, .has_ts = ts,
		       .ts_val = 4242 };
	sim_inject_opts(sm, 0, SIM_ADDR(5), sport, 80, 1000, 0, HSK_TH_SYN, 65535, &o, NULL, 0);
	return slot;
}

/* The request a SYN from port sport makes, its slot first filled with
 * `fill`. */
static tcp_req *req_from_slot(sim *sm, int lsd, uint16_t sport, int fill)
{
	hsk_stack *s = sm->st[0];
	void *slot = syn_after_slot(sm, &s->tcp.req_pool, sizeof(tcp_req), fill, sport, true);
	tcp_req *r = s->socks[lsd].l->reqs;
	assert_non_null(r);
	assert_ptr_equal(r, slot);
	assert_int_equal(r->node.key.rport, sport);
	return r;
}

static void test_req_slot_all_written(void **state)
{
	(void)state;
	hsk_config cfg;
	hsk_config_default(&cfg);
	sim sm;
	sim_init(&sm, 1, &cfg, 7);
	int lsd = sim_listen(&sm, 0, 80, 8);
	tcp_req *a = req_from_slot(&sm, lsd, 3000, 0xa5);
	tcp_req *b = req_from_slot(&sm, lsd, 3001, 0);
	/* what may differ: the tuple, its hash and chain, the list links,
	 * the ISN and the random ts_offset; every other field the same */
	assert_int_equal(a->node.kind, HSK_OBJ_REQ);
	assert_int_equal(a->node.v6, 0);
	assert_ptr_equal(a->listener, b->listener);
	assert_ptr_equal(a->lnext, NULL);
	assert_ptr_equal(a->lprev, b);
	assert_int_equal(a->timer.deadline, b->timer.deadline);
	assert_true(seq_eq(a->irs, b->irs));
	assert_int_equal(a->peer_wnd, b->peer_wnd);
	assert_int_equal(a->rcv_wnd, b->rcv_wnd);
	assert_int_equal(a->mss, b->mss);
	assert_int_equal(a->snd_wscale, b->snd_wscale);
	assert_int_equal(a->rcv_wscale, b->rcv_wscale);
	assert_int_equal(a->retries, 0);
	assert_int_equal(b->retries, 0);
	assert_int_equal(a->acked, false);
	assert_int_equal(a->sack_ok, b->sack_ok);
	assert_int_equal(a->ts_ok, b->ts_ok);
	assert_int_equal(a->ecn_ok, b->ecn_ok);
	assert_int_equal(a->tfo_cookie, false);
	assert_int_equal(a->synack_again, false);
	assert_int_equal(a->ts_recent, b->ts_recent);
	assert_int_equal(a->oow_ms, 0);
	assert_int_equal(b->oow_ms, 0);
	sim_free(&sm);
}

/* The passive child the usual third ACK from port sport makes, its TCB
 * slot first filled with `fill`; ts: the SYN and the ACK carry
 * timestamps. */
static tcb *child_from_slot(sim *sm, int lsd, uint16_t sport, int fill, bool ts)
{
	hsk_stack *s = sm->st[0];
	void *slot = syn_after_slot(sm, &s->tcp.tcb_pool, sizeof(tcb), fill, sport, ts);
	tcp_opts a = { .wscale = -1, .has_ts = ts, .ts_val = 4243, .ts_ecr = 1 };
	sim_inject_opts(sm, 0, SIM_ADDR(5), sport, 80, 1001, s->env.cfg.isn_offset + 1, HSK_TH_ACK,
			512, &a, NULL, 0);
	tcp_listener *l = s->socks[lsd].l;
	assert_int_not_equal(l->accept_q, 0);
	tcb *t = listener_queued(l, l->accept_q - 1);
	assert_ptr_equal(t, slot);
	assert_int_equal(t->state, HSK_ESTABLISHED);
	assert_int_equal(t->node.key.rport, sport);
	return t;
}

/* The child's copy of tcb_fresh leaves out what its making writes
 * (conn.h's TCB_CHILD_SETS_AT to _END): every field of a child made in a
 * slot full of 0xa5 is what one made in a zeroed slot has, with
 * timestamps (ts_recent, ts_recent_ms the making's) and without (the
 * copy's). */
static void test_child_slot_all_written(void **state)
{
	(void)state;
	for (int ts = 0; ts <= 1; ts++) {
		hsk_config cfg;
		hsk_config_default(&cfg);
		cfg.isn_fixed = true;           /* the same ISS for both */
		cfg.isn_offset = 777000;
		sim sm;
		sim_init(&sm, 1, &cfg, 7);
		int lsd = sim_listen(&sm, 0, 80, 8);
		tcb *a = child_from_slot(&sm, lsd, 3000, 0xa5, ts);
		tcb *b = child_from_slot(&sm, lsd, 3001, 0, ts);
		assert_int_equal(!!(a->flags & TF_TS_OK), ts);
		expect_same(a, b, false);
		sim_free(&sm);
	}
}

static void test_fold_cache(void **state)
{
	(void)state;
	hsk_table t;
	assert_int_equal(tbl_init(&t, 16, 0x0123456789abcdefull, 0xfedcba9876543210ull), 0);
	uint8_t addrs[6][16];
	for (int i = 0; i < 6; i++) {
		for (int j = 0; j < 16; j++)
			addrs[i][j] = (uint8_t)(0x20 + j);
	}
	/* 0 the base; the others differ from it in one byte: first, last of
	 * each half, one in the middle */
	addrs[1][0] ^= 1;
	addrs[2][7] ^= 0x80;
	addrs[3][8] ^= 1;
	addrs[4][15] ^= 0x80;
	addrs[5][11] ^= 0x10;
	uint64_t x = 88172645463325252ull;
	for (int n = 0; n < 20000; n++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* mostly two addresses in turn, sometimes another */
		unsigned k = (x % 8) < 6 ? (unsigned)(n & 1) : (unsigned)((x >> 8) % 6);
		uint32_t want = (uint32_t)hsk_siphash13(addrs[k], 16, t.fk0, t.fk1);
		assert_int_equal(tbl_fold6(&t, addrs[k]), want);
	}
	tbl_destroy(&t);
}

static uint64_t xs(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_tuple_hash6(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int n = 0; n < 2000; n++) {
		tbl_v6addrs a;
		uint8_t m[36];
		for (int i = 0; i < 16; i++) {
			a.l[i] = (uint8_t)xs(&x);
			a.r[i] = (uint8_t)xs(&x);
		}
		uint16_t lp = (uint16_t)xs(&x), rp = (uint16_t)xs(&x);
		uint64_t k0 = xs(&x), k1 = xs(&x);
		memcpy(m, a.l, 16);
		memcpy(m + 16, a.r, 16);
		m[32] = (uint8_t)lp;
		m[33] = (uint8_t)(lp >> 8);
		m[34] = (uint8_t)rp;
		m[35] = (uint8_t)(rp >> 8);
		assert_true(tuple_hash6(&a, lp, rp, k0, k1) == hsk_siphash(m, 36, k0, k1));
	}
}

/* The ISN RFC 6528 asks for, worked out from the bytes: the clock's
 * 4-microsecond ticks plus hsk_siphash of the tuple's 12 bytes (a6 NULL)
 * or of IPv6's 36 under the stack's key with the ISN label, plus
 * isn_offset. */
static uint32_t isn_ref(const hsk_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6)
{
	uint64_t k0 = s->env.key0 ^ TCP_ISN_LABEL, k1 = s->env.key1;
	uint32_t m = (uint32_t)(s->env.now / 4000) + s->env.cfg.isn_offset;
	uint8_t b[36];
	size_t n = 0;
	if (a6) {
		memcpy(b, a6->l, 16);
		memcpy(b + 16, a6->r, 16);
		n = 32;
	} else {
		for (int i = 0; i < 4; i++) {
			b[i] = (uint8_t)(tu->laddr >> 8 * i);
			b[4 + i] = (uint8_t)(tu->raddr >> 8 * i);
		}
		n = 8;
	}
	b[n] = (uint8_t)tu->lport;
	b[n + 1] = (uint8_t)(tu->lport >> 8);
	b[n + 2] = (uint8_t)tu->rport;
	b[n + 3] = (uint8_t)(tu->rport >> 8);
	return (uint32_t)(m + (uint32_t)hsk_siphash(b, n + 4, k0, k1));
}

static void test_isn_is_siphash(void **state)
{
	(void)state;
	hsk_stack *s = stack_with("cubic", 65536);
	uint64_t x = 0x2545f4914f6cdd1dull;
	for (int n = 0; n < 1000; n++) {
		s->env.now = xs(&x) >> 8;
		s->env.cfg.isn_offset = (uint32_t)xs(&x);
		hsk_tuple tu = { (uint32_t)xs(&x), (uint32_t)xs(&x), (uint16_t)xs(&x),
				 (uint16_t)xs(&x) };
		assert_int_equal(tcp_isn(&s->tcp, &tu, NULL).v, isn_ref(s, &tu, NULL));
		tbl_v6addrs a;
		for (int i = 0; i < 16; i++) {
			a.l[i] = (uint8_t)xs(&x);
			a.r[i] = (uint8_t)xs(&x);
		}
		assert_int_equal(tcp_isn(&s->tcp, &tu, &a).v, isn_ref(s, &tu, &a));
	}
	hsk_stack_free(s);
}

/* tcp_isn keeps the state after the last addresses it hashed (IPv4's
 * first word, IPv6's 32 bytes): over random sequences from a few
 * addresses that differ in one byte of either address (IPv6: any of the
 * 32; IPv4: any of the 8), and the zero addresses the kept states start
 * from, with random ports, every ISN is the reference's. */
static void test_isn_kept_addrs(void **state)
{
	(void)state;
	hsk_stack *s = stack_with("cubic", 65536);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	tbl_v6addrs a6[34];
	hsk_tuple a4[9];
	memset(a6, 0x5a, sizeof(a6));
	for (int i = 0; i < 32; i++)
		((uint8_t *)&a6[i + 1])[i] ^= 0x80;
	memset(&a6[33], 0, sizeof(a6[33]));    /* the initial kept state's */
	a4[0] = (hsk_tuple){ 0, 0, 0, 0 };     /* the initial kept state's */
	for (int i = 0; i < 8; i++) {
		a4[i + 1] = (hsk_tuple){ 0x0a000001, 0x0a000002, 0, 0 };
		if (i < 4)
			a4[i + 1].laddr ^= 0x80u << 8 * i;
		else
			a4[i + 1].raddr ^= 0x80u << 8 * (i - 4);
	}
	for (int n = 0; n < 2000; n++) {
		s->env.now = xs(&x) >> 8;
		/* (first the zero addresses: the states kept at the start) */
		hsk_tuple tu = a4[n ? xs(&x) % 9 : 0];
		tu.lport = (uint16_t)xs(&x);
		tu.rport = (uint16_t)xs(&x);
		assert_int_equal(tcp_isn(&s->tcp, &tu, NULL).v, isn_ref(s, &tu, NULL));
		const tbl_v6addrs *a = &a6[n ? xs(&x) % 34 : 33];
		assert_int_equal(tcp_isn(&s->tcp, &tu, a).v, isn_ref(s, &tu, a));
	}
	hsk_stack_free(s);
}

typedef struct obj6 {
	tbl_node node;
	tbl_v6addrs a;
} obj6;

static void test_lookup6_cache_compares_all(void **state)
{
	(void)state;
	hsk_table t;
	assert_int_equal(tbl_init(&t, 16, 1, 2), 0);
	tbl_set_obj_size(&t, HSK_OBJ_TCB, sizeof(tbl_node));
	obj6 o = { .node = { .kind = HSK_OBJ_TCB, .v6 = 1 } };
	for (int i = 0; i < 16; i++) {
		o.a.l[i] = (uint8_t)(0x20 + i);
		o.a.r[i] = (uint8_t)(0x40 + i);
	}
	o.node.key = tbl_key6(&t, &o.a, 80, 4000);
	tbl_insert(&t, &o.node);
	for (int i = 0; i < 32; i++) {
		/* the cache holds o */
		assert_ptr_equal(tbl_lookup6(&t, &o.node.key, &o.a), &o.node);
		tbl_v6addrs b = o.a;
		((uint8_t *)&b)[i] ^= 0x01;
		/* the same key (the folds left alone): only the addresses differ */
		assert_null(tbl_lookup6(&t, &o.node.key, &b));
	}
	tbl_remove(&t, &o.node);
	tbl_destroy(&t);
}

static void tw_from_garbage(bool v6)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	sim sm;
	if (v6)
		setenv("HSK_SIM_FAMILY", "6", 1);
	else
		unsetenv("HSK_SIM_FAMILY");
	int lsd, csd, ssd;
	sim_init_pair(&sm, &cfg, 11, 80, &lsd, &csd, &ssd);
	hsk_stack *c = sm.st[0];
	hsk_pool *pool = v6 ? &c->tcp.tw_pool6 : &c->tcp.tw_pool;
	void *slot = pool_get_raw(pool);
	assert_non_null(slot);
	memset(slot, 0xa5, sizeof(tcp_tw));
	pool_put(pool, slot);
	/* the client's TCB stays with its socket after TIME_WAIT */
	assert_int_equal(hsk_shutdown(c, csd, HSK_SHUT_WR), 0);
	sim_run(&sm, 10 * 1000000ull);
	assert_int_equal(hsk_close(sm.st[1], ssd), 0);
	sim_run(&sm, 10 * 1000000ull);
	tcb *t = c->socks[csd].t;
	assert_int_equal(t->state, HSK_TIME_WAIT);
	tbl_node *n = v6 ? tbl_lookup6(&c->tcp.conns, &t->node.key, tbl_v6(&c->tcp.conns, &t->node)) :
			   tbl_lookup(&c->tcp.conns, &t->node.key);
	assert_ptr_equal(n, slot);
	tcp_tw *tw = (tcp_tw *)n;
	assert_int_equal(tw->node.kind, HSK_OBJ_TW);
	assert_int_equal(tw->node.v6, v6);
	assert_true(tuple_eq(&tw->node.key, &t->node.key));
	assert_true(timer_armed(&tw->timer));
	assert_true(seq_eq(tw->snd_nxt, t->snd_max));
	assert_true(seq_eq(tw->rcv_nxt, t->rcv_nxt));
	assert_int_equal(tw->ts_ok, (t->flags & TF_TS_OK) != 0);
	assert_int_equal(tw->reuse, 0);
	assert_int_equal(tw->tos, 0);
	assert_int_equal(tw->ts_offset, t->ts_offset);
	assert_int_equal(tw->ts_recent, t->ts_recent);
	assert_int_equal(tw->oow_ms, 0);
	assert_int_equal(tw->rcv_win, tcb_window_field(&c->tcp, t));
	/* tw_enter takes the window field of the ACK of the FIN just sent:
	 * the client's last segment carried the entry's window. */
	const sim_ev *ack = NULL;
	for (size_t i = 0; i < sm.nlog; i++)
		if (sm.log[i].host == 0 && sm.log[i].ev.kind == HSK_EV_TX)
			ack = &sm.log[i];
	assert_non_null(ack);
	assert_int_equal(ack->ev.flags, HSK_TH_ACK);
	assert_int_equal(ack->ev.win, tw->rcv_win);
	sim_finish_pair(&sm, 0, 1, lsd, csd, -1);
	unsetenv("HSK_SIM_FAMILY");
}

static void test_tw_slot_all_written(void **state)
{
	(void)state;
	tw_from_garbage(false);
	tw_from_garbage(true);
}

enum { RN = 3000 };

typedef struct rnode {
	tbl_node node;
	int id;
} rnode;

static void table_state(hsk_table *t, int *out, size_t *n)
{
	*n = 0;
	size_t nb = t->mask + 1;
	for (size_t i = 0; i < nb; i++)
		for (tbl_node *e = t->bucket[i]; e; e = e->next)
			out[(*n)++] = ((rnode *)e)->id;
	if (t->old)
		for (size_t i = 0; i <= t->old_mask; i++)
			for (tbl_node *e = t->old[i]; e; e = e->next)
				out[(*n)++] = -((rnode *)e)->id;
}

static void expect_tables_equal(hsk_table *a, hsk_table *b)
{
	static int sa[4 * RN], sb[4 * RN];
	size_t na, nb;
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->mask, b->mask);
	assert_int_equal(a->moves, b->moves);
	assert_int_equal(a->moved, b->moved);
	assert_int_equal(a->old != NULL, b->old != NULL);
	assert_int_equal(a->c_valid, b->c_valid);
	if (a->c_valid) {
		assert_true(tuple_eq(&a->c_key, &b->c_key));
		assert_int_equal(a->c_hash, b->c_hash);
		assert_int_equal(a->c_node != NULL, b->c_node != NULL);
		if (a->c_node)
			assert_int_equal(((rnode *)a->c_node)->id, ((rnode *)b->c_node)->id);
	}
	table_state(a, sa, &na);
	table_state(b, sb, &nb);
	assert_int_equal(na, nb);
	assert_memory_equal(sa, sb, na * sizeof(int));
}

static void test_replace_equals_remove_insert(void **state)
{
	(void)state;
	hsk_table a, b;
	assert_int_equal(tbl_init(&a, 16, 5, 6), 0);
	assert_int_equal(tbl_init(&b, 16, 5, 6), 0);
	/* two objects per id and table: the one in, and its successor */
	static rnode na[RN][2], nb[RN][2];
	static int in[RN];    /* which of the two is in, -1 none */
	int next_id = 1;
	uint64_t x = 0x1234567;
	for (int i = 0; i < RN; i++)
		in[i] = -1;
	for (int op = 0; op < 40000; op++) {
		int i = (int)(xs(&x) % RN);
		unsigned what = (unsigned)(xs(&x) % 8);
		if (in[i] < 0) {
			if (what < 3)
				continue;     /* fill slowly: growth happens midway */
			hsk_tuple k = { 0xc6120000u + (uint32_t)i, 0xc6130000u, (uint16_t)i, 80 };
			na[i][0] = (rnode){ .node = { .key = k }, .id = next_id };
			nb[i][0] = na[i][0];
			next_id++;
			tbl_insert(&a, &na[i][0].node);
			tbl_insert(&b, &nb[i][0].node);
			in[i] = 0;
		} else if (what < 2) {
			tbl_remove(&a, &na[i][in[i]].node);
			tbl_remove(&b, &nb[i][in[i]].node);
			in[i] = -1;
		} else {
			int o = in[i], m = 1 - o;
			na[i][m] = (rnode){ .node = { .key = na[i][o].node.key }, .id = next_id };
			nb[i][m] = na[i][m];
			next_id++;
			tbl_replace(&a, &na[i][o].node, &na[i][m].node);
			tbl_remove(&b, &nb[i][o].node);
			tbl_insert(&b, &nb[i][m].node);
			in[i] = m;
		}
		expect_tables_equal(&a, &b);
	}
	assert_true(a.mask + 1 >= 1024);      /* it grew on the way */
	tbl_destroy(&a);
	tbl_destroy(&b);
}

/* tbl_replace's short way (no migration, the count within the load)
 * and its general steps meet where tbl_insert would grow: a table whose
 * growth was refused (a failed calloc, as if) holds more than the load;
 * at the load it does not grow, one node past it starts growing, as
 * tbl_remove then tbl_insert do. */
static void test_replace_at_the_load(void **state)
{
	(void)state;
	for (size_t extra = 0; extra < 2; extra++) {
		hsk_table a, b;
		assert_int_equal(tbl_init(&a, 16, 5, 6), 0);
		assert_int_equal(tbl_init(&b, 16, 5, 6), 0);
		static rnode na[21], nb[21];
		for (int i = 0; i < 20; i++) {
			hsk_tuple k = { 0xc6120000u + (uint32_t)i, 0xc6130000u, (uint16_t)i, 80 };
			na[i] = (rnode){ .node = { .key = k }, .id = i + 1 };
			nb[i] = na[i];
			tbl_insert(&a, &na[i].node);
			tbl_insert(&b, &nb[i].node);
		}
		/* nodes the table counts but does not hold: never walked */
		a.count = b.count = TBL_MAX_LOAD * (a.mask + 1) + extra;
		na[20] = (rnode){ .node = { .key = na[7].node.key }, .id = 21 };
		nb[20] = na[20];
		tbl_replace(&a, &na[7].node, &na[20].node);
		tbl_remove(&b, &nb[7].node);
		tbl_insert(&b, &nb[20].node);
		assert_int_equal(a.old != NULL, extra == 1);
		expect_tables_equal(&a, &b);
		tbl_destroy(&a);
		tbl_destroy(&b);
	}
}

static uint16_t connect_one(hsk_stack *s, unsigned dst)
{
	bool v6 = dst & 4;
	uint16_t port = (dst & 1) ? 80 : 443;
	int sd = hsk_socket_family(s, v6 ? HSK_AF_INET6 : HSK_AF_INET);
	assert_true(sd >= 0);
	hsk_addr a = { .family = v6 ? HSK_AF_INET6 : HSK_AF_INET };
	if (v6) {
		static const uint8_t base[16] = { 0x20, 0x01, 0, 2, [15] = 0x10 };
		memcpy(a.v6, base, 16);
		a.v6[15] = (uint8_t)(0x10 + ((dst >> 1) & 1));
	} else {
		a.v4 = 0xc6120010u + ((dst >> 1) & 1);
	}
	assert_int_equal(hsk_connect_addr(s, sd, &a, port), -HSK_EINPROGRESS);
	hsk_addr me;
	uint16_t lport;
	assert_int_equal(hsk_sock_name(s, sd, &me, &lport), 0);
	return lport;
}

static void test_port_offset_memo(void **state)
{
	(void)state;
	hsk_stack *fast = stack_with("cubic", 65536), *slow = stack_with("cubic", 65536);
	slow->tcp.conn_long = true;
	hsk_addr me6 = { .family = HSK_AF_INET6, .v6 = { 0x20, 0x01, 0, 2, [15] = 1 } };
	assert_int_equal(hsk_stack_add_addr(fast, &me6, 64), 0);
	assert_int_equal(hsk_stack_add_addr(slow, &me6, 64), 0);
	uint64_t x = 0xabcdef12345ull;
	for (int n = 0; n < 600; n++) {
		/* runs of one server, then another */
		unsigned dst = (unsigned)((xs(&x) >> 5) % 8);
		for (int r = (int)(xs(&x) % 4); r >= 0; r--)
			assert_int_equal(connect_one(fast, dst), connect_one(slow, dst));
	}
	assert_true(fast->tcp.poff_valid);
	hsk_stack_free(fast);
	hsk_stack_free(slow);
}

static void test_connect_rcvbuf(void **state)
{
	(void)state;
	static const int bufs[] = { 0, 16384, 16 << 20 };    /* 0: the default */
	hsk_stack *s = stack_with("cubic", 65536);
	for (size_t i = 0; i < 3; i++) {
		int sd = hsk_socket(s);
		assert_true(sd >= 0);
		if (bufs[i])
			assert_int_equal(hsk_setsockopt(s, sd, HSK_SO_RCVBUF, bufs[i]), 0);
		int v;
		assert_int_equal(hsk_getsockopt(s, sd, HSK_SO_RCVBUF, &v), 0);
		assert_int_equal(hsk_connect(s, sd, 0xc6120010u, (uint16_t)(80 + i)),
				 -HSK_EINPROGRESS);
		const tcb *t = s->socks[sd].t;
		assert_int_equal(2 * t->rcvbuf, (uint32_t)v);
		/* autotuned, the scale of rcvbuf_max; set, the buffer's */
		assert_int_equal(t->rcv_wscale,
				 wscale_for(bufs[i] ? t->rcvbuf : s->env.cfg.rcvbuf_max));
		if (bufs[i] == 16 << 20)        /* one the default's would not be */
			assert_int_not_equal(t->rcv_wscale, s->tcp.tcb_fresh.rcv_wscale);
	}
	hsk_stack_free(s);
}

static void test_listener_rcvbuf(void **state)
{
	(void)state;
	static const int bufs[] = { 0, 16384, 16 << 20 };    /* 0: the default */
	for (size_t i = 0; i < 3; i++) {
		hsk_config cfg;
		hsk_config_default(&cfg);
		sim sm;
		sim_init(&sm, 1, &cfg, 7);
		hsk_stack *s = sm.st[0];
		int lsd = hsk_socket(s);
		assert_true(lsd >= 0);
		if (bufs[i])
			assert_int_equal(hsk_setsockopt(s, lsd, HSK_SO_RCVBUF, bufs[i]), 0);
		assert_int_equal(hsk_bind(s, lsd, 0, 80), 0);
		assert_int_equal(hsk_listen(s, lsd, 8), 0);
		const tcp_req *r = req_from_slot(&sm, lsd, 3000, 0);
		const tcp_listener *l = s->socks[lsd].l;
		assert_int_equal(r->rcv_wscale,
				 wscale_for(bufs[i] ? l->rcvbuf : s->env.cfg.rcvbuf_max));
		/* the other two are not the fresh TCB's (the default's) */
		if (bufs[i])
			assert_int_not_equal(r->rcv_wscale, s->tcp.tcb_fresh.rcv_wscale);
		sim_free(&sm);
	}
}

/* A request goes into the table by tbl_insert_cached, which trusts the
 * SYN's lookup for the cache but still grows the table at the load:
 * SYNs past the 1,024 buckets' load (2,048 requests) start a doubling
 * and finish it, the count never above the load but while migrating,
 * and every request is found again. */
static void test_req_insert_grows(void **state)
{
	(void)state;
	enum { NREQ = 2300 };
	hsk_config cfg;
	hsk_config_default(&cfg);
	sim sm;
	sim_init(&sm, 1, &cfg, 7);
	hsk_stack *s = sm.st[0];
	const hsk_table *c = &s->tcp.conns;
	size_t buckets = c->mask + 1;
	int lsd = sim_listen(&sm, 0, 80, NREQ + 10);
	tcp_opts o = { .mss = 1460, .wscale = -1 };
	for (int i = 0; i < NREQ; i++) {
		sim_inject_opts(&sm, 0, SIM_ADDR(5), (uint16_t)(2000 + i), 80, 1000, 0, HSK_TH_SYN,
				65535, &o, NULL, 0);
		assert_true(c->old || c->count <= c->full);
	}
	const tcp_listener *l = s->socks[lsd].l;
	assert_int_equal(l->syn_q, NREQ);
	assert_null(c->old);
	assert_true(c->mask + 1 > buckets);
	int found = 0;
	for (tcp_req *r = l->reqs; r; r = r->lnext, found++)
		assert_ptr_equal(tbl_lookup(&s->tcp.conns, &r->node.key), &r->node);
	assert_int_equal(found, NREQ);
	sim_free(&sm);
}

/* listener_find6, and listener_find for a dual-stack listener, take an
 * IPv6 listener bound to :: for any address, and one bound to an address
 * with any one of its sixteen bytes set (so one of its halves zero) for
 * that address alone. */
static void test_listener_any6(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 1, NULL, 7);
	hsk_stack *s = sm.st[0];
	int lsd = hsk_socket_family(s, HSK_AF_INET6);
	assert_true(lsd >= 0);
	static const uint8_t any[16];
	hsk_addr any6 = hsk_addr_v6(any);
	assert_int_equal(hsk_bind_addr(s, lsd, &any6, 80), 0);
	assert_int_equal(hsk_listen(s, lsd, 8), 0);
	tcp_listener *l = s->socks[lsd].l;
	assert_int_equal(l->family, HSK_AF_INET6);
	assert_false(l->v6only);
	uint8_t other[16];
	memset(other, 0xa5, sizeof(other));
	memset(l->addr6, 0, sizeof(l->addr6));
	assert_ptr_equal(listener_find6(&s->tcp, other, 80), l);
	assert_ptr_equal(listener_find(&s->tcp, 0x0a000001u, 80), l);
	for (int i = 0; i < 16; i++) {
		memset(l->addr6, 0, sizeof(l->addr6));
		l->addr6[i] = 1;
		assert_null(listener_find6(&s->tcp, other, 80));
		assert_ptr_equal(listener_find6(&s->tcp, l->addr6, 80), l);
		assert_null(listener_find(&s->tcp, 0x0a000001u, 80));
	}
	memset(l->addr6, 0, sizeof(l->addr6));
	sim_free(&sm);
}

static void test_act_new_cc(void **state)
{
	(void)state;
	static const char *const ccs[] = { "cubic", "newreno", "none" };
	static const uint16_t msss[] = { 10, 64, 536, 1448 };
	for (size_t c = 0; c < 3; c++) {
		hsk_stack *s = stack_with(ccs[c], 65536);
		for (size_t m = 0; m < 4; m++) {
			hsk_tuple k = { 0xc6120001u, 0xc6120002u, (uint16_t)(1000 + m), 80 };
			tcb *t = tcb_new(&s->tcp, &k, NULL);
			assert_non_null(t);
			t->mss = msss[m];
			t->cwnd = 12345u + (uint32_t)m;
			tcb_act *a = tcb_act_get(&s->tcp, t);
			assert_non_null(a);
			cc_state want;
			memset(&want, 0, sizeof(want));
			cc_init_like(&want, &s->tcp.cc_fresh[t->cc_id], t->mss);
			want.cwnd = t->cwnd;
			assert_memory_equal(&a->cc, &want, sizeof(want));
			tcb_free(&s->tcp, t);
		}
		hsk_stack_free(s);
	}
}

static void test_act_new_zeroed(void **state)
{
	(void)state;
	hsk_stack *s = stack_with("cubic", 65536);
	hsk_tuple k = { 0xc6120001u, 0xc6120002u, 1000, 80 };
	tcb *t = tcb_new(&s->tcp, &k, NULL);
	assert_non_null(t);
	tcb_act *a = tcb_act_get(&s->tcp, t);
	assert_non_null(a);
	/* garbage everywhere before cc, but what tcb_act_free reads */
	memset(a, 0xa5, offsetof(tcb_act, cc));
	a->idle_listed = false;
	a->sack_on = false;
	tcb_act_free(&s->tcp, t);
	t->snd_una = seq_of(0x12345678u);
	tcb_act *b = tcb_act_get(&s->tcp, t);
	assert_ptr_equal(b, a);                 /* the slot it left */
	tcb_act want;
	memset(&want, 0, offsetof(tcb_act, cc));
	want.recover = want.snd_sml = t->snd_una;
	assert_memory_equal(b, &want, offsetof(tcb_act, cc));
	tcb_free(&s->tcp, t);
	hsk_stack_free(s);
}

static void test_act_put_idle_dates(void **state)
{
	(void)state;
	const uint64_t ms = 1000000ull, keep = 40 * ms;   /* active.c's ACT_KEEP_NS */
	hsk_stack *s = stack_with("cubic", 65536);
	hsk_tuple k = { 0xc6120001u, 0xc6120002u, 1000, 80 };
	tcb *t = tcb_new(&s->tcp, &k, NULL);
	assert_non_null(t);
	assert_non_null(tcb_act_get(&s->tcp, t));
	uint64_t t0 = s->env.now;
	tcb_act_put_idle(&s->tcp, t);           /* kept: the newest */
	assert_ptr_equal(s->tcp.act_idle_tail, t);
	assert_true(t->act->idle_at == t0);
	s->env.now = t0 + 30 * ms;
	tcb_act_put_idle(&s->tcp, t);           /* quiescent again, later */
	assert_true(t->act->idle_at == t0 + 30 * ms);
	tcb_act_reap(&s->tcp, t0 + keep + 1);   /* from the first: too soon */
	assert_non_null(t->act);
	tcb_act_reap(&s->tcp, t0 + 30 * ms + keep);
	assert_null(t->act);
	tcb_free(&s->tcp, t);
	hsk_stack_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcb_fresh_equals_long_way),
		cmocka_unit_test(test_req_slot_all_written),
		cmocka_unit_test(test_child_slot_all_written),
		cmocka_unit_test(test_fold_cache),
		cmocka_unit_test(test_tuple_hash6),
		cmocka_unit_test(test_isn_is_siphash),
		cmocka_unit_test(test_isn_kept_addrs),
		cmocka_unit_test(test_lookup6_cache_compares_all),
		cmocka_unit_test(test_tw_slot_all_written),
		cmocka_unit_test(test_replace_equals_remove_insert),
		cmocka_unit_test(test_replace_at_the_load),
		cmocka_unit_test(test_port_offset_memo),
		cmocka_unit_test(test_connect_rcvbuf),
		cmocka_unit_test(test_listener_rcvbuf),
		cmocka_unit_test(test_req_insert_grows),
		cmocka_unit_test(test_listener_any6),
		cmocka_unit_test(test_act_new_cc),
		cmocka_unit_test(test_act_new_zeroed),
		cmocka_unit_test(test_act_put_idle_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
