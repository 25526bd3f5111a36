/*
 * Socket options, in Linux's units (docs/api.md has each one's Linux
 * counterpart and what differs on purpose). A fresh or listening socket
 * keeps them for the connection it will make (accepted connections
 * inherit the listener's, as Linux copies the listening socket); a
 * connected socket applies them to its TCB at once.
 *
 * Where they live: flags (Nagle, keepalive, linger-zero, pingpong) in
 * hsk_sock.flags and then the TCB's; the rarer ones in hsk_sock.opt
 * (allocated when one is first set), and what TCP needs of them in the
 * TCB (tos, user_mss, congestion control) or the listener.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"
#include "tcp/pace.h"

static const sock_opts opts_default = {
	.linger_s = SOCK_LINGER_OFF, .rcvlowat = 1, .sndlowat = 1,
};

const sock_opts *sock_opts_get(const hsk_stack *s, const hsk_sock *k)
{
	(void)s;
	return k->opt ? k->opt : &opts_default;
}

static sock_opts *opts_mut(hsk_sock *k)
{
	if (!k->opt) {
		k->opt = malloc(sizeof(*k->opt));
		if (k->opt)
			*k->opt = opts_default;
	}
	return k->opt;
}

int sock_opts_inherit(hsk_sock *to, const hsk_sock *from)
{
	if (!from->opt)
		return 0;
	if (!opts_mut(to))
		return -HSK_ENOMEM;
	*to->opt = *from->opt;
	to->opt->defer_retrans = 0;     /* a listener's own */
	to->opt->tfo_qlen = 0;
	return 0;
}

int sock_opts_to_tcb(hsk_stack *s, const hsk_sock *k, tcb *t)
{
	const sock_opts *o = sock_opts_get(s, k);
	t->tos = o->tos;
	if (o->cc)
		t->cc_id = cc_index(o->cc) & 3;
	if (o->reuseaddr)
		t->flags |= TF_REUSEADDR;
	/* The extension holds the rarer ones (and then stays), the
	 * keepalive timings set before connect() among them (Linux keeps
	 * them on the socket). */
	uint32_t pace_cap = sock_pace_cap(s, o);
	if (o->user_timeout_ns || o->user_mss || o->keep_idle_s || o->keep_intvl_s ||
	    o->keep_cnt || pace_cap != s->tcp.pace_default) {
		tcb_act *a = tcb_act_get(&s->tcp, t);
		if (!a)
			return -HSK_ENOMEM;
		a->user_timeout_ns = o->user_timeout_ns;
		a->user_mss = o->user_mss;
		a->keep_idle_s = o->keep_idle_s;
		a->keep_intvl_s = o->keep_intvl_s;
		a->keep_cnt = o->keep_cnt;
		a->pace_cap = pace_cap;
		a->pace_next = 0;
	}
	return 0;
}

void sock_opts_to_listener(const hsk_stack *s, const hsk_sock *k, tcp_listener *l)
{
	const sock_opts *o = sock_opts_get(s, k);
	l->tos = o->tos;
	l->user_mss = o->user_mss;
	l->defer_retrans = o->defer_retrans;
	l->cc = o->cc;
	l->reuseport = o->reuseport;
	if (o->reuseaddr)
		l->flags |= TF_REUSEADDR;
	l->tfo_qlen = o->tfo_qlen < s->env.cfg.somaxconn ? o->tfo_qlen : s->env.cfg.somaxconn;
	if (!l->tfo_qlen && (s->env.cfg.tcp_fastopen & HSK_TFO_SERVER_ALL))
		l->tfo_qlen = l->backlog;       /* Linux's TFO_SERVER_WO_SOCKOPT1 */
}

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

/* Linux's secs_to_retrans / retrans_to_secs (TCP_DEFER_ACCEPT): seconds
 * as a count of SYN-ACK timeouts of 1 s doubling up to 120 s, and back
 * (so a value reads back rounded up to the schedule: 5 -> 7). */
static uint8_t secs_to_retrans(int secs)
{
	int period = 1, timeout = 1;
	uint8_t res = 0;
	if (secs > 0) {
		res = 1;
		while (secs > period && res < 255) {
			res++;
			timeout <<= 1;
			if (timeout > 120)
				timeout = 120;
			period += timeout;
		}
	}
	return res;
}

static int retrans_to_secs(uint8_t retrans)
{
	int period = 0, timeout = 1;
	if (retrans > 0) {
		period = 1;
		while (--retrans) {
			timeout <<= 1;
			if (timeout > 120)
				timeout = 120;
			period += timeout;
		}
	}
	return period;
}

static int set_buf(hsk_sock *k, int opt, int value)
{
	/* As Linux, a size out of range is brought into it (here 1 KiB to
	 * 1 GiB of payload); a negative one is refused. The ring is sized at
	 * first use: a change after that is refused. A size set is the
	 * application's: autotuning leaves that buffer alone (Linux's
	 * SOCK_SNDBUF_LOCK, SOCK_RCVBUF_LOCK). */
	if (value < 0)
		return -HSK_EINVAL;
	uint32_t v = value < 1024 ? 1024u : value > (1 << 30) ? 1u << 30 : (uint32_t)value;
	unsigned lock = opt == HSK_SO_SNDBUF ? BUF_LOCK_SND : BUF_LOCK_RCV;
	if (k->kind == SK_CONN) {
		tcb *t = k->t;
		if (t->act && ((opt == HSK_SO_SNDBUF && t->act->snd.buf) ||
			       (opt == HSK_SO_RCVBUF && t->act->rcv.buf)))
			return -HSK_EINVAL;
		if (opt == HSK_SO_SNDBUF)
			t->sndbuf = v;
		else
			t->rcvbuf = v;
		/* (a window scale already sent stays: the window field
		 * saturates at 65535 should the buffer set pass its reach) */
		tcb_set_buf_locks(t, tcb_buf_locks(t) | lock);
		if (t->act)     /* a receive count under way stops (tune.c) */
			t->act->tune &= (uint8_t)~TUNE_RCV;
		return 0;
	}
	uint32_t *dst = opt == HSK_SO_SNDBUF ? &k->sndbuf : &k->rcvbuf;
	if (k->kind == SK_LISTEN) {
		dst = opt == HSK_SO_SNDBUF ? &k->l->sndbuf : &k->l->rcvbuf;
		k->l->buf_locks |= (uint8_t)lock;
	} else {
		k->buf_locks = (k->buf_locks | lock) & 3;
	}
	*dst = v;
	return 0;
}

/* Keepalive timing of a connection (Linux's limits: 1..32767 s, 1..127
 * probes); before connect() or on a listener it is kept for the
 * connection. */
static int set_keepalive(hsk_stack *s, hsk_sock *k, int opt, int value)
{
	if (value < 1 || value > (opt == HSK_SO_KEEPCNT ? 127 : 32767))
		return -HSK_EINVAL;
	if (k->kind != SK_CONN) {
		sock_opts *o = opts_mut(k);
		if (!o)
			return -HSK_ENOMEM;
		if (opt == HSK_SO_KEEPIDLE)
			o->keep_idle_s = (uint32_t)value;
		else if (opt == HSK_SO_KEEPINTVL)
			o->keep_intvl_s = (uint32_t)value;
		else
			o->keep_cnt = (uint8_t)value;
		return 0;
	}
	tcb *t = k->t;
	/* Set, they live in the TCB's active extension. */
	tcb_act *a = tcb_act_get(&s->tcp, t);
	if (!a)
		return -HSK_ENOMEM;
	if (opt == HSK_SO_KEEPIDLE) {
		a->keep_idle_s = (uint32_t)value;
		if (t->keep_at) {
			t->keep_at = s->env.now + keep_idle_ns(&s->tcp, t);
			tcb_timer_update(&s->tcp, t);
		}
	} else if (opt == HSK_SO_KEEPINTVL) {
		a->keep_intvl_s = (uint32_t)value;
	} else {
		a->keep_cnt = (uint8_t)value;
	}
	return 0;
}

static int get_keepalive(hsk_stack *s, hsk_sock *k, int opt)
{
	const hsk_config *c = &s->env.cfg;
	uint32_t idle = 0, intvl = 0, cnt = 0;
	if (k->kind == SK_CONN) {
		const tcb_act *a = k->t->act;
		idle = a ? a->keep_idle_s : 0;
		intvl = a ? a->keep_intvl_s : 0;
		cnt = a ? a->keep_cnt : 0;
	} else {
		const sock_opts *o = sock_opts_get(s, k);
		idle = o->keep_idle_s;
		intvl = o->keep_intvl_s;
		cnt = o->keep_cnt;
	}
	if (opt == HSK_SO_KEEPIDLE)
		return (int)(idle ? idle : c->keepalive_idle_ns / 1000000000ull);
	if (opt == HSK_SO_KEEPINTVL)
		return (int)(intvl ? intvl : c->keepalive_intvl_ns / 1000000000ull);
	return (int)(cnt ? cnt : c->keepalive_probes);
}

/* SO_LINGER: -1 off, 0 reset on close (TF_LINGER0), N > 0 seconds. */
static int set_linger(hsk_sock *k, int value)
{
	if (value < -1)
		return -HSK_EINVAL;
	sock_opts *o = opts_mut(k);
	if (!o)
		return -HSK_ENOMEM;
	o->linger_s = value;
	if (value == 0)
		*flags_of(k) |= TF_LINGER0;
	else
		*flags_of(k) &= ~(uint32_t)TF_LINGER0;
	return 0;
}

static int set_tos(hsk_sock *k, int value)
{
	/* As Linux for a stream socket: the ECN bits are TCP's (ecn.c). */
	uint8_t tos = (uint8_t)value & (uint8_t)~IP_ECN_MASK;
	sock_opts *o = opts_mut(k);
	if (!o)
		return -HSK_ENOMEM;
	o->tos = tos;
	if (k->kind == SK_CONN)
		k->t->tos = tos;
	else if (k->kind == SK_LISTEN)
		k->l->tos = tos;
	return 0;
}

static int set_maxseg(hsk_stack *s, hsk_sock *k, int value)
{
	/* Linux's TCP_MIN_MSS (88) and MAX_TCP_WINDOW (32767); 0: none. */
	if (value && (value < 88 || value > 32767))
		return -HSK_EINVAL;
	sock_opts *o = opts_mut(k);
	if (!o)
		return -HSK_ENOMEM;
	o->user_mss = (uint16_t)value;
	/* Like Linux: on a connection it is noted, not applied (the MSS
	 * was settled by the SYNs). */
	if (k->kind == SK_CONN) {
		tcb_act *a = value || k->t->act ? tcb_act_get(&s->tcp, k->t) : NULL;
		if (a)
			a->user_mss = (uint16_t)value;
		else if (value)
			return -HSK_ENOMEM;
	} else if (k->kind == SK_LISTEN)
		k->l->user_mss = (uint16_t)value;
	return 0;
}

static int set_fastopen(hsk_stack *s, hsk_sock *k, int opt, int value)
{
	if (opt == HSK_TCP_FASTOPEN) {
		/* The queue of pending Fast Open connections of a listener,
		 * capped by somaxconn (Linux's fastopen_queue_tune). */
		if (value < 0 || k->kind == SK_CONN)
			return -HSK_EINVAL;
		sock_opts *o = opts_mut(k);
		if (!o)
			return -HSK_ENOMEM;
		o->tfo_qlen = (uint32_t)value;
		if (k->kind == SK_LISTEN)
			sock_opts_to_listener(s, k, k->l);
		return 0;
	}
	if (value < 0 || value > 1)
		return -HSK_EINVAL;
	if (!(s->env.cfg.tcp_fastopen & HSK_TFO_CLIENT))
		return -HSK_EOPNOTSUPP;
	if (k->kind != SK_FRESH)
		return -HSK_EINVAL;
	sock_opts *o = opts_mut(k);
	if (!o)
		return -HSK_ENOMEM;
	o->tfo_connect = value;
	return 0;
}

/* SO_MAX_PACING_RATE on a connection: on, off or another cap at once;
 * what pacing held back goes when it may. */
static int set_pacing(hsk_stack *s, tcb *t, uint32_t cap)
{
	/* (without an extension: a new one starts with the stack's) */
	bool own = cap != s->tcp.pace_default;
	tcb_act *a = own || t->act ? tcb_act_get(&s->tcp, t) : NULL;
	if (!a)
		return own ? -HSK_ENOMEM : 0;
	if (!a->pace_cap)
		a->pace_next = 0;
	a->pace_cap = cap;
	a->pace_wait_at = 0;
	tcp_output(&s->tcp, t);
	return 0;
}

/* Options that are the socket layer's alone, or kept for later. */
static int set_sock_opt(hsk_stack *s, hsk_sock *k, int opt, int value)
{
	sock_opts *o = opts_mut(k);
	if (!o)
		return -HSK_ENOMEM;
	switch (opt) {
	case HSK_SO_RCVLOWAT:
		/* Linux: negative is INT_MAX, 0 is 1. */
		o->rcvlowat = value < 0 ? INT_MAX : value ? (uint32_t)value : 1;
		return 0;
	case HSK_SO_SNDLOWAT:
		/* Linux refuses to set it (ENOPROTOOPT); FreeBSD's rule: at
		 * least 1, at most the buffer. */
		if (value < 1)
			return -HSK_EINVAL;
		o->sndlowat = (uint32_t)value;
		return 0;
	case HSK_TCP_NOTSENT_LOWAT:
		o->notsent_lowat = (uint32_t)value;     /* 0: the stack's */
		return 0;
	case HSK_SO_REUSEADDR:
		o->reuseaddr = value != 0;
		if (k->kind == SK_CONN) {
			if (value)
				k->t->flags |= TF_REUSEADDR;
			else
				k->t->flags &= ~(uint32_t)TF_REUSEADDR;
		}
		return 0;
	case HSK_SO_REUSEPORT:
		o->reuseport = value != 0;
		if (k->kind == SK_LISTEN)
			k->l->reuseport = o->reuseport;
		return 0;
	case HSK_TCP_DEFER_ACCEPT:
		o->defer_retrans = secs_to_retrans(value);
		if (k->kind == SK_LISTEN)
			k->l->defer_retrans = o->defer_retrans;
		return 0;
	case HSK_SO_MAX_PACING_RATE:
		if (value < -1)
			return -HSK_EINVAL;
		o->pace_cap = value < 0 ? PACE_UNCAPPED : (uint32_t)value;
		o->pace_set = true;
		return k->kind == SK_CONN ? set_pacing(s, k->t, o->pace_cap) : 0;
	case HSK_SO_USER_TIMEOUT:
		if (value < 0)
			return -HSK_EINVAL;
		o->user_timeout_ns = (uint64_t)value * 1000000;
		if (k->kind == SK_CONN) {
			tcb *t = k->t;
			tcb_act *a = value || t->act ? tcb_act_get(&s->tcp, t) : NULL;
			if (a)
				a->user_timeout_ns = o->user_timeout_ns;
			else if (value)
				return -HSK_ENOMEM;
		}
		return 0;
	}
	(void)s;
	return -HSK_ENOPROTOOPT;
}

int hsk_setsockopt(hsk_stack *s, int sd, int opt, int value)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	stack_clock_check(s);
	int f = flag_opt(opt);
	if (f) {
		uint32_t *flags = flags_of(k);
		if (value)
			*flags |= (uint32_t)f;
		else
			*flags &= ~(uint32_t)f;
		if (opt == HSK_SO_LINGER0 && (k->opt || value)) {
			sock_opts *o = opts_mut(k);
			if (!o)
				return -HSK_ENOMEM;
			o->linger_s = value ? 0 : SOCK_LINGER_OFF;
		}
		if (k->kind == SK_CONN && opt == HSK_SO_KEEPALIVE) {
			tcb *t = k->t;
			t->keep_at = value && state_synchronized(t->state) ?
				s->env.now + keep_idle_ns(&s->tcp, t) : 0;
			tcb_timer_update(&s->tcp, t);
		}
		if (k->kind == SK_CONN && opt == HSK_SO_NODELAY && value)
			tcp_output(&s->tcp, k->t);
		return 0;
	}
	switch (opt) {
	case HSK_TCP_QUICKACK:
		/* Linux's pingpong mode, inverted (quickack.c). */
		if (k->kind == SK_CONN)
			qack_set(&s->tcp, k->t, value != 0);
		else if (value)
			*flags_of(k) &= ~(uint32_t)TF_PINGPONG;
		else
			*flags_of(k) |= TF_PINGPONG;
		return 0;
	case HSK_SO_SNDBUF:
	case HSK_SO_RCVBUF:
		return set_buf(k, opt, value);
	case HSK_SO_V6ONLY:
		/* An IPv6 option (ENOPROTOOPT on IPv4, as Linux), and only
		 * while nothing is bound. */
		if (!k->inet6)
			return -HSK_ENOPROTOOPT;
		if (k->kind != SK_FRESH || k->bport || k->baddr6 || k->mapped)
			return -HSK_EINVAL;
		k->v6only = value != 0;
		return 0;
	case HSK_SO_KEEPIDLE:
	case HSK_SO_KEEPINTVL:
	case HSK_SO_KEEPCNT:
		return set_keepalive(s, k, opt, value);
	case HSK_SO_LINGER:
		return set_linger(k, value);
	case HSK_IP_TOS:
		return set_tos(k, value);
	case HSK_SO_MAXSEG:
		return set_maxseg(s, k, value);
	case HSK_TCP_FASTOPEN:
	case HSK_TCP_FASTOPEN_CONNECT:
		return set_fastopen(s, k, opt, value);
	default:
		return set_sock_opt(s, k, opt, value);
	}
}

static int get_maxseg(hsk_stack *s, hsk_sock *k)
{
	const sock_opts *o = sock_opts_get(s, k);
	/* Linux: the MSS in use once connected; before, what was set, or
	 * 536 (TCP_MSS_DEFAULT). */
	if (k->kind == SK_CONN && state_synchronized(k->t->state))
		return k->t->mss;
	return o->user_mss ? o->user_mss : TCP_DEFAULT_MSS;
}

int hsk_getsockopt(hsk_stack *s, int sd, int opt, int *value)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	const sock_opts *o = sock_opts_get(s, k);
	int f = flag_opt(opt);
	if (f) {
		*value = (*flags_of(k) & (uint32_t)f) != 0;
		return 0;
	}
	switch (opt) {
	case HSK_TCP_QUICKACK:
		*value = !(*flags_of(k) & TF_PINGPONG);
		return 0;
	case HSK_SO_SNDBUF:
	case HSK_SO_RCVBUF: {
		bool snd = opt == HSK_SO_SNDBUF;
		uint32_t v = k->kind == SK_CONN ? (snd ? k->t->sndbuf : k->t->rcvbuf) :
			     k->kind == SK_LISTEN ? (snd ? k->l->sndbuf : k->l->rcvbuf) :
			     (snd ? k->sndbuf : k->rcvbuf);
		/* Linux reports twice what was set (its bookkeeping). */
		*value = v > INT_MAX / 2 ? INT_MAX : (int)(2 * v);
		return 0;
	}
	case HSK_SO_MAXSEG:
		*value = get_maxseg(s, k);
		return 0;
	case HSK_SO_V6ONLY:
		if (!k->inet6)
			return -HSK_ENOPROTOOPT;
		*value = k->v6only;
		return 0;
	case HSK_SO_USER_TIMEOUT:
		*value = (int)((k->kind == SK_CONN ? tcb_user_timeout(k->t) :
				o->user_timeout_ns) / 1000000);
		return 0;
	case HSK_SO_KEEPIDLE:
	case HSK_SO_KEEPINTVL:
	case HSK_SO_KEEPCNT:
		*value = get_keepalive(s, k, opt);
		return 0;
	case HSK_SO_LINGER:
		*value = (*flags_of(k) & TF_LINGER0) ? 0 : o->linger_s;
		return 0;
	case HSK_IP_TOS:
		*value = k->kind == SK_CONN ? k->t->tos : o->tos;
		/* Linux's inet->tos shows ECT(0) once ECN is in use. */
		if (k->kind == SK_CONN && (k->t->ecn & ECN_OK))
			*value |= IP_ECN_ECT0;
		return 0;
	case HSK_SO_RCVLOWAT:
		*value = o->rcvlowat > INT_MAX ? INT_MAX : (int)o->rcvlowat;
		return 0;
	case HSK_SO_SNDLOWAT:
		*value = o->sndlowat > INT_MAX ? INT_MAX : (int)o->sndlowat;
		return 0;
	case HSK_TCP_NOTSENT_LOWAT:
		*value = (int)o->notsent_lowat;         /* as Linux: 0 is unset */
		return 0;
	case HSK_SO_MAX_PACING_RATE:
		*value = sock_pace_cap(s, o) == PACE_UNCAPPED ? -1 : (int)sock_pace_cap(s, o);
		return 0;
	case HSK_SO_REUSEADDR:
		*value = o->reuseaddr;
		return 0;
	case HSK_SO_REUSEPORT:
		*value = o->reuseport;
		return 0;
	case HSK_TCP_DEFER_ACCEPT:
		*value = retrans_to_secs(k->kind == SK_LISTEN ? k->l->defer_retrans :
					 o->defer_retrans);
		return 0;
	case HSK_TCP_FASTOPEN:
		*value = (int)(k->kind == SK_LISTEN ? k->l->tfo_qlen : o->tfo_qlen);
		return 0;
	case HSK_TCP_FASTOPEN_CONNECT:
		*value = o->tfo_connect;
		return 0;
	case HSK_SO_ERROR:
		*value = k->kind == SK_CONN ? hsk_sock_error(s, sd) : 0;
		return 0;
	default:
		return -HSK_ENOPROTOOPT;
	}
}

int hsk_setsockopt_str(hsk_stack *s, int sd, int opt, const char *value)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	if (opt != HSK_TCP_CONGESTION)
		return -HSK_ENOPROTOOPT;
	const cc_ops *ops = value ? cc_find(value) : NULL;
	if (!ops)
		return -HSK_ENOENT;
	sock_opts *o = opts_mut(k);
	if (!o)
		return -HSK_ENOMEM;
	o->cc = ops;
	if (k->kind == SK_LISTEN)
		k->l->cc = ops;
	else if (k->kind == SK_CONN)
		tcb_set_cc(&s->tcp, k->t, ops);
	return 0;
}

int hsk_getsockopt_str(hsk_stack *s, int sd, int opt, char *buf, size_t cap)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	if (opt != HSK_TCP_CONGESTION)
		return -HSK_ENOPROTOOPT;
	if (!cap)
		return -HSK_EINVAL;
	const cc_ops *ops = k->kind == SK_CONN ? tcb_cc_ops(k->t) : sock_opts_get(s, k)->cc;
	if (!ops)
		ops = s->tcp.cc_ops;
	size_t n = strlen(ops->name);
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, ops->name, n);
	buf[n] = '\0';
	return 0;
}
