/*
 * tcb_window_field (mem.c) leaves the right edge of the window where it
 * is without working it out again when it would not move (nothing more
 * to offer, or less than receiver SWS avoidance's step): over random
 * receive states -- RCV.NXT and the edge offered ahead of it, at it or
 * behind it, buffer and ring sizes, bytes held, no extension, window
 * scale, MSS, memory pressure -- its field and rcv_adv are those of the
 * whole computation (ref_window_field: RFC 9293 §3.8.6.2.2 as written
 * before the short way), and each way is taken many times -- among them
 * the edge within a step of rcvbuf, which stays without the space.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rand.h"
#include "tcp/tcp.h"

/* The window field and rcv_adv, computed in full every time. */
static uint16_t ref_window_field(tcp_stack *s, tcb *t)
{
	uint32_t space = tcb_rcv_space(s, t);
	uint32_t promised = seq_gt(t->rcv_adv, t->rcv_nxt) ?
		(uint32_t)seq_diff(t->rcv_adv, t->rcv_nxt) : 0;
	if (space <= promised) {
		space = promised;
	} else {
		uint32_t step = t->rcvbuf / 2 < t->mss ? t->rcvbuf / 2 : t->mss;
		if (space - promised < step)
			space = promised;
	}
	uint32_t field = space >> t->rcv_wscale;
	if (field > 65535)
		field = 65535;
	hsk_seq edge = seq_add(t->rcv_nxt, field << t->rcv_wscale);
	if (seq_gt(edge, t->rcv_adv))
		t->rcv_adv = edge;
	return (uint16_t)field;
}

static uint32_t pick(hsk_rng *r, uint32_t max)
{
	return (uint32_t)rng_below(r, (uint64_t)max + 1);
}

static void test_window_field_short_way(void **state)
{
	(void)state;
	static hsk_env env;
	static tcp_stack s;
	static uint8_t dummy[1];
	hsk_rng r;
	rng_seed(&r, 7);
	s.env = &env;
	unsigned stays = 0, moves = 0, behind = 0, bound = 0;
	for (int i = 0; i < 200000; i++) {
		tcb t, u;
		tcb_act a;
		memset(&t, 0, sizeof(t));
		memset(&a, 0, sizeof(a));
		t.rcvbuf = 1u << (10 + pick(&r, 12));
		if (rng_below(&r, 2))
			t.rcvbuf += pick(&r, t.rcvbuf - 1);
		t.mss = (uint16_t)(rng_below(&r, 4) ? 536 + pick(&r, 8964) : pick(&r, 65535));
		t.rcv_wscale = (uint8_t)(rng_below(&r, 3) ? pick(&r, 14) : 0);
		env.cfg.rcvbuf_min = 1u << (8 + pick(&r, 8));
		s.mem_pressure = rng_below(&r, 4) == 0;
		if (rng_below(&r, 5)) {
			t.act = &a;
			if (rng_below(&r, 4)) {
				a.rcv.buf = dummy;
				a.rcv.cap = 1u << (8 + pick(&r, 16));
				a.rcv.len = rng_below(&r, 3) ? pick(&r, a.rcv.cap) : 0;
			}
		}
		t.rcv_nxt = seq_of((uint32_t)rng_next(&r));
		/* The edge: near what the room allows (the usual cases: a
		 * step short of it, at it, past it), at RCV.NXT, behind it,
		 * or anywhere. */
		uint32_t room = tcb_rcv_space(&s, &t);
		int32_t off;
		switch (rng_below(&r, 5)) {
		case 0: off = (int32_t)room - (int32_t)pick(&r, 2 * t.mss); break;
		case 1: off = (int32_t)room + (int32_t)pick(&r, 4096); break;
		case 2: off = 0; break;
		case 3: off = -(int32_t)pick(&r, 1u << 20); break;
		default: off = (int32_t)pick(&r, 1u << 24); break;
		}
		t.rcv_adv = seq_add(t.rcv_nxt, (uint32_t)off);
		u = t;
		uint16_t want = ref_window_field(&s, &u);
		uint32_t promised = seq_gt(t.rcv_adv, t.rcv_nxt) ?
			(uint32_t)seq_diff(t.rcv_adv, t.rcv_nxt) : 0;
		uint32_t step = t.rcvbuf / 2 < t.mss ? t.rcvbuf / 2 : t.mss;
		if (promised > t.rcvbuf - step)
			bound++;        /* stays without the space worked out */
		uint16_t got = tcb_window_field(&s, &t);
		assert_int_equal(got, want);
		assert_int_equal(t.rcv_adv.v, u.rcv_adv.v);
		if (seq_eq(t.rcv_adv, u.rcv_adv) && promised && seq_gt(u.rcv_adv, t.rcv_nxt) &&
		    (uint32_t)seq_diff(u.rcv_adv, t.rcv_nxt) == promised)
			stays++;
		else if (!promised && seq_lt(seq_add(t.rcv_nxt, (uint32_t)off), t.rcv_nxt) &&
			 seq_eq(t.rcv_adv, t.rcv_nxt))
			behind++;
		else
			moves++;
	}
	/* every way, many times */
	assert_true(stays > 10000);
	assert_true(moves > 10000);
	assert_true(behind > 1000);
	assert_true(bound > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_field_short_way),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
