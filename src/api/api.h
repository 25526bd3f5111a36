/*
 * What the socket calls share (socket.c, io.c, zerocopy.c, sockopt.c):
 * the checks before sending and receiving, and what follows them.
 *
 *   hsk_send/sendv/sendto/send_reserve  -> send_check, send_room ->
 *       ring_write (hsk_send: ring_append; or the caller writes into the
 *       ring) -> send_done
 *   hsk_recv/recvv/recv_borrow          -> recv_ready -> ring_read
 *       (hsk_recv: ring_take; or the caller reads in place) -> recv_done
 */
#ifndef HSK_API_H
#define HSK_API_H

#include "stack/stack.h"

/* The connection of socket sd, or NULL with *err EBADF / ENOTCONN. */
tcb *conn_of(hsk_stack *s, int sd, int *err);
/* A pending error is reported once, then cleared (as SO_ERROR): -err. */
int take_error(tcb *t);
/* May t be written to now? 0, or a pending error, -EAGAIN (still
 * connecting) or -EPIPE. */
int send_check(tcb *t);
/* How many bytes may be queued now (> 0), allocating the send ring: the
 * ring's room, within TCP_NOTSENT_LOWAT and, for a Fast Open SYN still to
 * go, what the SYN carries; or -EAGAIN. */
long send_room(hsk_stack *s, const hsk_sock *k, tcb *t);
/* The same without fitting the ring first (which may move it): for
 * hsk_send_commit, whose bytes are already written where the ring is. */
long send_room_now(hsk_stack *s, const hsk_sock *k, tcb *t);
/* Bytes were queued: send (a deferred Fast Open SYN leaves now). */
void send_done(hsk_stack *s, tcb *t);
/* hsk_sendto with HSK_MSG_OOB on a connection: hsk_send, then the urgent
 * pointer after the bytes queued (urgent.c). */
long send_urgent(hsk_stack *s, int sd, const void *buf, size_t len);
/* Readable bytes (> 0); 0 at the end of the stream; or -EAGAIN or the
 * pending error. */
long recv_ready(tcb *t);
/* Bytes were consumed: give back an empty ring, tell the peer of a window
 * that opened. */
void recv_done(hsk_stack *s, tcb *t);
/* The total length of an iovec array, or -EINVAL. */
long iov_total(const hsk_iovec *iov, int iovcnt);

#endif
