/*
 * TCP Fast Open (RFC 7413), both ends, as Linux (net/ipv4/tcp_fastopen.c,
 * tcp_input.c: tcp_rcv_fastopen_synack, tcp_output.c: tcp_send_syn_data).
 * hsk_config.tcp_fastopen has Linux's bits (HSK_TFO_*).
 *
 * Server (the server bit, and TCP_FASTOPEN's queue length on the
 * listener, or HSK_TFO_SERVER_ALL):
 *   SYN with a cookie request   a normal request whose SYN-ACK carries
 *                               the client's cookie (TCPFastOpenCookieReqd)
 *   SYN with a valid cookie     a TCB in SYN_RECEIVED at once, on the
 *                               accept queue with the SYN's data readable,
 *                               its SYN-ACK acknowledging the data; it may
 *                               send before the handshake completes
 *                               (TCPFastOpenPassive)
 *   SYN with a wrong cookie     a normal request (the data is not taken:
 *                               the client sends it again), the SYN-ACK
 *                               with the right cookie (TCPFastOpenPassiveFail)
 *   queue full                  TCBs still in SYN_RECEIVED reached the
 *                               listener's TCP_FASTOPEN: a normal request,
 *                               no cookie (TCPFastOpenListenOverflow)
 * The cookie is 8 bytes of SipHash-2-4 of the client's and our address
 * under the primary key (Linux: SipHash of the addresses under
 * tcp_fastopen_key). Keys, as Linux's primary and backup (RFC 7413
 * §4.1.2: a server may rotate them): cookies are made with the primary
 * and accepted with either.
 *   at start            hsk_config.tcp_fastopen_key, or one derived from
 *                       the stack's secret (all zero); a shard set gives
 *                       all its shards one key (shards.c), so a client
 *                       that lands on another shard keeps its cookie
 *   hsk_fastopen_key_set  primary and backup, as Linux's TCP_FASTOPEN_KEY
 *   rotation            every tcp_fastopen_key_rotate_ns of the clock,
 *                       period n = now / interval: primary K(master, n),
 *                       backup K(master, n - 1), master being the key
 *                       set. A cookie stays valid through the period
 *                       after the one it was made in. A pure function of
 *                       the key and the clock, so the stacks of a shard
 *                       set rotate together without talking. Linux does
 *                       not rotate by itself (its user sets new keys).
 *
 * Client (the client bit): the cookie a server gave is cached per server
 * address (Linux's tcp metrics), with the server's MSS. hsk_sendto with
 * HSK_MSG_FASTOPEN, or connect() and the first write with
 * TCP_FASTOPEN_CONNECT, open a connection whose SYN carries
 *   a cookie cached             the cookie and data from the send ring (at
 *                               most min(our MSS, the server's) - 40 bytes,
 *                               as Linux leaves room for every option)
 *   no cookie                   a cookie request, no data (the data goes
 *                               after the handshake)
 * The SYN-ACK's cookie is cached. Data the SYN-ACK acknowledges is done
 * (TCPFastOpenActive); data it does not is sent again at once after the
 * handshake (TCPFastOpenActiveFail). A retransmitted SYN carries the
 * cookie but no data (Linux sends its data-less copy). Two SYN timeouts
 * in a row with Fast Open make the client leave it aside for 60 s << n,
 * as Linux's syn_loss back-off.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rand.h"
#include "tcp/passive.h"
#include "tcp/tcp.h"

#define TFO_LABEL 0x74666f636f6f6b69ull  /* "tfocooki" */
enum { TFO_CACHE_SIZE = 256, TFO_OPT_ROOM = 40 };

typedef struct tfo_entry {
	uint8_t addr[16];         /* the server (IPv4 v4-mapped); 0: free */
	uint32_t loss_ms;         /* the last SYN loss (ms clock) */
	uint16_t mss;             /* the server's MSS, 0: unknown */
	uint8_t len;              /* cookie length, 0: none yet */
	uint8_t syn_loss;         /* SYN timeouts in a row with Fast Open */
	uint8_t cookie[TCP_FO_COOKIE_MAX];
} tfo_entry;

/* Direct-mapped by a keyed hash of the address: a server's entry may be
 * taken over by another's, which costs one round trip to get a cookie
 * again. */
struct tfo_cache {
	tfo_entry e[TFO_CACHE_SIZE];
};

static uint32_t ms_clock(const tcp_stack *s)
{
	uint32_t ms = (uint32_t)(s->env->now / 1000000);
	return ms ? ms : 1;
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void store64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Period n's key under master. */
static void key_derive(const uint64_t master[2], uint64_t n, uint64_t out[2])
{
	out[0] = hsk_siphash(&n, sizeof(n), master[0], master[1] ^ TFO_LABEL);
	out[1] = hsk_siphash(&n, sizeof(n), master[0] ^ TFO_LABEL, master[1]);
}

/* The keys of the present period (rotation), derived when it began. */
static const tfo_keys *keys_now(tcp_stack *s)
{
	tfo_keys *k = &s->tfo_keys;
	uint64_t every = s->env->cfg.tcp_fastopen_key_rotate_ns;
	if (!every)
		return k;
	uint64_t n = s->env->now / every;
	if (n != k->period || !k->backup) {
		key_derive(k->master, n, k->key[0]);
		key_derive(k->master, n - 1, k->key[1]);
		k->backup = true;
		k->period = n;
	}
	return k;
}

void tfo_keys_init(tcp_stack *s)
{
	static const uint8_t zero[16];
	const uint8_t *ck = s->env->cfg.tcp_fastopen_key;
	tfo_keys *k = &s->tfo_keys;
	if (memcmp(ck, zero, sizeof(zero))) {
		k->master[0] = load64(ck);
		k->master[1] = load64(ck + 8);
	} else {
		k->master[0] = s->env->key0 ^ TFO_LABEL;
		k->master[1] = s->env->key1;
	}
	k->key[0][0] = k->master[0];
	k->key[0][1] = k->master[1];
	k->backup = false;              /* derived at first use with rotation */
}

void tfo_keys_set(tcp_stack *s, const uint8_t primary[16], const uint8_t *backup)
{
	/* (keys_now: the key in use now, which the last one derived may not
	 * be when periods passed without a cookie made or checked) */
	tfo_keys *k = &s->tfo_keys;
	const tfo_keys *cur = keys_now(s);
	uint64_t old[2] = { cur->key[0][0], cur->key[0][1] };
	k->master[0] = load64(primary);
	k->master[1] = load64(primary + 8);
	k->key[0][0] = k->master[0];
	k->key[0][1] = k->master[1];
	k->backup = backup != NULL;
	if (backup) {
		k->key[1][0] = load64(backup);
		k->key[1][1] = load64(backup + 8);
	}
	if (!s->env->cfg.tcp_fastopen_key_rotate_ns)
		return;
	/* Rotating: this period's key derived from the new master; the
	 * backup, unless given, the key in use until now, so that the
	 * cookies just made stay valid through the period. */
	k->period = s->env->now / s->env->cfg.tcp_fastopen_key_rotate_ns;
	key_derive(k->master, k->period, k->key[0]);
	if (!backup) {
		k->key[1][0] = old[0];
		k->key[1][1] = old[1];
	}
	k->backup = true;
}

int tfo_keys_get(tcp_stack *s, uint8_t out[32])
{
	const tfo_keys *k = keys_now(s);
	for (int i = 0; i < (k->backup ? 2 : 1); i++) {
		store64(out + 16 * i, k->key[i][0]);
		store64(out + 16 * i + 8, k->key[i][1]);
	}
	return k->backup ? 32 : 16;
}

/* Over the two addresses: IPv4's, or IPv6's whole (a tuple's IPv6
 * addresses are folds keyed by each stack's own secret, which the stacks
 * of a shard set do not share). */
static void cookie_with(const uint64_t key[2], const hsk_tuple *tu, const tbl_v6addrs *a6,
			uint8_t out[8])
{
	if (a6) {
		uint8_t a[32];
		memcpy(a, a6->r, 16);
		memcpy(a + 16, a6->l, 16);
		store64(out, hsk_siphash(a, sizeof(a), key[0], key[1]));
		return;
	}
	uint32_t a[2] = { tu->raddr, tu->laddr };
	store64(out, hsk_siphash(a, sizeof(a), key[0], key[1]));
}

void tfo_cookie_make(tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6, uint8_t out[8])
{
	cookie_with(keys_now(s)->key[0], tu, a6, out);
}

/* Compared in constant time: its bytes are a secret's. */
static bool cookie_eq(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;
	for (int i = 0; i < TFO_COOKIE_LEN; i++)
		diff |= (uint8_t)(a[i] ^ b[i]);
	return diff == 0;
}

/* 0: not valid; 1: made with the primary key; 2: with the backup. */
static int fo_cookie_check(tcp_stack *s, const tcp_seg *sg)
{
	uint8_t want[TFO_COOKIE_LEN];
	const tfo_keys *k = keys_now(s);
	if (sg->th.opt.fo_len != TFO_COOKIE_LEN)
		return 0;
	for (int i = 0; i < (k->backup ? 2 : 1); i++) {
		cookie_with(k->key[i], &sg->tuple, sg->a6, want);
		if (cookie_eq(want, sg->th.opt.fo_cookie))
			return i + 1;
	}
	return 0;
}

/* ---- server ---- */

/* Linux's tcp_fastopen_queue_check: the listener takes Fast Open, and its
 * queue of connections still in SYN_RECEIVED has room. */
static bool queue_check(tcp_stack *s, tcp_listener *l)
{
	if (!l->tfo_qlen)
		return false;
	if (l->tfo_pending >= l->tfo_qlen) {
		CNT_INC(s->env, TCPFastOpenListenOverflow);
		return false;
	}
	return true;
}

/* The TCB the valid cookie earns, with the SYN's data, its SYN-ACK sent
 * (with a new cookie when the SYN's was the backup key's). It keeps its
 * listener and IRS in its extension (which its outstanding SYN-ACK keeps
 * anyway), on the listener's list of pending children. */
static bool passive_open(tcp_stack *s, tcp_listener *l, const tcp_seg *sg, const hsk_seq *isn,
			 bool new_cookie)
{
	tcp_req r;
	req_from_syn(s, l, sg, isn, &r);
	tcb *t = listener_child(s, l, &r, sg->a6);
	if (!t)
		return false;
	tcb_act *a = tcb_act_get(s, t);
	if (!a) {
		/* Off the accept queue again: listener_child put it last. */
		l->accept_q--;
		t->flags &= ~TF_ON_ACCEPTQ;
		tcb_free(s, t);
		return false;
	}
	trace_obj_state(s, HSK_OBJ_REQ, &t->node.key, sg->a6, HSK_LISTEN, HSK_SYN_RECEIVED,
			"rcv SYN with Fast Open cookie");
	t->flags |= TF_TFO_CHILD | TF_TFO_PENDING;
	l->tfo_pending++;
	a->tfo_newcookie = new_cookie;
	a->listener = l;
	a->irs = sg->seq;
	a->tfo_next = l->tfo_kids;
	if (l->tfo_kids)
		l->tfo_kids->act->tfo_prev = t;
	l->tfo_kids = t;
	/* What an established connection has: it may send at once (RFC 7413
	 * §4.2.2), within the initial window. */
	tcb_cc_init(s, t, t->mss);
	a->recover = t->snd_una;
	t->lrcv_ms = ms_clock(s);
	t->snd_nxt = t->snd_max = t->iss;       /* the SYN-ACK is still to go */
	if (sg->len) {
		if (tcb_alloc_rcv(s, t) == 0) {
			uint32_t room = tcb_rcv_room(t);
			uint32_t n = sg->len < room ? sg->len : room;
			ring_write(&a->rcv, sg->data, n);
			t->rcv_nxt = seq_add(t->rcv_nxt, n);
			if (n)
				t->flags |= TF_RCV_MOVED;
			t->lrcv_ms = ms_clock(s);
		} else {
			CNT_INC(s->env, TCPRcvQDrop);   /* the client sends it again */
		}
	}
	tcp_output(s, t);                       /* SYN-ACK, acking the data */
	return true;
}

enum tfo_syn_res tfo_syn(tcp_stack *s, tcp_listener *l, const tcp_seg *sg, const hsk_seq *isn)
{
	const tcp_opts *o = &sg->th.opt;
	unsigned cfg = s->env->cfg.tcp_fastopen;
	if (o->has_fo && o->fo_len == 0)
		CNT_INC(s->env, TCPFastOpenCookieReqd);
	if (!(sg->len || o->has_fo) || !queue_check(s, l))
		return TFO_SYN_REQ;
	int valid = 1;
	if (!(cfg & HSK_TFO_SERVER_NO_COOKIE)) {
		if (!o->has_fo)
			return TFO_SYN_REQ;
		if (o->fo_len == 0)
			return TFO_SYN_COOKIE;
		if (!(valid = fo_cookie_check(s, sg))) {
			CNT_INC(s->env, TCPFastOpenPassiveFail);
			return TFO_SYN_COOKIE;
		}
	}
	if (!passive_open(s, l, sg, isn, valid == 2)) {
		CNT_INC(s->env, TCPFastOpenPassiveFail);
		return TFO_SYN_REQ;
	}
	/* A backup key's cookie: the SYN-ACK brings one of the primary, so
	 * the client keeps up with the rotation (Linux's
	 * TCPFastOpenPassiveAltKey). */
	if (valid == 2)
		CNT_INC(s->env, TCPFastOpenPassiveAltKey);
	CNT_INC(s->env, TCPFastOpenPassive);
	return TFO_SYN_TAKEN;
}

bool tfo_opt_fits(tcp_stack *s, const tcp_opts *o, bool v6, uint8_t len)
{
	tcp_opts with = *o;
	with.has_fo = true;
	with.fo_len = len;
	return tcp_opts_len(&with) <= tcp_our_mss(s, v6);
}

void tfo_synack_out(tcp_stack *s, tcb *t, seg_out *o, uint8_t cookie[8])
{
	if (!t->act || !t->act->tfo_newcookie ||
	    !tfo_opt_fits(s, &o->opt, t->node.v6, TFO_COOKIE_LEN))
		return;
	tfo_cookie_make(s, &t->node.key, obj_a6(s, &t->node), cookie);
	o->opt.has_fo = true;
	o->opt.fo_len = TFO_COOKIE_LEN;
	o->opt.fo_cookie = cookie;
}

bool tfo_child_syn(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	if ((sg->th.flags & (HSK_TH_SYN | HSK_TH_ACK | HSK_TH_RST)) != HSK_TH_SYN ||
	    !t->act || !seq_eq(sg->seq, t->act->irs))
		return false;
	/* The client did not hear our SYN-ACK: say it again, at most once per
	 * invalid_ratelimit (as a request does, reply.c). */
	uint32_t now = ms_clock(s);
	uint32_t gap = (uint32_t)(s->env->cfg.invalid_ratelimit_ns / 1000000);
	if (t->rl.oow_ms && now - t->rl.oow_ms < gap) {
		CNT_INC(s->env, TCPACKSkippedSynRecv);
		return true;
	}
	t->rl.oow_ms = now;
	CNT_INC(s->env, TCPSynRetrans);
	t->snd_nxt = t->iss;
	tcp_output(s, t);
	return true;
}

void tfo_child_established(tcp_stack *s, tcb *t)
{
	/* The SYN-ACK's round trip, unless it was sent again (Karn). */
	if (!(t->flags & TF_SYN_RETRANS) && t->act && t->act->rtt_start)
		rtt_add_sample(&t->rtt, &s->rttp, s->env->now - t->act->rtt_start, false,
			       s->env->now);
	tfo_child_done(s, t);
}

void tfo_child_done(tcp_stack *s, tcb *t)
{
	(void)s;
	t->flags &= ~(uint32_t)TF_TFO_PENDING;
	tcb_act *a = t->act;
	if (!a)
		return;
	a->tfo_newcookie = false;
	tcp_listener *l = a->listener;
	if (l) {
		if (l->tfo_pending)
			l->tfo_pending--;
		if (a->tfo_prev)
			a->tfo_prev->act->tfo_next = a->tfo_next;
		else
			l->tfo_kids = a->tfo_next;
		if (a->tfo_next)
			a->tfo_next->act->tfo_prev = a->tfo_prev;
	}
	a->listener = NULL;
	a->tfo_next = a->tfo_prev = NULL;
}

void tfo_listener_gone(tcp_listener *l)
{
	tcb *t = l->tfo_kids;
	while (t) {
		tcb_act *a = t->act;
		t = a->tfo_next;
		a->listener = NULL;
		a->tfo_next = a->tfo_prev = NULL;
	}
	l->tfo_kids = NULL;
}

/* ---- client ---- */

void tfo_key4(uint32_t addr, uint8_t key[16])
{
	memset(key, 0, 10);
	key[10] = key[11] = 0xff;
	for (int i = 0; i < 4; i++)
		key[12 + i] = (uint8_t)(addr >> (24 - 8 * i));
}

/* A connection's server, as the cache keys it. */
static const uint8_t *tcb_key(tcp_stack *s, const tcb *t, uint8_t buf[16])
{
	const tbl_v6addrs *a6 = obj_a6(s, &t->node);

	if (a6)
		return a6->r;
	tfo_key4(t->node.key.raddr, buf);
	return buf;
}

static tfo_entry *cache_slot(tcp_stack *s, const uint8_t addr[16], bool make)
{
	if (!s->tfo) {
		if (!make)
			return NULL;
		s->tfo = calloc(1, sizeof(*s->tfo));
		if (!s->tfo)
			return NULL;
	}
	uint64_t h = hsk_siphash(addr, 16, s->env->key0 ^ TFO_LABEL ^ 1, s->env->key1);
	tfo_entry *e = &s->tfo->e[h % TFO_CACHE_SIZE];
	if (memcmp(e->addr, addr, 16)) {
		if (!make)
			return NULL;
		*e = (tfo_entry){ .len = 0 };
		memcpy(e->addr, addr, 16);
	}
	return e;
}

uint8_t tfo_cookie_find(tcp_stack *s, const uint8_t addr[16], const uint8_t **cookie,
			uint16_t *mss)
{
	tfo_entry *e = cache_slot(s, addr, false);
	if (!e || !e->len)
		return 0;
	/* Recurring SYN losses with Fast Open: a middlebox may drop such
	 * SYNs. Leave it aside for a while (Linux: 60 s << losses). */
	if (e->syn_loss > 1) {
		uint64_t wait = 60000ull << (e->syn_loss > 10 ? 10 : e->syn_loss);
		if (ms_clock(s) - e->loss_ms < wait)
			return 0;
	}
	*cookie = e->cookie;
	*mss = e->mss;
	return e->len;
}

int tfo_cookie_store(tcp_stack *s, const uint8_t addr[16], const uint8_t *cookie, uint8_t len,
		     uint16_t mss)
{
	if (len && (len < TCP_FO_COOKIE_MIN || len > TCP_FO_COOKIE_MAX || (len & 1)))
		return -HSK_EINVAL;
	tfo_entry *e = cache_slot(s, addr, true);
	if (!e)
		return -HSK_ENOMEM;
	if (len) {
		memcpy(e->cookie, cookie, len);
		e->len = len;
	}
	if (mss)
		e->mss = mss;
	return 0;
}

uint32_t tfo_syn_room(tcp_stack *s, const tcb *t)
{
	const uint8_t *c;
	uint8_t k[16];
	uint16_t mss = 0;
	uint32_t room = mss_cap(tcp_our_mss(s, t->node.v6), tcb_user_mss(t));
	if (tfo_cookie_find(s, tcb_key(s, t, k), &c, &mss) && mss && mss < room)
		room = mss;
	return room > TFO_OPT_ROOM ? room - TFO_OPT_ROOM : 0;
}

uint32_t tfo_syn_out(tcp_stack *s, tcb *t, seg_out *o)
{
	if (!(t->flags & TF_TFO_SYN))
		return 0;
	const uint8_t *cookie = NULL;
	uint8_t k[16];
	uint16_t mss = 0;
	uint8_t len = tfo_cookie_find(s, tcb_key(s, t, k), &cookie, &mss);
	bool no_cookie = s->env->cfg.tcp_fastopen & HSK_TFO_CLIENT_NO_COOKIE;
	/* The SACK and timestamp options join the SYN after this: room for
	 * them too, or no Fast Open option (and no data) on a tiny MTU. */
	tcp_opts full = o->opt;
	full.sack_ok = s->env->cfg.sack;
	full.has_ts = s->env->cfg.timestamps;
	if (!tfo_opt_fits(s, &full, t->node.v6, len))
		return 0;
	if (len) {
		o->opt.has_fo = true;
		o->opt.fo_len = len;
		o->opt.fo_cookie = cookie;
	} else if (!no_cookie) {
		o->opt.has_fo = true;   /* a cookie request */
		o->opt.fo_len = 0;
	}
	/* Data on the first transmission only, and only with a cookie (or
	 * when the server needs none: no option then, as Linux). */
	if (!(t->flags & TF_TFO_DATA) || seq_gt(t->snd_max, t->iss) ||
	    (!len && !no_cookie) || !t->act || !t->act->snd.buf)
		return 0;
	uint32_t n = ring_len(&t->act->snd);
	uint32_t room = tfo_syn_room(s, t);
	if (n > room)
		n = room;
	o->len = n;
	o->ring_off = 0;
	return n;
}

void tfo_rcv_synack(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	const tcp_opts *o = &sg->th.opt;
	uint8_t kb[16];
	const uint8_t *k = tcb_key(s, t, kb);
	/* A cookie we asked for (or a new one) is kept, with the MSS; one we
	 * did not ask for is ignored, as Linux. */
	if ((t->flags & TF_TFO_SYN) && o->has_fo && o->fo_len)
		tfo_cookie_store(s, k, o->fo_cookie, o->fo_len, o->mss);
	else if (t->flags & TF_TFO_SYN)
		tfo_cookie_store(s, k, NULL, 0, o->mss);
	if (t->flags & TF_TFO_SYN) {
		tfo_entry *e = cache_slot(s, k, false);
		if (e && !(t->flags & TF_SYN_RETRANS))
			e->syn_loss = 0;
	}
	if (!(t->flags & TF_TFO_DATA))
		return;
	hsk_seq data = seq_add(t->iss, 1);
	uint32_t acked = seq_gt(sg->ack, data) ? (uint32_t)seq_diff(sg->ack, data) : 0;
	if (t->act)
		ring_read(&t->act->snd, NULL, acked);
	if (seq_lt(sg->ack, t->snd_max)) {
		/* The server did not take (all of) the data: it goes again
		 * right after the handshake, as a retransmission (Linux marks
		 * it lost and retransmits at once). SND.MAX stays where the
		 * SYN left it: those bytes were sent. */
		CNT_INC(s->env, TCPFastOpenActiveFail);
		t->snd_nxt = sg->ack;
		t->flags &= ~(uint32_t)TF_RTT_TIMING;
	} else if (acked) {
		CNT_INC(s->env, TCPFastOpenActive);
		t->flags |= TF_TFO_ACKED;
		/* The data the first SYN carried, though the SYN sent again
		 * (snd_nxt at ISS + 1) had none: we go on after it. */
		t->snd_nxt = sg->ack;
	}
}

void tfo_syn_timeout(tcp_stack *s, tcb *t)
{
	uint8_t k[16];

	if (!(t->flags & TF_TFO_SYN) || (t->flags & TF_SYN_RETRANS))
		return;
	tfo_entry *e = cache_slot(s, tcb_key(s, t, k), false);
	if (e) {
		if (e->syn_loss < UINT8_MAX)
			e->syn_loss++;
		e->loss_ms = ms_clock(s);
	}
}

void tfo_destroy(tcp_stack *s)
{
	free(s->tfo);
	s->tfo = NULL;
}

/* ---- the public calls over the cache ---- */

int tfo_cookie_copy(tcp_stack *s, const uint8_t addr[16], uint8_t out[16])
{
	tfo_entry *e = cache_slot(s, addr, false);
	if (!e || !e->len)
		return -HSK_ENOENT;
	memcpy(out, e->cookie, e->len);
	return e->len;
}
