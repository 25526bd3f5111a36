/*
 * The TCP layer's life: its tables and pools, what it frees at the end,
 * and the dispatch of a due wheel timer to the object that owns it.
 */
#include <stdlib.h>

#include "tcp/reass.h"
#include "tcp/tcp.h"

int tcp_init(tcp_stack *s, hsk_env *env, ip_layer *ip)
{
	const hsk_config *cfg = &env->cfg;
	s->env = env;
	s->ip = ip;
	s->mss = (uint16_t)(cfg->mtu - IPV4_HDR_LEN - TCP_HDR_LEN);
	rtt_params_default(&s->rttp);
	s->rttp.rto_initial = cfg->rto_initial_ns;
	s->rttp.rto_min = cfg->rto_min_ns;
	s->rttp.rto_max = cfg->rto_max_ns;
	s->cc_ops = cc_find(cfg->congestion_control ? cfg->congestion_control : "cubic");
	if (!s->cc_ops)
		return -HSK_EINVAL;
	if (tbl_init(&s->conns, 1024, env->key0, env->key1) < 0)
		return -HSK_ENOMEM;
	pool_init(&s->tcb_pool, sizeof(tcb), cfg->max_conns);
	pool_init(&s->req_pool, sizeof(tcp_req), cfg->max_conns);
	pool_init(&s->tw_pool, sizeof(tcp_tw), cfg->max_tw_buckets);
	pool_init(&s->lst_pool, sizeof(tcp_listener), cfg->max_sockets);
	/* Only one size is cached: send and receive defaults alike. */
	if (cfg->sndbuf == cfg->rcvbuf) {
		s->ring_cache_cap = 1;
		while (s->ring_cache_cap < cfg->sndbuf)
			s->ring_cache_cap <<= 1;
	}
	return 0;
}

void tcb_release_buffers(tcb *t)
{
	ring_destroy(&t->snd);
	ring_destroy(&t->rcv);
	free(t->ooo);
	t->ooo = NULL;
	rec_sack_free(t);
}

static void free_conn_node(void *ctx, tbl_node *n)
{
	(void)ctx;
	if (n->kind == HSK_OBJ_TCB)
		tcb_release_buffers((tcb *)n);
}

void tcp_destroy(tcp_stack *s)
{
	if (s->conns.bucket)
		tbl_foreach(&s->conns, free_conn_node, s);
	tbl_destroy(&s->conns);
	pool_destroy(&s->tcb_pool);
	pool_destroy(&s->req_pool);
	pool_destroy(&s->tw_pool);
	pool_destroy(&s->lst_pool);
	while (s->ring_cache_n)
		free(s->ring_cache[--s->ring_cache_n]);
	tfo_destroy(s);
}

void tcp_timer_fire(tcp_stack *s, hsk_timer *tm, uint64_t now)
{
	/* Every kind starts with the same two members (tcp.h). */
	tbl_node *n = (tbl_node *)((char *)tm - offsetof(tcb, timer));
	switch (n->kind) {
	case HSK_OBJ_TCB:
		tcb_timer_fire(s, (tcb *)n, now);
		break;
	case HSK_OBJ_REQ:
		req_timer_fire(s, (tcp_req *)n, now);
		break;
	case HSK_OBJ_TW:
		tw_timer_fire(s, (tcp_tw *)n, now);
		break;
	}
}
