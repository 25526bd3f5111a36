/*
 * The Fast Open scenarios' setup, shared by test_tfo and test_tfo_keys
 * (tfo.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack.h"
#include "tcp/passive.h"
#include "tfo.h"

enum { C = TFO_C, S = TFO_S, PORT = TFO_PORT };

hsk_config cfg_tfo(unsigned bits)
{
	hsk_config c;
	hsk_config_default(&c);
	c.tcp_fastopen = bits;
	return c;
}

const sim_ev *next_seg_at(sim *sm, int host, uint8_t flags, uint32_t len, int line)
{
	const sim_ev *e = sim_next_tx(sm);
	if (!e || e->host != host || e->ev.flags != flags || e->ev.len != len) {
		fprintf(stderr, "line %d: expected h%d flags %02x len %u, got ", line, host,
			flags, len);
		if (e)
			fprintf(stderr, "h%d flags %02x len %u\n", e->host, e->ev.flags, e->ev.len);
		else
			fprintf(stderr, "none\n");
		fail();
	}
	return e;
}

/* The Fast Open option of the segment expect_seg just consumed. */
int last_fo(const sim *sm)
{
	return sm->log[sm->tx_cursor - 1].ev.fastopen;
}

int tfo_listen(sim *sm, int qlen)
{
	hsk_stack *s = sm->st[S];
	int lsd = sim_socket(sm, S);
	assert_int_equal(hsk_setsockopt(s, lsd, HSK_TCP_FASTOPEN, qlen), 0);
	assert_int_equal(sim_bind_any(sm, S, lsd, PORT), 0);
	assert_int_equal(hsk_listen(s, lsd, 16), 0);
	int v = -1;
	assert_int_equal(hsk_getsockopt(s, lsd, HSK_TCP_FASTOPEN, &v), 0);
	assert_int_equal(v, qlen);
	return lsd;
}

/* Client C with the default Fast Open bits (client only), server S with
 * client and server, listening on PORT with a Fast Open queue of qlen. */
int tfo_setup_cfg(sim *sm, const hsk_config *sc, uint64_t seed, int qlen)
{
	const hsk_config *cfgs[2] = { NULL, sc };
	sim_init_hosts(sm, 2, cfgs, seed);
	return tfo_listen(sm, qlen);
}

int tfo_setup(sim *sm, uint64_t seed, int qlen)
{
	hsk_config sc = cfg_tfo(HSK_TFO_CLIENT | HSK_TFO_SERVER);
	return tfo_setup_cfg(sm, &sc, seed, qlen);
}

/* The end of a test: every timer run out, nothing left in any pool. */
void tfo_end(sim *sm)
{
	sim_run_idle(sm, 600 * SEC);
	sim_assert_no_leaks(sm);
	sim_free(sm);
}

/* The same after closing the listener. */
void tfo_finish(sim *sm, int lsd)
{
	hsk_close(sm->st[S], lsd);
	tfo_end(sm);
}

/* A new socket of host h sends msg with MSG_FASTOPEN to S:PORT; sendto
 * says want. */
int tfo_send(sim *sm, int h, const char *msg, int want)
{
	int sd = hsk_socket(sm->st[h]);
	assert_int_equal(hsk_sendto(sm->st[h], sd, msg, strlen(msg), HSK_MSG_FASTOPEN,
				    SIM_ADDR(S), PORT), want);
	return sd;
}

/* Client C aborts csd, the server closes its end ssd. */
void tfo_drop(sim *sm, int csd, int ssd)
{
	hsk_abort(sm->st[C], csd);
	hsk_close(sm->st[S], ssd);
}

/* S's cookie for the host at v4 (over IPv6, of the addresses' twins). */
void cookie_for(sim *sm, uint32_t v4, uint8_t ck[8])
{
	hsk_tuple tu = { .laddr = SIM_ADDR(S), .raddr = v4 };
	tbl_v6addrs a6;
	memcpy(a6.l, sim_addr(sm, S).v6, 16);
	memcpy(a6.r, sim_twin(sm, v4).v6, 16);
	tfo_cookie_make(&sm->st[S]->tcp, &tu, sm->family == HSK_AF_INET6 ? &a6 : NULL, ck);
}

/* A first connection from host h asks for a cookie (nothing on its SYN
 * but the request, -EINPROGRESS), the SYN-ACK brings it; closed again. */
void fetch_cookie(sim *sm, int h, int lsd)
{
	hsk_stack *c = sm->st[h], *s = sm->st[S];
	int sd = tfo_send(sm, h, "early", -HSK_EINPROGRESS);
	sim_run(sm, 10 * MS);
	int ssd = sim_accept(sm, S, lsd);
	uint8_t cookie[16];
	assert_int_equal(hsk_fastopen_cookie_get(c, SIM_ADDR(S), cookie), 8);
	hsk_abort(c, sd);
	hsk_close(s, ssd);
	sim_run(sm, 10 * MS);
}
