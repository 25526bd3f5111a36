/*
 * An echo server that copies each byte once: from the receive ring straight
 * into the send ring (hsk_recv_borrow, hsk_send_reserve, hsk_send_commit,
 * hsk_recv_release), with no buffer of its own. Bytes the send ring has no
 * room for yet stay in the receive ring, whose shrinking window slows the
 * peer down: the rings are the flow control.
 *
 *   sudo ./zerocopy_echo hsk0 198.18.0.2/24 7
 *   nc 198.18.0.2 7          (from the host: the TUN gets 198.18.0.1/24)
 *
 * The order matters: a borrowed run is copied into reserved room and
 * committed before it is released. Send-side calls never move the receive
 * ring, but a release that empties the receive ring may give an empty send
 * ring back, taking reserved room with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "handshake_loop.h"

static int lsd;

/* Moves what can be moved; returns when either ring says EAGAIN (POLLIN
 * or POLLOUT brings us back) or the connection is done. */
static void serve(hsk_stack *s, int sd)
{
	for (;;) {
		const void *in;
		void *out;
		long n = hsk_recv_borrow(s, sd, &in);
		if (n == -HSK_EAGAIN)
			return;
		if (n <= 0)
			break;                  /* EOF (0) or an error */
		long room = hsk_send_reserve(s, sd, &out);
		if (room == -HSK_EAGAIN)
			return;
		if (room < 0)
			break;
		size_t k = (size_t)(n < room ? n : room);
		memcpy(out, in, k);
		if (hsk_send_commit(s, sd, k) < 0 || hsk_recv_release(s, sd, k) < 0)
			break;
	}
	/* close() sends FIN after what is queued; with unread bytes left (an
	 * error above) it resets, which is what an echo that gave up wants. */
	hsk_close(s, sd);
}

static void on_socket(void *ctx, hsk_loop *l, int sd, int events)
{
	hsk_stack *s = hsk_loop_stack(l);
	(void)ctx;
	(void)events;

	if (sd != lsd) {
		if (hsk_sock_state(s, sd) >= 0)
			serve(s, sd);
		return;
	}
	while ((sd = hsk_accept(s, lsd, NULL)) >= 0)
		serve(s, sd);
}

int main(int argc, char **argv)
{
	hsk_netspec ns = { 0 };
	char err[256];
	hsk_loop *l;

	if (argc != 4 || hsk_parse_cidr(argv[2], &ns.addr, &ns.prefix) < 0) {
		fprintf(stderr, "usage: %s TUN A.B.C.D/PREFIX PORT\n", argv[0]);
		return 2;
	}
	ns.tun = argv[1];
	if (!(l = hsk_loop_open(&ns, NULL, err, sizeof(err)))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	hsk_stack *s = hsk_loop_stack(l);
	lsd = hsk_socket(s);
	if (hsk_bind(s, lsd, 0, (uint16_t)atoi(argv[3])) < 0 || hsk_listen(s, lsd, 128) < 0) {
		fprintf(stderr, "cannot listen on port %s\n", argv[3]);
		return 1;
	}
	hsk_loop_on_socket(l, on_socket, NULL);
	hsk_loop_run(l);                            /* until SIGINT/SIGTERM */
	hsk_loop_free(l);
	return 0;
}
