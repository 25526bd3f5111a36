/*
 * Sending and receiving: hsk_send, hsk_sendv, hsk_recv, hsk_recvv
 * (MSG_PEEK), and the checks they share with the zero-copy calls
 * (zerocopy.c) and hsk_sendto (socket.c). Each returns a count or a
 * negative HSK_E* code, as listed in include/handshake.h.
 */
#include <assert.h>
#include <limits.h>
#include <string.h>

#include "api/api.h"
#include "tcp/mem.h"
#include "tcp/passive.h"

tcb *conn_of(hsk_stack *s, int sd, int *err)
{
	hsk_sock *k = sock_get(s, sd);
	if (!k) {
		*err = -HSK_EBADF;
		return NULL;
	}
	if (k->kind != SK_CONN) {
		*err = -HSK_ENOTCONN;
		return NULL;
	}
	return k->t;
}

/* conn_of for hsk_send and hsk_recv: 0 when sd is a connection, whose
 * TCB the caller then reads from the slot (a connection's slot always
 * holds one, attach_tcb's: no test of the pointer as conn_of's NULL
 * makes), or the error. */
static inline __attribute__((always_inline)) long conn_check(hsk_stack *s, int sd)
{
	const hsk_sock *k = sock_get(s, sd);
	if (!k)
		return -HSK_EBADF;
	if (k->kind != SK_CONN)
		return -HSK_ENOTCONN;
	assert(k->t);
	return 0;
}

int take_error(tcb *t)
{
	int e = t->err;
	t->err = 0;
	return -e;
}

long iov_total(const hsk_iovec *iov, int iovcnt)
{
	if (iovcnt < 0 || iovcnt > HSK_IOV_MAX || (!iov && iovcnt))
		return -HSK_EINVAL;
	size_t total = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].len > (size_t)LONG_MAX - total || (!iov[i].base && iov[i].len))
			return -HSK_EINVAL;
		total += iov[i].len;
	}
	return (long)total;
}

/* send_check, in line in send_begin (hsk_send's way). */
static inline __attribute__((always_inline)) int send_check_in(tcb *t)
{
	if (t->err)
		return take_error(t);
	if (t->state == HSK_SYN_SENT || t->state == HSK_SYN_RECEIVED) {
		/* A Fast Open connection may be written to before its
		 * handshake completes (RFC 7413 §4.2.2; and a client's
		 * deferred SYN waits for it), any other not yet. */
		bool tfo_early = t->state == HSK_SYN_RECEIVED ? (t->flags & TF_TFO_CHILD) :
							       (t->flags & TF_TFO_DEFER);
		if (!tfo_early)
			return -HSK_EAGAIN;
	} else if (!state_can_send(t->state)) {
		return -HSK_EPIPE;
	}
	return (t->flags & TF_FIN_QUEUED) ? -HSK_EPIPE : 0;
}

int send_check(tcb *t)
{
	return send_check_in(t);
}

/* send_room_now, in line in send_room_in. */
static inline __attribute__((always_inline)) long send_room_now_in(hsk_stack *s,
								    const hsk_sock *k, tcb *t)
{
	uint32_t room = ring_space(&t->act->snd);       /* the ring: act is there */
	/* TCP_NOTSENT_LOWAT: at most that many bytes not yet sent (Linux
	 * lets the write that crosses it fill one more buffer; here it stops
	 * at the mark). */
	/* (k->opt NULL: the defaults', no TCP_NOTSENT_LOWAT of its own) */
	uint32_t lim = k->opt && k->opt->notsent_lowat ? k->opt->notsent_lowat :
		       s->env.cfg.tcp_notsent_lowat;
	if (lim != UINT32_MAX) {
		uint32_t ns = tcb_notsent(t);
		uint32_t left = ns < lim ? lim - ns : 0;
		if (left < room)
			room = left;
	}
	/* The first write of a deferred Fast Open connect goes on the SYN:
	 * only what the SYN carries is taken (as Linux returns). */
	if (t->flags & TF_TFO_DEFER) {
		uint32_t syn = tfo_syn_room(&s->tcp, t);
		uint32_t held = ring_len(&t->act->snd);
		uint32_t left = held < syn ? syn - held : 0;
		if (left < room)
			room = left;
	}
	return room ? (long)room : -HSK_EAGAIN;
}

/* The send ring to write into: 0, or -HSK_EAGAIN. */
static inline __attribute__((always_inline)) int send_ring_in(hsk_stack *s, tcb *t)
{
	/* A ring held fits memory (pressure trims it, its end grows it);
	 * one taken now is already of the size memory allows (tcb_fit_snd
	 * would find nothing to do). No ring and no memory for one
	 * (tcp_mem_high): -HSK_EAGAIN, as Linux's non-blocking send; POLLOUT
	 * comes back with the memory. */
	if (t->act && t->act->snd.buf)
		tcb_fit_snd(&s->tcp, t);
	else if (tcb_alloc_snd(&s->tcp, t) < 0)
		return -HSK_EAGAIN;
	return 0;
}

/* send_room, in line in send_begin (hsk_send's way). */
static inline __attribute__((always_inline)) long send_room_in(hsk_stack *s, const hsk_sock *k,
								tcb *t)
{
	if (send_ring_in(s, t) < 0)
		return -HSK_EAGAIN;
	return send_room_now_in(s, k, t);
}

long send_room(hsk_stack *s, const hsk_sock *k, tcb *t)
{
	return send_room_in(s, k, t);
}

long send_room_now(hsk_stack *s, const hsk_sock *k, tcb *t)
{
	return send_room_now_in(s, k, t);
}

void send_done(hsk_stack *s, tcb *t)
{
	t->flags &= ~(uint32_t)TF_TFO_DEFER;    /* the SYN goes now, with data */
	tcp_output(&s->tcp, t);
}

/* iov_total of a single buffer (hsk_send, hsk_recv): no loop, no count
 * to check. */
static inline long buf_total(const void *buf, size_t len)
{
	if (len > (size_t)LONG_MAX || (!buf && len))
		return -HSK_EINVAL;
	return (long)len;
}

/* The bounds of the small read's and write's copy (recv_small,
 * send_small): a request's or a response's bytes. */
enum { SMALL_MIN = 16, SMALL_MAX = 64 };

/* Copies n bytes, SMALL_MIN <= n <= SMALL_MAX, in line: two or
 * four 16-byte moves, the last ones overlapping the first ones (memcpy's
 * call would need a frame). */
static inline __attribute__((always_inline)) void copy_small(uint8_t *d, const uint8_t *src,
							      uint32_t n)
{
	assert(n >= SMALL_MIN && n <= SMALL_MAX);
	_Static_assert(SMALL_MIN == 16 && SMALL_MAX == 64, "16-byte moves");
	memcpy(d, src, 16);
	memcpy(d + n - 16, src + n - 16, 16);
	if (n > 32) {
		memcpy(d + 16, src + 16, 16);
		memcpy(d + n - 32, src + n - 32, 16);
	}
}

/* What hsk_send and hsk_sendv share once the connection and the total
 * are known good: the room to write into (> 0), 0 for nothing to write,
 * or the error. */
static inline __attribute__((always_inline)) long send_begin(hsk_stack *s, int sd, tcb *t,
							      long total)
{
	int err;
	stack_clock_check(s);
	if ((err = send_check_in(t)) < 0)
		return err;
	if (total == 0)
		return 0;
	return send_room_in(s, &s->socks[sd], t);
}

/* hsk_send in general (below: its usual case): out of line, with the
 * frame its calls need. urgent: send(MSG_OOB)'s, the urgent pointer after
 * the bytes queued (RFC 9293's SEND with the urgent flag) before they go. */
static __attribute__((noinline)) long send_general(hsk_stack *s, int sd, const void *buf,
						   size_t len, bool urgent)
{
	long room = conn_check(s, sd);
	if (room < 0)
		return room;
	tcb *t = s->socks[sd].t;
	room = buf_total(buf, len);
	if (room < 0)
		return room;
	if ((room = send_begin(s, sd, t, room)) <= 0)
		return room;
	/* One buffer: written as one piece, no vector to walk; what fits
	 * (0 < n <= room, and room is within the ring's space). */
	uint32_t n = len < (size_t)room ? (uint32_t)len : (uint32_t)room;
	ring_append(&t->act->snd, buf, n);
	if (urgent)
		tcb_urgent_mark(t);
	send_done(s, t);
	return n;
}

long send_urgent(hsk_stack *s, int sd, const void *buf, size_t len)
{
	return send_general(s, sd, buf, len, true);
}

/* hsk_send's usual case, in one test: a connection that may send
 * (established or closed by its peer), no option of its socket's nor the
 * stack's limit on unsent bytes, no clock to read. send_begin's checks
 * then pass and its room is the ring's space alone: an error is only set
 * as the TCB closes (tcb_fail, tcb_closed), a FIN is queued with the move
 * out of those states (queue_fin) and a Fast Open SYN waits for data in
 * SYN_SENT only. */
static inline __attribute__((always_inline)) bool send_usual(const hsk_stack *s,
							       const hsk_sock *k, const tcb *t)
{
	bool usual = !k->opt && state_can_send(t->state) &&
		     s->env.cfg.tcp_notsent_lowat == UINT32_MAX && !s->env.cfg.clock &&
		     !s->tcp.no_fastpath;
	assert(!usual || (!t->err && !(t->flags & (TF_FIN_QUEUED | TF_TFO_DEFER))));
	return usual;
}

/* What send_usual leaves of hsk_send, len > 0: the ring (and the
 * extension, when none is left), what fits of buf, the output.
 * Tail-called: hsk_send's tests need no frame. */
static __attribute__((noinline)) long send_usual_out(hsk_stack *s, tcb *t, const void *buf,
						     size_t len)
{
	if (send_ring_in(s, t) < 0)
		return -HSK_EAGAIN;
	hsk_ring *r = &t->act->snd;
	uint32_t room = ring_space(r);
	if (!room)
		return -HSK_EAGAIN;
	uint32_t n = len < room ? (uint32_t)len : room;
	ring_append(r, buf, n);
	output_data(&s->tcp, t);        /* (send_done's, its flag clear) */
	return n;
}

/* send_small's end: the output, with the count to return (a frame of
 * one register, not send_usual_out's six). */
static __attribute__((noinline)) long send_small_out(hsk_stack *s, tcb *t, uint32_t n)
{
	output_data(&s->tcp, t);        /* (send_done's, its flag clear) */
	return n;
}

/* Whether send_usual's write of 0 < len <= SMALL_MAX bytes is
 * send_small's: at least SMALL_MIN bytes (a request's, a response's) by
 * a connection that holds its extension but no send ring, whose ring
 * comes from the cache (tcb_alloc_snd's usual way). */
static inline __attribute__((always_inline)) bool send_small_usual(const hsk_stack *s,
								     const tcb *t, size_t len)
{
	assert(len && len <= SMALL_MAX);        /* (hsk_send's tests) */
	return len >= SMALL_MIN && t->act && !t->act->snd.buf &&
	       ring_alloc_quick(&s->tcp, t->sndbuf);
}

/* send_usual_out for send_small_usual's write, without its frame: the ring
 * taken and the bytes copied in line (a fresh ring, of at least 1 KiB:
 * they fit, in one piece), the output tail-called. */
static inline __attribute__((always_inline)) long send_small(hsk_stack *s, tcb *t,
							      const void *buf, uint32_t n)
{
	tcb_act *a = t->act;
	snd_from_cache(&s->tcp, t, a);
	hsk_ring *r = &a->snd;
	assert(!r->head && !r->len && n <= r->cap);
	copy_small(r->buf, buf, n);
	r->len = n;
	return send_small_out(s, t, n);
}

long hsk_send(hsk_stack *s, int sd, const void *buf, size_t len)
{
	const hsk_sock *k = sock_get(s, sd);
	if (!k || k->kind != SK_CONN || buf_total(buf, len) < 0 || !send_usual(s, k, k->t))
		return send_general(s, sd, buf, len, false);
	/* (a larger write, bulk's, past in one test, as before send_small) */
	if (len <= SMALL_MAX) {
		if (len == 0)
			return 0;
		if (send_small_usual(s, k->t, len))
			return send_small(s, k->t, buf, (uint32_t)len);
	}
	return send_usual_out(s, k->t, buf, len);
}

long hsk_sendv(hsk_stack *s, int sd, const hsk_iovec *iov, int iovcnt)
{
	int err = 0;
	tcb *t = conn_of(s, sd, &err);
	if (!t)
		return err;
	long room = iov_total(iov, iovcnt);
	if (room < 0)
		return room;
	if ((room = send_begin(s, sd, t, room)) <= 0)
		return room;
	uint32_t n = 0;
	for (int i = 0; i < iovcnt && n < (uint32_t)room; i++) {
		uint32_t want = (uint32_t)room - n;
		if (iov[i].len < want)
			want = (uint32_t)iov[i].len;
		n += ring_write(&t->act->snd, iov[i].base, want);
	}
	send_done(s, t);
	return n;
}

/* The window offered and still open (RCV.ADV past RCV.NXT), and the
 * least opening worth an update (RFC 9293 §3.8.6.2.2: min(RCV.BUFF/2,
 * MSS)). */
static inline uint32_t window_offered(const tcb *t)
{
	return seq_gt(t->rcv_adv, t->rcv_nxt) ? (uint32_t)seq_diff(t->rcv_adv, t->rcv_nxt) : 0;
}

static inline uint32_t window_step(const tcb *t)
{
	return t->rcvbuf / 2 < t->mss ? t->rcvbuf / 2 : t->mss;
}

/* Whether a read can open no window worth telling, whatever the ring
 * holds: the connection takes no more data, or its edge is less than a
 * step short of the most it can offer. The space is at most rcvbuf
 * (tcb_rcv_room): an edge offered less than a step short of that cannot
 * move (a small read after a window offered in full, the usual case).
 * (step <= rcvbuf / 2: no wrap.) */
static inline bool window_update_needless(const tcb *t)
{
	return !state_can_recv(t->state) || (t->flags & TF_DETACHED) ||
	       window_offered(t) > t->rcvbuf - window_step(t);
}

/* After the user reads, tell the peer when the window has opened enough
 * to matter (by a step, window_step). */
static inline __attribute__((always_inline)) void maybe_window_update(hsk_stack *s, tcb *t)
{
	if (window_update_needless(t))
		return;
	uint32_t adv = window_offered(t);
	uint32_t step = window_step(t);
	uint32_t space = tcb_rcv_space(&s->tcp, t);
	/* Only what the window field can carry counts: without window
	 * scaling the edge cannot move past 65535, whatever was read. */
	uint32_t most = 65535u << t->rcv_wscale;
	if (space > most)
		space = most;
	/* A pending delayed ACK will carry the news unless the window we
	 * advertised is nearly closed. */
	bool urgent = adv < 2u * t->mss || !t->act || !t->act->delack_at;
	if (space >= adv + step && urgent) {
		t->flags |= TF_ACK_NOW;
		tcp_output(&s->tcp, t);
	}
}

/* recv_ready, in line in hsk_recv's checks. */
static inline __attribute__((always_inline)) long recv_ready_in(tcb *t)
{
	uint32_t n = tcb_rcv_len(t);
	if (n)
		return n;
	if (t->err)
		return take_error(t);
	/* The peer's FIN, or SHUT_RD (what was queued has been read). */
	if ((t->flags & (TF_RCVD_FIN | TF_SHUT_RD)) || t->state == HSK_CLOSED)
		return 0;
	return -HSK_EAGAIN;
}

long recv_ready(tcb *t)
{
	return recv_ready_in(t);
}

/* recv_done once the ring is given back or fitted (recv_copy's too). */
static inline __attribute__((always_inline)) void recv_done_tail(hsk_stack *s, tcb *t)
{
	if (t->act && t->act->urg)
		urg_after_read(t);
	maybe_window_update(s, t);
	tcb_act_put_idle(&s->tcp, t);
}

void recv_done(hsk_stack *s, tcb *t)
{
	if (!tcb_rcv_len(t))
		tcb_release_idle_rings(&s->tcp, t);
	else
		tcb_fit_rcv(&s->tcp, t);      /* made small under pressure */
	recv_done_tail(s, t);
}

/* What hsk_recv and hsk_recvv share once the connection and the total
 * are known good: the bytes ready (> 0), 0 at the end of the stream or
 * for nothing to read, or the error. */
static long recv_begin(hsk_stack *s, tcb *t, long total)
{
	stack_clock_check(s);
	long ready = recv_ready(t);
	return ready > 0 && total == 0 ? 0 : ready;
}

/* hsk_recv's copy of n of the ready bytes (0 < n <= ready, all the
 * receive ring holds) and what follows it: out of line, so that the
 * checks before it, an end of stream and nothing to read need no frame
 * (the copy and recv_done's calls do). */
static __attribute__((noinline)) long recv_copy(hsk_stack *s, tcb *t, void *buf, uint32_t n,
						uint32_t ready)
{
	hsk_ring *r = &t->act->rcv;
	assert(n && n <= ready && ready == ring_len(r));
	/* One buffer: read as one piece, no vector to walk. */
	ring_take(r, buf, n);
	/* recv_done, knowing what is left: the ring emptied when all that
	 * was ready is read; and the TCB holds a ring then (it was read
	 * from), which is tcb_release_idle_rings' test. */
	if (n == ready)
		tcb_release_rcv_emptied(&s->tcp, t);
	else
		tcb_fit_rcv(&s->tcp, t);      /* made small under pressure */
	recv_done_tail(s, t);
	return n;
}

/* Whether a read of len bytes with ready > 0 bytes ready is recv_small's:
 * it takes them all (so empties the ring), they are a small segment's (a
 * request's, a response's) and lie in one piece, the ring's release is
 * the cache's alone (rcv_emptied_quick), and no urgent data is pending
 * (recv_done_tail ends urgent mode). */
static inline bool recv_small_usual(const hsk_stack *s, const tcb *t, size_t len,
				    uint32_t ready)
{
	const tcb_act *a = t->act;      /* (ready bytes: a ring holds them) */
	return len >= ready && ready - SMALL_MIN <= SMALL_MAX - SMALL_MIN &&
	       a->rcv.head + ready <= a->rcv.cap && rcv_emptied_quick(&s->tcp, a) &&
	       !(a->urg & URG_RCV);
}

/* recv_small's end when the window may open: recv_done_tail, with the
 * count to return. */
static __attribute__((noinline)) long recv_small_rest(hsk_stack *s, tcb *t, uint32_t n)
{
	recv_done_tail(s, t);
	return n;
}

/* recv_small's end when the extension goes on the kept list. */
static __attribute__((noinline)) long recv_small_put(hsk_stack *s, tcb *t, uint32_t n)
{
	tcb_act_put(&s->tcp, t);
	return n;
}

/* recv_copy for recv_small_usual's read, without a call in its usual end,
 * so without a frame: the copy in line, the ring to the cache
 * (tcb_release_rcv_emptied's usual way), and recv_done_tail's tests, which
 * usually find nothing to do (a small read opens no window worth telling;
 * the extension is busy still, or the newest kept already). */
static inline __attribute__((always_inline)) long recv_small(hsk_stack *s, tcb *t, void *buf,
							      uint32_t n)
{
	tcb_act *a = t->act;
	copy_small(buf, a->rcv.buf + a->rcv.head, n);
	ring_to_cache(&s->tcp, t, &a->rcv);     /* (emptied: as ring_take left it) */
	if (!window_update_needless(t))
		return recv_small_rest(s, t, n);
	/* recv_done_tail's tcb_act_put_idle: no ring left (rcv_emptied_quick) */
	if (!tcb_act_idle_settled_ringless(&s->tcp, t, a)) {
		/* tcb_act_put's usual way in line, without a frame */
		if (s->tcp.act_eager || s->tcp.act_idle_head)
			return recv_small_put(s, t, n);
		tcb_act_put_alone(&s->tcp, t, a);
	}
	return n;
}

/* hsk_recv once the connection and the buffer are known good, but for
 * the clock's check. */
static inline __attribute__((always_inline)) long recv_one(hsk_stack *s, tcb *t, void *buf,
							    size_t len)
{
	long ready = recv_ready_in(t);
	if (ready <= 0 || len == 0)
		return ready > 0 ? 0 : ready;
	if (recv_small_usual(s, t, len, (uint32_t)ready))
		return recv_small(s, t, buf, (uint32_t)ready);
	return recv_copy(s, t, buf, len < (size_t)ready ? (uint32_t)len : (uint32_t)ready,
			 (uint32_t)ready);
}

/* hsk_recv with the clock's check (hsk_config.clock set). */
static __attribute__((noinline)) long recv_clocked(hsk_stack *s, tcb *t, void *buf,
						   size_t len)
{
	stack_clock_check(s);
	return recv_one(s, t, buf, len);
}

long hsk_recv(hsk_stack *s, int sd, void *buf, size_t len)
{
	long ready = conn_check(s, sd);
	if (ready < 0)
		return ready;
	tcb *t = s->socks[sd].t;
	ready = buf_total(buf, len);
	if (ready < 0)
		return ready;
	/* The clock's check is a call (to hsk_config.clock): with one, a
	 * way of its own; without (the usual driver), no call but the
	 * copy's, which is tail-called. */
	if (s->env.cfg.clock)
		return recv_clocked(s, t, buf, len);
	return recv_one(s, t, buf, len);
}

long hsk_recvv(hsk_stack *s, int sd, const hsk_iovec *iov, int iovcnt, int flags)
{
	int err = 0;
	tcb *t = conn_of(s, sd, &err);
	if (!t)
		return err;
	long ready = iov_total(iov, iovcnt);
	if (ready < 0)
		return ready;
	if (flags & ~HSK_MSG_PEEK)
		return -HSK_EINVAL;
	if ((ready = recv_begin(s, t, ready)) <= 0)
		return ready;
	uint32_t n = 0;
	for (int i = 0; i < iovcnt && n < (uint32_t)ready; i++) {
		uint32_t want = (uint32_t)ready - n;
		if (iov[i].len < want)
			want = (uint32_t)iov[i].len;
		if (flags & HSK_MSG_PEEK)
			n += ring_peek(&t->act->rcv, n, iov[i].base, want);
		else
			n += ring_read(&t->act->rcv, iov[i].base, want);
	}
	if (!(flags & HSK_MSG_PEEK))
		recv_done(s, t);
	return n;
}
