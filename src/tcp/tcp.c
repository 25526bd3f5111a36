/*
 * The TCP layer's life: its tables and pools, what it frees at the end,
 * and the dispatch of a due wheel timer to the object that owns it.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/pace.h"
#include "tcp/passive.h"
#include "tcp/tcp.h"

int tcp_init(tcp_stack *s, hsk_env *env, ip_layer *ip)
{
	const hsk_config *cfg = &env->cfg;
	s->env = env;
	s->ip = ip;
	s->mss = (uint16_t)(cfg->mtu - IPV4_HDR_LEN - TCP_HDR_LEN);
	/* IPv6 links carry at least 1280 bytes (RFC 8200 §5): an MTU below
	 * that is IPv4's business, IPv6 still assumes 1280. */
	s->mss6 = (uint16_t)((cfg->mtu < IPV6_MIN_MTU ? IPV6_MIN_MTU : cfg->mtu) -
			     IPV6_HDR_LEN - TCP_HDR_LEN);
	rtt_params_default(&s->rttp);
	s->rttp.rto_initial = cfg->rto_initial_ns;
	s->rttp.rto_min = cfg->rto_min_ns;
	s->rttp.rto_max = cfg->rto_max_ns;
	s->pace_default = cfg->pacing_rate < 0 ? PACE_UNCAPPED : (uint32_t)cfg->pacing_rate;
	s->cc_ops = cc_find(cfg->congestion_control ? cfg->congestion_control : "cubic");
	if (!s->cc_ops)
		return -HSK_EINVAL;
	for (unsigned i = 0; i < CC_ALGOS; i++)
		cc_init(&s->cc_fresh[i], cc_at(i), TCP_DEFAULT_MSS, 0);
	if (tbl_init(&s->conns, 1024, env->key0, env->key1) < 0)
		return -HSK_ENOMEM;
	tcp_isn_init(s);
	cookie_key_init(s);
	tfo_keys_init(s);
	pool_init(&s->tcb_pool, sizeof(tcb), cfg->max_conns);
	pool_init(&s->req_pool, sizeof(tcp_req), cfg->max_conns);
	pool_init(&s->tw_pool, sizeof(tcp_tw), cfg->max_tw_buckets);
	pool_init(&s->lst_pool, sizeof(tcp_listener), cfg->max_sockets);
	pool_init(&s->act_pool, sizeof(tcb_act), 0);
	pool_init(&s->tcb_pool6, sizeof(tcb) + sizeof(tbl_v6addrs), cfg->max_conns);
	pool_init(&s->req_pool6, sizeof(tcp_req) + sizeof(tbl_v6addrs), cfg->max_conns);
	pool_init(&s->tw_pool6, sizeof(tcp_tw) + sizeof(tbl_v6addrs), cfg->max_tw_buckets);
	tbl_set_obj_size(&s->conns, HSK_OBJ_TCB, sizeof(tcb));
	tbl_set_obj_size(&s->conns, HSK_OBJ_REQ, sizeof(tcp_req));
	tbl_set_obj_size(&s->conns, HSK_OBJ_TW, sizeof(tcp_tw));
	memset(&s->tcb_fresh, 0, sizeof(s->tcb_fresh));
	tcb_fresh_init(s, &s->tcb_fresh);
	/* Only one size is cached: send and receive defaults alike. */
	if (cfg->sndbuf == cfg->rcvbuf) {
		s->ring_cache_cap = 1;
		while (s->ring_cache_cap < cfg->sndbuf)
			s->ring_cache_cap <<= 1;
	}
	return 0;
}

void *tcp_obj_get(tcp_stack *s, int kind, const hsk_tuple *key, const tbl_v6addrs *a6)
{
	tbl_node *n = tcp_obj_slot(s, kind, a6);
	if (!n)
		return NULL;
	/* zeroed up to the addresses (the slot's rest) */
	memset(n, 0, s->conns.obj_size[kind]);
	n->key = *key;
	n->kind = (uint32_t)kind & 0x7f;
	n->v6 = a6 != NULL;
	return n;
}

void tcb_release_buffers(tcp_stack *s, tcb *t)
{
	if (!t->act)
		return;
	ring_destroy(&t->act->snd);
	ring_destroy(&t->act->rcv);
	tcb_act_free(s, t);
}

static void free_conn_node(void *ctx, tbl_node *n)
{
	if (n->kind == HSK_OBJ_TCB)
		tcb_release_buffers(ctx, (tcb *)n);
}

void tcp_destroy(tcp_stack *s)
{
	if (s->conns.bucket)
		tbl_foreach(&s->conns, free_conn_node, s);
	tbl_destroy(&s->conns);
	for (tcp_listener *l = s->listeners; l; l = l->next)
		listener_free(s, l);
	pool_destroy(&s->tcb_pool);
	pool_destroy(&s->req_pool);
	pool_destroy(&s->tw_pool);
	pool_destroy(&s->lst_pool);
	pool_destroy(&s->act_pool);
	pool_destroy(&s->tcb_pool6);
	pool_destroy(&s->req_pool6);
	pool_destroy(&s->tw_pool6);
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
