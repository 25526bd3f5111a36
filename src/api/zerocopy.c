/*
 * Zero copy, as smoltcp's recv_with/send_with: the application reads the
 * receive ring and writes the send ring in place.
 *
 *   hsk_recv_borrow    the next contiguous run of received bytes (up to the
 *                      end of the ring's storage), nothing consumed
 *   hsk_recv_release   consumes n of them: as hsk_recv would, the ring may
 *                      go back to the stack and a window update leave
 *   hsk_send_reserve   the contiguous free room after the queued bytes
 *   hsk_send_commit    n bytes written there join the queue and are sent
 *
 * A run wraps at the end of the storage: one borrow (or reserve) sees up
 * to there, the next one the rest. Nothing in the stack moves the bytes
 * of a ring in between (data arriving lands after them; a ring is resized
 * or given back only inside a call that consumes or queues), so the
 * pointers hold until the matching release or commit, or the next call
 * into the stack.
 */
#include "api/api.h"

long hsk_recv_borrow(hsk_stack *s, int sd, const void **data)
{
	int err = 0;
	tcb *t = conn_of(s, sd, &err);
	if (!t)
		return err;
	*data = NULL;
	long ready = recv_ready(t);
	if (ready <= 0)
		return ready;
	const uint8_t *p;
	uint32_t n = ring_span(&t->act->rcv, 0, &p);   /* ready: act is there */
	*data = p;
	return n;
}

int hsk_recv_release(hsk_stack *s, int sd, size_t n)
{
	int err = 0;
	tcb *t = conn_of(s, sd, &err);
	if (!t)
		return err;
	if (n > tcb_rcv_len(t))
		return -HSK_EINVAL;
	if (!n)
		return 0;
	stack_clock_check(s);
	ring_read(&t->act->rcv, NULL, (uint32_t)n);
	recv_done(s, t);
	return 0;
}

/* The free run after the queued bytes: where the next byte goes, and how
 * far it goes before the storage wraps. */
static uint32_t ring_tail(hsk_ring *r, uint8_t **p)
{
	uint32_t at = (r->head + r->len) & (r->cap - 1);
	uint32_t run = r->cap - at;
	uint32_t space = ring_space(r);
	*p = r->buf + at;
	return run < space ? run : space;
}

long hsk_send_reserve(hsk_stack *s, int sd, void **buf)
{
	int err = 0;
	tcb *t = conn_of(s, sd, &err);
	if (!t)
		return err;
	*buf = NULL;
	stack_clock_check(s);
	if ((err = send_check(t)) < 0)
		return err;
	long room = send_room(s, &s->socks[sd], t);
	if (room < 0)
		return room;
	uint8_t *p;
	uint32_t run = ring_tail(&t->act->snd, &p);
	*buf = p;
	return run < (uint32_t)room ? run : room;
}

int hsk_send_commit(hsk_stack *s, int sd, size_t n)
{
	int err = 0;
	tcb *t = conn_of(s, sd, &err);
	if (!t)
		return err;
	if (!n)
		return 0;
	/* What hsk_send_reserve refused (a connection still opening, one
	 * shut down for writing, an error) has no bytes to commit either. */
	if ((err = send_check(t)) < 0)
		return err;
	uint8_t *p;
	if (!t->act || !t->act->snd.buf || n > ring_tail(&t->act->snd, &p))
		return -HSK_EINVAL;
	/* No more than hsk_send_reserve offered: it is not kept, but it is
	 * what the ring has room for now, as long as the ring is not fitted
	 * (moved) in between: that would leave the bytes just written behind
	 * (a reserve under memory pressure trims the ring, which can lift the
	 * pressure, and a fit here grew and moved it). */
	long room = send_room_now(s, &s->socks[sd], t);
	if (room < 0 || n > (size_t)room)
		return -HSK_EINVAL;
	stack_clock_check(s);
	ring_commit(&t->act->snd, (uint32_t)n);
	send_done(s, t);
	return 0;
}
