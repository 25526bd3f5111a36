/*
 * Socket options. A fresh or listening socket keeps them for the
 * connection it will make (accepted connections inherit the listener's);
 * a connected socket applies them to its TCB at once.
 */
#include "stack/stack.h"

static int flag_opt(int opt)
{
	switch (opt) {
	case HSK_SO_NODELAY: return TF_NODELAY;
	case HSK_SO_KEEPALIVE: return TF_KEEPALIVE;
	case HSK_SO_LINGER0: return TF_LINGER0;
	default: return 0;
	}
}

static uint32_t *flags_of(hsk_sock *k)
{
	if (k->kind == SK_CONN)
		return &k->t->flags;
	if (k->kind == SK_LISTEN)
		return &k->l->flags;
	return &k->flags;
}

static int set_buf(hsk_sock *k, int opt, int value)
{
	/* Buffers are sized before first use; later changes are refused. */
	if (value < 1024 || value > (1 << 30))
		return -HSK_EINVAL;
	uint32_t v = (uint32_t)value;
	if (k->kind == SK_CONN) {
		tcb *t = k->t;
		if ((opt == HSK_SO_SNDBUF && t->snd.buf) || (opt == HSK_SO_RCVBUF && t->rcv.buf))
			return -HSK_EINVAL;
		if (opt == HSK_SO_SNDBUF)
			t->sndbuf = v;
		else
			t->rcvbuf = v;
		return 0;
	}
	uint32_t *dst = opt == HSK_SO_SNDBUF ? &k->sndbuf : &k->rcvbuf;
	if (k->kind == SK_LISTEN)
		dst = opt == HSK_SO_SNDBUF ? &k->l->sndbuf : &k->l->rcvbuf;
	*dst = v;
	return 0;
}

/* Keepalive timing of a connection (Linux's limits: 1..32767 s, 1..127
 * probes); before connect() or on a listener the stack's hsk_config
 * values apply. */
static int set_keepalive(hsk_stack *s, hsk_sock *k, int opt, int value)
{
	if (k->kind != SK_CONN)
		return -HSK_ENOTCONN;
	if (value < 1 || value > (opt == HSK_SO_KEEPCNT ? 127 : 32767))
		return -HSK_EINVAL;
	tcb *t = k->t;
	if (opt == HSK_SO_KEEPIDLE) {
		t->keep_idle_s = (uint32_t)value;
		if (t->keep_at) {
			t->keep_at = s->env.now + keep_idle_ns(&s->tcp, t);
			tcb_timer_update(&s->tcp, t);
		}
	} else if (opt == HSK_SO_KEEPINTVL) {
		t->keep_intvl_s = (uint32_t)value;
	} else {
		t->keep_cnt = (uint8_t)value;
	}
	return 0;
}

int hsk_setsockopt(hsk_stack *s, int sd, int opt, int value)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	int f = flag_opt(opt);
	if (f) {
		uint32_t *flags = flags_of(k);
		if (value)
			*flags |= (uint32_t)f;
		else
			*flags &= ~(uint32_t)f;
		if (k->kind == SK_CONN && opt == HSK_SO_KEEPALIVE) {
			tcb *t = k->t;
			t->keep_at = value ? s->env.now + keep_idle_ns(&s->tcp, t) : 0;
			tcb_timer_update(&s->tcp, t);
		}
		if (k->kind == SK_CONN && opt == HSK_SO_NODELAY && value)
			tcp_output(&s->tcp, k->t);
		return 0;
	}
	switch (opt) {
	case HSK_SO_SNDBUF:
	case HSK_SO_RCVBUF:
		return set_buf(k, opt, value);
	case HSK_SO_V6ONLY:
		/* An IPv6 option (ENOPROTOOPT on IPv4, as Linux), and only
		 * while nothing is bound. */
		if (k->family != HSK_AF_INET6)
			return -HSK_ENOPROTOOPT;
		if (k->kind != SK_FRESH || k->bport || k->baddr6)
			return -HSK_EINVAL;
		k->v6only = value != 0;
		return 0;
	case HSK_SO_USER_TIMEOUT:
		if (value < 0)
			return -HSK_EINVAL;
		if (k->kind == SK_CONN)
			k->t->user_timeout_ns = (uint64_t)value * 1000000;
		else
			k->user_timeout_ns = (uint64_t)value * 1000000;
		return 0;
	case HSK_SO_KEEPIDLE:
	case HSK_SO_KEEPINTVL:
	case HSK_SO_KEEPCNT:
		return set_keepalive(s, k, opt, value);
	default:
		return -HSK_ENOPROTOOPT;
	}
}

int hsk_getsockopt(hsk_stack *s, int sd, int opt, int *value)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	int f = flag_opt(opt);
	if (f) {
		*value = (*flags_of(k) & (uint32_t)f) != 0;
		return 0;
	}
	switch (opt) {
	case HSK_SO_SNDBUF:
		*value = (int)(k->kind == SK_CONN ? k->t->sndbuf :
			       k->kind == SK_LISTEN ? k->l->sndbuf : k->sndbuf);
		return 0;
	case HSK_SO_RCVBUF:
		*value = (int)(k->kind == SK_CONN ? k->t->rcvbuf :
			       k->kind == SK_LISTEN ? k->l->rcvbuf : k->rcvbuf);
		return 0;
	case HSK_SO_MAXSEG:
		*value = k->kind == SK_CONN ? k->t->mss :
			 tcp_our_mss(&s->tcp, k->family == HSK_AF_INET6);
		return 0;
	case HSK_SO_V6ONLY:
		if (k->family != HSK_AF_INET6)
			return -HSK_ENOPROTOOPT;
		*value = k->kind == SK_LISTEN ? k->l->v6only : k->v6only;
		return 0;
	case HSK_SO_USER_TIMEOUT:
		*value = (int)((k->kind == SK_CONN ? k->t->user_timeout_ns :
				k->user_timeout_ns) / 1000000);
		return 0;
	default:
		return -HSK_ENOPROTOOPT;
	}
}
