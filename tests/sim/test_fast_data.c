/*
 * Header prediction's data segment (arrive.c's hp_data) gives what the
 * general steps give: host S's accepted connection (a peer played here,
 * peer.h) takes the peer's text in shapes, each run made twice, as the
 * stack runs and with tcp_stack.no_fastpath (every segment the general
 * way), and the two runs' events and counters are compared.
 *
 * "RCV.NXT did not move": the first text finds no memory for a receive
 * ring (tcp_mem_high reached), is dropped (TCPRcvQDrop) and acknowledged
 * at once; memory back, the peer sends it again and then a run of small
 * segments. TF_RCV_MOVED must stay clear after the drop (hp_data sets it
 * from data_in_order's answer): set, the text taken again would not enter
 * quick-ACK mode as the first text does (qack_on_data), one quick ACK
 * fewer would be left, and the run's ACKs would differ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "stack/stack.h"
#include "peer.h"
#include "shapes.h"

typedef struct receiving {
	const char *name;
	bool exhausted;           /* no memory for the first text's ring */
} receiving;

static void run_receiving(const void *pv, bool slow, outcome *out)
{
	const receiving *v = pv;
	peer p;
	peer_open(&p, false, slow, 4251);
	hsk_config *c = &p.st->env.cfg;
	hsk_config saved = *c;
	if (v->exhausted)
		c->tcp_mem_high = c->tcp_mem_pressure = (uint32_t)p.st->tcp.buffer_bytes;
	peer_send(&p, 0, 0, HSK_TH_ACK | HSK_TH_PSH, 2000, text, 10);
	sim_run(&p.sm, 7 * MS);
	assert_int_equal(sim_counter(&p.sm, S, "TCPRcvQDrop"), v->exhausted ? 1 : 0);
	c->tcp_mem_high = saved.tcp_mem_high;
	c->tcp_mem_pressure = saved.tcp_mem_pressure;
	uint32_t at = v->exhausted ? 0 : 10;
	/* the text (again), then small segments 1 ms apart: as many as the
	 * quick ACKs left and a few more */
	for (int i = 0; i < 24; i++) {
		peer_send(&p, at, 0, HSK_TH_ACK | HSK_TH_PSH, 2000, text + at % 90, 10);
		at += 10;
		sim_run(&p.sm, 1 * MS);
	}
	sim_run(&p.sm, 7 * MS);
	char line[96];
	snprintf(line, sizeof(line), "TCPRcvQDrop %llu, OutSegs %llu",
		 (unsigned long long)sim_counter(&p.sm, S, "TCPRcvQDrop"),
		 (unsigned long long)sim_counter(&p.sm, S, "OutSegs"));
	peer_abort_end(&p, out, line);
}

static void test_data_in_order(void **state)
{
	(void)state;
	static const receiving shapes[] = {
		{ "text, then small segments", .exhausted = false },
		{ "text without memory, again, then small segments", .exhausted = true },
	};
	SHAPES_COMPARE("header prediction's text", shapes, run_receiving);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
