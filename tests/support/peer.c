/* The peer played against host S; see peer.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "sim.h"
#include "stack/stack.h"
#include "peer.h"
#include "shapes.h"

void peer_open_queued(peer *p, bool plain, bool slow, uint64_t seed)
{
	hsk_config cfg;
	hsk_config_default(&cfg);
	if (plain)
		cfg.sack = cfg.timestamps = cfg.window_scaling = false, cfg.ecn = 0;
	else
		cfg.ecn = 1;
	sim_init(&p->sm, 2, &cfg, seed);
	p->sm.st[S]->tcp.no_fastpath = slow;
	p->st = p->sm.st[S];
	/* the family's listener: sim_inject speaks it (HSK_SIM_FAMILY) */
	p->lsd = sim_socket(&p->sm, S);
	assert_int_equal(sim_bind_any(&p->sm, S, p->lsd, 80), 0);
	assert_int_equal(hsk_listen(p->st, p->lsd, 4), 0);
	p->addr = SIM_ADDR(7);
	p->irs = 123456;
	p->tsv = 1000;
	tcp_opts *o = &p->o;
	*o = peer_syn_opts(p->tsv);
	sim_inject_opts(&p->sm, S, p->addr, 4000, 80, p->irs, 0,
			HSK_TH_SYN | HSK_TH_ECE | HSK_TH_CWR, 2000, o, NULL, 0);
	const sim_ev *e = sim_next_tx(&p->sm);
	assert_non_null(e);
	assert_int_equal(e->ev.flags & (HSK_TH_SYN | HSK_TH_ACK), HSK_TH_SYN | HSK_TH_ACK);
	p->iss = e->ev.seq;
	uint32_t ecr = e->ev.ts_val;
	sim_run(&p->sm, 7 * MS);
	tcp_opts_init(o);
	o->has_ts = true;
	o->ts_val = ++p->tsv;
	o->ts_ecr = ecr;
	sim_inject_opts(&p->sm, S, p->addr, 4000, 80, p->irs + 1, p->iss + 1, HSK_TH_ACK, 2000,
			o, NULL, 0);
	p->sd = -1;
}

void peer_open(peer *p, bool plain, bool slow, uint64_t seed)
{
	peer_open_queued(p, plain, slow, seed);
	p->sd = hsk_accept(p->st, p->lsd, NULL);
	assert_true(p->sd >= 0);
}

void peer_send(peer *p, uint32_t dseq, uint32_t dack, uint8_t flags, uint16_t win,
	       const uint8_t *bytes, size_t len)
{
	p->o.ts_val = ++p->tsv;
	sim_inject_opts(&p->sm, S, p->addr, 4000, 80, p->irs + 1 + dseq, p->iss + 1 + dack,
			flags, win, &p->o, bytes, len);
}

const uint8_t text[100] = { 1, 2, 3 };

void peer_write(peer *p)
{
	assert_int_equal(hsk_send(p->st, p->sd, text, sizeof(text)), sizeof(text));
	sim_run(&p->sm, 7 * MS);
}

void peer_outcome(peer *p, outcome *out)
{
	outcome_of(&p->sm, p->st, NULL, 0, out);
}

void peer_close(peer *p, bool open)
{
	if (open)
		assert_int_equal(hsk_shutdown(p->st, p->sd, HSK_SHUT_WR), 0);
	else
		assert_int_equal(hsk_close(p->st, p->sd), 0);
}

void peer_end(peer *p, bool open, outcome *out)
{
	sim_run(&p->sm, 70 * SEC);
	if (open)
		assert_int_equal(hsk_close(p->st, p->sd), 0);
	assert_int_equal(hsk_close(p->st, p->lsd), 0);
	sim_run(&p->sm, 1 * SEC);
	peer_outcome(p, out);
}

bool socket_told(hsk_stack *st, int sd)
{
	int m = sim_socket_events(st, sd);
	return m >= 0 && (m & HSK_POLLIN);
}

void peer_abort_end(peer *p, outcome *out, const char *line)
{
	assert_int_equal(hsk_abort(p->st, p->sd), 0);
	sim_run(&p->sm, 7 * MS);
	assert_int_equal(hsk_close(p->st, p->lsd), 0);
	sim_run(&p->sm, 1 * SEC);
	peer_outcome(p, out);
	outcome_add(out, strdup(line));
}
